//! Loader and line-index tests.

use super::*;

const YAML: &str = r#"openapi: 3.0.3
info:
  title: Orders
  version: 1.2.0
  description: |
    Multi-line text with: colons
    - and dashes that are not items
paths:
  /orders:
    get:
      # a comment
      parameters:
        - name: limit
          in: query
          schema: {type: integer}
        - in: query
          name: "cursor"
          schema:
            type: string
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Node'
  "/orders/{id}":
    parameters:
    - name: id
      in: path
      required: true
      schema: {type: string}
    get:
      responses:
        "404": {description: nope}
components:
  schemas:
    Node:
      type: object
      properties:
        children:
          type: array
          items: {$ref: '#/components/schemas/Node'}
        parent: {$ref: '#/components/schemas/Node'}
"#;

#[test]
fn loads_yaml_with_recursive_schema() {
    let c = load(YAML).unwrap();
    assert_eq!(c.doc.info.title, "Orders");
    // Source order is kept (serde_json's preserve_order).
    let keys: Vec<_> = c.doc.paths.paths.keys().collect();
    assert_eq!(keys, ["/orders", "/orders/{id}"]);
}

#[test]
fn yaml_line_index() {
    let l = LineIndex::new(YAML);
    assert_eq!(l.line_of(""), Some(1));
    assert_eq!(l.line_of("/info/version"), Some(4));
    assert_eq!(l.line_of("/info/description"), Some(5));
    assert_eq!(l.line_of("/paths"), Some(8));
    assert_eq!(l.line_of("/paths/~1orders/get"), Some(10));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/0"), Some(13));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/0/in"), Some(14));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/1"), Some(16));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/1/name"), Some(17));
    assert_eq!(
        l.line_of("/paths/~1orders/get/parameters/1/schema/type"),
        Some(19)
    );
    assert_eq!(l.line_of("/paths/~1orders/get/responses"), Some(20));
    assert_eq!(l.line_of("/paths/~1orders/get/responses/200"), Some(21));
    assert_eq!(
        l.line_of("/paths/~1orders/get/responses/200/content/application~1json/schema/$ref"),
        Some(26)
    );
    assert_eq!(l.line_of("/paths/~1orders~1{id}"), Some(27));
    assert_eq!(l.line_of("/paths/~1orders~1{id}/parameters/0"), Some(29));
    assert_eq!(
        l.line_of("/paths/~1orders~1{id}/parameters/0/required"),
        Some(31)
    );
    assert_eq!(
        l.line_of("/paths/~1orders~1{id}/get/responses/404"),
        Some(35)
    );
    assert_eq!(
        l.line_of("/components/schemas/Node/properties/parent"),
        Some(44)
    );
    // Unknown members fall back to the nearest known ancestor.
    assert_eq!(
        l.line_of("/paths/~1orders/get/responses/200/nope/x"),
        Some(21)
    );
    // The block scalar's "- and dashes" line created no items.
    assert_eq!(l.line_of("/info/description/0"), Some(5));
}

#[test]
fn yaml_line_index_odd_shapes() {
    let text = "# leading comment\n---\na:\n  - - x\n    - y\n  - k: &anchor\n      deep: 1\n    j: 2\n'q''uote': 1\nlist: [1,\n  2]\nafter: 3\n";
    let l = LineIndex::new(text);
    assert_eq!(l.line_of(""), Some(3));
    assert_eq!(l.line_of("/a/0"), Some(4));
    assert_eq!(l.line_of("/a/0/0"), Some(4));
    assert_eq!(l.line_of("/a/0/1"), Some(5));
    assert_eq!(l.line_of("/a/1/k"), Some(6));
    assert_eq!(l.line_of("/a/1/k/deep"), Some(7));
    assert_eq!(l.line_of("/a/1/j"), Some(8));
    assert_eq!(l.line_of("/q'uote"), Some(9));
    assert_eq!(l.line_of("/after"), Some(12));
}

const JSON: &str = r#"{
  "openapi": "3.0.3",
  "info": {"title": "t", "version": "1"},
  "paths": {
    "/orders": {
      "get": {
        "parameters": [
          {"name": "a\"b", "in": "query"},
          {
            "name": "c"
          }
        ],
        "responses": {
          "200": {"description": "ok"}
        }
      }
    }
  }
}"#;

