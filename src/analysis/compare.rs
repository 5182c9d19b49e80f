//! Structural comparison of decoded trees: what `idscope replay` uses to say whether an answer
//! matches the recorded one, and what `idscope diff` and the TUI's `=` show claim by claim.
//!
//! A tree ([`idscope_decoders::Node`]) is flattened into [`Leaf`]s, one per node, each named by
//! its **path**: the node labels from the root joined by `/`, a label that occurs more than once
//! among its siblings suffixed with its 0-based position among them (`schemas/urn[1]`). Two
//! flattened trees are compared path by path ([`diff`]); a node present on one side only is one
//! difference (its descendants are not listed again).
//!
//! **Volatile values** are left out of the comparison unless asked for ([`Rules::all`]): values
//! that differ on every run by design. The built-in list is [`VOLATILE`] (times, IDs, nonces,
//! token, signature and key bytes, keyed by claim or element name), plus every node of kind
//! [`Kind::Secret`] (its own value; its children — the claims of a token — are still compared)
//! and every node of kind [`Kind::Timestamp`]. `--ignore PATTERN` adds patterns.
//!
//! **Pattern syntax** (for [`VOLATILE`] and `--ignore`): segments separated by `/`; `*` inside a
//! segment matches any characters of that segment, a `**` segment matches any number of
//! segments; matching is case-insensitive; a pattern segment without `[` also matches a path
//! segment's label without its `[n]` position and without its namespace prefix (`Assertion`
//! matches `saml:Assertion[1]`). A pattern is anchored at the end of a path prefix and may start
//! anywhere (an implicit leading `**/`) and ends at the node it names: `nonce` ignores every node
//! labelled `nonce`, `claims/upn` the `upn` claim of every token; a trailing `/**` also ignores
//! everything under that node (`Signature/**`, `scim/User/meta/**`).

use idscope_decoders::registry::GENERIC;
use idscope_decoders::util::clip;
use idscope_decoders::{Decoded, Kind, Node, Outcome};
use serde::Serialize;

/// Built-in volatile names and patterns (see the module documentation for the syntax).
pub const VOLATILE: &[&str] = &[
    // Times.
    "iat",
    "nbf",
    "exp",
    "auth_time",
    "expires_in",
    "ext_expires_in",
    "expires_on",
    "not_before",
    "refresh_token_expires_in",
    "IssueInstant",
    "AuthenticationInstant",
    "AuthnInstant",
    "NotBefore",
    "NotOnOrAfter",
    "SessionNotOnOrAfter",
    "Created",
    "Expires",
    "Lifetime",
    "lastModified",
    "Timestamp",
    "date",
    "not before",
    "not after",
    // IDs.
    "jti",
    "uti",
    "rh",
    "aio",
    "sid",
    "id",
    "ID",
    "AssertionID",
    "ResponseID",
    "MessageID",
    "RelatesTo",
    "correlation_id",
    "trace_id",
    "client-request-id",
    "x-ms-request-id",
    "request-id",
    "TrackingId",
    "CloudAnchor",
    "oid",
    "sub",
    // Nonces.
    "nonce",
    "Nonce",
    "sso_nonce",
    "request_nonce",
    "ctx",
    // Token, signature and key bytes.
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "session_key_jwe",
    "BearerToken",
    "wresult",
    "deltaToken/**",
    "KeyIdentifier",
    "Signature/**",
    "SignatureValue",
    "DigestValue",
    "X509Certificate",
    "signature",
    "kid",
    "x5t",
    "verification",
    "verdict",
    "thumbprint*",
    "sha256",
    "serial",
];

/// One node of a flattened tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Labels from the root, `/`-joined, duplicates suffixed `[n]`.
    pub path: String,
    /// The node's value (`None` for a pure section).
    pub value: Option<String>,
    /// The node's kind.
    pub kind: Kind,
}

