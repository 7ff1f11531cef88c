//! Document-level rules: info, servers, security schemes and component hygiene (pure: no I/O).

use std::collections::{HashSet, VecDeque};

use openapiv3::{ReferenceOr, SecurityScheme, Server};
use serde_json::Value;

use super::context::{Ctx, Hit, blank};
use crate::loader::is_payload;
use crate::resolve::percent_decode;
use crate::resolve::{component_pointer, unescape_segment};

pub(super) fn info_contact(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let Some(contact) = &ctx.doc.info.contact else {
        out.push(Hit::new("/info", "info has no contact."));
        return;
    };
    if blank(&contact.name) {
        out.push(Hit::new("/info/contact", "info.contact has no name."));
    }
    if blank(&contact.email) && blank(&contact.url) {
        out.push(Hit::new(
            "/info/contact",
            "info.contact has neither an email nor a url.",
        ));
    }
}

pub(super) fn info_description(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if blank(&ctx.doc.info.description) {
        out.push(Hit::new("/info", "info has no description."));
    }
}

/// The URL with server variables replaced by their defaults.
fn expand(server: &Server) -> String {
    let mut url = server.url.clone();
    for (name, var) in server.variables.iter().flatten() {
        url = url.replace(&format!("{{{name}}}"), &var.default);
    }
    url
}

fn is_local(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    matches!(
        host.as_str(),
        "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0"
    ) || host.ends_with(".localhost")
}

/// Relative URLs (`/v1`) inherit the scheme the document is served with, so only
/// absolute non-HTTPS URLs are flagged.
fn insecure(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let Some((scheme, rest)) = lower.split_once("://") else {
        return false;
    };
    if scheme == "https" || scheme == "wss" {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or(host_port)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    !is_local(host)
}

pub(super) fn server_urls_https(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let mut lists: Vec<(&[Server], String)> = vec![(&ctx.doc.servers, "/servers".to_string())];
    for (path, item) in &ctx.doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let base = format!("/paths/{}", crate::resolve::escape_segment(path));
        lists.push((&item.servers, format!("{base}/servers")));
        for (method, op) in item.iter() {
            lists.push((&op.servers, format!("{base}/{method}/servers")));
        }
    }
    for (servers, at) in lists {
        for (i, server) in servers.iter().enumerate() {
            let url = expand(server);
            if insecure(&url) {
                out.push(Hit::new(
                    format!("{at}/{i}/url"),
                    format!("Server URL `{}` does not use HTTPS.", server.url),
                ));
            }
        }
    }
}

pub(super) fn no_http_basic(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for (name, r) in ctx
        .doc
        .components
        .iter()
        .flat_map(|c| c.security_schemes.iter())
    {
        if let ReferenceOr::Item(SecurityScheme::HTTP { scheme, .. }) = r
            && scheme.trim().eq_ignore_ascii_case("basic")
        {
            out.push(Hit::new(
                format!("{}/scheme", component_pointer("securitySchemes", name)),
                format!(
                    "Security scheme `{name}` uses HTTP Basic authentication; prefer OAuth2 or bearer tokens."
                ),
            ));
        }
    }
}

const SECTIONS: [&str; 9] = [
    "schemas",
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "examples",
    "securitySchemes",
    "links",
    "callbacks",
];

/// `#/components/schemas/Order/properties/id` → (`schemas`, `Order`).
fn target(reference: &str) -> Option<(String, String)> {
    let rest = reference.strip_prefix("#/components/")?;
    let rest = percent_decode(rest);
    let mut parts = rest.split('/');
    let section = parts.next()?.to_string();
    let name = unescape_segment(parts.next()?);
    Some((section, name))
}

/// Every `$ref` (and discriminator mapping, which names schemas too) under `v`.
fn collect_refs(v: &Value, segments: &mut Vec<String>, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (key, child) in map {
                if is_payload(key, segments) {
                    continue;
                }
                if key == "$ref"
                    && let Value::String(r) = child
                {
                    out.push(r.clone());
                    continue;
                }
                if key == "mapping"
                    && segments.last().is_some_and(|s| s == "discriminator")
                    && let Value::Object(mapping) = child
                {
                    for target in mapping.values().filter_map(Value::as_str) {
                        if target.starts_with('#') {
                            out.push(target.to_string());
                        } else {
                            out.push(format!("#/components/schemas/{target}"));
                        }
                    }
                    continue;
                }
                segments.push(key.clone());
                collect_refs(child, segments, out);
                segments.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                segments.push(i.to_string());
                collect_refs(child, segments, out);
                segments.pop();
            }
        }
        _ => {}
    }
}

/// Components count as used only if reachable from outside `components`: a schema
/// used solely by another unused schema (or by itself) is unused too.
pub(super) fn no_unused_components(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let Some(root) = ctx.raw.as_object() else {
        return;
    };
    let Some(Value::Object(components)) = root.get("components") else {
        return;
    };
    let mut refs = Vec::new();
    for (key, v) in root {
        if key != "components" {
            let mut segments = vec![key.clone()];
            collect_refs(v, &mut segments, &mut refs);
        }
    }
    let mut used: HashSet<(String, String)> = HashSet::new();
    // Security schemes are referenced by name from security requirements.
    let requirements = ctx.doc.security.iter().flatten().chain(
        ctx.ops
            .iter()
            .flat_map(|op| op.op.security.iter().flatten()),
    );
    for req in requirements {
        for name in req.keys() {
            used.insert(("securitySchemes".to_string(), name.clone()));
        }
    }
    let mut queue: VecDeque<String> = refs.into();
    while let Some(r) = queue.pop_front() {
        let Some((section, name)) = target(&r) else {
            continue;
        };
        let Some(def) = components
            .get(&section)
            .and_then(Value::as_object)
            .and_then(|m| m.get(&name))
        else {
            continue;
        };
        if used.insert((section.clone(), name.clone())) {
            let mut inner = Vec::new();
            let mut segments = vec!["components".to_string(), section, name];
            collect_refs(def, &mut segments, &mut inner);
            queue.extend(inner);
        }
    }
    for section in SECTIONS {
        let Some(Value::Object(defs)) = components.get(section) else {
            continue;
        };
        for name in defs.keys() {
            if !used.contains(&(section.to_string(), name.clone())) {
                out.push(Hit::new(
                    component_pointer(section, name),
                    format!("Component `{name}` in components.{section} is never used."),
                ));
            }
        }
    }
}

/// What the loader had to read past to load the document at all.
pub(crate) fn spec_violations(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    out.extend(
        ctx.violations
            .iter()
            .map(|v| Hit::new(v.pointer.clone(), v.message.clone())),
    );
}
