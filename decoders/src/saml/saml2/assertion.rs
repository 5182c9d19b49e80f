//! The SAML 2.0 `saml:Assertion`: conditions, subject and confirmation, authentication and
//! attribute statements, and the claims a decoder shows from them.
//!
//! Not responsible for encrypted assertions, identifiers and attributes (see [`super::encrypted`];
//! what a key opened is explained here as if it had been sent in clear) or the protocol message
//! around an assertion (see [`super::protocol`]).

use super::encrypted::{encrypted_node, opened_node};
use crate::saml::{
    Claims, Explained, Explainer, attribute_node, attributes_section, auth_method_note,
    confirmation_note, max_attributes, name_id_format_note,
};
use crate::view::{Finding, Node};
use crate::xml::{NodeId, SAML2_NS};

/// Explains a SAML 2.0 `saml:Assertion`; findings go to `ex`.
pub fn explain_assertion(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    let at = doc.path(el);
    let mut root = Node::section(doc.qname(el)).with_note("SAML 2.0 assertion");
    root.value = Some(format!(
        "SAML {}",
        doc.attribute(el, "Version")
            .unwrap_or("2.0 (no Version attribute)")
    ));
    if let Some(id) = doc.attribute(el, "ID") {
        root.push(Node::field("ID", id).with_note("the ID the signature Reference points to"));
    }
    if let Some(ii) = doc.attribute(el, "IssueInstant") {
        root.push(ex.instant("IssueInstant", ii).0);
    }
    if let Some(i) = doc.find_child(el, SAML2_NS, "Issuer") {
        root.push(
            Node::field("Issuer", doc.text_content(i).trim())
                .with_note("the IdP; must equal the federated domain's IssuerUri in Entra ID"),
        );
    }
    let (sigs, short) = ex.signatures_of(el, "the SAML 2.0 assertion");
    let mut claims = Claims::default();
    if let Some(s) = doc.find_child(el, SAML2_NS, "Subject") {
        root.push(subject_node(ex, s, &mut claims));
    }
    let mut state = None;
    if let Some(c) = doc.find_child(el, SAML2_NS, "Conditions") {
        let (mut cond, window, audiences) = ex.conditions(c, SAML2_NS, "AudienceRestriction", &at);
        state = window;
        if doc.find_child(c, SAML2_NS, "OneTimeUse").is_some() {
            cond.push(Node::text(
                "OneTimeUse",
                "the assertion must not be cached or reused",
            ));
        }
        ex.check_login_srf_audience(&audiences, &format!("{at}/saml:Conditions"));
        root.push(cond);
    } else {
        ex.findings.push(
            Finding::warning("the assertion has no Conditions: no validity window, no audience")
                .at(at.clone()),
        );
    }
    let mut attr_nodes = Vec::new();
    let mut total = 0;
    for st in doc.find_children(el, SAML2_NS, "AttributeStatement") {
        for a in doc.find_children(st, SAML2_NS, "Attribute") {
            total += 1;
            if attr_nodes.len() >= max_attributes() {
                continue;
            }
            let name = doc.attribute(a, "Name").unwrap_or("");
            let values: Vec<String> = doc
                .find_children(a, SAML2_NS, "AttributeValue")
                .map(|v| doc.text_content(v))
                .collect();
            for v in &values {
                claims.record(name, v);
            }
            let mut n = attribute_node(name, &values);
            if let Some(f) = doc.attribute(a, "FriendlyName") {
                n.push(Node::field("FriendlyName", f));
            }
            if let Some(f) = doc.attribute(a, "NameFormat") {
                n.push(Node::field("NameFormat", f));
            }
            attr_nodes.push(opened_node(ex, a, n));
        }
        for e in doc.find_children(st, SAML2_NS, "EncryptedAttribute") {
            total += 1;
            attr_nodes.push(encrypted_node(ex, e, "EncryptedAttribute"));
        }
    }
    if total > 0 {
        root.push(attributes_section("attributes", attr_nodes, total));
    }
    for st in doc.find_children(el, SAML2_NS, "AuthnStatement") {
        let mut n = Node::section("AuthnStatement");
        if let Some(i) = doc.attribute(st, "AuthnInstant") {
            n.push(ex.instant("AuthnInstant", i).0);
        }
        if let Some(s) = doc.attribute(st, "SessionIndex") {
            n.push(Node::field("SessionIndex", s).with_note("the IdP session, for single logout"));
        }
        if let Some(s) = doc.attribute(st, "SessionNotOnOrAfter") {
            n.push(ex.instant("SessionNotOnOrAfter", s).0);
        }
        for r in doc.find_descendants(st, SAML2_NS, "AuthnContextClassRef") {
            let v = doc.text_content(r).trim().to_string();
            if v.ends_with("/multipleauthn") {
                claims.mfa = true;
            }
            n.push(Node::field("AuthnContextClassRef", v.clone()).with_note(auth_method_note(&v)));
        }
        root.push(n);
    }
    if claims.mfa {
        ex.findings.push(
            Finding::info(
                "the IdP says the user did MFA (multipleauthn): Entra ID accepts it when \
                 federatedIdpMfaBehavior allows",
            )
            .at(at.clone()),
        );
    }
    root.children.extend(sigs);
    Explained::assertion("2.0", root, &claims, short, state)
}

