//! `/users`: admins manage console users.

use super::json::ApiJson;
use super::{ApiResult, Caller, Id};
use crate::auth::users;
use crate::state::AppState;
use axum::extract::State;
use http::StatusCode;
use steward_model::{NewUser, UserPatch, UserView};

pub async fn list_users(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<UserView>>> {
    Ok(ApiJson(users::list(&s.pool, &who).await?))
}

pub async fn create_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, ApiJson<UserView>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(users::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<UserView>> {
    Ok(ApiJson(users::get(&s.pool, &who, id).await?))
}

pub async fn update_user(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<ApiJson<UserView>> {
    Ok(ApiJson(users::update(&s.pool, &who, id, patch).await?))
}
