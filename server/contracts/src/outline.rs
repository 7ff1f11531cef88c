//! A contract as a reference to read: every operation with its parameters,
//! bodies and responses, and each body's schema flattened into field rows
//! (`lines[].sku`, `integer (int32), at least 1`). References are followed,
//! `allOf` parts merged, and the walk stops at a depth and a row budget so that
//! a recursive or huge schema stays a page, not a hang (pure: no I/O).

use crate::loader::Contract;
use crate::resolve::{
    component_name, escape_segment, resolve_parameter, resolve_request_body, resolve_response,
    resolve_schema,
};
use indexmap::IndexMap;
use openapiv3::{
    MediaType, OpenAPI, Operation, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
    VariantOrUnknownOrEmpty,
};
use steward_model::{
    BodyOutline, FieldOutline, OperationOutline, Outline, ParameterOutline, ResponseOutline,
};

/// Nesting shown below a body's top level; deeper fields are summed up by their type.
const MAX_DEPTH: usize = 6;
/// Field rows per body, and in the whole outline.
const MAX_ROWS: usize = 400;
const MAX_TOTAL_ROWS: usize = 20_000;
/// Schemas visited in the whole outline, rows or not: `oneOf` fans and `allOf`
/// chains cost work without adding rows, and must not make the walk exponential.
const MAX_STEPS: usize = 200_000;

pub fn outline(contract: &Contract) -> Outline {
    let doc = &contract.doc;
    let mut walk = Walk {
        doc,
        rows_left: MAX_TOTAL_ROWS,
        steps_left: MAX_STEPS,
        truncated: false,
    };
    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        let Some(item) = crate::resolve::resolve_path_item(doc, item) else {
            continue;
        };
        for (method, op) in item.iter() {
            let pointer = format!("/paths/{}/{method}", escape_segment(path));
            let mut o = walk.operation(method, path, op, &item.parameters);
            o.line = contract.lines.line_of(&pointer);
            operations.push(o);
        }
    }
    Outline {
        title: doc.info.title.clone(),
        description: doc.info.description.clone().unwrap_or_default(),
        operations,
        truncated: walk.truncated,
    }
}

struct Walk<'a> {
    doc: &'a OpenAPI,
    rows_left: usize,
    steps_left: usize,
    truncated: bool,
}