/// Flattens `root` (and its descendants) into leaves, the root's own label first in every path,
/// optionally under `prefix`.
pub fn flatten(root: &Node, prefix: &str) -> Vec<Leaf> {
    fn go(n: &Node, path: &str, out: &mut Vec<Leaf>) {
        out.push(Leaf {
            path: path.to_string(),
            value: n.value.clone(),
            kind: n.kind,
        });
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for c in &n.children {
            let total = n.children.iter().filter(|x| x.label == c.label).count();
            let idx = match seen.iter_mut().find(|(l, _)| *l == c.label) {
                Some((_, i)) => {
                    *i += 1;
                    *i
                }
                None => {
                    seen.push((&c.label, 0));
                    0
                }
            };
            let seg = if total > 1 {
                format!("{}[{idx}]", c.label)
            } else {
                c.label.clone()
            };
            go(c, &format!("{path}/{seg}"), out);
        }
    }
    let start = if prefix.is_empty() {
        root.label.clone()
    } else {
        format!("{prefix}/{}", root.label)
    };
    let mut out = Vec::new();
    go(root, &start, &mut out);
    out
}

/// A path pattern (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segs: Vec<String>,
    subtree: bool,
}

impl Pattern {
    /// Parses a pattern; empty patterns and empty segments are refused.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let t = text.trim().trim_matches('/');
        if t.is_empty() {
            return Err(format!("empty path pattern {text:?}"));
        }
        let mut segs: Vec<String> = t.split('/').map(|s| s.to_ascii_lowercase()).collect();
        if segs.iter().any(String::is_empty) {
            return Err(format!("empty segment in path pattern {text:?}"));
        }
        // `a/**`: `a` and everything under it.
        let mut subtree = false;
        while segs.len() > 1 && segs.last().is_some_and(|s| s == "**") {
            segs.pop();
            subtree = true;
        }
        Ok(Pattern {
            text: text.to_string(),
            segs,
            subtree,
        })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the pattern matches `path` (or, for `…/**`, one of its ancestors).
    pub fn matches(&self, path: &str) -> bool {
        let segs: Vec<String> = path.split('/').map(|s| s.to_ascii_lowercase()).collect();
        let n = segs.len();
        // An implicit leading `**`: try every start; the pattern ends at the node itself, or
        // for a subtree pattern at any ancestor.
        (0..n).any(|start| {
            let ends = if self.subtree { start..=n } else { n..=n };
            ends.into_iter().any(|end| {
                segs.get(start..end)
                    .is_some_and(|window| match_segs(&self.segs, window))
            })
        })
    }
}

fn match_segs(pat: &[String], segs: &[String]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((p, rest)) if p == "**" => {
            (0..=segs.len()).any(|k| segs.get(k..).is_some_and(|tail| match_segs(rest, tail)))
        }
        Some((p, rest)) => match segs.split_first() {
            Some((s, tail)) => seg_matches(p, s) && match_segs(rest, tail),
            None => false,
        },
    }
}

/// One pattern segment against one path segment: the whole segment, or (for patterns without
/// `[`) the label without its `[n]` position and without its namespace prefix.
fn seg_matches(p: &str, s: &str) -> bool {
    if glob(p, s) {
        return true;
    }
    if p.contains('[') {
        return false;
    }
    let bare = match s.rfind('[') {
        Some(i) if s.ends_with(']') => s.get(..i).unwrap_or(s),
        _ => s,
    };
    // An attribute (`@AssertionID`) matches by its name.
    let bare = bare.strip_prefix('@').unwrap_or(bare);
    if glob(p, bare) {
        return true;
    }
    match bare.split_once(':') {
        Some((prefix, local)) if !prefix.contains(' ') && !local.is_empty() => glob(p, local),
        _ => false,
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob(p: &str, s: &str) -> bool {
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == s;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = rest.get(pos + part.len()..).unwrap_or("");
        } else {
            return false;
        }
    }
    true
}

/// Which differences count.
#[derive(Debug, Clone)]
pub struct Rules {
    patterns: Vec<Pattern>,
    user: Vec<Pattern>,
    /// Report volatile differences too (marked as such).
    pub all: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            patterns: VOLATILE
                .iter()
                .filter_map(|p| Pattern::parse(p).ok())
                .collect(),
            user: Vec::new(),
            all: false,
        }
    }
}

impl Rules {
    /// The built-in rules plus `--ignore` patterns.
    pub fn with_ignores(ignores: &[String]) -> Result<Rules, String> {
        let mut r = Rules::default();
        for i in ignores {
            r.user.push(Pattern::parse(i)?);
        }
        Ok(r)
    }

