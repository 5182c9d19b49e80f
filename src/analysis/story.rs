//! Stories: the sequences users think in, rebuilt from a capture. Six are recognised
//! (protocols.md §3.4, §4.2, §6, §7): the AAD Connect **sync cycle** (realm → token → ReadBack →
//! … → FinalizeExport), the **federated sign-in** (realm Federated → ADFS wsignin → forms login →
//! auto-POST → wresult POST to login.srf, or WS-Trust → SAML bearer grant), **cloud sync** over
//! SCIM, hybrid-join **PRT SSO** (DRS → nonce → PRT → cookie → authorize), **Seamless SSO**
//! (autologon RST → RSTR with a DesktopSsoToken → saml1_1-bearer redemption, or the browser's
//! `/winauth/sso` → the sign-in page's `dssoToken` POST) and the connector **agent**'s life
//! (registration → bootstrap → relay WebSocket, with trust renewals).
//!
//! Work is split in two so that a 100,000-flow capture stays cheap: [`facts`] reads one flow's
//! decoded report once and keeps only what stories need (which story, which step, whether the
//! step failed and why, and hashed values such as nonces, tokens, anchors, `wctx` and assertion
//! IDs); [`Builder`] then groups those facts into [`Story`]s and runs the cross-flow checks of
//! architecture.md "Stories": the ImmutableID in a SAML token matches a SourceAnchor provisioned,
//! a token used by SOAP or SCIM came from a token response, nonces round-trip, the `wctx` sent to
//! the STS comes back with the token, the assertion posted to the relying party is one the
//! STS issued, the DesktopSsoToken redeemed is one the autologon host issued, a client
//! assertion's `jti` is not used twice, the connector id an agent bootstraps with is the agent
//! id its registration's certificate holds, and the relay namespace it connects to is one its
//! bootstrap announced. Every check carries the values it compared and the
//! flows they came from. This
//! module does not decode, read files or draw; [`super::story_text`] turns stories into lines.

mod facts;

use std::collections::{HashMap, HashSet};

use crate::flow::FlowId;

pub use facts::facts;

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
    /// Seamless SSO: the autologon RST (or the browser's `/winauth/sso`) that issues a
    /// DesktopSsoToken, and its redemption (saml1_1-bearer grant, or the sign-in page's POST).
    SeamlessSso,
    /// A connector agent (pass-through authentication, cloud sync provisioning): registration
    /// (`RegisterConnector`), bootstraps, trust renewals and the Service Bus relay WebSocket.
    Agent,
}

impl StoryKind {
    /// The name shown to users.
    pub fn title(self) -> &'static str {
        match self {
            StoryKind::SyncCycle => "sync cycle",
            StoryKind::FederatedSignIn => "federated sign-in",
            StoryKind::CloudSync => "cloud sync (SCIM)",
            StoryKind::PrtSso => "PRT SSO",
            StoryKind::SeamlessSso => "Seamless SSO",
            StoryKind::Agent => "connector agent",
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
    /// The `wctx` a client sent to the STS with its WS-Fed sign-in request or forms login.
    WctxSent,
    /// The `wctx` in the STS's auto-POST page, the sign-in response handed to the browser.
    WctxReturned,
    /// The `wctx` posted with the token to the relying party (`login.srf`).
    WctxPosted,
    /// The ID of a SAML assertion in a response: an STS issued it.
    AssertionIssued,
    /// The ID of a SAML assertion in a request: a client posts it (wresult, SAML bearer grant).
    AssertionPosted,
    /// A DesktopSsoToken the autologon host issued (in an RSTR, or as `/winauth/sso`'s body).
    DesktopSsoIssued,
    /// A DesktopSsoToken a client redeems (saml1_1-bearer assertion, `dssoToken`).
    DesktopSsoRedeemed,
    /// The `jti` of a client assertion (certificate client credentials): checked for reuse.
    AssertionJti,
    /// The agent id in a certificate the registration service issued (or renewed).
    AgentIdIssued,
    /// The connector id an agent declares when it bootstraps.
    AgentIdDeclared,
    /// A relay namespace a bootstrap response tells the agent to listen on.
    RelayAnnounced,
    /// The relay namespace of a WebSocket the agent opened to listen on.
    RelayConnected,
}

impl What {
    /// How checks name the value.
    pub fn name(self) -> &'static str {
        match self {
            What::NonceIssued => "nonce issued",
            What::NonceUsed => "nonce sent back",
            What::TokenIssued => "token issued",
            What::TokenUsed => "token presented",
            What::AnchorProvisioned => "SourceAnchor provisioned",
            What::ImmutableId => "ImmutableID in the SAML",
            What::WctxSent => "wctx sent to the STS",
            What::WctxReturned => "wctx in the STS's auto-POST",
            What::WctxPosted => "wctx posted with the token",
            What::AssertionIssued => "assertion the STS issued",
            What::AssertionPosted => "assertion posted",
            What::DesktopSsoIssued => "DesktopSsoToken issued",
            What::DesktopSsoRedeemed => "DesktopSsoToken redeemed",
            What::AssertionJti => "client assertion jti",
            What::AgentIdIssued => "agent id in the issued certificate",
            What::AgentIdDeclared => "connector id bootstrapped with",
            What::RelayAnnounced => "relay namespace the bootstrap announced",
            What::RelayConnected => "relay namespace connected to",
        }
    }

