//! Subscriptions: an application's right to call one major line of an API, under a
//! plan, with granted scopes. Subscriptions to critical-tier APIs wait for an
//! owner of the API's team or an admin to approve them (control plane).
//!
//! `pending → active ⇄ suspended`; any state but `cancelled` may be cancelled.
//! Every decision is announced to gateways, so a suspension bites at once.

use super::{applications, plans, snapshot};
use crate::audit::{self, Actor, Change};
use crate::error::Result;
use crate::notify::{self, Kind};
use crate::registry::{access, apis};
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeSet;
use steward_model::{
    AppError, Environment, NewSubscription, PlanRef, Principal, SubscriptionDecision,
    SubscriptionFilter, SubscriptionState, SubscriptionView, Tier,
};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct SubscriptionRow {
    id: Uuid,
    application_id: Uuid,
    application_name: String,
    environment: String,
    consumer_id: Uuid,
    consumer_name: String,
    api_id: Uuid,
    api_slug: String,
    api_name: String,
    api_tier: String,
    team_id: Uuid,
    major: i32,
    plan_id: Uuid,
    plan_slug: String,
    plan_name: String,
    scopes: Vec<String>,
    state: String,
    state_reason: Option<String>,
    requested_by: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const SELECT: &str = "
    SELECT s.id, s.application_id, ap.name AS application_name, ap.environment,
           c.id AS consumer_id, c.name AS consumer_name,
           a.id AS api_id, a.slug AS api_slug, a.name AS api_name, a.tier AS api_tier, a.team_id,
           s.major, p.id AS plan_id, p.slug AS plan_slug, p.name AS plan_name,
           s.scopes, s.state, s.state_reason,
           ru.email AS requested_by, au.email AS approved_by, s.approved_at,
           s.created_at, s.updated_at
    FROM subscriptions s
    JOIN applications ap ON ap.id = s.application_id
    JOIN consumers c ON c.id = ap.consumer_id
    JOIN apis a ON a.id = s.api_id
    JOIN plans p ON p.id = s.plan_id
    LEFT JOIN users ru ON ru.id = s.requested_by
    LEFT JOIN users au ON au.id = s.approved_by";

fn view(r: SubscriptionRow, can_decide: bool) -> SubscriptionView {
    SubscriptionView {
        id: r.id,
        application_id: r.application_id,
        application_name: r.application_name,
        environment: Environment::parse(&r.environment).unwrap_or(Environment::Sandbox),
        consumer_id: r.consumer_id,
        consumer_name: r.consumer_name,
        api_id: r.api_id,
        api_slug: r.api_slug,
        api_name: r.api_name,
        api_tier: Tier::parse(&r.api_tier).unwrap_or_default(),
        major: r.major,
        plan: PlanRef {
            id: r.plan_id,
            slug: r.plan_slug,
            name: r.plan_name,
        },
        scopes: r.scopes,
        state: SubscriptionState::parse(&r.state).unwrap_or(SubscriptionState::Pending),
        state_reason: r.state_reason,
        requested_by: r.requested_by,
        approved_by: r.approved_by,
        approved_at: r.approved_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        can_decide,
    }
}

async fn views(
    conn: &mut PgConnection,
    who: &Principal,
    rows: Vec<SubscriptionRow>,
) -> Result<Vec<SubscriptionView>> {
    let teams = access::editable_teams(conn, who).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let can_decide = teams.as_ref().is_none_or(|t| t.contains(&r.team_id));
            view(r, can_decide)
        })
        .collect())
}

async fn load(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<SubscriptionView> {
    let row: Option<SubscriptionRow> = sqlx::query_as(&format!("{SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| AppError::not_found("subscription"))?;
    Ok(views(conn, who, vec![row]).await?.remove(0))
}

pub async fn get(pool: &PgPool, who: &Principal, id: Uuid) -> Result<SubscriptionView> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, who, id).await
}

pub async fn of_application(
    conn: &mut PgConnection,
    who: &Principal,
    application: Uuid,
) -> Result<Vec<SubscriptionView>> {
    let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE s.application_id = $1 ORDER BY s.state = 'cancelled', a.name, s.major DESC"
    ))
    .bind(application)
    .fetch_all(&mut *conn)
    .await?;
    views(conn, who, rows).await
}

pub async fn list(
    pool: &PgPool,
    who: &Principal,
    filter: &SubscriptionFilter,
) -> Result<Vec<SubscriptionView>> {
    let mut conn = pool.acquire().await?;
    let api = match filter
        .api
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(key) => Some(apis::find(&mut conn, key).await?.0),
        None => None,
    };
    let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
        "{SELECT}
         WHERE ($1::text IS NULL OR s.state = $1)
           AND ($2::uuid IS NULL OR s.api_id = $2)
           AND ($3::uuid IS NULL OR s.application_id = $3)
         ORDER BY s.state <> 'pending', s.created_at DESC
         LIMIT 1000"
    ))
    .bind(filter.state.map(SubscriptionState::as_str))
    .bind(api)
    .bind(filter.application)
    .fetch_all(&mut *conn)
    .await?;
    views(&mut conn, who, rows).await
}

