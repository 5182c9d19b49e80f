//! The trace summary ([`crate::analysis::summary`]) as lines: a heading with the sessions and
//! the time window, each section's title, and each row as `count  label  [filter]` (`≈` before
//! a filter that selects more than the row counted). `analyze` prints these lines; the TUI's
//! summary screen shows them and applies a row's filter on Enter.

use super::{TextLine, Tone};
use crate::analysis::summary::{Summary, rfc3339};

/// One line of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLine {
    /// The text, indented.
    pub line: TextLine,
    /// The filter that lists the row's flows; `None` for headings.
    pub filter: Option<String>,
}

/// The summary's lines, headings included; sections with no rows are left out.
pub fn lines(s: &Summary) -> Vec<SummaryLine> {
    let mut head = format!("Summary: {} sessions", s.flows());
    if let Some((first, last)) = s.window() {
        let span = last.duration_since(first).unwrap_or_default();
        head.push_str(&format!(
            ", {} … {} ({})",
            rfc3339(first),
            rfc3339(last),
            idscope_decoders::util::human_duration(span)
        ));
    }
    let mut out = vec![SummaryLine {
        line: TextLine::new(head, Tone::Heading),
        filter: None,
    }];
    // The first section is the sessions count, which the heading says.
    for section in s.sections().into_iter().skip(1) {
        if section.rows.is_empty() {
            continue;
        }
        out.push(SummaryLine {
            line: TextLine::new(format!("  {}:", section.title), Tone::Heading),
            filter: None,
        });
        for row in section.rows {
            let mut text = format!("    {:>6}  {}", row.count, row.label);
            if let Some(f) = &row.filter {
                let approx = if row.exact { "" } else { "≈ " };
                text.push_str(&format!("  [{approx}{f}]"));
            }
            out.push(SummaryLine {
                line: TextLine::new(text, Tone::Normal),
                filter: row.filter,
            });
        }
    }
    out
}
