//! `/metrics` in the Prometheus text format (version 0.0.4): request counts and
//! latency histograms by API and status class since the process started, the
//! snapshot's age, the flush backlog, dropped samples and database pool usage (data plane).
//!
//! The figures name every API and its traffic, so they are not public: with a
//! token configured a scraper must present it as a bearer token, and without
//! one only callers on this machine (loopback) are answered.

use crate::Gateway;
use crate::telemetry::BOUNDS_MS;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use std::fmt::Write;
use std::net::IpAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Whether `peer`, presenting `authorization`, may read the metrics.
pub fn may_scrape(token: Option<&str>, peer: Option<IpAddr>, authorization: Option<&[u8]>) -> bool {
    match token {
        Some(token) => authorization
            .and_then(|v| v.strip_prefix(b"Bearer "))
            .is_some_and(|given| bool::from(given.ct_eq(token.as_bytes()))),
        None => peer.is_some_and(|ip| ip.to_canonical().is_loopback()),
    }
}

pub async fn render(State(gw): State<Arc<Gateway>>, req: axum::extract::Request) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if !may_scrape(gw.config.metrics_token.as_deref(), peer, authorization) {
        let mut res = crate::pipeline::problem::Refusal::new(
            http::StatusCode::UNAUTHORIZED,
            "metrics-unauthorized",
            "Metrics need a token",
            "present the gateway's metrics token as a bearer token (STEWARD_METRICS_TOKEN)",
        )
        .into_response("");
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"steward-metrics\""),
        );
        return res;
    }
    let snapshot = gw.snapshot.load();
    let slugs: std::collections::HashMap<uuid::Uuid, &str> = snapshot
        .by_base_path
        .values()
        .map(|v| (v.api_id, v.api_slug.as_str()))
        .collect();
    let mut out = String::with_capacity(4096);
    let totals = gw.telemetry.totals();
    let _ = writeln!(
        out,
        "# HELP steward_gateway_requests_total Requests answered, by API and status class."
    );
    let _ = writeln!(out, "# TYPE steward_gateway_requests_total counter");
    for ((api, class), agg) in &totals {
        let api = slugs.get(api).copied().unwrap_or("unknown");
        let class = CLASSES
            .get(usize::from(class.saturating_sub(1)))
            .copied()
            .unwrap_or("5xx");
        let _ = writeln!(
            out,
            "steward_gateway_requests_total{{api=\"{api}\",class=\"{class}\"}} {}",
            agg.requests
        );
    }
    let _ = writeln!(
        out,
        "# HELP steward_gateway_request_duration_seconds Time to the upstream's response headers, or to the gateway's refusal."
    );
    let _ = writeln!(
        out,
        "# TYPE steward_gateway_request_duration_seconds histogram"
    );
    for ((api, class), agg) in &totals {
        let api = slugs.get(api).copied().unwrap_or("unknown");
        let class = CLASSES
            .get(usize::from(class.saturating_sub(1)))
            .copied()
            .unwrap_or("5xx");
        let labels = format!("api=\"{api}\",class=\"{class}\"");
        let mut cumulative = 0;
        for (i, bound) in BOUNDS_MS.iter().enumerate() {
            cumulative += agg.buckets[i];
            let _ = writeln!(
                out,
                "steward_gateway_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {cumulative}",
                *bound as f64 / 1000.0
            );
        }
        let _ = writeln!(
            out,
            "steward_gateway_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            agg.requests
        );
        let _ = writeln!(
            out,
            "steward_gateway_request_duration_seconds_sum{{{labels}}} {}",
            agg.latency_sum_us as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "steward_gateway_request_duration_seconds_count{{{labels}}} {}",
            agg.requests
        );
    }
    let age = snapshot
        .built_at
        .map(|t| t.elapsed().as_secs_f64())
        .unwrap_or(-1.0);
    let gauges = [
        (
            "steward_gateway_snapshot_age_seconds",
            "Seconds since the policy snapshot was built (-1: none yet).",
            "gauge",
            format!("{age}"),
        ),
        (
            "steward_gateway_snapshot_generation",
            "Snapshots built by this process.",
            "gauge",
            snapshot.generation.to_string(),
        ),
        (
            "steward_gateway_dropped_samples_total",
            "Telemetry samples given up during a database outage.",
            "counter",
            gw.telemetry.dropped().to_string(),
        ),
    ];
    for (name, help, kind, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP steward_gateway_flush_backlog Entries waiting for the next flush.\n# TYPE steward_gateway_flush_backlog gauge"
    );
    let _ = writeln!(
        out,
        "steward_gateway_flush_backlog{{kind=\"telemetry\"}} {}",
        gw.telemetry.backlog()
    );
    let _ = writeln!(
        out,
        "steward_gateway_flush_backlog{{kind=\"key_usage\"}} {}",
        gw.usage.backlog()
    );
    steward_shared::metrics::pool_metrics(&mut out, &gw.pool);
    let mut res = out.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_need_the_token_or_a_local_caller() {
        let local = Some(IpAddr::from([127, 0, 0, 1]));
        let remote = Some(IpAddr::from([203, 0, 113, 9]));
        assert!(may_scrape(None, local, None));
        assert!(may_scrape(
            None,
            Some("::ffff:127.0.0.1".parse().unwrap()),
            None
        ));
        assert!(!may_scrape(None, remote, None));
        assert!(!may_scrape(None, None, None));
        let token = Some("s3cret-token");
        assert!(may_scrape(token, remote, Some(b"Bearer s3cret-token")));
        assert!(
            !may_scrape(token, local, None),
            "a token, once set, is needed by all"
        );
        assert!(!may_scrape(token, remote, Some(b"Bearer s3cret-tokeN")));
        assert!(!may_scrape(token, remote, Some(b"s3cret-token")));
    }
}
