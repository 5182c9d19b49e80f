//! How a [`SignatureReport`] is shown: the view subtree (verdict, algorithms, each reference with
//! its target and digest result, the embedded certificates, problems and warnings) and the
//! findings (the verdict, then one warning per policy finding).
//!
//! Not responsible for deciding the verdict (see [`super::verification`]).

use super::*;

impl SignatureReport {
    /// The report as a view subtree for decoders: verdict, algorithms, each reference with its
    /// target and digest result, the embedded certificates, problems and warnings. The signature
    /// bytes themselves are not included.
    pub fn to_node(&self, doc: &Document<'_>) -> Node {
        let verdict_kind = match self.verdict {
            Verdict::Valid => Kind::Text,
            // Not checked is neither good nor bad news: a plain field.
            Verdict::NotChecked => Kind::Field,
            Verdict::Invalid | Verdict::Rejected => Kind::Error,
        };
        let mut root = Node::section("ds:Signature")
            .with_child(Node::leaf(
                "verdict",
                self.verdict_text.clone(),
                verdict_kind,
            ))
            .with_child(Node::field(
                "CanonicalizationMethod",
                self.canonicalization.clone(),
            ))
            .with_child(Node::field(
                "SignatureMethod",
                self.signature_algorithm.name(),
            ));
        for r in &self.references {
            let digest = match &r.digest {
                DigestCheck::Match => Node::field("digest", "matches"),
                DigestCheck::Mismatch { expected, computed } => Node::leaf(
                    "digest",
                    format!("MISMATCH: DigestValue {expected}, content hashes to {computed}"),
                    Kind::Error,
                ),
                DigestCheck::Refused { reason } => {
                    Node::leaf("digest", format!("refused: {reason}"), Kind::Error)
                }
                DigestCheck::NotComputed { reason } => {
                    Node::field("digest", format!("not checked: {reason}"))
                }
            };
            root.push(
                Node::section(format!("Reference {}", r.uri))
                    .with_child(Node::field("covers", describe_target(doc, r)))
                    .with_child(Node::field("transforms", r.transforms.join(", ")))
                    .with_child(Node::field(
                        "DigestMethod",
                        r.digest_algorithm.name().to_string(),
                    ))
                    .with_child(digest),
            );
        }
        for (i, c) in self.embedded_certificates.iter().enumerate() {
            root.push(
                Node::section(format!("KeyInfo certificate {}", i + 1))
                    .with_note("shown for information; an embedded certificate proves nothing")
                    .with_child(Node::field("subject", c.subject.clone()))
                    .with_child(Node::field("issuer", c.issuer.clone()))
                    .with_child(Node::field("thumbprint (SHA-1)", c.thumbprint.clone()))
                    .with_child(Node::field("serial", c.serial.clone()))
                    .with_child(Node::field("not before", c.not_before.clone()))
                    .with_child(Node::field("not after", c.not_after.clone()))
                    .with_child(Node::field("key", c.key.clone())),
            );
        }
        for p in &self.problems {
            root.push(Node::leaf("problem", p.clone(), Kind::Error));
        }
        for w in &self.warnings {
            root.push(Node::field("warning", w.message()));
        }
        root
    }

    /// The verdict as a finding: info when valid, warning when not checked, error when invalid
    /// or rejected.
    pub fn finding(&self) -> Finding {
        match self.verdict {
            Verdict::Valid => Finding::info(format!("XML signature: {}", self.verdict_text)),
            Verdict::NotChecked if self.value_redacted() => {
                Finding::info(format!("XML signature not checked: {}", self.verdict_text))
            }
            Verdict::NotChecked => {
                Finding::warning(format!("XML signature not checked: {}", self.verdict_text))
            }
            Verdict::Invalid | Verdict::Rejected => {
                Finding::error(format!("XML signature: {}", self.verdict_text))
            }
        }
    }

    /// One warning finding per policy finding ([`SignatureReport::warnings`]), each starting
    /// with `about the XML signature on {what}:`. Only verdict findings ([`Self::finding`], and
    /// the decoders' own) start with `XML signature`, so a reader of findings can tell a verdict
    /// from a remark about a signature whose verdict stands.
    pub fn warning_findings(&self, what: &str) -> Vec<Finding> {
        self.warnings
            .iter()
            .map(|w| {
                Finding::warning(format!(
                    "about the XML signature on {what}: {}",
                    w.message()
                ))
            })
            .collect()
    }
}
