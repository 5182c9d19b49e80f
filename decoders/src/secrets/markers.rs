//! The markers `idscope redact` writes in place of credentials, written and read here only, so
//! the writer (`src/capture/redact`) and the decoders that must recognise a shareable copy
//! cannot drift apart:
//!
//! * `«redacted:KIND:len=N:fp=HHHHHHHH»` — a credential of N bytes; `fp` is a keyed fingerprint
//!   (8 hex digits) equal for equal values within one export;
//! * `«redacted:password:len=N»` — a password (never fingerprinted: a password is guessable);
//! * `«redacted:body:len=N:sha256=H…»` — a whole body no rule understood (64 hex digits);
//! * `REDACTED-SIG-HHHHHHHHHHH` — the signature segment of a JWS whose header and claims stay;
//! * `REDACTED-JWE-HHHHHHHHHHH` — the ciphertext segment of a JWE (`header...REDACTED-JWE-….`).
//!
//! [`redaction_marker`] reads one; [`Redacted::note`] is what views say about it, and
//! [`redacted_node`] the node they show.

use crate::view::{Decoded, Node};

/// What the signature segment of a redacted JWS starts with (`REDACTED-SIG-<fingerprint>`).
pub const REDACTED_SIGNATURE_PREFIX: &str = "REDACTED-SIG-";

/// What the ciphertext segment of a redacted JWE starts with (`REDACTED-JWE-<fingerprint>`).
pub const REDACTED_JWE_PREFIX: &str = "REDACTED-JWE-";

/// Opening of every `«redacted:…»` placeholder.
const OPEN: &str = "«redacted:";
/// Closing of every `«redacted:…»` placeholder.
const CLOSE: char = '»';
/// The kind of a password placeholder.
const PASSWORD: &str = "password";
/// The kind of a body placeholder.
const BODY: &str = "body";
/// Hex digits of the fingerprint in a placeholder.
pub const FINGERPRINT_HEX: usize = 8;
/// Hex digits of the fingerprint in a redacted JWS signature or JWE.
pub const TOKEN_FINGERPRINT_HEX: usize = 11;
/// Longest kind a placeholder may name.
const MAX_KIND: usize = 40;

/// A value `idscope redact` wrote in place of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redacted<'a> {
    /// `«redacted:KIND:len=N:fp=HHHHHHHH»`.
    Value {
        /// What was removed (`refresh_token`, `xml_signature`, `cookie` …).
        kind: &'a str,
        /// Its length in bytes.
        len: usize,
        /// The keyed fingerprint (hex).
        fp: &'a str,
    },
    /// `«redacted:password:len=N»`.
    Password {
        /// The password's length in bytes.
        len: usize,
    },
    /// `«redacted:body:len=N:sha256=…»`.
    Body {
        /// The body's length in bytes.
        len: usize,
        /// SHA-256 of the body (hex).
        sha256: &'a str,
    },
    /// `REDACTED-SIG-…`: the signature segment of a JWS.
    JwsSignature {
        /// The keyed fingerprint (hex).
        fp: &'a str,
    },
    /// `REDACTED-JWE-…`: the ciphertext segment of a JWE whose key, IV and tag were dropped.
    JweContent {
        /// The keyed fingerprint (hex).
        fp: &'a str,
    },
}

impl Redacted<'_> {
    /// What was removed: the placeholder's kind, `jws_signature` or `jwe`.
    pub fn kind(&self) -> &str {
        match self {
            Redacted::Value { kind, .. } => kind,
            Redacted::Password { .. } => PASSWORD,
            Redacted::Body { .. } => BODY,
            Redacted::JwsSignature { .. } => "jws_signature",
            Redacted::JweContent { .. } => "jwe",
        }
    }

    /// The length of the removed value in bytes, when the marker tells it.
    pub fn original_len(&self) -> Option<usize> {
        match self {
            Redacted::Value { len, .. }
            | Redacted::Password { len }
            | Redacted::Body { len, .. } => Some(*len),
            Redacted::JwsSignature { .. } | Redacted::JweContent { .. } => None,
        }
    }

    /// What a view says about the marker: `removed by idscope redact (a shareable copy): …`.
    pub fn note(&self) -> String {
        let what = match self {
            Redacted::Value { kind, len, fp } => format!(
                "{kind}, {len} bytes; fingerprint {fp} (equal values in the same file share it)"
            ),
            Redacted::Password { len } => {
                format!("a password, {len} bytes (never fingerprinted)")
            }
            Redacted::Body { len, sha256 } => {
                format!("a body no rule could read, {len} bytes; SHA-256 {sha256}")
            }
            Redacted::JwsSignature { .. } => {
                "the signature; header and claims are as sent, so it cannot be checked".to_string()
            }
            Redacted::JweContent { .. } => {
                "the encrypted key, IV, ciphertext and tag; only the header is as sent".to_string()
            }
        };
        format!("{REDACTED_NOTE}: {what}")
    }
}

