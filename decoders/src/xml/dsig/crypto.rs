//! Checking a `SignatureValue` with one certificate's public key: RSA PKCS#1 v1.5, RSA-PSS and
//! ECDSA, and the key policy (RSA below 2,048 bits verifies with a weak-key warning; below 1,024
//! or above 8,192 bits, or a curve other than P-256/384/521, the key is unusable).
//!
//! aws-lc-rs does all the work it has parameters for. Two gaps are filled elsewhere, each the
//! smallest piece that closes it:
//! * aws-lc-rs has no RSA PKCS#1 v1.5 with SHA-224, none with SHA-384 below 2,048 bits, and no
//!   RSA-PSS below 2,048 bits or with SHA-224: those few combinations use RustCrypto `rsa`
//!   (`Pkcs1v15Sign`/`Pss` over the digest aws-lc-rs computed; the PKCS#1 DigestInfo prefixes
//!   come from `sha2`'s OIDs). RSA-PSS with SHA-1 is not supported.
//! * XML-DSig writes an ECDSA signature as `r||s`; aws-lc-rs verifies the fixed form only for
//!   the curve's own hash, so the value is re-encoded as a DER `SEQUENCE { r, s }` (hand-written
//!   below: two unsigned INTEGERs) and checked with the ASN.1 verifier of the (curve, hash)
//!   pair. aws-lc-rs has no P-256 with SHA-224 and no P-384 with SHA-1 or SHA-224.
//!
//! HMAC never gets here: it needs a shared secret, and public key material must never be used
//! as one (see [`super::verification`]).
//!
//! Not responsible for which keys are tried or what the result means (see
//! [`super::verification`]).

use aws_lc_rs::signature::{self, EcdsaVerificationAlgorithm, RsaParameters};
use rsa::pkcs1::der::Decode;
use rsa::traits::SignatureScheme;

use super::algorithms::{Hash, SignatureAlgorithm};
use crate::x509::{self, KeyKind};

/// The smallest RSA modulus verified at all.
pub const MIN_RSA_BITS: usize = 1024;
/// RSA moduli below this verify with a weak-key warning.
pub const WEAK_RSA_BITS: usize = 2048;
/// The largest RSA modulus verified (both aws-lc-rs and the fallback stop here).
pub const MAX_RSA_BITS: usize = 8192;

/// What one key says about one signature value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum KeyCheck {
    /// The signature verifies with this key; `weak_rsa_bits` is the modulus size when it is
    /// below [`WEAK_RSA_BITS`].
    Verified { weak_rsa_bits: Option<usize> },
    /// The key is usable for this algorithm and the signature does not verify with it.
    Mismatch,
    /// The key cannot check this signature; the text says why.
    Unusable(String),
}

/// Checks `sig` over `msg` with the public key of `cert` under `alg` (a public-key algorithm;
/// HMAC and unsupported URIs are [`KeyCheck::Unusable`]).
pub(super) fn check(
    alg: &SignatureAlgorithm,
    cert: &x509::Certificate,
    msg: &[u8],
    sig: &[u8],
) -> KeyCheck {
    match alg {
        SignatureAlgorithm::Rsa(h) => rsa_check(*h, false, cert, msg, sig),
        SignatureAlgorithm::RsaPss(h) => rsa_check(*h, true, cert, msg, sig),
        SignatureAlgorithm::Ecdsa(h) => ecdsa_check(*h, cert, msg, sig),
        SignatureAlgorithm::Hmac(uri) | SignatureAlgorithm::Unsupported(uri) => {
            KeyCheck::Unusable(format!("{uri} is not a public-key signature method"))
        }
    }
}

fn kind_name(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Rsa => "an RSA key",
        KeyKind::Ec => "an EC key",
        KeyKind::Other => "a key of another type",
        KeyKind::Unparsed => "a key that could not be parsed",
    }
}

fn verdict(ok: bool, weak_rsa_bits: Option<usize>) -> KeyCheck {
    if ok {
        KeyCheck::Verified { weak_rsa_bits }
    } else {
        KeyCheck::Mismatch
    }
}

