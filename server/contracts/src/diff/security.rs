//! Comparison of the security requirements in effect for an operation (pure: no I/O).
//!
//! `security` is a list of alternatives (any one suffices), each naming schemes
//! that must all be satisfied, with OAuth2 scopes per scheme. An operation
//! without its own `security` inherits the document's. The effective lists are
//! compared so that a global change is reported on each operation it affects;
//! when both sides inherit, the ids say `api-global-security-*`.
//!
//! Levels: an operation that allowed anonymous access and no longer does is
//! breaking (`api-security-added`, error), as is a new scheme inside an existing
//! alternative or a new scope (clients lack the credentials). Dropping one of
//! several alternatives is a warning: only clients using that one are hit.
//! Anything that only relaxes requirements is info.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, Operation, SecurityRequirement};

use super::OpCtx;
use super::util::code;
use steward_model::Level;

struct Effective<'a> {
    list: &'a [SecurityRequirement],
    /// Pointer of the list in effect, if there is one.
    ptr: Option<String>,
    inherited: bool,
}

fn effective<'a>(doc: &'a OpenAPI, op: &'a Operation, op_ptr: &str) -> Effective<'a> {
    if let Some(list) = &op.security {
        Effective {
            list,
            ptr: Some(format!("{op_ptr}/security")),
            inherited: false,
        }
    } else if let Some(list) = &doc.security {
        Effective {
            list,
            ptr: Some("/security".to_string()),
            inherited: true,
        }
    } else {
        Effective {
            list: &[],
            ptr: None,
            inherited: true,
        }
    }
}

/// An empty list, or an empty alternative, lets unauthenticated calls through.
fn anonymous(list: &[SecurityRequirement]) -> bool {
    list.is_empty() || list.iter().any(|alt| alt.is_empty())
}

fn schemes(alt: &SecurityRequirement) -> BTreeSet<&str> {
    alt.keys().map(String::as_str).collect()
}

fn names(set: &BTreeSet<&str>) -> String {
    set.iter().map(|s| code(s)).collect::<Vec<_>>().join(" + ")
}

fn item_ptr(list_ptr: &Option<String>, index: usize) -> Option<String> {
    list_ptr.as_ref().map(|p| format!("{p}/{index}"))
}

