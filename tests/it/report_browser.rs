//! `idscope report` in a real browser: the page made from a demo recording is opened from disk in
//! Debian's Chromium, steered by playwright-core from `tests/browser/report.mjs` (as in
//! [`crate::browser`]), and used as a person uses it: the list shows every flow `analyze` knows
//! and, scrolled to its end, the last one (the list is virtual, so its rows come as it scrolls);
//! a click on the WS-Fed sign-in shows its decoded SAML token with the explanations; a filter
//! narrows the list to the flows it names, a wrong one says at which column; the Stories tab
//! draws the federated sign-in with its four steps and the ImmutableID check. All the while the
//! page asks the network for nothing: every request other than the file is recorded and refused,
//! and the page's content security policy would report any blocked script or style. Screenshots
//! are left in `target/browser-screens/report-*.png`, with the page (`report.html`). The page
//! filters as idscope does: the same expressions give the count `analyze --filter` gives, or
//! idscope's own error at the same column.
//!
//! The browser runs once for all the tests here ([`the_run`]); each test checks one part.
//! Needs what [`crate::browser::playwright_ready`] needs (Chromium, node, playwright-core); a
//! missing tool fails the test unless `IDSCOPE_SKIP_INTEROP` is set.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::browser::{chromium, node_json, playwright_ready, screens_dir};
use crate::util::{idscope, stderr, stdout};

/// How long one wait of the browser may take.
const WAIT_MS: u64 = 30_000;

/// The filter the test types: the flows to the demo's STS.
const FILTER: &str = "~d sts";

/// Expressions the page and `analyze --filter` are both given: the page must count the flows
/// `analyze` keeps, or refuse with idscope's own message and column. They use the row facets
/// only (every operator the page evaluates, the boolean forms, quoting, and the errors).
const EXPRESSIONS: &[&str] = &[
    "~all",
    "~k saml",
    "~k WSFED | ~k realm",
    "~m POST & !~c 200",
    "!(~d login) ~c 200",
    "oauth2/token",
    "'adfs/ls' ~s",
    "~q | ~e",
    "~finding",
    "~finding warning",
    "~finding error",
    "~id 1,3-5",
    "~id 5-3",
    "~op Provision",
    "~claim upn=alice",
    "~t json",
    "~tq form",
    "~ts html",
    "~noise",
    "!~noise & ~u \\.svc$",
    "~c abc",
    "~zz",
    "~d",
    "(~s | ~q",
    "~s )",
    "& ~s",
    "~k nosuch",
    "~claim upn",
    "'open",
    "~u (",
];

/// The screenshots report.mjs takes (`report-NAME.png`).
const SHOTS: &[&str] = &[
    "1-list",
    "2-flow",
    "3-filtered",
    "4-filter-error",
    "5-stories",
    "6-findings",
];

/// What the page showed and what `analyze --json` says about the redacted recording.
struct Run {
    /// `idscope redact`'s copy of the recording, in `_dir`.
    redacted: String,
    _dir: tempfile::TempDir,
    seen: Value,
    /// The screenshots of [`SHOTS`] the script left.
    shots: Vec<String>,
    flows: Vec<Value>,
    stories: Vec<Value>,
}

static RUN: OnceLock<Option<Result<Run, String>>> = OnceLock::new();

fn the_run() -> Option<&'static Run> {
    let run = RUN.get_or_init(|| {
        match std::panic::catch_unwind(|| {
            playwright_ready("report browser test").then(open_a_report)
        }) {
            Ok(run) => run.map(Ok),
            Err(p) => Some(Err(p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the report browser run panicked".into()))),
        }
    });
    match run {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => panic!("the report browser run failed: {e}"),
    }
}

/// The node labelled `label` somewhere under `v` (a decoded tree of `analyze --json`).
fn find_node<'a>(v: &'a Value, label: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) if m.get("label").and_then(Value::as_str) == Some(label) => Some(v),
        Value::Object(m) => m.values().find_map(|c| find_node(c, label)),
        Value::Array(a) => a.iter().find_map(|c| find_node(c, label)),
        _ => None,
    }
}

