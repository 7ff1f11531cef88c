//! Example-based tests: one base/revision pair per check id, plus the
//! behaviours the design promises (path-variable renames, recursion, shared
//! components, direction handling, rendering).

use std::collections::HashMap;

use openapiv3::OpenAPI;

use super::{DiffOptions, diff, summary, to_markdown, to_text, worst};
use steward_model::{Change, Level};

const HEAD: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n";

fn parse(text: &str) -> OpenAPI {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A document from a flow-style `paths` value and optional `components`.
fn doc(paths: &str, components: &str) -> OpenAPI {
    parse(&format!("{HEAD}paths: {paths}\ncomponents: {components}\n"))
}

/// A document with the single operation `POST /things` given in flow style.
fn post(op: &str) -> OpenAPI {
    doc(&format!("{{'/things': {{post: {op}}}}}"), "{}")
}

fn run(base: &OpenAPI, rev: &OpenAPI) -> Vec<Change> {
    diff(base, rev, &DiffOptions::default())
}

fn dump(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("  {:?} {} {:?}: {}", c.level, c.id, c.operation, c.text))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that a change with `id` exists with `level` on `operation`.
fn expect(changes: &[Change], id: &str, level: Level, operation: &str) -> Change {
    let found = changes
        .iter()
        .find(|c| c.id == id && c.operation.as_deref() == Some(operation));
    let Some(change) = found else {
        panic!("no {id} on {operation} in\n{}", dump(changes));
    };
    assert_eq!(change.level, level, "level of {id} in\n{}", dump(changes));
    change.clone()
}

fn ids(changes: &[Change]) -> Vec<&str> {
    changes.iter().map(|c| c.id.as_str()).collect()
}

// ---------------------------------------------------------------------------
// Schema checks, run in every place a schema can appear.

/// How a schema is embedded in an operation, and the id prefix expected there.
struct Scope {
    request: bool,
    prefix: &'static str,
    op: &'static str,
    nested: bool,
}

const SCOPES: &[Scope] = &[
    Scope {
        request: true,
        prefix: "request-parameter",
        op: "{parameters: [{name: q, in: query, schema: SCHEMA}], responses: {'200': {description: ok}}}",
        nested: false,
    },
    Scope {
        request: true,
        prefix: "request-parameter-property",
        op: "{parameters: [{name: q, in: query, schema: SCHEMA}], responses: {'200': {description: ok}}}",
        nested: true,
    },
    Scope {
        request: true,
        prefix: "request-body",
        op: "{requestBody: {content: {application/json: {schema: SCHEMA}}}, responses: {'200': {description: ok}}}",
        nested: false,
    },
    Scope {
        request: true,
        prefix: "request-property",
        op: "{requestBody: {content: {application/json: {schema: SCHEMA}}}, responses: {'200': {description: ok}}}",
        nested: true,
    },
    Scope {
        request: false,
        prefix: "response-body",
        op: "{responses: {'200': {description: ok, content: {application/json: {schema: SCHEMA}}}}}",
        nested: false,
    },
    Scope {
        request: false,
        prefix: "response-property",
        op: "{responses: {'200': {description: ok, content: {application/json: {schema: SCHEMA}}}}}",
        nested: true,
    },
    Scope {
        request: false,
        prefix: "response-header",
        op: "{responses: {'200': {description: ok, headers: {X-Rate: {schema: SCHEMA}}}}}",
        nested: false,
    },
];

use Level::{Error as E, Info as I, Warning as W};

/// (base schema, revision schema, (request suffix, level), (response suffix, level)).
type SchemaCase = (
    &'static str,
    &'static str,
    (&'static str, Level),
    (&'static str, Level),
);

const SCHEMA_CASES: &[SchemaCase] = &[
    (
        "{type: boolean}",
        "{type: integer}",
        ("type-changed", E),
        ("type-changed", E),
    ),
    (
        "{type: integer}",
        "{type: number}",
        ("type-generalized", I),
        ("type-changed", E),
    ),
    (
        "{type: number}",
        "{type: integer}",
        ("type-changed", E),
        ("type-specialized", I),
    ),
    (
        "{type: integer, format: int32}",
        "{type: integer, format: int64}",
        ("type-generalized", I),
        ("type-changed", E),
    ),
    (
        "{type: integer, format: int64}",
        "{type: integer, format: int32}",
        ("type-changed", E),
        ("type-specialized", I),
    ),
    (
        "{type: string, format: date}",
        "{type: string, format: date-time}",
        ("type-changed", E),
        ("type-changed", E),
    ),
    (
        "{type: string}",
        "{type: string, nullable: true}",
        ("became-nullable", I),
        ("became-nullable", E),
    ),
    (
        "{type: string, nullable: true}",
        "{type: string}",
        ("became-not-nullable", E),
        ("became-not-nullable", I),
    ),
    (
        "{type: string, enum: [a, b]}",
        "{type: string, enum: [a]}",
        ("enum-value-removed", E),
        ("enum-value-removed", I),
    ),
    (
        "{type: string, enum: [a]}",
        "{type: string, enum: [a, b]}",
        ("enum-value-added", I),
        ("enum-value-added", W),
    ),
    (
        "{type: string}",
        "{type: string, enum: [a]}",
        ("became-enum", E),
        ("became-enum", I),
    ),
    (
        "{type: string, enum: [a]}",
        "{type: string}",
        ("enum-removed", I),
        ("enum-removed", W),
    ),
    (
        "{type: string, maxLength: 10}",
        "{type: string, maxLength: 5}",
        ("max-length-decreased", E),
        ("max-length-decreased", I),
    ),
    (
        "{type: string, maxLength: 5}",
        "{type: string, maxLength: 10}",
        ("max-length-increased", I),
        ("max-length-increased", W),
    ),
    (
        "{type: string}",
        "{type: string, maxLength: 5}",
        ("max-length-set", W),
        ("max-length-set", I),
    ),
    (
        "{type: string, maxLength: 5}",
        "{type: string}",
        ("max-length-unset", I),
        ("max-length-unset", E),
    ),
    (
        "{type: string, minLength: 1}",
        "{type: string, minLength: 2}",
        ("min-length-increased", E),
        ("min-length-increased", I),
    ),
    (
        "{type: string, minLength: 2}",
        "{type: string, minLength: 1}",
        ("min-length-decreased", I),
        ("min-length-decreased", W),
    ),
    (
        "{type: string}",
        "{type: string, minLength: 1}",
        ("min-length-increased", E),
        ("min-length-increased", I),
    ),
    (
        "{type: string, minLength: 1}",
        "{type: string}",
        ("min-length-decreased", I),
        ("min-length-decreased", W),
    ),
    (
        "{type: integer, maximum: 10}",
        "{type: integer, maximum: 5}",
        ("max-decreased", E),
        ("max-decreased", I),
    ),
    (
        "{type: integer, maximum: 5}",
        "{type: integer, maximum: 10}",
        ("max-increased", I),
        ("max-increased", W),
    ),
    (
        "{type: number, maximum: 5}",
        "{type: number, maximum: 5, exclusiveMaximum: true}",
        ("exclusive-max-set", W),
        ("exclusive-max-set", I),
    ),
    (
        "{type: number, minimum: 5, exclusiveMinimum: true}",
        "{type: number, minimum: 5}",
        ("exclusive-min-unset", I),
        ("exclusive-min-unset", W),
    ),
    (
        "{type: integer}",
        "{type: integer, maximum: 5}",
        ("max-set", W),
        ("max-set", I),
    ),
    (
        "{type: integer, maximum: 5}",
        "{type: integer}",
        ("max-unset", I),
        ("max-unset", W),
    ),
    (
        "{type: integer, minimum: 1}",
        "{type: integer, minimum: 2}",
        ("min-increased", E),
        ("min-increased", I),
    ),
    (
        "{type: integer, minimum: 2}",
        "{type: integer, minimum: 1}",
        ("min-decreased", I),
        ("min-decreased", W),
    ),
    (
        "{type: number}",
        "{type: number, minimum: 0}",
        ("min-set", W),
        ("min-set", I),
    ),
    (
        "{type: number, minimum: 0}",
        "{type: number}",
        ("min-unset", I),
        ("min-unset", W),
    ),
    (
        "{type: array, items: {type: string}, maxItems: 5}",
        "{type: array, items: {type: string}, maxItems: 3}",
        ("max-items-decreased", E),
        ("max-items-decreased", I),
    ),
    (
        "{type: array, items: {type: string}, maxItems: 3}",
        "{type: array, items: {type: string}, maxItems: 5}",
        ("max-items-increased", I),
        ("max-items-increased", W),
    ),
    (
        "{type: array, items: {type: string}}",
        "{type: array, items: {type: string}, maxItems: 3}",
        ("max-items-set", W),
        ("max-items-set", I),
    ),
    (
        "{type: array, items: {type: string}, maxItems: 3}",
        "{type: array, items: {type: string}}",
        ("max-items-unset", I),
        ("max-items-unset", W),
    ),
    (
        "{type: array, items: {type: string}, minItems: 1}",
        "{type: array, items: {type: string}, minItems: 2}",
        ("min-items-increased", E),
        ("min-items-increased", I),
    ),
    (
        "{type: array, items: {type: string}, minItems: 2}",
        "{type: array, items: {type: string}, minItems: 1}",
        ("min-items-decreased", I),
        ("min-items-decreased", W),
    ),
    (
        "{type: array, items: {type: string}}",
        "{type: array, items: {type: string}, minItems: 1}",
        ("min-items-increased", E),
        ("min-items-increased", I),
    ),
    (
        "{type: array, items: {type: string}, minItems: 1}",
        "{type: array, items: {type: string}}",
        ("min-items-decreased", I),
        ("min-items-decreased", W),
    ),
    (
        "{type: object, maxProperties: 5}",
        "{type: object, maxProperties: 3}",
        ("max-properties-decreased", E),
        ("max-properties-decreased", I),
    ),
    (
        "{type: object, maxProperties: 3}",
        "{type: object, maxProperties: 5}",
        ("max-properties-increased", I),
        ("max-properties-increased", W),
    ),
    (
        "{type: object}",
        "{type: object, maxProperties: 3}",
        ("max-properties-set", W),
        ("max-properties-set", I),
    ),
    (
        "{type: object, maxProperties: 3}",
        "{type: object}",
        ("max-properties-unset", I),
        ("max-properties-unset", W),
    ),
    (
        "{type: object, minProperties: 1}",
        "{type: object, minProperties: 2}",
        ("min-properties-increased", E),
        ("min-properties-increased", I),
    ),
    (
        "{type: object, minProperties: 2}",
        "{type: object, minProperties: 1}",
        ("min-properties-decreased", I),
        ("min-properties-decreased", W),
    ),
    (
        "{type: object}",
        "{type: object, minProperties: 1}",
        ("min-properties-increased", E),
        ("min-properties-increased", I),
    ),
    (
        "{type: object, minProperties: 1}",
        "{type: object}",
        ("min-properties-decreased", I),
        ("min-properties-decreased", W),
    ),
    (
        "{type: string}",
        "{type: string, pattern: '^a'}",
        ("pattern-added", W),
        ("pattern-added", I),
    ),
    (
        "{type: string, pattern: '^a'}",
        "{type: string, pattern: '^b'}",
        ("pattern-changed", W),
        ("pattern-changed", W),
    ),
    (
        "{type: string, pattern: '^a'}",
        "{type: string}",
        ("pattern-removed", I),
        ("pattern-removed", W),
    ),
    (
        "{type: object}",
        "{type: object, additionalProperties: false}",
        ("additional-properties-became-false", E),
        ("additional-properties-became-false", I),
    ),
    (
        "{type: object, additionalProperties: false}",
        "{type: object, additionalProperties: true}",
        ("additional-properties-became-true", I),
        ("additional-properties-became-true", W),
    ),
    (
        "{oneOf: [{title: A, type: string}, {title: B, type: string, format: date}]}",
        "{oneOf: [{title: A, type: string}]}",
        ("one-of-removed", E),
        ("one-of-removed", I),
    ),
    (
        "{oneOf: [{title: A, type: string}]}",
        "{oneOf: [{title: A, type: string}, {title: B, type: string, format: date}]}",
        ("one-of-added", I),
        ("one-of-added", W),
    ),
    (
        "{anyOf: [{title: A, type: string}, {title: B, type: string, format: date}]}",
        "{anyOf: [{title: B, type: string, format: date}]}",
        ("any-of-removed", E),
        ("any-of-removed", I),
    ),
    (
        "{anyOf: [{type: string}]}",
        "{anyOf: [{type: string}, {type: string, format: date}]}",
        ("any-of-added", I),
        ("any-of-added", W),
    ),
    (
        "{allOf: [{type: string}]}",
        "{allOf: [{type: string}, {title: note}]}",
        ("all-of-added", I),
        ("all-of-added", I),
    ),
    (
        "{allOf: [{type: string}, {title: note}]}",
        "{allOf: [{type: string}]}",
        ("all-of-removed", I),
        ("all-of-removed", I),
    ),
    // Alternatives of other types change the list of types, which stands for them.
    (
        "{type: string}",
        "{oneOf: [{type: string}, {type: integer}]}",
        ("list-of-types-widened", I),
        ("list-of-types-widened", E),
    ),
    (
        "{anyOf: [{type: string}, {type: integer}]}",
        "{anyOf: [{type: integer}]}",
        ("list-of-types-narrowed", E),
        ("list-of-types-narrowed", I),
    ),
];

/// `/things/{id}` and `/things/{name}` are one template (invalid OpenAPI, but
/// GitHub's description has such pairs, one method under each): every method
/// under either is matched, not only those of the first path written.
#[test]
fn equivalent_templates_keep_every_method() {
    let op = "{parameters: [{name: P, in: path, required: true, schema: {type: string}}], \
              responses: {'200': {description: ok}}}";
    let paths = |get: &str, delete: Option<&str>| {
        let mut paths = format!("{{'/things/{{{get}}}': {{get: {}}}", op.replace('P', get));
        if let Some(delete) = delete {
            paths += &format!(
                ", '/things/{{{delete}}}': {{delete: {}}}",
                op.replace('P', delete)
            );
        }
        doc(&(paths + "}"), "{}")
    };
    let both = paths("id", Some("name"));
    assert!(run(&both, &both).is_empty());
    let renamed = run(&both, &paths("thingId", Some("digest")));
    assert!(
        renamed.iter().all(|c| c.level == Level::Info),
        "{}",
        dump(&renamed)
    );
    let changes = run(&both, &paths("id", None));
    expect(
        &changes,
        "api-removed-without-deprecation",
        E,
        "DELETE /things/{name}",
    );
    assert_eq!(changes.len(), 1, "{}", dump(&changes));
    let changes = run(&paths("id", None), &both);
    expect(&changes, "endpoint-added", I, "DELETE /things/{name}");
    assert_eq!(changes.len(), 1, "{}", dump(&changes));
}

/// Parameters and headers described by a schema are text on the wire, so a
/// plain string holds every scalar: a parameter retyped to one accepts more, a
/// header retyped from one promises less. Bodies, and parameters with a JSON
/// `content`, are JSON, where `1` and `"1"` differ.
#[test]
fn plain_strings_hold_any_scalar_in_parameters_and_headers() {
    let op = |schema: &str| {
        post(
            &"{parameters: [{name: q, in: query, schema: SCHEMA}, \
                           {name: c, in: query, content: {application/json: {schema: SCHEMA}}}], \
              requestBody: {content: {application/json: {schema: {type: object, properties: {p: SCHEMA}}}}}, \
              responses: {'200': {description: ok, headers: {X-Rate: {schema: SCHEMA}}}}}"
                .replace("SCHEMA", schema),
        )
    };
    let ids = |base: &str, rev: &str| {
        let mut ids: Vec<(String, Level)> = run(&op(base), &op(rev))
            .into_iter()
            .map(|c| (c.id, c.level))
            .collect();
        ids.sort_by(|a, b| a.0.cmp(&b.0));
        ids
    };
    let id = |s: &str, l: Level| (s.to_string(), l);
    for scalar in ["integer", "number", "boolean"] {
        let (scalar, text) = (format!("{{type: {scalar}}}"), "{type: string}");
        assert_eq!(
            ids(&scalar, text),
            [
                // `c` is JSON, where `1` and `"1"` differ.
                id("request-parameter-type-changed", E),
                id("request-parameter-type-generalized", I),
                id("request-property-type-changed", E),
                id("response-header-type-changed", E),
            ],
            "{scalar} to string"
        );
        assert_eq!(
            ids(text, &scalar),
            [
                id("request-parameter-type-changed", E),
                id("request-parameter-type-changed", E),
                id("request-property-type-changed", E),
                id("response-header-type-specialized", I),
            ],
            "string to {scalar}"
        );
    }
    // A string with a format does not hold every number.
    let ids = ids(
        "{type: integer, minimum: 1}",
        "{type: string, format: date}",
    );
    assert!(
        ids.contains(&id("request-parameter-type-changed", E)),
        "{ids:?}"
    );
}

#[test]
fn schema_checks_in_every_scope() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for scope in SCOPES {
        for (base, rev, request, response) in SCHEMA_CASES {
            let wrap = |schema: &str| {
                let schema = if scope.nested {
                    format!("{{type: object, properties: {{p: {schema}}}}}")
                } else {
                    schema.to_string()
                };
                post(&scope.op.replace("SCHEMA", &schema))
            };
            let (suffix, level) = if scope.request { request } else { response };
            let want = format!("{}-{suffix}", scope.prefix);
            let changes = run(&wrap(base), &wrap(rev));
            checked += 1;
            let ok = changes.len() == 1
                && changes.first().is_some_and(|c| {
                    c.id == want
                        && c.level == *level
                        && c.operation.as_deref() == Some("POST /things")
                        && c.path.as_deref() == Some("/things")
                        && (c.base_pointer.is_some() || c.revision_pointer.is_some())
                        && [&c.base_pointer, &c.revision_pointer].iter().all(|p| {
                            p.as_deref()
                                .is_none_or(|p| p.starts_with("/paths/~1things/post/"))
                        })
                });
            if !ok {
                failures.push(format!(
                    "{want} ({level:?}) for {base} -> {rev}:\n{}",
                    dump(&changes)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Paths and operations.

const OK: &str = "{responses: {'200': {description: ok}}}";

fn paths(entries: &[(&str, &str, &str)]) -> OpenAPI {
    let mut by_path: Vec<(String, Vec<String>)> = Vec::new();
    for (path, method, op) in entries {
        let entry = format!("{method}: {op}");
        match by_path.iter_mut().find(|(p, _)| p == path) {
            Some((_, ops)) => ops.push(entry),
            None => by_path.push((path.to_string(), vec![entry])),
        }
    }
    let body: Vec<String> = by_path
        .iter()
        .map(|(p, ops)| format!("'{p}': {{{}}}", ops.join(", ")))
        .collect();
    doc(&format!("{{{}}}", body.join(", ")), "{}")
}

#[test]
fn path_removal_and_sunset() {
    let rev = paths(&[("/other", "get", OK)]);
    let removed = |op: &str| {
        run(
            &paths(&[("/orders/{id}", "get", op), ("/other", "get", OK)]),
            &rev,
        )
    };

    let c = expect(
        &removed(OK),
        "api-path-removed-without-deprecation",
        E,
        "GET /orders/{id}",
    );
    assert_eq!(c.path.as_deref(), Some("/orders/{id}"));
    assert_eq!(c.base_pointer.as_deref(), Some("/paths/~1orders~1{id}/get"));
    assert_eq!(c.revision_pointer, None);

    let future =
        "{deprecated: true, x-sunset: '2999-01-01', responses: {'200': {description: ok}}}";
    expect(
        &removed(future),
        "api-path-removed-before-sunset",
        E,
        "GET /orders/{id}",
    );
    let past = "{deprecated: true, x-sunset: '2000-01-01', responses: {'200': {description: ok}}}";
    expect(
        &removed(past),
        "api-path-removed-with-deprecation",
        I,
        "GET /orders/{id}",
    );
    let bad = "{deprecated: true, x-sunset: soon, responses: {'200': {description: ok}}}";
    expect(
        &removed(bad),
        "api-path-sunset-parse",
        E,
        "GET /orders/{id}",
    );
    let timestamp = "{deprecated: true, x-sunset: '2000-01-01T00:00:00Z', responses: {'200': {description: ok}}}";
    expect(
        &removed(timestamp),
        "api-path-removed-with-deprecation",
        I,
        "GET /orders/{id}",
    );
}

#[test]
fn operation_removal_and_sunset() {
    let rev = paths(&[("/orders", "get", OK)]);
    let base = |op: &str| paths(&[("/orders", "get", OK), ("/orders", "delete", op)]);
    let c = expect(
        &run(&base(OK), &rev),
        "api-removed-without-deprecation",
        E,
        "DELETE /orders",
    );
    assert_eq!(c.base_pointer.as_deref(), Some("/paths/~1orders/delete"));

    let deprecated = "{deprecated: true, responses: {'200': {description: ok}}}";
    // Deprecated but no sunset date anywhere: removal may come at any time,
    // which the deprecation announced (oasdiff reads it the same way).
    expect(
        &run(&base(deprecated), &rev),
        "api-removed-with-deprecation",
        I,
        "DELETE /orders",
    );

    let past = DiffOptions {
        base_sunset: Some(time::macros::date!(2000 - 01 - 01)),
    };
    let changes = diff(&base(deprecated), &rev, &past);
    expect(
        &changes,
        "api-removed-with-deprecation",
        I,
        "DELETE /orders",
    );
    let future = DiffOptions {
        base_sunset: Some(time::macros::date!(2999 - 01 - 01)),
    };
    let changes = diff(&base(deprecated), &rev, &future);
    expect(&changes, "api-removed-before-sunset", E, "DELETE /orders");

    // The operation's own x-sunset wins over the base version's date.
    let own_future =
        "{deprecated: true, x-sunset: '2999-01-01', responses: {'200': {description: ok}}}";
    let changes = diff(&base(own_future), &rev, &past);
    expect(&changes, "api-removed-before-sunset", E, "DELETE /orders");

    // A sunset date alone, without deprecation, does not sanction removal.
    let undeprecated = "{x-sunset: '2000-01-01', responses: {'200': {description: ok}}}";
    expect(
        &run(&base(undeprecated), &rev),
        "api-removed-without-deprecation",
        E,
        "DELETE /orders",
    );

    // diff_at pins "today": the sunset day itself already allows removal.
    let on_day =
        "{deprecated: true, x-sunset: '2030-06-01', responses: {'200': {description: ok}}}";
    let changes = super::diff_at(
        &base(on_day),
        &rev,
        &DiffOptions::default(),
        time::macros::date!(2030 - 06 - 01),
    );
    expect(
        &changes,
        "api-removed-with-deprecation",
        I,
        "DELETE /orders",
    );
    let changes = super::diff_at(
        &base(on_day),
        &rev,
        &DiffOptions::default(),
        time::macros::date!(2030 - 05 - 31),
    );
    expect(&changes, "api-removed-before-sunset", E, "DELETE /orders");
}

#[test]
fn additions() {
    let base = paths(&[("/orders", "get", OK)]);
    let rev = paths(&[
        ("/orders", "get", OK),
        ("/orders", "post", OK),
        ("/carts/{id}", "get", OK),
    ]);
    let changes = run(&base, &rev);
    let c = expect(&changes, "endpoint-added", I, "POST /orders");
    assert_eq!(c.revision_pointer.as_deref(), Some("/paths/~1orders/post"));
    assert_eq!(c.base_pointer, None);
    expect(&changes, "endpoint-added", I, "GET /carts/{id}");
    assert_eq!(changes.len(), 2, "{}", dump(&changes));
}

#[test]
fn renaming_a_path_variable_is_not_a_removal() {
    let base = paths(&[(
        "/orders/{id}",
        "get",
        "{parameters: [{name: id, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}",
    )]);
    let rev = paths(&[(
        "/orders/{orderId}",
        "get",
        "{parameters: [{name: orderId, in: path, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}",
    )]);
    let changes = run(&base, &rev);
    assert!(changes.is_empty(), "{}", dump(&changes));

    // A real change under the renamed variable is still found, on the revision's path.
    let rev = paths(&[(
        "/orders/{orderId}",
        "get",
        "{parameters: [{name: orderId, in: path, required: true, schema: {type: integer}}], responses: {'200': {description: ok}}}",
    )]);
    let changes = run(&base, &rev);
    let c = expect(
        &changes,
        "request-parameter-type-changed",
        E,
        "GET /orders/{orderId}",
    );
    assert_eq!(c.path.as_deref(), Some("/orders/{orderId}"));
    assert!(c.text.contains("orderId"), "{}", c.text);
}

#[test]
fn deprecation_operation_id_and_tags() {
    let base =
        post("{operationId: createThing, tags: [things], responses: {'200': {description: ok}}}");
    let rev = post(
        "{operationId: makeThing, tags: [stuff], deprecated: true, x-sunset: '2999-01-01', responses: {'200': {description: ok}}}",
    );
    let changes = run(&base, &rev);
    let c = expect(
        &changes,
        "endpoint-deprecated-with-sunset",
        I,
        "POST /things",
    );
    assert!(c.text.contains("2999-01-01"));
    expect(&changes, "api-operation-id-changed", W, "POST /things");
    expect(&changes, "api-tag-removed", I, "POST /things");
    expect(&changes, "api-tag-added", I, "POST /things");

    let changes = run(&rev, &base);
    expect(&changes, "endpoint-reactivated", I, "POST /things");

    let bad = post("{deprecated: true, x-sunset: someday, responses: {'200': {description: ok}}}");
    expect(
        &run(&post(OK), &bad),
        "api-deprecated-sunset-parse",
        E,
        "POST /things",
    );

    let with_id = post("{operationId: a, responses: {'200': {description: ok}}}");
    expect(
        &run(&with_id, &post(OK)),
        "api-operation-id-removed",
        W,
        "POST /things",
    );
    expect(
        &run(&post(OK), &with_id),
        "api-operation-id-added",
        I,
        "POST /things",
    );
}

// ---------------------------------------------------------------------------
// Parameters.

fn with_params(params: &str) -> OpenAPI {
    post(&format!(
        "{{parameters: [{params}], responses: {{'200': {{description: ok}}}}}}"
    ))
}

#[test]
fn parameter_checks() {
    let q = "{name: q, in: query, schema: {type: string}}";
    let q_required = "{name: q, in: query, required: true, schema: {type: string}}";
    let h = "{name: X-Trace, in: header, schema: {type: string}}";

    expect(
        &run(&with_params(q), &with_params("")),
        "request-parameter-removed",
        W,
        "POST /things",
    );
    expect(
        &run(&with_params(""), &with_params(q_required)),
        "new-required-request-parameter",
        E,
        "POST /things",
    );
    expect(
        &run(&with_params(""), &with_params(q)),
        "new-optional-request-parameter",
        I,
        "POST /things",
    );
    expect(
        &run(&with_params(q), &with_params(q_required)),
        "request-parameter-became-required",
        E,
        "POST /things",
    );
    expect(
        &run(&with_params(q_required), &with_params(q)),
        "request-parameter-became-optional",
        I,
        "POST /things",
    );

    let deprecated = "{name: q, in: query, deprecated: true, schema: {type: string}}";
    expect(
        &run(&with_params(q), &with_params(deprecated)),
        "request-parameter-deprecated",
        I,
        "POST /things",
    );
    expect(
        &run(&with_params(deprecated), &with_params(q)),
        "request-parameter-reactivated",
        I,
        "POST /things",
    );

    // Header names are case-insensitive.
    let h_lower = "{name: x-trace, in: header, schema: {type: string}}";
    assert!(run(&with_params(h), &with_params(h_lower)).is_empty());
    // The same name in another location is another parameter.
    let changes = run(
        &with_params(q),
        &with_params("{name: q, in: header, schema: {type: string}}"),
    );
    assert_eq!(
        ids(&changes),
        vec![
            "new-optional-request-parameter",
            "request-parameter-removed"
        ]
    );

    // Content-based parameters are compared through their media type's schema.
    let content = |t: &str| {
        format!("{{name: f, in: query, content: {{application/json: {{schema: {{type: {t}}}}}}}}}")
    };
    let changes = run(
        &with_params(&content("string")),
        &with_params(&content("integer")),
    );
    expect(
        &changes,
        "request-parameter-type-changed",
        E,
        "POST /things",
    );
}

#[test]
fn path_level_parameters_apply_and_can_be_overridden() {
    let base = doc(
        "{'/things': {parameters: [{name: q, in: query, schema: {type: string}}], get: {responses: {'200': {description: ok}}}}}",
        "{}",
    );
    let rev = doc(
        "{'/things': {get: {parameters: [{name: q, in: query, required: true, schema: {type: string}}], responses: {'200': {description: ok}}}}}",
        "{}",
    );
    let c = expect(
        &run(&base, &rev),
        "request-parameter-became-required",
        E,
        "GET /things",
    );
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/paths/~1things/parameters/0")
    );
    assert_eq!(
        c.revision_pointer.as_deref(),
        Some("/paths/~1things/get/parameters/0")
    );
}

#[test]
fn referenced_parameters_point_at_components() {
    let op = "{parameters: [{$ref: '#/components/parameters/Limit'}], responses: {'200': {description: ok}}}";
    let paths = format!("{{'/things': {{get: {op}}}}}");
    let base = doc(
        &paths,
        "{parameters: {Limit: {name: limit, in: query, schema: {type: integer, maximum: 100}}}}",
    );
    let rev = doc(
        &paths,
        "{parameters: {Limit: {name: limit, in: query, schema: {type: integer, maximum: 50}}}}",
    );
    let c = expect(
        &run(&base, &rev),
        "request-parameter-max-decreased",
        E,
        "GET /things",
    );
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/components/parameters/Limit/schema")
    );
}

// ---------------------------------------------------------------------------
// Request bodies and properties.

fn body(schema: &str, required: bool) -> OpenAPI {
    post(&format!(
        "{{requestBody: {{required: {required}, content: {{application/json: {{schema: {schema}}}}}}}, responses: {{'200': {{description: ok}}}}}}"
    ))
}

fn req_obj(props: &str, required: &str) -> OpenAPI {
    body(
        &format!("{{type: object, required: [{required}], properties: {{{props}}}}}"),
        true,
    )
}

#[test]
fn request_body_checks() {
    let s = "{type: object}";
    expect(
        &run(&post(OK), &body(s, true)),
        "request-body-added-required",
        E,
        "POST /things",
    );
    expect(
        &run(&post(OK), &body(s, false)),
        "request-body-added-optional",
        I,
        "POST /things",
    );
    expect(
        &run(&body(s, false), &post(OK)),
        "request-body-removed",
        W,
        "POST /things",
    );
    expect(
        &run(&body(s, false), &body(s, true)),
        "request-body-became-required",
        E,
        "POST /things",
    );
    expect(
        &run(&body(s, true), &body(s, false)),
        "request-body-became-optional",
        I,
        "POST /things",
    );

    let two = post(
        "{requestBody: {content: {application/json: {schema: {type: object}}, application/xml: {schema: {type: object}}}}, responses: {'200': {description: ok}}}",
    );
    let c = expect(
        &run(&two, &body(s, false)),
        "request-body-media-type-removed",
        E,
        "POST /things",
    );
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/paths/~1things/post/requestBody/content/application~1xml")
    );
    expect(
        &run(&body(s, false), &two),
        "request-body-media-type-added",
        I,
        "POST /things",
    );
}

#[test]
fn request_property_checks() {
    let a = "a: {type: string}";
    let ab = "a: {type: string}, b: {type: string}";
    expect(
        &run(&req_obj(a, ""), &req_obj(ab, "b")),
        "new-required-request-property",
        E,
        "POST /things",
    );
    expect(
        &run(&req_obj(a, ""), &req_obj(ab, "")),
        "new-optional-request-property",
        I,
        "POST /things",
    );
    expect(
        &run(&req_obj(a, ""), &req_obj(a, "a")),
        "request-property-became-required",
        E,
        "POST /things",
    );
    expect(
        &run(&req_obj(a, "a"), &req_obj(a, "")),
        "request-property-became-optional",
        I,
        "POST /things",
    );
    let c = expect(
        &run(&req_obj(ab, ""), &req_obj(a, "")),
        "request-property-removed",
        W,
        "POST /things",
    );
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/paths/~1things/post/requestBody/content/application~1json/schema/properties/b")
    );

    let dep = "a: {type: string, deprecated: true}";
    expect(
        &run(&req_obj(a, ""), &req_obj(dep, "")),
        "request-property-deprecated",
        I,
        "POST /things",
    );

    // readOnly properties are not part of the request at all: adding one is
    // nothing, and what would narrow a request takes oasdiff's read-only ids, at info.
    let ro = "a: {type: string}, id: {type: string, readOnly: true}";
    assert!(run(&req_obj(a, ""), &req_obj(ro, "id")).is_empty());
    let ro_max = |max: u32| format!("n: {{type: integer, readOnly: true, maximum: {max}}}");
    let lowered = run(&req_obj(&ro_max(10), ""), &req_obj(&ro_max(5), ""));
    assert_eq!(lowered.len(), 1, "{lowered:#?}");
    expect(
        &lowered,
        "request-read-only-property-max-decreased",
        I,
        "POST /things",
    );
    let ro_type = |t: &str| format!("n: {{type: {t}, readOnly: true}}");
    expect(
        &run(
            &req_obj(&ro_type("string"), ""),
            &req_obj(&ro_type("integer"), ""),
        ),
        "request-property-type-changed",
        I,
        "POST /things",
    );
    let id_ro = "id: {type: string, readOnly: true}";
    let id_rw = "id: {type: string}";
    expect(
        &run(&req_obj(id_rw, "id"), &req_obj(id_ro, "id")),
        "request-required-property-became-read-only",
        W,
        "POST /things",
    );
    expect(
        &run(&req_obj(id_rw, ""), &req_obj(id_ro, "")),
        "request-optional-property-became-read-only",
        W,
        "POST /things",
    );
    expect(
        &run(&req_obj(id_ro, "id"), &req_obj(id_rw, "id")),
        "request-required-property-became-not-read-only",
        E,
        "POST /things",
    );
    expect(
        &run(&req_obj(id_ro, ""), &req_obj(id_rw, "")),
        "request-optional-property-became-not-read-only",
        I,
        "POST /things",
    );

    // Nested properties and array items carry their path in the text.
    let nested = |t: &str| {
        req_obj(
            &format!(
                "lines: {{type: array, items: {{type: object, properties: {{qty: {{type: {t}}}}}}}}}"
            ),
            "",
        )
    };
    let c = expect(
        &run(&nested("integer"), &nested("string")),
        "request-property-type-changed",
        E,
        "POST /things",
    );
    assert!(c.text.contains("lines/items/qty"), "{}", c.text);
    assert!(
        c.base_pointer
            .as_deref()
            .is_some_and(|p| p.ends_with("/properties/lines/items/properties/qty"))
    );
}

#[test]
fn all_of_parts_are_merged() {
    let schemas = |extra: &str| {
        format!(
            "{{schemas: {{Base: {{type: object, properties: {{id: {{type: string}}}}}}, Thing: {{allOf: [{{$ref: '#/components/schemas/Base'}}, {{type: object, required: [{extra}], properties: {{name: {{type: string}}}}}}]}}}}}}"
        )
    };
    let op = "{requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}, responses: {'200': {description: ok}}}";
    let paths = format!("{{'/things': {{post: {op}}}}}");
    let base = doc(&paths, &schemas(""));
    let rev = doc(&paths, &schemas("id"));
    let changes = run(&base, &rev);
    let c = expect(
        &changes,
        "request-property-became-required",
        E,
        "POST /things",
    );
    // The property is defined in the first part, which is where the pointer goes.
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/components/schemas/Base/properties/id")
    );
    assert_eq!(changes.len(), 1, "{}", dump(&changes));
}

#[test]
fn one_of_alternatives_match_by_ref() {
    let components = |alts: &str| {
        format!(
            "{{schemas: {{Cat: {{type: object, properties: {{meow: {{type: string}}}}}}, Dog: {{type: object}}, Pet: {{oneOf: [{alts}]}}}}}}"
        )
    };
    let op = "{requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}, responses: {'200': {description: ok}}}";
    let paths = format!("{{'/pets': {{post: {op}}}}}");
    let cat = "{$ref: '#/components/schemas/Cat'}";
    let dog = "{$ref: '#/components/schemas/Dog'}";
    let base = doc(&paths, &components(&format!("{cat}, {dog}")));
    // Reordered and one removed: Dog is still matched by name, Cat is gone.
    let rev = doc(&paths, &components(dog));
    let changes = run(&base, &rev);
    let c = expect(&changes, "request-body-one-of-removed", E, "POST /pets");
    assert!(c.text.contains("`Cat`"), "{}", c.text);
    assert_eq!(changes.len(), 1, "{}", dump(&changes));
}

// ---------------------------------------------------------------------------
// Responses.

fn responses(map: &str) -> OpenAPI {
    post(&format!("{{responses: {map}}}"))
}

fn resp_obj(props: &str, required: &str) -> OpenAPI {
    responses(&format!(
        "{{'200': {{description: ok, content: {{application/json: {{schema: {{type: object, required: [{required}], properties: {{{props}}}}}}}}}}}}}"
    ))
}

#[test]
fn response_status_and_media_checks() {
    let both = responses("{'200': {description: ok}, '404': {description: missing}}");
    let only_200 = responses("{'200': {description: ok}}");
    let only_404 = responses("{'404': {description: missing}}");
    expect(
        &run(&both, &only_404),
        "response-success-status-removed",
        E,
        "POST /things",
    );
    expect(
        &run(&both, &only_200),
        "response-non-success-status-removed",
        W,
        "POST /things",
    );
    expect(
        &run(&only_404, &both),
        "response-success-status-added",
        I,
        "POST /things",
    );
    expect(
        &run(&only_200, &both),
        "response-non-success-status-added",
        I,
        "POST /things",
    );
    let default = responses("{'200': {description: ok}, default: {description: error}}");
    expect(
        &run(&default, &only_200),
        "response-non-success-status-removed",
        W,
        "POST /things",
    );
    let range = responses("{2XX: {description: ok}}");
    expect(
        &run(&range, &only_404),
        "response-success-status-removed",
        E,
        "POST /things",
    );

    let json = responses(
        "{'200': {description: ok, content: {application/json: {schema: {type: object}}}}}",
    );
    let two = responses(
        "{'200': {description: ok, content: {application/json: {schema: {type: object}}, text/csv: {schema: {type: string}}}}}",
    );
    expect(
        &run(&two, &json),
        "response-media-type-removed",
        E,
        "POST /things",
    );
    expect(
        &run(&json, &two),
        "response-media-type-added",
        I,
        "POST /things",
    );
}

#[test]
fn response_header_checks() {
    let with = |header: &str| {
        responses(&format!(
            "{{'200': {{description: ok, headers: {{{header}}}}}}}"
        ))
    };
    let none = responses("{'200': {description: ok}}");
    let required = with("X-Rate: {required: true, schema: {type: integer}}");
    let optional = with("X-Rate: {schema: {type: integer}}");
    expect(
        &run(&required, &none),
        "required-response-header-removed",
        E,
        "POST /things",
    );
    expect(
        &run(&optional, &none),
        "optional-response-header-removed",
        W,
        "POST /things",
    );
    expect(
        &run(&none, &optional),
        "response-header-added",
        I,
        "POST /things",
    );
    expect(
        &run(&required, &optional),
        "response-header-became-optional",
        E,
        "POST /things",
    );
    expect(
        &run(&optional, &required),
        "response-header-became-required",
        I,
        "POST /things",
    );
    // Case-insensitive names.
    assert!(run(&optional, &with("x-rate: {schema: {type: integer}}")).is_empty());
}

#[test]
fn response_property_checks() {
    let ab = "a: {type: string}, b: {type: string}";
    let a = "a: {type: string}";
    expect(
        &run(&resp_obj(ab, "b"), &resp_obj(a, "")),
        "response-required-property-removed",
        E,
        "POST /things",
    );
    expect(
        &run(&resp_obj(ab, ""), &resp_obj(a, "")),
        "response-optional-property-removed",
        W,
        "POST /things",
    );
    expect(
        &run(&resp_obj(a, ""), &resp_obj(ab, "b")),
        "response-required-property-added",
        I,
        "POST /things",
    );
    expect(
        &run(&resp_obj(a, ""), &resp_obj(ab, "")),
        "response-optional-property-added",
        I,
        "POST /things",
    );
    expect(
        &run(&resp_obj(a, "a"), &resp_obj(a, "")),
        "response-property-became-optional",
        E,
        "POST /things",
    );
    expect(
        &run(&resp_obj(a, ""), &resp_obj(a, "a")),
        "response-property-became-required",
        I,
        "POST /things",
    );
    let dep = "a: {type: string, deprecated: true}";
    expect(
        &run(&resp_obj(a, ""), &resp_obj(dep, "")),
        "response-property-deprecated",
        I,
        "POST /things",
    );

    // writeOnly properties are never returned: their changes are info, under
    // oasdiff's write-only ids.
    let wo = "a: {type: string}, secret: {type: string, writeOnly: true}";
    let removed = run(&resp_obj(wo, "secret"), &resp_obj(a, ""));
    assert_eq!(removed.len(), 1, "{removed:#?}");
    expect(
        &removed,
        "response-required-write-only-property-removed",
        I,
        "POST /things",
    );
    expect(
        &run(&resp_obj(a, ""), &resp_obj(wo, "")),
        "response-optional-write-only-property-added",
        I,
        "POST /things",
    );
    expect(
        &run(&resp_obj(wo, ""), &resp_obj(wo, "secret")),
        "response-write-only-property-became-required",
        I,
        "POST /things",
    );
    let wo_enum =
        |values: &str| format!("secret: {{type: string, writeOnly: true, enum: [{values}]}}");
    let widened = run(
        &resp_obj(&wo_enum("x"), ""),
        &resp_obj(&wo_enum("x, y"), ""),
    );
    assert_eq!(widened.len(), 1, "{widened:#?}");
    expect(
        &widened,
        "response-write-only-property-enum-value-added",
        I,
        "POST /things",
    );
    // The other way, under the usual id, which is info anyway.
    expect(
        &run(
            &resp_obj(&wo_enum("x, y"), ""),
            &resp_obj(&wo_enum("x"), ""),
        ),
        "response-property-enum-value-removed",
        I,
        "POST /things",
    );
    let s_wo = "s: {type: string, writeOnly: true}";
    let s_rw = "s: {type: string}";
    expect(
        &run(&resp_obj(s_rw, "s"), &resp_obj(s_wo, "s")),
        "response-required-property-became-write-only",
        E,
        "POST /things",
    );
    expect(
        &run(&resp_obj(s_rw, ""), &resp_obj(s_wo, "")),
        "response-optional-property-became-write-only",
        W,
        "POST /things",
    );
    expect(
        &run(&resp_obj(s_wo, "s"), &resp_obj(s_rw, "s")),
        "response-required-property-became-not-write-only",
        I,
        "POST /things",
    );
    expect(
        &run(&resp_obj(s_wo, ""), &resp_obj(s_rw, "")),
        "response-optional-property-became-not-write-only",
        I,
        "POST /things",
    );
}

// ---------------------------------------------------------------------------
// Security.

fn secured(global: &str, op_security: Option<&str>) -> OpenAPI {
    let op = match op_security {
        Some(s) => format!("{{security: {s}, responses: {{'200': {{description: ok}}}}}}"),
        None => OK.to_string(),
    };
    let global = if global.is_empty() {
        String::new()
    } else {
        format!("security: {global}\n")
    };
    parse(&format!(
        "{HEAD}{global}paths: {{'/things': {{get: {op}}}}}\n"
    ))
}

#[test]
fn security_checks() {
    let op = "GET /things";
    let open = secured("", None);
    let key = secured("", Some("[{key: []}]"));
    let key_or_oauth = secured("", Some("[{key: []}, {oauth: [read]}]"));
    let oauth_read = secured("", Some("[{oauth: [read]}]"));
    let oauth_rw = secured("", Some("[{oauth: [read, write]}]"));

    let c = expect(&run(&open, &key), "api-security-added", E, op);
    assert_eq!(
        c.revision_pointer.as_deref(),
        Some("/paths/~1things/get/security")
    );
    expect(&run(&key, &key_or_oauth), "api-security-added", I, op);
    expect(&run(&key_or_oauth, &key), "api-security-removed", W, op);
    // Dropping to anonymous relaxes.
    expect(
        &run(&key, &secured("", Some("[{}]"))),
        "api-security-removed",
        I,
        op,
    );
    expect(
        &run(&oauth_read, &oauth_rw),
        "api-security-scope-added",
        E,
        op,
    );
    expect(
        &run(&oauth_rw, &oauth_read),
        "api-security-scope-removed",
        I,
        op,
    );
    // A scheme added inside the only alternative.
    let both = secured("", Some("[{key: [], oauth: [read]}]"));
    expect(&run(&key, &both), "api-security-added", E, op);

    // Global security applies to operations without their own.
    let g_key = secured("[{key: []}, {basic: []}]", None);
    let g_key_only = secured("[{key: []}]", None);
    expect(
        &run(&g_key, &g_key_only),
        "api-global-security-removed",
        W,
        op,
    );
    expect(
        &run(&g_key_only, &g_key),
        "api-global-security-added",
        I,
        op,
    );
    expect(&run(&open, &g_key_only), "api-global-security-added", E, op);
    let g_read = secured("[{oauth: [read]}]", None);
    let g_rw = secured("[{oauth: [read, write]}]", None);
    expect(
        &run(&g_read, &g_rw),
        "api-global-security-scope-added",
        E,
        op,
    );
    expect(
        &run(&g_rw, &g_read),
        "api-global-security-scope-removed",
        I,
        op,
    );
    // An operation-level override shields the operation from global changes.
    let shielded = |g: &str| secured(g, Some("[{key: []}]"));
    assert!(run(&shielded("[{key: []}]"), &shielded("[{oauth: [read]}]")).is_empty());
}

// ---------------------------------------------------------------------------
// Components, recursion and sharing.

#[test]
fn removed_component_schema_is_reported_once() {
    let base = doc("{}", "{schemas: {Old: {type: string}}}");
    let rev = doc("{}", "{}");
    let changes = run(&base, &rev);
    assert_eq!(ids(&changes), vec!["api-schema-removed"]);
    assert_eq!(changes.first().and_then(|c| c.operation.clone()), None);
}

const CATEGORY_OP: &str = "{'/categories': {get: {responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Category'}}}}}}, post: {requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Category'}}}}, responses: {'200': {description: ok}}}}}";

#[test]
fn recursive_schema_change_is_found_once() {
    let category = |name_type: &str| {
        format!(
            "{{schemas: {{Category: {{type: object, required: [name], properties: {{name: {{type: {name_type}}}, children: {{type: array, items: {{$ref: '#/components/schemas/Category'}}}}, parent: {{$ref: '#/components/schemas/Category'}}}}}}}}}}"
        )
    };
    let base = doc(CATEGORY_OP, &category("string"));
    let same = run(&base, &base);
    assert!(same.is_empty(), "{}", dump(&same));

    let rev = doc(CATEGORY_OP, &category("integer"));
    let changes = run(&base, &rev);
    let get: Vec<&Change> = changes
        .iter()
        .filter(|c| c.operation.as_deref() == Some("GET /categories"))
        .collect();
    let post: Vec<&Change> = changes
        .iter()
        .filter(|c| c.operation.as_deref() == Some("POST /categories"))
        .collect();
    assert_eq!(get.len(), 1, "{}", dump(&changes));
    assert_eq!(post.len(), 1, "{}", dump(&changes));
    let c = expect(
        &changes,
        "response-property-type-changed",
        E,
        "GET /categories",
    );
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/components/schemas/Category/properties/name")
    );
    expect(
        &changes,
        "request-property-type-changed",
        E,
        "POST /categories",
    );
}

#[test]
fn deep_change_in_recursive_schema() {
    // The change sits two levels below the recursion point.
    let tree = |leaf: &str| {
        format!(
            "{{schemas: {{Category: {{type: object, properties: {{children: {{type: array, items: {{$ref: '#/components/schemas/Category'}}}}, meta: {{$ref: '#/components/schemas/Meta'}}}}}}, Meta: {{type: object, properties: {{label: {{type: string, maxLength: {leaf}}}}}}}}}}}"
        )
    };
    let changes = run(
        &doc(CATEGORY_OP, &tree("10")),
        &doc(CATEGORY_OP, &tree("5")),
    );
    let post: Vec<&Change> = changes
        .iter()
        .filter(|c| c.id == "request-property-max-length-decreased")
        .collect();
    assert_eq!(post.len(), 1, "{}", dump(&changes));
    assert_eq!(
        post.first().and_then(|c| c.base_pointer.as_deref()),
        Some("/components/schemas/Meta/properties/label")
    );
}

/// A change inside a shared component is reported at every place a client
/// reads it: per operation, media type and property path, as oasdiff counts.
#[test]
fn shared_component_reported_at_every_place_it_is_read() {
    let schemas = |max: u32| {
        format!(
            "{{schemas: {{Address: {{type: object, properties: {{zip: {{type: string, maxLength: {max}}}}}}}, Order: {{type: object, properties: {{billing: {{$ref: '#/components/schemas/Address'}}, shipping: {{$ref: '#/components/schemas/Address'}}}}}}}}}}"
        )
    };
    let op = "{requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}, application/xml: {schema: {$ref: '#/components/schemas/Order'}}}}, responses: {'200': {description: ok}}}";
    let paths = format!("{{'/orders': {{post: {op}, put: {op}}}}}");
    let changes = run(&doc(&paths, &schemas(10)), &doc(&paths, &schemas(5)));
    assert_eq!(changes.len(), 8, "{}", dump(&changes));
    for text in [
        "The maxLength of the request property `billing/zip` (`application/xml`) was decreased from 10 to 5.",
        "The maxLength of the request property `shipping/zip` (`application/json`) was decreased from 10 to 5.",
    ] {
        assert!(
            changes.iter().any(|c| c.text == text),
            "{text} in {}",
            dump(&changes)
        );
    }
    expect(
        &changes,
        "request-property-max-length-decreased",
        E,
        "POST /orders",
    );
    expect(
        &changes,
        "request-property-max-length-decreased",
        E,
        "PUT /orders",
    );
}

#[test]
fn integer_to_number_depends_on_direction() {
    let schema = |t: &str| format!("{{type: object, properties: {{amount: {{type: {t}}}}}}}");
    let op = |t: &str| {
        let s = schema(t);
        post(&format!(
            "{{requestBody: {{content: {{application/json: {{schema: {s}}}}}}}, responses: {{'200': {{description: ok, content: {{application/json: {{schema: {s}}}}}}}}}}}"
        ))
    };
    let changes = run(&op("integer"), &op("number"));
    expect(
        &changes,
        "request-property-type-generalized",
        I,
        "POST /things",
    );
    expect(
        &changes,
        "response-property-type-changed",
        E,
        "POST /things",
    );
}

#[test]
fn unresolvable_references_are_skipped() {
    let op = |r: &str| {
        post(&format!(
            "{{requestBody: {{content: {{application/json: {{schema: {{$ref: '{r}'}}}}}}}}, responses: {{'200': {{description: ok}}}}}}"
        ))
    };
    assert!(run(&op("other.yaml#/A"), &op("other.yaml#/B")).is_empty());
    assert!(
        run(
            &op("#/components/schemas/Missing"),
            &op("#/components/schemas/Missing")
        )
        .is_empty()
    );
}

#[test]
fn output_is_sorted() {
    let base = paths(&[("/b", "get", OK), ("/a", "get", OK), ("/a", "post", OK)]);
    let rev = paths(&[("/c", "get", OK)]);
    let changes = run(&base, &rev);
    let ops: Vec<&str> = changes
        .iter()
        .filter_map(|c| c.operation.as_deref())
        .collect();
    assert_eq!(ops, vec!["GET /a", "GET /b", "GET /c", "POST /a"]);
}

// ---------------------------------------------------------------------------
// Rendering.

fn sample() -> Vec<Change> {
    let base = paths(&[
        (
            "/orders/{id}",
            "get",
            "{parameters: [{name: q, in: query, schema: {type: string}}], responses: {'200': {description: ok}}}",
        ),
        ("/old", "get", OK),
    ]);
    let rev = paths(&[
        (
            "/orders/{id}",
            "get",
            "{responses: {'200': {description: ok}}}",
        ),
        ("/new", "get", OK),
    ]);
    run(&base, &rev)
}

#[test]
fn summary_and_worst() {
    let changes = sample();
    let s = summary(&changes);
    assert_eq!((s.error, s.warning, s.info), (1, 1, 1));
    assert_eq!(worst(&changes), Some(Level::Error));
    assert_eq!(worst(&[]), None);
    assert_eq!(summary(&[]), super::Summary::default());
}

#[test]
fn text_has_one_line_per_change() {
    let changes = sample();
    let text = to_text(&changes);
    assert_eq!(text.lines().count(), changes.len());
    assert!(
        text.lines()
            .any(|l| l.starts_with("warning GET /orders/{id} request-parameter-removed: ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("error   GET /old api-path-removed-without-deprecation: ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("info    GET /new endpoint-added: ")),
        "{text}"
    );

    // Line breaks smuggled in through the document cannot add lines.
    let mut odd = changes.clone();
    if let Some(c) = odd.first_mut() {
        c.text = "two\nlines".to_string();
    }
    assert_eq!(to_text(&odd).lines().count(), odd.len());
    assert_eq!(to_text(&[]), "");
}

#[test]
fn markdown_has_counts_and_groups() {
    let changes = sample();
    let md = to_markdown(&changes);
    assert!(
        md.starts_with("## API changes: 1 error, 1 warning, 1 info\n"),
        "{md}"
    );
    assert!(md.contains("### `GET /orders/{id}`"), "{md}");
    assert!(md.contains("### `GET /old`"), "{md}");
    assert!(md.contains("### `GET /new`"), "{md}");
    assert!(
        md.contains("| warning | `request-parameter-removed` | "),
        "{md}"
    );
    assert_eq!(md.matches("| Level | Check | Change |").count(), 3, "{md}");

    let mut odd = changes.clone();
    if let Some(c) = odd.first_mut() {
        c.text = "a | b".to_string();
    }
    assert!(to_markdown(&odd).contains("a \\| b"));
    assert!(to_markdown(&[]).contains("No changes."));

    let doc_level = run(
        &doc("{}", "{schemas: {Old: {type: string}}}"),
        &doc("{}", "{}"),
    );
    assert!(to_markdown(&doc_level).contains("### Document"));
}

/// A densely connected component graph shared by many operations: a change in
/// one component is reported once on every operation that reaches it, and
/// nothing on the others. This also exercises the cross-operation memo.
#[test]
fn shared_graph_change_reported_on_every_operation() {
    const SCHEMAS: usize = 40;
    let comps = |changed: Option<usize>| {
        let mut schemas = Vec::new();
        for i in 0..SCHEMAS {
            let mut props = Vec::new();
            for j in 0..6 {
                let next = (i + j + 1) % SCHEMAS;
                if j % 3 == 0 {
                    props.push(format!("p{j}: {{$ref: '#/components/schemas/S{next}'}}"));
                } else {
                    let bump = usize::from(changed == Some(i) && j == 1);
                    props.push(format!(
                        "p{j}: {{type: string, maxLength: {}}}",
                        10 + j + bump
                    ));
                }
            }
            schemas.push(format!(
                "S{i}: {{type: object, properties: {{{}}}}}",
                props.join(", ")
            ));
        }
        // An island nothing else reaches.
        schemas.push("Island: {type: object, properties: {x: {type: string}}}".to_string());
        format!("{{schemas: {{{}}}}}", schemas.join(", "))
    };
    let mut paths = Vec::new();
    for k in 0..30 {
        let target = if k == 0 {
            "Island".to_string()
        } else {
            format!("S{}", k % SCHEMAS)
        };
        paths.push(format!(
            "'/r{k}': {{get: {{responses: {{'200': {{description: ok, content: {{application/json: {{schema: {{$ref: '#/components/schemas/{target}'}}}}}}}}}}}}}}"
        ));
    }
    let paths = format!("{{{}}}", paths.join(", "));
    let base = doc(&paths, &comps(None));
    assert!(run(&base, &base).is_empty());
    let changes = run(&base, &doc(&paths, &comps(Some(5))));
    assert!(
        changes
            .iter()
            .all(|c| c.id == "response-property-max-length-increased"
                && c.base_pointer.as_deref() == Some("/components/schemas/S5/properties/p1"))
    );
    let mut per_operation: HashMap<&str, usize> = HashMap::new();
    for c in &changes {
        *per_operation
            .entry(c.operation.as_deref().unwrap_or(""))
            .or_default() += 1;
    }
    // Every operation that reaches S5 reports it, the island's does not, and the
    // paths through the dense graph are cut off at the bound per schema pair.
    assert_eq!(per_operation.len(), 29, "{per_operation:?}");
    assert!(!per_operation.contains_key("GET /r0"));
    assert!(
        per_operation.values().all(|n| (1..=64).contains(n)),
        "{per_operation:?}"
    );
}

#[test]
fn a_change_behind_a_percent_encoded_reference_is_found() {
    let spec = |ty: &str| {
        doc(
            "{'/lines': {get: {responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Order%20Line'}}}}}}}}",
            &format!(
                "{{schemas: {{'Order Line': {{type: object, properties: {{qty: {{type: {ty}}}}}}}}}}}"
            ),
        )
    };
    let changes = run(&spec("integer"), &spec("string"));
    let c = expect(&changes, "response-property-type-changed", E, "GET /lines");
    assert_eq!(
        c.base_pointer.as_deref(),
        Some("/components/schemas/Order Line/properties/qty")
    );
}

/// OpenAPI 3.1's JSON Schema 2020-12 keywords are compared with oasdiff's ids,
/// in the direction that makes them breaking.
#[test]
fn openapi_31_keywords_are_compared() {
    let doc31 = |schema: &str| {
        let text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    post:\n      requestBody: {content: {application/json: {schema: {type: object, properties: {p: SCHEMA}}}}}\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {p: SCHEMA}}}}}}\n".replace("SCHEMA", schema);
        crate::loader::load_model(text).expect("loads").doc
    };
    let cases: &[(&str, &str, &str, Level, Level)] = &[
        (
            "{type: string}",
            "{type: string, const: a}",
            "const-added",
            E,
            I,
        ),
        (
            "{type: string, const: a}",
            "{type: string, const: b}",
            "const-changed",
            E,
            E,
        ),
        (
            "{type: string, const: a}",
            "{type: string}",
            "const-removed",
            I,
            E,
        ),
        (
            "{type: array}",
            "{type: array, contains: {type: string}}",
            "contains-added",
            E,
            I,
        ),
        (
            "{type: array, contains: {type: string}}",
            "{type: array, contains: {type: string}, minContains: 2}",
            "min-contains-increased",
            E,
            I,
        ),
        (
            "{type: array, contains: {type: string}, maxContains: 3}",
            "{type: array, contains: {type: string}}",
            "max-contains-increased",
            I,
            E,
        ),
        (
            "{type: object}",
            "{type: object, if: {required: [a]}}",
            "if-added",
            E,
            I,
        ),
        (
            "{type: object}",
            "{type: object, dependentRequired: {a: [b]}}",
            "dependent-required-added",
            E,
            I,
        ),
        (
            "{type: object, dependentRequired: {a: [b]}}",
            "{type: object, dependentRequired: {a: [c]}}",
            "dependent-required-changed",
            E,
            E,
        ),
        (
            "{type: object, patternProperties: {'^x-': {type: string}}}",
            "{type: object}",
            "pattern-property-removed",
            I,
            E,
        ),
        (
            "{type: object}",
            "{type: object, propertyNames: {maxLength: 8}}",
            "property-names-added",
            E,
            I,
        ),
        (
            "{type: object}",
            "{type: object, unevaluatedProperties: false}",
            "unevaluated-properties-added",
            E,
            I,
        ),
        (
            "{type: array}",
            "{type: array, prefixItems: [{type: string}]}",
            "prefix-items-added",
            E,
            I,
        ),
        (
            "{type: string, contentMediaType: text/csv}",
            "{type: string, contentMediaType: text/plain}",
            "content-media-type-changed",
            E,
            E,
        ),
        (
            "{type: string, contentEncoding: base64}",
            "{type: string}",
            "content-encoding-changed",
            E,
            E,
        ),
        (
            "{type: [string, integer]}",
            "{type: [string]}",
            "list-of-types-narrowed",
            E,
            I,
        ),
        (
            "{type: number, exclusiveMaximum: 10}",
            "{type: number, exclusiveMaximum: 5}",
            "exclusive-max-decreased",
            E,
            I,
        ),
        (
            "{type: number}",
            "{type: number, exclusiveMinimum: 1}",
            "exclusive-min-set",
            W,
            I,
        ),
        (
            "{type: string}",
            "{type: [string, integer]}",
            "list-of-types-widened",
            I,
            E,
        ),
    ];
    let mut failures = Vec::new();
    for (base, rev, suffix, request, response) in cases {
        let changes = diff(&doc31(base), &doc31(rev), &DiffOptions::default());
        let want = [
            (format!("request-property-{suffix}"), *request),
            (format!("response-property-{suffix}"), *response),
        ];
        let got: Vec<(String, Level)> = changes.iter().map(|c| (c.id.clone(), c.level)).collect();
        if got != want {
            failures.push(format!(
                "{base} -> {rev}: want {want:?}\n{}",
                dump(&changes)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Migrating from 3.0 to 3.1 is not a change.
    let v30 = parse(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: string, nullable: true}, q: {type: integer, minimum: 0, exclusiveMinimum: true}, r: {allOf: [{$ref: '#/components/schemas/R'}], nullable: true}}}}}}}\ncomponents: {schemas: {R: {type: object}}}\n",
    );
    let v31 = crate::loader::load_model("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: [string, 'null']}, q: {type: integer, exclusiveMinimum: 0}, r: {anyOf: [{$ref: '#/components/schemas/R'}, {type: 'null'}]}}}}}}}\ncomponents: {schemas: {R: {type: object}}}\n".to_string()).expect("loads").doc;
    let changes = diff(&v30, &v31, &DiffOptions::default());
    assert!(changes.is_empty(), "{}", dump(&changes));
}

