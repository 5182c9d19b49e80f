//! The recording consumer: pairs each flow's [`FlowEvent`]s (through [`crate::flow::assemble`]) and
//! writes each finished flow to a [`FlowSink`] (a crash-safe [`HarWriter`]), whole, inside one
//! write call (security.md §3). A plain struct driven by whoever owns the event loop (the live
//! pipeline of `idscope proxy`, `record` and `demo`, or a test); it does not spawn.
//!
//! [`Recorder::apply`] writes a finished flow at once. The live pipeline uses group commit
//! instead: [`Recorder::apply_staged`] for every event already queued, then one
//! [`Recorder::commit`], so the flows that finished together share one write call. Each flow's
//! line is whole inside that call, nothing waits for more traffic before it is written, and a
//! crash can lose only flows that were not yet written: those were in flight from the file's
//! point of view.
//!
//! A write error is returned to the caller, which must stop the recording loudly: the writer
//! refuses every later write, so nothing is silently skipped.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::capture::HarWriter;
use crate::flow::assemble::{self, Started, Step};
use crate::flow::{Flow, FlowError, FlowEvent, FlowId, Outcome, Timings};

/// Where finished flows go. [`HarWriter`] is the real one; tests use failing sinks.
pub trait FlowSink {
    /// Writes one finished flow (one write call for a file).
    fn write_flow(&mut self, flow: &Flow) -> io::Result<()>;
    /// Stages one finished flow for the next [`FlowSink::commit`] (group commit). By default it
    /// is written at once.
    fn stage_flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.write_flow(flow)
    }
    /// Writes what was staged (one write call for a file).
    fn commit(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Flushes to stable storage.
    fn sync(&mut self) -> io::Result<()>;
    /// What to call the sink in error messages (the file name).
    fn name(&self) -> String;
}

impl FlowSink for HarWriter {
    fn write_flow(&mut self, flow: &Flow) -> io::Result<()> {
        HarWriter::write_flow(self, flow)
    }

    fn stage_flow(&mut self, flow: &Flow) -> io::Result<()> {
        HarWriter::stage_flow(self, flow);
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        HarWriter::commit(self)
    }

    fn sync(&mut self) -> io::Result<()> {
        HarWriter::sync(self)
    }

    fn name(&self) -> String {
        self.path().display().to_string()
    }
}

/// Applies events and writes finished flows.
#[derive(Debug)]
pub struct Recorder<S: FlowSink = HarWriter> {
    sink: S,
    /// Keyed by the proxy's own sequential ids: FxHash (a multiply) rather than SipHash.
    pending: FxHashMap<FlowId, Started>,
    written: u64,
    last_sync: Instant,
    sync_every: Duration,
}

/// A recording stopped by a write error; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("recording to {file} stopped: {source}")]
pub struct RecordError {
    /// The file (sink name).
    pub file: String,
    /// The write error.
    #[source]
    pub source: io::Error,
}

/// No sink: the recorder only pairs requests with outcomes (`idscope proxy` without `-w`).
impl<S: FlowSink> FlowSink for Option<S> {
    fn write_flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.as_mut().map_or(Ok(()), |s| s.write_flow(flow))
    }

    fn stage_flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.as_mut().map_or(Ok(()), |s| s.stage_flow(flow))
    }

    fn commit(&mut self) -> io::Result<()> {
        self.as_mut().map_or(Ok(()), |s| s.commit())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.as_mut().map_or(Ok(()), |s| s.sync())
    }

    fn name(&self) -> String {
        self.as_ref()
            .map_or_else(|| "(no recording)".into(), |s| s.name())
    }
}

impl<S: FlowSink> Recorder<Option<S>> {
    /// Whether finished flows go anywhere (`false`: the recorder only pairs events).
    pub fn has_sink(&self) -> bool {
        self.sink.is_some()
    }
}

impl Recorder<HarWriter> {
    /// Creates a new recording at `path` (mode 0600; refuses to overwrite unless `overwrite`).
    pub fn create(path: &Path, overwrite: bool) -> io::Result<Self> {
        let w = if overwrite {
            HarWriter::create_or_overwrite(path)?
        } else {
            HarWriter::create(path)?
        };
        Ok(Recorder::new(w))
    }

    /// Writes every pending request as an incomplete flow, then the footer.
    pub fn finish(mut self) -> Result<u64, RecordError> {
        self.flush_incomplete()?;
        let file = self.sink.name();
        let n = self.written;
        self.sink
            .finish()
            .map_err(|source| RecordError { file, source })?;
        Ok(n)
    }
}

/// The recorder of `proxy`, `record` and `demo`: a HAR file, or none.
pub type FileRecorder = Recorder<Option<HarWriter>>;

impl<S: FlowSink> Recorder<S> {
    /// A recorder over any sink; syncs to disk at most once a second.
    pub fn new(sink: S) -> Self {
        Recorder {
            sink,
            pending: FxHashMap::default(),
            written: 0,
            last_sync: Instant::now(),
            sync_every: Duration::from_secs(1),
        }
    }

