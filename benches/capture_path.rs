//! The per-flow work of the proxy's capture path that runs off the forwarding path:
//! the decode behind the printed flow line, the HAR entry, and the group-committed write, for
//! the flow `benches/proxy_bench.py` sends (a GET answered by a 1 KiB token-shaped JSON body, with
//! the headers oha and the origin send). The baseline, in the same process and run, is
//! `serde_json::from_slice::<Value>` of the same body: the least any JSON-aware recorder does.
//!
//! `cargo bench --bench capture_path [-- --iterations N]` (plain main, no bench framework; the
//! numbers are for the notes, nothing fails on them).

// A benchmark binary: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use idscope::capture::HarWriter;
use idscope::capture::har_entry::write_entry;
use idscope::commands::proxy::flow_line;
use idscope::flow::{Body, Extra, Flow, FlowId, Headers, Outcome, Request, Response, Timings};
use idscope_decoders::{Registry, Trust};

/// The origin's body (examples/bench_origin.rs): a token response padded to 1 KiB.
fn body() -> Vec<u8> {
    let head = r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":""#;
    let tail = r#""}"#;
    let pad = 1024 - head.len() - tail.len();
    let token: String = (0..pad)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]))
        .collect();
    format!("{head}{token}{tail}").into_bytes()
}

fn flow(body: &[u8]) -> Flow {
    // The hex SHA-256 the proxy's body tap records.
    let sha = |b: &[u8]| {
        use sha2::Digest as _;
        Some(
            sha2::Sha256::digest(b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>(),
        )
    };
    Flow {
        id: FlowId(1),
        started_at: SystemTime::now(),
        client_addr: Some("127.0.0.1:41502".parse().unwrap()),
        server_addr: None,
        request: Request {
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
                sha256: sha(b""),
                ..Body::default()
            },
            extra: Extra::new(),
        },
        outcome: Outcome::Response(Response {
            status: 200,
            reason: "OK".into(),
            http_version: "HTTP/1.1".into(),
            headers: Headers::from(vec![
                ("content-type", "application/json"),
                ("content-length", "1024"),
                ("date", "Sun, 22 Nov 2026 02:54:32 GMT"),
            ]),
            body: Body {
                raw: Bytes::copy_from_slice(body),
                size: body.len() as u64,
                sha256: sha(body),
                ..Body::default()
            },
            extra: Extra::new(),
        }),
        timings: Timings {
            total: Some(1.07),
            wait: Some(1.06),
            receive: Some(0.01),
            ..Timings::default()
        },
        tags: vec![],
        comment: None,
        marked: false,
        extra: Extra::new(),
    }
}

/// Mean time per call of `f` over `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

fn main() {
    let mut n: u32 = 200_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--iterations" {
            n = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--iterations N");
        }
    }
    let body = body();
    let f = flow(&body);
    let (registry, trust) = (Registry::builtin(), Trust::default());
    println!("{}", flow_line(&f, registry, &trust));

    let baseline = per_call(n, || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap());
    });
    let line = per_call(n, || {
        black_box(flow_line(black_box(&f), registry, &trust));
    });
    let mut buf = Vec::with_capacity(4096);
    let entry = per_call(n, || {
        buf.clear();
        write_entry(&mut buf, black_box(&f));
        black_box(&buf);
    });
    let dir = tempfile::tempdir().unwrap();
    let mut w = HarWriter::create(&dir.path().join("bench.har")).unwrap();
    // Batches of 32 flows, as the headless loop commits what finished together.
    let staged = per_call(n, || {
        w.stage_flow(black_box(&f));
        if w.entries().is_multiple_of(32) {
            w.commit().unwrap();
        }
    });
    w.finish().unwrap();

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("\n{n} iterations, 1 KiB token-shaped JSON response\n");
    println!("{:<48} {:>9} {:>12}", "work per flow", "µs", "× baseline");
    for (what, d) in [
        ("baseline: serde_json::from_slice::<Value>", baseline),
        ("flow line (summary-only decode + format)", line),
        ("HAR entry (write_entry into a buffer)", entry),
        ("HAR entry staged + group commit (32 per write)", staged),
    ] {
        println!("{what:<48} {:>9.2} {:>11.1}x", us(d), us(d) / us(baseline));
    }
}
