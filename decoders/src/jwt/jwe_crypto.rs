//! The JWE algorithms (RFC 7518 §4 and §5): key management ([`unwrap_cek`]: RSA1_5, RSA-OAEP
//! with SHA-1/256/384/512, A128/192/256KW, A128/192/256GCMKW, `dir`, ECDH-ES and ECDH-ES+A*KW on
//! P-256/384/521 and X25519, PBES2-HS*+A*KW) and content decryption ([`Enc::open`]:
//! A128/192/256GCM and A128CBC-HS256/A192CBC-HS384/A256CBC-HS512).
//!
//! The primitives are aws-lc-rs's: RSA decryption (OAEP and PKCS#1 v1.5), AES key wrap (AES-128
//! and AES-256), AES-GCM, AES-CBC with PKCS#7 padding, HMAC, SHA-2, ECDH and X25519, PBKDF2.
//! Hand-written here, because aws-lc-rs has no function for them:
//! * the Concat KDF of ECDH-ES (RFC 7518 §4.6.2, NIST SP 800-56A §5.8.1), a loop of SHA-256;
//! * the AES-CBC + HMAC-SHA-2 composition (RFC 7518 §5.2.2.2): the MAC over `AAD || IV ||
//!   ciphertext || AL` is checked, in constant time, *before* anything is decrypted;
//! * AES key unwrap (RFC 3394 §2.2.2) for AES-192, on aws-lc-rs's AES block, since its key wrap
//!   has AES-128 and AES-256 only;
//! * reading an ephemeral public key (`epk`) from its JWK into the point aws-lc-rs takes.
//!
//! It is *not* responsible for choosing keys or recipients (`decrypt`), or for any view.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{self, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::key_wrap::{self, AesKek, KeyWrap as _};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
    OaepPrivateDecryptingKey, Pkcs1PrivateDecryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::{agreement, digest, hmac};
use serde_json::Value;

use crate::keys::{EcCurve, KeyMaterial};
use crate::util;

/// Most PBES2 iterations (`p2c`) computed: a header cannot make idscope spend minutes deriving.
pub const MAX_PBES2_ITERATIONS: u32 = 1_000_000;

/// A content-encryption algorithm (`enc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    /// AES-128-GCM.
    A128Gcm,
    /// AES-192-GCM.
    A192Gcm,
    /// AES-256-GCM.
    A256Gcm,
    /// AES-128-CBC with HMAC-SHA-256.
    A128CbcHs256,
    /// AES-192-CBC with HMAC-SHA-384.
    A192CbcHs384,
    /// AES-256-CBC with HMAC-SHA-512.
    A256CbcHs512,
}

/// Why content decryption failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentError {
    /// The CEK, IV or tag has the wrong size: nothing was checked.
    Shape(String),
    /// The authentication tag does not verify.
    TagMismatch,
}

