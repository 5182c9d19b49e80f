//! Flow → HAR entry, written straight into the output buffer as compact JSON.
//!
//! The recorder writes one entry per finished flow on the proxy's capture path, so this runs for
//! every request the proxy forwards. It therefore builds no `serde_json::Value` tree (a map per
//! object, a `String` per key, a copy of every header and body): object members are written in
//! the order a `serde_json::Map` (a `BTreeMap` here, no `preserve_order`) serialises them, and
//! the flow's `extra` fields are merged into that order, so [`flow_to_har_entry`] is simply this
//! output read back, and the bytes are those a `Value` tree would serialise to.
//!
//! Strings are escaped exactly as `serde_json` escapes them (tested byte for byte; text with a
//! control character goes through `serde_json` itself), numbers go through its formatting, so
//! the JSON is exactly what `serde_json` writes. The rare, small parts (cookies with attributes,
//! a flow without a response) build small values.

use std::borrow::Cow;
use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::har_fields::{IDSCOPE_FIELD, INCOMPLETE_FIELD, format_time, sniff_encoding};
use crate::flow::{
    Body, DEFAULT_DECODED_CAP, Extra, FIDDLER_EXTRA, Flow, Headers, Outcome, Request, Response,
    Timings, header,
};

/// Converts a flow into a HAR 1.2 entry that Chrome, Firefox and mitmproxy import, as a `Value`
/// (the output of [`write_entry`], read back). The flow's `extra` fields are written back;
/// idscope's own facts (client address, tags, mark, body size, SHA-256 and truncation,
/// `incomplete`) go into an `_idscope` object that [`super::har_entry_to_flow`] reads back, so a
/// flow survives a write/read round trip unchanged (except that a body still carrying a
/// content-encoding is stored decoded when it decodes).
pub fn flow_to_har_entry(f: &Flow) -> Value {
    let mut out = Vec::with_capacity(1024);
    write_entry(&mut out, f);
    // The writer produces valid JSON by construction; `Null` would only hide a bug in it, and the
    // round-trip tests would show that.
    serde_json::from_slice(&out).unwrap_or(Value::Null)
}

/// Appends the compact JSON of `f`'s HAR entry to `out`. Writing into a `Vec` cannot fail.
pub fn write_entry(out: &mut Vec<u8>, f: &Flow) {
    let request = store_body(&f.request.body, &f.request.headers);
    let response = match &f.outcome {
        Outcome::Response(r) => Some((r, store_body(&r.body, &r.headers))),
        Outcome::Error(_) => None,
    };
    let incomplete = matches!(&f.outcome, Outcome::Error(e) if e.incomplete);
    let mut unknown: Vec<&'static str> = Vec::new();
    if f.timings.total.is_none() {
        unknown.push("time");
    }
    for (name, v) in [
        ("send", f.timings.send),
        ("wait", f.timings.wait),
        ("receive", f.timings.receive),
    ] {
        if v.is_none() {
            unknown.push(name);
        }
    }
    let ours = Ours {
        client: f.client_addr,
        incomplete,
        marked: f.marked,
        request_body: &request.meta,
        response_body: response.as_ref().map(|(_, s)| &s.meta),
        tags: &f.tags,
        unknown_timings: &unknown,
        fiddler: f.extra.get(FIDDLER_EXTRA),
    };

    // Members in `BTreeMap` order; `cache` only when `extra` has none (the extra one is kept).
    let mut own: Vec<&'static str> = Vec::with_capacity(10);
    if !ours.is_empty() {
        own.push(IDSCOPE_FIELD);
    }
    if incomplete {
        own.push(INCOMPLETE_FIELD);
    }
    if !f.extra.contains_key("cache") {
        own.push("cache");
    }
    if f.comment.is_some() {
        own.push("comment");
    }
    own.extend(["request", "response"]);
    if f.server_addr.is_some() {
        own.push("serverIPAddress");
    }
    own.extend(["startedDateTime", "time", "timings"]);
    // An `_idscope` in `extra` is never written back: ours replaces it, or there is none. The
    // Fiddler metadata is written inside ours.
    merged_object(
        out,
        &f.extra,
        &own,
        &[IDSCOPE_FIELD, FIDDLER_EXTRA],
        |key, out| match key {
            IDSCOPE_FIELD => ours.write(out),
            INCOMPLETE_FIELD => out.extend_from_slice(b"true"),
            "cache" => out.extend_from_slice(b"{}"),
            "comment" => string(out, f.comment.as_deref().unwrap_or_default()),
            "request" => write_request(out, &f.request, &request),
            "response" => match &response {
                Some((r, stored)) => write_response(out, r, stored),
                None => write_error_response(out, &f.outcome),
            },
            "serverIPAddress" => string(out, f.server_addr.as_deref().unwrap_or_default()),
            "startedDateTime" => string(out, &format_time(f.started_at)),
            "time" => match f.timings.total {
                Some(t) => number(out, t),
                None => out.extend_from_slice(b"0"),
            },
            _ => write_timings(out, &f.timings),
        },
    );
}

