//! ADFS Windows integrated authentication: `/adfs/ls/wia` (where ADFS sends browsers it lets
//! sign in with Kerberos) and its 401 `WWW-Authenticate: Negotiate` exchange. The [`Wia`]
//! decoder explains the request (which credential the browser sent) and the challenge or refusal;
//! the auto-POST page that follows a success is the WS-Fed decoder's. [`negotiate_rejected`]
//! looks at a whole exchange: a Negotiate token answered by another 401 from an ADFS endpoint is
//! what extended protection for authentication does to a token made through a TLS-intercepting
//! proxy, and the finding says so and how to get past it.

use super::desktopsso::{challenges_negotiate, negotiate_mechanism, negotiate_token};
use crate::view::{Finding, Node};
use crate::{Context, DecodeError, Decoded, Message, util};

/// What extended protection is and the two ways past it, for findings.
pub const EXTENDED_PROTECTION: &str = "ADFS extended protection for authentication (channel \
     binding) binds a Kerberos or NTLM token to the TLS channel it was made for: a \
     TLS-intercepting proxy such as idscope presents its own certificate, so the client's channel \
     binding no longer matches ADFS's, and ADFS refuses the token with another 401. Either let the \
     STS through untouched (idscope record --ignore-host sts.example.com: its traffic is tunnelled, \
     not recorded) or, in a lab only, turn the check off on the ADFS farm \
     (Set-AdfsProperties -ExtendedProtectionTokenCheck None)";

/// True for the WIA endpoint's path (`/adfs/ls/wia`, any case, trailing `/` allowed).
pub fn is_wia(path: &str) -> bool {
    path.trim_end_matches('/')
        .eq_ignore_ascii_case("/adfs/ls/wia")
}

decoder! {
    /// The ADFS Windows integrated authentication decoder (`wia`).
    pub struct Wia: "wia";
}

fn priority(msg: &Message<'_>) -> f32 {
    if !is_wia(msg.path()) {
        return 0.0;
    }
    match msg.status {
        // A success is the auto-POST page, which the WS-Fed decoder explains.
        Some(s) if (200..400).contains(&s) => 0.0,
        _ => 0.93,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "ADFS WIA body")?;
    let mut root = Node::section("ADFS Windows integrated authentication").with_note(
        "the browser signs in to ADFS with Kerberos (SPNEGO) for HTTP/<the STS host>: ADFS sends \
         browsers it trusts here instead of the forms page, answers 401 Negotiate, and on a good \
         ticket answers the auto-POST page with the token",
    );
    let mut findings = Vec::new();
    for (k, v) in msg.query_pairs() {
        if matches!(k.as_str(), "wa" | "wtrealm" | "wctx" | "client-request-id") {
            root.push(Node::field(k, util::ellipsize(&v, 120)));
        }
    }
    let summary = if msg.is_request() {
        match msg.header("authorization").and_then(negotiate_token) {
            Some(tok) => {
                let mech = negotiate_mechanism(tok);
                root.push(
                    Node::secret("Authorization: Negotiate", tok)
                        .with_note(format!("the browser's credential: {mech}")),
                );
                if mech.starts_with("NTLM") {
                    findings.push(Finding::warning(
                        "the browser sent NTLM to ADFS, not Kerberos: it could not get a ticket \
                         for the STS's HTTP/ service principal (SPN missing or registered twice, \
                         or the STS name not in the intranet zone)",
                    ));
                }
                format!("ADFS WIA with {}", short_mech(mech))
            }
            None => "ADFS WIA (no credential yet)".to_string(),
        }
    } else {
        let status = msg.status.unwrap_or(0);
        let body = msg.text().unwrap_or("");
        if status == 401 && challenges_negotiate(msg) {
            let schemes: Vec<&str> = msg
                .headers_named("www-authenticate")
                .map(|v| v.split(' ').next().unwrap_or(v))
                .collect();
            root.push(
                Node::field("WWW-Authenticate", schemes.join(", "))
                    .with_note("the challenge: send a Kerberos ticket (or NTLM) for the STS"),
            );
            if mentions_channel_binding(body) {
                findings.push(Finding::error(format!(
                    "ADFS refused the Negotiate token for extended protection: {EXTENDED_PROTECTION}"
                )));
                "HTTP 401: ADFS WIA refused (extended protection)".to_string()
            } else {
                "ADFS WIA: 401 Negotiate challenge".to_string()
            }
        } else {
            format!("HTTP {status}: ADFS WIA")
        }
    };
    let mut d = Decoded::new("wia", summary, root);
    d.findings = findings;
    Ok(d)
}

