//! A flow's digest: the few facts a flow list and a filter need about every flow, distilled from
//! its full [`FlowReport`] once, so that a 100,000-flow capture can be listed, coloured and
//! filtered by decoded kind, operation, finding or claim without keeping 100,000 decoded trees in memory. The full report is
//! decoded again (and cached) only for the flow a user opens. This module does not decode; it
//! reads a report.

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
            ops: ops(flow, report),
            claims: Claims::new(&claims(report)),
            story: story::facts(flow, report),
        }
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
