//! The certificates of the connector agents' trust: the PKCS#10 request an agent sends when it
//! registers or renews its trust (subject, key, the Windows enrollment attributes and the
//! extensions it asks for), and the certificate the registration service issues (shown by the
//! one certificate explainer, [`crate::x509`], with the agent id of its
//! `1.3.6.1.4.1.311.82.1` extension and the tenant of its subject).
//!
//! The agent id extension's value is the GUID's 16 bytes in .NET byte order (AADInternals reads
//! it as `[guid]$extension.RawData`); a value wrapped in a DER OCTET STRING is read too.

use asn1_rs::{Any, FromDer as _, Tag};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::extensions::{ParsedExtension, X509Extension};

use crate::view::{Finding, Kind, Node};
use crate::{util, x509};

/// The extension of an issued agent certificate that holds the agent (connector) id.
pub const AGENT_ID_OID: &str = "1.3.6.1.4.1.311.82.1";

/// Most attributes, extensions or strings listed from one request.
const MAX_LISTED: usize = 32;

/// Names of the OIDs agent certificate requests carry.
fn oid_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.3.6.1.4.1.311.13.2.3" => "osVersion",
        "1.3.6.1.4.1.311.21.20" => "requestClientInfo",
        "1.3.6.1.4.1.311.13.2.2" => "enrollmentCSP",
        "1.3.6.1.4.1.311.13.2.1" => "enrollmentNameValuePair",
        "1.2.840.113549.1.9.14" => "extensionRequest",
        "1.2.840.113549.1.9.7" => "challengePassword",
        "2.5.29.15" => "keyUsage",
        "2.5.29.37" => "extKeyUsage",
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.17" => "subjectAltName",
        "2.5.29.19" => "basicConstraints",
        AGENT_ID_OID => "agent id",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        _ => return None,
    })
}

fn oid_label(oid: &str) -> String {
    match oid_name(oid) {
        Some(n) => format!("{n} ({oid})"),
        None => oid.to_string(),
    }
}

/// What a request says, for the summary and the node.
#[derive(Debug)]
pub struct Csr {
    /// The view of the request.
    pub node: Node,
    /// `RSA 2048-bit`, `EC P-256` …
    pub key: String,
}

/// Explains a base64 PKCS#10 request found in element `label`; a finding (at `at`) when it is
/// not base64 or not a request.
pub fn csr(label: &str, b64: &str, at: &str, findings: &mut Vec<Finding>) -> Csr {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bad = |why: &str, findings: &mut Vec<Finding>| {
        findings.push(Finding::error(format!("{label}: {why}")).at(at));
        Csr {
            node: Node::leaf(label, util::ellipsize(&compact, 60), Kind::Error).with_note(why),
            key: String::new(),
        }
    };
    let Some(der) = util::b64_decode_any(&compact, 64 << 10) else {
        return bad("not base64", findings);
    };
    let req = match X509CertificationRequest::from_der(&der) {
        Ok((_, r)) => r,
        Err(e) => return bad(&format!("not a PKCS#10 certificate request: {e}"), findings),
    };
    let info = &req.certification_request_info;
    let mut node = Node::section(label).with_note(
        "the agent's certificate signing request (PKCS#10): the service signs its key into the \
         agent's client certificate",
    );
    node.value = Some(format!("{} bytes", der.len()));
    let subject = info.subject.to_string();
    node.push(if subject.is_empty() {
        Node::field("subject", "(empty)")
            .with_note("the service names the certificate after the tenant, whatever is asked")
    } else {
        Node::field("subject", subject)
    });
    let key = x509::spki_key(&info.subject_pki).text(x509::KeyForm::Named);
    node.push(Node::field("key", key.clone()));
    let alg = req.signature_algorithm.algorithm.to_id_string();
    node.push(Node::field("signature algorithm", oid_label(&alg)));
    let raw = raw_attributes(info.raw);
    let mut attrs = Node::section("attributes");
    for a in info.iter_attributes().take(MAX_LISTED) {
        let oid = a.oid.to_id_string();
        let mut n = Node::section(oid_label(&oid));
        match a.parsed_attribute() {
            ParsedCriAttribute::ExtensionRequest(er) => {
                for e in er.extensions.iter().take(MAX_LISTED) {
                    n.push(extension_node(e));
                }
            }
            ParsedCriAttribute::ChallengePassword(p) => {
                n = Node::secret(oid_label(&oid), p.0.clone());
            }
            ParsedCriAttribute::UnsupportedAttribute => {
                let mut strings = Vec::new();
                if let Some((_, set)) = raw.iter().find(|(o, _)| *o == oid) {
                    der_strings(set, 0, &mut strings);
                }
                n = Node::field(oid_label(&oid), strings.join(", "));
                if oid == "1.3.6.1.4.1.311.21.20" {
                    n.note = Some(
                        "client id, machine, user and program that made the request".to_string(),
                    );
                }
            }
        }
        attrs.push(n);
    }
    if !attrs.children.is_empty() {
        node.push(attrs);
    }
    Csr { node, key }
}

