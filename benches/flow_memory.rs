//! Memory held per captured flow: builds 100,000 realistic [`Flow`]s — an OAuth token
//! request and its response as the proxy records them (MSAL-like request headers, Entra-like
//! response headers with cookies, a 1 KiB form body and a 1 KiB JSON body, each with the SHA-256
//! the proxy adds, timings, client address) — holds them in a `Vec<Flow>` (the type the TUI's
//! flow store holds), and reads the process RSS before and after from `/proc/self/status`. Prints
//! bytes per flow against the budget in `benches/README.md`: 1.5 × body bytes + 2 KiB per flow. Also prints
//! what the flows ask the allocator for (capacities, summed), so the gap between the two is
//! allocator overhead rather than guesswork.
//!
//! `cargo bench --bench flow_memory [-- --flows N]` (Linux; the numbers are for the notes, the
//! benchmark fails on nothing).

// A benchmark binary: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::mem::size_of;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use idscope::flow::{Body, Extra, Flow, FlowId, Headers, Outcome, Request, Response, Timings};

const DEFAULT_FLOWS: usize = 100_000;
const BODY_LEN: usize = 1024;

/// Resident set size in bytes (`VmRSS` of `/proc/self/status`).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

/// `len` bytes of `alphabet`, varied by `seed` so no two flows share a body.
fn filler(len: usize, seed: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|i| char::from(A[(i * 7 + seed * 13 + i / 64) % A.len()]))
        .collect()
}

fn sha_hex(seed: usize) -> String {
    format!(
        "{:064x}",
        (seed as u128) * 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835
    )
}

fn guid(seed: usize) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        seed,
        seed % 0xffff,
        seed % 0xfff,
        (seed * 7) % 0xfff,
        seed * 31
    )
}

fn h(pairs: &[(&str, String)]) -> Headers {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_string(), v.clone()))
        .collect()
}

/// A body as the proxy records it: the bytes (one exact-size allocation, as the proxy's body tap
/// builds when it joins chunks) plus the SHA-256 of the whole body.
fn body(text: &str, seed: usize) -> Body {
    let mut b = Body::plain(Bytes::copy_from_slice(text.as_bytes()));
    b.sha256 = Some(sha_hex(seed));
    b
}

/// One token request and its response, `BODY_LEN` bytes of body each way.
fn token_flow(n: usize) -> Flow {
    let tenant = guid(n / 1000);
    let corr = guid(n);
    let url = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
    let form_head = format!(
        "client_id={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+offline_access\
         &grant_type=authorization_code&redirect_uri=http%3A%2F%2Flocalhost%3A53117\
         &client_info=1&code_verifier={}&code=",
        guid(7),
        filler(43, n)
    );
    let form = format!("{form_head}{}", filler(BODY_LEN - form_head.len(), n + 1));
    let request = Request {
        method: "POST".into(),
        url,
        http_version: "HTTP/1.1".into(),
        headers: h(&[
            ("host", "login.microsoftonline.com".into()),
            ("user-agent", "python-requests/2.32.3".into()),
            ("accept-encoding", "gzip, deflate".into()),
            ("accept", "*/*".into()),
            ("connection", "keep-alive".into()),
            ("x-client-sku", "MSAL.Python".into()),
            ("x-client-ver", "1.31.0".into()),
            ("x-client-os", "linux".into()),
            ("x-ms-lib-capability", "retry-after, h429".into()),
            ("x-client-current-telemetry", "4|84,3|".into()),
            ("x-client-last-telemetry", "4|0|||".into()),
            ("client-request-id", corr.clone()),
            ("x-app-name", "idscope-bench".into()),
            ("content-type", "application/x-www-form-urlencoded".into()),
            ("content-length", BODY_LEN.to_string()),
        ]),
        body: body(&form, 2 * n),
        extra: Extra::new(),
    };
    let json_head = r#"{"token_type":"Bearer","scope":"https://graph.microsoft.com/.default","expires_in":4868,"ext_expires_in":4868,"access_token":""#;
    let json_tail = r#""}"#;
    let json = format!(
        "{json_head}{}{json_tail}",
        filler(BODY_LEN - json_head.len() - json_tail.len(), n + 2)
    );
    let response = Response {
        status: 200,
        reason: "OK".into(),
        http_version: "HTTP/1.1".into(),
        headers: h(&[
            ("cache-control", "no-store, no-cache".into()),
            ("pragma", "no-cache".into()),
            ("content-type", "application/json; charset=utf-8".into()),
            ("expires", "-1".into()),
            (
                "strict-transport-security",
                "max-age=31536000; includeSubDomains".into(),
            ),
            ("x-content-type-options", "nosniff".into()),
            ("p3p", "CP=\"DSP CUR OTPi IND OTRi ONL FIN\"".into()),
            ("client-request-id", corr),
            ("x-ms-request-id", guid(n + 3)),
            ("x-ms-ests-server", "2.1.19387.4 - WUS3 ProdSlices".into()),
            ("x-ms-clitelem", "1,0,0,,".into()),
            ("x-xss-protection", "0".into()),
            (
                "set-cookie",
                format!(
                    "fpc={}; expires=Sat, 14-Dec-2026 10:00:00 GMT; path=/; secure; HttpOnly; SameSite=None",
                    filler(60, n + 4)
                ),
            ),
            (
                "set-cookie",
                "x-ms-gateway-slice=estsfd; path=/; secure; samesite=none; httponly".into(),
            ),
            (
                "set-cookie",
                "stsservicecookie=estsfd; path=/; secure; samesite=none; httponly".into(),
            ),
            ("date", "Thu, 14 Nov 2026 10:00:00 GMT".into()),
            ("content-length", BODY_LEN.to_string()),
        ]),
        body: body(&json, 2 * n + 1),
        extra: Extra::new(),
    };
    Flow {
        id: FlowId(n as u64),
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + n as u64),
        client_addr: Some(SocketAddr::from((
            [127, 0, 0, 1],
            40_000 + (n % 20_000) as u16,
        ))),
        server_addr: None,
        request,
        outcome: Outcome::Response(response),
        timings: Timings {
            total: Some(12.5),
            wait: Some(11.0),
            ..Timings::default()
        },
        tags: vec![],
        comment: None,
        marked: false,
        extra: Extra::new(),
    }
}

