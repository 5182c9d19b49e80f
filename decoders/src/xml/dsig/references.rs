//! Signature references: resolving a `Reference URI` to the element it names (by ID, never
//! fetched), applying its transforms, canonicalizing the result and comparing its digest. A
//! reference whose ID no element or more than one element carries, or whose enveloped-signature
//! transform would remove everything it names, is refused before any hashing.
//!
//! Not responsible for the `SignatureValue` or the verdict (see [`super::verification`]).

use super::*;

pub(super) fn prefix_list(doc: &Document<'_>, method_el: NodeId) -> Vec<String> {
    doc.find_child(method_el, EXC_C14N, "InclusiveNamespaces")
        .and_then(|e| doc.attribute(e, "PrefixList"))
        .map(|l| l.split_ascii_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

pub(super) fn resolve(doc: &Document<'_>, uri: &str) -> (ReferenceTarget, bool) {
    if uri.is_empty() {
        return (ReferenceTarget::WholeDocument, false);
    }
    let Some(frag) = uri.strip_prefix('#') else {
        return (ReferenceTarget::External, false);
    };
    if frag == "xpointer(/)" {
        return (ReferenceTarget::WholeDocument, true);
    }
    // `#xpointer(id('x'))` keeps comments; a bare `#x` drops them (XML-DSig §4.3.3.3).
    let (id, keep_comments) = match frag
        .strip_prefix("xpointer(id(")
        .and_then(|r| r.strip_suffix("))"))
    {
        Some(quoted) => (quoted.trim_matches(|c| c == '\'' || c == '"'), true),
        None => (frag, false),
    };
    let found = doc.elements_by_id(id);
    let target = match found.as_slice() {
        [] => ReferenceTarget::NotFound { id: id.to_string() },
        [one] => ReferenceTarget::Element {
            node: *one,
            qname: doc.qname(*one).to_string(),
            local_name: doc.local_name(*one).to_string(),
            id: id.to_string(),
        },
        _ => ReferenceTarget::Ambiguous {
            id: id.to_string(),
            candidates: found,
        },
    };
    (target, keep_comments)
}

/// The canonical octets a reference digests, or why they cannot be computed.
fn reference_octets(
    doc: &Document<'_>,
    signature: NodeId,
    transforms: &[(String, NodeId)],
    apex: Option<NodeId>,
    keep_comments: bool,
    limits: &Limits,
) -> Result<Vec<u8>, String> {
    let mut opts = Options::new(Method::INCLUSIVE);
    let mut seen_c14n = false;
    for (alg, el) in transforms {
        if seen_c14n {
            return Err(format!(
                "transform {alg} after canonicalization is not supported"
            ));
        }
        if alg == ENVELOPED_SIGNATURE {
            opts.exclude = Some(signature);
        } else if let Some(o) = Options::from_uri(alg) {
            opts.method = o.method;
            opts.version = o.version;
            opts.inclusive_prefixes = prefix_list(doc, *el);
            seen_c14n = true;
        } else {
            return Err(format!(
                "transform {alg} is not supported (only enveloped-signature and \
                 canonicalization are run; XPath, XSLT and others never are)"
            ));
        }
    }
    opts.method.with_comments &= keep_comments;
    c14n::canonicalize(doc, apex, &opts, limits).map_err(|e| e.to_string())
}

pub(super) fn b64_compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

pub(super) fn check_reference(
    doc: &Document<'_>,
    signature: NodeId,
    reference: NodeId,
    limits: &Limits,
) -> ReferenceReport {
    let uri = doc.attribute(reference, "URI").unwrap_or("").to_string();
    let (target, keep_comments) = resolve(doc, &uri);
    let transforms: Vec<(String, NodeId)> = doc
        .find_child(reference, DSIG_NS, "Transforms")
        .map(|ts| {
            doc.find_children(ts, DSIG_NS, "Transform")
                .map(|t| (doc.attribute(t, "Algorithm").unwrap_or("").to_string(), t))
                .collect()
        })
        .unwrap_or_default();
    let digest_method = doc
        .find_child(reference, DSIG_NS, "DigestMethod")
        .and_then(|e| doc.attribute(e, "Algorithm"))
        .unwrap_or("")
        .to_string();
    let digest_algorithm = DigestAlgorithm::from_uri(&digest_method);
    let expected = doc
        .find_child(reference, DSIG_NS, "DigestValue")
        .map(|e| b64_compact(&doc.text_content(e)))
        .unwrap_or_default();
    let expected_redacted = crate::secrets::redaction_marker(&expected).is_some();
    let enveloped = transforms.iter().any(|(a, _)| a == ENVELOPED_SIGNATURE);
    let mut report = ReferenceReport {
        uri,
        target: target.clone(),
        transforms: transforms.iter().map(|(a, _)| a.clone()).collect(),
        digest_method,
        digest_algorithm: digest_algorithm.clone(),
        digest: DigestCheck::NotComputed {
            reason: String::new(),
        },
    };
    let refused = |reason: String| DigestCheck::Refused { reason };
    match &target {
        ReferenceTarget::NotFound { id } => {
            report.digest = refused(format!("no element carries ID `{id}`"));
            return report;
        }
        ReferenceTarget::Element { node, .. } if enveloped && doc.is_inside(*node, signature) => {
            report.digest = refused(
                "the enveloped-signature transform removes the ds:Signature, and the referenced \
                 element lies inside it, so the reference would cover nothing"
                    .to_string(),
            );
            return report;
        }
        _ => {}
    }
    if expected_redacted {
        report.digest = DigestCheck::NotComputed {
            reason: "the digest value was removed by redaction (a shareable copy made by \
                     idscope redact)"
                .to_string(),
        };
        return report;
    }
    let DigestAlgorithm::Known(hash) = digest_algorithm else {
        report.digest = DigestCheck::NotComputed {
            reason: format!(
                "digest algorithm {} is not supported",
                digest_algorithm.name()
            ),
        };
        return report;
    };
    let alg = hash.digest();
    let expected_bytes = util::b64_decode_any(&expected, 1024);
    let octets_of = |apex: Option<NodeId>| {
        reference_octets(doc, signature, &transforms, apex, keep_comments, limits)
    };
    let compute = |apex: Option<NodeId>| -> Result<String, String> {
        Ok(util::b64_std(
            digest::digest(alg, &octets_of(apex)?).as_ref(),
        ))
    };
    let matches = |computed: &str| -> bool {
        expected_bytes.is_some() && util::b64_decode_any(computed, 1024) == expected_bytes
    };
    report.digest = match &target {
        ReferenceTarget::External => DigestCheck::NotComputed {
            reason: "external reference; never fetched".into(),
        },
        ReferenceTarget::NotFound { id } => refused(format!("no element carries ID `{id}`")),
        ReferenceTarget::Ambiguous { id, candidates } => {
            let matching: Vec<String> = candidates
                .iter()
                .take(MAX_AMBIGUOUS_CANDIDATES)
                .filter(|c| compute(Some(**c)).is_ok_and(|d| matches(&d)))
                .map(|c| format!("{} at byte {}", doc.qname(*c), doc.offset(*c)))
                .collect();
            refused(format!(
                "ID `{id}` is carried by {} elements, so the reference is ambiguous; the digest \
                 matches {}",
                candidates.len(),
                if matching.is_empty() {
                    "none of them".to_string()
                } else {
                    matching.join(", ")
                }
            ))
        }
        ReferenceTarget::WholeDocument | ReferenceTarget::Element { .. } => {
            let apex = match &target {
                ReferenceTarget::Element { node, .. } => Some(*node),
                _ => None,
            };
            match octets_of(apex) {
                Ok(octets) => {
                    let computed = util::b64_std(digest::digest(alg, &octets).as_ref());
                    if matches(&computed) {
                        DigestCheck::Match
                    } else if crate::secrets::contains_redaction_marker(&String::from_utf8_lossy(
                        &octets,
                    )) {
                        // Redaction changed what was signed: a mismatch says nothing here.
                        DigestCheck::NotComputed {
                            reason: "the signed content holds values removed by redaction (a \
                                     shareable copy made by idscope redact), so its digest \
                                     cannot match"
                                .to_string(),
                        }
                    } else {
                        DigestCheck::Mismatch {
                            expected: expected.clone(),
                            computed,
                        }
                    }
                }
                Err(reason) => DigestCheck::NotComputed { reason },
            }
        }
    };
    report
}
