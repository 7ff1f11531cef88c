//! Consumers, applications, plans, subscriptions and API keys over the admin API.

use reqwest::Client;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_shared::api_key as keys;
use steward_tests::partners::{fixture, subscribe};
use steward_tests::{TestApp, problem, spawn_app};

async fn decide(
    app: &TestApp,
    who: &Client,
    id: &str,
    decision: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let req = who.post(app.api(&format!("/subscriptions/{id}/{decision}")));
    match body {
        Some(b) => req.json(&b),
        None => req,
    }
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn plans_are_seeded_and_only_admins_change_them() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let plans: Vec<Value> = f
        .viewer
        .get(app.api("/plans"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = plans.iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["bronze", "silver", "gold"]);
    assert_eq!(plans[0]["environments"], json!(["sandbox"]));

    for who in [&f.owner, &f.viewer, &f.reviewer] {
        let res = who
            .patch(app.api("/plans/gold"))
            .json(&json!({"rate_per_second": 1}))
            .send()
            .await
            .unwrap();
        problem(res, 403).await;
    }
    let res = f
        .admin
        .patch(app.api("/plans/silver"))
        .json(&json!({"burst": 5}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "burst", "{body}");
    let res = f
        .admin
        .patch(app.api("/plans/silver"))
        .json(&json!({"rate_per_second": 30, "burst": 60, "daily_quota": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let silver: Value = res.json().await.unwrap();
    assert_eq!(
        (silver["rate_per_second"].as_i64(), silver["burst"].as_i64()),
        (Some(30), Some(60))
    );
    assert!(silver["daily_quota"].is_null(), "a quota of 0 removes it");
    assert_eq!(app.audit_count("plan.update").await, 1);

    let res = f
        .admin
        .post(app.api("/plans"))
        .json(
            &json!({"slug": "gold", "name": "Gold again", "rate_per_second": 1, "burst": 1,
                      "environments": ["sandbox"]}),
        )
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
    let res = f
        .admin
        .post(app.api("/plans"))
        .json(
            &json!({"slug": "partner-peak", "name": "Peak", "rate_per_second": 500, "burst": 1000,
                      "daily_quota": 10, "monthly_quota": 5, "environments": []}),
        )
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields = steward_tests::problem_fields(&body);
    assert_eq!(fields, ["monthly_quota", "environments"]);
}

#[tokio::test]
async fn consumers_and_applications_are_validated_and_audited() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let res = f
        .admin
        .post(app.api("/consumers"))
        .json(&json!({"slug": "Bad Slug", "name": "", "kind": "partner",
                      "contacts": [{"name": "x", "email": "not-an-email"}]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields = steward_tests::problem_fields(&body);
    assert_eq!(fields, ["slug", "name", "contacts[0].email"]);
    let res = f
        .admin
        .post(app.api("/consumers"))
        .json(&json!({"slug": "northwind-market", "name": "Again", "kind": "internal"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "slug");
    let res = f
        .admin
        .post(app.api(&format!("/consumers/{}/applications", f.consumer)))
        .json(&json!({"name": "storefront", "environment": "production"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "name");
    let res = f
        .viewer
        .post(app.api("/consumers"))
        .json(&json!({"slug": "acme", "name": "Acme", "kind": "partner"}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;

    let res = f
        .admin
        .patch(app.api("/consumers/northwind-market"))
        .json(&json!({"description": "EU marketplace", "kind": "partner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let detail: Value = f
        .viewer
        .get(app.api("/consumers/northwind-market"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["description"], "EU marketplace");
    assert_eq!(detail["applications"], 2);
    assert_eq!(detail["can_manage"], false);
    let envs: Vec<&str> = detail["application_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["environment"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["sandbox", "production"]);
    assert_eq!(app.audit_count("consumer.create").await, 1);
    assert_eq!(app.audit_count("consumer.update").await, 1);
    assert_eq!(app.audit_count("application.create").await, 2);
}

#[tokio::test]
async fn subscriptions_to_critical_apis_wait_for_an_owner_of_the_api() {
    let app = spawn_app().await;
    let f = fixture(&app).await;

    // Owners outside the API's team, reviewers and viewers cannot subscribe anyone.
    for who in [&f.stranger, &f.viewer, &f.reviewer] {
        let res = subscribe(
            &app,
            who,
            &f.production_app,
            "orders",
            "gold",
            &["orders:read"],
        )
        .await;
        problem(res, 403).await;
    }
    let res = subscribe(
        &app,
        &f.admin,
        &f.production_app,
        "orders",
        "gold",
        &["orders:read", "orders:delete"],
    )
    .await;
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "scopes");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("orders:delete"),
        "{body}"
    );
    let res = subscribe(
        &app,
        &f.admin,
        &f.production_app,
        "orders",
        "bronze",
        &["orders:read"],
    )
    .await;
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "plan");
    let res = f
        .admin
        .post(app.api("/subscriptions"))
        .json(&json!({"application_id": f.production_app, "api": "orders", "major": 2, "plan": "gold"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "major");

    let res = subscribe(
        &app,
        &f.admin,
        &f.production_app,
        "orders",
        "gold",
        &["orders:read", "orders:write"],
    )
    .await;
    assert_eq!(res.status(), 201);
    let sub: Value = res.json().await.unwrap();
    assert_eq!(sub["state"], "pending", "critical APIs need approval");
    assert_eq!(sub["major"], 1);
    let id = sub["id"].as_str().unwrap();
    let res = subscribe(&app, &f.admin, &f.production_app, "orders", "silver", &[]).await;
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "api");

    for who in [&f.stranger, &f.viewer, &f.reviewer] {
        problem(decide(&app, who, id, "approve", None).await, 403).await;
    }
    let pending: Vec<Value> = f
        .viewer
        .get(app.api("/subscriptions?state=pending"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["can_decide"], false);

    let res = decide(&app, &f.owner, id, "approve", None).await;
    assert_eq!(res.status(), 200);
    let sub: Value = res.json().await.unwrap();
    assert_eq!(sub["state"], "active");
    assert_eq!(sub["approved_by"], "owner@example.test");
    problem(decide(&app, &f.owner, id, "approve", None).await, 409).await;
    let body = problem(decide(&app, &f.owner, id, "suspend", None).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "reason");
    let res = decide(
        &app,
        &f.owner,
        id,
        "suspend",
        Some(json!({"reason": "oversold stock twice"})),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "suspended");
    let res = decide(&app, &f.admin, id, "resume", Some(json!({}))).await;
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "active");
    let res = decide(&app, &f.admin, id, "cancel", None).await;
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "cancelled");
    problem(decide(&app, &f.admin, id, "resume", None).await, 409).await;
    for action in ["create", "approve", "suspend", "resume", "cancel"] {
        assert_eq!(
            app.audit_count(&format!("subscription.{action}")).await,
            1,
            "{action}"
        );
    }

    // A cancelled subscription frees the line; standard-tier APIs need no approval.
    let res = subscribe(&app, &f.owner, &f.production_app, "orders", "silver", &[]).await;
    assert_eq!(res.status(), 201);
    let res = subscribe(
        &app,
        &f.owner,
        &f.sandbox_app,
        "inventory",
        "bronze",
        &["inventory:read"],
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "active");
    let listed: Vec<Value> = f
        .viewer
        .get(app.api(&format!(
            "/subscriptions?api=inventory&application={}",
            f.sandbox_app
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    problem(
        f.viewer
            .get(app.api("/subscriptions?state=bogus"))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
}

#[tokio::test]
async fn a_key_is_shown_once_and_only_its_digest_is_stored() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let res = f
        .admin
        .post(app.api(&format!("/applications/{}/keys", f.production_app)))
        .json(&json!({"name": "checkout", "expires_in_days": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let parsed = keys::parse(&secret).expect("the key is in the documented format");
    assert!(secret.starts_with("stw_live_"));
    assert_eq!(
        created["key"]["prefix"],
        format!("stw_live_{}", parsed.lookup_id)
    );
    assert_eq!(
        created["key"]["status"], "expiring",
        "3 days is within the warning window"
    );

    let stored: Vec<u8> = sqlx::query_scalar("SELECT digest FROM api_keys WHERE lookup_id = $1")
        .bind(parsed.lookup_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, Sha256::digest(parsed.secret.as_bytes()).to_vec());

    // Never again: not in listings, details, the audit trail, or any column.
    for who in [&f.admin, &f.viewer] {
        for path in [
            format!("/consumers/{}", f.consumer),
            format!("/applications/{}", f.production_app),
            "/audit?limit=200".to_string(),
        ] {
            let res = who.get(app.api(&path)).send().await.unwrap();
            if res.status() == 403 {
                continue; // viewers do not read the audit trail at all
            }
            let text = res.text().await.unwrap();
            assert!(!text.contains(parsed.secret), "{path} leaks the key");
            if path.starts_with("/applications") {
                assert!(text.contains(parsed.lookup_id), "{path} shows the prefix");
            }
        }
    }
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(coalesce(before::text, '') || coalesce(after::text, ''), ' ') FROM audit_log",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!dump.contains(parsed.secret));

    let res = f
        .admin
        .post(app.api(&format!("/applications/{}/keys", f.sandbox_app)))
        .json(&json!({"name": "tests"}))
        .send()
        .await
        .unwrap();
    let sandbox: Value = res.json().await.unwrap();
    assert!(sandbox["secret"].as_str().unwrap().starts_with("stw_test_"));
    assert_eq!(sandbox["key"]["status"], "active");
    let res = f
        .admin
        .post(app.api(&format!("/applications/{}/keys", f.sandbox_app)))
        .json(&json!({"name": "", "expires_in_days": 0}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_the_overlap_and_revocation_is_immediate() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.pool)
        .await
        .unwrap();
    listener
        .listen(steward_control::notify::CHANNEL)
        .await
        .unwrap();

    let created: Value = f
        .admin
        .post(app.api(&format!("/applications/{}/keys", f.production_app)))
        .json(&json!({"name": "pos"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = created["key"]["id"].as_str().unwrap().to_string();
    type Active = std::collections::HashMap<keys::LookupId, keys::ActiveKey>;
    let usable = |keys: &Active, secret: &str| {
        let p = keys::parse(secret).unwrap();
        keys.get(&p.lookup().unwrap())
            .is_some_and(|k| k.accepts(&p, time::OffsetDateTime::now_utc()))
    };
    let old_secret = created["secret"].as_str().unwrap().to_string();

    let res = f
        .admin
        .post(app.api(&format!("/keys/{first}/rotate")))
        .json(&json!({"overlap_hours": 24}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_eq!(rotated["key"]["rotated_from"], first.as_str());
    let expiry = time::OffsetDateTime::parse(
        rotated["previous"]["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expiry - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::hours(23) && left <= time::Duration::hours(24),
        "{left}"
    );
    let active: Active = steward_gateway::snapshot::load_active_keys(&app.pool)
        .await
        .unwrap();
    assert!(
        usable(&active, &old_secret) && usable(&active, &new_secret),
        "both work during the overlap"
    );

    // With no body the default overlap applies; with 0 the old key ends at once.
    let second = rotated["key"]["id"].as_str().unwrap().to_string();
    let res = f
        .admin
        .post(app.api(&format!("/keys/{second}/rotate")))
        .json(&json!({"overlap_hours": 0}))
        .send()
        .await
        .unwrap();
    let third: Value = res.json().await.unwrap();
    let active: Active = steward_gateway::snapshot::load_active_keys(&app.pool)
        .await
        .unwrap();
    assert!(
        !usable(&active, &new_secret),
        "a zero overlap ends the old key"
    );
    assert!(usable(&active, third["secret"].as_str().unwrap()));
    problem(
        f.admin
            .post(app.api(&format!("/keys/{second}/rotate")))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    let res = f
        .admin
        .post(app.api(&format!(
            "/keys/{}/rotate",
            third["key"]["id"].as_str().unwrap()
        )))
        .json(&json!({"overlap_hours": 9999}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res, 422).await["errors"][0]["field"],
        "overlap_hours"
    );

    // Drain the notifications so far, then revoke and expect exactly that news.
    while let Ok(Ok(Some(_))) =
        tokio::time::timeout(std::time::Duration::from_millis(100), listener.try_recv()).await
    {}
    let res = f
        .admin
        .delete(app.api(&format!("/keys/{first}")))
        .send()
        .await
        .unwrap();
    let revoked: Value = res.json().await.unwrap();
    assert_eq!(revoked["status"], "revoked");
    let note = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
        .await
        .expect("gateways hear of a revocation at once")
        .unwrap();
    let payload: Value = serde_json::from_str(note.payload()).unwrap();
    assert_eq!(payload, json!({"kind": "key", "id": first}));
    let active: Active = steward_gateway::snapshot::load_active_keys(&app.pool)
        .await
        .unwrap();
    assert!(!usable(&active, &old_secret));
    problem(
        f.admin
            .delete(app.api(&format!("/keys/{first}")))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    problem(
        f.admin
            .post(app.api(&format!("/keys/{first}/rotate")))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(app.audit_count("api_key.rotate").await, 2);
    assert_eq!(app.audit_count("api_key.revoke").await, 1);
}

#[tokio::test]
async fn key_usage_is_written_in_batches() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let created: Value = f
        .admin
        .post(app.api(&format!("/applications/{}/keys", f.production_app)))
        .json(&json!({"name": "pos"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id: uuid::Uuid = created["key"]["id"].as_str().unwrap().parse().unwrap();
    let recorder = steward_shared::usage::UsageRecorder::new();
    let now = time::OffsetDateTime::now_utc();
    for i in 0..1000 {
        recorder.record(
            steward_shared::usage::Credential::ApiKey,
            id,
            now + time::Duration::milliseconds(i),
        );
    }
    assert_eq!(
        recorder.backlog(),
        1,
        "a thousand uses are one pending write"
    );
    assert_eq!(recorder.flush(&app.pool).await.unwrap(), 1);
    let detail: Value = f
        .viewer
        .get(app.api(&format!("/applications/{}", f.production_app)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(detail["keys"][0]["last_used_at"].is_string(), "{detail}");
    assert_eq!(recorder.flush(&app.pool).await.unwrap(), 0);
}
