//! Exporting flows from the UI: the shown or marked flows written as a HAR file with
//! [`HarWriter`] (crash-safe layout, mode 0600, never overwriting), as a shareable redacted
//! HAR through the redaction module (`capture::redact`, security.md §1), which refuses rather
//! than write a leak, or as the redacted HTML report of `idscope report` ([`crate::report`]).

use std::path::Path;

use anyhow::Context as _;

use idscope_decoders::Trust;

use crate::analysis::learn_trust;
use crate::capture::HarWriter;
use crate::flow::Flow;
use crate::report::{self, Options, Written};

/// Writes `flows` to `path` as HAR and returns how many were written; with `redacted`, writes the
/// shareable copy of security.md §1 instead (or nothing, when the residual detector refuses).
/// Never overwrites an existing file.
pub fn export_flows<'a>(
    flows: impl IntoIterator<Item = &'a Flow>,
    path: &Path,
    redacted: bool,
) -> anyhow::Result<usize> {
    if redacted {
        let opts = crate::capture::redact::RedactOptions::default();
        let report = crate::capture::redact::redact_flows(
            flows.into_iter().map(|f| Ok(f.clone())),
            path,
            &opts,
        )
        .with_context(|| format!("redacted export to {}", path.display()))?;
        return Ok(usize::try_from(report.flows).unwrap_or(usize::MAX));
    }
    Ok(HarWriter::write_all(path, flows)?)
}

/// Writes `flows` as a redacted HTML report at `path` (never overwriting), decoded against
/// `trust` plus what every flow of the session (`session`) publishes, as `idscope report` learns
/// it from a capture. Nothing is written when the residual detector refuses a flow.
pub fn export_report<'a>(
    flows: Vec<Flow>,
    session: impl Iterator<Item = &'a Flow>,
    trust: &Trust,
    path: &Path,
) -> anyhow::Result<Written> {
    let mut trust = trust.clone();
    for f in session {
        learn_trust(f, &mut trust);
    }
    let opts = Options {
        source: "idscope session".into(),
        flows_in_capture: Some(flows.len()),
        ..Options::default()
    };
    report::write_file(flows.into_iter().map(Ok), &trust, &opts, path, false)
        .with_context(|| format!("report to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, request_with, response};

    #[test]
    fn exported_har_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.har");
        let flows = [
            flow(
                3,
                request("GET", "https://a.example/"),
                response(200, "text/plain", b"a"),
            ),
            flow(
                7,
                request("POST", "https://b.example/x"),
                response(201, "text/plain", b"b"),
            ),
        ];
        assert_eq!(export_flows(&flows, &path, false).unwrap(), 2);
        let back = crate::capture::read_all(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].request.url, "https://b.example/x");
        let again = export_flows(&flows, &path, false).unwrap_err();
        assert!(format!("{again:#}").contains("creating"), "{again:#}");
    }

    #[test]
    fn redacted_export_writes_a_shareable_copy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.har");
        let mut req = request_with(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        req.body = crate::flow::Body::plain(
            b"grant_type=password&username=a%40b&password=Hunter2Secret!".to_vec(),
        );
        let flows = [flow(1, req, response(200, "application/json", b"{}"))];
        assert_eq!(export_flows(&flows, &path, true).unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("Hunter2Secret!"), "{text}");
        assert!(
            text.contains("redacted%3Apassword"),
            "placeholder in the form: {text}"
        );
        assert!(
            export_flows(&flows, &path, true).is_err(),
            "never overwrites"
        );
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;
    use crate::flow::testing::{flow, request_with, response};

    #[test]
    fn the_report_export_is_redacted_holds_the_given_flows_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.html");
        let mk = |i: u64| {
            let mut req = request_with(
                "POST",
                &format!("https://login.microsoftonline.com/common/oauth2/token?n={i}"),
                &[("content-type", "application/x-www-form-urlencoded")],
            );
            req.body = crate::flow::Body::plain(
                b"grant_type=password&username=a%40b&password=Hunter2Secret!".to_vec(),
            );
            flow(i, req, response(200, "application/json", b"{}"))
        };
        let session = [mk(0), mk(1), mk(2)];
        let chosen = vec![session[0].clone(), session[2].clone()];
        let w = export_report(chosen.clone(), session.iter(), &Trust::default(), &path).unwrap();
        assert_eq!((w.flows, w.shown), (2, 2));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("Hunter2Secret"), "{text}");
        assert!(text.contains("id=\"f-1\"") && text.contains("id=\"f-3\""));
        assert!(!text.contains("id=\"f-2\""));
        assert!(text.contains("Built from a redacted copy"));
        let again = export_report(chosen, session.iter(), &Trust::default(), &path).unwrap_err();
        assert!(format!("{again:#}").contains("already exists"), "{again:#}");
    }
}
