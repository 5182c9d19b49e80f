//! The reference server end to end over real TLS: every scenario passes against it directly,
//! each error-injection knob produces the error a real client would see, and the control
//! endpoints show the directory.

use std::collections::BTreeMap;

use idscope::fixture::{self, FixtureConfig, Knobs};
use idscope::scenario::{self, Scenario, ScenarioConfig, Target};
use idscope::testbed::{DRS_HOST, HOSTS, LOGIN_HOST, SCIM_HOST, SYNC_HOST};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The reference server with `knobs`, seeded; it stops when the guard is dropped, so a failed
/// assertion leaves nothing listening.
async fn start(knobs: Knobs) -> (crate::support::ReferenceServer, ScenarioConfig) {
    start_seeded(knobs, 7).await
}

async fn start_seeded(
    knobs: Knobs,
    seed: u64,
) -> (crate::support::ReferenceServer, ScenarioConfig) {
    let h = crate::support::ReferenceServer::start(FixtureConfig {
        knobs,
        seed: Some(seed),
        ..Default::default()
    })
    .await;
    let cfg = direct(&h);
    (h, cfg)
}

/// A scenario configuration that sends every served host straight to `h` (no proxy).
fn direct(h: &crate::support::ReferenceServer) -> ScenarioConfig {
    ScenarioConfig {
        target: Target::Direct(
            HOSTS
                .iter()
                .map(|n| (n.to_string(), h.addr()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ca_pems: vec![h.ca_pem().to_string()],
        print: false,
        device_seed: None,
    }
}

fn client(cfg: &ScenarioConfig) -> scenario::Client {
    scenario::Client::new(cfg).unwrap()
}

/// An app-only access token (client_credentials, the confidential client, v1 endpoint).
async fn app_token(c: &scenario::Client) -> String {
    let a = c
        .post_form(
            &format!("https://{LOGIN_HOST}/common/oauth2/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", fixture::CONFIDENTIAL_CLIENT.0),
                ("client_secret", fixture::CONFIDENTIAL_CLIENT.1),
            ],
        )
        .await
        .unwrap();
    a.json().unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
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
            "delta-empty",
            "authorize-prt-cookie",
            "jwe-response",
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

#[test]
fn scim_and_prt_scenarios_pass_directly() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let report = scenario::run(&[Scenario::CloudSync, Scenario::PrtSso], &cfg)
            .await
            .unwrap();
        let steps: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
        for want in [
            "create-user",
            "patch-user",
            "patch-group-members",
            "delta-changes",
            "delta-empty",
            "drs-join",
            "prt-request",
            "session-key",
            "sso-nonce",
            "authorize-prt-cookie",
            "code-redeem",
            "session-signed-request",
            "jwe-response",
        ] {
            assert!(steps.contains(&want), "{want} missing: {steps:?}");
        }
        // Without the knob the first cookie is accepted: no stale-nonce detour.
        assert!(!steps.contains(&"stale-nonce"), "{steps:?}");
        let state = h.fixture().state().snapshot();
        assert_eq!(state["devices"].as_object().unwrap().len(), 1);
        assert_eq!(state["sessions"]["prts"], 1);
        assert_eq!(state["scim"].as_object().unwrap().len(), 2);
        // The scenario names are the command-line names.
        assert_eq!(Scenario::parse("scim"), Some(Scenario::CloudSync));
        assert_eq!(Scenario::parse("prt"), Some(Scenario::PrtSso));
        h.shutdown().await;
    });
}

#[test]
fn stale_nonce_knob_redirects_with_a_fresh_sso_nonce_and_the_retry_succeeds() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs {
            stale_nonce: true,
            ..Default::default()
        })
        .await;
        let report = scenario::run(&[Scenario::PrtSso], &cfg).await.unwrap();
        let steps: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
        let stale = steps.iter().position(|s| *s == "stale-nonce").unwrap();
        let code = steps
            .iter()
            .position(|s| *s == "authorize-prt-cookie")
            .unwrap();
        assert!(stale < code, "{steps:?}");
        h.shutdown().await;
    });
}

