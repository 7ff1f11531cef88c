//! The token server's signing keys. The newest unretired key signs. Rotation
//! retires it and keeps its public key in the JWKS until every token it signed
//! has expired (`publish_until` = retirement + token lifetime + skew), so a
//! rotation never invalidates a live token. Keys rotate by age on their own, and
//! admins may rotate at once (say, after a suspected leak) (control plane).

use crate::audit::{self, Actor, Change};
use crate::auth::policy::admin as require_admin;
use crate::error::Result;
use crate::notify::{self, Kind};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sqlx::{PgConnection, PgPool};
use steward_model::{Principal, SigningKeyView};
use steward_shared::jwt;
use time::{Duration, OffsetDateTime};

/// Keys older than this are replaced when the next token is issued.
pub const ROTATE_AFTER: Duration = Duration::days(30);
/// Advisory lock so that two processes never create two active keys at once.
const KEY_LOCK: i64 = 0x5354_4557_4b45_5953;

pub struct ActiveKey {
    pub kid: String,
    pub key: SigningKey,
}

fn decode(kid: String, private: &[u8]) -> Result<ActiveKey> {
    let seed: [u8; 32] = private
        .try_into()
        .map_err(|_| anyhow::anyhow!("signing key {kid} is not a 32-byte Ed25519 seed"))?;
    Ok(ActiveKey {
        kid,
        key: SigningKey::from_bytes(&seed),
    })
}

async fn insert_new(conn: &mut PgConnection) -> Result<String> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = key.verifying_key();
    let kid = jwt::thumbprint(&public);
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, public_key)
         VALUES ($1, 'EdDSA', $2, $3)",
    )
    .bind(&kid)
    .bind(key.to_bytes().as_slice())
    .bind(public.as_bytes().as_slice())
    .execute(conn)
    .await?;
    Ok(kid)
}

/// Retires the active keys and makes a new one, on the caller's transaction.
async fn replace(conn: &mut PgConnection, token_ttl: Duration) -> Result<String> {
    sqlx::query(
        "UPDATE signing_keys SET retired_at = now(), publish_until = now() + $1
         WHERE retired_at IS NULL",
    )
    .bind(token_ttl + Duration::minutes(5))
    .execute(&mut *conn)
    .await?;
    insert_new(conn).await
}

/// The key to sign with: the newest unretired one, created or rotated as needed.
pub async fn active(pool: &PgPool, token_ttl: Duration) -> Result<ActiveKey> {
    let current: Option<(String, Vec<u8>, OffsetDateTime)> = sqlx::query_as(
        "SELECT kid, private_key, created_at FROM signing_keys
         WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    if let Some((kid, private, created)) = current
        && OffsetDateTime::now_utc() - created < ROTATE_AFTER
    {
        return decode(kid, &private);
    }
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    // Another process may have done it while we waited for the lock.
    let fresh: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, private_key FROM signing_keys
         WHERE retired_at IS NULL AND created_at > now() - $1
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(ROTATE_AFTER)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((kid, private)) = fresh {
        tx.commit().await?;
        return decode(kid, &private);
    }
    let kid = replace(&mut tx, token_ttl).await?;
    audit::record(
        &mut tx,
        &Actor::operator("signing-key-rotation"),
        Change {
            action: "signing_key.create",
            target_type: "signing_key",
            target_id: kid.clone(),
            before: None,
            after: Some(serde_json::json!({ "kid": kid, "reason": "no key, or the key is older than 30 days" })),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::SigningKey, &kid).await?;
    let private: Vec<u8> =
        sqlx::query_scalar("SELECT private_key FROM signing_keys WHERE kid = $1")
            .bind(&kid)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    decode(kid, &private)
}

/// Public keys that verify some unexpired token: the JWKS.
pub async fn published(pool: &PgPool) -> Result<Vec<(String, VerifyingKey)>> {
    Ok(jwt::published_keys(pool).await?)
}

pub async fn jwks(pool: &PgPool) -> Result<serde_json::Value> {
    let keys: Vec<serde_json::Value> = published(pool)
        .await?
        .iter()
        .map(|(kid, public)| jwt::jwk(kid, public))
        .collect();
    Ok(serde_json::json!({ "keys": keys }))
}

type KeyRow = (
    String,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

pub async fn list(pool: &PgPool, who: &Principal) -> Result<Vec<SigningKeyView>> {
    require_admin(who, "listing signing keys")?;
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT kid, algorithm, created_at, retired_at, publish_until FROM signing_keys
         ORDER BY created_at DESC LIMIT 50",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kid, algorithm, created_at, retired_at, publish_until)| SigningKeyView {
                kid,
                algorithm,
                created_at,
                active: retired_at.is_none(),
                retired_at,
                publish_until,
            },
        )
        .collect())
}

pub async fn rotate(pool: &PgPool, who: &Principal, token_ttl: Duration) -> Result<SigningKeyView> {
    require_admin(who, "rotating the signing key")?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    let kid = replace(&mut tx, token_ttl).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "signing_key.rotate",
            target_type: "signing_key",
            target_id: kid.clone(),
            before: None,
            after: Some(serde_json::json!({ "kid": kid })),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::SigningKey, &kid).await?;
    let created_at: OffsetDateTime =
        sqlx::query_scalar("SELECT created_at FROM signing_keys WHERE kid = $1")
            .bind(&kid)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(SigningKeyView {
        kid,
        algorithm: "EdDSA".into(),
        created_at,
        retired_at: None,
        publish_until: None,
        active: true,
    })
}
