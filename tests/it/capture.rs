//! Capture files end to end: every peer HAR in the shared corpus survives read -> write -> read,
//! and a HAR written by idscope loads in mitmproxy (`mitmdump -nr`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::util::corpus as corpus_dir;
use idscope::capture::{self, HarWriter};
use idscope::flow::{Body, Extra, Flow, FlowError, FlowId, Outcome, Request, Response, Timings};

fn write_har(path: &Path, flows: &[Flow]) {
    HarWriter::write_all(path, flows).unwrap();
}

#[test]
fn every_corpus_har_round_trips_through_the_writer_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("broken-brokenfile.har"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 14, "the corpus README lists 14 loadable files");
    for file in files {
        let first = capture::read_all(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(!first.is_empty(), "{}", file.display());
        for (i, f) in first.iter().enumerate() {
            assert_eq!(f.id, FlowId(i as u64), "ids are positions");
        }
        let out = dir.path().join(file.file_name().unwrap());
        write_har(&out, &first);
        let second = capture::read_all(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.len(), second.len(), "{}", file.display());
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a, b, "{} flow {}", file.display(), a.id);
        }
    }
}

#[test]
fn broken_corpus_file_is_refused_naming_file_and_offset() {
    let file = corpus_dir().join("broken-brokenfile.har");
    let e = capture::read_all(&file).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with(&file.display().to_string()), "{msg}");
    assert!(
        msg.contains(": at byte 8: not a HAR file: expected `{`"),
        "{msg}"
    );
}

fn flow(n: u64, request: Request, outcome: Outcome) -> Flow {
    Flow {
        id: FlowId(n),
        started_at: UNIX_EPOCH + Duration::from_millis(1_714_550_400_000 + n * 1500),
        client_addr: Some("127.0.0.1:50100".parse().unwrap()),
        server_addr: Some("192.0.2.7".into()),
        request,
        outcome,
        timings: Timings {
            total: Some(42.5),
            send: Some(1.0),
            wait: Some(40.0),
            receive: Some(1.5),
            ..Timings::default()
        },
        tags: vec![],
        comment: None,
        marked: false,
        extra: Extra::new(),
    }
}

fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    Request {
        method: method.into(),
        url: url.into(),
        http_version: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: Body::plain(body.to_vec()),
        extra: Extra::new(),
    }
}

fn response(status: u16, content_type: &str, body: &[u8]) -> Outcome {
    Outcome::Response(Response {
        status,
        reason: "OK".into(),
        http_version: "HTTP/1.1".into(),
        headers: [("Content-Type", content_type)].into(),
        body: Body::plain(body.to_vec()),
        extra: Extra::new(),
    })
}

/// A GET, a form POST (a ROPC token request with synthetic credentials), a binary body (stored
/// as base64) and a flow that failed without a response.
fn interop_flows() -> Vec<Flow> {
    vec![
        flow(
            0,
            request(
                "GET",
                "https://login.example/tenant/v2.0/.well-known/openid-configuration?x=1",
                &[("Host", "login.example"), ("Accept", "application/json")],
                b"",
            ),
            response(200, "application/json", br#"{"issuer":"https://login.example/tenant/v2.0"}"#),
        ),
        flow(
            1,
            request(
                "POST",
                "https://login.example/tenant/oauth2/v2.0/token",
                &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "a=b; c=d")],
                b"grant_type=password&username=alice%40example.test&password=synthetic&client_id=app",
            ),
            response(200, "application/json", br#"{"token_type":"Bearer","access_token":"synthetic"}"#),
        ),
        flow(
            2,
            request("GET", "https://cdn.example/logo.png", &[], b""),
            response(200, "image/png", &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]),
        ),
        flow(
            3,
            request("GET", "https://down.example/", &[], b""),
            Outcome::Error(FlowError {
                message: "connection refused".into(),
                incomplete: false,
            }),
        ),
    ]
}

#[test]
fn written_har_reads_back_equal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interop.har");
    let flows = interop_flows();
    write_har(&path, &flows);
    assert_eq!(capture::read_all(&path).unwrap(), flows);
}

/// Runs `cmd` with a deadline, returning (success, stdout, stderr).
fn run_with_deadline(cmd: &mut Command, deadline: Duration) -> (bool, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "mitmdump did not finish within {deadline:?}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn mitmproxy_loads_every_flow_of_a_written_har() {
    let found = Command::new("mitmdump")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = found {
        let reason =
            format!("`mitmdump` is not runnable ({e}); install it with `pip install mitmproxy`");
        if std::env::var_os("IDSCOPE_SKIP_INTEROP").is_some() {
            eprintln!("SKIPPED: mitmdump interop: {reason}");
            return;
        }
        panic!("{reason} (set IDSCOPE_SKIP_INTEROP=1 to skip this test)");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("for-mitmproxy.har");
    let flows = interop_flows();
    write_har(&path, &flows);
    let addon = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/count_flows.py");
    let (ok, stdout, stderr) = run_with_deadline(
        Command::new("mitmdump")
            .arg("-n")
            .arg("-q")
            .arg("-r")
            .arg(&path)
            .arg("-s")
            .arg(&addon)
            .env("HOME", dir.path()),
        Duration::from_secs(120),
    );
    assert!(ok, "mitmdump failed\nstdout: {stdout}\nstderr: {stderr}");
    let count: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("IDSCOPE_FLOW_COUNT="))
        .unwrap_or_else(|| panic!("no count printed\nstdout: {stdout}\nstderr: {stderr}"))
        .trim()
        .parse()
        .unwrap();
    assert_eq!(count, flows.len(), "stdout: {stdout}\nstderr: {stderr}");
}

#[test]
fn fiddler_sample_converts_to_har_with_the_same_exchanges() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/fiddler-sample.saz");
    let mut reader = capture::open(&sample).unwrap();
    assert_eq!(reader.format(), capture::Format::Saz);
    let flows: Vec<Flow> = reader.by_ref().map(Result::unwrap).collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("from-saz.har");
    write_har(&out, &flows);
    let back = capture::read_all(&out).unwrap();
    assert_eq!(back.len(), flows.len());
    for (a, b) in flows.iter().zip(&back) {
        assert_eq!(
            (&a.request, &a.client_addr, &a.timings),
            (&b.request, &b.client_addr, &b.timings)
        );
        // HAR stores decoded content: the gzip token response reads back decoded.
        match (&a.outcome, &b.outcome) {
            (Outcome::Response(x), Outcome::Response(y)) => {
                assert_eq!(
                    x.body.decoded(1 << 20).unwrap(),
                    y.body.decoded(1 << 20).unwrap()
                );
                assert_eq!((x.status, &x.headers), (y.status, &y.headers));
            }
            (x, y) => assert_eq!(x, y),
        }
    }
}
