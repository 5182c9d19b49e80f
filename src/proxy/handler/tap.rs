//! Body taps: a body streams through while a tap keeps up to `max_body` bytes of it, its size
//! and the SHA-256 of all of it.

use super::*;

/// What a [`Tap`] calls once, with the recorded body or the error that ended it. Generic, not a
/// boxed closure: the tap lives in the forwarding future or the response body, so the callback
/// costs no allocation of its own.
pub(super) trait OnEnd: FnOnce(Result<flow::Body, String>) + Send + Unpin {}
impl<F: FnOnce(Result<flow::Body, String>) + Send + Unpin> OnEnd for F {}

/// Keeps up to `cap` bytes of a body and hashes all of it.
pub(super) struct Tap<F> {
    /// The kept bytes, copied as they pass: hyper hands out body chunks as slices of its
    /// connection read buffer (8 KiB and up), and a retained slice would keep that whole buffer
    /// alive for as long as the flow is held. The copy is needed anyway, so it is made at once,
    /// with no list of chunks in between.
    pub(super) kept: Vec<u8>,
    pub(super) cap: usize,
    pub(super) truncated: bool,
    pub(super) size: u64,
    pub(super) hasher: Sha256,
    pub(super) encoding: Option<String>,
    pub(super) on_end: F,
}

impl<F: OnEnd> Tap<F> {
    pub(super) fn new(cap: usize, encoding: Option<String>, on_end: F) -> Self {
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

    pub(super) fn feed(&mut self, data: &Bytes) {
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

    pub(super) fn body(self) -> (flow::Body, F) {
        let mut kept = self.kept;
        // A body that came in several chunks may have left spare capacity: held flows keep
        // exactly their bytes (the memory budget per flow in benches/README.md).
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

    pub(super) fn finish(self, result: Result<(), String>) {
        let (body, on_end) = self.body();
        on_end(result.map(|()| body));
    }
}

/// SHA-256 of the empty string.
pub(super) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(super) fn hex(bytes: &[u8]) -> String {
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
pub(super) struct Recording<B, F: OnEnd> {
    pub(super) inner: B,
    pub(super) replay: VecDeque<Bytes>,
    pub(super) tap: Option<Tap<F>>,
}

impl<B, F: OnEnd> Recording<B, F>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    pub(super) fn new(inner: B, replay: VecDeque<Bytes>, tap: Tap<F>) -> Self {
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

    pub(super) fn end(&mut self, result: Result<(), String>) {
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
