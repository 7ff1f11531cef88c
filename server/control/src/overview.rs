//! The numbers on the console's Overview page, straight from the database.

use crate::audit;
use crate::error::Result;
use sqlx::PgPool;
use steward_model::{AuditFilter, Notice, Overview, Principal, Role};
use time::OffsetDateTime;
use uuid::Uuid;

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
        notices: notices(pool, who).await?,
    })
}

/// A decision on one of the caller's versions: id, API, version, state,
/// reviewer, comment, when.
type Decided = (
    Uuid,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    OffsetDateTime,
);

/// What awaits the caller (reviews, for reviewers and admins), and what
/// reviewers decided on the caller's own versions in the last 14 days.
async fn notices(pool: &PgPool, who: &Principal) -> Result<Vec<Notice>> {
    let mut out = Vec::new();
    if matches!(who.role, Role::Admin | Role::Reviewer) {
        // Separation of duties: one's own uploads are another reviewer's.
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM api_versions
             WHERE state = 'in_review' AND uploaded_by IS DISTINCT FROM $1",
        )
        .bind(who.user_id)
        .fetch_one(pool)
        .await?;
        if waiting > 0 {
            out.push(Notice {
                text: format!(
                    "{waiting} {} your review",
                    if waiting == 1 {
                        "version awaits"
                    } else {
                        "versions await"
                    }
                ),
                href: "/reviews".into(),
                tone: "action".into(),
                at: None,
            });
        }
    }
    let decided: Vec<Decided> = sqlx::query_as(
        "SELECT v.id, a.name, v.version, v.state, u.display_name, v.review_comment, v.reviewed_at
             FROM api_versions v
             JOIN apis a ON a.id = v.api_id
             LEFT JOIN users u ON u.id = v.reviewed_by
             WHERE v.uploaded_by = $1 AND v.reviewed_at > now() - interval '14 days'
             ORDER BY v.reviewed_at DESC
             LIMIT 10",
    )
    .bind(who.user_id)
    .fetch_all(pool)
    .await?;
    for (id, api, version, state, reviewer, comment, at) in decided {
        let reviewer = reviewer.unwrap_or_else(|| "A reviewer".into());
        let comment = comment
            .filter(|c| !c.trim().is_empty())
            .map(|c| format!(": “{}”", c.trim()))
            .unwrap_or_default();
        let (what, tone) = match state.as_str() {
            "rejected" => ("rejected", "bad"),
            "approved" => ("approved (ready to publish)", "good"),
            _ => ("approved", "good"),
        };
        out.push(Notice {
            text: format!("{reviewer} {what} {api} {version}{comment}"),
            href: format!("/versions/{id}"),
            tone: tone.into(),
            at: Some(at),
        });
    }
    Ok(out)
}
