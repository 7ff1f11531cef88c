use serde_json::Value;
use steward_model::Role;
use steward_tests::{TestApp, problem, spawn_app};

/// Edits one audit row behind the application's back, as an attacker with database
/// access would (the append-only trigger has to be switched off first).
pub async fn tamper(app: &TestApp, seq: i64) {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = $1")
        .bind(seq)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn every_change_is_audited_with_actor_target_and_before_after() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let team: Value = admin
        .post(app.api("/teams"))
        .json(&serde_json::json!({"slug": "order-platform", "name": "Order Platform"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = app.create_user("omar@example.test", Role::Owner).await;
    let res = admin
        .put(app.api(&format!(
            "/teams/{}/members/{user_id}",
            team["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let page: Value = admin
        .get(app.api("/audit?action=team."))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let add = &entries[0];
    assert_eq!(add["action"], "team.add_member");
    assert!(add["actor"].as_str().unwrap().starts_with("admin-"));
    assert_eq!(add["target_type"], "team");
    assert_eq!(add["target_id"], "order-platform");
    assert_eq!(add["before"]["members"].as_array().unwrap().len(), 0);
    assert_eq!(add["after"]["members"][0]["email"], "omar@example.test");
    assert_eq!(entries[1]["action"], "team.create");
    assert!(entries[1]["before"].is_null());

    // Filters: by actor substring and by target.
    let by_actor: Value = admin
        .get(app.api("/audit?actor=cli:test"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        by_actor["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "cli:test")
    );
    let by_target: Value = admin
        .get(app.api("/audit?target=order-platform"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_target["entries"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_failed_command_leaves_neither_change_nor_audit_entry() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let body = serde_json::json!({"slug": "dupe", "name": "Dupe"});
    assert_eq!(
        admin
            .post(app.api("/teams"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let res = admin
        .post(app.api("/teams"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let p = problem(res, 409).await;
    assert_eq!(p["errors"][0]["field"], "slug");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(total, after);
}

#[tokio::test]
async fn the_chain_verifies_and_reports_the_first_tampered_row() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    for i in 0..5 {
        admin
            .post(app.api("/teams"))
            .json(&serde_json::json!({"slug": format!("team-{i}"), "name": format!("Team {i}")}))
            .send()
            .await
            .unwrap();
    }
    let report: Value = admin
        .get(app.api("/audit/verify"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["intact"], true);
    let total = report["checked"].as_i64().unwrap();
    assert!(total >= 7);

    tamper(&app, 4).await;
    let report: Value = admin
        .get(app.api("/audit/verify"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_broken_seq"], 4);
    assert_eq!(report["checked"], 3);
}

#[tokio::test]
async fn a_deleted_row_breaks_the_chain_at_the_gap() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    for i in 0..3 {
        admin
            .post(app.api("/teams"))
            .json(&serde_json::json!({"slug": format!("team-{i}"), "name": "T"}))
            .send()
            .await
            .unwrap();
    }
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = steward_control::audit::verify(&app.pool).await.unwrap();
    assert!(!report.intact);
    assert_eq!(report.first_broken_seq, Some(3));
}

#[tokio::test]
async fn the_audit_table_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Admin).await;
    let update = sqlx::query("UPDATE audit_log SET actor = 'x'")
        .execute(&app.pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(&app.pool)
        .await;
    assert!(delete.is_err());
    let truncate = sqlx::query("TRUNCATE audit_log").execute(&app.pool).await;
    assert!(truncate.is_err());
}

#[tokio::test]
async fn concurrent_commands_keep_the_chain_linear() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let mut handles = Vec::new();
    for i in 0..12 {
        let client = admin.clone();
        let url = app.api("/teams");
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({"slug": format!("race-{i}"), "name": "Race"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 201);
    }
    let report = steward_control::audit::verify(&app.pool).await.unwrap();
    assert!(report.intact, "{report:?}");
}

#[tokio::test]
async fn audit_filters_match_literally_and_bad_queries_are_problems() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let all: Value = admin
        .get(app.api("/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!all["entries"].as_array().unwrap().is_empty());
    let wildcard: Value = admin
        .get(app.api("/audit?action=%25"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        wildcard["entries"].as_array().unwrap().is_empty(),
        "% is not a wildcard"
    );
    let by_type: Value = admin
        .get(app.api("/audit?target=user"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!by_type["entries"].as_array().unwrap().is_empty());
    problem(
        admin
            .get(app.api("/audit?limit=many"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    // Signing out is audited too.
    assert_eq!(
        admin
            .delete(app.api("/session"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(app.audit_count("session.sign_out").await, 1);
}
