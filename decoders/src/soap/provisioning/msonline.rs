//! The MSOnline provisioning API (`provisioningwebservice.svc`, text SOAP): the view of its
//! requests and responses, with the federation settings explained, their signing certificates
//! decoded, and a warning on changes to a domain's federation trust.

use std::fmt::Write as _;

use super::base::{Api, Facts, Parsed, annotate_known, api_root};
use super::bearer::bearer_node;
use crate::soap::envelope::{self, element_tree, text_of};
use crate::view::{Finding, Kind, Node, Severity};
use crate::{Decoded, util};

pub(super) fn msonline_note(local: &str, _value: &str) -> Option<String> {
    Some(match local {
        "BecVersion" => "contract version of the MSOnline web service".to_string(),
        "DomainName" => "the domain whose settings change".to_string(),
        "Authentication" => "Managed (cloud passwords) or Federated (an IdP signs users in)".into(),
        "FederationSettings" => "the federation trust Azure AD will honour for the domain".into(),
        "ActiveLogonUri" => "WS-Trust endpoint used by rich clients (usernamemixed)".into(),
        "IssuerUri" => "the issuer tokens must carry for this domain".into(),
        "LogOffUri" => "where sign-out is sent".into(),
        "MetadataExchangeUri" => "the IdP's MEX endpoint".into(),
        "PassiveLogOnUri" => "where browsers are sent to sign in".into(),
        "PreferredAuthenticationProtocol" => "WsFed or Samlp".into(),
        "SigningCertificate" => "the certificate whose key signs tokens Azure AD will trust".into(),
        "NextSigningCertificate" => "the certificate for the next key rollover".into(),
        "FederationBrandName" => "the name shown on the sign-in page".into(),
        "SupportsMfa" => "whether the IdP performs MFA itself".into(),
        _ => return None,
    })
}

pub(super) fn msonline_view(p: &Parsed<'_, '_, '_>) -> Decoded {
    let (msg, doc, env, sx, cl, cx) = (p.msg, p.doc, p.env, p.sx, p.cl, p.cx);
    let mut facts = Facts::default();
    let mut root = api_root(
        "MSOnline provisioning API",
        cl,
        "the MSOnline PowerShell admin web service (provisioningapi…/provisioningwebservice.svc, \
         text SOAP): NOT the AAD Connect sync API, although both are called \
         IProvisioningWebService",
    );
    root.push(Node::field("operation", &cl.operation));
    root.push(Node::field("identified by", cl.evidence.join(", ")));
    root.push(
        Node::field(
            "content-type",
            msg.content_type()
                .unwrap_or(std::borrow::Cow::Borrowed("(none)")),
        )
        .with_note(sx.encoding.describe()),
    );
    if !env.addressing.is_empty() {
        root.push(envelope::addressing_node(&env.addressing));
    }
    for hb in &env.headers {
        let local = doc.local_name(hb.node);
        if local == "UserIdentityHeader" {
            let mut h = Node::section(local).with_note("the caller's identity: the access token");
            for c in doc.child_elements(hb.node) {
                let cl_ = doc.local_name(c);
                if cl_ == "BearerToken" {
                    h.push(bearer_node(
                        &doc.text_content(c),
                        Api::MsOnline,
                        "MSOnline provisioning API/UserIdentityHeader/BearerToken",
                        cx,
                        &mut facts,
                    ));
                } else {
                    h.push(element_tree(doc, c, 50));
                }
            }
            root.push(h);
        } else {
            let mut t = element_tree(doc, hb.node, 200);
            t.note = Some(match local {
                "ClientVersionHeader" => "client id and version of the MSOnline module".into(),
                "ContractVersionHeader" => "the service contract version (BecVersion)".into(),
                "TrackingHeader" => "correlation id".into(),
                _ => format!("header block, namespace {}", doc.namespace(hb.node)),
            });
            root.push(t);
        }
    }
    if let Some(p) = env.payload {
        let mut t = element_tree(
            doc,
            p,
            cx.limits.max_nodes.min(envelope::DEFAULT_TREE_NODES),
        );
        t.label = if cl.is_response {
            "response"
        } else {
            "request"
        }
        .to_string();
        t.value = Some(doc.local_name(p).to_string());
        t.kind = Kind::Section;
        annotate_known(&mut t, &msonline_note);
        // Decode the signing certificates the federation settings carry.
        decorate_certs(&mut t);
        root.push(t);
        let first_text = |local: &str| {
            doc.descendants(p)
                .find(|d| doc.local_name(*d) == local)
                .map(|d| text_of(doc, d))
        };
        let domain = first_text("DomainName");
        let passive = first_text("PassiveLogOnUri");
        let issuer = first_text("IssuerUri");
        if matches!(
            cl.operation.as_str(),
            "SetDomainFederationSettings" | "SetDomainAuthentication"
        ) && !cl.is_response
        {
            facts.findings.push(
                Finding::new(
                    Severity::Warning,
                    format!(
                        "changes the federation trust of domain {}: Azure AD will accept tokens \
                         from issuer {} signed by the given certificate (a rogue federation \
                         setting is a known persistence technique)",
                        domain.as_deref().unwrap_or("?"),
                        issuer.as_deref().unwrap_or("?")
                    ),
                )
                .at("MSOnline provisioning API/request"),
            );
        }
        let mut parts = Vec::new();
        if let Some(d) = domain {
            parts.push(d);
        }
        if let Some(pu) = passive {
            parts.push(format!("sign-in at {pu}"));
        }
        facts.details = Some(parts.join(", "));
    }
    if let Some(f) = &env.fault {
        root.push(envelope::fault_node(doc, f, env.version));
        facts
            .findings
            .push(envelope::fault_finding(f).at("MSOnline provisioning API/Fault"));
        facts.fault = Some(envelope::fault_brief(f));
    }
    let mut summary = match &facts.fault {
        Some(f) => format!("MSOnline provisioning API fault: {f}"),
        None => {
            let mut s = format!("MSOnline provisioning API {}", cl.operation);
            if cl.is_response {
                s.push_str("Response");
            }
            if let Some(d) = facts.details.as_deref().filter(|d| !d.is_empty()) {
                let _ = write!(s, ": {d}");
            }
            s
        }
    };
    if let Some(b) = &facts.token_brief {
        let _ = write!(summary, "; BearerToken {b}");
    }
    summary.push_str(" (not the sync API)");
    let mut d = Decoded::new("provisioning", summary, root);
    d.findings = facts.findings;
    d
}

pub(super) fn decorate_certs(n: &mut Node) {
    let local = n.label.rsplit(':').next().unwrap_or(&n.label);
    if local.ends_with("SigningCertificate")
        && let Some(v) = n.value.clone()
        && v != "(nil)"
        && let Some(der) = util::b64_decode_any(&v, 1 << 20)
        && let Some(ci) = crate::xml::dsig::CertInfo::from_der(&der)
    {
        n.push(Node::field("subject", &ci.subject));
        n.push(Node::field("issuer", &ci.issuer));
        n.push(Node::field("thumbprint", &ci.thumbprint).with_note("SHA-1, as Entra ID shows it"));
        n.push(Node::field(
            "validity",
            format!("{} … {}", ci.not_before, ci.not_after),
        ));
        n.push(Node::field("key", &ci.key));
    }
    for c in &mut n.children {
        decorate_certs(c);
    }
}
