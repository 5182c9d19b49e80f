//! The [`Form`] view (`application/x-www-form-urlencoded` bodies) and the parameter list tree
//! it shares with the URL view's query and fragment.

use std::collections::HashSet;

use super::nested::{Builder, count, secrets_suffix};
use crate::secrets::is_secret_name;
use crate::util;
use crate::view::{Decoded, Finding, Node};
use crate::{Context, DecodeError, Message};

/// `looks_like_form`, minus the shapes that are really something else: base64 with `=` padding
/// (`eyJhIjoxfQ==`) and a single bare token.
fn sniffs_as_form(body: &[u8]) -> bool {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    util::looks_like_form(body)
        && body.split(|b| *b == b'&').all(|pair| {
            pair.is_empty()
                || pair.iter().position(|b| *b == b'=').is_some_and(|i| {
                    i > 0 && pair.get(i..).is_some_and(|v| v.iter().any(|b| *b != b'='))
                })
                || pair.last() != Some(&b'=')
        })
        && !body.ends_with(b"==")
}

decoder! {
    /// `application/x-www-form-urlencoded` bodies (or bodies that look like one): the parameters in
    /// order, secrets masked, values decoded nested where they are something (a JWT assertion).
    pub struct Form: "form";
}

fn priority(msg: &Message<'_>) -> f32 {
    if msg.body.is_empty() {
        return 0.0;
    }
    match msg.content_type().as_deref() {
        Some("application/x-www-form-urlencoded") => 0.3,
        None | Some("text/plain") if sniffs_as_form(msg.body) => 0.15,
        _ => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "form body")?;
    let body = msg.body.strip_suffix(b"\n").unwrap_or(msg.body);
    let pairs = util::parse_form(body);
    if pairs.is_empty() {
        return Err(DecodeError::not("a form", "no parameters"));
    }
    if pairs.len() > cx.limits.max_nodes {
        return Err(DecodeError::TooLarge {
            what: "form parameter count",
            limit: cx.limits.max_nodes,
        });
    }
    let (root, mut b) = params_tree("form", &pairs, cx);
    b.secrets_finding("form");
    let names: Vec<&str> = pairs.iter().take(3).map(|(k, _)| k.as_str()).collect();
    let more = if pairs.len() > 3 { ", …" } else { "" };
    let summary = format!(
        "form: {} ({}{more}){}",
        count(pairs.len(), "param"),
        names.join(", "),
        secrets_suffix(b.secrets.len())
    );
    let mut d = Decoded::new("form", summary, root);
    d.findings = b.findings;
    Ok(d)
}

/// A section of name/value parameters (form body, query string, fragment), flagging repeated
/// names, which servers resolve differently (parameter pollution).
pub(super) fn params_tree<'c, 'a>(
    label: &str,
    pairs: &[(String, String)],
    cx: &'c Context<'a>,
) -> (Node, Builder<'c, 'a>) {
    let mut b = Builder::new(cx);
    let mut node = Node::section(label);
    let mut seen: HashSet<&str> = HashSet::new();
    let mut reported: HashSet<&str> = HashSet::new();
    for (k, v) in pairs {
        let name = if k.is_empty() {
            "(empty name)"
        } else {
            k.as_str()
        };
        let path = format!("{label}/{name}");
        if !seen.insert(name) && reported.insert(name) {
            b.findings.push(
                Finding::warning(format!(
                    "parameter `{name}` is repeated: servers differ on which value they use"
                ))
                .at(path.clone()),
            );
        }
        let leaf = b.string_leaf(name, v, is_secret_name(name), &path);
        node.push(leaf);
    }
    (node, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use crate::generic::test_cx as cx;
    use crate::view::Kind;

    #[test]
    fn form_masks_secrets_and_flags_repeats() {
        let trust = Trust::default();
        let msg = Message::request(
            "POST",
            "https://x/token",
            vec![("content-type", "application/x-www-form-urlencoded")],
            b"grant_type=password&username=a%40b.c&password=p%26w&scope=a&scope=b",
        );
        assert_eq!(Form.priority(&msg), 0.3);
        let d = Form.decode(&msg, &cx(&trust)).unwrap();
        let pw = d.root.child("password").unwrap();
        assert_eq!((pw.kind, pw.value.as_deref()), (Kind::Secret, Some("p&w")));
        assert_eq!(
            d.root.child("username").unwrap().value.as_deref(),
            Some("a@b.c")
        );
        assert!(d.has_finding("`scope` is repeated"));
    }

    #[test]
    fn padded_base64_is_not_sniffed_as_a_form() {
        assert!(!sniffs_as_form(b"eyJhIjoxfQ=="));
        assert!(sniffs_as_form(b"a=1&b=2"));
    }
}
