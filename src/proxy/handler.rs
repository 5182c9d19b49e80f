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

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime};

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
    pub ws_tls: Arc<rustls::ClientConfig>,
    pub server: auto::Builder<TokioExecutor>,
    pub flows: Arc<Flows>,
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
// Flow bookkeeping

const SHARDS: usize = 16;

/// The in-flight flows, so that shutdown can end each with an `incomplete` error, and the event
/// channel. Sharded so concurrent connections rarely share a lock; keyed by our own sequential
/// ids, so hashed with FxHash (a multiply) rather than SipHash, which guards against keys an
/// attacker picks.
#[derive(Debug)]
pub(crate) struct Flows {
    events: mpsc::UnboundedSender<FlowEvent>,
    next_id: AtomicU64,
    shards: [Mutex<FxHashMap<u64, Arc<Slot>>>; SHARDS],
    closed: AtomicBool,
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

    fn send(&self, ev: FlowEvent) {
        // Never wait on the consumer: the channel is unbounded (memory is bounded by the body cap
        // and the consumer's own flow cap); if the consumer is gone the event is dropped.
        if self.events.send(ev).is_err() {
            debug!("flow event dropped: no consumer");
        }
    }

    fn shard(&self, id: u64) -> &Mutex<FxHashMap<u64, Arc<Slot>>> {
        // SHARDS is a power of two; the index is always in range.
        let i = (id as usize) % SHARDS;
        match self.shards.get(i) {
            Some(s) => s,
            None => &self.shards[0],
        }
    }

