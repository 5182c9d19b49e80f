//! `App::update` for every key of the TUI, and the live path: flow events from a synthetic proxy
//! channel, through the real event loop, onto a `TestBackend` screen. No terminal is involved.

use std::time::{Duration, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use idscope::flow::{Body, Extra, FlowError, FlowEvent, FlowId, Request, Response, Timings};
use idscope::tui::app::{PromptKind, Tab};
use idscope::tui::{App, Control, Event};

use crate::tui_fixture::{fixture_flow, sample_app, with_digest};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(app: &mut App, c: char) -> Control {
    app.update(key(KeyCode::Char(c)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, c);
    }
}

fn enter(app: &mut App) -> Control {
    app.update(key(KeyCode::Enter))
}

fn tab_of(app: &App) -> Tab {
    app.flow_view().unwrap().tab
}

#[test]
fn j_k_arrows_g_and_page_keys_move_the_selection() {
    let mut app = sample_app();
    assert_eq!(app.selected_id(), Some(FlowId(0)));
    press(&mut app, 'j');
    app.update(key(KeyCode::Down));
    assert_eq!(app.selected_id(), Some(FlowId(2)));
    press(&mut app, 'k');
    assert_eq!(app.selected_id(), Some(FlowId(1)));
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Up));
    assert_eq!(app.selected_id(), Some(FlowId(0)), "stops at the top");
    press(&mut app, 'G');
    assert_eq!(app.selected_id(), Some(FlowId(8)));
    press(&mut app, 'g');
    assert_eq!(app.selected_id(), Some(FlowId(0)));
    app.update(key(KeyCode::PageDown));
    assert_eq!(
        app.selected_id(),
        Some(FlowId(8)),
        "a page is longer than the list"
    );
    app.update(key(KeyCode::PageUp));
    assert_eq!(app.selected_id(), Some(FlowId(0)));
    app.update(key(KeyCode::End));
    app.update(key(KeyCode::Home));
    assert_eq!(app.selected_id(), Some(FlowId(0)));
}

#[test]
fn enter_opens_the_flow_and_q_or_esc_go_back_then_quit() {
    let mut app = sample_app();
    press(&mut app, 'j');
    assert_eq!(enter(&mut app), Control::Continue);
    let v = app.flow_view().unwrap();
    assert_eq!((v.id, v.tab), (FlowId(1), Tab::Request));
    assert!(
        v.request[0]
            .text
            .starts_with("POST https://login.microsoftonline.com/")
    );
    assert!(
        app.cached_report(FlowId(1)).is_some(),
        "decoded on open, cached"
    );
    assert_eq!(press(&mut app, 'q'), Control::Continue);
    assert!(app.flow_view().is_none());
    enter(&mut app);
    assert_eq!(app.update(key(KeyCode::Esc)), Control::Continue);
    assert!(app.flow_view().is_none());
    assert_eq!(press(&mut app, 'q'), Control::Quit);
    assert_eq!(app.update(key(KeyCode::Esc)), Control::Quit);
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let ctrl_c = || Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    let mut app = sample_app();
    assert_eq!(app.update(ctrl_c()), Control::Quit);
    enter(&mut app);
    assert_eq!(app.update(ctrl_c()), Control::Quit);
    press(&mut app, 'q');
    press(&mut app, 'f');
    assert_eq!(app.update(ctrl_c()), Control::Quit, "even in a prompt");
}

#[test]
fn tab_and_shift_tab_cycle_the_five_tabs() {
    let mut app = sample_app();
    enter(&mut app);
    let mut seen = vec![tab_of(&app)];
    for _ in 0..5 {
        app.update(key(KeyCode::Tab));
        seen.push(tab_of(&app));
    }
    assert_eq!(
        seen,
        [
            Tab::Request,
            Tab::Response,
            Tab::Decoded,
            Tab::Story,
            Tab::Detail,
            Tab::Request
        ]
    );
    app.update(key(KeyCode::BackTab));
    assert_eq!(tab_of(&app), Tab::Detail);
    let detail = &app.flow_view().unwrap().detail;
    assert!(
        detail
            .iter()
            .any(|l| l.text == "client          10.0.0.5:51000")
    );
    assert!(
        detail
            .iter()
            .any(|l| l.text.starts_with("TLS             yes"))
    );
}

#[test]
fn space_and_p_step_through_flows_keeping_the_tab() {
    let mut app = sample_app();
    enter(&mut app);
    app.update(key(KeyCode::Tab));
    press(&mut app, ' ');
    assert_eq!(app.flow_view().unwrap().id, FlowId(1));
    assert_eq!(tab_of(&app), Tab::Response);
    assert_eq!(app.selected_id(), Some(FlowId(1)), "the list follows");
    press(&mut app, 'p');
    assert_eq!(app.flow_view().unwrap().id, FlowId(0));
}

