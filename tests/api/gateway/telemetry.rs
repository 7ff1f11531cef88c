//! What the gateway records: minute aggregates, sent once even when a commit's
//! answer is lost; the console's traffic views, `/metrics`, and SLOs from real traffic.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use steward_tests::gateway::{harness, problem_type, traffic};
use steward_tests::spawn_app;

#[tokio::test]
async fn a_telemetry_batch_sent_again_after_a_lost_answer_is_counted_once() {
    use steward_gateway::telemetry::{Key, Telemetry};
    let app = spawn_app().await;
    let t = Telemetry::default();
    let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    let key = Key {
        minute,
        version: uuid::Uuid::new_v4(),
        api: uuid::Uuid::new_v4(),
        operation: Arc::from("listOrders"),
        application: uuid::Uuid::nil(),
        class: 2,
    };
    for _ in 0..3 {
        t.record(key.clone(), Duration::from_millis(2));
    }
    let batch = t.next_batch().unwrap();
    assert!(
        batch.write(&app.pool).await.unwrap(),
        "the first attempt lands"
    );
    // Its commit's answer is lost: the gateway holds the batch and, at the next
    // flush, sends it again before what was recorded meanwhile.
    t.record(key.clone(), Duration::from_millis(30));
    t.hold(batch, minute);
    assert_eq!(t.backlog(), 2);
    assert_eq!(
        t.flush(&app.pool).await.unwrap(),
        2,
        "the held row, then the new one"
    );
    let (requests, buckets): (i64, Vec<i64>) = sqlx::query_as(
        "SELECT requests, latency_buckets FROM traffic_minutes WHERE version_id = $1",
    )
    .bind(key.version)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(requests, 4, "three samples once, and the fourth");
    assert_eq!((buckets[0], buckets[3]), (3, 1));
    assert_eq!((t.flushed(), t.backlog(), t.dropped()), (4, 0, 0));
    let ids: i64 = sqlx::query_scalar("SELECT count(*) FROM telemetry_batches")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(ids, 2);
}

