//! Creating and reading SLOs. Owners of the API's team and admins define them;
//! everyone signed in reads them, each with its current status (control plane).

use super::compute::{self, Scope};
use crate::audit::{self, Actor, Change};
use crate::error::Result;
use crate::registry::{access, apis};
use sqlx::{PgConnection, PgPool};
use steward_model::{AppError, Checks, NewSlo, Principal, SloKind, SloPatch, SloView};
use steward_shared::telemetry::BOUNDS_MS;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
pub(crate) struct SloRow {
    pub id: Uuid,
    pub api_id: Uuid,
    pub api_slug: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub target: f64,
    pub window_days: i32,
    pub threshold_ms: Option<i32>,
    pub version_id: Option<Uuid>,
    pub operation: Option<String>,
    pub application_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
}

impl SloRow {
    pub fn kind(&self) -> SloKind {
        if self.kind == "latency" {
            SloKind::Latency
        } else {
            SloKind::Availability
        }
    }

    pub fn scope(&self) -> Scope {
        Scope {
            api: self.api_id,
            version: self.version_id,
            operation: self.operation.clone(),
            application: self.application_id,
            kind: self.kind(),
            threshold_ms: self.threshold_ms,
        }
    }

    pub fn window(&self) -> time::Duration {
        time::Duration::days(self.window_days.into())
    }

    fn into_view(self, total: i64, good: i64, as_of: OffsetDateTime) -> SloView {
        let status = compute::status(total, good, self.target);
        SloView {
            kind: self.kind(),
            id: self.id,
            api_id: self.api_id,
            api_slug: self.api_slug,
            name: self.name,
            description: self.description,
            target: self.target,
            window_days: self.window_days,
            threshold_ms: self.threshold_ms,
            version_id: self.version_id,
            operation: self.operation,
            application_id: self.application_id,
            created_at: self.created_at,
            status,
            status_as_of: as_of,
        }
    }
}

/// Every SLO, ordered by API and name.
pub(crate) async fn all(pool: &PgPool) -> Result<Vec<SloRow>> {
    Ok(sqlx::query_as(&format!("{SELECT} ORDER BY a.slug, s.name"))
        .fetch_all(pool)
        .await?)
}

const SELECT: &str = "
    SELECT s.id, s.api_id, a.slug AS api_slug, s.name, s.description, s.kind, s.target,
           s.window_days, s.threshold_ms, s.version_id, s.operation, s.application_id, s.created_at
    FROM slos s JOIN apis a ON a.id = s.api_id";

/// The SLO with its status computed now, which is also stored for lists.
async fn view(pool: &PgPool, r: SloRow) -> Result<SloView> {
    let now = OffsetDateTime::now_utc();
    // The same scan as an evaluation cycle, for one API and one window, so a
    // single SLO and the list can never count differently.
    let bands = compute::Bands::load(pool, &[r.api_id], now, &[r.window()]).await?;
    let (total, good) = bands.measure(&r.scope(), r.window());
    store(pool, &[(r.id, total, good)], now).await?;
    Ok(r.into_view(total, good, now))
}

