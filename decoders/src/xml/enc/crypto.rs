//! The primitives of XML Encryption: RSA key transport (OAEP and PKCS#1 v1.5), AES key wrap, and
//! content decryption (AES-CBC, AES-GCM, Triple-DES-CBC). Which library does what, and why, is in
//! the module documentation of [`super`].
//!
//! Every failure that depends on a secret (a padding, a tag, an unwrap check, the length of an
//! unwrapped key) is the one [`Fail::NoDecrypt`], so nothing shown can serve as a padding or
//! tag oracle. Only facts anyone can see in the document (lengths, sizes, algorithms) are named.

use aes_kw::KeyInit as _;
use aws_lc_rs::{aead, cipher, key_wrap, rsa as lc_rsa};
use cbc::cipher::block_padding::Iso10126;
use cbc::cipher::{BlockModeDecrypt as _, KeyIvInit as _};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::digest::DynDigest;
use zeroize::Zeroizing;

use super::{ContentAlgorithm, Hash};

/// Key bytes or plaintext that must not outlive their use: wiped on drop.
pub type SecretBytes = Zeroizing<Vec<u8>>;

/// Why a primitive gave nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fail {
    /// The key cannot be used here, for a reason that anyone can see (its kind or size against
    /// the algorithm and the ciphertext's length).
    Unfit(String),
    /// The key was tried and nothing came out: wrong key, or a damaged ciphertext. Deliberately
    /// says nothing more.
    NoDecrypt,
    /// The ciphertext has the wrong shape for its algorithm, whatever the key.
    Malformed(String),
    /// The combination is not implemented, or the work limit is reached.
    Unsupported(String),
    /// Authenticated content decrypted, and the caller refused it.
    Refused(String),
}

/// An RSA private key, read once from PKCS#8 DER.
pub(super) struct RsaKey {
    der: Vec<u8>,
    bits: usize,
    bytes: usize,
    /// The rsa crate's key, read when first needed: for what aws-lc-rs does not do (keys under
    /// 2048 bits, mixed OAEP digests); `None` for a key it does not read.
    small: std::cell::OnceCell<Option<rsa::RsaPrivateKey>>,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaKey({} bits)", self.bits)
    }
}

impl RsaKey {
    /// Reads a PKCS#8 RSA private key; `None` when neither library reads it.
    pub(super) fn from_pkcs8(der: &[u8]) -> Option<RsaKey> {
        let small = std::cell::OnceCell::new();
        let (bits, bytes) = match lc_rsa::PrivateDecryptingKey::from_pkcs8(der) {
            Ok(lc) => (lc.key_size_bits(), lc.key_size_bytes()),
            Err(_) => {
                let k = rsa::RsaPrivateKey::from_pkcs8_der(der).ok()?;
                let size = k.size();
                let _ = small.set(Some(k));
                (size * 8, size)
            }
        };
        Some(RsaKey {
            der: der.to_vec(),
            bits,
            bytes,
            small,
        })
    }

    /// The modulus size in bytes (the size of every ciphertext it opens).
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The modulus size in bits, for messages.
    pub(super) fn bits(&self) -> usize {
        self.bits
    }

    /// aws-lc-rs's view of the key: only for 2048 to 8192 bits.
    fn aws_lc(&self) -> Option<lc_rsa::PrivateDecryptingKey> {
        lc_rsa::PrivateDecryptingKey::from_pkcs8(&self.der).ok()
    }

    /// The rsa crate's view of the key, when aws-lc-rs cannot do the job.
    fn small(&self) -> Result<&rsa::RsaPrivateKey, Fail> {
        self.small
            .get_or_init(|| rsa::RsaPrivateKey::from_pkcs8_der(&self.der).ok())
            .as_ref()
            .ok_or_else(|| {
                Fail::Unsupported(format!("this operation with a {}-bit RSA key", self.bits))
            })
    }

    fn check_len(&self, ct: &[u8]) -> Result<(), Fail> {
        if ct.len() == self.bytes() {
            Ok(())
        } else {
            Err(Fail::Unfit(format!(
                "a {}-bit RSA key opens {}-byte ciphertexts, and this CipherValue is {} bytes",
                self.bits(),
                self.bytes(),
                ct.len()
            )))
        }
    }
}

