//! Trust-anchor files in the forms people hold them, told apart by content:
//! * PEM: every `CERTIFICATE` block (several in one file) becomes a certificate, every `PUBLIC
//!   KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) block a public key; private-key and other blocks
//!   are skipped;
//! * DER, or bare base64 of it (metadata's `X509Certificate` text, Entra ID's
//!   `SigningCertificate`): one certificate or public key;
//! * JSON: a JWKS or a JWK;
//! * XML: SAML / WS-Federation metadata (`EntityDescriptor`, `EntitiesDescriptor`), whose signing
//!   certificates [`saml::signing_certificates`] finds.
//!
//! Text may be UTF-8 (with or without a byte-order mark) or UTF-16 with one. Everything refused
//! gets an [`AnchorError`] that says what was wrong.
//!
//! Not responsible for adding anything to a [`super::Trust`] (see
//! [`super::Trust::add_anchor_file`]).

use std::borrow::Cow;

use x509_parser::prelude::FromDer as _;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{Thumbprint, jwk_entries};
use crate::xml::Document;
use crate::{Limits, saml, util, x509};

/// The form a trust-anchor file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorFormat {
    /// PEM blocks (certificates, public keys).
    Pem,
    /// One DER certificate or public key.
    Der,
    /// One certificate or public key as bare base64 (metadata's `X509Certificate` text, Entra
    /// ID's `SigningCertificate`).
    Base64,
    /// A JWK or JWKS.
    Jwk,
    /// SAML / WS-Federation metadata (`EntityDescriptor` or `EntitiesDescriptor`).
    Metadata,
}

/// What one trust-anchor file held (counted before duplicates are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorFile {
    /// The form the file was recognised as.
    pub format: AnchorFormat,
    /// Certificates (for metadata: the signing certificates).
    pub certs: usize,
    /// Bare public keys.
    pub public_keys: usize,
    /// JSON Web Keys.
    pub jwks: usize,
}

/// Why a trust-anchor file was refused. The text says what was wrong, not which file: the
/// caller names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// Nothing but white space.
    #[error("the file is empty")]
    Empty,
    /// Larger than [`Limits::max_body`].
    #[error("too large for a trust anchor file (more than {limit} bytes)")]
    TooLarge {
        /// The input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A PEM block that cannot be read at all.
    #[error("PEM block {block} is malformed: {why}")]
    PemSyntax {
        /// 1-based block number.
        block: usize,
        /// What was wrong.
        why: String,
    },
    /// A PEM block whose content is not what its label says.
    #[error("PEM block {block} ({label}) is not {expected}: {why}")]
    PemContent {
        /// 1-based block number.
        block: usize,
        /// The block's label.
        label: String,
        /// What the label promised.
        expected: &'static str,
        /// What was wrong.
        why: String,
    },
    /// PEM without a certificate or public key.
    #[error("{}", pem_without_anchor(.labels))]
    PemWithoutAnchor {
        /// The labels of the blocks found.
        labels: Vec<String>,
    },
    /// DER that is neither a certificate nor a public key.
    #[error(
        "DER that is neither an X.509 certificate nor a public key (SubjectPublicKeyInfo or \
         PKCS#1 RSAPublicKey): {why}"
    )]
    Der {
        /// What the certificate parser said.
        why: String,
    },
    /// A PKCS#12 bundle.
    #[error(
        "a PKCS#12 (.pfx/.p12) bundle, which holds a private key; export the certificate alone \
         (openssl pkcs12 -in FILE -nokeys -out cert.pem)"
    )]
    Pkcs12,
    /// Base64 that decodes to neither a certificate nor a public key.
    #[error("base64 that decodes to neither an X.509 certificate nor a public key")]
    Base64,
    /// Malformed JSON.
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// JSON that holds no JWK.
    #[error("JSON, but neither a JWKS ({{\"keys\":[…]}}) nor a JWK (an object with \"kty\"){hint}")]
    NoJwk {
        /// More about what the JSON is, when known.
        hint: &'static str,
    },
    /// Malformed XML.
    #[error("invalid XML: {why}")]
    Xml {
        /// What the XML reader said.
        why: String,
    },
    /// Well-formed XML that is not federation metadata.
    #[error(
        "XML, but its root element <{root}> is not federation metadata (md:EntityDescriptor or \
         md:EntitiesDescriptor)"
    )]
    NotMetadata {
        /// The root element's qualified name.
        root: String,
    },
    /// Metadata that publishes no signing certificate.
    #[error(
        "federation metadata without a signing certificate (no KeyDescriptor for signing holds an \
         X509Certificate)"
    )]
    NoSigningCertificate,
    /// A metadata signing certificate that does not parse.
    #[error("signing certificate {n} of the metadata is not a parsable X.509 certificate: {why}")]
    MetadataCertificate {
        /// 1-based, in document order.
        n: usize,
        /// What the certificate parser said.
        why: String,
    },
    /// A thumbprint given where a file was expected.
    #[error(
        "a certificate thumbprint, not a certificate; pin a thumbprint with --trust-thumbprint"
    )]
    Thumbprint,
    /// Bytes that are not a public key ([`super::Trust::add_public_key`]).
    #[error("not a public key (SubjectPublicKeyInfo): {why}")]
    PublicKey {
        /// What was wrong.
        why: String,
    },
    /// None of the forms above.
    #[error(
        "not a certificate (PEM, DER or base64), a public key (PEM PUBLIC KEY or RSA PUBLIC KEY), \
         a JWK or JWKS (JSON), or federation metadata (XML)"
    )]
    Unrecognized,
}

