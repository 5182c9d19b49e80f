//! Federation metadata and WS-MetadataExchange: `FederationMetadata.xml` (`md:EntityDescriptor`:
//! entityID, the WS-Fed `RoleDescriptor`s and SAML `IDPSSODescriptor`/`SPSSODescriptor` with
//! their endpoints, the signing certificates with their validity judged against
//! [`crate::Context::now`], the metadata's own signature) and the ADFS MEX WSDL
//! (`/adfs/services/trust/mex`: every port with its address, WS-Trust version and authentication
//! kind, the `usernamemixed` ones marked). [`signing_certificates`] hands the analysis layer the
//! DER certificates to trust for XML signatures seen elsewhere in the capture.
//!
//! Not responsible for deciding trust (a certificate is trusted because the user or the analysis
//! layer says so, never because a document contains it) or for fetching anything.

use std::collections::HashMap;

use super::{Explained, Explainer, FED_NS, MD_NS, contains, explain_xml};
use crate::view::{Finding, Kind, Node};
use crate::xml::{DSIG_NS, Document, NodeId};
use crate::{Context, DecodeError, Decoded, Limits, Message, util, x509};

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Most certificates, claim types or ports listed per section.
const MAX_LISTED: usize = 64;

/// The DER signing certificates a `FederationMetadata.xml` (an `EntityDescriptor` or
/// `EntitiesDescriptor`) publishes: every `KeyDescriptor` with `use="signing"` or no `use`, in
/// document order and without duplicates. Empty for anything else (a MEX WSDL lists endpoint
/// identity certificates, not token-signing ones) and for unparsable XML. The caller decides
/// whether to trust them (for example with [`crate::Trust::add_cert`] and the source
/// `"FederationMetadata in flow #N"`).
pub fn signing_certificates(xml: &str, limits: &Limits) -> Vec<Vec<u8>> {
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml).trim_start();
    let Ok(doc) = Document::parse(xml, limits) else {
        return Vec::new();
    };
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    if doc.namespace(root) != MD_NS {
        return Vec::new();
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for kd in doc.find_descendants(root, MD_NS, "KeyDescriptor") {
        if !matches!(doc.attribute(kd, "use"), None | Some("signing")) {
            continue;
        }
        for c in doc.find_descendants(kd, DSIG_NS, "X509Certificate") {
            if let Some(der) = cert_der(&doc, c)
                && !out.contains(&der)
            {
                out.push(der);
            }
        }
    }
    out
}

fn cert_der(doc: &Document<'_>, el: NodeId) -> Option<Vec<u8>> {
    let text: String = doc
        .text_content(el)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    util::b64_decode_any(&text, 64 << 10)
}

/// How metadata shows a certificate: the subject as the value, then issuer, lower-case SHA-1
/// thumbprint, serial, key and validity.
const METADATA_CERT: x509::Style = x509::Style {
    head: x509::Head::Field,
    rows: &[
        x509::Row::Issuer(x509::IssuerNote::None),
        x509::Row::Sha1 {
            label: "thumbprint (SHA-1)",
            case: x509::Case::Lower,
            note: x509::HashNote::Text("how ADFS and Entra ID show a certificate"),
        },
        x509::Row::Serial { colons: false },
        x509::Row::Key {
            label: "key",
            form: x509::KeyForm::Size {
                unit: "",
                other: "other",
                unparsed: "unparsable",
            },
            note: None,
        },
        x509::Row::Date {
            label: "not before",
            end: false,
            relative: true,
        },
        x509::Row::Date {
            label: "not after",
            end: true,
            relative: true,
        },
    ],
};