    /// The value a check compares this one with; `None` for values that are only compared with.
    pub fn counterpart(self) -> Option<What> {
        match self {
            What::NonceUsed => Some(What::NonceIssued),
            What::TokenUsed => Some(What::TokenIssued),
            What::ImmutableId => Some(What::AnchorProvisioned),
            What::WctxReturned | What::WctxPosted => Some(What::WctxSent),
            What::AssertionPosted => Some(What::AssertionIssued),
            What::DesktopSsoRedeemed => Some(What::DesktopSsoIssued),
            What::AgentIdDeclared => Some(What::AgentIdIssued),
            What::RelayConnected => Some(What::RelayAnnounced),
            What::NonceIssued
            | What::TokenIssued
            | What::AnchorProvisioned
            | What::WctxSent
            | What::AssertionIssued
            | What::DesktopSsoIssued
            | What::AssertionJti
            | What::AgentIdIssued
            | What::RelayAnnounced => None,
        }
    }

    /// Whether the value may be compared with its counterpart from the same flow (a forms login
    /// sends `wctx` in its request and gets it back in its response's auto-POST page).
    fn same_flow(self) -> bool {
        matches!(self, What::WctxReturned | What::WctxPosted)
    }

    /// Tokens are credentials: they are shown as a fingerprint, never in clear.
    fn is_secret(self) -> bool {
        matches!(
            self,
            What::TokenIssued | What::TokenUsed | What::DesktopSsoIssued | What::DesktopSsoRedeemed
        )
    }
}

/// One remembered value: a hash to compare by and a short form to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// What it is.
    pub what: What,
    /// A hash of the exact value (tokens are long; stories only need equality).
    pub key: u64,
    /// The value as checks show it: whole when short, else its start and end; a token as the
    /// start of its SHA-256 (`sha256:1a2b3c4d`), which equal tokens share.
    pub shown: String,
}

/// How a step takes part in the grouping of flows into stories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Begins a new story of its kind when the open one already has steps (realm discovery,
    /// SCIM ServiceProviderConfig, device registration).
    Start,
    /// An ordinary step; once the open story has ended, it begins the next one.
    Step,
    /// The last step when it succeeds: the token posted to the relying party.
    End,
    /// Joins the open story whatever its state (federation metadata, MEX).
    Aside,
}

/// What one flow contributes to stories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The story the flow belongs to; `None` for a flow outside any recognised sequence that
    /// holds values others are compared with (a token response, a nonce issued).
    pub kind: Option<StoryKind>,
    /// The step, as shown in the Story tab (`realm (Managed)`, `ReadBackAzureADSyncObjects2`).
    pub step: String,
    /// How the step groups into stories.
    pub role: Role,
    /// Values that cross-flow checks compare.
    pub values: Vec<Value>,
    /// Why the step failed: an error finding (the response's first), or the HTTP error status.
    pub failed: Option<String>,
}

/// One step of a story: a flow and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The flow.
    pub id: FlowId,
    /// What it does in the sequence.
    pub label: String,
    /// Why it failed, when it did ([`Facts::failed`]).
    pub failed: Option<String>,
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

impl Verdict {
    /// Lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }
}

/// A value as a check shows it: what it is, the flow it was seen in, and its shown form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// What it is.
    pub what: What,
    /// Where it was seen.
    pub flow: FlowId,
    /// [`Value::shown`].
    pub value: String,
}

impl std::fmt::Display for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}: {})", self.what.name(), self.flow, self.value)
    }
}

