use super::*;
use crate::analysis::story::{Check, Observed, Step, StoryKind, What};
use idscope_decoders::Limits;
use idscope_decoders::xml::{Document, NodeId};
use proptest::prelude::*;

fn step(n: u64, label: &str, failed: Option<&str>) -> Step {
    Step {
        id: FlowId(n),
        label: label.into(),
        failed: failed.map(str::to_string),
    }
}

fn flow(
    method: &str,
    host: &str,
    path: &str,
    status: Option<u16>,
    kinds: &[&'static str],
) -> StepFlow {
    StepFlow {
        method: method.into(),
        host: host.into(),
        path: path.into(),
        status,
        error: status.is_none(),
        kinds: kinds.to_vec(),
    }
}

/// The demo's federated sign-in: realm, WS-Fed sign-in at ADFS, a failed forms login, the
/// token posted to Entra ID. Flows are #1, #2, #3, #4.
fn federated() -> (Story, Vec<StepFlow>) {
    let story = Story {
        kind: StoryKind::FederatedSignIn,
        steps: vec![
            step(0, "realm (Federated)", None),
            step(1, "ADFS WS-Fed sign-in", None),
            step(
                2,
                "ADFS forms login at sts.contoso.test for alice@contoso.test",
                Some("the sign-in failed: Incorrect user ID or password"),
            ),
            step(3, "token posted to login.srf", None),
        ],
        checks: vec![],
    };
    let flows = vec![
        flow(
            "GET",
            "login.microsoftonline.com",
            "/common/userrealm/alice@contoso.test?api-version=2.1",
            Some(200),
            &["realm", "json"],
        ),
        flow(
            "GET",
            "sts.contoso.test",
            "/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline",
            Some(200),
            &["wsfed"],
        ),
        flow(
            "POST",
            "sts.contoso.test",
            "/adfs/ls/?wa=wsignin1.0",
            Some(200),
            &["form", "signin"],
        ),
        flow(
            "POST",
            "login.microsoftonline.com",
            "/login.srf",
            Some(302),
            &["wsfed", "saml"],
        ),
    ];
    (story, flows)
}

fn section(index: usize, story: &Story, flows: &[StepFlow]) -> String {
    story_section(index, story, &|id: FlowId| {
        flows.get(id.0 as usize).cloned()
    })
}

/// Parses the section strictly as XML, failing the test when it is not well-formed.
fn parse(html: &str) -> Document<'_> {
    match Document::parse(html, &Limits::default()) {
        Ok(d) => d,
        Err(e) => panic!("not well-formed XML: {e}\n{html}"),
    }
}

fn elements_with_class(doc: &Document<'_>, name: &str, class: &str) -> Vec<NodeId> {
    doc.elements()
        .filter(|&e| doc.local_name(e) == name)
        .filter(|&e| {
            doc.attribute(e, "class")
                .is_some_and(|c| c.split(' ').any(|w| w == class))
        })
        .collect()
}

fn no_style_attribute(doc: &Document<'_>) -> bool {
    doc.elements().all(|e| {
        doc.attributes(e)
            .all(|a| !a.qname.eq_ignore_ascii_case("style"))
    })
}

