//! The public endpoints of the authorization server: `POST /oauth2/token`,
//! `GET /.well-known/jwks.json` and `GET /.well-known/oauth-authorization-server`.
//! Errors follow RFC 6749 §5.2 (`{"error", "error_description"}`), not
//! problem+json, because OAuth client libraries parse exactly that shape (control plane).

use super::signing;
use crate::auth::throttle;
use crate::auth::throttle::client_key;
use crate::partners::clients::{self, Grant};
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use steward_model::AppError;
use steward_shared::jwt::{self, AccessClaims};
use steward_shared::usage::Credential;
use time::OffsetDateTime;

/// Token requests are a few hundred bytes; anything much larger is not one.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/oauth2/token",
            post(token).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    fn request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the authorization server could not complete the request",
        )
    }
}

impl From<crate::error::Error> for OAuthError {
    fn from(e: crate::error::Error) -> Self {
        match e.into_app() {
            AppError::TooManyRequests { retry_after_secs } => OAuthError {
                retry_after: Some(retry_after_secs),
                ..OAuthError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    format!("too many failed attempts; retry in {retry_after_secs} seconds"),
                )
            },
            AppError::Busy { retry_after_secs } => OAuthError {
                retry_after: Some(retry_after_secs),
                ..OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    format!("the server is busy; retry in {retry_after_secs} seconds"),
                )
            },
            _ => OAuthError::internal(),
        }
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut res = (self.status, axum::Json(body)).into_response();
        no_store(res.headers_mut());
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="steward", charset="UTF-8""#),
            );
        }
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// The form parameters of a token request; each may appear once (RFC 6749 §3.2).
#[derive(Debug, Default, PartialEq, Eq)]
struct TokenForm {
    grant_type: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn parse_form(body: &[u8]) -> Result<TokenForm, OAuthError> {
    let mut form = TokenForm::default();
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "grant_type" => &mut form.grant_type,
            "scope" => &mut form.scope,
            "client_id" => &mut form.client_id,
            "client_secret" => &mut form.client_secret,
            _ => continue,
        };
        if slot.is_some() {
            return Err(OAuthError::request(format!(
                "the parameter {name} appears more than once"
            )));
        }
        *slot = Some(value.into_owned());
    }
    Ok(form)
}

/// `client_secret_basic`: RFC 6749 §2.3.1 form-encodes id and secret before Base64.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        OAuthError::client("the Authorization header is not valid Basic credentials")
    })?;
    let Some(encoded) = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim())
    else {
        return Err(OAuthError::client(
            "use HTTP Basic authentication for the client",
        ));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| OAuthError::client("the Basic credentials are not valid Base64"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| OAuthError::client("the Basic credentials need an id and a secret"))?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Space-separated scope tokens (RFC 6749 §3.3), deduplicated.
fn parse_scope(scope: &str) -> Result<BTreeSet<String>, OAuthError> {
    let valid = |t: &str| {
        t.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    };
    let mut out = BTreeSet::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !valid(token) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("{token:?} is not a valid scope token"),
            ));
        }
        out.insert(token.to_string());
    }
    Ok(out)
}