#[test]
fn defaults_extensible_enums_webhooks_and_security_schemes() {
    let param = |schema: &str| {
        post(&format!(
            "{{parameters: [{{name: q, in: query, schema: {schema}}}], responses: {{'200': {{description: ok}}}}}}"
        ))
    };
    let changes = run(
        &param("{type: integer, default: 30}"),
        &param("{type: integer, default: 15}"),
    );
    expect(
        &changes,
        "request-parameter-default-value-changed",
        E,
        "POST /things",
    );
    let changes = run(
        &param("{type: string, x-extensible-enum: [a, b]}"),
        &param("{type: string, x-extensible-enum: [a, c]}"),
    );
    expect(
        &changes,
        "request-parameter-x-extensible-enum-value-removed",
        E,
        "POST /things",
    );
    assert_eq!(
        changes.len(),
        1,
        "adding `c` is expected: {}",
        dump(&changes)
    );

    let v31 = |webhooks: &str, schemes: &str| {
        crate::loader::load_model(format!(
            "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\nwebhooks: {webhooks}\ncomponents: {{securitySchemes: {schemes}}}\n"
        ))
        .expect("loads")
        .doc
    };
    let hook = "{post: {requestBody: {content: {application/json: {schema: {type: object}}}}}}";
    let changes = diff(
        &v31(
            &format!("{{orderPlaced: {hook}}}"),
            "{k: {type: apiKey, in: header, name: X-Key}, o: {type: http, scheme: bearer}}",
        ),
        &v31(
            &format!("{{orderShipped: {hook}}}"),
            "{k: {type: http, scheme: bearer}, n: {type: http, scheme: basic}}",
        ),
        &DiffOptions::default(),
    );
    let got: Vec<(&str, Level)> = changes.iter().map(|c| (c.id.as_str(), c.level)).collect();
    for want in [
        ("webhook-removed", E),
        ("webhook-added", I),
        ("api-security-component-type-changed", I),
        ("api-security-component-removed", I),
        ("api-security-component-added", I),
    ] {
        assert!(got.contains(&want), "{want:?} in {}", dump(&changes));
    }
}