async fn scim_call(
    c: &scenario::Client,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> scenario::Answer {
    let mut rb = c
        .http()
        .request(method, format!("https://{SCIM_HOST}/scim/v2{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    c.send(rb).await.unwrap()
}

fn assert_scim_error(a: &scenario::Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(a.status, status, "{}", a.text());
    let j = a.json().unwrap();
    assert_eq!(
        j["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(j["status"], status.to_string(), "status must be a string");
    match scim_type {
        Some(t) => assert_eq!(j["scimType"], t),
        None => assert!(j.get("scimType").is_none(), "{j}"),
    }
}

#[test]
fn scim_errors_uniqueness_invalid_filter_not_found_and_unauthorized() {
    use reqwest::Method;
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        let token = scenario::cloud_sync::scim_token(&c).await.unwrap();
        let t = Some(token.as_str());
        let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "dup@contoso.test", "externalId": "ext-1", "displayName": "Dup One"});
        let a = scim_call(&c, t, Method::POST, "/Users", Some(user.clone())).await;
        assert_eq!(a.status, 201);
        let id = a.json().unwrap()["id"].as_str().unwrap().to_string();
        assert_eq!(
            a.header("location").unwrap(),
            format!("https://{SCIM_HOST}/scim/v2/Users/{id}")
        );
        // 409 uniqueness (userName compared case-insensitively).
        let mut again = user.clone();
        again["userName"] = "DUP@contoso.test".into();
        let a = scim_call(&c, t, Method::POST, "/Users", Some(again)).await;
        assert_scim_error(&a, 409, Some("uniqueness"));
        // 400 invalidFilter.
        let a = scim_call(
            &c,
            t,
            Method::GET,
            "/Users?filter=userName%20zz%20%22x",
            None,
        )
        .await;
        assert_scim_error(&a, 400, Some("invalidFilter"));
        // The three filters Entra uses find the user.
        for f in [
            "userName eq \"dup@contoso.test\"",
            "externalId eq \"ext-1\"",
            "displayName eq \"dup one\"",
        ] {
            let q: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
            let a = scim_call(&c, t, Method::GET, &format!("/Users?filter={q}"), None).await;
            assert_eq!(a.json().unwrap()["totalResults"], 1, "{f}");
        }
        // 404 for an unknown id, and after DELETE.
        let a = scim_call(&c, t, Method::GET, "/Users/no-such-id", None).await;
        assert_scim_error(&a, 404, None);
        let a = scim_call(&c, t, Method::DELETE, &format!("/Users/{id}"), None).await;
        assert_eq!(a.status, 204);
        let a = scim_call(&c, t, Method::GET, &format!("/Users/{id}"), None).await;
        assert_scim_error(&a, 404, None);
        // PUT replaces; PATCH with an unknown op is refused.
        let a = scim_call(
            &c,
            t,
            Method::POST,
            "/Groups",
            Some(serde_json::json!({"displayName": "G"})),
        )
        .await;
        let gid = a.json().unwrap()["id"].as_str().unwrap().to_string();
        let a = scim_call(
            &c,
            t,
            Method::PUT,
            &format!("/Groups/{gid}"),
            Some(serde_json::json!({"displayName": "G2"})),
        )
        .await;
        assert_eq!(a.json().unwrap()["displayName"], "G2");
        let a = scim_call(
            &c,
            t,
            Method::PATCH,
            &format!("/Groups/{gid}"),
            Some(serde_json::json!({"Operations": [{"op": "Frobnicate", "path": "x"}]})),
        )
        .await;
        assert_scim_error(&a, 400, Some("invalidSyntax"));
        // No token, or a token for another audience: 401.
        let a = scim_call(&c, None, Method::GET, "/Users", None).await;
        assert_scim_error(&a, 401, None);
        let graph = app_token(&c).await;
        let a = scim_call(&c, Some(&graph), Method::GET, "/Users", None).await;
        assert_scim_error(&a, 401, None);
        h.shutdown().await;
    });
}

/// The prt decoder's view of one exchange the fixture really sent: the `prt` decoder must be
/// among the applicable ones and decode both sides without error.
fn prt_view(
    method: &str,
    url: &str,
    req_headers: &[(&str, &str)],
    req_body: &[u8],
    ans: &scenario::Answer,
) -> (String, String) {
    use idscope_decoders::{Context, Message, Registry, Trust};
    let trust = Trust::default();
    let cx = Context::new(std::time::SystemTime::now(), &trust);
    let req = Message::request(method, url, req_headers.to_vec(), req_body);
    let resp_headers: Vec<(&str, &str)> = ans
        .headers
        .iter()
        .map(|(k, v)| {
            let v = v
                .to_str()
                .unwrap_or_else(|e| panic!("header {k} of {url} is not text: {e}"));
            (k.as_str(), v)
        })
        .collect();
    let resp = Message::response(method, url, ans.status, resp_headers, &ans.body);
    let mut out = Vec::new();
    for (side, msg) in [("request", &req), ("response", &resp)] {
        let outcomes = Registry::builtin().decode_all(msg, &cx);
        let prt = outcomes
            .iter()
            .find(|o| o.decoder == "prt")
            .unwrap_or_else(|| panic!("prt decoder not applicable to the {side} of {url}"));
        let d = prt
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("prt decoder failed on the {side} of {url}: {e}"));
        out.push(d.summary.clone());
    }
    let resp_summary = out.pop().unwrap_or_default();
    (out.pop().unwrap_or_default(), resp_summary)
}

