//! The flow model: one HTTP exchange as idscope keeps it, whatever produced it (the live proxy, a
//! HAR file, a Fiddler SAZ archive). A [`Flow`] is a request plus exactly one [`Outcome`] (a
//! response or an error), with timings, addresses and user tags. Bodies are kept as the bytes that
//! crossed the wire ([`Body`]); content-encoding is removed lazily and under a cap when someone
//! looks. This module does not read or write files (see `capture`) and does not decode protocols
//! (see the `idscope-decoders` crate); [`Flow::request_message`] and [`Flow::response_message`]
//! are the bridge to the decoders.

use std::borrow::Cow;
use std::io::Read;
use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use idscope_decoders::{Direction, Message};

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
pub type Headers = Vec<(String, String)>;

/// The first value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Fields of a HAR object that idscope does not model but keeps so that a round trip loses
/// nothing: `_`-prefixed custom fields and a few optional HAR fields (`pageref`, `connection`,
/// `cache`). Kept in insertion order.
pub type Extra = serde_json::Map<String, serde_json::Value>;

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
        Message {
            direction: Direction::Request,
            method: Some(&self.request.method),
            url: Some(&self.request.url),
            status: None,
            headers: self
                .request
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body,
        }
    }

    /// The response as a decoder message (with the request's method and URL), if there is one.
    pub fn response_message<'a>(&'a self, body: &'a [u8]) -> Option<Message<'a>> {
        let r = self.response()?;
        Some(Message {
            direction: Direction::Response,
            method: Some(&self.request.method),
            url: Some(&self.request.url),
            status: Some(r.status),
            headers: r
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body,
        })
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
            headers: vec![],
            body: Body::default(),
            extra: Extra::new(),
        }
    }

    /// A 200 response with the given content type and body.
    pub fn response(status: u16, content_type: &str, body: &[u8]) -> Response {
        Response {
            status,
            reason: String::new(),
            http_version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), content_type.into())],
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
