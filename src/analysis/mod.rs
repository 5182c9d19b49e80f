//! Cross-flow work over a capture: decoding each flow's request and response with the decoder
//! registry ([`decode_flow`] → [`FlowReport`]), and learning trust from the capture itself
//! ([`learn_trust`]: a JWKS answered in flow #N becomes a key "from flow #N", so every JWT in the
//! same capture is verified against it and the verdict names that flow), per-flow digests for
//! lists and filters ([`digest`]) and sequences ([`story`], their text in [`story_text`]), the
//! structural comparison of decoded trees that replay, `diff` and the TUI's `=` share
//! ([`compare`]), and the ordered worker pool both `analyze` and the TUI's loader decode captures
//! with ([`pipeline`]). This module neither reads files nor prints.

pub mod compare;
pub mod correlation;
pub mod digest;
pub mod json;
pub mod pipeline;
pub mod story;
pub mod story_text;
pub mod summary;
pub mod websocket;

use idscope_decoders::registry::GENERIC;
use idscope_decoders::{Context, Finding, Limits, Outcome, Registry, Severity, Trust};

use crate::flow::{DEFAULT_DECODED_CAP, Flow, FlowId};

/// Which half of a flow something belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The request.
    Request,
    /// The response (or the error in its place).
    Response,
}

/// Everything the decoders said about one flow.
#[derive(Debug, Clone)]
pub struct FlowReport {
    /// The flow.
    pub id: FlowId,
    /// Every applicable decoder's outcome on the request, best first.
    pub request: Vec<Outcome>,
    /// Every applicable decoder's outcome on the response, best first.
    pub response: Vec<Outcome>,
    /// Findings about the flow itself (no response, undecodable body).
    pub flow_findings: Vec<Finding>,
}

impl FlowReport {
    /// Ids of the specific (non-generic) decoders that succeeded, request first, without
    /// repeats; falls back to the generic ones when nothing specific applied.
    pub fn kinds(&self) -> Vec<&'static str> {
        let ok = || {
            self.request
                .iter()
                .chain(&self.response)
                .filter(|o| o.result.is_ok())
                .map(|o| o.decoder)
        };
        let mut kinds: Vec<&'static str> = Vec::new();
        for id in ok().filter(|id| !GENERIC.contains(id)) {
            if !kinds.contains(&id) {
                kinds.push(id);
            }
        }
        if kinds.is_empty() {
            for id in ok() {
                if !kinds.contains(&id) {
                    kinds.push(id);
                    break;
                }
            }
        }
        kinds
    }

    /// The one-line summary: the best specific interpretation of the request and of the
    /// response, joined by `⇒`.
    pub fn summary(&self) -> String {
        let best = |outs: &[Outcome]| -> Option<String> {
            let ok = || outs.iter().filter_map(|o| o.result.as_ref().ok());
            ok().find(|d| !GENERIC.contains(&d.decoder))
                .or_else(|| ok().next())
                .map(|d| d.summary.clone())
        };
        match (best(&self.request), best(&self.response)) {
            (Some(q), Some(s)) => format!("{q} ⇒ {s}"),
            (Some(q), None) => q,
            (None, Some(s)) => s,
            (None, None) => String::new(),
        }
    }

    /// Every finding: the flow's own, then each successful outcome's, with the side and decoder.
    /// When a specific decoder understood a side, the generic fallbacks' findings on that side are
    /// left out: they only repeat, less precisely, what the specific one said.
    pub fn findings(&self) -> Vec<(Option<Side>, &'static str, &Finding)> {
        let mut all: Vec<(Option<Side>, &'static str, &Finding)> = self
            .flow_findings
            .iter()
            .map(|f| (None, "flow", f))
            .collect();
        for (side, outs) in [
            (Side::Request, &self.request),
            (Side::Response, &self.response),
        ] {
            let decoded = || outs.iter().filter_map(|o| o.result.as_ref().ok());
            let specific = decoded().any(|d| !GENERIC.contains(&d.decoder));
            for d in decoded().filter(|d| !specific || !GENERIC.contains(&d.decoder)) {
                all.extend(d.findings.iter().map(|f| (Some(side), d.decoder, f)));
            }
        }
        all
    }

    /// The worst severity among all findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings().iter().map(|(_, _, f)| f.severity).max()
    }
}

