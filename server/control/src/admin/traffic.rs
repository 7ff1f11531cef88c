//! `/gateways`, `/upstream-policy`, `/versions/{id}/traffic`, `/apis/{key}/traffic`
//! and `/deprecations`: what the data plane is doing, and where it may send
//! traffic (control plane).

use super::apis::bad_query;
use super::json::ApiJson;
use super::{ApiResult, Caller, Id};
use crate::state::AppState;
use crate::traffic;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use steward_model::{
    ApiTraffic, DeprecationImpact, DriftReport, GatewayView, UpstreamPolicyUpdate,
    UpstreamPolicyView, VersionTraffic,
};

pub async fn list_gateways(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<GatewayView>>> {
    Ok(ApiJson(traffic::gateways(&s.pool, &who).await?))
}

pub async fn get_upstream_policy(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<UpstreamPolicyView>> {
    Ok(ApiJson(crate::upstreams::get(&s.pool, &who).await?))
}

pub async fn put_upstream_policy(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(update): ApiJson<UpstreamPolicyUpdate>,
) -> ApiResult<ApiJson<UpstreamPolicyView>> {
    Ok(ApiJson(crate::upstreams::set(&s.pool, &who, update).await?))
}

#[derive(Debug, Deserialize)]
pub struct Window {
    /// Minutes back from now; 60 unless given.
    #[serde(default = "hour")]
    pub minutes: i32,
}

fn hour() -> i32 {
    60
}

pub async fn version_traffic(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    query: Result<Query<Window>, QueryRejection>,
) -> ApiResult<ApiJson<VersionTraffic>> {
    let Query(window) = query.map_err(bad_query)?;
    Ok(ApiJson(
        traffic::version_traffic(&s.pool, &who, id, window.minutes).await?,
    ))
}

pub async fn version_drift(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<Vec<DriftReport>>> {
    Ok(ApiJson(traffic::drift(&s.pool, &who, id).await?))
}

#[derive(Debug, Deserialize)]
pub struct Hours {
    /// Hours back from now; 24 unless given.
    #[serde(default = "day")]
    pub hours: i32,
}

fn day() -> i32 {
    24
}

pub async fn api_traffic(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
    query: Result<Query<Hours>, QueryRejection>,
) -> ApiResult<ApiJson<ApiTraffic>> {
    let Query(q) = query.map_err(bad_query)?;
    Ok(ApiJson(
        traffic::api::api_traffic(&s.pool, &who, &key, q.hours).await?,
    ))
}

/// Deprecated versions, their sunsets and who still calls them.
pub async fn deprecations(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<DeprecationImpact>>> {
    Ok(ApiJson(traffic::deprecations::impact(&s.pool, &who).await?))
}
