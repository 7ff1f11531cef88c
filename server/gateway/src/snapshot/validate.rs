//! Request validation against the operation's contract: path, query and header
//! parameters, and JSON bodies. Validators are compiled once per snapshot (per
//! immutable version, in fact) with OpenAPI 3.0 or 3.1 semantics (see [`steward_contracts::json_schema`]);
//! the request path only runs them (data plane).

use jsonschema::Validator;
use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, RequestBody};
use serde::Serialize;
use serde_json::Value;
use steward_contracts::json_schema::{self as schema, Components, Direction};

/// Per-API setting: refuse invalid requests, let them through and record the
/// violations, or skip validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Enforce,
    Report,
    Off,
}

impl Mode {
    pub fn parse(s: &str) -> Mode {
        match s {
            "report" => Mode::Report,
            "off" => Mode::Off,
            _ => Mode::Enforce,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Path,
    Query,
    Header,
    Body,
}

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    #[serde(rename = "in")]
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// JSON pointer into the value (the body, or the parameter's value).
    pub pointer: String,
    pub message: String,
}

struct ParamRule {
    name: String,
    location: Location,
    required: bool,
    kind: Option<String>,
    item_kind: Option<String>,
    validator: Option<Validator>,
}

struct BodyRule {
    required: bool,
    media_types: Vec<String>,
    json: Option<Validator>,
}

/// What a request to one operation must satisfy.
#[derive(Default)]
pub struct RequestRules {
    params: Vec<ParamRule>,
    body: Option<BodyRule>,
}

impl std::fmt::Debug for RequestRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestRules")
            .field("params", &self.params.len())
            .field("body", &self.body.is_some())
            .finish()
    }
}

fn compile_schema(schema: &Value, components: &Components) -> Option<Validator> {
    let document = schema::to_json_schema(
        schema,
        &components.schemas,
        Direction::Request,
        components.dialect,
    );
    match jsonschema::options()
        .with_draft(components.dialect.draft())
        .should_validate_formats(true)
        .build(&document)
    {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, "schema not enforced: it does not compile");
            None
        }
    }
}

/// A JSON media type (`application/json` or `application/*+json`), in any case
/// and with any parameters: what the validator and drift sampling both read as JSON.
pub fn is_json(media_type: &str) -> bool {
    let m = essence(media_type);
    m.eq_ignore_ascii_case("application/json")
        || (starts_with_ignoring_case(m, "application/") && ends_with_ignoring_case(m, "+json"))
}

