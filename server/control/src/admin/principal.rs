//! Request authentication middleware: resolves a bearer access token or the session
//! cookie to a [`Principal`] in the request extensions. It never rejects a request
//! for lack of credentials (pages and handlers decide that), only for a bearer
//! token that is present but not valid (control plane).

use crate::admin::problem::ApiError;
use crate::auth::{session, tokens};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::AUTHORIZATION;
use steward_model::AppError;
use tower_sessions::Session;

pub fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let resolved = if let Some(token) = bearer(&req) {
        match tokens::authenticate(&state.pool, token).await {
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => return ApiError(AppError::Unauthorized).into_response(),
            Err(e) => Err(e),
        }
    } else if let Some(s) = req.extensions().get::<Session>().cloned() {
        session::resolve(&state.pool, &s).await
    } else {
        Ok(None)
    };
    match resolved {
        Ok(Some(principal)) => {
            tracing::Span::current().record("user", principal.email.as_str());
            req.extensions_mut().insert(principal);
        }
        Ok(None) => {}
        Err(e) => return ApiError(e.into_app()).into_response(),
    }
    next.run(req).await
}
