//! Protecting upstreams: a circuit breaker per upstream and a retry budget (data plane).
//!
//! The breaker counts consecutive failures (5xx answers and transport errors).
//! At the threshold it opens: requests get 503 at once, without touching the
//! upstream, until the cooldown ends. Then one trial request goes through
//! (half-open); success closes the breaker, failure opens it again.
//!
//! Retries spend from a budget that every request refills by a fraction of a
//! token, so retries can add at most that fraction of extra load to an upstream
//! that is already struggling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
struct Breaker {
    state: State,
    failures: u32,
    opened_at: Option<Instant>,
    trial_in_flight: bool,
}

#[derive(Debug)]
pub struct Breakers {
    threshold: u32,
    cooldown: Duration,
    map: Mutex<HashMap<String, Breaker>>,
    /// How many upstreams have an entry (a recent failure). While none has, the
    /// request path never takes the lock: healthy traffic pays one atomic load.
    tracked: AtomicUsize,
}

impl Breakers {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breakers {
            threshold: threshold.max(1),
            cooldown,
            map: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    /// May a request go to `upstream` now? `Err` holds the seconds until it may.
    /// The clock is read only for an upstream with a record of failures.
    pub fn admit<'a>(
        &'a self,
        upstream: &'a str,
        now: impl FnOnce() -> Instant,
    ) -> Result<Pass<'a>, u64> {
        let pass = |trial| Pass {
            breakers: self,
            upstream,
            trial,
        };
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return Ok(pass(false));
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let Some(b) = map.get_mut(upstream) else {
            return Ok(pass(false));
        };
        match b.state {
            State::Closed => Ok(pass(false)),
            State::Open => {
                let since = b
                    .opened_at
                    .map(|t| now().saturating_duration_since(t))
                    .unwrap_or_default();
                if since >= self.cooldown {
                    b.state = State::HalfOpen;
                    b.trial_in_flight = true;
                    Ok(pass(true))
                } else {
                    let left = self.cooldown - since;
                    Err(left.as_secs() + u64::from(left.subsec_nanos() > 0))
                }
            }
            // One trial at a time; the others wait as if open.
            State::HalfOpen if b.trial_in_flight => Err(1),
            State::HalfOpen => {
                b.trial_in_flight = true;
                Ok(pass(true))
            }
        }
    }

    /// A trial that ended without a verdict: the next request may try.
    fn abandon(&self, upstream: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = map.get_mut(upstream)
            && b.state == State::HalfOpen
        {
            b.trial_in_flight = false;
        }
    }

    /// Records an exchange's outcome; the clock is read only for a failure.
    fn record(&self, upstream: &str, success: bool, now: impl FnOnce() -> Instant) {
        if success && self.tracked.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if success {
            // A success forgets the upstream's failures: healthy upstreams have no entry.
            if map.remove(upstream).is_some() {
                self.tracked.store(map.len(), Ordering::Relaxed);
            }
            return;
        }
        let b = map.entry(upstream.to_string()).or_insert(Breaker {
            state: State::Closed,
            failures: 0,
            opened_at: None,
            trial_in_flight: false,
        });
        b.failures += 1;
        b.trial_in_flight = false;
        if b.state == State::HalfOpen || b.failures >= self.threshold {
            b.state = State::Open;
            b.opened_at = Some(now());
        }
        self.tracked.store(map.len(), Ordering::Relaxed);
    }

    /// The upstreams with recent failures: each authority, its circuit's state
    /// and its failures in a row. Healthy upstreams have no entry.
    pub fn failing(&self) -> Vec<(String, State, u32)> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return Vec::new();
        }
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<_> = map
            .iter()
            .map(|(upstream, b)| (upstream.clone(), b.state, b.failures))
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    pub fn state(&self, upstream: &str) -> State {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return State::Closed;
        }
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(upstream)
            .map(|b| b.state)
            .unwrap_or(State::Closed)
    }
}

