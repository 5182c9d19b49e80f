//! Seamless SSO (Entra ID "Desktop SSO") at `autologon.microsoftazuread-sso.com`: the WS-Trust
//! 2005 requests to `/{domain}/winauth/trust/2005/windowstransport` (the credential is a Kerberos
//! ticket for `HTTP/autologon.microsoftazuread-sso.com` in `Authorization: Negotiate …`) and
//! `…/usernamemixed` (the user's name and password in a `wsse:UsernameToken`), their answers (an
//! RSTR whose `RequestedSecurityToken` is a `DesktopSsoToken` inside an unsigned SAML 1.1
//! `Assertion` element, or a SOAP fault whose `psf:text` names an AADSTS code), the browser's
//! `/{tenant}/winauth/sso` and `/winauth/ssoprobe` exchange (401 `WWW-Authenticate: Negotiate`,
//! then the token as the body), and the sign-in page's POST that hands the token on as
//! `dssoToken`. The [`DesktopSso`] decoder is this module's own; [`explain_wrapper`] explains the
//! `Assertion` wrapper wherever the SAML code meets it (an RSTR, the `assertion` of a
//! `saml1_1-bearer` token request), and [`wrapped_token`] lets the OAuth decoder name it.
//!
//! The WS-Trust envelope is explained by [`super::wstrust`]; the Negotiate token itself (SPNEGO,
//! Kerberos AP-REQ) by the decoder of `Authorization` headers. Nothing here decrypts anything.

use super::{Explained, Explainer, SOAP11_NS, SOAP12_NS, WST_2005, WSU_NS, explain_xml};
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId, SAML1_NS};
use crate::{Context, DecodeError, Decoded, Message, util};

/// The Seamless SSO host.
pub const AUTOLOGON_HOST: &str = "autologon.microsoftazuread-sso.com";
/// The service principal a Seamless SSO Kerberos ticket is for (registered on the
/// `AZUREADSSOACC$` computer account).
pub const AUTOLOGON_SPN: &str = "HTTP/autologon.microsoftazuread-sso.com";
/// The element that carries the token, in no namespace.
pub const TOKEN_ELEMENT: &str = "DesktopSsoToken";
/// The namespace of the `psf:error` detail Entra ID puts in its WS-Trust faults.
pub const PSF_NS: &str = "http://schemas.microsoft.com/Passport/SoapServices/SOAPFault";

/// What the token is, for notes.
const TOKEN_NOTE: &str = "Entra ID's proof that Seamless SSO signed the user in: issued by \
     autologon.microsoftazuread-sso.com after it accepted a Kerberos ticket for \
     HTTP/autologon.microsoftazuread-sso.com (the AZUREADSSOACC$ computer account's key) or the \
     user's password; the client redeems it at the token endpoint with grant_type \
     urn:ietf:params:oauth:grant-type:saml1_1-bearer. Opaque to clients; a bearer credential: \
     whoever holds it gets tokens as the user until it expires";

/// An endpoint of the autologon host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/{domain}/winauth/trust/2005/windowstransport`: WS-Trust with a Kerberos ticket.
    WindowsTransport,
    /// `/{domain}/winauth/trust/2005/usernamemixed`: WS-Trust with a name and password.
    UsernameMixed,
    /// `/{tenant}/winauth/sso`: the browser's Kerberos exchange that returns the token.
    Sso,
    /// `/{tenant}/winauth/ssoprobe`: the sign-in page's check that Seamless SSO can work.
    SsoProbe,
}

