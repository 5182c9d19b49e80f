//! Requests signed with a key derived from the PRT session key (HMAC, `ctx`, KDFv1/v2) and the
//! `alg: dir` JWE token responses encrypted with such a key, verified and opened with the
//! session keys the user gave or the capture taught (`crypto`).

use serde_json::Value;

use super::{
    client_text, crypto, ctx_node, form_context_nodes, inner_grant_meaning, kdf_node,
    nonce_claim_node, secret_len, session_signature, step_node,
};
use crate::jwt::{self, Token};
use crate::view::{Finding, Node};
use crate::{Context, DecodeError, Decoded, Message};

pub(super) fn session_signed_request(
    token: &Token,
    form: &[(String, String)],
    path: &str,
    cx: &Context<'_>,
) -> Decoded {
    let mut findings = Vec::new();
    let at = "PRT-signed request";
    let alg = token.alg().unwrap_or("(no alg)");
    let mut root = Node::section(at);
    root.value = Some(format!("{alg}, session-key derived"));
    root.note = Some(
        "a jwt-bearer token request whose `request` JWT is signed (HMAC) with a key derived from \
         the PRT session key: it proves possession of the session key that came with the PRT \
         (MS-OAPXBC §3.1.5.1.3)"
            .to_string(),
    );
    root.push(step_node(
        "3 of 3: nonce → PRT request → use",
        "uses the PRT to get tokens for an application (or a renewed PRT)",
    ));
    root.children.extend(form_context_nodes(form));
    let mut keys = Node::section("signing key");
    let ctx_len = match token.header_str("ctx") {
        Some(c) => {
            let (n, len) = ctx_node(c, &format!("{at}/signing key/ctx"), &mut findings);
            keys.push(n);
            len
        }
        None => {
            findings.push(
                Finding::error("no ctx in the header: the server cannot derive the signing key")
                    .at(format!("{at}/signing key")),
            );
            None
        }
    };
    let (kn, kdf) = kdf_node(token.header.get("kdf_ver"));
    keys.push(kn);
    let check = crypto::check_signature(token, &cx.trust.decryption);
    let (vnode, vfinding, verdict) =
        session_signature(&check, kdf, &format!("{at}/signing key/verification"));
    keys.push(vnode);
    findings.extend(vfinding);
    if !alg.starts_with("HS") {
        findings.push(
            Finding::warning(format!(
                "a ctx header with alg {alg}: session-key-signed requests use HS256"
            ))
            .at(format!("{at}/signing key")),
        );
    }
    root.push(keys);
    let inner = token.claim_str("grant_type").unwrap_or_default();
    let mut grant = Node::section("grant");
    grant.value = Some(inner.clone());
    grant.note = Some(inner_grant_meaning(&inner).to_string());
    if let Some(rt) = token.claim_str("refresh_token") {
        grant.push(secret_len(
            "refresh_token",
            &rt,
            "the PRT itself: opaque, encrypted to Entra ID",
        ));
    }
    root.push(grant);
    root.push(nonce_claim_node(
        token,
        &format!("{at}/request_nonce"),
        &mut findings,
    ));
    let scope = token.claim_str("scope").unwrap_or_default();
    let renew = scope.split_whitespace().any(|s| s == "aza");
    if !scope.is_empty() {
        let mut n = jwt::scope_node("scope", &scope);
        n.note = Some(if renew {
            "aza: asks for a renewed PRT (and a new session key)".to_string()
        } else {
            "a normal token request: the answer holds tokens for the resource, encrypted"
                .to_string()
        });
        root.push(n);
    }
    for k in ["client_id", "resource", "redirect_uri", "iss", "aud"] {
        if let Some(v) = token.claim_str(k) {
            let note = match k {
                "client_id" => jwt::well_known_app(&v)
                    .map(|n| format!("the app the tokens are for: {n}"))
                    .unwrap_or_else(|| "the app the tokens are for".to_string()),
                "resource" => "the resource (API) the access token is for".to_string(),
                "redirect_uri" if v.starts_with("ms-appx-web://Microsoft.AAD.BrokerPlugin/") => {
                    "the WAM broker's redirect URI: this request comes from the Windows token \
                     broker (or a tool imitating it)"
                        .to_string()
                }
                "iss" if v == "aad:brokerplugin" => {
                    "aad:brokerplugin: issued by the Windows AAD broker plugin".to_string()
                }
                "aud" => "the authority the request is for".to_string(),
                _ => String::new(),
            };
            let mut n = Node::field(k, &v);
            if !note.is_empty() {
                n.note = Some(note);
            }
            root.push(n);
        }
    }
    for k in ["iat", "exp"] {
        if token.claim(k).is_some_and(Value::is_string) {
            findings.push(
                Finding::info(format!(
                    "{k} is a string, not a NumericDate: broker-style clients send it so and \
                     Entra ID accepts it"
                ))
                .at(format!("{at}/{k}")),
            );
        }
    }
    if let Some(n) = super::v4::jwe_crypto_node(token, at, cx, &mut findings) {
        root.push(n);
    }
    super::v4::mixing_findings(form, path, token, at, &mut findings);
    let mut summary = format!(
        "PRT-signed token request ({alg}, KDFv{kdf}, ctx {}): {}",
        ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        if inner == "refresh_token" {
            "refresh_token=PRT".to_string()
        } else {
            format!("grant {inner}")
        }
    );
    if renew {
        summary.push_str(" → renewed PRT");
    } else if let Some(r) = token.claim_str("resource") {
        summary.push_str(&format!(" → {r}"));
    }
    if let Some(c) = token.claim_str("client_id") {
        summary.push_str(&format!(" for client {}", client_text(&c)));
    }
    summary.push_str(&format!("; {verdict}"));
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    d
}

