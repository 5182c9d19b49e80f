//! The reference server end to end over real TLS: every scenario passes against it directly,
//! each error-injection knob produces the error a real client would see, and the control
//! endpoints show the directory.

use std::collections::BTreeMap;

use idscope::fixture::{self, FixtureConfig, HOSTS, Knobs, LOGIN_HOST, SYNC_HOST};
use idscope::scenario::{self, Scenario, ScenarioConfig, Target};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn start(knobs: Knobs) -> (fixture::FixtureHandle, ScenarioConfig) {
    let h = fixture::start(FixtureConfig {
        knobs,
        seed: Some(7),
        ..Default::default()
    })
    .await
    .unwrap();
    let cfg = ScenarioConfig {
        target: Target::Direct(
            HOSTS
                .iter()
                .map(|n| (n.to_string(), h.addr()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ca_pems: vec![h.ca_pem().to_string()],
        print: false,
    };
    (h, cfg)
}

fn client(cfg: &ScenarioConfig) -> scenario::Client {
    scenario::Client::new(cfg).unwrap()
}

#[test]
fn every_scenario_passes_against_the_fixture() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let report = scenario::run(&[], &cfg).await.unwrap();
        let steps: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
        for want in [
            "ropc",
            "provision-objects",
            "readback-delta",
            "login-srf",
            "saml-bearer-grant",
        ] {
            assert!(steps.contains(&want), "{steps:?}");
        }
        let state = client(&cfg)
            .get(&format!("https://{LOGIN_HOST}/__fixture/state"))
            .await
            .unwrap();
        let state = state.json().unwrap();
        assert_eq!(
            state["directory"]["synced"]["lHh/rEL830q6/mStDnD4uw=="]["object_type"],
            "User"
        );
        assert_eq!(state["sync_calls"]["FinalizeExport"], 1);
        assert_eq!(state["last_export"]["successful"], 3);
        h.shutdown().await;
    });
}

#[test]
fn federated_sign_in_fails_for_a_user_the_sync_did_not_provision() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let err = scenario::run(&[Scenario::Federated], &cfg)
            .await
            .unwrap_err();
        assert_eq!(err.step, "login-srf");
        assert!(err.message.contains("AADSTS50034"), "{err}");
        h.shutdown().await;
    });
}

#[test]
fn sync_redirect_knob_sends_the_client_to_the_second_host() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs {
            sync_redirect: true,
            ..Default::default()
        })
        .await;
        // The client follows the BindingRedirectionFault and the cycle completes.
        scenario::run(&[Scenario::Sync], &cfg).await.unwrap();
        // A raw call to the primary host shows the fault itself: HTTP 500 + msbin1 fault.
        let xml = idscope::scenario::sync::request_envelope(
            "GetCompanyConfiguration",
            SYNC_HOST,
            "x",
            "",
            "1",
        );
        let body = idscope_decoders::soap::nbfx::encode(
            &xml,
            idscope_decoders::soap::nbfx::Style::XmlDocument,
        )
        .unwrap();
        let c = client(&cfg);
        let ans = c
            .send(
                c.http()
                    .post(format!("https://{SYNC_HOST}/provisioningservice.svc"))
                    .header("content-type", "application/soap+msbin1")
                    .body(body),
            )
            .await
            .unwrap();
        assert_eq!(ans.status, 500);
        let doc = idscope_decoders::soap::nbfx::decode(&ans.body, &Default::default()).unwrap();
        assert!(
            doc.xml.contains(
                "<Url>https://adminwebservice-s2.fixture.test/provisioningservice.svc</Url>"
            ),
            "{}",
            doc.xml
        );
        h.shutdown().await;
    });
}

#[test]
fn sync_fault_knob_fails_the_first_soap_step_with_its_error_description() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs {
            sync_fault: true,
            ..Default::default()
        })
        .await;
        let err = scenario::run(&[Scenario::Sync], &cfg).await.unwrap_err();
        assert_eq!(err.step, "readback");
        assert!(
            err.message.contains("HTTP 500") && err.message.contains("fault mode"),
            "{err}"
        );
        h.shutdown().await;
    });
}

#[test]
fn each_injected_aadsts_code_comes_back_as_entra_error_json() {
    rt().block_on(async {
        for (code, error) in [
            (50126, "invalid_grant"),
            (50076, "interaction_required"),
            (53003, "invalid_grant"),
            (70008, "invalid_grant"),
            (700082, "invalid_grant"),
        ] {
            let (h, cfg) = start(Knobs {
                inject_aadsts: Some(code),
                ..Default::default()
            })
            .await;
            let err = scenario::run(&[Scenario::Sync], &cfg).await.unwrap_err();
            assert_eq!(err.step, "ropc");
            let ans = client(&cfg)
                .post_form(
                    &format!("https://{LOGIN_HOST}/common/oauth2/token"),
                    &[
                        ("grant_type", "password"),
                        ("client_id", "c"),
                        ("username", "sync_fixture_1@fixture.onmicrosoft.com"),
                        ("password", "Sync-Passw0rd!"),
                    ],
                )
                .await
                .unwrap();
            assert_eq!(ans.status, 400);
            let j = ans.json().unwrap();
            assert_eq!(j["error"], error, "{j}");
            assert_eq!(j["error_codes"][0], code);
            assert!(
                j["error_description"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("AADSTS{code}:"))
            );
            // srv_challenge is never affected.
            let n = client(&cfg)
                .post_form(
                    &format!("https://{LOGIN_HOST}/common/oauth2/token"),
                    &[("grant_type", "srv_challenge")],
                )
                .await
                .unwrap();
            assert!(n.json().unwrap()["Nonce"].is_string());
            h.shutdown().await;
        }
    });
}

