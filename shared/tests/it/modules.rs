//! No module of `shared` (or of xtask's library) imports a module that
//! imports it back. A cycle means two concepts that cannot be understood,
//! tested or moved apart; ARCHITECTURE.md's map depends on there being none.
//!
//! A module's imports are the `crate::` and `super::` paths in its file,
//! test modules at the end excluded, each resolved to the deepest module it
//! names. A parent declaring or re-exporting its child is not an import, and
//! neither is a child reaching into its parent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_module_of_shared_imports_one_that_imports_it_back() {
    let root = xtask::project_root();
    for src in ["shared/src", "xtask/src"] {
        let cycles = cycles(&imports(&root.join(src)));
        assert!(cycles.is_empty(), "modules of {src} in a loop: {cycles:?}");
    }
}

#[test]
fn a_loop_is_found_however_it_is_spelled() {
    let dir = std::env::temp_dir().join(testkit::unique("cycles"));
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod config;\npub mod db;\npub mod tasks;\n");
    write(
        "config.rs",
        "pub fn roots() -> bool { crate::db::uses_roots() }\n",
    );
    write(
        "db/mod.rs",
        "mod tls;\nuse crate::{config::Config, error};\n",
    );
    write("db/tls.rs", "use super::DbError;\n");
    write("tasks/mod.rs", "pub mod cursor;\npub mod query;\n");
    write("tasks/cursor.rs", "use super::query::ListQuery;\n");
    write(
        "tasks/query.rs",
        "#[cfg(test)]\nmod tests {\n    use super::super::cursor::Cursor;\n}\n",
    );
    let found = cycles(&imports(&dir));
    assert_eq!(found, vec![vec!["config".to_owned(), "db".to_owned()]]);

    // A test module's imports do not count; the module's own code does.
    write("tasks/query.rs", "use crate::tasks::cursor::MAX;\n");
    let found = cycles(&imports(&dir));
    assert!(
        found.contains(&vec!["tasks::cursor".to_owned(), "tasks::query".to_owned()]),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Module name (`tasks::cursor`; the crate root is "") → modules it imports.
fn imports(src: &Path) -> Graph {
    let mut files = BTreeMap::new();
    collect(src, src, &mut files);
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, text) in &files {
        let parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        let mut targets = BTreeSet::new();
        for path in paths(without_tests(text)) {
            let mut segments: Vec<String> = Vec::new();
            let mut parts = path.iter();
            match parts.next().map(String::as_str) {
                Some("crate") => {}
                Some("super") => segments.extend(parent.iter().map(|s| s.to_string())),
                _ => continue,
            }
            segments.extend(parts.cloned());
            // The deepest module the path names.
            let target = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|candidate| modules.contains(candidate));
            if let Some(target) = target {
                let related = target == *module
                    || module.starts_with(&format!("{target}::"))
                    || target.starts_with(&format!("{module}::"))
                    || module.is_empty();
                if !related {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut segments: Vec<String> = relative
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(
                segments.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                segments.pop();
            }
            // Binaries (src/bin) are crates of their own.
            if segments.first().is_some_and(|s| s == "bin") {
                continue;
            }
            files.insert(segments.join("::"), std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The file without its `#[cfg(test)] mod tests { … }` (by convention, last).
fn without_tests(text: &str) -> &str {
    let mut search = 0;
    while let Some(at) = text[search..].find("#[cfg(test)]") {
        let start = search + at;
        if text[start + "#[cfg(test)]".len()..]
            .trim_start()
            .starts_with("mod tests")
        {
            return &text[..start];
        }
        search = start + 1;
    }
    text
}

/// Every `crate::…` and `super::…` path, as segments; a group
/// (`crate::{a::B, c}`) gives one path per member.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for head in ["crate::", "super::"] {
        let mut search = 0;
        while let Some(at) = text[search..].find(head) {
            let start = search + at;
            search = start + head.len();
            let preceded = start > 0 && is_ident(bytes[start - 1]);
            if preceded {
                continue;
            }
            let base = vec![head.trim_end_matches(':').to_owned()];
            let rest = &text[start + head.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                for member in inner.split(',') {
                    let mut path = base.clone();
                    path.extend(segments(member.trim()));
                    found.push(path);
                }
            } else {
                let mut path = base;
                path.extend(segments(rest));
                found.push(path);
            }
        }
    }
    found
}

/// The leading `a::b::c` of `text`, as segments (`super` included).
fn segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let end = rest
            .bytes()
            .position(|b| !is_ident(b))
            .unwrap_or(rest.len());
        if end == 0 {
            return out;
        }
        out.push(rest[..end].to_owned());
        match rest[end..].strip_prefix("::") {
            Some(next) if next.bytes().next().is_some_and(is_ident) => rest = next,
            _ => return out,
        }
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The strongly connected components of more than one module, each sorted.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(node) = stack.pop() {
            if node == to {
                return true;
            }
            if seen.insert(node.clone()) {
                stack.extend(graph.get(&node).into_iter().flatten().cloned());
            }
        }
        false
    };
    let mut components: Vec<Vec<String>> = Vec::new();
    for module in graph.keys() {
        if components.iter().any(|c| c.contains(module)) {
            continue;
        }
        let component: Vec<String> = graph
            .keys()
            .filter(|other| *other == module || (reaches(module, other) && reaches(other, module)))
            .cloned()
            .collect();
        if component.len() > 1 {
            components.push(component);
        }
    }
    components
}
