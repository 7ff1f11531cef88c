//! Rate limits per (application, API): GCRA for the steady rate and burst, plus
//! daily and monthly quotas. State lives in this process only (see the README):
//! several gateways each allow the full plan (data plane).
//!
//! GCRA keeps one timestamp per key, the theoretical arrival time (TAT): a request
//! conforms if TAT − burst tolerance ≤ now, and moves TAT one emission interval on.

use crate::FastMap;
use crate::snapshot::Plan;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

const SHARDS: usize = 32;

#[derive(Debug, Clone, Copy)]
struct State {
    tat: Instant,
    day: i32,
    day_count: u64,
    month: i32,
    month_count: u64,
}

/// The answer for one request, with what the `RateLimit-*` headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the burst is fully available again.
    pub reset: u64,
    /// Seconds to wait, when refused.
    pub retry_after: u64,
    pub quota_exhausted: Option<&'static str>,
}

#[derive(Debug)]
pub struct Limiter {
    shards: Vec<Mutex<FastMap<(Uuid, Uuid), State>>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(FastMap::default()))
                .collect(),
        }
    }
}

/// Calendar positions for quotas: (days since the epoch, months since year 0),
/// and the seconds to the next day and to the next month, UTC.
pub fn calendar(now: time::OffsetDateTime) -> (i32, i32, u64, u64) {
    use std::cell::Cell;
    thread_local! {
        /// The last day seen, its month and when the next month starts: the
        /// date arithmetic runs once a day per thread instead of per request.
        static DAY: Cell<Option<(i64, i32, i64)>> = const { Cell::new(None) };
    }
    let unix = now.unix_timestamp();
    let day = unix.div_euclid(86_400);
    let (month, next_month) = match DAY.get() {
        Some((d, month, next_month)) if d == day => (month, next_month),
        _ => {
            let month = now.year() * 12 + now.month() as i32;
            let (y, m) = if now.month() == time::Month::December {
                (now.year() + 1, time::Month::January)
            } else {
                (now.year(), now.month().next())
            };
            let next_month = time::Date::from_calendar_date(y, m, 1)
                .map(|d| d.midnight().assume_utc().unix_timestamp())
                .unwrap_or(unix + 86_400);
            DAY.set(Some((day, month, next_month)));
            (month, next_month)
        }
    };
    let to_next_day = (day + 1) * 86_400 - unix;
    (
        day as i32,
        month,
        to_next_day.max(1) as u64,
        (next_month - unix).max(1) as u64,
    )
}

/// The key anonymous callers are limited by: their IPv4 address, or their IPv6
/// /64, as an id beside the applications' (which are random version 4 UUIDs,
/// so the two never meet).
pub fn source_key(ip: std::net::IpAddr) -> Uuid {
    let bits = match steward_shared::source::of(ip) {
        std::net::IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    };
    Uuid::from_u128(bits)
}

impl Limiter {
    pub fn check(
        &self,
        app: Uuid,
        api: Uuid,
        plan: &Plan,
        now: Instant,
        wall: time::OffsetDateTime,
    ) -> Verdict {
        let interval = Duration::from_secs(1) / plan.rate_per_second.max(1);
        let burst = plan.burst.max(1);
        let tolerance = interval * (burst - 1);
        let (day, month, to_next_day, to_next_month) = calendar(wall);
        let shard = (app.as_u128() ^ api.as_u128()) as usize % SHARDS;
        let mut map = self.shards[shard].lock().unwrap_or_else(|e| e.into_inner());
        let state = map.entry((app, api)).or_insert(State {
            tat: now,
            day,
            day_count: 0,
            month,
            month_count: 0,
        });
        if state.day != day {
            state.day = day;
            state.day_count = 0;
        }
        if state.month != month {
            state.month = month;
            state.month_count = 0;
        }
        let tat = state.tat.max(now);
        let refuse = |retry_after: u64, quota: Option<&'static str>| Verdict {
            allowed: false,
            limit: burst,
            remaining: 0,
            reset: retry_after,
            retry_after,
            quota_exhausted: quota,
        };
        if plan.daily_quota.is_some_and(|q| state.day_count >= q) {
            return refuse(to_next_day, Some("daily"));
        }
        if plan.monthly_quota.is_some_and(|q| state.month_count >= q) {
            return refuse(to_next_month, Some("monthly"));
        }
        // Conforms if the bucket, seen as TAT, is no more than the tolerance ahead.
        if tat > now + tolerance {
            let wait = tat - tolerance - now;
            return refuse(ceil_secs(wait), None);
        }
        let new_tat = tat + interval;
        state.tat = new_tat;
        state.day_count += 1;
        state.month_count += 1;
        let headroom = (now + tolerance + interval).saturating_duration_since(new_tat);
        let remaining = (headroom.as_nanos() / interval.as_nanos().max(1)) as u32;
        Verdict {
            allowed: true,
            limit: burst,
            remaining: remaining.min(burst),
            reset: ceil_secs(new_tat.saturating_duration_since(now)),
            retry_after: 0,
            quota_exhausted: None,
        }
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_model::Environment;

