//! OpenAPI Schema Objects as self-contained JSON Schema documents: Draft 4 for
//! OpenAPI 3.0, whose schemas are Draft 4 give or take, and 2020-12 for OpenAPI 3.1,
//! whose schemas are 2020-12. Schemas arrive in the typed model's normalised form
//! (see `steward_contracts::loader::normalise`); for 3.1 the 2020-12 keywords kept
//! in `x-oas31-*` extensions are put back. Along the way:
//!
//! - `nullable: true` becomes a type union with `"null"` (and `null` joins an enum);
//! - `readOnly` properties are refused in requests and `writeOnly` ones in responses;
//! - the `int32` and `int64` formats become bounds, `byte` a base64 pattern; `date`
//!   and `date-time` stay formats, which the validator checks;
//! - `#/components/schemas/X` references point into `definitions`, which holds the
//!   referenced schemas (transitively), so recursive schemas stay recursive;
//! - OpenAPI-only keywords (`discriminator`, `example`, `xml`, …) are dropped.
//!
//! Pure: no I/O, so every rule is unit-tested. The gateway validates traffic
//! with these documents, and lint validates a contract's examples with them.

use crate::loader::{STASH, SpecVersion};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
    /// Neither: a schema's own example may show every property.
    Any,
}

/// The JSON Schema dialect a contract's schemas are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Draft4,
    Draft202012,
}

impl From<SpecVersion> for Dialect {
    fn from(v: SpecVersion) -> Self {
        match v {
            SpecVersion::V30 => Dialect::Draft4,
            SpecVersion::V31 => Dialect::Draft202012,
        }
    }
}

impl Dialect {
    pub fn draft(self) -> jsonschema::Draft {
        match self {
            Dialect::Draft4 => jsonschema::Draft::Draft4,
            Dialect::Draft202012 => jsonschema::Draft::Draft202012,
        }
    }

    /// Where a document keeps the component schemas it embeds.
    fn definitions(self) -> &'static str {
        match self {
            Dialect::Draft4 => "definitions",
            Dialect::Draft202012 => "$defs",
        }
    }
}

/// A contract's component schemas as JSON, and the dialect they are written in:
/// what every validator of one contract version embeds from.
#[derive(Debug, Clone, Default)]
pub struct Components {
    pub schemas: Map<String, Value>,
    pub dialect: Dialect,
}

impl Components {
    /// The component schemas of a loaded contract.
    pub fn of(doc: &openapiv3::OpenAPI, version: SpecVersion) -> Components {
        Components {
            schemas: doc
                .components
                .as_ref()
                .and_then(|c| serde_json::to_value(&c.schemas).ok())
                .and_then(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .unwrap_or_default(),
            dialect: version.into(),
        }
    }
}

const COMPONENT_PREFIX: &str = "#/components/schemas/";
const DROPPED: [&str; 8] = [
    "nullable",
    "discriminator",
    "readOnly",
    "writeOnly",
    "xml",
    "externalDocs",
    "example",
    "deprecated",
];

/// A self-contained document for `schema` in `dialect`, with the component schemas
/// it needs under `definitions` (Draft 4) or `$defs` (2020-12).
pub fn to_json_schema(
    schema: &Value,
    components: &Map<String, Value>,
    direction: Direction,
    dialect: Dialect,
) -> Value {
    let mut needed = BTreeSet::new();
    let cx = Cx { direction, dialect };
    let mut root = convert(schema, cx, &mut needed);
    let mut definitions = Map::new();
    let mut pending: Vec<String> = needed.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        if definitions.contains_key(&name) {
            continue;
        }
        let mut more = BTreeSet::new();
        let converted = components
            .get(&name)
            .map(|s| convert(s, cx, &mut more))
            .unwrap_or_else(|| json!({}));
        definitions.insert(name, converted);
        pending.extend(more.into_iter().filter(|n| !definitions.contains_key(n)));
    }
    if definitions.is_empty() {
        return root;
    }
    // Draft 4 ignores every sibling of `$ref`; keep the reference one level down.
    if root.get("$ref").is_some() || !root.is_object() {
        root = json!({ "allOf": [root] });
    }
    if let Value::Object(map) = &mut root {
        map.insert(dialect.definitions().into(), Value::Object(definitions));
    }
    root
}

/// The `type` a schema declares, looking through one component reference; used to
/// turn parameter strings into JSON values before validation.
pub fn declared_type<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> Option<&'a str> {
    let target = match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(COMPONENT_PREFIX))
    {
        Some(name) => components.get(name)?,
        None => schema,
    };
    target.get("type").and_then(Value::as_str)
}