    /// Starts a flow; `None` once the proxy is shutting down.
    fn begin(self: &Arc<Self>, client_addr: SocketAddr) -> Option<Arc<Slot>> {
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

    fn remove(&self, id: FlowId) {
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
struct SlotState {
    request_sent: bool,
    done: bool,
    /// The request as known so far, while its (over-cap) body is still streaming.
    partial: Option<flow::Request>,
    /// A final event that arrived before the request event could be sent.
    held: Option<FlowEvent>,
}

/// One flow's event sequencing: `Request` first, then exactly one final event.
pub(crate) struct Slot {
    id: FlowId,
    client_addr: SocketAddr,
    at: SystemTime,
    started: Instant,
    flows: Arc<Flows>,
    state: Mutex<SlotState>,
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
    fn request_event(&self, request: flow::Request) -> FlowEvent {
        FlowEvent::Request {
            id: self.id,
            client_addr: Some(self.client_addr),
            at: self.at,
            request,
        }
    }

    /// Records the request as known before its body has ended (for shutdown).
    fn set_partial(&self, request: flow::Request) {
        if let Ok(mut st) = self.state.lock() {
            st.partial = Some(request);
        }
    }

    /// Sends the `Request` event (and a final event that was waiting for it).
    fn request(&self, request: flow::Request) {
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
    fn finish(&self, ev: FlowEvent) {
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

    fn fail(&self, message: String) {
        self.finish(FlowEvent::Error {
            id: self.id,
            error: FlowError {
                message,
                incomplete: false,
            },
        });
    }

    /// Shutdown: send what is known of the request, then an `incomplete` error.
    fn abort(&self) {
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

    fn elapsed_ms(&self) -> f64 {
        ms(self.started.elapsed())
    }
}

/// A duration in milliseconds, as HAR timings are.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// I/O helpers: activity tracking (idle timeout) and rewinding peeked bytes

fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Last I/O time and in-flight exchanges of one client connection (shared by everything that
/// runs over it: tunnels, TLS, WebSockets).
#[derive(Debug)]
pub(crate) struct Activity {
    last: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            last: AtomicU64::new(now_ms()),
            busy: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        self.last.store(now_ms(), Ordering::Relaxed);
    }

    fn busy(self: &Arc<Self>) -> BusyGuard {
        self.busy.fetch_add(1, Ordering::Relaxed);
        BusyGuard(Arc::clone(self))
    }

    /// Resolves once the connection has had no I/O and no exchange in flight for `idle`.
    async fn idle(&self, idle: Duration) {
        let step = (idle / 4).max(Duration::from_millis(50));
        loop {
            tokio::time::sleep(step).await;
            let quiet = now_ms().saturating_sub(self.last.load(Ordering::Relaxed));
            if self.busy.load(Ordering::Relaxed) == 0 && quiet >= idle.as_millis() as u64 {
                return;
            }
        }
    }
}

struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that records activity on every successful read or write.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(_)) = r {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(_)) = r {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A stream that first replays bytes already read from it (the peeked protocol prefix).
struct Rewind<T> {
    prefix: Bytes,
    inner: T,
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            let chunk = self.prefix.split_to(n);
            buf.put_slice(&chunk);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------------
// Body tap

/// What a [`Tap`] calls once, with the recorded body or the error that ended it. Generic, not a
/// boxed closure: the tap lives in the forwarding future or the response body, so the callback
/// costs no allocation of its own.
trait OnEnd: FnOnce(Result<flow::Body, String>) + Send + Unpin {}
impl<F: FnOnce(Result<flow::Body, String>) + Send + Unpin> OnEnd for F {}

/// Keeps up to `cap` bytes of a body and hashes all of it.
struct Tap<F> {
    /// The kept bytes, copied as they pass: hyper hands out body chunks as slices of its
    /// connection read buffer (8 KiB and up), and a retained slice would keep that whole buffer
    /// alive for as long as the flow is held. The copy is needed anyway, so it is made at once,
    /// with no list of chunks in between.
    kept: Vec<u8>,
    cap: usize,
    truncated: bool,
    size: u64,
    hasher: Sha256,
    encoding: Option<String>,
    on_end: F,
}

impl<F: OnEnd> Tap<F> {
    fn new(cap: usize, encoding: Option<String>, on_end: F) -> Self {
        Tap {
            kept: Vec::new(),
            cap,
            truncated: false,
            size: 0,
            hasher: Sha256::new(),
            encoding,
            on_end,
        }
    }

    fn feed(&mut self, data: &Bytes) {
        self.size += data.len() as u64;
        self.hasher.update(data);
        let room = self.cap - self.kept.len();
        let keep = data.len().min(room);
        self.kept
            .extend_from_slice(data.get(..keep).unwrap_or_default());
        if keep < data.len() {
            self.truncated = true;
        }
    }

    fn body(self) -> (flow::Body, F) {
        let mut kept = self.kept;
        // A body that came in several chunks may have left spare capacity: held flows keep
        // exactly their bytes (issue #5's memory budget).
        kept.shrink_to_fit();
        let body = flow::Body {
            raw: Bytes::from(kept),
            encoding: self.encoding,
            size: self.size,
            truncated: self.truncated,
            // Most requests have no body: the hash of nothing is a constant.
            sha256: Some(if self.size == 0 {
                EMPTY_SHA256.to_string()
            } else {
                hex(&self.hasher.finalize())
            }),
        };
        (body, self.on_end)
    }

    fn finish(self, result: Result<(), String>) {
        let (body, on_end) = self.body();
        on_end(result.map(|()| body));
    }
}

/// SHA-256 of the empty string.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// A body that streams `inner` through (after replaying `replay`) while a [`Tap`] records it;
/// the tap's callback runs exactly once: at the end, on an error, or when the body is dropped
/// unfinished (the peer went away).
struct Recording<B, F: OnEnd> {
    inner: B,
    replay: VecDeque<Bytes>,
    tap: Option<Tap<F>>,
}

impl<B, F: OnEnd> Recording<B, F>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    fn new(inner: B, replay: VecDeque<Bytes>, tap: Tap<F>) -> Self {
        let mut r = Recording {
            inner,
            replay,
            tap: Some(tap),
        };
        if r.replay.is_empty() && r.inner.is_end_stream() {
            r.end(Ok(()));
        }
        r
    }

    fn end(&mut self, result: Result<(), String>) {
        if let Some(tap) = self.tap.take() {
            tap.finish(result);
        }
    }
}

impl<B, F: OnEnd> HttpBody for Recording<B, F>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(b) = self.replay.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        let this = &mut *self;
        match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let (Some(d), Some(tap)) = (frame.data_ref(), this.tap.as_mut()) {
                    tap.feed(d);
                }
                if this.inner.is_end_stream() {
                    this.end(Ok(()));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => {
                let e: BoxError = e.into();
                this.end(Err(e.to_string()));
                Poll::Ready(Some(Err(e)))
            }
            None => {
                this.end(Ok(()));
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.replay.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let extra: u64 = self.replay.iter().map(|b| b.len() as u64).sum();
        let inner = self.inner.size_hint();
        let mut h = SizeHint::new();
        h.set_lower(inner.lower() + extra);
        if let Some(u) = inner.upper() {
            h.set_upper(u + extra);
        }
        h
    }
}

impl<B, F: OnEnd> Drop for Recording<B, F> {
    fn drop(&mut self) {
        if let Some(tap) = self.tap.take() {
            tap.finish(Err("the connection closed before the body ended".into()));
        }
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

async fn connect(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    mut req: Request<Incoming>,
) -> Response<ProxyBody> {
    let Some(authority) = req.uri().authority().cloned() else {
        return text_response(
            StatusCode::BAD_REQUEST,
            "idscope: CONNECT needs host:port\n".into(),
        );
    };
    let (host, port) = host_port(&authority, 443);
    let ignored = shared.settings.ignore.is_match(&host)
        || shared.settings.ignore.is_match(authority.as_str());
    if !ignored
        && let Err(e @ UpstreamError::SelfRequest { .. }) =
            shared.upstream.resolve(&host, port).await
    {
        return text_response(StatusCode::FORBIDDEN, format!("idscope: {e}\n"));
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let shared2 = Arc::clone(shared);
    let ctx2 = ctx.clone();
    if ignored {
        // Tunnel without interception; connect first so a failure is a 502, not a dead tunnel.
        let slot = if shared.settings.passthrough {
            None
        } else {
            shared.flows.begin(ctx.client_addr)
        };
        if let Some(s) = &slot {
            s.request(flow::Request {
                method: "CONNECT".into(),
                url: format!("https://{authority}"),
                http_version: version_str(req.version()).into(),
                headers: record_headers(req.headers()),
                body: flow::Body::default(),
                extra: flow::Extra::new(),
            });
        }
        let server = match shared.upstream.connect(&host, port).await {
            Ok(s) => s,
            Err(e) => {
                let status = match e {
                    UpstreamError::SelfRequest { .. } => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_GATEWAY,
                };
                if let Some(s) = &slot {
                    s.fail(format!("upstream: {e}"));
                }
                return text_response(status, format!("idscope: {e}\n"));
            }
        };
        tokio::spawn(async move {
            let shutdown = shared2.shutdown.clone();
            let activity = Arc::clone(&ctx2.activity);
            let idle = shared2.settings.idle_timeout;
            tokio::select! {
                () = tunnel(on_upgrade, server, slot.clone()) => {}
                () = activity.idle(idle) => if let Some(s) = &slot { s.fail("tunnel idle timeout".into()) },
                () = stopped(shutdown.clone()) => {}
            }
        });
        return Response::new(full(Bytes::new()));
    }
    tokio::spawn(intercept_task(shared2, ctx2, on_upgrade, authority));
    Response::new(full(Bytes::new()))
}

type BoxFuture = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The intercepted tunnel's task. Boxed with an explicit `Send` type: requests inside the tunnel
/// reach `handle` again, and an opaque `async fn` type cannot be checked for `Send` through
/// that cycle.
fn intercept_task(
    shared: Arc<Shared>,
    ctx: Ctx,
    on_upgrade: hyper::upgrade::OnUpgrade,
    authority: Authority,
) -> BoxFuture {
    Box::pin(async move {
        let shutdown = shared.shutdown.clone();
        let activity = Arc::clone(&ctx.activity);
        let idle = shared.settings.idle_timeout;
        tokio::select! {
            () = intercept(&shared, &ctx, on_upgrade, authority) => {}
            () = activity.idle(idle) => debug!("idle timeout in tunnel"),
            () = stopped(shutdown) => {}
        }
    })
}

async fn tunnel(
    on_upgrade: hyper::upgrade::OnUpgrade,
    mut server: TcpStream,
    slot: Option<Arc<Slot>>,
) {
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            if let Some(s) = &slot {
                s.fail(format!("CONNECT upgrade failed: {e}"));
            }
            return;
        }
    };
    let mut client = TokioIo::new(upgraded);
    let result = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    if let Some(s) = &slot {
        match result {
            Ok((up, down)) => {
                let mut extra = flow::Extra::new();
                extra.insert(
                    "_tunnel".into(),
                    json!({"intercepted": false, "bytesSent": up, "bytesReceived": down}),
                );
                let total = s.elapsed_ms();
                s.finish(FlowEvent::Response {
                    id: s.id,
                    response: flow::Response {
                        status: 200,
                        reason: "Connection established".into(),
                        http_version: "HTTP/1.1".into(),
                        headers: Default::default(),
                        body: flow::Body::default(),
                        extra,
                    },
                    timings: Timings {
                        total: Some(total),
                        ..Timings::default()
                    },
                });
            }
            Err(e) => s.fail(format!("tunnel: {e}")),
        }
    }
}

/// Serves the inside of an intercepted CONNECT: TLS (with a minted leaf) or plain HTTP.
async fn intercept(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    on_upgrade: hyper::upgrade::OnUpgrade,
    authority: Authority,
) {
    let limit = shared.settings.tls_handshake_timeout;
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            debug!(error = %e, "CONNECT upgrade failed");
            return;
        }
    };
    let mut io = TokioIo::new(upgraded);
    let mut first = [0u8; 1];
    let n = match tokio::time::timeout(limit, io.read(&mut first)).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            debug!(error = %e, "reading from the tunnel");
            return;
        }
        Err(_) => {
            debug!(%authority, "no data within the handshake timeout");
            return;
        }
    };
    if n == 0 {
        return;
    }
    let rewind = Rewind {
        prefix: Bytes::copy_from_slice(&first),
        inner: io,
    };
    let mut inner_ctx = ctx.clone();
    if first[0] == 0x16 {
        let handshake = async {
            let start =
                tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), rewind)
                    .await
                    .map_err(|e| format!("reading the ClientHello: {e}"))?;
            let (host, _) = host_port(&authority, 443);
            let name = start
                .client_hello()
                .server_name()
                .map(str::to_string)
                .unwrap_or(host);
            let cfg = shared
                .ca
                .server_config(&name)
                .map_err(|e| format!("minting a leaf for {name}: {e}"))?;
            start
                .into_stream(cfg)
                .await
                .map_err(|e| format!("TLS handshake with the client: {e}"))
        };
        let tls = match tokio::time::timeout(limit, handshake).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                debug!(%authority, "{e}");
                return;
            }
            Err(_) => {
                debug!(%authority, "TLS handshake timed out");
                return;
            }
        };
        inner_ctx.tunnel = Some((Scheme::HTTPS, without_default_port(authority, 443)));
        serve_inner(shared, inner_ctx, TokioIo::new(tls)).await;
    } else {
        inner_ctx.tunnel = Some((Scheme::HTTP, without_default_port(authority, 80)));
        serve_inner(shared, inner_ctx, TokioIo::new(rewind)).await;
    }
}

