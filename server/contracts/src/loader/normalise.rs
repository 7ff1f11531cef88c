//! Brings any document that declares `openapi: 3.0.x` or `3.1.x` into the shape the
//! typed 3.0 model (`openapiv3`) can hold, and says what it had to change.
//!
//! Two kinds of change happen here, on a copy of the tree (the tree as written
//! stays the source of pointers and lines):
//!
//! - **Lowering 3.1.** JSON Schema 2020-12 keywords that have an exact 3.0 form
//!   take it (`type: [T, "null"]` is `type: T, nullable: true`; a numeric
//!   `exclusiveMinimum` is `minimum` plus the boolean). Keywords 3.0 has no place
//!   for (`const`, `prefixItems`, `if`/`then`/`else`, a list of several types, …)
//!   are kept under [`STASH`]-prefixed extensions, which the typed model keeps
//!   verbatim, so the diff can compare them and the gateway can validate with
//!   them. Boolean schemas become `{}` and `{"not": {}}`. Path items referenced
//!   from `components/pathItems` are inlined, and `webhooks` is stashed at the root.
//! - **Leniency.** Real documents break small rules of the spec: an operation
//!   without `responses`, a response without `description`, an OAuth2 flow without
//!   `scopes`. Each such member is filled with its empty value and reported as a
//!   [`Violation`], so the document is still compared and linted, and the report
//!   says what was wrong and where.

use serde_json::{Map, Value};

use super::{SpecVersion, Violation};
use crate::resolve::{component_name, escape_segment};

/// Prefix of the extensions that carry 3.1 content the 3.0 model has no field for.
pub const STASH: &str = "x-oas31-";

/// 2020-12 keywords whose value is one schema.
const SUBSCHEMA: [&str; 8] = [
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
/// 2020-12 keywords whose value is a map of schemas.
const SUBSCHEMA_MAPS: [&str; 3] = ["dependentSchemas", "patternProperties", "$defs"];
/// 2020-12 keywords with plain values the 3.0 model drops.
const PLAIN: [&str; 6] = [
    "const",
    "minContains",
    "maxContains",
    "dependentRequired",
    "contentMediaType",
    "contentEncoding",
];

/// The stash name of a 2020-12 keyword (`const` is kept as `x-oas31-const`).
pub fn stashed(keyword: &str) -> String {
    format!("{STASH}{keyword}")
}

struct Pass<'a> {
    version: SpecVersion,
    /// `components/pathItems` of the document, for inlining path item references.
    path_items: Option<Map<String, Value>>,
    out: &'a mut Vec<Violation>,
}

impl Pass<'_> {
    fn violation(&mut self, pointer: String, message: String) {
        self.out.push(Violation {
            pointer,
            message,
            line: None,
        });
    }

    /// Fills a missing required member with its empty value and reports it.
    fn require(
        &mut self,
        obj: &mut Map<String, Value>,
        at: &str,
        key: &str,
        empty: Value,
        what: &str,
    ) {
        if !obj.contains_key(key) {
            obj.insert(key.to_string(), empty);
            self.violation(
                child(at, key),
                format!("{what} must have `{key}`; read as empty"),
            );
        }
    }
}

fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", escape_segment(key))
}

/// Normalises `root` in place; violations are appended to `out` (lines unset).
pub fn normalise(root: &mut Value, version: SpecVersion, out: &mut Vec<Violation>) {
    let path_items = match version {
        SpecVersion::V31 => root
            .pointer("/components/pathItems")
            .and_then(Value::as_object)
            .cloned(),
        SpecVersion::V30 => None,
    };
    let mut pass = Pass {
        version,
        path_items,
        out,
    };
    let Some(obj) = root.as_object_mut() else {
        return;
    };
    if !obj.get("info").is_some_and(Value::is_object) {
        obj.insert("info".into(), Value::Object(Map::new()));
        pass.violation(
            "/info".into(),
            "the document must have an `info` object; read as empty".into(),
        );
    }
    if let Some(Value::Object(info)) = obj.get_mut("info") {
        pass.require(
            info,
            "/info",
            "title",
            Value::String(String::new()),
            "`info`",
        );
        pass.require(
            info,
            "/info",
            "version",
            Value::String(String::new()),
            "`info`",
        );
        if let Some(Value::Object(license)) = info.get_mut("license") {
            // 3.1 lets a license be named by its SPDX `identifier` alone in practice.
            if !license.contains_key("name") {
                let name = license
                    .get("identifier")
                    .cloned()
                    .unwrap_or(Value::String(String::new()));
                license.insert("name".into(), name);
                if version == SpecVersion::V30 {
                    pass.violation(
                        "/info/license/name".into(),
                        "`license` must have `name`".into(),
                    );
                }
            }
        }
    }
    match obj.get_mut("paths") {
        Some(Value::Object(paths)) => {
            for (path, item) in paths.iter_mut() {
                if path.starts_with('/') {
                    let at = child("/paths", path);
                    path_item(&mut pass, item, &at);
                }
            }
        }
        Some(_) => {
            pass.violation(
                "/paths".into(),
                "`paths` must be a mapping; read as empty".into(),
            );
            obj.insert("paths".into(), Value::Object(Map::new()));
        }
        None => {
            // 3.1 documents may describe only webhooks or components.
            if version == SpecVersion::V30 {
                pass.violation(
                    "/paths".into(),
                    "the document must have a `paths` object; read as empty".into(),
                );
            }
            obj.insert("paths".into(), Value::Object(Map::new()));
        }
    }
    if let Some(Value::Object(components)) = obj.get_mut("components") {
        components_(&mut pass, components);
    }
    if let Some(webhooks) = obj.remove("webhooks") {
        obj.insert(stashed("webhooks"), webhooks);
    }
    for (key, kind) in [
        ("security", "security requirement"),
        ("tags", "tag"),
        ("servers", "server"),
    ] {
        if obj.get(key).is_some_and(|v| !v.is_array()) {
            obj.remove(key);
            pass.violation(
                format!("/{key}"),
                format!("`{key}` must be a list of {kind}s; ignored"),
            );
        }
    }
}

