//! The demo organisation, as a newcomer meets it: seeded through the real
//! services, and the README's three gateway calls answer 200, 401 and 400.

use serde_json::{Value, json};
use std::time::Duration;
use steward_control::demo;
use steward_gateway::{Gateway, GatewayConfig};
use steward_model::Environment;
use steward_tests::spawn_app;

#[tokio::test]
async fn the_demo_seeds_everything_and_the_readme_calls_work() {
    let app = spawn_app().await;
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    assert!(
        demo::seed(&app.pool, upstream_addr).await.unwrap(),
        "an empty database is seeded"
    );
    assert!(
        !demo::seed(&app.pool, upstream_addr).await.unwrap(),
        "and only once"
    );
    let counts: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM consumers), (SELECT count(*) FROM subscriptions WHERE state = 'pending'),
                (SELECT count(*) FROM api_keys), (SELECT count(*) FROM oauth_clients)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(counts.0, 3);
    assert_eq!(counts.1, 1, "one subscription waits for approval");
    assert!(counts.2 >= 5 && counts.3 == 1, "{counts:?}");

    // The dashboards tell the story of the seeded history to any signed-in user.
    let (viewer, res) = app.sign_in("viewer@steward.demo", demo::PASSWORD).await;
    assert!(res.status().is_success(), "{}", res.status());
    let slos: Vec<Value> = viewer
        .get(app.api("/slos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(slos.len(), 4, "{slos:?}");
    let acceptance = slos
        .iter()
        .find(|s| s["name"] == "order acceptance")
        .unwrap();
    let left = acceptance["status"]["budget_remaining_percent"]
        .as_f64()
        .unwrap();
    assert!(
        left > 0.0 && left < 25.0,
        "the incident put order acceptance at risk: {left}"
    );
    assert_eq!(slos[0]["name"], "order acceptance", "least budget first");
    let id = acceptance["id"].as_str().unwrap();
    let series: Value = viewer
        .get(app.api(&format!("/slos/{id}/series?resolution=day")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let points = series["points"].as_array().unwrap();
    assert!(points.len() >= 28, "{}", points.len());
    // The last point is today so far: just after midnight UTC it holds a few
    // hundred requests, where one of the demo's rare 5xx dips it below target.
    // Every complete day but the incident's meets the objective.
    let below: Vec<&Value> = points[..points.len() - 1]
        .iter()
        .filter(|p| p["sli"].as_f64().is_some_and(|s| s < 99.9))
        .collect();
    assert_eq!(below.len(), 1, "one bad day, the incident's: {below:?}");
    let alerts: Vec<Value> = viewer
        .get(app.api(&format!("/slos/{id}/alerts")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a["severity"] == "page" && !a["resolved_at"].is_null())
    );
    let traffic: Value = viewer
        .get(app.api("/apis/orders/traffic?hours=720"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(traffic["resolution"], "day");
    assert!(
        traffic["requests"].as_i64().unwrap() > 1_000_000,
        "{}",
        traffic["requests"]
    );
    assert!(traffic["by_class"][4].as_i64().unwrap() > 1000);
    assert!(traffic["p99_ms"].as_f64().unwrap() >= traffic["p50_ms"].as_f64().unwrap());
    let deprecations: Vec<Value> = viewer
        .get(app.api("/deprecations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deprecations.len(), 1, "{deprecations:?}");
    assert_eq!(deprecations[0]["api_slug"], "returns");
    assert_eq!(deprecations[0]["successor"], "2.0.0");
    assert_eq!(deprecations[0]["days_left"], 45);
    let caller = &deprecations[0]["callers"][0];
    assert_eq!(caller["consumer"], "Tillpoint POS");
    assert!(
        caller["contacts"][0]
            .as_str()
            .unwrap()
            .contains("support@tillpoint.example")
    );

    // The seed sent the demo's traffic to this stand-in ERP, on a port of its own.
    tokio::spawn(async move {
        let _ = axum::serve(upstream, demo::upstream::router()).await;
    });
    let gw = Gateway::start(
        app.pool.clone(),
        GatewayConfig {
            issuer: app.url(""),
            audience: "steward-gateway".into(),
            environments: vec![Environment::Sandbox, Environment::Production],
            default_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_secs(30),
            usage_flush: Duration::from_secs(1),
            body_limit: 1024 * 1024,
            body_wait: Duration::from_secs(30),
            address: "test".into(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(1),
            trusted_proxies: Vec::new(),
            metrics_token: None,
            upstream_tls: steward_gateway::wire::tls::client_config(Vec::new(), None).unwrap(),
            drift_examples: Default::default(),
            listener_tls: false,
            public_rate_per_second: 5,
            public_burst: 5,
            own_addresses: Vec::new(),
        },
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(steward_gateway::serve::serve(
        listener,
        gw.router(),
        Default::default(),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();

    let res = http
        .get(format!("{base}/orders/v1/orders"))
        .header("x-api-key", demo::DEMO_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["items"].as_array().is_some_and(|i| !i.is_empty()));
    let res = http
        .get(format!("{base}/orders/v1/orders"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = http
        .post(format!("{base}/orders/v1/orders"))
        .header("x-api-key", demo::DEMO_API_KEY)
        .header("idempotency-key", "demo-0001")
        .json(&json!({"customer_id": "C-1", "lines": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"].as_array().unwrap().len(), 3, "{body}");
}
