//! Demo organisation for a first look: four users, one per role, two teams, and the
//! retail reference contracts from `specs/retail` taken through review and
//! publication, with a breaking orders v2 waiting in review, and three partners
//! with applications, subscriptions and credentials. Seeded only into an
//! empty database, so it never overwrites real data (control plane).

mod history;
mod partners;
pub mod upstream;

use crate::audit::Actor;
use crate::auth::{teams, users};
use crate::error::Result;
use crate::registry::{apis, versions};
use sqlx::PgPool;
use steward_model::{
    AppError, AuthMethod, Deprecation, NewApi, NewTeam, NewUser, NewVersion, Principal,
    ReviewDecision, Role, Tier,
};

pub const PASSWORD: &str = "steward-demo-2026";

/// A production key of Tillpoint POS that the README's `curl` examples use. It is
/// public by design and exists only in demo data; real keys are random and shown once.
pub const DEMO_API_KEY: &str =
    "stw_live_demo0curl000_5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

pub const USERS: [(&str, &str, Role); 4] = [
    ("admin@steward.demo", "Ada Admin", Role::Admin),
    ("reviewer@steward.demo", "Rhea Reviewer", Role::Reviewer),
    ("owner@steward.demo", "Omar Owner", Role::Owner),
    ("viewer@steward.demo", "Vera Viewer", Role::Viewer),
];

/// Returns true if it seeded, false if the database already had users. The
/// demo's contracts send their traffic to `upstream`, the stand-in ERP.
pub async fn seed(pool: &PgPool, upstream: std::net::SocketAddr) -> Result<bool> {
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        return Ok(false);
    }
    let actor = Actor::operator("seed-demo");
    let mut ids = Vec::new();
    for (email, name, role) in USERS {
        let user = users::create_as(
            pool,
            &actor,
            NewUser {
                email: email.into(),
                display_name: name.into(),
                role,
                password: PASSWORD.into(),
            },
        )
        .await?;
        ids.push(user.id);
    }
    let orders = teams::create_as(
        pool,
        &actor,
        NewTeam {
            slug: "order-platform".into(),
            name: "Order Platform".into(),
            description: "Order capture and order status APIs in front of the Odoo ERP.".into(),
        },
    )
    .await?;
    let stock = teams::create_as(
        pool,
        &actor,
        NewTeam {
            slug: "inventory-fulfillment".into(),
            name: "Inventory & Fulfillment".into(),
            description:
                "Stock publication, reservations and shipment confirmation with the warehouses."
                    .into(),
        },
    )
    .await?;
    // The owner owns orders; the reviewer sits in both to review their releases.
    teams::set_member_as(pool, &actor, orders.id, ids[2], true).await?;
    teams::set_member_as(pool, &actor, orders.id, ids[1], true).await?;
    teams::set_member_as(pool, &actor, stock.id, ids[1], true).await?;
    // The stand-in ERP runs on this machine, on loopback, which the upstream
    // policy refuses by default: the demo allows exactly its address.
    crate::upstreams::set(
        pool,
        &principal(pool, USERS[0].0).await?,
        steward_model::UpstreamPolicyUpdate {
            allow: vec![upstream.to_string()],
        },
    )
    .await?;
    seed_contracts(pool, orders.id, stock.id, upstream).await?;
    partners::seed(pool).await?;
    // After the partners subscribed to returns v1: v2 replaces it, and v1 is
    // deprecated while Tillpoint still calls it.
    seed_returns_v2(pool, upstream).await?;
    history::seed(pool).await?;
    Ok(true)
}

pub(crate) async fn principal(pool: &PgPool, email: &str) -> Result<Principal> {
    let u = users::find_by_email(pool, email)
        .await?
        .ok_or_else(|| AppError::not_found("demo user"))?;
    Ok(Principal {
        user_id: u.id,
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        role: u.role(),
        auth: AuthMethod::Session,
    })
}

struct DemoApi {
    slug: &'static str,
    name: &'static str,
    capability: &'static str,
    tier: Tier,
    description: &'static str,
    tags: &'static [&'static str],
    /// (version, base path, contract, publish?)
    versions: &'static [(&'static str, &'static str, &'static str, bool)],
}

