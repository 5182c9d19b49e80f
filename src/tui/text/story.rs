//! The Story tab's text: each recognised sequence (story) a flow belongs to, its steps around
//! the flow (a failed step marked ✗ with the reason) and the checks that involve it, built when
//! the tab is visited. The words of steps and checks are `analyze`'s
//! ([`crate::analysis::story_text`]); this module picks the window and the tones.

use super::{TextLine, Tone};
use crate::analysis::story::Story;
use crate::analysis::story_text::{self, Mood};
use crate::flow::FlowId;
use crate::session::FlowStore;

fn tone_of(mood: Mood) -> Tone {
    match mood {
        Mood::Plain => Tone::Normal,
        Mood::Good => Tone::Good,
        Mood::Bad => Tone::Bad,
        Mood::Unsure => Tone::Warn,
    }
}

/// Steps shown before and after the flow's own step in a long story, and checks of other flows
/// shown after the flow's own: a sync cycle can run to tens of thousands of steps, and the tab
/// is rebuilt on every visit.
pub const STORY_WINDOW: usize = 50;

/// The Story tab of flow `id`: each story that contains the flow, its steps with this one
/// highlighted (up to [`STORY_WINDOW`] either side of it), and the checks that involve it, then
/// the story's other checks (at most [`STORY_WINDOW`] of them).
pub fn story_lines(id: FlowId, stories: &[Story], store: &FlowStore) -> Vec<TextLine> {
    let mut out = Vec::new();
    let total = stories.len();
    for (n, s) in stories.iter().enumerate() {
        let Some(at) = s.step_of(id) else { continue };
        out.push(TextLine::new(
            format!(
                "{} — step {} of {} (story {} of {total} in this capture)",
                s.kind.title(),
                at + 1,
                s.steps.len(),
                n + 1
            ),
            Tone::Heading,
        ));
        let from = at.saturating_sub(STORY_WINDOW);
        let to = (at + STORY_WINDOW + 1).min(s.steps.len());
        if from > 0 {
            out.push(TextLine::new(
                format!("  … {from} earlier steps"),
                Tone::Dim,
            ));
        }
        for step in s.steps.get(from..to).unwrap_or_default() {
            let (mark, tone) = if step.id == id {
                ("▶", Tone::Current)
            } else {
                (" ", tone_of(story_text::step_mood(step)))
            };
            let what = store
                .get(step.id)
                .map(|f| {
                    let status = f
                        .response()
                        .map_or("ERR".to_string(), |r| r.status.to_string());
                    format!("{} {} {status}", f.request.method, f.host())
                })
                .unwrap_or_else(|| "(evicted)".into());
            out.push(TextLine::new(
                format!("{mark} {}", story_text::step_line(step, 34, &what)),
                tone,
            ));
        }
        if to < s.steps.len() {
            out.push(TextLine::new(
                format!("  … {} later steps", s.steps.len() - to),
                Tone::Dim,
            ));
        }
        out.push(TextLine::new("", Tone::Normal));
        if s.checks.is_empty() {
            out.push(TextLine::new("checks: none apply to this story", Tone::Dim));
        } else {
            out.push(TextLine::new("checks", Tone::Heading));
            let mine = s.checks.iter().filter(|c| c.flows.contains(&id));
            let others = s.checks.iter().filter(|c| !c.flows.contains(&id));
            let n_others = others.clone().count();
            for c in mine.chain(others.take(STORY_WINDOW)) {
                out.push(TextLine::new(
                    format!("  {}", story_text::check_line(c)),
                    tone_of(story_text::verdict_mood(c.verdict)),
                ));
            }
            if n_others > STORY_WINDOW {
                out.push(TextLine::new(
                    format!("  … {} more checks of other steps", n_others - STORY_WINDOW),
                    Tone::Dim,
                ));
            }
        }
        out.push(TextLine::new("", Tone::Normal));
    }
    if out.is_empty() {
        out.push(TextLine::new(
            "This flow is not part of a recognised sequence (sync cycle, federated sign-in, \
             cloud sync, PRT SSO).",
            Tone::Dim,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::story::{Check, Step, StoryKind, Verdict};

    #[test]
    fn a_long_story_shows_a_window_of_steps_and_checks_around_the_flow() {
        let n = 1_000u64;
        let story = Story {
            kind: StoryKind::CloudSync,
            steps: (0..n)
                .map(|i| Step {
                    id: FlowId(i),
                    label: format!("step {i}"),
                    failed: None,
                })
                .collect(),
            checks: (0..n)
                .map(|i| Check {
                    verdict: Verdict::Pass,
                    message: format!("check of {}", FlowId(i)),
                    values: vec![],
                    flows: vec![FlowId(i)],
                })
                .collect(),
        };
        let lines = story_lines(FlowId(500), &[story], &FlowStore::default());
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert!(text[0].contains("step 501 of 1000"), "{}", text[0]);
        assert_eq!(text[1], "  … 450 earlier steps");
        assert!(text[2].contains("#451"), "{}", text[2]);
        assert!(text[52].starts_with("▶   #501"), "{}", text[52]);
        assert_eq!(text[103], "  … 449 later steps");
        assert_eq!(text[106], "  ✓ check of #501", "the flow's own check first");
        assert_eq!(text[157], "  … 949 more checks of other steps");
        assert_eq!(lines.len(), 159);
    }

    #[test]
    fn a_failed_step_is_marked_with_its_reason_in_red() {
        let story = Story {
            kind: StoryKind::FederatedSignIn,
            steps: vec![
                Step {
                    id: FlowId(1),
                    label: "ADFS forms login".into(),
                    failed: Some("the sign-in failed: Incorrect user ID or password".into()),
                },
                Step {
                    id: FlowId(2),
                    label: "ADFS forms login".into(),
                    failed: None,
                },
            ],
            checks: vec![],
        };
        let lines = story_lines(FlowId(2), &[story], &FlowStore::default());
        assert_eq!(
            lines[1].text,
            "      #2  ADFS forms login                   (evicted)  ✗ the sign-in failed: \
             Incorrect user ID or password"
        );
        assert_eq!(lines[1].tone, Tone::Bad);
        assert_eq!(
            lines[2].text,
            "▶     #3  ADFS forms login                   (evicted)"
        );
        assert_eq!(lines[2].tone, Tone::Current);
    }
}
