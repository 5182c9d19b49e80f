use super::*;
use crate::{Kind, OwnedMessage, Registry, Severity, Trust};
use std::time::{Duration, UNIX_EPOCH};

const TOKEN: &str = "dsso1.FfT0kVJc3wq8Ykq3Zl9x-1B7mXnQe6bUq5uP0tR4sA2cWv8hGdJyKiLoMzNaEb";

fn decode_all(http: &str) -> Vec<crate::Outcome> {
    let m = OwnedMessage::parse_http_text(http).unwrap();
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    Registry::builtin().decode_all(&m.as_message(), &cx)
}

fn best(http: &str) -> Decoded {
    decode_all(http)
        .into_iter()
        .find_map(|o| o.result.ok())
        .unwrap()
}

fn secret_values(d: &Decoded, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    d.root.walk(&mut |_, n| {
        if n.label == label && n.kind == Kind::Secret {
            out.extend(n.value.clone());
        }
    });
    out
}

#[test]
fn endpoints_are_told_from_the_path() {
    assert_eq!(
        endpoint("/contoso.test/winauth/trust/2005/windowstransport"),
        Some((Endpoint::WindowsTransport, "contoso.test"))
    );
    assert_eq!(
        endpoint("/contoso.test/WinAuth/Trust/2005/UsernameMixed/"),
        Some((Endpoint::UsernameMixed, "contoso.test"))
    );
    assert_eq!(
        endpoint("/6f1c0b7e/winauth/sso"),
        Some((Endpoint::Sso, "6f1c0b7e"))
    );
    assert_eq!(
        endpoint("/x/winauth/ssoprobe"),
        Some((Endpoint::SsoProbe, "x"))
    );
    assert_eq!(endpoint("/adfs/services/trust/2005/windowstransport"), None);
    assert_eq!(endpoint("/winauth/sso"), None);
    assert_eq!(negotiate_token("Negotiate YIIabc"), Some("YIIabc"));
    assert_eq!(negotiate_token("negotiate   YII "), Some("YII"));
    assert_eq!(negotiate_token("Negotiate"), None);
    assert_eq!(negotiate_token("Bearer eyJ"), None);
}

#[test]
fn the_usernamemixed_rst_is_seamless_sso_with_the_password_a_secret() {
    let outs = decode_all(include_str!(
        "../../../tests/fixtures/desktopsso/rst_usernamemixed.http"
    ));
    let d = outs[0].result.as_ref().unwrap();
    assert_eq!(outs[0].decoder, "desktopsso");
    // The WS-Trust view is part of this one, not a second outcome repeating its findings.
    assert!(outs.iter().all(|o| o.decoder != "wstrust"), "{outs:#?}");
    assert_eq!(
        d.summary,
        "Seamless SSO RST to usernamemixed for contoso.test (password of alice@contoso.test)"
    );
    assert_eq!(secret_values(d, "Password"), ["Alice-Passw0rd!"]);
    assert!(d.has_finding("password in clear"), "{:#?}", d.findings);
}

#[test]
fn the_rstr_shows_the_token_as_a_secret_with_its_lifetime() {
    let d = best(include_str!(
        "../../../tests/fixtures/desktopsso/rstr_desktopssotoken.http"
    ));
    assert_eq!(d.decoder, "desktopsso");
    assert_eq!(
        d.summary,
        format!(
            "Seamless SSO: DesktopSsoToken issued ({} chars, valid 10m)",
            TOKEN.len()
        )
    );
    assert_eq!(secret_values(&d, TOKEN_ELEMENT), [TOKEN]);
    let life = d.root.child("DesktopSsoToken lifetime").unwrap();
    assert_eq!(life.value.as_deref(), Some("10m"));
    let wrapper = d.root.find_path("saml:Assertion").unwrap();
    assert_eq!(wrapper.value.as_deref(), Some("DesktopSsoToken wrapper"));
    // The wrapper is not judged as an ADFS assertion (no AssertionID, issuer, signature).
    assert!(
        d.findings.iter().all(|f| f.severity != Severity::Error),
        "{:#?}",
        d.findings
    );
}

#[test]
fn a_fault_names_the_aadsts_code_and_its_meaning() {
    let d = best(include_str!(
        "../../../tests/fixtures/desktopsso/fault_50126.http"
    ));
    assert_eq!(
        d.summary,
        "HTTP 400: Seamless SSO refused: AADSTS50126: Error validating credentials due to \
         invalid username or password."
    );
    assert_eq!(
        d.root.find_path("psf:text/AADSTS").unwrap().note.as_deref(),
        Some("bad username or password")
    );
    assert!(d.has_finding("Seamless SSO refused: AADSTS50126"));
}

