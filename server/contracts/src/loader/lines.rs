//! Maps JSON pointers to source lines by scanning the text itself (pure: no I/O).
//!
//! Neither serde_json nor serde_yaml keep positions in their value trees, and a second
//! full parser just for positions would be heavy, so this is a deliberately small,
//! forgiving scanner: block-style YAML keys and `- ` items by indentation, and a JSON
//! tokenizer. It only has to be right for ordinary documents; on anything odd it
//! records less, and [`LineIndex::line_of`] falls back to the nearest known ancestor.

use std::collections::HashMap;

use crate::resolve::escape_segment;

/// Pointer → 1-based line of the member key (or sequence item) that starts it.
///
/// Built lazily on the first lookup: diffing a large contract never asks for a line,
/// and indexing every node of a 12 MB document costs more than parsing it.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    /// Shared so that copies of a loaded contract do not copy its text; a
    /// `String` inside, so that [`LineIndex::from_text`] can take one over.
    text: std::sync::Arc<String>,
    index: std::sync::OnceLock<Scan>,
}

impl LineIndex {
    /// Keeps the text; scans it (as JSON if its first non-blank character is `{` or
    /// `[`, else as YAML) only when a line is first asked for.
    pub fn new(text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Self::from_text(text.to_string())
    }

    /// [`LineIndex::new`] without copying the text: a large contract is loaded
    /// with its text and the parsed tree in memory at once, and a second copy
    /// of the text would be a tenth of that.
    pub fn from_text(text: String) -> Self {
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        LineIndex {
            text: std::sync::Arc::new(text),
            index: std::sync::OnceLock::new(),
        }
    }

    /// Builds the index now (it is otherwise built on the first lookup), so another
    /// thread can do it while the document is parsed.
    pub fn warm(&self) {
        self.index.get_or_init(|| Scan::new(&self.text));
    }

