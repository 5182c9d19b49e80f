//! Body dispatch: content-encoding removed (capped), then the body is recognised by its
//! content type and its shape — JSON, form, multipart, HTML, XML, .NET binary XML, a bare
//! JWT/JWE, base64 or gzip of any of these — and redacted by the matching rule. A body no rule
//! understands is replaced by `«redacted:body:len=N:sha256=…»` on identity endpoints (fail
//! closed) and kept elsewhere, where the residual detector still looks at it.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use idscope_decoders::{secrets, util};
use sha2::{Digest as _, Sha256};

use super::values::Cx;
use crate::flow::{Body, Flow, Headers, header};

/// What a rule made of a body.
enum Out {
    /// Understood; nothing to change.
    Same,
    /// Understood and redacted.
    Changed(Vec<u8>),
    /// Not understood.
    Opaque,
}

/// Hosts whose traffic is identity traffic (security.md §1 "identity endpoints").
const IDENTITY_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.windows.net",
    "login.microsoft.com",
    "login.live.com",
    "sts.windows.net",
    "adminwebservice.microsoftonline.com",
    "provisioningapi.microsoftonline.com",
    "enterpriseregistration.windows.net",
    "autologon.microsoftazuread-sso.com",
    "device.login.microsoftonline.com",
];

/// Path fragments of identity endpoints anywhere (ADFS, OAuth, SAML, the sync API).
const IDENTITY_PATHS: &[&str] = &[
    "/oauth2/",
    "/adfs/",
    "/saml",
    "/wsfed",
    "/login.srf",
    "/token",
    "/authorize",
    "/devicecode",
    "provisioningservice.svc",
    "provisioningwebservice.svc",
    "/enrollmentserver/",
    "/winauth/",
    "usernamemixed",
    "/getcredentialtype",
    "/userrealm",
    "/trust/",
    "/sso",
    "/scim/",
];