#[test]
fn json_line_index() {
    let l = LineIndex::new(JSON);
    assert_eq!(l.line_of(""), Some(1));
    assert_eq!(l.line_of("/info/version"), Some(3));
    assert_eq!(l.line_of("/paths/~1orders/get"), Some(6));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/0"), Some(8));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/0/in"), Some(8));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/1"), Some(9));
    assert_eq!(l.line_of("/paths/~1orders/get/parameters/1/name"), Some(10));
    assert_eq!(l.line_of("/paths/~1orders/get/responses"), Some(13));
    assert_eq!(
        l.line_of("/paths/~1orders/get/responses/200/description"),
        Some(14)
    );
    // Parameters need a schema or content: the parameter is read past, and said so.
    let c = load(JSON).unwrap();
    let at: Vec<_> = c
        .violations
        .iter()
        .map(|v| (v.pointer.as_str(), v.line))
        .collect();
    assert_eq!(
        at,
        [
            ("/paths/~1orders/get/parameters/0", Some(8)),
            ("/paths/~1orders/get/parameters/1", Some(9)),
            // ... and the second has no `in` either, so it is left out.
            ("/paths/~1orders/get/parameters/1", Some(9)),
        ]
    );
    assert!(
        c.violations[2].message.contains("`in`"),
        "{:?}",
        c.violations
    );
}

#[test]
fn syntax_errors_have_positions() {
    match load("openapi: 3.0.0\ninfo:\n  title: [unclosed\n") {
        Err(LoadError::Syntax { line, column, .. }) => {
            assert!(line >= 3, "line {line}");
            assert!(column > 0);
        }
        other => panic!("{other:?}"),
    }
    match load("{\n  \"openapi\": \"3.0.0\",\n  \"info\": }\n") {
        Err(e @ LoadError::Syntax { line: 3, .. }) => {
            let text = e.to_string();
            assert!(text.starts_with("syntax error at line 3, column"), "{text}");
            assert_eq!(text.matches("line 3").count(), 1, "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn version_errors() {
    let c = load("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n").unwrap();
    assert_eq!(c.version, SpecVersion::V31);
    let e = load("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n").unwrap_err();
    assert!(
        matches!(&e, LoadError::UnsupportedVersion { found, .. } if found == "4.0.0"),
        "{e:?}"
    );
    assert!(e.to_string().contains("3.0.x and 3.1.x"), "{e}");
    assert!(matches!(
        load("swagger: '2.0'\ninfo: {title: t, version: '1'}\n"),
        Err(LoadError::UnsupportedVersion { found, .. }) if found == "2.0"
    ));
    assert!(matches!(
        load("info: {title: t}\n"),
        Err(LoadError::UnsupportedVersion { found, .. }) if found.is_empty()
    ));
    assert!(matches!(
        load("openapi: 3.0\ninfo: {title: t}\n"),
        Err(LoadError::Invalid { pointer, .. }) if pointer == "/openapi"
    ));
    assert!(matches!(load("- a\n- b\n"), Err(LoadError::Invalid { .. })));
    assert!(matches!(load(""), Err(LoadError::Invalid { .. })));
}

/// What the spec forbids is read past and reported where it is, the way oasdiff
/// reads such documents: the comparison still happens.
#[test]
fn spec_violations_are_read_past_and_point_at_the_node() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /orders:\n    get:\n      summary: x\n";
    let c = load(text).unwrap();
    assert_eq!(c.version, SpecVersion::V30);
    assert_eq!(c.violations.len(), 1, "{:?}", c.violations);
    let v = &c.violations[0];
    assert_eq!(v.pointer, "/paths/~1orders/get/responses");
    assert_eq!(v.line, Some(5));
    assert!(v.message.contains("responses"), "{}", v.message);
    assert!(c.doc.paths.paths.contains_key("/orders"));

    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - name: x\n          in: nowhere\n          schema: {type: string}\n      responses: {}\n";
    let c = load(text).unwrap();
    assert_eq!(c.violations[0].pointer, "/paths/~1a/get/parameters/0");
    assert_eq!(c.violations[0].line, Some(7));
    assert!(
        c.violations[0].message.ends_with("left out"),
        "{:?}",
        c.violations
    );

    let c = load("openapi: 3.0.3\ninfo: {title: t}\npaths: {}\n").unwrap();
    assert_eq!(c.violations[0].pointer, "/info/version");
    assert_eq!(c.violations[0].line, Some(2));

    // The small violations real documents carry, each reported once.
    let text = r#"openapi: 3.0.3
info: {title: t}
paths:
  /a:
    get:
      responses:
        '200': {}
components:
  securitySchemes:
    o:
      type: oauth2
      flows:
        clientCredentials: {tokenUrl: 'https://t.example/token'}
"#;
    let c = load(text).unwrap();
    let pointers: Vec<&str> = c.violations.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/info/version",
            "/paths/~1a/get/responses/200/description",
            "/components/securitySchemes/o/flows/clientCredentials/scopes",
        ]
    );
    // Not a mapping at all is still refused: there is nothing to read.
    assert!(matches!(
        load("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: 12\n"),
        Ok(c) if c.violations.len() == 1
    ));
}

