//! The flow model: one HTTP exchange as idscope keeps it, whatever produced it (the live proxy, a
//! HAR file, a Fiddler SAZ archive). A [`Flow`] is a request plus exactly one [`Outcome`] (a
//! response or an error), with timings, addresses and user tags. Bodies are kept as the bytes that
//! crossed the wire ([`Body`]); content-encoding is removed lazily and under a cap when someone
//! looks. This module does not read or write files (see `capture`) and does not decode protocols
//! (see the `idscope-decoders` crate); [`Flow::request_message`] and [`Flow::response_message`]
//! are the bridge to the decoders.

pub mod assemble;
pub mod fiddler;

use std::borrow::Cow;
use std::io::Read;
use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use idscope_decoders::Message;

/// A flow's identity within one capture or session: its position (0-based, monotonic), so it is
/// sortable and stable in snapshots. Displayed 1-based as `#N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FlowId(pub u64);

impl std::fmt::Display for FlowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0 + 1)
    }
}

/// Headers in wire order with their original spelling. Names compare case-insensitively through
/// [`header`]. HTTP/2 pseudo-headers (`:authority`) that some HAR writers include are kept as-is.
///
/// Stored compactly, because a capture holds tens of headers per message for up to 100,000 flows
/// (the memory budget per flow in `benches/README.md`): every name and value lives in one string, with two offsets per
/// header, instead of two heap strings plus a 48-byte pair each. Reads as a list of
/// `(name, value)` string pairs: `for (n, v) in &headers`, [`Headers::iter`], [`header`];
/// built with [`Headers::push`] or by collecting `(String, String)` pairs.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Headers {
    /// Every name and value, concatenated in order.
    text: String,
    /// Per header: where its name ends and where its value ends in `text` (each starts where the
    /// previous one ended).
    ends: Vec<(u32, u32)>,
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Room for `count` headers of `bytes` bytes of names and values in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Self {
        Headers {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a header (`(name, value)`, as with a `Vec` of pairs).
    pub fn push(&mut self, (name, value): (String, String)) {
        self.push_str(&name, &value);
    }

    /// Appends a header without taking ownership.
    pub fn push_str(&mut self, name: &str, value: &str) {
        // Offsets are u32: header text over 4 GiB is refused (no source produces it; hyper and
        // the capture readers cap header sizes far below).
        let name_end = self.text.len() + name.len();
        let value_end = name_end + value.len();
        let (Ok(n), Ok(v)) = (u32::try_from(name_end), u32::try_from(value_end)) else {
            return;
        };
        self.text.push_str(name);
        self.text.push_str(value);
        self.ends.push((n, v));
    }

    /// Appends `more` to the value of the last header (folded continuation lines).
    pub fn extend_last_value(&mut self, more: &str) {
        let Some(last) = self.ends.last_mut() else {
            return;
        };
        let Ok(end) = u32::try_from(self.text.len() + more.len()) else {
            return;
        };
        self.text.push_str(more);
        last.1 = end;
    }

    /// The header at `i`.
    pub fn get(&self, i: usize) -> Option<(&str, &str)> {
        let (name_end, value_end) = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |e| e.1),
            None => 0,
        } as usize;
        Some((
            self.text.get(start..name_end as usize)?,
            self.text.get(name_end as usize..value_end as usize)?,
        ))
    }

    /// The headers in order, as `(name, value)`.
    pub fn iter(&self) -> HeadersIter<'_> {
        HeadersIter {
            headers: self,
            front: 0,
            back: self.ends.len(),
        }
    }

    /// Removes every header.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Keeps the headers for which `keep(name, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.map_values(|n, v| keep(n, v).then(|| v.to_string()));
    }

    /// Rewrites the headers: `f(name, value)` returns the new value, or `None` to drop the
    /// header. Names and order are kept.
    pub fn map_values(&mut self, mut f: impl FnMut(&str, &str) -> Option<String>) {
        let mut out = Headers::with_capacity(self.len(), self.text.len());
        for (n, v) in self.iter() {
            if let Some(nv) = f(n, v) {
                out.push_str(n, &nv);
            }
        }
        out.shrink_to_fit();
        *self = out;
    }

    /// Releases spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Heap bytes held (text and offsets), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<(u32, u32)>()
    }

    /// The headers as owned pairs.
    pub fn to_vec(&self) -> Vec<(String, String)> {
        self.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Headers`] as `(name, value)`.
#[derive(Debug, Clone)]
pub struct HeadersIter<'a> {
    headers: &'a Headers,
    front: usize,
    back: usize,
}

impl<'a> Iterator for HeadersIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let h = self.headers.get(self.front);
        self.front += 1;
        h
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for HeadersIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.headers.get(self.back)
    }
}

impl ExactSizeIterator for HeadersIter<'_> {}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a str);
    type IntoIter = HeadersIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut h = Headers::new();
        h.extend(iter);
        h.shrink_to_fit();
        h
    }
}

impl<N: AsRef<str>, V: AsRef<str>> Extend<(N, V)> for Headers {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        for (n, v) in iter {
            self.push_str(n.as_ref(), v.as_ref());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<str>> From<Vec<(N, V)>> for Headers {
    fn from(v: Vec<(N, V)>) -> Self {
        v.into_iter().collect()
    }
}

impl<N: AsRef<str>, V: AsRef<str>, const K: usize> From<[(N, V); K]> for Headers {
    fn from(v: [(N, V); K]) -> Self {
        v.into_iter().collect()
    }
}

impl<N: AsRef<str>, V: AsRef<str>> PartialEq<Vec<(N, V)>> for Headers {
    fn eq(&self, other: &Vec<(N, V)>) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|((n, v), (on, ov))| n == on.as_ref() && v == ov.as_ref())
    }
}

/// The first value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Fields of a HAR object that idscope does not model but keeps so that a round trip loses
/// nothing: `_`-prefixed custom fields and a few optional HAR fields (`pageref`, `connection`,
/// `cache`). Kept in insertion order.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// The `extra` member holding a Fiddler session's own metadata (`_m.xml`), as
/// `{"timers":{"ClientConnected":"…",…},"flags":{"x-processinfo":"…",…}}` with every value as
/// Fiddler wrote it. HAR keeps it as the entry's `_idscope.fiddler`.
pub const FIDDLER_EXTRA: &str = "_fiddler";

/// Default cap for removing content-encoding: 64 MiB of decoded output per body.
pub const DEFAULT_DECODED_CAP: usize = 64 << 20;

/// A message body as it crossed the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// The retained bytes. When `encoding` is set they still carry that content-encoding.
    pub raw: Bytes,
    /// The content-encoding (`gzip`, `deflate`, `br`, or a comma list in the order applied) that
    /// `raw` still carries; `None` when `raw` is already plain. HAR files normally store decoded
    /// text, so bodies read from HAR usually have `None` even when the header says `gzip`.
    pub encoding: Option<String>,
    /// The full size of the body in bytes as it was on the wire (may exceed `raw.len()` when
    /// `truncated`).
    pub size: u64,
    /// True when only a prefix of the body was retained (over the body cap).
    pub truncated: bool,
    /// Hex SHA-256 of the full body, recorded when the body was truncated (and by the proxy).
    pub sha256: Option<String>,
}

/// Why content-encoding could not be removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body names an encoding idscope does not know.
    #[error("unsupported content-encoding `{0}`")]
    Unsupported(String),
    /// The encoded bytes are corrupt.
    #[error("corrupt {encoding} body: {message}")]
    Corrupt {
        /// The encoding that failed.
        encoding: String,
        /// What the decompressor said.
        message: String,
    },
    /// The decoded body is larger than the cap.
    #[error("decoded body exceeds the cap of {cap} bytes")]
    TooLarge {
        /// The cap.
        cap: usize,
    },
}

impl Body {
    /// A plain (identity-encoded) body that is complete.
    pub fn plain(bytes: impl Into<Bytes>) -> Self {
        let raw = bytes.into();
        Body {
            size: raw.len() as u64,
            raw,
            encoding: None,
            truncated: false,
            sha256: None,
        }
    }

    /// A body that still carries `encoding` (as recorded by the proxy).
    pub fn encoded(bytes: impl Into<Bytes>, encoding: &str) -> Self {
        let mut b = Body::plain(bytes);
        let enc = encoding.trim();
        if !enc.is_empty() && !enc.eq_ignore_ascii_case("identity") {
            b.encoding = Some(enc.to_string());
        }
        b
    }

    /// True when no bytes were retained.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The body with content-encoding removed, at most `cap` bytes of output. Borrowed when there
    /// is nothing to remove. A truncated encoded body decodes as far as its bytes go.
    pub fn decoded(&self, cap: usize) -> Result<Cow<'_, [u8]>, BodyError> {
        let Some(enc) = self.encoding.as_deref() else {
            return Ok(Cow::Borrowed(&self.raw));
        };
        let mut data: Vec<u8> = self.raw.to_vec();
        // Encodings are listed in the order they were applied; undo them in reverse.
        for e in enc
            .split(',')
            .map(str::trim)
            .rev()
            .filter(|e| !e.is_empty())
        {
            data = decode_one(e, &data, cap, self.truncated)?;
        }
        Ok(Cow::Owned(data))
    }

    /// The decoded body, or the raw bytes when decoding fails (for views that must show
    /// something).
    pub fn decoded_lossy(&self, cap: usize) -> Cow<'_, [u8]> {
        self.decoded(cap).unwrap_or(Cow::Borrowed(&self.raw))
    }
}

fn decode_one(enc: &str, data: &[u8], cap: usize, partial: bool) -> Result<Vec<u8>, BodyError> {
    let lower = enc.to_ascii_lowercase();
    let corrupt = |m: std::io::Error| BodyError::Corrupt {
        encoding: lower.clone(),
        message: m.to_string(),
    };
    let mut out = Vec::new();
    let limit = cap as u64 + 1;
    let res = match lower.as_str() {
        "identity" => return Ok(data.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out),
        "deflate" => {
            // RFC 9110 says zlib-wrapped; some servers send raw deflate. Try zlib, then raw.
            let r = flate2::read::ZlibDecoder::new(data)
                .take(limit)
                .read_to_end(&mut out);
            if r.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(data)
                    .take(limit)
                    .read_to_end(&mut out)
            } else {
                r
            }
        }
        "br" => brotli::Decompressor::new(data, 4096)
            .take(limit)
            .read_to_end(&mut out),
        other => return Err(BodyError::Unsupported(other.to_string())),
    };
    match res {
        Ok(_) if out.len() > cap => Err(BodyError::TooLarge { cap }),
        Ok(_) => Ok(out),
        // A truncated body ends mid-stream: keep what was decoded.
        Err(_) if partial && !out.is_empty() => Ok(out),
        Err(e) => Err(corrupt(e)),
    }
}

/// The request half of a flow.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Method as sent (`GET`, `POST`, `CONNECT` …).
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// HTTP version as written by the source (`HTTP/1.1`, `HTTP/2.0`, `h3`, or empty).
    pub http_version: String,
    /// Headers in wire order.
    pub headers: Headers,
    /// The body.
    pub body: Body,
    /// Unmodelled fields of the HAR request object (`_`-prefixed ones, `comment`).
    pub extra: Extra,
}

/// The response half of a flow.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Reason phrase (`statusText`), possibly empty.
    pub reason: String,
    /// HTTP version as written by the source.
    pub http_version: String,
    /// Headers in wire order.
    pub headers: Headers,
    /// The body.
    pub body: Body,
    /// Unmodelled fields of the HAR response object.
    pub extra: Extra,
}

/// How an exchange ended: exactly one of a response or an error (mitmproxy's invariant, made
/// unrepresentable otherwise).
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The server answered.
    Response(Response),
    /// No (complete) answer: connection error, bad upstream certificate, or the capture ended
    /// while the request was in flight (`incomplete`).
    Error(FlowError),
}

/// Why an exchange has no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowError {
    /// What happened, as the source said it.
    pub message: String,
    /// True when the flow was still in flight when the recording stopped.
    pub incomplete: bool,
}

/// Timings in milliseconds, as HAR keeps them. `None` means "not applicable" (HAR's `-1`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timings {
    /// Total elapsed time (HAR entry `time`).
    pub total: Option<f64>,
    /// Waiting for a connection slot.
    pub blocked: Option<f64>,
    /// DNS resolution.
    pub dns: Option<f64>,
    /// TCP connect (includes ssl in HAR).
    pub connect: Option<f64>,
    /// TLS handshake.
    pub ssl: Option<f64>,
    /// Sending the request.
    pub send: Option<f64>,
    /// Waiting for the first response byte.
    pub wait: Option<f64>,
    /// Receiving the response.
    pub receive: Option<f64>,
}

/// One HTTP exchange.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    /// Position in the capture or session.
    pub id: FlowId,
    /// When the request started (HAR `startedDateTime`).
    pub started_at: SystemTime,
    /// The client's address, where known (the proxy knows it; HAR does not carry it).
    pub client_addr: Option<SocketAddr>,
    /// The server's address as recorded (HAR `serverIPAddress`, possibly with a port).
    pub server_addr: Option<String>,
    /// The request.
    pub request: Request,
    /// The response or the error.
    pub outcome: Outcome,
    /// Timings.
    pub timings: Timings,
    /// User or tool tags (`replay`, `replay-of:#3`).
    pub tags: Vec<String>,
    /// A free-text comment (HAR `comment`).
    pub comment: Option<String>,
    /// Marked by the user.
    pub marked: bool,
    /// Unmodelled fields of the HAR entry (`_`-prefixed, `pageref`, `cache`, `connection`).
    pub extra: Extra,
}

