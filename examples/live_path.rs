//! CPU per flow of the live (TUI) path: the proxy's events for N flows go through the consumer
//! that feeds the live UI, into the session store the UI holds, in one thread with no proxy and
//! no terminal. Two consumers, in the same process and run, on the same events:
//!
//! * `pipeline`: `idscope::live::Pipeline` showing the UI (what `idscope proxy` on a terminal
//!   and `idscope demo` run): with a HAR file, each event applied once by the recorder and the
//!   finished flow's response moved on to the UI; with no file, the events handed to the UI as
//!   they came;
//! * `copy per event`: a consumer that gives the recorder a copy of every event and the UI the
//!   original, written here with the same public API.
//!
//! Both group-commit the events queued together (up to `live::BATCH`) and then apply the UI's
//! share to a `FlowStore` (`session::FlowStore::apply`, the UI's own step before it decodes and
//! draws, which this does not measure). Each runs with no recording and with a HAR file in a
//! temporary directory. The flow is the one `benches/proxy_bench.py` sends (a GET answered by
//! a 1 KiB JSON body with the origin's headers).
//!
//!     cargo run --release --example live_path [-- FLOWS [ROUNDS]]
//!
//! Prints µs per flow of the thread's CPU time and of wall time, the best of ROUNDS
//! (default 5) rounds of FLOWS (default 100000) flows each. Measures only; nothing fails on it.

// A benchmark binary: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use idscope::capture::HarWriter;
use idscope::flow::{Body, Extra, FlowEvent, FlowId, Headers, Request, Response, Timings};
use idscope::live::{self, FileRecorder, Pipeline, Recorder};
use idscope::session::FlowStore;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Flows the store keeps (the TUI's default cap): the rest are evicted, as in a long session.
const MAX_FLOWS: usize = 10_000;

/// Flows per chunk of events put on the channel before the consumer drains it.
const CHUNK: usize = 4096;

fn request() -> Request {
    Request {
        method: "GET".into(),
        url: "http://127.0.0.1:18080/bench".into(),
        http_version: "HTTP/1.1".into(),
        headers: Headers::from(vec![
            ("accept", "*/*"),
            ("accept-encoding", "gzip, compress, deflate, br"),
            ("user-agent", "oha/1.16.0"),
            ("host", "127.0.0.1:18080"),
        ]),
        body: Body {
            sha256: Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into()),
            ..Body::default()
        },
        extra: Extra::new(),
    }
}

fn response(body: &Bytes) -> Response {
    Response {
        status: 200,
        reason: "OK".into(),
        http_version: "HTTP/1.1".into(),
        headers: Headers::from(vec![
            ("content-type", "application/json"),
            ("content-length", "1024"),
            ("date", "Sun, 22 Nov 2026 02:54:32 GMT"),
        ]),
        body: Body {
            raw: body.clone(),
            size: body.len() as u64,
            sha256: Some("0b8ab3bd1de2ab2f46d81d0dea6a2c70e0d55dd1b46e0ad0e4e0c2ae5b1b6f0a".into()),
            ..Body::default()
        },
        extra: Extra::new(),
    }
}

/// The two events of flow `id`, as the proxy sends them (each body copied on the connection's
/// thread, so each flow owns its bytes).
fn events(id: u64, body: &[u8], tx: &UnboundedSender<FlowEvent>) {
    let body = Bytes::copy_from_slice(body);
    tx.send(FlowEvent::Request {
        id: FlowId(id),
        client_addr: Some("127.0.0.1:41502".parse().unwrap()),
        at: SystemTime::now(),
        request: request(),
    })
    .unwrap();
    tx.send(FlowEvent::Response {
        id: FlowId(id),
        response: response(&body),
        timings: Timings {
            total: Some(0.4),
            ..Timings::default()
        },
    })
    .unwrap();
}

/// The consumer that copies every event for the recorder: the recorder applies the copy, and
/// the UI gets the original after the batch's commit.
fn copy_per_event(
    events: &mut UnboundedReceiver<FlowEvent>,
    recorder: &mut FileRecorder,
    to_ui: &UnboundedSender<FlowEvent>,
) {
    while let Ok(first) = events.try_recv() {
        let mut batch = vec![first];
        while batch.len() < live::BATCH {
            let Ok(ev) = events.try_recv() else { break };
            batch.push(ev);
        }
        for ev in &batch {
            recorder.apply_staged(ev.clone()).unwrap();
        }
        recorder.commit().unwrap();
        for ev in batch {
            let _ = to_ui.send(ev);
        }
    }
}