impl Enc {
    /// The algorithm an `enc` value names.
    pub fn from_name(name: &str) -> Option<Enc> {
        Some(match name {
            "A128GCM" => Enc::A128Gcm,
            "A192GCM" => Enc::A192Gcm,
            "A256GCM" => Enc::A256Gcm,
            "A128CBC-HS256" => Enc::A128CbcHs256,
            "A192CBC-HS384" => Enc::A192CbcHs384,
            "A256CBC-HS512" => Enc::A256CbcHs512,
            _ => return None,
        })
    }

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            Enc::A128Gcm => "A128GCM",
            Enc::A192Gcm => "A192GCM",
            Enc::A256Gcm => "A256GCM",
            Enc::A128CbcHs256 => "A128CBC-HS256",
            Enc::A192CbcHs384 => "A192CBC-HS384",
            Enc::A256CbcHs512 => "A256CBC-HS512",
        }
    }

    /// The content-encryption key size, in bytes (for CBC-HS: MAC key and encryption key).
    pub fn key_len(self) -> usize {
        match self {
            Enc::A128Gcm => 16,
            Enc::A192Gcm => 24,
            Enc::A256Gcm | Enc::A128CbcHs256 => 32,
            Enc::A192CbcHs384 => 48,
            Enc::A256CbcHs512 => 64,
        }
    }

    /// Authenticates and decrypts `ciphertext` with `cek`; for CBC-HS the tag is checked before
    /// anything is decrypted.
    pub fn open(
        self,
        cek: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, ContentError> {
        if cek.len() != self.key_len() {
            return Err(ContentError::Shape(format!(
                "the content key is {} bytes, {} needs {}",
                cek.len(),
                self.name(),
                self.key_len()
            )));
        }
        match self {
            Enc::A128Gcm | Enc::A192Gcm | Enc::A256Gcm => {
                let alg = match self {
                    Enc::A128Gcm => &aead::AES_128_GCM,
                    Enc::A192Gcm => &aead::AES_192_GCM,
                    _ => &aead::AES_256_GCM,
                };
                gcm_open(alg, cek, iv, ciphertext, tag, aad)
            }
            Enc::A128CbcHs256 | Enc::A192CbcHs384 | Enc::A256CbcHs512 => {
                cbc_hs_open(self, cek, iv, ciphertext, tag, aad)
            }
        }
    }
}

fn gcm_open(
    alg: &'static aead::Algorithm,
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, ContentError> {
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| {
        ContentError::Shape(format!("the IV is {} bytes, AES-GCM takes 12", iv.len()))
    })?;
    if tag.len() != 16 {
        return Err(ContentError::Shape(format!(
            "the tag is {} bytes, AES-GCM's is 16",
            tag.len()
        )));
    }
    let key = UnboundKey::new(alg, key)
        .map(LessSafeKey::new)
        .map_err(|_| ContentError::Shape("the AES key is refused".to_string()))?;
    let mut buf = Vec::with_capacity(ciphertext.len() + tag.len());
    buf.extend_from_slice(ciphertext);
    buf.extend_from_slice(tag);
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| ContentError::TagMismatch)?;
    Ok(plain.to_vec())
}

/// RFC 7518 §5.2.2.2: MAC_KEY is the first half of the key, ENC_KEY the second; the tag is the
/// first half of HMAC(MAC_KEY, AAD || IV || ciphertext || AL), AL the AAD's length in bits as a
/// 64-bit big-endian number.
fn cbc_hs_open(
    enc: Enc,
    cek: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, ContentError> {
    let half = cek.len() / 2;
    let (mac_key, enc_key) = cek.split_at(half);
    let (mac_alg, aes) = match enc {
        Enc::A128CbcHs256 => (hmac::HMAC_SHA256, &cipher::AES_128),
        Enc::A192CbcHs384 => (hmac::HMAC_SHA384, &cipher::AES_192),
        _ => (hmac::HMAC_SHA512, &cipher::AES_256),
    };
    let iv: [u8; 16] = iv.try_into().map_err(|_| {
        ContentError::Shape(format!("the IV is {} bytes, AES-CBC takes 16", iv.len()))
    })?;
    if tag.len() != half {
        return Err(ContentError::Shape(format!(
            "the tag is {} bytes, {} makes {half}",
            tag.len(),
            enc.name()
        )));
    }
    let al = u64::try_from(aad.len())
        .unwrap_or(u64::MAX)
        .saturating_mul(8)
        .to_be_bytes();
    let mut mac = hmac::Context::with_key(&hmac::Key::new(mac_alg, mac_key));
    mac.update(aad);
    mac.update(&iv);
    mac.update(ciphertext);
    mac.update(&al);
    let full = mac.sign();
    let expected = full.as_ref().get(..half).unwrap_or_default();
    aws_lc_rs::constant_time::verify_slices_are_equal(expected, tag)
        .map_err(|_| ContentError::TagMismatch)?;
    cbc_decrypt(aes, enc_key, iv, ciphertext)
        .map_err(|why| ContentError::Shape(format!("authenticated, but {why}")))
}

/// AES-CBC with PKCS#7 padding.
pub fn cbc_decrypt(
    aes: &'static cipher::Algorithm,
    key: &[u8],
    iv: [u8; 16],
    ciphertext: &[u8],
) -> Result<Vec<u8>, String> {
    let key = UnboundCipherKey::new(aes, key)
        .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
        .map_err(|_| "the AES key is refused".to_string())?;
    let mut buf = ciphertext.to_vec();
    let plain = key
        .decrypt(&mut buf, DecryptionContext::Iv128(iv.into()))
        .map_err(|_| "the AES-CBC padding is wrong".to_string())?;
    Ok(plain.to_vec())
}

/// Why key management did not yield a content key with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwrap {
    /// The key is not of the kind, curve or size the algorithm needs: not tried.
    DoesNotFit(String),
    /// Tried, and it does not open the wrapped key (wrong key, or altered).
    Failed(String),
    /// The header lacks what the algorithm needs (`epk`, `iv`, `p2s` …), or asks for too much.
    Header(String),
    /// An algorithm idscope does not implement.
    Unsupported(String),
}