/// `login.example:443` inside an HTTPS tunnel is recorded as `https://login.example/…`, as
/// browsers and mitmproxy show it.
fn without_default_port(a: Authority, default: u16) -> Authority {
    if a.port_u16() == Some(default) {
        let host = a.as_str().rsplit_once(':').map_or(a.as_str(), |(h, _)| h);
        return Authority::try_from(host).unwrap_or(a);
    }
    a
}

async fn serve_inner<I>(shared: &Arc<Shared>, ctx: Ctx, io: I)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc_shared = Arc::clone(shared);
    let svc = service_fn(move |req| {
        let shared = Arc::clone(&svc_shared);
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(&shared, &ctx, req).await) }
    });
    if let Err(e) = shared.server.serve_connection_with_upgrades(io, svc).await {
        debug!(error = %e, "intercepted connection ended");
    }
}

// ---------------------------------------------------------------------------------------------
// Forwarding

enum Collected<F> {
    Complete(Bytes, Tap<F>),
    Over(VecDeque<Bytes>, Incoming, Tap<F>),
    Failed(String, Tap<F>),
}

/// Reads the request body up to the cap (so that a typical request is recorded whole, even when
/// the upstream then fails); beyond the cap the rest streams.
async fn collect_request<F: OnEnd>(
    mut body: Incoming,
    mut tap: Tap<F>,
    cap: usize,
) -> Collected<F> {
    let mut chunks: VecDeque<Bytes> = VecDeque::new();
    let mut read = 0usize;
    loop {
        if body.is_end_stream() {
            break;
        }
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    tap.feed(&data);
                    read += data.len();
                    chunks.push_back(data);
                    if read > cap {
                        return Collected::Over(chunks, body, tap);
                    }
                }
            }
            Some(Err(e)) => return Collected::Failed(e.to_string(), tap),
        }
    }
    let bytes = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop_front().unwrap_or_default(),
        _ => {
            let mut v = Vec::with_capacity(read);
            for c in &chunks {
                v.extend_from_slice(c);
            }
            Bytes::from(v)
        }
    };
    Collected::Complete(bytes, tap)
}

