//! The OAuth 2.0 / OIDC token endpoint of Entra ID (v1 `/oauth2/token`, v2 `/oauth2/v2.0/token`,
//! `/devicecode`, and ADFS's `/adfs/oauth2/token`): token requests classified by `grant_type` and
//! body (never by host), success responses (v1 string numbers, v2 `client_info`, PRT `pop`
//! responses), device-code start responses, the `srv_challenge` nonce, and error responses with
//! their AADSTS code explained, including HTML error pages.
//!
//! Every credential (`password`, `client_secret`, `refresh_token`, `code`, `code_verifier`,
//! `device_code`, `assertion`, `request`, tokens) is a [`Kind::Secret`] node; its decoded structure
//! (a JWT's header and claims, a SAML assertion's XML) may be shown as children. JWTs are decoded
//! by calling [`jwt::parse`]/[`jwt::explain_as`] directly; refresh tokens are opaque and never
//! parsed. This module is *not* responsible for the authorize endpoint, PRT cookies, decrypting
//! JWE responses or decoding SAML beyond recognising it (a SAML decoder, when registered, is asked
//! through [`Context::decode_nested`]).
//!
//! [`Kind::Secret`]: crate::view::Kind::Secret
//! [`jwt::parse`]: crate::jwt::parse
//! [`jwt::explain_as`]: crate::jwt::explain_as

use crate::util::{self, Needle};
use crate::{Context, DecodeError, Decoded, Message};

mod assertion;
mod errors;
mod grants;
mod request;
mod response;
mod tokens;

pub use assertion::{SYNC_ROLE, SYNC_SERVICE};
pub use errors::{aadsts_code, aadsts_meaning, error_meaning, explain_error_at, explain_html};
pub use grants::{Endpoint, Grant, Version, classify, endpoint};
pub use request::explain_request;
pub use response::explain_response;

decoder! {
    /// The `oauth` decoder: token-endpoint requests and responses.
    pub struct OAuth: "oauth";
}

static GRANT_TYPE: Needle = Needle::new(b"grant_type=");
static ACCESS_TOKEN: Needle = Needle::new(b"\"access_token\"");
static ERROR_DESCRIPTION: Needle = Needle::new(b"\"error_description\"");
static DEVICE_CODE: Needle = Needle::new(b"\"device_code\"");
static USER_CODE: Needle = Needle::new(b"\"user_code\"");

