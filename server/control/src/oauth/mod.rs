//! Steward as an OAuth2 authorization server for partner applications: the
//! client-credentials grant (RFC 6749 §4.4), JWT access tokens (RFC 9068) signed
//! with rotating Ed25519 keys, the JWKS, and server metadata (RFC 8414) (control plane).

pub mod signing;
pub mod token;

pub use crate::state::OAuthConfig;