    /// True when a difference at `path` on a node of `kind` is volatile.
    pub fn is_volatile(&self, path: &str, kind: Kind) -> bool {
        matches!(kind, Kind::Secret | Kind::Timestamp)
            || self
                .patterns
                .iter()
                .chain(&self.user)
                .any(|p| p.matches(path))
    }
}

/// One difference between two flattened trees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Where.
    pub path: String,
    /// The value on the first (recorded) side; `None` when the node is absent there.
    pub left: Option<String>,
    /// The value on the second (replayed) side; `None` when absent there.
    pub right: Option<String>,
    /// True when the node is a section (no value) on the side(s) where it exists.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub section: bool,
    /// True when the rules call this difference volatile (only reported with [`Rules::all`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub volatile: bool,
}

impl Difference {
    /// `a ≠ b` for display, secrets and long values shortened.
    pub fn describe(&self) -> String {
        let show = |v: &Option<String>| match v {
            None => "(absent)".to_string(),
            Some(s) => format!("{:?}", clip(s, 60)),
        };
        format!(
            "{}: {} ≠ {}",
            self.path,
            show(&self.left),
            show(&self.right)
        )
    }
}

/// Compares two flattened trees. `normalize` maps a right-hand value before comparing (replay
/// uses it to undo server-issued values it correlated). Differences come in left order, then
/// right-only nodes.
pub fn diff(
    left: &[Leaf],
    right: &[Leaf],
    rules: &Rules,
    normalize: &dyn Fn(&str) -> String,
) -> Vec<Difference> {
    use std::collections::HashMap;
    let rmap: HashMap<&str, &Leaf> = right.iter().map(|l| (l.path.as_str(), l)).collect();
    let lmap: HashMap<&str, &Leaf> = left.iter().map(|l| (l.path.as_str(), l)).collect();
    let mut out = Vec::new();
    let mut skip_under: Option<String> = None;
    let under = |skip: &Option<String>, p: &str| {
        skip.as_deref().is_some_and(|s| {
            p.starts_with(s) && p.get(s.len()..).is_some_and(|t| t.starts_with('/'))
        })
    };
    for l in left {
        if under(&skip_under, &l.path) {
            continue;
        }
        skip_under = None;
        let volatile = rules.is_volatile(&l.path, l.kind);
        match rmap.get(l.path.as_str()) {
            None => {
                skip_under = Some(l.path.clone());
                if volatile && !rules.all {
                    continue;
                }
                out.push(Difference {
                    path: l.path.clone(),
                    left: l.value.clone(),
                    right: None,
                    section: l.value.is_none(),
                    volatile,
                });
            }
            Some(r) => {
                let volatile = volatile || rules.is_volatile(&r.path, r.kind);
                let rv = r.value.as_deref().map(normalize);
                if l.value.as_deref() != rv.as_deref() && (!volatile || rules.all) {
                    out.push(Difference {
                        path: l.path.clone(),
                        left: l.value.clone(),
                        right: r.value.clone(),
                        section: false,
                        volatile,
                    });
                }
            }
        }
    }
    let mut skip_under: Option<String> = None;
    for r in right {
        if under(&skip_under, &r.path) {
            continue;
        }
        skip_under = None;
        if lmap.contains_key(r.path.as_str()) {
            continue;
        }
        skip_under = Some(r.path.clone());
        let volatile = rules.is_volatile(&r.path, r.kind);
        if volatile && !rules.all {
            continue;
        }
        out.push(Difference {
            path: r.path.clone(),
            left: None,
            right: r.value.clone(),
            section: r.value.is_none(),
            volatile,
        });
    }
    out
}

/// Section headings and explanatory text summarise other nodes, which are compared themselves:
/// only their presence counts.
pub fn comparable(mut leaves: Vec<Leaf>) -> Vec<Leaf> {
    for l in &mut leaves {
        if matches!(l.kind, Kind::Section | Kind::Text | Kind::Markup) {
            l.value = None;
        }
    }
    leaves
}