/// A certificate as a view node, its validity judged against `cx.now` (findings go to `ex`),
/// and its facts when it parses.
fn cert_node(
    ex: &mut Explainer<'_, '_>,
    der: &[u8],
    label: &str,
    role: &str,
    at: &str,
) -> (Node, Option<x509::Certificate>) {
    let Ok(cert) = x509::Certificate::parse(der) else {
        ex.findings
            .push(Finding::error(format!("{label}: not a parsable X.509 certificate")).at(at));
        return (
            Node::leaf(label, "unparsable certificate", Kind::Error),
            None,
        );
    };
    let n = cert.node(label, &METADATA_CERT, ex.cx.now);
    let v = cert.validity(ex.cx.now);
    if v.expired {
        ex.findings.push(
            Finding::error(format!(
                "{role} certificate {} expired {}",
                cert.label(),
                super::relative(cert.not_after, ex.cx.now)
            ))
            .at(at),
        );
    } else if v.not_yet_valid {
        ex.findings.push(
            Finding::warning(format!(
                "{role} certificate {} is not valid yet (from {}): a rollover certificate?",
                cert.label(),
                util::format_epoch(cert.not_before)
            ))
            .at(at),
        );
    } else if v.expires_soon {
        ex.findings.push(
            Finding::warning(format!(
                "{role} certificate {} expires {}: {}",
                cert.label(),
                super::relative(cert.not_after, ex.cx.now),
                if role == "token-signing" {
                    "plan the rollover (Entra ID's SigningCertificate / NextSigningCertificate)"
                } else {
                    "renew it"
                }
            ))
            .at(at),
        );
    }
    (n, Some(cert))
}

fn endpoint_address(doc: &Document<'_>, el: NodeId) -> Option<String> {
    doc.find_descendant(el, super::WSA_NS, "Address")
        .map(|a| doc.text_content(a).trim().to_string())
}

