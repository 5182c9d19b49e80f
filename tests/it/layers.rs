//! The library's layering, checked on its sources: modules depend downward only. [`RULES`] is a
//! table of (module, modules it must not import); a module is named by its path in the crate
//! (`tui::app`) and covers its submodules, and a forbidden module covers its submodules too
//! (`capture::har` forbids `capture::har::x`, not `capture::har_entry`). Every path in the code of
//! `src/` that starts with `crate::`, `super::` or `self::` (in `use` trees, braces expanded, and
//! inline) is resolved against the file's module and the inline `mod` blocks around it, then
//! checked; comments and string literals are ignored. Test modules count too: a lower module's
//! tests do not reach up. [`ONLY`] lists modules that may import nothing of their crate but the
//! modules named (and themselves). The same checks run on the decoders crate
//! ([`DECODER_RULES`], [`DECODER_ONLY`]).

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::root;

/// (module, forbidden imports). Extend it when a boundary is established.
const RULES: &[(&str, &[&str])] = &[
    // Replay sends and compares; the commands start what it needs (the reference server).
    (
        "replay",
        &["fixture", "scenario", "proxy", "tui", "commands", "cli"],
    ),
    // The comparison engine is below replay, `diff` and the TUI.
    (
        "analysis",
        &["replay", "diff", "tui", "commands", "fixture", "proxy"],
    ),
    ("diff", &["replay", "tui", "commands", "fixture"]),
    ("tui", &["commands", "fixture"]),
    // The TUI's model (state, keys, commands, the text it shows) never imports its view.
    // Within the model: the app state uses the command parser and the text it shows, and the
    // sequence actions extend the app (`impl App`); none of those reaches back up.
    ("tui::app", &["tui::ui", "tui::sequence_actions"]),
    ("tui::command", &["tui::ui", "tui::app", "tui::text"]),
    ("tui::export", &["tui::ui"]),
    ("tui::keymap", &["tui::ui", "tui::app"]),
    ("tui::sequence_actions", &["tui::ui"]),
    (
        "tui::text",
        &["tui::ui", "tui::app", "tui::sequence_actions"],
    ),
    // HAR: the reader and file writer use the entry writer, which uses only the shared fields.
    ("capture::har_entry", &["capture::har"]),
    (
        "capture::har_fields",
        &["capture::har", "capture::har_entry"],
    ),
    // The HTML report is written from analysis and capture; the TUI and the commands use it.
    (
        "report",
        &[
            "tui", "commands", "cli", "live", "proxy", "replay", "diff", "fixture", "scenario",
        ],
    ),
    // Capture files sit below everything that reads them.
    (
        "capture",
        &[
            "analysis", "commands", "diff", "live", "proxy", "replay", "session", "tui",
        ],
    ),
    // The proxy is the engine only: it emits events and never waits on what consumes them.
    (
        "proxy",
        &[
            "live", "session", "tui", "commands", "capture", "analysis", "replay",
        ],
    ),
    // The live pipeline feeds the UI's store but knows nothing of the UI or the commands.
    (
        "live",
        &["tui", "commands", "replay", "fixture", "scenario"],
    ),
    ("session", &["tui", "commands", "proxy", "replay", "live"]),
    (
        "flow",
        &[
            "capture", "analysis", "proxy", "live", "session", "tui", "commands",
        ],
    ),
];

/// (module, the only modules of the crate it may import besides itself).
const ONLY: &[(&str, &[&str])] = &[
    // The reference server and the scripted client share the testbed and talk over the network.
    ("fixture", &["testbed"]),
    ("scenario", &["testbed"]),
    ("testbed", &[]),
    ("flow", &[]),
    // Fitting text to columns: below every view that shows text (the TUI, analyze, the report).
    ("fit", &[]),
];

/// The decoders crate: foundations and building blocks below the views and protocol decoders.
const DECODER_RULES: &[(&str, &[&str])] = &[
    // The generic views never depend on a protocol decoder (the protocols use them).
    (
        "generic",
        &[
            "jwt", "oauth", "oidc", "prt", "realm", "saml", "scim", "signin", "soap", "registry",
        ],
    ),
    // The XML layer is below everything that reads XML.
    (
        "xml",
        &[
            "generic", "jwt", "oauth", "oidc", "prt", "realm", "saml", "scim", "signin", "soap",
            "registry",
        ],
    ),
];

