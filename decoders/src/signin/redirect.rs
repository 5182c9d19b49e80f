//! OAuth 2.0 / OIDC errors sent back to the application through the browser (RFC 6749 §4.1.2.1,
//! OIDC Core §3.1.2.6): a redirect whose `Location` carries `error=` in its query or fragment,
//! and a form_post page (OAuth 2.0 Form Post Response Mode) auto-posting `error` and
//! `error_description`. The error code and the AADSTS code in the description are explained with
//! the OAuth decoder's tables ([`crate::oauth::explain_error_at`]).

use serde_json::{Map, Value};

use crate::Message;
use crate::html::{self, HtmlForm};
use crate::oauth::explain_error_at;
use crate::util::{self, contains_ci};
use crate::view::{Decoded, Finding, Node, Severity};

const REDIRECT: &str = "OAuth error redirect";
const FORM_POST: &str = "OAuth error form_post";

/// The parameters of a `Location` (its query, then its fragment) when one is a non-empty `error`.
pub(super) fn location_error(msg: &Message<'_>) -> Option<Vec<(String, String)>> {
    let loc = msg.header("location")?;
    if !loc.contains("error=") {
        return None;
    }
    let mut pairs = util::url_query_pairs(loc);
    if let Some((_, fragment)) = loc.split_once('#') {
        pairs.extend(util::parse_form(fragment.as_bytes()));
    }
    pairs
        .iter()
        .any(|(k, v)| k == "error" && !v.is_empty())
        .then_some(pairs)
}

/// The auto-POST form of a page when it carries a non-empty `error` input.
pub(super) fn form_post_error(body: &[u8], text: &str) -> Option<HtmlForm> {
    let named = [
        b"name=\"error\"".as_slice(),
        b"name='error'".as_slice(),
        b"name=error".as_slice(),
    ];
    if !named.iter().any(|n| contains_ci(body, n)) {
        return None;
    }
    html::auto_post_form(text, &["error"])
        .filter(|f| f.input("error").is_some_and(|e| !e.is_empty()))
}

fn as_members(pairs: &[(String, String)]) -> Map<String, Value> {
    let mut obj = Map::new();
    for (k, v) in pairs {
        obj.entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
    obj
}

/// Where a URL goes, without its query and fragment.
fn target(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn explain(
    pairs: &[(String, String)],
    status: Option<u16>,
    label: &'static str,
    to: &str,
    how: &str,
) -> Decoded {
    let mut d = explain_error_at(&as_members(pairs), status, label);
    d.decoder = "signin";
    d.root.note = Some(format!(
        "the authorization server sends the error back to the application {how}; the app \
         receives no code or token"
    ));
    d.root.children.insert(
        0,
        Node::field("to", to).with_note("the application's redirect URI"),
    );
    let what = d.summary.clone();
    d.summary = format!("{label} to {}: {what}", to);
    let severity = d.worst().unwrap_or(Severity::Error);
    d.findings = vec![
        Finding::new(
            severity,
            format!("sign-in error sent back to the app ({label}): {what}"),
        )
        .at(label),
    ];
    d
}

/// Explains a redirect whose `Location` carries an OAuth error.
pub(super) fn explain_redirect(msg: &Message<'_>, pairs: &[(String, String)]) -> Decoded {
    let loc = msg.header("location").unwrap_or("");
    let how = if util::url_query(loc).is_some_and(|q| q.contains("error=")) {
        "in the query of a redirect"
    } else {
        "in the fragment of a redirect"
    };
    explain(pairs, msg.status, REDIRECT, target(loc), how)
}

/// Explains a form_post page carrying an OAuth error.
pub(super) fn explain_form_post(msg: &Message<'_>, form: &HtmlForm) -> Decoded {
    let to = form.action.clone().unwrap_or_default();
    explain(
        &form.inputs,
        msg.status,
        FORM_POST,
        target(&to),
        "in a page that posts it at once (response_mode=form_post)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Severity;

    #[test]
    fn a_location_error_in_the_query_explains_the_code() {
        let msg = Message::response(
            "GET",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=x",
            302,
            vec![(
                "Location",
                "https://app.contoso.com/signin-oidc?error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent+to+access+the+app.%0d%0aTrace+ID%3a+0b1c2d3e-4f50-4617-8293-a4b5c6d7e800&error_uri=https%3a%2f%2flogin.microsoftonline.com%2ferror%3fcode%3d65004&state=12345",
            )],
            b"",
        );
        let pairs = location_error(&msg).unwrap();
        let d = explain_redirect(&msg, &pairs);
        assert_eq!(
            d.summary,
            "OAuth error redirect to https://app.contoso.com/signin-oidc: AADSTS65004 access_denied: the user declined consent to the app"
        );
        assert_eq!(d.decoder, "signin");
        assert_eq!(d.worst(), Some(Severity::Error));
        assert_eq!(
            d.root.child("error").and_then(|n| n.note.as_deref()),
            Some("RFC 6749/OIDC: the user or server denied the request")
        );
        assert!(
            d.findings[0]
                .message
                .starts_with("sign-in error sent back to the app")
        );
    }

    #[test]
    fn a_location_error_in_the_fragment_and_the_subcode_are_read() {
        let msg = Message::response(
            "POST",
            "https://login.microsoftonline.com/common/login",
            302,
            vec![(
                "location",
                "https://spa.contoso.com/#error=access_denied&error_subcode=cancel&state=abc",
            )],
            b"",
        );
        let pairs = location_error(&msg).unwrap();
        let d = explain_redirect(&msg, &pairs);
        assert_eq!(
            d.root
                .child("error_subcode")
                .and_then(|n| n.note.as_deref()),
            Some("the user cancelled the sign-in")
        );
        assert!(d.root.note.as_deref().unwrap().contains("fragment"));
        // A redirect without an error is not one.
        let ok = Message::response(
            "GET",
            "https://x/authorize",
            302,
            vec![("location", "https://app/cb?code=abc&state=1&error_hint=")],
            b"",
        );
        assert!(location_error(&ok).is_none());
    }

    #[test]
    fn a_form_post_page_carrying_an_error_is_explained() {
        // Modelled on Entra ID's form_post page.
        let page = r#"<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="https://app.contoso.com/signin-oidc"><input type="hidden" name="error" value="interaction_required" /><input type="hidden" name="error_description" value="AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access &#39;00000003-0000-0000-c000-000000000000&#39;. Trace ID: 0b1c2d3e" /><input type="hidden" name="state" value="OpenIdConnect.AuthenticationProperties=abc" /><noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form><script language="javascript">document.forms[0].submit();</script></body></html>"#;
        let msg = Message::response(
            "POST",
            "https://login.microsoftonline.com/common/login",
            200,
            vec![("content-type", "text/html; charset=utf-8")],
            page.as_bytes(),
        );
        let form = form_post_error(msg.body, page).unwrap();
        let d = explain_form_post(&msg, &form);
        assert_eq!(
            d.summary,
            "OAuth error form_post to https://app.contoso.com/signin-oidc: AADSTS50076 interaction_required: MFA required"
        );
        assert_eq!(d.worst(), Some(Severity::Error));
        let page = page.replace("value=\"interaction_required\"", "value=\"\"");
        assert!(form_post_error(page.as_bytes(), &page).is_none());
    }
}