/// Explains an `md:EntityDescriptor` (or `EntitiesDescriptor`); findings go to `ex`.
pub fn explain_metadata(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    if doc.local_name(el) == "EntitiesDescriptor" {
        let mut root = Node::section(doc.qname(el)).with_note("a set of entity descriptors");
        let (sigs, _) = ex.signatures_of(el, "the metadata");
        let mut first = None;
        for e in doc
            .find_children(el, MD_NS, "EntityDescriptor")
            .take(MAX_LISTED)
        {
            let x = explain_metadata(ex, e);
            first.get_or_insert(x.summary);
            root.push(x.node);
        }
        root.children.extend(sigs);
        return Explained {
            node: root,
            summary: format!(
                "federation metadata set: {}",
                first.unwrap_or_else(|| "empty".into())
            ),
        };
    }
    let entity = doc.attribute(el, "entityID").unwrap_or("");
    let mut root = Node::section(doc.qname(el))
        .with_note("federation metadata: who the entity is, its endpoints and signing keys");
    root.push(Node::field("entityID", entity).with_note(
        "the issuer identifier; for ADFS it is the IssuerUri Entra ID compares with the token's \
         Issuer",
    ));
    for a in ["ID", "validUntil", "cacheDuration"] {
        if let Some(v) = doc.attribute(el, a) {
            if a == "validUntil" {
                let (n, secs) = ex.instant(a, v);
                root.push(n);
                ex.check_window(None, secs, "the metadata (validUntil)", &doc.path(el));
            } else {
                root.push(Node::field(a, v));
            }
        }
    }
    let (sigs, short) = ex.signatures_of(el, "the federation metadata");
    let mut signing_labels = Vec::new();
    let mut passive = None;
    for role in doc.child_elements(el) {
        if doc.namespace(role) != MD_NS || !doc.local_name(role).ends_with("Descriptor") {
            continue;
        }
        let local = doc.local_name(role);
        let ty = doc.attribute_ns(role, XSI_NS, "type").unwrap_or("");
        let mut rn = Node::section(if ty.is_empty() {
            doc.qname(role).to_string()
        } else {
            format!("{} ({ty})", doc.qname(role))
        });
        rn.note = Some(
            match (local, ty.rsplit(':').next().unwrap_or("")) {
                (_, "SecurityTokenServiceType") => {
                    "WS-Federation / WS-Trust security token service (ADFS as the IdP)"
                }
                (_, "ApplicationServiceType") => "WS-Federation relying party",
                ("IDPSSODescriptor", _) => "SAML 2.0 identity provider",
                ("SPSSODescriptor", _) => "SAML 2.0 service provider",
                _ => "role",
            }
            .into(),
        );
        if let Some(p) = doc.attribute(role, "protocolSupportEnumeration") {
            rn.push(Node::field("protocolSupportEnumeration", p));
        }
        for a in [
            "WantAuthnRequestsSigned",
            "AuthnRequestsSigned",
            "WantAssertionsSigned",
        ] {
            if let Some(v) = doc.attribute(role, a) {
                rn.push(Node::field(a, v));
            }
        }
        for kd in doc.find_children(role, MD_NS, "KeyDescriptor") {
            let usage = doc.attribute(kd, "use").unwrap_or("signing and encryption");
            for c in doc
                .find_descendants(kd, DSIG_NS, "X509Certificate")
                .take(MAX_LISTED)
            {
                let Some(der) = cert_der(doc, c) else {
                    rn.push(Node::leaf(
                        "KeyDescriptor",
                        "certificate is not base64",
                        Kind::Error,
                    ));
                    continue;
                };
                let role_name = if usage == "encryption" {
                    "encryption"
                } else {
                    "token-signing"
                };
                let (mut n, cert) = cert_node(
                    ex,
                    &der,
                    &format!("KeyDescriptor use={usage}"),
                    role_name,
                    &doc.path(kd),
                );
                if usage != "encryption" {
                    n = n.with_note(
                        "a token-signing certificate: tokens and the metadata itself are \
                         verified with it once it is trusted",
                    );
                    if let Some(c) = cert {
                        let l = c.label();
                        if !signing_labels.contains(&l) {
                            signing_labels.push(l);
                        }
                    }
                }
                rn.push(n);
            }
        }
        // WS-Fed extensions of the RoleDescriptor.
        if let Some(ct) = doc.find_child(role, FED_NS, "ClaimTypesOffered") {
            let types: Vec<NodeId> = doc.child_elements(ct).collect();
            let mut cn = Node::section("ClaimTypesOffered");
            cn.value = Some(format!("{} claim types", types.len()));
            for t in types.iter().take(MAX_LISTED) {
                let uri = doc.attribute(*t, "Uri").unwrap_or("");
                let mut n = Node::field("ClaimType", uri);
                if let Some(note) = super::claim_note(uri) {
                    n = n.with_note(note);
                }
                cn.push(n);
            }
            rn.push(cn);
        }
        if let Some(tt) = doc.find_child(role, FED_NS, "TokenTypesOffered") {
            for t in doc.child_elements(tt).take(MAX_LISTED) {
                rn.push(Node::field(
                    "TokenType",
                    doc.attribute(t, "Uri").unwrap_or(""),
                ));
            }
        }
        for (ep, note) in [
            (
                "PassiveRequestorEndpoint",
                "WS-Fed passive sign-in URL (PassiveLogOnUri)",
            ),
            ("SecurityTokenServiceEndpoint", "WS-Trust endpoint"),
            ("ApplicationServiceEndpoint", "relying party endpoint"),
            ("SingleSignOutSubscriptionEndpoint", "sign-out subscription"),
        ] {
            for e in doc.find_children(role, FED_NS, ep).take(MAX_LISTED) {
                let addr = endpoint_address(doc, e).unwrap_or_default();
                if ep == "PassiveRequestorEndpoint" {
                    passive.get_or_insert_with(|| addr.clone());
                }
                rn.push(Node::field(ep, addr).with_note(note));
            }
        }
        // SAML 2.0 endpoints.
        for (ep, note) in [
            ("SingleSignOnService", "where AuthnRequests go"),
            ("SingleLogoutService", "single logout"),
            (
                "AssertionConsumerService",
                "where responses are posted (ACS)",
            ),
            (
                "ArtifactResolutionService",
                "artifact resolution (back channel)",
            ),
        ] {
            for e in doc.find_children(role, MD_NS, ep).take(MAX_LISTED) {
                let binding = doc.attribute(e, "Binding").unwrap_or("");
                let loc = doc.attribute(e, "Location").unwrap_or("");
                rn.push(Node::field(ep, loc).with_note(note).with_child(Node::field(
                    "Binding",
                    binding.rsplit(':').next().unwrap_or(binding),
                )));
            }
        }
        for f in doc
            .find_children(role, MD_NS, "NameIDFormat")
            .take(MAX_LISTED)
        {
            rn.push(Node::field("NameIDFormat", doc.text_content(f).trim()));
        }
        root.push(rn);
    }
    if signing_labels.is_empty() {
        ex.findings.push(
            Finding::warning("the metadata publishes no signing certificate").at(doc.path(el)),
        );
    }
    root.children.extend(sigs);
    let mut summary = format!("FederationMetadata for {entity}");
    match signing_labels.as_slice() {
        [] => summary.push_str(": no signing certificate"),
        [one] => summary.push_str(&format!(": signing certificate {one}")),
        many => summary.push_str(&format!(": {} signing certificates", many.len())),
    }
    if let Some(p) = passive {
        summary.push_str(&format!(", passive {p}"));
    }
    summary.push_str(&format!(
        ", metadata {}",
        short.unwrap_or_else(|| "unsigned".into())
    ));
    Explained {
        node: root,
        summary,
    }
}

