//! Redaction of captures for sharing (security.md §1): [`redact_flow`] turns one flow into a
//! copy that keeps names, claims and structure but no secret, and [`redact_file`] does it for a
//! whole capture, writing `log._redaction` and refusing (writing nothing) when the residual
//! detector still finds a secret.
//!
//! "Parse, don't grep": every rule runs after structural decoding — URL, form, JSON, multipart,
//! XML, JWT, SAML (base64 and deflate), .NET binary XML, base64/gzip bodies, form_post HTML —
//! and re-encodes the value in its original encoding. Rules are keyed on names (header, cookie,
//! query, form, JSON and XML element names), and fail closed: a value the rules cannot parse in
//! a credential position is replaced whole. Replaced values become placeholders
//! `«redacted:KIND:len=N:fp=HHHHHHHH»` (`HHHHHHHH`: 8 hex digits) whose fingerprint is an
//! HMAC-SHA256 under a random per-export key ([`Fingerprinter`]), so equal values correlate
//! within one export and nowhere else. A value that already is a placeholder is left alone, which
//! makes redaction idempotent. The format of every marker (placeholders, `REDACTED-SIG-…`,
//! `REDACTED-JWE-…`) is written and read by the secrets policy
//! ([`idscope_decoders::secrets::redaction_marker`] and the writers beside it), so the decoders
//! recognise exactly what is written here.
//!
//! Which names, headers, XML elements and values are credentials is the secrets policy's
//! ([`idscope_decoders::secrets`]); this module decides what a redacted value becomes.
//! Submodules: `values` (the value rules per name class: JWS/JWE, URL, form, cookies,
//! `Authorization`), `json` (span-preserving JSON edits), `markup` (XML, SAML, msbin1, HTML),
//! `body` (content-type dispatch, multipart, base64 and gzip), `residual` (the leak detector),
//! `file` (the export with temp file and rename). Not responsible for: reading or writing capture
//! formats (the parent module) or showing secrets masked in views (the decoders' `Kind::Secret`).

mod body;
mod file;
mod json;
mod markup;
mod residual;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use idscope_decoders::Limits;
use idscope_decoders::secrets;
use serde_json::{Map, Value, json};

use crate::capture::CaptureError;
use crate::flow::{Extra, Flow, FlowId, Headers, Outcome};

pub(crate) use file::TempFile;
pub use file::{RedactOptions, redact_file, redact_flows};

/// The version of the policy implemented here, recorded in `log._redaction.policy`.
pub const POLICY_VERSION: &str = "idscope-redact/1 (security.md §1)";

/// What to redact beyond the default policy, and the bounds on decoding work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Also mask personal data (`upn`, `email`, `name`, `oid`, `ipaddr`, SAML `NameID` …) with
    /// fingerprinted placeholders. Off by default: the policy protects credentials, not names.
    pub mask_pii: bool,
    /// Caps on body size, inflate output, nesting depth and node counts.
    pub limits: Limits,
}

/// Keyed fingerprints for placeholders: HMAC-SHA256 under a key that lives only in memory.
/// Equal values get equal fingerprints under one `Fingerprinter`; without the key nobody can
/// test a guess against a fingerprint.
pub struct Fingerprinter {
    key: hmac::Key,
}

impl fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprinter { key: <never shown> }")
    }
}

impl Fingerprinter {
    /// A fingerprinter with a fresh random 256-bit key from the system's CSPRNG.
    pub fn random() -> Result<Self, RedactError> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| RedactError::Key("the system random generator failed".into()))?;
        Ok(Self::with_key(&key))
    }

    /// A fingerprinter with a caller-chosen key, for a session that redacts several exports
    /// that must correlate (the caller then owns keeping the key secret) and for tests.
    pub fn with_key(key: &[u8]) -> Self {
        Fingerprinter {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// The first `hex_len` hex digits of HMAC-SHA256(key, value).
    pub(super) fn hex(&self, value: &[u8], hex_len: usize) -> String {
        let tag = hmac::sign(&self.key, value);
        let mut s = String::with_capacity(64);
        for b in tag.as_ref() {
            s.push_str(&format!("{b:02x}"));
        }
        s.truncate(hex_len);
        s
    }

    /// The 8-hex-digit fingerprint used in placeholders.
    pub fn fingerprint(&self, value: &[u8]) -> String {
        self.hex(value, secrets::FINGERPRINT_HEX)
    }

    /// The fingerprint of a redacted JWS signature or JWE (11 hex digits).
    pub(super) fn token_fingerprint(&self, value: &[u8]) -> String {
        self.hex(value, secrets::TOKEN_FINGERPRINT_HEX)
    }

    /// The placeholder `«redacted:KIND:len=N:fp=HHHHHHHH»` for `value` (N counts bytes).
    pub fn placeholder(&self, kind: &str, value: &str) -> String {
        secrets::placeholder(kind, value.len(), &self.fingerprint(value.as_bytes()))
    }
}

/// The placeholder for a password: length only, never hashed (a password is guessable).
pub fn password_placeholder(value: &str) -> String {
    secrets::password_placeholder(value.len())
}

/// True when `value` is a placeholder this module wrote (a redaction of a redacted capture
/// leaves it unchanged).
pub fn is_placeholder(value: &str) -> bool {
    secrets::redaction_marker(value).is_some()
}

/// What one redaction did: how many flows it saw and how often each rule fired. Written as
/// `log._redaction` and printed by `idscope redact`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionReport {
    /// Flows redacted.
    pub flows: u64,
    /// Rule name → number of values it replaced.
    pub fired: BTreeMap<String, u64>,
    /// Values left as they were because they already were placeholders or redacted tokens.
    pub already_redacted: u64,
    /// Whether personal data was masked too (`--mask-pii`).
    pub mask_pii: bool,
}

