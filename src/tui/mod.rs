//! The terminal UI, one front end for `idscope proxy` (live flows), `idscope view FILE` and
//! `idscope demo`. This file is the event loop and the terminal's lifecycle: [`run`] sets the
//! terminal up (`ratatui::try_init`, which also restores it on panic), merges terminal input, the
//! flow source, side-effect results and a clock tick in one `select!`, feeds them to
//! [`App::update`] and executes the [`Control`] it returns (replay, export, copy). The terminal is
//! restored on quit, on Ctrl-C (a key in raw mode, or SIGINT) and on panic. Logs go to a file
//! ([`init_file_logging`]), never to the screen.
//!
//! State and key handling live in [`app`] (the model), the text it shows in [`text`], drawing in
//! [`ui`] (the view, which reads the model; the model never imports it), the key table in
//! [`keymap`].
//! A capture file is read on a background thread ([`spawn_loader`]) whose worker pool decodes
//! each flow once for its digest and sends batches in capture order, so the first screen shows
//! while the rest loads and the UI thread never decodes in bulk. Work over every flow that the
//! UI thread does itself (applying a filter or an order, building the stories) runs in slices:
//! while [`App::busy`], the loop sends [`Event::Work`] whenever no key, flow or batch is ready,
//! and draws after each slice.

pub mod app;
pub mod command;
pub mod export;
pub mod keymap;
pub mod sequence_actions;
pub mod text;
pub mod ui;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use base64::Engine as _;
use futures::StreamExt as _;
use idscope_decoders::{Limits, Registry, Trust};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tracing::{debug, error, info};

pub use app::{App, Config, Control, Event};

use crate::analysis::digest::Digest;
use crate::analysis::{decode_flow, learn_trust};
use crate::flow::{Flow, FlowEvent};

/// Where the flows shown by the UI come from.
#[derive(Debug)]
pub enum FlowSource {
    /// A capture file (HAR, idscope recording, SAZ), loaded on a background thread.
    File(PathBuf),
    /// Live events from the proxy.
    Live(UnboundedReceiver<FlowEvent>),
}

/// The first batch is small so the first screen appears at once; later ones are larger.
const FIRST_BATCH: usize = 64;
/// Flows per later batch.
const BATCH: usize = 2_000;
/// A batch is sent at least this often while flows are read.
const BATCH_INTERVAL: Duration = Duration::from_millis(100);

/// Flows between the capture reader and the batches sent to the UI: enough to keep every worker
/// busy, little enough that stopping early wastes nothing worth mentioning.
const LOAD_WINDOW: usize = 512;

/// Reads `path` on a new thread and decodes every flow for its [`Digest`] on a pool of worker
/// threads ([`crate::analysis::pipeline`], one per core), sending [`Event::Loaded`] batches in
/// capture order, then [`Event::LoadDone`]. The UI thread only files what arrives: it never
/// decodes a batch. Stops early when the receiver is gone.
///
/// Each flow is decoded against the keys the capture published up to and including that flow
/// ([`learn_trust`], on the reader thread, which hands the workers a snapshot whenever it grows).
pub fn spawn_loader(path: PathBuf, tx: UnboundedSender<Event>) -> std::thread::JoinHandle<()> {
    spawn_loader_with(path, tx, crate::analysis::pipeline::default_workers())
}

/// [`spawn_loader`] with a given number of decoding threads.
pub fn spawn_loader_with(
    path: PathBuf,
    tx: UnboundedSender<Event>,
    workers: usize,
) -> std::thread::JoinHandle<()> {
    spawn_loader_trusting(path, tx, workers, Trust::default())
}

