//! The view of a JSON token response ([`explain_response`]): success responses (v1 string
//! numbers, v2 `client_info`, PRT `pop` responses with their session key and TGTs), device-code
//! start responses and the `srv_challenge` nonce, each with its one-line summary.
//!
//! Error responses are handed to `errors`; this module is *not* responsible for their meaning.

use serde_json::{Map, Value};

use super::errors::explain_error;
use super::grants::Version;
use super::tokens::{nested_jwt, refresh_token_node, with_app_note};
use crate::jwt::{self, Form, Role};
use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded};

/// Members of a success response in reading order; the rest follow alphabetically.
const SUCCESS_ORDER: &[&str] = &[
    "token_type",
    "scope",
    "expires_in",
    "ext_expires_in",
    "expires_on",
    "not_before",
    "refresh_in",
    "resource",
    "access_token",
    "id_token",
    "refresh_token",
    "refresh_token_expires_in",
    "foci",
    "client_info",
    "session_key_jwe",
    "tgt_ad",
    "tgt_cloud",
    "kerberos_top_level_names",
];

/// Members of a device-code start response in reading order.
const DEVICE_ORDER: &[&str] = &[
    "user_code",
    "verification_url",
    "verification_uri",
    "verification_uri_complete",
    "expires_in",
    "interval",
    "message",
    "device_code",
];

/// Explains a JSON token-endpoint response: success (v1/v2/PRT), device-code start, the
/// `srv_challenge` nonce, or an error. `version` comes from the request URL when known.
pub fn explain_response(
    v: &Value,
    version: Option<Version>,
    status: Option<u16>,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("an OAuth response", "the body is not a JSON object"))?;
    if let Some(n) = obj.get("Nonce") {
        let nonce = util::json_scalar(n);
        let root = Node::section("srv_challenge response")
            .with_note("the nonce a PRT request must carry as request_nonce (MS-OAPXBC)")
            .with_child(Node::field("Nonce", &nonce).with_note(format!(
                "opaque server nonce ({} chars), short-lived; note the capital N",
                nonce.chars().count()
            )));
        return Ok(Decoded::new(
            "oauth",
            format!(
                "srv_challenge response: Nonce ({} chars)",
                nonce.chars().count()
            ),
            root,
        ));
    }
    if obj.contains_key("error") {
        return Ok(explain_error(obj, status));
    }
    if obj.contains_key("device_code") && obj.contains_key("user_code") {
        return Ok(explain_device_start(obj, cx));
    }
    if ["access_token", "refresh_token", "id_token", "token_type"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return Ok(explain_success(obj, version, cx));
    }
    Err(DecodeError::not(
        "an OAuth response",
        "no access_token, refresh_token, id_token, error, device_code or Nonce",
    ))
}

fn seconds_node(label: &str, v: &Value, note: &str) -> Node {
    match util::json_int(v) {
        Some(s) => {
            let value = if (0..60).contains(&s) {
                format!("{s} s")
            } else {
                let human = util::human_duration(std::time::Duration::from_secs(s.unsigned_abs()));
                format!("{s} s ({human})")
            };
            let mut n = Node::leaf(label, value, Kind::Number).with_note(note);
            if v.is_string() {
                n.note = Some(format!("{note}; sent as a string (v1)"));
            }
            n
        }
        None => Node::leaf(label, util::json_scalar(v), Kind::Error)
            .with_note(format!("{note}; not a number")),
    }
}

