//! Splitting and decoding a compact JWS or JWE into a [`Token`]: the segment grammar, the
//! base64url and JSON decoding of the header and payload, and the size limits that apply to them.
//! It also orders a JSON object's members for display ([`ordered`]).
//!
//! It is *not* responsible for judging the token (that is `claims`, `header` and `verify`) or for
//! finding a token inside other formats.

use serde_json::Value;

use crate::util::{self, MAX_TOKEN_LEN};
use crate::{DecodeError, Limits};

/// The two compact serializations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// JSON Web Signature: `header.payload.signature` (the signature may be empty).
    Jws,
    /// JSON Web Encryption: `header.encrypted_key.iv.ciphertext.tag`.
    Jwe,
}

/// Sizes of the binary segments of a compact JWE, in decoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JweSegments {
    /// The wrapped content-encryption key (empty for `alg: dir`).
    pub encrypted_key: usize,
    /// The initialization vector (12 bytes for AES-GCM, 16 for AES-CBC).
    pub iv: usize,
    /// The ciphertext.
    pub ciphertext: usize,
    /// The authentication tag.
    pub tag: usize,
}

/// How `idscope redact` replaces a JWS signature (`REDACTED-SIG-<fingerprint>`); the decoder
/// recognises it so a shareable copy reads as redacted, not as tampered.
pub const REDACTED_SIGNATURE_PREFIX: &str = "REDACTED-SIG-";

/// A decoded compact token. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// JWS or JWE.
    pub form: Form,
    /// The (protected) header, always a JSON object.
    pub header: serde_json::Value,
    /// The JWS payload, always a JSON object; `None` for a JWE (it is encrypted).
    pub claims: Option<serde_json::Value>,
    /// The raw JWS signature bytes (empty for an unsigned token and for a JWE).
    pub signature: Vec<u8>,
    /// The exact bytes the JWS signature covers: the first two segments as sent, joined by `.`.
    /// Empty for a JWE.
    pub signing_input: String,
    /// Segment sizes of a JWE; `None` for a JWS.
    pub jwe: Option<JweSegments>,
    /// Length of the token text, in bytes.
    pub len: usize,
    /// True when the signature segment is the placeholder `idscope redact` writes
    /// (`REDACTED-SIG-…`): a shareable copy, whose signature cannot be checked.
    pub signature_redacted: bool,
}

impl Token {
    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header_str("alg")
    }

    /// A string header parameter.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// A claim of a JWS (always `None` for a JWE).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.as_ref().and_then(|c| c.get(name))
    }

    /// A claim rendered as text (strings as is, numbers as digits).
    pub fn claim_str(&self, name: &str) -> Option<String> {
        self.claim(name).map(util::json_scalar)
    }

    /// True when the header says `alg: none` (any case): nothing protects the token.
    pub fn is_unsigned(&self) -> bool {
        self.form == Form::Jws && self.alg().is_some_and(|a| a.eq_ignore_ascii_case("none"))
    }
}

/// Splits and decodes a compact JWT with default [`Limits`]. See [`parse_limited`].
pub fn parse(token: &str) -> Result<Token, DecodeError> {
    parse_limited(token, &Limits::default())
}

/// The bytes a compact JWT may hold: base64url, the `.` separators, and `=` padding.
#[allow(clippy::indexing_slicing)] // b < 256, the table's length
const JWT_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'=');
        b += 1;
    }
    t
};

