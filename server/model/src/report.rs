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

/// A contract as a reader sees it: each operation with its parameters, request
/// body and responses, schemas flattened into field rows. Made by the contract
/// engine, shown by the console's contract view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Outline {
    pub title: String,
    pub description: String,
    pub operations: Vec<OperationOutline>,
    /// Some rows were left out: the outline stops at a depth and a size.
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationOutline {
    /// Upper-case (`GET`).
    pub method: String,
    pub path: String,
    pub summary: String,
    pub operation_id: Option<String>,
    pub deprecated: bool,
    /// Where the operation starts in the source.
    pub line: Option<u32>,
    pub parameters: Vec<ParameterOutline>,
    pub request: Vec<BodyOutline>,
    pub responses: Vec<ResponseOutline>,
    /// Scopes or schemes the operation asks for, as written (`oauth2: orders:read`).
    pub security: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterOutline {
    pub name: String,
    /// `path`, `query`, `header` or `cookie`.
    pub location: String,
    pub required: bool,
    pub type_label: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyOutline {
    pub media_type: String,
    /// The schema's own type (`Order`, `array of Line`).
    pub type_label: String,
    pub fields: Vec<FieldOutline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseOutline {
    pub status: String,
    pub description: String,
    pub bodies: Vec<BodyOutline>,
}

/// One property of a body, at any depth (`lines[].sku`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOutline {
    pub path: String,
    pub type_label: String,
    pub required: bool,
    pub description: String,
}

/// A version's contract as a reference, and the source line a pointer into
/// it starts on (`GET /versions/{id}/outline?at=/paths/~1orders/get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractOutline {
    pub outline: Outline,
    /// The pointer asked for, if any, and its line (none if it is not in the document).
    pub at: Option<String>,
    pub at_line: Option<u32>,
}

/// Source lines the console's contract view shows at most; a longer contract
/// shows the part around the place asked for, and the rest is a download away.
pub const MAX_SOURCE_LINES: usize = 5000;

/// The lines of a contract the page shows: all of them, or, in a contract
/// longer than [`MAX_SOURCE_LINES`], the part around the line asked for (the rest is
/// a download away), so that a 12 MB contract does not travel to the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceWindow {
    /// The 1-based number of the first line in `text`.
    pub first: usize,
    pub total: usize,
    pub text: String,
}

impl SourceWindow {
    pub fn around(source: &str, at_line: Option<u32>) -> SourceWindow {
        let total = source.lines().count();
        let (first, last) = match at_line.map(|l| l as usize) {
            _ if total <= MAX_SOURCE_LINES => (1, total),
            Some(l) => (
                l.saturating_sub(MAX_SOURCE_LINES / 2).max(1),
                (l + MAX_SOURCE_LINES / 2).min(total),
            ),
            None => (1, MAX_SOURCE_LINES),
        };
        let text = source
            .lines()
            .skip(first.saturating_sub(1))
            .take((last + 1).saturating_sub(first))
            .collect::<Vec<_>>()
            .join("\n");
        SourceWindow { first, total, text }
    }
}

#[cfg(test)]
mod source_window_tests {
    use super::*;

    #[test]
    fn a_long_contract_travels_as_the_window_around_the_line_asked_for() {
        let source: String = (1..=12_000).map(|n| format!("line {n}\n")).collect();
        let w = SourceWindow::around(&source, Some(9_000));
        assert_eq!((w.first, w.total), (9_000 - MAX_SOURCE_LINES / 2, 12_000));
        assert_eq!(w.text.lines().count(), MAX_SOURCE_LINES + 1);
        assert!(w.text.starts_with(&format!("line {}\n", w.first)));
        let w = SourceWindow::around(&source, None);
        assert_eq!((w.first, w.text.lines().count()), (1, MAX_SOURCE_LINES));
        let short = SourceWindow::around("a\nb\n", Some(2));
        assert_eq!(
            (short.first, short.total, short.text.as_str()),
            (1, 2, "a\nb")
        );
    }
}
