//! Sign-in throttling, per account and per client, over a sliding window kept in
//! PostgreSQL so that every control-plane process sees the same counts.

use crate::error::Result;
use sqlx::PgPool;
use steward_model::AppError;
use time::{Duration, OffsetDateTime};

/// The throttling key for a client: its IP address.
pub fn client_key(addr: Option<std::net::SocketAddr>) -> String {
    addr.map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

pub const WINDOW: Duration = Duration::minutes(15);
/// Failures per account within the window before further attempts get 429.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Failures per client address; higher, since one office may share an address.
pub const CLIENT_LIMIT: i64 = 20;

/// Refuses the attempt if either the account or the client is over its limit.
/// Runs before the password is checked, so a throttled guess reveals nothing.
pub async fn check(pool: &PgPool, account: &str, client: &str) -> Result<()> {
    let since = OffsetDateTime::now_utc() - WINDOW;
    let (account_failures, account_oldest, client_failures, client_oldest): (
        i64,
        Option<OffsetDateTime>,
        i64,
        Option<OffsetDateTime>,
    ) = sqlx::query_as(
        "SELECT
            count(*) FILTER (WHERE account = $1),
            min(at) FILTER (WHERE account = $1),
            count(*) FILTER (WHERE client = $2),
            min(at) FILTER (WHERE client = $2)
         FROM sign_in_failures
         WHERE at > $3 AND (account = $1 OR client = $2)",
    )
    .bind(account)
    .bind(client)
    .bind(since)
    .fetch_one(pool)
    .await?;
    let blocked_until = [
        (account_failures >= ACCOUNT_LIMIT)
            .then_some(account_oldest)
            .flatten(),
        (client_failures >= CLIENT_LIMIT)
            .then_some(client_oldest)
            .flatten(),
    ]
    .into_iter()
    .flatten()
    .map(|oldest| oldest + WINDOW)
    .max();
    match blocked_until {
        Some(until) => {
            let wait = (until - OffsetDateTime::now_utc()).whole_seconds().max(1);
            Err(AppError::TooManyRequests {
                retry_after_secs: wait as u64,
            }
            .into())
        }
        None => Ok(()),
    }
}

pub async fn record_failure(pool: &PgPool, account: &str, client: &str) -> Result<()> {
    sqlx::query("INSERT INTO sign_in_failures (account, client) VALUES ($1, $2)")
        .bind(account)
        .bind(client)
        .execute(pool)
        .await?;
    // Keep the table small; rows outside the window no longer matter.
    sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
        .bind(OffsetDateTime::now_utc() - WINDOW)
        .execute(pool)
        .await?;
    Ok(())
}

/// A successful sign-in forgives the account's earlier failures (not the client's).
pub async fn clear_account(pool: &PgPool, account: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE account = $1")
        .bind(account)
        .execute(pool)
        .await?;
    Ok(())
}
