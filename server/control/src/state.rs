//! Shared state of the control plane's HTTP handlers and of the console's
//! server functions.

use crate::oauth::OAuthConfig;
use sqlx::PgPool;
use std::sync::Arc;
use steward_shared::usage::UsageRecorder;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub oauth: Arc<OAuthConfig>,
    /// Batches credential "last used" stamps.
    pub usage: UsageRecorder,
}
