//! An API's traffic page: requests by status class and latency percentiles over
//! time, from the histograms, and the consumers that call it most (control plane).

use super::rollup::BUCKET_SUMS;
use super::{Owner, Width, percentile, top_consumers};
use crate::error::Result;
use crate::registry::apis;
use sqlx::PgPool;
use steward_model::{ApiTraffic, Principal, TrafficPoint};
use steward_shared::telemetry::BUCKETS;
use time::{Duration, OffsetDateTime};

/// Point width for a window: minutes up to 6 h (what is kept minute by minute
/// for sure), hours up to a week, days beyond.
pub fn resolution(hours: i32) -> Width {
    match hours {
        ..=6 => Width::Minute,
        7..=168 => Width::Hour,
        _ => Width::Day,
    }
}

pub async fn api_traffic(
    pool: &PgPool,
    _who: &Principal,
    key: &str,
    hours: i32,
) -> Result<ApiTraffic> {
    let hours = hours.clamp(1, 90 * 24);
    let (api_id, _) = {
        let mut conn = pool.acquire().await?;
        apis::find(&mut conn, key).await?
    };
    let (slug, name): (String, String) =
        sqlx::query_as("SELECT slug, name FROM apis WHERE id = $1")
            .bind(api_id)
            .fetch_one(pool)
            .await?;
    let res = resolution(hours);
    let now = OffsetDateTime::now_utc();
    // Whole points only: the first one starts on its boundary rather than
    // showing a partial (and misleadingly low) count.
    let from = res.floor(now - Duration::hours(hours.into()));
    let rows: Vec<(OffsetDateTime, Vec<i64>, Vec<i64>)> = sqlx::query_as(&format!(
        "SELECT date_trunc($4, minute, 'UTC') AS t,
                ARRAY[coalesce(sum(requests) FILTER (WHERE status_class = 1), 0)::bigint,
                      coalesce(sum(requests) FILTER (WHERE status_class = 2), 0)::bigint,
                      coalesce(sum(requests) FILTER (WHERE status_class = 3), 0)::bigint,
                      coalesce(sum(requests) FILTER (WHERE status_class = 4), 0)::bigint,
                      coalesce(sum(requests) FILTER (WHERE status_class = 5), 0)::bigint],
                {}
         FROM traffic WHERE api_id = $1 AND minute >= $2 AND minute < $3
         GROUP BY 1 ORDER BY 1",
        *BUCKET_SUMS
    ))
    .bind(api_id)
    .bind(from)
    .bind(now + Duration::minutes(1))
    .bind(res.name())
    .fetch_all(pool)
    .await?;
    let top = top_consumers(
        pool,
        Owner::Api(api_id),
        from,
        Some(now + Duration::minutes(1)),
        10,
    )
    .await?;

    let mut by_class = [0i64; 5];
    let mut all = vec![0i64; BUCKETS];
    let mut points = Vec::new();
    let mut rows = rows.into_iter().peekable();
    let mut at = res.floor(from);
    while at <= now {
        let next = at + res.duration();
        let mut classes = [0i64; 5];
        let mut hist = vec![0i64; BUCKETS];
        while let Some((_, c, h)) = rows.next_if(|r| r.0 < next) {
            for (a, b) in classes.iter_mut().zip(&c) {
                *a += b;
            }
            for (a, b) in hist.iter_mut().zip(&h) {
                *a += b;
            }
        }
        for (a, b) in by_class.iter_mut().zip(classes) {
            *a += b;
        }
        for (a, b) in all.iter_mut().zip(&hist) {
            *a += b;
        }
        points.push(TrafficPoint {
            start: at,
            by_class: classes,
            p50_ms: percentile(&hist, 0.50),
            p95_ms: percentile(&hist, 0.95),
            p99_ms: percentile(&hist, 0.99),
        });
        at = next;
    }
    let requests: i64 = by_class.iter().sum();
    Ok(ApiTraffic {
        api_slug: slug,
        api_name: name,
        hours,
        resolution: res.name().to_string(),
        requests,
        by_class,
        error_rate: if requests == 0 {
            0.0
        } else {
            by_class[4] as f64 / requests as f64
        },
        p50_ms: percentile(&all, 0.50),
        p95_ms: percentile(&all, 0.95),
        p99_ms: percentile(&all, 0.99),
        points,
        top_consumers: top,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_the_window() {
        assert_eq!(resolution(1), Width::Minute);
        assert_eq!(resolution(24), Width::Hour);
        assert_eq!(resolution(720), Width::Day);
        let t = time::macros::datetime!(2026-11-30 19:41:05 UTC);
        assert_eq!(
            Width::Minute.floor(t),
            time::macros::datetime!(2026-11-30 19:41 UTC)
        );
        assert_eq!(
            Width::Hour.floor(t),
            time::macros::datetime!(2026-11-30 19:00 UTC)
        );
        assert_eq!(
            Width::Day.floor(t),
            time::macros::datetime!(2026-11-30 00:00 UTC)
        );
    }
}
