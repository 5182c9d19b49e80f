//! The PRT crypto primitives (protocols.md §7.3–§7.6) the reference server and the scenario
//! client must compute alike: the SP 800-108 KDF (v1 and v2, the decoders'), HS256 over exact payload bytes,
//! compact JWE with AES-256-GCM, RSA-OAEP (SHA-1) for the session key, and the
//! `BCRYPT_RSAPUBLIC_BLOB` form of the transport key.

use anyhow::{Context as _, anyhow, bail};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The SP 800-108 KDF (v1 and v2) is the decoders' own, so the reference server, the scenario
/// client and `analyze --key` derive with one implementation.
pub use idscope_decoders::prt::crypto::{derive, kdf};

/// A compact HS256 JWS over the exact `payload` bytes.
pub fn hs256(header: &Value, payload: &[u8], key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let sig = aws_lc_rs::hmac::sign(&k, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Checks an HS256 signature (constant time).
pub fn hs256_ok(signing_input: &str, sig: &[u8], key: &[u8]) -> bool {
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::verify(&k, signing_input.as_bytes(), sig).is_ok()
}

/// A compact JWE with AES-256-GCM content encryption: `header.encrypted_key.iv.ct.tag`, AAD =
/// the ASCII of the protected-header segment.
pub fn jwe_gcm(
    header: &Value,
    encrypted_key: &[u8],
    cek: &[u8; 32],
    iv: [u8; 12],
    plaintext: &[u8],
) -> anyhow::Result<String> {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, cek).map_err(|_| anyhow!("AES key rejected"))?,
    );
    let mut buf = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(h.as_bytes()),
            &mut buf,
        )
        .map_err(|_| anyhow!("AES-GCM encryption failed"))?;
    Ok(format!(
        "{h}.{}.{}.{}.{}",
        URL_SAFE_NO_PAD.encode(encrypted_key),
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(&buf),
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    ))
}

/// The segments of a compact JWE: (header JSON, encrypted key, iv, ciphertext, tag,
/// protected-header text).
pub type JweParts = (Value, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, String);

/// Splits and decodes a compact JWE.
pub fn jwe_parts(jwe: &str) -> anyhow::Result<JweParts> {
    let segs: Vec<&str> = jwe.trim().split('.').collect();
    let [h, k, iv, ct, tag] = segs.as_slice() else {
        bail!("not a 5-segment JWE");
    };
    let d = |s: &str| URL_SAFE_NO_PAD.decode(s).context("bad base64url segment");
    let header: Value = serde_json::from_slice(&d(h)?).context("JWE header is not JSON")?;
    Ok((header, d(k)?, d(iv)?, d(ct)?, d(tag)?, (*h).to_string()))
}

/// Decrypts the AES-256-GCM content of a compact JWE with `cek`.
pub fn jwe_gcm_decrypt(jwe: &str, cek: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (_, _, iv, ct, tag, h) = jwe_parts(jwe)?;
    let iv: [u8; 12] = iv
        .try_into()
        .map_err(|_| anyhow!("the IV is not 12 bytes"))?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, cek).map_err(|_| anyhow!("AES key rejected"))?,
    );
    let mut buf = ct;
    buf.extend_from_slice(&tag);
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(h.as_bytes()),
            &mut buf,
        )
        .map_err(|_| anyhow!("AES-GCM authentication failed"))?;
    Ok(plain.to_vec())
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1) encryption to a SubjectPublicKeyInfo.
pub fn oaep_encrypt(spki_der: &[u8], msg: &[u8]) -> anyhow::Result<Vec<u8>> {
    let key = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(spki_der).map_err(|e| anyhow!("RSA key: {e}"))?,
    )
    .map_err(|_| anyhow!("RSA key not usable for OAEP"))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let n = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, msg, &mut out, None)
        .map_err(|_| anyhow!("RSA-OAEP encryption failed"))?
        .len();
    out.truncate(n);
    Ok(out)
}

