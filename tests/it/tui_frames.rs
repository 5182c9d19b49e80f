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

fn draw_at(app: &App, cols: u16, rows: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    t.draw(|f| idscope::tui::ui::render(f, app)).unwrap();
    t
}

/// The screen's rows as text.
fn rows(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}

/// At the widths people run the TUI at, a browser's sign-in reads: the token endpoints under
/// their tenant GUID keep `…/oauth2/token` (the start of the GUID and the endpoint, never the
/// GUID alone), an authorize URL loses its query first, kind names are whole words, and every
/// row carries the marker its colour stands for (`!` error, `?` warning), as `analyze` marks it.
#[test]
fn at_160_and_180_columns_the_list_shows_endpoints_whole_kinds_and_markers() {
    for cols in [160u16, 180] {
        let app = crate::tui_fixture::browser_app(cols);
        let t = draw_at(&app, cols, 24);
        let screen = rows(&t);
        let row = |n: usize| screen[1 + n].as_str();
        // Token requests to a tenant's GUID path: the GUID's start, then the endpoint.
        assert!(row(1).contains(" /4d3c2b1a-"), "{cols}: {}", row(1));
        assert!(row(1).contains("…/oauth2/token "), "{cols}: {}", row(1));
        assert!(
            row(3).contains("…/oauth2/v2.0/token "),
            "{cols}: {}",
            row(3)
        );
        // The query goes first: the whole path is there, the query cut at its end.
        assert!(
            row(2).contains(" /common/oauth2/v2.0/authorize?"),
            "{cols}: {}",
            row(2)
        );
        assert!(row(2).contains("… 200 "), "{cols}: {}", row(2));
        // Whole kind names.
        assert!(row(4).contains(" provisioning"), "{cols}: {}", row(4));
        assert!(!row(4).contains("provisioni "), "{cols}: {}", row(4));
        assert!(row(5).contains(" fedmetadata "), "{cols}: {}", row(5));
        // A long host keeps its start and its domain.
        assert!(row(4).contains(" admin"), "{cols}: {}", row(4));
        assert!(
            row(4).contains("microsoftonline.com "),
            "{cols}: {}",
            row(4)
        );
        // The marker column (x = 8, after `#`) agrees with the colour, row by row.
        let buf = t.backend().buffer();
        let mut errors = 0;
        for (i, id) in app.shown().iter().enumerate() {
            let y = 1 + i as u16;
            let (mark, colour) = (buf[(8, y)].symbol(), buf[(8, y)].fg);
            let expected = match app.digest(*id).and_then(|d| d.worst) {
                Some(idscope_decoders::Severity::Error) => ("!", Color::Red),
                Some(idscope_decoders::Severity::Warning) => ("?", Color::Yellow),
                _ => (" ", Color::Reset),
            };
            assert_eq!((mark, colour), expected, "{cols}: row {i}: {}", row(i));
            errors += usize::from(mark == "!");
        }
        assert!(errors > 0, "the wrapping attack is marked `!`");
        insta::assert_snapshot!(format!("browser_list_{cols}"), t.backend());
    }
}

/// The tab bar's labels name the keys that select the tabs: pressing the number of each label
/// shows that tab (highlighted, with its content).
#[test]
fn the_number_in_each_tab_label_selects_that_tab() {
    let mut app = crate::tui_fixture::browser_app(160);
    chars(&mut app, "j");
    keys(&mut app, &[KeyCode::Enter]);
    let bar = rows(&draw_at(&app, 160, 24))[1].clone();
    let labels: Vec<String> = bar
        .split('│')
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(labels.len(), idscope::tui::app::Tab::ALL.len(), "{bar}");
    // Backwards, so that no key is helped by the tab it starts on.
    for label in labels.iter().rev() {
        let key = label.chars().next().unwrap();
        chars(&mut app, &key.to_string());
        let tab = app.flow_view().unwrap().tab;
        assert_eq!(&tab.label(), label);
        let t = draw_at(&app, 160, 24);
        let buf = t.backend().buffer();
        let x = rows(&t)[1].find(label.as_str()).unwrap();
        let x = rows(&t)[1][..x].chars().count() as u16;
        assert!(
            buf[(x, 1)]
                .modifier
                .contains(ratatui::style::Modifier::REVERSED),
            "{label} is highlighted"
        );
    }
    chars(&mut app, "3");
    let screen = rows(&draw_at(&app, 160, 24)).join("\n");
    assert!(
        screen.contains("[oauth]"),
        "the Decoded tab shows the decoders:\n{screen}"
    );
    chars(&mut app, "1");
    let screen = rows(&draw_at(&app, 160, 24)).join("\n");
    assert!(
        screen.contains("POST https://login.microsoftonline.com/4d3c2b1a-"),
        "{screen}"
    );
}

/// A form body, one parameter per line, percent-decoded, the client secret masked until `s`.
#[test]
fn a_form_body_shows_one_decoded_parameter_per_line_secrets_masked() {
    let mut app = crate::tui_fixture::browser_app(160);
    chars(&mut app, "j");
    keys(&mut app, &[KeyCode::Enter]);
    let t = draw_at(&app, 160, 24);
    insta::assert_snapshot!("browser_form_request", t.backend());
    let screen = rows(&t).join("\n");
    assert!(!screen.contains("Syn8Q~thetic"), "{screen}");
    chars(&mut app, "s");
    let screen = rows(&draw_at(&app, 160, 24)).join("\n");
    assert!(
        screen.contains("client_secret = Syn8Q~thetic.Secret-Value_0123456789abcd"),
        "{screen}"
    );
}