#[test]
fn decoded_tab_moves_folds_reveals_and_copies() {
    let mut app = sample_app();
    press(&mut app, 'j');
    enter(&mut app); // the ROPC flow: its password is a secret
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    assert_eq!(tab_of(&app), Tab::Decoded);
    let tree = &app.flow_view().unwrap().tree;
    let pw = tree.iter().position(|l| l.label == "password").unwrap();
    assert!(tree[pw].masked);
    // Move the cursor to the password line and try to copy it: refused while masked.
    for _ in 0..pw {
        press(&mut app, 'j');
    }
    assert_eq!(app.flow_view().unwrap().cursor, pw);
    assert_eq!(press(&mut app, 'y'), Control::Continue);
    assert!(app.message().unwrap().contains("press s to reveal"));
    press(&mut app, 's');
    let revealed = app.flow_view().unwrap().tree[pw].value.clone().unwrap();
    assert!(!revealed.starts_with('«'));
    assert_eq!(press(&mut app, 'y'), Control::Copy(revealed));
    press(&mut app, 's');
    assert!(app.flow_view().unwrap().tree[pw].masked, "s masks again");
    // Fold the first foldable node: the tree gets shorter; enter again unfolds.
    press(&mut app, 'g');
    let before = app.flow_view().unwrap().tree.len();
    let node = app
        .flow_view()
        .unwrap()
        .tree
        .iter()
        .position(|l| l.has_children)
        .unwrap();
    for _ in 0..node {
        press(&mut app, 'j');
    }
    enter(&mut app);
    let after = app.flow_view().unwrap().tree.len();
    assert!(after < before, "{after} < {before}");
    assert!(app.flow_view().unwrap().tree[node].folded);
    enter(&mut app);
    assert_eq!(app.flow_view().unwrap().tree.len(), before);
}

#[test]
fn y_elsewhere_copies_the_url_and_x_copies_curl_with_credentials_masked() {
    let mut app = sample_app();
    press(&mut app, 'j');
    assert_eq!(
        press(&mut app, 'y'),
        Control::Copy(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token".into()
        )
    );
    match press(&mut app, 'x') {
        Control::Copy(cmd) => {
            assert!(
                cmd.starts_with("curl -X POST 'https://login.microsoftonline.com/"),
                "{cmd}"
            );
            assert!(
                cmd.contains("--data-binary '") && cmd.contains("grant_type=password"),
                "{cmd}"
            );
            assert!(
                cmd.contains("password=«secret: 23 chars»"),
                "the password is masked: {cmd}"
            );
        }
        other => panic!("{other:?}"),
    }
    enter(&mut app);
    assert!(matches!(press(&mut app, 'y'), Control::Copy(u) if u.ends_with("/oauth2/token")));
    assert!(matches!(press(&mut app, 'x'), Control::Copy(c) if c.starts_with("curl")));
}

#[test]
fn f_sets_a_filter_and_a_bad_expression_shows_where_and_keeps_the_old_one() {
    let mut app = sample_app();
    press(&mut app, 'f');
    assert_eq!(app.prompt().unwrap().kind, PromptKind::Filter);
    typed(&mut app, "~k saml");
    enter(&mut app);
    assert!(app.prompt().is_none());
    assert_eq!(
        app.shown(),
        vec![FlowId(5), FlowId(6), FlowId(7), FlowId(8)]
    );
    assert_eq!(app.message(), Some("4 of 9 flows match"));
    // A bad one: the prompt stays with the error position, the old filter stays.
    press(&mut app, 'f');
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut app, "~d login & ~zz");
    enter(&mut app);
    let p = app.prompt().unwrap();
    let e = p.error.as_ref().unwrap();
    assert_eq!((e.pos, e.message.as_str()), (11, "unknown filter `~zz`"));
    assert_eq!(app.filter().unwrap().text(), "~k saml");
    assert_eq!(app.shown().len(), 4);
    // Backspace edits, esc abandons; an empty filter clears.
    app.update(key(KeyCode::Backspace));
    assert!(app.prompt().unwrap().error.is_none());
    app.update(key(KeyCode::Esc));
    assert!(app.prompt().is_none());
    press(&mut app, 'f');
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    enter(&mut app);
    assert!(app.filter().is_none());
    assert_eq!(app.shown().len(), 9);
}

#[test]
fn claim_and_op_filters_work_in_the_ui() {
    let mut app = sample_app();
    press(&mut app, 'f');
    typed(&mut app, "~claim IDPEmail=alice@");
    enter(&mut app);
    assert_eq!(
        app.shown(),
        vec![FlowId(5), FlowId(8)],
        "signed and unsigned responses"
    );
    press(&mut app, 'f');
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut app, "~op ProvisionAzureADSyncObjects");
    enter(&mut app);
    assert_eq!(app.shown(), vec![FlowId(2)]);
}

#[test]
fn slash_searches_the_list_with_an_expression_and_n_goes_on() {
    let mut app = sample_app();
    press(&mut app, '/');
    assert_eq!(app.prompt().unwrap().kind, PromptKind::ListSearch);
    typed(&mut app, "~d idp.contoso");
    enter(&mut app);
    assert_eq!(app.selected_id(), Some(FlowId(6)));
    press(&mut app, 'n');
    assert_eq!(
        app.selected_id(),
        Some(FlowId(6)),
        "the only match, found again"
    );
    assert_eq!(app.shown().len(), 9, "search does not filter");
}