/// The first flow of the WS-Fed sign-in whose response carries the SAML token.
fn saml_flow(flows: &[Value]) -> &Value {
    flows
        .iter()
        .find(|f| {
            f["kinds"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "wsfed"))
                && find_node(&f["response"], "ImmutableID").is_some()
        })
        .expect("the demo has a WS-Fed sign-in with a SAML token")
}

/// Records the demo, writes its report, reads `analyze --json` of the recording and lets
/// tests/browser/report.mjs use the page.
fn open_a_report() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("demo.har");
    let page = dir.path().join("report.html");
    let screens = screens_dir();
    std::fs::create_dir_all(&screens).unwrap();
    let har_s = har.display().to_string();
    let demo = idscope(&["demo", "--headless", "--seed", "7", "-w", &har_s], None);
    assert!(
        demo.status.success(),
        "{}\n{}",
        stdout(&demo),
        stderr(&demo)
    );

    // The report shows the redacted capture: what `analyze` says of `redact`'s copy is what the
    // page must show (findings about the credentials themselves go with them).
    let redacted = dir.path().join("redacted.har");
    let redacted_s = redacted.display().to_string();
    let red = idscope(&["redact", &har_s, "-o", &redacted_s], None);
    assert!(red.status.success(), "{}\n{}", stdout(&red), stderr(&red));
    let lines: Vec<Value> = stdout(&idscope(&["analyze", "--json", &redacted_s], None))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flows: Vec<Value> = lines
        .iter()
        .filter(|o| o["type"] == "flow")
        .cloned()
        .collect();
    let stories: Vec<Value> = lines
        .iter()
        .filter(|o| o["type"] == "story")
        .cloned()
        .collect();
    assert!(flows.len() > 30, "{} flows", flows.len());

    let page_s = page.display().to_string();
    let made = idscope(&["report", &har_s, "-o", &page_s], None);
    assert!(
        made.status.success(),
        "{}\n{}",
        stdout(&made),
        stderr(&made)
    );

    let last = flows.last().unwrap()["id"].clone();
    let args = json!({
        "chromium": chromium(),
        "file": page,
        "flow": saml_flow(&flows)["id"],
        "hashFlow": last,
        "filter": FILTER,
        "bad": "~c abc",
        "unsupported": "~m POST & ~b x",
        "expressions": EXPRESSIONS,
        "storyFilter": "~story 'federated sign-in'",
        "screens": screens,
        // Small enough that the list holds fewer rows than the demo has flows.
        "viewport": {"width": 1280, "height": 640},
        "timeoutMs": WAIT_MS,
    });
    let seen = node_json("report.mjs", &args);
    // Checked at once: the sign-in browser test empties the directory when it starts.
    let shots = SHOTS
        .iter()
        .filter(|shot| {
            std::fs::read(screens.join(format!("report-{shot}.png")))
                .is_ok_and(|png| png.starts_with(b"\x89PNG\r\n\x1a\n"))
        })
        .map(|shot| shot.to_string())
        .collect();
    let _ = std::fs::copy(&page, screens.join("report.html"));
    eprintln!(
        "report browser test: screenshots in {}; timings {} {}",
        screens.display(),
        seen["timings"],
        seen["paint"]
    );
    Run {
        redacted: redacted_s,
        _dir: dir,
        seen,
        shots,
        flows,
        stories,
    }
}

impl Run {
    /// What the page showed, after checking the script got through.
    fn seen(&self) -> &Value {
        assert_eq!(self.seen["ok"], true, "{}", self.seen);
        &self.seen
    }

    fn ids(&self) -> Vec<u64> {
        self.flows.iter().filter_map(|f| f["id"].as_u64()).collect()
    }
}

