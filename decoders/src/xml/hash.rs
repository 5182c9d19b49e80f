//! The hash functions of XML Security (XML-DSig digests and signature hashes, XML Encryption's
//! OAEP digests and MGF1): one list, its standard `DigestMethod` URIs and the aws-lc-rs digest of
//! each. Signature-specific aliases live in [`super::dsig`]; MGF URIs in [`super::enc`].

use aws_lc_rs::digest;

/// A hash function of XML-DSig and XML Encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-1 (deprecated for signatures: collisions are practical).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// `DigestMethod` URI of SHA-1 (XML-DSig 1.0).
pub const DIGEST_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
/// `DigestMethod` URI of SHA-384 (RFC 6931).
pub const DIGEST_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";

impl Hash {
    /// The hash a standard `DigestMethod` URI names (XML-DSig 1.1 §6.2, RFC 6931).
    pub fn from_digest_uri(uri: &str) -> Option<Hash> {
        Some(match uri {
            DIGEST_SHA1 => Hash::Sha1,
            "http://www.w3.org/2001/04/xmldsig-more#sha224" => Hash::Sha224,
            "http://www.w3.org/2001/04/xmlenc#sha256" => Hash::Sha256,
            DIGEST_SHA384 => Hash::Sha384,
            "http://www.w3.org/2001/04/xmlenc#sha512" => Hash::Sha512,
            _ => return None,
        })
    }

    /// The hash an algorithm-name suffix names (`sha256`, as in `rsa-sha256` or `mgf1sha256`).
    pub fn from_suffix(s: &str) -> Option<Hash> {
        Some(match s {
            "sha1" => Hash::Sha1,
            "sha224" => Hash::Sha224,
            "sha256" => Hash::Sha256,
            "sha384" => Hash::Sha384,
            "sha512" => Hash::Sha512,
            _ => return None,
        })
    }

    /// `sha1`, `sha256`, …
    pub fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "sha1",
            Hash::Sha224 => "sha224",
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }

    /// `SHA-1`, `SHA-256`, … for sentences.
    pub fn label(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha224 => "SHA-224",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }

    /// The aws-lc-rs digest.
    pub(crate) fn digest(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha224 => &digest::SHA224,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }
}
