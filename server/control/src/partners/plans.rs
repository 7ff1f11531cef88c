//! Plans: a rate (requests per second plus a burst), daily and monthly quotas, and
//! the environments they may be used in. Bronze, Silver and Gold are seeded by the
//! migration; admins edit them and add more (control plane).

use super::{require_admin, snapshot};
use crate::audit::{self, Actor, Change};
use crate::auth::teams::valid_slug;
use crate::error::Result;
use crate::notify::{self, Kind};
use sqlx::{PgConnection, PgPool};
use steward_model::{AppError, Checks, Environment, NewPlan, PlanPatch, PlanView, Principal};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    slug: String,
    name: String,
    description: String,
    rate_per_second: i32,
    burst: i32,
    daily_quota: Option<i64>,
    monthly_quota: Option<i64>,
    environments: Vec<String>,
    subscriptions: i64,
}

impl From<PlanRow> for PlanView {
    fn from(r: PlanRow) -> Self {
        PlanView {
            id: r.id,
            slug: r.slug,
            name: r.name,
            description: r.description,
            rate_per_second: r.rate_per_second,
            burst: r.burst,
            daily_quota: r.daily_quota,
            monthly_quota: r.monthly_quota,
            environments: r
                .environments
                .iter()
                .filter_map(|e| Environment::parse(e))
                .collect(),
            subscriptions: r.subscriptions,
        }
    }
}

const SELECT: &str = "
    SELECT p.id, p.slug, p.name, p.description, p.rate_per_second, p.burst,
           p.daily_quota, p.monthly_quota, p.environments,
           (SELECT count(*) FROM subscriptions s
             WHERE s.plan_id = p.id AND s.state <> 'cancelled') AS subscriptions
    FROM plans p";

pub async fn list(pool: &PgPool, _who: &Principal) -> Result<Vec<PlanView>> {
    let sql = format!("{SELECT} ORDER BY p.rate_per_second, p.name");
    let rows: Vec<PlanRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    Ok(rows.into_iter().map(PlanView::from).collect())
}

/// Finds a plan by id or slug.
pub async fn find(conn: &mut PgConnection, key: &str) -> Result<Option<PlanView>> {
    let row: Option<PlanRow> = match key.parse::<Uuid>() {
        Ok(id) => {
            sqlx::query_as(&format!("{SELECT} WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
        Err(_) => {
            sqlx::query_as(&format!("{SELECT} WHERE p.slug = $1"))
                .bind(key)
                .fetch_optional(conn)
                .await?
        }
    };
    Ok(row.map(PlanView::from))
}

pub async fn get(pool: &PgPool, _who: &Principal, key: &str) -> Result<PlanView> {
    let mut conn = pool.acquire().await?;
    find(&mut conn, key)
        .await?
        .ok_or_else(|| AppError::not_found("plan").into())
}

fn check_limits(
    checks: &mut Checks,
    rate: i32,
    burst: i32,
    daily: Option<i64>,
    monthly: Option<i64>,
    environments: &[Environment],
) {
    checks
        .check(
            (1..=1_000_000).contains(&rate),
            "rate_per_second",
            "use a rate between 1 and 1,000,000 requests per second",
        )
        .check(
            (1..=10_000_000).contains(&burst),
            "burst",
            "use a burst between 1 and 10,000,000 requests",
        )
        .check(
            burst >= rate,
            "burst",
            "the burst must be at least the rate per second",
        )
        .check(
            daily.is_none_or(|d| d > 0),
            "daily_quota",
            "leave the daily quota empty for none, or use a positive number",
        )
        .check(
            monthly.is_none_or(|m| m > 0),
            "monthly_quota",
            "leave the monthly quota empty for none, or use a positive number",
        )
        .check(
            match (daily, monthly) {
                (Some(d), Some(m)) => m >= d,
                _ => true,
            },
            "monthly_quota",
            "the monthly quota must be at least the daily quota",
        )
        .check(
            !environments.is_empty(),
            "environments",
            "allow at least one environment",
        );
}

fn env_strings(environments: &[Environment]) -> Vec<String> {
    let mut out: Vec<String> = environments
        .iter()
        .map(|e| e.as_str().to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

pub async fn create(pool: &PgPool, who: &Principal, new: NewPlan) -> Result<PlanView> {
    require_admin(who, "creating a plan")?;
    let slug = new.slug.trim().to_string();
    let mut checks = Checks::new();
    checks
        .check(
            valid_slug(&slug),
            "slug",
            "use 2 to 63 lowercase letters, digits and single dashes",
        )
        .text(&new.name, "name", "a name", 100)
        .check(
            new.description.chars().count() <= 2000,
            "description",
            "keep the description under 2000 characters",
        );
    check_limits(
        &mut checks,
        new.rate_per_second,
        new.burst,
        new.daily_quota,
        new.monthly_quota,
        &new.environments,
    );
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO plans (id, slug, name, description, rate_per_second, burst,
                            daily_quota, monthly_quota, environments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(&slug)
    .bind(new.name.trim())
    .bind(new.description.trim())
    .bind(new.rate_per_second)
    .bind(new.burst)
    .bind(new.daily_quota)
    .bind(new.monthly_quota)
    .bind(env_strings(&new.environments))
    .execute(&mut *tx)
    .await?;
    let plan = find(&mut tx, &id.to_string())
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "plan.create",
            target_type: "plan",
            target_id: slug,
            before: None,
            after: Some(snapshot(&plan)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}

pub async fn update(
    pool: &PgPool,
    who: &Principal,
    key: &str,
    patch: PlanPatch,
) -> Result<PlanView> {
    require_admin(who, "editing a plan")?;
    let mut tx = pool.begin().await?;
    let before = find(&mut tx, key)
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    // A quota of 0 in a patch means "no quota".
    let quota = |new: Option<i64>, old: Option<i64>| match new {
        Some(0) => None,
        Some(q) => Some(q),
        None => old,
    };
    let rate = patch.rate_per_second.unwrap_or(before.rate_per_second);
    let burst = patch.burst.unwrap_or(before.burst);
    let daily = quota(patch.daily_quota, before.daily_quota);
    let monthly = quota(patch.monthly_quota, before.monthly_quota);
    let environments = patch
        .environments
        .clone()
        .unwrap_or_else(|| before.environments.clone());
    let mut checks = Checks::new();
    if let Some(name) = &patch.name {
        checks.text(name, "name", "a name", 100);
    }
    checks.check(
        patch
            .description
            .as_deref()
            .is_none_or(|d| d.chars().count() <= 2000),
        "description",
        "keep the description under 2000 characters",
    );
    check_limits(&mut checks, rate, burst, daily, monthly, &environments);
    checks.finish()?;
    sqlx::query(
        "UPDATE plans SET name = coalesce($2, name), description = coalesce($3, description),
                rate_per_second = $4, burst = $5, daily_quota = $6, monthly_quota = $7,
                environments = $8, updated_at = now()
         WHERE id = $1",
    )
    .bind(before.id)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.description.as_deref().map(str::trim))
    .bind(rate)
    .bind(burst)
    .bind(daily)
    .bind(monthly)
    .bind(env_strings(&environments))
    .execute(&mut *tx)
    .await?;
    let after = find(&mut tx, &before.id.to_string())
        .await?
        .ok_or_else(|| AppError::not_found("plan"))?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "plan.update",
            target_type: "plan",
            target_id: after.slug.clone(),
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        },
    )
    .await?;
    notify::changed(&mut tx, Kind::Plan, after.id).await?;
    tx.commit().await?;
    Ok(after)
}
