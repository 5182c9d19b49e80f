//! PRT acquisition: the `srv_challenge` nonce request and its answer, the request signed by the
//! device key (`x5c` = the device certificate; the inner grant: password, SAML assertion, refresh
//! token or Windows Hello assertion) and the PRT response (`token_type: pop`, `session_key_jwe`,
//! `tgt_ad`/`tgt_cloud`).

use serde_json::Value;

use super::{
    JWT_BEARER, between, cert_findings, device_cert_node, form_context_nodes, form_get,
    inner_grant_meaning, kdf_node, nonce_claim_node, secret_len, step_node, v4,
};
use crate::jwt::{self, Form, Token};
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Message, util, x509};

// ---------------------------------------------------------------------------------------------
// Nonce

pub(super) fn nonce_request() -> Decoded {
    let root = Node::section("PRT nonce request")
        .with_note(
            "asks Entra ID (or ADFS at /adfs/oauth2/token) for a fresh server nonce; no credential \
             travels in this request (MS-OAPXBC §4.1)",
        )
        .with_children([
            step_node(
                "1 of 3: nonce → PRT request → use",
                "the next PRT acquisition request, session-key-signed request or PRT cookie must \
                 carry the returned Nonce as request_nonce",
            ),
            Node::field("grant_type", "srv_challenge")
                .with_note("not a real OAuth grant: the endpoint answers {\"Nonce\":\"…\"}"),
        ]);
    Decoded::new(
        "prt",
        "PRT step 1: srv_challenge nonce request (no credential)",
        root,
    )
}

pub(super) fn nonce_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let nonce = v
        .get("Nonce")
        .map(util::json_scalar)
        .ok_or(DecodeError::Missing("Nonce"))?;
    let len = nonce.chars().count();
    let root = Node::section("PRT nonce")
        .with_note("the server's challenge for the next PRT-related request")
        .with_children([
            step_node(
                "1 of 3: nonce → PRT request → use",
                "the client copies this value into request_nonce of the signed request or PRT \
                 cookie it builds next",
            ),
            Node::field("Nonce", &nonce).with_note(format!(
                "opaque to the client ({len} chars; capital N in the JSON). It proves freshness: \
                 Entra ID accepts it once and only for a few minutes, so a captured PRT request or \
                 cookie cannot be replayed later. A request_nonce that does not match a nonce \
                 issued recently fails (AADSTS error, or a stale-nonce 302 on /authorize)"
            )),
        ]);
    Ok(Decoded::new(
        "prt",
        format!(
            "PRT nonce {}… ({len} chars, single-use): must come back as request_nonce",
            nonce.chars().take(12).collect::<String>()
        ),
        root,
    ))
}

