//! Breaking-change detection between two OpenAPI 3.0 documents.
//!
//! [`diff`] walks both documents operation by operation and reports every
//! difference a client could notice as a [`Change`], classified by [`Level`]:
//! `Error` breaks existing clients, `Warning` may break some, `Info` does not.
//! Check ids are oasdiff's where one matches, so users can carry their
//! suppressions and muscle memory over.
//!
//! Conventions that hold throughout:
//! - Operations are matched on method plus path with template variables
//!   normalised to `{}`: `/orders/{id}` and `/orders/{orderId}` are the same
//!   endpoint, and path parameters are matched by position, not name.
//! - Direction decides the level. Requests are contravariant: narrowing what the
//!   server accepts is breaking, widening is not. Responses are covariant:
//!   widening what the server may return is breaking, narrowing is not.
//! - Pointers are RFC 6901 and always resolve in their document: each names the
//!   node that differs, following `$ref`, so a difference inside a shared
//!   component points into `/components/...`. A pointer is `None` on the side
//!   where the node does not exist (an added or removed element).
//! - Schema comparison remembers which (base, revision) node pairs it has
//!   compared for the current operation, which both stops recursive schemas and
//!   reports a change inside a shared component once per operation. Across
//!   operations it remembers which pairs have no difference at or below them, so
//!   the unchanged bulk of a large document is walked once, not per operation.
//! - Nothing here panics on any input, however malformed: lookups are fallible
//!   and recursion is bounded.

mod ops;
mod params;
mod refs;
mod render;
mod request;
mod responses;
mod schema;
mod security;
mod sunset;
mod util;
mod view;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use openapiv3::OpenAPI;
use time::Date;

use steward_model::{Change, Level};

pub use render::{Summary, summary, to_markdown, to_text, worst};

/// Settings for one comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// The base version's sunset date: a deprecated operation without its own
    /// `x-sunset` may be removed on or after this date without it being breaking.
    pub base_sunset: Option<Date>,
}

/// Compares `revision` against `base` and returns the differences, sorted by
/// operation, then id, then pointers.
pub fn diff(base: &OpenAPI, revision: &OpenAPI, options: &DiffOptions) -> Vec<Change> {
    diff_at(
        base,
        revision,
        options,
        time::OffsetDateTime::now_utc().date(),
    )
}

/// [`diff`] with "today" fixed, so sunset handling can be tested at any date.
pub(crate) fn diff_at(
    base: &OpenAPI,
    revision: &OpenAPI,
    options: &DiffOptions,
    today: Date,
) -> Vec<Change> {
    let mut changes = Vec::new();
    ops::compare(base, revision, options, today, &mut changes);
    ops::compare_components(base, revision, &mut changes);
    // Tests run in debug: a check id or level that the catalogue does not
    // declare fails them, so the catalogue cannot fall behind the checks.
    debug_assert!(
        changes
            .iter()
            .all(|c| crate::catalogue::find(&c.id).is_some_and(|check| c.level <= check.level)),
        "a change outside the check catalogue: {:?}",
        changes
            .iter()
            .find(|c| crate::catalogue::find(&c.id).is_none_or(|check| c.level > check.level))
            .map(|c| (&c.id, c.level))
    );
    changes.sort_by(|a, b| {
        (
            &a.operation,
            &a.id,
            &a.base_pointer,
            &a.revision_pointer,
            a.level,
            &a.text,
        )
            .cmp(&(
                &b.operation,
                &b.id,
                &b.base_pointer,
                &b.revision_pointer,
                b.level,
                &b.text,
            ))
    });
    // The per-operation memo already prevents repeats inside schemas; this
    // catches identical findings reached along two routes (e.g. the same header
    // component under two media types).
    changes.dedup();
    changes
}

/// Which part of an operation a schema belongs to. It picks the id prefix and,
/// through [`Scope::is_request`], the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    Parameter,
    RequestBody,
    ResponseBody,
    ResponseHeader,
}

impl Scope {
    pub(crate) fn is_request(self) -> bool {
        matches!(self, Scope::Parameter | Scope::RequestBody)
    }
}

/// (scope, base pointer, revision pointer) of a resolved schema pair.
pub(crate) type MemoKey = (Scope, String, String);

/// Facts about schema pairs that hold for the whole diff, whichever operation
/// reaches them; carried from one operation's [`OpCtx`] to the next.
#[derive(Debug, Default)]
pub(crate) struct Memo<'a> {
    /// Whether the pair or anything below it differs.
    pub dirty: HashMap<MemoKey, bool>,
    /// What the pair itself contributes, so that later walks through it need
    /// not rebuild and re-compare the schemas.
    pub nodes: HashMap<MemoKey, Node<'a>>,
    /// Schema pairs walked so far, against the diff's budget.
    pub steps: usize,
}

/// A compared schema pair: whether it differs itself, and its child pairs.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub own: bool,
    pub children: std::rc::Rc<Vec<Edge<'a>>>,
}

/// A child pair of a [`Node`]: the property name (or `items`, …) it sits
/// under, if any, its memo key and the schemas as written.
#[derive(Debug, Clone)]
pub(crate) struct Edge<'a> {
    pub segment: Option<String>,
    /// Whether the child is a property hidden in this direction (`Loc::hidden`).
    pub hidden: bool,
    pub key: MemoKey,
    pub base: view::Child<'a>,
    pub rev: view::Child<'a>,
}

/// State for comparing one operation present in both documents.
pub(crate) struct OpCtx<'a> {
    pub base: &'a OpenAPI,
    pub rev: &'a OpenAPI,
    /// `"GET /orders/{}"`.
    pub operation: String,
    /// The path as written in the revision.
    pub path: String,
    pub changes: Vec<Change>,
    pub memo: Memo<'a>,
    /// The day the diff runs: a sunset date before it has passed.
    pub today: Date,
}

impl<'a> OpCtx<'a> {
    pub(crate) fn new(
        base: &'a OpenAPI,
        rev: &'a OpenAPI,
        operation: String,
        path: String,
        today: Date,
    ) -> Self {
        OpCtx {
            base,
            rev,
            operation,
            path,
            changes: Vec::new(),
            memo: Memo::default(),
            today,
        }
    }

    pub(crate) fn emit(
        &mut self,
        id: &str,
        level: Level,
        base_pointer: Option<&str>,
        revision_pointer: Option<&str>,
        text: String,
    ) {
        let (id, level) = match schema::hidden_id(id) {
            Some(id) => (id, Level::Info),
            None => (id.to_string(), level),
        };
        self.changes.push(Change {
            id,
            level,
            operation: Some(self.operation.clone()),
            path: Some(self.path.clone()),
            base_pointer: base_pointer.map(str::to_string),
            revision_pointer: revision_pointer.map(str::to_string),
            text,
        });
    }
}
