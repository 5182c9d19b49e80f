//! Fiddler session archives (`.saz`): a zip of `raw/NN_c.txt` (the request as the client sent it
//! through the proxy), `raw/NN_s.txt` (the response as it came off the wire) and `raw/NN_m.xml`
//! (timers and session flags), read one session at a time into [`Flow`]s.
//!
//! This module owns the zip walk, raw HTTP/1.x message parsing (start line, headers, undoing
//! `Transfer-Encoding: chunked`) and the metadata XML. It keeps `Content-Encoding` as
//! [`Body::encoding`] and does not decompress. It never trusts a size from a zip header or an HTTP
//! header: every member is read through a cap, and chunk sizes are checked against the bytes
//! actually present. It does not write SAZ, and ignores WebSocket (`_w.txt`) members.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use quick_xml::events::Event;
use serde_json::{Map, Value};
use zip::ZipArchive;

use super::har::parse_time;
use super::{CaptureError, CaptureErrorKind, Location};
use crate::flow::{
    Body, Extra, Flow, FlowError, FlowId, Headers, Outcome, Request, Response, Timings, header,
};

/// The largest archive member read into memory. Fiddler keeps whole bodies in `_s.txt`, so this
/// is generous; a zip header claiming more is refused before reading, and the read itself is
/// capped too because zip headers can lie.
pub const MAX_MEMBER_BYTES: u64 = 256 << 20;

/// The largest `_m.xml` read (metadata is a few kilobytes).
const MAX_META_BYTES: u64 = 1 << 20;

/// The three members of one session, by path.
#[derive(Debug, Default)]
struct Session {
    /// `raw/05`, the path prefix the members share (Fiddler pads numbers to a common width).
    stem: String,
    request: Option<String>,
    response: Option<String>,
    meta: Option<String>,
}

/// Streams the sessions of one SAZ archive in session-number order.
pub(crate) struct SazReader<R> {
    path: PathBuf,
    zip: ZipArchive<R>,
    sessions: Vec<Session>,
    next: usize,
    bytes_read: u64,
}

impl<R> std::fmt::Debug for SazReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SazReader")
            .field("path", &self.path)
            .field("sessions", &self.sessions.len())
            .field("next", &self.next)
            .finish()
    }
}

/// Splits `raw/12_c.txt` into (12, 'c', "raw/12").
fn member_kind(name: &str) -> Option<(u64, char, &str)> {
    let rest = name.strip_prefix("raw/")?;
    let (num, suffix) = rest.split_once('_')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kind = match suffix {
        "c.txt" => 'c',
        "s.txt" => 's',
        "m.xml" => 'm',
        _ => return None,
    };
    let stem = name.get(..4 + num.len())?;
    Some((num.parse().ok()?, kind, stem))
}

