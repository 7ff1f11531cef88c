//! `/session`, `/me`, `/overview`: sign-in over JSON for scripts and tests, and who am I.
//! Part of the control plane.

use super::json::ApiJson;
use super::{ApiResult, Caller};
use crate::auth::session;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use http::StatusCode;
use std::net::SocketAddr;
use steward_model::{Overview, Principal, SignIn};
use tower_sessions::Session;

pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    ClientKey(client): ClientKey,
    ApiJson(form): ApiJson<SignIn>,
) -> ApiResult<ApiJson<Principal>> {
    Ok(ApiJson(
        session::sign_in(&state.pool, &session, &client, form).await?,
    ))
}

pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    Caller(who): Caller,
) -> ApiResult<StatusCode> {
    session::sign_out(&state.pool, &session, Some(&who)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(Caller(who): Caller) -> ApiJson<Principal> {
    ApiJson(who)
}

pub async fn overview(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Overview>> {
    Ok(ApiJson(crate::overview::load(&state.pool, &who).await?))
}

/// The caller's address as a throttling key.
pub struct ClientKey(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientKey(crate::auth::throttle::client_key(addr)))
    }
}