fn short_mech(mech: &str) -> &'static str {
    if mech.starts_with("NTLM") {
        "NTLM"
    } else if mech.starts_with("SPNEGO NegTokenResp") {
        "a SPNEGO continuation"
    } else {
        "a Kerberos ticket"
    }
}

fn mentions_channel_binding(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    b.contains("extended protection") || b.contains("channel binding")
}

/// The finding for a whole exchange whose request carried a Negotiate token and whose answer is
/// another 401 Negotiate challenge from an ADFS endpoint (`/adfs/…`): ADFS did not accept the
/// token, and through an intercepting proxy extended protection is the usual reason.
pub fn negotiate_rejected(request: &Message<'_>, response: &Message<'_>) -> Option<Finding> {
    let token = request.header("authorization").and_then(negotiate_token)?;
    if response.status != Some(401) || !challenges_negotiate(response) {
        return None;
    }
    let path = request.path().to_ascii_lowercase();
    if !path.starts_with("/adfs/") {
        return None;
    }
    let mech = short_mech(negotiate_mechanism(token));
    Some(Finding::error(format!(
        "ADFS answered the client's Negotiate token ({mech}) with another 401: the token was \
         refused. {EXTENDED_PROTECTION}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Registry, Trust};

    fn best(msg: &Message<'_>) -> Decoded {
        let trust = Trust::default();
        let cx = Context::new(std::time::UNIX_EPOCH, &trust);
        Registry::builtin().best(msg, &cx).unwrap()
    }

    const URL: &str = "https://sts.contoso.test/adfs/ls/wia?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline";

    #[test]
    fn the_exchange_is_explained_and_a_refusal_names_extended_protection() {
        let d = best(&Message::request("GET", URL, vec![], b""));
        assert_eq!(d.decoder, "wia");
        assert_eq!(d.summary, "ADFS WIA (no credential yet)");
        let d = best(&Message::request(
            "GET",
            URL,
            vec![("Authorization", "Negotiate YIIGabc")],
            b"",
        ));
        assert_eq!(d.summary, "ADFS WIA with a Kerberos ticket");
        // curl --ntlm's NEGOTIATE message, under the bare NTLM scheme.
        let d = best(&Message::request(
            "GET",
            URL,
            vec![(
                "Authorization",
                "NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=",
            )],
            b"",
        ));
        assert!(d.summary.starts_with("ADFS WIA with NTLM"), "{}", d.summary);
        assert!(d.has_finding("the browser sent NTLM to ADFS"));
        let challenge = Message::response(
            "GET",
            URL,
            401,
            vec![
                ("WWW-Authenticate", "Negotiate"),
                ("WWW-Authenticate", "NTLM"),
            ],
            b"<html>Sign In</html>",
        );
        let d = best(&challenge);
        assert_eq!(d.summary, "ADFS WIA: 401 Negotiate challenge");
        assert!(d.findings.is_empty());
        let refused = Message::response(
            "GET",
            URL,
            401,
            vec![("WWW-Authenticate", "Negotiate")],
            b"<html>Extended protection for authentication: the Kerberos token carries no channel binding</html>",
        );
        let d = best(&refused);
        assert_eq!(
            d.summary,
            "HTTP 401: ADFS WIA refused (extended protection)"
        );
        assert!(d.has_finding("--ignore-host"), "{:#?}", d.findings);
        assert!(d.has_finding("ExtendedProtectionTokenCheck None"));
    }

    #[test]
    fn a_second_401_after_a_token_is_a_refusal_only_for_adfs() {
        let with_token = Message::request(
            "GET",
            URL,
            vec![("Authorization", "Negotiate YIIGabc")],
            b"",
        );
        let without = Message::request("GET", URL, vec![], b"");
        let again = Message::response(
            "GET",
            URL,
            401,
            vec![("WWW-Authenticate", "Negotiate")],
            b"",
        );
        let ok = Message::response("GET", URL, 200, vec![], b"");
        let f = negotiate_rejected(&with_token, &again).unwrap();
        assert!(
            f.message.contains("(a Kerberos ticket) with another 401"),
            "{}",
            f.message
        );
        assert!(
            f.message
                .contains("Set-AdfsProperties -ExtendedProtectionTokenCheck None")
        );
        assert!(negotiate_rejected(&without, &again).is_none());
        assert!(negotiate_rejected(&with_token, &ok).is_none());
        let other = Message::request(
            "GET",
            "https://intranet.contoso.test/",
            vec![("Authorization", "Negotiate YIIGabc")],
            b"",
        );
        assert!(negotiate_rejected(&other, &again).is_none());
    }
}
