//! SAML 2.0 protocol messages (`samlp:Response`, `AuthnRequest`, `LogoutRequest`,
//! `LogoutResponse`): status, destinations, requested bindings and the assertions they carry.
//!
//! Not responsible for how a message travels (see [`super::post`] and [`super::redirect`]) or the
//! assertion itself (see [`super::assertion`]).

use super::assertion::{explain_assertion, strip_query};
use super::encrypted::{encrypted_node, explain_encrypted, opened, opened_node};
use crate::saml::{Explained, Explainer, MICROSOFT_ONLINE, auth_method_note, name_id_format_note};
use crate::view::{Finding, Node};
use crate::xml::{DSIG_NS, NodeId, SAML2_NS, SAMLP_NS};
use crate::{DecodeError, util};

fn status_note(code: &str) -> &'static str {
    match code.rsplit(':').next().unwrap_or("") {
        "Success" => "success",
        "Requester" => "the request was wrong (requester error)",
        "Responder" => "the IdP failed (responder error)",
        "VersionMismatch" => "unsupported SAML version",
        "AuthnFailed" => "authentication failed at the IdP (wrong password, cancelled, …)",
        "InvalidAttrNameOrValue" => "an attribute name or value is invalid",
        "InvalidNameIDPolicy" => "the IdP cannot issue a NameID in the requested format",
        "NoAuthnContext" => "the IdP cannot satisfy the RequestedAuthnContext (e.g. MFA)",
        "NoAvailableIDP" | "NoSupportedIDP" => "no usable identity provider",
        "NoPassive" => "IsPassive was requested but the user must interact",
        "PartialLogout" => "logout did not reach every session participant",
        "RequestDenied" => "the IdP refused the request",
        "RequestUnsupported" => "the request is not supported",
        "UnknownPrincipal" => "the IdP does not know the principal",
        "UnsupportedBinding" => "the binding is not supported",
        _ => "not a standard status code",
    }
}

fn binding_note(uri: &str) -> &'static str {
    match uri.rsplit(':').next().unwrap_or("") {
        "HTTP-POST" => "HTTP-POST: the response comes back as an auto-submitted HTML form",
        "HTTP-Redirect" => "HTTP-Redirect: deflated and base64 in the query string",
        "HTTP-Artifact" => "HTTP-Artifact: a reference resolved over a back channel",
        "SOAP" => "SOAP back channel",
        "PAOS" => "PAOS (enhanced client or proxy)",
        _ => "not a standard binding",
    }
}
/// Explains a SAML 2.0 protocol message (`samlp:*`); findings go to `ex`.
pub fn explain_protocol(ex: &mut Explainer<'_, '_>, el: NodeId) -> Result<Explained, DecodeError> {
    let doc = ex.doc;
    let local = doc.local_name(el);
    let at = doc.path(el);
    let mut root = Node::section(doc.qname(el));
    root.value = Some(format!(
        "SAML {}",
        doc.attribute(el, "Version").unwrap_or("2.0")
    ));
    if let Some(id) = doc.attribute(el, "ID") {
        let mut n = Node::field("ID", id);
        if id.starts_with(|c: char| c.is_ascii_digit()) {
            n = n.with_note("an xs:ID must not start with a digit");
            ex.findings.push(
                Finding::warning(format!(
                    "{local} ID `{id}` starts with a digit: not a valid xs:ID (Entra ID rejects it)"
                ))
                .at(at.clone()),
            );
        }
        root.push(n);
    }
    if let Some(ii) = doc.attribute(el, "IssueInstant") {
        root.push(ex.instant("IssueInstant", ii).0);
    }
    if let Some(d) = doc.attribute(el, "Destination") {
        root.push(Node::field("Destination", d).with_note("where the sender meant it to go"));
        match ex.destination.as_deref() {
            Some(actual) if strip_query(actual) != strip_query(d) => {
                ex.findings.push(
                    Finding::warning(format!(
                        "{local} Destination {d} differs from where it is sent ({actual})"
                    ))
                    .at(at.clone()),
                );
            }
            None => ex.destination = Some(d.to_string()),
            _ => {}
        }
    }
    if let Some(v) = doc.attribute(el, "InResponseTo") {
        root.push(Node::field("InResponseTo", v).with_note("the request ID this answers"));
    }
    let issuer = doc
        .find_child(el, SAML2_NS, "Issuer")
        .map(|i| doc.text_content(i).trim().to_string());
    if let Some(i) = &issuer {
        root.push(
            Node::field("Issuer", i.clone()).with_note(if i == MICROSOFT_ONLINE {
                "Entra ID as the service provider"
            } else {
                "who sent the message"
            }),
        );
    }
    let (sigs, short) = ex.signatures_of(el, &format!("the {local}"));
    let summary = match local {
        "Response" | "LogoutResponse" | "ArtifactResponse" => {
            response(ex, el, &mut root, local, issuer.as_deref(), short.clone())
        }
        "AuthnRequest" => authn_request(ex, el, &mut root, issuer.as_deref()),
        "LogoutRequest" => {
            for a in ["NotOnOrAfter", "Reason"] {
                if let Some(v) = doc.attribute(el, a) {
                    root.push(Node::field(a, v));
                }
            }
            if let Some(n) = doc.find_child(el, SAML2_NS, "NameID") {
                let node = Node::field("NameID", doc.text_content(n).trim());
                root.push(opened_node(ex, n, node));
            } else if let Some(e) = doc.find_child(el, SAML2_NS, "EncryptedID") {
                root.push(encrypted_node(ex, e, "EncryptedID"));
            }
            for s in doc.find_children(el, SAMLP_NS, "SessionIndex") {
                root.push(Node::field("SessionIndex", doc.text_content(s).trim()));
            }
            format!(
                "SAML 2.0 LogoutRequest from {}",
                issuer.as_deref().unwrap_or("(no issuer)")
            )
        }
        other => format!("SAML 2.0 {other}"),
    };
    let summary = match (&short, local) {
        (_, "Response") => summary,
        (Some(s), _) => format!("{summary}, {s}"),
        (None, _) => summary,
    };
    root.children.extend(sigs);
    Ok(Explained {
        node: root,
        summary,
    })
}

