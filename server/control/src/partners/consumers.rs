//! Consumers: partner organisations (a marketplace, a 3PL warehouse, a POS vendor)
//! and internal teams that call APIs. Their contacts are whom API owners reach
//! before a sunset (control plane).

use super::{applications, require_admin, snapshot};
use crate::audit::{self, Actor, Change};
use crate::auth::teams::valid_slug;
use crate::error::Result;
use sqlx::{PgConnection, PgPool};
use steward_model::{
    AppError, Checks, ConsumerDetail, ConsumerKind, ConsumerPatch, ConsumerView, Contact,
    NewConsumer, Principal, Role,
};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ConsumerRow {
    id: Uuid,
    slug: String,
    name: String,
    kind: String,
    description: String,
    contacts: sqlx::types::Json<Vec<Contact>>,
    created_at: OffsetDateTime,
    applications: i64,
    active_subscriptions: i64,
}

impl From<ConsumerRow> for ConsumerView {
    fn from(r: ConsumerRow) -> Self {
        ConsumerView {
            id: r.id,
            slug: r.slug,
            name: r.name,
            kind: ConsumerKind::parse(&r.kind).unwrap_or(ConsumerKind::Partner),
            description: r.description,
            contacts: r.contacts.0,
            created_at: r.created_at,
            applications: r.applications,
            active_subscriptions: r.active_subscriptions,
        }
    }
}

const SELECT: &str = "
    SELECT c.id, c.slug, c.name, c.kind, c.description, c.contacts, c.created_at,
           (SELECT count(*) FROM applications a WHERE a.consumer_id = c.id) AS applications,
           (SELECT count(*) FROM subscriptions s JOIN applications a ON a.id = s.application_id
             WHERE a.consumer_id = c.id AND s.state = 'active') AS active_subscriptions
    FROM consumers c";

pub async fn list(pool: &PgPool, _who: &Principal) -> Result<Vec<ConsumerView>> {
    let rows: Vec<ConsumerRow> = sqlx::query_as(&format!("{SELECT} ORDER BY c.name"))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(ConsumerView::from).collect())
}

/// Finds a consumer by id or slug.
pub async fn find(conn: &mut PgConnection, key: &str) -> Result<ConsumerView> {
    let row: Option<ConsumerRow> = match key.parse::<Uuid>() {
        Ok(id) => {
            sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
        Err(_) => {
            sqlx::query_as(&format!("{SELECT} WHERE c.slug = $1"))
                .bind(key)
                .fetch_optional(conn)
                .await?
        }
    };
    row.map(ConsumerView::from)
        .ok_or_else(|| AppError::not_found("consumer").into())
}

pub async fn get(pool: &PgPool, who: &Principal, key: &str) -> Result<ConsumerDetail> {
    let mut conn = pool.acquire().await?;
    let consumer = find(&mut conn, key).await?;
    let application_details =
        applications::details_of_consumer(&mut conn, who, consumer.id).await?;
    Ok(ConsumerDetail {
        consumer,
        application_details,
        can_manage: who.role == Role::Admin,
    })
}

fn check_contacts(checks: &mut Checks, contacts: &[Contact]) {
    checks.check(contacts.len() <= 20, "contacts", "list at most 20 contacts");
    for (i, c) in contacts.iter().enumerate() {
        checks
            .text(&c.name, &format!("contacts[{i}].name"), "a name", 200)
            .check(
                is_email(&c.email),
                &format!("contacts[{i}].email"),
                "enter an email address such as ops@partner.example",
            )
            .check(
                c.role.chars().count() <= 60,
                &format!("contacts[{i}].role"),
                "keep the role under 60 characters",
            );
    }
}

fn is_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && s.len() <= 254
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn clean_contacts(contacts: Vec<Contact>) -> Vec<Contact> {
    contacts
        .into_iter()
        .map(|c| Contact {
            name: c.name.trim().to_string(),
            email: c.email.trim().to_lowercase(),
            role: c.role.trim().to_string(),
        })
        .collect()
}

pub async fn create(pool: &PgPool, who: &Principal, new: NewConsumer) -> Result<ConsumerView> {
    require_admin(who, "registering a consumer")?;
    let slug = new.slug.trim().to_string();
    let mut checks = Checks::new();
    checks
        .check(
            valid_slug(&slug),
            "slug",
            "use 2 to 63 lowercase letters, digits and single dashes",
        )
        .text(&new.name, "name", "a name", 200)
        .check(
            new.description.chars().count() <= 4000,
            "description",
            "keep the description under 4000 characters",
        );
    check_contacts(&mut checks, &new.contacts);
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO consumers (id, slug, name, kind, description, contacts)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&slug)
    .bind(new.name.trim())
    .bind(new.kind.as_str())
    .bind(new.description.trim())
    .bind(sqlx::types::Json(clean_contacts(new.contacts)))
    .execute(&mut *tx)
    .await?;
    let consumer = find(&mut tx, &id.to_string()).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "consumer.create",
            target_type: "consumer",
            target_id: slug,
            before: None,
            after: Some(snapshot(&consumer)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(consumer)
}

pub async fn update(
    pool: &PgPool,
    who: &Principal,
    key: &str,
    patch: ConsumerPatch,
) -> Result<ConsumerView> {
    require_admin(who, "editing a consumer")?;
    let mut checks = Checks::new();
    if let Some(name) = &patch.name {
        checks.text(name, "name", "a name", 200);
    }
    checks.check(
        patch
            .description
            .as_deref()
            .is_none_or(|d| d.chars().count() <= 4000),
        "description",
        "keep the description under 4000 characters",
    );
    if let Some(contacts) = &patch.contacts {
        check_contacts(&mut checks, contacts);
    }
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let before = find(&mut tx, key).await?;
    sqlx::query(
        "UPDATE consumers SET name = coalesce($2, name), kind = coalesce($3, kind),
                description = coalesce($4, description), contacts = coalesce($5, contacts),
                updated_at = now()
         WHERE id = $1",
    )
    .bind(before.id)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.kind.map(ConsumerKind::as_str))
    .bind(patch.description.as_deref().map(str::trim))
    .bind(patch.contacts.map(|c| sqlx::types::Json(clean_contacts(c))))
    .execute(&mut *tx)
    .await?;
    let after = find(&mut tx, &before.id.to_string()).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "consumer.update",
            target_type: "consumer",
            target_id: after.slug.clone(),
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
