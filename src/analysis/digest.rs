//! A flow's digest: the few facts a flow list and a filter need about every flow, distilled from
//! its full [`FlowReport`] once, so that a 100,000-flow capture can be listed, coloured and
//! filtered by decoded kind, operation, finding or claim without keeping 100,000 decoded trees in memory. The full report is
//! decoded again (and cached) only for the flow a user opens. This module does not decode; it
//! reads a report.
//!
//! A digest also keeps what the trace summary counts about a flow's findings ([`FindingKinds`]):
//! the messages repeat across flows, so each distinct message is stored once and shared
//! ([`Interner`]), within a bound.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use idscope_decoders::{Node, Outcome, Severity};

use super::FlowReport;
use super::story::{self, Facts};
use crate::flow::{Flow, header};

/// What the flow list and the decoded-aware filters read about one flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// Ids of every decoder that succeeded on either side, without repeats (`~k`).
    pub decoders: Vec<&'static str>,
    /// The kinds column: the specific decoders (see [`FlowReport::kinds`]), comma-joined.
    pub kinds: String,
    /// The one-line summary column.
    pub summary: String,
    /// The worst finding, which colours the row.
    pub worst: Option<Severity>,
    /// How many findings there are.
    pub findings: usize,
    /// Its distinct findings and unverified signatures, as the trace summary counts them.
    pub finding_kinds: FindingKinds,
    /// SOAP operations and WS-Addressing actions (`~op`).
    pub ops: Vec<String>,
    /// JWT claims and SAML attributes (`~claim`), packed (see [`Claims`]).
    pub claims: Claims,
    /// What the flow contributes to stories.
    pub story: Option<Facts>,
}

impl Digest {
    /// Distils `report` (the decoding of `flow`).
    pub fn of(flow: &Flow, report: &FlowReport) -> Self {
        let mut decoders: Vec<&'static str> = Vec::new();
        for o in report.request.iter().chain(&report.response) {
            if o.result.is_ok() && !decoders.contains(&o.decoder) {
                decoders.push(o.decoder);
            }
        }
        let findings = report.findings();
        Digest {
            decoders,
            kinds: report.kinds().join(","),
            summary: report.summary(),
            worst: findings.iter().map(|(_, _, f)| f.severity).max(),
            findings: findings.len(),
            finding_kinds: FindingKinds::of(report),
            ops: ops(flow, report),
            claims: Claims::new(&claims(report)),
            story: story::facts(flow, report),
        }
    }
}

/// A flow's findings as the trace summary groups them: each distinct (severity, decoder id,
/// message) once, and whether one says a signature was not verified. The messages are shared
/// through [`MESSAGES`]; a message that did not fit there is `None` (the summary then counts
/// the finding among the "more kinds of finding"), while [`FindingKinds::unverified`] is always
/// judged on the full message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingKinds {
    /// The distinct findings, in the order [`FlowReport::findings`] lists them.
    pub kinds: Box<[FindingKind]>,
    /// A finding says a signature was "not verified".
    pub unverified: bool,
}

/// One distinct finding of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingKind {
    /// How bad it is.
    pub severity: Severity,
    /// The decoder that reported it (`flow` for findings about the flow itself).
    pub decoder: &'static str,
    /// Its message, shared with every other flow that has it; `None` when the interner was full.
    pub message: Option<Arc<str>>,
}

impl FindingKinds {
    /// The findings of `report`, their messages interned in [`MESSAGES`].
    pub fn of(report: &FlowReport) -> Self {
        let mut distinct: Vec<(Severity, &'static str, &str)> = Vec::new();
        let mut unverified = false;
        for (_, decoder, f) in report.findings() {
            unverified |= f.message.to_ascii_lowercase().contains("not verified");
            let key = (f.severity, decoder, f.message.as_str());
            if !distinct.contains(&key) {
                distinct.push(key);
            }
        }
        FindingKinds {
            kinds: distinct
                .into_iter()
                .map(|(severity, decoder, message)| FindingKind {
                    severity,
                    decoder,
                    message: MESSAGES.get(message),
                })
                .collect(),
            unverified,
        }
    }
}

/// Distinct finding messages the digests share, at most this many…
pub const MAX_MESSAGES: usize = 4_096;
/// …and at most this many bytes of them.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The finding messages of every digest of the process.
pub static MESSAGES: LazyLock<Interner> =
    LazyLock::new(|| Interner::new(MAX_MESSAGES, MAX_MESSAGE_BYTES));

/// A bounded set of shared strings: [`Interner::get`] hands out the one `Arc<str>` stored for a
/// text, so a message repeated on 100,000 flows is stored once. It holds at most `max` texts and
/// `max_bytes` bytes of them. When a new text does not fit, the texts no one else holds any more
/// (those of digests and summary facts since dropped) are released, at most once every
/// `max / 8 + 1` new texts so that the sweep costs a few steps per text; when the texts still
/// held leave no room, the new text is not stored and `get` answers `None` for it. Memory is thus
/// bounded, at the cost of forgetting the messages past the bounds.
#[derive(Debug)]
pub struct Interner {
    max: usize,
    max_bytes: usize,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    texts: HashSet<Arc<str>>,
    bytes: usize,
    /// Calls that stored or refused a text since the last sweep.
    since_sweep: usize,
}

impl Interner {
    /// An empty interner of at most `max` texts and `max_bytes` bytes.
    pub fn new(max: usize, max_bytes: usize) -> Self {
        Interner {
            max,
            max_bytes,
            table: Mutex::new(Table {
                since_sweep: Self::sweep_every(max),
                ..Table::default()
            }),
        }
    }

