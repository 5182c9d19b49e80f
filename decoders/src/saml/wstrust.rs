//! WS-Trust active profile as ADFS speaks it (`/adfs/services/trust/2005/usernamemixed`,
//! `/trust/13/usernamemixed`, …): `RequestSecurityToken` requests with their WS-Security
//! `UsernameToken` (the password is a secret and a finding), and `RequestSecurityTokenResponse`
//! (2005) / `RequestSecurityTokenResponseCollection` (1.3) answers whose `RequestedSecurityToken`
//! is explained by the SAML code; SOAP faults (ADFS answers HTTP 500 for a wrong password) are
//! error findings. The [`WsTrust`] decoder is a thin adapter over [`explain_message`].
//!
//! The SOAP 1.1/1.2 envelope is read here with the XML tree directly (a generic SOAP envelope
//! decoder lives elsewhere). Not responsible for MEX (see [`super::metadata`]) or for the
//! SAML-bearer grant that follows (the `oauth` decoder).

use super::{
    Explained, Explainer, SOAP11_NS, SOAP12_NS, WSA_2004, WSA_NS, WSP_15, WSP_2004, WSSE_NS,
    WST_13, WST_2005, WSU_NS, contains, contains_ci, explain_element, explain_xml,
};
use crate::view::{Finding, Kind, Node};
use crate::xml::{NodeId, SAML1_NS, SAML2_NS};
use crate::{Context, DecodeError, Decoded, Message};

/// The WS-Trust version a message uses, from its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `http://schemas.xmlsoap.org/ws/2005/02/trust` (ADFS `/trust/2005/…`).
    Feb2005,
    /// `http://docs.oasis-open.org/ws-sx/ws-trust/200512` (WS-Trust 1.3, ADFS `/trust/13/…`).
    V13,
}

impl Version {
    /// The version of a namespace URI, if it is a WS-Trust one.
    pub fn from_ns(ns: &str) -> Option<Version> {
        match ns {
            WST_2005 => Some(Version::Feb2005),
            WST_13 => Some(Version::V13),
            _ => None,
        }
    }

    /// `"WS-Trust 2005"` or `"WS-Trust 1.3"`.
    pub fn name(self) -> &'static str {
        match self {
            Version::Feb2005 => "WS-Trust 2005",
            Version::V13 => "WS-Trust 1.3",
        }
    }

    fn ns(self) -> &'static str {
        match self {
            Version::Feb2005 => WST_2005,
            Version::V13 => WST_13,
        }
    }
}

fn action_note(action: &str) -> &'static str {
    match action {
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue" => {
            "WS-Trust 1.3 issue request"
        }
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal" => {
            "WS-Trust 1.3 issue response (collection)"
        }
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTR/Issue" => {
            "WS-Trust 1.3 issue response"
        }
        "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue" => "WS-Trust 2005 issue request",
        "http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue" => "WS-Trust 2005 issue response",
        "http://www.w3.org/2005/08/addressing/soap/fault" => "a SOAP fault",
        _ => "not a well-known action",
    }
}

fn key_type_note(v: &str) -> &'static str {
    match v {
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer" => {
            "bearer token: no proof key (what Entra ID's SAML-bearer grant needs)"
        }
        "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey" => {
            "no proof key (the 2005 spelling of a bearer token)"
        }
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/PublicKey"
        | "http://schemas.xmlsoap.org/ws/2005/02/trust/PublicKey" => {
            "holder-of-key with an asymmetric proof key"
        }
        "http://docs.oasis-open.org/ws-sx/ws-trust/200512/SymmetricKey"
        | "http://schemas.xmlsoap.org/ws/2005/02/trust/SymmetricKey" => {
            "holder-of-key with a symmetric proof key"
        }
        _ => "not a well-known key type",
    }
}

fn request_type_note(v: &str) -> &'static str {
    match v.rsplit('/').next().unwrap_or("") {
        "Issue" => "issue a new token",
        "Renew" => "renew a token",
        "Validate" => "validate a token",
        "Cancel" => "cancel a token",
        _ => "not a well-known request type",
    }
}

