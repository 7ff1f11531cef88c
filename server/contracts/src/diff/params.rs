//! Comparison of request parameters (path, query, header, cookie) (pure: no I/O).
//!
//! Parameters are matched by location and name, except path parameters, which
//! are matched by their position in the path template so that renaming
//! `{id}` → `{orderId}` is not a removal plus an addition. Header names are
//! matched case-insensitively, as HTTP does. Path-level parameters apply to
//! every operation under the path unless the operation redefines them.

use indexmap::IndexMap;
use openapiv3::{OpenAPI, Operation, Parameter, ParameterData, ParameterSchemaOrContent};

use super::ops::PathEntry;
use super::schema::{self, Loc};
use super::sunset::{self, Removal, Transition};
use super::util::{self, code};
use super::view::Child;
use super::{OpCtx, Scope, refs};
use steward_model::Level;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// Position in the path template.
    Path(usize),
    Named(&'static str, String),
}

struct Param<'a> {
    data: &'a ParameterData,
    location: &'static str,
    /// Declared on the path item, for every operation under it.
    shared: bool,
    /// Pointer of the (resolved) parameter object.
    ptr: String,
}

impl Param<'_> {
    fn describe(&self) -> String {
        format!("the {} parameter {}", self.location, code(&self.data.name))
    }
}

fn location(param: &Parameter) -> &'static str {
    match param {
        Parameter::Query { .. } => "query",
        Parameter::Header { .. } => "header",
        Parameter::Path { .. } => "path",
        Parameter::Cookie { .. } => "cookie",
    }
}

fn key(param: &Parameter, vars: &[String]) -> Option<Key> {
    let data = param.parameter_data_ref();
    match param {
        Parameter::Path { .. } => Some(match vars.iter().position(|v| *v == data.name) {
            Some(index) => Key::Path(index),
            None => Key::Named("path", data.name.clone()),
        }),
        Parameter::Header { .. } => {
            let name = data.name.to_ascii_lowercase();
            // OpenAPI says these header parameters are ignored: the media type
            // and security machinery define them.
            if matches!(name.as_str(), "accept" | "content-type" | "authorization") {
                None
            } else {
                Some(Key::Named("header", name))
            }
        }
        Parameter::Query { .. } => Some(Key::Named("query", data.name.clone())),
        Parameter::Cookie { .. } => Some(Key::Named("cookie", data.name.clone())),
    }
}

/// The parameters in effect for an operation: path-level ones, overridden by
/// operation-level ones with the same key.
fn collect<'a>(
    doc: &'a OpenAPI,
    entry: &PathEntry<'a>,
    op: &'a Operation,
    op_ptr: &str,
) -> IndexMap<Key, Param<'a>> {
    let vars = util::path_vars(entry.written);
    let mut map = IndexMap::new();
    let lists = [
        (&entry.item.parameters, entry.ptr.clone(), true),
        (&op.parameters, op_ptr.to_string(), false),
    ];
    for (list, owner, shared) in lists {
        for (index, item) in list.iter().enumerate() {
            let ptr = format!("{owner}/parameters/{index}");
            let Some((param, ptr)) = refs::parameter(doc, item, &ptr) else {
                continue;
            };
            let Some(key) = key(param, &vars) else {
                continue;
            };
            map.insert(
                key,
                Param {
                    data: param.parameter_data_ref(),
                    location: location(param),
                    shared,
                    ptr,
                },
            );
        }
    }
    map
}

/// The schema of a parameter, from `schema` or from its single `content` entry.
fn schema_of<'a>(param: &Param<'a>) -> Option<Child<'a>> {
    match &param.data.format {
        ParameterSchemaOrContent::Schema(schema) => {
            Some(Child::new(schema, format!("{}/schema", param.ptr)))
        }
        ParameterSchemaOrContent::Content(content) => content.iter().find_map(|(media, m)| {
            m.schema.as_ref().map(|schema| {
                Child::new(
                    schema,
                    format!(
                        "{}/content/{}/schema",
                        param.ptr,
                        crate::resolve::escape_segment(media)
                    ),
                )
            })
        }),
    }
}

pub(crate) struct Side<'a, 'e> {
    pub entry: &'e PathEntry<'a>,
    pub op: &'a Operation,
    pub ptr: &'e str,
}

