//! The trace-wide summary of `idscope analyze` (text, `--summary-only`, the `"type": "summary"`
//! object of `--json`) and the `~corr` filter. The expected counts are worked out here from the
//! flow and story objects of `analyze --json`, not by the summary's code; every exact row's
//! filter, given back to `analyze --filter`, must select exactly the flows the row counted.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::analyze_story::demo_recording;
use crate::util::{idscope, stderr, stdout};

/// The objects of `analyze --json` (with `extra` arguments), by type.
fn objects(har: &str, extra: &[&str]) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let mut args = vec!["analyze", "--json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    args.push(har);
    let o = idscope(&args, None);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in stdout(&o).lines() {
        let v: Value = serde_json::from_str(line).expect("each line is JSON");
        by.entry(v["type"].as_str().unwrap().to_string())
            .or_default()
            .push(v);
    }
    let mut take = |t: &str| by.remove(t).unwrap_or_default();
    (take("flow"), take("story"), take("summary"))
}

/// The rows of the summary object's section `title`.
fn rows<'a>(summary: &'a Value, title: &str) -> Vec<&'a Value> {
    summary["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["title"].as_str().unwrap().starts_with(title))
        .flat_map(|s| s["rows"].as_array().unwrap())
        .collect()
}

fn count_of(summary: &Value, title: &str, label_prefix: &str) -> Option<u64> {
    rows(summary, title)
        .into_iter()
        .find(|r| r["label"].as_str().unwrap().starts_with(label_prefix))
        .map(|r| r["count"].as_u64().unwrap())
}