    fn sweep_every(max: usize) -> usize {
        max / 8 + 1
    }

    /// The shared copy of `text`, stored now if it fits; `None` if it does not.
    pub fn get(&self, text: &str) -> Option<Arc<str>> {
        let mut t = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = t.texts.get(text) {
            return Some(Arc::clone(s));
        }
        t.since_sweep += 1;
        let fits = |t: &Table| t.texts.len() < self.max && t.bytes + text.len() <= self.max_bytes;
        if !fits(&t) && t.since_sweep >= Self::sweep_every(self.max) {
            t.texts.retain(|s| Arc::strong_count(s) > 1);
            t.bytes = t.texts.iter().map(|s| s.len()).sum();
            t.since_sweep = 0;
        }
        if !fits(&t) {
            return None;
        }
        let s: Arc<str> = Arc::from(text);
        t.bytes += s.len();
        t.texts.insert(Arc::clone(&s));
        Some(s)
    }

    /// How many texts are stored.
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .texts
            .len()
    }

    /// True when no text is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A flow's claims, `(name, value)` pairs packed into one string so that a flow costs one
/// allocation for all its claims (none when it has none): each pair is `name US value RS`
/// (ASCII unit and record separators). Those two control characters, should a name or value
/// contain them, are stored as spaces; nothing else is changed, so `~claim` regexes see the
/// values as decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims(String);

const UNIT: char = '\u{1f}';
const RECORD: char = '\u{1e}';

impl Claims {
    /// Packs `pairs`.
    pub fn new(pairs: &[(String, String)]) -> Self {
        let len = pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
        let mut s = String::with_capacity(len);
        let clean = |c: char| if c == UNIT || c == RECORD { ' ' } else { c };
        for (n, v) in pairs {
            s.extend(n.chars().map(clean));
            s.push(UNIT);
            s.extend(v.chars().map(clean));
            s.push(RECORD);
        }
        Claims(s)
    }

    /// The pairs, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .split_terminator(RECORD)
            .map(|p| p.split_once(UNIT).unwrap_or((p, "")))
    }

    /// True when the flow has no claims.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// SOAP operations and WS-Addressing actions of a flow: the values of `operation`, `Action` and
/// `wsa:Action` nodes of every decoded tree, and the `SOAPAction` request header.
pub fn ops(flow: &Flow, report: &FlowReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        let v = v.trim().trim_matches('"');
        if !v.is_empty() && !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    };
    for_each_node(&report.request, &report.response, &mut |n| {
        if matches!(n.label.as_str(), "operation" | "Action" | "wsa:Action")
            && let Some(v) = &n.value
        {
            push(v);
        }
    });
    if let Some(a) = header(&flow.request.headers, "soapaction") {
        push(a);
    }
    out
}

/// JWT claims and SAML attributes anywhere in a flow's decoded trees, as `(name, value)`: the
/// children of every `claims` and `attributes` node, and SAML subjects (`NameID`,
/// `NameIdentifier`).
pub fn claims(report: &FlowReport) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for_each_node(&report.request, &report.response, &mut |n| {
        if matches!(n.label.as_str(), "claims" | "attributes") {
            for c in &n.children {
                if let Some(v) = &c.value {
                    out.push((c.label.clone(), v.clone()));
                }
            }
        } else if matches!(n.label.as_str(), "NameID" | "NameIdentifier")
            && let Some(v) = &n.value
        {
            out.push((n.label.clone(), v.clone()));
        }
    });
    out
}

