//! Examples must validate against their schemas, as Spectral's
//! `oas3-valid-media-example` and `oas3-valid-schema-example` require: an example
//! that the contract itself refuses teaches partners to send or expect the wrong
//! thing, and mock servers and generated tests built from it fail.
//!
//! Schemas are turned into JSON Schema the way the gateway enforces them
//! ([`crate::json_schema`]), so an example passes here exactly when the same value
//! would pass the gateway. Validators are compiled once per schema and direction,
//! and shared by every example of that schema.

use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::{Map, Value};

use super::context::{Ctx, Hit, MediaSite, sites};
use crate::json_schema::{Components, Direction, to_json_schema};
use crate::resolve::escape_segment;

/// Schemas whose examples are checked, per rule: GitHub's description has about
/// 1,800 examples; a document with far more is checked up to here, which keeps
/// lint's time bounded.
const MAX_EXAMPLES: usize = 20_000;

struct Cache<'a> {
    components: Components,
    validators: HashMap<(String, u8), Option<Validator>>,
    raw: &'a Value,
}

impl Cache<'_> {
    fn new<'a>(ctx: &Ctx<'a>) -> Cache<'a> {
        let schemas = ctx
            .raw
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Cache {
            components: Components {
                schemas,
                dialect: ctx.version.into(),
            },
            validators: HashMap::new(),
            raw: ctx.raw,
        }
    }

    /// The validator of `schema`, known by `key` (its pointer, or its reference).
    fn validator(&mut self, key: &str, schema: &Value, direction: Direction) -> Option<&Validator> {
        let slot = (key.to_string(), direction as u8);
        if !self.validators.contains_key(&slot) {
            let document = to_json_schema(
                schema,
                &self.components.schemas,
                direction,
                self.components.dialect,
            );
            let compiled = jsonschema::options()
                .with_draft(self.components.dialect.draft())
                .should_validate_formats(true)
                .build(&document)
                .ok();
            self.validators.insert(slot.clone(), compiled);
        }
        self.validators.get(&slot).and_then(Option::as_ref)
    }
}

/// Checks `value` and reports the first few violations at `pointer`.
fn check(validator: &Validator, value: &Value, pointer: String, what: &str, out: &mut Vec<Hit>) {
    let mut errors = validator.iter_errors(value).peekable();
    if errors.peek().is_none() {
        return;
    }
    let details: Vec<String> = errors
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("at `{at}`: {e}")
            }
        })
        .collect();
    out.push(Hit::new(
        pointer,
        format!("{what} does not match its schema: {}", details.join("; ")),
    ));
}

fn direction_of(pointer: &str) -> Direction {
    if pointer.contains("/requestBody")
        || pointer.contains("/parameters/")
        || pointer.starts_with("/components/parameters/")
    {
        Direction::Request
    } else {
        Direction::Response
    }
}

/// `example` and `examples` of media types (and of parameters' content).
pub(crate) fn media_examples(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let mut cache = Cache::new(ctx);
    let mut checked = 0;
    for MediaSite { pointer, media } in sites(ctx.raw).media {
        let Some(schema) = media.get("schema") else {
            continue;
        };
        let key = schema
            .get("$ref")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{pointer}/schema"), str::to_string);
        let direction = direction_of(&pointer);
        let mut values: Vec<(String, &Value)> = Vec::new();
        if let Some(v) = media.get("example") {
            values.push((format!("{pointer}/example"), v));
        }
        if let Some(Value::Object(examples)) = media.get("examples") {
            for (name, e) in examples {
                // `externalValue` points outside the document: nothing to check.
                if let Some(v) = resolve_example(cache.raw, e).and_then(|e| e.get("value")) {
                    values.push((format!("{pointer}/examples/{}", escape_segment(name)), v));
                }
            }
        }
        if values.is_empty() {
            continue;
        }
        let Some(validator) = cache.validator(&key, schema, direction) else {
            continue;
        };
        for (at, v) in values {
            checked += 1;
            if checked > MAX_EXAMPLES {
                return;
            }
            check(validator, v, at, "The example", out);
        }
    }
}

/// `example`, `examples` (3.1) and `default` of schemas.
pub(crate) fn schema_examples(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let mut cache = Cache::new(ctx);
    let mut checked = 0;
    for site in sites(ctx.raw).schemas {
        let values = schema_values(&site.pointer, site.schema);
        if values.is_empty() {
            continue;
        }
        let schema = Value::Object(strip_examples(site.schema));
        let Some(validator) = cache.validator(&site.pointer, &schema, Direction::Any) else {
            continue;
        };
        for (at, what, v) in values {
            checked += 1;
            if checked > MAX_EXAMPLES {
                return;
            }
            check(validator, v, at, what, out);
        }
    }
}

fn schema_values<'a>(
    pointer: &str,
    schema: &'a Map<String, Value>,
) -> Vec<(String, &'static str, &'a Value)> {
    let mut values = Vec::new();
    if let Some(v) = schema.get("example") {
        values.push((format!("{pointer}/example"), "The example", v));
    }
    if let Some(Value::Array(list)) = schema.get("examples") {
        for (i, v) in list.iter().enumerate() {
            values.push((format!("{pointer}/examples/{i}"), "The example", v));
        }
    }
    if let Some(v) = schema.get("default") {
        values.push((format!("{pointer}/default"), "The default value", v));
    }
    values
}

/// The schema without its own examples and default, which are not constraints
/// and would only make the validator larger.
fn strip_examples(schema: &Map<String, Value>) -> Map<String, Value> {
    schema
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "example" | "examples" | "default"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Follows a reference to `components/examples`, a few hops at most.
fn resolve_example<'a>(raw: &'a Value, mut e: &'a Value) -> Option<&'a Value> {
    for _ in 0..crate::resolve::MAX_HOPS {
        match e.get("$ref").and_then(Value::as_str) {
            Some(r) => e = crate::loader::resolve_local(raw, r)?,
            None => return Some(e),
        }
    }
    None
}
