//! Flows for the TUI tests, built from the decoder fixtures (`decoders/tests/fixtures/**.http`,
//! parsed with `OwnedMessage::parse_http_text`): a sync cycle (realm, ROPC, provisioning), a
//! federated sign-in (realm, WS-Fed POST) and SAML flows, at fixed times, and helpers to load
//! them into an `App` or write them as a capture with `HarWriter`.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use idscope::analysis::decode_flow;
use idscope::analysis::digest::Digest;
use idscope::capture::HarWriter;
use idscope::flow::{Body, Extra, Flow, FlowId, Outcome, Request, Response, Timings};
use idscope::tui::{App, Event};
use idscope_decoders::{Limits, OwnedMessage, Registry, Trust};

use crate::util::root;

/// The flows, by fixture: (request fixture, response fixture).
pub const FIXTURES: &[(Option<&str>, Option<&str>)] = &[
    (None, Some("realm/v1_managed")),
    (
        Some("oauth/ropc_v1_request"),
        Some("oauth/ropc_v1_response"),
    ),
    (
        Some("provisioning/provision_objects_request"),
        Some("provisioning/provision_objects_response"),
    ),
    (None, Some("realm/v2_federated")),
    (Some("wsfed/login_srf_post"), None),
    (Some("saml/post_response_signed_assertion"), None),
    (Some("saml/redirect_authnrequest_unsigned"), None),
    (Some("saml/post_response_wrapping_attack"), None),
    (Some("saml/post_response_unsigned"), None),
];

fn parse(name: &str) -> OwnedMessage {
    let path = root().join(format!("decoders/tests/fixtures/{name}.http"));
    let text = std::fs::read_to_string(&path).unwrap();
    OwnedMessage::parse_http_text(&text).unwrap()
}

/// One flow from a request and/or response fixture.
pub fn fixture_flow(n: u64, req: Option<&str>, resp: Option<&str>) -> Flow {
    let resp_msg = resp.map(parse);
    let request = match req.map(parse) {
        Some(m) => Request {
            method: m.method.unwrap_or_else(|| "GET".into()),
            url: m.url.unwrap_or_default(),
            http_version: "HTTP/1.1".into(),
            headers: m.headers.into(),
            body: Body::plain(m.body),
            extra: Extra::new(),
        },
        None => {
            let m = resp_msg.as_ref().unwrap();
            Request {
                method: m.method.clone().unwrap_or_else(|| "GET".into()),
                url: m.url.clone().unwrap_or_default(),
                http_version: "HTTP/1.1".into(),
                headers: Default::default(),
                body: Body::default(),
                extra: Extra::new(),
            }
        }
    };
    let response = match resp_msg {
        Some(m) => Response {
            status: m.status.unwrap_or(200),
            reason: String::new(),
            http_version: "HTTP/1.1".into(),
            headers: m.headers.into(),
            body: Body::plain(m.body),
            extra: Extra::new(),
        },
        None => Response {
            status: 200,
            reason: "OK".into(),
            http_version: "HTTP/1.1".into(),
            headers: [("content-type", "text/html")].into(),
            body: Body::plain(&b"<html>signed in</html>"[..]),
            extra: Extra::new(),
        },
    };
    Flow {
        id: FlowId(n),
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000 + n),
        client_addr: Some("10.0.0.5:51000".parse().unwrap()),
        server_addr: Some("20.190.1.1:443".into()),
        request,
        outcome: Outcome::Response(response),
        timings: Timings {
            total: Some(40.0 + n as f64),
            wait: Some(30.0),
            ..Timings::default()
        },
        tags: vec![],
        comment: None,
        marked: false,
        extra: Extra::new(),
    }
}

/// Every fixture flow, ids 0…
pub fn sample_flows() -> Vec<Flow> {
    FIXTURES
        .iter()
        .enumerate()
        .map(|(n, (q, s))| fixture_flow(n as u64, *q, *s))
        .collect()
}

/// A flow with its digest, as the capture loader sends it.
pub fn with_digest(flow: Flow) -> (Flow, Digest) {
    let report = decode_flow(
        &flow,
        Registry::builtin(),
        &Trust::default(),
        Limits::default(),
    );
    let d = Digest::of(&flow, &report);
    (flow, d)
}

/// A test app (100×30) holding the sample flows, fully loaded.
pub fn sample_app() -> App {
    let mut app = App::for_test();
    app.update(Event::Resize(100, 30));
    app.update(Event::Loaded(
        sample_flows().into_iter().map(with_digest).collect(),
    ));
    app.update(Event::LoadDone(Ok(None)));
    app
}

/// Writes the sample flows as a HAR capture.
pub fn write_sample_capture(path: &Path) {
    let mut w = HarWriter::create(path).unwrap();
    for f in sample_flows() {
        w.write_flow(&f).unwrap();
    }
    w.finish().unwrap();
}

/// A flow from its parts (request without body), at the sample flows' times.
pub fn simple_flow(n: u64, method: &str, url: &str, status: u16, ctype: &str, body: &[u8]) -> Flow {
    let mut f = fixture_flow(n, None, Some("realm/v1_managed"));
    f.request.method = method.into();
    f.request.url = url.into();
    if let Outcome::Response(r) = &mut f.outcome {
        r.status = status;
        r.headers = [("content-type", ctype)].into();
        r.body = Body::plain(body.to_vec());
    }
    f
}

/// What a browser's sign-in capture holds: background requests (a component update check, a
/// dictionary download), token requests to a tenant's GUID path (form bodies with a client
/// secret and an authorization code), an authorize redirect with a long query, a provisioning
/// call, federation metadata and a SAML response with a wrapping attack (an error finding).
pub fn browser_flows() -> Vec<Flow> {
    vec![
        simple_flow(
            0,
            "POST",
            "https://update.googleapis.com/service/update2/json?cup2key=13:2796851239&cup2hreq=5e1f",
            200,
            "application/json",
            b")]}'\n{\"response\":{\"protocol\":\"3.1\",\"server\":\"prod\"}}",
        ),
        fixture_flow(
            1,
            Some("oauth/client_credentials_secret_request"),
            Some("oauth/ropc_v1_response"),
        ),
        simple_flow(
            2,
            "GET",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A8400&scope=openid+profile",
            200,
            "text/html",
            b"<html>sign in</html>",
        ),
        fixture_flow(3, Some("oauth/authcode_pkce_request"), None),
        fixture_flow(
            4,
            Some("provisioning/provision_objects_request"),
            Some("provisioning/provision_objects_response"),
        ),
        fixture_flow(5, None, Some("wsfed/federation_metadata")),
        fixture_flow(6, Some("saml/post_response_wrapping_attack"), None),
        simple_flow(
            7,
            "GET",
            "https://redirector.gvt1.com/edgedl/chrome/dict/en-us-10-1.bdic",
            200,
            "application/octet-stream",
            b"BDic\x02\x00",
        ),
    ]
}

/// A test app of `cols` × 24 holding [`browser_flows`], fully loaded.
pub fn browser_app(cols: u16) -> App {
    let mut app = App::for_test();
    app.update(Event::Resize(cols, 24));
    app.update(Event::Loaded(
        browser_flows().into_iter().map(with_digest).collect(),
    ));
    app.update(Event::LoadDone(Ok(None)));
    app
}

/// Writes flows as a HAR capture.
pub fn write_capture(path: &Path, flows: &[Flow]) {
    let mut w = HarWriter::create(path).unwrap();
    for f in flows {
        w.write_flow(f).unwrap();
    }
    w.finish().unwrap();
}
