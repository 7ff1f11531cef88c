//! The token server's signing keys. The newest unretired key signs. Rotation
//! retires it and keeps its public key in the JWKS until every token it signed
//! has expired (`publish_until` = retirement + token lifetime + skew), so a
//! rotation never invalidates a live token. Keys rotate by age on their own, and
//! admins may rotate at once. A key known to be compromised is revoked instead:
//! it leaves the JWKS and every gateway's snapshot at once, and so does every
//! token it signed. Private keys are stored sealed ([`sealing`]) (control plane).

use crate::audit::{self, Actor, Change};
use crate::auth::policy::admin as require_admin;
use crate::error::Result;
use crate::notify::{self, Kind};
use crate::sealing::{Sealed, Sealer};
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

/// A stored key row: kid, sealed private key, wrapped data key, KEK id.
type StoredKey = (String, Vec<u8>, Option<Vec<u8>>, Option<String>);

fn decode(sealer: &Sealer, (kid, private, wrapped, kek_id): StoredKey) -> Result<ActiveKey> {
    let (Some(wrapped_key), Some(kek_id)) = (wrapped, kek_id) else {
        return Err(anyhow::anyhow!("signing key {kid} is not sealed yet").into());
    };
    let sealed = Sealed {
        secret: private,
        wrapped_key,
        kek_id,
    };
    let seed = sealer
        .open(&sealed, &kid)
        .map_err(|e| anyhow::anyhow!("signing key {kid}: {e}"))?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| anyhow::anyhow!("signing key {kid} is not a 32-byte Ed25519 seed"))?;
    Ok(ActiveKey {
        kid,
        key: SigningKey::from_bytes(&seed),
    })
}

async fn insert_new(conn: &mut PgConnection, sealer: &Sealer) -> Result<String> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = key.verifying_key();
    let kid = jwt::thumbprint(&public);
    let sealed = sealer.seal(key.to_bytes().as_slice(), &kid);
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, wrapped_key, kek_id, public_key)
         VALUES ($1, 'EdDSA', $2, $3, $4, $5)",
    )
    .bind(&kid)
    .bind(&sealed.secret)
    .bind(&sealed.wrapped_key)
    .bind(&sealed.kek_id)
    .bind(public.as_bytes().as_slice())
    .execute(conn)
    .await?;
    Ok(kid)
}

/// Retires the active keys and makes a new one, on the caller's transaction.
async fn replace(conn: &mut PgConnection, sealer: &Sealer, token_ttl: Duration) -> Result<String> {
    sqlx::query(
        "UPDATE signing_keys SET retired_at = now(), publish_until = now() + $1
         WHERE retired_at IS NULL",
    )
    .bind(token_ttl + Duration::minutes(5))
    .execute(&mut *conn)
    .await?;
    insert_new(conn, sealer).await
}

const KEY_COLUMNS: &str = "kid, private_key, wrapped_key, kek_id";

/// Seals keys stored before sealing, and rewraps those sealed under a previous
/// key-encryption key, in one transaction; run at start. A key that cannot be
/// opened stops the start with the reason, rather than leaving tokens unsigned.
pub async fn seal_stored(pool: &PgPool, sealer: &Sealer) -> Result<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    let rows: Vec<StoredKey> = sqlx::query_as(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys WHERE kek_id IS DISTINCT FROM $1 FOR UPDATE"
    ))
    .bind(sealer.current_id())
    .fetch_all(&mut *tx)
    .await?;
    let mut changed = 0;
    for (kid, private, wrapped, kek_id) in rows {
        let sealed = match (wrapped, kek_id) {
            (Some(wrapped_key), Some(kek_id)) => sealer
                .rewrap(
                    &Sealed {
                        secret: private,
                        wrapped_key,
                        kek_id,
                    },
                    &kid,
                )
                .map_err(|e| anyhow::anyhow!("signing key {kid}: {e}"))?,
            // Stored before sealing existed: the raw seed.
            _ => Some(sealer.seal(&private, &kid)),
        };
        if let Some(sealed) = sealed {
            sqlx::query(
                "UPDATE signing_keys SET private_key = $2, wrapped_key = $3, kek_id = $4 WHERE kid = $1",
            )
            .bind(&kid)
            .bind(&sealed.secret)
            .bind(&sealed.wrapped_key)
            .bind(&sealed.kek_id)
            .execute(&mut *tx)
            .await?;
            changed += 1;
        }
    }
    tx.commit().await?;
    Ok(changed)
}

