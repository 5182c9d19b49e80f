//! Small shared helpers for decoders: lenient base64, URL pieces, form parsing, bounded JSON
//! parsing, rendering times relative to the context's `now`, hex, GUID and JWT shape checks and
//! short display forms of ids. Nothing here knows a protocol.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurposeConfig, STANDARD_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{DecodeError, Limits};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes base64 or base64url, padded or not. Returns `None` when the text is neither, or when
/// the output would exceed `max_out` bytes (checked before decoding).
pub fn b64_decode_any(s: &str, max_out: usize) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() / 4 * 3 > max_out.saturating_add(3) {
        return None;
    }
    if s.contains(['-', '_']) {
        URL_LENIENT.decode(s).ok()
    } else {
        STD_LENIENT.decode(s).ok()
    }
}

/// Encodes as standard base64 without padding (for showing raw bytes such as signatures).
pub fn b64_std_nopad(bytes: &[u8]) -> String {
    STANDARD_NO_PAD.encode(bytes)
}

/// Encodes as standard padded base64.
pub fn b64_std(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// True when every byte of `s` is a base64 or base64url alphabet character (or `=` padding).
pub fn is_base64ish(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
}

/// True when `needle` occurs in `hay` (byte substring; an empty needle never matches). For cheap
/// sniffs in `priority`, over a slice the caller has already bounded.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() || hay.len() < needle.len() {
        return false;
    }
    if hay.len() > SHORT_HAYSTACK {
        return memchr::memmem::find(hay, needle).is_some();
    }
    // A short body (most identity messages): building `memmem`'s searcher costs more than the
    // search. memchr's packed-pair searcher is cheap to build (two needle offsets, chosen by
    // its byte-frequency ranking) and looks for both bytes at once with SIMD, so a needle such
    // as `"account_type"` is not checked at every quote of a JSON body.
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = memchr::arch::x86_64::avx2::packedpair::Finder::new(needle)
        && hay.len() >= f.min_haystack_len()
    {
        return f.find(hay, needle).is_some();
    }
    // Elsewhere, or a haystack too short for a vector: candidates from a SIMD search for one
    // anchor byte of the needle (its first that is not a letter or digit: a quote, `<`, `:`,
    // `=`), checked in full.
    let k = needle
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(0);
    anchored(hay, needle, k, |w| w == needle)
}

/// A needle known when the program is built, for the sniffs of `priority`: its substring
/// searcher (memchr's `memmem`, with its SIMD prefilter) is made on first use and kept, where
/// [`contains`] builds one per search. Every decoder's `priority` runs for every message the
/// proxy sees, most of them scanning a body that holds none of their needles.
#[derive(Debug)]
pub struct Needle {
    bytes: &'static [u8],
    finder: std::sync::OnceLock<memchr::memmem::Finder<'static>>,
}

impl Needle {
    /// A needle; it must not be empty (an empty needle is never found, as in [`contains`]).
    pub const fn new(bytes: &'static [u8]) -> Self {
        Needle {
            bytes,
            finder: std::sync::OnceLock::new(),
        }
    }

    /// True when the needle occurs in the first 16 KiB of `body`: the window of the JSON and XML
    /// sniffs in `priority` (realm discovery, OIDC metadata).
    pub fn is_in_head(&self, body: &[u8]) -> bool {
        self.is_in(body.get(..body.len().min(16 * 1024)).unwrap_or(body))
    }

    /// True when the needle occurs in `hay` (the same answer as [`contains`]).
    pub fn is_in(&self, hay: &[u8]) -> bool {
        !self.bytes.is_empty()
            && self
                .finder
                .get_or_init(|| memchr::memmem::Finder::new(self.bytes))
                .find(hay)
                .is_some()
    }
}

/// Whether `needle` occurs in `hay` (`hay.len() >= needle.len()`): candidates are where the
/// needle's byte at offset `k` occurs (found with SIMD), each checked in full by `same`.
fn anchored(hay: &[u8], needle: &[u8], k: usize, same: impl Fn(&[u8]) -> bool) -> bool {
    let last_start = hay.len() - needle.len();
    // The anchor at offset k of a match lies in hay[k ..= last_start + k].
    let window = hay.get(k..=last_start + k).unwrap_or_default();
    let anchor = needle.get(k).copied().unwrap_or_default();
    memchr::memchr_iter(anchor, window).any(|i| hay.get(i..i + needle.len()).is_some_and(&same))
}

/// Haystacks up to this size are searched by [`contains`] without a substring searcher.
const SHORT_HAYSTACK: usize = 4096;