/// Records statuses computed at `at`, in one statement.
pub(crate) async fn store(
    pool: &PgPool,
    statuses: &[(Uuid, i64, i64)],
    at: OffsetDateTime,
) -> Result<()> {
    let ids: Vec<Uuid> = statuses.iter().map(|s| s.0).collect();
    let totals: Vec<i64> = statuses.iter().map(|s| s.1).collect();
    let goods: Vec<i64> = statuses.iter().map(|s| s.2).collect();
    sqlx::query(
        "INSERT INTO slo_status (slo_id, total, good, computed_at)
         SELECT u.id, u.total, u.good, $4
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS u(id, total, good)
         WHERE EXISTS (SELECT 1 FROM slos WHERE id = u.id)
         ON CONFLICT (slo_id) DO UPDATE
         SET total = excluded.total, good = excluded.good, computed_at = excluded.computed_at
         WHERE slo_status.computed_at <= excluded.computed_at",
    )
    .bind(&ids)
    .bind(&totals)
    .bind(&goods)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every SLO with its status as of the last evaluation cycle, the least
/// remaining budget first. An SLO not evaluated yet is computed now.
pub async fn list(pool: &PgPool, _who: &Principal) -> Result<Vec<SloView>> {
    let rows = all(pool).await?;
    let stored: std::collections::HashMap<Uuid, (i64, i64, OffsetDateTime)> =
        sqlx::query_as::<_, (Uuid, i64, i64, OffsetDateTime)>(
            "SELECT slo_id, total, good, computed_at FROM slo_status",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(id, total, good, at)| (id, (total, good, at)))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(match stored.get(&r.id) {
            Some(&(total, good, at)) => r.into_view(total, good, at),
            None => view(pool, r).await?,
        });
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

/// One SLO's definition, without its status.
pub(crate) async fn row(pool: &PgPool, _who: &Principal, id: Uuid) -> Result<SloRow> {
    let mut conn = pool.acquire().await?;
    find(&mut conn, id).await
}

pub async fn get(pool: &PgPool, _who: &Principal, id: Uuid) -> Result<SloView> {
    let mut conn = pool.acquire().await?;
    let row = find(&mut conn, id).await?;
    drop(conn);
    view(pool, row).await
}

/// The checks creating and changing an SLO share.
fn check_objective(checks: &mut Checks, name: &str, target: f64, window_days: i32) {
    checks
        .text(name, "name", "a name", 200)
        .check(
            target > 0.0 && target < 100.0,
            "target",
            "use a target between 0 and 100 percent, e.g. 99.9",
        )
        .check(
            matches!(window_days, 7 | 28 | 30),
            "window_days",
            "use a rolling window of 7, 28 or 30 days",
        );
}

/// Locks the SLO's row and checks that `who` may change it: admins, and owners
/// in the API's team.
async fn editable(tx: &mut PgConnection, who: &Principal, id: Uuid, verb: &str) -> Result<SloRow> {
    let team: Option<Uuid> = sqlx::query_scalar(
        "SELECT a.team_id FROM slos s JOIN apis a ON a.id = s.api_id WHERE s.id = $1 FOR UPDATE OF s",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let team = team.ok_or_else(|| AppError::not_found("SLO"))?;
    if !access::can_edit(&mut *tx, who, team).await? {
        return Err(AppError::forbidden(format!(
            "{verb} an SLO needs the admin role or an owner in the API's team"
        ))
        .into());
    }
    find(tx, id).await
}

fn snapshot(r: &SloRow) -> serde_json::Value {
    serde_json::json!({
        "name": r.name, "description": r.description, "kind": r.kind, "target": r.target,
        "window_days": r.window_days, "threshold_ms": r.threshold_ms,
    })
}

pub async fn update(pool: &PgPool, who: &Principal, id: Uuid, patch: SloPatch) -> Result<SloView> {
    let mut tx = pool.begin().await?;
    let before = editable(&mut tx, who, id, "changing").await?;
    let name = patch
        .name
        .as_deref()
        .map(str::trim)
        .unwrap_or(&before.name)
        .to_string();
    let description = patch
        .description
        .as_deref()
        .map(str::trim)
        .unwrap_or(&before.description)
        .to_string();
    let target = patch.target.unwrap_or(before.target);
    let window_days = patch.window_days.unwrap_or(before.window_days);
    let mut checks = Checks::new();
    check_objective(&mut checks, &name, target, window_days);
    checks.finish()?;
    sqlx::query(
        "UPDATE slos SET name = $2, description = $3, target = $4, window_days = $5, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&name)
    .bind(&description)
    .bind(target)
    .bind(window_days)
    .execute(&mut *tx)
    .await?;
    let after = find(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "slo.update",
            target_type: "slo",
            target_id: format!("{}/{}", after.api_slug, after.name),
            before: Some(snapshot(&before)),
            after: Some(snapshot(&after)),
        },
    )
    .await?;
    tx.commit().await?;
    // The window may have changed: the stored status is recomputed with it.
    view(pool, after).await
}

pub async fn delete(pool: &PgPool, who: &Principal, id: Uuid) -> Result<()> {
    let mut tx = pool.begin().await?;
    let before = editable(&mut tx, who, id, "deleting").await?;
    sqlx::query("DELETE FROM slos WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "slo.delete",
            target_type: "slo",
            target_id: format!("{}/{}", before.api_slug, before.name),
            before: Some(snapshot(&before)),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn create(pool: &PgPool, who: &Principal, new: NewSlo) -> Result<SloView> {
    let mut checks = Checks::new();
    check_objective(&mut checks, &new.name, new.target, new.window_days);
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
