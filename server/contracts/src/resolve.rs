//! Following local `#/components/...` references in a typed [`OpenAPI`] document, and
//! the JSON-pointer escaping that goes with them.
//!
//! Shared by the lint and diff engines. Every function is total: a reference that
//! points elsewhere, names a missing component, or loops (`A -> B -> A`) yields `None`
//! after at most [`MAX_HOPS`] steps instead of recursing forever. Recursive *schemas*
//! (a property whose schema refers back to its parent) are fine: resolution only
//! follows the reference chain of one node, never into its children.

use indexmap::IndexMap;
use openapiv3::{
    Header, OpenAPI, Parameter, PathItem, ReferenceOr, RequestBody, Response, Schema,
    SecurityScheme,
};

/// Longest `$ref -> $ref -> ...` chain followed before giving up: real documents
/// chain two or three; anything longer is treated as a loop.
pub const MAX_HOPS: usize = 16;

/// Decodes `%XX` escapes, which are legal in a `$ref` URI fragment.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Escapes one pointer segment per RFC 6901 (`~` → `~0`, `/` → `~1`).
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Reverses [`escape_segment`].
pub fn unescape_segment(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// `"/components/{section}/{escaped name}"`.
pub fn component_pointer(section: &str, name: &str) -> String {
    format!("/components/{section}/{}", escape_segment(name))
}

/// The component name a reference points at within `section`
/// (`component_name("#/components/schemas/Order", "schemas") == Some("Order")`).
/// References to something *inside* a component (`.../Order/properties/id`) yield
/// `None`: they do not name a whole component of the section's type.
pub fn component_name(reference: &str, section: &str) -> Option<String> {
    let prefix = format!("#/components/{section}/");
    let rest = reference.strip_prefix(&prefix)?;
    let rest = percent_decode(rest);
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(unescape_segment(&rest))
}

/// Follows `r` through the components of one `section` (`"schemas"`, `"parameters"`,
/// ...) held in `map`. Returns the item and, if it came from the map, its name there.
pub fn resolve_in<'a, T>(
    map: Option<&'a IndexMap<String, ReferenceOr<T>>>,
    section: &str,
    r: &'a ReferenceOr<T>,
) -> Option<(&'a T, Option<&'a str>)> {
    let mut current = r;
    let mut name: Option<&'a str> = None;
    for _ in 0..MAX_HOPS {
        match current {
            ReferenceOr::Item(item) => return Some((item, name)),
            ReferenceOr::Reference { reference } => {
                let wanted = component_name(reference, section)?;
                let (key, next) = map?.get_key_value(wanted.as_str())?;
                name = Some(key.as_str());
                current = next;
            }
        }
    }
    None
}

/// Resolves a schema or schema reference (`#/components/schemas/X`).
pub fn resolve_schema<'a>(doc: &'a OpenAPI, r: &'a ReferenceOr<Schema>) -> Option<&'a Schema> {
    let map = doc.components.as_ref().map(|c| &c.schemas);
    resolve_in(map, "schemas", r).map(|(s, _)| s)
}

/// Like [`resolve_schema`] for the boxed references used by `properties` and `items`.
pub fn resolve_boxed_schema<'a>(
    doc: &'a OpenAPI,
    r: &'a ReferenceOr<Box<Schema>>,
) -> Option<&'a Schema> {
    match r {
        ReferenceOr::Item(schema) => Some(schema),
        ReferenceOr::Reference { reference } => resolve_schema_ref(doc, reference),
    }
}

/// Resolves a bare `#/components/schemas/X` reference string.
pub fn resolve_schema_ref<'a>(doc: &'a OpenAPI, reference: &str) -> Option<&'a Schema> {
    let schemas = &doc.components.as_ref()?.schemas;
    let first = schemas.get(component_name(reference, "schemas")?.as_str())?;
    resolve_in(Some(schemas), "schemas", first).map(|(s, _)| s)
}

/// Resolves a parameter or `#/components/parameters/X`.
pub fn resolve_parameter<'a>(
    doc: &'a OpenAPI,
    r: &'a ReferenceOr<Parameter>,
) -> Option<&'a Parameter> {
    let map = doc.components.as_ref().map(|c| &c.parameters);
    resolve_in(map, "parameters", r).map(|(p, _)| p)
}

/// Resolves a request body or `#/components/requestBodies/X`.
pub fn resolve_request_body<'a>(
    doc: &'a OpenAPI,
    r: &'a ReferenceOr<RequestBody>,
) -> Option<&'a RequestBody> {
    let map = doc.components.as_ref().map(|c| &c.request_bodies);
    resolve_in(map, "requestBodies", r).map(|(b, _)| b)
}

