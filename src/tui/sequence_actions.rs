//! The TUI's sequence actions, kept apart from the app's key dispatch: `=` shows the differences
//! between the two marked flows in an overlay ([`crate::diff`], volatile values left out), and
//! `R` replays the whole sequence (story, see [`crate::analysis::story`]) of the selected flow to
//! the origins it was captured from ([`crate::replay::sequence`], credentials refreshed as it
//! goes); every answer comes back as a new flow tagged `replay-of:#N`, its comment saying whether
//! it matched the recorded one.
//!
//! The pure parts (`App::diff_marked`, `App::on_diff_key`, `App::replay_story`, methods the
//! app's key dispatch calls) only change the [`App`];
//! [`run_sequence`] is the side effect the event loop spawns; the view draws the overlay
//! ([`super::ui::diff_overlay`]).

use std::sync::Arc;
use std::time::Duration;

/// Up to this many flows, `R` builds the sequences itself when they are not built yet (a few ms).
const SYNC_STORY_FLOWS: usize = 5_000;

use tokio::sync::mpsc::UnboundedSender;

use super::app::{App, Control, DiffOverlay, Event, SequenceJob, StoryJob};
use super::keymap::Action;
use super::text::{TextLine, Tone};
use crate::analysis::compare::Rules;
use crate::analysis::story;
use crate::flow::{Flow, FlowId};
use crate::replay::sequence::{self, Options, Status, Target};

impl App {
    /// `=`: the differences between the two marked flows, as an overlay; a message when not exactly
    /// two flows are marked.
    pub(crate) fn diff_marked(&mut self) -> Control {
        let app = self;
        let marked: Vec<FlowId> = app
            .store
            .iter()
            .filter(|f| f.marked)
            .map(|f| f.id)
            .collect();
        let [a, b] = marked.as_slice() else {
            app.message = Some(format!(
                "mark exactly two flows (m) to diff them; {} marked",
                marked.len()
            ));
            return Control::Continue;
        };
        let (Some(fa), Some(fb)) = (app.store.get(*a), app.store.get(*b)) else {
            return Control::Continue;
        };
        let diffs = crate::diff::flows_decoded(fa, fb, &Rules::default());
        let mut lines = vec![TextLine::new(
            format!(
                "{a} vs {b}: {} difference(s), volatile values (times, ids, nonces, signatures) left out",
                diffs.len()
            ),
            Tone::Heading,
        )];
        if diffs.is_empty() {
            lines.push(TextLine::new("the decoded trees match", Tone::Good));
        }
        for d in &diffs {
            lines.push(TextLine::new(d.describe(), Tone::Bad));
        }
        app.diff = Some(DiffOverlay {
            title: format!(" diff {a} {b} (= or esc to close) "),
            lines,
            scroll: 0,
        });
        Control::Continue
    }

    /// Keys while the diff overlay is open: scroll, close, quit.
    pub(crate) fn on_diff_key(&mut self, action: Option<Action>) -> Control {
        let app = self;
        let Some(o) = &mut app.diff else {
            return Control::Continue;
        };
        let max = o.lines.len().saturating_sub(1);
        match action {
            Some(Action::Quit) => return Control::Quit,
            Some(Action::Back | Action::Diff) => app.diff = None,
            Some(Action::Down) => o.scroll = (o.scroll + 1).min(max),
            Some(Action::Up) => o.scroll = o.scroll.saturating_sub(1),
            Some(Action::PageDown) => o.scroll = (o.scroll + 10).min(max),
            Some(Action::PageUp) => o.scroll = o.scroll.saturating_sub(10),
            Some(Action::First) => o.scroll = 0,
            Some(Action::Last) => o.scroll = max,
            _ => {}
        }
        Control::Continue
    }

    /// `R`: the sequence of the selected (or open) flow, to be replayed by the event loop; a message
    /// when the flow belongs to no recognised sequence.
    pub(crate) fn replay_story(&mut self) -> Control {
        let app = self;
        let Some(id) = app.view.as_ref().map(|v| v.id).or(app.selected_id()) else {
            return Control::Continue;
        };
        // The stories the app builds in slices (for the Story tab); on a small capture they are
        // built here at once, on a large one `R` starts the build and asks to be pressed again,
        // so the key never blocks the UI for a whole pass.
        let stories = match &app.stories {
            Some(s) => Arc::clone(s),
            None if app.store.len() <= SYNC_STORY_FLOWS => {
                Arc::new(story::build(app.store.iter().filter_map(|f| {
                    app.digests
                        .get(&f.id)
                        .and_then(|d| d.story.as_ref())
                        .map(|s| (f.id, s))
                })))
            }
            None => {
                if app.story_job.is_none() {
                    app.story_job = Some(StoryJob::default());
                }
                app.message = Some(
                    "building the sequences (see the Story tab); press R again when they are done"
                        .to_string(),
                );
                return Control::Continue;
            }
        };
        let Some(st) = stories.iter().find(|s| s.step_of(id).is_some()) else {
            app.message = Some(format!(
                "{id} belongs to no recognised sequence; r replays one flow"
            ));
            return Control::Continue;
        };
        let flows: Vec<Flow> = st
            .steps
            .iter()
            .filter_map(|s| app.store.get(s.id).cloned())
            .collect();
        app.message = Some(format!(
            "replaying the {} of {id} ({} flows)…",
            st.kind.title(),
            flows.len()
        ));
        Control::ReplaySequence(Box::new(SequenceJob {
            title: st.kind.title().to_string(),
            flows,
        }))
    }
}