impl<R: Read + Seek> SazReader<R> {
    /// Opens the archive and indexes its sessions. Fails when the zip is unreadable or holds no
    /// Fiddler sessions.
    pub(crate) fn new(path: &Path, src: R) -> Result<Self, CaptureError> {
        let err = |kind| CaptureError::new(path, kind);
        let zip = ZipArchive::new(src).map_err(|e| err(CaptureErrorKind::Zip(e.to_string())))?;
        let mut by_number: BTreeMap<u64, Session> = BTreeMap::new();
        for name in zip.file_names() {
            let Some((n, kind, stem)) = member_kind(name) else {
                continue;
            };
            let s = by_number.entry(n).or_default();
            s.stem = stem.to_string();
            let slot = match kind {
                'c' => &mut s.request,
                's' => &mut s.response,
                _ => &mut s.meta,
            };
            *slot = Some(name.to_string());
        }
        if by_number.is_empty() {
            return Err(err(CaptureErrorKind::NotSaz(
                "it has no `raw/NN_c.txt` sessions".into(),
            )));
        }
        Ok(SazReader {
            path: path.to_path_buf(),
            zip,
            sessions: by_number.into_values().collect(),
            next: 0,
            bytes_read: 0,
        })
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    pub(crate) fn next(&mut self) -> Option<Result<Flow, CaptureError>> {
        let index = self.next;
        self.next += 1;
        let session = self.sessions.get(index)?;
        let id = FlowId(index as u64);
        let request = session.request.clone();
        let response = session.response.clone();
        let meta = session.meta.clone();
        let stem = session.stem.clone();
        Some(self.session(id, &stem, request, response, meta))
    }

    fn error(&self, member: &str, entry: FlowId, kind: CaptureErrorKind) -> CaptureError {
        CaptureError::at(
            &self.path,
            Location {
                member: Some(member.to_string()),
                entry: Some(entry.0),
                offset: None,
            },
            kind,
        )
    }

    /// Reads one member through the cap.
    fn member(&mut self, name: &str, id: FlowId, cap: u64) -> Result<Vec<u8>, CaptureError> {
        let zip_err = |e: zip::result::ZipError| CaptureErrorKind::Zip(e.to_string());
        let read = (|| {
            let file = self.zip.by_name(name).map_err(zip_err)?;
            if file.size() > cap {
                return Err(CaptureErrorKind::TooLarge { limit: cap });
            }
            let compressed = file.compressed_size();
            let mut out = Vec::new();
            file.take(cap + 1).read_to_end(&mut out)?;
            if out.len() as u64 > cap {
                return Err(CaptureErrorKind::TooLarge { limit: cap });
            }
            Ok((out, compressed))
        })();
        match read {
            Ok((out, compressed)) => {
                self.bytes_read += compressed;
                Ok(out)
            }
            Err(kind) => Err(self.error(name, id, kind)),
        }
    }

    fn session(
        &mut self,
        id: FlowId,
        stem: &str,
        request: Option<String>,
        response: Option<String>,
        meta: Option<String>,
    ) -> Result<Flow, CaptureError> {
        let Some(c_name) = request else {
            let name = format!("{stem}_c.txt");
            return Err(self.error(&name, id, CaptureErrorKind::MissingMember(name.clone())));
        };
        let Some(m_name) = meta else {
            let name = format!("{stem}_m.xml");
            return Err(self.error(&name, id, CaptureErrorKind::MissingMember(name.clone())));
        };
        let raw = self.member(&c_name, id, MAX_MEMBER_BYTES)?;
        let request = parse_request(&raw).map_err(|m| self.error(&c_name, id, m))?;
        let raw = self.member(&m_name, id, MAX_META_BYTES)?;
        let meta =
            parse_meta(&raw).map_err(|m| self.error(&m_name, id, CaptureErrorKind::Xml(m)))?;
        let outcome = match response {
            Some(s_name) => {
                let raw = self.member(&s_name, id, MAX_MEMBER_BYTES)?;
                Outcome::Response(parse_response(&raw).map_err(|m| self.error(&s_name, id, m))?)
            }
            None => Outcome::Error(FlowError {
                message: format!("no response in the archive ({stem}_s.txt is missing)"),
                incomplete: false,
            }),
        };
        Ok(meta.into_flow(id, request, outcome))
    }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.x messages

/// A parsed raw message: start line, headers in order, and the body with chunking undone.
struct RawMessage {
    start: String,
    headers: Headers,
    body: Body,
}

fn http_err(m: impl Into<String>) -> CaptureErrorKind {
    CaptureErrorKind::Http(m.into())
}

/// Undoes `Transfer-Encoding: chunked`. Chunk sizes are checked against the bytes present; a
/// stream that stops early yields what it has and `false` (not complete).
fn dechunk(mut rest: &[u8]) -> Result<(Vec<u8>, bool), CaptureErrorKind> {
    let mut out = Vec::with_capacity(rest.len());
    loop {
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            return Ok((out, false));
        };
        let line = String::from_utf8_lossy(rest.get(..nl).unwrap_or_default());
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| http_err(format!("bad chunk size {size_text:?}")))?;
        rest = rest.get(nl + 1..).unwrap_or_default();
        if size == 0 {
            return Ok((out, true));
        }
        let Some(chunk) = rest.get(..size) else {
            out.extend_from_slice(rest);
            return Ok((out, false));
        };
        out.extend_from_slice(chunk);
        rest = rest.get(size..).unwrap_or_default();
        rest = rest
            .strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))
            .unwrap_or(rest);
    }
}

