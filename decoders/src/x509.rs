//! The X.509 certificate explainer every decoder uses: [`Certificate::parse`] reads a DER
//! certificate once (x509-parser) into the facts identity debugging needs (subject, issuer,
//! serial, validity, SHA-1 and SHA-256 thumbprints, key type and size, key usages and extended
//! key usages, self-signed), [`Certificate::node`] shows them as a view subtree in the rows and
//! wording a [`Style`] asks for, and [`Certificate::validity`] and [`Certificate::findings`] judge
//! the validity period against the context's time.
//!
//! Nothing here decides trust: a certificate is shown, never believed because a message holds it.

use sha2::Digest as _;
use std::time::SystemTime;

use crate::DecodeError;
use crate::util;
use crate::view::{Finding, Kind, Node};

/// How long before `not after` a certificate counts as expiring soon.
pub const EXPIRES_SOON_SECS: i64 = 30 * 86_400;

/// The facts of an X.509 certificate that identity debugging needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Subject distinguished name (`CN=sts.contoso.com`).
    pub subject: String,
    /// The first common name of the subject (`CN`), when it has one.
    pub cn: Option<String>,
    /// Issuer distinguished name.
    pub issuer: String,
    /// The issuer name is the subject name (byte for byte).
    pub self_signed: bool,
    /// The serial number's bytes as encoded.
    pub serial: Vec<u8>,
    /// Signature algorithm name (or OID when unknown).
    pub signature_algorithm: String,
    /// The subject public key.
    pub key: PublicKey,
    /// The RSA modulus without leading zero bytes, for RSA keys.
    pub rsa_modulus: Option<Vec<u8>>,
    /// The `subjectPublicKey` bits (for RSA a PKCS#1 `RSAPublicKey`), for verifying signatures.
    pub public_key_der: Vec<u8>,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after: i64,
    /// Start of validity as written in the certificate (`Jan  1 00:00:00 2024 +00:00`).
    pub not_before_text: String,
    /// End of validity as written in the certificate.
    pub not_after_text: String,
    /// SHA-1 over the DER (the Windows "thumbprint", JWK `x5t`).
    pub sha1: [u8; 20],
    /// SHA-256 over the DER (JWK `x5t#S256`).
    pub sha256: [u8; 32],
    /// Key usages (`digitalSignature`, `keyEncipherment`, …); empty without the extension.
    pub key_usage: Vec<&'static str>,
    /// Extended key usages (`clientAuth`, `serverAuth`, or the OID); empty without the extension.
    pub extended_key_usage: Vec<String>,
    /// Length of the DER encoding in bytes.
    pub der_len: usize,
}

/// The type and size of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// RSA, EC, another type, or a key x509-parser could not read.
    pub kind: KeyKind,
    /// The size x509-parser reports (bits; for RSA the DER modulus length less its sign byte).
    pub size: usize,
    /// For RSA, the bit length of the modulus without leading zeros.
    pub modulus_bits: usize,
    /// For EC, the named curve (`P-256`, or the OID), when the parameters name one.
    pub curve: Option<String>,
    /// The key algorithm OID.
    pub algorithm: String,
}

/// The type of a certificate's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An RSA key.
    Rsa,
    /// An elliptic-curve key.
    Ec,
    /// A key of another type (Ed25519, DSA, …).
    Other,
    /// The key could not be parsed.
    Unparsed,
}

/// How a key's type and size are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// `RSA 2048-bit`, `EC P-256`, `256-bit key`, `unparsed key (OID)`.
    Named,
    /// `RSA {size}{unit}` and `EC {size}{unit}`, with the given words for other and unparsed
    /// keys (`RSA 2048 bits` with unit `" bits"`).
    Size {
        /// Text after the size (`" bits"` or `""`).
        unit: &'static str,
        /// Text for a key of another type.
        other: &'static str,
        /// Text for a key that could not be parsed.
        unparsed: &'static str,
    },
}

