//! Comparison of request bodies: presence, requiredness, media types and the
//! schema of each media type present on both sides (pure: no I/O).

use indexmap::IndexMap;
use openapiv3::{MediaType, ReferenceOr, RequestBody};

use super::schema::{self, Loc};
use super::util::code;
use super::view::Child;
use super::{OpCtx, Scope, refs};
use steward_model::Level;

/// Media types keyed case-insensitively (`application/JSON` is
/// `application/json`), keeping the written key for pointers.
pub(crate) fn media_types(
    content: &IndexMap<String, MediaType>,
) -> IndexMap<String, (&str, &MediaType)> {
    let mut map = IndexMap::new();
    for (name, media) in content {
        map.entry(name.trim().to_ascii_lowercase())
            .or_insert((name.as_str(), media));
    }
    map
}

pub(crate) fn compare<'a>(
    oc: &mut OpCtx<'a>,
    base: Option<&'a ReferenceOr<RequestBody>>,
    base_ptr: &str,
    rev: Option<&'a ReferenceOr<RequestBody>>,
    rev_ptr: &str,
) {
    let b = base.map(|x| refs::request_body(oc.base, x, base_ptr));
    let r = rev.map(|x| refs::request_body(oc.rev, x, rev_ptr));
    match (b, r) {
        (None, None) => {}
        (None, Some(r)) => {
            let required = r.as_ref().is_some_and(|(body, _)| body.required);
            let ptr = r.map_or_else(|| rev_ptr.to_string(), |(_, ptr)| ptr);
            let (id, level, text) = if required {
                (
                    "request-body-added-required",
                    Level::Error,
                    "A required request body was added.",
                )
            } else {
                (
                    "request-body-added-optional",
                    Level::Info,
                    "An optional request body was added.",
                )
            };
            oc.emit(id, level, None, Some(&ptr), text.to_string());
        }
        (Some(b), None) => {
            let ptr = b.map_or_else(|| base_ptr.to_string(), |(_, ptr)| ptr);
            let text = "The request body was removed; clients that still send one may be rejected.";
            oc.emit(
                "request-body-removed",
                Level::Warning,
                Some(&ptr),
                None,
                text.to_string(),
            );
        }
        (Some(Some((b, bp))), Some(Some((r, rp)))) => compare_bodies(oc, b, &bp, r, &rp),
        // One side is an unresolvable reference: nothing reliable to compare.
        (Some(_), Some(_)) => {}
    }
}

fn compare_bodies<'a>(
    oc: &mut OpCtx<'a>,
    b: &'a RequestBody,
    bp: &str,
    r: &'a RequestBody,
    rp: &str,
) {
    if !b.required && r.required {
        oc.emit(
            "request-body-became-required",
            Level::Error,
            Some(bp),
            Some(rp),
            "The request body became required.".to_string(),
        );
    } else if b.required && !r.required {
        oc.emit(
            "request-body-became-optional",
            Level::Info,
            Some(bp),
            Some(rp),
            "The request body became optional.".to_string(),
        );
    }
    let old = media_types(&b.content);
    let new = media_types(&r.content);
    let several = old.len() > 1 || new.len() > 1;
    for (key, (name, _)) in &old {
        if !new.contains_key(key) {
            let ptr = format!("{bp}/content/{}", crate::resolve::escape_segment(name));
            let text = format!(
                "The media type {} was removed from the request body.",
                code(name)
            );
            oc.emit(
                "request-body-media-type-removed",
                Level::Error,
                Some(&ptr),
                None,
                text,
            );
        }
    }
    for (key, (name, media)) in &new {
        let Some((old_name, old_media)) = old.get(key) else {
            let ptr = format!("{rp}/content/{}", crate::resolve::escape_segment(name));
            let text = format!(
                "The media type {} was added to the request body.",
                code(name)
            );
            oc.emit(
                "request-body-media-type-added",
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
                format!("the request body ({})", code(name))
            } else {
                "the request body".to_string()
            };
            let mut loc = Loc::new(Scope::RequestBody, subject, None);
            if several {
                loc = loc.in_media(name);
            }
            schema::compare(oc, &loc, &bchild, &rchild);
        }
    }
}
