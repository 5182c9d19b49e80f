//! `idscope analyze --filter EXPR`: only matching flows are reported (text and JSON), using the
//! same filter module as the TUI; a bad expression is a usage error naming the column.

use crate::tui_fixture::write_sample_capture;
use crate::util::{idscope, stderr, stdout};

#[test]
fn analyze_filter_keeps_only_matching_flows() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("sample.har");
    write_sample_capture(&har);
    let har = har.to_str().unwrap();
    let flows = |out: &str| -> Vec<serde_json::Value> {
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["type"] == "flow")
            .collect()
    };
    let all = idscope(&["analyze", "--json", "--fail-on", "never", har], None);
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(flows(&stdout(&all)).len(), 9);
    let o = idscope(
        &[
            "analyze",
            "--json",
            "--fail-on",
            "never",
            "--filter",
            "~k saml",
            har,
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<u64> = flows(&stdout(&o))
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![6, 7, 8, 9]);
    let text = idscope(&["analyze", "--filter", "~m GET & ~d idp", har], None);
    let out = stdout(&text);
    let rows = crate::util::table_rows(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].trim_start().starts_with('7'), "{out}");
}

#[test]
fn analyze_with_a_bad_filter_is_a_usage_error_naming_the_column() {
    let o = idscope(
        &[
            "analyze",
            "--filter",
            "~m GET & ~nope",
            "captures/aadconnect-sync.har",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("unknown filter `~nope` (at column 10)"), "{e}");
}