fn authn_request(
    ex: &mut Explainer<'_, '_>,
    el: NodeId,
    root: &mut Node,
    issuer: Option<&str>,
) -> String {
    let doc = ex.doc;
    root.note = Some("a service provider asks the IdP to authenticate the user".into());
    if let Some(v) = doc.attribute(el, "AssertionConsumerServiceURL") {
        root.push(
            Node::field("AssertionConsumerServiceURL", v)
                .with_note("where the IdP must post the response (must be registered for the SP)"),
        );
    }
    if let Some(v) = doc.attribute(el, "AssertionConsumerServiceIndex") {
        root.push(Node::field("AssertionConsumerServiceIndex", v));
    }
    if let Some(v) = doc.attribute(el, "ProtocolBinding") {
        root.push(Node::field("ProtocolBinding", v).with_note(binding_note(v)));
    }
    for (a, note) in [
        (
            "ForceAuthn",
            "true: the IdP must authenticate again even with a session",
        ),
        ("IsPassive", "true: the IdP must not interact with the user"),
        ("ProviderName", "the SP's display name"),
        (
            "AttributeConsumingServiceIndex",
            "which attribute set the SP wants",
        ),
    ] {
        if let Some(v) = doc.attribute(el, a) {
            root.push(Node::field(a, v).with_note(note));
        }
    }
    if let Some(p) = doc.find_child(el, SAMLP_NS, "NameIDPolicy") {
        let mut n = Node::section("NameIDPolicy");
        if let Some(f) = doc.attribute(p, "Format") {
            n.push(Node::field("Format", f).with_note(name_id_format_note(f)));
        }
        if let Some(v) = doc.attribute(p, "AllowCreate") {
            n.push(Node::field("AllowCreate", v).with_note("may the IdP create a new identifier"));
        }
        if let Some(v) = doc.attribute(p, "SPNameQualifier") {
            n.push(Node::field("SPNameQualifier", v));
        }
        root.push(n);
    }
    if let Some(r) = doc.find_child(el, SAMLP_NS, "RequestedAuthnContext") {
        let mut n = Node::section("RequestedAuthnContext");
        n.value = Some(format!(
            "Comparison={}",
            doc.attribute(r, "Comparison").unwrap_or("exact (default)")
        ));
        for c in doc.find_children(r, SAML2_NS, "AuthnContextClassRef") {
            let v = doc.text_content(c).trim().to_string();
            n.push(Node::field("AuthnContextClassRef", v.clone()).with_note(auth_method_note(&v)));
        }
        root.push(n);
    }
    if let Some(s) = doc.find_child(el, SAMLP_NS, "Scoping") {
        root.push(Node::field("Scoping", doc.text_content(s).trim()));
    }
    let to = doc
        .attribute(el, "Destination")
        .and_then(util::url_host)
        .map(|h| format!(" to {h}"))
        .unwrap_or_default();
    format!(
        "SAML 2.0 AuthnRequest from {}{to}",
        issuer.unwrap_or("(no issuer)")
    )
}

