//! The gateway (data plane): enforces what was published on live traffic.
//!
//! Requests only read an immutable [`Snapshot`] held in an `ArcSwap`; a background
//! refresher rebuilds it when the control plane announces a change (PostgreSQL
//! `NOTIFY` on [`notify::CHANNEL`](steward_shared::notify::CHANNEL)) and on a
//! periodic poll, and keeps the last good one while PostgreSQL is away. No request
//! ever waits for the database.

pub mod metrics;
pub mod pipeline;
pub mod snapshot;
pub mod telemetry;
pub mod wire;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use pipeline::{drift, proxy, ratelimit, resilience};
use snapshot::Snapshot;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use steward_model::Environment;
use steward_shared::notify::CHANNEL;
use steward_shared::usage::UsageRecorder;
use tokio::sync::Notify;
/// The listener, which the binary and tests start.
pub use wire::serve;
use wire::{client, fields};

pub use steward_shared::FastMap;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Must equal the control plane's issuer, or its tokens are refused.
    pub issuer: String,
    pub audience: String,
    /// Which credentials this gateway accepts.
    pub environments: Vec<Environment>,
    /// Upstream timeout unless a contract sets `x-steward-timeout-ms`.
    pub default_timeout: Duration,
    /// Safety net for missed notifications, and catch-up after an outage.
    pub poll_interval: Duration,
    pub usage_flush: Duration,
    /// How long a streamed request body may pause between two pieces before
    /// the request is dropped with 408 (nginx's `client_body_timeout`).
    pub body_wait: Duration,
    /// Largest request body the gateway buffers for validation.
    pub body_limit: usize,
    /// Where this gateway listens, as shown on the console's Gateways page.
    pub address: String,
    /// Consecutive failures that open an upstream's circuit, and how long it stays open.
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
    /// Proxies in front of the gateway whose `Forwarded` and `X-Forwarded-*`
    /// headers are passed on (extended); everyone else's are replaced.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The bearer token `/metrics` asks for; without one it answers loopback
    /// callers only.
    pub metrics_token: Option<Redacted>,
    /// How `https` upstreams are reached: trusted roots and an optional client
    /// certificate ([`wire::tls::client_config`]).
    pub upstream_tls: Arc<rustls::ClientConfig>,
    /// Steward's own listeners (this gateway's, the console's): never an
    /// upstream, whatever the upstream policy allows.
    pub own_addresses: Vec<std::net::SocketAddr>,
    /// Anonymous callers of public operations: requests per second and burst
    /// per source (an IPv4 address or an IPv6 /64), per API.
    pub public_rate_per_second: u32,
    pub public_burst: u32,
    /// What drift reports keep of an offending response body.
    pub drift_examples: drift::Examples,
    /// The gateway's listener serves TLS: upstreams are told `proto=https`.
    pub listener_tls: bool,
}

/// A secret in the configuration: never printed, not even by `Debug`.
#[derive(Clone)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::ops::Deref for Redacted {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl GatewayConfig {
    pub fn trusts(&self, peer: std::net::IpAddr) -> bool {
        // An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`.
        let peer = peer.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&peer))
    }
}

pub struct Gateway {
    pub snapshot: ArcSwap<Snapshot>,
    pub limiter: ratelimit::Limiter,
    pub usage: UsageRecorder,
    pub telemetry: telemetry::Telemetry,
    pub drift: drift::Drift,
    pub breakers: resilience::Breakers,
    pub retry_budget: resilience::RetryBudget,
    /// The plan anonymous callers of public operations get, per source.
    pub public_plan: snapshot::Plan,
    pub config: GatewayConfig,
    /// For `/metrics` (pool usage); requests never use it.
    pub pool: PgPool,
    /// Identifies this process in `gateway_instances`.
    pub instance: uuid::Uuid,
    started_at: time::OffsetDateTime,
    generation: AtomicU64,
    wake: Notify,
}

