//! A flattened, kind-independent view of one schema node (pure: no I/O).
//!
//! `openapiv3` splits schemas into typed variants (`Type::String`, …) and a
//! catch-all `AnySchema` for anything that mixes keywords, so the same
//! constraint lives in different places depending on what else the author wrote.
//! The comparison only wants to ask "what is the maxLength here?", so this module
//! copies every keyword it checks into one [`View`], merging `allOf` parts on the
//! way: properties and `required` are unioned and bounds take the tightest value,
//! which is what a validator applying every part would enforce.

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, AnySchema, IntegerFormat, NumberFormat, OpenAPI, ReferenceOr, Schema,
    SchemaKind, StringFormat, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

use super::{refs, util};

/// `allOf` nesting deeper than this is not merged further.
const MAX_ALL_OF_DEPTH: usize = 16;

/// A schema as written at some location: either a `$ref` or an inline schema.
/// One type for both `ReferenceOr<Schema>` and `ReferenceOr<Box<Schema>>`,
/// which the crate uses in different positions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SRef<'a> {
    Ref(&'a str),
    Item(&'a Schema),
}

impl<'a> From<&'a ReferenceOr<Schema>> for SRef<'a> {
    fn from(value: &'a ReferenceOr<Schema>) -> Self {
        match value {
            ReferenceOr::Reference { reference } => SRef::Ref(reference),
            ReferenceOr::Item(schema) => SRef::Item(schema),
        }
    }
}

impl<'a> From<&'a ReferenceOr<Box<Schema>>> for SRef<'a> {
    fn from(value: &'a ReferenceOr<Box<Schema>>) -> Self {
        match value {
            ReferenceOr::Reference { reference } => SRef::Ref(reference),
            ReferenceOr::Item(schema) => SRef::Item(schema),
        }
    }
}

/// A sub-schema and the pointer of where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Child<'a> {
    pub schema: SRef<'a>,
    pub ptr: String,
}

impl<'a> Child<'a> {
    pub(crate) fn new(schema: impl Into<SRef<'a>>, ptr: String) -> Self {
        Child {
            schema: schema.into(),
            ptr,
        }
    }

    pub(crate) fn reference(&self) -> Option<&'a str> {
        match self.schema {
            SRef::Ref(reference) => Some(reference),
            SRef::Item(_) => None,
        }
    }

    pub(crate) fn title(&self) -> Option<&'a str> {
        match self.schema {
            SRef::Ref(_) => None,
            SRef::Item(schema) => schema.schema_data.title.as_deref(),
        }
    }
}

/// One end of a range; `exclusive` is the OpenAPI 3.0 boolean modifier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    pub value: f64,
    pub exclusive: bool,
}

impl Bound {
    fn inclusive(value: f64) -> Self {
        Bound {
            value,
            exclusive: false,
        }
    }

    fn count(value: Option<usize>) -> Option<Self> {
        value.map(|v| Bound::inclusive(v as f64))
    }
}

/// Whether a bound limits from above or from below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Upper,
    Lower,
}

/// Every numeric limit the diff compares.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bounds {
    pub max_length: Option<Bound>,
    pub min_length: Option<Bound>,
    pub maximum: Option<Bound>,
    pub minimum: Option<Bound>,
    pub max_items: Option<Bound>,
    pub min_items: Option<Bound>,
    pub max_properties: Option<Bound>,
    pub min_properties: Option<Bound>,
}

/// The bounds as (check-id stem, keyword, side, value) rows, so that the
/// comparison can treat them uniformly.
pub(crate) type BoundRow = (&'static str, &'static str, Side, Option<Bound>);

impl Bounds {
    pub(crate) fn rows(&self) -> [BoundRow; 8] {
        [
            ("max-length", "maxLength", Side::Upper, self.max_length),
            ("min-length", "minLength", Side::Lower, self.min_length),
            ("max", "maximum", Side::Upper, self.maximum),
            ("min", "minimum", Side::Lower, self.minimum),
            ("max-items", "maxItems", Side::Upper, self.max_items),
            ("min-items", "minItems", Side::Lower, self.min_items),
            (
                "max-properties",
                "maxProperties",
                Side::Upper,
                self.max_properties,
            ),
            (
                "min-properties",
                "minProperties",
                Side::Lower,
                self.min_properties,
            ),
        ]
    }
}

