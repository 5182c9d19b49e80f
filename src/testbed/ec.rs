//! The EC crypto of PRT protocol v4 that the reference server and the scenario client must
//! compute alike: P-256 keys from a seeded stream, ES256 over compact JWS, the JWK form of a
//! public key and its RFC 7638 thumbprint, the length-prefixed PartyUInfo / PartyVInfo blocks
//! (`prefix || point || nonce`, as MSAL's `MSIDEcdhApv` and Apple's Platform SSO build them), the
//! Concat KDF of RFC 7518 §4.6.2 and the ECDH-ES + A256GCM compact JWE built on them.
//!
//! Keys travel as PKCS#8 DER (private) and uncompressed SEC1 points (`04 || x || y`, public).
//! The Concat KDF is written here, beside the SP 800-108 KDF of [`super::crypto`], so the client
//! and the server do not borrow the decoder's implementation they are checked against; the
//! fixture's tests compare the three (and Apple's published vector).

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::agreement::{self, ECDH_P256, UnparsedPublicKey};
use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The length of an uncompressed P-256 point.
pub const POINT_LEN: usize = 65;

/// The DER of a P-256 SubjectPublicKeyInfo up to the point: SEQUENCE { SEQUENCE { id-ecPublicKey,
/// prime256v1 }, BIT STRING (0 unused bits) }.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A P-256 private scalar drawn from `rng` (retried the rare times it is not a valid scalar).
pub fn p256_scalar(rng: &mut ChaCha20Rng) -> anyhow::Result<[u8; 32]> {
    for _ in 0..8 {
        let mut scalar = [0u8; 32];
        rng.fill_bytes(&mut scalar);
        if agreement::PrivateKey::from_private_key(&ECDH_P256, &scalar).is_ok() {
            return Ok(scalar);
        }
    }
    Err(anyhow!("could not draw a P-256 scalar from the stream"))
}

/// A P-256 private key drawn from `rng`, as PKCS#8 v1 DER.
pub fn p256_pkcs8(rng: &mut ChaCha20Rng) -> anyhow::Result<Vec<u8>> {
    let key = agreement::PrivateKey::from_private_key(&ECDH_P256, &p256_scalar(rng)?)
        .map_err(|_| anyhow!("P-256 scalar refused"))?;
    let der: Pkcs8V1Der<'static> = key.as_der().map_err(|_| anyhow!("encoding a P-256 key"))?;
    Ok(der.as_ref().to_vec())
}

/// The public point of a P-256 PKCS#8 key.
pub fn p256_point(pkcs8: &[u8]) -> anyhow::Result<Vec<u8>> {
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
        .map_err(|e| anyhow!("not a P-256 PKCS#8 key: {e}"))?;
    Ok(pair.public_key().as_ref().to_vec())
}

/// The SubjectPublicKeyInfo DER of a P-256 point.
pub fn p256_spki(point: &[u8]) -> Vec<u8> {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(point);
    der
}

/// The point of a P-256 SubjectPublicKeyInfo, `None` for any other key.
pub fn point_of_spki(spki: &[u8]) -> Option<&[u8]> {
    spki.strip_prefix(SPKI_PREFIX.as_slice())
        .filter(|p| p.len() == POINT_LEN && p.first() == Some(&4))
}

/// A compact ES256 JWS of `payload` with `header`, signed by the P-256 PKCS#8 key.
pub fn es256(pkcs8: &[u8], header: &Value, payload: &Value) -> anyhow::Result<String> {
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
        .map_err(|e| anyhow!("not a P-256 PKCS#8 key: {e}"))?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let sig = pair
        .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
        .map_err(|_| anyhow!("ECDSA signing failed"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
}

/// Checks an ES256 signature (`r || s`, 64 bytes) over `signing_input` with a P-256 point.
pub fn es256_ok(point: &[u8], signing_input: &str, sig: &[u8]) -> bool {
    signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(signing_input.as_bytes(), sig)
        .is_ok()
}

/// The public JWK of a P-256 point (`kty`, `crv`, `x`, `y`; base64url).
pub fn jwk(point: &[u8]) -> Value {
    let x = point.get(1..33).unwrap_or_default();
    let y = point.get(33..65).unwrap_or_default();
    json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)})
}

/// The point of a P-256 JWK. Coordinates may be base64url or standard base64 (DRS
/// registrations send the latter) and shorter than 32 bytes (leading zeros dropped, as
/// ROADtools encodes them).
pub fn point_of_jwk(jwk: &Value) -> anyhow::Result<Vec<u8>> {
    if jwk.get("kty").and_then(Value::as_str) != Some("EC") {
        bail!("the key is not kty EC");
    }
    if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
        bail!("the key is not on P-256");
    }
    let mut point = vec![4u8];
    for name in ["x", "y"] {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("the JWK has no `{name}`"))?;
        let bytes = decode_b64_any(text).with_context(|| format!("`{name}` is not base64"))?;
        if bytes.len() > 32 {
            bail!("`{name}` is {} bytes, P-256 takes 32", bytes.len());
        }
        point.resize(point.len() + 32 - bytes.len(), 0);
        point.extend_from_slice(&bytes);
    }
    if !on_curve(&point) {
        bail!("the coordinates are not a point on P-256");
    }
    Ok(point)
}