/// True when the flow talks to an identity endpoint: a known identity host, an identity path,
/// a SOAP binary body, or a request carrying credentials.
pub(super) fn is_identity_flow(flow: &Flow) -> bool {
    let host = flow.host();
    let path = flow.path_and_query().to_ascii_lowercase();
    let ct = header(&flow.request.headers, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    IDENTITY_HOSTS.contains(&host.as_str())
        || host.starts_with("sts.")
        || host.starts_with("adfs.")
        || IDENTITY_PATHS.iter().any(|p| path.contains(p))
        || ct.contains("msbin")
        || ct.contains("soap")
        || header(&flow.request.headers, "authorization").is_some()
}

impl Cx<'_> {
    /// Redacts a message body; `None` keeps it (with its content-encoding) as it is.
    pub(super) fn body(&mut self, body: &Body, headers: &Headers, identity: bool) -> Option<Body> {
        if body.is_empty() {
            return None;
        }
        let ct = header(headers, "content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let out = match body.decoded(self.policy.limits.max_inflate) {
            Ok(bytes) => self.dispatch(&bytes, &ct),
            Err(_) => Out::Opaque,
        };
        match out {
            Out::Same => None,
            Out::Changed(b) => Some(Body::plain(b)),
            Out::Opaque if identity => {
                let bytes = body.decoded_lossy(self.policy.limits.max_inflate);
                let digest = Sha256::digest(&bytes);
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                self.report.record("body");
                Some(Body::plain(secrets::body_placeholder(bytes.len(), &hex)))
            }
            Out::Opaque => None,
        }
    }

    /// Recognises and redacts one body (or part) with content type `ct` (lowercase).
    fn dispatch(&mut self, bytes: &[u8], ct: &str) -> Out {
        match self.nested(|cx| Some(cx.dispatch_inner(bytes, ct))) {
            Some(out) => out,
            None => Out::Opaque,
        }
    }

    fn dispatch_inner(&mut self, bytes: &[u8], ct: &str) -> Out {
        if bytes.is_empty() {
            return Out::Same;
        }
        // A UTF-8 byte-order mark before a text body stays where it is.
        if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
            return match self.dispatch_inner(rest, ct) {
                Out::Changed(b) => Out::Changed([&b"\xEF\xBB\xBF"[..], &b].concat()),
                other => other,
            };
        }
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return self.gzip(bytes, ct);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            if ct.contains("msbin") || bytes.starts_with(&[0x56, 0x02]) {
                return match self.msbin(bytes) {
                    Some(Some(b)) => Out::Changed(b),
                    Some(None) => Out::Same,
                    None => Out::Opaque,
                };
            }
            return Out::Opaque;
        };
        let t = text.trim();
        if super::is_placeholder(t) {
            self.report.already_redacted += 1;
            return Out::Same;
        }
        if ct.contains("json") || t.starts_with('{') || t.starts_with('[') {
            match self.json_text(text, None) {
                Some(r) => return changed(r),
                // A JWT answered as JSON (an encrypted token response): the JWT rule.
                None if ct.contains("json") => {
                    return self.jwt(t).map_or(Out::Opaque, changed);
                }
                None => {}
            }
        }
        if ct.contains("x-www-form-urlencoded") {
            return changed(self.pairs(text));
        }
        if ct.contains("multipart/") {
            return self.multipart(text, ct);
        }
        let head = t.get(..t.len().min(512)).unwrap_or("").to_ascii_lowercase();
        if ct.contains("html") || head.starts_with("<!doctype html") || head.starts_with("<html") {
            return changed(self.html(text));
        }
        if t.starts_with('<') || ct.contains("xml") {
            match self.xml(text) {
                Some(r) => return changed(r),
                // Not XML after all: an HTML fragment with a form, or text.
                None if text.to_ascii_lowercase().contains("<form") => {
                    return changed(self.html(text));
                }
                None => return Out::Opaque,
            }
        }
        if let Some(r) = self.jwt(t) {
            return changed(r);
        }
        if t.len() >= 16
            && util::is_base64ish(t)
            && !t.contains('&')
            && let Some(out) = self.base64(t, ct)
        {
            return out;
        }
        if util::looks_like_form(t.as_bytes()) {
            return changed(self.pairs(text));
        }
        Out::Opaque
    }

    /// A gzip body inside the body (not as content-encoding): inflated under the cap,
    /// redacted, compressed again.
    fn gzip(&mut self, bytes: &[u8], ct: &str) -> Out {
        let cap = self.policy.limits.max_inflate;
        let mut out = Vec::new();
        let read = flate2::read::MultiGzDecoder::new(bytes)
            .take(cap as u64 + 1)
            .read_to_end(&mut out);
        if read.is_err() || out.len() > cap {
            return Out::Opaque;
        }
        match self.dispatch(&out, ct) {
            Out::Changed(plain) => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                match e.write_all(&plain).and_then(|()| e.finish()) {
                    Ok(gz) => Out::Changed(gz),
                    Err(_) => Out::Opaque,
                }
            }
            other => other,
        }
    }

    /// A body that is base64 (or base64url) of something a rule understands; re-encoded in the
    /// same alphabet and padding. `None` when the decoded bytes are not understood.
    fn base64(&mut self, t: &str, ct: &str) -> Option<Out> {
        let bytes = util::b64_decode_any(t, self.policy.limits.max_inflate)?;
        let inner_ct = if ct.contains("msbin") { ct } else { "" };
        match self.dispatch(&bytes, inner_ct) {
            Out::Opaque => None,
            Out::Same => Some(Out::Same),
            Out::Changed(b) => {
                let url = t.contains(['-', '_']);
                let pad = t.ends_with('=');
                let enc = match (url, pad) {
                    (true, true) => URL_SAFE.encode(b),
                    (true, false) => URL_SAFE_NO_PAD.encode(b),
                    (false, true) => STANDARD.encode(b),
                    (false, false) => STANDARD_NO_PAD.encode(b),
                };
                Some(Out::Changed(enc.into_bytes()))
            }
        }
    }

    /// `multipart/*` with a boundary: each part with a form name goes through the key rules,
    /// then through the body rules by its own content type.
    fn multipart(&mut self, text: &str, ct: &str) -> Out {
        let Some(boundary) = ct
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()
            .map(|b| b.trim_matches('"'))
        else {
            return Out::Opaque;
        };
        // The boundary was lowercased with the content type; find it case-insensitively.
        let lower = text.to_ascii_lowercase();
        let delim = format!("--{boundary}");
        let starts: Vec<usize> = lower.match_indices(&delim).map(|(i, _)| i).collect();
        if starts.is_empty() {
            return Out::Opaque;
        }
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        for pair in starts.windows(2) {
            let (Some(&a), Some(&b)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let part_start = a + delim.len();
            let Some(part) = text.get(part_start..b) else {
                continue;
            };
            let Some((hdr_len, sep_len)) = part
                .find("\r\n\r\n")
                .map(|i| (i, 4))
                .or_else(|| part.find("\n\n").map(|i| (i, 2)))
            else {
                continue;
            };
            let headers = part.get(..hdr_len).unwrap_or("");
            let body_start = part_start + hdr_len + sep_len;
            let body_end = if text.get(..b).is_some_and(|s| s.ends_with("\r\n")) {
                b - 2
            } else if text.get(..b).is_some_and(|s| s.ends_with('\n')) {
                b - 1
            } else {
                b
            };
            let Some(value) = text.get(body_start..body_end.max(body_start)) else {
                continue;
            };
            let mut name = None;
            let mut part_ct = String::new();
            for line in headers.lines() {
                let l = line.to_ascii_lowercase();
                if l.starts_with("content-disposition:") {
                    name = disposition_name(line);
                } else if let Some(v) = l.strip_prefix("content-type:") {
                    part_ct = v.trim().to_string();
                }
            }
            let keyed = name.and_then(|n| self.keyed(&n, value));
            let new = match keyed {
                Some(v) => Some(v),
                None => match self.dispatch(value.as_bytes(), &part_ct) {
                    Out::Changed(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    _ => None,
                },
            };
            if let Some(v) = new {
                edits.push((body_start, body_end.max(body_start), v));
            }
        }
        if edits.is_empty() {
            return Out::Same;
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (s, e, rep) in &edits {
            out.push_str(text.get(pos..*s).unwrap_or(""));
            out.push_str(rep);
            pos = *e;
        }
        out.push_str(text.get(pos..).unwrap_or(""));
        Out::Changed(out.into_bytes())
    }
}

/// `Out` from a rule that returns the new text when it changed something.
fn changed(r: Option<String>) -> Out {
    match r {
        Some(s) => Out::Changed(s.into_bytes()),
        None => Out::Same,
    }
}

/// The `name="…"` parameter of a `Content-Disposition` header line.
fn disposition_name(line: &str) -> Option<String> {
    line.split(';').find_map(|p| {
        let p = p.trim();
        let v = p.strip_prefix("name=")?;
        Some(v.trim_matches('"').to_string())
    })
}
