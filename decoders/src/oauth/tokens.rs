//! Nodes for credentials that both token requests and token responses carry: a JWT credential
//! explained as the children of its secret node, a refresh token (opaque, never parsed), and the
//! well-known-app note on an app id.
//!
//! It is *not* responsible for deciding which fields are credentials.

use crate::Context;
use crate::jwt::{self, Role};
use crate::view::{Finding, Kind, Node};

pub(super) fn with_app_note(mut n: Node, id: &str) -> Node {
    if let Some(name) = jwt::well_known_app(id) {
        let note = match n.note.take() {
            Some(note) => format!("{note}; well-known: {name}"),
            None => format!("well-known: {name}"),
        };
        n.note = Some(note);
    }
    n
}

/// A credential that is a JWT: a secret node whose children are the explained token; the
/// token's findings are re-rooted under this node's path.
pub(super) fn nested_jwt(
    label: &str,
    value: &str,
    role: Role,
    note: &str,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    nested_jwt_token(label, value, role, note, parent, cx, findings).0
}

/// [`nested_jwt`], with the parsed token when the value is one (not when it was redacted).
pub(super) fn nested_jwt_token(
    label: &str,
    value: &str,
    role: Role,
    note: &str,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (Node, Option<jwt::Token>) {
    if let Some(n) = crate::secrets::redacted_node(label, value) {
        return (n, None);
    }
    let path = format!("{parent}/{label}");
    let mut node = Node::secret(label, value);
    let mut parsed = None;
    match jwt::parse_limited(value, &cx.limits) {
        Ok(token) => {
            let d = jwt::explain_as(&token, cx, role);
            node.note = Some(format!(
                "{note}; {} ({} chars)",
                jwt::brief(&token, cx),
                value.len()
            ));
            node.children = d.root.children;
            findings.extend(d.findings.into_iter().map(|mut f| {
                f.at = Some(match f.at.take() {
                    Some(a) => format!("{path}/{a}"),
                    None => path.clone(),
                });
                f
            }));
            parsed = Some(token);
        }
        Err(e) => {
            node.note = Some(format!("{note}; not a JWT ({} chars)", value.len()));
            node.push(Node::leaf("decode", e.to_string(), Kind::Error));
            findings.push(Finding::warning(format!("{label} is not a JWT: {e}")).at(path));
        }
    }
    (node, parsed)
}

pub(super) fn refresh_token_node(v: &str, is_prt: bool) -> Node {
    let segments = v.split('.').count();
    let mut note = format!(
        "opaque to the client ({} chars): never parsed as a JWT",
        v.chars().count()
    );
    if is_prt {
        note.push_str("; with token_type pop this is the Primary Refresh Token (PRT)");
    }
    if segments == 5 {
        note.push_str(
            "; 5 dot-separated segments: an encrypted JWE-style blob only Entra ID can read",
        );
    } else if v.starts_with("0.A") {
        note.push_str("; \"0.A…\" is Entra ID's opaque refresh-token format");
    }
    Node::secret("refresh_token", v).with_note(note)
}
