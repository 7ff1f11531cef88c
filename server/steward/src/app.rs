//! Assembles the control plane's HTTP service: health, admin API, console pages,
//! server functions and static assets, under one middleware stack.

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use http::{HeaderName, Method, StatusCode};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use std::path::Path;
use std::time::Duration;
use steward_console::{App, shell};
use steward_control::AppState;
use steward_control::admin;
use steward_control::admin::{csrf, principal};
use steward_model::Principal;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

/// The control plane's state plus what only the console needs. The console's
/// server functions get the control plane's state as Leptos context.
#[derive(Clone)]
pub struct ServerState {
    pub control: AppState,
    pub leptos: LeptosOptions,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<ServerState> for AppState {
    fn from_ref(state: &ServerState) -> Self {
        state.control.clone()
    }
}

pub const SESSION_COOKIE: &str = "steward_session";
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Settings of the HTTP service that tests vary.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Seals the signing keys at rest (see `steward_control::sealing`).
    pub sealer: steward_control::sealing::Sealer,
    pub secure_cookies: bool,
    pub session_idle: time::Duration,
    /// Public base URL of the control plane, the `iss` of access tokens.
    /// `None` means `http://<listen address>`.
    pub issuer: Option<String>,
    /// The `aud` of access tokens: the gateways that accept them.
    pub token_audience: String,
    pub token_ttl: time::Duration,
    /// How often credential "last used" stamps are written.
    pub usage_flush: Duration,
    /// How often traffic is rolled up and pruned; `None` turns the job off
    /// (tests that write back-dated aggregates do).
    pub rollup_every: Option<Duration>,
    pub retention: steward_control::traffic::rollup::Retention,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            sealer: ephemeral_sealer(),
            secure_cookies: false,
            session_idle: time::Duration::hours(8),
            issuer: None,
            token_audience: "steward-gateway".into(),
            token_ttl: time::Duration::hours(1),
            usage_flush: Duration::from_secs(10),
            rollup_every: Some(Duration::from_secs(300)),
            retention: Default::default(),
        }
    }
}

/// A key-encryption key made for this process, for tests and for defaults
/// that a configuration replaces: the same one for every server the process
/// starts, so a restarted test server still opens its keys.
fn ephemeral_sealer() -> steward_control::sealing::Sealer {
    use steward_control::sealing::{Kek, Sealer};
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        key
    });
    Sealer::new(Kek::new(*key), Vec::new())
}

pub fn router(state: ServerState, store: PostgresStore, options: &HttpOptions) -> Router {
    let site_pkg = Path::new(&*state.leptos.site_root).join("pkg");
    let routes = generate_route_list(App);
    let console = state.control.clone();
    let leptos_options = state.leptos.clone();
    let build = crate::build_id(&state.leptos.site_root);

    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_secure(options.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(options.session_idle));

    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", admin::router().with_state(state.control.clone()))
        .merge(steward_control::oauth::token::router().with_state(state.control.clone()))
        .route(
            "/console/fn/{*name}",
            get(server_fn_handler).post(server_fn_handler),
        )
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::nonce::provide_nonce();
                provide_context(console.clone())
            },
            move || shell(leptos_options.clone()),
        )
        .nest_service("/pkg", assets(site_pkg, build.as_deref()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            ServerState,
            _,
        >(leptos::nonce::provide_nonce, shell))
        .with_state(state.clone());

    // Outermost first. The request id exists before tracing starts, so every log
    // line of a request carries it; CSRF is decided before any session is loaded;
    // authentication needs the session; the console gate needs the principal.
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id, user = tracing::field::Empty)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(compression())
            .layer(middleware::from_fn(csrf::protect))
            .layer(sessions)
            .layer(middleware::from_fn_with_state(
                state.control,
                principal::authenticate,
            ))
            .layer(middleware::from_fn(console_gate))
            .layer(SetResponseHeaderLayer::overriding(
                http::header::X_CONTENT_TYPE_OPTIONS,
                http::HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                http::header::REFERRER_POLICY,
                http::HeaderValue::from_static("same-origin"),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                http::header::X_FRAME_OPTIONS,
                http::HeaderValue::from_static("DENY"),
            ))
            // Console pages set their own, with the nonce of their inline
            // scripts; JSON, assets and errors need nothing of the sort.
            .layer(SetResponseHeaderLayer::if_not_present(
                http::header::CONTENT_SECURITY_POLICY,
                http::HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            )),
    )
}

