//! The live pipeline: what happens to the proxy's [`FlowEvent`]s while it runs. Each event is
//! applied once, by the [`Recorder`], which pairs a flow's events into a
//! [`Flow`](crate::flow::Flow) (the assembly is [`crate::flow::assemble`]'s); each finished flow is
//! then recorded (a HAR file, group-committed), printed as one line ([`Printer`]) and handed on to
//! the live UI, in that order, moved rather than copied. With no file and no printed lines
//! (`idscope proxy` on a terminal without `-w`) the recorder has nothing to do, and the events go
//! to the UI as they came. The consumer loops of `idscope proxy`, `record` and `demo` are here; the
//! commands only wire them up. The proxy engine (`crate::proxy`) knows nothing of this module.
//!
//! The loops run on the thread that drives them (the `block_on` thread), not as tasks on the
//! proxy's workers: as a task, a batch of decodes and writes would delay the forwarding on the
//! worker it runs on; as a thread of its own, the OS runs it in the gaps (`benches/README.md`
//! has the measurement).

pub mod printer;
pub mod recorder;

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::flow::FlowEvent;
use crate::proxy::ProxyHandle;
pub use printer::Printer;
pub use recorder::{FileRecorder, FlowSink, RecordError, Recorder};

/// Events handled (and lines printed) per batch before the recording is written, stdout is
/// flushed, the UI is fed and the signals are looked at again.
pub const BATCH: usize = 256;

/// How long the headless loop waits after a batch that emptied the queue before it takes the
/// next one. The first flow after a quiet spell is written at once; under load, the flows that
/// finish within this time are written together. Waking the loop once per event costs more CPU
/// than the recording itself (a thread switch per event on a loaded core,
/// `benches/proxy_bench.py`). A flow waits at most this long (plus the batch) before its write,
/// far inside the half second the kill -9 reliability test allows.
pub const COALESCE: Duration = Duration::from_millis(1);

/// The consumers of the proxy's events: the recorder (always; without a file it only pairs),
/// and optionally the line printer and the live UI's channel.
///
/// [`Pipeline::apply`] takes events one by one; [`Pipeline::commit`] ends a batch: the
/// recorder writes the batch's flows with one write call, the printer writes their lines, and
/// only then does the UI get the batch's events, so what the UI shows is already on disk.
#[derive(Debug)]
pub struct Pipeline {
    recorder: FileRecorder,
    printer: Option<Printer>,
    ui: Option<UnboundedSender<FlowEvent>>,
    /// The batch's events for the UI, sent by [`Pipeline::commit`].
    for_ui: Vec<FlowEvent>,
}

impl Pipeline {
    /// A pipeline that records (to the recorder's file, if any) and does nothing else.
    pub fn new(recorder: FileRecorder) -> Self {
        Pipeline {
            recorder,
            printer: None,
            ui: None,
            for_ui: Vec::new(),
        }
    }

    /// Also prints each finished flow's line on stdout.
    pub fn printing(mut self) -> Self {
        self.printer = Some(Printer::new());
        self
    }

    /// Also feeds the live UI. The UI applies the events to its own store
    /// ([`crate::session::FlowStore`]), so it gets a flow's request when the flow starts (the
    /// request is copied, its body bytes shared) and its response, moved out of the recorded
    /// flow, when it ends.
    pub fn showing(mut self, ui: UnboundedSender<FlowEvent>) -> Self {
        self.ui = Some(ui);
        self
    }

    /// Applies one event. A flow it finishes is staged for the file, its line is buffered and
    /// its end is queued for the UI; [`Pipeline::commit`] makes all three happen. When the
    /// events have nowhere to go but the UI (no file, no printed lines), each is queued for the
    /// UI as it came: the UI's store is then the only place that pairs them.
    pub fn apply(&mut self, ev: FlowEvent) -> Result<(), RecordError> {
        if self.ui.is_some() && self.printer.is_none() && !self.recorder.has_sink() {
            self.for_ui.push(ev);
            return Ok(());
        }
        if self.ui.is_some() && matches!(ev, FlowEvent::Request { .. }) {
            self.for_ui.push(ev.clone());
        }
        if let Some(flow) = self.recorder.apply_staged(ev)? {
            if let Some(p) = self.printer.as_mut() {
                p.line(&flow);
            }
            if self.ui.is_some() {
                self.for_ui.push(crate::flow::assemble::end_event(flow));
            }
        }
        Ok(())
    }

