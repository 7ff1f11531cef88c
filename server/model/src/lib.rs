//! Shared view types: the one definition of what the console shows and what the
//! admin REST API sends. Compiled for the server and for WASM, so keep it free of
//! server-only dependencies.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

/// A console role. Roles are flat, not a ladder: a reviewer approves releases but
/// cannot manage users, an owner edits the APIs of their teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Reviewer,
    Owner,
    #[default]
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Reviewer, Role::Owner, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Owner => "owner",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Session,
    AccessToken,
}

/// The signed-in user as every layer sees it. The role is read from the database on
/// each request, so a role change or a disable takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub auth: AuthMethod,
}

impl Principal {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }

    /// Passes if the caller holds one of `roles`; otherwise a 403 that says
    /// what `doing` needs. The services decide with it, and the console uses it
    /// to show a refusal without asking for what it would be refused.
    pub fn require(&self, roles: &[Role], doing: &str) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(AppError::forbidden(format!(
            "{doing} needs the {} role; you are signed in as {}",
            names.join(" or "),
            self.role
        )))
    }
}

/// One invalid input field, named as the form or JSON body names it. Errors inside
/// an uploaded document also say where: line and column, or a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            line: None,
            column: None,
            pointer: None,
        }
    }
}

/// Every failure a command can report, shared by console and API. The admin API
/// renders it as RFC 9457 problem+json; the console renders it inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// 401: no valid session or token.
    #[error("sign in to continue")]
    Unauthorized,
    /// 401 at sign-in: deliberately the same for an unknown email and a wrong password.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    /// 403: signed in, but the role does not allow this.
    #[error("{message}")]
    Forbidden { message: String },
    /// 404.
    #[error("{what} not found")]
    NotFound { what: String },
    /// 422: input that parsed but does not make sense, field by field.
    #[error("{}", summarize(.fields))]
    Validation { fields: Vec<FieldError> },
    /// 409: the command clashes with current state (duplicate email, ...).
    #[error("{message}")]
    Conflict {
        message: String,
        field: Option<String>,
    },
    /// 429.
    #[error("too many attempts; try again in {}", human_wait(*.retry_after_secs))]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a bounded resource (password verification) is busy; nothing was tried.
    #[error("the server is busy; try again in {}", human_wait(*.retry_after_secs))]
    Busy { retry_after_secs: u64 },
    /// 500. Details are logged on the server under `reference`, never sent.
    #[error("something went wrong on our side (reference {reference})")]
    Internal { reference: String },
    /// The request never reached a handler: network, decoding, or a server fn error.
    #[error("{message}")]
    Transport { message: String },
}

fn summarize(fields: &[FieldError]) -> String {
    match fields {
        [one] => format!("{}: {}", one.field, one.message),
        _ => format!("{} fields are invalid", fields.len()),
    }
}

fn human_wait(secs: u64) -> String {
    if secs < 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

impl AppError {
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            fields: vec![FieldError::new(field, message)],
        }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The message for one form field, if this error names it.
    pub fn field_message(&self, name: &str) -> Option<String> {
        match self {
            AppError::Validation { fields } => fields
                .iter()
                .find(|f| f.field == name)
                .map(|f| f.message.clone()),
            AppError::Conflict {
                message,
                field: Some(field),
            } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// HTTP status this error maps to, used by both the API and server functions.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized | AppError::InvalidCredentials => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Validation { .. } => 422,
            AppError::Conflict { .. } => 409,
            AppError::TooManyRequests { .. } => 429,
            AppError::Busy { .. } => 503,
            AppError::Internal { .. } => 500,
            AppError::Transport { .. } => 502,
        }
    }
}

#[cfg(feature = "server-fn")]
pub use wire::{JsonPost, JsonText};

/// How the console's server functions carry values and errors.
#[cfg(feature = "server-fn")]
mod wire {
    use super::AppError;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

    impl server_fn::error::FromServerFnError for AppError {
        type Encoder = JsonText;

        fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
            AppError::Transport {
                message: value.to_string(),
            }
        }
    }

    /// JSON for the console's server functions, read from text rather than bytes.
    ///
    /// Leptos reads the resources it hydrates with `serde_json::from_str`, while
    /// server_fn's own JSON codec reads answers with `from_slice`; every type the
    /// console both hydrates and fetches was compiled into the browser's WASM once
    /// per reader. Reading answers as text too keeps one deserializer per type.
    pub struct JsonText;

    /// [`JsonText`] in the body of a `POST`, as the console's server functions answer.
    pub type JsonPost = server_fn::codec::Post<JsonText>;

    impl ContentType for JsonText {
        const CONTENT_TYPE: &'static str = "application/json";
    }

    impl FormatType for JsonText {
        const FORMAT_TYPE: Format = Format::Text;
    }

    impl<T: Serialize> Encodes<T> for JsonText {
        type Error = serde_json::Error;

        fn encode(output: &T) -> Result<Bytes, Self::Error> {
            serde_json::to_vec(output).map(Bytes::from)
        }
    }

    impl<T: DeserializeOwned> Decodes<T> for JsonText {
        type Error = serde_json::Error;

        fn decode(bytes: Bytes) -> Result<T, Self::Error> {
            let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
            serde_json::from_str(text)
        }
    }
}

/// Collects field errors so a form reports all of them at once, not one per submit.
#[derive(Debug, Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) -> &mut Self {
        if !ok {
            self.0.push(FieldError::new(field, message));
        }
        self
    }

    /// A non-blank value of at most `max` characters (characters, not bytes), trimmed.
    pub fn text(&mut self, value: &str, field: &str, what: &str, max: usize) -> &mut Self {
        let value = value.trim();
        let ok = !value.is_empty() && value.chars().count() <= max;
        self.check(
            ok,
            field,
            &format!("enter {what} of at most {max} characters"),
        )
    }

    pub fn finish(&mut self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation {
                fields: std::mem::take(&mut self.0),
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub members: Vec<TeamMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTeam {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the token, enough to recognise it in a list.
    pub prefix: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    pub name: String,
    /// Days until the token expires; none means it lives until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// Returned once, at creation. The secret is never stored or shown again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    /// Keyset pagination: entries strictly older than this sequence number.
    #[serde(default)]
    pub before_seq: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before_seq: Option<i64>,
}

/// Result of walking the audit hash chain from the first row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainReport {
    pub intact: bool,
    pub checked: i64,
    pub first_broken_seq: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub users: i64,
    pub active_users: i64,
    pub teams: i64,
    pub access_tokens: i64,
    pub audit_entries: i64,
    pub apis: i64,
    pub live_versions: i64,
    /// Versions waiting for a reviewer.
    pub in_review: i64,
    pub users_by_role: Vec<(Role, i64)>,
    pub recent_activity: Vec<AuditEntry>,
    /// SLOs with less than a quarter of their error budget left, least first.
    pub slos_at_risk: Vec<SloView>,
    /// What awaits the caller, and what reviewers decided on the caller's
    /// versions in the last 14 days, newest first.
    #[serde(default)]
    pub notices: Vec<Notice>,
}

/// Something for the signed-in user to know or do, with where to do it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub text: String,
    pub href: String,
    /// `action` (something awaits you), `good` or `bad` (a decision).
    pub tone: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<time::OffsetDateTime>,
}

pub mod location;
mod partners;
mod registry;
mod report;
mod slo;
mod traffic;
pub use partners::*;
pub use registry::*;
pub use report::*;
pub use slo::*;
pub use traffic::*;

/// `url` with the password (or token) of its user information masked, for
/// showing and auditing: `http://erp:s3cret@host/` reads `http://erp:***@host/`.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let masked = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_string(),
    };
    format!("{scheme}://{masked}@{host}{tail}")
}

#[cfg(test)]
mod credential_tests {
    use super::without_credentials;

    #[test]
    fn credentials_in_urls_are_masked() {
        assert_eq!(
            without_credentials("http://erp:s3cret@erp.internal:8069/api"),
            "http://erp:***@erp.internal:8069/api"
        );
        assert_eq!(
            without_credentials("https://tok3n@erp.example/x?a=b@c"),
            "https://***@erp.example/x?a=b@c"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1:9000/orders"),
            "http://127.0.0.1:9000/orders"
        );
    }
}
