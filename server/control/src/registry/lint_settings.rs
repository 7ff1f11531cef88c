//! The organisation's lint settings: rules switched off or re-graded by admins (control plane).

use crate::audit::{self, Actor, Change};
use crate::auth::policy;
use crate::error::Result;
use sqlx::PgPool;
use std::collections::HashMap;
use steward_contracts::lint;
use steward_model::{AppError, LintRulePatch, LintRuleSetting, Principal, Severity};

fn parse(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

fn as_str(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Overrides in the shape the lint engine takes.
pub async fn overrides(pool: &PgPool) -> Result<HashMap<String, Option<Severity>>> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT rule, severity FROM lint_rule_settings")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(rule, sev)| (rule, sev.as_deref().and_then(parse)))
        .collect())
}

pub async fn list(pool: &PgPool, _who: &Principal) -> Result<Vec<LintRuleSetting>> {
    let overrides = overrides(pool).await?;
    Ok(lint::rules()
        .into_iter()
        .map(|r| LintRuleSetting {
            severity: match overrides.get(&r.id) {
                Some(o) => *o,
                None => Some(r.default_severity),
            },
            id: r.id,
            description: r.description,
            default_severity: r.default_severity,
        })
        .collect())
}

pub async fn update(
    pool: &PgPool,
    who: &Principal,
    rule: &str,
    patch: LintRulePatch,
) -> Result<LintRuleSetting> {
    policy::admin(who, "changing lint rules")?;
    let info = lint::rules()
        .into_iter()
        .find(|r| r.id == rule)
        .ok_or_else(|| AppError::not_found("lint rule"))?;
    let before = list(pool, who).await?.into_iter().find(|r| r.id == rule);
    let mut tx = pool.begin().await?;
    if patch.severity == Some(info.default_severity) {
        sqlx::query("DELETE FROM lint_rule_settings WHERE rule = $1")
            .bind(rule)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO lint_rule_settings (rule, severity, updated_by) VALUES ($1, $2, $3)
             ON CONFLICT (rule) DO UPDATE SET severity = $2, updated_by = $3, updated_at = now()",
        )
        .bind(rule)
        .bind(patch.severity.map(as_str))
        .bind(who.user_id)
        .execute(&mut *tx)
        .await?;
    }
    let after = LintRuleSetting {
        id: info.id,
        description: info.description,
        default_severity: info.default_severity,
        severity: patch.severity,
    };
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "lint_rule.update",
            target_type: "lint_rule",
            target_id: rule.to_string(),
            before: Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
            after: Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