impl std::fmt::Display for Unwrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unwrap::DoesNotFit(w)
            | Unwrap::Failed(w)
            | Unwrap::Header(w)
            | Unwrap::Unsupported(w) => f.write_str(w),
        }
    }
}

/// A content key and whether the key-management step proved the key is the recipient's (an
/// integrity-checked unwrap: AES-KW, AES-GCMKW, RSA padding), as opposed to `dir` and ECDH-ES,
/// where only the content's tag can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cek {
    /// The content-encryption key.
    pub key: Vec<u8>,
    /// True when the unwrap itself was authenticated.
    pub proven: bool,
}

/// The content key of one recipient, from its `alg`, the JWE's headers (through `param`) and
/// the wrapped key, with one decryption key.
pub fn unwrap_cek(
    alg: &str,
    enc: Enc,
    param: &dyn Fn(&str) -> Option<Value>,
    encrypted_key: &[u8],
    key: &KeyMaterial,
) -> Result<Cek, Unwrap> {
    let kind = key.describe();
    let wants = |what: &str| Unwrap::DoesNotFit(format!("it is {kind}, {alg} needs {what}"));
    let proven = |key: Vec<u8>| Cek { key, proven: true };
    match alg {
        "RSA1_5" | "RSA-OAEP" | "RSA-OAEP-256" | "RSA-OAEP-384" | "RSA-OAEP-512" => {
            let KeyMaterial::Rsa(der) = key else {
                return Err(wants("an RSA private key"));
            };
            let cek = rsa_decrypt(alg, der, encrypted_key)?;
            if cek.len() != enc.key_len() {
                return Err(Unwrap::Failed(format!(
                    "it unwraps to {} bytes, {} needs {}: not this recipient's key",
                    cek.len(),
                    enc.name(),
                    enc.key_len()
                )));
            }
            Ok(proven(cek))
        }
        "A128KW" | "A192KW" | "A256KW" => {
            let kek =
                aes_kek(key, alg).map_err(|e| e.unwrap_or_else(|| wants("a symmetric key")))?;
            aes_unwrap(kek, encrypted_key).map(proven)
        }
        "A128GCMKW" | "A192GCMKW" | "A256GCMKW" => {
            let kek =
                aes_kek(key, alg).map_err(|e| e.unwrap_or_else(|| wants("a symmetric key")))?;
            let iv = header_bytes(param, "iv")?;
            let tag = header_bytes(param, "tag")?;
            let aes = match kek.len() {
                16 => &aead::AES_128_GCM,
                24 => &aead::AES_192_GCM,
                _ => &aead::AES_256_GCM,
            };
            gcm_open(aes, kek, &iv, encrypted_key, &tag, b"")
                .map(proven)
                .map_err(|e| match e {
                    ContentError::TagMismatch => Unwrap::Failed(
                        "the GCM key wrap does not authenticate: not this recipient's key, or \
                         the wrapped key was altered"
                            .to_string(),
                    ),
                    ContentError::Shape(why) => Unwrap::Header(why),
                })
        }
        "dir" => {
            let KeyMaterial::Symmetric(k) = key else {
                return Err(wants("a symmetric key"));
            };
            if k.len() != enc.key_len() {
                return Err(Unwrap::DoesNotFit(format!(
                    "it is {} bytes, dir with {} needs {}",
                    k.len(),
                    enc.name(),
                    enc.key_len()
                )));
            }
            Ok(Cek {
                key: k.clone(),
                proven: false,
            })
        }
        "ECDH-ES" | "ECDH-ES+A128KW" | "ECDH-ES+A192KW" | "ECDH-ES+A256KW" => {
            ecdh_es(alg, enc, param, encrypted_key, key)
        }
        "PBES2-HS256+A128KW" | "PBES2-HS384+A192KW" | "PBES2-HS512+A256KW" => {
            let KeyMaterial::Symmetric(password) = key else {
                return Err(wants("a password (a symmetric key)"));
            };
            pbes2(alg, param, password, encrypted_key).map(proven)
        }
        other => Err(Unwrap::Unsupported(format!(
            "key management {other} is not implemented"
        ))),
    }
}

