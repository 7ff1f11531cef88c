//! Shared state of the control plane's HTTP handlers.

use crate::oauth::OAuthConfig;
use crate::partners::usage::UsageRecorder;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::sync::Arc;
use steward_console::ports::Backend;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub leptos: LeptosOptions,
    /// The console's port to the services, handed to Leptos as context.
    pub console: Backend,
    pub oauth: Arc<OAuthConfig>,
    /// Batches credential "last used" stamps.
    pub usage: UsageRecorder,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
