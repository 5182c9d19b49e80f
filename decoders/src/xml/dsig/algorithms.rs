//! The algorithm URIs of XML-DSig as deployed: `SignatureMethod` and `DigestMethod`, including
//! the non-standard spellings real software emits (recognised as aliases, with a warning that
//! names the standard URI), and the policy warnings SHA-1 earns.
//!
//! Sources: XML-DSig 1.1 §6, RFC 6931 (`xmldsig-more`, RSA-PSS as `…-rsa-MGF1`). The aliases
//! are the ones seen in deployed IdP output (ruby-saml's ADFS samples: `xmldsig-more#rsa-sha1`,
//! `xmlenc#sha1`, `xmlenc#sha384`); any other unknown URI is reported as unsupported, never
//! guessed.
//!
//! Not responsible for computing anything (see [`super::crypto`] and [`super::references`]).

pub use crate::xml::hash::{DIGEST_SHA1, DIGEST_SHA384, Hash};

/// A `SignatureMethod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 (`rsa-sha1`, `xmldsig-more#rsa-sha256` …).
    Rsa(Hash),
    /// RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash (RFC 6931
    /// `xmldsig-more#sha256-rsa-MGF1` …).
    RsaPss(Hash),
    /// ECDSA on P-256, P-384 or P-521 (`xmldsig-more#ecdsa-sha256` …); the value is `r||s`.
    Ecdsa(Hash),
    /// An HMAC (`hmac-sha1`, `xmldsig-more#hmac-sha256` …): needs a shared secret key, which is
    /// never taken from the document or from a certificate.
    Hmac(String),
    /// Any other algorithm URI; never verified.
    Unsupported(String),
}

/// `http://www.w3.org/2000/09/xmldsig#rsa-sha1`
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";

const MORE: &str = "http://www.w3.org/2001/04/xmldsig-more#";
const MORE_2007: &str = "http://www.w3.org/2007/05/xmldsig-more#";

/// Non-standard `SignatureMethod` URIs deployed software emits, and the standard URI each means.
const SIGNATURE_ALIASES: &[(&str, &str)] =
    &[("http://www.w3.org/2001/04/xmldsig-more#rsa-sha1", RSA_SHA1)];

/// Non-standard `DigestMethod` URIs deployed software emits, and the standard URI each means.
const DIGEST_ALIASES: &[(&str, &str)] = &[
    ("http://www.w3.org/2001/04/xmlenc#sha1", DIGEST_SHA1),
    ("http://www.w3.org/2001/04/xmlenc#sha384", DIGEST_SHA384),
];

/// The standard URI a recognised non-standard `SignatureMethod` URI stands for.
pub fn signature_alias(uri: &str) -> Option<&'static str> {
    SIGNATURE_ALIASES
        .iter()
        .find(|(a, _)| *a == uri)
        .map(|(_, s)| *s)
}

/// The standard URI a recognised non-standard `DigestMethod` URI stands for.
pub fn digest_alias(uri: &str) -> Option<&'static str> {
    DIGEST_ALIASES
        .iter()
        .find(|(a, _)| *a == uri)
        .map(|(_, s)| *s)
}

impl SignatureAlgorithm {
    /// The algorithm named by a `SignatureMethod/@Algorithm` URI (a recognised alias counts as
    /// the URI it stands for; [`signature_alias`] tells which).
    pub fn from_uri(uri: &str) -> Self {
        let std_uri = signature_alias(uri).unwrap_or(uri);
        let known = match std_uri {
            RSA_SHA1 => Some(Self::Rsa(Hash::Sha1)),
            "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => Some(Self::Hmac(uri.to_string())),
            _ => None,
        };
        if let Some(k) = known {
            return k;
        }
        if let Some(rest) = std_uri.strip_prefix(MORE) {
            if let Some(h) = rest.strip_prefix("rsa-").and_then(Hash::from_suffix) {
                return Self::Rsa(h);
            }
            if let Some(h) = rest.strip_prefix("ecdsa-").and_then(Hash::from_suffix) {
                return Self::Ecdsa(h);
            }
            if rest.starts_with("hmac-") {
                return Self::Hmac(uri.to_string());
            }
        }
        if let Some(h) = std_uri
            .strip_prefix(MORE_2007)
            .and_then(|r| r.strip_suffix("-rsa-MGF1"))
            .and_then(Hash::from_suffix)
        {
            return Self::RsaPss(h);
        }
        Self::Unsupported(uri.to_string())
    }

