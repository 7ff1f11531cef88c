//! Thirty days of synthetic but plausible traffic for the demo, so the SLO and
//! traffic dashboards tell a story on first open: a retail day curve (quiet
//! nights, a midday peak), a little 4xx noise, rare 5xx, and one incident four
//! days ago (an ERP failover: two hours of 10 % errors and slow answers on the
//! orders API) that spent most of the order-acceptance error budget and paged.
//! The last two days are written minute by minute, older days as hourly rollups,
//! exactly as retention would have left them (control plane).

use crate::error::Result;
use crate::slo::definitions;
use crate::traffic::Width;
use sqlx::PgPool;
use steward_model::{NewSlo, SloKind};
use steward_shared::telemetry::{BOUNDS_MS, BUCKETS};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// (API, version, operation, consumer app name, requests per minute at the daily peak).
const FLOWS: [(&str, &str, &str, &str, f64); 12] = [
    ("orders", "1.1.0", "listOrders", "order-sync", 40.0),
    ("orders", "1.1.0", "createOrder", "order-sync", 12.0),
    ("orders", "1.1.0", "getOrder", "order-sync", 20.0),
    ("orders", "1.1.0", "createOrder", "pos-fleet", 25.0),
    ("orders", "1.1.0", "getOrder", "pos-fleet", 5.0),
    ("inventory", "1.0.0", "listStockLevels", "order-sync", 60.0),
    (
        "inventory",
        "1.0.0",
        "createReservation",
        "order-sync",
        10.0,
    ),
    (
        "shipments",
        "1.0.0",
        "confirmShipment",
        "wms-connector",
        6.0,
    ),
    ("shipments", "1.0.0", "listShipments", "wms-connector", 8.0),
    ("returns", "1.0.0", "createReturn", "pos-fleet", 2.0),
    ("returns", "1.0.0", "listReturns", "pos-fleet", 3.0),
    ("returns", "2.0.0", "createReturn", "pos-fleet", 1.0),
];

/// Share of requests per latency bucket (≤5, ≤10, ≤25, ≤50, ≤100, ≤200, ≤300,
/// ≤500, ≤750 ms), normally and during the incident.
const NORMAL: [f64; 9] = [0.03, 0.10, 0.32, 0.30, 0.17, 0.06, 0.015, 0.004, 0.001];
const SLOW: [f64; 9] = [0.0, 0.01, 0.05, 0.10, 0.14, 0.20, 0.15, 0.20, 0.15];

/// A small deterministic generator (SplitMix64), so every demo looks the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `x` rounded up or down at random, keeping its expectation.
    fn round(&mut self, x: f64) -> i64 {
        let floor = x.floor();
        floor as i64 + i64::from(self.next() < x - floor)
    }
}

/// Retail traffic over a UTC day: quiet at night, a peak early afternoon.
fn day_curve(t: OffsetDateTime) -> f64 {
    let h = f64::from(t.hour()) + f64::from(t.minute()) / 60.0;
    if (6.0..22.0).contains(&h) {
        0.25 + 0.75 * (std::f64::consts::PI * (h - 6.0) / 16.0).sin()
    } else {
        0.25
    }
}

#[derive(Default)]
struct Rows {
    at: Vec<OffsetDateTime>,
    version: Vec<Uuid>,
    api: Vec<Uuid>,
    operation: Vec<String>,
    application: Vec<Uuid>,
    class: Vec<i16>,
    requests: Vec<i64>,
    latency_sum: Vec<i64>,
    buckets: Vec<String>,
}

