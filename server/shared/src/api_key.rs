//! The API key format, shared by the control plane (which issues keys) and the
//! gateway (which checks them).
//!
//! A key reads `stw_live_<lookup-id>_<secret>` (`stw_test_` in the sandbox): a
//! 12-character lookup id in `[0-9a-z]` and 64 hex characters (256 random bits) of
//! secret. The prefix makes leaked keys findable; secret scanners can use
//! [`PATTERN`]. Only the lookup id and a SHA-256 digest of the secret are stored:
//! a fast digest is enough for 256 random bits, and it lets the gateway check a
//! key without Argon2 and without a database round trip.

use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use steward_model::Environment;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

/// A regular expression that matches Steward API keys, for secret scanners.
pub const PATTERN: &str = r"\bstw_(live|test)_[0-9a-z]{12}_[0-9a-f]{64}\b";
pub const LOOKUP_LEN: usize = 12;
/// The public part of a key, fixed in size: the key of the gateway's key map,
/// stored inline instead of as one more allocation per key.
pub type LookupId = [u8; LOOKUP_LEN];
pub const SECRET_LEN: usize = 64;

pub fn env_prefix(environment: Environment) -> &'static str {
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
pub fn generate(environment: Environment) -> (String, [u8; 32], String) {
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

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

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