fn components_(pass: &mut Pass<'_>, components: &mut Map<String, Value>) {
    if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
        for s in schemas.values_mut() {
            schema(pass, s);
        }
    }
    for (section, f) in [
        ("responses", response as fn(&mut Pass<'_>, &mut Value, &str)),
        ("parameters", parameter),
        ("headers", parameter),
        ("requestBodies", request_body),
        ("securitySchemes", security_scheme),
    ] {
        if let Some(Value::Object(entries)) = components.get_mut(section) {
            let base = format!("/components/{section}");
            for (name, v) in entries.iter_mut() {
                f(pass, v, &child(&base, name));
            }
        }
    }
}

fn path_item(pass: &mut Pass<'_>, item: &mut Value, at: &str) {
    // A 3.1 path item may be a reference to `components/pathItems`: inline it, so
    // that every consumer of the typed model sees the operations.
    if let Some(target) = item
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| component_name(r, "pathItems"))
        .and_then(|name| pass.path_items.as_ref()?.get(&name))
        .cloned()
    {
        *item = target;
    }
    let Some(obj) = item.as_object_mut() else {
        return;
    };
    if obj.contains_key("$ref") {
        return;
    }
    for method in super::METHODS {
        if let Some(op) = obj.get_mut(method) {
            operation(pass, op, &child(at, method));
        }
    }
    parameters(pass, obj, at);
}

fn parameters(pass: &mut Pass<'_>, obj: &mut Map<String, Value>, at: &str) {
    if let Some(Value::Array(list)) = obj.get_mut("parameters") {
        for (i, p) in list.iter_mut().enumerate() {
            parameter(pass, p, &format!("{at}/parameters/{i}"));
        }
    }
}

fn operation(pass: &mut Pass<'_>, op: &mut Value, at: &str) {
    let Some(obj) = op.as_object_mut() else {
        return;
    };
    match obj.get_mut("responses") {
        Some(Value::Object(responses)) => {
            for (code, r) in responses.iter_mut() {
                if !code.starts_with("x-") {
                    response(pass, r, &child(&child(at, "responses"), code));
                }
            }
        }
        Some(_) => {
            obj.insert("responses".into(), Value::Object(Map::new()));
            pass.violation(
                child(at, "responses"),
                "`responses` must be a mapping of status codes to responses; read as none".into(),
            );
        }
        None => {
            obj.insert("responses".into(), Value::Object(Map::new()));
            // 3.1 made `responses` optional.
            if pass.version == SpecVersion::V30 {
                pass.violation(
                    child(at, "responses"),
                    "an operation must have `responses`; read as none".into(),
                );
            }
        }
    }
    if let Some(body) = obj.get_mut("requestBody") {
        request_body(pass, body, &child(at, "requestBody"));
    }
    parameters(pass, obj, at);
    if let Some(Value::Object(callbacks)) = obj.get_mut("callbacks") {
        let base = child(at, "callbacks");
        for (name, callback) in callbacks.iter_mut() {
            if let Some(expressions) = callback.as_object_mut() {
                let here = child(&base, name);
                for (expression, item) in expressions.iter_mut() {
                    path_item(pass, item, &child(&here, expression));
                }
            }
        }
    }
}

fn request_body(pass: &mut Pass<'_>, body: &mut Value, at: &str) {
    if let Some(obj) = body.as_object_mut()
        && !obj.contains_key("$ref")
    {
        if !obj.contains_key("content") {
            pass.require(
                obj,
                at,
                "content",
                Value::Object(Map::new()),
                "a request body",
            );
        }
        content(pass, obj);
    }
}

