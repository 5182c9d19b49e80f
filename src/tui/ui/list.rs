//! The flow list: a virtualised table (only the rows on screen are built, so 100,000 flows cost
//! the same as 30) with #, time, method, host, path, status, size, duration, decoded kind and
//! summary. Rows are coloured by their worst finding (errors red, warnings yellow); marked flows
//! carry a dot, replays an arrow. Everything comes from the store and each flow's digest.

use std::time::UNIX_EPOCH;

use idscope_decoders::Severity;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Cell, Row, Table};

use super::super::app::App;
use crate::flow::Flow;

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

/// Draws the visible rows of the list into `area` (header included).
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let height = usize::from(area.height.saturating_sub(1));
    let store = app.store();
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
        let mut style = match digest.and_then(|d| d.worst) {
            Some(Severity::Error) => Style::new().fg(Color::Red),
            Some(Severity::Warning) => Style::new().fg(Color::Yellow),
            _ if f.error().is_some() && !in_flight => Style::new().fg(Color::Red),
            _ => Style::new(),
        };
        if i == app.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        rows.push(
            Row::new(vec![
                Cell::from(format!("{}{mark}", f.id.0 + 1)),
                Cell::from(clock(f)),
                Cell::from(f.request.method.clone()),
                Cell::from(f.host()),
                Cell::from(f.path_and_query().to_string()),
                Cell::from(status),
                Cell::from(f.response().map(|r| size(r.body.size)).unwrap_or_default()),
                Cell::from(duration(f.timings.total)),
                Cell::from(digest.map(|d| d.kinds.clone()).unwrap_or_default()),
                Cell::from(digest.map(|d| d.summary.clone()).unwrap_or_default()),
            ])
            .style(style),
        );
    }
    let widths = [
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Fill(3),
        Constraint::Fill(3),
        Constraint::Length(4),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Fill(5),
    ];
    let header = Row::new([
        "#", "TIME", "METHOD", "HOST", "PATH", "CODE", "SIZE", "TIME", "KIND", "SUMMARY",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
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