/// The AES key-encryption key `alg` (`A128KW`, `A256GCMKW` …) takes, if `key` is one of its size;
/// `Err(None)` when it is not a symmetric key at all.
fn aes_kek<'k>(key: &'k KeyMaterial, alg: &str) -> Result<&'k [u8], Option<Unwrap>> {
    let KeyMaterial::Symmetric(kek) = key else {
        return Err(None);
    };
    let size = aes_size(alg);
    if kek.len() != size {
        return Err(Some(Unwrap::DoesNotFit(format!(
            "it is {} bytes, {alg} needs {size}",
            kek.len()
        ))));
    }
    Ok(kek)
}

fn aes_size(alg: &str) -> usize {
    if alg.contains("128") {
        16
    } else if alg.contains("192") {
        24
    } else {
        32
    }
}

fn header_bytes(param: &dyn Fn(&str) -> Option<Value>, name: &str) -> Result<Vec<u8>, Unwrap> {
    let v = param(name).ok_or_else(|| Unwrap::Header(format!("no `{name}` in the header")))?;
    v.as_str()
        .and_then(|s| util::b64_decode_any(s, 4096))
        .ok_or_else(|| Unwrap::Header(format!("`{name}` is not base64url")))
}

fn rsa_decrypt(alg: &str, pkcs8: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, Unwrap> {
    let key = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|e| {
        Unwrap::DoesNotFit(format!(
            "aws-lc-rs decrypts with RSA keys of 2048 to 8192 bits only ({e})"
        ))
    })?;
    if wrapped.len() != key.key_size_bytes() {
        return Err(Unwrap::Failed(format!(
            "the wrapped key is {} bytes, this RSA key's modulus {}: not this recipient's key",
            wrapped.len(),
            key.key_size_bytes()
        )));
    }
    let failed = || Unwrap::Failed(format!("{alg} decryption fails: not this recipient's key"));
    if alg == "RSA1_5" {
        let key = Pkcs1PrivateDecryptingKey::new(key).map_err(|_| failed())?;
        let mut out = vec![0u8; key.min_output_size()];
        let n = key.decrypt(wrapped, &mut out).map_err(|_| failed())?.len();
        out.truncate(n);
        return Ok(out);
    }
    let oaep = match alg {
        "RSA-OAEP-256" => &OAEP_SHA256_MGF1SHA256,
        "RSA-OAEP-384" => &OAEP_SHA384_MGF1SHA384,
        "RSA-OAEP-512" => &OAEP_SHA512_MGF1SHA512,
        _ => &OAEP_SHA1_MGF1SHA1,
    };
    let key = OaepPrivateDecryptingKey::new(key).map_err(|_| failed())?;
    let mut out = vec![0u8; key.min_output_size()];
    let n = key
        .decrypt(oaep, wrapped, &mut out, None)
        .map_err(|_| failed())?
        .len();
    out.truncate(n);
    Ok(out)
}

