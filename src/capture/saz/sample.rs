//! Builds realistic synthetic SAZ archives for tests and for `captures/fiddler-sample.saz`.

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
    build_with(sessions, None)
}

/// [`build`], every member encrypted with WinZip AES-256 under `password` when one is given.
pub(crate) fn build_with(sessions: &[Saz<'_>], password: Option<&str>) -> Vec<u8> {
    build_layout(
        sessions,
        &Layout {
            password,
            ..Layout::default()
        },
    )
}

/// How [`build_layout`] writes the archive.
#[derive(Debug, Default)]
pub(crate) struct Layout<'a> {
    /// WinZip AES-256 under this password.
    pub password: Option<&'a str>,
    /// Zip64 extra fields on every member.
    pub zip64: bool,
    /// Written as a stream: sizes and CRCs in data descriptors after each member.
    pub stream: bool,
    /// Stored instead of deflated.
    pub stored: bool,
}

/// Zips sessions the way Fiddler lays them out, written as `layout` says.
pub(crate) fn build_layout(sessions: &[Saz<'_>], layout: &Layout<'_>) -> Vec<u8> {
    let method = if layout.stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let mut opts = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(layout.zip64)
        .last_modified_time(zip::DateTime::default());
    if let Some(p) = layout.password {
        opts = opts.with_aes_encryption(zip::AesMode::Aes256, p);
    }
    if layout.stream {
        let mut zip = zip::ZipWriter::new_stream(Vec::new());
        fill(&mut zip, sessions, opts);
        zip.finish().unwrap().into_inner()
    } else {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        fill(&mut zip, sessions, opts);
        zip.finish().unwrap().into_inner()
    }
}

fn fill<W: Write + std::io::Seek>(
    zip: &mut zip::ZipWriter<W>,
    sessions: &[Saz<'_>],
    opts: zip::write::FileOptions<'_, ()>,
) {
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
}