impl<'a> Walk<'a> {
    fn operation(
        &mut self,
        method: &str,
        path: &str,
        op: &'a Operation,
        shared: &'a [ReferenceOr<openapiv3::Parameter>],
    ) -> OperationOutline {
        let doc = self.doc;
        // Operation parameters override the path item's of the same name and place.
        let mut parameters: Vec<ParameterOutline> = Vec::new();
        for p in op.parameters.iter().chain(shared) {
            let Some(p) = resolve_parameter(doc, p) else {
                continue;
            };
            let data = p.parameter_data_ref();
            let location = match p {
                openapiv3::Parameter::Query { .. } => "query",
                openapiv3::Parameter::Header { .. } => "header",
                openapiv3::Parameter::Path { .. } => "path",
                openapiv3::Parameter::Cookie { .. } => "cookie",
            };
            if parameters
                .iter()
                .any(|q| q.name == data.name && q.location == location)
            {
                continue;
            }
            let type_label = match &data.format {
                ParameterSchemaOrContent::Schema(s) => self.label(s, 0),
                ParameterSchemaOrContent::Content(c) => {
                    c.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            };
            parameters.push(ParameterOutline {
                name: data.name.clone(),
                location: location.into(),
                required: data.required,
                type_label,
                description: first_paragraph(data.description.as_deref()),
            });
        }
        let request = op
            .request_body
            .as_ref()
            .and_then(|b| resolve_request_body(doc, b))
            .map(|b| self.bodies(&b.content))
            .unwrap_or_default();
        let mut responses = Vec::new();
        if let Some(default) = &op.responses.default
            && let Some(r) = resolve_response(doc, default)
        {
            responses.push(ResponseOutline {
                status: "default".into(),
                description: first_paragraph(Some(&r.description)),
                bodies: self.bodies(&r.content),
            });
        }
        for (status, r) in &op.responses.responses {
            let Some(r) = resolve_response(doc, r) else {
                continue;
            };
            responses.push(ResponseOutline {
                status: status.to_string(),
                description: first_paragraph(Some(&r.description)),
                bodies: self.bodies(&r.content),
            });
        }
        responses.sort_by(|a, b| a.status.cmp(&b.status));
        let security = op
            .security
            .as_ref()
            .or(doc.security.as_ref())
            .map(|alternatives| {
                alternatives
                    .iter()
                    .map(|req| {
                        req.iter()
                            .map(|(scheme, scopes)| {
                                if scopes.is_empty() {
                                    scheme.clone()
                                } else {
                                    format!("{scheme}: {}", scopes.join(", "))
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" + ")
                    })
                    .map(|s| if s.is_empty() { "none".to_string() } else { s })
                    .collect()
            })
            .unwrap_or_default();
        OperationOutline {
            method: method.to_uppercase(),
            path: path.to_string(),
            summary: op
                .summary
                .clone()
                .unwrap_or_else(|| first_paragraph(op.description.as_deref())),
            operation_id: op.operation_id.clone(),
            deprecated: op.deprecated,
            line: None,
            parameters,
            request,
            responses,
            security,
        }
    }

    fn bodies(&mut self, content: &IndexMap<String, MediaType>) -> Vec<BodyOutline> {
        content
            .iter()
            .map(|(media_type, m)| {
                let (type_label, fields) = match &m.schema {
                    Some(s) => {
                        let mut fields = Vec::new();
                        let mut budget = MAX_ROWS;
                        self.fields(s, "", 0, &mut Vec::new(), &mut budget, &mut fields);
                        (self.label(s, 0), fields)
                    }
                    None => ("any".into(), Vec::new()),
                };
                BodyOutline {
                    media_type: media_type.clone(),
                    type_label,
                    fields,
                }
            })
            .collect()
    }

    /// Rows for the properties under `schema`, named below `prefix`. `seen`
    /// holds the component schemas on the way down: a schema met again is a
    /// recursion, shown by its name and not expanded.
    fn fields(
        &mut self,
        schema: &ReferenceOr<Schema>,
        prefix: &str,
        depth: usize,
        seen: &mut Vec<String>,
        budget: &mut usize,
        out: &mut Vec<FieldOutline>,
    ) {
        if self.steps_left == 0 {
            self.truncated = true;
            return;
        }
        self.steps_left -= 1;
        let name = reference_name(schema);
        if let Some(n) = &name {
            if seen.contains(n) {
                return;
            }
            seen.push(n.clone());
        }
        if let Some(s) = resolve_schema(self.doc, schema) {
            self.schema_fields(s, prefix, depth, seen, budget, out);
        }
        if name.is_some() {
            seen.pop();
        }
    }

    fn schema_fields(
        &mut self,
        s: &Schema,
        prefix: &str,
        depth: usize,
        seen: &mut Vec<String>,
        budget: &mut usize,
        out: &mut Vec<FieldOutline>,
    ) {
        if depth > MAX_DEPTH {
            self.truncated = true;
            return;
        }
        match &s.schema_kind {
            SchemaKind::Type(Type::Object(o)) => {
                for (prop, schema) in &o.properties {
                    if *budget == 0 || self.rows_left == 0 {
                        self.truncated = true;
                        return;
                    }
                    *budget -= 1;
                    self.rows_left -= 1;
                    let path = if prefix.is_empty() {
                        prop.clone()
                    } else {
                        format!("{prefix}.{prop}")
                    };
                    let (type_label, description) = match schema {
                        ReferenceOr::Item(inner) => (
                            self.schema_label(inner, 1),
                            first_paragraph(inner.schema_data.description.as_deref()),
                        ),
                        ReferenceOr::Reference { reference } => (
                            component_name(reference, "schemas")
                                .unwrap_or_else(|| reference.clone()),
                            String::new(),
                        ),
                    };
                    out.push(FieldOutline {
                        path: path.clone(),
                        type_label,
                        required: o.required.contains(prop),
                        description,
                    });
                    let child = unbox(schema);
                    self.fields(&child, &path, depth + 1, seen, budget, out);
                }
            }
            SchemaKind::Type(Type::Array(a)) => {
                if let Some(items) = &a.items {
                    let child = unbox(items);
                    self.fields(&child, &format!("{prefix}[]"), depth + 1, seen, budget, out);
                }
            }
            // Parts merge into the same level; depth still grows, so that a
            // chain of `allOf`s ends at the depth limit like any nesting.
            SchemaKind::AllOf { all_of } => {
                for part in all_of {
                    self.fields(part, prefix, depth + 1, seen, budget, out);
                }
            }
            SchemaKind::OneOf { one_of: parts } | SchemaKind::AnyOf { any_of: parts } => {
                for part in parts {
                    self.fields(part, prefix, depth + 1, seen, budget, out);
                }
            }
            _ => {}
        }
    }

    fn label(&self, schema: &ReferenceOr<Schema>, depth: usize) -> String {
        match schema {
            ReferenceOr::Reference { reference } => {
                component_name(reference, "schemas").unwrap_or_else(|| reference.clone())
            }
            ReferenceOr::Item(s) => self.schema_label(s, depth),
        }
    }

    /// `integer (int32), at least 1`, `array of Line`, `one of Card | Wallet`.
    fn schema_label(&self, s: &Schema, depth: usize) -> String {
        let boxed_label = |r: &ReferenceOr<Box<Schema>>| match r {
            ReferenceOr::Reference { reference } => {
                component_name(reference, "schemas").unwrap_or_else(|| reference.clone())
            }
            ReferenceOr::Item(inner) if depth < 4 => self.schema_label(inner, depth + 1),
            ReferenceOr::Item(_) => "…".into(),
        };
        let parts = |list: &[ReferenceOr<Schema>], sep: &str| {
            list.iter()
                .map(|p| {
                    if depth < 4 {
                        self.label(p, depth + 1)
                    } else {
                        "…".into()
                    }
                })
                .collect::<Vec<_>>()
                .join(sep)
        };
        let mut label = match &s.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                let mut l = with_format("string", &t.format);
                if !t.enumeration.is_empty() {
                    let values: Vec<String> =
                        t.enumeration.iter().flatten().take(8).cloned().collect();
                    let more = if t.enumeration.len() > 8 { ", …" } else { "" };
                    l = format!("{l}, one of {}{more}", values.join(", "));
                }
                if let Some(max) = t.max_length {
                    l.push_str(&format!(", at most {max} characters"));
                }
                if let Some(p) = &t.pattern {
                    l.push_str(&format!(", pattern {p}"));
                }
                l
            }
            SchemaKind::Type(Type::Integer(t)) => {
                let mut l = with_format("integer", &t.format);
                if let Some(min) = t.minimum {
                    l.push_str(&format!(", at least {min}"));
                }
                if let Some(max) = t.maximum {
                    l.push_str(&format!(", at most {max}"));
                }
                l
            }
            SchemaKind::Type(Type::Number(t)) => {
                let mut l = with_format("number", &t.format);
                if let Some(min) = t.minimum {
                    l.push_str(&format!(", at least {min}"));
                }
                if let Some(max) = t.maximum {
                    l.push_str(&format!(", at most {max}"));
                }
                l
            }
            SchemaKind::Type(Type::Boolean(_)) => "boolean".into(),
            SchemaKind::Type(Type::Object(_)) => "object".into(),
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => format!("array of {}", boxed_label(items)),
                None => "array".into(),
            },
            SchemaKind::OneOf { one_of } => format!("one of {}", parts(one_of, " | ")),
            SchemaKind::AnyOf { any_of } => format!("any of {}", parts(any_of, " | ")),
            SchemaKind::AllOf { all_of } => parts(all_of, " & "),
            SchemaKind::Not { .. } => "not …".into(),
            SchemaKind::Any(_) => "any".into(),
        };
        if s.schema_data.nullable {
            label.push_str(" or null");
        }
        if s.schema_data.read_only {
            label.push_str(", read-only");
        }
        if s.schema_data.write_only {
            label.push_str(", write-only");
        }
        if s.schema_data.deprecated {
            label.push_str(", deprecated");
        }
        label
    }
}

