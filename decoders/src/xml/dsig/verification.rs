//! Verifying one `ds:Signature`: its structure (exactly one `SignedInfo`, the parts it needs),
//! each reference, the `SignatureValue` against the trusted and the embedded keys, the policy
//! warnings, and the [`Verdict`] with its sentence.
//!
//! Not responsible for the signature-wrapping checks on a whole document (see
//! [`super::wrapping`]) or for how a report is shown (see [`super::report`]).

use super::algorithms::{digest_alias, signature_alias};
use super::crypto::{self, KeyCheck};
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
        signature_method: String::new(),
        signature_algorithm: SignatureAlgorithm::Unsupported(String::new()),
        references: Vec::new(),
        signature_value: SignatureValueCheck::NotChecked {
            reason: Unchecked::NoAnchor,
            embedded: None,
        },
        embedded_certificates: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        verdict: Verdict::NotChecked,
        verdict_text: String::new(),
    };
    if !doc.is(signature, DSIG_NS, "Signature") {
        report
            .problems
            .push("the node is not a ds:Signature element".into());
        finish(&mut report, doc, false);
        return report;
    }
    let found = embedded_certificates(doc, signature);
    let embedded: Vec<x509::Certificate> = found
        .ders
        .iter()
        .filter_map(|d| x509::Certificate::parse(d).ok())
        .collect();
    report.embedded_certificates = embedded.iter().map(CertInfo::from_cert).collect();
    if found.pem_wrapped {
        report.warnings.push(Warning::PemInX509Certificate);
    }
    let unreadable = found.undecodable + found.ders.len().saturating_sub(embedded.len());
    if unreadable > 0 {
        report
            .warnings
            .push(Warning::UnreadableCertificate { count: unreadable });
    }

    let Some(signed_info) = single_signed_info(doc, signature, &mut report) else {
        finish(&mut report, doc, false);
        return report;
    };
    let c14n_el = doc.find_child(signed_info, DSIG_NS, "CanonicalizationMethod");
    report.canonicalization = c14n_el
        .and_then(|e| doc.attribute(e, "Algorithm"))
        .unwrap_or("")
        .to_string();
    match doc.find_child(signed_info, DSIG_NS, "SignatureMethod") {
        Some(m) => {
            report.signature_method = doc.attribute(m, "Algorithm").unwrap_or("").to_string();
            report.signature_algorithm = SignatureAlgorithm::from_uri(&report.signature_method);
        }
        None => report.problems.push("ds:SignatureMethod is missing".into()),
    }
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
    policy_warnings(&mut report);
    if report.problems.is_empty() {
        let input = SignedInput {
            doc,
            signature,
            signed_info,
            c14n_el,
            limits,
        };
        match check_signature_value(&input, &report.signature_algorithm, keys, &embedded) {
            Ok((check, weak)) => {
                report.signature_value = check;
                report.warnings.extend(weak);
                finish(&mut report, doc, true);
            }
            Err(problem) => {
                report.problems.push(problem);
                finish(&mut report, doc, false);
            }
        }
    } else {
        finish(&mut report, doc, false);
    }
    report
}

/// The one `ds:SignedInfo` child of the signature, or `None` with the problem recorded. A
/// `SignedInfo` nested deeper (not inside another signature) is ignored with a warning.
fn single_signed_info(
    doc: &Document<'_>,
    signature: NodeId,
    report: &mut SignatureReport,
) -> Option<NodeId> {
    let children: Vec<NodeId> = doc
        .find_children(signature, DSIG_NS, "SignedInfo")
        .collect();
    let nested: Vec<NodeId> = doc
        .find_descendants(signature, DSIG_NS, "SignedInfo")
        .filter(|n| {
            doc.parent(*n) != Some(signature)
                && doc.ancestors(*n).find(|a| doc.is(*a, DSIG_NS, "Signature")) == Some(signature)
        })
        .collect();
    if let Some(first) = nested.first() {
        report.warnings.push(Warning::NestedSignedInfo {
            offset: doc.offset(*first),
            count: nested.len(),
        });
    }
    match children.as_slice() {
        [one] => Some(*one),
        [] => {
            report.problems.push("ds:SignedInfo is missing".into());
            None
        }
        many => {
            let at: Vec<String> = many.iter().map(|n| doc.offset(*n).to_string()).collect();
            report.problems.push(format!(
                "the signature has {} ds:SignedInfo elements (at bytes {}); exactly one is \
                 allowed, since which one was signed cannot be told",
                many.len(),
                at.join(", ")
            ));
            None
        }
    }
}

