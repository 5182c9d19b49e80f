//! Tests of stories: grouping, checks and failed steps over decoded reports.

use super::facts::shown;
use super::*;
use crate::analysis::FlowReport;
use crate::flow::Flow;
use crate::flow::testing::{flow, request, request_with, response};
use idscope_decoders::{Decoded, Finding, Node, Outcome};

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

fn realm(n: u64, what: &str) -> (Flow, FlowReport) {
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
}

/// The sync cycle and the federated sign-in of protocols.md §8.2, as decoded reports.
fn scenario() -> Vec<(Flow, FlowReport)> {
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
                    Node::section("attributes").with_child(Node::field("ImmutableID", immutable)),
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
    assert_eq!(sync.failed_steps(), 0);
}

#[test]
fn token_used_by_soap_is_traced_to_the_token_flow_by_fingerprint() {
    let s = stories(&scenario());
    let checks = &s[0].checks;
    assert_eq!(s[0].count(Verdict::Pass), 2);
    let fp = shown(What::TokenUsed, "eyJ.tok.A");
    assert!(fp.starts_with("sha256:") && fp.len() == 15, "{fp}");
    assert_eq!(
        checks[0].message,
        format!("token presented (#3: {fp}) = token issued (#2: {fp})")
    );
    assert_eq!(checks[0].flows, vec![FlowId(2), FlowId(1)]);
    assert_eq!(checks[0].values.len(), 2);
    let fail = checks.iter().find(|c| c.verdict == Verdict::Fail).unwrap();
    let other = shown(What::TokenUsed, "eyJ.other");
    assert_eq!(
        fail.message,
        format!("token presented (#5: {other}) ≠ token issued (#2: {fp})"),
        "both values, the other one from the latest token response"
    );
    assert!(
        checks.iter().all(|c| !c.message.contains("eyJ")),
        "tokens are never shown in clear"
    );
}

#[test]
fn immutable_id_is_compared_with_the_provisioned_source_anchor() {
    let s = stories(&scenario());
    assert_eq!(s.len(), 3, "a second realm lookup starts a second sign-in");
    let first = &s[1];
    assert_eq!(first.kind, StoryKind::FederatedSignIn);
    assert_eq!(first.checks[0].verdict, Verdict::Pass);
    assert_eq!(
        first.checks[0].message,
        "ImmutableID in the SAML (#7: lHh/rEL830q6) = SourceAnchor provisioned (#4: lHh/rEL830q6)"
    );
    let second = &s[2];
    assert_eq!(second.checks[0].verdict, Verdict::Fail);
    assert_eq!(
        second.checks[0].message,
        "ImmutableID in the SAML (#9: unknown-anchor) ≠ SourceAnchor provisioned (#4: lHh/rEL830q6)"
    );
    assert_eq!(second.checks[0].flows, vec![FlowId(8), FlowId(3)]);
    assert_eq!(
        second.checks[0].values[1],
        Observed {
            what: What::AnchorProvisioned,
            flow: FlowId(3),
            value: "lHh/rEL830q6".into()
        }
    );
}

#[test]
fn a_source_anchor_provisioned_after_the_sign_in_still_matches() {
    let flows = scenario();
    let mut late: Vec<_> = flows[5..7].to_vec();
    late.extend(flows[..5].iter().cloned());
    let s = stories(&late);
    let signin = s
        .iter()
        .find(|s| s.kind == StoryKind::FederatedSignIn)
        .unwrap();
    assert_eq!(signin.checks[0].verdict, Verdict::Pass, "{signin:?}");
}