#[test]
fn every_prt_step_is_understood_by_the_prt_decoder() {
    use base64::Engine as _;
    use idscope::scenario::prt_sso::{self, DeviceKeys};
    use serde_json::json;
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        let form_ct = ("content-type", "application/x-www-form-urlencoded");
        let keys = tokio::task::spawn_blocking(|| DeviceKeys::generate(None))
            .await
            .unwrap()
            .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        // DRS.
        let device_id = "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a";
        let drs_url =
            format!("https://{DRS_HOST}/EnrollmentServer/device/{device_id}?api-version=1.0");
        let drs_body = json!({"CertificateRequest": {"Type": "pkcs10", "Data": b64.encode(keys.csr_der().unwrap())},
            "JoinType": 6, "ServerAdJoinData": {"TransportKey": b64.encode(keys.transport_blob())}})
        .to_string();
        let a = c
            .send(c.http().put(&drs_url).header("content-type", "application/json").body(drs_body.clone()))
            .await
            .unwrap();
        assert_eq!(a.status, 200, "{}", a.text());
        prt_view("PUT", &drs_url, &[("content-type", "application/json")], drs_body.as_bytes(), &a);
        let cert = a.json().unwrap()["Certificate"]["RawBody"].as_str().unwrap().to_string();
        // The certificate is signed by the fixture device CA and names the device.
        let der = b64.decode(&cert).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(&h.fixture().device_ca.cert_der).unwrap();
        assert_eq!(parsed.issuer(), ca.subject());
        assert!(parsed.subject().to_string().contains(device_id));

        // srv_challenge.
        let token_url = format!("https://{LOGIN_HOST}/common/oauth2/token");
        let nonce = |c: scenario::Client, url: String| async move {
            let a = c.post_form(&url, &[("grant_type", "srv_challenge")]).await.unwrap();
            let n = a.json().unwrap()["Nonce"].as_str().unwrap().to_string();
            (a, n)
        };
        let (a, n) = nonce(c.clone(), token_url.clone()).await;
        let (q, r) = prt_view("POST", &token_url, &[form_ct], b"grant_type=srv_challenge", &a);
        assert!(!q.is_empty() && !r.is_empty());

        // Device-signed PRT request; a replayed nonce is refused.
        let payload = json!({"client_id": prt_sso::WINDOWS_SIGN_IN, "request_nonce": n,
            "scope": "openid aza ugs", "grant_type": "password",
            "username": "admin@fixture.onmicrosoft.com", "password": "Admin-Passw0rd!"});
        let request = keys
            .sign_rs256(&json!({"alg": "RS256", "typ": "JWT", "x5c": cert}), &payload)
            .unwrap();
        let body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("windows_api_version", "2.2")
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("request", &request)
            .append_pair("tgt", "true")
            .finish();
        let post = |body: String| {
            c.send(c.http().post(&token_url).header(form_ct.0, form_ct.1).body(body))
        };
        let a = post(body.clone()).await.unwrap();
        assert_eq!(a.status, 200, "{}", a.text());
        let (q, r) = prt_view("POST", &token_url, &[form_ct], body.as_bytes(), &a);
        assert!(q.to_lowercase().contains("prt") || q.contains("RS256"), "{q}");
        assert!(r.to_lowercase().contains("pop") || r.to_lowercase().contains("prt"), "{r}");
        let j = a.json().unwrap();
        assert!(j["tgt_cloud"].is_string());
        let prt = j["refresh_token"].as_str().unwrap().to_string();
        let sk = keys.session_key(j["session_key_jwe"].as_str().unwrap()).unwrap();
        let replay = post(body).await.unwrap();
        assert_eq!(replay.status, 400);
        assert!(replay.text().contains("request_nonce"), "{}", replay.text());

        // The PRT cookie, as a cookie and as a header.
        let auth = prt_sso::authorize_url(None);
        let a = c.get(&auth).await.unwrap();
        let loc = a.header("location").unwrap().to_string();
        let sso = form_urlencoded::parse(loc.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "sso_nonce")
            .unwrap()
            .1
            .into_owned();
        let cookie = prt_sso::prt_cookie(&sk, &prt, &sso);
        let url = prt_sso::authorize_url(Some(&sso));
        let cookie_header = format!("x-ms-RefreshTokenCredential={cookie}");
        let a = c
            .send(c.http().get(&url).header("cookie", &cookie_header))
            .await
            .unwrap();
        assert_eq!(a.status, 302);
        assert!(a.header("location").unwrap().contains("code="));
        prt_view("GET", &url, &[("cookie", &cookie_header)], b"", &a);
        // A tampered cookie is refused with the Entra error page.
        let bad = format!("{}A", &cookie_header);
        let a = c.send(c.http().get(&url).header("cookie", bad)).await.unwrap();
        assert_eq!(a.status, 400);
        assert!(a.text().contains("AADSTS50013"));
        // Header variant: a used nonce gets the stale-nonce 302 with a fresh sso_nonce.
        let a = c
            .send(c.http().get(&url).header("x-ms-RefreshTokenCredential", &cookie))
            .await
            .unwrap();
        assert_eq!(a.status, 302);
        let loc = a.header("location").unwrap().to_string();
        assert!(loc.contains("sso_nonce=") && !loc.contains("code="), "{loc}");
        prt_view("GET", &url, &[("x-ms-RefreshTokenCredential", &cookie)], b"", &a);

        // Session-key-signed requests, KDFv1 and KDFv2, answered with a dir JWE.
        for kdf in [1u8, 2] {
            let (_, n) = nonce(c.clone(), token_url.clone()).await;
            let req = prt_sso::session_jwt(
                &sk,
                &json!({"client_id": prt_sso::BROKER, "grant_type": "refresh_token",
                        "refresh_token": prt, "request_nonce": n, "resource": "https://graph.microsoft.com"}),
                kdf,
            );
            let body: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                .append_pair("request", &req)
                .finish();
            let a = post(body.clone()).await.unwrap();
            assert_eq!(a.status, 200, "{}", a.text());
            prt_view("POST", &token_url, &[form_ct], body.as_bytes(), &a);
            let tokens = prt_sso::decrypt_response(&sk, &a.text()).unwrap();
            assert!(tokens["access_token"].is_string(), "{tokens}");
            // Signed with the wrong key derivation: refused.
            let (_, n) = nonce(c.clone(), token_url.clone()).await;
            let mut other = sk;
            other[0] ^= 1;
            let req = prt_sso::session_jwt(
                &other,
                &json!({"grant_type": "refresh_token", "refresh_token": prt, "request_nonce": n}),
                kdf,
            );
            let body: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                .append_pair("request", &req)
                .finish();
            let a = post(body).await.unwrap();
            assert_eq!(a.status, 400);
            assert!(a.text().contains("AADSTS50013"), "{}", a.text());
        }
        h.shutdown().await;
    });
}

