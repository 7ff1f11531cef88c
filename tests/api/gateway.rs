//! The gateway over real TCP: a real upstream started by the test, the policy
//! snapshot built from the real database, and changes arriving by NOTIFY.

use super::partners::{Fixture, fixture, subscribe};
use axum::extract::Request;
use reqwest::Client;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_gateway::{Gateway, GatewayConfig};
use steward_model::Environment;
use steward_tests::{TestApp, spawn_app};

struct Harness {
    app: TestApp,
    f: Fixture,
    gateway: String,
    key: String,
    http: Client,
    _gw: Arc<Gateway>,
    /// Dropping the harness stops the gateway's workers.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// An upstream that echoes what it received; `x-test-sleep-ms` makes it slow.
async fn start_upstream() -> String {
    async fn echo(req: Request) -> axum::response::Response {
        use axum::response::IntoResponse;
        static ATTEMPTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        // Owned copies: a borrow of the request must not live across an await.
        let test_status = req
            .headers()
            .get("x-test-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let fail_first = req
            .headers()
            .get("x-test-fail-first")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(status) = test_status.and_then(|s| s.parse::<u16>().ok()) {
            return axum::http::StatusCode::from_u16(status)
                .unwrap()
                .into_response();
        }
        let count = |token: String| {
            let mut seen = ATTEMPTS.lock().unwrap();
            let n = seen.iter().filter(|t| **t == token).count() + 1;
            seen.push(token);
            n
        };
        let failing = fail_first.is_some();
        let attempt = fail_first.map(count).unwrap_or(1);
        if attempt == 1 && failing {
            return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        if let Some(ms) = req
            .headers()
            .get("x-test-sleep-ms")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
        {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let headers: serde_json::Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(v.to_str().unwrap_or_default())))
            .collect();
        // Besides its own header, the upstream tries to set the ones the gateway
        // owns on a keyed request: the gateway's must be the ones that arrive.
        (
            [
                ("x-upstream", "echo"),
                ("ratelimit-limit", "999999"),
                ("x-request-id", "from-upstream"),
                ("keep-alive", "timeout=5"),
            ],
            axum::Json(json!({
                "method": req.method().as_str(),
                "path": req.uri().path(),
                "query": req.uri().query(),
                "headers": headers,
                "attempt": attempt,
            })),
        )
            .into_response()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(echo)).await;
    });
    format!("http://{addr}")
}

async fn harness() -> Harness {
    harness_with(None).await
}