/// AES key unwrap (RFC 3394) with a key-encryption key of 16, 24 or 32 bytes.
fn aes_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, Unwrap> {
    let failed = || {
        Unwrap::Failed(
            "the AES key unwrap's integrity check fails: not this recipient's key, or the wrapped \
             key was altered"
                .to_string(),
        )
    };
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(Unwrap::Header(format!(
            "the wrapped key is {} bytes, not a multiple of 8 of at least 24",
            wrapped.len()
        )));
    }
    let mut out = vec![0u8; wrapped.len()];
    let n = match kek.len() {
        16 | 32 => {
            let block = if kek.len() == 16 {
                &key_wrap::AES_128
            } else {
                &key_wrap::AES_256
            };
            AesKek::new(block, kek)
                .map_err(|_| failed())?
                .unwrap(wrapped, &mut out)
                .map_err(|_| failed())?
                .len()
        }
        _ => {
            out = rfc3394_unwrap(kek, wrapped).ok_or_else(failed)?;
            out.len()
        }
    };
    out.truncate(n);
    Ok(out)
}

/// RFC 3394 §2.2.2 (index-based) on AES-ECB: `None` when the integrity check fails.
fn rfc3394_unwrap(kek: &[u8], wrapped: &[u8]) -> Option<Vec<u8>> {
    const IV: [u8; 8] = [0xA6; 8];
    let aes = match kek.len() {
        16 => &cipher::AES_128,
        24 => &cipher::AES_192,
        _ => &cipher::AES_256,
    };
    let key = cipher::DecryptingKey::ecb(UnboundCipherKey::new(aes, kek).ok()?).ok()?;
    let n = wrapped.len() / 8 - 1;
    let mut a: [u8; 8] = wrapped.get(..8)?.try_into().ok()?;
    let mut r: Vec<[u8; 8]> = wrapped
        .get(8..)?
        .chunks_exact(8)
        .filter_map(|c| c.try_into().ok())
        .collect();
    for j in (0..6u64).rev() {
        for i in (1..=n).rev() {
            let t = (n as u64) * j + i as u64;
            let mut b = [0u8; 16];
            let xored: Vec<u8> = a.iter().zip(t.to_be_bytes()).map(|(x, y)| x ^ y).collect();
            b.get_mut(..8)?.copy_from_slice(&xored);
            b.get_mut(8..)?.copy_from_slice(r.get(i - 1)?);
            key.decrypt(&mut b, DecryptionContext::None).ok()?;
            a = b.get(..8)?.try_into().ok()?;
            *r.get_mut(i - 1)? = b.get(8..)?.try_into().ok()?;
        }
    }
    if aws_lc_rs::constant_time::verify_slices_are_equal(&a, &IV).is_err() {
        return None;
    }
    Some(r.concat())
}