#[test]
fn the_browser_exchange_challenges_then_hands_out_the_token() {
    let d = best(include_str!(
        "../../../tests/fixtures/desktopsso/sso_challenge.http"
    ));
    assert_eq!(d.summary, "Seamless SSO sso: 401 Negotiate challenge");
    assert!(d.findings.is_empty(), "{:#?}", d.findings);
    let d = best(include_str!(
        "../../../tests/fixtures/desktopsso/sso_token.http"
    ));
    assert_eq!(
        d.summary,
        format!(
            "Seamless SSO: DesktopSsoToken issued to the browser ({} chars)",
            TOKEN.len()
        )
    );
    assert_eq!(secret_values(&d, TOKEN_ELEMENT), [TOKEN]);
    let d = best(include_str!(
        "../../../tests/fixtures/desktopsso/login_post_dssotoken.http"
    ));
    assert_eq!(
        d.summary,
        "Seamless SSO: sign-in POST with the DesktopSsoToken for alice@contoso.test"
    );
    assert_eq!(secret_values(&d, "dssoToken"), [TOKEN]);
}

#[test]
fn the_request_with_a_kerberos_ticket_says_so_and_keeps_the_ticket_secret() {
    let http = "GET https://autologon.microsoftazuread-sso.com/contoso.test/winauth/sso?client-request-id=1\n\
                authorization: Negotiate YIIBabcdef\n\n";
    let d = best(http);
    assert_eq!(d.summary, "Seamless SSO sso with a Kerberos ticket");
    assert_eq!(
        secret_values(&d, "Authorization: Negotiate"),
        ["YIIBabcdef"]
    );
    let ntlm = http.replace("YIIBabcdef", "TlRMTVNTUAABAAAAB4IIog==");
    let d = best(&ntlm);
    assert_eq!(d.summary, "Seamless SSO sso with NTLM (Kerberos needed)");
    assert!(d.has_finding("the client sent NTLM, not Kerberos"));
}

#[test]
fn the_saml11_bearer_redemption_is_named_and_its_token_kept_secret() {
    let outs = decode_all(include_str!(
        "../../../tests/fixtures/desktopsso/token_saml11_desktopssotoken.http"
    ));
    let d = outs
        .iter()
        .find(|o| o.decoder == "oauth")
        .and_then(|o| o.result.as_ref().ok())
        .unwrap();
    assert!(
        d.summary
            .starts_with("SAML 1.1 bearer (Seamless SSO DesktopSsoToken) token request v1"),
        "{}",
        d.summary
    );
    assert_eq!(secret_values(d, TOKEN_ELEMENT), [TOKEN]);
    assert!(
        d.findings.iter().all(|f| f.severity == Severity::Info),
        "{:#?}",
        d.findings
    );
    let wrapped = util::b64_std(
        format!(
            "<saml:Assertion xmlns:saml=\"{SAML1_NS}\"><DesktopSsoToken>{TOKEN}</DesktopSsoToken></saml:Assertion>"
        )
        .as_bytes(),
    );
    assert_eq!(wrapped_token(&wrapped).as_deref(), Some(TOKEN));
    // An ADFS assertion, or a wrapper with more inside, is not a DesktopSsoToken.
    let other = util::b64_std(
        format!(
            "<saml:Assertion xmlns:saml=\"{SAML1_NS}\" AssertionID=\"_1\"><DesktopSsoToken>x</DesktopSsoToken><saml:Conditions/></saml:Assertion>"
        )
        .as_bytes(),
    );
    assert_eq!(wrapped_token(&other), None);
    assert_eq!(wrapped_token("not base64!"), None);
}

#[test]
fn cut_and_odd_messages_never_panic() {
    for http in [
        include_str!("../../../tests/fixtures/desktopsso/rst_usernamemixed.http"),
        include_str!("../../../tests/fixtures/desktopsso/rstr_desktopssotoken.http"),
        include_str!("../../../tests/fixtures/desktopsso/fault_50126.http"),
        include_str!("../../../tests/fixtures/desktopsso/login_post_dssotoken.http"),
    ] {
        let m = OwnedMessage::parse_http_text(http).unwrap();
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        for cut in 0..m.body.len() {
            let mut msg = m.as_message();
            msg.body = &m.body[..cut];
            let _ = <DesktopSso as crate::Decoder>::decode(&DesktopSso, &msg, &cx);
        }
    }
}
