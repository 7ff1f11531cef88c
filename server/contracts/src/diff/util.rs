//! Small string helpers shared by the diff modules: path-template normalisation
//! and sentence formatting.

/// `/orders/{orderId}/items/{id}` → `/orders/{}/items/{}`.
///
/// Two paths that differ only in variable names serve the same URLs, so they are
/// the same endpoint: renaming a variable must not read as removing a path.
/// An unclosed `{` is kept literally, as the server would have to match it as such.
pub(crate) fn normalize_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let (before, from_open) = rest.split_at(open);
        out.push_str(before);
        match from_open.find('}') {
            Some(close) => {
                out.push_str("{}");
                rest = from_open.get(close + 1..).unwrap_or("");
            }
            None => {
                out.push_str(from_open);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The template variable names of a path, in order of appearance, so that path
/// parameters can be matched by position rather than by name.
pub(crate) fn path_vars(path: &str) -> Vec<String> {
    let mut vars = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = rest.get(open + 1..).unwrap_or("");
        match after.find('}') {
            Some(close) => {
                vars.push(after.get(..close).unwrap_or("").to_string());
                rest = after.get(close + 1..).unwrap_or("");
            }
            None => break,
        }
    }
    vars
}

/// Upper-cases the first character, for sentences that start with a subject
/// phrase such as "the request body".
pub(crate) fn cap(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Renders a number the way it was most likely written: `5` rather than `5.0`.
pub(crate) fn number(value: f64) -> String {
    // Within ±2^53 every integral f64 converts to i64 exactly.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Quotes a name from the document for use in a sentence.
pub(crate) fn code(name: &str) -> String {
    format!("`{}`", name.replace('`', "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_templates() {
        assert_eq!(normalize_path("/orders/{id}"), "/orders/{}");
        assert_eq!(normalize_path("/a/{x}/b/{y}"), "/a/{}/b/{}");
        assert_eq!(normalize_path("/a/{x"), "/a/{x");
        assert_eq!(normalize_path("/plain"), "/plain");
        assert_eq!(path_vars("/a/{x}/b/{y}"), vec!["x", "y"]);
        assert_eq!(path_vars("/a/{x"), Vec::<String>::new());
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(number(5.0), "5");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(cap("the body"), "The body");
        assert_eq!(cap(""), "");
    }
}