/// 3.1 documents load into the same model: 2020-12 keywords with a 3.0 form take
/// it, the others are kept in `x-oas31-*` extensions.
#[test]
fn openapi_31_is_lowered_into_the_model() {
    let text = r##"openapi: 3.1.0
info: {title: t, version: '1', summary: s, license: {name: MIT, identifier: MIT}}
jsonSchemaDialect: https://json-schema.org/draft/2020-12/schema
paths:
  /orders:
    $ref: '#/components/pathItems/Orders'
webhooks:
  orderPlaced:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Order'}}}}
components:
  pathItems:
    Orders:
      get:
        responses:
          '200':
            description: ok
            content:
              application/json:
                schema:
                  type: array
                  items: {$ref: '#/components/schemas/Order'}
  schemas:
    Order:
      type: object
      properties:
        id: {type: [string, 'null']}
        qty: {type: integer, exclusiveMinimum: 0}
        kind: {const: retail}
        tags: {type: array, prefixItems: [{type: string}], examples: [[a]]}
        either: {type: [string, integer]}
        parent:
          anyOf: [{$ref: '#/components/schemas/Order'}, {type: 'null'}]
        flag: true
"##;
    let c = load(text).unwrap();
    assert_eq!(c.version, SpecVersion::V31);
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    let item = match &c.doc.paths.paths["/orders"] {
        openapiv3::ReferenceOr::Item(item) => item,
        other => panic!("path item not inlined: {other:?}"),
    };
    assert!(item.get.is_some());
    assert!(c.doc.extensions.contains_key("x-oas31-webhooks"));
    let schemas = serde_json::to_value(&c.doc.components.as_ref().unwrap().schemas).unwrap();
    let props = &schemas["Order"]["properties"];
    assert_eq!(props["id"]["type"], "string");
    assert_eq!(props["id"]["nullable"], true);
    assert_eq!(props["qty"]["minimum"], 0);
    assert_eq!(props["qty"]["exclusiveMinimum"], true);
    assert_eq!(props["kind"]["x-oas31-const"], "retail");
    assert_eq!(props["tags"]["x-oas31-prefixItems"][0]["type"], "string");
    assert_eq!(
        props["either"]["x-oas31-type"],
        serde_json::json!(["string", "integer"])
    );
    assert_eq!(props["parent"]["nullable"], true);
    assert_eq!(
        props["parent"]["allOf"][0]["$ref"],
        "#/components/schemas/Order"
    );
    // The tree as written is kept for pointers and lines.
    assert_eq!(
        c.raw["components"]["schemas"]["Order"]["properties"]["id"]["type"][1],
        "null"
    );
    // In 3.1 an operation may leave out `responses`, and `paths` itself is optional.
    let c = load("openapi: 3.1.0\ninfo: {title: t, version: '1'}\nwebhooks: {}\n").unwrap();
    assert!(c.violations.is_empty(), "{:?}", c.violations);
}