impl RedactionReport {
    /// Counts one firing of `rule`.
    pub fn record(&mut self, rule: &str) {
        *self.fired.entry(rule.to_string()).or_insert(0) += 1;
    }

    /// Total number of values replaced.
    pub fn total(&self) -> u64 {
        self.fired.values().sum()
    }

    /// The `log._redaction` object: policy version, flow count, counts by rule.
    pub fn to_json(&self) -> Value {
        let fired: Map<String, Value> = self
            .fired
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(*v)))
            .collect();
        json!({
            "policy": POLICY_VERSION,
            "flows": self.flows,
            "mask_pii": self.mask_pii,
            "fired": fired,
            "already_redacted": self.already_redacted,
        })
    }
}

/// Why a redaction did not produce output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// The residual detector found a secret the rules left in place: nothing is written.
    #[error("flow {flow}: {location}: {what}; refusing to write a capture that leaks it")]
    Residual {
        /// The flow.
        flow: FlowId,
        /// Where in the flow (`request header X-Debug`, `response body`, …).
        location: String,
        /// What was found (never the secret itself).
        what: String,
    },
    /// The input capture could not be read.
    #[error(transparent)]
    Input(#[from] CaptureError),
    /// The output already exists and `--force` was not given.
    #[error("{0}: already exists (use --force to overwrite)")]
    Exists(PathBuf),
    /// Writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No fingerprint key could be made.
    #[error("fingerprint key: {0}")]
    Key(String),
}

impl RedactError {
    /// True for a refusal by the residual detector (exit code 1), false for input and output
    /// errors (exit code 2).
    pub fn is_refusal(&self) -> bool {
        matches!(self, RedactError::Residual { .. })
    }
}

/// Redacts one flow by the policy of security.md §1 and checks the result with the residual
/// detector. The flow's id, times, tags and structure are kept; secret values are replaced by
/// placeholders fingerprinted with `keyed`, and `report` counts what fired.
///
/// Returns [`RedactError::Residual`] when a secret survives the rules (a signed JWS in an
/// unknown header, a PEM private key, a high-entropy value in a credential position).
pub fn redact_flow(
    flow: &Flow,
    policy: &Policy,
    keyed: &Fingerprinter,
    report: &mut RedactionReport,
) -> Result<Flow, RedactError> {
    report.mask_pii = policy.mask_pii;
    let mut out = flow.clone();
    {
        let mut cx = values::Cx::new(policy, keyed, report);
        let identity = body::is_identity_flow(flow);
        if let Some(u) = cx.url(&out.request.url) {
            out.request.url = u;
        }
        redact_headers(&mut cx, &mut out.request.headers);
        if let Some(b) = cx.body(&out.request.body, &out.request.headers, identity) {
            out.request.body = b;
        }
        redact_extra(&mut cx, &mut out.request.extra);
        if let Outcome::Response(r) = &mut out.outcome {
            redact_headers(&mut cx, &mut r.headers);
            if let Some(b) = cx.body(&r.body, &r.headers, identity) {
                r.body = b;
            }
            redact_extra(&mut cx, &mut r.extra);
        }
        redact_websocket_binary(&mut cx, &mut out.extra);
        redact_extra(&mut cx, &mut out.extra);
    }
    report.flows += 1;
    residual::check(&out, policy)?;
    Ok(out)
}

/// Checks text that is written beside a redacted flow — what a report derives from it (decoded
/// trees, findings, summaries) — with the residual detector's text rules: a signed JWS or a PEM
/// private key anywhere in it (raw, percent-decoded or entity-decoded) is
/// [`RedactError::Residual`] naming `flow` and `location`.
pub fn check_text(
    flow: FlowId,
    location: &str,
    text: &str,
    policy: &Policy,
) -> Result<(), RedactError> {
    residual::check_text(flow, location, text, policy)
}

fn redact_headers(cx: &mut values::Cx<'_>, headers: &mut Headers) {
    headers.map_values(|name, value| {
        Some(cx.header(name, value).unwrap_or_else(|| value.to_string()))
    });
}

/// Binary WebSocket messages (`_webSocketMessages` entries with opcode 2) are replaced whole:
/// their protocols (the Service Bus relay's AMQP frames with SAS tokens, MC-NMF envelopes with
/// encrypted passwords) cannot be re-encoded by these rules, and an opaque value is not kept
/// (security.md §1, "unknown or binary bodies"). Text messages holding a JSON object go through the
/// JSON rules; other text goes through the key rules of the HAR fields with the rest.
fn redact_websocket_binary(cx: &mut values::Cx<'_>, extra: &mut Extra) {
    let Some(Value::Array(messages)) = extra.get_mut("_webSocketMessages") else {
        return;
    };
    for m in messages.iter_mut() {
        let binary = m.get("opcode").and_then(Value::as_u64) == Some(2);
        let Some(Value::String(data)) = m.get_mut("data") else {
            continue;
        };
        if data.is_empty() || cx.already(data) {
            continue;
        }
        if binary {
            *data = cx.remove("websocket binary message", "websocket_binary", data);
        } else if let Ok(mut json) = serde_json::from_str::<Value>(data)
            && json.is_object()
        {
            let before = json.clone();
            cx.json_value(None, &mut json);
            if json != before {
                *data = json.to_string();
            }
        }
    }
}

/// Unmodelled HAR fields (`_initiator`, `comment` …): every member goes through the key rules,
/// strings that are URLs through the URL rule.
fn redact_extra(cx: &mut values::Cx<'_>, extra: &mut Extra) {
    for (k, v) in extra.iter_mut() {
        cx.json_value(Some(k), v);
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_precision;