/// What one flow asks the allocator for, by part (heap capacities; the `Vec` slot counted
/// separately).
#[derive(Default, Debug)]
struct Parts {
    bodies: usize,
    header_strings: usize,
    header_vecs: usize,
    other_strings: usize,
    allocations: usize,
}

fn headers_parts(p: &mut Parts, hs: &Headers) {
    // One text buffer (names and values) plus one offset table per header list.
    let text: usize = hs.iter().map(|(n, v)| n.len() + v.len()).sum();
    p.header_strings += text;
    p.header_vecs += hs.heap_bytes() - text;
    p.allocations += 2;
}

fn body_parts(p: &mut Parts, b: &Body) {
    p.bodies += b.raw.len();
    p.allocations += 1;
    if let Some(s) = &b.sha256 {
        p.other_strings += s.capacity();
        p.allocations += 1;
    }
}

fn parts(f: &Flow) -> Parts {
    let mut p = Parts::default();
    let r = &f.request;
    p.other_strings += r.method.capacity() + r.url.capacity() + r.http_version.capacity();
    p.allocations += 3;
    headers_parts(&mut p, &r.headers);
    body_parts(&mut p, &r.body);
    if let Outcome::Response(res) = &f.outcome {
        p.other_strings += res.reason.capacity() + res.http_version.capacity();
        p.allocations += 2;
        headers_parts(&mut p, &res.headers);
        body_parts(&mut p, &res.body);
    }
    p
}

fn main() {
    let mut flows_n = DEFAULT_FLOWS;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--flows" {
            flows_n = args.next().and_then(|v| v.parse().ok()).expect("--flows N");
        }
        // cargo bench passes `--bench`; anything else is ignored.
    }

    let sample = token_flow(1);
    let p = parts(&sample);
    let body_bytes =
        sample.request.body.raw.len() + sample.response().map_or(0, |r| r.body.raw.len());
    let budget = 1.5 * body_bytes as f64 + 2048.0;

    let before = rss();
    let mut store: Vec<Flow> = Vec::new();
    for n in 0..flows_n {
        store.push(token_flow(n));
    }
    let after = rss();
    black_box(&store);
    let per_flow = (after.saturating_sub(before)) as f64 / flows_n as f64;
    let slot = size_of::<Flow>();
    let requested = slot + p.bodies + p.header_strings + p.header_vecs + p.other_strings;

    println!(
        "flows held:                 {flows_n} in a Vec<Flow> (capacity {})",
        store.capacity()
    );
    println!("body bytes per flow:        {body_bytes} (request {BODY_LEN} + response {BODY_LEN})");
    println!(
        "RSS before / after:         {:.1} MiB / {:.1} MiB",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    println!();
    println!("{:<34} {:>10}", "per flow", "bytes");
    println!("{:<34} {:>10.0}", "RSS delta", per_flow);
    println!("{:<34} {:>10.0}", "budget (1.5 × body + 2048)", budget);
    println!("{:<34} {:>10.2}", "RSS delta / budget", per_flow / budget);
    println!();
    println!(
        "asked of the allocator (one flow; {} allocations):",
        p.allocations
    );
    println!("{:<34} {:>10}", "  Vec slot (size_of::<Flow>)", slot);
    println!("{:<34} {:>10}", "  body bytes", p.bodies);
    println!(
        "{:<34} {:>10}",
        "  header names and values", p.header_strings
    );
    println!(
        "{:<34} {:>10}",
        "  header offsets (and text slack)", p.header_vecs
    );
    println!(
        "{:<34} {:>10}",
        "  URL, method, version, sha256", p.other_strings
    );
    println!("{:<34} {:>10}", "  total", requested);
    println!(
        "{:<34} {:>10.0}",
        "  RSS delta − total (overhead)",
        per_flow - requested as f64
    );
    println!(
        "\n{}",
        if per_flow <= budget {
            "within budget"
        } else {
            "OVER BUDGET"
        }
    );
}
