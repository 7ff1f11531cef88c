//! The architecture as a test: the crate graph has only the arrows the README's
//! picture has, and inside every crate the top-level modules import each other
//! without a cycle. Cargo already refuses a dependency cycle between crates; these
//! checks refuse the arrows that would compile but break the layering.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every package in `crate`'s dependency tree of `kind` (`normal`, `dev`, ...).
fn tree(krate: &str, kind: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace())
        .args(["tree", "--offline", "--locked", "-p", krate, "-e", kind])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {krate}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn assert_none_of(krate: &str, kind: &str, forbidden: &[&str]) {
    let deps = tree(krate, kind);
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(
        found.is_empty(),
        "{krate} must not depend on {found:?} ({kind} dependencies)"
    );
}

#[test]
fn the_contract_engines_and_shared_types_need_no_runtime() {
    let runtimes = ["tokio", "sqlx", "axum", "hyper", "leptos"];
    assert_none_of("steward-contracts", "normal", &runtimes);
    assert_none_of("steward-model", "normal", &runtimes);
}

#[test]
fn the_gateway_never_depends_on_the_control_plane_or_the_console() {
    assert_none_of(
        "steward-gateway",
        "normal",
        &[
            "steward-control",
            "steward-console",
            "steward-server",
            "leptos",
        ],
    );
    assert_none_of(
        "steward-shared",
        "normal",
        &[
            "steward-control",
            "steward-gateway",
            "axum",
            "hyper",
            "leptos",
        ],
    );
}

#[test]
fn the_control_plane_does_not_depend_on_the_gateway_or_the_console() {
    assert_none_of(
        "steward-control",
        "normal",
        &[
            "steward-gateway",
            "steward-console",
            "steward-server",
            "leptos",
        ],
    );
}

/// The top-level modules of the crate whose sources are in `src`, with the
/// other top-level modules each one's files name (`crate::x`, or `super::x`
/// from as deep as the file sits), and the file that names each.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut tops = BTreeSet::new();
    for entry in std::fs::read_dir(src).expect("src exists").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "lib.rs" || name == "main.rs" || name == "bin" {
            continue;
        }
        if let Some(stem) = name.strip_suffix(".rs") {
            tops.insert(stem.to_string());
        } else if entry.path().is_dir() {
            tops.insert(name);
        }
    }
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> =
        tops.iter().map(|t| (t.clone(), BTreeMap::new())).collect();
    let mut files = Vec::new();
    collect(src, &mut files);
    for file in files {
        let rel: Vec<String> = file
            .strip_prefix(src)
            .expect("under src")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let module = rel[0].trim_end_matches(".rs").to_string();
        if !tops.contains(&module) {
            continue;
        }
        // How many `super::` lead from this file to the crate root.
        let depth = rel.len() - usize::from(rel.last().is_some_and(|l| l == "mod.rs"));
        let text = std::fs::read_to_string(&file).expect("readable");
        for named in names_of_root_items(&text, depth) {
            if named != module && tops.contains(&named) {
                graph
                    .get_mut(&module)
                    .expect("a top-level module")
                    .entry(named)
                    .or_insert_with(|| file.clone());
            }
        }
    }
    graph
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment after each path to the crate root in `text`.
fn names_of_root_items(text: &str, depth: usize) -> BTreeSet<String> {
    let mut roots = vec!["crate::".to_string()];
    roots.push("super::".repeat(depth));
    let mut names = BTreeSet::new();
    for root in roots {
        for (at, _) in text.match_indices(&root) {
            // `super::super::x` seen from a file one level up is not the root.
            let before = &text[..at];
            if root.starts_with("super") && before.ends_with("super::") {
                continue;
            }
            let rest = &text[at + root.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or_default();
                for item in inner.split(',') {
                    names.insert(first_segment(item.trim()));
                }
            } else {
                names.insert(first_segment(rest));
            }
        }
    }
    names
}

fn first_segment(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, PathBuf>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph[node].keys() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|s| s == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_crate_has_a_cycle_between_its_top_level_modules() {
    let root = workspace();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("server"))
        .expect("server/ exists")
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    sources.extend([root.join("frontend/src"), root.join("tests/src")]);
    assert!(sources.len() >= 7, "{sources:?}");
    for src in sources {
        let graph = module_graph(&src);
        if let Some(cycle) = find_cycle(&graph) {
            let edges: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], graph[&w[0]][&w[1]].display()))
                .collect();
            panic!(
                "{}: modules import each other:\n{}",
                src.display(),
                edges.join("\n")
            );
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let dir = std::env::temp_dir().join(format!("steward-arch-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::thing;\n").unwrap();
    std::fs::write(src.join("b/mod.rs"), "mod inner;\n").unwrap();
    std::fs::write(src.join("b/inner.rs"), "use super::super::a;\n").unwrap();
    let cycle = find_cycle(&module_graph(&src));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(cycle, Some(vec!["a".into(), "b".into(), "a".into()]));
}