pub(super) fn acquisition_request(
    token: &Token,
    form: &[(String, String)],
    path: &str,
    cx: &Context<'_>,
) -> Decoded {
    let mut findings = Vec::new();
    let alg = token.alg().unwrap_or("(no alg)");
    let v4 = form_get(form, "prt_protocol_version").map(str::trim) == Some(v4::V4);
    let inner_grant = token.claim_str("grant_type").unwrap_or_default();
    let wants_prt = token
        .claim_str("scope")
        .is_some_and(|s| s.split_whitespace().any(|x| x == "aza"));
    // Under v4 the device key signs the PRT's uses as well: a refresh_token grant without aza
    // is a token request with the PRT.
    let usage = v4 && inner_grant == "refresh_token" && !wants_prt;
    let at = if v4 {
        "PRT protocol v4 request"
    } else {
        "PRT acquisition request"
    };
    let mut root = Node::section(at);
    root.value = Some(format!("device-signed ({alg})"));
    root.note = Some(if v4 {
        "a jwt-bearer token request under PRT protocol v4, its `request` JWT signed ES256 by the \
         device's P-256 key: the device proves it is the registered device at every request \
         (there is no session key), the inner grant proves the user (or is the PRT itself), and \
         the answer comes back ECDH-ES encrypted to the transport key named in jwe_crypto"
            .to_string()
    } else {
        "a jwt-bearer token request whose `request` JWT is signed by the device key: the device \
         proves it is a registered device, the inner grant proves the user, and Entra ID answers \
         with a PRT (token_type pop) and a session key (MS-OAPXBC §3.1.5.1.2)"
            .to_string()
    });
    root.push(if usage {
        step_node(
            "nonce → device-signed request → ECDH-ES answer",
            "uses the PRT for tokens; under v4 the device key signs it, the nonce must be inside \
             as request_nonce",
        )
    } else {
        step_node(
            "2 of 3: nonce → PRT request → use",
            "acquires a PRT; the srv_challenge nonce must be inside as request_nonce",
        )
    });
    root.children.extend(form_context_nodes(form));

    // The device, from x5c.
    let mut device_id = None;
    let x5c = token.header.get("x5c");
    let first = match x5c {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str),
        _ => None,
    };
    match first.and_then(|b| util::b64_decode_any(b, jwt::MAX_TOKEN_LEN)) {
        Some(der) => match x509::Certificate::parse(&der) {
            Ok(info) => {
                device_id = info.cn.clone();
                cert_findings(&info, &format!("{at}/device"), cx, &mut findings);
                let mut d = device_cert_node(
                    "device",
                    &info,
                    cx,
                    "the device certificate from the JWT header x5c (issued by DRS at \
                     registration); it names the device but proves nothing by itself",
                );
                if matches!(x5c, Some(Value::String(_))) {
                    d.push(Node::text(
                        "x5c form",
                        "a single base64 string, as Windows sends it (RFC 7515 says an array)",
                    ));
                }
                d.push(x5c_signature_node(token, &der, &info, at, &mut findings));
                root.push(d);
            }
            Err(e) => root.push(Node::leaf(
                "device",
                format!("x5c is not an X.509 certificate: {e}"),
                Kind::Error,
            )),
        },
        None => {
            findings.push(
                Finding::warning(
                    "no usable x5c device certificate in the header: Entra ID cannot tell which \
                     device signed the request",
                )
                .at(format!("{at}/device")),
            );
            root.push(Node::leaf("device", "no x5c certificate", Kind::Error));
        }
    }
    let verdict = jwt::verify(token, cx.trust);
    root.push(
        Node::field("device signature", format!("{alg}: {}", verdict.word())).with_note(match &verdict
        {
            jwt::Verdict::Verified { source, .. } => format!(
                "verified with a trusted device public key from {source}: the request was signed \
                 by that device's private key"
            ),
            _ => "Entra ID checks it with the device public key it stored at registration; this \
                  capture can verify it only with that key as a trusted JWK (the x5c key is not \
                  trusted)"
                .to_string(),
        }),
    );
    if let Some(kv) = token.header.get("kdf_ver") {
        let (n, _) = kdf_node(Some(kv));
        root.push(n.with_note(
            "kdf_ver 2 here tells Entra ID the client uses KDFv2 for the session key: later \
             cookies and signed requests derive keys from SHA-256(ctx || payload)",
        ));
    }

    if let Some(n) = v4::jwe_crypto_node(token, at, cx, &mut findings) {
        root.push(n);
    }
    v4::mixing_findings(form, path, token, at, &mut findings);
    if let Some(p) = token.claim_str("purpose") {
        root.push(Node::field("purpose", &p).with_note(
            "prt_usage: the request uses the PRT for tokens (ROADtools' v4 broker requests send it)",
        ));
    }

    // The inner grant.
    let inner = inner_grant;
    let mut grant = Node::section("grant");
    grant.value = Some(if inner.is_empty() {
        "(no grant_type)".to_string()
    } else {
        inner.clone()
    });
    grant.note = Some(inner_grant_meaning(&inner).to_string());
    let mut who = None;
    match inner.as_str() {
        "password" => {
            let user = token.claim_str("username");
            who = user.clone();
            grant.push(Node::field(
                "username",
                user.clone().unwrap_or_else(|| "(absent)".to_string()),
            ));
            if let Some(p) = token.claim_str("password") {
                grant.push(secret_len(
                    "password",
                    &p,
                    "the user's password in clear inside the JWT payload: base64url, not encrypted",
                ));
                findings.push(
                    Finding::error(format!(
                        "the password{} travels inside the PRT request JWT: the payload is only \
                         base64url, so anyone who can read this request (a proxy, a log, a HAR) \
                         has the password; the device signature does not hide it",
                        user.map(|u| format!(" of {u}")).unwrap_or_default()
                    ))
                    .at(format!("{at}/grant/password")),
                );
            } else {
                findings.push(
                    Finding::warning("grant_type password without a password claim")
                        .at(format!("{at}/grant")),
                );
            }
        }
        "urn:ietf:params:oauth:grant-type:saml1_1-bearer"
        | "urn:ietf:params:oauth:grant-type:saml2-bearer" => {
            let a = token.claim_str("assertion").unwrap_or_default();
            let (node, upn) = saml_node(&a, cx, &mut findings);
            who = upn;
            grant.push(node);
        }
        "refresh_token" => {
            if let Some(rt) = token.claim_str("refresh_token") {
                grant.push(secret_len(
                    "refresh_token",
                    &rt,
                    if v4 {
                        "the PRT (or, to acquire one, a refresh token of the user): opaque, only \
                         Entra ID can read it"
                    } else {
                        "the PRT being renewed: opaque, only Entra ID can read it"
                    },
                ));
            }
        }
        JWT_BEARER => {
            if let Some(a) = token.claim_str("assertion") {
                let mut n = secret_len("assertion", &a, "Windows Hello for Business assertion");
                if let Ok(t) = jwt::parse_limited(&a, &cx.limits) {
                    n.push(Node::field("token", jwt::brief(&t, cx)));
                    if let Some(u) = t.header_str("use") {
                        n.push(
                            Node::field("use", u)
                                .with_note("ngc: signed by the Windows Hello (NGC) key"),
                        );
                    }
                }
                grant.push(n);
            }
        }
        _ => {}
    }
    root.push(grant);
    root.push(nonce_claim_node(
        token,
        &format!("{at}/request_nonce"),
        &mut findings,
    ));
    if let Some(c) = token.claim_str("client_id") {
        root.push(Node::field("client_id", &c).with_note(match jwt::well_known_app(&c) {
            Some(n) => format!(
                "{n}: the first-party client Windows uses to acquire PRTs (38aa3b87… Windows Sign \
                 In, 29d9ed98… Authentication Broker)"
            ),
            None => "not one of the first-party PRT clients".to_string(),
        }));
    }
    if let Some(s) = token.claim_str("scope") {
        let mut n = jwt::scope_node("scope", &s);
        n.note = Some(if s.split_whitespace().any(|x| x == "aza") {
            "aza asks for a PRT; ugs adds the user's group SIDs (for the Kerberos TGT)".to_string()
        } else {
            "without aza this is not a PRT request but a token request".to_string()
        });
        root.push(n);
    }

    let kind = match inner.as_str() {
        "password" => "password grant",
        "urn:ietf:params:oauth:grant-type:saml1_1-bearer" => "federated SAML 1.1 assertion",
        "urn:ietf:params:oauth:grant-type:saml2-bearer" => "federated SAML 2.0 assertion",
        "refresh_token" if v4 => "refresh_token grant (a refresh token, or the PRT renewed)",
        "refresh_token" => "refresh_token grant (PRT renewal)",
        JWT_BEARER => "Windows Hello assertion",
        "" => "no inner grant_type",
        other => other,
    };
    let mut summary = if usage {
        "PRT protocol v4: the PRT used for tokens".to_string()
    } else if v4 {
        format!("PRT protocol v4: PRT acquisition via {kind}")
    } else if form_get(form, "prt_protocol_version").map(str::trim) == Some("3.0") {
        format!("PRT protocol v3: PRT acquisition via {kind}")
    } else {
        format!("PRT acquisition via {kind}")
    };
    if let Some(w) = &who {
        summary.push_str(&format!(" for {w}"));
    }
    if let Some(d) = &device_id {
        summary.push_str(&format!(" on device {}", util::short_id(d)));
    }
    summary.push_str(&format!(", {alg} device-signed, {}", verdict.word()));
    if let Some(stk) = token
        .claim("jwe_crypto")
        .and_then(|j| j.get("apv"))
        .and_then(Value::as_str)
        .and_then(|a| util::b64_decode_any(a, 4096))
        .and_then(|b| v4::parse_party_info(&b))
        .and_then(|p| p.point)
    {
        summary.push_str(&format!(
            "; answer ECDH-ES to transport key {}",
            v4::short_thumbprint(&stk)
        ));
    }
    if token.claim("password").is_some() {
        summary.push_str("; PASSWORD inside the JWT");
    }
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    d
}

