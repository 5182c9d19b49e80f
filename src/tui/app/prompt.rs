//! Prompts: the keys typed into an open prompt, submitting it (a filter, a search, a `:`
//! command, a path to export to), running `:` commands, and setting the filter. Opening a prompt
//! is a key action, in `keys`.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{App, Control, Prompt, PromptKind, ReportCache, key_char};
use crate::filter::{self, FilterError};
use crate::flow::FlowId;
use crate::tui::command::{self, Command};
use crate::tui::keymap::Action;

impl App {
    pub(super) fn on_prompt_key(&mut self, k: KeyEvent) -> Control {
        let Some(prompt) = &mut self.prompt else {
            return Control::Continue;
        };
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            return Control::Quit;
        }
        if prompt.kind == PromptKind::ConfirmClear {
            let yes = key_char(&k).is_some_and(|c| c == 'y' || c == 'Y');
            self.prompt = None;
            if yes {
                let n = self.store.len();
                self.store.clear();
                self.digests.clear();
                self.kinds_width = 0;
                self.cache = ReportCache::default();
                self.shown.clear();
                self.marked = 0;
                self.stories = None;
                self.story_job = None;
                self.rebuild = None;
                self.selected = 0;
                self.message = Some(format!("cleared {n} flows"));
            } else {
                self.message = Some("not cleared".into());
            }
            return Control::Continue;
        }
        match k.code {
            KeyCode::Esc => {
                self.prompt = None;
                return Control::Continue;
            }
            KeyCode::Backspace => {
                prompt.input.pop();
                prompt.error = None;
                prompt.hint = None;
            }
            KeyCode::Tab if prompt.kind == PromptKind::Command => {
                let c = command::complete(&prompt.input);
                prompt.input = c.input;
                prompt.error = None;
                prompt.hint = (!c.candidates.is_empty()).then(|| c.candidates.join("  "));
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.clear();
                prompt.error = None;
            }
            KeyCode::Enter => return self.submit_prompt(),
            _ => {
                if let Some(c) = key_char(&k) {
                    prompt.input.push(c);
                    prompt.error = None;
                    prompt.hint = None;
                }
            }
        }
        Control::Continue
    }

    /// The flows an export writes: the marked ones, or with none marked the shown ones, in list
    /// order.
    fn export_ids(&self) -> Vec<FlowId> {
        let marked: Vec<FlowId> = if self.marked == 0 {
            Vec::new()
        } else {
            self.store
                .iter()
                .filter(|f| f.marked)
                .map(|f| f.id)
                .collect()
        };
        if marked.is_empty() {
            self.shown()
        } else {
            marked
        }
    }

    fn submit_prompt(&mut self) -> Control {
        let Some(prompt) = self.prompt.clone() else {
            return Control::Continue;
        };
        let text = prompt.input.trim().to_string();
        match prompt.kind {
            PromptKind::Filter => match self.set_filter(&text) {
                Ok(()) => self.prompt = None,
                Err(e) => self.set_prompt_error(e),
            },
            PromptKind::ListSearch => match filter::parse(&text) {
                Ok(f) => {
                    self.list_search = Some(f);
                    self.prompt = None;
                    self.list_search_next();
                }
                Err(e) => self.set_prompt_error(e),
            },
            PromptKind::FlowSearch => {
                match regex::RegexBuilder::new(&text)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                {
                    Ok(re) if !text.is_empty() => {
                        self.prompt = None;
                        if let Some(v) = &mut self.view {
                            v.search = Some(re);
                        }
                        self.flow_search_next();
                    }
                    Ok(_) => {
                        self.prompt = None;
                        if let Some(v) = &mut self.view {
                            v.search = None;
                        }
                    }
                    Err(e) => self.set_prompt_error(FilterError {
                        pos: 0,
                        message: format!(
                            "invalid regex: {}",
                            e.to_string().lines().last().unwrap_or("")
                        ),
                    }),
                }
            }
            PromptKind::Export { redacted } => {
                self.prompt = None;
                if text.is_empty() {
                    self.message = Some("export cancelled: no file name".into());
                    return Control::Continue;
                }
                let ids = self.export_ids();
                self.message = Some(format!("exporting {} flows to {text}…", ids.len()));
                return Control::Export {
                    ids,
                    path: PathBuf::from(text),
                    redacted,
                };
            }
            PromptKind::ExportReport => {
                self.prompt = None;
                if text.is_empty() {
                    self.message = Some("report cancelled: no file name".into());
                    return Control::Continue;
                }
                let ids = self.export_ids();
                self.message = Some(format!(
                    "writing a report of {} flows to {text}…",
                    ids.len()
                ));
                return Control::ExportReport {
                    ids,
                    path: PathBuf::from(text),
                };
            }
            PromptKind::ConfirmClear => self.prompt = None,
            PromptKind::Command => return self.run_command(&prompt.input),
        }
        Control::Continue
    }

    /// Runs a `:` command line. A command that cannot run leaves the prompt open with the
    /// reason (and the column) and changes nothing else.
    fn run_command(&mut self, line: &str) -> Control {
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(e) => {
                self.set_prompt_error(e);
                return Control::Continue;
            }
        };
        // Errors inside an argument (a filter expression) point into the whole line.
        let arg_at = command::arg_offset(line);
        let fail = |app: &mut App, pos: usize, message: String| {
            app.set_prompt_error(FilterError { pos, message });
            Control::Continue
        };
        self.prompt = None;
        let in_list = self.view.is_none();
        match cmd {
            Command::Filter(text) => {
                self.prompt = Some(Prompt::new(PromptKind::Command, line));
                match self.set_filter(text.as_deref().unwrap_or("")) {
                    Ok(()) => self.prompt = None,
                    Err(e) => return fail(self, arg_at + e.pos, e.message),
                }
            }
            Command::Search(text) => match filter::parse(&text) {
                Ok(f) => {
                    self.list_search = Some(f);
                    self.list_search_next();
                }
                Err(e) => {
                    self.prompt = Some(Prompt::new(PromptKind::Command, line));
                    return fail(self, arg_at + e.pos, e.message);
                }
            },
            Command::Goto(id) => match self.shown.iter().position(|x| *x == id) {
                Some(pos) => {
                    self.selected = if self.reverse {
                        self.shown.len() - 1 - pos
                    } else {
                        pos
                    };
                    self.follow = false;
                    if !in_list {
                        self.open(id);
                    }
                    self.message = Some(format!("{id}"));
                }
                None => {
                    self.prompt = Some(Prompt::new(PromptKind::Command, line));
                    let why = if self.store.get(id).is_some() {
                        "is not shown (filtered out)"
                    } else {
                        "does not exist"
                    };
                    return fail(self, arg_at, format!("flow {id} {why}"));
                }
            },
            Command::Mark => self.toggle_mark(),
            Command::MarkedOnly => {
                return self.list_action(Action::MarkedOnly);
            }
            Command::Export { redacted, path } => {
                self.prompt = Some(Prompt::new(PromptKind::Export { redacted }, path));
                return self.submit_prompt();
            }
            Command::ExportReport(path) => {
                self.prompt = Some(Prompt::new(PromptKind::ExportReport, path));
                return self.submit_prompt();
            }
            Command::Replay => return self.replay(),
            Command::Clear => {
                self.prompt = Some(Prompt::new(PromptKind::ConfirmClear, ""));
            }
            Command::Order(order) => {
                self.order = order;
                self.start_rebuild("sorting", false);
                self.message = Some(format!("order: {}", order.name()));
            }
            Command::Reverse(on) => {
                if on != self.reverse {
                    return self.list_action(Action::Reverse);
                }
            }
            Command::Follow(on) => {
                if on != self.follow {
                    return self.list_action(Action::Follow);
                }
            }
            Command::HideNoise(hide) => self.set_noise(hide),
            Command::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Command::Summary => self.open_summary(),
            Command::Quit => return Control::Quit,
        }
        Control::Continue
    }

    /// Sets the filter from its text (empty clears it) and starts applying it; on a parse error
    /// nothing changes.
    pub(super) fn set_filter(&mut self, text: &str) -> Result<(), FilterError> {
        let text = text.trim();
        if text.is_empty() {
            self.filter = None;
            self.start_rebuild("filtering", false);
            self.message = Some("filter cleared".into());
            return Ok(());
        }
        self.filter = Some(filter::parse(text)?);
        self.start_rebuild("filtering", true);
        Ok(())
    }

    fn set_prompt_error(&mut self, e: FilterError) {
        if let Some(p) = &mut self.prompt {
            p.error = Some(e);
        }
    }
}