fn explain_success(
    obj: &Map<String, Value>,
    version: Option<Version>,
    cx: &Context<'_>,
) -> Decoded {
    let version = version.unwrap_or_else(|| {
        let v1 = obj.contains_key("expires_on")
            || obj.contains_key("resource")
            || obj.get("expires_in").is_some_and(Value::is_string);
        if v1 { Version::V1 } else { Version::V2 }
    });
    let pop = obj
        .get("token_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("pop"));
    let mut findings = Vec::new();
    let label = "token response";
    let mut root = Node::section(label);
    root.value = Some(if pop {
        format!("{} (PRT, token_type pop)", version.as_str())
    } else {
        version.as_str().to_string()
    });
    // The summary names the tokens, looked up directly (the same for a full and a summary-only
    // decode).
    let list: Vec<String> = SUMMARY_MEMBERS
        .iter()
        .filter_map(|k| summary_part(k, &util::json_scalar(obj.get(*k)?), pop, obj, cx))
        .collect();
    // Every member, in the usual order, for the tree (none for a summary-only decode).
    let members = if cx.summary_only {
        Vec::new()
    } else {
        jwt::ordered(obj, SUCCESS_ORDER)
    };
    for (k, v) in members {
        let text = util::json_scalar(v);
        let node = match k.as_str() {
            "token_type" => Node::field(k.clone(), &text).with_note(if pop {
                "pop: proof-of-possession; the tokens are bound to the PRT session key (MS-OAPXBC)"
            } else {
                "Bearer: whoever holds the access token can use it"
            }),
            "scope" => {
                let mut n = jwt::scope_node("scope", &text);
                n.note = Some(
                    "the scopes actually granted (may differ from those asked for)".to_string(),
                );
                n
            }
            "expires_in" => seconds_node(k, v, "lifetime of the issued token, from now"),
            "ext_expires_in" => seconds_node(
                k,
                v,
                "extended lifetime honoured while Entra ID is degraded (resilience)",
            ),
            "refresh_token_expires_in" => seconds_node(k, v, "lifetime of the refresh token"),
            "refresh_in" => seconds_node(k, v, "when the client should refresh proactively"),
            "expires_on" | "not_before" => match util::json_int(v) {
                Some(s) => Node::leaf(
                    k.clone(),
                    util::format_epoch_relative(s, cx.now),
                    Kind::Timestamp,
                )
                .with_note(if k == "expires_on" {
                    "v1: when the access token expires (epoch seconds, sent as a string)"
                } else {
                    "v1: when the access token becomes valid (epoch seconds, sent as a string)"
                }),
                None => Node::leaf(k.clone(), text, Kind::Error).with_note("not a number"),
            },
            "resource" => with_app_note(
                Node::field(k.clone(), &text).with_note("v1: the resource the access token is for"),
                &text,
            ),
            "access_token" => token_node(k, &text, Role::AccessToken, label, cx, &mut findings),
            "id_token" => token_node(k, &text, Role::IdToken, label, cx, &mut findings),
            "refresh_token" => refresh_token_node(&text, pop),
            "session_key_jwe" => {
                let mut n = token_node(k, &text, Role::Unknown, label, cx, &mut findings);
                n.note = Some(format!(
                    "the PRT session key, encrypted (RSA-OAEP) to the device transport key; {}",
                    n.note.unwrap_or_default()
                ));
                n
            }
            "client_info" => client_info_node(&text, cx),
            "foci" => {
                if text == "1" {
                    findings.push(
                        Finding::info(
                            "FOCI refresh token (foci=1): any app of the Microsoft family of \
                             client IDs can redeem it",
                        )
                        .at(format!("{label}/foci")),
                    );
                }
                Node::field(k.clone(), &text).with_note(
                    "family of client IDs: 1 = the refresh token is shared by the Microsoft app \
                     family",
                )
            }
            "tgt_ad" | "tgt_cloud" => tgt_node(k, &text, label, cx, &mut findings),
            "kerberos_top_level_names" => Node::field(k.clone(), &text)
                .with_note("Kerberos realms the cloud TGT is valid for"),
            _ => Node::field(k.clone(), &text),
        };
        root.push(node);
    }
    let head = if pop {
        format!("PRT response {} (token_type pop)", version.as_str())
    } else {
        format!("token response {}", version.as_str())
    };
    let summary = if list.is_empty() {
        head
    } else {
        format!("{head}: {}", list.join(", "))
    };
    let mut d = Decoded::new("oauth", summary, root);
    d.findings = findings;
    d
}

/// The members the one-line summary of a token response names, in the order it names them.
const SUMMARY_MEMBERS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "session_key_jwe",
];