/// Keeps the tighter of two bounds.
fn tighten(slot: &mut Option<Bound>, new: Option<Bound>, side: Side) {
    let Some(new) = new else { return };
    let Some(old) = *slot else {
        *slot = Some(new);
        return;
    };
    let tighter = match side {
        Side::Upper => new.value < old.value,
        Side::Lower => new.value > old.value,
    };
    if tighter || (new.value == old.value && new.exclusive) {
        *slot = Some(new);
    }
}

/// What `additionalProperties` says.
#[derive(Debug, Clone)]
pub(crate) enum Additional<'a> {
    Unset,
    Allowed(bool),
    Schema(Child<'a>),
}

impl Additional<'_> {
    /// Whether properties not listed in `properties` are accepted.
    pub(crate) fn allows_extra(&self) -> bool {
        !matches!(self, Additional::Allowed(false))
    }
}

/// The flattened schema.
#[derive(Debug, Clone)]
pub(crate) struct View<'a> {
    pub ptr: String,
    pub typ: Option<String>,
    pub format: Option<String>,
    pub nullable: bool,
    pub read_only: bool,
    pub write_only: bool,
    pub deprecated: bool,
    /// Canonical JSON texts of the non-null enum values; `None` when unrestricted.
    pub enumeration: Option<Vec<String>>,
    pub pattern: Option<String>,
    pub bounds: Bounds,
    pub properties: IndexMap<String, Child<'a>>,
    pub required: BTreeSet<String>,
    pub additional: Additional<'a>,
    pub items: Option<Child<'a>>,
    pub one_of: Vec<Child<'a>>,
    pub any_of: Vec<Child<'a>>,
    /// An OpenAPI 3.1 list of several types (`type: [string, integer]`),
    /// without `null`; empty when the schema has one type or none.
    pub type_list: Vec<String>,
}