    /// The text the index was made from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line where `pointer` (RFC 6901) starts, or where its nearest known
    /// ancestor starts; `None` only for an empty document.
    pub fn line_of(&self, pointer: &str) -> Option<u32> {
        let index = self.index.get_or_init(|| Scan::new(&self.text));
        let mut p = pointer;
        loop {
            if let Some(line) = index.lines.get(p) {
                return Some(*line);
            }
            if p.is_empty() {
                return None;
            }
            p = p.rfind('/').and_then(|i| p.get(..i)).unwrap_or("");
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Scan {
    lines: HashMap<String, u32>,
    /// Bytes of pointers that may still be recorded. Each pointer repeats its
    /// parent's, so a long key above many items, or deep nesting, would make
    /// the index grow with the square of the text; once this is spent the scan
    /// stops, and lookups fall back to the nearest recorded ancestor.
    left: usize,
}

impl Scan {
    fn new(text: &str) -> Self {
        let mut index = Scan {
            lines: HashMap::new(),
            left: text.len().saturating_mul(8).saturating_add(1 << 20),
        };
        if text.trim_start().starts_with(['{', '[']) {
            index.scan_json(text);
        } else {
            index.scan_yaml(text);
        }
        index
    }

    fn record(&mut self, pointer: String, line: u32) {
        match self.left.checked_sub(pointer.len()) {
            Some(left) => {
                self.left = left;
                self.lines.entry(pointer).or_insert(line);
            }
            None => self.left = 0,
        }
    }

    fn full(&self) -> bool {
        self.left == 0
    }

    fn scan_yaml(&mut self, text: &str) {
        let mut scanner = YamlScanner::default();
        for (n, raw_line) in text.lines().enumerate() {
            if self.full() {
                return;
            }
            let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
            scanner.line(self, raw_line, line);
        }
    }

    fn scan_json(&mut self, text: &str) {
        json_scan(self, text);
    }
}

// ---------------------------------------------------------------------------------
// YAML

#[derive(Debug, PartialEq, Eq)]
enum FrameKind {
    Map,
    Seq,
}

#[derive(Debug)]
struct Frame {
    indent: usize,
    kind: FrameKind,
    pointer: String,
    next_index: usize,
}

/// A node whose value is still open: a key or item with nothing after it on its line,
/// so the next, deeper line holds its children.
#[derive(Debug)]
struct Open {
    pointer: String,
    indent: usize,
    is_key: bool,
}

#[derive(Debug, Default)]
struct YamlScanner {
    frames: Vec<Frame>,
    open: Option<Open>,
    /// Lines indented deeper than this belong to a scalar (block scalar, multi-line
    /// plain or quoted scalar, multi-line flow collection) and carry no structure.
    skip_deeper_than: Option<usize>,
    started: bool,
}

enum Parsed {
    Structure,
    Scalar,
    Nothing,
}

impl YamlScanner {
    fn line(&mut self, index: &mut Scan, raw: &str, line: u32) {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let content = raw.trim_start().trim_end();
        if content.is_empty() || content.starts_with('#') {
            return;
        }
        if let Some(limit) = self.skip_deeper_than {
            if indent > limit {
                return;
            }
            self.skip_deeper_than = None;
        }
        if indent == 0
            && (content == "---"
                || content.starts_with("--- ")
                || content == "..."
                || content.starts_with('%'))
        {
            return;
        }
        if !self.started {
            self.started = true;
            index.record(String::new(), line);
        }
        while self.frames.last().is_some_and(|f| f.indent > indent) {
            self.frames.pop();
        }
        if self
            .frames
            .last()
            .is_some_and(|f| f.indent == indent && f.kind == FrameKind::Seq)
            && !is_dash(content)
        {
            // An indentless sequence (`key:\n- a`) ends at the next key of its map.
            self.frames.pop();
        }
        if let Parsed::Scalar | Parsed::Nothing = self.content(index, indent, content, line) {
            self.open = None;
        }
    }

    fn content(&mut self, index: &mut Scan, col: usize, s: &str, line: u32) -> Parsed {
        if s.starts_with('#') {
            return Parsed::Nothing;
        }
        if is_dash(s) {
            return self.item(index, col, s, line);
        }
        match parse_key(s) {
            Some((key, rest)) => self.key(index, col, key, rest, line),
            None => Parsed::Scalar,
        }
    }

    fn item(&mut self, index: &mut Scan, col: usize, s: &str, line: u32) -> Parsed {
        // `- - - …` nests on one line, and each level recurses: bounded as JSON is.
        if self.frames.len() >= MAX_DEPTH {
            return Parsed::Nothing;
        }
        let continues = self
            .frames
            .last()
            .is_some_and(|f| f.kind == FrameKind::Seq && f.indent == col);
        if !continues {
            let pointer = match &self.open {
                Some(o) if col > o.indent || (col == o.indent && o.is_key) => o.pointer.clone(),
                None if self.frames.is_empty() => String::new(),
                _ => return Parsed::Nothing,
            };
            self.frames.push(Frame {
                indent: col,
                kind: FrameKind::Seq,
                pointer,
                next_index: 0,
            });
        }
        let Some(frame) = self.frames.last_mut() else {
            return Parsed::Nothing;
        };
        let item_pointer = format!("{}/{}", frame.pointer, frame.next_index);
        frame.next_index += 1;
        index.record(item_pointer.clone(), line);
        self.open = Some(Open {
            pointer: item_pointer,
            indent: col,
            is_key: false,
        });
        let after = s.get(1..).unwrap_or("");
        let rest = after.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            return Parsed::Structure;
        }
        let rest_col = col + 1 + (after.len() - rest.len());
        match self.content(index, rest_col, rest, line) {
            Parsed::Scalar => {
                self.skip_deeper_than = Some(col);
                self.open = None;
                Parsed::Structure
            }
            other => other,
        }
    }

    fn key(&mut self, index: &mut Scan, col: usize, key: String, rest: &str, line: u32) -> Parsed {
        if self.frames.len() >= MAX_DEPTH {
            return Parsed::Nothing;
        }
        let sibling = self
            .frames
            .last()
            .is_some_and(|f| f.kind == FrameKind::Map && f.indent == col);
        if !sibling {
            let pointer = match &self.open {
                Some(o) if col > o.indent => o.pointer.clone(),
                None if self.frames.is_empty() => String::new(),
                _ => return Parsed::Nothing,
            };
            self.frames.push(Frame {
                indent: col,
                kind: FrameKind::Map,
                pointer,
                next_index: 0,
            });
        }
        let Some(frame) = self.frames.last() else {
            return Parsed::Nothing;
        };
        let key_pointer = format!("{}/{}", frame.pointer, escape_segment(&key));
        index.record(key_pointer.clone(), line);
        if value_is_empty(rest) {
            self.open = Some(Open {
                pointer: key_pointer,
                indent: col,
                is_key: true,
            });
        } else {
            self.open = None;
            self.skip_deeper_than = Some(col);
        }
        Parsed::Structure
    }
}

fn is_dash(s: &str) -> bool {
    s == "-" || s.starts_with("- ") || s.starts_with("-\t")
}

/// Nothing, a comment, or only anchors/tags: the value follows on deeper lines.
fn value_is_empty(rest: &str) -> bool {
    for token in rest.split_whitespace() {
        if token.starts_with('#') {
            return true;
        }
        if !(token.starts_with('&') || token.starts_with('!')) {
            return false;
        }
    }
    true
}

/// Splits `key: rest` into the unquoted key and what follows the colon.
fn parse_key(s: &str) -> Option<(String, &str)> {
    let (key, after) = if let Some(body) = s.strip_prefix('"') {
        let (key, used) = double_quoted(body)?;
        (key, body.get(used..)?)
    } else if let Some(body) = s.strip_prefix('\'') {
        let (key, used) = single_quoted(body)?;
        (key, body.get(used..)?)
    } else {
        if s.starts_with(['[', '{', '?', '|', '>', '*', '&', '!', '@', '`']) {
            return None;
        }
        let at = plain_key_end(s)?;
        let key = s.get(..at)?.trim_end();
        if key.is_empty() || key.contains(" #") {
            return None;
        }
        (key.to_string(), s.get(at..)?)
    };
    let after = after.trim_start();
    let rest = after.strip_prefix(':')?;
    if rest.is_empty() || rest.starts_with([' ', '\t']) {
        Some((key, rest))
    } else {
        None
    }
}

/// Byte offset of the `:` that ends a plain key (`: ` or a final `:`).
fn plain_key_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().find_map(|(i, b)| {
        let next = bytes.get(i + 1).copied();
        (*b == b':' && matches!(next, None | Some(b' ') | Some(b'\t'))).then_some(i)
    })
}

/// Reads a double-quoted scalar body (after the opening quote); returns the text and
/// the byte length consumed including the closing quote.
fn double_quoted(body: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'u' | 'x' | 'U' => {
                        let len = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        for _ in 0..len {
                            hex.push(chars.next()?.1);
                        }
                        let ch = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)?;
                        out.push(ch);
                    }
                    other => out.push(other),
                }
            }
            other => out.push(other),
        }
    }
    None
}

