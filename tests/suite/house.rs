//! House rules checked on the source itself: no import circles between the crate's modules,
//! and no room over 600 lines of code (unit tests apart) without a `//! Why one file` reason
//! at its top.
//!
//! A circle is two rooms that each need the other (`cache` uses the pipeline's `CallError`
//! while the pipeline uses the cache): neither can be read, changed or tested alone. The rule,
//! checked at every level of the module tree: among the children of one module (and that
//! module's own file), the uses form no cycle, where a use of anything inside a child counts as
//! a use of that child. A parent's file may use its children; a child that needs something of
//! its parent's file means that thing belongs in a sibling below both.
//!
//! Uses are read from the text: `use` trees (braces expanded), `crate::`/`super::`/`self::`
//! paths in code, and a parent naming a child module (`child::item`). Unit-test modules at the
//! end of a file (`#[cfg(test)] mod tests`, or any name) are left out: they may use whatever they test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// Every module of the crate: its path (`backend::flatfile::reader`, "" for the crate root) and
/// its source file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            if rel == Path::new("main") {
                continue; // the binary's root is a crate of its own
            }
            out.insert(parts.join("::"), p);
        }
    }
    out
}

/// The file's text without its unit-test module, and with comments blanked (a doc comment that
/// mentions `reader::open` is not a use); lines keep their numbers.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match Regex::new(r"(?m)^#\[cfg\(test\)\]\s*\n\s*mod \w+\s*\{")
        .unwrap()
        .find(&text)
    {
        Some(m) => text[..m.start()].to_string(),
        None => text,
    };
    let comment = Regex::new(r"(?m)(^|\s)//.*$").unwrap();
    comment.replace_all(&text, "$1").into_owned()
}

/// The paths a `use` tree names, braces expanded: `a::{b, c::{d, e}}` → a::b, a::c::d, a::c::e.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap()];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |q| format!("{prefix}{q}")))
        .collect()
}

/// The module a path names (the longest known module it starts with), seen from module `here`.
fn resolve(path: &str, here: &str, mods: &BTreeMap<String, PathBuf>) -> Option<String> {
    let path = path.trim_end_matches("::self").trim_end_matches("::*");
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = if here.is_empty() {
        vec![]
    } else {
        here.split("::").collect()
    };
    match segs.first() {
        Some(&"crate") => {
            base.clear();
            segs.remove(0);
        }
        Some(&"super") => {
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
        }
        Some(&"self") => {
            segs.remove(0);
        }
        _ => return None,
    }
    let mut best = None;
    for i in 0..=segs.len() {
        let name = base
            .iter()
            .chain(&segs[..i])
            .copied()
            .collect::<Vec<_>>()
            .join("::");
        if mods.contains_key(&name) {
            best = Some(name);
        }
    }
    best
}

/// For every module: the modules it uses, each with the first line that shows it.
fn uses(mods: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeMap<String, String>> {
    let use_stmt = Regex::new(r"(?ms)^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);").unwrap();
    let inline = Regex::new(r"\b(?:crate|super)(?:::\w+)+").unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (m, path) in mods {
        let text = code(path);
        let mut found: Vec<(String, usize)> = Vec::new();
        for cap in use_stmt.captures_iter(&text) {
            let at = cap.get(1).unwrap().start();
            for p in expand(&cap[1]) {
                found.push((p, at));
            }
        }
        for hit in inline.find_iter(&text) {
            found.push((hit.as_str().to_string(), hit.start()));
        }
        // A parent naming a child module directly (`reader::open(..)`, `use reader::X`).
        for child in mods.keys() {
            let Some(rest) = child.strip_prefix(&format!("{m}::")).or(if m.is_empty() {
                Some(child.as_str())
            } else {
                None
            }) else {
                continue;
            };
            if rest.contains("::") || rest.is_empty() {
                continue;
            }
            let named = Regex::new(&format!(r"(?:^|[^:\w]){rest}::")).unwrap();
            if let Some(hit) = named.find(&text) {
                found.push((format!("self::{rest}"), hit.start()));
            }
        }
        for (p, at) in found {
            if let Some(target) = resolve(&p, m, mods)
                && &target != m
            {
                let line = text[..at].matches('\n').count() + 1;
                out.entry(m.clone())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| format!("{}:{line}", path.display()));
            }
        }
    }
    out
}

