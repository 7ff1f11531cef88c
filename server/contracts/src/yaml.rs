//! YAML whose cost is bounded by its size on disk, checked before it is parsed
//! (pure: no I/O). Two shapes of a few kilobytes would otherwise cost without
//! bound:
//! - an alias makes the parser replay the anchored node, so nested aliases (a
//!   "billion laughs" document) expand to billions of nodes: serde_yaml's own
//!   repetition limit lets an 11 KB document take 2.5 GB and half a minute.
//!   [`check`] walks the document once without keeping anything and stops at a
//!   budget proportional to its length, before any tree is built;
//! - flow collections (`[[[[…`) nested many levels deep: the YAML scanner's
//!   work grows with the square of the depth (200 KB took 18 s), long before
//!   the parser's own limit of 128 levels refuses them. [`check`] counts the
//!   nesting first and refuses past [`MAX_FLOW_DEPTH`].

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Nodes a document may expand to per byte of text. Real contracts and OpenSLO
/// documents have fewer nodes than bytes, and the anchors they reuse (shared
/// error responses, merge keys) multiply that a few times at most.
const NODES_PER_BYTE: usize = 16;
/// The budget of a short document, so small files with anchors always pass.
const MIN_NODES: usize = 200_000;

/// Flow collections nested deeper than this are refused before parsing; the
/// parser itself accepts no more than 128 levels, so nothing it would read is lost.
pub const MAX_FLOW_DEPTH: usize = 256;

/// Why a YAML document was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Its aliases expand to more than `limit` nodes.
    Expansion { limit: usize },
    /// Its flow collections nest deeper than `limit`, first at this 1-based position.
    Nesting {
        limit: usize,
        line: usize,
        column: usize,
    },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Expansion { limit } => write!(
                f,
                "the document expands to more than {limit} nodes through YAML aliases; \
                 refused before parsing (write the repeated parts out, or use $ref)"
            ),
            Refused::Nesting { limit, .. } => write!(
                f,
                "flow collections ([ or {{) nest more than {limit} levels deep; refused before parsing"
            ),
        }
    }
}

impl std::error::Error for Refused {}

/// Whether `text` can be parsed at a cost bounded by its length: flow
/// collections no deeper than [`MAX_FLOW_DEPTH`], and aliases that expand to a
/// node budget proportional to its length. Syntax errors are left to the real
/// parse, which reports them with a position.
pub fn check(text: &str) -> Result<(), Refused> {
    check_nesting(text)?;
    check_expansion(text)
}

/// Follows the nesting of flow collections as the YAML scanner does, without
/// parsing. Only what happens inside a flow collection can hide a bracket from
/// this count (a block scalar or a plain scalar cannot appear there, and the
/// count never goes below zero), so the scanner's rules are followed there:
/// quoted scalars open only where a token starts (after `[`, `{`, `,`, `:`,
/// `?`, or a `!tag`/`&anchor`; a quote later in a plain scalar is text) and go
/// on across lines, `''` and `\"` stay inside them, every YAML line break
/// counts, and `#` starts a comment after white space or after a flow
/// indicator or a closing quote. Where the rules leave a doubt (a `#` after
/// `:`), openers still count and closers do not.
fn check_nesting(text: &str) -> Result<(), Refused> {
    #[derive(PartialEq, Eq, Clone, Copy)]
    enum State {
        Normal,
        Comment,
        /// A `#` that may start a comment: openers count, closers do not.
        MaybeComment,
        Single,
        Double,
        DoubleEscape,
    }
    if !text.contains(['[', '{']) {
        return Ok(());
    }
    let is_break = |c: char| matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
    let mut depth = 0usize;
    let mut state = State::Normal;
    let (mut line, mut column) = (1usize, 0usize);
    // The last character outside quotes and comments that is not white space;
    // `None` at the start (and, outside flow collections, at the start of
    // each line, where a token starts).
    let mut significant: Option<char> = None;
    let mut previous_blank = true;
    // The last token was a `!tag` or an `&anchor`, which a quoted scalar may follow.
    let mut token_first: Option<char> = None;
    let mut after_property = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        if is_break(c) {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            (line, column) = (line + 1, 0);
            if matches!(state, State::Comment | State::MaybeComment) {
                state = State::Normal;
            }
            if depth == 0 && state == State::Normal {
                significant = None;
            }
            previous_blank = true;
            after_property = matches!(token_first, Some('!' | '&'));
            token_first = None;
            continue;
        }
        match state {
            State::Comment => continue,
            State::Single => {
                if c == '\'' {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                        column += 1;
                    } else {
                        state = State::Normal;
                        significant = Some(c);
                    }
                }
                continue;
            }
            State::Double => {
                match c {
                    '\\' => state = State::DoubleEscape,
                    '"' => {
                        state = State::Normal;
                        significant = Some(c);
                    }
                    _ => {}
                }
                continue;
            }
            State::DoubleEscape => {
                state = State::Double;
                continue;
            }
            State::Normal | State::MaybeComment => {}
        }
        if c == ' ' || c == '\t' {
            if !previous_blank {
                after_property = matches!(token_first, Some('!' | '&'));
                token_first = None;
            }
            previous_blank = true;
            continue;
        }
        let token_start = previous_blank || significant.is_some_and(|s| "[]{},".contains(s));
        if token_start && token_first.is_none() {
            token_first = Some(c);
        }
        match c {
            '#' if state == State::Normal => {
                if previous_blank || significant.is_some_and(|s| "[]{},'\"".contains(s)) {
                    state = State::Comment;
                } else if significant == Some(':') {
                    state = State::MaybeComment;
                }
            }
            '\'' | '"' if state == State::Normal => {
                let starts = after_property
                    || match significant {
                        None => true,
                        Some(s) => "[{,:?-".contains(s),
                    };
                if starts {
                    state = if c == '\'' {
                        State::Single
                    } else {
                        State::Double
                    };
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(Refused::Nesting {
                        limit: MAX_FLOW_DEPTH,
                        line,
                        column,
                    });
                }
            }
            ']' | '}' if state == State::Normal => depth = depth.saturating_sub(1),
            _ => {}
        }
        if state == State::Normal || state == State::MaybeComment {
            significant = Some(c);
        }
        previous_blank = false;
        after_property = false;
    }
    Ok(())
}