#[test]
fn a_failed_immutable_id_check_names_at_most_five_source_anchors() {
    let provision = |n: u64| Facts {
        kind: Some(StoryKind::SyncCycle),
        step: "ProvisionAzureADSyncObjects".into(),
        role: Role::Step,
        values: vec![Value {
            what: What::AnchorProvisioned,
            key: n,
            shown: format!("a{n}"),
        }],
        failed: None,
    };
    let signin = Facts {
        kind: Some(StoryKind::FederatedSignIn),
        step: "wresult".into(),
        role: Role::Step,
        values: vec![Value {
            what: What::ImmutableId,
            key: 99,
            shown: "b".into(),
        }],
        failed: None,
    };
    let provisions: Vec<Facts> = (0..8).map(provision).collect();
    let mut facts: Vec<(FlowId, &Facts)> = provisions
        .iter()
        .enumerate()
        .map(|(n, f)| (FlowId(n as u64), f))
        .collect();
    facts.push((FlowId(8), &signin));
    let s = build(facts);
    let check = &s[1].checks[0];
    assert_eq!(check.verdict, Verdict::Fail);
    assert_eq!(
        check.message,
        "ImmutableID in the SAML (#9: b) ≠ any SourceAnchor provisioned \
         (#1: a0; #2: a1; #3: a2; #4: a3; #5: a4 and 3 more)"
    );
    assert_eq!(check.flows.len(), 6);
    assert_eq!(check.values.len(), 6);
}

