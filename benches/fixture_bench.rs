//! Reference-server throughput (issue #4): requests per second on keep-alive connections for
//! (a) the token endpoint (`POST /common/oauth2/token`, client_credentials) and (b) the
//! provisioning endpoint (`POST /provisioningservice.svc`, GetCompanyConfiguration in msbin1 with
//! a valid BearerToken). The fixture runs in-process; N reqwest clients (one HTTP/1.1 keep-alive
//! connection each) hammer it for a fixed time.
//!
//! `cargo bench --bench fixture_bench -- [--connections N] [--seconds S]` (defaults 32, 5).
//! The proxy benchmark (benches/proxy_bench.py) forwards 10–22k req/s on the shared machine; the
//! fixture should serve at least 3× what the proxy forwards so it is never the bottleneck there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idscope::fixture::{self, CONFIDENTIAL_CLIENT, FixtureConfig, LOGIN_HOST, SYNC_HOST};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn client(h: &fixture::FixtureHandle) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(h.ca_pem().as_bytes())?)
        .resolve(LOGIN_HOST, h.addr())
        .resolve(SYNC_HOST, h.addr())
        .no_proxy()
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()?)
}

async fn load(
    h: &fixture::FixtureHandle,
    conns: u64,
    secs: u64,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> anyhow::Result<(f64, u64)> {
    let make = Arc::new(make);
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..conns {
        // One client per task: each keeps exactly one keep-alive connection.
        let c = client(h)?;
        let (make, done, failed, stop) = (make.clone(), done.clone(), failed.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ok = match make(&c).send().await {
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
    Ok((n as f64 / elapsed, failed.load(Ordering::Relaxed)))
}

fn main() -> anyhow::Result<()> {
    let conns = arg("--connections", 32);
    let secs = arg("--seconds", 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let h = fixture::start(FixtureConfig::default()).await?;
        let token_url = format!("https://{LOGIN_HOST}/common/oauth2/token");
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", CONFIDENTIAL_CLIENT.0)
            .append_pair("client_secret", CONFIDENTIAL_CLIENT.1)
            .finish();
        // A valid BearerToken for the provisioning call (audience AAD Graph).
        let tok: serde_json::Value = client(&h)?
            .post(&token_url)
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
        let msbin = bytes::Bytes::from(idscope_decoders::soap::nbfx::encode(
            &xml,
            idscope_decoders::soap::nbfx::Style::XmlDocument,
        )?);
        println!("fixture_bench: {conns} keep-alive connections, {secs} s per endpoint");
        let (rps, failed) = load(&h, conns, secs, move |c| {
            c.post(&token_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone())
        })
        .await?;
        println!("token endpoint (client_credentials):        {rps:>9.0} req/s  ({failed} failed)");
        let sync_url = format!("https://{SYNC_HOST}/provisioningservice.svc");
        let (rps2, failed2) = load(&h, conns, secs, move |c| {
            c.post(&sync_url)
                .header("content-type", "application/soap+msbin1")
                .body(msbin.clone())
        })
        .await?;
        println!(
            "provisioning (GetCompanyConfiguration msbin1): {rps2:>9.0} req/s  ({failed2} failed)"
        );
        h.shutdown().await;
        anyhow::Ok(())
    })
}