/// What a member of [`SUMMARY_MEMBERS`] adds to the one-line summary.
fn summary_part(
    key: &str,
    text: &str,
    pop: bool,
    obj: &Map<String, Value>,
    cx: &Context<'_>,
) -> Option<String> {
    Some(match key {
        "access_token" => format!("access_token ({})", token_brief(text, cx)),
        "id_token" => format!("id_token ({})", token_brief(text, cx)),
        "refresh_token" => if pop {
            "refresh_token (PRT)"
        } else if obj.get("foci").map(util::json_scalar).as_deref() == Some("1") {
            "refresh_token (FOCI)"
        } else {
            "refresh_token"
        }
        .to_string(),
        "session_key_jwe" => format!("session_key_jwe ({})", token_brief(text, cx)),
        _ => return None,
    })
}

fn token_brief(text: &str, cx: &Context<'_>) -> String {
    match jwt::parse_limited(text, &cx.limits) {
        Ok(t) => {
            let mut b = jwt::brief(&t, cx);
            let verdict = jwt::verify(&t, cx.trust);
            if matches!(verdict, jwt::Verdict::Failed { .. }) {
                b.push_str(", ");
                b.push_str(jwt::verdict_word(&t, &verdict));
            }
            b
        }
        Err(_) if crate::secrets::is_redacted(text) => "redacted".to_string(),
        Err(_) => "opaque".to_string(),
    }
}

fn token_node(
    label: &str,
    text: &str,
    role: Role,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    if !jwt::looks_like_jwt(text.as_bytes()) {
        return Node::secret(label, text).with_note(format!(
            "opaque token ({} chars), not a JWT",
            text.chars().count()
        ));
    }
    let note = match role {
        Role::AccessToken => {
            "the access token, for the resource only; the client should treat it as opaque"
        }
        Role::IdToken => "the id_token: who signed in, for the client",
        _ => "a compact token",
    };
    let mut n = nested_jwt(label, text, role, note, parent, cx, findings);
    if role == Role::AccessToken
        && jwt::parse_limited(text, &cx.limits).is_ok_and(|t| t.form == Form::Jwe)
    {
        n.note = Some(format!(
            "an encrypted access token (JWE): only the resource can read it; {}",
            n.note.unwrap_or_default()
        ));
    }
    n
}

fn client_info_node(text: &str, cx: &Context<'_>) -> Node {
    let mut n = Node::field("client_info", text).with_note(
        "base64url JSON: uid = the user's object id, utid = the user's home tenant id (MSAL's \
         home account id is uid.utid)",
    );
    let decoded = util::b64_decode_any(text, 4096)
        .and_then(|b| util::parse_json(&b, "client_info", &cx.limits).ok());
    match decoded.as_ref().and_then(Value::as_object) {
        Some(m) => {
            for (k, v) in m {
                let note = match k.as_str() {
                    "uid" => Some("user object id"),
                    "utid" => Some("home tenant id of the user"),
                    _ => None,
                };
                let mut c = Node::field(k.clone(), util::json_scalar(v));
                c.note = note.map(str::to_string);
                n.push(c);
            }
        }
        None => n.push(Node::leaf("decode", "not base64url JSON", Kind::Error)),
    }
    n
}

