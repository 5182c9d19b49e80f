//! `idscope proxy`: the interactive front end. Starts the proxy and, on a terminal, shows the
//! live flows in the TUI (`src/tui`, the same wiring as `idscope demo`: the recorder sees every
//! event first, the UI gets a copy). With `--no-tui`, or when stdin/stdout is not a terminal, it
//! prints one line per finished flow instead (`#N METHOD URL → STATUS size time [kind:
//! summary]`, the summary from the decoders). Optionally records to a HAR with `-w`. Also holds
//! the event loop that `idscope record` shares: signals, the recorder, loud failure on a write
//! error.
//!
//! The line printer is on the capture hot path (`benches/proxy_bench.py` measures it): the
//! decode behind each line runs only the decoders the line needs
//! ([`Registry::decode_for_summary`]), events that are already queued are handled in one go,
//! and stdout is written once per such batch rather than once per line.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use idscope_decoders::{Context, Limits, Registry, Trust};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::analysis::FlowReport;
use crate::capture::HarWriter;
use crate::cli::{ProxyArgs, ProxyOpts};
use crate::flow::{DEFAULT_DECODED_CAP, Flow, FlowEvent, Outcome};
use crate::proxy::recorder::Recorder;
use crate::proxy::{self, ProxyConfig, ProxyHandle};

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

/// Events handled (and lines printed) per batch before the recording is written, stdout is
/// flushed and the signals are looked at again.
const BATCH: usize = 256;

/// How long the headless loop waits after a batch that emptied the queue before it takes the
/// next one. The first flow after a quiet spell is written at once; under load, the flows that
/// finish within this time are written together. Waking the loop once per event instead cost
/// more CPU than the recording itself (a thread switch per event on a loaded core,
/// `benches/proxy_bench.py`). A flow waits at most this long (plus the batch) before its write,
/// far inside the half second the kill -9 reliability test allows.
const COALESCE: Duration = Duration::from_millis(1);