async fn token(State(s): State<AppState>, req: Request) -> Response {
    match issue(&s, req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn issue(s: &AppState, req: Request) -> Result<Response, OAuthError> {
    let client_addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (parts, body) = req.into_parts();
    let form_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !form_type {
        return Err(OAuthError::request(
            "send the request as application/x-www-form-urlencoded",
        ));
    }
    let body: Bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| OAuthError::request("the request body is too large"))?;
    let form = parse_form(&body)?;
    let basic = basic_credentials(&parts.headers)?;
    let (client_id, secret) = match (basic, form.client_id, form.client_secret) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::request(
                "use one client authentication method: Basic or client_secret in the body, not both",
            ));
        }
        (Some((id, secret)), form_id, None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::request(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            (id, secret)
        }
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return Err(OAuthError::client(
                "authenticate the client with client_secret_basic or client_secret_post",
            ));
        }
    };
    match form.grant_type.as_deref() {
        None => return Err(OAuthError::request("grant_type is required")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("{other:?} is not supported; use client_credentials"),
            ));
        }
    }
    let requested = form.scope.as_deref().map(parse_scope).transpose()?;
    if client_id.is_empty() || client_id.len() > 64 || secret.len() > 256 {
        return Err(OAuthError::client("the client credentials are not valid"));
    }

    let account = format!("oauth:{client_id}");
    let client = client_key(client_addr);
    let check = clients::authenticate(&s.pool, &client_id, &secret);
    let Some(grant) = throttle::attempt(&s.pool, &account, &client, check).await? else {
        return Err(OAuthError::client("the client credentials are not valid"));
    };
    let scopes = match requested {
        None => grant.scopes.clone(),
        Some(requested) => {
            let beyond: Vec<&str> = requested
                .difference(&grant.scopes)
                .map(String::as_str)
                .collect();
            if !beyond.is_empty() {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    format!(
                        "not granted to this client: {}; its active subscriptions grant {}",
                        beyond.join(" "),
                        if grant.scopes.is_empty() {
                            "no scopes".to_string()
                        } else {
                            grant.scopes.iter().cloned().collect::<Vec<_>>().join(" ")
                        }
                    ),
                ));
            }
            requested
        }
    };
    let now = OffsetDateTime::now_utc();
    s.usage.record(Credential::OAuthClient, grant.id, now);
    let body = mint(s, &grant, &scopes, now).await?;
    let mut res = axum::Json(body).into_response();
    no_store(res.headers_mut());
    Ok(res)
}

async fn mint(
    s: &AppState,
    grant: &Grant,
    scopes: &BTreeSet<String>,
    now: OffsetDateTime,
) -> Result<serde_json::Value, OAuthError> {
    let config = &s.oauth;
    let key = signing::active(&s.pool, &config.sealer, config.token_ttl).await?;
    let iat = now.unix_timestamp();
    let scope = scopes.iter().cloned().collect::<Vec<_>>().join(" ");
    let claims = AccessClaims {
        iss: config.issuer.clone(),
        sub: grant.client_id.clone(),
        aud: config.audience.clone(),
        exp: iat + config.token_ttl.whole_seconds(),
        iat,
        nbf: iat,
        jti: uuid::Uuid::new_v4().to_string(),
        client_id: grant.client_id.clone(),
        scope: scope.clone(),
        consumer: grant.consumer_slug.clone(),
        application: grant.application_id.to_string(),
        env: grant.environment.as_str().to_string(),
    };
    let access_token = jwt::sign(&key.kid, &key.key, &claims);
    Ok(serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": config.token_ttl.whole_seconds(),
        "scope": scope,
    }))
}

async fn jwks(State(s): State<AppState>) -> Response {
    match signing::jwks(&s.pool).await {
        Ok(keys) => {
            let mut res = axum::Json(keys).into_response();
            // Short enough that a rotation reaches verifiers well within a token's life.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "could not load signing keys");
            OAuthError::internal().into_response()
        }
    }
}

async fn metadata(State(s): State<AppState>) -> Response {
    let c = &s.oauth;
    axum::Json(serde_json::json!({
        "issuer": c.issuer,
        "token_endpoint": c.token_endpoint(),
        "jwks_uri": c.jwks_uri(),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": ["EdDSA"],
        "service_documentation": format!("{}/consumers", c.issuer),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_refuse_repeated_parameters() {
        assert!(parse_form(b"grant_type=client_credentials&grant_type=password").is_err());
        let form =
            parse_form(b"grant_type=client_credentials&scope=a%3Ab+c&extra=1").expect("valid");
        assert_eq!(form.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(form.scope.as_deref(), Some("a:b c"));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let raw = base64::engine::general_purpose::STANDARD.encode("stwc_a%2Bb:s%3Ac%25");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {raw}")).expect("ascii"),
        );
        let (id, secret) = basic_credentials(&headers)
            .expect("valid")
            .expect("present");
        assert_eq!((id.as_str(), secret.as_str()), ("stwc_a+b", "s:c%"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert!(basic_credentials(&headers).is_err());
    }

    #[test]
    fn scopes_are_space_separated_tokens() {
        let scopes = parse_scope(" orders:read  orders:write orders:read").expect("valid");
        assert_eq!(scopes.len(), 2);
        assert!(parse_scope("orders\"read").is_err());
    }
}
