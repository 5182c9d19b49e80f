//! What the HAR reader ([`super::har`]) and the entry writer ([`super::har_entry`]) must agree
//! on: the names of idscope's own entry fields, the time format, and how a stored body's
//! remaining content-encoding is recognised.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::flow::{Body, DEFAULT_DECODED_CAP, Headers, header};

/// The object on each entry that carries idscope's own fields.
pub(crate) const IDSCOPE_FIELD: &str = "_idscope";
/// The entry-level marker of a flow still in flight when the recording stopped (security.md §3).
pub(crate) const INCOMPLETE_FIELD: &str = "_incomplete";

/// Formats as RFC 3339 in UTC with as many fractional digits as needed (so it reads back equal).
pub(crate) fn format_time(t: SystemTime) -> String {
    let nanos: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(0),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(0),
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// True when `raw` still carries the outermost of the listed content-encodings. HAR stores
/// decoded text, but some writers (mitmproxy, for a body it could not decode) store the wire
/// bytes, so this looks at the bytes rather than trusting the header.
pub(crate) fn still_encoded(raw: &[u8], content_encoding: &str) -> bool {
    let Some(outer) = content_encoding
        .split(',')
        .map(str::trim)
        .rfind(|e| !e.is_empty())
    else {
        return false;
    };
    match outer.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => raw.starts_with(&[0x1f, 0x8b]),
        "deflate" => match raw {
            [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
            _ => false,
        },
        // Brotli has no magic number: the bytes still carry it when they decode as brotli.
        "br" => Body::encoded(raw.to_vec(), "br")
            .decoded(DEFAULT_DECODED_CAP)
            .is_ok(),
        _ => false,
    }
}

/// The encoding a reader infers for stored body bytes: only base64-stored (binary) bytes can
/// still carry a compression, since compressed data is never valid text.
pub(crate) fn sniff_encoding(raw: &[u8], binary: bool, headers: &Headers) -> Option<String> {
    let ce = header(headers, "content-encoding")?.trim();
    (binary && !ce.is_empty() && still_encoded(raw, ce)).then(|| ce.to_string())
}
