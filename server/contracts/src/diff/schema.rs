//! Comparison of two schemas in a given direction (pure: no I/O).
//!
//! Both sides are resolved and flattened into [`View`]s, then compared keyword by
//! keyword. Each check asks whether the revision accepts (request) or may
//! produce (response) a different set of values: narrowing a request or
//! widening a response is what breaks clients. Ids follow oasdiff's prefixes:
//! `request-body-*` / `response-body-*` at the root of a body,
//! `request-property-*` / `response-property-*` below it, and
//! `request-parameter-*` / `response-header-*` for parameters and headers.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

use super::refs::{self, Resolved};
use super::sunset::{self, Transition};
use super::util::{cap, code, number};
use super::view::{self, Additional, Bound, Child, Flags, Side, View};
use super::{Edge, MemoKey, Node, OpCtx, Scope};
use steward_model::Level;

/// Schema pairs compared for one root before giving up. The memo already makes
/// the walk finite (pairs of nodes that exist in the two documents); this only
/// bounds the time an adversarial document can take.
const MAX_STEPS: usize = 200_000;

/// Schema pairs compared for the whole diff: every property path is walked, so
/// a document built to have exponentially many paths stops here.
const MAX_TOTAL_STEPS: usize = 5_000_000;

/// Property paths one schema pair is walked along, per root. Real documents
/// reach a shared component along a few dozen paths at most (GitHub's `simple-user`
/// in one response); a graph built so that paths multiply is cut off here, which
/// keeps the walk linear in the document.
const MAX_PATHS_PER_PAIR: u32 = 64;

/// The id prefixes of changes below a hidden property ([`Loc::hidden`]).
pub(crate) const HIDDEN_IN_REQUEST: &str = "request-read-only-property";
pub(crate) const HIDDEN_IN_RESPONSE: &str = "response-write-only-property";

/// The id to report a change below a hidden property under, if `id` is one:
/// oasdiff names the changes that would break a client if it could see the
/// property (`request-read-only-property-max-decreased`) and reports the others
/// under the usual ids. Either way a client cannot notice, so the caller
/// reports them at info.
pub(crate) fn hidden_id(id: &str) -> Option<String> {
    let (rest, usual) = if let Some(rest) = id.strip_prefix(HIDDEN_IN_REQUEST) {
        (rest, "request-property")
    } else {
        (id.strip_prefix(HIDDEN_IN_RESPONSE)?, "response-property")
    };
    Some(if crate::catalogue::find(id).is_some() {
        id.to_string()
    } else {
        format!("{usual}{rest}")
    })
}

/// A pair of schemas waiting to be compared.
struct Task<'a> {
    loc: Loc,
    base: Child<'a>,
    rev: Child<'a>,
    /// The pair's memo key when already known, which saves resolving it.
    key: Option<MemoKey>,
    /// The pairs above this one on its property path; set when it is queued.
    trail: Trail,
}

/// The schema pairs from the root down to a task, newest first: a pair that is
/// its own ancestor is a recursive schema, and is not walked again.
type Trail = Option<Rc<TrailNode>>;

struct TrailNode {
    key: MemoKey,
    up: Trail,
}

fn on_trail(trail: &Trail, key: &MemoKey) -> bool {
    let mut at = trail.as_deref();
    while let Some(node) = at {
        if &node.key == key {
            return true;
        }
        at = node.up.as_deref();
    }
    false
}

/// Pending comparisons. The walk is breadth-first with an explicit queue rather
/// than recursive, so no input can exhaust the stack. A schema reached along
/// several property paths is reported under each of them, as oasdiff counts:
/// a client reads the value at every one.
type Queue<'a> = VecDeque<Task<'a>>;

/// Where in the operation a schema sits, for ids and sentences.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub scope: Scope,
    /// The root's description: "the request body", "the query parameter `q`".
    pub subject: String,
    /// Property names from the root down (`items` for array elements).
    pub props: Vec<String>,
    /// The response status, for response bodies and headers.
    pub status: Option<String>,
    /// The media type, when the body has several: each is its own place.
    pub media: Option<String>,
    /// Below a property the client never sees in this direction (readOnly in a
    /// request, writeOnly in a response). Its changes keep oasdiff's
    /// `request-read-only-property-*` / `response-write-only-property-*` ids, at
    /// info, and only those (see [`OpCtx::emit`]).
    pub hidden: bool,
    /// The root is a header parameter: oasdiff names a few changes of its
    /// properties `request-header-property-*`.
    pub header: bool,
    /// The values travel as text: a parameter or header described by a
    /// `schema` (serialised by its style), not by a `content` media type.
    pub text: bool,
}

impl Loc {
    pub(crate) fn new(scope: Scope, subject: String, status: Option<String>) -> Self {
        Loc {
            scope,
            subject,
            props: Vec::new(),
            status,
            media: None,
            hidden: false,
            header: false,
            text: false,
        }
    }

    /// The same place under one of several media types.
    pub(crate) fn in_media(mut self, media: &str) -> Self {
        self.media = Some(media.to_string());
        self
    }

    fn child(&self, segment: &str) -> Loc {
        let mut loc = self.clone();
        loc.props.push(segment.to_string());
        loc
    }

    fn hidden_child(&self, segment: &str) -> Loc {
        let mut loc = self.child(segment);
        loc.hidden = true;
        loc
    }

    fn request(&self) -> bool {
        self.scope.is_request()
    }

    /// Whether properties are added, removed and made required here. For
    /// parameters and headers the schema's object shape is a serialisation
    /// detail, so only the values are compared.
    fn body(&self) -> bool {
        matches!(self.scope, Scope::RequestBody | Scope::ResponseBody)
    }

    fn prefix(&self) -> &'static str {
        // An alternative of the root is still the root: its own keywords are the
        // body's or the parameter's.
        let nested = self.props.iter().any(|p| !is_alternative(p));
        if self.hidden {
            return if self.request() {
                HIDDEN_IN_REQUEST
            } else {
                HIDDEN_IN_RESPONSE
            };
        }
        match (self.scope, nested) {
            (Scope::Parameter, false) => "request-parameter",
            (Scope::Parameter, true) => "request-parameter-property",
            (Scope::RequestBody, false) => "request-body",
            (Scope::RequestBody, true) => "request-property",
            (Scope::ResponseBody, false) => "response-body",
            (Scope::ResponseBody, true) => "response-property",
            (Scope::ResponseHeader, _) => "response-header",
        }
    }

    fn id(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix())
    }

    /// Lower-case noun phrase for the schema at this location.
    fn describe(&self) -> String {
        let status = match &self.status {
            Some(s) => format!(" for status {s}"),
            None => String::new(),
        };
        if self.props.is_empty() {
            return format!("{}{status}", self.subject);
        }
        let path = code(&self.props.join("/"));
        let media = match &self.media {
            Some(m) => format!(" ({})", code(m)),
            None => String::new(),
        };
        match self.scope {
            Scope::RequestBody => format!("the request property {path}{media}"),
            Scope::ResponseBody => format!("the response property {path}{media}{status}"),
            Scope::Parameter | Scope::ResponseHeader => {
                format!("the property {path} of {}{status}", self.subject)
            }
        }
    }

    /// The level of a change that narrows the allowed values.
    fn narrowing(&self) -> Level {
        if self.request() {
            Level::Error
        } else {
            Level::Info
        }
    }

    /// The level of a change that widens the allowed values.
    fn widening(&self) -> Level {
        if self.request() {
            Level::Info
        } else {
            Level::Error
        }
    }
}

