//! ADFS's answers that end a sign-in: a forms login answered with the login page again, now
//! carrying an error text (`<span id="errorText" …>Incorrect user ID or password…</span>`, the id
//! ADFS's own pages use), and the error page ("An error occurred", its `errorMessage` and the
//! Activity ID to look up in the AD FS Admin event log) or a bare `MSIS…` error answer.
//!
//! The login page without an error text is not a failure and is left alone.

use crate::html;
use crate::util::{self, Needle, contains_ci};
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Direction, Message};

static USER_NAME_INPUT: Needle = Needle::new(b"userNameInput");
static ERROR_TEXT: Needle = Needle::new(b"errorText");
static ERROR_AREA: Needle = Needle::new(b"errorArea");
static ERROR_MESSAGE: Needle = Needle::new(b"errorMessage");
static MSIS: Needle = Needle::new(b"MSIS");

const FORMS: &str = "ADFS forms sign-in page";
const ERROR_PAGE: &str = "ADFS error page";

/// Which ADFS answer a page is.
pub(super) enum Page {
    /// The login page again, with this error text.
    FormsFailure(String),
    /// The error page or an `MSIS…` error answer.
    Error,
}

/// The ADFS page a message is, when it is one of the answers this module explains.
pub(super) fn classify(msg: &Message<'_>, text: &str) -> Option<Page> {
    let body = text.as_bytes();
    let adfs_path = contains_ci(msg.path().as_bytes(), b"/adfs/");
    if (adfs_path || USER_NAME_INPUT.is_in(body))
        && ERROR_TEXT.is_in(body)
        && let Some(t) = html::element_text_by_id(text, "errorText").filter(|t| !t.is_empty())
    {
        return Some(Page::FormsFailure(t));
    }
    if !(adfs_path || ERROR_AREA.is_in(body)) {
        return None;
    }
    let has_message = ERROR_MESSAGE.is_in(body)
        && html::element_text_by_id(text, "errorMessage").is_some_and(|t| !t.is_empty());
    let failed_status = msg.status.is_some_and(|s| s >= 400) || msg.direction == Direction::Blob;
    (has_message || (failed_status && MSIS.is_in(body) && msis_code(text).is_some()))
        .then_some(Page::Error)
}

/// The first `MSIS` error code of a text (`MSIS7042`).
fn msis_code(text: &str) -> Option<String> {
    text.match_indices("MSIS").find_map(|(i, _)| {
        let digits: String = text
            .get(i + 4..)?
            .chars()
            .take_while(char::is_ascii_digit)
            .take(8)
            .collect();
        (digits.len() >= 4).then(|| format!("MSIS{digits}"))
    })
}

/// Why ADFS refused the credentials, read from its error text (the wording of ADFS's own
/// messages in English).
fn reason(error_text: &str) -> Option<&'static str> {
    let l = error_text.to_lowercase();
    Some(
        if l.contains("incorrect user id or password")
            || l.contains("incorrect user name or password")
            || l.contains("incorrect username or password")
        {
            "wrong user name or password"
        } else if l.contains("locked") {
            "the account is locked"
        } else if l.contains("password") && l.contains("expired") {
            "the password has expired"
        } else if l.contains("disabled") {
            "the account is disabled"
        } else if l.contains("domain\\user") || l.contains("user@domain") {
            "the user name is not in the form ADFS expects"
        } else {
            return None;
        },
    )
}

