//! The request pipeline's policies over real TCP: credentials, scopes, plans,
//! lifecycle headers, contract validation and drift sampling.

use serde_json::{Value, json};
use std::time::Duration;
use steward_tests::gateway::{harness, problem_type};

/// A proxy the operator trusts (127.0.0.2 in the harness) speaks for its
/// callers: its forwarding headers are extended, and its claims pass on.
#[tokio::test]
async fn a_trusted_proxys_forwarding_headers_are_extended() {
    let h = harness().await;
    let proxy = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let res = proxy
        .get(format!("{}/inventory/v1/stock-levels", h.gateway))
        .header("x-api-key", &h.key)
        .header("x-forwarded-for", "203.0.113.9")
        .header("forwarded", "for=203.0.113.9;proto=https")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "shop.example")
        .header("x-real-ip", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    let headers = &seen["headers"];
    assert_eq!(headers["x-forwarded-for"], "203.0.113.9, 127.0.0.2");
    let forwarded = headers["forwarded"].as_str().unwrap();
    assert!(
        forwarded.starts_with("for=203.0.113.9;proto=https, for=127.0.0.2;"),
        "{forwarded}"
    );
    assert_eq!(headers["x-forwarded-proto"], "https");
    assert_eq!(headers["x-forwarded-host"], "shop.example");
    assert_eq!(headers["x-real-ip"], "203.0.113.9");
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
        // Claims about the caller's origin, which only a trusted proxy may make.
        .header("x-forwarded-for", "203.0.113.9")
        .header("forwarded", "for=203.0.113.9")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-port", "443")
        .header("x-real-ip", "203.0.113.9")
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
    // The caller's claims are replaced, not extended.
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    let gateway_host = h.gateway.trim_start_matches("http://");
    assert_eq!(
        headers["forwarded"],
        format!("for=127.0.0.1;host=\"{gateway_host}\";proto=http")
    );
    assert!(headers.get("x-forwarded-port").is_none());
    assert!(headers.get("x-real-ip").is_none());
    assert!(
        headers.get("x-api-key").is_none(),
        "the key stays at the gateway"
    );
    // The upstream is addressed by its own authority; the caller's is passed on.
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

    // Revoking the client ends its unexpired tokens at the gateway within a second.
    let res =
        h.f.admin
            .delete(h.app.api(&format!(
                "/oauth-clients/{}",
                client["client"]["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    let took = h
        .within(Duration::from_secs(1), async || {
            h.get("/inventory/v1/stock-levels")
                .header("authorization", &bearer)
                .send()
                .await
                .unwrap()
                .status()
                == 401
        })
        .await;
    println!("a revoked client's token was refused after {took:?}");
    let (body, _) = problem_type(
        h.get("/inventory/v1/stock-levels")
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    assert_eq!(body["detail"], "the token's client has been revoked");
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
    // The example is live data: viewers do not see it, and owners see its
    // shape only (the gateway redacts by default).
    assert_eq!(list[0]["example"], "");
    let list: Vec<Value> =
        h.f.owner
            .get(&path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let example = list[0]["example"].as_str().unwrap();
    assert!(example.contains("\"method\":\"<3 chars>\""), "{example}");
    assert!(!example.contains("GET"), "{example}");
}

/// A contract written in OpenAPI 3.1 goes the whole way: uploaded over the 3.0
/// version before it with a report that says only what changed (the migration
/// itself is not a change), reviewed, published, and enforced by the gateway
/// with JSON Schema 2020-12 (`prefixItems`, numeric `exclusiveMinimum`, type lists).
#[tokio::test]
async fn an_openapi_31_contract_is_reviewed_published_and_enforced() {
    let h = harness().await;
    let upstream: String = sqlx::query_scalar(
        "SELECT v.upstream_url FROM api_versions v JOIN apis a ON a.id = v.api_id WHERE a.slug = 'inventory'",
    )
    .fetch_one(&h.app.pool)
    .await
    .unwrap();
    let res =
        h.f.owner
            .post(h.app.api("/apis/inventory/versions"))
            .json(
                &json!({"version": "1.1.0", "base_path": "/inventory/v1", "upstream_url": upstream,
                      "spec": steward_tests::partners::retail_spec("inventory-v1-1.yaml")}),
            )
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    assert!(
        !v["lint"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "oas3-schema"),
        "{v}"
    );
    let id = v["id"].as_str().unwrap().to_string();
    let act = async |who: &reqwest::Client, action: &str, body: Value| {
        let res = who
            .post(h.app.api(&format!("/versions/{id}/{action}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{action}");
        res.json::<Value>().await.unwrap()
    };
    let v = act(&h.f.owner, "submit", json!({})).await;
    let report = &v["report"];
    assert_eq!(report["base_version"], "1.0.0", "{v}");
    assert_eq!(
        (report["errors"].as_u64(), report["warnings"].as_u64()),
        (Some(0), Some(0)),
        "{report}"
    );
    let ids: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["new-optional-request-property"; 2], "{report}");
    act(
        &h.f.admin,
        "review",
        json!({"approve": true, "comment": "3.1, same API"}),
    )
    .await;
    let v = act(&h.f.owner, "publish", json!({})).await;
    assert_eq!(v["state"], "published");
    h.announce("version").await;
    let adjust = |body: Value| {
        h.http
            .post(format!("{}/inventory/v1/stock-adjustments", h.gateway))
            .header("x-api-key", &h.key)
            .header("idempotency-key", "adjust-3100")
            .json(&body)
            .send()
    };
    let base =
        json!({"warehouse_id": "W1", "sku": "SKU-1", "quantity_delta": 4, "reason": "cycle_count"});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    // The 3.1 version serves once the snapshot has it: its `pallet` is checked.
    h.within(Duration::from_secs(2), async || {
        adjust(with(json!({"pallet": ["P-1", 0]})))
            .await
            .unwrap()
            .status()
            == 400
    })
    .await;
    let res = adjust(with(json!({"pallet": ["P-1", 0], "note": 5})))
        .await
        .unwrap();
    let (body, _) = problem_type(res, 400).await;
    let mut pointers: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/note", "/pallet/1"], "{body}");
    let res = adjust(with(json!({"pallet": ["P-1", 3, "extra"]})))
        .await
        .unwrap();
    let (body, _) = problem_type(res, 400).await;
    assert_eq!(
        body["errors"][0]["pointer"], "/pallet/2",
        "`items: false`: {body}"
    );
    let res = adjust(with(json!({"pallet": ["P-1", 3], "note": null})))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// Dot-segments are resolved before routing, and the path routed is the path
/// forwarded; encoded separators, which servers read differently, get 400.
#[tokio::test]
async fn paths_are_normalised_before_routing_and_forwarded_as_routed() {
    let h = harness().await;
    let get = async |path: &str| {
        let mut io = h
            .raw(&format!(
                "GET {path} HTTP/1.1\nhost: shop\nx-api-key: KEY\nconnection: close\n\n"
            ))
            .await;
        steward_tests::gateway::answer(&mut io).await
    };
    let answer = get("/inventory/v1/reservations/../stock-levels").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#""path":"/inventory/stock-levels""#),
        "the upstream got the routed path: {answer}"
    );
    let answer = get("/inventory/v1/stock-levels/%2e%2e/%2E%2E/v1/stock-levels").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for path in [
        "/inventory/v1/stock-levels/..%2Freservations",
        "/inventory/v1/stock-levels%5C..",
        "/../inventory/v1/stock-levels",
    ] {
        let answer = get(path).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("ambiguous-path"), "{path}: {answer}");
    }
}

/// A compromised signing key is revoked: it leaves the JWKS, its tokens stop
/// working at the gateway within a second, and a new key signs from then on.
#[tokio::test]
async fn a_revoked_signing_key_ends_its_tokens_at_once() {
    let h = harness().await;
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
    let token = async || {
        let body: Value = h
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
        format!("Bearer {}", body["access_token"].as_str().unwrap())
    };
    let stock = async |bearer: &str| {
        h.get("/inventory/v1/stock-levels")
            .header("authorization", bearer)
            .send()
            .await
            .unwrap()
            .status()
    };
    let old = token().await;
    assert_eq!(stock(&old).await, 200);
    let keys: Value =
        h.f.admin
            .get(h.app.api("/signing-keys"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let kid = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["active"] == true)
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string();
    // Only admins revoke.
    let res =
        h.f.owner
            .post(h.app.api(&format!("/signing-keys/{kid}/revoke")))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 403);
    let res =
        h.f.admin
            .post(h.app.api(&format!("/signing-keys/{kid}/revoke")))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());
    let took = h
        .within(Duration::from_secs(1), async || stock(&old).await == 401)
        .await;
    println!("a revoked key's token was refused after {took:?}");
    let jwks: Value = h
        .http
        .get(h.app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != kid.as_str()),
        "{jwks}"
    );
    let fresh = token().await;
    h.within(Duration::from_secs(1), async || stock(&fresh).await == 200)
        .await;
    assert_eq!(h.app.audit_count("signing_key.revoke").await, 1);
}
