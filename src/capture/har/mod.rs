//! HAR 1.2: the streaming reader (with repair of truncated files), the entry → [`Flow`]
//! conversion, and the crash-safe writer used for recordings and exports. The flow → entry
//! direction is [`super::har_entry`]; what both directions must agree on (idscope's own field
//! names, the time format, recognising a stored body's encoding) is `har_fields`.
//!
//! The reader never parses the whole document: it walks the top-level structure with the byte
//! scanner, hands each element of `log.entries` to `serde_json` on its own, and converts it with
//! [`har_entry_to_flow`]. It accepts what peers really write (UTF-8 BOM, `[name, value]` header
//! arrays, base64 bodies, missing optional fields, `_`-prefixed custom fields, `-1` timings).
//! The writer emits one compact entry per line with one `write` call each (security.md §3), so a
//! crash leaves a file this reader repairs. This module does not redact and does not decode
//! bodies beyond undoing `content.encoding: "base64"`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, GeneralPurpose as Engine};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

use super::har_entry::write_entry;
use super::har_fields::{IDSCOPE_FIELD, INCOMPLETE_FIELD, sniff_encoding};
use super::scan::{Scanner, Stop};
use super::{CaptureError, CaptureErrorKind, Location};
use crate::flow::{
    Body, Extra, Flow, FlowError, FlowId, Headers, Outcome, Request, Response, Timings,
};

/// The largest single entry the reader holds in memory. An entry is delimited before it is
/// parsed, so without a cap one hostile "entry" could claim all memory.
pub const MAX_ENTRY_BYTES: usize = 1 << 30;

/// The largest non-entry `log` member (`pages`, `creator`, `browser`) the reader will delimit.
const MAX_LOG_FIELD_BYTES: usize = 64 << 20;

/// Base64 as peers write it: padded or not.
const BASE64_LENIENT: GeneralPurpose = Engine::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

// ---------------------------------------------------------------------------------------------
// Reader

/// Why the structural walk stopped.
enum Fail {
    /// The input ended early: repair, not an error.
    Eof,
    /// The reader cannot continue.
    Fatal(CaptureError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Inside `log.entries`; `first` until the first element has been consumed.
    Entries { first: bool },
    /// Finished (end of document, repair, or a fatal error).
    Done,
}

/// Streams the entries of one HAR document. Built by [`super::open`].
pub(crate) struct HarReader<R> {
    path: PathBuf,
    sc: Scanner<R>,
    state: State,
    /// Index of the next entry (`log.entries[index]`), also the next flow id.
    index: u64,
    /// Byte offset of the entry being delimited, for the repair message.
    partial_at: Option<u64>,
    repaired: Option<String>,
    creator: Option<Value>,
}

impl<R> std::fmt::Debug for HarReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarReader")
            .field("path", &self.path)
            .field("state", &self.state)
            .field("index", &self.index)
            .field("scanner", &self.sc)
            .finish()
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl<R: Read> HarReader<R> {
    /// Reads the document up to the first entry. Fails when the bytes are not a HAR document;
    /// a file that ends inside the header is repaired to an empty capture.
    pub(crate) fn new(path: &Path, src: R) -> Result<Self, CaptureError> {
        let mut r = HarReader {
            path: path.to_path_buf(),
            sc: Scanner::new(src),
            state: State::Done,
            index: 0,
            partial_at: None,
            repaired: None,
            creator: None,
        };
        match r.header() {
            Ok(()) => r.state = State::Entries { first: true },
            Err(Fail::Eof) => {
                r.repaired = Some(if r.sc.offset() == 0 {
                    "the file is empty; no entries".to_string()
                } else {
                    format!(
                        "the file ends at byte {} inside the HAR header; no entries",
                        r.sc.offset()
                    )
                });
            }
            Err(Fail::Fatal(e)) => return Err(e),
        }
        Ok(r)
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.sc.bytes_read()
    }

    pub(crate) fn repaired(&self) -> Option<&str> {
        self.repaired.as_deref()
    }

    pub(crate) fn creator(&self) -> Option<&Value> {
        self.creator.as_ref()
    }

    fn error(&self, kind: CaptureErrorKind, entry: Option<u64>, offset: u64) -> CaptureError {
        CaptureError::at(
            &self.path,
            Location {
                member: None,
                entry,
                offset: Some(offset),
            },
            kind,
        )
    }

    fn stop(&self, s: Stop) -> Fail {
        let entry = self.partial_at.map(|_| self.index);
        let at = self.partial_at.unwrap_or_else(|| self.sc.offset());
        match s {
            Stop::Eof => Fail::Eof,
            Stop::Io(e) => Fail::Fatal(self.error(e.into(), entry, self.sc.offset())),
            Stop::TooLarge => {
                let limit = if entry.is_some() {
                    MAX_ENTRY_BYTES
                } else {
                    MAX_LOG_FIELD_BYTES
                };
                Fail::Fatal(self.error(
                    CaptureErrorKind::TooLarge {
                        limit: limit as u64,
                    },
                    entry,
                    at,
                ))
            }
        }
    }

    fn peek(&mut self) -> Result<u8, Fail> {
        self.sc.peek().map_err(|s| self.stop(s))
    }

    fn not_har(&self, expected: &str, found: u8) -> Fail {
        Fail::Fatal(self.error(
            CaptureErrorKind::NotHar {
                expected: expected.to_string(),
                found: describe(found),
            },
            None,
            self.sc.offset(),
        ))
    }

    /// Consumes `want` (after whitespace) or fails naming `expected`.
    fn expect(&mut self, want: u8, expected: &str) -> Result<(), Fail> {
        let b = self.peek()?;
        if b != want {
            return Err(self.not_har(expected, b));
        }
        self.sc.bump();
        Ok(())
    }

    /// Reads one member name and its `:`.
    fn key(&mut self) -> Result<String, Fail> {
        let b = self.peek()?;
        if b != b'"' {
            return Err(self.not_har("a member name", b));
        }
        let at = self.sc.offset();
        let (s, e) = self
            .sc
            .value(MAX_LOG_FIELD_BYTES)
            .map_err(|s| self.stop(s))?;
        let key: String = serde_json::from_slice(self.sc.slice(s, e)).map_err(|err| {
            Fail::Fatal(self.error(CaptureErrorKind::Json(err.to_string()), None, at))
        })?;
        self.expect(b':', "`:`")?;
        Ok(key)
    }

    /// Delimits and validates one member value outside the entries; keeps it when asked.
    fn member_value(&mut self, keep: bool) -> Result<Option<Value>, Fail> {
        let at = self.sc.offset();
        let (s, e) = self
            .sc
            .value(MAX_LOG_FIELD_BYTES)
            .map_err(|s| self.stop(s))?;
        let bytes = self.sc.slice(s, e);
        let res = if keep {
            serde_json::from_slice::<Value>(bytes).map(Some)
        } else {
            serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map(|_| None)
        };
        res.map_err(|err| {
            Fail::Fatal(self.error(CaptureErrorKind::Json(err.to_string()), None, at))
        })
    }

    /// Walks the members of the current object: returns `true` positioned at the value of
    /// member `want`, or `false` once the object's `}` is consumed. `first` tracks whether a
    /// member has been seen, so commas are required exactly between members.
    fn seek_member(
        &mut self,
        first: &mut bool,
        want: Option<&str>,
        keep_creator: bool,
    ) -> Result<bool, Fail> {
        loop {
            let b = self.peek()?;
            if b == b'}' {
                self.sc.bump();
                return Ok(false);
            }
            if !*first {
                if b != b',' {
                    return Err(self.not_har("`,` or `}`", b));
                }
                self.sc.bump();
            }
            *first = false;
            let key = self.key()?;
            if Some(key.as_str()) == want {
                return Ok(true);
            }
            let keep = keep_creator && key == "creator";
            if let Some(v) = self.member_value(keep)? {
                self.creator = Some(v);
            }
        }
    }

    fn missing(&self, field: &str) -> Fail {
        Fail::Fatal(self.error(
            CaptureErrorKind::MissingField(field.to_string()),
            None,
            self.sc.offset(),
        ))
    }

    /// `{ ... "log": { ... "entries": [` with anything in between.
    fn header(&mut self) -> Result<(), Fail> {
        self.sc.skip_bom().map_err(|s| self.stop(s))?;
        self.expect(b'{', "`{` (a HAR document is a JSON object)")?;
        if !self.seek_member(&mut true, Some("log"), false)? {
            return Err(self.missing("log"));
        }
        self.expect(b'{', "`{` (the `log` object)")?;
        if !self.seek_member(&mut true, Some("entries"), true)? {
            return Err(self.missing("log.entries"));
        }
        self.expect(b'[', "`[` (the `log.entries` array)")
    }

    /// After `]`: the rest of `log`, the rest of the document, then only whitespace.
    fn trailer(&mut self) -> Result<(), Fail> {
        self.seek_member(&mut false, None, true)?;
        self.seek_member(&mut false, None, false)?;
        match self.sc.at_end() {
            Ok(true) => Ok(()),
            Ok(false) => Err(Fail::Fatal(self.error(
                CaptureErrorKind::TrailingData,
                None,
                self.sc.offset(),
            ))),
            Err(s) => Err(self.stop(s)),
        }
    }

    /// The next element of `log.entries`, `Ok(None)` at the end of the document.
    fn entry(&mut self, first: bool) -> Result<Option<Result<Flow, CaptureError>>, Fail> {
        let b = self.peek()?;
        if b == b']' {
            self.sc.bump();
            self.trailer()?;
            return Ok(None);
        }
        if !first {
            if b != b',' {
                return Err(self.not_har("`,` or `]` between entries", b));
            }
            self.sc.bump();
        }
        let b = self.peek()?;
        if b != b'{' {
            return Err(Fail::Fatal(self.error(
                CaptureErrorKind::NotHar {
                    expected: "`{` (an entry object)".into(),
                    found: describe(b),
                },
                Some(self.index),
                self.sc.offset(),
            )));
        }
        let at = self.sc.offset();
        self.partial_at = Some(at);
        let (s, e) = self.sc.value(MAX_ENTRY_BYTES).map_err(|s| self.stop(s))?;
        self.partial_at = None;
        self.state = State::Entries { first: false };
        let index = self.index;
        self.index += 1;
        let bytes = self.sc.slice(s, e);
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(err) => {
                let off = at + json_error_offset(bytes, &err);
                return Ok(Some(Err(self.error(
                    CaptureErrorKind::Json(err.to_string()),
                    Some(index),
                    off,
                ))));
            }
        };
        Ok(Some(
            har_entry_to_flow(value, FlowId(index)).map_err(|k| self.error(k, Some(index), at)),
        ))
    }

