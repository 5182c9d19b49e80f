//! XML-DSig verification for captured SAML, WS-* and any other signed XML, and the
//! signature-wrapping findings that decide whether a verified signature says anything about the
//! claims shown.
//!
//! [`verify`] reports, for one `ds:Signature`: which element each `Reference` resolves to (by ID,
//! with its name), the digest algorithm and whether each digest matches, the `SignatureMethod`,
//! whether the `SignatureValue` verifies, and with which key. [`verify_document`] does that for
//! every signature of any XML document and returns view nodes and findings, for documents no
//! protocol decoder claims.
//!
//! ## Verdicts
//!
//! A report's [`Verdict`] is one of four, and each says exactly what was established:
//! * **valid**: the `SignatureValue` verifies with a certificate the caller trusts
//!   ([`TrustedCert`]: pinned with `--trust-cert FILE`, or the signing certificate of
//!   FederationMetadata/MEX in the same capture) and every reference digest matches; the text
//!   names the certificate and where it came from;
//! * **invalid**: the bytes do not verify: a reference digest does not match, or the trusted
//!   certificates were usable and none verifies the `SignatureValue`;
//! * **rejected**: the signature is refused before cryptography decides: not exactly one
//!   `SignedInfo`, a reference to an ID that no element or several elements carry, an
//!   enveloped-signature transform over an element inside the signature, a missing part;
//! * **not checked**: the reason says why ([`Unchecked`]: no trusted certificate, an algorithm
//!   that is not supported (its URI is named), an unusable key, an HMAC without a shared key, a
//!   limit). It is never shown as valid or invalid.
//!
//! Policy is separate from the verdict: an RSA key below 2,048 bits, SHA-1 in the signature or
//! digest method, and a non-standard algorithm URI read as an alias verify normally and add a
//! [`Warning`]. The certificate embedded in `KeyInfo` is shown but proves nothing: a signature
//! that verifies only with it is "consistent with the embedded certificate, which is not
//! trusted".
//!
//! [`wrapping_findings`] looks at a whole document and the element whose claims a decoder shows:
//! it flags a signature that covers a different element, duplicate IDs, several assertions,
//! comments inside `NameID`/`NameIdentifier`, whole-document references and unusual transforms.
//!
//! ## Supported
//!
//! Canonicalization exc-c14n, C14N 1.0 and C14N 1.1, each with or without comments; transforms
//! enveloped-signature and those canonicalizations; digests SHA-1/224/256/384/512; signatures
//! RSA PKCS#1 v1.5 and RSA-PSS (RFC 6931 `…-rsa-MGF1`) with SHA-1/224/256/384/512 on RSA keys of
//! 1,024 to 8,192 bits, and ECDSA on P-256/384/521 with the XML-DSig `r||s` value (see
//! [`crypto`] for which library checks what, and what is hand-written). HMAC is recognised and
//! never computed: it needs a shared key, which is not taken from anywhere. The non-standard
//! URIs deployed software emits (`xmldsig-more#rsa-sha1`, `xmlenc#sha1`, `xmlenc#sha384`) are
//! read as the algorithms they mean, with a warning. Everything else is reported as
//! unsupported, never guessed. XPath, XSLT and external references are never evaluated or
//! fetched: this module does no I/O and reads no clock (certificate validity dates are shown,
//! not judged).
//!
//! ## Why not `bergshamra`
//!
//! `bergshamra` 0.11.1 (aws-lc provider, `DsigContext::new` secure defaults) was evaluated on
//! the samples in `tests/data/dsig/`. Its cryptography is right: it verified all four signxml
//! samples (SAML 1.1 and SAML 2.0, rsa-sha256 and rsa-sha1), reported the digest mismatch after a
//! one-letter change of the UPN, and failed with an untrusted certificate. It was rejected for
//! these reasons, each checked by running it or reading its source:
//! * it reads local files while verifying: a `Reference URI="secret.txt"` is resolved against
//!   the current directory (`read_relative_reference_uri` in `verify.rs`, falling back to
//!   `std::env::current_dir()`); on a test document it hashed `./secret.txt` and reported
//!   "digest does not match". A decoder of captured traffic must never touch the file system
//!   because a document says so (`RetrievalMethod` also reads files);
//! * it processes DTDs: `verify()` parses with `uppsala::parse` without `with_forbid_dtd`, and a
//!   signed sample with `<!DOCTYPE r [<!ENTITY e "alice">]>` and `&e;` in the signed UPN was
//!   reported `Valid` (entity expanded), which `security.md` §4 forbids;
//! * it cannot report what an inspector must show: a failure is a single string
//!   (`VerifyResult::Invalid { reason }`) that stops at the first failing reference, so "digest
//!   mismatch on Reference #x while the SignedInfo signature itself verifies" or "verifies only
//!   with the embedded certificate" cannot be told apart; duplicate IDs are a hard `Err` with no
//!   report at all (the finding we want to show);
//! * it works on its own DOM (uppsala), so nothing maps back to this crate's [`Document`] and
//!   byte offsets, and it brings chrono, cms, x509-cert, pkcs12 and TSP code into a crate that
//!   needs none of them.

