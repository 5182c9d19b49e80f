//! Text rendering of decoder output for the command line: decoded trees as indented text,
//! findings as tagged lines, and secret masking (values of `Kind::Secret` nodes become
//! `«secret: N chars»` unless the user asked to see them). The TUI has its own rendering; both
//! read the same view tree.

use std::fmt::Write as _;

use idscope_decoders::secrets;
use idscope_decoders::{Decoded, Finding, Node, Outcome};

/// Replaces the value of every `Kind::Secret` node (at any depth) with a mask that keeps only its
/// length, and masks secrets inside `Kind::Markup` text (pretty-printed XML or HTML shows whole
/// messages): JWTs anywhere, and the content of credential elements. Children stay: the
/// structure of a secret (a JWT's claims) is not the secret. The secrets policy decides what is
/// masked and how ([`secrets::mask_tree`]).
pub fn mask_secrets(node: &mut Node) {
    secrets::mask_tree(node);
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
    use idscope_decoders::Kind;

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