fn response(pass: &mut Pass<'_>, r: &mut Value, at: &str) {
    let Some(obj) = r.as_object_mut() else {
        return;
    };
    if obj.contains_key("$ref") {
        return;
    }
    pass.require(
        obj,
        at,
        "description",
        Value::String(String::new()),
        "a response",
    );
    if let Some(Value::Object(headers)) = obj.get_mut("headers") {
        for (name, h) in headers.iter_mut() {
            parameter(pass, h, &child(&child(at, "headers"), name));
        }
    }
    content(pass, obj);
}

fn content(pass: &mut Pass<'_>, obj: &mut Map<String, Value>) {
    if let Some(Value::Object(types)) = obj.get_mut("content") {
        for media in types.values_mut() {
            if let Some(s) = media.get_mut("schema") {
                schema(pass, s);
            }
        }
    }
}

/// Parameters and headers: both carry a `schema` or a `content`.
fn parameter(pass: &mut Pass<'_>, p: &mut Value, at: &str) {
    let Some(obj) = p.as_object_mut() else {
        return;
    };
    if obj.contains_key("$ref") {
        return;
    }
    if let Some(s) = obj.get_mut("schema") {
        schema(pass, s);
    } else if !obj.contains_key("content") {
        obj.insert("schema".into(), Value::Object(Map::new()));
        pass.violation(
            at.to_string(),
            "a parameter or header must have `schema` or `content`; read as any value".into(),
        );
    }
    content(pass, obj);
}

fn security_scheme(pass: &mut Pass<'_>, s: &mut Value, at: &str) {
    let Some(obj) = s.as_object_mut() else {
        return;
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("oauth2") => {
            if !obj.get("flows").is_some_and(Value::is_object) {
                pass.require(
                    obj,
                    at,
                    "flows",
                    Value::Object(Map::new()),
                    "an OAuth2 scheme",
                );
            }
            if let Some(Value::Object(flows)) = obj.get_mut("flows") {
                for (name, flow) in flows.iter_mut() {
                    let Some(flow) = flow.as_object_mut() else {
                        continue;
                    };
                    let here = child(&child(at, "flows"), name);
                    let urls: &[&str] = match name.as_str() {
                        "implicit" => &["authorizationUrl"],
                        "password" | "clientCredentials" => &["tokenUrl"],
                        "authorizationCode" => &["authorizationUrl", "tokenUrl"],
                        _ => &[],
                    };
                    for url in urls {
                        pass.require(
                            flow,
                            &here,
                            url,
                            Value::String(String::new()),
                            "an OAuth2 flow",
                        );
                    }
                    pass.require(
                        flow,
                        &here,
                        "scopes",
                        Value::Object(Map::new()),
                        "an OAuth2 flow",
                    );
                }
            }
        }
        Some("http") => {
            pass.require(
                obj,
                at,
                "scheme",
                Value::String(String::new()),
                "an HTTP security scheme",
            );
        }
        Some("openIdConnect") => {
            pass.require(
                obj,
                at,
                "openIdConnectUrl",
                Value::String(String::new()),
                "an OpenID Connect scheme",
            );
        }
        // 3.1's mutual TLS has no 3.0 form: an HTTP scheme named for it keeps the
        // scheme's identity, so adding, removing or retyping it still shows.
        Some("mutualTLS") if pass.version == SpecVersion::V31 => {
            obj.insert("type".into(), Value::String("http".into()));
            obj.insert("scheme".into(), Value::String("mutualTLS".into()));
        }
        _ => {}
    }
}

/// Lowers one 3.1 schema (and every schema below it) in place; 3.0 schemas are
/// left as written.
fn schema(pass: &mut Pass<'_>, s: &mut Value) {
    if pass.version == SpecVersion::V31 {
        lower_schema(s, 0);
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.get("type").and_then(Value::as_str) == Some("null")
            && o.keys()
                .all(|k| matches!(k.as_str(), "type" | "description" | "title"))
    })
}

/// `anyOf: [X, {type: "null"}]` is how 3.1 writes 3.0's nullable composition:
/// the `null` alternative becomes `nullable: true`, and a single remaining
/// alternative becomes the schema itself (a reference as `allOf: [X]`, 3.0's
/// way to put keywords beside one), so migrating from 3.0 is not a change.
fn null_alternatives(obj: &mut Map<String, Value>) {
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(parts)) = obj.get_mut(key) else {
            continue;
        };
        let before = parts.len();
        parts.retain(|p| !is_null_schema(p));
        if parts.len() == before {
            continue;
        }
        obj.insert("nullable".into(), Value::Bool(true));
        let Some(Value::Array(parts)) = obj.get(key) else {
            continue;
        };
        if parts.len() != 1 {
            continue;
        }
        let only = parts[0].clone();
        match only {
            Value::Object(inner) if inner.contains_key("$ref") && !obj.contains_key("allOf") => {
                obj.remove(key);
                obj.insert("allOf".into(), Value::Array(vec![Value::Object(inner)]));
            }
            Value::Object(inner) if inner.keys().all(|k| !obj.contains_key(k) || k == key) => {
                obj.remove(key);
                obj.extend(inner);
            }
            _ => {}
        }
    }
}

