//! The [`Base64`] view: a blob that is base64 or base64url of something meaningful, decoded,
//! inflated when compressed, and shown through the decoder that fits the content.

use std::io::Read;

use super::json::Json;
use super::nested::{attach_nested, first_byte, lift_findings};
use super::xml::Xml;
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::x509::parse_certificate;
use crate::{Context, DecodeError, Decoder, Message};

/// What a byte string looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    Gzip,
    Zlib,
    Json,
    Xml,
    Der,
    Msbin1,
    Text,
    Binary,
}

/// True when the bytes read as text: UTF-8 (a multi-byte character cut at the end is tolerated,
/// for prefixes) with no control characters other than tab, CR and LF.
fn is_texty(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if bytes.len() - e.valid_up_to() < 4 && e.error_len().is_none() => {
            std::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
        }
        Err(_) => return false,
    };
    valid.chars().count() >= 4
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
}

fn sniff(bytes: &[u8]) -> Payload {
    match bytes {
        [0x1f, 0x8b, ..] => Payload::Gzip,
        [b0, b1, ..]
            if *b0 & 0x0f == 8
                && *b0 >> 4 <= 7
                && (u16::from(*b0) << 8 | u16::from(*b1)) % 31 == 0 =>
        {
            Payload::Zlib
        }
        [0x30, 0x81..=0x83, ..] => Payload::Der,
        [0x56, 0x02, ..] => Payload::Msbin1,
        _ if is_texty(bytes) => match first_byte(bytes) {
            Some(b'{' | b'[') => Payload::Json,
            Some(b'<') => Payload::Xml,
            _ => Payload::Text,
        },
        _ => Payload::Binary,
    }
}

/// Raw DEFLATE, for the prefix sniff: does the start inflate to text?
fn raw_deflate_is_text(bytes: &[u8]) -> bool {
    let mut out = Vec::new();
    let r = flate2::read::DeflateDecoder::new(bytes)
        .take(64)
        .read_to_end(&mut out);
    // A truncated prefix ends in an error; what came out before it still counts.
    let _ = r;
    out.len() >= 8 && is_texty(&out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Zlib,
    Deflate,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zlib => "zlib (deflate)",
            Compression::Deflate => "raw deflate",
        }
    }
}

fn inflate(kind: Compression, data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let res = match kind {
        Compression::Gzip => flate2::read::GzDecoder::new(data)
            .take(cap)
            .read_to_end(&mut out),
        Compression::Zlib => flate2::read::ZlibDecoder::new(data)
            .take(cap)
            .read_to_end(&mut out),
        Compression::Deflate => flate2::read::DeflateDecoder::new(data)
            .take(cap)
            .read_to_end(&mut out),
    };
    res.map_err(|e| DecodeError::Inflate {
        field: "blob",
        message: e.to_string(),
    })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge {
            what: "inflated data",
            limit,
        });
    }
    Ok(out)
}