/// Whether the signature verifies with the key of the `x5c` certificate, and whether that key
/// is of the kind the `alg` names.
fn x5c_signature_node(
    token: &Token,
    der: &[u8],
    cert: &x509::Certificate,
    at: &str,
    findings: &mut Vec<Finding>,
) -> Node {
    let alg = token.alg().unwrap_or("");
    let key = cert.key.text(x509::KeyForm::Named);
    let ec = matches!(cert.key.kind, x509::KeyKind::Ec);
    let fits = match alg {
        "ES256" => ec && cert.key.curve.as_deref().is_some_and(|c| c.contains("256")),
        "RS256" => matches!(cert.key.kind, x509::KeyKind::Rsa),
        _ => true,
    };
    if !fits {
        findings.push(
            Finding::error(format!(
                "the request is signed {alg} but the x5c device certificate holds an {key} key: \
                 no signature can verify"
            ))
            .at(format!("{at}/device")),
        );
        return Node::leaf(
            "signed with this key",
            format!("no: {alg} with an {key} key"),
            Kind::Error,
        );
    }
    if token.signature_redacted {
        return Node::field("signed with this key", "not checked").with_note(format!(
            "the signature was {}",
            crate::secrets::REDACTED_NOTE
        ));
    }
    match v4::signed_by_x5c(token, der) {
        Some(true) => Node::field("signed with this key", "yes").with_note(
            "the signature verifies with the certificate's own key: the signer holds that key \
             (it does not prove DRS issued the certificate)",
        ),
        Some(false) => {
            findings.push(
                Finding::warning(
                    "the signature does not verify with the key of the x5c certificate: the \
                     request was altered, or signed by another key",
                )
                .at(format!("{at}/device")),
            );
            Node::leaf("signed with this key", "no", Kind::Error)
        }
        None => Node::field("signed with this key", format!("not checked ({alg})")),
    }
}

