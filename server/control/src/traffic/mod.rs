//! Live traffic as the control plane sees it: gateway instances (from their
//! heartbeats) and a version's recent traffic (from the minute aggregates).

pub mod api;
pub mod deprecations;
pub mod rollup;

use crate::error::Result;
use sqlx::PgPool;
use steward_model::{
    AppError, ConsumerTraffic, DriftReport, GatewayView, Principal, UpstreamHealth, VersionTraffic,
};
use steward_shared::telemetry::BOUNDS_MS;
use time::OffsetDateTime;
use uuid::Uuid;

/// The width of the points of a traffic series; `name` is also what
/// PostgreSQL's `date_trunc` calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Minute,
    Hour,
    Day,
}

impl Width {
    pub fn name(self) -> &'static str {
        match self {
            Width::Minute => "minute",
            Width::Hour => "hour",
            Width::Day => "day",
        }
    }

    pub fn duration(self) -> time::Duration {
        match self {
            Width::Minute => time::Duration::minutes(1),
            Width::Hour => time::Duration::hours(1),
            Width::Day => time::Duration::days(1),
        }
    }

    /// The start of the minute, hour or UTC day holding `t`.
    pub fn floor(self, t: OffsetDateTime) -> OffsetDateTime {
        let t = t.to_offset(time::UtcOffset::UTC);
        let (h, m) = match self {
            Width::Minute => (t.hour(), t.minute()),
            Width::Hour => (t.hour(), 0),
            Width::Day => (0, 0),
        };
        t.replace_time(time::Time::from_hms(h, m, 0).unwrap_or(time::Time::MIDNIGHT))
    }
}

type InstanceRow = (
    Uuid,
    String,
    String,
    OffsetDateTime,
    OffsetDateTime,
    i64,
    i64,
    i32,
    i32,
    i64,
    i64,
    i64,
    sqlx::types::Json<Vec<UpstreamHealth>>,
);

pub async fn gateways(pool: &PgPool, _who: &Principal) -> Result<Vec<GatewayView>> {
    let rows: Vec<InstanceRow> = sqlx::query_as(
        "SELECT id, hostname, address, started_at, last_seen, snapshot_generation, snapshot_age_ms,
                versions, keys, telemetry_backlog, usage_backlog, telemetry_dropped, upstreams
         FROM gateway_instances
         WHERE last_seen > now() - interval '1 day'
         ORDER BY last_seen DESC",
    )
    .fetch_all(pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows
        .into_iter()
        .map(|r| GatewayView {
            id: r.0,
            hostname: r.1,
            address: r.2,
            started_at: r.3,
            last_seen: r.4,
            live: now - r.4 < time::Duration::seconds(30),
            snapshot_generation: r.5,
            snapshot_age_seconds: r.6 as f64 / 1000.0,
            versions: r.7,
            keys: r.8,
            telemetry_backlog: r.9,
            usage_backlog: r.10,
            telemetry_dropped: r.11,
            upstreams: r.12.0,
        })
        .collect())
}

/// The upper bound (ms) of the bucket where the cumulative count reaches `q`.
pub fn percentile(buckets: &[i64], q: f64) -> Option<f64> {
    let total: i64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let target = (total as f64 * q).ceil() as i64;
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= target {
            // The overflow bucket has no upper bound; report the last bound.
            return Some(*BOUNDS_MS.get(i).unwrap_or(&BOUNDS_MS[BOUNDS_MS.len() - 1]) as f64);
        }
    }
    None
}

pub async fn version_traffic(
    pool: &PgPool,
    _who: &Principal,
    version: Uuid,
    window_minutes: i32,
) -> Result<VersionTraffic> {
    let window = window_minutes.clamp(1, 7 * 24 * 60);
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_versions WHERE id = $1)")
            .bind(version)
            .fetch_one(pool)
            .await?;
    if !exists {
        return Err(AppError::not_found("version").into());
    }
    let since = OffsetDateTime::now_utc() - time::Duration::minutes(window.into());
    let classes: Vec<(i16, i64)> = sqlx::query_as(
        "SELECT status_class, sum(requests)::bigint FROM traffic
         WHERE version_id = $1 AND minute >= $2 GROUP BY status_class",
    )
    .bind(version)
    .bind(since)
    .fetch_all(pool)
    .await?;
    let buckets: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT {} FROM traffic WHERE version_id = $1 AND minute >= $2",
        *rollup::BUCKET_SUMS
    ))
    .bind(version)
    .bind(since)
    .fetch_one(pool)
    .await?;
    let top = top_consumers(pool, Owner::Version(version), since, None, 5).await?;
    let mut by_class = [0i64; 5];
    for (class, n) in classes {
        if let Some(slot) = usize::try_from(class - 1)
            .ok()
            .and_then(|i| by_class.get_mut(i))
        {
            *slot += n;
        }
    }
    let requests: i64 = by_class.iter().sum();
    Ok(VersionTraffic {
        window_minutes: window,
        requests,
        requests_per_minute: requests as f64 / f64::from(window),
        by_class,
        error_rate: if requests == 0 {
            0.0
        } else {
            by_class[4] as f64 / requests as f64
        },
        p95_ms: percentile(&buckets, 0.95),
        top_consumers: top,
    })
}

