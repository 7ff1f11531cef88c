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