#[test]
fn slash_in_the_flow_view_searches_the_tab_text() {
    let mut app = sample_app();
    press(&mut app, 'j');
    enter(&mut app);
    press(&mut app, '/');
    assert_eq!(app.prompt().unwrap().kind, PromptKind::FlowSearch);
    typed(&mut app, "client-request");
    enter(&mut app);
    let v = app.flow_view().unwrap();
    let line = v.scroll[0];
    assert!(
        v.request[line].text.starts_with("client-request-id:"),
        "{line}"
    );
    press(&mut app, 'n');
    assert!(app.message().unwrap().starts_with("match at line"));
}

#[test]
fn m_marks_and_capital_m_shows_marked_only() {
    let mut app = sample_app();
    press(&mut app, 'j');
    press(&mut app, 'm');
    assert!(app.store().get(FlowId(1)).unwrap().marked);
    press(&mut app, 'M');
    assert_eq!(app.shown(), vec![FlowId(1)]);
    press(&mut app, 'm');
    assert!(app.shown().is_empty(), "unmarking hides it");
    press(&mut app, 'M');
    assert_eq!(app.shown().len(), 9);
    enter(&mut app);
    press(&mut app, 'm');
    assert!(
        app.store().get(app.flow_view().unwrap().id).unwrap().marked,
        "m in the flow view"
    );
}

#[test]
fn r_asks_for_a_replay_and_the_result_is_a_linked_new_flow() {
    let mut app = sample_app();
    press(&mut app, 'j');
    let control = press(&mut app, 'r');
    let Control::Replay(original) = control else {
        panic!("{control:?}")
    };
    assert_eq!(original.id, FlowId(1));
    // The loop sends the replayed flow back; it gets the next id and its tag.
    let mut replayed = fixture_flow(
        0,
        Some("oauth/ropc_v1_request"),
        Some("oauth/ropc_v1_response"),
    );
    replayed.tags = vec!["replay".into(), "replay-of:#2".into()];
    app.update(Event::Replayed(Box::new(replayed)));
    assert_eq!(app.store().len(), 10);
    let new = app.store().get(FlowId(9)).unwrap();
    assert!(new.tags.contains(&"replay-of:#2".to_string()));
    assert_eq!(app.message(), Some("replay of #2 is #10"));
    press(&mut app, 'f');
    typed(&mut app, "~replay");
    enter(&mut app);
    assert_eq!(app.shown(), vec![FlowId(9)]);
    enter(&mut app);
    assert!(matches!(press(&mut app, 'r'), Control::Replay(f) if f.id == FlowId(9)));
}

#[test]
fn e_w_and_capital_e_export_marked_or_shown_flows() {
    let mut app = sample_app();
    press(&mut app, 'e');
    let p = app.prompt().unwrap();
    assert_eq!(p.kind, PromptKind::Export { redacted: false });
    assert_eq!(
        p.input, "idscope-export-1700000000.har",
        "named from the app clock"
    );
    let c = enter(&mut app);
    assert_eq!(
        c,
        Control::Export {
            ids: (0..9).map(FlowId).collect(),
            path: "idscope-export-1700000000.har".into(),
            redacted: false
        }
    );
    // With marks, only the marked flows go.
    press(&mut app, 'G');
    press(&mut app, 'm');
    press(&mut app, 'w');
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut app, "out.har");
    assert_eq!(
        enter(&mut app),
        Control::Export {
            ids: vec![FlowId(8)],
            path: "out.har".into(),
            redacted: false
        }
    );
    press(&mut app, 'E');
    assert!(app.prompt().unwrap().input.ends_with("-redacted.har"));
    assert!(matches!(
        enter(&mut app),
        Control::Export { redacted: true, .. }
    ));
    app.update(Event::Notice(
        "export failed: redaction not available in this build".into(),
    ));
    assert_eq!(
        app.message(),
        Some("export failed: redaction not available in this build")
    );
}

#[test]
fn z_clears_only_after_y() {
    let mut app = sample_app();
    press(&mut app, 'z');
    assert_eq!(app.prompt().unwrap().kind, PromptKind::ConfirmClear);
    press(&mut app, 'n');
    assert_eq!(app.store().len(), 9);
    assert_eq!(app.message(), Some("not cleared"));
    press(&mut app, 'z');
    press(&mut app, 'y');
    assert!(app.store().is_empty());
    assert!(app.shown().is_empty());
    assert_eq!(app.message(), Some("cleared 9 flows"));
}

