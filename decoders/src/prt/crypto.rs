//! The PRT's keys at work (MS-OAPXBC §3.1.5.1.3 and §3.1.5.2), what roadtx does by hand: the
//! session key unwrapped from a PRT response's `session_key_jwe` with the device transport key
//! ([`unwrap_session_key`]: RSA-OAEP, the session key is the content key), the keys derived from
//! it ([`derive()`]: SP 800-108 counter-mode HMAC-SHA256 with the label
//! `AzureAD-SecureConversation`; KDFv1 takes the header's `ctx` as context, KDFv2
//! SHA-256(ctx || payload bytes)), the HS256 signatures of PRT-signed requests and PRT cookies
//! checked with them ([`check_signature`]), and the session-key-encrypted token responses opened
//! ([`open_response`]: KDFv1 of the response's `ctx`; AES-256-GCM with a 12-byte IV, AES-256-CBC
//! with a 16-byte IV, as clients tell them apart).
//!
//! Session keys come from the user (`--key` with a symmetric key: every symmetric key given is
//! tried as one) or from a PRT response earlier in the capture ([`learn_session_key`], which
//! the analysis calls so that later flows carry it). For PRT protocol v4, which has no session
//! key, the analysis keeps the `apv` of each request ([`learn_party_v_info`]) for the ECDH-ES
//! answer to it. The one-block KDF is written here because
//! aws-lc-rs has no SP 800-108 KDF; HMAC, SHA-256 and the ciphers are aws-lc-rs's.
//!
//! It is *not* responsible for the views (the step modules) or for reading keys (`keys`).

use aws_lc_rs::hmac;
use sha2::{Digest as _, Sha256};

use crate::jwt::{self, Enc, Jwe, Token};
use crate::keys::{DecryptionKey, KeyMaterial, Keys, PartyInfo};
use crate::{Limits, util};

/// The SP 800-108 label of every PRT derivation.
pub const LABEL: &[u8] = b"AzureAD-SecureConversation";

/// SP 800-108 counter-mode KDF with HMAC-SHA256, one 256-bit block:
/// `HMAC(key, 00000001 || label || 00 || context || 00000100)`.
pub fn kdf(session_key: &[u8], context: &[u8]) -> [u8; 32] {
    let mut msg = Vec::with_capacity(4 + LABEL.len() + 1 + context.len() + 4);
    msg.extend_from_slice(&[0, 0, 0, 1]);
    msg.extend_from_slice(LABEL);
    msg.push(0);
    msg.extend_from_slice(context);
    msg.extend_from_slice(&[0, 0, 1, 0]);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, session_key), &msg);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref().get(..32).unwrap_or(&[0; 32]));
    out
}

/// The derived key of a JWT: KDFv1 takes the `ctx` bytes as context, KDFv2 (`kdf_ver` 2)
/// SHA-256(ctx || the exact decoded payload bytes).
pub fn derive(session_key: &[u8], ctx: &[u8], payload: &[u8], kdf_ver: u8) -> [u8; 32] {
    if kdf_ver >= 2 {
        let mut h = Sha256::new();
        h.update(ctx);
        h.update(payload);
        kdf(session_key, &h.finalize())
    } else {
        kdf(session_key, ctx)
    }
}

/// The session keys to try: every symmetric key the user gave or the capture taught.
pub fn session_keys(keys: &Keys) -> Vec<&DecryptionKey> {
    keys.keys
        .iter()
        .filter(|k| matches!(k.material, KeyMaterial::Symmetric(_)))
        .collect()
}

fn bytes_of(k: &DecryptionKey) -> &[u8] {
    match &k.material {
        KeyMaterial::Symmetric(b) => b,
        _ => &[],
    }
}

/// What the session keys made of an HS256 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// No session key to try.
    NoKey,
    /// Verified with the key derived from this session key.
    Verified {
        /// Where the session key came from.
        source: String,
    },
    /// No session key's derived key verifies it (another PRT's session key, or altered).
    NotVerified {
        /// Why, per key.
        tried: Vec<String>,
    },
    /// The signature was replaced by `idscope redact` (a shareable copy): nothing to check.
    Redacted,
}

