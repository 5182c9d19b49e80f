//! Setup mistakes surfaced: a client that refuses idscope's certificate becomes an error flow for
//! the host (live events, the recording, the `--no-tui` line, `analyze`), once per host per
//! window; other handshake endings (no TLS at all, half a ClientHello, a timeout, a client that
//! trusts the CA) are not refusals. `ca trust-help` for Chrome on Linux and Java, with its
//! `certutil` and `keytool` lines run for real. `--ignore-host` for plain-HTTP requests.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use idscope::capture;
use idscope::flow::Flow;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::proxy::{Harness, free_port, harness, wait_listening};
use crate::support::ChildGuard;
use crate::util::{idscope, stderr, stdout};

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like \
                            Gecko) HeadlessChrome/126.0.0.0 Safari/537.36";
const REFUSED: &str = "rejected idscope's certificate";

/// A rustls client configuration trusting only `pem`.
fn client_config(pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
        .unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// A TCP connection to the proxy with an established `CONNECT host:port` tunnel.
async fn tunnel(proxy: SocketAddr, host: &str, port: u16, user_agent: Option<&str>) -> TcpStream {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    let ua = user_agent
        .map(|u| format!("User-Agent: {u}\r\n"))
        .unwrap_or_default();
    s.write_all(
        format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{ua}\r\n").as_bytes(),
    )
    .await
    .unwrap();
    // Nothing follows the response head until the client speaks: read it whole.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(s.read(&mut b).await.unwrap(), 1, "{head:?}");
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"), "{head:?}");
    s
}

/// Reads until the proxy closes the connection (it does so once it is done with it).
async fn until_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("the proxy never closed the connection");
}

/// A rustls client that trusts `pem` only, through a tunnel to `host`: the handshake's result
/// (the connection is then read until the proxy closes it).
async fn tls_through(
    h: &Harness,
    host: &str,
    trusted: &str,
    user_agent: Option<&str>,
) -> Result<(), rustls::Error> {
    let mut tcp = tunnel(h.handle.addr(), host, h.origin.addr.port(), user_agent).await;
    let connector = tokio_rustls::TlsConnector::from(client_config(trusted));
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
    match connector.connect(name, &mut tcp).await {
        Ok(tls) => {
            drop(tls);
            Ok(())
        }
        Err(e) => {
            until_closed(&mut tcp).await;
            let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
            Err(inner
                .cloned()
                .unwrap_or_else(|| panic!("not a TLS error: {e}")))
        }
    }
}

/// Plays a rustls client that does not trust idscope's CA by hand: ClientHello, then the server's
/// flight is read up to the certificate the client rejects. Instead of sending its alert, the
/// client closes the connection (`close`) or stays silent; then it waits for the proxy to close.
async fn hello_then(h: &Harness, host: &str, close: bool) {
    let mut tcp = tunnel(h.handle.addr(), host, h.origin.addr.port(), None).await;
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
    let mut conn = rustls::ClientConnection::new(client_config(&h.origin.ca.pem), name).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    tcp.write_all(&out).await.unwrap();
    let mut buf = vec![0u8; 32 * 1024];
    'flight: loop {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the proxy closed before sending its certificate");
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            conn.read_tls(&mut rest).unwrap();
            match conn.process_new_packets() {
                Ok(_) => {}
                Err(e) => {
                    assert!(matches!(e, rustls::Error::InvalidCertificate(_)), "{e}");
                    break 'flight;
                }
            }
        }
    }
    // The alert rustls queued is never sent.
    if close {
        tcp.shutdown().await.unwrap();
    }
    until_closed(&mut tcp).await;
}

