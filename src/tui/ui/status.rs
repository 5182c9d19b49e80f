//! The two bottom lines: the status bar (source or listen address, recording file, flow counts,
//! loading progress, order, follow, marked only, noise hidden, the filter) and below it either
//! the prompt being edited — with the text from the column where a filter expression is wrong
//! underlined — or the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::super::app::{App, PromptKind};

/// The status bar text.
pub fn status_text(app: &App) -> String {
    let store = app.store();
    let mut parts: Vec<String> = Vec::new();
    match &app.meta.listen {
        Some(addr) => parts.push(format!("listening on {addr}")),
        None => parts.push(app.meta.source.clone()),
    }
    if let Some(rec) = &app.meta.recording {
        parts.push(format!("recording {}", rec.display()));
    }
    let mut counts = format!("{}/{} flows", app.shown.len(), store.len());
    if store.in_flight_count() > 0 {
        counts.push_str(&format!(", {} in flight", store.in_flight_count()));
    }
    let marked = app.marked;
    if marked > 0 {
        counts.push_str(&format!(", {marked} marked"));
    }
    if store.evicted_total() > 0 {
        counts.push_str(&format!(", {} evicted", store.evicted_total()));
    }
    parts.push(counts);
    if let Some(l) = app.loading.as_ref().filter(|l| !l.done) {
        parts.push(format!("loading… {} read", l.flows));
    }
    if let Some((what, done, total)) = app.rebuilding() {
        // The list still shows the previous result until this is done.
        parts.push(format!("{what}… {}/{total}", done.min(total)));
    }
    let mut order = format!("order {}", app.order.name());
    if app.reverse {
        order.push_str(" ↑");
    }
    parts.push(order);
    if app.follow {
        parts.push("follow".into());
    }
    if app.marked_only {
        parts.push("marked only".into());
    }
    if app.hiding_noise() {
        parts.push("noise hidden".into());
    }
    if let Some(f) = &app.filter {
        parts.push(format!("filter: {}", f.text()));
    }
    parts.join(" │ ")
}

/// Draws the status bar on `bar` and the prompt or message on `line`.
pub fn render(frame: &mut Frame, bar: Rect, line: Rect, app: &App) {
    frame.render_widget(
        Paragraph::new(status_text(app)).style(Style::new().add_modifier(Modifier::REVERSED)),
        bar,
    );
    let bottom = match &app.prompt {
        Some(p) => {
            let label = match p.kind {
                PromptKind::Filter => "filter: ",
                PromptKind::ListSearch => "search (filter expression): ",
                PromptKind::FlowSearch => "search: ",
                PromptKind::Export { redacted: false } => "export HAR to: ",
                PromptKind::Export { redacted: true } => "export redacted HAR to: ",
                PromptKind::ExportReport => "write redacted HTML report to: ",
                PromptKind::ConfirmClear => "clear all flows? (y/n) ",
                PromptKind::Command => ":",
            };
            match &p.error {
                // The text from the error column on is underlined in red; the message follows.
                Some(e) => Line::from(vec![
                    Span::raw(label),
                    Span::raw(p.input.get(..e.pos).unwrap_or(&p.input).to_string()),
                    Span::styled(
                        p.input
                            .get(e.pos..)
                            .filter(|s| !s.is_empty())
                            .unwrap_or(" ")
                            .to_string(),
                        Style::new()
                            .fg(Color::Red)
                            .add_modifier(Modifier::UNDERLINED),
                    ),
                    Span::styled(
                        format!("  ✗ {} (column {})", e.message, e.column()),
                        Style::new().fg(Color::Red),
                    ),
                ]),
                None => Line::from(vec![
                    Span::raw(label),
                    Span::raw(p.input.clone()),
                    Span::raw("▏"),
                    Span::styled(
                        p.hint
                            .as_ref()
                            .map(|h| format!("  {h}"))
                            .unwrap_or_default(),
                        Style::new().fg(Color::DarkGray),
                    ),
                ]),
            }
        }
        None => match &app.message {
            Some(m) => Line::raw(m.clone()),
            None => Line::styled(
                "? help  f filter  : command  enter open  q quit",
                Style::new().fg(Color::DarkGray),
            ),
        },
    };
    frame.render_widget(Paragraph::new(bottom), line);
}