/// idscope's own facts about a flow: the `_idscope` object.
struct Ours<'a> {
    client: Option<std::net::SocketAddr>,
    incomplete: bool,
    marked: bool,
    request_body: &'a StoredFacts<'a>,
    response_body: Option<&'a StoredFacts<'a>>,
    tags: &'a [String],
    unknown_timings: &'a [&'static str],
    /// A Fiddler session's metadata ([`FIDDLER_EXTRA`]).
    fiddler: Option<&'a serde_json::Value>,
}

impl Ours<'_> {
    fn is_empty(&self) -> bool {
        self.client.is_none()
            && !self.incomplete
            && !self.marked
            && self.request_body.is_empty()
            && self.response_body.is_none_or(StoredFacts::is_empty)
            && self.tags.is_empty()
            && self.unknown_timings.is_empty()
            && self.fiddler.is_none()
    }

    fn write(&self, out: &mut Vec<u8>) {
        let mut o = Object::open(out);
        if let Some(c) = &self.client {
            // An address's text is digits, dots, colons, brackets and a `%` scope number:
            // nothing to escape, so it is formatted straight into the buffer.
            let out = o.own("client");
            out.push(b'"');
            let _ = write!(out, "{c}");
            out.push(b'"');
        }
        if let Some(v) = self.fiddler {
            value(o.own("fiddler"), v);
        }
        if self.incomplete {
            o.own("incomplete").extend_from_slice(b"true");
        }
        if self.marked {
            o.own("marked").extend_from_slice(b"true");
        }
        if !self.request_body.is_empty() {
            body_facts(o.own("request_body"), self.request_body);
        }
        if let Some(m) = self.response_body.filter(|m| !m.is_empty()) {
            body_facts(o.own("response_body"), m);
        }
        if !self.tags.is_empty() {
            value(o.own("tags"), self.tags);
        }
        if !self.unknown_timings.is_empty() {
            value(o.own("unknown_timings"), self.unknown_timings);
        }
        o.close();
    }
}

/// `_idscope.request_body` / `response_body`: the members [`StoredFacts::to_map`] would hold,
/// in its key order.
fn body_facts(out: &mut Vec<u8>, m: &StoredFacts<'_>) {
    let mut o = Object::open(out);
    if let Some(e) = &m.encoding {
        match e {
            Some(e) => string(o.own("encoding"), e),
            None => o.own("encoding").extend_from_slice(b"null"),
        }
    }
    if let Some(h) = m.sha256 {
        string(o.own("sha256"), h);
    }
    if let Some(n) = m.size {
        number(o.own("size"), n);
    }
    if m.truncated {
        o.own("truncated").extend_from_slice(b"true");
    }
    o.close();
}

fn write_request(out: &mut Vec<u8>, r: &Request, stored: &StoredBody<'_>) {
    let mut own: Vec<&'static str> = vec![
        "bodySize",
        "cookies",
        "headers",
        "headersSize",
        "httpVersion",
        "method",
    ];
    if stored.len > 0 {
        own.push("postData");
    }
    own.extend(["queryString", "url"]);
    merged_object(out, &r.extra, &own, &[], |key, out| match key {
        "bodySize" => number(out, r.body.size),
        "cookies" => request_cookies(out, &r.headers),
        "headers" => headers(out, &r.headers),
        "headersSize" => out.extend_from_slice(b"-1"),
        "httpVersion" => string(out, &r.http_version),
        "method" => string(out, &r.method),
        "postData" => {
            let mut o = Object::open(out);
            if stored.base64 {
                string(o.own("encoding"), "base64");
            }
            string(o.own("mimeType"), &mime_type(&r.headers));
            string(o.own("text"), &stored.text);
            o.close();
        }
        "queryString" => {
            let pairs = idscope_decoders::util::url_query_pairs(&r.url);
            name_values(out, pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        }
        _ => string(out, &r.url),
    });
}

