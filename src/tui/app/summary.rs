//! The trace summary screen (`S` on the list, `:summary` anywhere): the summary of every flow in
//! the store ([`crate::analysis::summary`]), one line per row with its filter; j/k (and the page
//! keys, g/G) move between the rows that have a filter, Enter applies the selected row's filter to
//! the flow list (closing the screen and any open flow), q/esc/S close it.
//!
//! The screen is built from each flow and its digest ([`FlowFacts::of_digest`]), which keeps
//! what the summary counts about a flow's findings, so its rows are those `idscope analyze
//! --summary-only` prints for the same flows, without decoding any flow again. Stories are built
//! here when the Story tab has not built them yet.

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Control};
use crate::analysis::story;
use crate::analysis::summary::{FlowFacts, Summary};
use crate::tui::keymap::Action;
use crate::tui::text::summary::{SummaryLine, lines};

/// The summary screen's state.
#[derive(Debug, Clone)]
pub struct SummaryScreen {
    /// The lines shown.
    pub lines: Vec<SummaryLine>,
    /// The selected line (one with a filter, when there is one).
    pub selected: usize,
    /// The first line shown.
    pub scroll: usize,
}

impl SummaryScreen {
    fn selectable(&self) -> Vec<usize> {
        (0..self.lines.len())
            .filter(|&i| self.lines[i].filter.is_some())
            .collect()
    }

    /// The filter of the selected line.
    pub fn selected_filter(&self) -> Option<&str> {
        self.lines.get(self.selected)?.filter.as_deref()
    }
}

impl App {
    /// The summary screen, while it is open.
    pub fn summary_screen(&self) -> Option<&SummaryScreen> {
        self.summary.as_ref()
    }

    /// Builds the summary of every stored flow and opens its screen.
    pub(super) fn open_summary(&mut self) {
        if self.stories.is_none() {
            let mut b = story::Builder::default();
            let facts = || {
                self.store.iter().filter_map(|f| {
                    let d = self.digests.get(&f.id)?;
                    Some((f.id, d.story.as_ref()?))
                })
            };
            for (id, f) in facts() {
                b.learn(id, f);
            }
            for (id, f) in facts() {
                b.place(id, f);
            }
            self.stories = Some(std::sync::Arc::new(b.finish()));
            self.story_job = None;
        }
        let mut s = Summary::new(None);
        for f in self.store.iter() {
            if self.store.is_in_flight(f.id) {
                continue;
            }
            if let Some(d) = self.digests.get(&f.id) {
                s.add(FlowFacts::of_digest(f, d));
            }
        }
        if let Some(stories) = &self.stories {
            s.finish(stories);
        }
        let mut screen = SummaryScreen {
            lines: lines(&s),
            selected: 0,
            scroll: 0,
        };
        screen.selected = screen.selectable().first().copied().unwrap_or(0);
        self.summary = Some(screen);
    }

    pub(super) fn on_summary_key(&mut self, action: Option<Action>, k: KeyEvent) -> Control {
        if k.code == KeyCode::Enter {
            let filter = self
                .summary
                .as_ref()
                .and_then(|s| s.selected_filter().map(str::to_string));
            if let Some(text) = filter {
                self.summary = None;
                self.view = None;
                if let Err(e) = self.set_filter(&text) {
                    self.message = Some(format!("{text}: {e}"));
                }
            }
            return Control::Continue;
        }
        let page = self.list_height();
        let Some(screen) = self.summary.as_mut() else {
            return Control::Continue;
        };
        let rows = screen.selectable();
        let at = rows.iter().position(|&i| i == screen.selected).unwrap_or(0);
        let last = rows.len().saturating_sub(1);
        let to = match action {
            Some(Action::Quit) => return Control::Quit,
            Some(Action::Back | Action::Summary) => {
                self.summary = None;
                return Control::Continue;
            }
            Some(Action::Down) => (at + 1).min(last),
            Some(Action::Up) => at.saturating_sub(1),
            Some(Action::PageDown) => (at + page).min(last),
            Some(Action::PageUp) => at.saturating_sub(page),
            Some(Action::First) => 0,
            Some(Action::Last) => last,
            _ => return Control::Continue,
        };
        if let Some(&i) = rows.get(to) {
            screen.selected = i;
        }
        // Keep the selection on screen (the overlay is as tall as the list area).
        let h = page.max(1);
        if screen.selected < screen.scroll {
            screen.scroll = screen.selected.saturating_sub(1);
        } else if screen.selected >= screen.scroll + h {
            screen.scroll = screen.selected + 1 - h;
        }
        Control::Continue
    }
}