/// Checks the counts a summary shows against the flow and story objects.
fn check_counts(har: &str) -> Value {
    let (flows, stories, summaries) = objects(har, &[]);
    assert_eq!(summaries.len(), 1, "one summary object");
    let s = summaries[0].clone();
    assert_eq!(s["flows"].as_u64(), Some(flows.len() as u64));
    assert!(!flows.is_empty());

    // Status families and errors.
    let mut families: BTreeMap<u64, u64> = BTreeMap::new();
    let mut errors = 0;
    let mut failing_hosts: BTreeMap<String, u64> = BTreeMap::new();
    for f in &flows {
        match f["status"].as_u64() {
            Some(c) => *families.entry(c / 100).or_default() += 1,
            None => errors += 1,
        }
        if f["status"].as_u64().is_none_or(|c| c >= 400) {
            *failing_hosts
                .entry(f["host"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    for (family, n) in &families {
        assert_eq!(
            count_of(&s, "Status", &format!("{family}xx")),
            Some(*n),
            "{family}xx in {s}"
        );
    }
    assert_eq!(
        rows(&s, "Status").len(),
        families.len() + usize::from(errors > 0)
    );
    for (host, n) in &failing_hosts {
        assert_eq!(
            count_of(&s, "Failing hosts", &format!("{host} (")),
            Some(*n)
        );
    }

    // Findings by the worst severity of each flow.
    let worst = |levels: &[&str]| {
        flows
            .iter()
            .filter(|f| levels.contains(&f["worst"].as_str().unwrap_or("")))
            .count() as u64
    };
    let expect = [
        ("flows with an error finding", worst(&["error"])),
        (
            "flows with a warning or worse",
            worst(&["error", "warning"]),
        ),
        (
            "flows with any finding",
            worst(&["error", "warning", "info"]),
        ),
    ];
    for (label, n) in expect {
        let shown = count_of(&s, "Findings", label);
        assert_eq!(shown.unwrap_or(0), n, "{label}");
    }
    let unverified = flows
        .iter()
        .filter(|f| {
            f["findings"].as_array().unwrap().iter().any(|x| {
                x["message"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("not verified")
            })
        })
        .count() as u64;
    assert_eq!(
        count_of(&s, "Authentication", "flows with a signature not verified").unwrap_or(0),
        unverified
    );

    // Stories: the checks of every story of a kind, added up.
    let mut checks: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for st in &stories {
        let c = checks
            .entry(st["story"].as_str().unwrap().to_string())
            .or_default();
        for ch in st["checks"].as_array().unwrap() {
            let i = ["pass", "fail", "unknown"]
                .iter()
                .position(|v| ch["verdict"] == *v)
                .unwrap();
            c[i] += 1;
        }
    }
    let story_rows = rows(&s, "Stories");
    assert_eq!(story_rows.len(), checks.len());
    for (title, [p, f, u]) in &checks {
        let row = story_rows
            .iter()
            .find(|r| r["label"].as_str().unwrap().starts_with(title.as_str()))
            .unwrap_or_else(|| panic!("no row for {title} in {s}"));
        let label = row["label"].as_str().unwrap();
        assert!(
            label.contains(&format!("checks {p} ✓, {f} ✗, {u} ?")),
            "{label}"
        );
    }
    s
}

/// Every row with an exact filter: the filter selects exactly as many flows as the row counted.
fn check_filters(har: &str, summary: &Value) {
    let mut checked = 0;
    for section in summary["sections"].as_array().unwrap() {
        for row in section["rows"].as_array().unwrap() {
            let (Some(filter), true) = (row["filter"].as_str(), row["exact"] == true) else {
                continue;
            };
            let (flows, _, _) = objects(har, &["--filter", filter]);
            assert_eq!(
                flows.len() as u64,
                row["count"].as_u64().unwrap(),
                "row {} with filter {filter}",
                row["label"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} rows with a filter");
}

#[test]
fn the_summary_of_the_federated_sign_in_counts_what_its_flows_say() {
    let har = "captures/federated-signin.har";
    let s = check_counts(har);
    assert_eq!(count_of(&s, "Status", "2xx"), Some(5));
    assert_eq!(count_of(&s, "Stories", "federated sign-in"), Some(5));
    check_filters(har, &s);
}

#[test]
fn the_summary_of_a_demo_recording_counts_what_its_flows_say() {
    let har = demo_recording().to_str().unwrap();
    let s = check_counts(har);
    assert!(!rows(&s, "Stories").is_empty(), "{s}");
    assert!(!rows(&s, "Authentication").is_empty(), "{s}");
    check_filters(har, &s);
}

/// A header list in HAR form.
fn headers(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect(),
    )
}

/// One HAR entry; `status` 0 is a flow without a response.
fn entry(
    n: u32,
    (method, url, req_headers, form): (&str, &str, &[(&str, &str)], Option<&str>),
    status: u16,
    resp_headers: &[(&str, &str)],
    body: &str,
) -> Value {
    let mut request = json!({
        "method": method, "url": url, "httpVersion": "HTTP/1.1",
        "headers": headers(req_headers), "queryString": [], "cookies": [],
        "headersSize": -1, "bodySize": form.map_or(0, str::len),
    });
    if let Some(text) = form {
        request["postData"] =
            json!({"mimeType": "application/x-www-form-urlencoded", "text": text});
    }
    let response = if status == 0 {
        json!({"_error": "connection reset", "status": 0, "statusText": "", "httpVersion": "",
               "headers": [], "cookies": [], "content": {"mimeType": "", "size": 0},
               "redirectURL": "", "headersSize": -1, "bodySize": -1})
    } else {
        json!({"status": status, "statusText": "", "httpVersion": "HTTP/1.1",
               "headers": headers(resp_headers), "cookies": [],
               "content": {"mimeType": "application/json", "size": body.len(), "text": body},
               "redirectURL": "", "headersSize": -1, "bodySize": body.len()})
    };
    json!({
        "startedDateTime": format!("2026-12-01T10:00:{n:02}.000Z"),
        "time": 100 * (n + 1),
        "request": request, "response": response, "cache": {},
        "timings": {"send": 1, "wait": 100 * n + 98, "receive": 1},
    })
}

const CRID: &str = "0b6f3c9e-5d4a-4e8b-9f21-7c3d2e1a0b9c";
const TOKEN: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";

/// Token requests that fail (a wrong password twice, an expired refresh token), one that
/// succeeds, an ADFS failure, a server error and a reset connection; three flows share a
/// client-request-id (request header, response header, URL query).
fn write_token_errors(dir: &Path) -> String {
    let bad_password = r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password.","error_codes":[50126]}"#;
    let expired = r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}"#;
    let entries = vec![
        entry(
            0,
            (
                "POST",
                TOKEN,
                &[("client-request-id", CRID)],
                Some("grant_type=password&username=alice%40contoso.com&password=x&client_id=1"),
            ),
            400,
            &[("x-ms-request-id", "11111111-2222-3333-4444-555555555555")],
            bad_password,
        ),
        entry(
            1,
            (
                "POST",
                TOKEN,
                &[],
                Some("grant_type=password&username=bob%40contoso.com&password=y&client_id=1"),
            ),
            400,
            &[
                ("client-request-id", CRID),
                ("x-ms-clitelem", "1,50126,0,,"),
            ],
            bad_password,
        ),
        entry(
            2,
            (
                "POST",
                &format!("{TOKEN}?client-request-id={CRID}"),
                &[],
                Some("grant_type=refresh_token&refresh_token=0.AX&client_id=1"),
            ),
            400,
            &[],
            expired,
        ),
        entry(
            3,
            (
                "POST",
                TOKEN,
                &[("client-request-id", "99999999-aaaa-bbbb-cccc-dddddddddddd")],
                Some("grant_type=authorization_code&code=0.AY&client_id=1"),
            ),
            200,
            &[],
            r#"{"token_type":"Bearer","expires_in":3599}"#,
        ),
        entry(
            4,
            (
                "POST",
                "https://sts.contoso.test/adfs/ls/?wa=wsignin1.0",
                &[],
                Some("UserName=alice%40contoso.test&Password=x&AuthMethod=FormsAuthentication"),
            ),
            401,
            &[],
            "{}",
        ),
        entry(
            5,
            ("GET", "https://graph.microsoft.com/v1.0/me", &[], None),
            500,
            &[(
                "x-ms-diagnostics",
                r#"2000008;reason="the token has expired";error_category="invalid_token""#,
            )],
            "{}",
        ),
        entry(
            6,
            ("GET", "https://graph.microsoft.com/v1.0/me", &[], None),
            0,
            &[],
            "",
        ),
    ];
    let har = json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"},
                             "entries": entries}});
    let path = dir.join("token-errors.har");
    std::fs::write(&path, serde_json::to_vec(&har).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn token_errors_show_as_failing_hosts_grants_and_aadsts_codes() {
    let dir = tempfile::tempdir().unwrap();
    let har = write_token_errors(dir.path());
    let s = check_counts(&har);
    assert_eq!(
        count_of(&s, "Failing hosts", "login.microsoftonline.com ("),
        Some(3)
    );
    assert_eq!(
        count_of(&s, "Failing hosts", "graph.microsoft.com ("),
        Some(2)
    );
    assert_eq!(count_of(&s, "Status", "errors"), Some(1));
    let auth = |p: &str| count_of(&s, "Authentication", p);
    assert_eq!(
        auth("token request grant_type=password: invalid_grant"),
        Some(2)
    );
    assert_eq!(
        auth("token request grant_type=refresh_token: invalid_grant"),
        Some(1)
    );
    assert_eq!(
        auth("token request grant_type=authorization_code: success (200)"),
        Some(1)
    );
    // The code's meaning comes from the decoders' table.
    let meaning = idscope_decoders::aadsts::aadsts_meaning(50126).unwrap();
    assert_eq!(auth(&format!("AADSTS50126: {meaning}")), Some(2));
    assert_eq!(auth("AADSTS700082"), Some(1));
    assert_eq!(auth("sign-ins failed at ADFS"), Some(1));
    // Three flows carry the same client-request-id; the others' ids are on one flow each.
    let corr = rows(&s, "Correlation ids");
    assert_eq!(corr.len(), 1, "{corr:?}");
    assert_eq!(corr[0]["label"], CRID);
    assert_eq!(corr[0]["count"], 3);
    assert_eq!(corr[0]["filter"], format!("~corr {CRID}"));
    // The slowest flow comes first, with its number.
    let slowest = rows(&s, "Slowest flows");
    assert!(
        slowest[0]["label"]
            .as_str()
            .unwrap()
            .starts_with("#7 700 ms"),
        "{slowest:?}"
    );
    check_filters(&har, &s);

    // The correlation headers of the flows' JSON, with the known formats split.
    let (flows, _, _) = objects(&har, &[]);
    let corr = |i: usize| {
        flows[i]["correlation"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(corr(0)[0]["name"], "client-request-id");
    assert_eq!(corr(0)[0]["side"], "request");
    assert_eq!(corr(0)[1]["name"], "x-ms-request-id");
    assert_eq!(corr(0)[1]["side"], "response");
    let telem = &corr(1)[1];
    assert_eq!(telem["name"], "x-ms-clitelem");
    assert_eq!(telem["parts"][1][0], "server error code");
    assert_eq!(corr(2)[0]["name"], "client-request-id (URL query)");
    assert_eq!(corr(2)[0]["value"], CRID);
    let diag = &corr(5)[0];
    assert_eq!(diag["parts"][0], json!(["code", "2000008"]));
    assert_eq!(diag["parts"][1], json!(["reason", "the token has expired"]));
}

#[test]
fn corr_finds_the_flows_sharing_a_client_request_id_wherever_it_travels() {
    let dir = tempfile::tempdir().unwrap();
    let har = write_token_errors(dir.path());
    let ids = |filter: &str| -> Vec<u64> {
        objects(&har, &["--filter", filter])
            .0
            .iter()
            .map(|f| f["id"].as_u64().unwrap())
            .collect()
    };
    // Request header (#1), response header (#2), URL query (#3); not #4's other id.
    assert_eq!(ids(&format!("~corr {CRID}")), vec![1, 2, 3]);
    assert_eq!(
        ids(&format!("~corr {}", CRID.to_uppercase())),
        vec![1, 2, 3]
    );
    assert_eq!(ids("~corr 99999999-aaaa-bbbb-cccc-dddddddddddd"), vec![4]);
    assert_eq!(ids("~corr 0b6f3c9e"), Vec::<u64>::new(), "a whole id only");
    assert_eq!(
        ids(&format!("~corr {CRID} & ~c 400 & ~grant password")),
        vec![1, 2]
    );
}

#[test]
fn summary_only_prints_the_summary_alone() {
    let dir = tempfile::tempdir().unwrap();
    let har = write_token_errors(dir.path());
    let o = idscope(
        &["analyze", "--summary-only", "--fail-on", "never", &har],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("Summary: 7 sessions, 2026-12-01T10:00:00Z"),
        "{out}"
    );
    assert!(!out.contains("METHOD"), "no table: {out}");
    assert!(!out.contains("Findings ("), "no findings list: {out}");
    assert!(!out.contains("Stories ("), "no stories list: {out}");
    assert!(out.contains("  Failing hosts"), "{out}");
    assert!(out.contains("[~e]"), "rows carry their filter: {out}");

    // The full report begins with the same summary, above the table.
    let full = stdout(&idscope(&["analyze", "--fail-on", "never", &har], None));
    assert!(full.starts_with(&out), "{full}");
    assert!(
        full[out.len()..].trim_start().starts_with("#  METHOD"),
        "{full}"
    );

    let o = idscope(
        &[
            "analyze",
            "--summary-only",
            "--json",
            "--fail-on",
            "never",
            &har,
        ],
        None,
    );
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["type"], "summary");
    assert_eq!(lines[0]["flows"], 7);
}

#[test]
fn a_filtered_summary_joins_each_row_filter_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let har = write_token_errors(dir.path());
    let (flows, _, s) = objects(&har, &["--filter", "~d login"]);
    assert_eq!(s[0]["flows"].as_u64(), Some(flows.len() as u64));
    let row = rows(&s[0], "Status")[0];
    assert!(
        row["filter"]
            .as_str()
            .unwrap()
            .starts_with("(~d login) & ("),
        "{row}"
    );
    check_filters(&har, &s[0]);
}

mod tui {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use idscope::filter::{Subject, parse};
    use idscope::tui::{App, Event};

    use crate::tui_fixture::{sample_app, simple_flow, with_digest};

    fn key(app: &mut App, code: KeyCode) {
        app.update(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// The flows of the store a filter selects, as the filter module sees them with the digests.
    fn matching(app: &App, filter: &str) -> usize {
        let f = parse(filter).unwrap();
        app.store()
            .iter()
            .filter(|fl| {
                f.matches(&Subject {
                    flow: fl,
                    in_flight: false,
                    digest: app.digest(fl.id),
                    report: None,
                })
            })
            .count()
    }

    #[test]
    fn enter_on_a_summary_row_sets_the_list_filter() {
        let mut app = sample_app();
        assert!(app.filter().is_none());
        key(&mut app, KeyCode::Char('S'));
        let screen = app.summary_screen().expect("S opens the summary");
        let rows: Vec<(String, String)> = screen
            .lines
            .iter()
            .filter_map(|l| Some((l.line.text.clone(), l.filter.clone()?)))
            .collect();
        assert!(rows.len() >= 3, "{rows:?}");
        assert!(screen.lines[0].line.text.starts_with("Summary: 9 sessions"));
        // Each row counts what its filter selects.
        for (text, filter) in &rows {
            let count: usize = text.split_whitespace().next().unwrap().parse().unwrap();
            if !text.contains("[≈ ") {
                assert_eq!(matching(&app, filter), count, "{text}");
            }
        }

        // The first row is selected; j moves to the second; Enter applies it.
        key(&mut app, KeyCode::Char('j'));
        assert_eq!(
            app.summary_screen().unwrap().selected_filter(),
            Some(rows[1].1.as_str())
        );
        key(&mut app, KeyCode::Enter);
        assert!(app.summary_screen().is_none(), "Enter closes the screen");
        assert_eq!(app.filter().map(|f| f.text()), Some(rows[1].1.as_str()));
        assert_eq!(app.shown().len(), matching(&app, &rows[1].1));

        // `:summary` opens it too; G then Enter applies the last row; esc closes without applying.
        key(&mut app, KeyCode::Char(':'));
        for c in "summary".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        key(&mut app, KeyCode::Enter);
        assert!(app.summary_screen().is_some(), ":summary opens the screen");
        key(&mut app, KeyCode::Esc);
        assert!(app.summary_screen().is_none());
        assert_eq!(app.filter().map(|f| f.text()), Some(rows[1].1.as_str()));
        key(&mut app, KeyCode::Char('S'));
        key(&mut app, KeyCode::Char('G'));
        key(&mut app, KeyCode::Enter);
        let last = &rows.last().unwrap().1;
        assert_eq!(app.filter().map(|f| f.text()), Some(last.as_str()));
    }

    #[test]
    fn the_detail_tab_lists_the_correlation_headers_with_their_parts() {
        let mut flow = simple_flow(
            0,
            "POST",
            &format!("{}?client-request-id={}", super::TOKEN, super::CRID),
            400,
            "application/json",
            br#"{"error":"invalid_grant"}"#,
        );
        flow.request
            .headers
            .push_str("x-ms-correlation-id", "aaaa-bbbb");
        let idscope::flow::Outcome::Response(r) = &mut flow.outcome else {
            panic!("a response");
        };
        r.headers.push_str("x-ms-clitelem", "1,50126,0,,");
        r.headers
            .push_str("x-ms-ests-server", "2.1.19 - WUS2 ProdSlices");
        let mut app = App::for_test();
        app.update(Event::Resize(220, 40));
        app.update(Event::Loaded(vec![with_digest(flow)]));
        app.update(Event::LoadDone(Ok(None)));
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Char('5'));
        let detail: Vec<String> = app
            .flow_view()
            .unwrap()
            .detail
            .iter()
            .map(|l| l.text.clone())
            .collect();
        let at = detail
            .iter()
            .position(|l| l == "correlation and diagnostic headers (4)")
            .unwrap_or_else(|| panic!("{detail:#?}"));
        let block = &detail[at + 1..];
        assert_eq!(
            block[0],
            "  request  x-ms-correlation-id: aaaa-bbbb   (f: ~corr aaaa-bbbb)"
        );
        assert_eq!(
            block[1],
            format!(
                "  request  client-request-id (URL query): {0}   (f: ~corr {0})",
                super::CRID
            )
        );
        assert_eq!(block[2], "  response x-ms-clitelem: 1,50126,0,,");
        assert_eq!(block[3], "      version: 1");
        assert!(
            block[4].starts_with("      server error code: 50126 (AADSTS50126: "),
            "{block:#?}"
        );
        assert!(
            block
                .iter()
                .any(|l| l == "  response x-ms-ests-server: 2.1.19 - WUS2 ProdSlices")
        );
    }

    #[test]
    fn the_summary_screen_draws_over_the_list_with_the_selected_row() {
        let mut app = sample_app();
        key(&mut app, KeyCode::Char('S'));
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
        t.draw(|f| idscope::tui::ui::render(f, &app)).unwrap();
        let buf = t.backend().buffer();
        let rows: Vec<String> = (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect()
            })
            .collect();
        assert!(rows[0].contains("trace summary"), "{rows:#?}");
        assert!(rows[1].contains("Summary: 9 sessions"), "{rows:#?}");
        let selected = app.summary_screen().unwrap().selected;
        let y = 1 + selected as u16;
        assert!(
            buf[(2, y)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED),
            "the selected row is reversed: {}",
            rows[y as usize]
        );
    }
}