/// True when `point` is on P-256 (an ECDH with a fixed scalar accepts it).
fn on_curve(point: &[u8]) -> bool {
    let one = {
        let mut s = [0u8; 32];
        s[31] = 1;
        s
    };
    agreement::PrivateKey::from_private_key(&ECDH_P256, &one).is_ok_and(|k| {
        agreement::agree(
            &k,
            UnparsedPublicKey::new(&ECDH_P256, point),
            (),
            |_| Ok(()),
        )
        .is_ok()
    })
}

fn decode_b64_any(text: &str) -> anyhow::Result<Vec<u8>> {
    let t = text.trim().trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(t)
        .or_else(|_| STANDARD.decode(text.trim()))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
        .map_err(|e| anyhow!("{e}"))
}

/// The RFC 7638 SHA-256 thumbprint (base64url) of a P-256 point.
pub fn thumbprint(point: &[u8]) -> String {
    let j = jwk(point);
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        j["x"].as_str().unwrap_or(""),
        j["y"].as_str().unwrap_or("")
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn push_len_prefixed(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b);
}

/// A PartyUInfo / PartyVInfo block: `len || prefix || len || point [|| len || nonce]`, each
/// length a 32-bit big-endian number.
pub fn party_info(prefix: &str, point: &[u8], nonce: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    push_len_prefixed(&mut out, prefix.as_bytes());
    push_len_prefixed(&mut out, point);
    if let Some(n) = nonce {
        push_len_prefixed(&mut out, n.as_bytes());
    }
    out
}

/// The Concat KDF of RFC 7518 §4.6.2 for a 256-bit key with SHA-256 (one round):
/// `SHA-256(00000001 || Z || len || alg || len || apu || len || apv || 00000100)`.
pub fn concat_kdf(z: &[u8], alg_id: &str, apu: &[u8], apv: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    for part in [alg_id.as_bytes(), apu, apv] {
        h.update(u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        h.update(part);
    }
    h.update(256u32.to_be_bytes());
    h.finalize().into()
}

fn shared_secret(private: &agreement::PrivateKey, peer_point: &[u8]) -> anyhow::Result<Vec<u8>> {
    agreement::agree(
        private,
        UnparsedPublicKey::new(&ECDH_P256, peer_point),
        (),
        |z| Ok(z.to_vec()),
    )
    .map_err(|()| anyhow!("ECDH with the peer's point failed (not a P-256 point?)"))
}

/// What a server-side ECDH-ES + A256GCM JWE is made of.
#[derive(Debug, Clone)]
pub struct EcdhJwe<'a> {
    /// The recipient's (the client's transport key's) point.
    pub recipient: &'a [u8],
    /// The ephemeral private scalar.
    pub ephemeral: [u8; 32],
    /// The prefix of the PartyUInfo (`len || prefix || len || epk point`).
    pub apu_prefix: &'a str,
    /// The PartyVInfo bytes the client sent (`jwe_crypto.apv`, decoded).
    pub apv: &'a [u8],
    /// Whether the header repeats `apv` (clients use the value of their request either way).
    pub apv_in_header: bool,
    /// The AES-GCM IV.
    pub iv: [u8; 12],
}

/// Encrypts `plaintext` as a compact JWE `alg: ECDH-ES`, `enc: A256GCM` to `jwe.recipient`:
/// Z from the ephemeral key and the recipient's point, CEK = Concat KDF(Z, "A256GCM", apu, apv).
pub fn ecdh_es_encrypt(jwe: &EcdhJwe<'_>, plaintext: &[u8]) -> anyhow::Result<String> {
    let eph = agreement::PrivateKey::from_private_key(&ECDH_P256, &jwe.ephemeral)
        .map_err(|_| anyhow!("the ephemeral scalar is refused"))?;
    let epk = eph
        .compute_public_key()
        .map_err(|_| anyhow!("computing the ephemeral public key"))?;
    let epk_point = epk.as_ref().to_vec();
    let z = shared_secret(&eph, jwe.recipient)?;
    let apu = party_info(jwe.apu_prefix, &epk_point, None);
    let cek = concat_kdf(&z, "A256GCM", &apu, jwe.apv);
    let mut header = json!({
        "alg": "ECDH-ES", "enc": "A256GCM", "typ": "JWT", "epk": jwk(&epk_point),
        "apu": URL_SAFE_NO_PAD.encode(&apu),
    });
    if jwe.apv_in_header {
        header["apv"] = json!(URL_SAFE_NO_PAD.encode(jwe.apv));
    }
    super::crypto::jwe_gcm(&header, &[], &cek, jwe.iv, plaintext)
}