/// The SAML assertion inside a PRT request: decoded, handed to the registry for a nested view,
/// and a few fields read directly so they show even when no SAML decoder is registered.
fn saml_node(b64: &str, cx: &Context<'_>, findings: &mut Vec<Finding>) -> (Node, Option<String>) {
    let at = "PRT acquisition request/grant/assertion";
    if let Some(n) = crate::secrets::redacted_node("assertion", b64) {
        return (n, None);
    }
    let mut n = secret_len(
        "assertion",
        b64,
        "the ADFS-issued SAML assertion, standard base64 inside the JWT: a bearer credential for \
         the user",
    );
    let Some(xml) = util::b64_decode_any(b64, cx.limits.max_inflate) else {
        n.push(Node::leaf("decode", "not valid base64", Kind::Error));
        findings.push(Finding::error("the assertion is not valid base64").at(at));
        return (n, None);
    };
    let Ok(text) = std::str::from_utf8(&xml) else {
        n.push(Node::leaf("decode", "not UTF-8 XML", Kind::Error));
        findings.push(Finding::error("the assertion does not decode to UTF-8 XML").at(at));
        return (n, None);
    };
    let version = if text.contains("urn:oasis:names:tc:SAML:1.0:assertion") {
        "SAML 1.1"
    } else if text.contains("urn:oasis:names:tc:SAML:2.0:assertion") {
        "SAML 2.0"
    } else {
        "not SAML"
    };
    let mut s = Node::section("saml");
    s.value = Some(format!("{version} assertion, {} bytes of XML", xml.len()));
    let issuer = between(text, "Issuer=\"", "\"").or_else(|| between(text, "Issuer>", "<"));
    let nameid = between(text, "NameIdentifier", "</")
        .and_then(|t| t.rsplit('>').next())
        .or_else(|| between(text, "NameID", "</").and_then(|t| t.rsplit('>').next()));
    let upn = text
        .find("AttributeName=\"UPN\"")
        .and_then(|i| text.get(i..))
        .and_then(|t| between(t, "AttributeValue>", "<"))
        .map(str::to_string);
    let not_after = between(text, "NotOnOrAfter=\"", "\"");
    if let Some(i) = issuer {
        s.push(
            Node::field("issuer", i).with_note("the ADFS (IssuerUri) that issued the assertion"),
        );
    }
    if let Some(v) = nameid {
        s.push(Node::field("NameIdentifier", v).with_note(
            "the ImmutableID: Entra ID finds the synced user by it (the sync step's SourceAnchor)",
        ));
    }
    if let Some(u) = &upn {
        s.push(Node::field("UPN", u));
    }
    if let Some(t) = not_after {
        s.push(
            Node::field("NotOnOrAfter", t).with_note("the assertion is refused after this time"),
        );
    }
    if !text.contains("Signature") {
        findings.push(
            Finding::warning(
                "the embedded SAML assertion carries no XML signature: Entra ID accepts only \
                 assertions signed by the federation's token-signing certificate",
            )
            .at(at),
        );
    }
    match cx.decode_nested(&xml) {
        Some(inner) => {
            findings.extend(inner.findings.into_iter().map(|mut f| {
                f.at = Some(match f.at.take() {
                    Some(a) => format!("{at}/saml/{a}"),
                    None => format!("{at}/saml"),
                });
                f
            }));
            s.push(inner.root);
        }
        None => s
            .push(Node::leaf("xml", text, Kind::Markup).with_note(
                "no SAML decoder is registered in this build: the XML is shown as sent",
            )),
    }
    n.push(s);
    (n, upn)
}