#[test]
fn the_builder_fed_in_two_passes_gives_what_build_gives() {
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
fn immutable_id_without_any_provisioning_is_unknown_and_shows_the_value() {
    let flows: Vec<_> = scenario().into_iter().skip(5).collect();
    let s = stories(&flows);
    assert_eq!(s[0].checks[0].verdict, Verdict::Unknown);
    assert_eq!(
        s[0].checks[0].message,
        "ImmutableID in the SAML (#7: lHh/rEL830q6): no SourceAnchor provisioned in this \
         capture to compare with"
    );
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
        "nonce sent back (#2: AwABnonce1) = nonce issued (#1: AwABnonce1)"
    );
    assert_eq!(s[0].checks[1].verdict, Verdict::Fail);
    assert_eq!(
        s[0].checks[1].message,
        "nonce sent back (#3: stale) ≠ nonce issued (#1: AwABnonce1)"
    );
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
    assert_eq!(facts.kind, Some(StoryKind::CloudSync));
    assert_eq!(facts.role, Role::Start);
    assert_eq!(facts.step, "GET v2/serviceproviderconfig");
    assert_eq!(facts.values[0].what, What::TokenUsed);
    let s = build([(FlowId(0), &facts)]);
    assert_eq!(
        s[0].checks[0].verdict,
        Verdict::Unknown,
        "no token response in the capture: nothing to compare with"
    );
    assert!(
        s[0].checks[0]
            .message
            .ends_with(": no token issued earlier in this capture to compare with"),
        "{}",
        s[0].checks[0].message
    );
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

#[test]
fn a_token_issued_outside_any_story_is_what_a_later_story_compares_with() {
    // A client credentials grant is no step of a recognised sequence, but the SCIM calls use
    // its token.
    let grant = (
        f(
            0,
            "POST",
            "https://login.microsoftonline.com/t/oauth2/token",
        ),
        report(
            0,
            vec![outcome(
                "oauth",
                "client credentials",
                Node::section("form")
                    .with_child(Node::field("grant_type", "client_credentials"))
                    .with_child(Node::field("request_nonce", "never checked here")),
            )],
            vec![outcome(
                "oauth",
                "token",
                Node::section("token").with_child(Node::secret("access_token", "tokS")),
            )],
        ),
    );
    let got = facts(&grant.0, &grant.1).unwrap();
    assert_eq!(got.kind, None);
    assert_eq!(
        got.values.iter().map(|v| v.what).collect::<Vec<_>>(),
        [What::TokenIssued],
        "only what others compare with"
    );
    let req = request_with(
        "GET",
        "https://scim.example/scim/v2/ServiceProviderConfig",
        &[("Authorization", "Bearer tokS")],
    );
    let scim = (
        flow(1, req, response(200, "application/scim+json", b"{}")),
        report(
            1,
            vec![],
            vec![outcome("scim", "config", Node::section("scim"))],
        ),
    );
    let s = stories(&[grant, scim]);
    assert_eq!(s.len(), 1, "the grant makes no story of its own");
    assert_eq!(s[0].steps.len(), 1);
    assert_eq!(s[0].checks[0].verdict, Verdict::Pass);
    assert_eq!(s[0].checks[0].flows, vec![FlowId(1), FlowId(0)]);
}

const WCTX: &str =
    "LoginOptions=3&estsredirect=2&estsrequest=rQQIARAAhVK9b9NAFHfSNE2jAhUTYuqAhITk9M53tu8";
/// What the decoders show of any `wctx` this long: the same for every value that starts alike.
const SHORTENED: &str = "LoginOptions=3&estsredirect=2&estsrequest=rQQIARAAhVK9b9NAFH… (+30 chars)";

fn encoded(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn adfs_ls() -> String {
    format!(
        "https://sts.contoso.test/adfs/ls/?wa=wsignin1.0&wctx={}",
        encoded(WCTX)
    )
}

fn wsfed_node(label: &str, assertion: Option<&str>) -> Node {
    let mut n = Node::section(label).with_child(Node::field("wctx", SHORTENED));
    if let Some(id) = assertion {
        n.push(Node::field("wresult", "4876 chars"));
        n.push(
            Node::section("saml:Assertion")
                .with_child(Node::field("AssertionID", id))
                .with_child(Node::field("ImmutableID", "lHh/rEL830q6/mStDnD4uw==")),
        );
    }
    n
}

/// A browser's federated sign-in: realm, the ADFS login page, a wrong password (the login
/// page again, with an error finding), the right one (the auto-POST page, returning
/// `wctx_back`), the token POST to login.srf (posting `wctx_back` and the assertion `posted`),
/// with the decoders' reports; the decoded trees show every `wctx` shortened alike, the
/// messages hold the whole values.
fn browser_signin(posted: &str, wctx_back: &str) -> Vec<(Flow, FlowReport)> {
    let get = (
        f(1, "GET", &adfs_ls()),
        report(
            1,
            vec![outcome(
                "wsfed",
                "WS-Fed sign-in → sts.contoso.test",
                wsfed_node("WS-Fed sign-in request", None),
            )],
            vec![],
        ),
    );
    let forms = |n: u64, back: Option<&str>| {
        let mut resp = vec![];
        let mut page = b"<html><form><input name=\"UserName\"/></form></html>".to_vec();
        if let Some(id) = back {
            resp.push(outcome(
                "wsfed",
                "ADFS auto-POST",
                wsfed_node("ADFS auto-POST page", Some(id)),
            ));
            page = format!(
                "<html><form method=\"POST\" action=\"https://login.microsoftonline.com/login.srf\">\
                 <input type=\"hidden\" name=\"wresult\" value=\"&lt;t:RSTR/&gt;\" />\
                 <input type=\"hidden\" name=\"wctx\" value=\"{}\" /></form></html>",
                wctx_back.replace('&', "&amp;")
            )
            .into_bytes();
        } else {
            let mut d = Decoded::new("html", "login page", Node::section("page"));
            d.findings.push(Finding::error(
                "the sign-in failed: Incorrect user ID or password",
            ));
            resp.push(Outcome {
                decoder: "html",
                priority: 0.5,
                result: Ok(d),
            });
        }
        (
            flow(
                n,
                request("POST", &adfs_ls()),
                response(200, "text/html", &page),
            ),
            report(
                n,
                vec![outcome(
                    "wsfed",
                    "ADFS forms login at sts.contoso.test for alice@contoso.test",
                    wsfed_node("ADFS forms sign-in", None),
                )],
                resp,
            ),
        )
    };
    let mut token_post = request("POST", "https://login.microsoftonline.com/login.srf");
    token_post.body = crate::flow::Body::plain(
        format!("wa=wsignin1.0&wresult=x&wctx={}", encoded(wctx_back)).into_bytes(),
    );
    let post = (
        flow(4, token_post, response(302, "text/html", b"")),
        report(
            4,
            vec![outcome(
                "wsfed",
                "WS-Fed token POST to login.microsoftonline.com/login.srf",
                wsfed_node("WS-Fed token POST", Some(posted)),
            )],
            vec![],
        ),
    );
    vec![
        realm(0, "Federated"),
        get,
        forms(2, None),
        forms(3, Some("_cfa5fa4c-0c7c-4410-8d64-51786d6b5500")),
        post,
    ]
}

#[test]
fn a_browser_sign_in_checks_wctx_and_the_token_it_posts() {
    let s = stories(&browser_signin(
        "_cfa5fa4c-0c7c-4410-8d64-51786d6b5500",
        WCTX,
    ));
    assert_eq!(s.len(), 1);
    let story = &s[0];
    assert_eq!(story.steps.len(), 5);
    let messages: Vec<(Verdict, &str)> = story
        .checks
        .iter()
        .map(|c| (c.verdict, c.message.as_str()))
        .collect();
    let shown_wctx = shown(What::WctxSent, WCTX);
    assert!(
        shown_wctx.starts_with("LoginOptions=3&estsredirect…"),
        "{shown_wctx}"
    );
    assert!(shown_wctx.ends_with("…AhITk9M53tu8"), "{shown_wctx}");
    assert_eq!(
        messages,
        [
            (
                Verdict::Pass,
                format!(
                    "wctx in the STS's auto-POST (#4: {shown_wctx}) = wctx sent to the STS (#2: {shown_wctx})"
                )
                .as_str()
            ),
            (
                Verdict::Unknown,
                "ImmutableID in the SAML (#4: lHh/rEL830q6/mStDnD4uw==): no SourceAnchor \
                 provisioned in this capture to compare with"
            ),
            (
                Verdict::Pass,
                format!(
                    "wctx posted with the token (#5: {shown_wctx}) = wctx sent to the STS (#2: {shown_wctx})"
                )
                .as_str()
            ),
            (
                Verdict::Pass,
                "assertion posted (#5: _cfa5fa4c-0c7c-4410-8d64-51786d6b5500) = assertion \
                 the STS issued (#4: _cfa5fa4c-0c7c-4410-8d64-51786d6b5500)"
            ),
        ]
    );
}

#[test]
fn the_failed_attempt_is_marked_with_its_reason() {
    let s = stories(&browser_signin("_x", WCTX));
    let steps = &s[0].steps;
    assert_eq!(
        steps[2].failed.as_deref(),
        Some("the sign-in failed: Incorrect user ID or password")
    );
    assert_eq!(steps[3].failed, None);
    assert_eq!(s[0].failed_steps(), 1);
}

#[test]
fn a_token_the_sts_did_not_issue_and_a_changed_wctx_fail_with_both_values() {
    // The other context starts as the sent one does: only the whole values tell them apart.
    let back = format!("{WCTX}-changed");
    let s = stories(&browser_signin("_forged", &back));
    let fails: Vec<&str> = s[0]
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.message.as_str())
        .collect();
    let sent = shown(What::WctxSent, WCTX);
    let back = shown(What::WctxSent, &back);
    assert_ne!(sent, back);
    assert_eq!(
        fails,
        [
            format!("wctx in the STS's auto-POST (#4: {back}) ≠ wctx sent to the STS (#4: {sent})")
                .as_str(),
            format!("wctx posted with the token (#5: {back}) ≠ wctx sent to the STS (#4: {sent})")
                .as_str(),
            "assertion posted (#5: _forged) ≠ assertion the STS issued (#4: \
             _cfa5fa4c-0c7c-4410-8d64-51786d6b5500)",
        ]
    );
}

#[test]
fn failures_name_the_http_status_and_the_error_finding() {
    let mut fl = f(0, "POST", "https://login.microsoftonline.com/login.srf");
    let bare = report(0, vec![], vec![]);
    assert_eq!(facts(&fl, &bare).unwrap().failed, None);
    if let crate::flow::Outcome::Response(r) = &mut fl.outcome {
        r.status = 400;
    }
    let facts400 = facts(&fl, &bare).unwrap();
    assert_eq!(facts400.step, "token POST to login.srf");
    assert_eq!(facts400.role, Role::End);
    assert_eq!(facts400.failed.as_deref(), Some("HTTP 400 Bad Request"));
    let mut d = Decoded::new("aadsts", "error page", Node::section("page"));
    d.findings.push(Finding::warning("not this"));
    d.findings
        .push(Finding::error("AADSTS50034: the user does not exist"));
    let explained = FlowReport {
        response: vec![Outcome {
            decoder: "aadsts",
            priority: 1.0,
            result: Ok(d),
        }],
        ..bare.clone()
    };
    assert_eq!(
        facts(&fl, &explained).unwrap().failed.as_deref(),
        Some("HTTP 400: AADSTS50034: the user does not exist")
    );
    // An error finding about the request alone is no failure of a step the server accepted.
    let mut q = Decoded::new("wstrust", "RST", Node::section("rst"));
    q.findings
        .push(Finding::error("the WS-Security Timestamp expired"));
    let ok = f(
        1,
        "GET",
        "https://sts.contoso.test/adfs/ls/?client-request-id=1",
    );
    let request_only = FlowReport {
        id: FlowId(1),
        request: vec![Outcome {
            decoder: "wstrust",
            priority: 1.0,
            result: Ok(q),
        }],
        response: vec![],
        flow_findings: vec![],
    };
    let got = facts(&ok, &request_only).unwrap();
    assert_eq!(got.failed, None);
}

#[test]
fn adfs_pages_and_the_login_srf_post_are_steps_even_when_no_decoder_knows_them() {
    let none = |n| report(n, vec![], vec![]);
    let page = f(
        0,
        "GET",
        "https://sts.contoso.test/adfs/ls/?client-request-id=1",
    );
    let got = facts(&page, &none(0)).unwrap();
    assert_eq!(
        (got.kind, got.step.as_str(), got.role),
        (
            Some(StoryKind::FederatedSignIn),
            "ADFS sign-in page",
            Role::Step
        )
    );
    let post = f(1, "POST", "https://sts.contoso.test/adfs/ls/");
    assert_eq!(facts(&post, &none(1)).unwrap().step, "ADFS sign-in POST");
    let other = f(2, "GET", "https://login.microsoftonline.com/login.srf");
    assert_eq!(
        facts(&other, &none(2)),
        None,
        "only the POST carries a token"
    );
}

#[test]
fn a_new_sign_in_after_a_successful_token_post_is_a_new_story() {
    let mut flows = browser_signin("_cfa5fa4c-0c7c-4410-8d64-51786d6b5500", WCTX);
    // Federation metadata fetched afterwards joins the finished sign-in.
    let md = (
        f(
            5,
            "GET",
            "https://sts.contoso.test/FederationMetadata/2007-06/FederationMetadata.xml",
        ),
        report(
            5,
            vec![],
            vec![outcome(
                "fedmetadata",
                "FederationMetadata",
                Node::section("md"),
            )],
        ),
    );
    flows.push(md);
    // The same browser signs in again without a realm lookup.
    let again: Vec<_> = browser_signin("_cfa5fa4c-0c7c-4410-8d64-51786d6b5500", WCTX)
        .into_iter()
        .skip(1)
        .map(|(mut fl, mut r)| {
            fl.id = FlowId(fl.id.0 + 10);
            r.id = fl.id;
            (fl, r)
        })
        .collect();
    flows.extend(again);
    let s = stories(&flows);
    assert_eq!(s.len(), 2, "{s:?}");
    assert_eq!(s[0].steps.len(), 6);
    assert_eq!(s[1].steps[0].id, FlowId(11));
    // A failed token POST does not end the story: the retry belongs to it.
    let mut failed = browser_signin("_cfa5fa4c-0c7c-4410-8d64-51786d6b5500", WCTX);
    if let crate::flow::Outcome::Response(r) = &mut failed[4].0.outcome {
        r.status = 400;
    }
    let retry = browser_signin("_cfa5fa4c-0c7c-4410-8d64-51786d6b5500", WCTX)
        .into_iter()
        .skip(3)
        .map(|(mut fl, mut r)| {
            fl.id = FlowId(fl.id.0 + 10);
            r.id = fl.id;
            (fl, r)
        });
    failed.extend(retry);
    let s = stories(&failed);
    assert_eq!(s.len(), 1, "{s:?}");
    assert_eq!(
        s[0].steps[4].failed.as_deref(),
        Some("HTTP 400 Bad Request")
    );
}

/// A client-credentials request of Entra Connect Sync with application identity whose client
/// assertion has the `jti` given (its signature is not checked here), decoded by the builtin
/// decoders.
fn app_token_flow(n: u64, jti: &str) -> (Flow, FlowReport) {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let tenant = "4d3c2b1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    let url = format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token");
    let client = "0f5a7c3e-9b1d-4e2a-8c6f-1d3e5a7b9c0d";
    let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let assertion = format!(
        "{}.{}.AAAA",
        enc(serde_json::json!({"alg": "PS256", "x5t#S256": URL_SAFE_NO_PAD.encode([3u8; 32])})),
        enc(
            serde_json::json!({"aud": url, "iss": client, "sub": client, "jti": jti,
                               "iat": 1_700_000_000, "exp": 1_700_000_600})
        )
    );
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client),
            ("scope", "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016/.default"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
            ("grant_type", "client_credentials"),
        ])
        .finish();
    let mut req = request_with(
        "POST",
        &url,
        &[("content-type", "application/x-www-form-urlencoded")],
    );
    req.body = crate::flow::Body::plain(body.into_bytes());
    let fl = flow(
        n,
        req,
        response(
            200,
            "application/json",
            br#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.app.A"}"#,
        ),
    );
    let r = crate::analysis::decode_flow(
        &fl,
        idscope_decoders::Registry::builtin(),
        &idscope_decoders::Trust::default(),
        idscope_decoders::Limits::default(),
    );
    (fl, r)
}