#[test]
fn o_cycles_the_order_and_v_reverses_keeping_the_selection() {
    let mut app = sample_app();
    press(&mut app, 'o');
    assert_eq!(app.message(), Some("order: method"));
    let methods: Vec<String> = app
        .shown()
        .iter()
        .map(|id| app.store().get(*id).unwrap().request.method.clone())
        .collect();
    let mut sorted = methods.clone();
    sorted.sort();
    assert_eq!(methods, sorted);
    press(&mut app, 'o');
    assert_eq!(app.message(), Some("order: host"));
    for name in ["status", "size", "duration", "time"] {
        press(&mut app, 'o');
        assert_eq!(app.message(), Some(format!("order: {name}").as_str()));
    }
    assert_eq!(app.shown()[0], FlowId(0));
    press(&mut app, 'j');
    press(&mut app, 'j');
    press(&mut app, 'v');
    assert_eq!(app.shown()[0], FlowId(8));
    assert_eq!(
        app.selected_id(),
        Some(FlowId(2)),
        "selection stays on the flow"
    );
}

#[test]
fn capital_f_follows_new_flows() {
    let mut app = sample_app();
    press(&mut app, 'F');
    assert!(app.following());
    assert_eq!(app.selected_id(), Some(FlowId(8)));
    app.update(Event::Loaded(vec![with_digest(fixture_flow(
        9,
        None,
        Some("realm/v1_managed"),
    ))]));
    assert_eq!(app.selected_id(), Some(FlowId(9)));
    press(&mut app, 'k');
    assert!(!app.following(), "moving up stops following");
    press(&mut app, 'F');
    press(&mut app, 'F');
    assert!(!app.following());
}

#[test]
fn question_mark_shows_help_and_esc_closes_it() {
    let mut app = sample_app();
    press(&mut app, '?');
    assert!(app.help_shown());
    press(&mut app, 'j');
    assert_eq!(
        app.selected_id(),
        Some(FlowId(0)),
        "keys do not leak through the help"
    );
    app.update(key(KeyCode::Esc));
    assert!(!app.help_shown());
    enter(&mut app);
    press(&mut app, '?');
    assert!(app.help_shown());
    press(&mut app, '?');
    assert!(!app.help_shown());
}

#[test]
fn story_tab_places_the_flow_in_its_sequence_with_checks() {
    let mut app = sample_app();
    for _ in 0..4 {
        press(&mut app, 'j');
    }
    enter(&mut app); // the WS-Fed POST
    for _ in 0..3 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(tab_of(&app), Tab::Story);
    let story: Vec<String> = app
        .flow_view()
        .unwrap()
        .story
        .iter()
        .map(|l| l.text.clone())
        .collect();
    assert!(
        story[0].starts_with("federated sign-in — step 2 of"),
        "{story:#?}"
    );
    assert!(
        story.iter().any(|l| l.starts_with("▶     #5")),
        "{story:#?}"
    );
    assert!(
        story.iter().any(|l| l.contains(
            "✓ ImmutableID in the SAML (#5: lHh/rEL830q6/mStDnD4uw==) = SourceAnchor provisioned \
             (#3: lHh/rEL830q6/mStDnD4uw==)"
        )),
        "{story:#?}"
    );
}

fn request_record(url: &str) -> Request {
    Request {
        method: "GET".into(),
        url: url.into(),
        http_version: "HTTP/1.1".into(),
        headers: Default::default(),
        body: Body::default(),
        extra: Extra::new(),
    }
}

#[test]
fn live_events_add_in_flight_flows_then_complete_or_fail_them() {
    let mut app = App::for_test();
    app.update(Event::Flow(FlowEvent::Request {
        id: FlowId(0),
        client_addr: None,
        at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        request: request_record("https://login.microsoftonline.com/common/discovery/keys"),
    }));
    assert!(app.store().is_in_flight(FlowId(0)));
    press(&mut app, 'f');
    typed(&mut app, "~q");
    enter(&mut app);
    assert_eq!(app.shown(), vec![FlowId(0)]);
    app.update(Event::Flow(FlowEvent::Response {
        id: FlowId(0),
        response: Response {
            status: 200,
            reason: "OK".into(),
            http_version: "HTTP/1.1".into(),
            headers: Default::default(),
            body: Body::plain(&b"{}"[..]),
            extra: Extra::new(),
        },
        timings: Timings::default(),
    }));
    assert!(app.shown().is_empty(), "no longer ~q");
    app.update(Event::Flow(FlowEvent::Request {
        id: FlowId(1),
        client_addr: None,
        at: UNIX_EPOCH,
        request: request_record("https://x.example/"),
    }));
    app.update(Event::Flow(FlowEvent::Error {
        id: FlowId(1),
        error: FlowError {
            message: "upstream certificate rejected".into(),
            incomplete: false,
        },
    }));
    assert!(
        app.digest(FlowId(1)).unwrap().worst.is_some(),
        "an error is a finding"
    );
}

