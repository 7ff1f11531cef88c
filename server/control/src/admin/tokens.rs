//! `/tokens`: the caller's personal access tokens (control plane).

use super::json::ApiJson;
use super::{ApiResult, Caller, Id};
use crate::auth::tokens;
use crate::state::AppState;
use axum::extract::State;
use http::StatusCode;
use steward_model::{CreatedToken, NewToken, TokenView};

pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<TokenView>>> {
    Ok(ApiJson(tokens::list(&s.pool, &who).await?))
}

pub async fn create_token(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, ApiJson<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(tokens::create(&s.pool, &who, new).await?),
    ))
}

pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<TokenView>> {
    Ok(ApiJson(tokens::revoke(&s.pool, &who, id).await?))
}