fn write_response(out: &mut Vec<u8>, r: &Response, stored: &StoredBody<'_>) {
    let own = [
        "bodySize",
        "content",
        "cookies",
        "headers",
        "headersSize",
        "httpVersion",
        "redirectURL",
        "status",
        "statusText",
    ];
    merged_object(out, &r.extra, &own, &[], |key, out| match key {
        "bodySize" => number(out, r.body.size),
        "content" => {
            let mut o = Object::open(out);
            if stored.len > 0 && stored.base64 {
                string(o.own("encoding"), "base64");
            }
            string(o.own("mimeType"), &mime_type(&r.headers));
            number(o.own("size"), stored.len);
            if stored.len > 0 {
                string(o.own("text"), &stored.text);
            }
            o.close();
        }
        "cookies" => {
            if r.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            {
                value(out, &response_cookies(&r.headers));
            } else {
                out.extend_from_slice(b"[]");
            }
        }
        "headers" => headers(out, &r.headers),
        "headersSize" => out.extend_from_slice(b"-1"),
        "httpVersion" => string(out, &r.http_version),
        "redirectURL" => string(out, header(&r.headers, "location").unwrap_or_default()),
        "status" => number(out, r.status),
        _ => string(out, &r.reason),
    });
}

/// mitmproxy's shape for a flow without a response.
fn write_error_response(out: &mut Vec<u8>, outcome: &Outcome) {
    let message = match outcome {
        Outcome::Error(e) => e.message.as_str(),
        Outcome::Response(_) => "",
    };
    out.extend_from_slice(br#"{"_error":"#);
    string(out, message);
    out.extend_from_slice(
        br#","bodySize":-1,"content":{"mimeType":"","size":0},"cookies":[],"headers":[],"headersSize":-1,"httpVersion":"","redirectURL":"","status":0,"statusText":""}"#,
    );
}

/// HAR requires send, wait and receive to be non-negative numbers: unknown ones are written as 0
/// and listed in `_idscope.unknown_timings` so they read back as unknown. The others are -1.
fn write_timings(out: &mut Vec<u8>, t: &Timings) {
    let mut o = Object::open(out);
    for (name, v, unknown) in [
        ("blocked", t.blocked, -1.0),
        ("connect", t.connect, -1.0),
        ("dns", t.dns, -1.0),
        ("receive", t.receive, 0.0),
        ("send", t.send, 0.0),
        ("ssl", t.ssl, -1.0),
        ("wait", t.wait, 0.0),
    ] {
        let out = o.own(name);
        match v {
            Some(v) => number(out, v),
            // serde_json writes the integer -1 and 0 of the old `json!(-1)` / `json!(0)`.
            None if unknown < 0.0 => out.extend_from_slice(b"-1"),
            None => out.extend_from_slice(b"0"),
        }
    }
    o.close();
}

fn headers(out: &mut Vec<u8>, h: &Headers) {
    name_values(out, h.iter());
}

fn request_cookies(out: &mut Vec<u8>, h: &Headers) {
    name_values(
        out,
        h.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .map(|(n, v)| (n.trim(), v.trim())),
    );
}

/// `[{"name":…,"value":…},…]`.
fn name_values<'s>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'s str, &'s str)>) {
    out.push(b'[');
    for (i, (n, v)) in pairs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"name":"#);
        string(out, n);
        out.extend_from_slice(br#","value":"#);
        string(out, v);
        out.push(b'}');
    }
    out.push(b']');
}