/// Explains the login page answered again with an error text.
pub(super) fn forms_failure(text: &str, error_text: &str) -> Decoded {
    let why = reason(error_text);
    let mut root = Node::section(FORMS).with_note(
        "ADFS answered the forms login with the login page again, carrying an error message: \
         the sign-in failed and the user is asked to try again",
    );
    root.value = Some("sign-in failed".to_string());
    if let Some(t) = html::title(text).filter(|t| !t.is_empty()) {
        root.push(Node::field("title", t));
    }
    let mut n = Node::text("error text", util::ellipsize(error_text, 400));
    n.note = Some(why.map_or_else(
        || "the message ADFS shows above the form".to_string(),
        |w| format!("ADFS's message: {w}"),
    ));
    root.push(n);
    let form = html::find_form(text);
    let user = form
        .as_ref()
        .and_then(|f| f.input("UserName"))
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    if let Some(u) = &user {
        root.push(Node::field("UserName", u).with_note("the user name typed, kept in the form"));
    }
    if let Some(action) = form.as_ref().and_then(|f| f.action.clone()) {
        root.push(Node::field("form action", action).with_note("where the next attempt posts"));
    }
    let summary = match (why, &user) {
        (Some(w), Some(u)) => format!("ADFS sign-in failed ({w}) for {u}"),
        (Some(w), None) => format!("ADFS sign-in failed ({w})"),
        (None, _) => format!("ADFS sign-in failed: {}", util::clip(error_text, 100)),
    };
    let message = match why {
        Some(w) => format!(
            "sign-in failed ({w}): ADFS answered with the login page again, saying \"{}\"",
            util::clip(error_text, 300)
        ),
        None => format!(
            "sign-in failed: ADFS answered with the login page again, saying \"{}\"",
            util::clip(error_text, 300)
        ),
    };
    Decoded::new("signin", summary, root)
        .with_finding(Finding::error(message).at(format!("{FORMS}/error text")))
}

/// The GUID within 200 bytes after `label` in `text` (ASCII case ignored).
fn guid_after(text: &str, label: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find(&label.to_ascii_lowercase())? + label.len();
    let window = text.get(at..)?;
    let window = window.get(..window.len().min(200)).unwrap_or(window);
    (0..window.len()).find_map(|i| {
        window
            .get(i..i + 36)
            .filter(|g| util::is_guid(g))
            .map(str::to_string)
    })
}

