//! A connector agent's capture end to end: registration (`RegisterConnector`, the admin's token
//! inside the body as `AuthenticationToken`), bootstrap (the relay endpoints with their plaintext
//! `SharedAccessKey`s) and the relay WebSocket, made from the `agent/` golden fixtures (element
//! names and shapes from AADInternals `MSAppProxy.ps1`, `MSAppProxy_utils.ps1` and its PTA
//! deep-dive; the values, the CSR and the certificate constructed). `analyze` decodes them with
//! the credentials masked and tells the agent story with its checks; `redact` leaves no
//! credential in the shared copy, which still decodes.

use idscope::capture::HarWriter;
use idscope::flow::{Flow, Outcome};
use serde_json::Value;

use crate::util::{fixture_body, flow_from_fixtures, idscope, stderr, stdout};

/// The relay keys of the `bootstrap_response.http` fixture.
const KEYS: [&str; 2] = [
    "k5Zq3d0cJtO8mYg1Yt0a2F5sKJw7hC4pX9vLrQeNnUs=",
    "jqX2b8PzR1mV4cT7wYk0nL3sD6fH9gJ5aE2uI8oQ1rM=",
];

/// The signature segment of the `AuthenticationToken` of `registration_request.http`.
fn token_signature() -> String {
    let body = String::from_utf8(fixture_body("agent/registration_request.http")).unwrap();
    let token = body
        .split("<AuthenticationToken>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    token.rsplit('.').next().unwrap().to_string()
}

/// Registration, bootstrap and the listener's WebSocket to the namespace the bootstrap announced.
fn agent_flows() -> Vec<Flow> {
    let mut relay = flow_from_fixtures(2, Some("agent/bootstrap_request.http"), None);
    relay.request.method = "GET".into();
    relay.request.url =
        "https://his-eur1-weur1.servicebus.windows.net/$servicebus/websocket".into();
    relay.request.headers = [
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Protocol", "wsrelayedamqp"),
    ]
    .into();
    relay.request.body = Default::default();
    if let Outcome::Response(r) = &mut relay.outcome {
        r.status = 101;
    }
    vec![
        flow_from_fixtures(
            0,
            Some("agent/registration_request.http"),
            Some("agent/registration_result.http"),
        ),
        flow_from_fixtures(
            1,
            Some("agent/bootstrap_request.http"),
            Some("agent/bootstrap_response.http"),
        ),
        relay,
    ]
}

fn write_capture(dir: &std::path::Path) -> std::path::PathBuf {
    let har = dir.join("agent.har");
    HarWriter::write_all(&har, &agent_flows()).unwrap();
    har
}

#[test]
fn analyze_decodes_the_agent_with_its_credentials_masked_and_tells_its_story() {
    let dir = tempfile::tempdir().unwrap();
    let har = write_capture(dir.path());
    let har_s = har.to_str().unwrap();
    let sig = token_signature();
    // Shown on request: the capture does hold the credentials.
    let shown = stdout(&idscope(
        &["analyze", "--json", "--show-secrets", har_s],
        None,
    ));
    assert!(KEYS.iter().all(|k| shown.contains(k)), "{shown}");
    assert!(shown.contains(&sig));

    let o = idscope(&["analyze", "--json", har_s], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for k in KEYS {
        assert!(!out.contains(k), "a relay key in the report");
    }
    assert!(!out.contains(&sig), "the token's signature in the report");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds = |v: &Value| v["kinds"].to_string();
    assert!(kinds(&lines[0]).contains("agent"), "{}", lines[0]);
    assert!(kinds(&lines[1]).contains("agent"), "{}", lines[1]);
    // The token's claims stay readable.
    assert!(out.contains("admin@company.com"));
    let story = lines
        .iter()
        .find(|v| v["type"] == "story")
        .expect("a story");
    assert_eq!(story["story"], "connector agent");
    let steps: Vec<&str> = story["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "registration (PassthroughAuthentication)",
            "bootstrap",
            "relay listener (wsrelayedamqp)"
        ]
    );
    let checks: Vec<(&str, &str)> = story["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["verdict"].as_str().unwrap(),
                c["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        checks.contains(&(
            "pass",
            "connector id bootstrapped with (#2: 0ea97280-4738-498d-b18a-3790e4886e62) = agent id \
             in the issued certificate (#1: 0ea97280-4738-498d-b18a-3790e4886e62)"
        )),
        "{checks:#?}"
    );
    assert!(
        checks.contains(&(
            "pass",
            "relay namespace connected to (#3: his-eur1-weur1) = relay namespace the bootstrap \
             announced (#2: his-eur1-weur1)"
        )),
        "{checks:#?}"
    );
}

#[test]
fn redact_removes_the_relay_keys_and_the_token_signature_and_the_copy_still_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let har = write_capture(dir.path());
    let red = dir.path().join("red.har");
    let o = idscope(
        &["redact", har.to_str().unwrap(), "-o", red.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&red).unwrap();
    for k in KEYS {
        assert!(!text.contains(k), "a relay key in the redacted copy");
    }
    assert!(
        !text.contains(&token_signature()),
        "the token's signature in the redacted copy"
    );
    // What stays: the token's claims, the namespaces, the certificate (public).
    let red_s = red.to_str().unwrap();
    let out = stdout(&idscope(
        &["analyze", "--json", "--show-secrets", red_s],
        None,
    ));
    for k in KEYS {
        assert!(!out.contains(k));
    }
    assert!(
        out.contains("agent bootstrap: 2 relay endpoint(s) (his-eur1-weur1, his-eur1-neur1)"),
        "{out}"
    );
    assert!(
        out.contains("certificate for agent 0ea97280-4738-498d-b18a-3790e4886e62"),
        "{out}"
    );
    assert!(out.contains("admin@company.com"), "{out}");
}
