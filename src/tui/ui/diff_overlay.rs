//! The diff overlay (`=`): the differences between the two marked flows
//! ([`crate::tui::app::DiffOverlay`]) in a centred box.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::app::DiffOverlay;
use crate::tui::text::Tone;

/// Draws the diff overlay over `area`.
pub fn render(frame: &mut Frame, area: Rect, o: &DiffOverlay) {
    let h = (o.lines.len() as u16 + 2).min(area.height);
    let rect = super::centered(area, 110, h);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(o.title.clone())
        .title_style(Style::new().add_modifier(Modifier::BOLD));
    let lines: Vec<Line> = o
        .lines
        .iter()
        .skip(o.scroll)
        .map(|l| {
            let style = match l.tone {
                Tone::Heading => Style::new().add_modifier(Modifier::BOLD),
                Tone::Good => Style::new().fg(Color::Green),
                Tone::Bad => Style::new().fg(Color::Red),
                _ => Style::new(),
            };
            Line::styled(l.text.clone(), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