/// Compares the schemas written at `base` and `rev`, and everything below them.
pub(crate) fn compare<'a>(oc: &mut OpCtx<'a>, loc: &Loc, base: &Child<'a>, rev: &Child<'a>) {
    let mut queue = Queue::new();
    queue.push_back(Task {
        loc: loc.clone(),
        base: base.clone(),
        rev: rev.clone(),
        key: None,
        trail: None,
    });
    let mut steps = 0;
    let mut children = Queue::new();
    let mut paths: HashMap<MemoKey, u32> = HashMap::new();
    while let Some(task) = queue.pop_front() {
        steps += 1;
        oc.memo.steps += 1;
        if steps > MAX_STEPS || oc.memo.steps > MAX_TOTAL_STEPS {
            break;
        }
        let key = match &task.key {
            Some(key) => key.clone(),
            None => {
                let Some((b, r)) = resolve(oc, &task) else {
                    continue;
                };
                (task.loc.scope, b.ptr, r.ptr)
            }
        };
        if on_trail(&task.trail, &key) {
            continue;
        }
        let walked = paths.entry(key.clone()).or_default();
        *walked += 1;
        if *walked > MAX_PATHS_PER_PAIR {
            continue;
        }
        // Most of a large document is unchanged between versions; skipping
        // pairs with nothing below them keeps the per-operation walk
        // proportional to what changed rather than to the schema graph.
        let known = oc.memo.dirty.get(&key).copied();
        let node = oc.memo.nodes.get(&key).cloned();
        match (known, node) {
            (Some(false), _) => continue,
            (Some(true), Some(node)) => walk_node(oc, &task, &node, &mut children),
            _ => {
                let Some((b, r)) = resolve(oc, &task) else {
                    continue;
                };
                if !dirty(oc, &key, &b, &r) {
                    continue;
                }
                match oc.memo.nodes.get(&key).cloned() {
                    Some(node) => walk_node(oc, &task, &node, &mut children),
                    // Not settled (the probe was truncated): walk it directly.
                    None => step(oc, &task.loc, &b, &r, &mut children),
                }
            }
        }
        if children.is_empty() {
            continue;
        }
        let trail = Some(Rc::new(TrailNode {
            key,
            up: task.trail.clone(),
        }));
        for mut child in children.drain(..) {
            child.trail = trail.clone();
            queue.push_back(child);
        }
    }
}

/// Visits a dirty pair known to the memo: its own checks if it has findings,
/// then its dirty children from the memo.
fn walk_node<'a>(oc: &mut OpCtx<'a>, task: &Task<'a>, node: &Node<'a>, queue: &mut Queue<'a>) {
    // Only the node's own checks run here: its children come from the memo.
    if node.own
        && let Some((b, r)) = resolve(oc, task)
    {
        step(oc, &task.loc, &b, &r, &mut Queue::new());
    }
    for edge in node.children.iter() {
        if oc.memo.dirty.get(&edge.key) == Some(&false) {
            continue;
        }
        let mut loc = match &edge.segment {
            Some(segment) => task.loc.child(segment),
            None => task.loc.clone(),
        };
        loc.hidden |= edge.hidden;
        queue.push_back(Task {
            loc,
            base: edge.base.clone(),
            rev: edge.rev.clone(),
            key: Some(edge.key.clone()),
            trail: None,
        });
    }
}

fn resolve<'a>(oc: &OpCtx<'a>, task: &Task<'a>) -> Option<(Resolved<'a>, Resolved<'a>)> {
    Some((
        refs::schema(oc.base, task.base.schema, &task.base.ptr)?,
        refs::schema(oc.rev, task.rev.schema, &task.rev.ptr)?,
    ))
}

/// Whether the pair `key` or anything reachable from it differs, memoised for
/// the whole diff. Whether a difference exists depends only on the scope and
/// the two nodes, not on the route or the operation, so the answer is shared.
///
/// Unknown pairs are explored from `key` (stopping at pairs already known),
/// recording each node's own verdict and its edges in the memo; dirtiness is
/// then propagated backwards along the explored edges, which settles every
/// explored pair, cycles included.
fn dirty<'a>(oc: &mut OpCtx<'a>, key: &MemoKey, b: &Resolved<'a>, r: &Resolved<'a>) -> bool {
    if let Some(known) = oc.memo.dirty.get(key) {
        return *known;
    }
    let scope = key.0;
    let mut probe_loc = Loc::new(scope, String::new(), None);
    // A header parameter has findings of its own (`request-header-property-*`);
    // probing every parameter as one keeps the memo a superset.
    probe_loc.header = scope == Scope::Parameter;
    let mut scratch = OpCtx::new(oc.base, oc.rev, String::new(), String::new(), oc.today);
    let mut explored: HashMap<MemoKey, Node<'a>> = HashMap::new();
    let mut parents: HashMap<MemoKey, Vec<MemoKey>> = HashMap::new();
    let mut known_dirty: Vec<MemoKey> = Vec::new();
    let mut stack = vec![(
        key.clone(),
        Resolved {
            schema: b.schema,
            ptr: b.ptr.clone(),
        },
        Resolved {
            schema: r.schema,
            ptr: r.ptr.clone(),
        },
    )];
    let mut truncated = false;
    while let Some((node_key, bres, rres)) = stack.pop() {
        if explored.contains_key(&node_key) {
            continue;
        }
        if explored.len() >= MAX_STEPS {
            truncated = true;
            break;
        }
        scratch.changes.clear();
        let mut children = Queue::new();
        step(&mut scratch, &probe_loc, &bres, &rres, &mut children);
        let own = !scratch.changes.is_empty();
        if own {
            known_dirty.push(node_key.clone());
        }
        let mut edges = Vec::new();
        for task in children {
            let Some((cb, cr)) = resolve(&scratch, &task) else {
                continue;
            };
            let child_key = (scope, cb.ptr.clone(), cr.ptr.clone());
            match oc.memo.dirty.get(&child_key) {
                Some(true) => known_dirty.push(node_key.clone()),
                Some(false) => {}
                None => {
                    parents
                        .entry(child_key.clone())
                        .or_default()
                        .push(node_key.clone());
                    stack.push((child_key.clone(), cb, cr));
                }
            }
            edges.push(Edge {
                hidden: task.loc.hidden,
                segment: task.loc.props.last().cloned(),
                key: child_key,
                base: task.base,
                rev: task.rev,
            });
        }
        explored.insert(
            node_key,
            Node {
                own,
                children: Rc::new(edges),
            },
        );
    }
    if truncated {
        // Pairs were left unexplored; say "dirty" so the real walk still looks,
        // and remember nothing, rather than hide differences.
        return true;
    }
    let mut result: HashMap<MemoKey, bool> = explored.keys().map(|k| (k.clone(), false)).collect();
    while let Some(node) = known_dirty.pop() {
        match result.get_mut(&node) {
            Some(flag) if !*flag => *flag = true,
            _ => continue,
        }
        if let Some(ps) = parents.get(&node) {
            known_dirty.extend(ps.iter().cloned());
        }
    }
    let answer = result.get(key).copied().unwrap_or(true);
    oc.memo.dirty.extend(result);
    oc.memo.nodes.extend(explored);
    answer
}

/// Compares one pair of resolved schema nodes and queues their children.
fn step<'a>(
    oc: &mut OpCtx<'a>,
    loc: &Loc,
    b: &Resolved<'a>,
    r: &Resolved<'a>,
    queue: &mut Queue<'a>,
) {
    let bv = view::build(oc.base, b.schema, &b.ptr);
    let rv = view::build(oc.rev, r.schema, &r.ptr);
    let (comparable, retyped) = types(oc, loc, &bv, &rv);
    nullable(oc, loc, &bv, &rv);
    enums(oc, loc, &bv, &rv);
    bounds(oc, loc, &bv, &rv, exclusive_31(b, r));
    pattern(oc, loc, &bv, &rv);
    all_of(oc, loc, b, r);
    keywords_31(oc, loc, b, r);
    defaults(oc, loc, b, r);
    extensible_enum(oc, loc, b, r);
    discriminator(oc, loc, b, r);
    if !comparable {
        // After e.g. object → string, listing every vanished property adds noise.
        return;
    }
    properties(oc, loc, &bv, &rv, queue);
    additional(oc, loc, &bv, &rv, queue);
    if let (Some(bi), Some(ri)) = (&bv.items, &rv.items) {
        queue.push_back(Task {
            loc: loc.child("items"),
            base: bi.clone(),
            rev: ri.clone(),
            key: None,
            trail: None,
        });
    }
    // Alternatives that change the set of types were reported as such.
    let report = !retyped;
    alternatives(oc, loc, Alt::OneOf, &bv.one_of, &rv.one_of, report, queue);
    alternatives(oc, loc, Alt::AnyOf, &bv.any_of, &rv.any_of, report, queue);
}

fn type_name(typ: Option<&str>) -> String {
    code(typ.unwrap_or("any"))
}