#[test]
fn sunset_dates_and_stability_levels_only_move_forward() {
    let op = |ext: &str| {
        post(&format!(
            "{{deprecated: true, {ext} responses: {{'200': {{description: ok}}}}}}"
        ))
    };
    let changes = run(&op("x-sunset: '2027-06-30',"), &op(""));
    expect(&changes, "sunset-deleted", E, "POST /things");
    let changes = run(
        &op("x-sunset: '2027-06-30',"),
        &op("x-sunset: '2027-03-31',"),
    );
    expect(
        &changes,
        "api-sunset-date-changed-too-small",
        E,
        "POST /things",
    );
    assert!(
        run(
            &op("x-sunset: '2027-03-31',"),
            &op("x-sunset: '2027-06-30',")
        )
        .is_empty()
    );
    let fresh = post("{responses: {'200': {description: ok}}}");
    expect(
        &run(&fresh, &op("x-sunset: '2027-06-30',")),
        "endpoint-deprecated-with-sunset",
        I,
        "POST /things",
    );

    let level = |l: &str| {
        post(&format!(
            "{{x-stability-level: {l}, responses: {{'200': {{description: ok}}}}}}"
        ))
    };
    expect(
        &run(&level("stable"), &level("beta")),
        "api-stability-decreased",
        E,
        "POST /things",
    );
    assert!(run(&level("beta"), &level("stable")).is_empty());
    expect(
        &run(&level("beta"), &level("gamma")),
        "api-invalid-stability-level",
        E,
        "POST /things",
    );
}

