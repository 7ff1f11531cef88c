//! Memory bounds, in a test binary of its own: the process's RSS is measured
//! around one request, which only means something with no other test running.

#![expect(
    clippy::unwrap_used,
    reason = "a test should stop at the first surprise"
)]

use steward_model::Role;
use steward_tests::{problem, spawn_app};

/// A "billion laughs" YAML document: 11 KB of nested aliases that expand to eight
/// million nodes (serde_yaml alone spends half a minute and 2.5 GB on it).
fn yaml_bomb() -> String {
    let mut text =
        String::from("openapi: 3.0.3\ninfo: {title: t, version: 1.0.0}\npaths: {}\nx-bomb:\n");
    let leaves = vec!["lol"; 200].join(", ");
    text.push_str(&format!("  a0: &a0 [{leaves}]\n"));
    for i in 1..=3 {
        let refs = vec![format!("*a{}", i - 1); 200].join(", ");
        text.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    text
}

/// Resident memory of this process (the server under test runs in it), in MiB.
fn rss_mib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096 / (1024 * 1024)
}

/// Every YAML the admin API parses is bounded by its size: an alias bomb through
/// contract upload or OpenSLO import gets a 4xx within a second and leaves the
/// memory as it was; a viewer's import is refused before anything is parsed.
#[tokio::test]
async fn a_yaml_alias_bomb_gets_a_quick_4xx_and_no_memory() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let viewer = app.as_role(Role::Viewer).await;
    let team: serde_json::Value = admin
        .post(app.api("/teams"))
        .json(&serde_json::json!({"slug": "stock", "name": "Stock"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = admin
        .post(app.api("/apis"))
        .json(
            &serde_json::json!({"slug": "stock", "name": "Stock", "team_id": team["id"],
                                  "tier": "standard", "capability": "stock"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let bomb = yaml_bomb();
    let before = rss_mib();
    let started = std::time::Instant::now();
    let res = admin
        .post(app.api("/apis/stock/versions"))
        .json(
            &serde_json::json!({"version": "1.0.0", "base_path": "/stock/v1",
                                  "upstream_url": "http://127.0.0.1:9", "spec": bomb}),
        )
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert!(
        p["detail"].as_str().unwrap().contains("YAML aliases"),
        "{p}"
    );
    let res = admin
        .post(app.api("/slos/openslo"))
        .header("content-type", "application/yaml")
        .body(bomb.clone())
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert!(p.to_string().contains("YAML aliases"), "{p}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Flow collections nested 100,000 deep (200 KB): the YAML scanner's work
    // grows with the square of the depth (18 s in a release build), so they
    // are refused before it runs, with the position where the limit is passed.
    let deep = format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: 1.0.0}}\npaths: {{}}\nx-deep: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let started = std::time::Instant::now();
    let res = admin
        .post(app.api("/apis/stock/versions"))
        .json(
            &serde_json::json!({"version": "1.0.0", "base_path": "/stock/v1",
                                  "upstream_url": "http://127.0.0.1:9", "spec": deep}),
        )
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["line"], 4, "{p}");
    assert!(p.to_string().contains("levels deep"), "{p}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let grown = rss_mib().saturating_sub(before);
    assert!(grown < 50, "RSS grew by {grown} MiB");
    let res = viewer
        .post(app.api("/slos/openslo"))
        .header("content-type", "application/yaml")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