#[tokio::test]
async fn the_event_loop_shows_live_flows_from_a_proxy_channel() {
    use futures::SinkExt;
    use ratatui::backend::TestBackend;
    let (proxy, live) = tokio::sync::mpsc::unbounded_channel();
    let (tx, internal) = tokio::sync::mpsc::unbounded_channel();
    let (mut keys, input) =
        futures::channel::mpsc::unbounded::<std::io::Result<crossterm::event::Event>>();
    let mut terminal = ratatui::Terminal::new(TestBackend::new(160, 12)).unwrap();
    let mut app = App::for_test();
    let driver = async move {
        proxy
            .send(FlowEvent::Request {
                id: FlowId(0),
                client_addr: None,
                at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                request: request_record("https://login.microsoftonline.com/common/userrealm/a"),
            })
            .unwrap();
        proxy
            .send(FlowEvent::Request {
                id: FlowId(1),
                client_addr: None,
                at: UNIX_EPOCH + Duration::from_secs(1_700_000_001),
                request: request_record("https://scim.example/scim/v2/Users"),
            })
            .unwrap();
        proxy
            .send(FlowEvent::Response {
                id: FlowId(0),
                response: Response {
                    status: 200,
                    reason: "OK".into(),
                    http_version: "HTTP/1.1".into(),
                    headers: [("content-type", "application/json")].into(),
                    body: Body::plain(
                        &br#"{"ver":"1.0","account_type":"Managed","domain_name":"contoso.com"}"#[..],
                    ),
                    extra: Extra::new(),
                },
                timings: Timings::default(),
            })
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.send(Ok(crossterm::event::Event::Key(KeyEvent::new(
            KeyCode::Char('j'),
            KeyModifiers::NONE,
        ))))
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        keys.send(Ok(crossterm::event::Event::Key(KeyEvent::new(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
        ))))
        .await
        .unwrap();
        proxy
    };
    let (result, _proxy) = tokio::join!(
        idscope::tui::event_loop(&mut terminal, &mut app, Some(live), internal, tx, input),
        driver
    );
    result.unwrap();
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("login.microsoftonline.com"), "{screen}");
    assert!(
        screen.contains("realm v1 request: a ⇒ realm v1: contoso.com"),
        "{screen}"
    );
    assert!(screen.contains("scim.example"), "{screen}");
    assert!(screen.contains("1 in flight"), "{screen}");
    assert_eq!(app.selected_id(), Some(FlowId(1)));
}

fn command(app: &mut App, line: &str) -> Control {
    press(app, ':');
    assert_eq!(app.prompt().unwrap().kind, PromptKind::Command);
    typed(app, line);
    enter(app)
}

fn settle(app: &mut App) {
    for _ in 0..10_000 {
        if !app.busy() {
            return;
        }
        app.update(Event::Work);
    }
    panic!("the work never finished");
}

#[test]
fn colon_commands_do_what_their_keys_do() {
    let mut app = sample_app();
    command(&mut app, "filter ~k saml");
    assert!(app.prompt().is_none());
    assert_eq!(app.filter().unwrap().text(), "~k saml");
    assert_eq!(app.shown().len(), 4);
    assert_eq!(app.message(), Some("4 of 9 flows match"));
    command(&mut app, "filter");
    assert!(app.filter().is_none());
    assert_eq!(app.shown().len(), 9);
    command(&mut app, "goto 3");
    assert_eq!(app.selected_id(), Some(FlowId(2)));
    command(&mut app, "mark");
    assert!(app.store().get(FlowId(2)).unwrap().marked);
    command(&mut app, "marked");
    assert_eq!(app.shown(), vec![FlowId(2)]);
    command(&mut app, "marked");
    assert_eq!(
        command(&mut app, "export redacted out.har"),
        Control::Export {
            ids: vec![FlowId(2)],
            path: "out.har".into(),
            redacted: true
        }
    );
    assert!(matches!(
        command(&mut app, "exp har all.har"),
        Control::Export {
            redacted: false,
            ..
        }
    ));
    command(&mut app, "set order host");
    assert_eq!(app.message(), Some("order: host"));
    let hosts: Vec<String> = app
        .shown()
        .iter()
        .map(|id| app.store().get(*id).unwrap().host())
        .collect();
    let mut sorted = hosts.clone();
    sorted.sort();
    assert_eq!(hosts, sorted);
    assert_eq!(app.selected_id(), Some(FlowId(2)), "the selection stays");
    command(&mut app, "set order time");
    command(&mut app, "set reverse on");
    assert_eq!(app.shown()[0], FlowId(8));
    command(&mut app, "set follow on");
    assert!(app.following());
    command(&mut app, "search ~d idp.contoso");
    assert_eq!(app.selected_id(), Some(FlowId(6)));
    assert!(matches!(command(&mut app, "replay"), Control::Replay(f) if f.id == FlowId(6)));
    command(&mut app, "help");
    assert!(app.help_shown());
    app.update(key(KeyCode::Esc));
    command(&mut app, "clear");
    assert_eq!(app.prompt().unwrap().kind, PromptKind::ConfirmClear);
    press(&mut app, 'n');
    assert_eq!(app.store().len(), 9);
    assert_eq!(command(&mut app, "q"), Control::Quit);
}

