use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use idscope_decoders::Trust;

use super::*;
use crate::flow::testing::{flow, request, request_with, response};

/// A writer that keeps the page and counts the DETAIL blocks written so far.
#[derive(Clone, Default)]
struct Sink {
    page: Arc<Mutex<Vec<u8>>>,
    details: Arc<AtomicUsize>,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let n = text
            .matches("<script type=\"application/json\" id=\"f-")
            .count();
        self.details.fetch_add(n, Ordering::SeqCst);
        self.page.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn page(sink: &Sink) -> String {
    String::from_utf8(sink.page.lock().unwrap().clone()).unwrap()
}

#[test]
fn the_writer_holds_a_bounded_window_of_flows_and_rows_whatever_the_capture() {
    const N: usize = 5_000;
    let sink = Sink::default();
    let made = Arc::new(AtomicUsize::new(0));
    // The most flows read but not yet written as a DETAIL, seen each time a flow is read.
    let ahead = Arc::new(AtomicUsize::new(0));
    let flows = {
        let (made, ahead, details) = (made.clone(), ahead.clone(), sink.details.clone());
        (0..N as u64).map(move |i| {
            let read = made.fetch_add(1, Ordering::SeqCst) + 1;
            let gap = read - details.load(Ordering::SeqCst);
            ahead.fetch_max(gap, Ordering::SeqCst);
            flow(
                i,
                request("GET", &format!("https://app.example/item/{i}")),
                response(200, "application/json", b"{\"ok\":true}"),
            )
        })
    };
    let mut out = sink.clone();
    let written = generate(flows, &Trust::default(), &Options::default(), &mut out).unwrap();
    assert_eq!(written.flows, N);
    assert_eq!(written.shown, N);
    assert_eq!(made.load(Ordering::SeqCst), N);
    assert_eq!(sink.details.load(Ordering::SeqCst), N);
    // Flows between the reader and the writer never exceed the pipeline's window, plus the one
    // the reader holds while it waits for a slot and the one being written.
    let most = ahead.load(Ordering::SeqCst);
    assert!(most <= PIPELINE_DEPTH + 2, "{most} flows in flight");
    // Rows are written in blocks, never held for the whole capture.
    assert!(written.peak_rows_held <= ROWS_PER_BLOCK, "{written:?}");
    let text = page(&sink);
    let blocks = text
        .matches("<script type=\"application/json\" class=\"rows\">")
        .count();
    assert_eq!(blocks, N.div_ceil(ROWS_PER_BLOCK));
    assert_eq!(written.step_flows_kept, 0);
    assert_eq!(written.bytes, text.len() as u64);
}

#[test]
fn the_document_is_in_the_documented_order_with_hashes_of_the_inline_script_and_style() {
    let flows = vec![
        flow(
            0,
            request("GET", "https://a.example/</script><script>x()</script>"),
            response(200, "text/plain", "\u{2028}</script>".as_bytes()),
        ),
        flow(
            1,
            request("GET", "https://b.example/"),
            response(404, "text/plain", b"no"),
        ),
    ];
    let sink = Sink::default();
    let opts = Options {
        source: "a<b>.har".into(),
        flows_in_capture: Some(2),
        ..Options::default()
    };
    generate(
        flows.into_iter(),
        &Trust::default(),
        &opts,
        &mut sink.clone(),
    )
    .unwrap();
    let text = page(&sink);
    let order = [
        "<!DOCTYPE html>",
        "Content-Security-Policy",
        "<style>",
        "<header id=\"banner\">",
        "<main id=\"app\"></main>",
        "id=\"meta\"",
        "id=\"f-1\"",
        "id=\"f-2\"",
        "class=\"rows\"",
        "id=\"stories\"",
        "<div id=\"diagrams\" hidden>",
        "id=\"totals\"",
        "<script>",
        "</html>",
    ];
    let mut at = 0;
    for part in order {
        let i = text[at..]
            .find(part)
            .unwrap_or_else(|| panic!("{part} after {at}"));
        at += i;
    }
    assert!(text.contains(&super::script::csp_hash(SCRIPT)));
    assert!(text.contains(&super::script::csp_hash(STYLE)));
    assert!(text.contains("idscope report: a&lt;b&gt;.har"), "{text}");
    assert!(text.contains("Built from a redacted copy"));
    // The URL's `</script>` is data: it appears once per element close, never inside data.
    let closes = text.matches("</script>").count();
    let opens = text.matches("<script").count();
    assert_eq!(opens, closes, "{text}");
    assert!(!text.contains('\u{2028}'));
}

#[test]
fn a_redacted_report_keeps_no_password_and_correlates_equal_secrets() {
    let body = b"grant_type=password&username=a%40b&password=Hunter2Secret!".to_vec();
    let mk = |i| {
        let mut req = request_with(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        req.body = crate::flow::Body::plain(body.clone());
        flow(i, req, response(200, "application/json", b"{}"))
    };
    let sink = Sink::default();
    let written = generate(
        vec![mk(0), mk(1)].into_iter(),
        &Trust::default(),
        &Options::default(),
        &mut sink.clone(),
    )
    .unwrap();
    let text = page(&sink);
    assert!(!text.contains("Hunter2Secret"), "{text}");
    assert!(written.redactions.total() >= 2, "{written:?}");
    let shown = Sink::default();
    let opts = Options {
        show_secrets: true,
        ..Options::default()
    };
    generate(
        vec![mk(0)].into_iter(),
        &Trust::default(),
        &opts,
        &mut shown.clone(),
    )
    .unwrap();
    let text = page(&shown);
    assert!(text.contains("Hunter2Secret"));
    assert!(text.contains("This page contains credentials"));
}

/// The rows of a page, parsed as the page's script parses them.
fn rows_of(text: &str) -> Vec<serde_json::Value> {
    let open = "<script type=\"application/json\" class=\"rows\">";
    text.match_indices(open)
        .flat_map(|(i, _)| {
            let rest = &text[i + open.len()..];
            let block: serde_json::Value =
                serde_json::from_str(&rest[..rest.find("</script>").unwrap()]).unwrap();
            block.as_array().unwrap().clone()
        })
        .collect()
}

#[test]
fn a_row_carries_the_list_facets_the_page_filters_on() {
    let mut failed = flow(
        4,
        request(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
        ),
        response(200, "text/plain", b""),
    );
    failed.outcome = crate::flow::Outcome::Error(crate::flow::FlowError {
        message: "connection reset".into(),
        incomplete: false,
    });
    let noise = flow(
        5,
        request("GET", "https://edge.microsoft.com/x?y=1"),
        response(200, "application/json; charset=utf-8", b"{}"),
    );
    let sink = Sink::default();
    generate(
        vec![failed, noise].into_iter(),
        &Trust::default(),
        &Options::default(),
        &mut sink.clone(),
    )
    .unwrap();
    let rows = rows_of(&page(&sink));
    assert_eq!(rows.len(), 2);
    let (a, b) = (&rows[0], &rows[1]);
    assert_eq!(a["id"], 5);
    assert_eq!(a["s"], serde_json::Value::Null);
    assert_eq!(a["e"], "connection reset");
    assert_eq!(
        (a["w"].as_str(), a["mk"].as_str()),
        (Some("error"), Some("!"))
    );
    assert_eq!(a["n"], false);
    assert_eq!(b["id"], 6);
    assert_eq!(b["n"], true, "a built-in noise host");
    assert_eq!(b["p"], "/x?y=1");
    assert_eq!(b["ct"][1], "application/json");
    assert_eq!(b["mk"], "");
    assert_eq!(b["st"], serde_json::Value::Null);
}
