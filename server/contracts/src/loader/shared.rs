//! Repeated inline schemas stored once, for the diff (pure: no I/O).
//!
//! A large description writes the same small schemas over and over: GitHub's
//! REST description has about 40,000 inline schema nodes, of which 3,200 differ
//! (`{type: string}` alone appears 9,440 times). The typed model spends about a
//! kilobyte on each node whatever it holds, so most of a loaded document is
//! copies. [`share`] moves each inline schema of a property, of `items` and of
//! `additionalProperties` into `components/schemas` under a reserved name
//! ([`PREFIX`], which no component name may contain), once per distinct
//! content, and leaves a reference in its place. The diff reads such a
//! reference as the schema written where the reference is, pointers included
//! (`diff::refs::schema`), so its findings are the same as without sharing.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{NAMED_MAPS, is_payload};

/// Starts the name of a shared schema: a NUL, which the OpenAPI component
/// name pattern (`^[a-zA-Z0-9.\-_]+$`) excludes, so no valid document clashes.
pub const PREFIX: &str = "\u{0}shared-";

/// The `$ref` prefix of shared schemas.
pub const REF_PREFIX: &str = "#/components/schemas/\u{0}shared-";

/// Nesting below which schemas are left inline, far past real documents; the
/// loader has already refused deeper ones.
const MAX_DEPTH: usize = 512;

/// Moves repeated inline schemas of `doc` into `components/schemas` (see the
/// module header), and drops the extensions the diff does not read.
pub fn share(doc: &mut Value) {
    let mut table = Table::default();
    let mut segments: Vec<String> = Vec::new();
    walk(doc, &mut segments, &mut table, 0);
    table.finish(doc);
}

impl Table {
    /// Adds the shared schemas to `doc`'s `components/schemas`.
    pub(crate) fn finish(self, doc: &mut Value) {
        if self.schemas.is_empty() {
            return;
        }
        let Some(root) = doc.as_object_mut() else {
            return;
        };
        let components = root
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(components) = components.as_object_mut() else {
            return;
        };
        let schemas = components
            .entry("schemas")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(schemas) = schemas.as_object_mut() {
            for (name, schema) in self.schemas {
                schemas.insert(name, schema);
            }
        }
    }
}

/// The schemas shared so far, by content.
#[derive(Default)]
pub(crate) struct Table {
    /// Serialised content of each shared schema, to its name.
    names: HashMap<String, String>,
    /// Names given, to tell two contents with the same digest apart.
    taken: HashMap<String, usize>,
    /// Shared schemas by name, in the order first met.
    schemas: Vec<(String, Value)>,
}

impl Table {
    /// The reference that replaces `schema`, storing it if it is new.
    ///
    /// Names derive from the content, so that equal schemas in the base and
    /// the revision have equal references: the diff compares schemas with
    /// `==` when it pairs `oneOf` alternatives, and a reference to equal
    /// content must compare equal there.
    pub(crate) fn reference(&mut self, schema: Value) -> Value {
        let mut key = String::new();
        canonical(&schema, &mut key);
        let name = match self.names.get(&key) {
            Some(name) => name.clone(),
            None => {
                let digest = digest(&key);
                let seen = self.taken.entry(digest.clone()).or_default();
                // Another content with the same digest: keep both, apart.
                let name = if *seen == 0 {
                    format!("{PREFIX}{digest}")
                } else {
                    format!("{PREFIX}{digest}-{seen}")
                };
                *seen += 1;
                self.names.insert(key, name.clone());
                self.schemas.push((name.clone(), schema));
                name
            }
        };
        let mut reference = Map::new();
        reference.insert(
            "$ref".to_string(),
            Value::String(format!("#/components/schemas/{name}")),
        );
        Value::Object(reference)
    }
}

/// `v` as JSON with every object's keys sorted: the same content written
/// in another key order (as 3.1's normalised `nullable` is) gets one name.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Replaces each shared reference in `v` (a schema of `doc` as JSON) by the
/// schema it stands for, so that two schemas can be compared by content
/// whatever was shared in their documents.
pub fn expand(doc: &openapiv3::OpenAPI, v: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            let shared = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .filter(|name| name.starts_with(PREFIX))
                .and_then(|name| doc.components.as_ref()?.schemas.get(name));
            if let Some(schema) = shared {
                *v = serde_json::to_value(schema).unwrap_or_default();
                expand(doc, v, depth + 1);
                return;
            }
            for child in map.values_mut() {
                expand(doc, child, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                expand(doc, item, depth + 1);
            }
        }
        _ => {}
    }
}

