//! The proxy engine: client connections, CONNECT with TLS interception, forwarding, WebSocket
//! relaying, and turning each exchange into [`FlowEvent`]s.
//!
//! Shaped after hudsucker's `InternalProxy` (one hyper service per client connection; CONNECT is
//! upgraded, the first bytes are peeked, TLS is accepted lazily so the ClientHello's SNI picks the
//! leaf, and the decrypted stream is served by the same service). It is our own rather than
//! hudsucker's because hudsucker 0.25 exposes no hook for what security.md §2 requires here: a
//! timeout on the TLS handshake and on idle tunnels, `--map` for tunnelled hosts, refusing a CONNECT
//! aimed at ourselves before upgrading, and tying WebSocket messages to their flow.
//!
//! Hot-path rules (style.md): nothing here panics or blocks on the event consumer (the channel is
//! unbounded and a failed send is dropped with a `debug!`), bodies stream through while a tap
//! keeps up to `max_body` bytes plus the size and SHA-256 of the whole body, and every flow ends in
//! exactly one `Response` or `Error` event, including at shutdown (`incomplete`).
//!
//! This module holds what every exchange shares (the settings, the per-connection service and
//! its dispatch, header helpers); the concerns are split below it: the in-flight flows and
//! their event sequencing (`inflight`), body taps (`tap`), the connection stream wrappers
//! (`streams`), CONNECT and TLS interception (`connect`), a client refusing the interception
//! certificate (`refusal`), forwarding (`forward`) and WebSocket relaying (`websocket`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use regex::RegexSet;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::debug;

use super::ca::Authority as LeafAuthority;
use super::upstream::{Failure, Timed, Upstream, UpstreamError, describe};
use crate::flow::{self, FlowError, FlowEvent, FlowId, Timings};

mod connect;
mod forward;
mod inflight;
mod refusal;
mod streams;
mod tap;
mod websocket;

use connect::connect;
use forward::{failure_response, forward};
pub(crate) use inflight::{Flows, stopped};
use inflight::{Slot, ms};
pub(crate) use refusal::Limiter as RefusalLimiter;
use streams::{Activity, Rewind, Watched};
use tap::{OnEnd, Recording, Tap, hex};
use websocket::websocket;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type on both sides of the engine.
pub(crate) type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;
pub(crate) type UpstreamClient = Client<Timed<hyper_rustls::HttpsConnector<Upstream>>, ProxyBody>;

/// Message recorded for flows still in flight when the proxy stops.
pub(crate) const INCOMPLETE_MESSAGE: &str = "idscope stopped while the exchange was in flight";

/// Settings the engine reads on every request.
#[derive(Debug)]
pub(crate) struct Settings {
    pub max_body: usize,
    pub ignore: RegexSet,
    /// The exact `Proxy-Authorization` value required, when proxy auth is on.
    pub auth: Option<Vec<u8>>,
    pub passthrough: bool,
    pub tls_handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
}

