//! An SLO over time: the SLI per hour or day across its window, the error-budget
//! burn-down, and the current burn rate of every alerting window (control plane).

use super::alerts::{RULES, burn_rate};
use super::compute::{Bands, Scope};
use super::definitions;
use crate::error::Result;
use crate::traffic::Width;
use sqlx::PgPool;
use steward_model::{BurnRate, Principal, Resolution, SloPoint, SloSeries};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn width(resolution: Resolution) -> Width {
    match resolution {
        Resolution::Hour => Width::Hour,
        Resolution::Day => Width::Day,
    }
}

/// Per-point totals, with every point of the window present (quiet points are 0),
/// and the burn-down of the window's budget.
pub fn points(
    rows: &[(OffsetDateTime, i64, i64)],
    from: OffsetDateTime,
    now: OffsetDateTime,
    resolution: Resolution,
    target: f64,
) -> Vec<SloPoint> {
    let window_total: i64 = rows.iter().map(|r| r.1).sum();
    let budget = window_total as f64 * (100.0 - target) / 100.0;
    let mut out = Vec::new();
    let width = width(resolution);
    let mut at = width.floor(from);
    let mut rows = rows.iter().peekable();
    let mut spent = 0i64;
    while at <= now {
        let (mut total, mut good) = (0, 0);
        while let Some(r) = rows.next_if(|r| r.0 < at + width.duration()) {
            total += r.1;
            good += r.2;
        }
        spent += total - good;
        out.push(SloPoint {
            start: at,
            total,
            good,
            sli: (total > 0).then(|| good as f64 * 100.0 / total as f64),
            budget_remaining_percent: if budget > 0.0 {
                (budget - spent as f64) * 100.0 / budget
            } else {
                100.0
            },
        });
        at += width.duration();
    }
    out
}

/// Where a window's counting really starts. Past the last 6 hours traffic is kept
/// per hour, and an hour is counted only when it starts inside the window, so a
/// long window starts on the next whole hour; the points start there too, rather
/// than with a day (at 23:xx UTC) whose only counted hour is outside the window.
fn counted_from(from: OffsetDateTime) -> OffsetDateTime {
    let hour = Width::Hour.floor(from);
    if hour == from {
        from
    } else {
        hour + Duration::hours(1)
    }
}

pub async fn series(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    resolution: Resolution,
) -> Result<SloSeries> {
    let slo = definitions::row(pool, who, id).await?;
    let scope: Scope = slo.scope();
    let now = OffsetDateTime::now_utc();
    let from = now - slo.window();
    let good_buckets = scope.good_buckets() as i32;
    let rows: Vec<(OffsetDateTime, i64, i64, i64)> = sqlx::query_as(
        "SELECT date_trunc($8, minute, 'UTC') AS t,
                coalesce(sum(requests), 0)::bigint,
                coalesce(sum(requests) FILTER (WHERE status_class = 5), 0)::bigint,
                coalesce(sum((SELECT sum(b) FROM unnest(latency_buckets[1:$7]) AS b)), 0)::bigint
         FROM traffic
         WHERE api_id = $1 AND minute >= $2 AND minute < $3
           AND ($4::uuid IS NULL OR version_id = $4)
           AND ($5::text IS NULL OR operation = $5)
           AND ($6::uuid IS NULL OR application_id = $6)
         GROUP BY 1 ORDER BY 1",
    )
    .bind(scope.api)
    .bind(from)
    .bind(now + Duration::minutes(1))
    .bind(scope.version)
    .bind(scope.operation.as_deref())
    .bind(scope.application)
    .bind(good_buckets)
    .bind(width(resolution).name())
    .fetch_all(pool)
    .await?;
    let rows: Vec<(OffsetDateTime, i64, i64)> = rows
        .into_iter()
        .map(|(t, total, server_errors, fast)| {
            let good = match scope.kind {
                steward_model::SloKind::Availability => total - server_errors,
                steward_model::SloKind::Latency => fast,
            };
            (t, total, good)
        })
        .collect();
    let mut windows: Vec<(&str, Duration, f64)> = Vec::new();
    for (_, long_name, long, short_name, short, threshold) in RULES {
        for (name, w) in [(long_name, long), (short_name, short)] {
            match windows.iter_mut().find(|x| x.0 == name) {
                Some(x) => x.2 = x.2.min(threshold),
                None => windows.push((name, w, threshold)),
            }
        }
    }
    windows.sort_by_key(|w| w.1);
    let durations: Vec<Duration> = windows.iter().map(|w| w.1).collect();
    let bands = Bands::load(pool, &[scope.api], now, &durations).await?;
    let burn_rates = windows
        .into_iter()
        .map(|(name, w, threshold)| {
            let (total, good) = bands.measure(&scope, w);
            BurnRate {
                window: name.to_string(),
                burn_rate: burn_rate(total, good, slo.target),
                requests: total,
                threshold: Some(threshold),
            }
        })
        .collect();
    Ok(SloSeries {
        resolution,
        points: points(&rows, counted_from(from), now, resolution, slo.target),
        burn_rates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn counting_starts_on_the_next_whole_hour() {
        let late = time::macros::datetime!(2026-11-02 23:12 UTC);
        assert_eq!(
            counted_from(late),
            time::macros::datetime!(2026-11-03 00:00 UTC)
        );
        let whole = time::macros::datetime!(2026-11-02 14:00 UTC);
        assert_eq!(counted_from(whole), whole);
        // 28 days from 23:12 UTC: 28 daily points, not a 29th empty one in front.
        let now = time::macros::datetime!(2026-11-30 23:12 UTC);
        let p = points(
            &[],
            counted_from(now - Duration::days(28)),
            now,
            Resolution::Day,
            99.0,
        );
        assert_eq!(p.len(), 28);
    }

    #[test]
    fn points_fill_gaps_and_burn_down() {
        let from = datetime!(2026-11-27 10:30 UTC);
        let now = datetime!(2026-11-30 09:00 UTC);
        let rows = [
            (datetime!(2026-11-27 00:00 UTC), 1000, 1000),
            (datetime!(2026-11-29 00:00 UTC), 1000, 990),
        ];
        let p = points(&rows, from, now, Resolution::Day, 99.0);
        assert_eq!(p.len(), 4);
        assert_eq!(p[1].total, 0);
        assert_eq!(p[1].sli, None);
        assert_eq!(p[2].sli, Some(99.0));
        // Budget 20 over the window; 10 spent on the 29th.
        assert!((p[1].budget_remaining_percent - 100.0).abs() < 1e-9);
        assert!((p[3].budget_remaining_percent - 50.0).abs() < 1e-9);
    }
}
