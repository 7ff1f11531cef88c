//! Property tests over generated documents: identical inputs never differ, and
//! no pair of documents makes the diff panic or produce malformed output.
//!
//! Documents are generated as JSON values from a small vocabulary (a few
//! paths, parameter names, statuses and component names) so that independently
//! generated documents overlap a lot and the comparison code is exercised, not
//! just the "everything was added/removed" branches. Component schemas may refer
//! to each other and to themselves, so recursion is covered too.

use openapiv3::OpenAPI;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{DiffOptions, diff, summary, to_markdown, to_text};

fn pick<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = T> + Clone {
    proptest::sample::select(items)
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_string(), value);
    }
}

fn flags() -> impl Strategy<Value = Map<String, Value>> {
    (any::<u8>()).prop_map(|bits| {
        let mut map = Map::new();
        for (bit, key) in [
            (1u8, "nullable"),
            (2, "readOnly"),
            (4, "writeOnly"),
            (8, "deprecated"),
        ] {
            // Flags are rare, so most schemas stay plain.
            if bits & bit != 0 && bits & 0x30 == 0x30 {
                map.insert(key.to_string(), Value::Bool(true));
            }
        }
        map
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    let string = (
        option::of(0..5u32),
        option::of(5..20u32),
        option::of(pick(&["^a", "^b", "[0-9]+"])),
        option::of(vec(pick(&["a", "b", "c"]), 1..3)),
        option::of(pick(&["date", "date-time", "uuid"])),
        flags(),
    )
        .prop_map(|(min, max, pattern, en, format, mut map)| {
            map.insert("type".into(), json!("string"));
            insert_opt(&mut map, "minLength", min.map(Value::from));
            insert_opt(&mut map, "maxLength", max.map(Value::from));
            insert_opt(&mut map, "pattern", pattern.map(Value::from));
            insert_opt(&mut map, "enum", en.map(Value::from));
            insert_opt(&mut map, "format", format.map(Value::from));
            Value::Object(map)
        });
    let integer = (
        option::of(-5..5i64),
        option::of(5..50i64),
        any::<bool>(),
        option::of(pick(&["int32", "int64"])),
        option::of(vec(0..4i64, 1..3)),
        flags(),
    )
        .prop_map(|(min, max, exclusive, format, en, mut map)| {
            map.insert("type".into(), json!("integer"));
            insert_opt(&mut map, "minimum", min.map(Value::from));
            insert_opt(&mut map, "maximum", max.map(Value::from));
            if exclusive {
                map.insert("exclusiveMaximum".into(), json!(true));
            }
            insert_opt(&mut map, "format", format.map(Value::from));
            insert_opt(&mut map, "enum", en.map(Value::from));
            Value::Object(map)
        });
    let number = (option::of(0.5..9.5f64), flags()).prop_map(|(max, mut map)| {
        map.insert("type".into(), json!("number"));
        insert_opt(&mut map, "maximum", max.map(Value::from));
        Value::Object(map)
    });
    prop_oneof![
        3 => string,
        2 => integer,
        1 => number,
        1 => Just(json!({"type": "boolean"})),
        1 => Just(json!({})),
        2 => pick(&["S0", "S1", "S2", "Missing"]).prop_map(|n| json!({"$ref": format!("#/components/schemas/{n}")})),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            3 => (
                btree_map(pick(&["a", "b", "c", "d"]), inner.clone(), 0..4),
                vec(pick(&["a", "b", "c", "d"]), 0..3),
                option::of(any::<bool>()),
                flags(),
            )
                .prop_map(|(props, required, additional, mut map)| {
                    map.insert("type".into(), json!("object"));
                    map.insert("properties".into(), json!(props));
                    if !required.is_empty() {
                        let mut required = required;
                        required.sort_unstable();
                        required.dedup();
                        map.insert("required".into(), json!(required));
                    }
                    insert_opt(&mut map, "additionalProperties", additional.map(Value::from));
                    Value::Object(map)
                }),
            2 => (inner.clone(), option::of(0..3u32), option::of(3..9u32)).prop_map(|(items, min, max)| {
                let mut map = Map::new();
                map.insert("type".into(), json!("array"));
                map.insert("items".into(), items);
                insert_opt(&mut map, "minItems", min.map(Value::from));
                insert_opt(&mut map, "maxItems", max.map(Value::from));
                Value::Object(map)
            }),
            1 => vec(inner.clone(), 1..3).prop_map(|parts| json!({"allOf": parts})),
            1 => vec(inner.clone(), 1..3).prop_map(|parts| json!({"oneOf": parts})),
            1 => vec(inner, 1..3).prop_map(|parts| json!({"anyOf": parts})),
        ]
    })
}

