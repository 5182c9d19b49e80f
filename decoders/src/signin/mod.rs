//! Sign-in outcomes a person needs explained: the answers that end or interrupt a sign-in, rather
//! than the protocol messages that carry one. Entra ID sign-in pages with their `$Config`
//! ([`entra`]: error pages, a sign-in page answered again with an error, interrupts such as "Stay
//! signed in?"), ADFS's error page and a forms login answered with the login page again
//! ([`adfs`]), OAuth errors sent back to the application in a `Location` or a form_post page
//! ([`redirect`]), and `WWW-Authenticate: Bearer` challenges naming an error, CAE claims
//! challenges among them ([`challenge`]).
//!
//! A failure is an error finding saying what failed and why, and the summary says it too, so the
//! flow's row tells it; AADSTS and OAuth codes are explained with the OAuth decoder's tables
//! ([`crate::oauth::aadsts_meaning`]). The sign-in's own credentials in a page (`sFT`, `sCtx`,
//! `canary`, `apiCanary`) are secret by the secrets policy ([`crate::secrets`]).
//!
//! It is *not* responsible for the messages of a sign-in that goes on (token responses, SAML and
//! WS-Fed posts, the ADFS login page without an error), token-endpoint JSON errors (`oauth`) or
//! PRT SSO answers (`prt`, which ranks above this decoder on its own responses).

mod adfs;
mod challenge;
mod entra;
mod redirect;

use crate::util;
use crate::{Context, DecodeError, Decoded, Direction, Message};

decoder! {
    /// The `signin` decoder: sign-in error pages, interrupts, error redirects and bearer
    /// challenges.
    pub struct SignIn: "signin";
}

/// Above the generic views and `oauth`'s HTML error page (0.8), so a failure is the flow's
/// summary; below `prt`'s SSO answers (0.9) and `wsfed`'s pages (0.95).
const PRIORITY: f32 = 0.85;

/// What a message is, for this decoder.
enum Page {
    Challenge(Vec<(String, String)>),
    Redirect(Vec<(String, String)>),
    Entra(usize),
    FormPost(crate::html::HtmlForm),
    Adfs(adfs::Page),
}

/// True for a body that is an HTML page: by its content type, or, without one, by an HTML tag at
/// its start (an XML document or a SOAP fault is not a page).
fn is_html(msg: &Message<'_>) -> bool {
    match msg.content_type() {
        Some(c) => c == "text/html" || c == "application/xhtml+xml",
        None => {
            let head = msg.body.get(..1024).unwrap_or(msg.body);
            [
                b"<!doctype html".as_slice(),
                b"<html",
                b"<body",
                b"<script",
                b"<form",
            ]
            .iter()
            .any(|tag| util::contains_ci(head, tag))
        }
    }
}

fn classify<'a>(msg: &Message<'a>) -> Option<(Page, &'a str)> {
    if msg.is_request() {
        return None;
    }
    if msg.is_response() {
        if let Some(p) = challenge::bearer_error(msg) {
            return Some((Page::Challenge(p), ""));
        }
        if let Some(p) = redirect::location_error(msg) {
            return Some((Page::Redirect(p), ""));
        }
    }
    if !is_html(msg) {
        return None;
    }
    let text = msg.text().filter(|t| !t.is_empty())?;
    if let Some(start) = entra::config_start(text) {
        return Some((Page::Entra(start), text));
    }
    if let Some(form) = redirect::form_post_error(msg.body, text) {
        return Some((Page::FormPost(form), text));
    }
    adfs::classify(msg, text).map(|p| (Page::Adfs(p), text))
}