/// One cross-flow check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Whether it holds.
    pub verdict: Verdict,
    /// What was checked, with the values and the flows they came from
    /// (`token presented (#7: sha256:1a2b3c4d) = token issued (#3: sha256:1a2b3c4d)`).
    pub message: String,
    /// The values compared: the checked one first, then what it was compared with (none when
    /// the capture holds nothing to compare with).
    pub values: Vec<Observed>,
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

    /// How many checks have this verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.checks.iter().filter(|c| c.verdict == verdict).count()
    }

    /// How many steps failed.
    pub fn failed_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.failed.is_some()).count()
    }
}

/// Groups facts (in capture order) into stories and runs the checks. A story of a kind goes on
/// while flows of that kind come; a starting step (realm, ServiceProviderConfig, device
/// registration) after other steps begins the next story of that kind, and so does any step but
/// an aside after a story's successful last step. This is [`Builder`] fed in one go.
pub fn build<'a>(facts: impl IntoIterator<Item = (FlowId, &'a Facts)>) -> Vec<Story> {
    let mut b = Builder::default();
    for (id, f) in facts {
        b.add(id, f);
    }
    b.finish()
}

/// How many SourceAnchors a failed ImmutableID check shows before "and N more".
const ANCHORS_NAMED: usize = 5;

/// [`build`] in resumable steps, so that a caller can spread the work (the TUI, over several
/// frames) or stream it (`analyze`, one flow at a time as the flows are decoded). Facts go in
/// capture order, either each through [`Builder::add`], or all through [`Builder::learn`] and
/// then the same facts in the same order through [`Builder::place`]; then [`Builder::finish`].
/// Both give the same stories: checks compare with values seen earlier in the capture, except
/// the ImmutableID, which is compared with every SourceAnchor of the capture when the stories
/// are finished. Feeding other facts to the second pass than to the first gives meaningless
/// checks; the caller starts over when its flows change.
///
/// A check passes when the value was seen before as its counterpart ([`What::counterpart`]: a
/// token presented was issued by an earlier token response); it fails when the capture holds
/// counterparts but none is equal, showing beside the value the latest counterpart (for an
/// ImmutableID, the SourceAnchors provisioned); it is undecided when the capture holds no
/// counterpart at all (the capture began after the token was issued).
#[derive(Debug, Default)]
pub struct Builder {
    /// Where each value was first seen (position among the learned facts, flow).
    first: HashMap<(What, u64), (usize, FlowId)>,
    /// The first SourceAnchors provisioned, for failed ImmutableID checks.
    anchors: Vec<Observed>,
    /// How many distinct SourceAnchors were provisioned.
    anchor_count: usize,
    /// The latest value of each kind placed so far: what a failed check shows beside its own.
    last: HashMap<What, Observed>,
    /// ImmutableID checks, made when the stories are finished: story, check, flow, value.
    pending: Vec<(usize, usize, FlowId, Value)>,
    learned: usize,
    placed: usize,
    stories: Vec<Story>,
    /// The story of each kind that flows of that kind join.
    open: HashMap<StoryKind, Open>,
}

/// The story of a kind that takes the next flows of that kind.
#[derive(Debug)]
struct Open {
    /// Its index among the stories.
    index: usize,
    /// Its last step succeeded: the next ordinary step begins another story.
    ended: bool,
    /// ImmutableIDs already checked in it: one check per value and story.
    checked: HashSet<u64>,
}

impl Builder {
    /// First pass: remembers where each of the flow's values was first seen.
    pub fn learn(&mut self, id: FlowId, f: &Facts) {
        let pos = self.learned;
        self.learned += 1;
        for v in &f.values {
            let new = !self.first.contains_key(&(v.what, v.key));
            self.first.entry((v.what, v.key)).or_insert((pos, id));
            if v.what == What::AnchorProvisioned && new {
                self.anchor_count += 1;
                if self.anchors.len() < ANCHORS_NAMED {
                    self.anchors.push(Observed {
                        what: v.what,
                        flow: id,
                        value: v.shown.clone(),
                    });
                }
            }
        }
    }