fn failure_response(slot: Option<&Arc<Slot>>, f: Failure) -> Response<ProxyBody> {
    let (status, message) = match f {
        Failure::SelfRequest(m) => (StatusCode::FORBIDDEN, m),
        Failure::BadGateway(m) => (StatusCode::BAD_GATEWAY, m),
    };
    if let Some(s) = slot {
        s.fail(message.clone());
    }
    text_response(status, format!("idscope: {message}\n"))
}

async fn forward(shared: &Arc<Shared>, ctx: &Ctx, req: Request<Incoming>) -> Response<ProxyBody> {
    let _busy = ctx.activity.busy();
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    join_cookies(&mut parts.headers);

    if shared.settings.passthrough {
        parts.headers.remove(header::HOST);
        parts.version = Version::HTTP_11;
        let req = Request::from_parts(parts, body.map_err(BoxError::from).boxed_unsync());
        return match shared.client.request(req).await {
            Ok(res) => {
                let (mut p, b) = res.into_parts();
                strip_hop_by_hop(&mut p.headers);
                Response::from_parts(p, b.map_err(BoxError::from).boxed_unsync())
            }
            Err(e) => failure_response(None, describe(&e)),
        };
    }

    let Some(slot) = shared.flows.begin(ctx.client_addr) else {
        return text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "idscope: shutting down\n".into(),
        );
    };
    let cap = shared.settings.max_body;
    let record = |parts: &http::request::Parts| flow::Request {
        method: parts.method.as_str().to_string(),
        url: parts.uri.to_string(),
        http_version: version_str(parts.version).into(),
        headers: record_headers(&parts.headers),
        body: flow::Body::default(),
        extra: flow::Extra::new(),
    };
    let req_slot = Arc::clone(&slot);
    let req_record = record(&parts);
    let tap = Tap::new(
        cap,
        encoding_of(&parts.headers),
        move |r: Result<flow::Body, String>| {
            let mut rec = req_record;
            match r {
                Ok(body) => {
                    rec.body = body;
                    req_slot.request(rec);
                }
                Err(e) => {
                    req_slot.request(rec);
                    req_slot.fail(format!("reading the request body from the client: {e}"));
                }
            }
        },
    );
    let upstream_body = match collect_request(body, tap, cap).await {
        Collected::Complete(bytes, tap) => {
            tap.finish(Ok(()));
            full(bytes)
        }
        Collected::Over(prefix, rest, tap) => {
            // Rarely needed (a body over the cap): built again rather than cloned for every flow.
            let mut partial = record(&parts);
            partial.body.truncated = true;
            slot.set_partial(partial);
            Recording::new(rest, prefix, tap).boxed_unsync()
        }
        Collected::Failed(e, tap) => {
            tap.finish(Err(e.clone()));
            return text_response(
                StatusCode::BAD_GATEWAY,
                format!("idscope: reading the request body failed: {e}\n"),
            );
        }
    };
    parts.headers.remove(header::HOST);
    parts.version = Version::HTTP_11;
    let sent = Instant::now();
    let res = match shared
        .client
        .request(Request::from_parts(parts, upstream_body))
        .await
    {
        Ok(res) => res,
        Err(e) => return failure_response(Some(&slot), describe(&e)),
    };
    // One clock read for both: the headers arrived when the wait ended.
    let headers_at = Instant::now();
    let wait = ms(headers_at - sent);
    let (mut p, body) = res.into_parts();
    strip_hop_by_hop(&mut p.headers);
    let head = flow::Response {
        status: p.status.as_u16(),
        reason: p.status.canonical_reason().unwrap_or("").to_string(),
        http_version: version_str(p.version).into(),
        headers: record_headers(&p.headers),
        body: flow::Body::default(),
        extra: flow::Extra::new(),
    };
    let res_slot = Arc::clone(&slot);
    let tap = Tap::new(
        cap,
        encoding_of(&p.headers),
        move |r: Result<flow::Body, String>| match r {
            Ok(body) => {
                let mut response = head;
                response.body = body;
                let now = Instant::now();
                res_slot.finish(FlowEvent::Response {
                    id: res_slot.id,
                    response,
                    timings: Timings {
                        total: Some(ms(now - res_slot.started)),
                        wait: Some(wait),
                        receive: Some(ms(now - headers_at)),
                        ..Timings::default()
                    },
                });
            }
            Err(e) => res_slot.fail(format!("response body: {e}")),
        },
    );
    let body = Recording::new(body, VecDeque::new(), tap).boxed_unsync();
    Response::from_parts(p, body)
}