fn extension_node(e: &X509Extension<'_>) -> Node {
    let oid = e.oid.to_id_string();
    let label = oid_label(&oid);
    let value = match e.parsed_extension() {
        ParsedExtension::KeyUsage(ku) => x509::key_usage_names(ku).join(", "),
        ParsedExtension::ExtendedKeyUsage(eku) => x509::extended_key_usage_names(eku).join(", "),
        ParsedExtension::SubjectKeyIdentifier(k) => util::hex_lower(k.0),
        _ => format!("{} bytes", e.value.len()),
    };
    let n = Node::field(label, value);
    if e.critical {
        n.with_note("critical")
    } else {
        n
    }
}

/// Each attribute's OID and the contents of its value SET, read from the DER of a
/// `CertificationRequestInfo` (x509-parser keeps no value for attributes it has no parser for).
fn raw_attributes(info: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let Ok((_, seq)) = Any::from_der(info) else {
        return out;
    };
    let mut rest = seq.data;
    while let Ok((next, any)) = Any::from_der(rest) {
        rest = next;
        if !(any.header.is_contextspecific() && any.tag().0 == 0) {
            continue;
        }
        let mut attrs = any.data;
        while let Ok((next, attr)) = Any::from_der(attrs) {
            attrs = next;
            if let Ok((after, oid)) = asn1_rs::Oid::from_der(attr.data)
                && let Ok((_, set)) = Any::from_der(after)
            {
                out.push((oid.to_id_string(), set.data));
            }
            if out.len() >= MAX_LISTED {
                return out;
            }
        }
    }
    out
}

/// The printable strings and small integers inside a DER value, in order (at most
/// [`MAX_LISTED`]), for attributes x509-parser has no parser for.
fn der_strings(mut input: &[u8], depth: u8, out: &mut Vec<String>) {
    while !input.is_empty() && out.len() < MAX_LISTED {
        let Ok((rest, any)) = Any::from_der(input) else {
            return;
        };
        input = rest;
        if any.header.is_constructed() {
            if depth < 8 {
                der_strings(any.data, depth + 1, out);
            }
            continue;
        }
        match any.tag() {
            Tag::Utf8String
            | Tag::PrintableString
            | Tag::Ia5String
            | Tag::VisibleString
            | Tag::T61String => out.push(String::from_utf8_lossy(any.data).into_owned()),
            Tag::BmpString => {
                let units: Vec<u16> = any
                    .data
                    .chunks_exact(2)
                    .map(|c| match c {
                        [a, b] => u16::from_be_bytes([*a, *b]),
                        _ => 0,
                    })
                    .collect();
                out.push(String::from_utf16_lossy(&units));
            }
            Tag::Integer if any.data.len() <= 4 => {
                let v = any
                    .data
                    .iter()
                    .fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
                out.push(v.to_string());
            }
            _ => {}
        }
    }
}