// ---------------------------------------------------------------------------------------------
// PRT response

pub(super) fn prt_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("a PRT response", "the body is not a JSON object"))?;
    let mut findings = Vec::new();
    let at = "PRT response";
    let mut root = Node::section(at);
    root.note = Some(
        "Entra ID's answer to a PRT acquisition: the PRT (opaque), the session key wrapped to the \
         device transport key, optionally Kerberos TGTs; the oauth view lists every field, this \
         view explains what each means for the device"
            .to_string(),
    );
    root.push(step_node(
        "2 of 3: nonce → PRT request → use",
        "the device now holds a PRT and (after unwrapping with its TPM) the session key",
    ));
    let s = |k: &str| obj.get(k).map(util::json_scalar);
    let pop = s("token_type").is_some_and(|t| t.eq_ignore_ascii_case("pop"));
    if !pop {
        findings.push(
            Finding::warning(
                "session_key_jwe without token_type pop: a PRT response says token_type \"pop\"",
            )
            .at(format!("{at}/PRT")),
        );
    }
    // The PRT.
    let mut prt = Node::section("PRT");
    let mut lifetime = None;
    if let Some(rt) = s("refresh_token") {
        prt.value = Some(format!("{} chars, opaque", rt.chars().count()));
        prt.push(secret_len(
            "refresh_token",
            &rt,
            "the Primary Refresh Token: opaque and encrypted to Entra ID (it carries the device id \
             and the session key); never parse it, never log it",
        ));
    } else {
        findings
            .push(Finding::error("no refresh_token (PRT) in the response").at(format!("{at}/PRT")));
    }
    if let Some(secs) = obj.get("refresh_token_expires_in").and_then(util::json_int) {
        // 1209599 s is one second short of 14 days: round to the nearest day for reading.
        let d = if secs >= 86_400 {
            format!("{}d", (secs + 43_200) / 86_400)
        } else {
            util::human_duration(std::time::Duration::from_secs(secs.unsigned_abs()))
        };
        lifetime = Some(d.clone());
        prt.push(
            Node::leaf(
                "refresh_token_expires_in",
                format!("{secs} s ({d})"),
                Kind::Number,
            )
            .with_note(format!(
                "PRT lifetime (14 days is usual; Windows renews it every 4 hours while in use): \
                 until about {}",
                util::format_epoch_relative(util::epoch_secs(cx.now).saturating_add(secs), cx.now)
            )),
        );
    }
    root.push(prt);
    // The session key.
    let mut sk_summary = None;
    if let Some(jwe) = s("session_key_jwe").filter(|j| crate::secrets::is_redacted(j)) {
        root.push(Node::secret("session_key_jwe", jwe).with_note(format!(
            "the PRT session key as a compact JWE wrapped to the device transport key, {}",
            crate::secrets::REDACTED_NOTE
        )));
        sk_summary = Some("session key redacted".to_string());
    } else if let Some(jwe) = s("session_key_jwe") {
        let mut n = secret_len(
            "session_key_jwe",
            &jwe,
            "the PRT session key as a compact JWE: the encrypted-key segment is the 32-byte \
             session key wrapped with RSA-OAEP to the device transport key",
        );
        match jwt::parse_limited(&jwe, &cx.limits) {
            Ok(t) if t.form == Form::Jwe => {
                let alg = t.alg().unwrap_or("?").to_string();
                let enc = t.header_str("enc").unwrap_or("?").to_string();
                let ecdh = alg.starts_with("ECDH-ES");
                n.push(Node::field("alg", &alg).with_note(if alg == "RSA-OAEP" {
                    "RSA-OAEP (SHA-1) to the transport key registered with DRS (TransportKey): \
                     only the device's TPM can unwrap it"
                } else if ecdh {
                    "ECDH-ES to an EC transport key: not seen from Entra ID (PRT protocol v4 \
                     sends no session key); opened like the RSA form"
                } else {
                    "expected RSA-OAEP (wrapped to the transport key)"
                }));
                n.push(Node::field("enc", &enc).with_note(
                    "declared content encryption; for session_key_jwe the ciphertext part is not \
                     meaningful, the key is in the encrypted-key segment",
                ));
                let mut key_bits = None;
                if let Some(seg) = t.jwe.filter(|_| !ecdh) {
                    key_bits = Some(seg.encrypted_key * 8);
                    n.push(
                        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key))
                            .with_note(format!(
                                "the wrapped session key; its size is the transport key's \
                                 modulus: RSA {} bits",
                                seg.encrypted_key * 8
                            )),
                    );
                }
                let unwrapped = if cx.trust.decryption.rsa().next().is_none()
                    && cx.trust.decryption.ec().next().is_none()
                {
                    None
                } else {
                    jwt::Jwe::from_compact(&jwe, &cx.limits)
                        .ok()
                        .map(|j| super::crypto::unwrap_session_key(&j, &cx.trust.decryption))
                };
                match unwrapped {
                    None => n.push(
                        Node::field("decryption", "needs the transport private key").with_note(
                            "the TPM-bound transport key never leaves a real device; give it \
                             with --key (a test device's key) to unwrap the session key",
                        ),
                    ),
                    Some(Ok((key, source, content))) => {
                        n.push(
                            Node::secret("session key", util::hex_lower(&key)).with_note(format!(
                                "{} bytes, unwrapped with {source} ({alg}){}; it verifies the \
                                 PRT-signed requests and cookies and opens the encrypted \
                                 responses of this PRT (hex, as --key takes it)",
                                key.len(),
                                if content {
                                    "; the JWE's content authenticates with it"
                                } else {
                                    ""
                                }
                            )),
                        );
                        findings.push(
                            Finding::info(format!(
                                "session key unwrapped with {source}: the PRT's requests, cookies \
                                 and encrypted responses in this capture can be checked"
                            ))
                            .at(format!("{at}/session_key_jwe")),
                        );
                    }
                    Some(Err(tried)) => {
                        let why = tried.join("; ");
                        n.push(Node::field("decryption", format!("not unwrapped: {why}")));
                        findings.push(
                            Finding::info(format!("session key not unwrapped: {why}"))
                                .at(format!("{at}/session_key_jwe")),
                        );
                    }
                }
                sk_summary = Some(format!(
                    "session key {alg}/{enc} to the transport key{}",
                    key_bits.map(|b| format!(" (RSA {b})")).unwrap_or_default()
                ));
            }
            _ => {
                n.push(Node::leaf("decode", "not a compact JWE", Kind::Error));
                findings.push(
                    Finding::warning("session_key_jwe is not a 5-segment JWE")
                        .at(format!("{at}/session_key_jwe")),
                );
            }
        }
        root.push(n);
    } else {
        findings.push(
            Finding::warning(
                "token_type pop without session_key_jwe: the client gets a PRT it cannot use",
            )
            .at(at),
        );
    }
    // Kerberos.
    let mut tgts = Vec::new();
    for k in ["tgt_ad", "tgt_cloud"] {
        if let Some(text) = s(k) {
            let (n, realm) = tgt_node(k, &text, cx);
            let realm = realm.unwrap_or_else(|| {
                if crate::secrets::is_redacted(&text) {
                    "redacted".to_string()
                } else {
                    "?".to_string()
                }
            });
            tgts.push(format!("{k} {realm}"));
            root.push(n);
        }
    }
    if let Some(names) = s("kerberos_top_level_names") {
        let mut n = Node::field("kerberos_top_level_names", &names).with_note(
            "host suffixes (with optional ports) for which Windows uses the cloud TGT (Azure SQL, \
             Azure Files …)",
        );
        for (i, x) in names.split(',').take(100).enumerate() {
            n.push(Node::field(format!("[{i}]"), x.trim()));
        }
        root.push(n);
    }
    // The id_token, briefly (oauth shows every claim and its finding).
    let mut who = None;
    let mut device = None;
    if let Some(idt) = s("id_token")
        && let Ok(t) = jwt::parse_limited(&idt, &cx.limits)
    {
        who = t.claim_str("upn").or_else(|| t.claim_str("unique_name"));
        device = t.claim_str("deviceid");
        let mut n = Node::field("id_token", jwt::brief(&t, cx)).with_note(
            "who the PRT belongs to; unsigned (alg none) is normal here: it comes straight from \
             the token endpoint over TLS (MS-OAPXBC); the oauth view lists its claims",
        );
        if let Some(u) = &who {
            n.push(Node::field("user", u));
        }
        if let Some(dv) = &device {
            n.push(Node::field("deviceid", dv).with_note("the device the PRT is bound to"));
        }
        if let Some(a) = t.claim("amr") {
            n.push(Node::field("amr", util::json_scalar(a)).with_note(
                "authentication methods: rsa = the device key proof, pwd = password, fed = \
                 federated, ngcmfa = Windows Hello",
            ));
        }
        root.push(n);
    }
    let mut summary = "PRT issued".to_string();
    if let Some(u) = &who {
        summary.push_str(&format!(" for {u}"));
    }
    if let Some(d) = &device {
        summary.push_str(&format!(" on device {}", util::short_id(d)));
    }
    if let Some(l) = &lifetime {
        summary.push_str(&format!(" (valid {l})"));
    }
    let mut parts = Vec::new();
    if let Some(sk) = sk_summary {
        parts.push(sk);
    }
    if !tgts.is_empty() {
        parts.push(format!("Kerberos {}", tgts.join(", ")));
    }
    if !parts.is_empty() {
        summary.push_str(": ");
        summary.push_str(&parts.join("; "));
    }
    root.value = Some(if pop {
        "token_type pop".to_string()
    } else {
        "no pop".to_string()
    });
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

