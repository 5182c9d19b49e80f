//! Key files in the forms people hold decryption keys, told apart by content, never by name:
//! * PEM: `PRIVATE KEY` (PKCS#8: RSA, EC, X25519), `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY`
//!   (SEC1), `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2, needs the password); certificates and
//!   public keys beside a key are skipped;
//! * DER (or bare base64 of it): any of the above, or a PFX / PKCS#12 file (needs its password;
//!   an empty password is tried when none is given);
//! * JSON: a JWK or a JWKS; every key with private members (`d` for RSA, EC and OKP X25519, `k`
//!   for `oct`) is loaded, public ones are skipped;
//! * hex (or base64 of 16 to 64 bytes that are not DER): a symmetric key, such as a PRT session
//!   key as roadtx prints it.
//!
//! A key that cannot decrypt anything (Ed25519, RSA-PSS) is refused as of the wrong kind; a file
//! with only public keys or certificates is refused with a hint to give it with `--trust-cert`.
//! Every refusal is a [`KeyError`] that says what was wrong, never echoing a password or key
//! bytes; the caller names the file.
//!
//! The parsers are aws-lc-rs (EC keys), RustCrypto `rsa` (PKCS#1, JWK components to PKCS#8),
//! `pkcs8` (PKCS#8 structure and PBES2 decryption) and `p12-keystore` (PFX).

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use pkcs8::der::Decode as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::Value;

use super::{DecryptionKey, EcCurve, KeyMaterial};
use crate::util;

/// The largest key file read, in bytes: a PFX with a long chain fits well within it.
pub const MAX_KEY_FILE: usize = 1 << 20;

/// Most keys taken from one file (a JWKS or a PFX).
const MAX_KEYS: usize = 64;

/// The form a key file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// PEM blocks.
    Pem,
    /// One DER key (PKCS#8, encrypted PKCS#8, PKCS#1 or SEC1), raw or as bare base64.
    Der,
    /// A PFX / PKCS#12 file, raw or as bare base64.
    Pkcs12,
    /// A JWK or JWKS.
    Jwk,
    /// A symmetric key as hex (or base64).
    Symmetric,
}

impl KeyFormat {
    /// A few words for messages: `PEM`, `PKCS#12`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFormat::Pem => "PEM",
            KeyFormat::Der => "DER",
            KeyFormat::Pkcs12 => "PKCS#12",
            KeyFormat::Jwk => "JWK",
            KeyFormat::Symmetric => "symmetric key",
        }
    }
}

/// What one key file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFile {
    /// The form the file was recognised as.
    pub format: KeyFormat,
    /// Keys read from it (before duplicates are dropped).
    pub keys: usize,
}

/// Why a key file was refused. The text says what was wrong, not which file (the caller names
/// it), and never holds a password or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing but white space.
    #[error("the file is empty")]
    Empty,
    /// Larger than [`MAX_KEY_FILE`].
    #[error("the file is {size} bytes, more than the {limit} a key file may have")]
    TooLarge {
        /// The file's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An encrypted key or a PFX and no password.
    #[error("{what} is protected by a password; give it with --key-password")]
    NeedsPassword {
        /// `a PFX / PKCS#12 file`, `an encrypted PKCS#8 key`.
        what: &'static str,
    },
    /// The password does not open it.
    #[error("{what}: wrong password ({why})")]
    WrongPassword {
        /// What was being opened.
        what: &'static str,
        /// What failed (the MAC does not verify, the padding is wrong).
        why: String,
    },
    /// Only public keys or certificates.
    #[error(
        "no private key in it ({found}): --key takes private or secret keys; give public keys and certificates with --trust-cert"
    )]
    NoPrivateKey {
        /// What it does hold.
        found: String,
    },
    /// A private key that cannot decrypt anything idscope opens.
    #[error("{what} cannot decrypt: {why}")]
    WrongKind {
        /// The key (`an Ed25519 key`).
        what: String,
        /// Why it does not fit.
        why: String,
    },
    /// Recognised, but broken.
    #[error("{what}: {why}")]
    Malformed {
        /// What it was read as (`PEM block 2 (RSA PRIVATE KEY)`, `JWK kid=a`).
        what: String,
        /// What is wrong.
        why: String,
    },
    /// None of the forms.
    #[error(
        "not a key file idscope reads: expected PEM, DER, PKCS#12 / PFX, a JWK or JWKS, or a symmetric key in hex"
    )]
    Unrecognized,
}