fn parameter() -> impl Strategy<Value = Value> {
    (
        pick(&["q", "limit", "X-Trace", "x-trace", "session"]),
        pick(&["query", "header", "cookie"]),
        any::<bool>(),
        any::<bool>(),
        schema(),
    )
        .prop_map(|(name, location, required, deprecated, schema)| {
            json!({"name": name, "in": location, "required": required, "deprecated": deprecated, "schema": schema})
        })
}

fn content() -> impl Strategy<Value = Value> {
    btree_map(
        pick(&["application/json", "application/xml", "text/plain"]),
        schema(),
        0..3,
    )
    .prop_map(|map| {
        let content: Map<String, Value> = map
            .into_iter()
            .map(|(k, s)| (k.to_string(), json!({"schema": s})))
            .collect();
        Value::Object(content)
    })
}

fn response() -> impl Strategy<Value = Value> {
    (
        content(),
        btree_map(
            pick(&["X-Rate", "x-rate", "ETag"]),
            (any::<bool>(), schema()),
            0..2,
        ),
    )
        .prop_map(|(content, headers)| {
            let headers: Map<String, Value> = headers
                .into_iter()
                .map(|(name, (required, schema))| {
                    (
                        name.to_string(),
                        json!({"required": required, "schema": schema}),
                    )
                })
                .collect();
            json!({"description": "r", "content": content, "headers": headers})
        })
}

fn security() -> impl Strategy<Value = Value> {
    vec(
        btree_map(
            pick(&["key", "oauth", "basic"]),
            vec(pick(&["read", "write"]), 0..3),
            0..3,
        ),
        0..3,
    )
    .prop_map(|alts| json!(alts))
}

fn operation(path_vars: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        vec(parameter(), 0..3),
        option::of((any::<bool>(), content())),
        btree_map(
            pick(&["200", "201", "2XX", "404", "default"]),
            response(),
            1..3,
        ),
        option::of(security()),
        any::<bool>(),
        option::of(pick(&["2000-01-01", "2999-01-01", "not a date"])),
        option::of(pick(&["opA", "opB"])),
        vec(pick(&["t1", "t2"]), 0..2),
        vec(schema(), path_vars.len()),
    )
        .prop_map(
            move |(
                params,
                body,
                responses,
                security,
                deprecated,
                sunset,
                op_id,
                tags,
                path_schemas,
            )| {
                let mut params = params;
                for (name, schema) in path_vars.iter().zip(path_schemas) {
                    params.push(
                        json!({"name": name, "in": "path", "required": true, "schema": schema}),
                    );
                }
                let mut op = Map::new();
                op.insert("parameters".into(), json!(params));
                if let Some((required, content)) = body {
                    op.insert(
                        "requestBody".into(),
                        json!({"required": required, "content": content}),
                    );
                }
                op.insert("responses".into(), json!(responses));
                insert_opt(&mut op, "security", security);
                op.insert("deprecated".into(), json!(deprecated));
                insert_opt(&mut op, "x-sunset", sunset.map(Value::from));
                insert_opt(&mut op, "operationId", op_id.map(Value::from));
                op.insert("tags".into(), json!(tags));
                Value::Object(op)
            },
        )
}

const PATHS: &[(&str, &[&str])] = &[
    ("/orders", &[]),
    ("/orders/{id}", &["id"]),
    ("/orders/{orderId}", &["orderId"]),
    ("/a/{x}/b/{y}", &["x", "y"]),
];

fn path_item(vars: &'static [&'static str]) -> impl Strategy<Value = Value> {
    btree_map(
        pick(&["get", "post", "delete"]),
        operation(vars.to_vec()),
        1..3,
    )
    .prop_map(|ops| json!(ops))
}

