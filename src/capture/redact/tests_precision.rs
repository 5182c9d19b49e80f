//! Unit tests of redaction's precision: only credentials go. Type and method identifiers,
//! algorithm URIs, capability objects, cursors, public keys and protocol nonces stay byte for
//! byte beside the credentials that go; and every marker written here is one the secrets policy
//! reads back.

use idscope_decoders::secrets::{self, Redacted, redaction_marker};

use super::values::Cx;
use super::*;
use crate::flow::{Body, testing};

fn keyed() -> Fingerprinter {
    Fingerprinter::with_key(b"precision-test-key")
}

fn with_cx<T>(f: impl FnOnce(&mut Cx<'_>) -> T) -> T {
    let policy = Policy::default();
    let k = keyed();
    let mut report = RedactionReport::default();
    let mut cx = Cx::new(&policy, &k, &mut report);
    f(&mut cx)
}

/// `text` with each of `secrets` replaced by whatever stands at its place in `redacted`, which
/// must be a redaction marker; everything else must be byte-identical.
fn assert_only_replaced(text: &str, redacted: &str, secrets: &[&str]) {
    let mut rest_in = text;
    let mut rest_out = redacted;
    for s in secrets {
        let i = rest_in
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in the input"));
        assert_eq!(
            rest_out.get(..i),
            rest_in.get(..i),
            "changed before {s}:\n{redacted}"
        );
        let after = &rest_in[i + s.len()..];
        let out_tail = &rest_out[i..];
        // The marker ends where the input's next byte (after the secret) begins again.
        let next = after.get(..1).unwrap_or("");
        let end = out_tail
            .find(next)
            .filter(|_| !next.is_empty())
            .unwrap_or(out_tail.len());
        let marker = &out_tail[..end];
        assert!(
            redaction_marker(marker).is_some(),
            "{s} became {marker:?}, not a marker:\n{redacted}"
        );
        rest_in = after;
        rest_out = &out_tail[end..];
    }
    assert_eq!(
        rest_out, rest_in,
        "changed after the last secret:\n{redacted}"
    );
}

#[test]
fn a_ws_trust_answer_loses_its_credentials_and_keeps_its_type_urns_and_addresses() {
    let (sig, secret, cipher) = ("c2lnbmF0dXJlLXZhbHVl", "cHJvb2Yta2V5LWJ5dGVz", "Y2lwaGVy");
    let rstr = format!(
        r#"<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust" xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><t:Lifetime><wsu:Created xmlns:wsu="urn:u">2026-01-01T00:00:00Z</wsu:Created></t:Lifetime><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><t:RequestedSecurityToken><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" AssertionID="_a"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:DigestValue>ZGlnZXN0</ds:DigestValue></ds:SignedInfo><ds:SignatureValue>{sig}</ds:SignatureValue></ds:Signature></saml:Assertion></t:RequestedSecurityToken><t:RequestedAttachedReference><o:SecurityTokenReference><o:KeyIdentifier ValueType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID">_a</o:KeyIdentifier></o:SecurityTokenReference></t:RequestedAttachedReference><t:RequestedProofToken><t:BinarySecret>{secret}</t:BinarySecret></t:RequestedProofToken><xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:CipherData><xenc:CipherValue>{cipher}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey><o:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3" EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">Y2VydA==</o:BinarySecurityToken><t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType><t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType><t:TokenType>http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0</t:TokenType></t:RequestSecurityTokenResponse>"#
    );
    let out = with_cx(|cx| cx.xml(&rstr)).unwrap().unwrap();
    assert_only_replaced(&rstr, &out, &[sig, secret, cipher]);
    assert!(out.contains("<t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>"));
}

#[test]
fn json_and_form_keep_token_types_session_state_cursors_and_error_links() {
    let at = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJlLXZhbHVlLXZhbHVl";
    let json = format!(
        r#"{{"access_token":"{at}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"N_A","session_state":"065dce11-ea61-485a-a8f9-29bfe06fd334","deltaToken":"eyJmaXh0dXJlIjoidXJuOmZpeHR1cmUifQ","@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=X%27445370740200010000%27","error_uri":"https://login.microsoftonline.com/error?code=50126","TransportKey":"UlNBMQAIAAADAAAAAAEAAAAAAAAAAAAAAQAB0NQ3oWqeC09acF","token_endpoint_auth_methods_supported":["client_secret_basic","private_key_jwt"],"refresh_token":"0.AXoAopaque-refresh-token-value"}}"#
    );
    let out = with_cx(|cx| cx.json_text(&json, None)).unwrap().unwrap();
    let sig = at.rsplit('.').next().unwrap();
    assert_only_replaced(&json, &out, &[sig, "0.AXoAopaque-refresh-token-value"]);

    let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=opaque-subject-token-value&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt";
    let out = with_cx(|cx| cx.pairs(form)).unwrap();
    assert!(!out.contains("opaque-subject-token-value"), "{out}");
    assert!(out.ends_with("&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt"), "{out}");
}

#[test]
fn capability_objects_and_flags_under_credential_names_keep_their_meaning() {
    let scim = r#"{"patch":{"supported":true},"changePassword":{"supported":false},"password":{"value":"hunter2-hunter2","rotate":true},"pin":1234}"#;
    let out = with_cx(|cx| cx.json_text(scim, None)).unwrap().unwrap();
    assert!(
        out.contains(r#""changePassword":{"supported":false}"#),
        "{out}"
    );
    assert!(out.contains(r#""rotate":true"#), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
    assert!(
        out.contains(r#""pin":"«redacted:password:len=4»""#),
        "{out}"
    );
}

#[test]
fn a_dictionary_entry_is_judged_by_its_key() {
    let xml = r#"<c:PropertyValues xmlns:c="urn:c"><c:KeyValueOfstringanyType><c:Key>onPremiseSecurityIdentifier</c:Key><c:Value>AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==</c:Value></c:KeyValueOfstringanyType><c:KeyValueOfstringanyType><c:Key>userPassword</c:Key><c:Value>Winter2026!</c:Value></c:KeyValueOfstringanyType></c:PropertyValues>"#;
    let out = with_cx(|cx| cx.xml(xml)).unwrap().unwrap();
    assert!(
        out.contains("<c:Key>onPremiseSecurityIdentifier</c:Key><c:Value>AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==</c:Value>"),
        "{out}"
    );
    assert!(
        out.contains("<c:Key>userPassword</c:Key><c:Value>«redacted:password:len=11»</c:Value>"),
        "{out}"
    );
}

#[test]
fn a_websocket_key_is_a_nonce_and_an_api_key_is_a_credential() {
    assert_eq!(
        with_cx(|cx| cx.header("Sec-WebSocket-Key", "aOpK58kffMOGmH4do+rCyw==")),
        None
    );
    let out = with_cx(|cx| cx.header("X-Api-Key", "0123456789abcdef0123")).unwrap();
    assert!(redaction_marker(&out).is_some(), "{out}");
}

#[test]
fn a_json_body_after_a_byte_order_mark_is_redacted_in_place() {
    let k = keyed();
    let mut r = testing::request(
        "POST",
        "https://login.microsoftonline.com/common/oauth2/token",
    );
    r.headers
        .push(("Content-Type".into(), "application/json".into()));
    r.body = Body::plain(b"\xEF\xBB\xBF{\"password\":\"hunter2\",\"client_id\":\"app\"}".to_vec());
    let f = testing::flow(0, r, testing::response(200, "text/plain", b""));
    let out = redact_flow(&f, &Policy::default(), &k, &mut RedactionReport::default()).unwrap();
    assert_eq!(
        out.request.body.raw,
        "\u{feff}{\"password\":\"«redacted:password:len=7»\",\"client_id\":\"app\"}".as_bytes()
    );
}

#[test]
fn every_marker_written_here_reads_back_as_what_it_is() {
    let k = keyed();
    assert!(matches!(
        redaction_marker(&k.placeholder("refresh_token", "0.AXo")),
        Some(Redacted::Value {
            kind: "refresh_token",
            len: 5,
            ..
        })
    ));
    assert_eq!(
        redaction_marker(&password_placeholder("hunter2")),
        Some(Redacted::Password { len: 7 })
    );
    let at = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
    let jws = with_cx(|cx| cx.keyed("access_token", at)).unwrap();
    assert!(secrets::is_redacted_token(&jws), "{jws}");
    let jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y3Q.dGFn";
    let jwe = with_cx(|cx| cx.keyed("access_token", jwe)).unwrap();
    assert!(secrets::is_redacted_token(&jwe), "{jwe}");
    let mut r = testing::request("POST", "https://login.microsoftonline.com/x/oauth2/token");
    r.headers
        .push(("Content-Type".into(), "application/octet-stream".into()));
    r.body = Body::plain(vec![0u8, 159, 146, 150]);
    let f = testing::flow(0, r, testing::response(200, "text/plain", b""));
    let out = redact_flow(&f, &Policy::default(), &k, &mut RedactionReport::default()).unwrap();
    let body = String::from_utf8(out.request.body.raw.to_vec()).unwrap();
    assert!(
        matches!(redaction_marker(&body), Some(Redacted::Body { len: 4, .. })),
        "{body}"
    );
}

#[test]
fn a_jwks_private_members_go_and_its_public_members_stay() {
    // RFC 7517 appendix A.2's RSA key (shortened), an EC key, a symmetric key, and a member
    // called `d` outside any JWK, which is nobody's key.
    let text = r#"{"keys":[{"kty":"RSA","kid":"2011-04-29","n":"0vx7agoebGcQSuu","e":"AQAB","d":"X4cTteJY_gn4FYPs","p":"83i-7IvMGXoMXCsk","q":"3dfOR9cuYq-0S-mk","dp":"G4sPXkc6Ya9y8oJW","dq":"s9lAH9fggBsoFR8O","qi":"GyM_p6JrXySiz1to"},{"crv":"P-256","x":"f83OJ3D2xF1Bg8vub9","y":"x_FEzRu9m36HLN_tue","d":"jpsQnnGQmL-YBIffH1","kty":"EC"},{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}],"d":"2026-12-07"}"#;
    let out = with_cx(|cx| cx.json_text(text, None)).unwrap().unwrap();
    assert_only_replaced(
        text,
        &out,
        &[
            "X4cTteJY_gn4FYPs",
            "83i-7IvMGXoMXCsk",
            "3dfOR9cuYq-0S-mk",
            "G4sPXkc6Ya9y8oJW",
            "s9lAH9fggBsoFR8O",
            "GyM_p6JrXySiz1to",
            "jpsQnnGQmL-YBIffH1",
            "GawgguFyGrWKav7AX4VKUg",
        ],
    );
    assert!(out.contains(r#""d":"2026-12-07""#), "{out}");
}

#[test]
fn binary_websocket_messages_are_replaced_whole_and_text_ones_go_through_the_rules() {
    use base64::Engine as _;
    let k = keyed();
    let sas = "SharedAccessSignature sr=https%3a%2f%2fns.servicebus.windows.net%2f&sig=Q2FuYXJ5U2lnbmF0dXJlVmFsdWUwMTIzNDU2Nzg5&se=1700000000&skn=ListenKey";
    // An AMQP attach frame's bytes carrying the SAS token, as the relay sends it.
    let mut frame = b"\x00\x00\x00\x80\x02\x00\x00\x00\x00S\x12".to_vec();
    frame.extend_from_slice(sas.as_bytes());
    let data = base64::engine::general_purpose::STANDARD.encode(&frame);
    let mut f = testing::flow(
        0,
        testing::request(
            "GET",
            "https://ns.servicebus.windows.net/$servicebus/websocket",
        ),
        testing::response(101, "text/plain", b""),
    );
    f.extra.insert(
        "_webSocketMessages".into(),
        json!([
            {"type": "send", "time": 1.0, "opcode": 2, "data": data},
            {"type": "send", "time": 1.1, "opcode": 1, "data": "{\"access_token\":\"abcdefghijklmnopqrstuvwxyz0123456789ABCD\"}"},
        ]),
    );
    let mut report = RedactionReport::default();
    let out = redact_flow(&f, &Policy::default(), &k, &mut report).unwrap();
    let text = serde_json::to_string(&out.extra).unwrap();
    assert!(!text.contains(&data), "{text}");
    assert!(
        !text.contains("Q2FuYXJ5U2lnbmF0dXJlVmFsdWUwMTIzNDU2Nzg5"),
        "{text}"
    );
    assert!(text.contains("«redacted:websocket_binary:len="), "{text}");
    assert!(
        !text.contains("abcdefghijklmnopqrstuvwxyz0123456789ABCD"),
        "{text}"
    );
    assert_eq!(
        report.fired.get("websocket binary message"),
        Some(&1),
        "{:?}",
        report.fired
    );
    // Redacting the copy again changes nothing.
    let again = redact_flow(
        &out,
        &Policy::default(),
        &k,
        &mut RedactionReport::default(),
    )
    .unwrap();
    assert_eq!(serde_json::to_string(&again.extra).unwrap(), text);
}
