//! The numbers on the console's Overview page, straight from the database.

use crate::audit;
use crate::error::Result;
use sqlx::PgPool;
use steward_console::model::{AuditFilter, Overview, Principal, Role};

pub async fn load(pool: &PgPool, who: &Principal) -> Result<Overview> {
    let (users, active_users, teams, access_tokens, audit_entries): (i64, i64, i64, i64, i64) =
        sqlx::query_as(
            "SELECT
                (SELECT count(*) FROM users),
                (SELECT count(*) FROM users WHERE disabled_at IS NULL),
                (SELECT count(*) FROM teams),
                (SELECT count(*) FROM access_tokens
                   WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())),
                (SELECT count(*) FROM audit_log)",
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
        users,
        active_users,
        teams,
        access_tokens,
        audit_entries,
        users_by_role,
        recent_activity,
    })
}
