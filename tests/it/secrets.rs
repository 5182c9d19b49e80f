//! Secrets stay masked in every view `analyze` prints unless `--show-secrets`: form fields, token
//! responses, and whole messages shown as markup (a msbin1 sync call's BearerToken inside the
//! decoded XML, a SAML SignatureValue).

use idscope::capture::HarWriter;

use crate::util::{fixture_body, flow_from_fixtures, idscope, stdout};

#[test]
fn analyze_json_masks_bearer_tokens_and_signatures_inside_decoded_xml() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("sync.har");
    let flows = vec![
        flow_from_fixtures(
            0,
            Some("provisioning/get_company_configuration_request.http"),
            None,
        ),
        flow_from_fixtures(1, Some("wsfed/login_srf_post.http"), None),
    ];
    let mut w = HarWriter::create(&har).unwrap();
    for f in &flows {
        w.write_flow(f).unwrap();
    }
    w.finish().unwrap();

    // The BearerToken of the sync call, as it crosses the wire inside the msbin1 body.
    let body = fixture_body("provisioning/get_company_configuration_request.http");
    let xml = idscope_decoders::soap::nbfx::decode(&body, &Default::default())
        .unwrap()
        .xml;
    let start = xml.find("eyJ").unwrap();
    let token: String = xml[start..].chars().take_while(|c| *c != '<').collect();
    assert!(token.len() > 200);
    let signature = token.rsplit('.').next().unwrap().to_string();

    let masked = stdout(&idscope(
        &["analyze", "--json", har.to_str().unwrap()],
        None,
    ));
    assert!(masked.contains("GetCompanyConfiguration"), "{masked}");
    assert!(
        !masked.contains(&token),
        "the BearerToken leaks into analyze --json"
    );
    assert!(
        !masked.contains(&signature),
        "the token signature leaks into analyze --json"
    );
    assert!(!masked.contains("<ds:SignatureValue>MI") && !masked.contains("SignatureValue>MI"));

    let shown = stdout(&idscope(
        &["analyze", "--json", "--show-secrets", har.to_str().unwrap()],
        None,
    ));
    assert!(shown.contains(&signature), "--show-secrets shows the token");
}

/// Every golden-test message (`decoders/tests/fixtures/**/*.http`), redacted by `idscope redact`'s
/// rules and decoded again with the same trusted keys, reads as redacted: no error or warning
/// finding, failed decoder or error node the original does not have, and every marker shown as a
/// secret that says redaction removed it. This covers each decoder that reads a credential
/// (XML-DSig and XML Encryption in SAML, WS-Fed and WS-Trust, JWT signatures and JWEs, PRT
/// cookies, session keys and encrypted responses, OAuth token requests and responses, the sync
/// API's BearerToken and credential data, SCIM).
#[test]
fn every_golden_message_reads_as_redacted_after_redaction() {
    use idscope::analysis::{FlowReport, decode_flow};
    use idscope::capture::redact::{Fingerprinter, Policy, RedactionReport, redact_flow};
    use idscope_decoders::secrets::{REDACTED_NOTE, redaction_marker};
    use idscope_decoders::{
        Direction, Kind, Limits, Node, OwnedMessage, Registry, Severity, Trust,
    };
    use std::collections::BTreeSet;

    fn normalized(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            if !c.is_ascii_digit() {
                out.push(c);
            } else if !out.ends_with('N') {
                out.push('N');
            }
        }
        out
    }
    fn walk(n: &Node, path: &str, f: &mut dyn FnMut(&Node, &str)) {
        let path = format!("{path}/{}", n.label);
        f(n, &path);
        for c in &n.children {
            walk(c, &path, f);
        }
    }
    fn problems(r: &FlowReport) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (side, outs) in [("request", &r.request), ("response", &r.response)] {
            for o in outs {
                match &o.result {
                    Err(e) => {
                        out.insert(format!(
                            "{side} {} failed: {}",
                            o.decoder,
                            normalized(&e.to_string())
                        ));
                    }
                    Ok(d) => {
                        for f in d
                            .findings
                            .iter()
                            .filter(|f| f.severity >= Severity::Warning)
                        {
                            out.insert(format!("{side} {}: {}", o.decoder, normalized(&f.message)));
                        }
                        walk(&d.root, side, &mut |n, path| {
                            if n.kind == Kind::Error {
                                out.insert(format!(
                                    "{} error node: {}",
                                    normalized(path),
                                    normalized(n.value.as_deref().unwrap_or(""))
                                ));
                            }
                        });
                    }
                }
            }
        }
        out
    }

    let root = crate::util::root().join("decoders/tests/fixtures");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "http") {
                files.push(p);
            }
        }
    }
    files.sort();
    let keyed = Fingerprinter::with_key(b"golden");
    let (mut changed, mut markers) = (0, 0);
    let mut failures = Vec::new();
    for (n, path) in files.iter().enumerate() {
        let rel = path.strip_prefix(&root).unwrap().to_str().unwrap();
        let msg = OwnedMessage::parse_http_text(&std::fs::read_to_string(path).unwrap()).unwrap();
        let flow = match msg.direction {
            Direction::Request => crate::util::flow_from_fixtures(n as u64, Some(rel), None),
            Direction::Response => crate::util::flow_from_fixtures(n as u64, None, Some(rel)),
            Direction::Blob => continue,
        };
        let mut trust = Trust::default();
        for (ext, kind) in [("keys.json", "keys"), ("trust.pem", "certificate")] {
            let side = path.with_extension(ext);
            if side.exists() {
                trust
                    .add_anchor_file(&std::fs::read(&side).unwrap(), kind, &Limits::default())
                    .unwrap();
            }
        }
        let Ok(redacted) = redact_flow(
            &flow,
            &Policy::default(),
            &keyed,
            &mut RedactionReport::default(),
        ) else {
            // Refused by the residual detector: nothing is written, nothing to read.
            continue;
        };
        if redacted == flow {
            continue;
        }
        changed += 1;
        let decode = |f| decode_flow(f, Registry::builtin(), &trust, Limits::default());
        let (before, after) = (decode(&flow), decode(&redacted));
        let new: Vec<String> = problems(&after)
            .difference(&problems(&before))
            .cloned()
            .collect();
        if !new.is_empty() {
            failures.push(format!("{rel}: {new:#?}"));
        }
        for outs in [&after.request, &after.response] {
            for d in outs.iter().filter_map(|o| o.result.as_ref().ok()) {
                for f in &d.findings {
                    if f.message.contains("«redacted") || f.message.contains("REDACTED-") {
                        failures.push(format!("{rel}: a finding quotes a marker: {}", f.message));
                    }
                }
                walk(&d.root, "", &mut |node, p| {
                    if redaction_marker(node.value.as_deref().unwrap_or("")).is_some() {
                        markers += 1;
                        let note = node.note.as_deref().unwrap_or("");
                        if node.kind != Kind::Secret || !note.starts_with(REDACTED_NOTE) {
                            failures.push(format!("{rel} {p}: {:?} {note}", node.kind));
                        }
                    }
                });
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        changed > 40,
        "only {changed} golden messages carry credentials"
    );
    assert!(markers > 40, "only {markers} markers shown");
}
