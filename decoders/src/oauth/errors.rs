//! Token-endpoint errors: the meaning of OAuth `error` codes, Entra ID `AADSTS` codes and
//! suberrors, the view of a JSON error response, and the view of an HTML error page.
//!
//! It is *not* responsible for success responses or device-code start responses (`response`).

use serde_json::{Map, Value};

use crate::Decoded;
pub use crate::aadsts::{aadsts_code, aadsts_meaning};
use crate::html::decode_entities;
use crate::jwt;
use crate::util;
use crate::view::{Finding, Kind, Node, Severity};

/// Meaning of an RFC 6749 / OIDC / RFC 8628 `error` code.
pub fn error_meaning(error: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_request" => "the request is missing a parameter or is malformed",
        "invalid_client" => {
            "client authentication failed (unknown client, bad secret or assertion)"
        }
        "invalid_grant" => {
            "the grant (password, code, refresh token, assertion) is invalid, expired or revoked"
        }
        "unauthorized_client" => {
            "the client may not use this grant type (or does not exist in the tenant)"
        }
        "unsupported_grant_type" => "the server does not support this grant_type",
        "invalid_scope" => "the requested scope or resource is invalid or unknown",
        "interaction_required" => {
            "the user must interact (MFA, consent, conditional access) in a browser"
        }
        "consent_required" => "the user or an admin must consent to the application",
        "login_required" => "the user must sign in interactively",
        "authorization_pending" => {
            "device flow: the user has not finished signing in; keep polling"
        }
        "slow_down" => "device flow: polling too fast; increase the interval",
        "authorization_declined" | "access_denied" => "the user or server denied the request",
        "expired_token" | "code_expired" => "device flow: the device code expired; start again",
        "temporarily_unavailable" => "the server is temporarily unavailable",
        "server_error" => "the server hit an unexpected error",
        _ => return None,
    })
}

fn suberror_meaning(s: &str) -> Option<&'static str> {
    Some(match s {
        "basic_action" => {
            "the user can fix this with a simple action (sign in again, complete MFA)"
        }
        "additional_action" => "the user must take an additional action outside this client",
        "message_only" => "nothing the user can do here: show the message",
        "bad_token" => "the refresh token is invalid: sign in again",
        "token_expired" => "the token expired: sign in again",
        "protection_policy_required" => "an app protection policy (Intune) is required",
        "consent_required" => "consent is required",
        "user_password_expired" => "the user's password expired",
        _ => return None,
    })
}

/// Members of an error response in reading order.
const ERROR_ORDER: &[&str] = &[
    "error",
    "error_description",
    "error_codes",
    "suberror",
    "error_subcode",
    "claims",
    "timestamp",
    "trace_id",
    "correlation_id",
    "error_uri",
];

fn first_line(s: &str) -> &str {
    s.split(['\r', '\n']).next().unwrap_or(s).trim()
}

pub(super) fn explain_error(obj: &Map<String, Value>, status: Option<u16>) -> Decoded {
    explain_error_at(obj, status, "token error")
}

/// Meaning of the `error_subcode` Entra ID adds to an authorize error redirect.
fn error_subcode_meaning(s: &str) -> Option<&'static str> {
    Some(match s {
        "cancel" => "the user cancelled the sign-in",
        _ => return None,
    })
}

