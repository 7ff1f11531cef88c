//! Comparison of responses: statuses, media types, headers and body schemas (pure: no I/O).
//!
//! Statuses are matched exactly (`200`, `2XX`, `default`). Removing a success
//! status breaks clients that expect it; removing an error status is only
//! potentially breaking, since clients usually handle errors generically.

use indexmap::IndexMap;
use openapiv3::{
    Header, OpenAPI, ParameterSchemaOrContent, ReferenceOr, Response, Responses, StatusCode,
};

use super::request::media_types;
use super::schema::{self, Loc};
use super::util::code;
use super::view::Child;
use super::{OpCtx, Scope, refs};
use steward_model::Level;

fn statuses(responses: &Responses) -> Vec<(String, bool, &ReferenceOr<Response>)> {
    let mut list: Vec<(String, bool, &ReferenceOr<Response>)> = responses
        .responses
        .iter()
        .map(|(code, response)| {
            let success = match code {
                StatusCode::Code(n) => (200..300).contains(n),
                StatusCode::Range(n) => *n == 2,
            };
            (code.to_string(), success, response)
        })
        .collect();
    if let Some(default) = &responses.default {
        list.push(("default".to_string(), false, default));
    }
    list
}

pub(crate) fn compare<'a>(
    oc: &mut OpCtx<'a>,
    base: &'a Responses,
    base_ptr: &str,
    rev: &'a Responses,
    rev_ptr: &str,
) {
    let old = statuses(base);
    let new = statuses(rev);
    for (status, success, _) in &old {
        if new.iter().any(|(s, _, _)| s == status) {
            continue;
        }
        let ptr = format!("{base_ptr}/{}", crate::resolve::escape_segment(status));
        let (id, level, kind) = if *success {
            ("response-success-status-removed", Level::Error, "success")
        } else {
            (
                "response-non-success-status-removed",
                Level::Warning,
                "non-success",
            )
        };
        let text = format!("The {kind} response with status {status} was removed.");
        oc.emit(id, level, Some(&ptr), None, text);
    }
    for (status, success, response) in &new {
        let rptr = format!("{rev_ptr}/{}", crate::resolve::escape_segment(status));
        let Some((_, _, old_response)) = old.iter().find(|(s, _, _)| s == status) else {
            let (id, kind) = if *success {
                ("response-success-status-added", "success")
            } else {
                ("response-non-success-status-added", "non-success")
            };
            let text = format!("A {kind} response with status {status} was added.");
            oc.emit(id, Level::Info, None, Some(&rptr), text);
            continue;
        };
        let bptr = format!("{base_ptr}/{}", crate::resolve::escape_segment(status));
        let (Some((b, bp)), Some((r, rp))) = (
            refs::response(oc.base, old_response, &bptr),
            refs::response(oc.rev, response, &rptr),
        ) else {
            continue;
        };
        compare_response(oc, status, b, &bp, r, &rp);
    }
}

fn compare_response<'a>(
    oc: &mut OpCtx<'a>,
    status: &str,
    b: &'a Response,
    bp: &str,
    r: &'a Response,
    rp: &str,
) {
    let old = media_types(&b.content);
    let new = media_types(&r.content);
    let several = old.len() > 1 || new.len() > 1;
    // A media type that was renamed to a related one (parameters added, a
    // `+json` suffix, a wildcard narrowed) is one body under a new name, not one
    // removed and another added: its schema is still compared.
    let mut renamed: IndexMap<&str, &str> = IndexMap::new();
    for old_key in old.keys().filter(|k| !new.contains_key(*k)) {
        if let Some(new_key) = new.keys().find(|k| {
            !old.contains_key(*k)
                && !renamed.values().any(|v| v == k)
                && media_relation(old_key, k).is_some()
        }) {
            renamed.insert(old_key, new_key);
        }
    }
    for (key, (name, _)) in &old {
        if let Some(new_key) = renamed.get(key.as_str()) {
            let (new_name, _) = new[*new_key];
            let relation = media_relation(key, new_key).unwrap_or(MediaRelation::Changed);
            let (id, level, how) = match relation {
                MediaRelation::Changed => {
                    ("response-media-type-name-changed", Level::Info, "changed")
                }
                MediaRelation::Specialized => (
                    "response-media-type-name-specialized",
                    Level::Info,
                    "was specialised",
                ),
                MediaRelation::Generalized => (
                    "response-media-type-name-generalized",
                    Level::Error,
                    "was generalised",
                ),
            };
            let text = format!(
                "The media type {} of the response with status {status} {how} to {}.",
                code(name),
                code(new_name)
            );
            let escape = crate::resolve::escape_segment;
            oc.emit(
                id,
                level,
                Some(&format!("{bp}/content/{}", escape(name))),
                Some(&format!("{rp}/content/{}", escape(new_name))),
                text,
            );
            continue;
        }
        if !new.contains_key(key) {
            let ptr = format!("{bp}/content/{}", crate::resolve::escape_segment(name));
            let text = format!(
                "The media type {} was removed from the response with status {status}.",
                code(name)
            );
            oc.emit(
                "response-media-type-removed",
                Level::Error,
                Some(&ptr),
                None,
                text,
            );
        }
    }
    let renamed_to: IndexMap<&str, &str> = renamed.iter().map(|(o, n)| (*n, *o)).collect();
    for (key, (name, media)) in &new {
        let matched = old
            .get(key)
            .or_else(|| renamed_to.get(key.as_str()).and_then(|o| old.get(*o)));
        let Some((old_name, old_media)) = matched else {
            let ptr = format!("{rp}/content/{}", crate::resolve::escape_segment(name));
            let text = format!(
                "The media type {} was added to the response with status {status}.",
                code(name)
            );
            oc.emit(
                "response-media-type-added",
                Level::Info,
                None,
                Some(&ptr),
                text,
            );
            continue;
        };
        if let (Some(bs), Some(rs)) = (&old_media.schema, &media.schema) {
            let bchild = Child::new(
                bs,
                format!(
                    "{bp}/content/{}/schema",
                    crate::resolve::escape_segment(old_name)
                ),
            );
            let rchild = Child::new(
                rs,
                format!(
                    "{rp}/content/{}/schema",
                    crate::resolve::escape_segment(name)
                ),
            );
            let subject = if several {
                format!("the response body ({})", code(name))
            } else {
                "the response body".to_string()
            };
            let mut loc = Loc::new(Scope::ResponseBody, subject, Some(status.to_string()));
            if several {
                loc = loc.in_media(name);
            }
            schema::compare(oc, &loc, &bchild, &rchild);
        }
    }
    headers(oc, status, &b.headers, bp, &r.headers, rp);
}

