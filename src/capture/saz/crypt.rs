//! Decryption of zip members: traditional PKWARE encryption ("ZipCrypto", APPNOTE 6.1) and WinZip
//! AES (AE-1 and AE-2 with 128-, 192- and 256-bit keys, as WinZip's "AES Encryption Information"
//! specifies and pyzipper, 7-Zip and Fiddler's zip library write it).
//!
//! WinZip AES is built from crates: PBKDF2-HMAC-SHA1 (`pbkdf2`), AES-CTR with a little-endian
//! counter from 1 (`aes`, `ctr`) and the HMAC-SHA1 authentication code (`hmac`). ZipCrypto is a
//! few lines over a CRC-32 table and is written here, because no maintained crate offers it on its
//! own. Both work on a member's whole payload in memory (the caller bounds its size).
//!
//! A WinZip AES key derivation (PBKDF2, 1,000 rounds, a salt per member) costs far more than
//! decrypting and inflating the member, and commands that read a capture twice (`analyze` and
//! `report` learn the keys a capture publishes first) would derive every key twice. The keys the
//! first read derives are therefore kept in a process-wide [`KeyCache`] of bounded size, looked up
//! by a SHA-256 of the key strength, salt and password; once full it keeps what it has (both
//! reads go in archive order, so the first members hit). A single read keeps nothing.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use aes::{Aes128, Aes192, Aes256};
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CaptureErrorKind;

/// WinZip AES's PBKDF2 iteration count (fixed by the format).
const AES_ITERATIONS: u32 = 1000;
/// The password verification value's length.
const VERIFIER_LEN: usize = 2;
/// The authentication code's length (the first 10 bytes of HMAC-SHA1).
const AUTH_LEN: usize = 10;
/// ZipCrypto's encryption header.
const ZIPCRYPTO_HEADER: usize = 12;
/// The longest derived key material (AES-256: two 32-byte keys and the verifier).
const MAX_DERIVED: usize = 2 * 32 + VERIFIER_LEN;
/// The most keys the cache holds: 57,344 fill a hash table of 65,536 slots (7/8 full) of about
/// 100 bytes each, 6.5 MiB; a first read keeps two keys per Fiddler session (request and
/// response), so the second read of an archive of up to about 28,000 sessions derives no key
/// twice.
const KEY_CACHE_ENTRIES: usize = 57_344;

/// Derived WinZip AES keys by SHA-256 of (strength, salt, password), up to a number of entries.
#[derive(Debug)]
struct KeyCache {
    keys: HashMap<[u8; 32], Zeroizing<[u8; MAX_DERIVED]>>,
    cap: usize,
}

impl KeyCache {
    fn new(cap: usize) -> Self {
        KeyCache {
            keys: HashMap::new(),
            cap,
        }
    }

    fn id(strength: AesStrength, salt: &[u8], password: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([strength.key_len() as u8]);
        h.update(salt);
        h.update(password);
        h.finalize().into()
    }

    fn get(&self, id: &[u8; 32], out: &mut [u8]) -> bool {
        match (self.keys.get(id), out.len() <= MAX_DERIVED) {
            (Some(k), true) => {
                out.copy_from_slice(&k[..out.len()]);
                true
            }
            _ => false,
        }
    }

    fn put(&mut self, id: [u8; 32], derived: &[u8]) {
        if self.keys.len() >= self.cap || derived.len() > MAX_DERIVED {
            return;
        }
        let mut k = Zeroizing::new([0u8; MAX_DERIVED]);
        k[..derived.len()].copy_from_slice(derived);
        self.keys.insert(id, k);
    }
}

static KEYS: LazyLock<Mutex<KeyCache>> =
    LazyLock::new(|| Mutex::new(KeyCache::new(KEY_CACHE_ENTRIES)));

/// Whether the key of a member with this salt under `password` is cached.
#[cfg(test)]
pub(super) fn is_cached(strength: AesStrength, salt: &[u8], password: &[u8]) -> bool {
    let id = KeyCache::id(strength, salt, password);
    KEYS.lock().is_ok_and(|c| c.keys.contains_key(&id))
}

/// WinZip AES's key material for `salt` under `password` into `out`, from the cache when a
/// first read kept it; kept in the cache when `remember`.
fn derive(strength: AesStrength, salt: &[u8], password: &[u8], out: &mut [u8], remember: bool) {
    let id = KeyCache::id(strength, salt, password);
    if KEYS.lock().is_ok_and(|c| c.get(&id, out)) {
        return;
    }
    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, AES_ITERATIONS, out);
    if remember && let Ok(mut c) = KEYS.lock() {
        c.put(id, out);
    }
}

