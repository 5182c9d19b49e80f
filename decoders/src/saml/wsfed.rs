//! WS-Federation passive profile as Entra ID and ADFS use it: the `wa=wsignin1.0` redirect to the
//! STS (every query parameter explained, `wctx` opened up), the ADFS forms-login POST
//! (`UserName`, `Password` as a secret, `AuthMethod`), the ADFS auto-POST HTML page (its form
//! `action` and hidden inputs; `wresult` is entity-decoded and its RSTR explained), the
//! `login.srf` POST that delivers the token, and `wsignout1.0`/`wsignoutcleanup1.0`.
//!
//! The token inside `wresult` is explained by [`super::wstrust`] and the SAML code, with the form
//! action (or request URL) as the destination for audience checks. Not responsible for the
//! WS-Trust active profile or metadata.

use super::{contains, contains_ci, explain_xml, opaque_preview};
use crate::html::{auto_post_form, decode_entities};
use crate::view::{Finding, Node};
use crate::{Context, DecodeError, Decoded, Message, util};

decoder! {
    /// The WS-Federation passive decoder (`wsfed`).
    pub struct WsFed: "wsfed";
}

fn wa_note(wa: &str) -> &'static str {
    match wa {
        "wsignin1.0" => "sign-in request (or, with wresult, the sign-in response)",
        "wsignout1.0" => "sign-out request",
        "wsignoutcleanup1.0" => "sign-out cleanup: the STS asks each RP to drop its session",
        "wattr1.0" => "attribute request",
        _ => "not a WS-Federation action",
    }
}

/// A query or form parameter of the passive profile, explained.
fn param_node(name: &str, value: &str) -> Node {
    let field = |note: &str| Node::field(name, value).with_note(note);
    match name {
        "wa" => field(wa_note(value)),
        "wtrealm" => field(if value == super::MICROSOFT_ONLINE {
            "the relying party realm: Entra ID (Microsoft Online)"
        } else {
            "the relying party realm (its identifier at the STS)"
        }),
        "wctx" => wctx_node(value),
        "wreply" => field("where the STS posts the token; absent = the RP's registered endpoint"),
        "whr" => field("home realm: which identity provider to use (skips the chooser)"),
        "username" => field("login hint: the user name Entra ID already knows"),
        "wfresh" => field(match value {
            "0" => "maximum authentication age in minutes; 0 = the user must sign in again",
            _ => "maximum authentication age in minutes",
        }),
        "wauth" => Node::field(name, value).with_note(format!(
            "requested authentication method: {}",
            super::auth_method_note(value)
        )),
        "wct" => field("the client's current time (freshness)"),
        "mkt" => field("market / UI language (e.g. en-US)"),
        "lc" => field("UI locale as a Windows LCID (1033 = en-US)"),
        "cbcxt" => field("Entra ID client context, echoed back (opaque)"),
        "client-request-id" => field("correlation id of the Entra ID request"),
        "pullStatus" => field("Entra ID login UI state"),
        "wresult" => Node::field(name, format!("{} chars", value.len()))
            .with_note("the token response (an RSTR), shown below"),
        "wp" => field("the WS-Federation policy (rarely used)"),
        "wencoding" => field("how wresult is encoded"),
        _ => Node::field(name, opaque_preview(value)),
    }
}

/// `wctx` is Entra ID's state: itself a query string (`LoginOptions=3&estsredirect=2&
/// estsrequest=…`), sometimes URL-encoded twice.
fn wctx_node(value: &str) -> Node {
    let mut n = Node::field("wctx", opaque_preview(value)).with_note(
        "the RP's context, echoed back by the STS unchanged (Entra ID: its own request state)",
    );
    let mut inner = value.to_string();
    if !inner.contains('=') && inner.contains('%') {
        inner = util::parse_form(format!("x={inner}").as_bytes())
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_default();
        n.push(Node::text("encoding", "URL-encoded twice"));
    }
    if !inner.contains('=') {
        return n;
    }
    for (k, v) in util::parse_form(inner.as_bytes()) {
        let note = match k.as_str() {
            "LoginOptions" => "Entra ID login options (opaque to the STS)",
            "estsredirect" => "Entra ID redirect state",
            "estsrequest" => {
                "Entra ID's request state (protected, opaque): lets login.srf resume the \
                 original authorization request"
            }
            "wa" => "nested WS-Fed action",
            "ru" => "return URL after sign-in",
            "rpsnv" | "ct" | "rver" | "wp" | "wreply" | "id" => "Entra ID login state",
            _ => "opaque",
        };
        let shown = util::ellipsize(&v, 60);
        n.push(Node::field(k, shown).with_note(note));
    }
    n
}

