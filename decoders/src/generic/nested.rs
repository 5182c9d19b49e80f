//! What the generic views share: decoding a value found inside a document one level deeper
//! (a JWT in a JSON string, base64 of XML in a query parameter), re-rooting the nested findings,
//! and the `Builder` that turns untrusted structured data into a view tree with secrets marked.

use super::base64::Base64;
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Context, Decoder, Message};

/// At most this many nested decodes per document: a JSON array of ten thousand JWTs is shown, but
/// only the first ones are opened.
const MAX_NESTED_PER_DOC: usize = 32;

/// True for a compact JWS/JWE: `eyJ…` (base64url of `{"`) and 3 or 5 dot-separated parts.
pub fn looks_like_jwt(s: &str) -> bool {
    crate::util::jwt_shaped(s.trim().as_bytes())
}

pub(super) fn worth_nesting(s: &str) -> bool {
    s.len() >= 16
        && (looks_like_jwt(s)
            || util::is_base64ish(s)
            || s.starts_with('<')
            || s.starts_with('{')
            || s.starts_with('[')
            || starts_with_ci(s, "https://")
            || starts_with_ci(s, "http://"))
}

pub(super) fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Decodes a value found inside another structure: first by the specific decoders (through
/// [`Context::decode_nested`]), then, unless `secret`, as base64/deflate of something meaningful
/// (the [`Base64`] decoder, one level deeper). A value under a secret name is only opened when it
/// is a JWT, so a view never shows a decoded password in clear. `None` when nothing applies or the
/// nesting limit is reached.
pub fn decode_value(value: &str, secret: bool, cx: &Context<'_>) -> Option<Decoded> {
    let v = value.trim();
    if !worth_nesting(v) || v.len() > cx.limits.max_body || (secret && !looks_like_jwt(v)) {
        return None;
    }
    if let Some(d) = cx.decode_nested(v.as_bytes()) {
        return Some(d);
    }
    if secret || cx.depth >= cx.limits.max_nesting {
        return None;
    }
    let msg = Message::blob(v.as_bytes());
    if Base64.priority(&msg) <= 0.0 {
        return None;
    }
    let inner = Context {
        depth: cx.depth + 1,
        ..*cx
    };
    Base64.decode(&msg, &inner).ok()
}

/// Appends a nested decode as a child `decoded as <id>` (value: the nested summary) holding the
/// nested root's children (its root label would only repeat the decoder id), and lifts its
/// findings with their location re-rooted under `path`.
pub fn attach_nested(node: &mut Node, d: Decoded, path: &str, findings: &mut Vec<Finding>) {
    let label = format!("decoded as {}", d.decoder);
    let outer = format!("{path}/{label}");
    // A root that says something itself (a value, a note) is kept as it is.
    let children = if d.root.value.is_none() && d.root.note.is_none() {
        lift_findings(d.findings, &d.root.label, &outer, findings);
        d.root.children
    } else {
        lift_findings(d.findings, "", &outer, findings);
        vec![d.root]
    };
    node.push(Node {
        label,
        value: Some(d.summary),
        kind: Kind::Section,
        note: None,
        children,
    });
}

/// Moves findings of a nested decode whose root was labelled `inner_root` so that their `at`
/// points below `outer` instead.
pub(super) fn lift_findings(
    from: Vec<Finding>,
    inner_root: &str,
    outer: &str,
    into: &mut Vec<Finding>,
) {
    for f in from {
        let at = match f.at.as_deref() {
            Some(a) if a == inner_root => outer.to_string(),
            Some(a) if inner_root.is_empty() => format!("{outer}/{a}"),
            Some(a) => match a.strip_prefix(inner_root).and_then(|r| r.strip_prefix('/')) {
                Some(rest) => format!("{outer}/{rest}"),
                None => format!("{outer}/{a}"),
            },
            None => outer.to_string(),
        };
        into.push(Finding {
            severity: f.severity,
            message: f.message,
            at: Some(at),
        });
    }
}

/// State shared while building one view tree from untrusted structured data.
pub(super) struct Builder<'c, 'a> {
    pub(super) cx: &'c Context<'a>,
    pub(super) findings: Vec<Finding>,
    pub(super) secrets: Vec<String>,
    pub(super) nested_left: usize,
}

impl<'c, 'a> Builder<'c, 'a> {
    pub(super) fn new(cx: &'c Context<'a>) -> Self {
        Builder {
            cx,
            findings: Vec::new(),
            secrets: Vec::new(),
            nested_left: MAX_NESTED_PER_DOC,
        }
    }

    /// A leaf for a string value: secret or field, plus a nested decode when it is something.
    pub(super) fn string_leaf(
        &mut self,
        label: &str,
        value: &str,
        secret: bool,
        path: &str,
    ) -> Node {
        self.string_leaf_named(label, label, value, secret, path)
    }

    /// As [`Builder::string_leaf`], listing the secret under `name` (an XML element's text is
    /// labelled `#text` but is secret because of the element's name).
    pub(super) fn string_leaf_named(
        &mut self,
        label: &str,
        name: &str,
        value: &str,
        secret: bool,
        path: &str,
    ) -> Node {
        let mut node = if secret {
            if !self.secrets.iter().any(|s| s == name) {
                self.secrets.push(name.to_string());
            }
            Node::secret(label, value)
        } else {
            Node::field(label, value)
        };
        if self.nested_left > 0 && worth_nesting(value.trim()) {
            self.nested_left -= 1;
            if let Some(d) = decode_value(value, secret, self.cx) {
                attach_nested(&mut node, d, path, &mut self.findings);
            }
        }
        node
    }

    /// An info finding listing the secrets seen, if any.
    pub(super) fn secrets_finding(&mut self, at: &str) {
        if !self.secrets.is_empty() {
            self.findings.push(
                Finding::info(format!(
                    "carries secrets (masked in views, removed by redaction): {}",
                    self.secrets.join(", ")
                ))
                .at(at),
            );
        }
    }
}
pub(super) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
pub(super) fn secrets_suffix(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 secret".into(),
        n => format!(", {n} secrets"),
    }
}

/// The first non-whitespace byte of a body (after a UTF-8 BOM).
pub(super) fn first_byte(body: &[u8]) -> Option<u8> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}
