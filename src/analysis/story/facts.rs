//! What one flow contributes to stories ([`facts`]): which story and step it is (from the
//! decoders that understood it, else from its URL and method), whether it failed and why, and
//! the values checks compare, hashed, with a short form to show.

use std::hash::{DefaultHasher, Hash, Hasher};

use idscope_decoders::html::auto_post_form;
use idscope_decoders::util::{self, clip};
use idscope_decoders::{Node, Outcome, Severity};
use idscope_decoders::{agent, oauth};
use sha2::{Digest as _, Sha256};

use super::{Facts, Role, StoryKind, Value, What};
use crate::analysis::{FlowReport, Side};
use crate::flow::{DEFAULT_DECODED_CAP, Flow, header};

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

/// Characters of a value shown whole; a longer one shows its start and its end, where values
/// of one kind that share a prefix (`LoginOptions=3&estsrequest=…`) differ.
const SHOWN: usize = 40;

pub(super) fn shown(what: What, v: &str) -> String {
    if what.is_secret() {
        let digest = Sha256::digest(v.as_bytes());
        let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return format!("sha256:{hex}");
    }
    let n = v.chars().count();
    if n <= SHOWN {
        return v.to_string();
    }
    let head: String = v.chars().take(SHOWN - 13).collect();
    let tail: String = v.chars().skip(n - 12).collect();
    format!("{head}…{tail}")
}

fn value(what: What, v: &str) -> Value {
    Value {
        what,
        key: hash(v),
        shown: shown(what, v),
    }
}