    pub(crate) fn next(&mut self) -> Option<Result<Flow, CaptureError>> {
        let State::Entries { first } = self.state else {
            return None;
        };
        match self.entry(first) {
            Ok(Some(item)) => Some(item),
            Ok(None) => {
                self.state = State::Done;
                None
            }
            Err(Fail::Eof) => {
                self.state = State::Done;
                self.repaired = Some(match self.partial_at {
                    Some(at) => format!(
                        "the file ends inside entry {} (which starts at byte {at}); kept {} \
                         complete entries and dropped the partial one",
                        self.index, self.index
                    ),
                    None => format!(
                        "the file ends after {} complete entries without closing the HAR \
                         document; nothing was dropped",
                        self.index
                    ),
                });
                None
            }
            Err(Fail::Fatal(e)) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

/// The byte offset within `bytes` that a `serde_json` error's line and column point at.
fn json_error_offset(bytes: &[u8], err: &serde_json::Error) -> u64 {
    let line_start = if err.line() <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', bytes)
            .nth(err.line() - 2)
            .map_or(0, |i| i + 1)
    };
    (line_start + err.column().saturating_sub(1)).min(bytes.len()) as u64
}

// ---------------------------------------------------------------------------------------------
// HAR entry -> Flow

fn missing(field: &str) -> CaptureErrorKind {
    CaptureErrorKind::MissingField(field.to_string())
}

fn invalid(field: &str, message: impl Into<String>) -> CaptureErrorKind {
    CaptureErrorKind::InvalidField {
        field: field.to_string(),
        message: message.into(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn req_object(
    m: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Extra, CaptureErrorKind> {
    match m.remove(key) {
        Some(Value::Object(o)) => Ok(o),
        None | Some(Value::Null) => Err(missing(path)),
        Some(v) => Err(invalid(
            path,
            format!("expected an object, found {}", type_name(&v)),
        )),
    }
}

fn opt_object(
    m: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<Extra>, CaptureErrorKind> {
    match m.remove(key) {
        Some(Value::Object(o)) => Ok(Some(o)),
        None | Some(Value::Null) => Ok(None),
        Some(v) => Err(invalid(
            path,
            format!("expected an object, found {}", type_name(&v)),
        )),
    }
}

fn req_string(
    m: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<String, CaptureErrorKind> {
    match m.remove(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(missing(path)),
        Some(v) => Err(invalid(
            path,
            format!("expected a string, found {}", type_name(&v)),
        )),
    }
}

fn opt_string(
    m: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, CaptureErrorKind> {
    match m.remove(key) {
        Some(Value::String(s)) => Ok(Some(s)),
        None | Some(Value::Null) => Ok(None),
        Some(v) => Err(invalid(
            path,
            format!("expected a string, found {}", type_name(&v)),
        )),
    }
}

/// A HAR time in milliseconds; negative (HAR's `-1`), absent or non-numeric means unknown.
fn millis(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
        .filter(|t| *t >= 0.0 && t.is_finite())
}

/// Parses RFC 3339 with any offset (and ISO 8601 as a fallback, for lenient writers).
pub(crate) fn parse_time(s: &str) -> Option<SystemTime> {
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()?;
    let nanos = t.unix_timestamp_nanos();
    let magnitude = Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).ok()?);
    if nanos >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

fn header_text(v: Value, path: &str) -> Result<String, CaptureErrorKind> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(invalid(
            path,
            format!("expected a string, found {}", type_name(&other)),
        )),
    }
}

/// Headers as `{name, value}` objects (HAR) or `[name, value]` arrays (Slack and others).
fn parse_headers(v: Option<Value>, path: &str) -> Result<Headers, CaptureErrorKind> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Headers::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(invalid(
                path,
                format!("expected an array, found {}", type_name(&other)),
            ));
        }
    };
    let mut out = Headers::with_capacity(items.len(), 0);
    for (i, item) in items.into_iter().enumerate() {
        let at = || format!("{path}[{i}]");
        let (name, value) = match item {
            Value::Object(mut o) => {
                let name = o
                    .remove("name")
                    .ok_or_else(|| missing(&format!("{}.name", at())))?;
                (name, o.remove("value").unwrap_or(Value::Null))
            }
            Value::Array(a) => {
                let mut it = a.into_iter();
                match (it.next(), it.next()) {
                    (Some(n), v) => (n, v.unwrap_or(Value::Null)),
                    (None, _) => return Err(invalid(&at(), "empty header array")),
                }
            }
            other => {
                return Err(invalid(
                    &at(),
                    format!(
                        "expected an object or an array, found {}",
                        type_name(&other)
                    ),
                ));
            }
        };
        out.push((header_text(name, &at())?, header_text(value, &at())?));
    }
    out.shrink_to_fit();
    Ok(out)
}

/// What `_idscope.request_body` / `_idscope.response_body` say about a body.
#[derive(Default)]
struct BodyMeta {
    size: Option<u64>,
    sha256: Option<String>,
    truncated: bool,
    /// Present when the writer said explicitly which encoding the stored bytes carry.
    encoding: Option<Option<String>>,
}

/// idscope's own fields on an entry (`_idscope`).
#[derive(Default)]
struct Ours {
    client: Option<std::net::SocketAddr>,
    tags: Vec<String>,
    marked: bool,
    incomplete: Option<bool>,
    request_body: BodyMeta,
    response_body: BodyMeta,
    unknown_timings: Vec<String>,
}

fn body_meta(v: Option<&Value>, path: &str) -> Result<BodyMeta, CaptureErrorKind> {
    let Some(v) = v else {
        return Ok(BodyMeta::default());
    };
    let o = v
        .as_object()
        .ok_or_else(|| invalid(path, "expected an object"))?;
    Ok(BodyMeta {
        size: o.get("size").and_then(Value::as_u64),
        sha256: o.get("sha256").and_then(Value::as_str).map(String::from),
        truncated: o.get("truncated").and_then(Value::as_bool).unwrap_or(false),
        encoding: o.get("encoding").map(|e| e.as_str().map(String::from)),
    })
}

fn parse_ours(v: Option<Value>) -> Result<Ours, CaptureErrorKind> {
    let o = match v {
        None | Some(Value::Null) => return Ok(Ours::default()),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(invalid(
                IDSCOPE_FIELD,
                format!("expected an object, found {}", type_name(&other)),
            ));
        }
    };
    let client = match o.get("client").and_then(Value::as_str) {
        Some(s) => Some(
            s.parse()
                .map_err(|_| invalid("_idscope.client", format!("not a socket address: {s:?}")))?,
        ),
        None => None,
    };
    let strings = |key: &str| -> Vec<String> {
        o.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Ours {
        client,
        tags: strings("tags"),
        marked: o.get("marked").and_then(Value::as_bool).unwrap_or(false),
        incomplete: o.get("incomplete").and_then(Value::as_bool),
        request_body: body_meta(o.get("request_body"), "_idscope.request_body")?,
        response_body: body_meta(o.get("response_body"), "_idscope.response_body")?,
        unknown_timings: strings("unknown_timings"),
    })
}

fn make_body(raw: Vec<u8>, binary: bool, headers: &Headers, meta: BodyMeta) -> Body {
    let encoding = match meta.encoding {
        Some(explicit) => explicit,
        None => sniff_encoding(&raw, binary, headers),
    };
    let mut body = Body::plain(raw);
    body.encoding = encoding;
    if let Some(size) = meta.size {
        body.size = size;
    }
    body.truncated = meta.truncated;
    body.sha256 = meta.sha256;
    body
}

/// Decodes a HAR `text` field: base64 when `encoding` says so, else the UTF-8 bytes.
fn body_text(
    text: String,
    encoding: Option<&str>,
    path: &str,
) -> Result<(Vec<u8>, bool), CaptureErrorKind> {
    if !encoding.is_some_and(|e| e.eq_ignore_ascii_case("base64")) {
        return Ok((text.into_bytes(), false));
    }
    let bytes = BASE64_LENIENT.decode(text.as_bytes()).or_else(|_| {
        // Some writers wrap long base64 lines.
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        BASE64_LENIENT.decode(compact)
    });
    bytes
        .map(|b| (b, true))
        .map_err(|e| invalid(path, format!("bad base64: {e}")))
}

fn request_from_har(mut r: Extra, meta: BodyMeta) -> Result<Request, CaptureErrorKind> {
    let method = req_string(&mut r, "method", "request.method")?;
    let url = req_string(&mut r, "url", "request.url")?;
    let http_version =
        opt_string(&mut r, "httpVersion", "request.httpVersion")?.unwrap_or_default();
    let headers = parse_headers(r.remove("headers"), "request.headers")?;
    for derived in ["cookies", "queryString", "headersSize", "bodySize"] {
        r.remove(derived);
    }
    let (raw, binary) = match opt_object(&mut r, "postData", "request.postData")? {
        None => (Vec::new(), false),
        Some(mut pd) => match opt_string(&mut pd, "text", "request.postData.text")? {
            Some(text) => {
                let enc = pd.get("encoding").and_then(Value::as_str);
                body_text(text, enc, "request.postData.text")?
            }
            None => (params_to_form(pd.get("params")).into_bytes(), false),
        },
    };
    let body = make_body(raw, binary, &headers, meta);
    Ok(Request {
        method,
        url,
        http_version,
        headers,
        body,
        extra: r,
    })
}

/// Rebuilds an urlencoded body from HAR `postData.params` (for writers that omit `text`).
fn params_to_form(params: Option<&Value>) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for p in params.and_then(Value::as_array).into_iter().flatten() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = p.get("value").and_then(Value::as_str).unwrap_or_default();
        ser.append_pair(name, value);
    }
    ser.finish()
}

