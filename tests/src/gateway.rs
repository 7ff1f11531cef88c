//! The gateway harness: the control plane of [`spawn_app`] with the partner
//! fixture, a real upstream that echoes what it received, and the real gateway
//! on its own port, its snapshot built from the test's database.

#![expect(
    clippy::unwrap_used,
    reason = "test support stops at the first surprise, like the tests it serves"
)]

use crate::partners::{Fixture, fixture, subscribe};
use crate::{TestApp, spawn_app};
use axum::extract::Request;
use reqwest::Client;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
pub use steward_gateway::serve::{Limits, Timeouts};
use steward_gateway::{Gateway, GatewayConfig};
use steward_model::Environment;

pub struct Harness {
    pub app: TestApp,
    pub f: Fixture,
    pub gateway: String,
    pub key: String,
    pub http: Client,
    _gw: Arc<Gateway>,
    /// Dropping the harness stops the gateway's workers.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The harness gateway's `/metrics` token.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// An upstream that echoes what it received; `x-test-sleep-ms` makes it slow.
pub async fn start_upstream() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, echo_app()).await;
    });
    format!("http://{addr}")
}

/// The echo upstream's app, to serve over any transport.
pub fn echo_app() -> axum::Router {
    axum::Router::new().fallback(echo)
}

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
    // Reads the whole body before answering, as most upstreams do.
    let req = if req.headers().contains_key("x-test-read-body") {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .unwrap_or_default();
        let mut req = Request::from_parts(parts, axum::body::Body::empty());
        req.headers_mut()
            .insert("x-test-body-length", bytes.len().into());
        req
    } else {
        req
    };
    if let Some(ms) = req
        .headers()
        .get("x-test-sleep-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    // Repeated fields are joined, as RFC 9110 §5.3 allows, so that a
    // test sees every copy that arrived.
    let mut headers = serde_json::Map::new();
    for name in req.headers().keys() {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or_default())
            .collect();
        headers.insert(name.to_string(), Value::from(values.join(", ")));
    }
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

pub async fn harness() -> Harness {
    harness_with(None).await
}

/// `relay`: run the gateway's database connections through it.
pub async fn harness_with(relay: Option<&crate::Relay>) -> Harness {
    start(relay, Limits::default()).await
}

/// A harness whose listener has these connection limits and timeouts.
pub async fn harness_limited(limits: Limits) -> Harness {
    start(None, limits).await
}

async fn start(relay: Option<&crate::Relay>, limits: Limits) -> Harness {
    let listener_tls = limits.tls.is_some();
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
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
            body_wait: Duration::from_millis(300),
            address: "test".into(),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(1),
            // Requests from 127.0.0.2 come from a trusted proxy.
            trusted_proxies: vec!["127.0.0.2/32".parse().unwrap()],
            metrics_token: Some(steward_gateway::Redacted(METRICS_TOKEN.into())),
            // The test CA is trusted, and the gateway has a certificate of its
            // own for upstreams that demand mutual TLS.
            upstream_tls: steward_gateway::wire::tls::client_config(
                vec![crate::tls::authority().cert.clone()],
                Some(steward_gateway::wire::tls::Identity {
                    chain: vec![crate::tls::gateway_identity().cert.clone()],
                    key: crate::tls::gateway_identity().key.clone_key(),
                }),
            )
            .unwrap(),
            drift_examples: Default::default(),
            listener_tls,
            public_rate_per_second: 5,
            public_burst: 5,
            own_addresses: vec![addr, app.addr],
        },
    )
    .await;
    let router = gw.app();
    // Two workers, as `steward gateway` runs on a two-core machine: every test
    // goes through the thread-per-core listener and per-thread upstream pools.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(steward_gateway::serve::serve_on_workers(
        listener,
        2,
        router,
        limits,
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
    pub async fn announce(&self, kind: &str) {
        sqlx::query(
            "SELECT pg_notify('steward_policy', json_build_object('kind', $1::text)::text)",
        )
        .bind(kind)
        .execute(&self.app.pool)
        .await
        .unwrap();
    }

    /// Opens a connection to the gateway and sends `head` as it is (with `\n`
    /// for line ends and `KEY` for the harness's key): for what an HTTP
    /// client would tidy up first, such as `..` in a path.
    pub async fn raw(&self, head: &str) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let addr = self.gateway.trim_start_matches("http://");
        let mut io = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = head.replace('\n', "\r\n").replace("KEY", &self.key);
        io.write_all(head.as_bytes()).await.unwrap();
        io
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.gateway))
    }

    /// Retries `check` until it holds, for at most `limit`; returns how long it took.
    pub async fn within(&self, limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
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

/// The status line the gateway answers on `io` within 3 s (empty if none).
pub async fn status_line(io: &mut tokio::net::TcpStream) -> String {
    answer(io)
        .await
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The answer on `io` up to its end or 3 s, whichever comes first.
pub async fn answer(io: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&got);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_string)
                    })
                    .and_then(|n| n.trim().parse::<usize>().ok());
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

pub async fn problem_type(
    res: reqwest::Response,
    status: u16,
) -> (Value, reqwest::header::HeaderMap) {
    assert_eq!(res.status().as_u16(), status, "{}", res.url());
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let headers = res.headers().clone();
    (res.json().await.unwrap(), headers)
}

/// Requests the gateway has recorded, across all minutes.
pub async fn traffic(h: &Harness) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(requests), 0)::bigint FROM traffic_minutes")
        .fetch_one(&h.app.pool)
        .await
        .unwrap()
}
