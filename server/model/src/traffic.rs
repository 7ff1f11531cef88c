//! View types of live traffic: gateway instances, the upstream policy they
//! enforce, and what a version's traffic looked like recently (from the
//! gateways' minute aggregates) (shared types).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayView {
    pub id: Uuid,
    pub hostname: String,
    pub address: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// Reported within the last 30 seconds.
    pub live: bool,
    pub snapshot_generation: i64,
    pub snapshot_age_seconds: f64,
    pub versions: i32,
    pub keys: i32,
    /// Aggregates and "last used" stamps waiting to be written.
    pub telemetry_backlog: i64,
    pub usage_backlog: i64,
    /// Samples given up during a long database outage.
    pub telemetry_dropped: i64,
    /// Upstreams this gateway has seen fail recently; healthy ones are not listed.
    #[serde(default)]
    pub upstreams: Vec<UpstreamHealth>,
}

/// An upstream a gateway has seen fail, by its authority (`erp.internal:8069`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamHealth {
    pub upstream: String,
    /// `failing` (failures below the threshold), `open` (the gateway answers
    /// 503 without trying) or `half_open` (one trial request at a time).
    pub state: String,
    /// Failures in a row.
    pub failures: u32,
}

impl UpstreamHealth {
    /// The state in words.
    pub fn label(&self) -> String {
        match self.state.as_str() {
            "open" => format!(
                "circuit open after {} failures: callers get 503",
                self.failures
            ),
            "half_open" => "circuit half-open: trying one request".into(),
            _ => format!("{} recent failures", self.failures),
        }
    }
}

/// The authority (`host:port`) of an upstream URL, without credentials, as
/// the gateways key their circuits by it.
pub fn upstream_authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let bare = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (!bare.is_empty()).then_some(bare)
}

/// Where the gateways may send upstream traffic, beyond the default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamPolicyView {
    /// The admin's entries: CIDR blocks, addresses, `address:port`, host names.
    pub allow: Vec<String>,
    /// What the default refuses unless an entry allows it, in words.
    pub refused_by_default: Vec<String>,
}

/// The new list of entries, replacing the old one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamPolicyUpdate {
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerTraffic {
    pub consumer: String,
    pub application: String,
    pub requests: i64,
    /// Of which 5xx.
    #[serde(default)]
    pub errors: i64,
    /// A revoked or expired key of this application was used in the window,
    /// on any API (its calls were refused, and are counted as this
    /// application's).
    #[serde(default)]
    pub revoked_key_used: bool,
}

/// A version's traffic over the last `window_minutes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionTraffic {
    pub window_minutes: i32,
    pub requests: i64,
    pub requests_per_minute: f64,
    /// Requests per status class: 1xx, 2xx, 3xx, 4xx, 5xx.
    pub by_class: [i64; 5],
    /// Share of 5xx answers, 0 to 1.
    pub error_rate: f64,
    /// The upper bound of the latency bucket holding the 95th percentile.
    pub p95_ms: Option<f64>,
    pub top_consumers: Vec<ConsumerTraffic>,
}

/// Sampled upstream responses that did not match the contract, grouped by
/// operation, status and the first violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub operation: String,
    pub status: i32,
    pub pointer: String,
    pub message: String,
    pub count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    /// The latest offending body, truncated; redacted to its shape unless the
    /// gateway is told otherwise, and empty for callers who are not the API's
    /// owners or admins.
    pub example: String,
}

/// One point of an API's traffic series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficPoint {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// Requests by status class, 1xx to 5xx.
    pub by_class: [i64; 5],
    /// Upper bounds of the histogram buckets holding the percentiles.
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// An API's traffic over a window: totals, a series and its top consumers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTraffic {
    pub api_slug: String,
    pub api_name: String,
    pub hours: i32,
    /// `minute`, `hour` or `day`: the width of each point.
    pub resolution: String,
    pub requests: i64,
    pub by_class: [i64; 5],
    /// Share of 5xx answers, 0 to 1.
    pub error_rate: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub points: Vec<TrafficPoint>,
    pub top_consumers: Vec<ConsumerTraffic>,
}

/// Who still calls a deprecated version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeprecatedCaller {
    pub consumer: String,
    pub consumer_slug: String,
    pub application: String,
    pub environment: String,
    /// Contacts of the consumer, as registered: whom to tell.
    pub contacts: Vec<String>,
    pub requests: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
}

/// A deprecated version, its sunset and its remaining callers (last 7 days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeprecationImpact {
    pub api_slug: String,
    pub api_name: String,
    pub version_id: Uuid,
    pub version: String,
    pub sunset_date: Option<time::Date>,
    /// Days until the sunset; negative once it has passed.
    pub days_left: Option<i64>,
    pub successor: Option<String>,
    pub requests: i64,
    pub callers: Vec<DeprecatedCaller>,
}