/// RSA-OAEP decryption with `digest` for the label hash, `mgf` for MGF1 and `label` (the
/// `OAEPparams`, usually empty).
pub(super) fn rsa_oaep(
    key: &RsaKey,
    digest: Hash,
    mgf: Hash,
    label: &[u8],
    ct: &[u8],
) -> Result<SecretBytes, Fail> {
    key.check_len(ct)?;
    let matched = match (digest, mgf) {
        (Hash::Sha1, Hash::Sha1) => Some(&lc_rsa::OAEP_SHA1_MGF1SHA1),
        (Hash::Sha256, Hash::Sha256) => Some(&lc_rsa::OAEP_SHA256_MGF1SHA256),
        (Hash::Sha384, Hash::Sha384) => Some(&lc_rsa::OAEP_SHA384_MGF1SHA384),
        (Hash::Sha512, Hash::Sha512) => Some(&lc_rsa::OAEP_SHA512_MGF1SHA512),
        _ => None,
    };
    if let (Some(alg), Some(lc)) = (matched, key.aws_lc()) {
        let lc = lc_rsa::OaepPrivateDecryptingKey::new(lc).map_err(|_| Fail::NoDecrypt)?;
        let mut out = Zeroizing::new(vec![0u8; lc.min_output_size()]);
        let label = (!label.is_empty()).then_some(label);
        let n = lc
            .decrypt(alg, ct, &mut out, label)
            .map_err(|_| Fail::NoDecrypt)?
            .len();
        out.truncate(n);
        return Ok(out);
    }
    // The rsa crate: keys under 2048 bits, and digest/MGF pairs aws-lc-rs has no constant for.
    let label = match std::str::from_utf8(label) {
        Ok("") => None,
        Ok(s) => Some(s.to_string()),
        Err(_) => {
            return Err(Fail::Unsupported(
                "OAEPparams that are not UTF-8 text, with a key under 2048 bits or different \
                 OAEP and MGF1 digests"
                    .into(),
            ));
        }
    };
    let padding = rsa::Oaep {
        digest: boxed(digest),
        mgf_digest: boxed(mgf),
        label,
    };
    key.small()?
        .decrypt(padding, ct)
        .map(Zeroizing::new)
        .map_err(|_| Fail::NoDecrypt)
}

fn boxed(h: Hash) -> Box<dyn DynDigest + Send + Sync> {
    match h {
        Hash::Sha1 => Box::new(sha1::Sha1::default()),
        Hash::Sha224 => Box::new(sha2::Sha224::default()),
        Hash::Sha256 => Box::new(sha2::Sha256::default()),
        Hash::Sha384 => Box::new(sha2::Sha384::default()),
        Hash::Sha512 => Box::new(sha2::Sha512::default()),
    }
}

/// RSA PKCS#1 v1.5 decryption (`rsa-1_5`).
pub(super) fn rsa_pkcs1(key: &RsaKey, ct: &[u8]) -> Result<SecretBytes, Fail> {
    key.check_len(ct)?;
    if let Some(lc) = key.aws_lc() {
        let lc = lc_rsa::Pkcs1PrivateDecryptingKey::new(lc).map_err(|_| Fail::NoDecrypt)?;
        let mut out = Zeroizing::new(vec![0u8; lc.min_output_size()]);
        let n = lc.decrypt(ct, &mut out).map_err(|_| Fail::NoDecrypt)?.len();
        out.truncate(n);
        return Ok(out);
    }
    key.small()?
        .decrypt(rsa::Pkcs1v15Encrypt, ct)
        .map(Zeroizing::new)
        .map_err(|_| Fail::NoDecrypt)
}

