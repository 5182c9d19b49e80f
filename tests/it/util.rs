//! Helpers shared by the integration tests: running the real binary, paths to the corpus.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/corpus/har-peers` beside the repository: the HAR files written by other tools.
pub fn corpus() -> PathBuf {
    shared_corpus("har-peers")
}

/// `shared/corpus/<name>` beside the repository. The nearest ancestor that has it wins, so the
/// tests also run from a git worktree at another depth. Missing is a failure, never a skip: CI
/// always checks `shared` out beside the clone.
pub fn shared_corpus(name: &str) -> PathBuf {
    let rel = format!("shared/corpus/{name}");
    root()
        .ancestors()
        .map(|a| a.join(&rel))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "../{rel} next to the repository: not found in any directory above {}",
                root().display()
            )
        })
}

/// Runs `idscope ARGS` with optional standard input.
pub fn idscope(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idscope"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn idscope");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `decoders/tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("decoders/tests/fixtures").join(rel)
}

/// A flow made from golden-test fixture files (`OwnedMessage::parse_http_text` format): the
/// request from `req` (or, when absent, the method and URL named by the response's `for:` line)
/// and the response from `resp` (or an empty 200). Started at 2023-11-14T22:13:20Z + `n` seconds,
/// the fixtures' "now".
pub fn flow_from_fixtures(n: u64, req: Option<&str>, resp: Option<&str>) -> idscope::flow::Flow {
    use idscope::flow::{Body, Extra, Flow, FlowId, Outcome, Request, Response, Timings};
    use idscope_decoders::OwnedMessage;
    use std::time::{Duration, UNIX_EPOCH};
    let load = |rel: &str| {
        OwnedMessage::parse_http_text(&std::fs::read_to_string(fixture(rel)).unwrap()).unwrap()
    };
    let resp = resp.map(load);
    let req = req.map(load);
    let (method, url, headers, body) = match (&req, &resp) {
        (Some(q), _) => (
            q.method.clone(),
            q.url.clone(),
            q.headers.clone(),
            q.body.clone(),
        ),
        (None, Some(s)) => (s.method.clone(), s.url.clone(), vec![], vec![]),
        (None, None) => panic!("a flow needs a request or a response fixture"),
    };
    let response = match resp {
        Some(s) => Response {
            status: s.status.unwrap_or(200),
            reason: String::new(),
            http_version: "HTTP/1.1".into(),
            headers: s.headers.into(),
            body: Body::plain(s.body),
            extra: Extra::new(),
        },
        None => Response {
            status: 200,
            reason: String::new(),
            http_version: "HTTP/1.1".into(),
            headers: Default::default(),
            body: Body::default(),
            extra: Extra::new(),
        },
    };
    Flow {
        id: FlowId(n),
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000 + n),
        client_addr: None,
        server_addr: None,
        request: Request {
            method: method.unwrap_or_else(|| "GET".into()),
            url: url.unwrap_or_default(),
            http_version: "HTTP/1.1".into(),
            headers: headers.into(),
            body: Body::plain(body),
            extra: Extra::new(),
        },
        outcome: Outcome::Response(response),
        timings: Timings::default(),
        tags: vec![],
        comment: None,
        marked: false,
        extra: Extra::new(),
    }
}

/// The body of a golden-test fixture, as bytes (a `base64:` body decoded).
pub fn fixture_body(rel: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(fixture(rel)).unwrap();
    idscope_decoders::OwnedMessage::parse_http_text(&text)
        .unwrap()
        .body
}

/// A 30×160 pseudo-terminal for driving the TUI.
pub fn open_pty() -> portable_pty::PtyPair {
    portable_pty::native_pty_system()
        .openpty(portable_pty::PtySize {
            rows: 30,
            cols: 160,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap()
}

/// What a pseudo-terminal shows, read by a terminal emulator (vt100) on a thread of its own,
/// and every byte the program wrote, for checks on the escape sequences themselves.
pub struct Screen {
    parser: std::sync::Arc<std::sync::Mutex<vt100::Parser>>,
    raw: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Screen {
    /// Follows `reader` (the pty master's) until it ends; join the handle after closing the pty.
    pub fn follow(
        mut reader: Box<dyn std::io::Read + Send>,
    ) -> (Screen, std::thread::JoinHandle<()>) {
        let screen = Screen {
            parser: std::sync::Arc::new(std::sync::Mutex::new(vt100::Parser::new(30, 160, 0))),
            raw: std::sync::Arc::default(),
        };
        let (parser, raw) = (screen.parser.clone(), screen.raw.clone());
        let pump = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
                raw.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        (screen, pump)
    }

    /// The screen's text now.
    pub fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Whether the program is on the alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    /// Everything written so far, as text.
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// Waits (30 s at most) until the screen shows `what`; returns the screen's text.
    pub fn wait_for(&self, what: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let text = self.text();
            if text.contains(what) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what:?}; screen:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// The rows of `analyze`'s flow table in a text report: the lines after the `METHOD` header (the
/// trace summary comes before it) up to the first empty line.
pub fn table_rows(report: &str) -> Vec<&str> {
    report
        .lines()
        .skip_while(|l| !(l.contains("METHOD") && l.contains("SUMMARY")))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}
