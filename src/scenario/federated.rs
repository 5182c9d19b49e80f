//! Federated sign-in (protocols.md §4, §8.2 step 2) for the user the sync cycle provisioned.
//! Passive: HRD v2 (Federated, AuthURL) → ADFS `wsignin1.0` → forms POST → auto-POST form with
//! `wresult` (wctx must round-trip) → `login.srf` → portal. Active: HRD v1 → MEX → WS-Trust 1.3
//! usernamemixed → the assertion cut out byte-exactly → saml1_1-bearer grant.
//!
//! Not responsible for: HTTP plumbing (mod.rs), the server side (the fixture's `adfs` and
//! `login` modules).

use base64::Engine as _;
use idscope_decoders::html::find_form;
use serde_json::Value;

use super::{Client, StepError, Steps};
use crate::testbed::{
    AAD_GRAPH, LOGIN_HOST, ONPREM_USERS, SAML11_BEARER, TENANT_DOMAIN, xml_escape,
};

const WCTX: &str = "LoginOptions=3&estsredirect=2&estsrequest=fixture-scenario";

/// Plays the passive and the active variant.
pub async fn run(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    let (upn, password, anchor) = ONPREM_USERS.first().copied().unwrap_or(("", "", ""));
    let enc_upn = upn.replace('@', "%40");

    let realm = client
        .get(&format!(
            "https://{LOGIN_HOST}/common/userrealm/{enc_upn}?api-version=2.0"
        ))
        .await
        .map_err(|e| steps.fail("hrd-v2", e))?;
    let j = realm.json().unwrap_or(Value::Null);
    let auth_url = j
        .get("AuthURL")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if j.get("NameSpaceType").and_then(Value::as_str) != Some("Federated") || auth_url.is_empty() {
        return Err(steps.fail(
            "hrd-v2",
            format!("expected Federated with AuthURL, got {}", realm.text()),
        ));
    }
    steps.ok("hrd-v2", format!("{upn}: Federated → {auth_url}"));

    let wctx_q: String = form_urlencoded::byte_serialize(WCTX.as_bytes()).collect();
    let signin_url = format!("{}{wctx_q}", auth_url);
    let page = client
        .get(&signin_url)
        .await
        .map_err(|e| steps.fail("adfs-wsignin", e))?;
    let form = find_form(&page.text())
        .filter(|_| page.status == 200)
        .ok_or_else(|| {
            steps.fail(
                "adfs-wsignin",
                format!("HTTP {}: no login form", page.status),
            )
        })?;
    steps.ok("adfs-wsignin", "forms login page");

    let action = form.action.clone().unwrap_or_default();
    let action_url = if action.starts_with('/') {
        format!("https://{}{action}", host_of(&signin_url))
    } else {
        action
    };
    let posted = client
        .post_form(
            &action_url,
            &[
                ("UserName", upn),
                ("Password", password),
                ("AuthMethod", "FormsAuthentication"),
            ],
        )
        .await
        .map_err(|e| steps.fail("adfs-forms-login", e))?;
    let auto = find_form(&posted.text()).ok_or_else(|| {
        steps.fail(
            "adfs-forms-login",
            format!("HTTP {}: no auto-POST form", posted.status),
        )
    })?;
    let wresult = auto.input("wresult").unwrap_or("").to_string();
    if auto.input("wctx") != Some(WCTX) {
        return Err(steps.fail(
            "adfs-forms-login",
            format!("wctx did not round-trip: {:?}", auto.input("wctx")),
        ));
    }
    if !wresult.contains(anchor) || !wresult.contains("<ds:Signature") {
        return Err(steps.fail(
            "adfs-forms-login",
            "wresult lacks the signed assertion for the ImmutableID",
        ));
    }
    steps.ok(
        "adfs-forms-login",
        format!("signed SAML 1.1, ImmutableID {anchor}"),
    );

    let target = auto.action.clone().unwrap_or_default();
    let srf = client
        .post_form(
            &target,
            &[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", WCTX)],
        )
        .await
        .map_err(|e| steps.fail("login-srf", e))?;
    let location = srf.header("location").unwrap_or("").to_string();
    if srf.status != 302 || !location.contains("signin=success") {
        return Err(steps.fail("login-srf", format!("HTTP {}: {}", srf.status, srf.text())));
    }
    let cookie = srf
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap_or("")
        .to_string();
    let portal = client
        .send(client.http().get(&location).header("cookie", cookie))
        .await
        .map_err(|e| steps.fail("portal", e))?;
    if portal.status != 200 || !portal.text().contains("signin=success") {
        return Err(steps.fail("portal", format!("HTTP {}", portal.status)));
    }
    steps.ok("login-srf", "302 to the portal, session established");

    // Active variant.
    let realm1 = client
        .get(&format!(
            "https://{LOGIN_HOST}/common/userrealm/{enc_upn}?api-version=1.0"
        ))
        .await
        .map_err(|e| steps.fail("hrd-v1", e))?;
    let mex_url = realm1
        .json()
        .and_then(|j| {
            j.get("federation_metadata_url")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| steps.fail("hrd-v1", "no federation_metadata_url"))?;
    steps.ok("hrd-v1", format!("MEX at {mex_url}"));
    let mex = client
        .get(&mex_url)
        .await
        .map_err(|e| steps.fail("mex", e))?;
    let mex_text = mex.text();
    let endpoint = mex_text
        .split("<wsa10:Address>")
        .filter_map(|s| s.split("</wsa10:Address>").next())
        .find(|a| a.contains("/trust/13/usernamemixed"))
        .map(str::to_string)
        .ok_or_else(|| steps.fail("mex", "no WS-Trust 1.3 usernamemixed port"))?;
    steps.ok("mex", format!("usernamemixed 1.3 at {endpoint}"));

    let rst = rst13(&endpoint, upn, password);
    let ans = client
        .send(
            client
                .http()
                .post(&endpoint)
                .header("content-type", "application/soap+xml; charset=utf-8")
                .header(
                    "soapaction",
                    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue",
                )
                .body(rst),
        )
        .await
        .map_err(|e| steps.fail("usernamemixed", e))?;
    let body = ans.text();
    // Cut the assertion out byte-exactly: re-serialising would break its signature.
    let assertion = body
        .find("<saml:Assertion")
        .and_then(|s| {
            body[s..]
                .find("</saml:Assertion>")
                .map(|e| &body[s..s + e + "</saml:Assertion>".len()])
        })
        .filter(|_| ans.status == 200)
        .ok_or_else(|| {
            steps.fail(
                "usernamemixed",
                format!("HTTP {}: no assertion in the RSTRC", ans.status),
            )
        })?;
    steps.ok("usernamemixed", "RSTRC with a signed SAML 1.1 assertion");

    let b64 = base64::engine::general_purpose::STANDARD.encode(assertion);
    let tok = client
        .post_form(
            &format!("https://{LOGIN_HOST}/{TENANT_DOMAIN}/oauth2/token"),
            &[
                ("grant_type", SAML11_BEARER),
                ("assertion", &b64),
                ("client_id", "1b730954-1685-4b74-9bfd-dac224a7b894"),
                ("resource", AAD_GRAPH),
                ("scope", "openid"),
            ],
        )
        .await
        .map_err(|e| steps.fail("saml-bearer-grant", e))?;
    let at = tok
        .json()
        .and_then(|j| {
            j.get("access_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| {
            steps.fail(
                "saml-bearer-grant",
                format!("HTTP {}: {}", tok.status, tok.text()),
            )
        })?;
    let claims = super::jwt_payload(&at).unwrap_or(Value::Null);
    if claims.get("upn").and_then(Value::as_str) != Some(upn) {
        return Err(steps.fail(
            "saml-bearer-grant",
            format!("token upn is {:?}", claims.get("upn")),
        ));
    }
    steps.ok(
        "saml-bearer-grant",
        format!("access token for {upn} (amr fed)"),
    );
    Ok(())
}

fn host_of(url: &str) -> &str {
    url.strip_prefix("https://")
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

/// A WS-Trust 1.3 RST with a UsernameToken (protocols.md §4.4).
pub fn rst13(endpoint: &str, user: &str, password: &str) -> String {
    let esc = xml_escape;
    format!(
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\"><s:Header><wsa:Action s:mustUnderstand=\"1\">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue</wsa:Action><wsa:MessageID>urn:uuid:5b1f0a7e-2c3d-4e5f-8a9b-0c1d2e3f4a99</wsa:MessageID><wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo><wsa:To s:mustUnderstand=\"1\">{}</wsa:To><wsse:Security s:mustUnderstand=\"1\" xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><wsu:Timestamp wsu:Id=\"_0\"><wsu:Created>2024-01-01T00:00:00Z</wsu:Created><wsu:Expires>2024-01-01T00:10:00Z</wsu:Expires></wsu:Timestamp><wsse:UsernameToken wsu:Id=\"uuid-1\"><wsse:Username>{}</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header><s:Body><wst:RequestSecurityToken xmlns:wst=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\"><wsp:AppliesTo xmlns:wsp=\"http://schemas.xmlsoap.org/ws/2004/09/policy\"><wsa:EndpointReference><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wst:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</wst:KeyType><wst:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</wst:RequestType></wst:RequestSecurityToken></s:Body></s:Envelope>",
        esc(endpoint),
        esc(user),
        esc(password)
    )
}