impl PublicKey {
    /// The key's type and size in the given form.
    pub fn text(&self, form: KeyForm) -> String {
        match (form, self.kind) {
            (KeyForm::Named, KeyKind::Rsa) => format!("RSA {}-bit", self.modulus_bits),
            (KeyForm::Named, KeyKind::Ec) => {
                format!("EC {}", self.curve.as_deref().unwrap_or("unknown curve"))
            }
            (KeyForm::Named, KeyKind::Other) => format!("{}-bit key", self.size),
            (KeyForm::Named, KeyKind::Unparsed) => format!("unparsed key ({})", self.algorithm),
            (KeyForm::Size { unit, .. }, KeyKind::Rsa) => format!("RSA {}{unit}", self.size),
            (KeyForm::Size { unit, .. }, KeyKind::Ec) => format!("EC {}{unit}", self.size),
            (KeyForm::Size { other, .. }, KeyKind::Other) => other.to_string(),
            (KeyForm::Size { unparsed, .. }, KeyKind::Unparsed) => unparsed.to_string(),
        }
    }
}

/// Where a certificate stands against a point in time. A certificate is valid from `not before`
/// through `not after`, both included (RFC 5280 §4.1.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// `not after` has passed.
    pub expired: bool,
    /// `not before` has not come yet.
    pub not_yet_valid: bool,
    /// Not expired, and `not after` is less than [`EXPIRES_SOON_SECS`] away.
    pub expires_soon: bool,
}

/// How one place shows a certificate: the head node, then which rows in which order, each with
/// its label and wording.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// The node the rows hang under.
    pub head: Head,
    /// The rows, in order.
    pub rows: &'static [Row],
}

/// The node a certificate's rows hang under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// A section whose value is the subject.
    Section,
    /// A section without a value.
    SectionNoValue,
    /// A field whose value is the subject.
    Field,
}

/// How the SHA-1 or SHA-256 thumbprint is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `0a1b…`
    Lower,
    /// `0A1B…`
    Upper,
}

/// The note of a thumbprint row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashNote {
    /// No note.
    None,
    /// A fixed text.
    Text(&'static str),
    /// `base64url ({name} form): …`, the thumbprint as JWK `x5t` or `x5t#S256` carries it.
    Base64url(&'static str),
}

/// The note of the issuer row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerNote {
    /// No note.
    None,
    /// Only for a self-signed certificate: trust comes from pinning.
    SelfSignedPinning,
    /// `self-signed` or `issuing CA`.
    SelfSignedOrCa,
    /// A fixed text.
    Text(&'static str),
}

/// The validity start as JWT-style views label it (`not_before`), with the time relative to now.
pub const NOT_BEFORE_SNAKE: Row = Row::Date {
    label: "not_before",
    end: false,
    relative: true,
};

/// The validity end as JWT-style views label it (`not_after`), with the time relative to now.
pub const NOT_AFTER_SNAKE: Row = Row::Date {
    label: "not_after",
    end: true,
    relative: true,
};

/// One row of a certificate's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// `subject`, with a note when the subject is `CN=<GUID>`.
    Subject {
        /// The note for a GUID common name (a device id), if any.
        guid_note: Option<&'static str>,
    },
    /// The common name under its own label, with a note saying whether it is a GUID.
    CommonName {
        /// The row's label.
        label: &'static str,
        /// The value when the subject has no CN.
        missing: &'static str,
        /// The note when the CN is a GUID.
        guid_note: &'static str,
        /// The note otherwise.
        other_note: &'static str,
    },
    /// `issuer`.
    Issuer(IssuerNote),
    /// `serial` as colon-separated hex (`0a:1b:…`) or plain hex (`0a1b…`).
    Serial {
        /// Colon-separated.
        colons: bool,
    },
    /// `signature algorithm`.
    SignatureAlgorithm,
    /// The public key.
    Key {
        /// The row's label.
        label: &'static str,
        /// How the key is written.
        form: KeyForm,
        /// A note, if any.
        note: Option<&'static str>,
    },
    /// `not before` or `not after`: relative to the context's time, or as written.
    Date {
        /// The row's label.
        label: &'static str,
        /// `not after` rather than `not before`.
        end: bool,
        /// Relative to now (a timestamp row) rather than as written in the certificate.
        relative: bool,
    },
    /// The SHA-1 thumbprint.
    Sha1 {
        /// The row's label.
        label: &'static str,
        /// Hex case.
        case: Case,
        /// The note.
        note: HashNote,
    },
    /// The SHA-256 thumbprint.
    Sha256 {
        /// The row's label.
        label: &'static str,
        /// Hex case.
        case: Case,
        /// The note.
        note: HashNote,
    },
    /// `key usage`, when the certificate has the extension.
    KeyUsage,
    /// `extended key usage`, when the certificate has the extension.
    ExtendedKeyUsage,
}

