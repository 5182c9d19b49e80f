//! The `negotiate` decoder on real tokens (decoders/tests/fixtures/negotiate: MIT Kerberos,
//! python-gssapi, pyspnego, impacket; the MS-NLMP 4.2 examples) in the places they travel:
//! authentication headers, blobs, WS-Trust `BinaryExchange` and WS-Security
//! `BinarySecurityToken`, a redacted copy, and broken input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "support/invariants.rs"]
mod invariants;

use std::time::{Duration, UNIX_EPOCH};

use idscope_decoders::negotiate::token_facts;
use idscope_decoders::{Context, Decoded, Kind, Message, Registry, Severity, Trust};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/negotiate/{name}.b64",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

fn bytes(name: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(fixture(name))
        .unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The `negotiate` outcome of a message, checked against the robustness invariants.
fn negotiate(msg: &Message<'_>) -> Decoded {
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000), &trust);
    let outcomes = Registry::builtin().decode_all(msg, &cx);
    invariants::check_outcomes(&outcomes, "negotiate test");
    outcomes
        .into_iter()
        .find(|o| o.decoder == "negotiate")
        .expect("the negotiate decoder applies")
        .result
        .expect("it decodes")
}

fn request_with(header: &str, value: &str) -> Decoded {
    negotiate(&Message::request(
        "GET",
        "https://autologon.microsoftazuread-sso.com/contoso.test/winauth/sso",
        vec![(header, value)],
        b"",
    ))
}

fn response_with(status: u16, header: &str, value: &str) -> Decoded {
    negotiate(&Message::response(
        "GET",
        "https://sts.contoso.test/adfs/ls/wia",
        status,
        vec![(header, value)],
        b"",
    ))
}

fn value<'a>(d: &'a Decoded, path: &str) -> &'a str {
    d.root
        .find_path(path)
        .unwrap_or_else(|| panic!("no {path} in {:#?}", d.root))
        .value
        .as_deref()
        .unwrap_or("")
}

/// The finding whose message contains `text`.
fn finding<'a>(d: &'a Decoded, text: &str) -> &'a idscope_decoders::Finding {
    d.findings
        .iter()
        .find(|f| f.message.contains(text))
        .unwrap_or_else(|| panic!("no finding with {text:?} in {:#?}", d.findings))
}

fn kind(d: &Decoded, path: &str) -> Kind {
    d.root
        .find_path(path)
        .unwrap_or_else(|| panic!("no {path}"))
        .kind
}

#[test]
fn a_spnego_kerberos_ap_req_shows_realm_service_enctype_and_keeps_the_ciphers_secret() {
    let d = request_with(
        "Authorization",
        &format!("Negotiate {}", fixture("spnego-ap-req")),
    );
    assert_eq!(
        d.summary,
        "Negotiate SPNEGO NegTokenInit → Kerberos AP-REQ → \
         HTTP/autologon.microsoftazuread-sso.com@CONTOSO.TEST aes256-cts-hmac-sha1-96"
    );
    assert_eq!(value(&d, "mechTypes"), "Kerberos 5");
    assert_eq!(value(&d, "ticket/realm"), "CONTOSO.TEST");
    assert_eq!(
        value(&d, "ticket/sname"),
        "HTTP/autologon.microsoftazuread-sso.com"
    );
    assert!(value(&d, "ticket/enc-part").starts_with("aes256-cts-hmac-sha1-96 (18), kvno "));
    assert!(value(&d, "ap-options").contains("mutual-required"));
    assert_eq!(kind(&d, "ticket/enc-part/cipher"), Kind::Secret);
    assert_eq!(kind(&d, "authenticator/cipher"), Kind::Secret);
    assert!(
        d.findings.iter().all(|f| f.severity < Severity::Warning),
        "{:?}",
        d.findings
    );

    let f = token_facts(fixture("spnego-ap-req").as_bytes()).unwrap();
    assert_eq!(f.mechanism, Some("Kerberos"));
    assert_eq!(f.message.as_deref(), Some("AP-REQ"));
    assert_eq!(f.realm.as_deref(), Some("CONTOSO.TEST"));
    assert_eq!(
        f.service.as_deref(),
        Some("HTTP/autologon.microsoftazuread-sso.com")
    );
    assert_eq!(
        (f.ticket_etype, f.authenticator_etype, f.mutual),
        (Some(18), Some(18), Some(true))
    );
    assert!(f.kvno.is_some());
    // Raw bytes and a header value give the same facts.
    assert_eq!(token_facts(&bytes("spnego-ap-req")).unwrap(), f);
    let header = format!("Negotiate {}", fixture("spnego-ap-req"));
    assert_eq!(token_facts(header.as_bytes()).unwrap(), f);
}

