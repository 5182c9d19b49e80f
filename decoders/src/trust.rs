//! What signatures may be verified with. [`Trust`] holds the anchors the user supplied or the
//! capture published, each with the source a verdict names:
//! * JSON Web Keys ([`Trust::keys`]), for JWTs;
//! * X.509 certificates ([`Trust::certs`]), for XML signatures;
//! * public keys trusted without a certificate ([`Trust::public_keys`]), found by key with
//!   [`Trust::public_keys_matching`];
//! * pinned certificate thumbprints ([`Trust::thumbprints`]), asked with [`Trust::pinned`].
//!
//! [`Trust::jws_signers`] finds the trusted certificates a JWS header names by thumbprint
//! (`x5t`, `x5t#S256`) or carries (`x5c`, when anchored). Certificates seen in the capture that
//! are not anchors ([`Trust::seen_certs`]) are kept beside them so a view can name them, never
//! to verify with.
//!
//! [`Trust::add_anchor_file`] reads one trust-anchor file in the forms people hold them (see
//! [`anchors`]) and tells the form from the content, never from the file name.
//!
//! Not responsible for reading files (the caller passes the bytes) or for checking signatures
//! (the JWT and XML-signature code ask this module which anchors apply).

use x509_parser::prelude::FromDer as _;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use std::borrow::Cow;

use crate::{Limits, x509, xml};

/// Most `ds:Signature` elements of one document whose certificates [`Trust::xml_signers`] reads.
const MAX_SIGNATURES_SCANNED: usize = 16;

pub mod anchors;
mod thumbprint;

pub use anchors::{AnchorError, AnchorFile, AnchorFormat};
pub use thumbprint::{Thumbprint, ThumbprintError};

use anchors::Anchor;

/// A key a JWT may be verified with, and where it came from.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key as a JWK (a JSON object with `kty` and the key material).
    pub jwk: serde_json::Value,
    /// Where the key came from, for the verdict: `"flow #3"`, `"--jwks keys.json"`.
    pub source: String,
}

/// A public key trusted on its own, with no certificate around it, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedPublicKey {
    /// The key as a DER `SubjectPublicKeyInfo` (a PKCS#1 `RSA PUBLIC KEY` is kept wrapped in one).
    pub spki: Vec<u8>,
    /// Where it came from, for the verdict: `"--trust-cert signing-key.pem"`.
    pub source: String,
}

/// A certificate thumbprint the user pinned, and the option that pinned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedThumbprint {
    /// The SHA-1 or SHA-256 digest of the pinned certificate's DER.
    pub thumbprint: Thumbprint,
    /// Where the pin came from, for the verdict: `"--trust-thumbprint 3270bf55…"`.
    pub source: String,
}

/// Keys the user supplied or that were found in the same capture. Verification only ever says
/// "verified" with one of these, and names it.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// JSON Web Keys (for JWTs), in the order they were added.
    pub keys: Vec<TrustedKey>,
    /// X.509 certificates (for XML signatures): pinned with `--trust-cert FILE` or taken from
    /// FederationMetadata/MEX in the same capture.
    pub certs: Vec<xml::dsig::TrustedCert>,
    /// Public keys trusted without a certificate (`--trust-cert` with a PEM `PUBLIC KEY` or
    /// `RSA PUBLIC KEY`), in the order they were added.
    pub public_keys: Vec<TrustedPublicKey>,
    /// Certificate thumbprints pinned with `--trust-thumbprint`, in the order they were added.
    pub thumbprints: Vec<PinnedThumbprint>,
    /// Decryption keys the user gave (`--key`): never anchors, kept here so that every decoder
    /// that verifies can also open what is encrypted to the user.
    pub decryption: crate::keys::Keys,
    /// Certificates seen in the capture that are not anchors (the `x5c` of a client assertion),
    /// each with the flow it came from: a thumbprint may name one, so a view can say which
    /// certificate a token names, but no signature is ever verified with one.
    pub seen_certs: Vec<xml::dsig::TrustedCert>,
    /// Content the user gave for signatures whose payload is not in the message (a detached
    /// JWS, RFC 7515 appendix F), each with where it came from (`--payload FILE`). Not an
    /// anchor: a signature still verifies only with a trusted key.
    pub detached_payloads: Vec<(Vec<u8>, String)>,
}