const CONTRACTS: [DemoApi; 4] = [
    DemoApi {
        slug: "orders",
        name: "Orders",
        capability: "orders",
        tier: Tier::Critical,
        description: "Order capture for web, POS and marketplace channels, backed by the ERP.",
        tags: &["erp", "channels"],
        versions: &[
            (
                "1.0.0",
                "/orders/v1",
                include_str!("../../../../specs/retail/orders-v1.yaml"),
                true,
            ),
            (
                "1.1.0",
                "/orders/v1",
                include_str!("../../../../specs/retail/orders-v1-1.yaml"),
                true,
            ),
            (
                "2.0.0",
                "/orders/v2",
                include_str!("../../../../specs/retail/orders-v2.yaml"),
                false,
            ),
        ],
    },
    DemoApi {
        slug: "inventory",
        name: "Inventory",
        capability: "inventory",
        tier: Tier::Critical,
        description: "Stock levels per warehouse and SKU, and reservations that prevent overselling.",
        tags: &["stock", "wms"],
        versions: &[(
            "1.0.0",
            "/inventory/v1",
            include_str!("../../../../specs/retail/inventory-v1.yaml"),
            true,
        )],
    },
    DemoApi {
        slug: "shipments",
        name: "Shipments",
        capability: "fulfillment",
        tier: Tier::Standard,
        description: "Shipment confirmation and tracking from warehouses and carriers.",
        tags: &["carriers", "wms"],
        versions: &[(
            "1.0.0",
            "/shipments/v1",
            include_str!("../../../../specs/retail/shipments-v1.yaml"),
            true,
        )],
    },
    DemoApi {
        slug: "returns",
        name: "Returns",
        capability: "returns",
        tier: Tier::Standard,
        description: "Return authorisations (RMA) and refund status.",
        tags: &["rma", "refunds"],
        versions: &[(
            "1.0.0",
            "/returns/v1",
            include_str!("../../../../specs/retail/returns-v1.yaml"),
            true,
        )],
    },
];

/// Takes the reference contracts through the real workflow: the owner (or the
/// admin, for the team the owner is not in) uploads and publishes, the reviewer approves.
async fn seed_contracts(
    pool: &PgPool,
    orders_team: uuid::Uuid,
    stock_team: uuid::Uuid,
    upstream: std::net::SocketAddr,
) -> Result<()> {
    let admin = principal(pool, USERS[0].0).await?;
    let reviewer = principal(pool, USERS[1].0).await?;
    let owner = principal(pool, USERS[2].0).await?;
    for demo in CONTRACTS {
        let (team, author) = if demo.slug == "orders" {
            (orders_team, &owner)
        } else {
            (stock_team, &admin)
        };
        apis::create(
            pool,
            author,
            NewApi {
                slug: demo.slug.into(),
                name: demo.name.into(),
                team_id: team,
                description: demo.description.into(),
                capability: demo.capability.into(),
                tier: demo.tier,
                tags: demo.tags.iter().map(|t| t.to_string()).collect(),
                validation_mode: Default::default(),
            },
        )
        .await?;
        for (version, base_path, spec, publish) in demo.versions {
            let v = versions::upload(
                pool,
                author,
                demo.slug,
                NewVersion {
                    version: (*version).into(),
                    base_path: (*base_path).into(),
                    upstream_url: format!("http://{upstream}/{}", demo.slug),
                    spec: (*spec).into(),
                },
            )
            .await?;
            let id = v.summary.id;
            versions::submit(pool, author, id).await?;
            if *publish {
                versions::review(
                    pool,
                    &reviewer,
                    id,
                    ReviewDecision {
                        approve: true,
                        comment: "Contract reviewed against the integration guidelines.".into(),
                        waiver: None,
                    },
                )
                .await?;
                versions::publish(pool, author, id).await?;
            }
        }
    }
    Ok(())
}

/// Publishes returns 2.0.0 and deprecates 1.0.0 with a sunset 45 days out.
async fn seed_returns_v2(pool: &PgPool, upstream: std::net::SocketAddr) -> Result<()> {
    let admin = principal(pool, USERS[0].0).await?;
    let reviewer = principal(pool, USERS[1].0).await?;
    let v2 = versions::upload(
        pool,
        &admin,
        "returns",
        NewVersion {
            version: "2.0.0".into(),
            base_path: "/returns/v2".into(),
            upstream_url: format!("http://{upstream}/returns"),
            spec: include_str!("../../../../specs/retail/returns-v2.yaml").into(),
        },
    )
    .await?;
    let id = v2.summary.id;
    versions::submit(pool, &admin, id).await?;
    versions::review(
        pool,
        &reviewer,
        id,
        ReviewDecision {
            approve: true,
            comment: "New major line: every returned line records its condition.".into(),
            waiver: None,
        },
    )
    .await?;
    versions::publish(pool, &admin, id).await?;
    let v1: uuid::Uuid = sqlx::query_scalar(
        "SELECT v.id FROM api_versions v JOIN apis a ON a.id = v.api_id
         WHERE a.slug = 'returns' AND v.version = '1.0.0'",
    )
    .fetch_one(pool)
    .await?;
    versions::deprecate(
        pool,
        &admin,
        v1,
        Deprecation {
            sunset_date: time::OffsetDateTime::now_utc().date() + time::Duration::days(45),
            successor_id: id,
        },
    )
    .await?;
    Ok(())
}
