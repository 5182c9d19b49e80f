//! The Request, Response and Detail tabs' text and the `y` curl command line, built by pure
//! functions that `App::update` calls when a flow is opened (bodies have content-encoding removed
//! then, never while drawing). A form body (`application/x-www-form-urlencoded`) is shown one
//! parameter per line, percent-decoded (`name = value`). Credentials in headers
//! (`Authorization`, cookies, the PRT cookie), form parameters the secrets policy names
//! (`password`, `client_secret`, `refresh_token` …) and every value a decoder marked secret (a
//! refresh token in JSON) are masked ([`super::mask`]) until revealed, like in the Decoded tab.
//! The lines are as long as their content; the app wraps them to the screen (`super::fit`).

use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use idscope_decoders::secrets;

use super::fit::width;
use super::mask::{is_sensitive, mask};
use super::{TextLine, Tone};
use crate::analysis::FlowReport;
use crate::flow::{Body, DEFAULT_DECODED_CAP, Flow, Headers, header};

/// Body lines shown at most; the rest is summarised (export the flow to see all).
const MAX_BODY_LINES: usize = 2_000;
/// Binary bodies are shown as a hex dump of this many bytes at most.
const MAX_HEX_BYTES: usize = 4_096;

fn header_lines(out: &mut Vec<TextLine>, headers: &Headers, reveal: bool) {
    for (n, v) in headers {
        let v = if !reveal && is_sensitive(n) {
            idscope_decoders::secrets::mask(v)
        } else {
            v.to_string()
        };
        out.push(TextLine::new(format!("{n}: {v}"), Tone::Normal));
    }
}

/// True when the headers say the body is a form (`application/x-www-form-urlencoded`).
fn is_form(headers: &Headers) -> bool {
    header(headers, "content-type").is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

/// A form body, one parameter per line, percent-decoded: `name = value`. A value is masked when
/// the secrets policy names its parameter or a decoder marked it secret (`found`), unless
/// `reveal`; a value of several lines continues under its first.
fn form_lines(out: &mut Vec<TextLine>, text: &str, reveal: bool, found: &[String]) {
    let pairs = form_urlencoded::parse(text.trim_end().as_bytes());
    let total = pairs.count();
    for (name, value) in pairs.take(MAX_BODY_LINES) {
        let value = value.replace('\r', "").replace('\t', "    ");
        let shown = if reveal {
            value
        } else if secrets::is_secret_name(&name) && !value.is_empty() {
            secrets::mask(&value)
        } else {
            mask(&value, found)
        };
        let pad = " ".repeat(width(&name) + 3);
        for (i, part) in shown.split('\n').enumerate() {
            let text = match i {
                0 => format!("{name} = {part}"),
                _ => format!("{pad}{part}"),
            };
            out.push(TextLine::new(text, Tone::Normal));
        }
    }
    if total > MAX_BODY_LINES {
        out.push(TextLine::left_out(total - MAX_BODY_LINES, "parameters"));
    }
}

/// The headers and body of a request or response, secrets masked unless `reveal`.
fn message_lines(
    out: &mut Vec<TextLine>,
    headers: &Headers,
    body: &Body,
    reveal: bool,
    secrets: &[String],
) {
    header_lines(out, headers, reveal);
    let secrets = if reveal { &[] } else { secrets };
    body_lines(out, body, is_form(headers), reveal, secrets);
}

fn body_lines(out: &mut Vec<TextLine>, body: &Body, form: bool, reveal: bool, secrets: &[String]) {
    if body.raw.is_empty() {
        if body.size > 0 {
            out.push(TextLine::new(
                format!("({} bytes on the wire, not recorded)", body.size),
                Tone::Dim,
            ));
        }
        return;
    }
    out.push(TextLine::new("", Tone::Normal));
    let bytes = match body.decoded(DEFAULT_DECODED_CAP) {
        Ok(b) => b,
        Err(e) => {
            out.push(TextLine::new(
                format!("(content-encoding not removed: {e})"),
                Tone::Warn,
            ));
            body.decoded_lossy(DEFAULT_DECODED_CAP)
        }
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) if form && !text.contains('\0') => form_lines(out, text, reveal, secrets),
        Ok(text) if !text.contains('\0') => {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let total = text.lines().count();
            for l in text.lines().take(MAX_BODY_LINES) {
                out.push(TextLine::new(
                    mask(&l.replace('\t', "    "), secrets),
                    Tone::Normal,
                ));
            }
            if total > MAX_BODY_LINES {
                out.push(TextLine::left_out(total - MAX_BODY_LINES, "lines"));
            }
        }
        _ => {
            for (i, chunk) in bytes.chunks(16).take(MAX_HEX_BYTES / 16).enumerate() {
                let mut line = format!("{:08x}  ", i * 16);
                for b in chunk {
                    let _ = write!(line, "{b:02x} ");
                }
                for _ in chunk.len()..16 {
                    line.push_str("   ");
                }
                line.push(' ');
                line.extend(chunk.iter().map(|b| {
                    if b.is_ascii_graphic() || *b == b' ' {
                        char::from(*b)
                    } else {
                        '.'
                    }
                }));
                out.push(TextLine::new(line, Tone::Normal));
            }
            if bytes.len() > MAX_HEX_BYTES {
                out.push(TextLine::new(
                    format!("… {} more bytes", bytes.len() - MAX_HEX_BYTES),
                    Tone::Dim,
                ));
            }
        }
    }
    if body.truncated {
        out.push(TextLine::new(
            format!(
                "(truncated: {} of {} bytes kept)",
                body.raw.len(),
                body.size
            ),
            Tone::Warn,
        ));
    }
}