// ---------------------------------------------------------------------------------------------
// WebSocket

async fn websocket(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    mut req: Request<Incoming>,
) -> Response<ProxyBody> {
    let secure = req.uri().scheme() == Some(&Scheme::HTTPS);
    let Some(authority) = req.uri().authority().cloned() else {
        return text_response(StatusCode::BAD_REQUEST, "idscope: no host\n".into());
    };
    let (host, port) = host_port(&authority, if secure { 443 } else { 80 });
    let slot = if shared.settings.passthrough {
        None
    } else {
        shared.flows.begin(ctx.client_addr)
    };
    if let Some(s) = &slot {
        s.request(flow::Request {
            method: "GET".into(),
            url: req.uri().to_string(),
            http_version: version_str(req.version()).into(),
            headers: record_headers(req.headers()),
            body: flow::Body::default(),
            extra: flow::Extra::new(),
        });
    }
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let ws_uri = format!("{}://{authority}{path}", if secure { "wss" } else { "ws" });
    let mut up = Request::builder().method(Method::GET).uri(&ws_uri);
    for (n, v) in req.headers() {
        if matches!(
            n.as_str(),
            "host"
                | "connection"
                | "upgrade"
                | "proxy-authorization"
                | "proxy-connection"
                | "keep-alive"
                | "te"
                | "trailer"
                | "transfer-encoding"
                // tungstenite does not implement permessage-deflate: do not negotiate it.
                | "sec-websocket-extensions"
        ) {
            continue;
        }
        up = up.header(n, v);
    }
    let up = match up
        .header(header::HOST, authority.as_str())
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .body(())
    {
        Ok(r) => r,
        Err(e) => {
            return failure_response(slot.as_ref(), Failure::BadGateway(e.to_string()));
        }
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let stream = match shared.upstream.connect(&host, port).await {
        Ok(s) => s,
        Err(e) => return failure_response(slot.as_ref(), describe(&e)),
    };
    let connector = if secure {
        tokio_tungstenite::Connector::Rustls(Arc::clone(&shared.ws_tls))
    } else {
        tokio_tungstenite::Connector::Plain
    };
    let handshake =
        tokio_tungstenite::client_async_tls_with_config(up, stream, None, Some(connector));
    let (server_ws, upstream_res) =
        match tokio::time::timeout(shared.settings.connect_timeout, handshake).await {
            Ok(Ok(x)) => x,
            Ok(Err(tungstenite::Error::Http(res))) => {
                // The origin declined the upgrade: pass its answer on.
                let (p, body) = (*res).into_parts();
                let body = Bytes::from(body.unwrap_or_default());
                if let Some(s) = &slot {
                    let mut b = flow::Body::plain(body.clone());
                    b.sha256 = Some(hex(&Sha256::digest(&body)));
                    s.finish(FlowEvent::Response {
                        id: s.id,
                        response: flow::Response {
                            status: p.status.as_u16(),
                            reason: p.status.canonical_reason().unwrap_or("").into(),
                            http_version: "HTTP/1.1".into(),
                            headers: record_headers(&p.headers),
                            body: b,
                            extra: flow::Extra::new(),
                        },
                        timings: Timings {
                            total: Some(s.elapsed_ms()),
                            ..Timings::default()
                        },
                    });
                }
                let mut headers = p.headers;
                strip_hop_by_hop(&mut headers);
                let mut r = Response::new(full(body));
                *r.status_mut() = p.status;
                *r.headers_mut() = headers;
                return r;
            }
            Ok(Err(e)) => return failure_response(slot.as_ref(), describe(&e)),
            Err(_) => {
                return failure_response(
                    slot.as_ref(),
                    Failure::BadGateway(format!("WebSocket handshake with {ws_uri} timed out")),
                );
            }
        };
    // The client's Sec-WebSocket-Key was passed upstream, so the origin's accept value is the
    // one the client expects.
    let mut res = Response::new(full(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    for (n, v) in upstream_res.headers() {
        if matches!(
            n.as_str(),
            "sec-websocket-accept" | "sec-websocket-protocol" | "set-cookie"
        ) {
            res.headers_mut().append(n, v.clone());
        }
    }
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    res.headers_mut()
        .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let head = flow::Response {
        status: 101,
        reason: "Switching Protocols".into(),
        http_version: "HTTP/1.1".into(),
        headers: record_headers(upstream_res.headers()),
        body: flow::Body::default(),
        extra: flow::Extra::new(),
    };
    let busy = ctx.activity.busy();
    let cap = shared.settings.max_body;
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        let _busy = busy;
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                if let Some(s) = &slot {
                    s.fail(format!("WebSocket upgrade with the client failed: {e}"));
                }
                return;
            }
        };
        let client_ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        let mut log = MessageLog::new(cap);
        tokio::select! {
            () = relay(client_ws, server_ws, &mut log) => {}
            () = stopped(shutdown.clone()) => {}
        }
        if let Some(s) = &slot {
            let mut response = head;
            response
                .extra
                .insert("_webSocketMessages".into(), Value::Array(log.messages));
            if log.dropped > 0 {
                response
                    .extra
                    .insert("_webSocketMessagesDropped".into(), log.dropped.into());
            }
            s.finish(FlowEvent::Response {
                id: s.id,
                response,
                timings: Timings {
                    total: Some(s.elapsed_ms()),
                    ..Timings::default()
                },
            });
        }
    });
    res
}