/// Explains ADFS's error page or an `MSIS…` error answer.
pub(super) fn error_page(msg: &Message<'_>, text: &str) -> Decoded {
    let mut root = Node::section(ERROR_PAGE).with_note(
        "ADFS stopped the sign-in with an error page; its Activity ID finds the event in the AD \
         FS Admin event log on the server",
    );
    root.value = msg.status.map(|s| format!("HTTP {s}"));
    let page_text = html::text_content(text);
    if let Some(t) = html::title(text).filter(|t| !t.is_empty()) {
        root.push(Node::field("title", t));
    }
    if let Some(h) = html::element_text_by_id(text, "openingMessage").filter(|t| !t.is_empty()) {
        root.push(Node::text("heading", h));
    }
    let message = html::element_text_by_id(text, "errorMessage")
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| util::clip(&page_text, 400));
    root.push(Node::text("message", util::ellipsize(&message, 400)));
    let code = msis_code(&message).or_else(|| msis_code(&page_text));
    if let Some(c) = &code {
        root.push(Node::field("MSIS", c).with_note(
            "ADFS's error code: the event log entry with the same Activity ID has the details",
        ));
    }
    let activity = guid_after(&page_text, "Activity ID");
    if let Some(a) = &activity {
        root.push(
            Node::leaf("Activity ID", a, Kind::Field).with_note(
                "look it up in the AD FS Admin event log (event 364 and its companions)",
            ),
        );
    }
    if let Some(r) = guid_after(&page_text, "Reference number") {
        root.push(
            Node::field("Reference number", r).with_note("ADFS 2.0's name for the Activity ID"),
        );
    }
    let summary = format!("ADFS error: {}", util::clip(&message, 120));
    let mut finding = format!(
        "sign-in failed: ADFS answered with an error page: \"{}\"",
        util::clip(&message, 300)
    );
    if let Some(a) = &activity {
        finding.push_str(&format!(
            " (Activity ID {a}: look it up in the AD FS Admin event log)"
        ));
    }
    Decoded::new("signin", summary, root).with_finding(Finding::error(finding).at(ERROR_PAGE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Severity;

    fn response<'a>(method: &'a str, status: u16, page: &'a str) -> Message<'a> {
        Message::response(
            method,
            "https://sts.contoso.test/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline",
            status,
            vec![("content-type", "text/html; charset=utf-8")],
            page.as_bytes(),
        )
    }

    /// The fixture's forms page (`src/fixture/adfs.rs` `form_page`) after a wrong password.
    const FIXTURE_FAILED: &str = "<!DOCTYPE html><html><head><title>Sign In</title></head><body><form method=\"post\" id=\"loginForm\" autocomplete=\"off\" action=\"/adfs/ls/?wa=wsignin1.0\"><input id=\"userNameInput\" name=\"UserName\" type=\"email\" value=\"alice@contoso.test\"/><input id=\"passwordInput\" name=\"Password\" type=\"password\"/><input id=\"optionForms\" type=\"hidden\" name=\"AuthMethod\" value=\"FormsAuthentication\"/><span id=\"errorText\" class=\"fieldMargin error\">Incorrect user ID or password. Type the correct user ID and password, and try again.</span><span id=\"submitButton\" class=\"submit\">Sign in</span></form></body></html>";

    /// Modelled on ADFS 2016's paginated login page: the error area is always there, empty
    /// until a sign-in fails.
    fn real_login_page(error: &str) -> String {
        format!(
            r#"<!DOCTYPE html><html lang="en-US"><head><meta http-equiv="X-UA-Compatible" content="IE=edge"/><title>Sign In</title></head>
<body dir="ltr" class="body"><div id="fullPage"><div id="contentWrapper" class="float"><div id="content">
<div id="workArea"><div id="authArea" class="groupMargin"><div id="loginArea">
<div id="loginMessage" class="groupMargin">Sign in with your organizational account</div>
<form method="post" id="loginForm" autocomplete="off" novalidate="novalidate" onKeyPress="if (event &amp;&amp; event.keyCode == 13) Login.submitLoginRequest();" action="/adfs/ls/?client-request-id=abc&amp;wa=wsignin1.0&amp;wtrealm=urn%3afederation%3aMicrosoftOnline" >
<div id="error" class="fieldMargin error smallText"><span id="errorText" for="">{error}</span></div>
<div id="formsAuthenticationArea"><div id="userNameArea"><label id="userNameInputLabel" for="userNameInput" class="hidden">User Account</label>
<input id="userNameInput" name="UserName" type="email" value="bob@contoso.com" tabindex="1" class="text fullWidth" spellcheck="false" placeholder="someone@example.com" autocomplete="off"/></div>
<div id="passwordArea"><label id="passwordInputLabel" for="passwordInput" class="hidden">Password</label>
<input id="passwordInput" name="Password" type="password" tabindex="2" class="text fullWidth" placeholder="Password" autocomplete="off"/></div>
<div id="submissionArea" class="submitMargin"><span id="submitButton" class="submit" tabindex="4" role="button" onKeyPress="if (event &amp;&amp; event.keyCode == 32) Login.submitLoginRequest();" onclick="return Login.submitLoginRequest();">Sign in</span></div></div>
<input id="optionForms" type="hidden" name="AuthMethod" value="FormsAuthentication"/></form></div></div></div></div></div></div></body></html>"#
        )
    }

    #[test]
    fn the_fixtures_failed_forms_login_is_an_error_saying_why() {
        let msg = response("POST", 200, FIXTURE_FAILED);
        let Some(Page::FormsFailure(t)) = classify(&msg, FIXTURE_FAILED) else {
            panic!("not a forms failure");
        };
        let d = forms_failure(FIXTURE_FAILED, &t);
        assert_eq!(
            d.summary,
            "ADFS sign-in failed (wrong user name or password) for alice@contoso.test"
        );
        assert_eq!(d.worst(), Some(Severity::Error));
        let f = &d.findings[0];
        assert!(
            f.message
                .starts_with("sign-in failed (wrong user name or password): ")
        );
        assert!(
            f.message
                .contains("\"Incorrect user ID or password. Type the correct")
        );
    }

    #[test]
    fn real_adfs_pages_fail_for_their_reason_and_the_empty_error_area_is_no_failure() {
        for (text, why) in [
            (
                "Your account has been locked. Contact your administrator.",
                "the account is locked",
            ),
            (
                "Your password has expired. Contact your administrator.",
                "the password has expired",
            ),
            (
                "Incorrect user ID or password. Type the correct user ID and password, and try again.",
                "wrong user name or password",
            ),
        ] {
            let page = real_login_page(text);
            let Some(Page::FormsFailure(t)) = classify(&response("POST", 200, &page), &page) else {
                panic!("{text}: not a forms failure");
            };
            assert_eq!(t, text);
            let d = forms_failure(&page, &t);
            assert_eq!(
                d.summary,
                format!("ADFS sign-in failed ({why}) for bob@contoso.com")
            );
            assert!(
                d.findings[0]
                    .message
                    .starts_with(&format!("sign-in failed ({why})"))
            );
        }
        let page = real_login_page("");
        assert!(classify(&response("GET", 200, &page), &page).is_none());
    }

    #[test]
    fn the_error_page_gives_its_message_and_activity_id() {
        // Modelled on ADFS 2016's error page.
        let page = r##"<!DOCTYPE html><html><head><title>Sign In</title></head><body><div id="content"><div id="workArea">
<div id="errorArea"><div id="openingMessage" class="groupMargin bigText">An error occurred</div>
<div id="errorMessage" class="groupMargin">An error occurred. Contact your administrator for more information.</div></div>
<div id="errorDetailsLink" class="groupMargin"><a href="#" onclick="return Paginated.toggleErrorDetails();">Error details</a></div>
<div id="errorDetails" class="smallText"><div><span class="bold">Activity ID:</span> <span>00000000-0000-0000-4a01-0080000000e3</span></div>
<div><span class="bold">Relying party:</span> <span>Microsoft Office 365 Identity Platform</span></div>
<div><span class="bold">Error time:</span> <span>Tue, 14 Nov 2023 22:13:20 GMT</span></div></div></div></div></body></html>"##;
        let msg = response("GET", 200, page);
        assert!(matches!(classify(&msg, page), Some(Page::Error)));
        let d = error_page(&msg, page);
        assert_eq!(
            d.summary,
            "ADFS error: An error occurred. Contact your administrator for more information."
        );
        assert_eq!(
            d.root.child("Activity ID").and_then(|n| n.value.as_deref()),
            Some("00000000-0000-0000-4a01-0080000000e3")
        );
        assert!(
            d.findings[0]
                .message
                .starts_with("sign-in failed: ADFS answered with an error page")
        );
        assert!(d.has_finding("Activity ID 00000000-0000-0000-4a01-0080000000e3"));
    }

    #[test]
    fn a_bare_msis_answer_is_an_error_page_but_a_login_page_is_not() {
        let page = "<html><body>MSIS7042: The same client browser session has made an invalid request (wa must be wsignin1.0).</body></html>";
        let msg = response("GET", 400, page);
        assert!(matches!(classify(&msg, page), Some(Page::Error)));
        let d = error_page(&msg, page);
        assert_eq!(
            d.root.child("MSIS").and_then(|n| n.value.as_deref()),
            Some("MSIS7042")
        );
        assert!(
            d.summary
                .starts_with("ADFS error: MSIS7042: The same client")
        );
        // The same words answered 200 are no error page, nor is a page outside /adfs/.
        assert!(classify(&response("GET", 200, page), page).is_none());
        let elsewhere =
            Message::response("GET", "https://app.example/x", 400, vec![], page.as_bytes());
        assert!(classify(&elsewhere, page).is_none());
    }
}