/// The flag that does not hide a property in its direction is reported as a
/// note: writeOnly in a request, readOnly in a response.
#[test]
fn flags_that_do_not_hide_a_property_are_notes() {
    let op = |flags: &str| {
        let schema = format!("{{type: object, properties: {{a: {{type: string{flags}}}}}}}");
        post(
            &"{requestBody: {content: {application/json: {schema: S}}}, responses: {'200': {description: ok, content: {application/json: {schema: S}}}}}"
                .replace('S', &schema),
        )
    };
    let changes = run(&op(""), &op(", writeOnly: true"));
    expect(
        &changes,
        "request-optional-property-became-write-only",
        I,
        "POST /things",
    );
    let changes = run(&op(""), &op(", readOnly: true"));
    expect(
        &changes,
        "response-optional-property-became-read-only",
        I,
        "POST /things",
    );
    let changes = run(&op(", readOnly: true"), &op(""));
    expect(
        &changes,
        "response-optional-property-became-not-read-only",
        I,
        "POST /things",
    );
}

#[test]
fn discriminator_changes_are_info_in_bodies_and_absent_from_parameters() {
    let variants = "oneOf: [{type: object, properties: {kind: {type: string, enum: [a]}}}, {type: object, properties: {kind: {type: string, enum: [b]}}}]";
    let poly = |discriminator: &str| {
        post(&format!(
            "{{parameters: [{{name: q, in: query, schema: {{{variants}{discriminator}}}}}], responses: {{'200': {{description: ok, content: {{application/json: {{schema: {{{variants}{discriminator}}}}}}}}}}}}}"
        ))
    };
    let none = poly("");
    let kind = poly(", discriminator: {propertyName: kind}");
    let mapped =
        poly(", discriminator: {propertyName: kind, mapping: {a: '#/components/schemas/A'}}");
    let remapped =
        poly(", discriminator: {propertyName: kind, mapping: {a: '#/components/schemas/B'}}");
    let renamed = poly(", discriminator: {propertyName: type}");
    let cases = [
        (&none, &kind, "response-body-discriminator-added"),
        (&kind, &none, "response-body-discriminator-removed"),
        (
            &kind,
            &renamed,
            "response-body-discriminator-property-name-changed",
        ),
        (&kind, &mapped, "response-body-discriminator-mapping-added"),
        (
            &mapped,
            &kind,
            "response-body-discriminator-mapping-deleted",
        ),
        (
            &mapped,
            &remapped,
            "response-body-discriminator-mapping-changed",
        ),
    ];
    for (base, rev, id) in cases {
        let changes = run(base, rev);
        // The parameter's copy of the change has no id: parameters are not polymorphic.
        assert_eq!(ids(&changes), [id], "{}", dump(&changes));
        expect(&changes, id, I, "POST /things");
    }
}

