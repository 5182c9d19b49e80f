//! The residual detector: after the rules ran, look once more, independently of them, for what
//! must never be written — a JWS with a real signature anywhere (headers, URLs, bodies, custom
//! fields, JWT payloads, in raw, percent-decoded and entity-decoded text), a PEM private key,
//! and a high-entropy value of 32 characters or more in a credential position (a header, query,
//! form or JSON name the secrets policy treats as secret). What counts as a credential name, a
//! live signature, a private key or a random value is the secrets policy's
//! ([`idscope_decoders::secrets`]). A hit makes the export fail rather than leak.

use idscope_decoders::html::decode_entities;
use idscope_decoders::secrets::{self, NameClass, classify, is_secret_header};
use idscope_decoders::util;
use serde_json::Value;

use super::values::{is_redacted_jwt, is_url};
use super::{Policy, RedactError, is_placeholder};
use crate::flow::{Body, Flow, Headers, Outcome, header};

#[cfg(test)]
pub(super) use idscope_decoders::secrets::entropy;

/// Deepest chain of nested looks (a JWS in a JWT payload in a base64 body).
const MAX_DEPTH: u8 = 4;

/// Checks a redacted flow; the first finding becomes [`RedactError::Residual`].
pub(super) fn check(flow: &Flow, policy: &Policy) -> Result<(), RedactError> {
    let mut d = Detector {
        found: None,
        cap: policy.limits.max_inflate,
    };
    d.text("request URL", &flow.request.url, 0);
    if let Some(q) = flow.request.url.split_once('?').map(|(_, q)| q) {
        d.params("request URL", q);
    }
    d.headers("request header", &flow.request.headers);
    d.body("request body", &flow.request.body, &flow.request.headers);
    for (k, v) in &flow.request.extra {
        d.json(&format!("request field {k}"), Some(k), v, 0);
    }
    if let Outcome::Response(r) = &flow.outcome {
        d.headers("response header", &r.headers);
        d.body("response body", &r.body, &r.headers);
        for (k, v) in &r.extra {
            d.json(&format!("response field {k}"), Some(k), v, 0);
        }
    }
    for (k, v) in &flow.extra {
        d.json(&format!("entry field {k}"), Some(k), v, 0);
    }
    if let Some(c) = &flow.comment {
        d.text("comment", c, 0);
    }
    match d.found {
        Some((location, what)) => Err(RedactError::Residual {
            flow: flow.id,
            location,
            what,
        }),
        None => Ok(()),
    }
}

/// Checks free text written beside a redacted flow (a report's decoded trees, findings and
/// summaries) for what [`check`] looks for in text: a signed JWS or a PEM private key, raw,
/// percent-decoded or entity-decoded. The first finding becomes [`RedactError::Residual`] at
/// `location` of `flow`.
pub(super) fn check_text(
    flow: crate::flow::FlowId,
    location: &str,
    text: &str,
    policy: &Policy,
) -> Result<(), RedactError> {
    let mut d = Detector {
        found: None,
        cap: policy.limits.max_inflate,
    };
    d.text(location, text, 0);
    match d.found {
        Some((location, what)) => Err(RedactError::Residual {
            flow,
            location,
            what,
        }),
        None => Ok(()),
    }
}

struct Detector {
    found: Option<(String, String)>,
    cap: usize,
}

impl Detector {
    fn hit(&mut self, location: &str, what: String) {
        if self.found.is_none() {
            self.found = Some((location.to_string(), what));
        }
    }

    fn headers(&mut self, prefix: &str, headers: &Headers) {
        for (n, v) in headers {
            let loc = format!("{prefix} {n}");
            self.text(&loc, v, 0);
            if is_secret_header(n) && !v.trim().contains(char::is_whitespace) {
                self.credential(&loc, v);
            }
        }
    }

    fn body(&mut self, location: &str, body: &Body, headers: &Headers) {
        if self.found.is_some() || body.is_empty() {
            return;
        }
        let bytes = body.decoded_lossy(self.cap);
        let text = String::from_utf8_lossy(&bytes);
        self.text(location, &text, 0);
        let t = text.trim();
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            self.json(location, None, &v, 0);
        } else if header(headers, "content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("x-www-form-urlencoded"))
            || util::looks_like_form(t.as_bytes())
        {
            self.params(location, t);
        } else if t.len() >= 16
            && util::is_base64ish(t)
            && let Some(inner) = util::b64_decode_any(t, self.cap)
        {
            self.text(location, &String::from_utf8_lossy(&inner), 1);
        }
    }

