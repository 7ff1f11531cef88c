//! The wire layer end to end: worker threads sharing the listener, the
//! upstream client's connection reuse, and correct HTTP/1.1 for clients.

use reqwest::Client;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use steward_tests::gateway::{harness, problem_type};

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
        Default::default(),
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

/// An upstream answers 304 with a head that describes a body, then sends that
/// body late: on a reused connection those bytes would be read as the answer
/// to the next request. The connection is not reused, so the next answer is
/// the real one.
#[tokio::test]
async fn a_late_body_after_a_304_does_not_poison_the_next_exchange() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = steward_tests::gateway::harness().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((mut io, _)) = listener.accept().await else {
                return;
            };
            let served = served.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match io.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    if served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        let _ = io
                            .write_all(b"HTTP/1.1 304 Not Modified\r\ncontent-length: 38\r\n\r\n")
                            .await;
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        // What a poisoned connection would take for the next answer.
                        let _ = io
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\npoison")
                            .await;
                    } else {
                        let _ = io
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok")
                            .await;
                    }
                }
            });
        }
    });
    sqlx::query("UPDATE api_versions SET upstream_url = $1 WHERE base_path = '/inventory/v1'")
        .bind(format!("http://{addr}/inventory"))
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("version").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let get = || {
        h.get("/inventory/v1/stock-levels")
            .header("x-api-key", &h.key)
            .send()
    };
    assert_eq!(get().await.unwrap().status(), 304);
    let next = get().await.unwrap();
    assert_eq!(next.status(), 200);
    assert_eq!(next.text().await.unwrap(), "ok");
}

/// What a server made of one request: its status and body, or nothing (it
/// closed, or said nothing within the wait).
async fn outcome(addr: std::net::SocketAddr, bytes: &[u8]) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut io = tokio::net::TcpStream::connect(addr).await.ok()?;
    io.write_all(bytes).await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(250), async {
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&got);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head.lines().find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .and_then(|n| n.trim().parse::<usize>().ok())
                });
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// Request heads generated from the pieces parsers trip on (methods, targets,
/// versions, framing headers in every combination, odd bytes in names and
/// values), each sent to the gateway's listener and to hyper's HTTP/1.1
/// server, both in front of the same app: they must agree on accepting or
/// refusing each one, and on the body they framed.
#[tokio::test]
async fn the_gateway_and_hyper_agree_on_generated_request_heads() {
    use steward_gateway::serve::{Limits, Timeouts};
    let app = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        let body = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        format!("len={} body={}", body.len(), String::from_utf8_lossy(&body))
    });
    let ours = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours_addr = ours.local_addr().unwrap();
    let limits = Limits {
        timeouts: Timeouts {
            head: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..Limits::default()
    };
    tokio::spawn(steward_gateway::serve::serve(
        ours,
        app.clone(),
        limits,
        std::future::pending(),
    ));
    let theirs = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let theirs_addr = theirs.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = theirs.accept().await else {
                return;
            };
            let app = app.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(tcp),
                        hyper_util::service::TowerToHyperService::new(app),
                    )
                    .await;
            });
        }
    });

    let methods = ["GET", "POST", "PUT", "get", "G\tET", "GET\x01", "PATCH"];
    let targets = [
        "/",
        "/a?b=c&d",
        "/a%20b",
        "/a b",
        "*",
        "http://x/y",
        "//a",
        "/\x7f",
        "/é",
    ];
    let versions = [
        "HTTP/1.1",
        "HTTP/1.0",
        "HTTP/2.0",
        "http/1.1",
        "HTTP/1.1 ",
        "HTTP/1",
    ];
    let framing = [
        "",
        "content-length: 5\r\n",
        "Content-Length: 5\r\nContent-Length: 5\r\n",
        "content-length: 5, 5\r\n",
        "content-length: +5\r\n",
        "content-length: 05\r\n",
        "content-length: 5 \r\n",
        "content-length: -1\r\n",
        "content-length: 99999999999999999999999\r\n",
        "content-length : 5\r\n",
        "content-length: 3\r\n",
        "transfer-encoding: chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "transfer-encoding: chunked\r\ncontent-length: 5\r\n",
        "transfer-encoding: identity\r\n",
    ];
    let extras = [
        "",
        "x-a: b\r\n",
        "x-a:\r\n",
        "x-a: b\x01c\r\n",
        "x-a: b\r\n c\r\n",
        "x a: b\r\n",
        ": b\r\n",
        "host: a\r\nhost: b\r\n",
        "connection: close\r\n",
        "expect: 100-continue\r\n",
    ];
    let bodies = ["", "hello", "5\r\nhello\r\n0\r\n\r\n"];
    // A fixed seed: the same cases every run, and a failure names its case.
    let mut state: u64 = 0x5eed_57e4_a2d0_0001;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    // Mostly well-formed pieces (the first `good` of each list), so that the
    // framing headers meet a head that is otherwise fine.
    let mut pick = |list: &[&'static str], good: usize| {
        if next(4) > 0 {
            list[next(good)]
        } else {
            list[next(list.len())]
        }
    };
    let mut cases = Vec::new();
    for _ in 0..400 {
        let line = format!(
            "{} {} {}",
            pick(&methods, 3),
            pick(&targets, 3),
            pick(&versions, 2)
        );
        cases.push(format!(
            "{line}\r\nhost: t\r\n{}{}\r\n{}",
            pick(&framing, framing.len()),
            pick(&extras, 2),
            pick(&bodies, bodies.len()),
        ));
    }
    let mut accepted = 0;
    let mut disagreements = Vec::new();
    for case in &cases {
        let (a, b) = tokio::join!(
            outcome(ours_addr, case.as_bytes()),
            outcome(theirs_addr, case.as_bytes())
        );
        // Refusals agree whatever their 4xx or 5xx; acceptances must agree on
        // the body the server framed.
        let class = |o: &Option<(u16, String)>| match o {
            Some((200, body)) => format!("200 {body}"),
            Some((status, _)) if *status >= 400 => "refused".to_string(),
            Some((status, _)) => format!("{status}"),
            None => "refused".to_string(),
        };
        let (a, b) = (class(&a), class(&b));
        if a.starts_with("200") {
            accepted += 1;
        }
        if a != b {
            disagreements.push(format!("{case:?}\n  gateway: {a}\n  hyper:   {b}"));
        }
    }
    println!(
        "{} generated heads, {accepted} accepted by both",
        cases.len()
    );
    assert!(
        accepted > 40,
        "the generator must reach the fast path: {accepted}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
