//! RFC 9457 problem details for every admin API error (control plane).

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use steward_model::{AppError, FieldError};

/// An [`AppError`] on its way out as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<crate::error::Error> for ApiError {
    fn from(e: crate::error::Error) -> Self {
        ApiError(e.into_app())
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
}

/// Stable problem type slug and title for each error kind.
fn kind(e: &AppError) -> (&'static str, &'static str) {
    match e {
        AppError::Unauthorized => ("unauthorized", "Authentication required"),
        AppError::InvalidCredentials => ("invalid-credentials", "Invalid credentials"),
        AppError::Forbidden { .. } => ("forbidden", "Forbidden"),
        AppError::NotFound { .. } => ("not-found", "Not found"),
        AppError::Validation { .. } => ("validation", "Invalid input"),
        AppError::Conflict { .. } => ("conflict", "Conflict"),
        AppError::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
        AppError::Busy { .. } => ("busy", "Busy"),
        AppError::Internal { .. } => ("internal", "Internal error"),
        AppError::Transport { .. } => ("bad-gateway", "Bad gateway"),
    }
}

/// A problem response for statuses that have no [`AppError`] (400, 405, 413, 415).
pub fn plain(status: StatusCode, slug: &str, title: &str, detail: String) -> Response {
    render(status, slug, title, detail, &[], None)
}

fn render(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: String,
    errors: &[FieldError],
    reference: Option<&str>,
) -> Response {
    let body = Problem {
        kind: format!("https://steward.dev/problems/{slug}"),
        title,
        status: status.as_u16(),
        detail,
        errors,
        reference,
    };
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (slug, title) = kind(&e);
        let (errors, reference) = match &e {
            AppError::Validation { fields } => (fields.clone(), None),
            AppError::Conflict {
                message,
                field: Some(field),
            } => (vec![FieldError::new(field, message)], None),
            AppError::Internal { reference } => (vec![], Some(reference.as_str())),
            _ => (vec![], None),
        };
        let mut res = render(status, slug, title, e.to_string(), &errors, reference);
        match &e {
            AppError::TooManyRequests { retry_after_secs }
            | AppError::Busy { retry_after_secs } => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            AppError::Unauthorized => {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"steward-admin\""),
                );
            }
            _ => {}
        }
        res
    }
}