#[test]
fn colon_goto_in_the_flow_view_opens_that_flow() {
    let mut app = sample_app();
    enter(&mut app);
    command(&mut app, "goto 6");
    assert_eq!(app.flow_view().unwrap().id, FlowId(5));
}

#[test]
fn a_command_that_cannot_run_shows_why_and_changes_nothing() {
    let mut app = sample_app();
    command(&mut app, "filter ~k saml");
    press(&mut app, 'j');
    let (shown, selected) = (app.shown(), app.selected_id());
    for (line, pos, start) in [
        ("filter ~d x & ~zz", 14, "unknown filter `~zz`"),
        ("goto 2", 5, "flow #2 is not shown (filtered out)"),
        ("goto 99", 5, "flow #99 does not exist"),
        ("frobnicate", 0, "unknown command `frobnicate`"),
        ("set order fast", 10, "unknown order `fast`"),
        ("se", 0, "`se` is ambiguous: search, set"),
    ] {
        let c = command(&mut app, line);
        assert_eq!(c, Control::Continue);
        let p = app.prompt().expect("the prompt stays open");
        assert_eq!(p.input, line, "the line is kept for fixing");
        let e = p.error.as_ref().unwrap();
        assert_eq!(e.pos, pos, "{line}: {e:?}");
        assert!(e.message.starts_with(start), "{line}: {}", e.message);
        app.update(key(KeyCode::Esc));
        assert_eq!(app.filter().unwrap().text(), "~k saml");
        assert_eq!((app.shown(), app.selected_id()), (shown.clone(), selected));
    }
}

#[test]
fn tab_in_the_command_prompt_completes_and_lists_candidates() {
    let mut app = sample_app();
    press(&mut app, ':');
    typed(&mut app, "ex");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.prompt().unwrap().input, "export ");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.prompt().unwrap().input, "export ");
    assert_eq!(app.prompt().unwrap().hint.as_deref(), Some("har  redacted"));
    typed(&mut app, "r");
    assert!(
        app.prompt().unwrap().hint.is_none(),
        "typing clears the hint"
    );
    app.update(key(KeyCode::Tab));
    assert_eq!(app.prompt().unwrap().input, "export redacted ");
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut app, "ma");
    app.update(key(KeyCode::Tab));
    let p = app.prompt().unwrap();
    assert_eq!(
        (p.input.as_str(), p.hint.as_deref()),
        ("mark", Some("mark  marked"))
    );
}

#[test]
fn a_filter_applies_in_slices_keeping_the_old_list_until_done() {
    // See: #6 (a filter over 100,000 flows must not hold the key's frame).
    let mut app = sample_app();
    settle(&mut app);
    app.set_work_slice(2);
    press(&mut app, 'f');
    typed(&mut app, "~k saml");
    enter(&mut app);
    assert!(app.busy());
    assert_eq!(app.rebuilding(), Some(("filtering", 2, 9)));
    assert_eq!(app.shown().len(), 9, "the old list stays");
    assert_eq!(app.filter().unwrap().text(), "~k saml");
    let status = idscope::tui::ui::status::status_text(&app);
    assert!(status.contains("filtering… 2/9"), "{status}");
    // Keys still work while it runs (and each runs a slice).
    press(&mut app, 'j');
    assert_eq!(app.rebuilding(), Some(("filtering", 4, 9)));
    app.update(Event::Work);
    assert_eq!(app.rebuilding(), Some(("filtering", 6, 9)));
    settle(&mut app);
    assert_eq!(
        app.shown(),
        vec![FlowId(5), FlowId(6), FlowId(7), FlowId(8)]
    );
    assert_eq!(app.message(), Some("4 of 9 flows match"));
    assert!(!idscope::tui::ui::status::status_text(&app).contains("filtering"));
}

#[test]
fn a_new_filter_replaces_one_still_being_applied_and_new_flows_are_included() {
    let mut app = sample_app();
    settle(&mut app);
    app.set_work_slice(2);
    press(&mut app, 'f');
    typed(&mut app, "~k saml");
    enter(&mut app);
    press(&mut app, 'f');
    app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    typed(&mut app, "~d contoso");
    enter(&mut app);
    assert_eq!(app.filter().unwrap().text(), "~d contoso");
    // A flow arriving while the filter is applied is tested when the pass gets to it.
    app.update(Event::Loaded(vec![with_digest(fixture_flow(
        9,
        Some("saml/redirect_authnrequest_unsigned"),
        None,
    ))]));
    settle(&mut app);
    let all: Vec<FlowId> = app
        .store()
        .iter()
        .filter(|f| f.host().contains("contoso"))
        .map(|f| f.id)
        .collect();
    assert!(all.contains(&FlowId(9)), "{all:?}");
    assert_eq!(app.shown(), all);
}

