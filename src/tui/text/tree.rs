//! The Decoded tab's lines: a flow's decoder outcomes flattened ([`lines`]) — one heading per
//! side and decoder, its findings, then its view tree with fold markers. `App::update` flattens
//! when the flow is opened or a node is folded; drawing only reads the lines. Secret values are
//! masked unless revealed.

use std::collections::HashSet;

use idscope_decoders::{Kind, Node, Outcome, Severity};

use crate::analysis::FlowReport;

/// A node's address: side (0 request, 1 response), outcome index, then child indices.
pub type NodePath = Vec<u32>;

/// What a tree line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// "request" / "response" heading.
    Side,
    /// A decoder's heading with its summary.
    Decoder,
    /// A decoder that did not apply, with its error.
    Failed,
    /// A finding.
    Finding(Severity),
    /// A node of the view tree.
    Node(Kind),
    /// A continuation line of a multi-line value.
    More,
}

/// One line of the Decoded tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    /// Indentation level.
    pub depth: u16,
    /// What it is.
    pub kind: LineKind,
    /// The label (or heading text).
    pub label: String,
    /// The value as shown (masked when it is a hidden secret).
    pub shown: Option<String>,
    /// The value to copy; `None` when there is none or it is masked.
    pub value: Option<String>,
    /// True when `shown` is a mask over a secret.
    pub masked: bool,
    /// The explanation.
    pub note: Option<String>,
    /// The node's address, for folding.
    pub path: Option<NodePath>,
    /// True when the node has children.
    pub has_children: bool,
    /// True when those children are hidden.
    pub folded: bool,
}

impl TreeLine {
    fn plain_line(depth: u16, kind: LineKind, label: String) -> Self {
        TreeLine {
            depth,
            kind,
            label,
            shown: None,
            value: None,
            masked: false,
            note: None,
            path: None,
            has_children: false,
            folded: false,
        }
    }

    /// The line as plain text (search, tests).
    pub fn plain(&self) -> String {
        let mut s = "  ".repeat(usize::from(self.depth));
        if self.has_children {
            s.push_str(if self.folded { "▸ " } else { "▾ " });
        }
        s.push_str(&self.label);
        if let Some(v) = &self.shown {
            if self.kind == LineKind::More {
                s.push_str(v);
            } else {
                s.push_str(": ");
                s.push_str(v);
            }
        }
        if let Some(n) = &self.note {
            s.push_str("  — ");
            s.push_str(n);
        }
        s
    }
}

/// Lines shown for one multi-line value at most.
const MAX_VALUE_LINES: usize = 400;

/// Flattens a report into lines, skipping the children of folded nodes.
pub fn lines(report: &FlowReport, folded: &HashSet<NodePath>, reveal: bool) -> Vec<TreeLine> {
    let mut out = Vec::new();
    for f in &report.flow_findings {
        out.push(TreeLine::plain_line(
            0,
            LineKind::Finding(f.severity),
            format!("[{}] {}", f.severity, f.message),
        ));
    }
    for (side, name, outs) in [
        (0u32, "request", &report.request),
        (1u32, "response", &report.response),
    ] {
        if outs.is_empty() {
            continue;
        }
        out.push(TreeLine::plain_line(0, LineKind::Side, name.to_string()));
        for (i, o) in outs.iter().enumerate() {
            outcome_lines(&mut out, side, i as u32, o, folded, reveal);
        }
    }
    if out.is_empty() {
        out.push(TreeLine::plain_line(
            0,
            LineKind::Failed,
            "no decoder applies to this flow".into(),
        ));
    }
    out
}

fn outcome_lines(
    out: &mut Vec<TreeLine>,
    side: u32,
    i: u32,
    o: &Outcome,
    folded: &HashSet<NodePath>,
    reveal: bool,
) {
    match &o.result {
        Err(e) => out.push(TreeLine::plain_line(
            1,
            LineKind::Failed,
            format!("[{}] does not apply: {e}", o.decoder),
        )),
        Ok(d) => {
            out.push(TreeLine::plain_line(
                1,
                LineKind::Decoder,
                format!("[{}] {}", d.decoder, d.summary),
            ));
            for f in &d.findings {
                let at =
                    f.at.as_deref()
                        .map(|a| format!(" (at {a})"))
                        .unwrap_or_default();
                out.push(TreeLine::plain_line(
                    2,
                    LineKind::Finding(f.severity),
                    format!("[{}] {}{at}", f.severity, f.message),
                ));
            }
            let mut path = vec![side, i];
            node_lines(out, &d.root, 2, &mut path, folded, reveal);
        }
    }
}

