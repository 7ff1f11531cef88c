//! Turns contract text (OpenAPI 3.0.x or 3.1.x, JSON or YAML) into a [`Contract`]:
//! the typed document, the untyped tree it came from, and a [`LineIndex`] so that
//! every report can point at a line of what the user actually wrote (pure: no I/O).
//!
//! Loading is staged so that each failure gets the most useful error: syntax first
//! (with line and column from the parser), then the version (Swagger 2.0 fails with a
//! hint rather than a confusing structural error), then references (remote ones are
//! refused because this code does no I/O), and only then the typed model.
//!
//! Loading is lenient the way users need it to be: a document that parses and
//! declares `openapi` is loaded even when it breaks rules of the spec. Each broken
//! rule becomes a [`Violation`] (which lint reports at error severity) and the
//! offending member is read as empty or, failing that, left out; see [`normalise`].
//! 3.1 documents are lowered into the typed 3.0 model the same way, with what 3.0
//! cannot express kept in `x-oas31-*` extensions.

mod lines;
pub mod normalise;
pub mod shared;

pub use lines::LineIndex;
pub use normalise::{STASH, stashed};

use openapiv3::OpenAPI;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

use crate::resolve::{escape_segment, percent_decode, unescape_segment};

/// Which OpenAPI a document declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SpecVersion {
    /// 3.0.x: schemas are OpenAPI's dialect of JSON Schema draft 4/5.
    #[serde(rename = "3.0")]
    V30,
    /// 3.1.x: schemas are JSON Schema 2020-12.
    #[serde(rename = "3.1")]
    V31,
}

impl SpecVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V30 => "3.0",
            SpecVersion::V31 => "3.1",
        }
    }
}

/// A rule of the OpenAPI specification the document breaks. The loader reads past
/// it (the member is taken as empty, or left out) so the document can still be
/// compared and linted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// RFC 6901 pointer into the document as written; a missing member is named in it.
    pub pointer: String,
    pub message: String,
    /// 1-based line of the pointer, or of its nearest existing parent.
    pub line: Option<u32>,
}

/// A loaded OpenAPI 3.0.x or 3.1.x document.
#[derive(Debug, Clone)]
pub struct Contract {
    /// The typed model, for rules and diffs that think in OpenAPI terms. For 3.1
    /// documents and documents with violations, it is the normalised form.
    pub doc: OpenAPI,
    /// The document as parsed, for anything the typed model drops (unknown keys,
    /// `$ref` sites, exact pointers). Keys keep source order.
    pub raw: Value,
    /// Maps JSON pointers to 1-based source lines.
    pub lines: LineIndex,
    pub version: SpecVersion,
    /// Rules of the spec the document breaks, in document order.
    pub violations: Vec<Violation>,
}

/// The typed model alone, for callers that never report pointers into the source.
#[derive(Debug, Clone)]
pub struct Model {
    pub doc: OpenAPI,
    pub version: SpecVersion,
    pub violations: Vec<Violation>,
}

/// Why a contract could not be loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoadError {
    /// Malformed YAML or JSON. `line`/`column` are 1-based; both are 0 when the
    /// parser could not say where (for example, a YAML stream with two documents).
    Syntax {
        message: String,
        line: u32,
        column: u32,
    },
    /// Not OpenAPI 3.0.x or 3.1.x: Swagger 2.0, another version, or no `openapi` field.
    UnsupportedVersion { found: String, message: String },
    /// Parses, but cannot be read as OpenAPI even leniently (the top level is not a
    /// mapping, or a key is not a string). `pointer` is RFC 6901 and may name a
    /// missing member, in which case `line` is that of its parent.
    Invalid {
        pointer: String,
        line: Option<u32>,
        message: String,
    },
    /// A `$ref` to another file or URL; `pointer` is that of the `$ref` member.
    RemoteRef {
        pointer: String,
        reference: String,
        line: Option<u32>,
    },
    /// A local `$ref` whose target does not exist; `pointer` is that of the `$ref` member.
    UnresolvedRef {
        pointer: String,
        reference: String,
        line: Option<u32>,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Syntax {
                message,
                line,
                column,
            } => {
                if *line == 0 {
                    write!(f, "syntax error: {message}")
                } else {
                    write!(f, "syntax error at line {line}, column {column}: {message}")
                }
            }
            LoadError::UnsupportedVersion { found, message } => {
                if found.is_empty() {
                    write!(f, "{message}")
                } else {
                    write!(f, "unsupported version `{found}`: {message}")
                }
            }
            LoadError::Invalid {
                pointer,
                line,
                message,
            } => write!(
                f,
                "invalid OpenAPI document at {}{}: {message}",
                describe_pointer(pointer),
                describe_line(*line)
            ),
            LoadError::RemoteRef {
                pointer,
                reference,
                line,
            } => write!(
                f,
                "remote reference `{reference}` at {}{}: remote references are not supported; bundle the document first",
                describe_pointer(pointer),
                describe_line(*line)
            ),
            LoadError::UnresolvedRef {
                pointer,
                reference,
                line,
            } => write!(
                f,
                "reference `{reference}` at {}{} does not resolve to anything in the document",
                describe_pointer(pointer),
                describe_line(*line)
            ),
        }
    }
}