impl Rows {
    async fn insert(&mut self, pool: &PgPool, table: &str, column: &str) -> Result<()> {
        if self.at.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "INSERT INTO {table} ({column}, version_id, api_id, operation, application_id, status_class,
                                  requests, latency_sum_us, latency_buckets)
             SELECT t, v, a, o, p, c, r, l, b::bigint[]
             FROM unnest($1::timestamptz[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[],
                         $6::smallint[], $7::bigint[], $8::bigint[], $9::text[])
                  AS u(t, v, a, o, p, c, r, l, b)
             ON CONFLICT DO NOTHING"
        ))
        .bind(&self.at)
        .bind(&self.version)
        .bind(&self.api)
        .bind(&self.operation)
        .bind(&self.application)
        .bind(&self.class)
        .bind(&self.requests)
        .bind(&self.latency_sum)
        .bind(&self.buckets)
        .execute(pool)
        .await?;
        *self = Rows::default();
        Ok(())
    }
}

struct Flow {
    api: Uuid,
    version: Uuid,
    operation: &'static str,
    application: Uuid,
    peak: f64,
    orders: bool,
    v2: bool,
}

/// One aggregate row per status class for `requests` over `[at, at + span)`.
fn sample(
    rng: &mut Rng,
    rows: &mut Rows,
    flow: &Flow,
    at: OffsetDateTime,
    span_minutes: f64,
    incident: f64,
) {
    let requests = flow.peak * day_curve(at) * span_minutes * (0.85 + 0.3 * rng.next());
    let server_error_share = 0.0003 * (1.0 - incident) + 0.10 * incident;
    for (class, share) in [
        (2i16, 1.0 - 0.012 - server_error_share),
        (4, 0.012),
        (5, server_error_share),
    ] {
        let n = rng.round(requests * share);
        if n == 0 {
            continue;
        }
        let mut hist = [0i64; BUCKETS];
        let mut sum_us = 0i64;
        let mut left = n;
        for (i, (normal, slow)) in NORMAL.iter().zip(SLOW).enumerate() {
            let p = normal * (1.0 - incident) + slow * incident;
            let k = rng.round(n as f64 * p).min(left);
            hist[i] = k;
            left -= k;
            let upper = BOUNDS_MS[i] as f64;
            let lower = if i == 0 { 0.0 } else { BOUNDS_MS[i - 1] as f64 };
            sum_us += (k as f64 * (upper + lower) / 2.0 * 1000.0) as i64;
        }
        // Whatever rounding left goes to the ≤ 50 ms bucket.
        hist[3] += left;
        sum_us += left * 37_500;
        rows.at.push(at);
        rows.version.push(flow.version);
        rows.api.push(flow.api);
        rows.operation.push(flow.operation.to_string());
        rows.application.push(flow.application);
        rows.class.push(class);
        rows.requests.push(n);
        rows.latency_sum.push(sum_us);
        let text: Vec<String> = hist.iter().map(i64::to_string).collect();
        rows.buckets.push(format!("{{{}}}", text.join(",")));
    }
}

pub async fn seed(pool: &PgPool) -> Result<()> {
    let mut flows = Vec::new();
    for (api, version, operation, app, peak) in FLOWS {
        let ids: (Uuid, Uuid) = sqlx::query_as(
            "SELECT a.id, v.id FROM apis a JOIN api_versions v ON v.api_id = a.id
             WHERE a.slug = $1 AND v.version = $2",
        )
        .bind(api)
        .bind(version)
        .fetch_one(pool)
        .await?;
        let application: Uuid = sqlx::query_scalar("SELECT id FROM applications WHERE name = $1")
            .bind(app)
            .fetch_one(pool)
            .await?;
        flows.push(Flow {
            api: ids.0,
            version: ids.1,
            operation,
            application,
            peak,
            orders: api == "orders",
            v2: version == "2.0.0",
        });
    }
    let now = OffsetDateTime::now_utc();
    let start = Width::Hour.floor(now - Duration::days(30));
    let boundary = Width::Hour.floor(now - Duration::days(2));
    // The incident: early afternoon UTC four days ago, two hours.
    let incident_start = Width::Hour
        .floor(now - Duration::days(4))
        .replace_time(time::macros::time!(13:00));
    let incident_end = incident_start + Duration::hours(2);
    // Returns v2 went live five days ago; before that only v1 was called.
    let v2_live = now - Duration::days(5);
    let mut rng = Rng(0x5EED_2026);
    let mut rows = Rows::default();
    let mut at = start;
    while at < boundary {
        for flow in &flows {
            if flow.v2 && at < v2_live {
                continue;
            }
            let overlap =
                if flow.orders && at < incident_end && at + Duration::hours(1) > incident_start {
                    1.0
                } else {
                    0.0
                };
            sample(&mut rng, &mut rows, flow, at, 60.0, overlap);
        }
        if rows.at.len() > 5000 {
            rows.insert(pool, "traffic_hours", "hour").await?;
        }
        at += Duration::hours(1);
    }
    rows.insert(pool, "traffic_hours", "hour").await?;
    let last = now
        .replace_second(0)
        .unwrap_or(now)
        .replace_nanosecond(0)
        .unwrap_or(now);
    while at < last {
        for flow in &flows {
            sample(&mut rng, &mut rows, flow, at, 1.0, 0.0);
        }
        if rows.at.len() > 5000 {
            rows.insert(pool, "traffic_minutes", "minute").await?;
        }
        at += Duration::minutes(1);
    }
    rows.insert(pool, "traffic_minutes", "minute").await?;
    sqlx::query("UPDATE traffic_rollup SET rolled_until = $1")
        .bind(boundary)
        .execute(pool)
        .await?;
    seed_slos(pool, incident_start, incident_end).await
}

