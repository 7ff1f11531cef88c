//! Burn-rate alerts on synthetic minute aggregates, fired and resolved by the
//! real evaluator against the real database.

use serde_json::{Value, json};
use steward_model::Role;
use steward_tests::spawn_app;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Writes `requests` per minute, `bad` of them 5xx, for the minutes `from..to` ago.
async fn traffic(
    pool: &sqlx::PgPool,
    api: Uuid,
    version: Uuid,
    now: OffsetDateTime,
    ago: std::ops::Range<i64>,
    requests: i64,
    bad: i64,
) {
    let buckets: Vec<i64> = {
        let mut b = vec![0i64; 16];
        b[0] = requests;
        b
    };
    for m in ago {
        let minute = (now - Duration::minutes(m))
            .replace_second(0)
            .unwrap()
            .replace_nanosecond(0)
            .unwrap();
        for (class, n) in [(2i16, requests - bad), (5i16, bad)] {
            if n == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO traffic_minutes (minute, version_id, api_id, operation, application_id, status_class,
                                              requests, latency_sum_us, latency_buckets)
                 VALUES ($1, $2, $3, 'listOrders', '00000000-0000-0000-0000-000000000000', $4, $5, 0, $6)
                 ON CONFLICT (minute, version_id, operation, application_id, status_class)
                 DO UPDATE SET requests = traffic_minutes.requests + excluded.requests",
            )
            .bind(minute)
            .bind(version)
            .bind(api)
            .bind(class)
            .bind(n)
            .bind(&buckets)
            .execute(pool)
            .await
            .unwrap();
        }
    }
}