#[test]
fn reference_errors() {
    let base = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: ";
    match load(&format!("{base}'other.yaml#/R'\n")) {
        Err(e @ LoadError::RemoteRef { .. }) => {
            assert!(e.to_string().contains("bundle the document first"));
            let LoadError::RemoteRef { pointer, line, .. } = e else {
                unreachable!()
            };
            assert_eq!(pointer, "/paths/~1a/get/responses/200/$ref");
            assert_eq!(line, Some(8));
        }
        other => panic!("{other:?}"),
    }
    match load(&format!("{base}'#/components/responses/Nope'\n")) {
        Err(LoadError::UnresolvedRef {
            reference, line, ..
        }) => {
            assert_eq!(reference, "#/components/responses/Nope");
            assert_eq!(line, Some(8));
        }
        other => panic!("{other:?}"),
    }
    // Escaped and percent-encoded pointers resolve; `$ref` inside examples is payload.
    let ok = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a/b:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              example: {$ref: 'elsewhere.json'}\n  /c:\n    $ref: '#/paths/~1a~1b'\n  /d:\n    $ref: '#/paths/%7E1a%7E1b'\n";
    let c = load(ok).unwrap();
    assert!(crate::resolve::resolve_path_item(&c.doc, &c.doc.paths.paths["/d"]).is_some());
}

#[test]
fn load_error_serializes_with_kind() {
    let e = LoadError::RemoteRef {
        pointer: "/a".into(),
        reference: "x.yaml".into(),
        line: Some(3),
    };
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["kind"], "remote_ref");
    assert_eq!(v["line"], 3);
}

#[test]
fn never_panics_on_garbage() {
    for text in [
        "",
        "   ",
        "{",
        "[",
        "\"",
        "- - - -",
        ":",
        ": : :",
        "a: \"unterminated",
        "a: 'x''",
        "? complex\n: value",
        "\u{feff}openapi: 3.0.0",
        "{\"a\": \"\\ud800\"}",
        "a:\n\t- b",
        "\"\\u12",
        "'a",
        "key: |\n  text\n less",
        "{1: 2}",
        "[1: 2]: 3",
        "openapi: '3.0.0'\npaths: 1\ninfo: 2",
        "openapi: '3.0.0'\ninfo: {title: t, version: v}\npaths: {/x: {get: {responses: {'200': {description: d, content: {a/b: {schema: {type: [1]}}}}}}}}",
    ] {
        let _ = load(text);
        let _ = LineIndex::new(text);
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = load(&s);
            let l = LineIndex::new(&s);
            let _ = l.line_of("/a/b/0");
        }

        #[test]
        fn yamlish_text_never_panics(s in "([ \\-:#'\"{}\\[\\]|>a-c0-9\n]){0,200}") {
            let _ = load(&s);
            let _ = LineIndex::new(&s);
        }
    }
}

/// Nesting is bounded by the parsers' recursion limits; everything after parsing
/// (typed deserialization, the schema pre-check, lint walks) must fit a 2 MiB stack,
/// the default for spawned threads and tokio workers, and stay polynomial. Debug
/// builds of serde_yaml alone need more than 2 MiB near its limit, hence 16 MiB there.
#[test]
fn refs_under_author_named_keys_are_checked() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        default: {$ref: '#/components/responses/Missing'}\n";
    assert!(matches!(
        load(text),
        Err(LoadError::UnresolvedRef { line: Some(7), .. })
    ));
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    example: {$ref: 'remote.yaml'}\n";
    assert!(matches!(load(text), Err(LoadError::RemoteRef { .. })));
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A:\n      type: object\n      default: {$ref: 'not-a-ref'}\n      x-meta: {$ref: 'nor-this'}\n";
    assert!(load(text).is_ok());
}

