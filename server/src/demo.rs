//! Demo organisation for a first look: four users, one per role, and two teams.
//! Seeded only into an empty database, so it never overwrites real data.

use crate::audit::Actor;
use crate::auth::{teams, users};
use crate::error::Result;
use sqlx::PgPool;
use steward_console::model::{NewTeam, NewUser, Role};

pub const PASSWORD: &str = "steward-demo-2026";

pub const USERS: [(&str, &str, Role); 4] = [
    ("admin@steward.demo", "Ada Admin", Role::Admin),
    ("reviewer@steward.demo", "Rhea Reviewer", Role::Reviewer),
    ("owner@steward.demo", "Omar Owner", Role::Owner),
    ("viewer@steward.demo", "Vera Viewer", Role::Viewer),
];

/// Returns true if it seeded, false if the database already had users.
pub async fn seed(pool: &PgPool) -> Result<bool> {
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
    Ok(true)
}