fn pem_without_anchor(labels: &[String]) -> String {
    const PRIVATE: [&str; 5] = [
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
    ];
    if labels.is_empty() {
        return "PEM without a readable block".to_string();
    }
    let found = labels.join(", ");
    if labels.iter().all(|l| PRIVATE.contains(&l.as_str())) {
        return format!(
            "PEM with only a private key ({found}); give the certificate or the public key instead"
        );
    }
    format!("PEM without a CERTIFICATE, PUBLIC KEY or RSA PUBLIC KEY block (found {found})")
}

/// One anchor read from a file, before it joins a [`Trust`].
pub(super) enum Anchor {
    /// A certificate, with a note for the source (metadata: `signing cert CN=…`).
    Cert { der: Vec<u8>, note: Option<String> },
    /// A `SubjectPublicKeyInfo`.
    PublicKey(Vec<u8>),
    /// A JWK.
    Jwk(serde_json::Value),
}

/// Text of a file saved as UTF-8 (with or without a byte-order mark) or, as Windows PowerShell
/// writes files, as UTF-16 with a byte-order mark. `None` for anything else.
fn text_of(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let utf16 = |big_endian: bool, rest: &[u8]| -> Option<Cow<'_, str>> {
        let units = rest.chunks_exact(2).map(|c| match c {
            [a, b] if big_endian => u16::from_be_bytes([*a, *b]),
            [a, b] => u16::from_le_bytes([*a, *b]),
            _ => 0,
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .ok()
            .map(Cow::Owned)
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest).ok().map(Cow::Borrowed),
        [0xFF, 0xFE, rest @ ..] => utf16(false, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(true, rest),
        _ => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
    }
}

/// Tells the form of a trust-anchor file from its content and reads every anchor in it.
pub(super) fn read_anchors(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(AnchorFormat, Vec<Anchor>), AnchorError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AnchorError::Empty);
    }
    let text = text_of(bytes);
    // DER starts with a SEQUENCE; text that happens to start with '0' falls through.
    if bytes.first() == Some(&0x30) {
        match der_anchor(bytes) {
            Ok(a) => return Ok((AnchorFormat::Der, vec![a])),
            Err(e) if text.is_none() => return Err(e),
            Err(_) => {}
        }
    }
    let Some(text) = text else {
        return Err(AnchorError::Unrecognized);
    };
    let t = text.trim_start();
    if t.starts_with('{') {
        let doc = jwks_document(t.as_bytes())?;
        let keys = jwk_entries(&doc).into_iter().cloned().map(Anchor::Jwk);
        return Ok((AnchorFormat::Jwk, keys.collect()));
    }
    if t.starts_with('<') {
        return Ok((AnchorFormat::Metadata, metadata_anchors(t, limits)?));
    }
    if t.contains("-----BEGIN ") {
        return Ok((AnchorFormat::Pem, pem_anchors(t)?));
    }
    let t = t.trim_end();
    if Thumbprint::parse(t).is_ok() {
        return Err(AnchorError::Thumbprint);
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if util::is_base64ish(&compact) {
        let der = util::b64_decode_any(&compact, limits.max_body).ok_or(AnchorError::Base64)?;
        let anchor = der_anchor(&der).map_err(|_| AnchorError::Base64)?;
        return Ok((AnchorFormat::Base64, vec![anchor]));
    }
    Err(AnchorError::Unrecognized)
}