/// [`spawn_loader_with`], starting from the user's trust anchors and decryption keys (`idscope
/// view --trust-cert … --key …`); what the capture publishes is learned on top of them.
pub fn spawn_loader_trusting(
    path: PathBuf,
    tx: UnboundedSender<Event>,
    workers: usize,
    trust: Trust,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = match crate::capture::open(&path) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Event::LoadDone(Err(e.to_string())));
                return;
            }
        };
        let mut batch: Vec<(Flow, Digest)> = Vec::with_capacity(FIRST_BATCH);
        let mut limit = FIRST_BATCH;
        let mut last = Instant::now();
        let mut total = 0u64;
        let read = crate::analysis::pipeline::run(
            workers,
            LOAD_WINDOW,
            |jobs: &mut crate::analysis::pipeline::Feed<(Flow, Arc<Trust>)>| {
                read_flows(&mut reader, jobs, trust.clone())
            },
            |(flow, trust): (Flow, Arc<Trust>)| {
                let report = decode_flow(&flow, Registry::builtin(), &trust, Limits::default());
                let digest = Digest::of(&flow, &report);
                (flow, digest)
            },
            |item: (Flow, Digest)| -> Result<(), ()> {
                batch.push(item);
                total += 1;
                if batch.len() >= limit || last.elapsed() >= BATCH_INTERVAL {
                    tx.send(Event::Loaded(std::mem::take(&mut batch)))
                        .map_err(|_| ())?;
                    limit = BATCH;
                    last = Instant::now();
                }
                Ok(())
            },
        );
        let Ok((bad, first_error)) = read else {
            debug!("the UI is gone; loader stops");
            return;
        };
        if !batch.is_empty() && tx.send(Event::Loaded(batch)).is_err() {
            return;
        }
        info!(flows = total, unreadable = bad, path = %path.display(), "capture loaded");
        let note = match (bad, first_error, reader.repaired()) {
            (0, _, None) => None,
            (0, _, Some(r)) => Some(format!("{}: {r}", path.display())),
            (n, Some(first), _) => Some(format!("{n} unreadable entries skipped; first: {first}")),
            (n, None, _) => Some(format!("{n} unreadable entries skipped")),
        };
        let _ = tx.send(Event::LoadDone(Ok(note)));
    })
}

/// The loader's reader thread: reads every flow, learns the keys the capture publishes and sends
/// each flow with the trust it is to be decoded against. Returns how many entries could not be
/// read and the first reason.
fn read_flows(
    reader: &mut crate::capture::CaptureReader,
    jobs: &mut crate::analysis::pipeline::Feed<(Flow, Arc<Trust>)>,
    mut trust: Trust,
) -> (usize, Option<String>) {
    let mut shared = Arc::new(trust.clone());
    let mut bad = 0usize;
    let mut first_error: Option<String> = None;
    for item in reader.by_ref() {
        match item {
            Ok(flow) => {
                if learn_trust(&flow, &mut trust) > 0 {
                    shared = Arc::new(trust.clone());
                }
                if !jobs.send((flow, Arc::clone(&shared))) {
                    break;
                }
            }
            Err(e) => {
                bad += 1;
                first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    (bad, first_error)
}

/// Sets up logging to `path` (appending; created with its directory), filtered by `IDSCOPE_LOG`
/// (default `info`). Keep the guard alive for as long as the UI runs; dropping it flushes.
pub fn init_file_logging(
    path: &Path,
) -> anyhow::Result<tracing_appender::non_blocking::WorkerGuard> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("IDSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A subscriber may already be set (tests, an embedding program); logging then goes there.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}

/// The default log file: `idscope-tui.log` in the per-user state directory (XDG), or the
/// current directory when there is none.
pub fn default_log_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "idscope")
        .map(|d| {
            d.state_dir()
                .unwrap_or_else(|| d.data_local_dir())
                .join("idscope-tui.log")
        })
        .unwrap_or_else(|| PathBuf::from("idscope-tui.log"))
}

/// The OSC 52 escape sequence that asks the terminal to put `text` on the clipboard. It works
/// over SSH and needs no display server, which is why it is used instead of a clipboard crate.
pub fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

fn install_panic_logger() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        error!(panic = %info, "the TUI panicked");
        previous(info);
    }));
}

/// Runs the UI until the user quits: `source` feeds flows, `app` is the starting state. The
/// terminal is restored whatever happens.
pub async fn run(source: FlowSource, mut app: App) -> anyhow::Result<()> {
    let (tx, rx) = unbounded_channel::<Event>();
    let live = match source {
        FlowSource::File(path) => {
            spawn_loader_trusting(
                path,
                tx.clone(),
                crate::analysis::pipeline::default_workers(),
                app.trust().clone(),
            );
            None
        }
        FlowSource::Live(rx) => Some(rx),
    };
    // Our logger first, so ratatui's hook (installed by try_init) restores the terminal and
    // then calls it.
    install_panic_logger();
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    info!("TUI started");
    let input = crossterm::event::EventStream::new();
    let result = event_loop(&mut terminal, &mut app, live, rx, tx, input).await;
    ratatui::restore();
    if let Err(e) = &result {
        error!(error = %format!("{e:#}"), "TUI stopped with an error");
    }
    result
}