/// `relay`: run the gateway's database connections through it.
async fn harness_with(relay: Option<&steward_tests::Relay>) -> Harness {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let upstream = start_upstream().await;
    sqlx::query("UPDATE api_versions v SET upstream_url = $1 || '/' || a.slug FROM apis a WHERE a.id = v.api_id")
        .bind(&upstream)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = subscribe(
        &app,
        &f.admin,
        &f.production_app,
        "inventory",
        "gold",
        &["inventory:read"],
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = f
        .admin
        .post(app.api(&format!("/applications/{}/keys", f.production_app)))
        .json(&json!({"name": "gateway-test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pool = match relay {
        Some(relay) => sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .max_connections(4)
            .connect(
                &app.database_url
                    .replace("127.0.0.1:5432", &relay.addr.to_string()),
            )
            .await
            .unwrap(),
        None => app.pool.clone(),
    };
    let gw = Gateway::start(
        pool,
        GatewayConfig {
            issuer: app.url(""),
            audience: "steward-gateway".into(),
            environments: vec![Environment::Sandbox, Environment::Production],
            default_timeout: Duration::from_millis(700),
            poll_interval: Duration::from_secs(if relay.is_some() { 1 } else { 30 }),
            usage_flush: Duration::from_millis(200),
            body_limit: 64 * 1024,
            address: "test".into(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(1),
        },
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = gw.app();
    // Two workers, as `steward gateway` runs on a two-core machine: every test
    // goes through the thread-per-core listener and per-thread upstream pools.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(steward_gateway::serve::serve_on_workers(
        listener,
        2,
        router,
        async move {
            let _ = stopped.await;
        },
    ));
    Harness {
        app,
        f,
        gateway: format!("http://{addr}"),
        key: created["secret"].as_str().unwrap().to_string(),
        http: Client::new(),
        _gw: gw,
        _stop: stop,
    }
}

impl Harness {
    /// Announces a change as the control plane does, so that the gateway
    /// rebuilds its snapshot.
    async fn announce(&self, kind: &str) {
        sqlx::query(
            "SELECT pg_notify('steward_policy', json_build_object('kind', $1::text)::text)",
        )
        .bind(kind)
        .execute(&self.app.pool)
        .await
        .unwrap();
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.gateway))
    }

    /// Retries `check` until it holds, for at most `limit`; returns how long it took.
    async fn within(&self, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if check().await {
                return start.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("not within {limit:?}");
    }
}

async fn problem_type(res: reqwest::Response, status: u16) -> (Value, reqwest::header::HeaderMap) {
    assert_eq!(res.status().as_u16(), status, "{}", res.url());
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let headers = res.headers().clone();
    (res.json().await.unwrap(), headers)
}

#[tokio::test]
async fn a_key_reaches_the_upstream_with_identity_and_forwarding_headers() {
    let h = harness().await;
    let res = h
        .get("/inventory/v1/stock-levels?sku=A-1")
        .header("x-api-key", &h.key)
        .header("x-consumer-id", "forged")
        .header("x-consumer-app", "forged")
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        assert!(res.headers().contains_key(name), "{name}");
    }
    assert_eq!(res.headers()["ratelimit-limit"], "200", "Gold's burst");
    assert_eq!(res.headers()["x-request-id"], "req-123");
    // The answer's own headers pass once each; the gateway's replace the
    // upstream's copies, hop-by-hop ones stay behind, and there is one Date.
    let count = |name: &str| res.headers().get_all(name).iter().count();
    assert_eq!(res.headers()["x-upstream"], "echo");
    assert_eq!(res.headers()["content-type"], "application/json");
    for (name, n) in [
        ("ratelimit-limit", 1),
        ("x-request-id", 1),
        ("date", 1),
        ("content-length", 1),
        ("keep-alive", 0),
    ] {
        assert_eq!(count(name), n, "{name}");
    }
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["path"], "/inventory/stock-levels");
    assert_eq!(seen["query"], "sku=A-1");
    let headers = &seen["headers"];
    assert_eq!(headers["x-consumer-id"], "northwind-market");
    assert_eq!(headers["x-consumer-app"], h.f.production_app.as_str());
    assert_eq!(headers["x-request-id"], "req-123");
    assert!(
        headers["x-forwarded-for"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    assert!(
        headers["forwarded"]
            .as_str()
            .unwrap()
            .starts_with("for=127.0.0.1")
    );
    assert!(
        headers.get("x-api-key").is_none(),
        "the key stays at the gateway"
    );
    // The upstream is addressed by its own authority; the caller's is passed on.
    let gateway_host = h.gateway.trim_start_matches("http://");
    assert_eq!(headers["x-forwarded-host"], gateway_host);
    assert_eq!(headers["x-forwarded-proto"], "http");
    let upstream_host = headers["host"].as_str().unwrap();
    assert!(
        upstream_host.starts_with("127.0.0.1:") && upstream_host != gateway_host,
        "{upstream_host}"
    );

    // "Last used" arrives in a batch, not per request.
    let detail_path = h.app.api(&format!("/applications/{}", h.f.production_app));
    h.within(Duration::from_secs(5), async || {
        let detail: Value =
            h.f.viewer
                .get(&detail_path)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        detail["keys"][0]["last_used_at"].is_string()
    })
    .await;
    let ready: Value = h.get("/readyz").send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert!(ready["snapshot_age_seconds"].as_f64().unwrap() < 30.0);
}

#[tokio::test]
async fn each_refusal_has_its_status_and_problem_type() {
    let h = harness().await;
    let (body, _) = problem_type(h.get("/payments/v1/charges").send().await.unwrap(), 404).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/no-route"
    );
    let (body, _) = problem_type(
        h.get("/inventory/v1/warehouses")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/no-operation"
    );
    let (_, headers) = problem_type(
        h.get("/inventory/v1/stock-levels").send().await.unwrap(),
        401,
    )
    .await;
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("Bearer")
    );
    problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", "stw_live_nope")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    let forged = format!("{}{}", &h.key[..h.key.len() - 4], "0000");
    problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", forged)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("authorization", "Bearer not.a.jwt")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;

    // A sandbox key of the same consumer has no subscription to inventory.
    let sandbox: Value =
        h.f.admin
            .post(
                h.app
                    .api(&format!("/applications/{}/keys", h.f.sandbox_app)),
            )
            .json(&json!({"name": "sandbox"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let sandbox_key = sandbox["secret"].as_str().unwrap().to_string();
    // The new key reaches the gateway by NOTIFY.
    h.within(Duration::from_secs(1), async || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &sandbox_key)
            .send()
            .await
            .unwrap()
            .status()
            == 403
    })
    .await;
    let (body, _) = problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &sandbox_key)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/no-subscription"
    );

    // A token with inventory:read cannot adjust stock, which needs inventory:write.
    let client: Value =
        h.f.admin
            .post(h.app.api(&format!(
                "/applications/{}/oauth-clients",
                h.f.production_app
            )))
            .json(&json!({"name": "sync"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let token: Value = h
        .http
        .post(h.app.url("/oauth2/token"))
        .basic_auth(
            client["client"]["client_id"].as_str().unwrap(),
            client["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let ok = h
        .get("/inventory/v1/stock-levels")
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "a token with inventory:read reads stock");
    let res = h
        .http
        .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
        .header("authorization", &bearer)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (body, headers) = problem_type(res, 403).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/insufficient-scope"
    );
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
}

#[tokio::test]
async fn revocation_and_suspension_take_effect_within_a_second() {
    let h = harness().await;
    assert_eq!(
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let detail: Value =
        h.f.admin
            .get(h.app.api(&format!("/applications/{}", h.f.production_app)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let sub = detail["subscriptions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = detail["keys"][0]["id"].as_str().unwrap().to_string();

    h.f.admin
        .post(h.app.api(&format!("/subscriptions/{sub}/suspend")))
        .json(&json!({"reason": "test"}))
        .send()
        .await
        .unwrap();
    let took = h
        .within(Duration::from_secs(1), async || {
            h.get("/inventory/v1/stock-levels")
                .header("x-api-key", &h.key)
                .send()
                .await
                .unwrap()
                .status()
                == 403
        })
        .await;
    println!("suspension reached the gateway in {took:?}");
    h.f.admin
        .post(h.app.api(&format!("/subscriptions/{sub}/resume")))
        .send()
        .await
        .unwrap();
    h.within(Duration::from_secs(1), async || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;

    h.f.admin
        .delete(h.app.api(&format!("/keys/{key}")))
        .send()
        .await
        .unwrap();
    let took = h
        .within(Duration::from_secs(1), async || {
            h.get("/inventory/v1/stock-levels")
                .header("x-api-key", &h.key)
                .send()
                .await
                .unwrap()
                .status()
                == 401
        })
        .await;
    println!("revocation reached the gateway in {took:?}");
}

#[tokio::test]
async fn plans_limit_the_rate_with_retry_after() {
    let h = harness().await;
    let res =
        h.f.admin
            .patch(h.app.api("/plans/gold"))
            .json(&json!({"rate_per_second": 1, "burst": 2}))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    // Plans reach the gateway with the next snapshot: wait until a request reports
    // the new burst, then for the bucket to refill.
    h.within(Duration::from_secs(1), async || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .headers()["ratelimit-limit"]
            == "2"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let res = h
            .get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        last = Some(res);
    }
    assert_eq!(statuses, [200, 200, 429]);
    let res = last.unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    let (body, _) = problem_type(res, 429).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/rate-limited"
    );
}

#[tokio::test]
async fn deprecated_versions_announce_it_and_retired_ones_answer_410() {
    let h = harness().await;
    let successor = uuid::Uuid::new_v4();
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/retail/inventory-v2.yaml"),
    )
    .unwrap();
    sqlx::query(
        "INSERT INTO api_versions (id, api_id, version, major, minor, patch, base_path, upstream_url,
                                   spec_text, spec_format, spec_sha256, state, published_at)
         SELECT $1, api_id, '2.0.0', 2, 0, 0, '/inventory/v2', upstream_url, $2, 'yaml', '', 'published', now()
         FROM api_versions WHERE base_path = '/inventory/v1'",
    )
    .bind(successor)
    .bind(spec)
    .execute(&h.app.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE api_versions SET state = 'deprecated', deprecated_at = '2026-11-01T00:00:00Z',
                sunset_date = '2027-03-01', successor_id = $1
         WHERE base_path = '/inventory/v1'",
    )
    .bind(successor)
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
            .headers()
            .contains_key("deprecation")
    })
    .await;
    let res = h
        .get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["deprecation"], format!("@{}", 1_793_491_200));
    assert_eq!(res.headers()["sunset"], "Mon, 01 Mar 2027 00:00:00 GMT");
    assert_eq!(
        res.headers()["link"],
        "</inventory/v2>; rel=\"successor-version\""
    );

    sqlx::query("UPDATE api_versions SET state = 'retired', retired_at = now() WHERE base_path = '/inventory/v1'")
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
            == 410
    })
    .await;
    let (body, headers) = problem_type(
        h.get("/inventory/v1/stock-levels").send().await.unwrap(),
        410,
    )
    .await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/version-retired"
    );
    assert_eq!(headers["sunset"], "Mon, 01 Mar 2027 00:00:00 GMT");
    assert_eq!(
        headers["link"],
        "</inventory/v2>; rel=\"successor-version\""
    );
}

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
async fn requests_are_validated_against_the_contract() {
    let h = harness().await;
    let post = |body: Value| {
        h.http
            .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
            .header("x-api-key", &h.key)
            .header("idempotency-key", "adjust-0001")
            .json(&body)
    };
    let good =
        json!({"warehouse_id": "W1", "sku": "SKU-1", "quantity_delta": -2, "reason": "damage"});
    let res = post(good.clone()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["method"], "POST", "a validated body is forwarded");

    let res = h
        .http
        .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
        .header("x-api-key", &h.key)
        .json(&json!({"warehouse_id": "W1", "sku": "SKU-1", "quantity_delta": "three", "reason": "stolen", "extra": 1}))
        .send()
        .await
        .unwrap();
    let (body, _) = problem_type(res, 400).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/request-invalid"
    );
    let errors = body["errors"].as_array().unwrap();
    let at: Vec<(String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["in"].as_str().unwrap().to_string(),
                e["pointer"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        at.contains(&("header".into(), String::new())),
        "missing Idempotency-Key: {at:?}"
    );
    assert!(
        at.contains(&("body".into(), "/quantity_delta".into())),
        "{at:?}"
    );
    assert!(at.contains(&("body".into(), "/reason".into())), "{at:?}");

    // A body sent as it is, under a content type of the test's choosing.
    let post_as =
        |idempotency_key: &'static str, content_type: &'static str, body: &'static str| {
            h.http
                .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
                .header("x-api-key", &h.key)
                .header("idempotency-key", idempotency_key)
                .header("content-type", content_type)
                .body(body)
                .send()
        };
    let res = post_as("adjust-0002", "text/plain", "warehouse W1, sku SKU-1, -2")
        .await
        .unwrap();
    problem_type(res, 415).await;
    // Media types compare without regard to case: this body is still validated.
    let res = post_as(
        "adjust-0003",
        "Application/JSON; charset=UTF-8",
        r#"{"warehouse_id": "W1", "sku": "SKU-1"}"#,
    )
    .await
    .unwrap();
    let (body, _) = problem_type(res, 400).await;
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("quantity_delta")),
        "{body}"
    );
    let huge = json!({"warehouse_id": "W1", "sku": "SKU-1", "quantity_delta": 1, "reason": "damage",
                      "reference": "x".repeat(100 * 1024)});
    problem_type(post(huge).send().await.unwrap(), 413).await;
    let res = h
        .get("/inventory/v1/stock-levels?limit=lots")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap();
    let (body, _) = problem_type(res, 400).await;
    assert_eq!(body["errors"][0]["name"], "limit");

    // Report mode lets the same request through.
    let res =
        h.f.stranger
            .patch(h.app.api("/apis/inventory"))
            .json(&json!({"validation_mode": "report"}))
            .send()
            .await;
    assert_eq!(res.unwrap().status(), 403, "an owner of another team");
    let res =
        h.f.admin
            .patch(h.app.api("/apis/inventory"))
            .json(&json!({"validation_mode": "report"}))
            .send()
            .await
            .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap()["validation_mode"],
        "report"
    );
    h.within(Duration::from_secs(1), async || {
        h.get("/inventory/v1/stock-levels?limit=lots")
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
}

async fn traffic(h: &Harness) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(requests), 0)::bigint FROM traffic_minutes")
        .fetch_one(&h.app.pool)
        .await
        .unwrap()
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
    let version: String =
        sqlx::query_scalar("SELECT id::text FROM api_versions WHERE base_path = '/inventory/v1'")
            .fetch_one(&h.app.pool)
            .await
            .unwrap();
    let t: Value =
        h.f.viewer
            .get(h.app.api(&format!("/versions/{version}/traffic")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
    let res = h.get("/metrics").send().await.unwrap();
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
async fn report_mode_samples_responses_that_drift_from_the_contract() {
    let h = harness().await;
    h.f.admin
        .patch(h.app.api("/apis/inventory"))
        .json(&json!({"validation_mode": "report"}))
        .send()
        .await
        .unwrap();
    // The echo upstream answers with its own shape, not a StockLevelPage.
    h.within(Duration::from_secs(2), async || {
        h.get("/inventory/v1/stock-levels?limit=lots")
            .header("x-api-key", &h.key)
            .send()
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;
    let version: String =
        sqlx::query_scalar("SELECT id::text FROM api_versions WHERE base_path = '/inventory/v1'")
            .fetch_one(&h.app.pool)
            .await
            .unwrap();
    let path = h.app.api(&format!("/versions/{version}/drift"));
    h.within(Duration::from_secs(5), async || {
        let list: Vec<Value> =
            h.f.viewer
                .get(&path)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        !list.is_empty()
    })
    .await;
    let list: Vec<Value> =
        h.f.viewer
            .get(&path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(list[0]["operation"], "listStockLevels");
    assert_eq!(list[0]["status"], 200);
    assert!(
        list[0]["message"].as_str().unwrap().contains("required"),
        "{}",
        list[0]
    );
    assert!(list[0]["example"].as_str().unwrap().contains("\"method\""));
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

#[tokio::test]
async fn workers_share_the_listener_and_drain_on_shutdown() {
    use axum::routing::get;
    let router = axum::Router::new().route(
        "/who",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::thread::current()
                .name()
                .unwrap_or_default()
                .to_string()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(steward_gateway::serve::serve_on_workers(
        listener,
        2,
        router,
        async move {
            let _ = stopped.await;
        },
    ));
    // Sixteen clients, each on its own connection, all served by gateway workers.
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let url = format!("http://{addr}/who");
        calls.spawn(async move { Client::new().get(url).send().await?.text().await });
    }
    let names: Vec<String> = calls
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("gateway-")),
        "served by {names:?}"
    );
    // A request in flight when shutdown begins still gets its answer.
    let slow = tokio::spawn(Client::new().get(format!("http://{addr}/who")).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let answer = slow.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200);
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("workers stop once drained")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    // The socket is closed: new connections are refused.
    assert!(
        Client::new()
            .get(format!("http://{addr}/who"))
            .send()
            .await
            .is_err()
    );
}

/// A hand-written HTTP/1.1 upstream, for answers a framework would not give on
/// purpose: the `x-raw` header picks how it answers. It counts the connections
/// it accepts, and each answer says how many request body bytes arrived.
async fn start_raw_upstream() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let end = loop {
                        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        if socket.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                            return;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let header = |name: &str| {
                        head.lines()
                            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                            .map(str::to_string)
                    };
                    let mode = header("x-raw").unwrap_or_default();
                    let chunked = header("transfer-encoding").as_deref() == Some("chunked");
                    // A chunked body is read to its last chunk, then decoded.
                    let (length, framing) = if chunked {
                        let last = loop {
                            if let Some(at) = buf[end..].windows(5).position(|w| w == b"0\r\n\r\n")
                            {
                                break end + at + 5;
                            }
                            if socket.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                                return;
                            }
                        };
                        let mut rest = &buf[end..last];
                        let mut length = 0;
                        loop {
                            let line = rest.windows(2).position(|w| w == b"\r\n").unwrap();
                            let size = usize::from_str_radix(
                                std::str::from_utf8(&rest[..line]).unwrap(),
                                16,
                            )
                            .unwrap();
                            if size == 0 {
                                break;
                            }
                            length += size;
                            rest = &rest[line + 2 + size + 2..];
                        }
                        buf.drain(..last);
                        (length, "chunked")
                    } else {
                        let length: usize =
                            header("content-length").map_or(0, |v| v.parse().unwrap());
                        while buf.len() < end + length {
                            if socket.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                                return;
                            }
                        }
                        buf.drain(..end + length);
                        (length, "length")
                    };
                    let body = format!(
                        "{{\"mode\":\"{mode}\",\"received\":{length},\"framing\":\"{framing}\"}}"
                    );
                    let fixed = |extra: &str| {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
                            body.len()
                        )
                    };
                    match mode.as_str() {
                        // Answers, then closes the idle connection without notice,
                        // as an upstream's keep-alive timeout does.
                        "close-after" => {
                            let _ = socket.write_all(fixed("").as_bytes()).await;
                            return;
                        }
                        "connection-close" => {
                            let _ = socket
                                .write_all(fixed("connection: close\r\n").as_bytes())
                                .await;
                            return;
                        }
                        // No length: the body ends when the connection does.
                        "eof" => {
                            let _ = socket
                                .write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{body}").as_bytes())
                                .await;
                            return;
                        }
                        // Chunks in separate writes, with an extension and a trailer.
                        "chunked" => {
                            let pieces = [
                                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n".to_string(),
                                "5;note=x\r\nfirst\r\n".to_string(),
                                "7\r\n-second\r\n".to_string(),
                                format!("{:x}\r\n{body}\r\n0\r\nx-trailer: 1\r\n\r\n", body.len()),
                            ];
                            for piece in pieces {
                                if socket.write_all(piece.as_bytes()).await.is_err() {
                                    return;
                                }
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                        "garbage" => {
                            let _ = socket.write_all(b"HTTP/1.1 OK twice\r\n\r\n").await;
                            return;
                        }
                        _ => {
                            if socket.write_all(fixed("").as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

#[tokio::test]
async fn the_upstream_client_reuses_connections_and_survives_their_closing() {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = harness().await;
    let (upstream, accepted) = start_raw_upstream().await;
    sqlx::query("UPDATE api_versions SET upstream_url = $1 WHERE base_path = '/inventory/v1'")
        .bind(&upstream)
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("version").await;
    let get = |mode: &'static str| {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .header("x-raw", mode)
            .send()
    };
    let post = |mode: &'static str| {
        h.http
            .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
            .header("x-api-key", &h.key)
            .header("idempotency-key", "adjust-raw")
            .header("x-raw", mode)
            .json(&json!({"warehouse_id": "W1", "sku": "SKU-1", "quantity_delta": 1, "reason": "damage"}))
            .send()
    };
    h.within(Duration::from_secs(1), async || {
        let res = get("keep").await.unwrap();
        res.status() == 200 && res.text().await.unwrap().contains("\"mode\":\"keep\"")
    })
    .await;
    let json = async |res: reqwest::Response| -> Value {
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    };

    // Keep-alive: one client connection to the gateway, one upstream connection.
    let before = accepted.load(Ordering::SeqCst);
    for _ in 0..5 {
        assert_eq!(json(get("keep").await.unwrap()).await["received"], 0);
    }
    let sent = json(post("keep").await.unwrap()).await;
    assert!(sent["received"].as_u64().unwrap() > 10, "{sent}");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        before,
        "connections were reused"
    );

    // The upstream closes an idle connection: even a POST, which is never sent
    // twice, goes through, on a new connection.
    json(get("close-after").await.unwrap()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = accepted.load(Ordering::SeqCst);
    assert_eq!(json(post("keep").await.unwrap()).await["mode"], "keep");
    assert_eq!(accepted.load(Ordering::SeqCst), before + 1);
    // Straight after the close, a GET goes through too.
    json(get("close-after").await.unwrap()).await;
    json(get("keep").await.unwrap()).await;

    // `Connection: close` is honoured; a body that ends with the connection
    // arrives whole.
    json(get("connection-close").await.unwrap()).await;
    let before = accepted.load(Ordering::SeqCst);
    assert_eq!(json(get("eof").await.unwrap()).await["mode"], "eof");
    assert_eq!(accepted.load(Ordering::SeqCst), before + 1);

    // A chunked answer streams through intact, and its connection is reused.
    let res = get("chunked").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        "first-second{\"mode\":\"chunked\",\"received\":0,\"framing\":\"length\"}"
    );
    let before = accepted.load(Ordering::SeqCst);
    json(get("keep").await.unwrap()).await;
    assert_eq!(accepted.load(Ordering::SeqCst), before);

    // An answer that is not HTTP is a 502, and the next request is served.
    let (body, _) = problem_type(get("garbage").await.unwrap(), 502).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/upstream-unreachable"
    );
    json(get("keep").await.unwrap()).await;

    // With validation off, request bodies stream: one with a length keeps it,
    // one sent in chunks arrives whole, chunked.
    sqlx::query("UPDATE apis SET validation_mode = 'off' WHERE slug = 'inventory'")
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("api").await;
    let body = json!({"anything": "goes", "padding": "x".repeat(100)}).to_string();
    h.within(Duration::from_secs(1), async || {
        let res = h
            .http
            .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
            .header("x-api-key", &h.key)
            .header("idempotency-key", "adjust-raw")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        res.status() == 200
            && res.json::<Value>().await.unwrap()
                == json!({"mode": "", "received": body.len(), "framing": "length"})
    })
    .await;
    let pieces = ["{\"anything\":", "\"goes\",\"more\":", "[1,2,3]}"];
    let mut raw = tokio::net::TcpStream::connect(h.gateway.trim_start_matches("http://"))
        .await
        .unwrap();
    raw.write_all(
        format!(
            "POST /inventory/v1/stock-adjustments HTTP/1.1\r\nhost: gw\r\nx-api-key: {}\r\nidempotency-key: adjust-raw\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            h.key
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    for piece in pieces {
        tokio::time::sleep(Duration::from_millis(30)).await;
        raw.write_all(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes())
            .await
            .unwrap();
    }
    raw.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    assert!(
        answer.ends_with(&format!(
            "{{\"mode\":\"\",\"received\":{total},\"framing\":\"chunked\"}}"
        )),
        "{answer}"
    );
}

/// Writes `request` on a new connection and reads everything until the gateway
/// closes it (each script ends with a request that asks it to).
async fn exchange(gateway: &str, script: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut raw = tokio::net::TcpStream::connect(gateway.trim_start_matches("http://"))
        .await
        .unwrap();
    for (n, piece) in script.iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        raw.write_all(piece).await.unwrap();
    }
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut answer))
        .await
        .expect("the gateway closes the connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn clients_get_correct_http1_on_the_fast_path_and_off_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = harness().await;
    let adjustment = r#"{"warehouse_id":"W1","sku":"SKU-1","quantity_delta":-2,"reason":"damage"}"#;
    let post = |extra: &str, body: &str| {
        format!(
            "POST /inventory/v1/stock-adjustments HTTP/1.1\r\nhost: gw\r\nx-api-key: {}\r\nidempotency-key: raw-00001\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
            h.key,
            body.len()
        )
    };

    // Pipelined requests are answered in order on one connection, each framed
    // and dated; HEAD gets the head alone.
    let answer = exchange(
        &h.gateway,
        &[b"GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\nHEAD /healthz HTTP/1.1\r\nhost: gw\r\n\r\nGET /healthz HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n"],
    )
    .await;
    let answers: Vec<&str> = answer.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 3, "{answer}");
    assert!(answers[0].starts_with("200 OK\r\n"), "{answer}");
    assert!(answers[0].contains("content-length: 2\r\n"), "{answer}");
    assert!(answers[0].contains("date: "), "{answer}");
    assert!(answers[0].ends_with("\r\n\r\nok"), "{answer}");
    assert!(
        answers[1].ends_with("\r\n\r\n"),
        "HEAD has no body: {answer}"
    );
    assert!(answers[2].contains("connection: close\r\n"), "{answer}");
    assert!(answers[2].ends_with("\r\n\r\nok"), "{answer}");

    // A refusal on the fast path keeps the connection (its small body was
    // read), and a body that arrives after its head is waited for.
    let unauthenticated = format!(
        "POST /inventory/v1/stock-adjustments HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{adjustment}",
        adjustment.len()
    );
    let full = post("connection: close\r\n", adjustment);
    let (head, body) = full.split_at(full.len() - adjustment.len());
    let answer = exchange(
        &h.gateway,
        &[unauthenticated.as_bytes(), head.as_bytes(), body.as_bytes()],
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{answer}"
    );
    let second = answer.split("HTTP/1.1 ").nth(2).unwrap_or_default();
    assert!(second.starts_with("200 OK\r\n"), "{answer}");
    assert!(second.contains("\"method\":\"POST\""), "{answer}");
    assert!(second.contains("x-upstream: echo\r\n"), "{answer}");
    assert_eq!(second.matches("date: ").count(), 1, "{answer}");

    // Off the fast path, hyper serves the rest of the connection: after an
    // HTTP/1.0 request, and for `Expect: 100-continue` (the body is only sent
    // once the gateway asks for it, which it does when validation reads it).
    let answer = exchange(&h.gateway, &[b"GET /healthz HTTP/1.0\r\n\r\n"]).await;
    assert!(
        answer.contains(" 200 OK\r\n") && answer.ends_with("ok"),
        "{answer}"
    );
    let mut raw = tokio::net::TcpStream::connect(h.gateway.trim_start_matches("http://"))
        .await
        .unwrap();
    let expecting = post("expect: 100-continue\r\nconnection: close\r\n", adjustment);
    raw.write_all(&expecting.as_bytes()[..expecting.len() - adjustment.len()])
        .await
        .unwrap();
    let mut interim = [0u8; 25];
    raw.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    raw.write_all(adjustment.as_bytes()).await.unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    // hyper writes the upstream's headers from a header map made of them.
    assert!(answer.contains("x-upstream: echo\r\n"), "{answer}");
    assert!(
        answer.contains("content-type: application/json\r\n"),
        "{answer}"
    );
    assert_eq!(answer.matches("x-request-id: ").count(), 1, "{answer}");

    // Nonsense gets hyper's 400, and the connection closes.
    let answer = exchange(&h.gateway, &[b"GARBAGE\r\n\r\n"]).await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
}