/// RSA-OAEP (SHA-1) decryption with a PKCS#8 private key.
pub fn oaep_decrypt(pkcs8: &[u8], ct: &[u8]) -> anyhow::Result<Vec<u8>> {
    let key = OaepPrivateDecryptingKey::new(
        PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|e| anyhow!("RSA key: {e}"))?,
    )
    .map_err(|_| anyhow!("RSA key not usable for OAEP"))?;
    let mut out = vec![0u8; key.min_output_size()];
    let n = key
        .decrypt(&OAEP_SHA1_MGF1SHA1, ct, &mut out, None)
        .map_err(|_| anyhow!("RSA-OAEP decryption failed"))?
        .len();
    out.truncate(n);
    Ok(out)
}

const BCRYPT_RSAPUBLIC_MAGIC: u32 = 0x3141_5352; // "RSA1"

/// A `BCRYPT_RSAPUBLIC_BLOB` (as Windows sends `TransportKey`) for modulus and exponent
/// (big-endian bytes).
pub fn bcrypt_rsa_public_blob(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(24 + n.len() + e.len());
    let bits = u32::try_from(n.len() * 8).unwrap_or(u32::MAX);
    for v in [
        BCRYPT_RSAPUBLIC_MAGIC,
        bits,
        u32::try_from(e.len()).unwrap_or(0),
        u32::try_from(n.len()).unwrap_or(0),
        0,
        0,
    ] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(e);
    b.extend_from_slice(n);
    b
}

/// The SubjectPublicKeyInfo DER of the RSA key in a `BCRYPT_RSAPUBLIC_BLOB`.
pub fn spki_from_bcrypt_blob(blob: &[u8]) -> anyhow::Result<Vec<u8>> {
    use rsa::pkcs8::EncodePublicKey as _;
    let word = |i: usize| -> anyhow::Result<usize> {
        let b: [u8; 4] = blob
            .get(i * 4..i * 4 + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| anyhow!("the blob is shorter than its header"))?;
        Ok(u32::from_le_bytes(b) as usize)
    };
    if word(0)? != BCRYPT_RSAPUBLIC_MAGIC as usize {
        bail!("not a BCRYPT_RSAPUBLIC_BLOB (magic is not RSA1)");
    }
    let (elen, nlen) = (word(2)?, word(3)?);
    if !(1..=8).contains(&elen) || !(128..=1024).contains(&nlen) {
        bail!("implausible exponent ({elen}) or modulus ({nlen}) length");
    }
    let e = blob
        .get(24..24 + elen)
        .ok_or_else(|| anyhow!("the blob is truncated"))?;
    let n = blob
        .get(24 + elen..24 + elen + nlen)
        .ok_or_else(|| anyhow!("the blob is truncated"))?;
    let key = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(n),
        rsa::BigUint::from_bytes_be(e),
    )
    .context("not a usable RSA public key")?;
    Ok(key
        .to_public_key_der()
        .context("encoding the transport key")?
        .as_bytes()
        .to_vec())
}

/// Decodes a `ctx` header value: standard base64 (with padding) as clients send it,
/// base64url tolerated.
pub fn decode_ctx(ctx: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let t = ctx.trim();
    STANDARD
        .decode(t)
        .or_else(|_| URL_SAFE.decode(t))
        .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
        .ok()
        .filter(|c| !c.is_empty() && c.len() <= 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_blobs_round_trip_and_garbage_is_refused() {
        let mut rng = crate::testbed::stream(Some(1), "t");
        let k = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        use rsa::traits::PublicKeyParts as _;
        let blob = bcrypt_rsa_public_blob(&k.n().to_bytes_be(), &k.e().to_bytes_be());
        let spki = spki_from_bcrypt_blob(&blob).unwrap();
        let ct = oaep_encrypt(&spki, b"0123456789abcdef0123456789abcdef").unwrap();
        use rsa::pkcs8::EncodePrivateKey as _;
        let pk = k.to_pkcs8_der().unwrap();
        assert_eq!(
            oaep_decrypt(pk.as_bytes(), &ct).unwrap(),
            b"0123456789abcdef0123456789abcdef"
        );
        for bad in [
            &blob[..10],
            &blob[..100],
            b"RSA2xxxxxxxxxxxxxxxxxxxxxxxx".as_slice(),
        ] {
            assert!(spki_from_bcrypt_blob(bad).is_err());
        }
    }
}