impl Trust {
    /// Adds every key of a JWKS document (`{"keys":[…]}`) or a single JWK; returns how many keys
    /// were added. A key that is already trusted (the same JWK) is skipped and keeps its first
    /// source: a capture that fetches the same JWKS thousands of times must not trust each key
    /// thousands of times, since every token naming that key would be checked against every copy.
    pub fn add_jwks(&mut self, doc: &serde_json::Value, source: &str) -> usize {
        let mut added = 0;
        for k in jwk_entries(doc) {
            if !self.keys.iter().any(|t| t.jwk == *k) {
                self.keys.push(TrustedKey {
                    jwk: k.clone(),
                    source: source.to_string(),
                });
                added += 1;
            }
        }
        added
    }

    /// Adds the keys of a JWKS or JWK file (`--jwks FILE`); returns how many keys it holds.
    /// Fails when it is not JSON or holds no key.
    pub fn add_jwks_json(&mut self, bytes: &[u8], source: &str) -> Result<usize, AnchorError> {
        let doc = anchors::jwks_document(bytes)?;
        let n = jwk_entries(&doc).len();
        self.add_jwks(&doc, source);
        Ok(n)
    }

    /// True when no anchor at all is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.certs.is_empty()
            && self.public_keys.is_empty()
            && self.thumbprints.is_empty()
    }

    /// Adds a certificate for XML-signature verification, unless the same DER is already trusted
    /// (the first source is kept).
    pub fn add_cert(&mut self, der: Vec<u8>, source: &str) {
        if !self.certs.iter().any(|c| c.der == der) {
            self.certs.push(xml::dsig::TrustedCert {
                der,
                source: source.to_string(),
            });
        }
    }

    /// Adds a public key trusted without a certificate, given as a DER `SubjectPublicKeyInfo`.
    /// Returns whether it was added: a key already trusted keeps its first source. Fails when
    /// the bytes are not a public key.
    pub fn add_public_key(&mut self, spki: &[u8], source: &str) -> Result<bool, AnchorError> {
        let spki = anchors::spki_der(spki).map_err(|why| AnchorError::PublicKey { why })?;
        Ok(self.push_public_key(spki, source))
    }

    fn push_public_key(&mut self, spki: Vec<u8>, source: &str) -> bool {
        if !self.public_keys_matching(&spki).is_empty() {
            return false;
        }
        self.public_keys.push(TrustedPublicKey {
            spki,
            source: source.to_string(),
        });
        true
    }

    /// The trusted public keys (those added without a certificate) that are the key of `spki`, a
    /// DER `SubjectPublicKeyInfo` (a certificate's key, or one built from a signature's
    /// `KeyValue`). Two RSA keys match when modulus and exponent are equal (leading zero bytes and
    /// the encoding of the algorithm parameters aside); other keys when algorithm, parameters and
    /// key bits are equal. Empty when `spki` is not a public key.
    pub fn public_keys_matching(&self, spki: &[u8]) -> Vec<&TrustedPublicKey> {
        let Ok((_, wanted)) = SubjectPublicKeyInfo::from_der(spki) else {
            return Vec::new();
        };
        self.public_keys
            .iter()
            .filter(|k| {
                SubjectPublicKeyInfo::from_der(&k.spki)
                    .is_ok_and(|(_, have)| same_key(&have, &wanted))
            })
            .collect()
    }

    /// The certificates an XML signature in `doc` may be verified with: the trusted ones, plus
    /// every certificate a signature of `doc` carries in its `KeyInfo` that the user anchored
    /// another way, pinned by thumbprint ([`Trust::pinned`]) or holding a trusted bare public key
    /// ([`Trust::public_keys_matching`]), each named by the option that anchored it. Borrowed
    /// when the user pinned nothing and gave no bare key.
    pub fn xml_signers(&self, doc: &xml::Document<'_>) -> Cow<'_, [xml::dsig::TrustedCert]> {
        if self.thumbprints.is_empty() && self.public_keys.is_empty() {
            return Cow::Borrowed(&self.certs);
        }
        let mut out = self.certs.clone();
        let signatures = doc
            .elements()
            .filter(|e| doc.is(*e, xml::DSIG_NS, "Signature"))
            .take(MAX_SIGNATURES_SCANNED);
        for sig in signatures {
            for der in xml::dsig::embedded_certificates(doc, sig).ders {
                if out.iter().any(|c| c.der == der) {
                    continue;
                }
                if let Some(source) = self.anchored_elsewhere(&der) {
                    out.push(xml::dsig::TrustedCert { der, source });
                }
            }
        }
        Cow::Owned(out)
    }

    /// The source that anchors a certificate a message carries, when the user anchored it other
    /// than as a trusted certificate: pinned by thumbprint ([`Trust::pinned`]), or holding a
    /// trusted bare public key ([`Trust::public_keys_matching`]).
    fn anchored_elsewhere(&self, der: &[u8]) -> Option<String> {
        if let Some(pin) = self.pinned(der) {
            return Some(format!("{} (the certificate in the message)", pin.source));
        }
        if self.public_keys.is_empty() {
            return None;
        }
        let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
        self.public_keys_matching(c.tbs_certificate.subject_pki.raw)
            .first()
            .map(|k| format!("{} (the key of the certificate in the message)", k.source))
    }

    /// The trusted certificates a JWS header names (RFC 7515 §4.1.6–§4.1.8): each trusted
    /// certificate whose SHA-1 thumbprint is `x5t` or whose SHA-256 thumbprint is `x5t#S256`
    /// (the decoded digests), then the header's `x5c` leaf (DER) when it is itself trusted or the
    /// user anchored it another way (a pinned thumbprint, a trusted bare public key), each with
    /// the source a verdict names. A certificate is never trusted for being in the header.
    pub fn jws_signers(
        &self,
        x5t: Option<&[u8]>,
        x5t_s256: Option<&[u8]>,
        x5c_leaf: Option<&[u8]>,
    ) -> Vec<xml::dsig::TrustedCert> {
        let mut out: Vec<xml::dsig::TrustedCert> = Vec::new();
        if x5t.is_some() || x5t_s256.is_some() {
            for c in &self.certs {
                let sha1 = x5t.is_some_and(|t| t == x509::sha1(&c.der).as_slice());
                let sha256 =
                    x5t_s256.is_some_and(|t| t == Thumbprint::sha256_of(&c.der).as_bytes());
                if sha1 || sha256 {
                    out.push(c.clone());
                }
            }
        }
        if let Some(der) = x5c_leaf
            && !out.iter().any(|c| c.der == der)
        {
            let source = self
                .certs
                .iter()
                .find(|c| c.der == der)
                .map(|c| c.source.clone())
                .or_else(|| self.anchored_elsewhere(der));
            if let Some(source) = source {
                out.push(xml::dsig::TrustedCert {
                    der: der.to_vec(),
                    source,
                });
            }
        }
        out
    }

    /// The certificates the user gave on the command line (`--trust-cert …`), as opposed to
    /// those learned from the capture: their source names the option that gave them.
    pub fn given_certs(&self) -> impl Iterator<Item = &xml::dsig::TrustedCert> {
        self.certs.iter().filter(|c| c.source.starts_with("--"))
    }

    /// Adds a certificate seen in the capture that is not an anchor (the `x5c` of a client
    /// assertion), unless the same DER was seen already (the first source is kept).
    pub fn add_seen_cert(&mut self, der: Vec<u8>, source: &str) {
        if !self.seen_certs.iter().any(|c| c.der == der) {
            self.seen_certs.push(xml::dsig::TrustedCert {
                der,
                source: source.to_string(),
            });
        }
    }

    /// Pins a certificate by its thumbprint. Returns whether it was added: a thumbprint already
    /// pinned keeps its first source.
    pub fn pin_thumbprint(&mut self, thumbprint: Thumbprint, source: &str) -> bool {
        if self.thumbprints.iter().any(|p| p.thumbprint == thumbprint) {
            return false;
        }
        self.thumbprints.push(PinnedThumbprint {
            thumbprint,
            source: source.to_string(),
        });
        true
    }

    /// The pin that trusts the certificate `cert_der` (DER), if any: its SHA-1 or SHA-256
    /// thumbprint was pinned. The pin's `source` names the option (`--trust-thumbprint …`).
    pub fn pinned(&self, cert_der: &[u8]) -> Option<&PinnedThumbprint> {
        if self.thumbprints.is_empty() {
            return None;
        }
        let (sha1, sha256) = (
            Thumbprint::sha1_of(cert_der),
            Thumbprint::sha256_of(cert_der),
        );
        self.thumbprints
            .iter()
            .find(|p| p.thumbprint == sha1 || p.thumbprint == sha256)
    }

    /// Reads one trust-anchor file and adds what it holds, telling its form from the content:
    /// * PEM: every `CERTIFICATE` block becomes a certificate, every `PUBLIC KEY` (SPKI) or `RSA
    ///   PUBLIC KEY` (PKCS#1) block a public key; private-key and other blocks are skipped;
    /// * DER, or bare base64 of it: one certificate or public key;
    /// * JSON: a JWKS or a JWK, whose keys join [`Trust::keys`];
    /// * XML: SAML / WS-Federation metadata, whose signing certificates (those
    ///   [`crate::saml::signing_certificates`] finds) each get the source `"{source} (signing cert
    ///   CN=…)"`.
    ///
    /// Every other anchor gets `source` as it is. The file is read whole before anything is
    /// added, so a refused file adds nothing.
    pub fn add_anchor_file(
        &mut self,
        bytes: &[u8],
        source: &str,
        limits: &Limits,
    ) -> Result<AnchorFile, AnchorError> {
        if bytes.len() > limits.max_body {
            return Err(AnchorError::TooLarge {
                size: bytes.len(),
                limit: limits.max_body,
            });
        }
        let (format, anchors) = anchors::read_anchors(bytes, limits)?;
        let mut file = AnchorFile {
            format,
            certs: 0,
            public_keys: 0,
            jwks: 0,
        };
        for anchor in anchors {
            match anchor {
                Anchor::Cert { der, note } => {
                    file.certs += 1;
                    match note {
                        Some(note) => self.add_cert(der, &format!("{source} ({note})")),
                        None => self.add_cert(der, source),
                    }
                }
                Anchor::PublicKey(spki) => {
                    file.public_keys += 1;
                    self.push_public_key(spki, source);
                }
                Anchor::Jwk(jwk) => {
                    file.jwks += 1;
                    self.add_jwks(&jwk, source);
                }
            }
        }
        Ok(file)
    }
}

/// The keys of a JWKS document, or the document itself when it is one JWK: the objects with a
/// string `kty`.
fn jwk_entries(doc: &serde_json::Value) -> Vec<&serde_json::Value> {
    let keys: Vec<&serde_json::Value> = match doc.get("keys").and_then(|k| k.as_array()) {
        Some(arr) => arr.iter().collect(),
        None if doc.get("kty").is_some() => vec![doc],
        None => vec![],
    };
    keys.into_iter()
        .filter(|k| k.get("kty").and_then(|v| v.as_str()).is_some())
        .collect()
}

/// Whether two public keys are the same key (see [`Trust::public_keys_matching`]).
fn same_key(a: &SubjectPublicKeyInfo<'_>, b: &SubjectPublicKeyInfo<'_>) -> bool {
    match (a.parsed(), b.parsed()) {
        (Ok(PublicKey::RSA(x)), Ok(PublicKey::RSA(y))) => {
            x509::strip_zeros(x.modulus) == x509::strip_zeros(y.modulus)
                && x509::strip_zeros(x.exponent) == x509::strip_zeros(y.exponent)
        }
        _ => a.algorithm == b.algorithm && a.subject_public_key.data == b.subject_public_key.data,
    }
}

#[cfg(test)]
mod tests;
