//! OAuth2 clients of partner applications (RFC 6749 §2). A client has a public
//! `client_id` (`stwc_…`) and one or two secrets (`stwcs_…`): two only during a
//! rotation overlap. Secrets are Argon2id hashes, shown once. The granted scopes
//! are those of the application's active subscriptions (control plane).

use super::keys::MAX_OVERLAP_HOURS;
use super::{applications, require_admin, snapshot};
use crate::audit::{self, Actor, Change};
use crate::auth::password;
use crate::auth::tokens::random_hex;
use crate::error::Result;
use crate::notify::{self, Kind};
use rand::Rng;
use sqlx::{PgConnection, PgPool};
use std::collections::BTreeSet;
use steward_model::{
    AppError, Checks, ClientSecretView, CreatedOAuthClient, CredentialStatus, Environment,
    NewOAuthClient, OAuthClientView, Principal, Rotation,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Patterns for secret scanners.
pub const CLIENT_ID_PATTERN: &str = r"\bstwc_[0-9a-z]{20}\b";
pub const SECRET_PATTERN: &str = r"\bstwcs_[0-9a-f]{64}\b";

fn new_client_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    let tail: String = (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("stwc_{tail}")
}

fn new_secret() -> String {
    format!("stwcs_{}", random_hex(32))
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: Uuid,
    application_id: Uuid,
    name: String,
    client_id: String,
    created_at: OffsetDateTime,
    created_by: Option<String>,
    revoked_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
}

const SELECT: &str = "
    SELECT c.id, c.application_id, c.name, c.client_id, c.created_at, u.email AS created_by,
           c.revoked_at, c.last_used_at
    FROM oauth_clients c LEFT JOIN users u ON u.id = c.created_by";

async fn views(conn: &mut PgConnection, rows: Vec<ClientRow>) -> Result<Vec<OAuthClientView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let secrets: Vec<(Uuid, Uuid, String, OffsetDateTime, Option<OffsetDateTime>)> =
        sqlx::query_as(
            "SELECT client_id, id, hint, created_at, expires_at FROM oauth_client_secrets
         WHERE client_id = ANY($1) ORDER BY created_at DESC",
        )
        .bind(&ids)
        .fetch_all(conn)
        .await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows
        .into_iter()
        .map(|r| {
            let secrets: Vec<ClientSecretView> = secrets
                .iter()
                .filter(|s| s.0 == r.id)
                .map(|(_, id, hint, created_at, expires_at)| ClientSecretView {
                    id: *id,
                    hint: hint.clone(),
                    created_at: *created_at,
                    expires_at: *expires_at,
                    status: CredentialStatus::of(now, *expires_at, r.revoked_at),
                })
                .collect();
            // A client is as alive as its best secret.
            let status = if r.revoked_at.is_some() {
                CredentialStatus::Revoked
            } else {
                secrets
                    .iter()
                    .map(|s| s.status)
                    .min_by_key(|s| match s {
                        CredentialStatus::Active => 0,
                        CredentialStatus::Expiring => 1,
                        CredentialStatus::Expired => 2,
                        CredentialStatus::Revoked => 3,
                    })
                    .unwrap_or(CredentialStatus::Expired)
            };
            OAuthClientView {
                id: r.id,
                application_id: r.application_id,
                name: r.name,
                client_id: r.client_id,
                created_at: r.created_at,
                created_by: r.created_by,
                revoked_at: r.revoked_at,
                last_used_at: r.last_used_at,
                secrets,
                status,
            }
        })
        .collect())
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<OAuthClientView> {
    let row: Option<ClientRow> = sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| AppError::not_found("OAuth client"))?;
    Ok(views(conn, vec![row]).await?.remove(0))
}

pub async fn of_application(
    conn: &mut PgConnection,
    application: Uuid,
) -> Result<Vec<OAuthClientView>> {
    let rows: Vec<ClientRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE c.application_id = $1 ORDER BY c.revoked_at IS NOT NULL, c.created_at DESC"
    ))
    .bind(application)
    .fetch_all(&mut *conn)
    .await?;
    views(conn, rows).await
}

