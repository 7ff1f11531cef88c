//! Burn-rate alerts on synthetic minute aggregates, fired and resolved by the
//! real evaluator against the real database.

use serde_json::{Value, json};
use steward_console::model::Role;
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
        .json(
            &json!({"slug": "orders", "name": "Orders", "team_id": team["id"], "tier": "critical"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_id: Uuid = api["id"].as_str().unwrap().parse().unwrap();
    let slo: Value = admin
        .post(app.api("/slos"))
        .json(&json!({"api": "orders", "name": "orders available", "kind": "availability", "target": 99.9, "window_days": 28}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slo_id = slo["id"].as_str().unwrap().to_string();
    let version = Uuid::new_v4();
    let now = OffsetDateTime::now_utc();

    // Only the last 5 minutes are bad: the short windows burn, the long ones barely.
    traffic(&app.pool, api_id, version, now, 5..600, 1000, 0).await;
    traffic(&app.pool, api_id, version, now, 0..5, 1000, 100).await;
    steward_server::slo::alerts::evaluate(&app.pool, now)
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
        steward_server::slo::alerts::evaluate(&app.pool, now)
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
        steward_server::slo::alerts::evaluate(&app.pool, now)
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
    steward_server::slo::alerts::evaluate(&app.pool, now)
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
