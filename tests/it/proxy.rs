//! The proxy end to end through the library API (`proxy::start`) and the binary: a real HTTPS
//! origin with its own test CA (`origin.rs`), reqwest and curl as clients trusting the idscope CA,
//! the FlowEvent sequence (intercepted CONNECTs are not flows), the recording (read back with
//! `capture`, and loaded by mitmproxy), and each promise of security.md §2.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idscope::capture;
use idscope::flow::{Flow, FlowEvent, Outcome};
use idscope::live::Recorder;
use idscope::proxy::{self, ProxyConfig, ProxyHandle};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::origin::{self, Origin};
use crate::support::ChildGuard;
use crate::util::{idscope, stderr, stdout};

pub struct Harness {
    pub handle: ProxyHandle,
    pub events: UnboundedReceiver<FlowEvent>,
    pub origin: Origin,
    pub _ca_dir: tempfile::TempDir,
}

pub async fn harness(configure: impl FnOnce(&mut ProxyConfig, &Origin)) -> Harness {
    let origin = origin::start().await;
    let ca_dir = tempfile::tempdir().unwrap();
    let mut cfg = ProxyConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ca_dir: Some(ca_dir.path().join("ca")),
        upstream_ca: vec![origin.ca.file.clone()],
        ..ProxyConfig::default()
    };
    configure(&mut cfg, &origin);
    let mut handle = proxy::start(cfg).await.unwrap();
    let events = handle.take_events().unwrap();
    Harness {
        handle,
        events,
        origin,
        _ca_dir: ca_dir,
    }
}

impl Harness {
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.handle.addr())
    }

    pub fn ca_file(&self) -> std::path::PathBuf {
        self.handle.ca_dir().join(proxy::ca::CERT_FILE)
    }

    pub fn client(&self, http2: bool) -> reqwest::Client {
        let mut b = reqwest::Client::builder()
            .no_proxy()
            .proxy(reqwest::Proxy::all(self.proxy_url()).unwrap())
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.handle.ca_pem().as_bytes()).unwrap(),
            );
        if !http2 {
            b = b.http1_only();
        }
        b.build().unwrap()
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.origin.addr.port())
    }

    /// Waits for `n` finished flows and returns them (via the library recorder, into a HAR).
    pub async fn flows(&mut self, n: usize, har: &Path) -> (Vec<FlowEvent>, Vec<Flow>) {
        let mut rec = Recorder::create(har, false).unwrap();
        let mut seen = Vec::new();
        let mut flows = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while flows.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = tokio::time::timeout(left, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("only {} of {n} flows; events {seen:#?}", flows.len()))
                .unwrap();
            seen.push(ev.clone());
            if let Some(f) = rec.apply(ev).unwrap() {
                flows.push(f);
            }
        }
        rec.finish().unwrap();
        (seen, flows)
    }
}

fn kind(ev: &FlowEvent) -> String {
    match ev {
        FlowEvent::Request { id, request, .. } => format!("{id} request {}", request.method),
        FlowEvent::Response { id, response, .. } => format!("{id} response {}", response.status),
        FlowEvent::Error { id, .. } => format!("{id} error"),
    }
}

/// True when `tool` runs; panics when it is missing unless IDSCOPE_SKIP_INTEROP is set.
pub fn interop_tool(tool: &str, what: &str) -> bool {
    match Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => true,
        Err(e) => {
            let reason = format!("`{tool}` is not runnable ({e})");
            if let Some(why) = std::env::var_os("IDSCOPE_SKIP_INTEROP") {
                eprintln!("SKIPPED: {what}: {reason} (IDSCOPE_SKIP_INTEROP={why:?})");
                return false;
            }
            panic!("{what}: {reason}; install it, or set IDSCOPE_SKIP_INTEROP=<reason> to skip");
        }
    }
}

