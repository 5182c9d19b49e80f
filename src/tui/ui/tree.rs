//! The Decoded tab drawn: the lines the model flattened ([`crate::tui::text::tree`]) from
//! `scroll`, with the cursor and search matches.

use idscope_decoders::{Kind, Severity};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::text::tree::{LineKind, TreeLine};

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => Style::new().fg(Color::Red),
        Severity::Warning => Style::new().fg(Color::Yellow),
        Severity::Info => Style::new().fg(Color::Cyan),
    }
}

/// Draws the lines from `scroll`, the cursor line highlighted and search matches underlined.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    lines: &[TreeLine],
    scroll: usize,
    cursor: usize,
    search: Option<&regex::Regex>,
) {
    let height = usize::from(area.height);
    let shown: Vec<Line> = lines
        .iter()
        .enumerate()
        .skip(scroll)
        .take(height)
        .map(|(i, l)| {
            let mut spans = vec![Span::raw("  ".repeat(usize::from(l.depth)))];
            if l.has_children {
                spans.push(Span::styled(
                    if l.folded { "▸ " } else { "▾ " },
                    Style::new().fg(Color::DarkGray),
                ));
            }
            let label_style = match l.kind {
                LineKind::Side => Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                LineKind::Decoder => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
                LineKind::Failed => Style::new().fg(Color::DarkGray),
                LineKind::Finding(s) => severity_style(s),
                LineKind::Node(Kind::Section) => Style::new().add_modifier(Modifier::BOLD),
                LineKind::Node(Kind::Error) => Style::new().fg(Color::Red),
                LineKind::Node(_) | LineKind::More => Style::new().fg(Color::Blue),
            };
            spans.push(Span::styled(l.label.clone(), label_style));
            if let Some(v) = &l.shown {
                if l.kind != LineKind::More {
                    spans.push(Span::raw(": "));
                }
                let vs = match l.kind {
                    LineKind::Node(Kind::Secret) => Style::new().fg(Color::Magenta),
                    LineKind::Node(Kind::Timestamp) => Style::new().fg(Color::Cyan),
                    _ => Style::new(),
                };
                spans.push(Span::styled(v.clone(), vs));
            }
            if let Some(n) = &l.note {
                spans.push(Span::styled(
                    format!("  — {n}"),
                    Style::new().fg(Color::DarkGray),
                ));
            }
            let mut line = Line::from(spans);
            if search.is_some_and(|re| re.is_match(&l.plain())) {
                line = line.patch_style(Style::new().add_modifier(Modifier::UNDERLINED));
            }
            if i == cursor {
                line = line.patch_style(Style::new().add_modifier(Modifier::REVERSED));
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), area);
}