#[test]
fn claim_filters_and_searches_read_digests_and_decode_nothing() {
    // See: #6 (`~claim` decoded every flow on the UI thread).
    let mut app = sample_app();
    let before = app.decodes();
    command(&mut app, "filter ~claim IDPEmail=alice@");
    assert_eq!(app.shown(), vec![FlowId(5), FlowId(8)]);
    command(&mut app, "filter");
    assert_eq!(app.selected_id(), Some(FlowId(5)), "the selection stays");
    press(&mut app, 'g');
    press(&mut app, '/');
    typed(&mut app, "~claim IDPEmail=alice@ | ~op Provision");
    enter(&mut app);
    assert_eq!(app.selected_id(), Some(FlowId(2)));
    assert_eq!(app.decodes(), before, "no decoding on the UI thread");
}

#[test]
fn stories_build_in_slices_and_the_story_tab_says_so_meanwhile() {
    let mut app = App::for_test();
    app.update(Event::Resize(100, 30));
    app.set_work_slice(2);
    app.update(Event::Loaded(
        crate::tui_fixture::sample_flows()
            .into_iter()
            .map(with_digest)
            .collect(),
    ));
    app.update(Event::LoadDone(Ok(None)));
    assert!(app.busy(), "stories are built after the load");
    for _ in 0..4 {
        press(&mut app, 'j');
    }
    enter(&mut app);
    for _ in 0..3 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(tab_of(&app), Tab::Story);
    let first = app.flow_view().unwrap().story[0].text.clone();
    assert!(
        first.starts_with("building stories… pass 2 of 2, "),
        "{first}"
    );
    settle(&mut app);
    let story = &app.flow_view().unwrap().story;
    assert!(
        story[0].text.starts_with("federated sign-in — step 2 of"),
        "{story:#?}"
    );
}

#[test]
fn help_scrolls_with_the_movement_keys() {
    let mut app = sample_app();
    press(&mut app, '?');
    press(&mut app, 'j');
    press(&mut app, 'j');
    assert_eq!(app.help_scroll(), 2);
    press(&mut app, 'k');
    assert_eq!(app.help_scroll(), 1);
    press(&mut app, 'G');
    assert!(app.help_scroll() > 20);
    press(&mut app, 'g');
    assert_eq!(app.help_scroll(), 0);
    assert_eq!(app.selected_id(), Some(FlowId(0)), "the list did not move");
}

#[test]
fn a_flow_completing_while_a_sorted_filter_is_applied_lands_in_place() {
    let mut app = App::for_test();
    for n in 0..6 {
        app.update(Event::Flow(FlowEvent::Request {
            id: FlowId(n),
            client_addr: None,
            at: UNIX_EPOCH + Duration::from_secs(1_700_000_000 + n),
            request: request_record(&format!("https://h{}.example/", 5 - n)),
        }));
    }
    let done = |app: &mut App, n: u64| {
        app.update(Event::Flow(FlowEvent::Response {
            id: FlowId(n),
            response: Response {
                status: 200,
                reason: "OK".into(),
                http_version: "HTTP/1.1".into(),
                headers: Default::default(),
                body: Body::plain(&b""[..]),
                extra: Extra::new(),
            },
            timings: Timings::default(),
        }));
    };
    done(&mut app, 0);
    done(&mut app, 4);
    app.set_work_slice(2);
    command(&mut app, "set order host");
    command(&mut app, "filter ~s");
    assert!(app.busy());
    // #2 is behind the pass (already tested, failed), #5 ahead of it.
    done(&mut app, 1);
    done(&mut app, 5);
    settle(&mut app);
    let hosts: Vec<String> = app
        .shown()
        .iter()
        .map(|id| app.store().get(*id).unwrap().host())
        .collect();
    assert_eq!(
        hosts,
        ["h0.example", "h1.example", "h4.example", "h5.example"]
    );
    // Once idle, a completion in a sorted list starts a (small) rebuild of its own.
    done(&mut app, 2);
    settle(&mut app);
    assert_eq!(app.shown().len(), 5);
    assert_eq!(
        app.store().get(app.shown()[2]).unwrap().host(),
        "h3.example"
    );
}

#[test]
fn number_keys_select_the_tabs_their_labels_name() {
    let mut app = sample_app();
    press(&mut app, '3');
    assert!(app.flow_view().is_none(), "the list has no tabs");
    enter(&mut app);
    for (c, tab) in [
        ('3', Tab::Decoded),
        ('5', Tab::Detail),
        ('1', Tab::Request),
        ('4', Tab::Story),
        ('2', Tab::Response),
    ] {
        press(&mut app, c);
        assert_eq!(tab_of(&app), tab, "key {c}");
        assert_eq!(tab.label(), format!("{c} {}", tab.title()));
    }
    press(&mut app, '4');
    let story = &app.flow_view().unwrap().story;
    assert!(
        !story.is_empty(),
        "the Story tab is filled when chosen by number"
    );
    press(&mut app, '6');
    press(&mut app, '0');
    assert_eq!(tab_of(&app), Tab::Story, "no tab 6 or 0: nothing changes");
    // Moving to another flow keeps the tab chosen by number.
    press(&mut app, '3');
    press(&mut app, ' ');
    assert_eq!(tab_of(&app), Tab::Decoded);
}

