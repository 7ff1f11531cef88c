//! The pipeline's decisions as pure functions of (snapshot, request parts, time):
//! lifecycle, authenticate and authorize. No I/O, so each rule is unit-tested
//! without a server.

use crate::pipeline::problem::Refusal;
use crate::snapshot::routes::{Needs, Operation};
use crate::snapshot::{Application, Lifecycle, Plan, Snapshot, Subscription, Version};
use crate::wire::fields::Fields;
use crate::wire::h1::Known;
use http::{HeaderName, HeaderValue, StatusCode, header};
use std::collections::HashSet;
use steward_model::Environment;
use steward_shared::api_key::{self as keys, ActiveKey};
use steward_shared::jwt::{self, VerifyError};
use time::OffsetDateTime;

use crate::snapshot::announce::{http_date, successor_link};

pub use crate::wire::h1::{API_KEY, API_KEY_HEADER};
const CHALLENGE: &str = r#"Bearer realm="steward", ApiKey realm="steward" header="X-API-Key""#;

/// The announcement of a live version, or the refusal of a retired one.
pub fn lifecycle(version: &Version) -> Result<&[(HeaderName, HeaderValue)], Refusal> {
    match &version.lifecycle {
        Lifecycle::Published | Lifecycle::Deprecated { .. } => Ok(&version.announcement),
        Lifecycle::Retired { sunset, successor } => {
            let mut refusal = Refusal::new(
                StatusCode::GONE,
                "version-retired",
                "Version retired",
                format!(
                    "{} {} is retired{}",
                    version.api_slug,
                    version.version,
                    successor
                        .as_ref()
                        .map(|s| format!("; use {s}"))
                        .unwrap_or_default()
                ),
            );
            if let Some(s) = sunset {
                refusal = refusal.with_header(HeaderName::from_static("sunset"), http_date(*s));
            }
            if let Some(l) = successor_link(successor) {
                refusal = refusal.with_header(header::LINK, l);
            }
            Err(refusal)
        }
    }
}

/// Who is calling, once a credential checked out.
#[derive(Debug, Clone)]
pub struct Caller<'s> {
    pub application: &'s Application,
    /// The key used, if any (for "last used").
    pub key: Option<&'s ActiveKey>,
    /// Scopes of a bearer token; `None` for API keys.
    pub token_scopes: Option<HashSet<String>>,
}

fn unauthenticated(detail: impl Into<String>) -> Refusal {
    Refusal::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Authentication required",
        detail,
    )
    .with_header(header::WWW_AUTHENTICATE, CHALLENGE)
}

/// Why a genuine key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Revoked,
    Expired,
}

/// The key sent, if it is one Steward issued and no longer accepts: a refused
/// call still belongs to the key's application, in its traffic and its "last
/// used" stamp. Only asked on the refusal path.
pub fn refused_key<'s>(
    snapshot: &'s Snapshot,
    fields: Fields<'_>,
    now: OffsetDateTime,
) -> Option<(&'s ActiveKey, Refused)> {
    let presented = std::str::from_utf8(fields.known(Known::ApiKey)?)
        .ok()
        .and_then(keys::parse)?;
    let id = presented.lookup()?;
    // `accepts` checks the secret, the environment and expiry at a moment:
    // asked at the epoch, it checks the secret and the environment alone. A
    // key that expired since the snapshot was built is still among the active.
    let genuine = |k: &&ActiveKey| k.accepts(&presented, OffsetDateTime::UNIX_EPOCH);
    if let Some(key) = snapshot.keys.get(&id).filter(genuine)
        && !key.accepts(&presented, now)
    {
        return Some((key, Refused::Expired));
    }
    if let Some(key) = snapshot.expired_keys.get(&id).filter(genuine) {
        return Some((key, Refused::Expired));
    }
    snapshot
        .revoked_keys
        .get(&id)
        .filter(genuine)
        .map(|k| (k, Refused::Revoked))
}