fn is_wsfed_query(msg: &Message<'_>) -> bool {
    msg.url.and_then(util::url_query).is_some_and(|q| {
        q.split('&')
            .any(|p| p.starts_with("wa=wsignin") || p.starts_with("wa=wsignout"))
    })
}

fn is_adfs_forms_post(msg: &Message<'_>) -> bool {
    let head = msg.body.get(..4096).unwrap_or(msg.body);
    msg.is_request()
        && msg.method.is_some_and(|m| m.eq_ignore_ascii_case("POST"))
        && util::looks_like_form(head)
        && contains(head, b"UserName=")
        && contains(head, b"Password=")
}

fn priority(msg: &Message<'_>) -> f32 {
    let head = msg.body.get(..4096).unwrap_or(msg.body);
    // A bare blob (`idscope decode`) may be any of the shapes: a form, a page or a URL.
    let blob = msg.direction == crate::Direction::Blob;
    if (msg.is_request() || blob) && util::looks_like_form(head) && contains(head, b"wresult=") {
        return 0.95;
    }
    if blob && blob_url(msg).is_some() {
        return 0.9;
    }
    if (msg.is_response() || blob)
        && (contains_ci(msg.body, b"name=\"wresult\"") || contains_ci(msg.body, b"name=wresult"))
    {
        return 0.95;
    }
    if is_adfs_forms_post(msg) {
        return 0.9;
    }
    if msg.is_request() && is_wsfed_query(msg) {
        return 0.9;
    }
    if msg.is_response()
        && msg
            .header("location")
            .and_then(util::url_query)
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("wa=wsignin")))
    {
        return 0.85;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "WS-Fed body")?;
    let head = msg.body.get(..4096).unwrap_or(msg.body);
    let blob = msg.direction == crate::Direction::Blob;
    if (msg.is_request() || blob) && util::looks_like_form(head) && contains(head, b"wresult=") {
        let form = util::parse_form(msg.body);
        let url = msg.url.unwrap_or("");
        let mut d = token_post(&form, url, "WS-Fed token POST", cx)?;
        d.summary = if url.is_empty() {
            format!("WS-Fed token POST: {}", d.summary)
        } else {
            format!(
                "WS-Fed token POST to {}: {}",
                super::saml2::host_path(url),
                d.summary
            )
        };
        return Ok(d);
    }
    if let Some(url) = blob_url(msg) {
        return Ok(sign_in_request(url, cx));
    }
    if msg.is_response() || blob {
        if let Some(text) = msg.text()
            && let Some(form) = auto_post_form(text, &["wresult"])
        {
            let action = form.action.clone().unwrap_or_default();
            let mut d = token_post(&form.inputs, &action, "ADFS auto-POST page", cx)?;
            d.root.note = Some(format!(
                "an HTML page that the browser submits at once (method {}) to {action}; the \
                 hidden wresult input is HTML-entity-encoded XML",
                form.method.as_deref().unwrap_or("GET")
            ));
            d.summary = format!(
                "ADFS auto-POST to {}: {}",
                super::saml2::host_path(&action),
                d.summary
            );
            return Ok(d);
        }
        if let Some(loc) = msg.header("location") {
            let mut d = sign_in_request(loc, cx);
            d.summary = format!("redirect to {}", d.summary);
            return Ok(d);
        }
        return Err(DecodeError::not(
            "a WS-Fed page",
            "the response has no form with a wresult input",
        ));
    }
    if is_adfs_forms_post(msg) {
        return Ok(forms_login(msg));
    }
    let url = msg.url.ok_or(DecodeError::Missing("url"))?;
    Ok(sign_in_request(url, cx))
}

/// A blob that is a WS-Fed URL (`https://…?wa=wsignin1.0&…`), pasted into `idscope decode`.
fn blob_url<'a>(msg: &Message<'a>) -> Option<&'a str> {
    if msg.direction != crate::Direction::Blob {
        return None;
    }
    let text = msg.text()?.trim();
    (text.starts_with("http") && !text.contains(char::is_whitespace))
        .then_some(text)
        .filter(|t| {
            util::url_query(t).is_some_and(|q| q.split('&').any(|p| p.starts_with("wa=wsign")))
        })
}

