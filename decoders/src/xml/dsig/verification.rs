//! Verifying one `ds:Signature`: checking `SignedInfo` and each reference, trying the
//! `SignatureValue` against the trusted and the embedded keys, and summing the result up into a
//! [`Verdict`] with findings.
//!
//! Not responsible for the signature-wrapping checks on a whole document (see
//! [`super::wrapping`]).

use super::keys::embedded_certificates;
use super::references::{b64_compact, check_reference, prefix_list};
use super::*;

/// Every `ds:Signature` element of the document, in document order.
pub fn find_signatures(doc: &Document<'_>) -> Vec<NodeId> {
    doc.elements()
        .filter(|e| doc.is(*e, DSIG_NS, "Signature"))
        .collect()
}

/// Verifies one `ds:Signature` with default [`Limits`]. See [`verify_with_limits`].
pub fn verify(doc: &Document<'_>, signature: NodeId, keys: &[TrustedCert]) -> SignatureReport {
    verify_with_limits(doc, signature, keys, &Limits::default())
}

/// Verifies the `ds:Signature` element `signature` of `doc` with the trusted certificates
/// `keys`; canonical forms are capped at [`Limits::max_inflate`]. Never fails: every problem is
/// part of the report.
pub fn verify_with_limits(
    doc: &Document<'_>,
    signature: NodeId,
    keys: &[TrustedCert],
    limits: &Limits,
) -> SignatureReport {
    let mut report = SignatureReport {
        signature,
        canonicalization: String::new(),
        signature_algorithm: SignatureAlgorithm::Unsupported(String::new()),
        references: Vec::new(),
        signature_value: SignatureValueCheck::NotChecked {
            reason: "not reached".into(),
        },
        embedded_certificates: Vec::new(),
        problems: Vec::new(),
        verdict: Verdict::Unverifiable,
        verdict_text: String::new(),
    };
    if !doc.is(signature, DSIG_NS, "Signature") {
        report
            .problems
            .push("the node is not a ds:Signature element".into());
        finish(&mut report, doc);
        return report;
    }
    let embedded: Vec<x509::Certificate> = embedded_certificates(doc, signature)
        .iter()
        .filter_map(|d| x509::Certificate::parse(d).ok())
        .collect();
    report.embedded_certificates = embedded.iter().map(CertInfo::from_cert).collect();

    let Some(signed_info) = doc.find_child(signature, DSIG_NS, "SignedInfo") else {
        report.problems.push("ds:SignedInfo is missing".into());
        finish(&mut report, doc);
        return report;
    };
    let c14n_el = doc.find_child(signed_info, DSIG_NS, "CanonicalizationMethod");
    report.canonicalization = c14n_el
        .and_then(|e| doc.attribute(e, "Algorithm"))
        .unwrap_or("")
        .to_string();
    report.signature_algorithm = SignatureAlgorithm::from_uri(
        doc.find_child(signed_info, DSIG_NS, "SignatureMethod")
            .and_then(|e| doc.attribute(e, "Algorithm"))
            .unwrap_or(""),
    );
    for (i, r) in doc
        .find_children(signed_info, DSIG_NS, "Reference")
        .enumerate()
    {
        if i == MAX_REFERENCES {
            report.problems.push(format!(
                "more than {MAX_REFERENCES} references; the signature is not checked"
            ));
            break;
        }
        report
            .references
            .push(check_reference(doc, signature, r, limits));
    }
    if report.references.is_empty() {
        report
            .problems
            .push("ds:SignedInfo has no ds:Reference".into());
    }

    report.signature_value = check_signature_value(
        doc,
        signature,
        signed_info,
        c14n_el,
        &report.signature_algorithm,
        keys,
        &embedded,
        limits,
    );
    finish(&mut report, doc);
    report
}

/// True when the certificate's key is RSA and verifies `sig` over `msg`.
fn verifies(
    params: &'static signature::RsaParameters,
    cert: &x509::Certificate,
    msg: &[u8],
    sig: &[u8],
) -> bool {
    cert.key.kind == x509::KeyKind::Rsa
        && signature::UnparsedPublicKey::new(params, &cert.public_key_der)
            .verify(msg, sig)
            .is_ok()
}

#[allow(clippy::too_many_arguments)]
fn check_signature_value(
    doc: &Document<'_>,
    signature: NodeId,
    signed_info: NodeId,
    c14n_el: Option<NodeId>,
    alg: &SignatureAlgorithm,
    keys: &[TrustedCert],
    embedded: &[x509::Certificate],
    limits: &Limits,
) -> SignatureValueCheck {
    let not = |reason: String| SignatureValueCheck::NotChecked { reason };
    let Some(params) = alg.params() else {
        return not(format!("signature method {} is not supported", alg.name()));
    };
    let Some(c14n_el) = c14n_el else {
        return not("ds:CanonicalizationMethod is missing".into());
    };
    let c14n_uri = doc.attribute(c14n_el, "Algorithm").unwrap_or("");
    let Some(method) = Method::from_uri(c14n_uri) else {
        return not(format!(
            "canonicalization {c14n_uri} is not supported for SignedInfo"
        ));
    };
    let mut opts = Options::new(method);
    opts.inclusive_prefixes = prefix_list(doc, c14n_el);
    let signed = match c14n::canonicalize(doc, Some(signed_info), &opts, limits) {
        Ok(s) => s,
        Err(e) => return not(format!("cannot canonicalize SignedInfo: {e}")),
    };
    let Some(value_el) = doc.find_child(signature, DSIG_NS, "SignatureValue") else {
        return not("ds:SignatureValue is missing".into());
    };
    let Some(sig) = util::b64_decode_any(&b64_compact(&doc.text_content(value_el)), 4096) else {
        return not("ds:SignatureValue is not valid base64".into());
    };
    let mut tried = Vec::new();
    for k in keys {
        let cert = x509::Certificate::parse(&k.der).ok();
        let info = cert
            .as_ref()
            .map_or_else(|| CertInfo::unparsable(&k.der), CertInfo::from_cert);
        if cert
            .as_ref()
            .is_some_and(|c| verifies(params, c, &signed, &sig))
        {
            return SignatureValueCheck::Verified {
                cert: info,
                source: k.source.clone(),
            };
        }
        tried.push((info, k.source.clone()));
    }
    for cert in embedded {
        if verifies(params, cert, &signed, &sig) {
            return SignatureValueCheck::EmbeddedOnly {
                cert: CertInfo::from_cert(cert),
                tried,
            };
        }
    }
    SignatureValueCheck::Failed { tried }
}