/// The AES key strength of a member (the AES extra field's strength byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AesStrength {
    Aes128,
    Aes192,
    Aes256,
}

impl AesStrength {
    /// From the extra field's strength byte (1, 2 or 3).
    pub(super) fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(AesStrength::Aes128),
            2 => Some(AesStrength::Aes192),
            3 => Some(AesStrength::Aes256),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            AesStrength::Aes128 => 16,
            AesStrength::Aes192 => 24,
            AesStrength::Aes256 => 32,
        }
    }

    fn salt_len(self) -> usize {
        self.key_len() / 2
    }
}

/// Decrypts a WinZip AES member's payload (salt, verifier, data, authentication code) and returns
/// the data, still compressed; the key derived is cached when `remember_key`. A verifier that
/// does not match is [`CaptureErrorKind::WrongPassword`]; an authentication code that does not
/// match means the data were altered or damaged.
pub(super) fn aes_decrypt(
    payload: &[u8],
    strength: AesStrength,
    password: &[u8],
    remember_key: bool,
) -> Result<Vec<u8>, CaptureErrorKind> {
    let (key_len, salt_len) = (strength.key_len(), strength.salt_len());
    let short = || {
        CaptureErrorKind::Zip(format!(
            "AES member of {} bytes is shorter than its salt, verifier and authentication code",
            payload.len()
        ))
    };
    let (salt, rest) = payload.split_at_checked(salt_len).ok_or_else(short)?;
    let (verifier, rest) = rest.split_at_checked(VERIFIER_LEN).ok_or_else(short)?;
    let data_len = rest.len().checked_sub(AUTH_LEN).ok_or_else(short)?;
    let (data, auth) = rest.split_at(data_len);

    let mut derived = Zeroizing::new(vec![0u8; 2 * key_len + VERIFIER_LEN]);
    derive(strength, salt, password, &mut derived, remember_key);
    let (enc_key, rest) = derived.split_at(key_len);
    let (mac_key, derived_verifier) = rest.split_at(key_len);
    if derived_verifier != verifier {
        return Err(CaptureErrorKind::WrongPassword);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(mac_key)
        .map_err(|e| CaptureErrorKind::Zip(format!("AES authentication key: {e}")))?;
    mac.update(data);
    if mac.verify_truncated_left(auth).is_err() {
        return Err(CaptureErrorKind::Zip(
            "the AES authentication code does not match: the member's data were altered or damaged"
                .into(),
        ));
    }
    let mut out = data.to_vec();
    let iv = 1u128.to_le_bytes();
    let keystream = match strength {
        AesStrength::Aes128 => ctr::Ctr128LE::<Aes128>::new_from_slices(enc_key, &iv)
            .map(|mut c| c.apply_keystream(&mut out)),
        AesStrength::Aes192 => ctr::Ctr128LE::<Aes192>::new_from_slices(enc_key, &iv)
            .map(|mut c| c.apply_keystream(&mut out)),
        AesStrength::Aes256 => ctr::Ctr128LE::<Aes256>::new_from_slices(enc_key, &iv)
            .map(|mut c| c.apply_keystream(&mut out)),
    };
    keystream.map_err(|e| CaptureErrorKind::Zip(format!("AES key: {e}")))?;
    Ok(out)
}

/// CRC-32 (the zip polynomial) one byte at a time, as ZipCrypto's key schedule uses it.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc_byte(crc: u32, b: u8) -> u32 {
    CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
}

/// ZipCrypto's three keys.
struct ZipCryptoKeys([u32; 3]);

impl ZipCryptoKeys {
    fn new(password: &[u8]) -> Self {
        let mut k = ZipCryptoKeys([0x1234_5678, 0x2345_6789, 0x3456_7890]);
        for &b in password {
            k.update(b);
        }
        k
    }

    fn update(&mut self, plain: u8) {
        let [k0, k1, k2] = &mut self.0;
        *k0 = crc_byte(*k0, plain);
        *k1 = k1
            .wrapping_add(*k0 & 0xff)
            .wrapping_mul(134_775_813)
            .wrapping_add(1);
        *k2 = crc_byte(*k2, (*k1 >> 24) as u8);
    }

    fn decrypt(&mut self, c: u8) -> u8 {
        let t = (self.0[2] | 2) & 0xffff;
        let plain = c ^ ((t.wrapping_mul(t ^ 1) >> 8) & 0xff) as u8;
        self.update(plain);
        plain
    }
}

