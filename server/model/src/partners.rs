//! View types of partner access: consumers, applications, plans, subscriptions,
//! API keys, OAuth2 clients and the token server's signing keys. No type here
//! carries secret material except the `Created*`/`Rotated*` answers, which exist
//! only in the response that shows a secret once (shared types).

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Where an application runs. Sandbox keys are `stw_test_…`, production `stw_live_…`.
    Environment { Sandbox => "sandbox", Production => "production" }
);
string_enum!(
    /// A partner organisation, or a team inside the company.
    ConsumerKind { Partner => "partner", Internal => "internal" }
);
string_enum!(
    /// `pending → active ⇄ suspended`, and `cancelled` from any state.
    SubscriptionState {
        Pending => "pending",
        Active => "active",
        Suspended => "suspended",
        Cancelled => "cancelled",
    }
);
string_enum!(
    /// What a credential can do right now.
    CredentialStatus {
        Active => "active",
        Expiring => "expiring",
        Expired => "expired",
        Revoked => "revoked",
    }
);

impl CredentialStatus {
    /// Expiring means "within a week": enough notice to rotate calmly.
    pub fn of(
        now: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
        revoked_at: Option<OffsetDateTime>,
    ) -> Self {
        match (revoked_at, expires_at) {
            (Some(_), _) => CredentialStatus::Revoked,
            (None, Some(at)) if at <= now => CredentialStatus::Expired,
            (None, Some(at)) if at - now <= time::Duration::days(7) => CredentialStatus::Expiring,
            _ => CredentialStatus::Active,
        }
    }
}

/// Rate and quotas; the gateway enforces them per application and API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub rate_per_second: i32,
    pub burst: i32,
    pub daily_quota: Option<i64>,
    pub monthly_quota: Option<i64>,
    pub environments: Vec<Environment>,
    /// Subscriptions that are not cancelled.
    pub subscriptions: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPlan {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub rate_per_second: i32,
    pub burst: i32,
    #[serde(default)]
    pub daily_quota: Option<i64>,
    #[serde(default)]
    pub monthly_quota: Option<i64>,
    pub environments: Vec<Environment>,
}

/// Absent fields stay as they are. A quota of `0` removes the quota.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub rate_per_second: Option<i32>,
    #[serde(default)]
    pub burst: Option<i32>,
    #[serde(default)]
    pub daily_quota: Option<i64>,
    #[serde(default)]
    pub monthly_quota: Option<i64>,
    #[serde(default)]
    pub environments: Option<Vec<Environment>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: String,
    /// e.g. "technical", "business", "on-call".
    #[serde(default)]
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub kind: ConsumerKind,
    pub description: String,
    pub contacts: Vec<Contact>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub applications: i64,
    pub active_subscriptions: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConsumer {
    pub slug: String,
    pub name: String,
    pub kind: ConsumerKind,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<ConsumerKind>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub contacts: Option<Vec<Contact>>,
}

/// A consumer with everything under it, as its detail page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerDetail {
    #[serde(flatten)]
    pub consumer: ConsumerView,
    pub application_details: Vec<ApplicationDetail>,
    /// The caller may issue credentials and manage applications.
    pub can_manage: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationView {
    pub id: Uuid,
    pub consumer_id: Uuid,
    pub consumer_slug: String,
    pub consumer_name: String,
    pub name: String,
    pub environment: Environment,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApplication {
    pub name: String,
    pub environment: Environment,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetail {
    #[serde(flatten)]
    pub application: ApplicationView,
    pub subscriptions: Vec<SubscriptionView>,
    pub keys: Vec<ApiKeyView>,
    pub oauth_clients: Vec<OAuthClientView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub application_name: String,
    pub environment: Environment,
    pub consumer_id: Uuid,
    pub consumer_name: String,
    pub api_id: Uuid,
    pub api_slug: String,
    pub api_name: String,
    pub api_tier: super::Tier,
    /// The major version line, e.g. `2` for every 2.x release.
    pub major: i32,
    pub plan: PlanRef,
    pub scopes: Vec<String>,
    pub state: SubscriptionState,
    pub state_reason: Option<String>,
    pub requested_by: Option<String>,
    pub approved_by: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub approved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The caller may approve, suspend, resume or cancel it.
    pub can_decide: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSubscription {
    pub application_id: Uuid,
    /// API id or slug.
    pub api: String,
    /// Defaults to the major line of the API's current published version.
    #[serde(default)]
    pub major: Option<i32>,
    /// Plan id or slug.
    pub plan: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFilter {
    #[serde(default)]
    pub state: Option<SubscriptionState>,
    /// API id or slug.
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub application: Option<Uuid>,
}

/// A decision on a subscription: approve, suspend, resume or cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionDecision {
    Approve,
    Suspend,
    Resume,
    Cancel,
}

impl SubscriptionDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionDecision::Approve => "approve",
            SubscriptionDecision::Suspend => "suspend",
            SubscriptionDecision::Resume => "resume",
            SubscriptionDecision::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            SubscriptionDecision::Approve,
            SubscriptionDecision::Suspend,
            SubscriptionDecision::Resume,
            SubscriptionDecision::Cancel,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionNote {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub name: String,
    pub environment: Environment,
    /// `stw_live_<lookup-id>`: identifies the key in logs and support tickets.
    pub prefix: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub rotated_from: Option<Uuid>,
    pub status: CredentialStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub name: String,
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// The only answer that contains a key. Shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// How long the old credential keeps working; 0 ends it at once.
    #[serde(default = "default_overlap")]
    pub overlap_hours: u32,
}

fn default_overlap() -> u32 {
    24
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            overlap_hours: default_overlap(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedApiKey {
    pub previous: ApiKeyView,
    pub key: ApiKeyView,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecretView {
    pub id: Uuid,
    /// The last four characters, to tell secrets apart during an overlap.
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub status: CredentialStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClientView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub name: String,
    pub client_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub created_by: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    pub secrets: Vec<ClientSecretView>,
    pub status: CredentialStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOAuthClient {
    pub name: String,
}

/// The only answer that contains a client secret. Shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedOAuthClient {
    pub client: OAuthClientView,
    pub client_secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub algorithm: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    /// Until when the public key stays in the JWKS.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub publish_until: Option<OffsetDateTime>,
    /// Revoked as compromised: out of the JWKS, its tokens refused.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub active: bool,
}

/// Everything the consumer page needs, in one round trip: the consumer, and the
/// plans and APIs its subscribe forms offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerPage {
    pub detail: ConsumerDetail,
    pub plans: Vec<PlanView>,
    pub apis: Vec<super::ApiView>,
}