/// ECDH-ES (RFC 7518 §4.6): Z from our key and the header's `epk`, the Concat KDF, then either
/// the content key itself or the key that unwraps it.
fn ecdh_es(
    alg: &str,
    enc: Enc,
    param: &dyn Fn(&str) -> Option<Value>,
    encrypted_key: &[u8],
    key: &KeyMaterial,
) -> Result<Cek, Unwrap> {
    let epk = param("epk").ok_or_else(|| Unwrap::Header("no `epk` in the header".to_string()))?;
    let kty = epk.get("kty").and_then(Value::as_str).unwrap_or("");
    let crv = epk.get("crv").and_then(Value::as_str).unwrap_or("");
    let coord = |name: &str| {
        epk.get(name)
            .and_then(Value::as_str)
            .and_then(|s| util::b64_decode_any(s, 256))
            .ok_or_else(|| Unwrap::Header(format!("the epk has no base64url `{name}`")))
    };
    let kind = key.describe();
    let (private, peer) = match (kty, key) {
        ("EC", KeyMaterial::Ec(der)) => {
            let curve = EcCurve::from_name(crv)
                .ok_or_else(|| Unwrap::Unsupported(format!("ECDH-ES on curve `{crv}`")))?;
            let private = agreement::PrivateKey::from_private_key_der(curve.agreement(), der)
                .map_err(|_| {
                    Unwrap::DoesNotFit(format!("it is {kind}, the epk is on {}", curve.name()))
                })?;
            let mut point = vec![0x04];
            for c in [coord("x")?, coord("y")?] {
                let c = c.get(c.len().saturating_sub(curve.size())..).unwrap_or(&c);
                point.resize(point.len() + curve.size() - c.len(), 0);
                point.extend_from_slice(c);
            }
            (
                private,
                agreement::UnparsedPublicKey::new(curve.agreement(), point),
            )
        }
        ("OKP", KeyMaterial::X25519(d)) if crv == "X25519" => {
            let private = agreement::PrivateKey::from_private_key(&agreement::X25519, d)
                .map_err(|_| Unwrap::DoesNotFit("its X25519 bytes are refused".to_string()))?;
            (
                private,
                agreement::UnparsedPublicKey::new(&agreement::X25519, coord("x")?),
            )
        }
        ("EC" | "OKP", _) => {
            let want = if kty == "EC" {
                format!("an EC {crv} private key")
            } else {
                format!("an OKP {crv} private key")
            };
            return Err(Unwrap::DoesNotFit(format!(
                "it is {kind}, the epk needs {want}"
            )));
        }
        _ => {
            return Err(Unwrap::Header(format!(
                "the epk's kty `{kty}` is not EC or OKP"
            )));
        }
    };
    let z = agreement::agree(&private, peer, (), |z| Ok(z.to_vec()))
        .map_err(|()| Unwrap::Header("the epk is not a point on its curve".to_string()))?;
    let party = |name: &str| -> Result<Vec<u8>, Unwrap> {
        match param(name) {
            None => Ok(Vec::new()),
            Some(v) => v
                .as_str()
                .and_then(|s| util::b64_decode_any(s, 4096))
                .ok_or_else(|| Unwrap::Header(format!("`{name}` is not base64url"))),
        }
    };
    let (apu, apv) = (party("apu")?, party("apv")?);
    if alg == "ECDH-ES" {
        let cek = concat_kdf(&z, enc.name(), &apu, &apv, enc.key_len());
        return Ok(Cek {
            key: cek,
            proven: false,
        });
    }
    // With key wrapping, the AlgorithmID is the whole `alg` (RFC 7518 §4.6.2).
    let kek = concat_kdf(&z, alg, &apu, &apv, aes_size(alg));
    aes_unwrap(&kek, encrypted_key).map(|key| Cek { key, proven: true })
}

/// The Concat KDF of RFC 7518 §4.6.2 with SHA-256: `len` bytes of
/// `SHA-256(counter || Z || OtherInfo)`, counter from 1.
pub fn concat_kdf(z: &[u8], alg_id: &str, apu: &[u8], apv: &[u8], len: usize) -> Vec<u8> {
    let with_len = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(b);
    };
    let mut other = Vec::new();
    with_len(&mut other, alg_id.as_bytes());
    with_len(&mut other, apu);
    with_len(&mut other, apv);
    other.extend_from_slice(&u32::try_from(len * 8).unwrap_or(u32::MAX).to_be_bytes());
    let mut out = Vec::with_capacity(len + 32);
    let mut counter = 1u32;
    while out.len() < len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&counter.to_be_bytes());
        ctx.update(z);
        ctx.update(&other);
        out.extend_from_slice(ctx.finish().as_ref());
        counter = counter.saturating_add(1);
    }
    out.truncate(len);
    out
}

