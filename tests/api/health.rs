use steward_model::Role;
use steward_tests::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer_with_a_request_id() {
    let app = spawn_app().await;
    let client = app.client();
    let res = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let res = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_an_incoming_one_is_kept() {
    let app = spawn_app().await;
    let client = app.client();
    for path in ["/api/v1/me", "/api/v1/nope", "/sign-in", "/"] {
        let res = client.get(app.url(path)).send().await.unwrap();
        let id = res.headers().get("x-request-id").expect("x-request-id");
        assert!(!id.is_empty(), "{path}");
    }
    let res = client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
}

#[tokio::test]
async fn readiness_fails_when_a_migration_is_missing() {
    let app = spawn_app().await;
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("migrations not applied"));
}

#[tokio::test]
async fn anonymous_page_loads_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let res = app.client().get(app.url("/settings")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/sign-in");
    let res = app.client().get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Sign in to Steward"));
    // The label names its field (markers for hydration may follow the text).
    assert!(html.contains(r#"<label for="sign-in-email">Email"#));
}

/// The console's assets as the build publishes them (`.ci/lib.sh`): in a
/// folder named by a content hash, sent as the precompressed copy the browser
/// accepts, and cached for good; the page asks for exactly those names, and
/// the pages split from the shell are served the same way.
#[tokio::test]
async fn console_assets_are_hashed_precompressed_and_cached_for_good() {
    let site = steward_tests::site_root();
    let id = steward_tests::console_build_id();
    let id = id.as_str();
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let app = spawn_app().await;
    let page = app.client().get(app.url("/sign-in")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("/pkg/{id}/steward_bg.wasm")),
        "{html}"
    );
    assert!(html.contains(&format!("/pkg/{id}/steward.js")), "{html}");
    assert!(html.contains(&format!("/pkg/{id}/steward.css")));

    let split: Vec<String> = std::fs::read_dir(format!("{site}/pkg/{id}"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wasm") && name != "steward_bg.wasm")
        .collect();
    assert!(
        split.len() >= 19,
        "every page is split from the shell: {split:?}"
    );
    for file in ["steward_bg.wasm", split[0].as_str()] {
        for (encoding, expected) in [
            ("br", Some("br")),
            ("gzip", Some("gzip")),
            ("identity", None),
        ] {
            let res = app
                .client()
                .get(app.url(&format!("/pkg/{id}/{file}")))
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{file}");
            let headers = res.headers();
            assert_eq!(headers["content-type"], "application/wasm");
            assert_eq!(
                headers["cache-control"],
                "public, max-age=31536000, immutable"
            );
            assert_eq!(
                headers.get("content-encoding").map(|v| v.to_str().unwrap()),
                expected,
                "{file} {encoding}"
            );
        }
    }
}

/// A page outside the console's shell, loaded directly, names the split
/// modules of its page group, so the browser fetches them beside the shell
/// instead of after it; a page of the shell names none.
#[tokio::test]
async fn a_deep_link_preloads_its_page_group() {
    let id = steward_tests::console_build_id();
    let id = id.as_str();
    let app = spawn_app().await;
    let client = app.as_role(Role::Admin).await;
    let page = |path: &'static str| {
        let client = client.clone();
        let url = app.url(path);
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let apis = page("/apis").await;
    assert!(
        apis.contains(&format!(r#"href="/pkg/{id}/split_catalogue_pages_"#)),
        "{apis}"
    );
    assert!(
        apis.contains(&format!(r#"href="/pkg/{id}/__wasm_split."#)),
        "{apis}"
    );
    let overview = page("/").await;
    assert!(!overview.contains("split_"), "{overview}");
}

/// What the server renders per request travels compressed when the browser
/// accepts it: signed-in pages (with the data they hydrate from) and JSON.
/// Small answers and browsers that accept nothing else get the plain text.
#[tokio::test]
async fn pages_and_json_are_compressed_for_browsers_that_accept_it() {
    use std::io::Read;
    let app = spawn_app().await;
    let client = app.as_role(Role::Admin).await;
    let get = |path: &str, encoding: &str| {
        client
            .get(app.url(path))
            .header("accept-encoding", encoding)
            .send()
    };
    for path in ["/", "/apis", "/api/v1/lint/rules"] {
        let plain = get(path, "identity").await.unwrap();
        assert_eq!(plain.status(), 200, "{path}");
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.bytes().await.unwrap();
        assert!(plain.len() > 1024, "{path} is large enough to compress");
        let res = get(path, "gzip").await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{path}");
        assert!(
            res.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("accept-encoding")
        );
        let body = res.bytes().await.unwrap();
        assert!(
            body.len() < plain.len() / 2,
            "{path}: {} of {}",
            body.len(),
            plain.len()
        );
        let mut text = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut text)
            .unwrap();
        if path.starts_with("/api/") {
            let plain: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                plain
            );
        } else {
            // Each render has its own nonce and streams its parts as they are
            // ready, so compare the page's frame rather than every byte.
            let head = |s: &str| s.chars().take(120).collect::<String>();
            assert_eq!(
                head(&text),
                head(&String::from_utf8_lossy(&plain)),
                "{path}"
            );
            assert!(text.contains("<title>"), "{path}");
            assert!(text.contains("</html>"), "{path}");
        }
    }
    let res = get("/apis", "br").await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    // A few hundred bytes gain nothing from compression.
    let res = get("/api/v1/me", "gzip").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-encoding").is_none());
    assert!(res.bytes().await.unwrap().len() <= 1024);
}

/// Console pages allow only their own scripts, and the inline ones Leptos
/// writes carry this response's nonce; nothing may frame them, and no answer
/// is sniffed. Other answers get a policy that allows nothing.
#[tokio::test]
async fn the_console_sends_security_headers_with_a_fresh_nonce() {
    let app = spawn_app().await;
    let client = app.client();
    let nonce_of = |csp: &str| {
        csp.split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .map(str::to_string)
    };
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let res = client.get(app.url("/sign-in")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let headers = res.headers().clone();
        let csp = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        for part in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{part} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["x-frame-options"], "DENY");
        let nonce = nonce_of(&csp).expect("a nonce");
        let html = res.text().await.unwrap();
        // Every inline script carries it.
        let scripts = html.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every script has the nonce"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "one nonce per response");
    let res = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(
        res.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
}
