//! SLI, compliance and error budget from `traffic_minutes`. Pure arithmetic in
//! [`status`]; one aggregate query in [`measure`].

use crate::error::Result;
use crate::gateway::telemetry::BOUNDS_MS;
use sqlx::PgPool;
use steward_console::model::{SloKind, SloStatus};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an SLO counts, and over which slice of traffic.
#[derive(Debug, Clone)]
pub struct Scope {
    pub api: Uuid,
    pub version: Option<Uuid>,
    pub operation: Option<String>,
    pub application: Option<Uuid>,
    pub kind: SloKind,
    pub threshold_ms: Option<i32>,
}

/// Total and good requests in `[from, to)`.
pub async fn measure(
    pool: &PgPool,
    scope: &Scope,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<(i64, i64)> {
    // For latency: good requests are those in the buckets up to the threshold.
    let good_buckets = scope
        .threshold_ms
        .and_then(|t| BOUNDS_MS.iter().position(|b| *b == t as u64))
        .map(|i| i as i32 + 1)
        .unwrap_or(0);
    let (total, bad_5xx, fast): (i64, i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(requests), 0)::bigint,
                coalesce(sum(requests) FILTER (WHERE status_class = 5), 0)::bigint,
                coalesce(sum((SELECT sum(b) FROM unnest(latency_buckets[1:$7]) AS b)), 0)::bigint
         FROM traffic_minutes
         WHERE api_id = $1 AND minute >= $2 AND minute < $3
           AND ($4::uuid IS NULL OR version_id = $4)
           AND ($5::text IS NULL OR operation = $5)
           AND ($6::uuid IS NULL OR application_id = $6)",
    )
    .bind(scope.api)
    .bind(from)
    .bind(to)
    .bind(scope.version)
    .bind(scope.operation.as_deref())
    .bind(scope.application)
    .bind(good_buckets)
    .fetch_one(pool)
    .await?;
    let good = match scope.kind {
        SloKind::Availability => total - bad_5xx,
        SloKind::Latency => fast,
    };
    Ok((total, good))
}

/// The SLO's standing for `total` requests of which `good` were good.
pub fn status(total: i64, good: i64, target: f64) -> SloStatus {
    let bad = (total - good).max(0);
    let sli = if total == 0 {
        100.0
    } else {
        good as f64 * 100.0 / total as f64
    };
    let budget_total = total as f64 * (100.0 - target) / 100.0;
    let budget_remaining = budget_total - bad as f64;
    SloStatus {
        total,
        good,
        bad,
        sli,
        compliant: sli >= target,
        budget_total,
        budget_consumed: bad,
        budget_remaining,
        budget_remaining_percent: if budget_total > 0.0 {
            budget_remaining * 100.0 / budget_total
        } else {
            100.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_follow_the_target() {
        let s = status(10_000, 9_800, 99.0);
        assert_eq!((s.bad, s.sli), (200, 98.0));
        assert!(!s.compliant);
        assert!((s.budget_total - 100.0).abs() < 1e-9);
        assert!((s.budget_remaining - -100.0).abs() < 1e-9);
        assert!((s.budget_remaining_percent - -100.0).abs() < 1e-9);
        let quiet = status(0, 0, 99.9);
        assert!(quiet.compliant && quiet.sli == 100.0 && quiet.budget_remaining_percent == 100.0);
        let fine = status(1000, 999, 99.0);
        assert!(fine.compliant);
        assert!((fine.budget_remaining_percent - 90.0).abs() < 1e-9);
    }
}
