//! Retention of the gateways' minute aggregates. Complete hours are rolled up
//! into `traffic_hours`; minute rows older than the minute retention, and hour
//! rows older than the hour retention, are pruned. Readers go through the
//! `traffic` view, which stitches hours and minutes at a cut that never falls
//! inside the last six hours, so nothing is counted twice or missed (control plane).

use super::Width;
use crate::error::Result;
use sqlx::PgPool;
use std::sync::LazyLock;
use std::time::Duration;
use steward_shared::telemetry::BUCKETS;
use time::OffsetDateTime;

/// How long each resolution is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub minute_days: i64,
    pub hour_days: i64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            minute_days: 8,
            hour_days: 400,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pass {
    pub hours_written: u64,
    pub minutes_pruned: u64,
    pub hours_pruned: u64,
}

/// Gateways flush every few seconds but may hold up to 15 minutes through an
/// outage; an hour is rolled 20 minutes after it ends, and rolled again on the
/// next passes while late rows may still come in.
const SETTLE: time::Duration = time::Duration::minutes(20);
const REROLL: time::Duration = time::Duration::hours(2);

/// `ARRAY[sum(latency_buckets[1]), …]`: histograms add bucket by bucket (0 over
/// no rows). Every query that sums histograms uses this.
pub(crate) static BUCKET_SUMS: LazyLock<String> = LazyLock::new(|| {
    let sums: Vec<String> = (1..=BUCKETS)
        .map(|i| format!("coalesce(sum(latency_buckets[{i}]), 0)::bigint"))
        .collect();
    format!("ARRAY[{}]", sums.join(", "))
});

/// One rollup and pruning pass, as of `now`. Safe to run from several control
/// planes at once: the watermark row is locked for the pass.
pub async fn roll(pool: &PgPool, now: OffsetDateTime, keep: Retention) -> Result<Pass> {
    let mut tx = pool.begin().await?;
    let rolled: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT rolled_until FROM traffic_rollup FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let until = Width::Hour.floor(now - SETTLE);
    let from = match rolled {
        Some(t) => t - REROLL,
        None => {
            let first: Option<OffsetDateTime> =
                sqlx::query_scalar("SELECT min(minute) FROM traffic_minutes")
                    .fetch_one(&mut *tx)
                    .await?;
            first.map(|t| Width::Hour.floor(t)).unwrap_or(until)
        }
    };
    let mut pass = Pass::default();
    if from < until {
        // Upsert by key: late rows only ever add minutes, so recomputing an hour
        // from its minutes and replacing it is exact, and hours whose minutes
        // are already pruned are left alone.
        pass.hours_written = sqlx::query(&format!(
            "INSERT INTO traffic_hours (hour, version_id, api_id, operation, application_id,
                                        status_class, requests, latency_sum_us, latency_buckets)
             SELECT date_trunc('hour', minute, 'UTC'), version_id, api_id, operation, application_id,
                    status_class, sum(requests)::bigint, sum(latency_sum_us)::bigint, {}
             FROM traffic_minutes
             WHERE minute >= $1 AND minute < $2
             GROUP BY 1, 2, 3, 4, 5, 6
             ON CONFLICT (hour, version_id, operation, application_id, status_class) DO UPDATE
             SET requests = excluded.requests, latency_sum_us = excluded.latency_sum_us,
                 latency_buckets = excluded.latency_buckets",
            *BUCKET_SUMS
        ))
        .bind(from)
        .bind(until)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    let watermark = rolled.map_or(until, |r| r.max(until));
    sqlx::query("UPDATE traffic_rollup SET rolled_until = $1")
        .bind(watermark)
        .execute(&mut *tx)
        .await?;
    // Minutes go only once they are rolled up and outside every reroll.
    let minute_cut = (now - time::Duration::days(keep.minute_days.max(1))).min(watermark - REROLL);
    pass.minutes_pruned = sqlx::query("DELETE FROM traffic_minutes WHERE minute < $1")
        .bind(minute_cut)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    pass.hours_pruned = sqlx::query("DELETE FROM traffic_hours WHERE hour < $1")
        .bind(now - time::Duration::days(keep.hour_days.max(keep.minute_days).max(1)))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(pass)
}

/// Runs a pass at start and then every `every` until the process ends.
pub fn spawn(pool: PgPool, every: Duration, keep: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match roll(&pool, OffsetDateTime::now_utc(), keep).await {
                Ok(pass) => tracing::debug!(?pass, "traffic rolled up"),
                Err(e) => tracing::warn!(error = %e, "traffic not rolled up"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_floor() {
        let t = time::macros::datetime!(2026-11-30 19:41:05.123 UTC);
        assert_eq!(
            Width::Hour.floor(t),
            time::macros::datetime!(2026-11-30 19:00 UTC)
        );
        assert!(BUCKET_SUMS.starts_with("ARRAY[coalesce(sum(latency_buckets[1]), 0)::bigint"));
        assert!(BUCKET_SUMS.ends_with(&format!(
            "coalesce(sum(latency_buckets[{BUCKETS}]), 0)::bigint]"
        )));
    }
}