/// AES key unwrap (RFC 3394) with a key-encryption key of 16, 24 or 32 bytes.
pub(super) fn aes_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes, Fail> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(Fail::Malformed(format!(
            "an AES-wrapped key is a multiple of 8 bytes and at least 24, and this CipherValue \
             is {} bytes",
            wrapped.len()
        )));
    }
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let n = match kek.len() {
        16 | 32 => {
            let cipher = if kek.len() == 16 {
                &key_wrap::AES_128
            } else {
                &key_wrap::AES_256
            };
            let kek = key_wrap::KeyEncryptionKey::new(cipher, kek).map_err(|_| Fail::NoDecrypt)?;
            key_wrap::KeyWrap::unwrap(kek, wrapped, &mut out)
                .map_err(|_| Fail::NoDecrypt)?
                .len()
        }
        24 => {
            let kw = aes_kw::KwAes192::new_from_slice(kek).map_err(|_| Fail::NoDecrypt)?;
            kw.unwrap_key(wrapped, &mut out)
                .map_err(|_| Fail::NoDecrypt)?
                .len()
        }
        n => {
            return Err(Fail::Unfit(format!(
                "a {n}-byte key is not an AES key (16, 24 or 32 bytes)"
            )));
        }
    };
    out.truncate(n);
    Ok(out)
}

/// Decrypts `data` (the decoded `CipherValue`: IV, ciphertext and, for GCM, the tag) with the
/// content key `key`.
pub(super) fn decrypt_content(
    alg: &ContentAlgorithm,
    key: &[u8],
    data: &[u8],
) -> Result<SecretBytes, Fail> {
    let Some(want) = alg.key_len() else {
        return Err(Fail::Unsupported(format!(
            "the content algorithm {}",
            alg.name()
        )));
    };
    if key.len() != want {
        // A wrapped key of another length: the wrong key, or a damaged EncryptedKey.
        return Err(Fail::NoDecrypt);
    }
    match alg {
        ContentAlgorithm::AesCbc(_) => aes_cbc(key, data),
        ContentAlgorithm::AesGcm(_) => aes_gcm(key, data),
        ContentAlgorithm::TripleDesCbc => tdes_cbc(key, data),
        ContentAlgorithm::Other(uri) => {
            Err(Fail::Unsupported(format!("the content algorithm {uri}")))
        }
    }
}

/// Whether `data` has the shape `alg` needs (IV, whole blocks, tag), a fact of the document that
/// is checked before any key is used.
pub(super) fn check_shape(alg: &ContentAlgorithm, data: &[u8]) -> Result<(), Fail> {
    match alg {
        ContentAlgorithm::AesCbc(_) => block_shape(data, 16, "AES-CBC"),
        ContentAlgorithm::TripleDesCbc => block_shape(data, 8, "Triple-DES-CBC"),
        ContentAlgorithm::AesGcm(_) if data.len() < 12 + 16 => Err(Fail::Malformed(format!(
            "AES-GCM ciphertext is a 12-byte IV, the ciphertext and a 16-byte tag, and this \
             CipherValue is {} bytes",
            data.len()
        ))),
        _ => Ok(()),
    }
}

fn block_shape(data: &[u8], block: usize, what: &str) -> Result<(), Fail> {
    if data.len() < 2 * block || !data.len().is_multiple_of(block) {
        return Err(Fail::Malformed(format!(
            "{what} ciphertext is a {block}-byte IV and whole {block}-byte blocks, and this \
             CipherValue is {} bytes",
            data.len()
        )));
    }
    Ok(())
}