/// The trees worth comparing among one side's decoder outcomes: those of the specific decoders
/// that understood it, or else the first generic one's.
pub fn best(outs: &[Outcome]) -> Vec<&Decoded> {
    let ok: Vec<&Decoded> = outs.iter().filter_map(|o| o.result.as_ref().ok()).collect();
    let specific: Vec<&Decoded> = ok
        .iter()
        .copied()
        .filter(|d| !GENERIC.contains(&d.decoder))
        .collect();
    if specific.is_empty() {
        ok.into_iter().take(1).collect()
    } else {
        specific
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(upn: &str, iat: &str) -> Node {
        Node::section("jwt").with_child(
            Node::section("claims")
                .with_child(Node::field("upn", upn))
                .with_child(Node::leaf("iat", iat, Kind::Number))
                .with_child(Node::field("jti", iat)),
        )
    }

    #[test]
    fn patterns_match_names_anywhere_and_cover_subtrees_when_asked() {
        let p = Pattern::parse("Assertion").unwrap();
        assert!(!p.matches("page/t:RSTR/saml:Assertion/Issuer"));
        assert!(p.matches("page/t:RSTR/saml:Assertion"));
        assert!(p.matches("x/saml:Assertion[1]"));
        assert!(
            Pattern::parse("AssertionID")
                .unwrap()
                .matches("a/saml:Assertion/@AssertionID")
        );
        let p = Pattern::parse("Assertion/**").unwrap();
        assert!(p.matches("page/t:RSTR/saml:Assertion/Issuer"));
        assert!(!p.matches("x/AssertionID"));
        let p = Pattern::parse("claims/upn").unwrap();
        assert!(p.matches("token response/access_token/claims/upn"));
        assert!(!p.matches("token response/access_token/claims/oid"));
        let p = Pattern::parse("scim/**/meta/**").unwrap();
        assert!(p.matches("scim/User/meta/created"));
        assert!(!p.matches("other/User/meta/created"));
        let p = Pattern::parse("thumbprint*").unwrap();
        assert!(p.matches("sig/KeyInfo certificate 1/thumbprint (SHA-1)"));
        assert!(Pattern::parse("a//b").is_err());
        assert!(Pattern::parse(" ").is_err());
    }

    #[test]
    fn only_the_differing_claim_is_reported_and_volatile_ones_are_left_out() {
        let a = flatten(&token("alice@x", "1"), "");
        let b = flatten(&token("bob@x", "2"), "");
        let rules = Rules::default();
        let d = diff(&a, &b, &rules, &|s| s.to_string());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].path, "jwt/claims/upn");
        assert_eq!(d[0].left.as_deref(), Some("alice@x"));
        assert_eq!(d[0].right.as_deref(), Some("bob@x"));
        let all = Rules {
            all: true,
            ..Rules::default()
        };
        let d = diff(&a, &b, &all, &|s| s.to_string());
        let paths: Vec<&str> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            ["jwt/claims/upn", "jwt/claims/iat", "jwt/claims/jti"]
        );
        assert!(d[1].volatile && !d[0].volatile);
    }

    #[test]
    fn user_ignores_and_duplicate_labels_and_absent_subtrees() {
        let a = Node::section("r")
            .with_child(Node::field("urn", "one"))
            .with_child(Node::field("urn", "two"))
            .with_child(Node::section("gone").with_child(Node::field("x", "1")));
        let b = Node::section("r")
            .with_child(Node::field("urn", "one"))
            .with_child(Node::field("urn", "three"));
        let (fa, fb) = (flatten(&a, ""), flatten(&b, ""));
        assert_eq!(fa[2].path, "r/urn[1]");
        let d = diff(&fa, &fb, &Rules::default(), &|s| s.to_string());
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].path, "r/urn[1]");
        assert_eq!(d[1].path, "r/gone");
        assert_eq!(d[1].right, None);
        let rules = Rules::with_ignores(&["urn".into(), "r/gone".into()]).unwrap();
        assert!(diff(&fa, &fb, &rules, &|s| s.to_string()).is_empty());
    }

    #[test]
    fn normalisation_undoes_correlated_values() {
        let a = flatten(
            &Node::section("r").with_child(Node::field("loc", "/Users/old")),
            "",
        );
        let b = flatten(
            &Node::section("r").with_child(Node::field("loc", "/Users/new")),
            "",
        );
        let d = diff(&a, &b, &Rules::default(), &|s| s.replace("new", "old"));
        assert!(d.is_empty());
    }
}