/// One MEX port after following binding and policy references.
struct Port {
    name: String,
    address: String,
    version: &'static str,
    auth: String,
    usernamemixed: bool,
}

/// Explains an ADFS MEX WSDL (`wsdl:definitions`); findings go to `ex`.
pub fn explain_mex(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    let mut root = Node::section(doc.qname(el)).with_note(
        "WS-MetadataExchange WSDL: the STS's WS-Trust endpoints and the security policy of each",
    );
    // Policy id → what it requires, from the names of the assertions it contains.
    let mut policies: HashMap<String, Vec<&str>> = HashMap::new();
    for p in doc.elements().filter(|e| doc.local_name(*e) == "Policy") {
        let Some(id) = doc.id_attribute(p) else {
            continue;
        };
        let mut names: Vec<&str> = doc
            .descendants(p)
            .filter(|d| doc.is_element(*d))
            .map(|d| doc.local_name(d))
            .collect();
        names.sort_unstable();
        names.dedup();
        policies.insert(id.to_string(), names);
    }
    // Binding name → (policy features, soapAction).
    let mut bindings: HashMap<&str, (Vec<&str>, String)> = HashMap::new();
    for b in doc.find_children(el, WSDL_NS, "binding") {
        let name = doc.attribute(b, "name").unwrap_or("");
        let mut features = Vec::new();
        for r in doc
            .children(b)
            .filter(|c| doc.local_name(*c) == "PolicyReference")
        {
            let uri = doc
                .attribute(r, "URI")
                .unwrap_or("")
                .trim_start_matches('#');
            if let Some(f) = policies.get(uri) {
                features.extend(f.iter().copied());
            }
        }
        let action = doc
            .descendants(b)
            .find(|d| {
                doc.local_name(*d) == "operation" && doc.attribute(*d, "soapAction").is_some()
            })
            .and_then(|d| doc.attribute(d, "soapAction"))
            .unwrap_or("")
            .to_string();
        bindings.insert(name, (features, action));
    }
    let mut ports = Vec::new();
    for svc in doc.find_children(el, WSDL_NS, "service") {
        for p in doc.find_children(svc, WSDL_NS, "port").take(MAX_LISTED) {
            let name = doc.attribute(p, "name").unwrap_or("").to_string();
            let binding = doc.attribute(p, "binding").unwrap_or("");
            let binding = binding.rsplit(':').next().unwrap_or(binding);
            let address = doc
                .children(p)
                .find(|c| doc.local_name(*c) == "address")
                .and_then(|a| doc.attribute(a, "location"))
                .map(str::to_string)
                .or_else(|| endpoint_address(doc, p))
                .unwrap_or_default();
            let (features, action) = bindings
                .get(binding)
                .map(|(f, a)| (f.clone(), a.clone()))
                .unwrap_or_default();
            let lower = address.to_ascii_lowercase();
            let version =
                if action.contains("ws-sx/ws-trust/200512") || lower.contains("/trust/13/") {
                    "WS-Trust 1.3"
                } else if action.contains("ws/2005/02/trust") || lower.contains("/trust/2005/") {
                    "WS-Trust 2005"
                } else {
                    "unknown WS-Trust version"
                };
            let has = |n: &str| features.contains(&n);
            let username = has("UsernameToken")
                && (has("SignedEncryptedSupportingTokens") || has("SignedSupportingTokens"));
            let transport = has("TransportBinding");
            let auth = if username && transport {
                "user name and password over TLS (usernamemixed)".to_string()
            } else if username {
                "user name and password with message security".to_string()
            } else if has("SpnegoContextToken")
                || has("KerberosToken")
                || has("NegotiateAuthentication")
            {
                "Windows integrated (Kerberos/SPNEGO)".to_string()
            } else if has("X509Token") {
                "client certificate".to_string()
            } else if has("IssuedToken") {
                "an issued token".to_string()
            } else {
                format!(
                    "from the address: {}",
                    lower.rsplit('/').next().unwrap_or("unknown")
                )
            };
            let usernamemixed = (username && transport) || lower.ends_with("/usernamemixed");
            ports.push(Port {
                name,
                address,
                version,
                auth,
                usernamemixed,
            });
        }
    }
    let mut pn = Node::section("ports");
    pn.value = Some(format!("{} endpoint(s)", ports.len()));
    for p in &ports {
        let mut n = Node::field(p.name.clone(), p.address.clone())
            .with_child(Node::field("WS-Trust version", p.version))
            .with_child(Node::field("authentication", p.auth.clone()));
        if p.usernamemixed {
            n = n.with_note(if p.version == "WS-Trust 1.3" {
                "usernamemixed: the endpoint ADAL/MSAL use for federated ROPC (WS-Trust 1.3 is \
                 preferred)"
            } else {
                "usernamemixed: a federated ROPC endpoint"
            });
        }
        pn.push(n);
    }
    root.push(pn);
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let certs: Vec<NodeId> = doc
        .find_descendants(el, DSIG_NS, "X509Certificate")
        .collect();
    for c in certs {
        if let Some(der) = cert_der(doc, c)
            && !seen.contains(&der)
            && seen.len() < MAX_LISTED
        {
            let n = cert_node(
                ex,
                &der,
                "endpoint identity certificate",
                "endpoint identity",
                &doc.path(c),
            )
            .0
            .with_note(
                "published in an endpoint reference's Identity: the certificate the endpoint \
                     presents (not the token-signing certificate)",
            );
            root.push(n);
            seen.push(der);
        }
    }
    let um: Vec<String> = ports
        .iter()
        .filter(|p| p.usernamemixed)
        .map(|p| format!("{} {}", p.version, p.address))
        .collect();
    if um.is_empty() {
        ex.findings.push(Finding::info(
            "the MEX document lists no usernamemixed endpoint: federated ROPC is not possible",
        ));
    }
    let summary = format!(
        "ADFS MEX: {} endpoint(s); usernamemixed: {}",
        ports.len(),
        if um.is_empty() {
            "none".to_string()
        } else {
            um.join(", ")
        }
    );
    Explained {
        node: root,
        summary,
    }
}

