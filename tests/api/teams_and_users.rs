use serde_json::Value;
use steward_model::Role;
use steward_tests::{problem, spawn_app};

#[tokio::test]
async fn admins_manage_users_through_the_api() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(app.api("/users"))
        .json(&serde_json::json!({"email": "Rhea@Example.test", "display_name": "Rhea", "role": "reviewer", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["email"], "rhea@example.test");
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'rhea@example.test'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );

    let dupe = admin
        .post(app.api("/users"))
        .json(&serde_json::json!({"email": "rhea@example.test", "display_name": "Rhea 2", "role": "viewer", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    let body = problem(dupe, 409).await;
    assert_eq!(body["errors"][0]["field"], "email");

    let id = user["id"].as_str().unwrap();
    let changed: Value = admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"role": "owner", "display_name": "Rhea O."}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["role"], "owner");
    assert_eq!(changed["display_name"], "Rhea O.");
    assert_eq!(app.audit_count("user.change_role").await, 1);
    let listed: Value = admin
        .get(app.api("/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_disabled() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let me: Value = admin
        .get(app.api("/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["user_id"].as_str().unwrap();
    for patch in [
        serde_json::json!({"role": "viewer"}),
        serde_json::json!({"disabled": true}),
    ] {
        let res = admin
            .patch(app.api(&format!("/users/{id}")))
            .json(&patch)
            .send()
            .await
            .unwrap();
        let body = problem(res, 409).await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("last active admin")
        );
    }
    app.create_user("second@example.test", Role::Admin).await;
    let res = admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn teams_have_members_and_everyone_can_read_them() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post(app.api("/teams"))
        .json(&serde_json::json!({"slug": "Bad Slug", "name": ""}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);

    let team: Value = admin
        .post(app.api("/teams"))
        .json(&serde_json::json!({"slug": "store-ops", "name": "Store Ops", "description": "POS and store systems"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let team_id = team["id"].as_str().unwrap().to_string();
    let user = app.create_user("pos@example.test", Role::Owner).await;
    let member_url = app.api(&format!("/teams/{team_id}/members/{user}"));
    assert_eq!(admin.put(&member_url).send().await.unwrap().status(), 200);
    // Idempotent: adding twice changes nothing and audits once.
    assert_eq!(admin.put(&member_url).send().await.unwrap().status(), 200);
    assert_eq!(app.audit_count("team.add_member").await, 1);

    let viewer = app.as_role(Role::Viewer).await;
    let teams: Value = viewer
        .get(app.api("/teams"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(teams[0]["members"][0]["email"], "pos@example.test");
    let one: Value = viewer
        .get(app.api(&format!("/teams/{team_id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["slug"], "store-ops");

    let users: Value = admin
        .get(app.api(&format!("/users/{user}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["teams"][0], "store-ops");

    let unknown_user = app.api(&format!(
        "/teams/{team_id}/members/{}",
        uuid::Uuid::new_v4()
    ));
    problem(admin.put(&unknown_user).send().await.unwrap(), 422).await;

    assert_eq!(
        admin.delete(&member_url).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        admin
            .delete(app.api(&format!("/teams/{team_id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    problem(
        viewer
            .get(app.api(&format!("/teams/{team_id}")))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn the_overview_counts_come_from_the_database() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    app.create_user("v1@example.test", Role::Viewer).await;
    app.create_user("v2@example.test", Role::Viewer).await;
    admin
        .post(app.api("/teams"))
        .json(&serde_json::json!({"slug": "one", "name": "One"}))
        .send()
        .await
        .unwrap();
    admin
        .post(app.api("/tokens"))
        .json(&serde_json::json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    let o: Value = admin
        .get(app.api("/overview"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["users"], 3);
    assert_eq!(o["active_users"], 3);
    assert_eq!(o["teams"], 1);
    assert_eq!(o["access_tokens"], 1);
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(o["audit_entries"], audit);
    assert_eq!(o["apis"], 0);
    assert_eq!(o["in_review"], 0);
    assert_eq!(
        o["users_by_role"],
        serde_json::json!([["admin", 1], ["reviewer", 0], ["owner", 0], ["viewer", 2]])
    );
    assert!(!o["recent_activity"].as_array().unwrap().is_empty());
    // Viewers see the counts but not the audit excerpt.
    let viewer = app.as_role(Role::Viewer).await;
    let o: Value = viewer
        .get(app.api("/overview"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(o["recent_activity"].as_array().unwrap().is_empty());
}
