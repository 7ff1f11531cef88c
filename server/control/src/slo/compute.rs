//! SLI, compliance and error budget from the gateways' aggregates (the `traffic`
//! view). Pure arithmetic in [`status`]; one scan for every SLO and window at
//! once in [`Bands`], which keeps an evaluation cycle cheap however many SLOs
//! there are, and serves a single SLO the same way.

use crate::error::Result;
use crate::traffic::rollup::BUCKET_SUMS;
use sqlx::PgPool;
use std::collections::HashMap;
use steward_model::{SloKind, SloStatus};
use steward_shared::telemetry::{BOUNDS_MS, BUCKETS};
use time::OffsetDateTime;
use uuid::Uuid;

/// What an SLO counts, and over which slice of traffic.
#[derive(Debug, Clone)]
pub struct Scope {
    pub api: Uuid,
    pub version: Option<Uuid>,
    pub operation: Option<String>,
    pub application: Option<Uuid>,
    pub kind: SloKind,
    pub threshold_ms: Option<i32>,
}

impl Scope {
    /// How many histogram buckets hold good requests (latency SLOs).
    pub fn good_buckets(&self) -> usize {
        self.threshold_ms
            .and_then(|t| BOUNDS_MS.iter().position(|b| *b == t as u64))
            .map_or(0, |i| i + 1)
    }

    fn covers(&self, slice: &Slice) -> bool {
        slice.api == self.api
            && self.version.is_none_or(|v| v == slice.version)
            && self
                .operation
                .as_deref()
                .is_none_or(|o| o == slice.operation)
            && self.application.is_none_or(|a| a == slice.application)
    }
}

/// One slice of an API's traffic, as the gateways key their aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slice {
    pub api: Uuid,
    pub version: Uuid,
    pub operation: String,
    pub application: Uuid,
}

/// Requests, 5xx answers and the latency histogram of some traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub total: i64,
    pub server_errors: i64,
    pub buckets: [i64; BUCKETS],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            total: 0,
            server_errors: 0,
            buckets: [0; BUCKETS],
        }
    }
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.total += other.total;
        self.server_errors += other.server_errors;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
    }

    /// Good requests under the scope's SLI.
    pub fn good(&self, scope: &Scope) -> i64 {
        match scope.kind {
            SloKind::Availability => self.total - self.server_errors,
            SloKind::Latency => self.buckets[..scope.good_buckets()].iter().sum(),
        }
    }
}

/// Traffic of every slice of some APIs in nested windows ending now: band `i`
/// holds what lies in `windows[i]` but not in the shorter windows before it, so
/// a window's traffic is the sum of its band and all shorter ones.
#[derive(Debug, Default)]
pub struct Bands {
    windows: Vec<time::Duration>,
    by_api: HashMap<Uuid, Vec<(Slice, Vec<Tally>)>>,
}

