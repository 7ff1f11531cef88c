//! Path and operation matching, and the operation-level checks: removal (with
//! deprecation and sunset), addition, deprecation, operationId and tags. Each
//! operation present on both sides is then handed to the parameter, request
//! body, response and security comparisons (pure: no I/O).
//!
//! Path items given as `$ref` are skipped on both sides: they point outside the
//! document in practice, and guessing would report false removals.

use indexmap::IndexMap;
use openapiv3::{OpenAPI, Operation, PathItem, ReferenceOr};
use time::Date;

use super::params;
use super::sunset::{self, Removal, Transition};
use super::util::{self, code};
use super::{DiffOptions, Memo, OpCtx, request, responses, security};
use steward_model::{Change, Level};

/// A path item with where it is written.
pub(crate) struct PathEntry<'a> {
    /// The path as written (`/orders/{orderId}`).
    pub written: &'a str,
    pub item: &'a PathItem,
    /// `/paths/~1orders~1{orderId}`.
    pub ptr: String,
}

/// Path items keyed by normalised path. Two written paths may normalise to the
/// same key (`/a/{id}` and `/a/{name}`: invalid OpenAPI, but GitHub's
/// description has them, one method under each), so a key holds every path
/// item written for it, and operations are matched by key and method.
fn path_map(doc: &OpenAPI) -> IndexMap<String, Vec<PathEntry<'_>>> {
    let mut map: IndexMap<String, Vec<PathEntry<'_>>> = IndexMap::new();
    for (written, item) in doc.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        map.entry(util::normalize_path(written))
            .or_default()
            .push(PathEntry {
                written,
                item,
                ptr: format!("/paths/{}", crate::resolve::escape_segment(written)),
            });
    }
    map
}

/// The first path item of `entries` with an operation for `method`.
fn find<'e, 'a>(
    entries: &'e [PathEntry<'a>],
    method: &str,
) -> Option<(&'e PathEntry<'a>, &'a Operation)> {
    entries
        .iter()
        .find_map(|e| operation_of(e.item, method).map(|op| (e, op)))
}

/// Every method under `entries` once, with the first path item written for it.
fn operations<'e, 'a>(
    entries: &'e [PathEntry<'a>],
) -> impl Iterator<Item = (&'e PathEntry<'a>, &'a str, &'a Operation)> {
    entries.iter().flat_map(move |e| {
        e.item.iter().filter_map(move |(method, op)| {
            find(entries, method)
                .is_some_and(|(first, _)| std::ptr::eq(first, e))
                .then_some((e, method, op))
        })
    })
}

fn operation_of<'a>(item: &'a PathItem, method: &str) -> Option<&'a Operation> {
    match method {
        "get" => item.get.as_ref(),
        "put" => item.put.as_ref(),
        "post" => item.post.as_ref(),
        "delete" => item.delete.as_ref(),
        "options" => item.options.as_ref(),
        "head" => item.head.as_ref(),
        "patch" => item.patch.as_ref(),
        "trace" => item.trace.as_ref(),
        _ => None,
    }
}

/// How a report names an operation: its method and its path as the contract
/// writes it (`GET /prices/{sku}`), the revision's where both have it. Paths
/// are matched by their normalised form, but people read the names.
fn label(method: &str, written: &str) -> String {
    format!("{} {written}", method.to_ascii_uppercase())
}

fn document_change(
    id: &str,
    level: Level,
    base: Option<String>,
    rev: Option<String>,
    text: String,
) -> Change {
    Change {
        id: id.to_string(),
        level,
        operation: None,
        path: None,
        base_pointer: base,
        revision_pointer: rev,
        text,
    }
}

fn operation_change(
    id: &str,
    level: Level,
    operation: &str,
    path: &str,
    base: Option<String>,
    rev: Option<String>,
    text: String,
) -> Change {
    Change {
        id: id.to_string(),
        level,
        operation: Some(operation.to_string()),
        path: Some(path.to_string()),
        base_pointer: base,
        revision_pointer: rev,
        text,
    }
}

