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