impl Endpoint {
    /// The endpoint's last path segment.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::WindowsTransport => "windowstransport",
            Endpoint::UsernameMixed => "usernamemixed",
            Endpoint::Sso => "sso",
            Endpoint::SsoProbe => "ssoprobe",
        }
    }

    fn note(self) -> &'static str {
        match self {
            Endpoint::WindowsTransport => {
                "WS-Trust 2005 with Windows authentication: the RST carries no credential in the \
                 body; the Kerberos ticket travels in Authorization: Negotiate"
            }
            Endpoint::UsernameMixed => {
                "WS-Trust 2005 with the user's name and password in a wsse:UsernameToken (what \
                 tools use without a Kerberos ticket; Entra ID checks the password as for any \
                 managed sign-in)"
            }
            Endpoint::Sso => {
                "the browser's Seamless SSO step: the sign-in page calls it, the host answers 401 \
                 Negotiate, the browser retries with a Kerberos ticket and gets the \
                 DesktopSsoToken as the body, which the page then posts as dssoToken"
            }
            Endpoint::SsoProbe => {
                "the sign-in page's probe: a 401 Negotiate challenge tells the page whether the \
                 browser can do Seamless SSO here"
            }
        }
    }
}

/// The autologon endpoint a URL path names, with its first segment (the domain or tenant):
/// `/{domain}/winauth/trust/2005/windowstransport` and the like, any case, trailing `/` allowed.
pub fn endpoint(path: &str) -> Option<(Endpoint, &str)> {
    let mut segs = path.trim_matches('/').split('/');
    let domain = segs.next().filter(|d| !d.is_empty())?;
    let rest: Vec<&str> = segs.collect();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let ep = match rest.as_slice() {
        [w, t, v, e] if is(w, "winauth") && is(t, "trust") && is(v, "2005") => {
            if is(e, "windowstransport") {
                Endpoint::WindowsTransport
            } else if is(e, "usernamemixed") {
                Endpoint::UsernameMixed
            } else {
                return None;
            }
        }
        [w, s] if is(w, "winauth") && is(s, "sso") => Endpoint::Sso,
        [w, s] if is(w, "winauth") && is(s, "ssoprobe") => Endpoint::SsoProbe,
        _ => return None,
    };
    Some((ep, domain))
}

/// True when `msg` goes to (or comes from) an autologon endpoint.
pub fn is_autologon(msg: &Message<'_>) -> bool {
    endpoint(msg.path()).is_some()
}

/// The token of an `Authorization: Negotiate <token>` (or `WWW-Authenticate`) value, or of the
/// bare `NTLM <token>` scheme a client uses when it offers NTLM alone.
pub fn negotiate_token(value: &str) -> Option<&str> {
    let v = value.trim();
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    (scheme.eq_ignore_ascii_case("Negotiate") || scheme.eq_ignore_ascii_case("NTLM"))
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// True when the headers challenge with `WWW-Authenticate: Negotiate` (with or without a token).
pub fn challenges_negotiate(msg: &Message<'_>) -> bool {
    msg.headers_named("www-authenticate").any(|v| {
        v.split(',').any(|c| {
            c.trim()
                .split(' ')
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case("Negotiate"))
        })
    })
}

/// What a Negotiate token's first bytes say it carries: SPNEGO or a bare Kerberos AP-REQ, or an
/// NTLM message (Windows falls back to NTLM when it cannot get a Kerberos ticket for the
/// service). Only the start is looked at; the token's decoder reads the rest.
pub fn negotiate_mechanism(token: &str) -> &'static str {
    if token.starts_with("TlRMTVNTUA") {
        "NTLM (not Kerberos: the client could not get a ticket for the service principal)"
    } else if token.starts_with("YI") {
        "SPNEGO (GSS-API InitialContextToken; Kerberos AP-REQ inside)"
    } else if token.starts_with("bI") || token.starts_with("boI") {
        "a bare Kerberos AP-REQ"
    } else if token.starts_with("oY") || token.starts_with("oX") {
        "SPNEGO NegTokenResp (a later leg of the exchange)"
    } else {
        "not a recognised Negotiate token"
    }
}

decoder! {
    /// The Seamless SSO decoder (`desktopsso`): the autologon host's WS-Trust endpoints and
    /// browser exchange, and the sign-in page's `dssoToken` POST.
    pub struct DesktopSso: "desktopsso";
}

