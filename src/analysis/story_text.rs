//! Stories as text, the same in `analyze`'s Stories section and in the TUI's Story tab: the mark
//! of a check's verdict (✓ / ✗ / ?), a check's line, a step's line (a failed step ends with ✗
//! and the reason) and a story's counts. Each front end arranges the lines and styles them by
//! [`Mood`]; the words are built here once.

use super::story::{Check, Step, Story, Verdict};
use idscope_decoders::util::clip;

/// How a line reads, for front ends that colour their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    /// Nothing to say.
    Plain,
    /// A passing check.
    Good,
    /// A failed check or step.
    Bad,
    /// A check the capture cannot decide.
    Unsure,
}

/// `✓`, `✗` or `?`.
pub fn verdict_mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✓",
        Verdict::Fail => "✗",
        Verdict::Unknown => "?",
    }
}

/// The mood of a check.
pub fn verdict_mood(v: Verdict) -> Mood {
    match v {
        Verdict::Pass => Mood::Good,
        Verdict::Fail => Mood::Bad,
        Verdict::Unknown => Mood::Unsure,
    }
}

/// `✗ ImmutableID in the SAML (#12: AAEC…) ≠ SourceAnchor provisioned (#7: BBFD…)`.
pub fn check_line(c: &Check) -> String {
    format!("{} {}", verdict_mark(c.verdict), c.message)
}

/// `   #12  ADFS forms login at sts.contoso.test …  {tail}`: the flow, its label in a column of
/// `width`, then `tail`; a failed step ends with `✗ ` and why it failed.
pub fn step_line(step: &Step, width: usize, tail: &str) -> String {
    let mut line = format!(
        "{:>6}  {:<width$} {tail}",
        step.id.to_string(),
        clip(&step.label, width)
    );
    if let Some(why) = &step.failed {
        let kept = line.trim_end().len();
        line.truncate(kept);
        line.push_str("  ✗ ");
        line.push_str(why);
    } else {
        let kept = line.trim_end().len();
        line.truncate(kept);
    }
    line
}

/// The mood of a step: bad when it failed.
pub fn step_mood(step: &Step) -> Mood {
    if step.failed.is_some() {
        Mood::Bad
    } else {
        Mood::Plain
    }
}

/// `6 steps (#10–#15, 1 failed); checks: 3 ✓, 1 ✗, 1 ?`.
pub fn counts(s: &Story) -> String {
    let steps = match (s.steps.first(), s.steps.last()) {
        (Some(a), Some(b)) if s.steps.len() > 1 => {
            format!("{} steps ({}–{}", s.steps.len(), a.id, b.id)
        }
        (Some(a), _) => format!("1 step ({}", a.id),
        _ => "no steps (".to_string(),
    };
    let failed = match s.failed_steps() {
        0 => String::new(),
        n => format!(", {n} failed"),
    };
    let checks: Vec<String> = [Verdict::Pass, Verdict::Fail, Verdict::Unknown]
        .into_iter()
        .filter_map(|v| match s.count(v) {
            0 => None,
            n => Some(format!("{n} {}", verdict_mark(v))),
        })
        .collect();
    let checks = if checks.is_empty() {
        "no checks apply".to_string()
    } else {
        format!("checks: {}", checks.join(", "))
    };
    format!("{steps}{failed}); {checks}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::story::{Observed, StoryKind, What};
    use crate::flow::FlowId;

    fn step(n: u64, label: &str, failed: Option<&str>) -> Step {
        Step {
            id: FlowId(n),
            label: label.into(),
            failed: failed.map(str::to_string),
        }
    }

    #[test]
    fn a_failed_step_ends_with_its_reason_and_others_have_no_trailing_space() {
        let ok = step(10, "realm (Federated)", None);
        assert_eq!(step_line(&ok, 20, ""), "   #11  realm (Federated)");
        assert_eq!(step_mood(&ok), Mood::Plain);
        let bad = step(
            11,
            "ADFS forms login at sts.contoso.test for alice@contoso.test",
            Some("the sign-in failed: Incorrect user ID or password"),
        );
        assert_eq!(
            step_line(&bad, 20, "POST sts.contoso.test 200"),
            "   #12  ADFS forms login at… POST sts.contoso.test 200  ✗ the sign-in failed: \
             Incorrect user ID or password"
        );
        assert_eq!(step_mood(&bad), Mood::Bad);
    }

    #[test]
    fn counts_name_the_steps_failures_and_verdicts() {
        let check = |verdict| Check {
            verdict,
            message: "m".into(),
            values: vec![Observed {
                what: What::WctxSent,
                flow: FlowId(0),
                value: "v".into(),
            }],
            flows: vec![FlowId(0)],
        };
        let s = Story {
            kind: StoryKind::FederatedSignIn,
            steps: vec![step(9, "a", None), step(12, "b", Some("HTTP 400"))],
            checks: vec![
                check(Verdict::Pass),
                check(Verdict::Pass),
                check(Verdict::Unknown),
            ],
        };
        assert_eq!(counts(&s), "2 steps (#10–#13, 1 failed); checks: 2 ✓, 1 ?");
        assert_eq!(check_line(&s.checks[2]), "? m");
        let lone = Story {
            steps: vec![step(0, "a", None)],
            checks: vec![],
            ..s
        };
        assert_eq!(counts(&lone), "1 step (#1); no checks apply");
    }
}