use aws_lc_rs::digest;

use super::c14n::{self, EXC_C14N, Method, Options};
use super::tree::{Document, NodeId, NodeKind};
use super::{DSIG_NS, SAML1_NS, SAML2_NS};
use crate::view::{Finding, Kind, Node};
use crate::{DecodeError, Limits, util, x509};

/// `http://www.w3.org/2000/09/xmldsig#enveloped-signature`
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Most `Reference`s checked per signature; SAML and WS-Security use one to a handful, and each
/// costs a canonicalization, so a hostile document cannot multiply the work.
pub const MAX_REFERENCES: usize = 32;

/// Most elements sharing one ambiguous ID whose digest is computed for the report.
const MAX_AMBIGUOUS_CANDIDATES: usize = 8;

/// Most certificates a verdict sentence names one by one (trusted certificates tried, or
/// unusable); the rest are counted.
const MAX_NAMED_CERTS: usize = 4;

/// `items` joined with `sep`, at most [`MAX_NAMED_CERTS`] of them, then `and N more`.
fn join_capped(items: &[String], sep: &str) -> String {
    let mut text = items
        .iter()
        .take(MAX_NAMED_CERTS)
        .cloned()
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > MAX_NAMED_CERTS {
        text.push_str(&format!(" and {} more", items.len() - MAX_NAMED_CERTS));
    }
    text
}

mod algorithms;
pub mod crypto;
mod document;
mod keys;
mod references;
mod report;
mod verification;
mod wrapping;

pub use algorithms::{DigestAlgorithm, Hash, SignatureAlgorithm, digest_alias, signature_alias};
pub use document::{DocumentSignatures, MAX_SIGNATURES, Placement, verify_document};
pub use keys::{CertInfo, Embedded, TrustedCert, embedded_certificates};
pub use verification::{find_signatures, verify, verify_with_limits};
pub use wrapping::wrapping_findings;

use verification::describe_target;

/// A reference URI as verdicts write it: `""` for the empty URI.
fn quoted_uri(uri: &str) -> &str {
    if uri.is_empty() { "\"\"" } else { uri }
}

/// What a `Reference/@URI` resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceTarget {
    /// `URI=""` (or `#xpointer(/)`): the whole document.
    WholeDocument,
    /// Exactly one element carries the referenced ID.
    Element {
        /// The element.
        node: NodeId,
        /// Its name as written (`saml:Assertion`).
        qname: String,
        /// Its local name (`Assertion`).
        local_name: String,
        /// The ID value.
        id: String,
    },
    /// Several elements carry the referenced ID (a signature-wrapping signal).
    Ambiguous {
        /// The ID value.
        id: String,
        /// Every element carrying it, in document order.
        candidates: Vec<NodeId>,
    },
    /// No element carries the referenced ID.
    NotFound {
        /// The ID value.
        id: String,
    },
    /// A reference outside the document; never fetched.
    External,
}

