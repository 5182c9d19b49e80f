//! The trace summary screen (`S`, `:summary`): the summary's lines
//! ([`crate::tui::app::SummaryScreen`]) in a box over the list, the selected row reversed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use super::flow_view::tone_style;
use crate::tui::app::SummaryScreen;

/// Draws the screen over `area`.
pub fn render(frame: &mut Frame, area: Rect, s: &SummaryScreen) {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(" trace summary (j/k select, enter applies the row's filter, esc closes) ")
        .title_style(Style::new().add_modifier(Modifier::BOLD));
    let lines: Vec<Line> = s
        .lines
        .iter()
        .enumerate()
        .skip(s.scroll)
        .map(|(i, l)| {
            let style = if i == s.selected && l.filter.is_some() {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                tone_style(l.line.tone)
            };
            Line::styled(l.line.text.clone(), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