/// The view of an OAuth error given as members (`error`, `error_description`, `error_codes`,
/// `error_uri`, `error_subcode`, …): a JSON error response, or the parameters of an error
/// redirect or form_post. The root is labelled `label`; the summary names the AADSTS code and its
/// meaning; one finding (an error, or info for the device flow's polling states) repeats it.
pub fn explain_error_at(
    obj: &Map<String, Value>,
    status: Option<u16>,
    label: &'static str,
) -> Decoded {
    let error = obj.get("error").map(util::json_scalar).unwrap_or_default();
    let desc = obj
        .get("error_description")
        .map(util::json_scalar)
        .unwrap_or_default();
    let code = aadsts_code(&desc).or_else(|| {
        obj.get("error_codes")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(util::json_int)
            .and_then(|c| u64::try_from(c).ok())
    });
    let mut root = Node::section(label);
    root.value = Some(match (code, status) {
        (Some(c), Some(st)) => format!("HTTP {st} {error} AADSTS{c}"),
        (Some(c), None) => format!("{error} AADSTS{c}"),
        (None, Some(st)) => format!("HTTP {st} {error}"),
        (None, None) => error.clone(),
    });
    if let Some(c) = code {
        let mut n = Node::field("AADSTS", c.to_string());
        n.note = Some(
            aadsts_meaning(c)
                .map(str::to_string)
                .unwrap_or_else(|| "not in idscope's table; see error_uri".to_string()),
        );
        root.push(n);
    }
    for (k, v) in jwt::ordered(obj, ERROR_ORDER) {
        let text = util::json_scalar(v);
        let node = match k.as_str() {
            "error" => {
                let mut n = Node::field("error", &text);
                n.note = error_meaning(&text).map(|m| format!("RFC 6749/OIDC: {m}"));
                n
            }
            "error_description" => {
                let mut n = Node::text("error_description", first_line(&text))
                    .with_note("human-readable; the first line starts with the AADSTS code");
                for line in text.split("\r\n").flat_map(|l| l.split('\n')).skip(1) {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    n.push(match line.split_once(": ") {
                        Some((name, value)) => Node::field(name, value),
                        None => Node::text("line", line),
                    });
                }
                n
            }
            "error_codes" => {
                let mut n = Node::field("error_codes", &text);
                if let Some(a) = v.as_array() {
                    for c in a.iter().take(50) {
                        let mut cn = Node::field("code", util::json_scalar(c));
                        cn.note = util::json_int(c)
                            .and_then(|c| u64::try_from(c).ok())
                            .and_then(aadsts_meaning)
                            .map(str::to_string);
                        n.push(cn);
                    }
                }
                n
            }
            "error_subcode" => {
                let mut n = Node::field("error_subcode", &text);
                n.note = error_subcode_meaning(&text).map(str::to_string);
                n
            }
            "suberror" => {
                let mut n = Node::field("suberror", &text);
                n.note = suberror_meaning(&text).map(str::to_string);
                n
            }
            "claims" => Node::field("claims", &text).with_note(
                "conditional-access claims challenge: the client must send these claims back \
                 through an interactive sign-in",
            ),
            "trace_id" => Node::field(k.clone(), &text)
                .with_note("Entra ID's request id: quote it to Microsoft support"),
            "correlation_id" => Node::field(k.clone(), &text)
                .with_note("the client-request-id the client sent, or one Entra ID made up"),
            "timestamp" => {
                Node::field(k.clone(), &text).with_note("server time of the error (UTC)")
            }
            "error_uri" => {
                Node::field(k.clone(), &text).with_note("Microsoft's page for this code")
            }
            "state" => Node::field(k.clone(), &text)
                .with_note("the application's state value, returned unchanged"),
            _ => Node::field(k.clone(), &text),
        };
        root.push(node);
    }
    let meaning = code
        .and_then(aadsts_meaning)
        .map(str::to_string)
        .or_else(|| {
            let l = first_line(&desc);
            let l = l.split_once(": ").map(|(_, r)| r).unwrap_or(l);
            (!l.is_empty()).then(|| util::ellipsize(l, 100))
        })
        .or_else(|| error_meaning(&error).map(str::to_string))
        .unwrap_or_default();
    let summary = match code {
        Some(c) => format!("AADSTS{c} {error}: {meaning}"),
        None => format!("{error}: {meaning}"),
    };
    // Polling states of the device flow are expected answers, not failures.
    let severity = match error.as_str() {
        "authorization_pending" | "slow_down" => Severity::Info,
        _ => Severity::Error,
    };
    let d = Decoded::new("oauth", summary.clone(), root);
    d.with_finding(Finding::new(severity, summary).at(label))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let rest = text.get(i..)?;
    rest.get(..rest.find(end)?)
}

/// Explains an HTML page served by the token endpoint (an error page), extracting the AADSTS
/// message when there is one.
pub fn explain_html(text: &str, status: Option<u16>) -> Decoded {
    let label = "token endpoint HTML page";
    let mut root = Node::section(label).with_note(
        "the token endpoint answered with HTML instead of JSON: an error page meant for a browser",
    );
    root.value = status.map(|s| format!("HTTP {s}"));
    if let Some(t) = between(text, "<title>", "</title>") {
        root.push(Node::field("title", decode_entities(t.trim())));
    }
    let code = aadsts_code(text);
    let message = text.find("AADSTS").and_then(|i| text.get(i..)).map(|m| {
        let end = m.find(['<', '"', '\n', '\r']).unwrap_or(m.len());
        decode_entities(m.get(..end).unwrap_or(m).trim())
    });
    if let Some(c) = code {
        let mut n = Node::field("AADSTS", c.to_string());
        n.note = Some(
            aadsts_meaning(c)
                .map(str::to_string)
                .unwrap_or_else(|| "not in idscope's table".to_string()),
        );
        root.push(n);
    }
    if let Some(m) = &message {
        root.push(Node::text("message", util::ellipsize(m, 400)));
    }
    root.push(
        Node::leaf("html", util::ellipsize(text, 4000), Kind::Markup)
            .with_note(format!("{} bytes", text.len())),
    );
    let summary = match (&message, code) {
        (Some(m), _) => format!("HTML error page: {}", util::ellipsize(m, 120)),
        (None, _) => "HTML page from the token endpoint (no AADSTS code)".to_string(),
    };
    let mut d = Decoded::new("oauth", summary.clone(), root);
    if code.is_some() || status.is_some_and(|s| s >= 400) {
        d.findings.push(Finding::error(summary).at(label));
    }
    d
}