/// Drift reports of a version over the last week, most frequent first. The
/// example bodies come from live traffic, so only the API's owners and admins
/// see them; everyone else sees the violations.
pub async fn drift(pool: &PgPool, who: &Principal, version: Uuid) -> Result<Vec<DriftReport>> {
    let team: Option<Uuid> = sqlx::query_scalar(
        "SELECT a.team_id FROM api_versions v JOIN apis a ON a.id = v.api_id WHERE v.id = $1",
    )
    .bind(version)
    .fetch_optional(pool)
    .await?;
    let Some(team) = team else {
        return Err(AppError::not_found("version").into());
    };
    let mut conn = pool.acquire().await?;
    let sees_examples = crate::registry::access::can_edit(&mut conn, who, team).await?;
    drop(conn);
    let rows: Vec<(String, i32, String, String, i64, OffsetDateTime, String)> = sqlx::query_as(
        "SELECT operation, status,
                coalesce(violations -> 0 ->> 'pointer', ''), coalesce(violations -> 0 ->> 'message', ''),
                count(*), max(seen_at),
                (array_agg(example ORDER BY seen_at DESC))[1]
         FROM contract_drift
         WHERE version_id = $1 AND seen_at > now() - interval '7 days'
         GROUP BY 1, 2, 3, 4
         ORDER BY count(*) DESC, max(seen_at) DESC
         LIMIT 50",
    )
    .bind(version)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(operation, status, pointer, message, count, last_seen, example)| DriftReport {
                operation,
                status,
                pointer,
                message,
                count,
                last_seen,
                example: if sees_examples {
                    example
                } else {
                    String::new()
                },
            },
        )
        .collect())
}

/// Whose traffic [`top_consumers`] ranks.
pub(crate) enum Owner {
    Api(Uuid),
    Version(Uuid),
}

/// The applications that called the most in `[since, until)`, with their
/// server errors and whether a revoked or expired key of theirs was still used.
pub(crate) async fn top_consumers(
    pool: &PgPool,
    owner: Owner,
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
    limit: i64,
) -> Result<Vec<ConsumerTraffic>> {
    let (column, id) = match owner {
        Owner::Api(id) => ("api_id", id),
        Owner::Version(id) => ("version_id", id),
    };
    let top: Vec<(String, String, i64, i64, Option<bool>)> = sqlx::query_as(&format!(
        "WITH refused AS (
             -- Applications whose revoked or expired keys were still used in the
             -- window (the gateway stamps a refused key's use).
             SELECT DISTINCT application_id FROM api_keys
             WHERE last_used_at >= $2
               AND (last_used_at > revoked_at OR last_used_at > expires_at))
         SELECT coalesce(c.name, 'anonymous'), coalesce(a.name, '-'), sum(t.requests)::bigint AS n,
                coalesce(sum(t.requests) FILTER (WHERE t.status_class = 5), 0)::bigint,
                bool_or(t.application_id IN (SELECT application_id FROM refused))
         FROM traffic t
         LEFT JOIN applications a ON a.id = t.application_id
         LEFT JOIN consumers c ON c.id = a.consumer_id
         WHERE t.{column} = $1 AND t.minute >= $2 AND ($3::timestamptz IS NULL OR t.minute < $3)
         GROUP BY 1, 2 ORDER BY n DESC LIMIT $4"
    ))
    .bind(id)
    .bind(since)
    .bind(until)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(top
        .into_iter()
        .map(
            |(consumer, application, requests, errors, revoked)| ConsumerTraffic {
                consumer,
                application,
                requests,
                errors,
                revoked_key_used: revoked.unwrap_or(false),
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::telemetry::BUCKETS;

    #[test]
    fn percentiles_read_the_histogram() {
        let mut b = vec![0; BUCKETS];
        b[0] = 90; // ≤ 5 ms
        b[4] = 5; // ≤ 100 ms
        b[7] = 5; // ≤ 500 ms
        assert_eq!(percentile(&b, 0.5), Some(5.0));
        assert_eq!(percentile(&b, 0.95), Some(100.0));
        assert_eq!(percentile(&b, 0.99), Some(500.0));
        assert_eq!(percentile(&[0; BUCKETS], 0.95), None);
    }
}
