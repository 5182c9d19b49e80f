//! Hostile input through the whole registry, asserting what comes back (not only that nothing
//! panics): every prefix of every golden input decodes to a view or to an error that says what
//! was wrong, and a cut-off signed document never passes for a verified one. The invariants are
//! `support/invariants.rs`, which the fuzz targets check too.

// Test code: a broken fixture should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/invariants.rs"]
mod invariants;

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use idscope_decoders::xml::dsig::TrustedCert;
use idscope_decoders::{Context, Message, OwnedMessage, Registry, Severity, Trust};

fn cx(trust: &Trust) -> Context<'_> {
    Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
}

/// Each golden message with its body cut at about 16 points (headers and URL kept), and the
/// cut body alone as a blob: every outcome keeps the invariants, and both views and errors
/// occur.
#[test]
fn every_prefix_of_every_golden_input_is_a_view_or_an_error_that_says_why() {
    let trust = Trust::default();
    let cx = cx(&trust);
    let (mut files, mut views, mut errors) = (0, 0, 0);
    for path in fixtures::http_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let full = OwnedMessage::parse_http_text(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let step = (full.body.len() / 16).max(1);
        for end in (0..full.body.len()).step_by(step) {
            let mut cut = full.clone();
            cut.body.truncate(end);
            let what = format!("{name} cut at byte {end}");
            for msg in [cut.as_message(), Message::blob(&cut.body)] {
                let outcomes = Registry::builtin().decode_all(&msg, &cx);
                invariants::check_outcomes(&outcomes, &what);
                for o in &outcomes {
                    match o.result {
                        Ok(_) => views += 1,
                        Err(_) => errors += 1,
                    }
                }
            }
        }
        files += 1;
    }
    assert!(files > 150, "only {files} golden inputs");
    assert!(
        views > 1000 && errors > 1000,
        "{views} views, {errors} errors: the cuts exercise too little"
    );
}

/// The signed samples of `data/dsig/`, with their signing certificate pinned: the whole
/// document verifies; every cut before its end is refused or decodes with a warning or an
/// error, and never claims a verified signature.
#[test]
fn a_cut_off_signed_document_never_passes_for_a_verified_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dsig");
    let mut trust = Trust::default();
    let pem = std::fs::read(dir.join("signing_cert.pem")).unwrap();
    trust
        .certs
        .extend(TrustedCert::from_pem_or_der(&pem, "--trust-cert adfs.pem").unwrap());
    let cx = cx(&trust);
    let (mut refused, mut flagged) = (0, 0);
    for name in [
        "saml11_rsa_sha256.xml",
        "saml2_response_rsa_sha256.xml",
        "saml2_response_prefixlist.xml",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let decode = |body: &[u8]| {
            let outcomes = Registry::builtin().decode_all(&Message::blob(body), &cx);
            invariants::check_outcomes(&outcomes, name);
            outcomes
        };
        // The decoder that verifies the whole document (saml, or wstrust for an RSTR).
        let verifier = decode(text.as_bytes())
            .into_iter()
            .find(|o| {
                o.result
                    .as_ref()
                    .is_ok_and(|d| d.summary.contains("signature verified"))
            })
            .unwrap_or_else(|| panic!("{name}: no decoder verifies the whole document"))
            .decoder;
        let doc = text.trim_end();
        let step = (doc.len() / 200).max(1);
        for end in (1..doc.len()).step_by(step) {
            let outcomes = decode(&doc.as_bytes()[..end]);
            for o in &outcomes {
                if let Ok(d) = &o.result {
                    assert!(
                        !d.summary.contains("signature verified"),
                        "{name} cut at {end}: {} says {}",
                        o.decoder,
                        d.summary
                    );
                }
            }
            match outcomes
                .iter()
                .find(|o| o.decoder == verifier)
                .map(|o| &o.result)
            {
                // Not recognised any more, or refused: either way nothing is claimed.
                None | Some(Err(_)) => refused += 1,
                Some(Ok(d)) => {
                    assert!(
                        d.findings.iter().any(|f| f.severity >= Severity::Warning),
                        "{name} cut at {end} decodes without a warning: {} {:?}",
                        d.summary,
                        d.findings
                    );
                    flagged += 1;
                }
            }
        }
    }
    assert!(
        refused + flagged > 500,
        "{refused} refused, {flagged} flagged"
    );
    eprintln!("cut-off signed documents: {refused} refused, {flagged} decoded with a warning");
}
