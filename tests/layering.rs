//! The module graph runs one way: no two top-level modules of `src/` import each other,
//! directly or through others (read from the `crate::…` paths outside tests). A cycle fails
//! this test with the modules and edges that form it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module names a piece of code refers to with `crate::name` or
/// `use crate::{a, b::c}`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find(';').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                out.insert(name);
            }
        }
        rest = after;
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut top = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() || (name != "lib" && name != "main") {
            top.insert(name);
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> =
        top.iter().map(|m| (m.clone(), BTreeSet::new())).collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.iter().any(|p| p == "tests" || p == "tests.rs") {
            continue;
        }
        let module = parts[0].trim_end_matches(".rs").to_owned();
        if !top.contains(&module) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Tests sit at the end of a file by convention; comments do not import.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for target in referenced(&code) {
            if target != module && top.contains(&target) {
                edges.get_mut(&module).unwrap().insert(target);
            }
        }
    }
    edges
}

/// The modules from which `start` is reachable again, if any.
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in &edges[&node] {
            if next == start {
                return Some(path);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let edges = graph();
    assert!(edges.len() > 5, "the graph was read: {edges:?}");
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|m| cycle_through(&edges, m))
        .map(|path| format!("{} -> {}", path.join(" -> "), path[0]))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_composition_root_is_imported_by_nobody_and_config_by_everybody_below() {
    let edges = graph();
    for (module, targets) in &edges {
        assert!(
            !targets.contains("daemon"),
            "{module} imports the composition root"
        );
    }
    let config = &edges["config"];
    assert!(
        config.is_empty(),
        "config must import no other module of convene: {config:?}"
    );
}

#[test]
fn the_reader_sees_a_cycle() {
    // The check itself can fail: a made-up graph with a cycle is found.
    let mut edges = BTreeMap::new();
    edges.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    edges.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    edges.insert("c".to_owned(), BTreeSet::new());
    assert!(cycle_through(&edges, "a").is_some());
    assert!(cycle_through(&edges, "c").is_none());
    assert_eq!(
        referenced("use crate::{outbox::Key, chat};\nlet x = crate::mail::compose;"),
        BTreeSet::from(["outbox".into(), "chat".into(), "mail".into()])
    );
}