#[test]
fn connect_sync_with_application_identity_starts_its_cycle_with_client_credentials() {
    let s = stories(&[app_token_flow(0, "jti-1")]);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].kind, StoryKind::SyncCycle);
    assert_eq!(
        s[0].steps[0].label,
        "token (client credentials, certificate)"
    );
    assert_eq!(s[0].checks.len(), 1);
    assert_eq!(s[0].checks[0].verdict, Verdict::Pass);
    assert_eq!(
        s[0].checks[0].message,
        "client assertion jti (#1: jti-1) not sent before in this capture"
    );
}

#[test]
fn a_client_assertion_jti_sent_again_fails_its_check_naming_both_flows() {
    let s = stories(&[
        app_token_flow(0, "jti-1"),
        app_token_flow(1, "jti-2"),
        app_token_flow(2, "jti-1"),
    ]);
    // Each token starts a cycle of its own.
    assert_eq!(s.len(), 3);
    assert!(s[1].checks.iter().all(|c| c.verdict == Verdict::Pass));
    let reused = &s[2].checks[0];
    assert_eq!(reused.verdict, Verdict::Fail);
    assert!(
        reused.message.starts_with(
            "client assertion jti (#3: jti-1) = client assertion jti (#1: jti-1): the same jti \
             again"
        ),
        "{}",
        reused.message
    );
    assert_eq!(reused.flows, vec![FlowId(2), FlowId(0)]);
}