/// Deep enough for any real schema; deeper nesting is left as written (the typed
/// model may then refuse it, which the loader reports).
const MAX_DEPTH: usize = 256;

fn lower_schema(s: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match s {
        Value::Bool(true) => {
            *s = Value::Object(Map::new());
            return;
        }
        Value::Bool(false) => {
            let mut never = Map::new();
            never.insert("not".into(), Value::Object(Map::new()));
            *s = Value::Object(never);
            return;
        }
        _ => {}
    }
    let Some(obj) = s.as_object_mut() else {
        return;
    };
    if obj.contains_key("$ref") {
        return;
    }
    null_alternatives(obj);
    if let Some(Value::Array(types)) = obj.get("type") {
        let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        let nullable = names.contains(&"null");
        let others: Vec<String> = names
            .iter()
            .filter(|t| **t != "null")
            .map(|t| t.to_string())
            .collect();
        let list = Value::Array(types.clone());
        obj.remove("type");
        if nullable {
            obj.insert("nullable".into(), Value::Bool(true));
        }
        match others.as_slice() {
            [one] => {
                obj.insert("type".into(), Value::String(one.clone()));
            }
            [] => {}
            _ => {
                obj.insert(stashed("type"), list);
            }
        }
    } else if obj.get("type").and_then(Value::as_str) == Some("null") {
        obj.remove("type");
        obj.insert("nullable".into(), Value::Bool(true));
        obj.insert(
            stashed("type"),
            Value::Array(vec![Value::String("null".into())]),
        );
    }
    if obj.get("nullable") == Some(&Value::Bool(true))
        && let Some(Value::Array(values)) = obj.get_mut("enum")
    {
        // 2020-12 needs `null` among the values of a nullable enum; 3.0's
        // `nullable` already says it.
        values.retain(|v| !v.is_null());
    }
    for (bound, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        let Some(Value::Number(n)) = obj.get(exclusive).cloned() else {
            continue;
        };
        obj.insert(stashed(exclusive), Value::Number(n.clone()));
        let tighter = match obj.get(bound).and_then(Value::as_f64) {
            None => true,
            Some(inclusive) => {
                let e = n.as_f64().unwrap_or(f64::NAN);
                if bound == "minimum" {
                    e >= inclusive
                } else {
                    e <= inclusive
                }
            }
        };
        if tighter {
            obj.insert(bound.into(), Value::Number(n));
            obj.insert(exclusive.into(), Value::Bool(true));
        } else {
            obj.remove(exclusive);
        }
    }
    // 2020-12's `examples` is a list of values; the 3.0 model has one `example`.
    if let Some(Value::Array(examples)) = obj.remove("examples")
        && !obj.contains_key("example")
        && let Some(first) = examples.into_iter().next()
    {
        obj.insert("example".into(), first);
    }
    for key in PLAIN {
        if let Some(v) = obj.remove(key) {
            obj.insert(stashed(key), v);
        }
    }
    for key in SUBSCHEMA {
        if let Some(mut v) = obj.remove(key) {
            lower_schema(&mut v, depth + 1);
            obj.insert(stashed(key), v);
        }
    }
    for key in SUBSCHEMA_MAPS {
        if let Some(mut v) = obj.remove(key) {
            if let Some(m) = v.as_object_mut() {
                for sub in m.values_mut() {
                    lower_schema(sub, depth + 1);
                }
            }
            obj.insert(stashed(key), v);
        }
    }
    if let Some(mut v) = obj.remove("prefixItems") {
        if let Some(items) = v.as_array_mut() {
            for sub in items {
                lower_schema(sub, depth + 1);
            }
        }
        obj.insert(stashed("prefixItems"), v);
    }
    for key in ["items", "not"] {
        if let Some(v) = obj.get_mut(key) {
            lower_schema(v, depth + 1);
        }
    }
    if let Some(v @ Value::Object(_)) = obj.get_mut("additionalProperties") {
        lower_schema(v, depth + 1);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = obj.get_mut(key) {
            for part in parts {
                lower_schema(part, depth + 1);
            }
        }
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for p in props.values_mut() {
            lower_schema(p, depth + 1);
        }
    }
}
