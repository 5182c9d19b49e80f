//! The keys a signature may be checked with: [`TrustedCert`] (a certificate the caller trusts,
//! and where it came from), the [`CertInfo`] shown for any certificate, and the certificates
//! embedded in a signature's `KeyInfo`, which are shown but never trusted.
//!
//! Not responsible for deciding whether a signature verifies (see [`super::verification`]).

use super::*;

/// A certificate whose key may verify signatures, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCert {
    /// The certificate, DER-encoded.
    pub der: Vec<u8>,
    /// Where it came from, for the verdict: `"--trust-cert adfs.pem"`, `"FederationMetadata
    /// in flow #4"`.
    pub source: String,
}

impl TrustedCert {
    /// Every `CERTIFICATE` block of a PEM text (or one DER certificate when the input is not PEM),
    /// each labelled with `source`.
    pub fn from_pem_or_der(bytes: &[u8], source: &str) -> Result<Vec<TrustedCert>, DecodeError> {
        let mut out = Vec::new();
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let Ok(pem) = pem else { break };
            if pem.label == "CERTIFICATE" {
                out.push(TrustedCert {
                    der: pem.contents,
                    source: source.to_string(),
                });
            }
        }
        if out.is_empty() && x509::Certificate::parse(bytes).is_ok() {
            out.push(TrustedCert {
                der: bytes.to_vec(),
                source: source.to_string(),
            });
        }
        if out.is_empty() {
            return Err(DecodeError::not(
                "an X.509 certificate",
                "no PEM CERTIFICATE block and not DER",
            ));
        }
        Ok(out)
    }
}

/// The short description of a certificate that signature verdicts carry, taken from the
/// [`x509::Certificate`] facts. Nothing here is a trust decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject distinguished name (`CN=ADFS Signing - sts.contoso.test`).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// SHA-1 of the DER, lowercase hex: the thumbprint ADFS and Entra ID show.
    pub thumbprint: String,
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity as written in the certificate.
    pub not_before: String,
    /// End of validity as written in the certificate.
    pub not_after: String,
    /// Public key type and size (`RSA 2048`).
    pub key: String,
}

impl CertInfo {
    /// Parses a DER certificate; `None` when it is not one.
    pub fn from_der(der: &[u8]) -> Option<CertInfo> {
        x509::Certificate::parse(der)
            .ok()
            .map(|c| CertInfo::from_cert(&c))
    }

    /// The description of parsed certificate facts.
    pub fn from_cert(cert: &x509::Certificate) -> CertInfo {
        CertInfo {
            subject: cert.subject.clone(),
            issuer: cert.issuer.clone(),
            thumbprint: util::hex_lower(&cert.sha1),
            serial: cert.serial_hex(),
            not_before: cert.not_before_text.clone(),
            not_after: cert.not_after_text.clone(),
            key: cert.key.text(KEY_FORM),
        }
    }

    /// What is known of bytes that are not a certificate: their SHA-1 thumbprint.
    pub(super) fn unparsable(der: &[u8]) -> CertInfo {
        CertInfo {
            subject: "(unparsable certificate)".into(),
            issuer: String::new(),
            thumbprint: util::hex_lower(&x509::sha1(der)),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            key: String::new(),
        }
    }

    /// `CN=… (thumbprint …)`, the way verdicts name a certificate.
    pub fn label(&self) -> String {
        format!("{} (thumbprint {})", self.subject, self.thumbprint)
    }
}

/// How verdicts and `KeyInfo` write a key: `RSA 2048`.
const KEY_FORM: x509::KeyForm = x509::KeyForm::Size {
    unit: "",
    other: "other",
    unparsed: "unparsable",
};

/// Most `X509Certificate` elements read from one `KeyInfo`.
const MAX_EMBEDDED: usize = 8;

/// What a signature's `KeyInfo/X509Data/X509Certificate` elements hold.
#[derive(Debug, Default)]
pub struct Embedded {
    /// The certificates, DER-encoded.
    pub ders: Vec<Vec<u8>>,
    /// Some element held base64 of a PEM text instead of base64 of DER (some ADFS-style
    /// responses are written that way; the PEM is read, and the report says so).
    pub pem_wrapped: bool,
    /// Elements whose content is not base64 (the undecodable ones are not in `ders`).
    pub undecodable: usize,
}

/// The certificates of a signature's `KeyInfo/X509Data/X509Certificate` (at most
/// [`MAX_EMBEDDED`]).
pub fn embedded_certificates(doc: &Document<'_>, signature: NodeId) -> Embedded {
    let mut out = Embedded::default();
    let Some(key_info) = doc.find_child(signature, DSIG_NS, "KeyInfo") else {
        return out;
    };
    for c in doc
        .find_descendants(key_info, DSIG_NS, "X509Certificate")
        .take(MAX_EMBEDDED)
    {
        let text: String = doc
            .text_content(c)
            .chars()
            .filter(|ch| !ch.is_whitespace())
            .collect();
        let Some(bytes) = util::b64_decode_any(&text, 64 << 10) else {
            out.undecodable += 1;
            continue;
        };
        if bytes.starts_with(b"-----BEGIN") {
            let ders: Vec<Vec<u8>> = x509_parser::pem::Pem::iter_from_buffer(&bytes)
                .map_while(Result::ok)
                .filter(|p| p.label == "CERTIFICATE")
                .map(|p| p.contents)
                .collect();
            if !ders.is_empty() {
                out.pem_wrapped = true;
                out.ders.extend(ders);
                continue;
            }
        }
        out.ders.push(bytes);
    }
    out.ders.truncate(MAX_EMBEDDED);
    out
}