fn noisy_app() -> App {
    let list = idscope::filter::noise::NoiseHosts::builtin();
    let mut app = crate::tui_fixture::browser_app(160).noise_hosts(std::sync::Arc::new(list));
    app.update(Event::Resize(160, 24));
    app
}

#[test]
fn capital_n_hides_browsers_background_requests_and_shows_them_again() {
    let mut app = noisy_app();
    let all = app.shown();
    assert_eq!(all.len(), 8);
    let update = FlowId(0);
    assert!(
        app.store()
            .get(update)
            .unwrap()
            .request
            .url
            .starts_with("https://update.googleapis.com/")
    );
    press(&mut app, 'N');
    assert!(app.hiding_noise());
    let quiet = app.shown();
    assert!(!quiet.contains(&update), "{quiet:?}");
    assert!(
        !quiet.contains(&FlowId(7)),
        "the gvt1.com download is noise too"
    );
    assert_eq!(quiet.len(), 6);
    assert!(
        idscope::tui::ui::status::status_text(&app).contains("noise hidden"),
        "{}",
        idscope::tui::ui::status::status_text(&app)
    );
    // Composed with the user's filter.
    press(&mut app, 'f');
    typed(&mut app, "~m POST");
    enter(&mut app);
    let post: Vec<FlowId> = app.shown();
    assert_eq!(post, vec![FlowId(1), FlowId(3), FlowId(4), FlowId(6)]);
    press(&mut app, 'N');
    assert!(!app.hiding_noise());
    assert!(app.shown().contains(&update), "shown again");
    assert!(!idscope::tui::ui::status::status_text(&app).contains("noise"));
    // `:set noise off` hides it, `on` shows it.
    press(&mut app, 'f');
    app.update(key(KeyCode::Backspace));
    for _ in 0..10 {
        app.update(key(KeyCode::Backspace));
    }
    enter(&mut app);
    assert_eq!(app.shown(), all);
    typed(&mut app, ":set noise off");
    enter(&mut app);
    assert_eq!(app.shown().len(), 6);
    typed(&mut app, ":set noise on");
    enter(&mut app);
    assert_eq!(app.shown(), all);
}

#[test]
fn a_form_response_shows_one_parameter_per_line_its_token_masked() {
    let mut f = crate::tui_fixture::simple_flow(
        0,
        "POST",
        "https://github.com/login/oauth/access_token",
        200,
        "application/x-www-form-urlencoded; charset=utf-8",
        b"access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer",
    );
    f.request.body = Body::plain(&b"code=a1b2c3d4e5f6a7b8c9d0&state=xyz"[..]);
    let mut app = App::for_test();
    app.update(Event::Resize(100, 30));
    app.update(Event::Loaded(vec![with_digest(f)]));
    enter(&mut app);
    press(&mut app, '2');
    let text: Vec<String> = app
        .flow_view()
        .unwrap()
        .response
        .iter()
        .map(|l| l.text.clone())
        .collect();
    let body = &text[text.iter().position(String::is_empty).unwrap() + 1..];
    assert_eq!(
        body,
        [
            "access_token = «secret: 40 chars»",
            "scope = repo,gist",
            "token_type = bearer"
        ]
    );
    press(&mut app, 's');
    let revealed = &app.flow_view().unwrap().response;
    assert!(
        revealed
            .iter()
            .any(|l| l.text == "access_token = gho_16C7e42F292c6912E7710c838347Ae178B4a")
    );
}

#[test]
fn long_body_lines_wrap_to_the_screen_and_again_after_a_resize() {
    let json = format!(
        "{{\"value\":[{}]}}",
        (0..40)
            .map(|i| format!("{{\"id\":\"user-{i:03}\",\"displayName\":\"User number {i}\"}}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let f = crate::tui_fixture::simple_flow(
        0,
        "GET",
        "https://graph.microsoft.com/v1.0/users",
        200,
        "application/json",
        json.as_bytes(),
    );
    let mut app = App::for_test();
    app.update(Event::Resize(100, 30));
    app.update(Event::Loaded(vec![with_digest(f)]));
    enter(&mut app);
    press(&mut app, '2');
    let body = |app: &App| -> Vec<String> {
        let lines = &app.flow_view().unwrap().response;
        let from = lines.iter().position(|l| l.text.is_empty()).unwrap() + 1;
        lines[from..].iter().map(|l| l.text.clone()).collect()
    };
    let wide = body(&app);
    assert!(wide.len() > 10, "{wide:?}");
    assert!(wide.iter().all(|l| l.chars().count() <= 100), "{wide:?}");
    assert_eq!(wide.concat(), json, "nothing is cut");
    app.update(Event::Resize(60, 30));
    let narrow = body(&app);
    assert!(narrow.len() > wide.len());
    assert!(narrow.iter().all(|l| l.chars().count() <= 60), "{narrow:?}");
    assert_eq!(narrow.concat(), json);
    assert_eq!(tab_of(&app), Tab::Response, "a resize keeps the tab");
}
