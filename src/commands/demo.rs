//! `idscope demo`: the whole product on an embedded default, in one process. Starts the reference
//! server, the intercepting proxy mapped to it (trusting the server's CA, with a throw-away
//! interception CA of its own), and the scripted client playing every scenario through the
//! proxy; records to `captures/demo-<timestamp>.har`; then shows the live flows in the TUI, or
//! with `--headless` (or without a terminal) prints each scenario step and the `analyze` report
//! of the recording.
//!
//! Nothing outside the process is touched: the interception CA lives in a private temporary
//! directory removed at the end, the reference server's key never leaves memory, and every
//! connection stays on loopback.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use tokio::sync::mpsc::unbounded_channel;

use crate::capture::HarWriter;
use crate::cli::{AnalyzeArgs, DecodeOpts, DemoArgs, FailOn};
use crate::fixture::{self, FixtureConfig};
use crate::flow::FlowEvent;
use crate::live::{self, Pipeline, Recorder};
use crate::proxy::{self, ProxyConfig};
use crate::scenario::{self, Scenario, ScenarioConfig, Target};
use crate::tui::{App, Config, FlowSource};

/// Runs `idscope demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let interactive =
        !args.headless && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !args.headless && !interactive {
        eprintln!("idscope: no terminal: running the demo headless (as with --headless)");
    }
    let recording = match &args.write {
        Some(p) => p.clone(),
        None => default_recording_path()?,
    };
    let scratch = Scratch::new()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = runtime.block_on(play(args, &recording, &scratch.0, interactive))?;
    drop(runtime);
    drop(scratch);

    eprintln!(
        "idscope: recorded {} flows to {}",
        outcome.flows,
        recording.display()
    );
    if !interactive {
        let report = AnalyzeArgs {
            file: recording.clone(),
            json: false,
            summary_only: false,
            filter: None,
            // The demo's exit code names a failed scenario step; the report only informs.
            fail_on: FailOn::Never,
            decode: DecodeOpts::default(),
            report: None,
        };
        super::analyze::run(&report)?;
    }
    match outcome.failed {
        None => Ok(ExitCode::SUCCESS),
        Some(e) => {
            eprintln!("idscope: the demo scenario failed: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// What one demo run produced.
#[derive(Debug)]
struct Outcome {
    /// Flows written to the recording.
    flows: u64,
    /// The first failed scenario step, if any.
    failed: Option<scenario::StepError>,
}

async fn play(
    args: &DemoArgs,
    recording: &Path,
    scratch: &Path,
    interactive: bool,
) -> anyhow::Result<Outcome> {
    // Always seeded, and the seed goes into the recording, so `idscope replay FILE --to fixture`
    // can start a reference server with the same keys, device CA and id stream.
    let seed = match args.seed {
        Some(s) => s,
        None => random_seed()?,
    };
    if let Some(path) = &args.transport_key_out {
        let pem =
            tokio::task::spawn_blocking(move || crate::scenario::prt_sso::transport_key_pem(seed))
                .await
                .context("deriving the device transport key")??;
        write_private(path, pem.as_bytes())
            .with_context(|| format!("writing the transport key to {}", path.display()))?;
    }
    let server = fixture::start(FixtureConfig {
        seed: Some(seed),
        ..FixtureConfig::default()
    })
    .await
    .context("starting the reference server")?;
    let server_ca = scratch.join("reference-server-ca.pem");
    std::fs::write(&server_ca, server.ca_pem())
        .with_context(|| format!("writing {}", server_ca.display()))?;
    let config = ProxyConfig {
        // An ephemeral port: the demo must not collide with a proxy the user already runs.
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ca_dir: Some(scratch.join("ca")),
        upstream_ca: vec![server_ca],
        map: server.proxy_map(),
        ..ProxyConfig::default()
    };
    let mut proxy = proxy::start(config).await.context("starting the proxy")?;
    let mut events = proxy
        .take_events()
        .context("the proxy's event stream was already taken")?;
    let writer =
        HarWriter::create_with_note(recording, &serde_json::json!({ "fixture_seed": seed }))
            .with_context(|| format!("creating the recording {}", recording.display()))?;
    let mut recorder = Recorder::new(Some(writer));

    let client = ScenarioConfig {
        target: Target::Proxy(format!("http://{}", proxy.addr())),
        ca_pems: vec![proxy.ca_pem().to_string()],
        print: !interactive,
        device_seed: Some(seed),
    };
    let mut scenarios = tokio::spawn(async move { scenario::run(Scenario::ALL, &client).await });

    let failed = if interactive {
        // The live pipeline records every event before the UI gets it. The UI runs until the
        // user quits, while the scenarios play.
        let (to_ui, from_proxy) = unbounded_channel::<FlowEvent>();
        let pump = tokio::spawn(live::feed(
            events,
            Pipeline::new(recorder).showing(to_ui),
            std::future::pending(),
        ));
        let app = App::new(Config::live(
            "demo",
            proxy.addr().to_string(),
            Some(recording.to_path_buf()),
        ));
        let log = crate::tui::default_log_path();
        let _guard = crate::tui::init_file_logging(&log)?;
        let ui = crate::tui::run(FlowSource::Live(from_proxy), app).await;
        let failed =
            match tokio::time::timeout(std::time::Duration::from_secs(1), &mut scenarios).await {
                Ok(Ok(Err(e))) => Some(e),
                Ok(Ok(Ok(_))) => None,
                Ok(Err(join)) => anyhow::bail!("the scenario client stopped: {join}"),
                Err(_) => {
                    scenarios.abort();
                    None
                }
            };
        proxy.shutdown().await;
        recorder = pump.await.context("the recording task stopped")??;
        ui?;
        failed
    } else {
        let failed = loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(ev) => { tokio::task::block_in_place(|| recorder.apply(ev))?; }
                    None => break None,
                },
                done = &mut scenarios => match done {
                    Ok(Ok(_)) => break None,
                    Ok(Err(e)) => break Some(e),
                    Err(join) => anyhow::bail!("the scenario client stopped: {join}"),
                },
            }
        };
        proxy.shutdown().await;
        while let Ok(ev) = events.try_recv() {
            recorder.apply(ev)?;
        }
        failed
    };
    server.shutdown().await;
    let (flows, writer) = recorder.close()?;
    if let Some(w) = writer {
        w.finish()
            .with_context(|| format!("closing the recording {}", recording.display()))?;
    }
    Ok(Outcome { flows, failed })
}

/// `captures/demo-<UTC timestamp>.har` in the current directory (created if needed).
fn default_recording_path() -> anyhow::Result<PathBuf> {
    let dir = PathBuf::from("captures");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    Ok(dir.join(format!("demo-{stamp}.har")))
}

/// A private temporary directory (mode 0700) for the throw-away interception CA and the
/// reference server's certificate, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("idscope-demo-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A seed for the demo's reference server from the system RNG.
fn random_seed() -> anyhow::Result<u64> {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| anyhow::anyhow!("the system RNG failed"))?;
    Ok(u64::from_le_bytes(b))
}

/// Writes a private key file readable by its owner only.
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}