fn aes_cbc(key: &[u8], data: &[u8]) -> Result<SecretBytes, Fail> {
    block_shape(data, 16, "AES-CBC")?;
    let (iv, ct) = data.split_at(16);
    let alg = match key.len() {
        16 => &cipher::AES_128,
        24 => &cipher::AES_192,
        _ => &cipher::AES_256,
    };
    let iv: [u8; 16] = iv.try_into().map_err(|_| Fail::NoDecrypt)?;
    let unbound = cipher::UnboundCipherKey::new(alg, key).map_err(|_| Fail::NoDecrypt)?;
    // ISO 10126 unpadding is XML Encryption's: the last byte is the pad length (1 to 16), the
    // other pad bytes are arbitrary.
    let dk =
        cipher::PaddedBlockDecryptingKey::cbc_iso10126(unbound).map_err(|_| Fail::NoDecrypt)?;
    let mut buf = Zeroizing::new(ct.to_vec());
    let n = dk
        .decrypt(&mut buf, cipher::DecryptionContext::Iv128(iv.into()))
        .map_err(|_| Fail::NoDecrypt)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

fn aes_gcm(key: &[u8], data: &[u8]) -> Result<SecretBytes, Fail> {
    check_shape(&ContentAlgorithm::AesGcm(0), data)?;
    let (iv, ct) = data.split_at(12);
    let alg = match key.len() {
        16 => &aead::AES_128_GCM,
        24 => &aead::AES_192_GCM,
        _ => &aead::AES_256_GCM,
    };
    let unbound = aead::UnboundKey::new(alg, key).map_err(|_| Fail::NoDecrypt)?;
    let key = aead::LessSafeKey::new(unbound);
    let nonce = aead::Nonce::try_assume_unique_for_key(iv).map_err(|_| Fail::NoDecrypt)?;
    let mut buf = Zeroizing::new(ct.to_vec());
    let n = key
        .open_in_place(nonce, aead::Aad::empty(), &mut buf)
        .map_err(|_| Fail::NoDecrypt)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

fn tdes_cbc(key: &[u8], data: &[u8]) -> Result<SecretBytes, Fail> {
    block_shape(data, 8, "Triple-DES-CBC")?;
    let (iv, ct) = data.split_at(8);
    let dec =
        cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv).map_err(|_| Fail::NoDecrypt)?;
    let mut buf = Zeroizing::new(ct.to_vec());
    let n = dec
        .decrypt_padded::<Iso10126>(&mut buf)
        .map_err(|_| Fail::NoDecrypt)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn aes_key_unwrap_matches_rfc_3394_for_every_kek_size() {
        let data = hex("00112233445566778899AABBCCDDEEFF");
        for (kek, wrapped) in [
            (
                "000102030405060708090A0B0C0D0E0F",
                "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5",
            ),
            (
                "000102030405060708090A0B0C0D0E0F1011121314151617",
                "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D",
            ),
            (
                "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
                "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7",
            ),
        ] {
            let out = aes_unwrap(&hex(kek), &hex(wrapped)).unwrap();
            assert_eq!(out.as_slice(), data.as_slice(), "KEK {kek}");
            let mut bad = hex(wrapped);
            bad[5] ^= 1;
            assert_eq!(aes_unwrap(&hex(kek), &bad), Err(Fail::NoDecrypt));
        }
        assert!(matches!(
            aes_unwrap(&[0; 16], &[0; 20]),
            Err(Fail::Malformed(_))
        ));
        assert!(matches!(
            aes_unwrap(&[0; 20], &[0; 24]),
            Err(Fail::Unfit(_))
        ));
    }

    #[test]
    fn content_decryption_checks_shape_before_keys_and_fails_uniformly() {
        let cbc = ContentAlgorithm::AesCbc(128);
        assert!(matches!(
            check_shape(&cbc, &[0; 31]),
            Err(Fail::Malformed(_))
        ));
        assert!(check_shape(&cbc, &[0; 32]).is_ok());
        assert!(matches!(
            check_shape(&ContentAlgorithm::AesGcm(256), &[0; 27]),
            Err(Fail::Malformed(_))
        ));
        assert!(matches!(
            check_shape(&ContentAlgorithm::TripleDesCbc, &[0; 12]),
            Err(Fail::Malformed(_))
        ));
        // A wrong key: a bad pad length, a bad tag, a content key of the wrong length all read
        // the same.
        for (alg, key) in [
            (cbc.clone(), vec![1u8; 16]),
            (ContentAlgorithm::AesGcm(256), vec![1u8; 32]),
            (ContentAlgorithm::TripleDesCbc, vec![1u8; 24]),
            (cbc, vec![1u8; 15]),
        ] {
            let data: Vec<u8> = (0..64u8).collect();
            let r = decrypt_content(&alg, &key, &data);
            assert!(
                matches!(r, Err(Fail::NoDecrypt)) || r.is_ok(),
                "{alg:?}: {r:?}"
            );
        }
    }
}