/// Decodes both halves of a flow at the flow's own time (so expiry is judged against capture
/// time, not today).
pub fn decode_flow(flow: &Flow, registry: &Registry, trust: &Trust, limits: Limits) -> FlowReport {
    // A document cannot vouch for itself: keys this very flow published are left out while its
    // own signatures are checked.
    let own = format!("flow {}", flow.id);
    let is_own = |source: &str| source.ends_with(&own);
    let without_own;
    let trust = if trust.keys.iter().any(|k| is_own(&k.source))
        || trust.certs.iter().any(|c| is_own(&c.source))
        || trust.seen_certs.iter().any(|c| is_own(&c.source))
    {
        let mut t = trust.clone();
        t.keys.retain(|k| !is_own(&k.source));
        t.certs.retain(|c| !is_own(&c.source));
        t.seen_certs.retain(|c| !is_own(&c.source));
        without_own = t;
        &without_own
    } else {
        trust
    };
    let cx = Context::new(flow.started_at, trust).with_limits(limits);
    let cap = limits.max_inflate.min(DEFAULT_DECODED_CAP);
    let mut flow_findings = Vec::new();

    let req_body = match flow.request.body.decoded(cap) {
        Ok(b) => b,
        Err(e) => {
            flow_findings.push(Finding::warning(format!("request body: {e}")));
            flow.request.body.decoded_lossy(cap)
        }
    };
    let request = registry.decode_all(&flow.request_message(&req_body), &cx);

    let mut response = match flow.response() {
        Some(r) => {
            let body = match r.body.decoded(cap) {
                Ok(b) => b,
                Err(e) => {
                    flow_findings.push(Finding::warning(format!("response body: {e}")));
                    r.body.decoded_lossy(cap)
                }
            };
            flow_findings.extend(client_cert_missing(r));
            if r.body.truncated {
                flow_findings.push(Finding::info(format!(
                    "response body truncated: {} of {} bytes kept",
                    r.body.raw.len(),
                    r.body.size
                )));
            }
            match flow.response_message(&body) {
                Some(msg) => {
                    // A Negotiate token ADFS answered with another 401 (extended protection).
                    flow_findings.extend(idscope_decoders::saml::wia::negotiate_rejected(
                        &flow.request_message(&req_body),
                        &msg,
                    ));
                    registry.decode_all(&msg, &cx)
                }
                None => Vec::new(),
            }
        }
        None => {
            if let Some(e) = flow.error() {
                let what = if e.incomplete {
                    "incomplete"
                } else {
                    "no response"
                };
                flow_findings.push(Finding::error(format!("{what}: {}", e.message)));
            }
            Vec::new()
        }
    };
    // A recorded WebSocket conversation on the Service Bus relay: its layers, with the response.
    if let Some(relay) = websocket::relay_outcome(flow, &cx) {
        response.insert(0, relay);
    }
    FlowReport {
        id: flow.id,
        request,
        response,
        flow_findings,
    }
}

/// The origin asked the proxy for a client certificate and none was configured (the proxy's
/// `_clientCertificate` record on the response says so and explains it): an error when the
/// origin then refused the request, a warning when it answered anyway.
fn client_cert_missing(r: &crate::flow::Response) -> Option<Finding> {
    let text = r
        .extra
        .get("_clientCertificate")?
        .get("missing")?
        .as_str()?;
    Some(if r.status >= 400 {
        Finding::error(text.to_string())
    } else {
        Finding::warning(text.to_string())
    })
}

