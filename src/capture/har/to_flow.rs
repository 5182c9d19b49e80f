//! One HAR entry → [`Flow`]: the tolerant field readers (UTF-8 BOM aside, it accepts
//! `[name, value]` header arrays, base64 bodies, missing optional fields, `_`-prefixed custom
//! fields, `-1` timings) and idscope's own `_idscope` object read back into the flow. It does not
//! find entries in a file (that is [`super::reader`]) and does not write HAR (`har_entry`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, GeneralPurpose as Engine};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

use crate::capture::CaptureErrorKind;
use crate::capture::har_fields::{IDSCOPE_FIELD, INCOMPLETE_FIELD, sniff_encoding};
use crate::flow::{
    Body, Extra, Flow, FlowError, FlowId, Headers, Outcome, Request, Response, Timings,
};

/// Base64 as peers write it: padded or not.
const BASE64_LENIENT: GeneralPurpose = Engine::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

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
    /// `_idscope.fiddler`: a Fiddler session's metadata, back into `extra`.
    fiddler: Option<Value>,
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
        fiddler: o.get("fiddler").filter(|v| v.is_object()).cloned(),
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
    if let Some(fiddler) = ours.fiddler {
        e.insert(crate::flow::FIDDLER_EXTRA.into(), fiddler);
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
