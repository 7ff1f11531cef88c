//! Envelope encryption of secrets at rest, the token signing keys first (control plane).
//!
//! Each private key is encrypted (ChaCha20-Poly1305) with a data key of its
//! own, and the data key with the operator's key-encryption key (KEK), which
//! never enters the database: a copy of the database alone signs nothing. The
//! KEK comes from `STEWARD_KEY_ENCRYPTION_KEY` or a file. Rotating it means
//! starting with the new key and the old one among the previous keys: every
//! data key is rewrapped at start, and the old key can then be dropped. The
//! key's id (the start of its SHA-256) is stored beside each wrapped key, so
//! that a wrong key is named as such instead of failing as garbage.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const NONCE: usize = 12;

/// A key-encryption key and its id.
#[derive(Clone)]
pub struct Kek {
    id: String,
    cipher: ChaCha20Poly1305,
}

impl Kek {
    pub fn new(bytes: [u8; 32]) -> Kek {
        Kek {
            id: hex::encode(&Sha256::digest(bytes)[..8]),
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A KEK from its base64 text (32 bytes).
    pub fn from_base64(text: &str) -> Result<Kek, String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| format!("not base64: {e}"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            "a key-encryption key is 32 bytes (44 characters of base64)".to_string()
        })?;
        Ok(Kek::new(bytes))
    }
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.id)
    }
}

/// A secret as stored: encrypted under its data key, and the data key wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Nonce, then the ciphertext of the secret.
    pub secret: Vec<u8>,
    /// Nonce, then the ciphertext of the data key.
    pub wrapped_key: Vec<u8>,
    pub kek_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(
        "the signing keys were sealed with key-encryption key {stored}, which is not configured (current: {current}); set STEWARD_KEY_ENCRYPTION_KEY to it, or list it in STEWARD_PREVIOUS_KEY_ENCRYPTION_KEYS"
    )]
    UnknownKek { stored: String, current: String },
    #[error("a sealed signing key does not decrypt: it was altered, or sealed for another key")]
    Corrupt,
}

/// The current KEK, which seals, and previous ones, which only open (during a
/// rotation).
#[derive(Debug, Clone)]
pub struct Sealer {
    current: Kek,
    previous: Vec<Kek>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn encrypt(cipher: &ChaCha20Poly1305, plain: &[u8], label: &[u8]) -> Vec<u8> {
    let nonce = random::<NONCE>();
    let mut out = nonce.to_vec();
    // Encrypting a few dozen bytes in memory cannot fail.
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: label,
            },
        )
        .unwrap_or_default();
    out.extend_from_slice(&sealed);
    out
}

fn decrypt(cipher: &ChaCha20Poly1305, sealed: &[u8], label: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() < NONCE {
        return Err(SealError::Corrupt);
    }
    let (nonce, body) = sealed.split_at(NONCE);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: label,
            },
        )
        .map_err(|_| SealError::Corrupt)
}

impl Sealer {
    pub fn new(current: Kek, previous: Vec<Kek>) -> Sealer {
        Sealer { current, previous }
    }

    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `secret`, bound to `label` (the key's id): a sealed key moved to
    /// another row does not open there.
    pub fn seal(&self, secret: &[u8], label: &str) -> Sealed {
        let data_key = random::<32>();
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&data_key));
        Sealed {
            secret: encrypt(&cipher, secret, label.as_bytes()),
            wrapped_key: encrypt(&self.current.cipher, &data_key, label.as_bytes()),
            kek_id: self.current.id.clone(),
        }
    }

    fn kek(&self, id: &str) -> Result<&Kek, SealError> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SealError::UnknownKek {
                stored: id.to_string(),
                current: self.current.id.clone(),
            })
    }

    pub fn open(&self, sealed: &Sealed, label: &str) -> Result<Vec<u8>, SealError> {
        let kek = self.kek(&sealed.kek_id)?;
        let data_key = decrypt(&kek.cipher, &sealed.wrapped_key, label.as_bytes())?;
        if data_key.len() != 32 {
            return Err(SealError::Corrupt);
        }
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&data_key));
        decrypt(&cipher, &sealed.secret, label.as_bytes())
    }

    /// The same secret with its data key wrapped by the current KEK; `None` if
    /// it already is.
    pub fn rewrap(&self, sealed: &Sealed, label: &str) -> Result<Option<Sealed>, SealError> {
        if sealed.kek_id == self.current.id {
            return Ok(None);
        }
        let kek = self.kek(&sealed.kek_id)?;
        let data_key = decrypt(&kek.cipher, &sealed.wrapped_key, label.as_bytes())?;
        Ok(Some(Sealed {
            secret: sealed.secret.clone(),
            wrapped_key: encrypt(&self.current.cipher, &data_key, label.as_bytes()),
            kek_id: self.current.id.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_label() {
        let sealer = Sealer::new(Kek::new([7; 32]), Vec::new());
        let sealed = sealer.seal(b"an ed25519 seed of 32 bytes.....", "kid-1");
        assert_ne!(&sealed.secret[NONCE..], b"an ed25519 seed of 32 bytes.....");
        assert_eq!(
            sealer.open(&sealed, "kid-1").unwrap(),
            b"an ed25519 seed of 32 bytes....."
        );
        assert!(matches!(
            sealer.open(&sealed, "kid-2"),
            Err(SealError::Corrupt)
        ));
        let mut altered = sealed.clone();
        altered.secret[NONCE] ^= 1;
        assert!(matches!(
            sealer.open(&altered, "kid-1"),
            Err(SealError::Corrupt)
        ));
        let stranger = Sealer::new(Kek::new([8; 32]), Vec::new());
        assert!(matches!(
            stranger.open(&sealed, "kid-1"),
            Err(SealError::UnknownKek { .. })
        ));
    }

    #[test]
    fn rotation_rewraps_under_the_new_key() {
        let old = Sealer::new(Kek::new([1; 32]), Vec::new());
        let sealed = old.seal(b"secret", "k");
        let rotating = Sealer::new(Kek::new([2; 32]), vec![Kek::new([1; 32])]);
        assert_eq!(rotating.open(&sealed, "k").unwrap(), b"secret");
        let rewrapped = rotating.rewrap(&sealed, "k").unwrap().expect("rewrapped");
        assert_eq!(rewrapped.kek_id, rotating.current_id());
        assert_eq!(rotating.rewrap(&rewrapped, "k").unwrap(), None);
        let done = Sealer::new(Kek::new([2; 32]), Vec::new());
        assert_eq!(done.open(&rewrapped, "k").unwrap(), b"secret");
    }

    #[test]
    fn keks_come_as_base64_of_32_bytes() {
        assert!(Kek::from_base64(&"A".repeat(43)).is_err());
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32]);
        assert_eq!(
            Kek::from_base64(&text).unwrap().id(),
            Kek::new([9; 32]).id()
        );
    }
}