fn priority(msg: &Message<'_>) -> f32 {
    if is_autologon(msg) {
        // Above `wstrust` (0.95): this view holds the WS-Trust explanation too.
        return 0.97;
    }
    if msg.is_request()
        && util::looks_like_form(msg.body.get(..8192).unwrap_or(msg.body))
        && util::contains(msg.body, b"dssoToken=")
    {
        return 0.9;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "Seamless SSO body")?;
    match endpoint(msg.path()) {
        Some((ep @ (Endpoint::WindowsTransport | Endpoint::UsernameMixed), domain)) => {
            trust(msg, cx, ep, domain)
        }
        Some((ep, tenant)) => browser(msg, ep, tenant),
        None => login_post(msg),
    }
}

/// The Seamless SSO section every autologon view starts with: the endpoint, the domain or
/// tenant, the request id, and the Kerberos credential or challenge in the headers.
fn head(
    msg: &Message<'_>,
    ep: Endpoint,
    domain: &str,
    findings: &mut Vec<Finding>,
) -> (Node, Option<&'static str>) {
    let mut root = Node::section("Seamless SSO").with_note(
        "Entra ID Seamless single sign-on (\"Desktop SSO\"): a domain-joined Windows client \
         proves the user with Kerberos to autologon.microsoftazuread-sso.com and gets a \
         DesktopSsoToken for the token endpoint",
    );
    root.value = Some(ep.name().to_string());
    root.push(Node::field("endpoint", msg.path()).with_note(ep.note()));
    let tenant_note = if matches!(ep, Endpoint::WindowsTransport | Endpoint::UsernameMixed) {
        "the user's domain: Entra ID finds the tenant (and the AZUREADSSOACC$ key) by it"
    } else {
        "the tenant or domain the sign-in page is for"
    };
    root.push(Node::field("domain", domain).with_note(tenant_note));
    for (k, v) in msg.query_pairs() {
        let note = match k.as_str() {
            "client-request-id" => "client correlation id; Entra ID logs it as the request id",
            "desktopsso" => "the sign-in page asks for Desktop SSO",
            "isAdalRequest" => "whether an ADAL/MSAL client (not a browser page) asks",
            "sso_nonce" => "a nonce the sign-in page passes through",
            _ => "query parameter",
        };
        root.push(Node::field(k, v).with_note(note));
    }
    let mut mechanism = None;
    if msg.is_request() {
        match msg.header("authorization") {
            Some(auth) => match negotiate_token(auth) {
                Some(tok) => {
                    let mech = negotiate_mechanism(tok);
                    mechanism = Some(mech);
                    root.push(
                        Node::secret("Authorization: Negotiate", tok).with_note(format!(
                            "the client's Kerberos credential ({mech}); the ticket should be for \
                             {AUTOLOGON_SPN}; the token's own decoding shows its realm, \
                             service principal and encryption type"
                        )),
                    );
                    if mech.starts_with("NTLM") {
                        findings.push(Finding::warning(
                            "the client sent NTLM, not Kerberos: Seamless SSO accepts only a \
                             Kerberos ticket for HTTP/autologon.microsoftazuread-sso.com (is the \
                             URL in the browser's intranet zone, and does the client reach a \
                             domain controller?)",
                        ));
                    }
                }
                None => root.push(
                    Node::field("Authorization", auth.split(' ').next().unwrap_or(""))
                        .with_note("not a Negotiate credential: Seamless SSO needs Kerberos"),
                ),
            },
            None if matches!(ep, Endpoint::WindowsTransport) => {
                root.push(Node::text(
                    "credential",
                    "none yet: the host will answer 401 with WWW-Authenticate: Negotiate",
                ));
            }
            None => {}
        }
    } else if challenges_negotiate(msg) {
        let with_token = msg
            .headers_named("www-authenticate")
            .find_map(negotiate_token);
        root.push(match with_token {
            Some(t) => Node::secret("WWW-Authenticate: Negotiate", t)
                .with_note("the server's answer token (mutual authentication, AP-REP)"),
            None => Node::field("WWW-Authenticate", "Negotiate").with_note(
                "the challenge: send a Kerberos ticket for HTTP/autologon.microsoftazuread-sso.com \
                 (SPNEGO) in Authorization: Negotiate",
            ),
        });
    }
    (root, mechanism)
}

