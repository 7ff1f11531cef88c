//! Comparison of two schemas in a given direction (pure: no I/O).
//!
//! Both sides are resolved and flattened into [`View`]s, then compared keyword by
//! keyword. Each check asks whether the revision accepts (request) or may
//! produce (response) a different set of values: narrowing a request or
//! widening a response is what breaks clients. Ids follow oasdiff's prefixes:
//! `request-body-*` / `response-body-*` at the root of a body,
//! `request-property-*` / `response-property-*` below it, and
//! `request-parameter-*` / `response-header-*` for parameters and headers.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use super::refs::{self, Resolved};
use super::util::{cap, code, number};
use super::view::{self, Additional, Bound, Child, Flags, Side, View};
use super::{Edge, MemoKey, Node, OpCtx, Scope};
use steward_model::Level;

/// Schema pairs compared for one root before giving up. The memo already makes
/// the walk finite (pairs of nodes that exist in the two documents); this only
/// bounds the time an adversarial document can take.
const MAX_STEPS: usize = 200_000;

/// A pair of schemas waiting to be compared.
struct Task<'a> {
    loc: Loc,
    base: Child<'a>,
    rev: Child<'a>,
    /// The pair's memo key when already known, which saves resolving it.
    key: Option<MemoKey>,
}

/// Pending comparisons. The walk is breadth-first with an explicit queue rather
/// than recursive: no input can exhaust the stack, and a schema reached along
/// several routes is reported under its shortest property path.
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
}

impl Loc {
    pub(crate) fn new(scope: Scope, subject: String, status: Option<String>) -> Self {
        Loc {
            scope,
            subject,
            props: Vec::new(),
            status,
        }
    }

