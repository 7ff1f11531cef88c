//! The diff's view of references: every node it resolves comes with the JSON
//! pointer of where it is defined, so a change found inside a shared component
//! points at the component, and the pointer pair doubles as the identity that
//! stops recursion. The following itself is [`crate::resolve`]'s, the one
//! resolver of the crate (hop limit, percent-decoding, escaping); external
//! references (`other.yaml#/...`) and deep pointers
//! (`#/components/schemas/A/properties/b`) are not followed, and callers treat
//! them as unknown and skip the comparison.

use indexmap::IndexMap;
use openapiv3::{Header, OpenAPI, Parameter, ReferenceOr, RequestBody, Response, Schema};

use super::view::SRef;
use crate::resolve::{
    component_name, component_pointer, percent_decode, resolve_in, unescape_segment,
};

/// A schema found in a document, with the pointer of its definition.
pub(crate) struct Resolved<'a> {
    pub schema: &'a Schema,
    pub ptr: String,
}

/// The last segment of a reference, for use in sentences (`Pet` for
/// `#/components/schemas/Pet`).
pub(crate) fn short_name(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    unescape_segment(&percent_decode(last))
}

/// Follows `first`, written at `ptr`, through the components of `section`; the
/// pointer returned is that of the component the chain ended in, or `ptr` if
/// `first` was not a reference.
fn follow<'a, T>(
    map: Option<&'a IndexMap<String, ReferenceOr<T>>>,
    section: &str,
    first: &'a ReferenceOr<T>,
    ptr: &str,
) -> Option<(&'a T, String)> {
    let (item, name) = resolve_in(map, section, first)?;
    let ptr = match name {
        Some(name) => component_pointer(section, name),
        None => ptr.to_string(),
    };
    Some((item, ptr))
}

/// Resolves a schema written at `ptr`.
pub(crate) fn schema<'a>(doc: &'a OpenAPI, schema: SRef<'a>, ptr: &str) -> Option<Resolved<'a>> {
    match schema {
        SRef::Item(schema) => Some(Resolved {
            schema,
            ptr: ptr.to_string(),
        }),
        // A schema the loader stored once for all the places it is written
        // (`loader::shared`) is read as written here, pointer included.
        SRef::Ref(reference) if reference.starts_with(crate::loader::shared::REF_PREFIX) => {
            let name = &reference["#/components/schemas/".len()..];
            match doc.components.as_ref()?.schemas.get(name)? {
                ReferenceOr::Item(schema) => Some(Resolved {
                    schema,
                    ptr: ptr.to_string(),
                }),
                ReferenceOr::Reference { .. } => None,
            }
        }
        SRef::Ref(reference) => {
            let schemas = &doc.components.as_ref()?.schemas;
            let (name, first) =
                schemas.get_key_value(component_name(reference, "schemas")?.as_str())?;
            let (schema, ptr) = follow(
                Some(schemas),
                "schemas",
                first,
                &component_pointer("schemas", name),
            )?;
            Some(Resolved { schema, ptr })
        }
    }
}

pub(crate) fn parameter<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<Parameter>,
    ptr: &str,
) -> Option<(&'a Parameter, String)> {
    let map = doc.components.as_ref().map(|c| &c.parameters);
    follow(map, "parameters", item, ptr)
}

pub(crate) fn request_body<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<RequestBody>,
    ptr: &str,
) -> Option<(&'a RequestBody, String)> {
    let map = doc.components.as_ref().map(|c| &c.request_bodies);
    follow(map, "requestBodies", item, ptr)
}

pub(crate) fn response<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<Response>,
    ptr: &str,
) -> Option<(&'a Response, String)> {
    let map = doc.components.as_ref().map(|c| &c.responses);
    follow(map, "responses", item, ptr)
}

pub(crate) fn header<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<Header>,
    ptr: &str,
) -> Option<(&'a Header, String)> {
    let map = doc.components.as_ref().map(|c| &c.headers);
    follow(map, "headers", item, ptr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(components: &str) -> OpenAPI {
        serde_yaml::from_str(&format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{components}"
        ))
        .expect("valid document")
    }

    #[test]
    fn names_components() {
        assert_eq!(short_name("#/components/schemas/Pet"), "Pet");
        assert_eq!(short_name("#/components/schemas/a~1b"), "a/b");
        assert_eq!(
            short_name("#/components/schemas/Order%20Line"),
            "Order Line"
        );
    }

    #[test]
    fn a_percent_encoded_reference_resolves_to_its_component_pointer() {
        let doc = doc("    Order Line: {type: string}\n    a/b: {type: integer}\n");
        let found = schema(&doc, SRef::Ref("#/components/schemas/Order%20Line"), "/x")
            .expect("the encoded name is decoded");
        assert_eq!(found.ptr, "/components/schemas/Order Line");
        let found = schema(&doc, SRef::Ref("#/components/schemas/a~1b"), "/x")
            .expect("the escaped name is unescaped");
        assert_eq!(found.ptr, "/components/schemas/a~1b");
    }

    #[test]
    fn reference_cycles_terminate() {
        let doc = doc(
            "    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n",
        );
        assert!(schema(&doc, SRef::Ref("#/components/schemas/A"), "/x").is_none());
        assert!(schema(&doc, SRef::Ref("#/components/schemas/Missing"), "/x").is_none());
    }

    #[test]
    fn chains_longer_than_the_hop_limit_are_refused() {
        let mut chain = String::new();
        for i in 0..crate::resolve::MAX_HOPS + 2 {
            chain.push_str(&format!(
                "    S{i}: {{$ref: '#/components/schemas/S{}'}}\n",
                i + 1
            ));
        }
        chain.push_str(&format!(
            "    S{}: {{type: string}}\n",
            crate::resolve::MAX_HOPS + 2
        ));
        let doc = doc(&chain);
        assert!(schema(&doc, SRef::Ref("#/components/schemas/S0"), "/x").is_none());
        let near = format!("#/components/schemas/S{}", 4);
        assert!(schema(&doc, SRef::Ref(&near), "/x").is_some());
    }
}
