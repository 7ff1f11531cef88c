//! `/slos`: service-level objectives, their alerts and series, and their
//! OpenSLO export and import (control plane).

use super::apis::bad_query;
use super::json::ApiJson;
use super::{ApiResult, Caller, Id};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use steward_model::{AppError, Resolution, SloSeries};

pub async fn list_slos(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<steward_model::SloView>>> {
    Ok(ApiJson(crate::slo::definitions::list(&s.pool, &who).await?))
}

pub async fn create_slo(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<steward_model::NewSlo>,
) -> ApiResult<(http::StatusCode, ApiJson<steward_model::SloView>)> {
    Ok((
        http::StatusCode::CREATED,
        ApiJson(crate::slo::definitions::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_slo(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<steward_model::SloView>> {
    Ok(ApiJson(
        crate::slo::definitions::get(&s.pool, &who, id).await?,
    ))
}

pub async fn slo_alerts(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<Vec<steward_model::SloAlert>>> {
    Ok(ApiJson(crate::slo::alerts::list(&s.pool, &who, id).await?))
}

/// The SLO as an OpenSLO document (YAML).
pub async fn export_slo(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let slo = crate::slo::definitions::get(&s.pool, &who, id).await?;
    let yaml = serde_yaml::to_string(&crate::slo::openslo::export(&slo))
        .map_err(|e| crate::error::Error::Other(e.into()))?;
    let mut res = yaml.into_response();
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/yaml"),
    );
    Ok(res)
}

/// Defines an SLO from an OpenSLO document sent as YAML (or JSON) text.
pub async fn import_slo(
    State(s): State<AppState>,
    Caller(who): Caller,
    body: String,
) -> ApiResult<(http::StatusCode, ApiJson<steward_model::SloView>)> {
    // Only admins and owners define SLOs: anyone else is refused before the
    // document is parsed, so parsing is never work done for a caller who may not.
    if !matches!(
        who.role,
        steward_model::Role::Admin | steward_model::Role::Owner
    ) {
        return Err(AppError::forbidden(
            "defining an SLO needs the admin role or an owner in the API's team",
        )
        .into());
    }
    let new = crate::cpu::run(move || crate::slo::openslo::import(&body)).await??;
    Ok((
        http::StatusCode::CREATED,
        ApiJson(crate::slo::definitions::create(&s.pool, &who, new).await?),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SeriesQuery {
    #[serde(default)]
    pub resolution: Resolution,
}

/// An SLO's SLI per hour or day, its budget burn-down and its burn rates.
pub async fn slo_series(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    query: Result<Query<SeriesQuery>, QueryRejection>,
) -> ApiResult<ApiJson<SloSeries>> {
    let Query(q) = query.map_err(bad_query)?;
    Ok(ApiJson(
        crate::slo::series::series(&s.pool, &who, id, q.resolution).await?,
    ))
}

pub async fn update_slo(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    ApiJson(patch): ApiJson<steward_model::SloPatch>,
) -> ApiResult<ApiJson<steward_model::SloView>> {
    Ok(ApiJson(
        crate::slo::definitions::update(&s.pool, &who, id, patch).await?,
    ))
}

pub async fn delete_slo(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<http::StatusCode> {
    crate::slo::definitions::delete(&s.pool, &who, id).await?;
    Ok(http::StatusCode::NO_CONTENT)
}