impl std::error::Error for LoadError {}

fn describe_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "the document root".to_string()
    } else {
        format!("`{pointer}`")
    }
}

fn describe_line(line: Option<u32>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// Loads an OpenAPI 3.0.x or 3.1.x document from JSON (text starting with `{`) or YAML.
///
/// Never panics; every malformed input yields a [`LoadError`].
pub fn load(text: &str) -> Result<Contract, LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = LineIndex::new(text);
    // Whoever loads a whole contract lints it, and every finding asks for a line:
    // index the text on a second core while this one parses and checks.
    let index = &lines;
    let (doc, raw, version, violations) = std::thread::scope(|scope| {
        let warm = std::thread::Builder::new()
            .stack_size(LOADER_STACK)
            .spawn_scoped(scope, move || index.warm());
        let loaded = (|| {
            let raw = parse_value(text, index)?;
            let version = check_version(&raw, index)?;
            check_refs(&raw, index)?;
            // A valid 3.0 document needs no copy: the model is read from the tree as written.
            if version == SpecVersion::V30
                && find_invalid_schema(Kind::OpenApi, &raw, "").is_none()
                && let Ok(doc) = OpenAPI::deserialize(&raw)
            {
                return Ok((doc, raw, version, Vec::new()));
            }
            let mut violations = Vec::new();
            let mut tree = raw.clone();
            normalise::normalise(&mut tree, version, &mut violations);
            let doc = repaired(tree, &mut violations, index)?;
            Ok((doc, raw, version, violations))
        })();
        if let Ok(handle) = warm {
            let _ = handle.join();
        }
        loaded
    })?;
    Ok(Contract {
        doc,
        raw,
        lines,
        version,
        violations,
    })
}

/// Deep documents recurse deeply in the parsers and the checks.
pub const LOADER_STACK: usize = 8 * 1024 * 1024;

/// Loads only the typed model, for callers that never report pointers into the
/// source and never show its prose (the diff CLI, the gateway). Same leniency and
/// errors as [`load`], but the untyped tree is consumed into the model instead of
/// kept beside it, the text is dropped once parsed, and descriptions and examples
/// are left out, so a large contract needs a fraction of the memory.
pub fn load_model(text: String) -> Result<Model, LoadError> {
    load_model_with(text, false)
}

/// [`load_model`] for the diff: repeated inline schemas are stored once
/// ([`shared`]), which divides the memory of a large contract several times.
/// Only the diff reads the shared schemas as written inline; other readers of
/// the model would see references to components that the source lacks.
pub fn load_for_diff(text: String) -> Result<Model, LoadError> {
    load_model_with(text, true)
}

fn load_model_with(text: String, share: bool) -> Result<Model, LoadError> {
    // Lines are only needed to report a failure; the index is built lazily.
    let lines = LineIndex::from_text(text);
    let body = lines.text();
    if share
        && body.trim_start().starts_with('{')
        && let Some(model) = shared_while_parsing(body, &lines)?
    {
        return Ok(model);
    }
    let mut raw = if body.trim_start().starts_with('{') {
        parse_json_without_prose(body)?
    } else {
        let mut raw = parse_value(body, &lines)?;
        strip_prose(&mut raw, &mut Vec::new());
        raw
    };
    let version = check_version(&raw, &lines)?;
    check_refs(&raw, &lines)?;
    let mut violations = Vec::new();
    if version == SpecVersion::V31 {
        normalise::normalise(&mut raw, version, &mut violations);
    }
    if find_invalid_schema(Kind::OpenApi, &raw, "").is_none() {
        if share {
            shared::share(&mut raw);
        }
        // Consuming the tree moves its strings into the model instead of copying them.
        if let Ok(doc) = serde_json::from_value::<OpenAPI>(raw) {
            located(&mut violations, &lines);
            return Ok(Model {
                doc,
                version,
                violations,
            });
        }
        // Rare: parse again, to find and read past what the model refused.
        raw = parse_value(lines.text(), &lines)?;
        violations.clear();
        if version == SpecVersion::V31 {
            normalise::normalise(&mut raw, version, &mut violations);
        }
    }
    if version == SpecVersion::V30 {
        normalise::normalise(&mut raw, version, &mut violations);
    }
    let doc = repaired(raw, &mut violations, &lines)?;
    Ok(Model {
        doc,
        version,
        violations,
    })
}