/// One DER certificate, `SubjectPublicKeyInfo` or PKCS#1 `RSAPublicKey`.
fn der_anchor(der: &[u8]) -> Result<Anchor, AnchorError> {
    let cert_error = match cert_der(der) {
        Ok(der) => return Ok(Anchor::Cert { der, note: None }),
        Err(e) => e,
    };
    if let Ok(spki) = spki_der(der) {
        return Ok(Anchor::PublicKey(spki));
    }
    if let Ok(spki) = pkcs1_spki(der) {
        return Ok(Anchor::PublicKey(spki));
    }
    if looks_like_pkcs12(der) {
        return Err(AnchorError::Pkcs12);
    }
    Err(AnchorError::Der { why: cert_error })
}

/// `SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data …` near the start: a PFX (RFC 7292).
fn looks_like_pkcs12(der: &[u8]) -> bool {
    const VERSION_3: &[u8] = &[0x02, 0x01, 0x03];
    const PKCS7_DATA: &[u8] = &[
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01,
    ];
    let head = der.get(..32).unwrap_or(der);
    util::contains(head, VERSION_3) && util::contains(head, PKCS7_DATA)
}

/// The DER of the certificate at the start of `der` (anything after it, such as OpenSSL's
/// `TRUSTED CERTIFICATE` auxiliary data, is left out); the parser's message when it is not one.
fn cert_der(der: &[u8]) -> Result<Vec<u8>, String> {
    let (rest, _) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let len = der.len().saturating_sub(rest.len());
    Ok(der.get(..len).unwrap_or(der).to_vec())
}

/// The DER `SubjectPublicKeyInfo` at the start of `der`, when its key parses.
pub(super) fn spki_der(der: &[u8]) -> Result<Vec<u8>, String> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(der).map_err(|e| e.to_string())?;
    spki.parsed().map_err(|e| e.to_string())?;
    Ok(spki.raw.to_vec())
}

/// A PKCS#1 `RSAPublicKey` (PEM `RSA PUBLIC KEY`) wrapped in a `SubjectPublicKeyInfo`.
fn pkcs1_spki(der: &[u8]) -> Result<Vec<u8>, String> {
    /// `AlgorithmIdentifier { rsaEncryption, NULL }`.
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let (rest, key) = RSAPublicKey::from_der(der).map_err(|e| e.to_string())?;
    if x509::modulus_bits(key.modulus) < 512 || x509::strip_zeros(key.exponent).is_empty() {
        return Err("not an RSA key (modulus under 512 bits or no exponent)".to_string());
    }
    let pkcs1 = der
        .get(..der.len().saturating_sub(rest.len()))
        .unwrap_or(der);
    let mut bits = vec![0x03];
    der_length(pkcs1.len() + 1, &mut bits);
    bits.push(0);
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    der_length(RSA_ALGORITHM.len() + bits.len(), &mut out);
    out.extend_from_slice(RSA_ALGORITHM);
    out.extend_from_slice(&bits);
    Ok(out)
}

/// Appends a DER length.
fn der_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let significant: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(&significant);
}

