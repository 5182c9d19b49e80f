//! `idscope proxy`: the interactive front end until the TUI lands. Starts the proxy, prints one
//! line per finished flow (`#N METHOD URL → STATUS size time [kind: summary]`, the summary from
//! the decoders) and optionally records to a HAR with `-w`. Also holds the event loop that
//! `idscope record` shares: signals, the recorder, loud failure on a write error.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use idscope_decoders::{Limits, Registry, Trust};

use crate::analysis::decode_flow;
use crate::capture::HarWriter;
use crate::cli::{ProxyArgs, ProxyOpts};
use crate::flow::{Flow, Outcome};
use crate::proxy::recorder::Recorder;
use crate::proxy::{self, ProxyConfig};

/// Runs `idscope proxy`.
pub fn run(args: &ProxyArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(serve(&args.opts, args.write.as_deref(), args.force, true))
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
    Ok(ProxyConfig {
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

/// The shared event loop of `proxy` and `record`: start, consume events until SIGINT/SIGTERM
/// (or a recording error), shut down, write in-flight flows as incomplete, close the file.
pub async fn serve(
    opts: &ProxyOpts,
    write: Option<&Path>,
    force: bool,
    print: bool,
) -> anyhow::Result<ExitCode> {
    let cfg = config(opts)?;
    if cfg.insecure {
        eprintln!(
            "idscope: WARNING: --insecure: origin certificates are NOT verified; anyone between \
             this proxy and the origins can read and change the traffic"
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
    let mut recorder = Recorder::new(writer);
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
    let mut events = handle
        .take_events()
        .context("the proxy's event stream was already taken")?;
    let registry = Registry::builtin();
    let trust = Trust::default();
    let apply = |ev, recorder: &mut Recorder<Option<HarWriter>>| -> anyhow::Result<()> {
        if let Some(flow) = recorder.apply(ev)?
            && print
        {
            print_line(&flow, registry, &trust);
        }
        Ok(())
    };
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let result: anyhow::Result<()> = loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break Ok(()) };
                // A file write (and the decode for the printed line) is short blocking work.
                if let Err(e) = tokio::task::block_in_place(|| apply(ev, &mut recorder)) {
                    break Err(e);
                }
            }
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = terminate.recv() => break Ok(()),
        }
    };
    handle.shutdown().await;
    // A broken recording stops here, loudly: the error names the file.
    result?;
    // Everything the proxy sent before it stopped, including the incomplete flows.
    while let Ok(ev) = events.try_recv() {
        apply(ev, &mut recorder)?;
    }
    let (written, writer) = recorder.close()?;
    if let (Some(w), Some(p)) = (writer, write) {
        w.finish()
            .with_context(|| format!("recording to {} stopped", p.display()))?;
        eprintln!("idscope: recorded {written} flows to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `#N METHOD URL → STATUS size time [kind: summary]`.
pub fn flow_line(flow: &Flow, registry: &Registry, trust: &Trust) -> String {
    let report = decode_flow(flow, registry, trust, Limits::default());
    let outcome = match &flow.outcome {
        Outcome::Response(r) => {
            let size = human_size(r.body.size);
            format!("{} {size}", r.status)
        }
        Outcome::Error(e) if e.incomplete => format!("(incomplete: {})", e.message),
        Outcome::Error(e) => format!("ERROR {}", e.message),
    };
    let time = flow
        .timings
        .total
        .map(|t| format!(" {t:.0}ms"))
        .unwrap_or_default();
    let kinds = report.kinds();
    let summary = report.summary();
    let decoded = if kinds.is_empty() && summary.is_empty() {
        String::new()
    } else {
        format!(" [{}: {summary}]", kinds.join("+"))
    };
    format!(
        "{} {} {} → {outcome}{time}{decoded}",
        flow.id, flow.request.method, flow.request.url
    )
}

fn print_line(flow: &Flow, registry: &Registry, trust: &Trust) {
    let line = flow_line(flow, registry, trust);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn human_size(n: u64) -> String {
    match n {
        0..1024 => format!("{n}B"),
        1024..1_048_576 => format!("{:.1}KiB", n as f64 / 1024.0),
        _ => format!("{:.1}MiB", n as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing;

    #[test]
    fn the_flow_line_has_status_size_and_the_decoded_summary() {
        let f = testing::flow(
            0,
            testing::request("POST", "https://login.example/tenant/oauth2/token"),
            testing::response(
                200,
                "application/json",
                br#"{"token_type":"Bearer","expires_in":3600,"access_token":"x"}"#,
            ),
        );
        let line = flow_line(&f, Registry::builtin(), &Trust::default());
        assert!(
            line.starts_with("#1 POST https://login.example/tenant/oauth2/token → 200 "),
            "{line}"
        );
        assert!(line.contains('['), "decoded part missing: {line}");
    }

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