    /// Second pass: puts the flow in its story and checks its values. Returns the story's index
    /// among those [`Builder::finish`] returns (`None` for a flow outside any story).
    pub fn place(&mut self, id: FlowId, f: &Facts) -> Option<usize> {
        let pos = self.placed;
        self.placed += 1;
        let Some(kind) = f.kind else {
            self.remember(id, f);
            return None;
        };
        let idx = self.story_for(kind, f.role);
        let checks = self.checks_for(id, pos, kind, f);
        if let Some(story) = self.stories.get_mut(idx) {
            story.steps.push(Step {
                id,
                label: f.step.clone(),
                failed: f.failed.clone(),
            });
            for (check, value) in checks {
                if let Some(v) = value {
                    self.pending.push((idx, story.checks.len(), id, v));
                }
                story.checks.push(check);
            }
        }
        self.remember(id, f);
        if f.role == Role::End
            && f.failed.is_none()
            && let Some(open) = self.open.get_mut(&kind)
        {
            open.ended = true;
        }
        Some(idx)
    }

    /// Keeps the flow's values as the latest of their kinds.
    fn remember(&mut self, id: FlowId, f: &Facts) {
        for v in &f.values {
            self.last.insert(
                v.what,
                Observed {
                    what: v.what,
                    flow: id,
                    value: v.shown.clone(),
                },
            );
        }
    }

    /// Both passes for one flow, when the facts come one at a time in capture order.
    pub fn add(&mut self, id: FlowId, f: &Facts) -> Option<usize> {
        self.learn(id, f);
        self.place(id, f)
    }

    /// The stories, with their ImmutableID checks made.
    pub fn finish(mut self) -> Vec<Story> {
        for (story, at, id, v) in std::mem::take(&mut self.pending) {
            let check = self.immutable_id_check(id, &v);
            if let Some(c) = self
                .stories
                .get_mut(story)
                .and_then(|s| s.checks.get_mut(at))
            {
                *c = check;
            }
        }
        self.stories
    }

    /// The stories whose index is `true` in `keep` (those holding a flow a report shows), in
    /// order; the others and any past `keep`'s end are left out.
    pub fn finish_keeping(self, keep: &[bool]) -> Vec<Story> {
        self.finish()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.get(*i).copied().unwrap_or(false))
            .map(|(_, s)| s)
            .collect()
    }

    /// The index of the story a step of `kind` joins, begun here when needed. A story that
    /// stops being open takes no more steps: its spare capacity is given back, as a capture can
    /// hold tens of thousands of short stories.
    fn story_for(&mut self, kind: StoryKind, role: Role) -> usize {
        let new = match self.open.get(&kind) {
            None => true,
            Some(open) => match role {
                Role::Start => self
                    .stories
                    .get(open.index)
                    .is_some_and(|s| !s.steps.is_empty()),
                Role::Step | Role::End => open.ended,
                Role::Aside => false,
            },
        };
        if let (false, Some(open)) = (new, self.open.get(&kind)) {
            return open.index;
        }
        self.stories.push(Story {
            kind,
            steps: vec![],
            checks: vec![],
        });
        let index = self.stories.len() - 1;
        let open = Open {
            index,
            ended: false,
            checked: HashSet::new(),
        };
        if let Some(closed) = self.open.insert(kind, open)
            && let Some(s) = self.stories.get_mut(closed.index)
        {
            s.steps.shrink_to_fit();
            s.checks.shrink_to_fit();
        }
        index
    }

    /// The checks of one flow's values. An ImmutableID check comes as a placeholder with its
    /// value, to be made by [`Builder::finish`].
    fn checks_for(
        &mut self,
        id: FlowId,
        pos: usize,
        kind: StoryKind,
        f: &Facts,
    ) -> Vec<(Check, Option<Value>)> {
        let mut out = Vec::new();
        for v in &f.values {
            if v.what == What::AssertionJti {
                out.push((self.jti_check(id, pos, v), None));
                continue;
            }
            let Some(other) = v.what.counterpart() else {
                continue;
            };
            let mine = Observed {
                what: v.what,
                flow: id,
                value: v.shown.clone(),
            };
            if v.what == What::ImmutableId {
                if self
                    .open
                    .get_mut(&kind)
                    .is_some_and(|o| o.checked.insert(v.key))
                {
                    let placeholder = unknown(mine, "not checked yet");
                    out.push((placeholder, Some(v.clone())));
                }
                continue;
            }
            let found = self
                .first
                .get(&(other, v.key))
                .filter(|(p, _)| *p < pos || (v.what.same_flow() && *p == pos));
            let check = match found {
                Some(&(_, from)) => {
                    let theirs = Observed {
                        what: other,
                        flow: from,
                        value: v.shown.clone(),
                    };
                    compared(Verdict::Pass, mine, vec![theirs], 0)
                }
                None => {
                    let own = f
                        .values
                        .iter()
                        .find(|x| v.what.same_flow() && x.what == other)
                        .map(|x| Observed {
                            what: other,
                            flow: id,
                            value: x.shown.clone(),
                        });
                    match own.or_else(|| self.last.get(&other).cloned()) {
                        Some(theirs) => compared(Verdict::Fail, mine, vec![theirs], 0),
                        None => unknown(
                            mine,
                            &format!(
                                "no {} earlier in this capture to compare with",
                                other.name()
                            ),
                        ),
                    }
                }
            };
            out.push((check, None));
        }
        out
    }

    /// A client assertion's `jti` holds when no earlier flow of the capture sent it: RFC 7519
    /// makes it unique, so a second use is a replayed assertion (or MSAL re-sending its own for
    /// up to nine minutes, which Entra ID accepts).
    fn jti_check(&self, id: FlowId, pos: usize, v: &Value) -> Check {
        let mine = Observed {
            what: v.what,
            flow: id,
            value: v.shown.clone(),
        };
        match self.first.get(&(v.what, v.key)) {
            Some(&(p, from)) if p < pos => {
                let theirs = Observed {
                    what: v.what,
                    flow: from,
                    value: v.shown.clone(),
                };
                Check {
                    verdict: Verdict::Fail,
                    message: format!(
                        "{mine} = {theirs}: the same jti again, a replayed assertion (MSAL \
                         re-sends its own for up to 9 minutes, which Entra ID accepts)"
                    ),
                    flows: vec![id, from],
                    values: vec![mine, theirs],
                }
            }
            _ => Check {
                verdict: Verdict::Pass,
                message: format!("{mine} not sent before in this capture"),
                flows: vec![id],
                values: vec![mine],
            },
        }
    }

    fn immutable_id_check(&self, id: FlowId, v: &Value) -> Check {
        let mine = Observed {
            what: v.what,
            flow: id,
            value: v.shown.clone(),
        };
        match self.first.get(&(What::AnchorProvisioned, v.key)) {
            Some(&(_, from)) => {
                let theirs = Observed {
                    what: What::AnchorProvisioned,
                    flow: from,
                    value: v.shown.clone(),
                };
                compared(Verdict::Pass, mine, vec![theirs], 0)
            }
            None if self.anchors.is_empty() => unknown(
                mine,
                "no SourceAnchor provisioned in this capture to compare with",
            ),
            None => compared(
                Verdict::Fail,
                mine,
                self.anchors.clone(),
                self.anchor_count.saturating_sub(self.anchors.len()),
            ),
        }
    }
}

