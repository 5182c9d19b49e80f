//! The JWS signature algorithms (RFC 7518 §3, RFC 8037 §3.1) and the trusted keys they check
//! with: which JWK may check which `alg` ([`fit`]) and the check itself ([`check`]).
//!
//! The primitives are aws-lc-rs's: RSASSA-PKCS1-v1_5 and RSASSA-PSS with SHA-2, ECDSA on P-256,
//! P-384 and P-521 over the fixed-size `r || s` encoding JOSE uses, Ed25519, and HMAC. aws-lc-rs
//! has no RSA parameters under 2048 bits except PKCS#1 v1.5 with SHA-256 and SHA-512 from 1024
//! bits; the remaining small-key cases (RS384, PSS, keys under 1024 bits) are checked with
//! RustCrypto's `rsa`, so that a weak key is reported as a weak key (a policy finding) and its
//! signature still gets a verdict.
//!
//! Hand-written here, because no dependency reads a JWK into what the primitives take: the EC
//! point `0x04 || x || y` with each coordinate left-padded to the curve's size, RSA `n` and `e`
//! without leading zero bytes, and the DER `DigestInfo` prefixes of PKCS#1 v1.5 (RFC 8017 §9.2,
//! note 1) that `rsa` needs when its digest-OID feature is off.
//!
//! It is *not* responsible for choosing keys (that is `verify`) and never looks at a token.

use aws_lc_rs::{hmac, signature};
use serde_json::Value;

use crate::util;

/// A JWS signature algorithm this module can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC with SHA-256.
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 (salt as long as the hash).
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// EdDSA; only the Ed25519 curve is supported.
    EdDsa,
}

/// Every algorithm, for lookups by name.
const ALL: [Alg; 13] = [
    Alg::Hs256,
    Alg::Hs384,
    Alg::Hs512,
    Alg::Rs256,
    Alg::Rs384,
    Alg::Rs512,
    Alg::Ps256,
    Alg::Ps384,
    Alg::Ps512,
    Alg::Es256,
    Alg::Es384,
    Alg::Es512,
    Alg::EdDsa,
];

impl Alg {
    /// The algorithm an `alg` header value names (exact case, as RFC 7518 registers them).
    pub fn from_name(name: &str) -> Option<Alg> {
        ALL.into_iter().find(|a| a.name() == name)
    }

    /// The registered name (`RS256`).
    pub fn name(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Hs384 => "HS384",
            Alg::Hs512 => "HS512",
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
            Alg::Es512 => "ES512",
            Alg::EdDsa => "EdDSA",
        }
    }

    /// True for the HMAC algorithms, which need a shared secret.
    pub fn is_hmac(self) -> bool {
        matches!(self, Alg::Hs256 | Alg::Hs384 | Alg::Hs512)
    }

    /// The key a JWK must be for this algorithm: `kty` and, for curves, `crv`.
    fn wants(self) -> (&'static str, Option<&'static str>) {
        match self {
            Alg::Hs256 | Alg::Hs384 | Alg::Hs512 => ("oct", None),
            Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512 => {
                ("RSA", None)
            }
            Alg::Es256 => ("EC", Some("P-256")),
            Alg::Es384 => ("EC", Some("P-384")),
            Alg::Es512 => ("EC", Some("P-521")),
            Alg::EdDsa => ("OKP", Some("Ed25519")),
        }
    }

    /// Output size of the hash, in bytes (the least HMAC key size of RFC 7518 §3.2).
    fn hash_len(self) -> usize {
        match self {
            Alg::Hs256 | Alg::Rs256 | Alg::Ps256 | Alg::Es256 => 32,
            Alg::Hs384 | Alg::Rs384 | Alg::Ps384 | Alg::Es384 => 48,
            Alg::Hs512 | Alg::Rs512 | Alg::Ps512 | Alg::Es512 | Alg::EdDsa => 64,
        }
    }
}

/// Why a trusted key cannot check a signature made with some `alg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unfit {
    /// An HMAC `alg` and a key that is not a shared secret: computing the HMAC with public key
    /// material is the algorithm-confusion attack, so it is never done.
    Confusion {
        /// The key's `kty`.
        kty: String,
    },
    /// Another kind of key, a key restricted to another `alg`, or one not meant for signatures.
    Other(String),
}

fn member<'a>(jwk: &'a Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

