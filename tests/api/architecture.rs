//! The shape of the code, checked on its source: data flows one way (routes → services →
//! store), the services below the routes never reach up, and no two top-level modules import
//! each other, directly or around a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules of `src/` and the crate modules each one names (test code left out).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let top_level: BTreeSet<String> = files.iter().filter_map(|p| top_module(&src, p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let Some(module) = top_module(&src, path) else {
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let entry = graph.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && top_level.contains(&name) {
                entry.insert(name);
            }
        }
    }
    graph
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn top_module(src: &Path, path: &Path) -> Option<String> {
    let first = path.strip_prefix(src).ok()?.components().next()?;
    let name = first
        .as_os_str()
        .to_str()?
        .trim_end_matches(".rs")
        .to_owned();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

#[test]
fn layers_below_the_routes_never_import_routes_browser_startup_or_state() {
    let graph = imports();
    let services = [
        "domain",
        "keys",
        "ephemeral",
        "store",
        "auth",
        "oauth",
        "admin",
        "federation",
    ];
    let above = ["routes", "browser", "startup", "state", "error"];
    for module in services {
        let reached: Vec<&String> = graph[module]
            .iter()
            .filter(|m| above.contains(&m.as_str()))
            .collect();
        assert!(reached.is_empty(), "{module} imports {reached:?}");
    }
    assert!(
        graph["domain"].is_empty(),
        "domain imports {:?}",
        graph["domain"]
    );
    for module in ["store", "keys", "ephemeral"] {
        for service in ["auth", "oauth", "admin"] {
            assert!(
                !graph[module].contains(service),
                "{module} imports {service}"
            );
        }
    }
}

/// The `openidconnect` crate is confined to the one module that speaks to the upstream
/// provider (`federation::upstream`).
#[test]
fn only_the_upstream_module_speaks_openid_connect() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let users: Vec<String> = files
        .iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("openidconnect::")
        })
        .map(|p| p.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(!users.is_empty());
    for file in &users {
        assert!(
            file.starts_with("federation/upstream/"),
            "{file} uses openidconnect"
        );
    }
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = imports();
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        module: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(start) = path.iter().position(|m| *m == module) {
            panic!("import cycle: {:?} → {module}", &path[start..]);
        }
        if !done.insert(module) {
            return;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            visit(graph, next, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(&graph, module, &mut Vec::new(), &mut done);
    }
    assert!(done.len() >= 10, "{done:?}");
}