fn numbers(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

#[test]
fn the_list_counts_every_flow_and_scrolls_to_the_last_one() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let ids = run.ids();
    let n = ids.len();
    assert_eq!(seen["count"], format!("{n} of {n} flows"), "{seen}");
    assert_eq!(
        seen["columns"],
        json!([
            "#", "", "method", "host", "path", "status", "kind", "summary"
        ])
    );
    let last = *ids.last().unwrap();
    let first_rows = numbers(&seen["firstRows"]);
    assert!(first_rows.starts_with(&[ids[0]]), "{first_rows:?}");
    assert!(
        !first_rows.contains(&last) && first_rows.len() < n,
        "the list is not virtual: all {n} rows are in the page at once: {first_rows:?}"
    );
    assert_eq!(seen["lastRowAtEnd"], last, "{seen}");
    assert!(
        seen["rowsInDomAtEnd"].as_u64().unwrap() < n as u64,
        "{seen}"
    );
}

#[test]
fn a_clicked_flow_shows_its_decoded_saml_token_with_the_explanations() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let flow = saml_flow(&run.flows);
    let id = flow["id"].as_u64().unwrap();
    let title = seen["detailTitle"].as_str().unwrap_or("");
    assert!(title.starts_with(&format!("#{id} ")), "{title}");
    assert_eq!(numbers(&seen["selectedRow"]), [id]);
    assert_eq!(seen["hashAfterClick"], format!("#flow-{id}"));
    assert!(
        seen["trees"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "wsfed"),
        "{}",
        seen["trees"]
    );
    let labels = seen["labels"].as_array().unwrap();
    for label in ["saml:Assertion", "ImmutableID", "UPN"] {
        assert!(
            labels.iter().any(|l| l == label),
            "no {label} in {labels:?}"
        );
    }
    // The explanation analyze gives for the ImmutableID is on the page.
    let note = find_node(&flow["response"], "ImmutableID").unwrap()["note"]
        .as_str()
        .expect("the ImmutableID is explained");
    assert!(
        seen["notes"].as_array().unwrap().iter().any(|n| n == note),
        "the page does not explain the ImmutableID ({note}):\n{}",
        seen["notes"]
    );
    // Secrets stay masked (the report is redacted by default).
    for v in seen["secretValues"].as_array().unwrap() {
        assert!(v.as_str().unwrap_or("").starts_with('«'), "{v}");
    }
}

#[test]
fn keys_and_the_address_open_flows() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let id = saml_flow(&run.flows)["id"].as_u64().unwrap();
    let after = seen["afterKeys"].as_str().unwrap_or("");
    assert!(
        after.starts_with(&format!("#{} ", id + 1)),
        "j then Enter: {after}"
    );
    let last = run.ids().last().copied().unwrap();
    let hash = seen["afterHash"].as_str().unwrap_or("");
    assert!(
        hash.starts_with(&format!("#{last} ")),
        "#flow-{last}: {hash}"
    );
    assert_eq!(seen["slashFocusesFilter"], true);
}