#[test]
fn a_response_media_type_renamed_to_a_related_one_is_one_change() {
    let with = |media: &str, max: u32| {
        post(&format!(
            "{{responses: {{'200': {{description: ok, content: {{'{media}': {{schema: {{type: string, maxLength: {max}}}}}}}}}}}}}"
        ))
    };
    let json = with("application/json", 5);
    let cases = [
        (
            "application/problem+json",
            "response-media-type-name-specialized",
            I,
        ),
        (
            "application/json; charset=utf-8",
            "response-media-type-name-changed",
            I,
        ),
        ("text/plain", "response-media-type-removed", E),
    ];
    for (media, id, level) in cases {
        let changes = run(&json, &with(media, 5));
        expect(&changes, id, level, "POST /things");
    }
    expect(
        &run(&with("application/problem+json", 5), &json),
        "response-media-type-name-generalized",
        E,
        "POST /things",
    );
    expect(
        &run(&with("application/*", 5), &json),
        "response-media-type-name-specialized",
        I,
        "POST /things",
    );
    // The body under its new name is still compared with the old one.
    let changes = run(&json, &with("application/problem+json", 9));
    expect(
        &changes,
        "response-body-max-length-increased",
        W,
        "POST /things",
    );
    assert!(!ids(&changes).contains(&"response-media-type-removed"));
}

