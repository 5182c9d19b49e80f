//! Decryption keys the user supplied (`--key FILE`): what encrypted content (a SAML
//! `EncryptedAssertion`, a JWE, a PRT's `session_key_jwe` and the responses encrypted with its
//! session key) may be opened with. [`Keys`] holds them, each with the source a view names
//! ("decrypted with --key sp.pem"); [`Keys::add_file`] reads one key file in the forms people
//! hold keys in, told apart by content (see [`load`]).
//!
//! These are the user's secrets: they live only in memory for the run, are never written into a
//! recording, an export, a redacted file or a report, and what they decrypt is marked secret like
//! any other credential. `Debug` names a key's kind and size, never its bytes.
//!
//! Not responsible for reading files (the caller passes the bytes) or for any one encryption
//! format (XML Encryption, JWE and the PRT ask this module for the keys that fit).

pub mod load;

pub use load::{KeyError, KeyFile, KeyFormat, MAX_KEY_FILE};

/// One decryption key, in the form the primitives take it.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// An RSA private key as PKCS#8 DER (a PKCS#1 key is converted on load).
    Rsa(Vec<u8>),
    /// An elliptic-curve private key (P-256/384/521) as PKCS#8 DER.
    Ec(Vec<u8>),
    /// An X25519 private key: the 32 raw bytes.
    X25519([u8; 32]),
    /// A symmetric key (AES key-wrap or content key, a PRT session key, a PBES2 password): the
    /// raw bytes.
    Symmetric(Vec<u8>),
}

impl std::fmt::Debug for KeyMaterial {
    /// Names the kind and size, never the key bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::Rsa(der) => write!(f, "Rsa({} DER bytes)", der.len()),
            KeyMaterial::Ec(der) => write!(f, "Ec({} DER bytes)", der.len()),
            KeyMaterial::X25519(_) => f.write_str("X25519(32 bytes)"),
            KeyMaterial::Symmetric(k) => write!(f, "Symmetric({} bytes)", k.len()),
        }
    }
}

/// The NIST curves an [`KeyMaterial::Ec`] key may be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    /// P-256 (secp256r1).
    P256,
    /// P-384 (secp384r1).
    P384,
    /// P-521 (secp521r1).
    P521,
}

impl EcCurve {
    /// Every curve, smallest first.
    pub const ALL: [EcCurve; 3] = [EcCurve::P256, EcCurve::P384, EcCurve::P521];

    /// The JOSE name (`P-256`).
    pub fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    /// The curve a JOSE `crv` names.
    pub fn from_name(name: &str) -> Option<EcCurve> {
        EcCurve::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The aws-lc-rs key-agreement algorithm on this curve.
    pub fn agreement(self) -> &'static aws_lc_rs::agreement::Algorithm {
        match self {
            EcCurve::P256 => &aws_lc_rs::agreement::ECDH_P256,
            EcCurve::P384 => &aws_lc_rs::agreement::ECDH_P384,
            EcCurve::P521 => &aws_lc_rs::agreement::ECDH_P521,
        }
    }

    /// Size of a coordinate and of the private scalar, in bytes.
    pub fn size(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }
}

impl KeyMaterial {
    /// What the key is, for messages: `RSA 2048 bits`, `EC P-256`, `X25519`, `symmetric 32
    /// bytes`. Never the key itself.
    pub fn describe(&self) -> String {
        match self {
            KeyMaterial::Rsa(der) => match load::rsa_bits(der) {
                Some(bits) => format!("RSA {bits} bits"),
                None => "RSA".to_string(),
            },
            KeyMaterial::Ec(der) => match ec_curve(der) {
                Some(c) => format!("EC {}", c.name()),
                None => "EC".to_string(),
            },
            KeyMaterial::X25519(_) => "X25519".to_string(),
            KeyMaterial::Symmetric(k) => format!("symmetric {} bytes", k.len()),
        }
    }
}

