//! Structural rules users know from Spectral's `spectral:oas` ruleset, under the
//! same ids: enums whose values fit their type and appear once, arrays with
//! `items`, paths without queries or empty parameters, unique parameters,
//! URL-safe operationIds, declared tags, servers, examples with one value, and
//! no script or `eval` in Markdown (pure: no I/O).

use std::collections::HashSet;

use serde_json::Value;

use super::context::{Ctx, Hit, location, schema_sites};
use crate::loader::SpecVersion;
use crate::resolve::escape_segment;

/// Whether a JSON value has the OpenAPI type `typ`.
fn has_type(value: &Value, typ: &str) -> bool {
    match typ {
        "string" => value.is_string(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// `typed-enum`: every enum value has the schema's type (`null` only when the
/// schema accepts null).
pub(super) fn typed_enum(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for site in schema_sites(ctx.raw) {
        let Some(Value::Array(values)) = site.schema.get("enum") else {
            continue;
        };
        let types: Vec<&str> = match site.schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let nullable = site.schema.get("nullable") == Some(&Value::Bool(true));
        for (i, v) in values.iter().enumerate() {
            if (v.is_null() && nullable) || types.iter().any(|t| has_type(v, t)) {
                continue;
            }
            out.push(Hit::new(
                format!("{}/enum/{i}", site.pointer),
                format!(
                    "The enum value {v} is not of the schema's type ({}).",
                    types.join(", ")
                ),
            ));
        }
    }
}

/// `duplicated-entry-in-enum`: each enum value appears once.
pub(super) fn duplicated_entry_in_enum(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for site in schema_sites(ctx.raw) {
        let Some(Value::Array(values)) = site.schema.get("enum") else {
            continue;
        };
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                out.push(Hit::new(
                    format!("{}/enum/{i}", site.pointer),
                    format!("The enum value {v} appears more than once."),
                ));
            }
        }
    }
}

/// `array-items`: an array schema says what its items are (OpenAPI 3.0 requires
/// it; in 3.1 `prefixItems` may say it instead).
pub(super) fn array_items(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for site in schema_sites(ctx.raw) {
        let is_array = match site.schema.get("type") {
            Some(Value::String(t)) => t == "array",
            Some(Value::Array(list)) => list.iter().any(|t| t == "array"),
            _ => false,
        };
        let described = site.schema.contains_key("items")
            || (ctx.version == SpecVersion::V31 && site.schema.contains_key("prefixItems"));
        if is_array && !described {
            out.push(Hit::new(
                site.pointer.clone(),
                "An array schema has no `items`, so clients cannot know what it holds.",
            ));
        }
    }
}

/// `path-not-include-query` and `path-declarations-must-exist`: a path holds
/// neither a query string nor an empty `{}`.
pub(super) fn path_shape(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for path in ctx.doc.paths.paths.keys() {
        let at = format!("/paths/{}", escape_segment(path));
        if path.contains('?') {
            out.push(Hit::new(
                at.clone(),
                "The path includes a query string; declare query parameters instead.",
            ));
        }
        if path.contains("{}") {
            out.push(Hit::new(at, "The path has an empty parameter `{}`."));
        }
    }
}

/// `operation-parameters`: an operation does not declare the same parameter
/// (name and location) twice.
pub(super) fn unique_parameters(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        let mut seen = HashSet::new();
        for (i, r) in op.op.parameters.iter().enumerate() {
            let Some(p) = crate::resolve::resolve_parameter(ctx.doc, r) else {
                continue;
            };
            let name = &p.parameter_data_ref().name;
            // Header names compare without regard to case (RFC 9110).
            let name = if location(p) == "header" {
                name.to_ascii_lowercase()
            } else {
                name.clone()
            };
            let key = (name, location(p));
            if !seen.insert(key.clone()) {
                out.push(Hit::new(
                    format!("{}/parameters/{i}", op.pointer),
                    format!(
                        "{} declares the {} parameter `{}` twice.",
                        op.label, key.1, key.0
                    ),
                ));
            }
        }
    }
}

