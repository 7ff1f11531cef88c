//! Gateway refusals as RFC 9457 problem details, each with a stable `type` (data plane).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderName, HeaderValue, StatusCode, header};

/// A refusal: status, a stable slug (the `type` is `https://steward.dev/problems/gateway/<slug>`),
/// a title, a detail for humans, and headers the client needs (challenge, retry hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub slug: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub headers: Vec<(HeaderName, String)>,
    /// Per-violation details for validation failures.
    pub errors: Vec<serde_json::Value>,
}

impl Refusal {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Refusal {
            status,
            slug,
            title,
            detail: detail.into(),
            headers: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn into_response(self, request_id: &str) -> Response {
        let mut body = serde_json::json!({
            "type": format!("https://steward.dev/problems/gateway/{}", self.slug),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !request_id.is_empty() {
            body["request_id"] = request_id.into();
        }
        if !self.errors.is_empty() {
            body["errors"] = self.errors.into();
        }
        let mut res = Response::new(Body::from(body.to_string()));
        *res.status_mut() = self.status;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.append(name, v);
            }
        }
        res
    }
}