/// Resolves a response or `#/components/responses/X`.
pub fn resolve_response<'a>(
    doc: &'a OpenAPI,
    r: &'a ReferenceOr<Response>,
) -> Option<&'a Response> {
    let map = doc.components.as_ref().map(|c| &c.responses);
    resolve_in(map, "responses", r).map(|(x, _)| x)
}

/// Resolves a header or `#/components/headers/X`.
pub fn resolve_header<'a>(doc: &'a OpenAPI, r: &'a ReferenceOr<Header>) -> Option<&'a Header> {
    let map = doc.components.as_ref().map(|c| &c.headers);
    resolve_in(map, "headers", r).map(|(h, _)| h)
}

/// Resolves a security scheme or `#/components/securitySchemes/X`.
pub fn resolve_security_scheme<'a>(
    doc: &'a OpenAPI,
    r: &'a ReferenceOr<SecurityScheme>,
) -> Option<&'a SecurityScheme> {
    let map = doc.components.as_ref().map(|c| &c.security_schemes);
    resolve_in(map, "securitySchemes", r).map(|(s, _)| s)
}

/// Resolves a path item, following `#/paths/<escaped path>` references (the only
/// local form OpenAPI 3.0 has for them).
pub fn resolve_path_item<'a>(
    doc: &'a OpenAPI,
    r: &'a ReferenceOr<PathItem>,
) -> Option<&'a PathItem> {
    let mut current = r;
    for _ in 0..MAX_HOPS {
        match current {
            ReferenceOr::Item(item) => return Some(item),
            ReferenceOr::Reference { reference } => {
                let rest = reference.strip_prefix("#/paths/")?;
                let path = unescape_segment(&percent_decode(rest));
                current = doc.paths.paths.get(&path)?;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed document alone, as the resolver sees it.
    struct Doc {
        doc: OpenAPI,
    }

    const DOC: &str = r#"
openapi: 3.0.3
info: {title: t, version: "1.0.0"}
paths:
  /a:
    get:
      parameters:
        - $ref: '#/components/parameters/Alias'
      responses:
        '200': {$ref: '#/components/responses/Ok'}
components:
  parameters:
    Alias: {$ref: '#/components/parameters/Limit'}
    Limit: {name: limit, in: query, schema: {type: integer}}
    LoopA: {$ref: '#/components/parameters/LoopB'}
    LoopB: {$ref: '#/components/parameters/LoopA'}
  responses:
    Ok: {description: ok}
  schemas:
    Node:
      type: object
      properties:
        next: {$ref: '#/components/schemas/Node'}
    Alias: {$ref: '#/components/schemas/Node'}
    "a/b~c": {type: string}
"#;

    #[test]
    fn follows_chains_and_survives_cycles() {
        let doc: OpenAPI = serde_yaml::from_str(DOC).unwrap();
        let c = Doc { doc };
        let comps = c.doc.components.as_ref().unwrap();
        let alias = &comps.parameters["Alias"];
        let p = resolve_parameter(&c.doc, alias).unwrap();
        assert_eq!(p.parameter_data_ref().name, "limit");
        let (_, name) = resolve_in(Some(&comps.parameters), "parameters", alias).unwrap();
        assert_eq!(name, Some("Limit"));
        assert!(resolve_parameter(&c.doc, &comps.parameters["LoopA"]).is_none());
        let node = resolve_schema(&c.doc, &comps.schemas["Alias"]).unwrap();
        assert!(matches!(
            node.schema_kind,
            openapiv3::SchemaKind::Type(openapiv3::Type::Object(_))
        ));
        assert!(resolve_schema_ref(&c.doc, "#/components/schemas/a~1b~0c").is_some());
        let (_, _, op) = c.doc.operations().next().unwrap();
        let ok = op.responses.responses.values().next().unwrap();
        assert_eq!(resolve_response(&c.doc, ok).unwrap().description, "ok");
    }

    #[test]
    fn escapes_pointer_tokens() {
        assert_eq!(escape_segment("/orders/{id}"), "~1orders~1{id}");
        assert_eq!(escape_segment("a~b"), "a~0b");
        assert_eq!(unescape_segment("~01"), "~1");
        assert_eq!(unescape_segment(&escape_segment("~/x")), "~/x");
    }

    #[test]
    fn component_names() {
        assert_eq!(
            component_name("#/components/schemas/a~1b", "schemas").as_deref(),
            Some("a/b")
        );
        assert_eq!(
            component_name("#/components/schemas/A/properties/x", "schemas"),
            None
        );
        assert_eq!(component_name("#/components/parameters/A", "schemas"), None);
        assert_eq!(escape_segment("/a~b"), "~1a~0b");
    }
}