impl Flow {
    /// The response, if the exchange has one.
    pub fn response(&self) -> Option<&Response> {
        match &self.outcome {
            Outcome::Response(r) => Some(r),
            Outcome::Error(_) => None,
        }
    }

    /// The error, if the exchange has no response.
    pub fn error(&self) -> Option<&FlowError> {
        match &self.outcome {
            Outcome::Error(e) => Some(e),
            Outcome::Response(_) => None,
        }
    }

    /// The host of the request URL (lowercase, without port).
    pub fn host(&self) -> String {
        idscope_decoders::util::url_host(&self.request.url).unwrap_or_default()
    }

    /// The path and query of the request URL.
    pub fn path_and_query(&self) -> &str {
        let url = &self.request.url;
        match url.find("://") {
            Some(i) => {
                let after = url.get(i + 3..).unwrap_or("");
                after.find('/').and_then(|j| after.get(j..)).unwrap_or("/")
            }
            None => url,
        }
    }

    /// The request as a decoder message; `body` is the request body with content-encoding removed
    /// (see [`Body::decoded`]).
    pub fn request_message<'a>(&'a self, body: &'a [u8]) -> Message<'a> {
        Message::request(
            &self.request.method,
            &self.request.url,
            self.request.headers.iter().collect(),
            body,
        )
    }

