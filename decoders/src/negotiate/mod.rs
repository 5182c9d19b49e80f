//! Windows integrated authentication on the wire: the `Negotiate`, `NTLM` and `Kerberos` schemes
//! of `Authorization`, `Proxy-Authorization`, `WWW-Authenticate` and `Proxy-Authenticate`, and
//! the same tokens pasted or nested in other messages (a WS-Trust `BinaryExchange`, a WS-Security
//! `BinarySecurityToken`: their decoders reach this one through
//! [`Context::decode_nested`](crate::Context::decode_nested), which accepts the raw bytes, their
//! base64, or a header value `Negotiate …`).
//!
//! What each token is explained by: SPNEGO and the GSS-API framing ([`spnego`]: NegTokenInit,
//! NegTokenInit2, NegTokenResp, the mechanism list by name, the inner mechanism token decoded),
//! Kerberos ([`kerberos`]: AP-REQ, AP-REP, KRB-ERROR and the KDC exchanges, with the realm, the
//! service principal, encryption types and key versions, error codes explained, RC4 and DES as
//! findings) and NTLM ([`ntlm`]: the three messages, flags by name, names, version, target info,
//! the NTLMv2 response; NTLMv1/LM, no MIC, no channel binding, anonymous as findings). Encrypted
//! parts and challenge responses are [`crate::Kind::Secret`]. A header in a copy
//! `idscope redact` made keeps only the scheme and the message type (the placeholder's kind):
//! that is what is shown. [`token_facts`] gives the essentials of one token without a view.
//!
//! Crates: the DER is read with `asn1-rs` (already in the tree through `x509-parser`, maintained
//! by the Rusticata project and fuzzed with it), with the Kerberos and SPNEGO field maps written
//! here ([`der`]). The typed crates were tried on the fuzz target first: `picky-krb` 0.13 (with
//! its SPNEGO types) panics on a two-byte input (an `unwrap` in its GSS-API framing) and brings
//! its own cryptography; `rasn-kerberos` 0.30 survived two minutes of the same fuzzing but has no
//! SPNEGO, brings 40 more crates, and, like any all-or-nothing typed decode, loses the fields
//! read before a broken one, which a view of a truncated header needs. NTLM's little-endian
//! structures are small; `ntlmclient` (which also survived) and `sspi` are clients that build
//! messages rather than explain them (no AV pair or NTLMv2 response view), so the bounded
//! reader in [`ntlm`] is hand-written.

mod der;
mod kerberos;
mod krb_tables;
mod ntlm;
mod spnego;

use crate::secrets::{self, Redacted};
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Context, DecodeError, Direction, Message};
use der::Broken;

decoder! {
    /// The `negotiate` decoder: SPNEGO, Kerberos and NTLM tokens in HTTP authentication headers
    /// and on their own.
    pub struct Negotiate: "negotiate";
}

/// The headers that carry HTTP authentication.
const HEADERS: &[&str] = &[
    "Authorization",
    "Proxy-Authorization",
    "WWW-Authenticate",
    "Proxy-Authenticate",
];

/// Largest token text looked at (a Kerberos ticket with a large PAC is a few KiB; Windows caps
/// `MaxTokenSize` at 64 KiB).
const MAX_TOKEN_TEXT: usize = 128 << 10;

/// The essentials of one token, for callers that need facts rather than a view (a reference
/// server checking the Negotiate header it was sent, a story linking an exchange).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFacts {
    /// `"Kerberos"` or `"NTLM"`, the mechanism whose message the token carries.
    pub mechanism: Option<&'static str>,
    /// The message: `"AP-REQ"`, `"KRB-ERROR"`, `"NTLM AUTHENTICATE (type 3)"` …
    pub message: Option<String>,
    /// The SPNEGO message around it, if any (`"NegTokenInit"`, `"NegTokenResp"`).
    pub spnego: Option<&'static str>,
    /// The mechanisms a NegTokenInit offers, best first.
    pub mechs: Vec<String>,
    /// A NegTokenResp's state (`"accept-completed"` …).
    pub neg_state: Option<&'static str>,
    /// Kerberos: the realm of the ticket (or of the request or error).
    pub realm: Option<String>,
    /// Kerberos: the service principal (`HTTP/host`); NTLM: the `MsvAvTargetName` SPN.
    pub service: Option<String>,
    /// Kerberos: the client principal of a KDC exchange (`alice@REALM`).
    pub client: Option<String>,
    /// Kerberos: the ticket's encryption type.
    pub ticket_etype: Option<i64>,
    /// Kerberos: the ticket's key version.
    pub kvno: Option<i64>,
    /// Kerberos: the authenticator's encryption type.
    pub authenticator_etype: Option<i64>,
    /// Kerberos: whether the AP-REQ asks for mutual authentication.
    pub mutual: Option<bool>,
    /// Kerberos: a KRB-ERROR's code.
    pub error_code: Option<i64>,
    /// NTLM: the domain (type 1 and 3) or the target name (type 2).
    pub domain: Option<String>,
    /// NTLM: the user name (type 3).
    pub user: Option<String>,
    /// NTLM: the workstation.
    pub workstation: Option<String>,
    /// NTLM: the Windows version the message carries (`10.0.26100`).
    pub version: Option<String>,
    /// NTLM: whether the response is NTLMv2.
    pub ntlm_v2: Option<bool>,
}