fn malformed(what: impl Into<String>, why: impl Into<String>) -> KeyError {
    KeyError::Malformed {
        what: what.into(),
        why: why.into(),
    }
}

/// Reads every key in a key file; see the module docs for the forms.
pub(super) fn read_keys(
    bytes: &[u8],
    source: &str,
    password: Option<&str>,
) -> Result<(KeyFormat, Vec<DecryptionKey>), KeyError> {
    if bytes.len() > MAX_KEY_FILE {
        return Err(KeyError::TooLarge {
            size: bytes.len(),
            limit: MAX_KEY_FILE,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(KeyError::Empty);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).ok();
    if bytes.first() == Some(&0x30) {
        match der_keys(bytes, password) {
            Ok((format, keys)) => return Ok((format, named(keys, source))),
            Err(e) if text.is_none() => return Err(e),
            Err(_) => {}
        }
    }
    let Some(text) = text else {
        return Err(KeyError::Unrecognized);
    };
    let t = text.trim();
    if t.starts_with('{') {
        return Ok((KeyFormat::Jwk, named(jwk_keys(t)?, source)));
    }
    if t.contains("-----BEGIN ") {
        return Ok((KeyFormat::Pem, named(pem_keys(t, password)?, source)));
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let hex = compact.strip_prefix("0x").unwrap_or(&compact);
    if !hex.is_empty() && hex.len().is_multiple_of(2) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let key = symmetric(hex_bytes(hex), "the hex key")?;
        return Ok((KeyFormat::Symmetric, named(vec![(key, None)], source)));
    }
    if util::is_base64ish(&compact)
        && let Some(raw) = util::b64_decode_any(&compact, MAX_KEY_FILE)
    {
        if raw.first() == Some(&0x30)
            && let Ok((format, keys)) = der_keys(&raw, password)
        {
            return Ok((format, named(keys, source)));
        }
        if (16..=64).contains(&raw.len()) {
            let key = symmetric(raw, "the base64 key")?;
            return Ok((KeyFormat::Symmetric, named(vec![(key, None)], source)));
        }
    }
    Err(KeyError::Unrecognized)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks_exact(2)
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect()
}

fn symmetric(bytes: Vec<u8>, what: &str) -> Result<KeyMaterial, KeyError> {
    if bytes.len() > 1024 {
        return Err(malformed(
            what,
            format!("{} bytes, more than a symmetric key has", bytes.len()),
        ));
    }
    Ok(KeyMaterial::Symmetric(bytes))
}

/// Gives every key its source: the file's name, with the `kid` or the position when the file
/// held several.
fn named(keys: Vec<(KeyMaterial, Option<String>)>, source: &str) -> Vec<DecryptionKey> {
    let several = keys.len() > 1;
    keys.into_iter()
        .enumerate()
        .map(|(i, (material, kid))| DecryptionKey {
            material,
            source: match (&kid, several) {
                (Some(kid), _) => format!("{source} (kid {kid})"),
                (None, true) => format!("{source} (key {})", i + 1),
                (None, false) => source.to_string(),
            },
            kid,
        })
        .collect()
}

type Found = Vec<(KeyMaterial, Option<String>)>;

// ---------------------------------------------------------------------------------------------
// DER

/// The version number a DER `SEQUENCE { INTEGER v, … }` starts with, or `None` when its first
/// element is not a small INTEGER.
fn leading_version(der: &[u8]) -> Option<u8> {
    let rest = match der {
        [0x30, 0x80..=0x84, ..] => {
            let n = usize::from(der.get(1)? & 0x7f);
            der.get(2 + n..)?
        }
        [0x30, _, ..] => der.get(2..)?,
        _ => return None,
    };
    match rest {
        [0x02, 0x01, v, ..] => Some(*v),
        _ => None,
    }
}

fn der_keys(der: &[u8], password: Option<&str>) -> Result<(KeyFormat, Found), KeyError> {
    match leading_version(der) {
        Some(3) => return pfx_keys(der, password).map(|k| (KeyFormat::Pkcs12, k)),
        Some(0 | 1) => {
            if pkcs8::PrivateKeyInfoRef::from_der(der).is_ok() {
                return Ok((KeyFormat::Der, vec![(pkcs8_key(der)?, None)]));
            }
            if let Ok(k) = pkcs1_key(der) {
                return Ok((KeyFormat::Der, vec![(k, None)]));
            }
            if let Ok(k) = sec1_key(der) {
                return Ok((KeyFormat::Der, vec![(k, None)]));
            }
            return Err(malformed(
                "DER key",
                "neither PKCS#8, PKCS#1 RSA nor SEC1 EC",
            ));
        }
        _ => {}
    }
    if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
        return Ok((
            KeyFormat::Der,
            vec![(encrypted_pkcs8(der, password)?, None)],
        ));
    }
    use x509_parser::prelude::FromDer as _;
    if x509_parser::certificate::X509Certificate::from_der(der).is_ok() {
        return Err(KeyError::NoPrivateKey {
            found: "a certificate".to_string(),
        });
    }
    if x509_parser::x509::SubjectPublicKeyInfo::from_der(der).is_ok() {
        return Err(KeyError::NoPrivateKey {
            found: "a public key".to_string(),
        });
    }
    Err(malformed(
        "DER",
        "not a private key, an encrypted private key or a PFX",
    ))
}

const RSA_OID: &str = "1.2.840.113549.1.1.1";
const RSA_PSS_OID: &str = "1.2.840.113549.1.1.10";
const EC_OID: &str = "1.2.840.10045.2.1";
const X25519_OID: &str = "1.3.101.110";
const X448_OID: &str = "1.3.101.111";
const ED25519_OID: &str = "1.3.101.112";
const ED448_OID: &str = "1.3.101.113";

/// A PKCS#8 `PrivateKeyInfo`, by its algorithm.
fn pkcs8_key(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|e| malformed("PKCS#8 key", e.to_string()))?;
    let oid = info.algorithm.oid.to_string();
    match oid.as_str() {
        RSA_OID => {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|e| malformed("PKCS#8 RSA key", e.to_string()))?;
            let pkcs8 = key
                .to_pkcs8_der()
                .map_err(|e| malformed("PKCS#8 RSA key", e.to_string()))?;
            Ok(KeyMaterial::Rsa(pkcs8.as_bytes().to_vec()))
        }
        EC_OID => sec1_key(der).map_err(|_| {
            malformed(
                "PKCS#8 EC key",
                "not on P-256, P-384 or P-521, or not a valid key",
            )
        }),
        X25519_OID => {
            // CurvePrivateKey ::= OCTET STRING (RFC 8410 §7), inside the privateKey octets.
            match info.private_key.as_bytes() {
                [0x04, 0x20, rest @ ..] => rest
                    .try_into()
                    .map(KeyMaterial::X25519)
                    .map_err(|_| malformed("PKCS#8 X25519 key", "the key is not 32 bytes")),
                _ => Err(malformed("PKCS#8 X25519 key", "the key is not 32 bytes")),
            }
        }
        ED25519_OID | ED448_OID => Err(KeyError::WrongKind {
            what: "an EdDSA (Ed25519/Ed448) key".to_string(),
            why: "it signs; nothing is encrypted to it (an X25519 key is what ECDH-ES takes)"
                .to_string(),
        }),
        RSA_PSS_OID => Err(KeyError::WrongKind {
            what: "an RSA-PSS key".to_string(),
            why: "its algorithm restricts it to PSS signatures".to_string(),
        }),
        X448_OID => Err(KeyError::WrongKind {
            what: "an X448 key".to_string(),
            why: "idscope does ECDH-ES on P-256, P-384, P-521 and X25519 only".to_string(),
        }),
        other => Err(KeyError::WrongKind {
            what: format!("a key of algorithm {other}"),
            why: "idscope decrypts with RSA, EC (P-256/384/521), X25519 and symmetric keys"
                .to_string(),
        }),
    }
}