/// Everything connection tasks share.
pub(crate) struct Shared {
    pub settings: Settings,
    pub ca: Arc<LeafAuthority>,
    pub client: UpstreamClient,
    pub upstream: Upstream,
    /// The client certificates for origins, and what each origin asked for.
    pub client_certs: Arc<super::client_cert::ClientCerts>,
    pub ws_tls: Arc<rustls::ClientConfig>,
    pub server: auto::Builder<TokioExecutor>,
    pub flows: Arc<Flows>,
    /// The per-host limit on certificate-refusal flows.
    pub refusals: RefusalLimiter,
    pub shutdown: watch::Receiver<bool>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn text_response(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut r = Response::new(full(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Starts recording a flow whose request has no body (a CONNECT tunnel, a WebSocket upgrade),
/// unless the proxy only passes traffic through or the flow table is full.
fn begin_bodyless<B>(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    req: &Request<B>,
    method: &str,
    url: String,
) -> Option<Arc<inflight::Slot>> {
    if shared.settings.passthrough {
        return None;
    }
    let slot = shared.flows.begin(ctx.client_addr)?;
    slot.request(flow::Request {
        method: method.into(),
        url,
        http_version: version_str(req.version()).into(),
        headers: record_headers(req.headers()),
        body: flow::Body::default(),
        extra: flow::Extra::new(),
    });
    Some(slot)
}

/// True when a request is forwarded without being recorded: everything under `--passthrough`,
/// and a plain-HTTP proxy request (not inside a CONNECT) to a host `--ignore-host` matches, on
/// its host or its `host:port` (as CONNECT targets are matched).
fn unrecorded(shared: &Shared, ctx: &Ctx, uri: &Uri) -> bool {
    if shared.settings.passthrough {
        return true;
    }
    let ignore = &shared.settings.ignore;
    if ignore.is_empty() || ctx.tunnel.is_some() {
        return false;
    }
    let Some(authority) = uri.authority() else {
        return false;
    };
    let default = if uri.scheme() == Some(&Scheme::HTTPS) {
        443
    } else {
        80
    };
    let (host, port) = host_port(authority, default);
    ignore.is_match(&host) || ignore.is_match(&format!("{host}:{port}"))
}

fn version_str(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The headers as recorded: one exact-size allocation for the text (see [`flow::Headers`]).
fn record_headers(h: &HeaderMap) -> flow::Headers {
    let kept = || h.iter().filter(|(n, _)| *n != header::PROXY_AUTHORIZATION);
    let (count, bytes) = kept().fold((0, 0), |(c, b), (n, v)| {
        (c + 1, b + n.as_str().len() + v.len())
    });
    let mut out = flow::Headers::with_capacity(count, bytes);
    for (n, v) in kept() {
        match v.to_str() {
            Ok(v) => out.push_str(n.as_str(), v),
            // Not visible ASCII: kept as text, invalid UTF-8 replaced.
            Err(_) => out.push_str(n.as_str(), &String::from_utf8_lossy(v.as_bytes())),
        }
    }
    out
}

fn encoding_of(h: &HeaderMap) -> Option<String> {
    h.get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("identity"))
        .map(str::to_string)
}

/// The hop-by-hop headers of RFC 9110 §7.6.1 plus the proxy-specific ones, and every header the
/// `Connection` header names.
pub fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        h.remove(n);
    }
}

/// HTTP/2 may split cookies over several headers; HTTP/1.1 allows one.
fn join_cookies(h: &mut HeaderMap) {
    if h.get_all(header::COOKIE).iter().count() > 1 {
        let joined: Vec<&[u8]> = h
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        if let Ok(v) = HeaderValue::from_bytes(&joined.join(&b"; "[..])) {
            h.insert(header::COOKIE, v);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

#[derive(Clone)]
struct Ctx {
    client_addr: SocketAddr,
    activity: Arc<Activity>,
    /// For requests inside an intercepted CONNECT: the scheme and the CONNECT target.
    tunnel: Option<(Scheme, Authority)>,
    /// The certificate the client offered in the intercepted TLS handshake, as recorded.
    offered: Option<Arc<Value>>,
}

/// Serves one accepted client connection until it ends, idles out or the proxy stops.
pub(crate) async fn serve_client(shared: Arc<Shared>, tcp: TcpStream, client_addr: SocketAddr) {
    let _ = tcp.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: tcp,
        activity: Arc::clone(&activity),
    });
    let ctx = Ctx {
        client_addr,
        activity: Arc::clone(&activity),
        tunnel: None,
        offered: None,
    };
    let shutdown = shared.shutdown.clone();
    let idle = shared.settings.idle_timeout;
    let svc_shared = Arc::clone(&shared);
    let svc = service_fn(move |req| {
        let shared = Arc::clone(&svc_shared);
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(&shared, &ctx, req).await) }
    });
    let conn = shared.server.serve_connection_with_upgrades(io, svc);
    tokio::select! {
        r = conn => if let Err(e) = r { debug!(error = %e, %client_addr, "client connection ended") },
        () = activity.idle(idle) => debug!(%client_addr, "idle timeout"),
        () = stopped(shutdown.clone()) => {}
    }
}

async fn handle(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    mut req: Request<Incoming>,
) -> Response<ProxyBody> {
    match &ctx.tunnel {
        None => {
            if let Some(expected) = &shared.settings.auth {
                let ok = req
                    .headers()
                    .get(header::PROXY_AUTHORIZATION)
                    .is_some_and(|v| {
                        aws_lc_rs::constant_time::verify_slices_are_equal(v.as_bytes(), expected)
                            .is_ok()
                    });
                if !ok {
                    let mut r = text_response(
                        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                        "idscope: proxy authentication required\n".into(),
                    );
                    r.headers_mut().insert(
                        header::PROXY_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"idscope\""),
                    );
                    return r;
                }
            }
            if req.method() == Method::CONNECT {
                // Boxed for the same reason as the WebSocket relay below: once per tunnel.
                return Box::pin(connect(shared, ctx, req)).await;
            }
            if req.uri().authority().is_none() {
                // Origin-form on the proxy listener: the request is aimed at the proxy itself.
                return text_response(
                    StatusCode::FORBIDDEN,
                    "idscope: this is a proxy listener; requests aimed at the proxy itself are \
                     refused\n"
                        .into(),
                );
            }
        }
        Some((scheme, authority)) => {
            // HTTP/1 inside a tunnel uses origin-form: complete the URI from the CONNECT target
            // (HTTP/2 requests carry :scheme and :authority already).
            if req.uri().authority().is_none() || req.uri().scheme().is_none() {
                let mut parts = req.uri().clone().into_parts();
                parts.scheme = Some(scheme.clone());
                parts.authority = Some(authority.clone());
                if parts.path_and_query.is_none() {
                    parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
                }
                match Uri::from_parts(parts) {
                    Ok(u) => *req.uri_mut() = u,
                    Err(e) => {
                        return text_response(
                            StatusCode::BAD_REQUEST,
                            format!("idscope: bad request URI: {e}\n"),
                        );
                    }
                }
            }
        }
    }
    if is_websocket_upgrade(&req) {
        // Boxed: the WebSocket relay's state is about 10 KB, and an unboxed await would make
        // every request's future that large, to be copied on each move (hyper moves it into
        // its dispatcher), although almost no request is an upgrade.
        return Box::pin(websocket(shared, ctx, req)).await;
    }
    forward(shared, ctx, req).await
}