fn priority(msg: &Message<'_>) -> f32 {
    let ep = endpoint(msg.path());
    let head = msg.body.get(..4096).unwrap_or(msg.body);
    let head = head.trim_ascii_start();
    let contains = |needle: &Needle| needle.is_in(head);
    if msg.is_request() {
        if !util::looks_like_form(msg.body.get(..4096).unwrap_or(msg.body)) {
            return 0.0;
        }
        if ep.is_some() && msg.method.is_some_and(|m| m.eq_ignore_ascii_case("POST")) {
            return 0.9;
        }
        return if contains(&GRANT_TYPE) { 0.7 } else { 0.0 };
    }
    let json = head.starts_with(b"{");
    let html = msg.content_type().is_some_and(|c| c == "text/html") || head.starts_with(b"<");
    match (ep, json, html) {
        (Some(_), true, _) => 0.9,
        (Some(_), false, true) => 0.8,
        (None, true, _)
            if contains(&ACCESS_TOKEN)
                || contains(&ERROR_DESCRIPTION)
                || (contains(&DEVICE_CODE) && contains(&USER_CODE)) =>
        {
            0.5
        }
        _ => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "token endpoint body")?;
    let ep = endpoint(msg.path());
    if msg.is_request() {
        let form = util::parse_form(msg.body);
        if !form.iter().any(|(k, _)| k == "grant_type") && ep.is_none() {
            return Err(DecodeError::Missing("grant_type"));
        }
        return Ok(explain_request(&form, ep, msg.url.unwrap_or(""), cx));
    }
    let head = msg.body.trim_ascii_start();
    if head.starts_with(b"{") {
        let v = util::parse_json(msg.body, "body", &cx.limits)?;
        let version = match ep {
            Some(Endpoint::Token(v) | Endpoint::DeviceCode(v)) => Some(v),
            None => None,
        };
        return explain_response(&v, version, msg.status, cx);
    }
    if ep.is_some()
        && let Some(text) = msg.text()
    {
        return Ok(explain_html(text, msg.status));
    }
    Err(DecodeError::not(
        "an OAuth token endpoint message",
        "the body is neither a form, a JSON object nor an HTML page",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use crate::jwt;
    use crate::view::{Kind, Severity};
    use std::time::{Duration, UNIX_EPOCH};

    fn form(s: &str) -> Vec<(String, String)> {
        util::parse_form(s.as_bytes())
    }

    #[test]
    fn jwt_bearer_variants_are_told_apart_by_request_or_assertion() {
        let ep = Some(Endpoint::Token(Version::V1));
        let g = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
        assert_eq!(
            classify(&form(&format!("{g}&request=x")), ep),
            Grant::SignedRequest
        );
        assert_eq!(
            classify(
                &form(&format!("{g}&assertion=x&requested_token_use=on_behalf_of")),
                ep
            ),
            Grant::OnBehalfOf
        );
        assert_eq!(
            classify(&form(&format!("{g}&assertion=x")), ep),
            Grant::JwtAssertion
        );
        assert_eq!(
            classify(&form("grant_type=device_code"), ep),
            Grant::DeviceCode
        );
        assert_eq!(
            classify(
                &form("client_id=x"),
                Some(Endpoint::DeviceCode(Version::V2))
            ),
            Grant::DeviceCodeStart
        );
    }

    #[test]
    fn endpoints_are_found_by_path_not_host() {
        assert_eq!(
            endpoint("/common/oauth2/token"),
            Some(Endpoint::Token(Version::V1))
        );
        assert_eq!(
            endpoint("/x/oauth2/v2.0/token/"),
            Some(Endpoint::Token(Version::V2))
        );
        assert_eq!(
            endpoint("/adfs/oauth2/token/"),
            Some(Endpoint::Token(Version::V1))
        );
        assert_eq!(
            endpoint("/common/oauth2/DeviceCode"),
            Some(Endpoint::DeviceCode(Version::V1))
        );
        assert_eq!(endpoint("/common/oauth2/authorize"), None);
    }

    #[test]
    fn aadsts_code_is_extracted_without_a_regex() {
        assert_eq!(aadsts_code("AADSTS50126: Error validating"), Some(50126));
        assert_eq!(aadsts_code("x AADSTS9002313: y"), Some(9002313));
        assert_eq!(aadsts_code("AADSTS: none"), None);
        assert_eq!(aadsts_code("no code"), None);
    }

    #[test]
    fn password_is_secret_and_flagged() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let f = form(
            "grant_type=password&username=a%40b&password=hunter2&resource=https%3A%2F%2Fgraph.windows.net&client_id=1b730954-1685-4b74-9bfd-dac224a7b894",
        );
        let d = explain_request(
            &f,
            Some(Endpoint::Token(Version::V1)),
            "/common/oauth2/token",
            &cx,
        );
        let pw = d.root.child("password").unwrap();
        assert_eq!(pw.kind, Kind::Secret);
        assert_eq!(d.worst(), Some(Severity::Warning));
        assert_eq!(
            d.summary,
            "ROPC token request v1 client=1b730954… resource=https://graph.windows.net user=a@b"
        );
    }

    #[test]
    fn refresh_tokens_are_never_parsed_as_jwts() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        // A JWT-shaped refresh token stays one opaque secret without children.
        let v = serde_json::json!({"token_type":"Bearer","refresh_token":"eyJhbGciOiJub25lIn0.eyJhIjoxfQ."});
        let d = explain_response(&v, Some(Version::V2), Some(200), &cx).unwrap();
        let rt = d.root.child("refresh_token").unwrap();
        assert_eq!(rt.kind, Kind::Secret);
        assert!(rt.children.is_empty());
    }

    #[test]
    fn pending_device_poll_is_info_not_error() {
        let v = serde_json::json!({"error":"authorization_pending","error_description":"AADSTS70016: pending","error_codes":[70016]});
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let d = explain_response(&v, None, Some(400), &cx).unwrap();
        assert_eq!(d.worst(), Some(Severity::Info));
        assert_eq!(
            d.summary,
            "AADSTS70016 authorization_pending: device flow: authorization pending"
        );
    }

    #[test]
    fn truncated_and_mutated_inputs_decode_or_say_why() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let inputs = [
            include_str!("../../tests/fixtures/oauth/ropc_v1_response.http"),
            include_str!("../../tests/fixtures/oauth/prt_jwt_bearer_request.http"),
            include_str!("../../tests/fixtures/oauth/client_assertion_sync_rs256_v1_x5c.http"),
            include_str!("../../tests/fixtures/oauth/prt_pop_response.http"),
            include_str!("../../tests/fixtures/oauth/error_50076_mfa_required.http"),
            include_str!("../../tests/fixtures/oauth/error_html_page.http"),
            include_str!("../../tests/fixtures/jwt/jwe_5_segments.http"),
        ];
        let (mut views, mut errors) = (0, 0);
        for text in inputs {
            let msg = crate::OwnedMessage::parse_http_text(text).unwrap();
            let body = msg.body.clone();
            for cut in (0..body.len()).step_by(13) {
                for variant in [body[..cut].to_vec(), {
                    let mut b = body.clone();
                    b[cut] ^= 0x5a;
                    b
                }] {
                    let mut m = msg.clone();
                    m.body = variant;
                    for d in [&OAuth as &dyn Decoder, &jwt::Jwt] {
                        let m = m.as_message();
                        match d.decode(&m, &cx) {
                            Ok(v) => {
                                assert!(!v.summary.is_empty(), "{}", d.id());
                                views += 1;
                            }
                            Err(e) => {
                                assert!(!e.to_string().is_empty(), "{}", d.id());
                                errors += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(views > 20 && errors > 20, "{views} views, {errors} errors");
    }
}
