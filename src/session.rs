//! The flow store of a session: flows in arrival order with an id index, fed by the proxy's
//! [`FlowEvent`]s or by a capture reader, and read by the user interfaces. Memory is bounded by
//! `max_flows` (`--max-flows`): when the store is full the oldest flow is evicted.
//!
//! This module owns ordering, lookup and the in-flight bookkeeping (a request whose response has
//! not arrived yet). It does not decode, filter or draw anything, and it never blocks: it is a
//! plain struct owned by the single consumer loop, so there are no locks.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::flow::assemble::{self, Step};
use crate::flow::{Flow, FlowEvent, FlowId};

/// The default cap on flows kept in memory (`--max-flows`).
pub const DEFAULT_MAX_FLOWS: usize = 10_000;

pub use crate::flow::assemble::IN_FLIGHT;

/// What applying one event changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The flow the event was about, if the store still holds it.
    pub changed: Option<FlowId>,
    /// Flows evicted to stay under the cap.
    pub evicted: Vec<FlowId>,
    /// True when the event added a flow (a `Request`), false when it completed one.
    pub added: bool,
}

/// Ordered flows with an id index and a cap.
#[derive(Debug, Clone)]
pub struct FlowStore {
    flows: VecDeque<Flow>,
    /// Sequence number of `flows[0]`; a flow's position is `seq - first_seq`, so evicting from
    /// the front never rewrites the index.
    first_seq: u64,
    index: HashMap<FlowId, u64>,
    in_flight: HashSet<FlowId>,
    max_flows: usize,
    evicted_total: u64,
    next_id: u64,
}

impl Default for FlowStore {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FLOWS)
    }
}

impl FlowStore {
    /// An empty store keeping at most `max_flows` flows (at least one).
    pub fn new(max_flows: usize) -> Self {
        FlowStore {
            flows: VecDeque::new(),
            first_seq: 0,
            index: HashMap::new(),
            in_flight: HashSet::new(),
            max_flows: max_flows.max(1),
            evicted_total: 0,
            next_id: 0,
        }
    }

    /// The cap.
    pub fn max_flows(&self) -> usize {
        self.max_flows
    }

    /// How many flows the store holds.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// True when the store holds no flow.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// How many flows were evicted since the store was created.
    pub fn evicted_total(&self) -> u64 {
        self.evicted_total
    }