/// Whether `jwk` may check an `alg` signature: its `kty` (and `crv`) must be the algorithm's, its
/// `alg`, when present, must be this one, and its `use`, when present, must be `sig`. The
/// algorithm is the token's, so this check is what keeps a token from choosing how a key is used.
pub(crate) fn fit(jwk: &Value, alg: Alg) -> Result<(), Unfit> {
    let kty = member(jwk, "kty").unwrap_or("?");
    let crv = member(jwk, "crv");
    let (want_kty, want_crv) = alg.wants();
    if kty != want_kty || want_crv.is_some_and(|want| crv != Some(want)) {
        if alg.is_hmac() {
            return Err(Unfit::Confusion {
                kty: kty.to_string(),
            });
        }
        let wanted = match want_crv {
            Some(c) => format!("{want_kty} {c}"),
            None => want_kty.to_string(),
        };
        return Err(Unfit::Other(format!(
            "it is an {} key, {} needs {wanted}",
            key_kind(jwk),
            alg.name()
        )));
    }
    if let Some(key_alg) = member(jwk, "alg")
        && key_alg != alg.name()
    {
        return Err(Unfit::Other(format!(
            "its JWK restricts it to alg {key_alg}"
        )));
    }
    if let Some(u) = member(jwk, "use")
        && u != "sig"
    {
        return Err(Unfit::Other(format!("its JWK says use={u}, not sig")));
    }
    Ok(())
}

/// `RSA`, `EC P-256`, `OKP Ed25519`, `oct`: what a JWK is, for messages.
pub(crate) fn key_kind(jwk: &Value) -> String {
    let kty = member(jwk, "kty").unwrap_or("?");
    match member(jwk, "crv") {
        Some(crv) if kty == "EC" || kty == "OKP" => format!("{kty} {crv}"),
        _ => kty.to_string(),
    }
}

/// What was learned about a key while checking with it, for policy findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Strength {
    /// Size of an RSA modulus, in bits.
    pub rsa_bits: Option<usize>,
    /// Length of an HMAC secret, in bytes, and the least RFC 7518 §3.2 allows for the `alg`.
    pub hmac: Option<(usize, usize)>,
}

/// Why a check did not say "verified".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The key's material cannot be used (not base64url, not a point on the curve …): nothing was
    /// checked.
    Unusable(String),
    /// The signature bytes do not verify with this key; `Some` says more than "mismatch" (a
    /// signature of the wrong length).
    Mismatch(Option<String>, Strength),
}

/// Checks `sig` over `input` with the trusted `jwk` for `alg`. The caller has established with
/// [`fit`] that the key is for this algorithm.
pub(crate) fn check(jwk: &Value, alg: Alg, input: &[u8], sig: &[u8]) -> Result<Strength, Failure> {
    if sig.is_empty() {
        return Err(Failure::Mismatch(
            Some("the signature is empty".to_string()),
            Strength::default(),
        ));
    }
    match alg {
        Alg::Hs256 | Alg::Hs384 | Alg::Hs512 => check_hmac(jwk, alg, input, sig),
        Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512 => {
            check_rsa(jwk, alg, input, sig)
        }
        Alg::Es256 | Alg::Es384 | Alg::Es512 => check_ec(jwk, alg, input, sig),
        Alg::EdDsa => check_ed25519(jwk, input, sig),
    }
}

fn bytes(jwk: &Value, name: &str) -> Result<Vec<u8>, Failure> {
    let text =
        member(jwk, name).ok_or_else(|| Failure::Unusable(format!("its JWK has no `{name}`")))?;
    util::b64_decode_any(text, util::MAX_TOKEN_LEN)
        .ok_or_else(|| Failure::Unusable(format!("its JWK's `{name}` is not base64url")))
}

fn check_hmac(jwk: &Value, alg: Alg, input: &[u8], sig: &[u8]) -> Result<Strength, Failure> {
    let k = bytes(jwk, "k")?;
    let algorithm = match alg {
        Alg::Hs384 => hmac::HMAC_SHA384,
        Alg::Hs512 => hmac::HMAC_SHA512,
        _ => hmac::HMAC_SHA256,
    };
    let strength = Strength {
        hmac: Some((k.len(), alg.hash_len())),
        ..Strength::default()
    };
    let key = hmac::Key::new(algorithm, &k);
    hmac::verify(&key, input, sig).map_err(|_| {
        let detail = (sig.len() != alg.hash_len()).then(|| {
            format!(
                "the signature is {} bytes, an {} MAC is {}",
                sig.len(),
                alg.name(),
                alg.hash_len()
            )
        });
        Failure::Mismatch(detail, strength)
    })?;
    Ok(strength)
}

/// `bytes` without its leading zero bytes (aws-lc-rs refuses them in `n` and `e`).
fn unpadded(bytes: &[u8]) -> &[u8] {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.get(zeros..).unwrap_or_default()
}