impl Gateway {
    /// Starts the refresher and the usage flusher; the first snapshot is built
    /// before this returns if PostgreSQL answers, else the gateway starts empty
    /// (every route 404) and fills in when it can.
    pub async fn start(pool: PgPool, config: GatewayConfig) -> Arc<Gateway> {
        let usage = UsageRecorder::new();
        let gateway = Arc::new(Gateway {
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            limiter: ratelimit::Limiter::default(),
            usage,
            telemetry: telemetry::Telemetry::default(),
            drift: drift::Drift::default(),
            breakers: resilience::Breakers::new(config.breaker_threshold, config.breaker_cooldown),
            // Retries add at most 10 % to the load, with a reserve of 10.
            retry_budget: resilience::RetryBudget::new(0.1, 10.0),
            public_plan: snapshot::Plan {
                id: uuid::Uuid::nil(),
                rate_per_second: config.public_rate_per_second.max(1),
                burst: config.public_burst.max(1),
                daily_quota: None,
                monthly_quota: None,
                environments: Vec::new(),
            },
            config,
            pool: pool.clone(),
            instance: uuid::Uuid::new_v4(),
            started_at: time::OffsetDateTime::now_utc(),
            generation: AtomicU64::new(0),
            wake: Notify::new(),
        });
        if let Err(e) = gateway.reload(&pool).await {
            tracing::warn!(error = %e, "gateway started without a policy snapshot; retrying");
        }
        tokio::spawn(listen(gateway.clone(), pool.clone()));
        tokio::spawn(refresh(gateway.clone(), pool.clone()));
        tokio::spawn(flush(gateway.clone(), pool));
        gateway
    }

    /// Builds a new snapshot and swaps it in; on failure the current one stays.
    pub async fn reload(&self, pool: &PgPool) -> anyhow::Result<()> {
        let cache = self.snapshot.load().route_cache();
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let next = snapshot::build(
            pool,
            generation,
            self.config.default_timeout,
            &cache,
            &self.config.own_addresses,
        )
        .await?;
        self.snapshot.store(Arc::new(next));
        Ok(())
    }

    /// The current snapshot, for one request to hold until it is answered.
    ///
    /// A request holds it through a handle of its worker thread's own, whose
    /// reference count no other core writes: counting every request on the
    /// snapshot's own count would move that cache line between the workers'
    /// cores twice per request. A thread keeps its handle until it serves a
    /// request under a newer snapshot, so an idle worker may keep one
    /// superseded snapshot alive.
    pub fn held_snapshot(&self) -> Arc<Held> {
        thread_local! {
            static HELD: std::cell::RefCell<Option<Arc<Held>>> =
                const { std::cell::RefCell::new(None) };
        }
        let current = self.snapshot.load();
        HELD.with_borrow_mut(|held| match held {
            // The handle keeps its snapshot alive, so no other snapshot can have
            // been allocated at its address: equal pointers are the same snapshot.
            Some(handle) if Arc::ptr_eq(&handle.0, &current) => handle.clone(),
            _ => held.insert(Arc::new(Held(Arc::clone(&current)))).clone(),
        })
    }

    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics::render))
            .fallback(proxy::fallback)
            .with_state(self.clone())
    }

    /// What the gateway's workers serve: the proxy pipeline called directly, and
    /// the router only for the three operational endpoints.
    pub fn app(self: &Arc<Self>) -> GatewayApp {
        GatewayApp {
            gateway: self.clone(),
            router: self.router(),
        }
    }
}

/// A worker thread's own handle on a snapshot: see [`Gateway::held_snapshot`].
pub struct Held(Arc<Snapshot>);

impl std::ops::Deref for Held {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.0
    }
}

/// See [`Gateway::app`]. Skipping axum's routing, boxing and extension map for
/// proxied requests is measurable at the gateway's request rates.
#[derive(Clone)]
pub struct GatewayApp {
    gateway: Arc<Gateway>,
    router: Router,
}

impl serve::App for GatewayApp {
    fn call(
        &self,
        req: http::Request<axum::body::Body>,
        raw: Option<fields::Raw>,
        peer: std::net::SocketAddr,
    ) -> impl std::future::Future<Output = client::Answer> + Send + use<'_> {
        use futures_util::future::Either;
        // Boxed: the pipeline's future is kilobytes, and every move of it up the
        // chain of callers would copy all of it; a box moves as a pointer.
        match req.uri().path() {
            "/healthz" | "/readyz" | "/metrics" => {
                Either::Left(Box::pin(self.router.call(req, raw, peer)))
            }
            _ => Either::Right(in_box(|| {
                proxy::handle(&self.gateway, req, raw, Some(peer))
            })),
        }
    }
}

/// The future `make` returns, in a box allocated before it is made. `Box::pin`
/// allocates after its argument is built, so the pipeline's 4 KB future was
/// built on the stack and then copied whole into the box on every request.
#[inline(always)]
fn in_box<F>(make: impl FnOnce() -> F) -> std::pin::Pin<Box<F>> {
    let slot = Box::<F>::new_uninit();
    Box::into_pin(Box::write(slot, make()))
}