#[test]
fn oauth_flows_are_compared_flow_by_flow() {
    let scheme = |flow: &str| {
        doc(
            "{}",
            &format!("{{securitySchemes: {{partner: {{type: oauth2, flows: {{{flow}}}}}}}}}"),
        )
    };
    let cc = |url: &str, scopes: &str| {
        scheme(&format!(
            "clientCredentials: {{tokenUrl: '{url}', scopes: {{{scopes}}}}}"
        ))
    };
    let base = cc("https://a.example/token", "'stock:read': Read stock.");
    let cases = [
        (
            cc("https://b.example/token", "'stock:read': Read stock."),
            "api-security-component-oauth-token-url-changed",
        ),
        (
            cc(
                "https://a.example/token",
                "'stock:read': Read stock., 'stock:write': Write.",
            ),
            "api-security-component-oauth-scope-added",
        ),
        (
            cc("https://a.example/token", "'stock:read': Read all stock."),
            "api-security-component-oauth-scope-changed",
        ),
        (
            cc("https://a.example/token", ""),
            "api-security-component-oauth-scope-removed",
        ),
    ];
    for (rev, id) in cases {
        let changes = run(&base, &rev);
        assert_eq!(ids(&changes), [id], "{}", dump(&changes));
        let change = &changes[0];
        assert_eq!(change.level, I);
        assert!(
            change
                .base_pointer
                .as_deref()
                .is_some_and(|p| p
                    .starts_with("/components/securitySchemes/partner/flows/clientCredentials/")),
            "{change:?}"
        );
    }
    let implicit = |url: &str| {
        scheme(&format!(
            "implicit: {{authorizationUrl: '{url}', scopes: {{}}}}"
        ))
    };
    let changes = run(
        &implicit("https://a.example/auth"),
        &implicit("https://b.example/auth"),
    );
    assert_eq!(ids(&changes), ["api-security-component-oauth-url-changed"]);
}