/// DRS PUT (JoinType 6) for fresh device keys: the keys and the device certificate (base64).
async fn hybrid_join(c: &scenario::Client) -> (idscope::scenario::prt_sso::DeviceKeys, String) {
    let keys = device_keys().await;
    let cert = join_device(c, &keys).await;
    (keys, cert)
}

async fn device_keys() -> idscope::scenario::prt_sso::DeviceKeys {
    tokio::task::spawn_blocking(|| idscope::scenario::prt_sso::DeviceKeys::generate(None))
        .await
        .unwrap()
        .unwrap()
}

/// Hybrid-joins device 5e4d3c2b-… with `keys` and returns the base64 certificate DRS issued.
async fn join_device(
    c: &scenario::Client,
    keys: &idscope::scenario::prt_sso::DeviceKeys,
) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let url = format!(
        "https://{DRS_HOST}/EnrollmentServer/device/5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c?api-version=1.0"
    );
    let body = serde_json::json!({
        "CertificateRequest": {"Type": "pkcs10", "Data": b64.encode(keys.csr_der().unwrap())},
        "JoinType": 6, "ServerAdJoinData": {"TransportKey": b64.encode(keys.transport_blob())}});
    let a = c
        .send(
            c.http()
                .put(&url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.text());
    a.json().unwrap()["Certificate"]["RawBody"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A device-signed PRT request (password inner grant) with `cert` as x5c.
async fn prt_password_request(
    c: &scenario::Client,
    keys: &idscope::scenario::prt_sso::DeviceKeys,
    cert: &str,
) -> scenario::Answer {
    use idscope::scenario::prt_sso;
    use serde_json::json;
    let url = format!("https://{LOGIN_HOST}/common/oauth2/token");
    let a = c
        .post_form(&url, &[("grant_type", "srv_challenge")])
        .await
        .unwrap();
    let nonce = a.json().unwrap()["Nonce"].as_str().unwrap().to_string();
    let (upn, password, _) = fixture::CLOUD_USERS[1];
    let request = keys
        .sign_rs256(
            &json!({"alg": "RS256", "typ": "JWT", "x5c": cert}),
            &json!({"client_id": prt_sso::WINDOWS_SIGN_IN, "request_nonce": nonce,
                    "scope": "openid aza", "grant_type": "password",
                    "username": upn, "password": password}),
        )
        .unwrap();
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("request", request.as_str()),
    ];
    // A bounded wait: this path once held the state lock while building its error (a hang).
    tokio::time::timeout(std::time::Duration::from_secs(20), c.post_form(&url, &form))
        .await
        .expect("the token endpoint answered")
        .unwrap()
}

/// The device of a device-signed PRT request is the one registered under the certificate's CN,
/// and the certificate must come from this tenant's DRS for the registered key: a certificate
/// re-issued for the same key still works (so a replayed registration is the same device), one
/// from another tenant's DRS, or for a key the device no longer has, gets AADSTS50155 at once.
#[test]
fn prt_device_is_identified_by_the_drs_signature_the_device_id_and_the_key() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        let keys = device_keys().await;
        let first = join_device(&c, &keys).await;
        let again = join_device(&c, &keys).await;
        assert_ne!(first, again, "each registration issues a new certificate");
        let a = prt_password_request(&c, &keys, &first).await;
        assert_eq!(a.status, 200, "{}", a.text());
        assert_eq!(a.json().unwrap()["token_type"], "pop");

        // The same device id and key, but a certificate from another tenant's DRS.
        let (other, other_cfg) = start_seeded(Knobs::default(), 8).await;
        let foreign = join_device(&client(&other_cfg), &keys).await;
        let a = prt_password_request(&c, &keys, &foreign).await;
        assert_eq!(a.status, 400, "{}", a.text());
        assert!(a.text().contains("AADSTS50155"), "{}", a.text());

        // The device re-registers with a new key: certificates for the old key stop working.
        let new_keys = device_keys().await;
        let current = join_device(&c, &new_keys).await;
        let a = prt_password_request(&c, &keys, &first).await;
        assert_eq!(a.status, 400, "{}", a.text());
        assert!(a.text().contains("AADSTS50155"), "{}", a.text());
        let a = prt_password_request(&c, &new_keys, &current).await;
        assert_eq!(a.status, 200, "{}", a.text());
        other.shutdown().await;
        h.shutdown().await;
    });
}