/// WebSocket messages in mitmproxy's / Chrome's HAR shape, bounded by the body cap.
struct MessageLog {
    messages: Vec<Value>,
    bytes: usize,
    cap: usize,
    dropped: u64,
}

impl MessageLog {
    fn new(cap: usize) -> Self {
        MessageLog {
            messages: Vec::new(),
            bytes: 0,
            cap,
            dropped: 0,
        }
    }

    fn push(&mut self, direction: &str, msg: &Message) {
        let (opcode, data) = match msg {
            Message::Text(t) => (1, t.as_str().to_string()),
            Message::Binary(b) => {
                use base64::Engine as _;
                (2, base64::engine::general_purpose::STANDARD.encode(b))
            }
            _ => return,
        };
        if self.bytes + data.len() > self.cap {
            self.dropped += 1;
            return;
        }
        self.bytes += data.len();
        let time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.messages.push(json!({
            "type": direction,
            "time": time,
            "opcode": opcode,
            "data": data,
        }));
    }
}

type ClientWs = tokio_tungstenite::WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;
type ServerWs = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Logs one message read from one side (`dir`) and forwards it to the other; control frames
/// (ping, pong, raw frames) are left to the WebSocket layers. False when the other side is gone.
async fn pass<S>(msg: Message, dir: &str, log: &mut MessageLog, to: &mut S) -> bool
where
    S: futures::Sink<Message> + Unpin,
{
    if matches!(msg, Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) {
        return true;
    }
    log.push(dir, &msg);
    to.send(msg).await.is_ok()
}

/// Relays messages both ways until both sides have closed (or one fails).
async fn relay(client: ClientWs, server: ServerWs, log: &mut MessageLog) {
    let (mut to_client, mut from_client) = client.split();
    let (mut to_server, mut from_server) = server.split();
    let (mut client_open, mut server_open) = (true, true);
    while client_open || server_open {
        tokio::select! {
            m = from_client.next(), if client_open => match m {
                Some(Ok(msg)) => {
                    if !pass(msg, "send", log, &mut to_server).await {
                        server_open = false;
                    }
                }
                _ => {
                    client_open = false;
                    let _ = to_server.close().await;
                }
            },
            m = from_server.next(), if server_open => match m {
                Some(Ok(msg)) => {
                    if !pass(msg, "receive", log, &mut to_client).await {
                        client_open = false;
                    }
                }
                _ => {
                    server_open = false;
                    let _ = to_client.close().await;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
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