/// The DER `DigestInfo` prefixes of EMSA-PKCS1-v1_5 (RFC 8017 §9.2, note 1).
const SHA256_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
const SHA384_INFO: &[u8] = &[
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
const SHA512_INFO: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

/// The largest RSA modulus checked, in bits (aws-lc-rs's upper bound too).
const MAX_RSA_BITS: usize = 8192;

fn check_rsa(jwk: &Value, alg: Alg, input: &[u8], sig: &[u8]) -> Result<Strength, Failure> {
    let n_raw = bytes(jwk, "n")?;
    let e_raw = bytes(jwk, "e")?;
    let (n, e) = (unpadded(&n_raw), unpadded(&e_raw));
    let bits = match n.first() {
        Some(first) => n.len() * 8 - first.leading_zeros() as usize,
        None => return Err(Failure::Unusable("its modulus `n` is zero".to_string())),
    };
    if e.is_empty() {
        return Err(Failure::Unusable("its exponent `e` is zero".to_string()));
    }
    if bits > MAX_RSA_BITS {
        return Err(Failure::Unusable(format!(
            "its modulus is {bits} bits, over the {MAX_RSA_BITS} bits idscope checks"
        )));
    }
    let strength = Strength {
        rsa_bits: Some(bits),
        ..Strength::default()
    };
    let mismatch = || {
        let detail = (sig.len() != n.len()).then(|| {
            format!(
                "the signature is {} bytes, the key's modulus {}",
                sig.len(),
                n.len()
            )
        });
        Failure::Mismatch(detail, strength)
    };
    let params: Option<&'static signature::RsaParameters> = match alg {
        Alg::Rs256 if bits >= 2048 => Some(&signature::RSA_PKCS1_2048_8192_SHA256),
        Alg::Rs384 if bits >= 2048 => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
        Alg::Rs512 if bits >= 2048 => Some(&signature::RSA_PKCS1_2048_8192_SHA512),
        Alg::Ps256 if bits >= 2048 => Some(&signature::RSA_PSS_2048_8192_SHA256),
        Alg::Ps384 if bits >= 2048 => Some(&signature::RSA_PSS_2048_8192_SHA384),
        Alg::Ps512 if bits >= 2048 => Some(&signature::RSA_PSS_2048_8192_SHA512),
        Alg::Rs256 if bits >= 1024 => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)
        }
        Alg::Rs512 if bits >= 1024 => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY)
        }
        _ => None,
    };
    if let Some(params) = params {
        let key = signature::RsaPublicKeyComponents { n, e };
        return key
            .verify(params, input, sig)
            .map(|()| strength)
            .map_err(|_| mismatch());
    }
    small_rsa(n, e, alg, input, sig)
        .map_err(|e| match e {
            SmallRsa::Key(why) => Failure::Unusable(why),
            SmallRsa::Mismatch => mismatch(),
        })
        .map(|()| strength)
}

enum SmallRsa {
    Key(String),
    Mismatch,
}

/// RSA keys aws-lc-rs has no parameters for (see the module docs), with RustCrypto's `rsa`.
fn small_rsa(n: &[u8], e: &[u8], alg: Alg, input: &[u8], sig: &[u8]) -> Result<(), SmallRsa> {
    use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
    use sha2::{Digest as _, Sha256, Sha384, Sha512};
    let key = RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(n),
        BigUint::from_bytes_be(e),
        MAX_RSA_BITS,
    )
    .map_err(|err| SmallRsa::Key(format!("its RSA key is not usable: {err}")))?;
    let pkcs1 = |prefix: &[u8], hash_len: usize| Pkcs1v15Sign {
        hash_len: Some(hash_len),
        prefix: prefix.into(),
    };
    let result = match alg {
        Alg::Rs256 => key.verify(pkcs1(SHA256_INFO, 32), &Sha256::digest(input), sig),
        Alg::Rs384 => key.verify(pkcs1(SHA384_INFO, 48), &Sha384::digest(input), sig),
        Alg::Rs512 => key.verify(pkcs1(SHA512_INFO, 64), &Sha512::digest(input), sig),
        Alg::Ps256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(input), sig),
        Alg::Ps384 => key.verify(Pss::new::<Sha384>(), &Sha384::digest(input), sig),
        Alg::Ps512 => key.verify(Pss::new::<Sha512>(), &Sha512::digest(input), sig),
        _ => return Err(SmallRsa::Key(format!("{} is not an RSA alg", alg.name()))),
    };
    result.map_err(|_| SmallRsa::Mismatch)
}