async fn add_secret(
    conn: &mut PgConnection,
    client: Uuid,
    hash: String,
    secret: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_client_secrets (id, client_id, hash, hint) VALUES ($1, $2, $3, $4)",
    )
    .bind(Uuid::new_v4())
    .bind(client)
    .bind(hash)
    .bind(&secret[secret.len() - 4..])
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn create(
    pool: &PgPool,
    who: &Principal,
    application: Uuid,
    new: NewOAuthClient,
) -> Result<CreatedOAuthClient> {
    require_admin(who, "creating an OAuth client")?;
    let mut checks = Checks::new();
    checks.text(&new.name, "name", "a name", 100);
    checks.finish()?;
    let secret = new_secret();
    // Hash before the transaction opens: Argon2 takes tens of milliseconds.
    let hash = password::hash(secret.clone()).await?;
    let mut tx = pool.begin().await?;
    let app = applications::find(&mut tx, application).await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO oauth_clients (id, application_id, name, client_id, created_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(app.id)
    .bind(new.name.trim())
    .bind(new_client_id())
    .bind(who.user_id)
    .execute(&mut *tx)
    .await?;
    add_secret(&mut tx, id, hash, &secret).await?;
    let client = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "oauth_client.create",
            target_type: "oauth_client",
            target_id: client.client_id.clone(),
            before: None,
            after: Some(snapshot(&client)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::OAuthClient, id).await?;
    tx.commit().await?;
    Ok(CreatedOAuthClient {
        client,
        client_secret: secret,
    })
}

/// Adds a new secret and lets the current ones work for the overlap only.
pub async fn rotate(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    rotation: Rotation,
) -> Result<CreatedOAuthClient> {
    require_admin(who, "rotating an OAuth client secret")?;
    if rotation.overlap_hours > MAX_OVERLAP_HOURS {
        return Err(AppError::invalid(
            "overlap_hours",
            format!("use an overlap of 0 to {MAX_OVERLAP_HOURS} hours"),
        )
        .into());
    }
    let secret = new_secret();
    let hash = password::hash(secret.clone()).await?;
    let mut tx = pool.begin().await?;
    let revoked: Option<Option<OffsetDateTime>> =
        sqlx::query_scalar("SELECT revoked_at FROM oauth_clients WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match revoked {
        None => return Err(AppError::not_found("OAuth client").into()),
        Some(Some(_)) => {
            return Err(AppError::Conflict {
                message: "this client is revoked; create a new client instead".into(),
                field: None,
            }
            .into());
        }
        Some(None) => {}
    }
    let before = load(&mut tx, id).await?;
    let overlap_end = OffsetDateTime::now_utc() + Duration::hours(rotation.overlap_hours.into());
    sqlx::query(
        "UPDATE oauth_client_secrets SET expires_at = LEAST(coalesce(expires_at, 'infinity'), $2)
         WHERE client_id = $1",
    )
    .bind(id)
    .bind(overlap_end)
    .execute(&mut *tx)
    .await?;
    add_secret(&mut tx, id, hash, &secret).await?;
    let client = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "oauth_client.rotate",
            target_type: "oauth_client",
            target_id: client.client_id.clone(),
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&client)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::OAuthClient, id).await?;
    tx.commit().await?;
    Ok(CreatedOAuthClient {
        client,
        client_secret: secret,
    })
}

pub async fn revoke(pool: &PgPool, who: &Principal, id: Uuid) -> Result<OAuthClientView> {
    require_admin(who, "revoking an OAuth client")?;
    let mut tx = pool.begin().await?;
    let revoked: Option<Option<OffsetDateTime>> =
        sqlx::query_scalar("SELECT revoked_at FROM oauth_clients WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match revoked {
        None => return Err(AppError::not_found("OAuth client").into()),
        Some(Some(_)) => {
            return Err(AppError::Conflict {
                message: "this client is already revoked".into(),
                field: None,
            }
            .into());
        }
        Some(None) => {}
    }
    let before = load(&mut tx, id).await?;
    sqlx::query("UPDATE oauth_clients SET revoked_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let after = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "oauth_client.revoke",
            target_type: "oauth_client",
            target_id: after.client_id.clone(),
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::OAuthClient, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// What an authenticated client may ask for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: Uuid,
    pub client_id: String,
    pub application_id: Uuid,
    pub consumer_slug: String,
    pub environment: Environment,
    pub scopes: BTreeSet<String>,
}

/// Checks a client's credentials. Unknown clients cost one Argon2 verification,
/// like a wrong secret does, so response times do not reveal which ids exist.
pub async fn authenticate(pool: &PgPool, client_id: &str, secret: &str) -> Result<Option<Grant>> {
    let client: Option<(Uuid, Uuid, String, String)> = sqlx::query_as(
        "SELECT c.id, a.id, co.slug, a.environment
         FROM oauth_clients c
         JOIN applications a ON a.id = c.application_id
         JOIN consumers co ON co.id = a.consumer_id
         WHERE c.client_id = $1 AND c.revoked_at IS NULL",
    )
    .bind(client_id)
    .fetch_optional(pool)
    .await?;
    let Some((id, application_id, consumer_slug, environment)) = client else {
        password::verify(secret.to_string(), password::decoy().await?).await?;
        return Ok(None);
    };
    let hashes: Vec<String> = sqlx::query_scalar(
        "SELECT hash FROM oauth_client_secrets
         WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > now())
         ORDER BY created_at DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut ok = false;
    for hash in hashes.iter().take(3) {
        if password::verify(secret.to_string(), hash.clone()).await? {
            ok = true;
            break;
        }
    }
    if hashes.is_empty() {
        password::verify(secret.to_string(), password::decoy().await?).await?;
    }
    if !ok {
        return Ok(None);
    }
    let scopes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT unnest(scopes) FROM subscriptions
         WHERE application_id = $1 AND state = 'active'",
    )
    .bind(application_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(Grant {
        id,
        client_id: client_id.to_string(),
        application_id,
        consumer_slug,
        environment: Environment::parse(&environment).unwrap_or(Environment::Sandbox),
        scopes: scopes.into_iter().collect(),
    }))
}
