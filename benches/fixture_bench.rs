//! Reference-server throughput: requests per second on keep-alive connections for
//! (a) the token endpoint (`POST /common/oauth2/token`, client_credentials) and (b) the
//! provisioning endpoint (`POST /provisioningservice.svc`, GetCompanyConfiguration in msbin1 with
//! a valid BearerToken), each next to a baseline measured in the same run: the same requests
//! (same bodies, same TLS certificate, same HTTP/1.1 keep-alive load) against a bare
//! hyper + rustls server in the same process and runtime that reads the body and answers 1 KiB,
//! like `examples/bench_origin.rs` (the proxy benchmark's origin).
//!
//! The fixture's caches ([fixture-defined]: identical token requests within one clock second
//! share the access token; verified BearerTokens; encoded read-only msbin1 replies) are measured
//! on (hit) and off (miss: every token signed, every BearerToken verified, every reply encoded)
//! so the miss rate is never hidden.
//!
//! Load: [`oha`](https://github.com/hatoo/oha) out of process when it is on `PATH` or in
//! `~/.cargo/bin` (so the client does not share the fixture's runtime; it still shares the
//! machine's cores), else N in-process reqwest clients (a lower bound; the figures say which).
//!
//! `cargo bench --bench fixture_bench -- [--connections N] [--seconds S] [--proxy-rps R]
//! [--client oha|reqwest] [--only ROW-SUBSTRING]` (defaults 32, 5, 9304 = the proxy's capture HTTPS keep-alive figure in
//! benches/README.md). The fixture should serve at least 3× what the proxy forwards.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use idscope::fixture::{self, FixtureConfig, cache};
use idscope::testbed::{CONFIDENTIAL_CLIENT, LOGIN_HOST, SYNC_HOST};
use tokio::net::TcpListener;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn num(name: &str, default: u64) -> u64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One load target: where the request goes and what it carries.
#[derive(Clone)]
struct Target {
    host: &'static str,
    path: &'static str,
    content_type: &'static str,
    body: Bytes,
}

/// The result of one timed run.
struct Run {
    rps: f64,
    ok: u64,
    failed: u64,
}

/// Finds `oha` (PATH, then ~/.cargo/bin).
fn find_oha() -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("oha"))
            .find(|c| c.is_file())
    });
    from_path.or_else(|| {
        let home = PathBuf::from(std::env::var_os("HOME")?);
        let c = home.join(".cargo/bin/oha");
        c.is_file().then_some(c)
    })
}