/// The autologon WS-Trust endpoints: the request or answer explained by the WS-Trust code,
/// under the Seamless SSO section.
fn trust(
    msg: &Message<'_>,
    cx: &Context<'_>,
    ep: Endpoint,
    domain: &str,
) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let (mut root, mechanism) = head(msg, ep, domain, &mut findings);
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    let xml = text.trim_start();
    let mut summary;
    if xml.starts_with('<') {
        let mut d = explain_xml(xml, "desktopsso", cx, msg.url)?;
        let doc = Document::parse(xml, &cx.limits)?;
        let facts = TrustFacts::read(&doc);
        findings.append(&mut d.findings);
        summary = if msg.is_request() {
            let how = match (ep, &facts.user) {
                (Endpoint::UsernameMixed, Some(u)) => format!("password of {u}"),
                (Endpoint::UsernameMixed, None) => "no UsernameToken".to_string(),
                _ if mechanism.is_some() => "Kerberos ticket".to_string(),
                _ => "no credential yet".to_string(),
            };
            format!("Seamless SSO RST to {} for {domain} ({how})", ep.name())
        } else if let Some(tok) = &facts.token {
            let life = facts
                .lifetime
                .map(|(c, e)| {
                    let secs = u64::try_from(e - c).unwrap_or(0);
                    root.push(
                        Node::field(
                            "DesktopSsoToken lifetime",
                            util::human_duration(std::time::Duration::from_secs(secs)),
                        )
                        .with_note(
                            "from the RSTR's Lifetime: the token must be redeemed before it ends; \
                             it is meant to be redeemed once, at once",
                        ),
                    );
                    format!(
                        ", valid {}",
                        util::human_duration(std::time::Duration::from_secs(secs))
                    )
                })
                .unwrap_or_default();
            format!(
                "Seamless SSO: DesktopSsoToken issued ({} chars{life})",
                tok.chars().count()
            )
        } else if let Some(err) = &facts.error {
            let code = crate::aadsts::aadsts_code(err);
            let meaning = code.and_then(crate::aadsts::aadsts_meaning);
            let mut n = Node::leaf("psf:text", err.clone(), Kind::Error)
                .with_note("the reason Entra ID gives inside the fault's psf:error detail");
            if let Some(c) = code {
                n.push(
                    Node::field("AADSTS", c.to_string())
                        .with_note(meaning.unwrap_or("not in idscope's table")),
                );
            }
            root.push(n);
            let first = err.lines().next().unwrap_or("").trim();
            findings.push(Finding::error(format!(
                "Seamless SSO refused: {first}{}",
                meaning.map(|m| format!(" ({m})")).unwrap_or_default()
            )));
            format!("Seamless SSO refused: {}", util::clip(first, 80))
        } else {
            d.summary.clone()
        };
        root.push(d.root);
    } else if msg.is_response() && challenges_negotiate(msg) {
        summary = "Seamless SSO: 401 Negotiate challenge (send a Kerberos ticket)".to_string();
    } else if xml.is_empty() {
        summary = format!("Seamless SSO {} with an empty body", ep.name());
    } else {
        root.push(Node::text("body", util::ellipsize(xml, 200)));
        summary = format!("Seamless SSO {}: not a WS-Trust message", ep.name());
    }
    if let Some(s) = msg.status
        && s >= 400
        && !summary.contains("challenge")
    {
        summary = format!("HTTP {s}: {summary}");
    }
    let mut d = Decoded::new("desktopsso", summary, root);
    d.findings = findings;
    Ok(d)
}