#[test]
fn a_raw_kerberos_gss_token_and_an_rc4_ticket() {
    let d = request_with(
        "Authorization",
        &format!("Kerberos {}", fixture("gss-krb5-ap-req")),
    );
    assert_eq!(value(&d, "TOK_ID"), "01 00");
    assert!(
        d.summary.starts_with("Kerberos AP-REQ → HTTP/autologon"),
        "{}",
        d.summary
    );

    let d = request_with(
        "Authorization",
        &format!("Negotiate {}", fixture("gss-krb5-rc4-ap-req")),
    );
    assert!(
        d.summary
            .ends_with("HTTP/legacy.contoso.test@CONTOSO.TEST rc4-hmac"),
        "{}",
        d.summary
    );
    let weak = finding(&d, "rc4-hmac (23)");
    assert_eq!(weak.severity, Severity::Warning);
    assert!(weak.message.contains("Kerberoasting"));
}

#[test]
fn the_ap_rep_of_a_mutual_authentication_is_decoded_from_the_401_or_200_answer() {
    let d = response_with(
        200,
        "WWW-Authenticate",
        &format!("Negotiate {}", fixture("spnego-ap-rep")),
    );
    assert_eq!(
        d.summary,
        "200 Negotiate SPNEGO NegTokenResp accept-completed → Kerberos AP-REP"
    );
    assert_eq!(value(&d, "negState"), "0 accept-completed");
    assert_eq!(value(&d, "supportedMech"), "1.2.840.113554.1.2.2");
    assert_eq!(kind(&d, "enc-part/cipher"), Kind::Secret);
}

#[test]
fn krb_error_codes_are_explained() {
    let d = negotiate(&Message::blob(fixture("krb5-krb-error-2").as_bytes()));
    assert!(
        d.summary
            .contains("KRB-ERROR KDC_ERR_PREAUTH_REQUIRED (25)"),
        "{}",
        d.summary
    );
    let f = finding(&d, "KDC_ERR_PREAUTH_REQUIRED");
    assert_eq!(f.severity, Severity::Info);
    // e-data is METHOD-DATA: the encryption types and salts the KDC holds for alice.
    assert!(value(&d, "e-data/PA-DATA 19/etype").starts_with("18 aes256-cts-hmac-sha1-96"));
    assert_eq!(
        value(&d, "e-data/PA-DATA 19/etype/salt"),
        "CONTOSO.TESTalice"
    );

    let d = negotiate(&Message::blob(&bytes("krb5-krb-error-1")));
    let f = d
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .unwrap();
    assert!(
        f.message.starts_with(
            "Kerberos error KDC_ERR_C_PRINCIPAL_UNKNOWN (6): the client is not in the KDC database"
        ),
        "{}",
        f.message
    );
    assert_eq!(value(&d, "cname"), "nobody");

    // MIT's acceptor answering an altered AP-REQ, in the 401 of a Negotiate exchange.
    let d = response_with(
        401,
        "WWW-Authenticate",
        &format!("Negotiate {}", fixture("gss-krb5-krb-error")),
    );
    assert!(
        d.summary
            .starts_with("401 Negotiate Kerberos KRB-ERROR KRB_AP_ERR_BAD_INTEGRITY (31)"),
        "{}",
        d.summary
    );
    assert!(value(&d, "error-code").starts_with("31 KRB_AP_ERR_BAD_INTEGRITY"));
    assert!(d.has_finding("the server's key does not match the ticket's"));
}

#[test]
fn kdc_exchanges_show_client_service_and_keep_their_encrypted_parts_secret() {
    let d = negotiate(&Message::blob(fixture("krb5-as-req-3").as_bytes()));
    assert_eq!(
        d.summary,
        "Kerberos AS-REQ alice@CONTOSO.TEST → krbtgt/CONTOSO.TEST@CONTOSO.TEST"
    );
    assert_eq!(kind(&d, "PA-ENC-TIMESTAMP/cipher"), Kind::Secret);
    assert!(value(&d, "req-body/kdc-options").contains("renewable-ok"));

    let d = negotiate(&Message::blob(fixture("krb5-as-rep-1").as_bytes()));
    assert_eq!(kind(&d, "Kerberos AS-REP/enc-part/cipher"), Kind::Secret);
    assert_eq!(kind(&d, "ticket/enc-part/cipher"), Kind::Secret);

    // A TGS-REQ carries the TGT in an AP-REQ in its padata.
    let d = negotiate(&Message::blob(fixture("krb5-tgs-req-1").as_bytes()));
    assert_eq!(
        d.summary,
        "Kerberos TGS-REQ → HTTP/autologon.microsoftazuread-sso.com@CONTOSO.TEST"
    );
    assert_eq!(
        value(&d, "PA-DATA 1/Kerberos AP-REQ/ticket/sname"),
        "krbtgt/CONTOSO.TEST"
    );

    let d = negotiate(&Message::blob(fixture("krb5-tgs-rep-2").as_bytes()));
    assert!(d.has_finding("ticket for HTTP/legacy.contoso.test is encrypted with rc4-hmac"));
}