/// 128 bits of the content, from two differently seeded SipHash runs (the
/// standard library's, deterministic for one build of the binary).
fn digest(content: &str) -> String {
    use std::hash::{Hash, Hasher};
    let half = |seed: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        seed.hash(&mut hasher);
        content.hash(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0), half(1))
}

/// Whether the diff reads the member `key` of a keyword object: anything but
/// an extension, the extensions of sunset and stability and Zalando's
/// extensible enums, and the loader's own stash of 3.1 keywords.
pub fn read_by_diff(key: &str) -> bool {
    !key.starts_with("x-")
        || matches!(key, "x-sunset" | "x-stability-level" | "x-extensible-enum")
        || key.starts_with(crate::loader::normalise::STASH)
}

/// Post-order, so that a schema's own children are references by the time it
/// is compared with others: equal subtrees then serialise alike and cheaply.
fn walk(v: &mut Value, segments: &mut Vec<String>, table: &mut Table, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(map) => {
            let named = segments
                .last()
                .is_some_and(|p| NAMED_MAPS.contains(&p.as_str()));
            if !named {
                map.retain(|key, _| read_by_diff(key));
            }
            // The members of a `properties` keyword are schemas; a property
            // that happens to be called `properties` is not that keyword.
            let keyword_owner =
                segments.len() < 2 || !NAMED_MAPS.contains(&segments[segments.len() - 2].as_str());
            let properties = segments.last().is_some_and(|p| p == "properties") && keyword_owner;
            for (key, child) in map.iter_mut() {
                if !named && is_payload(key, segments) {
                    continue;
                }
                segments.push(key.clone());
                walk(child, segments, table, depth + 1);
                segments.pop();
                // Where the typed model stores a schema behind a pointer (a
                // property, `items`, `additionalProperties`), a reference is
                // small and the inline schema is not.
                let shareable = properties
                    || (!named && matches!(key.as_str(), "items" | "additionalProperties"));
                if shareable && is_inline_schema(child) {
                    let schema = std::mem::take(child);
                    *child = table.reference(schema);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, segments, table, depth + 1);
            }
        }
        _ => {}
    }
}

pub(crate) fn is_inline_schema(v: &Value) -> bool {
    v.as_object().is_some_and(|m| !m.contains_key("$ref"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_inline_schemas_are_stored_once_and_named_outside_the_component_pattern() {
        let mut doc = json!({
            "openapi": "3.0.3",
            "paths": {"/a": {"get": {"responses": {"200": {"description": "", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "properties": {"type": "object", "properties": {"id": {"type": "string"}}},
                    "ref": {"$ref": "#/components/schemas/Thing"},
                    "x": {"type": "string", "default": {"type": "integer"}, "enum": [{"type": "object"}]}
                }
            }}}}}}}},
            "components": {"schemas": {"Thing": {"type": "object", "additionalProperties": {"type": "string"}}}}
        });
        share(&mut doc);
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let shared: Vec<&Value> = schemas
            .iter()
            .filter(|(name, _)| name.starts_with(PREFIX))
            .map(|(_, v)| v)
            .collect();
        // {type: string}, the array, the inner object, `x` with its payloads.
        assert_eq!(shared.len(), 4, "{schemas:#?}");
        // Equal content, equal name, whichever document it is in.
        let mut other = json!({"components": {"schemas": {"A": {"type": "object", "properties": {"n": {"type": "string"}}}}}});
        share(&mut other);
        let elsewhere = other["components"]["schemas"]["A"]["properties"]["n"]["$ref"].clone();
        let props = &doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["properties"];
        let string = &props["id"]["$ref"];
        assert!(string.as_str().is_some_and(|r| r.starts_with(REF_PREFIX)));
        assert_eq!(&props["name"]["$ref"], string);
        assert_eq!(&elsewhere, string);
        assert_eq!(props["ref"], json!({"$ref": "#/components/schemas/Thing"}));
        // A property called `properties` is a property, and payloads are not entered.
        assert!(props["properties"]["$ref"].is_string());
        let x = props["x"]["$ref"].as_str().expect("shared");
        let x = &schemas[&x["#/components/schemas/".len()..]];
        assert_eq!(x["default"], json!({"type": "integer"}));
        assert_eq!(schemas["Thing"]["additionalProperties"]["$ref"], *string);
    }
}