/// A PKCS#1 `RSAPrivateKey`, converted to PKCS#8.
fn pkcs1_key(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    let key = rsa::RsaPrivateKey::from_pkcs1_der(der)
        .map_err(|e| malformed("PKCS#1 RSA key", e.to_string()))?;
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|e| malformed("PKCS#1 RSA key", e.to_string()))?;
    Ok(KeyMaterial::Rsa(pkcs8.as_bytes().to_vec()))
}

/// A SEC1 `ECPrivateKey` (or a PKCS#8 EC key) on a curve aws-lc-rs reads, as PKCS#8.
fn sec1_key(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    for curve in EcCurve::ALL {
        if let Ok(k) =
            aws_lc_rs::agreement::PrivateKey::from_private_key_der(curve.agreement(), der)
        {
            let pkcs8: Pkcs8V1Der<'static> = k
                .as_der()
                .map_err(|_| malformed("EC key", "cannot be re-encoded as PKCS#8"))?;
            return Ok(KeyMaterial::Ec(pkcs8.as_ref().to_vec()));
        }
    }
    Err(malformed(
        "SEC1 EC key",
        "not a valid key on P-256, P-384 or P-521",
    ))
}

/// An `EncryptedPrivateKeyInfo` (PBES2), opened with the password.
fn encrypted_pkcs8(der: &[u8], password: Option<&str>) -> Result<KeyMaterial, KeyError> {
    const WHAT: &str = "an encrypted PKCS#8 key";
    let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der)
        .map_err(|e| malformed("encrypted PKCS#8 key", e.to_string()))?;
    let password = password.ok_or(KeyError::NeedsPassword { what: WHAT })?;
    let doc = info
        .decrypt(password)
        .map_err(|e| KeyError::WrongPassword {
            what: WHAT,
            why: format!("decryption fails: {e}"),
        })?;
    pkcs8_key(doc.as_bytes()).map_err(|e| match e {
        KeyError::Malformed { .. } => KeyError::WrongPassword {
            what: WHAT,
            why: "what it decrypts to is not a private key".to_string(),
        },
        other => other,
    })
}