    /// The response as a decoder message (with the request's method and URL), if there is one.
    pub fn response_message<'a>(&'a self, body: &'a [u8]) -> Option<Message<'a>> {
        let r = self.response()?;
        Some(Message::response(
            &self.request.method,
            &self.request.url,
            r.status,
            r.headers.iter().collect(),
            body,
        ))
    }
}

/// What the proxy reports to the session. Every flow gets `Request`, then exactly one of
/// `Response` or `Error`.
#[derive(Clone, Debug)]
pub enum FlowEvent {
    /// A request was received.
    Request {
        /// The flow.
        id: FlowId,
        /// The client.
        client_addr: Option<SocketAddr>,
        /// When it started.
        at: SystemTime,
        /// The request.
        request: Request,
    },
    /// The response arrived.
    Response {
        /// The flow.
        id: FlowId,
        /// The response.
        response: Response,
        /// Timings measured by the proxy.
        timings: Timings,
    },
    /// The exchange failed.
    Error {
        /// The flow.
        id: FlowId,
        /// What happened.
        error: FlowError,
    },
}

/// Builders for tests: flows with fixed ids and times (like mitmproxy's `tflow`).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// A request with no headers and no body.
    pub fn request(method: &str, url: &str) -> Request {
        Request {
            method: method.into(),
            url: url.into(),
            http_version: "HTTP/1.1".into(),
            headers: Headers::new(),
            body: Body::default(),
            extra: Extra::new(),
        }
    }

    /// A request with these headers, in order, and no body.
    pub fn request_with(method: &str, url: &str, headers: &[(&str, &str)]) -> Request {
        let mut r = request(method, url);
        for (name, value) in headers {
            r.headers.push_str(name, value);
        }
        r
    }

    /// A 200 response with the given content type and body.
    pub fn response(status: u16, content_type: &str, body: &[u8]) -> Response {
        Response {
            status,
            reason: String::new(),
            http_version: "HTTP/1.1".into(),
            headers: Headers::from([("content-type", content_type)]),
            body: Body::plain(body.to_vec()),
            extra: Extra::new(),
        }
    }

    /// A complete flow at a fixed time (2023-11-14T22:13:20Z plus `n` seconds).
    pub fn flow(n: u64, request: Request, response: Response) -> Flow {
        Flow {
            id: FlowId(n),
            started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000 + n),
            client_addr: None,
            server_addr: None,
            request,
            outcome: Outcome::Response(response),
            timings: Timings::default(),
            tags: vec![],
            comment: None,
            marked: false,
            extra: Extra::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn headers_keep_order_spelling_and_repeats_in_one_buffer() {
        let mut h: Headers = [("Host", "a.example"), ("Set-Cookie", "a=1")]
            .into_iter()
            .collect();
        h.push(("set-cookie".into(), "b=2".into()));
        h.push_str("X-Empty", "");
        assert_eq!(h.len(), 4);
        assert_eq!(header(&h, "SET-COOKIE"), Some("a=1"));
        assert_eq!(header(&h, "x-empty"), Some(""));
        assert_eq!(header(&h, "missing"), None);
        let all: Vec<(&str, &str)> = (&h).into_iter().collect();
        assert_eq!(
            all,
            [
                ("Host", "a.example"),
                ("Set-Cookie", "a=1"),
                ("set-cookie", "b=2"),
                ("X-Empty", "")
            ]
        );
        assert_eq!(h.iter().next_back(), Some(("X-Empty", "")));
        assert_eq!(h.get(2), Some(("set-cookie", "b=2")));
        assert_eq!(h.get(4), None);
        h.extend_last_value("folded");
        assert_eq!(h.get(3), Some(("X-Empty", "folded")));
        h.map_values(|n, v| (!n.eq_ignore_ascii_case("set-cookie")).then(|| v.to_uppercase()));
        assert_eq!(h, vec![("Host", "A.EXAMPLE"), ("X-Empty", "FOLDED")]);
        assert_eq!(
            format!("{h:?}"),
            r#"[("Host", "A.EXAMPLE"), ("X-Empty", "FOLDED")]"#
        );
        h.clear();
        assert!(h.is_empty());
        assert_eq!(h, Headers::new());
    }

    #[test]
    fn gzip_body_is_decoded_lazily_and_capped() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[b'a'; 1000]).unwrap();
        let body = Body::encoded(enc.finish().unwrap(), "gzip");
        assert_eq!(body.decoded(4096).unwrap().len(), 1000);
        assert_eq!(body.decoded(999), Err(BodyError::TooLarge { cap: 999 }));
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        let body = Body::encoded(&b"\x1f\x8b\x08\x00garbage"[..], "gzip");
        assert!(matches!(body.decoded(1024), Err(BodyError::Corrupt { .. })));
        assert_eq!(&*body.decoded_lossy(1024), b"\x1f\x8b\x08\x00garbage");
    }

    #[test]
    fn brotli_and_raw_deflate_are_understood() {
        let mut br = Vec::new();
        brotli::CompressorWriter::new(&mut br, 4096, 5, 22)
            .write_all(b"hello br")
            .unwrap();
        assert_eq!(&*Body::encoded(br, "br").decoded(100).unwrap(), b"hello br");
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(b"raw deflate").unwrap();
        let body = Body::encoded(raw.finish().unwrap(), "deflate");
        assert_eq!(&*body.decoded(100).unwrap(), b"raw deflate");
    }

    #[test]
    fn unknown_encoding_is_reported_by_name() {
        let body = Body::encoded(&b"x"[..], "zstd");
        assert_eq!(body.decoded(10), Err(BodyError::Unsupported("zstd".into())));
    }
}
