//! Splitting and decoding a compact JWS or JWE into a [`Token`]: the segment grammar, the
//! base64url and JSON decoding of the header and payload, and the size limits that apply to them.
//! A JWS payload is whatever it is ([`Payload`]): a JSON object (claims), text, bytes, or absent
//! (detached, RFC 7515 appendix F); with `b64: false` in the protected header (RFC 7797) it is
//! taken as sent, not base64url-decoded. It also orders a JSON object's members for display
//! ([`ordered`]).
//!
//! It is *not* responsible for judging the token (that is `claims`, `header` and `verify`) or for
//! finding a token inside other formats.

use serde_json::Value;

use crate::secrets::{Redacted, redaction_marker};
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
pub use crate::secrets::REDACTED_SIGNATURE_PREFIX;

/// What a JWS carries (RFC 7515 §2: any octet sequence; a JWT's is a JSON object of claims).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A JSON object: the claims, in [`Token::claims`].
    Claims,
    /// UTF-8 text that is not a JSON object (a JSON array or string counts as text).
    Text(String),
    /// Bytes that are not UTF-8.
    Bytes(Vec<u8>),
    /// No payload in the message (RFC 7515 appendix F): an empty payload part of a compact JWS,
    /// or no `payload` member in the JSON serialization. The signature covers content sent
    /// elsewhere.
    Detached,
    /// A JWE: the payload is encrypted.
    Encrypted,
}

/// A decoded JWS or JWE: a compact token, or one signature of a JWS JSON serialization with the
/// payload it covers. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// JWS or JWE.
    pub form: Form,
    /// The protected header, always a JSON object (empty when a JSON-serialized signature has
    /// none).
    pub header: serde_json::Value,
    /// The unprotected header of a JSON-serialized signature (`header`); `None` for a compact
    /// token, which has none.
    pub unprotected: Option<serde_json::Value>,
    /// The JWS payload when it is a JSON object (a JWT's claims); `None` otherwise (see
    /// [`Token::payload`]) and for a JWE.
    pub claims: Option<serde_json::Value>,
    /// What the payload is.
    pub payload: Payload,
    /// The raw JWS signature bytes (empty for an unsigned token and for a JWE).
    pub signature: Vec<u8>,
    /// The exact text the JWS signature covers: the protected header and the payload as sent,
    /// joined by `.` (with `b64: false` the payload is the raw payload, RFC 7797 §3). Empty for a
    /// JWE.
    pub signing_input: String,
    /// Segment sizes of a JWE; `None` for a JWS.
    pub jwe: Option<JweSegments>,
    /// Length of the token text (for a JSON serialization: of the whole document), in bytes.
    pub len: usize,
    /// True when `idscope redact` replaced the signature segment of a JWS (`REDACTED-SIG-…`) or
    /// the encrypted parts of a JWE (`header...REDACTED-JWE-….`): a shareable copy, whose
    /// signature cannot be checked nor content opened.
    pub signature_redacted: bool,
}

impl Token {
    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header_str("alg")
    }

    /// A header parameter: from the protected header, else from the unprotected one.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.header
            .get(name)
            .or_else(|| self.unprotected.as_ref().and_then(|u| u.get(name)))
    }

    /// A string header parameter (protected, else unprotected).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.param(name).and_then(Value::as_str)
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

    /// True when the protected header says `b64: false` (RFC 7797): the payload is sent and
    /// signed as it is, not base64url-encoded.
    pub fn unencoded_payload(&self) -> bool {
        unencoded(&self.header)
    }
}

/// True when a protected header says `b64: false`.
pub(crate) fn unencoded(protected: &Value) -> bool {
    protected.get("b64") == Some(&Value::Bool(false))
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

/// Where `s` has its first byte that cannot be in a compact JWT.
fn first_bad(s: &str) -> Option<usize> {
    s.bytes()
        .position(|b| !JWT_BYTE.get(usize::from(b)).copied().unwrap_or(false))
}

/// Splits and decodes a compact JWT: 3 segments are a JWS (the last one may be empty: the unsigned
/// `alg: none` form; the middle one too: a detached payload), 5 segments a JWE (only the header
/// is decoded; the other segments are measured). Surrounding whitespace and base64 padding inside
/// segments are tolerated. The token is refused beyond [`MAX_TOKEN_LEN`] or `limits.max_body`,
/// and JSON deeper than `limits.max_depth`.
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
    let bad = first_bad(t);
    let bad_char = |i: usize| {
        let c = t.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
        DecodeError::not(
            "a JWT",
            format!("character {c:?} at byte {i} is neither base64url nor '.'"),
        )
    };
    let segments: Vec<&str> = t.split('.').collect();
    match segments.as_slice() {
        [h, p, s] => {
            let header = match bad {
                // Any character but '.' may be in the payload when the header says `b64: false`.
                Some(i) if i > h.len() && i <= h.len() + p.len() => {
                    let sig_at = h.len() + p.len() + 2;
                    if let Some(j) = first_bad(s) {
                        return Err(bad_char(sig_at + j));
                    }
                    match decode_header(h, limits) {
                        Ok(header) if unencoded(&header) => header,
                        _ => return Err(bad_char(i)),
                    }
                }
                Some(i) => return Err(bad_char(i)),
                None => decode_header(h, limits)?,
            };
            parse_jws(header, h, p, s, t.len(), limits)
        }
        [h, k, iv, ct, tag] => {
            if let Some(i) = bad {
                return Err(bad_char(i));
            }
            let header = decode_header(h, limits)?;
            let seg = |s: &str, field: &'static str| decode_segment(s, field, max).map(|b| b.len());
            Ok(Token {
                form: Form::Jwe,
                header,
                unprotected: None,
                claims: None,
                payload: Payload::Encrypted,
                signature: Vec::new(),
                signing_input: String::new(),
                signature_redacted: matches!(
                    redaction_marker(ct),
                    Some(Redacted::JweContent { .. })
                ),
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

fn parse_jws(
    header: Value,
    h: &str,
    p: &str,
    s: &str,
    len: usize,
    limits: &Limits,
) -> Result<Token, DecodeError> {
    let (payload, claims) = if p.is_empty() {
        (Payload::Detached, None)
    } else if unencoded(&header) {
        read_payload(p.as_bytes().to_vec(), "JWT payload", limits)?
    } else {
        let bytes = decode_segment(p, "JWT payload", MAX_TOKEN_LEN)?;
        read_payload(bytes, "JWT payload", limits)?
    };
    let signature = decode_segment(s, "JWT signature", MAX_TOKEN_LEN)?;
    Ok(Token {
        form: Form::Jws,
        header,
        unprotected: None,
        claims,
        payload,
        signature,
        signing_input: format!("{h}.{p}"),
        jwe: None,
        len,
        signature_redacted: matches!(redaction_marker(s), Some(Redacted::JwsSignature { .. })),
    })
}

/// What a payload's bytes are: a JSON object (claims), else text, else bytes. A payload that
/// starts like a JSON object but does not parse is text (the view says why it is not JSON); one
/// nested deeper than `limits.max_depth` is refused.
pub(crate) fn read_payload(
    bytes: Vec<u8>,
    field: &'static str,
    limits: &Limits,
) -> Result<(Payload, Option<Value>), DecodeError> {
    if bytes.trim_ascii_start().starts_with(b"{") {
        match util::parse_json(&bytes, field, limits) {
            Ok(v) if v.is_object() => return Ok((Payload::Claims, Some(v))),
            Ok(_) | Err(DecodeError::Json { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => (Payload::Text(text), None),
        Err(e) => (Payload::Bytes(e.into_bytes()), None),
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