fn with_format<T: serde::Serialize>(base: &str, format: &VariantOrUnknownOrEmpty<T>) -> String {
    match format {
        // The format as the contract spells it (`date-time`), from its serde name.
        VariantOrUnknownOrEmpty::Item(f) => match serde_json::to_value(f) {
            Ok(serde_json::Value::String(name)) => format!("{base} ({name})"),
            _ => base.to_string(),
        },
        VariantOrUnknownOrEmpty::Unknown(f) => format!("{base} ({f})"),
        VariantOrUnknownOrEmpty::Empty => base.to_string(),
    }
}

fn reference_name(r: &ReferenceOr<Schema>) -> Option<String> {
    match r {
        ReferenceOr::Reference { reference } => Some(reference.clone()),
        ReferenceOr::Item(_) => None,
    }
}

/// The boxed references of `properties` and `items` as plain ones.
fn unbox(r: &ReferenceOr<Box<Schema>>) -> ReferenceOr<Schema> {
    match r {
        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
            reference: reference.clone(),
        },
        ReferenceOr::Item(s) => ReferenceOr::Item((**s).clone()),
    }
}

/// A description's first paragraph, for a table cell.
fn first_paragraph(text: Option<&str>) -> String {
    text.unwrap_or_default()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seven components, each a `oneOf` of a hundred references to the next:
    /// 100^7 paths, walked within the step budget.
    #[test]
    fn fans_of_references_are_walked_within_a_budget() {
        let mut text = String::from(
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/S0'}\ncomponents:\n  schemas:\n",
        );
        for i in 0..7 {
            let refs = vec![format!("{{$ref: '#/components/schemas/S{}'}}", i + 1); 100].join(", ");
            text.push_str(&format!("    S{i}: {{oneOf: [{refs}]}}\n"));
        }
        text.push_str("    S7: {type: object, properties: {x: {type: string}}}\n");
        let contract = crate::loader::load(&text).unwrap();
        let started = std::time::Instant::now();
        let o = outline(&contract);
        assert!(o.truncated);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn operations_read_as_a_reference() {
        let contract = crate::loader::load(
            r#"openapi: 3.0.3
info: {title: Prices, version: 1.0.0}
security: [{oauth2: [prices:read]}]
paths:
  /prices/{sku}:
    parameters:
      - {name: sku, in: path, required: true, schema: {type: string, maxLength: 20}}
    get:
      summary: Get a price
      parameters:
        - {name: currency, in: query, schema: {type: string, enum: [EUR, USD]}}
      responses:
        '200':
          description: The price.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Price'}
components:
  schemas:
    Price:
      type: object
      required: [amount]
      properties:
        amount: {type: integer, format: int64, minimum: 0}
        tiers:
          type: array
          items:
            type: object
            properties:
              from: {type: integer}
              next: {$ref: '#/components/schemas/Price'}
"#,
        )
        .unwrap();
        let o = outline(&contract);
        assert_eq!(o.title, "Prices");
        let op = &o.operations[0];
        assert_eq!(
            (op.method.as_str(), op.path.as_str()),
            ("GET", "/prices/{sku}")
        );
        assert_eq!(op.line, Some(8));
        assert_eq!(op.security, ["oauth2: prices:read"]);
        let params: Vec<(&str, &str, bool, &str)> = op
            .parameters
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.location.as_str(),
                    p.required,
                    p.type_label.as_str(),
                )
            })
            .collect();
        assert_eq!(
            params,
            [
                ("currency", "query", false, "string, one of EUR, USD"),
                ("sku", "path", true, "string, at most 20 characters"),
            ]
        );
        let body = &op.responses[0].bodies[0];
        assert_eq!(body.type_label, "Price");
        let rows: Vec<(&str, &str, bool)> = body
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.type_label.as_str(), f.required))
            .collect();
        // The recursion through `next` is named, not expanded.
        assert_eq!(
            rows,
            [
                ("amount", "integer (int64), at least 0", true),
                ("tiers", "array of object", false),
                ("tiers[].from", "integer", false),
                ("tiers[].next", "Price", false),
            ]
        );
    }
}
