//! Signature verdicts for any XML document, whatever its vocabulary: every `ds:Signature`
//! (enveloped, enveloping or detached within the document) verified with the trusted
//! certificates, each shown as a view node and summed up as findings. This is what a viewer of
//! XML that no protocol decoder claims (WS-Security messages, signed configuration, receipts)
//! calls to show signatures.
//!
//! Not responsible for deciding which element's claims matter (protocol decoders do that, with
//! [`super::wrapping_findings`]), or for parsing.

use super::*;

/// Most signatures [`verify_document`] verifies in one document; a finding says how many more
/// were left unverified.
pub const MAX_SIGNATURES: usize = 16;

/// Where a signature sits relative to the content it signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Inside the element it signs (SAML, metadata, `URI=""`).
    Enveloped,
    /// The signed content (a `ds:Object`) is inside the signature.
    Enveloping,
    /// The signed element is elsewhere in the same document (WS-Security headers).
    Detached,
    /// No reference resolves to one element, so the placement is not known.
    Unknown,
}

impl Placement {
    /// `enveloped`, `enveloping`, `detached`, `unresolved`.
    pub fn name(self) -> &'static str {
        match self {
            Placement::Enveloped => "enveloped",
            Placement::Enveloping => "enveloping",
            Placement::Detached => "detached",
            Placement::Unknown => "unresolved",
        }
    }
}

/// Every signature of a document: reports, view nodes and findings (see [`verify_document`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSignatures {
    /// One report per verified signature, in document order, with where it sits.
    pub reports: Vec<(SignatureReport, Placement)>,
    /// One view node per verified signature, labelled `ds:Signature in PATH` and carrying a
    /// `placement` field after the verdict.
    pub nodes: Vec<Node>,
    /// For each signature its verdict (info when valid, warning when not checked, error when
    /// invalid or rejected, located at the signature) and its policy warnings; then a warning
    /// when more than [`MAX_SIGNATURES`] signatures were found.
    pub findings: Vec<Finding>,
}

impl DocumentSignatures {
    /// True when the document carries no `ds:Signature`.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }
}

fn placement(doc: &Document<'_>, report: &SignatureReport) -> Placement {
    let covered = report.covered_elements(doc);
    let sig = report.signature;
    if covered.iter().any(|c| doc.is_inside(sig, *c)) {
        Placement::Enveloped
    } else if covered.iter().any(|c| doc.is_inside(*c, sig)) {
        Placement::Enveloping
    } else if covered.is_empty() {
        Placement::Unknown
    } else {
        Placement::Detached
    }
}

/// Finds every `ds:Signature` of `doc` (in document order, at most [`MAX_SIGNATURES`]),
/// verifies each with the trusted certificates `keys` under `limits`, and returns the reports,
/// one view node per signature and the findings. A document without signatures gives an empty
/// result and no finding. Verdicts follow the module documentation: valid only with a trusted
/// certificate, named; invalid only when the bytes do not verify; rejected for structure;
/// otherwise not checked, with the reason.
///
/// ```
/// use idscope_decoders::Limits;
/// use idscope_decoders::xml::{Document, dsig};
///
/// let xml = r##"<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><a Id="x">1</a><ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"/><ds:Reference URI="#x"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature></r>"##;
/// let doc = Document::parse(xml, &Limits::default()).unwrap();
/// let found = dsig::verify_document(&doc, &[], &Limits::default());
/// assert_eq!(found.reports.len(), 1);
/// assert_eq!(found.reports[0].1, dsig::Placement::Detached);
/// assert_eq!(found.nodes[0].label, "ds:Signature in r");
/// ```
pub fn verify_document(
    doc: &Document<'_>,
    keys: &[TrustedCert],
    limits: &Limits,
) -> DocumentSignatures {
    let all = find_signatures(doc);
    let mut out = DocumentSignatures {
        reports: Vec::new(),
        nodes: Vec::new(),
        findings: Vec::new(),
    };
    for sig in all.iter().take(MAX_SIGNATURES) {
        let report = verify_with_limits(doc, *sig, keys, limits);
        let place = placement(doc, &report);
        let parent = doc
            .parent(*sig)
            .map(|p| doc.path(p))
            .unwrap_or_else(|| "the document".to_string());
        let mut node = report.to_node(doc);
        node.label = format!("ds:Signature in {parent}");
        let at = node.children.len().min(1);
        node.children
            .insert(at, Node::field("placement", place.name()));
        out.nodes.push(node);
        let what = format!("the {} signature in {parent}", place.name());
        let finding = match report.verdict {
            Verdict::Valid => {
                Finding::info(format!("XML signature: {what}: {}", report.verdict_text))
            }
            Verdict::NotChecked if report.value_redacted() => Finding::info(format!(
                "XML signature not checked: {what}: {}",
                report.verdict_text
            )),
            Verdict::NotChecked => Finding::warning(format!(
                "XML signature not checked: {what}: {}",
                report.verdict_text
            )),
            Verdict::Invalid | Verdict::Rejected => {
                Finding::error(format!("XML signature: {what}: {}", report.verdict_text))
            }
        };
        let path = doc.path(*sig);
        out.findings.push(finding.at(path.clone()));
        out.findings.extend(
            report
                .warning_findings(&what)
                .into_iter()
                .map(|f| f.at(path.clone())),
        );
        out.reports.push((report, place));
    }
    if all.len() > MAX_SIGNATURES {
        out.findings.push(Finding::warning(format!(
            "the document carries {} XML signatures; only the first {MAX_SIGNATURES} were \
             verified",
            all.len()
        )));
    }
    out
}