/// Checks the credential, if any. `Ok(None)` means none was sent.
pub fn authenticate<'s>(
    snapshot: &'s Snapshot,
    fields: Fields<'_>,
    issuer: &str,
    audience: &str,
    now: OffsetDateTime,
) -> Result<Option<Caller<'s>>, Refusal> {
    if let Some(value) = fields.known(Known::ApiKey) {
        let presented = std::str::from_utf8(value)
            .ok()
            .and_then(keys::parse)
            .ok_or_else(|| {
                unauthenticated("the X-API-Key header does not hold a Steward API key")
            })?;
        let key = presented
            .lookup()
            .and_then(|id| snapshot.keys.get(&id))
            .filter(|k| k.accepts(&presented, now))
            .ok_or_else(|| {
                unauthenticated(match refused_key(snapshot, fields, now) {
                    Some((_, Refused::Revoked)) => "the API key has been revoked",
                    Some((_, Refused::Expired)) => "the API key has expired",
                    None => "the API key is unknown",
                })
            })?;
        let application = snapshot
            .applications
            .get(&key.application_id)
            .ok_or_else(|| unauthenticated("the API key's application no longer exists"))?;
        return Ok(Some(Caller {
            application,
            key: Some(key),
            token_scopes: None,
        }));
    }
    let Some(value) = fields.known(Known::Authorization) else {
        return Ok(None);
    };
    let token = std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| unauthenticated("send `Authorization: Bearer <token>` or an X-API-Key"))?;
    let claims = jwt::verify(
        token,
        |kid| snapshot.jwt_keys.get(kid),
        issuer,
        audience,
        now.unix_timestamp(),
    )
    .map_err(|e| {
        let description = match e {
            VerifyError::Expired => "the token has expired",
            _ => "the token is invalid",
        };
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "Invalid access token",
            e.to_string(),
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            format!(r#"Bearer realm="steward", error="invalid_token", error_description="{description}""#),
        )
    })?;
    if snapshot.revoked_clients.contains(&claims.client_id) {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "invalid-token",
            "Invalid access token",
            "the token's client has been revoked",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            r#"Bearer realm="steward", error="invalid_token", error_description="the client has been revoked""#,
        ));
    }
    let application = claims
        .application
        .parse()
        .ok()
        .and_then(|id| snapshot.applications.get(&id))
        .ok_or_else(|| unauthenticated("the token's application no longer exists"))?;
    Ok(Some(Caller {
        application,
        key: None,
        token_scopes: Some(
            claims
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
    }))
}

fn forbidden(slug: &'static str, title: &'static str, detail: String) -> Refusal {
    Refusal::new(StatusCode::FORBIDDEN, slug, title, detail)
}

/// Subscription, environment and scopes. Returns what rate limiting needs.
pub fn authorize<'s>(
    snapshot: &'s Snapshot,
    version: &Version,
    operation: &Operation,
    caller: &Caller<'_>,
    served: &[Environment],
) -> Result<(&'s Subscription, &'s Plan), Refusal> {
    let app = caller.application;
    if !served.contains(&app.environment) {
        return Err(forbidden(
            "wrong-environment",
            "Wrong environment",
            format!(
                "this gateway does not serve {} credentials",
                app.environment
            ),
        ));
    }
    let subscription = snapshot
        .subscriptions
        .get(&(app.id, version.api_id, version.major))
        .ok_or_else(|| {
            forbidden(
                "no-subscription",
                "No active subscription",
                format!(
                    "application {} has no active subscription to {} {}.x",
                    app.name, version.api_slug, version.major
                ),
            )
        })?;
    let plan = snapshot.plans.get(&subscription.plan).ok_or_else(|| {
        forbidden(
            "no-subscription",
            "No active subscription",
            "the subscription's plan no longer exists".into(),
        )
    })?;
    if !plan.environments.contains(&app.environment) {
        return Err(forbidden(
            "wrong-environment",
            "Wrong environment",
            format!("the subscription's plan does not allow {}", app.environment),
        ));
    }
    // A token carries the scopes it was minted with; the subscription may have
    // shrunk since, so the effective grant is what both allow.
    let granted = |scope: &String| {
        subscription.scopes.contains(scope)
            && caller
                .token_scopes
                .as_ref()
                .is_none_or(|t| t.contains(scope))
    };
    let satisfied = operation.security.iter().any(|alternative| {
        alternative.iter().all(|need| match need {
            Needs::Key => caller.key.is_some(),
            Needs::Scopes(scopes) => scopes.iter().all(granted),
        })
    });
    if satisfied || operation.is_public() {
        return Ok((subscription, plan));
    }
    let wanted: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|n| match n {
            Needs::Scopes(s) => Some(s.join(" ")),
            Needs::Key => None,
        })
        .filter(|s| !s.is_empty())
        .collect();
    let mut refusal = forbidden(
        "insufficient-scope",
        "Insufficient scope",
        if wanted.is_empty() {
            "this operation needs another kind of credential".to_string()
        } else {
            format!("this operation needs the scope(s) {}", wanted.join(" or "))
        },
    );
    if caller.token_scopes.is_some() {
        refusal = refusal.with_header(
            header::WWW_AUTHENTICATE,
            format!(
                r#"Bearer realm="steward", error="insufficient_scope", scope="{}""#,
                wanted.first().cloned().unwrap_or_default()
            ),
        );
    }
    Err(refusal)
}

/// No credential on an operation that needs one.
pub fn missing_credential() -> Refusal {
    unauthenticated("this operation needs an API key (X-API-Key) or a bearer token")
}
