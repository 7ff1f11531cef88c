//! Command line and configuration. Every setting is a flag with an environment
//! variable twin, so `steward --help` documents the whole configuration (the binary).

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "steward",
    version,
    about = "Steward: API governance control plane, console and gateway",
    long_about = "Steward registers API contracts, reviews breaking changes, issues partner \
credentials and tracks SLOs, and enforces what was published on live traffic.\n\n\
All state lives in PostgreSQL. On start Steward creates the database if it is missing and \
applies its migrations."
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL connection URL. The database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/steward",
        global = true
    )]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane (console, admin API, OAuth2 token server) and the gateway.
    Serve(Box<ServeArgs>),
    /// Run only the gateway (data plane) against the shared database.
    Gateway(Box<GatewayOnlyArgs>),
    /// Create the database if needed, apply migrations, and exit.
    Migrate,
    /// Operator commands for console users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Seed the demo organisation (users and teams) if the database has no users yet.
    SeedDemo {
        /// Where the demo's contracts send their traffic: the stand-in ERP
        /// that `steward serve --demo` starts.
        #[arg(
            long,
            env = "STEWARD_DEMO_UPSTREAM_ADDR",
            default_value = "127.0.0.1:9000"
        )]
        demo_upstream_addr: SocketAddr,
    },
    /// Compare two OpenAPI documents and report breaking changes. No database needed.
    Diff(DiffArgs),
    /// Lint an OpenAPI document with Steward's governance rules. No database needed.
    Lint(LintArgs),
    /// List every breaking-change check and lint rule, with its level and meaning.
    Checks(ChecksArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ChecksArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Threshold {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The published contract (YAML or JSON file).
    pub base: std::path::PathBuf,
    /// The proposed contract.
    pub revision: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when a change at or above this level is found.
    #[arg(long, value_enum, default_value_t = Threshold::Error)]
    pub fail_on: Threshold,
    /// Sunset date of the base version (YYYY-MM-DD); removals on or after it are not breaking.
    #[arg(long)]
    pub base_sunset: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    /// The contract to lint (YAML or JSON file).
    pub spec: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity is found.
    #[arg(long, value_enum, default_value_t = Threshold::Error)]
    pub fail_on: Threshold,
    /// The base path the contract will be published under, e.g. /orders/v2.
    #[arg(long)]
    pub base_path: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address of the console and admin API.
    #[arg(long, env = "STEWARD_CONSOLE_ADDR", default_value = "127.0.0.1:3000")]
    pub console_addr: SocketAddr,
    /// Certificate chain (PEM) for the console and admin API to serve TLS
    /// with; goes with `--console-tls-key`.
    #[arg(long, env = "STEWARD_CONSOLE_TLS_CERT", requires = "console_tls_key")]
    pub console_tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of `--console-tls-cert`.
    #[arg(long, env = "STEWARD_CONSOLE_TLS_KEY", requires = "console_tls_cert")]
    pub console_tls_key: Option<std::path::PathBuf>,
    /// The key-encryption key that seals signing keys at rest: 32 bytes in
    /// base64 (`openssl rand -base64 32`). Takes precedence over the file.
    #[arg(long, env = "STEWARD_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub key_encryption_key: Option<String>,
    /// A file holding the key-encryption key (base64); created with a random
    /// key on first start if missing, which suits a demo, not production.
    #[arg(
        long,
        env = "STEWARD_KEY_ENCRYPTION_KEY_FILE",
        default_value = ".steward/key-encryption-key"
    )]
    pub key_encryption_key_file: std::path::PathBuf,
    /// Earlier key-encryption keys (comma-separated base64), during a rotation:
    /// keys sealed under them are rewrapped under the current one at start.
    #[arg(
        long,
        env = "STEWARD_PREVIOUS_KEY_ENCRYPTION_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub previous_key_encryption_keys: Vec<String>,
    /// Public base URL of the control plane, used as the OAuth2 issuer (`iss`) and in
    /// server metadata. Defaults to `http://<STEWARD_CONSOLE_ADDR>`.
    #[arg(long, env = "STEWARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Audience (`aud`) of issued access tokens: what the gateways expect.
    #[arg(
        long,
        env = "STEWARD_TOKEN_AUDIENCE",
        default_value = "steward-gateway"
    )]
    pub token_audience: String,
    /// Lifetime of issued access tokens, in seconds (60 to 86400).
    #[arg(long, env = "STEWARD_TOKEN_TTL_SECONDS", default_value_t = 3600)]
    pub token_ttl_seconds: i64,
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// Mark session cookies `Secure`. Turn on whenever the console is served over HTTPS.
    #[arg(long, env = "STEWARD_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,
    /// Directory holding the built console assets (`build-id` and `pkg/<build id>/`).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Seed demo data before serving (same as `steward seed-demo`), and start the
    /// demo upstream that stands in for the ERP.
    #[arg(long, env = "STEWARD_DEMO", default_value_t = false)]
    pub demo: bool,
    /// Address of the demo upstream (only with --demo).
    #[arg(
        long,
        env = "STEWARD_DEMO_UPSTREAM_ADDR",
        default_value = "127.0.0.1:9000"
    )]
    pub demo_upstream_addr: SocketAddr,
    /// Days the gateways' minute aggregates are kept before only their hourly
    /// rollups remain.
    #[arg(long, env = "STEWARD_MINUTE_RETENTION_DAYS", default_value_t = 8)]
    pub minute_retention_days: i64,
    /// Days hourly traffic rollups are kept.
    #[arg(long, env = "STEWARD_HOUR_RETENTION_DAYS", default_value_t = 400)]
    pub hour_retention_days: i64,
    /// Minutes of inactivity after which a console session ends.
    #[arg(long, env = "STEWARD_SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: i64,
}