/// The curve of an EC private key given as PKCS#8 DER, if aws-lc-rs reads it on one.
pub fn ec_curve(pkcs8: &[u8]) -> Option<EcCurve> {
    EcCurve::ALL.into_iter().find(|c| {
        aws_lc_rs::agreement::PrivateKey::from_private_key_der(c.agreement(), pkcs8).is_ok()
    })
}

/// A decryption key and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionKey {
    /// The key.
    pub material: KeyMaterial,
    /// Where it came from, for the view: `"--key sp.pem"`, `"--key keys.json (kid 1)"`.
    pub source: String,
    /// The key id it was given (a JWK `kid`), if any.
    pub kid: Option<String>,
}

/// The PartyVInfo (`apv`) a client put in a request's `jwe_crypto`, kept for the ECDH-ES answer
/// to it: the Concat KDF needs it, and the answer's header need not repeat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyInfo {
    /// The decoded `apv`.
    pub bytes: Vec<u8>,
    /// Where it came from (`the request of flow #4`).
    pub source: String,
}

/// Most PartyVInfo values kept (the latest win): each ECDH-ES answer is tried with the ones
/// that name the transport key being tried.
pub const MAX_PARTY_INFOS: usize = 256;

/// The decryption keys of a run, in the order they were given.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// The keys.
    pub keys: Vec<DecryptionKey>,
    /// PartyVInfo values learned from the requests of a capture, oldest first (at most
    /// [`MAX_PARTY_INFOS`]).
    pub party_v_info: Vec<PartyInfo>,
}

impl Keys {
    /// Whether no key was given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a key unless the same key material is already held (the first source is kept).
    /// Returns whether it was added.
    pub fn add(&mut self, key: DecryptionKey) -> bool {
        if self.keys.iter().any(|k| k.material == key.material) {
            return false;
        }
        self.keys.push(key);
        true
    }

    /// Reads one key file (`bytes`, at most [`MAX_KEY_FILE`]) and adds every private or secret
    /// key it holds, telling the form from the content (see [`load`]). `source` names the file
    /// for the views (`"--key sp.pem"`); keys of a JWKS or a PFX with several keys get their
    /// `kid` or position appended. `password` opens an encrypted PKCS#8 key or a PFX. Nothing is
    /// added when the file is refused.
    pub fn add_file(
        &mut self,
        bytes: &[u8],
        source: &str,
        password: Option<&str>,
    ) -> Result<KeyFile, KeyError> {
        let (format, keys) = load::read_keys(bytes, source, password)?;
        let file = KeyFile {
            format,
            keys: keys.len(),
        };
        for k in keys {
            self.add(k);
        }
        Ok(file)
    }

    /// The RSA private keys (PKCS#8 DER), with their sources.
    pub fn rsa(&self) -> impl Iterator<Item = (&[u8], &DecryptionKey)> {
        self.keys.iter().filter_map(|k| match &k.material {
            KeyMaterial::Rsa(der) => Some((der.as_slice(), k)),
            _ => None,
        })
    }

    /// Keeps a PartyVInfo learned from a request, unless the same bytes are already held;
    /// returns whether it was added. The oldest is dropped past [`MAX_PARTY_INFOS`].
    pub fn add_party_v_info(&mut self, info: PartyInfo) -> bool {
        if info.bytes.is_empty() || self.party_v_info.iter().any(|p| p.bytes == info.bytes) {
            return false;
        }
        if self.party_v_info.len() >= MAX_PARTY_INFOS {
            self.party_v_info.remove(0);
        }
        self.party_v_info.push(info);
        true
    }

    /// The EC private keys (PKCS#8 DER), with their sources.
    pub fn ec(&self) -> impl Iterator<Item = (&[u8], &DecryptionKey)> {
        self.keys.iter().filter_map(|k| match &k.material {
            KeyMaterial::Ec(der) => Some((der.as_slice(), k)),
            _ => None,
        })
    }

    /// The symmetric keys, with their sources.
    pub fn symmetric(&self) -> impl Iterator<Item = (&[u8], &DecryptionKey)> {
        self.keys.iter().filter_map(|k| match &k.material {
            KeyMaterial::Symmetric(bytes) => Some((bytes.as_slice(), k)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests;