    /// Query or form parameters: values under credential names must be redacted.
    fn params(&mut self, location: &str, text: &str) {
        for (k, v) in form_urlencoded::parse(text.as_bytes()) {
            if is_credential(&k) {
                self.credential(&format!("{location} parameter {k}"), &v);
            }
        }
    }

    fn json(&mut self, location: &str, key: Option<&str>, v: &Value, depth: u8) {
        if self.found.is_some() || depth > 64 {
            return;
        }
        match v {
            Value::String(s) => {
                self.text(location, s, 0);
                if let Some(k) = key.filter(|k| is_credential(k)) {
                    self.credential(&format!("{location} member {k}"), s);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.json(location, key, item, depth + 1);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    self.json(location, Some(k), item, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Free text in raw, percent-decoded and entity-decoded form.
    fn text(&mut self, location: &str, s: &str, depth: u8) {
        if self.found.is_some() || depth > MAX_DEPTH {
            return;
        }
        self.scan(location, s, depth);
        if s.contains('%') {
            let decoded: String = form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            self.scan(location, &decoded, depth);
        }
        if s.contains('&') {
            self.scan(location, &decode_entities(s), depth);
        }
    }

    fn scan(&mut self, location: &str, s: &str, depth: u8) {
        if secrets::contains_pem_private_key(s) {
            self.hit(location, "a PEM private key".into());
            return;
        }
        self.jws(location, s, depth);
    }

    /// Every `eyJ…` run that is a JWS with a non-empty, unredacted signature is a leak; the
    /// payloads of redacted tokens are looked into too.
    fn jws(&mut self, location: &str, s: &str, depth: u8) {
        let b = s.as_bytes();
        let mut pos = 0;
        while let Some(i) = s.get(pos..).and_then(|r| r.find("eyJ")) {
            let start = pos + i;
            let mut end = start;
            while b
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
            {
                end += 1;
            }
            pos = end.max(start + 3);
            let run = s.get(start..end).unwrap_or("");
            let parts: Vec<&str> = run.split('.').collect();
            if parts.len() < 3 || parts.len() == 5 {
                continue;
            }
            let header = parts
                .first()
                .and_then(|h| util::b64_decode_any(h, 64 << 10))
                .and_then(|h| serde_json::from_slice::<Value>(&h).ok());
            let Some(alg) = header.as_ref().and_then(|h| h.get("alg")) else {
                continue;
            };
            let alg = alg.as_str().unwrap_or("");
            let sig = parts.get(2).copied().unwrap_or("");
            if secrets::is_live_jws_signature(alg, sig) {
                self.hit(location, format!("a signed JWS (alg {alg})"));
                return;
            }
            if let Some(payload) = parts.get(1).and_then(|p| util::b64_decode_any(p, self.cap)) {
                self.text(location, &String::from_utf8_lossy(&payload), depth + 1);
            }
        }
    }

    /// A value in a credential position that still looks random.
    fn credential(&mut self, location: &str, v: &str) {
        let v = v.trim();
        if is_url(v) || is_placeholder(v) || is_redacted_jwt(v) || decodes_to_xml(v, self.cap) {
            return;
        }
        if secrets::is_high_entropy(v) {
            self.hit(
                location,
                format!("a high-entropy value of {} characters", v.len()),
            );
        }
    }
}

/// True for names whose values the policy removes or rewrites: credentials and secret-looking
/// names (the SAML rule keeps its re-encoded XML, which is random-looking base64 by nature, so
/// it is not included).
fn is_credential(name: &str) -> bool {
    let class = classify(name);
    class.is_credential() || class == NameClass::SecretLooking
}

/// Base64 of an XML document (a redacted SAML assertion in a SAML-bearer grant).
fn decodes_to_xml(v: &str, cap: usize) -> bool {
    util::is_base64ish(v)
        && util::b64_decode_any(v, cap).is_some_and(|b| b.trim_ascii_start().starts_with(b"<"))
}