/// protocols.md §7.3, the federated hybrid-join case: a device-signed PRT request whose inner
/// grant is `saml1_1-bearer` with an ADFS assertion, on the v1 and the v2 token endpoint; then a
/// session-key-signed request on the same endpoint. Fails if either path breaks.
#[test]
fn prt_request_with_a_saml1_1_bearer_inner_grant_on_the_v1_and_v2_endpoints() {
    use base64::Engine as _;
    use idscope::scenario::prt_sso;
    use serde_json::json;
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        // The sync cycle provisions alice (SourceAnchor = the assertion's ImmutableID).
        scenario::run(&[Scenario::Sync], &cfg).await.unwrap();
        let c = client(&cfg);
        let b64 = base64::engine::general_purpose::STANDARD;
        let (keys, cert) = hybrid_join(&c).await;
        let alice = h
            .fixture()
            .state()
            .onprem_users
            .get("alice@contoso.test")
            .cloned()
            .unwrap();
        let form_ct = ("content-type", "application/x-www-form-urlencoded");
        for (path, v2) in [
            ("/common/oauth2/token".to_string(), false),
            (format!("/{}/oauth2/v2.0/token", fixture::TENANT_ID), true),
        ] {
            let url = format!("https://{LOGIN_HOST}{path}");
            let post = |body: String| {
                c.send(c.http().post(&url).header(form_ct.0, form_ct.1).body(body))
            };
            let nonce = || async {
                let a = c
                    .post_form(&url, &[("grant_type", "srv_challenge")])
                    .await
                    .unwrap();
                assert_eq!(a.status, 200, "{path}: {}", a.text());
                a.json().unwrap()["Nonce"].as_str().unwrap().to_string()
            };
            let assertion = fixture::adfs::assertion(h.fixture(), &alice).unwrap();
            let payload = json!({"client_id": prt_sso::WINDOWS_SIGN_IN, "request_nonce": nonce().await,
                "scope": "openid aza ugs", "grant_type": "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
                "assertion": b64.encode(&assertion)});
            let request = keys
                .sign_rs256(&json!({"alg": "RS256", "typ": "JWT", "x5c": cert}), &payload)
                .unwrap();
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                .append_pair("request", &request)
                .append_pair("windows_api_version", "2.2")
                .append_pair("tgt", "true");
            if v2 {
                form.append_pair("prt_protocol_version", "3.0");
            }
            let a = post(form.finish()).await.unwrap();
            assert_eq!(a.status, 200, "{path}: {}", a.text());
            let j = a.json().unwrap();
            assert_eq!(j["token_type"], "pop", "{path}: {j}");
            let id = scenario::jwt_payload(j["id_token"].as_str().unwrap()).unwrap();
            assert_eq!(id["upn"], "alice@contoso.test", "{path}: {id}");
            let amr: Vec<&str> = id["amr"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str())
                .collect();
            assert!(amr.contains(&"fed") && amr.contains(&"rsa"), "{path}: {amr:?}");
            // A federated user also gets the on-premises TGT.
            assert!(j["tgt_ad"].is_string() && j["tgt_cloud"].is_string(), "{path}");
            let prt = j["refresh_token"].as_str().unwrap().to_string();
            let sk = keys
                .session_key(j["session_key_jwe"].as_str().unwrap())
                .unwrap();

            // The PRT works on the same endpoint: session-key-signed request, JWE answer.
            let req = prt_sso::session_jwt(
                &sk,
                &json!({"client_id": prt_sso::BROKER, "grant_type": "refresh_token",
                        "refresh_token": prt, "request_nonce": nonce().await,
                        "resource": "https://graph.microsoft.com",
                        "scope": "https://graph.microsoft.com/.default openid"}),
                2,
            );
            let body: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                .append_pair("request", &req)
                .finish();
            let a = post(body).await.unwrap();
            assert_eq!(a.status, 200, "{path}: {}", a.text());
            let tokens = prt_sso::decrypt_response(&sk, &a.text()).unwrap();
            let at = scenario::jwt_payload(tokens["access_token"].as_str().unwrap()).unwrap();
            assert_eq!(at["upn"], "alice@contoso.test", "{path}: {at}");
            assert_eq!(at["aud"], "https://graph.microsoft.com", "{path}: {at}");
            // v2 answers carry a signed id_token and integer lifetimes, v1 strings.
            assert_eq!(tokens["expires_in"].is_number(), v2, "{path}: {tokens}");

            // A tampered assertion is refused (the ADFS signature no longer verifies).
            let bad = assertion.replace("alice@contoso.test", "mallory@contoso.test");
            let payload = json!({"client_id": prt_sso::WINDOWS_SIGN_IN, "request_nonce": nonce().await,
                "scope": "openid aza", "grant_type": "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
                "assertion": b64.encode(&bad)});
            let request = keys
                .sign_rs256(&json!({"alg": "RS256", "typ": "JWT", "x5c": cert}), &payload)
                .unwrap();
            let body: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                .append_pair("request", &request)
                .finish();
            let a = post(body).await.unwrap();
            assert_eq!(a.status, 400, "{path}: {}", a.text());
            assert!(a.text().contains("AADSTS50008"), "{path}: {}", a.text());
        }
        assert_eq!(h.fixture().state().snapshot()["sessions"]["prts"], 2);
        h.shutdown().await;
    });
}