/// The words every view uses for a value redaction removed.
pub const REDACTED_NOTE: &str = "removed by idscope redact (a shareable copy)";

/// The marker `s` is (surrounding whitespace ignored), or `None` when `s` is anything else, a
/// value with a marker inside it included.
pub fn redaction_marker(s: &str) -> Option<Redacted<'_>> {
    let t = s.trim();
    if let Some(fp) = t.strip_prefix(REDACTED_SIGNATURE_PREFIX) {
        return is_hex(fp, TOKEN_FINGERPRINT_HEX).then_some(Redacted::JwsSignature { fp });
    }
    if let Some(fp) = t.strip_prefix(REDACTED_JWE_PREFIX) {
        return is_hex(fp, TOKEN_FINGERPRINT_HEX).then_some(Redacted::JweContent { fp });
    }
    let inner = t.strip_prefix(OPEN)?.strip_suffix(CLOSE)?;
    let mut parts = inner.split(':');
    let kind = parts.next()?;
    let len = parts.next()?.strip_prefix("len=")?;
    if len.is_empty() || len.len() > 12 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: usize = len.parse().ok()?;
    let last = parts.next();
    if parts.next().is_some() {
        return None;
    }
    match (kind, last) {
        (PASSWORD, None) => Some(Redacted::Password { len }),
        (BODY, Some(h)) => {
            let sha256 = h.strip_prefix("sha256=")?;
            is_hex(sha256, 64).then_some(Redacted::Body { len, sha256 })
        }
        (kind, Some(f)) if is_kind(kind) => {
            let fp = f.strip_prefix("fp=")?;
            is_hex(fp, FINGERPRINT_HEX).then_some(Redacted::Value { kind, len, fp })
        }
        _ => None,
    }
}

/// True when `s` is a marker or a compact JWS/JWE that redaction rewrote (`h.p.REDACTED-SIG-…`,
/// `h...REDACTED-JWE-….`).
pub fn is_redacted(s: &str) -> bool {
    redaction_marker(s).is_some() || is_redacted_token(s)
}

/// True for a compact JWS whose signature or a compact JWE whose content redaction replaced.
pub fn is_redacted_token(s: &str) -> bool {
    let parts: Vec<&str> = s.trim().split('.').collect();
    match parts.as_slice() {
        [_, _, sig] => matches!(redaction_marker(sig), Some(Redacted::JwsSignature { .. })),
        [_, _, _, ct, _] => matches!(redaction_marker(ct), Some(Redacted::JweContent { .. })),
        _ => false,
    }
}

/// True when `text` holds a `«redacted:…»` placeholder or a redacted JWS/JWE segment anywhere.
pub fn contains_redaction_marker(text: &str) -> bool {
    let found = |from: &str, open: &str, end: &dyn Fn(&str) -> usize| {
        let mut rest = text;
        while let Some(i) = rest.find(open) {
            let tail = rest.get(i..).unwrap_or("");
            let n = end(tail);
            if redaction_marker(tail.get(..n).unwrap_or("")).is_some() {
                return true;
            }
            rest = tail.get(from.len()..).unwrap_or("");
        }
        false
    };
    let placeholder_end = |t: &str| t.find(CLOSE).map_or(t.len(), |i| i + CLOSE.len_utf8());
    let segment_end = |t: &str| {
        t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(t.len())
    };
    found(OPEN, OPEN, &placeholder_end)
        || found(
            REDACTED_SIGNATURE_PREFIX,
            REDACTED_SIGNATURE_PREFIX,
            &segment_end,
        )
        || found(REDACTED_JWE_PREFIX, REDACTED_JWE_PREFIX, &segment_end)
}