pub(crate) fn compare(
    base: &OpenAPI,
    rev: &OpenAPI,
    options: &DiffOptions,
    today: Date,
    out: &mut Vec<Change>,
) {
    let old = path_map(base);
    let new = path_map(rev);
    let mut memo = Memo::default();
    for (key, bs) in &old {
        let rs = new.get(key);
        for (b, method, bop) in operations(bs) {
            let bptr = format!("{}/{method}", b.ptr);
            let Some((r, rop)) = rs.and_then(|rs| find(rs, method)) else {
                let (id, level, text) = removal(bop, rs.is_none(), options, today);
                out.push(operation_change(
                    id,
                    level,
                    &label(method, b.written),
                    b.written,
                    Some(bptr),
                    None,
                    text,
                ));
                continue;
            };
            let rptr = format!("{}/{method}", r.ptr);
            let mut oc = OpCtx::new(
                base,
                rev,
                label(method, r.written),
                r.written.to_string(),
                today,
            );
            oc.memo = std::mem::take(&mut memo);
            compare_operation(&mut oc, b, bop, &bptr, r, rop, &rptr);
            out.append(&mut oc.changes);
            memo = std::mem::take(&mut oc.memo);
        }
    }
    for (key, rs) in &new {
        let bs = old.get(key);
        for (r, method, _) in operations(rs) {
            if bs.and_then(|bs| find(bs, method)).is_some() {
                continue;
            }
            let name = code(&label(method, r.written));
            let text = match bs {
                Some(_) => format!("The operation {name} was added."),
                None => format!(
                    "The operation {name} was added with the new path {}.",
                    code(r.written)
                ),
            };
            out.push(operation_change(
                "endpoint-added",
                Level::Info,
                &label(method, r.written),
                r.written,
                None,
                Some(format!("{}/{method}", r.ptr)),
                text,
            ));
        }
    }
}

/// Classifies the removal of `op` (alone, or with its whole path).
///
/// Removal is only sanctioned once clients were warned and the announced date
/// has passed: the operation was deprecated and its sunset (own `x-sunset`, else
/// the base version's sunset) is today or earlier.
fn removal(
    op: &Operation,
    whole_path: bool,
    options: &DiffOptions,
    today: Date,
) -> (&'static str, Level, String) {
    let (stem_without, stem_with, stem_before, what) = if whole_path {
        (
            "api-path-removed-without-deprecation",
            "api-path-removed-with-deprecation",
            "api-path-removed-before-sunset",
            "The operation's path was removed",
        )
    } else {
        (
            "api-removed-without-deprecation",
            "api-removed-with-deprecation",
            "api-removed-before-sunset",
            "The operation was removed",
        )
    };
    let own = sunset::sunset(&op.extensions);
    match sunset::removal(op.deprecated, &own, options.base_sunset, today) {
        Removal::NotDeprecated => (
            stem_without,
            Level::Error,
            format!("{what} without being deprecated first."),
        ),
        Removal::SunsetInvalid(text) => (
            "api-path-sunset-parse",
            Level::Error,
            format!(
                "{what} but its x-sunset {} is not a YYYY-MM-DD date.",
                code(&text)
            ),
        ),
        Removal::AfterDeprecation(Some(date)) => (
            stem_with,
            Level::Info,
            format!("{what} after its sunset date {date}."),
        ),
        // Deprecation without a date announces removal at any time; the check
        // that asks for a date is the one on deprecating (the registry's
        // lifecycle gives every deprecated version a sunset).
        Removal::AfterDeprecation(None) => (
            stem_with,
            Level::Info,
            format!("{what} after it was deprecated (no sunset date was announced)."),
        ),
        Removal::BeforeSunset(date) => (
            stem_before,
            Level::Error,
            format!("{what} before its sunset date {date}."),
        ),
    }
}