#[tokio::test]
async fn burn_rate_alerts_fire_on_both_windows_and_resolve() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let (api_id, slo_id) = orders_slo(&app).await;
    let version = Uuid::new_v4();
    let now = OffsetDateTime::now_utc();

    // Only the last 5 minutes are bad: the short windows burn, the long ones barely.
    traffic(&app.pool, api_id, version, now, 5..600, 1000, 0).await;
    traffic(&app.pool, api_id, version, now, 0..5, 1000, 100).await;
    steward_control::slo::alerts::evaluate(&app.pool, now)
        .await
        .unwrap();
    let alerts: Vec<Value> = admin
        .get(app.api(&format!("/slos/{slo_id}/alerts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // 1h: 500 bad of 60,000 = burn 8.3 < 14.4, so the page rule on 1h/5m stays quiet
    // although 5m burns at 100; 6h/30m: long 1.4 < 6. Nothing fires.
    assert!(alerts.is_empty(), "{alerts:?}");

    // A sustained incident: the last hour at 2 % errors, burn 20 everywhere it counts.
    sqlx::query(
        "UPDATE traffic_minutes SET requests = CASE WHEN status_class = 5 THEN 20 ELSE 980 END
                 WHERE minute > $1",
    )
    .bind(now - Duration::minutes(60))
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO traffic_minutes (minute, version_id, api_id, operation, application_id, status_class, requests, latency_sum_us, latency_buckets)
                 SELECT minute, version_id, api_id, operation, application_id, 5, 20, 0, latency_buckets FROM traffic_minutes
                 WHERE minute > $1 AND status_class = 2 ON CONFLICT DO NOTHING")
        .bind(now - Duration::minutes(60))
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(
        steward_control::slo::alerts::evaluate(&app.pool, now)
            .await
            .unwrap()
            .changed
            >= 1
    );
    let alerts: Vec<Value> = admin
        .get(app.api(&format!("/slos/{slo_id}/alerts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = alerts
        .iter()
        .find(|a| a["long_window"] == "1h")
        .expect("the 1h/5m page fires");
    assert_eq!(page["severity"], "page");
    assert!(page["resolved_at"].is_null());
    assert!(
        page["long_burn"].as_f64().unwrap() > 14.4 && page["short_burn"].as_f64().unwrap() > 14.4,
        "{page}"
    );
    assert!(
        alerts
            .iter()
            .all(|a| a["long_window"] != "3d" || a["severity"] == "ticket")
    );
    assert_eq!(
        steward_control::slo::alerts::evaluate(&app.pool, now)
            .await
            .unwrap()
            .changed,
        0,
        "firing is not re-fired"
    );

    // Recovery: the last 5 minutes are clean, so the short window stops burning.
    sqlx::query("DELETE FROM traffic_minutes WHERE status_class = 5 AND minute > $1")
        .bind(now - Duration::minutes(6))
        .execute(&app.pool)
        .await
        .unwrap();
    steward_control::slo::alerts::evaluate(&app.pool, now)
        .await
        .unwrap();
    let alerts: Vec<Value> = admin
        .get(app.api(&format!("/slos/{slo_id}/alerts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = alerts.iter().find(|a| a["long_window"] == "1h").unwrap();
    assert!(page["resolved_at"].is_string(), "{page}");
    assert!(app.audit_count("slo.alert.fire").await >= 1);
    assert!(app.audit_count("slo.alert.resolve").await >= 1);
}

#[tokio::test]
async fn slos_round_trip_through_openslo() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let team: Value = admin
        .post(app.api("/teams"))
        .json(&json!({"slug": "stock", "name": "Stock"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    admin
        .post(app.api("/apis"))
        .json(&json!({"slug": "inventory", "name": "Inventory", "team_id": team["id"]}))
        .send()
        .await
        .unwrap();
    let slo: Value = admin
        .post(app.api("/slos"))
        .json(&json!({"api": "inventory", "name": "stock publication fast", "kind": "latency",
                      "target": 99.5, "window_days": 7, "threshold_ms": 300, "operation": "listStockLevels"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = admin
        .get(app.api(&format!("/slos/{}/openslo", slo["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/yaml");
    let yaml = res.text().await.unwrap();
    assert!(
        yaml.contains("apiVersion: openslo/v1") && yaml.contains("duration: 7d"),
        "{yaml}"
    );
    let renamed = yaml.replace(
        "displayName: stock publication fast",
        "displayName: stock publication fast (copy)",
    );
    let res = admin
        .post(app.api("/slos/openslo"))
        .header("content-type", "application/yaml")
        .body(renamed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let copy: Value = res.json().await.unwrap();
    for field in [
        "kind",
        "target",
        "window_days",
        "threshold_ms",
        "operation",
        "api_slug",
    ] {
        assert_eq!(copy[field], slo[field], "{field}");
    }
    let res = admin
        .post(app.api("/slos/openslo"))
        .body("apiVersion: openslo/v1\nkind: SLO\nspec: [")
        .send()
        .await
        .unwrap();
    let body = steward_tests::problem(res, 422).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line"),
        "{body}"
    );
}

/// A team, an API `orders` and an availability SLO at 99.9 % over 28 days on it.
async fn orders_slo(app: &steward_tests::TestApp) -> (Uuid, String) {
    let admin = app.as_role(Role::Admin).await;
    let team: Value = admin
        .post(app.api("/teams"))
        .json(&json!({"slug": "orders", "name": "Orders"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api: Value = admin
        .post(app.api("/apis"))
        .json(&json!({"slug": "orders", "name": "Orders", "team_id": team["id"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slo: Value = admin
        .post(app.api("/slos"))
        .json(
            &json!({"api": "orders", "name": "orders available", "kind": "availability",
                      "target": 99.9, "window_days": 28}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        api["id"].as_str().unwrap().parse().unwrap(),
        slo["id"].as_str().unwrap().to_string(),
    )
}

/// Writes `requests` per minute, `bad` of them 5xx, for every minute `ago` back
/// from `now`, in one statement.
async fn bulk(
    pool: &sqlx::PgPool,
    api: Uuid,
    now: OffsetDateTime,
    ago: std::ops::Range<i64>,
    requests: i64,
    bad: i64,
) {
    sqlx::query(
        "INSERT INTO traffic_minutes (minute, version_id, api_id, operation, application_id,
                                      status_class, requests, latency_sum_us, latency_buckets)
         SELECT date_trunc('minute', $1::timestamptz) - make_interval(mins => g::int),
                '00000000-0000-0000-0000-00000000000a', $2, 'listOrders',
                '00000000-0000-0000-0000-000000000000', c.class, c.n, 0,
                ARRAY[c.n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]::bigint[]
         FROM generate_series($3::bigint, $4::bigint - 1) AS g,
              (VALUES (2::smallint, $5::bigint), (5::smallint, $6::bigint)) AS c(class, n)
         WHERE c.n > 0
         ON CONFLICT (minute, version_id, operation, application_id, status_class)
         DO UPDATE SET requests = excluded.requests",
    )
    .bind(now)
    .bind(api)
    .bind(ago.start)
    .bind(ago.end)
    .bind(requests - bad)
    .bind(bad)
    .execute(pool)
    .await
    .unwrap();
}

async fn open_alerts(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT long_window FROM slo_alerts WHERE resolved_at IS NULL ORDER BY fired_at, long_window",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_window_pair_fires_on_its_own_burn_and_resolves() {
    let app = spawn_app().await;
    let (api, _) = orders_slo(&app).await;
    // PostgreSQL keeps microseconds.
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.nanosecond() / 1000 * 1000)
        .unwrap();
    // (rule's long window and short window in minutes, bad requests per 1,000
    // per minute over the long window, i.e. the burn rate at a 0.1 % budget,
    // and the rules that must fire). Each burn clears its own rule's threshold
    // but not the shorter rules' higher ones; a day at burn 5 also spends
    // enough for the 3-day ticket (5 / 3 > 1).
    let cases: [(&str, i64, i64, i64, &[&str]); 4] = [
        ("1h", 60, 5, 22, &["1h"]),
        ("6h", 360, 30, 9, &["6h"]),
        ("1d", 1440, 120, 5, &["1d", "3d"]),
        ("3d", 4320, 360, 2, &["3d"]),
    ];
    for (name, long, short, burn, firing) in cases {
        sqlx::query("DELETE FROM traffic_minutes")
            .execute(&app.pool)
            .await
            .unwrap();
        // Three clean days, then the burn over the rule's long window.
        bulk(&app.pool, api, now, 0..4320, 1000, 0).await;
        bulk(&app.pool, api, now, 0..long, 1000, burn).await;
        steward_control::slo::alerts::evaluate(&app.pool, now)
            .await
            .unwrap();
        let mut open = open_alerts(&app.pool).await;
        open.sort();
        let mut expected: Vec<String> = firing.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(open, expected, "burn {burn} over {name}");
        // The short window goes clean: the rule stops firing although its long
        // window still burns.
        bulk(&app.pool, api, now, 0..short, 1000, 0).await;
        sqlx::query("DELETE FROM traffic_minutes WHERE status_class = 5 AND minute > $1")
            .bind(now - Duration::minutes(short + 1))
            .execute(&app.pool)
            .await
            .unwrap();
        steward_control::slo::alerts::evaluate(&app.pool, now)
            .await
            .unwrap();
        let resolved: Option<OffsetDateTime> = sqlx::query_scalar(
            "SELECT resolved_at FROM slo_alerts WHERE long_window = $1 ORDER BY fired_at DESC LIMIT 1",
        )
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            resolved,
            Some(now),
            "{name} resolves when its short window is clean"
        );
        // Quiet again before the next case.
        sqlx::query("DELETE FROM traffic_minutes")
            .execute(&app.pool)
            .await
            .unwrap();
        steward_control::slo::alerts::evaluate(&app.pool, now)
            .await
            .unwrap();
        assert!(open_alerts(&app.pool).await.is_empty());
    }
    let fired: i64 = sqlx::query_scalar("SELECT count(*) FROM slo_alerts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(fired, 5);
    assert_eq!(app.audit_count("slo.alert.fire").await, 5);
    assert_eq!(app.audit_count("slo.alert.resolve").await, 5);
}

#[tokio::test]
async fn minutes_roll_up_to_hours_without_changing_what_slos_count() {
    use steward_control::traffic::rollup::{Retention, roll};
    let app = spawn_app().await;
    let (api, slo) = orders_slo(&app).await;
    let viewer = app.as_role(Role::Viewer).await;
    let now = OffsetDateTime::now_utc();
    // Three days of minutes: 100 requests each, 1 of them a 5xx every minute of
    // the last 6 hours and of the day before yesterday.
    bulk(&app.pool, api, now, 0..4320, 100, 0).await;
    bulk(&app.pool, api, now, 0..360, 100, 1).await;
    bulk(&app.pool, api, now, 2880..4320, 100, 1).await;
    let status = async || -> Value {
        // Lists show the last evaluation cycle's statuses; run one.
        steward_control::slo::alerts::evaluate(&app.pool, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let slo: Value = viewer
            .get(app.api(&format!("/slos/{slo}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let list: Vec<Value> = viewer
            .get(app.api("/slos"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list[0]["status"], slo["status"], "list and detail agree");
        slo["status"].clone()
    };
    let before = status().await;
    assert_eq!(before["total"], 432_000);
    assert_eq!(before["bad"], 360 + 1440);

    let keep = Retention {
        minute_days: 1,
        hour_days: 400,
    };
    let pass = roll(&app.pool, now, keep).await.unwrap();
    assert!(pass.hours_written >= 70, "{pass:?}");
    assert!(
        pass.minutes_pruned > 0,
        "minutes older than a day are gone: {pass:?}"
    );
    let oldest: OffsetDateTime = sqlx::query_scalar("SELECT min(minute) FROM traffic_minutes")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(oldest > now - Duration::days(1) - Duration::hours(3));
    assert_eq!(status().await, before, "rolled-up hours count the same");
    // A second pass rewrites the same sums.
    roll(&app.pool, now, keep).await.unwrap();
    assert_eq!(status().await, before, "rolling up is idempotent");
    let hourly: i64 = sqlx::query_scalar("SELECT sum(requests)::bigint FROM traffic_hours")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(hourly >= 432_000 - 100 * 80, "{hourly}");
    // The daily series reads the same rows.
    let series: Value = viewer
        .get(app.api(&format!("/slos/{slo}/series?resolution=day")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counted: i64 = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["total"].as_i64().unwrap())
        .sum();
    assert_eq!(counted, 432_000);
}

#[tokio::test]
async fn owners_of_the_team_change_and_delete_slos_and_other_roles_get_403() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let (_, slo) = orders_slo(&app).await;
    let team: String = sqlx::query_scalar("SELECT id::text FROM teams WHERE slug = 'orders'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let owner_id = app.create_user("omar@example.test", Role::Owner).await;
    let res = admin
        .put(app.api(&format!("/teams/{team}/members/{owner_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (owner, _) = app
        .sign_in("omar@example.test", steward_tests::PASSWORD)
        .await;
    let url = app.api(&format!("/slos/{slo}"));

    // Reviewers, viewers and owners outside the API's team may not.
    for role in [Role::Reviewer, Role::Viewer, Role::Owner] {
        let other = app.as_role(role).await;
        let res = other
            .patch(&url)
            .json(&json!({"target": 99.0}))
            .send()
            .await
            .unwrap();
        steward_tests::problem(res, 403).await;
        let res = other.delete(&url).send().await.unwrap();
        steward_tests::problem(res, 403).await;
    }

    // The team's owner may: invalid values are named, valid ones apply.
    let res = owner
        .patch(&url)
        .json(&json!({"target": 100.0, "window_days": 14}))
        .send()
        .await
        .unwrap();
    let body = steward_tests::problem(res, 422).await;
    let fields = steward_tests::problem_fields(&body);
    assert_eq!(fields, ["target", "window_days"]);
    let res = owner
        .patch(&url)
        .json(&json!({"target": 99.5, "window_days": 7, "description": "checkout path"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        (
            &changed["target"],
            &changed["window_days"],
            &changed["description"]
        ),
        (&json!(99.5), &json!(7), &json!("checkout path"))
    );
    assert_eq!(changed["name"], "orders available", "absent fields stay");
    assert_eq!(changed["kind"], "availability");
    assert_eq!(app.audit_count("slo.update").await, 1);

    let res = owner.delete(&url).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = admin.get(&url).send().await.unwrap();
    steward_tests::problem(res, 404).await;
    assert_eq!(app.audit_count("slo.delete").await, 1);
    let res = owner.delete(&url).send().await.unwrap();
    steward_tests::problem(res, 404).await;
}