/// The agent id of an issued certificate (its `1.3.6.1.4.1.311.82.1` extension), as a GUID.
pub fn agent_id(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == AGENT_ID_OID)?;
    let raw = match ext.value {
        [0x04, 16, rest @ ..] if rest.len() == 16 => rest,
        v => v,
    };
    let bytes: &[u8; 16] = raw.try_into().ok()?;
    Some(util::dotnet_guid(bytes))
}

/// How an issued agent certificate is shown.
const AGENT_CERT: x509::Style = x509::Style {
    head: x509::Head::Section,
    rows: &[
        x509::Row::Issuer(x509::IssuerNote::Text(
            "the registration CA (hisconnectorregistrationca.msappproxy.net for Entra ID)",
        )),
        x509::Row::Serial { colons: false },
        x509::Row::Sha1 {
            label: "thumbprint (SHA-1)",
            case: x509::Case::Upper,
            note: x509::HashNote::Text("how the agent's certificate store names it"),
        },
        x509::Row::Key {
            label: "key",
            form: x509::KeyForm::Named,
            note: None,
        },
        x509::Row::KeyUsage,
        x509::Row::ExtendedKeyUsage,
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

/// What an issued certificate says, for the summary and the story.
#[derive(Debug)]
pub struct Issued {
    /// The view of the certificate.
    pub node: Node,
    /// The agent id, when the extension is there.
    pub agent_id: Option<String>,
    /// The tenant, when the subject's CN is a GUID.
    pub tenant: Option<String>,
    /// When it expires, relative to now.
    pub expires: String,
}

/// Explains the base64 certificate the registration service issued, in element `label`; its
/// validity judged against `now` (findings at `at`).
pub fn issued(
    label: &str,
    b64: &str,
    now: std::time::SystemTime,
    at: &str,
    findings: &mut Vec<Finding>,
) -> Option<Issued> {
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(der) = util::b64_decode_any(&compact, 64 << 10) else {
        findings.push(Finding::error(format!("{label}: not base64")).at(at));
        return None;
    };
    let cert = match x509::Certificate::parse(&der) {
        Ok(c) => c,
        Err(e) => {
            findings.push(Finding::error(format!("{label}: not an X.509 certificate: {e}")).at(at));
            return None;
        }
    };
    let mut node = cert.node(label, &AGENT_CERT, now);
    node.note = Some("the agent's client certificate: it authenticates every bootstrap".into());
    let tenant = cert.cn.clone().filter(|cn| util::is_guid(cn));
    if let Some(t) = &tenant {
        node.push(Node::field("tenant", t.clone()).with_note("the subject's CN"));
    }
    let agent_id = agent_id(&der);
    match &agent_id {
        Some(id) => node.push(Node::field("agent id", id.clone()).with_note(format!(
            "extension {AGENT_ID_OID}: the connector id the agent declares when it bootstraps"
        ))),
        None => findings.push(
            Finding::warning(format!(
                "{label}: no agent id extension ({AGENT_ID_OID}, 16 bytes): the agent cannot \
                 name itself when it bootstraps"
            ))
            .at(at),
        ),
    }
    let v = cert.validity(now);
    let expires = util::format_epoch_relative(cert.not_after, now);
    if v.expired {
        findings.push(
            Finding::error(format!(
                "the agent certificate {} expired {expires}: bootstraps fail until the agent \
                 registers again",
                cert.label()
            ))
            .at(at),
        );
    } else if v.expires_soon {
        findings.push(
            Finding::warning(format!(
                "the agent certificate {} expires {expires}: the agent should renew its trust \
                 (RenewTrustCertificate) before then",
                cert.label()
            ))
            .at(at),
        );
    } else if v.not_yet_valid {
        findings.push(
            Finding::warning(format!(
                "the agent certificate {} is not valid yet (from {})",
                cert.label(),
                util::format_epoch_relative(cert.not_before, now)
            ))
            .at(at),
        );
    }
    Some(Issued {
        node,
        agent_id,
        tenant,
        expires,
    })
}