fn check_ec(jwk: &Value, alg: Alg, input: &[u8], sig: &[u8]) -> Result<Strength, Failure> {
    let (size, verify_alg): (usize, &'static signature::EcdsaVerificationAlgorithm) = match alg {
        Alg::Es384 => (48, &signature::ECDSA_P384_SHA384_FIXED),
        Alg::Es512 => (66, &signature::ECDSA_P521_SHA512_FIXED),
        _ => (32, &signature::ECDSA_P256_SHA256_FIXED),
    };
    let x = bytes(jwk, "x")?;
    let y = bytes(jwk, "y")?;
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(0x04);
    for (name, c) in [("x", &x), ("y", &y)] {
        let c = unpadded(c);
        if c.len() > size {
            return Err(Failure::Unusable(format!(
                "its `{name}` is {} bytes, more than the curve's {size}",
                c.len()
            )));
        }
        point.resize(point.len() + size - c.len(), 0);
        point.extend_from_slice(c);
    }
    let key = signature::ParsedPublicKey::new(verify_alg, &point)
        .map_err(|_| Failure::Unusable("its (x, y) is not a point on the curve".to_string()))?;
    key.verify_sig(input, sig).map_err(|_| {
        let detail = (sig.len() != 2 * size).then(|| {
            let der = if sig.first() == Some(&0x30) {
                " (it looks DER-encoded, which JOSE does not use)"
            } else {
                ""
            };
            format!(
                "the signature is {} bytes, an {} signature is r || s, {} bytes{der}",
                sig.len(),
                alg.name(),
                2 * size
            )
        });
        Failure::Mismatch(detail, Strength::default())
    })?;
    Ok(Strength::default())
}

fn check_ed25519(jwk: &Value, input: &[u8], sig: &[u8]) -> Result<Strength, Failure> {
    let x = bytes(jwk, "x")?;
    let key = signature::ParsedPublicKey::new(&signature::ED25519, &x).map_err(|_| {
        Failure::Unusable(format!(
            "its `x` is {} bytes, not an Ed25519 public key",
            x.len()
        ))
    })?;
    key.verify_sig(input, sig).map_err(|_| {
        let detail = (sig.len() != 64).then(|| {
            format!(
                "the signature is {} bytes, an Ed25519 signature 64",
                sig.len()
            )
        });
        Failure::Mismatch(detail, Strength::default())
    })?;
    Ok(Strength::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip_and_other_names_are_unknown() {
        for a in ALL {
            assert_eq!(Alg::from_name(a.name()), Some(a));
        }
        assert_eq!(Alg::from_name("rs256"), None);
        assert_eq!(Alg::from_name("none"), None);
        assert_eq!(Alg::from_name("ES256K"), None);
    }

    #[test]
    fn a_key_fits_only_its_own_kind_of_alg() {
        let rsa = json!({"kty":"RSA","n":"AQAB","e":"AQAB"});
        assert_eq!(fit(&rsa, Alg::Ps384), Ok(()));
        assert_eq!(
            fit(&rsa, Alg::Hs256),
            Err(Unfit::Confusion {
                kty: "RSA".to_string()
            })
        );
        assert_eq!(
            fit(&rsa, Alg::Es256),
            Err(Unfit::Other(
                "it is an RSA key, ES256 needs EC P-256".to_string()
            ))
        );
        let p521 = json!({"kty":"EC","crv":"P-521","x":"","y":""});
        assert!(fit(&p521, Alg::Es512).is_ok());
        assert!(matches!(fit(&p521, Alg::Es256), Err(Unfit::Other(_))));
        let restricted = json!({"kty":"RSA","alg":"RS256","n":"","e":""});
        assert_eq!(
            fit(&restricted, Alg::Rs512),
            Err(Unfit::Other(
                "its JWK restricts it to alg RS256".to_string()
            ))
        );
        let enc = json!({"kty":"RSA","use":"enc","n":"","e":""});
        assert_eq!(
            fit(&enc, Alg::Rs256),
            Err(Unfit::Other("its JWK says use=enc, not sig".to_string()))
        );
    }

    #[test]
    fn hmac_with_a_short_key_verifies_and_reports_its_length() {
        let key = b"0123456789abcdef";
        let sig = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), b"input");
        let jwk = json!({"kty":"oct","k": base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD, key)});
        assert_eq!(
            check(&jwk, Alg::Hs256, b"input", sig.as_ref()),
            Ok(Strength {
                rsa_bits: None,
                hmac: Some((16, 32))
            })
        );
        assert!(matches!(
            check(&jwk, Alg::Hs256, b"other", sig.as_ref()),
            Err(Failure::Mismatch(None, _))
        ));
    }

    #[test]
    fn bad_key_material_is_unusable_not_a_mismatch() {
        let jwk = json!({"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"});
        assert_eq!(
            check(&jwk, Alg::Es256, b"x", &[1; 64]),
            Err(Failure::Unusable(
                "its (x, y) is not a point on the curve".to_string()
            ))
        );
        let jwk = json!({"kty":"RSA","n":"AAAA","e":"AQAB"});
        assert_eq!(
            check(&jwk, Alg::Rs256, b"x", &[1; 64]),
            Err(Failure::Unusable("its modulus `n` is zero".to_string()))
        );
        let jwk = json!({"kty":"OKP","crv":"Ed25519"});
        assert_eq!(
            check(&jwk, Alg::EdDsa, b"x", &[1; 64]),
            Err(Failure::Unusable("its JWK has no `x`".to_string()))
        );
    }
}