fn sign_in_request(url: &str, _cx: &Context<'_>) -> Decoded {
    let pairs = util::url_query_pairs(url);
    let wa = pairs
        .iter()
        .find(|(k, _)| k == "wa")
        .map_or("", |(_, v)| v.as_str());
    let host = util::url_host(url).unwrap_or_default();
    let label = match wa {
        "wsignin1.0" => "WS-Fed sign-in request",
        "wsignout1.0" => "WS-Fed sign-out request",
        "wsignoutcleanup1.0" => "WS-Fed sign-out cleanup",
        _ => "WS-Fed request",
    };
    let mut root = Node::section(label).with_note(
        "WS-Federation passive profile: the browser is sent to the STS (ADFS) with these query \
         parameters",
    );
    root.push(Node::field("endpoint", super::saml2::host_path(url)));
    let mut findings = Vec::new();
    for (k, v) in &pairs {
        root.push(param_node(k, v));
    }
    let realm = pairs
        .iter()
        .find(|(k, _)| k == "wtrealm")
        .map(|(_, v)| v.clone());
    if wa == "wsignin1.0" && realm.is_none() {
        findings.push(Finding::warning(
            "wsignin1.0 without wtrealm: the STS cannot tell which relying party asks",
        ));
    }
    let mut summary = match wa {
        "wsignin1.0" => format!("WS-Fed sign-in → {host}"),
        "wsignout1.0" => format!("WS-Fed sign-out → {host}"),
        other => format!("WS-Fed {other} → {host}"),
    };
    if let Some(r) = realm {
        summary.push_str(&format!(" realm={r}"));
    }
    if let Some((_, u)) = pairs.iter().find(|(k, _)| k == "username") {
        summary.push_str(&format!(" user={u}"));
    }
    let mut d = Decoded::new("wsfed", summary, root);
    d.findings = findings;
    d
}

fn forms_login(msg: &Message<'_>) -> Decoded {
    let form = util::parse_form(msg.body);
    let mut root = Node::section("ADFS forms sign-in").with_note(
        "the ADFS login page posts the user's name and password back to /adfs/ls (forms \
         authentication)",
    );
    let mut user = None;
    let mut findings = Vec::new();
    for (k, v) in &form {
        let n = match k.as_str() {
            "UserName" => {
                user = Some(v.clone());
                Node::field("UserName", v.clone()).with_note("DOMAIN\\user or the UPN")
            }
            "Password" => {
                findings.push(
                    Finding::warning(
                        "the user's password travels in clear in the form body; only TLS \
                         protects it",
                    )
                    .at("ADFS forms sign-in/Password"),
                );
                Node::secret("Password", v.clone()).with_note(format!(
                    "the user's password, in clear ({} chars)",
                    v.chars().count()
                ))
            }
            "AuthMethod" => Node::field("AuthMethod", v.clone()).with_note(match v.as_str() {
                "FormsAuthentication" => "forms (user name and password)",
                "WindowsAuthentication" => "Windows integrated authentication",
                "CertificateAuthentication" => "client certificate",
                _ => "the ADFS authentication provider chosen",
            }),
            "Kmsi" => Node::field("Kmsi", v.clone()).with_note("keep me signed in"),
            _ => Node::field(k.clone(), opaque_preview(v)),
        };
        root.push(n);
    }
    if let Some(url) = msg.url {
        for (k, v) in util::url_query_pairs(url) {
            root.push(param_node(&k, &v).with_note("query parameter of the sign-in request, kept"));
        }
    }
    let host = msg.url.and_then(util::url_host).unwrap_or_default();
    let mut d = Decoded::new(
        "wsfed",
        format!(
            "ADFS forms login at {host} for {}",
            user.as_deref().unwrap_or("(no UserName)")
        ),
        root,
    );
    d.findings = findings;
    d
}

