//! `/apis` and `/versions`: the contract registry over HTTP (control plane).

use super::json::ApiJson;
use super::problem::ApiError;
use super::{ApiResult, Caller, Id};
use crate::registry::{apis, versions};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use steward_model::{
    ApiFilter, ApiPatch, ApiView, ChangeReport, Deprecation, NewApi, NewVersion, Retirement,
    ReviewDecision, ReviewItem, SendBack, VersionSummary, VersionView,
};
use uuid::Uuid;

pub(crate) fn bad_query(e: QueryRejection) -> ApiError {
    ApiError(steward_model::AppError::invalid("query", e.body_text()))
}

pub async fn list_apis(
    State(s): State<AppState>,
    Caller(who): Caller,
    query: Result<Query<ApiFilter>, QueryRejection>,
) -> ApiResult<ApiJson<Vec<ApiView>>> {
    let Query(filter) = query.map_err(bad_query)?;
    Ok(ApiJson(apis::list(&s.pool, &who, &filter).await?))
}

pub async fn create_api(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewApi>,
) -> ApiResult<(StatusCode, ApiJson<ApiView>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(apis::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_api(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
) -> ApiResult<ApiJson<ApiView>> {
    Ok(ApiJson(apis::get(&s.pool, &who, &key).await?))
}

pub async fn update_api(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
    ApiJson(patch): ApiJson<ApiPatch>,
) -> ApiResult<ApiJson<ApiView>> {
    Ok(ApiJson(apis::update(&s.pool, &who, &key, patch).await?))
}

pub async fn list_versions(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
) -> ApiResult<ApiJson<Vec<VersionSummary>>> {
    Ok(ApiJson(versions::list(&s.pool, &who, &key).await?))
}

pub async fn upload_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
    ApiJson(new): ApiJson<NewVersion>,
) -> ApiResult<(StatusCode, ApiJson<VersionView>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(versions::upload(&s.pool, &who, &key, new).await?),
    ))
}

#[derive(Deserialize)]
pub struct DiffQuery {
    base: Uuid,
    revision: Uuid,
}

pub async fn diff_versions(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
    query: Result<Query<DiffQuery>, QueryRejection>,
) -> ApiResult<ApiJson<ChangeReport>> {
    let Query(q) = query.map_err(bad_query)?;
    Ok(ApiJson(
        versions::compare(&s.pool, &who, &key, q.base, q.revision).await?,
    ))
}

pub async fn get_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::get(&s.pool, &who, id).await?))
}

/// The contract as uploaded, with its own media type.
pub async fn get_version_spec(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> Response {
    match versions::spec(&s.pool, &who, id).await {
        Ok((text, format)) => {
            let ct = if format == "json" {
                "application/json"
            } else {
                "application/yaml"
            };
            let mut res = text.into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            res
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(serde::Deserialize)]
pub struct OutlineQuery {
    /// A JSON pointer into the contract whose line is wanted.
    #[serde(default)]
    at: Option<String>,
}

/// The contract as a reference: operations, parameters and flattened bodies.
pub async fn get_version_outline(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    query: Result<Query<OutlineQuery>, QueryRejection>,
) -> ApiResult<ApiJson<steward_model::ContractOutline>> {
    let Query(q) = query.map_err(bad_query)?;
    Ok(ApiJson(versions::outline(&s.pool, &who, id, q.at).await?))
}

pub async fn submit_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::submit(&s.pool, &who, id).await?))
}

pub async fn review_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    ApiJson(decision): ApiJson<ReviewDecision>,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(
        versions::review(&s.pool, &who, id, decision).await?,
    ))
}

pub async fn review_queue(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<ReviewItem>>> {
    Ok(ApiJson(versions::review_queue(&s.pool, &who).await?))
}

pub async fn withdraw_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::withdraw(&s.pool, &who, id).await?))
}

pub async fn send_back_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    ApiJson(back): ApiJson<SendBack>,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::send_back(&s.pool, &who, id, back).await?))
}

pub async fn publish_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::publish(&s.pool, &who, id).await?))
}

pub async fn deprecate_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    ApiJson(d): ApiJson<Deprecation>,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::deprecate(&s.pool, &who, id, d).await?))
}

pub async fn retire_version(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    ApiJson(r): ApiJson<Retirement>,
) -> ApiResult<ApiJson<VersionView>> {
    Ok(ApiJson(versions::retire(&s.pool, &who, id, r).await?))
}
