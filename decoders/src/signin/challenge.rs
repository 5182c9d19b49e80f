//! `WWW-Authenticate: Bearer` challenges that name an error (RFC 6750 §3): a resource refusing
//! the access token it was sent. Entra ID's resources add a claims challenge
//! (`error="insufficient_claims", claims="<base64 JSON>"`, with `authorization_uri` and
//! `realm`): Continuous Access Evaluation (CAE) revoked the token, or Conditional Access needs a
//! step-up, and the client must get a new token asking for those claims. Resources send claims
//! challenges only to clients that declared they can handle them (`xms_cc` with `cp1` in their
//! token requests' `claims`). The challenge list is read with the `http-auth` crate.

use http_auth::parser::ChallengeParser;

use crate::generic::{JsonValue, json_tree_plain, parse_json_ordered};
use crate::oauth::{aadsts_code, aadsts_meaning};
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Context, Message};

const LABEL: &str = "Bearer challenge";

/// Most challenges read from one header value.
const MAX_CHALLENGES: usize = 16;

/// The parameters (names lowercased, values unescaped) of the first `Bearer` challenge of the
/// response's `WWW-Authenticate` headers that names an `error`. A header that stops parsing
/// keeps the challenges read before the fault.
pub(super) fn bearer_error(msg: &Message<'_>) -> Option<Vec<(String, String)>> {
    if msg.status.is_none_or(|s| s < 400) {
        return None;
    }
    msg.headers_named("www-authenticate").find_map(|value| {
        ChallengeParser::new(value)
            .take(MAX_CHALLENGES)
            .map_while(Result::ok)
            .filter(|c| c.scheme.eq_ignore_ascii_case("bearer"))
            .map(|c| {
                c.params
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.to_unescaped()))
                    .collect::<Vec<_>>()
            })
            .find(|params| params.iter().any(|(k, v)| k == "error" && !v.is_empty()))
    })
}

/// Meaning of a bearer-token error code (RFC 6750 §3.1, and Entra ID's claims challenge).
fn error_meaning(error: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_request" => "the request is missing a parameter or is malformed",
        "invalid_token" => {
            "the access token is expired, revoked, malformed or not for this resource"
        }
        "insufficient_scope" => "the access token lacks the scope the resource requires",
        "insufficient_claims" => {
            "claims challenge: the access token lacks claims the resource requires (CAE revoked \
             it, or Conditional Access needs a step-up); get a new token asking for the claims \
             below"
        }
        _ => return None,
    })
}

fn param_note(name: &str) -> Option<&'static str> {
    Some(match name {
        "realm" => "the tenant of the resource (empty: any, through the common endpoint)",
        "authorization_uri" => "where to sign in interactively to satisfy the challenge",
        "client_id" => "the application id of the resource",
        "error_description" => "the resource's description of the error",
        "error_uri" => "a page about the error",
        "scope" => "the scope the resource requires",
        "resource_id" | "resource" => "the resource to ask a token for",
        _ => return None,
    })
}

/// What a requested claim asks for, for the claims worth a note.
fn claim_note(name: &str, value: Option<&JsonValue>) -> Option<String> {
    let value_text = value.map(JsonValue::display);
    Some(match name {
        "nbf" => {
            let when = value
                .and_then(JsonValue::as_i64)
                .map(|s| format!(" ({})", util::format_epoch(s)))
                .unwrap_or_default();
            format!(
                "the new token must be issued after this time{when}: CAE revoked the old one (a \
                 critical event: password change, account disabled, sessions revoked, risk or \
                 location change)"
            )
        }
        "acrs" => format!(
            "Conditional Access authentication context {}: a step-up (MFA, a compliant device …) \
             the resource requires for this operation",
            value_text.unwrap_or_default()
        ),
        "xms_cc" => {
            "client capabilities: cp1 says the client can handle claims challenges (CAE-capable)"
                .to_string()
        }
        _ => return None,
    })
}

