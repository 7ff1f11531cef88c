//! Throttling of guessed secrets (sign-in passwords, OAuth client secrets) over a
//! sliding window kept in PostgreSQL, so that every control-plane process sees
//! the same counts (control plane).
//!
//! Failures count per (identity, source) and per source. A stranger's guesses
//! use up the stranger's allowance only: the identity's owner, from their own
//! address, can still get in. An IPv6 /64 (one site, often one device) is one
//! source, so that rotating through a prefix gains nothing.
//!
//! An attempt is reserved before its secret is checked, under a lock on its
//! source: parallel guesses are counted one after another, and no more than
//! the limit ever reach Argon2. A right secret gives its reservation back.

use crate::error::{Error, Result};
use sqlx::PgPool;
use std::net::{IpAddr, SocketAddr};
use steward_model::AppError;
use time::{Duration, OffsetDateTime};

/// The throttling key for a client: its IPv4 address, or its IPv6 /64.
pub fn client_key(addr: Option<SocketAddr>) -> String {
    match addr.map(|a| steward_shared::source::of(a.ip())) {
        Some(IpAddr::V6(prefix)) => format!("{prefix}/64"),
        Some(v4) => v4.to_string(),
        None => "unknown".to_string(),
    }
}

pub const WINDOW: Duration = Duration::minutes(15);
/// Failures for one identity from one source within the window before further
/// attempts get 429.
pub const ACCOUNT_LIMIT: i64 = 5;
/// Failures from one source, for any identities; higher, since one office may
/// share an address.
pub const CLIENT_LIMIT: i64 = 20;

/// Runs `check` (which verifies the secret: `Some` when it is right) as one
/// throttled attempt by `client` on `account`. Refused with 429 before the
/// secret is looked at if either allowance is spent, so a throttled guess
/// reveals nothing. An error from `check` (the server busy, the database away)
/// is no guess at all, and gives its reservation back.
pub async fn attempt<T>(
    pool: &PgPool,
    account: &str,
    client: &str,
    check: impl Future<Output = Result<Option<T>>>,
) -> Result<Option<T>> {
    let reserved = reserve(pool, account, client).await?;
    let outcome = check.await;
    match &outcome {
        // Right: the reservation goes, and so do the identity's earlier
        // failures from this source (not the source's other ones).
        Ok(Some(_)) => {
            sqlx::query(
                "DELETE FROM sign_in_failures WHERE id = $1 OR (account = $2 AND client = $3)",
            )
            .bind(reserved)
            .bind(account)
            .bind(client)
            .execute(pool)
            .await?;
        }
        // Wrong: the reservation stays as the failure. Rows outside the window
        // no longer matter; pruning here keeps the table small.
        Ok(None) => {
            sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
                .bind(OffsetDateTime::now_utc() - WINDOW)
                .execute(pool)
                .await?;
        }
        Err(_) => {
            sqlx::query("DELETE FROM sign_in_failures WHERE id = $1")
                .bind(reserved)
                .execute(pool)
                .await?;
        }
    }
    outcome
}

/// Counts and reserves in one transaction, under a lock on the source: every
/// count that matters to this attempt is keyed by its source, so two guesses
/// from one source can never both see room for one more.
async fn reserve(pool: &PgPool, account: &str, client: &str) -> Result<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('steward-throttle:' || $1, 0))")
        .bind(client)
        .execute(&mut *tx)
        .await?;
    let since = OffsetDateTime::now_utc() - WINDOW;
    let (account_failures, account_oldest, client_failures, client_oldest): (
        i64,
        Option<OffsetDateTime>,
        i64,
        Option<OffsetDateTime>,
    ) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE account = $1), min(at) FILTER (WHERE account = $1),
                count(*), min(at)
         FROM sign_in_failures
         WHERE client = $2 AND at > $3",
    )
    .bind(account)
    .bind(client)
    .bind(since)
    .fetch_one(&mut *tx)
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
    if let Some(until) = blocked_until {
        let wait = (until - OffsetDateTime::now_utc()).whole_seconds().max(1);
        return Err(Error::App(AppError::TooManyRequests {
            retry_after_secs: wait as u64,
        }));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sign_in_failures (account, client) VALUES ($1, $2) RETURNING id",
    )
    .bind(account)
    .bind(client)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_is_one_source() {
        let key = |s: &str| client_key(Some(s.parse().unwrap()));
        assert_eq!(key("203.0.113.9:5000"), "203.0.113.9");
        assert_eq!(key("[::ffff:203.0.113.9]:5000"), "203.0.113.9");
        assert_eq!(
            key("[2001:db8:7:1::17]:443"),
            key("[2001:db8:7:1:ffff:1:2:3]:443")
        );
        assert_eq!(key("[2001:db8:7:1::17]:443"), "2001:db8:7:1::/64");
        assert_ne!(key("[2001:db8:7:1::17]:443"), key("[2001:db8:7:2::17]:443"));
        assert_eq!(client_key(None), "unknown");
    }
}