fn tgt_node(
    label: &str,
    text: &str,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut n = Node::secret(label, text).with_note(if label == "tgt_ad" {
        "on-premises AD Kerberos TGT material for the PRT (JSON in a string)"
    } else {
        "Entra ID cloud Kerberos TGT material for the PRT (JSON in a string)"
    });
    if crate::secrets::is_redacted(text) {
        return n;
    }
    let Ok(v) = util::parse_json(text.as_bytes(), "tgt", &cx.limits) else {
        n.push(Node::leaf("decode", "not JSON", Kind::Error));
        return n;
    };
    let path = format!("{parent}/{label}");
    if let Some(m) = v.as_object() {
        for (k, v) in m {
            let t = util::json_scalar(v);
            let c = match k.as_str() {
                "clientKey" => {
                    let mut c = token_node(k, &t, Role::Unknown, &path, cx, findings);
                    c.note = Some(format!(
                        "the TGT session key, encrypted under the PRT session key; {}",
                        c.note.unwrap_or_default()
                    ));
                    c
                }
                "messageBuffer" => Node::secret(k.clone(), &t)
                    .with_note("the Kerberos ticket (base64 KRB-CRED/AS-REP)"),
                "keyType" => Node::field(k.clone(), &t).with_note(match t.as_str() {
                    "18" => "Kerberos encryption type 18: aes256-cts-hmac-sha1-96",
                    "17" => "Kerberos encryption type 17: aes128-cts-hmac-sha1-96",
                    "23" => "Kerberos encryption type 23: rc4-hmac",
                    _ => "Kerberos encryption type",
                }),
                "realm" => Node::field(k.clone(), &t).with_note("Kerberos realm"),
                "sn" => {
                    Node::field(k.clone(), &t).with_note("service principal name of the ticket")
                }
                "cn" => Node::field(k.clone(), &t).with_note("client principal name"),
                _ => Node::field(k.clone(), &t),
            };
            n.push(c);
        }
    }
    n
}

fn explain_device_start(obj: &Map<String, Value>, _cx: &Context<'_>) -> Decoded {
    let mut root = Node::section("device code response").with_note(
        "the device-code flow has started: the user opens the URL on any device and types the \
         user code; meanwhile the client polls the token endpoint with the device code",
    );
    let s = |k: &str| obj.get(k).map(util::json_scalar);
    for (k, v) in jwt::ordered(obj, DEVICE_ORDER) {
        let text = util::json_scalar(v);
        let node = match k.as_str() {
            "user_code" => Node::field(k.clone(), &text)
                .with_note("the code the user types at the verification URL"),
            "device_code" => Node::secret(k.clone(), &text).with_note(
                "what the client polls with; whoever holds it receives the tokens once the user \
                 signs in",
            ),
            "verification_url" => Node::field(k.clone(), &text)
                .with_note("v1 name of the page where the user enters the code"),
            "verification_uri" => Node::field(k.clone(), &text)
                .with_note("v2 (RFC 8628) name of the page where the user enters the code"),
            "verification_uri_complete" => Node::field(k.clone(), &text)
                .with_note("the verification URL with the code already filled in"),
            "expires_in" => seconds_node(k, v, "how long the codes stay valid"),
            "interval" => seconds_node(k, v, "minimum wait between polls"),
            "message" => Node::text(k.clone(), &text).with_note("text to show the user"),
            _ => Node::field(k.clone(), &text),
        };
        root.push(node);
    }
    let url = s("verification_url")
        .or_else(|| s("verification_uri"))
        .unwrap_or_else(|| "?".to_string());
    let mut summary = format!(
        "device code start: open {url} and enter {}",
        s("user_code").unwrap_or_else(|| "?".to_string())
    );
    let exp = obj.get("expires_in").and_then(util::json_int);
    let every = obj.get("interval").and_then(util::json_int);
    let mut extra = Vec::new();
    if let Some(e) = exp {
        extra.push(format!(
            "expires in {}",
            util::human_duration(std::time::Duration::from_secs(e.unsigned_abs()))
        ));
    }
    if let Some(i) = every {
        extra.push(format!("poll every {i}s"));
    }
    if !extra.is_empty() {
        summary.push_str(&format!(" ({})", extra.join(", ")));
    }
    Decoded::new("oauth", summary, root)
}