/// The node a view shows for a value redaction removed: the marker itself, [`Kind::Secret`](crate::Kind::Secret)
/// (crate::view::Kind::Secret), with [`Redacted::note`]. `None` when `value` is no marker.
pub fn redacted_node(label: impl Into<String>, value: &str) -> Option<Node> {
    let m = redaction_marker(value)?;
    Some(Node::secret(label, value.trim()).with_note(m.note()))
}

/// The view of a message whose whole body is a redaction marker (a body no rule could read, or a
/// token removed whole), as any decoder that applies to it gives it: the marker as a redacted
/// secret. `None` for any other body.
pub fn redacted_body(decoder: &'static str, body: &[u8]) -> Option<Decoded> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let m = redaction_marker(text)?;
    let what = match m.original_len() {
        Some(n) => format!("{}, {n} bytes", m.kind()),
        None => m.kind().to_string(),
    };
    let root = Node::section(decoder).with_child(redacted_node("body", text)?);
    Some(Decoded::new(
        decoder,
        format!("body {REDACTED_NOTE}: {what}"),
        root,
    ))
}

/// Marks every node of `root` whose value is a redaction marker as what it is: [`Kind::Secret`](crate::Kind::Secret)
/// (crate::view::Kind::Secret) with [`Redacted::note`] in place of whatever a decoder said about
/// the marker's text (its length, "not a JWT" …). Every decoder's view goes through it, so a
/// shareable copy reads the same in every view.
pub fn mark_redacted(root: &mut Node) {
    if let Some(m) = root.value.as_deref().and_then(quick_marker) {
        let note = m.note();
        root.kind = crate::view::Kind::Secret;
        root.note = Some(note);
    }
    for c in &mut root.children {
        mark_redacted(c);
    }
}

/// [`redaction_marker`] after a cheap first-byte test (most values are no marker).
fn quick_marker(v: &str) -> Option<Redacted<'_>> {
    let t = v.trim_start();
    (t.starts_with('«') || t.starts_with("REDACTED-"))
        .then(|| redaction_marker(t))
        .flatten()
}

// ---------------------------------------------------------------------------------------------
// Writing

/// `«redacted:KIND:len=N:fp=FP»` (`fp`: [`FINGERPRINT_HEX`] hex digits).
pub fn placeholder(kind: &str, len: usize, fp: &str) -> String {
    format!("{OPEN}{kind}:len={len}:fp={fp}{CLOSE}")
}

/// `«redacted:password:len=N»`.
pub fn password_placeholder(len: usize) -> String {
    format!("{OPEN}{PASSWORD}:len={len}{CLOSE}")
}

/// `«redacted:body:len=N:sha256=H»`.
pub fn body_placeholder(len: usize, sha256_hex: &str) -> String {
    format!("{OPEN}{BODY}:len={len}:sha256={sha256_hex}{CLOSE}")
}

/// The signature segment of a redacted JWS: `REDACTED-SIG-FP`.
pub fn redacted_jws_signature(fp: &str) -> String {
    format!("{REDACTED_SIGNATURE_PREFIX}{fp}")
}

/// A redacted compact JWE: the protected header kept, the content segment `REDACTED-JWE-FP`,
/// the encrypted key, IV and tag empty.
pub fn redacted_jwe(header: &str, fp: &str) -> String {
    format!("{header}...{REDACTED_JWE_PREFIX}{fp}.")
}

