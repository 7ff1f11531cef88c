//! Password hashing with Argon2id at the OWASP-recommended cost (m=19456 KiB, t=2,
//! p=1). Hashing is deliberately slow, so it always runs on the blocking pool,
//! never on an async worker (control plane).

use crate::error::Result;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::OnceLock;

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

pub async fn hash(password: String) -> Result<String> {
    let hashed = tokio::task::spawn_blocking(move || {
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
    let ok = tokio::task::spawn_blocking(move || {
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
