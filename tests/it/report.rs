//! `idscope report` end to end with the built binary: the page's structure (CSP hashes of the
//! exact inline script and style, no external reference, a ROW and a DETAIL per flow, the stories
//! `analyze --json` gives with one diagram section each), redaction (no canary of the planted
//! capture in any spelling; a residual credential refuses the report and leaves nothing),
//! `--show-secrets`, `--filter`, never overwriting, input errors, and `analyze --report`. The
//! page in a real browser is tested in `browser.rs`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::analyze_story::demo_recording;
use crate::redact::{canary, entry, jws, ok, planted, req, spellings, write};
use crate::util::{idscope, root, stderr, stdout};

/// Runs `idscope report IN -o OUT EXTRA…`.
fn report(input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "report",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    idscope(&args, None)
}

/// The text of every element that starts with `open`, up to the next `close`.
fn blocks<'a>(page: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    page.match_indices(open)
        .map(|(i, _)| {
            let rest = &page[i + open.len()..];
            &rest[..rest.find(close).expect("the element is closed")]
        })
        .collect()
}

/// The page's rows, details and stories, read back as the page's script reads them.
struct Page {
    text: String,
    rows: Vec<Value>,
    details: Vec<Value>,
    stories: Vec<Value>,
}

fn read_page(path: &Path) -> Page {
    let text = std::fs::read_to_string(path).unwrap();
    let parse = |s: &str| -> Value { serde_json::from_str(s).expect("a data block is JSON") };
    let rows = blocks(
        &text,
        "<script type=\"application/json\" class=\"rows\">",
        "</script>",
    )
    .into_iter()
    .flat_map(|b| parse(b).as_array().unwrap().clone())
    .collect();
    let details = blocks(
        &text,
        "<script type=\"application/json\" id=\"f-",
        "</script>",
    )
    .into_iter()
    .map(|b| parse(&b[b.find('>').unwrap() + 1..]))
    .collect();
    let stories = blocks(
        &text,
        "<script type=\"application/json\" id=\"stories\">",
        "</script>",
    )
    .first()
    .map(|b| parse(b).as_array().unwrap().clone())
    .unwrap_or_default();
    Page {
        text,
        rows,
        details,
        stories,
    }
}