/// Forwards every change notification (and a poll tick) to the refresher.
/// `Notify` keeps at most one pending wake-up, so a burst of changes costs one rebuild.
async fn listen(gateway: Arc<Gateway>, pool: PgPool) {
    let mut poll = tokio::time::interval(gateway.config.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(_) => {
                tokio::select! {
                    _ = poll.tick() => gateway.wake.notify_one(),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
        };
        if listener.listen(CHANNEL).await.is_err() {
            continue;
        }
        // Anything may have changed while we were not listening.
        gateway.wake.notify_one();
        loop {
            tokio::select! {
                note = listener.try_recv() => match note {
                    Ok(Some(_)) => gateway.wake.notify_one(),
                    // The connection dropped; notifications in the gap are lost, so
                    // reconnect and catch up with a full rebuild.
                    Ok(None) | Err(_) => break,
                },
                _ = poll.tick() => gateway.wake.notify_one(),
            }
        }
    }
}

/// Writes telemetry and "last used" stamps every interval. Failures keep the data
/// in memory (bounded) for the next round.
async fn flush(gateway: Arc<Gateway>, pool: PgPool) {
    let mut tick = tokio::time::interval(gateway.config.usage_flush);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = gateway.telemetry.flush(&pool).await {
            tracing::warn!(error = %e, backlog = gateway.telemetry.backlog(), "telemetry not flushed; kept in memory");
        }
        if let Err(e) = gateway.usage.flush(&pool).await {
            tracing::warn!(error = %e, "key usage not flushed; kept in memory");
        }
        if let Err(e) = gateway.drift.flush(&pool).await {
            tracing::debug!(error = %e, "contract drift not written");
        }
        if let Err(e) = gateway.heartbeat(&pool).await {
            tracing::debug!(error = %e, "gateway heartbeat not written");
        }
    }
}

impl Gateway {
    /// Reports this instance's state for the console's Gateways page.
    async fn heartbeat(&self, pool: &PgPool) -> anyhow::Result<()> {
        let snapshot = self.snapshot.load();
        let age_ms = snapshot
            .built_at
            .map(|t| t.elapsed().as_millis() as i64)
            .unwrap_or(-1);
        let upstreams: Vec<serde_json::Value> = self
            .breakers
            .failing()
            .into_iter()
            .map(|(upstream, state, failures)| {
                let state = match state {
                    resilience::State::Closed => "failing",
                    resilience::State::Open => "open",
                    resilience::State::HalfOpen => "half_open",
                };
                serde_json::json!({"upstream": upstream, "state": state, "failures": failures})
            })
            .collect();
        sqlx::query(
            "INSERT INTO gateway_instances (id, hostname, address, started_at, last_seen,
                 snapshot_generation, snapshot_age_ms, versions, keys,
                 telemetry_backlog, telemetry_dropped, usage_backlog, upstreams)
             VALUES ($1, $2, $3, $4, now(), $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET last_seen = now(),
                 snapshot_generation = $5, snapshot_age_ms = $6, versions = $7, keys = $8,
                 telemetry_backlog = $9, telemetry_dropped = $10, usage_backlog = $11,
                 upstreams = $12",
        )
        .bind(self.instance)
        .bind(hostname())
        .bind(&self.config.address)
        .bind(self.started_at)
        .bind(snapshot.generation as i64)
        .bind(age_ms)
        .bind(snapshot.by_base_path.len() as i32)
        .bind(snapshot.keys.len() as i32)
        .bind(self.telemetry.backlog() as i64)
        .bind(self.telemetry.dropped() as i64)
        .bind(self.usage.backlog() as i64)
        .bind(sqlx::types::Json(upstreams))
        .execute(pool)
        .await?;
        Ok(())
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "gateway".into())
}

async fn refresh(gateway: Arc<Gateway>, pool: PgPool) {
    loop {
        gateway.wake.notified().await;
        if let Err(e) = gateway.reload(&pool).await {
            tracing::warn!(error = %e, "policy snapshot not refreshed; serving the last good one");
        }
    }
}

/// Ready once a snapshot exists; reports its age so operators see staleness.
async fn readyz(State(gateway): State<Arc<Gateway>>) -> Response {
    let snapshot = gateway.snapshot.load();
    let Some(built) = snapshot.built_at else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({
                "status": "starting",
                "detail": "no policy snapshot yet; waiting for PostgreSQL",
            })),
        )
            .into_response();
    };
    axum::Json(serde_json::json!({
        "status": "ready",
        "snapshot_generation": snapshot.generation,
        "snapshot_age_seconds": built.elapsed().as_secs_f64(),
        "versions": snapshot.by_base_path.len(),
        "keys": snapshot.keys.len(),
        "usage_backlog": gateway.usage.backlog(),
        "telemetry_backlog": gateway.telemetry.backlog(),
        "telemetry_dropped": gateway.telemetry.dropped(),
    }))
    .into_response()
}
