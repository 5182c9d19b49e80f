//! The flow line that `idscope proxy` prints per finished flow without the TUI (`#N METHOD URL
//! → STATUS size time [kind: summary]`, the summary from the decoders), and the [`Printer`] that
//! writes those lines to stdout, once per batch of events.
//!
//! The line is on the capture hot path (`benches/proxy_bench.py` measures it): the decode
//! behind it runs only the decoders the line needs ([`Registry::decode_for_summary`]).

use std::io::Write as _;

use idscope_decoders::{Context, Limits, Registry, Trust};

use crate::analysis::FlowReport;
use crate::flow::{DEFAULT_DECODED_CAP, Flow, Outcome};

/// Writes the flow lines to stdout through a buffer, flushed once per batch of events.
pub struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    registry: &'static Registry,
    trust: Trust,
}

impl Printer {
    /// A printer to stdout.
    pub fn new() -> Self {
        Printer {
            out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout()),
            registry: Registry::builtin(),
            trust: Trust::default(),
        }
    }

    /// Adds the line of a finished flow.
    pub fn line(&mut self, flow: &Flow) {
        let line = flow_line(flow, self.registry, &self.trust);
        // stdout going away (a closed pipe) must not stop the proxy or the recording.
        let _ = writeln!(self.out, "{line}");
    }

    /// Writes the lines so far.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

impl Default for Printer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer").finish_non_exhaustive()
    }
}