/// The fast path of [`load_for_diff`] for a valid JSON document: schemas are
/// shared while the text is parsed, so the parsed tree, the peak of a load,
/// never holds the copies. `None` when the document needs the careful path:
/// anything to report, whose pointers must be those of the source rather than
/// of a shared schema.
fn shared_while_parsing(body: &str, lines: &LineIndex) -> Result<Option<Model>, LoadError> {
    let table = RefCell::new(shared::Table::default());
    let mut raw = parse_json_lean(body, Some(&table))?;
    table.into_inner().finish(&mut raw);
    let version = check_version(&raw, lines)?;
    if check_refs(&raw, lines).is_err() {
        return Ok(None);
    }
    if version == SpecVersion::V31 {
        // A shared schema is normalised once, in its table entry; what
        // normalising finds to report needs the source's pointers.
        let mut violations = Vec::new();
        normalise::normalise(&mut raw, version, &mut violations);
        if !violations.is_empty() {
            return Ok(None);
        }
    }
    if find_invalid_schema(Kind::OpenApi, &raw, "").is_some() {
        return Ok(None);
    }
    Ok(serde_json::from_value::<OpenAPI>(raw)
        .ok()
        .map(|doc| Model {
            doc,
            version,
            violations: Vec::new(),
        }))
}

/// Parses JSON the way [`strip_prose`] leaves it, without ever holding the
/// descriptions and examples: for a large document, the parsed tree is the
/// peak of the memory a load needs.
fn parse_json_without_prose(text: &str) -> Result<Value, LoadError> {
    parse_json_lean(text, None)
}

/// [`parse_json_without_prose`], storing each inline schema of a property,
/// `items` or `additionalProperties` in `table` as soon as it is read
/// ([`shared`]), so the parsed tree never holds the copies.
fn parse_json_lean(text: &str, table: Option<&RefCell<shared::Table>>) -> Result<Value, LoadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = Lean {
        named: false,
        properties: false,
        table,
    };
    let value = serde::de::DeserializeSeed::deserialize(seed, &mut de).map_err(json_syntax)?;
    de.end().map_err(json_syntax)?;
    Ok(value)
}

fn json_syntax(e: serde_json::Error) -> LoadError {
    LoadError::Syntax {
        message: strip_position(e.to_string()),
        line: to_u32(e.line()),
        column: to_u32(e.column()),
    }
}

/// Builds a JSON value while leaving out prose; `named` says the mapping being
/// read has names chosen by the author as keys (`properties`, `paths`, …),
/// `properties` that it is a `properties` keyword, whose members are schemas.
#[derive(Clone, Copy)]
struct Lean<'t> {
    named: bool,
    properties: bool,
    table: Option<&'t RefCell<shared::Table>>,
}

