//! The flow view: a title line, the tab bar and the current tab. The tabs' text is built by the
//! model when a flow is opened ([`crate::tui::text`]); [`render`] only slices and styles those
//! lines.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs};

use super::tree;
use crate::tui::app::{App, Tab};
use crate::tui::text::{TextLine, Tone};

pub(super) fn tone_style(t: Tone) -> Style {
    match t {
        Tone::Normal => Style::new(),
        Tone::Heading => Style::new().add_modifier(Modifier::BOLD),
        Tone::Dim => Style::new().fg(Color::DarkGray),
        Tone::Good => Style::new().fg(Color::Green),
        Tone::Warn => Style::new().fg(Color::Yellow),
        Tone::Bad => Style::new().fg(Color::Red),
        Tone::Current => Style::new().add_modifier(Modifier::REVERSED),
    }
}

fn text_tab(
    frame: &mut Frame,
    area: Rect,
    lines: &[TextLine],
    scroll: usize,
    search: Option<&regex::Regex>,
) {
    let shown: Vec<Line> = lines
        .iter()
        .skip(scroll)
        .take(usize::from(area.height))
        .map(|l| {
            let mut style = tone_style(l.tone);
            if search.is_some_and(|re| re.is_match(&l.text)) {
                style = style.add_modifier(Modifier::UNDERLINED).fg(Color::Yellow);
            }
            Line::styled(l.text.clone(), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), area);
}

/// Draws the open flow into `area`.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let Some(v) = app.flow_view() else { return };
    let [title, tabs, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let head = match app.store().get(v.id) {
        Some(f) => {
            let status = match f.response() {
                Some(r) => r.status.to_string(),
                None if app.store().is_in_flight(f.id) => "…".into(),
                None => "ERR".into(),
            };
            let kinds = app
                .digest(f.id)
                .map(|d| d.kinds.clone())
                .unwrap_or_default();
            let mut spans = vec![
                Span::styled(
                    format!("{} ", f.id),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!("{} {} → {status}", f.request.method, f.request.url)),
            ];
            if !kinds.is_empty() {
                spans.push(Span::styled(
                    format!("  [{kinds}]"),
                    Style::new().fg(Color::Green),
                ));
            }
            if f.marked {
                spans.push(Span::styled("  ●marked", Style::new().fg(Color::Magenta)));
            }
            Line::from(spans)
        }
        None => Line::raw(format!("{} (no longer in the store)", v.id)),
    };
    frame.render_widget(Paragraph::new(head), title);
    // The labels name the number keys that select the tabs (`Tab::label`).
    let titles: Vec<String> = Tab::ALL.iter().map(|t| t.label()).collect();
    let selected = v.tab.index();
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
        tabs,
    );
    let scroll = v.scroll.get(selected).copied().unwrap_or(0);
    let search = v.search.as_ref();
    match v.tab {
        Tab::Request => text_tab(frame, body, &v.request, scroll, search),
        Tab::Response => text_tab(frame, body, &v.response, scroll, search),
        Tab::Decoded => tree::render(frame, body, &v.tree, scroll, v.cursor, search),
        Tab::Story => text_tab(frame, body, &v.story, scroll, search),
        Tab::Detail => text_tab(frame, body, &v.detail, scroll, search),
    }
}