/// The aws-lc-rs parameters for RSA with `hash` and a modulus of `bits`, when it has them.
fn aws_rsa_params(hash: Hash, pss: bool, bits: usize) -> Option<&'static RsaParameters> {
    let full = bits >= WEAK_RSA_BITS;
    Some(match (pss, hash, full) {
        (false, Hash::Sha1, true) => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (false, Hash::Sha1, false) => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (false, Hash::Sha256, true) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (false, Hash::Sha256, false) => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        (false, Hash::Sha384, true) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (false, Hash::Sha512, true) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (false, Hash::Sha512, false) => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        (true, Hash::Sha256, true) => &signature::RSA_PSS_2048_8192_SHA256,
        (true, Hash::Sha384, true) => &signature::RSA_PSS_2048_8192_SHA384,
        (true, Hash::Sha512, true) => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn rsa_check(hash: Hash, pss: bool, cert: &x509::Certificate, msg: &[u8], sig: &[u8]) -> KeyCheck {
    if cert.key.kind != KeyKind::Rsa {
        return KeyCheck::Unusable(format!(
            "the certificate holds {}, and the signature method needs RSA",
            kind_name(cert.key.kind)
        ));
    }
    let bits = cert.key.modulus_bits;
    if bits < MIN_RSA_BITS {
        return KeyCheck::Unusable(format!(
            "its RSA key has {bits} bits, below the {MIN_RSA_BITS}-bit minimum that is verified \
             at all (such keys can be factored)"
        ));
    }
    if bits > MAX_RSA_BITS {
        return KeyCheck::Unusable(format!(
            "its RSA key has {bits} bits, above the {MAX_RSA_BITS}-bit maximum"
        ));
    }
    let weak = (bits < WEAK_RSA_BITS).then_some(bits);
    if let Some(params) = aws_rsa_params(hash, pss, bits) {
        let ok = signature::UnparsedPublicKey::new(params, &cert.public_key_der)
            .verify(msg, sig)
            .is_ok();
        return verdict(ok, weak);
    }
    match rustcrypto_rsa(hash, pss, &cert.public_key_der, msg, sig) {
        Ok(ok) => verdict(ok, weak),
        Err(why) => KeyCheck::Unusable(why),
    }
}

/// RSA through RustCrypto `rsa`, for the combinations aws-lc-rs lacks. `Ok(false)` when the
/// signature does not verify, `Err` when the combination or the key cannot be used.
fn rustcrypto_rsa(
    hash: Hash,
    pss: bool,
    pkcs1_der: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<bool, String> {
    use sha2::{Sha224, Sha256, Sha384, Sha512};
    let parsed = rsa::pkcs1::RsaPublicKey::from_der(pkcs1_der)
        .map_err(|e| format!("its RSA key cannot be read: {e}"))?;
    let key = rsa::RsaPublicKey::new_with_max_size(
        rsa::BigUint::from_bytes_be(parsed.modulus.as_bytes()),
        rsa::BigUint::from_bytes_be(parsed.public_exponent.as_bytes()),
        MAX_RSA_BITS,
    )
    .map_err(|e| format!("its RSA key is not usable: {e}"))?;
    let hashed = aws_lc_rs::digest::digest(hash.digest(), msg);
    let hashed = hashed.as_ref();
    let result = match (pss, hash) {
        (true, Hash::Sha1) => return Err("RSA-PSS with SHA-1 is not supported".to_string()),
        (true, Hash::Sha224) => rsa::Pss::new::<Sha224>().verify(&key, hashed, sig),
        (true, Hash::Sha256) => rsa::Pss::new::<Sha256>().verify(&key, hashed, sig),
        (true, Hash::Sha384) => rsa::Pss::new::<Sha384>().verify(&key, hashed, sig),
        (true, Hash::Sha512) => rsa::Pss::new::<Sha512>().verify(&key, hashed, sig),
        // aws-lc-rs takes every RSA-SHA1 key size accepted above.
        (false, Hash::Sha1) => return Err("RSA PKCS#1 v1.5 with SHA-1 has no verifier".to_string()),
        (false, Hash::Sha224) => rsa::Pkcs1v15Sign::new::<Sha224>().verify(&key, hashed, sig),
        (false, Hash::Sha256) => rsa::Pkcs1v15Sign::new::<Sha256>().verify(&key, hashed, sig),
        (false, Hash::Sha384) => rsa::Pkcs1v15Sign::new::<Sha384>().verify(&key, hashed, sig),
        (false, Hash::Sha512) => rsa::Pkcs1v15Sign::new::<Sha512>().verify(&key, hashed, sig),
    };
    Ok(result.is_ok())
}

fn ecdsa_check(hash: Hash, cert: &x509::Certificate, msg: &[u8], sig: &[u8]) -> KeyCheck {
    if cert.key.kind != KeyKind::Ec {
        return KeyCheck::Unusable(format!(
            "the certificate holds {}, and the signature method needs ECDSA",
            kind_name(cert.key.kind)
        ));
    }
    let curve = cert.key.curve.as_deref().unwrap_or("an unnamed curve");
    let Some((half, alg)) = ecdsa_params(curve, hash) else {
        return KeyCheck::Unusable(format!(
            "ECDSA on {curve} with {} is not supported (P-256, P-384 and P-521 are, except \
             P-256/SHA-224 and P-384 with SHA-1 or SHA-224)",
            hash.name()
        ));
    };
    if sig.len() != 2 * half {
        return KeyCheck::Mismatch;
    }
    let (r, s) = sig.split_at(half);
    let der = der_signature(r, s);
    let ok = signature::UnparsedPublicKey::new(alg, &cert.public_key_der)
        .verify(msg, &der)
        .is_ok();
    verdict(ok, None)
}

/// The byte length of `r` (and of `s`) on a curve, and the aws-lc-rs ASN.1 verifier for it with
/// `hash`.
fn ecdsa_params(curve: &str, hash: Hash) -> Option<(usize, &'static EcdsaVerificationAlgorithm)> {
    Some(match (curve, hash) {
        ("P-256", Hash::Sha1) => (32, &signature::ECDSA_P256_SHA1_ASN1),
        ("P-256", Hash::Sha256) => (32, &signature::ECDSA_P256_SHA256_ASN1),
        ("P-256", Hash::Sha384) => (32, &signature::ECDSA_P256_SHA384_ASN1),
        ("P-256", Hash::Sha512) => (32, &signature::ECDSA_P256_SHA512_ASN1),
        ("P-384", Hash::Sha256) => (48, &signature::ECDSA_P384_SHA256_ASN1),
        ("P-384", Hash::Sha384) => (48, &signature::ECDSA_P384_SHA384_ASN1),
        ("P-384", Hash::Sha512) => (48, &signature::ECDSA_P384_SHA512_ASN1),
        ("P-521", Hash::Sha1) => (66, &signature::ECDSA_P521_SHA1_ASN1),
        ("P-521", Hash::Sha224) => (66, &signature::ECDSA_P521_SHA224_ASN1),
        ("P-521", Hash::Sha256) => (66, &signature::ECDSA_P521_SHA256_ASN1),
        ("P-521", Hash::Sha384) => (66, &signature::ECDSA_P521_SHA384_ASN1),
        ("P-521", Hash::Sha512) => (66, &signature::ECDSA_P521_SHA512_ASN1),
        _ => return None,
    })
}

/// `SEQUENCE { INTEGER r, INTEGER s }` in DER, from the unsigned big-endian halves of an
/// XML-DSig ECDSA value.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(r.len() + s.len() + 8);
    der_uint(r, &mut body);
    der_uint(s, &mut body);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    der_len(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

/// An unsigned big-endian number as a DER INTEGER: no leading zero bytes except one in front of
/// a high bit (and a single zero for zero).
fn der_uint(n: &[u8], out: &mut Vec<u8>) {
    let start = n.iter().position(|b| *b != 0).unwrap_or(n.len());
    let digits = n.get(start..).unwrap_or(&[]);
    let pad = digits.first().is_none_or(|b| *b & 0x80 != 0);
    out.push(0x02);
    der_len(digits.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

/// A DER length (short form below 128, else long form; lengths here stay below 64 KiB).
fn der_len(len: usize, out: &mut Vec<u8>) {
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_are_minimal_and_unsigned() {
        let mut v = Vec::new();
        der_uint(&[0, 0, 0x7f], &mut v);
        assert_eq!(v, [0x02, 0x01, 0x7f]);
        v.clear();
        der_uint(&[0, 0x80, 1], &mut v);
        assert_eq!(v, [0x02, 0x03, 0x00, 0x80, 0x01]);
        v.clear();
        der_uint(&[0, 0], &mut v);
        assert_eq!(v, [0x02, 0x01, 0x00]);
        let long = der_signature(&[0xff; 66], &[0x01; 66]);
        assert_eq!(&long[..3], &[0x30, 0x81, 2 + 67 + 2 + 66]);
    }
}