fn tgt_node(label: &str, text: &str, cx: &Context<'_>) -> (Node, Option<String>) {
    let mut n = secret_len(
        label,
        text,
        if label == "tgt_ad" {
            "Kerberos TGT for the on-premises AD realm (Cloud Kerberos Trust): JSON in a string"
        } else {
            "Kerberos TGT for Entra ID's cloud realm (Azure Files, SQL …): JSON in a string"
        },
    );
    if crate::secrets::is_redacted(text) {
        return (n, None);
    }
    let Ok(v) = util::parse_json(text.as_bytes(), "tgt", &cx.limits) else {
        n.push(Node::leaf("decode", "not JSON", Kind::Error));
        return (n, None);
    };
    let Some(m) = v.as_object() else {
        return (n, None);
    };
    let realm = m.get("realm").map(util::json_scalar);
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    n.push(Node::field(
        "members",
        keys.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    if let Some(r) = &realm {
        n.push(Node::field("realm", r));
    }
    if let Some(sn) = m.get("sn") {
        n.push(
            Node::field("sn", util::json_scalar(sn))
                .with_note("the ticket's service (krbtgt/REALM)"),
        );
    }
    if let Some(ck) = m.get("clientKey").map(util::json_scalar) {
        let mut c = Node::field("clientKey", format!("{} chars", ck.len())).with_note(
            "the TGT's Kerberos session key, a JWE encrypted with a key derived from the PRT \
             session key",
        );
        if let Ok(t) = jwt::parse_limited(&ck, &cx.limits)
            && t.form == Form::Jwe
        {
            c.value = Some(jwt::brief(&t, cx));
            if let Some(ctx) = t.header_str("ctx") {
                let bytes = util::b64_decode_any(ctx, 1024).map_or(0, |b| b.len());
                c.push(Node::field("ctx", ctx).with_note(format!(
                    "{bytes} bytes: with the session key this derives the decryption key (KDFv1)"
                )));
            }
        }
        n.push(c);
    }
    if let Some(mb) = m.get("messageBuffer").map(util::json_scalar) {
        let bytes = util::b64_decode_any(&mb, cx.limits.max_inflate).map_or(0, |b| b.len());
        n.push(
            Node::field("messageBuffer", format!("{bytes} bytes"))
                .with_note("the Kerberos ticket itself (KRB-CRED / AS-REP), base64"),
        );
    }
    if let Some(kt) = m.get("keyType") {
        let t = util::json_scalar(kt);
        n.push(Node::field("keyType", &t).with_note(match t.as_str() {
            "18" => "aes256-cts-hmac-sha1-96",
            "17" => "aes128-cts-hmac-sha1-96",
            "23" => "rc4-hmac",
            _ => "Kerberos encryption type",
        }));
    }
    (n, realm)
}
