//! API keys for partner applications.
//!
//! A key reads `stw_live_<lookup-id>_<secret>` (`stw_test_` in the sandbox): a
//! 12-character lookup id in `[0-9a-z]` and 64 hex characters (256 random bits) of
//! secret. The prefix makes leaked keys findable; secret scanners can use
//! [`PATTERN`]. Only the lookup id and a SHA-256 digest of the secret are stored:
//! a fast digest is enough for 256 random bits, and it lets the gateway check a
//! key without Argon2 and without a database round trip.

use super::notify::{self, Kind};
use super::{applications, require_admin, snapshot};
use crate::audit::{self, Actor, Change};
use crate::auth::tokens::random_hex;
use crate::error::Result;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use steward_console::model::{
    ApiKeyView, AppError, Checks, CreatedApiKey, CredentialStatus, Environment, NewApiKey,
    Principal, RotatedApiKey, Rotation,
};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A regular expression that matches Steward API keys, for secret scanners.
pub const PATTERN: &str = r"\bstw_(live|test)_[0-9a-z]{12}_[0-9a-f]{64}\b";
const LOOKUP_LEN: usize = 12;
/// The public part of a key, fixed in size: the key of the gateway's key map,
/// stored inline instead of as one more allocation per key.
pub type LookupId = [u8; LOOKUP_LEN];
const SECRET_LEN: usize = 64;
/// The longest rotation overlap: a month is plenty to roll a key through a fleet.
pub const MAX_OVERLAP_HOURS: u32 = 720;

fn env_prefix(environment: Environment) -> &'static str {
    match environment {
        Environment::Production => "stw_live_",
        Environment::Sandbox => "stw_test_",
    }
}

/// A key split into its parts, borrowed from the presented string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented<'a> {
    pub environment: Environment,
    pub lookup_id: &'a str,
    pub secret: &'a str,
}

/// Splits a presented key without allocating. Anything not exactly in the key
/// format is `None`, so garbage never reaches a lookup.
pub fn parse(key: &str) -> Option<Presented<'_>> {
    let (environment, rest) = if let Some(rest) = key.strip_prefix("stw_live_") {
        (Environment::Production, rest)
    } else {
        (Environment::Sandbox, key.strip_prefix("stw_test_")?)
    };
    if rest.len() != LOOKUP_LEN + 1 + SECRET_LEN || rest.as_bytes()[LOOKUP_LEN] != b'_' {
        return None;
    }
    let (lookup_id, secret) = (&rest[..LOOKUP_LEN], &rest[LOOKUP_LEN + 1..]);
    // Every gateway request checks a key's form, so these fold over all the
    // bytes rather than stop at the first bad one: with no early exit the
    // compiler can vectorise the check, and a malformed key is rare enough
    // that stopping early would save nothing that matters.
    let lookup_ok = lookup_id.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_digit() | b.is_ascii_lowercase())
    });
    let secret_ok = secret.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_digit() | (b'a'..=b'f').contains(&b))
    });
    (lookup_ok && secret_ok).then_some(Presented {
        environment,
        lookup_id,
        secret,
    })
}

pub fn secret_digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn lookup_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    (0..LOOKUP_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A fresh key: (lookup id, digest of the secret, the whole key to show once).
fn generate(environment: Environment) -> (String, [u8; 32], String) {
    let lookup = lookup_id();
    let secret = random_hex(SECRET_LEN / 2);
    let whole = format!("{}{lookup}_{secret}", env_prefix(environment));
    (lookup, secret_digest(&secret), whole)
}

impl Presented<'_> {
    /// The lookup id as the key map's key; `parse` only ever yields ones that fit.
    pub fn lookup(&self) -> Option<LookupId> {
        LookupId::try_from(self.lookup_id.as_bytes()).ok()
    }
}

/// What a gateway keeps in memory for one usable key (its lookup id is the key
/// of the map that holds it).
#[derive(Debug, Clone)]
pub struct ActiveKey {
    pub id: Uuid,
    pub digest: [u8; 32],
    pub application_id: Uuid,
    pub environment: Environment,
    pub expires_at: Option<OffsetDateTime>,
}