fn pipeline(events: &mut UnboundedReceiver<FlowEvent>, pipeline: &mut Pipeline) {
    while let Ok(first) = events.try_recv() {
        pipeline.apply_queued(first, events).unwrap();
    }
}

/// CPU time of this thread, in µs (`/proc/thread-self/schedstat`: nanoseconds on a CPU).
fn cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let ns: f64 = stat.split_whitespace().next().unwrap().parse().unwrap();
    ns / 1000.0
}

#[derive(Clone, Copy, PartialEq)]
enum Consumer {
    Pipeline,
    CopyPerEvent,
}

/// One round: `flows` flows through the consumer into a store. Returns (cpu µs, wall µs) per
/// flow, and the flows the store and the file got.
fn round(consumer: Consumer, har: Option<&std::path::Path>, flows: u64, body: &[u8]) -> (f64, f64) {
    let writer = har.map(|p| HarWriter::create_or_overwrite(p).unwrap());
    let (tx, mut rx) = unbounded_channel();
    let (to_ui, mut from_pump) = unbounded_channel();
    let mut store = FlowStore::new(MAX_FLOWS);
    let mut recorder = Some(Recorder::new(writer));
    let mut pipe = None;
    if consumer == Consumer::Pipeline {
        pipe = Some(Pipeline::new(recorder.take().unwrap()).showing(to_ui.clone()));
    }
    let (mut cpu, mut wall) = (0.0, 0.0);
    let mut id = 0;
    while id < flows {
        let n = (flows - id).min(CHUNK as u64);
        for i in id..id + n {
            events(i, body, &tx);
        }
        id += n;
        let (c0, t0) = (cpu_us(), Instant::now());
        match (&mut pipe, &mut recorder) {
            (Some(p), _) => pipeline(&mut rx, p),
            (None, Some(r)) => copy_per_event(&mut rx, r, &to_ui),
            _ => unreachable!(),
        }
        while let Ok(ev) = from_pump.try_recv() {
            std::hint::black_box(store.apply(ev));
        }
        wall += t0.elapsed().as_secs_f64() * 1e6;
        cpu += cpu_us() - c0;
    }
    let recorder = match pipe {
        Some(p) => p.into_recorder(),
        None => recorder.unwrap(),
    };
    // Without a file the pipeline leaves the pairing to the store: its recorder sees nothing.
    let paired = if har.is_none() && consumer == Consumer::Pipeline {
        0
    } else {
        flows
    };
    assert_eq!(recorder.written(), paired);
    assert_eq!(store.len(), MAX_FLOWS.min(flows as usize));
    assert_eq!(store.in_flight_count(), 0);
    let (_, writer) = recorder.close().unwrap();
    if let Some(w) = writer {
        w.finish().unwrap();
    }
    (cpu / flows as f64, wall / flows as f64)
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let flows = args.first().copied().unwrap_or(100_000);
    let rounds = args.get(1).copied().unwrap_or(5);
    let body = vec![b'x'; 1024];
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("live.har");
    println!("{flows} flows per round, best of {rounds} rounds; store cap {MAX_FLOWS}");
    println!("| consumer | recording | CPU µs/flow | wall µs/flow |");
    println!("|---|---|---|---|");
    let consumers = [
        ("copy per event", Consumer::CopyPerEvent),
        ("pipeline", Consumer::Pipeline),
    ];
    for (rec_name, file) in [("none", None), ("HAR file", Some(har.as_path()))] {
        // The consumers take turns within each round, so that the machine's drift reaches both.
        let mut best = [(f64::MAX, f64::MAX); 2];
        for r in 0..rounds {
            for i in 0..consumers.len() {
                // Every other round the other consumer goes first.
                let k = if r % 2 == 0 {
                    i
                } else {
                    consumers.len() - 1 - i
                };
                let (c, w) = round(consumers[k].1, file, flows, &body);
                best[k] = (best[k].0.min(c), best[k].1.min(w));
            }
        }
        for (k, (name, _)) in consumers.iter().enumerate() {
            println!(
                "| {name} | {rec_name} | {:.2} | {:.2} |",
                best[k].0, best[k].1
            );
        }
    }
}
