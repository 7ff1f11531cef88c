//! Rules about schemas, evaluated on the raw tree so nested schemas keep exact
//! pointers (the typed model cannot say where an inline schema was) (pure: no I/O).

use serde_json::Value;

use super::context::{Ctx, Hit, has_text, schema_sites};
use crate::resolve::{component_pointer, escape_segment};

pub(super) fn schema_description(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let Some(Value::Object(schemas)) = ctx.raw.pointer("/components/schemas") else {
        return;
    };
    for (name, s) in schemas {
        let Some(obj) = s.as_object() else { continue };
        // An alias (`Foo: {$ref: ...}`) is described by its target.
        if obj.contains_key("$ref") || has_text(obj, "description") {
            continue;
        }
        out.push(Hit::new(
            component_pointer("schemas", name),
            format!("Schema `{name}` has no description."),
        ));
    }
}

pub(super) fn enum_description(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for site in schema_sites(ctx.raw) {
        if matches!(site.schema.get("enum"), Some(Value::Array(_)))
            && !site.described_by_owner
            && !has_text(site.schema, "description")
        {
            out.push(Hit::new(
                site.pointer,
                "Enum schema has no description explaining its values.",
            ));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    Snake,
    Camel,
    /// One lower-case word: fits either style.
    Neutral,
    Other,
}

impl Naming {
    fn describe(self) -> &'static str {
        match self {
            Naming::Snake => "snake_case",
            Naming::Camel => "camelCase",
            Naming::Neutral | Naming::Other => "mixed",
        }
    }
}

/// Leading `_`, `@` and `$` are conventions of their own (`_links`, `@type`) and do not
/// decide the style.
fn naming(name: &str) -> Naming {
    let n = name.trim_start_matches(['_', '@', '$']);
    let Some(first) = n.chars().next() else {
        return Naming::Neutral;
    };
    if !first.is_ascii_lowercase() {
        return Naming::Other;
    }
    let lower_or_digit = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if n.chars().all(lower_or_digit) {
        Naming::Neutral
    } else if n.chars().all(|c| lower_or_digit(c) || c == '_') && !n.contains("__") {
        Naming::Snake
    } else if n.chars().all(|c| c.is_ascii_alphanumeric()) {
        Naming::Camel
    } else {
        Naming::Other
    }
}

pub(super) fn property_naming_consistent(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let mut props: Vec<(String, String, Naming)> = Vec::new();
    for site in schema_sites(ctx.raw) {
        if let Some(Value::Object(p)) = site.schema.get("properties") {
            for name in p.keys() {
                let at = format!("{}/properties/{}", site.pointer, escape_segment(name));
                props.push((name.clone(), at, naming(name)));
            }
        }
    }
    let snake = props.iter().filter(|p| p.2 == Naming::Snake).count();
    let camel = props.iter().filter(|p| p.2 == Naming::Camel).count();
    let main = match snake.cmp(&camel) {
        std::cmp::Ordering::Greater => Naming::Snake,
        std::cmp::Ordering::Less => Naming::Camel,
        std::cmp::Ordering::Equal => {
            // A tie goes to whichever style the document used first.
            match props
                .iter()
                .find(|p| matches!(p.2, Naming::Snake | Naming::Camel))
            {
                Some(p) => p.2,
                None => return,
            }
        }
    };
    for (name, at, style) in props {
        let message = match style {
            Naming::Snake | Naming::Camel if style != main => format!(
                "Property `{name}` is {} but the document mostly uses {}.",
                style.describe(),
                main.describe()
            ),
            Naming::Other => format!(
                "Property `{name}` is neither snake_case nor camelCase; the document mostly uses {}.",
                main.describe()
            ),
            _ => continue,
        };
        out.push(Hit::new(at, message));
    }
}
