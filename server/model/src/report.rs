//! Report types of the contract engines (lint findings and breaking changes),
//! shared by the engines, the admin API, the CLI and the console.

use serde::{Deserialize, Serialize};

/// Breaking-change level, as oasdiff users know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Non-breaking.
    Info,
    /// Potentially breaking.
    Warning,
    /// Breaking.
    Error,
}

/// One difference between a base and a revision contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Stable kebab-case check id, oasdiff's where one matches (`request-parameter-removed`).
    pub id: String,
    pub level: Level,
    /// `"GET /orders/{}"`-style operation (method upper-case, path as written in the
    /// revision or, if removed, the base), or `None` for document-level changes.
    pub operation: Option<String>,
    /// The API path as written (`/orders/{orderId}`), if the change is under one.
    pub path: Option<String>,
    /// RFC 6901 JSON pointers into the base and revision documents, where each exists.
    pub base_pointer: Option<String>,
    pub revision_pointer: Option<String>,
    /// Human-readable, one sentence.
    pub text: String,
}

/// Lint severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, kebab-case (`operation-id-unique`).
    pub rule: String,
    pub severity: Severity,
    /// RFC 6901 JSON pointer into the document.
    pub pointer: String,
    /// 1-based line in the source text, where known.
    pub line: Option<u32>,
    pub message: String,
}

/// Description of a lint rule, for listing and for organisation-level overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub default_severity: Severity,
    pub description: String,
}