fn outcome_from_har(mut r: Extra, ours: &mut Ours) -> Result<Outcome, CaptureErrorKind> {
    let status = match r.remove("status") {
        None | Some(Value::Null) => return Err(missing("response.status")),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| invalid("response.status", format!("not a status code: {v}")))?,
    };
    if status == 0 {
        // mitmproxy writes `status: 0` with `_error: "..."` for failed flows and `_error: null`
        // for flows still in flight; Chrome writes `status: 0` with `_error: "net::..."`.
        let (message, has_message) = match r.remove("_error") {
            Some(Value::String(s)) => (s, true),
            _ => ("no response".to_string(), false),
        };
        return Ok(Outcome::Error(FlowError {
            message,
            incomplete: ours.incomplete.unwrap_or(!has_message),
        }));
    }
    let reason = opt_string(&mut r, "statusText", "response.statusText")?.unwrap_or_default();
    let http_version =
        opt_string(&mut r, "httpVersion", "response.httpVersion")?.unwrap_or_default();
    let headers = parse_headers(r.remove("headers"), "response.headers")?;
    for derived in ["cookies", "redirectURL", "headersSize", "bodySize"] {
        r.remove(derived);
    }
    let (raw, binary) = match opt_object(&mut r, "content", "response.content")? {
        None => (Vec::new(), false),
        Some(mut c) => match opt_string(&mut c, "text", "response.content.text")? {
            Some(text) => {
                let enc = c.get("encoding").and_then(Value::as_str);
                body_text(text, enc, "response.content.text")?
            }
            None => (Vec::new(), false),
        },
    };
    let body = make_body(
        raw,
        binary,
        &headers,
        std::mem::take(&mut ours.response_body),
    );
    Ok(Outcome::Response(Response {
        status,
        reason,
        http_version,
        headers,
        body,
        extra: r,
    }))
}