/// Reports type and format changes; returns whether deeper comparison makes
/// sense (the types are the same or one is a numeric widening of the other),
/// and whether the set of types changed, which then stands for the changes of
/// the alternatives that make it up.
///
/// A type or format change alters what generated clients declare (`int` becomes
/// `int64`, a string becomes a date), so it breaks them in either direction,
/// the way oasdiff counts it. The exceptions are the widenings every client
/// already handles: a request may accept a larger number encoding (`int32` to
/// `int64`, `float` to `double`, `integer` to `number`) and a response may
/// return a smaller one.
fn types(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) -> (bool, bool) {
    let (bt, rt) = (bv.typ.as_deref(), rv.typ.as_deref());
    let (bf, rf) = (bv.format.as_deref(), rv.format.as_deref());
    if (bt.is_none() || rt.is_none())
        && let Some(retyped) = type_lists(oc, loc, bv, rv)
    {
        return (true, retyped);
    }
    if bt == rt && bf == rf {
        return (true, false);
    }
    let desc = loc.describe();
    let ptrs = (Some(bv.ptr.as_str()), Some(rv.ptr.as_str()));
    let widens = matches!(
        ((bt, bf), (rt, rf)),
        (
            (Some("integer"), Some("int32")),
            (Some("integer"), Some("int64"))
        ) | (
            (Some("number"), Some("float")),
            (Some("number"), Some("double"))
        ) | ((Some("integer"), None), (Some("number"), None))
    );
    let narrows = matches!(
        ((bt, bf), (rt, rf)),
        (
            (Some("integer"), Some("int64")),
            (Some("integer"), Some("int32"))
        ) | (
            (Some("number"), Some("double")),
            (Some("number"), Some("float"))
        ) | ((Some("number"), None), (Some("integer"), None))
    );
    // Parameters and headers travel as text: every integer, number or boolean
    // a client could send is also a string, so retyping one to a plain string
    // widens what a parameter accepts, and retyping a plain string to one of
    // them narrows what a header may hold. A body's JSON tells `1` from `"1"`.
    let text = loc.text;
    let scalar = |t: Option<&str>| matches!(t, Some("integer" | "number" | "boolean"));
    let to_text = text && scalar(bt) && rt == Some("string") && rf.is_none();
    let from_text = text && bt == Some("string") && bf.is_none() && scalar(rt);
    let (widens, narrows) = (widens || to_text, narrows || from_text);
    let what = if bt == rt { "format" } else { "type" };
    let from_to = format!("from {} to {}", shape(bt, bf), shape(rt, rf));
    let (id, level, how) = match (widens, narrows, loc.request()) {
        (true, _, true) => (loc.id("type-generalized"), Level::Info, "was widened"),
        (_, true, false) => (loc.id("type-specialized"), Level::Info, "was narrowed"),
        _ => (loc.id("type-changed"), Level::Error, "changed"),
    };
    oc.emit(
        &id,
        level,
        ptrs.0,
        ptrs.1,
        format!("The {what} of {desc} {how} {from_to}."),
    );
    // Numeric constraints mean nothing to a string and length nothing to a
    // number, so a retype to or from text ends the comparison here.
    let retyped_as_text = to_text || from_text;
    (
        !retyped_as_text && (bt == rt || bt.is_none() || rt.is_none() || widens || narrows),
        false,
    )
}

/// The types a schema's values may have when it lists several: a 3.1 type list,
/// or the types of its `oneOf`/`anyOf` alternatives when each has one.
fn type_list(doc: &openapiv3::OpenAPI, view: &View<'_>) -> Option<BTreeSet<String>> {
    if let Some(t) = &view.typ {
        return Some(BTreeSet::from([t.clone()]));
    }
    if !view.type_list.is_empty() {
        return Some(view.type_list.iter().cloned().collect());
    }
    let alternatives = if view.one_of.is_empty() {
        &view.any_of
    } else {
        &view.one_of
    };
    if alternatives.is_empty() {
        return None;
    }
    alternatives
        .iter()
        .map(|alt| {
            let r = refs::schema(doc, alt.schema, &alt.ptr)?;
            view::build(doc, r.schema, &r.ptr).typ
        })
        .collect()
}

/// Compares schemas whose values may have several types (at least one side
/// lists several): adding a type widens, dropping one narrows, as oasdiff's
/// `list-of-types` checks say. `None` when this is not such a pair, else
/// whether the set changed.
fn type_lists(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) -> Option<bool> {
    let (bl, rl) = (type_list(oc.base, bv)?, type_list(oc.rev, rv)?);
    if bl.len() < 2 && rl.len() < 2 {
        return None;
    }
    if bl == rl {
        return Some(false);
    }
    let show = |l: &BTreeSet<String>| l.iter().map(|t| code(t)).collect::<Vec<_>>().join(", ");
    let desc = loc.describe();
    let ptrs = (Some(bv.ptr.as_str()), Some(rv.ptr.as_str()));
    let text = |how: &str| {
        format!(
            "The types of {desc} {how}: from {} to {}.",
            show(&bl),
            show(&rl)
        )
    };
    if bl.is_subset(&rl) {
        oc.emit(
            &loc.id("list-of-types-widened"),
            loc.widening(),
            ptrs.0,
            ptrs.1,
            text("were widened"),
        );
    } else if rl.is_subset(&bl) {
        oc.emit(
            &loc.id("list-of-types-narrowed"),
            loc.narrowing(),
            ptrs.0,
            ptrs.1,
            text("were narrowed"),
        );
    } else {
        oc.emit(
            &loc.id("type-changed"),
            Level::Error,
            ptrs.0,
            ptrs.1,
            text("changed"),
        );
    }
    Some(true)
}

/// `integer`, or `integer`/`int64` with a format.
fn shape(typ: Option<&str>, format: Option<&str>) -> String {
    match format {
        Some(f) => format!("{}/{}", type_name(typ), code(f)),
        None => type_name(typ),
    }
}

fn nullable(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) {
    if bv.nullable == rv.nullable {
        return;
    }
    let desc = cap(&loc.describe());
    match (bv.nullable, rv.nullable) {
        (false, true) => oc.emit(
            &loc.id("became-nullable"),
            loc.widening(),
            Some(&bv.ptr),
            Some(&rv.ptr),
            format!("{desc} became nullable."),
        ),
        (true, false) => oc.emit(
            &loc.id("became-not-nullable"),
            loc.narrowing(),
            Some(&bv.ptr),
            Some(&rv.ptr),
            format!("{desc} became not nullable."),
        ),
        _ => {}
    }
}

fn enums(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) {
    if bv.enumeration == rv.enumeration {
        return;
    }
    let desc = loc.describe();
    let ptrs = (Some(bv.ptr.as_str()), Some(rv.ptr.as_str()));
    match (&bv.enumeration, &rv.enumeration) {
        (None, None) => {}
        (None, Some(values)) => {
            let text = format!(
                "{} was restricted to the enum values {}.",
                cap(&desc),
                values.join(", ")
            );
            oc.emit(
                &if loc.header && !loc.props.is_empty() {
                    "request-header-property-became-enum".to_string()
                } else {
                    loc.id("became-enum")
                },
                loc.narrowing(),
                ptrs.0,
                ptrs.1,
                text,
            );
        }
        (Some(_), None) => {
            // Dropping the list lets any value through: for a response that is
            // the same risk as adding values.
            let level = if loc.request() {
                Level::Info
            } else {
                Level::Warning
            };
            let text = format!(
                "{} is no longer restricted to a list of enum values.",
                cap(&desc)
            );
            oc.emit(&loc.id("enum-removed"), level, ptrs.0, ptrs.1, text);
        }
        (Some(old), Some(new)) => {
            for value in old.iter().filter(|v| !new.contains(v)) {
                let text = format!("The enum value {value} was removed from {desc}.");
                oc.emit(
                    &loc.id("enum-value-removed"),
                    loc.narrowing(),
                    ptrs.0,
                    ptrs.1,
                    text,
                );
            }
            // New values in a response may reach clients with exhaustive
            // matches; whether that breaks them depends on the client.
            let added = if loc.request() {
                Level::Info
            } else {
                Level::Warning
            };
            for value in new.iter().filter(|v| !old.contains(v)) {
                let text = format!("The enum value {value} was added to {desc}.");
                oc.emit(&loc.id("enum-value-added"), added, ptrs.0, ptrs.1, text);
            }
        }
    }
}

fn show(bound: Bound) -> String {
    if bound.exclusive {
        format!("{} (exclusive)", number(bound.value))
    } else {
        number(bound.value)
    }
}

