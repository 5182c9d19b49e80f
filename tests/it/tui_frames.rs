//! `TestBackend` snapshots of the main TUI screens (insta): the flow list with kinds, summaries
//! and colours, the flow view's tabs, the filter prompt with an error, a filter half applied
//! (old list, `filtering… N/M`), the `:` prompt with completion candidates, and the help
//! overlay (top, and scrolled to the commands).
//! Frames are deterministic: the app's clock and the flows' times are fixed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use idscope::tui::{App, Event};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::tui_fixture::sample_app;

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| idscope::tui::ui::render(f, app)).unwrap();
    t
}

fn keys(app: &mut App, codes: &[KeyCode]) {
    for c in codes {
        app.update(Event::Key(KeyEvent::new(*c, KeyModifiers::NONE)));
    }
}

fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        keys(app, &[KeyCode::Char(c)]);
    }
}

#[test]
fn flow_list() {
    let app = sample_app();
    let t = draw(&app);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn flow_list_rows_are_coloured_by_their_worst_finding() {
    let app = sample_app();
    let t = draw(&app);
    let buf = t.backend().buffer();
    // Row y = 1 + flow index; x = 1 is inside the "#" column.
    let colour = |flow: usize| buf[(1, 1 + flow as u16)].fg;
    for (i, id) in app.shown().iter().enumerate() {
        let expected = match app.digest(*id).and_then(|d| d.worst) {
            Some(idscope_decoders::Severity::Error) => Color::Red,
            Some(idscope_decoders::Severity::Warning) => Color::Yellow,
            _ => Color::Reset,
        };
        assert_eq!(colour(i), expected, "row {i}");
    }
    let reds = (0..app.shown().len())
        .filter(|i| colour(*i) == Color::Red)
        .count();
    assert!(reds > 0, "the wrapping attack is an error");
}

#[test]
fn filtered_to_saml_with_a_bad_filter_being_edited() {
    let mut app = sample_app();
    chars(&mut app, "f~k saml");
    keys(&mut app, &[KeyCode::Enter]);
    chars(&mut app, "f");
    chars(&mut app, " & ~c x");
    keys(&mut app, &[KeyCode::Enter]);
    let t = draw(&app);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn flow_view_tabs() {
    let mut app = sample_app();
    keys(&mut app, &[KeyCode::Char('j'), KeyCode::Enter]);
    for name in ["request", "response", "decoded", "story", "detail"] {
        let t = draw(&app);
        insta::assert_snapshot!(format!("flow_view_{name}"), t.backend());
        keys(&mut app, &[KeyCode::Tab]);
    }
}

#[test]
fn decoded_saml_and_its_story() {
    let mut app = sample_app();
    keys(&mut app, &[KeyCode::Char('G')]);
    chars(&mut app, "kkkk");
    keys(&mut app, &[KeyCode::Enter, KeyCode::Tab, KeyCode::Tab]);
    insta::assert_snapshot!("wsfed_decoded", draw(&app).backend());
    keys(&mut app, &[KeyCode::Tab]);
    insta::assert_snapshot!("wsfed_story", draw(&app).backend());
}

#[test]
fn help_overlay() {
    let mut app = sample_app();
    chars(&mut app, "?");
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn help_overlay_scrolled_to_the_commands() {
    let mut app = sample_app();
    chars(&mut app, "?G");
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn command_prompt_with_completion_candidates() {
    let mut app = sample_app();
    chars(&mut app, ":ma");
    keys(&mut app, &[KeyCode::Tab]);
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn a_filter_half_applied_keeps_the_old_list_and_says_so() {
    let mut app = sample_app();
    app.set_work_slice(4);
    chars(&mut app, "f~k saml");
    keys(&mut app, &[KeyCode::Enter]);
    assert!(app.busy());
    insta::assert_snapshot!(draw(&app).backend());
}