/// A check that compared `mine` with `theirs` (and `more` values not listed): `a = b`, `a ≠ b`,
/// or `a ≠ any SourceAnchor provisioned (#6: b, c; #7: d and 3 more)`.
fn compared(verdict: Verdict, mine: Observed, theirs: Vec<Observed>, more: usize) -> Check {
    let rel = if verdict == Verdict::Pass { "=" } else { "≠" };
    let message = match theirs.as_slice() {
        [one] if more == 0 => format!("{mine} {rel} {one}"),
        many => {
            // `#6: a, b; #7: c`: values of one flow after its number.
            let mut listed = String::new();
            let mut flow = None;
            for o in many {
                if flow == Some(o.flow) {
                    listed.push_str(", ");
                } else {
                    if flow.is_some() {
                        listed.push_str("; ");
                    }
                    listed.push_str(&format!("{}: ", o.flow));
                    flow = Some(o.flow);
                }
                listed.push_str(&o.value);
            }
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let name = many.first().map_or("value", |o| o.what.name());
            format!("{mine} {rel} any {name} ({listed}{tail})")
        }
    };
    let flows = std::iter::once(mine.flow)
        .chain(theirs.iter().map(|o| o.flow))
        .fold(Vec::new(), |mut acc, f| {
            if !acc.contains(&f) {
                acc.push(f);
            }
            acc
        });
    Check {
        verdict,
        message,
        values: std::iter::once(mine).chain(theirs).collect(),
        flows,
    }
}

fn unknown(mine: Observed, why: &str) -> Check {
    Check {
        verdict: Verdict::Unknown,
        message: format!("{mine}: {why}"),
        flows: vec![mine.flow],
        values: vec![mine],
    }
}

#[cfg(test)]
mod tests;
