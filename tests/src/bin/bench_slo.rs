//! SLO and dashboard benchmark (run by `tests/bench/slo`, release build). Generates
//! 30 days of minute aggregates for 50 APIs and 1,000 SLOs in a fresh database,
//! then prints:
//! - the first retention pass (30 days of minutes rolled up to hours),
//! - a full evaluation cycle (every SLO, every burn-rate window, alert state),
//!   on the raw minutes and in steady state after the rollup,
//! - the SLO list's status computation,
//! - p50/p95 of the dashboard API calls over real HTTP.
//!
//! Targets (issue 6): an evaluation cycle under 1 s, dashboard calls p95 under 100 ms.

use std::time::{Duration, Instant};
use steward_control::slo::{alerts, definitions};
use steward_control::traffic::rollup::{Retention, roll};
use steward_model::Role;
use steward_tests::spawn_app;
use time::OffsetDateTime;
use uuid::Uuid;

const APIS: usize = 50;
const SLOS_PER_API: usize = 20;
const DAYS: i64 = 30;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Best of `runs` timings of `f`.
async fn best<T>(runs: usize, mut f: impl AsyncFnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f().await;
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = spawn_app().await;
    let pool = app.pool.clone();
    let now = OffsetDateTime::now_utc();
    let owner: Uuid = sqlx::query_scalar(
        "INSERT INTO teams (id, slug, name) VALUES ($1, 'bench', 'Bench') RETURNING id",
    )
    .bind(Uuid::new_v4())
    .fetch_one(&pool)
    .await?;
    let mut apis = Vec::new();
    for i in 0..APIS {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO apis (id, slug, name, team_id, capability, tier)
             VALUES ($1, $2, $3, $4, 'bench', 'standard')",
        )
        .bind(id)
        .bind(format!("api-{i:02}"))
        .bind(format!("API {i:02}"))
        .bind(owner)
        .execute(&pool)
        .await?;
        apis.push(id);
    }
    // 20 SLOs per API: availability and latency, all windows, some per operation.
    sqlx::query(
        "INSERT INTO slos (id, api_id, name, kind, target, window_days, threshold_ms, operation)
         SELECT gen_random_uuid(), a, 'slo-' || n,
                CASE WHEN n % 2 = 0 THEN 'availability' ELSE 'latency' END,
                (ARRAY[99.0, 99.5, 99.9, 99.95])[1 + n % 4],
                (ARRAY[7, 28, 30])[1 + n % 3],
                CASE WHEN n % 2 = 0 THEN NULL ELSE (ARRAY[100, 200, 300, 500])[1 + n % 4] END,
                CASE WHEN n % 5 = 0 THEN 'op-' || (n % 2) END
         FROM unnest($1::uuid[]) AS a, generate_series(0, $2 - 1) AS n",
    )
    .bind(&apis)
    .bind(SLOS_PER_API as i32)
    .execute(&pool)
    .await?;

    // 30 days of minutes: per API two operations from one application, 2xx every
    // minute and 5xx in one minute of ten.
    let start = Instant::now();
    let rows = sqlx::query(
        "INSERT INTO traffic_minutes (minute, version_id, api_id, operation, application_id,
                                      status_class, requests, latency_sum_us, latency_buckets)
         SELECT date_trunc('minute', $1::timestamptz) - make_interval(mins => m), a, a, 'op-' || o,
                '00000000-0000-0000-0000-000000000001', c,
                CASE WHEN c = 2 THEN 100 ELSE 1 END, 0,
                CASE WHEN c = 2 THEN ARRAY[5, 20, 30, 25, 12, 5, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]
                     ELSE ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0] END::bigint[]
         FROM unnest($2::uuid[]) AS a, generate_series(0, $3 - 1) AS m, generate_series(0, 1) AS o,
              (VALUES (2), (5)) AS s(c)
         WHERE c = 2 OR (m + o) % 10 = 0",
    )
    .bind(now)
    .bind(&apis)
    .bind((DAYS * 24 * 60) as i32)
    .execute(&pool)
    .await?
    .rows_affected();
    sqlx::query("ANALYZE traffic_minutes")
        .execute(&pool)
        .await?;
    println!(
        "generated {rows} minute rows ({APIS} APIs, {} SLOs, {DAYS} days) in {:.1} s",
        APIS * SLOS_PER_API,
        start.elapsed().as_secs_f64()
    );

    let (raw, cycle) = best(3, async || alerts::evaluate(&pool, now).await).await;
    let cycle = cycle?;
    println!(
        "evaluation cycle before the first rollup ({} SLOs, windows up to 30 days on raw minutes): {}",
        cycle.slos,
        ms(raw)
    );

    let start = Instant::now();
    let pass = roll(&pool, now, Retention::default()).await?;
    sqlx::query("ANALYZE traffic_hours").execute(&pool).await?;
    sqlx::query("ANALYZE traffic_minutes")
        .execute(&pool)
        .await?;
    println!(
        "first retention pass: {} hourly rows written, {} minute rows pruned in {:.1} s",
        pass.hours_written,
        pass.minutes_pruned,
        start.elapsed().as_secs_f64()
    );
    let (steady, _) = best(5, async || alerts::evaluate(&pool, now).await).await;
    println!(
        "evaluation cycle in steady state (hours, and minutes for the last 6 h): {}  (target < 1 s: {})",
        ms(steady),
        if steady < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        }
    );
    let viewer = steward_model::Principal {
        user_id: Uuid::nil(),
        email: "bench@steward.local".into(),
        display_name: "bench".into(),
        role: Role::Viewer,
        auth: steward_model::AuthMethod::Session,
    };
    let (list, slos) = best(5, async || definitions::list(&pool, &viewer).await).await;
    let slos = slos?;
    println!(
        "SLO list from the stored statuses ({} SLOs): {}",
        slos.len(),
        ms(list)
    );

    // Dashboard calls over HTTP, as the console and API clients make them.
    let client = app.as_role(Role::Viewer).await;
    let slo = slos[slos.len() / 2].id;
    let calls = [
        ("GET /slos (1,000 SLOs)", app.api("/slos")),
        ("GET /slos/{id}", app.api(&format!("/slos/{slo}"))),
        (
            "GET /slos/{id}/series?resolution=day",
            app.api(&format!("/slos/{slo}/series?resolution=day")),
        ),
        (
            "GET /slos/{id}/series?resolution=hour",
            app.api(&format!("/slos/{slo}/series?resolution=hour")),
        ),
        (
            "GET /slos/{id}/alerts",
            app.api(&format!("/slos/{slo}/alerts")),
        ),
        (
            "GET /apis/{id}/traffic?hours=24",
            app.api("/apis/api-07/traffic?hours=24"),
        ),
        (
            "GET /apis/{id}/traffic?hours=720",
            app.api("/apis/api-07/traffic?hours=720"),
        ),
        ("GET /deprecations", app.api("/deprecations")),
        ("GET /overview", app.api("/overview")),
    ];
    println!(
        "\n{:<42} {:>10} {:>10}   (40 calls each)",
        "dashboard call", "p50", "p95"
    );
    let mut worst = Duration::ZERO;
    for (label, url) in calls {
        let mut times = Vec::new();
        for _ in 0..40 {
            let start = Instant::now();
            let res = client.get(&url).send().await?;
            anyhow::ensure!(res.status().is_success(), "{label}: {}", res.status());
            res.bytes().await?;
            times.push(start.elapsed());
        }
        times.sort();
        let p95 = percentile(&times, 0.95);
        worst = worst.max(p95);
        println!(
            "{label:<42} {:>10} {:>10}",
            ms(percentile(&times, 0.5)),
            ms(p95)
        );
    }
    println!(
        "worst dashboard p95: {}  (target < 100 ms: {})",
        ms(worst),
        if worst < Duration::from_millis(100) {
            "met"
        } else {
            "MISSED"
        }
    );
    Ok(())
}