#[test]
fn ntlm_messages_from_pyspnego_show_names_flags_target_info_and_findings() {
    let d = request_with("Authorization", &format!("NTLM {}", fixture("ntlm-1")));
    assert_eq!(d.summary, "NTLM NEGOTIATE (type 1)");
    let flags = d.root.find_path("NegotiateFlags").unwrap();
    assert!(
        flags
            .children
            .iter()
            .any(|c| c.value.as_deref() == Some("NEGOTIATE_EXTENDED_SESSIONSECURITY"))
    );

    let d = response_with(
        401,
        "WWW-Authenticate",
        &format!("NTLM {}", fixture("ntlm-2")),
    );
    assert!(value(&d, "TargetInfo/MsvAvTimestamp").starts_with("20"));
    assert_eq!(d.summary, "401 NTLM CHALLENGE (type 2) from target VM");
    assert_eq!(kind(&d, "ServerChallenge"), Kind::Field);

    let d = request_with("Authorization", &format!("NTLM {}", fixture("ntlm-3")));
    assert_eq!(
        d.summary,
        "NTLM AUTHENTICATE (type 3) CONTOSO\\alice from WORKSTATION1 (NTLMv2)"
    );
    assert_eq!(value(&d, "UserName"), "alice");
    assert_eq!(
        value(&d, "AvPairs/MsvAvTargetName"),
        "HTTP/web.contoso.test"
    );
    assert!(value(&d, "AvPairs/MsvAvFlags").contains("MIC present"));
    for secret in [
        "NtChallengeResponse",
        "NTProofStr",
        "LmChallengeResponse",
        "EncryptedRandomSessionKey",
        "MIC",
    ] {
        assert_eq!(kind(&d, secret), Kind::Secret, "{secret}");
    }
    let f = finding(&d, "no channel binding");
    assert_eq!(f.severity, Severity::Warning);
    assert!(!d.has_finding("no MIC"));

    let d = request_with("Authorization", &format!("NTLM {}", fixture("ntlm-cbt-3")));
    assert!(d.has_finding("channel binding present"));
    assert!(!d.has_finding("no channel binding"));

    let d = request_with("Authorization", &format!("NTLM {}", fixture("ntlm-v1-3")));
    let v1 = finding(&d, "NTLMv1 response");
    assert_eq!(v1.severity, Severity::Error);
    assert!(d.summary.ends_with("(NTLMv1)"));
}

#[test]
fn ntlm_from_impacket_and_inside_spnego() {
    let d = request_with(
        "Authorization",
        &format!("NTLM {}", fixture("impacket-ntlm-3")),
    );
    assert!(
        d.summary.ends_with("CONTOSO\\alice from IMPACKET (NTLMv2)"),
        "{}",
        d.summary
    );
    assert!(d.has_finding("no MIC"));
    let d = request_with(
        "Authorization",
        &format!("NTLM {}", fixture("impacket-ntlm-anonymous-3")),
    );
    assert!(d.has_finding("anonymous NTLM authentication"));
    assert!(!d.has_finding("NTLMv1"));

    let d = request_with(
        "Authorization",
        &format!("Negotiate {}", fixture("spnego-ntlm-1")),
    );
    assert_eq!(
        d.summary,
        "Negotiate SPNEGO NegTokenInit → NTLM NEGOTIATE (type 1)"
    );
    assert_eq!(
        value(&d, "mechTypes/1.3.6.1.4.1.311.2.2.10"),
        "NTLMSSP (NTLM)"
    );
    let d = response_with(
        200,
        "WWW-Authenticate",
        &format!("Negotiate {}", fixture("spnego-ntlm-4")),
    );
    assert_eq!(kind(&d, "mechListMIC"), Kind::Secret);
}