/// An integer bound as the inclusive bound it amounts to.
fn inclusive_integer(b: Bound, side: Side) -> Bound {
    if !b.exclusive || b.value.fract() != 0.0 {
        return b;
    }
    let value = match side {
        Side::Lower => b.value + 1.0,
        Side::Upper => b.value - 1.0,
    };
    Bound {
        value,
        exclusive: false,
    }
}

/// Which bounds (`minimum`, `maximum`) either side writes as OpenAPI 3.1's
/// numeric `exclusiveMinimum`/`exclusiveMaximum`: their changes take oasdiff's
/// `exclusive-min`/`exclusive-max` ids.
fn exclusive_31(b: &Resolved<'_>, r: &Resolved<'_>) -> (bool, bool) {
    let has = |keyword: &str| {
        let key = crate::loader::stashed(keyword);
        b.schema.schema_data.extensions.contains_key(&key)
            || r.schema.schema_data.extensions.contains_key(&key)
    };
    (has("exclusiveMinimum"), has("exclusiveMaximum"))
}

fn bounds(
    oc: &mut OpCtx<'_>,
    loc: &Loc,
    bv: &View<'_>,
    rv: &View<'_>,
    (exclusive_min, exclusive_max): (bool, bool),
) {
    let (old_rows, new_rows) = (bv.bounds.rows(), rv.bounds.rows());
    if old_rows.iter().zip(&new_rows).all(|(o, n)| o.3 == n.3) {
        return;
    }
    let desc = loc.describe();
    for ((stem, keyword, side, old), (_, _, _, new)) in old_rows.into_iter().zip(new_rows) {
        // A lower bound on a count (`minLength`, `minItems`, `minProperties`)
        // is 0 when unset: setting one is an increase from 0.
        let (old, new) = if side == Side::Lower && stem != "min" && (old.is_some() || new.is_some())
        {
            let zero = Some(Bound {
                value: 0.0,
                exclusive: false,
            });
            (old.or(zero), new.or(zero))
        } else {
            (old, new)
        };
        // Between integers, `exclusiveMinimum: 0` is `minimum: 1`: compare the
        // integers each bound lets through, not how it is written.
        let integers = bv.typ.as_deref() == Some("integer") && rv.typ.as_deref() == Some("integer");
        let (old, new) = if integers && matches!(stem, "min" | "max") {
            (
                old.map(|b| inclusive_integer(b, side)),
                new.map(|b| inclusive_integer(b, side)),
            )
        } else {
            (old, new)
        };
        if old == new {
            continue;
        }
        // 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` switched on or off
        // beside an unchanged bound: oasdiff's `exclusive-*-set`/`-unset`.
        let edge = match (old, new) {
            (Some(o), Some(n)) if o.value == n.value && o.exclusive != n.exclusive => {
                Some(n.exclusive)
            }
            _ => None,
        };
        let (suffix, narrows, text) = match (old, new) {
            _ if edge.is_some() => {
                let made = edge == Some(true);
                let text = if made {
                    format!("The {keyword} of {desc} became exclusive.")
                } else {
                    format!("The {keyword} of {desc} is no longer exclusive.")
                };
                (if made { "set" } else { "unset" }, made, text)
            }
            (None, None) => continue,
            (None, Some(n)) => (
                "set",
                true,
                format!("The {keyword} of {desc} was set to {}.", show(n)),
            ),
            (Some(o), None) => (
                "unset",
                false,
                format!("The {keyword} of {desc} ({}) was removed.", show(o)),
            ),
            (Some(o), Some(n)) => {
                if o == n {
                    continue;
                }
                let stricter_edge = n.value == o.value && n.exclusive && !o.exclusive;
                let narrows = match side {
                    Side::Upper => n.value < o.value || stricter_edge,
                    Side::Lower => n.value > o.value || stricter_edge,
                };
                let suffix = match (side, narrows) {
                    (Side::Upper, true) | (Side::Lower, false) => "decreased",
                    (Side::Upper, false) | (Side::Lower, true) => "increased",
                };
                let text = format!(
                    "The {keyword} of {desc} was {suffix} from {} to {}.",
                    show(o),
                    show(n)
                );
                (suffix, narrows, text)
            }
        };
        // A new bound in a request may refuse what clients send, but most send
        // far less, hence a warning; a looser bound in a response is usually
        // harmless but can overflow a client's buffer or validation, hence a
        // warning too, except for a string's maximum length, which clients
        // commonly size storage by.
        let level = match (loc.request(), narrows, suffix) {
            (true, true, "set") => Level::Warning,
            (true, true, _) => Level::Error,
            (true, false, _) => Level::Info,
            (false, true, _) => Level::Info,
            (false, false, "unset") if stem == "max-length" => Level::Error,
            (false, false, _) => Level::Warning,
        };
        oc.emit(
            &loc.id(&format!(
                "{}{stem}-{suffix}",
                match stem {
                    "min" if exclusive_min || edge.is_some() => "exclusive-",
                    "max" if exclusive_max || edge.is_some() => "exclusive-",
                    _ => "",
                }
            )),
            level,
            Some(&bv.ptr),
            Some(&rv.ptr),
            text,
        );
    }
}

fn pattern(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) {
    if bv.pattern == rv.pattern {
        return;
    }
    let desc = loc.describe();
    let request = loc.request();
    // Whether one regular expression accepts a superset of another is not
    // decidable in general here, so any change that may narrow is a warning.
    let (suffix, level, text) = match (&bv.pattern, &rv.pattern) {
        (None, None) => return,
        (Some(o), Some(n)) if o == n => return,
        (None, Some(n)) => (
            "pattern-added",
            if request { Level::Warning } else { Level::Info },
            format!("The pattern {} was added to {desc}.", code(n)),
        ),
        (Some(o), None) => (
            "pattern-removed",
            if request { Level::Info } else { Level::Warning },
            format!("The pattern {} was removed from {desc}.", code(o)),
        ),
        // A pattern that matches anything no longer constrains a request.
        (Some(o), Some(n)) if request && matches!(n.as_str(), ".*" | "^.*$") => (
            "pattern-generalized",
            Level::Info,
            format!(
                "The pattern {} of {desc} was relaxed to {}, which accepts any text.",
                code(o),
                code(n)
            ),
        ),
        (Some(o), Some(n)) => (
            "pattern-changed",
            Level::Warning,
            format!(
                "The pattern of {desc} changed from {} to {}.",
                code(o),
                code(n)
            ),
        ),
    };
    oc.emit(&loc.id(suffix), level, Some(&bv.ptr), Some(&rv.ptr), text);
}

/// readOnly properties are not sent in requests and writeOnly ones are not
/// returned in responses, so they are invisible to the client in that direction.
fn hidden(loc: &Loc, flags: &Flags) -> bool {
    loc.body()
        && if loc.request() {
            flags.read_only
        } else {
            flags.write_only
        }
}

