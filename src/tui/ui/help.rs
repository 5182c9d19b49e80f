//! The help overlay (`?`): the help text ([`crate::tui::text::help`]) in a centred box.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::tui::text::help::lines;

/// Draws the overlay over `area`, from help line `scroll` on (j/k and the page keys scroll it
/// when the screen is shorter than the help).
pub fn render(frame: &mut Frame, area: Rect, scroll: usize) {
    let text = lines();
    let h = (text.len() as u16 + 2).min(area.height);
    let rect = super::centered(area, 84, h);
    frame.render_widget(Clear, rect);
    let more = text.len().saturating_sub(usize::from(h.saturating_sub(2)));
    let title = if more > 0 {
        " keys (? or esc to close; j/k scroll) "
    } else {
        " keys (? or esc to close) "
    };
    let block = Block::bordered()
        .title(title)
        .title_style(Style::new().add_modifier(Modifier::BOLD));
    frame.render_widget(
        Paragraph::new(
            text.into_iter()
                .skip(scroll.min(more))
                .map(Line::raw)
                .collect::<Vec<_>>(),
        )
        .block(block),
        rect,
    );
}