pub(super) fn describe_target(doc: &Document<'_>, r: &ReferenceReport) -> String {
    match &r.target {
        ReferenceTarget::WholeDocument => "the whole document".to_string(),
        ReferenceTarget::Element {
            node, qname, id, ..
        } => {
            format!("{qname} ID={id} at byte {}", doc.offset(*node))
        }
        ReferenceTarget::Ambiguous { id, candidates } => {
            format!("ID {id} (ambiguous: {} elements)", candidates.len())
        }
        ReferenceTarget::NotFound { id } => format!("ID {id} (not found)"),
        ReferenceTarget::External => format!("external {}", r.uri),
    }
}

fn tried_text(tried: &[(CertInfo, String)]) -> String {
    tried
        .iter()
        .map(|(c, s)| format!("certificate {} from {s}", c.label()))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn finish(report: &mut SignatureReport, doc: &Document<'_>) {
    let covers: Vec<String> = report
        .references
        .iter()
        .map(|r| describe_target(doc, r))
        .collect();
    let covers = if covers.is_empty() {
        String::new()
    } else {
        format!("; covers {}", covers.join(", "))
    };
    let bad_refs: Vec<String> = report
        .references
        .iter()
        .filter_map(|r| match &r.digest {
            DigestCheck::Match => None,
            DigestCheck::Mismatch { .. } => Some(format!(
                "digest mismatch on Reference {} ({}): the signed content was changed",
                if r.uri.is_empty() { "\"\"" } else { &r.uri },
                describe_target(doc, r)
            )),
            DigestCheck::NotComputed { reason } => Some(format!(
                "Reference {} not checked: {reason}",
                if r.uri.is_empty() { "\"\"" } else { &r.uri }
            )),
        })
        .collect();
    let unresolved = report.references.iter().any(|r| {
        matches!(
            r.target,
            ReferenceTarget::Ambiguous { .. } | ReferenceTarget::NotFound { .. }
        ) || matches!(r.digest, DigestCheck::Mismatch { .. })
    });
    let key_text = match &report.signature_value {
        SignatureValueCheck::Verified { cert, source } => {
            format!("verified with certificate {} from {source}", cert.label())
        }
        SignatureValueCheck::EmbeddedOnly { cert, tried } if tried.is_empty() => format!(
            "signature consistent with the embedded certificate {}, which is not trusted",
            cert.label()
        ),
        SignatureValueCheck::EmbeddedOnly { cert, tried } => format!(
            "signature value does not verify with {}; it is consistent only with the embedded \
             certificate {}, which is not trusted",
            tried_text(tried),
            cert.label()
        ),
        SignatureValueCheck::Failed { tried } if tried.is_empty() => {
            "signature value does not verify (no trusted certificate given, and the embedded \
             certificate does not verify it either)"
                .to_string()
        }
        SignatureValueCheck::Failed { tried } => {
            format!("signature value does not verify with {}", tried_text(tried))
        }
        SignatureValueCheck::NotChecked { reason } => format!("signature not checked: {reason}"),
    };
    let (verdict, text) = if !report.problems.is_empty() {
        (Verdict::Unverifiable, report.problems.join("; "))
    } else if unresolved {
        (
            Verdict::Invalid,
            format!("INVALID: {} ({key_text})", bad_refs.join("; ")),
        )
    } else if !bad_refs.is_empty() {
        (
            Verdict::Unverifiable,
            format!("{} ({key_text})", bad_refs.join("; ")),
        )
    } else {
        match &report.signature_value {
            SignatureValueCheck::Verified { .. } => (Verdict::Valid, key_text),
            SignatureValueCheck::EmbeddedOnly { tried, .. } if tried.is_empty() => {
                (Verdict::Untrusted, key_text)
            }
            SignatureValueCheck::EmbeddedOnly { .. } => {
                (Verdict::Invalid, format!("INVALID: {key_text}"))
            }
            SignatureValueCheck::Failed { tried } if tried.is_empty() => {
                (Verdict::Untrusted, key_text)
            }
            SignatureValueCheck::Failed { .. } => {
                (Verdict::Invalid, format!("INVALID: {key_text}"))
            }
            SignatureValueCheck::NotChecked { .. } => (Verdict::Unverifiable, key_text),
        }
    };
    report.verdict = verdict;
    report.verdict_text = format!("{text}{covers}");
}