/// The loop itself, generic over the backend and the terminal input so tests can drive it with
/// a `TestBackend` and a scripted key stream. `live` is the proxy's channel, `internal` carries
/// loader batches and replay results (sent through `tx`). Returns when the user quits, the
/// input ends, or SIGINT arrives.
pub async fn event_loop<B, S>(
    terminal: &mut ratatui::Terminal<B>,
    app: &mut App,
    mut live: Option<UnboundedReceiver<FlowEvent>>,
    mut internal: UnboundedReceiver<Event>,
    tx: UnboundedSender<Event>,
    mut term_events: S,
) -> anyhow::Result<()>
where
    B: ratatui::backend::Backend,
    B::Error: Send + Sync + 'static,
    S: futures::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
{
    let size = terminal.size()?;
    app.update(Event::Resize(size.width, size.height));
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let replayer = crate::replay::client(&[]).ok();
    loop {
        terminal.draw(|f| ui::render(f, app))?;
        let busy = app.busy();
        let event = tokio::select! {
            // Keys first, then flows; background work (a filter being applied, stories being
            // built) only when nothing else is ready, one slice per turn, with a frame after each.
            biased;
            term = term_events.next() => match term {
                Some(Ok(crossterm::event::Event::Key(k)))
                    if k.kind == crossterm::event::KeyEventKind::Press => Event::Key(k),
                Some(Ok(crossterm::event::Event::Resize(w, h))) => Event::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
            ev = async {
                match live.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => match ev {
                Some(ev) => Event::Flow(ev),
                None => {
                    live = None;
                    Event::Notice("the proxy stopped sending flows".into())
                }
            },
            Some(ev) = internal.recv() => ev,
            _ = tick.tick() => Event::Tick(SystemTime::now()),
            () = std::future::ready(()), if busy => Event::Work,
        };
        let control = app.update(event);
        // Coalesce bursts so a busy proxy or a fast loader costs one redraw.
        if let Some(rx) = live.as_mut() {
            while let Ok(ev) = rx.try_recv() {
                app.update(Event::Flow(ev));
            }
        }
        match control {
            Control::Continue => {}
            Control::Quit => break,
            Control::Replay(flow) => match &replayer {
                Some(client) => {
                    let client = client.clone();
                    let tx = tx.clone();
                    let id = app.store().next_id();
                    tokio::spawn(async move {
                        let new =
                            crate::replay::replay(&client, &flow, id, SystemTime::now()).await;
                        let _ = tx.send(Event::Replayed(Box::new(new)));
                    });
                }
                None => {
                    app.update(Event::Notice("replay unavailable: no HTTP client".into()));
                }
            },
            Control::ReplaySequence(job) => {
                tokio::spawn(sequence_actions::run_sequence(*job, tx.clone()));
            }
            Control::Export {
                ids,
                path,
                redacted,
            } => {
                let flows = ids.iter().filter_map(|id| app.store().get(*id));
                let note = match export::export_flows(flows, &path, redacted) {
                    Ok(n) => format!("exported {n} flows to {}", path.display()),
                    Err(e) => {
                        error!(error = %format!("{e:#}"), "export failed");
                        format!("export failed: {e:#}")
                    }
                };
                app.update(Event::Notice(note));
            }
            Control::ExportReport { ids, path } => {
                let flows: Vec<Flow> = ids
                    .iter()
                    .filter_map(|id| app.store().get(*id).cloned())
                    .collect();
                let note =
                    match export::export_report(flows, app.store().iter(), app.trust(), &path) {
                        Ok(w) => format!(
                            "wrote a redacted report of {} flows to {} ({} values redacted)",
                            w.shown,
                            path.display(),
                            w.redactions.total()
                        ),
                        Err(e) => {
                            error!(error = %format!("{e:#}"), "report failed");
                            format!("report failed: {e:#}")
                        }
                    };
                app.update(Event::Notice(note));
            }
            Control::Copy(text) => {
                let mut out = std::io::stdout();
                let note = match out
                    .write_all(osc52(&text).as_bytes())
                    .and_then(|()| out.flush())
                {
                    Ok(()) => {
                        "copied (OSC 52: the terminal must allow clipboard access)".to_string()
                    }
                    Err(e) => format!("copy failed: {e}"),
                };
                app.update(Event::Notice(note));
            }
        }
    }
    info!("TUI quit");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_wraps_base64_of_the_text() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn loader_sends_a_small_first_batch_then_done() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.har");
        let mut w = crate::capture::HarWriter::create(&path).unwrap();
        for n in 0..100 {
            w.write_flow(&crate::flow::testing::flow(
                n,
                crate::flow::testing::request("GET", "https://login.example/common/userrealm/x"),
                crate::flow::testing::response(200, "application/json", b"{}"),
            ))
            .unwrap();
        }
        w.finish().unwrap();
        let (tx, mut rx) = unbounded_channel();
        spawn_loader(path, tx).join().unwrap();
        let mut sizes = vec![];
        let mut done = None;
        while let Ok(ev) = rx.try_recv() {
            match ev {
                Event::Loaded(b) => sizes.push(b.len()),
                Event::LoadDone(r) => done = Some(r),
                other => panic!("unexpected {other:?}"),
            }
        }
        // The first screen comes from a small batch: at most FIRST_BATCH flows, fewer when the
        // batch interval passed first (a slow or loaded machine).
        assert!(
            sizes.first().is_some_and(|n| (1..=FIRST_BATCH).contains(n)),
            "{sizes:?}"
        );
        assert_eq!(sizes.iter().sum::<usize>(), 100);
        assert_eq!(done, Some(Ok(None)));
    }

    /// 2,000 flows of a few shapes, one of them a JWKS answer repeated throughout the capture.
    fn mixed_capture(path: &Path, n: u64) -> Vec<Flow> {
        use crate::flow::testing::{flow, request, response};
        let jwks = br#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}"#;
        let mut w = crate::capture::HarWriter::create(path).unwrap();
        let mut flows = Vec::new();
        for id in 0..n {
            let f = match id % 4 {
                0 => flow(
                    id,
                    request("GET", "https://login.example/common/discovery/keys"),
                    response(200, "application/json", jwks),
                ),
                1 => flow(
                    id,
                    request("GET", "https://login.example/common/userrealm/a@x"),
                    response(200, "application/json", br#"{"NameSpaceType":"Managed"}"#),
                ),
                2 => flow(
                    id,
                    request("GET", &format!("https://api.example/items/{id}")),
                    response(404, "text/plain", b"not here"),
                ),
                _ => flow(
                    id,
                    request("POST", "https://login.example/common/oauth2/token"),
                    response(400, "application/json", br#"{"error":"invalid_grant"}"#),
                ),
            };
            w.write_flow(&f).unwrap();
            flows.push(f);
        }
        w.finish().unwrap();
        flows
    }

    #[test]
    fn the_loader_decodes_in_parallel_but_delivers_in_order_what_one_thread_would() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.har");
        let flows = mixed_capture(&path, 2_000);
        let (tx, mut rx) = unbounded_channel();
        spawn_loader_with(path, tx, 3).join().unwrap();
        let mut got: Vec<(Flow, Digest)> = Vec::new();
        let mut batches = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            match ev {
                Event::Loaded(b) => {
                    batches.push(b.len());
                    got.extend(b);
                }
                Event::LoadDone(r) => assert_eq!(r, Ok(None)),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(
            batches
                .first()
                .is_some_and(|n| (1..=FIRST_BATCH).contains(n)),
            "{batches:?}"
        );
        assert_eq!(got.len(), flows.len());
        // Capture order, and the digest a single thread learning trust as it reads would make.
        let mut trust = Trust::default();
        for ((flow, digest), original) in got.iter().zip(&flows) {
            assert_eq!(flow.id, original.id);
            learn_trust(original, &mut trust);
            let report = decode_flow(original, Registry::builtin(), &trust, Limits::default());
            assert_eq!(digest, &Digest::of(original, &report), "{}", flow.id);
        }
        assert_eq!(trust.keys.len(), 1, "the repeated JWKS is trusted once");
    }

    #[test]
    fn applying_loaded_batches_decodes_nothing_on_the_ui_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.har");
        mixed_capture(&path, 2_000);
        let (tx, mut rx) = unbounded_channel();
        spawn_loader_with(path, tx, 2).join().unwrap();
        let mut app = App::new(Config {
            meta: app::Meta::default(),
            max_flows: 1_000_000,
            filter: Some(crate::filter::parse("~k json | ~finding error | ~c 404").unwrap()),
            now: std::time::UNIX_EPOCH,
            loading: true,
        });
        let mut batches = 0;
        while let Ok(ev) = rx.try_recv() {
            batches += usize::from(matches!(ev, Event::Loaded(_)));
            app.update(ev);
            // Per batch the UI thread files flows and digests; it never decodes one.
            assert_eq!(app.decodes(), 0, "after batch {batches}");
        }
        assert!(batches >= 2, "{batches} batches");
        assert_eq!(app.store().len(), 2_000);
        assert!(!app.shown().is_empty());
        // Moving through the list and changing the filter stay digest-only as well.
        for _ in 0..100 {
            app.update(Event::Key(crossterm::event::KeyEvent::from(
                crossterm::event::KeyCode::Char('j'),
            )));
        }
        assert_eq!(app.decodes(), 0);
        // Opening a flow decodes that one flow, once.
        app.update(Event::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Enter,
        )));
        assert_eq!(app.decodes(), 1);
    }

    #[test]
    fn loader_reports_a_missing_file() {
        let (tx, mut rx) = unbounded_channel();
        spawn_loader(PathBuf::from("/nonexistent/x.har"), tx)
            .join()
            .unwrap();
        match rx.try_recv() {
            Ok(Event::LoadDone(Err(e))) => assert!(e.contains("/nonexistent/x.har"), "{e}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