impl Lean<'_> {
    fn child(self, named: bool, properties: bool) -> Self {
        Lean {
            named,
            properties,
            table: self.table,
        }
    }

    /// `v`, or a reference to it in the shared table if it is a schema there.
    fn shared(self, v: Value) -> Value {
        match self.table {
            Some(table) if shared::is_inline_schema(&v) => table.borrow_mut().reference(v),
            _ => v,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Lean<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Lean<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(self.child(false, false))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.named {
                let v = map.next_value_seed(self.child(false, false))?;
                let v = if self.properties { self.shared(v) } else { v };
                out.insert(key, v);
                continue;
            }
            match key.as_str() {
                "example" | "examples" => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                "description" => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    out.insert(key, Value::String(String::new()));
                }
                // The diff reads a few extensions; GitHub's description carries
                // megabytes of others (`x-webhooks`, `x-github`).
                k if self.table.is_some() && !shared::read_by_diff(k) => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                k if is_payload(k, &[]) => {
                    let v = map.next_value::<Value>()?;
                    out.insert(key, v);
                }
                k => {
                    let named = NAMED_MAPS.contains(&k);
                    let v = map.next_value_seed(self.child(named, k == "properties"))?;
                    let v = if matches!(k, "items" | "additionalProperties") {
                        self.shared(v)
                    } else {
                        v
                    };
                    out.insert(key, v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Empties descriptions and removes examples, which nothing that uses the bare
/// model reads; in descriptions such as GitHub's they are most of the text.
/// Names chosen by the author (a property called `example`) are kept, and
/// payload values (`default`, `enum`, extensions) are not entered.
pub(crate) fn strip_prose(v: &mut Value, segments: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let named = segments
                .last()
                .is_some_and(|p| NAMED_MAPS.contains(&p.as_str()));
            if !named {
                map.shift_remove("example");
                map.shift_remove("examples");
                if let Some(Value::String(d)) = map.get_mut("description") {
                    *d = String::new();
                }
            }
            for (key, child) in map.iter_mut() {
                if !named && is_payload(key, segments) {
                    continue;
                }
                segments.push(key.clone());
                strip_prose(child, segments);
                segments.pop();
            }
        }
        Value::Array(items) => {
            for item in items {
                strip_prose(item, segments);
            }
        }
        _ => {}
    }
}

/// Past this many violations a document is not OpenAPI with mistakes but something
/// else, and reading past each one would cost a full pass of the document.
const MAX_VIOLATIONS: usize = 200;

/// Reads a normalised tree into the model, leaving out each node the model still
/// refuses (recorded as a violation), until it is accepted.
fn repaired(
    mut tree: Value,
    violations: &mut Vec<Violation>,
    lines: &LineIndex,
) -> Result<OpenAPI, LoadError> {
    // Items of lists are first replaced by a reference to nothing rather than
    // removed, so the pointers of their siblings stay those of the source.
    let mut replaced: Vec<String> = Vec::new();
    loop {
        let failure = match find_invalid_schema(Kind::OpenApi, &tree, "") {
            Some(found) => found,
            None => match OpenAPI::deserialize(&tree) {
                Ok(doc) => {
                    located(violations, lines);
                    return Ok(doc);
                }
                Err(e) => find_invalid(Kind::OpenApi, &tree, "")
                    .unwrap_or_else(|| (String::new(), e.to_string())),
            },
        };
        let (pointer, message) = failure;
        // A missing member names itself in the pointer; what is left out is its owner.
        let node: &str = if message.starts_with("missing field") {
            parent_pointer(&pointer)
        } else {
            &pointer
        };
        let left_out = if replaced.iter().any(|r| r == node) {
            remove_at(&mut tree, node)
        } else if let Some(item) = list_item(&mut tree, node) {
            *item = LEFT_OUT.clone();
            replaced.push(node.to_string());
            true
        } else {
            remove_at(&mut tree, node)
        };
        if violations.len() >= MAX_VIOLATIONS || node.is_empty() || !left_out {
            return Err(LoadError::Invalid {
                line: lines.line_of(&pointer),
                pointer,
                message,
            });
        }
        let message = format!("{message}; left out");
        if violations
            .iter()
            .any(|v| v.pointer == node && v.message == message)
        {
            continue;
        }
        violations.push(Violation {
            message,
            line: None,
            pointer: node.to_string(),
        });
    }
}

/// A reference nothing resolves to: the typed model accepts it wherever a list
/// holds references or items, and every consumer skips what it cannot resolve.
static LEFT_OUT: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| serde_json::json!({"$ref": "#/x-steward-left-out"}));

/// The list item `pointer` names, if it names one.
fn list_item<'a>(tree: &'a mut Value, pointer: &str) -> Option<&'a mut Value> {
    let parent = parent_pointer(pointer);
    let index: usize = pointer[parent.len()..].strip_prefix('/')?.parse().ok()?;
    match tree.pointer_mut(parent)? {
        Value::Array(items) => items.get_mut(index),
        _ => None,
    }
}

fn parent_pointer(pointer: &str) -> &str {
    pointer.rfind('/').map_or("", |at| &pointer[..at])
}

