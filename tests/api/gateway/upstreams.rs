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