fn token_type_note(v: &str) -> &'static str {
    match v {
        "urn:oasis:names:tc:SAML:1.0:assertion"
        | "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV1.1" => {
            "SAML 1.1 assertion (what Entra ID's saml1_1-bearer grant takes)"
        }
        "urn:oasis:names:tc:SAML:2.0:assertion"
        | "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0" => {
            "SAML 2.0 assertion (for the saml2-bearer grant)"
        }
        "urn:ietf:params:oauth:token-type:jwt" => "JWT",
        _ => "not a well-known token type",
    }
}

fn fault_note(code: &str) -> &'static str {
    match code.rsplit(':').next().unwrap_or(code) {
        "FailedAuthentication" => {
            "ADFS: the user name or password is wrong, the account is locked or disabled, or \
             the user is unknown (ADFS answers HTTP 500 even for a bad password)"
        }
        "InvalidSecurity" => {
            "the WS-Security header is wrong: expired or missing Timestamp, clock skew, or an \
             unsupported token"
        }
        "InvalidSecurityToken" => "the security token is invalid",
        "MessageExpired" => "the Timestamp has expired (clock skew?)",
        "RequestFailed" => "ADFS could not issue a token (relying party trust, claim rules, …)",
        "InvalidRequest" => "the request is malformed",
        "Sender" | "Client" => "the request was wrong (sender fault)",
        "Receiver" | "Server" => "the server failed (receiver fault)",
        "DestinationUnreachable" => "no endpoint at this address (wrong wsa:To or path)",
        "ActionNotSupported" => "the wsa:Action is not supported by this endpoint",
        _ => "not a well-known fault code",
    }
}

decoder! {
    /// The WS-Trust decoder (`wstrust`): RST/RSTR/RSTRC bodies and SOAP faults of the ADFS trust
    /// endpoints, and bare RSTRs (a `wresult`).
    pub struct WsTrust: "wstrust";
}

fn priority(msg: &Message<'_>) -> f32 {
    let head = msg.body.get(..16384).unwrap_or(msg.body);
    let trimmed = head.trim_ascii_start();
    let trimmed = trimmed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(trimmed);
    if !trimmed.starts_with(b"<")
        || contains_ci(head, b"<html")
        || contains_ci(head, b"<form")
        || contains(head, b"http://schemas.xmlsoap.org/wsdl/")
    {
        return 0.0;
    }
    let path = msg.path().to_ascii_lowercase();
    if path.ends_with("/mex") || super::desktopsso::is_autologon(msg) {
        return 0.0;
    }
    if contains(head, WST_2005.as_bytes()) || contains(head, WST_13.as_bytes()) {
        return 0.95;
    }
    if path.contains("/services/trust/") || path.contains("/winauth/trust/") {
        return 0.9;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "WS-Trust body")?;
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    let mut d = explain_xml(text.trim_start(), "wstrust", cx, None)?;
    if let Some(action) = msg.header("soapaction") {
        let action = action.trim_matches('"');
        let in_envelope = d.root.find_path("wsa:Action").and_then(|n| n.value.clone());
        if let Some(wsa) = in_envelope
            && wsa != action
        {
            d.findings.push(Finding::warning(format!(
                "the SOAPAction header {action} differs from wsa:Action {wsa}: ADFS \
                 dispatches on wsa:Action"
            )));
        }
        d.root.children.insert(
            0,
            Node::field("SOAPAction header", action).with_note(action_note(action)),
        );
    }
    if let Some(s) = msg.status
        && s >= 400
    {
        d.summary = format!("HTTP {s}: {}", d.summary);
    }
    Ok(d)
}

