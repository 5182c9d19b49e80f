//! The PRT with the device's keys, end to end: `idscope demo --headless --seed N` records a PRT
//! sign-in and writes the scripted device's transport key (derived from the seed), and
//! `idscope analyze --key transport.pem` unwraps the session key from the PRT response and, with
//! it, verifies the PRT cookie and the session-key-signed request and decrypts the encrypted
//! token response of the later flows. The keys and what they open never reach a report, a
//! redacted copy or a HAR export.

use serde_json::Value;

use crate::util::{idscope, stderr, stdout};

/// Every finding message of an `analyze --json` report, with the flow id.
fn findings(report: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for line in report.lines().filter(|l| l.starts_with('{')) {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_u64().unwrap_or(0);
        for f in v["findings"].as_array().into_iter().flatten() {
            out.push((id, f["message"].as_str().unwrap_or("").to_string()));
        }
    }
    out
}

fn count(f: &[(u64, String)], prefix: &str) -> usize {
    f.iter().filter(|(_, m)| m.starts_with(prefix)).count()
}

#[test]
fn a_demo_prt_recording_opens_with_the_transport_key_derived_from_its_seed() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("demo.har");
    let key = dir.path().join("transport.pem");
    let (har_s, key_s) = (har.to_str().unwrap(), key.to_str().unwrap());
    let o = idscope(
        &[
            "demo",
            "--headless",
            "--seed",
            "11",
            "-w",
            har_s,
            "--transport-key-out",
            key_s,
        ],
        None,
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    // The key is the library's, from the seed alone.
    let pem = std::fs::read_to_string(&key).unwrap();
    assert_eq!(
        pem,
        idscope::scenario::prt_sso::transport_key_pem(11).unwrap()
    );

    // Without the key nothing is opened.
    let plain = stdout(&idscope(&["analyze", "--json", har_s], None));
    let none = findings(&plain);
    assert_eq!(count(&none, "session key unwrapped"), 0);
    assert_eq!(
        count(&none, "signature verified with the key derived from"),
        0
    );

    let report = stdout(&idscope(
        &["analyze", "--json", "--key", key_s, har_s],
        None,
    ));
    let got = findings(&report);
    let unwrapped: Vec<&(u64, String)> = got
        .iter()
        .filter(|(_, m)| m.starts_with(&format!("session key unwrapped with --key {key_s}")))
        .collect();
    assert_eq!(unwrapped.len(), 1, "{got:#?}");
    let prt_flow = unwrapped[0].0;
    // The PRT cookie (KDFv2) and the session-key-signed request, verified with the learned key;
    // the encrypted token response, decrypted.
    let learned = format!("the session key of flow #{prt_flow} (unwrapped with --key {key_s})");
    let verified = format!("signature verified with the key derived from {learned}");
    assert!(count(&got, &verified) >= 2, "{got:#?}");
    assert!(
        got.iter()
            .any(|(_, m)| m.starts_with(&format!("decrypted with the key derived from {learned}"))),
        "{got:#?}"
    );
    assert_eq!(count(&got, "not verified: the KDF"), 0, "{got:#?}");
    // The text report says what was learned.
    let text = stdout(&idscope(&["analyze", "--key", key_s, har_s], None));
    assert!(
        text.contains("PRT session keys unwrapped from the capture with --key: 1"),
        "{text}"
    );

    // The session key is a secret: masked in the report, shown only on request.
    let shown = stdout(&idscope(
        &["analyze", "--json", "--show-secrets", "--key", key_s, har_s],
        None,
    ));
    let session_key = shown
        .split("\"label\":\"session key\",\"value\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the session key node, shown with --show-secrets")
        .to_string();
    assert_eq!(session_key.len(), 64);
    let key_body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let secrets = [session_key.as_str(), &key_body[..64], &key_body[200..264]];
    for s in secrets {
        assert!(!report.contains(s), "the masked report holds a key");
        assert!(!text.contains(s), "the text report holds a key");
    }
    // Neither a redacted copy nor a HAR export holds the keys.
    let red = dir.path().join("red.har");
    let o = idscope(&["redact", har_s, "-o", red.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let exported = dir.path().join("export.har");
    let flows = idscope::capture::read_all(&har).unwrap();
    idscope::tui::export::export_flows(&flows, &exported, false).unwrap();
    for file in [&red, &exported, &har] {
        let body = std::fs::read_to_string(file).unwrap();
        for s in secrets {
            assert!(!body.contains(s), "{} holds a key", file.display());
        }
    }
}