/// protocols.md §7.1: Azure AD join (0) and registration (4) are POSTs with a Bearer token;
/// without a valid token they get 401, other join types 400.
#[test]
fn drs_accepts_join_types_0_and_4_with_a_bearer_token() {
    use base64::Engine as _;
    use idscope::scenario::prt_sso::DeviceKeys;
    use serde_json::json;
    rt().block_on(async {
        let (_h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        let b64 = base64::engine::general_purpose::STANDARD;
        let keys = tokio::task::spawn_blocking(|| DeviceKeys::generate(None))
            .await
            .unwrap()
            .unwrap();
        let tok = c
            .post_form(
                &format!("https://{LOGIN_HOST}/common/oauth2/token"),
                &[
                    ("grant_type", "password"),
                    ("client_id", idscope::scenario::prt_sso::AAD_PS),
                    ("username", "admin@fixture.onmicrosoft.com"),
                    ("password", "Admin-Passw0rd!"),
                    ("resource", "urn:ms-drs:enterpriseregistration.windows.net"),
                ],
            )
            .await
            .unwrap();
        let bearer = tok.json().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let url = format!("https://{DRS_HOST}/EnrollmentServer/device/?api-version=1.0");
        let body = |join: i64| {
            json!({"CertificateRequest": {"Type": "pkcs10", "Data": b64.encode(keys.csr_der().unwrap())},
                   "TransportKey": b64.encode(keys.transport_blob()), "JoinType": join,
                   "DeviceDisplayName": "fixture-test", "OSVersion": "10.0.19045"})
            .to_string()
        };
        for join in [0, 4] {
            let a = c
                .send(
                    c.http()
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("authorization", format!("Bearer {bearer}"))
                        .body(body(join)),
                )
                .await
                .unwrap();
            assert_eq!(a.status, 200, "JoinType {join}: {}", a.text());
            assert!(a.json().unwrap()["Certificate"]["RawBody"].is_string());
            // No token, or one the fixture did not sign: 401.
            for auth in [None, Some("Bearer eyJhbGciOiJub25lIn0.e30.")] {
                let mut r = c
                    .http()
                    .post(&url)
                    .header("content-type", "application/json");
                if let Some(v) = auth {
                    r = r.header("authorization", v);
                }
                let a = c.send(r.body(body(join))).await.unwrap();
                assert_eq!(a.status, 401, "JoinType {join} {auth:?}: {}", a.text());
                assert_eq!(a.json().unwrap()["subcode"], "error_unauthorized");
            }
        }
        let a = c
            .send(
                c.http()
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {bearer}"))
                    .body(body(5)),
            )
            .await
            .unwrap();
        assert_eq!(a.status, 400, "{}", a.text());
        assert_eq!(a.json().unwrap()["subcode"], "error_unsupported_join_type");
    });
}

/// The performance caches are on for an unseeded fixture: every scenario still passes, identical
/// token requests of one second share the access token while refresh tokens stay unique, and
/// turning the caches off signs every token.
#[test]
fn token_cache_shares_access_tokens_only_and_scenarios_pass_with_caches_on() {
    rt().block_on(async {
        let h = crate::support::ReferenceServer::start(FixtureConfig::default()).await;
        assert!(h.fixture().caches().enabled());
        let cfg = direct(&h);
        let report = scenario::run(Scenario::ALL, &cfg).await.unwrap();
        assert!(!report.steps.is_empty());
        let c = client(&cfg);
        let url = format!("https://{LOGIN_HOST}/common/oauth2/token");
        let pwd = [
            ("grant_type", "password"),
            ("client_id", idscope::scenario::prt_sso::AAD_PS),
            ("username", "admin@fixture.onmicrosoft.com"),
            ("password", "Admin-Passw0rd!"),
            ("resource", "https://graph.windows.net"),
        ];
        for on in [true, false] {
            h.fixture().set_caches(on);
            let before = h.fixture().cache_stats().token;
            let a = c.post_form(&url, &pwd).await.unwrap().json().unwrap();
            let b = c.post_form(&url, &pwd).await.unwrap().json().unwrap();
            let after = h.fixture().cache_stats().token;
            let (hits, misses) = (after.0 - before.0, after.1 - before.1);
            assert_ne!(a["refresh_token"], b["refresh_token"]);
            if on {
                // Same second: one signature, shared; a second boundary between them: two.
                assert_eq!(hits + misses, 2);
                if a["access_token"] == b["access_token"] {
                    assert!(hits >= 1, "{hits} hits, {misses} misses");
                }
                if hits == 0 {
                    assert_ne!(a["access_token"], b["access_token"]);
                }
            } else {
                assert_eq!((hits, misses), (0, 2));
                assert_ne!(a["access_token"], b["access_token"]);
            }
            // Either token, and both refresh tokens, work.
            for t in [&a, &b] {
                let r = c
                    .post_form(
                        &url,
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", t["refresh_token"].as_str().unwrap()),
                        ],
                    )
                    .await
                    .unwrap();
                assert_eq!(r.status, 200, "{}", r.text());
            }
        }
        // A different request is never served another request's token.
        h.fixture().set_caches(true);
        let mut other = pwd;
        other[4] = ("resource", "https://management.core.windows.net/");
        let a = c.post_form(&url, &pwd).await.unwrap().json().unwrap();
        let b = c.post_form(&url, &other).await.unwrap().json().unwrap();
        assert_ne!(a["access_token"], b["access_token"]);
        let claims = scenario::jwt_payload(b["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://management.core.windows.net/");
        h.shutdown().await;
    });
}

/// client_credentials answers are kept whole per second (with the token cache): an identical
/// request gets the same bytes and counts as a hit; another resource, the v2 endpoint, or an
/// injected error are never answered from it; with the caches off every answer is built.
#[test]
fn client_credentials_answers_are_shared_only_by_identical_requests() {
    rt().block_on(async {
        let (h, cfg) = start(Knobs::default()).await;
        let c = client(&cfg);
        let v1 = format!("https://{LOGIN_HOST}/common/oauth2/token");
        let v2 = format!("https://{LOGIN_HOST}/common/oauth2/v2.0/token");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", fixture::CONFIDENTIAL_CLIENT.0),
            ("client_secret", fixture::CONFIDENTIAL_CLIENT.1),
            ("resource", "https://graph.windows.net"),
            ("scope", "https://graph.microsoft.com/.default"),
        ];
        h.fixture().set_caches(true);
        let before = h.fixture().cache_stats().token;
        let a = c.post_form(&v1, &form).await.unwrap();
        let b = c.post_form(&v1, &form).await.unwrap();
        let after = h.fixture().cache_stats().token;
        assert_eq!((a.status, b.status), (200, 200), "{}", a.text());
        if a.text() == b.text() {
            assert!(after.0 > before.0, "an identical answer is a cache hit");
        }
        let other = {
            let mut f = form;
            f[3] = ("resource", "https://management.core.windows.net/");
            c.post_form(&v1, &f).await.unwrap().json().unwrap()
        };
        assert_eq!(other["resource"], "https://management.core.windows.net/");
        let claims = scenario::jwt_payload(other["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://management.core.windows.net/");
        let new = c.post_form(&v2, &form).await.unwrap().json().unwrap();
        assert_eq!(
            new["expires_in"], 3599,
            "a v2 answer, not the cached v1 one: {new}"
        );
        // An injected error still wins over a cached answer.
        h.set_knobs(Knobs {
            inject_aadsts: Some(50126),
            ..Knobs::default()
        });
        let e = c.post_form(&v1, &form).await.unwrap();
        assert_eq!(e.status, 400, "{}", e.text());
        h.set_knobs(Knobs::default());
        h.fixture().set_caches(false);
        let before = h.fixture().cache_stats().token;
        c.post_form(&v1, &form).await.unwrap();
        c.post_form(&v1, &form).await.unwrap();
        let after = h.fixture().cache_stats().token;
        assert_eq!((after.0 - before.0, after.1 - before.1), (0, 2));
        h.shutdown().await;
    });
}

/// The reply cache of read-only provisioning calls: byte-identical requests get the cached
/// answer (and are still counted), a fault knob switched on later still faults, a request that
/// differs only in its MessageID is decoded and answered in full with its own RelatesTo.
#[test]
fn cached_provisioning_replies_still_honour_knobs_and_message_ids() {
    use idscope_decoders::soap::nbfx;
    rt().block_on(async {
        let h = crate::support::ReferenceServer::start(FixtureConfig::default()).await;
        let cfg = direct(&h);
        let c = client(&cfg);
        let bearer = app_token(&c).await;
        let msg = |id: &str| {
            let xml = scenario::sync::request_envelope(
                "GetCompanyConfiguration",
                SYNC_HOST,
                &bearer,
                "",
                id,
            );
            nbfx::encode(&xml, nbfx::Style::XmlDocument).unwrap()
        };
        let url = format!("https://{SYNC_HOST}/provisioningservice.svc");
        let call = |body: Vec<u8>| {
            c.send(
                c.http()
                    .post(&url)
                    .header("content-type", "application/soap+msbin1")
                    .body(body),
            )
        };
        let decode = |a: &scenario::Answer| {
            nbfx::decode(&a.body, &nbfx::DecodeOptions::default())
                .unwrap()
                .xml
        };
        let id1 = "11111111-2222-4333-8444-555555555555";
        let id2 = "66666666-7777-4888-9999-aaaaaaaaaaaa";
        let first = call(msg(id1)).await.unwrap();
        let before = h.fixture().cache_stats().reply;
        let second = call(msg(id1)).await.unwrap();
        let after = h.fixture().cache_stats().reply;
        assert_eq!((first.status, second.status), (200, 200));
        assert_eq!(after.0 - before.0, 1, "the repeat is a cache hit");
        assert_eq!(first.body, second.body);
        assert!(decode(&second).contains(id1));
        assert_eq!(
            h.fixture().state().sync_calls["GetCompanyConfiguration"],
            2,
            "cache hits are counted like any call"
        );
        // Another MessageID: a miss, answered with its own RelatesTo.
        let other = call(msg(id2)).await.unwrap();
        assert_eq!(other.status, 200);
        let xml = decode(&other);
        assert!(xml.contains(id2) && !xml.contains(id1), "{xml}");
        // A knob switched on after the reply was cached still takes effect.
        h.set_knobs(Knobs {
            sync_fault: true,
            ..Knobs::default()
        });
        let faulted = call(msg(id1)).await.unwrap();
        assert_eq!(faulted.status, 500);
        assert!(decode(&faulted).contains("ErrorDescription"));
        h.set_knobs(Knobs::default());
        assert_eq!(call(msg(id1)).await.unwrap().body, first.body);
        h.shutdown().await;
    });
}