/// The body as compact base64 text (whitespace removed, so line-wrapped base64 counts), if it is
/// only base64/base64url characters with padding at the end only.
fn base64_text(msg: &Message<'_>) -> Option<String> {
    let text = msg.text()?.trim();
    if text.len() < 8 {
        return None;
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let unpadded = compact.trim_end_matches('=');
    let mixed = unpadded.contains(['-', '_']) && unpadded.contains(['+', '/']);
    (util::is_base64ish(&compact)
        && !unpadded.contains('=')
        && compact.len() - unpadded.len() <= 2
        && unpadded.len() % 4 != 1
        && !mixed)
        .then_some(compact)
}

decoder! {
    /// A blob that is base64 or base64url of something meaningful: decoded (within
    /// `limits.max_inflate`), inflated when it is gzip/zlib/raw deflate, then shown through a specific
    /// decoder if one applies, else as JSON, XML, text, a certificate or a hex preview. It only
    /// claims blobs whose decoded start is text, JSON, XML, compressed data or a known binary, so
    /// ordinary words do not match.
    pub struct Base64: "base64";
}

fn priority(msg: &Message<'_>) -> f32 {
    let Some(compact) = base64_text(msg) else {
        return 0.0;
    };
    // Sniff a prefix only: 344 characters decode to 258 bytes.
    let take = if compact.len() <= 344 {
        compact.len()
    } else {
        344
    };
    let Some(prefix) = compact
        .get(..take)
        .and_then(|p| util::b64_decode_any(p, 300))
    else {
        return 0.0;
    };
    match sniff(&prefix) {
        Payload::Gzip | Payload::Json | Payload::Xml => 0.3,
        Payload::Zlib | Payload::Der | Payload::Msbin1 => 0.25,
        Payload::Text => 0.2,
        Payload::Binary if raw_deflate_is_text(&prefix) => 0.25,
        Payload::Binary => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let compact = base64_text(msg).ok_or(DecodeError::not("base64", "not a base64 string"))?;
    let url_safe = compact.contains(['-', '_']);
    let padded = compact.ends_with('=');
    let bytes = util::b64_decode_any(&compact, cx.limits.max_inflate)
        .ok_or(DecodeError::Base64 { field: "blob" })?;
    let mut root = Node::section("base64");
    root.push(Node::field(
        "encoding",
        format!(
            "{}, {}",
            if url_safe { "base64url" } else { "base64" },
            if padded { "padded" } else { "unpadded" }
        ),
    ));
    root.push(Node::leaf(
        "decoded size",
        format!("{} bytes", bytes.len()),
        Kind::Number,
    ));
    let mut steps = vec![if url_safe { "base64url" } else { "base64" }.to_string()];
    let compression = match sniff(&bytes) {
        Payload::Gzip => Some(Compression::Gzip),
        Payload::Zlib => Some(Compression::Zlib),
        Payload::Binary if raw_deflate_is_text(&bytes) => Some(Compression::Deflate),
        _ => None,
    };
    let payload = match compression {
        Some(kind) => {
            let out = inflate(kind, &bytes, cx.limits.max_inflate)?;
            let mut n = Node::field(
                "compression",
                format!("{} → {} bytes", kind.name(), out.len()),
            );
            if kind == Compression::Deflate {
                n = n.with_note(
                    "raw DEFLATE (RFC 1951) under base64: the SAML HTTP-Redirect binding \
                     encoding",
                );
            }
            root.push(n);
            steps.push(kind.name().to_string());
            out
        }
        None => bytes,
    };
    let mut findings = Vec::new();
    let content = content_node(&payload, cx, &mut findings);
    let inner_summary = content.value.clone().unwrap_or_default();
    root.push(content);
    let summary = format!("{} → {inner_summary}", steps.join(" → "));
    let mut d = Decoded::new("base64", summary, root);
    d.findings = findings;
    Ok(d)
}

/// The decoded payload of a base64 blob, as a `content` node whose value is a one-line summary.
fn content_node(payload: &[u8], cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    let mut node = Node::section("content");
    if let Some(d) = cx.decode_nested(payload) {
        node.value = Some(d.summary.clone());
        attach_nested(&mut node, d, "base64/content", findings);
        return node;
    }
    let inner = Context {
        depth: cx.depth.saturating_add(1),
        ..*cx
    };
    let blob = Message::blob(payload);
    let generic: Option<&dyn Decoder> = match sniff(payload) {
        Payload::Json => Some(&Json),
        Payload::Xml => Some(&Xml),
        _ => None,
    };
    if let Some(dec) = generic {
        match dec.decode(&blob, &inner) {
            Ok(d) => {
                // A generic view is shown in place: `content` already says what it is.
                node.value = Some(d.summary);
                lift_findings(d.findings, &d.root.label, "base64/content", findings);
                node.children = d.root.children;
                return node;
            }
            Err(e) => {
                node.push(Node::leaf("error", e.to_string(), Kind::Error));
            }
        }
    }
    match sniff(payload) {
        Payload::Der => match parse_certificate(payload) {
            Ok(cert) => {
                node.value = Some(format!("X.509 certificate {}", cert.subject));
                findings.extend(cert.findings(cx.now, "base64/content/certificate"));
                node.push(cert.to_node("certificate", cx.now));
                return node;
            }
            Err(_) => {
                node.value = Some(format!("DER data, {} bytes", payload.len()));
            }
        },
        Payload::Msbin1 => {
            node.value = Some(format!(".NET binary XML (msbin1), {} bytes", payload.len()));
        }
        Payload::Text | Payload::Json | Payload::Xml => {
            let text = String::from_utf8_lossy(payload).into_owned();
            node.value = Some(format!("text: {}", util::ellipsize(text.trim(), 60)));
            node.push(Node::text("text", text));
            return node;
        }
        _ => {
            node.value = Some(format!("binary, {} bytes", payload.len()));
        }
    }
    node.push(Node::field(
        "hex (first 64 bytes)",
        hex(payload.iter().take(64)),
    ));
    node
}

fn hex<'b>(bytes: impl Iterator<Item = &'b u8>) -> String {
    bytes
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generic::test_cx as cx;
    use crate::{Limits, Trust};

    #[test]
    fn base64_ignores_random_words_and_claims_json() {
        for w in [
            "helloworld",
            "abcdefgh",
            "Administrator",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(Base64.priority(&Message::blob(w.as_bytes())), 0.0, "{w}");
        }
        let b = util::b64_std(br#"{"a":"b"}"#);
        assert_eq!(Base64.priority(&Message::blob(b.as_bytes())), 0.3);
    }

    #[test]
    fn base64_gzip_inflation_is_capped() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'{'; 100_000]).unwrap();
        let b = util::b64_std(&gz.finish().unwrap());
        let trust = Trust::default();
        let limits = Limits {
            max_inflate: 10_000,
            ..Limits::default()
        };
        let c = cx(&trust).with_limits(limits);
        let err = Base64.decode(&Message::blob(b.as_bytes()), &c).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "inflated data",
                limit: 10_000
            }
        );
    }
}