/// Converts one HAR entry into a flow with the given id. Fields idscope does not model
/// (`_`-prefixed ones, `pageref`, `connection`, a non-empty `cache`, request/response `comment`)
/// are kept in the `extra` maps; idscope's own `_idscope` object is read back into the flow.
pub fn har_entry_to_flow(entry: Value, id: FlowId) -> Result<Flow, CaptureErrorKind> {
    let Value::Object(mut e) = entry else {
        return Err(invalid(
            "entry",
            format!("expected an object, found {}", type_name(&entry)),
        ));
    };
    let mut ours = parse_ours(e.remove(IDSCOPE_FIELD))?;
    // security.md §3 names the in-flight marker `_incomplete` on the entry; it is also kept
    // inside `_idscope` for older idscope files.
    if let Some(Value::Bool(b)) = e.remove(INCOMPLETE_FIELD) {
        ours.incomplete = Some(ours.incomplete.unwrap_or(false) || b);
    }
    let started = req_string(&mut e, "startedDateTime", "startedDateTime")?;
    let started_at = parse_time(&started).ok_or_else(|| {
        invalid(
            "startedDateTime",
            format!("not an RFC 3339 time: {started:?}"),
        )
    })?;
    let total = millis(e.get("time"));
    e.remove("time");
    let request = req_object(&mut e, "request", "request")?;
    let response = req_object(&mut e, "response", "response")?;
    let request = request_from_har(request, std::mem::take(&mut ours.request_body))?;
    let outcome = outcome_from_har(response, &mut ours)?;
    let t = opt_object(&mut e, "timings", "timings")?.unwrap_or_default();
    let mut timings = Timings {
        total,
        blocked: millis(t.get("blocked")),
        dns: millis(t.get("dns")),
        connect: millis(t.get("connect")),
        ssl: millis(t.get("ssl")),
        send: millis(t.get("send")),
        wait: millis(t.get("wait")),
        receive: millis(t.get("receive")),
    };
    for name in &ours.unknown_timings {
        match name.as_str() {
            "time" => timings.total = None,
            "send" => timings.send = None,
            "wait" => timings.wait = None,
            "receive" => timings.receive = None,
            _ => {}
        }
    }
    let server_addr =
        opt_string(&mut e, "serverIPAddress", "serverIPAddress")?.filter(|s| !s.is_empty());
    let comment = opt_string(&mut e, "comment", "comment")?;
    // An empty `cache` says nothing; the writer always emits one.
    if e.get("cache")
        .is_some_and(|c| c.as_object().is_some_and(Map::is_empty))
    {
        e.remove("cache");
    }
    Ok(Flow {
        id,
        started_at,
        client_addr: ours.client,
        server_addr,
        request,
        outcome,
        timings,
        tags: ours.tags,
        comment,
        marked: ours.marked,
        extra: e,
    })
}

// ---------------------------------------------------------------------------------------------
// Writer

/// A writer dropped without [`HarWriter::finish`] still writes what it staged (best effort: a
/// drop cannot report an error; the recorder commits explicitly and reports).
impl Drop for HarWriter {
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

/// Writes a crash-safe HAR recording (security.md §3).
///
/// Layout: a header line `{"log":{"version":"1.2","creator":{…},"entries":[`, then one compact
/// entry per line — the first as `{…}`, later ones as `,{…}` — each written whole inside a
/// single `write` call (one flow with [`HarWriter::write_flow`], or the flows staged with
/// [`HarWriter::stage_flow`] together with [`HarWriter::commit`]), and `]}}` on
/// [`HarWriter::finish`]. A finished file is plain HAR; a file cut anywhere (`kill -9`, power
/// loss after the page cache) loses at most the entries of the write in progress, and the
/// reader repairs it. Dropping the writer without `finish` leaves such a repairable
/// file too. The file is created with mode 0600. After a write error every later call fails:
/// the recording stops loudly rather than leaving a hole.
#[derive(Debug)]
pub struct HarWriter {
    file: File,
    path: PathBuf,
    entries: u64,
    failed: bool,
    /// Entries staged by [`HarWriter::stage_flow`], written by [`HarWriter::commit`].
    staged: Vec<u8>,
}

impl HarWriter {
    /// Creates a new recording at `path`; fails if the file exists (never clobbers).
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::open(path, false, None)
    }

    /// Like [`HarWriter::create`], with `note` as the `_idscope` member of `log.creator` (what a
    /// later reader needs to know about how the capture was made, e.g. the demo's reference
    /// server seed; see [`crate::capture::CaptureReader::creator`]).
    pub fn create_with_note(path: &Path, note: &serde_json::Value) -> io::Result<Self> {
        Self::open(path, false, Some(note))
    }

    /// Creates a recording at `path`, replacing an existing file (for `--force`). The file ends
    /// up with mode 0600 even when the replaced one was more permissive.
    pub fn create_or_overwrite(path: &Path) -> io::Result<Self> {
        Self::open(path, true, None)
    }

