//! The real `idscope view` binary in a pseudo-terminal (portable-pty, [`ViewPty`]), its screen
//! read with a terminal emulator (vt100): open a capture, filter to SAML flows, open one, read
//! the decoded tree (its tab reached with tab, and with its number key), quit, and check the terminal was restored (alternate screen left, cursor shown, raw mode
//! off as far as the emulator can tell) and that logs went to the file, not the screen.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use portable_pty::CommandBuilder;

use crate::support::ChildGuard;
use crate::tui_fixture::write_sample_capture;
use crate::util::Screen;

/// `idscope view ARGS` running in a pseudo-terminal (160 × 30) in a directory of its own, its
/// screen followed by a terminal emulator.
pub struct ViewPty {
    /// The process (killed if the test fails before it quits).
    pub child: ChildGuard<Box<dyn portable_pty::Child + Send + Sync>>,
    /// What the terminal shows.
    pub screen: Screen,
    writer: Box<dyn Write + Send>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    pump: std::thread::JoinHandle<()>,
}

impl ViewPty {
    /// Starts `idscope view ARGS` in `dir` with `TERM=xterm-256color` and `env`.
    pub fn start(args: &[&str], dir: &Path, env: &[(&str, &Path)]) -> Self {
        let pty = crate::util::open_pty();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_idscope"));
        cmd.arg("view");
        cmd.args(args);
        cmd.cwd(dir);
        cmd.env("TERM", "xterm-256color");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = ChildGuard::new(pty.slave.spawn_command(cmd).unwrap());
        drop(pty.slave);
        let writer = pty.master.take_writer().unwrap();
        let (screen, pump) = Screen::follow(pty.master.try_clone_reader().unwrap());
        ViewPty {
            child,
            screen,
            writer,
            master: pty.master,
            pump,
        }
    }

    /// Types `s`, then gives the program a moment to draw.
    pub fn send(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits (up to 20 s) for the program to exit, and returns how.
    pub fn exit_status(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "idscope did not quit:\n{}",
                self.screen.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes the terminal and waits for everything it showed to be read.
    pub fn close(self) -> Screen {
        drop(self.master);
        let _ = self.pump.join();
        self.screen
    }
}

#[test]
fn view_opens_a_capture_filters_to_saml_opens_a_flow_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("saml.har");
    write_sample_capture(&har);
    let log = dir.path().join("logs/tui.log");

    let mut view = ViewPty::start(
        &[har.to_str().unwrap(), "--log", log.to_str().unwrap()],
        dir.path(),
        &[],
    );
    let screen = &view.screen;
    let list = screen.wait_for("9/9 flows");
    assert!(list.contains("login.microsoftonline.com"), "{list}");
    assert!(screen.alternate_screen());

    view.send("f");
    view.screen.wait_for("filter: ");
    view.send("~k saml\r");
    let filtered = view.screen.wait_for("4/9 flows");
    assert!(filtered.contains("filter: ~k saml"), "{filtered}");
    assert!(filtered.contains("idp.contoso.test"), "{filtered}");
    assert!(!filtered.contains("userrealm"), "{filtered}");

    view.send("\r");
    let request = view.screen.wait_for("1 Request");
    assert!(
        request.contains("#6 POST https://login.microsoftonline.com/login.srf"),
        "{request}"
    );
    view.send("\t\t");
    view.screen.wait_for("[saml] SAML 2.0 Response");
    // The number keys of the tab bar: back to the Request tab, then to the Decoded one.
    view.send("1");
    view.screen
        .wait_for("POST https://login.microsoftonline.com/login.srf HTTP/1.1");
    view.send("3");
    let decoded = view.screen.wait_for("[saml] SAML 2.0 Response");
    assert!(decoded.contains("HTTP-POST binding"), "{decoded}");
    assert!(
        decoded.contains("NameID: lHh/rEL830q6/mStDnD4uw=="),
        "{decoded}"
    );

    view.send("q");
    view.screen.wait_for("4/9 flows");
    view.send("q");
    let status = view.exit_status();
    assert!(status.success(), "{status:?}");
    let screen = view.close();

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
