//! Stories: the sequences users think in, rebuilt from a capture. Four are recognised
//! (protocols.md §3.4, §4.2, §6, §7): the AAD Connect **sync cycle** (realm → token → ReadBack →
//! … → FinalizeExport), the **federated sign-in** (realm Federated → ADFS wsignin → forms login →
//! wresult POST), **cloud sync** over SCIM, and hybrid-join **PRT SSO** (DRS → nonce → PRT →
//! cookie → authorize).
//!
//! Work is split in two so that a 100,000-flow capture stays cheap: [`facts`] reads one flow's
//! decoded report once and keeps only what stories need (which story, which step, and hashed
//! values such as nonces, tokens and anchors); [`build`] then groups those facts into [`Story`]s
//! and runs the cross-flow checks of architecture.md "Stories": the ImmutableID in a SAML token
//! matches a SourceAnchor provisioned, a token used by SOAP or SCIM came from a token response,
//! and nonces round-trip. This module does not decode, read files or draw.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use idscope_decoders::{Node, Outcome};

use super::FlowReport;
use crate::flow::{Flow, FlowId, header};
use idscope_decoders::util::clip;

/// The sequences idscope recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoryKind {
    /// AAD Connect sync: realm (Managed), ROPC token, provisioning SOAP calls.
    SyncCycle,
    /// Federated sign-in: realm (Federated), WS-Fed / WS-Trust / SAML, token POST.
    FederatedSignIn,
    /// Cloud sync over SCIM 2.0.
    CloudSync,
    /// Hybrid-join SSO: device registration, nonce, PRT, PRT cookie, signed requests.
    PrtSso,
}

impl StoryKind {
    /// The name shown to users.
    pub fn title(self) -> &'static str {
        match self {
            StoryKind::SyncCycle => "sync cycle",
            StoryKind::FederatedSignIn => "federated sign-in",
            StoryKind::CloudSync => "cloud sync (SCIM)",
            StoryKind::PrtSso => "PRT SSO",
        }
    }
}

/// What a remembered value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum What {
    /// A nonce handed out by a server (`Nonce`, a fresh `sso_nonce`).
    NonceIssued,
    /// A nonce sent back by a client (`request_nonce`, `sso_nonce` in a request).
    NonceUsed,
    /// An access token in a token response.
    TokenIssued,
    /// A token presented by a client (SOAP `BearerToken`, `Authorization: Bearer`).
    TokenUsed,
    /// A `SourceAnchor` sent by AAD Connect in a provisioning call.
    AnchorProvisioned,
    /// The ImmutableID (or NameID) a SAML token asserts.
    ImmutableId,
}

/// One remembered value: a hash to compare by and a short form to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// What it is.
    pub what: What,
    /// A hash of the exact value (tokens are long; stories only need equality).
    pub key: u64,
    /// The value shortened for display.
    pub shown: String,
}

/// What one flow contributes to stories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The story the flow belongs to.
    pub kind: StoryKind,
    /// The step, as shown in the Story tab (`realm (Managed)`, `ReadBackAzureADSyncObjects2`).
    pub step: String,
    /// True when this step begins a new story of its kind (realm discovery, SCIM
    /// ServiceProviderConfig, device registration).
    pub starts: bool,
    /// Values that cross-flow checks compare.
    pub values: Vec<Value>,
}

/// One step of a story: a flow and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The flow.
    pub id: FlowId,
    /// What it does in the sequence.
    pub label: String,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The check holds.
    Pass,
    /// The check fails.
    Fail,
    /// The capture does not hold what the check needs.
    Unknown,
}

/// One cross-flow check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Whether it holds.
    pub verdict: Verdict,
    /// What was checked, naming the flows (`token used by #7 came from the token response #3`).
    pub message: String,
    /// The flows involved, the checked one first.
    pub flows: Vec<FlowId>,
}

/// A recognised sequence with its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    /// Which sequence.
    pub kind: StoryKind,
    /// Its steps in capture order.
    pub steps: Vec<Step>,
    /// The checks over its steps.
    pub checks: Vec<Check>,
}

impl Story {
    /// The position of flow `id` among the steps.
    pub fn step_of(&self, id: FlowId) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}

fn ok_outcomes(outs: &[Outcome]) -> impl Iterator<Item = &idscope_decoders::Decoded> {
    outs.iter().filter_map(|o| o.result.as_ref().ok())
}