impl ActiveKey {
    /// Checks a presented key against this one, in constant time for the secret.
    pub fn accepts(&self, presented: &Presented<'_>, now: OffsetDateTime) -> bool {
        let digest_ok: bool = secret_digest(presented.secret).ct_eq(&self.digest).into();
        digest_ok
            && presented.environment == self.environment
            && self.expires_at.is_none_or(|at| at > now)
    }
}

/// Every usable key by lookup id. Rows stream straight into the map: a gateway
/// loading 100,000 keys never holds a second copy of them, which the allocator
/// would keep as resident memory after the load.
pub async fn load_active<S: std::hash::BuildHasher + Default>(
    pool: &PgPool,
) -> Result<std::collections::HashMap<LookupId, ActiveKey, S>> {
    use futures_util::TryStreamExt;
    // One definition of a usable key for both statements below.
    const USABLE: &str = "FROM api_keys
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())";
    // Sized up front: a map grown by doubling leaves each smaller table it
    // outgrew to the allocator, which keeps them resident beside the final one.
    // The count is only a capacity: a key added in between grows the map once.
    let (count,): (i64,) = sqlx::query_as(&format!("SELECT count(*) {USABLE}"))
        .fetch_one(pool)
        .await?;
    let select =
        format!("SELECT id, lookup_id, digest, application_id, environment, expires_at {USABLE}");
    let mut rows =
        sqlx::query_as::<_, (Uuid, String, Vec<u8>, Uuid, String, Option<OffsetDateTime>)>(&select)
            .fetch(pool);
    let mut keys =
        std::collections::HashMap::with_capacity_and_hasher(count.max(0) as usize, S::default());
    while let Some((id, lookup_id, digest, application_id, env, expires_at)) =
        rows.try_next().await?
    {
        let (Ok(lookup), Ok(digest), Some(environment)) = (
            LookupId::try_from(lookup_id.as_bytes()),
            <[u8; 32]>::try_from(digest),
            Environment::parse(&env),
        ) else {
            continue;
        };
        keys.insert(
            lookup,
            ActiveKey {
                id,
                digest,
                application_id,
                environment,
                expires_at,
            },
        );
    }
    keys.shrink_to_fit();
    Ok(keys)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_match_the_documented_pattern() {
        for env in [Environment::Production, Environment::Sandbox] {
            let (lookup, digest, whole) = generate(env);
            let parsed = parse(&whole).expect("a generated key parses");
            assert_eq!(parsed.environment, env);
            assert_eq!(parsed.lookup_id, lookup);
            assert_eq!(secret_digest(parsed.secret), digest);
            assert_eq!(parsed.secret.len() * 4, 256, "256 bits of secret");
            let shape = whole.starts_with(env_prefix(env))
                && whole.len() == env_prefix(env).len() + LOOKUP_LEN + 1 + SECRET_LEN;
            assert!(shape, "{whole}");
        }
    }

    #[test]
    fn malformed_keys_are_refused_without_panicking() {
        let good = generate(Environment::Production).2;
        for bad in [
            "",
            "stw_live_",
            "stw_prod_0123456789ab_00",
            &good[..good.len() - 1],
            &format!("{good}0"),
            &good.replace("stw_live_", "stw_test_").replacen('_', "-", 1),
            &good.to_uppercase(),
            "stw_live_0123456789ab_ééééééééééééééééééééééééééééééééé",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn an_active_key_checks_secret_environment_and_expiry() {
        let (lookup, digest, whole) = generate(Environment::Sandbox);
        let now = OffsetDateTime::now_utc();
        assert_eq!(parse(&whole).unwrap().lookup().unwrap(), lookup.as_bytes());
        let mut key = ActiveKey {
            id: Uuid::new_v4(),
            digest,
            application_id: Uuid::new_v4(),
            environment: Environment::Sandbox,
            expires_at: Some(now + Duration::hours(1)),
        };
        let presented = parse(&whole).expect("parses");
        assert!(key.accepts(&presented, now));
        let other = generate(Environment::Sandbox).2;
        let forged = format!(
            "{}{}",
            &whole[..whole.len() - 64],
            &other[other.len() - 64..]
        );
        assert!(!key.accepts(&parse(&forged).expect("parses"), now));
        key.expires_at = Some(now - Duration::seconds(1));
        assert!(!key.accepts(&presented, now));
    }
}