/// Runs a [`SequenceJob`] against the flows' own origins and sends every replayed exchange back
/// as [`Event::Replayed`] (with its verdict as the comment), then a summary notice.
pub async fn run_sequence(job: SequenceJob, tx: UnboundedSender<Event>) {
    let opts = Options {
        target: Target::Origin,
        maps: Vec::new(),
        rules: Rules::default(),
        served: None,
        extra_roots: Vec::new(),
        timeout: Duration::from_secs(30),
    };
    let selected: Vec<FlowId> = job.flows.iter().map(|f| f.id).collect();
    let report = match sequence::run(&job.flows, &selected, &opts).await {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Event::Notice(format!(
                "replay of the {} failed: {e:#}",
                job.title
            )));
            return;
        }
    };
    for r in &report.results {
        let verdict = match r.status {
            Status::Matched => "replay matched the recorded answer".to_string(),
            Status::Diverged => format!(
                "replay diverged: {}",
                r.first().map(|d| d.describe()).unwrap_or_default()
            ),
            Status::Failed | Status::Refused => format!(
                "replay {}: {}",
                r.status.as_str(),
                r.reason.clone().unwrap_or_default()
            ),
        };
        if let Some(f) = &r.replayed {
            let mut f = f.clone();
            let mut comment = verdict;
            for n in &r.notes {
                comment.push_str("; ");
                comment.push_str(n);
            }
            f.comment = Some(comment);
            let _ = tx.send(Event::Replayed(Box::new(f)));
        }
    }
    let _ = tx.send(Event::Notice(format!(
        "replayed the {}: {} matched, {} diverged, {} failed, {} refused",
        job.title,
        report.count(Status::Matched),
        report.count(Status::Diverged),
        report.count(Status::Failed),
        report.count(Status::Refused),
    )));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, response};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(c: char) -> Event {
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    fn flows() -> Vec<Flow> {
        let body = |upn: &str| format!(r#"{{"upn":"{upn}","jti":"{upn}-1"}}"#).into_bytes();
        vec![
            flow(
                0,
                request("GET", "https://x.example/me"),
                response(200, "application/json", &body("alice@x")),
            ),
            flow(
                1,
                request("GET", "https://x.example/me"),
                response(200, "application/json", &body("bob@x")),
            ),
        ]
    }

    fn app_with(flows: Vec<Flow>) -> App {
        let mut app = App::for_test();
        for f in flows {
            let id = f.id;
            app.update(Event::Flow(crate::flow::FlowEvent::Request {
                id,
                client_addr: None,
                at: f.started_at,
                request: f.request.clone(),
            }));
            if let Some(r) = f.response() {
                app.update(Event::Flow(crate::flow::FlowEvent::Response {
                    id,
                    response: r.clone(),
                    timings: Default::default(),
                }));
            }
        }
        app
    }

    #[test]
    fn equals_diffs_the_two_marked_flows_and_closes_again() {
        let mut app = app_with(flows());
        app.update(key('='));
        assert!(app.diff.is_none());
        assert!(
            app.message().unwrap().contains("mark exactly two"),
            "{:?}",
            app.message()
        );
        app.update(key('m'));
        app.update(key('j'));
        app.update(key('m'));
        app.update(key('='));
        let o = app.diff.clone().expect("overlay");
        let text: Vec<&str> = o.lines.iter().map(|l| l.text.as_str()).collect();
        assert!(text[0].contains("1 difference(s)"), "{text:?}");
        assert!(
            text[1].contains("json/upn: \"alice@x\" ≠ \"bob@x\""),
            "{text:?}"
        );
        app.update(key('='));
        assert!(app.diff.is_none());
    }

    #[test]
    fn capital_r_asks_for_the_story_of_the_selected_flow() {
        let mut app = app_with(flows());
        // Plain JSON flows belong to no story.
        assert_eq!(app.update(key('R')), Control::Continue);
        assert!(app.message().unwrap().contains("no recognised sequence"));

        // A Managed realm answer starts a sync cycle.
        let mut app = app_with(vec![managed_realm(0)]);
        match app.update(key('R')) {
            Control::ReplaySequence(job) => {
                assert_eq!(job.title, "sync cycle");
                assert_eq!(job.flows.len(), 1);
            }
            c => panic!("{c:?} {:?}", app.message()),
        }
        assert!(app.message().unwrap().contains("replaying the sync cycle"));
    }

    /// A userrealm answer for a Managed domain: the first flow of a sync cycle.
    fn managed_realm(i: u64) -> Flow {
        flow(
            i,
            request(
                "GET",
                "https://login.microsoftonline.com/common/userrealm/sync@fixture.onmicrosoft.com?api-version=1.0",
            ),
            response(
                200,
                "application/json",
                br#"{"ver":"1.0","account_type":"Managed","domain_name":"fixture.onmicrosoft.com"}"#,
            ),
        )
    }

    #[test]
    fn on_a_large_capture_capital_r_builds_the_sequences_in_slices_first() {
        let n = u64::try_from(SYNC_STORY_FLOWS).unwrap() + 1;
        let mut app = app_with((0..n).map(managed_realm).collect());
        // Finish whatever the arrivals started, then forget the stories as new flows would.
        while app.busy() {
            app.update(Event::Work);
        }
        app.stories = None;
        // At most 100 flows per slice, so the build cannot finish inside the key's own slice
        // however fast the machine is.
        app.set_work_slice(100);
        assert_eq!(app.update(key('R')), Control::Continue);
        assert!(app.message().unwrap().contains("press R again"));
        assert!(app.busy(), "R started the build");
        while app.busy() {
            app.update(Event::Work);
        }
        assert!(matches!(app.update(key('R')), Control::ReplaySequence(_)));
    }
}