/// A request the breaker let through, to be settled with its outcome. Dropped
/// unsettled (the caller hung up mid-exchange, so the request's future was
/// dropped; or the caller's own body failed), it gives a half-open trial back:
/// the upstream was not judged, and a breaker waiting for a verdict that never
/// comes would refuse everyone for ever.
#[must_use = "settle the pass with the exchange's outcome"]
pub struct Pass<'a> {
    breakers: &'a Breakers,
    upstream: &'a str,
    trial: bool,
}

impl Pass<'_> {
    /// Records the exchange's outcome; the clock is read only for a failure.
    pub fn settle(mut self, success: bool, now: impl FnOnce() -> Instant) {
        self.trial = false;
        self.breakers.record(self.upstream, success, now);
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if self.trial {
            self.breakers.abandon(self.upstream);
        }
    }
}

/// Retries may add at most `ratio` extra requests per request, with a small
/// reserve so that a quiet gateway can still retry at all. Tokens are counted in
/// thousandths, so ten deposits of 0.1 make exactly one.
///
/// Every request deposits, from every core: while the budget is full (no
/// retries lately, the usual state) a deposit only reads the counter, so its
/// cache line stays shared instead of moving between cores on each request.
#[derive(Debug)]
pub struct RetryBudget {
    deposit: u64,
    max: u64,
    tokens: AtomicU64,
}

const ONE: u64 = 1000;

impl RetryBudget {
    pub fn new(ratio: f64, reserve: f64) -> Self {
        let max = ((reserve.max(1.0)) * ONE as f64) as u64;
        RetryBudget {
            deposit: (ratio.clamp(0.0, 1.0) * ONE as f64).round() as u64,
            max,
            tokens: AtomicU64::new(max),
        }
    }

    pub fn deposit(&self) {
        if self.tokens.load(Ordering::Relaxed) >= self.max {
            return;
        }
        let _ = self
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (t < self.max).then(|| (t + self.deposit).min(self.max))
            });
    }

    pub fn try_spend(&self) -> bool {
        self.tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| t.checked_sub(ONE))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_waits_tries_once_and_closes() {
        let b = Breakers::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let fail = |at| b.admit("erp:80", || at).unwrap().settle(false, || at);
        for _ in 0..2 {
            fail(t0);
        }
        assert!(b.admit("erp:80", || t0).is_ok(), "below the threshold");
        fail(t0);
        assert_eq!(b.state("erp:80"), State::Open);
        assert_eq!(
            b.admit("erp:80", || t0 + Duration::from_millis(2500)).err(),
            Some(8)
        );
        assert!(b.admit("other:80", || t0).is_ok(), "per upstream");
        let later = t0 + Duration::from_secs(10);
        let trial = b.admit("erp:80", || later).expect("the trial");
        assert_eq!(b.admit("erp:80", || later).err(), Some(1), "only one trial");
        trial.settle(false, || later);
        assert_eq!(b.state("erp:80"), State::Open, "a failed trial reopens");
        let again = later + Duration::from_secs(10);
        b.admit("erp:80", || again).unwrap().settle(true, || again);
        assert_eq!(b.state("erp:80"), State::Closed);
        assert!(b.admit("erp:80", || again).is_ok());
    }

    #[test]
    fn a_trial_dropped_without_a_verdict_lets_the_next_request_try() {
        let b = Breakers::new(1, Duration::from_secs(10));
        let t0 = Instant::now();
        b.admit("erp:80", || t0).unwrap().settle(false, || t0);
        let later = t0 + Duration::from_secs(10);
        let trial = b.admit("erp:80", || later).expect("the trial");
        assert!(b.admit("erp:80", || later).is_err());
        // The caller hung up: its request's future, and the pass, are dropped.
        drop(trial);
        assert_eq!(b.state("erp:80"), State::HalfOpen);
        b.admit("erp:80", || later)
            .expect("another trial")
            .settle(true, || later);
        assert_eq!(b.state("erp:80"), State::Closed);
    }

    #[test]
    fn the_budget_allows_a_fraction_of_extra_requests() {
        let budget = RetryBudget::new(0.1, 2.0);
        assert!(budget.try_spend() && budget.try_spend());
        assert!(!budget.try_spend(), "the reserve is spent");
        for _ in 0..10 {
            budget.deposit();
        }
        assert!(budget.try_spend());
        assert!(!budget.try_spend());
    }
}