/// SHA-1 and non-standard URI warnings for the signature method and every reference.
fn policy_warnings(report: &mut SignatureReport) {
    let mut sha1 = Vec::new();
    if report.signature_algorithm.hash() == Some(Hash::Sha1) {
        sha1.push(format!(
            "SignatureMethod {}",
            report.signature_algorithm.name()
        ));
    }
    if let Some(standard) = signature_alias(&report.signature_method) {
        report.warnings.push(Warning::NonStandardUri {
            what: "SignatureMethod".into(),
            uri: report.signature_method.clone(),
            standard,
        });
    }
    for r in &report.references {
        let what = format!("DigestMethod of Reference {}", quoted_uri(&r.uri));
        if r.digest_algorithm == DigestAlgorithm::Known(Hash::Sha1) {
            sha1.push(what.clone());
        }
        if let Some(standard) = digest_alias(&r.digest_method) {
            report.warnings.push(Warning::NonStandardUri {
                what,
                uri: r.digest_method.clone(),
                standard,
            });
        }
    }
    if !sha1.is_empty() {
        report.warnings.push(Warning::Sha1 { places: sha1 });
    }
}

/// What the signature value is computed over.
struct SignedInput<'r, 'd, 'a> {
    doc: &'d Document<'a>,
    signature: NodeId,
    signed_info: NodeId,
    c14n_el: Option<NodeId>,
    limits: &'r Limits,
}

/// The signature value check, with a weak-key warning when the key that verifies it is weak;
/// `Err` is a structural problem (the signature is then rejected).
fn check_signature_value(
    input: &SignedInput<'_, '_, '_>,
    alg: &SignatureAlgorithm,
    keys: &[TrustedCert],
    embedded: &[x509::Certificate],
) -> Result<(SignatureValueCheck, Option<Warning>), String> {
    let doc = input.doc;
    let not = |reason: Unchecked| {
        Ok((
            SignatureValueCheck::NotChecked {
                reason,
                embedded: None,
            },
            None,
        ))
    };
    let Some(c14n_el) = input.c14n_el else {
        return Err("ds:CanonicalizationMethod is missing".into());
    };
    let Some(value_el) = doc.find_child(input.signature, DSIG_NS, "SignatureValue") else {
        return Err("ds:SignatureValue is missing".into());
    };
    if crate::secrets::redaction_marker(&doc.text_content(value_el)).is_some() {
        return not(Unchecked::Redacted);
    }
    let Some(sig) = util::b64_decode_any(&b64_compact(&doc.text_content(value_el)), 4096) else {
        return Err("ds:SignatureValue is not valid base64".into());
    };
    match alg {
        SignatureAlgorithm::Hmac(uri) => {
            return not(Unchecked::HmacNeedsKey { uri: uri.clone() });
        }
        SignatureAlgorithm::Unsupported(uri) => {
            return not(Unchecked::UnsupportedAlgorithm {
                what: "SignatureMethod",
                uri: uri.clone(),
            });
        }
        _ => {}
    }
    let c14n_uri = doc.attribute(c14n_el, "Algorithm").unwrap_or("");
    let Some(mut opts) = Options::from_uri(c14n_uri) else {
        return not(Unchecked::UnsupportedAlgorithm {
            what: "CanonicalizationMethod",
            uri: c14n_uri.to_string(),
        });
    };
    opts.inclusive_prefixes = prefix_list(doc, c14n_el);
    let signed = match c14n::canonicalize(doc, Some(input.signed_info), &opts, input.limits) {
        Ok(s) => s,
        Err(e) => {
            return not(Unchecked::Limit {
                why: format!("cannot canonicalize SignedInfo: {e}"),
            });
        }
    };
    let weak = |bits: Option<usize>, cert: &CertInfo| {
        bits.map(|bits| Warning::WeakRsaKey {
            bits,
            cert: cert.label(),
        })
    };
    let mut tried = Vec::new();
    let mut unusable = Vec::new();
    for k in keys {
        let cert = x509::Certificate::parse(&k.der).ok();
        let info = cert
            .as_ref()
            .map_or_else(|| CertInfo::unparsable(&k.der), CertInfo::from_cert);
        let Some(cert) = cert else {
            unusable.push(format!(
                "certificate {} from {}: not a parsable certificate",
                info.label(),
                k.source
            ));
            continue;
        };
        match crypto::check(alg, &cert, &signed, &sig) {
            KeyCheck::Verified { weak_rsa_bits } => {
                let w = weak(weak_rsa_bits, &info);
                let check = SignatureValueCheck::Verified {
                    cert: info,
                    source: k.source.clone(),
                };
                return Ok((check, w));
            }
            KeyCheck::Mismatch => tried.push((info, k.source.clone())),
            KeyCheck::Unusable(why) => unusable.push(format!(
                "certificate {} from {}: {why}",
                info.label(),
                k.source
            )),
        }
    }
    let mut warning = None;
    let consistent = embedded
        .iter()
        .find_map(|c| match crypto::check(alg, c, &signed, &sig) {
            KeyCheck::Verified { weak_rsa_bits } => {
                let info = CertInfo::from_cert(c);
                warning = weak(weak_rsa_bits, &info);
                Some(info)
            }
            _ => None,
        });
    let check = if !tried.is_empty() {
        SignatureValueCheck::Failed {
            tried,
            embedded: consistent,
        }
    } else if !unusable.is_empty() {
        SignatureValueCheck::NotChecked {
            reason: Unchecked::KeyUnusable { reasons: unusable },
            embedded: consistent,
        }
    } else {
        SignatureValueCheck::NotChecked {
            reason: Unchecked::NoAnchor,
            embedded: consistent,
        }
    };
    Ok((check, warning))
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
    let named: Vec<String> = tried
        .iter()
        .map(|(c, s)| format!("certificate {} from {s}", c.label()))
        .collect();
    join_capped(&named, " or ")
}

