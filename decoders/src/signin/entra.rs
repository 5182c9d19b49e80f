//! Entra ID's sign-in pages: the `$Config={…};` object each page's script runs with (in a
//! `<script>`, usually inside `//<![CDATA[ … //]]>`). Its `pgid` names the page (the sign-in
//! form, an error page, an interrupt such as "Stay signed in?"), its error members
//! (`sErrorCode`, `iErrorCode`, `strServiceExceptionMessage`, `sErrTxt`, `strMainMessage`,
//! `strAdditionalMessage`) say why a sign-in stopped, and the flow's state travels in it from page
//! to page (`sFT`, `sCtx`, `canary`, `apiCanary`: credentials of the sign-in, marked secret by the
//! secrets policy).
//!
//! An error page is an error finding explaining the AADSTS code with the OAuth decoder's table; an
//! interrupt page is an info or warning finding saying what the user is being asked.

use crate::generic::{JsonValue, json_tree_plain, parse_json_ordered};
use crate::html;
use crate::oauth::{aadsts_code, aadsts_meaning};
use crate::util::{self, Needle};
use crate::view::{Decoded, Finding, Node, Severity};
use crate::{Context, DecodeError, Message};

const LABEL: &str = "Entra sign-in page";

static CONFIG: Needle = Needle::new(b"$Config");

/// Codes a sign-in page carries without the sign-in having failed: the user is simply not signed
/// in yet (50058), or the page is an interrupt its `pgid` explains (16000 account picker, 50140
/// "Stay signed in?", 50199 app confirmation).
const EXPECTED: &[u64] = &[50058, 16000, 50140, 50199];

/// Where the object of `$Config=` (spaces allowed around `=`) starts: the offset of its `{`.
pub(super) fn config_start(text: &str) -> Option<usize> {
    if !CONFIG.is_in(text.as_bytes()) {
        return None;
    }
    let mut from = 0;
    while let Some(i) = text.get(from..).and_then(|r| r.find("$Config")) {
        let after = from + i + "$Config".len();
        let rest = text.get(after..).unwrap_or("");
        let trimmed = rest.trim_start();
        if let Some(value) = trimmed.strip_prefix('=') {
            let value_trimmed = value.trim_start();
            if value_trimmed.starts_with('{') {
                return Some(text.len() - value_trimmed.len());
            }
        }
        from = after;
    }
    None
}

/// The `$Config` object of a page, read up to the end of the object (whatever follows it: `;`,
/// `//]]>`, more script), within `limits`.
fn read_config(text: &str, start: usize, cx: &Context<'_>) -> Result<JsonValue, DecodeError> {
    let rest = text.get(start..).unwrap_or("");
    // serde_json's own recursion limit (128) bounds the stack while the end is found.
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde::de::IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => {}
        Some(Err(e)) => return Err(DecodeError::json("$Config", &e)),
        None => return Err(DecodeError::Missing("$Config")),
    }
    let end = values.byte_offset();
    parse_json_ordered(
        rest.get(..end).unwrap_or(rest).as_bytes(),
        "$Config",
        &cx.limits,
    )
}

/// What a page id means: what the page shows or asks, and the finding's severity when it is an
/// interrupt the user must answer.
fn page_meaning(pgid: &str) -> Option<(&'static str, &'static str, Option<Severity>)> {
    Some(match pgid {
        "ConvergedSignIn" => (
            "sign-in page",
            "the sign-in form: asks for the user name, then the password",
            None,
        ),
        "ConvergedError" => (
            "error page",
            "the error page: the sign-in stopped here",
            None,
        ),
        "KmsiInterrupt" => (
            "asks \"Stay signed in?\"",
            "asks the user \"Stay signed in?\" (KMSI): yes keeps a persistent session cookie; the \
             answer is posted to /kmsi (LoginOptions=1 for yes)",
            Some(Severity::Info),
        ),
        "CmsiInterrupt" => (
            "asks the user to confirm the app",
            "asks the user to confirm the app they are signing in to (\"Are you trying to sign in \
             to …?\", AADSTS50199): a system web view asked for a token for a native app",
            Some(Severity::Info),
        ),
        "ConvergedTFA" => (
            "asks for a second factor (MFA)",
            "asks for a second factor (MFA): the user's methods are in arrUserProofs",
            Some(Severity::Info),
        ),
        "ConvergedConsent" => (
            "asks the user to consent to the app",
            "asks the user to consent to the permissions the application requests",
            Some(Severity::Info),
        ),
        "ConvergedProofUpRedirect" => (
            "asks the user to register security info (MFA)",
            "asks the user to register security info (MFA methods) before going on; \
             iRemainingDaysToSkipMfaRegistration says how long it may still be skipped",
            Some(Severity::Warning),
        ),
        "ConvergedChangePassword" => (
            "asks the user to change the password",
            "asks the user to change their password (it expired, or an administrator requires a \
             new one) before going on",
            Some(Severity::Warning),
        ),
        _ => return None,
    })
}