#[derive(Clone, Copy)]
struct Cx {
    direction: Direction,
    dialect: Dialect,
}

fn convert(v: &Value, cx: Cx, needed: &mut BTreeSet<String>) -> Value {
    let direction = cx.direction;
    let Some(obj) = v.as_object() else {
        return v.clone();
    };
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        return match reference.strip_prefix(COMPONENT_PREFIX) {
            Some(name) => {
                let name = crate::resolve::unescape_segment(name);
                let out =
                    json!({ "$ref": format!("#/{}/{}", cx.dialect.definitions(), escape(&name)) });
                needed.insert(name);
                out
            }
            // Other local references were resolved at upload; an unknown one
            // constrains nothing rather than failing every request.
            None => json!({}),
        };
    }
    let mut out = Map::new();
    let mut hidden: Vec<String> = Vec::new();
    for (key, value) in obj {
        if cx.dialect == Dialect::Draft202012
            && let Some(keyword) = key.strip_prefix(STASH)
        {
            unstash(&mut out, keyword, value, cx, needed);
            continue;
        }
        if DROPPED.contains(&key.as_str()) || key.starts_with("x-") {
            continue;
        }
        let converted = match key.as_str() {
            "properties" => {
                let Some(props) = value.as_object() else {
                    continue;
                };
                let mut converted = Map::new();
                for (name, prop) in props {
                    let flag = match direction {
                        Direction::Request => Some("readOnly"),
                        Direction::Response => Some("writeOnly"),
                        Direction::Any => None,
                    };
                    if flag.is_some_and(|f| prop.get(f).and_then(Value::as_bool) == Some(true)) {
                        // Present at all is wrong in this direction.
                        converted.insert(name.clone(), json!({ "not": {} }));
                        hidden.push(name.clone());
                    } else {
                        converted.insert(name.clone(), convert(prop, cx, needed));
                    }
                }
                Value::Object(converted)
            }
            "items" | "not" => convert(value, cx, needed),
            "additionalProperties" if value.is_object() => convert(value, cx, needed),
            "allOf" | "oneOf" | "anyOf" => Value::Array(
                value
                    .as_array()
                    .map(|parts| parts.iter().map(|p| convert(p, cx, needed)).collect())
                    .unwrap_or_default(),
            ),
            _ => value.clone(),
        };
        // A 2020-12 keyword put back from its stash wins over the lowered 3.0 form.
        if !out.contains_key(key) {
            out.insert(key.clone(), converted);
        }
    }
    if !hidden.is_empty()
        && let Some(Value::Array(required)) = out.get_mut("required")
    {
        required.retain(|r| !r.as_str().is_some_and(|r| hidden.iter().any(|h| h == r)));
        if required.is_empty() {
            out.remove("required");
        }
    }
    if cx.dialect == Dialect::Draft202012 {
        // 2020-12's exclusive bounds are numbers, not flags on `minimum`/`maximum`.
        for (bound, exclusive) in [
            ("minimum", "exclusiveMinimum"),
            ("maximum", "exclusiveMaximum"),
        ] {
            if out.get(exclusive) == Some(&Value::Bool(true)) {
                match out.remove(bound) {
                    Some(n) => out.insert(exclusive.into(), n),
                    None => out.remove(exclusive),
                };
            } else if out.get(exclusive) == Some(&Value::Bool(false)) {
                out.remove(exclusive);
            }
        }
    }
    if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.insert("type".into(), json!([t, "null"]));
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }
    match obj.get("format").and_then(Value::as_str) {
        Some("int32") => bound(&mut out, i64::from(i32::MIN), i64::from(i32::MAX)),
        Some("int64") => bound(&mut out, i64::MIN, i64::MAX),
        Some("byte") => {
            out.entry("pattern").or_insert_with(|| {
                json!("^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
            });
        }
        _ => {}
    }
    // A nullable composition (`allOf: [X], nullable: true`, or 3.1's `anyOf: [X,
    // {type: null}]` in its lowered form) has no `type` to add "null" to: null
    // becomes an alternative of its own.
    let composed = ["allOf", "oneOf", "anyOf"]
        .iter()
        .any(|k| out.contains_key(*k));
    if obj.get("nullable").and_then(Value::as_bool) == Some(true)
        && composed
        && !out.contains_key("type")
    {
        return json!({ "anyOf": [Value::Object(out), { "type": "null" }] });
    }
    Value::Object(out)
}