/// SLOs by business capability, and the alerts the incident raised.
async fn seed_slos(pool: &PgPool, incident: OffsetDateTime, over: OffsetDateTime) -> Result<()> {
    let owner = super::principal(pool, super::USERS[2].0).await?;
    let admin = super::principal(pool, super::USERS[0].0).await?;
    let slos = [
        (
            &owner,
            "orders",
            "order acceptance",
            "Orders are accepted without a server error.",
            SloKind::Availability,
            99.9,
            28,
            None,
        ),
        (
            &owner,
            "orders",
            "order capture latency",
            "Orders are answered within 300 ms.",
            SloKind::Latency,
            99.0,
            28,
            Some(300),
        ),
        (
            &admin,
            "inventory",
            "stock publication",
            "Stock levels and reservations answer without a server error.",
            SloKind::Availability,
            99.5,
            30,
            None,
        ),
        (
            &admin,
            "shipments",
            "shipment confirmation",
            "Warehouses can confirm shipments.",
            SloKind::Availability,
            99.5,
            7,
            None,
        ),
    ];
    let mut acceptance = None;
    for (who, api, name, description, kind, target, window_days, threshold_ms) in slos {
        let slo = definitions::create(
            pool,
            who,
            NewSlo {
                api: api.into(),
                name: name.into(),
                description: description.into(),
                kind,
                target,
                window_days,
                threshold_ms,
                version_id: None,
                operation: None,
                application_id: None,
            },
        )
        .await?;
        acceptance.get_or_insert(slo.id);
    }
    if let Some(slo) = acceptance {
        for (severity, long, short, threshold, long_burn, short_burn, fired, resolved) in [
            (
                "page",
                "1h",
                "5m",
                14.4,
                88.0,
                101.0,
                incident + Duration::minutes(6),
                over + Duration::minutes(7),
            ),
            (
                "page",
                "6h",
                "30m",
                6.0,
                19.5,
                97.0,
                incident + Duration::minutes(24),
                over + Duration::minutes(32),
            ),
            (
                "ticket",
                "1d",
                "2h",
                3.0,
                4.6,
                92.0,
                incident + Duration::minutes(70),
                over + Duration::hours(2),
            ),
        ] {
            sqlx::query(
                "INSERT INTO slo_alerts (id, slo_id, severity, long_window, short_window, threshold,
                                         long_burn, short_burn, fired_at, resolved_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(Uuid::new_v4())
            .bind(slo)
            .bind(severity)
            .bind(long)
            .bind(short)
            .bind(threshold)
            .bind(long_burn)
            .bind(short_burn)
            .bind(fired)
            .bind(resolved)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}
