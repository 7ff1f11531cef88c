//! `https://` upstreams over real TLS: certificates from a CA made for the test
//! process, verified against the host name; an unknown CA refused; a client
//! certificate presented to an upstream that demands mutual TLS.

use serde_json::Value;
use std::time::Duration;
use steward_tests::gateway::{Harness, echo_app, harness, problem_type};
use steward_tests::tls;

/// Points the inventory API at `base`, and waits until the gateway forwards
/// there: until it answers `status`, from an upstream it reached as
/// `localhost` when that status is 200.
async fn point_inventory_at(h: &Harness, base: &str, status: u16) {
    sqlx::query("UPDATE api_versions SET upstream_url = $1 WHERE base_path = '/inventory/v1'")
        .bind(format!("{base}/inventory"))
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("version").await;
    h.within(Duration::from_secs(2), async || {
        let res = stock(h).await;
        if res.status() != status {
            return false;
        }
        status != 200 || {
            let seen: Value = res.json().await.unwrap();
            seen["headers"]["host"]
                .as_str()
                .is_some_and(|host| host.starts_with("localhost:"))
        }
    })
    .await;
}

async fn stock(h: &Harness) -> reqwest::Response {
    h.get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn https_upstreams_are_reached_over_verified_tls() {
    let h = harness().await;
    let trusted = tls::serve(echo_app(), tls::authority().issue(false), false).await;
    point_inventory_at(&h, &trusted, 200).await;
    let res = stock(&h).await;
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["path"], "/inventory/stock-levels");
    // The Host names the upstream as its certificate does.
    assert!(
        seen["headers"]["host"]
            .as_str()
            .unwrap()
            .starts_with("localhost:")
    );
    // Pooled connections are reused over TLS too.
    for _ in 0..5 {
        assert_eq!(stock(&h).await.status(), 200);
    }

    // A certificate from a CA the gateway does not trust is refused.
    let rogue = tls::serve(echo_app(), tls::stranger().issue(false), false).await;
    point_inventory_at(&h, &rogue, 502).await;
    let (body, _) = problem_type(stock(&h).await, 502).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/upstream-unreachable"
    );
}

#[tokio::test]
async fn the_gateway_presents_its_certificate_to_an_upstream_that_demands_one() {
    let h = harness().await;
    let mutual = tls::serve(echo_app(), tls::authority().issue(false), true).await;
    // Without a client certificate the upstream lets nobody in.
    let anonymous =
        steward_gateway::wire::tls::client_config(vec![tls::authority().cert.clone()], None)
            .unwrap();
    assert!(
        !answers(&mutual, anonymous).await,
        "the upstream must demand a certificate"
    );
    point_inventory_at(&h, &mutual, 200).await;
}

/// Whether the TLS server at `base` answers a request from a client with `config`.
async fn answers(base: &str, config: std::sync::Arc<rustls::ClientConfig>) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = base.rsplit(':').next().unwrap();
    let tcp = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let Ok(mut io) = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
    else {
        return false;
    };
    if io
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut got = Vec::new();
    let _ = io.read_to_end(&mut got).await;
    got.starts_with(b"HTTP/1.1 ")
}

/// Sends a GET over TLS (trusting the test CA) to `addr` and returns the answer.
async fn get_over_tls(addr: &str, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config =
        steward_gateway::wire::tls::client_config(vec![tls::authority().cert.clone()], None)
            .unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut io = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("handshake with a certificate from the test CA");
    io.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), io.read_to_end(&mut got)).await;
    String::from_utf8_lossy(&got).into_owned()
}

/// The gateway listens over TLS with a certificate from files, and tells the
/// upstream the caller came by `https`.
#[tokio::test]
async fn the_gateway_serves_tls_from_certificate_files() {
    use steward_tests::gateway::{Limits, harness_limited};
    let dir = tempdir();
    let (cert, key) = tls::authority().issue(false).write_pem(&dir);
    let server = steward_gateway::wire::tls::server_config(&cert, &key).unwrap();
    let h = harness_limited(Limits {
        tls: Some(server),
        ..Limits::default()
    })
    .await;
    let addr = h.gateway.trim_start_matches("http://").to_string();
    let answer = get_over_tls(
        &addr,
        &format!(
            "GET /inventory/v1/stock-levels HTTP/1.1\r\nhost: localhost\r\nx-api-key: {}\r\nconnection: close\r\n\r\n",
            h.key
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#""x-forwarded-proto":"https""#),
        "{answer}"
    );
    // Plain HTTP on the TLS port gets no answer.
    let res = reqwest::Client::new()
        .get(format!("http://{addr}/inventory/v1/stock-levels"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(res.is_err() || !res.unwrap().status().is_success());
}

/// The console's listener serves TLS too, with the caller's address still
/// known to the app (sign-in throttling needs it).
#[tokio::test]
async fn the_console_serves_tls_from_certificate_files() {
    let dir = tempdir();
    let (cert, key) = tls::authority().issue(false).write_pem(&dir);
    let config = steward_gateway::wire::tls::server_config(&cert, &key).unwrap();
    let router =
        axum::Router::new().route(
            "/who",
            axum::routing::get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<
                    std::net::SocketAddr,
                >| async move { format!("peer {}", peer.ip()) },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(steward_server::serve_router_tls(
        listener,
        router,
        config,
        std::future::pending(),
    ));
    let answer = get_over_tls(
        &addr,
        "GET /who HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("peer 127.0.0.1"), "{answer}");
}

/// A directory of its own for one test's files.
fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("steward-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