/// The scopes an API's major line declares in its OAuth2 security schemes, taken
/// from every published or deprecated version of that line.
pub async fn declared_scopes(
    conn: &mut PgConnection,
    api: Uuid,
    major: i32,
) -> Result<Option<BTreeSet<String>>> {
    let specs: Vec<String> = sqlx::query_scalar(
        "SELECT spec_text FROM api_versions
         WHERE api_id = $1 AND major = $2 AND state IN ('published', 'deprecated')",
    )
    .bind(api)
    .bind(major)
    .fetch_all(conn)
    .await?;
    if specs.is_empty() {
        return Ok(None);
    }
    // A stored version already passed validation; a reparse failure here
    // would be a bug, not user input, so it simply contributes nothing.
    let scopes = crate::cpu::run(move || {
        let mut scopes = BTreeSet::new();
        for text in specs {
            if steward_contracts::yaml::check(&text).is_ok()
                && let Ok(doc) = serde_yaml::from_str::<serde_json::Value>(&text)
            {
                collect_scopes(&doc, &mut scopes);
            }
        }
        scopes
    })
    .await?;
    Ok(Some(scopes))
}

fn collect_scopes(doc: &serde_json::Value, out: &mut BTreeSet<String>) {
    let Some(schemes) = doc
        .pointer("/components/securitySchemes")
        .and_then(|s| s.as_object())
    else {
        return;
    };
    for scheme in schemes.values() {
        if let Some(flows) = scheme.get("flows").and_then(|f| f.as_object()) {
            for flow in flows.values() {
                if let Some(scopes) = flow.get("scopes").and_then(|s| s.as_object()) {
                    out.extend(scopes.keys().cloned());
                }
            }
        }
    }
}