/// Decoder building blocks: what each may import (besides itself).
const DECODER_ONLY: &[(&str, &[&str])] = &[
    ("view", &[]),
    ("util", &["view"]),
    ("secrets", &["view", "util"]),
    ("aadsts", &[]),
    ("html", &["view", "util", "xml"]),
    ("x509", &["view", "util"]),
];

/// True when `path` is `module` or inside it (segment-wise).
fn within(path: &[String], module: &str) -> bool {
    let m: Vec<&str> = module.split("::").collect();
    path.len() >= m.len() && path.iter().zip(&m).all(|(a, b)| a == b)
}

/// The module a source file defines: `src/tui/app.rs` → `tui::app`, `src/tui/ui/mod.rs` →
/// `tui::ui`, `src/lib.rs` → the crate root.
fn module_of(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if matches!(
        segs.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segs.pop();
    }
    segs
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e` (whitespace already removed).
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let (prefix, rest) = tree.split_at(open);
    let inner = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
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
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// The code of a file with comments, string literals and character literals blanked out (line
/// breaks kept), so that neither a doc link nor a brace in a string counts.
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let mut i = 0;
    while i < c.len() {
        let next = |k: usize| c.get(i + k).copied().unwrap_or(' ');
        let prev_ident = i > 0 && is_ident(c[i - 1]);
        let end = if c[i] == '/' && next(1) == '/' {
            (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len())
        } else if c[i] == '/' && next(1) == '*' {
            (i + 2..c.len().saturating_sub(1))
                .find(|&k| c[k] == '*' && c[k + 1] == '/')
                .map_or(c.len(), |k| k + 2)
        } else if c[i] == 'r' && !prev_ident && (next(1) == '"' || next(1) == '#') {
            let hashes = (i + 1..c.len()).take_while(|&k| c[k] == '#').count();
            if next(1 + hashes) != '"' {
                out.push(c[i]);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            (i + 2 + hashes..c.len())
                .find(|&k| c[k..].starts_with(&close))
                .map_or(c.len(), |k| k + close.len())
        } else if c[i] == '"' {
            let mut k = i + 1;
            while k < c.len() && c[k] != '"' {
                k += if c[k] == '\\' { 2 } else { 1 };
            }
            (k + 1).min(c.len())
        } else if c[i] == '\'' && next(1) == '\\' {
            (i + 3..c.len())
                .find(|&k| c[k] == '\'')
                .map_or(c.len(), |k| k + 1)
        } else if c[i] == '\'' && next(2) == '\'' {
            i + 3
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        blank(&mut out, &c[i..end]);
        i = end;
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every crate-relative path a file names, as (absolute module path, line number).
fn imports(code: &str, file_module: &[String]) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    // The module at each point: the file's, plus inline `mod NAME {` blocks, closed by depth.
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        let prev_ident = k > 0 && is_ident(chars[k - 1].1);
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                while stack.last().is_some_and(|(_, d)| *d > depth) {
                    stack.pop();
                }
            }
            _ => {}
        }
        let rest = &code[at..];
        if !prev_ident && rest.starts_with("mod ") {
            let name: String = rest[4..]
                .trim_start()
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            let after = rest[4..].trim_start()[name.len()..].trim_start();
            if !name.is_empty() && after.starts_with('{') {
                stack.push((name, depth + 1));
            }
        }
        let starts = ["use ", "crate::", "super::", "self::"];
        if !prev_ident && starts.iter().any(|s| rest.starts_with(s)) {
            let line = code[..at].matches('\n').count() + 1;
            let here: Vec<String> = file_module
                .iter()
                .cloned()
                .chain(stack.iter().map(|(n, _)| n.clone()))
                .collect();
            let (text, skip) = if let Some(u) = rest.strip_prefix("use ") {
                let end = u.find(';').unwrap_or(u.len());
                (u[..end].to_string(), 4 + end)
            } else {
                let end = rest
                    .find(|c: char| !(is_ident(c) || c == ':'))
                    .unwrap_or(rest.len());
                (rest[..end].to_string(), end)
            };
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            for p in expand(&compact) {
                if let Some(abs) = resolve(&p, &here) {
                    out.push((abs, line));
                }
            }
            k += code[at..at + skip].chars().count().max(1);
            continue;
        }
        k += 1;
    }
    out
}

/// `crate::a::b`, `super::x`, `self::y` relative to module `here`; `None` for other paths
/// (external crates, `std`).
fn resolve(path: &str, here: &[String]) -> Option<Vec<String>> {
    let segs: Vec<&str> = path
        .split("::")
        .map(|s| s.split(" as ").next().unwrap_or(s))
        .filter(|s| !s.is_empty())
        .collect();
    let mut base: Vec<String> = match segs.first() {
        Some(&"crate") => Vec::new(),
        Some(&"super") | Some(&"self") => here.to_vec(),
        _ => return None,
    };
    let mut i = usize::from(segs.first() == Some(&"crate"));
    while let Some(s) = segs.get(i) {
        match *s {
            "super" => {
                base.pop()?;
            }
            "self" => {}
            _ => break,
        }
        i += 1;
    }
    base.extend(segs[i..].iter().map(|s| s.to_string()));
    Some(base)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every violation in the sources under `src`, as `file:line: module must not import path`: of
/// `rules`, and of `only` (a module named there importing a module of the crate, the first
/// segment of the path, that it neither is nor lists). Items of the crate root
/// itself (`crate::DecodeError`) are the foundation every module may use.
fn checked(src: &Path, rules: &[(&str, &[&str])], only: &[(&str, &[&str])]) -> Vec<String> {
    let top_modules: BTreeSet<String> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap();
        let module = module_of(rel);
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        for (path, line) in imports(&code, &module) {
            for (m, forbidden) in rules {
                if !within(&module, m) {
                    continue;
                }
                for x in forbidden.iter().filter(|x| within(&path, x)) {
                    out.insert(format!(
                        "{}/{}:{line}: {m} must not import {x} (names crate::{})",
                        src.display(),
                        rel.display(),
                        path.join("::")
                    ));
                }
            }
            for (m, allowed) in only {
                let top = path.first().map(String::as_str).unwrap_or("");
                if within(&module, m)
                    && !within(&path, m)
                    && top_modules.contains(top)
                    && !allowed.contains(&top)
                {
                    out.insert(format!(
                        "{}/{}:{line}: {m} may import only {allowed:?} (names crate::{})",
                        src.display(),
                        rel.display(),
                        path.join("::")
                    ));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The edges between the crate's top-level modules: `a -> b` when code in `a` names `crate::b`.
fn top_level_edges(src: &Path) -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges = BTreeSet::new();
    for f in &files {
        let module = module_of(f.strip_prefix(src).unwrap());
        let Some(from) = module.first() else {
            continue; // the crate root declares the modules; it is above them all
        };
        let code = code_only(&std::fs::read_to_string(f).unwrap());
        for (path, _) in imports(&code, &module) {
            let to = &path[0];
            let is_module = src.join(to).is_dir() || src.join(format!("{to}.rs")).is_file();
            if to != from && is_module {
                edges.insert((from.clone(), to.clone()));
            }
        }
    }
    edges
}

/// A cycle among the edges, as `a -> b -> … -> a`, if there is one.
fn a_cycle(edges: &BTreeSet<(String, String)>) -> Option<String> {
    fn visit(
        n: &str,
        edges: &BTreeSet<(String, String)>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle.join(" -> "));
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for (_, to) in edges.iter().filter(|(f, _)| f == n) {
            if let Some(c) = visit(to, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .iter()
        .find_map(|(from, _)| visit(from, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    for krate in ["src", "decoders/src"] {
        let edges = top_level_edges(&root().join(krate));
        assert!(
            edges.len() > 10,
            "{krate}: the scan finds the imports ({edges:?})"
        );
        if let Some(c) = a_cycle(&edges) {
            panic!("{krate}: import cycle {c}");
        }
    }
    let mut made_up = BTreeSet::new();
    for (a, b) in [("tui", "session"), ("session", "flow"), ("flow", "tui")] {
        made_up.insert((a.to_string(), b.to_string()));
    }
    assert_eq!(
        a_cycle(&made_up).as_deref(),
        Some("flow -> tui -> session -> flow")
    );
}

/// Comments explain the code as it is; issue numbers belong in commit messages.
#[test]
fn comments_name_no_issue_numbers() {
    let mut found = Vec::new();
    for dir in ["src", "decoders/src", "benches", "examples", "tests"] {
        let mut files = Vec::new();
        rust_files(&root().join(dir), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let comment = line.trim_start();
                let is_comment = comment.starts_with("//");
                let names_issue = comment.match_indices("issue #").any(|(at, m)| {
                    comment[at + m.len()..].starts_with(|c: char| c.is_ascii_digit())
                });
                if is_comment && names_issue {
                    found.push(format!("{}:{}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "issue numbers in comments:\n{}",
        found.join("\n")
    );
}

#[test]
fn modules_depend_downward_only() {
    let found = checked(&root().join("src"), RULES, ONLY);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn decoder_building_blocks_sit_below_the_decoders() {
    let found = checked(&root().join("decoders/src"), DECODER_RULES, DECODER_ONLY);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn the_layering_check_finds_imports_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let src = &dir.path().join("src");
    std::fs::create_dir_all(src.join("tui/ui")).unwrap();
    std::fs::create_dir_all(src.join("capture")).unwrap();
    std::fs::write(
        src.join("tui/app.rs"),
        "//! See [`super::ui::render`].\n\
         use super::{keymap, ui::{flow_view, tree}};\n\
         fn f() { let n = super::ui::help::lines().len(); }\n",
    )
    .unwrap();
    std::fs::write(src.join("tui/ui/mod.rs"), "use super::app::App;\n").unwrap();
    std::fs::write(
        src.join("capture/har_entry.rs"),
        "use super::har_fields::X;\n\
         #[cfg(test)]\nmod tests {\n    use super::super::har::Y;\n}\n",
    )
    .unwrap();
    std::fs::write(src.join("capture/har.rs"), "use super::har_entry::Z;\n").unwrap();
    std::fs::create_dir_all(src.join("fixture")).unwrap();
    std::fs::write(src.join("proxy.rs"), "").unwrap();
    std::fs::write(src.join("testbed.rs"), "").unwrap();
    std::fs::write(
        src.join("fixture/login.rs"),
        "use crate::testbed::HOSTS;\nuse super::state::State;\nuse crate::proxy::Handle;\n",
    )
    .unwrap();
    let rules: &[(&str, &[&str])] = &[
        ("tui::app", &["tui::ui"]),
        ("tui::ui", &["tui::keymap"]),
        ("capture::har_entry", &["capture::har"]),
        ("capture::har", &["capture::har_fields"]),
    ];
    let only: &[(&str, &[&str])] = &[("fixture", &["testbed"])];
    let found: Vec<String> = checked(src, rules, only)
        .into_iter()
        .map(|v| v.replace(&dir.path().display().to_string(), ""))
        .map(|v| v.trim_start_matches('/').to_string())
        .collect();
    assert_eq!(
        found,
        vec![
            "src/capture/har_entry.rs:4: capture::har_entry must not import capture::har \
             (names crate::capture::har::Y)",
            "src/fixture/login.rs:3: fixture may import only [\"testbed\"] \
             (names crate::proxy::Handle)",
            "src/tui/app.rs:2: tui::app must not import tui::ui (names crate::tui::ui::flow_view)",
            "src/tui/app.rs:2: tui::app must not import tui::ui (names crate::tui::ui::tree)",
            "src/tui/app.rs:3: tui::app must not import tui::ui \
             (names crate::tui::ui::help::lines)",
        ],
        "the doc link is not an import, har_entry's own module is not har, ui may read app, and \
         the fixture may use itself and the testbed only"
    );
}