#[test]
fn parameters_and_properties_keep_their_sunset_promises() {
    let param = |extra: &str| {
        post(&format!(
            "{{parameters: [{{name: q, in: query, schema: {{type: string}}{extra}}}], responses: {{'200': {{description: ok}}}}}}"
        ))
    };
    let plain = param("");
    let later = param(", deprecated: true, x-sunset: '2099-01-01'");
    let sooner = param(", deprecated: true, x-sunset: '2098-01-01'");
    let passed = param(", deprecated: true, x-sunset: '2001-01-01'");
    let undated = param(", deprecated: true");
    let unreadable = param(", deprecated: true, x-sunset: soon");
    let gone = post(OK);
    let op = "POST /things";
    expect(&run(&plain, &later), "request-parameter-deprecated", I, op);
    expect(
        &run(&plain, &passed),
        "request-parameter-sunset-date-too-small",
        E,
        op,
    );
    expect(
        &run(&plain, &unreadable),
        "request-parameter-sunset-parse",
        E,
        op,
    );
    expect(
        &run(&later, &unreadable),
        "request-parameter-sunset-parse",
        E,
        op,
    );
    expect(
        &run(&later, &undated),
        "request-parameter-sunset-deleted",
        E,
        op,
    );
    expect(
        &run(&later, &sooner),
        "request-parameter-sunset-date-changed-too-small",
        E,
        op,
    );
    assert!(run(&sooner, &later).is_empty());
    expect(&run(&later, &plain), "request-parameter-reactivated", I, op);
    expect(
        &run(&later, &gone),
        "request-parameter-removed-before-sunset",
        E,
        op,
    );
    expect(
        &run(&passed, &gone),
        "request-parameter-removed-with-deprecation",
        I,
        op,
    );
    expect(
        &run(&undated, &gone),
        "request-parameter-removed-with-deprecation",
        I,
        op,
    );
    expect(&run(&plain, &gone), "request-parameter-removed", W, op);

    let prop = |extra: &str| resp_obj(&format!("a: {{type: string{extra}}}"), "");
    let plain = prop("");
    expect(
        &run(&plain, &prop(", deprecated: true, x-sunset: '2099-01-01'")),
        "response-property-deprecated-with-sunset",
        I,
        op,
    );
    expect(
        &run(&plain, &prop(", deprecated: true, x-sunset: '2001-01-01'")),
        "response-property-sunset-date-too-small",
        E,
        op,
    );
    expect(
        &run(&plain, &prop(", deprecated: true, x-sunset: soon")),
        "response-property-deprecated-sunset-invalid",
        E,
        op,
    );
    expect(
        &run(&plain, &prop(", deprecated: true")),
        "response-property-deprecated",
        I,
        op,
    );
}