fn properties<'a>(
    oc: &mut OpCtx<'a>,
    loc: &Loc,
    bv: &View<'a>,
    rv: &View<'a>,
    queue: &mut Queue<'a>,
) {
    let names: Vec<&String> = bv
        .properties
        .keys()
        .chain(
            rv.properties
                .keys()
                .filter(|k| !bv.properties.contains_key(*k)),
        )
        .collect();
    let body = loc.body();
    let request = loc.request();
    for name in names {
        let child = loc.child(name);
        let desc = || cap(&child.describe());
        let was_required = bv.required.contains(name);
        let is_required = rv.required.contains(name);
        if loc.hidden {
            // Below a hidden property only values are compared.
            if let (Some(bc), Some(rc)) = (bv.properties.get(name), rv.properties.get(name)) {
                queue.push_back(Task {
                    loc: child.clone(),
                    base: bc.clone(),
                    rev: rc.clone(),
                    key: None,
                    trail: None,
                });
            }
            continue;
        }
        match (bv.properties.get(name), rv.properties.get(name)) {
            (Some(bc), None) => {
                if !body {
                    continue;
                }
                if hidden(loc, &view::flags(oc.base, bc)) {
                    if !request {
                        write_only_presence(
                            oc,
                            &child,
                            was_required,
                            "removed",
                            Some(&bc.ptr),
                            None,
                        );
                    }
                    continue;
                }
                let (id, level, text) = if request {
                    (
                        "request-property-removed",
                        Level::Warning,
                        format!(
                            "{} was removed; clients that still send it may be rejected.",
                            desc()
                        ),
                    )
                } else if was_required {
                    (
                        "response-required-property-removed",
                        Level::Error,
                        format!("{}, which was required, was removed.", desc()),
                    )
                } else {
                    (
                        "response-optional-property-removed",
                        Level::Warning,
                        format!("{}, which was optional, was removed.", desc()),
                    )
                };
                oc.emit(id, level, Some(&bc.ptr), None, text);
            }
            (None, Some(rc)) => {
                if loc.header && is_required {
                    let text = format!("{} was added as a required property.", desc());
                    oc.emit(
                        "new-required-request-header-property",
                        Level::Error,
                        None,
                        Some(&rc.ptr),
                        text,
                    );
                }
                if !body {
                    continue;
                }
                if hidden(loc, &view::flags(oc.rev, rc)) {
                    if !request {
                        write_only_presence(oc, &child, is_required, "added", None, Some(&rc.ptr));
                    }
                    continue;
                }
                let (id, level, text) = match (request, is_required) {
                    (true, true) if has_default(oc.rev, rc) => (
                        "new-required-request-property-with-default",
                        Level::Info,
                        format!(
                            "{} was added as a required property with a default value.",
                            desc()
                        ),
                    ),
                    (true, true) => (
                        "new-required-request-property",
                        Level::Error,
                        format!("{} was added as a required property.", desc()),
                    ),
                    (true, false) => (
                        "new-optional-request-property",
                        Level::Info,
                        format!("{} was added as an optional property.", desc()),
                    ),
                    (false, true) => (
                        "response-required-property-added",
                        Level::Info,
                        format!("{} was added as a required property.", desc()),
                    ),
                    (false, false) => (
                        "response-optional-property-added",
                        Level::Info,
                        format!("{} was added as an optional property.", desc()),
                    ),
                };
                oc.emit(id, level, None, Some(&rc.ptr), text);
            }
            (Some(bc), Some(rc)) => {
                let bf = view::flags(oc.base, bc);
                let rf = view::flags(oc.rev, rc);
                let ptrs = (Some(bc.ptr.as_str()), Some(rc.ptr.as_str()));
                match (hidden(loc, &bf), hidden(loc, &rf)) {
                    (true, true) => {
                        if !request && was_required != is_required {
                            let (stem, what) = if is_required {
                                ("became-required", "required")
                            } else {
                                ("became-optional", "optional")
                            };
                            let text = format!("{}, which is write-only, became {what}.", desc());
                            oc.emit(
                                &format!("{HIDDEN_IN_RESPONSE}-{stem}"),
                                Level::Info,
                                ptrs.0,
                                ptrs.1,
                                text,
                            );
                        }
                        queue.push_back(Task {
                            loc: loc.hidden_child(name),
                            base: bc.clone(),
                            rev: rc.clone(),
                            key: None,
                            trail: None,
                        });
                    }
                    (false, true) => {
                        let (id, level, what) = match (request, was_required) {
                            (true, true) => (
                                "request-required-property-became-read-only",
                                Level::Warning,
                                "read-only",
                            ),
                            (true, false) => (
                                "request-optional-property-became-read-only",
                                Level::Warning,
                                "read-only",
                            ),
                            (false, true) => (
                                "response-required-property-became-write-only",
                                Level::Error,
                                "write-only",
                            ),
                            (false, false) => (
                                "response-optional-property-became-write-only",
                                Level::Warning,
                                "write-only",
                            ),
                        };
                        let text = format!("{} became {what}.", desc());
                        oc.emit(id, level, ptrs.0, ptrs.1, text);
                    }
                    (true, false) => {
                        let (id, level, what) = match (request, is_required) {
                            (true, true) => (
                                "request-required-property-became-not-read-only",
                                Level::Error,
                                "read-only",
                            ),
                            (true, false) => (
                                "request-optional-property-became-not-read-only",
                                Level::Info,
                                "read-only",
                            ),
                            (false, true) => (
                                "response-required-property-became-not-write-only",
                                Level::Info,
                                "write-only",
                            ),
                            (false, false) => (
                                "response-optional-property-became-not-write-only",
                                Level::Info,
                                "write-only",
                            ),
                        };
                        let text = format!("{} is no longer {what}.", desc());
                        oc.emit(id, level, ptrs.0, ptrs.1, text);
                    }
                    (false, false) => {
                        // The flag that does not hide the property in this
                        // direction (writeOnly in a request, readOnly in a
                        // response) still tells clients how it is used.
                        let (flag, before, after) = if request {
                            ("write-only", bf.write_only, rf.write_only)
                        } else {
                            ("read-only", bf.read_only, rf.read_only)
                        };
                        if body && before != after {
                            let side = if request { "request" } else { "response" };
                            let kind = if is_required { "required" } else { "optional" };
                            let not = if after { "" } else { "not-" };
                            let id = format!("{side}-{kind}-property-became-{not}{flag}");
                            let text = if after {
                                format!("{} became {flag}.", desc())
                            } else {
                                format!("{} is no longer {flag}.", desc())
                            };
                            oc.emit(&id, Level::Info, ptrs.0, ptrs.1, text);
                        }
                        if loc.header && !was_required && is_required {
                            let text = format!("{} became required.", desc());
                            oc.emit(
                                "request-header-property-became-required",
                                Level::Error,
                                ptrs.0,
                                ptrs.1,
                                text,
                            );
                        }
                        if body {
                            if request && !was_required && is_required && has_default(oc.rev, rc) {
                                let text =
                                    format!("{} became required; it has a default value.", desc());
                                oc.emit(
                                    "request-property-became-required-with-default",
                                    Level::Info,
                                    ptrs.0,
                                    ptrs.1,
                                    text,
                                );
                            } else {
                                required_change(oc, &child, was_required, is_required, ptrs);
                            }
                            property_deprecation(oc, &child, (bc, &bf), (rc, &rf), ptrs);
                        }
                        queue.push_back(Task {
                            loc: child.clone(),
                            base: bc.clone(),
                            rev: rc.clone(),
                            key: None,
                            trail: None,
                        });
                    }
                }
            }
            (None, None) => {}
        }
    }
}

/// Whether a property's schema gives a default value. oasdiff reports a
/// required request property with one as info, since servers that apply the
/// default accept requests without it.
fn has_default(doc: &openapiv3::OpenAPI, child: &Child<'_>) -> bool {
    refs::schema(doc, child.schema, &child.ptr)
        .is_some_and(|res| res.schema.schema_data.default.is_some())
}