/// Compresses what the server renders per request: console pages (HTML, with
/// the data they hydrate from) and JSON answers, brotli or gzip as the browser
/// accepts. The assets are precompressed at build time and already carry a
/// `Content-Encoding`, which this layer leaves alone. Quality 5 keeps a page's
/// compression under a millisecond; streamed pages are flushed whenever the
/// renderer waits, so Suspense chunks are not held back.
///
/// BREACH needs a secret and attacker-chosen text in one compressed answer to
/// a request the attacker can cause. Secrets are only ever in answers to
/// same-origin POSTs (the CSRF check refuses the rest), never in a page or a GET.
fn compression() -> CompressionLayer<impl Predicate> {
    let rendered =
        |_: StatusCode, _: http::Version, headers: &http::HeaderMap, _: &http::Extensions| {
            headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| {
                    ct.starts_with("text/html")
                        || ct.starts_with("application/json")
                        || ct.starts_with("application/problem+json")
                })
        };
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Precise(5))
        .compress_when(SizeAbove::new(1024).and(rendered))
}

/// The console's assets, sent precompressed (brotli or gzip, as the browser
/// accepts) from the copies the build wrote. Names that carry a content hash
/// never change meaning, so browsers may keep them for a year without asking
/// again; anything else must be revalidated.
fn assets(dir: std::path::PathBuf, build: Option<&str>) -> Router {
    let serve = |dir: std::path::PathBuf, cache: &'static str| {
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static(cache),
            ))
            .service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
    };
    // A published build's directory is named by a hash of its files, so they
    // never change under a name; files built by hand into `pkg/` might.
    let router = Router::new().fallback_service(serve(dir.clone(), "no-cache"));
    match build {
        Some(id) => router.nest_service(
            &format!("/{id}"),
            serve(dir.join(id), "public, max-age=31536000, immutable"),
        ),
        None => router,
    }
}

/// Full page loads of console pages need a signed-in user; anonymous browsers are
/// sent to the sign-in page. APIs, assets and server functions answer for themselves.
async fn console_gate(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let open = path == "/sign-in"
        || path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path.starts_with("/console/fn/")
        || path.starts_with("/oauth2/")
        || path.starts_with("/.well-known/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path == "/favicon.ico";
    if open || req.method() != Method::GET || req.extensions().get::<Principal>().is_some() {
        return next.run(req).await;
    }
    Redirect::to("/sign-in").into_response()
}

async fn server_fn_handler(State(state): State<ServerState>, req: Request) -> impl IntoResponse {
    let console = state.control.clone();
    handle_server_fns_with_context(move || provide_context(console.clone()), req).await
}

/// The process is alive.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and the schema is current.
async fn readyz(State(state): State<AppState>) -> Response {
    let check = tokio::time::timeout(
        Duration::from_secs(2),
        steward_control::db::ready(&state.pool),
    )
    .await;
    match check {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(why)) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database check timed out").into_response(),
    }
}

/// Prometheus text format: database pool usage and what governance is waiting on.
/// Gateways serve their own `/metrics` with traffic figures.
async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let mut out = String::with_capacity(1024);
    steward_shared::metrics::pool_metrics(&mut out, &state.pool);
    let counts: Result<(i64, i64, i64), sqlx::Error> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM api_versions WHERE state = 'in_review'),
                (SELECT count(*) FROM subscriptions WHERE state = 'pending'),
                (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))",
    )
    .fetch_one(&state.pool)
    .await;
    if let Ok((in_review, pending, keys)) = counts {
        let _ = writeln!(
            out,
            "# HELP steward_versions_in_review Contract versions waiting for review.\n# TYPE steward_versions_in_review gauge\nsteward_versions_in_review {in_review}"
        );
        let _ = writeln!(
            out,
            "# HELP steward_subscriptions_pending Subscriptions waiting for approval.\n# TYPE steward_subscriptions_pending gauge\nsteward_subscriptions_pending {pending}"
        );
        let _ = writeln!(
            out,
            "# HELP steward_api_keys_active Usable API keys.\n# TYPE steward_api_keys_active gauge\nsteward_api_keys_active {keys}"
        );
    }
    let mut res = out.into_response();
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}