/// `operation-operationId-valid-in-url`: operationIds are usable in URLs and as
/// identifiers (letters, digits and `-._~:/` of RFC 3986's unreserved set).
pub(super) fn operation_id_url_safe(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        let Some(id) = &op.op.operation_id else {
            continue;
        };
        let ok = id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/!$&'()*+,;=@".contains(c));
        if !ok {
            out.push(Hit::new(
                format!("{}/operationId", op.pointer),
                format!("The operationId `{id}` has characters that are not allowed in a URL."),
            ));
        }
    }
}

/// `operation-tag-defined`: tags used by operations are declared in `tags`.
pub(super) fn operation_tag_defined(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if ctx.doc.tags.is_empty() {
        // A document that declares no tags at all is covered by `operation-tags`.
        return;
    }
    let declared: HashSet<&str> = ctx.doc.tags.iter().map(|t| t.name.as_str()).collect();
    for op in &ctx.ops {
        for (i, tag) in op.op.tags.iter().enumerate() {
            if !declared.contains(tag.as_str()) {
                out.push(Hit::new(
                    format!("{}/tags/{i}", op.pointer),
                    format!("The tag `{tag}` is not declared in the document's `tags`."),
                ));
            }
        }
    }
}

/// `oas3-api-servers` and `oas3-server-trailing-slash`: the document names its
/// servers, and their URLs do not end with a slash (paths start with one).
pub(super) fn servers(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    if ctx.doc.servers.is_empty() {
        out.push(Hit::new("", "The document declares no servers."));
    }
    for (i, s) in ctx.doc.servers.iter().enumerate() {
        if s.url.len() > 1 && s.url.ends_with('/') {
            out.push(Hit::new(
                format!("/servers/{i}/url"),
                format!("The server URL `{}` ends with a slash.", s.url),
            ));
        }
    }
}

/// `oas3-examples-value-or-externalValue`: an Example object has `value` or
/// `externalValue`, not both.
pub(super) fn example_value_or_external(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let mut check = |at: String, e: &Value| {
        if e.get("value").is_some() && e.get("externalValue").is_some() {
            out.push(Hit::new(
                at,
                "The example has both `value` and `externalValue`.",
            ));
        }
    };
    if let Some(Value::Object(examples)) = ctx.raw.pointer("/components/examples") {
        for (name, e) in examples {
            check(format!("/components/examples/{}", escape_segment(name)), e);
        }
    }
    for site in super::context::sites(ctx.raw).media {
        if let Some(Value::Object(examples)) = site.media.get("examples") {
            for (name, e) in examples {
                check(
                    format!("{}/examples/{}", site.pointer, escape_segment(name)),
                    e,
                );
            }
        }
    }
}

/// `no-script-tags-in-markdown` and `no-eval-in-markdown`: descriptions are
/// rendered as Markdown in portals, where a script would run in readers' browsers.
pub(super) fn markdown_scripts(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    fn walk(v: &Value, at: &mut String, out: &mut Vec<Hit>, depth: usize) {
        if depth > 64 {
            return;
        }
        match v {
            Value::Object(map) => {
                for (key, child) in map {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&escape_segment(key));
                    if matches!(key.as_str(), "description" | "title")
                        && let Value::String(text) = child
                    {
                        let lower = text.to_ascii_lowercase();
                        if lower.contains("<script") {
                            out.push(Hit::new(
                                at.clone(),
                                "Markdown must not contain `<script>` tags.",
                            ));
                        }
                        if lower.contains("eval(") {
                            out.push(Hit::new(at.clone(), "Markdown must not contain `eval(`."));
                        }
                    } else if !matches!(key.as_str(), "example" | "examples" | "default" | "enum") {
                        walk(child, at, out, depth + 1);
                    }
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&i.to_string());
                    walk(child, at, out, depth + 1);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }
    walk(ctx.raw, &mut String::new(), out, 0);
}
