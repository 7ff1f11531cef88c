//! `/audit`: read and verify the audit trail (control plane).

use super::json::ApiJson;
use super::problem::ApiError;
use super::problem::plain;
use super::{ApiResult, Caller};
use crate::auth::policy;
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use steward_model::{AuditFilter, AuditPage, ChainReport};

pub async fn list_audit(
    State(s): State<AppState>,
    Caller(who): Caller,
    query: Result<Query<AuditFilter>, QueryRejection>,
) -> Result<ApiJson<AuditPage>, Response> {
    policy::audit_reader(&who).map_err(|e| ApiError(e).into_response())?;
    let Query(filter) = query.map_err(|e| {
        plain(
            e.status(),
            "bad-query",
            "Invalid query string",
            e.body_text(),
        )
    })?;
    crate::audit::list(&s.pool, &filter)
        .await
        .map(ApiJson)
        .map_err(|e| ApiError::from(e).into_response())
}

pub async fn verify_audit(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<ChainReport>> {
    policy::audit_reader(&who)?;
    Ok(ApiJson(crate::audit::verify(&s.pool).await?))
}