#[test]
fn adfs_fail_knob_answers_http_500_failed_authentication() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs {
            adfs_fail: true,
            ..Default::default()
        })
        .await;
        scenario::run(&[Scenario::Sync], &cfg).await.unwrap();
        let err = scenario::run(&[Scenario::Federated], &cfg)
            .await
            .unwrap_err();
        assert_eq!(err.step, "usernamemixed");
        assert!(err.message.contains("HTTP 500"), "{err}");
        h.shutdown().await;
    });
}

#[test]
fn knobs_can_be_changed_at_run_time_and_bad_ones_are_refused() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        let bad = c
            .send(
                c.http()
                    .post(format!("https://{LOGIN_HOST}/__fixture/knobs"))
                    .body(r#"{"inject_aadsts":1}"#),
            )
            .await
            .unwrap();
        assert_eq!(bad.status, 400);
        let ok = c
            .send(
                c.http()
                    .post(format!("https://{LOGIN_HOST}/__fixture/knobs"))
                    .body(r#"{"inject_aadsts":50126}"#),
            )
            .await
            .unwrap();
        assert_eq!(ok.status, 200);
        assert_eq!(
            scenario::run(&[Scenario::Sync], &cfg)
                .await
                .unwrap_err()
                .step,
            "ropc"
        );
        h.shutdown().await;
    });
}

#[test]
fn bad_requests_get_protocol_errors_not_hangs() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        // Token endpoint: wrong password, missing grant_type, unknown grant.
        let t = format!("https://{LOGIN_HOST}/common/oauth2/token");
        let r = c
            .post_form(
                &t,
                &[
                    ("grant_type", "password"),
                    ("client_id", "c"),
                    ("username", "admin@fixture.onmicrosoft.com"),
                    ("password", "wrong"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.json().unwrap()["error_codes"][0], 50126);
        let r = c.post_form(&t, &[("client_id", "c")]).await.unwrap();
        assert_eq!(r.status, 400);
        let r = c
            .post_form(&t, &[("grant_type", "nonsense")])
            .await
            .unwrap();
        assert_eq!(r.json().unwrap()["error"], "unsupported_grant_type");
        // Sync API: garbage msbin1 gets a msbin1 SOAP fault.
        let r = c
            .send(
                c.http()
                    .post(format!("https://{SYNC_HOST}/provisioningservice.svc"))
                    .header("content-type", "application/soap+msbin1")
                    .body(vec![0x7f, 0, 1]),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 500);
        assert!(
            idscope_decoders::soap::nbfx::decode(&r.body, &Default::default())
                .unwrap()
                .xml
                .contains("s:Fault")
        );
        // A sync call with a token the fixture did not sign.
        let xml = idscope::scenario::sync::request_envelope(
            "GetCompanyConfiguration",
            SYNC_HOST,
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
            "",
            "1",
        );
        let body = idscope_decoders::soap::nbfx::encode(
            &xml,
            idscope_decoders::soap::nbfx::Style::XmlDocument,
        )
        .unwrap();
        let r = c
            .send(
                c.http()
                    .post(format!("https://{SYNC_HOST}/provisioningservice.svc"))
                    .header("content-type", "application/soap+msbin1")
                    .body(body),
            )
            .await
            .unwrap();
        let x = idscope_decoders::soap::nbfx::decode(&r.body, &Default::default())
            .unwrap()
            .xml;
        assert!(
            x.contains("ErrorDescription") && x.contains("signature check failed"),
            "{x}"
        );
        // login.srf with a tampered assertion.
        let r = c
            .post_form(
                &format!("https://{LOGIN_HOST}/login.srf"),
                &[
                    ("wa", "wsignin1.0"),
                    ("wresult", "<t:RequestSecurityTokenResponse/>"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 400);
        assert!(r.text().contains("AADSTS50008"));
        // Oversized body.
        let r = c
            .send(c.http().post(&t).body(vec![b'a'; fixture::MAX_BODY + 1]))
            .await
            .unwrap();
        assert_eq!(r.status, 413);
        h.shutdown().await;
    });
}

#[test]
fn seeded_fixtures_publish_the_same_jwks() {
    rt().block_on(async {
        let mut keys = Vec::new();
        for _ in 0..2 {
            let (h, cfg) = start(Knobs::default()).await;
            let j = client(&cfg)
                .get(&format!("https://{LOGIN_HOST}/common/discovery/keys"))
                .await
                .unwrap();
            keys.push(j.json().unwrap()["keys"][0]["n"].clone());
            h.shutdown().await;
        }
        assert_eq!(keys[0], keys[1]);
        assert!(keys[0].is_string());
    });
}