/// Learns what the capture itself publishes: if this flow's response is a JWKS document, its keys
/// join `trust` with the source `"flow #N"`; if it is federation metadata (`EntityDescriptor`),
/// its token-signing certificates join with the source `"FederationMetadata in flow #N"`; if it
/// is a PRT response whose `session_key_jwe` a decryption key in `trust` (the device transport
/// key) unwraps, the session key joins the decryption keys, so the PRT's later requests,
/// cookies and encrypted responses are checked with it; if this flow's request carries a client
/// assertion with an `x5c` certificate, that certificate is kept as seen, never as an anchor; a
/// PRT protocol v4 request's `jwe_crypto.apv` is kept too, for the ECDH-ES answer to it. Returns
/// how many keys, certificates and `apv`s were added. Cheap for everything else: only bodies
/// that carry the markers are parsed.
pub fn learn_trust(flow: &Flow, trust: &mut Trust) -> usize {
    learn_seen_certs(flow, trust)
        + learn_party_v_info(flow, trust)
        + learn_from_response(flow, trust)
}

fn learn_party_v_info(flow: &Flow, trust: &mut Trust) -> usize {
    if memchr::memmem::find(&flow.request.body.raw, b"prt_protocol_version").is_none() {
        return 0;
    }
    let body = flow.request.body.decoded_lossy(DEFAULT_DECODED_CAP);
    usize::from(idscope_decoders::prt::crypto::learn_party_v_info(
        &body,
        &mut trust.decryption,
        &format!("flow {}", flow.id),
        &Limits::default(),
    ))
}

fn learn_from_response(flow: &Flow, trust: &mut Trust) -> usize {
    let Some(r) = flow.response() else { return 0 };
    if !(200..300).contains(&r.status) {
        return 0;
    }
    learn_published(flow, r, trust)
}

/// The certificate in the `x5c` of a client assertion this flow's request carries, kept as seen
/// ([`Trust::add_seen_cert`], source `"x5c of the client assertion in flow #N"`): never an
/// anchor, but a later assertion's thumbprint can name it.
fn learn_seen_certs(flow: &Flow, trust: &mut Trust) -> usize {
    let body = flow.request.body.decoded_lossy(DEFAULT_DECODED_CAP);
    if memchr::memmem::find(&body, b"client_assertion=").is_none() {
        return 0;
    }
    let before = trust.seen_certs.len();
    let source = format!("x5c of the client assertion in flow {}", flow.id);
    for (_, v) in idscope_decoders::util::parse_form(&body)
        .into_iter()
        .filter(|(k, _)| k == "client_assertion")
    {
        if let Some(der) = idscope_decoders::jwt::parse_limited(&v, &Limits::default())
            .ok()
            .and_then(|t| idscope_decoders::jwt::x5c_leaf(&t))
        {
            trust.add_seen_cert(der, &source);
        }
    }
    trust.seen_certs.len() - before
}