/// MS-NLMP 4.2.2.3 (NTLMv1) and 4.2.4.3 (NTLMv2) messages: user "User", domain "Domain",
/// workstation "COMPUTER", server "Server".
#[test]
fn the_ms_nlmp_examples() {
    let challenge = unhex(
        "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef
         00000000000000002400240044000000060070170000000f5300650072007600
         6500720002000c0044006f006d00610069006e0001000c005300650072007600
         6500720000000000",
    );
    let d = negotiate(&Message::blob(&challenge));
    assert_eq!(value(&d, "TargetName"), "Server");
    assert_eq!(value(&d, "ServerChallenge"), "0123456789abcdef");
    assert_eq!(value(&d, "TargetInfo/MsvAvNbDomainName"), "Domain");
    assert_eq!(value(&d, "TargetInfo/MsvAvNbComputerName"), "Server");
    assert_eq!(value(&d, "Version"), "6.0.6000");

    let v2 = unhex(
        "4e544c4d5353500003000000180018006c00000054005400840000000c000c00
         480000000800080054000000100010005c00000010001000d8000000358288e2
         0501280a0000000f44006f006d00610069006e00550073006500720043004f00
         4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa
         aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000
         00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00
         01000c005300650072007600650072000000000000000000c5dad2544fc97990
         94ce1ce90bc9d03e",
    );
    let d = negotiate(&Message::blob(&v2));
    assert_eq!(
        d.summary,
        "NTLM AUTHENTICATE (type 3) Domain\\User from COMPUTER (NTLMv2)"
    );
    assert_eq!(
        value(&d, "NtChallengeResponse/ChallengeFromClient"),
        "aaaaaaaaaaaaaaaa"
    );
    assert_eq!(value(&d, "AvPairs/MsvAvNbDomainName"), "Domain");
    assert_eq!(value(&d, "Version"), "5.1.2600");
    assert!(d.has_finding("no MIC"));
    assert!(d.has_finding("no channel binding"));

    let v1 = unhex(
        "4e544c4d5353500003000000180018006c00000018001800840000000c000c00
         480000000800080054000000100010005c000000100010009c000000358280e2
         0501280a0000000f44006f006d00610069006e00550073006500720043004f00
         4d005000550054004500520098def7b87f88aa5dafe2df779688a172def11c7d
         5ccdef1367c43011f30298a2ad35ece64f16331c44bdbed927841f94518822b1
         b3f350c8958682ecbb3e3cb7",
    );
    let d = negotiate(&Message::blob(&v1));
    assert!(d.has_finding("NTLMv1 response"));
    assert!(d.has_finding("LM response sent"));
}