impl TokenFacts {
    /// One line about the token: `Kerberos AP-REQ HTTP/host@REALM aes256-cts-hmac-sha1-96`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if let Some(sp) = self.spnego {
            s.push_str(&format!("SPNEGO {sp}"));
            if let Some(st) = self.neg_state {
                s.push_str(&format!(" {st}"));
            }
            if self.message.is_some() {
                s.push_str(" → ");
            }
        }
        match (self.mechanism, self.message.as_deref()) {
            (Some("Kerberos"), Some(m)) => {
                s.push_str(&format!("Kerberos {m}"));
                if let Some(code) = self.error_code {
                    s.push_str(&format!(" {} ({code})", krb_tables::error(code).0));
                }
                if let Some(c) = &self.client {
                    s.push_str(&format!(" {c}"));
                }
                if let Some(svc) = &self.service {
                    s.push_str(&format!(" → {svc}"));
                    if let Some(r) = &self.realm {
                        s.push_str(&format!("@{r}"));
                    }
                }
                if let Some(e) = self.ticket_etype.filter(|_| m == "AP-REQ") {
                    s.push_str(&format!(" {}", krb_tables::etype(e).0));
                }
            }
            (Some("NTLM"), Some(m)) => {
                s.push_str(m);
                match (&self.user, &self.domain) {
                    (Some(u), Some(d)) if !u.is_empty() => s.push_str(&format!(" {d}\\{u}")),
                    (Some(_), _) => s.push_str(" anonymous"),
                    (None, Some(d)) if !d.is_empty() && m.contains("CHALLENGE") => {
                        s.push_str(&format!(" from target {d}"))
                    }
                    (None, Some(d)) if !d.is_empty() => s.push_str(&format!(" domain {d}")),
                    _ => {}
                }
                if let Some(w) = self.workstation.as_deref().filter(|w| !w.is_empty()) {
                    s.push_str(&format!(" from {w}"));
                }
                match self.ntlm_v2 {
                    Some(true) => s.push_str(" (NTLMv2)"),
                    Some(false) if self.user.as_deref().is_some_and(|u| !u.is_empty()) => {
                        s.push_str(" (NTLMv1)")
                    }
                    _ => {}
                }
            }
            (_, Some(m)) => s.push_str(m),
            _ => {}
        }
        if s.is_empty() {
            s.push_str("token");
        }
        s
    }
}

/// The facts of one token: raw bytes, their base64, or a header value (`Negotiate YII…`). The
/// error is the first thing that broke, naming the field.
pub fn token_facts(token: &[u8]) -> Result<TokenFacts, String> {
    // Told to be a token: raw bytes that start like one are read even when broken, so the
    // error says where.
    let starts_like_one = token.starts_with(ntlm::SIGNATURE)
        || matches!(token.first(), Some(0x60 | 0xa0 | 0xa1 | 0x6a..=0x6f | 0x7e));
    let bytes = match token_bytes(token) {
        Some(b) => b,
        None if starts_like_one => token.to_vec(),
        None => return Err("not a Negotiate, Kerberos or NTLM token".into()),
    };
    let mut out = Out::new("token");
    let _ = inner_token(&bytes, 0, &mut out);
    match out
        .findings
        .iter()
        .find(|f| f.severity == crate::Severity::Error && f.message.contains(" at byte "))
    {
        Some(f) => Err(f.message.clone()),
        None => Ok(out.facts),
    }
}

/// What the token explainers collect besides the view: findings and facts.
pub(crate) struct Out {
    pub findings: Vec<Finding>,
    pub facts: TokenFacts,
    /// Where findings point.
    pub at: String,
    /// How many tokens deep the current one is nested.
    pub depth: u8,
}

impl Out {
    fn new(at: &str) -> Self {
        Out {
            findings: Vec::new(),
            facts: TokenFacts::default(),
            at: at.to_string(),
            depth: 0,
        }
    }