/// The claims challenge decoded: the base64 of a JSON claims request.
fn claims_node(b64: &str, cx: &Context<'_>) -> (Node, Vec<Finding>, Option<JsonValue>) {
    let Some(bytes) = util::b64_decode_any(b64.trim(), cx.limits.max_inflate) else {
        let n = Node::leaf("claims", b64, Kind::Error).with_note("not base64");
        return (
            n,
            vec![
                Finding::warning("the claims challenge is not base64")
                    .at(format!("{LABEL}/claims")),
            ],
            None,
        );
    };
    match parse_json_ordered(&bytes, "claims", &cx.limits) {
        Ok(v) => {
            let (mut tree, findings) = json_tree_plain("claims", &v, cx);
            tree.value = Some(String::from_utf8_lossy(&bytes).into_owned());
            tree.note = Some(
                "the claims request to send back (as the claims parameter of a new authorize or \
                 token request)"
                    .to_string(),
            );
            for token in &mut tree.children {
                for claim in &mut token.children {
                    let value = v
                        .get(&token.label)
                        .and_then(|t| t.get(&claim.label))
                        .and_then(|c| c.get("value").or_else(|| c.get("values")));
                    if claim.note.is_none() {
                        claim.note = claim_note(&claim.label, value);
                    }
                }
            }
            (tree, findings, Some(v))
        }
        Err(e) => (
            Node::leaf("claims", String::from_utf8_lossy(&bytes), Kind::Error)
                .with_note(e.to_string()),
            vec![
                Finding::warning(format!("the claims challenge is not JSON: {e}"))
                    .at(format!("{LABEL}/claims")),
            ],
            None,
        ),
    }
}

/// What the claims ask for, in a few words.
fn claims_gist(claims: &JsonValue) -> Option<String> {
    let at = claims.get("access_token")?;
    if let Some(nbf) = at
        .get("nbf")
        .and_then(|c| c.get("value"))
        .and_then(JsonValue::as_i64)
    {
        return Some(format!(
            "token revoked (CAE): a new one issued after {} is needed",
            util::format_epoch(nbf)
        ));
    }
    if let Some(acrs) = at
        .get("acrs")
        .and_then(|c| c.get("value").or_else(|| c.get("values")))
    {
        return Some(format!(
            "step-up to authentication context {} is needed",
            acrs.display()
        ));
    }
    None
}

/// Explains a response whose `Bearer` challenge names an error.
pub(super) fn explain(msg: &Message<'_>, params: &[(String, String)], cx: &Context<'_>) -> Decoded {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let error = get("error").unwrap_or_default();
    let status = msg.status.unwrap_or(0);
    let mut root = Node::section(LABEL).with_note(
        "the resource refused the access token it was sent and says why in its WWW-Authenticate \
         header",
    );
    root.value = Some(format!("HTTP {status} {error}"));
    let mut findings = Vec::new();
    let mut claims = None;
    for (k, v) in params {
        let node = match k.as_str() {
            "error" => {
                let mut n = Node::field("error", v);
                n.note = error_meaning(v).map(|m| format!("RFC 6750: {m}"));
                n
            }
            "claims" => {
                let (n, f, c) = claims_node(v, cx);
                findings.extend(f);
                claims = c;
                n
            }
            _ => {
                let mut n = Node::field(k.clone(), v);
                n.note = param_note(k).map(str::to_string);
                n
            }
        };
        root.push(node);
    }
    let body_error = body_error(msg, cx);
    if let Some((code, message)) = &body_error {
        let mut n =
            Node::section("response error").with_note("the error the resource's JSON body gives");
        if let Some(c) = code {
            n.push(Node::field("code", c));
        }
        if let Some(m) = message {
            n.push(Node::text("message", util::ellipsize(m, 400)));
        }
        root.push(n);
    }
    let code = get("error_description").and_then(aadsts_code);
    if let Some(c) = code {
        root.push(
            Node::field("AADSTS", c.to_string()).with_note(
                aadsts_meaning(c)
                    .unwrap_or("not in idscope's table")
                    .to_string(),
            ),
        );
    }
    let gist = claims
        .as_ref()
        .and_then(claims_gist)
        .or_else(|| code.and_then(aadsts_meaning).map(str::to_string))
        .or_else(|| get("error_description").map(|d| util::clip(d, 100)))
        .or_else(|| error_meaning(error).map(str::to_string))
        .unwrap_or_default();
    let summary = format!("{status} {LABEL} {error}: {gist}");
    let mut message = format!("the resource refused the access token: {error}: {gist}");
    if let Some(c) = &claims {
        message.push_str(&format!(
            "; claims to ask for: {}",
            util::clip(&compact(c), 200)
        ));
    }
    if let Some((_, Some(m))) = &body_error {
        message.push_str(&format!("; the resource says: \"{}\"", util::clip(m, 200)));
    }
    let mut d =
        Decoded::new("signin", summary, root).with_finding(Finding::error(message).at(LABEL));
    d.findings.extend(findings);
    d
}