/// What a `$Config` member is, for the members worth a note.
fn member_note(name: &str) -> Option<&'static str> {
    Some(match name {
        "pgid" => "page id: which page of the sign-in flow this is",
        "sErrorCode" => "the AADSTS error code of the page, without the prefix",
        "iErrorCode" => "the error code as a number (0: none)",
        "sErrTxt" => "the error text shown to the user",
        "strServiceExceptionMessage" => "the service's exception message, starting with the code",
        "strMainMessage" => "the main message of the error page",
        "strAdditionalMessage" => "more detail shown on the error page",
        "urlPost" => "where the page's form posts next",
        "sFT" => {
            "flow token: the sign-in's state, posted back as flowToken; whoever holds it can \
             continue this sign-in"
        }
        "sFTName" => "the form field the flow token is posted under",
        "sCtx" => "context: the request's state (client, redirect, scopes), posted back as ctx",
        "canary" => "anti-forgery token posted back with the page's form",
        "apiCanary" => "anti-forgery token of the page's API calls",
        "correlationId" => "correlation id: give it with the time to find the sign-in in the logs",
        "strTraceId" => "Entra ID's request id (\"Request Id\" on the page)",
        "iHttpErrorCode" => "the HTTP status the error stands for",
        "sessionId" => "Entra ID's id of this sign-in session",
        "sPOST_Username" => "the user name being signed in",
        "urlResetPassword" => "self-service password reset",
        "urlGetCredentialType" => "asked which credentials the user has (password, federation …)",
        "arrUserProofs" => "the user's registered second-factor methods",
        "iRemainingDaysToSkipMfaRegistration" => "days the user may still skip registering MFA",
        "urlSkipMfaRegistration" => "where \"Skip for now\" goes",
        "urlBeginAuth" => "starts the second-factor challenge",
        "urlEndAuth" => "completes the second-factor challenge",
        _ => return None,
    })
}

fn text_member(cfg: &JsonValue, name: &str) -> Option<String> {
    let s = cfg.get(name)?.display();
    let s = s.trim();
    (!s.is_empty() && s != "null").then(|| s.to_string())
}

/// The page's error code: `sErrorCode`, else a non-zero `iErrorCode`, else the AADSTS code in one
/// of the messages.
fn error_code(cfg: &JsonValue) -> Option<u64> {
    let numeric = |name: &str| {
        cfg.get(name)
            .and_then(JsonValue::as_i64)
            .and_then(|c| u64::try_from(c).ok())
            .filter(|c| *c != 0)
    };
    numeric("sErrorCode")
        .or_else(|| {
            text_member(cfg, "sErrorCode")
                .as_deref()
                .and_then(aadsts_code)
        })
        .or_else(|| numeric("iErrorCode"))
        .or_else(|| {
            ["strServiceExceptionMessage", "sErrTxt", "strMainMessage"]
                .iter()
                .find_map(|m| text_member(cfg, m).as_deref().and_then(aadsts_code))
        })
}

/// The page's error message: the service's exception message, else the text shown to the user.
fn error_message(cfg: &JsonValue) -> Option<String> {
    ["strServiceExceptionMessage", "sErrTxt", "strMainMessage"]
        .iter()
        .find_map(|m| text_member(cfg, m))
}

/// A message's first line without a leading `AADSTS…: `.
fn without_code(message: &str) -> &str {
    let line = message.lines().next().unwrap_or(message).trim();
    match line.split_once(": ") {
        Some((head, rest)) if head.starts_with("AADSTS") => rest,
        _ => line,
    }
}

/// What a page's `$Config` says about the sign-in.
struct Facts {
    pgid: Option<String>,
    page: Option<(&'static str, &'static str, Option<Severity>)>,
    code: Option<u64>,
    message: Option<String>,
}

impl Facts {
    fn of(cfg: &JsonValue, text: &str) -> Self {
        let pgid = text_member(cfg, "pgid").or_else(|| html::meta_content(text, "PageID"));
        Facts {
            page: pgid.as_deref().and_then(page_meaning),
            pgid,
            code: error_code(cfg),
            message: error_message(cfg),
        }
    }