/// Removes the member or item `pointer` names; false if there is none.
fn remove_at(tree: &mut Value, pointer: &str) -> bool {
    let parent = parent_pointer(pointer);
    let last = unescape_segment(pointer[parent.len()..].strip_prefix('/').unwrap_or(""));
    match tree.pointer_mut(parent) {
        Some(Value::Object(map)) => map.shift_remove(&last).is_some(),
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn located(violations: &mut [Violation], lines: &LineIndex) {
    for v in violations {
        v.line = lines.line_of(&v.pointer);
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Parser messages repeat the position we already report in fields; drop it once so
/// the Display sentence does not say it twice.
/// The parser's message without the positions it writes into it (" at line
/// L column C", for the error and for the context it was in): the error's
/// position travels as fields, and is said once.
fn strip_position(message: String) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    while let Some(at) = rest.find(" at line ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " at line ".len()..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let line_digits = digits(after);
        let tail = &after[line_digits..];
        match tail.strip_prefix(" column ") {
            Some(column) if line_digits > 0 && digits(column) > 0 => {
                rest = &column[digits(column)..];
            }
            _ => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_value(text: &str, lines: &LineIndex) -> Result<Value, LoadError> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str::<Value>(text).map_err(json_syntax);
    }
    crate::yaml::check(text).map_err(|e| {
        let (line, column) = match e {
            crate::yaml::Refused::Nesting { line, column, .. } => (to_u32(line), to_u32(column)),
            crate::yaml::Refused::Expansion { .. } => (0, 0),
        };
        LoadError::Syntax {
            message: e.to_string(),
            line,
            column,
        }
    })?;
    let mut yaml = serde_yaml::from_str::<serde_yaml::Value>(text).map_err(yaml_syntax)?;
    yaml.apply_merge().map_err(yaml_syntax)?;
    let mut segments = Vec::new();
    yaml_to_json(yaml, &mut segments, lines)
}

fn yaml_syntax(e: serde_yaml::Error) -> LoadError {
    match e.location() {
        Some(loc) => LoadError::Syntax {
            message: strip_position(e.to_string()),
            line: to_u32(loc.line()),
            column: to_u32(loc.column()),
        },
        None => LoadError::Syntax {
            message: e.to_string(),
            line: 0,
            column: 0,
        },
    }
}

fn pointer_of(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", escape_segment(s)))
        .collect()
}

/// YAML allows non-string keys (`200:` is an integer) and non-finite floats, which JSON
/// cannot hold; scalar keys become their text, complex keys are refused.
fn yaml_to_json(
    v: serde_yaml::Value,
    segments: &mut Vec<String>,
    lines: &LineIndex,
) -> Result<Value, LoadError> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                segments.push(i.to_string());
                out.push(yaml_to_json(item, segments, lines)?);
                segments.pop();
            }
            Value::Array(out)
        }
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, item) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    Y::Tagged(t) => match t.value {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        _ => return Err(complex_key(segments, lines)),
                    },
                    Y::Sequence(_) | Y::Mapping(_) => return Err(complex_key(segments, lines)),
                };
                segments.push(key.clone());
                let value = yaml_to_json(item, segments, lines)?;
                segments.pop();
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value, segments, lines)?,
    })
}

fn yaml_number(n: &serde_yaml::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()))
    }
}

fn complex_key(segments: &[String], lines: &LineIndex) -> LoadError {
    let pointer = pointer_of(segments);
    LoadError::Invalid {
        line: lines.line_of(&pointer),
        pointer,
        message: "mapping keys must be strings; complex YAML keys are not supported".to_string(),
    }
}

fn check_version(raw: &Value, lines: &LineIndex) -> Result<SpecVersion, LoadError> {
    let Some(root) = raw.as_object() else {
        return Err(LoadError::Invalid {
            pointer: String::new(),
            line: lines.line_of(""),
            message: "the document must be a mapping (object) at the top level".to_string(),
        });
    };
    match root.get("openapi") {
        Some(Value::String(v)) => {
            if v == "3.0" || v.starts_with("3.0.") {
                Ok(SpecVersion::V30)
            } else if v == "3.1" || v.starts_with("3.1.") {
                Ok(SpecVersion::V31)
            } else {
                Err(LoadError::UnsupportedVersion {
                    found: v.clone(),
                    message: "only OpenAPI 3.0.x and 3.1.x documents are supported".to_string(),
                })
            }
        }
        Some(other) => Err(LoadError::Invalid {
            pointer: "/openapi".to_string(),
            line: lines.line_of("/openapi"),
            message: format!(
                "`openapi` must be a string such as \"3.1.0\" (quote it in YAML), found {other}"
            ),
        }),
        None => match root.get("swagger") {
            Some(v) => Err(LoadError::UnsupportedVersion {
                found: match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                message: "Swagger 2.0 documents are not supported; convert to OpenAPI 3.x"
                    .to_string(),
            }),
            None => Err(LoadError::UnsupportedVersion {
                found: String::new(),
                message: "the document has no `openapi` field; expected an OpenAPI 3.0.x or 3.1.x document"
                    .to_string(),
            }),
        },
    }
}

/// Members whose keys are names chosen by the author (`responses: {default: ...}`,
/// `properties: {example: ...}`, `schemas: {enum: ...}`), never payload keywords.
const NAMED_MAPS: [&str; 16] = [
    "paths",
    "properties",
    "responses",
    "schemas",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
    "content",
    "encoding",
    "variables",
    "mapping",
    "scopes",
];

/// Whether the member `key` (under the given ancestor keys) holds free-form data rather
/// than OpenAPI structure, so a `"$ref"` inside it is payload, not a reference.
pub(crate) fn is_payload(key: &str, segments: &[String]) -> bool {
    let parent = segments.last().map(String::as_str);
    let grandparent = segments
        .len()
        .checked_sub(2)
        .and_then(|i| segments.get(i))
        .map(String::as_str);
    if parent.is_some_and(|p| NAMED_MAPS.contains(&p)) {
        return false;
    }
    matches!(key, "example" | "default" | "enum")
        || key.starts_with("x-")
        || (key == "value" && grandparent == Some("examples"))
}

/// Resolves a local reference (`#/...`) against the raw document.
pub(crate) fn resolve_local<'a>(raw: &'a Value, reference: &str) -> Option<&'a Value> {
    let fragment = reference.strip_prefix('#')?;
    raw.pointer(fragment)
        .or_else(|| raw.pointer(&percent_decode(fragment)))
}