/// Explains a WS-Trust message: a SOAP envelope (1.1 or 1.2) holding an RST, RSTR, RSTRC or a
/// fault, or one of those elements on its own (a WS-Fed `wresult`).
pub fn explain_message(ex: &mut Explainer<'_, '_>, el: NodeId) -> Result<Explained, DecodeError> {
    let doc = ex.doc;
    let ns = doc.namespace(el);
    if (ns == SOAP12_NS || ns == SOAP11_NS) && doc.local_name(el) == "Envelope" {
        let soap = if ns == SOAP12_NS {
            "SOAP 1.2"
        } else {
            "SOAP 1.1"
        };
        let mut root = Node::section(doc.qname(el)).with_note(format!("{soap} envelope"));
        let mut user = None;
        if let Some(h) = doc.find_child(el, ns, "Header") {
            let (node, u) = header(ex, h);
            user = u;
            root.push(node);
        }
        let body = doc
            .find_child(el, ns, "Body")
            .ok_or(DecodeError::Missing("soap:Body"))?;
        let Some(first) = doc.child_elements(body).next() else {
            root.push(Node::text("Body", "(empty)"));
            return Ok(Explained {
                node: root,
                summary: format!("{soap} message with an empty Body"),
            });
        };
        let mut e = if doc.local_name(first) == "Fault" && doc.namespace(first) == ns {
            fault(ex, first, ns)
        } else {
            body_element(ex, first)?
        };
        if let Some(u) = user {
            e.summary = e.summary.replacen(" RST", &format!(" RST for {u}"), 1);
        }
        root.push(Node::section(doc.qname(body)).with_child(e.node));
        return Ok(Explained {
            node: root,
            summary: e.summary,
        });
    }
    body_element(ex, el)
}

fn body_element(ex: &mut Explainer<'_, '_>, el: NodeId) -> Result<Explained, DecodeError> {
    let doc = ex.doc;
    let Some(v) = Version::from_ns(doc.namespace(el)) else {
        let e = explain_element(ex, el)?;
        return Ok(e);
    };
    match doc.local_name(el) {
        "RequestSecurityToken" => Ok(rst(ex, el, v)),
        "RequestSecurityTokenResponse" => Ok(rstr(ex, el, v, "RSTR")),
        "RequestSecurityTokenResponseCollection" => {
            let mut root = Node::section(doc.qname(el))
                .with_note(format!("{}: a collection of responses (RSTRC)", v.name()));
            let mut summary = format!("{} RSTRC (empty)", v.name());
            for (i, r) in doc
                .find_children(el, v.ns(), "RequestSecurityTokenResponse")
                .enumerate()
            {
                let e = rstr(ex, r, v, "RSTRC");
                if i == 0 {
                    summary = e.summary;
                }
                root.push(e.node);
            }
            Ok(Explained {
                node: root,
                summary,
            })
        }
        other => Err(DecodeError::not(
            "a WS-Trust message",
            format!("unexpected {} element {other}", v.name()),
        )),
    }
}

fn addressing(doc: &crate::xml::Document<'_>, el: NodeId) -> Option<String> {
    [WSA_NS, WSA_2004].iter().find_map(|ns| {
        doc.find_descendant(el, ns, "Address")
            .map(|a| doc.text_content(a).trim().to_string())
    })
}

fn header(ex: &mut Explainer<'_, '_>, h: NodeId) -> (Node, Option<String>) {
    let doc = ex.doc;
    let mut n = Node::section(doc.qname(h));
    let mut user = None;
    for c in doc.child_elements(h) {
        let cns = doc.namespace(c);
        let local = doc.local_name(c);
        if cns == WSA_NS || cns == WSA_2004 {
            match local {
                "Action" => {
                    let v = doc.text_content(c).trim().to_string();
                    n.push(Node::field("wsa:Action", v.clone()).with_note(action_note(&v)));
                }
                "ReplyTo" | "FaultTo" | "From" => {
                    let a = addressing(doc, c).unwrap_or_default();
                    let note = if a.ends_with("/anonymous") {
                        "anonymous: reply on the same HTTP connection"
                    } else {
                        "where replies go"
                    };
                    n.push(Node::field(format!("wsa:{local}"), a).with_note(note));
                }
                _ => n.push(Node::field(
                    format!("wsa:{local}"),
                    doc.text_content(c).trim(),
                )),
            }
        } else if cns == WSSE_NS && local == "Security" {
            let (s, u) = security(ex, c);
            user = u;
            n.push(s);
        } else {
            n.push(Node::field(
                doc.qname(c),
                crate::util::ellipsize(doc.text_content(c).trim(), 200),
            ));
        }
    }
    (n, user)
}

