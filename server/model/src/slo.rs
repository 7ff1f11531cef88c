//! View types of service level objectives and their error budgets (shared types).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SloKind {
    /// The share of requests that are not 5xx (4xx and 429 count as good).
    Availability,
    /// The share of requests faster than a threshold.
    Latency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSlo {
    /// API id or slug.
    pub api: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: SloKind,
    /// Percent of good requests, e.g. 99.9.
    pub target: f64,
    pub window_days: i32,
    /// Latency SLOs: one of the gateway's histogram bounds (5, 10, 25, 50, 100, … ms).
    #[serde(default)]
    pub threshold_ms: Option<i32>,
    #[serde(default)]
    pub version_id: Option<Uuid>,
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(default)]
    pub application_id: Option<Uuid>,
}

/// Changes to an SLO. Absent fields stay as they are. What it counts (kind,
/// threshold, scope) is fixed: a different measure is a different SLO.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SloPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub window_days: Option<i32>,
}

/// Where an SLO stands over its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloStatus {
    pub total: i64,
    pub good: i64,
    pub bad: i64,
    /// Percent of good requests; 100 when there was no traffic.
    pub sli: f64,
    pub compliant: bool,
    /// The error budget in requests: how many may be bad at the target.
    pub budget_total: f64,
    pub budget_consumed: i64,
    pub budget_remaining: f64,
    /// Remaining budget as a percent of the total (negative when overspent).
    pub budget_remaining_percent: f64,
    /// Fewer requests than it takes for the target to allow one bad one: the
    /// budget's figures mean nothing yet, and say so instead.
    #[serde(default)]
    pub too_little_traffic: bool,
}

impl SloStatus {
    /// The budget left, for people: a percent, or why there is none to show.
    pub fn budget_text(&self) -> String {
        if self.too_little_traffic {
            format!("too little traffic ({} requests)", self.total)
        } else {
            format!("{:.1} %", self.budget_remaining_percent)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloView {
    pub id: Uuid,
    pub api_id: Uuid,
    pub api_slug: String,
    pub name: String,
    pub description: String,
    pub kind: SloKind,
    pub target: f64,
    pub window_days: i32,
    pub threshold_ms: Option<i32>,
    pub version_id: Option<Uuid>,
    pub operation: Option<String>,
    pub application_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub status: SloStatus,
    /// When `status` was computed: now for a single SLO, the last evaluation
    /// cycle (at most a minute ago) in lists.
    #[serde(with = "time::serde::rfc3339")]
    pub status_as_of: OffsetDateTime,
}

/// A burn-rate alert: firing while `resolved_at` is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloAlert {
    pub id: Uuid,
    /// `page` or `ticket`.
    pub severity: String,
    pub long_window: String,
    pub short_window: String,
    pub threshold: f64,
    pub long_burn: f64,
    pub short_burn: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub fired_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
}

/// Width of the points of an SLO's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    Hour,
    #[default]
    Day,
}

/// One point of an SLO's series over its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloPoint {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    pub total: i64,
    pub good: i64,
    /// Percent good in this point; none without traffic.
    pub sli: Option<f64>,
    /// Error budget left at the end of this point, as a percent of the window's
    /// budget: the burn-down.
    pub budget_remaining_percent: f64,
}

/// The current burn rate over one alerting window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnRate {
    pub window: String,
    pub burn_rate: f64,
    pub requests: i64,
    /// The lowest alert threshold that uses this window, if any.
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloSeries {
    pub resolution: Resolution,
    pub points: Vec<SloPoint>,
    pub burn_rates: Vec<BurnRate>,
}

/// Everything the SLO page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloDetail {
    pub slo: SloView,
    pub series: SloSeries,
    pub alerts: Vec<SloAlert>,
}