pub async fn create(
    pool: &PgPool,
    who: &Principal,
    new: NewSubscription,
) -> Result<SubscriptionView> {
    let mut tx = pool.begin().await?;
    let (api_id, team_id) = apis::find(&mut tx, new.api.trim())
        .await
        .map_err(|_| AppError::invalid("api", "choose a registered API"))?;
    // Admins subscribe anyone to anything; owners may grant access to their own APIs.
    if !access::can_edit(&mut tx, who, team_id).await? {
        return Err(AppError::forbidden(
            "subscribing an application needs the admin role or an owner in the API's team",
        )
        .into());
    }
    let application = applications::find(&mut tx, new.application_id)
        .await
        .map_err(|_| AppError::invalid("application_id", "choose an existing application"))?;
    let plan = plans::find(&mut tx, new.plan.trim())
        .await?
        .ok_or_else(|| AppError::invalid("plan", "choose an existing plan"))?;
    let major = match new.major {
        Some(m) => m,
        None => sqlx::query_scalar(
            "SELECT major FROM api_versions WHERE api_id = $1 AND state IN ('published', 'deprecated')
             ORDER BY major DESC LIMIT 1",
        )
        .bind(api_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::invalid("api", "this API has no published version to subscribe to yet"))?,
    };
    let declared = declared_scopes(&mut tx, api_id, major)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "major",
                format!("this API has no published or deprecated {major}.x version"),
            )
        })?;
    let mut scopes: Vec<String> = new.scopes.iter().map(|s| s.trim().to_string()).collect();
    scopes.retain(|s| !s.is_empty());
    scopes.sort();
    scopes.dedup();
    let unknown: Vec<&str> = scopes
        .iter()
        .filter(|s| !declared.contains(*s))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let offered = if declared.is_empty() {
            "this API line declares no OAuth2 scopes".to_string()
        } else {
            format!(
                "it declares {}",
                declared.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        return Err(AppError::invalid(
            "scopes",
            format!(
                "{} not declared by the API's security schemes; {offered}",
                unknown.join(", ")
            ),
        )
        .into());
    }
    if !plan.environments.contains(&application.environment) {
        return Err(AppError::invalid(
            "plan",
            format!(
                "plan {} is not offered in {}; choose a plan that allows it",
                plan.name, application.environment
            ),
        )
        .into());
    }
    let tier: String = sqlx::query_scalar("SELECT tier FROM apis WHERE id = $1")
        .bind(api_id)
        .fetch_one(&mut *tx)
        .await?;
    let state = if tier == Tier::Critical.as_str() {
        SubscriptionState::Pending
    } else {
        SubscriptionState::Active
    };
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO subscriptions (id, application_id, api_id, major, plan_id, scopes, state, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(application.id)
    .bind(api_id)
    .bind(major)
    .bind(plan.id)
    .bind(&scopes)
    .bind(state.as_str())
    .bind(who.user_id)
    .execute(&mut *tx)
    .await?;
    let sub = load(&mut tx, who, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "subscription.create",
            target_type: "subscription",
            target_id: id.to_string(),
            before: None,
            after: Some(snapshot(&sub)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::Subscription, id).await?;
    tx.commit().await?;
    Ok(sub)
}

/// What each decision needs the subscription to be in, and where it leads.
fn step(
    decision: SubscriptionDecision,
    from: SubscriptionState,
) -> std::result::Result<SubscriptionState, &'static str> {
    use SubscriptionDecision as D;
    use SubscriptionState as S;
    match (decision, from) {
        (D::Approve, S::Pending) => Ok(S::Active),
        (D::Suspend, S::Active) => Ok(S::Suspended),
        (D::Resume, S::Suspended) => Ok(S::Active),
        (D::Cancel, S::Pending | S::Active | S::Suspended) => Ok(S::Cancelled),
        (D::Approve, _) => Err("only a pending subscription can be approved"),
        (D::Suspend, _) => Err("only an active subscription can be suspended"),
        (D::Resume, _) => Err("only a suspended subscription can be resumed"),
        (D::Cancel, _) => Err("the subscription is already cancelled"),
    }
}

pub async fn decide(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    decision: SubscriptionDecision,
    reason: Option<String>,
) -> Result<SubscriptionView> {
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(AppError::invalid("reason", "keep the reason under 1000 characters").into());
    }
    if decision == SubscriptionDecision::Suspend && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "say why the subscription is suspended; the consumer's contacts will ask",
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    // Lock the row so two reviewers cannot decide at once.
    let locked: Option<(String, Uuid)> = sqlx::query_as(
        "SELECT s.state, a.team_id FROM subscriptions s JOIN apis a ON a.id = s.api_id
         WHERE s.id = $1 FOR UPDATE OF s",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (state, team_id) = locked.ok_or_else(|| AppError::not_found("subscription"))?;
    if !access::can_edit(&mut tx, who, team_id).await? {
        return Err(AppError::forbidden(format!(
            "to {} this subscription you need the admin role or an owner in the API's team",
            decision.as_str()
        ))
        .into());
    }
    let from = SubscriptionState::parse(&state).unwrap_or(SubscriptionState::Pending);
    let to = step(decision, from).map_err(|why| AppError::Conflict {
        message: format!("{why}; it is {from}"),
        field: Some("state".into()),
    })?;
    let before = load(&mut tx, who, id).await?;
    sqlx::query(
        "UPDATE subscriptions SET state = $2, state_reason = $3, updated_at = now(),
                approved_by = CASE WHEN $4 THEN $5 ELSE approved_by END,
                approved_at = CASE WHEN $4 THEN now() ELSE approved_at END
         WHERE id = $1",
    )
    .bind(id)
    .bind(to.as_str())
    .bind(&reason)
    .bind(decision == SubscriptionDecision::Approve)
    .bind(who.user_id)
    .execute(&mut *tx)
    .await?;
    let after = load(&mut tx, who, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: match decision {
                SubscriptionDecision::Approve => "subscription.approve",
                SubscriptionDecision::Suspend => "subscription.suspend",
                SubscriptionDecision::Resume => "subscription.resume",
                SubscriptionDecision::Cancel => "subscription.cancel",
            },
            target_type: "subscription",
            target_id: id.to_string(),
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::Subscription, id).await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_follow_the_state_machine() {
        use SubscriptionDecision as D;
        use SubscriptionState as S;
        assert_eq!(step(D::Approve, S::Pending), Ok(S::Active));
        assert_eq!(step(D::Suspend, S::Active), Ok(S::Suspended));
        assert_eq!(step(D::Resume, S::Suspended), Ok(S::Active));
        assert_eq!(step(D::Cancel, S::Suspended), Ok(S::Cancelled));
        assert!(step(D::Approve, S::Active).is_err());
        assert!(step(D::Resume, S::Active).is_err());
        assert!(step(D::Suspend, S::Pending).is_err());
        assert!(step(D::Cancel, S::Cancelled).is_err());
    }

    #[test]
    fn scopes_come_from_every_oauth_flow() {
        let doc = serde_json::json!({
            "components": {"securitySchemes": {
                "oauth2": {"type": "oauth2", "flows": {
                    "clientCredentials": {"tokenUrl": "/t", "scopes": {"orders:read": "", "orders:write": ""}},
                    "authorizationCode": {"authorizationUrl": "/a", "tokenUrl": "/t", "scopes": {"orders:admin": ""}}
                }},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
            }}
        });
        let mut out = BTreeSet::new();
        collect_scopes(&doc, &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["orders:admin", "orders:read", "orders:write"]
        );
    }
}
