//! Where in a contract a finding is, said as people read a contract rather
//! than as a JSON pointer: `/paths/~1prices~1{sku}/get/responses/200/content/
//! application~1json/schema/properties/items/items/properties/currency` reads
//! `response 200 › items[] › currency` (the operation is shown beside it).

/// A readable location for an RFC 6901 pointer into an OpenAPI document. The
/// path and method are left out (findings name their operation already); an
/// empty string means the operation or the document itself.
pub fn readable(pointer: &str) -> String {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut parts: Vec<String> = Vec::new();
    let mut rest: &[String] = &tokens;
    match rest {
        [paths, _path, method, tail @ ..] if paths == "paths" && is_method(method) => rest = tail,
        [paths, _path, tail @ ..] if paths == "paths" => rest = tail,
        [webhooks, name, _method, tail @ ..] if webhooks == "webhooks" => {
            parts.push(format!("webhook {name}"));
            rest = tail;
        }
        [components, kind, name, tail @ ..] if components == "components" => {
            let kind = match kind.as_str() {
                "schemas" => "schema",
                "parameters" => "parameter",
                "responses" => "response",
                "requestBodies" => "request body",
                "securitySchemes" => "security scheme",
                "headers" => "header",
                "examples" => "example",
                "pathItems" => "path item",
                other => other,
            };
            parts.push(format!("{kind} {name}"));
            rest = tail;
        }
        _ => {}
    }
    // Whether the last part is a name that `[]` can follow.
    let mut named = !parts.is_empty() && parts.iter().all(|p| p.starts_with("schema "));
    while let Some((head, tail)) = rest.split_first() {
        rest = tail;
        let before = parts.len();
        match (head.as_str(), tail) {
            ("parameters", [index, more @ ..]) => {
                parts.push(match index.parse::<usize>() {
                    Ok(i) => format!("parameter {}", i.saturating_add(1)),
                    Err(_) => format!("parameter {index}"),
                });
                rest = more;
            }
            ("requestBody", _) => parts.push("request body".into()),
            ("responses", [status, more @ ..]) => {
                parts.push(format!("response {status}"));
                rest = more;
            }
            ("headers", [name, more @ ..]) => {
                parts.push(format!("header {name}"));
                rest = more;
            }
            // JSON is what most contracts speak: only other media types are named.
            ("content", [media, more @ ..]) => {
                if media != "application/json" {
                    parts.push(media.clone());
                }
                rest = more;
            }
            ("properties", [name, more @ ..]) => {
                parts.push(name.clone());
                rest = more;
                named = true;
                continue;
            }
            // A property's items read as `lines[]`; an array that is a whole
            // body or schema has no name to mark.
            ("items", _) => match parts.last_mut() {
                Some(last) if named => last.push_str("[]"),
                _ => {
                    parts.push("each item".into());
                    named = false;
                    continue;
                }
            },
            ("additionalProperties", _) => parts.push("{any key}".into()),
            ("allOf" | "oneOf" | "anyOf" | "prefixItems", [index, more @ ..]) => {
                let n = index
                    .parse::<usize>()
                    .map(|i| i.saturating_add(1))
                    .unwrap_or_default();
                parts.push(format!("{head} #{n}"));
                rest = more;
            }
            ("schema", _) => {}
            ("security", _) => parts.push("security".into()),
            ("servers", _) => parts.push("servers".into()),
            (keyword, []) => parts.push(format!("({keyword})")),
            (other, _) => parts.push(other.to_string()),
        }
        if parts.len() != before {
            named = false;
        }
    }
    parts.join(" › ")
}

fn is_method(token: &str) -> bool {
    matches!(
        token,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn pointers_read_as_places_in_the_contract() {
        for (pointer, reads) in [
            (
                "/paths/~1prices~1{sku}/get/responses/200/content/application~1json/schema/properties/items/items/properties/currency",
                "response 200 › items[] › currency",
            ),
            ("/paths/~1prices~1{sku}/get/parameters/0", "parameter 1"),
            (
                "/paths/~1prices~1{sku}/get/parameters/1/schema/maxLength",
                "parameter 2 › (maxLength)",
            ),
            (
                "/paths/~1orders/post/requestBody/content/application~1json/schema/properties/lines/items/properties/qty/minimum",
                "request body › lines[] › qty › (minimum)",
            ),
            (
                "/paths/~1orders/post/requestBody/content/text~1csv/schema",
                "request body › text/csv",
            ),
            (
                "/paths/~1orders/get/responses/200/headers/X-Rate",
                "response 200 › header X-Rate",
            ),
            (
                "/components/schemas/Order/properties/total",
                "schema Order › total",
            ),
            ("/components/schemas/Tags/items/items", "schema Tags[][]"),
            (
                "/paths/~1a/get/parameters/18446744073709551615",
                "parameter 18446744073709551615",
            ),
            (
                "/paths/~1orders/get/responses/200/content/application~1json/schema/items/properties/id",
                "response 200 › each item › id",
            ),
            ("/paths/~1orders/get", ""),
            ("/paths/~1orders/get/security", "security"),
            (
                "/webhooks/stockChanged/post/requestBody/content/application~1json/schema/oneOf/1",
                "webhook stockChanged › request body › oneOf #2",
            ),
            ("", ""),
        ] {
            assert_eq!(readable(pointer), reads, "{pointer}");
        }
    }
}
