//! Golden tests: every `fixtures/<decoder>/<case>.http` file is parsed as an HTTP message
//! (see `OwnedMessage::parse_http_text`) and decoded by the builtin registry at a fixed "now"
//! (2023-11-14T22:13:20Z); the result of `decode_all` is snapshotted as YAML. A sibling
//! `<case>.keys.json` (a JWKS or JWK) is loaded as trusted keys for that case, and a sibling
//! `<case>.trust.pem` as trusted certificates (source `--trust-cert <file name>`).
//!
//! Generic fallbacks (`json`, `form`, `xml`, `url`, `base64`) are left out of the snapshot unless the
//! case lives under `fixtures/generic/`, so a protocol's snapshot shows only what its decoders say.

// Test code: a broken fixture should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

#[path = "support/fixtures.rs"]
mod fixtures;

use idscope_decoders::registry::GENERIC;
use idscope_decoders::xml::dsig::TrustedCert;
use idscope_decoders::{Context, OwnedMessage, Registry, Trust};

#[test]
fn golden() {
    insta::glob!("fixtures/**/*.http", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let msg = OwnedMessage::parse_http_text(&text).unwrap();
        let trust = trust_for(path);
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let generic_case = path.components().any(|c| c.as_os_str() == "generic");
        let outcomes: Vec<_> = Registry::builtin()
            .decode_all(&msg.as_message(), &cx)
            .into_iter()
            .filter(|o| generic_case || !GENERIC.contains(&o.decoder))
            .collect();
        insta::assert_yaml_snapshot!(outcomes);
    });
}

/// A caller that asks only for summaries (`Context::for_summary`, the proxy's flow line) gets,
/// for every golden case, the same decoders, the same successes and failures, and the same
/// one-line summaries as a full decode.
#[test]
fn summary_only_decodes_keep_every_summary() {
    let mut n = 0;
    for entry in fixtures::http_files() {
        let text = std::fs::read_to_string(&entry).unwrap();
        let msg = OwnedMessage::parse_http_text(&text).unwrap();
        let trust = trust_for(&entry);
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let full = Registry::builtin().decode_all(&msg.as_message(), &cx);
        let brief = Registry::builtin().decode_all(&msg.as_message(), &cx.for_summary());
        let view = |outs: &[idscope_decoders::registry::Outcome]| -> Vec<(String, Result<String, String>)> {
            outs.iter()
                .map(|o| {
                    let r = match &o.result {
                        Ok(d) => Ok(d.summary.clone()),
                        Err(e) => Err(e.to_string()),
                    };
                    (o.decoder.to_string(), r)
                })
                .collect()
        };
        assert_eq!(view(&brief), view(&full), "{}", entry.display());
        n += 1;
    }
    assert!(n > 150, "only {n} golden cases");
}

/// The trusted keys and certificates of a case: its sibling `.keys.json` and `.trust.pem`.
fn trust_for(path: &std::path::Path) -> Trust {
    let mut trust = Trust::default();
    let keys = path.with_extension("keys.json");
    if keys.exists() {
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&keys).unwrap()).unwrap();
        assert!(
            trust.add_jwks(&doc, "test keys") > 0,
            "no keys in {}",
            keys.display()
        );
    }
    let pem = path.with_extension("trust.pem");
    if pem.exists() {
        let name = pem.file_name().unwrap().to_string_lossy();
        let certs = TrustedCert::from_pem_or_der(
            &std::fs::read(&pem).unwrap(),
            &format!("--trust-cert {name}"),
        )
        .unwrap();
        trust.certs.extend(certs);
    }
    trust
}
