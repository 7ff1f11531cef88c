//! View types of the contract registry: APIs, versions, reviews and lifecycle (shared types).

use super::{Change, Finding, Severity};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// How much of the business stops when the API does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Critical,
    #[default]
    Standard,
    Low,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Critical, Tier::Standard, Tier::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Critical => "critical",
            Tier::Standard => "standard",
            Tier::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Suggested business capabilities; free text is allowed too.
pub const CAPABILITIES: [&str; 8] = [
    "orders",
    "inventory",
    "fulfillment",
    "returns",
    "payments",
    "customers",
    "catalog",
    "pricing",
];

/// Lifecycle of a contract version:
/// `draft → in_review → approved → published → deprecated → retired`, and `rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    Draft,
    InReview,
    Approved,
    Published,
    Deprecated,
    Retired,
    Rejected,
}

impl VersionState {
    pub const ALL: [VersionState; 7] = [
        VersionState::Draft,
        VersionState::InReview,
        VersionState::Approved,
        VersionState::Published,
        VersionState::Deprecated,
        VersionState::Retired,
        VersionState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Draft => "draft",
            VersionState::InReview => "in_review",
            VersionState::Approved => "approved",
            VersionState::Published => "published",
            VersionState::Deprecated => "deprecated",
            VersionState::Retired => "retired",
            VersionState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<VersionState> {
        VersionState::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Live on the gateway: published or deprecated.
    pub fn is_live(self) -> bool {
        matches!(self, VersionState::Published | VersionState::Deprecated)
    }
}

impl VersionState {
    /// The state as people read it.
    pub fn label(self) -> &'static str {
        match self {
            VersionState::Draft => "draft",
            VersionState::InReview => "in review",
            VersionState::Approved => "approved",
            VersionState::Published => "published",
            VersionState::Deprecated => "deprecated",
            VersionState::Retired => "retired",
            VersionState::Rejected => "rejected",
        }
    }
}

impl fmt::Display for VersionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub team: TeamRef,
    pub description: String,
    pub capability: String,
    pub tier: Tier,
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The newest live version, if any.
    pub current_version: Option<String>,
    pub version_count: i64,
    /// How the gateway validates requests to this API.
    pub validation_mode: ValidationMode,
    /// Whether the caller may edit this API and manage its versions.
    pub can_edit: bool,
}

/// How the gateway treats requests that do not match the contract: refuse them
/// (400), let them through and record the violations, or not check at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ValidationMode {
    #[default]
    Enforce,
    Report,
    Off,
}

impl ValidationMode {
    pub const ALL: [ValidationMode; 3] = [
        ValidationMode::Enforce,
        ValidationMode::Report,
        ValidationMode::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ValidationMode::Enforce => "enforce",
            ValidationMode::Report => "report",
            ValidationMode::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<ValidationMode> {
        ValidationMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewApi {
    pub slug: String,
    pub name: String,
    pub team_id: Uuid,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub capability: String,
    #[serde(default)]
    pub tier: Tier,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub validation_mode: ValidationMode,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub team_id: Option<Uuid>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub capability: Option<String>,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub validation_mode: Option<ValidationMode>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiFilter {
    /// Matches name, slug, description and tags.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub capability: Option<String>,
    /// APIs with at least one version in this state (`in_review` finds what
    /// awaits a reviewer).
    #[serde(default)]
    pub state: Option<VersionState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub id: Uuid,
    pub api_id: Uuid,
    pub version: String,
    pub state: VersionState,
    pub base_path: String,
    pub upstream_url: String,
    pub operations: i32,
    pub lint_errors: i32,
    pub lint_warnings: i32,
    /// Breaking changes against the version it was compared to, once submitted.
    pub breaking: Option<i32>,
    pub uploaded_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    pub sunset_date: Option<Date>,
}

/// A version waiting for review, as the review queue lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    #[serde(flatten)]
    pub summary: VersionSummary,
    pub api_slug: String,
    pub api_name: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// Approving needs a waiver: it breaks the live version of its major line.
    pub needs_waiver: bool,
    /// A release number that does not fit the changes, in words.
    pub semver: Option<String>,
    /// The caller uploaded it, so another reviewer must review it.
    pub yours: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeReport {
    /// The version the revision was compared to; none for an API's first version.
    pub base_version: Option<String>,
    pub base_id: Option<Uuid>,
    /// Why that version is the base, in a sentence ("the latest published
    /// version of major line 1").
    #[serde(default)]
    pub basis: Option<String>,
    /// The base's state when the report was made.
    #[serde(default)]
    pub base_state: Option<VersionState>,
    /// What is wrong with the release number given these changes, and the
    /// fix: breaking changes under a minor or patch bump, or a version that
    /// is not newer than its base.
    #[serde(default)]
    pub semver: Option<String>,
    /// Publishing needs a reviewer's waiver: there are breaking changes
    /// against the live version of the same major line.
    #[serde(default)]
    pub needs_waiver: bool,
    pub revision_version: String,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub changes: Vec<Change>,
    /// Why each check in `changes` matters to clients and what to do, once per check.
    #[serde(default)]
    pub guidance: Vec<CheckGuidance>,
}

/// Why a check's change matters to clients, and what the owner can do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckGuidance {
    pub check: String,
    pub why: String,
    pub what_to_do: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionView {
    #[serde(flatten)]
    pub summary: VersionSummary,
    pub api_slug: String,
    pub api_name: String,
    pub spec_format: String,
    pub spec_sha256: String,
    pub lint: Vec<Finding>,
    pub report: Option<ChangeReport>,
    pub waiver_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub review_comment: Option<String>,
    pub successor: Option<String>,
    pub retire_reason: Option<String>,
    /// What the caller may do next, so the console shows only possible actions.
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVersion {
    /// The release number; blank or absent means the contract's `info.version`.
    #[serde(default)]
    pub version: String,
    pub base_path: String,
    pub upstream_url: String,
    /// The OpenAPI 3.0 document, YAML or JSON text.
    pub spec: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    pub approve: bool,
    #[serde(default)]
    pub comment: String,
    /// Accepts the breaking changes under the same major version, with a reason.
    #[serde(default)]
    pub waiver: Option<String>,
}

/// A reviewer sends an approved version back to review, saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendBack {
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deprecation {
    pub sunset_date: Date,
    pub successor_id: Uuid,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Retirement {
    /// Admins may retire before the sunset date, with a reason.
    #[serde(default)]
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LintRuleSetting {
    pub id: String,
    pub description: String,
    pub default_severity: Severity,
    /// Effective severity; none when switched off.
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LintRulePatch {
    /// None switches the rule off.
    pub severity: Option<Severity>,
}

/// A lifecycle step requested from the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Transition {
    Submit,
    Review(ReviewDecision),
    Withdraw,
    SendBack(SendBack),
    Publish,
    Deprecate(Deprecation),
    Retire(Retirement),
}