/// Checks the HS256 signature of a PRT-signed JWT (a request or a PRT cookie) with the key
/// derived from each session key (`ctx` and `kdf_ver` from its header).
pub fn check_signature(token: &Token, keys: &Keys) -> SignatureCheck {
    if token.signature_redacted {
        return SignatureCheck::Redacted;
    }
    let candidates = session_keys(keys);
    if candidates.is_empty() {
        return SignatureCheck::NoKey;
    }
    let not = |why: String| SignatureCheck::NotVerified { tried: vec![why] };
    if token.alg() != Some("HS256") {
        return not(format!(
            "alg {} is not the HS256 of session-key signatures",
            token.alg().unwrap_or("(none)")
        ));
    }
    let Some(ctx) = token
        .header_str("ctx")
        .and_then(|c| util::b64_decode_any(c, 1024))
    else {
        return not("no usable ctx in the header: no key can be derived".to_string());
    };
    let kdf_ver = token
        .header
        .get("kdf_ver")
        .and_then(util::json_int)
        .and_then(|v| u8::try_from(v).ok())
        .unwrap_or(1);
    let payload = token
        .signing_input
        .split_once('.')
        .and_then(|(_, p)| util::b64_decode_any(p, util::MAX_TOKEN_LEN))
        .unwrap_or_default();
    let mut tried = Vec::new();
    for k in candidates {
        let key = derive(bytes_of(k), &ctx, &payload, kdf_ver);
        let hk = hmac::Key::new(hmac::HMAC_SHA256, &key);
        if hmac::verify(&hk, token.signing_input.as_bytes(), &token.signature).is_ok() {
            return SignatureCheck::Verified {
                source: k.source.clone(),
            };
        }
        tried.push(format!(
            "the KDFv{kdf_ver} key derived from {} does not verify it",
            k.source
        ));
    }
    SignatureCheck::NotVerified { tried }
}

/// A session-key-encrypted token response, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedResponse {
    /// The plaintext (the token JSON).
    pub plaintext: Vec<u8>,
    /// Where the session key came from.
    pub source: String,
    /// `AES-256-GCM (authenticated)` or `AES-256-CBC (tag not checked)`.
    pub mode: &'static str,
}

/// Opens a `dir` JWE token response with the KDFv1 key of each session key and the header's
/// `ctx`: AES-256-GCM (authenticated, the protected header as AAD) for a 12-byte IV, AES-256-CBC
/// for a 16-byte one (whose tag clients do not check, and neither does this).
pub fn open_response(jwe: &Jwe, keys: &Keys) -> Result<OpenedResponse, Vec<String>> {
    let candidates = session_keys(keys);
    let Some(ctx) = jwe
        .param_str(0, "ctx")
        .and_then(|c| util::b64_decode_any(c, 1024))
    else {
        return Err(vec![
            "no usable ctx in the header: no key can be derived".to_string(),
        ]);
    };
    let mut tried = Vec::new();
    for k in candidates {
        let key = kdf(bytes_of(k), &ctx);
        let result = match jwe.iv.len() {
            12 => Enc::A256Gcm
                .open(
                    &key,
                    &jwe.iv,
                    &jwe.ciphertext,
                    &jwe.tag,
                    &jwe.authenticated_data(),
                )
                .map(|p| (p, "AES-256-GCM, authenticated"))
                .map_err(|_| "the AES-256-GCM tag does not verify".to_string()),
            16 => {
                let iv: [u8; 16] = jwe.iv.as_slice().try_into().unwrap_or([0; 16]);
                jwt::cbc_decrypt(&aws_lc_rs::cipher::AES_256, &key, iv, &jwe.ciphertext)
                    .and_then(|p| {
                        if serde_json::from_slice::<serde_json::Value>(&p).is_ok() {
                            Ok(p)
                        } else {
                            Err("it does not decrypt to JSON".to_string())
                        }
                    })
                    .map(|p| (p, "AES-256-CBC, tag not checked"))
            }
            n => return Err(vec![format!("an IV of {n} bytes is neither GCM nor CBC")]),
        };
        match result {
            Ok((plaintext, mode)) => {
                return Ok(OpenedResponse {
                    plaintext,
                    source: k.source.clone(),
                    mode,
                });
            }
            Err(why) => tried.push(format!(
                "with the KDFv1 key derived from {}: {why}",
                k.source
            )),
        }
    }
    Err(tried)
}