/// Whether a reference digest matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestCheck {
    /// The computed digest equals `DigestValue`.
    Match,
    /// The computed digest differs: the referenced content was changed after signing.
    Mismatch {
        /// `DigestValue` from the document (base64).
        expected: String,
        /// What the referenced content hashes to (base64).
        computed: String,
    },
    /// The reference is refused (its ID is carried by no element or by several, or the
    /// enveloped-signature transform would remove everything it names): the signature is
    /// rejected.
    Refused {
        /// Why.
        reason: String,
    },
    /// The digest could not be computed; the reason says why (unsupported transform or
    /// algorithm, external reference, a limit).
    NotComputed {
        /// Why.
        reason: String,
    },
}

/// The check of one `ds:Reference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceReport {
    /// The `URI` attribute as written.
    pub uri: String,
    /// What it resolves to.
    pub target: ReferenceTarget,
    /// The transform algorithm URIs, in order.
    pub transforms: Vec<String>,
    /// The `DigestMethod/@Algorithm` URI as written.
    pub digest_method: String,
    /// The digest algorithm it names.
    pub digest_algorithm: DigestAlgorithm,
    /// Whether the digest matches.
    pub digest: DigestCheck,
}

/// Why a signature value was not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unchecked {
    /// No trusted certificate was given.
    NoAnchor,
    /// An algorithm is not supported; `what` names the element (`SignatureMethod`,
    /// `CanonicalizationMethod`).
    UnsupportedAlgorithm {
        /// The element whose `Algorithm` it is.
        what: &'static str,
        /// The URI.
        uri: String,
    },
    /// An HMAC signature method: it needs a shared secret key, and none is configured (public
    /// key material is never used as one).
    HmacNeedsKey {
        /// The `SignatureMethod` URI.
        uri: String,
    },
    /// Trusted certificates were given, and none can check this signature; one reason each.
    KeyUnusable {
        /// `certificate CN=… (thumbprint …) from SOURCE: why`, one per trusted certificate.
        reasons: Vec<String>,
    },
    /// A reference digest could not be computed (unsupported transform or digest algorithm,
    /// external reference, a limit).
    Reference {
        /// The reference `URI` as written.
        uri: String,
        /// Why.
        reason: String,
    },
    /// `SignedInfo` could not be canonicalized within the limits.
    Limit {
        /// Which limit, and where.
        why: String,
    },
    /// `SignatureValue` is a marker `idscope redact` wrote ([`crate::secrets::redaction_marker`]):
    /// a shareable copy, whose signature cannot be checked.
    Redacted,
}

impl Unchecked {
    /// The reason as a sentence fragment (`signature method … is not supported`).
    pub fn text(&self) -> String {
        match self {
            Unchecked::NoAnchor => "no trusted certificate given".to_string(),
            Unchecked::UnsupportedAlgorithm { what, uri } => {
                format!("{what} {uri} is not supported")
            }
            Unchecked::HmacNeedsKey { uri } => format!(
                "HMAC needs a shared key ({uri}); none is configured, and public key material \
                 is never used as one"
            ),
            Unchecked::KeyUnusable { reasons } => {
                format!(
                    "no trusted certificate can check it: {}",
                    reasons.join("; ")
                )
            }
            Unchecked::Reference { uri, reason } => {
                format!("Reference {} not checked: {reason}", quoted_uri(uri))
            }
            Unchecked::Limit { why } => why.clone(),
            Unchecked::Redacted => {
                "the signature value was removed by redaction (a shareable copy made by \
                 idscope redact)"
                    .to_string()
            }
        }
    }
}