const AGENT_ID: &str = "0ea97280-4738-498d-b18a-3790e4886e62";

/// A connector agent's life as decoded reports: registration issuing `issued`, a bootstrap
/// declaring `declared` and announcing `his-eur1-weur1`, and relay WebSockets to `relays`.
fn agent_life(issued: &str, declared: &str, relays: &[(&str, &str)]) -> Vec<(Flow, FlowReport)> {
    let host = "https://t.registration.msappproxy.net";
    let cert = Node::section("Certificate").with_child(Node::field("agent id", issued));
    let mut out = vec![
        (
            f(0, "POST", &format!("{host}/register/RegisterConnector")),
            report(
                0,
                vec![outcome(
                    "agent",
                    "agent registration",
                    Node::section("RegistrationRequest")
                        .with_child(Node::secret("AuthenticationToken", "eyJ.reg.A"))
                        .with_child(Node::field("FeatureString", "SyncFabric")),
                )],
                vec![outcome("agent", "agent registration: certificate", cert)],
            ),
        ),
        (
            f(
                1,
                "POST",
                "https://t.bootstrap.msappproxy.net/ConnectorBootstrap",
            ),
            report(
                1,
                vec![outcome(
                    "agent",
                    "agent bootstrap",
                    Node::section("BootstrapRequest")
                        .with_child(Node::field("ConnectorId", declared)),
                )],
                vec![outcome(
                    "agent",
                    "agent bootstrap: 1 relay endpoint(s)",
                    Node::section("BootstrapResponse").with_child(
                        Node::section("SignalingListenerEndpointSettings")
                            .with_child(Node::field("Namespace", "his-eur1-weur1")),
                    ),
                )],
            ),
        ),
    ];
    for (i, (url, protocol)) in relays.iter().enumerate() {
        let n = 2 + i as u64;
        let req = request_with("GET", url, &[("Sec-WebSocket-Protocol", protocol)]);
        out.push((
            flow(n, req, response(101, "text/plain", b"")),
            report(n, vec![], vec![]),
        ));
    }
    out
}