/// Writes an object whose own members (`own`, sorted, each written by `member`) are merged with
/// the `extra` members in key order — the bytes `serde_json` writes for a `Map` holding `extra`
/// with the own members inserted over it. Extra members named in `skip` are left out.
fn merged_object(
    out: &mut Vec<u8>,
    extra: &Extra,
    own: &[&'static str],
    skip: &[&str],
    mut member: impl FnMut(&str, &mut Vec<u8>),
) {
    debug_assert!(own.is_sorted(), "own members out of order: {own:?}");
    let mut o = Object::open(out);
    let mut extras = extra
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .peekable();
    for &key in own {
        while let Some((k, v)) = extras.next_if(|(k, _)| k.as_str() < key) {
            value(o.key(k), v);
        }
        // An own member replaces an extra one of the same name.
        let _ = extras.next_if(|(k, _)| k.as_str() == key);
        member(key, o.own(key));
    }
    for (k, v) in extras {
        value(o.key(k), v);
    }
    o.close();
}

/// A JSON object being written: commas and keys.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Writes `"key":` (after a comma unless first) and hands back the buffer for the value.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        self.comma();
        string(self.out, key);
        self.out.push(b':');
        self.out
    }

    /// [`Object::key`] for our own member names: plain words, nothing to escape, so nothing to
    /// look for (an entry has about fifty of them).
    fn own(&mut self, key: &'static str) -> &mut Vec<u8> {
        debug_assert!(
            key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "member name {key:?} would need escaping"
        );
        self.comma();
        self.out.reserve(key.len() + 3);
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    fn comma(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// A JSON string, escaped exactly as `serde_json` escapes it (`"` and `\` with a backslash,
/// the control characters as `\b \t \n \f \r` or `\u00xx`, everything else as is).
///
/// Bodies and tokens are long runs that need no escape, and `serde_json` looks up a table for
/// every byte. Here one branch-free pass (the compiler vectorises it) tells whether the text has
/// a control character and whether it has a quote or backslash. Text with neither is copied
/// whole; with quotes or backslashes only, those are found with a SIMD search and the runs
/// between them copied whole; text with a control character goes to `serde_json`. The
/// byte-for-byte agreement with `serde_json` is tested.
fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let (control, quote) = scan(bytes);
    if control {
        value(out, s);
        return;
    }
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if quote {
        let mut start = 0;
        for i in memchr::memchr2_iter(b'"', b'\\', bytes) {
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            out.push(b'\\');
            start = i; // the quote or backslash itself goes out with the next run
        }
        out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// Whether `bytes` has a control character, and whether it has a quote or backslash. No early
/// exit, so that the loop vectorises: most text has neither, and all of it is looked at anyway.
fn scan(bytes: &[u8]) -> (bool, bool) {
    let (mut control, mut quote) = (0u8, 0u8);
    for &b in bytes {
        control |= u8::from(b < 0x20);
        quote |= u8::from(b == b'"') | u8::from(b == b'\\');
    }
    (control != 0, quote != 0)
}

/// A number as `serde_json` writes it (integers as integers, floats shortest round-trip).
fn number(out: &mut Vec<u8>, n: impl serde::Serialize) {
    value(out, &n);
}

/// Any serialisable value. Serialising into a `Vec` fails only for a map with non-string keys,
/// which none of ours has.
fn value<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// How a body is stored in HAR: the text, whether it is base64, and the `_idscope` facts needed
/// to read back exactly the same [`Body`].
pub(super) struct StoredBody<'a> {
    pub(super) text: Cow<'a, str>,
    pub(super) base64: bool,
    pub(super) len: usize,
    pub(super) meta: StoredFacts<'a>,
}

/// What `_idscope.request_body` / `_idscope.response_body` say about a stored body: the write
/// side of the reader's `BodyMeta`, borrowed from the body so that recording a flow builds no map for it.
/// Its members, in the order a `serde_json::Map` writes them: `encoding`, `sha256`, `size`,
/// `truncated`.
#[derive(Debug)]
pub(super) struct StoredFacts<'a> {
    /// Present when the stored bytes carry an encoding other than sniffing would find (`None`:
    /// none at all, written as `null`).
    pub(super) encoding: Option<Option<String>>,
    pub(super) sha256: Option<&'a str>,
    /// Present when the body's size differs from the stored length.
    pub(super) size: Option<u64>,
    pub(super) truncated: bool,
}

impl StoredFacts<'_> {
    pub(super) fn is_empty(&self) -> bool {
        self.encoding.is_none() && self.sha256.is_none() && self.size.is_none() && !self.truncated
    }

    /// The same facts as a JSON object (for the `Value` writer the direct one is tested against).
    #[cfg(test)]
    pub(super) fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(e) = &self.encoding {
            m.insert(
                "encoding".into(),
                e.clone().map_or(Value::Null, Value::String),
            );
        }
        if let Some(h) = self.sha256 {
            m.insert("sha256".into(), h.into());
        }
        if let Some(n) = self.size {
            m.insert("size".into(), n.into());
        }
        if self.truncated {
            m.insert("truncated".into(), true.into());
        }
        m
    }
}

