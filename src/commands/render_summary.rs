//! The trace-wide summary as text ([`crate::analysis::summary`]): a heading with the sessions and
//! the time window, then each section's rows as `count  label  [filter]`, the filter being what
//! `idscope analyze --filter` or the TUI's `f` takes to list the counted flows (`≈` before a
//! filter that selects more than the row counted).

use std::fmt::Write as _;

use crate::analysis::summary::{Summary, rfc3339};

/// The summary as text, ending with a newline.
pub fn text(s: &Summary) -> String {
    let mut out = String::new();
    let _ = write!(out, "Summary: {} sessions", s.flows());
    if let Some((first, last)) = s.window() {
        let span = last.duration_since(first).unwrap_or_default();
        let _ = write!(
            out,
            ", {} … {} ({})",
            rfc3339(first),
            rfc3339(last),
            idscope_decoders::util::human_duration(span)
        );
    }
    out.push('\n');
    for section in s.sections().iter().skip(1) {
        if section.rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}:", section.title);
        for row in &section.rows {
            let _ = write!(out, "    {:>6}  {}", row.count, row.label);
            if let Some(f) = &row.filter {
                let approx = if row.exact { "" } else { "≈ " };
                let _ = write!(out, "  [{approx}{f}]");
            }
            out.push('\n');
        }
    }
    out
}