    /// A short name (`rsa-sha256`, `rsa-pss-sha256`, `ecdsa-sha384`), or the URI when not
    /// supported.
    pub fn name(&self) -> String {
        match self {
            Self::Rsa(h) => format!("rsa-{}", h.name()),
            Self::RsaPss(h) => format!("rsa-pss-{}", h.name()),
            Self::Ecdsa(h) => format!("ecdsa-{}", h.name()),
            Self::Hmac(uri) | Self::Unsupported(uri) => uri.clone(),
        }
    }

    /// The hash function, for the supported public-key algorithms.
    pub fn hash(&self) -> Option<Hash> {
        match self {
            Self::Rsa(h) | Self::RsaPss(h) | Self::Ecdsa(h) => Some(*h),
            Self::Hmac(_) | Self::Unsupported(_) => None,
        }
    }
}

/// A `DigestMethod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// A supported hash.
    Known(Hash),
    /// Any other algorithm URI; never computed.
    Unsupported(String),
}

impl DigestAlgorithm {
    /// The algorithm named by a `DigestMethod/@Algorithm` URI (a recognised alias counts as the
    /// URI it stands for; [`digest_alias`] tells which).
    pub fn from_uri(uri: &str) -> Self {
        let std_uri = digest_alias(uri).unwrap_or(uri);
        let hash = Hash::from_digest_uri(std_uri);
        match hash {
            Some(h) => Self::Known(h),
            None => Self::Unsupported(uri.to_string()),
        }
    }

    /// A short name (`sha256`), or the URI when unsupported.
    pub fn name(&self) -> &str {
        match self {
            Self::Known(h) => h.name(),
            Self::Unsupported(uri) => uri,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_methods_come_from_uris() {
        for (uri, want) in [
            (RSA_SHA1, SignatureAlgorithm::Rsa(Hash::Sha1)),
            (
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224",
                SignatureAlgorithm::Rsa(Hash::Sha224),
            ),
            (
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                SignatureAlgorithm::Rsa(Hash::Sha256),
            ),
            (
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
                SignatureAlgorithm::Rsa(Hash::Sha512),
            ),
            (
                "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
                SignatureAlgorithm::RsaPss(Hash::Sha256),
            ),
            (
                "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
                SignatureAlgorithm::Ecdsa(Hash::Sha384),
            ),
            (
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha1",
                SignatureAlgorithm::Rsa(Hash::Sha1),
            ),
        ] {
            assert_eq!(SignatureAlgorithm::from_uri(uri), want, "{uri}");
        }
        let hmac = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
        assert_eq!(
            SignatureAlgorithm::from_uri(hmac),
            SignatureAlgorithm::Hmac(hmac.into())
        );
        for other in [
            "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
            "http://www.w3.org/2007/05/xmldsig-more#rsa-pss",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-md5",
            "urn:x",
        ] {
            assert_eq!(
                SignatureAlgorithm::from_uri(other),
                SignatureAlgorithm::Unsupported(other.into())
            );
            assert_eq!(SignatureAlgorithm::from_uri(other).name(), other);
        }
        assert_eq!(
            signature_alias("http://www.w3.org/2001/04/xmldsig-more#rsa-sha1"),
            Some(RSA_SHA1)
        );
        assert_eq!(signature_alias(RSA_SHA1), None);
    }

    #[test]
    fn digest_methods_and_their_aliases() {
        assert_eq!(
            DigestAlgorithm::from_uri("http://www.w3.org/2001/04/xmlenc#sha384"),
            DigestAlgorithm::Known(Hash::Sha384)
        );
        assert_eq!(
            digest_alias("http://www.w3.org/2001/04/xmlenc#sha1"),
            Some(DIGEST_SHA1)
        );
        assert_eq!(DigestAlgorithm::from_uri(DIGEST_SHA1).name(), "sha1");
        // The SHA-256 URI lives in xmlenc, SHA-384 in xmldsig-more; the crossed spellings other
        // than the two aliases above are not guessed.
        let odd = "http://www.w3.org/2001/04/xmldsig-more#sha256";
        assert_eq!(
            DigestAlgorithm::from_uri(odd),
            DigestAlgorithm::Unsupported(odd.into())
        );
    }
}