#[test]
fn the_filter_narrows_the_list_and_a_wrong_one_says_where() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let expected: Vec<u64> = run
        .flows
        .iter()
        .filter(|f| {
            f["host"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains("sts")
        })
        .filter_map(|f| f["id"].as_u64())
        .collect();
    let n = run.flows.len();
    assert!(!expected.is_empty() && expected.len() < n);
    assert_eq!(
        seen["filteredCount"],
        format!("{} of {n} flows", expected.len()),
        "{FILTER}"
    );
    let shown: Vec<u64> = seen["filteredRows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_u64())
        .collect();
    assert_eq!(shown, expected, "{FILTER}: {}", seen["filteredRows"]);
    assert_eq!(seen["filterErrorHiddenWhenValid"], true);
    assert_eq!(
        seen["filterError"],
        "`~c` needs a status code, not `abc` (at column 4)"
    );
    let unsupported = seen["unsupportedError"].as_str().unwrap_or("");
    assert!(
        unsupported.starts_with("`~b`")
            && unsupported.contains("row facets only")
            && unsupported.ends_with("(at column 11)"),
        "{unsupported}"
    );
    assert_eq!(seen["countCleared"], format!("{n} of {n} flows"));
}

#[test]
fn the_page_filters_as_idscope_does() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let n = run.flows.len();
    let page = seen["expressions"].as_array().unwrap();
    assert_eq!(page.len(), EXPRESSIONS.len(), "{seen}");
    let mut differ = Vec::new();
    for (expr, got) in EXPRESSIONS.iter().zip(page) {
        assert_eq!(got["expr"], *expr);
        let o = idscope(
            &["analyze", "--json", "--filter", expr, &run.redacted],
            None,
        );
        let want = if o.status.code() == Some(2) {
            // `idscope: --filter "EXPR": MESSAGE (at column N)`
            let err = stderr(&o);
            let said = err
                .lines()
                .find_map(|l| l.split_once("\": ").map(|(_, m)| m.to_string()))
                .unwrap_or_else(|| panic!("{expr}: {err}"));
            json!({"error": said})
        } else {
            let kept = stdout(&o)
                .lines()
                .filter(|l| l.starts_with("{\"type\":\"flow\""))
                .count();
            json!({"count": format!("{kept} of {n} flows")})
        };
        let said = if got["error"].is_null() {
            json!({"count": got["count"]})
        } else {
            json!({"error": got["error"]})
        };
        if said != want {
            differ.push(format!("{expr}: the page says {said}, idscope {want}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// `~story RE` (the page's own operator) keeps the steps of the stories whose title matches.
#[test]
fn the_story_filter_keeps_the_steps_of_the_story() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let steps: std::collections::BTreeSet<u64> = run
        .stories
        .iter()
        .filter(|s| s["story"] == "federated sign-in")
        .flat_map(|s| s["steps"].as_array().unwrap())
        .filter_map(|s| s["flow"].as_u64())
        .collect();
    assert!(!steps.is_empty());
    assert_eq!(
        seen["storyCount"],
        format!("{} of {} flows", steps.len(), run.flows.len())
    );
}

#[test]
fn the_federated_sign_in_is_drawn_with_its_four_steps_and_the_immutable_id_check() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let drawn: Vec<&Value> = seen["stories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["story"] == "federated sign-in")
        .collect();
    let told: Vec<&Value> = run
        .stories
        .iter()
        .filter(|s| s["story"] == "federated sign-in")
        .collect();
    assert!(!told.is_empty());
    assert_eq!(drawn.len(), told.len(), "{}", seen["stories"]);
    for (d, t) in drawn.iter().zip(&told) {
        let steps: Vec<u64> = t["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["flow"].as_u64())
            .collect();
        assert_eq!(d["steps"], 4, "{d}");
        assert_eq!(numbers(&d["stepFlows"]), steps, "{d}");
        assert_eq!(d["visible"], true, "{d}");
    }
    assert!(
        drawn
            .iter()
            .any(|d| d["checks"].as_array().unwrap().iter().any(|c| {
                c["verdict"].as_str().unwrap_or("").contains("pass")
                    && c["text"].as_str().unwrap_or("").contains("ImmutableID")
            })),
        "no passed ImmutableID check beside the federated sign-in: {}",
        seen["stories"]
    );
    assert_eq!(seen["diagramsHolderHidden"], true);
    let step = seen["stepClicked"].as_u64().expect("a step was clicked");
    assert!(
        seen["afterStep"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("#{step} ")),
        "{seen}"
    );
    assert_eq!(seen["flowsTabAfterStep"], true);
}

#[test]
fn the_findings_tab_lists_findings_that_open_their_flow() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    let id = seen["findingClicked"]
        .as_u64()
        .expect("a finding was clicked");
    let flow = run.flows.iter().find(|f| f["id"] == id).unwrap();
    assert!(
        !flow["findings"].as_array().unwrap().is_empty(),
        "#{id} has no finding"
    );
    assert!(!seen["findingGroups"].as_array().unwrap().is_empty());
}

#[test]
fn the_page_makes_no_network_request_and_breaks_no_policy() {
    let Some(run) = the_run() else { return };
    let seen = run.seen();
    assert_eq!(seen["requests"], json!([]), "the page asked the network");
    assert_eq!(
        seen["problems"],
        json!([]),
        "console errors (a blocked script or style names the content security policy)"
    );
    assert_eq!(run.shots, SHOTS, "screenshots missing");
}
