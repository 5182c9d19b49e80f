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