fn subject_node(ex: &mut Explainer<'_, '_>, s: NodeId, claims: &mut Claims) -> Node {
    let doc = ex.doc;
    let mut n = Node::section("Subject");
    if let Some(ni) = doc.find_child(s, SAML2_NS, "NameID") {
        let v = doc.text_content(ni).trim().to_string();
        let mut node = Node::field("NameID", v.clone())
            .with_note("the subject; for Entra ID SAML-P federation it must be the ImmutableID");
        if let Some(f) = doc.attribute(ni, "Format") {
            node.push(Node::field("Format", f).with_note(name_id_format_note(f)));
        }
        if let Some(g) = crate::saml::immutable_id_guid(&v) {
            node.push(Node::field("objectGUID", g).with_note(
                "the GUID this base64 value encodes (.NET order): the on-premises objectGUID",
            ));
        }
        for q in ["NameQualifier", "SPNameQualifier"] {
            if let Some(v) = doc.attribute(ni, q) {
                node.push(Node::field(q, v));
            }
        }
        claims.name_id = Some(v);
        n.push(opened_node(ex, ni, node));
    } else if let Some(e) = doc.find_child(s, SAML2_NS, "EncryptedID") {
        n.push(encrypted_node(ex, e, "EncryptedID"));
    }
    for sc in doc.find_children(s, SAML2_NS, "SubjectConfirmation") {
        let method = doc.attribute(sc, "Method").unwrap_or("");
        let mut c = Node::field("SubjectConfirmation", method).with_note(confirmation_note(method));
        if let Some(d) = doc.find_child(sc, SAML2_NS, "SubjectConfirmationData") {
            if let Some(v) = doc.attribute(d, "InResponseTo") {
                c.push(Node::field("InResponseTo", v).with_note("the AuthnRequest ID it answers"));
            }
            if let Some(v) = doc.attribute(d, "NotBefore") {
                c.push(ex.instant("NotBefore", v).0);
            }
            if let Some(v) = doc.attribute(d, "NotOnOrAfter") {
                let (node, secs) = ex.instant("NotOnOrAfter", v);
                c.push(node.with_note("the bearer assertion must be delivered before this"));
                ex.check_window(None, secs, "the subject confirmation", &doc.path(d));
            }
            if let Some(v) = doc.attribute(d, "Recipient") {
                c.push(Node::field("Recipient", v).with_note("the ACS URL it must be posted to"));
                if let Some(dest) = ex.destination.as_deref()
                    && strip_query(dest) != strip_query(v)
                {
                    ex.findings.push(
                        Finding::warning(format!(
                            "SubjectConfirmationData Recipient {v} differs from where the \
                             assertion is sent ({dest})"
                        ))
                        .at(doc.path(d)),
                    );
                }
            }
            if let Some(v) = doc.attribute(d, "Address") {
                c.push(Node::field("Address", v).with_note("the client address the IdP saw"));
            }
        }
        n.push(c);
    }
    n
}

pub(super) fn strip_query(u: &str) -> &str {
    u.split(['?', '#'])
        .next()
        .unwrap_or(u)
        .trim_end_matches('/')
}