impl Bands {
    /// One scan of the `traffic` view for `apis` over the longest of `windows`
    /// (which need not be sorted or distinct).
    pub async fn load(
        pool: &PgPool,
        apis: &[Uuid],
        now: OffsetDateTime,
        windows: &[time::Duration],
    ) -> Result<Bands> {
        let mut windows = windows.to_vec();
        windows.sort();
        windows.dedup();
        let mut bands = Bands {
            windows,
            by_api: HashMap::new(),
        };
        let Some(longest) = bands.windows.last().copied() else {
            return Ok(bands);
        };
        let cases: String = (0..bands.windows.len())
            .map(|i| format!(" WHEN minute >= ${} THEN {i}", i + 4))
            .collect();
        let sql = format!(
            "SELECT api_id, version_id, operation, application_id,
                    (CASE{cases} END)::int AS band,
                    sum(requests)::bigint,
                    coalesce(sum(requests) FILTER (WHERE status_class = 5), 0)::bigint,
                    {}
             FROM traffic
             WHERE api_id = ANY($1) AND minute >= $2 AND minute < $3
             GROUP BY 1, 2, 3, 4, 5",
            *BUCKET_SUMS
        );
        let end = now + time::Duration::minutes(1);
        let mut query =
            sqlx::query_as::<_, (Uuid, Uuid, String, Uuid, i32, i64, i64, Vec<i64>)>(&sql)
                .bind(apis)
                .bind(now - longest)
                .bind(end);
        for w in &bands.windows {
            query = query.bind(now - *w);
        }
        let n = bands.windows.len();
        // Where each slice sits in its API's list, so rows find it in O(1).
        let mut index: HashMap<Slice, usize> = HashMap::new();
        for (api, version, operation, application, band, total, server_errors, hist) in
            query.fetch_all(pool).await?
        {
            let slice = Slice {
                api,
                version,
                operation,
                application,
            };
            let mut tally = Tally {
                total,
                server_errors,
                buckets: [0; BUCKETS],
            };
            for (b, v) in tally.buckets.iter_mut().zip(hist) {
                *b = v;
            }
            let slices = bands.by_api.entry(api).or_default();
            let at = match index.get(&slice) {
                Some(&at) => at,
                None => {
                    index.insert(slice.clone(), slices.len());
                    slices.push((slice, vec![Tally::default(); n]));
                    slices.len() - 1
                }
            };
            if let Some(t) = usize::try_from(band)
                .ok()
                .and_then(|b| slices[at].1.get_mut(b))
            {
                t.add(&tally);
            }
        }
        Ok(bands)
    }

    /// Total and good requests of `scope` over `window` (one of those loaded).
    pub fn measure(&self, scope: &Scope, window: time::Duration) -> (i64, i64) {
        let Ok(last) = self.windows.binary_search(&window) else {
            return (0, 0);
        };
        let mut tally = Tally::default();
        for (slice, bands) in self.by_api.get(&scope.api).into_iter().flatten() {
            if scope.covers(slice) {
                for band in &bands[..=last] {
                    tally.add(band);
                }
            }
        }
        (tally.total, tally.good(scope))
    }
}

/// The SLO's standing for `total` requests of which `good` were good.
pub fn status(total: i64, good: i64, target: f64) -> SloStatus {
    let bad = (total - good).max(0);
    let sli = if total == 0 {
        100.0
    } else {
        good as f64 * 100.0 / total as f64
    };
    let budget_total = total as f64 * (100.0 - target) / 100.0;
    let budget_remaining = budget_total - bad as f64;
    SloStatus {
        total,
        good,
        bad,
        sli,
        compliant: sli >= target,
        budget_total,
        budget_consumed: bad,
        budget_remaining,
        budget_remaining_percent: if budget_total > 0.0 {
            budget_remaining * 100.0 / budget_total
        } else {
            100.0
        },
        too_little_traffic: budget_total < 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_little_traffic_says_so_instead_of_a_figure() {
        // 9 requests at 99.9 %: the budget is 0.009 of a request.
        let s = status(9, 8, 99.9);
        assert!(s.too_little_traffic);
        assert_eq!(s.budget_text(), "too little traffic (9 requests)");
        let s = status(10_000, 9_995, 99.9);
        assert!(!s.too_little_traffic);
        assert_eq!(s.budget_text(), "50.0 %");
    }

    #[test]
    fn budgets_follow_the_target() {
        let s = status(10_000, 9_800, 99.0);
        assert_eq!((s.bad, s.sli), (200, 98.0));
        assert!(!s.compliant);
        assert!((s.budget_total - 100.0).abs() < 1e-9);
        assert!((s.budget_remaining - -100.0).abs() < 1e-9);
        assert!((s.budget_remaining_percent - -100.0).abs() < 1e-9);
        let quiet = status(0, 0, 99.9);
        assert!(quiet.compliant && quiet.sli == 100.0 && quiet.budget_remaining_percent == 100.0);
        let fine = status(1000, 999, 99.0);
        assert!(fine.compliant);
        assert!((fine.budget_remaining_percent - 90.0).abs() < 1e-9);
    }
}