fn has(report: &FlowReport, id: &str) -> bool {
    ok_outcomes(&report.request)
        .chain(ok_outcomes(&report.response))
        .any(|d| d.decoder == id)
}

fn find_value<'a>(outs: &'a [Outcome], label: &str) -> Option<&'a str> {
    let mut found = None;
    for d in ok_outcomes(outs) {
        d.root.walk(&mut |_, n: &'a Node| {
            if found.is_none() && n.label == label {
                found = n.value.as_deref();
            }
        });
    }
    found
}

fn summary_of(outs: &[Outcome], id: &str) -> Option<String> {
    ok_outcomes(outs)
        .find(|d| d.decoder == id)
        .map(|d| d.summary.clone())
}

fn hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn value(what: What, v: &str) -> Value {
    Value {
        what,
        key: hash(v),
        shown: clip(v, 16),
    }
}

fn classify(flow: &Flow, report: &FlowReport) -> Option<(StoryKind, String, bool)> {
    let path = flow.path_and_query().to_ascii_lowercase();
    if has(report, "provisioning") {
        let op = find_value(&report.request, "operation")
            .or_else(|| find_value(&report.response, "operation"))
            .unwrap_or("sync API call");
        return Some((StoryKind::SyncCycle, op.to_string(), false));
    }
    if has(report, "scim") {
        let p = path.split('?').next().unwrap_or("");
        let tail: Vec<&str> = p.rsplit('/').take(2).collect();
        let what = tail.into_iter().rev().collect::<Vec<_>>().join("/");
        let starts = p.ends_with("/serviceproviderconfig");
        return Some((
            StoryKind::CloudSync,
            format!("{} {what}", flow.request.method),
            starts,
        ));
    }
    let grant = find_value(&report.request, "grant_type").unwrap_or("");
    if has(report, "prt") || grant == "srv_challenge" {
        let (step, starts) = if path.contains("/enrollmentserver/") {
            ("device registration", true)
        } else if grant == "srv_challenge" {
            ("nonce (srv_challenge)", false)
        } else if path.contains("/authorize") {
            ("authorize with PRT cookie", false)
        } else if flow.response().is_some_and(|r| {
            header(&r.headers, "content-type").is_some_and(|c| c.contains("jose"))
                || r.body.raw.starts_with(b"eyJ")
        }) {
            ("session-key signed request", false)
        } else {
            ("PRT request", false)
        };
        return Some((StoryKind::PrtSso, step.to_string(), starts));
    }
    for id in ["wsfed", "wstrust", "saml", "fedmetadata"] {
        if has(report, id) {
            let s = summary_of(&report.request, id)
                .or_else(|| summary_of(&report.response, id))
                .unwrap_or_default();
            return Some((StoryKind::FederatedSignIn, clip(&s, 60), false));
        }
    }
    if has(report, "realm") {
        let s = summary_of(&report.response, "realm").unwrap_or_default();
        if s.contains("Federated") {
            return Some((StoryKind::FederatedSignIn, "realm (Federated)".into(), true));
        }
        if s.contains("Managed") {
            return Some((StoryKind::SyncCycle, "realm (Managed)".into(), true));
        }
        return None;
    }
    if has(report, "oauth") {
        if grant == "password" {
            return Some((StoryKind::SyncCycle, "token (ROPC)".into(), false));
        }
        if grant.contains("saml1_1-bearer") || grant.contains("saml2-bearer") {
            return Some((
                StoryKind::FederatedSignIn,
                "token (SAML bearer grant)".into(),
                false,
            ));
        }
    }
    None
}

