//! The crate's layering, checked from its sources: which top-level module
//! uses which (`crate::x`, `crate::{x, y}`, and `super::` paths that reach
//! the crate root), with no cycle and none of the edges the design forbids
//! (see the crate doc and the style notes: `spec → plan → llb`, leaf
//! libraries know nothing of the crate).
//!
//! `cargo test --test layers -- --nocapture` prints the listing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `(module, modules it must not use)`.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("spec", &["plan", "convert", "frontend", "llb"]),
    ("plan", &["convert", "frontend", "llb"]),
    ("convert", &["frontend", "offline"]),
];

/// `(module, the only modules it may use)`: the leaf libraries.
const ONLY: &[(&str, &[&str])] = &[
    ("llb", &["image"]),
    ("image", &[]),
    ("redact", &[]),
    ("source", &[]),
    ("pyproject", &[]),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level modules of the library: `src/x.rs` and `src/x/`, less
/// the crate roots.
fn top_level_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            let module = p.is_dir() || p.extension().is_some_and(|e| e == "rs");
            (module && name != "lib" && name != "main").then_some(name)
        })
        .collect()
}

/// The module path of a file below `src/`: `spec/validate/index.rs` is
/// `["spec", "validate", "index"]`, `spec/mod.rs` is `["spec"]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The text without `//` comment lines (doc comments name modules freely).
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn leading_ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first names of the paths in `{a, b::c, d::{e, f}}` (after `{`).
fn group_heads(after_brace: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = 0;
    for (i, c) in after_brace.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                heads.push(after_brace[item_start..i].trim());
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(after_brace[item_start..i].trim());
                item_start = i + 1;
            }
            _ => {}
        }
    }
    heads.into_iter().map(leading_ident).collect()
}

/// The names right after each occurrence of `prefix` (`crate::`).
fn names_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => out.extend(group_heads(group)),
            None => out.push(leading_ident(rest)),
        }
    }
    out
}

/// Top-level module → the other top-level modules its files use.
fn graph() -> Graph {
    let modules = top_level_modules();
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in rust_files(&src()) {
        let relative = file.strip_prefix(src()).unwrap();
        let path = module_path(relative);
        let Some(owner) = path.first().filter(|m| modules.contains(*m)) else {
            continue;
        };
        let text = code(&std::fs::read_to_string(&file).unwrap());
        // From `a/b.rs` (module `a::b`), `super::super::` is the crate root.
        let root = "super::".repeat(path.len());
        let used = names_after(&text, "crate::")
            .into_iter()
            .chain(names_after(&text, &root));
        for name in used {
            if name != owner && modules.contains(name) {
                graph.get_mut(owner).unwrap().insert(name.to_owned());
            }
        }
    }
    graph
}

/// A cycle in `graph`, as a path that starts and ends at the same module.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut found = stack[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in &graph[node] {
            if let Some(found) = visit(next, graph, stack, done) {
                return Some(found);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn listing(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(module, uses)| {
            let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
            format!("{module}: {}\n", uses.join(" "))
        })
        .collect()
}

#[test]
fn modules_are_layered_without_cycles() {
    let graph = graph();
    println!("{}", listing(&graph));
    for expected in ["spec", "plan", "convert", "llb", "frontend", "source"] {
        assert!(graph.contains_key(expected), "no module `{expected}` found");
    }
    // The scan sees through both spellings.
    assert!(graph["frontend"].contains("convert"), "{}", listing(&graph));

    let mut broken = Vec::new();
    for (module, forbidden) in FORBIDDEN {
        for used in &graph[*module] {
            if forbidden.contains(&used.as_str()) {
                broken.push(format!("`{module}` must not use `{used}`"));
            }
        }
    }
    for (module, allowed) in ONLY {
        for used in &graph[*module] {
            if !allowed.contains(&used.as_str()) {
                broken.push(format!(
                    "`{module}` may use only {allowed:?}, but uses `{used}`"
                ));
            }
        }
    }
    if let Some(found) = cycle(&graph) {
        broken.push(format!("cycle: {}", found.join(" → ")));
    }
    assert!(
        broken.is_empty(),
        "{}\n\n{}",
        broken.join("\n"),
        listing(&graph)
    );
}

#[test]
fn the_scan_reads_groups_and_super_paths() {
    let text = "use crate::{llb::{pb, Output}, spec};\nlet x = crate::redact::mask(y);\nuse super::super::image::Platform;\n// crate::frontend\n";
    let code = code(text);
    assert_eq!(names_after(&code, "crate::"), ["llb", "spec", "redact"]);
    assert_eq!(names_after(&code, "super::super::"), ["image"]);
    assert_eq!(
        module_path(Path::new("spec/validate/index.rs")),
        ["spec", "validate", "index"]
    );
    assert_eq!(module_path(Path::new("spec/mod.rs")), ["spec"]);
    let mut g = Graph::new();
    g.insert("a".into(), ["b".to_owned()].into());
    g.insert("b".into(), ["a".to_owned()].into());
    assert_eq!(cycle(&g).unwrap(), ["a", "b", "a"]);
}
