//! The partner fixture many tests start from: an organisation with two
//! published APIs (orders, critical; inventory, standard) and one partner with a
//! production and a sandbox application.

#![expect(
    clippy::unwrap_used,
    reason = "test support stops at the first surprise, like the tests it serves"
)]

use crate::{PASSWORD, TestApp};
use reqwest::Client;
use serde_json::{Value, json};
use steward_model::Role;

/// An organisation with two published APIs and one partner with two applications.
pub struct Fixture {
    pub admin: Client,
    /// An owner in the team that owns both APIs.
    pub owner: Client,
    /// An owner in another team.
    pub stranger: Client,
    pub viewer: Client,
    pub reviewer: Client,
    pub consumer: String,
    pub production_app: String,
    pub sandbox_app: String,
}

pub fn retail_spec(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../specs/retail")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Registers an API with one published version straight in the database: the
/// registry workflow has its own tests, and these are about access to the API.
pub async fn published_api(app: &TestApp, team: uuid::Uuid, slug: &str, tier: &str, spec: &str) {
    let api = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO apis (id, slug, name, team_id, tier) VALUES ($1, $2, $3, $4, $5)")
        .bind(api)
        .bind(slug)
        .bind(slug.to_uppercase())
        .bind(team)
        .bind(tier)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO api_versions (id, api_id, version, major, minor, patch, base_path, upstream_url,
                                   spec_text, spec_format, spec_sha256, state, published_at)
         VALUES ($1, $2, '1.0.0', 1, 0, 0, $3, 'http://127.0.0.1:9', $4, 'yaml', '', 'published', now())",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(api)
    .bind(format!("/{slug}/v1"))
    .bind(retail_spec(spec))
    .execute(&app.pool)
    .await
    .unwrap();
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.as_role(Role::Admin).await;
    let team = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO teams (id, slug, name) VALUES ($1, 'order-platform', 'Order Platform')",
    )
    .bind(team)
    .execute(&app.pool)
    .await
    .unwrap();
    let owner_id = app.create_user("owner@example.test", Role::Owner).await;
    sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
        .bind(team)
        .bind(owner_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let (owner, _) = app.sign_in("owner@example.test", PASSWORD).await;
    published_api(app, team, "orders", "critical", "orders-v1.yaml").await;
    published_api(app, team, "inventory", "standard", "inventory-v1.yaml").await;

    let res = admin
        .post(app.api("/consumers"))
        .json(&json!({"slug": "northwind-market", "name": "Northwind Marketplace", "kind": "partner",
                      "contacts": [{"name": "Ops", "email": "Ops@Northwind.example", "role": "on-call"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let consumer: Value = res.json().await.unwrap();
    assert_eq!(consumer["contacts"][0]["email"], "ops@northwind.example");
    let mut apps = Vec::new();
    for (name, env) in [("storefront", "production"), ("storefront-test", "sandbox")] {
        let res = admin
            .post(app.api("/consumers/northwind-market/applications"))
            .json(&json!({"name": name, "environment": env}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await.unwrap();
        apps.push(created["id"].as_str().unwrap().to_string());
    }
    Fixture {
        admin,
        owner,
        stranger: app.as_role(Role::Owner).await,
        viewer: app.as_role(Role::Viewer).await,
        reviewer: app.as_role(Role::Reviewer).await,
        consumer: consumer["id"].as_str().unwrap().to_string(),
        production_app: apps[0].clone(),
        sandbox_app: apps[1].clone(),
    }
}

pub async fn subscribe(
    app: &TestApp,
    who: &Client,
    application: &str,
    api: &str,
    plan: &str,
    scopes: &[&str],
) -> reqwest::Response {
    who.post(app.api("/subscriptions"))
        .json(&json!({"application_id": application, "api": api, "plan": plan, "scopes": scopes}))
        .send()
        .await
        .unwrap()
}
