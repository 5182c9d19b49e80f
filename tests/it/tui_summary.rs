//! The TUI's trace summary screen (`S`) against `idscope analyze`: one capture, loaded by the
//! TUI's own loader (which keeps a digest per flow, not its decoding) and analyzed by
//! `analyze --summary-only` (which decodes every flow), gives the same lines, the groups of
//! identical findings and the unverified signatures included; Enter on a finding group lists the
//! flows that `analyze --json` says carry that finding.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use idscope::flow::Flow;
use idscope::tui::{App, Event, spawn_loader};
use serde_json::Value;
use tokio::sync::mpsc::unbounded_channel;

use crate::tui_fixture::{fixture_flow, sample_flows, simple_flow, write_capture};
use crate::util::{fixture, idscope, stderr, stdout};

fn key(app: &mut App, code: KeyCode) {
    app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// The JWT of a `BLOB` fixture.
fn token(name: &str) -> String {
    let text = std::fs::read_to_string(fixture(&format!("jwt/{name}.http"))).unwrap();
    text.trim_start_matches("BLOB").trim().to_string()
}

/// The sample flows, a second signed SAML response, and API calls bearing JWTs: twice one whose
/// key no one published (a signature not verified, the same message on both flows) and once an
/// expired one.
fn flows() -> Vec<Flow> {
    let mut flows = sample_flows();
    let n = flows.len() as u64;
    flows.push(fixture_flow(
        n,
        Some("saml/post_response_signed_assertion"),
        None,
    ));
    for (i, name) in ["unknown_kid", "expired", "unknown_kid"].iter().enumerate() {
        let mut f = simple_flow(
            n + 1 + i as u64,
            "GET",
            "https://graph.windows.net/me",
            200,
            "application/json",
            b"{}",
        );
        f.request
            .headers
            .push_str("authorization", &format!("Bearer {}", token(name)));
        flows.push(f);
    }
    flows
}

/// [`flows`] written as a HAR capture in a temporary directory (kept while the test runs) and
/// loaded with the TUI's loader into an app whose summary screen is open.
fn summary_open() -> (tempfile::TempDir, PathBuf, App) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.har");
    write_capture(&path, &flows());
    let (tx, mut rx) = unbounded_channel();
    spawn_loader(path.clone(), tx).join().unwrap();
    let mut app = App::for_test();
    app.update(Event::Resize(160, 40));
    while let Ok(ev) = rx.try_recv() {
        app.update(ev);
    }
    key(&mut app, KeyCode::Char('S'));
    (dir, path, app)
}