/// A timed run with oha (out of process). `ca` is the PEM file of the CA the server chains to.
async fn oha_run(
    oha: &Path,
    dir: &Path,
    ca: &Path,
    port: u16,
    t: &Target,
    conns: u64,
    secs: u64,
) -> anyhow::Result<Run> {
    let body = dir.join("body.bin");
    std::fs::write(&body, &t.body)?;
    let url = format!("https://{}{}", t.host, t.path);
    let connect = format!("{}:443:127.0.0.1:{port}", t.host);
    let run = |n: Option<u64>, z: Option<u64>| {
        let mut c = tokio::process::Command::new(oha);
        c.arg("--no-tui")
            .args(["--output-format", "json"])
            .args(["-c", &conns.to_string()])
            .args(["-m", "POST", "-T", t.content_type])
            .arg("-D")
            .arg(&body)
            .arg("--cacert")
            .arg(ca)
            .args(["--connect-to", &connect])
            .args(["--http-version", "1.1"]);
        if let Some(n) = n {
            c.args(["-n", &n.to_string()]);
        }
        if let Some(z) = z {
            c.args(["-z", &format!("{z}s")]);
        }
        c.arg(&url);
        c.stdin(std::process::Stdio::null());
        c.output()
    };
    // Warm-up: handshakes and allocator, not counted.
    let warm = run(Some(conns * 20), None).await?;
    if !warm.status.success() {
        bail!("oha failed: {}", String::from_utf8_lossy(&warm.stderr));
    }
    let out = run(None, Some(secs)).await?;
    if !out.status.success() {
        bail!("oha failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("oha JSON output")?;
    let rps = v["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0);
    let mut ok = 0;
    let mut failed = 0;
    if let Some(codes) = v["statusCodeDistribution"].as_object() {
        for (code, n) in codes {
            let n = n.as_u64().unwrap_or(0);
            if code == "200" {
                ok += n;
            } else {
                failed += n;
            }
        }
    }
    if let Some(errs) = v["errorDistribution"].as_object() {
        for (e, n) in errs {
            // A timed run cuts off the requests in flight at the deadline: not failures.
            if !e.contains("aborted due to deadline") {
                failed += n.as_u64().unwrap_or(0);
            }
        }
    }
    // oha's requestsPerSec counts every answer; report successful answers per second.
    let total = ok + failed;
    let rps = if total > 0 {
        rps * ok as f64 / total as f64
    } else {
        0.0
    };
    Ok(Run { rps, ok, failed })
}

fn client(ca_pem: &str, port: u16) -> anyhow::Result<reqwest::Client> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    Ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
        .resolve(LOGIN_HOST, addr)
        .resolve(SYNC_HOST, addr)
        .no_proxy()
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()?)
}

/// A timed run with N in-process reqwest clients (fallback when oha is missing).
async fn reqwest_run(
    ca_pem: &str,
    port: u16,
    t: &Target,
    conns: u64,
    secs: u64,
) -> anyhow::Result<Run> {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("https://{}{}", t.host, t.path);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        // One client per task: each keeps exactly one keep-alive connection.
        let c = client(ca_pem, port)?;
        let (done, failed, stop, t, url) = (
            done.clone(),
            failed.clone(),
            stop.clone(),
            t.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let send = c
                    .post(&url)
                    .header("content-type", t.content_type)
                    .body(t.body.clone())
                    .send()
                    .await;
                let ok = match send {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let counter = if ok { &done } else { &failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Warm-up (TLS handshakes) is excluded: count from after the first second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start_count = done.load(Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let n = done.load(Ordering::Relaxed) - start_count;
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    Ok(Run {
        rps: n as f64 / elapsed,
        ok: n,
        failed: failed.load(Ordering::Relaxed),
    })
}

/// The baseline: hyper-util auto (HTTP/1.1 + h2) over rustls with the fixture's own certificate,
/// reading the body and answering the same 1 KiB JSON for every request (as bench_origin does).
async fn start_baseline(tls: &fixture::keys::TlsMaterial) -> anyhow::Result<u16> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(
                tls.leaf_der.clone(),
            )],
            rustls::pki_types::PrivateKeyDer::Pkcs8(tls.leaf_key_pkcs8.clone().into()),
        )?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let head = r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":""#;
    let pad = 1024 - head.len() - 2;
    let body = Bytes::from(format!("{head}{}\"}}", "a".repeat(pad)));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        async move {
                            let _ = req.into_body().collect().await;
                            let mut res = http::Response::new(Full::new(body));
                            res.headers_mut().insert(
                                http::header::CONTENT_TYPE,
                                http::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, Infallible>(res)
                        }
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(port)
}

fn main() -> anyhow::Result<()> {
    let conns = num("--connections", 32);
    let secs = num("--seconds", 5);
    let proxy_rps = num("--proxy-rps", 9304) as f64;
    let oha = match arg("--client").as_deref() {
        Some("reqwest") => None,
        Some("oha") => Some(find_oha().context("--client oha: oha not found")?),
        _ => find_oha(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let h = fixture::start(FixtureConfig::default()).await?;
        let fx = h.fixture().clone();
        let fixture_port = h.addr().port();
        let baseline_port = start_baseline(&fx.tls).await?;
        let dir = tempfile::tempdir()?;
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, h.ca_pem())?;

        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", CONFIDENTIAL_CLIENT.0)
            .append_pair("client_secret", CONFIDENTIAL_CLIENT.1)
            .finish();
        // A valid BearerToken for the provisioning call (audience AAD Graph).
        let tok: serde_json::Value = client(h.ca_pem(), fixture_port)?
            .post(format!("https://{LOGIN_HOST}/common/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
            .await?
            .json()
            .await?;
        let bearer = tok["access_token"].as_str().unwrap_or_default().to_string();
        let xml = idscope::scenario::sync::request_envelope(
            "GetCompanyConfiguration",
            SYNC_HOST,
            &bearer,
            "",
            "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        );
        let msbin = Bytes::from(idscope_decoders::soap::nbfx::encode(
            &xml,
            idscope_decoders::soap::nbfx::Style::XmlDocument,
        )?);
        let token = Target {
            host: LOGIN_HOST,
            path: "/common/oauth2/token",
            content_type: "application/x-www-form-urlencoded",
            body: Bytes::from(form),
        };
        let sync = Target {
            host: SYNC_HOST,
            path: "/provisioningservice.svc",
            content_type: "application/soap+msbin1",
            body: msbin,
        };
        let client_name = match &oha {
            Some(p) => format!("oha ({}), out of process", p.display()),
            None => "in-process reqwest clients (oha not found): a lower bound".into(),
        };
        println!(
            "fixture_bench: {conns} HTTP/1.1 keep-alive TLS connections, {secs} s per row, \
             {} runtime workers, client: {client_name}",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        let measure = |port: u16, t: Target| {
            let (oha, dir, ca, ca_pem) = (
                oha.clone(),
                dir.path().to_path_buf(),
                ca.clone(),
                h.ca_pem().to_string(),
            );
            async move {
                match oha {
                    Some(o) => oha_run(&o, &dir, &ca, port, &t, conns, secs).await,
                    None => reqwest_run(&ca_pem, port, &t, conns, secs).await,
                }
            }
        };
        // (name, fixture? (else baseline), target, caches (tokens, BearerTokens, replies),
        // index of its baseline row)
        type Row<'t> = (&'static str, bool, &'t Target, (bool, bool, bool), usize);
        let on = (true, true, true);
        let off = (false, false, false);
        let plan: [Row<'_>; 7] = [
            ("baseline: bare hyper+TLS, token request", false, &token, on, 0),
            ("token, cache hit (identical requests)", true, &token, on, 0),
            ("token, cache off (RS256 signature per request)", true, &token, off, 0),
            ("baseline: bare hyper+TLS, provisioning request", false, &sync, on, 3),
            ("provisioning GetCompanyConfiguration, caches on (reply hit)", true, &sync, on, 3),
            (
                "provisioning GetCompanyConfiguration, BearerToken cache only (a client with fresh MessageIDs)",
                true,
                &sync,
                (true, true, false),
                3,
            ),
            ("provisioning GetCompanyConfiguration, caches off", true, &sync, off, 3),
        ];
        let only = arg("--only");
        let mut rows: Vec<Option<(Run, cache::CacheStats)>> = Vec::new();
        for (name, on_fixture, t, caches, _) in plan {
            if only.as_deref().is_some_and(|o| !name.contains(o)) {
                rows.push(None);
                continue;
            }
            fx.caches().set(caches.0, caches.1, caches.2);
            let before = fx.cache_stats();
            let port = if on_fixture { fixture_port } else { baseline_port };
            let run = measure(port, t.clone()).await?;
            let after = fx.cache_stats();
            let delta = |a: (u64, u64), b: (u64, u64)| (a.0 - b.0, a.1 - b.1);
            let d = cache::CacheStats {
                token: delta(after.token, before.token),
                bearer: delta(after.bearer, before.bearer),
                reply: delta(after.reply, before.reply),
            };
            rows.push(Some((run, d)));
        }
        fx.set_caches(true);
        println!();
        println!(
            "| row | req/s | ok | failed | / baseline | / proxy ({proxy_rps:.0} req/s) | fixture caches (hits / misses, incl. warm-up) |"
        );
        println!("|---|---|---|---|---|---|---|");
        for ((name, on_fixture, _, _, base), row) in plan.iter().zip(&rows) {
            let Some((r, d)) = row else { continue };
            let ratio = match &rows[*base] {
                Some((b, _)) => format!("{:.2}×", r.rps / b.rps.max(1.0)),
                None => "–".into(),
            };
            let caches = if *on_fixture { d.to_string() } else { "–".into() };
            println!(
                "| {name} | {:.0} | {} | {} | {ratio} | {:.2}× | {caches} |",
                r.rps,
                r.ok,
                r.failed,
                r.rps / proxy_rps.max(1.0)
            );
        }
        println!();
        println!(
            "goal: every fixture row ≥ 3 × the proxy's forwarded rate = {:.0} req/s",
            3.0 * proxy_rps
        );
        h.shutdown().await;
        anyhow::Ok(())
    })
}
