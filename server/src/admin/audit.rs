//! `/audit`: read and verify the audit trail.

use super::json::ApiJson;
use super::{ApiResult, Caller};
use crate::auth::policy;
use crate::state::AppState;
use axum::extract::{Query, State};
use steward_console::model::{AuditFilter, AuditPage, ChainReport};

pub async fn list_audit(
    State(s): State<AppState>,
    Caller(who): Caller,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<ApiJson<AuditPage>> {
    policy::audit_reader(&who)?;
    Ok(ApiJson(crate::audit::list(&s.pool, &filter).await?))
}

pub async fn verify_audit(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<ChainReport>> {
    policy::audit_reader(&who)?;
    Ok(ApiJson(crate::audit::verify(&s.pool).await?))
}
