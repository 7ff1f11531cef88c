use leptos::server_fn::ServerFn;
use reqwest::Method;
use steward_console::server_fns::{CreateTeam, ListUsers, LoadAudit, LoadOverview};
use steward_control::admin::ROUTES;
use steward_model::Role;
use steward_tests::{TestApp, problem, spawn_app};

fn concrete(path: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    path.replace("{id}", &id)
        .replace("{user_id}", &id)
        .replace("{kid}", "no-such-key")
}

/// A well-formed body for each route that takes one, so that only the role decides.
fn body_for(path: &str) -> serde_json::Value {
    match path {
        "/users" => {
            serde_json::json!({"email": "n@example.test", "display_name": "N", "role": "viewer", "password": "long enough password"})
        }
        "/teams" => serde_json::json!({"slug": "new-team", "name": "New"}),
        "/tokens" => serde_json::json!({"name": "ci"}),
        "/session" => serde_json::json!({"email": "n@example.test", "password": "x"}),
        "/plans" => {
            serde_json::json!({"slug": "platinum", "name": "Platinum", "rate_per_second": 10,
                                        "burst": 20, "environments": ["production"]})
        }
        "/consumers" => serde_json::json!({"slug": "acme", "name": "Acme", "kind": "partner"}),
        "/consumers/{id}/applications" => {
            serde_json::json!({"name": "storefront", "environment": "production"})
        }
        "/upstream-policy" => serde_json::json!({"allow": []}),
        "/applications/{id}/keys" | "/applications/{id}/oauth-clients" => {
            serde_json::json!({"name": "primary"})
        }
        _ => serde_json::json!({}),
    }
}

async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    method: &str,
    path: &str,
) -> reqwest::Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method.clone(), app.api(&concrete(path)));
    if matches!(method, Method::POST | Method::PATCH | Method::PUT) {
        req = req.json(&body_for(path));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn every_admin_route_without_credentials_gets_401() {
    let app = spawn_app().await;
    let client = app.client();
    for (method, path, _) in ROUTES {
        if (*method, *path) == ("POST", "/session") {
            continue; // signing in is the one anonymous command
        }
        let res = call(&app, &client, method, path).await;
        assert_eq!(res.status(), 401, "{method} {path}");
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer realm=\"steward-admin\""
        );
        problem(res, 401).await;
    }
}

/// Routes only admins may use; every other role gets 403.
const ADMIN_ONLY: &[(&str, &str)] = &[
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{id}"),
    ("PATCH", "/users/{id}"),
    ("POST", "/teams"),
    ("DELETE", "/teams/{id}"),
    ("PUT", "/teams/{id}/members/{user_id}"),
    ("DELETE", "/teams/{id}/members/{user_id}"),
    ("POST", "/plans"),
    ("PATCH", "/plans/{id}"),
    ("POST", "/consumers"),
    ("PATCH", "/consumers/{id}"),
    ("POST", "/consumers/{id}/applications"),
    ("POST", "/applications/{id}/keys"),
    ("POST", "/applications/{id}/oauth-clients"),
    ("POST", "/keys/{id}/rotate"),
    ("DELETE", "/keys/{id}"),
    ("POST", "/oauth-clients/{id}/rotate"),
    ("DELETE", "/oauth-clients/{id}"),
    ("GET", "/signing-keys"),
    ("POST", "/signing-keys/rotate"),
    ("POST", "/signing-keys/{kid}/revoke"),
    ("GET", "/upstream-policy"),
    ("PUT", "/upstream-policy"),
];

#[tokio::test]
async fn admin_routes_refuse_reviewers_owners_and_viewers_with_403() {
    let app = spawn_app().await;
    for role in [Role::Reviewer, Role::Owner, Role::Viewer] {
        let client = app.as_role(role).await;
        for (method, path) in ADMIN_ONLY {
            let res = call(&app, &client, method, path).await;
            let body = problem(res, 403).await;
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("needs the admin role"),
                "{role} {method} {path}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_audit_trail_is_for_admins_and_reviewers() {
    let app = spawn_app().await;
    for role in [Role::Owner, Role::Viewer] {
        let client = app.as_role(role).await;
        for path in ["/audit", "/audit/verify"] {
            problem(client.get(app.api(path)).send().await.unwrap(), 403).await;
        }
    }
    for role in [Role::Admin, Role::Reviewer] {
        let client = app.as_role(role).await;
        for path in ["/audit", "/audit/verify"] {
            assert_eq!(
                client.get(app.api(path)).send().await.unwrap().status(),
                200,
                "{role} {path}"
            );
        }
    }
}

async fn server_fn(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn server_functions_check_the_session_and_the_role() {
    let app = spawn_app().await;
    let anonymous = app.client();
    for path in [ListUsers::PATH, LoadOverview::PATH, LoadAudit::PATH] {
        let res = server_fn(
            &app,
            &anonymous,
            path,
            &[("actor", ""), ("action", ""), ("target", "")],
        )
        .await;
        assert_eq!(res.status(), 401, "{path}");
    }
    let viewer = app.as_role(Role::Viewer).await;
    assert_eq!(
        server_fn(&app, &viewer, LoadOverview::PATH, &[])
            .await
            .status(),
        200
    );
    assert_eq!(
        server_fn(&app, &viewer, ListUsers::PATH, &[])
            .await
            .status(),
        403
    );
    let res = server_fn(
        &app,
        &viewer,
        CreateTeam::PATH,
        &[("slug", "x-team"), ("name", "X"), ("description", "")],
    )
    .await;
    assert_eq!(res.status(), 403);
    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(teams, 0);

    let admin = app.as_role(Role::Admin).await;
    let res = server_fn(
        &app,
        &admin,
        CreateTeam::PATH,
        &[("slug", "x-team"), ("name", "X"), ("description", "")],
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn cross_site_state_changes_are_refused_even_with_a_valid_session() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let body = serde_json::json!({"slug": "evil-team", "name": "Evil"});
    let res = admin
        .post(app.api("/teams"))
        .header("sec-fetch-site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    let p = problem(res, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("cross-site"));
    let res = admin
        .post(app.api("/teams"))
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    // Server functions are covered by the same check.
    let res = admin
        .post(app.url(CreateTeam::PATH))
        .header("origin", "https://evil.example")
        .form(&[("slug", "evil-team"), ("name", "Evil"), ("description", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(teams, 0, "nothing was written");

    let res = admin
        .post(app.api("/teams"))
        .header("origin", format!("http://{}", app.addr))
        .header("sec-fetch-site", "same-origin")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}
