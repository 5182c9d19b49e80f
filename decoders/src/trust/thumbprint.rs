//! Certificate thumbprints as people write them: [`Thumbprint::parse`] reads the hex of a SHA-1
//! or SHA-256 digest of a certificate's DER, in either case and with colons or spaces.

use std::fmt;
use std::str::FromStr;

use sha2::Digest as _;

use crate::{util, x509};

/// The thumbprint of a certificate: the SHA-1 (what ADFS, Entra ID's federation settings and the
/// Windows certificate dialog show) or SHA-256 digest of its DER encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Thumbprint {
    /// A SHA-1 thumbprint (40 hex digits).
    Sha1([u8; 20]),
    /// A SHA-256 thumbprint (64 hex digits).
    Sha256([u8; 32]),
}

/// Why a text is not a thumbprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThumbprintError {
    /// A character other than a hex digit or a separator.
    #[error(
        "{found:?} (character {position}) is not a hex digit; a thumbprint is 40 (SHA-1) or 64 \
         (SHA-256) hex digits, optionally separated by colons or spaces"
    )]
    NotHex {
        /// The offending character.
        found: char,
        /// Its 1-based position in the text.
        position: usize,
    },
    /// The wrong number of hex digits.
    #[error(
        "{digits} hex digits; a SHA-1 thumbprint has 40 and a SHA-256 thumbprint 64 \
         (colons and spaces are ignored)"
    )]
    Length {
        /// How many hex digits the text holds.
        digits: usize,
    },
}

impl Thumbprint {
    /// Parses a thumbprint written in hex, in either case, its digits optionally separated by
    /// colons or white space (`3270BF55…`, `32:70:bf:55:…`, `32 70 bf 55 …`). The invisible
    /// left-to-right mark the Windows certificate dialog puts in front of a copied thumbprint is
    /// ignored too. 40 digits are a SHA-1 thumbprint, 64 a SHA-256 one.
    pub fn parse(text: &str) -> Result<Thumbprint, ThumbprintError> {
        let mut bytes = Vec::with_capacity(32);
        let mut high: Option<u8> = None;
        let mut digits = 0usize;
        for (i, c) in text.chars().enumerate() {
            if c == ':' || c.is_whitespace() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{feff}') {
                continue;
            }
            let Some(v) = c.to_digit(16) else {
                return Err(ThumbprintError::NotHex {
                    found: c,
                    position: i + 1,
                });
            };
            let v = v as u8;
            digits += 1;
            match high.take() {
                Some(h) => bytes.push((h << 4) | v),
                None => high = Some(v),
            }
        }
        if let Ok(sha1) = <[u8; 20]>::try_from(bytes.as_slice())
            && digits == 40
        {
            return Ok(Thumbprint::Sha1(sha1));
        }
        if let Ok(sha256) = <[u8; 32]>::try_from(bytes.as_slice())
            && digits == 64
        {
            return Ok(Thumbprint::Sha256(sha256));
        }
        Err(ThumbprintError::Length { digits })
    }

    /// The SHA-1 thumbprint of a certificate's DER.
    pub fn sha1_of(der: &[u8]) -> Thumbprint {
        Thumbprint::Sha1(x509::sha1(der))
    }

    /// The SHA-256 thumbprint of a certificate's DER.
    pub fn sha256_of(der: &[u8]) -> Thumbprint {
        let mut out = [0u8; 32];
        out.copy_from_slice(&sha2::Sha256::digest(der));
        Thumbprint::Sha256(out)
    }

    /// `"SHA-1"` or `"SHA-256"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Thumbprint::Sha1(_) => "SHA-1",
            Thumbprint::Sha256(_) => "SHA-256",
        }
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Thumbprint::Sha1(d) => d,
            Thumbprint::Sha256(d) => d,
        }
    }
}

impl FromStr for Thumbprint {
    type Err = ThumbprintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Thumbprint::parse(s)
    }
}

impl fmt::Display for Thumbprint {
    /// Lower-case hex without separators, the way verdicts write thumbprints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&util::hex_lower(self.as_bytes()))
    }
}
