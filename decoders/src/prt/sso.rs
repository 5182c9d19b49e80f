//! PRT SSO on `/oauth2/authorize`: the `x-ms-RefreshTokenCredential` cookie or header (a JWT
//! signed with a session-key-derived key), the companion `x-ms-DeviceCredential`, `sso_nonce`, and
//! the authorize endpoint's answers.

use serde_json::Value;

use super::{
    DEVICE_CREDENTIAL, client_text, cookie, ctx_node, kdf_node, secret_len, sso_credential,
    step_node,
};
use crate::jwt;
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Message, util};

pub(super) fn sso_request(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let at = "PRT SSO request";
    let q = msg.query_pairs();
    let qget = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sso_nonce = qget("sso_nonce");
    let mut root = Node::section(at);
    root.note = Some(
        "browser SSO with the PRT: the authorize request carries a JWT signed with a key derived \
         from the PRT session key; Entra ID signs the user in without a prompt and returns a code \
         (MS-OAPXBC §3.1.5.1.4)"
            .to_string(),
    );
    root.push(step_node(
        "3 of 3: nonce → PRT request → use",
        "uses the PRT for web sign-in (BrowserCore, the Windows Accounts extension, or a tool)",
    ));
    let mut authz = Node::section("authorize");
    for (k, v) in &q {
        let n = match k.as_str() {
            "client_id" => Node::field(k, v).with_note(
                jwt::well_known_app(v)
                    .map(|n| format!("the app signing in: {n}"))
                    .unwrap_or_else(|| "the app signing in".to_string()),
            ),
            "sso_nonce" => Node::field(k, v).with_note(
                "the server nonce the PRT cookie must repeat as request_nonce (from a previous \
                 302 or $Config.bsso.nonce)",
            ),
            "resource" | "scope" | "redirect_uri" | "response_type" | "prompt" | "login_hint" => {
                Node::field(k, v)
            }
            _ => Node::field(k, v),
        };
        authz.push(n);
    }
    root.push(authz);
    let Some((cred, carrier)) = sso_credential(msg) else {
        findings.push(
            Finding::warning(
                "sso_nonce but no x-ms-RefreshTokenCredential: the browser did not attach the PRT \
                 (no SSO extension or BrowserCore); the user will get a sign-in page",
            )
            .at(at),
        );
        let d = Decoded::new(
            "prt",
            "PRT SSO attempt without a PRT credential (sso_nonce only)",
            root,
        );
        return Ok(Decoded { findings, ..d });
    };
    let mut c = secret_len(
        "x-ms-RefreshTokenCredential",
        cred,
        &format!(
            "the PRT credential, sent as {} (both forms are accepted: the header per MS-OAPXBC \
             and AADInternals, the cookie per browsers and ROADtools)",
            if carrier == "cookie" {
                "a COOKIE on login.microsoftonline.com"
            } else {
                "an HTTP HEADER"
            }
        ),
    );
    let cat = format!("{at}/x-ms-RefreshTokenCredential");
    let parsed = if crate::secrets::redaction_marker(cred).is_some() {
        Err("the credential redacted")
    } else {
        jwt::parse_limited(cred, &cx.limits).map_err(|e| {
            c.push(Node::leaf("decode", e.to_string(), Kind::Error));
            findings.push(Finding::error(format!("the PRT credential is not a JWT: {e}")).at(&cat));
            "an unreadable credential"
        })
    };
    let token = match parsed {
        Ok(t) => t,
        Err(what) => {
            root.push(c);
            let d = Decoded::new("prt", format!("PRT SSO ({carrier}) with {what}"), root);
            return Ok(Decoded { findings, ..d });
        }
    };
    let alg = token.alg().unwrap_or("(no alg)").to_string();
    let mut h = Node::section("header");
    h.push(Node::field("alg", &alg).with_note(if alg == "HS256" {
        "HMAC-SHA256 with a key derived from the session key"
    } else {
        "PRT cookies are HS256"
    }));
    if alg != "HS256" {
        findings.push(
            Finding::warning(format!("PRT credential with alg {alg}, expected HS256"))
                .at(format!("{cat}/header/alg")),
        );
    }
    let ctx_len = match token.header_str("ctx") {
        Some(ctx) => {
            let (n, len) = ctx_node(ctx, &format!("{cat}/header/ctx"), &mut findings);
            h.push(n);
            len
        }
        None => {
            findings.push(
                Finding::error("no ctx in the PRT credential header").at(format!("{cat}/header")),
            );
            None
        }
    };
    let (kn, kdf) = kdf_node(token.header.get("kdf_ver"));
    h.push(kn);
    c.push(h);
    let mut p = Node::section("payload");
    if let Some(rt) = token.claim_str("refresh_token") {
        p.push(secret_len(
            "refresh_token",
            &rt,
            "the PRT itself: opaque, only Entra ID reads it",
        ));
    } else {
        findings.push(
            Finding::error("the PRT credential has no refresh_token (PRT)")
                .at(format!("{cat}/payload")),
        );
    }
    let nonce_state;
    match token.claim_str("request_nonce") {
        Some(n) => {
            let mut node = Node::field("request_nonce", &n);
            match sso_nonce {
                Some(s) if s == n => {
                    nonce_state = "request_nonce = sso_nonce";
                    node.note = Some("matches the sso_nonce of this request".to_string());
                }
                Some(_) => {
                    nonce_state = "request_nonce ≠ sso_nonce";
                    node.note = Some("differs from this request's sso_nonce".to_string());
                    findings.push(
                        Finding::warning(
                            "request_nonce differs from the sso_nonce in the URL: the cookie was \
                             built for another nonce and Entra ID will answer with a fresh \
                             sso_nonce (or refuse)",
                        )
                        .at(format!("{cat}/payload/request_nonce")),
                    );
                }
                None => {
                    nonce_state = "request_nonce set";
                    node.note = Some("the server nonce this credential is bound to".to_string());
                }
            }
            p.push(node);
        }
        None => {
            nonce_state = "NO request_nonce";
            findings.push(
                Finding::warning(
                    "no request_nonce (MS-OAPXBC says REQUIRED; old clients used iat): Entra ID \
                     answers with a 302 carrying a fresh sso_nonce",
                )
                .at(format!("{cat}/payload")),
            );
        }
    }
    if let Some(ip) = token.claim("is_primary") {
        let mut n = Node::field("is_primary", util::json_scalar(ip))
            .with_note("\"true\" marks the primary PRT; sent as a STRING, not a JSON boolean");
        if !ip.is_string() {
            n.note = Some("sent as a JSON value; clients send the string \"true\"".to_string());
        }
        p.push(n);
    }
    if let Some(claims) = token.claims.as_ref().and_then(Value::as_object) {
        for (k, v) in claims {
            if matches!(k.as_str(), "refresh_token" | "request_nonce" | "is_primary") {
                continue;
            }
            let mut n = Node::field(k.clone(), util::json_scalar(v));
            n.note = match k.as_str() {
                "iat" => Some(
                    "issued at (old clients bind freshness with iat instead of a nonce)"
                        .to_string(),
                ),
                "ua_client_id" => Some("the app the browser is signing into".to_string()),
                "ua_redirect_uri" => Some("that app's redirect URI".to_string()),
                "x_client_platform" => Some("client platform".to_string()),
                "win_ver" => Some("Windows version".to_string()),
                "windows_api_version" => {
                    Some("PRT protocol version (2.0.1 for cookies)".to_string())
                }
                _ => None,
            };
            p.push(n);
        }
    }
    c.push(p);
    let check = super::crypto::check_signature(&token, &cx.trust.decryption);
    let (mut vnode, vfinding, verdict) =
        super::session_signature(&check, kdf, &format!("{cat}/signature"));
    vnode.label = "signature".to_string();
    c.push(vnode);
    findings.extend(vfinding);
    root.push(c);
    if let Some(dc) = msg
        .header(DEVICE_CREDENTIAL)
        .or_else(|| cookie(msg, DEVICE_CREDENTIAL))
    {
        root.push(secret_len(
            DEVICE_CREDENTIAL,
            dc,
            "the device credential companion (a JWT signed by the device key)",
        ));
    }
    let target = qget("resource")
        .or_else(|| qget("scope"))
        .map(|r| format!(" resource {r}"))
        .unwrap_or_default();
    let summary = format!(
        "PRT SSO: x-ms-RefreshTokenCredential as {carrier}, {alg} KDFv{kdf}, ctx {}, {nonce_state}; \
         client {}{target}; {verdict}",
        ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        qget("client_id")
            .map(client_text)
            .unwrap_or_else(|| "?".to_string())
    );
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

pub(super) fn sso_response(msg: &Message<'_>) -> Decoded {
    let at = "PRT SSO response";
    let mut root = Node::section(at);
    let status = msg.status.unwrap_or(0);
    root.push(Node::leaf("status", status.to_string(), Kind::Number));
    let mut findings = Vec::new();
    let location = msg.header("location");
    let pairs = location.map(util::url_query_pairs).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sent_nonce = msg
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "sso_nonce")
        .map(|(_, v)| v);
    let summary;
    if let Some(loc) = location {
        let base = loc.split('?').next().unwrap_or(loc);
        root.push(
            Node::field("location", base)
                .with_note("where the browser goes next (query shown below)"),
        );
    }
    if let Some(code) = get("code") {
        root.value = Some("signed in: authorization code".to_string());
        root.note = Some(
            "SSO succeeded: Entra ID accepted the PRT credential and redirects to the app with a \
             code, redeemed next with grant_type=authorization_code"
                .to_string(),
        );
        root.push(secret_len(
            "code",
            code,
            "authorization code: opaque, single use, minutes; whoever holds it gets the tokens",
        ));
        for (k, v) in &pairs {
            if k != "code" {
                root.push(Node::field(k.clone(), v.clone()));
            }
        }
        summary = format!(
            "PRT SSO succeeded: {status} with an authorization code ({}) → {}",
            if crate::secrets::is_redacted(code) {
                "redacted".to_string()
            } else {
                format!("{} chars", code.chars().count())
            },
            location.and_then(|l| l.split('?').next()).unwrap_or("?")
        );
    } else if let Some(fresh) = get("sso_nonce") {
        root.value = Some("stale nonce: fresh sso_nonce".to_string());
        root.note = Some(
            "the PRT credential's request_nonce was missing, stale or already used: Entra ID \
             redirects back to /authorize with a fresh sso_nonce. The client must rebuild the PRT \
             cookie with request_nonce = this new nonce (a new ctx and signature) and retry"
                .to_string(),
        );
        let mut n =
            Node::field("sso_nonce", fresh).with_note("the fresh nonce to put in request_nonce");
        if sent_nonce.as_deref() == Some(fresh) {
            n.note = Some(
                "the same nonce as the request carried: the server did not issue a new one"
                    .to_string(),
            );
        }
        root.push(n);
        if let Some(s) = &sent_nonce {
            root.push(
                Node::field("previous sso_nonce", s)
                    .with_note("the nonce the rejected request carried"),
            );
        }
        findings.push(
            Finding::info(
                "stale or missing PRT nonce: the client must build a new x-ms-RefreshTokenCredential \
                 with the fresh sso_nonce and repeat the request; a loop of these redirects means \
                 the client never updates request_nonce",
            )
            .at(at),
        );
        summary = format!(
            "PRT SSO: nonce rejected, {status} with a fresh sso_nonce {}…: rebuild the PRT cookie \
             with it and retry",
            fresh.chars().take(12).collect::<String>()
        );
    } else if let Some(err) = get("error") {
        root.value = Some(format!("error {err}"));
        root.push(Node::field("error", err));
        if let Some(d) = get("error_description") {
            root.push(Node::text("error_description", d));
        }
        findings.push(Finding::warning(format!("PRT SSO failed: {err}")).at(at));
        summary = format!("PRT SSO failed: {status} error={err}");
    } else {
        root.value = Some(format!("{status}"));
        summary = match status {
            200 => {
                findings.push(
                    Finding::warning(
                        "200 instead of a redirect: Entra ID showed a page (sign-in prompt or an \
                         error in $Config), so SSO with the PRT did not happen",
                    )
                    .at(at),
                );
                "PRT SSO did not complete: 200 page instead of a redirect".to_string()
            }
            s => format!("PRT SSO response {s}"),
        };
    }
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    d
}