/// Builds the view of a resolved schema defined at `ptr`.
pub(crate) fn build<'a>(doc: &'a OpenAPI, schema: &'a Schema, ptr: &str) -> View<'a> {
    let mut view = View {
        ptr: ptr.to_string(),
        typ: None,
        format: None,
        // Only the node's own `nullable` counts: in OpenAPI 3.0 `nullable` on an
        // `allOf` part does not make the combined schema accept null.
        nullable: schema.schema_data.nullable,
        read_only: false,
        write_only: false,
        deprecated: false,
        enumeration: None,
        pattern: None,
        bounds: Bounds::default(),
        properties: IndexMap::new(),
        required: BTreeSet::new(),
        additional: Additional::Unset,
        items: None,
        one_of: Vec::new(),
        any_of: Vec::new(),
        type_list: schema
            .schema_data
            .extensions
            .get(&crate::loader::stashed("type"))
            .and_then(Value::as_array)
            .map(|types| {
                types
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut seen = HashSet::new();
    seen.insert(ptr.to_string());
    fill(doc, schema, ptr, &mut view, &mut seen, 0);
    // Many documents omit `type` on objects and arrays; infer it so that adding
    // an explicit `type: object` is not reported as a type change.
    if view.typ.is_none() {
        if !view.properties.is_empty() || !matches!(view.additional, Additional::Unset) {
            view.typ = Some("object".to_string());
        } else if view.items.is_some() {
            view.typ = Some("array".to_string());
        }
    }
    view
}

/// The flags of a property schema that decide whether it takes part in a
/// direction at all.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flags {
    pub read_only: bool,
    pub write_only: bool,
    pub deprecated: bool,
}

/// Reads [`Flags`] of `child`, including its `allOf` parts, without building a
/// full view: it runs for every property on both sides.
pub(crate) fn flags(doc: &OpenAPI, child: &Child<'_>) -> Flags {
    let mut flags = Flags::default();
    if let Some(resolved) = refs::schema(doc, child.schema, &child.ptr) {
        let mut seen = HashSet::new();
        seen.insert(resolved.ptr.clone());
        collect_flags(
            doc,
            resolved.schema,
            &resolved.ptr,
            &mut flags,
            &mut seen,
            0,
        );
    }
    flags
}

fn collect_flags(
    doc: &OpenAPI,
    schema: &Schema,
    ptr: &str,
    flags: &mut Flags,
    seen: &mut HashSet<String>,
    depth: usize,
) {
    let data = &schema.schema_data;
    flags.read_only |= data.read_only;
    flags.write_only |= data.write_only;
    flags.deprecated |= data.deprecated;
    let parts = match &schema.schema_kind {
        SchemaKind::AllOf { all_of } => all_of,
        SchemaKind::Any(any) => &any.all_of,
        _ => return,
    };
    if depth >= MAX_ALL_OF_DEPTH {
        return;
    }
    for (index, part) in parts.iter().enumerate() {
        let part_ptr = format!("{ptr}/allOf/{index}");
        if let Some(resolved) = refs::schema(doc, part.into(), &part_ptr)
            && seen.insert(resolved.ptr.clone())
        {
            collect_flags(doc, resolved.schema, &resolved.ptr, flags, seen, depth + 1);
        }
    }
}

fn fill<'a>(
    doc: &'a OpenAPI,
    schema: &'a Schema,
    ptr: &str,
    view: &mut View<'a>,
    seen: &mut HashSet<String>,
    depth: usize,
) {
    let data = &schema.schema_data;
    view.read_only |= data.read_only;
    view.write_only |= data.write_only;
    view.deprecated |= data.deprecated;
    match &schema.schema_kind {
        SchemaKind::Type(typ) => fill_type(typ, ptr, view),
        SchemaKind::OneOf { one_of } => alternatives(&mut view.one_of, one_of, ptr, "oneOf"),
        SchemaKind::AnyOf { any_of } => alternatives(&mut view.any_of, any_of, ptr, "anyOf"),
        SchemaKind::AllOf { all_of } => all_of_parts(doc, all_of, ptr, view, seen, depth),
        SchemaKind::Not { .. } => {}
        SchemaKind::Any(any) => fill_any(doc, any, ptr, view, seen, depth),
    }
}

fn all_of_parts<'a>(
    doc: &'a OpenAPI,
    parts: &'a [ReferenceOr<Schema>],
    ptr: &str,
    view: &mut View<'a>,
    seen: &mut HashSet<String>,
    depth: usize,
) {
    if depth >= MAX_ALL_OF_DEPTH {
        return;
    }
    for (index, part) in parts.iter().enumerate() {
        let part_ptr = format!("{ptr}/allOf/{index}");
        if let Some(resolved) = refs::schema(doc, part.into(), &part_ptr) {
            // A part seen before on this merge (a cycle or a diamond) adds nothing.
            if seen.insert(resolved.ptr.clone()) {
                fill(doc, resolved.schema, &resolved.ptr, view, seen, depth + 1);
            }
        }
    }
}

fn alternatives<'a>(
    target: &mut Vec<Child<'a>>,
    list: &'a [ReferenceOr<Schema>],
    ptr: &str,
    key: &str,
) {
    if target.is_empty() {
        *target = list
            .iter()
            .enumerate()
            .map(|(index, schema)| Child::new(schema, format!("{ptr}/{key}/{index}")))
            .collect();
    }
}

fn set_type(view: &mut View<'_>, typ: &str) {
    if view.typ.is_none() {
        view.typ = Some(typ.to_string());
    }
}

fn set_format(view: &mut View<'_>, format: Option<String>) {
    if view.format.is_none() {
        view.format = format;
    }
}

fn set_pattern(view: &mut View<'_>, pattern: Option<&String>) {
    if view.pattern.is_none() {
        view.pattern = pattern.cloned();
    }
}