/// A sign-in response delivered as form fields (`wa`, `wresult`, `wctx`): from the auto-POST
/// page or from the POST to `login.srf`. `dest` is where it goes.
fn token_post(
    pairs: &[(String, String)],
    dest: &str,
    label: &str,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let mut root = Node::section(label);
    root.note = Some(format!(
        "the WS-Fed sign-in response, posted to {dest}: wresult carries the RSTR with the token"
    ));
    root.push(Node::field("destination", dest));
    let mut wresult = None;
    for (k, v) in pairs {
        root.push(param_node(k, v));
        if k == "wresult" {
            wresult = Some(v.clone());
        }
    }
    let wresult = wresult.ok_or(DecodeError::Missing("wresult"))?;
    // After form decoding the value is XML; a value still HTML-encoded is decoded once more.
    let xml = if wresult.trim_start().starts_with("&lt;") {
        decode_entities(&wresult)
    } else {
        wresult
    };
    let mut d = explain_xml(xml.trim_start(), "wsfed", cx, Some(dest))?;
    root.push(d.root);
    d.root = root;
    // "WS-Trust 2005 RSTR: SAML 1.1 for …" → "SAML 1.1 for …": the RSTR is the envelope here.
    if d.summary.starts_with("WS-Trust ")
        && let Some((_, token)) = d.summary.split_once(": ")
    {
        d.summary = token.to_string();
    }
    let wa = pairs
        .iter()
        .find(|(k, _)| k == "wa")
        .map(|(_, v)| v.as_str());
    if wa != Some("wsignin1.0") {
        d.findings.push(Finding::warning(format!(
            "a wresult with wa={} (expected wsignin1.0)",
            wa.unwrap_or("(missing)")
        )));
    }
    if !dest.is_empty() && !dest.starts_with("https://") {
        d.findings.push(
            Finding::error(format!(
                "the token is posted to {dest}, not over HTTPS: a bearer token in clear"
            ))
            .at(label.to_string()),
        );
    }
    Ok(d)
}

/// Explains a WS-Fed `wresult` value (entity-encoded or not) for callers outside this module,
/// with `dest` as the destination for audience checks.
pub fn explain_wresult(
    wresult: &str,
    dest: Option<&str>,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let xml = decode_entities(wresult);
    explain_xml(xml.trim_start(), "wsfed", cx, dest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn entity_encoded_wresult_with_numeric_refs_is_decoded() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let rstr = "&lt;t:RequestSecurityTokenResponse xmlns:t=&#34;http://schemas.xmlsoap.org/ws/2005/02/trust&#x22;&gt;\
                    &lt;t:TokenType&gt;urn:oasis:names:tc:SAML:1.0:assertion&lt;/t:TokenType&gt;\
                    &lt;/t:RequestSecurityTokenResponse&gt;";
        let html = format!(
            "<html><body><form method=\"POST\" name=\"hiddenform\" \
             action=\"https://login.microsoftonline.com/login.srf\"><input type=\"hidden\" \
             name=\"wa\" value=\"wsignin1.0\" /><input type=\"hidden\" name=\"wresult\" \
             value=\"{rstr}\" /></form></body></html>"
        );
        let msg = Message::response(
            "POST",
            "https://sts.contoso.test/adfs/ls/",
            200,
            vec![("content-type", "text/html")],
            html.as_bytes(),
        );
        assert!(WsFed.priority(&msg) > 0.9);
        let d = WsFed.decode(&msg, &cx).unwrap();
        assert!(
            d.summary.starts_with(
                "ADFS auto-POST to login.microsoftonline.com/login.srf: WS-Trust 2005 RSTR"
            ),
            "{}",
            d.summary
        );
    }

    #[test]
    fn html_without_a_form_is_not_this_kind() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let msg = Message::response(
            "GET",
            "https://sts.contoso.test/adfs/ls/",
            200,
            vec![("content-type", "text/html")],
            b"<html><body>name=\"wresult\" but no form</body></html>",
        );
        assert!(matches!(
            WsFed.decode(&msg, &cx),
            Err(DecodeError::NotThisKind { .. })
        ));
    }

    #[test]
    fn wctx_pairs_are_opened_even_when_double_encoded() {
        let n = wctx_node("LoginOptions%3D3%26estsredirect%3D2%26estsrequest%3DrQIIAbVS");
        assert!(n.children.iter().any(|c| c.label == "encoding"));
        assert_eq!(
            n.child("estsrequest").and_then(|c| c.value.as_deref()),
            Some("rQIIAbVS")
        );
    }
}
