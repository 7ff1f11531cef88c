//! The `steward` binary's library: one process that assembles the control plane,
//! the console and the gateway (`steward serve`), or runs one of them, or a CLI
//! tool. `main.rs` only parses the command line and calls [`run`].
//!
//! `app` assembles the control plane's HTTP service with the console, `cli`
//! declares the command line, and `tools` are the file-only CI commands.

pub mod app;
pub mod cli;
pub mod tools;

use crate::cli::{AdminCommand, AuditCommand, Cli, Command, ServeArgs};
use app::{HttpOptions, ServerState};
use axum::Router;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use steward_control::audit::{self, Actor};
use steward_control::{AppState, auth, db, demo, error, oauth, sealing, slo, traffic};
use steward_gateway as gateway;
use steward_model::{NewUser, Role};
use steward_shared::usage::UsageRecorder;
use tokio::net::TcpListener;
use tower_sessions_sqlx_store::PostgresStore;

/// Runs one CLI command to completion.
pub fn run(cli: Cli) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match dispatch(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    });
    // Dropping a runtime waits for every one of its threads without limit. Once
    // the command is done (servers drained), a thread that does not finish must
    // not keep the process alive: one did, a console page render that Leptos
    // deadlocked in its own owner cleanup while the runtime was shutting down.
    runtime.shutdown_timeout(RUNTIME_GRACE);
    code
}