fn security(ex: &mut Explainer<'_, '_>, s: NodeId) -> (Node, Option<String>) {
    let doc = ex.doc;
    let mut n = Node::section("wsse:Security").with_note("WS-Security header");
    let mut user = None;
    if let Some(ts) = doc.find_child(s, WSU_NS, "Timestamp") {
        let mut t = Node::section("wsu:Timestamp")
            .with_note("message freshness; ADFS rejects an expired one (InvalidSecurity)");
        let created = doc
            .find_child(ts, WSU_NS, "Created")
            .map(|c| ex.instant("Created", doc.text_content(c).trim()));
        let expires = doc
            .find_child(ts, WSU_NS, "Expires")
            .map(|c| ex.instant("Expires", doc.text_content(c).trim()));
        let exp = expires.as_ref().and_then(|x| x.1);
        t.children.extend(created.map(|x| x.0));
        t.children.extend(expires.map(|x| x.0));
        ex.check_window(None, exp, "the WS-Security Timestamp", &doc.path(ts));
        n.push(t);
    }
    for ut in doc.find_children(s, WSSE_NS, "UsernameToken") {
        let mut u = Node::section("wsse:UsernameToken")
            .with_note("usernamemixed: the user's name and password for ADFS to check against AD");
        if let Some(name) = doc.find_child(ut, WSSE_NS, "Username") {
            let v = doc.text_content(name).trim().to_string();
            u.push(Node::field("Username", v.clone()));
            user = Some(v);
        }
        if let Some(pw) = doc.find_child(ut, WSSE_NS, "Password") {
            let v = doc.text_content(pw);
            let ty = doc.attribute(pw, "Type").unwrap_or("");
            let digest = ty.ends_with("#PasswordDigest");
            u.push(Node::secret("Password", v.clone()).with_note(if digest {
                format!("password digest ({} chars)", v.chars().count())
            } else {
                format!(
                    "the user's password, in clear ({} chars)",
                    v.chars().count()
                )
            }));
            if !digest {
                ex.findings.push(
                    Finding::warning(format!(
                        "password in clear inside the SOAP message over TLS: the \
                         wsse:UsernameToken of {} carries it as PasswordText",
                        user.as_deref().unwrap_or("(no user name)")
                    ))
                    .at(doc.path(pw)),
                );
            }
        }
        for extra in ["Nonce", "Created"] {
            if let Some(x) = doc
                .find_child(ut, WSSE_NS, extra)
                .or_else(|| doc.find_child(ut, WSU_NS, extra))
            {
                let v = doc.text_content(x).trim().to_string();
                u.push(if extra == "Nonce" {
                    Node::secret("Nonce", v)
                } else {
                    Node::field("Created", v)
                });
            }
        }
        n.push(u);
    }
    for bst in doc.find_children(s, WSSE_NS, "BinarySecurityToken") {
        let vt = doc.attribute(bst, "ValueType").unwrap_or("");
        n.push(binary_token(ex, bst, "BinarySecurityToken", vt));
    }
    (n, user)
}

/// A binary token (a `BinaryExchange` of SPNEGO, a Kerberos `BinarySecurityToken`): a secret,
/// with what it carries decoded one level deeper.
fn binary_token(ex: &mut Explainer<'_, '_>, el: NodeId, label: &str, value_type: &str) -> Node {
    let text = ex.doc.text_content(el).trim().to_string();
    let mut n = Node::secret(label, text.clone()).with_note(format!("ValueType {value_type}"));
    if let Some(d) = ex.cx.decode_nested(text.as_bytes()) {
        let path = ex.doc.path(el);
        crate::generic::nested::attach_nested(&mut n, d, &path, &mut ex.findings);
    }
    n
}

fn applies_to(ex: &Explainer<'_, '_>, el: NodeId) -> Option<(Node, String)> {
    let doc = ex.doc;
    let at = doc
        .find_child(el, WSP_2004, "AppliesTo")
        .or_else(|| doc.find_child(el, WSP_15, "AppliesTo"))?;
    let addr = addressing(doc, at).unwrap_or_else(|| doc.text_content(at).trim().to_string());
    let note = if addr == super::MICROSOFT_ONLINE {
        "the relying party: Entra ID (Microsoft Online)"
    } else {
        "the relying party the token is for"
    };
    Some((Node::field("AppliesTo", addr.clone()).with_note(note), addr))
}

