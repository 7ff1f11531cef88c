//! CSRF defence for every state-changing request, server functions included (control plane).
//!
//! Browsers label each request with `Sec-Fetch-Site`, and send `Origin` on every
//! cross-origin POST. A state-changing request that a browser marks as coming
//! from another site is refused. Requests authenticated with a bearer token carry
//! no ambient credentials, so they are exempt. Together with `SameSite=Lax`
//! cookies this is the fetch-metadata defence OWASP recommends; it needs no token
//! plumbing in forms, so no form can forget it.

use crate::admin::problem::ApiError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, header};
use steward_model::AppError;

pub async fn protect(req: Request, next: Next) -> Response {
    if is_safe(req.method()) || crate::admin::principal::bearer(&req).is_some() {
        return next.run(req).await;
    }
    match verdict(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(reason = why, path = %req.uri().path(), "cross-site request refused");
            ApiError(AppError::forbidden(format!(
                "cross-site request refused: {why}"
            )))
            .into_response()
        }
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn verdict(headers: &HeaderMap) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err("Sec-Fetch-Site is not same-origin"),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Neither header: not a browser request, so no ambient cookie to abuse.
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    if !host.is_empty() && origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err("Origin does not match Host")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_fetch_metadata_passes() {
        assert!(verdict(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
    }

    #[test]
    fn cross_site_fetch_metadata_is_refused() {
        assert!(verdict(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(verdict(&headers(&[("sec-fetch-site", "same-site")])).is_err());
    }

    #[test]
    fn origin_must_match_host_without_fetch_metadata() {
        let ok = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(verdict(&ok).is_ok());
        let bad = headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(verdict(&bad).is_err());
        let null = headers(&[("origin", "null"), ("host", "127.0.0.1:3000")]);
        assert!(verdict(&null).is_err());
    }
}