/// What `flow` contributes to stories, from its decoded report; `None` for flows that belong to
/// no recognised sequence.
pub fn facts(flow: &Flow, report: &FlowReport) -> Option<Facts> {
    let (kind, step, starts) = classify(flow, report)?;
    let mut values: Vec<Value> = Vec::new();
    let mut add = |what: What, v: &str| {
        let v = v.trim();
        if v.is_empty() || v.starts_with('«') {
            return;
        }
        let val = value(what, v);
        if !values.iter().any(|x| x.what == what && x.key == val.key) {
            values.push(val);
        }
    };
    let mut immutable = false;
    for (outs, is_request) in [(&report.request, true), (&report.response, false)] {
        for d in ok_outcomes(outs) {
            d.root.walk(&mut |_, n| {
                let Some(v) = n.value.as_deref() else { return };
                match (n.label.as_str(), is_request) {
                    ("request_nonce", _) | ("sso_nonce", true) => add(What::NonceUsed, v),
                    ("Nonce", false) | ("sso_nonce", false) => add(What::NonceIssued, v),
                    ("access_token", false) => add(What::TokenIssued, v),
                    ("BearerToken", true) => add(What::TokenUsed, v),
                    ("SourceAnchor", true) if d.decoder == "provisioning" => {
                        add(What::AnchorProvisioned, v)
                    }
                    ("ImmutableID", _) => {
                        immutable = true;
                        add(What::ImmutableId, v)
                    }
                    _ => {}
                }
            });
        }
    }
    if !immutable && kind == StoryKind::FederatedSignIn {
        for outs in [&report.request, &report.response] {
            for label in ["NameIdentifier", "NameID"] {
                if let Some(v) = find_value(outs, label) {
                    add(What::ImmutableId, v);
                }
            }
        }
    }
    if let Some(auth) = header(&flow.request.headers, "authorization")
        && let Some(tok) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
    {
        add(What::TokenUsed, tok);
    }
    Some(Facts {
        kind,
        step,
        starts,
        values,
    })
}

/// Groups facts (in capture order) into stories and runs the checks. A story of a kind goes on
/// while flows of that kind come; a starting step (realm, ServiceProviderConfig, device
/// registration) after other steps begins the next story of that kind. This is [`Builder`] fed
/// in one go.
pub fn build<'a>(facts: impl IntoIterator<Item = (FlowId, &'a Facts)>) -> Vec<Story> {
    let facts: Vec<(FlowId, &Facts)> = facts.into_iter().collect();
    let mut b = Builder::default();
    for (id, f) in &facts {
        b.learn(*id, f);
    }
    for (id, f) in &facts {
        b.place(*id, f);
    }
    b.finish()
}

/// [`build`] in resumable steps, so that a caller with a frame to draw (the TUI) can spread the
/// work over several turns: first every flow's facts go through [`Builder::learn`] (where each
/// value is first seen), then the same facts in the same order through [`Builder::place`]
/// (grouping and checks, which need to know every value), then [`Builder::finish`]. Feeding
/// other facts to the second pass than to the first gives meaningless checks; the caller
/// starts over when its flows change.
#[derive(Debug, Default)]
pub struct Builder {
    /// Where each value was first seen (position among the learned facts, flow).
    first: HashMap<(What, u64), (usize, FlowId)>,
    /// Flows that provisioned a SourceAnchor, in order.
    anchors: Vec<FlowId>,
    learned: usize,
    placed: usize,
    stories: Vec<Story>,
    open: HashMap<StoryKind, usize>,
}

impl Builder {
    /// First pass: remembers where each of the flow's values was first seen.
    pub fn learn(&mut self, id: FlowId, f: &Facts) {
        let pos = self.learned;
        self.learned += 1;
        for v in &f.values {
            self.first.entry((v.what, v.key)).or_insert((pos, id));
            // Facts come in capture order, so a flow already listed is the last one.
            if v.what == What::AnchorProvisioned && self.anchors.last() != Some(&id) {
                self.anchors.push(id);
            }
        }
    }

    /// Second pass: puts the flow in its story and checks its values.
    pub fn place(&mut self, id: FlowId, f: &Facts) {
        let pos = self.placed;
        self.placed += 1;
        let stories = &mut self.stories;
        let idx = match self.open.get(&f.kind) {
            Some(&i) if !(f.starts && stories.get(i).is_some_and(|s| !s.steps.is_empty())) => i,
            _ => {
                stories.push(Story {
                    kind: f.kind,
                    steps: vec![],
                    checks: vec![],
                });
                let i = stories.len() - 1;
                self.open.insert(f.kind, i);
                i
            }
        };
        let checks = checks_for(id, pos, f, &self.first, &self.anchors);
        if let Some(story) = stories.get_mut(idx) {
            story.steps.push(Step {
                id,
                label: f.step.clone(),
            });
            story.checks.extend(checks);
        }
    }

    /// The stories.
    pub fn finish(self) -> Vec<Story> {
        self.stories
    }
}

