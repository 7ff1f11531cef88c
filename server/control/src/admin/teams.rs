//! `/teams`: teams and their members (control plane).

use super::json::ApiJson;
use super::problem::ApiError;
use super::{ApiResult, Caller, Id};
use crate::auth::teams;
use crate::state::AppState;
use axum::extract::{Path, State};
use http::StatusCode;
use steward_model::{AppError, NewTeam, TeamView};
use uuid::Uuid;

pub async fn list_teams(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<TeamView>>> {
    Ok(ApiJson(teams::list(&s.pool, &who).await?))
}

pub async fn create_team(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewTeam>,
) -> ApiResult<(StatusCode, ApiJson<TeamView>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(teams::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_team(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<TeamView>> {
    Ok(ApiJson(teams::get(&s.pool, &who, id).await?))
}

pub async fn delete_team(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    teams::delete(&s.pool, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn ids(raw: (String, String)) -> Result<(Uuid, Uuid), ApiError> {
    match (raw.0.parse(), raw.1.parse()) {
        (Ok(team), Ok(user)) => Ok((team, user)),
        _ => Err(AppError::not_found("team member").into()),
    }
}

pub async fn add_member(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(raw): Path<(String, String)>,
) -> ApiResult<ApiJson<TeamView>> {
    let (team, user) = ids(raw)?;
    Ok(ApiJson(
        teams::set_member(&s.pool, &who, team, user, true).await?,
    ))
}

pub async fn remove_member(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(raw): Path<(String, String)>,
) -> ApiResult<ApiJson<TeamView>> {
    let (team, user) = ids(raw)?;
    Ok(ApiJson(
        teams::set_member(&s.pool, &who, team, user, false).await?,
    ))
}