fn is_websocket_upgrade<B>(req: &Request<B>) -> bool {
    let has = |name: HeaderName, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    req.method() == Method::GET
        && req.version() <= Version::HTTP_11
        && has(header::CONNECTION, "upgrade")
        && has(header::UPGRADE, "websocket")
}

fn host_port(authority: &Authority, default: u16) -> (String, u16) {
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    (host, authority.port_u16().unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::tap::EMPTY_SHA256;
    use super::*;

    /// The size of the future an async fn returns, read from the fn item without calling it.
    fn future_size<A, B, C, F>(_f: fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    #[test]
    fn a_request_future_is_small_although_the_websocket_relay_is_large() {
        type S = &'static Arc<Shared>;
        type C = &'static Ctx;
        type R = Request<Incoming>;
        let handle = future_size::<S, C, R, _>(handle);
        let forward = future_size::<S, C, R, _>(forward);
        let websocket = future_size::<S, C, R, _>(websocket);
        // Every request's future is moved into hyper's dispatcher: it must not carry the rare
        // paths' state (boxed in `handle`), only about what forwarding needs.
        assert!(
            websocket > 4 * forward,
            "websocket {websocket}, forward {forward}"
        );
        assert!(handle < 2 * forward, "handle {handle}, forward {forward}");
    }

    #[test]
    fn the_empty_body_constant_is_the_hash_of_nothing() {
        assert_eq!(EMPTY_SHA256, hex(&Sha256::digest(b"")));
        let tap = Tap::new(16, None, Box::new(|_| {}));
        assert_eq!(tap.body().0.sha256.as_deref(), Some(EMPTY_SHA256));
        let mut tap = Tap::new(16, None, Box::new(|_| {}));
        tap.feed(&Bytes::from_static(b"abc"));
        assert_eq!(
            tap.body().0.sha256,
            Some(hex(&Sha256::digest(b"abc"))),
            "a body that is not empty is hashed"
        );
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_stripped() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, X-Secret-Hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            "proxy-authorization",
            HeaderValue::from_static("Basic eA=="),
        );
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("accept"));
    }

    #[test]
    fn tap_keeps_the_cap_and_hashes_everything() {
        let got = Arc::new(Mutex::new(None));
        let g = Arc::clone(&got);
        let mut tap = Tap::new(
            4,
            None,
            Box::new(move |r| {
                *g.lock().unwrap() = Some(r);
            }),
        );
        tap.feed(&Bytes::from_static(b"abc"));
        tap.feed(&Bytes::from_static(b"defg"));
        tap.finish(Ok(()));
        let body = got.lock().unwrap().take().unwrap().unwrap();
        assert_eq!(&body.raw[..], b"abcd");
        assert!(body.truncated);
        assert_eq!(body.size, 7);
        assert_eq!(body.sha256.unwrap(), hex(&Sha256::digest(b"abcdefg")));
        // Under the cap, every chunk is kept, in order, and nothing is marked cut.
        let mut tap = Tap::new(16, Some("gzip".into()), |_| {});
        for chunk in [&b"abc"[..], b"", b"defg", b"h"] {
            tap.feed(&Bytes::copy_from_slice(chunk));
        }
        let (body, _) = tap.body();
        assert_eq!(&body.raw[..], b"abcdefgh");
        assert!(!body.truncated);
        assert_eq!((body.size, body.encoding.as_deref()), (8, Some("gzip")));
        // Exactly at the cap is not cut either.
        let mut tap = Tap::new(4, None, |_| {});
        tap.feed(&Bytes::from_static(b"abcd"));
        assert!(!tap.body().0.truncated);
    }

    #[test]
    fn a_flow_gets_one_final_event_even_when_shutdown_races_it() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let flows = Arc::new(Flows::new(tx));
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let a = flows.begin(addr).unwrap();
        let b = flows.begin(addr).unwrap();
        a.request(crate::flow::testing::request("GET", "http://a/"));
        // b's request body is still streaming: its final event waits for the request.
        b.fail("boom".into());
        assert_eq!(flows.in_flight(), 1);
        flows.abort_all();
        a.fail("late".into());
        b.request(crate::flow::testing::request("POST", "http://b/"));
        assert!(flows.begin(addr).is_none(), "no new flows after shutdown");
        let mut seen = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            seen.push(match ev {
                FlowEvent::Request { id, .. } => format!("req {}", id.0),
                FlowEvent::Response { id, .. } => format!("res {}", id.0),
                FlowEvent::Error { id, error } => {
                    format!("err {} {}", id.0, error.incomplete)
                }
            });
        }
        assert_eq!(seen, ["req 0", "err 0 true", "req 1", "err 1 false"]);
    }
}
