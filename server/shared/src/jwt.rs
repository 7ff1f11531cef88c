//! Compact JWS with EdDSA (Ed25519), just what RFC 9068 access tokens need.
//! Signing is a few microseconds and verification needs only the public keys, so
//! gateways check tokens locally without calling the authorization server (shared by both planes).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// RFC 9068 §2.2 claims, plus which consumer and environment the token is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    /// Space-separated, as in RFC 8693 §4.2.
    pub scope: String,
    pub consumer: String,
    pub application: String,
    pub env: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// The RFC 7638 thumbprint of an Ed25519 public key: a stable, self-certifying `kid`.
pub fn thumbprint(public: &VerifyingKey) -> String {
    let x = B64.encode(public.as_bytes());
    // Members in lexicographic order, no whitespace, as RFC 7638 §3 requires.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// The public key as a JWK (RFC 8037), for the JWKS.
pub fn jwk(kid: &str, public: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": B64.encode(public.as_bytes()),
        "kid": kid,
        "use": "sig",
        "alg": "EdDSA",
    })
}

pub fn sign(kid: &str, key: &SigningKey, claims: &AccessClaims) -> String {
    let header = Header {
        alg: "EdDSA".into(),
        typ: "at+jwt".into(),
        kid: kid.into(),
    };
    // Serialising these plain structs cannot fail.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = String::with_capacity(512);
    B64.encode_string(header, &mut token);
    token.push('.');
    B64.encode_string(claims, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    B64.encode_string(signature.to_bytes(), &mut token);
    token
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token is for another issuer or audience")]
    WrongAudience,
}

/// Verifies signature, type, issuer, audience and lifetime. `key_of` finds a
/// public key by `kid`; `now` is Unix seconds. A minute of clock skew is allowed.
pub fn verify<'k>(
    token: &str,
    key_of: impl Fn(&str) -> Option<&'k VerifyingKey>,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<AccessClaims, VerifyError> {
    const SKEW: i64 = 60;
    let mut parts = token.splitn(3, '.');
    let (Some(h), Some(c), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VerifyError::Malformed);
    };
    let header: Header = B64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(VerifyError::Malformed)?;
    if header.alg != "EdDSA" || !header.typ.eq_ignore_ascii_case("at+jwt") {
        return Err(VerifyError::Malformed);
    }
    let key = key_of(&header.kid).ok_or(VerifyError::UnknownKey)?;
    let signature: [u8; 64] = B64
        .decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyError::Malformed)?;
    let signed = &token[..h.len() + 1 + c.len()];
    key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| VerifyError::BadSignature)?;
    let claims: AccessClaims = B64
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(VerifyError::Malformed)?;
    if claims.iss != issuer || claims.aud != audience {
        return Err(VerifyError::WrongAudience);
    }
    if claims.exp + SKEW <= now {
        return Err(VerifyError::Expired);
    }
    if claims.nbf - SKEW > now {
        return Err(VerifyError::NotYetValid);
    }
    Ok(claims)
}

/// Public keys that verify some unexpired token: the JWKS.
pub async fn published_keys(
    pool: &sqlx::PgPool,
) -> Result<Vec<(String, VerifyingKey)>, sqlx::Error> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, public_key FROM signing_keys
         WHERE revoked_at IS NULL AND (retired_at IS NULL OR publish_until > now())
         ORDER BY created_at DESC",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kid, public)| {
            let bytes: [u8; 32] = public.try_into().ok()?;
            Some((kid, VerifyingKey::from_bytes(&bytes).ok()?))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> AccessClaims {
        AccessClaims {
            iss: "https://steward.example".into(),
            sub: "stwc_abc".into(),
            aud: "steward-gateway".into(),
            exp: now + 3600,
            iat: now,
            nbf: now,
            jti: "j1".into(),
            client_id: "stwc_abc".into(),
            scope: "orders:read".into(),
            consumer: "acme".into(),
            application: "a".into(),
            env: "production".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_tampering_is_caught() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key();
        let kid = thumbprint(&public);
        let now = 1_800_000_000;
        let token = sign(&kid, &key, &claims(now));
        let find = |k: &str| (k == kid).then_some(&public);
        let iss = "https://steward.example";
        assert_eq!(
            verify(&token, find, iss, "steward-gateway", now),
            Ok(claims(now))
        );
        assert_eq!(
            verify(&token, find, iss, "steward-gateway", now + 3700),
            Err(VerifyError::Expired)
        );
        assert_eq!(
            verify(&token, find, iss, "other", now),
            Err(VerifyError::WrongAudience)
        );
        assert_eq!(
            verify(&token, |_| None, iss, "steward-gateway", now),
            Err(VerifyError::UnknownKey)
        );
        let mut forged = claims(now);
        forged.scope = "orders:read orders:write".into();
        let body = B64.encode(serde_json::to_vec(&forged).unwrap_or_default());
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &body;
        assert_eq!(
            verify(&parts.join("."), find, iss, "steward-gateway", now),
            Err(VerifyError::BadSignature)
        );
        for junk in ["", "a.b", "a.b.c", "...."] {
            assert!(verify(junk, find, iss, "steward-gateway", now).is_err());
        }
    }

    #[test]
    fn the_thumbprint_follows_rfc_7638() {
        // RFC 8037 Appendix A.3: the thumbprint of its example Ed25519 key.
        let x = B64
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap_or_default();
        let public = VerifyingKey::from_bytes(&x.try_into().unwrap_or([0; 32]))
            .expect("the RFC's key is valid");
        assert_eq!(
            thumbprint(&public),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