fn compare_operation<'a>(
    oc: &mut OpCtx<'a>,
    b: &PathEntry<'a>,
    bop: &'a Operation,
    bptr: &str,
    r: &PathEntry<'a>,
    rop: &'a Operation,
    rptr: &str,
) {
    lifecycle(oc, bop, bptr, rop, rptr);
    security::compare(oc, bop, bptr, rop, rptr);
    params::compare(
        oc,
        params::Side {
            entry: b,
            op: bop,
            ptr: bptr,
        },
        params::Side {
            entry: r,
            op: rop,
            ptr: rptr,
        },
    );
    request::compare(
        oc,
        bop.request_body.as_ref(),
        &format!("{bptr}/requestBody"),
        rop.request_body.as_ref(),
        &format!("{rptr}/requestBody"),
    );
    responses::compare(
        oc,
        &bop.responses,
        &format!("{bptr}/responses"),
        &rop.responses,
        &format!("{rptr}/responses"),
    );
}

/// The stability levels of `x-stability-level`, least stable first.
const STABILITY: [&str; 4] = ["draft", "alpha", "beta", "stable"];

/// `x-stability-level` on an operation: a promise about how much it may still
/// change, which may grow but not shrink.
fn stability(oc: &mut OpCtx<'_>, bop: &Operation, bptr: &str, rop: &Operation, rptr: &str) {
    let level = |op: &Operation| -> Option<Result<usize, String>> {
        let v = op.extensions.get("x-stability-level")?;
        Some(
            v.as_str()
                .and_then(|s| STABILITY.iter().position(|l| *l == s))
                .ok_or_else(|| v.to_string()),
        )
    };
    match (level(bop), level(rop)) {
        (Some(Err(text)), after) if after != level(bop) => oc.emit(
            "api-invalid-stability-level",
            Level::Error,
            Some(&format!("{bptr}/x-stability-level")),
            None,
            format!(
                "The base version's x-stability-level {} is not one of draft, alpha, beta, stable.",
                code(&text)
            ),
        ),
        (_, Some(Err(text))) => oc.emit(
            "api-invalid-stability-level",
            Level::Error,
            None,
            Some(&format!("{rptr}/x-stability-level")),
            format!(
                "The operation's x-stability-level {} is not one of draft, alpha, beta, stable.",
                code(&text)
            ),
        ),
        (Some(Ok(old)), Some(Ok(new))) if new < old => oc.emit(
            "api-stability-decreased",
            Level::Error,
            Some(&format!("{bptr}/x-stability-level")),
            Some(&format!("{rptr}/x-stability-level")),
            format!(
                "The operation's stability decreased from {} to {}.",
                STABILITY[old], STABILITY[new]
            ),
        ),
        _ => {}
    }
}

/// Deprecation, operationId and tags.
fn lifecycle(oc: &mut OpCtx<'_>, bop: &Operation, bptr: &str, rop: &Operation, rptr: &str) {
    stability(oc, bop, bptr, rop, rptr);
    let (old, new) = (
        sunset::sunset(&bop.extensions),
        sunset::sunset(&rop.extensions),
    );
    let at = |ptr: &str| format!("{ptr}/x-sunset");
    let Some(transition) =
        sunset::transition((bop.deprecated, &old), (rop.deprecated, &new), oc.today)
    else {
        return operation_ids(oc, bop, bptr, rop, rptr);
    };
    let sunset_named = !matches!(transition, Transition::Deprecated | Transition::Reactivated);
    let (id, level, text) = match transition {
        Transition::Deprecated => (
            "endpoint-deprecated",
            Level::Info,
            "The operation was deprecated.".to_string(),
        ),
        Transition::DeprecatedWithSunset(date) => (
            "endpoint-deprecated-with-sunset",
            Level::Info,
            format!("The operation was deprecated with sunset date {date}."),
        ),
        Transition::SunsetTooSoon(date) => (
            "api-sunset-date-too-small",
            Level::Error,
            format!(
                "The operation was deprecated with sunset date {date}, which has already passed."
            ),
        ),
        Transition::SunsetInvalid(text) => (
            if bop.deprecated {
                "api-path-sunset-parse"
            } else {
                "api-deprecated-sunset-parse"
            },
            Level::Error,
            format!(
                "The operation's x-sunset {} is not a YYYY-MM-DD date.",
                code(&text)
            ),
        ),
        Transition::Reactivated => (
            "endpoint-reactivated",
            Level::Info,
            "The operation is no longer deprecated.".to_string(),
        ),
        Transition::SunsetDeleted(date) => (
            "sunset-deleted",
            Level::Error,
            format!(
                "The operation's announced sunset date {date} was deleted while it stays deprecated."
            ),
        ),
        Transition::SunsetEarlier(old, new) => (
            "api-sunset-date-changed-too-small",
            Level::Error,
            format!("The operation's sunset date moved earlier, from {old} to {new}."),
        ),
    };
    let (bp, rp) = if sunset_named {
        (at(bptr), at(rptr))
    } else {
        (bptr.to_string(), rptr.to_string())
    };
    oc.emit(id, level, Some(&bp), Some(&rp), text);
    operation_ids(oc, bop, bptr, rop, rptr);
}