#[test]
fn an_agent_story_links_registration_bootstrap_and_relay_with_its_checks() {
    let s = stories(&agent_life(
        AGENT_ID,
        AGENT_ID,
        &[
            (
                "https://his-eur1-weur1.servicebus.windows.net/$servicebus/websocket",
                "wsrelayedamqp",
            ),
            (
                "https://g3-prod-am3.servicebus.windows.net/$servicebus/websocket",
                "wsrelayedconnection",
            ),
        ],
    ));
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].kind, StoryKind::Agent);
    let steps: Vec<&str> = s[0].steps.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(
        steps,
        [
            "registration (SyncFabric)",
            "bootstrap",
            "relay listener (wsrelayedamqp)",
            "relay rendezvous (wsrelayedconnection)"
        ]
    );
    let messages: Vec<&str> = s[0].checks.iter().map(|c| c.message.as_str()).collect();
    assert!(messages.contains(&format!(
        "connector id bootstrapped with (#2: {AGENT_ID}) = agent id in the issued certificate (#1: {AGENT_ID})"
    ).as_str()), "{messages:#?}");
    assert!(messages.contains(
        &"relay namespace connected to (#3: his-eur1-weur1) = relay namespace the bootstrap announced (#2: his-eur1-weur1)"
    ), "{messages:#?}");
    // The token inside the registration body is a token presented, shown by fingerprint.
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("token presented (#1: sha256:")),
        "{messages:#?}"
    );
}