pub(crate) fn compare(
    oc: &mut OpCtx<'_>,
    base_op: &Operation,
    base_ptr: &str,
    rev_op: &Operation,
    rev_ptr: &str,
) {
    let b = effective(oc.base, base_op, base_ptr);
    let r = effective(oc.rev, rev_op, rev_ptr);
    let prefix = if b.inherited && r.inherited {
        "api-global-security"
    } else {
        "api-security"
    };
    let was_anonymous = anonymous(b.list);
    let is_anonymous = anonymous(r.list);
    if was_anonymous && !is_anonymous {
        let required: Vec<String> = r.list.iter().map(|alt| names(&schemes(alt))).collect();
        let text = format!(
            "The operation now requires authentication ({}) where anonymous calls were accepted.",
            required.join(" or ")
        );
        oc.emit(
            &format!("{prefix}-added"),
            Level::Error,
            b.ptr.as_deref(),
            r.ptr.as_deref(),
            text,
        );
    }
    let old: Vec<(usize, BTreeSet<&str>)> = b
        .list
        .iter()
        .enumerate()
        .filter(|(_, alt)| !alt.is_empty())
        .map(|(i, alt)| (i, schemes(alt)))
        .collect();
    let new: Vec<(usize, BTreeSet<&str>)> = r
        .list
        .iter()
        .enumerate()
        .filter(|(_, alt)| !alt.is_empty())
        .map(|(i, alt)| (i, schemes(alt)))
        .collect();
    let mut used_new = vec![false; new.len()];
    let mut unmatched_old = Vec::new();
    for (bi, bset) in &old {
        let found = new
            .iter()
            .enumerate()
            .find(|(k, (_, rset))| rset == bset && !used_new.get(*k).copied().unwrap_or(true));
        match found {
            Some((k, (ri, _))) => {
                if let Some(slot) = used_new.get_mut(k) {
                    *slot = true;
                }
                scopes(oc, prefix, &b, *bi, &r, *ri);
            }
            None => unmatched_old.push((*bi, bset)),
        }
    }
    // Once anonymous access is gone the single error above says it all; the
    // individual alternatives are then reported for information only.
    let quiet = was_anonymous && !is_anonymous;
    for (bi, bset) in unmatched_old {
        // An alternative that grew extra schemes: its clients now lack credentials.
        let grown = new.iter().enumerate().find(|(k, (_, rset))| {
            !used_new.get(*k).copied().unwrap_or(true)
                && rset.len() > bset.len()
                && bset.is_subset(rset)
        });
        if let Some((k, (ri, rset))) = grown {
            if let Some(slot) = used_new.get_mut(k) {
                *slot = true;
            }
            let extra: BTreeSet<&str> = rset.difference(bset).copied().collect();
            let text = format!(
                "The security alternative {} now also requires {}.",
                names(bset),
                names(&extra)
            );
            let level = if quiet { Level::Info } else { Level::Error };
            let (bp, rp) = (item_ptr(&b.ptr, bi), item_ptr(&r.ptr, *ri));
            oc.emit(
                &format!("{prefix}-added"),
                level,
                bp.as_deref(),
                rp.as_deref(),
                text,
            );
            continue;
        }
        let level = if is_anonymous || quiet {
            Level::Info
        } else {
            Level::Warning
        };
        let text = format!("The security alternative {} was removed.", names(bset));
        let bp = item_ptr(&b.ptr, bi);
        oc.emit(
            &format!("{prefix}-removed"),
            level,
            bp.as_deref(),
            None,
            text,
        );
    }
    for (k, (ri, rset)) in new.iter().enumerate() {
        if used_new.get(k).copied().unwrap_or(true) {
            continue;
        }
        let text = format!("The security alternative {} was added.", names(rset));
        let rp = item_ptr(&r.ptr, *ri);
        oc.emit(
            &format!("{prefix}-added"),
            Level::Info,
            None,
            rp.as_deref(),
            text,
        );
    }
}

/// Compares the scopes of two alternatives with the same schemes.
fn scopes(
    oc: &mut OpCtx<'_>,
    prefix: &str,
    b: &Effective<'_>,
    bi: usize,
    r: &Effective<'_>,
    ri: usize,
) {
    let (Some(balt), Some(ralt)) = (b.list.get(bi), r.list.get(ri)) else {
        return;
    };
    for (scheme, old_scopes) in balt {
        let Some(new_scopes) = ralt.get(scheme) else {
            continue;
        };
        let bp = b
            .ptr
            .as_ref()
            .map(|p| format!("{p}/{bi}/{}", crate::resolve::escape_segment(scheme)));
        let rp = r
            .ptr
            .as_ref()
            .map(|p| format!("{p}/{ri}/{}", crate::resolve::escape_segment(scheme)));
        for scope in new_scopes.iter().filter(|s| !old_scopes.contains(s)) {
            let text = format!(
                "The scope {} is now required for the security scheme {}.",
                code(scope),
                code(scheme)
            );
            oc.emit(
                &format!("{prefix}-scope-added"),
                Level::Error,
                bp.as_deref(),
                rp.as_deref(),
                text,
            );
        }
        for scope in old_scopes.iter().filter(|s| !new_scopes.contains(s)) {
            let text = format!(
                "The scope {} is no longer required for the security scheme {}.",
                code(scope),
                code(scheme)
            );
            oc.emit(
                &format!("{prefix}-scope-removed"),
                Level::Info,
                bp.as_deref(),
                rp.as_deref(),
                text,
            );
        }
    }
}
