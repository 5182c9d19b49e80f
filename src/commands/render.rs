//! Text rendering of decoder output for the command line: decoded trees as indented text,
//! findings as tagged lines, stories with their steps and checks, and secret masking (values of
//! `Kind::Secret` nodes become `«secret: N chars»` unless the user asked to see them). The TUI
//! has its own rendering; both read the same view tree, and the lines of stories come from
//! [`crate::analysis::story_text`] for both.

use std::fmt::Write as _;

use idscope_decoders::secrets;
use idscope_decoders::{Decoded, Finding, Node, Outcome};

use crate::analysis::story::{Story, Verdict};
use crate::analysis::story_text;

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

/// Stories listed in the text report; the rest are counted (`--json` lists them all).
const STORIES_LISTED: usize = 200;
/// Steps, and checks, listed in order per story; beyond them only failed ones are listed.
const IN_ORDER: usize = 40;
/// Failed steps, and failed checks, listed beyond the first [`IN_ORDER`].
const MORE_FAILURES: usize = 100;
/// The width of the step labels' column.
const LABEL_WIDTH: usize = 60;

/// Writes the Stories section: each story's kind and counts, its steps (a failed one with ✗ and
/// why) and its checks (✓ / ✗ / ? with the values compared and their flows).
pub fn write_stories(out: &mut String, stories: &[Story]) {
    if stories.is_empty() {
        let _ = writeln!(
            out,
            "Stories: none (no sync cycle, federated sign-in, cloud sync or PRT SSO recognised)"
        );
        return;
    }
    let _ = writeln!(out, "Stories ({}):", stories.len());
    for s in stories.iter().take(STORIES_LISTED) {
        let _ = writeln!(out, "  {}: {}", s.kind.title(), story_text::counts(s));
        let (steps, hidden) = listed(&s.steps, |st| st.failed.is_some());
        for st in steps {
            let _ = writeln!(out, "    {}", story_text::step_line(st, LABEL_WIDTH, ""));
        }
        if hidden > 0 {
            let _ = writeln!(out, "           … and {hidden} more steps");
        }
        let (checks, hidden) = listed(&s.checks, |c| c.verdict == Verdict::Fail);
        for c in checks {
            let _ = writeln!(out, "    {}", story_text::check_line(c));
        }
        if hidden > 0 {
            let _ = writeln!(out, "    … and {hidden} more checks");
        }
    }
    if stories.len() > STORIES_LISTED {
        let _ = writeln!(
            out,
            "  … and {} more stories (idscope analyze --json lists them all)",
            stories.len() - STORIES_LISTED
        );
    }
}

/// The first [`IN_ORDER`] items, then up to [`MORE_FAILURES`] of the rest that `failed`, and how
/// many are left out.
fn listed<T>(items: &[T], failed: impl Fn(&T) -> bool) -> (Vec<&T>, usize) {
    let (head, rest) = items.split_at(items.len().min(IN_ORDER));
    let shown: Vec<&T> = head
        .iter()
        .chain(rest.iter().filter(|t| failed(t)).take(MORE_FAILURES))
        .collect();
    let hidden = items.len() - shown.len();
    (shown, hidden)
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

    #[test]
    fn long_stories_list_the_first_steps_then_the_failed_ones() {
        use crate::analysis::story::{Step, StoryKind};
        use crate::flow::FlowId;
        let steps = (0..300u64)
            .map(|i| Step {
                id: FlowId(i),
                label: format!("step {i}"),
                failed: (i == 250).then(|| "HTTP 500".to_string()),
            })
            .collect();
        let s = Story {
            kind: StoryKind::SyncCycle,
            steps,
            checks: vec![],
        };
        let mut out = String::new();
        write_stories(&mut out, &[s]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Stories (1):");
        assert_eq!(
            lines[1],
            "  sync cycle: 300 steps (#1–#300, 1 failed); no checks apply"
        );
        assert_eq!(lines[2], "        #1  step 0");
        assert_eq!(lines[42], "      #251  step 250  ✗ HTTP 500");
        assert_eq!(lines[43], "           … and 259 more steps");
        assert_eq!(lines.len(), 44);
    }
}
