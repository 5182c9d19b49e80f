//! `idscope proxy`: the interactive front end. Starts the proxy and, on a terminal, shows the
//! live flows in the TUI (`src/tui`, the same wiring as `idscope demo`). With `--no-tui`, or when
//! stdin/stdout is not a terminal, it prints one line per finished flow instead (`#N METHOD URL
//! → STATUS size time [kind: summary]`, [`crate::live::printer`]). Optionally records to a HAR
//! with `-w`. [`serve`] is the wiring that `idscope record` shares: the proxy, the recording file,
//! and the live pipeline ([`crate::live`]) that consumes the events.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::capture::HarWriter;
use crate::cli::{ProxyArgs, ProxyOpts};
use crate::flow::FlowEvent;
use crate::live::{self, FileRecorder, Pipeline, Recorder};
use crate::proxy::{self, ProxyConfig, ProxyHandle};

pub use crate::live::printer::{flow_line, line_report};

/// What the shared event loop shows per finished flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Nothing (`idscope record`: the file is the product).
    Quiet,
    /// One line per flow on stdout (`idscope proxy --no-tui`, or no terminal).
    Lines,
    /// The live TUI (`idscope proxy` on a terminal).
    Tui,
}

/// Runs `idscope proxy`.
pub fn run(args: &ProxyArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.noise_hosts {
        crate::filter::noise::use_file(path).context("--noise-hosts")?;
    }
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let output = if args.no_tui || !terminal {
        Output::Lines
    } else {
        Output::Tui
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(serve(&args.opts, args.write.as_deref(), args.force, output))
}

/// Builds the library configuration from the command line.
pub fn config(opts: &ProxyOpts) -> anyhow::Result<ProxyConfig> {
    let proxy_auth = match &opts.proxy_auth {
        None => None,
        Some(s) => {
            let (u, p) = s
                .split_once(':')
                .context("--proxy-auth expects USER:PASS")?;
            anyhow::ensure!(
                !u.is_empty() && !p.is_empty(),
                "--proxy-auth expects USER:PASS"
            );
            Some((u.to_string(), p.to_string()))
        }
    };
    let mut map = Vec::new();
    for m in &opts.map {
        let (host, target) = m
            .split_once('=')
            .with_context(|| format!("--map {m}: expected HOST=ADDR:PORT"))?;
        anyhow::ensure!(
            !host.is_empty()
                && target
                    .rsplit_once(':')
                    .is_some_and(|(a, p)| { !a.is_empty() && p.parse::<u16>().is_ok() }),
            "--map {m}: expected HOST=ADDR:PORT"
        );
        map.push((host.to_ascii_lowercase(), target.to_string()));
    }
    let client_certs = client_certs(opts)?;
    Ok(ProxyConfig {
        client_certs,
        request_client_cert: opts.request_client_cert,
        listen: opts.listen,
        proxy_auth,
        ca_dir: opts.ca_dir.clone(),
        upstream_ca: opts.upstream_ca.clone(),
        insecure: opts.insecure,
        map,
        ignore_hosts: opts.ignore_host.clone(),
        max_body: opts.max_body,
        passthrough: opts.passthrough,
        http2: !opts.no_http2,
        idle_timeout: Duration::from_secs(opts.idle_timeout.max(1)),
        ..ProxyConfig::default()
    })
}

/// Loads every `--client-cert HOST=CERT[,KEY]`; the PFX password comes from
/// `--client-cert-password-file` (its first line) or `IDSCOPE_CLIENT_CERT_PASSWORD`.
fn client_certs(opts: &ProxyOpts) -> anyhow::Result<Vec<(String, proxy::client_cert::Identity)>> {
    use proxy::client_cert::{Identity, Spec};
    if opts.client_cert.is_empty() {
        return Ok(Vec::new());
    }
    let password = match &opts.client_cert_password_file {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| {
                format!("cannot read --client-cert-password-file {}", p.display())
            })?;
            Some(text.lines().next().unwrap_or_default().to_string())
        }
        None => std::env::var("IDSCOPE_CLIENT_CERT_PASSWORD").ok(),
    };
    let mut out: Vec<(String, Identity)> = Vec::new();
    for s in &opts.client_cert {
        let spec = Spec::parse(s)?;
        anyhow::ensure!(
            !out.iter().any(|(h, _)| *h == spec.host),
            "--client-cert {}: given twice for the same host",
            spec.host
        );
        let id = Identity::load(&spec, password.as_deref())?;
        out.push((spec.host, id));
    }
    Ok(out)
}