/// The Request tab: request line, headers, body; `secrets` (see [`secrets`]) are masked in the
/// body, credential headers unless `reveal`.
pub fn request_lines(flow: &Flow, reveal: bool, secrets: &[String]) -> Vec<TextLine> {
    let r = &flow.request;
    let mut out = vec![TextLine::new(
        format!("{} {} {}", r.method, r.url, r.http_version)
            .trim_end()
            .to_string(),
        Tone::Heading,
    )];
    message_lines(&mut out, &r.headers, &r.body, reveal, secrets);
    out
}

/// The Response tab: status line, headers, body; or why there is none.
pub fn response_lines(
    flow: &Flow,
    in_flight: bool,
    reveal: bool,
    secrets: &[String],
) -> Vec<TextLine> {
    if in_flight {
        return vec![TextLine::new("waiting for the response…", Tone::Dim)];
    }
    match flow.response() {
        Some(r) => {
            let mut out = vec![TextLine::new(
                format!("{} {} {}", r.http_version, r.status, r.reason)
                    .trim()
                    .to_string(),
                Tone::Heading,
            )];
            message_lines(&mut out, &r.headers, &r.body, reveal, secrets);
            out
        }
        None => {
            let e = flow.error().map(|e| e.message.as_str()).unwrap_or("");
            vec![TextLine::new(format!("no response: {e}"), Tone::Bad)]
        }
    }
}

fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    time::OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128)
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs:.3}s after the epoch"))
}

fn ms(v: Option<f64>) -> String {
    v.map_or("—".into(), |m| format!("{m:.1} ms"))
}