/// Whether `SignatureValue` verifies, and with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureValueCheck {
    /// Verified with a trusted certificate.
    Verified {
        /// The certificate.
        cert: CertInfo,
        /// Where the certificate came from.
        source: String,
    },
    /// Trusted certificates were usable and none verifies it.
    Failed {
        /// The trusted certificates tried, with their sources.
        tried: Vec<(CertInfo, String)>,
        /// The certificate embedded in `KeyInfo` that does verify it, if one does (anyone with
        /// any key can produce that).
        embedded: Option<CertInfo>,
    },
    /// Not checked against a trusted key.
    NotChecked {
        /// Why.
        reason: Unchecked,
        /// The embedded certificate that verifies it, if one does (proves nothing).
        embedded: Option<CertInfo>,
    },
}

/// The overall outcome of [`verify`] (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Verified with a trusted certificate and every reference digest matches.
    Valid,
    /// The bytes do not verify: a digest mismatch, or a signature value that no usable trusted
    /// certificate verifies.
    Invalid,
    /// Refused before cryptography decides (structure, missing or duplicated IDs).
    Rejected,
    /// Not checked; [`SignatureReport::unchecked`] says why.
    NotChecked,
}

/// A policy finding about a signature, separate from its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The key that verified the signature is RSA below 2,048 bits.
    WeakRsaKey {
        /// The modulus size.
        bits: usize,
        /// The certificate, as verdicts name it.
        cert: String,
    },
    /// SHA-1 is used; `places` names where (`SignatureMethod rsa-sha1`, `DigestMethod of
    /// Reference #x`).
    Sha1 {
        /// Where SHA-1 appears.
        places: Vec<String>,
    },
    /// A non-standard algorithm URI was read as the standard one it stands for.
    NonStandardUri {
        /// The element (`SignatureMethod`, `DigestMethod of Reference #x`).
        what: String,
        /// The URI as written.
        uri: String,
        /// The standard URI.
        standard: &'static str,
    },
    /// A `ds:SignedInfo` nested inside another child of the signature; ignored (a verifier
    /// that searched descendants could be made to read it: CVE-2025-29774).
    NestedSignedInfo {
        /// The byte offset of the first one.
        offset: usize,
        /// How many there are.
        count: usize,
    },
    /// `X509Certificate` holds base64 of a PEM text instead of base64 of DER.
    PemInX509Certificate,
    /// `X509Certificate` elements that are not base64 of a certificate.
    UnreadableCertificate {
        /// How many.
        count: usize,
    },
}

impl Warning {
    /// The warning as a sentence.
    pub fn message(&self) -> String {
        match self {
            Warning::WeakRsaKey { bits, cert } => format!(
                "weak key: the signature verifies with an RSA key of {bits} bits (certificate \
                 {cert}), below the 2,048 bits current guidance requires"
            ),
            Warning::Sha1 { places } => format!(
                "SHA-1 is used ({}): collisions are practical, and current guidance no longer \
                 accepts it for signatures",
                places.join(", ")
            ),
            Warning::NonStandardUri {
                what,
                uri,
                standard,
            } => format!(
                "{what} uses the non-standard URI {uri}, read as {standard} (deployed software \
                 emits it; strict verifiers refuse it)"
            ),
            Warning::NestedSignedInfo { offset, count } => {
                let what = if *count == 1 {
                    format!(
                        "a second ds:SignedInfo at byte {offset} is nested inside another element \
                         of the signature and was ignored"
                    )
                } else {
                    format!(
                        "{count} more ds:SignedInfo elements are nested inside other elements of \
                         the signature (the first at byte {offset}) and were ignored"
                    )
                };
                format!(
                    "{what}; a verifier that searches descendants could be made to read one \
                     instead (CVE-2025-29774)"
                )
            }
            Warning::PemInX509Certificate => "ds:X509Certificate holds base64 of a PEM text \
                 instead of base64 of DER; it was read as PEM"
                .to_string(),
            Warning::UnreadableCertificate { count } => format!(
                "{count} ds:X509Certificate element(s) of KeyInfo are not base64 of an X.509 \
                 certificate and were not read"
            ),
        }
    }
}