/// The shared event loop of `proxy` and `record`: start, consume events until SIGINT/SIGTERM
/// (or a recording error), shut down, write in-flight flows as incomplete, close the file.
pub async fn serve(
    opts: &ProxyOpts,
    write: Option<&Path>,
    force: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let cfg = config(opts)?;
    if output != Output::Tui {
        log_to_stderr();
    }
    if cfg.insecure {
        eprintln!(
            "idscope: WARNING: --insecure: origin certificates are NOT verified; anyone between \
             this proxy and the origins can read and change the traffic"
        );
    }
    for (host, id) in &cfg.client_certs {
        eprintln!(
            "idscope: client certificate for {host}: {} (SHA-1 {})",
            id.subject, id.sha1
        );
    }
    if cfg.passthrough && write.is_some() {
        anyhow::bail!("--passthrough captures nothing, so it cannot record (-w)");
    }
    let writer = match write {
        Some(p) => Some(
            if force {
                HarWriter::create_or_overwrite(p)
            } else {
                HarWriter::create(p)
            }
            .with_context(|| format!("creating the recording {}", p.display()))?,
        ),
        None => None,
    };
    let recorder = Recorder::new(writer);
    let mut handle = proxy::start(cfg).await?;
    let cert = handle.ca_dir().join(proxy::ca::CERT_FILE);
    if handle.ca_created() {
        eprintln!(
            "idscope: created a new CA in {} (make clients trust {}: idscope ca trust-help)",
            handle.ca_dir().display(),
            cert.display()
        );
    }
    eprintln!(
        "idscope: listening on {} (CA certificate {})",
        handle.addr(),
        cert.display()
    );
    if let Some(p) = write {
        eprintln!("idscope: recording to {}", p.display());
    }
    let events = handle
        .take_events()
        .context("the proxy's event stream was already taken")?;
    let pipeline = Pipeline::new(recorder);
    let recorder = match output {
        Output::Tui => run_tui(handle, events, pipeline, write).await?,
        Output::Lines => live::run_headless(handle, events, pipeline.printing()).await?,
        Output::Quiet => live::run_headless(handle, events, pipeline).await?,
    };
    let (written, writer) = recorder.close()?;
    if let (Some(w), Some(p)) = (writer, write) {
        w.finish()
            .with_context(|| format!("recording to {} stopped", p.display()))?;
        eprintln!("idscope: recorded {written} flows to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Headless, the proxy's warnings (a client refusing idscope's certificate, a leaf that cannot
/// be minted) go to stderr, as `mitmdump` prints them; `IDSCOPE_LOG` sets the level (default
/// `warn`). The TUI logs to its file instead.
fn log_to_stderr() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A subscriber may already be set (tests, an embedding program); logging then goes there.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// The interactive loop: the TUI shows the live flows until the user quits (or SIGTERM); a
/// task runs the live pipeline, which records every event before the UI gets it. Then the proxy
/// shuts down and what it sent up to then (in-flight flows as incomplete errors) reaches the
/// recorder.
async fn run_tui(
    handle: ProxyHandle,
    events: UnboundedReceiver<FlowEvent>,
    pipeline: Pipeline,
    write: Option<&Path>,
) -> anyhow::Result<FileRecorder> {
    use crate::tui::{App, Config, FlowSource};

    let (to_ui, from_proxy) = unbounded_channel::<FlowEvent>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let pump = tokio::spawn(live::feed(events, pipeline.showing(to_ui), async move {
        let _ = stopped.await;
    }));
    let app = App::new(Config::live(
        "proxy",
        handle.addr().to_string(),
        write.map(Path::to_path_buf),
    ));
    let log = crate::tui::default_log_path();
    let _guard = crate::tui::init_file_logging(&log)?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let ui = tokio::select! {
        r = crate::tui::run(FlowSource::Live(from_proxy), app) => r,
        _ = terminate.recv() => {
            // The UI was dropped mid-loop: give the terminal back before anything is printed.
            ratatui::restore();
            Ok(())
        }
    };
    handle.shutdown().await;
    let _ = stop.send(());
    let recorder = pump.await.context("the recording task stopped")??;
    ui?;
    Ok(recorder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_and_auth_arguments_are_validated() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "idscope",
            "proxy",
            "--map",
            "login.example=127.0.0.1:9443",
            "--proxy-auth",
            "u:p",
            "--max-body",
            "1KiB",
        ])
        .unwrap();
        let crate::cli::Command::Proxy(a) = cli.command else {
            panic!()
        };
        let c = config(&a.opts).unwrap();
        assert_eq!(c.map, [("login.example".into(), "127.0.0.1:9443".into())]);
        assert_eq!(c.proxy_auth, Some(("u".into(), "p".into())));
        assert_eq!(c.max_body, 1024);
        let mut bad = a.opts.clone();
        bad.map = vec!["nohost".into()];
        assert!(config(&bad).is_err());
        bad.map = vec![];
        bad.proxy_auth = Some("nocolon".into());
        assert!(config(&bad).is_err());
    }
}