/// An exchange by a client that trusts the CA; asserts that the next flow is that exchange.
async fn trusted_exchange(h: &mut Harness) {
    let r = h
        .client(false)
        .get(h.url("localhost", "/hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (events, flows) = h.flows(1, &dir.path().join("ok.har")).await;
    assert_eq!(flows[0].response().unwrap().status, 200, "{events:#?}");
    assert!(flows[0].request.url.ends_with("/hello"), "{events:#?}");
}

fn refusals(flows: &[Flow]) -> Vec<&Flow> {
    flows
        .iter()
        .filter(|f| f.error().is_some_and(|e| e.message.contains(REFUSED)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_refusing_the_certificate_is_one_error_flow_per_host_saying_what_to_run() {
    let mut h = harness(|c, o| {
        c.map = vec![("login.example".into(), o.addr.to_string())];
    })
    .await;
    let port = h.origin.addr.port();
    let origin_ca = h.origin.ca.pem.clone();
    // Three connections to one host (as a browser retries), one to another.
    for _ in 0..3 {
        let e = tls_through(&h, "localhost", &origin_ca, Some(CHROME_LINUX))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
            ),
            "{e}"
        );
    }
    tls_through(&h, "login.example", &origin_ca, Some("Java/17.0.11"))
        .await
        .unwrap_err();
    // Every connection above was closed by the proxy after it reported: the events are in.
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("refused.har");
    let (_, flows) = h.flows(2, &har).await;
    assert!(h.events.try_recv().is_err(), "one flow per host");
    for (f, host, target) in [
        (&flows[0], "localhost", "chrome-linux"),
        (&flows[1], "login.example", "java"),
    ] {
        assert_eq!(f.request.method, "CONNECT");
        assert_eq!(f.request.url, format!("https://{host}:{port}"));
        let e = f.error().expect("an error flow");
        assert!(!e.incomplete);
        for want in [
            format!("the client rejected idscope's certificate for {host}:{port}"),
            "(TLS alert unknown_ca)".into(),
            "it does not trust the idscope CA".into(),
            format!("idscope ca trust-help --target {target}"),
        ] {
            assert!(e.message.contains(&want), "{want:?} in {}", e.message);
        }
        assert_eq!(f.request.extra["_tlsRefusal"]["alert"], "unknown_ca");
    }
    assert_eq!(
        idscope::flow::header(&flows[0].request.headers, "user-agent"),
        Some(CHROME_LINUX)
    );
    // The recording holds them, and analyze reports them as error findings.
    let back = capture::read_all(&har).unwrap();
    assert_eq!(refusals(&back).len(), 2);
    let out = idscope(
        &[
            "analyze",
            "--filter",
            "~finding error",
            &har.display().to_string(),
        ],
        None,
    );
    let text = stdout(&out);
    let listed = text.split_once("\nFindings (").map_or("", |(_, l)| l);
    assert_eq!(listed.matches(REFUSED).count(), 2, "{text}{}", stderr(&out));
    assert!(text.contains("no response: the client rejected"), "{text}");
    // A client that trusts the CA is no refusal, on the same host.
    trusted_exchange(&mut h).await;
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_right_after_the_servers_certificate_is_a_refusal_and_the_targets_listed_exist() {
    let mut h = harness(|c, o| {
        c.map = vec![("login.example".into(), o.addr.to_string())];
    })
    .await;
    hello_then(&h, "login.example", true).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, flows) = h.flows(1, &dir.path().join("closed.har")).await;
    let port = h.origin.addr.port();
    let e = flows[0].error().expect("an error flow");
    for want in [
        format!("the client rejected idscope's certificate for login.example:{port}"),
        "without a TLS alert".into(),
        "idscope ca trust-help --target chrome-linux|".into(),
    ] {
        assert!(e.message.contains(&want), "{want:?} in {}", e.message);
    }
    assert_eq!(
        flows[0].request.extra["_tlsRefusal"]["alert"],
        serde_json::Value::Null
    );
    // Without a User-Agent the message lists every target: each is one `ca trust-help` knows.
    let list = e
        .message
        .split("--target ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let targets: Vec<&str> = list.split('|').collect();
    assert!(targets.len() >= 7, "{list}");
    let ca_dir = h.handle.ca_dir().display().to_string();
    for t in targets {
        let out = idscope(
            &["ca", "trust-help", "--target", t, "--ca-dir", &ca_dir],
            None,
        );
        assert!(out.status.success(), "{t}: {}", stderr(&out));
    }
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_tls_half_a_hello_a_timeout_or_a_trusting_client_are_not_refusals() {
    let mut h = harness(|c, _| c.tls_handshake_timeout = Duration::from_millis(300)).await;
    let (addr, port) = (h.handle.addr(), h.origin.addr.port());
    // Never starts TLS: the tunnel is closed at once.
    let mut s = tunnel(addr, "localhost", port, Some(CHROME_LINUX)).await;
    s.shutdown().await.unwrap();
    until_closed(&mut s).await;
    // Half a ClientHello, then the end.
    let mut s = tunnel(addr, "localhost", port, Some(CHROME_LINUX)).await;
    s.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
    s.shutdown().await.unwrap();
    until_closed(&mut s).await;
    // A whole ClientHello, then silence until the handshake timeout closes the tunnel.
    hello_then(&h, "localhost", false).await;
    // Then a client that trusts the CA: the first flow after all that is its exchange.
    trusted_exchange(&mut h).await;
    h.handle.shutdown().await;
}

/// A plain-HTTP origin that answers every request with its request line, and counts them.
async fn plain_origin() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let host = text
                    .lines()
                    .find_map(|l| l.strip_prefix("host: ").or(l.strip_prefix("Host: ")))
                    .unwrap_or("")
                    .to_string();
                let line = text.lines().next().unwrap_or("").to_string();
                let body = format!("{host} {line}");
                let _ = tx.send(body.clone());
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                             Connection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    (addr, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_host_forwards_plain_http_without_a_flow() {
    let (origin, mut seen) = plain_origin().await;
    let mut h = harness(|c, _| {
        c.map = ["ignored.example", "other.example", "kept.example"]
            .iter()
            .map(|name| (name.to_string(), origin.to_string()))
            .collect();
        // One by host, one by host:port (the default port 80 of plain HTTP).
        c.ignore_hosts = vec![r"^ignored\.example$".into(), r"^other\.example:80$".into()];
    })
    .await;
    let c = reqwest::Client::builder()
        .no_proxy()
        .proxy(reqwest::Proxy::all(h.proxy_url()).unwrap())
        .build()
        .unwrap();
    for (url, host) in [
        ("http://ignored.example/background?x=1", "ignored.example"),
        ("http://other.example/ping", "other.example"),
        ("http://kept.example/login", "kept.example"),
    ] {
        let r = c.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let body = r.text().await.unwrap();
        assert!(body.starts_with(host), "{url}: {body}");
        let got = seen.recv().await.unwrap();
        assert!(got.starts_with(host), "the origin got {got}");
    }
    // The ignored requests were answered before the kept one was sent: had they been recorded,
    // their events would come first.
    let dir = tempfile::tempdir().unwrap();
    let (events, flows) = h.flows(1, &dir.path().join("plain.har")).await;
    assert_eq!(
        flows[0].request.url, "http://kept.example/login",
        "{events:#?}"
    );
    assert_eq!(flows[0].response().unwrap().status, 200);
    assert!(h.events.try_recv().is_err());
    h.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_no_tui_printer_and_the_recording_of_idscope_proxy_show_the_refusal() {
    let origin = crate::origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let har = dir.path().join("rec.har");
    let port = free_port();
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_idscope"))
            .args([
                "proxy",
                "--no-tui",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["--ca-dir", &ca_dir.display().to_string()])
            .args(["-w", &har.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    wait_listening(port).await;
    let proxy: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let o = origin.addr.port();
    let mut tcp = tunnel(proxy, "localhost", o, Some(CHROME_LINUX)).await;
    let connector = tokio_rustls::TlsConnector::from(client_config(&origin.ca.pem));
    let refused = connector
        .connect("localhost".try_into().unwrap(), &mut tcp)
        .await;
    assert!(refused.is_err());
    until_closed(&mut tcp).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let child = child.into_inner();
    let done = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let line = out
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no line: {out:?}"));
    let want = format!(
        "#1 CONNECT https://localhost:{o} → ERROR the client rejected idscope's certificate for \
         localhost:{o} (TLS alert unknown_ca)"
    );
    assert!(line.starts_with(&want), "{line}");
    assert!(line.contains("--target chrome-linux"), "{line}");
    let flows = capture::read_all(&har).unwrap();
    assert_eq!(refusals(&flows).len(), 1, "{flows:#?}");
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains("WARN") && err.contains("rejected idscope's certificate for localhost"),
        "the warning reaches stderr: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// ca trust-help --target chrome-linux | java

/// A CA in a temporary directory and its `ca show` SHA-256 (colons removed, upper case).
fn temp_ca() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let ca_s = ca.display().to_string();
    let out = idscope(&["ca", "init", "--ca-dir", &ca_s], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let sha256 = text
        .lines()
        .find_map(|l| l.strip_prefix("SHA-256:"))
        .unwrap()
        .trim()
        .replace(':', "")
        .to_ascii_uppercase();
    (dir, ca_s, sha256)
}

fn trust_help(target: &str, ca_dir: &str) -> String {
    let out = idscope(
        &[
            "ca",
            "trust-help",
            "--target",
            target,
            "--ca-dir",
            ca_dir,
            "--proxy",
            "127.0.0.1:8888",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// Runs `line` in `sh` with HOME set; panics with the output when it fails.
fn sh(line: &str, home: &Path) -> String {
    let out = Command::new("sh")
        .args(["-c", line])
        .env("HOME", home)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "`{line}` failed: {text}");
    text
}

/// Whether `tool` is installed. A missing tool fails the test, unless `IDSCOPE_SKIP_INTEROP` is
/// set (CI sets it only when the package archive cannot be reached): then it says SKIPPED loudly.
fn require(tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap()
        .status
        .success();
    if !found && let Some(skip) = std::env::var_os("IDSCOPE_SKIP_INTEROP") {
        eprintln!("SKIPPED: `{tool}` is not installed (IDSCOPE_SKIP_INTEROP={skip:?})");
        return false;
    }
    assert!(
        found,
        "`{tool}` is not installed: install {package} (.ci/run does)"
    );
    true
}

fn hex_only(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase()
}

#[test]
fn trust_help_for_chrome_on_linux_and_java_names_the_tools_and_the_real_ca_path() {
    let (_dir, ca, _) = temp_ca();
    let pem = format!("{ca}/idscope-ca.pem");
    let t = trust_help("chrome-linux", &ca);
    for want in [
        "sql:$HOME/.pki/nssdb".to_string(),
        "libnss3-tools".into(),
        "certutil -d sql:$HOME/.pki/nssdb -N --empty-password".into(),
        format!("certutil -d sql:$HOME/.pki/nssdb -A -t \"C,,\" -n idscope -i {pem}\n"),
        "certutil -d sql:$HOME/.pki/nssdb -L\n".into(),
        "Restart the browser".into(),
        "--proxy-server=http://127.0.0.1:8888".into(),
    ] {
        assert!(t.contains(&want), "chrome-linux lacks {want:?}:\n{t}");
    }
    let t = trust_help("java", &ca);
    for want in [
        format!(
            "keytool -importcert -trustcacerts -cacerts -alias idscope -file {pem} -storepass \
             changeit -noprompt\n"
        ),
        format!(
            "keytool -importcert -trustcacerts -keystore $JAVA_HOME/jre/lib/security/cacerts \
             -alias idscope -file {pem} -storepass changeit -noprompt\n"
        ),
        "-Djavax.net.ssl.trustStore=".into(),
        "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=8888".into(),
    ] {
        assert!(t.contains(&want), "java lacks {want:?}:\n{t}");
    }
    // A CA path with a space is quoted for the shell.
    let spaced = tempfile::tempdir().unwrap();
    let ca2 = spaced.path().join("my ca");
    let t = trust_help("chrome-linux", &ca2.display().to_string());
    assert!(
        t.contains(&format!("-i '{}/idscope-ca.pem'\n", ca2.display())),
        "{t}"
    );
}

#[test]
fn the_printed_chrome_linux_commands_put_the_ca_in_a_fresh_nss_database() {
    if !require("certutil", "libnss3-tools") {
        return;
    }
    let (_dir, ca, sha256) = temp_ca();
    let home = tempfile::tempdir().unwrap();
    let t = trust_help("chrome-linux", &ca);
    // The shell lines of the text, in order, up to the removal; the package install and the
    // browser start are left to the person.
    let (setup, removal) = t.split_once("# Remove afterwards:").unwrap();
    let commands = |part: &str| -> Vec<String> {
        part.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter(|l| !l.starts_with("sudo apt-get") && !l.starts_with("google-chrome"))
            .map(str::to_string)
            .collect()
    };
    let setup = commands(setup);
    assert!(setup.len() >= 4, "{setup:?}");
    for line in &setup {
        sh(line, home.path());
    }
    let db = format!("sql:{}/.pki/nssdb", home.path().display());
    let list = sh(&format!("certutil -L -d {db}"), home.path());
    let row = list
        .lines()
        .find(|l| l.starts_with("idscope "))
        .unwrap_or_else(|| panic!("idscope is not listed:\n{list}"));
    assert!(row.trim_end().ends_with("C,,"), "{row}");
    let one = sh(&format!("certutil -L -d {db} -n idscope"), home.path());
    let fp = one
        .split("Fingerprint (SHA-256):")
        .nth(1)
        .and_then(|s| s.lines().nth(1))
        .unwrap_or_else(|| panic!("{one}"));
    assert_eq!(hex_only(fp), sha256, "{one}");
    // Running the steps again is harmless (the database exists: it is not created anew).
    for line in &setup {
        sh(line, home.path());
    }
    for line in commands(removal) {
        sh(&line, home.path());
    }
    let list = sh(&format!("certutil -L -d {db}"), home.path());
    assert!(!list.contains("idscope"), "{list}");
    // ca/trust-chrome-linux.sh does the same.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ca/trust-chrome-linux.sh");
    let home2 = tempfile::tempdir().unwrap();
    sh(
        &format!("{} {ca}/idscope-ca.pem", script.display()),
        home2.path(),
    );
    let db2 = format!("sql:{}/.pki/nssdb", home2.path().display());
    let list = sh(&format!("certutil -L -d {db2}"), home2.path());
    assert!(
        list.lines()
            .any(|l| l.starts_with("idscope ") && l.trim_end().ends_with("C,,")),
        "{list}"
    );
    sh(&format!("{} --remove", script.display()), home2.path());
    let list = sh(&format!("certutil -L -d {db2}"), home2.path());
    assert!(!list.contains("idscope"), "{list}");
}

#[test]
fn the_printed_keytool_lines_import_the_ca_into_a_copy_of_cacerts_and_a_trust_store() {
    if !require("keytool", "a JDK (Debian: openjdk-17-jre-headless)") {
        return;
    }
    let (_dir, ca, sha256) = temp_ca();
    let t = trust_help("java", &ca);
    // The JDK's own cacerts, copied: the JDK-8 `-keystore` line runs against the copy.
    let keytool = std::fs::canonicalize(
        String::from_utf8(
            Command::new("sh")
                .args(["-c", "command -v keytool"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim(),
    )
    .unwrap();
    let java_home = keytool.parent().unwrap().parent().unwrap();
    let cacerts = java_home.join("lib/security/cacerts");
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("cacerts");
    std::fs::copy(&cacerts, &copy).unwrap();
    let jdk8 = t
        .lines()
        .find(|l| {
            l.contains("-keystore $JAVA_HOME/jre/lib/security/cacerts") && !l.starts_with('#')
        })
        .unwrap_or_else(|| panic!("{t}"));
    let line = jdk8.strip_prefix("sudo ").unwrap().replace(
        "$JAVA_HOME/jre/lib/security/cacerts",
        &copy.display().to_string(),
    );
    sh(&line, work.path());
    let listed = sh(
        &format!(
            "keytool -list -v -keystore {} -alias idscope -storepass changeit",
            copy.display()
        ),
        work.path(),
    );
    let fp = listed
        .lines()
        .find_map(|l| l.trim().strip_prefix("SHA256:"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(hex_only(fp), sha256, "{listed}");
    // The trust store of one's own, made by its line, in a scratch directory.
    let own = t
        .lines()
        .find(|l| l.starts_with("keytool -importcert") && l.contains("idscope-truststore.p12"))
        .unwrap_or_else(|| panic!("{t}"));
    let out = Command::new("sh")
        .args(["-c", own])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = sh(
        &format!(
            "keytool -list -v -keystore {}/idscope-truststore.p12 -storepass changeit",
            work.path().display()
        ),
        work.path(),
    );
    assert!(
        listed.contains("Your keystore contains 1 entry"),
        "{listed}"
    );
    assert!(listed.contains("Alias name: idscope"), "{listed}");
}
