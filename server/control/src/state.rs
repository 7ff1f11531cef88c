//! Shared state of the control plane's HTTP handlers and of the console's
//! server functions.

use sqlx::PgPool;
use std::sync::Arc;
use steward_shared::usage::UsageRecorder;
use time::Duration;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub oauth: Arc<OAuthConfig>,
    /// Batches credential "last used" stamps.
    pub usage: UsageRecorder,
}

/// How tokens are minted. `issuer` is the public base URL of the control plane.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub issuer: String,
    pub audience: String,
    pub token_ttl: Duration,
    /// Seals and opens the signing keys stored in the database.
    pub sealer: crate::sealing::Sealer,
}

impl OAuthConfig {
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.issuer)
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }
}