/// A media type without its parameters (what comes before `;`), trimmed. A
/// byte search: a `char` pattern costs a request several times as much.
fn essence(media_type: &str) -> &str {
    let end = media_type
        .bytes()
        .position(|b| b == b';')
        .unwrap_or(media_type.len());
    media_type[..end].trim()
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn ends_with_ignoring_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Does a request's media type (any case) fall under one the contract lists
/// (lowercase, possibly a `type/*` or `*/*` range)?
fn media_accepted(listed: &str, media: &str) -> bool {
    listed.eq_ignore_ascii_case(media)
        || listed == "*/*"
        || listed
            .strip_suffix('*')
            .is_some_and(|range| range.ends_with('/') && starts_with_ignoring_case(media, range))
}

impl RequestRules {
    /// Compiles the rules of one operation. `components` are the document's
    /// component schemas as JSON, shared by every operation of the version.
    pub fn compile(
        doc: &OpenAPI,
        components: &Components,
        path_params: &[ReferenceOr<Parameter>],
        op: &openapiv3::Operation,
    ) -> RequestRules {
        let resolve_param = |p: &ReferenceOr<Parameter>| -> Option<Parameter> {
            match p {
                ReferenceOr::Item(p) => Some(p.clone()),
                ReferenceOr::Reference { reference } => {
                    let name = reference.strip_prefix("#/components/parameters/")?;
                    match doc.components.as_ref()?.parameters.get(name)? {
                        ReferenceOr::Item(p) => Some(p.clone()),
                        ReferenceOr::Reference { .. } => None,
                    }
                }
            }
        };
        let mut rules = RequestRules::default();
        // Operation parameters override path-level ones with the same name and place.
        let mut all: Vec<Parameter> = op.parameters.iter().filter_map(resolve_param).collect();
        for p in path_params.iter().filter_map(resolve_param) {
            let (name, kind) = (&p.parameter_data_ref().name, std::mem::discriminant(&p));
            if !all
                .iter()
                .any(|q| &q.parameter_data_ref().name == name && std::mem::discriminant(q) == kind)
            {
                all.push(p);
            }
        }
        for p in all {
            let location = match &p {
                Parameter::Path { .. } => Location::Path,
                Parameter::Query { .. } => Location::Query,
                Parameter::Header { .. } => Location::Header,
                Parameter::Cookie { .. } => continue,
            };
            let data = p.parameter_data_ref();
            let ParameterSchemaOrContent::Schema(schema) = &data.format else {
                continue;
            };
            let Ok(schema) = serde_json::to_value(schema) else {
                continue;
            };
            let kind = schema::declared_type(&schema, &components.schemas).map(str::to_string);
            let item_kind = schema
                .get("items")
                .and_then(|i| schema::declared_type(i, &components.schemas))
                .map(str::to_string);
            rules.params.push(ParamRule {
                name: if location == Location::Header {
                    data.name.to_ascii_lowercase()
                } else {
                    data.name.clone()
                },
                location,
                required: data.required || location == Location::Path,
                kind,
                item_kind,
                validator: compile_schema(&schema, components),
            });
        }
        let body = op.request_body.as_ref().and_then(|b| match b {
            ReferenceOr::Item(b) => Some(b.clone()),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/requestBodies/")?;
                match doc.components.as_ref()?.request_bodies.get(name)? {
                    ReferenceOr::Item(b) => Some(b.clone()),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        });
        if let Some(RequestBody {
            content, required, ..
        }) = body
        {
            let json = content
                .iter()
                .find(|(m, _)| is_json(m))
                .and_then(|(_, media)| media.schema.as_ref())
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|s| compile_schema(&s, components));
            rules.body = Some(BodyRule {
                required,
                media_types: content.keys().map(|m| m.to_ascii_lowercase()).collect(),
                json,
            });
        }
        rules
    }

    /// Whether the body must be read before forwarding.
    pub fn needs_body(&self) -> bool {
        self.body
            .as_ref()
            .is_some_and(|b| b.json.is_some() || b.required)
    }

    /// Checks path, query and header parameters.
    pub fn check_params<'p>(
        &self,
        path: impl Iterator<Item = (&'p str, &'p str)> + Clone,
        query: Option<&str>,
        headers: crate::wire::fields::Fields<'_>,
        out: &mut Vec<Violation>,
    ) {
        if self.params.is_empty() {
            return;
        }
        let pairs: Vec<(String, String)> = query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        for rule in &self.params {
            let raw: Vec<String> = match rule.location {
                Location::Path => path
                    .clone()
                    .filter(|(k, _)| *k == rule.name)
                    .map(|(_, v)| steward_contracts::resolve::percent_decode(v))
                    .collect(),
                Location::Query => pairs
                    .iter()
                    .filter(|(k, _)| *k == rule.name)
                    .map(|(_, v)| v.clone())
                    .collect(),
                Location::Header => headers
                    .get_all(&rule.name)
                    .filter_map(|v| std::str::from_utf8(v).ok())
                    .map(str::to_string)
                    .collect(),
                Location::Body => Vec::new(),
            };
            if raw.is_empty() {
                if rule.required {
                    out.push(Violation {
                        location: rule.location,
                        name: Some(rule.name.clone()),
                        pointer: String::new(),
                        message: format!(
                            "the required {} parameter is missing",
                            location_word(rule.location)
                        ),
                    });
                }
                continue;
            }
            let Some(validator) = &rule.validator else {
                continue;
            };
            let value = coerce(&raw, rule.kind.as_deref(), rule.item_kind.as_deref());
            // The common case: valid, and `is_valid` stops early and allocates nothing.
            if validator.is_valid(&value) {
                continue;
            }
            for e in validator.iter_errors(&value) {
                out.push(Violation {
                    location: rule.location,
                    name: Some(rule.name.clone()),
                    pointer: e.instance_path().to_string(),
                    message: e.to_string(),
                });
            }
        }
    }

    /// Checks the body: media type (415), presence, JSON syntax and schema.
    /// `Err` carries the status to answer with when it is not a plain 400.
    pub fn check_body(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        out: &mut Vec<Violation>,
    ) -> Result<(), BodyProblem> {
        let Some(rule) = &self.body else {
            return Ok(());
        };
        if body.is_empty() {
            if rule.required {
                out.push(body_violation("", "the request body is required".into()));
            }
            return Ok(());
        }
        // Compared in place, without regard to case (RFC 9110 §8.3.1).
        let media = content_type.map(essence).unwrap_or_default();
        if !rule.media_types.iter().any(|m| media_accepted(m, media)) {
            return Err(BodyProblem::UnsupportedMediaType(rule.media_types.clone()));
        }
        let Some(validator) = is_json(media).then_some(()).and(rule.json.as_ref()) else {
            return Ok(());
        };
        let instance: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                out.push(body_violation(
                    "",
                    format!(
                        "the body is not valid JSON: {e} (line {}, column {})",
                        e.line(),
                        e.column()
                    ),
                ));
                return Ok(());
            }
        };
        if validator.is_valid(&instance) {
            return Ok(());
        }
        for e in validator.iter_errors(&instance) {
            out.push(body_violation(
                &e.instance_path().to_string(),
                e.to_string(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyProblem {
    UnsupportedMediaType(Vec<String>),
}

fn body_violation(pointer: &str, message: String) -> Violation {
    Violation {
        location: Location::Body,
        name: None,
        pointer: pointer.to_string(),
        message,
    }
}

fn location_word(l: Location) -> &'static str {
    match l {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
        Location::Body => "body",
    }
}

/// Parameters arrive as strings; turn them into the JSON the schema talks about.
/// What does not parse stays a string, so the validator names the type mismatch.
fn coerce(raw: &[String], kind: Option<&str>, item_kind: Option<&str>) -> Value {
    fn scalar(s: &str, kind: Option<&str>) -> Value {
        match kind {
            Some("integer") => s
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(s)),
            Some("number") => s
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::from(s)),
            Some("boolean") => match s {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => Value::from(other),
            },
            _ => Value::from(s),
        }
    }
    match kind {
        // form style: repeated (`a=1&a=2`) or comma-separated (`a=1,2`)
        Some("array") => Value::Array(
            raw.iter()
                .flat_map(|r| r.split(','))
                .map(|s| scalar(s, item_kind))
                .collect(),
        ),
        _ => scalar(raw.first().map(String::as_str).unwrap_or_default(), kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: t, version: 1.0.0}
paths:
  /orders/{orderId}:
    parameters:
      - {name: orderId, in: path, required: true, schema: {type: string, format: uuid}}
    post:
      parameters:
        - {name: limit, in: query, schema: {type: integer, format: int32, minimum: 1, maximum: 100}}
        - {name: status, in: query, schema: {type: array, items: {type: string, enum: [open, closed]}}}
        - {name: X-Channel, in: header, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses: {'200': {description: ok}}
components:
  schemas:
    Order:
      type: object
      required: [lines]
      properties:
        id: {type: string, readOnly: true}
        placed: {type: string, format: date-time}
        note: {type: string, nullable: true}
        lines: {type: array, minItems: 1, items: {$ref: '#/components/schemas/Line'}}
    Line:
      type: object
      required: [sku, qty]
      properties:
        sku: {type: string}
        qty: {type: integer, format: int32, minimum: 1}
"#;

    fn rules() -> RequestRules {
        let model = steward_contracts::loader::load_model(SPEC.to_string()).expect("valid");
        let doc = model.doc;
        let components = Components::of(&doc, model.version);
        let openapiv3::ReferenceOr::Item(item) = &doc.paths.paths["/orders/{orderId}"] else {
            panic!("item")
        };
        RequestRules::compile(
            &doc,
            &components,
            &item.parameters,
            item.post.as_ref().expect("post"),
        )
    }

    #[test]
    fn parameters_are_coerced_and_checked() {
        let r = rules();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-channel", http::HeaderValue::from_static("pos"));
        let mut out = Vec::new();
        r.check_params(
            [("orderId", "o-1")].into_iter(),
            Some("limit=10&status=open&status=closed"),
            crate::wire::fields::Fields::Map(&headers),
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        r.check_params(
            [("orderId", "o-1")].into_iter(),
            Some("limit=0&status=lost"),
            crate::wire::fields::Fields::Map(&http::HeaderMap::new()),
            &mut out,
        );
        let names: Vec<_> = out
            .iter()
            .map(|v| (v.location, v.name.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            names,
            [
                (Location::Query, "limit".to_string()),
                (Location::Query, "status".to_string()),
                (Location::Header, "x-channel".to_string())
            ]
        );
        let mut out = Vec::new();
        r.check_params(
            [("orderId", "o-1")].into_iter(),
            Some("limit=ten"),
            crate::wire::fields::Fields::Map(&headers),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
    }

    #[test]
    fn bodies_follow_openapi_semantics() {
        let r = rules();
        let mut out = Vec::new();
        let good = br#"{"lines": [{"sku": "A", "qty": 1}], "note": null, "placed": "2026-11-30T10:00:00Z"}"#;
        r.check_body(Some("application/json"), good, &mut out)
            .expect("json accepted");
        assert!(out.is_empty(), "{out:?}");
        let bad = br#"{"id": "x", "lines": [{"sku": "A", "qty": 0}, {"qty": 3000000000}], "placed": "yesterday"}"#;
        r.check_body(Some("application/json; charset=utf-8"), bad, &mut out)
            .expect("json accepted");
        let pointers: Vec<&str> = out.iter().map(|v| v.pointer.as_str()).collect();
        for expected in ["/id", "/lines/0/qty", "/lines/1", "/lines/1/qty", "/placed"] {
            assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
        }
        assert_eq!(
            r.check_body(Some("text/plain"), b"hi", &mut Vec::new()),
            Err(BodyProblem::UnsupportedMediaType(vec![
                "application/json".into()
            ]))
        );
        let mut out = Vec::new();
        r.check_body(Some("application/json"), b"{\"lines\": [", &mut out)
            .expect("json");
        assert!(out[0].message.contains("not valid JSON"));
        let mut out = Vec::new();
        r.check_body(Some("application/json"), b"", &mut out)
            .expect("empty");
        assert_eq!(out[0].message, "the request body is required");
        // Media types compare without regard to case, and still validate.
        let mut out = Vec::new();
        r.check_body(Some("Application/JSON ; charset=utf-8"), b"{}", &mut out)
            .expect("json accepted in any case");
        assert!(!out.is_empty(), "the body was validated");
    }

    /// A 3.1 contract's schemas are JSON Schema 2020-12, and are enforced as such.
    #[test]
    fn openapi_31_bodies_follow_json_schema_2020_12() {
        const SPEC31: &str = r##"openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /orders:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses: {'201': {description: ok}}
components:
  schemas:
    Order:
      type: object
      required: [kind, qty]
      properties:
        kind: {const: retail}
        qty: {type: integer, exclusiveMinimum: 0}
        note: {type: [string, 'null']}
        code: {type: [string, integer]}
        pair: {type: array, prefixItems: [{type: string}, {type: integer}]}
        parent:
          anyOf: [{$ref: '#/components/schemas/Order'}, {type: 'null'}]
      dependentRequired: {code: [note]}
"##;
        let model = steward_contracts::loader::load_model(SPEC31.to_string()).expect("loads");
        assert_eq!(model.version, steward_contracts::loader::SpecVersion::V31);
        let components = Components::of(&model.doc, model.version);
        assert_eq!(components.dialect, schema::Dialect::Draft202012);
        let openapiv3::ReferenceOr::Item(item) = &model.doc.paths.paths["/orders"] else {
            panic!("item")
        };
        let r = RequestRules::compile(
            &model.doc,
            &components,
            &item.parameters,
            item.post.as_ref().expect("post"),
        );
        let check = |body: &str| {
            let mut out = Vec::new();
            r.check_body(Some("application/json"), body.as_bytes(), &mut out)
                .expect("json");
            out.iter().map(|v| v.pointer.clone()).collect::<Vec<_>>()
        };
        let good = r#"{"kind": "retail", "qty": 1, "note": null, "code": 7, "pair": ["a", 1],
                       "parent": {"kind": "retail", "qty": 2, "parent": null}}"#;
        assert_eq!(check(good), Vec::<String>::new());
        assert_eq!(check(r#"{"kind": "wholesale", "qty": 1}"#), ["/kind"]);
        assert_eq!(check(r#"{"kind": "retail", "qty": 0}"#), ["/qty"]);
        assert_eq!(
            check(r#"{"kind": "retail", "qty": 1, "code": true, "note": "n"}"#),
            ["/code"]
        );
        assert_eq!(
            check(r#"{"kind": "retail", "qty": 1, "pair": [1, "a"]}"#),
            ["/pair/0", "/pair/1"]
        );
        // `dependentRequired`: a code needs a note.
        assert_eq!(check(r#"{"kind": "retail", "qty": 1, "code": "c"}"#), [""]);
        assert_eq!(
            check(r#"{"kind": "retail", "qty": 1, "parent": {"qty": 1}}"#),
            ["/parent"]
        );
    }

    #[test]
    fn media_types_and_ranges_match_in_any_case() {
        assert!(media_accepted("application/json", "APPLICATION/Json"));
        assert!(media_accepted("*/*", "text/plain"));
        assert!(media_accepted(
            "application/*",
            "Application/merge-patch+json"
        ));
        assert!(!media_accepted("application/*", "applications/json"));
        assert!(!media_accepted("application/*", "app"));
        assert!(!media_accepted("application/json", ""));
        assert!(is_json("application/problem+JSON"));
        assert!(is_json("Application/Json; charset=utf-8"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json("text/json+"));
        // Never sliced inside a character.
        assert!(!media_accepted("application/*", "applicatio\u{e9}/json"));
    }
}

/// Response schemas of one operation, for drift sampling: by status code
/// (`200`), range (`2XX`) or `default`.
#[derive(Default)]
pub struct ResponseRules {
    by_status: Vec<(String, Validator)>,
}

impl std::fmt::Debug for ResponseRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseRules")
            .field("statuses", &self.by_status.len())
            .finish()
    }
}

impl ResponseRules {
    pub fn compile(
        doc: &OpenAPI,
        components: &Components,
        op: &openapiv3::Operation,
    ) -> ResponseRules {
        let mut by_status = Vec::new();
        let mut add = |code: String, response: &ReferenceOr<openapiv3::Response>| {
            let response = match response {
                ReferenceOr::Item(r) => Some(r),
                ReferenceOr::Reference { reference } => reference
                    .strip_prefix("#/components/responses/")
                    .and_then(|name| doc.components.as_ref()?.responses.get(name))
                    .and_then(|r| match r {
                        ReferenceOr::Item(r) => Some(r),
                        ReferenceOr::Reference { .. } => None,
                    }),
            };
            let schema = response
                .and_then(|r| r.content.iter().find(|(m, _)| is_json(m)))
                .and_then(|(_, media)| media.schema.as_ref())
                .and_then(|s| serde_json::to_value(s).ok());
            if let Some(schema) = schema {
                let document = schema::to_json_schema(
                    &schema,
                    &components.schemas,
                    Direction::Response,
                    components.dialect,
                );
                if let Ok(v) = jsonschema::options()
                    .with_draft(components.dialect.draft())
                    .should_validate_formats(true)
                    .build(&document)
                {
                    by_status.push((code, v));
                }
            }
        };
        for (code, response) in &op.responses.responses {
            add(code.to_string().to_ascii_uppercase(), response);
        }
        if let Some(default) = &op.responses.default {
            add("DEFAULT".into(), default);
        }
        ResponseRules { by_status }
    }

    pub fn is_empty(&self) -> bool {
        self.by_status.is_empty()
    }

    /// The validator for a status: exact code, then `2XX`, then `default`.
    fn for_status(&self, status: u16) -> Option<&Validator> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        ["exact", "range", "default"].iter().find_map(|which| {
            let wanted = match *which {
                "exact" => exact.as_str(),
                "range" => range.as_str(),
                _ => "DEFAULT",
            };
            self.by_status
                .iter()
                .find(|(c, _)| c == wanted)
                .map(|(_, v)| v)
        })
    }

    /// Violations of a JSON response body; `None` when no schema applies.
    pub fn check(&self, status: u16, body: &[u8]) -> Option<Vec<Violation>> {
        let validator = self.for_status(status)?;
        let instance: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Some(vec![body_violation(
                    "",
                    format!("the body is not valid JSON: {e}"),
                )]);
            }
        };
        if validator.is_valid(&instance) {
            return Some(Vec::new());
        }
        Some(
            validator
                .iter_errors(&instance)
                .take(5)
                .map(|e| body_violation(&e.instance_path().to_string(), e.to_string()))
                .collect(),
        )
    }
}