/// Flows mitmproxy loads from `har` (`mitmdump -nr`, counted by support/count_flows.py).
pub fn mitmdump_count(har: &Path) -> usize {
    let addon = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/count_flows.py");
    let home = tempfile::tempdir().unwrap();
    let out = Command::new("mitmdump")
        .args(["-n", "-q", "-r"])
        .arg(har)
        .arg("-s")
        .arg(&addon)
        .env("HOME", home.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mitmdump failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.strip_prefix("IDSCOPE_FLOW_COUNT="))
        .unwrap_or_else(|| panic!("no count: {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_http1_and_http2_flows_are_events_then_a_har_mitmproxy_loads() {
    let mut h = harness(|_, _| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("rec.har");
    for http2 in [false, true] {
        let c = h.client(http2);
        let r = c.get(h.url("localhost", "/hello")).send().await.unwrap();
        let want = if http2 { "HTTP/2.0" } else { "HTTP/1.1" };
        assert_eq!(format!("{:?}", r.version()), want);
        // The two sides negotiate independently: the origin offers h2, so upstream is h2.
        assert_eq!(r.text().await.unwrap(), "hello over HTTP/2.0");
        let r = c
            .post(h.url("localhost", "/echo"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&username=alice")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.text().await.unwrap(),
            "grant_type=password&username=alice"
        );
    }
    let (events, flows) = h.flows(4, &har).await;
    // CONNECT is not a flow: each exchange is Request then Response, nothing else.
    let kinds: Vec<String> = events.iter().map(kind).collect();
    let mut per_flow: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for k in &kinds {
        let (id, rest) = k.split_once(' ').unwrap();
        per_flow.entry(id.into()).or_default().push(rest.into());
    }
    assert_eq!(per_flow.len(), 4, "{kinds:?}");
    for seq in per_flow.values() {
        assert!(
            seq == &["request GET", "response 200"] || seq == &["request POST", "response 200"],
            "{kinds:?}"
        );
    }
    let post = flows.iter().find(|f| f.request.method == "POST").unwrap();
    assert_eq!(
        &post.request.body.raw[..],
        b"grant_type=password&username=alice"
    );
    assert!(post.request.url.starts_with("https://localhost:"));
    let back = capture::read_all(&har).unwrap();
    assert_eq!(back.len(), 4);
    let versions: Vec<&str> = back
        .iter()
        .map(|f| f.request.http_version.as_str())
        .collect();
    assert!(
        versions.contains(&"HTTP/2.0") && versions.contains(&"HTTP/1.1"),
        "client-side versions are recorded: {versions:?}"
    );
    assert!(
        back.iter()
            .all(|f| f.response().unwrap().http_version == "HTTP/2.0")
    );
    if interop_tool("mitmdump", "mitmproxy loads the proxy's recording") {
        assert_eq!(mitmdump_count(&har), 4);
    }
    h.handle.shutdown().await;
}

fn curl(args: &[&str]) -> (bool, String, String) {
    let o = Command::new("curl").args(args).output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_the_proxy_speaks_http1_and_http2() {
    if !interop_tool("curl", "curl through the proxy") {
        return;
    }
    let mut h = harness(|_, _| {}).await;
    let proxy = h.proxy_url();
    let ca = h.ca_file().display().to_string();
    let url = h.url("localhost", "/hello");
    let mut wants = Vec::new();
    for (flag, want) in [("--http1.1", "HTTP/1.1"), ("--http2", "HTTP/2.0")] {
        let (p, c, u, f) = (proxy.clone(), ca.clone(), url.clone(), flag);
        let (ok, out, err) = tokio::task::spawn_blocking(move || {
            curl(&["-sS", "--max-time", "10", "-x", &p, "--cacert", &c, f, &u])
        })
        .await
        .unwrap();
        assert!(ok, "curl {flag} failed: {err}");
        // The upstream side is h2 (the origin offers it); the client side is what curl chose.
        assert_eq!(out, "hello over HTTP/2.0", "{err}");
        wants.push(want);
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(2, &dir.path().join("curl.har")).await;
    let mut versions: Vec<&str> = flows
        .iter()
        .map(|f| f.request.http_version.as_str())
        .collect();
    versions.sort_unstable();
    assert_eq!(
        versions, wants,
        "the client side is recorded as curl spoke it"
    );
    for f in &flows {
        let ua = idscope::flow::header(&f.request.headers, "user-agent");
        assert!(ua.is_some_and(|u| u.starts_with("curl/")), "{ua:?}");
    }
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ip_host_gets_a_leaf_with_an_ip_san() {
    let mut h = harness(|_, _| {}).await;
    let r = h
        .client(false)
        .get(h.url("127.0.0.1", "/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(1, &dir.path().join("ip.har")).await;
    assert!(flows[0].request.url.starts_with("https://127.0.0.1:"));
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_upstream_certificate_is_a_502_with_the_reason_and_an_error_flow() {
    // Without --upstream-ca the origin's test CA is unknown.
    let mut h = harness(|c, _| c.upstream_ca.clear()).await;
    let r = h
        .client(false)
        .get(h.url("localhost", "/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let text = r.text().await.unwrap();
    assert!(text.contains("upstream certificate rejected"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(1, &dir.path().join("bad.har")).await;
    let e = flows[0].error().expect("recorded as an error");
    assert!(
        e.message.contains("UnknownIssuer") && !e.incomplete,
        "{e:?}"
    );
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_the_unknown_origin_certificate() {
    let h = harness(|c, _| {
        c.upstream_ca.clear();
        c.insecure = true;
    })
    .await;
    let r = h
        .client(false)
        .get(h.url("localhost", "/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_remote_connects_elsewhere_but_keeps_host_and_sni() {
    let mut h = harness(|c, o| {
        c.map = vec![("login.example".into(), o.addr.to_string())];
    })
    .await;
    // login.example does not resolve; the map sends it to the origin, whose leaf names it.
    let r = h
        .client(false)
        .get("https://login.example/headers")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen: serde_json::Value = r.json().await.unwrap();
    assert_eq!(seen["_authority"], "login.example");
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(1, &dir.path().join("map.har")).await;
    assert_eq!(flows[0].request.url, "https://login.example/headers");
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_host_is_tunnelled_without_decryption() {
    let mut h = harness(|c, _| c.ignore_hosts = vec!["^localhost$".into()]).await;
    // The client trusts only the ORIGIN's CA: this works only if the proxy does not intercept.
    let c = reqwest::Client::builder()
        .no_proxy()
        .proxy(reqwest::Proxy::all(h.proxy_url()).unwrap())
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(h.origin.ca.pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = c.get(h.url("localhost", "/hello")).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "hello over HTTP/2.0");
    drop(c);
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(1, &dir.path().join("tunnel.har")).await;
    assert_eq!(flows[0].request.method, "CONNECT");
    let res = flows[0].response().unwrap();
    assert_eq!(res.extra["_tunnel"]["intercepted"], false);
    assert!(res.extra["_tunnel"]["bytesReceived"].as_u64().unwrap() > 100);
    assert!(flows[0].request.body.is_empty());
    h.handle.shutdown().await;
}

async fn raw_exchange(addr: SocketAddr, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_aimed_at_the_proxy_itself_get_403() {
    let h = harness(|_, _| {}).await;
    let port = h.handle.addr().port();
    let c = h.client(false);
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/x"),
    ] {
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 403, "{url}");
    }
    let res = raw_exchange(
        h.handle.addr(),
        &format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"),
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 403"), "{res}");
    let res = raw_exchange(
        h.handle.addr(),
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(res.starts_with("HTTP/1.1 403"), "{res}");
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_cap_stream_through_and_are_recorded_truncated_with_sha256() {
    let mut h = harness(|c, _| c.max_body = 1024).await;
    let c = h.client(false);
    let big = c
        .get(h.url("localhost", "/big?n=100000"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(big.len(), 100_000);
    let upload: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let echoed = c
        .post(h.url("localhost", "/echo"))
        .body(upload.clone())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&echoed[..], &upload[..]);
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("cap.har");
    let (_, _) = h.flows(2, &har).await;
    let back = capture::read_all(&har).unwrap();
    let get = back.iter().find(|f| f.request.method == "GET").unwrap();
    let body = &get.response().unwrap().body;
    assert!(body.truncated);
    assert_eq!(body.size, 100_000);
    assert_eq!(body.raw.len(), 1024);
    assert_eq!(
        body.sha256.as_deref(),
        Some(hex(&Sha256::digest(&big)).as_str())
    );
    let post = back.iter().find(|f| f.request.method == "POST").unwrap();
    assert!(post.request.body.truncated);
    assert_eq!(post.request.body.size, 50_000);
    assert_eq!(
        post.request.body.sha256.as_deref(),
        Some(hex(&Sha256::digest(&upload)).as_str())
    );
    h.handle.shutdown().await;
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_headers_are_not_forwarded() {
    let mut h = harness(|_, _| {}).await;
    let plain = origin::start_plain().await;
    let res = raw_exchange(
        h.handle.addr(),
        &format!(
            "GET http://{plain}/headers HTTP/1.1\r\nHost: {plain}\r\nConnection: close, X-Hop\r\n\
             X-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n\
             Proxy-Authorization: Basic dTpw\r\nTE: trailers\r\nX-End-To-End: kept\r\n\r\n"
        ),
    )
    .await;
    let body = res.split("\r\n\r\n").nth(1).unwrap_or("");
    let seen: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_else(|_| {
        // Chunked answers carry a size line first.
        serde_json::from_str(body.lines().nth(1).unwrap_or("")).unwrap()
    });
    for hop in [
        "x-hop",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
    ] {
        assert!(seen.get(hop).is_none(), "{hop} was forwarded: {seen}");
    }
    assert_eq!(seen["x-end-to-end"], "kept");
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(1, &dir.path().join("hop.har")).await;
    assert!(
        idscope::flow::header(&flows[0].request.headers, "proxy-authorization").is_none(),
        "the proxy credential is not recorded"
    );
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_messages_are_captured_on_the_flow() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut h = harness(|_, _| {}).await;
    let port = h.origin.addr.port();
    let mut tcp = tokio::net::TcpStream::connect(h.handle.addr())
        .await
        .unwrap();
    tcp.write_all(
        format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut head = [0u8; 1024];
    let n = tcp.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    roots
        .add(
            rustls::pki_types::CertificateDer::from_pem_slice(h.handle.ca_pem().as_bytes())
                .unwrap(),
        )
        .unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://localhost:{port}/ws"), tls)
        .await
        .unwrap();
    ws.send(Message::text("ping-1")).await.unwrap();
    let got = ws.next().await.unwrap().unwrap();
    assert_eq!(got.to_text().unwrap(), "echo:ping-1");
    ws.close(None).await.unwrap();
    while ws.next().await.is_some() {}
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("ws.har");
    let (_, flows) = h.flows(1, &har).await;
    assert_eq!(flows[0].response().unwrap().status, 101);
    let msgs = flows[0].extra["_webSocketMessages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(
        (msgs[0]["type"].as_str(), msgs[0]["data"].as_str()),
        (Some("send"), Some("ping-1"))
    );
    assert_eq!(msgs[1]["type"], "receive");
    assert_eq!(msgs[1]["opcode"], 1);
    let back = capture::read_all(&har).unwrap();
    assert_eq!(
        back[0].extra["_webSocketMessages"],
        serde_json::Value::Array(msgs)
    );
    h.handle.shutdown().await;
}

async fn closed_within(mut s: tokio::net::TcpStream, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("connection still open after {limit:?}"),
        }
    }
}

async fn connect_to(proxy: SocketAddr, port: u16) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(proxy).await.unwrap();
    s.write_all(
        format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_are_cut_off_by_header_tls_and_idle_timeouts() {
    let long = Duration::from_secs(60);
    let short = Duration::from_millis(500);
    // Header-read timeout (hyper's, with a timer configured): half a request line.
    let h = harness(|c, _| {
        (
            c.header_read_timeout,
            c.tls_handshake_timeout,
            c.idle_timeout,
        ) = (short, long, long)
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(h.handle.addr())
        .await
        .unwrap();
    s.write_all(b"GET http://x/ HTTP/1.1\r\nHost:")
        .await
        .unwrap();
    assert!(closed_within(s, Duration::from_secs(10)).await < Duration::from_secs(3));
    h.handle.shutdown().await;
    // TLS-handshake timeout: CONNECT, then a ClientHello that never finishes.
    let h = harness(|c, _| {
        (
            c.header_read_timeout,
            c.tls_handshake_timeout,
            c.idle_timeout,
        ) = (long, short, long)
    })
    .await;
    let mut s = connect_to(h.handle.addr(), h.origin.addr.port()).await;
    s.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    assert!(closed_within(s, Duration::from_secs(10)).await < Duration::from_secs(3));
    h.handle.shutdown().await;
    // Idle timeout: an established (tunnelled) connection with no traffic.
    let h = harness(|c, _| {
        (
            c.header_read_timeout,
            c.tls_handshake_timeout,
            c.idle_timeout,
        ) = (long, long, short);
        c.ignore_hosts = vec!["^localhost$".into()];
    })
    .await;
    let s = connect_to(h.handle.addr(), h.origin.addr.port()).await;
    assert!(closed_within(s, Duration::from_secs(10)).await < Duration::from_secs(3));
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_in_flight_flows_as_incomplete() {
    let h = harness(|_, _| {}).await;
    let c = h.client(false);
    let url = h.url("localhost", "/slow");
    let pending = tokio::spawn(async move { c.get(url).send().await });
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.handle.in_flight() == 0 {
        assert!(Instant::now() < deadline, "the slow request never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let Harness {
        handle, mut events, ..
    } = h;
    handle.shutdown().await;
    let mut got = Vec::new();
    while let Ok(ev) = events.try_recv() {
        got.push(ev);
    }
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(
        matches!(&got[0], FlowEvent::Request { request, .. } if request.url.ends_with("/slow"))
    );
    assert!(matches!(&got[1], FlowEvent::Error { error, .. } if error.incomplete));
    let _ = pending.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_auth_is_required_off_loopback_and_enforced_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let e = proxy::start(ProxyConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ca_dir: Some(dir.path().into()),
        ..ProxyConfig::default()
    })
    .await
    .unwrap_err();
    assert!(e.to_string().contains("--proxy-auth"), "{e}");
    let h = harness(|c, _| c.proxy_auth = Some(("alice".into(), "s3cret".into()))).await;
    let r = h
        .client(false)
        .get(h.url("localhost", "/hello"))
        .send()
        .await;
    // reqwest reports the 407 on CONNECT as an error.
    assert!(r.is_err() || r.unwrap().status() == 407);
    let c = reqwest::Client::builder()
        .no_proxy()
        .proxy(
            reqwest::Proxy::all(h.proxy_url())
                .unwrap()
                .basic_auth("alice", "s3cret"),
        )
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(h.handle.ca_pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = c.get(h.url("localhost", "/hello")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    h.handle.shutdown().await;
}

#[test]
fn the_cli_refuses_a_ca_key_readable_by_others_and_says_how_to_fix_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let ca_s = ca.display().to_string();
    let o = idscope(&["ca", "init", "--ca-dir", &ca_s], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = ca.join(proxy::ca::KEY_FILE);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let har = dir.path().join("x.har");
    let o = idscope(
        &[
            "record",
            "--listen",
            "127.0.0.1:0",
            "--ca-dir",
            &ca_s,
            "-w",
            &har.display().to_string(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
}

#[test]
fn ca_show_export_and_trust_help_print_what_clients_need_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let ca_s = ca.display().to_string();
    assert!(
        idscope(&["ca", "init", "--ca-dir", &ca_s], None)
            .status
            .success()
    );
    let show = stdout(&idscope(&["ca", "show", "--ca-dir", &ca_s], None));
    for want in [
        "Subject:",
        "idscope interception CA",
        "Valid until:",
        "SHA-1:",
        "SHA-256:",
    ] {
        assert!(show.contains(want), "{show}");
    }
    let pem = stdout(&idscope(&["ca", "export", "--ca-dir", &ca_s], None));
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && !pem.contains("PRIVATE"));
    let der = dir.path().join("ca.cer");
    let o = idscope(
        &[
            "ca",
            "export",
            "--der",
            "-o",
            &der.display().to_string(),
            "--ca-dir",
            &ca_s,
        ],
        None,
    );
    assert!(o.status.success());
    let der = std::fs::read(der).unwrap();
    assert!(x509_parser::parse_x509_certificate(&der).is_ok());
    let aad = stdout(&idscope(
        &[
            "ca",
            "trust-help",
            "--target",
            "aadconnect",
            "--proxy",
            "127.0.0.1:8888",
            "--ca-dir",
            &ca_s,
        ],
        None,
    ));
    for want in [
        r"Framework64\v4.0.30319\Config\machine.config",
        r"Framework\v4.0.30319\Config\machine.config",
        r#"<proxy usesystemdefault="false" proxyaddress="http://127.0.0.1:8888" bypassonlocal="true" />"#,
        r"Import-Certificate -FilePath",
        r"-CertStoreLocation Cert:\LocalMachine\Root",
    ] {
        assert!(aad.contains(want), "missing {want} in\n{aad}");
    }
    for target in ["linux", "macos", "windows", "firefox"] {
        let o = idscope(
            &["ca", "trust-help", "--target", target, "--ca-dir", &ca_s],
            None,
        );
        assert!(o.status.success(), "{target}");
        assert!(stdout(&o).contains(&ca_s), "{target}: {}", stdout(&o));
    }
    let init_again = idscope(&["ca", "init", "--ca-dir", &ca_s], None);
    assert_eq!(init_again.status.code(), Some(2));
    assert!(stderr(&init_again).contains("already exists"));
}

/// Starts `idscope record` as a child; returns it, killed when the guard drops, with the
/// listener address it printed.
pub fn spawn_record(args: &[&str]) -> (ChildGuard, SocketAddr, std::thread::JoinHandle<String>) {
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_idscope"))
            .arg("record")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 1024];
        let mut sent = false;
        loop {
            match err.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&all).into_owned();
                    let line = text
                        .lines()
                        .find(|l| l.starts_with("idscope: listening on ") && l.ends_with(')'));
                    if !sent && let Some(line) = line {
                        let addr = line.split_whitespace().nth(3).unwrap_or("");
                        let _ = tx.send(addr.to_string());
                        sent = true;
                    }
                }
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("idscope record printed its listener")
        .parse()
        .unwrap();
    (child, addr, reader)
}

/// `idscope record -w HAR` on a free loopback port with its CA in `ca_dir`, trusting
/// `upstream_ca` and mapping each `HOST=ADDR` of `maps` (a reference server's hosts): the guard,
/// the listener and the stderr reader of [`spawn_record`].
pub fn spawn_record_mapped(
    ca_dir: &std::path::Path,
    upstream_ca: &std::path::Path,
    maps: &[String],
    har: &std::path::Path,
) -> (ChildGuard, SocketAddr, std::thread::JoinHandle<String>) {
    let mut args = vec![
        "--listen".to_string(),
        "127.0.0.1:0".into(),
        "--ca-dir".into(),
        ca_dir.display().to_string(),
        "--upstream-ca".into(),
        upstream_ca.display().to_string(),
        "-w".into(),
        har.display().to_string(),
    ];
    for m in maps {
        args.extend(["--map".to_string(), m.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spawn_record(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_writes_finished_flows_and_sigterm_closes_the_file_with_incomplete_ones() {
    let origin = origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("rec.har");
    let ca_dir = dir.path().join("ca");
    let (child, addr, reader) = spawn_record(&[
        "--listen",
        "127.0.0.1:0",
        "--ca-dir",
        &ca_dir.display().to_string(),
        "--upstream-ca",
        &origin.ca.file.display().to_string(),
        "-w",
        &har.display().to_string(),
    ]);
    let ca_pem = std::fs::read(ca_dir.join(proxy::ca::CERT_FILE)).unwrap();
    let c = reqwest::Client::builder()
        .no_proxy()
        .proxy(reqwest::Proxy::all(format!("http://{addr}")).unwrap())
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem).unwrap())
        .build()
        .unwrap();
    let port = origin.addr.port();
    for i in 0..3 {
        let r = c
            .get(format!("https://localhost:{port}/id/sig-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // Read the body: a response dropped unread closes the connection mid-body, which the
        // proxy rightly records as an error flow.
        r.bytes().await.unwrap();
    }
    let slow = {
        let c = c.clone();
        tokio::spawn(async move { c.get(format!("https://localhost:{port}/slow")).send().await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = sigterm_and_wait(child).await;
    let err = reader.join().unwrap();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("recorded 4 flows"), "{err}");
    let mut r = capture::open(&har).unwrap();
    let flows: Vec<Flow> = r.by_ref().map(Result::unwrap).collect();
    assert!(r.repaired().is_none(), "a clean stop closes the HAR");
    assert_eq!(flows.len(), 4);
    assert!(flows[3].request.url.ends_with("/slow"));
    assert!(matches!(&flows[3].outcome, Outcome::Error(e) if e.incomplete));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&har).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let _ = slow.await;
    let _ = std::io::stdout().flush();
}

#[test]
fn the_ca_folder_holds_no_key_and_its_machine_config_matches_trust_help() {
    let ca = Path::new(env!("CARGO_MANIFEST_DIR")).join("ca");
    let mut checked = 0;
    for entry in std::fs::read_dir(&ca).unwrap() {
        let path = entry.unwrap().path();
        // Bytes, not text: a binary (DER) file is checked too.
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(
            !text.contains("-----BEGIN PRIVATE KEY"),
            "{}",
            path.display()
        );
        assert!(
            !text.contains("-----BEGIN EC PRIVATE KEY"),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} files in {}", ca.display());
    let xml = std::fs::read_to_string(ca.join("aadconnect-machine.config.xml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let help = stdout(&idscope(
        &[
            "ca",
            "trust-help",
            "--target",
            "aadconnect",
            "--ca-dir",
            &dir.path().display().to_string(),
        ],
        None,
    ));
    let section: Vec<&str> = xml
        .lines()
        .skip_while(|l| !l.starts_with("<system.net>"))
        .collect();
    assert_eq!(section.len(), 5, "{xml}");
    for line in section {
        assert!(help.contains(line), "trust-help lacks {line:?}\n{help}");
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the proxy never listened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn client_through(port: u16, ca_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{port}")).unwrap())
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_no_tui_prints_one_decoded_line_per_flow() {
    let origin = origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let port = free_port();
    let child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_idscope"))
            .args([
                "proxy",
                "--no-tui",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["--ca-dir", &ca_dir.display().to_string()])
            .args(["--upstream-ca", &origin.ca.file.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_listening(port).await;
    let c = client_through(
        port,
        &std::fs::read(ca_dir.join(proxy::ca::CERT_FILE)).unwrap(),
    );
    let o = origin.addr.port();
    for i in 0..3 {
        let r = c
            .get(format!("https://localhost:{o}/id/line-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        // Read the body: a response dropped unread closes the connection mid-body, and the
        // proxy then records that flow as an error (what it should do).
        r.bytes().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = sigterm_and_wait(child).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    // Lines come in the order the flows finish, which the test does not rely on.
    for i in 0..3 {
        let want = format!("#{} GET https://localhost:{o}/id/line-{i} → 200 ", i + 1);
        assert!(lines.iter().any(|l| l.starts_with(&want)), "{want}\n{text}");
    }
}

/// `idscope proxy` on a terminal opens the TUI and shows flows as they happen; quitting it
/// stops the proxy, closes the recording and restores the terminal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_on_a_terminal_shows_live_flows_in_the_tui_and_records() {
    use portable_pty::CommandBuilder;

    let origin = origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let har = dir.path().join("live.har");
    let port = free_port();
    let pty = crate::util::open_pty();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_idscope"));
    cmd.args(["proxy", "--listen", &format!("127.0.0.1:{port}")]);
    cmd.args(["--ca-dir", &ca_dir.display().to_string()]);
    cmd.args(["--upstream-ca", &origin.ca.file.display().to_string()]);
    cmd.args(["-w", &har.display().to_string()]);
    cmd.cwd(dir.path());
    cmd.env("TERM", "xterm-256color");
    // The TUI's log file goes under the state directory: keep it in the test's directory.
    cmd.env("HOME", dir.path());
    cmd.env("XDG_STATE_HOME", dir.path().join("state"));
    let mut child = ChildGuard::new(pty.slave.spawn_command(cmd).unwrap());
    drop(pty.slave);
    let mut writer = pty.master.take_writer().unwrap();
    let (screen, _pump) = crate::util::Screen::follow(pty.master.try_clone_reader().unwrap());

    wait_listening(port).await;
    let c = client_through(
        port,
        &std::fs::read(ca_dir.join(proxy::ca::CERT_FILE)).unwrap(),
    );
    let o = origin.addr.port();
    let r = c
        .get(format!("https://localhost:{o}/id/live-tui"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let text = tokio::task::block_in_place(|| screen.wait_for("/id/live-tui"));
    assert!(screen.alternate_screen(), "{text}");

    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "idscope proxy did not quit on q");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = std::fs::read_to_string(dir.path().join("state/idscope/idscope-tui.log"))
        .unwrap_or_default();
    assert!(
        status.success(),
        "{status:?}\nscreen:\n{}\nlog:\n{log}",
        screen.text()
    );
    assert!(!screen.alternate_screen());
    let flows: Vec<Flow> = capture::open(&har).unwrap().map(Result::unwrap).collect();
    assert_eq!(flows.len(), 1);
    assert!(flows[0].request.url.ends_with("/id/live-tui"));
}

/// Sends SIGTERM to `child` and waits for it to exit, collecting its output.
async fn sigterm_and_wait(child: ChildGuard) -> std::process::Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Signalled: from here the test collects the child's output itself.
    let child = child.into_inner();
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}
