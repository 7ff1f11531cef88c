//! The numbers on the console's Overview page, straight from the database.

use crate::audit;
use crate::error::Result;
use sqlx::PgPool;
use steward_model::{AuditFilter, Overview, Principal, Role};

pub async fn load(pool: &PgPool, who: &Principal) -> Result<Overview> {
    #[derive(sqlx::FromRow)]
    struct Counts {
        users: i64,
        active_users: i64,
        teams: i64,
        access_tokens: i64,
        audit_entries: i64,
        apis: i64,
        live_versions: i64,
        in_review: i64,
    }
    let c: Counts = sqlx::query_as(
        "SELECT
            (SELECT count(*) FROM users) AS users,
            (SELECT count(*) FROM users WHERE disabled_at IS NULL) AS active_users,
            (SELECT count(*) FROM teams) AS teams,
            (SELECT count(*) FROM access_tokens
               WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS access_tokens,
            (SELECT count(*) FROM audit_log) AS audit_entries,
            (SELECT count(*) FROM apis) AS apis,
            (SELECT count(*) FROM api_versions WHERE state IN ('published', 'deprecated')) AS live_versions,
            (SELECT count(*) FROM api_versions WHERE state = 'in_review') AS in_review",
    )
    .fetch_one(pool)
    .await?;
    let by_role: Vec<(String, i64)> =
        sqlx::query_as("SELECT role, count(*) FROM users WHERE disabled_at IS NULL GROUP BY role")
            .fetch_all(pool)
            .await?;
    let users_by_role = Role::ALL
        .into_iter()
        .map(|r| {
            let n = by_role
                .iter()
                .find(|(name, _)| name == r.as_str())
                .map_or(0, |(_, n)| *n);
            (r, n)
        })
        .collect();
    // Recent activity only for those who may read the trail.
    let recent_activity = if crate::auth::policy::audit_reader(who).is_ok() {
        audit::list(
            pool,
            &AuditFilter {
                limit: Some(8),
                ..AuditFilter::default()
            },
        )
        .await?
        .entries
    } else {
        Vec::new()
    };
    Ok(Overview {
        users: c.users,
        active_users: c.active_users,
        teams: c.teams,
        access_tokens: c.access_tokens,
        audit_entries: c.audit_entries,
        apis: c.apis,
        live_versions: c.live_versions,
        in_review: c.in_review,
        users_by_role,
        recent_activity,
        slos_at_risk: crate::slo::definitions::list(pool, who)
            .await?
            .into_iter()
            .filter(|s| s.status.budget_remaining_percent < 25.0)
            .take(10)
            .collect(),
    })
}
