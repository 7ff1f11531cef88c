//! Issuing, rotating and revoking partner API keys (control plane). The key
//! format itself is [`steward_shared::api_key`], which the gateway shares.

use super::{applications, require_admin, snapshot};
use crate::audit::{self, Actor, Change};
use crate::error::Result;
use crate::notify::{self, Kind};
use sqlx::{PgConnection, PgPool};
use steward_model::{
    ApiKeyView, AppError, Checks, CreatedApiKey, CredentialStatus, Environment, NewApiKey,
    Principal, RotatedApiKey, Rotation,
};
use steward_shared::api_key::{env_prefix, generate};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The longest rotation overlap: a month is plenty to roll a key through a fleet.
pub const MAX_OVERLAP_HOURS: u32 = 720;

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: Uuid,
    application_id: Uuid,
    name: String,
    environment: String,
    lookup_id: String,
    created_at: OffsetDateTime,
    created_by: Option<String>,
    expires_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
    rotated_from: Option<Uuid>,
}

const SELECT: &str = "
    SELECT k.id, k.application_id, k.name, k.environment, k.lookup_id, k.created_at,
           u.email AS created_by, k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from
    FROM api_keys k LEFT JOIN users u ON u.id = k.created_by";

fn view(r: KeyRow, now: OffsetDateTime) -> ApiKeyView {
    let environment = Environment::parse(&r.environment).unwrap_or(Environment::Sandbox);
    ApiKeyView {
        id: r.id,
        application_id: r.application_id,
        name: r.name,
        environment,
        prefix: format!("{}{}", env_prefix(environment), r.lookup_id),
        created_at: r.created_at,
        created_by: r.created_by,
        expires_at: r.expires_at,
        revoked_at: r.revoked_at,
        last_used_at: r.last_used_at,
        rotated_from: r.rotated_from,
        status: CredentialStatus::of(now, r.expires_at, r.revoked_at),
    }
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<ApiKeyView> {
    let row: Option<KeyRow> = sqlx::query_as(&format!("{SELECT} WHERE k.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| view(r, OffsetDateTime::now_utc()))
        .ok_or_else(|| AppError::not_found("API key").into())
}

pub async fn of_application(conn: &mut PgConnection, application: Uuid) -> Result<Vec<ApiKeyView>> {
    let rows: Vec<KeyRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE k.application_id = $1
         ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC"
    ))
    .bind(application)
    .fetch_all(conn)
    .await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows.into_iter().map(|r| view(r, now)).collect())
}

async fn insert(
    conn: &mut PgConnection,
    who: &Principal,
    application: Uuid,
    name: &str,
    environment: Environment,
    expires_at: Option<OffsetDateTime>,
    rotated_from: Option<Uuid>,
) -> Result<(Uuid, String)> {
    let (lookup, digest, whole) = generate(environment);
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO api_keys (id, application_id, name, environment, lookup_id, digest,
                               created_by, expires_at, rotated_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(application)
    .bind(name)
    .bind(environment.as_str())
    .bind(&lookup)
    .bind(digest.as_slice())
    .bind(who.user_id)
    .bind(expires_at)
    .bind(rotated_from)
    .execute(conn)
    .await?;
    Ok((id, whole))
}

pub async fn create(
    pool: &PgPool,
    who: &Principal,
    application: Uuid,
    new: NewApiKey,
) -> Result<CreatedApiKey> {
    require_admin(who, "issuing an API key")?;
    let mut checks = Checks::new();
    checks.text(&new.name, "name", "a name", 100).check(
        new.expires_in_days.is_none_or(|d| (1..=3650).contains(&d)),
        "expires_in_days",
        "use 1 to 3650 days, or leave it empty for no expiry",
    );
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let app = applications::find(&mut tx, application).await?;
    let expires_at = new
        .expires_in_days
        .map(|d| OffsetDateTime::now_utc() + Duration::days(d.into()));
    let (id, secret) = insert(
        &mut tx,
        who,
        app.id,
        new.name.trim(),
        app.environment,
        expires_at,
        None,
    )
    .await?;
    let key = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "api_key.create",
            target_type: "api_key",
            target_id: key.prefix.clone(),
            before: None,
            after: Some(snapshot(&key)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::Key, id).await?;
    tx.commit().await?;
    Ok(CreatedApiKey { key, secret })
}

/// Locks a key for a change and refuses keys that can no longer change.
async fn lock_usable(conn: &mut PgConnection, id: Uuid) -> Result<ApiKeyView> {
    let exists: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM api_keys WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    exists.ok_or_else(|| AppError::not_found("API key"))?;
    let key = load(conn, id).await?;
    match key.status {
        CredentialStatus::Revoked => Err(AppError::Conflict {
            message: "this key is revoked; issue a new key instead".into(),
            field: None,
        }
        .into()),
        CredentialStatus::Expired => Err(AppError::Conflict {
            message: "this key has expired; issue a new key instead".into(),
            field: None,
        }
        .into()),
        _ => Ok(key),
    }
}

/// Issues a successor and lets the old key live on for the overlap, so partners
/// can roll the new key out without an outage. The old key then expires by itself.
pub async fn rotate(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    rotation: Rotation,
) -> Result<RotatedApiKey> {
    require_admin(who, "rotating an API key")?;
    if rotation.overlap_hours > MAX_OVERLAP_HOURS {
        return Err(AppError::invalid(
            "overlap_hours",
            format!("use an overlap of 0 to {MAX_OVERLAP_HOURS} hours"),
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    let before = lock_usable(&mut tx, id).await?;
    let now = OffsetDateTime::now_utc();
    let overlap_end = now + Duration::hours(rotation.overlap_hours.into());
    // The successor keeps the lifetime of the key it replaces.
    let successor_expiry = before.expires_at.map(|at| now + (at - before.created_at));
    let (new_id, secret) = insert(
        &mut tx,
        who,
        before.application_id,
        &before.name,
        before.environment,
        successor_expiry,
        Some(before.id),
    )
    .await?;
    sqlx::query(
        "UPDATE api_keys SET expires_at = LEAST(coalesce(expires_at, 'infinity'), $2), rotated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(overlap_end)
    .execute(&mut *tx)
    .await?;
    let previous = load(&mut tx, id).await?;
    let key = load(&mut tx, new_id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "api_key.rotate",
            target_type: "api_key",
            target_id: before.prefix.clone(),
            before: Some(snapshot(&before)?),
            after: Some(serde_json::json!({ "previous": previous, "successor": key })),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::Key, id).await?;
    notify::changed(&mut tx, Kind::Key, new_id).await?;
    tx.commit().await?;
    Ok(RotatedApiKey {
        previous,
        key,
        secret,
    })
}

/// Revocation is immediate: gateways drop the key on the notification.
pub async fn revoke(pool: &PgPool, who: &Principal, id: Uuid) -> Result<ApiKeyView> {
    require_admin(who, "revoking an API key")?;
    let mut tx = pool.begin().await?;
    let exists: Option<Option<OffsetDateTime>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_keys WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match exists {
        None => return Err(AppError::not_found("API key").into()),
        Some(Some(_)) => {
            return Err(AppError::Conflict {
                message: "this key is already revoked".into(),
                field: None,
            }
            .into());
        }
        Some(None) => {}
    }
    let before = load(&mut tx, id).await?;
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let after = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "api_key.revoke",
            target_type: "api_key",
            target_id: after.prefix.clone(),
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::Key, id).await?;
    tx.commit().await?;
    Ok(after)
}