fn is_hex(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_kind(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_KIND
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marker_the_writers_make_reads_back() {
        let fp = "0123abcd";
        let v = placeholder("refresh_token", 69, fp);
        assert_eq!(v, "«redacted:refresh_token:len=69:fp=0123abcd»");
        assert_eq!(
            redaction_marker(&v),
            Some(Redacted::Value {
                kind: "refresh_token",
                len: 69,
                fp
            })
        );
        let p = password_placeholder(14);
        assert_eq!(p, "«redacted:password:len=14»");
        assert_eq!(redaction_marker(&p), Some(Redacted::Password { len: 14 }));
        let h = "a".repeat(64);
        let b = body_placeholder(3098, &h);
        assert_eq!(
            redaction_marker(&b),
            Some(Redacted::Body {
                len: 3098,
                sha256: &h
            })
        );
        let s = redacted_jws_signature("0123456789a");
        assert_eq!(
            redaction_marker(&s),
            Some(Redacted::JwsSignature { fp: "0123456789a" })
        );
        let jwe = redacted_jwe("eyJhbGciOiJkaXIifQ", "0123456789a");
        assert_eq!(jwe, "eyJhbGciOiJkaXIifQ...REDACTED-JWE-0123456789a.");
        assert!(is_redacted_token(&jwe));
        assert!(is_redacted_token("eyJh.eyJi.REDACTED-SIG-0123456789a"));
        assert!(is_redacted(" «redacted:code:len=5:fp=4d1ac999» "));
    }

    #[test]
    fn look_alikes_are_not_markers() {
        for s in [
            "",
            "«redacted:»",
            "«redacted:code»",
            "«redacted:code:len=5»",
            "«redacted:code:len=x:fp=4d1ac999»",
            "«redacted:code:len=5:fp=4d1ac99»",
            "«redacted:code:len=5:fp=4d1ac999:extra»",
            "«redacted:Code:len=5:fp=4d1ac999»",
            "«redacted:body:len=5:sha256=abc»",
            "redacted:code:len=5:fp=4d1ac999",
            "x«redacted:code:len=5:fp=4d1ac999»",
            "REDACTED-SIG-",
            "REDACTED-SIG-xyz",
            "REDACTED-JWE-0123456789",
            "«secret: 7 chars»",
            "urn:oasis:names:tc:SAML:1.0:assertion",
        ] {
            assert_eq!(redaction_marker(s), None, "{s}");
        }
        assert!(!is_redacted_token("eyJh.eyJi.c2ln"));
        assert!(!is_redacted_token("REDACTED-SIG-0123456789a"));
    }

    #[test]
    fn markers_are_found_inside_text() {
        assert!(contains_redaction_marker(
            "<ds:SignatureValue>«redacted:xml_signature:len=344:fp=e850fb44»</ds:SignatureValue>"
        ));
        assert!(contains_redaction_marker(
            "Bearer eyJh.eyJi.REDACTED-SIG-0123456789a"
        ));
        assert!(contains_redaction_marker("a...REDACTED-JWE-0123456789a."));
        assert!(!contains_redaction_marker("«redacted:nothing here"));
        assert!(!contains_redaction_marker(
            "REDACTED-SIG-short and «secret: 3 chars»"
        ));
    }

    #[test]
    fn the_node_shows_the_marker_and_says_it_was_removed() {
        let n = redacted_node(
            "refresh_token",
            "«redacted:refresh_token:len=69:fp=c8b5df90»",
        )
        .expect("a marker");
        assert_eq!(n.kind, crate::Kind::Secret);
        assert_eq!(
            n.value.as_deref(),
            Some("«redacted:refresh_token:len=69:fp=c8b5df90»")
        );
        let note = n.note.unwrap_or_default();
        assert!(note.starts_with(REDACTED_NOTE), "{note}");
        assert!(note.contains("69 bytes"), "{note}");
        assert!(redacted_node("x", "0.AXogBQ").is_none());
    }

    #[test]
    fn marking_a_tree_replaces_what_decoders_said_about_marker_text() {
        let mut root = Node::section("token response")
            .with_child(
                Node::secret("id_token", "«redacted:jwt_unsigned:len=757:fp=1418885f»")
                    .with_note("opaque token (43 chars), not a JWT"),
            )
            .with_child(Node::field("scope", "openid").with_note("kept"))
            .with_child(
                Node::section("sig").with_child(Node::field("value", " REDACTED-SIG-0123456789a")),
            );
        mark_redacted(&mut root);
        let id = &root.children[0];
        assert_eq!(id.kind, crate::Kind::Secret);
        assert!(
            id.note.as_deref().unwrap_or("").starts_with(REDACTED_NOTE),
            "{id:?}"
        );
        assert!(!id.note.as_deref().unwrap_or("").contains("43 chars"));
        assert_eq!(root.children[1].note.as_deref(), Some("kept"));
        assert_eq!(root.children[1].kind, crate::Kind::Field);
        let sig = &root.children[2].children[0];
        assert_eq!(sig.kind, crate::Kind::Secret);
        assert!(sig.note.as_deref().unwrap_or("").contains("signature"));
    }
}
