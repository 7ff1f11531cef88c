//! Resolution of local `#/components/<kind>/<name>` references.
//!
//! The diff follows references itself rather than through the crate-wide
//! resolver so that it works on documents exactly as parsed, and so that every
//! resolved node comes with the JSON pointer of where it is defined: changes
//! found inside a shared component point at the component, and the pointer pair
//! doubles as the identity used to stop recursion. External references
//! (`other.yaml#/...`) and deep pointers (`#/components/schemas/A/properties/b`)
//! are not followed; callers treat them as unknown and skip the comparison.

use openapiv3::{Header, OpenAPI, Parameter, ReferenceOr, RequestBody, Response, Schema};

use super::util;
use super::view::SRef;

/// A chain of references longer than this is treated as a cycle.
const MAX_HOPS: usize = 16;

/// A schema found in a document, with the pointer of its definition.
pub(crate) struct Resolved<'a> {
    pub schema: &'a Schema,
    pub ptr: String,
}

/// The component name a local reference of `kind` names, if it is one.
fn component_name(reference: &str, kind: &str) -> Option<String> {
    let rest = reference
        .strip_prefix("#/components/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(util::unescape(rest))
}

/// The last segment of a reference, for use in sentences (`Pet` for
/// `#/components/schemas/Pet`).
pub(crate) fn short_name(reference: &str) -> String {
    util::unescape(reference.rsplit('/').next().unwrap_or(reference))
}

fn component_ptr(kind: &str, name: &str) -> String {
    format!("/components/{kind}/{}", util::escape(name))
}

/// Follows `first` through component references until an item is found.
fn follow<'a, T>(
    first: &'a ReferenceOr<T>,
    ptr: &str,
    kind: &str,
    lookup: impl Fn(&'a OpenAPI, &str) -> Option<&'a ReferenceOr<T>>,
    doc: &'a OpenAPI,
) -> Option<(&'a T, String)> {
    let mut current = first;
    let mut current_ptr = ptr.to_string();
    for _ in 0..MAX_HOPS {
        match current {
            ReferenceOr::Item(item) => return Some((item, current_ptr)),
            ReferenceOr::Reference { reference } => {
                let name = component_name(reference, kind)?;
                current = lookup(doc, &name)?;
                current_ptr = component_ptr(kind, &name);
            }
        }
    }
    None
}

/// Resolves a schema written at `ptr`.
pub(crate) fn schema<'a>(doc: &'a OpenAPI, schema: SRef<'a>, ptr: &str) -> Option<Resolved<'a>> {
    match schema {
        SRef::Item(schema) => Some(Resolved {
            schema,
            ptr: ptr.to_string(),
        }),
        SRef::Ref(reference) => {
            let name = component_name(reference, "schemas")?;
            let found = doc.components.as_ref()?.schemas.get(&name)?;
            let (schema, ptr) = follow(
                found,
                &component_ptr("schemas", &name),
                "schemas",
                |d, n| d.components.as_ref()?.schemas.get(n),
                doc,
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
    follow(
        item,
        ptr,
        "parameters",
        |d, n| d.components.as_ref()?.parameters.get(n),
        doc,
    )
}

pub(crate) fn request_body<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<RequestBody>,
    ptr: &str,
) -> Option<(&'a RequestBody, String)> {
    follow(
        item,
        ptr,
        "requestBodies",
        |d, n| d.components.as_ref()?.request_bodies.get(n),
        doc,
    )
}

pub(crate) fn response<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<Response>,
    ptr: &str,
) -> Option<(&'a Response, String)> {
    follow(
        item,
        ptr,
        "responses",
        |d, n| d.components.as_ref()?.responses.get(n),
        doc,
    )
}

pub(crate) fn header<'a>(
    doc: &'a OpenAPI,
    item: &'a ReferenceOr<Header>,
    ptr: &str,
) -> Option<(&'a Header, String)> {
    follow(
        item,
        ptr,
        "headers",
        |d, n| d.components.as_ref()?.headers.get(n),
        doc,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_components() {
        assert_eq!(
            component_name("#/components/schemas/Pet", "schemas").as_deref(),
            Some("Pet")
        );
        assert_eq!(
            component_name("#/components/schemas/a~1b", "schemas").as_deref(),
            Some("a/b")
        );
        assert_eq!(component_name("#/components/schemas/", "schemas"), None);
        assert_eq!(component_name("#/components/schemas/A/x", "schemas"), None);
        assert_eq!(
            component_name("other.yaml#/components/schemas/A", "schemas"),
            None
        );
        assert_eq!(component_name("#/components/schemasX/A", "schemas"), None);
        assert_eq!(short_name("#/components/schemas/Pet"), "Pet");
    }

    #[test]
    fn reference_cycles_terminate() {
        let doc: OpenAPI = serde_yaml::from_str(
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n",
        )
        .expect("valid document");
        assert!(schema(&doc, SRef::Ref("#/components/schemas/A"), "/x").is_none());
        assert!(schema(&doc, SRef::Ref("#/components/schemas/Missing"), "/x").is_none());
    }
}
