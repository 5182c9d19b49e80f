//! Drawing: [`render`] lays out one frame from an [`App`] it only reads — the list or the flow
//! view, the status bar, the prompt line, the summary screen, the help and diff overlays. No decoding, no clock, no I/O
//! happens here, so frames are deterministic and can be snapshot with `TestBackend`.

pub mod diff_overlay;
pub mod flow_view;
pub mod help;
pub mod list;
pub mod status;
pub mod summary;
pub mod tree;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};

use super::app::App;

/// A `w` × `h` rectangle centred in `area` (both clamped to it), for overlays.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    rect
}

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let [main, bar, line] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    if app.flow_view().is_some() {
        flow_view::render(frame, main, app);
    } else {
        list::render(frame, main, app);
    }
    if let Some(s) = app.summary_screen() {
        summary::render(frame, main, s);
    }
    status::render(frame, bar, line, app);
    if app.help_shown() {
        help::render(frame, frame.area(), app.help_scroll());
    }
    if let Some(o) = &app.diff {
        diff_overlay::render(frame, frame.area(), o);
    }
}