/// PBES2 (RFC 7518 §4.8): PBKDF2 over the password with salt `alg || 0x00 || p2s` and `p2c`
/// iterations gives the key that AES-unwraps the content key.
fn pbes2(
    alg: &str,
    param: &dyn Fn(&str) -> Option<Value>,
    password: &[u8],
    encrypted_key: &[u8],
) -> Result<Vec<u8>, Unwrap> {
    let p2s = header_bytes(param, "p2s")?;
    let p2c = param("p2c")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| Unwrap::Header("no numeric `p2c` in the header".to_string()))?;
    let iterations = u32::try_from(p2c)
        .ok()
        .filter(|n| *n <= MAX_PBES2_ITERATIONS)
        .and_then(std::num::NonZeroU32::new)
        .ok_or_else(|| {
            Unwrap::Header(format!(
                "p2c is {p2c}: idscope computes 1 to {MAX_PBES2_ITERATIONS} PBES2 iterations"
            ))
        })?;
    let (prf, size) = match alg {
        "PBES2-HS384+A192KW" => (aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA384, 24),
        "PBES2-HS512+A256KW" => (aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512, 32),
        _ => (aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256, 16),
    };
    let mut salt = alg.as_bytes().to_vec();
    salt.push(0);
    salt.extend_from_slice(&p2s);
    let mut kek = vec![0u8; size];
    aws_lc_rs::pbkdf2::derive(prf, iterations, &salt, password, &mut kek);
    aes_unwrap(&kek, encrypted_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rfc3394_unwrap_matches_the_rfc_vectors_for_every_kek_size() {
        // RFC 3394 §4.1, §4.2 (192-bit KEK), §4.3.
        let data = "00112233445566778899AABBCCDDEEFF";
        for (kek, wrapped) in [
            (
                "000102030405060708090A0B0C0D0E0F",
                "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
            ),
            (
                "000102030405060708090A0B0C0D0E0F1011121314151617",
                "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
            ),
            (
                "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
                "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
            ),
        ] {
            let (kek, wrapped) = (hex(kek), hex(wrapped));
            assert_eq!(rfc3394_unwrap(&kek, &wrapped), Some(hex(data)));
            assert_eq!(aes_unwrap(&kek, &wrapped), Ok(hex(data)));
            let mut bad = wrapped.clone();
            bad[3] ^= 1;
            assert_eq!(rfc3394_unwrap(&kek, &bad), None);
        }
    }

    #[test]
    fn concat_kdf_matches_rfc7518_appendix_c() {
        // Z and the derived A128GCM key of RFC 7518 appendix C.
        let z = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let key = concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 16);
        assert_eq!(
            key,
            [
                86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26
            ]
        );
    }

    #[test]
    fn cbc_hs_checks_the_tag_before_decrypting() {
        // RFC 7518 appendix B.1 (A128CBC-HS256).
        let k = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        let iv = hex("1af38c2dc2b96ffdd86694092341bc04");
        let aad = hex(
            "546865207365636f6e64207072696e6369706c65206f662041756775737465204b6572636b686f666673",
        );
        let ct = hex(
            "c80edfa32ddf39d5ef00c0b468834279a2e46a1b8049f792f76bfe54b903a9c9a94ac9b47ad2655c5f10f9aef71427e2fc6f9b3f399a221489f16362c703233609d45ac69864e3321cf82935ac4096c86e133314c54019e8ca7980dfa4b9cf1b384c486f3a54c51078158ee5d79de59fbd34d848b3d69550a67646344427ade54b8851ffb598f7f80074b9473c82e2db",
        );
        let tag = hex("652c3fa36b0a7c5b3219fab3a30bc1c4");
        let plain = Enc::A128CbcHs256.open(&k, &iv, &ct, &tag, &aad).unwrap();
        assert!(plain.starts_with(b"A cipher system must not be required to be secret"));
        let mut bad = tag.clone();
        bad[0] ^= 1;
        assert_eq!(
            Enc::A128CbcHs256.open(&k, &iv, &ct, &bad, &aad),
            Err(ContentError::TagMismatch)
        );
        assert!(matches!(
            Enc::A128CbcHs256.open(&k[..16], &iv, &ct, &tag, &aad),
            Err(ContentError::Shape(_))
        ));
    }
}
