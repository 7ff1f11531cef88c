//! YAML whose size in memory is bounded by its size on disk. An alias makes the
//! parser replay the anchored node, so a few kilobytes of nested aliases (a
//! "billion laughs" document) expand to billions of nodes: serde_yaml's own
//! repetition limit lets an 11 KB document take 2.5 GB and half a minute.
//! [`check_expansion`] walks the document once without keeping anything and
//! stops at a budget proportional to its length, before any tree is built
//! (pure: no I/O).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Nodes a document may expand to per byte of text. Real contracts and OpenSLO
/// documents have fewer nodes than bytes, and the anchors they reuse (shared
/// error responses, merge keys) multiply that a few times at most.
const NODES_PER_BYTE: usize = 16;
/// The budget of a short document, so small files with anchors always pass.
const MIN_NODES: usize = 200_000;

/// Why a YAML document was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    pub limit: usize,
}

impl fmt::Display for Expansion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the document expands to more than {} nodes through YAML aliases; \
             refused before parsing (write the repeated parts out, or use $ref)",
            self.limit
        )
    }
}

impl std::error::Error for Expansion {}

/// Whether `text` stays within the node budget when its aliases are expanded.
/// Syntax errors are left to the real parse, which reports them with a position.
pub fn check_expansion(text: &str) -> Result<(), Expansion> {
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
            return Err(Expansion { limit });
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
    fn a_bomb_is_refused_quickly_and_real_anchors_pass() {
        // 11 KB that expands to 8 million nodes.
        let text = bomb(3, 200);
        let started = std::time::Instant::now();
        let e = check_expansion(&text).unwrap_err();
        assert!(e.to_string().contains("YAML aliases"), "{e}");
        assert!(started.elapsed().as_secs() < 5, "bounded work");
        // Anchors used the way contracts use them pass.
        let shared = "components:\n  responses:\n    E: &e {description: error}\npaths:\n  /a: {get: {responses: {'400': *e, '404': *e, '409': *e}}}\n";
        assert_eq!(check_expansion(shared), Ok(()));
        // No aliases, nothing to replay; syntax errors are the parser's to report.
        assert_eq!(check_expansion("a: [1, 2"), Ok(()));
        assert_eq!(check_expansion("a: *undefined"), Ok(()));
    }
}