/// How long the runtime's threads get to finish after the command has returned.
const RUNTIME_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_sessions=warn")
    });
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // The CI tools work on files alone and must not need a database.
    match &cli.command {
        Command::Diff(args) => return tools::diff(args),
        Command::Lint(args) => return tools::lint(args),
        Command::Checks(args) => return Ok(tools::checks(args)),
        _ => {}
    }
    let pool = db::prepare(&cli.db.database_url).await?;
    match cli.command {
        Command::Migrate => {
            println!(
                "database {} is up to date",
                db::redact(&cli.db.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedDemo { demo_upstream_addr } => {
            seed_demo(&pool, demo_upstream_addr).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            serve(pool, *args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Gateway(args) => {
            let config = gateway_config(
                &args.gateway,
                args.public_url.trim_end_matches('/'),
                &args.token_audience,
            )?;
            let gateway = gateway::Gateway::start(pool, config).await;
            let listener = bind(args.gateway.gateway_addr, "STEWARD_GATEWAY_ADDR").await?;
            let workers = gateway::serve::worker_count(args.gateway.gateway_workers);
            println!(
                "Steward gateway on {}://{} ({workers} workers)",
                if args.gateway.gateway_tls_cert.is_some() {
                    "https"
                } else {
                    "http"
                },
                args.gateway.gateway_addr
            );
            gateway::serve::serve_on_workers(
                listener,
                workers,
                gateway.app(),
                gateway_limits(&args.gateway)?,
                shutdown_signal(),
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) => admin_command(&pool, cmd).await,
        Command::Diff(_) | Command::Lint(_) | Command::Checks(_) => Ok(ExitCode::SUCCESS),
        Command::Audit(AuditCommand::Verify) => {
            let report = audit::verify(&pool)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.into_app()))?;
            if report.intact {
                println!("audit chain intact: {} entries verified", report.checked);
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "audit chain BROKEN at entry {}: {} ({} entries verified before it)",
                    report.first_broken_seq.unwrap_or_default(),
                    report.reason.unwrap_or_default(),
                    report.checked
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}

async fn seed_demo(pool: &PgPool, upstream: SocketAddr) -> anyhow::Result<()> {
    let seeded = demo::seed(pool, upstream)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.into_app()))?;
    if seeded {
        println!("seeded the demo organisation");
    }
    println!("demo sign-in: {} / {}", demo::USERS[0].0, demo::PASSWORD);
    println!(
        "other demo users (same password): {}",
        demo::USERS[1..]
            .iter()
            .map(|u| u.0)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "demo API key (Tillpoint POS, for the gateway): {}",
        demo::DEMO_API_KEY
    );
    Ok(())
}

async fn admin_command(pool: &PgPool, cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    let fail = |e: error::Error| anyhow::anyhow!("{}", describe(e.into_app()));
    match cmd {
        AdminCommand::CreateUser {
            email,
            name,
            role,
            password,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("--role must be admin, reviewer, owner or viewer")
            })?;
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (auth::tokens::random_hex(12), true),
            };
            let user = auth::users::create_as(
                pool,
                &Actor::operator("admin create-user"),
                NewUser {
                    email,
                    display_name: name,
                    role,
                    password: password.clone(),
                },
            )
            .await
            .map_err(fail)?;
            println!("created {} ({}) with id {}", user.email, user.role, user.id);
            if generated {
                println!("generated password (shown once): {password}");
            }
        }
        AdminCommand::ResetPassword { email, password } => {
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (auth::tokens::random_hex(12), true),
            };
            auth::users::reset_password(
                pool,
                &Actor::operator("admin reset-password"),
                &email,
                password.clone(),
            )
            .await
            .map_err(fail)?;
            println!("password reset for {email}; all of their sessions have ended");
            if generated {
                println!("generated password (shown once): {password}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(e: steward_model::AppError) -> String {
    match &e {
        steward_model::AppError::Validation { fields } => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => e.to_string(),
    }
}

/// Leptos settings without cargo-leptos: `.ci/lib.sh` publishes each build of
/// the console into `pkg/<content hash>/` (the page's JS, the WASM shell, the
/// pages split from it and the stylesheet) and writes the hash to
/// `<site root>/build-id`. Without that file (assets built by hand) the files
/// are looked for in `pkg/` itself.
pub fn leptos_options(site_root: &str, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(steward_console::OUTPUT_NAME)
        .site_root(site_root)
        .site_pkg_dir(match build_id(site_root) {
            Some(id) => format!("pkg/{id}"),
            None => "pkg".to_string(),
        })
        .site_addr(addr)
        .build()
}

/// The content hash naming the console build under `pkg/`, if one was published.
pub fn build_id(site_root: &str) -> Option<String> {
    std::fs::read_to_string(std::path::Path::new(site_root).join("build-id"))
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub fn gateway_config(
    args: &cli::GatewayArgs,
    issuer: &str,
    audience: &str,
) -> anyhow::Result<gateway::GatewayConfig> {
    let environments = args
        .gateway_environments
        .iter()
        .map(|e| {
            steward_model::Environment::parse(e.trim()).ok_or_else(|| {
                anyhow::anyhow!("STEWARD_GATEWAY_ENVIRONMENTS: {e:?} is not sandbox or production")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let extra_roots = match &args.upstream_ca_file {
        Some(path) => gateway::wire::tls::read_certificates(path)
            .map_err(|e| anyhow::anyhow!("STEWARD_UPSTREAM_CA_FILE: {e}"))?,
        None => Vec::new(),
    };
    let identity = match (&args.upstream_client_cert, &args.upstream_client_key) {
        (Some(cert), Some(key)) => Some(gateway::wire::tls::Identity {
            chain: gateway::wire::tls::read_certificates(cert)
                .map_err(|e| anyhow::anyhow!("STEWARD_UPSTREAM_CLIENT_CERT: {e}"))?,
            key: gateway::wire::tls::read_key(key)
                .map_err(|e| anyhow::anyhow!("STEWARD_UPSTREAM_CLIENT_KEY: {e}"))?,
        }),
        _ => None,
    };
    let upstream_tls = gateway::wire::tls::client_config(extra_roots, identity)
        .map_err(|e| anyhow::anyhow!("upstream TLS: {e}"))?;
    // The gateway's own listener, and the control plane's where its public URL
    // names an address: neither may be an upstream.
    let mut own_addresses = vec![args.gateway_addr];
    if let Some(console) = issuer.parse::<http::Uri>().ok().and_then(|u| {
        u.authority()
            .and_then(|a| a.as_str().parse::<SocketAddr>().ok())
    }) {
        own_addresses.push(console);
    }
    Ok(gateway::GatewayConfig {
        own_addresses,
        upstream_tls,
        issuer: issuer.to_string(),
        audience: audience.to_string(),
        environments,
        default_timeout: std::time::Duration::from_millis(args.upstream_timeout_ms.max(1)),
        poll_interval: std::time::Duration::from_secs(args.gateway_poll_seconds.max(1)),
        usage_flush: std::time::Duration::from_secs(10),
        body_limit: args.body_limit_kib.max(1) * 1024,
        body_wait: std::time::Duration::from_secs(args.body_wait_seconds.max(1)),
        address: args.gateway_addr.to_string(),
        breaker_threshold: 5,
        breaker_cooldown: std::time::Duration::from_secs(10),
        trusted_proxies: args.trusted_proxies.clone(),
        listener_tls: args.gateway_tls_cert.is_some(),
        drift_examples: gateway::pipeline::drift::Examples::parse(&args.drift_examples)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "STEWARD_DRIFT_EXAMPLES: {:?} is not redacted, full or off",
                    args.drift_examples
                )
            })?,
        public_rate_per_second: args.public_rate,
        public_burst: args.public_burst,
        metrics_token: args
            .metrics_token
            .clone()
            .filter(|t| !t.is_empty())
            .map(gateway::Redacted),
    })
}

/// The gateway listener's connection limits, timeouts and TLS.
pub fn gateway_limits(args: &cli::GatewayArgs) -> anyhow::Result<gateway::serve::Limits> {
    let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
    let tls = match (&args.gateway_tls_cert, &args.gateway_tls_key) {
        (Some(cert), Some(key)) => Some(
            gateway::wire::tls::server_config(cert, key)
                .map_err(|e| anyhow::anyhow!("gateway TLS: {e}"))?,
        ),
        _ => None,
    };
    Ok(gateway::serve::Limits {
        tls,
        max_connections: args.max_connections.max(1),
        per_source: args.max_connections_per_source.max(1),
        timeouts: gateway::serve::Timeouts {
            head: secs(args.header_timeout_seconds),
            keep_alive: secs(args.keepalive_seconds),
            answer: gateway::wire::h1::Waits {
                source: secs(args.send_timeout_seconds),
                sink: secs(args.send_timeout_seconds),
            },
        },
    })
}

/// The key-encryption key from the environment, else from its file, which is
/// made with a random key on first start (said on the console, once).
fn sealer(args: &ServeArgs) -> anyhow::Result<sealing::Sealer> {
    use sealing::{Kek, Sealer};
    let current = match &args.key_encryption_key {
        Some(text) => Kek::from_base64(text)
            .map_err(|e| anyhow::anyhow!("STEWARD_KEY_ENCRYPTION_KEY: {e}"))?,
        None => {
            let path = &args.key_encryption_key_file;
            if !path.exists() {
                use base64::Engine;
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let text = base64::engine::general_purpose::STANDARD.encode(key);
                write_private(path, &text)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                println!(
                    "generated a key-encryption key in {} (signing keys are sealed with it; keep it, or set STEWARD_KEY_ENCRYPTION_KEY)",
                    path.display()
                );
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            Kek::from_base64(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
    };
    let previous = args
        .previous_key_encryption_keys
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Kek::from_base64(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("STEWARD_PREVIOUS_KEY_ENCRYPTION_KEYS: {e}"))?;
    Ok(Sealer::new(current, previous))
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

async fn bind(addr: SocketAddr, variable: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr} ({e}); set {variable} to a free address")
    })
}

/// Builds the control plane's router over a prepared pool. Tests call this too.
pub async fn control_plane(
    pool: PgPool,
    site_root: &str,
    addr: SocketAddr,
    http: &HttpOptions,
) -> anyhow::Result<Router> {
    let store = PostgresStore::new(pool.clone());
    store.migrate().await?;
    let oauth = Arc::new(oauth::OAuthConfig {
        issuer: http
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string(),
        audience: http.token_audience.clone(),
        token_ttl: http.token_ttl,
        sealer: http.sealer.clone(),
    });
    // The operator needs the reason (which key is missing), not a reference.
    let sealed = oauth::signing::seal_stored(&pool, &oauth.sealer)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if sealed > 0 {
        tracing::info!(
            keys = sealed,
            kek = oauth.sealer.current_id(),
            "sealed or rewrapped signing keys"
        );
    }
    // A signing key exists before the first token request, so the JWKS is never empty.
    oauth::signing::active(&pool, &oauth.sealer, http.token_ttl).await?;
    let usage = UsageRecorder::new();
    usage.spawn(pool.clone(), http.usage_flush);
    slo::alerts::spawn(pool.clone());
    if let Some(every) = http.rollup_every {
        traffic::rollup::spawn(pool.clone(), every, http.retention);
    }
    let control = AppState { pool, oauth, usage };
    let state = ServerState {
        leptos: leptos_options(site_root, addr),
        control,
    };
    Ok(app::router(state, store, http))
}

/// Serves a router with client addresses available (sign-in throttling needs them).
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves a router over TLS, with client addresses available as
/// [`serve_router`] does (HTTP/1.1). A handshake must finish within 10 s;
/// in-flight requests finish on shutdown.
pub async fn serve_router_tls(
    listener: TcpListener,
    router: Router,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use tower::ServiceExt;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "console accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let handshake =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp));
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let service =
                hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    router.clone().oneshot(req.map(axum::body::Body::new))
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}

async fn serve(pool: PgPool, args: ServeArgs) -> anyhow::Result<()> {
    if args.demo {
        seed_demo(&pool, args.demo_upstream_addr).await?;
        demo::upstream::start(args.demo_upstream_addr).await;
    }
    let site_root = args.site_root.to_string_lossy().to_string();
    let options = leptos_options(&site_root, args.console_addr);
    let assets = format!("{}.js", options.output_name);
    if !args
        .site_root
        .join(&*options.site_pkg_dir)
        .join(assets)
        .exists()
    {
        tracing::warn!(
            site_root,
            "console assets not found; pages will render without interactivity. Build them with `bash .ci/build`."
        );
    }
    let store = PostgresStore::new(pool.clone());
    // Expired sessions are deleted in the background; they are rejected on use anyway.
    let cleanup = tokio::spawn(
        tower_sessions::session_store::ExpiredDeletion::continuously_delete_expired(
            store,
            tokio::time::Duration::from_secs(600),
        ),
    );
    let http = HttpOptions {
        sealer: sealer(&args)?,
        secure_cookies: args.secure_cookies,
        session_idle: time::Duration::minutes(args.session_idle_minutes.max(1)),
        issuer: args.public_url.clone(),
        token_audience: args.token_audience.clone(),
        token_ttl: time::Duration::seconds(args.token_ttl_seconds.clamp(60, 86_400)),
        usage_flush: std::time::Duration::from_secs(10),
        rollup_every: Some(std::time::Duration::from_secs(300)),
        retention: traffic::rollup::Retention {
            // Beyond a century a retention is "forever"; the clamp keeps the
            // date arithmetic of the rollup job in range.
            minute_days: args.minute_retention_days.clamp(1, 36_500),
            hour_days: args.hour_retention_days.clamp(1, 36_500),
        },
    };
    let issuer = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.console_addr));
    let mut config = gateway_config(
        &args.gateway,
        issuer.trim_end_matches('/'),
        &args.token_audience,
    )?;
    config.own_addresses.push(args.console_addr);
    let router = control_plane(pool.clone(), &site_root, args.console_addr, &http).await?;
    let listener = bind(args.console_addr, "STEWARD_CONSOLE_ADDR").await?;
    let gateway_listener = bind(args.gateway.gateway_addr, "STEWARD_GATEWAY_ADDR").await?;
    let gateway = gateway::Gateway::start(pool, config).await;
    println!(
        "Steward console and admin API on {}://{}",
        if args.console_tls_cert.is_some() {
            "https"
        } else {
            "http"
        },
        args.console_addr
    );
    let workers = gateway::serve::worker_count(args.gateway.gateway_workers);
    println!(
        "Steward gateway on {}://{} ({workers} workers)",
        if args.gateway.gateway_tls_cert.is_some() {
            "https"
        } else {
            "http"
        },
        args.gateway.gateway_addr
    );
    let data_plane = tokio::spawn(gateway::serve::serve_on_workers(
        gateway_listener,
        workers,
        gateway.app(),
        gateway_limits(&args.gateway)?,
        shutdown_signal(),
    ));
    match (&args.console_tls_cert, &args.console_tls_key) {
        (Some(cert), Some(key)) => {
            let tls = gateway::wire::tls::server_config(cert, key)
                .map_err(|e| anyhow::anyhow!("console TLS: {e}"))?;
            serve_router_tls(listener, router, tls, shutdown_signal()).await?;
        }
        _ => serve_router(listener, router, shutdown_signal()).await?,
    }
    data_plane.abort();
    cleanup.abort();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
