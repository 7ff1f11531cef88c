use serde_json::Value;
use steward_model::Role;
use steward_tests::{problem, spawn_app};

#[tokio::test]
async fn a_token_is_shown_once_stored_as_a_digest_and_acts_with_the_owners_role() {
    let app = spawn_app().await;
    let reviewer = app.as_role(Role::Reviewer).await;
    let res = reviewer
        .post(app.api("/tokens"))
        .json(&serde_json::json!({"name": "ci-contract-check", "expires_in_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("stwp_") && secret.len() == 5 + 64);
    assert!(created["token"]["expires_at"].is_string());

    // Listing never shows the secret again.
    let listed = reviewer
        .get(app.api("/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&secret));
    assert!(listed.contains(&secret[..13]));

    // Only the digest is stored.
    let stored: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT prefix, digest FROM access_tokens")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, steward_control::auth::tokens::digest(&secret));
    let dump: String = sqlx::query_scalar("SELECT row_to_json(t)::text FROM access_tokens t")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!dump.contains(&secret[5..]));

    // Bearer use carries the user's role: a reviewer may read the audit trail, not users.
    let bearer = reqwest::Client::new();
    let me: Value = bearer
        .get(app.api("/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "reviewer");
    assert_eq!(me["auth"], "access_token");
    assert_eq!(
        bearer
            .get(app.api("/audit"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    problem(
        bearer
            .get(app.api("/users"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let last_used: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT last_used_at FROM access_tokens")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(last_used.is_some());
}

#[tokio::test]
async fn revoked_expired_unknown_and_disabled_users_tokens_get_401() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let id = app.create_user("ci@example.test", Role::Owner).await;
    let (owner, _) = app
        .sign_in("ci@example.test", steward_tests::PASSWORD)
        .await;
    let mk = |name: &'static str| {
        let owner = owner.clone();
        let url = app.api("/tokens");
        async move {
            let v: Value = owner
                .post(url)
                .json(&serde_json::json!({"name": name}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                v["token"]["id"].as_str().unwrap().to_string(),
                v["secret"].as_str().unwrap().to_string(),
            )
        }
    };
    let bearer = reqwest::Client::new();
    let me = |secret: String| bearer.get(app.api("/me")).bearer_auth(secret).send();

    let (revoked_id, revoked) = mk("revoked").await;
    assert_eq!(me(revoked.clone()).await.unwrap().status(), 200);
    let res = owner
        .delete(app.api(&format!("/tokens/{revoked_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    problem(me(revoked).await.unwrap(), 401).await;

    let (expired_id, expired) = mk("expired").await;
    sqlx::query(
        "UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
    )
    .bind(&expired_id)
    .execute(&app.pool)
    .await
    .unwrap();
    problem(me(expired).await.unwrap(), 401).await;

    problem(me(format!("stwp_{}", "0".repeat(64))).await.unwrap(), 401).await;
    problem(me("not-even-a-token".into()).await.unwrap(), 401).await;

    let (_, live) = mk("live").await;
    assert_eq!(me(live.clone()).await.unwrap().status(), 200);
    admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    problem(me(live).await.unwrap(), 401).await;
}

/// A password reset ends the user's tokens along with their sessions.
#[tokio::test]
async fn a_password_reset_revokes_the_users_tokens() {
    let app = spawn_app().await;
    app.create_user("ci@example.test", Role::Owner).await;
    let (owner, _) = app
        .sign_in("ci@example.test", steward_tests::PASSWORD)
        .await;
    let created: Value = owner
        .post(app.api("/tokens"))
        .json(&serde_json::json!({"name": "deploy"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let me = || {
        reqwest::Client::new()
            .get(app.api("/me"))
            .bearer_auth(&secret)
            .send()
    };
    assert_eq!(me().await.unwrap().status(), 200);
    steward_control::auth::users::reset_password(
        &app.pool,
        &steward_control::audit::Actor::operator("test"),
        "ci@example.test",
        "a brand new long password".into(),
    )
    .await
    .unwrap();
    problem(me().await.unwrap(), 401).await;
    let revoked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM access_tokens WHERE revoked_at IS NOT NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(revoked, 1);
}

#[tokio::test]
async fn users_cannot_see_or_revoke_each_others_tokens() {
    let app = spawn_app().await;
    let alice = app.as_role(Role::Owner).await;
    let bob = app.as_role(Role::Owner).await;
    let v: Value = alice
        .post(app.api("/tokens"))
        .json(&serde_json::json!({"name": "mine"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = v["token"]["id"].as_str().unwrap();
    let bobs: Value = bob
        .get(app.api("/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bobs.as_array().unwrap().len(), 0);
    problem(
        bob.delete(app.api(&format!("/tokens/{id}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    // Admins may revoke anyone's token, e.g. after a leak.
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(
        admin
            .delete(app.api(&format!("/tokens/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.audit_count("token.revoke").await, 1);
}

#[tokio::test]
async fn token_input_is_validated() {
    let app = spawn_app().await;
    let viewer = app.as_role(Role::Viewer).await;
    let res = viewer
        .post(app.api("/tokens"))
        .json(&serde_json::json!({"name": "", "expires_in_days": 0}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields = steward_tests::problem_fields(&body);
    assert_eq!(fields, ["name", "expires_in_days"]);
}