/// The diff CLI's lean loader must refuse exactly what the full loader refuses.
#[test]
fn the_model_loader_agrees_with_the_full_loader() {
    let cases = [
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /orders:\n    get:\n      summary: x\n",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - name: x\n          in: nowhere\n      responses: {}\n",
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n",
        "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {\"/a\": {\"$ref\": \"other.yaml#/x\"}}}",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'\n",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {type: object, properties: {b: {type: nonsense}}}\n",
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
    ];
    for text in cases {
        let full = load(text).map(|c| c.doc);
        let lean = load_model(text.to_string()).map(|m| m.doc);
        assert_eq!(full.is_ok(), lean.is_ok(), "{text}");
        assert_eq!(full.err(), lean.err(), "{text}");
    }
}

/// The bare model leaves prose out, in JSON and YAML alike, but keeps names an
/// author chose (a property called `example`) and payload values.
#[test]
fn the_model_leaves_out_descriptions_and_examples() {
    let json = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1", "description": "long"},
      "paths": {"/a": {"get": {"description": "d", "responses": {"200": {"description": "ok",
        "content": {"application/json": {"example": {"big": 1}, "schema": {"$ref": "#/components/schemas/S"}}}}}}}},
      "components": {"examples": {"E": {"value": 1}}, "schemas": {"S": {"type": "object", "description": "s",
        "properties": {"example": {"type": "string", "example": "x", "default": {"description": "kept"}},
                       "description": {"type": "string"}}}}}}"##;
    let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1', description: long}\npaths: {}\ncomponents:\n  schemas:\n    S: {type: object, description: s, properties: {example: {type: string, example: x}}}\n";
    for text in [json, yaml] {
        let m = load_model(text.to_string()).unwrap();
        assert!(m.violations.is_empty(), "{:?}", m.violations);
        let v = serde_json::to_value(&m.doc).unwrap();
        assert_eq!(v["info"]["description"], "");
        let s = &v["components"]["schemas"]["S"];
        assert_eq!(s["description"], "");
        assert_eq!(s["properties"]["example"]["type"], "string");
        assert!(s["properties"]["example"].get("example").is_none(), "{s}");
        if text == json {
            assert_eq!(s["properties"]["example"]["default"]["description"], "kept");
            assert!(s["properties"]["description"].is_object());
            assert!(
                v["components"]
                    .get("examples")
                    .is_none_or(|e| e.as_object().is_some_and(|m| m.is_empty()))
            );
        }
    }
}

/// Nesting is bounded in both syntaxes: a document nested a hundred thousand
/// levels deep (flow collections, and `- - - …` block items on one line) is
/// refused quickly with a position, with no stack overflow and no index of
/// pointers as long as the path to each level, and one nested as deeply as
/// real contracts are still loads.
#[test]
fn deep_nesting_is_refused_not_recursed_into() {
    let depth = 100_000;
    let head = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-deep: ";
    let yaml = format!("{head}{}{}", "[".repeat(depth), "]".repeat(depth));
    let json = format!(
        r#"{{"openapi":"3.0.3","info":{{"title":"t","version":"1"}},"paths":{{}},"x-deep":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let items = format!("{head}\n{}x\n", "- ".repeat(depth)).replace("x-deep: \n", "x-deep:\n");
    let started = std::time::Instant::now();
    for text in [&yaml, &json, &items] {
        match load(text) {
            Err(LoadError::Syntax { line, message, .. }) => {
                assert!(line > 0, "a position: {message}");
                assert!(
                    message.contains("recursion") || message.contains("levels deep"),
                    "{message}"
                );
            }
            other => panic!("refused as too deep, not {:?}", other.map(|_| ())),
        }
    }
    // Debug build: the three together took two minutes when the line index
    // followed every level.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let fine = format!("{head}{}{}", "[".repeat(40), "]".repeat(40));
    assert!(load(&fine).is_ok());
}

/// The line index costs no more than a multiple of the text: a 1 MB key above
/// a hundred thousand items would otherwise record a 1 MB pointer per item.
#[test]
fn a_long_key_above_many_items_is_indexed_in_bounded_time() {
    let key = "k".repeat(1 << 20);
    let items = vec!["0"; 100_000].join(",");
    let text = format!(r#"{{"openapi":"3.0.3","{key}":[{items}]}}"#);
    let started = std::time::Instant::now();
    let index = LineIndex::new(&text);
    assert_eq!(index.line_of("/openapi"), Some(1));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