/// Puts a 2020-12 keyword kept as `x-oas31-<keyword>` back, converting the
/// schemas inside it.
fn unstash(
    out: &mut Map<String, Value>,
    keyword: &str,
    value: &Value,
    cx: Cx,
    needed: &mut BTreeSet<String>,
) {
    let converted = match keyword {
        // The lowered `minimum`/`maximum` with its flag already says this.
        "exclusiveMinimum" | "exclusiveMaximum" => return,
        // Webhooks are not schemas; nothing else is stashed at schema level.
        "webhooks" => return,
        "contains"
        | "if"
        | "then"
        | "else"
        | "propertyNames"
        | "unevaluatedItems"
        | "unevaluatedProperties"
        | "contentSchema" => convert(value, cx, needed),
        "dependentSchemas" | "patternProperties" | "$defs" => match value.as_object() {
            Some(m) => Value::Object(
                m.iter()
                    .map(|(k, s)| (k.clone(), convert(s, cx, needed)))
                    .collect(),
            ),
            None => return,
        },
        "prefixItems" => match value.as_array() {
            Some(items) => Value::Array(items.iter().map(|s| convert(s, cx, needed)).collect()),
            None => return,
        },
        _ => value.clone(),
    };
    out.insert(keyword.to_string(), converted);
}

/// Narrows `minimum`/`maximum` to a format's range, keeping tighter author bounds.
fn bound(out: &mut Map<String, Value>, min: i64, max: i64) {
    let tighter_min = out
        .get("minimum")
        .and_then(Value::as_f64)
        .is_some_and(|m| m >= min as f64);
    if !tighter_min {
        out.insert("minimum".into(), json!(min));
        out.remove("exclusiveMinimum");
    }
    let tighter_max = out
        .get("maximum")
        .and_then(Value::as_f64)
        .is_some_and(|m| m <= max as f64);
    if !tighter_max {
        out.insert("maximum".into(), json!(max));
        out.remove("exclusiveMaximum");
    }
}

fn escape(segment: &str) -> String {
    crate::resolve::escape_segment(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_draft4(schema: &Value, components: &Map<String, Value>, direction: Direction) -> Value {
        to_json_schema(schema, components, direction, Dialect::Draft4)
    }

    fn components() -> Map<String, Value> {
        json!({
            "Line": {"type": "object", "required": ["sku"], "properties": {
                "sku": {"type": "string"}, "next": {"$ref": "#/components/schemas/Line"}}},
            "Unused": {"type": "string"}
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn nullable_becomes_a_union_and_joins_the_enum() {
        let s = json!({"type": "string", "nullable": true, "enum": ["a", "b"], "example": "a"});
        let out = to_draft4(&s, &Map::new(), Direction::Request);
        assert_eq!(
            out,
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
        );
    }

    #[test]
    fn read_only_properties_are_refused_in_requests_only() {
        let s = json!({"type": "object", "required": ["id", "sku"], "properties": {
            "id": {"type": "string", "readOnly": true}, "sku": {"type": "string"}}});
        let req = to_draft4(&s, &Map::new(), Direction::Request);
        assert_eq!(req["properties"]["id"], json!({"not": {}}));
        assert_eq!(req["required"], json!(["sku"]));
        let res = to_draft4(&s, &Map::new(), Direction::Response);
        assert_eq!(res["properties"]["id"], json!({"type": "string"}));
        assert_eq!(res["required"], json!(["id", "sku"]));
    }

    #[test]
    fn formats_become_bounds_and_patterns() {
        let s = json!({"type": "integer", "format": "int32", "minimum": 1});
        let out = to_draft4(&s, &Map::new(), Direction::Request);
        assert_eq!(out["minimum"], json!(1));
        assert_eq!(out["maximum"], json!(2_147_483_647));
        let b = to_draft4(
            &json!({"type": "string", "format": "byte"}),
            &Map::new(),
            Direction::Request,
        );
        assert!(b["pattern"].is_string());
    }

    #[test]
    fn references_bring_their_definitions_recursively() {
        let s = json!({"type": "array", "items": {"$ref": "#/components/schemas/Line"}});
        let out = to_draft4(&s, &components(), Direction::Request);
        assert_eq!(out["items"], json!({"$ref": "#/definitions/Line"}));
        assert_eq!(
            out["definitions"]["Line"]["properties"]["next"],
            json!({"$ref": "#/definitions/Line"})
        );
        assert!(out["definitions"].get("Unused").is_none());
        let top = to_draft4(
            &json!({"$ref": "#/components/schemas/Line"}),
            &components(),
            Direction::Request,
        );
        assert_eq!(top["allOf"][0], json!({"$ref": "#/definitions/Line"}));
        assert!(top["definitions"]["Line"].is_object());
    }
}
