//! Rules about operations: identity, documentation, security, responses, request
//! bodies, parameters and pagination (pure: no I/O).

use std::collections::{HashMap, HashSet};

use openapiv3::{Parameter, ReferenceOr, SchemaKind, StatusCode, Type};
use serde_json::Value;

use super::context::{Ctx, Hit, Op, blank, located, location};
use crate::resolve::{
    component_pointer, escape_segment, resolve_response, resolve_schema, unescape_segment,
};

pub(super) fn operation_id(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        if blank(&op.op.operation_id) {
            out.push(Hit::new(
                &op.pointer,
                format!("{} has no operationId.", op.label),
            ));
        }
    }
}

pub(super) fn operation_id_unique(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for op in &ctx.ops {
        let Some(id) = op
            .op
            .operation_id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        else {
            continue;
        };
        match seen.get(id) {
            Some(first) => out.push(Hit::new(
                format!("{}/operationId", op.pointer),
                format!(
                    "operationId `{id}` of {} is already used by {first}.",
                    op.label
                ),
            )),
            None => {
                seen.insert(id, &op.label);
            }
        }
    }
}

pub(super) fn summary_or_description(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        if blank(&op.op.summary) && blank(&op.op.description) {
            out.push(Hit::new(
                &op.pointer,
                format!("{} has neither a summary nor a description.", op.label),
            ));
        }
    }
}

pub(super) fn tags(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        if op.op.tags.iter().all(|t| t.trim().is_empty()) {
            out.push(Hit::new(&op.pointer, format!("{} has no tags.", op.label)));
        }
    }
}

fn is_x_public(op: &Op<'_>) -> bool {
    op.op.extensions.get("x-public") == Some(&Value::Bool(true))
}

/// A global `security: []` does not count as declaring security: public endpoints
/// must opt out one by one, so that a new operation is never public by accident.
pub(super) fn security_declared(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let known: HashSet<&str> = ctx
        .doc
        .components
        .iter()
        .flat_map(|c| c.security_schemes.keys())
        .map(String::as_str)
        .collect();
    let unknown = |reqs: &[openapiv3::SecurityRequirement], at: &str, out: &mut Vec<Hit>| {
        for (i, req) in reqs.iter().enumerate() {
            for name in req.keys() {
                if !known.contains(name.as_str()) {
                    out.push(Hit::new(
                        format!("{at}/{i}"),
                        format!("Security requirement names `{name}`, which is not a declared security scheme."),
                    ));
                }
            }
        }
    };
    if let Some(global) = &ctx.doc.security {
        unknown(global, "/security", out);
    }
    let global_declared = ctx.doc.security.as_ref().is_some_and(|g| !g.is_empty());
    for op in &ctx.ops {
        match &op.op.security {
            Some(reqs) => unknown(reqs, &format!("{}/security", op.pointer), out),
            None if global_declared || is_x_public(op) => {}
            None => out.push(Hit::new(
                &op.pointer,
                format!(
                    "{} declares no security; add `security` (here or globally), or mark it public with `security: []` or `x-public: true`.",
                    op.label
                ),
            )),
        }
    }
}

fn is_success(code: &StatusCode) -> bool {
    match code {
        StatusCode::Code(c) => (200..400).contains(c),
        StatusCode::Range(r) => *r == 2 || *r == 3,
    }
}

fn is_4xx(code: &StatusCode) -> bool {
    match code {
        StatusCode::Code(c) => (400..500).contains(c),
        StatusCode::Range(r) => *r == 4,
    }
}

fn is_error(code: &StatusCode) -> bool {
    match code {
        StatusCode::Code(c) => (400..600).contains(c),
        StatusCode::Range(r) => *r == 4 || *r == 5,
    }
}

pub(super) fn response_success(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        if !op.op.responses.responses.keys().any(is_success) {
            out.push(Hit::new(
                format!("{}/responses", op.pointer),
                format!("{} documents no 2xx or 3xx response.", op.label),
            ));
        }
    }
}

pub(super) fn has_4xx(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        if !op.op.responses.responses.keys().any(is_4xx) {
            out.push(Hit::new(
                format!("{}/responses", op.pointer),
                format!("{} documents no 4xx response.", op.label),
            ));
        }
    }
}

