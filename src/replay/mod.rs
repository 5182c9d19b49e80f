//! Single-flow replay: send one recorded request again, exactly as captured (method, URL,
//! headers, body bytes), to the same origin it was recorded against, and record the answer as a
//! new [`Flow`] tagged `replay-of:#N`. Recorded credentials (cookies, `Authorization`) are sent
//! only because the target is the request's own URL: this function has no way to send them
//! anywhere else. Redirects are not followed and content-encoding is kept on the wire bytes, so
//! the new flow is what the server said.
//!
//! Whole sequences (`idscope replay FILE --to …`, the TUI's `R`) are [`sequence`]: plan, route
//! under the credential rule, refresh credentials ([`correlate`]) and compare answers on the
//! decoded trees ([`crate::analysis::compare`]).

pub mod correlate;
pub mod sequence;

use std::time::{Duration, Instant, SystemTime};

use crate::flow::{
    Body, Extra, Flow, FlowError, FlowId, Headers, Outcome, Response, Timings, header,
};

/// How long a replayed request may take before it is recorded as an error.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Headers that describe one hop or the framing of the original body; the client recomputes them.
pub(crate) const HOP_BY_HOP: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// A client for replays: no redirects, no automatic decompression, webpki roots plus any extra
/// roots (PEM or DER certificates, e.g. the reference server's CA).
pub fn client(extra_roots: &[Vec<u8>]) -> anyhow::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .timeout(DEFAULT_TIMEOUT);
    for root in extra_roots {
        let cert = reqwest::Certificate::from_pem(root)
            .or_else(|_| reqwest::Certificate::from_der(root))?;
        b = b.add_root_certificate(cert);
    }
    Ok(b.build()?)
}

/// Sends `original`'s request again and returns the new flow with id `id`, started at `at`
/// (the caller's clock), tagged `replay` and `replay-of:#N`. Failures become an error outcome,
/// never an `Err`: a replay that fails is still something to look at.
pub async fn replay(client: &reqwest::Client, original: &Flow, id: FlowId, at: SystemTime) -> Flow {
    let req = &original.request;
    let mut flow = Flow {
        id,
        started_at: at,
        client_addr: None,
        server_addr: None,
        request: req.clone(),
        outcome: Outcome::Error(FlowError {
            message: String::new(),
            incomplete: false,
        }),
        timings: Timings::default(),
        tags: vec!["replay".into(), format!("replay-of:{}", original.id)],
        comment: None,
        marked: false,
        extra: Extra::new(),
    };
    let started = Instant::now();
    let result = send(client, original).await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    flow.timings.total = Some(elapsed);
    flow.outcome = match result {
        Ok(r) => Outcome::Response(r),
        Err(e) => Outcome::Error(FlowError {
            message: format!("replay failed: {e:#}"),
            incomplete: false,
        }),
    };
    flow
}

async fn send(client: &reqwest::Client, original: &Flow) -> anyhow::Result<Response> {
    let req = &original.request;
    let method = reqwest::Method::from_bytes(req.method.as_bytes())?;
    let mut builder = client.request(method, &req.url);
    for (n, v) in &req.headers {
        let lower = n.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&lower.as_str()) || lower.starts_with(':') {
            continue;
        }
        builder = builder.header(n, v);
    }
    // The recorded bytes still carry their Content-Encoding header, so they go out as they were.
    builder = builder.body(req.body.raw.to_vec());
    read_response(builder.send().await?).await
}

/// The flow model's [`Response`] for an answer: status, version, headers in order, and the body
/// bytes as they came (content-encoding kept, as the recording keeps it).
pub(crate) async fn read_response(resp: reqwest::Response) -> anyhow::Result<Response> {
    let status = resp.status();
    let http_version = format!("{:?}", resp.version());
    let headers: Headers = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), String::from_utf8_lossy(v.as_bytes())))
        .collect();
    let bytes = resp.bytes().await?;
    let body = match header(&headers, "content-encoding") {
        Some(enc) => Body::encoded(bytes, enc),
        None => Body::plain(bytes),
    };
    Ok(Response {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        http_version,
        headers,
        body,
        extra: Extra::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, request_with, response};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP/1.1 origin on 127.0.0.1 that returns the raw request it received as the
    /// body.
    async fn echo_origin() -> (String, tokio::task::JoinHandle<Vec<u8>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some(end) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let reply = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: text/plain\r\nx-origin: fixture\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                got.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            sock.write_all(&got).await.unwrap();
            got
        });
        (format!("http://{addr}"), task)
    }

    #[tokio::test]
    async fn replay_resends_the_recorded_request_and_tags_the_new_flow() {
        let (origin, server) = echo_origin().await;
        let mut req = request_with(
            "POST",
            &format!("{origin}/oauth2/token"),
            &[
                ("Host", "recorded.example"),
                ("Authorization", "Bearer abc"),
                ("Content-Length", "999"),
            ],
        );
        req.body = Body::plain(&b"grant_type=password"[..]);
        let original = flow(6, req, response(200, "text/plain", b""));
        let c = client(&[]).unwrap();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        let new = replay(&c, &original, FlowId(9), at).await;
        let sent = String::from_utf8(server.await.unwrap()).unwrap();
        assert!(
            sent.starts_with("POST /oauth2/token HTTP/1.1\r\n"),
            "{sent}"
        );
        assert!(sent.contains("authorization: Bearer abc"), "{sent}");
        assert!(sent.ends_with("grant_type=password"), "{sent}");
        assert!(
            !sent.contains("999"),
            "framing headers are recomputed: {sent}"
        );
        assert_eq!(new.id, FlowId(9));
        assert_eq!(new.started_at, at);
        assert_eq!(new.tags, vec!["replay", "replay-of:#7"]);
        let r = new.response().unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(header(&r.headers, "x-origin"), Some("fixture"));
        assert_eq!(r.body.raw.as_ref(), sent.as_bytes());
    }

    #[tokio::test]
    async fn an_unreachable_origin_becomes_an_error_flow() {
        // Bind then drop, so the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let original = flow(
            0,
            request("GET", &format!("http://127.0.0.1:{port}/")),
            response(200, "text/plain", b""),
        );
        let new = replay(
            &client(&[]).unwrap(),
            &original,
            FlowId(1),
            SystemTime::UNIX_EPOCH,
        )
        .await;
        let e = new.error().unwrap();
        assert!(e.message.starts_with("replay failed:"), "{}", e.message);
        assert!(new.tags.contains(&"replay-of:#1".to_string()));
    }
}
