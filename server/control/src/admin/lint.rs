//! `/lint/rules`: the organisation's lint ruleset (control plane).

use super::json::ApiJson;
use super::{ApiResult, Caller};
use crate::registry::lint_settings;
use crate::state::AppState;
use axum::extract::{Path, State};
use steward_model::{LintRulePatch, LintRuleSetting};

pub async fn list_lint_rules(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<LintRuleSetting>>> {
    Ok(ApiJson(lint_settings::list(&s.pool, &who).await?))
}

pub async fn update_lint_rule(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(rule): Path<String>,
    ApiJson(patch): ApiJson<LintRulePatch>,
) -> ApiResult<ApiJson<LintRuleSetting>> {
    Ok(ApiJson(
        lint_settings::update(&s.pool, &who, &rule, patch).await?,
    ))
}