#[test]
fn an_agent_bootstrapping_as_another_agent_or_a_relay_not_announced_fails_its_checks() {
    let other = "11111111-2222-3333-4444-555555555555";
    let s = stories(&agent_life(
        AGENT_ID,
        other,
        &[(
            "https://his-eur1-neur1.servicebus.windows.net/$hc/x?sb-hc-action=listen",
            "",
        )],
    ));
    assert_eq!(s.len(), 1);
    let failed: Vec<&Check> = s[0]
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .collect();
    assert_eq!(failed.len(), 2, "{:#?}", s[0].checks);
    assert!(
        failed[0]
            .message
            .starts_with(&format!("connector id bootstrapped with (#2: {other}) ≠"))
    );
    assert_eq!(
        failed[1].message,
        "relay namespace connected to (#3: his-eur1-neur1) ≠ relay namespace the bootstrap announced (#2: his-eur1-weur1)"
    );
    assert_eq!(s[0].steps[2].label, "relay hybrid connection ($hc)");
}

#[test]
fn a_relay_tunnel_the_proxy_did_not_open_is_a_step_without_a_namespace_check() {
    let mut flows = agent_life(AGENT_ID, AGENT_ID, &[]);
    let tunnel = request("CONNECT", "https://g3-prod-am3.servicebus.windows.net:443");
    flows.push((
        flow(5, tunnel, response(200, "text/plain", b"")),
        report(5, vec![], vec![]),
    ));
    let s = stories(&flows);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].steps[2].label, "relay tunnel (CONNECT, not decrypted)");
    assert!(
        s[0].checks.iter().all(|c| c.verdict != Verdict::Fail),
        "{:#?}",
        s[0].checks
    );
    assert!(
        !s[0]
            .checks
            .iter()
            .any(|c| c.message.contains("relay namespace"))
    );
}

#[test]
fn a_new_registration_begins_a_new_agent_story_and_other_servicebus_traffic_is_no_step() {
    let mut flows = agent_life(AGENT_ID, AGENT_ID, &[]);
    let again: Vec<(Flow, FlowReport)> = agent_life(AGENT_ID, AGENT_ID, &[])
        .into_iter()
        .map(|(mut fl, mut r)| {
            fl.id = FlowId(fl.id.0 + 10);
            r.id = fl.id;
            (fl, r)
        })
        .collect();
    flows.extend(again);
    flows.push((
        f(
            30,
            "POST",
            "https://ns.servicebus.windows.net/queue/messages",
        ),
        report(30, vec![], vec![]),
    ));
    let s = stories(&flows);
    assert_eq!(s.len(), 2);
    assert!(
        s.iter()
            .all(|x| x.kind == StoryKind::Agent && x.steps.len() == 2)
    );
}