fn response(
    ex: &mut Explainer<'_, '_>,
    el: NodeId,
    root: &mut Node,
    local: &str,
    issuer: Option<&str>,
    response_sig: Option<String>,
) -> String {
    let doc = ex.doc;
    let at = doc.path(el);
    let mut status_text = String::new();
    if let Some(st) = doc.find_child(el, SAMLP_NS, "Status") {
        let mut n = Node::section("Status");
        let mut code = doc.find_child(st, SAMLP_NS, "StatusCode");
        let mut codes = Vec::new();
        while let Some(c) = code {
            let v = doc.attribute(c, "Value").unwrap_or("");
            codes.push(v.to_string());
            n.push(Node::field("StatusCode", v).with_note(status_note(v)));
            code = doc.find_child(c, SAMLP_NS, "StatusCode");
            if codes.len() > 8 {
                break;
            }
        }
        if let Some(m) = doc.find_child(st, SAMLP_NS, "StatusMessage") {
            n.push(Node::field("StatusMessage", doc.text_content(m).trim()));
        }
        if let Some(d) = doc.find_child(st, SAMLP_NS, "StatusDetail") {
            n.push(Node::field("StatusDetail", doc.text_content(d).trim()));
        }
        let ok = codes.first().is_some_and(|c| c.ends_with(":Success"));
        if !ok {
            let short: Vec<&str> = codes
                .iter()
                .map(|c| c.rsplit(':').next().unwrap_or(c))
                .collect();
            status_text = format!(" status {}", short.join("/"));
            ex.findings.push(
                Finding::error(format!(
                    "{local} status {}: {}",
                    short.join("/"),
                    codes.last().map_or("", |c| status_note(c))
                ))
                .at(format!("{at}/samlp:Status")),
            );
        }
        root.push(n);
    }
    if local != "Response" {
        return format!(
            "SAML 2.0 {local} from {}{status_text}",
            issuer.unwrap_or("(no issuer)")
        );
    }
    let assertions: Vec<NodeId> = doc.find_children(el, SAML2_NS, "Assertion").collect();
    let encrypted: Vec<NodeId> = doc
        .find_children(el, SAML2_NS, "EncryptedAssertion")
        .collect();
    let mut summary = None;
    let mut assertion_signed = false;
    for (i, a) in assertions.iter().enumerate() {
        let signed = doc.find_child(*a, DSIG_NS, "Signature").is_some();
        assertion_signed |= i == 0 && signed;
        let mut e = explain_assertion(ex, *a);
        opened(ex, *a, &mut e);
        if i == 0 {
            ex.wrapping(*a);
            if !signed && response_sig.is_none() {
                ex.findings.push(
                    Finding::error(
                        "the assertion is not signed and neither is the Response: nothing \
                         protects the claims shown",
                    )
                    .at(doc.path(*a)),
                );
                ex.findings.retain(|f| {
                    !(f.severity == crate::Severity::Warning
                        && f.message.contains("carries no XML signature"))
                });
            }
            summary = Some(e.summary.clone());
        }
        root.push(e.node);
    }
    for e in &encrypted {
        let x = explain_encrypted(ex, *e);
        summary.get_or_insert(x.summary);
        root.push(x.node);
    }
    let level = match (response_sig.is_some(), assertion_signed) {
        (true, true) => "Response and Assertion",
        (true, false) => "Response only",
        (false, true) => "Assertion only",
        (false, false) => "neither",
    };
    if !assertions.is_empty() {
        root.push(
            Node::field("signed at", level)
                .with_note("SAML 2.0 lets the IdP sign the Response, the Assertion, or both"),
        );
    }
    let mut s = format!("SAML 2.0 Response from {}", issuer.unwrap_or("(no issuer)"));
    s.push_str(&status_text);
    if let Some(inner) = summary {
        let inner = inner
            .strip_prefix("SAML 2.0 for ")
            .map(|r| format!("for {r}"))
            .unwrap_or(inner);
        s.push_str(&format!(": {inner}"));
    }
    if let Some(rs) = response_sig {
        s.push_str(&format!(" (Response {rs})"));
    }
    s
}