/// A property's deprecation and its `x-sunset`, under oasdiff's property ids.
/// Properties have no ids for a sunset deleted or moved; their removal is
/// judged by the response or request rules, whatever the sunset.
fn property_deprecation(
    oc: &mut OpCtx<'_>,
    child: &Loc,
    (bc, bf): (&Child<'_>, &Flags),
    (rc, rf): (&Child<'_>, &Flags),
    ptrs: (Option<&str>, Option<&str>),
) {
    let sunset_of = |doc, c: &Child<'_>| {
        refs::schema(doc, c.schema, &c.ptr).map_or(sunset::Sunset::Missing, |res| {
            sunset::sunset(&res.schema.schema_data.extensions)
        })
    };
    let (old, new) = (sunset_of(oc.base, bc), sunset_of(oc.rev, rc));
    let Some(transition) =
        sunset::transition((bf.deprecated, &old), (rf.deprecated, &new), oc.today)
    else {
        return;
    };
    let desc = cap(&child.describe());
    let (stem, level, text) = match transition {
        Transition::Deprecated => ("deprecated", Level::Info, format!("{desc} was deprecated.")),
        Transition::DeprecatedWithSunset(date) => (
            "deprecated-with-sunset",
            Level::Info,
            format!("{desc} was deprecated with sunset date {date}."),
        ),
        Transition::SunsetTooSoon(date) => (
            "sunset-date-too-small",
            Level::Error,
            format!("{desc} was deprecated with sunset date {date}, which has already passed."),
        ),
        Transition::SunsetInvalid(text) => (
            "deprecated-sunset-invalid",
            Level::Error,
            format!(
                "The x-sunset {} of {} is not a YYYY-MM-DD date.",
                code(&text),
                child.describe()
            ),
        ),
        Transition::Reactivated => (
            "reactivated",
            Level::Info,
            format!("{desc} is no longer deprecated."),
        ),
        Transition::SunsetDeleted(_) | Transition::SunsetEarlier(..) => return,
    };
    oc.emit(&child.id(stem), level, ptrs.0, ptrs.1, text);
}

/// A write-only property added to or removed from a response: clients never
/// read it, so the change is info, under oasdiff's ids.
fn write_only_presence(
    oc: &mut OpCtx<'_>,
    child: &Loc,
    required: bool,
    what: &str,
    base_pointer: Option<&str>,
    revision_pointer: Option<&str>,
) {
    let kind = if required { "required" } else { "optional" };
    let text = format!(
        "{}, a write-only property, was {what}.",
        cap(&child.describe())
    );
    oc.emit(
        &format!("response-{kind}-write-only-property-{what}"),
        Level::Info,
        base_pointer,
        revision_pointer,
        text,
    );
}

fn required_change(
    oc: &mut OpCtx<'_>,
    child: &Loc,
    was: bool,
    is: bool,
    ptrs: (Option<&str>, Option<&str>),
) {
    if was == is {
        return;
    }
    let desc = cap(&child.describe());
    let (id, level, text) = match (child.request(), was, is) {
        (true, false, true) => (
            "request-property-became-required",
            Level::Error,
            format!("{desc} became required."),
        ),
        (true, true, false) => (
            "request-property-became-optional",
            Level::Info,
            format!("{desc} became optional."),
        ),
        (false, true, false) => (
            "response-property-became-optional",
            Level::Error,
            format!("{desc} became optional, so clients can no longer rely on it."),
        ),
        (false, false, true) => (
            "response-property-became-required",
            Level::Info,
            format!("{desc} became required."),
        ),
        _ => return,
    };
    oc.emit(id, level, ptrs.0, ptrs.1, text);
}

fn additional<'a>(
    oc: &mut OpCtx<'a>,
    loc: &Loc,
    bv: &View<'a>,
    rv: &View<'a>,
    queue: &mut Queue<'a>,
) {
    let objects = bv.typ.as_deref() == Some("object") && rv.typ.as_deref() == Some("object");
    if !objects {
        return;
    }
    let desc = || loc.describe();
    match (bv.additional.allows_extra(), rv.additional.allows_extra()) {
        (true, false) => {
            let text = format!("{} no longer accepts additional properties.", cap(&desc()));
            oc.emit(
                &loc.id("additional-properties-became-false"),
                loc.narrowing(),
                Some(&bv.ptr),
                Some(&rv.ptr),
                text,
            );
        }
        (false, true) => {
            // Unknown properties in a response break clients that deserialise
            // strictly, but most tolerate them.
            let level = if loc.request() {
                Level::Info
            } else {
                Level::Warning
            };
            let text = format!("{} now accepts additional properties.", cap(&desc()));
            oc.emit(
                &loc.id("additional-properties-became-true"),
                level,
                Some(&bv.ptr),
                Some(&rv.ptr),
                text,
            );
        }
        _ => {
            if let (Additional::Schema(b), Additional::Schema(r)) = (&bv.additional, &rv.additional)
            {
                queue.push_back(Task {
                    loc: loc.child("additionalProperties"),
                    base: b.clone(),
                    rev: r.clone(),
                    key: None,
                    trail: None,
                });
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Alt {
    OneOf,
    AnyOf,
}

impl Alt {
    fn keyword(self) -> &'static str {
        match self {
            Alt::OneOf => "oneOf",
            Alt::AnyOf => "anyOf",
        }
    }
}

fn alt_name(child: &Child<'_>, index: usize) -> String {
    match (child.reference(), child.title()) {
        (Some(reference), _) => code(&refs::short_name(reference)),
        (None, Some(title)) => code(title),
        (None, None) => format!("the inline schema #{index}"),
    }
}

/// Pairs alternatives: same `$ref` first, then inline schemas with the same
/// title, then inline schemas that are unchanged or carry the same tag (a
/// property with one allowed value, the way `oneOf` variants are usually told
/// apart). Inline alternatives that match none of these are reported as removed
/// and added rather than compared by position, which would pair unrelated
/// variants; oasdiff reads them the same way. Returns the pairs and the
/// unmatched indexes on each side.
fn pair_alternatives<'a>(
    oc: &OpCtx<'a>,
    base: &[Child<'a>],
    rev: &[Child<'a>],
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut used = vec![false; rev.len()];
    let mut unmatched = Vec::new();
    let take =
        |used: &mut Vec<bool>, pred: &mut dyn FnMut(usize, &Child<'a>) -> bool| -> Option<usize> {
            let found = rev
                .iter()
                .enumerate()
                .find(|(j, r)| !used.get(*j).copied().unwrap_or(true) && pred(*j, r))
                .map(|(j, _)| j)?;
            if let Some(slot) = used.get_mut(found) {
                *slot = true;
            }
            Some(found)
        };
    let mut inline = Vec::new();
    for (i, b) in base.iter().enumerate() {
        if let Some(reference) = b.reference() {
            match take(&mut used, &mut |_, r| r.reference() == Some(reference)) {
                Some(j) => pairs.push((i, j)),
                None => unmatched.push(i),
            }
        } else {
            inline.push(i);
        }
    }
    let mut untitled = Vec::new();
    for i in inline {
        let title = base.get(i).and_then(Child::title);
        let found = match title {
            Some(t) => take(&mut used, &mut |_, r| {
                r.reference().is_none() && r.title() == Some(t)
            }),
            None => None,
        };
        match found {
            Some(j) => pairs.push((i, j)),
            None => untitled.push(i),
        }
    }
    let rev_tags: Vec<Vec<(String, String)>> = rev.iter().map(|r| tags(oc.rev, r)).collect();
    for i in untitled {
        let Some(b) = base.get(i) else { continue };
        let unchanged = take(&mut used, &mut |_, r| {
            r.reference().is_none() && !differs(oc, b, r)
        });
        let found = unchanged.or_else(|| {
            let mine = tags(oc.base, b);
            if mine.is_empty() {
                return None;
            }
            take(&mut used, &mut |j, r| {
                r.reference().is_none()
                    && rev_tags
                        .get(j)
                        .is_some_and(|theirs| theirs.iter().any(|t| mine.contains(t)))
            })
        });
        match found {
            Some(j) => pairs.push((i, j)),
            None => unmatched.push(i),
        }
    }
    let added = used
        .iter()
        .enumerate()
        .filter(|(_, u)| !**u)
        .map(|(j, _)| j)
        .collect();
    (pairs, unmatched, added)
}

/// Whether two alternatives are written differently. Their references are
/// compared as written, not followed: a changed component below an unchanged
/// alternative is found by comparing the pair.
fn differs<'a>(oc: &OpCtx<'a>, b: &Child<'a>, r: &Child<'a>) -> bool {
    let (Some(bres), Some(rres)) = (
        refs::schema(oc.base, b.schema, &b.ptr),
        refs::schema(oc.rev, r.schema, &r.ptr),
    ) else {
        return true;
    };
    // Prose is not part of the contract: alternatives that differ only in
    // descriptions or examples are the same alternative.
    // Schemas the loader shared are compared by what they stand for.
    let plain = |doc: &openapiv3::OpenAPI, schema: &openapiv3::Schema| {
        let mut v = serde_json::to_value(schema).unwrap_or_default();
        crate::loader::shared::expand(doc, &mut v, 0);
        crate::loader::strip_prose(&mut v, &mut Vec::new());
        v
    };
    bres.schema != rres.schema && plain(oc.base, bres.schema) != plain(oc.rev, rres.schema)
}

/// The properties of an alternative that allow exactly one value, as (name,
/// value): what tells `oneOf` variants apart when they are written inline.
fn tags<'a>(doc: &'a openapiv3::OpenAPI, child: &Child<'a>) -> Vec<(String, String)> {
    let Some(resolved) = refs::schema(doc, child.schema, &child.ptr) else {
        return Vec::new();
    };
    let view = view::build(doc, resolved.schema, &resolved.ptr);
    view.properties
        .iter()
        .filter_map(|(name, prop)| {
            let p = refs::schema(doc, prop.schema, &prop.ptr)?;
            let values = view::build(doc, p.schema, &p.ptr).enumeration?;
            match values.as_slice() {
                [one] => Some((name.clone(), one.clone())),
                _ => None,
            }
        })
        .collect()
}

fn alternatives<'a>(
    oc: &mut OpCtx<'a>,
    loc: &Loc,
    alt: Alt,
    base: &[Child<'a>],
    rev: &[Child<'a>],
    report: bool,
    queue: &mut Queue<'a>,
) {
    if base.is_empty() && rev.is_empty() {
        return;
    }
    let (pairs, removed, added) = pair_alternatives(oc, base, rev);
    // One finding per list and direction, naming every alternative, as oasdiff
    // counts them: a client reads it as one change to the list.
    if report {
        list_change(oc, loc, alt.keyword(), base, &removed, true);
        list_change(oc, loc, alt.keyword(), rev, &added, false);
    }
    for (i, j) in pairs {
        if let (Some(b), Some(r)) = (base.get(i), rev.get(j)) {
            // Each alternative is its own place in the payload, as oasdiff
            // counts it: changes inside two alternatives are two findings.
            let segment = format!("{}[{}]", alt.keyword(), alt_label(r, j));
            queue.push_back(Task {
                loc: loc.child(&segment),
                base: b.clone(),
                rev: r.clone(),
                key: None,
                trail: None,
            });
        }
    }
}

/// Reports a changed `default`. A client that leaves a parameter out gets the
/// default, so changing a parameter's default changes what its requests mean;
/// elsewhere it is documentation of what the server assumes.
fn defaults<'a>(oc: &mut OpCtx<'a>, loc: &Loc, b: &Resolved<'a>, r: &Resolved<'a>) {
    let (x, y) = (&b.schema.schema_data.default, &r.schema.schema_data.default);
    if x == y {
        return;
    }
    let level = if loc.scope == Scope::Parameter && loc.props.is_empty() {
        Level::Error
    } else {
        Level::Info
    };
    let desc = loc.describe();
    let (stem, text) = match (x, y) {
        (None, Some(v)) => (
            "default-value-added",
            format!("The default value {v} was added to {desc}."),
        ),
        (Some(v), None) => (
            "default-value-removed",
            format!("The default value {v} of {desc} was removed."),
        ),
        (Some(v), Some(w)) => (
            "default-value-changed",
            format!("The default value of {desc} changed from {v} to {w}."),
        ),
        (None, None) => return,
    };
    oc.emit(&loc.id(stem), level, Some(&b.ptr), Some(&r.ptr), text);
}

/// `x-extensible-enum` (Zalando's guideline) lists the values known today and
/// promises clients that more may come: adding one is expected, but a request
/// value that is no longer listed may now be refused.
fn extensible_enum<'a>(oc: &mut OpCtx<'a>, loc: &Loc, b: &Resolved<'a>, r: &Resolved<'a>) {
    if !loc.request() {
        return;
    }
    let values = |res: &Resolved<'a>| -> Vec<serde_json::Value> {
        res.schema
            .schema_data
            .extensions
            .get("x-extensible-enum")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (x, y) = (values(b), values(r));
    if y.is_empty() {
        return;
    }
    for v in x.iter().filter(|v| !y.contains(v)) {
        let text = format!(
            "The value {v} was removed from the x-extensible-enum of {}.",
            loc.describe()
        );
        oc.emit(
            &loc.id("x-extensible-enum-value-removed"),
            Level::Error,
            Some(&b.ptr),
            Some(&r.ptr),
            text,
        );
    }
}

/// A `discriminator` tells generated clients which variant of a `oneOf` they
/// hold; its changes are info (the values allowed are the `oneOf`'s), but a
/// client that switches on the property or the mapping must follow them.
/// Parameters and headers have no ids for it: they are not polymorphic.
fn discriminator<'a>(oc: &mut OpCtx<'a>, loc: &Loc, b: &Resolved<'a>, r: &Resolved<'a>) {
    if !loc.body() {
        return;
    }
    let (x, y) = (
        b.schema.schema_data.discriminator.as_ref(),
        r.schema.schema_data.discriminator.as_ref(),
    );
    let desc = loc.describe();
    let ptrs = (Some(b.ptr.as_str()), Some(r.ptr.as_str()));
    let emit = |oc: &mut OpCtx<'a>, stem: &str, text: String| {
        oc.emit(&loc.id(stem), Level::Info, ptrs.0, ptrs.1, text);
    };
    let (x, y) = match (x, y) {
        (None, None) => return,
        (None, Some(d)) => {
            let text = format!(
                "A discriminator on {} was added to {desc}.",
                code(&d.property_name)
            );
            return emit(oc, "discriminator-added", text);
        }
        (Some(d), None) => {
            let text = format!(
                "The discriminator on {} was removed from {desc}.",
                code(&d.property_name)
            );
            return emit(oc, "discriminator-removed", text);
        }
        (Some(x), Some(y)) => (x, y),
    };
    if x.property_name != y.property_name {
        let text = format!(
            "The discriminator of {desc} changed from {} to {}.",
            code(&x.property_name),
            code(&y.property_name)
        );
        emit(oc, "discriminator-property-name-changed", text);
    }
    let listed = |keys: Vec<&String>| keys.iter().map(|k| code(k)).collect::<Vec<_>>().join(", ");
    // Values one mapping has and the other lacks, each way.
    for (from, other, stem, verb) in [
        (y, x, "discriminator-mapping-added", "gained"),
        (x, y, "discriminator-mapping-deleted", "lost"),
    ] {
        let missing: Vec<&String> = from
            .mapping
            .keys()
            .filter(|k| !other.mapping.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            let text = format!(
                "The discriminator mapping of {desc} {verb} {}.",
                listed(missing)
            );
            emit(oc, stem, text);
        }
    }
    let changed: Vec<&String> = x
        .mapping
        .iter()
        .filter(|(k, v)| y.mapping.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    if !changed.is_empty() {
        let text = format!(
            "The discriminator mapping of {desc} maps {} to other schemas.",
            listed(changed)
        );
        emit(oc, "discriminator-mapping-changed", text);
    }
}