fn document() -> impl Strategy<Value = Value> {
    let paths = vec((0..PATHS.len(), any::<bool>()), 0..3).prop_flat_map(|picks| {
        let items: Vec<_> = picks
            .into_iter()
            .filter_map(|(i, _)| PATHS.get(i).copied())
            .map(|(path, vars)| (Just(path), path_item(vars)))
            .collect();
        items
    });
    (
        paths,
        btree_map(pick(&["S0", "S1", "S2"]), schema(), 0..4),
        option::of(security()),
    )
        .prop_map(|(paths, schemas, security)| {
            let paths: Map<String, Value> = paths
                .into_iter()
                .map(|(p, item)| (p.to_string(), item))
                .collect();
            let mut doc = Map::new();
            doc.insert("openapi".into(), json!("3.0.3"));
            doc.insert("info".into(), json!({"title": "t", "version": "1"}));
            doc.insert("paths".into(), Value::Object(paths));
            doc.insert("components".into(), json!({"schemas": schemas}));
            insert_opt(&mut doc, "security", security);
            Value::Object(doc)
        })
}

fn parse(value: Value) -> Option<OpenAPI> {
    serde_json::from_value(value).ok()
}

fn check_well_formed(changes: &[super::Change]) {
    let mut sorted = changes.to_vec();
    sorted.sort_by(|a, b| {
        (&a.operation, &a.id, &a.base_pointer, &a.revision_pointer).cmp(&(
            &b.operation,
            &b.id,
            &b.base_pointer,
            &b.revision_pointer,
        ))
    });
    let keys = |cs: &[super::Change]| {
        cs.iter()
            .map(|c| {
                (
                    c.operation.clone(),
                    c.id.clone(),
                    c.base_pointer.clone(),
                    c.revision_pointer.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(changes), keys(&sorted), "output is not sorted");
    for (i, c) in changes.iter().enumerate() {
        assert!(
            !changes.iter().skip(i + 1).any(|d| d == c),
            "duplicate change {c:?}"
        );
        assert!(!c.id.is_empty() && !c.text.is_empty());
        assert!(
            c.base_pointer.is_some() || c.revision_pointer.is_some(),
            "{c:?}"
        );
        for p in [&c.base_pointer, &c.revision_pointer].into_iter().flatten() {
            assert!(p.starts_with('/'), "pointer {p}");
        }
        if let Some(op) = &c.operation {
            // The operation names the path as the contract writes it.
            let path = c.path.as_deref().expect("an operation has a path");
            assert!(op.ends_with(&format!(" {path}")), "{op} is not on {path}");
        }
    }
    assert_eq!(to_text(changes).lines().count(), changes.len());
    let s = summary(changes);
    assert_eq!(s.error + s.warning + s.info, changes.len());
    assert!(to_markdown(changes).starts_with("## API changes"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn identical_documents_have_no_changes(value in document()) {
        let Some(doc) = parse(value) else { return Ok(()) };
        let changes = diff(&doc, &doc, &DiffOptions::default());
        prop_assert!(changes.is_empty(), "{:#?}", changes);
    }

    #[test]
    fn any_pair_diffs_without_panicking(a in document(), b in document()) {
        let (Some(a), Some(b)) = (parse(a), parse(b)) else { return Ok(()) };
        let options = DiffOptions { base_sunset: Some(time::macros::date!(2020 - 01 - 01)) };
        let changes = diff(&a, &b, &options);
        check_well_formed(&changes);
        // Deterministic.
        prop_assert_eq!(&changes, &diff(&a, &b, &options));
        check_well_formed(&diff(&b, &a, &DiffOptions::default()));
    }
}

/// The generator must mostly produce documents `openapiv3` accepts, or the
/// properties above would pass vacuously.
#[test]
fn generated_documents_mostly_parse() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = document();
    let mut parsed = 0;
    let total = 64;
    for _ in 0..total {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        if parse(tree.current()).is_some() {
            parsed += 1;
        }
    }
    assert!(
        parsed * 10 >= total * 9,
        "only {parsed} of {total} generated documents parsed"
    );
}
