use steward_model::Role;
use steward_tests::{problem, spawn_app};

#[tokio::test]
async fn malformed_json_is_a_400_problem_with_line_and_column() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(app.api("/teams"))
        .header("content-type", "application/json")
        .body("{\n  \"slug\": \"a\",\n  \"name\": }")
        .send()
        .await
        .unwrap();
    let body = problem(res, 400).await;
    assert!(
        body["detail"].as_str().unwrap().contains("line 3, column"),
        "{body}"
    );
}

#[tokio::test]
async fn a_missing_field_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(app.api("/users"))
        .json(&serde_json::json!({"email": "x@example.test"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "display_name");
    let res = admin
        .post(app.api("/users"))
        .json(&serde_json::json!({"email": "x@example.test", "display_name": "X", "role": "emperor", "password": "long enough password"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "role");
}

#[tokio::test]
async fn invalid_values_are_reported_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let before = app.audit_count("user.create").await;
    let res = admin
        .post(app.api("/users"))
        .json(&serde_json::json!({"email": "not-an-email", "display_name": " ", "role": "viewer", "password": "short"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields = steward_tests::problem_fields(&body);
    assert_eq!(fields, ["email", "display_name", "password"]);
    assert_eq!(app.audit_count("user.create").await, before);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let huge = format!("{{\"slug\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
    let res = admin
        .post(app.api("/teams"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    problem(res, 413).await;
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415_problem() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(app.api("/teams"))
        .body("slug=a")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    problem(res, 415).await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app().await;
    let client = app.client();
    problem(
        client.get(app.api("/no-such-thing")).send().await.unwrap(),
        404,
    )
    .await;
    problem(client.put(app.api("/me")).send().await.unwrap(), 405).await;
    let admin = app.as_role(Role::Admin).await;
    problem(
        admin
            .get(app.api("/users/not-a-uuid"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    problem(
        admin
            .get(app.api(&format!("/users/{}", uuid::Uuid::new_v4())))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

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

/// What schemathesis found answering 500, each now a clear 4xx: a NUL in any
/// text (PostgreSQL cannot store it), deleting a team that still owns APIs,
/// and moving an API to a team that does not exist.
#[tokio::test]
async fn inputs_the_api_fuzzer_found_get_clear_answers() {
    let app = spawn_app().await;
    let f = steward_tests::partners::fixture(&app).await;
    let body = problem(
        f.admin
            .post(app.api(&format!("/applications/{}/oauth-clients", f.production_app)))
            .json(&serde_json::json!({"name": "sync\u{0}er"}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "body");
    let team: uuid::Uuid = sqlx::query_scalar("SELECT team_id FROM apis WHERE slug = 'inventory'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let body = problem(
        f.admin
            .delete(app.api(&format!("/teams/{team}")))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("owns"), "{body}");
    let body = problem(
        f.admin
            .patch(app.api("/apis/inventory"))
            .json(&serde_json::json!({"team_id": uuid::Uuid::new_v4()}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "team_id");
}