/// What the WS-Trust document says that the Seamless SSO section repeats.
#[derive(Debug, Default)]
struct TrustFacts {
    user: Option<String>,
    token: Option<String>,
    lifetime: Option<(i64, i64)>,
    error: Option<String>,
}

impl TrustFacts {
    fn read(doc: &Document<'_>) -> Self {
        let mut f = TrustFacts::default();
        let Some(root) = doc.root() else { return f };
        f.user = doc
            .find_descendant(root, super::WSSE_NS, "Username")
            .map(|u| doc.text_content(u).trim().to_string());
        f.token = doc
            .find_descendant(root, "", TOKEN_ELEMENT)
            .map(|t| doc.text_content(t).trim().to_string());
        if let Some(l) = doc.find_descendant(root, WST_2005, "Lifetime") {
            let instant = |local| {
                doc.find_child(l, WSU_NS, local)
                    .and_then(|c| super::parse_instant(&doc.text_content(c)))
            };
            if let (Some(c), Some(e)) = (instant("Created"), instant("Expires")) {
                f.lifetime = Some((c, e));
            }
        }
        let fault = [SOAP12_NS, SOAP11_NS]
            .iter()
            .find_map(|ns| doc.find_descendant(root, ns, "Fault"));
        if let Some(fault) = fault {
            f.error = doc
                .find_descendant(fault, PSF_NS, "text")
                .map(|t| doc.text_content(t).trim().to_string())
                .filter(|t| !t.is_empty());
        }
        f
    }
}

/// `/winauth/sso` and `/winauth/ssoprobe`: the browser's Kerberos exchange.
fn browser(msg: &Message<'_>, ep: Endpoint, tenant: &str) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let (mut root, mechanism) = head(msg, ep, tenant, &mut findings);
    let summary = if msg.is_request() {
        match mechanism {
            Some(m) if m.starts_with("NTLM") => {
                format!("Seamless SSO {} with NTLM (Kerberos needed)", ep.name())
            }
            Some(_) => format!("Seamless SSO {} with a Kerberos ticket", ep.name()),
            None => format!("Seamless SSO {} (no credential yet)", ep.name()),
        }
    } else {
        let status = msg.status.unwrap_or(0);
        let body = msg.text().unwrap_or("").trim();
        if status == 401 && challenges_negotiate(msg) {
            format!("Seamless SSO {}: 401 Negotiate challenge", ep.name())
        } else if (200..300).contains(&status) && ep == Endpoint::Sso && !body.is_empty() {
            if body.starts_with('<') {
                root.push(Node::text("body", util::ellipsize(body, 200)));
                "Seamless SSO sso: an HTML or XML answer, not a DesktopSsoToken".to_string()
            } else {
                root.push(Node::secret(TOKEN_ELEMENT, body).with_note(TOKEN_NOTE));
                format!(
                    "Seamless SSO: DesktopSsoToken issued to the browser ({} chars)",
                    body.chars().count()
                )
            }
        } else if (200..300).contains(&status) {
            format!("Seamless SSO {}: HTTP {status}", ep.name())
        } else {
            findings.push(Finding::error(format!(
                "Seamless SSO {} answered HTTP {status}: the browser falls back to the password \
                 prompt",
                ep.name()
            )));
            format!("HTTP {status}: Seamless SSO {} refused", ep.name())
        }
    };
    let mut d = Decoded::new("desktopsso", summary, root);
    d.findings = findings;
    Ok(d)
}

