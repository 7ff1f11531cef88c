//! What the gateway does when upstreams or the database fail: 502 and 504,
//! retries of idempotent requests, the circuit breaker, serving through an outage.

use serde_json::{Value, json};
use std::time::Duration;
use steward_tests::gateway::{harness, harness_with, problem_type, status_line, traffic};

#[tokio::test]
async fn upstream_failures_are_502_and_504() {
    let h = harness().await;
    let stock = |sleep_ms: &str| {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .header("x-test-sleep-ms", sleep_ms)
    };
    // A quick answer first, so that the slow request goes on a pooled
    // connection whose deadline is moved rather than set afresh; and a quick
    // one after, which must not be held by the abandoned exchange.
    for round in 0..2 {
        assert_eq!(
            stock("0").send().await.unwrap().status(),
            200,
            "round {round}"
        );
        let (body, _) = problem_type(stock("2000").send().await.unwrap(), 504).await;
        assert_eq!(
            body["type"],
            "https://steward.dev/problems/gateway/upstream-timeout"
        );
    }
    assert_eq!(stock("0").send().await.unwrap().status(), 200);

    // Nothing listens on port 9.
    sqlx::query("UPDATE api_versions SET upstream_url = 'http://127.0.0.1:9/inventory' WHERE base_path = '/inventory/v1'")
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("version").await;
    h.within(Duration::from_secs(1), async || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .status()
            == 502
    })
    .await;
    let (body, _) = problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap(),
        502,
    )
    .await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/upstream-unreachable"
    );
}