    fn plan(rate: u32, burst: u32, daily: Option<u64>) -> Plan {
        Plan {
            id: Uuid::nil(),
            rate_per_second: rate,
            burst,
            daily_quota: daily,
            monthly_quota: None,
            environments: vec![Environment::Production],
        }
    }

    #[test]
    fn a_burst_is_allowed_then_the_steady_rate() {
        let limiter = Limiter::default();
        let (app, api) = (Uuid::new_v4(), Uuid::new_v4());
        let p = plan(10, 5, None);
        let t0 = Instant::now();
        let wall = time::OffsetDateTime::now_utc();
        let remaining: Vec<u32> = (0..5)
            .map(|_| limiter.check(app, api, &p, t0, wall))
            .inspect(|v| assert!(v.allowed))
            .map(|v| v.remaining)
            .collect();
        assert_eq!(remaining, [4, 3, 2, 1, 0]);
        let refused = limiter.check(app, api, &p, t0, wall);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, 1, "a tenth of a second, rounded up");
        // One emission interval later exactly one more request conforms.
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.check(app, api, &p, t1, wall).allowed);
        assert!(!limiter.check(app, api, &p, t1, wall).allowed);
        // Other keys are independent.
        assert!(limiter.check(Uuid::new_v4(), api, &p, t0, wall).allowed);
    }

    #[test]
    fn the_calendar_counts_to_the_next_day_and_month() {
        let eve = time::macros::datetime!(2026-12-31 23:59:30 UTC);
        let (day, month, to_day, to_month) = calendar(eve);
        assert_eq!((to_day, to_month), (30, 30));
        assert_eq!(month, 2026 * 12 + 12);
        // The same day again comes from the thread's cache, with the same answer.
        let noon = time::macros::datetime!(2026-12-31 12:00:00 UTC);
        assert_eq!(calendar(noon), (day, month, 43_200, 43_200));
        let next = calendar(time::macros::datetime!(2027-01-01 00:00:00 UTC));
        assert_eq!(next, (day + 1, 2027 * 12 + 1, 86_400, 31 * 86_400));
        let leap = calendar(time::macros::datetime!(2028-02-28 12:00:00 UTC));
        assert_eq!((leap.2, leap.3), (43_200, 43_200 + 86_400));
    }

    #[test]
    fn quotas_stop_at_the_count_and_reset_with_the_calendar() {
        let limiter = Limiter::default();
        let (app, api) = (Uuid::new_v4(), Uuid::new_v4());
        let p = plan(1000, 1000, Some(3));
        let t0 = Instant::now();
        let wall = time::macros::datetime!(2026-11-30 23:59:00 UTC);
        for _ in 0..3 {
            assert!(limiter.check(app, api, &p, t0, wall).allowed);
        }
        let v = limiter.check(app, api, &p, t0, wall);
        assert_eq!(
            (v.allowed, v.quota_exhausted, v.retry_after),
            (false, Some("daily"), 60)
        );
        let tomorrow = time::macros::datetime!(2026-12-01 00:00:01 UTC);
        assert!(
            limiter
                .check(app, api, &p, t0 + Duration::from_secs(61), tomorrow)
                .allowed
        );
    }

    #[test]
    fn anonymous_callers_are_keyed_by_address_or_ipv6_64() {
        let key = |s: &str| source_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.9"), key("::ffff:203.0.113.9"));
        assert_ne!(key("203.0.113.9"), key("203.0.113.10"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }
}