// ---------------------------------------------------------------------------------------------
// Encrypted (JWE) token response

pub(super) fn encrypted_response(
    msg: &Message<'_>,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let text = std::str::from_utf8(msg.body.trim_ascii())
        .map_err(|_| DecodeError::Utf8 { field: "body" })?;
    let t = jwt::parse_limited(text, &cx.limits)?;
    let seg = t
        .jwe
        .ok_or_else(|| DecodeError::not("a JWE", "not 5 segments"))?;
    let mut findings = Vec::new();
    let at = "PRT-encrypted token response";
    let alg = t.alg().unwrap_or("?").to_string();
    let enc = t.header_str("enc").unwrap_or("?").to_string();
    let mut root = Node::section(at);
    root.value = Some(format!("JWE {alg}/{enc}"));
    root.note = Some(
        "the answer to a session-key-signed request: a bare compact JWE instead of JSON; the \
         plaintext is the usual token JSON (access_token, refresh_token, id_token …)"
            .to_string(),
    );
    root.push(step_node(
        "3 of 3: nonce → PRT request → use",
        "tokens for the application, readable only by the holder of the session key",
    ));
    if msg.content_type().is_some_and(|c| c.contains("json")) {
        root.push(Node::text(
            "content-type",
            "says JSON but the body is a JWE: clients test whether the body starts with {\" \
             (ROADtools) rather than trusting the header",
        ));
    }
    let mut h = Node::section("header");
    h.push(Node::field("alg", &alg).with_note(if alg == "dir" {
        "dir: no wrapped key; the content key is derived from the session key and ctx"
    } else {
        "not dir: this is not the usual session-key encrypted response"
    }));
    h.push(Node::field("enc", &enc).with_note("the declared content encryption"));
    let mut ctx_len = None;
    if let Some(c) = t.header_str("ctx") {
        let (n, len) = ctx_node(c, &format!("{at}/header/ctx"), &mut findings);
        ctx_len = len;
        h.push(n);
    } else if alg == "dir" {
        findings.push(
            Finding::warning("alg dir without ctx: the key cannot be derived from the session key")
                .at(format!("{at}/header")),
        );
    }
    let (kn, kdf) = kdf_node(t.header.get("kdf_ver"));
    h.push(kn);
    if let Some(z) = t.header_str("zip") {
        h.push(
            Node::field("zip", z)
                .with_note("the plaintext is DEFLATE-compressed: inflate after decrypting"),
        );
    }
    root.push(h);
    if t.signature_redacted {
        root.push(Node::field("segments", "(redacted)").with_note(format!(
            "the encrypted key, IV, ciphertext and tag were {}",
            crate::secrets::REDACTED_NOTE
        )));
        let summary = format!(
            "PRT-encrypted token response: JWE {alg}/{enc}, ctx {}; encrypted parts redacted",
            ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        );
        let mut d = Decoded::new("prt", summary, root);
        d.findings = findings;
        return Ok(d);
    }
    let mode = match seg.iv {
        12 => "AES-256-GCM",
        16 => "AES-256-CBC",
        _ => "unknown",
    };
    let gcm_declared = enc.ends_with("GCM");
    let mut s = Node::section("segments");
    s.push(
        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key)).with_note(
            if seg.encrypted_key == 0 {
                "empty, as it must be for alg dir"
            } else {
                "not empty: unusual for alg dir"
            },
        ),
    );
    s.push(Node::field("iv", format!("{} bytes", seg.iv)).with_note(match seg.iv {
        12 => "12 bytes: an AES-GCM nonce (real A256GCM; AAD = the ASCII protected header)",
        16 => {
            "16 bytes: an AES-CBC IV (PKCS#7 padding); clients branch on the IV length, not on enc \
             (ROADtools decrypt_auth_response)"
        }
        _ => "neither 12 (GCM) nor 16 (CBC) bytes",
    }));
    s.push(
        Node::field("ciphertext", format!("{} bytes", seg.ciphertext))
            .with_note("the encrypted token JSON"),
    );
    s.push(
        Node::field("tag", format!("{} bytes", seg.tag)).with_note(if seg.iv == 12 {
            "GCM authentication tag"
        } else {
            "authentication tag (CBC-mode responses: implementations do not check it)"
        }),
    );
    s.push(
        Node::field("cipher", mode).with_note(match (seg.iv, gcm_declared) {
            (12, true) => "consistent with enc",
            (16, true) => "AES-CBC despite enc A256GCM: a known Entra ID behaviour, not tampering",
            (16, false) => {
                "AES-CBC as enc says (A256CBC-HS512 style: HMAC tag over AAD, IV, ciphertext)"
            }
            (12, false) => "a GCM-sized IV although enc names CBC",
            _ => "cannot tell GCM from CBC",
        }),
    );
    root.push(s);
    if seg.iv == 16 && gcm_declared {
        findings.push(
            Finding::info(format!(
                "enc says {enc} but the IV is 16 bytes: the response is AES-256-CBC (known Entra \
                 ID behaviour); decrypt by IV length"
            ))
            .at(format!("{at}/segments/iv")),
        );
    } else if !matches!(seg.iv, 12 | 16) {
        findings.push(
            Finding::warning(format!(
                "IV of {} bytes is neither GCM (12) nor CBC (16)",
                seg.iv
            ))
            .at(format!("{at}/segments/iv")),
        );
    }
    let opened = if crypto::session_keys(&cx.trust.decryption).is_empty() {
        None
    } else {
        jwt::Jwe::from_compact(text, &cx.limits)
            .ok()
            .map(|jwe| crypto::open_response(&jwe, &cx.trust.decryption))
    };
    let tail = match opened {
        None => {
            root.push(
                Node::field("decryption", "needs the session key").with_note(format!(
                    "key = KDFv{kdf}(session key, ctx); the session key is inside the PRT \
                     response's session_key_jwe, wrapped to the TPM transport key: give the \
                     transport key (or the session key in hex) with --key to decrypt this"
                )),
            );
            "needs the session key".to_string()
        }
        Some(Ok(o)) => {
            let mut n = Node::section("decryption");
            n.value = Some(format!("decrypted with the key derived from {}", o.source));
            n.note = Some(format!(
                "key = KDFv1(session key, ctx) of this response; {}",
                o.mode
            ));
            n.push(plaintext_node(&o.plaintext, cx));
            root.push(n);
            findings.push(
                Finding::info(format!(
                    "decrypted with the key derived from {} ({})",
                    o.source, o.mode
                ))
                .at(format!("{at}/decryption")),
            );
            format!("decrypted with the key derived from {}", o.source)
        }
        Some(Err(tried)) => {
            let why = tried.join("; ");
            let mut n = Node::section("decryption");
            n.value = Some("not decrypted".to_string());
            for t in &tried {
                n.push(Node::text("key tried", t));
            }
            root.push(n);
            findings.push(
                Finding::info(format!("not decrypted: {why}")).at(format!("{at}/decryption")),
            );
            "not decrypted with the session keys given".to_string()
        }
    };
    let summary = format!(
        "PRT-encrypted token response: JWE {alg}/{enc}, ctx {}, IV {} B → {mode}{}; {} B ciphertext; \
         {tail}",
        ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        seg.iv,
        if seg.iv == 16 && gcm_declared {
            format!(" despite enc {enc}")
        } else {
            String::new()
        },
        seg.ciphertext
    );
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

/// The decrypted token JSON: every member, credentials (by the secrets policy) as secrets; text
/// that is not JSON as one secret.
pub(super) fn plaintext_node(plain: &[u8], cx: &Context<'_>) -> Node {
    match crate::util::parse_json(plain, "decrypted response", &cx.limits) {
        Ok(Value::Object(map)) => {
            let mut n = Node::section("plaintext");
            n.note = Some(
                "the token response: access, refresh and id tokens are credentials (secrets)"
                    .to_string(),
            );
            for (k, v) in map.iter().take(200) {
                let text = crate::util::json_scalar(v);
                n.push(if crate::secrets::is_secret_name(k) {
                    Node::secret(k.clone(), text)
                } else {
                    Node::field(k.clone(), text)
                });
            }
            n
        }
        _ => Node::secret("plaintext", String::from_utf8_lossy(plain).into_owned())
            .with_note(format!("{} bytes, not a JSON object", plain.len())),
    }
}
