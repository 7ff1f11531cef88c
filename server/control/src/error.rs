//! The server-side error type. Domain failures travel as [`AppError`] (shared with
//! the console); database and unexpected failures are logged here with a reference
//! and reach the client only as that reference.

use steward_model::AppError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Unique constraints that users can hit, and the field and message they mean.
const CONFLICTS: &[(&str, &str, &str)] = &[
    (
        "users_email_key",
        "email",
        "a user with this email already exists",
    ),
    (
        "teams_slug_key",
        "slug",
        "a team with this slug already exists",
    ),
    (
        "apis_slug_key",
        "slug",
        "an API with this slug already exists",
    ),
    (
        "plans_slug_key",
        "slug",
        "a plan with this slug already exists",
    ),
    (
        "consumers_slug_key",
        "slug",
        "a consumer with this slug already exists",
    ),
    (
        "applications_name_key",
        "name",
        "this consumer already has an application with that name",
    ),
    (
        "subscriptions_line_key",
        "api",
        "this application already has a subscription to that API's major line; cancel it first",
    ),
    (
        "slos_name_key",
        "name",
        "this API already has an SLO with that name",
    ),
    (
        "api_versions_version_key",
        "version",
        "this API already has that version; upload it under a new version number",
    ),
];

impl Error {
    /// What the client may see. Internal details stay in the log.
    pub fn into_app(self) -> AppError {
        match self {
            Error::App(e) => e,
            Error::Db(e) => {
                let constraint = e.as_database_error().and_then(|d| d.constraint());
                if let Some((_, field, message)) =
                    constraint.and_then(|c| CONFLICTS.iter().find(|(name, _, _)| *name == c))
                {
                    return AppError::conflict(*field, *message);
                }
                internal(&e)
            }
            Error::Other(e) => internal(&*e),
        }
    }
}

fn internal(e: &dyn std::fmt::Display) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    tracing::error!(%reference, error = %e, "internal error");
    AppError::Internal { reference }
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        e.into_app()
    }
}