/// Settings of the data plane, shared by `serve` and `gateway`.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// Address of the gateway (data plane).
    #[arg(long, env = "STEWARD_GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,
    /// Certificate chain (PEM) for the gateway to serve TLS with; goes with
    /// `--gateway-tls-key`.
    #[arg(long, env = "STEWARD_GATEWAY_TLS_CERT", requires = "gateway_tls_key")]
    pub gateway_tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of `--gateway-tls-cert`.
    #[arg(long, env = "STEWARD_GATEWAY_TLS_KEY", requires = "gateway_tls_cert")]
    pub gateway_tls_key: Option<std::path::PathBuf>,
    /// Credentials of which environments this gateway accepts (comma-separated).
    #[arg(
        long,
        env = "STEWARD_GATEWAY_ENVIRONMENTS",
        default_value = "sandbox,production",
        value_delimiter = ','
    )]
    pub gateway_environments: Vec<String>,
    /// Upstream timeout in milliseconds, unless a contract sets `x-steward-timeout-ms`.
    #[arg(long, env = "STEWARD_UPSTREAM_TIMEOUT_MS", default_value_t = 10_000)]
    pub upstream_timeout_ms: u64,
    /// Seconds between full policy refreshes, the safety net behind LISTEN/NOTIFY.
    #[arg(long, env = "STEWARD_GATEWAY_POLL_SECONDS", default_value_t = 10)]
    pub gateway_poll_seconds: u64,
    /// Largest request body, in KiB, that the gateway buffers to validate; larger
    /// bodies of operations with a JSON schema get 413.
    #[arg(long, env = "STEWARD_GATEWAY_BODY_LIMIT_KIB", default_value_t = 1024)]
    pub body_limit_kib: usize,
    /// Seconds a streamed request body may pause between two pieces before the
    /// gateway answers 408 (a slow client's time is never the upstream's).
    #[arg(long, env = "STEWARD_GATEWAY_BODY_WAIT_SECONDS", default_value_t = 30)]
    pub body_wait_seconds: u64,
    /// Requests per second that anonymous callers from one address (or IPv6
    /// /64) may make to an API's public operations.
    #[arg(long, env = "STEWARD_GATEWAY_PUBLIC_RATE", default_value_t = 20)]
    pub public_rate: u32,
    /// The burst anonymous callers from one address may send at once.
    #[arg(long, env = "STEWARD_GATEWAY_PUBLIC_BURST", default_value_t = 40)]
    pub public_burst: u32,
    /// What contract-drift reports keep of an offending response: `redacted`
    /// (its shape, every value replaced), `full` (for test environments) or `off`.
    #[arg(long, env = "STEWARD_DRIFT_EXAMPLES", default_value = "redacted")]
    pub drift_examples: String,
    /// Connections the gateway holds open at once; more are answered 503 and closed.
    #[arg(
        long,
        env = "STEWARD_GATEWAY_MAX_CONNECTIONS",
        default_value_t = 10_000
    )]
    pub max_connections: usize,
    /// Connections one source (an IPv4 address or an IPv6 /64) may hold open.
    #[arg(
        long,
        env = "STEWARD_GATEWAY_MAX_CONNECTIONS_PER_SOURCE",
        default_value_t = 512
    )]
    pub max_connections_per_source: usize,
    /// Seconds a request's head (and a small body) may take to arrive.
    #[arg(
        long,
        env = "STEWARD_GATEWAY_HEADER_TIMEOUT_SECONDS",
        default_value_t = 30
    )]
    pub header_timeout_seconds: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "STEWARD_GATEWAY_KEEPALIVE_SECONDS", default_value_t = 75)]
    pub keepalive_seconds: u64,
    /// Seconds a streamed answer may wait for the next piece from the upstream,
    /// or for the caller to take the last one.
    #[arg(
        long,
        env = "STEWARD_GATEWAY_SEND_TIMEOUT_SECONDS",
        default_value_t = 60
    )]
    pub send_timeout_seconds: u64,
    /// Proxies in front of the gateway (comma-separated addresses or CIDRs)
    /// whose `Forwarded` and `X-Forwarded-*` headers are extended; everyone
    /// else's are replaced, so that no caller can pass as another address.
    #[arg(
        long,
        env = "STEWARD_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_net
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Bearer token that the gateway's `/metrics` asks scrapers for; without
    /// one, `/metrics` answers callers on this machine only.
    #[arg(long, env = "STEWARD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// PEM file of CA certificates trusted for `https` upstreams besides the
    /// Mozilla roots: an internal CA.
    #[arg(long, env = "STEWARD_UPSTREAM_CA_FILE")]
    pub upstream_ca_file: Option<std::path::PathBuf>,
    /// Certificate chain (PEM) the gateway presents to upstreams that demand
    /// mutual TLS; goes with `--upstream-client-key`.
    #[arg(
        long,
        env = "STEWARD_UPSTREAM_CLIENT_CERT",
        requires = "upstream_client_key"
    )]
    pub upstream_client_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of `--upstream-client-cert`.
    #[arg(
        long,
        env = "STEWARD_UPSTREAM_CLIENT_KEY",
        requires = "upstream_client_cert"
    )]
    pub upstream_client_key: Option<std::path::PathBuf>,
    /// Threads that serve gateway traffic, each with its own event loop and
    /// upstream connection pool; 0 means one per CPU core.
    #[arg(long, env = "STEWARD_GATEWAY_WORKERS", default_value_t = 0)]
    pub gateway_workers: usize,
}

/// `steward gateway`: the data plane alone, for running several behind a load balancer.
#[derive(Debug, Clone, Args)]
pub struct GatewayOnlyArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// The control plane's public base URL: the issuer (`iss`) its tokens carry.
    #[arg(
        long,
        env = "STEWARD_PUBLIC_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub public_url: String,
    /// Audience (`aud`) that access tokens must carry.
    #[arg(
        long,
        env = "STEWARD_TOKEN_AUDIENCE",
        default_value = "steward-gateway"
    )]
    pub token_audience: String,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console user. Without --password a strong one is generated and printed once.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, reviewer, owner or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[arg(long, env = "STEWARD_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a new password and end all of the user's sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "STEWARD_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first broken entry. Exits 1 if broken.
    Verify,
}

/// An address or a CIDR block; a bare address is a block of one.
fn parse_net(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))
}