/// Everything [`verify`] found out about one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    /// The `ds:Signature` element.
    pub signature: NodeId,
    /// The `CanonicalizationMethod` URI of `SignedInfo`.
    pub canonicalization: String,
    /// The `SignatureMethod/@Algorithm` URI as written.
    pub signature_method: String,
    /// The algorithm it names.
    pub signature_algorithm: SignatureAlgorithm,
    /// One entry per `Reference`, in order.
    pub references: Vec<ReferenceReport>,
    /// Whether `SignatureValue` verifies, and with which key.
    pub signature_value: SignatureValueCheck,
    /// Certificates found in `KeyInfo/X509Data/X509Certificate` (shown, not trusted).
    pub embedded_certificates: Vec<CertInfo>,
    /// Structural problems (missing or repeated elements, bad base64); any makes the verdict
    /// [`Verdict::Rejected`].
    pub problems: Vec<String>,
    /// Policy findings (weak key, SHA-1, non-standard URIs), whatever the verdict.
    pub warnings: Vec<Warning>,
    /// The outcome.
    pub verdict: Verdict,
    /// One sentence for humans that names the key: `verified with certificate CN=… (thumbprint
    /// …) from --trust-cert adfs.pem`.
    pub verdict_text: String,
}

impl SignatureReport {
    /// True when the verdict is [`Verdict::Valid`].
    pub fn is_valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }

    /// Why the signature was not checked, when the verdict is [`Verdict::NotChecked`]: the
    /// signature value's reason, or the first reference digest that could not be computed.
    pub fn unchecked(&self) -> Option<Unchecked> {
        if self.verdict != Verdict::NotChecked {
            return None;
        }
        if self.value_redacted() {
            return Some(Unchecked::Redacted);
        }
        if let Some(r) = self.references.iter().find_map(|r| match &r.digest {
            DigestCheck::NotComputed { reason } => Some(Unchecked::Reference {
                uri: r.uri.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        }) {
            return Some(r);
        }
        match &self.signature_value {
            SignatureValueCheck::NotChecked { reason, .. } => Some(reason.clone()),
            _ => None,
        }
    }

    /// True when `SignatureValue` is a redaction marker (the copy was made by `idscope redact`).
    pub fn value_redacted(&self) -> bool {
        matches!(
            self.signature_value,
            SignatureValueCheck::NotChecked {
                reason: Unchecked::Redacted,
                ..
            }
        )
    }

    /// The elements the signature's references resolve to uniquely (the document element for a
    /// whole-document reference).
    pub fn covered_elements(&self, doc: &Document<'_>) -> Vec<NodeId> {
        self.references
            .iter()
            .filter_map(|r| match &r.target {
                ReferenceTarget::Element { node, .. } => Some(*node),
                ReferenceTarget::WholeDocument => doc.root(),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Document<'_> {
        Document::parse(s, &Limits::default()).unwrap()
    }

    const SIG_TEMPLATE: &str = r##"<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><a ID="_a">x</a><ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="@METHOD@"/><ds:Reference URI="@URI@"><ds:Transforms><ds:Transform Algorithm="@TRANSFORM@"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></r>"##;

    fn sig_doc(method: &str, uri: &str, transform: &str) -> String {
        SIG_TEMPLATE
            .replace("@METHOD@", method)
            .replace("@URI@", uri)
            .replace("@TRANSFORM@", transform)
    }

    #[test]
    fn unsupported_signature_method_is_not_checked_and_named() {
        let dsa = "http://www.w3.org/2000/09/xmldsig#dsa-sha1";
        // A correct digest, so only the signature method stands in the way.
        let xml = sig_doc(dsa, "#_a", ENVELOPED_SIGNATURE).replace(
            "AAAA</ds:DigestValue>",
            "ToE3EDLIb0g2l/wYPqUelgKNXyMGVCnZKnydpQAQlPU=</ds:DigestValue>",
        );
        let doc = parse(&xml);
        let sig = find_signatures(&doc)[0];
        let r = verify(&doc, sig, &[]);
        assert_eq!(r.references[0].digest, DigestCheck::Match, "{r:?}");
        assert_eq!(r.verdict, Verdict::NotChecked, "{}", r.verdict_text);
        assert_eq!(
            r.unchecked(),
            Some(Unchecked::UnsupportedAlgorithm {
                what: "SignatureMethod",
                uri: dsa.into()
            })
        );
        let text = &r.verdict_text;
        assert!(
            text.contains(&format!("SignatureMethod {dsa} is not supported")),
            "{text}"
        );
        assert_eq!(r.finding().severity, crate::Severity::Warning);
    }

    /// A shareable copy made by `idscope redact`: the `SignatureValue` is a marker, and so may be
    /// values inside the signed content. The signature is not checked, and says why; it is never
    /// "not valid base64" nor a digest mismatch.
    #[test]
    fn a_redacted_signature_value_is_not_checked_and_says_why() {
        let rsa = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
        let value = crate::secrets::placeholder("xml_signature", 344, "0123abcd");
        let good_digest = "ToE3EDLIb0g2l/wYPqUelgKNXyMGVCnZKnydpQAQlPU=";
        let signed = sig_doc(rsa, "#_a", ENVELOPED_SIGNATURE)
            .replace(
                "AAAA</ds:DigestValue>",
                &format!("{good_digest}</ds:DigestValue>"),
            )
            .replace(
                "AAAA</ds:SignatureValue>",
                &format!("{value}</ds:SignatureValue>"),
            );
        // The signed content as it was, and with a value inside it redacted too.
        for xml in [
            signed.clone(),
            signed.replace(">x</a>", &format!(">{value}</a>")),
        ] {
            let doc = parse(&xml);
            let r = verify(&doc, find_signatures(&doc)[0], &[]);
            assert!(r.problems.is_empty(), "{:?}", r.problems);
            assert_eq!(r.verdict, Verdict::NotChecked, "{}", r.verdict_text);
            assert!(r.value_redacted());
            assert_eq!(r.unchecked(), Some(Unchecked::Redacted));
            assert!(
                r.verdict_text
                    .contains("the signature value was removed by redaction"),
                "{}",
                r.verdict_text
            );
            assert!(!r.verdict_text.contains("mismatch"), "{}", r.verdict_text);
            assert_eq!(r.finding().severity, crate::Severity::Info);
        }
        // A digest over content that holds a marker is not compared, whatever the signature.
        let xml = signed.replace(">x</a>", &format!(">{value}</a>"));
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        assert!(
            matches!(&r.references[0].digest, DigestCheck::NotComputed { reason } if reason.contains("removed by redaction")),
            "{:?}",
            r.references[0].digest
        );
        // A redacted DigestValue is not compared either.
        let xml = signed.replace(good_digest, &value);
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        assert!(
            matches!(&r.references[0].digest, DigestCheck::NotComputed { reason } if reason.contains("digest value was removed")),
            "{:?}",
            r.references[0].digest
        );
        // Without a marker, changed content is still a mismatch.
        let xml = signed.replace(">x</a>", ">y</a>");
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        assert!(matches!(
            r.references[0].digest,
            DigestCheck::Mismatch { .. }
        ));
    }

    #[test]
    fn hmac_is_never_computed() {
        let hmac = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
        let xml = sig_doc(hmac, "#_a", ENVELOPED_SIGNATURE);
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        assert!(matches!(
            &r.signature_value,
            SignatureValueCheck::NotChecked { reason: Unchecked::HmacNeedsKey { uri }, .. } if uri == hmac
        ));
        assert_ne!(r.verdict, Verdict::Valid);
    }

    #[test]
    fn xslt_and_external_references_are_never_run_or_fetched() {
        let xml = sig_doc(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "#_a",
            "http://www.w3.org/TR/1999/REC-xslt-19991116",
        );
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        assert!(
            matches!(&r.references[0].digest, DigestCheck::NotComputed { reason } if reason.contains("not supported"))
        );
        assert_eq!(r.verdict, Verdict::NotChecked);
        assert!(matches!(r.unchecked(), Some(Unchecked::Reference { .. })));
        let xml = sig_doc(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "Cargo.toml",
            ENVELOPED_SIGNATURE,
        );
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        assert_eq!(r.references[0].target, ReferenceTarget::External);
        assert!(
            matches!(&r.references[0].digest, DigestCheck::NotComputed { reason } if reason.contains("never fetched"))
        );
        assert_eq!(r.verdict, Verdict::NotChecked);
    }

    #[test]
    fn whole_document_reference_and_odd_transform_are_warned() {
        let xml = sig_doc(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "",
            "http://www.w3.org/TR/1999/REC-xpath-19991116",
        );
        let doc = parse(&xml);
        let a = doc.element_by_id("_a").unwrap();
        let f = wrapping_findings(&doc, a);
        assert!(
            f.iter().any(|f| f.message.contains("whole document")),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|f| f.message.contains("transforms other than")),
            "{f:?}"
        );
        assert!(
            !f.iter().any(|f| f.message.contains("signature wrapping")),
            "{f:?}"
        );
    }

    #[test]
    fn structure_problems_reject_the_signature() {
        let doc = parse("<r/>");
        let r = verify(&doc, doc.root().unwrap(), &[]);
        assert_eq!(r.verdict, Verdict::Rejected);
        let base = sig_doc(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "#_a",
            ENVELOPED_SIGNATURE,
        );
        for (xml, says) in [
            (
                base.replace("<ds:SignatureValue>AAAA</ds:SignatureValue>", ""),
                "ds:SignatureValue is missing",
            ),
            (
                base.replace("#_a", "#_nothing"),
                "no element carries ID `_nothing`",
            ),
            (
                base.replace("<a ID=\"_a\">x</a>", "<a ID=\"_a\">x</a><b ID=\"_a\"/>"),
                "ID `_a` is carried by 2 elements",
            ),
        ] {
            let doc = parse(&xml);
            let r = verify(&doc, find_signatures(&doc)[0], &[]);
            assert_eq!(r.verdict, Verdict::Rejected, "{}", r.verdict_text);
            assert!(
                r.verdict_text.starts_with("REJECTED: "),
                "{}",
                r.verdict_text
            );
            assert!(r.verdict_text.contains(says), "{}", r.verdict_text);
            assert_eq!(r.finding().severity, crate::Severity::Error);
        }
    }

    #[test]
    fn nested_signed_infos_make_one_warning_and_long_lists_are_capped() {
        let xml = sig_doc(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "#_a",
            ENVELOPED_SIGNATURE,
        )
        .replace(
            "</ds:Signature>",
            &format!(
                "<ds:Object>{}</ds:Object></ds:Signature>",
                "<ds:SignedInfo/>".repeat(50)
            ),
        );
        let doc = parse(&xml);
        let r = verify(&doc, find_signatures(&doc)[0], &[]);
        let nested: Vec<&Warning> = r
            .warnings
            .iter()
            .filter(|w| matches!(w, Warning::NestedSignedInfo { .. }))
            .collect();
        assert_eq!(nested.len(), 1, "{:?}", r.warnings);
        assert!(
            nested[0]
                .message()
                .starts_with("50 more ds:SignedInfo elements")
        );
        let items: Vec<String> = (0..7).map(|i| i.to_string()).collect();
        assert_eq!(join_capped(&items, ", "), "0, 1, 2, 3 and 3 more");
        assert_eq!(join_capped(&items[..2], " or "), "0 or 1");
    }

    #[test]
    fn an_enveloped_transform_over_content_inside_the_signature_is_refused() {
        let xml = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#o"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue><ds:Object Id="o">data</ds:Object></ds:Signature>"##;
        let doc = parse(xml);
        let r = verify(&doc, doc.root().unwrap(), &[]);
        assert!(matches!(
            r.references[0].digest,
            DigestCheck::Refused { .. }
        ));
        assert_eq!(r.verdict, Verdict::Rejected, "{}", r.verdict_text);
    }
}