/// The strongly connected components with more than one node (Tarjan).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                if !self.index.contains_key(w.as_str()) {
                    self.visit(w);
                    let l = self.low[w.as_str()].min(self.low[v]);
                    self.low.insert(v, l);
                } else if self.on.contains(w.as_str()) {
                    let l = self.index[w.as_str()].min(self.low[v]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        out: vec![],
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

/// Every circle at every level of the module tree, each with the uses that close it.
fn house_circles(src: &Path) -> Vec<String> {
    let mods = modules(src);
    let uses = uses(&mods);
    // level (a module) → its children and "(self)" → which of them they use, and where.
    let mut levels: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>> = BTreeMap::new();
    for (a, targets) in &uses {
        for (b, at) in targets {
            let pa: Vec<&str> = a.split("::").filter(|s| !s.is_empty()).collect();
            let pb: Vec<&str> = b.split("::").filter(|s| !s.is_empty()).collect();
            let common = pa.iter().zip(&pb).take_while(|(x, y)| x == y).count();
            let name = |p: &[&str]| {
                p.get(common)
                    .map_or("(self)".to_string(), |s| s.to_string())
            };
            let (na, nb) = (name(&pa), name(&pb));
            if na != nb {
                levels
                    .entry(pa[..common].join("::"))
                    .or_default()
                    .entry(na)
                    .or_default()
                    .entry(nb)
                    .or_insert_with(|| at.clone());
            }
        }
    }
    let mut report = Vec::new();
    for (level, g) in &levels {
        let graph = g
            .iter()
            .map(|(k, v)| (k.clone(), v.keys().cloned().collect()))
            .collect();
        for comp in circles(&graph) {
            let mut text = format!(
                "in `{}`: {} use each other:",
                if level.is_empty() { "crate" } else { level },
                comp.join(", ")
            );
            for a in &comp {
                for (b, at) in &g[a] {
                    if comp.contains(b) {
                        text.push_str(&format!("\n    {a} -> {b}  ({at})"));
                    }
                }
            }
            report.push(text);
        }
    }
    report
}

/// No level of the module tree has a circle. (The last of the 16 circles this test found when
/// it was written was untied on 2026-12-06; there is no allow-list any more.)
#[test]
fn the_crate_has_no_import_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let report = house_circles(&src);
    assert!(
        report.is_empty(),
        "import circles (move what both sides need into a module below both):\n{}",
        report.join("\n")
    );
}

/// The checker itself finds a circle, including one through a parent's own file.
#[test]
fn the_checker_sees_a_circle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("b")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::inner::Thing;\n").unwrap();
    std::fs::write(
        src.join("b/mod.rs"),
        "pub mod inner;\npub use inner::Thing;\npub struct Shared;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("b/inner.rs"),
        "use super::Shared;\npub struct Thing(crate::a::X);\n",
    )
    .unwrap();
    let report = house_circles(src);
    assert_eq!(report.len(), 2, "{report:#?}");
    assert!(
        report[0].contains("in `crate`: a, b use each other"),
        "{report:#?}"
    );
    assert!(report[1].contains("in `b`: (self), inner"), "{report:#?}");
    // Unit tests at the end of a file may use anything.
    std::fs::write(
        src.join("a.rs"),
        "#[cfg(test)]\nmod tests {\n    use crate::b::Shared;\n}\n",
    )
    .unwrap();
    std::fs::write(src.join("b/inner.rs"), "pub struct Thing(crate::a::X);\n").unwrap();
    assert!(house_circles(src).is_empty());
}

/// Rooms a newcomer can hold in their head: a module over this many lines of code (its unit
/// tests at the end not counted) says at its top why it is one file.
const ROOM_LINES: usize = 600;

/// The lines of a file before its trailing unit-test module.
fn code_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or(lines.len())
}

/// The rooms over `ROOM_LINES` without a reason, as `file: N lines`.
fn big_rooms(src: &Path) -> Vec<String> {
    modules(src)
        .values()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let n = code_lines(&text);
            let reasoned = text
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .any(|l| l.starts_with("//! Why one file"));
            (n > ROOM_LINES && !reasoned).then(|| format!("{}: {n} lines", path.display()))
        })
        .collect()
}

#[test]
fn no_room_is_too_big_without_a_reason() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let big = big_rooms(&src);
    assert!(
        big.is_empty(),
        "split these along their seams, or say at the top why they are one file (`//! Why one file ...`):\n{}",
        big.join("\n")
    );
}

/// The size rule sees a long room and accepts it once it gives its reason.
#[test]
fn the_size_rule_sees_a_long_room() {
    let dir = tempfile::tempdir().unwrap();
    let long = "//! A long room.\n".to_string() + &"fn f() {}\n".repeat(ROOM_LINES + 1);
    std::fs::write(dir.path().join("lib.rs"), "mod long;\n").unwrap();
    std::fs::write(dir.path().join("long.rs"), &long).unwrap();
    assert_eq!(big_rooms(dir.path()).len(), 1);
    let tests_apart = "//! A room.\n".to_string()
        + &"fn f() {}\n".repeat(10)
        + "#[cfg(test)]\nmod tests {\n"
        + &"fn t() {}\n".repeat(ROOM_LINES);
    std::fs::write(dir.path().join("long.rs"), tests_apart).unwrap();
    assert!(big_rooms(dir.path()).is_empty());
    let reasoned = "//! A long room.\n//! Why one file: it is one thing.\n".to_string()
        + &"fn f() {}\n".repeat(ROOM_LINES + 1);
    std::fs::write(dir.path().join("long.rs"), reasoned).unwrap();
    assert!(big_rooms(dir.path()).is_empty());
}