/// [`contains`], ignoring ASCII case.
///
/// `priority` runs this over every body the proxy sees, so it must not compare the whole needle
/// at every offset (as `windows().any(..)` does; that showed up in profiles). Candidates come
/// from a SIMD byte search for one anchor byte of the needle, and only those are compared in
/// full. The anchor is the needle's first byte that has no other case (`<`, `=`, `"`, a digit):
/// one exact byte, and one that is rare in the tokens and base64 that fill identity bodies,
/// where the letters of `name="SAMLResponse"` are everywhere. An all-letter needle anchors on
/// its first byte in either case.
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() || hay.len() < needle.len() {
        return false;
    }
    let same = |w: &[u8]| w.eq_ignore_ascii_case(needle);
    match needle.iter().position(|b| !b.is_ascii_alphabetic()) {
        Some(k) => anchored(hay, needle, k, same),
        None => {
            let first = needle.first().copied().unwrap_or_default();
            let starts = hay.get(..=hay.len() - needle.len()).unwrap_or_default();
            memchr::memchr2_iter(
                first.to_ascii_lowercase(),
                first.to_ascii_uppercase(),
                starts,
            )
            .any(|i| hay.get(i..i + needle.len()).is_some_and(same))
        }
    }
}

/// True when `s` ends with `suffix`, ignoring ASCII case (no lowercased copy: the decoders'
/// `priority` checks paths this way for every message the proxy sees).
pub fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.as_bytes()
            .get(s.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// The path of a URL (absolute or origin-form), without query or fragment.
pub fn url_path(url: &str) -> &str {
    // The path ends at the first `?` or `#` (a `?` inside the fragment is part of the fragment,
    // and the fragment starts after any query, so the first of either ends the path).
    let end = url
        .bytes()
        .position(|b| b == b'?' || b == b'#')
        .unwrap_or(url.len());
    let no_query = url.get(..end).unwrap_or(url);
    let b = no_query.as_bytes();
    // No substring searcher: its set-up costs more than this whole scan of a short URL.
    let scheme_end = memchr::memchr_iter(b':', b).find(|&i| b.get(i + 1..i + 3) == Some(b"//"));
    match scheme_end {
        Some(i) => {
            let after = no_query.get(i + 3..).unwrap_or("");
            match after.find('/') {
                Some(j) => after.get(j..).unwrap_or("/"),
                None => "/",
            }
        }
        None => no_query,
    }
}

/// The host of an absolute URL (without port and credentials), lowercased.
pub fn url_host(url: &str) -> Option<String> {
    let after = url.get(url.find("://")? + 3..)?;
    let authority = after.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit('@').next()?;
    let host = if hostport.starts_with('[') {
        hostport.split(']').next().map(|h| format!("{h}]"))?
    } else {
        hostport.split(':').next()?.to_string()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The raw query string of a URL (after `?`, before `#`).
pub fn url_query(url: &str) -> Option<&str> {
    let q = url.get(url.find('?')? + 1..)?;
    Some(q.split('#').next().unwrap_or(q))
}

/// Decoded query parameters of a URL, in order.
pub fn url_query_pairs(url: &str) -> Vec<(String, String)> {
    url_query(url)
        .map(|q| parse_form(q.as_bytes()))
        .unwrap_or_default()
}

/// Parses `application/x-www-form-urlencoded` bytes (`+` is a space), in order.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// True when the bytes look like a form body: `k=v` pairs joined by `&`, with form-safe bytes.
pub fn looks_like_form(body: &[u8]) -> bool {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    !body.is_empty()
        && body.contains(&b'=')
        && body
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"%+-_.~=&*:/;,!'()@$[]|".contains(b))
        && body
            .split(|b| *b == b'&')
            .all(|pair| pair.contains(&b'=') || pair.is_empty())
}

/// Parses JSON with the depth bound of `limits` (serde_json's own limit of 128 also applies).
pub fn parse_json(
    bytes: &[u8],
    field: &'static str,
    limits: &Limits,
) -> Result<serde_json::Value, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.len() > limits.max_body {
        return Err(DecodeError::TooLarge {
            what: "JSON document",
            limit: limits.max_body,
        });
    }
    if json_depth(bytes) > limits.max_depth {
        return Err(DecodeError::TooLarge {
            what: "JSON nesting depth",
            limit: limits.max_depth,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| DecodeError::json(field, &e))
}

/// The maximum bracket nesting of a JSON text, ignoring brackets inside strings. Cheap pre-check:
/// string contents (most of an identity body: tokens, assertions) are skipped with a SIMD search
/// for the next quote or backslash instead of being walked byte by byte.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => {
                // Inside a string: find its closing quote, stepping over escapes.
                loop {
                    let rest = bytes.get(i..).unwrap_or_default();
                    match memchr::memchr2(b'"', b'\\', rest) {
                        None => return max,
                        Some(j) => {
                            let at = i + j;
                            if bytes.get(at) == Some(&b'\\') {
                                i = at + 2;
                            } else {
                                i = at + 1;
                                break;
                            }
                        }
                    }
                }
            }
            other => track_bracket(other, &mut depth, &mut max),
        }
    }
    max
}