/// The Detail tab: timings, addresses, TLS, sizes, tags, every finding, and the correlation and
/// diagnostic headers ([`super::correlation`]).
pub fn detail_lines(flow: &Flow, report: &FlowReport) -> Vec<TextLine> {
    let mut out = Vec::new();
    let mut kv = |k: &str, v: String| out.push(TextLine::new(format!("{k:<16}{v}"), Tone::Normal));
    kv("flow", flow.id.to_string());
    kv("started", rfc3339(flow.started_at));
    kv(
        "client",
        flow.client_addr.map_or("—".into(), |a| a.to_string()),
    );
    kv("server", flow.server_addr.clone().unwrap_or("—".into()));
    let resp_version = flow
        .response()
        .map(|r| r.http_version.as_str())
        .unwrap_or("—");
    kv(
        "HTTP",
        format!(
            "request {} / response {resp_version}",
            flow.request.http_version
        ),
    );
    let https = flow
        .request
        .url
        .to_ascii_lowercase()
        .starts_with("https://");
    let tls = match flow.extra.get("_securityDetails") {
        Some(d) => {
            let get = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string();
            format!(
                "{} {} (certificate {} issued by {})",
                get("protocol"),
                get("cipher"),
                get("subjectName"),
                get("issuer")
            )
        }
        None if https => "yes (https; no handshake details recorded)".into(),
        None => "no (plain http)".into(),
    };
    kv("TLS", tls);
    let t = &flow.timings;
    kv("total", ms(t.total));
    for (name, v) in [
        ("  blocked", t.blocked),
        ("  dns", t.dns),
        ("  connect", t.connect),
        ("  ssl", t.ssl),
        ("  send", t.send),
        ("  wait", t.wait),
        ("  receive", t.receive),
    ] {
        kv(name, ms(v));
    }
    let body = |b: &Body| {
        let mut s = format!("{} bytes", b.size);
        if let Some(e) = &b.encoding {
            let _ = write!(s, ", content-encoding {e}");
        }
        if b.truncated {
            let _ = write!(s, ", truncated to {}", b.raw.len());
        }
        if let Some(h) = &b.sha256 {
            let _ = write!(s, ", sha256 {h}");
        }
        s
    };
    kv("request body", body(&flow.request.body));
    if let Some(r) = flow.response() {
        kv("response body", body(&r.body));
    }
    if !flow.tags.is_empty() {
        kv("tags", flow.tags.join(", "));
    }
    if let Some(c) = &flow.comment {
        kv("comment", c.clone());
    }
    kv("marked", if flow.marked { "yes" } else { "no" }.into());
    super::fiddler::fiddler_lines(&mut out, flow);
    let findings = report.findings();
    out.push(TextLine::new("", Tone::Normal));
    out.push(TextLine::new(
        format!("findings ({})", findings.len()),
        Tone::Heading,
    ));
    for (side, decoder, f) in findings {
        let side = match side {
            Some(crate::analysis::Side::Request) => "request ",
            Some(crate::analysis::Side::Response) => "response ",
            None => "",
        };
        let tone = match f.severity {
            idscope_decoders::Severity::Error => Tone::Bad,
            idscope_decoders::Severity::Warning => Tone::Warn,
            idscope_decoders::Severity::Info => Tone::Normal,
        };
        out.push(TextLine::new(
            format!("  {side}{decoder}: [{}] {}", f.severity, f.message),
            tone,
        ));
    }
    out.extend(super::correlation::lines(flow, report));
    out
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The request as a curl command line; credential headers and `secrets` masked unless `reveal`.
pub fn curl(flow: &Flow, reveal: bool, secrets: &[String]) -> String {
    let r = &flow.request;
    let mut s = format!("curl -X {} {}", r.method, shell_quote(&r.url));
    for (n, v) in &r.headers {
        let lower = n.to_ascii_lowercase();
        if matches!(lower.as_str(), "content-length" | "host") || lower.starts_with(':') {
            continue;
        }
        let v = if !reveal && is_sensitive(n) {
            "«masked»"
        } else {
            v
        };
        let _ = write!(s, " -H {}", shell_quote(&format!("{n}: {v}")));
    }
    if !r.body.raw.is_empty() {
        let body = r.body.decoded_lossy(DEFAULT_DECODED_CAP);
        let _ = write!(
            s,
            " --data-binary {}",
            shell_quote(&if reveal {
                String::from_utf8_lossy(&body).into_owned()
            } else {
                mask(&String::from_utf8_lossy(&body), secrets)
            })
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::mask::secrets;
    use super::*;
    use crate::flow::testing::{flow, request, request_with, response};

    #[test]
    fn credentials_in_headers_are_masked_until_revealed() {
        let req = request_with(
            "GET",
            "https://graph.example/v1/me",
            &[("Authorization", "Bearer abc.def")],
        );
        let f = flow(0, req, response(200, "application/json", b"{\"a\":1}"));
        let masked = request_lines(&f, false, &[]);
        assert_eq!(masked[1].text, "Authorization: «secret: 14 chars»");
        assert_eq!(
            request_lines(&f, true, &[])[1].text,
            "Authorization: Bearer abc.def"
        );
        assert_eq!(
            curl(&f, false, &[]),
            "curl -X GET 'https://graph.example/v1/me' -H 'Authorization: «masked»'"
        );
        assert!(curl(&f, true, &[]).contains("Bearer abc.def"));
    }

    #[test]
    fn values_decoders_call_secret_are_masked_in_raw_bodies_too() {
        let mut req = request("POST", "https://login.example/oauth2/token");
        req.body = Body::plain(&b"grant_type=password&username=a&password=P%40ss+word%21"[..]);
        let f = flow(0, req, response(200, "text/plain", b""));
        let report = crate::analysis::FlowReport {
            id: f.id,
            request: vec![idscope_decoders::Outcome {
                decoder: "form",
                priority: 1.0,
                result: Ok(idscope_decoders::Decoded::new(
                    "form",
                    "form",
                    idscope_decoders::Node::secret("password", "P@ss word!"),
                )),
            }],
            response: vec![],
            flow_findings: vec![],
        };
        let secrets = secrets(&report);
        assert_eq!(secrets, vec!["P%40ss+word%21", "P@ss word!"]);
        let body = request_lines(&f, false, &secrets).pop().unwrap().text;
        assert_eq!(
            body,
            "grant_type=password&username=a&password=«secret: 14 chars»"
        );
        let shown = request_lines(&f, true, &secrets).pop().unwrap().text;
        assert!(shown.ends_with("P%40ss+word%21"));
        assert!(!curl(&f, false, &secrets).contains("P%40ss"));
    }

    #[test]
    fn response_body_has_content_encoding_removed_and_binary_is_hex() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"{\"ok\":true}").unwrap();
        let mut resp = response(200, "application/json", b"");
        resp.body = Body::encoded(enc.finish().unwrap(), "gzip");
        let f = flow(0, request("GET", "https://x/"), resp);
        let lines = response_lines(&f, false, false, &[]);
        assert_eq!(lines.last().unwrap().text, "{\"ok\":true}");
        let bin = flow(
            0,
            request("GET", "https://x/"),
            response(200, "x", &[0u8, 1, 2, 0xff]),
        );
        let lines = response_lines(&bin, false, false, &[]);
        assert!(
            lines
                .last()
                .unwrap()
                .text
                .starts_with("00000000  00 01 02 ff")
        );
        assert_eq!(
            response_lines(&bin, true, false, &[])[0].text,
            "waiting for the response…"
        );
    }
}