/// The first part of the path and query, lowercase, without the query.
fn path_of(flow: &Flow) -> String {
    let p = flow.path_and_query();
    p.split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn classify(flow: &Flow, report: &FlowReport) -> Option<(StoryKind, String, Role)> {
    let path = flow.path_and_query().to_ascii_lowercase();
    let method = flow.request.method.to_ascii_uppercase();
    if let Some(agent) = agent_step(flow, report) {
        return Some(agent);
    }
    if has(report, "provisioning") {
        let op = find_value(&report.request, "operation")
            .or_else(|| find_value(&report.response, "operation"))
            .unwrap_or("sync API call");
        return Some((StoryKind::SyncCycle, op.to_string(), Role::Step));
    }
    if has(report, "scim") {
        let p = path.split('?').next().unwrap_or("");
        let tail: Vec<&str> = p.rsplit('/').take(2).collect();
        let what = tail.into_iter().rev().collect::<Vec<_>>().join("/");
        let role = if p.ends_with("/serviceproviderconfig") {
            Role::Start
        } else {
            Role::Step
        };
        return Some((
            StoryKind::CloudSync,
            format!("{} {what}", flow.request.method),
            role,
        ));
    }
    let grant = find_value(&report.request, "grant_type").unwrap_or("");
    if has(report, "prt") || grant == "srv_challenge" {
        let (step, role) = if path.contains("/enrollmentserver/") {
            ("device registration", Role::Start)
        } else if grant == "srv_challenge" {
            ("nonce (srv_challenge)", Role::Step)
        } else if path.contains("/authorize") {
            ("authorize with PRT cookie", Role::Step)
        } else if summary_of(&report.request, "prt")
            .is_some_and(|s| s.starts_with("PRT protocol v4"))
        {
            ("device-signed request (PRT v4)", Role::Step)
        } else if flow.response().is_some_and(|r| {
            header(&r.headers, "content-type").is_some_and(|c| c.contains("jose"))
                || r.body.raw.starts_with(b"eyJ")
        }) {
            ("session-key signed request", Role::Step)
        } else {
            ("PRT request", Role::Step)
        };
        return Some((StoryKind::PrtSso, step.to_string(), role));
    }
    if let Some(seamless) = seamless_sso(flow, report, grant) {
        return Some(seamless);
    }
    for id in ["wsfed", "wstrust", "saml", "fedmetadata"] {
        if has(report, id) {
            let s = summary_of(&report.request, id)
                .or_else(|| summary_of(&report.response, id))
                .unwrap_or_default();
            let role = if id == "fedmetadata" {
                Role::Aside
            } else {
                Role::Step
            };
            return Some((StoryKind::FederatedSignIn, clip(&s, 60), role));
        }
    }
    // The browser's pages of a federated sign-in, when no decoder recognised them (an ADFS
    // login page reached without WS-Fed parameters, a token POST whose wresult is unreadable).
    let bare = path_of(flow);
    if bare.starts_with("/adfs/ls") {
        let step = if method == "POST" {
            "ADFS sign-in POST"
        } else {
            "ADFS sign-in page"
        };
        return Some((StoryKind::FederatedSignIn, step.into(), Role::Step));
    }
    if method == "POST" && bare.ends_with("/login.srf") {
        return Some((
            StoryKind::FederatedSignIn,
            "token POST to login.srf".into(),
            Role::End,
        ));
    }
    if has(report, "realm") {
        let s = summary_of(&report.response, "realm").unwrap_or_default();
        if s.contains("Federated") {
            return Some((
                StoryKind::FederatedSignIn,
                "realm (Federated)".into(),
                Role::Start,
            ));
        }
        if s.contains("Managed") {
            return Some((StoryKind::SyncCycle, "realm (Managed)".into(), Role::Start));
        }
        return None;
    }
    if has(report, "oauth") {
        if grant == "password" {
            return Some((StoryKind::SyncCycle, "token (ROPC)".into(), Role::Step));
        }
        // Entra Connect Sync with application identity: client credentials for the sync
        // service; the cycle starts with its token.
        let resource = find_value(&report.request, "resource")
            .or_else(|| find_value(&report.request, "scope"))
            .unwrap_or("");
        if grant == "client_credentials" && resource.starts_with(oauth::SYNC_SERVICE) {
            let step = if find_value(&report.request, "client_assertion_type").is_some() {
                "token (client credentials, certificate)"
            } else {
                "token (client credentials)"
            };
            return Some((StoryKind::SyncCycle, step.into(), Role::Start));
        }
        if grant.contains("saml1_1-bearer") || grant.contains("saml2-bearer") {
            return Some((
                StoryKind::FederatedSignIn,
                "token (SAML bearer grant)".into(),
                Role::End,
            ));
        }
    }
    None
}

/// The connector agent's steps: registration (begins a story), bootstraps and trust renewals,
/// by the `agent` decoder or, when it could not read the body (an HTTP error page), by the
/// endpoint's path on an `msappproxy.net` host; and the relay WebSocket ([`relay`]).
fn agent_step(flow: &Flow, report: &FlowReport) -> Option<(StoryKind, String, Role)> {
    if let Some((kind, _)) = relay(flow) {
        return Some((StoryKind::Agent, kind.to_string(), Role::Step));
    }
    let bare = path_of(flow);
    let known = has(report, "agent")
        || (agent::is_agent_path(&bare) && flow.host().ends_with(".msappproxy.net"));
    if !known {
        return None;
    }
    Some(if bare.ends_with("/registerconnector") {
        let step = match find_value(&report.request, "FeatureString") {
            Some(f) => format!("registration ({f})"),
            None => "registration".to_string(),
        };
        (StoryKind::Agent, step, Role::Start)
    } else if bare.ends_with("/renewtrustcertificate") {
        (StoryKind::Agent, "trust renewal".to_string(), Role::Step)
    } else {
        (StoryKind::Agent, "bootstrap".to_string(), Role::Step)
    })
}

/// A connector agent's Service Bus relay WebSocket: an upgrade to `*.servicebus.windows.net`
/// with the `wsrelayedamqp` sub-protocol or to `/$servicebus/websocket` (the listener, whose
/// namespace is the host's first label), with `wsrelayedconnection` (a rendezvous on whatever
/// relay node the listener was told, no namespace), a hybrid connection's `/$hc/…`, or a
/// `CONNECT` tunnel the proxy did not open (which of the two it carries is unknown, so no
/// namespace). The step and the namespace listened on.
fn relay(flow: &Flow) -> Option<(&'static str, Option<String>)> {
    let host = flow.host();
    let namespace = host.strip_suffix(".servicebus.windows.net")?;
    let protocol = header(&flow.request.headers, "sec-websocket-protocol")
        .unwrap_or("")
        .to_ascii_lowercase();
    let path = path_of(flow);
    let ns = || Some(namespace.to_string());
    if flow.request.method.eq_ignore_ascii_case("CONNECT") {
        Some(("relay tunnel (CONNECT, not decrypted)", None))
    } else if protocol.contains("wsrelayedconnection") {
        Some(("relay rendezvous (wsrelayedconnection)", None))
    } else if protocol.contains("wsrelayedamqp") || path == "/$servicebus/websocket" {
        Some(("relay listener (wsrelayedamqp)", ns()))
    } else if path.starts_with("/$hc/") {
        Some(("relay hybrid connection ($hc)", ns()))
    } else {
        None
    }
}

/// The Seamless SSO steps: the autologon host's flows (the `desktopsso` decoder), and the
/// redemption of a DesktopSsoToken with the saml1_1-bearer grant. A first request without a
/// Kerberos ticket (or the sign-in page's probe, or a password RST) begins a story; the sign-in
/// POST and the grant end it.
fn seamless_sso(
    flow: &Flow,
    report: &FlowReport,
    grant: &str,
) -> Option<(StoryKind, String, Role)> {
    let redeemed = find_value(&report.request, "DesktopSsoToken").is_some();
    if has(report, "oauth") && grant.contains("saml1_1-bearer") && redeemed {
        return Some((
            StoryKind::SeamlessSso,
            "token (DesktopSsoToken redeemed)".into(),
            Role::End,
        ));
    }
    if !has(report, "desktopsso") {
        return None;
    }
    let path = path_of(flow);
    let ticket = header(&flow.request.headers, "authorization").is_some();
    let role = if find_value(&report.request, "dssoToken").is_some() {
        Role::End
    } else if path.ends_with("/usernamemixed") || path.ends_with("/ssoprobe") || !ticket {
        Role::Start
    } else {
        Role::Step
    };
    let s = summary_of(&report.response, "desktopsso")
        .filter(|_| role != Role::End)
        .or_else(|| summary_of(&report.request, "desktopsso"))
        .unwrap_or_default();
    let s = s.strip_prefix("Seamless SSO").unwrap_or(&s);
    let s = s.trim_start_matches([':', ' ']);
    Some((StoryKind::SeamlessSso, clip(s, 60), role))
}

/// True for the first leg of a Negotiate exchange: the request carried no credential and the
/// server answered 401 with the Negotiate challenge, as it should.
fn is_negotiate_challenge(flow: &Flow) -> bool {
    header(&flow.request.headers, "authorization").is_none()
        && flow.response().is_some_and(|r| {
            r.status == 401
                && header(&r.headers, "www-authenticate")
                    .is_some_and(|v| v.trim_start().starts_with("Negotiate"))
        })
}

/// Why a step failed: the server said no (an HTTP error status, with the response's first
/// error finding when there is one), or an error finding about the answer (the response's, or
/// the flow's own: no response at all). An error finding about the request alone (a password in
/// clear, an expired timestamp) is a problem with what was sent, not a failure of the step: the
/// response tells whether the server accepted it.
fn failure(flow: &Flow, report: &FlowReport) -> Option<String> {
    let findings = report.findings();
    let first_error = |side: Option<Side>| {
        findings
            .iter()
            .find(|(s, _, f)| *s == side && f.severity == Severity::Error)
            .map(|(_, _, f)| f.message.as_str())
    };
    let error = first_error(Some(Side::Response)).or_else(|| first_error(None));
    if is_negotiate_challenge(flow) {
        return None;
    }
    match flow.response() {
        Some(r) if r.status >= 400 => Some(match error {
            Some(m) => format!("HTTP {}: {m}", r.status),
            None => {
                let reason = http::StatusCode::from_u16(r.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                format!("HTTP {} {reason}", r.status).trim_end().to_string()
            }
        }),
        _ => error.map(str::to_string),
    }
}

/// The whole `wctx` of a flow, from the message itself: decoders show it shortened, and values
/// that share their first characters must still tell apart. Sent to the STS in the request's
/// query (or form), posted with the token in the request's form, returned in the response's
/// auto-POST page.
fn raw_wctx(flow: &Flow, what: What) -> Option<String> {
    let form_value = |body: &[u8]| {
        util::parse_form(body)
            .into_iter()
            .find(|(k, _)| k == "wctx")
            .map(|(_, v)| v)
    };
    match what {
        What::WctxSent => util::url_query_pairs(&flow.request.url)
            .into_iter()
            .find(|(k, _)| k == "wctx")
            .map(|(_, v)| v)
            .or_else(|| form_value(&flow.request.body.decoded_lossy(DEFAULT_DECODED_CAP))),
        What::WctxPosted => form_value(&flow.request.body.decoded_lossy(DEFAULT_DECODED_CAP)),
        What::WctxReturned => {
            let body = flow.response()?.body.decoded_lossy(DEFAULT_DECODED_CAP);
            let page = String::from_utf8_lossy(&body);
            auto_post_form(&page, &["wresult"])?
                .input("wctx")
                .map(str::to_string)
        }
        _ => None,
    }
}

/// Whether a node at `path` (`…/saml:Assertion/ID`) is a SAML 2.0 assertion's ID.
fn is_assertion_id(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    parts.next() == Some("ID") && parts.next().is_some_and(|p| p.ends_with("Assertion"))
}

/// The decoders that report tokens, nonces or assertions being issued.
const ISSUERS: [&str; 6] = ["oauth", "prt", "wsfed", "wstrust", "saml", "desktopsso"];

/// What `flow` contributes to stories, from its decoded report: its story and step, or, for a
/// flow outside any recognised sequence, only the values others are compared with (a token
/// response, a nonce issued); `None` when it has neither.
pub fn facts(flow: &Flow, report: &FlowReport) -> Option<Facts> {
    let classified = classify(flow, report);
    // Outside a story, only these decoders find values others are compared with (tokens and
    // nonces issued, assertions an STS issued): other flows need no walk of their trees.
    if classified.is_none() && !ISSUERS.iter().any(|id| has(report, id)) {
        return None;
    }
    let kind = classified.as_ref().map(|(k, _, _)| *k);
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
        let assertion = if is_request {
            What::AssertionPosted
        } else {
            What::AssertionIssued
        };
        for d in ok_outcomes(outs) {
            // WS-Fed keeps `wctx` beside `wresult` when it carries the token back.
            if d.decoder == "wsfed"
                && let Some(shortened) = d.root.child("wctx").and_then(|n| n.value.as_deref())
            {
                let what = match (is_request, d.root.child("wresult").is_some()) {
                    (true, false) => Some(What::WctxSent),
                    (false, true) => Some(What::WctxReturned),
                    (true, true) => Some(What::WctxPosted),
                    (false, false) => None,
                };
                if let Some(what) = what {
                    add(
                        what,
                        &raw_wctx(flow, what).unwrap_or_else(|| shortened.into()),
                    );
                }
            }
            d.root.walk(&mut |path, n| {
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
                    ("AssertionID", _) => add(assertion, v),
                    ("ID", _) if is_assertion_id(path) => add(assertion, v),
                    ("DesktopSsoToken", false) => add(What::DesktopSsoIssued, v),
                    ("DesktopSsoToken", true) | ("dssoToken", true) => {
                        add(What::DesktopSsoRedeemed, v)
                    }
                    ("jti", true) if path.ends_with("client_assertion/claims/jti") => {
                        add(What::AssertionJti, v)
                    }
                    ("agent id", false) if d.decoder == "agent" => add(What::AgentIdIssued, v),
                    ("ConnectorId", true) if d.decoder == "agent" => {
                        add(What::AgentIdDeclared, &v.to_ascii_lowercase())
                    }
                    ("Namespace", false) if d.decoder == "agent" => {
                        add(What::RelayAnnounced, &v.to_ascii_lowercase())
                    }
                    ("AuthenticationToken", true) if d.decoder == "agent" => {
                        add(What::TokenUsed, v)
                    }
                    _ => {}
                }
            });
        }
    }
    if !immutable && kind == Some(StoryKind::FederatedSignIn) {
        for outs in [&report.request, &report.response] {
            for label in ["NameIdentifier", "NameID"] {
                if let Some(v) = find_value(outs, label) {
                    add(What::ImmutableId, v);
                }
            }
        }
    }
    if let Some((_, Some(ns))) = relay(flow) {
        add(What::RelayConnected, &ns);
    }
    if let Some(auth) = header(&flow.request.headers, "authorization")
        && let Some(tok) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
    {
        add(What::TokenUsed, tok);
    }
    let Some((kind, step, mut role)) = classified else {
        // Outside any story, only what others are compared with is kept: a value used here
        // has no story to put its check in.
        values.retain(|v| v.what.counterpart().is_none());
        return (!values.is_empty()).then(|| Facts {
            kind: None,
            step: String::new(),
            role: Role::Aside,
            values,
            failed: None,
        });
    };
    if kind == StoryKind::FederatedSignIn
        && role == Role::Step
        && values
            .iter()
            .any(|v| matches!(v.what, What::AssertionPosted | What::WctxPosted))
    {
        role = Role::End;
    }
    Some(Facts {
        kind: Some(kind),
        step,
        role,
        values,
        failed: failure(flow, report),
    })
}