/// Decrypts a ZipCrypto member's payload (12-byte header, then data) and returns the data, still
/// compressed. `check` is the byte the header's last byte must decrypt to (the CRC's high byte,
/// or the modification time's when the member has a data descriptor); a mismatch is
/// [`CaptureErrorKind::WrongPassword`]. One wrong password in 256 passes it: the caller's CRC
/// check then fails.
pub(super) fn zipcrypto_decrypt(
    payload: &[u8],
    check: u8,
    password: &[u8],
) -> Result<Vec<u8>, CaptureErrorKind> {
    let Some((header, data)) = payload.split_at_checked(ZIPCRYPTO_HEADER) else {
        return Err(CaptureErrorKind::Zip(format!(
            "encrypted member of {} bytes is shorter than its 12-byte encryption header",
            payload.len()
        )));
    };
    let mut keys = ZipCryptoKeys::new(password);
    let mut last = 0;
    for &b in header {
        last = keys.decrypt(b);
    }
    if last != check {
        return Err(CaptureErrorKind::WrongPassword);
    }
    Ok(data.iter().map(|&b| keys.decrypt(b)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ZipCrypto encryption, the inverse of [`ZipCryptoKeys::decrypt`], for round trips.
    fn zipcrypto_encrypt(data: &[u8], check: u8, password: &[u8]) -> Vec<u8> {
        let mut keys = ZipCryptoKeys::new(password);
        let mut header = [0x5au8; ZIPCRYPTO_HEADER];
        header[ZIPCRYPTO_HEADER - 1] = check;
        header
            .iter()
            .chain(data)
            .map(|&p| {
                let t = (keys.0[2] | 2) & 0xffff;
                let c = p ^ ((t.wrapping_mul(t ^ 1) >> 8) & 0xff) as u8;
                keys.update(p);
                c
            })
            .collect()
    }

    #[test]
    fn crc_table_is_the_zip_crc() {
        let data = b"The quick brown fox jumps over the lazy dog";
        let crc = !data.iter().fold(!0u32, |c, &b| crc_byte(c, b));
        assert_eq!(crc, crc32fast::hash(data));
        assert_eq!(crc, 0x414F_A339);
    }

    #[test]
    fn zipcrypto_round_trips_and_a_wrong_password_fails_the_check_byte() {
        let enc = zipcrypto_encrypt(b"hello, zip", 0xab, b"pw");
        assert_eq!(zipcrypto_decrypt(&enc, 0xab, b"pw").unwrap(), b"hello, zip");
        assert_eq!(
            zipcrypto_decrypt(&enc, 0xab, b"wrong"),
            Err(CaptureErrorKind::WrongPassword)
        );
        assert!(matches!(
            zipcrypto_decrypt(&enc[..5], 0xab, b"pw"),
            Err(CaptureErrorKind::Zip(_))
        ));
    }

    #[test]
    fn derived_keys_are_cached_by_salt_and_password_up_to_the_bound() {
        let mut out = [0u8; 66];
        derive(
            AesStrength::Aes256,
            b"0123456789abcdef",
            b"pw",
            &mut out,
            true,
        );
        let single = KeyCache::id(AesStrength::Aes256, b"fedcba9876543210", b"pw");
        derive(
            AesStrength::Aes256,
            b"fedcba9876543210",
            b"pw",
            &mut out,
            false,
        );
        assert!(
            !KEYS.lock().unwrap().keys.contains_key(&single),
            "a single read keeps nothing"
        );
        derive(
            AesStrength::Aes256,
            b"0123456789abcdef",
            b"pw",
            &mut out,
            false,
        );
        let mut expected = [0u8; 66];
        pbkdf2::pbkdf2_hmac::<Sha1>(b"pw", b"0123456789abcdef", AES_ITERATIONS, &mut expected);
        assert_eq!(out, expected);
        let cache = KEYS.lock().unwrap();
        let mut again = [0u8; 66];
        let id = KeyCache::id(AesStrength::Aes256, b"0123456789abcdef", b"pw");
        assert!(cache.get(&id, &mut again));
        assert_eq!(again, expected);
        let other = KeyCache::id(AesStrength::Aes256, b"0123456789abcdef", b"pW");
        assert!(
            !cache.get(&other, &mut again),
            "another password is another key"
        );
        drop(cache);

        let mut small = KeyCache::new(3);
        for i in 0..10u8 {
            small.put([i; 32], &[i; 66]);
        }
        assert_eq!(small.keys.len(), 3);
        assert!(small.get(&[2; 32], &mut again) && !small.get(&[3; 32], &mut again));
    }

    #[test]
    fn aes_payloads_too_short_are_errors_not_panics() {
        for n in 0..30 {
            let r = aes_decrypt(&vec![0u8; n], AesStrength::Aes256, b"pw", false);
            assert!(r.is_err(), "{n}");
        }
    }
}