impl Style {
    /// Every fact, for a certificate shown on its own (a JWKS `x5c` entry, a realm's signing
    /// certificate, a base64 blob that is a certificate).
    pub const FULL: Style = Style {
        head: Head::Section,
        rows: &[
            Row::Subject { guid_note: None },
            Row::Issuer(IssuerNote::SelfSignedPinning),
            Row::Serial { colons: true },
            Row::SignatureAlgorithm,
            Row::Key {
                label: "public key",
                form: KeyForm::Named,
                note: None,
            },
            Row::Date {
                label: "not before",
                end: false,
                relative: true,
            },
            Row::Date {
                label: "not after",
                end: true,
                relative: true,
            },
            Row::Sha1 {
                label: "SHA-1 thumbprint",
                case: Case::Upper,
                note: HashNote::Base64url("x5t"),
            },
            Row::Sha256 {
                label: "SHA-256 thumbprint",
                case: Case::Upper,
                note: HashNote::Base64url("x5t#S256"),
            },
        ],
    };
}

/// Parses a DER X.509 certificate. Fails with [`DecodeError::Malformed`] when it is not one.
pub fn parse_certificate(der: &[u8]) -> Result<Certificate, DecodeError> {
    Certificate::parse(der).map_err(|message| DecodeError::Malformed {
        what: "X.509 certificate",
        offset: 0,
        message,
    })
}

fn sig_alg_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        other => other.into(),
    }
}

fn curve_name(oid: &str) -> &str {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        other => other,
    }
}

/// The bit length of a big-endian unsigned integer (an RSA modulus), leading zeros ignored.
pub fn modulus_bits(n: &[u8]) -> usize {
    let n = strip_zeros(n);
    match n.first() {
        Some(first) => n.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// A big-endian unsigned integer without its leading zero bytes.
pub fn strip_zeros(n: &[u8]) -> &[u8] {
    match n.iter().position(|b| *b != 0) {
        Some(i) => n.get(i..).unwrap_or(&[]),
        None => &[],
    }
}

/// The type and size of a bare `SubjectPublicKeyInfo` (a CSR's key, a transport key).
pub fn spki_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> PublicKey {
    public_key(spki).0
}

fn public_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> (PublicKey, Option<Vec<u8>>) {
    use x509_parser::public_key::PublicKey as Parsed;
    let algorithm = spki.algorithm.algorithm.to_id_string();
    let mut key = PublicKey {
        kind: KeyKind::Unparsed,
        size: 0,
        modulus_bits: 0,
        curve: None,
        algorithm,
    };
    let mut modulus = None;
    match spki.parsed() {
        Ok(Parsed::RSA(rsa)) => {
            key.kind = KeyKind::Rsa;
            key.size = rsa.key_size();
            key.modulus_bits = modulus_bits(rsa.modulus);
            modulus = Some(strip_zeros(rsa.modulus).to_vec());
        }
        Ok(Parsed::EC(ec)) => {
            key.kind = KeyKind::Ec;
            key.size = ec.key_size();
            key.curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| curve_name(&o.to_id_string()).to_string());
        }
        Ok(other) => {
            key.kind = KeyKind::Other;
            key.size = other.key_size();
        }
        Err(_) => {}
    }
    (key, modulus)
}

fn key_usage(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<&'static str> {
    let Ok(Some(ku)) = cert.key_usage() else {
        return Vec::new();
    };
    key_usage_names(ku.value)
}

/// The names of the usages a key usage extension sets (`digitalSignature`, `keyEncipherment` …),
/// for a certificate's extension or one a certificate request asks for.
pub fn key_usage_names(ku: &x509_parser::extensions::KeyUsage) -> Vec<&'static str> {
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name)
    .collect()
}

