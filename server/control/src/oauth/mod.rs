//! Steward as an OAuth2 authorization server for partner applications: the
//! client-credentials grant (RFC 6749 §4.4), JWT access tokens (RFC 9068) signed
//! with rotating Ed25519 keys, the JWKS, and server metadata (RFC 8414).

pub mod clients;
pub mod signing;
pub mod token;

use time::Duration;

/// How tokens are minted. `issuer` is the public base URL of the control plane.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub issuer: String,
    pub audience: String,
    pub token_ttl: Duration,
}

impl OAuthConfig {
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.issuer)
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }
}