/// One byte outside a string, for [`json_depth`]: brackets open and close a level.
fn track_bracket(b: u8, depth: &mut usize, max: &mut usize) {
    match b {
        b'{' | b'[' => {
            *depth += 1;
            *max = (*max).max(*depth);
        }
        b'}' | b']' => *depth = depth.saturating_sub(1),
        _ => {}
    }
}

/// Formats seconds since the Unix epoch as an RFC 3339 UTC date (`2024-01-01T00:00:00Z`).
pub fn format_epoch(secs: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => t
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| secs.to_string()),
        Err(_) => format!("{secs} (out of range)"),
    }
}

/// Seconds since the epoch of a `SystemTime` (negative before 1970).
pub fn epoch_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A duration in the largest sensible unit: `45s`, `5m`, `3h 2m`, `12d`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => {
            let m = (s % 3600) / 60;
            if m == 0 {
                format!("{}h", s / 3600)
            } else {
                format!("{}h {}m", s / 3600, m)
            }
        }
        _ => format!("{}d", s / 86_400),
    }
}

/// `"2024-01-01T00:00:00Z (in 5m)"` or `"… (3h ago)"`, relative to `now`.
pub fn format_epoch_relative(secs: i64, now: SystemTime) -> String {
    let now_s = epoch_secs(now);
    let rel = if secs == now_s {
        "now".to_string()
    } else if secs > now_s {
        format!(
            "in {}",
            human_duration(Duration::from_secs(secs.abs_diff(now_s)))
        )
    } else {
        format!(
            "{} ago",
            human_duration(Duration::from_secs(secs.abs_diff(now_s)))
        )
    };
    format!("{} ({rel})", format_epoch(secs))
}

/// A JSON value that holds an integer either as a number or as a string of digits (the v1 token
/// endpoint sends `"3599"`).
pub fn json_int(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Renders a JSON scalar for a view node: strings without quotes, everything else as JSON.
pub fn json_scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `s` cut to at most `max` (≥ 1) characters, the last one `…` when anything was cut (for columns
/// and one-line summaries; [`ellipsize`] says how much was cut instead).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    }
}

/// Shortens a long value for one-line summaries: keeps the first `max` characters and says how
/// many were cut.
pub fn ellipsize(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max).collect();
        format!("{head}… (+{} chars)", count - max)
    }
}

/// Formats 16 bytes in .NET GUID byte order (the first three fields little-endian), as used by
/// objectGUID, ImmutableID/SourceAnchor and binary XML UuidText.
pub fn dotnet_guid(b: &[u8; 16]) -> String {
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// Bytes as lower-case hex without separators (`0a1b…`).
pub fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Bytes as upper-case hex without separators (`0A1B…`), the form Windows shows thumbprints in.
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// True for a GUID in its 8-4-4-4-12 text form (either case, no braces).
pub fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Longest token text the JWT decoder accepts, in bytes. Real tokens are a few KiB; PRT requests
/// that embed a device certificate and a SAML assertion stay well under 64 KiB.
pub const MAX_TOKEN_LEN: usize = 256 * 1024;

/// Cheap shape test ([`jwt_shaped`]: `eyJ` prefix, only base64url characters, padding and dots, 3
/// or 5 segments), for at most [`MAX_TOKEN_LEN`] bytes.
pub fn looks_like_jwt(bytes: &[u8]) -> bool {
    bytes.trim_ascii().len() <= MAX_TOKEN_LEN && jwt_shaped(bytes)
}

/// The shape of a compact JWS/JWE, with no length limit: after trimming ASCII whitespace, an
/// `eyJ` prefix (base64url of `{"`), only base64url characters, `=` and dots, and 2 or 4 dots
/// (3 or 5 segments). A cheap sniff: nothing is decoded.
pub fn jwt_shaped(bytes: &[u8]) -> bool {
    let b = bytes.trim_ascii();
    if !b.starts_with(b"eyJ") {
        return false;
    }
    let mut dots = 0;
    for &c in b {
        if c == b'.' {
            dots += 1;
        } else if !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=')) {
            return false;
        }
    }
    dots == 2 || dots == 4
}

