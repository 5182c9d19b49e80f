//! In-flight flows: each exchange's event sequencing (a `Request` event, then exactly one
//! `Response` or `Error`, also at shutdown) and the sharded table of the flows in flight.

use std::time::SystemTime;

use super::*;

pub(super) const SHARDS: usize = 16;

/// The in-flight flows, so that shutdown can end each with an `incomplete` error, and the event
/// channel. Sharded so concurrent connections rarely share a lock; keyed by our own sequential
/// ids, so hashed with FxHash (a multiply) rather than SipHash, which guards against keys an
/// attacker picks.
#[derive(Debug)]
pub(crate) struct Flows {
    pub(super) events: mpsc::UnboundedSender<FlowEvent>,
    pub(super) next_id: AtomicU64,
    pub(super) shards: [Mutex<FxHashMap<u64, Arc<Slot>>>; SHARDS],
    pub(super) closed: AtomicBool,
}

impl Flows {
    pub(crate) fn new(events: mpsc::UnboundedSender<FlowEvent>) -> Self {
        Flows {
            events,
            next_id: AtomicU64::new(0),
            shards: std::array::from_fn(|_| Mutex::new(FxHashMap::default())),
            closed: AtomicBool::new(false),
        }
    }

    pub(super) fn send(&self, ev: FlowEvent) {
        // Never wait on the consumer: the channel is unbounded (memory is bounded by the body cap
        // and the consumer's own flow cap); if the consumer is gone the event is dropped.
        if self.events.send(ev).is_err() {
            debug!("flow event dropped: no consumer");
        }
    }

    pub(super) fn shard(&self, id: u64) -> &Mutex<FxHashMap<u64, Arc<Slot>>> {
        // SHARDS is a power of two; the index is always in range.
        let i = (id as usize) % SHARDS;
        match self.shards.get(i) {
            Some(s) => s,
            None => &self.shards[0],
        }
    }

    /// Starts a flow; `None` once the proxy is shutting down.
    pub(super) fn begin(self: &Arc<Self>, client_addr: SocketAddr) -> Option<Arc<Slot>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            id: FlowId(id),
            client_addr,
            at: SystemTime::now(),
            started: Instant::now(),
            flows: Arc::clone(self),
            state: Mutex::new(SlotState::default()),
        });
        let mut shard = self.shard(id).lock().ok()?;
        // Checked under the shard lock: `abort_all` sets `closed` before sweeping the shards.
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        shard.insert(id, Arc::clone(&slot));
        Some(slot)
    }

    pub(super) fn remove(&self, id: FlowId) {
        if let Ok(mut s) = self.shard(id.0).lock() {
            s.remove(&id.0);
        }
    }

    /// Stops new flows and ends every in-flight one with an `incomplete` error event. After this
    /// returns, no further event is sent for any flow.
    pub(crate) fn abort_all(&self) {
        self.closed.store(true, Ordering::Release);
        let mut slots = Vec::new();
        for shard in &self.shards {
            if let Ok(mut s) = shard.lock() {
                slots.extend(s.drain().map(|(_, v)| v));
            }
        }
        slots.sort_by_key(|s| s.id);
        for s in slots {
            s.abort();
        }
    }

    /// Number of flows in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }
}

#[derive(Default)]
pub(super) struct SlotState {
    pub(super) request_sent: bool,
    pub(super) done: bool,
    /// The request as known so far, while its (over-cap) body is still streaming.
    pub(super) partial: Option<flow::Request>,
    /// A final event that arrived before the request event could be sent.
    pub(super) held: Option<FlowEvent>,
}

/// One flow's event sequencing: `Request` first, then exactly one final event.
pub(crate) struct Slot {
    pub(super) id: FlowId,
    pub(super) client_addr: SocketAddr,
    pub(super) at: SystemTime,
    pub(super) started: Instant,
    pub(super) flows: Arc<Flows>,
    pub(super) state: Mutex<SlotState>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Resolves once the proxy is stopping (or its handle is gone).
pub(crate) async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await.map(|_| ());
}

impl Slot {
    pub(super) fn request_event(&self, request: flow::Request) -> FlowEvent {
        FlowEvent::Request {
            id: self.id,
            client_addr: Some(self.client_addr),
            at: self.at,
            request,
        }
    }

    /// Records the request as known before its body has ended (for shutdown).
    pub(super) fn set_partial(&self, request: flow::Request) {
        if let Ok(mut st) = self.state.lock() {
            st.partial = Some(request);
        }
    }

    /// Sends the `Request` event (and a final event that was waiting for it).
    pub(super) fn request(&self, request: flow::Request) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if st.request_sent || (st.done && st.held.is_none()) {
            return;
        }
        st.request_sent = true;
        st.partial = None;
        self.flows.send(self.request_event(request));
        if let Some(ev) = st.held.take() {
            self.flows.send(ev);
        }
    }

    /// Ends the flow with `ev` (a `Response` or `Error`); later calls are ignored.
    pub(super) fn finish(&self, ev: FlowEvent) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if st.done {
            return;
        }
        st.done = true;
        if st.request_sent {
            self.flows.send(ev);
        } else {
            st.held = Some(ev);
        }
        drop(st);
        self.flows.remove(self.id);
    }

    pub(super) fn fail(&self, message: String) {
        self.finish(FlowEvent::Error {
            id: self.id,
            error: FlowError {
                message,
                incomplete: false,
            },
        });
    }

    /// Shutdown: send what is known of the request, then an `incomplete` error.
    pub(super) fn abort(&self) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if st.done && (st.request_sent || st.held.is_none()) {
            return;
        }
        if !st.request_sent {
            let req = st.partial.take().unwrap_or_else(|| flow::Request {
                method: String::new(),
                url: String::new(),
                http_version: String::new(),
                headers: Default::default(),
                body: flow::Body::default(),
                extra: flow::Extra::new(),
            });
            self.flows.send(self.request_event(req));
            st.request_sent = true;
        }
        st.done = true;
        st.held = None;
        self.flows.send(FlowEvent::Error {
            id: self.id,
            error: FlowError {
                message: INCOMPLETE_MESSAGE.into(),
                incomplete: true,
            },
        });
    }

    pub(super) fn elapsed_ms(&self) -> f64 {
        ms(self.started.elapsed())
    }
}

/// A duration in milliseconds, as HAR timings are.
pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
