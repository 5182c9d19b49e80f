//! The flow list: a virtualised table (only the rows on screen are built, so 100,000 flows cost
//! the same as 30) with #, findings marker, time, method, host, path, status, size, duration,
//! decoded kind and summary. Rows are coloured by their worst finding (errors red, warnings
//! yellow) and marked `!` or `?` as `analyze` marks them, so they read the same without colour;
//! marked flows carry a dot, replays an arrow. Long hosts and paths are shortened in the middle,
//! keeping their end; kinds are cut between words (`text::fit`). Everything comes from the
//! store and each flow's digest.

use std::time::UNIX_EPOCH;

use idscope_decoders::Severity;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Row, Table};

use super::super::app::App;
use crate::analysis::digest::Digest;
use crate::flow::Flow;
use crate::tui::text::fit;

/// `HH:MM:SS` (UTC) of a flow's start, from the flow itself (never the wall clock).
pub fn clock(flow: &Flow) -> String {
    let secs = flow
        .started_at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day / 60 % 60, day % 60)
}

/// A byte count for humans: `512B`, `1.2k`, `3.4M`.
pub fn size(n: u64) -> String {
    match n {
        0..1_000 => format!("{n}B"),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// A duration for humans: `85ms`, `1.2s`.
pub fn duration(ms: Option<f64>) -> String {
    match ms {
        None => String::new(),
        Some(m) if m < 1000.0 => format!("{m:.0}ms"),
        Some(m) => format!("{:.1}s", m / 1000.0),
    }
}

/// The worst severity a row shows: its worst finding, or an error for a flow that failed
/// (no response and no longer in flight). The row's colour and its marker both come from it, so
/// a row reads the same without colour.
pub fn row_severity(digest: Option<&Digest>, flow: &Flow, in_flight: bool) -> Option<Severity> {
    match digest.and_then(|d| d.worst) {
        Some(s @ (Severity::Error | Severity::Warning)) => Some(s),
        _ if flow.error().is_some() && !in_flight => Some(Severity::Error),
        _ => None,
    }
}

/// The findings marker, as `analyze` prints it in its table: `!` an error, `?` a warning.
pub fn marker(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Error) => "!",
        Some(Severity::Warning) => "?",
        _ => " ",
    }
}

/// The KIND column is as wide as the kinds held need ([`App::kinds_width`]: whole kind names,
/// `provisioning` is 12 columns), within these bounds; longer lists are cut between words.
const KIND_MIN: u16 = 4;
const KIND_MAX: u16 = 20;

/// The column widths for a list `cols` wide, whose widest kinds text is `kinds` columns.
fn columns(cols: u16, kinds: usize) -> Vec<u16> {
    let kind = u16::try_from(kinds)
        .unwrap_or(KIND_MAX)
        .clamp(KIND_MIN, KIND_MAX);
    let constraints = [
        Constraint::Length(7),
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Fill(3),
        Constraint::Fill(4),
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(kind),
        Constraint::Fill(5),
    ];
    Layout::horizontal(constraints)
        .spacing(1)
        .split(Rect::new(0, 0, cols, 1))
        .iter()
        .map(|r| r.width)
        .collect()
}

/// Draws the visible rows of the list into `area` (header included).
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let height = usize::from(area.height.saturating_sub(1));
    let store = app.store();
    let widths = columns(area.width, app.kinds_width());
    let w = |i: usize| usize::from(widths.get(i).copied().unwrap_or(0));
    let mut rows = Vec::with_capacity(height);
    for i in app.offset..app.offset + height {
        let Some(id) = app.shown_at(i) else { break };
        let Some(f) = store.get(id) else { continue };
        let digest = app.digest(id);
        let in_flight = store.is_in_flight(id);
        let status = match f.response() {
            Some(r) => r.status.to_string(),
            None if in_flight => "…".into(),
            None => "ERR".into(),
        };
        let mut mark = String::new();
        if f.marked {
            mark.push('●');
        }
        if f.tags.iter().any(|t| t.starts_with("replay-of:")) {
            mark.push('↻');
        }
        let severity = row_severity(digest, f, in_flight);
        let mut style = match severity {
            Some(Severity::Error) => Style::new().fg(Color::Red),
            Some(Severity::Warning) => Style::new().fg(Color::Yellow),
            _ => Style::new(),
        };
        if i == app.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let kinds = digest.map(|d| d.kinds.as_str()).unwrap_or_default();
        rows.push(
            Row::new(vec![
                Cell::from(format!("{}{mark}", f.id.0 + 1)),
                Cell::from(marker(severity)),
                Cell::from(clock(f)),
                Cell::from(f.request.method.clone()),
                Cell::from(fit::host(&f.host(), w(4))),
                Cell::from(fit::path(f.path_and_query(), w(5))),
                Cell::from(status),
                Cell::from(f.response().map(|r| size(r.body.size)).unwrap_or_default()),
                Cell::from(duration(f.timings.total)),
                Cell::from(fit::kinds(kinds, w(9))),
                Cell::from(digest.map(|d| d.summary.clone()).unwrap_or_default()),
            ])
            .style(style),
        );
    }
    let header = Row::new([
        "#", "", "TIME", "METHOD", "HOST", "PATH", "CODE", "SIZE", "TIME", "KIND", "SUMMARY",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    frame.render_widget(
        Table::new(rows, widths.into_iter().map(Constraint::Length))
            .header(header)
            .column_spacing(1),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_are_short() {
        assert_eq!(size(512), "512B");
        assert_eq!(size(1_234), "1.2k");
        assert_eq!(size(3_400_000), "3.4M");
        assert_eq!(duration(Some(85.2)), "85ms");
        assert_eq!(duration(Some(1234.0)), "1.2s");
        assert_eq!(duration(None), "");
    }
}