fn node_lines(
    out: &mut Vec<TreeLine>,
    n: &Node,
    depth: u16,
    path: &mut NodePath,
    folded: &HashSet<NodePath>,
    reveal: bool,
) {
    let is_folded = folded.contains(path);
    let masked = n.kind == Kind::Secret && !reveal && n.value.is_some();
    let shown = n.value.as_ref().map(|v| {
        if masked {
            idscope_decoders::secrets::mask(v)
        } else {
            v.lines().next().unwrap_or("").to_string()
        }
    });
    out.push(TreeLine {
        depth,
        kind: LineKind::Node(n.kind),
        label: n.label.clone(),
        shown,
        value: if masked { None } else { n.value.clone() },
        masked,
        note: n.note.clone(),
        path: Some(path.clone()),
        has_children: !n.children.is_empty(),
        folded: is_folded,
    });
    if !masked && let Some(v) = &n.value {
        let extra: Vec<&str> = v.lines().skip(1).collect();
        for l in extra.iter().take(MAX_VALUE_LINES) {
            let mut t = TreeLine::plain_line(depth + 1, LineKind::More, "│ ".into());
            t.shown = Some((*l).to_string());
            out.push(t);
        }
        if extra.len() > MAX_VALUE_LINES {
            let mut t = TreeLine::plain_line(depth + 1, LineKind::More, "│ ".into());
            t.shown = Some(format!("… {} more lines", extra.len() - MAX_VALUE_LINES));
            out.push(t);
        }
    }
    if is_folded {
        return;
    }
    for (ci, c) in n.children.iter().enumerate() {
        path.push(ci as u32);
        node_lines(out, c, depth + 1, path, folded, reveal);
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowId;
    use idscope_decoders::{DecodeError, Decoded, Finding};

    fn report() -> FlowReport {
        let root = Node::section("form")
            .with_child(Node::field("grant_type", "password"))
            .with_child(Node::secret("password", "hunter2"))
            .with_child(Node::section("claims").with_child(Node::leaf(
                "xml",
                "<a>\n  <b/>\n</a>",
                Kind::Markup,
            )));
        FlowReport {
            id: FlowId(0),
            request: vec![
                Outcome {
                    decoder: "oauth",
                    priority: 1.0,
                    result: Ok(Decoded::new("oauth", "ROPC", root)
                        .with_finding(Finding::warning("password in clear").at("form/password"))),
                },
                Outcome {
                    decoder: "jwt",
                    priority: 0.1,
                    result: Err(DecodeError::Missing("token")),
                },
            ],
            response: vec![],
            flow_findings: vec![],
        }
    }

    fn texts(lines: &[TreeLine]) -> Vec<String> {
        lines.iter().map(TreeLine::plain).collect()
    }

    #[test]
    fn secrets_are_masked_until_revealed_and_cannot_be_copied_masked() {
        let masked = lines(&report(), &HashSet::new(), false);
        let pw = masked.iter().find(|l| l.label == "password").unwrap();
        assert_eq!(pw.shown.as_deref(), Some("«secret: 7 chars»"));
        assert!(pw.masked && pw.value.is_none());
        let shown = lines(&report(), &HashSet::new(), true);
        let pw = shown.iter().find(|l| l.label == "password").unwrap();
        assert_eq!(pw.value.as_deref(), Some("hunter2"));
    }

    #[test]
    fn folding_hides_children_and_multi_line_values_continue_below() {
        let all = texts(&lines(&report(), &HashSet::new(), false));
        assert_eq!(
            all,
            vec![
                "request",
                "  [oauth] ROPC",
                "    [warning] password in clear (at form/password)",
                "    ▾ form",
                "      grant_type: password",
                "      password: «secret: 7 chars»",
                "      ▾ claims",
                "        xml: <a>",
                "          │   <b/>",
                "          │ </a>",
                "  [jwt] does not apply: missing field `token`",
            ]
        );
        let folded: HashSet<NodePath> = [vec![0, 0]].into_iter().collect();
        let few = texts(&lines(&report(), &folded, false));
        assert_eq!(few[3], "    ▸ form");
        assert_eq!(few.len(), 5);
    }
}
