//! Text rendering of decoder output for the command line: decoded trees as indented text,
//! findings as tagged lines, and secret masking (values of `Kind::Secret` nodes become
//! `«secret: N chars»` unless the user asked to see them). The TUI has its own rendering; both
//! read the same view tree.

use std::fmt::Write as _;

use std::sync::LazyLock;

use idscope_decoders::{Decoded, Finding, Kind, Node, Outcome};
use regex::Regex;

/// Replaces the value of every `Kind::Secret` node (at any depth) with a mask that keeps only its
/// length, and masks secrets inside `Kind::Markup` text (pretty-printed XML or HTML shows whole
/// messages): JWTs anywhere, and the content of credential elements. Children stay: the
/// structure of a secret (a JWT's claims) is not the secret.
pub fn mask_secrets(node: &mut Node) {
    match node.kind {
        Kind::Secret => {
            if let Some(v) = node.value.as_mut().filter(|v| !v.starts_with('«')) {
                *v = mask(v);
            }
        }
        Kind::Markup => {
            if let Some(v) = node.value.as_mut() {
                *v = mask_markup(v);
            }
        }
        _ => {}
    }
    for c in &mut node.children {
        mask_secrets(c);
    }
}

fn mask(v: &str) -> String {
    format!("«secret: {} chars»", v.chars().count())
}

/// JWTs (three or five base64url segments starting with a JSON header) and the text of elements
/// whose local name says credential. Fails closed: should a pattern not compile, the whole
/// markup is masked.
fn mask_markup(text: &str) -> String {
    static JWT: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){2,4}").ok());
    static CREDENTIAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(
            r"(<(?:[\w.-]+:)?(?:Password|BearerToken|CredentialData|SignatureValue|CipherValue|Nonce|BinarySecret)\b[^>]*>)([^<]+)(</)",
        )
        .ok()
    });
    let (Some(jwt), Some(credential)) = (JWT.as_ref(), CREDENTIAL.as_ref()) else {
        return mask(text);
    };
    let once = credential.replace_all(text, |c: &regex::Captures<'_>| {
        format!("{}{}{}", &c[1], mask(&c[2]), &c[3])
    });
    jwt.replace_all(&once, |c: &regex::Captures<'_>| mask(&c[0]))
        .into_owned()
}

/// Masks secrets in every successful outcome.
pub fn mask_outcomes(outcomes: &mut [Outcome]) {
    for o in outcomes {
        if let Ok(d) = &mut o.result {
            mask_secrets(&mut d.root);
        }
    }
}

/// Writes a decoded tree as indented text.
pub fn write_decoded(out: &mut String, d: &Decoded, indent: usize) {
    let pad = "  ".repeat(indent);
    let _ = writeln!(out, "{pad}[{}] {}", d.decoder, d.summary);
    for f in &d.findings {
        let _ = writeln!(out, "{pad}  {}", finding_line(f));
    }
    write_node(out, &d.root, indent + 1);
}

fn write_node(out: &mut String, n: &Node, indent: usize) {
    let pad = "  ".repeat(indent);
    let _ = write!(out, "{pad}{}", n.label);
    if let Some(v) = &n.value {
        if v.contains('\n') {
            let _ = writeln!(out, ":");
            for line in v.lines() {
                let _ = writeln!(out, "{pad}  | {line}");
            }
        } else {
            let _ = write!(out, ": {v}");
        }
    }
    if let Some(note) = &n.note {
        let _ = write!(out, "  — {note}");
    }
    if n.value.as_deref().is_none_or(|v| !v.contains('\n')) {
        out.push('\n');
    }
    for c in &n.children {
        write_node(out, c, indent + 1);
    }
}

/// `[error] message (at claims/exp)`.
pub fn finding_line(f: &Finding) -> String {
    match &f.at {
        Some(at) => format!("[{}] {} (at {at})", f.severity, f.message),
        None => format!("[{}] {}", f.severity, f.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_at_any_depth_but_keep_their_children() {
        let mut root = Node::section("form").with_child(
            Node::secret("assertion", "c2VjcmV0").with_child(Node::field("issuer", "sts")),
        );
        mask_secrets(&mut root);
        let a = root.child("assertion").unwrap();
        assert_eq!(a.value.as_deref(), Some("«secret: 8 chars»"));
        assert_eq!(a.children[0].value.as_deref(), Some("sts"));
        // Idempotent.
        mask_secrets(&mut root);
        assert_eq!(
            root.child("assertion").unwrap().value.as_deref(),
            Some("«secret: 8 chars»")
        );
    }

    #[test]
    fn markup_hides_jwts_and_credential_elements_but_keeps_the_rest() {
        let xml = "<SyncToken><BearerToken xmlns=\"x\">eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln</BearerToken>\
                   <wsse:Password Type=\"t\">hunter2</wsse:Password><UserName>alice</UserName>\
                   <a>see eyJ0eXAiOiJKV1QifQ.eyJ1cG4iOiJhIn0.</a></SyncToken>";
        let mut root = Node::leaf("xml", xml, Kind::Markup);
        mask_secrets(&mut root);
        let v = root.value.unwrap();
        assert!(
            !v.contains("eyJhbGci") && !v.contains("hunter2") && !v.contains("eyJ0eXAi"),
            "{v}"
        );
        assert!(
            v.contains("<wsse:Password Type=\"t\">«secret: 7 chars»</wsse:Password>"),
            "{v}"
        );
        assert!(v.contains("<UserName>alice</UserName>"), "{v}");
    }

    #[test]
    fn multi_line_values_are_indented_under_their_label() {
        let d = Decoded::new("xml", "doc", Node::leaf("xml", "<a>\n</a>", Kind::Markup));
        let mut s = String::new();
        write_decoded(&mut s, &d, 0);
        assert_eq!(s, "[xml] doc\n  xml:\n    | <a>\n    | </a>\n");
    }
}
