//! Key dispatch: a key goes to the prompt when one is open, else through the keymap to the
//! list's or the flow view's action, and the navigation those actions do (moving the
//! selection, scrolling, searching the list or the open flow for the next match). The prompt's
//! own keys are in `prompt`; marks, replay and copying in `controls`.

use std::time::UNIX_EPOCH;

use crossterm::event::{KeyCode, KeyEvent};

use super::{App, Control, Prompt, PromptKind, Tab};
use crate::filter::Subject;
use crate::tui::keymap::{self, Action, Context};
use crate::tui::text::help;

impl App {
    pub(super) fn on_key(&mut self, k: KeyEvent) -> Control {
        if self.prompt.is_some() {
            return self.on_prompt_key(k);
        }
        let context = if self.view.is_some() {
            Context::Flow
        } else {
            Context::List
        };
        let action = keymap::action(context, k);
        if self.diff.is_some() {
            return self.on_diff_key(action);
        }
        if self.summary.is_some() {
            return self.on_summary_key(action, k);
        }
        if self.help {
            match action {
                Some(Action::Quit) => return Control::Quit,
                Some(Action::Help | Action::Back) => self.help = false,
                Some(a @ (Action::Down | Action::Up | Action::PageDown | Action::PageUp)) => {
                    let page = self.list_height();
                    self.help_scroll = match a {
                        Action::Down => self.help_scroll + 1,
                        Action::Up => self.help_scroll.saturating_sub(1),
                        Action::PageDown => self.help_scroll + page,
                        _ => self.help_scroll.saturating_sub(page),
                    }
                    .min(help::lines().len().saturating_sub(1));
                }
                Some(Action::First) => self.help_scroll = 0,
                Some(Action::Last) => self.help_scroll = help::lines().len().saturating_sub(1),
                _ => {}
            }
            return Control::Continue;
        }
        let Some(action) = action else {
            return Control::Continue;
        };
        self.message = None;
        match context {
            Context::List => self.list_action(action),
            Context::Flow => self.flow_action(action, k),
        }
    }

    fn move_selection(&mut self, delta: isize) {
        let len = self.shown.len();
        if len == 0 {
            return;
        }
        let max = len - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(max);
    }