#[tokio::test]
async fn idempotent_requests_are_retried_once_and_others_never() {
    let h = harness().await;
    let res = h
        .get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .header("x-test-fail-first", "get-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a GET that met a 503 was retried");
    assert_eq!(res.json::<Value>().await.unwrap()["attempt"], 2);
    let res = h
        .http
        .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
        .header("x-api-key", &h.key)
        .header("idempotency-key", "adjust-0003")
        .header("x-test-fail-first", "post-1")
        .json(
            &json!({"warehouse_id": "W1", "sku": "SKU-1", "quantity_delta": 1, "reason": "damage"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503, "a POST is never sent twice");
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures_and_recovers() {
    let h = harness().await;
    let failing = || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .header("x-test-status", "502")
    };
    // Each failing GET is tried twice, so three requests reach the threshold of five.
    for _ in 0..3 {
        assert_eq!(failing().send().await.unwrap().status(), 502);
    }
    let (body, headers) = problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap(),
        503,
    )
    .await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/circuit-open"
    );
    assert_eq!(headers["retry-after"], "1");
    // The gateway says so in its heartbeat, which the Gateways page and the
    // API page read: the upstream by its authority, with its circuit's state.
    let upstream: String = sqlx::query_scalar(
        "SELECT upstream_url FROM api_versions WHERE base_path = '/inventory/v1'",
    )
    .fetch_one(&h.app.pool)
    .await
    .unwrap();
    let authority = steward_model::upstream_authority(&upstream)
        .unwrap()
        .to_string();
    let reported = async || -> Vec<Value> {
        let gateways: Value =
            h.f.admin
                .get(h.app.api("/gateways"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        gateways[0]["upstreams"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    h.within(Duration::from_secs(2), async || {
        reported()
            .await
            .iter()
            .any(|u| u["upstream"] == authority.as_str() && u["state"] == "open")
    })
    .await;
    let failures = reported().await[0]["failures"].as_u64().unwrap_or(0);
    assert!(failures >= 5, "failures in a row: {failures}");
    // After the cooldown one trial goes through; its success closes the circuit.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = h
        .get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    h.within(Duration::from_secs(2), async || reported().await.is_empty())
        .await;
}

/// A slow or vanished caller is the caller's failure, never the upstream's:
/// stalled request bodies get 408 and do not count towards opening the
/// upstream's circuit, and a body that comes slowly but steadily is not cut
/// short by the upstream's timeout (700 ms here), which starts once it has gone.
#[tokio::test]
async fn a_slow_caller_never_opens_the_upstreams_circuit() {
    use tokio::io::AsyncWriteExt;
    let h = harness().await;
    // Bodies stream straight through only where nothing validates them.
    sqlx::query("UPDATE apis SET validation_mode = 'off' WHERE slug = 'inventory'")
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("api").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    const POST: &str = "POST /inventory/v1/stock-adjustments HTTP/1.1\nhost: shop\nx-api-key: KEY\n\
        x-test-read-body: 1\ncontent-type: application/json\ntransfer-encoding: chunked\n\n\
        1\n{\n";
    // Six callers send the start of a body and stall past the body wait
    // (300 ms) and the upstream timeout: five failures would open the circuit.
    let mut stalled = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let io = h.raw(POST).await;
        stalled.spawn(async move {
            let mut io = io;
            status_line(&mut io).await
        });
    }
    for answer in stalled.join_all().await {
        assert_eq!(answer, "HTTP/1.1 408 Request Timeout");
    }
    let res = h
        .get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the circuit stayed closed");

    // Steady pieces 200 ms apart: a second in all, past the upstream timeout.
    let mut io = h.raw(POST).await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        io.write_all(b"1\r\n \r\n").await.unwrap();
    }
    io.write_all(b"1\r\n}\r\n0\r\n\r\n").await.unwrap();
    assert_eq!(status_line(&mut io).await, "HTTP/1.1 200 OK");
}

/// A half-open circuit's single trial whose caller hangs up: the request is
/// dropped with its connection, and the next request becomes the trial
/// instead of everyone getting 503 until the gateway restarts.
#[tokio::test]
async fn a_trial_whose_caller_hangs_up_does_not_hold_the_circuit() {
    let h = harness().await;
    for _ in 0..3 {
        let res = h
            .get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .header("x-test-status", "502")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 502);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The trial: an answer 3 s away (past the 700 ms upstream timeout too),
    // and a caller that leaves after 100 ms.
    let trial = h.raw(
        "GET /inventory/v1/stock-levels HTTP/1.1\nhost: shop\nx-api-key: KEY\nx-test-sleep-ms: 3000\n\n",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(trial);
    h.within(Duration::from_millis(400), async || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;
}

#[tokio::test]
async fn traffic_keeps_flowing_through_a_database_outage_and_telemetry_catches_up() {
    let relay = steward_tests::Relay::start("127.0.0.1:5432".parse().unwrap()).await;
    let h = harness_with(Some(&relay)).await;
    for _ in 0..10 {
        assert_eq!(
            h.get("/inventory/v1/stock-levels")
                .header("x-api-key", &h.key)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    h.within(Duration::from_secs(5), async || traffic(&h).await == 10)
        .await;
    let row: (String, i16, i64, Vec<i64>) = sqlx::query_as(
        "SELECT operation, status_class, requests, latency_buckets FROM traffic_minutes LIMIT 1",
    )
    .fetch_one(&h.app.pool)
    .await
    .unwrap();
    assert_eq!((row.0.as_str(), row.1, row.2), ("listStockLevels", 2, 10));
    assert_eq!(
        row.3.iter().sum::<i64>(),
        10,
        "every sample in a latency bucket"
    );

    relay.cut();
    for _ in 0..20 {
        let res = h
            .get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "served from the last good snapshot");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        traffic(&h).await,
        10,
        "nothing can be written during the outage"
    );
    let health = h.get("/healthz").send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = h.get("/readyz").send().await.unwrap().json().await.unwrap();
    assert!(
        ready["snapshot_age_seconds"].as_f64().unwrap() > 1.0,
        "{ready}"
    );
    assert!(ready["telemetry_backlog"].as_u64().unwrap() > 0, "{ready}");

    relay.restore();
    // Wait for the backlog to land, then check it landed exactly once (a wait for
    // `== 30` alone would hide an overshoot behind a timeout).
    h.within(Duration::from_secs(10), async || traffic(&h).await >= 30)
        .await;
    assert_eq!(traffic(&h).await, 30, "the outage's samples, written once");
    h.within(Duration::from_secs(5), async || {
        let ready: Value = h.get("/readyz").send().await.unwrap().json().await.unwrap();
        ready["snapshot_age_seconds"].as_f64().unwrap() < 2.0
    })
    .await;
}

/// Slow-loris connections hold at most their source's share, for at most the
/// head timeout: the next connection from that source gets 503, another
/// source is served, and once the stalled heads time out their places return.
#[tokio::test]
async fn a_slowloris_client_holds_only_its_share_and_only_for_a_while() {
    use steward_tests::gateway::{Limits, Timeouts, harness_limited};
    let h = harness_limited(Limits {
        max_connections: 100,
        per_source: 4,
        timeouts: Timeouts {
            head: Duration::from_millis(600),
            ..Timeouts::default()
        },
        ..Limits::default()
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        // A head begun and never finished.
        stalled.push(
            h.raw("GET /inventory/v1/stock-levels HTTP/1.1\nhost: shop\n")
                .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fifth = h.raw("").await;
    assert_eq!(
        status_line(&mut fifth).await,
        "HTTP/1.1 503 Service Unavailable"
    );
    // Another source is served meanwhile.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let res = elsewhere
        .get(format!("{}/inventory/v1/stock-levels", h.gateway))
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The stalled heads time out and the source is served again.
    h.within(Duration::from_secs(2), async || {
        reqwest::Client::new()
            .get(format!("{}/inventory/v1/stock-levels", h.gateway))
            .header("x-api-key", &h.key)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    drop(stalled);
}