/// Whether `text` stays within the node budget when its aliases are expanded.
fn check_expansion(text: &str) -> Result<(), Refused> {
    // Without an alias nothing is replayed: the node count is bounded by the text.
    if !text.contains('*') {
        return Ok(());
    }
    let limit = text.len().saturating_mul(NODES_PER_BYTE).max(MIN_NODES);
    let left = Cell::new(limit);
    let over = Cell::new(false);
    for document in serde_yaml::Deserializer::from_str(text) {
        let counted = Count {
            left: &left,
            over: &over,
        }
        .deserialize(document);
        if over.get() {
            return Err(Refused::Expansion { limit });
        }
        if counted.is_err() {
            // A syntax error, or serde_yaml's own limits: the real parse says which.
            return Ok(());
        }
    }
    Ok(())
}

/// Counts every node it is shown, keeping none, and fails once the budget is spent.
#[derive(Clone, Copy)]
struct Count<'a> {
    left: &'a Cell<usize>,
    over: &'a Cell<bool>,
}

impl Count<'_> {
    fn tick<E: de::Error>(self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(n) => {
                self.left.set(n);
                Ok(())
            }
            None => {
                self.over.set(true);
                Err(E::custom("expansion limit"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.tick()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.tick()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.tick()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.tick()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.tick()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.tick()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.deserialize(d)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged node (`!tag value`): count the tag and its value.
        self.tick()?;
        let ((), variant) = data.variant_seed(self)?;
        de::VariantAccess::newtype_variant_seed(variant, self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.tick()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.tick()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bomb(levels: usize, width: usize) -> String {
        let mut text = String::from("openapi: 3.0.3\nx-bomb:\n");
        let leaves = vec!["lol"; width].join(", ");
        text.push_str(&format!("  a0: &a0 [{leaves}]\n"));
        for i in 1..=levels {
            let refs = vec![format!("*a{}", i - 1); width].join(", ");
            text.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn deep_flow_nesting_is_refused_before_the_parser_sees_it() {
        let deep = format!("x: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        assert_eq!(
            check(&deep),
            Err(Refused::Nesting {
                limit: MAX_FLOW_DEPTH,
                line: 1,
                column: 4 + MAX_FLOW_DEPTH
            })
        );
        assert!(started.elapsed().as_millis() < 500);
        // Brackets in quoted scalars and comments are text; quotes inside a
        // plain scalar are text too, so they do not hide brackets after them.
        let quoted = format!("a: '{0}'\nb: \"{0}\"\nc: 1 # {0}\n", "[".repeat(1000));
        assert_eq!(check(&quoted), Ok(()));
        let hidden = format!("x: don't {}", "[".repeat(1000));
        assert!(matches!(check(&hidden), Err(Refused::Nesting { .. })));
        // In a flow collection a quote after a plain scalar's first word is
        // text, and the parser nests what follows it.
        let in_flow = format!("x: [a 'b {}", "[".repeat(1000));
        assert!(matches!(check(&in_flow), Err(Refused::Nesting { .. })));
        let listed = format!(
            "- '{0}'\n- key: \"{0}\"\n- [ '{0}', \"{0}\" ]\n",
            "[".repeat(1000)
        );
        assert_eq!(check(&listed), Ok(()));
        let fine = format!("x: {}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(check(&fine), Ok(()));
    }

    #[test]
    fn a_bomb_is_refused_quickly_and_real_anchors_pass() {
        // 11 KB that expands to 8 million nodes.
        let text = bomb(3, 200);
        let started = std::time::Instant::now();
        let e = check(&text).unwrap_err();
        assert!(e.to_string().contains("YAML aliases"), "{e}");
        assert!(started.elapsed().as_secs() < 5, "bounded work");
        // Anchors used the way contracts use them pass.
        let shared = "components:\n  responses:\n    E: &e {description: error}\npaths:\n  /a: {get: {responses: {'400': *e, '404': *e, '409': *e}}}\n";
        assert_eq!(check(shared), Ok(()));
        // No aliases, nothing to replay; syntax errors are the parser's to report.
        assert_eq!(check("a: [1, 2"), Ok(()));
        assert_eq!(check("a: *undefined"), Ok(()));
    }
}
