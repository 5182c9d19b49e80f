//! How a flow's [`FlowEvent`]s become a [`Flow`]: the one definition of that assembly, used by
//! the live pipeline's recorder (`crate::live::recorder`) and by the session store
//! (`crate::session::FlowStore`), so that a flow recorded to a file and the same flow shown in
//! the live UI are built by the same code. Depends only on the flow model.
//!
//! A `Request` event starts a flow; the `Response` or `Error` event that follows finishes it.
//! Entry-level HAR fields that the proxy delivers inside the response's `extra` (the event
//! carries only the response) are moved onto the flow, where they belong: WebSocket messages,
//! as Chrome and mitmproxy write them.

use std::net::SocketAddr;
use std::time::SystemTime;

use super::{Extra, Flow, FlowError, FlowEvent, FlowId, Outcome, Request, Timings};

/// The placeholder error message of a flow whose response has not arrived yet.
pub const IN_FLIGHT: &str = "waiting for the response";

/// Entry-level HAR fields that arrive in `Response::extra` and belong on the flow.
const ENTRY_LEVEL: &[&str] = &["_webSocketMessages", "_webSocketMessagesDropped"];

/// What a `Request` event says: a flow that has started.
#[derive(Debug)]
pub struct Started {
    /// The client.
    pub client_addr: Option<SocketAddr>,
    /// When it started.
    pub at: SystemTime,
    /// The request.
    pub request: Request,
}

/// What one event is: the start of flow `id`, or its end.
#[derive(Debug)]
pub enum Step {
    /// A `Request` event.
    Start(FlowId, Started),
    /// A `Response` or `Error` event: the outcome and the proxy's timings (none for an error).
    End(FlowId, Outcome, Timings),
}

impl Step {
    /// Splits an event into what it says.
    pub fn of(ev: FlowEvent) -> Step {
        match ev {
            FlowEvent::Request {
                id,
                client_addr,
                at,
                request,
            } => Step::Start(
                id,
                Started {
                    client_addr,
                    at,
                    request,
                },
            ),
            FlowEvent::Response {
                id,
                response,
                timings,
            } => Step::End(id, Outcome::Response(response), timings),
            FlowEvent::Error { id, error } => {
                Step::End(id, Outcome::Error(error), Timings::default())
            }
        }
    }
}

/// A flow that has started and not finished: its outcome is an incomplete error saying so
/// ([`IN_FLIGHT`]) until [`finish`] gives it the real one.
pub fn in_flight(id: FlowId, started: Started) -> Flow {
    let outcome = Outcome::Error(FlowError {
        message: IN_FLIGHT.into(),
        incomplete: true,
    });
    flow(id, started, outcome, Timings::default())
}

/// A finished flow from its start and its end.
pub fn finished(id: FlowId, started: Started, mut outcome: Outcome, timings: Timings) -> Flow {
    let extra = entry_level(&mut outcome);
    Flow {
        extra,
        ..flow(id, started, outcome, timings)
    }
}

/// Finishes an in-flight flow (made by [`in_flight`]) in place.
pub fn finish(flow: &mut Flow, mut outcome: Outcome, timings: Timings) {
    for (key, value) in entry_level(&mut outcome) {
        flow.extra.insert(key, value);
    }
    flow.outcome = outcome;
    flow.timings = timings;
}

/// The final event that [`finished`] turned into `flow`, for a consumer that applies events
/// itself (the live UI's store): the inverse of [`finished`] for the flow's end, moving the
/// entry-level fields back into the response. Nothing is copied.
pub fn end_event(mut flow: Flow) -> FlowEvent {
    match flow.outcome {
        Outcome::Response(mut response) => {
            for key in ENTRY_LEVEL {
                if let Some(v) = flow.extra.remove(*key) {
                    response.extra.insert((*key).to_string(), v);
                }
            }
            FlowEvent::Response {
                id: flow.id,
                response,
                timings: flow.timings,
            }
        }
        Outcome::Error(error) => FlowEvent::Error { id: flow.id, error },
    }
}

fn flow(id: FlowId, s: Started, outcome: Outcome, timings: Timings) -> Flow {
    Flow {
        id,
        started_at: s.at,
        client_addr: s.client_addr,
        server_addr: None,
        request: s.request,
        outcome,
        timings,
        tags: vec![],
        comment: None,
        marked: false,
        extra: Extra::new(),
    }
}

/// Takes the entry-level fields out of a response's `extra`.
fn entry_level(outcome: &mut Outcome) -> Extra {
    let mut extra = Extra::new();
    if let Outcome::Response(r) = outcome {
        for key in ENTRY_LEVEL {
            if let Some(v) = r.extra.remove(*key) {
                extra.insert((*key).to_string(), v);
            }
        }
    }
    extra
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing;

    fn start() -> Started {
        Started {
            client_addr: None,
            at: SystemTime::UNIX_EPOCH,
            request: testing::request("GET", "https://a.example/"),
        }
    }

    fn websocket_end() -> (Outcome, Timings) {
        let mut ws = testing::response(101, "", b"");
        ws.extra
            .insert("_webSocketMessages".into(), serde_json::json!([]));
        let timings = Timings {
            total: Some(5.0),
            ..Timings::default()
        };
        (Outcome::Response(ws), timings)
    }

    #[test]
    fn finishing_in_place_builds_what_finished_builds() {
        let (outcome, timings) = websocket_end();
        let whole = finished(FlowId(7), start(), outcome.clone(), timings.clone());
        let mut live = in_flight(FlowId(7), start());
        assert_eq!(live.error().unwrap().message, IN_FLIGHT);
        finish(&mut live, outcome, timings);
        assert_eq!(live, whole);
        assert!(whole.extra.contains_key("_webSocketMessages"));
        assert!(
            !whole
                .response()
                .unwrap()
                .extra
                .contains_key("_webSocketMessages")
        );
    }

    #[test]
    fn the_end_event_gives_back_what_the_flow_was_finished_with() {
        let (outcome, timings) = websocket_end();
        let whole = finished(FlowId(7), start(), outcome, timings);
        let Step::End(id, outcome, timings) = Step::of(end_event(whole.clone())) else {
            panic!("not an end")
        };
        assert_eq!(id, FlowId(7));
        let mut again = in_flight(id, start());
        finish(&mut again, outcome, timings);
        assert_eq!(again, whole);
    }
}