/// `analyze` on `path` with `args`.
fn analyze(path: &Path, args: &[&str]) -> String {
    let mut all = vec!["analyze", "--fail-on", "never"];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    let o = idscope(&all, None);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// The rows of the `--json` summary object, section by section: (section, label, count, filter).
fn json_rows(path: &Path) -> Vec<(String, String, u64, Option<String>)> {
    let out = analyze(path, &["--json", "--summary-only"]);
    let summary: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let mut rows = Vec::new();
    for s in summary["sections"].as_array().unwrap() {
        for r in s["rows"].as_array().unwrap() {
            rows.push((
                s["title"].as_str().unwrap().to_string(),
                r["label"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["filter"].as_str().map(str::to_string),
            ));
        }
    }
    rows
}

#[test]
fn the_summary_screen_shows_every_row_analyze_summary_only_prints() {
    let (_dir, path, app) = summary_open();
    let screen = app.summary_screen().expect("S opens the summary");

    // The same lines, in the same order, as `analyze --summary-only` prints.
    let printed = analyze(&path, &["--summary-only"]);
    let shown: Vec<&str> = screen.lines.iter().map(|l| l.line.text.as_str()).collect();
    assert_eq!(shown, printed.lines().collect::<Vec<_>>());

    // Row by row: the label and count of each row of the summary object, and its filter is the
    // one Enter applies (the sessions count is the screen's heading).
    let rows = json_rows(&path);
    let on_screen: Vec<_> = screen.lines.iter().filter(|l| l.filter.is_some()).collect();
    let with_filter: Vec<_> = rows
        .iter()
        .filter(|r| r.0 != "Sessions" && r.3.is_some())
        .collect();
    assert_eq!(on_screen.len(), with_filter.len());
    for (line, (_, label, count, filter)) in on_screen.iter().zip(&with_filter) {
        let text = &line.line.text;
        assert!(
            text.starts_with(&format!("    {count:>6}  {label}")),
            "{text} / {label}"
        );
        assert_eq!(&line.filter, filter, "{label}");
    }

    // The rows a digest-built screen used to leave out are there, each with its filter.
    let groups: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "Findings" && r.1.starts_with('['))
        .collect();
    assert!(
        groups
            .iter()
            .any(|r| r.1.contains("not verified") && r.2 == 2),
        "a group of the two flows with the same unverified SAML signature: {groups:#?}"
    );
    assert!(groups.len() >= 3, "{groups:#?}");
    let unverified = rows
        .iter()
        .find(|r| r.1 == "flows with a signature not verified")
        .expect("the unverified signatures row");
    assert!(
        unverified.2 >= 4,
        "two SAML responses, two JWTs: {unverified:?}"
    );
    for r in groups.iter().copied().chain([unverified]) {
        assert!(
            on_screen
                .iter()
                .any(|l| l.line.text.contains(&r.1) && l.filter == r.3 && r.3.is_some()),
            "{r:?} on screen"
        );
    }
}

#[test]
fn enter_on_a_finding_group_lists_exactly_the_flows_with_that_finding() {
    let (_dir, path, mut app) = summary_open();

    // A group of two flows with the same finding, as the summary object shows it.
    let rows = json_rows(&path);
    let (_, label, count, filter) = rows
        .iter()
        .find(|r| {
            r.0 == "Findings" && r.1.starts_with('[') && r.1.contains("not verified") && r.2 == 2
        })
        .unwrap_or_else(|| panic!("a group of two unverified signatures: {rows:#?}"));
    let filter = filter.clone().expect("a group's filter");

    // The flows whose findings, as `analyze --json` lists them, are that group's: the label is
    // `[severity] decoder: message`, the message clipped with `…` when long.
    let json = analyze(&path, &["--json"]);
    let mut by_finding: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for v in json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
    {
        if v["type"] != "flow" {
            continue;
        }
        for f in v["findings"].as_array().unwrap() {
            let key = format!(
                "[{}] {}: {}",
                f["severity"].as_str().unwrap(),
                f["decoder"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            );
            by_finding
                .entry(key)
                .or_default()
                .insert(v["id"].as_u64().unwrap());
        }
    }
    let prefix = label.trim_end_matches('…');
    let matching: Vec<_> = by_finding
        .iter()
        .filter(|(k, _)| k.as_str() == label || (label.ends_with('…') && k.starts_with(prefix)))
        .collect();
    assert_eq!(matching.len(), 1, "{label}: {by_finding:#?}");
    let expected = matching[0].1.clone();
    assert_eq!(expected.len() as u64, *count, "{label}");

    // Select that row on the screen and press Enter.
    let screen = app.summary_screen().unwrap();
    let at = screen
        .lines
        .iter()
        .filter(|l| l.filter.is_some())
        .position(|l| l.line.text.contains(label.as_str()))
        .expect("the group's row on the screen");
    for _ in 0..at {
        key(&mut app, KeyCode::Char('j'));
    }
    assert_eq!(
        app.summary_screen().unwrap().selected_filter(),
        Some(filter.as_str())
    );
    assert!(filter.starts_with("~id "), "an exact filter: {filter}");
    key(&mut app, KeyCode::Enter);
    assert!(app.summary_screen().is_none());
    assert_eq!(app.filter().map(|f| f.text()), Some(filter.as_str()));
    let listed: BTreeSet<u64> = app.shown().iter().map(|id| id.0 + 1).collect();
    assert_eq!(listed, expected, "{filter}");
}
