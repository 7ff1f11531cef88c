//! Password hashing with Argon2id at the OWASP-recommended cost (m=19456 KiB, t=2,
//! p=1). Hashing is deliberately slow, so it always runs on the blocking pool,
//! never on an async worker, and only a few run at once: each takes 19 MiB, and
//! a flood of guesses must not turn into a flood of allocations. A caller who
//! cannot get a turn within a second is told the server is busy (503 with
//! `Retry-After`), before anything is checked or counted (control plane).

use crate::error::Result;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::OnceLock;
use std::time::Duration;
use steward_model::AppError;
use tokio::sync::{Semaphore, SemaphorePermit};

pub const MIN_LENGTH: usize = 12;
/// Argon2 accepts any length; an upper bound keeps a huge input from being a cheap DoS.
pub const MAX_LENGTH: usize = 1024;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("static Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Why a new password is unacceptable, if it is.
pub fn weakness(password: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        Some("use at least 12 characters")
    } else if password.len() > MAX_LENGTH {
        Some("use at most 1024 bytes")
    } else {
        None
    }
}

/// How long a verification or hash waits for a turn before the caller is told
/// the server is busy.
pub const WAIT: Duration = Duration::from_secs(1);

/// Argon2 runs at once: two per core (one computing while the other's task is
/// scheduled), at most 16, so at most 300 MiB.
fn turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new((2 * cores).clamp(2, 16))
    })
}

/// A turn to run Argon2, waiting at most `wait` for one.
async fn turn(wait: Duration) -> Result<SemaphorePermit<'static>> {
    match tokio::time::timeout(wait, turns().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(AppError::Busy {
            retry_after_secs: 1,
        }
        .into()),
    }
}

pub async fn hash(password: String) -> Result<String> {
    // The turn goes with the work: a caller that goes away mid-hash does not
    // free a turn the hash is still using.
    let turn = turn(WAIT).await?;
    let hashed = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hashed)
}

/// Verifies against a stored hash. A malformed stored hash counts as a mismatch.
pub async fn verify(password: String, stored: String) -> Result<bool> {
    verify_within(password, stored, WAIT).await
}

async fn verify_within(password: String, stored: String, wait: Duration) -> Result<bool> {
    let turn = turn(wait).await?;
    let ok = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        if password.len() > MAX_LENGTH {
            return false;
        }
        PasswordHash::new(&stored)
            .map(|parsed| {
                hasher()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(ok)
}

/// A real hash of a random password, verified against when the email is unknown so
/// that an unknown account costs the same time as a wrong password.
pub async fn decoy() -> Result<String> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DECOY.get() {
        return Ok(h.clone());
    }
    let h = hash(crate::auth::tokens::random_hex(16)).await?;
    Ok(DECOY.get_or_init(|| h).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verifications_beyond_the_bound_are_told_the_server_is_busy() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        let capacity = turns().available_permits();
        let tries: Vec<_> = (0..capacity + 8)
            .map(|_| {
                let stored = stored.clone();
                tokio::spawn(verify_within(
                    "a wrong guess".into(),
                    stored,
                    Duration::ZERO,
                ))
            })
            .collect();
        let mut busy = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(matched) => assert!(!matched),
                Err(e) => {
                    assert!(matches!(e.into_app(), AppError::Busy { .. }));
                    busy += 1;
                }
            }
        }
        assert!(busy >= 8, "{busy} of {} were turned away", capacity + 8);
        // Turns come back: the next verification runs.
        assert!(
            verify("correct horse battery".into(), stored)
                .await
                .unwrap()
        );
    }
}
