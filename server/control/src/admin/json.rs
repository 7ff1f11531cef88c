//! `ApiJson`: axum's `Json`, but every rejection is problem+json. Malformed JSON is
//! a 400 with line and column; a well-formed body of the wrong shape is a 422 that
//! names the field; a body over the limit is a 413; a wrong media type is a 415 (control plane).

use crate::admin::problem::{ApiError, plain};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use steward_model::{AppError, FieldError};

pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                plain(
                    status,
                    "payload-too-large",
                    "Payload too large",
                    "the request body exceeds the size limit".into(),
                )
            } else {
                plain(status, "bad-request", "Bad request", rejection.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Deserialises with the path of the failing field, so the 422 can name it.
#[expect(
    clippy::result_large_err,
    reason = "the error is the finished response, built once on the failure path"
)]
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    // PostgreSQL's text cannot hold NUL, and no field has a use for it: refused
    // here, once, rather than as a database error in whichever command.
    if escapes_nul(bytes) {
        return Err(ApiError(AppError::Validation {
            fields: vec![FieldError::new(
                "body",
                "text may not contain the NUL character (\\u0000)",
            )],
        })
        .into_response());
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                // "missing field `email` at line 1 column 2": name the field itself.
                let field = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next())
                    .map(|name| join(&path, name))
                    .unwrap_or_else(|| field_name(path));
                let message = without_position(&message).to_string();
                ApiError(AppError::Validation {
                    fields: vec![FieldError::new(field, message)],
                })
                .into_response()
            }
            _ => plain(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                format!(
                    "the body is not valid JSON: {} (line {}, column {})",
                    without_position(&inner.to_string()),
                    inner.line(),
                    inner.column()
                ),
            ),
        }
    })
}

/// Whether a JSON text escapes NUL (`\u0000`), the only way a JSON string can
/// hold it: a backslash that is itself escaped (`\\u0000`) does not count.
fn escapes_nul(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(at, w)| {
        w[0] == b'\\'
            && w[1] == b'u'
            && w[2..].iter().all(|&b| b == b'0')
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count()
                % 2
                == 0
    })
}

/// serde_json appends "at line L column C"; the problem states the position once.
fn without_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// serde_path_to_error names the root "."; clients know it as the body.
fn field_name(path: String) -> String {
    if path == "." { "body".into() } else { path }
}

fn join(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// A JSON body that may be left out entirely (no body, no content type), in which
/// case the defaults apply: `POST /keys/{id}/rotate` with no body rotates with
/// the default overlap.
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req.headers().get(header::CONTENT_TYPE).is_none()
            && req
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalJson(v))
    }
}

#[cfg(test)]
mod nul_tests {
    use super::escapes_nul;

    #[test]
    fn nul_escapes_are_found_but_escaped_backslashes_are_not() {
        assert!(escapes_nul(br#"{"name": "a\u0000b"}"#));
        assert!(escapes_nul(br#"{"name": "\\\u0000"}"#));
        assert!(!escapes_nul(br#"{"name": "\\u0000"}"#));
        assert!(!escapes_nul(br#"{"name": "\u0001"}"#));
    }
}