    /// Ends a batch: writes the staged flows (one write call), then their lines, then hands the
    /// batch's events to the UI.
    pub fn commit(&mut self) -> Result<(), RecordError> {
        self.recorder.commit()?;
        if let Some(p) = self.printer.as_mut() {
            p.flush();
        }
        if let Some(ui) = &self.ui {
            for ev in self.for_ui.drain(..) {
                // The UI may be gone already (it quit first): the recording goes on.
                let _ = ui.send(ev);
            }
        }
        Ok(())
    }

    /// Applies `first` and the events queued behind it, at most [`BATCH`] in all, each taken
    /// from the channel as it is applied, then commits them. Returns how many it applied.
    pub fn apply_queued(
        &mut self,
        first: FlowEvent,
        events: &mut UnboundedReceiver<FlowEvent>,
    ) -> Result<usize, RecordError> {
        let mut n = 0;
        let mut next = Some(first);
        while let Some(ev) = next {
            self.apply(ev)?;
            n += 1;
            next = if n < BATCH {
                events.try_recv().ok()
            } else {
                None
            };
        }
        self.commit()?;
        Ok(n)
    }

    /// Applies everything still queued (the proxy has stopped, so every event it will send is
    /// there) and commits it.
    pub fn drain(&mut self, events: &mut UnboundedReceiver<FlowEvent>) -> Result<(), RecordError> {
        while let Ok(ev) = events.try_recv() {
            self.apply(ev)?;
        }
        self.commit()
    }

    /// The recorder, to be closed (in-flight flows written as incomplete, the file finished).
    pub fn into_recorder(self) -> FileRecorder {
        self.recorder
    }
}

/// The headless loop (`record`, and `proxy` without the TUI): consumes events until
/// SIGINT/SIGTERM or a recording error, shuts the proxy down, and applies everything it sent up
/// to then (in-flight flows arrive as incomplete errors). Returns the recorder to be closed.
pub async fn run_headless(
    handle: ProxyHandle,
    mut events: UnboundedReceiver<FlowEvent>,
    mut pipeline: Pipeline,
) -> anyhow::Result<FileRecorder> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let result: anyhow::Result<()> = loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break Ok(()) };
                // A file write (and the decode for the printed line) is short blocking work; the
                // events already queued behind this one are handled in the same go.
                let r = tokio::task::block_in_place(|| pipeline.apply_queued(ev, &mut events));
                match r {
                    Err(e) => break Err(e.into()),
                    // A busy proxy: let more flows finish before the next batch (see COALESCE).
                    Ok(n) if n < BATCH => tokio::time::sleep(COALESCE).await,
                    Ok(_) => {}
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
    pipeline.drain(&mut events)?;
    Ok(pipeline.into_recorder())
}

