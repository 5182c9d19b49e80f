//! SAML 1.1 assertions (`urn:oasis:names:tc:SAML:1.0:assertion`), the token ADFS issues to Entra
//! ID in WS-Fed `wresult`s and WS-Trust responses: issuer, conditions and audience, the subject's
//! `NameIdentifier` (the ImmutableID, shown also as the objectGUID it encodes), attributes with
//! their meaning, the authentication statement, and the signature (verified by the shared
//! [`super::Explainer`]). Also the rarely seen SAML 1.x protocol `Response` wrapper.
//!
//! Not responsible for finding the assertion in a message (the WS-Fed, WS-Trust and SAML
//! decoders do that) or for the signature cryptography ([`crate::xml::dsig`]).

use super::{
    Claims, Explained, Explainer, attribute_node, attribute_value_node, attributes_section,
    auth_method_note, confirmation_note, max_attributes, name_id_format_note,
};
use crate::view::{Finding, Kind, Node};
use crate::xml::{NodeId, SAML1_NS};

/// Explains a `saml:Assertion` of SAML 1.1; findings go to `ex`.
pub fn explain_assertion(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    let at = doc.path(el);
    let version = format!(
        "{}.{}",
        doc.attribute(el, "MajorVersion").unwrap_or("?"),
        doc.attribute(el, "MinorVersion").unwrap_or("?")
    );
    let mut root = Node::section(doc.qname(el))
        .with_note("SAML 1.1 assertion: the token ADFS issues to Entra ID (WS-Fed and WS-Trust)");
    root.value = Some(format!("SAML {version}"));
    if let Some(id) = doc.attribute(el, "AssertionID") {
        root.push(Node::field("AssertionID", id).with_note(
            "the ID the signature Reference points to (SAML 1.1 uses AssertionID, not ID)",
        ));
    } else {
        ex.findings
            .push(Finding::error("the SAML 1.1 assertion has no AssertionID").at(at.clone()));
    }
    let issuer = doc.attribute(el, "Issuer").unwrap_or("");
    root.push(Node::field("Issuer", issuer).with_note(
        "must equal the federated domain's IssuerUri in Entra ID (for ADFS: \
         http://<sts>/adfs/services/trust/)",
    ));
    if let Some(ii) = doc.attribute(el, "IssueInstant") {
        root.push(ex.instant("IssueInstant", ii).0);
    }

    let mut claims = Claims::default();
    let mut state = None;
    if let Some(c) = doc.find_child(el, SAML1_NS, "Conditions") {
        let (cond, window, audiences) =
            ex.conditions(c, SAML1_NS, "AudienceRestrictionCondition", &at);
        state = window;
        ex.check_login_srf_audience(&audiences, &at);
        root.push(cond);
    } else {
        ex.findings.push(
            Finding::warning("the assertion has no Conditions: no validity window, no audience")
                .at(at.clone()),
        );
    }

    let mut subject_shown = false;
    let mut attr_nodes = Vec::new();
    let mut attr_total = 0;
    for st in doc.find_children(el, SAML1_NS, "AttributeStatement") {
        if let Some(s) = doc.find_child(st, SAML1_NS, "Subject")
            && !subject_shown
        {
            root.push(subject_node(ex, s, &mut claims));
            subject_shown = true;
        }
        for a in doc.find_children(st, SAML1_NS, "Attribute") {
            attr_total += 1;
            if attr_nodes.len() >= max_attributes() {
                continue;
            }
            let name = doc.attribute(a, "AttributeName").unwrap_or("");
            let ns = doc.attribute(a, "AttributeNamespace").unwrap_or("");
            let full = if ns.is_empty() {
                name.to_string()
            } else {
                format!("{}/{name}", ns.trim_end_matches('/'))
            };
            let values: Vec<String> = doc
                .find_children(a, SAML1_NS, "AttributeValue")
                .map(|v| doc.text_content(v))
                .collect();
            for v in &values {
                claims.record(&full, v);
            }
            let mut n = attribute_node(name, &values);
            n.push(Node::field("AttributeNamespace", ns));
            // ADFS writes it namespaced (`a:OriginalIssuer`, identity/claims namespace).
            let original_issuer = doc
                .attributes(a)
                .find(|x| x.local == "OriginalIssuer")
                .map(|x| x.value);
            if let Some(oi) = original_issuer {
                n.push(
                    Node::field("OriginalIssuer", oi).with_note(if oi == "CLIENT CONTEXT" {
                        "issued by ADFS from the request context (not from AD)"
                    } else {
                        "the claims provider that originally issued this claim"
                    }),
                );
            }
            attr_nodes.push(n);
        }
    }
    if attr_total > 0 {
        root.push(attributes_section("attributes", attr_nodes, attr_total));
    }
    for st in doc.find_children(el, SAML1_NS, "AuthenticationStatement") {
        let mut n = Node::section("AuthenticationStatement");
        if let Some(m) = doc.attribute(st, "AuthenticationMethod") {
            n.push(Node::field("AuthenticationMethod", m).with_note(auth_method_note(m)));
        }
        if let Some(i) = doc.attribute(st, "AuthenticationInstant") {
            n.push(ex.instant("AuthenticationInstant", i).0);
        }
        if let Some(s) = doc.find_child(st, SAML1_NS, "Subject") {
            if subject_shown {
                let same = doc
                    .find_child(s, SAML1_NS, "NameIdentifier")
                    .map(|x| doc.text_content(x).trim().to_string());
                if same.is_some() && same != claims.name_id {
                    ex.findings.push(
                        Finding::warning(
                            "the AuthenticationStatement's subject differs from the \
                             AttributeStatement's",
                        )
                        .at(format!("{at}/saml:AuthenticationStatement")),
                    );
                }
                n.push(Node::text(
                    "Subject",
                    same.map_or("(no NameIdentifier)".into(), |s| {
                        format!("NameIdentifier {s}")
                    }),
                ));
            } else {
                n.push(subject_node(ex, s, &mut claims));
                subject_shown = true;
            }
        }
        root.push(n);
    }
    if claims.mfa {
        ex.findings.push(
            Finding::info(
                "the IdP says the user did MFA (authnmethodsreferences = multipleauthn): Entra ID \
                 accepts it when federatedIdpMfaBehavior allows",
            )
            .at(at.clone()),
        );
    }
    if claims.account_type.as_deref() == Some("DJ") {
        ex.findings.push(
            Finding::info(
                "device token (accounttype=DJ): ADFS vouches for a domain-joined computer \
                 (hybrid Azure AD join)",
            )
            .at(at.clone()),
        );
    }
    let (sigs, short) = ex.signatures_of(el, "the SAML 1.1 assertion");
    root.children.extend(sigs);
    Explained::assertion("1.1", root, &claims, short, state)
}