decoder! {
    /// The federation metadata decoder (`fedmetadata`): `FederationMetadata.xml` and the ADFS MEX
    /// WSDL.
    pub struct FedMetadata: "fedmetadata";
}

fn priority(msg: &Message<'_>) -> f32 {
    let head = msg.body.get(..4096).unwrap_or(msg.body);
    let trimmed = head.trim_ascii_start();
    let trimmed = trimmed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(trimmed);
    if !trimmed.starts_with(b"<") {
        return 0.0;
    }
    if contains(head, MD_NS.as_bytes())
        && (contains(head, b"EntityDescriptor") || contains(head, b"EntitiesDescriptor"))
    {
        return 0.95;
    }
    if contains(head, WSDL_NS.as_bytes()) && contains(head, b"definitions") {
        return 0.95;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "metadata body")?;
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    explain_xml(text.trim_start(), "fedmetadata", cx, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::saml::Saml;
    use crate::{OwnedMessage, Trust};
    use std::time::{Duration, UNIX_EPOCH};

    fn body(http: &str) -> String {
        let m = OwnedMessage::parse_http_text(http).unwrap();
        String::from_utf8(m.body).unwrap()
    }

    #[test]
    fn metadata_signing_certificate_verifies_a_token_from_another_flow() {
        let md = body(include_str!(
            "../../tests/fixtures/wsfed/federation_metadata.http"
        ));
        let ders = signing_certificates(&md, &Limits::default());
        // The same certificate sits in the RoleDescriptor and the IDPSSODescriptor: kept once.
        assert_eq!(ders.len(), 1);
        let mut trust = Trust::default();
        for d in ders {
            trust.add_cert(d, "FederationMetadata in flow #4");
        }
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let token = OwnedMessage::parse_http_text(include_str!(
            "../../tests/fixtures/saml/saml11_assertion_rsa_sha1_unpinned.http"
        ))
        .unwrap();
        let d = Saml.decode(&token.as_message(), &cx).unwrap();
        assert!(
            d.summary.contains(
                "signature verified with CN=ADFS Signing - sts.contoso.test (FederationMetadata \
                 in flow #4)"
            ),
            "{}",
            d.summary
        );
    }

    #[test]
    fn mex_and_garbage_publish_no_signing_certificates() {
        let mex = body(include_str!("../../tests/fixtures/wstrust/mex.http"));
        assert!(signing_certificates(&mex, &Limits::default()).is_empty());
        assert!(signing_certificates("<not xml", &Limits::default()).is_empty());
        assert!(signing_certificates("", &Limits::default()).is_empty());
    }
}
