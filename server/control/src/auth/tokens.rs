//! Personal access tokens for the admin API. A token is `stwp_` plus 256 random
//! bits in hex; only its SHA-256 digest is stored, so a database leak does not
//! leak usable tokens. The token acts with its owner's current role (control plane).

use crate::audit::{self, Actor, Change};
use crate::error::Result;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use steward_model::{
    AppError, AuthMethod, Checks, CreatedToken, NewToken, Principal, Role, TokenView,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const PREFIX: &str = "stwp_";
/// Shown in lists: the prefix plus a few characters, enough to tell tokens apart.
const SHOWN: usize = PREFIX.len() + 8;

pub use steward_shared::api_key::random_hex;

pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    name: String,
    prefix: String,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl From<TokenRow> for TokenView {
    fn from(r: TokenRow) -> Self {
        TokenView {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

const COLUMNS: &str = "id, name, prefix, created_at, expires_at, last_used_at, revoked_at";

/// Resolves a bearer token to its owner. Unknown, revoked, expired tokens and
/// tokens of disabled users all resolve to `None`.
pub async fn authenticate(pool: &PgPool, token: &str) -> Result<Option<Principal>> {
    if !token.starts_with(PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    // The lookup is by digest of a 256-bit secret, so an index probe cannot be
    // turned into a timing oracle on the secret itself.
    let row: Option<(Uuid, Uuid, String, String, String)> = sqlx::query_as(
        "SELECT t.id, u.id, u.email, u.display_name, u.role
         FROM access_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.digest = $1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > now())
           AND u.disabled_at IS NULL",
    )
    .bind(digest(token))
    .fetch_optional(pool)
    .await?;
    let Some((token_id, user_id, email, display_name, role)) = row else {
        return Ok(None);
    };
    // At most one write a minute per token: enough to show "last used".
    sqlx::query(
        "UPDATE access_tokens SET last_used_at = now()
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(token_id)
    .execute(pool)
    .await?;
    Ok(Some(Principal {
        user_id,
        email,
        display_name,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        auth: AuthMethod::AccessToken,
    }))
}

pub async fn list(pool: &PgPool, who: &Principal) -> Result<Vec<TokenView>> {
    let sql =
        format!("SELECT {COLUMNS} FROM access_tokens WHERE user_id = $1 ORDER BY created_at DESC");
    let rows: Vec<TokenRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(TokenView::from).collect())
}

/// Any signed-in user may create tokens for themselves.
pub async fn create(pool: &PgPool, who: &Principal, new: NewToken) -> Result<CreatedToken> {
    let name = new.name.trim();
    Checks::new()
        .text(name, "name", "a name", 100)
        .check(
            new.expires_in_days.is_none_or(|d| (1..=3650).contains(&d)),
            "expires_in_days",
            "choose between 1 and 3650 days, or none",
        )
        .finish()?;
    let secret = format!("{PREFIX}{}", random_hex(32));
    let expires_at = new
        .expires_in_days
        .map(|d| OffsetDateTime::now_utc() + Duration::days(i64::from(d)));
    let mut tx = pool.begin().await?;
    let sql = format!(
        "INSERT INTO access_tokens (id, user_id, name, prefix, digest, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    );
    let row: TokenRow = sqlx::query_as(&sql)
        .bind(Uuid::new_v4())
        .bind(who.user_id)
        .bind(name)
        .bind(&secret[..SHOWN])
        .bind(digest(&secret))
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
    let token = TokenView::from(row);
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "token.create",
            target_type: "access_token",
            target_id: token.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&token).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { token, secret })
}

/// Revokes at once. Users revoke their own tokens; admins may revoke anyone's.
pub async fn revoke(pool: &PgPool, who: &Principal, id: Uuid) -> Result<TokenView> {
    let mut tx = pool.begin().await?;
    let owner: Option<Uuid> = sqlx::query_scalar("SELECT user_id FROM access_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    match owner {
        None => return Err(AppError::not_found("token").into()),
        Some(owner) if owner != who.user_id && who.role != Role::Admin => {
            // Same answer as a missing token: others' token ids are not disclosed.
            return Err(AppError::not_found("token").into());
        }
        Some(_) => {}
    }
    let sql = format!(
        "UPDATE access_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING {COLUMNS}"
    );
    let row: TokenRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
    let token = TokenView::from(row);
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "token.revoke",
            target_type: "access_token",
            target_id: id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&token).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}
