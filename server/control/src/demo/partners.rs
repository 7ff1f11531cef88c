//! Demo partners: a marketplace, a 3PL warehouse and a POS vendor, with their
//! applications, subscriptions (one still waiting for approval) and credentials.
//! Everything goes through the same services the console uses, so the audit
//! trail tells the story too. Demo secrets are not printed: issue new ones in
//! the console to see the show-once flow.

use super::{USERS, principal};
use crate::error::Result;
use crate::partners::{applications, clients, consumers, keys, subscriptions};
use sqlx::PgPool;
use steward_model::{
    ConsumerKind, Contact, Environment, NewApiKey, NewApplication, NewConsumer, NewOAuthClient,
    NewSubscription, Principal, Rotation, SubscriptionDecision,
};

struct DemoApp {
    name: &'static str,
    environment: Environment,
    /// (API, plan, scopes, approve if pending?)
    subscriptions: &'static [(&'static str, &'static str, &'static [&'static str], bool)],
    /// (key name, expires in days)
    keys: &'static [(&'static str, Option<u32>)],
    oauth_client: Option<&'static str>,
}

struct DemoConsumer {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    contact: (&'static str, &'static str),
    apps: &'static [DemoApp],
}

const CONSUMERS: [DemoConsumer; 3] = [
    DemoConsumer {
        slug: "northwind-market",
        name: "Northwind Marketplace",
        description: "Marketplace channel: imports orders and publishes stock every minute.",
        contact: ("Nadia Brandt", "integrations@northwind.example"),
        apps: &[
            DemoApp {
                name: "order-sync",
                environment: Environment::Production,
                subscriptions: &[
                    ("orders", "gold", &["orders:read", "orders:write"], true),
                    ("inventory", "gold", &["inventory:read"], true),
                ],
                keys: &[],
                oauth_client: Some("order sync worker"),
            },
            DemoApp {
                name: "order-sync-sandbox",
                environment: Environment::Sandbox,
                subscriptions: &[("orders", "bronze", &["orders:read", "orders:write"], true)],
                keys: &[("integration tests", Some(90))],
                oauth_client: None,
            },
        ],
    },
    DemoConsumer {
        slug: "atlas-3pl",
        name: "Atlas 3PL",
        description: "Third-party warehouse: confirms shipments and reports stock adjustments.",
        contact: ("Tomás Rivera", "edi@atlas3pl.example"),
        apps: &[DemoApp {
            name: "wms-connector",
            environment: Environment::Production,
            subscriptions: &[
                (
                    "shipments",
                    "silver",
                    &["shipments:read", "shipments:write"],
                    true,
                ),
                // Left pending: the approval queue has something to show.
                ("inventory", "silver", &["inventory:write"], false),
            ],
            keys: &[("wms-connector", None)],
            oauth_client: None,
        }],
    },
    DemoConsumer {
        slug: "tillpoint-pos",
        name: "Tillpoint POS",
        description: "POS vendor for 140 stores: in-store orders and returns.",
        contact: ("Mia Chen", "support@tillpoint.example"),
        apps: &[DemoApp {
            name: "pos-fleet",
            environment: Environment::Production,
            subscriptions: &[
                ("orders", "silver", &["orders:write"], true),
                (
                    "returns",
                    "silver",
                    &["returns:read", "returns:write"],
                    true,
                ),
            ],
            // The store key expires soon, so the console shows its warning.
            keys: &[("store-fleet", Some(5)), ("back-office", None)],
            oauth_client: None,
        }],
    },
];

pub async fn seed(pool: &PgPool) -> Result<()> {
    let admin = principal(pool, USERS[0].0).await?;
    let owner = principal(pool, USERS[2].0).await?;
    for demo in &CONSUMERS {
        consumers::create(
            pool,
            &admin,
            NewConsumer {
                slug: demo.slug.into(),
                name: demo.name.into(),
                kind: ConsumerKind::Partner,
                description: demo.description.into(),
                contacts: vec![Contact {
                    name: demo.contact.0.into(),
                    email: demo.contact.1.into(),
                    role: "technical".into(),
                }],
            },
        )
        .await?;
        for app in demo.apps {
            seed_app(pool, &admin, &owner, demo.slug, app).await?;
        }
    }
    seed_curl_key(pool).await
}

/// The well-known demo key ([`super::DEMO_API_KEY`]) for the POS fleet, stored
/// like any key: lookup id and SHA-256 digest.
async fn seed_curl_key(pool: &PgPool) -> Result<()> {
    let Some(presented) = steward_shared::api_key::parse(super::DEMO_API_KEY) else {
        return Err(anyhow::anyhow!("the demo key does not match the key format").into());
    };
    sqlx::query(
        "INSERT INTO api_keys (id, application_id, name, environment, lookup_id, digest)
         SELECT $1, a.id, 'readme curl examples', 'production', $2, $3
         FROM applications a JOIN consumers c ON c.id = a.consumer_id
         WHERE c.slug = 'tillpoint-pos' AND a.name = 'pos-fleet'",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(presented.lookup_id)
    .bind(steward_shared::api_key::secret_digest(presented.secret).as_slice())
    .execute(pool)
    .await?;
    Ok(())
}

async fn seed_app(
    pool: &PgPool,
    admin: &Principal,
    owner: &Principal,
    consumer: &str,
    demo: &DemoApp,
) -> Result<()> {
    let app = applications::create(
        pool,
        admin,
        consumer,
        NewApplication {
            name: demo.name.into(),
            environment: demo.environment,
            description: String::new(),
        },
    )
    .await?;
    for (api, plan, scopes, approve) in demo.subscriptions {
        let sub = subscriptions::create(
            pool,
            admin,
            NewSubscription {
                application_id: app.id,
                api: (*api).into(),
                major: None,
                plan: (*plan).into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            },
        )
        .await?;
        if *approve && sub.state == steward_model::SubscriptionState::Pending {
            // The owner approves for the orders team; the admin for the others.
            let approver = if *api == "orders" { owner } else { admin };
            subscriptions::decide(pool, approver, sub.id, SubscriptionDecision::Approve, None)
                .await?;
        }
    }
    for (name, days) in demo.keys {
        let created = keys::create(
            pool,
            admin,
            app.id,
            NewApiKey {
                name: (*name).into(),
                expires_in_days: *days,
            },
        )
        .await?;
        if *name == "back-office" {
            // One rotation in the history, with the old key still in its overlap.
            keys::rotate(pool, admin, created.key.id, Rotation { overlap_hours: 24 }).await?;
        }
    }
    if let Some(name) = demo.oauth_client {
        clients::create(pool, admin, app.id, NewOAuthClient { name: name.into() }).await?;
    }
    Ok(())
}
