//! The flow view's content: opening a flow (decoding it or taking its report from the cache)
//! with its text tabs wrapped to the screen, folding the decoded tree, and filling the Story
//! tab. Moving between tabs and the tree cursor
//! are key actions, in `keys`; drawing is `tui::ui`'s.

use std::collections::HashSet;

use super::{App, FlowView, StoryJob, Tab};
use crate::flow::FlowId;
use crate::tui::text::{TextLine, Tone, fit, flow as flow_text, mask, story as story_text, tree};

/// The most lines a wrapped text tab keeps (a body of megabytes on one line would otherwise
/// make hundreds of thousands); the rest is counted in a last line.
const MAX_WRAPPED_LINES: usize = 20_000;

impl App {
    pub(super) fn toggle_fold(&mut self) {
        let reveal = self.reveal;
        let Some(v) = &mut self.view else { return };
        if v.tab != Tab::Decoded {
            return;
        }
        let Some(line) = v.tree.get(v.cursor) else {
            return;
        };
        if !line.has_children {
            return;
        }
        let Some(path) = line.path.clone() else {
            return;
        };
        if !v.folded.remove(&path) {
            v.folded.insert(path);
        }
        if let Some(report) = self.cache.peek(v.id) {
            v.tree = tree::lines(report, &v.folded, reveal);
        }
    }

    /// Opens flow `id` in the flow view, decoding it (or taking it from the cache).
    pub(super) fn open(&mut self, id: FlowId) {
        let Some(flow) = self.store.get(id).cloned() else {
            return;
        };
        let report = match self.cache.get(id) {
            Some(r) => r,
            None => {
                let r = self.decode(&flow);
                self.cache.put(id, r.clone());
                r
            }
        };
        let (tab, folded, search, scroll, cursor) = match self.view.take() {
            Some(v) if v.id == id => (v.tab, v.folded, v.search, v.scroll, v.cursor),
            Some(v) => (v.tab, HashSet::new(), v.search, [0; 5], 0),
            None => (Tab::Request, HashSet::new(), None, [0; 5], 0),
        };
        let in_flight = self.store.is_in_flight(id);
        let secrets = mask::secrets(&report);
        // The text tabs are wrapped to the screen, so a long body reads in full.
        let cols = usize::from(self.size.0);
        let wrap = |lines| fit::wrap_lines(lines, cols, MAX_WRAPPED_LINES);
        self.view = Some(FlowView {
            id,
            tab,
            scroll,
            cursor,
            request: wrap(flow_text::request_lines(&flow, self.reveal, &secrets)),
            response: wrap(flow_text::response_lines(
                &flow,
                in_flight,
                self.reveal,
                &secrets,
            )),
            tree: tree::lines(&report, &folded, self.reveal),
            story: Vec::new(),
            detail: wrap(flow_text::detail_lines(&flow, &report)),
            width: self.size.0,
            folded,
            search,
        });
        self.ensure_story();
    }

    /// After a resize: the open flow's text tabs are wrapped again to the new width.
    pub(super) fn rewrap(&mut self) {
        if let Some(id) = self
            .view
            .as_ref()
            .filter(|v| v.width != self.size.0)
            .map(|v| v.id)
        {
            self.open(id);
        }
    }

    /// On the Story tab: shows the stories, or starts building them (the tab says so until
    /// they are built; a slice runs in this update, so a small capture shows them at once).
    pub(super) fn ensure_story(&mut self) {
        if !self.view.as_ref().is_some_and(|v| v.tab == Tab::Story) {
            return;
        }
        if self.stories.is_none() && self.story_job.is_none() {
            self.story_job = Some(StoryJob::default());
        }
        self.fill_story();
    }

    /// The Story tab's lines: the flow's stories, or how far building them has got.
    pub(super) fn fill_story(&mut self) {
        let Some(id) = self
            .view
            .as_ref()
            .filter(|v| v.tab == Tab::Story)
            .map(|v| v.id)
        else {
            return;
        };
        let lines = match (&self.stories, &self.story_job) {
            (Some(stories), _) => story_text::story_lines(id, stories, &self.store),
            (None, job) => {
                let (pass, done) = job
                    .as_ref()
                    .map_or((1, 0), |j| (if j.placing { 2 } else { 1 }, j.done));
                vec![TextLine::new(
                    format!(
                        "building stories… pass {pass} of 2, {done} of {} flows",
                        self.store.len()
                    ),
                    Tone::Dim,
                )]
            }
        };
        if let Some(v) = &mut self.view {
            v.story = lines;
        }
    }
}