fn parse_message(bytes: &[u8]) -> Result<RawMessage, CaptureErrorKind> {
    let crlf = memchr::memmem::find(bytes, b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = memchr::memmem::find(bytes, b"\n\n").map(|i| (i, i + 2));
    let (head_end, body_start) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => (bytes.len(), bytes.len()),
    };
    let head = String::from_utf8_lossy(bytes.get(..head_end).unwrap_or_default());
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = lines
        .by_ref()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| http_err("empty message"))?
        .to_string();
    let mut headers = Headers::new();
    for line in lines {
        if line.starts_with([' ', '\t']) && !headers.is_empty() {
            // Obsolete line folding: part of the previous header's value.
            headers.extend_last_value(" ");
            headers.extend_last_value(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| http_err(format!("header line without `:`: {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let raw_body = bytes.get(body_start..).unwrap_or_default();
    let chunked = header(&headers, "transfer-encoding").is_some_and(|te| {
        te.rsplit(',')
            .next()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    });
    let (data, complete) = if chunked {
        dechunk(raw_body)?
    } else {
        (raw_body.to_vec(), true)
    };
    let mut body = Body::encoded(
        data,
        header(&headers, "content-encoding").unwrap_or_default(),
    );
    body.truncated = !complete;
    Ok(RawMessage {
        start,
        headers,
        body,
    })
}

fn parse_request(bytes: &[u8]) -> Result<Request, CaptureErrorKind> {
    let m = parse_message(bytes)?;
    let mut parts = m.start.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(http_err(format!("bad request line {:?}", m.start)));
    };
    let version = parts.next().unwrap_or_default();
    let url = if method.eq_ignore_ascii_case("CONNECT") {
        // A tunnel: authority-form. Port 443 tunnels carry TLS in practice.
        let scheme = if target.ends_with(":443") {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{target}")
    } else if target.contains("://") {
        // Plain HTTP through a proxy: absolute-form, as the client sent it.
        target.to_string()
    } else {
        // Origin-form only appears inside a decrypted CONNECT tunnel, hence https.
        let host = header(&m.headers, "host")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| http_err("origin-form request without a Host header"))?;
        let sep = if target.starts_with('/') { "" } else { "/" };
        format!("https://{host}{sep}{target}")
    };
    Ok(Request {
        method: method.to_string(),
        url,
        http_version: version.to_string(),
        headers: m.headers,
        body: m.body,
        extra: Extra::new(),
    })
}

fn parse_response(bytes: &[u8]) -> Result<Response, CaptureErrorKind> {
    let m = parse_message(bytes)?;
    let mut parts = m.start.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let status = parts
        .next()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/"))
        .ok_or_else(|| http_err(format!("bad status line {:?}", m.start)))?;
    Ok(Response {
        status,
        reason: parts.next().unwrap_or_default().trim().to_string(),
        http_version: version.to_string(),
        headers: m.headers,
        body: m.body,
        extra: Extra::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// Session metadata (`_m.xml`)

/// The interesting parts of `<Session>`: `SessionTimers` attributes and `SessionFlag`s.
#[derive(Debug, Default)]
struct Meta {
    timers: BTreeMap<String, String>,
    flags: Vec<(String, String)>,
}

fn attrs(e: &quick_xml::events::BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

/// Parses `_m.xml`. No DTD is processed and no entity beyond the five predefined ones is
/// expanded (quick-xml never resolves them without a resolver, and none is given); a DOCTYPE is
/// refused outright since Fiddler never writes one.
fn parse_meta(bytes: &[u8]) -> Result<Meta, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut meta = Meta::default();
    let mut saw_session = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "Session" => saw_session = true,
                "SessionTimers" => meta.timers.extend(attrs(&e)?),
                "SessionFlag" => {
                    let a = attrs(&e)?;
                    let get = |k: &str| a.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    if let (Some(n), Some(v)) = (get("N"), get("V")) {
                        meta.flags.push((n, v));
                    }
                }
                _ => {}
            },
            Event::DocType(_) => return Err("a DOCTYPE is not allowed".into()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_session {
        return Err("no <Session> element".into());
    }
    Ok(meta)
}

impl Meta {
    fn time(&self, name: &str) -> Option<SystemTime> {
        // Fiddler writes unset timers as `0001-01-01T00:00:00` (no offset), which does not parse.
        self.timers.get(name).and_then(|t| parse_time(t))
    }

    fn between(&self, from: &str, to: &str) -> Option<f64> {
        let d = self.time(to)?.duration_since(self.time(from)?).ok()?;
        Some(d.as_secs_f64() * 1000.0)
    }

    /// Fiddler's whole-millisecond phase timers (`DNSTime`, `TCPConnectTime`, …); negative means
    /// not applicable.
    fn millis(&self, name: &str) -> Option<f64> {
        self.timers
            .get(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| *v >= 0.0 && v.is_finite())
    }

    fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn into_flow(self, id: FlowId, request: Request, outcome: Outcome) -> Flow {
        let started_at = self
            .time("ClientBeginRequest")
            .or_else(|| self.time("ClientConnected"))
            .unwrap_or(UNIX_EPOCH);
        let timings = Timings {
            total: self.between("ClientBeginRequest", "ClientDoneResponse"),
            blocked: None,
            dns: self.millis("DNSTime"),
            connect: self.millis("TCPConnectTime"),
            ssl: self.millis("HTTPSHandshakeTime"),
            send: self.between("FiddlerBeginRequest", "ServerGotRequest"),
            wait: self.between("ServerGotRequest", "ServerBeginResponse"),
            receive: self.between("ServerBeginResponse", "ServerDoneResponse"),
        };
        let client_addr = match (self.flag("x-clientip"), self.flag("x-clientport")) {
            (Some(ip), Some(port)) => match (ip.parse::<IpAddr>(), port.parse::<u16>()) {
                (Ok(ip), Ok(port)) => Some(SocketAddr::new(ip, port)),
                _ => None,
            },
            _ => None,
        };
        let server_addr = self.flag("x-hostip").map(String::from);
        let comment = self.flag("ui-comments").map(String::from);
        let mut extra = Extra::new();
        if !self.flags.is_empty() {
            // Kept whole, so a SAZ -> HAR conversion loses none of Fiddler's annotations.
            let flags: Map<String, Value> = self
                .flags
                .into_iter()
                .map(|(n, v)| (n, Value::String(v)))
                .collect();
            extra.insert("_fiddlerFlags".into(), Value::Object(flags));
        }
        Flow {
            id,
            started_at,
            client_addr,
            server_addr,
            request,
            outcome,
            timings,
            tags: Vec::new(),
            comment,
            marked: false,
            extra,
        }
    }
}

/// Builds realistic synthetic SAZ archives for tests and for `captures/fiddler-sample.saz`.
#[cfg(test)]
pub(crate) mod sample {
    use std::io::{Cursor, Write};

    use zip::write::SimpleFileOptions;

    /// One session's members; `None` leaves that member out of the archive.
    pub(crate) struct Saz<'a> {
        pub number: &'a str,
        pub request: Option<Vec<u8>>,
        pub response: Option<Vec<u8>>,
        pub meta: Option<String>,
    }

    /// `_m.xml` as Fiddler writes it, with a start second and the client port.
    pub(crate) fn meta(sid: u32, second: u32, port: u16, host_ip: &str) -> String {
        let t = |ms: u32| format!("2024-03-01T10:15:{second:02}.{:03}0000+01:00", ms);
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<Session SID="{sid}" BitFlags="0"><SessionTimers ClientConnected="{}" ClientBeginRequest="{}" GotRequestHeaders="{}" ClientDoneRequest="{}" GatewayTime="0" DNSTime="3" TCPConnectTime="12" HTTPSHandshakeTime="-1" ServerConnected="{}" FiddlerBeginRequest="{}" ServerGotRequest="{}" ServerBeginResponse="{}" GotResponseHeaders="{}" ServerDoneResponse="{}" ClientBeginResponse="{}" ClientDoneResponse="{}" /><PipeInfo CltReuse="true" /><SessionFlags><SessionFlag N="x-clientip" V="127.0.0.1" /><SessionFlag N="x-clientport" V="{port}" /><SessionFlag N="x-hostip" V="{host_ip}" /><SessionFlag N="x-processinfo" V="miiserver:4242" /><SessionFlag N="ui-comments" V="sync &amp; sign-in" /></SessionFlags></Session>"#,
            t(0),
            t(1),
            t(2),
            t(3),
            t(5),
            t(6),
            t(10),
            t(40),
            t(41),
            t(45),
            t(46),
            t(50)
        )
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = enc.write_all(data);
        enc.finish().unwrap_or_default()
    }

    /// Splits `data` into HTTP/1.1 chunks of at most `size` bytes.
    pub(crate) fn chunked(data: &[u8], size: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for c in data.chunks(size) {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    /// A synthetic OAuth token response (the token is not signed by anyone real).
    pub(crate) const TOKEN_JSON: &str = r#"{"token_type":"Bearer","scope":"https://graph.example/.default","expires_in":3599,"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLmV4YW1wbGUiLCJpc3MiOiJodHRwczovL2xvZ2luLmV4YW1wbGUvdGVuYW50LyIsInN1YiI6InN5bmMtYWdlbnQiLCJleHAiOjE3MDkyODc3MzB9.c3ludGhldGljLXNpZ25hdHVyZQ"}"#;

    /// The sessions of `captures/fiddler-sample.saz`: a CONNECT tunnel, a token POST inside it
    /// answered gzip + chunked, a plain-HTTP WS-Federation redirect, and a request without a
    /// response.
    pub(crate) fn sessions() -> Vec<Saz<'static>> {
        let token_body = b"grant_type=client_credentials&client_id=6f1f7a2e-synthetic&client_secret=not-a-real-secret&scope=https%3A%2F%2Fgraph.example%2F.default";
        let mut token_req = format!(
            "POST /tenant/oauth2/v2.0/token HTTP/1.1\r\nHost: login.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            token_body.len()
        )
        .into_bytes();
        token_req.extend_from_slice(token_body);
        let mut token_resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nCache-Control: no-store\r\n\r\n".to_vec();
        token_resp.extend_from_slice(&chunked(&gzip(TOKEN_JSON.as_bytes()), 64));
        vec![
            Saz {
                number: "01",
                request: Some(b"CONNECT login.example:443 HTTP/1.1\r\nHost: login.example:443\r\nUser-Agent: miiserver\r\n\r\n".to_vec()),
                response: Some(b"HTTP/1.1 200 Connection Established\r\nFiddlerGateway: Direct\r\nStartTime: 10:15:01.001\r\nConnection: close\r\n\r\nThis is a CONNECT tunnel, through which encrypted HTTPS traffic flows.".to_vec()),
                meta: Some(meta(1, 1, 50101, "20.190.151.7")),
            },
            Saz {
                number: "02",
                request: Some(token_req),
                response: Some(token_resp),
                meta: Some(meta(2, 2, 50101, "20.190.151.7")),
            },
            Saz {
                number: "03",
                request: Some(b"GET http://adfs.example/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Afederation%3Aexample HTTP/1.1\r\nHost: adfs.example\r\nAccept: text/html\r\n\r\n".to_vec()),
                response: Some(b"HTTP/1.1 302 Found\r\nLocation: https://adfs.example/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Afederation%3Aexample\r\nContent-Length: 0\r\n\r\n".to_vec()),
                meta: Some(meta(3, 3, 50102, "192.0.2.10")),
            },
            Saz {
                number: "04",
                request: Some(b"GET /tenant/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: login.example\r\n\r\n".to_vec()),
                response: None,
                meta: Some(meta(4, 4, 50101, "20.190.151.7")),
            },
        ]
    }

    /// Zips sessions the way Fiddler lays them out (deflate, `raw/` folder, index files).
    pub(crate) fn build(sessions: &[Saz<'_>]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        let mut add = |name: &str, data: &[u8]| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(data).unwrap();
        };
        add("[Content_Types].xml", br#"<?xml version="1.0" encoding="utf-8" ?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="htm" ContentType="text/html" /><Default Extension="xml" ContentType="application/xml" /><Default Extension="txt" ContentType="text/plain" /></Types>"#);
        add(
            "_index.htm",
            b"<html><head><title>Fiddler Session Archive</title></head><body></body></html>",
        );
        for s in sessions {
            if let Some(c) = &s.request {
                add(&format!("raw/{}_c.txt", s.number), c);
            }
            if let Some(r) = &s.response {
                add(&format!("raw/{}_s.txt", s.number), r);
            }
            if let Some(m) = &s.meta {
                add(&format!("raw/{}_m.xml", s.number), m.as_bytes());
            }
        }
        zip.finish().unwrap().into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::sample::{self, Saz};
    use super::*;
    use crate::capture::{Format, from_bytes, open};
    use proptest::prelude::*;
    use std::time::Duration;

    fn read(bytes: Vec<u8>) -> Vec<Result<Flow, CaptureError>> {
        from_bytes(Path::new("t.saz"), bytes).unwrap().collect()
    }

    #[test]
    fn sample_sessions_become_flows_in_order() {
        let items = read(sample::build(&sample::sessions()));
        let flows: Vec<Flow> = items.into_iter().map(Result::unwrap).collect();
        assert_eq!(flows.len(), 4);
        assert_eq!(
            flows.iter().map(|f| f.id.0).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );

        let tunnel = &flows[0];
        assert_eq!(tunnel.request.method, "CONNECT");
        assert_eq!(tunnel.request.url, "https://login.example:443");
        assert_eq!(tunnel.response().unwrap().reason, "Connection Established");

        let token = &flows[1];
        assert_eq!(
            token.request.url,
            "https://login.example/tenant/oauth2/v2.0/token"
        );
        assert!(
            token
                .request
                .body
                .raw
                .starts_with(b"grant_type=client_credentials")
        );
        let r = token.response().unwrap();
        assert_eq!(r.body.encoding.as_deref(), Some("gzip"));
        assert!(!r.body.truncated);
        assert_eq!(
            &*r.body.decoded(1 << 20).unwrap(),
            sample::TOKEN_JSON.as_bytes()
        );
        assert_eq!(token.client_addr, Some("127.0.0.1:50101".parse().unwrap()));
        assert_eq!(token.server_addr.as_deref(), Some("20.190.151.7"));
        assert_eq!(token.comment.as_deref(), Some("sync & sign-in"));
        assert_eq!(
            token.extra["_fiddlerFlags"]["x-processinfo"],
            "miiserver:4242"
        );
        // 10:15:02.001+01:00
        let start = UNIX_EPOCH + Duration::from_millis(1_709_284_502_001);
        assert_eq!(token.started_at, start);
        assert_eq!(token.timings.total, Some(49.0));
        assert_eq!(token.timings.wait, Some(30.0));
        assert_eq!(token.timings.connect, Some(12.0));
        assert_eq!(token.timings.ssl, None);

        assert_eq!(
            flows[2].request.url,
            "http://adfs.example/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Afederation%3Aexample"
        );
        assert_eq!(flows[2].response().unwrap().status, 302);
        let e = flows[3].error().unwrap();
        let text = &e.message;
        assert!(text.contains("raw/04_s.txt is missing"), "{text}");
    }

    #[test]
    fn sessions_are_ordered_numerically_not_by_name() {
        let mut s = sample::sessions();
        s.truncate(3);
        s[0].number = "10";
        s[1].number = "9";
        s[2].number = "100";
        let flows: Vec<Flow> = read(sample::build(&s))
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let methods: Vec<&str> = flows.iter().map(|f| f.request.method.as_str()).collect();
        assert_eq!(methods, ["POST", "CONNECT", "GET"]);
    }

    #[test]
    fn missing_request_member_is_an_error_naming_archive_and_member() {
        let mut s = sample::sessions();
        s[1].request = None;
        let items = read(sample::build(&s));
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(
            *e.kind(),
            CaptureErrorKind::MissingMember("raw/02_c.txt".into())
        );
        assert!(
            e.to_string().starts_with("t.saz: raw/02_c.txt: entry 1: "),
            "{e}"
        );
        assert!(items[2].is_ok(), "later sessions still read");
    }

    #[test]
    fn malformed_zip_and_non_saz_zip_are_clear_errors() {
        let mut bytes = sample::build(&sample::sessions());
        bytes.truncate(bytes.len() / 2);
        let e = from_bytes(Path::new("half.saz"), bytes).unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::Zip(_)));
        assert!(
            e.to_string()
                .starts_with("half.saz: not a readable zip archive"),
            "{e}"
        );
        let e = from_bytes(Path::new("doc.saz"), sample::build(&[])).unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::NotSaz(_)), "{e}");
    }

    #[test]
    fn bad_status_line_and_bad_chunks_name_the_member() {
        let mut s = sample::sessions();
        s[0].response = Some(b"garbage\r\n\r\n".to_vec());
        s[1].response =
            Some(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".to_vec());
        let items = read(sample::build(&s));
        let e0 = items[0].as_ref().unwrap_err();
        assert_eq!(e0.location().member.as_deref(), Some("raw/01_s.txt"));
        assert!(matches!(e0.kind(), CaptureErrorKind::Http(_)));
        let e1 = items[1].as_ref().unwrap_err();
        assert!(e1.to_string().contains("bad chunk size"), "{e1}");
    }

    #[test]
    fn chunk_sizes_are_not_trusted_and_short_streams_are_truncated() {
        let (body, complete) = dechunk(b"ffffffff\r\nabc").unwrap();
        assert_eq!((&body[..], complete), (&b"abc"[..], false));
        assert!(dechunk(b"fffffffffffffffffffffff\r\n").is_err());
        let (body, complete) = dechunk(&sample::chunked(b"hello world", 3)).unwrap();
        assert_eq!((&body[..], complete), (&b"hello world"[..], true));
    }

    #[test]
    fn oversized_member_is_refused() {
        let mut s = sample::sessions();
        s.truncate(1);
        s[0].meta = Some(format!(
            "<Session>{}</Session>",
            " ".repeat(MAX_META_BYTES as usize)
        ));
        let items = read(sample::build(&s));
        let e = items[0].as_ref().unwrap_err();
        assert_eq!(
            *e.kind(),
            CaptureErrorKind::TooLarge {
                limit: MAX_META_BYTES
            }
        );
    }

    #[test]
    fn doctype_in_metadata_is_refused() {
        let mut s = sample::sessions();
        s.truncate(1);
        s[0].meta = Some(r#"<!DOCTYPE x [<!ENTITY e "boom">]><Session>&e;</Session>"#.into());
        let e = read(sample::build(&s)).remove(0).unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::Xml(_)), "{e}");
    }

    /// The committed sample is what [`sample::sessions`] describes. Set `IDSCOPE_WRITE_SAMPLE=1`
    /// to regenerate `captures/fiddler-sample.saz` after changing the generator.
    #[test]
    fn committed_fiddler_sample_matches_its_generator() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/fiddler-sample.saz");
        let generated = sample::build(&sample::sessions());
        if std::env::var_os("IDSCOPE_WRITE_SAMPLE").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let mut reader = open(&path).unwrap();
        assert_eq!(reader.format(), Format::Saz);
        let committed: Vec<Flow> = reader.by_ref().map(Result::unwrap).collect();
        assert!(reader.bytes_read() > 0);
        let want: Vec<Flow> = read(generated).into_iter().map(Result::unwrap).collect();
        assert_eq!(committed, want);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn mutated_archives_read_or_fail_naming_the_file(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut bytes = sample::build(&sample::sessions());
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let named = |e: &crate::capture::CaptureError| e.path() == Path::new("f.saz") && !e.to_string().is_empty();
            match from_bytes(Path::new("f.saz"), bytes) {
                Ok(r) => {
                    for item in r {
                        match item {
                            Ok(_) => {}
                            Err(e) => prop_assert!(named(&e), "{}", e),
                        }
                    }
                }
                Err(e) => prop_assert!(named(&e), "{}", e),
            }
        }

        #[test]
        fn arbitrary_raw_messages_parse_or_say_why(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
            // Each parser accepts or says what is wrong.
            prop_assert!(parse_request(&raw).err().is_none_or(|e| !e.to_string().is_empty()));
            prop_assert!(parse_response(&raw).err().is_none_or(|e| !e.to_string().is_empty()));
            prop_assert!(parse_meta(&raw).err().is_none_or(|e| !e.is_empty()));
        }
    }

    #[test]
    fn session_with_only_a_response_is_missing_its_request() {
        let s = [Saz {
            number: "7",
            request: None,
            response: Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()),
            meta: None,
        }];
        let e = read(sample::build(&s)).remove(0).unwrap_err();
        assert_eq!(
            *e.kind(),
            CaptureErrorKind::MissingMember("raw/7_c.txt".into())
        );
    }
}