/// What the flow line needs from the decoders: the same [`FlowReport::kinds`] and
/// [`FlowReport::summary`] as [`crate::analysis::decode_flow`] gives, for much less work (see
/// [`Registry::decode_for_summary`]); flow-level findings and failed generic fallbacks are left
/// out.
pub fn line_report(flow: &Flow, registry: &Registry, trust: &Trust) -> FlowReport {
    let limits = Limits::default();
    let cx = Context::new(flow.started_at, trust)
        .with_limits(limits)
        .for_summary();
    let cap = limits.max_inflate.min(DEFAULT_DECODED_CAP);
    let req_body = flow.request.body.decoded_lossy(cap);
    let request = registry.decode_for_summary(&flow.request_message(&req_body), &cx);
    let response = match flow.response() {
        Some(r) => {
            let body = r.body.decoded_lossy(cap);
            match flow.response_message(&body) {
                Some(msg) => registry.decode_for_summary(&msg, &cx),
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    FlowReport {
        id: flow.id,
        request,
        response,
        flow_findings: Vec::new(),
    }
}

/// `#N METHOD URL → STATUS size time [kind: summary]`, built in one string (it is made for
/// every flow the proxy prints).
pub fn flow_line(flow: &Flow, registry: &Registry, trust: &Trust) -> String {
    use std::fmt::Write as _;
    let report = line_report(flow, registry, trust);
    let mut line = String::with_capacity(160 + flow.request.url.len());
    // Writing into a String cannot fail.
    let _ = write!(
        line,
        "{} {} {} → ",
        flow.id, flow.request.method, flow.request.url
    );
    match &flow.outcome {
        Outcome::Response(r) => {
            let _ = write!(line, "{} ", r.status);
            human_size(&mut line, r.body.size);
        }
        Outcome::Error(e) if e.incomplete => {
            let _ = write!(line, "(incomplete: {})", e.message);
        }
        Outcome::Error(e) => {
            let _ = write!(line, "ERROR {}", e.message);
        }
    }
    // Whole milliseconds, rounded as `{:.0}` rounds, without the float formatter (a dozen
    // times slower, on every line).
    if let Some(t) = flow
        .timings
        .total
        .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e15)
    {
        let _ = write!(line, " {}ms", t.round_ties_even() as u64);
    }
    let kinds = report.kinds();
    let summary = report.summary();
    if !(kinds.is_empty() && summary.is_empty()) {
        line.push_str(" [");
        for (i, k) in kinds.iter().enumerate() {
            if i > 0 {
                line.push('+');
            }
            line.push_str(k);
        }
        line.push_str(": ");
        line.push_str(&summary);
        line.push(']');
    }
    line
}

/// `512B`, `1.0KiB`, `2.5MiB`: one decimal, rounded half up, in integer arithmetic, appended.
fn human_size(out: &mut String, n: u64) {
    use std::fmt::Write as _;
    let tenths = |unit: u64| (u128::from(n) * 10 + u128::from(unit / 2)) / u128::from(unit);
    let (t, unit) = match n {
        0..1024 => {
            let _ = write!(out, "{n}B");
            return;
        }
        1024..1_048_576 => (tenths(1024), "KiB"),
        _ => (tenths(1_048_576), "MiB"),
    };
    let _ = write!(out, "{}.{}{unit}", t / 10, t % 10);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing;
    use std::path::Path;

    #[test]
    fn the_flow_line_has_status_size_and_the_decoded_summary() {
        let f = testing::flow(
            0,
            testing::request("POST", "https://login.example/tenant/oauth2/token"),
            testing::response(
                200,
                "application/json",
                br#"{"token_type":"Bearer","expires_in":3600,"access_token":"x"}"#,
            ),
        );
        let line = flow_line(&f, Registry::builtin(), &Trust::default());
        assert!(
            line.starts_with("#1 POST https://login.example/tenant/oauth2/token → 200 "),
            "{line}"
        );
        assert!(line.contains('['), "decoded part missing: {line}");
    }

    #[test]
    fn the_line_report_agrees_with_the_full_decode() {
        use crate::analysis::decode_flow;
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2xvZ2luLmV4YW1wbGUvIiwic3ViIjoiYWxpY2UiLCJleHAiOjE3MDAwMDAwMDB9.c2ln";
        let mut with_bearer = testing::request("GET", "https://graph.example/v1.0/me");
        with_bearer
            .headers
            .push(("Authorization".into(), format!("Bearer {jwt}")));
        let mut form = testing::request("POST", "https://login.example/t/oauth2/v2.0/token");
        form.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        form.body = crate::flow::Body::plain(
            &b"grant_type=authorization_code&code=abc&client_id=x&redirect_uri=http%3A%2F%2Flocalhost"[..],
        );
        let mut plain_form = testing::request("POST", "https://app.example/submit");
        plain_form.body = crate::flow::Body::plain(&b"a=1&b=two"[..]);
        let flows = [
            testing::flow(
                0,
                form,
                testing::response(
                    200,
                    "application/json",
                    br#"{"token_type":"Bearer","expires_in":3600,"access_token":"x"}"#,
                ),
            ),
            testing::flow(
                1,
                with_bearer,
                testing::response(200, "application/json", br#"{"displayName":"A"}"#),
            ),
            testing::flow(
                2,
                plain_form,
                testing::response(200, "text/html", b"<html><body>hi</body></html>"),
            ),
            testing::flow(
                3,
                testing::request("GET", "https://app.example/blob"),
                testing::response(200, "text/plain", b"aGVsbG8gd29ybGQsIGhlbGxvIHdvcmxk"),
            ),
            testing::flow(
                4,
                testing::request("GET", "https://app.example/"),
                testing::response(204, "", b""),
            ),
        ];
        let (registry, trust) = (Registry::builtin(), Trust::default());
        for f in &flows {
            let full = decode_flow(f, registry, &trust, Limits::default());
            let line = line_report(f, registry, &trust);
            assert_eq!(line.kinds(), full.kinds(), "{}", f.request.url);
            assert_eq!(line.summary(), full.summary(), "{}", f.request.url);
        }
    }

    /// The line's summary-only decode ([`Context::summary_only`]) against the full decode, on
    /// every flow of the sample captures and the peer corpus (token responses, SAML, SOAP,
    /// SCIM, PRT, errors).
    #[test]
    fn the_summary_only_decode_agrees_with_the_full_decode_on_every_sample_flow() {
        use crate::analysis::decode_flow;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = ["captures", "../shared/corpus/har-peers"]
            .iter()
            .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
            .flat_map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())))
            .filter(|p| p.extension().is_some_and(|e| e == "har" || e == "saz"))
            .collect();
        files.sort();
        let (registry, trust) = (Registry::builtin(), Trust::default());
        let mut n = 0;
        for file in &files {
            let Ok(reader) = crate::capture::open(file) else {
                continue;
            };
            for f in reader.flatten() {
                let full = decode_flow(&f, registry, &trust, Limits::default());
                let line = line_report(&f, registry, &trust);
                let at = format!("{} #{}", file.display(), f.id);
                assert_eq!(line.kinds(), full.kinds(), "{at}");
                assert_eq!(line.summary(), full.summary(), "{at}");
                // The printed line, against one formatted the plain way from the full decode;
                // also as an error and as an incomplete flow, and without a time.
                let mut variants = vec![f.clone()];
                for incomplete in [false, true] {
                    let mut e = f.clone();
                    e.outcome = Outcome::Error(crate::flow::FlowError {
                        message: "upstream: connection refused".into(),
                        incomplete,
                    });
                    e.timings.total = None;
                    variants.push(e);
                }
                for v in &variants {
                    let want =
                        reference_line(v, &decode_flow(v, registry, &trust, Limits::default()));
                    assert_eq!(flow_line(v, registry, &trust), want, "{at}");
                }
                n += 1;
            }
        }
        assert!(n > 50, "only {n} flows compared");
    }

    /// The line formatted the plain way, with `format!` per part: the test oracle.
    fn reference_line(flow: &Flow, report: &FlowReport) -> String {
        let outcome = match &flow.outcome {
            Outcome::Response(r) => format!("{} {}", r.status, size(r.body.size)),
            Outcome::Error(e) if e.incomplete => format!("(incomplete: {})", e.message),
            Outcome::Error(e) => format!("ERROR {}", e.message),
        };
        let time = flow
            .timings
            .total
            .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e15)
            .map(|t| format!(" {t:.0}ms"))
            .unwrap_or_default();
        let (kinds, summary) = (report.kinds(), report.summary());
        let decoded = if kinds.is_empty() && summary.is_empty() {
            String::new()
        } else {
            format!(" [{}: {summary}]", kinds.join("+"))
        };
        format!(
            "{} {} {} → {outcome}{time}{decoded}",
            flow.id, flow.request.method, flow.request.url
        )
    }

    fn size(n: u64) -> String {
        let mut s = String::new();
        human_size(&mut s, n);
        s
    }

    #[test]
    fn sizes_have_one_decimal() {
        assert_eq!(size(0), "0B");
        assert_eq!(size(1023), "1023B");
        assert_eq!(size(1024), "1.0KiB");
        assert_eq!(size(1536), "1.5KiB");
        assert_eq!(size(1_048_575), "1024.0KiB");
        assert_eq!(size(1_048_576), "1.0MiB");
        assert_eq!(size(5 * 1_048_576 + 104_858), "5.1MiB");
        assert_eq!(size(u64::MAX), "17592186044416.0MiB");
    }
}