    /// Records a field that broke: an error node in `node` and an error finding naming it.
    pub fn broken(&mut self, node: &mut Node, what: &str, b: &Broken) {
        node.push(Node::leaf(
            b.field.clone(),
            format!("{} (byte {})", b.message, b.offset),
            Kind::Error,
        ));
        self.findings.push(
            Finding::error(format!(
                "{what}: field {} at byte {}: {}",
                b.field, b.offset, b.message
            ))
            .at(self.at.clone()),
        );
    }
}

/// Deepest nesting of tokens in tokens (SPNEGO → GSS-API → Kerberos → PA-TGS-REQ → AP-REQ).
const MAX_DEPTH: u8 = 6;

/// Explains any token: NTLM, a GSS-API or SPNEGO token, a bare Kerberos message.
pub(crate) fn inner_token(bytes: &[u8], offset: usize, out: &mut Out) -> Node {
    if out.depth >= MAX_DEPTH {
        return Node::leaf("token", "nested too deep to show", Kind::Error);
    }
    out.depth += 1;
    let n = if bytes.starts_with(ntlm::SIGNATURE) {
        ntlm::message(bytes, offset, out)
    } else if bytes.starts_with(b"NEGOEXTS") {
        Node::field("NegoEx", format!("{} bytes", bytes.len())).with_note(
            "NegoEx messages (MS-NEGOEX), negotiating PKU2U or a cloud Kerberos mechanism",
        )
    } else if kerberos::sniff(bytes) {
        kerberos::message(bytes, offset, out)
    } else if matches!(bytes.first(), Some(0x60 | 0xa0 | 0xa1)) {
        spnego::token(bytes, offset, out)
    } else {
        let mut n = Node::section("token");
        out.broken(
            &mut n,
            "Negotiate token",
            &Broken {
                field: "token".into(),
                offset,
                message: format!(
                    "{} bytes that are neither NTLM, GSS-API/SPNEGO nor Kerberos",
                    bytes.len()
                ),
            },
        );
        n
    };
    out.depth -= 1;
    n
}

/// True when `bytes` is a token this decoder reads.
fn is_token(bytes: &[u8]) -> bool {
    ntlm::message_type(bytes).is_some() || spnego::sniff(bytes) || kerberos::sniff(bytes)
}

/// The token bytes of a blob: the raw token, or its base64 text, optionally as a header value
/// (`Negotiate …`) or a whole header line (`Authorization: Negotiate …`).
fn token_bytes(body: &[u8]) -> Option<Vec<u8>> {
    if is_token(body) {
        return Some(body.to_vec());
    }
    if body.len() > MAX_TOKEN_TEXT {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    let text = HEADERS
        .iter()
        .find_map(|h| {
            text.get(..h.len() + 1)
                .filter(|p| p.eq_ignore_ascii_case(&format!("{h}:")))
                .and_then(|_| text.get(h.len() + 1..))
        })
        .unwrap_or(text)
        .trim();
    let token = match text.split_once(char::is_whitespace) {
        Some((scheme, rest)) if secrets::is_negotiate_scheme(scheme) => rest.trim(),
        _ => text,
    };
    if token.len() < 12 || !util::is_base64ish(token) {
        return None;
    }
    let bytes = util::b64_decode_any(token, MAX_TOKEN_TEXT)?;
    is_token(&bytes).then_some(bytes)
}

/// One scheme of an authentication header: the header, the scheme and its token, if any.
struct Item<'a> {
    header: &'a str,
    scheme: &'a str,
    token: Option<&'a str>,
}

/// The Negotiate-family schemes of the message's authentication headers. A challenge list
/// (`Negotiate, NTLM, Basic realm="x"`) gives one item per scheme of the family.
fn items<'a>(msg: &Message<'a>) -> Vec<Item<'a>> {
    let mut v = Vec::new();
    for (name, value) in msg.headers() {
        let Some(header) = HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name)) else {
            continue;
        };
        for part in value.split(',') {
            let part = part.trim();
            let (scheme, rest) = match part.split_once(char::is_whitespace) {
                Some((s, r)) => (s, r.trim()),
                None => (part, ""),
            };
            if secrets::is_negotiate_scheme(scheme) && v.len() < 16 {
                v.push(Item {
                    header,
                    scheme,
                    token: (!rest.is_empty()).then_some(rest),
                });
            }
        }
    }
    v
}