/// How a response's media type was renamed, in oasdiff's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaRelation {
    /// The same type and subtype with other parameters.
    Changed,
    /// A more specific name: `application/problem+json` for `application/json`,
    /// `application/json` for `application/*`.
    Specialized,
    /// The reverse: clients may now receive payloads they do not parse.
    Generalized,
}

/// How two lower-cased media type names relate, if they name the same payload.
fn media_relation(old: &str, new: &str) -> Option<MediaRelation> {
    let essence = |m: &str| m.split(';').next().unwrap_or_default().trim().to_string();
    let (o, n) = (essence(old), essence(new));
    if o == n {
        return Some(MediaRelation::Changed);
    }
    let (o_type, o_sub) = o.split_once('/')?;
    let (n_type, n_sub) = n.split_once('/')?;
    let narrower = |general: (&str, &str), specific: (&str, &str)| {
        general == ("*", "*")
            || (general.0 == specific.0
                && (general.1 == "*" || specific.1.ends_with(&format!("+{}", general.1))))
    };
    if narrower((o_type, o_sub), (n_type, n_sub)) {
        Some(MediaRelation::Specialized)
    } else if narrower((n_type, n_sub), (o_type, o_sub)) {
        Some(MediaRelation::Generalized)
    } else {
        None
    }
}

type Headers<'a> = IndexMap<String, (&'a str, &'a Header, String)>;

/// Headers keyed by lower-cased name, resolved, with their pointers.
fn resolve_headers<'a>(
    doc: &'a OpenAPI,
    headers: &'a IndexMap<String, ReferenceOr<Header>>,
    ptr: &str,
) -> Headers<'a> {
    let mut map = IndexMap::new();
    for (name, header) in headers {
        let header_ptr = format!("{ptr}/headers/{}", crate::resolve::escape_segment(name));
        if let Some((header, resolved_ptr)) = refs::header(doc, header, &header_ptr) {
            map.entry(name.to_ascii_lowercase())
                .or_insert((name.as_str(), header, resolved_ptr));
        }
    }
    map
}

fn header_schema<'a>(header: &'a Header, ptr: &str) -> Option<Child<'a>> {
    match &header.format {
        ParameterSchemaOrContent::Schema(schema) => {
            Some(Child::new(schema, format!("{ptr}/schema")))
        }
        ParameterSchemaOrContent::Content(content) => content.iter().find_map(|(media, m)| {
            m.schema.as_ref().map(|schema| {
                Child::new(
                    schema,
                    format!(
                        "{ptr}/content/{}/schema",
                        crate::resolve::escape_segment(media)
                    ),
                )
            })
        }),
    }
}

fn headers<'a>(
    oc: &mut OpCtx<'a>,
    status: &str,
    base: &'a IndexMap<String, ReferenceOr<Header>>,
    bp: &str,
    rev: &'a IndexMap<String, ReferenceOr<Header>>,
    rp: &str,
) {
    let old = resolve_headers(oc.base, base, bp);
    let new = resolve_headers(oc.rev, rev, rp);
    for (key, (name, header, ptr)) in &old {
        if new.contains_key(key) {
            continue;
        }
        let (id, level, kind) = if header.required {
            ("required-response-header-removed", Level::Error, "required")
        } else {
            (
                "optional-response-header-removed",
                Level::Warning,
                "optional",
            )
        };
        let text = format!(
            "The {kind} response header {} was removed for status {status}.",
            code(name)
        );
        oc.emit(id, level, Some(ptr), None, text);
    }
    for (key, (name, header, ptr)) in &new {
        let Some((_, old_header, old_ptr)) = old.get(key) else {
            let text = format!(
                "The response header {} was added for status {status}.",
                code(name)
            );
            oc.emit("response-header-added", Level::Info, None, Some(ptr), text);
            continue;
        };
        if old_header.required && !header.required {
            let text = format!(
                "The response header {} became optional for status {status}.",
                code(name)
            );
            oc.emit(
                "response-header-became-optional",
                Level::Error,
                Some(old_ptr),
                Some(ptr),
                text,
            );
        } else if !old_header.required && header.required {
            let text = format!(
                "The response header {} became required for status {status}.",
                code(name)
            );
            oc.emit(
                "response-header-became-required",
                Level::Info,
                Some(old_ptr),
                Some(ptr),
                text,
            );
        }
        if let (Some(bs), Some(rs)) = (
            header_schema(old_header, old_ptr),
            header_schema(header, ptr),
        ) {
            let subject = format!("the response header {}", code(name));
            let mut loc = Loc::new(Scope::ResponseHeader, subject, Some(status.to_string()));
            loc.text = [old_header, header]
                .iter()
                .all(|h| matches!(h.format, ParameterSchemaOrContent::Schema(_)));
            schema::compare(oc, &loc, &bs, &rs);
        }
    }
}