/// Decrypts an ECDH-ES + A256GCM compact JWE with the recipient's P-256 PKCS#8 key and the
/// PartyVInfo of the request (`apv`, decoded), as MSAL and ROADtools do: the header's `apu`
/// and `epk`, the request's `apv`.
pub fn ecdh_es_decrypt(pkcs8: &[u8], jwe: &str, apv: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (header, ..) = super::crypto::jwe_parts(jwe)?;
    if header.get("alg").and_then(Value::as_str) != Some("ECDH-ES")
        || header.get("enc").and_then(Value::as_str) != Some("A256GCM")
    {
        bail!("not an ECDH-ES / A256GCM JWE: {header}");
    }
    let epk = point_of_jwk(header.get("epk").unwrap_or(&Value::Null)).context("the epk")?;
    let apu = header
        .get("apu")
        .and_then(Value::as_str)
        .and_then(|a| URL_SAFE_NO_PAD.decode(a).ok())
        .ok_or_else(|| anyhow!("the header has no base64url apu"))?;
    let private = agreement::PrivateKey::from_private_key_der(&ECDH_P256, pkcs8)
        .map_err(|_| anyhow!("not a P-256 private key"))?;
    let z = shared_secret(&private, &epk)?;
    super::crypto::jwe_gcm_decrypt(jwe, &concat_kdf(&z, "A256GCM", &apu, apv))
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

    /// Apple's Platform SSO documentation ("Creating a JSON Web Encryption (JWE) login
    /// response") publishes Z, PartyUInfo, PartyVInfo and the Concat KDF result.
    #[test]
    fn the_concat_kdf_matches_apples_published_vector() {
        let z = hex("3491708C92422BB807EDF2B8183A42737C5DAA6C39BA9535321D51C836D7ADA1");
        let apu = hex(
            "000000054150504C45000000410406414745842895EAB7F4BA651AA95C9AC11D9F0EB8C34C1B71B1C01\
             23ACCE29C8DB3A85996E00C54C47CB6B53BFED9B89CB747C7765C0C340875942A624BB1B5",
        );
        let apv = hex(
            "000000054170706C65000000410499C272AF606A5101E5B1C686A164F0FF840DC4352A235951D759024\
             40CCB26493FF98BB592A830C0B71BC3ED46578ACE6D5CE43D1A7CF657FFAD6CEF40B1EF9200000024423\
             74631464333322D393132312D344532412D394533322D383431374530333637354444",
        );
        assert_eq!(
            concat_kdf(&z, "A256GCM", &apu, &apv).to_vec(),
            hex("A146E4A23BDA2E53826C04D2F442BCFBD87BC2719D74B8A7DA00AF976267712E")
        );
        // The same blocks as party_info builds them.
        assert_eq!(apu, party_info("APPLE", &apu[13..], None));
        assert_eq!(
            apv,
            party_info(
                "Apple",
                &apv[13..78],
                Some("B7F1FC32-9121-4E2A-9E32-8417E03675DD")
            )
        );
    }

    #[test]
    fn keys_sign_and_encrypt_round_trip_and_refuse_what_they_must() {
        let mut rng = crate::testbed::stream(Some(3), "ec-test");
        let device = p256_pkcs8(&mut rng).unwrap();
        let stk = p256_pkcs8(&mut rng).unwrap();
        let (dp, sp) = (p256_point(&device).unwrap(), p256_point(&stk).unwrap());
        assert_eq!(dp.len(), POINT_LEN);
        assert_eq!(point_of_spki(&p256_spki(&sp)), Some(sp.as_slice()));
        assert_eq!(point_of_jwk(&jwk(&sp)).unwrap(), sp);
        // Standard base64 with leading zeros dropped (ROADtools' registration form) reads too.
        let j = jwk(&sp);
        let x = URL_SAFE_NO_PAD.decode(j["x"].as_str().unwrap()).unwrap();
        let short = json!({"kty": "EC", "crv": "P-256", "y": STANDARD.encode(URL_SAFE_NO_PAD.decode(j["y"].as_str().unwrap()).unwrap()),
                           "x": STANDARD.encode(&x)});
        assert_eq!(point_of_jwk(&short).unwrap(), sp);
        let mut off = sp.clone();
        off[40] ^= 1;
        assert!(point_of_jwk(&jwk(&off)).is_err());

        let jws = es256(&device, &json!({"alg": "ES256"}), &json!({"a": 1})).unwrap();
        let (input, sig) = jws.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!(es256_ok(&dp, input, &sig));
        assert!(!es256_ok(&sp, input, &sig));

        let apv = party_info("MsalClient", &sp, Some("nonce"));
        let spec = EcdhJwe {
            recipient: &sp,
            ephemeral: p256_scalar(&mut rng).unwrap(),
            apu_prefix: "AzureAD",
            apv: &apv,
            apv_in_header: false,
            iv: [7; 12],
        };
        let jwe = ecdh_es_encrypt(&spec, b"{\"ok\":1}").unwrap();
        assert_eq!(ecdh_es_decrypt(&stk, &jwe, &apv).unwrap(), b"{\"ok\":1}");
        assert!(ecdh_es_decrypt(&stk, &jwe, b"other apv").is_err());
        assert!(ecdh_es_decrypt(&device, &jwe, &apv).is_err());
        assert_eq!(thumbprint(&sp).len(), 43);
    }
}