/// What a successful response publishes: a JWKS, federation metadata, a PRT session key.
fn learn_published(flow: &Flow, r: &crate::flow::Response, trust: &mut Trust) -> usize {
    let body = r.body.decoded_lossy(DEFAULT_DECODED_CAP);
    let has = |needle: &[u8]| memchr::memmem::find(&body, needle).is_some();
    if has(b"EntityDescriptor") {
        let Ok(text) = std::str::from_utf8(&body) else {
            return 0;
        };
        let before = trust.certs.len();
        let source = format!("FederationMetadata in flow {}", flow.id);
        for der in idscope_decoders::saml::signing_certificates(text, &Limits::default()) {
            trust.add_cert(der, &source);
        }
        return trust.certs.len() - before;
    }
    if has(b"session_key_jwe") {
        let flow_name = format!("flow {}", flow.id);
        let learned = idscope_decoders::prt::crypto::learn_session_key(
            &body,
            &trust.decryption,
            &flow_name,
            &Limits::default(),
        );
        return learned.map_or(0, |k| usize::from(trust.decryption.add(k)));
    }
    if !(has(b"\"keys\"") && has(b"\"kty\"")) {
        return 0;
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(doc) => trust.add_jwks(&doc, &format!("flow {}", flow.id)),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, request_with, response};

    #[test]
    fn jwks_in_a_capture_becomes_trust_named_after_its_flow() {
        let jwks = br#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}"#;
        let f = flow(
            4,
            request("GET", "https://login.example/common/discovery/keys"),
            response(200, "application/json", jwks),
        );
        let mut trust = Trust::default();
        assert_eq!(learn_trust(&f, &mut trust), 1);
        assert_eq!(trust.keys[0].source, "flow #5");
    }

    #[test]
    fn a_jwks_fetched_again_adds_no_copies_and_keeps_its_first_source() {
        let jwks = br#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"},{"kty":"RSA","kid":"k2","n":"AQAB","e":"AQAB"}]}"#;
        let mut trust = Trust::default();
        for n in 0..1_000 {
            let f = flow(
                n,
                request("GET", "https://login.example/common/discovery/keys"),
                response(200, "application/json", jwks),
            );
            learn_trust(&f, &mut trust);
        }
        assert_eq!(trust.keys.len(), 2);
        assert!(trust.keys.iter().all(|k| k.source == "flow #1"));
        // A rotated key set adds only the new key.
        let rotated = br#"{"keys":[{"kty":"RSA","kid":"k2","n":"AQAB","e":"AQAB"},{"kty":"RSA","kid":"k3","n":"AQAB","e":"AQAB"}]}"#;
        let f = flow(
            2_000,
            request("GET", "https://login.example/common/discovery/keys"),
            response(200, "application/json", rotated),
        );
        assert_eq!(learn_trust(&f, &mut trust), 1);
        assert_eq!(trust.keys.len(), 3);
        assert_eq!(trust.keys[2].source, "flow #2001");
    }

    /// A PRT protocol v4 answer whose header does not repeat `apv` opens with the transport key
    /// once the request's `apv` was learned from its flow.
    #[test]
    fn a_v4_requests_apv_is_learned_for_its_ecdh_answer() {
        let fixture = |name: &str| {
            let path = format!(
                "{}/decoders/tests/fixtures/prt/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::read_to_string(path).unwrap()
        };
        let body_of = |text: &str| text.split_once("\n\n").unwrap().1.trim().to_string();
        let url = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
        let mut req = request("POST", url);
        req.body = crate::flow::Body::plain(
            body_of(&fixture("prt_v4_request_password.http")).into_bytes(),
        );
        let f = flow(
            3,
            req,
            response(
                200,
                "application/json; charset=utf-8",
                body_of(&fixture("prt_v4_response.http")).as_bytes(),
            ),
        );
        let mut trust = Trust::default();
        trust
            .decryption
            .add_file(
                fixture("prt-ec-transport.pem").as_bytes(),
                "--key transport-ec.pem",
                None,
            )
            .unwrap();
        let before = decode_flow(&f, Registry::builtin(), &trust, Limits::default());
        assert!(
            before.summary().ends_with("needs the request's apv"),
            "{}",
            before.summary()
        );
        assert_eq!(learn_trust(&f, &mut trust), 1);
        let after = decode_flow(&f, Registry::builtin(), &trust, Limits::default());
        assert!(
            after.summary().contains("PRT issued (carol@contoso.test)"),
            "{}",
            after.summary()
        );
        assert!(
            after
                .findings()
                .iter()
                .any(|(_, _, f)| f.message.contains("apv of the request of flow #4")),
            "{:?}",
            after.findings()
        );
    }

    /// A token request of a golden case (`decoders/tests/fixtures/oauth/<case>.http`) as flow `n`.
    fn golden_token_request(n: u64, case: &str) -> Flow {
        let text = std::fs::read_to_string(format!(
            "{}/decoders/tests/fixtures/oauth/{case}.http",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let msg = idscope_decoders::OwnedMessage::parse_http_text(&text).unwrap();
        let mut req = request_with(
            "POST",
            msg.url.as_deref().unwrap(),
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        req.body = crate::flow::Body::plain(msg.body);
        flow(n, req, response(400, "application/json", b"{}"))
    }

    #[test]
    fn a_client_assertions_x5c_is_seen_never_trusted_and_names_a_later_thumbprint() {
        let mut trust = Trust::default();
        let first = golden_token_request(0, "client_assertion_sync_rs256_v1_x5c");
        assert_eq!(learn_trust(&first, &mut trust), 1);
        assert!(
            trust.is_empty(),
            "a certificate in a message is not an anchor"
        );
        assert_eq!(
            trust.seen_certs[0].source,
            "x5c of the client assertion in flow #1"
        );
        // A later assertion names the same certificate by its SHA-256 thumbprint only.
        let later = golden_token_request(1, "client_assertion_sync_ps256_v2");
        let r = decode_flow(&later, Registry::builtin(), &trust, Limits::default());
        let d = r
            .request
            .iter()
            .find_map(|o| o.result.as_ref().ok())
            .unwrap();
        let row = d.root.find_path("certificate/x5t#S256").unwrap();
        assert_eq!(
            row.value.as_deref(),
            Some("CN=Entra Connect Sync (synthetic) from x5c of the client assertion in flow #1")
        );
        let verdict = d.root.find_path("client_assertion/verification").unwrap();
        assert!(
            verdict.value.as_deref().unwrap().starts_with("unverified"),
            "{verdict:?}"
        );
    }

    #[test]
    fn non_jwks_bodies_add_no_keys() {
        let f = flow(
            0,
            request("GET", "https://x/"),
            response(200, "application/json", br#"{"keys":[1]}"#),
        );
        let mut trust = Trust::default();
        assert_eq!(learn_trust(&f, &mut trust), 0);
        let err = flow(
            1,
            request("GET", "https://x/"),
            response(500, "application/json", br#"{"keys":[{"kty":"RSA"}]}"#),
        );
        assert_eq!(learn_trust(&err, &mut trust), 0);
        assert!(trust.is_empty());
    }

    #[test]
    fn generic_findings_are_left_out_where_a_specific_decoder_understood_the_side() {
        let form = b"grant_type=password&client_id=c&username=u%40x&password=p&resource=r";
        let mut req = request_with(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/token",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        req.body = crate::flow::Body::plain(form.to_vec());
        let f = flow(0, req, response(200, "text/plain", b""));
        let r = decode_flow(
            &f,
            Registry::builtin(),
            &Trust::default(),
            Limits::default(),
        );
        assert!(
            r.request
                .iter()
                .any(|o| o.decoder == "form" && o.result.is_ok()),
            "form decodes too"
        );
        let deciders: Vec<&str> = r.findings().iter().map(|(_, d, _)| *d).collect();
        assert!(deciders.contains(&"oauth"), "{deciders:?}");
        assert!(!deciders.contains(&"form"), "{deciders:?}");
    }

    #[test]
    fn error_flows_report_why_there_is_no_response() {
        let mut f = flow(
            0,
            request("GET", "https://x/"),
            response(200, "text/plain", b""),
        );
        f.outcome = crate::flow::Outcome::Error(crate::flow::FlowError {
            message: "connection reset".into(),
            incomplete: false,
        });
        let r = decode_flow(
            &f,
            Registry::builtin(),
            &Trust::default(),
            Limits::default(),
        );
        assert_eq!(r.worst(), Some(Severity::Error));
        assert!(
            r.findings()[0]
                .2
                .message
                .contains("no response: connection reset")
        );
    }
}