fn subject_node(ex: &mut Explainer<'_, '_>, s: NodeId, claims: &mut Claims) -> Node {
    let doc = ex.doc;
    let mut n = Node::section("Subject");
    if let Some(ni) = doc.find_child(s, SAML1_NS, "NameIdentifier") {
        let v = doc.text_content(ni).trim().to_string();
        let mut node = attribute_value_node("NameIdentifier", &v).with_note(
            "the subject; for Entra ID it must be the user's ImmutableID (an ADFS rule copies \
             ImmutableID into nameidentifier)",
        );
        if let Some(f) = doc.attribute(ni, "Format") {
            node.push(Node::field("Format", f).with_note(name_id_format_note(f)));
        }
        if let Some(g) = super::immutable_id_guid(&v)
            && !node.children.iter().any(|c| c.label == "objectGUID")
        {
            node.push(Node::field("objectGUID", g).with_note(
                "the GUID this base64 value encodes (.NET order): the on-premises objectGUID",
            ));
        }
        if let Some(q) = doc.attribute(ni, "NameQualifier") {
            node.push(Node::field("NameQualifier", q));
        }
        claims.name_id = Some(v);
        n.push(node);
    }
    if let Some(sc) = doc.find_child(s, SAML1_NS, "SubjectConfirmation") {
        for m in doc.find_children(sc, SAML1_NS, "ConfirmationMethod") {
            let v = doc.text_content(m).trim().to_string();
            n.push(Node::field("ConfirmationMethod", v.clone()).with_note(confirmation_note(&v)));
        }
    }
    n
}

/// Explains a SAML 1.x protocol `samlp:Response` (status and the assertions inside).
pub fn explain_response(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    let mut root = Node::section(doc.qname(el)).with_note("SAML 1.x protocol response");
    for a in ["ResponseID", "IssueInstant", "Recipient", "InResponseTo"] {
        if let Some(v) = doc.attribute(el, a) {
            root.push(Node::field(a, v));
        }
    }
    if let Some(code) = doc
        .find_descendant(el, super::SAMLP1_NS, "StatusCode")
        .and_then(|c| doc.attribute(c, "Value"))
    {
        let ok = code.ends_with(":Success");
        root.push(Node::leaf(
            "StatusCode",
            code,
            if ok { Kind::Field } else { Kind::Error },
        ));
        if !ok {
            ex.findings
                .push(Finding::error(format!("SAML response status {code}")).at(doc.path(el)));
        }
    }
    let (sigs, _) = ex.signatures_of(el, "the SAML 1.x response");
    root.children.extend(sigs);
    let mut summary = "SAML 1.x response".to_string();
    let assertions: Vec<NodeId> = doc.find_children(el, SAML1_NS, "Assertion").collect();
    for (i, a) in assertions.iter().enumerate() {
        let e = explain_assertion(ex, *a);
        if i == 0 {
            ex.wrapping(*a);
            summary = e.summary.clone();
        }
        root.push(e.node);
    }
    Explained {
        node: root,
        summary,
    }
}
