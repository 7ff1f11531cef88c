//! Rules about path templates and the published base path (pure: no I/O).

use std::collections::HashSet;

use openapiv3::Parameter;

use super::context::{Ctx, Hit};
use crate::resolve::escape_segment;

fn path_pointer(path: &str) -> String {
    format!("/paths/{}", escape_segment(path))
}

/// Segments of a path, without the leading empty one.
fn segments(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}

/// The literal text of a segment with `{...}` templates removed, split at them:
/// `{id}.json` → `["", ".json"]`.
fn literal_parts(segment: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    for c in segment.chars() {
        match c {
            '{' => {
                depth += 1;
                parts.push(String::new());
            }
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
            _ => {}
        }
    }
    parts
}

fn is_kebab_word(s: &str) -> bool {
    !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Kebab-case words, optionally dot-separated so that `openapi.json` and
/// `.well-known` pass.
fn is_kebab(part: &str) -> bool {
    part.split('.').all(|w| w.is_empty() || is_kebab_word(w))
}

pub(super) fn kebab_case(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for path in ctx.doc.paths.paths.keys() {
        let segs = segments(path);
        let last = segs.len().saturating_sub(1);
        for (i, seg) in segs.iter().enumerate() {
            if seg.is_empty() {
                if i != last {
                    out.push(Hit::new(
                        path_pointer(path),
                        format!("Path `{path}` has an empty segment (`//`)."),
                    ));
                }
                continue;
            }
            if !literal_parts(seg).iter().all(|p| is_kebab(p)) {
                out.push(Hit::new(
                    path_pointer(path),
                    format!("Path segment `{seg}` in `{path}` is not kebab-case."),
                ));
            }
        }
    }
}

fn is_template(seg: &str) -> bool {
    seg.starts_with('{') && seg.ends_with('}')
}

fn is_version(seg: &str) -> bool {
    version_number(seg).is_some()
}

/// `v2` → 2.
fn version_number(seg: &str) -> Option<u64> {
    let digits = seg.strip_prefix(['v', 'V'])?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

const IRREGULAR_PLURALS: [&str; 16] = [
    "people", "children", "men", "women", "data", "media", "criteria", "feet", "teeth", "mice",
    "geese", "metadata", "staff", "sheep", "fish", "series",
];

fn is_plural(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    w.ends_with('s') || IRREGULAR_PLURALS.contains(&w.as_str())
}

pub(super) fn plural_nouns(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for path in ctx.doc.paths.paths.keys() {
        let segs = segments(path);
        for pair in segs.windows(2) {
            let [seg, next] = pair else { continue };
            if seg.is_empty() || seg.contains('{') || !is_template(next) || is_version(seg) {
                continue;
            }
            let word = seg.rsplit(['-', '_', '.']).next().unwrap_or(seg);
            if word.chars().any(|c| c.is_ascii_alphabetic()) && !is_plural(word) {
                out.push(Hit::new(
                    path_pointer(path),
                    format!(
                        "Collection segment `{seg}` in `{path}` should be a plural noun (`{seg}s`?)."
                    ),
                ));
            }
        }
    }
}

pub(super) fn no_trailing_slash(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for path in ctx.doc.paths.paths.keys() {
        if path.len() > 1 && path.ends_with('/') {
            out.push(Hit::new(
                path_pointer(path),
                format!("Path `{path}` ends with a slash."),
            ));
        }
    }
}

/// Names inside `{...}` in a path template.
fn template_names(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current: Option<String> = None;
    for c in path.chars() {
        match (c, current.as_mut()) {
            ('{', _) => current = Some(String::new()),
            ('}', Some(_)) => names.extend(current.take()),
            (c, Some(name)) => name.push(c),
            _ => {}
        }
    }
    names
}

pub(super) fn parameters_defined(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    for op in &ctx.ops {
        let names = template_names(op.path);
        let mut defined = HashSet::new();
        for p in &op.params {
            let Parameter::Path { parameter_data, .. } = p.param else {
                continue;
            };
            defined.insert(parameter_data.name.as_str());
            if !names.contains(&parameter_data.name) {
                out.push(Hit::new(
                    &p.pointer,
                    format!(
                        "Path parameter `{}` does not appear in the path `{}`.",
                        parameter_data.name, op.path
                    ),
                ));
            } else if !parameter_data.required {
                out.push(Hit::new(
                    &p.pointer,
                    format!(
                        "Path parameter `{}` must be `required: true`.",
                        parameter_data.name
                    ),
                ));
            }
        }
        for name in &names {
            if !defined.contains(name.as_str()) {
                out.push(Hit::new(
                    &op.pointer,
                    format!(
                        "{}: `{{{name}}}` has no matching `in: path` parameter.",
                        op.label
                    ),
                ));
            }
        }
    }
}

/// `2.1.0`, `v2`, `2` → 2.
fn major_of(version: &str) -> Option<u64> {
    let v = version.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

pub(super) fn base_path_major_version(ctx: &Ctx<'_>, out: &mut Vec<Hit>) {
    let Some(base) = ctx
        .options
        .base_path
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    else {
        return;
    };
    let info_version = &ctx.doc.info.version;
    let Some(base_major) = base.split('/').filter_map(version_number).next_back() else {
        out.push(Hit::new(
            "/info/version",
            format!(
                "Base path `{base}` has no `/vN` segment to match against info.version `{info_version}`."
            ),
        ));
        return;
    };
    match major_of(info_version) {
        None => out.push(Hit::new(
            "/info/version",
            format!("info.version `{info_version}` does not start with a major version number."),
        )),
        Some(major) if major != base_major => out.push(Hit::new(
            "/info/version",
            format!(
                "Base path `{base}` is major version {base_major} but info.version `{info_version}` is major {major}."
            ),
        )),
        Some(_) => {}
    }
}