/// The key to sign with: the newest usable one, created or rotated as needed.
pub async fn active(pool: &PgPool, sealer: &Sealer, token_ttl: Duration) -> Result<ActiveKey> {
    let current: Option<(OffsetDateTime, String)> = sqlx::query_as(
        "SELECT created_at, kid FROM signing_keys
         WHERE retired_at IS NULL AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    if let Some((created, kid)) = current
        && OffsetDateTime::now_utc() - created < ROTATE_AFTER
    {
        let stored: StoredKey = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE kid = $1"
        ))
        .bind(&kid)
        .fetch_one(pool)
        .await?;
        return decode(sealer, stored);
    }
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    // Another process may have done it while we waited for the lock.
    let fresh: Option<StoredKey> = sqlx::query_as(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys
         WHERE retired_at IS NULL AND revoked_at IS NULL AND created_at > now() - $1
         ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(ROTATE_AFTER)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(fresh) = fresh {
        tx.commit().await?;
        return decode(sealer, fresh);
    }
    let kid = replace(&mut tx, sealer, token_ttl).await?;
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
    let stored: StoredKey = sqlx::query_as(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys WHERE kid = $1"
    ))
    .bind(&kid)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    decode(sealer, stored)
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
    Option<OffsetDateTime>,
);

pub async fn list(pool: &PgPool, who: &Principal) -> Result<Vec<SigningKeyView>> {
    require_admin(who, "listing signing keys")?;
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT kid, algorithm, created_at, retired_at, publish_until, revoked_at FROM signing_keys
         ORDER BY created_at DESC LIMIT 50",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(kid, algorithm, created_at, retired_at, publish_until, revoked_at)| SigningKeyView {
                kid,
                algorithm,
                created_at,
                active: retired_at.is_none() && revoked_at.is_none(),
                retired_at,
                publish_until,
                revoked_at,
            },
        )
        .collect())
}

pub async fn rotate(
    pool: &PgPool,
    who: &Principal,
    sealer: &Sealer,
    token_ttl: Duration,
) -> Result<SigningKeyView> {
    require_admin(who, "rotating the signing key")?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    let kid = replace(&mut tx, sealer, token_ttl).await?;
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
        revoked_at: None,
        active: true,
    })
}

/// Revokes a compromised key: it leaves the JWKS, and every gateway's snapshot
/// within a second (NOTIFY), so every token it signed stops working. If it was
/// signing, a new key takes over in the same transaction.
pub async fn revoke(
    pool: &PgPool,
    who: &Principal,
    sealer: &Sealer,
    kid: &str,
) -> Result<SigningKeyView> {
    require_admin(who, "revoking a signing key")?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEY_LOCK)
        .execute(&mut *tx)
        .await?;
    let was: Option<(Option<OffsetDateTime>, Option<OffsetDateTime>)> =
        sqlx::query_as("SELECT retired_at, revoked_at FROM signing_keys WHERE kid = $1 FOR UPDATE")
            .bind(kid)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((retired_at, revoked_at)) = was else {
        return Err(steward_model::AppError::not_found("signing key").into());
    };
    if revoked_at.is_none() {
        sqlx::query(
            "UPDATE signing_keys SET revoked_at = now(), retired_at = coalesce(retired_at, now()),
                 publish_until = now()
             WHERE kid = $1",
        )
        .bind(kid)
        .execute(&mut *tx)
        .await?;
        let successor = if retired_at.is_none() {
            Some(insert_new(&mut tx, sealer).await?)
        } else {
            None
        };
        audit::record(
            &mut tx,
            &Actor::from(who),
            Change {
                action: "signing_key.revoke",
                target_type: "signing_key",
                target_id: kid.to_string(),
                before: Some(serde_json::json!({ "active": retired_at.is_none() })),
                after: Some(serde_json::json!({ "revoked": true, "successor": successor })),
            },
        )
        .await?;
        notify::changed(&mut tx, Kind::SigningKey, kid).await?;
    }
    let row: KeyRow = sqlx::query_as(
        "SELECT kid, algorithm, created_at, retired_at, publish_until, revoked_at FROM signing_keys
         WHERE kid = $1",
    )
    .bind(kid)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let (kid, algorithm, created_at, retired_at, publish_until, revoked_at) = row;
    Ok(SigningKeyView {
        kid,
        algorithm,
        created_at,
        active: false,
        retired_at,
        publish_until,
        revoked_at,
    })
}