#[test]
fn a_challenge_without_a_token_and_a_redacted_copy() {
    let d = response_with(
        401,
        "WWW-Authenticate",
        "Negotiate, NTLM, Basic realm=\"sts\"",
    );
    assert_eq!(d.summary, "401 challenge: Negotiate, NTLM");
    assert!(d.has_finding("asks for Windows integrated authentication (Negotiate, NTLM)"));

    // What `idscope redact` leaves of the headers: the scheme and the message type.
    let d = request_with(
        "Authorization",
        "Negotiate «redacted:spnego_init:len=1028:fp=0a1b2c3d»",
    );
    assert_eq!(
        d.summary,
        "Negotiate a GSS-API initial token (SPNEGO NegTokenInit or a Kerberos AP-REQ) (redacted)"
    );
    assert_eq!(kind(&d, "token"), Kind::Secret);
    assert!(
        d.root
            .find_path("token")
            .unwrap()
            .note
            .as_deref()
            .unwrap()
            .starts_with("removed by idscope redact")
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let d = request_with(
        "Authorization",
        "NTLM «redacted:ntlm_type3:len=500:fp=0a1b2c3d»",
    );
    assert_eq!(d.summary, "NTLM AUTHENTICATE (type 3) (redacted)");
}

#[test]
fn broken_tokens_are_error_findings_that_name_the_field() {
    let d = request_with("Authorization", "Negotiate this-is-not-base64!!");
    assert_eq!(d.summary, "Negotiate token not base64");
    assert!(d.has_finding("Authorization: the Negotiate token is not base64"));

    // Truncated: the GSS-API length says more than there is.
    let full = bytes("spnego-ap-req");
    let d = request_with("Authorization", &format!("Negotiate {}", b64(&full[..300])));
    let f = d
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .unwrap();
    assert!(
        f.message
            .contains("field GSS-API token at byte 0: truncated"),
        "{}",
        f.message
    );
    let e = token_facts(&full[..300]).unwrap_err();
    assert!(e.contains("truncated"), "{e}");

    // Nested wrong: the ticket's [APPLICATION 1] turned into [APPLICATION 2]; what was read
    // before it stays.
    let mut wrong = bytes("gss-krb5-ap-req");
    let at = wrong.windows(2).position(|w| w == [0xa3, 0x82]).unwrap() + 4;
    assert_eq!(wrong[at], 0x61);
    wrong[at] = 0x62;
    let d = request_with("Authorization", &format!("Negotiate {}", b64(&wrong)));
    assert!(
        d.has_finding("Kerberos AP-REQ: field ticket at byte"),
        "{:?}",
        d.findings
    );
    assert!(d.has_finding("expected a Ticket ([APPLICATION 1]), found [APPLICATION 2]"));
    assert!(value(&d, "ap-options").contains("mutual-required"));

    // NTLM: the user name's offset points past the end of the message.
    let mut ntlm = bytes("ntlm-3");
    ntlm[40..44].copy_from_slice(&60_000u32.to_le_bytes());
    let d = request_with("Authorization", &format!("NTLM {}", b64(&ntlm)));
    let f = d
        .findings
        .iter()
        .find(|f| f.severity == Severity::Error)
        .unwrap();
    assert!(f.message.starts_with("NTLM AUTHENTICATE: field UserName at byte 36: its 10 bytes at offset 60000 run past the end"), "{}", f.message);
    // Truncated inside the fixed header.
    let d = request_with("Authorization", &format!("NTLM {}", b64(&ntlm[..50])));
    assert!(d.has_finding("field NegotiateFlags at byte 60: truncated"));
}

/// A WS-Trust RST with an NTLM BinaryExchange (the Windows transport of a WCF client) and a SOAP
/// message with a Kerberos BinarySecurityToken: the tokens are decoded where they are, secret.
#[test]
fn tokens_inside_ws_trust_and_ws_security() {
    let rst = format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><t:RequestSecurityToken xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:TokenType>http://schemas.xmlsoap.org/ws/2005/02/sc/sct</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType><t:BinaryExchange ValueType="http://schemas.xmlsoap.org/ws/2005/02/trust/spnego" EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">{}</t:BinaryExchange></t:RequestSecurityToken></s:Body></s:Envelope>"#,
        fixture("spnego-ntlm-3")
    );
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH, &trust);
    let msg = Message::request(
        "POST",
        "https://sts.contoso.test/adfs/services/trust/2005/windowstransport",
        vec![("content-type", "application/soap+xml")],
        rst.as_bytes(),
    );
    let outcomes = Registry::builtin().decode_all(&msg, &cx);
    invariants::check_outcomes(&outcomes, "BinaryExchange");
    for id in ["wstrust", "soap"] {
        let d = outcomes
            .iter()
            .find(|o| o.decoder == id)
            .unwrap()
            .result
            .as_ref()
            .unwrap();
        let bx = d
            .root
            .find_path("BinaryExchange")
            .or_else(|| d.root.find_path("t:BinaryExchange"))
            .unwrap();
        assert_eq!(bx.kind, Kind::Secret, "{id}");
        assert_eq!(value(d, "NTLM AUTHENTICATE/UserName"), "alice", "{id}");
        assert!(d.has_finding("no channel binding"), "{id}");
    }

    let soap = format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><o:Security xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><o:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/oasis-wss-kerberos-token-profile-1.1#GSS_Kerberosv5_AP_REQ" EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">{}</o:BinarySecurityToken></o:Security></s:Header><s:Body><x:Ping xmlns:x="urn:x"/></s:Body></s:Envelope>"#,
        fixture("gss-krb5-ap-req")
    );
    let msg = Message::request(
        "POST",
        "https://svc.contoso.test/svc",
        vec![("content-type", "application/soap+xml")],
        soap.as_bytes(),
    );
    let outcomes = Registry::builtin().decode_all(&msg, &cx);
    invariants::check_outcomes(&outcomes, "BinarySecurityToken");
    let d = outcomes
        .iter()
        .find(|o| o.decoder == "soap")
        .unwrap()
        .result
        .as_ref()
        .unwrap();
    assert!(
        value(d, "BinarySecurityToken/decoded as negotiate")
            .starts_with("Kerberos AP-REQ → HTTP/autologon")
    );
    assert_eq!(value(d, "Kerberos AP-REQ/ticket/realm"), "CONTOSO.TEST");
    assert_eq!(kind(d, "ticket/enc-part/cipher"), Kind::Secret);
}