#[test]
fn a_federated_sign_in_has_four_steps_in_client_entra_adfs_lanes_and_its_failure_in_red() {
    let (story, flows) = federated();
    let html = section(2, &story, &flows);
    let doc = parse(&html);
    let root = doc.root().unwrap();
    assert_eq!(doc.attribute(root, "id"), Some("story-2"));
    assert_eq!(doc.attribute(root, "data-story"), Some("federated sign-in"));
    let steps = elements_with_class(&doc, "g", "step");
    assert_eq!(steps.len(), 4);
    let flows_drawn: Vec<&str> = steps
        .iter()
        .filter_map(|&g| doc.attribute(g, "data-flow"))
        .collect();
    assert_eq!(flows_drawn, ["1", "2", "3", "4"]);
    let lanes: Vec<&str> = elements_with_class(&doc, "g", "lane")
        .iter()
        .filter_map(|&g| doc.attribute(g, "data-party"))
        .collect();
    assert_eq!(lanes, ["client", "Entra ID", "ADFS"]);

    let failed = elements_with_class(&doc, "g", "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(doc.attribute(failed[0], "data-flow"), Some("3"));
    let text = doc.text_content(failed[0]);
    assert!(text.contains("Incorrect user ID or password"), "{text}");
    let title = doc
        .child_elements(failed[0])
        .find(|&c| doc.local_name(c) == "title")
        .map(|t| doc.text_content(t))
        .unwrap();
    assert!(
        title.contains("the sign-in failed: Incorrect user ID or password"),
        "{title}"
    );
    let reason = elements_with_class(&doc, "text", "reason");
    assert_eq!(reason.len(), 1);
    assert_eq!(doc.attribute(reason[0], "fill"), Some("#cf222e"));
    for &ok in &steps {
        if ok != failed[0] {
            assert_eq!(doc.attribute(ok, "class"), Some("step ok"));
        }
    }

    // Each step names its flow, method and path, and its label and response; a long path is
    // shortened by display width, keeping its end, and is whole in the title.
    let first = doc.text_content(steps[0]);
    assert!(first.contains("realm (Federated)"), "{first}");
    assert!(
        first.contains(
            "#1 GET login.microsoftonline.com/common/userrealm/alice@contoso.test?api-version=2.1"
        ),
        "{first}"
    );
    let req: Vec<String> = elements_with_class(&doc, "text", "request-label")
        .iter()
        .map(|&t| doc.text_content(t))
        .collect();
    assert_eq!(req[0], "#1 GET /common/userre…/alice@contoso.test");
    assert_eq!(req[3], "#4 POST /login.srf");
    let resp: Vec<String> = elements_with_class(&doc, "text", "response-label")
        .iter()
        .map(|&t| doc.text_content(t))
        .collect();
    assert_eq!(resp, ["200", "200", "200", "302"]);
    let h3 = doc.elements().find(|&e| doc.local_name(e) == "h3").unwrap();
    assert_eq!(
        doc.text_content(h3),
        "federated sign-in 4 steps (#1–#4, 1 failed); no checks apply"
    );
    assert!(no_style_attribute(&doc));
    assert!(!html.contains("style="));
}

#[test]
fn the_request_goes_to_the_party_lane_and_the_response_comes_back_dashed() {
    let (story, flows) = federated();
    let html = section(0, &story, &flows);
    let doc = parse(&html);
    let x = |g: NodeId, class: &str, attr: &str| -> u32 {
        let line = doc
            .child_elements(g)
            .find(|&c| doc.attribute(c, "class") == Some(class))
            .unwrap();
        doc.attribute(line, attr).unwrap().parse().unwrap()
    };
    let lane_x: Vec<u32> = elements_with_class(&doc, "line", "lifeline")
        .iter()
        .map(|&l| doc.attribute(l, "x1").unwrap().parse().unwrap())
        .collect();
    let steps = elements_with_class(&doc, "g", "step");
    // #2 goes to ADFS (the third lane); #4 to Entra ID (the second).
    assert_eq!(x(steps[1], "request", "x1"), lane_x[0]);
    assert_eq!(x(steps[1], "request", "x2"), lane_x[2]);
    assert_eq!(x(steps[1], "response", "x1"), lane_x[2]);
    assert_eq!(x(steps[3], "request", "x2"), lane_x[1]);
    let response = elements_with_class(&doc, "line", "response");
    assert!(
        response
            .iter()
            .all(|&l| doc.attribute(l, "stroke-dasharray").is_some())
    );
    let request = elements_with_class(&doc, "line", "request");
    assert!(
        request
            .iter()
            .all(|&l| doc.attribute(l, "stroke-dasharray").is_none())
    );
}

#[test]
fn size_follows_the_lanes_and_the_steps() {
    let (story, flows) = federated();
    let size = |html: &str| -> (u32, u32) {
        let doc = parse(html);
        let svg = doc
            .elements()
            .find(|&e| doc.local_name(e) == "svg")
            .unwrap();
        let get = |a| doc.attribute(svg, a).unwrap().parse().unwrap();
        let (w, h) = (get("width"), get("height"));
        assert_eq!(
            doc.attribute(svg, "viewBox"),
            Some(format!("0 0 {w} {h}").as_str())
        );
        (w, h)
    };
    let (w4, h4) = size(&section(0, &story, &flows));
    let two = Story {
        steps: story.steps[..2].to_vec(),
        ..story.clone()
    };
    let (w2, h2) = size(&section(0, &two, &flows));
    assert_eq!(w2, w4, "both stories have three lanes");
    assert!(h2 < h4);
    let one_lane = Story {
        steps: story.steps[..1].to_vec(),
        ..story.clone()
    };
    let (w1, _) = size(&section(0, &one_lane, &flows));
    assert!(w1 < w2);
}

#[test]
fn checks_carry_their_verdict_class_mark_values_and_flows() {
    let (mut story, flows) = federated();
    let observed = |flow, value: &str| Observed {
        what: What::WctxSent,
        flow: FlowId(flow),
        value: value.into(),
    };
    story.checks = vec![
        Check {
            verdict: Verdict::Pass,
            message: "wctx posted with the token (#4: abc) = wctx sent to the STS (#2: abc)".into(),
            values: vec![observed(3, "abc"), observed(1, "abc")],
            flows: vec![FlowId(3), FlowId(1)],
        },
        Check {
            verdict: Verdict::Fail,
            message: "ImmutableID in the SAML (#4: AAEC) ≠ SourceAnchor provisioned".into(),
            values: vec![observed(3, "AAEC")],
            flows: vec![FlowId(3)],
        },
        Check {
            verdict: Verdict::Unknown,
            message: "token presented not sent before in this capture".into(),
            values: vec![],
            flows: vec![FlowId(2)],
        },
    ];
    let html = section(0, &story, &flows);
    let doc = parse(&html);
    let checks: Vec<(String, String, String)> = elements_with_class(&doc, "li", "check")
        .iter()
        .map(|&li| {
            (
                doc.attribute(li, "class").unwrap().to_string(),
                doc.attribute(li, "data-flows").unwrap().to_string(),
                doc.text_content(li),
            )
        })
        .collect();
    assert_eq!(checks[0].0, "check pass");
    assert_eq!(checks[0].1, "4 2");
    assert!(
        checks[0].2.starts_with("✓ wctx posted with the token"),
        "{}",
        checks[0].2
    );
    assert_eq!(checks[1].0, "check fail");
    assert!(checks[1].2.starts_with("✗ ImmutableID"));
    assert_eq!(checks[2].0, "check undecided");
    assert_eq!(checks[2].1, "3");
    assert!(checks[2].2.starts_with("? token presented"));
    let values: Vec<(&str, String)> = elements_with_class(&doc, "li", "value")
        .iter()
        .map(|&li| {
            (
                doc.attribute(li, "data-flow").unwrap(),
                doc.text_content(li),
            )
        })
        .collect();
    assert_eq!(
        values[0],
        ("4", "wctx sent to the STS (#4: abc)".to_string())
    );
    assert_eq!(values.len(), 3);
    let h3 = doc.elements().find(|&e| doc.local_name(e) == "h3").unwrap();
    assert!(doc.text_content(h3).ends_with("checks: 1 ✓, 1 ✗, 1 ?"));
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let hostile = "<script>alert(\"x\")</script>' onload='x";
    let story = Story {
        kind: StoryKind::CloudSync,
        steps: vec![step(0, hostile, Some(hostile)), step(1, "ok", None)],
        checks: vec![Check {
            verdict: Verdict::Fail,
            message: hostile.into(),
            values: vec![Observed {
                what: What::TokenUsed,
                flow: FlowId(0),
                value: hostile.into(),
            }],
            flows: vec![FlowId(0)],
        }],
    };
    let flows = vec![
        flow(
            "<script>",
            "\"><script>x</script>.example",
            "/<script>?a=\"'&b",
            None,
            &["scim"],
        ),
        flow("GET", "a\u{1}b.example\"", "/x\u{7}", Some(200), &[]),
    ];
    let html = section(0, &story, &flows);
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(!html.contains("style="));
    assert!(!html.contains('\u{1}') && !html.contains('\u{7}'));
    let doc = parse(&html);
    assert!(no_style_attribute(&doc));
    // The text survives, as text.
    let steps = elements_with_class(&doc, "g", "step");
    assert!(
        doc.text_content(steps[0])
            .contains("<script>alert(\"x\")</script>")
    );
    let lanes: Vec<&str> = elements_with_class(&doc, "g", "lane")
        .iter()
        .filter_map(|&g| doc.attribute(g, "data-party"))
        .collect();
    assert_eq!(lanes, ["client", "SCIM", "a\u{fffd}b.example\""]);
    // No attribute but the ones written here: the hostile quotes did not open new ones.
    let allowed = [
        "class",
        "id",
        "data-story",
        "data-party",
        "data-flow",
        "data-flows",
        "xmlns",
        "viewBox",
        "width",
        "height",
        "role",
        "aria-label",
        "font-family",
        "font-size",
        "font-weight",
        "fill",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "rx",
        "points",
        "text-anchor",
    ];
    for e in doc.elements() {
        for a in doc.attributes(e) {
            assert!(
                allowed.contains(&a.qname),
                "unexpected attribute {}",
                a.qname
            );
        }
    }
}

#[test]
fn a_step_whose_flow_is_unknown_is_drawn_in_an_unknown_lane() {
    let (story, mut flows) = federated();
    flows.truncate(2);
    let html = section(0, &story, &flows);
    let doc = parse(&html);
    let steps = elements_with_class(&doc, "g", "step");
    assert_eq!(steps.len(), 4);
    let lanes: Vec<&str> = elements_with_class(&doc, "g", "lane")
        .iter()
        .filter_map(|&g| doc.attribute(g, "data-party"))
        .collect();
    assert_eq!(lanes, ["client", "Entra ID", "ADFS", "unknown"]);
    let last = doc.text_content(steps[3]);
    assert!(last.contains("#4 ?"), "{last}");
    assert!(last.contains("not in this report"), "{last}");
}

#[test]
fn a_very_long_story_draws_its_failures_and_says_what_it_left_out() {
    let n = STEPS_DRAWN + 500;
    let mut steps: Vec<Step> = (0..n as u64).map(|i| step(i, "AddObjects", None)).collect();
    steps[n - 1].failed = Some("HTTP 500".into());
    let story = Story {
        kind: StoryKind::SyncCycle,
        steps,
        checks: vec![],
    };
    let flows = vec![
        flow(
            "POST",
            "adminwebservice.microsoftonline.com",
            "/provisioningservice.svc",
            Some(200),
            &["soap"]
        );
        n
    ];
    let html = section(0, &story, &flows);
    assert_eq!(html.matches("<g class=\"step ").count(), STEPS_DRAWN);
    assert_eq!(html.matches("<g class=\"step failed\"").count(), 1);
    assert!(html.contains(&format!("data-flow=\"{n}\"")));
    assert!(html.contains("… 500 steps not drawn"));
    assert!(!html.contains("style="));
}

#[test]
fn parties_past_the_lane_limit_share_the_last_lane() {
    let n = 20;
    let story = Story {
        kind: StoryKind::PrtSso,
        steps: (0..n).map(|i| step(i, "call", None)).collect(),
        checks: vec![],
    };
    let flows: Vec<StepFlow> = (0..n)
        .map(|i| flow("GET", &format!("h{i}.example"), "/", Some(200), &[]))
        .collect();
    let html = section(0, &story, &flows);
    let doc = parse(&html);
    let lanes: Vec<&str> = elements_with_class(&doc, "g", "lane")
        .iter()
        .filter_map(|&g| doc.attribute(g, "data-party"))
        .collect();
    assert_eq!(lanes.len(), 12);
    assert_eq!(lanes[1], "h0.example");
    assert_eq!(lanes[10], "h9.example");
    assert_eq!(lanes[11], "other hosts");
    assert_eq!(elements_with_class(&doc, "g", "step").len(), n as usize);
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        any::<String>(),
        "[<>&\"' a-z\\u{1}\\u{fffe}漢字🙂]{0,20}",
    ]
}