fn simple_fields(ex: &Explainer<'_, '_>, el: NodeId, v: Version, node: &mut Node) {
    let doc = ex.doc;
    for (local, explain) in [
        ("TokenType", token_type_note as fn(&str) -> &'static str),
        ("RequestType", request_type_note),
        ("KeyType", key_type_note),
    ] {
        if let Some(c) = doc.find_child(el, v.ns(), local) {
            let val = doc.text_content(c).trim().to_string();
            node.push(Node::field(local, val.clone()).with_note(explain(&val)));
        }
    }
}

fn rst(ex: &mut Explainer<'_, '_>, el: NodeId, v: Version) -> Explained {
    let doc = ex.doc;
    let mut n = Node::section(doc.qname(el)).with_note(format!(
        "{}: a request for a security token (RST)",
        v.name()
    ));
    let target = applies_to(ex, el).map(|(node, addr)| {
        n.push(node);
        addr
    });
    simple_fields(ex, el, v, &mut n);
    for c in doc.child_elements(el) {
        let local = doc.local_name(c);
        if local == "BinaryExchange" {
            let vt = doc.attribute(c, "ValueType").unwrap_or("");
            n.push(binary_token(ex, c, "BinaryExchange", vt));
        } else if !matches!(local, "AppliesTo" | "TokenType" | "RequestType" | "KeyType") {
            n.push(Node::field(
                doc.qname(c),
                crate::util::ellipsize(doc.text_content(c).trim(), 200),
            ));
        }
    }
    Explained {
        node: n,
        summary: format!(
            "{} RST → {}",
            v.name(),
            target.as_deref().unwrap_or("(no AppliesTo)")
        ),
    }
}

fn rstr(ex: &mut Explainer<'_, '_>, el: NodeId, v: Version, what: &str) -> Explained {
    let doc = ex.doc;
    let mut n = Node::section(doc.qname(el)).with_note(format!(
        "{}: the response carrying the issued token (RSTR)",
        v.name()
    ));
    if let Some(l) = doc.find_child(el, v.ns(), "Lifetime") {
        let mut ln = Node::section("Lifetime").with_note("the issued token's lifetime");
        let created = doc
            .find_child(l, WSU_NS, "Created")
            .map(|c| ex.instant("Created", doc.text_content(c).trim()));
        let expires = doc
            .find_child(l, WSU_NS, "Expires")
            .map(|c| ex.instant("Expires", doc.text_content(c).trim()));
        let exp = expires.as_ref().and_then(|x| x.1);
        ln.children.extend(created.map(|x| x.0));
        ln.children.extend(expires.map(|x| x.0));
        ex.check_window(None, exp, "the issued token (RSTR Lifetime)", &doc.path(l));
        n.push(ln);
    }
    if let Some((node, _)) = applies_to(ex, el) {
        n.push(node);
    }
    let mut summary = format!("{} {what}", v.name());
    let mut token_id = None;
    if let Some(rst) = doc.find_child(el, v.ns(), "RequestedSecurityToken") {
        let mut rn = Node::section("RequestedSecurityToken").with_note(
            "the issued token; a client forwards it byte-exactly (re-serialising breaks the \
             signature)",
        );
        match doc.child_elements(rst).next() {
            Some(tok) => {
                token_id = doc
                    .attribute(tok, "AssertionID")
                    .or_else(|| doc.attribute(tok, "ID"))
                    .map(str::to_string);
                rn.value = Some(format!("{} bytes of XML", doc.raw(tok).len()));
                match explain_element(ex, tok) {
                    Ok(e) => {
                        summary = format!("{summary}: {}", e.summary);
                        rn.push(e.node);
                    }
                    Err(e) => rn.push(Node::leaf(doc.qname(tok), e.to_string(), Kind::Error)),
                }
            }
            None => rn.push(Node::leaf("token", "empty", Kind::Error)),
        }
        n.push(rn);
    } else {
        ex.findings
            .push(Finding::warning("the RSTR carries no RequestedSecurityToken").at(doc.path(el)));
    }
    for local in ["RequestedAttachedReference", "RequestedUnattachedReference"] {
        if let Some(r) = doc.find_child(el, v.ns(), local) {
            let mut rn = Node::section(local).with_note(
                "how to refer to the token in later messages (a SecurityTokenReference)",
            );
            if let Some(k) = doc.find_descendant(r, WSSE_NS, "KeyIdentifier") {
                let val = doc.text_content(k).trim().to_string();
                let vt = doc.attribute(k, "ValueType").unwrap_or("");
                let mut kn = Node::field("KeyIdentifier", val.clone());
                kn.push(Node::field("ValueType", vt).with_note(
                    if vt.ends_with("#SAMLAssertionID") {
                        "refers to a SAML 1.1 assertion by its AssertionID"
                    } else if vt.ends_with("#SAMLID") {
                        "refers to a SAML 2.0 assertion by its ID"
                    } else {
                        "not a well-known reference type"
                    },
                ));
                if let Some(id) = &token_id {
                    if *id == val {
                        kn = kn.with_note("matches the issued assertion's ID");
                    } else {
                        ex.findings.push(
                            Finding::warning(format!(
                                "{local} refers to `{val}` but the issued assertion's ID is `{id}`"
                            ))
                            .at(doc.path(k)),
                        );
                    }
                }
                rn.push(kn);
            }
            n.push(rn);
        }
    }
    simple_fields(ex, el, v, &mut n);
    Explained { node: n, summary }
}

fn fault(ex: &mut Explainer<'_, '_>, f: NodeId, ns: &str) -> Explained {
    let doc = ex.doc;
    let mut n = Node::section(doc.qname(f)).with_note("a SOAP fault: the request failed");
    let mut codes = Vec::new();
    let mut reason = String::new();
    if ns == SOAP12_NS {
        let mut cur = doc.find_child(f, ns, "Code");
        while let Some(c) = cur {
            if let Some(v) = doc.find_child(c, ns, "Value") {
                let val = doc.text_content(v).trim().to_string();
                let label = if codes.is_empty() { "Code" } else { "Subcode" };
                n.push(Node::leaf(label, val.clone(), Kind::Error).with_note(fault_note(&val)));
                codes.push(val);
            }
            cur = doc.find_child(c, ns, "Subcode");
            if codes.len() > 8 {
                break;
            }
        }
        if let Some(r) = doc.find_child(f, ns, "Reason") {
            for t in doc.find_children(r, ns, "Text") {
                reason = doc.text_content(t).trim().to_string();
                n.push(Node::field("Reason", reason.clone()));
            }
        }
        if let Some(d) = doc.find_child(f, ns, "Detail") {
            n.push(Node::field(
                "Detail",
                crate::util::ellipsize(doc.text_content(d).trim(), 500),
            ));
        }
    } else {
        for c in doc.child_elements(f) {
            let val = doc.text_content(c).trim().to_string();
            match doc.local_name(c) {
                "faultcode" => {
                    n.push(
                        Node::leaf("faultcode", val.clone(), Kind::Error)
                            .with_note(fault_note(&val)),
                    );
                    codes.push(val);
                }
                "faultstring" => {
                    reason = val.clone();
                    n.push(Node::field("faultstring", val));
                }
                other => n.push(Node::field(
                    other.to_string(),
                    crate::util::ellipsize(&val, 500),
                )),
            }
        }
    }
    let specific = codes.last().cloned().unwrap_or_else(|| "(no code)".into());
    ex.findings.push(
        Finding::error(format!(
            "SOAP fault {specific}: {} — {}",
            if reason.is_empty() {
                "(no reason)"
            } else {
                &reason
            },
            fault_note(&specific)
        ))
        .at(doc.path(f)),
    );
    Explained {
        node: n,
        summary: format!("WS-Trust fault {specific}: {reason}"),
    }
}

/// True when the element is a SAML assertion of either version (for callers that pick the
/// token out of an RSTR).
pub fn is_assertion(doc: &crate::xml::Document<'_>, el: NodeId) -> bool {
    doc.is(el, SAML1_NS, "Assertion") || doc.is(el, SAML2_NS, "Assertion")
}