fn priority(msg: &Message<'_>) -> f32 {
    if msg.direction == Direction::Request {
        return 0.0;
    }
    if classify(msg).is_some() {
        PRIORITY
    } else {
        0.0
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "sign-in page")?;
    let Some((page, text)) = classify(msg) else {
        return Err(DecodeError::not(
            "a sign-in error, interrupt or challenge",
            "no $Config, ADFS error text, OAuth error or Bearer error challenge",
        ));
    };
    match page {
        Page::Challenge(p) => Ok(challenge::explain(msg, &p, cx)),
        Page::Redirect(p) => Ok(redirect::explain_redirect(msg, &p)),
        Page::Entra(start) => entra::explain(msg, text, start, cx),
        Page::FormPost(form) => Ok(redirect::explain_form_post(msg, &form)),
        Page::Adfs(adfs::Page::FormsFailure(t)) => Ok(adfs::forms_failure(text, &t)),
        Page::Adfs(adfs::Page::Error) => Ok(adfs::error_page(msg, text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Severity;
    use crate::{Decoder, Registry, Trust};
    use proptest::prelude::*;
    use std::time::UNIX_EPOCH;

    fn outcome_of(msg: &Message<'_>) -> Option<Decoded> {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        Registry::builtin().best(msg, &cx)
    }

    #[test]
    fn the_registry_picks_this_decoder_for_the_fixtures_login_srf_rejection() {
        // The exact shape `src/fixture/tokens.rs` `error_page` answers login.srf with.
        let page = "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><script type=\"text/javascript\">//<![CDATA[\n$Config={\"iErrorCode\":0,\"sErrorCode\":\"50034\",\"strMainMessage\":\"The user with ImmutableID QUJD does not exist in the directory.\"};\n//]]></script><div id=\"error\">AADSTS50034: The user with ImmutableID QUJD does not exist in the directory.</div></body></html>";
        let msg = Message::response(
            "POST",
            "https://login.microsoftonline.com/login.srf",
            400,
            vec![("content-type", "text/html; charset=utf-8")],
            page.as_bytes(),
        );
        let d = outcome_of(&msg).expect("decoded");
        assert_eq!(d.decoder, "signin");
        assert_eq!(
            d.summary,
            "sign-in error AADSTS50034: user account does not exist in the directory"
        );
        assert_eq!(d.worst(), Some(Severity::Error));
    }

    #[test]
    fn requests_and_plain_pages_are_not_this_decoders() {
        let page = b"<html><body><form action=/x><input name=a></form></body></html>";
        let plain = Message::response("GET", "https://app.example/", 200, vec![], page);
        assert_eq!(SignIn.priority(&plain), 0.0);
        let req = Message::request(
            "POST",
            "https://sts.contoso.test/adfs/ls/",
            vec![],
            b"UserName=a&Password=b",
        );
        assert_eq!(SignIn.priority(&req), 0.0);
        let trust = Trust::default();
        let err = SignIn
            .decode(&plain, &Context::new(UNIX_EPOCH, &trust))
            .unwrap_err();
        assert!(err.to_string().starts_with("not a sign-in error"), "{err}");
    }

    fn arbitrary_page() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "$Config=",
            "$Config = ",
            "{",
            "}",
            "[",
            "]",
            "\"pgid\":",
            "\"sErrorCode\":",
            "\"ConvergedError\"",
            "\"KmsiInterrupt\"",
            "\"50126\"",
            ",",
            ":",
            ";",
            "//<![CDATA[",
            "//]]>",
            "<script>",
            "</script>",
            "<span id=\"errorText\">",
            "</span>",
            "<div id=",
            "\"errorMessage\"",
            ">",
            "<",
            "Activity ID:",
            "MSIS7042",
            "AADSTS",
            "é",
            "\\",
            "\"",
            "<form method=post action=x>",
            "<input name=\"error\" value=\"access_denied\">",
            "</form>",
            "&amp;",
            "&#",
            "<!--",
            "-->",
            " ",
            "userNameInput",
            "errorArea",
        ]);
        prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_pages(page in arbitrary_page(), status in 100u16..600) {
            let trust = Trust::default();
            let cx = Context::new(UNIX_EPOCH, &trust);
            for path in ["https://sts.contoso.test/adfs/ls/", "https://login.microsoftonline.com/login.srf"] {
                let msg = Message::response("POST", path, status, vec![("content-type", "text/html")], page.as_bytes());
                if SignIn.priority(&msg) > 0.0 {
                    let r = SignIn.decode(&msg, &cx);
                    if let Ok(d) = r {
                        prop_assert!(!d.summary.is_empty());
                    }
                }
            }
            let blob = Message::blob(page.as_bytes());
            let _ = SignIn.decode(&blob, &cx);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes_and_headers(
            body in prop::collection::vec(any::<u8>(), 0..400),
            challenge in "[ -~]{0,120}",
            location in "[ -~]{0,120}",
        ) {
            let trust = Trust::default();
            let cx = Context::new(UNIX_EPOCH, &trust);
            let msg = Message::response(
                "GET",
                "https://graph.microsoft.com/v1.0/me",
                401,
                vec![("www-authenticate", challenge.as_str()), ("location", location.as_str())],
                &body,
            );
            let _ = SignIn.priority(&msg);
            let _ = SignIn.decode(&msg, &cx);
            let with_error = format!("Bearer error=\"insufficient_claims\", claims=\"{challenge}\"");
            let msg = Message::response("GET", "https://x/", 401, vec![("WWW-Authenticate", with_error.as_str())], &body);
            let _ = SignIn.decode(&msg, &cx);
        }
    }
}
