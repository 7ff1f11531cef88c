//! The upstream policy against server-side request forgery: loopback, metadata
//! and Steward's own listeners are refused until an admin allows them (the
//! harness allows 127.0.0.0/8, as an operator with upstreams on the same
//! machine would), checked at upload and on every upstream connection; and the
//! caller's cookies stay at the gateway unless the contract reads them.

use serde_json::{Value, json};
use std::time::Duration;
use steward_tests::gateway::{Harness, harness, problem_type};

async fn stock(h: &Harness) -> reqwest::Response {
    h.get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn loopback_is_refused_until_an_admin_allows_it() {
    let h = harness().await;
    assert_eq!(stock(&h).await.status(), 200);
    let upstream: String = sqlx::query_scalar(
        "SELECT upstream_url FROM api_versions WHERE base_path = '/inventory/v1'",
    )
    .fetch_one(&h.app.pool)
    .await
    .unwrap();
    let echo = upstream
        .trim_start_matches("http://")
        .trim_end_matches("/inventory")
        .to_string();

    // Without the harness's entry, the default refuses the loopback upstream.
    let admin = &h.f.admin;
    let res = admin
        .put(h.app.api("/upstream-policy"))
        .json(&json!({"allow": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let took = h
        .within(Duration::from_secs(1), async || {
            stock(&h).await.status() == 502
        })
        .await;
    assert!(took < Duration::from_secs(1));
    let (body, _) = problem_type(stock(&h).await, 502).await;
    assert_eq!(
        body["type"],
        "https://steward.dev/problems/gateway/upstream-refused"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("is a loopback address, which the upstream policy refuses"),
        "{body}"
    );

    // Exactly the echo upstream's address is allowed; a bad entry is named.
    let p = steward_tests::problem(
        admin
            .put(h.app.api("/upstream-policy"))
            .json(&json!({"allow": [echo, "not a host!"]}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "allow[1]");
    let res = admin
        .put(h.app.api("/upstream-policy"))
        .json(&json!({"allow": [echo]}))
        .send()
        .await
        .unwrap();
    let policy: Value = res.json().await.unwrap();
    assert_eq!(policy["allow"], json!([echo]));
    h.within(Duration::from_secs(1), async || {
        stock(&h).await.status() == 200
    })
    .await;
    // Two changes made it; the refused one left no trace.
    assert_eq!(h.app.audit_count("upstream_policy.update").await, 2);
}

#[tokio::test]
async fn metadata_and_stewards_own_listeners_are_never_upstreams() {
    let h = harness().await;
    // An upload naming the metadata address outright is refused at once.
    let spec = steward_tests::partners::retail_spec("inventory-v1.yaml");
    let p = steward_tests::problem(
        h.f.admin
            .post(h.app.api("/apis/inventory/versions"))
            .json(&json!({"version": "1.9.0", "base_path": "/inventory/v1",
                "upstream_url": "http://169.254.169.254/latest/meta-data", "spec": spec}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "upstream_url");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("link-local"),
        "{p}"
    );

    // The gateway's own listener and the console's, though loopback is allowed.
    for own in [h.gateway.clone(), h.app.url("")] {
        sqlx::query("UPDATE api_versions SET upstream_url = $1 WHERE base_path = '/inventory/v1'")
            .bind(format!("{}/x", own.trim_end_matches('/')))
            .execute(&h.app.pool)
            .await
            .unwrap();
        h.announce("version").await;
        h.within(Duration::from_secs(1), async || {
            stock(&h).await.status() == 502
        })
        .await;
        let (body, _) = problem_type(stock(&h).await, 502).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("one of Steward's own listeners"),
            "{own}: {body}"
        );
    }
}

#[tokio::test]
async fn cookies_stay_at_the_gateway_unless_the_contract_reads_them() {
    let h = harness().await;
    let res = h
        .get("/inventory/v1/stock-levels")
        .header("x-api-key", &h.key)
        .header("cookie", "steward_session=the-consoles; theme=dark")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.unwrap();
    assert!(seen["headers"].get("cookie").is_none(), "{seen}");
}

/// A public operation (`security: []`) needs no credential, but anonymous
/// callers get a per-source limit (5 per second with a burst of 5 in the
/// harness), so that one of them cannot take the upstream for itself.
#[tokio::test]
async fn anonymous_callers_of_public_operations_are_limited_per_source() {
    let h = harness().await;
    let spec = r#"
openapi: 3.0.3
info: {title: Store locator, version: 1.0.0}
paths:
  /stores:
    get:
      security: []
      responses: {'200': {description: the stores}}
"#;
    let upstream: String = sqlx::query_scalar(
        "SELECT upstream_url FROM api_versions WHERE base_path = '/inventory/v1'",
    )
    .fetch_one(&h.app.pool)
    .await
    .unwrap();
    let api = uuid::Uuid::new_v4();
    let team: uuid::Uuid = sqlx::query_scalar("SELECT team_id FROM apis WHERE slug = 'inventory'")
        .fetch_one(&h.app.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO apis (id, slug, name, team_id, tier) VALUES ($1, 'stores', 'Stores', $2, 'low')")
        .bind(api)
        .bind(team)
        .execute(&h.app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO api_versions (id, api_id, version, major, minor, patch, base_path, upstream_url,
                                   spec_text, spec_format, spec_sha256, state, published_at)
         VALUES ($1, $2, '1.0.0', 1, 0, 0, '/stores/v1', $3, $4, 'yaml', '', 'published', now())",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(api)
    .bind(upstream.replace("/inventory", "/stores"))
    .bind(spec)
    .execute(&h.app.pool)
    .await
    .unwrap();
    h.announce("version").await;
    h.within(Duration::from_secs(1), async || {
        h.get("/stores/v1/stores").send().await.unwrap().status() == 200
    })
    .await;
    // The burst is spent within the second; the next anonymous call waits.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(
            h.get("/stores/v1/stores")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let res = h.get("/stores/v1/stores").send().await.unwrap();
    let (body, headers) = problem_type(res, 429).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("anonymous callers from one address"),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    // Another address has its own allowance.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 4]))
        .build()
        .unwrap();
    let res = elsewhere
        .get(format!("{}/stores/v1/stores", h.gateway))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