/// operationId and tags.
fn operation_ids(oc: &mut OpCtx<'_>, bop: &Operation, bptr: &str, rop: &Operation, rptr: &str) {
    let (bid_ptr, rid_ptr) = (format!("{bptr}/operationId"), format!("{rptr}/operationId"));
    match (&bop.operation_id, &rop.operation_id) {
        (Some(old), Some(new)) if old != new => {
            // Generated SDKs name methods after operationId.
            let text = format!(
                "The operationId changed from {} to {}.",
                code(old),
                code(new)
            );
            oc.emit(
                "api-operation-id-changed",
                Level::Warning,
                Some(&bid_ptr),
                Some(&rid_ptr),
                text,
            );
        }
        (Some(old), None) => {
            let text = format!("The operationId {} was removed.", code(old));
            oc.emit(
                "api-operation-id-removed",
                Level::Warning,
                Some(&bid_ptr),
                None,
                text,
            );
        }
        (None, Some(new)) => {
            let text = format!("The operationId {} was added.", code(new));
            oc.emit(
                "api-operation-id-added",
                Level::Info,
                None,
                Some(&rid_ptr),
                text,
            );
        }
        _ => {}
    }

    for (index, tag) in bop.tags.iter().enumerate() {
        if !rop.tags.contains(tag) {
            let ptr = format!("{bptr}/tags/{index}");
            let text = format!("The tag {} was removed from the operation.", code(tag));
            oc.emit("api-tag-removed", Level::Info, Some(&ptr), None, text);
        }
    }
    for (index, tag) in rop.tags.iter().enumerate() {
        if !bop.tags.contains(tag) {
            let ptr = format!("{rptr}/tags/{index}");
            let text = format!("The tag {} was added to the operation.", code(tag));
            oc.emit("api-tag-added", Level::Info, None, Some(&ptr), text);
        }
    }
}

/// Document-level changes: component schemas that disappeared. Their effect on
/// operations is reported per operation; this tells generators and `$ref`
/// consumers outside the document that a name went away.
pub(crate) fn compare_components(base: &OpenAPI, rev: &OpenAPI, out: &mut Vec<Change>) {
    webhooks(base, rev, out);
    security_schemes(base, rev, out);
    let Some(old) = base.components.as_ref() else {
        return;
    };
    let new = rev.components.as_ref();
    for name in old.schemas.keys() {
        if name.starts_with(crate::loader::shared::PREFIX)
            || new.is_some_and(|c| c.schemas.contains_key(name))
        {
            continue;
        }
        let ptr = format!(
            "/components/schemas/{}",
            crate::resolve::escape_segment(name)
        );
        let text = format!("The component schema {} was removed.", code(name));
        out.push(document_change(
            "api-schema-removed",
            Level::Info,
            Some(ptr),
            None,
            text,
        ));
    }
}

