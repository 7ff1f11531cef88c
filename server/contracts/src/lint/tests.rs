//! One triggering and one passing document per rule, plus runner behaviour.

use super::*;
use crate::loader::load;

const CLEAN: &str = r#"openapi: 3.0.3
info:
  title: Orders API
  version: 2.1.0
  description: Manage customer orders.
  contact:
    name: Orders team
    email: orders@example.com
servers:
  - url: https://api.example.com/orders/v2
  - url: http://localhost:8080
security:
  - bearer: []
paths:
  /orders:
    get:
      operationId: listOrders
      summary: List orders
      tags: [orders]
      parameters:
        - $ref: '#/components/parameters/Cursor'
        - name: limit
          in: query
          description: Maximum number of orders to return.
          schema: {type: integer, minimum: 1, maximum: 100}
      responses:
        '200':
          description: A page of orders.
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Order'}
        '400': {$ref: '#/components/responses/Problem'}
    post:
      operationId: createOrder
      summary: Create an order
      tags: [orders]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}
        '422': {$ref: '#/components/responses/Problem'}
  /orders/{order_id}:
    parameters:
      - name: order_id
        in: path
        required: true
        description: The order's id.
        schema: {type: string}
    get:
      operationId: getOrder
      summary: Get an order
      tags: [orders]
      responses:
        '200':
          description: The order.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}
        '404': {$ref: '#/components/responses/Problem'}
  /health:
    get:
      operationId: getHealth
      description: Liveness probe.
      tags: [ops]
      security: []
      responses:
        '204': {description: Healthy.}
        '429': {$ref: '#/components/responses/Problem'}
components:
  parameters:
    Cursor:
      name: cursor
      in: query
      description: Opaque cursor from the previous page.
      schema: {type: string}
  responses:
    Problem:
      description: An RFC 9457 problem.
      content:
        application/problem+json:
          schema: {$ref: '#/components/schemas/Problem'}
  schemas:
    Order:
      description: A customer order.
      type: object
      required: [order_id]
      properties:
        order_id: {type: string}
        status:
          type: string
          description: Lifecycle state.
          enum: [open, shipped]
        sub_orders:
          type: array
          items: {$ref: '#/components/schemas/Order'}
        created_at: {type: string, format: date-time}
    Problem:
      description: RFC 9457 problem details.
      type: object
      properties:
        type: {type: string}
        title: {type: string}
        status: {type: integer}
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
"#;

fn run(text: &str, options: &LintOptions) -> Vec<Finding> {
    match load(text) {
        Ok(c) => lint(&c, options),
        Err(e) => panic!("test document does not load: {e}\n{text}"),
    }
}

fn hits(text: &str, rule: &str) -> Vec<Finding> {
    run(text, &LintOptions::default())
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

fn with_base(text: &str, base: &str, rule: &str) -> Vec<Finding> {
    let options = LintOptions {
        base_path: Some(base.to_string()),
        ..LintOptions::default()
    };
    run(text, &options)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// A small document: `paths` and `components` are YAML blocks indented by two.
fn doc(paths: &str, components: &str) -> String {
    let components = if components.trim().is_empty() {
        " {}\n".to_string()
    } else {
        format!("\n{components}")
    };
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: 1.0.0}}\npaths:\n{paths}components:{components}"
    )
}

const OK: &str = "responses: {'200': {description: ok}}";

fn op(extra: &str) -> String {
    doc(&format!("  /things:\n    get: {{{extra}{OK}}}\n"), "")
}

#[test]
fn clean_document_has_no_findings() {
    let findings = run(CLEAN, &LintOptions::default());
    assert!(findings.is_empty(), "{findings:#?}");
    let options = LintOptions {
        base_path: Some("/orders/v2".into()),
        ..LintOptions::default()
    };
    assert!(run(CLEAN, &options).is_empty());
}

#[test]
fn rule_catalogue() {
    let all = rules();
    assert!(all.len() >= 22);
    let mut ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    for id in &ids {
        // Kebab case; ids taken from Spectral keep its camelCase words
        // (`operation-operationId-valid-in-url`), so users find them.
        assert!(
            id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && id.starts_with(|c: char| c.is_ascii_lowercase()),
            "{id}"
        );
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "duplicate ids");
}

