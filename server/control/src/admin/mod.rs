//! The admin REST API under `/api/v1` (control plane). Handlers are thin: they
//! extract, call a service, and shape the answer. Services check roles.
//!
//! [`ROUTES`] is the single list of routes; the router is built from it and a test
//! checks it against `specs/steward-admin.yaml` in both directions.

pub mod apis;
pub mod audit;
pub mod credentials;
pub mod csrf;
pub mod json;
pub mod lint;
pub mod partners;
pub mod principal;
pub mod problem;
pub mod session;
pub mod slo;
pub mod teams;
pub mod tokens;
pub mod traffic;
pub mod users;

use crate::state::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use http::StatusCode;
use http::request::Parts;
use problem::{ApiError, plain};
use steward_model::{AppError, Principal};

/// Largest accepted request body. Contract uploads will need their own, larger limit.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Contract uploads: a 25 MB document, JSON-escaped inside the request body.
pub const UPLOAD_LIMIT: usize = 2 * crate::registry::versions::MAX_SPEC_BYTES;

type Handler = fn() -> MethodRouter<AppState>;

/// Every admin route: method, path (axum syntax, relative to `/api/v1`), handler.
pub const ROUTES: &[(&str, &str, Handler)] = &[
    ("GET", "/me", || axum::routing::get(session::me)),
    ("POST", "/session", || axum::routing::post(session::sign_in)),
    ("DELETE", "/session", || {
        axum::routing::delete(session::sign_out)
    }),
    ("GET", "/overview", || axum::routing::get(session::overview)),
    ("GET", "/users", || axum::routing::get(users::list_users)),
    ("POST", "/users", || axum::routing::post(users::create_user)),
    ("GET", "/users/{id}", || axum::routing::get(users::get_user)),
    ("PATCH", "/users/{id}", || {
        axum::routing::patch(users::update_user)
    }),
    ("GET", "/teams", || axum::routing::get(teams::list_teams)),
    ("POST", "/teams", || axum::routing::post(teams::create_team)),
    ("GET", "/teams/{id}", || axum::routing::get(teams::get_team)),
    ("DELETE", "/teams/{id}", || {
        axum::routing::delete(teams::delete_team)
    }),
    ("PUT", "/teams/{id}/members/{user_id}", || {
        axum::routing::put(teams::add_member)
    }),
    ("DELETE", "/teams/{id}/members/{user_id}", || {
        axum::routing::delete(teams::remove_member)
    }),
    ("GET", "/tokens", || axum::routing::get(tokens::list_tokens)),
    ("POST", "/tokens", || {
        axum::routing::post(tokens::create_token)
    }),
    ("DELETE", "/tokens/{id}", || {
        axum::routing::delete(tokens::revoke_token)
    }),
    ("GET", "/apis", || axum::routing::get(apis::list_apis)),
    ("POST", "/apis", || axum::routing::post(apis::create_api)),
    ("GET", "/apis/{id}", || axum::routing::get(apis::get_api)),
    ("PATCH", "/apis/{id}", || {
        axum::routing::patch(apis::update_api)
    }),
    ("GET", "/apis/{id}/versions", || {
        axum::routing::get(apis::list_versions)
    }),
    ("POST", "/apis/{id}/versions", || {
        axum::routing::post(apis::upload_version)
            .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT))
    }),
    ("GET", "/apis/{id}/diff", || {
        axum::routing::get(apis::diff_versions)
    }),
    ("GET", "/reviews", || axum::routing::get(apis::review_queue)),
    ("GET", "/versions/{id}", || {
        axum::routing::get(apis::get_version)
    }),
    ("GET", "/versions/{id}/spec", || {
        axum::routing::get(apis::get_version_spec)
    }),
    ("GET", "/versions/{id}/outline", || {
        axum::routing::get(apis::get_version_outline)
    }),
    ("POST", "/versions/{id}/submit", || {
        axum::routing::post(apis::submit_version)
    }),
    ("POST", "/versions/{id}/review", || {
        axum::routing::post(apis::review_version)
    }),
    ("POST", "/versions/{id}/withdraw", || {
        axum::routing::post(apis::withdraw_version)
    }),
    ("POST", "/versions/{id}/send-back", || {
        axum::routing::post(apis::send_back_version)
    }),
    ("POST", "/versions/{id}/publish", || {
        axum::routing::post(apis::publish_version)
    }),
    ("POST", "/versions/{id}/deprecate", || {
        axum::routing::post(apis::deprecate_version)
    }),
    ("POST", "/versions/{id}/retire", || {
        axum::routing::post(apis::retire_version)
    }),
    ("GET", "/lint/rules", || {
        axum::routing::get(lint::list_lint_rules)
    }),
    ("PUT", "/lint/rules/{id}", || {
        axum::routing::put(lint::update_lint_rule)
    }),
    ("GET", "/plans", || axum::routing::get(partners::list_plans)),
    ("POST", "/plans", || {
        axum::routing::post(partners::create_plan)
    }),
    ("GET", "/plans/{id}", || {
        axum::routing::get(partners::get_plan)
    }),
    ("PATCH", "/plans/{id}", || {
        axum::routing::patch(partners::update_plan)
    }),
    ("GET", "/consumers", || {
        axum::routing::get(partners::list_consumers)
    }),
    ("POST", "/consumers", || {
        axum::routing::post(partners::create_consumer)
    }),
    ("GET", "/consumers/{id}", || {
        axum::routing::get(partners::get_consumer)
    }),
    ("PATCH", "/consumers/{id}", || {
        axum::routing::patch(partners::update_consumer)
    }),
    ("POST", "/consumers/{id}/applications", || {
        axum::routing::post(partners::create_application)
    }),
    ("GET", "/applications/{id}", || {
        axum::routing::get(partners::get_application)
    }),
    ("POST", "/applications/{id}/keys", || {
        axum::routing::post(credentials::create_key)
    }),
    ("POST", "/applications/{id}/oauth-clients", || {
        axum::routing::post(credentials::create_client)
    }),
    ("GET", "/subscriptions", || {
        axum::routing::get(partners::list_subscriptions)
    }),
    ("POST", "/subscriptions", || {
        axum::routing::post(partners::create_subscription)
    }),
    ("GET", "/subscriptions/{id}", || {
        axum::routing::get(partners::get_subscription)
    }),
    ("POST", "/subscriptions/{id}/approve", || {
        axum::routing::post(partners::approve_subscription)
    }),
    ("POST", "/subscriptions/{id}/suspend", || {
        axum::routing::post(partners::suspend_subscription)
    }),
    ("POST", "/subscriptions/{id}/resume", || {
        axum::routing::post(partners::resume_subscription)
    }),
    ("POST", "/subscriptions/{id}/cancel", || {
        axum::routing::post(partners::cancel_subscription)
    }),
    ("POST", "/keys/{id}/rotate", || {
        axum::routing::post(credentials::rotate_key)
    }),
    ("DELETE", "/keys/{id}", || {
        axum::routing::delete(credentials::revoke_key)
    }),
    ("POST", "/oauth-clients/{id}/rotate", || {
        axum::routing::post(credentials::rotate_client)
    }),
    ("DELETE", "/oauth-clients/{id}", || {
        axum::routing::delete(credentials::revoke_client)
    }),
    ("GET", "/signing-keys", || {
        axum::routing::get(credentials::list_signing_keys)
    }),
    ("POST", "/signing-keys/rotate", || {
        axum::routing::post(credentials::rotate_signing_key)
    }),
    ("POST", "/signing-keys/{kid}/revoke", || {
        axum::routing::post(credentials::revoke_signing_key)
    }),
    ("GET", "/gateways", || {
        axum::routing::get(traffic::list_gateways)
    }),
    ("GET", "/upstream-policy", || {
        axum::routing::get(traffic::get_upstream_policy)
    }),
    ("PUT", "/upstream-policy", || {
        axum::routing::put(traffic::put_upstream_policy)
    }),
    ("GET", "/versions/{id}/traffic", || {
        axum::routing::get(traffic::version_traffic)
    }),
    ("GET", "/versions/{id}/drift", || {
        axum::routing::get(traffic::version_drift)
    }),
    ("GET", "/slos", || axum::routing::get(slo::list_slos)),
    ("POST", "/slos", || axum::routing::post(slo::create_slo)),
    ("GET", "/slos/{id}", || axum::routing::get(slo::get_slo)),
    ("PATCH", "/slos/{id}", || {
        axum::routing::patch(slo::update_slo)
    }),
    ("DELETE", "/slos/{id}", || {
        axum::routing::delete(slo::delete_slo)
    }),
    ("GET", "/slos/{id}/openslo", || {
        axum::routing::get(slo::export_slo)
    }),
    ("POST", "/slos/openslo", || {
        axum::routing::post(slo::import_slo)
    }),
    ("GET", "/slos/{id}/alerts", || {
        axum::routing::get(slo::slo_alerts)
    }),
    ("GET", "/slos/{id}/series", || {
        axum::routing::get(slo::slo_series)
    }),
    ("GET", "/apis/{id}/traffic", || {
        axum::routing::get(traffic::api_traffic)
    }),
    ("GET", "/deprecations", || {
        axum::routing::get(traffic::deprecations)
    }),
    ("GET", "/audit", || axum::routing::get(audit::list_audit)),
    ("GET", "/audit/verify", || {
        axum::routing::get(audit::verify_audit)
    }),
];

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (_, path, handler) in ROUTES {
        router = router.route(path, handler());
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}

async fn not_found(req: Request) -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("no admin API route matches {}", req.uri().path()),
    )
}

async fn method_not_allowed(req: Request) -> Response {
    plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

/// The authenticated caller; 401 problem+json when there is none.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError(AppError::Unauthorized).into_response())
    }
}

/// Path parameters that must be UUIDs; a malformed one is a 404, not a 400, since
/// no such resource can exist.
pub struct Id(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError(AppError::not_found("resource")).into_response())?;
        raw.parse()
            .map(Id)
            .map_err(|_| ApiError(AppError::not_found("resource")).into_response())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
