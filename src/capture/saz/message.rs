//! Raw HTTP/1.x messages as Fiddler stores them (`_c.txt`, `_s.txt`): start line, headers in
//! order, and the body with `Transfer-Encoding: chunked` undone. Chunk sizes are checked against
//! the bytes actually present.

use crate::capture::CaptureErrorKind;
use crate::flow::{Body, Extra, Headers, Request, Response, header};

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
pub(super) fn dechunk(mut rest: &[u8]) -> Result<(Vec<u8>, bool), CaptureErrorKind> {
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
        (None, None) if bytes.iter().all(u8::is_ascii_whitespace) => (bytes.len(), bytes.len()),
        // Fiddler always ends the headers with a blank line: the member was cut short.
        (None, None) => {
            return Err(http_err(format!(
                "truncated at byte {} (the headers never end)",
                bytes.len()
            )));
        }
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
        // A body shorter than its Content-Length was cut short; it is kept and marked.
        let declared =
            header(&headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        let complete = declared.is_none_or(|n| raw_body.len() as u64 >= n);
        (raw_body.to_vec(), complete)
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

pub(super) fn parse_request(bytes: &[u8]) -> Result<Request, CaptureErrorKind> {
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

pub(super) fn parse_response(bytes: &[u8]) -> Result<Response, CaptureErrorKind> {
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
