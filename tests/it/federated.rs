//! A federated sign-in capture end to end: the SAML token ADFS posts is verified against the
//! signing certificate of the FederationMetadata answered in the same capture, or against a
//! certificate pinned with `--trust-cert`. Also keeps `captures/federated-signin.har` (a committed
//! sample) in step with the fixtures it is made from.

use idscope::capture::{self, HarWriter};
use idscope::flow::Flow;

use crate::util::{fixture, flow_from_fixtures, idscope, root, stderr, stdout};

/// The sign-in as a browser sees it: realm discovery (Federated), the WS-Fed redirect to ADFS,
/// the forms login answered by the auto-POST page, the POST of the token to login.srf; and the
/// federation metadata someone fetched along the way.
pub fn federated_flows() -> Vec<Flow> {
    vec![
        flow_from_fixtures(0, None, Some("realm/v2_federated.http")),
        flow_from_fixtures(1, Some("wsfed/signin_request.http"), None),
        flow_from_fixtures(
            2,
            Some("wsfed/adfs_forms_post.http"),
            Some("wsfed/adfs_autopost_page.http"),
        ),
        flow_from_fixtures(3, Some("wsfed/login_srf_post.http"), None),
        flow_from_fixtures(4, None, Some("wsfed/federation_metadata.http")),
    ]
}

/// Writes `flows` to `path`, replacing the file if it exists.
fn write(path: &std::path::Path, flows: &[Flow]) {
    let _ = std::fs::remove_file(path);
    HarWriter::write_all(path, flows).unwrap();
}

#[test]
fn committed_federated_sample_matches_its_fixtures() {
    let sample = root().join("captures/federated-signin.har");
    if std::env::var_os("IDSCOPE_WRITE_SAMPLE").is_some() {
        write(&sample, &federated_flows());
    }
    assert_eq!(
        capture::read_all(&sample).unwrap(),
        federated_flows(),
        "regenerate with IDSCOPE_WRITE_SAMPLE=1 cargo test --test it committed_federated_sample"
    );
}

#[test]
fn saml_token_verifies_against_federation_metadata_from_the_same_capture() {
    let o = idscope(&["analyze", "captures/federated-signin.har"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("from FederationMetadata in flow #5"), "{out}");
    assert!(out.contains("ImmutableID"), "{out}");
    assert!(
        out.contains("(= ac7f7894-"),
        "the ImmutableID is shown as its objectGUID: {out}"
    );
    // The metadata cannot vouch for itself: its own signature stays unverified.
    assert!(!out.contains("federation metadata: verified"), "{out}");
    // The ADFS forms password never shows.
    let json = stdout(&idscope(
        &["analyze", "--json", "captures/federated-signin.har"],
        None,
    ));
    let forms: serde_json::Value = serde_json::from_str(json.lines().nth(2).unwrap()).unwrap();
    assert!(
        forms["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "wsfed"),
        "{forms}"
    );
}

#[test]
fn without_metadata_the_token_is_unverified_until_a_certificate_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("no-metadata.har");
    let mut flows = federated_flows();
    flows.pop();
    write(&har, &flows);
    let har = har.to_str().unwrap();

    let o = idscope(&["analyze", har], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("not verified: no trusted certificate"),
        "{}",
        stdout(&o)
    );

    let pem = fixture("wsfed/login_srf_post.trust.pem");
    let o = idscope(
        &["analyze", "--trust-cert", pem.to_str().unwrap(), har],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("verified with certificate") && out.contains("from --trust-cert"),
        "{out}"
    );
}

#[test]
fn a_file_that_is_not_a_certificate_is_refused() {
    let o = idscope(
        &[
            "analyze",
            "--trust-cert",
            "Cargo.toml",
            "captures/federated-signin.har",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Cargo.toml"), "{}", stderr(&o));
}
