//! `/metrics` in the Prometheus text format (version 0.0.4): request counts and
//! latency histograms by API and status class since the process started, the
//! snapshot's age, the flush backlog, dropped samples and database pool usage (data plane).

use crate::Gateway;
use crate::telemetry::BOUNDS_MS;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use std::fmt::Write;
use std::sync::Arc;

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

pub async fn render(State(gw): State<Arc<Gateway>>) -> Response {
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