/// Intersects enum lists, since a value must satisfy every `allOf` part.
fn set_enum(view: &mut View<'_>, values: Vec<String>) {
    let mut unique: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    view.enumeration = Some(match view.enumeration.take() {
        Some(existing) => existing
            .into_iter()
            .filter(|v| unique.contains(v))
            .collect(),
        None => unique,
    });
}

fn set_properties<'a>(
    view: &mut View<'a>,
    properties: &'a IndexMap<String, ReferenceOr<Box<Schema>>>,
    required: &[String],
    ptr: &str,
) {
    for (name, schema) in properties {
        view.properties.entry(name.clone()).or_insert_with(|| {
            Child::new(
                schema,
                format!("{ptr}/properties/{}", crate::resolve::escape_segment(name)),
            )
        });
    }
    view.required.extend(required.iter().cloned());
}

fn set_additional<'a>(
    view: &mut View<'a>,
    additional: Option<&'a AdditionalProperties>,
    ptr: &str,
) {
    let Some(additional) = additional else { return };
    let new = match additional {
        AdditionalProperties::Any(allowed) => Additional::Allowed(*allowed),
        AdditionalProperties::Schema(schema) => Additional::Schema(Child::new(
            schema.as_ref(),
            format!("{ptr}/additionalProperties"),
        )),
    };
    // `false` in any part wins: the merged schema then rejects extra properties.
    match (&view.additional, &new) {
        (Additional::Unset, _) | (_, Additional::Allowed(false)) => view.additional = new,
        _ => {}
    }
}

fn set_items<'a>(view: &mut View<'a>, items: Option<&'a ReferenceOr<Box<Schema>>>, ptr: &str) {
    if view.items.is_none() {
        view.items = items.map(|schema| Child::new(schema, format!("{ptr}/items")));
    }
}

fn fill_type<'a>(typ: &'a Type, ptr: &str, view: &mut View<'a>) {
    match typ {
        Type::String(s) => {
            set_type(view, "string");
            set_format(view, string_format(&s.format));
            set_pattern(view, s.pattern.as_ref());
            if !s.enumeration.is_empty() {
                let values = s
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::String(v.clone()).to_string())
                    .collect();
                set_enum(view, values);
            }
            tighten(
                &mut view.bounds.max_length,
                Bound::count(s.max_length),
                Side::Upper,
            );
            tighten(
                &mut view.bounds.min_length,
                Bound::count(s.min_length),
                Side::Lower,
            );
        }
        Type::Number(n) => {
            set_type(view, "number");
            set_format(view, number_format(&n.format));
            if !n.enumeration.is_empty() {
                let values = n
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| util::number(*v))
                    .collect();
                set_enum(view, values);
            }
            let max = n.maximum.map(|value| Bound {
                value,
                exclusive: n.exclusive_maximum,
            });
            let min = n.minimum.map(|value| Bound {
                value,
                exclusive: n.exclusive_minimum,
            });
            tighten(&mut view.bounds.maximum, max, Side::Upper);
            tighten(&mut view.bounds.minimum, min, Side::Lower);
        }
        Type::Integer(i) => {
            set_type(view, "integer");
            set_format(view, integer_format(&i.format));
            if !i.enumeration.is_empty() {
                let values = i
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| v.to_string())
                    .collect();
                set_enum(view, values);
            }
            let max = i.maximum.map(|value| Bound {
                value: value as f64,
                exclusive: i.exclusive_maximum,
            });
            let min = i.minimum.map(|value| Bound {
                value: value as f64,
                exclusive: i.exclusive_minimum,
            });
            tighten(&mut view.bounds.maximum, max, Side::Upper);
            tighten(&mut view.bounds.minimum, min, Side::Lower);
        }
        Type::Object(o) => {
            set_type(view, "object");
            set_properties(view, &o.properties, &o.required, ptr);
            set_additional(view, o.additional_properties.as_ref(), ptr);
            tighten(
                &mut view.bounds.max_properties,
                Bound::count(o.max_properties),
                Side::Upper,
            );
            tighten(
                &mut view.bounds.min_properties,
                Bound::count(o.min_properties),
                Side::Lower,
            );
        }
        Type::Array(a) => {
            set_type(view, "array");
            set_items(view, a.items.as_ref(), ptr);
            tighten(
                &mut view.bounds.max_items,
                Bound::count(a.max_items),
                Side::Upper,
            );
            tighten(
                &mut view.bounds.min_items,
                Bound::count(a.min_items),
                Side::Lower,
            );
        }
        Type::Boolean(b) => {
            set_type(view, "boolean");
            if !b.enumeration.is_empty() {
                let values = b
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| v.to_string())
                    .collect();
                set_enum(view, values);
            }
        }
    }
}

