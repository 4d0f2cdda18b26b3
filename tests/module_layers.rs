//! The layers of the crate, checked over the `use` paths of `src/` (tests excluded): modules
//! import one way, and `src/local/` has no module cycle.
//!
//! - `tfplugin` ← `provider` → `api`; `local` imports none of them; `cidr` and `duration` import
//!   nothing of the crate.
//! - In `local/`: adapters (the native API, the dialects, auth, faults, the OpenAPI document)
//!   above one domain layer above the store. Domain modules never import an adapter, the store
//!   imports no domain module, a parent operation (`databases`) never imports its children's
//!   modules, and `auth` does not import `dialects`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules of `src/local/` that adapt a wire format (or serve one) over the domain.
const LOCAL_ADAPTERS: &[&str] = &[
    "auth",
    "dialects",
    "faults",
    "json_body",
    "native",
    "openapi",
];

/// What the store may import.
const STORE_MAY_IMPORT: &[&str] = &["error", "model"];

/// The child modules of the `databases` operations.
const CHILDREN_OF_DATABASES: &[&str] = &["credentials", "indexes", "ip_restrictions"];

/// One source file: its module path below the root it was read from, and its code without
/// comments and without its test module.
struct SourceFile {
    file: PathBuf,
    module: Vec<String>,
    code: String,
}

fn sources(root: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(root).unwrap().with_extension("");
                let mut module: Vec<String> = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|last| last == "mod") {
                    module.pop();
                }
                let code = code_of(&fs::read_to_string(&path).unwrap());
                files.push(SourceFile {
                    file: path,
                    module,
                    code,
                });
            }
        }
    }
    files
}

/// The text without `//` comments and without the `#[cfg(test)] mod tests` module (tests may
/// reach anywhere).
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        let without_comment = match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        code.push_str(without_comment);
        code.push('\n');
    }
    code
}

fn identifier_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// Names right inside a `{…}` group (nested groups skipped): `{a, b::c, d::{e}}` → a, b, d.
fn group_heads(group: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expecting = true;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expecting = true,
            c if expecting && depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                heads.push(identifier_at(&group[at..]));
                expecting = false;
            }
            _ => {}
        }
    }
    heads
}

/// The first path segments below `base` that `code` names, with `prefix` (e.g. `crate::local::`)
/// or with `super::` relative to `module`: the top-level modules it imports.
fn imported_tops(code: &str, module: &[String], prefix: &str) -> BTreeSet<String> {
    let mut tops = BTreeSet::new();
    let mut add = |base: &[String], rest: &str| {
        let names = match rest.strip_prefix('{') {
            Some(group) => group_heads(group),
            None => vec![identifier_at(rest)],
        };
        for name in names {
            match base.first() {
                Some(top) => tops.insert(top.clone()),
                None => tops.insert(name.to_owned()),
            };
        }
    };
    for (at, _) in code.match_indices(prefix) {
        if at > 0 && code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        add(&[], &code[at + prefix.len()..]);
    }
    let mut at = 0;
    while let Some(found) = code[at..].find("super::") {
        let start = at + found;
        if start > 0 && code[..start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == ':') {
            at = start + "super::".len();
            continue;
        }
        let mut rest = &code[start..];
        let mut levels = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            levels += 1;
            rest = after;
        }
        if levels <= module.len() {
            add(&module[..module.len() - levels], rest);
        }
        at = start + levels * "super::".len();
    }
    tops
}

/// Top-level module → the other top-level modules of the same root it imports, and one file
/// that does so (for messages).
fn import_graph(root: &Path, prefix: &str) -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let files = sources(root);
    let tops: BTreeSet<String> = files
        .iter()
        .filter_map(|file| file.module.first().cloned())
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in &files {
        let Some(from) = file.module.first() else {
            continue; // the root module (the router) may import every module
        };
        for to in imported_tops(&file.code, &file.module, prefix) {
            if &to != from && tops.contains(&to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| file.file.clone());
            }
        }
    }
    graph
}

/// A cycle of the graph, if any, as the modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, PathBuf>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|seen| seen == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn local_has_no_module_cycle() {
    let graph = import_graph(&src().join("local"), "crate::local::");
    assert!(
        graph.len() > 10,
        "the scan found too few modules: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle in src/local: {}", cycle.join(" → "));
    }
}

#[test]
fn local_layers_import_downwards() {
    let graph = import_graph(&src().join("local"), "crate::local::");
    let mut wrong = Vec::new();
    for (from, imports) in &graph {
        for (to, file) in imports {
            let from_adapter = LOCAL_ADAPTERS.contains(&from.as_str());
            let to_adapter = LOCAL_ADAPTERS.contains(&to.as_str());
            let reason = if !from_adapter && to_adapter {
                Some("a domain module imports an adapter")
            } else if from == "store" && !STORE_MAY_IMPORT.contains(&to.as_str()) {
                Some("the store imports a domain module")
            } else if from == "databases" && CHILDREN_OF_DATABASES.contains(&to.as_str()) {
                Some("a parent operation imports its child's module")
            } else if from == "auth" && to == "dialects" {
                Some("auth imports the dialects")
            } else {
                None
            };
            if let Some(reason) = reason {
                wrong.push(format!("{from} → {to} ({}): {reason}", file.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn crate_layers_import_one_way() {
    let graph = import_graph(&src(), "crate::");
    let forbidden: &[(&str, &[&str])] = &[
        ("tfplugin", &["provider", "api", "local"]),
        ("api", &["provider", "tfplugin", "local"]),
        ("provider", &["local"]),
        ("local", &["api", "provider", "tfplugin"]),
        (
            "cidr",
            &["api", "provider", "tfplugin", "local", "duration"],
        ),
        (
            "duration",
            &["api", "provider", "tfplugin", "local", "cidr"],
        ),
    ];
    let mut wrong = Vec::new();
    for (from, refused) in forbidden {
        for (to, file) in graph.get(*from).into_iter().flatten() {
            if refused.contains(&to.as_str()) {
                wrong.push(format!("{from} → {to} ({})", file.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_scan_sees_imports_in_every_spelling() {
    let module = ["dialects".to_owned(), "ovh".to_owned(), "wire".to_owned()];
    let code = "use super::super::super::databases::X;\nuse crate::local::{store, model::Y};\n\
                use super::decode;\nlet a = super::super::super::error::E;";
    let mut found = imported_tops(code, &module, "crate::local::");
    found.remove("dialects"); // `super::decode` is the dialect itself
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["databases", "error", "model", "store"]
    );
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a")] {
        graph
            .entry(from.into())
            .or_default()
            .insert(to.into(), PathBuf::new());
    }
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    assert_eq!(
        code_of("use a;\n// use b;\n#[cfg(test)]\nmod tests {\n use c;\n}\n"),
        "use a;\n\n"
    );
}