    /// The flows in arrival order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Flow> + ExactSizeIterator {
        self.flows.iter()
    }

    /// The sequence number of the oldest flow held. Every flow pushed gets the next number and
    /// keeps it, so a number says where a flow is even after older ones were evicted: work done
    /// over the store in slices (a filter pass, a story build) resumes from a sequence number.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// The sequence number the next flow pushed will get.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.flows.len() as u64
    }

    /// The flow with sequence number `seq`, if still held.
    pub fn at_seq(&self, seq: u64) -> Option<&Flow> {
        self.flows
            .get(usize::try_from(seq.checked_sub(self.first_seq)?).ok()?)
    }

    /// The sequence number of flow `id`.
    pub fn seq(&self, id: FlowId) -> Option<u64> {
        self.index.get(&id).copied()
    }

    /// The flow at arrival position `pos`.
    pub fn at(&self, pos: usize) -> Option<&Flow> {
        self.flows.get(pos)
    }

    /// The arrival position of flow `id`.
    pub fn position(&self, id: FlowId) -> Option<usize> {
        let seq = self.index.get(&id)?;
        usize::try_from(seq.checked_sub(self.first_seq)?).ok()
    }

    /// The flow with this id.
    pub fn get(&self, id: FlowId) -> Option<&Flow> {
        self.flows.get(self.position(id)?)
    }

    /// The flow with this id, mutably (marks, comments).
    pub fn get_mut(&mut self, id: FlowId) -> Option<&mut Flow> {
        let pos = self.position(id)?;
        self.flows.get_mut(pos)
    }

    /// True while the flow's response has not arrived.
    pub fn is_in_flight(&self, id: FlowId) -> bool {
        self.in_flight.contains(&id)
    }

    /// How many flows are waiting for their response.
    pub fn in_flight_count(&self) -> usize {
        self.in_flight.len()
    }

    /// An id no flow in this session has used: one past the highest seen.
    pub fn next_id(&self) -> FlowId {
        FlowId(self.next_id)
    }

    /// Adds a complete flow (from a capture file, or a replay). A flow whose id is already present
    /// replaces it in place. Returns the evicted ids.
    pub fn push(&mut self, flow: Flow) -> Vec<FlowId> {
        let id = flow.id;
        self.next_id = self.next_id.max(id.0.saturating_add(1));
        if let Some(pos) = self.position(id) {
            if let Some(slot) = self.flows.get_mut(pos) {
                *slot = flow;
            }
            return Vec::new();
        }
        let seq = self.first_seq + self.flows.len() as u64;
        self.flows.push_back(flow);
        self.index.insert(id, seq);
        self.evict()
    }

    fn evict(&mut self) -> Vec<FlowId> {
        let mut evicted = Vec::new();
        while self.flows.len() > self.max_flows {
            if let Some(old) = self.flows.pop_front() {
                self.index.remove(&old.id);
                self.in_flight.remove(&old.id);
                evicted.push(old.id);
                self.first_seq += 1;
                self.evicted_total += 1;
            }
        }
        evicted
    }

    /// Applies one proxy event: a `Request` adds an in-flight flow, a `Response` or `Error`
    /// completes it (both assembled by [`assemble`]). Events for flows the store no longer holds
    /// (evicted) are ignored.
    pub fn apply(&mut self, event: FlowEvent) -> Applied {
        match Step::of(event) {
            Step::Start(id, started) => {
                let evicted = self.push(assemble::in_flight(id, started));
                let changed = self.position(id).map(|_| id);
                if changed.is_some() {
                    self.in_flight.insert(id);
                }
                Applied {
                    changed,
                    evicted,
                    added: true,
                }
            }
            Step::End(id, outcome, timings) => {
                let changed = self.get_mut(id).map(|f| {
                    assemble::finish(f, outcome, timings);
                    id
                });
                self.in_flight.remove(&id);
                Applied {
                    changed,
                    ..Applied::default()
                }
            }
        }
    }

    /// Removes every flow (the list's `z`). Ids keep increasing.
    pub fn clear(&mut self) {
        self.first_seq += self.flows.len() as u64;
        self.flows.clear();
        self.index.clear();
        self.in_flight.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, response};
    use crate::flow::{FlowError, Timings};
    use std::time::UNIX_EPOCH;

    fn req_event(n: u64) -> FlowEvent {
        FlowEvent::Request {
            id: FlowId(n),
            client_addr: None,
            at: UNIX_EPOCH,
            request: request("GET", "https://x/"),
        }
    }

    #[test]
    fn request_then_response_completes_the_in_flight_flow() {
        let mut s = FlowStore::new(10);
        let a = s.apply(req_event(3));
        assert!(a.added);
        assert_eq!(a.changed, Some(FlowId(3)));
        assert!(s.is_in_flight(FlowId(3)));
        assert!(s.get(FlowId(3)).unwrap().response().is_none());
        let a = s.apply(FlowEvent::Response {
            id: FlowId(3),
            response: response(204, "text/plain", b""),
            timings: Timings::default(),
        });
        assert_eq!(a.changed, Some(FlowId(3)));
        assert!(!s.is_in_flight(FlowId(3)));
        assert_eq!(s.get(FlowId(3)).unwrap().response().unwrap().status, 204);
        assert_eq!(s.next_id(), FlowId(4));
    }

    #[test]
    fn error_event_ends_the_flow_with_its_message() {
        let mut s = FlowStore::new(10);
        s.apply(req_event(0));
        s.apply(FlowEvent::Error {
            id: FlowId(0),
            error: FlowError {
                message: "reset".into(),
                incomplete: false,
            },
        });
        assert_eq!(s.get(FlowId(0)).unwrap().error().unwrap().message, "reset");
        assert_eq!(s.in_flight_count(), 0);
    }

    #[test]
    fn the_cap_evicts_the_oldest_and_late_events_for_them_are_ignored() {
        let mut s = FlowStore::new(2);
        s.apply(req_event(0));
        s.apply(req_event(1));
        let a = s.apply(req_event(2));
        assert_eq!(a.evicted, vec![FlowId(0)]);
        assert_eq!(s.len(), 2);
        assert!(s.get(FlowId(0)).is_none());
        assert_eq!(s.at(0).unwrap().id, FlowId(1));
        assert_eq!(s.position(FlowId(2)), Some(1));
        assert_eq!((s.first_seq(), s.end_seq()), (1, 3));
        assert_eq!(s.seq(FlowId(2)), Some(2));
        assert_eq!(s.at_seq(2).map(|f| f.id), Some(FlowId(2)));
        assert!(s.at_seq(0).is_none(), "evicted");
        assert!(s.at_seq(3).is_none(), "not yet pushed");
        let late = s.apply(FlowEvent::Response {
            id: FlowId(0),
            response: response(200, "text/plain", b""),
            timings: Timings::default(),
        });
        assert_eq!(late.changed, None);
        assert_eq!(s.evicted_total(), 1);
    }

    #[test]
    fn pushing_an_existing_id_replaces_it_and_clear_keeps_ids_increasing() {
        let mut s = FlowStore::new(5);
        s.push(flow(
            0,
            request("GET", "https://a/"),
            response(200, "x", b""),
        ));
        s.push(flow(
            0,
            request("GET", "https://b/"),
            response(200, "x", b""),
        ));
        assert_eq!(s.len(), 1);
        assert_eq!(s.get(FlowId(0)).unwrap().request.url, "https://b/");
        s.clear();
        assert!(s.is_empty());
        assert_eq!(s.next_id(), FlowId(1));
        s.push(flow(
            1,
            request("GET", "https://c/"),
            response(200, "x", b""),
        ));
        assert_eq!(s.position(FlowId(1)), Some(0));
    }
}