    /// An error page, a code that is not one of the [`EXPECTED`] ones, or an error status with
    /// a message.
    fn failed(&self, status: Option<u16>) -> bool {
        self.pgid.as_deref() == Some("ConvergedError")
            || self.code.is_some_and(|c| !EXPECTED.contains(&c))
            || (status.is_some_and(|s| s >= 400) && self.message.is_some())
    }
}

/// Explains a page carrying `$Config` (its object starts at `start`).
pub(super) fn explain(
    msg: &Message<'_>,
    text: &str,
    start: usize,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let cfg = read_config(text, start, cx)?;
    if cfg.as_object().is_none() {
        return Err(DecodeError::not(
            "an Entra sign-in page",
            "$Config is not a JSON object",
        ));
    }
    let facts = Facts::of(&cfg, text);
    let (root, findings) = tree(&cfg, &facts, text, cx);
    let mut d = if facts.failed(msg.status) {
        failure(&facts, root)
    } else if let (Some(p), Some((short, long, Some(severity)))) = (&facts.pgid, facts.page) {
        let finding = interrupt_finding(&cfg, p, long);
        Decoded::new("signin", format!("sign-in interrupt {p}: {short}"), root)
            .with_finding(Finding::new(severity, finding).at(format!("{LABEL}/page")))
    } else {
        let mut summary = match (&facts.pgid, facts.page) {
            (Some(p), Some((short, _, _))) => format!("Entra {short} ({p})"),
            (Some(p), None) => format!("Entra sign-in page {p}"),
            (None, _) => LABEL.to_string(),
        };
        if let Some(u) = text_member(&cfg, "sPOST_Username") {
            summary.push_str(&format!(" for {u}"));
        }
        Decoded::new("signin", summary, root)
    };
    d.findings.extend(findings);
    Ok(d)
}

/// The page's view: what it is, its code and message explained, then the whole `$Config` with
/// notes on the members that matter.
fn tree(cfg: &JsonValue, facts: &Facts, text: &str, cx: &Context<'_>) -> (Node, Vec<Finding>) {
    let mut root = Node::section(LABEL).with_note(
        "a page of Entra ID's sign-in flow; its $Config is what the page's script runs with",
    );
    root.value = facts.pgid.clone();
    if let Some(t) = html::title(text).filter(|t| !t.is_empty()) {
        root.push(Node::field("title", t));
    }
    if let Some(p) = &facts.pgid {
        let note = facts
            .page
            .map_or("a page id idscope has no note for", |(_, long, _)| long);
        root.push(Node::field("page", p).with_note(note));
    }
    if let Some(c) = facts.code {
        let note = aadsts_meaning(c).map_or_else(
            || {
                format!(
                    "not in idscope's table; see https://login.microsoftonline.com/error?code={c}"
                )
            },
            str::to_string,
        );
        root.push(Node::field("AADSTS", c.to_string()).with_note(note));
    }
    if let Some(m) = &facts.message {
        root.push(Node::text("message", util::ellipsize(m, 400)));
    }
    if let Some(m) = text_member(cfg, "strAdditionalMessage") {
        root.push(Node::text("additional message", util::ellipsize(&m, 400)));
    }
    let (mut config, findings) = json_tree_plain("$Config", cfg, cx);
    for child in &mut config.children {
        if child.note.is_none() {
            child.note = member_note(&child.label).map(str::to_string);
        }
    }
    root.push(config);
    (root, findings)
}

/// The view of a failed sign-in: the code and its meaning in the summary, and an error finding
/// that adds what Entra ID says.
fn failure(facts: &Facts, root: Node) -> Decoded {
    let meaning = facts
        .code
        .and_then(aadsts_meaning)
        .map(str::to_string)
        .or_else(|| {
            facts
                .message
                .as_deref()
                .map(|m| util::ellipsize(without_code(m), 100))
        });
    let what = match (facts.code, meaning) {
        (Some(c), Some(m)) => format!("AADSTS{c}: {m}"),
        (Some(c), None) => format!("AADSTS{c}"),
        (None, Some(m)) => m,
        (None, None) => "the error page gives no code or message".to_string(),
    };
    let summary = format!("sign-in error {what}");
    let mut finding = summary.clone();
    if let Some(m) = &facts.message {
        finding.push_str(&format!(
            " — Entra ID says: \"{}\"",
            util::ellipsize(m, 300)
        ));
    }
    let at = if facts.code.is_some() {
        format!("{LABEL}/AADSTS")
    } else {
        LABEL.to_string()
    };
    Decoded::new("signin", summary, root).with_finding(Finding::error(finding).at(at))
}

