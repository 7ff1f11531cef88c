//! What every rule needs, computed once per lint run: the operations with their
//! effective (path-level plus operation-level, resolved) parameters, every place a
//! parameter is defined, and every schema in the raw document with its pointer (pure: no I/O).

use indexmap::IndexMap;
use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr};
use serde_json::{Map, Value};

use super::LintOptions;
use crate::resolve::{component_pointer, escape_segment, resolve_in, resolve_path_item};

/// One rule violation before the runner adds rule id, severity and line.
#[derive(Debug)]
pub(crate) struct Hit {
    pub pointer: String,
    pub message: String,
}

impl Hit {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Hit {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

pub(crate) struct Ctx<'a> {
    pub doc: &'a OpenAPI,
    pub version: crate::loader::SpecVersion,
    pub violations: &'a [crate::loader::Violation],
    pub raw: &'a Value,
    pub options: &'a LintOptions,
    pub ops: Vec<Op<'a>>,
}

pub(crate) struct Op<'a> {
    pub path: &'a str,
    pub method: &'a str,
    pub op: &'a Operation,
    /// `/paths/<escaped path>/<method>`.
    pub pointer: String,
    /// `"GET /orders/{id}"`, for messages.
    pub label: String,
    /// Effective parameters: path-level ones overridden by operation-level ones with
    /// the same name and location, each resolved to its definition.
    pub params: Vec<Param<'a>>,
}

/// A parameter together with the pointer of its definition: the component for a
/// `$ref`, so that one bad shared parameter yields one finding, not one per use.
pub(crate) struct Param<'a> {
    pub param: &'a Parameter,
    pub pointer: String,
}

/// Resolves `r` within one component section, returning the item and the pointer of
/// its definition (`inline` when it is not a reference).
pub(crate) fn located<'a, T>(
    map: Option<&'a IndexMap<String, ReferenceOr<T>>>,
    section: &str,
    r: &'a ReferenceOr<T>,
    inline: String,
) -> Option<(&'a T, String)> {
    let (item, name) = resolve_in(map, section, r)?;
    Some((
        item,
        name.map(|n| component_pointer(section, n))
            .unwrap_or(inline),
    ))
}

pub(crate) fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

pub(crate) fn location(p: &Parameter) -> &'static str {
    match p {
        Parameter::Query { .. } => "query",
        Parameter::Header { .. } => "header",
        Parameter::Path { .. } => "path",
        Parameter::Cookie { .. } => "cookie",
    }
}

impl<'a> Ctx<'a> {
    pub fn new(contract: &'a crate::loader::Contract, options: &'a LintOptions) -> Self {
        let (doc, raw) = (&contract.doc, &contract.raw);
        let mut ops = Vec::new();
        let params_map = doc.components.as_ref().map(|c| &c.parameters);
        for (path, item) in &doc.paths.paths {
            let Some(item) = resolve_path_item(doc, item) else {
                continue;
            };
            let path_pointer = format!("/paths/{}", escape_segment(path));
            for (method, op) in item.iter() {
                let pointer = format!("{path_pointer}/{method}");
                let mut params: Vec<Param<'a>> = Vec::new();
                let sources = [
                    (&item.parameters, format!("{path_pointer}/parameters")),
                    (&op.parameters, format!("{pointer}/parameters")),
                ];
                for (list, base) in sources {
                    for (i, r) in list.iter().enumerate() {
                        let Some((param, at)) =
                            located(params_map, "parameters", r, format!("{base}/{i}"))
                        else {
                            continue;
                        };
                        let data = param.parameter_data_ref();
                        params.retain(|p| {
                            !(p.param.parameter_data_ref().name == data.name
                                && location(p.param) == location(param))
                        });
                        params.push(Param { param, pointer: at });
                    }
                }
                ops.push(Op {
                    path,
                    method,
                    op,
                    label: format!("{} {path}", method.to_uppercase()),
                    pointer,
                    params,
                });
            }
        }
        Ctx {
            doc,
            version: contract.version,
            violations: &contract.violations,
            raw,
            options,
            ops,
        }
    }