/// OpenAPI 3.1 webhooks (kept by the loader in `x-oas31-webhooks`): a partner
/// who registered for a webhook stops receiving it when it is removed.
fn webhooks(base: &OpenAPI, rev: &OpenAPI, out: &mut Vec<Change>) {
    let names = |doc: &OpenAPI| -> Vec<String> {
        doc.extensions
            .get(&crate::loader::stashed("webhooks"))
            .and_then(serde_json::Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (old, new) = (names(base), names(rev));
    for name in old.iter().filter(|n| !new.contains(n)) {
        let ptr = format!("/webhooks/{}", crate::resolve::escape_segment(name));
        let text = format!("The webhook {} was removed.", code(name));
        out.push(document_change(
            "webhook-removed",
            Level::Error,
            Some(ptr),
            None,
            text,
        ));
    }
    for name in new.iter().filter(|n| !old.contains(n)) {
        let ptr = format!("/webhooks/{}", crate::resolve::escape_segment(name));
        let text = format!("The webhook {} was added.", code(name));
        out.push(document_change(
            "webhook-added",
            Level::Info,
            None,
            Some(ptr),
            text,
        ));
    }
}

/// Security schemes of `components`: added, removed, or of another type. What
/// operations require is compared per operation; this is the catalogue of schemes.
fn security_schemes<'a>(base: &'a OpenAPI, rev: &'a OpenAPI, out: &mut Vec<Change>) {
    let schemes = |doc: &OpenAPI| -> Vec<(String, Option<&'static str>)> {
        doc.components
            .iter()
            .flat_map(|c| c.security_schemes.iter())
            .map(|(name, s)| {
                let kind = match s {
                    openapiv3::ReferenceOr::Item(openapiv3::SecurityScheme::APIKey { .. }) => {
                        Some("apiKey")
                    }
                    openapiv3::ReferenceOr::Item(openapiv3::SecurityScheme::HTTP { .. }) => {
                        Some("http")
                    }
                    openapiv3::ReferenceOr::Item(openapiv3::SecurityScheme::OAuth2 { .. }) => {
                        Some("oauth2")
                    }
                    openapiv3::ReferenceOr::Item(openapiv3::SecurityScheme::OpenIDConnect {
                        ..
                    }) => Some("openIdConnect"),
                    openapiv3::ReferenceOr::Reference { .. } => None,
                };
                (name.clone(), kind)
            })
            .collect()
    };
    let (old, new) = (schemes(base), schemes(rev));
    let ptr = |name: &str| {
        format!(
            "/components/securitySchemes/{}",
            crate::resolve::escape_segment(name)
        )
    };
    for (name, kind) in &old {
        match new.iter().find(|(n, _)| n == name) {
            None => out.push(document_change(
                "api-security-component-removed",
                Level::Info,
                Some(ptr(name)),
                None,
                format!(
                    "The security scheme {} was removed from the components.",
                    code(name)
                ),
            )),
            Some((_, other)) if other != kind => out.push(document_change(
                "api-security-component-type-changed",
                Level::Info,
                Some(ptr(name)),
                Some(ptr(name)),
                format!(
                    "The security scheme {} changed type from {} to {}.",
                    code(name),
                    code(kind.unwrap_or("a reference")),
                    code(other.unwrap_or("a reference"))
                ),
            )),
            Some(_) => {}
        }
    }
    let oauth = |doc: &'a OpenAPI, name: &str| match doc
        .components
        .as_ref()
        .and_then(|c| c.security_schemes.get(name))
    {
        Some(openapiv3::ReferenceOr::Item(openapiv3::SecurityScheme::OAuth2 { flows, .. })) => {
            Some(flows)
        }
        _ => None,
    };
    for (name, _) in &old {
        if let (Some(a), Some(b)) = (oauth(base, name), oauth(rev, name)) {
            oauth_changes(name, a, b, out);
        }
    }
    for (name, _) in new.iter().filter(|(n, _)| !old.iter().any(|(o, _)| o == n)) {
        out.push(document_change(
            "api-security-component-added",
            Level::Info,
            None,
            Some(ptr(name)),
            format!(
                "The security scheme {} was added to the components.",
                code(name)
            ),
        ));
    }
}

/// One OAuth2 flow as the diff reads it: (name in the document, authorization
/// URL, token URL, scopes with their descriptions).
type Flow<'a> = (
    &'static str,
    Option<&'a str>,
    Option<&'a str>,
    &'a indexmap::IndexMap<String, String>,
);