/// How many provisioning flows a failed ImmutableID check names before "and N more".
const ANCHORS_NAMED: usize = 5;

fn named(ids: &[FlowId]) -> String {
    let mut out = ids
        .iter()
        .take(ANCHORS_NAMED)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > ANCHORS_NAMED {
        out.push_str(&format!(" and {} more", ids.len() - ANCHORS_NAMED));
    }
    out
}

fn checks_for(
    id: FlowId,
    pos: usize,
    f: &Facts,
    first: &HashMap<(What, u64), (usize, FlowId)>,
    anchors: &[FlowId],
) -> Vec<Check> {
    let earlier = |what: What, key: u64| first.get(&(what, key)).filter(|(p, _)| *p < pos);
    let mut out = Vec::new();
    for v in &f.values {
        match v.what {
            What::TokenUsed => out.push(match earlier(What::TokenIssued, v.key) {
                Some((_, from)) => Check {
                    verdict: Verdict::Pass,
                    message: format!("token used by {id} came from the token response {from}"),
                    flows: vec![id, *from],
                },
                None => Check {
                    verdict: Verdict::Fail,
                    message: format!(
                        "token used by {id} ({}) was not issued by any earlier flow",
                        v.shown
                    ),
                    flows: vec![id],
                },
            }),
            What::NonceUsed => out.push(match earlier(What::NonceIssued, v.key) {
                Some((_, from)) => Check {
                    verdict: Verdict::Pass,
                    message: format!("nonce {} issued by {from} round-trips in {id}", v.shown),
                    flows: vec![id, *from],
                },
                None => Check {
                    verdict: Verdict::Fail,
                    message: format!(
                        "nonce {} sent in {id} was not issued by any earlier flow",
                        v.shown
                    ),
                    flows: vec![id],
                },
            }),
            What::ImmutableId => {
                let found = first.get(&(What::AnchorProvisioned, v.key));
                out.push(match (found, anchors.is_empty()) {
                    (Some((_, from)), _) => Check {
                        verdict: Verdict::Pass,
                        message: format!(
                            "ImmutableID {} in {id} matches the SourceAnchor provisioned in {from}",
                            v.shown
                        ),
                        flows: vec![id, *from],
                    },
                    (None, true) => Check {
                        verdict: Verdict::Unknown,
                        message: format!(
                            "ImmutableID {} in {id}: no SourceAnchor provisioned in this capture \
                             to compare with",
                            v.shown
                        ),
                        flows: vec![id],
                    },
                    (None, false) => Check {
                        verdict: Verdict::Fail,
                        message: format!(
                            "ImmutableID {} in {id} matches no SourceAnchor provisioned (in {})",
                            v.shown,
                            named(anchors)
                        ),
                        flows: std::iter::once(id)
                            .chain(anchors.iter().copied().take(ANCHORS_NAMED))
                            .collect(),
                    },
                });
            }
            What::NonceIssued | What::TokenIssued | What::AnchorProvisioned => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, request_with, response};
    use idscope_decoders::{Decoded, Node};

    fn outcome(decoder: &'static str, summary: &str, root: Node) -> Outcome {
        Outcome {
            decoder,
            priority: 1.0,
            result: Ok(Decoded::new(decoder, summary, root)),
        }
    }

    fn report(id: u64, request: Vec<Outcome>, response: Vec<Outcome>) -> FlowReport {
        FlowReport {
            id: FlowId(id),
            request,
            response,
            flow_findings: vec![],
        }
    }

    fn f(n: u64, method: &str, url: &str) -> Flow {
        flow(n, request(method, url), response(200, "text/plain", b""))
    }

    /// The sync cycle and the federated sign-in of protocols.md §8.2, as decoded reports.
    fn scenario() -> Vec<(Flow, FlowReport)> {
        let realm = |n, what: &str| {
            (
                f(
                    n,
                    "GET",
                    "https://login.microsoftonline.com/common/userrealm/x",
                ),
                report(
                    n,
                    vec![],
                    vec![outcome(
                        "realm",
                        &format!("realm v1: x is {what}"),
                        Node::section("realm"),
                    )],
                ),
            )
        };
        let token = (
            f(
                1,
                "POST",
                "https://login.microsoftonline.com/t/oauth2/token",
            ),
            report(
                1,
                vec![outcome(
                    "oauth",
                    "ROPC",
                    Node::section("form").with_child(Node::field("grant_type", "password")),
                )],
                vec![outcome(
                    "oauth",
                    "token",
                    Node::section("token").with_child(Node::secret("access_token", "eyJ.tok.A")),
                )],
            ),
        );
        let soap = |n, op: &str, bearer: &str, anchor: Option<&str>| {
            let mut root = Node::section("sync API")
                .with_child(Node::field("operation", op))
                .with_child(Node::secret("BearerToken", bearer));
            if let Some(a) = anchor {
                root.push(Node::field("SourceAnchor", a));
            }
            (
                f(
                    n,
                    "POST",
                    "https://adminwebservice.microsoftonline.com/provisioningservice.svc",
                ),
                report(n, vec![outcome("provisioning", op, root)], vec![]),
            )
        };
        let wsfed = |n, immutable: &str| {
            (
                f(n, "POST", "https://login.microsoftonline.com/login.srf"),
                report(
                    n,
                    vec![outcome(
                        "wsfed",
                        "WS-Fed token POST",
                        Node::section("attributes")
                            .with_child(Node::field("ImmutableID", immutable)),
                    )],
                    vec![],
                ),
            )
        };
        vec![
            realm(0, "Managed"),
            token,
            soap(2, "ReadBackAzureADSyncObjects2", "eyJ.tok.A", None),
            soap(
                3,
                "ProvisionAzureADSyncObjects",
                "eyJ.tok.A",
                Some("lHh/rEL830q6"),
            ),
            soap(4, "FinalizeExport", "eyJ.other", None),
            realm(5, "Federated"),
            wsfed(6, "lHh/rEL830q6"),
            realm(7, "Federated"),
            wsfed(8, "unknown-anchor"),
        ]
    }

    fn stories(flows: &[(Flow, FlowReport)]) -> Vec<Story> {
        let facts: Vec<(FlowId, Facts)> = flows
            .iter()
            .filter_map(|(fl, r)| facts(fl, r).map(|x| (fl.id, x)))
            .collect();
        build(facts.iter().map(|(id, f)| (*id, f)))
    }

    #[test]
    fn sync_cycle_steps_are_named_after_realm_token_and_operations() {
        let s = stories(&scenario());
        let sync = &s[0];
        assert_eq!(sync.kind, StoryKind::SyncCycle);
        let labels: Vec<&str> = sync.steps.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "realm (Managed)",
                "token (ROPC)",
                "ReadBackAzureADSyncObjects2",
                "ProvisionAzureADSyncObjects",
                "FinalizeExport"
            ]
        );
        assert_eq!(sync.step_of(FlowId(3)), Some(3));
    }

    #[test]
    fn token_used_by_soap_is_traced_to_the_token_flow() {
        let s = stories(&scenario());
        let checks = &s[0].checks;
        let pass: Vec<&Check> = checks
            .iter()
            .filter(|c| c.verdict == Verdict::Pass)
            .collect();
        assert_eq!(pass.len(), 2);
        assert_eq!(
            pass[0].message,
            "token used by #3 came from the token response #2"
        );
        let fail = checks.iter().find(|c| c.verdict == Verdict::Fail).unwrap();
        let text = &fail.message;
        assert!(text.starts_with("token used by #5"), "{text}");
    }

    #[test]
    fn immutable_id_is_compared_with_the_provisioned_source_anchor() {
        let s = stories(&scenario());
        assert_eq!(s.len(), 3, "a second realm lookup starts a second sign-in");
        let first = &s[1];
        assert_eq!(first.kind, StoryKind::FederatedSignIn);
        assert_eq!(first.checks[0].verdict, Verdict::Pass);
        assert!(
            first.checks[0]
                .message
                .contains("matches the SourceAnchor provisioned in #4"),
            "{}",
            first.checks[0].message
        );
        let second = &s[2];
        assert_eq!(second.checks[0].verdict, Verdict::Fail);
        assert_eq!(second.checks[0].flows, vec![FlowId(8), FlowId(3)]);
    }

    #[test]
    fn a_failed_immutable_id_check_names_at_most_five_provisioning_flows() {
        let anchor = Value {
            what: What::AnchorProvisioned,
            key: 1,
            shown: "a".into(),
        };
        let provision = Facts {
            kind: StoryKind::SyncCycle,
            step: "ProvisionAzureADSyncObjects".into(),
            starts: false,
            values: vec![anchor],
        };
        let signin = Facts {
            kind: StoryKind::FederatedSignIn,
            step: "wresult".into(),
            starts: false,
            values: vec![Value {
                what: What::ImmutableId,
                key: 2,
                shown: "b".into(),
            }],
        };
        let mut facts: Vec<(FlowId, &Facts)> = (0..8).map(|n| (FlowId(n), &provision)).collect();
        facts.push((FlowId(8), &signin));
        let s = build(facts);
        let check = &s[1].checks[0];
        assert_eq!(check.verdict, Verdict::Fail);
        assert!(
            check
                .message
                .ends_with("(in #1, #2, #3, #4, #5 and 3 more)"),
            "{}",
            check.message
        );
        assert_eq!(check.flows.len(), 6);
    }

    #[test]
    fn the_builder_fed_in_pieces_gives_what_build_gives() {
        let flows = scenario();
        let facts: Vec<(FlowId, Facts)> = flows
            .iter()
            .filter_map(|(fl, r)| facts(fl, r).map(|x| (fl.id, x)))
            .collect();
        let mut b = Builder::default();
        for (id, f) in &facts {
            b.learn(*id, f);
        }
        let (head, tail) = facts.split_at(3);
        for (id, f) in head.iter().chain(tail) {
            b.place(*id, f);
        }
        assert_eq!(b.finish(), stories(&flows));
    }

    #[test]
    fn immutable_id_without_any_provisioning_is_unknown() {
        let flows: Vec<_> = scenario().into_iter().skip(5).collect();
        let s = stories(&flows);
        assert_eq!(s[0].checks[0].verdict, Verdict::Unknown);
    }

    #[test]
    fn nonces_must_round_trip_from_an_earlier_flow() {
        let nonce = (
            f(
                0,
                "POST",
                "https://login.microsoftonline.com/common/oauth2/token",
            ),
            report(
                0,
                vec![outcome(
                    "oauth",
                    "srv_challenge",
                    Node::section("form").with_child(Node::field("grant_type", "srv_challenge")),
                )],
                vec![outcome(
                    "prt",
                    "nonce",
                    Node::section("nonce").with_child(Node::field("Nonce", "AwABnonce1")),
                )],
            ),
        );
        let prt = |n, used: &str| {
            (
                f(
                    n,
                    "POST",
                    "https://login.microsoftonline.com/common/oauth2/token",
                ),
                report(
                    n,
                    vec![outcome(
                        "prt",
                        "PRT request",
                        Node::section("claims").with_child(Node::field("request_nonce", used)),
                    )],
                    vec![],
                ),
            )
        };
        let s = stories(&[nonce, prt(1, "AwABnonce1"), prt(2, "stale")]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, StoryKind::PrtSso);
        assert_eq!(s[0].steps[0].label, "nonce (srv_challenge)");
        assert_eq!(s[0].checks[0].verdict, Verdict::Pass);
        assert_eq!(
            s[0].checks[0].message,
            "nonce AwABnonce1 issued by #1 round-trips in #2"
        );
        assert_eq!(s[0].checks[1].verdict, Verdict::Fail);
    }

    #[test]
    fn scim_flows_form_a_cloud_sync_story_with_bearer_checks() {
        let req = request_with(
            "GET",
            "https://scim.example/scim/v2/ServiceProviderConfig",
            &[("Authorization", "Bearer tokX")],
        );
        let fl = flow(0, req, response(200, "application/scim+json", b"{}"));
        let r = report(
            0,
            vec![],
            vec![outcome("scim", "config", Node::section("scim"))],
        );
        let facts = facts(&fl, &r).unwrap();
        assert_eq!(facts.kind, StoryKind::CloudSync);
        assert!(facts.starts);
        assert_eq!(facts.step, "GET v2/serviceproviderconfig");
        assert_eq!(facts.values[0].what, What::TokenUsed);
        let s = build([(FlowId(0), &facts)]);
        assert_eq!(s[0].checks[0].verdict, Verdict::Fail);
    }

    #[test]
    fn flows_outside_any_sequence_have_no_facts() {
        let fl = f(0, "GET", "https://example.com/");
        let r = report(
            0,
            vec![],
            vec![outcome("json", "{}", Node::section("json"))],
        );
        assert_eq!(facts(&fl, &r), None);
    }
}