pub(super) fn store_body<'a>(b: &'a Body, headers: &Headers) -> StoredBody<'a> {
    // HAR holds decoded content (peers re-encode per Content-Encoding on import), so a body
    // that still carries its encoding is decoded when that works in full; otherwise its bytes
    // are stored as they are and `_idscope` says which encoding they carry.
    let (bytes, encoding): (Cow<'_, [u8]>, Option<String>) = match &b.encoding {
        Some(enc) if !b.truncated => match b.decoded(DEFAULT_DECODED_CAP) {
            Ok(d) => (d, None),
            Err(_) => (Cow::Borrowed(&b.raw), Some(enc.clone())),
        },
        Some(enc) => (Cow::Borrowed(&b.raw), Some(enc.clone())),
        None => (Cow::Borrowed(&b.raw), None),
    };
    let len = bytes.len();
    // Only a body stored as base64 can still carry its encoding (`sniff_encoding`).
    let (text, base64, sniffed): (Cow<'_, str>, bool, Option<String>) = match bytes {
        Cow::Borrowed(raw) => match std::str::from_utf8(raw) {
            Ok(s) => (Cow::Borrowed(s), false, None),
            Err(_) => (
                Cow::Owned(STANDARD.encode(raw)),
                true,
                sniff_encoding(raw, true, headers),
            ),
        },
        Cow::Owned(decoded) => match String::from_utf8(decoded) {
            Ok(s) => (Cow::Owned(s), false, None),
            Err(e) => {
                let sniffed = sniff_encoding(e.as_bytes(), true, headers);
                (Cow::Owned(STANDARD.encode(e.as_bytes())), true, sniffed)
            }
        },
    };
    let meta = StoredFacts {
        encoding: (sniffed != encoding).then_some(encoding),
        sha256: b.sha256.as_deref(),
        size: (b.size != len as u64).then_some(b.size),
        truncated: b.truncated,
    };
    StoredBody {
        text,
        base64,
        len,
        meta,
    }
}

pub(super) fn response_cookies(h: &Headers) -> Value {
    let mut out = Vec::new();
    for (_, v) in h
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
    {
        let mut parts = v.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            continue;
        };
        let mut c = Map::new();
        c.insert("name".into(), name.trim().into());
        c.insert("value".into(), value.trim().into());
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "path" => c.insert("path".into(), v.trim().into()),
                "domain" => c.insert("domain".into(), v.trim().into()),
                "expires" => c.insert("expires".into(), v.trim().into()),
                "httponly" => c.insert("httpOnly".into(), true.into()),
                "secure" => c.insert("secure".into(), true.into()),
                _ => None,
            };
        }
        out.push(Value::Object(c));
    }
    Value::Array(out)
}

pub(super) fn mime_type(h: &Headers) -> String {
    header(h, "content-type").unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let mut cases: Vec<String> = (0u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        cases.push(String::new());
        cases.push("plain ascii text that is longer than sixteen bytes, twice over".into());
        cases.push("a\"b\\c\nd\u{1}e\u{7f}f é ü 日本 😀".repeat(7));
        cases.push(format!("{}\"{}", "x".repeat(31), "y".repeat(17)));
        cases.push(format!("{}\u{1f}", "z".repeat(16)));
        cases.push("q\"b\\s é".repeat(20));
        cases.push(format!("\"{}\\", "long run ".repeat(20)));
        cases.push(format!("{}\t", "tab at the end of a long run ".repeat(3)));
        let all: String = (0u8..=0x7f).map(char::from).collect();
        cases.push(all.repeat(3));
        for c in &cases {
            let mut ours = Vec::new();
            string(&mut ours, c);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(c).unwrap(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn merged_members_follow_map_order_and_own_members_win() {
        let mut extra = Extra::new();
        extra.insert("a".into(), 1.into());
        extra.insert("m".into(), 2.into());
        extra.insert("z".into(), 3.into());
        extra.insert("skip".into(), 4.into());
        let mut out = Vec::new();
        merged_object(&mut out, &extra, &["b", "m"], &["skip"], |k, out| {
            string(out, &format!("own {k}"))
        });
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":1,"b":"own b","m":"own m","z":3}"#
        );
    }
}
