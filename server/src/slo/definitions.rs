//! Creating and reading SLOs. Owners of the API's team and admins define them;
//! everyone signed in reads them, each with its current status.

use super::compute::{self, Scope};
use crate::audit::{self, Actor, Change};
use crate::error::Result;
use crate::gateway::telemetry::BOUNDS_MS;
use crate::registry::{access, apis};
use sqlx::{PgConnection, PgPool};
use steward_console::model::{AppError, Checks, NewSlo, Principal, SloKind, SloView};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct SloRow {
    id: Uuid,
    api_id: Uuid,
    api_slug: String,
    name: String,
    description: String,
    kind: String,
    target: f64,
    window_days: i32,
    threshold_ms: Option<i32>,
    version_id: Option<Uuid>,
    operation: Option<String>,
    application_id: Option<Uuid>,
    created_at: OffsetDateTime,
}

const SELECT: &str = "
    SELECT s.id, s.api_id, a.slug AS api_slug, s.name, s.description, s.kind, s.target,
           s.window_days, s.threshold_ms, s.version_id, s.operation, s.application_id, s.created_at
    FROM slos s JOIN apis a ON a.id = s.api_id";

async fn view(pool: &PgPool, r: SloRow) -> Result<SloView> {
    let kind = if r.kind == "latency" {
        SloKind::Latency
    } else {
        SloKind::Availability
    };
    let now = OffsetDateTime::now_utc();
    let scope = Scope {
        api: r.api_id,
        version: r.version_id,
        operation: r.operation.clone(),
        application: r.application_id,
        kind,
        threshold_ms: r.threshold_ms,
    };
    let (total, good) = compute::measure(
        pool,
        &scope,
        now - time::Duration::days(r.window_days.into()),
        now + time::Duration::minutes(1),
    )
    .await?;
    Ok(SloView {
        id: r.id,
        api_id: r.api_id,
        api_slug: r.api_slug,
        name: r.name,
        description: r.description,
        kind,
        target: r.target,
        window_days: r.window_days,
        threshold_ms: r.threshold_ms,
        version_id: r.version_id,
        operation: r.operation,
        application_id: r.application_id,
        created_at: r.created_at,
        status: compute::status(total, good, r.target),
    })
}

/// Every SLO with its status, the least remaining budget first.
pub async fn list(pool: &PgPool, _who: &Principal) -> Result<Vec<SloView>> {
    let rows: Vec<SloRow> = sqlx::query_as(&format!("{SELECT} ORDER BY a.slug, s.name"))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(pool, r).await?);
    }
    out.sort_by(|a, b| {
        a.status
            .budget_remaining_percent
            .total_cmp(&b.status.budget_remaining_percent)
    });
    Ok(out)
}

async fn find(conn: &mut PgConnection, id: Uuid) -> Result<SloRow> {
    let row: Option<SloRow> = sqlx::query_as(&format!("{SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.ok_or_else(|| AppError::not_found("SLO").into())
}

pub async fn get(pool: &PgPool, _who: &Principal, id: Uuid) -> Result<SloView> {
    let mut conn = pool.acquire().await?;
    let row = find(&mut conn, id).await?;
    drop(conn);
    view(pool, row).await
}

pub async fn create(pool: &PgPool, who: &Principal, new: NewSlo) -> Result<SloView> {
    let mut checks = Checks::new();
    checks
        .text(&new.name, "name", "a name", 200)
        .check(
            new.target > 0.0 && new.target < 100.0,
            "target",
            "use a target between 0 and 100 percent, e.g. 99.9",
        )
        .check(
            matches!(new.window_days, 7 | 28 | 30),
            "window_days",
            "use a rolling window of 7, 28 or 30 days",
        );
    match new.kind {
        SloKind::Latency => {
            let bounds = BOUNDS_MS
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            checks.check(
                new.threshold_ms
                    .is_some_and(|t| BOUNDS_MS.contains(&(t.max(0) as u64))),
                "threshold_ms",
                &format!("choose a latency threshold among {bounds} ms"),
            );
        }
        SloKind::Availability => {
            checks.check(
                new.threshold_ms.is_none(),
                "threshold_ms",
                "availability SLOs have no latency threshold",
            );
        }
    }
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let (api_id, team_id) = apis::find(&mut tx, new.api.trim())
        .await
        .map_err(|_| AppError::invalid("api", "choose a registered API"))?;
    if !access::can_edit(&mut tx, who, team_id).await? {
        return Err(AppError::forbidden(
            "defining an SLO needs the admin role or an owner in the API's team",
        )
        .into());
    }
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO slos (id, api_id, name, description, kind, target, window_days, threshold_ms,
                           version_id, operation, application_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(api_id)
    .bind(new.name.trim())
    .bind(new.description.trim())
    .bind(match new.kind {
        SloKind::Availability => "availability",
        SloKind::Latency => "latency",
    })
    .bind(new.target)
    .bind(new.window_days)
    .bind(new.threshold_ms)
    .bind(new.version_id)
    .bind(
        new.operation
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty()),
    )
    .bind(new.application_id)
    .bind(who.user_id)
    .execute(&mut *tx)
    .await?;
    let row = find(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "slo.create",
            target_type: "slo",
            target_id: format!("{}/{}", row.api_slug, row.name),
            before: None,
            after: Some(serde_json::json!({
                "kind": row.kind, "target": row.target, "window_days": row.window_days,
                "threshold_ms": row.threshold_ms,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    view(pool, row).await
}