/// Like [`double_quoted`] for single quotes, where `''` is an escaped quote.
fn single_quoted(body: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some((out, i + 1));
            }
        } else {
            out.push(c);
        }
    }
    None
}

// ---------------------------------------------------------------------------------
// JSON

enum Ctx {
    Obj {
        pointer: String,
        key: Option<String>,
        expect_key: bool,
    },
    Arr {
        pointer: String,
        index: usize,
    },
}

/// Nesting indexed at most; the parsers refuse documents deeper than 128 levels.
const MAX_DEPTH: usize = 256;

fn json_scan(index: &mut Scan, text: &str) {
    let mut stack: Vec<Ctx> = Vec::new();
    let mut line: u32 = 1;
    let mut chars = text.chars().peekable();

    // Object members are recorded at their key; arrays items and the root at the
    // first character of their value.
    fn value_start(stack: &[Ctx], index: &mut Scan, line: u32) -> String {
        match stack.last() {
            None => {
                index.record(String::new(), line);
                String::new()
            }
            Some(Ctx::Obj { pointer, key, .. }) => match key {
                Some(k) => format!("{pointer}/{}", escape_segment(k)),
                None => pointer.clone(),
            },
            Some(Ctx::Arr { pointer, index: i }) => {
                let p = format!("{pointer}/{i}");
                index.record(p.clone(), line);
                p
            }
        }
    }

    // A scalar needs no pointer of its own unless it is an array item (or the
    // whole document): an object member was recorded at its key.
    fn scalar(stack: &[Ctx], index: &mut Scan, line: u32) {
        match stack.last() {
            None => index.record(String::new(), line),
            Some(Ctx::Arr { pointer, index: i }) => index.record(format!("{pointer}/{i}"), line),
            Some(Ctx::Obj { .. }) => {}
        }
    }

    while let Some(c) = chars.next() {
        if index.full() {
            return;
        }
        match c {
            '\n' => line = line.saturating_add(1),
            '{' | '[' => {
                // Each level's pointer is as long as the path to it, so indexing
                // a deeply nested document would take memory quadratic in its
                // length. No parser here accepts more than 128 levels: deeper
                // parts are left out, and their lines fall back to an ancestor's.
                if stack.len() >= MAX_DEPTH {
                    return;
                }
                let pointer = value_start(&stack, index, line);
                stack.push(if c == '{' {
                    Ctx::Obj {
                        pointer,
                        key: None,
                        expect_key: true,
                    }
                } else {
                    Ctx::Arr { pointer, index: 0 }
                });
            }
            '}' | ']' => {
                stack.pop();
            }
            ',' => match stack.last_mut() {
                Some(Ctx::Obj {
                    key, expect_key, ..
                }) => {
                    *key = None;
                    *expect_key = true;
                }
                Some(Ctx::Arr { index: i, .. }) => *i += 1,
                None => {}
            },
            ':' => {
                if let Some(Ctx::Obj { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
            }
            '"' => {
                let start_line = line;
                match stack.last_mut() {
                    Some(Ctx::Obj {
                        pointer,
                        key,
                        expect_key,
                    }) if *expect_key => {
                        let s = read_json_string(&mut chars, &mut line);
                        let p = format!("{pointer}/{}", escape_segment(&s));
                        *key = Some(s);
                        *expect_key = false;
                        index.record(p, start_line);
                    }
                    _ => {
                        // Descriptions and examples are most of a large document;
                        // their content does not matter here, only their newlines.
                        skip_json_string(&mut chars, &mut line);
                        scalar(&stack, index, start_line);
                    }
                }
            }
            c if c.is_whitespace() => {}
            _ => {
                scalar(&stack, index, line);
                while chars
                    .peek()
                    .is_some_and(|n| !(n.is_whitespace() || matches!(n, ',' | ']' | '}' | ':')))
                {
                    chars.next();
                }
            }
        }
    }
}

fn skip_json_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, line: &mut u32) {
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                chars.next();
            }
            '\n' => *line = line.saturating_add(1),
            _ => {}
        }
    }
}

fn read_json_string(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    line: &mut u32,
) -> String {
    let mut out = String::new();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('u') => {
                    let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                    let Ok(code) = u32::from_str_radix(&hex, 16) else {
                        continue;
                    };
                    if (0xD800..0xDC00).contains(&code) {
                        pending_high = Some(code);
                        continue;
                    }
                    let code = match pending_high.take() {
                        Some(high) if (0xDC00..0xE000).contains(&code) => {
                            0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                        }
                        _ => code,
                    };
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                Some(other) => out.push(other),
                None => break,
            },
            '\n' => {
                *line = line.saturating_add(1);
                out.push('\n');
            }
            other => out.push(other),
        }
    }
    out
}