pub(crate) fn compare<'a>(oc: &mut OpCtx<'a>, base: Side<'a, '_>, rev: Side<'a, '_>) {
    let old = collect(oc.base, base.entry, base.op, base.ptr);
    let new = collect(oc.rev, rev.entry, rev.op, rev.ptr);
    for (key, b) in &old {
        if new.contains_key(key) {
            continue;
        }
        let desc = util::cap(&b.describe());
        let own = sunset::sunset(&b.data.extensions);
        let deprecated = b.data.deprecated.unwrap_or(false);
        let (id, level, text) = match sunset::removal(deprecated, &own, None, oc.today) {
            // Most servers ignore unknown parameters, but some reject them, and
            // the feature the parameter controlled is gone: potentially breaking.
            Removal::NotDeprecated => (
                "request-parameter-removed",
                Level::Warning,
                format!("{desc} was removed."),
            ),
            Removal::AfterDeprecation(_) => (
                "request-parameter-removed-with-deprecation",
                Level::Info,
                format!("{desc} was removed after it was deprecated."),
            ),
            Removal::BeforeSunset(date) => (
                "request-parameter-removed-before-sunset",
                Level::Error,
                format!("{desc} was removed before its sunset date {date}."),
            ),
            Removal::SunsetInvalid(text) => (
                "request-parameter-sunset-parse",
                Level::Error,
                format!(
                    "{desc} was removed, but its x-sunset {} is not a YYYY-MM-DD date.",
                    util::code(&text)
                ),
            ),
        };
        oc.emit(id, level, Some(&b.ptr), None, text);
    }
    for (key, r) in &new {
        let Some(b) = old.get(key) else {
            let required = r.data.required || r.location == "path";
            // oasdiff names a new path variable, and a parameter declared for
            // every operation of an existing path, apart.
            let (id, level, kind) = match (r.location == "path", r.shared, required) {
                (true, _, _) => ("new-request-path-parameter", Level::Error, "required"),
                (false, true, true) => (
                    "new-required-request-default-parameter-to-existing-path",
                    Level::Error,
                    "required",
                ),
                (false, true, false) => (
                    "new-optional-request-default-parameter-to-existing-path",
                    Level::Info,
                    "optional",
                ),
                (false, false, true) => {
                    ("new-required-request-parameter", Level::Error, "required")
                }
                (false, false, false) => {
                    ("new-optional-request-parameter", Level::Info, "optional")
                }
            };
            let text = format!("{} was added as {kind}.", util::cap(&r.describe()));
            oc.emit(id, level, None, Some(&r.ptr), text);
            continue;
        };
        compare_one(oc, b, r);
    }
}

fn compare_one<'a>(oc: &mut OpCtx<'a>, b: &Param<'a>, r: &Param<'a>) {
    let desc = util::cap(&r.describe());
    let ptrs = (Some(b.ptr.as_str()), Some(r.ptr.as_str()));
    let was_required = b.data.required || b.location == "path";
    let is_required = r.data.required || r.location == "path";
    if !was_required && is_required {
        let text = format!("{desc} became required.");
        oc.emit(
            "request-parameter-became-required",
            Level::Error,
            ptrs.0,
            ptrs.1,
            text,
        );
    } else if was_required && !is_required {
        let text = format!("{desc} became optional.");
        oc.emit(
            "request-parameter-became-optional",
            Level::Info,
            ptrs.0,
            ptrs.1,
            text,
        );
    }
    let (old, new) = (
        sunset::sunset(&b.data.extensions),
        sunset::sunset(&r.data.extensions),
    );
    let transition = sunset::transition(
        (b.data.deprecated.unwrap_or(false), &old),
        (r.data.deprecated.unwrap_or(false), &new),
        oc.today,
    );
    if let Some(transition) = transition {
        let (id, level, text) = match transition {
            Transition::Deprecated => (
                "request-parameter-deprecated",
                Level::Info,
                format!("{desc} was deprecated."),
            ),
            Transition::DeprecatedWithSunset(date) => (
                "request-parameter-deprecated",
                Level::Info,
                format!("{desc} was deprecated with sunset date {date}."),
            ),
            Transition::SunsetTooSoon(date) => (
                "request-parameter-sunset-date-too-small",
                Level::Error,
                format!("{desc} was deprecated with sunset date {date}, which has already passed."),
            ),
            Transition::SunsetInvalid(text) => (
                "request-parameter-sunset-parse",
                Level::Error,
                format!(
                    "The x-sunset {} of {} is not a YYYY-MM-DD date.",
                    util::code(&text),
                    r.describe()
                ),
            ),
            Transition::Reactivated => (
                "request-parameter-reactivated",
                Level::Info,
                format!("{desc} is no longer deprecated."),
            ),
            Transition::SunsetDeleted(date) => (
                "request-parameter-sunset-deleted",
                Level::Error,
                format!(
                    "The announced sunset date {date} of {} was deleted while it stays deprecated.",
                    r.describe()
                ),
            ),
            Transition::SunsetEarlier(old, new) => (
                "request-parameter-sunset-date-changed-too-small",
                Level::Error,
                format!(
                    "The sunset date of {} moved earlier, from {old} to {new}.",
                    r.describe()
                ),
            ),
        };
        oc.emit(id, level, ptrs.0, ptrs.1, text);
    }
    if let (Some(bs), Some(rs)) = (schema_of(b), schema_of(r)) {
        let mut loc = Loc::new(Scope::Parameter, r.describe(), None);
        loc.header = r.location == "header";
        loc.text = [b, r]
            .iter()
            .all(|p| matches!(p.data.format, ParameterSchemaOrContent::Schema(_)));
        schema::compare(oc, &loc, &bs, &rs);
    }
}