#[tokio::test]
async fn the_console_api_shows_gateways_and_a_versions_traffic() {
    let h = harness().await;
    for _ in 0..4 {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap();
    }
    h.get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .header("x-test-status", "500")
        .send()
        .await
        .unwrap();
    h.within(Duration::from_secs(5), async || traffic(&h).await == 5)
        .await;
    let t = inventory_traffic(&h).await;
    assert_eq!(t["requests"], 5);
    assert_eq!(t["by_class"], json!([0, 4, 0, 0, 1]));
    assert_eq!(t["error_rate"], 0.2);
    assert!(t["p95_ms"].as_f64().is_some());
    assert_eq!(t["top_consumers"][0]["consumer"], "Northwind Marketplace");
    assert_eq!(t["top_consumers"][0]["requests"], 5);
    let gateways: Vec<Value> =
        h.f.viewer
            .get(h.app.api("/gateways"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(gateways.len(), 1);
    assert_eq!(gateways[0]["live"], true);
    assert!(gateways[0]["keys"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn metrics_are_in_the_prometheus_text_format() {
    let h = harness().await;
    h.get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap();
    h.get("/inventory/v1/stock-levels").send().await.unwrap();
    // Not public: the token is needed.
    let res = h.get("/metrics").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        "Bearer realm=\"steward-metrics\""
    );
    let res = h
        .get("/metrics")
        .bearer_auth(steward_tests::gateway::METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    for expected in [
        "steward_gateway_requests_total{api=\"inventory\",class=\"2xx\"} 1",
        "steward_gateway_requests_total{api=\"inventory\",class=\"4xx\"} 1",
        "steward_gateway_request_duration_seconds_bucket{api=\"inventory\",class=\"2xx\",le=\"+Inf\"} 1",
        "steward_gateway_request_duration_seconds_count{api=\"inventory\",class=\"2xx\"} 1",
        "steward_gateway_snapshot_age_seconds ",
        "steward_gateway_flush_backlog{kind=\"telemetry\"}",
        "steward_gateway_dropped_samples_total 0",
        "steward_db_pool_connections{state=\"in_use\"}",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    let control = h
        .http
        .get(h.app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        control.contains("steward_subscriptions_pending 0"),
        "{control}"
    );
    assert!(
        control.contains("steward_db_pool_connections{state=\"idle\"}"),
        "{control}"
    );
}

#[tokio::test]
async fn slos_are_computed_exactly_from_real_traffic() {
    let h = harness().await;
    // A plan that never limits, so that every status comes from the upstream.
    h.f.admin
        .patch(h.app.api("/plans/gold"))
        .json(&json!({"rate_per_second": 100000, "burst": 100000}))
        .send()
        .await
        .unwrap();
    h.within(Duration::from_secs(2), async || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .headers()["ratelimit-limit"]
            == "100000"
    })
    .await;
    // Let those probes flush, then start from empty aggregates.
    tokio::time::sleep(Duration::from_millis(600)).await;
    sqlx::query("DELETE FROM traffic_minutes")
        .execute(&h.app.pool)
        .await
        .unwrap();
    // 10,000 requests from 16 concurrent clients: every 50th answered 500 by the
    // upstream (exactly 2 %), every 20th slowed to 150 ms (exactly 5 %, past a
    // 100 ms threshold that the fast ones stay well under).
    const N: usize = 10_000;
    const CLIENTS: usize = 16;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..CLIENTS {
        let (http, url, key) = (
            h.http.clone(),
            format!("{}/inventory/v1/stock-levels", h.gateway),
            h.key.clone(),
        );
        workers.spawn(async move {
            for i in (w..N).step_by(CLIENTS) {
                let mut req = http.get(&url).header("x-api-key", &key);
                if i % 50 == 0 {
                    req = req.header("x-test-status", "500");
                } else if i % 20 == 5 {
                    req = req.header("x-test-sleep-ms", "150");
                }
                let status = req.send().await.unwrap().status().as_u16();
                assert_eq!(status, if i % 50 == 0 { 500 } else { 200 }, "request {i}");
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    h.within(Duration::from_secs(10), async || {
        traffic(&h).await == N as i64
    })
    .await;

    let create = |body: Value| h.f.owner.post(h.app.api("/slos")).json(&body).send();
    let res = create(
        json!({"api": "inventory", "name": "stock reads available", "kind": "availability",
                            "target": 99.0, "window_days": 28}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let availability: Value = res.json().await.unwrap();
    let s = &availability["status"];
    assert_eq!(
        (s["total"].as_i64(), s["good"].as_i64(), s["bad"].as_i64()),
        (Some(10_000), Some(9_800), Some(200))
    );
    assert_eq!(s["sli"], 98.0);
    assert_eq!(s["compliant"], false);
    assert_eq!(s["budget_total"], 100.0);
    assert_eq!(s["budget_consumed"], 200);
    assert_eq!(s["budget_remaining"], -100.0);
    assert_eq!(s["budget_remaining_percent"], -100.0);

    let res = create(
        json!({"api": "inventory", "name": "stock reads fast", "kind": "latency",
                            "target": 90.0, "window_days": 7, "threshold_ms": 100,
                            "operation": "listStockLevels"}),
    )
    .await
    .unwrap();
    let latency: Value = res.json().await.unwrap();
    let s = &latency["status"];
    assert_eq!(
        (s["total"].as_i64(), s["good"].as_i64()),
        (Some(10_000), Some(9_500)),
        "{latency}"
    );
    assert_eq!(s["sli"], 95.0);
    assert_eq!(s["compliant"], true);
    assert_eq!(s["budget_total"], 1000.0);
    assert_eq!(s["budget_remaining_percent"], 50.0);

    // The hourly series holds the same numbers in the current hour, and the
    // burn-down ends where the status stands.
    let id = availability["id"].as_str().unwrap();
    let series: Value =
        h.f.viewer
            .get(h.app.api(&format!("/slos/{id}/series?resolution=hour")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let points = series["points"].as_array().unwrap();
    // Every hour counted in the window, quiet ones too: from the first whole hour
    // inside it (the window's start itself, only if that is a whole hour) to now.
    assert!(
        matches!(points.len(), 672 | 673),
        "every hour of the window: {}",
        points.len()
    );
    let first = time::OffsetDateTime::parse(
        points[0]["start"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(first >= time::OffsetDateTime::now_utc() - time::Duration::days(28));
    assert_eq!((first.minute(), first.second()), (0, 0));
    let busy: Vec<&Value> = points.iter().filter(|p| p["total"] != 0).collect();
    let (total, good): (i64, i64) = busy.iter().fold((0, 0), |(t, g), p| {
        (
            t + p["total"].as_i64().unwrap(),
            g + p["good"].as_i64().unwrap(),
        )
    });
    assert_eq!((total, good), (10_000, 9_800));
    assert_eq!(points.last().unwrap()["budget_remaining_percent"], -100.0);
    let five_minutes = series["burn_rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["window"] == "5m")
        .unwrap();
    // 2 % errors against a 1 % budget.
    assert_eq!(five_minutes["burn_rate"], 2.0);
    let res =
        h.f.viewer
            .get(h.app.api(&format!("/slos/{id}/series?resolution=week")))
            .send()
            .await
            .unwrap();
    steward_tests::problem(res, 422).await;

    // The API's traffic: exact counts, and percentiles from the histogram that
    // land in the bucket of the true value (fast requests well under 25 ms, the
    // 99th percentile among the 150 ms ones).
    let traffic: Value =
        h.f.viewer
            .get(h.app.api("/apis/inventory/traffic?hours=1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(traffic["requests"], 10_000);
    assert_eq!(traffic["resolution"], "minute");
    assert_eq!(traffic["by_class"], json!([0, 9_800, 0, 0, 200]));
    assert_eq!(traffic["error_rate"], 0.02);
    assert!(traffic["p50_ms"].as_f64().unwrap() <= 25.0, "{traffic}");
    assert!(traffic["p95_ms"].as_f64().unwrap() <= 100.0, "{traffic}");
    assert_eq!(
        traffic["p99_ms"], 200.0,
        "150 ms falls in the (100, 200] bucket"
    );
    let per_minute: i64 = traffic["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["by_class"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_i64().unwrap())
                .sum::<i64>()
        })
        .sum();
    assert_eq!(per_minute, 10_000);
    assert_eq!(traffic["top_consumers"][0]["requests"], 10_000);
    assert_eq!(traffic["top_consumers"][0]["errors"], 200);

    // The list puts the SLO with the least budget left first; refusals are precise.
    let list: Vec<Value> =
        h.f.viewer
            .get(h.app.api("/slos"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(list[0]["name"], "stock reads available");
    let res = create(
        json!({"api": "inventory", "name": "odd", "kind": "latency", "target": 99.0,
                            "window_days": 14, "threshold_ms": 42}),
    )
    .await
    .unwrap();
    let body = steward_tests::problem(res, 422).await;
    let fields = steward_tests::problem_fields(&body);
    assert_eq!(fields, ["window_days", "threshold_ms"]);
    let res =
        h.f.stranger
            .post(h.app.api("/slos"))
            .json(&json!({"api": "inventory", "name": "x",
        "kind": "availability", "target": 99.0, "window_days": 7}))
            .send()
            .await
            .unwrap();
    steward_tests::problem(res, 403).await;
    assert_eq!(h.app.audit_count("slo.create").await, 2);
    let overview: Value =
        h.f.viewer
            .get(h.app.api("/overview"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let at_risk: Vec<&str> = overview["slos_at_risk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        at_risk,
        ["stock reads available"],
        "the Overview shows SLOs with little budget left"
    );
}

/// A call with a revoked key is refused with that reason, and still counts as
/// its application's traffic, marked: the owner sees who keeps using it.
#[tokio::test]
async fn calls_with_a_revoked_key_are_refused_and_attributed_to_its_application() {
    let h = harness().await;
    let stock = || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
    };
    assert_eq!(stock().send().await.unwrap().status(), 200);
    let key_id: String =
        sqlx::query_scalar("SELECT id::text FROM api_keys WHERE name = 'gateway-test'")
            .fetch_one(&h.app.pool)
            .await
            .unwrap();
    let res =
        h.f.admin
            .delete(h.app.api(&format!("/keys/{key_id}")))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    h.within(Duration::from_secs(2), async || {
        stock().send().await.unwrap().status() == 401
    })
    .await;
    let (body, _) = problem_type(stock().send().await.unwrap(), 401).await;
    assert_eq!(body["detail"], "the API key has been revoked");
    // Another key, never issued, is only unknown.
    let unknown = h.key[..h.key.len() - 4].to_string() + "0000";
    let (body, _) = problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", unknown)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    assert_eq!(body["detail"], "the API key is unknown");

    // A key past its expiry is told apart too, also once the snapshot has been
    // rebuilt without it among the active keys.
    let created: Value =
        h.f.admin
            .post(
                h.app
                    .api(&format!("/applications/{}/keys", h.f.production_app)),
            )
            .json(&json!({"name": "short-lived"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let short = created["secret"].as_str().unwrap().to_string();
    // Known to the gateway before any call with it, which would otherwise be
    // "unknown": the gateway's snapshot counts the active keys.
    h.within(Duration::from_secs(2), async || {
        let ready: Value = h.get("/readyz").send().await.unwrap().json().await.unwrap();
        ready["keys"] == 1
    })
    .await;
    sqlx::query(
        "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE name = 'short-lived'",
    )
    .execute(&h.app.pool)
    .await
    .unwrap();
    h.announce("key").await;
    h.within(Duration::from_secs(2), async || {
        let res = h
            .get("/inventory/v1/stock-levels")
            .header("x-api-key", &short)
            .send()
            .await
            .unwrap();
        res.status() == 401
            && res.json::<Value>().await.unwrap()["detail"] == "the API key has expired"
    })
    .await;

    let top = async || inventory_traffic(&h).await["top_consumers"].clone();
    h.within(Duration::from_secs(5), async || {
        top().await[0]["revoked_key_used"] == true
    })
    .await;
    let top = top().await;
    assert_eq!(top[0]["consumer"], "Northwind Marketplace", "{top}");
    // The 200 and the refusals with the revoked key are all Northwind's. Only
    // the made-up key, whose secret matches nothing, is anonymous.
    assert!(top[0]["requests"].as_i64().unwrap() >= 3, "{top}");
    assert_eq!(top[1]["consumer"], "anonymous", "{top}");
    assert_eq!(top[1]["requests"], 1, "{top}");
}

/// The inventory v1 version's traffic as a viewer reads it in the console API.
async fn inventory_traffic(h: &steward_tests::gateway::Harness) -> Value {
    let version: String =
        sqlx::query_scalar("SELECT id::text FROM api_versions WHERE base_path = '/inventory/v1'")
            .fetch_one(&h.app.pool)
            .await
            .unwrap();
    h.f.viewer
        .get(h.app.api(&format!("/versions/{version}/traffic")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