/// The sign-in page's POST that hands the token from `/winauth/sso` on as `dssoToken`.
fn login_post(msg: &Message<'_>) -> Result<Decoded, DecodeError> {
    let form = util::parse_form(msg.body);
    let token = form
        .iter()
        .find(|(k, _)| k == "dssoToken")
        .map(|(_, v)| v.clone())
        .ok_or(DecodeError::Missing("dssoToken"))?;
    let mut root = Node::section("Seamless SSO").with_note(
        "the sign-in page posts the DesktopSsoToken it got from autologon's /winauth/sso; Entra \
         ID signs the user in with it instead of a password",
    );
    root.value = Some("sign-in POST".into());
    root.push(Node::field("endpoint", msg.path()));
    root.push(Node::secret("dssoToken", token.clone()).with_note(TOKEN_NOTE));
    let mut user = None;
    for (k, v) in &form {
        if k == "dssoToken" {
            continue;
        }
        if matches!(k.as_str(), "login" | "loginfmt") {
            user.get_or_insert_with(|| v.clone());
        }
        root.push(if crate::secrets::is_secret_name(k) {
            Node::secret(k.clone(), v.clone())
        } else {
            Node::field(k.clone(), v.clone())
        });
    }
    let summary = format!(
        "Seamless SSO: sign-in POST with the DesktopSsoToken{}",
        user.map(|u| format!(" for {u}")).unwrap_or_default()
    );
    Ok(Decoded::new("desktopsso", summary, root))
}

/// True when `el` is the unsigned `saml:Assertion` wrapper of a `DesktopSsoToken`: a SAML 1.1
/// `Assertion` whose only child element is `DesktopSsoToken` in no namespace.
pub fn is_wrapper(doc: &Document<'_>, el: NodeId) -> bool {
    doc.is(el, SAML1_NS, "Assertion") && {
        let mut kids = doc.child_elements(el);
        matches!(
            (kids.next(), kids.next()),
            (Some(k), None) if doc.is(k, "", TOKEN_ELEMENT)
        )
    }
}

/// Explains the wrapper ([`is_wrapper`]): the token, what it is for, and that the wrapper is
/// not a SAML assertion to verify.
pub fn explain_wrapper(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    let token = doc
        .child_elements(el)
        .next()
        .map(|t| doc.text_content(t).trim().to_string())
        .unwrap_or_default();
    let mut root = Node::section(doc.qname(el)).with_note(
        "Seamless SSO wrapper, not a SAML assertion: an unsigned SAML 1.1 Assertion element that \
         only carries the DesktopSsoToken (no issuer, conditions or signature to check); Entra \
         ID returns it in the RSTR, and clients pass it base64-encoded as the assertion of the \
         saml1_1-bearer grant",
    );
    root.value = Some("DesktopSsoToken wrapper".into());
    let summary = if token.is_empty() {
        ex.findings.push(
            Finding::error("the DesktopSsoToken wrapper holds an empty token").at(doc.path(el)),
        );
        root.push(Node::leaf(TOKEN_ELEMENT, "empty", Kind::Error));
        "Seamless SSO DesktopSsoToken wrapper (empty token)".to_string()
    } else {
        let n = token.chars().count();
        root.push(Node::secret(TOKEN_ELEMENT, token).with_note(TOKEN_NOTE));
        format!("Seamless SSO DesktopSsoToken ({n} chars)")
    };
    Explained {
        node: root,
        summary,
    }
}

/// The `DesktopSsoToken` inside a `saml1_1-bearer` assertion (standard base64 of the wrapper),
/// if it is one: how the OAuth decoder names a Seamless SSO redemption.
pub fn wrapped_token(assertion_b64: &str) -> Option<String> {
    let xml = util::b64_decode_any(assertion_b64.trim(), 1 << 20)?;
    let text = std::str::from_utf8(&xml).ok()?;
    if !text.contains(TOKEN_ELEMENT) {
        return None;
    }
    let doc = Document::parse(text.trim_start(), &crate::Limits::default()).ok()?;
    let root = doc.root()?;
    is_wrapper(&doc, root).then(|| {
        doc.child_elements(root)
            .next()
            .map(|t| doc.text_content(t).trim().to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests;