    /// Every parameter definition: component parameters and inline ones on path
    /// items and operations (references are skipped; their target is listed).
    pub fn parameter_sites(&self) -> Vec<Param<'a>> {
        let mut out = Vec::new();
        if let Some(c) = &self.doc.components {
            for (name, r) in &c.parameters {
                if let ReferenceOr::Item(param) = r {
                    out.push(Param {
                        param,
                        pointer: component_pointer("parameters", name),
                    });
                }
            }
        }
        for (path, item) in &self.doc.paths.paths {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            let base = format!("/paths/{}", escape_segment(path));
            let mut lists = vec![(&item.parameters, format!("{base}/parameters"))];
            for (method, op) in item.iter() {
                lists.push((&op.parameters, format!("{base}/{method}/parameters")));
            }
            for (list, at) in lists {
                for (i, r) in list.iter().enumerate() {
                    if let ReferenceOr::Item(param) = r {
                        out.push(Param {
                            param,
                            pointer: format!("{at}/{i}"),
                        });
                    }
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------
// Schemas, found in the raw tree so that nested ones keep exact pointers.

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One schema object somewhere in the document (never a bare `$ref`).
pub(crate) struct SchemaSite<'a> {
    pub pointer: String,
    pub schema: &'a Map<String, Value>,
    /// The schema's meaning is already described by its owner: a described parameter
    /// or header it belongs to, or the array / composition it is an item or part of.
    pub described_by_owner: bool,
}

pub(crate) fn has_text(obj: &Map<String, Value>, key: &str) -> bool {
    obj.get(key)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", escape_segment(key))
}

/// One media type object (`content: {application/json: ...}`) with its pointer.
pub(crate) struct MediaSite<'a> {
    pub pointer: String,
    pub media: &'a Map<String, Value>,
}

/// Schemas and media types of the document, each in source order.
#[derive(Default)]
pub(crate) struct Sites<'a> {
    pub schemas: Vec<SchemaSite<'a>>,
    pub media: Vec<MediaSite<'a>>,
}

/// All schemas in the document, in source order.
pub(crate) fn schema_sites(raw: &Value) -> Vec<SchemaSite<'_>> {
    sites(raw).schemas
}

/// All schemas and media types in the document.
pub(crate) fn sites(raw: &Value) -> Sites<'_> {
    let mut out = Sites::default();
    let Some(root) = raw.as_object() else {
        return out;
    };
    if let Some(Value::Object(components)) = root.get("components") {
        let section = |name: &str| match components.get(name) {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        };
        if let Some(schemas) = section("schemas") {
            for (name, s) in schemas {
                schema(s, child("/components/schemas", name), false, &mut out);
            }
        }
        for kind in ["parameters", "headers"] {
            for (name, p) in section(kind).into_iter().flatten() {
                param_like(p, child(&format!("/components/{kind}"), name), &mut out);
            }
        }
        for (name, b) in section("requestBodies").into_iter().flatten() {
            content(b, child("/components/requestBodies", name), &mut out);
        }
        for (name, r) in section("responses").into_iter().flatten() {
            response(r, child("/components/responses", name), &mut out);
        }
    }
    if let Some(Value::Object(paths)) = root.get("paths") {
        for (path, item) in paths {
            path_item(item, child("/paths", path), 0, &mut out);
        }
    }
    // OpenAPI 3.1's webhooks are operations the API calls: their payloads are
    // contract as much as any response.
    if let Some(Value::Object(hooks)) = root.get("webhooks") {
        for (name, item) in hooks {
            path_item(item, child("/webhooks", name), 0, &mut out);
        }
    }
    out
}

