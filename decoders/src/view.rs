//! The view tree every decoder returns: [`Decoded`] (a summary line, a tree of [`Node`]s and the
//! [`Finding`]s), UI-agnostic and `Serialize` so the TUI, `analyze --json`, redaction and golden
//! tests all read the same structure. This module knows nothing about how a tree is drawn.

use serde::Serialize;

/// The result of one decoder applied to one message or blob.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    /// Stable id of the decoder that produced this (`"jwt"`, `"oauth"`, …).
    pub decoder: &'static str,
    /// One line for the flow list: `"JWT RS256 sub=alice exp in 5m"`.
    pub summary: String,
    /// The explained tree.
    pub root: Node,
    /// What a careful reader should notice: expired tokens, `alg: none`, unknown codes …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl Decoded {
    /// A decode result with no findings yet.
    pub fn new(decoder: &'static str, summary: impl Into<String>, root: Node) -> Self {
        Decoded {
            decoder,
            summary: summary.into(),
            root,
            findings: Vec::new(),
        }
    }

    /// Adds a finding (builder style).
    pub fn with_finding(mut self, finding: Finding) -> Self {
        self.findings.push(finding);
        self
    }

    /// Whether any finding's message contains `text`.
    pub fn has_finding(&self, text: &str) -> bool {
        self.findings.iter().any(|f| f.message.contains(text))
    }

    /// The worst severity among the findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// What a node is, for styling and for redaction. Never a UI type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A heading that groups children ("header", "claims", "saml:Assertion").
    Section,
    /// A named value.
    Field,
    /// Free text: an explanation, a description.
    Text,
    /// A number.
    Number,
    /// A point in time (the value already rendered as a date).
    Timestamp,
    /// A credential or secret: masked unless the user reveals it, removed by redaction.
    Secret,
    /// Markup (pretty-printed XML/HTML).
    Markup,
    /// Something that failed to decode.
    Error,
}

/// One node of the view tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// What this is: `"alg"`, `"claims"`, `"code_challenge"`.
    pub label: String,
    /// The value, rendered for humans; `None` for pure sections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Styling and redaction hint.
    pub kind: Kind,
    /// A short explanation of what the label or value means (claim meanings, error codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Child nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    /// A section with no value.
    pub fn section(label: impl Into<String>) -> Self {
        Node {
            label: label.into(),
            value: None,
            kind: Kind::Section,
            note: None,
            children: vec![],
        }
    }

    /// A named value of kind [`Kind::Field`].
    pub fn field(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self::leaf(label, value, Kind::Field)
    }

    /// A named value of the given kind.
    pub fn leaf(label: impl Into<String>, value: impl Into<String>, kind: Kind) -> Self {
        Node {
            label: label.into(),
            value: Some(value.into()),
            kind,
            note: None,
            children: vec![],
        }
    }

    /// A secret value (password, refresh token, signature bytes): masked by default in every view.
    pub fn secret(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self::leaf(label, value, Kind::Secret)
    }

    /// An explanatory text line.
    pub fn text(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self::leaf(label, value, Kind::Text)
    }

    /// Sets the explanation (builder style).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Appends a child (builder style).
    pub fn with_child(mut self, child: Node) -> Self {
        self.children.push(child);
        self
    }

    /// Appends children (builder style).
    pub fn with_children(mut self, children: impl IntoIterator<Item = Node>) -> Self {
        self.children.extend(children);
        self
    }

    /// Appends a child in place.
    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }

    /// The first direct child with this label.
    pub fn child(&self, label: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.label == label)
    }

    /// Depth-first walk over this node and all descendants, with the path of labels from the root
    /// (joined by `/`).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Node)) {
        fn go<'a>(n: &'a Node, path: &mut String, f: &mut dyn FnMut(&str, &'a Node)) {
            let len = path.len();
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(&n.label);
            f(path, n);
            for c in &n.children {
                go(c, path, f);
            }
            path.truncate(len);
        }
        let mut path = String::new();
        go(self, &mut path, f);
    }

    /// Finds the first node (depth-first) whose path from the root ends with `suffix`
    /// (e.g. `"claims/upn"`).
    pub fn find_path(&self, suffix: &str) -> Option<&Node> {
        let mut found = None;
        self.walk(&mut |path, n| {
            if found.is_none() && (path == suffix || path.ends_with(&format!("/{suffix}"))) {
                found = Some(n);
            }
        });
        found
    }
}

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (a token verified, a federation redirect).
    Info,
    /// Suspicious or likely to cause trouble (expiring soon, unsigned id_token).
    Warning,
    /// Broken or dangerous (expired, `alg: none` on an access token, bad signature, malformed input).
    Error,
}

impl Severity {
    /// Lowercase name, as used by `~finding SEVERITY` and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a decoder wants the reader to notice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// What was noticed, in a sentence.
    pub message: String,
    /// Where: a node label path (`"claims/exp"`), if it concerns one node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Finding {
    /// A finding of any severity.
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            severity,
            message: message.into(),
            at: None,
        }
    }
    /// An informational finding.
    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message)
    }
    /// A warning.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }
    /// An error.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }
    /// Sets where the finding points (builder style).
    pub fn at(mut self, at: impl Into<String>) -> Self {
        self.at = Some(at.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_path_matches_suffix_of_label_path() {
        let root = Node::section("jwt")
            .with_child(Node::section("claims").with_child(Node::field("upn", "a@b")));
        assert_eq!(
            root.find_path("claims/upn")
                .and_then(|n| n.value.as_deref()),
            Some("a@b")
        );
        assert!(root.find_path("header/upn").is_none());
    }

    #[test]
    fn severity_orders_info_below_error() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        let d = Decoded::new("x", "s", Node::section("x"))
            .with_finding(Finding::warning("w"))
            .with_finding(Finding::error("e"));
        assert_eq!(d.worst(), Some(Severity::Error));
    }
}
