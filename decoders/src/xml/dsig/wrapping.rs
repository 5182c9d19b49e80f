//! The signature-wrapping findings on a whole document: whether the signatures verified cover
//! the element whose claims a decoder shows, duplicate IDs, several assertions, comments inside
//! names, whole-document references and unusual transforms.
//!
//! Not responsible for verifying signatures (see [`super::verification`]).

use super::references::resolve;
use super::*;

/// Signature-wrapping and related findings for a document whose element `shown` supplies the
/// claims a decoder displays (usually an `Assertion`). Checks, without any key:
/// * no signature covers `shown` (it is neither a referenced element nor inside one) while some
///   signature covers something else: error (classic signature wrapping);
/// * the document has no signature at all: warning;
/// * an ID carried by more than one element: error;
/// * more than one SAML assertion: warning;
/// * a comment inside `NameID`, `NameIdentifier` or `AttributeValue`: error (truncation attack);
/// * a reference to the whole document (`URI=""`) instead of an ID: warning;
/// * a reference that resolves to nothing: error;
/// * transforms other than enveloped-signature and exc-c14n: warning.
pub fn wrapping_findings(doc: &Document<'_>, shown: NodeId) -> Vec<Finding> {
    let mut out = Vec::new();
    let shown_label = format!(
        "{}{} at byte {}",
        doc.qname(shown),
        doc.id_attribute(shown)
            .map(|i| format!(" ID={i}"))
            .unwrap_or_default(),
        doc.offset(shown)
    );
    let sigs = find_signatures(doc);
    let mut covered: Vec<(NodeId, String)> = Vec::new();
    for sig in &sigs {
        let Some(si) = doc.find_child(*sig, DSIG_NS, "SignedInfo") else {
            continue;
        };
        for r in doc.find_children(si, DSIG_NS, "Reference") {
            let uri = doc.attribute(r, "URI").unwrap_or("");
            let (target, _) = resolve(doc, uri);
            match target {
                ReferenceTarget::WholeDocument => {
                    if let Some(root) = doc.root() {
                        covered.push((root, "the whole document".into()));
                    }
                    out.push(
                        Finding::warning(format!(
                            "the signature at byte {} references the whole document (URI=\"{uri}\") \
                             instead of the signed element by ID",
                            doc.offset(*sig)
                        ))
                        .at(doc.path(*sig)),
                    );
                }
                ReferenceTarget::Element {
                    node, qname, id, ..
                } => {
                    covered.push((
                        node,
                        format!("{qname} ID={id} at byte {}", doc.offset(node)),
                    ));
                }
                ReferenceTarget::Ambiguous { candidates, id } => {
                    for c in candidates {
                        covered.push((
                            c,
                            format!("{} ID={id} at byte {}", doc.qname(c), doc.offset(c)),
                        ));
                    }
                }
                ReferenceTarget::NotFound { id } => out.push(
                    Finding::error(format!(
                        "the signature at byte {} references ID `{id}`, which no element carries",
                        doc.offset(*sig)
                    ))
                    .at(doc.path(*sig)),
                ),
                ReferenceTarget::External => out.push(
                    Finding::warning(format!(
                        "the signature at byte {} references `{uri}` outside the document (never \
                         fetched)",
                        doc.offset(*sig)
                    ))
                    .at(doc.path(*sig)),
                ),
            }
            if let Some(ts) = doc.find_child(r, DSIG_NS, "Transforms") {
                let odd: Vec<&str> = doc
                    .find_children(ts, DSIG_NS, "Transform")
                    .filter_map(|t| doc.attribute(t, "Algorithm"))
                    .filter(|a| *a != ENVELOPED_SIGNATURE && *a != EXC_C14N)
                    .collect();
                if !odd.is_empty() {
                    out.push(
                        Finding::warning(format!(
                            "Reference {} uses transforms other than enveloped-signature and \
                             exc-c14n: {}",
                            if uri.is_empty() { "\"\"" } else { uri },
                            odd.join(", ")
                        ))
                        .at(doc.path(r)),
                    );
                }
            }
        }
    }
    if sigs.is_empty() {
        out.push(
            Finding::warning(format!(
                "the claims shown come from {shown_label}, and the document carries no XML \
                 signature"
            ))
            .at(doc.path(shown)),
        );
    } else if !covered.iter().any(|(c, _)| doc.is_inside(shown, *c)) {
        let what: Vec<&str> = covered.iter().map(|(_, l)| l.as_str()).collect();
        out.push(
            Finding::error(format!(
                "signature wrapping: the claims shown come from {shown_label}, but the \
                 signature covers {}",
                if what.is_empty() {
                    "nothing that resolves".to_string()
                } else {
                    what.join(", ")
                }
            ))
            .at(doc.path(shown)),
        );
    }
    for (id, nodes) in doc.duplicate_ids() {
        let places: Vec<String> = nodes
            .iter()
            .map(|n| format!("{} at byte {}", doc.qname(*n), doc.offset(*n)))
            .collect();
        out.push(Finding::error(format!(
            "duplicate ID `{id}` on {} elements ({}): a signature reference to it is ambiguous",
            nodes.len(),
            places.join(", ")
        )));
    }
    let assertions: Vec<NodeId> = doc
        .elements()
        .filter(|e| doc.is(*e, SAML2_NS, "Assertion") || doc.is(*e, SAML1_NS, "Assertion"))
        .collect();
    if assertions.len() > 1 {
        let places: Vec<String> = assertions
            .iter()
            .map(|n| format!("{} at byte {}", doc.path(*n), doc.offset(*n)))
            .collect();
        out.push(Finding::warning(format!(
            "{} assertions in one document ({}); only one is expected",
            assertions.len(),
            places.join(", ")
        )));
    }
    for e in doc.elements() {
        let ns = doc.namespace(e);
        let local = doc.local_name(e);
        if !(ns == SAML1_NS || ns == SAML2_NS)
            || !matches!(local, "NameID" | "NameIdentifier" | "AttributeValue")
        {
            continue;
        }
        if doc
            .descendants(e)
            .any(|d| doc.kind(d) == Some(NodeKind::Comment))
        {
            let first_text = doc
                .children(e)
                .find(|c| matches!(doc.kind(*c), Some(NodeKind::Text | NodeKind::CData)))
                .and_then(|c| doc.text(c))
                .unwrap_or("");
            out.push(
                Finding::error(format!(
                    "comment inside {} at byte {}: its value is `{}`, but a consumer that reads \
                     only the first text node sees `{first_text}` (comment truncation attack; the \
                     signature does not cover comments)",
                    doc.qname(e),
                    doc.offset(e),
                    doc.text_content(e)
                ))
                .at(doc.path(e)),
            );
        }
    }
    out
}