    fn child(&self, segment: &str) -> Loc {
        let mut loc = self.clone();
        loc.props.push(segment.to_string());
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
        let nested = !self.props.is_empty();
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
        match self.scope {
            Scope::RequestBody => format!("the request property {path}"),
            Scope::ResponseBody => format!("the response property {path}{status}"),
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
    });
    let mut steps = 0;
    while let Some(task) = queue.pop_front() {
        steps += 1;
        if steps > MAX_STEPS {
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
        if !oc.visited.insert(key.clone()) {
            continue;
        }
        // Most of a large document is unchanged between versions; skipping
        // pairs with nothing below them keeps the per-operation walk
        // proportional to what changed rather than to the schema graph.
        let known = oc.memo.dirty.get(&key).copied();
        let node = oc.memo.nodes.get(&key).cloned();
        let (Some(true), Some(node)) = (known, node) else {
            if known == Some(false) {
                continue;
            }
            let Some((b, r)) = resolve(oc, &task) else {
                continue;
            };
            if !dirty(oc, &key, &b, &r) {
                continue;
            }
            match oc.memo.nodes.get(&key).cloned() {
                Some(node) => walk_node(oc, &task, &node, &mut queue),
                // Not settled (the probe was truncated): walk it directly.
                None => step(oc, &task.loc, &b, &r, &mut queue),
            }
            continue;
        };
        walk_node(oc, &task, &node, &mut queue);
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
        let loc = match &edge.segment {
            Some(segment) => task.loc.child(segment),
            None => task.loc.clone(),
        };
        queue.push_back(Task {
            loc,
            base: edge.base.clone(),
            rev: edge.rev.clone(),
            key: Some(edge.key.clone()),
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
    let probe_loc = Loc::new(scope, String::new(), None);
    let mut scratch = OpCtx::new(oc.base, oc.rev, String::new(), String::new());
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
        scratch.visited.clear();
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
    let comparable = types(oc, loc, &bv, &rv);
    nullable(oc, loc, &bv, &rv);
    enums(oc, loc, &bv, &rv);
    bounds(oc, loc, &bv, &rv);
    pattern(oc, loc, &bv, &rv);
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
        });
    }
    alternatives(oc, loc, Alt::OneOf, &bv.one_of, &rv.one_of, queue);
    alternatives(oc, loc, Alt::AnyOf, &bv.any_of, &rv.any_of, queue);
}

fn type_name(typ: Option<&str>) -> String {
    code(typ.unwrap_or("any"))
}

/// Reports type and format changes; returns whether deeper comparison makes
/// sense (the types are the same or one is a numeric widening of the other).
fn types(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) -> bool {
    let (bt, rt) = (bv.typ.as_deref(), rv.typ.as_deref());
    let ptrs = (Some(bv.ptr.as_str()), Some(rv.ptr.as_str()));
    if bt == rt {
        formats(oc, loc, bv, rv);
        return true;
    }
    let desc = loc.describe();
    let from_to = format!("from {} to {}", type_name(bt), type_name(rt));
    let widens = matches!(
        (bt, rt),
        (Some("integer"), Some("number")) | (Some(_), None)
    );
    let narrows = matches!(
        (bt, rt),
        (Some("number"), Some("integer")) | (None, Some(_))
    );
    if widens {
        let (id, level) = if loc.request() {
            (loc.id("type-generalized"), Level::Info)
        } else {
            (loc.id("type-changed"), Level::Error)
        };
        let text = format!("The type of {desc} was widened {from_to}.");
        oc.emit(&id, level, ptrs.0, ptrs.1, text);
        true
    } else if narrows {
        let (id, level) = if loc.request() {
            (loc.id("type-changed"), Level::Error)
        } else {
            (loc.id("type-specialized"), Level::Info)
        };
        let text = format!("The type of {desc} was narrowed {from_to}.");
        oc.emit(&id, level, ptrs.0, ptrs.1, text);
        true
    } else {
        let text = format!("The type of {desc} changed {from_to}.");
        oc.emit(&loc.id("type-changed"), Level::Error, ptrs.0, ptrs.1, text);
        false
    }
}

fn formats(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) {
    let (bf, rf) = (bv.format.as_deref(), rv.format.as_deref());
    if bf == rf {
        return;
    }
    // A format is a restriction: dropping it, or moving to a larger encoding,
    // widens the accepted values.
    let widens = matches!(
        (bf, rf),
        (Some(_), None) | (Some("int32"), Some("int64")) | (Some("float"), Some("double"))
    );
    let narrows = matches!(
        (bf, rf),
        (None, Some(_)) | (Some("int64"), Some("int32")) | (Some("double"), Some("float"))
    );
    let (id, level) = match (widens, narrows, loc.request()) {
        (true, _, true) => (loc.id("type-generalized"), Level::Info),
        (_, true, false) => (loc.id("type-specialized"), Level::Info),
        _ => (loc.id("type-changed"), Level::Error),
    };
    let text = format!(
        "The format of {} changed from {} to {}.",
        loc.describe(),
        code(bf.unwrap_or("none")),
        code(rf.unwrap_or("none"))
    );
    oc.emit(&id, level, Some(&bv.ptr), Some(&rv.ptr), text);
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
                &loc.id("became-enum"),
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

fn bounds(oc: &mut OpCtx<'_>, loc: &Loc, bv: &View<'_>, rv: &View<'_>) {
    let (old_rows, new_rows) = (bv.bounds.rows(), rv.bounds.rows());
    if old_rows.iter().zip(&new_rows).all(|(o, n)| o.3 == n.3) {
        return;
    }
    let desc = loc.describe();
    for ((stem, keyword, side, old), (_, _, _, new)) in old_rows.into_iter().zip(new_rows) {
        let (suffix, narrows, text) = match (old, new) {
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
        // A looser bound in a response is usually harmless but can overflow a
        // client's buffer or validation, hence a warning rather than an error.
        let level = match (loc.request(), narrows) {
            (true, true) => Level::Error,
            (true, false) => Level::Info,
            (false, true) => Level::Info,
            (false, false) => Level::Warning,
        };
        oc.emit(
            &loc.id(&format!("{stem}-{suffix}")),
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
        match (bv.properties.get(name), rv.properties.get(name)) {
            (Some(bc), None) => {
                if !body || hidden(loc, &view::flags(oc.base, bc)) {
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
                if !body || hidden(loc, &view::flags(oc.rev, rc)) {
                    continue;
                }
                let (id, level, text) = match (request, is_required) {
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
                    (true, true) => {}
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
                        if body {
                            required_change(oc, &child, was_required, is_required, ptrs);
                            if !bf.deprecated && rf.deprecated {
                                let text = format!("{} was deprecated.", desc());
                                oc.emit(&child.id("deprecated"), Level::Info, ptrs.0, ptrs.1, text);
                            }
                        }
                        queue.push_back(Task {
                            loc: child.clone(),
                            base: bc.clone(),
                            rev: rc.clone(),
                            key: None,
                        });
                    }
                }
            }
            (None, None) => {}
        }
    }
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
    fn stem(self) -> &'static str {
        match self {
            Alt::OneOf => "one-of",
            Alt::AnyOf => "any-of",
        }
    }

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
/// title, then the remaining inline schemas in order. Returns the pairs and the
/// unmatched indexes on each side.
fn pair_alternatives(
    base: &[Child<'_>],
    rev: &[Child<'_>],
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut used = vec![false; rev.len()];
    let mut unmatched = Vec::new();
    let take = |used: &mut Vec<bool>, pred: &dyn Fn(&Child<'_>) -> bool| -> Option<usize> {
        let found = rev
            .iter()
            .enumerate()
            .find(|(j, r)| !used.get(*j).copied().unwrap_or(true) && pred(r))
            .map(|(j, _)| j)?;
        if let Some(slot) = used.get_mut(found) {
            *slot = true;
        }
        Some(found)
    };
    let mut inline = Vec::new();
    for (i, b) in base.iter().enumerate() {
        if let Some(reference) = b.reference() {
            match take(&mut used, &|r| r.reference() == Some(reference)) {
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
            Some(t) => take(&mut used, &|r| {
                r.reference().is_none() && r.title() == Some(t)
            }),
            None => None,
        };
        match found {
            Some(j) => pairs.push((i, j)),
            None => untitled.push(i),
        }
    }
    for i in untitled {
        match take(&mut used, &|r| r.reference().is_none()) {
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

fn alternatives<'a>(
    oc: &mut OpCtx<'a>,
    loc: &Loc,
    alt: Alt,
    base: &[Child<'a>],
    rev: &[Child<'a>],
    queue: &mut Queue<'a>,
) {
    if base.is_empty() && rev.is_empty() {
        return;
    }
    let (pairs, removed, added) = pair_alternatives(base, rev);
    let desc = if removed.is_empty() && added.is_empty() {
        String::new()
    } else {
        loc.describe()
    };
    for i in removed {
        let Some(b) = base.get(i) else { continue };
        let text = format!(
            "{} was removed from the {} list of {desc}.",
            alt_name(b, i),
            alt.keyword()
        );
        oc.emit(
            &loc.id(&format!("{}-removed", alt.stem())),
            loc.narrowing(),
            Some(&b.ptr),
            None,
            text,
        );
    }
    for j in added {
        let Some(r) = rev.get(j) else { continue };
        // A new alternative in a response is a shape old clients do not know.
        let level = if loc.request() {
            Level::Info
        } else {
            Level::Warning
        };
        let text = format!(
            "{} was added to the {} list of {desc}.",
            alt_name(r, j),
            alt.keyword()
        );
        oc.emit(
            &loc.id(&format!("{}-added", alt.stem())),
            level,
            None,
            Some(&r.ptr),
            text,
        );
    }
    for (i, j) in pairs {
        if let (Some(b), Some(r)) = (base.get(i), rev.get(j)) {
            queue.push_back(Task {
                loc: loc.clone(),
                base: b.clone(),
                rev: r.clone(),
                key: None,
            });
        }
    }
}
