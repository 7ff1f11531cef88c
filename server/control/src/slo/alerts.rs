//! Burn-rate alerting, multi-window and multi-burn-rate. The burn rate of a
//! window is its error ratio divided by the error budget ratio (1 − target): a
//! burn rate of 1 spends the budget exactly over the SLO's window. An alert fires
//! only when both its long and its short window burn faster than its threshold,
//! so it is both significant and still happening; it resolves when that stops (control plane).

use super::compute::Bands;
use super::definitions;
use crate::audit::{self, Actor, Change};
use crate::error::Result;
use sqlx::PgPool;
use std::collections::HashMap;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// (severity, long window, short window, burn-rate threshold), as in the SRE workbook.
pub const RULES: [(&str, &str, Duration, &str, Duration, f64); 4] = [
    (
        "page",
        "1h",
        Duration::hours(1),
        "5m",
        Duration::minutes(5),
        14.4,
    ),
    (
        "page",
        "6h",
        Duration::hours(6),
        "30m",
        Duration::minutes(30),
        6.0,
    ),
    (
        "ticket",
        "1d",
        Duration::days(1),
        "2h",
        Duration::hours(2),
        3.0,
    ),
    (
        "ticket",
        "3d",
        Duration::days(3),
        "6h",
        Duration::hours(6),
        1.0,
    ),
];

/// How fast a window spends the budget; 0 without traffic.
pub fn burn_rate(total: i64, good: i64, target: f64) -> f64 {
    let budget = (100.0 - target) / 100.0;
    if total == 0 || budget <= 0.0 {
        return 0.0;
    }
    let error_ratio = (total - good).max(0) as f64 / total as f64;
    error_ratio / budget
}

/// What one evaluation cycle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cycle {
    pub slos: usize,
    /// Alerts fired or resolved.
    pub changed: usize,
    /// SLOs whose error budget is spent.
    pub exhausted: usize,
}

/// One evaluation cycle: every SLO's status over its window (stored for lists)
/// and every burn-rate rule, firing and resolving alerts. The traffic of all
/// SLOs and windows comes from one scan, and open alerts from one query, so a
/// cycle writes only the statuses and where an alert changes state.
pub async fn evaluate(pool: &PgPool, now: OffsetDateTime) -> Result<Cycle> {
    let slos = definitions::all(pool).await?;
    let apis: Vec<Uuid> = slos.iter().map(|s| s.api_id).collect();
    let windows: Vec<Duration> = RULES
        .iter()
        .flat_map(|r| [r.2, r.4])
        .chain(slos.iter().map(definitions::SloRow::window))
        .collect();
    let bands = Bands::load(pool, &apis, now, &windows).await?;
    let statuses: Vec<(Uuid, i64, i64)> = slos
        .iter()
        .map(|s| {
            let (total, good) = bands.measure(&s.scope(), s.window());
            (s.id, total, good)
        })
        .collect();
    definitions::store(pool, &statuses, now).await?;
    let open: HashMap<(Uuid, String), Uuid> = sqlx::query_as::<_, (Uuid, String, Uuid)>(
        "SELECT slo_id, long_window, id FROM slo_alerts WHERE resolved_at IS NULL",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(slo, window, id)| ((slo, window), id))
    .collect();
    let mut cycle = Cycle {
        slos: slos.len(),
        changed: 0,
        exhausted: slos
            .iter()
            .zip(&statuses)
            .filter(|(s, (_, total, good))| {
                super::compute::status(*total, *good, s.target).budget_remaining < 0.0
            })
            .count(),
    };
    for slo in &slos {
        let scope = slo.scope();
        for (severity, long_name, long, short_name, short, threshold) in RULES {
            let (lt, lg) = bands.measure(&scope, long);
            let (st, sg) = bands.measure(&scope, short);
            let (long_burn, short_burn) =
                (burn_rate(lt, lg, slo.target), burn_rate(st, sg, slo.target));
            let firing = long_burn > threshold && short_burn > threshold;
            let alert = open.get(&(slo.id, long_name.to_string())).copied();
            if firing == alert.is_some() {
                continue;
            }
            let mut tx = pool.begin().await?;
            let action = match alert {
                None => {
                    // The partial unique index refuses a second open alert if
                    // another control plane fired it meanwhile; an SLO deleted
                    // since the cycle began gets none.
                    let inserted = sqlx::query(
                        "INSERT INTO slo_alerts (id, slo_id, severity, long_window, short_window,
                                                 threshold, long_burn, short_burn, fired_at)
                         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
                         WHERE EXISTS (SELECT 1 FROM slos WHERE id = $2)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(Uuid::new_v4())
                    .bind(slo.id)
                    .bind(severity)
                    .bind(long_name)
                    .bind(short_name)
                    .bind(threshold)
                    .bind(long_burn)
                    .bind(short_burn)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    (inserted > 0).then_some("slo.alert.fire")
                }
                Some(alert) => {
                    let updated = sqlx::query(
                        "UPDATE slo_alerts SET resolved_at = $2 WHERE id = $1 AND resolved_at IS NULL",
                    )
                    .bind(alert)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    (updated > 0).then_some("slo.alert.resolve")
                }
            };
            if let Some(action) = action {
                audit::record(
                    &mut tx,
                    &Actor::operator("slo-evaluator"),
                    Change {
                        action,
                        target_type: "slo",
                        target_id: format!("{}/{}", slo.api_slug, slo.name),
                        before: None,
                        after: Some(serde_json::json!({
                            "severity": severity, "windows": format!("{long_name}/{short_name}"),
                            "threshold": threshold, "long_burn": long_burn, "short_burn": short_burn,
                        })),
                    },
                )
                .await?;
                cycle.changed += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(cycle)
}

/// Evaluates every minute until the process ends.
pub fn spawn(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = evaluate(&pool, OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "SLO alerts not evaluated");
            }
        }
    })
}

type AlertRow = (
    Uuid,
    String,
    String,
    String,
    f64,
    f64,
    f64,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

/// An SLO's alerts, open ones first, then the latest resolved.
pub async fn list(
    pool: &PgPool,
    _who: &steward_model::Principal,
    slo: Uuid,
) -> Result<Vec<steward_model::SloAlert>> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM slos WHERE id = $1)")
        .bind(slo)
        .fetch_one(pool)
        .await?;
    if !exists {
        return Err(steward_model::AppError::not_found("SLO").into());
    }
    let rows: Vec<AlertRow> = sqlx::query_as(
        "SELECT id, severity, long_window, short_window, threshold, long_burn, short_burn, fired_at, resolved_at
         FROM slo_alerts WHERE slo_id = $1
         ORDER BY resolved_at IS NOT NULL, fired_at DESC LIMIT 100",
    )
    .bind(slo)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| steward_model::SloAlert {
            id: r.0,
            severity: r.1,
            long_window: r.2,
            short_window: r.3,
            threshold: r.4,
            long_burn: r.5,
            short_burn: r.6,
            fired_at: r.7,
            resolved_at: r.8,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_rate_is_the_error_ratio_over_the_budget() {
        assert!((burn_rate(1000, 980, 99.9) - 20.0).abs() < 1e-9);
        assert!((burn_rate(1000, 999, 99.9) - 1.0).abs() < 1e-9);
        assert_eq!(burn_rate(0, 0, 99.9), 0.0);
    }
}