/// The keys a transport key can be: RSA (the TPM-held key of protocols 1 to 3) and EC.
fn transport_keys(keys: &Keys) -> impl Iterator<Item = &DecryptionKey> {
    keys.keys
        .iter()
        .filter(|k| matches!(k.material, KeyMaterial::Rsa(_) | KeyMaterial::Ec(_)))
}

/// Unwraps the session key of a `session_key_jwe` with each RSA or EC key (the device transport
/// key): RSA-OAEP as Entra ID sends it (or, for an EC transport key, ECDH-ES), the session key
/// being the content key. Returns the key, its source and whether the JWE's content also
/// authenticates with it; else why each key failed.
pub fn unwrap_session_key(jwe: &Jwe, keys: &Keys) -> Result<(Vec<u8>, String, bool), Vec<String>> {
    let alg = jwe.param_str(0, "alg").unwrap_or("RSA-OAEP");
    let enc = jwe
        .param_str(0, "enc")
        .and_then(Enc::from_name)
        .unwrap_or(Enc::A256Gcm);
    let Some(r) = jwe.recipients.first() else {
        return Err(vec!["no wrapped key".to_string()]);
    };
    let lookup = |name: &str| jwe.param(0, name).cloned();
    let mut tried = Vec::new();
    for k in transport_keys(keys) {
        match jwt::unwrap_cek(alg, enc, &lookup, &r.encrypted_key, &k.material) {
            Ok(cek) => {
                let content = jwe.open_content(enc, &cek.key).is_ok();
                return Ok((cek.key, k.source.clone(), content));
            }
            Err(e) => tried.push(format!("{}: {}", k.source, e)),
        }
    }
    if tried.is_empty() {
        tried.push("no RSA or EC private key (the device transport key) was given".to_string());
    }
    Err(tried)
}

/// The session key a PRT response (`body`, JSON with `session_key_jwe`) carries, unwrapped with
/// one of `keys`, as a key whose source names `flow` and the transport key: what the analysis
/// adds to the trust of the flows after it. `None` when there is none or no key opens it.
pub fn learn_session_key(
    body: &[u8],
    keys: &Keys,
    flow: &str,
    limits: &Limits,
) -> Option<DecryptionKey> {
    if transport_keys(keys).next().is_none() || !util::contains(body, b"session_key_jwe") {
        return None;
    }
    let v = util::parse_json(body, "body", limits).ok()?;
    let text = v.get("session_key_jwe")?.as_str()?;
    let jwe = Jwe::from_compact(text, limits).ok()?;
    let (key, source, _) = unwrap_session_key(&jwe, keys).ok()?;
    Some(DecryptionKey {
        material: KeyMaterial::Symmetric(key),
        source: format!("the session key of {flow} (unwrapped with {source})"),
        kid: None,
    })
}

/// The PartyVInfo (`jwe_crypto.apv`) of a PRT protocol v4 request (`body`, the token
/// endpoint's form with `request=<JWT>`), kept in `keys` with a source naming `flow`: the
/// ECDH-ES answer to it need not repeat it. Returns whether one was added.
pub fn learn_party_v_info(body: &[u8], keys: &mut Keys, flow: &str, limits: &Limits) -> bool {
    if !util::contains(body, b"request=") {
        return false;
    }
    let form = util::parse_form(body);
    let Some((_, request)) = form.iter().find(|(k, _)| k == "request") else {
        return false;
    };
    let Ok(token) = jwt::parse_limited(request, limits) else {
        return false;
    };
    let Some(bytes) = token
        .claim("jwe_crypto")
        .and_then(|j| j.get("apv"))
        .and_then(serde_json::Value::as_str)
        .and_then(|a| util::b64_decode_any(a, 4096))
    else {
        return false;
    };
    keys.add_party_v_info(PartyInfo {
        bytes,
        source: format!("the request of {flow}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kdf_matches_roadlib() {
        // The corpus' roadlib-generated values (session key 00..1f, 24 zero bytes of ctx).
        let sk: Vec<u8> = (0u8..32).collect();
        assert_eq!(
            util::hex_lower(&kdf(&sk, &[0; 24])),
            "4590464d708ea638476b16a95ff8972fe041838dd64760129f06d3269c2cadd3"
        );
    }
}