/// Runs `idscope proxy`.
pub fn run(args: &ProxyArgs) -> anyhow::Result<ExitCode> {
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
    output: Output,
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
    let recorder = match output {
        Output::Tui => run_tui(handle, events, recorder, write).await?,
        Output::Lines | Output::Quiet => {
            run_headless(handle, events, recorder, output == Output::Lines).await?
        }
    };
    let (written, writer) = recorder.close()?;
    if let (Some(w), Some(p)) = (writer, write) {
        w.finish()
            .with_context(|| format!("recording to {} stopped", p.display()))?;
        eprintln!("idscope: recorded {written} flows to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The recorder of `proxy`, `record` and `demo`: a HAR file, or none.
pub(crate) type FileRecorder = Recorder<Option<HarWriter>>;

/// The headless loop (`record`, and `proxy` without the TUI): consume events until
/// SIGINT/SIGTERM or a recording error, shut the proxy down, and apply everything it sent up to
/// then (in-flight flows arrive as incomplete errors). Returns the recorder to be closed.
///
/// The consumer runs on this (the `block_on`) thread, not as a task on the proxy's workers:
/// measured with `benches/proxy_bench.py`, a consumer task costs a little less CPU per flow
/// (no thread wake-up per event) but lowers req/s by a quarter to a half, because a batch of
/// decodes and writes then delays the forwarding on that worker; as a thread of its own, the
/// OS runs it in the gaps.
async fn run_headless(
    handle: ProxyHandle,
    mut events: UnboundedReceiver<FlowEvent>,
    mut recorder: FileRecorder,
    print: bool,
) -> anyhow::Result<FileRecorder> {
    let mut printer = print.then(Printer::new);
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let result: anyhow::Result<()> = loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break Ok(()) };
                // A file write (and the decode for the printed line) is short blocking work; the
                // events already queued behind this one (at most BATCH in all) are handled in the
                // same go, each taken from the channel as it is applied.
                let mut n = 0;
                let r = tokio::task::block_in_place(|| {
                    let mut next = Some(ev);
                    while let Some(ev) = next {
                        apply(ev, &mut recorder, printer.as_mut())?;
                        n += 1;
                        next = if n < BATCH { events.try_recv().ok() } else { None };
                    }
                    // The batch's flows reach the file with one write, before their lines.
                    recorder.commit()?;
                    if let Some(p) = printer.as_mut() {
                        p.flush();
                    }
                    Ok::<_, anyhow::Error>(())
                });
                if let Err(e) = r {
                    break Err(e);
                }
                if n < BATCH {
                    // A busy proxy: let more flows finish before the next batch (see COALESCE).
                    tokio::time::sleep(COALESCE).await;
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
        apply(ev, &mut recorder, printer.as_mut())?;
    }
    recorder.commit()?;
    if let Some(p) = printer.as_mut() {
        p.flush();
    }
    Ok(recorder)
}

fn apply(
    ev: FlowEvent,
    recorder: &mut FileRecorder,
    printer: Option<&mut Printer>,
) -> anyhow::Result<()> {
    if let Some(flow) = recorder.apply_staged(ev)?
        && let Some(p) = printer
    {
        p.line(&flow);
    }
    Ok(())
}

/// The interactive loop: the TUI shows the live flows until the user quits (or SIGTERM); a
/// task feeds it, applying every event to the recorder first. Then the proxy shuts down and
/// what it sent up to then (in-flight flows as incomplete errors) reaches the recorder.
async fn run_tui(
    handle: ProxyHandle,
    events: UnboundedReceiver<FlowEvent>,
    recorder: FileRecorder,
    write: Option<&Path>,
) -> anyhow::Result<FileRecorder> {
    use crate::tui::{App, Config, FlowSource};

    let (to_ui, from_proxy) = unbounded_channel::<FlowEvent>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let pump = tokio::spawn(record_then_show(events, recorder, to_ui, async move {
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

/// `first` and the events queued behind it, at most [`BATCH`]: what one group commit writes.
fn queued_batch(first: FlowEvent, events: &mut UnboundedReceiver<FlowEvent>) -> Vec<FlowEvent> {
    let mut batch = vec![first];
    while batch.len() < BATCH {
        let Ok(ev) = events.try_recv() else { break };
        batch.push(ev);
    }
    batch
}

/// The live UI's feed (`idscope proxy` on a terminal, `idscope demo`): every event goes to the
/// recorder first, then a copy to the UI, until the proxy's channel closes or `stop` resolves;
/// then what is still queued is recorded. Group commit as in the headless loop: the events
/// already queued are applied together and written with one write, before the UI sees them.
pub(crate) async fn record_then_show(
    mut events: UnboundedReceiver<FlowEvent>,
    mut recorder: FileRecorder,
    to_ui: tokio::sync::mpsc::UnboundedSender<FlowEvent>,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<FileRecorder> {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                let batch = queued_batch(ev, &mut events);
                tokio::task::block_in_place(|| {
                    for ev in &batch {
                        recorder.apply_staged(ev.clone())?;
                    }
                    recorder.commit()
                })?;
                for ev in batch {
                    // The UI may be gone already (it quit first): the recording goes on.
                    let _ = to_ui.send(ev);
                }
            }
            () = &mut stop => break,
        }
    }
    // The proxy has stopped (or the feed was told to): every event it will send is queued.
    while let Ok(ev) = events.try_recv() {
        recorder.apply_staged(ev)?;
    }
    recorder.commit()?;
    Ok(recorder)
}

/// Writes the flow lines to stdout through a buffer, flushed once per batch of events.
struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    registry: &'static Registry,
    trust: Trust,
}

impl Printer {
    fn new() -> Self {
        Printer {
            out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout()),
            registry: Registry::builtin(),
            trust: Trust::default(),
        }
    }

    fn line(&mut self, flow: &Flow) {
        let line = flow_line(flow, self.registry, &self.trust);
        // stdout going away (a closed pipe) must not stop the proxy or the recording.
        let _ = writeln!(self.out, "{line}");
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer").finish_non_exhaustive()
    }
}

/// What the flow line needs from the decoders: the same [`FlowReport::kinds`] and
/// [`FlowReport::summary`] as [`crate::analysis::decode_flow`] gives, for much less work (see
/// [`Registry::decode_for_summary`]); flow-level findings and failed generic fallbacks are left
/// out.
pub fn line_report(flow: &Flow, registry: &Registry, trust: &Trust) -> FlowReport {
    let limits = Limits::default();
    let cx = Context::new(flow.started_at, trust)
        .with_limits(limits)
        .for_summary();
    let cap = limits.max_inflate.min(DEFAULT_DECODED_CAP);
    let req_body = flow.request.body.decoded_lossy(cap);
    let request = registry.decode_for_summary(&flow.request_message(&req_body), &cx);
    let response = match flow.response() {
        Some(r) => {
            let body = r.body.decoded_lossy(cap);
            match flow.response_message(&body) {
                Some(msg) => registry.decode_for_summary(&msg, &cx),
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    FlowReport {
        id: flow.id,
        request,
        response,
        flow_findings: Vec::new(),
    }
}

/// `#N METHOD URL → STATUS size time [kind: summary]`, built in one string (it is made for
/// every flow the proxy prints).
pub fn flow_line(flow: &Flow, registry: &Registry, trust: &Trust) -> String {
    use std::fmt::Write as _;
    let report = line_report(flow, registry, trust);
    let mut line = String::with_capacity(160 + flow.request.url.len());
    // Writing into a String cannot fail.
    let _ = write!(
        line,
        "{} {} {} → ",
        flow.id, flow.request.method, flow.request.url
    );
    match &flow.outcome {
        Outcome::Response(r) => {
            let _ = write!(line, "{} ", r.status);
            human_size(&mut line, r.body.size);
        }
        Outcome::Error(e) if e.incomplete => {
            let _ = write!(line, "(incomplete: {})", e.message);
        }
        Outcome::Error(e) => {
            let _ = write!(line, "ERROR {}", e.message);
        }
    }
    // Whole milliseconds, rounded as `{:.0}` rounds, without the float formatter (a dozen
    // times slower, on every line).
    if let Some(t) = flow
        .timings
        .total
        .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e15)
    {
        let _ = write!(line, " {}ms", t.round_ties_even() as u64);
    }
    let kinds = report.kinds();
    let summary = report.summary();
    if !(kinds.is_empty() && summary.is_empty()) {
        line.push_str(" [");
        for (i, k) in kinds.iter().enumerate() {
            if i > 0 {
                line.push('+');
            }
            line.push_str(k);
        }
        line.push_str(": ");
        line.push_str(&summary);
        line.push(']');
    }
    line
}

/// `512B`, `1.0KiB`, `2.5MiB`: one decimal, rounded half up, in integer arithmetic, appended.
fn human_size(out: &mut String, n: u64) {
    use std::fmt::Write as _;
    let tenths = |unit: u64| (u128::from(n) * 10 + u128::from(unit / 2)) / u128::from(unit);
    let (t, unit) = match n {
        0..1024 => {
            let _ = write!(out, "{n}B");
            return;
        }
        1024..1_048_576 => (tenths(1024), "KiB"),
        _ => (tenths(1_048_576), "MiB"),
    };
    let _ = write!(out, "{}.{}{unit}", t / 10, t % 10);
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
    fn the_line_report_agrees_with_the_full_decode() {
        use crate::analysis::decode_flow;
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2xvZ2luLmV4YW1wbGUvIiwic3ViIjoiYWxpY2UiLCJleHAiOjE3MDAwMDAwMDB9.c2ln";
        let mut with_bearer = testing::request("GET", "https://graph.example/v1.0/me");
        with_bearer
            .headers
            .push(("Authorization".into(), format!("Bearer {jwt}")));
        let mut form = testing::request("POST", "https://login.example/t/oauth2/v2.0/token");
        form.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        form.body = crate::flow::Body::plain(
            &b"grant_type=authorization_code&code=abc&client_id=x&redirect_uri=http%3A%2F%2Flocalhost"[..],
        );
        let mut plain_form = testing::request("POST", "https://app.example/submit");
        plain_form.body = crate::flow::Body::plain(&b"a=1&b=two"[..]);
        let flows = [
            testing::flow(
                0,
                form,
                testing::response(
                    200,
                    "application/json",
                    br#"{"token_type":"Bearer","expires_in":3600,"access_token":"x"}"#,
                ),
            ),
            testing::flow(
                1,
                with_bearer,
                testing::response(200, "application/json", br#"{"displayName":"A"}"#),
            ),
            testing::flow(
                2,
                plain_form,
                testing::response(200, "text/html", b"<html><body>hi</body></html>"),
            ),
            testing::flow(
                3,
                testing::request("GET", "https://app.example/blob"),
                testing::response(200, "text/plain", b"aGVsbG8gd29ybGQsIGhlbGxvIHdvcmxk"),
            ),
            testing::flow(
                4,
                testing::request("GET", "https://app.example/"),
                testing::response(204, "", b""),
            ),
        ];
        let (registry, trust) = (Registry::builtin(), Trust::default());
        for f in &flows {
            let full = decode_flow(f, registry, &trust, Limits::default());
            let line = line_report(f, registry, &trust);
            assert_eq!(line.kinds(), full.kinds(), "{}", f.request.url);
            assert_eq!(line.summary(), full.summary(), "{}", f.request.url);
        }
    }

    /// The line's summary-only decode ([`Context::summary_only`]) against the full decode, on
    /// every flow of the sample captures and the peer corpus (token responses, SAML, SOAP,
    /// SCIM, PRT, errors).
    #[test]
    fn the_summary_only_decode_agrees_with_the_full_decode_on_every_sample_flow() {
        use crate::analysis::decode_flow;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = ["captures", "../shared/corpus/har-peers"]
            .iter()
            .filter_map(|d| std::fs::read_dir(root.join(d)).ok())
            .flat_map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())))
            .filter(|p| p.extension().is_some_and(|e| e == "har" || e == "saz"))
            .collect();
        files.sort();
        let (registry, trust) = (Registry::builtin(), Trust::default());
        let mut n = 0;
        for file in &files {
            let Ok(reader) = crate::capture::open(file) else {
                continue;
            };
            for f in reader.flatten() {
                let full = decode_flow(&f, registry, &trust, Limits::default());
                let line = line_report(&f, registry, &trust);
                let at = format!("{} #{}", file.display(), f.id);
                assert_eq!(line.kinds(), full.kinds(), "{at}");
                assert_eq!(line.summary(), full.summary(), "{at}");
                // The printed line, against one formatted the plain way from the full decode;
                // also as an error and as an incomplete flow, and without a time.
                let mut variants = vec![f.clone()];
                for incomplete in [false, true] {
                    let mut e = f.clone();
                    e.outcome = Outcome::Error(crate::flow::FlowError {
                        message: "upstream: connection refused".into(),
                        incomplete,
                    });
                    e.timings.total = None;
                    variants.push(e);
                }
                for v in &variants {
                    let want =
                        reference_line(v, &decode_flow(v, registry, &trust, Limits::default()));
                    assert_eq!(flow_line(v, registry, &trust), want, "{at}");
                }
                n += 1;
            }
        }
        assert!(n > 50, "only {n} flows compared");
    }

    /// The line as `flow_line` formatted it before it wrote into one string: the test oracle.
    fn reference_line(flow: &Flow, report: &FlowReport) -> String {
        let outcome = match &flow.outcome {
            Outcome::Response(r) => format!("{} {}", r.status, size(r.body.size)),
            Outcome::Error(e) if e.incomplete => format!("(incomplete: {})", e.message),
            Outcome::Error(e) => format!("ERROR {}", e.message),
        };
        let time = flow
            .timings
            .total
            .filter(|t| t.is_finite() && *t >= 0.0 && *t < 1e15)
            .map(|t| format!(" {t:.0}ms"))
            .unwrap_or_default();
        let (kinds, summary) = (report.kinds(), report.summary());
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

    fn size(n: u64) -> String {
        let mut s = String::new();
        human_size(&mut s, n);
        s
    }

    #[test]
    fn sizes_have_one_decimal() {
        assert_eq!(size(0), "0B");
        assert_eq!(size(1023), "1023B");
        assert_eq!(size(1024), "1.0KiB");
        assert_eq!(size(1536), "1.5KiB");
        assert_eq!(size(1_048_575), "1024.0KiB");
        assert_eq!(size(1_048_576), "1.0MiB");
        assert_eq!(size(5 * 1_048_576 + 104_858), "5.1MiB");
        assert_eq!(size(u64::MAX), "17592186044416.0MiB");
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
