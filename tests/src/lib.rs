//! Test harness: each test gets the real Steward control plane on a random port,
//! over its own freshly created PostgreSQL database, which is dropped afterwards.
//! Set `TEST_LOG=1` to see the server's logs.

pub mod gateway;
pub mod nginx;
pub mod partners;
pub mod tls;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Once;
use steward_control::audit::Actor;
use steward_model::{NewUser, Role};
use steward_server::app::HttpOptions;
use tokio::sync::oneshot;

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const PASSWORD: &str = "correct horse battery";

/// Where the built console assets are: `LEPTOS_SITE_ROOT` as `.ci/lib.sh` sets
/// it, else the workspace's `target/site`.
pub fn site_root() -> String {
    std::env::var("LEPTOS_SITE_ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").to_string())
}

/// The id of the console build published under `<site root>/pkg/`.
pub fn console_build_id() -> String {
    let id = std::fs::read_to_string(format!("{}/build-id", site_root()))
        .expect("the console's assets are built first (.ci/build); .ci/run does");
    id.trim().to_string()
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
                .with_test_writer()
                .try_init();
        }
    });
}

/// A running control plane over its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub database: String,
    pub database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub async fn spawn_app() -> TestApp {
    init_logs();
    let database = format!("steward_test_{}", uuid::Uuid::new_v4().simple());
    let database_url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    // The real bootstrap: creates the database and applies the migrations.
    let pool = steward_control::db::prepare(&database_url)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 must be running for the tests");
    // The tests' upstreams run on this machine: the operator of such a
    // deployment allows loopback (Steward's own listeners stay refused).
    sqlx::query("INSERT INTO upstream_allow (entry) VALUES ('127.0.0.0/8')")
        .execute(&pool)
        .await
        .expect("upstream policy");
    let mut app = TestApp {
        addr: "127.0.0.1:0".parse().expect("literal address"),
        pool,
        database,
        database_url,
        shutdown: None,
        server: None,
    };
    app.start().await;
    app
}

impl TestApp {
    /// Starts (or restarts) the HTTP server on a new port over the same database.
    pub async fn start(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        self.addr = listener.local_addr().expect("local addr");
        let http = HttpOptions {
            secure_cookies: false,
            usage_flush: std::time::Duration::from_millis(200),
            // Tests write back-dated aggregates; a rollup racing them would hide them.
            rollup_every: None,
            ..Default::default()
        };
        let router =
            steward_server::control_plane(self.pool.clone(), &site_root(), self.addr, &http)
                .await
                .expect("control plane");
        let (tx, rx) = oneshot::channel::<()>();
        self.shutdown = Some(tx);
        self.server = Some(tokio::spawn(async move {
            let _ = steward_server::serve_router(listener, router, async {
                let _ = rx.await;
            })
            .await;
        }));
    }

    /// Stops the HTTP server; the database stays.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.server.take() {
            // Graceful shutdown waits for idle keep-alive connections of test
            // clients; give it a moment, then cut them.
            let abort = handle.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_millis(500), handle)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn api(&self, path: &str) -> String {
        self.url(&format!("/api/v1{path}"))
    }

    /// A client that keeps cookies, like a browser would. A request that gets
    /// no whole answer within a minute fails and names its URL, rather than
    /// holding the suite until CI's limit.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Creates a user directly through the service, as the CLI would.
    pub async fn create_user(&self, email: &str, role: Role) -> uuid::Uuid {
        steward_control::auth::users::create_as(
            &self.pool,
            &Actor::operator("test"),
            NewUser {
                email: email.into(),
                display_name: format!("Test {role}"),
                role,
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("create user")
        .id
    }

    /// Signs in over the JSON API and returns the client holding the session cookie.
    pub async fn sign_in(&self, email: &str, password: &str) -> (Client, Response) {
        let client = self.client();
        let res = client
            .post(self.api("/session"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("sign-in request");
        (client, res)
    }

    /// A signed-in client for a new user with `role`.
    pub async fn as_role(&self, role: Role) -> Client {
        let email = format!(
            "{role}-{}@example.test",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        self.create_user(&email, role).await;
        let (client, res) = self.sign_in(&email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "sign-in as {role}");
        client
    }

    pub async fn audit_count(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(&self.pool)
            .await
            .expect("count audit")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let database = self.database.clone();
        // Drop cannot await, so a helper thread with its own runtime drops the
        // database. It must not wait for this pool to close: the pool's tasks live
        // on the test's runtime, which is blocked right here. FORCE ends them.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = PgPool::connect(ADMIN_URL).await {
                    let _ = sqlx::query(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    ))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Asserts an RFC 9457 answer and returns its body.
pub async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        ct,
        "application/problem+json",
        "content type of {}",
        res.url()
    );
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status);
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://"))
    );
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// The fields a problem's `errors` name, in order.
pub fn problem_fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .expect("the problem lists field errors")
        .iter()
        .map(|e| e["field"].as_str().expect("each error names its field"))
        .collect()
}

/// A TCP relay the test can cut and restore: stands between a component and
/// PostgreSQL to simulate an outage without touching the shared server.
pub struct Relay {
    pub addr: SocketAddr,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, l) = (cut.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                l.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(task.abort_handle());
            }
        });
        Relay { addr, cut, links }
    }

    /// Closes every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for link in self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            link.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