fn for_each_node(a: &[Outcome], b: &[Outcome], f: &mut dyn FnMut(&Node)) {
    for d in a.iter().chain(b).filter_map(|o| o.result.as_ref().ok()) {
        d.root.walk(&mut |_, n| f(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowId;
    use crate::flow::testing::{flow, request_with, response};
    use idscope_decoders::{Decoded, Finding};

    #[test]
    fn digest_keeps_decoders_ops_claims_and_the_worst_finding() {
        let jwt = Decoded::new(
            "jwt",
            "JWT RS256",
            Node::section("jwt")
                .with_child(Node::section("claims").with_child(Node::field("upn", "alice@x"))),
        )
        .with_finding(Finding::warning("expiring"));
        let soap = Decoded::new(
            "provisioning",
            "sync API",
            Node::section("sync").with_child(Node::field("operation", "FinalizeExport")),
        );
        let report = FlowReport {
            id: FlowId(0),
            request: vec![Outcome {
                decoder: "provisioning",
                priority: 1.0,
                result: Ok(soap),
            }],
            response: vec![Outcome {
                decoder: "jwt",
                priority: 1.0,
                result: Ok(jwt),
            }],
            flow_findings: vec![],
        };
        let req = request_with(
            "POST",
            "https://adminwebservice.x/provisioningservice.svc",
            &[("SOAPAction", "\"urn:Provision\"")],
        );
        let f = flow(0, req, response(200, "text/xml", b""));
        let d = Digest::of(&f, &report);
        assert_eq!(d.decoders, vec!["provisioning", "jwt"]);
        assert_eq!(d.worst, Some(Severity::Warning));
        assert_eq!(d.findings, 1);
        assert_eq!(d.ops, vec!["FinalizeExport", "urn:Provision"]);
        assert_eq!(d.story.map(|s| s.step), Some("FinalizeExport".into()));
        assert_eq!(claims(&report), vec![("upn".into(), "alice@x".into())]);
        assert_eq!(
            d.claims.iter().collect::<Vec<_>>(),
            vec![("upn", "alice@x")]
        );
    }

    /// A report of one JWT outcome on the response with `findings`.
    fn report_with(findings: Vec<Finding>) -> FlowReport {
        let mut jwt = Decoded::new("jwt", "JWT RS256", Node::section("jwt"));
        for f in findings {
            jwt = jwt.with_finding(f);
        }
        FlowReport {
            id: FlowId(0),
            request: vec![],
            response: vec![Outcome {
                decoder: "jwt",
                priority: 1.0,
                result: Ok(jwt),
            }],
            flow_findings: vec![Finding::warning("no response body")],
        }
    }

    #[test]
    fn finding_kinds_are_distinct_and_share_one_copy_of_each_message() {
        let text = "Not Verified: no trusted key with kid=digest-test";
        let a = report_with(vec![
            Finding::info(text),
            Finding::info(text),
            Finding::warning(text),
        ]);
        let b = report_with(vec![Finding::info(text)]);
        let (ka, kb) = (FindingKinds::of(&a), FindingKinds::of(&b));
        let seen: Vec<_> = ka
            .kinds
            .iter()
            .map(|k| (k.severity, k.decoder, k.message.as_deref()))
            .collect();
        assert_eq!(
            seen,
            vec![
                (Severity::Warning, "flow", Some("no response body")),
                (Severity::Info, "jwt", Some(text)),
                (Severity::Warning, "jwt", Some(text)),
            ]
        );
        assert!(ka.unverified && kb.unverified, "the test ignores case");
        let (ma, mb) = (&ka.kinds[1].message, &kb.kinds[1].message);
        assert!(
            Arc::ptr_eq(ma.as_ref().unwrap(), mb.as_ref().unwrap()),
            "one copy of the message for both flows"
        );
        assert!(!FindingKinds::of(&report_with(vec![Finding::error("verified: bad")])).unverified);
    }

    #[test]
    fn the_interner_keeps_within_its_bounds_and_releases_texts_no_one_holds() {
        let i = Interner::new(2, 9);
        let a = i.get("aaaa").unwrap();
        let b = i.get("bbbb").unwrap();
        assert!(Arc::ptr_eq(&a, &i.get("aaaa").unwrap()));
        // Full (two texts): a third is refused while both are held.
        assert_eq!(i.get("cc"), None);
        assert_eq!(i.len(), 2);
        // Once a text is no longer held it makes room (the sweep runs every `max / 8 + 1` calls).
        drop(a);
        assert_eq!(i.get("cc").as_deref(), Some("cc"));
        assert_eq!(i.len(), 2);
        // The byte bound: with "cc" let go, "bbbb" and "dddddd" would be 10 bytes, over 9;
        // "dddd" fits.
        assert_eq!(i.get("dddddd"), None);
        assert_eq!(i.get("dddd").as_deref(), Some("dddd"));
        assert_eq!(i.len(), 2);
        drop(b);
    }

    #[test]
    fn packed_claims_round_trip_and_separators_in_values_become_spaces() {
        let pairs = vec![
            ("upn".to_string(), "alice@x".to_string()),
            ("odd".to_string(), "a\u{1e}b\u{1f}c".to_string()),
            ("empty".to_string(), String::new()),
        ];
        let c = Claims::new(&pairs);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            vec![("upn", "alice@x"), ("odd", "a b c"), ("empty", "")]
        );
        assert!(Claims::new(&[]).is_empty());
        assert_eq!(Claims::new(&[]).iter().count(), 0);
    }
}