fn extended_key_usage(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(eku)) = cert.extended_key_usage() else {
        return Vec::new();
    };
    extended_key_usage_names(eku.value)
}

/// The names of the purposes an extended key usage extension lists (`clientAuth`, `serverAuth`
/// …, or the OID), for a certificate's extension or one a certificate request asks for.
pub fn extended_key_usage_names(
    eku: &x509_parser::extensions::ExtendedKeyUsage<'_>,
) -> Vec<String> {
    let mut out: Vec<String> = [
        (eku.any, "anyExtendedKeyUsage"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ]
    .into_iter()
    .filter(|(set, _)| *set)
    .map(|(_, name)| name.to_string())
    .collect();
    out.extend(eku.other.iter().map(|o| o.to_id_string()));
    out
}

impl Certificate {
    /// Parses a DER certificate; the error is x509-parser's message when it is not one.
    pub fn parse(der: &[u8]) -> Result<Certificate, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
        let spki = cert.public_key();
        let (key, rsa_modulus) = public_key(spki);
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string);
        let mut sha256 = [0u8; 32];
        sha256.copy_from_slice(&sha2::Sha256::digest(der));
        let validity = cert.validity();
        Ok(Certificate {
            subject: cert.subject().to_string(),
            cn,
            issuer: cert.issuer().to_string(),
            self_signed: cert.subject() == cert.issuer(),
            serial: cert.raw_serial().to_vec(),
            signature_algorithm: sig_alg_name(&cert.signature_algorithm.algorithm.to_id_string()),
            key,
            rsa_modulus,
            public_key_der: spki.subject_public_key.data.to_vec(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            not_before_text: validity.not_before.to_string(),
            not_after_text: validity.not_after.to_string(),
            sha1: sha1(der),
            sha256,
            key_usage: key_usage(&cert),
            extended_key_usage: extended_key_usage(&cert),
            der_len: der.len(),
        })
    }

    /// The serial number as colon-separated lower-case hex (`0a:1b:2c`).
    pub fn serial_colons(&self) -> String {
        self.serial
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The serial number as lower-case hex (`0a1b2c`).
    pub fn serial_hex(&self) -> String {
        util::hex_lower(&self.serial)
    }

    /// The SHA-1 thumbprint as unpadded base64url, the form of JWK `x5t` and Entra `kid`.
    pub fn sha1_b64url(&self) -> String {
        b64url(&self.sha1)
    }

    /// The SHA-256 thumbprint as unpadded base64url, the form of JWK `x5t#S256`.
    pub fn sha256_b64url(&self) -> String {
        b64url(&self.sha256)
    }

    /// `CN=… (thumbprint …)` with the lower-case SHA-1 thumbprint, the way signature verdicts
    /// name a certificate.
    pub fn label(&self) -> String {
        format!(
            "{} (thumbprint {})",
            self.subject,
            util::hex_lower(&self.sha1)
        )
    }

    /// A view subtree labelled `label` in the [`Style::FULL`] rows; validity relative to `now`.
    pub fn to_node(&self, label: &str, now: SystemTime) -> Node {
        self.node(label, &Style::FULL, now)
    }

    /// A view subtree labelled `label` with the head and rows of `style`; relative dates are
    /// relative to `now`.
    pub fn node(&self, label: &str, style: &Style, now: SystemTime) -> Node {
        let mut node = match style.head {
            Head::Section => {
                let mut n = Node::section(label);
                n.value = Some(self.subject.clone());
                n
            }
            Head::SectionNoValue => Node::section(label),
            Head::Field => Node::field(label, self.subject.clone()),
        };
        for row in style.rows {
            if let Some(child) = self.row(row, now) {
                node.push(child);
            }
        }
        node
    }

    fn row(&self, row: &Row, now: SystemTime) -> Option<Node> {
        Some(match *row {
            Row::Subject { guid_note } => {
                let n = Node::field("subject", self.subject.clone());
                match guid_note {
                    Some(note) if self.subject.strip_prefix("CN=").is_some_and(util::is_guid) => {
                        n.with_note(note)
                    }
                    _ => n,
                }
            }
            Row::CommonName {
                label,
                missing,
                guid_note,
                other_note,
            } => {
                let cn = self.cn.as_deref();
                Node::field(label, cn.unwrap_or(missing)).with_note(
                    if cn.is_some_and(util::is_guid) {
                        guid_note
                    } else {
                        other_note
                    },
                )
            }
            Row::Issuer(note) => {
                let n = Node::field("issuer", self.issuer.clone());
                match note {
                    IssuerNote::None => n,
                    IssuerNote::SelfSignedPinning if self.self_signed => n.with_note(
                        "self-signed (issuer = subject): trust comes from pinning, not a CA",
                    ),
                    IssuerNote::SelfSignedPinning => n,
                    IssuerNote::SelfSignedOrCa => n.with_note(if self.self_signed {
                        "self-signed"
                    } else {
                        "issuing CA"
                    }),
                    IssuerNote::Text(t) => n.with_note(t),
                }
            }
            Row::Serial { colons } => Node::field(
                "serial",
                if colons {
                    self.serial_colons()
                } else {
                    self.serial_hex()
                },
            ),
            Row::SignatureAlgorithm => {
                Node::field("signature algorithm", self.signature_algorithm.clone())
            }
            Row::Key { label, form, note } => {
                let n = Node::field(label, self.key.text(form));
                match note {
                    Some(t) => n.with_note(t),
                    None => n,
                }
            }
            Row::Date {
                label,
                end,
                relative,
            } => {
                let (secs, text) = if end {
                    (self.not_after, &self.not_after_text)
                } else {
                    (self.not_before, &self.not_before_text)
                };
                if relative {
                    Node::leaf(
                        label,
                        util::format_epoch_relative(secs, now),
                        Kind::Timestamp,
                    )
                } else {
                    Node::field(label, text.clone())
                }
            }
            Row::Sha1 { label, case, note } => thumbprint_row(label, &self.sha1, case, note),
            Row::Sha256 { label, case, note } => thumbprint_row(label, &self.sha256, case, note),
            Row::KeyUsage if !self.key_usage.is_empty() => {
                Node::field("key usage", self.key_usage.join(", "))
            }
            Row::ExtendedKeyUsage if !self.extended_key_usage.is_empty() => {
                Node::field("extended key usage", self.extended_key_usage.join(", "))
            }
            Row::KeyUsage | Row::ExtendedKeyUsage => return None,
        })
    }

    /// Where the certificate stands against `now`.
    pub fn validity(&self, now: SystemTime) -> Validity {
        let now_s = util::epoch_secs(now);
        let expired = self.not_after < now_s;
        Validity {
            expired,
            not_yet_valid: now_s < self.not_before,
            expires_soon: !expired && self.not_after.saturating_sub(now_s) < EXPIRES_SOON_SECS,
        }
    }

    /// Validity findings against `now` (expired, expiring soon, not valid yet), located at `at`.
    pub fn findings(&self, now: SystemTime, at: &str) -> Vec<Finding> {
        let v = self.validity(now);
        let mut out = Vec::new();
        if v.expired {
            out.push(
                Finding::warning(format!(
                    "certificate {} expired {}: validators that check x5c/federation \
                     certificate dates will reject what it signs",
                    self.subject,
                    util::format_epoch_relative(self.not_after, now)
                ))
                .at(at),
            );
        }
        if v.expires_soon {
            out.push(
                Finding::warning(format!(
                    "certificate {} expires {}: plan the rollover (an expired signing \
                     certificate stops sign-in for everything that pins it)",
                    self.subject,
                    util::format_epoch_relative(self.not_after, now)
                ))
                .at(at),
            );
        }
        if v.not_yet_valid {
            out.push(
                Finding::warning(format!(
                    "certificate {} is not valid yet (from {})",
                    self.subject,
                    util::format_epoch_relative(self.not_before, now)
                ))
                .at(at),
            );
        }
        out
    }
}

fn thumbprint_row(label: &str, digest: &[u8], case: Case, note: HashNote) -> Node {
    let text = match case {
        Case::Lower => util::hex_lower(digest),
        Case::Upper => util::hex_upper(digest),
    };
    let n = Node::field(label, text);
    match note {
        HashNote::None => n,
        HashNote::Text(t) => n.with_note(t),
        HashNote::Base64url(name) => {
            n.with_note(format!("base64url ({name} form): {}", b64url(digest)))
        }
    }
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-1 of `data`, for certificate thumbprints (`x5t`, Windows thumbprints) only: SHA-1 is
/// broken for collision resistance and must not be used to decide trust.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    for (o, b) in out.iter_mut().zip(d.as_ref()) {
        *o = *b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// A self-signed EC P-256 device-style certificate (CN = a GUID) with key usages
    /// digitalSignature, keyEncipherment and extended key usages clientAuth and an Entra OID.
    const DEVICE_CERT_B64: &str = concat!(
        "MIIB5jCCAY2gAwIBAgIUUhlJZTgT1M5PjaYBZP9esHoAgtkwCgYIKoZIzj0EAwIwLzEtMCsGA1UEAwwkMGQ5Yzhi",
        "N2EtNmY1ZS00ZDNjLTliMmEtMWYwZTlkOGM3YjZhMB4XDTI2MTIwNzAxMTMwNVoXDTM2MTIwNDAxMTMwNVowLzEt",
        "MCsGA1UEAwwkMGQ5YzhiN2EtNmY1ZS00ZDNjLTliMmEtMWYwZTlkOGM3YjZhMFkwEwYHKoZIzj0CAQYIKoZIzj0D",
        "AQcDQgAEh2FT0earxKJ9f7xj0E6IE6kehO6xLoZmsnr7tGmC55RrIpWex15BWFrhG+E5t6IS5WVIVQsCUIGNg1mV",
        "BXfk3aOBhjCBgzAdBgNVHQ4EFgQUsQWOsqOrfhw2ZdfnlNJ3mXj5FeYwHwYDVR0jBBgwFoAUsQWOsqOrfhw2Zdfn",
        "lNJ3mXj5FeYwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCBaAwIAYDVR0lBBkwFwYIKwYBBQUHAwIGCyqG",
        "SIb3FAEFghwCMAoGCCqGSM49BAMCA0cAMEQCIHkCLkLAP1qLgflrsmEVlgbCI/ZOvQo0nnudgN7eZqPvAiB4tpgT",
        "k+OgO2JdqdzzmUEOpu27kKVANQtN3kONPgjs5Q==",
    );

    fn device_cert() -> Certificate {
        let der = util::b64_decode_any(DEVICE_CERT_B64, 4096).unwrap_or_default();
        Certificate::parse(&der).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn facts_of_a_device_certificate() {
        let c = device_cert();
        assert_eq!(c.subject, "CN=0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a");
        assert_eq!(
            c.cn.as_deref(),
            Some("0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a")
        );
        assert!(c.self_signed);
        assert_eq!(c.key.kind, KeyKind::Ec);
        assert_eq!(c.key.text(KeyForm::Named), "EC P-256");
        assert_eq!(c.key_usage, ["digitalSignature", "keyEncipherment"]);
        assert_eq!(
            c.extended_key_usage,
            ["clientAuth", "1.2.840.113556.1.5.284.2"]
        );
        assert_eq!(
            util::hex_upper(&c.sha1),
            "FDB6C067172F339F4B16A6A5ABB42EAFDE9310C8"
        );
        assert_eq!(c.serial_colons().replace(':', ""), c.serial_hex());
    }

    #[test]
    fn validity_and_findings_follow_the_clock() {
        let c = device_cert();
        let at = |secs: i64| UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
        let before = c.validity(at(c.not_before - 1));
        assert!(before.not_yet_valid && !before.expired);
        let last = c.validity(at(c.not_after));
        assert!(!last.expired && last.expires_soon, "not after is inclusive");
        let after = c.validity(at(c.not_after + 1));
        assert!(after.expired && !after.expires_soon);
        assert!(c.findings(at(c.not_before + 86_400), "x").is_empty());
        let f = c.findings(at(c.not_after + 1), "x");
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("expired"), "{}", f[0].message);
    }

    #[test]
    fn styles_choose_rows_and_wording() {
        let c = device_cert();
        let now = UNIX_EPOCH + Duration::from_secs(u64::try_from(c.not_before).unwrap_or(0));
        let full = c.to_node("cert", now);
        assert_eq!(full.value.as_deref(), Some(c.subject.as_str()));
        assert!(full.child("SHA-1 thumbprint").is_some());
        assert!(full.child("key usage").is_none());
        const USAGE: Style = Style {
            head: Head::Field,
            rows: &[
                Row::Subject {
                    guid_note: Some("a device id"),
                },
                Row::KeyUsage,
                Row::ExtendedKeyUsage,
            ],
        };
        let n = c.node("cert", &USAGE, now);
        assert_eq!(
            n.child("subject").and_then(|s| s.note.as_deref()),
            Some("a device id")
        );
        assert_eq!(
            n.child("key usage").and_then(|s| s.value.as_deref()),
            Some("digitalSignature, keyEncipherment")
        );
        assert_eq!(
            n.child("extended key usage")
                .and_then(|s| s.value.as_deref()),
            Some("clientAuth, 1.2.840.113556.1.5.284.2")
        );
    }

    #[test]
    fn sha1_matches_the_fips_vectors() {
        assert_eq!(
            util::hex_upper(&sha1(b"abc")),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
        assert_eq!(
            util::hex_upper(&sha1(b"")),
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
        );
        assert_eq!(
            util::hex_upper(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983E441C3BD26EBAAE4AA1F95129E5E54670F1"
        );
    }

    #[test]
    fn modulus_bits_ignore_leading_zeros() {
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0]), 9);
        assert_eq!(modulus_bits(&[]), 0);
    }

    #[test]
    fn garbage_certificate_is_malformed() {
        assert!(matches!(
            parse_certificate(b"\x30\x82\x00\x01"),
            Err(DecodeError::Malformed {
                what: "X.509 certificate",
                ..
            })
        ));
        assert!(Certificate::parse(b"").is_err());
    }

    #[test]
    fn key_forms() {
        let key = PublicKey {
            kind: KeyKind::Rsa,
            size: 2048,
            modulus_bits: 2047,
            curve: None,
            algorithm: "1.2.840.113549.1.1.1".into(),
        };
        assert_eq!(key.text(KeyForm::Named), "RSA 2047-bit");
        let size = KeyForm::Size {
            unit: " bits",
            other: "other",
            unparsed: "unparsed",
        };
        assert_eq!(key.text(size), "RSA 2048 bits");
        let unparsed = PublicKey {
            kind: KeyKind::Unparsed,
            ..key
        };
        assert_eq!(unparsed.text(size), "unparsed");
        assert_eq!(
            unparsed.text(KeyForm::Named),
            "unparsed key (1.2.840.113549.1.1.1)"
        );
    }
}