    pub(super) fn list_action(&mut self, action: Action) -> Control {
        let page = self.list_height() as isize;
        match action {
            Action::Down => self.move_selection(1),
            Action::Up => {
                self.follow = false;
                self.move_selection(-1)
            }
            Action::PageDown => self.move_selection(page),
            Action::PageUp => {
                self.follow = false;
                self.move_selection(-page)
            }
            Action::First => {
                self.follow = false;
                self.selected = 0
            }
            Action::Last => self.selected = self.shown.len().saturating_sub(1),
            Action::Open => {
                if let Some(id) = self.selected_id() {
                    self.open(id);
                }
            }
            Action::Back | Action::Quit => return Control::Quit,
            Action::Filter => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    input: self
                        .filter
                        .as_ref()
                        .map(|f| f.text().to_string())
                        .unwrap_or_default(),
                    error: None,
                    hint: None,
                });
            }
            Action::Search => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::ListSearch,
                    input: self
                        .list_search
                        .as_ref()
                        .map(|f| f.text().to_string())
                        .unwrap_or_default(),
                    error: None,
                    hint: None,
                })
            }
            Action::SearchNext => self.list_search_next(),
            Action::Mark => self.toggle_mark(),
            Action::Summary => self.open_summary(),
            Action::MarkedOnly => {
                self.marked_only = !self.marked_only;
                self.start_rebuild("filtering", false);
                self.message = Some(if self.marked_only {
                    "showing marked flows only".into()
                } else {
                    "showing all flows".into()
                });
            }
            Action::Replay => return self.replay(),
            Action::Diff => return self.diff_marked(),
            Action::ReplaySequence => return self.replay_story(),
            Action::Export | Action::ExportRedacted => {
                let redacted = action == Action::ExportRedacted;
                let secs = self
                    .now
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let suffix = if redacted { "-redacted" } else { "" };
                self.prompt = Some(Prompt {
                    kind: PromptKind::Export { redacted },
                    input: format!("idscope-export-{secs}{suffix}.har"),
                    error: None,
                    hint: None,
                });
            }
            Action::ExportReport => {
                let secs = self
                    .now
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                self.prompt = Some(Prompt::new(
                    PromptKind::ExportReport,
                    format!("idscope-report-{secs}.html"),
                ));
            }
            Action::Clear => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::ConfirmClear,
                    input: String::new(),
                    error: None,
                    hint: None,
                })
            }
            Action::Order => {
                self.order = self.order.next();
                self.start_rebuild("sorting", false);
                self.message = Some(format!("order: {}", self.order.name()));
            }
            Action::Reverse => {
                let keep = self.selected_id();
                self.reverse = !self.reverse;
                if keep.is_some() {
                    self.selected = self.shown.len().saturating_sub(1) - self.selected;
                }
            }
            Action::Follow => {
                self.follow = !self.follow;
                if self.follow {
                    self.select_newest();
                }
                self.message = Some(format!("follow {}", if self.follow { "on" } else { "off" }));
            }
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::Command => self.prompt = Some(Prompt::new(PromptKind::Command, "")),
            Action::Copy => {
                if let Some(f) = self.selected_id().and_then(|id| self.store.get(id)) {
                    return Control::Copy(f.request.url.clone());
                }
            }
            Action::CopyCurl => return self.copy_curl(),
            Action::Noise => self.toggle_noise(),
            Action::NextTab
            | Action::PrevTab
            | Action::SelectTab(_)
            | Action::NextFlow
            | Action::PrevFlow
            | Action::Toggle
            | Action::Reveal => {}
        }
        Control::Continue
    }

    fn flow_action(&mut self, action: Action, k: KeyEvent) -> Control {
        let page = self.content_height() as isize;
        match action {
            Action::Down => self.scroll(1),
            Action::Up => self.scroll(-1),
            Action::PageDown => self.scroll(page),
            Action::PageUp => self.scroll(-page),
            Action::First => self.scroll(isize::MIN / 2),
            Action::Last => self.scroll(isize::MAX / 2),
            Action::Back => self.view = None,
            Action::Quit => return Control::Quit,
            Action::Summary => self.open_summary(),
            Action::NextTab | Action::PrevTab => {
                let back = action == Action::PrevTab || k.code == KeyCode::BackTab;
                if let Some(v) = &mut self.view {
                    let i = v.tab.index();
                    let n = Tab::ALL.len();
                    let next = if back { (i + n - 1) % n } else { (i + 1) % n };
                    v.tab = Tab::ALL.get(next).copied().unwrap_or(Tab::Request);
                }
                self.ensure_story();
            }
            Action::SelectTab(tab) => {
                if let Some(v) = &mut self.view {
                    v.tab = tab;
                }
                self.ensure_story();
            }
            Action::NextFlow | Action::PrevFlow => {
                let back = action == Action::PrevFlow;
                self.move_selection(if back { -1 } else { 1 });
                if let Some(id) = self.selected_id() {
                    self.open(id);
                }
            }
            Action::Toggle => self.toggle_fold(),
            Action::Reveal => {
                self.reveal = !self.reveal;
                if let Some(id) = self.view.as_ref().map(|v| v.id) {
                    self.open(id);
                }
                self.message = Some(if self.reveal {
                    "secrets revealed".into()
                } else {
                    "secrets masked".into()
                });
            }
            Action::Copy => return self.copy_value(),
            Action::CopyCurl => return self.copy_curl(),
            Action::Search => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::FlowSearch,
                    input: self
                        .view
                        .as_ref()
                        .and_then(|v| v.search.as_ref())
                        .map(|r| r.as_str().trim_start_matches("(?i)").to_string())
                        .unwrap_or_default(),
                    error: None,
                    hint: None,
                })
            }
            Action::SearchNext => self.flow_search_next(),
            Action::Mark => self.toggle_mark(),
            Action::Replay => return self.replay(),
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::Command => self.prompt = Some(Prompt::new(PromptKind::Command, "")),
            Action::Diff => return self.diff_marked(),
            Action::ReplaySequence => return self.replay_story(),
            Action::Open
            | Action::Filter
            | Action::MarkedOnly
            | Action::Export
            | Action::ExportRedacted
            | Action::ExportReport
            | Action::Clear
            | Action::Order
            | Action::Reverse
            | Action::Follow
            | Action::Noise => {}
        }
        Control::Continue
    }

    pub(super) fn toggle_noise(&mut self) {
        self.set_noise(!self.hide_noise);
    }

    /// Hides (or shows again) browsers' background requests: `!~noise` joins the filter.
    pub(super) fn set_noise(&mut self, hide: bool) {
        if hide && self.noise.is_none() {
            match crate::filter::parse("~noise") {
                Ok(f) => self.noise = Some(f),
                Err(e) => {
                    self.message = Some(format!("cannot hide noise: {}", e.message));
                    return;
                }
            }
        }
        if hide != self.hide_noise {
            self.hide_noise = hide;
            self.start_rebuild("filtering", false);
        }
        self.message = Some(if hide {
            "hiding browsers' background requests (~noise; N shows them)".into()
        } else {
            "showing browsers' background requests".into()
        });
    }

    fn scroll(&mut self, delta: isize) {
        let Some(v) = &mut self.view else { return };
        let max = v.line_count().saturating_sub(1);
        if v.tab == Tab::Decoded {
            v.cursor = v.cursor.saturating_add_signed(delta).min(max);
        } else if let Some(s) = v.scroll.get_mut(v.tab.index()) {
            *s = s.saturating_add_signed(delta).min(max);
        }
    }

    pub(super) fn list_search_next(&mut self) {
        let Some(search) = self.list_search.clone() else {
            self.message = Some("no search: press / first".into());
            return;
        };
        let len = self.shown.len();
        for step in 1..=len {
            let i = (self.selected + step) % len;
            let Some(id) = self.shown_at(i) else { continue };
            let Some(flow) = self.store.get(id) else {
                continue;
            };
            if search.matches(&Subject {
                flow,
                in_flight: self.store.is_in_flight(id),
                digest: self.digests.get(&id).map(Box::as_ref),
                report: None,
            }) {
                self.selected = i;
                self.message = Some(format!("{id} matches {}", search.text()));
                return;
            }
        }
        self.message = Some(format!("no shown flow matches {}", search.text()));
    }

    pub(super) fn flow_search_next(&mut self) {
        let Some(v) = &mut self.view else { return };
        let Some(re) = v.search.clone() else {
            self.message = Some("no search: press / first".into());
            return;
        };
        let n = v.line_count();
        let start = if v.tab == Tab::Decoded {
            v.cursor
        } else {
            v.scroll.get(v.tab.index()).copied().unwrap_or(0)
        };
        for step in 1..=n {
            let i = (start + step) % n;
            if v.line_text(i).is_some_and(|t| re.is_match(&t)) {
                if v.tab == Tab::Decoded {
                    v.cursor = i;
                } else if let Some(s) = v.scroll.get_mut(v.tab.index()) {
                    *s = i;
                }
                self.message = Some(format!("match at line {}", i + 1));
                return;
            }
        }
        self.message = Some(format!(
            "`{}` not found in this tab",
            re.as_str().trim_start_matches("(?i)")
        ));
    }
}
