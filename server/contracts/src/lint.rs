//! Governance lint: style and safety rules an organisation applies to every API
//! contract, on top of what makes a document valid OpenAPI (the loader's job).
//!
//! Each rule has a stable kebab-case id and a default severity that organisations can
//! override or switch off per rule ([`LintOptions::overrides`]). Rules report RFC 6901
//! pointers; the runner adds the source line so findings can be shown in an editor.
//! Shared definitions (a `$ref`'d parameter, response, request body) are reported once,
//! at the component, rather than once per use.

mod context;
mod document;
mod examples;
mod operations;
mod paths;
mod schemas;
mod structure;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::loader::Contract;
use context::{Ctx, Hit};
use steward_model::{Finding, RuleInfo, Severity};

/// Per-organisation lint settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LintOptions {
    /// The gateway base path the API is published under (`/orders/v2`); enables
    /// `base-path-major-version`.
    pub base_path: Option<String>,
    /// Rule id → `None` to switch the rule off, `Some(severity)` to change its
    /// severity. Unknown ids are ignored.
    pub overrides: HashMap<String, Option<Severity>>,
}

type Check = fn(&Ctx<'_>, &mut Vec<Hit>);

struct Rule {
    id: &'static str,
    severity: Severity,
    description: &'static str,
    check: Check,
}

const fn rule(
    id: &'static str,
    severity: Severity,
    description: &'static str,
    check: Check,
) -> Rule {
    Rule {
        id,
        severity,
        description,
        check,
    }
}

use Severity::{Error, Info, Warning};

const RULES: &[Rule] = &[
    rule(
        "oas3-schema",
        Error,
        "The document follows the OpenAPI specification (3.0 or 3.1): required members are present and every object has the shape the spec gives it. What breaks it is read past, so the rest is still checked.",
        document::spec_violations,
    ),
    rule(
        "oas3-valid-media-example",
        Warning,
        "Examples of request and response bodies and of parameters match their schema, as the gateway would enforce it.",
        examples::media_examples,
    ),
    rule(
        "oas3-valid-schema-example",
        Warning,
        "A schema's own `example`, `examples` and `default` match the schema.",
        examples::schema_examples,
    ),
    rule(
        "typed-enum",
        Warning,
        "Enum values have the schema's type.",
        structure::typed_enum,
    ),
    rule(
        "duplicated-entry-in-enum",
        Warning,
        "Each enum value appears once.",
        structure::duplicated_entry_in_enum,
    ),
    rule(
        "array-items",
        Error,
        "Array schemas say what their items are (`items`, or `prefixItems` in 3.1).",
        structure::array_items,
    ),
    rule(
        "path-not-include-query",
        Warning,
        "Paths hold neither a query string nor an empty parameter `{}` (Spectral's `path-not-include-query` and `path-declarations-must-exist`).",
        structure::path_shape,
    ),
    rule(
        "operation-parameters",
        Warning,
        "An operation declares each parameter (name and location) once.",
        structure::unique_parameters,
    ),
    rule(
        "operation-operationId-valid-in-url",
        Warning,
        "operationIds use only characters allowed in a URL.",
        structure::operation_id_url_safe,
    ),
    rule(
        "operation-tag-defined",
        Warning,
        "Tags used by operations are declared in the document's `tags`.",
        structure::operation_tag_defined,
    ),
    rule(
        "oas3-api-servers",
        Warning,
        "The document declares its servers, and their URLs do not end with a slash (Spectral's `oas3-api-servers` and `oas3-server-trailing-slash`).",
        structure::servers,
    ),
    rule(
        "oas3-examples-value-or-externalValue",
        Warning,
        "An Example object has `value` or `externalValue`, not both.",
        structure::example_value_or_external,
    ),
    rule(
        "no-script-tags-in-markdown",
        Warning,
        "Descriptions contain neither `<script>` tags nor `eval(` (Spectral's `no-script-tags-in-markdown` and `no-eval-in-markdown`).",
        structure::markdown_scripts,
    ),
    rule(
        "operation-operation-id",
        Error,
        "Every operation has an operationId, so SDKs and docs get stable names.",
        operations::operation_id,
    ),
    rule(
        "operation-operation-id-unique",
        Error,
        "operationIds are unique across the document.",
        operations::operation_id_unique,
    ),
    rule(
        "operation-summary-or-description",
        Warning,
        "Every operation has a summary or a description.",
        operations::summary_or_description,
    ),
    rule(
        "operation-tags",
        Warning,
        "Every operation has at least one tag, for grouping in docs and portals.",
        operations::tags,
    ),
    rule(
        "operation-security-declared",
        Error,
        "Every operation declares security (its own or the global `security`), or is explicitly public with `security: []` or `x-public: true`; named schemes exist.",
        operations::security_declared,
    ),
    rule(
        "response-success",
        Error,
        "Every operation documents a 2xx or 3xx response.",
        operations::response_success,
    ),
    rule(
        "operation-4xx-response",
        Warning,
        "Every operation documents at least one 4xx response.",
        operations::has_4xx,
    ),
    rule(
        "error-responses-problem-json",
        Warning,
        "4xx and 5xx responses use `application/problem+json` (RFC 9457) with a schema.",
        operations::problem_json,
    ),
    rule(
        "request-body-schema",
        Error,
        "Every request body media type has a schema.",
        operations::request_body_schema,
    ),
    rule(
        "pagination-consistent",
        Warning,
        "All list operations paginate, and with the same style (cursor, page/page_size or offset/limit).",
        operations::pagination_consistent,
    ),
    rule(
        "parameter-description",
        Warning,
        "Every parameter has a description.",
        operations::parameter_description,
    ),
    rule(
        "no-credentials-in-query",
        Error,
        "Credentials (API keys, tokens, passwords, secrets) are never sent in the query string, where they end up in logs.",
        operations::no_credentials_in_query,
    ),
    rule(
        "path-kebab-case",
        Warning,
        "Literal path segments are kebab-case.",
        paths::kebab_case,
    ),
    rule(
        "path-plural-nouns",
        Info,
        "A collection segment followed by an `{id}` segment is a plural noun (`/orders/{id}`).",
        paths::plural_nouns,
    ),
    rule(
        "path-no-trailing-slash",
        Error,
        "Paths do not end with a slash.",
        paths::no_trailing_slash,
    ),
    rule(
        "path-parameters-defined",
        Error,
        "Every `{name}` in a path has a required `in: path` parameter, and every path parameter appears in the path.",
        paths::parameters_defined,
    ),
    rule(
        "base-path-major-version",
        Error,
        "The major version in the base path (`/orders/v2`) matches the major of info.version.",
        paths::base_path_major_version,
    ),
    rule(
        "info-contact",
        Warning,
        "info.contact names an owner and an email or URL.",
        document::info_contact,
    ),
    rule(
        "info-description",
        Warning,
        "info.description explains what the API is for.",
        document::info_description,
    ),
    rule(
        "server-urls-https",
        Error,
        "Server URLs use HTTPS (localhost excepted).",
        document::server_urls_https,
    ),
    rule(
        "no-http-basic",
        Warning,
        "HTTP Basic authentication is discouraged; prefer OAuth2 or bearer tokens.",
        document::no_http_basic,
    ),
    rule(
        "no-unused-components",
        Warning,
        "Every component (schema, parameter, response, request body, header, example, security scheme, ...) is used.",
        document::no_unused_components,
    ),
    rule(
        "schema-description",
        Info,
        "Named component schemas have a description.",
        schemas::schema_description,
    ),
    rule(
        "enum-description",
        Info,
        "Enum schemas have a description explaining their values (or their parameter does).",
        schemas::enum_description,
    ),
    rule(
        "property-naming-consistent",
        Warning,
        "Property names use one style across the document: all snake_case or all camelCase.",
        schemas::property_naming_consistent,
    ),
];

/// Every rule, in a stable order, with its default severity.
pub fn rules() -> Vec<RuleInfo> {
    RULES
        .iter()
        .map(|r| RuleInfo {
            id: r.id.to_string(),
            default_severity: r.severity,
            description: r.description.to_string(),
        })
        .collect()
}

/// Lints a loaded contract. Findings are sorted by (line, pointer, rule) and carry the
/// severity after `options.overrides`; switched-off rules do not run.
pub fn lint(contract: &Contract, options: &LintOptions) -> Vec<Finding> {
    let ctx = Ctx::new(contract, options);
    let mut out = Vec::new();
    for rule in RULES {
        let severity = match options.overrides.get(rule.id) {
            Some(None) => continue,
            Some(Some(s)) => *s,
            None => rule.severity,
        };
        let mut hits = Vec::new();
        (rule.check)(&ctx, &mut hits);
        out.extend(hits.into_iter().map(|h| Finding {
            rule: rule.id.to_string(),
            severity,
            line: contract.lines.line_of(&h.pointer),
            pointer: h.pointer,
            message: h.message,
        }));
    }
    // Unknown lines sort last; the message is only a tie-breaker that makes
    // duplicates adjacent for dedup.
    out.sort_by(|a, b| {
        (a.line.unwrap_or(u32::MAX), &a.pointer, &a.rule, &a.message).cmp(&(
            b.line.unwrap_or(u32::MAX),
            &b.pointer,
            &b.rule,
            &b.message,
        ))
    });
    out.dedup();
    out
}
