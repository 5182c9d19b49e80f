//! Controls that act on the selected or open flow and may ask the event loop for a side effect:
//! marking, replaying, and copying a value or a `curl` command. Export and the other commands
//! typed at the `:` prompt are in `prompt`.

use super::{App, Control, Tab};
use crate::tui::text::{flow as flow_text, mask};

impl App {
    pub(super) fn toggle_mark(&mut self) {
        let Some(id) = self.view.as_ref().map(|v| v.id).or(self.selected_id()) else {
            return;
        };
        if let Some(f) = self.store.get_mut(id) {
            f.marked = !f.marked;
            let marked = f.marked;
            if marked {
                self.marked += 1;
            } else {
                self.marked = self.marked.saturating_sub(1);
            }
            self.message = Some(format!(
                "{id} {}",
                if marked { "marked" } else { "unmarked" }
            ));
            if self.marked_only && !marked {
                let keep = self.selected_id();
                self.shown.retain(|x| *x != id);
                if let Some(job) = &mut self.rebuild {
                    job.passed.retain(|(x, _)| *x != id);
                }
                if keep != Some(id) {
                    self.reselect(keep);
                }
            }
        }
    }

    pub(super) fn replay(&mut self) -> Control {
        let id = self.view.as_ref().map(|v| v.id).or(self.selected_id());
        match id.and_then(|id| self.store.get(id)) {
            Some(f) => {
                self.message = Some(format!("replaying {}…", f.id));
                Control::Replay(Box::new(f.clone()))
            }
            None => Control::Continue,
        }
    }

    pub(super) fn copy_value(&mut self) -> Control {
        let Some(v) = &self.view else {
            return Control::Continue;
        };
        if v.tab == Tab::Decoded {
            if let Some(line) = v.tree.get(v.cursor) {
                if line.masked {
                    self.message =
                        Some("secret masked: press s to reveal it before copying".into());
                    return Control::Continue;
                }
                if let Some(val) = &line.value {
                    self.message = Some(format!("copied {}", line.label));
                    return Control::Copy(val.clone());
                }
            }
            return Control::Continue;
        }
        match self.store.get(v.id) {
            Some(f) => {
                self.message = Some("copied the URL".into());
                Control::Copy(f.request.url.clone())
            }
            None => Control::Continue,
        }
    }

    pub(super) fn copy_curl(&mut self) -> Control {
        let id = self.view.as_ref().map(|v| v.id).or(self.selected_id());
        let Some(f) = id.and_then(|id| self.store.get(id)).cloned() else {
            return Control::Continue;
        };
        let secrets = if self.reveal {
            Vec::new()
        } else {
            let report = match self.cache.get(f.id) {
                Some(r) => r,
                None => {
                    let r = self.decode(&f);
                    self.cache.put(f.id, r.clone());
                    r
                }
            };
            mask::secrets(&report)
        };
        let cmd = flow_text::curl(&f, self.reveal, &secrets);
        self.message = Some(if self.reveal {
            "copied as curl".into()
        } else {
            "copied as curl (credentials masked: press s in the flow view to include them)".into()
        });
        Control::Copy(cmd)
    }
}