/// The `error` object of a JSON body (Microsoft Graph's and Azure's shape: `{"error": {"code":
/// …, "message": …}}`): its code and message.
fn body_error(msg: &Message<'_>, cx: &Context<'_>) -> Option<(Option<String>, Option<String>)> {
    if !msg.body.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    let v = parse_json_ordered(msg.body, "body", &cx.limits).ok()?;
    let e = v.get("error")?;
    let field = |k: &str| e.get(k).and_then(JsonValue::as_str).map(str::to_string);
    let (code, message) = (field("code"), field("message"));
    (code.is_some() || message.is_some()).then_some((code, message))
}

/// A JSON value written compactly.
fn compact(v: &JsonValue) -> String {
    match v {
        JsonValue::String(s) => serde_json::Value::String(s.clone()).to_string(),
        JsonValue::Array(a) => format!("[{}]", a.iter().map(compact).collect::<Vec<_>>().join(",")),
        JsonValue::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::String(k.clone()), compact(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.display(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trust;
    use crate::view::Severity;
    use std::time::UNIX_EPOCH;

    fn response(status: u16, challenge: &str) -> crate::OwnedMessage {
        crate::OwnedMessage {
            direction: crate::Direction::Response,
            method: Some("GET".into()),
            url: Some("https://graph.microsoft.com/v1.0/me".into()),
            status: Some(status),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("WWW-Authenticate".into(), challenge.into()),
            ],
            body: br#"{"error":{"code":"InvalidAuthenticationToken","message":"Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp"}}"#.to_vec(),
        }
    }

    /// The view of a response challenging with this `WWW-Authenticate` value.
    fn challenged(status: u16, challenge: &str) -> Decoded {
        let owned = response(status, challenge);
        let msg = owned.as_message();
        let params = bearer_error(&msg).expect("a Bearer error challenge");
        let trust = Trust::default();
        explain(&msg, &params, &Context::new(UNIX_EPOCH, &trust))
    }

    #[test]
    fn a_cae_claims_challenge_is_decoded_and_explained() {
        // The claims: {"access_token":{"nbf":{"essential":true, "value":"1700000000"}}}
        let b64 = crate::util::b64_std(
            br#"{"access_token":{"nbf":{"essential":true, "value":"1700000000"}}}"#,
        );
        let d = challenged(
            401,
            &format!(
                r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="{b64}""#
            ),
        );
        assert_eq!(
            d.summary,
            "401 Bearer challenge insufficient_claims: token revoked (CAE): a new one issued after 2023-11-14T22:13:20Z is needed"
        );
        assert_eq!(d.worst(), Some(Severity::Error));
        let nbf = d.root.find_path("claims/access_token/nbf").unwrap();
        assert!(
            nbf.note
                .as_deref()
                .unwrap()
                .contains("CAE revoked the old one")
        );
        assert!(d.has_finding(
            r#"claims to ask for: {"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#
        ));
        assert!(d.has_finding(
            "the resource says: \"Continuous access evaluation resulted in challenge"
        ));
        assert_eq!(
            d.root
                .child("authorization_uri")
                .and_then(|n| n.note.as_deref()),
            Some("where to sign in interactively to satisfy the challenge")
        );
    }

    #[test]
    fn a_step_up_challenge_and_client_capabilities_are_explained() {
        // Microsoft's example of an authentication-context challenge (base64 with padding).
        let d = challenged(
            401,
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiY3AxIn19fQ==""#,
        );
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        assert!(
            d.summary
                .ends_with("step-up to authentication context cp1 is needed"),
            "{}",
            d.summary
        );
        let (n, _, _) = claims_node(
            &crate::util::b64_std(br#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#),
            &cx,
        );
        assert!(
            n.find_path("access_token/xms_cc")
                .unwrap()
                .note
                .as_deref()
                .unwrap()
                .contains("cp1 says the client can handle claims challenges")
        );
    }

    #[test]
    fn any_bearer_error_counts_and_a_bare_challenge_does_not() {
        let d = challenged(
            401,
            r#"Negotiate, Bearer realm="contoso", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(
            d.summary,
            "401 Bearer challenge invalid_token: The access token expired"
        );
        assert!(
            bearer_error(
                &response(401, r#"Bearer realm="", authorization_uri="https://x""#).as_message()
            )
            .is_none()
        );
        assert!(
            bearer_error(&response(200, r#"Bearer error="invalid_token""#).as_message()).is_none()
        );
        // A malformed claims value is said, not fatal.
        let d = challenged(
            401,
            r#"Bearer error="insufficient_claims", claims="not base64!""#,
        );
        assert!(d.has_finding("the claims challenge is not base64"));
    }
}
