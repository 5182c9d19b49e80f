//! Decryption keys the user supplied (`--key FILE`): what encrypted content (a SAML
//! `EncryptedAssertion`, a JWE, a PRT's `session_key_jwe` and the responses encrypted with its
//! session key) may be opened with. [`Keys`] holds them, each with the source a view names
//! ("decrypted with --key sp.pem").
//!
//! These are the user's secrets: they live only in memory for the run, are never written into a
//! recording, an export, a redacted file or a report, and what they decrypt is marked secret like
//! any other credential.
//!
//! Not responsible for reading files (the caller passes the bytes) or for any one encryption
//! format (XML Encryption, JWE and the PRT ask this module for the keys that fit).

/// One decryption key, in the form the primitives take it.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// An RSA private key as PKCS#8 DER (a PKCS#1 key is converted on load).
    Rsa(Vec<u8>),
    /// An elliptic-curve private key (P-256/384/521) as PKCS#8 DER.
    Ec(Vec<u8>),
    /// An X25519 private key: the 32 raw bytes.
    X25519([u8; 32]),
    /// A symmetric key (AES key-wrap or content key, a PRT session key): the raw bytes.
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

/// The decryption keys of a run, in the order they were given.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// The keys.
    pub keys: Vec<DecryptionKey>,
}

impl Keys {
    /// Whether no key was given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The RSA private keys (PKCS#8 DER), with their sources.
    pub fn rsa(&self) -> impl Iterator<Item = (&[u8], &DecryptionKey)> {
        self.keys.iter().filter_map(|k| match &k.material {
            KeyMaterial::Rsa(der) => Some((der.as_slice(), k)),
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