    fn open(path: &Path, overwrite: bool, note: Option<&serde_json::Value>) -> io::Result<Self> {
        let mut opts = OpenOptions::new();
        opts.write(true);
        if overwrite {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        #[cfg(unix)]
        if overwrite {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        let mut w = HarWriter {
            file,
            path: path.to_path_buf(),
            entries: 0,
            failed: false,
            staged: Vec::new(),
        };
        let note = note
            .map(|n| format!(",\"{IDSCOPE_FIELD}\":{n}"))
            .unwrap_or_default();
        let header = format!(
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{{\"name\":\"idscope\",\"version\":\"{}\"{note}}},\"entries\":[\n",
            env!("CARGO_PKG_VERSION")
        );
        w.write_once(header.as_bytes())?;
        Ok(w)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many entries have been written.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn write_once(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(format!(
                "recording to {} stopped after an earlier write error",
                self.path.display()
            )));
        }
        // One write call per entry: a regular file takes the whole buffer at once, so a crash
        // can only cut the entry being written. A short write (disk nearly full) is completed.
        let res = self.file.write(bytes).and_then(|n| match bytes.get(n..) {
            Some(rest) if !rest.is_empty() => self.file.write_all(rest),
            _ => Ok(()),
        });
        if res.is_err() {
            self.failed = true;
        }
        res
    }

    /// Appends one flow as one line, with one write call. Flows still in flight at shutdown are
    /// written with `Outcome::Error { incomplete: true, .. }`, which becomes
    /// `_idscope.incomplete: true`.
    pub fn write_flow(&mut self, f: &Flow) -> io::Result<()> {
        self.stage_flow(f);
        self.commit()
    }

    /// Serialises one flow as one line into the staging buffer; nothing reaches the file until
    /// [`HarWriter::commit`]. The recorder stages the flows that finished together and commits
    /// them with one write call (group commit): every line is still whole inside one write, so
    /// a crash cuts at most the lines of that write, and those were not on disk before it.
    pub fn stage_flow(&mut self, f: &Flow) {
        if self.entries > 0 {
            self.staged.push(b',');
        }
        write_entry(&mut self.staged, f);
        self.staged.push(b'\n');
        self.entries += 1;
    }

    /// Writes every staged line with one write call.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let staged = std::mem::take(&mut self.staged);
        let res = self.write_once(&staged);
        // The buffer's capacity is kept for the next batch.
        self.staged = staged;
        self.staged.clear();
        res
    }

    /// Flushes written entries to stable storage (the recorder may call this periodically).
    pub fn sync(&mut self) -> io::Result<()> {
        self.commit()?;
        self.file.sync_data()
    }

    /// Writes the footer `]}}` and syncs: the file is then a complete HAR document.
    pub fn finish(mut self) -> io::Result<()> {
        self.commit()?;
        self.write_once(b"]}}\n")?;
        self.file.sync_all()
    }

    /// Like [`HarWriter::finish`], with extra members of `log` written after `entries` (the
    /// redaction record `_redaction`, whose counts are known only at the end).
    pub fn finish_with(mut self, log_fields: &Map<String, Value>) -> io::Result<()> {
        self.commit()?;
        let mut footer = b"]".to_vec();
        for (k, v) in log_fields {
            footer.push(b',');
            serde_json::to_writer(&mut footer, k)?;
            footer.push(b':');
            serde_json::to_writer(&mut footer, v)?;
        }
        footer.extend_from_slice(b"}}\n");
        self.write_once(&footer)?;
        self.file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::super::har_fields::format_time;
    use super::*;
    use crate::capture::{flow_to_har_entry, from_bytes, open, read_all};
    use crate::flow::header;
    use crate::flow::testing;
    use proptest::prelude::*;
    use serde_json::json;

    /// `shared/corpus/har-peers` beside the repository (`/work/main` and worktrees such as
    /// `/work/wt/NAME` sit at different depths, so the nearest ancestor that has it wins).
    pub(crate) fn corpus() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/corpus/har-peers"))
            .find(|p| p.is_dir())
            .expect("shared/corpus/har-peers next to the repository")
    }

    fn read_str(s: &str) -> Result<Vec<Flow>, CaptureError> {
        from_bytes(Path::new("t.har"), s.as_bytes().to_vec())?.collect()
    }

    fn entry(extra: &str) -> String {
        format!(
            r#"{{"startedDateTime":"2024-05-01T10:00:00.5+02:00","time":12,"request":{{"method":"GET","url":"https://idp.example/a","httpVersion":"h3","headers":[]}},"response":{{"status":200,"headers":[]{extra}}}}}"#
        )
    }

    #[test]
    fn every_peer_file_loads_and_the_broken_one_is_refused() {
        let mut count = 0;
        for f in std::fs::read_dir(corpus()).unwrap() {
            let p = f.unwrap().path();
            let res = read_all(&p);
            if p.ends_with("broken-brokenfile.har") {
                let e = res.unwrap_err();
                assert_eq!(e.location().offset, Some(8), "{e}");
                assert!(
                    e.to_string()
                        .contains("broken-brokenfile.har: at byte 8: not a HAR file"),
                    "{e}"
                );
            } else {
                let flows = res.unwrap_or_else(|e| panic!("{e}"));
                assert!(!flows.is_empty(), "{}", p.display());
                count += 1;
            }
        }
        assert_eq!(count, 14);
    }

    #[test]
    fn bom_h3_and_array_headers_are_accepted() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(
            br#"{"log":{"version":"1.2","entries":[{"startedDateTime":"2024-05-01T10:00:00Z","request":{"method":"GET","url":"https://x/","httpVersion":"h3","headers":[["Accept","*/*"],{"name":"X","value":"1"}]},"response":{"status":204,"httpVersion":"","headers":[["Server","s"]]}}]}}"#,
        );
        let flows: Vec<Flow> = from_bytes(Path::new("b.har"), bytes)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let f = &flows[0];
        assert_eq!(f.request.http_version, "h3");
        assert_eq!(f.request.headers, vec![("Accept", "*/*"), ("X", "1")]);
        assert_eq!(f.response().unwrap().headers, vec![("Server", "s")]);
        assert_eq!(f.timings, Timings::default());
    }

    #[test]
    fn started_date_time_with_offset_becomes_utc_system_time() {
        let flows = read_str(&format!(r#"{{"log":{{"entries":[{}]}}}}"#, entry(""))).unwrap();
        // 10:00:00.5+02:00 is 08:00:00.5Z.
        let want = UNIX_EPOCH + Duration::from_millis(1_714_550_400_500);
        assert_eq!(flows[0].started_at, want);
        assert_eq!(flows[0].timings.total, Some(12.0));
        assert_eq!(format_time(want), "2024-05-01T08:00:00.5Z");
    }

    #[test]
    fn base64_content_and_custom_fields_are_kept() {
        let e = entry(
            r#","content":{"text":"aGk=","encoding":"base64"},"_transferSize":9,"comment":"c""#,
        );
        let e = e.replacen(
            "{\"startedDateTime\"",
            "{\"_custom\":[1],\"pageref\":\"p\",\"startedDateTime\"",
            1,
        );
        let flows = read_str(&format!(r#"{{"log":{{"entries":[{e}]}}}}"#)).unwrap();
        let f = &flows[0];
        let r = f.response().unwrap();
        assert_eq!(&r.body.raw[..], b"hi");
        assert_eq!(r.body.encoding, None);
        assert_eq!(r.extra.get("_transferSize"), Some(&json!(9)));
        assert_eq!(r.extra.get("comment"), Some(&json!("c")));
        assert_eq!(f.extra.get("_custom"), Some(&json!([1])));
        assert_eq!(f.extra.get("pageref"), Some(&json!("p")));
    }

    #[test]
    fn mitmproxy_error_entries_become_errors_and_chrome_null_error_is_a_response() {
        let flows = read_all(&corpus().join("mitmproxy-error_log.har")).unwrap();
        let err = flows[0].error().unwrap();
        assert!(err.message.starts_with("Multiple exceptions"));
        assert!(!err.incomplete);
        assert_eq!(flows[1].response().unwrap().status, 405);
        let flows = read_all(&corpus().join("mitmproxy-incomplete_log.har")).unwrap();
        assert!(
            flows
                .iter()
                .all(|f| f.error().is_some_and(|e| e.incomplete))
        );
        let flows = read_all(&corpus().join("postdata.har")).unwrap();
        let r = flows[0].response().unwrap();
        assert_eq!(r.extra.get("_error"), Some(&Value::Null));
        assert!(
            flows[0]
                .request
                .body
                .raw
                .starts_with(b"{\"metadata\":{\"pageViewId\"")
        );
    }

    #[test]
    fn still_gzipped_har_body_keeps_its_encoding_but_decoded_text_does_not() {
        let flows = read_all(&corpus().join("mitmproxy-corrupted_gzip_body.har")).unwrap();
        let body = &flows[0].response().unwrap().body;
        assert_eq!(body.encoding.as_deref(), Some("gzip"));
        assert!(body.raw.starts_with(&[0x1f, 0x8b]));
        let flows = read_all(&corpus().join("safari.har")).unwrap();
        let r = flows[0].response().unwrap();
        assert!(header(&r.headers, "content-encoding").is_some());
        assert_eq!(r.body.encoding, None);
    }

    #[test]
    fn minus_one_timings_are_unknown_and_params_rebuild_a_form_body() {
        let e = entry("").replace(
            r#""headers":[]},"response""#,
            r#""headers":[],"postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"grant_type","value":"password"},{"name":"u","value":"a b&c"}]}},"response""#,
        );
        let e = e.replacen(
            '{',
            r#"{"timings":{"connect":-1,"dns":-1,"send":1.5,"wait":-1,"receive":0},"#,
            1,
        );
        let flows = read_str(&format!(r#"{{"log":{{"entries":[{e}]}}}}"#)).unwrap();
        let f = &flows[0];
        assert_eq!(&f.request.body.raw[..], b"grant_type=password&u=a+b%26c");
        assert_eq!(f.timings.connect, None);
        assert_eq!(f.timings.wait, None);
        assert_eq!(f.timings.send, Some(1.5));
        assert_eq!(f.timings.receive, Some(0.0));
    }

    #[test]
    fn bad_entry_error_names_file_entry_and_offset_and_reading_continues() {
        let good = entry("");
        let bad = good.replace(r#""url":"https://idp.example/a","#, "");
        let doc = format!("{{\"log\":{{\"entries\":[{good},\n{bad},{good}]}}}}");
        let at = doc.find(&format!("\n{bad}")).unwrap() + 1;
        let items: Vec<_> = from_bytes(Path::new("corpus/x.har"), doc.into_bytes())
            .unwrap()
            .collect();
        assert_eq!(items.len(), 3);
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("corpus/x.har: entry 1 at byte {at}: missing field `request.url`")
        );
        assert_eq!(items[2].as_ref().unwrap().id, FlowId(2));
    }

    #[test]
    fn invalid_json_inside_an_entry_points_at_the_bad_byte() {
        let doc = r#"{"log":{"entries":[{"startedDateTime":"2024-05-01T10:00:00Z",
"request":{"method":"GET","url":"u" "x":1}}]}}"#;
        let e = read_str(doc).unwrap_err();
        assert_eq!(e.location().entry, Some(0));
        assert_eq!(e.location().offset, Some(doc.find("\"x\"").unwrap() as u64));
        assert!(matches!(e.kind(), CaptureErrorKind::Json(_)));
    }

    #[test]
    fn malformed_structure_is_an_error_not_a_repair() {
        let e = entry("");
        for (doc, want) in [
            (format!(r#"{{"log":{{"entries":[{e}}}]}}}}"#), None),
            (format!(r#"{{"log":{{"entries":[{e},]}}}}"#), Some(1)),
            (r#"{"log":{"entries":[{"a":1}]}}"#.to_string(), Some(0)),
            (r#"{"log":{"entries":[1]}}"#.to_string(), Some(0)),
            (r#"{"log":{"entries":[]}} x"#.to_string(), None),
            (r#"{"log":{"version":"1.2"}}"#.to_string(), None),
            (
                r#"{"log":{"version":1.2.3,"entries":[]}}"#.to_string(),
                None,
            ),
            ("[]".to_string(), None),
        ] {
            let res: Result<Vec<Flow>, _> =
                from_bytes(Path::new("m.har"), doc.clone().into_bytes()).and_then(|r| r.collect());
            let err = res.expect_err(&doc);
            assert_eq!(err.location().entry, want, "{doc}: {err}");
            assert!(err.location().offset.is_some(), "{doc}: {err}");
        }
    }

    /// Small but varied flows: strings with escapes and brackets, non-ASCII, binary bodies,
    /// errors (complete and in flight), unknown timings, tags, marks and client addresses.
    fn sample_flows(n: u64) -> Vec<Flow> {
        (0..n)
            .map(|i| {
                let post = i % 3 == 0;
                let mut req = testing::request(
                    if post { "POST" } else { "GET" },
                    &format!("https://l.example/{i}?q=é"),
                );
                if i % 4 == 0 {
                    req.headers.push(("Cookie".into(), "s=\"}]\"".into()));
                }
                if post {
                    req.body = Body::plain(format!("p={i}\\\"}}"));
                }
                let body: Vec<u8> = if i % 4 == 1 {
                    vec![0xff, 0x00, i as u8, b'{']
                } else {
                    format!("[\"]\n{i}\"]").into_bytes()
                };
                let mut resp = testing::response(200, "text/plain", &body);
                resp.headers.clear();
                let mut f = testing::flow(i, req, resp);
                if i % 5 == 2 {
                    f.outcome = Outcome::Error(FlowError {
                        message: format!("reset {i}"),
                        incomplete: i % 2 == 0,
                    });
                }
                f.timings.total = (i % 2 == 0).then_some(i as f64 + 0.25);
                f.timings.wait = Some(1.0);
                f.tags = if i % 6 == 0 {
                    vec!["replay".into()]
                } else {
                    vec![]
                };
                f.marked = i % 7 == 0;
                f.client_addr = (i % 2 == 1).then(|| "127.0.0.1:5000".parse().unwrap());
                f.started_at += Duration::from_nanos(i * 1001);
                f
            })
            .collect()
    }

    fn write(path: &Path, flows: &[Flow]) {
        let mut w = HarWriter::create(path).unwrap();
        for f in flows {
            w.write_flow(f).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn writer_output_is_valid_har_with_one_entry_per_line_and_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rec.har");
        let flows = sample_flows(5);
        write(&p, &flows);
        let text = std::fs::read_to_string(&p).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["log"]["creator"]["name"], "idscope");
        assert_eq!(doc["log"]["entries"].as_array().unwrap().len(), 5);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert!(lines[1].starts_with('{') && lines[2].starts_with(",{"));
        assert_eq!(lines[6], "]}}");
        let e = &doc["log"]["entries"][0];
        for k in [
            "cookies",
            "queryString",
            "headersSize",
            "bodySize",
            "postData",
        ] {
            assert!(e["request"].get(k).is_some(), "request.{k}");
        }
        for k in ["content", "redirectURL", "cookies", "headersSize"] {
            assert!(e["response"].get(k).is_some(), "response.{k}");
        }
        assert_eq!(e["cache"], json!({}));
        for k in ["send", "wait", "receive"] {
            assert!(e["timings"][k].as_f64().unwrap() >= 0.0);
        }
        assert_eq!(e["request"]["cookies"][0]["name"], "s");
        assert_eq!(e["request"]["queryString"][0]["value"], "é");
        let binary = &doc["log"]["entries"][1]["response"]["content"];
        assert_eq!(binary["encoding"], "base64");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(read_all(&p).unwrap(), flows);
    }

    #[test]
    fn writer_refuses_to_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.har");
        std::fs::write(&p, "precious").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let e = HarWriter::create(&p).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "precious");
        let w = HarWriter::create_or_overwrite(&p).unwrap();
        w.finish().unwrap();
        assert!(read_all(&p).unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn idscope_fields_round_trip_through_the_underscore_object() {
        let mut flows = sample_flows(1);
        let f = &mut flows[0];
        f.client_addr = Some("[::1]:4444".parse().unwrap());
        f.tags = vec!["replay-of:#3".into()];
        f.marked = true;
        f.comment = Some("look".into());
        f.server_addr = Some("10.0.0.1:443".into());
        let mut body = Body::plain(vec![b'x'; 10]);
        body.size = 4096;
        body.truncated = true;
        body.sha256 = Some("ab".repeat(32));
        f.request.body = body;
        f.timings = Timings::default();
        let e = flow_to_har_entry(f);
        assert_eq!(e["_idscope"]["request_body"]["truncated"], true);
        assert_eq!(e["_idscope"]["marked"], true);
        assert_eq!(har_entry_to_flow(e, FlowId(0)).unwrap(), flows[0]);
    }

    #[test]
    fn in_flight_flows_carry_the_entry_level_incomplete_marker() {
        let mut f = sample_flows(1).remove(0);
        f.outcome = Outcome::Error(FlowError {
            message: "proxy stopped".into(),
            incomplete: true,
        });
        let e = flow_to_har_entry(&f);
        assert_eq!(e["_incomplete"], true, "security.md §3 names `_incomplete`");
        assert_eq!(har_entry_to_flow(e.clone(), FlowId(0)).unwrap(), f);
        // A file that carries only the entry-level marker reads as incomplete too.
        let mut only_entry = e;
        only_entry.as_object_mut().unwrap().remove("_idscope");
        let back = har_entry_to_flow(only_entry, FlowId(0)).unwrap();
        assert!(back.error().is_some_and(|e| e.incomplete));
    }

    #[test]
    fn encoded_bodies_are_stored_decoded_unless_they_cannot_be_decoded() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"access_token\":\"x\"}").unwrap();
        let gz = gz.finish().unwrap();
        let mut f = sample_flows(1).remove(0);
        let mut resp = testing::response(200, "application/json", b"");
        resp.headers
            .push(("Content-Encoding".into(), "gzip".into()));
        resp.body = Body::encoded(gz.clone(), "gzip");
        f.outcome = Outcome::Response(resp.clone());
        let back = har_entry_to_flow(flow_to_har_entry(&f), FlowId(0)).unwrap();
        let b = &back.response().unwrap().body;
        assert_eq!(&b.raw[..], b"{\"access_token\":\"x\"}");
        assert_eq!((b.encoding.as_deref(), b.size), (None, gz.len() as u64));
        // A corrupt gzip body is stored as-is and reads back still encoded.
        resp.body = Body::encoded(&b"\x1f\x8b\x08\x00broken"[..], "gzip");
        f.outcome = Outcome::Response(resp.clone());
        let back = har_entry_to_flow(flow_to_har_entry(&f), FlowId(0)).unwrap();
        assert_eq!(back.response().unwrap().body, resp.body);
        // Plain bytes that merely look gzipped keep `encoding: None`.
        resp.body = Body::plain(gz);
        f.outcome = Outcome::Response(resp.clone());
        let back = har_entry_to_flow(flow_to_har_entry(&f), FlowId(0)).unwrap();
        assert_eq!(back.response().unwrap().body, resp.body);
    }

    /// Byte offsets just past each entry's closing `}` in a file written by [`HarWriter`]:
    /// an entry is *complete* in a prefix of the file exactly when the prefix contains that
    /// closing brace (the newline and the next entry's comma are not needed).
    fn entry_ends(bytes: &[u8]) -> Vec<usize> {
        let mut ends = vec![];
        let mut pos = 0;
        for (i, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
            let t = line.strip_suffix(b"\n").unwrap_or(line);
            // Line 0 is the header and `]}}` the footer; every other line is one entry.
            if i > 0 && t != b"]}}" {
                assert!(t.ends_with(b"}"));
                ends.push(pos + t.len());
            }
            pos += line.len();
        }
        ends
    }

    #[test]
    fn truncation_at_every_offset_keeps_exactly_the_complete_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.har");
        let flows = sample_flows(50);
        write(&p, &flows);
        let bytes = std::fs::read(&p).unwrap();
        let ends = entry_ends(&bytes);
        assert_eq!(ends.len(), 50);
        assert!(bytes.len() > 50 * 400, "entries are realistic HAR entries");
        let footer_end = bytes.len() - 1; // `]}}` present, final newline optional
        for cut in 0..=bytes.len() {
            let mut r = from_bytes(Path::new("cut.har"), bytes[..cut].to_vec())
                .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            let got: Vec<Flow> = r
                .by_ref()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(got.len(), complete, "cut at {cut}");
            assert_eq!(got[..], flows[..complete], "cut at {cut}");
            assert_eq!(
                r.repaired().is_some(),
                cut < footer_end,
                "cut at {cut}: {:?}",
                r.repaired()
            );
        }
    }

    #[test]
    fn empty_file_is_an_empty_repaired_capture() {
        let r = from_bytes(Path::new("e.har"), vec![]).unwrap();
        assert_eq!(r.repaired(), Some("the file is empty; no entries"));
        assert_eq!(r.count(), 0);
    }

    #[test]
    fn reader_reports_progress_and_creator() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.har");
        write(&p, &sample_flows(3));
        let mut r = open(&p).unwrap();
        assert_eq!(r.creator().unwrap()["name"], "idscope");
        assert_eq!(r.by_ref().count(), 3);
        assert_eq!(Some(r.bytes_read()), r.total_bytes());
    }

    #[test]
    fn a_creator_note_is_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.har");
        let note = serde_json::json!({"fixture_seed": 42});
        let mut w = HarWriter::create_with_note(&p, &note).unwrap();
        for f in sample_flows(2) {
            w.write_flow(&f).unwrap();
        }
        w.finish().unwrap();
        let mut r = open(&p).unwrap();
        assert_eq!(r.creator().unwrap()["_idscope"], note);
        assert_eq!(r.creator().unwrap()["name"], "idscope");
        assert_eq!(r.by_ref().count(), 2);
        // Still a HAR any reader accepts.
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["log"]["creator"]["_idscope"]["fixture_seed"], 42);
    }

    fn corpus_files() -> Vec<Vec<u8>> {
        let mut v: Vec<_> = std::fs::read_dir(corpus())
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .filter(|b| b.len() < 100_000)
            .collect();
        v.sort();
        v
    }

    fn drain(bytes: Vec<u8>) {
        if let Ok(r) = from_bytes(Path::new("fuzz.har"), bytes) {
            for item in r {
                let _ = item;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            drain(bytes);
        }

        #[test]
        fn random_json_like_bytes_never_panic(s in r#"[{}\[\]",:\\a-z0-9 \n-]{0,400}"#) {
            drain(format!("{{\"log\":{{\"entries\":[{s}").into_bytes());
        }

        #[test]
        fn mutated_corpus_files_never_panic(
            file in 0usize..64,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        ) {
            let files = corpus_files();
            let mut bytes = files[file % files.len()].clone();
            for (at, byte, op) in edits {
                if bytes.is_empty() { break; }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
            }
            drain(bytes);
        }
    }
}

#[cfg(test)]
mod direct_writer_equivalence {
    use super::super::har_entry::{mime_type, response_cookies, store_body};
    use super::super::har_fields::format_time;
    use super::*;
    use crate::flow::{FlowError, header};
    use serde_json::json;

    fn har_headers(h: &Headers) -> Value {
        Value::Array(
            h.iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        )
    }

    fn request_cookies(h: &Headers) -> Value {
        let cookies = h
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .map(|(n, v)| json!({"name": n.trim(), "value": v.trim()}))
            .collect();
        Value::Array(cookies)
    }

    fn request_to_har(r: &Request, ours: &mut Map<String, Value>) -> Value {
        let mut o = r.extra.clone();
        let stored = store_body(&r.body, &r.headers);
        o.insert("method".into(), r.method.clone().into());
        o.insert("url".into(), r.url.clone().into());
        o.insert("httpVersion".into(), r.http_version.clone().into());
        o.insert("cookies".into(), request_cookies(&r.headers));
        o.insert("headers".into(), har_headers(&r.headers));
        let query: Vec<Value> = idscope_decoders::util::url_query_pairs(&r.url)
            .into_iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        o.insert("queryString".into(), Value::Array(query));
        o.insert("headersSize".into(), (-1).into());
        o.insert("bodySize".into(), r.body.size.into());
        if stored.len > 0 {
            let mut pd = Map::new();
            pd.insert("mimeType".into(), mime_type(&r.headers).into());
            pd.insert("text".into(), stored.text.into());
            if stored.base64 {
                pd.insert("encoding".into(), "base64".into());
            }
            o.insert("postData".into(), Value::Object(pd));
        }
        if !stored.meta.is_empty() {
            ours.insert("request_body".into(), Value::Object(stored.meta.to_map()));
        }
        Value::Object(o)
    }

    fn response_to_har(outcome: &Outcome, ours: &mut Map<String, Value>) -> Value {
        let r = match outcome {
            Outcome::Response(r) => r,
            Outcome::Error(e) => {
                if e.incomplete {
                    ours.insert("incomplete".into(), true.into());
                }
                // mitmproxy's shape for a flow without a response.
                return json!({
                    "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                    "content": {"size": 0, "mimeType": ""}, "redirectURL": "",
                    "headersSize": -1, "bodySize": -1, "_error": e.message,
                });
            }
        };
        let mut o = r.extra.clone();
        let stored = store_body(&r.body, &r.headers);
        o.insert("status".into(), r.status.into());
        o.insert("statusText".into(), r.reason.clone().into());
        o.insert("httpVersion".into(), r.http_version.clone().into());
        o.insert("cookies".into(), response_cookies(&r.headers));
        o.insert("headers".into(), har_headers(&r.headers));
        let mut content = Map::new();
        content.insert("size".into(), stored.len.into());
        content.insert("mimeType".into(), mime_type(&r.headers).into());
        if stored.len > 0 {
            content.insert("text".into(), stored.text.into());
            if stored.base64 {
                content.insert("encoding".into(), "base64".into());
            }
        }
        o.insert("content".into(), Value::Object(content));
        o.insert(
            "redirectURL".into(),
            header(&r.headers, "location").unwrap_or_default().into(),
        );
        o.insert("headersSize".into(), (-1).into());
        o.insert("bodySize".into(), r.body.size.into());
        if !stored.meta.is_empty() {
            ours.insert("response_body".into(), Value::Object(stored.meta.to_map()));
        }
        Value::Object(o)
    }

    fn timings_to_har(t: &Timings, unknown: &mut Vec<Value>) -> Value {
        let optional = |v: Option<f64>| v.map_or(json!(-1), |v| json!(v));
        // HAR requires send, wait and receive to be non-negative numbers: write 0 for unknown ones
        // and list them in `_idscope.unknown_timings` so they read back as unknown.
        let mut required = |name: &str, v: Option<f64>| match v {
            Some(v) => json!(v),
            None => {
                unknown.push(name.into());
                json!(0)
            }
        };
        json!({
            "blocked": optional(t.blocked),
            "dns": optional(t.dns),
            "connect": optional(t.connect),
            "ssl": optional(t.ssl),
            "send": required("send", t.send),
            "wait": required("wait", t.wait),
            "receive": required("receive", t.receive),
        })
    }

    /// A writer that builds a `serde_json::Value` tree and serialises it, the oracle of these
    /// tests: the direct writer (`har_entry::write_entry`) must produce exactly its bytes.
    pub(crate) fn reference_entry(f: &Flow) -> Value {
        let mut e = f.extra.clone();
        let mut ours = Map::new();
        let mut unknown = Vec::new();
        e.insert("startedDateTime".into(), format_time(f.started_at).into());
        let time = match f.timings.total {
            Some(t) => json!(t),
            None => {
                unknown.push(Value::from("time"));
                json!(0)
            }
        };
        e.insert("time".into(), time);
        e.insert("request".into(), request_to_har(&f.request, &mut ours));
        e.insert("response".into(), response_to_har(&f.outcome, &mut ours));
        e.entry("cache").or_insert_with(|| json!({}));
        e.insert("timings".into(), timings_to_har(&f.timings, &mut unknown));
        if let Some(s) = &f.server_addr {
            e.insert("serverIPAddress".into(), s.clone().into());
        }
        if let Some(c) = &f.comment {
            e.insert("comment".into(), c.clone().into());
        }
        if let Some(c) = f.client_addr {
            ours.insert("client".into(), c.to_string().into());
        }
        if !f.tags.is_empty() {
            ours.insert("tags".into(), f.tags.clone().into());
        }
        if f.marked {
            ours.insert("marked".into(), true.into());
        }
        if !unknown.is_empty() {
            ours.insert("unknown_timings".into(), Value::Array(unknown));
        }
        if ours.get("incomplete") == Some(&Value::Bool(true)) {
            e.insert(INCOMPLETE_FIELD.into(), true.into());
        }
        if ours.is_empty() {
            e.remove(IDSCOPE_FIELD);
        } else {
            e.insert(IDSCOPE_FIELD.into(), Value::Object(ours));
        }
        Value::Object(e)
    }

    fn check(f: &Flow, what: &str) {
        let mut direct = Vec::new();
        write_entry(&mut direct, f);
        let reference = serde_json::to_vec(&reference_entry(f)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&direct),
            String::from_utf8_lossy(&reference),
            "{what} flow {}",
            f.id
        );
    }

    #[test]
    fn the_direct_writer_writes_the_bytes_of_the_value_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("../shared/corpus/har-peers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.push(root.join("captures/aadconnect-sync.har"));
        files.push(root.join("captures/federated-signin.har"));
        files.push(root.join("captures/fiddler-sample.saz"));
        let mut n = 0;
        for file in files {
            let Ok(reader) = super::super::open(&file) else {
                continue;
            };
            for f in reader.flatten() {
                check(&f, &file.display().to_string());
                let mut g = f.clone();
                g.tags = vec!["t".into()];
                g.marked = true;
                g.comment = Some("c\"x".into());
                g.server_addr = Some("10.0.0.1".into());
                g.client_addr = Some("127.0.0.1:9".parse().unwrap());
                g.timings = Timings::default();
                g.extra.insert("_zz".into(), 1.into());
                g.extra.insert("cache".into(), json!({"x": 1}));
                g.extra.insert("_idscope".into(), json!({"stale": 1}));
                g.extra.insert("_incomplete".into(), false.into());
                g.request.extra.insert("_a".into(), json!([1, "x"]));
                g.request.extra.insert("method".into(), "OVERRIDDEN".into());
                check(&g, "altered");
                g.outcome = Outcome::Error(FlowError {
                    message: "upstream \"x\" failed".into(),
                    incomplete: true,
                });
                check(&g, "error");
                n += 1;
            }
        }
        assert!(n > 50, "only {n} flows compared");
    }

    #[test]
    fn the_direct_writer_agrees_on_encoded_binary_truncated_and_cookie_flows() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}").unwrap();
        let gz = gz.finish().unwrap();
        let mut req = crate::flow::testing::request("POST", "https://h.example/p?a=1&b=%20x#f");
        req.headers.push(("Cookie".into(), "x=1; y=2".into()));
        req.headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
        req.body = Body::plain(b"grant_type=password".to_vec());
        let mut res = crate::flow::testing::response(302, "text/html", b"");
        res.headers.push((
            "Set-Cookie".into(),
            "s=1; Path=/; HttpOnly; Secure; Domain=h".into(),
        ));
        res.headers
            .push(("Location".into(), "https://h.example/next".into()));
        let mut f = crate::flow::testing::flow(1, req.clone(), res);
        check(&f, "cookies");
        // The client address is formatted straight into the entry.
        let v6 = std::net::SocketAddrV6::new(
            std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            51000,
            0,
            3,
        );
        for client in [
            std::net::SocketAddr::V6(v6),
            "[::1]:8080".parse().unwrap(),
            "10.0.0.7:443".parse().unwrap(),
        ] {
            f.client_addr = Some(client);
            check(&f, "client address");
        }
        for (body, enc) in [
            (Body::encoded(gz.clone(), "gzip"), "gzip"),
            (Body::encoded(b"not gzip".to_vec(), "gzip"), "gzip"),
            (Body::plain(vec![0xff, 0x00, 0x1f, 0x8b]), ""),
            (
                Body::encoded(gz.get(..10).unwrap().to_vec(), "gzip"),
                "gzip",
            ),
        ] {
            let mut res = crate::flow::testing::response(200, "application/json", b"");
            if !enc.is_empty() {
                res.headers.push(("Content-Encoding".into(), enc.into()));
            }
            res.body = body;
            let mut f = crate::flow::testing::flow(2, req.clone(), res.clone());
            check(&f, "body");
            if let Outcome::Response(r) = &mut f.outcome {
                r.body.truncated = true;
                r.body.size = 99_999;
                r.body.sha256 = Some("ab".repeat(32));
            }
            check(&f, "truncated body");
        }
    }
}