/// Every certificate and public key of a PEM text.
fn pem_anchors(text: &str) -> Result<Vec<Anchor>, AnchorError> {
    use x509_parser::error::PEMError;
    use x509_parser::pem::Pem;
    let mut out = Vec::new();
    let mut labels = Vec::new();
    for (i, block) in Pem::iter_from_buffer(text.as_bytes()).enumerate() {
        let n = i + 1;
        let pem = block.map_err(|e| AnchorError::PemSyntax {
            block: n,
            why: match e {
                PEMError::Base64DecodeError => "its content is not valid base64".to_string(),
                PEMError::IncompletePEM => "no -----END line".to_string(),
                PEMError::InvalidHeader => "its -----BEGIN line is malformed".to_string(),
                other => other.to_string(),
            },
        })?;
        let content = |expected: &'static str, why: String| AnchorError::PemContent {
            block: n,
            label: pem.label.clone(),
            expected,
            why,
        };
        match pem.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let der =
                    cert_der(&pem.contents).map_err(|why| content("an X.509 certificate", why))?;
                out.push(Anchor::Cert { der, note: None });
            }
            "PUBLIC KEY" => {
                let spki = spki_der(&pem.contents)
                    .map_err(|why| content("a SubjectPublicKeyInfo public key", why))?;
                out.push(Anchor::PublicKey(spki));
            }
            "RSA PUBLIC KEY" => {
                let spki = pkcs1_spki(&pem.contents)
                    .map_err(|why| content("a PKCS#1 RSA public key", why))?;
                out.push(Anchor::PublicKey(spki));
            }
            _ => {}
        }
        labels.push(pem.label);
    }
    if out.is_empty() {
        return Err(AnchorError::PemWithoutAnchor { labels });
    }
    Ok(out)
}

/// A JWKS or JWK as JSON (UTF-8 or UTF-16 text); fails when it is not JSON or holds no key.
pub(super) fn jwks_document(bytes: &[u8]) -> Result<serde_json::Value, AnchorError> {
    let doc = match text_of(bytes) {
        Some(text) => serde_json::from_str(text.trim_start()),
        None => serde_json::from_slice(bytes),
    }
    .map_err(json_error)?;
    if jwk_entries(&doc).is_empty() {
        return Err(AnchorError::NoJwk {
            hint: json_hint(&doc),
        });
    }
    Ok(doc)
}

fn json_error(e: serde_json::Error) -> AnchorError {
    let (line, column) = (e.line(), e.column());
    let text = e.to_string();
    let message = text
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&text)
        .to_string();
    AnchorError::Json {
        line,
        column,
        message,
    }
}

/// What JSON without a JWK is, when it is recognisable.
fn json_hint(doc: &serde_json::Value) -> &'static str {
    if doc.get("jwks_uri").is_some() {
        "; this is an OpenID configuration: trust the JWKS its jwks_uri names"
    } else if doc.get("keys").is_some() {
        "; its \"keys\" holds no object with \"kty\""
    } else {
        ""
    }
}

/// The signing certificates of SAML / WS-Federation metadata, each noted with its subject.
fn metadata_anchors(text: &str, limits: &Limits) -> Result<Vec<Anchor>, AnchorError> {
    let doc = Document::parse(text, limits).map_err(|e| AnchorError::Xml { why: e.to_string() })?;
    let root = doc.root().ok_or_else(|| AnchorError::Xml {
        why: "no root element".to_string(),
    })?;
    if !(doc.is(root, saml::MD_NS, "EntityDescriptor")
        || doc.is(root, saml::MD_NS, "EntitiesDescriptor"))
    {
        return Err(AnchorError::NotMetadata {
            root: doc.qname(root).to_string(),
        });
    }
    let ders = saml::signing_certificates(text, limits);
    if ders.is_empty() {
        return Err(AnchorError::NoSigningCertificate);
    }
    ders.into_iter()
        .enumerate()
        .map(|(i, der)| {
            let cert = x509::Certificate::parse(&der)
                .map_err(|why| AnchorError::MetadataCertificate { n: i + 1, why })?;
            let name = match &cert.cn {
                Some(cn) => format!("CN={cn}"),
                None if !cert.subject.is_empty() => cert.subject.clone(),
                None => format!("thumbprint {}", util::hex_lower(&cert.sha1)),
            };
            Ok(Anchor::Cert {
                der,
                note: Some(format!("signing cert {name}")),
            })
        })
        .collect()
}
