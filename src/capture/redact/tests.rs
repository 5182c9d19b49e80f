//! Unit tests of the redaction rules, one rule at a time, with a fixed fingerprint key.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::json;

use super::values::Cx;
use super::*;
use crate::flow::testing;
use crate::flow::{Body, Flow};

fn keyed() -> Fingerprinter {
    Fingerprinter::with_key(b"unit-test-key")
}

/// Runs `f` with a fresh context; returns its result and the report.
fn with_cx<T>(mask_pii: bool, f: impl FnOnce(&mut Cx<'_>) -> T) -> (T, RedactionReport) {
    let policy = Policy {
        mask_pii,
        ..Policy::default()
    };
    let k = keyed();
    let mut report = RedactionReport::default();
    let r = {
        let mut cx = Cx::new(&policy, &k, &mut report);
        f(&mut cx)
    };
    (r, report)
}

fn b64u(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn jws(header: &str, claims: &str, sig: &str) -> String {
    format!("{}.{}.{sig}", b64u(header), b64u(claims))
}

#[test]
fn jws_keeps_header_and_claims_and_replaces_the_signature() {
    let t = jws(
        r#"{"alg":"RS256","kid":"k"}"#,
        r#"{"upn":"a@b","aud":"x"}"#,
        "c2lnbmF0dXJl",
    );
    let (out, report) = with_cx(false, |cx| cx.keyed("access_token", &t));
    let out = out.unwrap();
    let parts: Vec<&str> = out.split('.').collect();
    assert_eq!(parts[0], b64u(r#"{"alg":"RS256","kid":"k"}"#));
    assert_eq!(
        parts[1],
        b64u(r#"{"upn":"a@b","aud":"x"}"#),
        "unchanged claims keep their bytes"
    );
    assert!(parts[2].starts_with("REDACTED-SIG-") && parts[2].len() == 24);
    // The redacted token still parses as a JWT (the marker is valid base64url).
    let parsed = idscope_decoders::jwt::parse(&out).unwrap();
    assert_eq!(parsed.claim_str("upn").as_deref(), Some("a@b"));
    assert_eq!(report.fired.get("jws_signature"), Some(&1));
    // Idempotent.
    let (again, _) = with_cx(false, |cx| cx.keyed("access_token", &out));
    assert_eq!(again, None);
}

#[test]
fn unsigned_and_empty_signature_tokens_go_whole() {
    for t in [
        jws(r#"{"alg":"none"}"#, r#"{"upn":"a"}"#, ""),
        jws(r#"{"alg":"RS256"}"#, r#"{"upn":"a"}"#, ""),
        jws(r#"{"typ":"JWT"}"#, r#"{"upn":"a"}"#, "c2ln"),
    ] {
        let (out, _) = with_cx(false, |cx| cx.keyed("id_token", &t));
        assert!(
            out.unwrap().starts_with("«redacted:jwt_unsigned:len="),
            "{t}"
        );
    }
}

#[test]
fn secrets_inside_claims_are_redacted_and_the_payload_reencoded() {
    let t = jws(
        r#"{"alg":"RS256"}"#,
        r#"{"grant_type":"password","password":"hunter2","refresh_token":"0.AXo"}"#,
        "c2ln",
    );
    let (out, _) = with_cx(false, |cx| cx.keyed("request", &t));
    let out = out.unwrap();
    let claims = URL_SAFE_NO_PAD
        .decode(out.split('.').nth(1).unwrap())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
    assert_eq!(claims["grant_type"], "password");
    assert_eq!(claims["password"], "«redacted:password:len=7»");
    assert!(
        claims["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("«redacted:refresh_token")
    );
}

#[test]
fn jwe_keeps_only_the_protected_header() {
    let h = b64u(r#"{"alg":"dir","enc":"A256GCM","ctx":"abc"}"#);
    let t = format!("{h}..aXZpdml2aXY.Y2lwaGVydGV4dA.dGFndGFn");
    let (out, _) = with_cx(false, |cx| cx.keyed("access_token", &t));
    let out = out.unwrap();
    assert!(out.starts_with(&format!("{h}...REDACTED-JWE-")), "{out}");
    assert!(!out.contains("aXZpdml2aXY") && !out.contains("Y2lwaGVydGV4dA"));
    let parsed = idscope_decoders::jwt::parse(&out).unwrap();
    assert_eq!(parsed.header_str("enc"), Some("A256GCM"));
    assert_eq!(with_cx(false, |cx| cx.keyed("access_token", &out)).0, None);
}

#[test]
fn opaque_values_in_token_positions_are_removed_fail_closed() {
    let (out, _) = with_cx(false, |cx| cx.keyed("access_token", "opaque-EwBwA8l6BAAU"));
    assert!(out.unwrap().starts_with("«redacted:token:len=19:fp="));
    let (out, _) = with_cx(false, |cx| {
        cx.keyed("X-Custom-Session-Id", "0123456789abcdef0123")
    });
    assert!(out.unwrap().starts_with("«redacted:secret:"));
    // Short words under secret-looking names (token_type: Bearer) stay.
    assert_eq!(
        with_cx(false, |cx| cx.keyed("token_type", "Bearer")).0,
        None
    );
}

#[test]
fn json_edits_keep_formatting_order_and_case_insensitive_keys() {
    let text = "{\n  \"z\": 1,\n  \"Refresh_Token\" : \"0.AXo\",\n  \"a\": [ {\"PASSWORD\": 1234} ],\n  \"expires_in\": \"3599\",\n  \"tgt_cloud\": {\"clientKey\": \"k\", \"realm\": \"KERBEROS.MICROSOFTONLINE.COM\", \"accountType\": 1, \"renewable\": true}\n}";
    let (out, _) = with_cx(false, |cx| cx.json_text(text, None));
    let out = out.unwrap().unwrap();
    assert!(
        out.starts_with(
            "{\n  \"z\": 1,\n  \"Refresh_Token\" : \"«redacted:refresh_token:len=5:fp="
        ),
        "{out}"
    );
    assert!(
        out.contains("[ {\"PASSWORD\": \"«redacted:password:len=4»\"} ]"),
        "{out}"
    );
    assert!(out.contains("\"expires_in\": \"3599\""));
    // An object under a credential name keeps its shape: every string and number in it is the
    // credential's (a member's own credential name wins).
    assert!(
        out.contains("\"tgt_cloud\": {\"clientKey\": \"«redacted:session_key:len=1:fp="),
        "{out}"
    );
    assert!(
        out.contains("\"realm\": \"«redacted:tgt:len=28:fp="),
        "{out}"
    );
    // A public name (a type) and a flag stay.
    assert!(
        out.contains("\"accountType\": 1, \"renewable\": true}"),
        "{out}"
    );
    let (again, _) = with_cx(false, |cx| cx.json_text(&out, None));
    assert_eq!(again, Some(None), "a second pass changes nothing");
    assert_eq!(with_cx(false, |cx| cx.json_text("{not json", None)).0, None);
}

#[test]
fn deep_json_is_bounded_and_does_not_panic() {
    let deep = format!(
        "{}{}",
        "{\"a\":".repeat(60),
        "1".to_string() + &"}".repeat(60)
    );
    let (out, _) = with_cx(false, |cx| cx.json_text(&deep, None));
    assert!(out.is_some());
    let too_deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
    assert_eq!(with_cx(false, |cx| cx.json_text(&too_deep, None)).0, None);
}

#[test]
fn authorization_schemes() {
    let basic = format!("Basic {}", STANDARD.encode("alice:s3cret"));
    let (out, _) = with_cx(false, |cx| cx.header("Authorization", &basic));
    let out = out.unwrap();
    let dec = STANDARD
        .decode(out.strip_prefix("Basic ").unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(dec).unwrap(),
        "alice:«redacted:password:len=6»"
    );
    assert_eq!(
        with_cx(false, |cx| cx.header("Authorization", &out)).0,
        None
    );

    let mut blob = b"NTLMSSP\0\x01\0\0\0".to_vec();
    blob.extend_from_slice(&[7; 24]);
    let ntlm = format!("NTLM {}", STANDARD.encode(&blob));
    let (out, _) = with_cx(false, |cx| cx.header("Authorization", &ntlm));
    assert!(out.unwrap().starts_with("NTLM «redacted:ntlm_type1:len="));
    let (out, _) = with_cx(false, |cx| {
        cx.header("WWW-Authenticate", "Negotiate oYIBBjCCAQKgAwoBAA==")
    });
    assert!(
        out.unwrap()
            .starts_with("Negotiate «redacted:spnego_response:")
    );

    let (out, _) = with_cx(false, |cx| {
        cx.header("Authorization", "Bearer EwBwA8l6BAAUopaque")
    });
    assert!(
        out.unwrap()
            .starts_with("Bearer «redacted:bearer:len=18:fp=")
    );

    let digest = r#"Digest username="bob", realm="r", nonce="dcd98b7102dd2f0e", uri="/x", response="6629fae49393a05397450978507c4ef1""#;
    let (out, _) = with_cx(false, |cx| cx.header("Authorization", digest));
    let out = out.unwrap();
    assert!(
        out.starts_with(r#"Digest username="bob", realm="r", nonce="«redacted:"#),
        "{out}"
    );
    assert!(
        !out.contains("6629fae4") && !out.contains("dcd98b71"),
        "{out}"
    );
    let challenge = r#"Bearer authorization_uri="https://login.microsoftonline.com/t/oauth2/authorize", error="invalid_token""#;
    assert_eq!(
        with_cx(false, |cx| cx.header("WWW-Authenticate", challenge)).0,
        None
    );
}

#[test]
fn cookies_keep_names_and_attributes() {
    let (out, report) = with_cx(false, |cx| cx.header("Cookie", "a=1; b=; c=xyz"));
    let out = out.unwrap();
    assert!(out.starts_with("a=«redacted:cookie:len=1:fp="), "{out}");
    assert!(out.contains("; b=; c=«redacted:cookie:len=3:fp="), "{out}");
    assert_eq!(report.fired.get("cookie"), Some(&2));
    let (out, _) = with_cx(false, |cx| {
        cx.header("Set-Cookie", "sid=abc; Path=/; Secure; HttpOnly")
    });
    assert!(out.unwrap().ends_with("»; Path=/; Secure; HttpOnly"));
    // Equal values, equal fingerprints; the key matters.
    let k = keyed();
    assert_eq!(k.placeholder("cookie", "v"), k.placeholder("cookie", "v"));
    assert_ne!(
        k.fingerprint(b"v"),
        Fingerprinter::with_key(b"other").fingerprint(b"v")
    );
    assert_eq!(format!("{:?}", k), "Fingerprinter { key: <never shown> }");
}

#[test]
fn other_headers_by_name() {
    for (n, v) in [
        (
            "x-ms-RefreshTokenCredential",
            "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
        ),
        ("X-CSRF-Token", "abc"),
        ("x-api-key", "k"),
        ("Ocp-Apim-Subscription-Key", "k"),
        ("X-Session-Id", "s"),
    ] {
        let (out, _) = with_cx(false, |cx| cx.header(n, v));
        assert!(out.unwrap().starts_with("«redacted:"), "{n}");
    }
    for (n, v) in [
        ("Content-Type", "application/json"),
        ("client-request-id", "4f1d2c3b-0a9e-4b8c-9d7e-6f5a4b3c2d1e"),
        (":authority", "login.microsoftonline.com"),
        ("Access-Control-Allow-Credentials", "true"),
    ] {
        assert_eq!(with_cx(false, |cx| cx.header(n, v)).0, None, "{n}");
    }
}

#[test]
fn urls_lose_secret_parameters_and_passwords_only() {
    let (out, _) = with_cx(false, |cx| {
        cx.url("https://u:p%40ss@h.example/cb?state=s&code=abc&x=1#id_token=opaque&session_state=7")
    });
    let out = out.unwrap();
    assert!(
        out.starts_with(
            "https://u:%C2%ABredacted%3Apassword%3Alen%3D4%C2%BB@h.example/cb?state=s&code=%C2%AB"
        ),
        "{out}"
    );
    assert!(
        out.contains("&x=1#id_token=%C2%ABredacted%3Atoken"),
        "{out}"
    );
    assert_eq!(with_cx(false, |cx| cx.url(&out)).0, None);
    assert_eq!(
        with_cx(false, |cx| cx.url("https://h/p?a=1&b=2#frag")).0,
        None
    );
    // A redirect_uri value is a URL too.
    let (out, _) = with_cx(false, |cx| {
        cx.pairs("redirect_uri=https%3A%2F%2Fa%2Fcb%3Fcode%3Dx")
    });
    assert!(
        out.unwrap()
            .starts_with("redirect_uri=https%3A%2F%2Fa%2Fcb%3Fcode%3D%25C2%25AB")
    );
}

#[test]
fn xml_rules_keep_certificates_and_digests() {
    let xml = r#"<e xmlns:o="urn:wsse"><o:Nonce>bm9uY2U=</o:Nonce><o:BinarySecurityToken ValueType="urn:x509v3">Y2VydA==</o:BinarySecurityToken><o:BinarySecurityToken ValueType="urn:kerberos">a3JiYXBy</o:BinarySecurityToken><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:DigestValue>ZGln</ds:DigestValue></ds:SignedInfo><ds:SignatureValue>
 c2ln
</ds:SignatureValue><ds:X509Certificate>Y2VydA==</ds:X509Certificate></ds:Signature><BearerToken>Bearer opaque-token-value-xyz</BearerToken><Password/></e>"#;
    let (out, _) = with_cx(false, |cx| cx.xml(xml));
    let out = out.unwrap().unwrap();
    assert!(out.contains("<o:Nonce>«redacted:nonce:len=8:fp="), "{out}");
    assert!(out.contains(
        r#"<o:BinarySecurityToken ValueType="urn:x509v3">Y2VydA==</o:BinarySecurityToken>"#
    ));
    assert!(out.contains(
        r#"<o:BinarySecurityToken ValueType="urn:kerberos">«redacted:binary_security_token:"#
    ));
    assert!(out.contains("<ds:DigestValue>ZGln</ds:DigestValue>"));
    assert!(
        out.contains("<ds:SignatureValue>«redacted:xml_signature:len=4:fp="),
        "{out}"
    );
    assert!(out.contains("<ds:X509Certificate>Y2VydA==</ds:X509Certificate>"));
    assert!(
        out.contains("<BearerToken>Bearer «redacted:bearer_token:"),
        "{out}"
    );
    assert!(out.contains("<Password/>"));
    assert_eq!(with_cx(false, |cx| cx.xml(&out)).0, Some(None));
    // A DOCTYPE is refused: the caller fails closed.
    assert_eq!(
        with_cx(false, |cx| cx
            .xml("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"))
        .0,
        None
    );
}

#[test]
fn pii_is_masked_only_on_request() {
    let claims = r#"{"upn":"alice@contoso.com","oid":"guid","aud":"x"}"#;
    assert_eq!(
        with_cx(false, |cx| cx.json_text(claims, None)).0,
        Some(None)
    );
    let (out, report) = with_cx(true, |cx| cx.json_text(claims, None));
    let out = out.unwrap().unwrap();
    assert!(out.contains("\"upn\":\"«redacted:pii:len=17:fp="), "{out}");
    assert!(out.contains("\"aud\":\"x\""));
    assert_eq!(report.fired.get("pii"), Some(&2));
}

fn flow_with(url: &str, ct: &str, req_body: &[u8], resp_ct: &str, resp_body: &[u8]) -> Flow {
    let mut r = testing::request("POST", url);
    r.headers.push(("Content-Type".into(), ct.into()));
    r.body = Body::plain(req_body.to_vec());
    testing::flow(0, r, testing::response(200, resp_ct, resp_body))
}

#[test]
fn opaque_bodies_go_on_identity_endpoints_and_stay_elsewhere() {
    let k = keyed();
    let mut report = RedactionReport::default();
    let bin = [0u8, 159, 146, 150, 1, 2, 3];
    let f = flow_with(
        "https://login.microsoftonline.com/x/oauth2/token",
        "application/octet-stream",
        &bin,
        "text/plain",
        b"plain words here",
    );
    let out = redact_flow(&f, &Policy::default(), &k, &mut report).unwrap();
    assert!(
        out.request
            .body
            .raw
            .starts_with("«redacted:body:len=7:sha256=".as_bytes())
    );
    assert!(
        out.response()
            .unwrap()
            .body
            .raw
            .starts_with(b"\xc2\xabredacted:body:len=16")
    );
    let f = flow_with(
        "https://cdn.example/logo",
        "image/png",
        &bin,
        "text/css",
        b"a { color: red }",
    );
    let out = redact_flow(&f, &Policy::default(), &k, &mut report).unwrap();
    assert_eq!(out, f, "nothing to redact off identity endpoints");
}

#[test]
fn a_gzip_body_without_content_encoding_is_recompressed() {
    use std::io::{Read as _, Write as _};
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(br#"{"refresh_token":"0.AXoSECRET"}"#).unwrap();
    let gz = e.finish().unwrap();
    let f = flow_with(
        "https://api.example/x",
        "application/json",
        &gz,
        "text/plain",
        b"",
    );
    let mut report = RedactionReport::default();
    let out = redact_flow(&f, &Policy::default(), &keyed(), &mut report).unwrap();
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&out.request.body.raw[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert!(
        plain.starts_with(r#"{"refresh_token":"«redacted:refresh_token:len=11"#),
        "{plain}"
    );
}

#[test]
fn the_residual_detector_catches_what_rules_would_miss() {
    let random = "q8Zr2LmX0vTn5YcBa7KwEe3JpHs9UdGf";
    let mut f = flow_with(
        "https://api.example/x",
        "application/json",
        format!(r#"{{"refresh_token":"{random}"}}"#).as_bytes(),
        "text/plain",
        b"",
    );
    let e = residual::check(&f, &Policy::default()).unwrap_err();
    assert!(e.is_refusal());
    assert_eq!(
        e.to_string(),
        "flow #1: request body member refresh_token: a high-entropy value of 32 characters; \
         refusing to write a capture that leaks it"
    );
    // The same value redacted passes.
    let mut report = RedactionReport::default();
    assert!(redact_flow(&f, &Policy::default(), &keyed(), &mut report).is_ok());
    // A signed JWS percent-encoded in a comment is found too.
    f.request.body = Body::default();
    let t = jws(r#"{"alg":"ES256"}"#, r#"{"a":1}"#, "c2lnbmF0dXJl");
    f.comment = Some(form_urlencoded::byte_serialize(format!("see {t}").as_bytes()).collect());
    let e = residual::check(&f, &Policy::default()).unwrap_err();
    assert!(
        e.to_string().contains("comment: a signed JWS (alg ES256)"),
        "{e}"
    );
    assert!(residual::entropy("aaaaaaaa") < 0.1);
    assert!(residual::entropy(random) > 4.0);
}

#[test]
fn the_text_check_refuses_a_live_jws_or_a_private_key_in_added_text_and_passes_redacted_ones() {
    let policy = Policy::default();
    let t = jws(r#"{"alg":"RS256"}"#, r#"{"a":1}"#, "c2lnbmF0dXJl");
    let e = check_text(
        FlowId(2),
        "the page",
        &format!("\"value\":\"{t}\""),
        &policy,
    )
    .unwrap_err();
    assert!(e.is_refusal());
    assert!(
        e.to_string()
            .starts_with("flow #3: the page: a signed JWS (alg RS256)"),
        "{e}"
    );
    let pem = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----";
    assert!(check_text(FlowId(0), "the page", pem, &policy).is_err());
    // The same token redacted is fine.
    let (red, _) = with_cx(false, |cx| cx.keyed("access_token", &t));
    let red = red.unwrap();
    assert!(check_text(FlowId(0), "the page", &red, &policy).is_ok());
    assert!(check_text(FlowId(0), "the page", "plain text", &policy).is_ok());
}

#[test]
fn report_json_names_the_policy_and_counts() {
    let mut r = RedactionReport::default();
    r.record("cookie");
    r.record("cookie");
    r.flows = 1;
    let v = r.to_json();
    assert_eq!(v["policy"], POLICY_VERSION);
    assert_eq!(v["fired"], json!({"cookie": 2}));
    assert_eq!(r.total(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No body, URL or header value makes redaction panic, and a second pass changes nothing.
    #[test]
    fn redaction_never_panics_and_is_idempotent(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        text in "[a-zA-Z0-9=&%._~<>/\"{}:,\\[\\] -]{0,120}",
        ct in prop::sample::select(vec!["application/json", "application/x-www-form-urlencoded", "text/xml", "text/html", "application/soap+msbin1", "multipart/form-data; boundary=b", ""]),
    ) {
        let k = keyed();
        let mut report = RedactionReport::default();
        let url = format!("https://login.microsoftonline.com/t/oauth2/token?{text}");
        let mut f = flow_with(&url, ct, &body, ct, text.as_bytes());
        f.request.headers.push(("Authorization".into(), text.clone()));
        f.request.headers.push(("Cookie".into(), text.clone()));
        if let Ok(once) = redact_flow(&f, &Policy::default(), &k, &mut report) {
            let twice = redact_flow(&once, &Policy::default(), &k, &mut report);
            prop_assert_eq!(twice.ok(), Some(once));
        }
    }
}

/// Redaction, the decoders' `Secret` marks and the display masks ask one secrets policy: a name
/// that one of them calls a credential, every one of them does.
#[test]
fn redaction_decoder_marks_and_display_masks_agree_on_credential_names() {
    use idscope_decoders::{Context, Decoder, Kind, Message, Trust, generic::Form};

    let trust = Trust::default();
    let dcx = Context::new(std::time::UNIX_EPOCH, &trust);
    // Names only redaction treated as credentials, and names only the decoders' views did.
    for name in [
        "private_key",
        "prt",
        "SAMLart",
        "client_key",
        "signature",
        "credential_data",
        "flowToken",
        "app_secret",
        "x_api_key",
    ] {
        let body = format!("{name}=abc&state=xyz");
        let msg = Message::request(
            "POST",
            "https://login.example/token",
            vec![("content-type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        let d = Form.decode(&msg, &dcx).unwrap();
        let node = d.root.child(name).unwrap();
        assert_eq!(node.kind, Kind::Secret, "{name}: decoder mark");
        assert_eq!(d.root.child("state").unwrap().kind, Kind::Field, "{name}");

        let mut root = d.root.clone();
        idscope_decoders::secrets::mask_tree(&mut root);
        let shown = root.child(name).unwrap().value.clone().unwrap();
        assert_eq!(shown, "«secret: 3 chars»", "{name}: display mask");

        let (r, _) = with_cx(false, |cx| cx.keyed(name, "abc"));
        let r = r.unwrap_or_else(|| panic!("{name}: redaction kept the value"));
        assert!(r.starts_with("«redacted:"), "{name}: {r}");
        assert!(with_cx(false, |cx| cx.keyed("state", "abc")).0.is_none());

        let xml = format!("<r><{name}>abc</{name}><state>xyz</state></r>");
        let masked = idscope_decoders::secrets::mask_markup(&xml);
        assert_eq!(
            masked,
            format!("<r><{name}>«secret: 3 chars»</{name}><state>xyz</state></r>"),
            "{name}: markup mask"
        );
    }
}