/// 2020-12 keywords whose presence is what changes: adding one constrains the
/// values, removing it frees them. (keyword, id stem)
const PRESENCE_31: [(&str, &str); 10] = [
    ("contains", "contains"),
    ("if", "if"),
    ("then", "then"),
    ("else", "else"),
    ("dependentSchemas", "dependent-schema"),
    ("propertyNames", "property-names"),
    ("unevaluatedItems", "unevaluated-items"),
    ("unevaluatedProperties", "unevaluated-properties"),
    ("contentSchema", "content-schema"),
    ("prefixItems", "prefix-items"),
];

/// Compares the JSON Schema 2020-12 keywords of OpenAPI 3.1 that the 3.0 model
/// has no field for (the loader keeps them as `x-oas31-*` extensions), with
/// oasdiff's ids: `const`, `contains` and its bounds, `if`/`then`/`else`,
/// `dependentRequired`, `dependentSchemas`, `patternProperties`,
/// `propertyNames`, `prefixItems`, `unevaluated*` and the `content*` keywords.
fn keywords_31<'a>(oc: &mut OpCtx<'a>, loc: &Loc, b: &Resolved<'a>, r: &Resolved<'a>) {
    let (be, re) = (
        &b.schema.schema_data.extensions,
        &r.schema.schema_data.extensions,
    );
    if !be
        .keys()
        .chain(re.keys())
        .any(|k| k.starts_with(crate::loader::STASH))
    {
        return;
    }
    let get = |m: &'a indexmap::IndexMap<String, serde_json::Value>, k: &str| {
        m.get(&crate::loader::stashed(k))
    };
    let desc = loc.describe();
    let ptrs = (Some(b.ptr.as_str()), Some(r.ptr.as_str()));
    let emit = |oc: &mut OpCtx<'a>, stem: &str, level: Level, text: String| {
        oc.emit(&loc.id(stem), level, ptrs.0, ptrs.1, text);
    };
    for (keyword, stem) in PRESENCE_31 {
        match (get(be, keyword), get(re, keyword)) {
            (None, Some(_)) => emit(
                oc,
                &format!("{stem}-added"),
                loc.narrowing(),
                format!("`{keyword}` was added to {desc}."),
            ),
            (Some(_), None) => emit(
                oc,
                &format!("{stem}-removed"),
                loc.widening(),
                format!("The `{keyword}` of {desc} was removed."),
            ),
            _ => {}
        }
    }
    for (keyword, stem) in [
        ("const", "const"),
        ("dependentRequired", "dependent-required"),
    ] {
        match (get(be, keyword), get(re, keyword)) {
            (None, Some(v)) => emit(
                oc,
                &format!("{stem}-added"),
                loc.narrowing(),
                format!("`{keyword}: {v}` was added to {desc}."),
            ),
            (Some(v), None) => emit(
                oc,
                &format!("{stem}-removed"),
                loc.widening(),
                format!("`{keyword}: {v}` was removed from {desc}."),
            ),
            (Some(x), Some(y)) if x != y => emit(
                oc,
                &format!("{stem}-changed"),
                Level::Error,
                format!("The `{keyword}` of {desc} changed from {x} to {y}."),
            ),
            _ => {}
        }
    }
    for (keyword, stem) in [
        ("contentMediaType", "content-media-type"),
        ("contentEncoding", "content-encoding"),
    ] {
        let (x, y) = (get(be, keyword), get(re, keyword));
        if x != y {
            let show =
                |v: Option<&serde_json::Value>| v.map_or("none".to_string(), |v| v.to_string());
            emit(
                oc,
                &format!("{stem}-changed"),
                Level::Error,
                format!(
                    "The `{keyword}` of {desc} changed from {} to {}.",
                    show(x),
                    show(y)
                ),
            );
        }
    }
    let patterns = |m: &'a indexmap::IndexMap<String, serde_json::Value>| -> Vec<&'a String> {
        get(m, "patternProperties")
            .and_then(serde_json::Value::as_object)
            .map(|o| o.keys().collect())
            .unwrap_or_default()
    };
    let (bp, rp) = (patterns(be), patterns(re));
    for p in rp.iter().filter(|p| !bp.contains(p)) {
        emit(
            oc,
            "pattern-property-added",
            loc.narrowing(),
            format!("The pattern property {} was added to {desc}.", code(p)),
        );
    }
    for p in bp.iter().filter(|p| !rp.contains(p)) {
        emit(
            oc,
            "pattern-property-removed",
            loc.widening(),
            format!("The pattern property {} was removed from {desc}.", code(p)),
        );
    }
    // `minContains` is 1 and `maxContains` unbounded when not written.
    let count = |m, k, default: f64| {
        get(m, k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(default)
    };
    if get(be, "contains").is_some() && get(re, "contains").is_some() {
        let (x, y) = (count(be, "minContains", 1.0), count(re, "minContains", 1.0));
        if x != y {
            let (stem, level) = if y > x {
                ("min-contains-increased", loc.narrowing())
            } else {
                ("min-contains-decreased", loc.widening())
            };
            emit(
                oc,
                stem,
                level,
                format!(
                    "The `minContains` of {desc} changed from {} to {}.",
                    number(x),
                    number(y)
                ),
            );
        }
        let (x, y) = (
            count(be, "maxContains", f64::INFINITY),
            count(re, "maxContains", f64::INFINITY),
        );
        if x != y {
            let (stem, level) = if y < x {
                ("max-contains-decreased", loc.narrowing())
            } else {
                ("max-contains-increased", loc.widening())
            };
            let show = |v: f64| {
                if v.is_finite() {
                    number(v)
                } else {
                    "none".to_string()
                }
            };
            emit(
                oc,
                stem,
                level,
                format!(
                    "The `maxContains` of {desc} changed from {} to {}.",
                    show(x),
                    show(y)
                ),
            );
        }
    }
}

