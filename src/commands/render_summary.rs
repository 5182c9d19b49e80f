//! The trace-wide summary as plain text for `analyze` (the lines of
//! [`crate::tui::text::summary`], which the TUI's summary screen shows too): a heading with the
//! sessions and the time window, then each section's rows as `count  label  [filter]`, the
//! filter being what `idscope analyze --filter` or the TUI's `f` takes to list the counted flows.

use crate::analysis::summary::Summary;
use crate::tui::text::summary::lines;

/// The summary as text, ending with a newline.
pub fn text(s: &Summary) -> String {
    let mut out = String::new();
    for l in lines(s) {
        out.push_str(&l.line.text);
        out.push('\n');
    }
    out
}
