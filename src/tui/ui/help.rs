//! The help overlay (`?`): every binding of `keymap::BINDINGS` in a centred box, so the help is
//! the dispatch table itself, the `:` commands of `command::COMMANDS`, and a reminder of the
//! filter language.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

use super::super::command::COMMANDS;
use super::super::keymap::{BINDINGS, Context};

/// The help text, one line per binding.
pub fn lines() -> Vec<String> {
    let mut out: Vec<String> = BINDINGS
        .iter()
        .map(|b| {
            let w = match b.context {
                None => "",
                Some(Context::List) => " (list)",
                Some(Context::Flow) => " (flow)",
            };
            format!("{:<14} {}{w}", b.keys, b.help)
        })
        .collect();
    // The commands, packed into lines of the box's width.
    let mut line = String::from("commands:");
    for c in COMMANDS {
        let item = if c.args.is_empty() {
            format!(" :{}", c.name)
        } else {
            format!(" :{} {}", c.name, c.args)
        };
        if line.chars().count() + item.chars().count() > 80 {
            out.push(std::mem::replace(&mut line, "         ".into()));
        }
        line.push_str(&item);
    }
    out.push(line);
    out.push("filters: ~d ~u ~m ~c ~h ~t ~b ~k KIND ~claim N=RE ~op RE ~finding [SEV]".into());
    out.push("         ! & | ( ); a bare word is ~u; regexes are case-insensitive".into());
    out
}

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