#[test]
fn defaults_and_catch_all_patterns_soften_request_changes() {
    let op = "POST /things";
    let none = req_obj("a: {type: string}", "");
    let with_default = "a: {type: string}, b: {type: string, default: x}";
    expect(
        &run(&none, &req_obj(with_default, "b")),
        "new-required-request-property-with-default",
        I,
        op,
    );
    expect(
        &run(&req_obj(with_default, ""), &req_obj(with_default, "b")),
        "request-property-became-required-with-default",
        I,
        op,
    );
    expect(
        &run(&none, &req_obj("a: {type: string}, b: {type: string}", "b")),
        "new-required-request-property",
        E,
        op,
    );
    let pattern = |p: &str| req_obj(&format!("a: {{type: string, pattern: '{p}'}}"), "");
    expect(
        &run(&pattern("^[a-z]+$"), &pattern(".*")),
        "request-property-pattern-generalized",
        I,
        op,
    );
    expect(
        &run(&pattern(".*"), &pattern("^[a-z]+$")),
        "request-property-pattern-changed",
        W,
        op,
    );
}

#[test]
fn path_variables_shared_parameters_and_header_properties_take_oasdiffs_ids() {
    let op = "GET /things/{id}";
    let item = |params: &str, op_params: &str| {
        doc(
            &format!(
                "{{'/things/{{id}}': {{parameters: [{params}], get: {{parameters: [{op_params}], responses: {{'200': {{description: ok}}}}}}}}}}"
            ),
            "{}",
        )
    };
    let id = "{name: id, in: path, required: true, schema: {type: string}}";
    let bare = item("", "");
    expect(
        &run(&bare, &item("", id)),
        "new-request-path-parameter",
        E,
        op,
    );
    let shared = |required: bool| {
        item(
            &format!(
                "{id}, {{name: q, in: query, required: {required}, schema: {{type: string}}}}"
            ),
            "",
        )
    };
    expect(
        &run(&item(id, ""), &shared(true)),
        "new-required-request-default-parameter-to-existing-path",
        E,
        op,
    );
    expect(
        &run(&item(id, ""), &shared(false)),
        "new-optional-request-default-parameter-to-existing-path",
        I,
        op,
    );
    expect(
        &run(
            &item(id, ""),
            &item(
                id,
                "{name: q, in: query, required: true, schema: {type: string}}",
            ),
        ),
        "new-required-request-parameter",
        E,
        op,
    );

    let header = |schema: &str| {
        item(
            id,
            &format!("{{name: X-Filter, in: header, schema: {{type: object, {schema}}}}}"),
        )
    };
    let plain = header("properties: {a: {type: string}}");
    expect(
        &run(
            &plain,
            &header("required: [a], properties: {a: {type: string}}"),
        ),
        "request-header-property-became-required",
        E,
        op,
    );
    expect(
        &run(
            &plain,
            &header("required: [b], properties: {a: {type: string}, b: {type: string}}"),
        ),
        "new-required-request-header-property",
        E,
        op,
    );
    expect(
        &run(
            &plain,
            &header("properties: {a: {type: string, enum: [x]}}"),
        ),
        "request-header-property-became-enum",
        E,
        op,
    );
}

/// The diff loader stores repeated inline schemas once (`loader::shared`); the
/// findings must be those of the model as written, pointers and texts included,
/// on every pair of the retail contracts and of the admin API in both directions.
#[test]
fn shared_schemas_change_nothing_in_the_findings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let mut texts: Vec<String> = std::fs::read_dir(dir.join("retail"))
        .expect("specs/retail")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    texts.push(std::fs::read_to_string(dir.join("steward-admin.yaml")).expect("admin spec"));
    // As JSON too: JSON is shared while it is parsed, YAML after.
    let as_json: Vec<String> = texts
        .iter()
        .map(|t| {
            let v: serde_json::Value = serde_yaml::from_str(t).expect("yaml");
            serde_json::to_string(&v).expect("json")
        })
        .collect();
    texts.extend(as_json);
    let plain: Vec<OpenAPI> = texts
        .iter()
        .map(|t| crate::loader::load_model(t.clone()).expect("loads").doc)
        .collect();
    let shared: Vec<OpenAPI> = texts
        .iter()
        .map(|t| crate::loader::load_for_diff(t.clone()).expect("loads").doc)
        .collect();
    // Sharing did happen: most inline schemas became references.
    let stored: usize = shared
        .iter()
        .filter_map(|d| d.components.as_ref())
        .map(|c| {
            c.schemas
                .keys()
                .filter(|k| k.starts_with(crate::loader::shared::PREFIX))
                .count()
        })
        .sum();
    assert!(stored > 100, "{stored} shared schemas");
    let mut compared = 0;
    for i in 0..texts.len() {
        for j in 0..texts.len() {
            assert_eq!(
                run(&plain[i], &plain[j]),
                run(&shared[i], &shared[j]),
                "pair {i} -> {j}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 400);
}