fn oauth_flows(flows: &openapiv3::OAuth2Flows) -> Vec<Flow<'_>> {
    let mut out = Vec::new();
    if let Some(f) = &flows.implicit {
        out.push((
            "implicit",
            Some(f.authorization_url.as_str()),
            None,
            &f.scopes,
        ));
    }
    if let Some(f) = &flows.password {
        out.push(("password", None, Some(f.token_url.as_str()), &f.scopes));
    }
    if let Some(f) = &flows.client_credentials {
        out.push((
            "clientCredentials",
            None,
            Some(f.token_url.as_str()),
            &f.scopes,
        ));
    }
    if let Some(f) = &flows.authorization_code {
        out.push((
            "authorizationCode",
            Some(f.authorization_url.as_str()),
            Some(f.token_url.as_str()),
            &f.scopes,
        ));
    }
    out
}

/// The flows of an OAuth2 scheme present in both documents: a partner's
/// client is configured with their URLs and asks for their scopes. oasdiff
/// compares the implicit flow only; every flow is compared here, since the
/// client-credentials flow is the one partner integrations use.
fn oauth_changes(
    name: &str,
    old: &openapiv3::OAuth2Flows,
    new: &openapiv3::OAuth2Flows,
    out: &mut Vec<Change>,
) {
    let new_flows = oauth_flows(new);
    for (flow, old_auth, old_token, old_scopes) in oauth_flows(old) {
        let Some((_, new_auth, new_token, new_scopes)) =
            new_flows.iter().find(|(f, ..)| *f == flow)
        else {
            continue;
        };
        let at = |member: &str| {
            format!(
                "/components/securitySchemes/{}/flows/{flow}/{member}",
                crate::resolve::escape_segment(name)
            )
        };
        let scheme = code(name);
        let mut change = |id: &str, member: &str, text: String| {
            let ptr = at(member);
            out.push(document_change(
                id,
                Level::Info,
                Some(ptr.clone()),
                Some(ptr),
                text,
            ));
        };
        if let (Some(a), Some(b)) = (old_auth, new_auth)
            && a != *b
        {
            change(
                "api-security-component-oauth-url-changed",
                "authorizationUrl",
                format!(
                    "The authorization URL of the {flow} flow of {scheme} changed from {a} to {b}."
                ),
            );
        }
        if let (Some(a), Some(b)) = (old_token, new_token)
            && a != *b
        {
            change(
                "api-security-component-oauth-token-url-changed",
                "tokenUrl",
                format!("The token URL of the {flow} flow of {scheme} changed from {a} to {b}."),
            );
        }
        for (scope, description) in old_scopes {
            let member = format!("scopes/{}", crate::resolve::escape_segment(scope));
            match new_scopes.get(scope) {
                None => change(
                    "api-security-component-oauth-scope-removed",
                    &member,
                    format!(
                        "The scope {} was removed from the {flow} flow of {scheme}.",
                        code(scope)
                    ),
                ),
                Some(other) if other != description => change(
                    "api-security-component-oauth-scope-changed",
                    &member,
                    format!(
                        "The description of the scope {} of the {flow} flow of {scheme} changed.",
                        code(scope)
                    ),
                ),
                Some(_) => {}
            }
        }
        for scope in new_scopes.keys().filter(|s| !old_scopes.contains_key(*s)) {
            let member = format!("scopes/{}", crate::resolve::escape_segment(scope));
            change(
                "api-security-component-oauth-scope-added",
                &member,
                format!(
                    "The scope {} was added to the {flow} flow of {scheme}.",
                    code(scope)
                ),
            );
        }
    }
}