/// The private keys of a PFX. Without a password the empty one is tried (PFX files exported
/// without protection use it).
fn pfx_keys(der: &[u8], password: Option<&str>) -> Result<Found, KeyError> {
    const WHAT: &str = "a PFX / PKCS#12 file";
    let archive = match p12_keystore::Pkcs12Archive::from_pkcs12(der, password.unwrap_or("")) {
        Ok(a) => a,
        Err(p12_keystore::error::Error::MacError(_)) => {
            return Err(match password {
                None => KeyError::NeedsPassword { what: WHAT },
                Some(_) => KeyError::WrongPassword {
                    what: WHAT,
                    why: "its integrity MAC does not verify".to_string(),
                },
            });
        }
        Err(e) => {
            return Err(match password {
                None => KeyError::NeedsPassword { what: WHAT },
                Some(_) => KeyError::WrongPassword {
                    what: WHAT,
                    why: e.to_string(),
                },
            });
        }
    };
    if archive.keys.is_empty() {
        return Err(KeyError::NoPrivateKey {
            found: format!("a PFX with {} certificates", archive.certs.len()),
        });
    }
    archive
        .keys
        .iter()
        .take(MAX_KEYS)
        .map(|bag| pkcs8_key(bag.key.as_der()).map(|k| (k, bag.friendly_name.clone())))
        .collect()
}