fn priority(msg: &Message<'_>) -> f32 {
    if msg.direction == Direction::Blob {
        return if token_bytes(msg.body).is_some() {
            0.9
        } else {
            0.0
        };
    }
    if items(msg).is_empty() {
        0.0
    } else if msg.body.trim_ascii().is_empty() {
        // Nothing else in the message: the token is the flow's story.
        0.88
    } else {
        // Below the body's own decoder (a WS-Trust RST sent with Negotiate), above the generic
        // views.
        0.6
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let _ = cx;
    if msg.direction == Direction::Blob {
        let bytes = token_bytes(msg.body).ok_or_else(|| {
            DecodeError::not("a Negotiate, Kerberos or NTLM token", "no token recognised")
        })?;
        let mut out = Out::new("negotiate");
        let node = inner_token(&bytes, 0, &mut out);
        let root = Node::section("negotiate").with_child(node);
        let mut d = Decoded::new("negotiate", out.facts.describe(), root);
        d.findings = out.findings;
        return Ok(d);
    }
    let items = items(msg);
    if items.is_empty() {
        return Err(DecodeError::not(
            "a Negotiate, Kerberos or NTLM exchange",
            "no Authorization, Proxy-Authorization, WWW-Authenticate or Proxy-Authenticate \
             header with one of those schemes",
        ));
    }
    let mut root = Node::section("negotiate");
    let mut findings = Vec::new();
    let mut summary = None;
    let mut offers = Vec::new();
    for item in &items {
        let at = format!("negotiate/{}", item.header);
        let mut out = Out::new(&at);
        let mut n = Node::section(item.header);
        match item.token {
            None => {
                offers.push(item.scheme);
                n.value = Some(item.scheme.to_string());
                n.note = Some(format!(
                    "the server offers {} authentication: a client answers with a token",
                    item.scheme
                ));
            }
            Some(t) => {
                let line = explain_header_token(item, t, &mut n, &mut out);
                summary.get_or_insert(line);
            }
        }
        findings.append(&mut out.findings);
        root.push(n);
    }
    let status = msg.status.map(|s| format!("{s} ")).unwrap_or_default();
    let summary = match summary {
        Some(s) => format!("{status}{s}"),
        None => format!("{status}challenge: {}", offers.join(", ")),
    };
    if !offers.is_empty() && msg.is_response() {
        findings.push(
            Finding::info(format!(
                "the server asks for Windows integrated authentication ({}): the client answers \
                 with a Kerberos or NTLM token",
                offers.join(", ")
            ))
            .at("negotiate"),
        );
    }
    let mut d = Decoded::new("negotiate", summary, root);
    d.findings = findings;
    Ok(d)
}

/// Explains the token of one header into `n`; returns the summary line.
fn explain_header_token(item: &Item<'_>, token: &str, n: &mut Node, out: &mut Out) -> String {
    let scheme = item.scheme;
    if let Some(m) = secrets::redaction_marker(token) {
        let what = redacted_kind(&m);
        n.value = Some(format!("{scheme}: {what}"));
        if let Some(r) = secrets::redacted_node("token", token) {
            n.push(r);
        }
        n.push(
            Node::text("message", what.to_string())
                .with_note("the message type idscope redact kept; the token itself was removed"),
        );
        return with_scheme(scheme, format!("{what} (redacted)"));
    }
    let bytes = if token.len() <= MAX_TOKEN_TEXT {
        util::b64_decode_any(token, MAX_TOKEN_TEXT)
    } else {
        None
    };
    let Some(bytes) = bytes else {
        n.value = Some(format!("{scheme}: not base64"));
        n.push(Node::leaf("token", util::clip(token, 200), Kind::Error).with_note("not base64"));
        out.findings.push(
            Finding::error(format!(
                "{}: the {scheme} token is not base64 ({} characters)",
                item.header,
                token.len()
            ))
            .at(out.at.clone()),
        );
        return format!("{scheme} token not base64");
    };
    let node = inner_token(&bytes, 0, out);
    let line = out.facts.describe();
    n.value = Some(format!("{scheme}: {line}"));
    n.push(node);
    with_scheme(scheme, line)
}

/// The summary line of a header's token: the scheme first, unless the line starts with it
/// (`NTLM NTLM AUTHENTICATE …` would say it twice).
fn with_scheme(scheme: &str, line: String) -> String {
    match line.split_once(' ') {
        Some((first, _)) if first.eq_ignore_ascii_case(scheme) => line,
        _ => format!("{scheme} {line}"),
    }
}

/// What the kind of a redaction placeholder says the removed token was.
fn redacted_kind(m: &Redacted<'_>) -> &'static str {
    match m.kind() {
        "ntlm_type1" => "NTLM NEGOTIATE (type 1)",
        "ntlm_type2" => "NTLM CHALLENGE (type 2)",
        "ntlm_type3" => "NTLM AUTHENTICATE (type 3)",
        "spnego_init" => "a GSS-API initial token (SPNEGO NegTokenInit or a Kerberos AP-REQ)",
        "spnego_response" => "a SPNEGO NegTokenResp",
        _ => "a token",
    }
}

#[cfg(test)]
mod tests;