/// What an interrupt page asks, with the second-factor methods or the days left to skip MFA
/// registration when the page gives them.
fn interrupt_finding(cfg: &JsonValue, pgid: &str, long: &str) -> String {
    let mut finding = format!("sign-in interrupt {pgid}: {long}");
    if pgid == "ConvergedTFA" {
        let methods = proof_methods(cfg);
        if !methods.is_empty() {
            finding.push_str(&format!(" ({})", methods.join(", ")));
        }
    }
    if let Some(days) = cfg
        .get("iRemainingDaysToSkipMfaRegistration")
        .and_then(JsonValue::as_i64)
        .filter(|_| pgid == "ConvergedProofUpRedirect")
    {
        finding.push_str(&format!(" ({days} days left to skip)"));
    }
    finding
}

/// The `authMethodId`s of a second-factor page's `arrUserProofs`.
fn proof_methods(cfg: &JsonValue) -> Vec<String> {
    cfg.get("arrUserProofs")
        .and_then(JsonValue::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.get("authMethodId").and_then(JsonValue::as_str))
        .take(10)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trust;
    use crate::view::Kind;
    use std::time::UNIX_EPOCH;

    /// The fixture's error page as `src/fixture/tokens.rs` `error_page` writes it.
    fn fixture_error_page(code: &str, msg: &str) -> String {
        let cfg = serde_json::json!({"sErrorCode": code.trim_start_matches("AADSTS"), "strMainMessage": msg, "iErrorCode": 0});
        format!(
            "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><script type=\"text/javascript\">//<![CDATA[\n$Config={cfg};\n//]]></script><div id=\"error\">{code}: {msg}</div></body></html>"
        )
    }

    fn decode(status: u16, page: &str) -> Decoded {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let msg = Message::response(
            "POST",
            "https://login.microsoftonline.com/login.srf",
            status,
            vec![("content-type", "text/html; charset=utf-8")],
            page.as_bytes(),
        );
        let start = config_start(page).expect("a $Config");
        explain(&msg, page, start, &cx).expect("decodes")
    }

    #[test]
    fn the_fixtures_login_srf_rejection_is_an_error_explaining_the_code() {
        let page = fixture_error_page(
            "AADSTS50034",
            "The user with ImmutableID QUJD does not exist in the directory.",
        );
        let d = decode(400, &page);
        assert_eq!(
            d.summary,
            "sign-in error AADSTS50034: user account does not exist in the directory"
        );
        assert_eq!(d.worst(), Some(Severity::Error));
        assert!(
            d.has_finding("Entra ID says: \"The user with ImmutableID QUJD does not exist"),
            "{:?}",
            d.findings
        );
        assert_eq!(
            d.root.child("AADSTS").and_then(|n| n.note.as_deref()),
            Some("user account does not exist in the directory")
        );
    }

    #[test]
    fn a_converged_error_page_names_the_code_and_masks_the_flow_state() {
        // Modelled on a real ConvergedError page: the script block wrapped in CDATA, the
        // object followed by `;` and more script.
        let page = r#"<!-- Copyright (C) Microsoft Corporation. All rights reserved. -->
<!DOCTYPE html><html dir="ltr" lang="en"><head><title>Sign in to your account</title>
<meta name="PageID" content="ConvergedError" /></head><body>
<script type="text/javascript" nonce="abc">//<![CDATA[
$Config={"iErrorDesc":0,"iErrorTitle":0,"strMainMessage":"We couldn't sign you in. Please try again.","strServiceExceptionMessage":"AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.","strTraceId":"0b1c2d3e-4f50-4617-8293-a4b5c6d7e800","iErrorCode":53003,"correlationId":"3b7c1f0e-2d4a-4e5b-9c6d-7e8f9a0b1c2d","sCtx":"rQQIARAAhZE9aNNQEMeTNk0_FC1OjgUXEZK","sFT":"AQABAAEAAAD--DLA3VO7QrddgJg7WevrAgAAAAAAAPA","canary":"PAQABAAEAAAD--DLA3VO7QrddgJg7Wevr","apiCanary":"PAQABAAEAAAD--DLA3VO7QrddgJg7WevrZZ","pgid":"ConvergedError","sessionId":"0b1c2d3e-4f50-4617-8293-a4b5c6d7e800","urlPost":"/common/login"};
//]]></script><script>var x = {a: 1};</script></body></html>"#;
        let d = decode(200, page);
        assert_eq!(
            d.summary,
            "sign-in error AADSTS53003: blocked by Conditional Access"
        );
        assert_eq!(d.root.value.as_deref(), Some("ConvergedError"));
        for secret in ["sFT", "sCtx", "canary", "apiCanary"] {
            let n = d.root.find_path(&format!("$Config/{secret}")).unwrap();
            assert_eq!(n.kind, Kind::Secret, "{secret}");
        }
        assert_eq!(
            d.root.find_path("$Config/correlationId").unwrap().kind,
            Kind::Field
        );
        assert!(d.has_finding("Entra ID says: \"AADSTS53003: Access has been blocked"));
    }

    #[test]
    fn a_sign_in_page_answered_again_with_a_code_is_a_failed_password() {
        let page = r#"<html><head><title>Sign in to your account</title></head><body><script>//<![CDATA[
$Config={"pgid":"ConvergedSignIn","sErrorCode":"50126","sErrTxt":"Your account or password is incorrect.","sPOST_Username":"alice@contoso.com","urlPost":"/common/login"};
//]]></script></body></html>"#;
        let d = decode(200, page);
        assert_eq!(
            d.summary,
            "sign-in error AADSTS50126: bad username or password"
        );
        assert!(d.has_finding("Entra ID says: \"Your account or password is incorrect.\""));
    }

    #[test]
    fn the_first_sign_in_page_is_not_a_failure() {
        let page = r#"<html><body><script>$Config = {"pgid":"ConvergedSignIn","sErrorCode":"50058","iErrorCode":50058,"sFT":"flowtokenvalue0123456789","urlPost":"/common/login","sPOST_Username":"alice@contoso.com"};</script></body></html>"#;
        let d = decode(200, page);
        assert_eq!(
            d.summary,
            "Entra sign-in page (ConvergedSignIn) for alice@contoso.com"
        );
        assert_eq!(d.worst(), None);
        assert_eq!(
            d.root.child("AADSTS").and_then(|n| n.note.as_deref()),
            aadsts_meaning(50058)
        );
    }

    #[test]
    fn interrupt_pages_say_what_the_user_is_asked() {
        let cases = [
            ("KmsiInterrupt", "", Severity::Info, "Stay signed in?"),
            ("CmsiInterrupt", "", Severity::Info, "confirm the app"),
            (
                "ConvergedProofUpRedirect",
                r#","iRemainingDaysToSkipMfaRegistration":7"#,
                Severity::Warning,
                "(7 days left to skip)",
            ),
            (
                "ConvergedChangePassword",
                "",
                Severity::Warning,
                "change their password",
            ),
            ("ConvergedConsent", "", Severity::Info, "consent"),
            // The phone number as Entra ID's page itself masks it (`+X XXXXXXXX12`).
            (
                "ConvergedTFA",
                r#","arrUserProofs":[{"authMethodId":"PhoneAppNotification","display":"+X XXXXXXXX12"},{"authMethodId":"PhoneAppOTP"}]"#,
                Severity::Info,
                "(PhoneAppNotification, PhoneAppOTP)",
            ),
        ];
        for (pgid, extra, severity, says) in cases {
            let page = format!(
                "<html><body><script type=\"text/javascript\">//<![CDATA[\n$Config={{\"pgid\":\"{pgid}\",\"sFT\":\"AQABAAEAAAD--flow\",\"sCtx\":\"rQQIARAAhZE9\",\"canary\":\"PAQABAAEAAAD\",\"urlPost\":\"/kmsi\"{extra}}};\n//]]></script></body></html>"
            );
            let d = decode(200, &page);
            assert!(
                d.summary
                    .starts_with(&format!("sign-in interrupt {pgid}: ")),
                "{}",
                d.summary
            );
            assert_eq!(d.worst(), Some(severity), "{pgid}");
            assert!(d.has_finding(says), "{pgid}: {:?}", d.findings);
        }
    }

    #[test]
    fn a_config_nested_deeper_than_the_limit_is_refused() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        for depth in [70, 200] {
            let page = format!(
                "<script>$Config={{\"a\":{}1{}}};</script>",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            let msg = Message::blob(page.as_bytes());
            let err = explain(&msg, &page, config_start(&page).unwrap(), &cx).unwrap_err();
            assert!(
                matches!(
                    err,
                    DecodeError::TooLarge { .. }
                        | DecodeError::Json {
                            field: "$Config",
                            ..
                        }
                ),
                "{depth}: {err}"
            );
        }
    }

    #[test]
    fn a_broken_config_is_a_json_error_naming_it() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let page = "<script>$Config={\"pgid\":\"ConvergedError\",\"sErrorCode\":};</script>";
        let msg = Message::blob(page.as_bytes());
        let err = explain(&msg, page, config_start(page).unwrap(), &cx).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Json {
                    field: "$Config",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(config_start("$Config.x = 1; $Config = [1]"), None);
        assert_eq!(config_start("no config"), None);
    }
}