    /// Flows written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Requests waiting for their response.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Applies one event. Returns the flow when the event finished one (after writing it).
    pub fn apply(&mut self, ev: FlowEvent) -> Result<Option<Flow>, RecordError> {
        let flow = self.apply_staged(ev)?;
        self.commit()?;
        Ok(flow)
    }

    /// Like [`Recorder::apply`], but a finished flow is only staged: the caller applies the
    /// events that are already queued and then calls [`Recorder::commit`], which writes them
    /// all with one write call (group commit). Nothing is held back beyond that batch.
    pub fn apply_staged(&mut self, ev: FlowEvent) -> Result<Option<Flow>, RecordError> {
        let (id, outcome, timings) = match Step::of(ev) {
            Step::Start(id, started) => {
                self.pending.insert(id, started);
                return Ok(None);
            }
            Step::End(id, outcome, timings) => (id, outcome, timings),
        };
        let Some(p) = self.pending.remove(&id) else {
            // A final event without its request: nothing to write (cannot happen with the proxy's
            // sequencing; tolerated so a consumer attached late does not fail).
            return Ok(None);
        };
        let flow = assemble::finished(id, p, outcome, timings);
        self.stage(&flow)?;
        Ok(Some(flow))
    }

    fn stage(&mut self, flow: &Flow) -> Result<(), RecordError> {
        if let Err(source) = self.sink.stage_flow(flow) {
            return Err(RecordError {
                file: self.sink.name(),
                source,
            });
        }
        self.written += 1;
        Ok(())
    }

    /// Writes the staged flows (one write call), and syncs to disk at most once a second.
    pub fn commit(&mut self) -> Result<(), RecordError> {
        self.sink.commit().map_err(|source| RecordError {
            file: self.sink.name(),
            source,
        })?;
        if self.last_sync.elapsed() >= self.sync_every {
            self.last_sync = Instant::now();
            self.sink.sync().map_err(|source| RecordError {
                file: self.sink.name(),
                source,
            })?;
        }
        Ok(())
    }

    /// Writes pending requests as incomplete flows and hands back the sink (to close it) with
    /// the number of flows written.
    pub fn close(mut self) -> Result<(u64, S), RecordError> {
        self.flush_incomplete()?;
        Ok((self.written, self.sink))
    }

    /// Writes every request still waiting as an incomplete flow (shutdown, in id order).
    pub fn flush_incomplete(&mut self) -> Result<(), RecordError> {
        let mut ids: Vec<FlowId> = self.pending.keys().copied().collect();
        ids.sort();
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                let flow = assemble::finished(
                    id,
                    p,
                    Outcome::Error(FlowError {
                        message: "the recording stopped while the exchange was in flight".into(),
                        incomplete: true,
                    }),
                    Timings::default(),
                );
                self.stage(&flow)?;
            }
        }
        self.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing;
    use std::time::SystemTime;

    struct Failing(u32);

    impl FlowSink for Failing {
        fn write_flow(&mut self, _flow: &Flow) -> io::Result<()> {
            if self.0 == 0 {
                return Err(io::Error::other("No space left on device"));
            }
            self.0 -= 1;
            Ok(())
        }
        fn sync(&mut self) -> io::Result<()> {
            Ok(())
        }
        fn name(&self) -> String {
            "/tmp/full.har".into()
        }
    }

    fn req(id: u64) -> FlowEvent {
        FlowEvent::Request {
            id: FlowId(id),
            client_addr: None,
            at: SystemTime::UNIX_EPOCH,
            request: testing::request("GET", "https://a.example/"),
        }
    }

    fn res(id: u64) -> FlowEvent {
        FlowEvent::Response {
            id: FlowId(id),
            response: testing::response(200, "text/plain", b"ok"),
            timings: Timings::default(),
        }
    }

    #[test]
    fn a_write_error_names_the_file_and_is_returned() {
        let mut r = Recorder::new(Failing(1));
        r.apply(req(0)).unwrap();
        assert!(r.apply(res(0)).unwrap().is_some());
        r.apply(req(1)).unwrap();
        let e = r.apply(res(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "recording to /tmp/full.har stopped: No space left on device"
        );
    }

    #[test]
    fn finished_flows_are_written_once_and_pending_ones_as_incomplete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.har");
        let mut r = Recorder::create(&path, false).unwrap();
        r.apply(req(0)).unwrap();
        r.apply(req(1)).unwrap();
        let mut ws = testing::response(101, "", b"");
        ws.extra
            .insert("_webSocketMessages".into(), serde_json::json!([]));
        r.apply(FlowEvent::Response {
            id: FlowId(1),
            response: ws,
            timings: Timings::default(),
        })
        .unwrap();
        assert_eq!(r.pending(), 1);
        assert_eq!(r.finish().unwrap(), 2);
        let flows = crate::capture::read_all(&path).unwrap();
        assert_eq!(flows.len(), 2);
        assert!(flows[0].extra.contains_key("_webSocketMessages"));
        assert!(flows[1].error().unwrap().incomplete);
    }
}