/// The live UI's feed (`idscope proxy` on a terminal, `idscope demo`): applies the proxy's
/// events in batches (group commit as in the headless loop; the pipeline should be
/// [`Pipeline::showing`] the UI) until the proxy's channel closes or `stop` resolves; then what
/// is still queued is applied. Returns the recorder to be closed.
pub async fn feed(
    mut events: UnboundedReceiver<FlowEvent>,
    mut pipeline: Pipeline,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<FileRecorder> {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                tokio::task::block_in_place(|| pipeline.apply_queued(ev, &mut events))?;
            }
            () = &mut stop => break,
        }
    }
    // The proxy has stopped (or the feed was told to): every event it will send is queued.
    pipeline.drain(&mut events)?;
    Ok(pipeline.into_recorder())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{FlowId, Timings, testing};
    use crate::session::FlowStore;
    use std::time::SystemTime;
    use tokio::sync::mpsc::unbounded_channel;

    fn events() -> Vec<FlowEvent> {
        let mut ws = testing::response(101, "", b"");
        ws.extra
            .insert("_webSocketMessages".into(), serde_json::json!([]));
        let request = |id| FlowEvent::Request {
            id: FlowId(id),
            client_addr: None,
            at: SystemTime::UNIX_EPOCH,
            request: testing::request("GET", "https://a.example/"),
        };
        vec![
            request(0),
            request(1),
            FlowEvent::Response {
                id: FlowId(1),
                response: ws,
                timings: Timings::default(),
            },
            FlowEvent::Response {
                id: FlowId(0),
                response: testing::response(200, "text/plain", b"ok"),
                timings: Timings::default(),
            },
            request(2),
        ]
    }

    /// The UI's store, fed by the pipeline, holds the flows the recorder recorded.
    #[test]
    fn the_ui_gets_every_event_once_the_batch_is_committed() {
        let (tx, mut proxy) = unbounded_channel();
        let (to_ui, mut ui) = unbounded_channel();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.har");
        let writer = crate::capture::HarWriter::create(&path).unwrap();
        let mut pipeline = Pipeline::new(Recorder::new(Some(writer))).showing(to_ui);
        for ev in events() {
            tx.send(ev).unwrap();
        }
        let first = proxy.try_recv().unwrap();
        assert_eq!(pipeline.apply_queued(first, &mut proxy).unwrap(), 5);
        let mut store = FlowStore::new(10);
        while let Ok(ev) = ui.try_recv() {
            store.apply(ev);
        }
        assert_eq!(store.len(), 3);
        assert_eq!(store.in_flight_count(), 1);
        let (written, writer) = pipeline.into_recorder().close().unwrap();
        assert_eq!(written, 3, "two finished, one written as incomplete");
        writer.unwrap().finish().unwrap();
        // The file has the flows in the order they finished: 1, 0, then 2 as incomplete.
        let recorded = crate::capture::read_all(&path).unwrap();
        let status = |f: &crate::flow::Flow| f.response().map(|r| r.status);
        let ws = |f: &crate::flow::Flow| f.extra.contains_key("_webSocketMessages");
        assert_eq!(
            recorded.iter().map(status).collect::<Vec<_>>(),
            [Some(101), Some(200), None]
        );
        for (id, on_file) in [(1, &recorded[0]), (0, &recorded[1])] {
            let shown = store.get(FlowId(id)).unwrap();
            assert_eq!(status(shown), status(on_file), "flow {id}");
            assert_eq!(ws(shown), ws(on_file), "flow {id}");
        }
        assert!(ws(&recorded[0]), "WebSocket messages on the flow");
        assert!(store.is_in_flight(FlowId(2)));
    }

    /// Without a file or printed lines, the UI gets the proxy's events themselves, and its store
    /// ends up as it does when a recorder pairs them first.
    #[test]
    fn without_a_recording_the_ui_gets_the_events_as_they_came() {
        let (to_ui, mut ui) = unbounded_channel();
        let mut pipeline = Pipeline::new(Recorder::new(None)).showing(to_ui);
        for ev in events() {
            pipeline.apply(ev).unwrap();
        }
        assert!(ui.try_recv().is_err(), "nothing before the commit");
        pipeline.commit().unwrap();
        let mut got = Vec::new();
        while let Ok(ev) = ui.try_recv() {
            got.push(ev);
        }
        assert_eq!(
            format!("{got:?}"),
            format!("{:?}", events()),
            "every event, unchanged and in order"
        );
        assert_eq!(
            pipeline.into_recorder().pending(),
            0,
            "the recorder paired nothing"
        );
        let mut store = FlowStore::new(10);
        for ev in got {
            store.apply(ev);
        }
        assert_eq!((store.len(), store.in_flight_count()), (3, 1));
        assert_eq!(
            store.get(FlowId(1)).unwrap().response().unwrap().status,
            101
        );
    }
}