/// Splits and decodes a compact JWT: 3 segments are a JWS (the last one may be empty: the unsigned
/// `alg: none` form), 5 segments a JWE (only the header is decoded; the other segments are
/// measured). Surrounding whitespace and base64 padding inside segments are tolerated. The token
/// is refused beyond [`MAX_TOKEN_LEN`] or `limits.max_body`, and JSON deeper than
/// `limits.max_depth`.
pub fn parse_limited(token: &str, limits: &Limits) -> Result<Token, DecodeError> {
    let t = token.trim();
    let max = MAX_TOKEN_LEN.min(limits.max_body);
    if t.len() > max {
        return Err(DecodeError::TooLarge {
            what: "JWT",
            limit: max,
        });
    }
    if t.is_empty() {
        return Err(DecodeError::not("a JWT", "empty input"));
    }
    // The segment count first, with a SIMD byte count: most values this sees (opaque tokens,
    // codes) have no dots at all, and walking them byte by byte cost more than the rest of the
    // decode of their response.
    let segments = memchr::memchr_iter(b'.', t.as_bytes()).count() + 1;
    if segments != 3 && segments != 5 {
        return Err(DecodeError::not(
            "a JWT",
            format!("{segments} dot-separated segments (a JWS has 3, a JWE 5)"),
        ));
    }
    // A table lookup per byte.
    if let Some(i) = t
        .bytes()
        .position(|b| !JWT_BYTE.get(usize::from(b)).copied().unwrap_or(false))
    {
        let c = t.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
        return Err(DecodeError::not(
            "a JWT",
            format!("character {c:?} at byte {i} is neither base64url nor '.'"),
        ));
    }
    let segments: Vec<&str> = t.split('.').collect();
    match segments.as_slice() {
        [h, p, s] => parse_jws(h, p, s, t.len(), limits),
        [h, k, iv, ct, tag] => {
            let header = decode_header(h, limits)?;
            let seg = |s: &str, field: &'static str| decode_segment(s, field, max).map(|b| b.len());
            Ok(Token {
                form: Form::Jwe,
                header,
                claims: None,
                signature: Vec::new(),
                signing_input: String::new(),
                signature_redacted: false,
                jwe: Some(JweSegments {
                    encrypted_key: seg(k, "JWE encrypted key")?,
                    iv: seg(iv, "JWE iv")?,
                    ciphertext: seg(ct, "JWE ciphertext")?,
                    tag: seg(tag, "JWE tag")?,
                }),
                len: t.len(),
            })
        }
        other => Err(DecodeError::not(
            "a JWT",
            format!(
                "{} dot-separated segments (a JWS has 3, a JWE 5)",
                other.len()
            ),
        )),
    }
}

fn parse_jws(h: &str, p: &str, s: &str, len: usize, limits: &Limits) -> Result<Token, DecodeError> {
    let header = decode_header(h, limits)?;
    if p.is_empty() {
        return Err(DecodeError::Missing("JWT payload"));
    }
    let payload = decode_segment(p, "JWT payload", MAX_TOKEN_LEN)?;
    let claims = util::parse_json(&payload, "JWT payload", limits)?;
    if !claims.is_object() {
        return Err(DecodeError::not(
            "a JWT",
            "the payload is not a JSON object",
        ));
    }
    let signature = decode_segment(s, "JWT signature", MAX_TOKEN_LEN)?;
    Ok(Token {
        form: Form::Jws,
        header,
        claims: Some(claims),
        signature,
        signing_input: format!("{h}.{p}"),
        jwe: None,
        len,
        signature_redacted: s.starts_with(REDACTED_SIGNATURE_PREFIX),
    })
}

fn decode_header(h: &str, limits: &Limits) -> Result<Value, DecodeError> {
    if h.is_empty() {
        return Err(DecodeError::Missing("JWT header"));
    }
    let bytes = decode_segment(h, "JWT header", MAX_TOKEN_LEN)?;
    let header = util::parse_json(&bytes, "JWT header", limits)?;
    if !header.is_object() {
        return Err(DecodeError::not("a JWT", "the header is not a JSON object"));
    }
    Ok(header)
}

fn decode_segment(s: &str, field: &'static str, max: usize) -> Result<Vec<u8>, DecodeError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    // Padding is tolerated at the end only; `util::b64_decode_any` rejects it elsewhere.
    util::b64_decode_any(s, max).ok_or(DecodeError::Base64 { field })
}

/// The members of a JSON object, known names first in `order`, then the others alphabetically.
pub(crate) fn ordered<'a>(
    map: &'a serde_json::Map<String, Value>,
    order: &[&str],
) -> Vec<(&'a String, &'a Value)> {
    let mut v: Vec<(&String, &Value)> = map.iter().collect();
    v.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    v
}