fn path_item<'a>(v: &'a Value, at: String, depth: usize, out: &mut Sites<'a>) {
    let Some(obj) = v.as_object() else { return };
    if depth > 8 {
        return;
    }
    params_list(obj, &at, out);
    for method in METHODS {
        let Some(Value::Object(op)) = obj.get(method) else {
            continue;
        };
        let op_at = child(&at, method);
        params_list(op, &op_at, out);
        if let Some(body) = op.get("requestBody") {
            content(body, child(&op_at, "requestBody"), out);
        }
        if let Some(Value::Object(responses)) = op.get("responses") {
            for (code, r) in responses {
                if !code.starts_with("x-") {
                    response(r, child(&child(&op_at, "responses"), code), out);
                }
            }
        }
        if let Some(Value::Object(callbacks)) = op.get("callbacks") {
            for (name, cb) in callbacks {
                let Some(cb) = cb.as_object() else { continue };
                let cb_at = child(&child(&op_at, "callbacks"), name);
                for (expr, item) in cb {
                    path_item(item, child(&cb_at, expr), depth + 1, out);
                }
            }
        }
    }
}

fn params_list<'a>(obj: &'a Map<String, Value>, at: &str, out: &mut Sites<'a>) {
    if let Some(Value::Array(list)) = obj.get("parameters") {
        for (i, p) in list.iter().enumerate() {
            param_like(p, format!("{at}/parameters/{i}"), out);
        }
    }
}

fn param_like<'a>(v: &'a Value, at: String, out: &mut Sites<'a>) {
    let Some(obj) = v.as_object() else { return };
    if obj.contains_key("$ref") {
        return;
    }
    let described = has_text(obj, "description");
    if let Some(s) = obj.get("schema") {
        schema(s, child(&at, "schema"), described, out);
        // A parameter or header with a schema carries its examples the way a
        // media type does.
        if obj.contains_key("example") || obj.contains_key("examples") {
            out.media.push(MediaSite {
                pointer: at.clone(),
                media: obj,
            });
        }
    }
    media_types(obj, &at, described, out);
}

fn content<'a>(v: &'a Value, at: String, out: &mut Sites<'a>) {
    let Some(obj) = v.as_object() else { return };
    if obj.contains_key("$ref") {
        return;
    }
    media_types(obj, &at, false, out);
}

fn response<'a>(v: &'a Value, at: String, out: &mut Sites<'a>) {
    let Some(obj) = v.as_object() else { return };
    if obj.contains_key("$ref") {
        return;
    }
    media_types(obj, &at, false, out);
    if let Some(Value::Object(headers)) = obj.get("headers") {
        for (name, h) in headers {
            param_like(h, child(&child(&at, "headers"), name), out);
        }
    }
}

fn media_types<'a>(obj: &'a Map<String, Value>, at: &str, described: bool, out: &mut Sites<'a>) {
    if let Some(Value::Object(types)) = obj.get("content") {
        for (media, m) in types {
            let m_at = child(&child(at, "content"), media);
            if let Some(s) = m.get("schema") {
                schema(s, child(&m_at, "schema"), described, out);
            }
            if let Some(m) = m.as_object() {
                out.media.push(MediaSite {
                    pointer: m_at,
                    media: m,
                });
            }
        }
    }
}

fn schema<'a>(v: &'a Value, at: String, described: bool, out: &mut Sites<'a>) {
    let Some(obj) = v.as_object() else { return };
    if obj.contains_key("$ref") {
        return;
    }
    let self_described = described || has_text(obj, "description");
    out.schemas.push(SchemaSite {
        pointer: at.clone(),
        schema: obj,
        described_by_owner: described,
    });
    if let Some(Value::Object(props)) = obj.get("properties") {
        let props_at = child(&at, "properties");
        for (name, p) in props {
            schema(p, child(&props_at, name), false, out);
        }
    }
    if let Some(items) = obj.get("items") {
        schema(items, child(&at, "items"), self_described, out);
    }
    if let Some(extra @ Value::Object(_)) = obj.get("additionalProperties") {
        schema(extra, child(&at, "additionalProperties"), false, out);
    }
    if let Some(not) = obj.get("not") {
        schema(not, child(&at, "not"), false, out);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = obj.get(key) {
            for (i, part) in parts.iter().enumerate() {
                schema(part, format!("{at}/{key}/{i}"), self_described, out);
            }
        }
    }
}