/// The sentence about the key: which one verified, which ones failed, or why none was tried.
fn key_text(report: &SignatureReport) -> String {
    match &report.signature_value {
        SignatureValueCheck::Verified { cert, source } => {
            format!("verified with certificate {} from {source}", cert.label())
        }
        SignatureValueCheck::Failed {
            tried,
            embedded: Some(cert),
        } => format!(
            "signature value does not verify with {}; it is consistent only with the embedded \
             certificate {}, which is not trusted",
            tried_text(tried),
            cert.label()
        ),
        SignatureValueCheck::Failed {
            tried,
            embedded: None,
        } => {
            format!("signature value does not verify with {}", tried_text(tried))
        }
        SignatureValueCheck::NotChecked {
            reason: Unchecked::NoAnchor,
            embedded: Some(cert),
        } => format!(
            "signature consistent with the embedded certificate {}, which is not trusted",
            cert.label()
        ),
        SignatureValueCheck::NotChecked {
            reason: Unchecked::NoAnchor,
            embedded: None,
        } if report.embedded_certificates.is_empty() => {
            let unreadable = report
                .warnings
                .iter()
                .any(|w| matches!(w, Warning::UnreadableCertificate { .. }));
            if unreadable {
                "signature not checked: no trusted certificate given, and the certificate the \
                 signature carries cannot be read"
                    .to_string()
            } else {
                "signature not checked: no trusted certificate given, and the signature carries \
                 no certificate"
                    .to_string()
            }
        }
        SignatureValueCheck::NotChecked {
            reason: Unchecked::NoAnchor,
            embedded: None,
        } => "signature not checked: no trusted certificate given (the embedded certificate \
              does not verify it either)"
            .to_string(),
        SignatureValueCheck::NotChecked { reason, .. } => {
            format!("signature not checked: {}", reason.text())
        }
    }
}

/// Sets the verdict and its sentence. `value_checked` is false when structural problems
/// stopped the check before the signature value.
fn finish(report: &mut SignatureReport, doc: &Document<'_>, value_checked: bool) {
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
    let (mut refused, mut mismatched, mut not_computed) = (Vec::new(), Vec::new(), Vec::new());
    for r in &report.references {
        let uri = quoted_uri(&r.uri);
        match &r.digest {
            DigestCheck::Match => {}
            DigestCheck::Mismatch { .. } => mismatched.push(format!(
                "digest mismatch on Reference {uri} ({}): the signed content was changed",
                describe_target(doc, r)
            )),
            DigestCheck::Refused { reason } => refused.push(format!("Reference {uri}: {reason}")),
            DigestCheck::NotComputed { reason } => {
                not_computed.push(format!("Reference {uri} not checked: {reason}"))
            }
        }
    }
    let key = key_text(report);
    let (verdict, text) = if !report.problems.is_empty() || !refused.is_empty() {
        let mut reasons = report.problems.clone();
        reasons.extend(refused);
        reasons.extend(mismatched);
        let text = if value_checked {
            format!("REJECTED: {} ({key})", reasons.join("; "))
        } else {
            format!("REJECTED: {}", reasons.join("; "))
        };
        (Verdict::Rejected, text)
    } else if report.value_redacted() {
        // Redaction may also have changed the signed content (a value masked inside it): a
        // digest that no longer matches is told, not taken for tampering.
        let mut text = key;
        if !mismatched.is_empty() {
            text.push_str(&format!(
                "; {} (a redacted copy may differ from what was signed)",
                mismatched.join("; ")
            ));
        }
        (Verdict::NotChecked, text)
    } else if !mismatched.is_empty() {
        mismatched.extend(not_computed);
        (
            Verdict::Invalid,
            format!("INVALID: {} ({key})", mismatched.join("; ")),
        )
    } else if matches!(report.signature_value, SignatureValueCheck::Failed { .. }) {
        (Verdict::Invalid, format!("INVALID: {key}"))
    } else if !not_computed.is_empty() {
        (
            Verdict::NotChecked,
            format!("{} ({key})", not_computed.join("; ")),
        )
    } else if matches!(report.signature_value, SignatureValueCheck::Verified { .. }) {
        (Verdict::Valid, key)
    } else {
        (Verdict::NotChecked, key)
    };
    report.verdict = verdict;
    report.verdict_text = format!("{text}{covers}");
}