#[test]
fn overrides_switch_off_and_change_severity() {
    let text = op("");
    let base = run(&text, &LintOptions::default());
    let id = base
        .iter()
        .find(|f| f.rule == "operation-operation-id")
        .unwrap();
    assert_eq!(id.severity, Severity::Error);
    assert_eq!(id.pointer, "/paths/~1things/get");
    assert_eq!(id.line, Some(5));

    let mut options = LintOptions::default();
    options
        .overrides
        .insert("operation-operation-id".into(), None);
    options
        .overrides
        .insert("operation-tags".into(), Some(Severity::Error));
    options.overrides.insert("no-such-rule".into(), None);
    let changed = run(&text, &options);
    assert!(!changed.iter().any(|f| f.rule == "operation-operation-id"));
    let tags = changed.iter().find(|f| f.rule == "operation-tags").unwrap();
    assert_eq!(tags.severity, Severity::Error);
    assert_eq!(changed.len(), base.len() - 1);
}

#[test]
fn findings_are_sorted_and_have_lines() {
    let findings = run(&op(""), &LintOptions::default());
    assert!(findings.len() > 3);
    let keys: Vec<_> = findings
        .iter()
        .map(|f| {
            (
                f.line.unwrap_or(u32::MAX),
                f.pointer.clone(),
                f.rule.clone(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(findings.iter().all(|f| f.line.is_some()));
}

#[test]
fn json_documents_get_lines_too() {
    let text = r#"{
  "openapi": "3.0.3",
  "info": {"title": "t", "version": "1.0.0"},
  "paths": {
    "/things": {
      "get": {
        "responses": {"200": {"description": "ok"}}
      }
    }
  }
}"#;
    let f = hits(text, "operation-operation-id");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].line, Some(6));
}

#[test]
fn operation_operation_id() {
    assert_eq!(hits(&op(""), "operation-operation-id").len(), 1);
    assert!(hits(&op("operationId: a, "), "operation-operation-id").is_empty());
}

#[test]
fn operation_operation_id_unique() {
    let paths = format!(
        "  /a:\n    get: {{operationId: same, {OK}}}\n  /b:\n    get: {{operationId: same, {OK}}}\n"
    );
    let f = hits(&doc(&paths, ""), "operation-operation-id-unique");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1b/get/operationId");
    let paths = format!(
        "  /a:\n    get: {{operationId: one, {OK}}}\n  /b:\n    get: {{operationId: two, {OK}}}\n"
    );
    assert!(hits(&doc(&paths, ""), "operation-operation-id-unique").is_empty());
}

#[test]
fn operation_summary_or_description() {
    assert_eq!(
        hits(&op("summary: '  ', "), "operation-summary-or-description").len(),
        1
    );
    assert!(hits(&op("description: d, "), "operation-summary-or-description").is_empty());
}

#[test]
fn operation_tags() {
    assert_eq!(hits(&op(""), "operation-tags").len(), 1);
    assert!(hits(&op("tags: [a], "), "operation-tags").is_empty());
}

#[test]
fn operation_security_declared() {
    let rule = "operation-security-declared";
    assert_eq!(hits(&op(""), rule).len(), 1);
    assert!(hits(&op("security: [], "), rule).is_empty());
    assert!(hits(&op("x-public: true, "), rule).is_empty());
    // A global empty list does not make every operation public.
    let global_empty = op("").replace("paths:", "security: []\npaths:");
    assert_eq!(hits(&global_empty, rule).len(), 1);
    let schemes = "  securitySchemes:\n    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://x/token', scopes: {}}}}\n";
    let paths = format!("  /things:\n    get: {{{OK}}}\n");
    let global = doc(&paths, schemes).replace("paths:", "security: [{oauth: []}]\npaths:");
    assert!(hits(&global, rule).is_empty());
    let unknown = doc(
        &format!("  /things:\n    get: {{security: [{{nope: []}}], {OK}}}\n"),
        schemes,
    );
    let f = hits(&unknown, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1things/get/security/0");
}

#[test]
fn response_success() {
    let only_error = doc(
        "  /a:\n    get: {responses: {'404': {description: x}}}\n",
        "",
    );
    assert_eq!(hits(&only_error, "response-success").len(), 1);
    let redirect = doc("  /a:\n    get: {responses: {3XX: {description: x}}}\n", "");
    assert!(hits(&redirect, "response-success").is_empty());
    assert!(hits(&op(""), "response-success").is_empty());
}

#[test]
fn operation_4xx_response() {
    let f = hits(&op(""), "operation-4xx-response");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1things/get/responses");
    let range = doc(
        "  /a:\n    get: {responses: {'200': {description: x}, 4XX: {description: y}}}\n",
        "",
    );
    assert!(hits(&range, "operation-4xx-response").is_empty());
}

#[test]
fn error_responses_problem_json() {
    let rule = "error-responses-problem-json";
    let plain = doc(
        "  /a:\n    get:\n      responses:\n        '200': {description: x}\n        4xx:\n          description: y\n          content: {application/json: {schema: {type: object}}}\n",
        "",
    );
    let f = hits(&plain, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1a/get/responses/4xx");
    assert_eq!(f[0].line, Some(8));
    let no_schema = doc(
        "  /a:\n    get:\n      responses:\n        '500': {description: y, content: {application/problem+json: {}}}\n",
        "",
    );
    let f = hits(&no_schema, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].pointer,
        "/paths/~1a/get/responses/500/content/application~1problem+json"
    );
    // Shared responses are reported once, at the component.
    let shared = doc(
        "  /a:\n    get: {responses: {'404': {$ref: '#/components/responses/E'}}}\n  /b:\n    get: {responses: {'404': {$ref: '#/components/responses/E'}}}\n",
        "  responses:\n    E: {description: e}\n",
    );
    let f = hits(&shared, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/components/responses/E");
    assert!(hits(CLEAN, rule).is_empty());
}

#[test]
fn request_body_schema() {
    let rule = "request-body-schema";
    let bad = doc(
        &format!(
            "  /a:\n    post: {{requestBody: {{content: {{application/json: {{}}}}}}, {OK}}}\n"
        ),
        "",
    );
    let f = hits(&bad, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].pointer,
        "/paths/~1a/post/requestBody/content/application~1json"
    );
    let good = doc(
        &format!(
            "  /a:\n    post: {{requestBody: {{content: {{application/json: {{schema: {{type: object}}}}}}}}, {OK}}}\n"
        ),
        "",
    );
    assert!(hits(&good, rule).is_empty());
}

fn list_op(path: &str, params: &str) -> String {
    format!(
        "  {path}:\n    get:\n      parameters: [{params}]\n      responses: {{'200': {{description: x, content: {{application/json: {{schema: {{type: array, items: {{type: string}}}}}}}}}}}}\n"
    )
}

#[test]
fn pagination_consistent() {
    let rule = "pagination-consistent";
    let cursor = "{name: cursor, in: query, schema: {type: string}}";
    let page = "{name: page, in: query, schema: {type: integer}}, {name: page_size, in: query, schema: {type: integer}}";
    let mixed = doc(
        &[
            list_op("/a", cursor),
            list_op("/b", page),
            list_op("/c", cursor),
        ]
        .concat(),
        "",
    );
    let f = hits(&mixed, rule);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].pointer, "/paths/~1b/get/parameters/0");
    let missing = doc(&[list_op("/a", cursor), list_op("/b", "")].concat(), "");
    let f = hits(&missing, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1b/get");
    let both = doc(
        &list_op(
            "/a",
            &format!("{cursor}, {{name: offset, in: query, schema: {{type: integer}}}}"),
        ),
        "",
    );
    assert!(
        hits(&both, rule)
            .iter()
            .any(|f| f.message.contains("mixes"))
    );
    let consistent = doc(&[list_op("/a", cursor), list_op("/b", cursor)].concat(), "");
    assert!(hits(&consistent, rule).is_empty());
    // Nothing paginates: nothing to be consistent with.
    assert!(hits(&doc(&list_op("/a", ""), ""), rule).is_empty());
}

#[test]
fn parameter_description() {
    let rule = "parameter-description";
    let bad = op("parameters: [{name: q, in: query, schema: {type: string}}], ");
    let f = hits(&bad, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1things/get/parameters/0");
    let good =
        op("parameters: [{name: q, in: query, description: Search, schema: {type: string}}], ");
    assert!(hits(&good, rule).is_empty());
}

#[test]
fn no_credentials_in_query() {
    let rule = "no-credentials-in-query";
    let bad = op(
        "parameters: [{name: api_key, in: query, schema: {type: string}}, {name: Access-Token, in: query, schema: {type: string}}], ",
    );
    assert_eq!(hits(&bad, rule).len(), 2);
    let scheme = doc(
        &format!("  /a:\n    get: {{security: [{{k: []}}], {OK}}}\n"),
        "  securitySchemes:\n    k: {type: apiKey, in: query, name: key}\n",
    );
    let f = hits(&scheme, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/components/securitySchemes/k/in");
    let good = op(
        "parameters: [{name: api_key, in: header, schema: {type: string}}, {name: keyword, in: query, schema: {type: string}}], ",
    );
    assert!(hits(&good, rule).is_empty());
}

fn path_doc(paths: &[&str]) -> String {
    let body: String = paths
        .iter()
        .map(|p| format!("  '{p}':\n    get: {{{OK}}}\n"))
        .collect();
    doc(&body, "")
}

#[test]
fn path_kebab_case() {
    let rule = "path-kebab-case";
    assert_eq!(
        hits(&path_doc(&["/orderItems", "/order_items", "/a//b"]), rule).len(),
        3
    );
    assert!(
        hits(
            &path_doc(&[
                "/order-items/{itemId}.json",
                "/.well-known/openid-configuration",
                "/v2/x",
                "/"
            ]),
            rule
        )
        .is_empty()
    );
}

#[test]
fn path_plural_nouns() {
    let rule = "path-plural-nouns";
    let f = hits(&path_doc(&["/order/{id}"]), rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1order~1{id}");
    assert!(
        hits(
            &path_doc(&[
                "/orders/{id}",
                "/people/{id}/order-lines/{n}",
                "/v1/{x}",
                "/me"
            ]),
            rule
        )
        .is_empty()
    );
}

#[test]
fn path_no_trailing_slash() {
    let rule = "path-no-trailing-slash";
    assert_eq!(hits(&path_doc(&["/orders/"]), rule).len(), 1);
    assert!(hits(&path_doc(&["/", "/orders"]), rule).is_empty());
}

#[test]
fn path_parameters_defined() {
    let rule = "path-parameters-defined";
    let undefined = path_doc(&["/orders/{id}"]);
    let f = hits(&undefined, rule);
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("{id}"));
    let extra = doc(
        &format!(
            "  /orders:\n    get: {{parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}], {OK}}}\n"
        ),
        "",
    );
    assert_eq!(hits(&extra, rule).len(), 1);
    let optional = doc(
        &format!(
            "  /orders/{{id}}:\n    get: {{parameters: [{{name: id, in: path, schema: {{type: string}}}}], {OK}}}\n"
        ),
        "",
    );
    assert!(hits(&optional, rule)[0].message.contains("required"));
    let good = doc(
        &format!(
            "  /orders/{{id}}:\n    parameters: [{{$ref: '#/components/parameters/Id'}}]\n    get: {{{OK}}}\n    delete: {{{OK}}}\n"
        ),
        "  parameters:\n    Id: {name: id, in: path, required: true, schema: {type: string}}\n",
    );
    assert!(hits(&good, rule).is_empty());
}

#[test]
fn base_path_major_version() {
    let rule = "base-path-major-version";
    let text = op(""); // info.version 1.0.0
    let f = with_base(&text, "/orders/v2", rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/info/version");
    assert_eq!(f[0].line, Some(2));
    assert_eq!(with_base(&text, "/orders", rule).len(), 1);
    assert!(with_base(&text, "/orders/v1", rule).is_empty());
    assert!(hits(&text, rule).is_empty());
}

#[test]
fn info_contact() {
    let rule = "info-contact";
    assert_eq!(hits(&op(""), rule).len(), 1);
    let no_name = op("").replace(
        "version: 1.0.0}",
        "version: 1.0.0, contact: {email: a@b.c}}",
    );
    let f = hits(&no_name, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/info/contact");
    let good = op("").replace(
        "version: 1.0.0}",
        "version: 1.0.0, contact: {name: team, url: 'https://x'}}",
    );
    assert!(hits(&good, rule).is_empty());
}

#[test]
fn info_description() {
    let rule = "info-description";
    assert_eq!(hits(&op(""), rule).len(), 1);
    let good = op("").replace("version: 1.0.0}", "version: 1.0.0, description: d}");
    assert!(hits(&good, rule).is_empty());
}

#[test]
fn server_urls_https() {
    let rule = "server-urls-https";
    let servers = |list: &str| op("").replace("paths:", &format!("servers: [{list}]\npaths:"));
    let f = hits(
        &servers("{url: 'http://api.example.com'}, {url: 'https://ok.example.com'}"),
        rule,
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/servers/0/url");
    let templated = "{url: '{scheme}://api.example.com', variables: {scheme: {default: http}}}";
    assert_eq!(hits(&servers(templated), rule).len(), 1);
    assert!(hits(&servers("{url: 'http://localhost:8080'}, {url: '/v1'}, {url: 'http://127.0.0.1'}, {url: 'https://x'}"), rule).is_empty());
}

#[test]
fn no_http_basic() {
    let rule = "no-http-basic";
    let with = |scheme: &str| {
        doc(
            &format!("  /a:\n    get: {{security: [{{s: []}}], {OK}}}\n"),
            &format!("  securitySchemes:\n    s: {{type: http, scheme: {scheme}}}\n"),
        )
    };
    let f = hits(&with("Basic"), rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(hits(&with("bearer"), rule).is_empty());
}

#[test]
fn no_unused_components() {
    let rule = "no-unused-components";
    let paths = "  /a:\n    get:\n      responses:\n        '200': {description: x, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}\n        default: {$ref: '#/components/responses/Oops'}\n";
    let components = "  responses:\n    Oops: {description: e}\n  schemas:\n    Pet:\n      oneOf: [{$ref: '#/components/schemas/Cat'}]\n      discriminator: {propertyName: kind, mapping: {dog: Dog}}\n    Cat: {type: object}\n    Dog: {type: object}\n    Lonely: {type: object}\n    Selfish:\n      type: object\n      properties:\n        me: {$ref: '#/components/schemas/Selfish'}\n  securitySchemes:\n    unused: {type: http, scheme: bearer}\n";
    let f = hits(&doc(paths, components), rule);
    let pointers: Vec<&str> = f.iter().map(|f| f.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/components/schemas/Lonely",
            "/components/schemas/Selfish",
            "/components/securitySchemes/unused"
        ]
    );
    assert!(hits(CLEAN, rule).is_empty());
}

#[test]
fn schema_description() {
    let rule = "schema-description";
    let paths = "  /a:\n    get: {responses: {'200': {description: x, content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}}}\n";
    let f = hits(&doc(paths, "  schemas:\n    A: {type: object}\n"), rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/components/schemas/A");
    assert!(
        hits(
            &doc(paths, "  schemas:\n    A: {type: object, description: d}\n"),
            rule
        )
        .is_empty()
    );
}

#[test]
fn enum_description() {
    let rule = "enum-description";
    let bad = op("parameters: [{name: s, in: query, schema: {type: string, enum: [a, b]}}], ");
    let f = hits(&bad, rule);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer, "/paths/~1things/get/parameters/0/schema");
    let described_param = op(
        "parameters: [{name: s, in: query, description: Sort order, schema: {type: string, enum: [a, b]}}], ",
    );
    assert!(hits(&described_param, rule).is_empty());
    let described = op(
        "parameters: [{name: s, in: query, schema: {type: string, description: Sort, enum: [a, b]}}], ",
    );
    assert!(hits(&described, rule).is_empty());
}

#[test]
fn property_naming_consistent() {
    let rule = "property-naming-consistent";
    let schema = |props: &str| {
        doc(
            &format!(
                "  /a:\n    get: {{responses: {{'200': {{description: x, content: {{application/json: {{schema: {{type: object, properties: {{{props}}}}}}}}}}}}}}}\n"
            ),
            "",
        )
    };
    let f = hits(
        &schema(
            "first_name: {type: string}, last_name: {type: string}, zipCode: {type: string}, id: {type: string}",
        ),
        rule,
    );
    assert_eq!(f.len(), 1);
    assert!(
        f[0].pointer.ends_with("/properties/zipCode"),
        "{}",
        f[0].pointer
    );
    assert!(
        hits(
            &schema("first_name: {type: string}, _links: {type: object}, id: {type: string}"),
            rule
        )
        .is_empty()
    );
    assert!(
        hits(
            &schema("firstName: {type: string}, lastName: {type: string}"),
            rule
        )
        .is_empty()
    );
}

#[test]
fn lint_never_panics_on_odd_documents() {
    for text in [
        "openapi: 3.0.0\ninfo: {title: t, version: ''}\npaths: {}\n",
        "openapi: 3.0.0\ninfo: {title: t, version: x}\npaths: {'/{': {get: {responses: {}}}, '/}{/': {}}\n",
        "openapi: 3.0.0\ninfo: {title: t, version: x}\npaths: {/a: {$ref: '#/paths/~1a'}}\n",
        "openapi: 3.0.0\ninfo: {title: t, version: x}\npaths: {}\ncomponents: {schemas: {A: {$ref: '#/components/schemas/B'}, B: {$ref: '#/components/schemas/A'}}}\n",
    ] {
        let c = load(text).unwrap();
        let options = LintOptions {
            base_path: Some("/v/v9999999999999999999999/".into()),
            ..LintOptions::default()
        };
        let _ = lint(&c, &options);
    }
}

#[test]
fn deeply_nested_documents_load_and_lint_on_the_default_stack() {
    fn nested(depth: usize, bad: bool) -> String {
        let mut schema = if bad {
            "{type: object, properties: {x: {type: object, properties: 7}}}".to_string()
        } else {
            "{type: string}".to_string()
        };
        for level in 0..depth {
            schema = match level % 3 {
                0 => format!("{{type: object, properties: {{p: {schema}}}}}"),
                1 => format!("{{type: array, items: {schema}}}"),
                _ => format!("{{allOf: [{schema}]}}"),
            };
        }
        format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents: {{schemas: {{Deep: {schema}}}}}\n"
        )
    }
    let handle = std::thread::Builder::new()
        .stack_size(if cfg!(debug_assertions) { 16 } else { 2 } * 1024 * 1024)
        .spawn(|| {
            for depth in [10, 40, 61, 62, 63, 64, 70, 200] {
                for bad in [false, true] {
                    let text = nested(depth, bad);
                    let started = std::time::Instant::now();
                    match load(&text) {
                        Ok(c) => {
                            // A broken schema is read past, and said so.
                            assert_eq!(bad, !c.violations.is_empty(), "depth {depth}");
                            let _ = lint(&c, &LintOptions::default());
                        }
                        Err(e) => assert!(bad || depth > 50, "depth {depth}: {e}"),
                    }
                    // Generous: this guards against exponential blow-up, not speed.
                    assert!(started.elapsed().as_secs() < 20, "depth {depth} bad {bad}");
                }
            }
        })
        .unwrap();
    handle.join().unwrap();
}

/// Examples are checked against their schemas the way the gateway enforces them:
/// media examples (inline and from `components/examples`) in their direction,
/// and a schema's own `example`, 3.1 `examples` and `default`.
#[test]
fn examples_must_match_their_schemas() {
    let text = r##"openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /orders:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Order'}
            examples:
              good: {value: {sku: A-1, qty: 2}}
              bad: {$ref: '#/components/examples/BadOrder'}
      responses:
        '201':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Order'}
              example: {id: o-1, sku: A-1, qty: 2}
components:
  examples:
    BadOrder: {value: {sku: A-1, qty: zero}}
  schemas:
    Order:
      type: object
      required: [sku, qty]
      properties:
        id: {type: string, readOnly: true}
        sku: {type: string, example: 42}
        qty: {type: integer, minimum: 1, default: 0}
"##;
    let c = load(text).unwrap();
    let findings = lint(&c, &LintOptions::default());
    let hits: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.rule.starts_with("oas3-valid"))
        .map(|f| (f.rule.as_str(), f.pointer.as_str()))
        .collect();
    assert_eq!(
        hits,
        [
            (
                "oas3-valid-media-example",
                "/paths/~1orders/post/requestBody/content/application~1json/examples/bad"
            ),
            (
                "oas3-valid-schema-example",
                "/components/schemas/Order/properties/sku/example"
            ),
            (
                "oas3-valid-schema-example",
                "/components/schemas/Order/properties/qty/default"
            ),
        ],
        "{findings:#?}"
    );
    let bad = findings
        .iter()
        .find(|f| f.rule == "oas3-valid-media-example")
        .unwrap();
    assert!(bad.message.contains("`/qty`"), "{}", bad.message);

    // 3.1: `examples` is a list, and type lists are JSON Schema's.
    let text = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    N: {type: [integer, 'null'], examples: [1, null, x]}\n";
    let c = load(text).unwrap();
    let hits: Vec<String> = lint(&c, &LintOptions::default())
        .into_iter()
        .filter(|f| f.rule == "oas3-valid-schema-example")
        .map(|f| f.pointer)
        .collect();
    assert_eq!(hits, ["/components/schemas/N/examples/2"]);
}

/// The structural rules Spectral users know, each triggered once.
#[test]
fn spectral_structural_rules() {
    let text = r##"openapi: 3.0.3
info: {title: t, version: '1'}
servers: [{url: 'https://api.example.com/v1/'}]
tags: [{name: orders}]
paths:
  /orders?all:
    get:
      operationId: list orders
      tags: [orders, stock]
      description: 'Lists. <script>alert(1)</script>'
      parameters:
        - {name: q, in: query, schema: {type: string}, example: 5}
        - {name: q, in: query, schema: {type: string}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: array
              examples:
                both: {value: [], externalValue: 'https://example.com/x.json'}
components:
  schemas:
    Kind: {type: string, enum: [a, 1, a]}
"##;
    let c = load(text).unwrap();
    let findings = lint(&c, &LintOptions::default());
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.pointer.as_str()))
        .collect();
    for want in [
        ("typed-enum", "/components/schemas/Kind/enum/1"),
        (
            "duplicated-entry-in-enum",
            "/components/schemas/Kind/enum/2",
        ),
        (
            "array-items",
            "/paths/~1orders?all/get/responses/200/content/application~1json/schema",
        ),
        ("path-not-include-query", "/paths/~1orders?all"),
        (
            "operation-parameters",
            "/paths/~1orders?all/get/parameters/1",
        ),
        (
            "operation-operationId-valid-in-url",
            "/paths/~1orders?all/get/operationId",
        ),
        ("operation-tag-defined", "/paths/~1orders?all/get/tags/1"),
        ("oas3-api-servers", "/servers/0/url"),
        (
            "oas3-examples-value-or-externalValue",
            "/paths/~1orders?all/get/responses/200/content/application~1json/examples/both",
        ),
        (
            "no-script-tags-in-markdown",
            "/paths/~1orders?all/get/description",
        ),
        (
            "oas3-valid-media-example",
            "/paths/~1orders?all/get/parameters/0/example",
        ),
    ] {
        assert!(got.contains(&want), "{want:?} in {got:#?}");
    }
}