/// The `allOf` parts of a schema as written, with their pointers.
fn all_of_children<'a>(schema: &'a openapiv3::Schema, ptr: &str) -> Vec<Child<'a>> {
    match &schema.schema_kind {
        openapiv3::SchemaKind::AllOf { all_of } => all_of
            .iter()
            .enumerate()
            .map(|(i, part)| Child::new(part, format!("{ptr}/allOf/{i}")))
            .collect(),
        _ => Vec::new(),
    }
}

/// Reports `allOf` parts added or removed, one finding per list, as notes:
/// the parts are merged before comparing, so what they change in the values a
/// client sends or reads is reported by the other checks, and only the shape
/// of the composition is said here (oasdiff, which compares `allOf` by
/// structure, calls adding a part to a request breaking).
fn all_of<'a>(oc: &mut OpCtx<'a>, loc: &Loc, b: &Resolved<'a>, r: &Resolved<'a>) {
    let (base, rev) = (
        all_of_children(b.schema, &b.ptr),
        all_of_children(r.schema, &r.ptr),
    );
    if base.is_empty() && rev.is_empty() {
        return;
    }
    // A part is the same part when it names the same component or, inline, is
    // written the same.
    let mut used = vec![false; rev.len()];
    let mut removed = Vec::new();
    for (i, bp) in base.iter().enumerate() {
        let found = rev.iter().enumerate().position(|(j, rp)| {
            !used[j]
                && match (bp.reference(), rp.reference()) {
                    (Some(x), Some(y)) => x == y,
                    (None, None) => !differs(oc, bp, rp),
                    _ => false,
                }
        });
        match found {
            Some(j) => used[j] = true,
            None => removed.push(i),
        }
    }
    // An inline part edited in place is still that part: the rest of the
    // inline parts pair up in order, and their changes are the merged ones.
    removed.retain(|&i| {
        if base[i].reference().is_some() {
            return true;
        }
        match (0..rev.len()).find(|&j| !used[j] && rev[j].reference().is_none()) {
            Some(j) => {
                used[j] = true;
                false
            }
            None => true,
        }
    });
    let added: Vec<usize> = (0..rev.len()).filter(|j| !used[*j]).collect();
    list_change(oc, loc, "allOf", &base, &removed, true);
    list_change(oc, loc, "allOf", &rev, &added, false);
}

/// Reports the parts `picked` of a composition list (`oneOf`, `anyOf`, `allOf`)
/// as removed from the base or added to the revision: one finding per list and
/// direction, naming every part, as oasdiff counts them, at the list's pointer.
fn list_change(
    oc: &mut OpCtx<'_>,
    loc: &Loc,
    keyword: &str,
    parts: &[Child<'_>],
    picked: &[usize],
    removed: bool,
) {
    let (stem, level) = match (keyword, removed) {
        // `allOf` parts are merged before comparing: what they change in the
        // values is reported by the other checks, this is a note on the shape.
        ("allOf", true) => ("all-of-removed", Level::Info),
        ("allOf", false) => ("all-of-added", Level::Info),
        ("oneOf", true) => ("one-of-removed", loc.narrowing()),
        (_, true) => ("any-of-removed", loc.narrowing()),
        // A new alternative in a response is a shape old clients do not know.
        (keyword, false) => (
            if keyword == "oneOf" {
                "one-of-added"
            } else {
                "any-of-added"
            },
            if loc.request() {
                Level::Info
            } else {
                Level::Warning
            },
        ),
    };
    let Some(first) = picked.first().and_then(|&i| parts.get(i)) else {
        return;
    };
    let names = picked
        .iter()
        .filter_map(|&i| Some(alt_name(parts.get(i)?, i)))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "{} {} {} the {keyword} list of {}.",
        cap(&names),
        if picked.len() == 1 { "was" } else { "were" },
        if removed { "removed from" } else { "added to" },
        loc.describe()
    );
    let ptr = list_pointer(&first.ptr);
    let (bp, rp) = if removed {
        (Some(ptr.as_str()), None)
    } else {
        (None, Some(ptr.as_str()))
    };
    oc.emit(&loc.id(stem), level, bp, rp, text);
}

/// The pointer of the list an alternative's pointer is an item of.
fn list_pointer(item: &str) -> String {
    match item.rfind('/') {
        Some(at) if item[at + 1..].parse::<usize>().is_ok() => item[..at].to_string(),
        _ => item.to_string(),
    }
}

/// How an alternative is named in a property path: its component, its title,
/// or its position.
fn alt_label(child: &Child<'_>, index: usize) -> String {
    match (child.reference(), child.title()) {
        (Some(reference), _) => refs::short_name(reference),
        (None, Some(title)) => title.to_string(),
        (None, None) => format!("#{}", index + 1),
    }
}

/// Whether a property-path segment names an alternative rather than a property.
fn is_alternative(segment: &str) -> bool {
    segment.ends_with(']') && (segment.starts_with("oneOf[") || segment.starts_with("anyOf["))
}
