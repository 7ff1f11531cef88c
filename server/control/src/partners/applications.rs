//! Applications: one integration of a consumer in one environment. Subscriptions
//! and credentials belong to an application, so a leaked sandbox key can never
//! reach production traffic (control plane).

use super::{clients, keys, require_admin, snapshot, subscriptions};
use crate::audit::{self, Actor, Change};
use crate::error::Result;
use sqlx::{PgConnection, PgPool};
use steward_model::{
    AppError, ApplicationDetail, ApplicationView, Checks, Environment, NewApplication, Principal,
};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    id: Uuid,
    consumer_id: Uuid,
    consumer_slug: String,
    consumer_name: String,
    name: String,
    environment: String,
    description: String,
    created_at: OffsetDateTime,
}

impl From<ApplicationRow> for ApplicationView {
    fn from(r: ApplicationRow) -> Self {
        ApplicationView {
            id: r.id,
            consumer_id: r.consumer_id,
            consumer_slug: r.consumer_slug,
            consumer_name: r.consumer_name,
            name: r.name,
            environment: Environment::parse(&r.environment).unwrap_or(Environment::Sandbox),
            description: r.description,
            created_at: r.created_at,
        }
    }
}

const SELECT: &str = "
    SELECT a.id, a.consumer_id, c.slug AS consumer_slug, c.name AS consumer_name,
           a.name, a.environment, a.description, a.created_at
    FROM applications a JOIN consumers c ON c.id = a.consumer_id";

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<ApplicationView> {
    let row: Option<ApplicationRow> = sqlx::query_as(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(ApplicationView::from)
        .ok_or_else(|| AppError::not_found("application").into())
}

async fn detail(
    conn: &mut PgConnection,
    who: &Principal,
    application: ApplicationView,
) -> Result<ApplicationDetail> {
    let id = application.id;
    Ok(ApplicationDetail {
        application,
        subscriptions: subscriptions::of_application(conn, who, id).await?,
        keys: keys::of_application(conn, id).await?,
        oauth_clients: clients::of_application(conn, id).await?,
    })
}

pub async fn get(pool: &PgPool, who: &Principal, id: Uuid) -> Result<ApplicationDetail> {
    let mut conn = pool.acquire().await?;
    let application = find(&mut conn, id).await?;
    detail(&mut conn, who, application).await
}

pub async fn details_of_consumer(
    conn: &mut PgConnection,
    who: &Principal,
    consumer: Uuid,
) -> Result<Vec<ApplicationDetail>> {
    let rows: Vec<ApplicationRow> = sqlx::query_as(&format!(
        "{SELECT} WHERE a.consumer_id = $1 ORDER BY a.environment DESC, a.name"
    ))
    .bind(consumer)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(detail(conn, who, row.into()).await?);
    }
    Ok(out)
}

pub async fn create(
    pool: &PgPool,
    who: &Principal,
    consumer: &str,
    new: NewApplication,
) -> Result<ApplicationView> {
    require_admin(who, "adding an application")?;
    let mut checks = Checks::new();
    checks.text(&new.name, "name", "a name", 100).check(
        new.description.chars().count() <= 2000,
        "description",
        "keep the description under 2000 characters",
    );
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let owner = super::consumers::find(&mut tx, consumer).await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO applications (id, consumer_id, name, environment, description)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(owner.id)
    .bind(new.name.trim())
    .bind(new.environment.as_str())
    .bind(new.description.trim())
    .execute(&mut *tx)
    .await?;
    let application = find(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "application.create",
            target_type: "application",
            target_id: id.to_string(),
            before: None,
            after: Some(snapshot(&application)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(application)
}
