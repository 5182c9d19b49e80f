//! The real `idscope view` binary in a pseudo-terminal (portable-pty), its screen read with a
//! terminal emulator (vt100): open a capture, filter to SAML flows, open one, read the decoded
//! tree, quit, and check the terminal was restored (alternate screen left, cursor shown, raw mode
//! off as far as the emulator can tell) and that logs went to the file, not the screen.

use std::io::Write;
use std::time::{Duration, Instant};

use portable_pty::CommandBuilder;

use crate::support::ChildGuard;
use crate::tui_fixture::write_sample_capture;
use crate::util::Screen;

#[test]
fn view_opens_a_capture_filters_to_saml_opens_a_flow_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("saml.har");
    write_sample_capture(&har);
    let log = dir.path().join("logs/tui.log");

    let pty = crate::util::open_pty();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_idscope"));
    cmd.args([
        "view",
        har.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
    ]);
    cmd.cwd(dir.path());
    cmd.env("TERM", "xterm-256color");
    let mut child = ChildGuard::new(pty.slave.spawn_command(cmd).unwrap());
    drop(pty.slave);
    let mut writer = pty.master.take_writer().unwrap();
    let (screen, pump) = Screen::follow(pty.master.try_clone_reader().unwrap());
    let mut send = |s: &str| {
        writer.write_all(s.as_bytes()).unwrap();
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    };

    let list = screen.wait_for("9/9 flows");
    assert!(list.contains("login.microsoftonline.com"), "{list}");
    assert!(screen.alternate_screen());

    send("f");
    screen.wait_for("filter: ");
    send("~k saml\r");
    let filtered = screen.wait_for("4/9 flows");
    assert!(filtered.contains("filter: ~k saml"), "{filtered}");
    assert!(filtered.contains("idp.contoso.test"), "{filtered}");
    assert!(!filtered.contains("userrealm"), "{filtered}");

    send("\r");
    let request = screen.wait_for("1 Request");
    assert!(
        request.contains("#6 POST https://login.microsoftonline.com/login.srf"),
        "{request}"
    );
    send("\t\t");
    let decoded = screen.wait_for("[saml] SAML 2.0 Response");
    assert!(decoded.contains("HTTP-POST binding"), "{decoded}");
    assert!(
        decoded.contains("NameID: lHh/rEL830q6/mStDnD4uw=="),
        "{decoded}"
    );

    send("q");
    screen.wait_for("4/9 flows");
    send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "idscope did not quit:\n{}",
            screen.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    drop(pty.master);
    let _ = pump.join();

    let raw = screen.raw();
    let left = raw.rfind("\x1b[?1049l").expect("left the alternate screen");
    let entered = raw.rfind("\x1b[?1049h").unwrap();
    assert!(left > entered);
    assert!(
        raw[left..].contains("\x1b[?25h") || raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l"),
        "cursor shown again"
    );
    assert!(!screen.alternate_screen());
    assert!(!raw.contains("TUI started"), "logs never reach the screen");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("TUI started"), "{logged}");
    assert!(logged.contains("capture loaded"), "{logged}");
}