fn check_refs(raw: &Value, lines: &LineIndex) -> Result<(), LoadError> {
    let mut segments = Vec::new();
    walk_refs(raw, raw, &mut segments, lines)
}

fn walk_refs(
    raw: &Value,
    v: &Value,
    segments: &mut Vec<String>,
    lines: &LineIndex,
) -> Result<(), LoadError> {
    match v {
        Value::Object(map) => {
            for (key, child) in map {
                if is_payload(key, segments) {
                    continue;
                }
                if key == "$ref"
                    && let Value::String(reference) = child
                {
                    let remote = !reference.starts_with('#');
                    if !remote && resolve_local(raw, reference).is_some() {
                        continue;
                    }
                    // Only a failure pays for a pointer and a line lookup: the line
                    // index is built lazily and costs more than the walk itself.
                    segments.push(key.clone());
                    let pointer = pointer_of(segments);
                    segments.pop();
                    let line = lines.line_of(&pointer);
                    let reference = reference.clone();
                    return Err(if remote {
                        LoadError::RemoteRef {
                            pointer,
                            reference,
                            line,
                        }
                    } else {
                        LoadError::UnresolvedRef {
                            pointer,
                            reference,
                            line,
                        }
                    });
                }
                segments.push(key.clone());
                let r = walk_refs(raw, child, segments, lines);
                segments.pop();
                r?;
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                segments.push(i.to_string());
                let r = walk_refs(raw, child, segments, lines);
                segments.pop();
                r?;
            }
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Structural validation.
//
// openapiv3 flattens extensions into almost every struct, and serde buffers flattened
// structs, so serde_path_to_error loses track below the first level. To still point at
// the offending node we descend: when a node fails, we try each child with the type the
// spec gives it, and report the deepest node that fails on its own.

#[derive(Clone, Copy)]
enum Kind {
    OpenApi,
    Info,
    Server,
    Paths,
    PathItem,
    Operation,
    Parameter,
    RequestBody,
    Responses,
    Response,
    MediaType,
    Encoding,
    Schema,
    Header,
    Example,
    Link,
    Callback,
    SecurityScheme,
    SecurityRequirement,
    Tag,
    Components,
}

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

type Failure = (Vec<String>, String);

fn try_de<T: DeserializeOwned>(v: &Value) -> Result<(), Failure> {
    // Nearly every node is valid: check it the fast way, and track the path only
    // for the one that is not.
    if T::deserialize(v).is_ok() {
        return Ok(());
    }
    match serde_path_to_error::deserialize::<_, T>(v) {
        Ok(_) => Ok(()),
        Err(e) => {
            let segments = e
                .path()
                .iter()
                .filter_map(|s| match s {
                    serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                    serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                    _ => None,
                })
                .collect();
            Err((segments, e.inner().to_string()))
        }
    }
}

fn check_kind(kind: Kind, v: &Value) -> Result<(), Failure> {
    use openapiv3 as o;
    type R<T> = o::ReferenceOr<T>;
    match kind {
        Kind::OpenApi => try_de::<o::OpenAPI>(v),
        Kind::Info => try_de::<o::Info>(v),
        Kind::Server => try_de::<o::Server>(v),
        Kind::Paths => try_de::<o::Paths>(v),
        Kind::PathItem => try_de::<R<o::PathItem>>(v),
        Kind::Operation => try_de::<o::Operation>(v),
        Kind::Parameter => try_de::<R<o::Parameter>>(v),
        Kind::RequestBody => try_de::<R<o::RequestBody>>(v),
        Kind::Responses => try_de::<o::Responses>(v),
        Kind::Response => try_de::<R<o::Response>>(v),
        Kind::MediaType => try_de::<o::MediaType>(v),
        Kind::Encoding => try_de::<o::Encoding>(v),
        Kind::Schema => try_de::<R<o::Schema>>(v),
        Kind::Header => try_de::<R<o::Header>>(v),
        Kind::Example => try_de::<R<o::Example>>(v),
        Kind::Link => try_de::<R<o::Link>>(v),
        Kind::Callback => try_de::<R<o::Callback>>(v),
        Kind::SecurityScheme => try_de::<R<o::SecurityScheme>>(v),
        Kind::SecurityRequirement => try_de::<o::SecurityRequirement>(v),
        Kind::Tag => try_de::<o::Tag>(v),
        Kind::Components => try_de::<o::Components>(v),
    }
}

/// Where a child sits below its parent: one or two pointer segments.
#[derive(Clone, Copy)]
enum Below<'a> {
    Key(&'a str),
    Item(&'a str, usize),
    Entry(&'a str, &'a str),
}

impl Below<'_> {
    fn push_to(self, pointer: &mut String) {
        let mut seg = |s: &str| {
            pointer.push('/');
            for c in s.chars() {
                match c {
                    '~' => pointer.push_str("~0"),
                    '/' => pointer.push_str("~1"),
                    c => pointer.push(c),
                }
            }
        };
        match self {
            Below::Key(k) => seg(k),
            Below::Item(k, i) => {
                seg(k);
                seg(&i.to_string());
            }
            Below::Entry(k, name) => {
                seg(k);
                seg(name);
            }
        }
    }
}

/// The typed children of a node, as (position below the node, kind, value).
fn children(kind: Kind, v: &Value) -> Vec<(Below<'_>, Kind, &Value)> {
    let mut out = Vec::new();
    let Some(obj) = v.as_object() else {
        return out;
    };
    if obj.contains_key("$ref") {
        return out;
    }
    let mut fields: Vec<(&str, Kind)> = Vec::new();
    let mut lists: Vec<(&str, Kind)> = Vec::new();
    let mut maps: Vec<(&str, Kind)> = Vec::new();
    match kind {
        Kind::OpenApi => {
            fields.extend([
                ("info", Kind::Info),
                ("paths", Kind::Paths),
                ("components", Kind::Components),
            ]);
            lists.extend([
                ("servers", Kind::Server),
                ("security", Kind::SecurityRequirement),
                ("tags", Kind::Tag),
            ]);
        }
        Kind::Paths => {
            for (key, c) in obj {
                if key.starts_with('/') {
                    out.push((Below::Key(key), Kind::PathItem, c));
                }
            }
        }
        Kind::PathItem => {
            for m in METHODS {
                fields.push((m, Kind::Operation));
            }
            lists.extend([("parameters", Kind::Parameter), ("servers", Kind::Server)]);
        }
        Kind::Operation => {
            fields.extend([
                ("requestBody", Kind::RequestBody),
                ("responses", Kind::Responses),
            ]);
            lists.extend([
                ("parameters", Kind::Parameter),
                ("security", Kind::SecurityRequirement),
                ("servers", Kind::Server),
            ]);
            maps.push(("callbacks", Kind::Callback));
        }
        Kind::Callback => {
            for (key, c) in obj {
                out.push((Below::Key(key), Kind::PathItem, c));
            }
        }
        Kind::Responses => {
            for (key, c) in obj {
                if !key.starts_with("x-") {
                    out.push((Below::Key(key), Kind::Response, c));
                }
            }
        }
        Kind::Response => {
            maps.extend([
                ("headers", Kind::Header),
                ("content", Kind::MediaType),
                ("links", Kind::Link),
            ]);
        }
        Kind::RequestBody => maps.push(("content", Kind::MediaType)),
        Kind::MediaType => {
            fields.push(("schema", Kind::Schema));
            maps.extend([("examples", Kind::Example), ("encoding", Kind::Encoding)]);
        }
        Kind::Encoding => maps.push(("headers", Kind::Header)),
        Kind::Parameter | Kind::Header => {
            fields.push(("schema", Kind::Schema));
            maps.extend([("content", Kind::MediaType), ("examples", Kind::Example)]);
        }
        Kind::Schema => {
            fields.extend([("items", Kind::Schema), ("not", Kind::Schema)]);
            if obj
                .get("additionalProperties")
                .is_some_and(Value::is_object)
            {
                fields.push(("additionalProperties", Kind::Schema));
            }
            lists.extend([
                ("allOf", Kind::Schema),
                ("oneOf", Kind::Schema),
                ("anyOf", Kind::Schema),
            ]);
            maps.push(("properties", Kind::Schema));
        }
        Kind::Components => {
            maps.extend([
                ("schemas", Kind::Schema),
                ("responses", Kind::Response),
                ("parameters", Kind::Parameter),
                ("examples", Kind::Example),
                ("requestBodies", Kind::RequestBody),
                ("headers", Kind::Header),
                ("securitySchemes", Kind::SecurityScheme),
                ("links", Kind::Link),
                ("callbacks", Kind::Callback),
            ]);
        }
        Kind::Info
        | Kind::Server
        | Kind::Example
        | Kind::Link
        | Kind::SecurityScheme
        | Kind::SecurityRequirement
        | Kind::Tag => {}
    }
    for (key, k) in fields {
        if let Some((key, c)) = obj.get_key_value(key) {
            out.push((Below::Key(key), k, c));
        }
    }
    for (key, k) in lists {
        if let Some((key, Value::Array(items))) = obj.get_key_value(key) {
            for (i, c) in items.iter().enumerate() {
                out.push((Below::Item(key, i), k, c));
            }
        }
    }
    for (key, k) in maps {
        if let Some((key, Value::Object(entries))) = obj.get_key_value(key) {
            for (name, c) in entries {
                out.push((Below::Entry(key, name), k, c));
            }
        }
    }
    out
}

/// Returns the pointer and message of the deepest node that fails to deserialize.
fn find_invalid(kind: Kind, v: &Value, pointer: &str) -> Option<(String, String)> {
    let (segments, message) = check_kind(kind, v).err()?;
    for (below, child_kind, child) in children(kind, v) {
        let mut child_pointer = pointer.to_string();
        below.push_to(&mut child_pointer);
        if let Some(found) = find_invalid(child_kind, child, &child_pointer) {
            return Some(found);
        }
    }
    Some(failure_at(pointer, &segments, message))
}

/// A copy of a schema node with every nested schema replaced by `{}` (the empty,
/// always-valid schema), so it can be checked in time proportional to its own size.
fn shallow_schema(v: &Value) -> Value {
    let Some(obj) = v.as_object() else {
        return v.clone();
    };
    if obj.contains_key("$ref") {
        return v.clone();
    }
    let placeholder = |c: &Value| {
        if c.is_object() {
            Value::Object(Map::new())
        } else {
            c.clone()
        }
    };
    let mut out = Map::new();
    for (key, c) in obj {
        let shallow = match (key.as_str(), c) {
            ("properties", Value::Object(props)) => Value::Object(
                props
                    .iter()
                    .map(|(name, p)| (name.clone(), placeholder(p)))
                    .collect(),
            ),
            ("items" | "not" | "additionalProperties", c) => placeholder(c),
            ("allOf" | "oneOf" | "anyOf", Value::Array(parts)) => {
                Value::Array(parts.iter().map(placeholder).collect())
            }
            (_, c) => c.clone(),
        };
        out.insert(key.clone(), shallow);
    }
    Value::Object(out)
}

/// Checks every schema on its own, outermost first, before the whole document is
/// deserialized. openapiv3 retries a failed `ReferenceOr` once more to produce its
/// error message, so a failure nested n schemas deep costs 2^n; checking shallow
/// copies keeps an invalid, deeply nested schema linear instead of hanging the loader.
fn find_invalid_schema(kind: Kind, v: &Value, pointer: &str) -> Option<(String, String)> {
    let mut at = pointer.to_string();
    find_invalid_schema_at(kind, v, &mut at)
}

/// `pointer` is a reused buffer: children append to it and truncate it back, so the
/// walk allocates only when it reports.
fn find_invalid_schema_at(kind: Kind, v: &Value, pointer: &mut String) -> Option<(String, String)> {
    if let Kind::Schema = kind
        && let Err((segments, message)) = check_kind(Kind::Schema, &shallow_schema(v))
    {
        return Some(failure_at(pointer, &segments, message));
    }
    let len = pointer.len();
    for (below, child_kind, child) in children(kind, v) {
        below.push_to(pointer);
        let found = find_invalid_schema_at(child_kind, child, pointer);
        pointer.truncate(len);
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The pointer to report for a failure `segments` below `pointer`; a missing field is
/// named in the pointer itself, so that it reads like the spec's `.../responses`.
fn failure_at(pointer: &str, segments: &[String], message: String) -> (String, String) {
    let mut at = format!("{pointer}{}", pointer_of(segments));
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        at.push('/');
        at.push_str(&escape_segment(field));
    }
    (at, message)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod phase_timing {
    /// Run with `cargo test --release -p steward-contracts --lib phase_timing -- --ignored --nocapture`
    /// and STEWARD_BENCH_SPEC pointing at a large contract.
    #[test]
    #[ignore = "manual profiling aid"]
    fn phases() {
        let Ok(path) = std::env::var("STEWARD_BENCH_SPEC") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let t = std::time::Instant::now();
        let lines = super::LineIndex::new(&text);
        println!("line index (lazy): {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let raw = super::parse_value(&text, &lines).unwrap();
        println!("parse value: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        super::check_refs(&raw, &lines).unwrap();
        println!("check refs: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let invalid = super::find_invalid_schema(super::Kind::OpenApi, &raw, "");
        println!(
            "schema pre-check: {:?} {:?}",
            t.elapsed(),
            invalid.is_some()
        );
        let t = std::time::Instant::now();
        let doc: openapiv3::OpenAPI = serde_path_to_error::deserialize(&raw).unwrap();
        println!(
            "typed deserialize: {:?} ({} paths)",
            t.elapsed(),
            doc.paths.paths.len()
        );
        let t = std::time::Instant::now();
        let _ = lines.line_of("/paths");
        println!("line index build: {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let c = super::load(&text).unwrap();
        println!("load total: {:?}", t.elapsed());
        println!("({} paths)", c.doc.paths.paths.len());
    }
}