/// The key as written in the source (`4xx` and `4XX` parse alike), so the pointer
/// finds the right line.
fn response_key(ctx: &Ctx<'_>, op: &Op<'_>, code: &StatusCode) -> String {
    let wanted = code.to_string();
    ctx.raw
        .pointer(&format!("{}/responses", op.pointer))
        .and_then(Value::as_object)
        .and_then(|m| m.keys().find(|k| k.eq_ignore_ascii_case(&wanted)))
        .cloned()
        .unwrap_or(wanted)
}

/// `application/problem+json; charset=utf-8` → `application/problem+json`.
fn media_base(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn problem_json(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let map = ctx.doc.components.as_ref().map(|c| &c.responses);
    for op in &ctx.ops {
        // HEAD responses have no body to describe.
        if op.method == "head" {
            continue;
        }
        for (code, r) in &op.op.responses.responses {
            if !is_error(code) {
                continue;
            }
            let inline = format!(
                "{}/responses/{}",
                op.pointer,
                escape_segment(&response_key(ctx, op, code))
            );
            let Some((response, at)) = located(map, "responses", r, inline) else {
                continue;
            };
            // A shared response gets one finding at the component, so its message
            // must not name any one operation.
            let subject = match at.strip_prefix("/components/responses/") {
                Some(name) => format!("Shared error response `{}`", unescape_segment(name)),
                None => format!("The {code} response of {}", op.label),
            };
            let problem = response
                .content
                .iter()
                .find(|(media, _)| media_base(media) == "application/problem+json");
            match problem {
                None => out.push(Hit::new(
                    at,
                    format!("{subject} is not documented as `application/problem+json`."),
                )),
                Some((media, m)) if m.schema.is_none() => out.push(Hit::new(
                    format!("{at}/content/{}", escape_segment(media)),
                    format!("{subject} has `{media}` content without a schema."),
                )),
                Some(_) => {}
            }
        }
    }
}

pub(super) fn request_body_schema(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let map = ctx.doc.components.as_ref().map(|c| &c.request_bodies);
    let mut bodies = Vec::new();
    for op in &ctx.ops {
        if let Some(r) = &op.op.request_body
            && let Some(found) = located(
                map,
                "requestBodies",
                r,
                format!("{}/requestBody", op.pointer),
            )
        {
            bodies.push(found);
        }
    }
    for (name, r) in map.into_iter().flatten() {
        if let ReferenceOr::Item(body) = r {
            bodies.push((body, component_pointer("requestBodies", name)));
        }
    }
    for (body, at) in bodies {
        if body.content.is_empty() {
            out.push(Hit::new(&at, "Request body has no content."));
        }
        for (media, m) in &body.content {
            if m.schema.is_none() {
                out.push(Hit::new(
                    format!("{at}/content/{}", escape_segment(media)),
                    format!("Request body media type `{media}` has no schema."),
                ));
            }
        }
    }
}

pub(super) fn parameter_description(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for site in ctx.parameter_sites() {
        let data = site.param.parameter_data_ref();
        if blank(&data.description) {
            out.push(Hit::new(
                site.pointer,
                format!(
                    "Parameter `{}` (in {}) has no description.",
                    data.name,
                    location(site.param)
                ),
            ));
        }
    }
}

/// Lower-cased with `-` and `_` removed, so `API-Key`, `api_key` and `apiKey` match.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

const CREDENTIAL_NAMES: [&str; 13] = [
    "apikey",
    "key",
    "token",
    "accesstoken",
    "authtoken",
    "refreshtoken",
    "idtoken",
    "bearer",
    "password",
    "passwd",
    "secret",
    "clientsecret",
    "apisecret",
];

pub(super) fn no_credentials_in_query(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for site in ctx.parameter_sites() {
        if let Parameter::Query { parameter_data, .. } = site.param
            && CREDENTIAL_NAMES.contains(&normalize(&parameter_data.name).as_str())
        {
            out.push(Hit::new(
                site.pointer,
                format!(
                    "Query parameter `{}` looks like a credential; send it in a header instead.",
                    parameter_data.name
                ),
            ));
        }
    }
    for (name, r) in ctx
        .doc
        .components
        .iter()
        .flat_map(|c| c.security_schemes.iter())
    {
        if let ReferenceOr::Item(openapiv3::SecurityScheme::APIKey {
            location: openapiv3::APIKeyLocation::Query,
            ..
        }) = r
        {
            out.push(Hit::new(
                format!("{}/in", component_pointer("securitySchemes", name)),
                format!("API key scheme `{name}` is sent in the query string; use a header."),
            ));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Style {
    Cursor,
    Page,
    Offset,
}

impl Style {
    fn describe(self) -> &'static str {
        match self {
            Style::Cursor => "cursor",
            Style::Page => "page/page_size",
            Style::Offset => "offset/limit",
        }
    }
}

fn style_of(name: &str) -> Option<Style> {
    match normalize(name).as_str() {
        "cursor" | "pagetoken" | "nextpagetoken" | "continuationtoken" | "after" | "before"
        | "startingafter" | "endingbefore" => Some(Style::Cursor),
        "page" | "pagesize" | "perpage" | "pagenumber" | "pagenum" => Some(Style::Page),
        "offset" | "skip" => Some(Style::Offset),
        _ => None,
    }
}

/// The pagination styles an operation uses, with the pointer of the first parameter
/// of each style.
fn styles(op: &Op<'_>) -> Vec<(Style, String)> {
    let mut found: Vec<(Style, String)> = Vec::new();
    for p in &op.params {
        if let Parameter::Query { parameter_data, .. } = p.param
            && let Some(style) = style_of(&parameter_data.name)
            && !found.iter().any(|(s, _)| *s == style)
        {
            found.push((style, p.pointer.clone()));
        }
    }
    found
}

/// A GET on a collection path (last segment literal) whose success response is an
/// array: the operations that ought to paginate.
fn returns_list(ctx: &Ctx<'_>, op: &Op<'_>) -> bool {
    if op.method != "get" || op.path.trim_end_matches('/').ends_with('}') {
        return false;
    }
    op.op
        .responses
        .responses
        .iter()
        .filter(|(code, _)| is_success(code))
        .filter_map(|(_, r)| resolve_response(ctx.doc, r))
        .flat_map(|r| r.content.values())
        .filter_map(|m| m.schema.as_ref())
        .filter_map(|s| resolve_schema(ctx.doc, s))
        .any(|s| matches!(s.schema_kind, SchemaKind::Type(Type::Array(_))))
}

pub(super) fn pagination_consistent(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let per_op: Vec<Vec<(Style, String)>> = ctx.ops.iter().map(styles).collect();
    let mut counts: Vec<(Style, usize)> = Vec::new();
    for (style, _) in per_op.iter().flatten() {
        match counts.iter_mut().find(|(s, _)| s == style) {
            Some((_, n)) => *n += 1,
            None => counts.push((*style, 1)),
        }
    }
    // Most used style wins; ties go to the one seen first in the document.
    let Some(main) = counts
        .iter()
        .fold(None::<(Style, usize)>, |best, &(s, n)| match best {
            Some((_, bn)) if bn >= n => best,
            _ => Some((s, n)),
        })
        .map(|(s, _)| s)
    else {
        return;
    };
    for (op, found) in ctx.ops.iter().zip(&per_op) {
        if found.is_empty() {
            if returns_list(ctx, op) {
                out.push(Hit::new(
                    &op.pointer,
                    format!(
                        "{} returns a list but does not paginate; use {} pagination like the other list operations.",
                        op.label,
                        main.describe()
                    ),
                ));
            }
            continue;
        }
        if found.len() > 1 {
            let names: Vec<&str> = found.iter().map(|(s, _)| s.describe()).collect();
            out.push(Hit::new(
                &op.pointer,
                format!(
                    "{} mixes pagination styles ({}).",
                    op.label,
                    names.join(", ")
                ),
            ));
        }
        for (style, at) in found {
            if *style != main {
                out.push(Hit::new(
                    at,
                    format!(
                        "{} paginates with {} while the document's main style is {}.",
                        op.label,
                        style.describe(),
                        main.describe()
                    ),
                ));
            }
        }
    }
}