fn fill_any<'a>(
    doc: &'a OpenAPI,
    any: &'a AnySchema,
    ptr: &str,
    view: &mut View<'a>,
    seen: &mut HashSet<String>,
    depth: usize,
) {
    if let Some(typ) = &any.typ {
        set_type(view, typ);
    }
    set_format(view, any.format.clone());
    set_pattern(view, any.pattern.as_ref());
    if !any.enumeration.is_empty() {
        set_enum(view, any.enumeration.iter().filter_map(canonical).collect());
    }
    let max = any.maximum.map(|value| Bound {
        value,
        exclusive: any.exclusive_maximum.unwrap_or(false),
    });
    let min = any.minimum.map(|value| Bound {
        value,
        exclusive: any.exclusive_minimum.unwrap_or(false),
    });
    let bounds = &mut view.bounds;
    tighten(&mut bounds.maximum, max, Side::Upper);
    tighten(&mut bounds.minimum, min, Side::Lower);
    tighten(
        &mut bounds.max_length,
        Bound::count(any.max_length),
        Side::Upper,
    );
    tighten(
        &mut bounds.min_length,
        Bound::count(any.min_length),
        Side::Lower,
    );
    tighten(
        &mut bounds.max_items,
        Bound::count(any.max_items),
        Side::Upper,
    );
    tighten(
        &mut bounds.min_items,
        Bound::count(any.min_items),
        Side::Lower,
    );
    tighten(
        &mut bounds.max_properties,
        Bound::count(any.max_properties),
        Side::Upper,
    );
    tighten(
        &mut bounds.min_properties,
        Bound::count(any.min_properties),
        Side::Lower,
    );
    set_properties(view, &any.properties, &any.required, ptr);
    set_additional(view, any.additional_properties.as_ref(), ptr);
    set_items(view, any.items.as_ref(), ptr);
    alternatives(&mut view.one_of, &any.one_of, ptr, "oneOf");
    alternatives(&mut view.any_of, &any.any_of, ptr, "anyOf");
    all_of_parts(doc, &any.all_of, ptr, view, seen, depth);
}

/// Canonical text of an enum value, so that `1`, `1.0` and an `i64` 1 compare
/// equal whichever schema variant they were parsed into. `null` is left out: it
/// is about nullability, which is compared separately.
fn canonical(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(i.to_string()),
            None => n.as_f64().map(util::number),
        },
        other => Some(other.to_string()),
    }
}

fn string_format(format: &VariantOrUnknownOrEmpty<StringFormat>) -> Option<String> {
    match format {
        VariantOrUnknownOrEmpty::Item(f) => Some(
            match f {
                StringFormat::Date => "date",
                StringFormat::DateTime => "date-time",
                StringFormat::Password => "password",
                StringFormat::Byte => "byte",
                StringFormat::Binary => "binary",
            }
            .to_string(),
        ),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

fn number_format(format: &VariantOrUnknownOrEmpty<NumberFormat>) -> Option<String> {
    match format {
        VariantOrUnknownOrEmpty::Item(NumberFormat::Float) => Some("float".to_string()),
        VariantOrUnknownOrEmpty::Item(NumberFormat::Double) => Some("double".to_string()),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

fn integer_format(format: &VariantOrUnknownOrEmpty<IntegerFormat>) -> Option<String> {
    match format {
        VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => Some("int32".to_string()),
        VariantOrUnknownOrEmpty::Item(IntegerFormat::Int64) => Some("int64".to_string()),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}