/// An id cut to its first 8 bytes and `…` when it is longer than 9 (`c44b4083…`), for summary
/// lines; short ids, and ids whose 8th byte is inside a character, are kept whole.
pub fn short_id(id: &str) -> String {
    match id.get(..8) {
        Some(head) if id.len() > 9 => format!("{head}…"),
        _ => id.to_string(),
    }
}

/// The first `n` characters of `s`, then `…` when there are more (`lHh/rE…`).
pub fn short_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}

/// A GUID cut after its first group (`ac7f7894-…`); text without a `-` is kept whole.
pub fn short_guid(g: &str) -> String {
    match g.split_once('-') {
        Some((head, _)) => format!("{head}-…"),
        None => g.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_both_cases() {
        assert_eq!(hex_lower(&[0x0a, 0xbc, 0xff]), "0abcff");
        assert_eq!(hex_upper(&[0x0a, 0xbc, 0xff]), "0ABCFF");
        assert_eq!(hex_lower(&[]), "");
    }

    #[test]
    fn guid_text_form_only() {
        assert!(is_guid("9188040d-6c67-4c5b-b112-36a304b66dad"));
        assert!(is_guid("9188040D-6C67-4C5B-B112-36A304B66DAD"));
        assert!(!is_guid("{9188040d-6c67-4c5b-b112-36a304b66da}"));
        assert!(!is_guid("9188040d6c674c5bb11236a304b66dad"));
        assert!(!is_guid("9188040d-6c67-4c5b-b112-36a304b66dä"));
    }

    #[test]
    fn jwt_shape() {
        assert!(jwt_shaped(b" eyJhbGciOiJub25lIn0.e30.\n"));
        assert!(jwt_shaped(b"eyJ.a.b.c.d"));
        assert!(!jwt_shaped(b"eyJhbGciOiJub25lIn0.e30"));
        assert!(!jwt_shaped(b"eyJ.a+b.c"));
    }

    #[test]
    fn short_forms() {
        assert_eq!(short_id("c44b4083-3bb0-49c1"), "c44b4083…");
        assert_eq!(short_id("123456789"), "123456789");
        assert_eq!(short_chars("lHh/rEabc", 6), "lHh/rE…");
        assert_eq!(short_chars("lHh/rE", 6), "lHh/rE");
        assert_eq!(short_guid("ac7f7894-aa"), "ac7f7894-…");
        assert_eq!(short_guid("plain"), "plain");
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_to_max_chars_with_an_ellipsis() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("ääää", 2), "ä…");
        assert_eq!(clip("abc", 0), "…");
    }

    #[test]
    fn base64_accepts_both_alphabets_with_or_without_padding() {
        assert_eq!(b64_decode_any("aGk", 10).as_deref(), Some(&b"hi"[..]));
        assert_eq!(b64_decode_any("aGk=", 10).as_deref(), Some(&b"hi"[..]));
        assert_eq!(
            b64_decode_any("-_8", 10).as_deref(),
            Some(&[0xfb, 0xff][..])
        );
        assert_eq!(
            b64_decode_any("+/8=", 10).as_deref(),
            Some(&[0xfb, 0xff][..])
        );
        assert!(b64_decode_any("not base64!", 10).is_none());
    }

    #[test]
    fn substring_search_matches_the_naive_one() {
        let naive = |h: &[u8], n: &[u8], ci: bool| {
            !n.is_empty()
                && h.windows(n.len()).any(|w| {
                    if ci {
                        w.eq_ignore_ascii_case(n)
                    } else {
                        w == n
                    }
                })
        };
        let hays: [&[u8]; 6] = [
            b"",
            b"a",
            b"xSAMLResponse=",
            b"samlresponse",
            b"<<saml",
            b"1=2=3",
        ];
        let needles: [&[u8]; 6] = [b"", b"S", b"samlResponse", b"SAMLResponse=", b"<s", b"=3"];
        for h in hays {
            for n in needles {
                assert_eq!(contains(h, n), naive(h, n, false), "{h:?} {n:?}");
                assert_eq!(contains_ci(h, n), naive(h, n, true), "{h:?} {n:?} ci");
            }
        }
    }

    #[test]
    fn suffixes_compare_without_case() {
        assert!(ends_with_ci("/Common/OAuth2/Token", "/oauth2/token"));
        assert!(ends_with_ci("x", ""));
        assert!(!ends_with_ci("/token", "/oauth2/token"));
        assert!(!ends_with_ci("/oauth2/tokens", "/oauth2/token"));
        // Multi-byte text before the suffix: compared as bytes, never split inside a char.
        assert!(ends_with_ci("/é/Keys", "/keys"));
        assert!(!ends_with_ci("é", "\u{a9}"));
    }

    #[test]
    fn url_parts_are_split_without_a_url_crate() {
        let u = "https://User:pw@Login.Example.com:443/common/userrealm/a%40b?api-version=1.0#frag";
        assert_eq!(url_path(u), "/common/userrealm/a%40b");
        assert_eq!(url_host(u).as_deref(), Some("login.example.com"));
        assert_eq!(
            url_query_pairs(u),
            vec![("api-version".into(), "1.0".into())]
        );
        assert_eq!(url_path("/x?y"), "/x");
    }

    #[test]
    fn immutable_id_renders_as_its_object_guid() {
        let raw = b64_decode_any("lHh/rEL830q6/mStDnD4uw==", 16).unwrap();
        let arr: [u8; 16] = raw.try_into().unwrap();
        assert_eq!(dotnet_guid(&arr), "ac7f7894-fc42-4adf-bafe-64ad0e70f8bb");
    }

    #[test]
    fn relative_times_say_in_or_ago() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            format_epoch_relative(1_700_000_300, now),
            "2023-11-14T22:18:20Z (in 5m)"
        );
        assert!(format_epoch_relative(1_699_990_000, now).ends_with("(2h 46m ago)"));
        assert!(format_epoch_relative(1_700_000_000, now).ends_with("(now)"));
    }

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"{"a":"[[[[","b":[1,{"c":2}]}"#), 3);
        assert_eq!(json_depth(br#"{"a":"x\"[[","b":[1]}"#), 2);
        assert_eq!(json_depth(br#"{"a":"x\\","b":[[1]]}"#), 3);
        assert_eq!(json_depth(br#"[{"open string \"#), 2);
    }

    /// The byte-by-byte scan `json_depth` replaced: the reference for the SIMD one.
    fn naive_json_depth(bytes: &[u8]) -> usize {
        let (mut depth, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
        for &b in bytes {
            if in_str {
                match (esc, b) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            if b == b'"' {
                in_str = true;
            } else {
                track_bracket(b, &mut depth, &mut max);
            }
        }
        max
    }

    proptest::proptest! {
        #[test]
        fn json_depth_agrees_with_the_byte_scan(
            v in proptest::collection::vec(proptest::sample::select(b"{}[]\"\\ab".to_vec()), 0..64)
        ) {
            proptest::prop_assert_eq!(json_depth(&v), naive_json_depth(&v));
        }

        #[test]
        fn contains_agrees_with_the_naive_search(
            h in proptest::collection::vec(proptest::sample::select(b"ab=<\"1".to_vec()), 0..160),
            n in proptest::collection::vec(proptest::sample::select(b"ab=<\"1".to_vec()), 0..9),
            long in proptest::bool::ANY,
        ) {
            // Short haystacks take the one-byte anchor, longer ones memchr's packed pair (SSE2
            // from 16 bytes or so, AVX2 from 32); `long` pads past the short-haystack limit, to
            // the substring-searcher path.
            let h = if long { [vec![b'x'; SHORT_HAYSTACK], h].concat() } else { h };
            let naive = !n.is_empty() && h.windows(n.len()).any(|w| w == n.as_slice());
            proptest::prop_assert_eq!(contains(&h, &n), naive);
            let needle = Needle::new(Vec::leak(n.clone()));
            proptest::prop_assert_eq!(needle.is_in(&h), naive);
            proptest::prop_assert_eq!(needle.is_in(&h), naive, "asked again");
            // Every haystack here is inside the 16 KiB head.
            proptest::prop_assert_eq!(needle.is_in_head(&h), naive);
        }

        #[test]
        fn contains_ci_agrees_with_the_naive_search(
            h in proptest::collection::vec(proptest::sample::select(b"aAbB=<\"1".to_vec()), 0..40),
            n in proptest::collection::vec(proptest::sample::select(b"aAbB=<\"1".to_vec()), 0..5),
        ) {
            let naive = !n.is_empty() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(&n));
            proptest::prop_assert_eq!(contains_ci(&h, &n), naive);
        }
    }
}