fn arb_flow() -> impl Strategy<Value = Option<StepFlow>> {
    let host = prop_oneof![
        Just("login.microsoftonline.com".to_string()),
        Just("sts.contoso.test".to_string()),
        Just("scim.fixture.test".to_string()),
        Just(String::new()),
        arb_text(),
    ];
    let kinds = proptest::sample::subsequence(
        vec!["wsfed", "wstrust", "scim", "saml", "provisioning"],
        0..3,
    );
    proptest::option::of(
        (
            arb_text(),
            host,
            arb_text(),
            proptest::option::of(any::<u16>()),
            any::<bool>(),
            kinds,
        )
            .prop_map(|(method, host, path, status, error, kinds)| StepFlow {
                method,
                host,
                path,
                status,
                error,
                kinds,
            }),
    )
}

fn arb_story() -> impl Strategy<Value = (Story, Vec<Option<StepFlow>>)> {
    let steps = proptest::collection::vec(
        (arb_text(), proptest::option::of(arb_text()), arb_flow()),
        0..24,
    );
    let checks = proptest::collection::vec(
        (
            prop_oneof![
                Just(Verdict::Pass),
                Just(Verdict::Fail),
                Just(Verdict::Unknown)
            ],
            arb_text(),
            proptest::collection::vec((0u64..40, arb_text()), 0..3),
        ),
        0..4,
    );
    (steps, checks).prop_map(|(steps, checks)| {
        let flows = steps.iter().map(|(_, _, f)| f.clone()).collect();
        let story = Story {
            kind: StoryKind::PrtSso,
            steps: steps
                .into_iter()
                .enumerate()
                .map(|(i, (label, failed, _))| Step {
                    id: FlowId(i as u64),
                    label,
                    failed,
                })
                .collect(),
            checks: checks
                .into_iter()
                .map(|(verdict, message, values)| Check {
                    verdict,
                    message,
                    flows: values.iter().map(|(f, _)| FlowId(*f)).collect(),
                    values: values
                        .into_iter()
                        .map(|(f, value)| Observed {
                            what: What::NonceUsed,
                            flow: FlowId(f),
                            value,
                        })
                        .collect(),
                })
                .collect(),
        };
        (story, flows)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_story_gives_well_formed_xml_with_one_step_group_per_step((story, flows) in arb_story()) {
        let html = story_section(7, &story, &|id: FlowId| flows.get(id.0 as usize).cloned().flatten());
        let doc = match Document::parse(&html, &Limits::default()) {
            Ok(d) => d,
            Err(e) => return Err(TestCaseError::fail(format!("not well-formed: {e}\n{html}"))),
        };
        prop_assert_eq!(elements_with_class(&doc, "g", "step").len(), story.steps.len());
        prop_assert_eq!(elements_with_class(&doc, "g", "failed").len(), story.failed_steps());
        prop_assert_eq!(elements_with_class(&doc, "li", "check").len(), story.checks.len().max(1));
        prop_assert!(no_style_attribute(&doc));
        prop_assert!(!html.to_ascii_lowercase().contains("<script"));
        let lanes = elements_with_class(&doc, "g", "lane");
        prop_assert_eq!(doc.attribute(lanes[0], "data-party"), Some("client"));
    }
}