/// The modulus size of an RSA private key given as PKCS#8 DER.
pub(super) fn rsa_bits(pkcs8: &[u8]) -> Option<usize> {
    rsa::RsaPrivateKey::from_pkcs8_der(pkcs8)
        .ok()
        .map(|k| k.n().bits())
}

// ---------------------------------------------------------------------------------------------
// PEM

fn pem_keys(text: &str, password: Option<&str>) -> Result<Found, KeyError> {
    use x509_parser::pem::Pem;
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(malformed(
            "PEM",
            "a key encrypted the legacy OpenSSL way (Proc-Type: 4,ENCRYPTED), which idscope \
             does not read; convert it with `openssl pkcs8 -topk8` (encrypted PKCS#8) first",
        ));
    }
    let mut out = Vec::new();
    let mut labels = Vec::new();
    for (i, block) in Pem::iter_from_buffer(text.as_bytes()).enumerate() {
        let what = |label: &str| format!("PEM block {} ({label})", i + 1);
        let pem = block.map_err(|e| malformed(format!("PEM block {}", i + 1), e.to_string()))?;
        let key = match pem.label.as_str() {
            "PRIVATE KEY" => Some(pkcs8_key(&pem.contents)),
            "RSA PRIVATE KEY" => Some(pkcs1_key(&pem.contents)),
            "EC PRIVATE KEY" => Some(sec1_key(&pem.contents)),
            "ENCRYPTED PRIVATE KEY" => Some(encrypted_pkcs8(&pem.contents, password)),
            "OPENSSH PRIVATE KEY" => {
                return Err(malformed(
                    what(&pem.label),
                    "the OpenSSH key format is not read; convert it with `ssh-keygen -p -m \
                     PKCS8 -f FILE`",
                ));
            }
            _ => None,
        };
        if let Some(key) = key {
            out.push((
                key.map_err(|e| match e {
                    KeyError::Malformed { why, .. } => malformed(what(&pem.label), why),
                    other => other,
                })?,
                None,
            ));
        }
        labels.push(pem.label);
        if out.len() > MAX_KEYS {
            return Err(malformed("PEM", format!("more than {MAX_KEYS} keys")));
        }
    }
    if out.is_empty() {
        return Err(KeyError::NoPrivateKey {
            found: if labels.is_empty() {
                "no readable PEM block".to_string()
            } else {
                format!("PEM {}", labels.join(", "))
            },
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// JWK

fn jwk_keys(text: &str) -> Result<Found, KeyError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        malformed(
            "JSON",
            format!("invalid at line {} column {}", e.line(), e.column()),
        )
    })?;
    let entries: Vec<&Value> = match doc.get("keys").and_then(Value::as_array) {
        Some(keys) => keys.iter().collect(),
        None if doc.get("kty").is_some() => vec![&doc],
        None => {
            return Err(malformed(
                "JSON",
                "neither a JWK (no `kty`) nor a JWKS (no `keys` array)",
            ));
        }
    };
    if entries.len() > MAX_KEYS {
        return Err(malformed("JWKS", format!("more than {MAX_KEYS} keys")));
    }
    let mut out = Vec::new();
    let mut public = 0usize;
    for (i, jwk) in entries.iter().enumerate() {
        let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_string);
        let what = match &kid {
            Some(k) => format!("JWK kid={k}"),
            None => format!("JWK [{i}]"),
        };
        match jwk_key(jwk).map_err(|e| match e {
            KeyError::Malformed { why, .. } => malformed(what.clone(), why),
            other => other,
        })? {
            Some(k) => out.push((k, kid)),
            None => public += 1,
        }
    }
    if out.is_empty() {
        return Err(KeyError::NoPrivateKey {
            found: format!(
                "{public} public JWK{} (no `d` or `k`)",
                if public == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(out)
}

fn jwk_bytes(jwk: &Value, name: &str) -> Result<Option<Vec<u8>>, KeyError> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => util::b64_decode_any(s, MAX_KEY_FILE)
            .map(Some)
            .ok_or_else(|| malformed("JWK", format!("`{name}` is not base64url"))),
        Some(_) => Err(malformed("JWK", format!("`{name}` is not a string"))),
    }
}

fn jwk_required(jwk: &Value, name: &str) -> Result<Vec<u8>, KeyError> {
    jwk_bytes(jwk, name)?.ok_or_else(|| malformed("JWK", format!("no `{name}`")))
}

/// One JWK: `Some` key when it has private members, `None` when it is public.
fn jwk_key(jwk: &Value) -> Result<Option<KeyMaterial>, KeyError> {
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
    match kty {
        "oct" => {
            let k = jwk_required(jwk, "k")?;
            if k.is_empty() {
                return Err(malformed("JWK", "`k` is empty"));
            }
            symmetric(k, "JWK").map(Some)
        }
        "RSA" => {
            let Some(d) = jwk_bytes(jwk, "d")? else {
                return Ok(None);
            };
            let big = |b: &[u8]| rsa::BigUint::from_bytes_be(b);
            let n = jwk_required(jwk, "n")?;
            let e = jwk_required(jwk, "e")?;
            let primes = match (jwk_bytes(jwk, "p")?, jwk_bytes(jwk, "q")?) {
                (Some(p), Some(q)) => vec![big(&p), big(&q)],
                _ => Vec::new(),
            };
            let key = rsa::RsaPrivateKey::from_components(big(&n), big(&e), big(&d), primes)
                .map_err(|e| malformed("JWK", format!("not a valid RSA private key: {e}")))?;
            key.validate()
                .map_err(|e| malformed("JWK", format!("not a valid RSA private key: {e}")))?;
            let pkcs8 = key
                .to_pkcs8_der()
                .map_err(|e| malformed("JWK", e.to_string()))?;
            Ok(Some(KeyMaterial::Rsa(pkcs8.as_bytes().to_vec())))
        }
        "EC" => {
            let curve = EcCurve::from_name(crv).ok_or_else(|| {
                malformed(
                    "JWK",
                    format!("curve `{crv}`: idscope reads P-256, P-384 and P-521"),
                )
            })?;
            let Some(d) = jwk_bytes(jwk, "d")? else {
                return Ok(None);
            };
            let size = curve.size();
            let d = d.get(d.len().saturating_sub(size)..).unwrap_or(&d);
            let mut scalar = vec![0u8; size.saturating_sub(d.len())];
            scalar.extend_from_slice(d);
            let key =
                aws_lc_rs::agreement::PrivateKey::from_private_key(curve.agreement(), &scalar)
                    .map_err(|_| malformed("JWK", format!("`d` is not a {} private key", crv)))?;
            let pkcs8: Pkcs8V1Der<'static> = key
                .as_der()
                .map_err(|_| malformed("JWK", "cannot be encoded as PKCS#8"))?;
            Ok(Some(KeyMaterial::Ec(pkcs8.as_ref().to_vec())))
        }
        "OKP" => {
            let Some(d) = jwk_bytes(jwk, "d")? else {
                return Ok(None);
            };
            match crv {
                "X25519" => d
                    .as_slice()
                    .try_into()
                    .map(|k| Some(KeyMaterial::X25519(k)))
                    .map_err(|_| malformed("JWK", "an X25519 `d` is 32 bytes")),
                "Ed25519" | "Ed448" => Err(KeyError::WrongKind {
                    what: format!("an {crv} key"),
                    why: "it signs; nothing is encrypted to it (an X25519 key is what ECDH-ES \
                          takes)"
                        .to_string(),
                }),
                other => Err(KeyError::WrongKind {
                    what: format!("an OKP {other} key"),
                    why: "idscope does ECDH-ES on X25519 only among OKP curves".to_string(),
                }),
            }
        }
        "" => Err(malformed("JWK", "no `kty`")),
        other => Err(malformed("JWK", format!("unknown kty `{other}`"))),
    }
}