/// The page without the content of its JSON data blocks.
fn markup(page: &str) -> String {
    let open = "<script type=\"application/json\"";
    let mut out = String::new();
    let mut rest = page;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find("</script>").expect("the block is closed");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn sha256_b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// `analyze --json`'s flow and story objects.
fn analyze_json(file: &Path) -> (Vec<Value>, Vec<Value>) {
    let o = idscope(
        &[
            "analyze",
            "--json",
            "--fail-on",
            "never",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let all: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (flows, rest): (Vec<Value>, Vec<Value>) =
        all.into_iter().partition(|v| v["type"] == "flow");
    let stories = rest.into_iter().filter(|v| v["type"] == "story").collect();
    (flows, stories)
}

/// Checks what every report must be: self-contained under its CSP, with a ROW and a DETAIL per
/// flow and the stories of `analyze --json` each with its diagram section.
fn assert_well_formed(capture: &Path, page: &Page) {
    let text = &page.text;
    // The CSP allows exactly the inline script and style, by the hash of their exact text.
    let csp = blocks(
        text,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    );
    assert_eq!(csp.len(), 1, "one CSP");
    let csp = csp[0];
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    let script = blocks(text, "<script>", "</script>");
    let style = blocks(text, "<style>", "</style>");
    assert_eq!((script.len(), style.len()), (1, 1));
    assert!(
        csp.contains(&format!("script-src 'sha256-{}'", sha256_b64(script[0]))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("style-src 'sha256-{}'", sha256_b64(style[0]))),
        "{csp}"
    );
    // Nothing to load, no inline styles or handlers for the CSP to block, in the markup (the
    // data blocks hold captured HTML as JSON strings, which the page never parses as markup).
    let lower = markup(text).to_ascii_lowercase();
    for banned in [
        " src=",
        " href=",
        " style=",
        "<link",
        " onclick=",
        " onload=",
    ] {
        assert!(!lower.contains(banned), "the page holds {banned:?}");
    }
    // Every element that opens a script closes it: no data ended a block early.
    assert_eq!(
        text.matches("<script").count(),
        text.matches("</script>").count()
    );

    let (flows, stories) = analyze_json(capture);
    assert!(!flows.is_empty());
    let ids = |v: &[Value], key: &str| {
        v.iter()
            .map(|r| r[key].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&page.rows, "id"), ids(&flows, "id"), "a ROW per flow");
    assert_eq!(
        ids(&page.details, "id"),
        ids(&flows, "id"),
        "a DETAIL per flow"
    );
    for (row, flow) in page.rows.iter().zip(&flows) {
        assert_eq!(row["m"], flow["method"]);
        assert_eq!(row["h"], flow["host"]);
        assert_eq!(row["s"], flow["status"]);
    }
    for d in &page.details {
        assert!(d["request"]["method"].is_string(), "{d}");
        assert!(d["decoded"]["request"].is_array(), "{d}");
        assert!(d["before_redaction"].is_array(), "{d}");
    }
    // The stories of analyze --json: the same steps and verdicts (a redacted report's token
    // checks compare fingerprints of the redacted tokens, so their values differ).
    let shape = |v: &[Value]| -> Vec<(Value, Value, Vec<Value>)> {
        v.iter()
            .map(|s| {
                let verdicts = s["checks"].as_array().unwrap();
                let verdicts = verdicts.iter().map(|c| c["verdict"].clone()).collect();
                (s["story"].clone(), s["steps"].clone(), verdicts)
            })
            .collect()
    };
    assert_eq!(
        shape(&page.stories),
        shape(&stories),
        "the stories of analyze --json"
    );
    // Each story step's row names its story (the page's `~story`).
    for story in &page.stories {
        for step in story["steps"].as_array().unwrap() {
            let row = page.rows.iter().find(|r| r["id"] == step["flow"]).unwrap();
            assert_eq!(row["st"], story["story"], "{row}");
        }
    }
    let sections = text.matches("<section class=\"story\"").count();
    assert_eq!(sections, stories.len(), "one section per story");
    let totals = blocks(
        text,
        "<script type=\"application/json\" id=\"totals\">",
        "</script>",
    );
    let totals: Value = serde_json::from_str(totals[0]).unwrap();
    assert_eq!(totals["flows"], json!(flows.len()));
    assert_eq!(totals["stories"], json!(stories.len()));
}

#[test]
fn the_report_of_the_federated_sign_in_is_self_contained_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let capture = root().join("captures/federated-signin.har");
    let out = dir.path().join("r.html");
    let o = report(&capture, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("values redacted"), "{}", stderr(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let page = read_page(&out);
    assert_well_formed(&capture, &page);
    assert!(!page.stories.is_empty(), "the federated sign-in is a story");
    assert_eq!(
        page.stories,
        analyze_json(&capture).1,
        "no token value to fingerprint here"
    );
    // The signature verdict the redaction removed is listed for the flow that carries it.
    let before = page.details[3]["before_redaction"].to_string();
    assert!(
        before.contains("verified with certificate CN=ADFS Signing"),
        "{before}"
    );
    assert!(page.text.contains("Built from a redacted copy"));
    assert!(!page.text.contains("This page contains credentials"));
    let ids: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(ids, vec![out], "no temporary file is left");
}

#[test]
fn the_report_of_a_demo_recording_is_complete_and_analyze_report_writes_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let capture = demo_recording();
    let out = dir.path().join("demo.html");
    let o = report(capture, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = read_page(&out);
    assert_well_formed(capture, &page);
    assert!(
        page.stories
            .iter()
            .any(|s| s["story"] == "federated sign-in"),
        "{:?}",
        page.stories
    );
    let via_analyze = dir.path().join("analyze.html");
    let o = idscope(
        &[
            "analyze",
            capture.to_str().unwrap(),
            "--report",
            via_analyze.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "the table is replaced by the report");
    assert_well_formed(capture, &read_page(&via_analyze));
}

#[test]
fn the_report_of_the_canary_capture_holds_no_canary_and_show_secrets_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let (har, canaries) = planted();
    let input = write(dir.path(), "in.har", &har);
    let out = dir.path().join("r.html");
    let o = report(&input, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    // The page's JSON escapes `&`, `<` and `>`; read it unescaped as well.
    let unescaped = text
        .replace("\\u0026", "&")
        .replace("\\u003c", "<")
        .replace("\\u003e", ">");
    for c in &canaries {
        for s in spellings(c) {
            assert!(
                !text.contains(&s) && !unescaped.contains(&s),
                "canary {c} survives as {s}"
            );
        }
    }
    let shown = dir.path().join("secrets.html");
    let o = report(&input, &shown, &["--show-secrets"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&shown).unwrap();
    assert!(text.contains("This page contains credentials"));
    assert!(text.contains("class=\"warning secrets\""));
    assert!(canaries.iter().any(|c| text.contains(c.as_str())));
    assert!(stderr(&o).contains("NOT redacted"), "{}", stderr(&o));
}

#[test]
fn a_credential_the_redaction_misses_refuses_the_report_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let token = jws(&json!({"sub": "x"}), &canary(92));
    let har = json!({"log": {"entries": [
        entry(req("GET", "https://app.example/a", &[], None), ok()),
        entry(req("GET", "https://app.example/b", &[("X-Trace", &token)], None), ok()),
    ]}});
    let input = write(dir.path(), "in.har", &har);
    let out = dir.path().join("r.html");
    let o = report(&input, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("flow #2") && err.contains("X-Trace") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!out.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "only the input is left: {left:?}");
    // With --show-secrets nothing is redacted, so nothing is refused.
    let o = report(&input, &out, &["--show-secrets"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn the_filter_narrows_the_rows_and_details_but_not_the_stories() {
    let dir = tempfile::tempdir().unwrap();
    let capture = root().join("captures/federated-signin.har");
    let all = dir.path().join("all.html");
    assert!(report(&capture, &all, &[]).status.success());
    let all = read_page(&all);
    let out = dir.path().join("f.html");
    let o = report(&capture, &out, &["--filter", "~d sts.contoso.test"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = read_page(&out);
    assert!(!page.rows.is_empty() && page.rows.len() < all.rows.len());
    assert!(
        page.rows.iter().all(|r| r["h"] == "sts.contoso.test"),
        "{:?}",
        page.rows
    );
    assert_eq!(page.details.len(), page.rows.len());
    assert_eq!(
        page.stories, all.stories,
        "stories are built from every flow"
    );
    assert!(
        page.text
            .contains("filter <code>~d sts.contoso.test</code>")
    );
    let meta = blocks(
        &page.text,
        "<script type=\"application/json\" id=\"meta\">",
        "</script>",
    );
    let meta: Value = serde_json::from_str(meta[0]).unwrap();
    assert_eq!(meta["filter"], "~d sts.contoso.test");
    assert_eq!(meta["flows_in_capture"], json!(all.rows.len()));
}

#[test]
fn an_existing_report_is_kept_unless_forced_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let capture = root().join("captures/federated-signin.har");
    let out = dir.path().join("r.html");
    std::fs::write(&out, "keep me").unwrap();
    let o = report(&capture, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    assert!(report(&capture, &out, &["--force"]).status.success());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );

    let garbage = dir.path().join("garbage.har");
    std::fs::write(&garbage, b"\x00\x01 this is not a capture {{{").unwrap();
    let bad_out = dir.path().join("bad.html");
    let o = report(&garbage, &bad_out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!bad_out.exists());
    let o = report(&dir.path().join("missing.har"), &bad_out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!bad_out.exists());
    let o = report(&capture, &bad_out, &["--filter", "~nosuch x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!bad_out.exists());
}

#[test]
fn capital_h_in_the_list_asks_for_a_report_of_the_marked_or_shown_flows() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use idscope::flow::FlowId;
    use idscope::tui::app::PromptKind;
    use idscope::tui::{Control, Event};

    let key = |c: char| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let enter = || Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let mut app = crate::tui_fixture::sample_app();
    app.update(key('H'));
    let p = app.prompt().unwrap();
    assert_eq!(p.kind, PromptKind::ExportReport);
    assert_eq!(p.input, "idscope-report-1700000000.html");
    assert_eq!(
        app.update(enter()),
        Control::ExportReport {
            ids: (0..9).map(FlowId).collect(),
            path: "idscope-report-1700000000.html".into(),
        }
    );
    // With a mark, only the marked flow goes; `:export report FILE` does the same.
    app.update(key('G'));
    app.update(key('m'));
    app.update(key(':'));
    for c in "export report out/r.html".chars() {
        app.update(key(c));
    }
    assert_eq!(
        app.update(enter()),
        Control::ExportReport {
            ids: vec![FlowId(8)],
            path: "out/r.html".into(),
        }
    );
}
