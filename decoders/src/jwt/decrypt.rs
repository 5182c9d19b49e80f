//! Opening a JWE with the user's decryption keys ([`open`], [`decrypt`]) and showing what it
//! holds ([`annotate`]): every recipient is tried with every key of the kind its `alg` needs,
//! the first that authenticates wins, and the plaintext is shown (claims, a nested JWT decoded
//! and verified in turn, text or bytes) as a secret.
//!
//! The verdict is only as strong as what was done. "Decrypted" means a key opened the content
//! and its tag verified. "Does NOT authenticate" (the JWE is invalid) is said only when a key
//! proven to be the recipient's (an authenticated unwrap: RSA padding, AES-KW, AES-GCMKW,
//! PBES2; or a `dir`/ECDH-ES key with the recipient's `kid`) gives a content key whose tag
//! fails. Anything else is "not checked: no key opens it", with what each key tried said.
//!
//! It is *not* responsible for the algorithms (`jwe_crypto`) or for parsing (`jwe`, `json`).

use std::io::Read as _;

use serde_json::Value;

use super::claims::{Role, explain_claims};
use super::jwe::Jwe;
use super::jwe_crypto::{ContentError, Enc, Unwrap, unwrap_cek};
use super::parse::{Form, Payload, Token};
use crate::keys::{DecryptionKey, Keys};
use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::{Context, Decoded, Limits};

/// A JWE that a key opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decryption {
    /// The recipient whose key opened it.
    pub recipient: usize,
    /// Its key-management algorithm.
    pub alg: String,
    /// The content encryption.
    pub enc: &'static str,
    /// Where the key came from (`--key recipient.pem`).
    pub source: String,
    /// The plaintext (inflated when `zip: DEF`).
    pub plaintext: Vec<u8>,
    /// True when the content was DEFLATE-compressed.
    pub compressed: bool,
    /// What the keys tried before said.
    pub tried: Vec<String>,
}

/// What the user's keys made of a JWE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// No decryption key was given.
    NoKeys,
    /// A key opened it and the content authenticates.
    Decrypted(Decryption),
    /// A key proven to be the recipient's gives a content key whose tag does not verify: the
    /// JWE was altered.
    Tampered {
        /// The recipient.
        recipient: usize,
        /// Where the key came from.
        source: String,
        /// What failed.
        why: String,
    },
    /// No key opened it; what each key tried said.
    NotOpened {
        /// `--key a.pem: it is RSA 2048 bits, A128KW needs a symmetric key`.
        tried: Vec<String>,
    },
}

/// Why one key did not open one recipient's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The JWE has no recipient with this index.
    #[error("no recipient [{0}]")]
    NoRecipient(usize),
    /// The recipient's headers name no `alg` or no `enc`.
    #[error("recipient [{recipient}] has no `{param}`")]
    Missing {
        /// The recipient.
        recipient: usize,
        /// `alg` or `enc`.
        param: &'static str,
    },
    /// The key is not of the kind, curve or size the algorithm needs: not tried.
    #[error("{0}")]
    DoesNotFit(String),
    /// Tried, and it does not open it: not this recipient's key, or altered.
    #[error("{0}")]
    Failed(String),
    /// A key proven to be the recipient's, and the content's tag does not verify.
    #[error("{0}")]
    TagMismatch(String),
    /// Something the JWE carries is wrong or too large (an IV of the wrong size, `p2c`).
    #[error("{0}")]
    Malformed(String),
    /// An algorithm idscope does not implement.
    #[error("{0}")]
    Unsupported(String),
}

/// Decrypts `jwe` for `recipient` with `key`: the plaintext (inflated when `zip: DEF`, up to
/// `limits.max_inflate`) and whether it was compressed.
pub fn decrypt(
    jwe: &Jwe,
    recipient: usize,
    key: &DecryptionKey,
    limits: &Limits,
) -> Result<(Vec<u8>, bool), DecryptError> {
    let r = jwe
        .recipients
        .get(recipient)
        .ok_or(DecryptError::NoRecipient(recipient))?;
    let param = |name: &'static str| {
        jwe.param_str(recipient, name).ok_or(DecryptError::Missing {
            recipient,
            param: name,
        })
    };
    let alg = param("alg")?;
    let enc_name = param("enc")?;
    let enc = Enc::from_name(enc_name).ok_or_else(|| {
        DecryptError::Unsupported(format!("content encryption {enc_name} is not implemented"))
    })?;
    let zip = jwe.protected.get("zip").and_then(Value::as_str);
    if let Some(z) = zip.filter(|z| *z != "DEF") {
        return Err(DecryptError::Unsupported(format!(
            "zip `{z}` (only DEF is registered)"
        )));
    }
    let lookup = |name: &str| jwe.param(recipient, name).cloned();
    let cek =
        unwrap_cek(alg, enc, &lookup, &r.encrypted_key, &key.material).map_err(|e| match e {
            Unwrap::DoesNotFit(why) => DecryptError::DoesNotFit(why),
            Unwrap::Failed(why) => DecryptError::Failed(why),
            Unwrap::Header(why) => DecryptError::Malformed(why),
            Unwrap::Unsupported(why) => DecryptError::Unsupported(why),
        })?;
    let named = match (jwe.param_str(recipient, "kid"), &key.kid) {
        (Some(want), Some(have)) => want == have,
        _ => false,
    };
    let plain = jwe.open_content(enc, &cek.key).map_err(|e| match e {
        ContentError::Shape(why) => DecryptError::Malformed(why),
        ContentError::TagMismatch if cek.proven || named => DecryptError::TagMismatch(format!(
            "the {} tag does not verify with the content key this key {}: the ciphertext, \
                 IV, tag or protected header was changed",
            enc.name(),
            if cek.proven { "unwraps" } else { "is" }
        )),
        ContentError::TagMismatch => DecryptError::Failed(format!(
            "the {} tag does not verify: not this recipient's key (or the JWE was altered)",
            enc.name()
        )),
    })?;
    if zip.is_none() {
        return Ok((plain, false));
    }
    let mut out = Vec::new();
    let cap = u64::try_from(limits.max_inflate)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    flate2::read::DeflateDecoder::new(plain.as_slice())
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| DecryptError::Malformed(format!("zip DEF, but it does not inflate: {e}")))?;
    if out.len() > limits.max_inflate {
        return Err(DecryptError::Malformed(format!(
            "zip DEF inflates to more than {} bytes",
            limits.max_inflate
        )));
    }
    Ok((out, true))
}

/// Tries every recipient of `jwe` with every key in `keys` (keys whose `kid` is not the
/// recipient's are skipped; keys without one are tried).
pub fn open(jwe: &Jwe, keys: &Keys, limits: &Limits) -> Opened {
    if keys.is_empty() {
        return Opened::NoKeys;
    }
    let several = jwe.recipients.len() > 1;
    let mut tried = Vec::new();
    for i in 0..jwe.recipients.len() {
        let who = if several {
            format!("recipient [{i}]: ")
        } else {
            String::new()
        };
        let want_kid = jwe.param_str(i, "kid");
        for key in &keys.keys {
            if let (Some(want), Some(have)) = (want_kid, &key.kid)
                && want != have
            {
                tried.push(format!(
                    "{who}{}: its kid is {have}, the recipient's {want}",
                    key.source
                ));
                continue;
            }
            match decrypt(jwe, i, key, limits) {
                Ok((plaintext, compressed)) => {
                    return Opened::Decrypted(Decryption {
                        recipient: i,
                        alg: jwe.param_str(i, "alg").unwrap_or("?").to_string(),
                        enc: jwe
                            .param_str(i, "enc")
                            .and_then(Enc::from_name)
                            .map_or("?", Enc::name),
                        source: key.source.clone(),
                        plaintext,
                        compressed,
                        tried,
                    });
                }
                Err(DecryptError::TagMismatch(why)) => {
                    return Opened::Tampered {
                        recipient: i,
                        source: key.source.clone(),
                        why,
                    };
                }
                Err(
                    e @ (DecryptError::Unsupported(_)
                    | DecryptError::Missing { .. }
                    | DecryptError::NoRecipient(_)),
                ) => {
                    tried.push(format!("{who}{e}"));
                    break;
                }
                Err(e) => tried.push(format!("{who}{}: {e}", key.source)),
            }
        }
    }
    Opened::NotOpened { tried }
}

/// Adds what the user's keys made of `jwe` to its view `d` (built by `explain` or
/// `explain_json`): a `decryption` section with the plaintext, and the verdict in place of
/// "encrypted". Nothing changes when no key was given.
pub fn annotate(d: &mut Decoded, jwe: &Jwe, cx: &Context<'_>) {
    let opened = open(jwe, &cx.trust.decryption, &cx.limits);
    let (verdict, finding, section, what) = match &opened {
        Opened::NoKeys => return,
        Opened::Decrypted(dec) => {
            let mut sec = Node::section("decryption");
            sec.value = Some(format!("decrypted with {}", dec.source));
            sec.push(Node::field("recipient", format!("[{}]", dec.recipient)));
            sec.push(Node::field("alg", &dec.alg));
            sec.push(
                Node::field("enc", dec.enc)
                    .with_note("the content authenticated (its tag verified) before it was shown"),
            );
            if dec.compressed {
                sec.push(
                    Node::field("zip", "DEF")
                        .with_note("the plaintext was DEFLATE-compressed and is shown inflated"),
                );
            }
            for t in &dec.tried {
                sec.push(Node::text("key tried", t));
            }
            let mut findings = Vec::new();
            let (node, what) = plaintext_node(jwe, dec, cx, &mut findings);
            sec.push(node);
            d.findings.extend(findings);
            let at = format!("recipient [{}], {}/{}", dec.recipient, dec.alg, dec.enc);
            (
                Node::field(
                    "verification",
                    format!("decrypted with {} ({at}): authenticated", dec.source),
                ),
                Finding::info(format!(
                    "JWE decrypted with {} ({at}): the content authenticates",
                    dec.source
                )),
                sec,
                format!("decrypted with {}: {what}", dec.source),
            )
        }
        Opened::Tampered {
            recipient,
            source,
            why,
        } => {
            let mut sec = Node::section("decryption");
            sec.value = Some(format!("NOT authenticated with {source}"));
            sec.push(Node::leaf(
                "recipient",
                format!("[{recipient}]"),
                Kind::Error,
            ));
            (
                Node::leaf(
                    "verification",
                    format!("does NOT authenticate with {source}: {why}"),
                    Kind::Error,
                ),
                Finding::error(format!(
                    "JWE does NOT authenticate with {source} (recipient [{recipient}]): {why}"
                )),
                sec,
                format!("does NOT authenticate with {source}"),
            )
        }
        Opened::NotOpened { tried } => {
            let mut sec = Node::section("decryption");
            sec.value = Some("no key opens it".to_string());
            for t in tried {
                sec.push(Node::text("key tried", t));
            }
            let why = if tried.is_empty() {
                "no key opens it".to_string()
            } else {
                format!("no key opens it: {}", tried.join("; "))
            };
            (
                Node::field("verification", format!("not checked: {why}")),
                Finding::info(format!("not checked: {why}")),
                sec,
                "no key opens it".to_string(),
            )
        }
    };
    let verdict = verdict.with_note(
        "a JWE is authenticated by decryption: only a key the user gave (--key) can open it, and \
         its tag must verify",
    );
    match d
        .root
        .children
        .iter_mut()
        .find(|c| c.label == "verification")
    {
        Some(n) => *n = verdict,
        None => d.root.push(verdict),
    }
    d.root.push(section);
    d.findings.retain(|f| {
        !(f.at.as_deref() == Some("verification") && f.message.starts_with("not verified:"))
    });
    d.findings.push(finding.at("verification"));
    let head = d
        .summary
        .find(" (encrypted")
        .map_or(d.summary.as_str(), |i| {
            d.summary.get(..i).unwrap_or_default()
        });
    d.summary = format!("{head} {what}");
}

/// Longest text plaintext shown; the rest is cut.
const MAX_SHOWN: usize = 4096;

/// The plaintext: a nested JWT decoded (and verified) in turn, claims, text or bytes.
fn plaintext_node(
    jwe: &Jwe,
    dec: &Decryption,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (Node, String) {
    let bytes = &dec.plaintext;
    let cty = jwe.param_str(dec.recipient, "cty").unwrap_or("");
    let nested = cty.eq_ignore_ascii_case("jwt")
        || cty.eq_ignore_ascii_case("application/jwt")
        || util::looks_like_jwt(bytes);
    if nested && let Some(inner) = cx.decode_nested(bytes) {
        let mut node = inner.root;
        node.note = Some(format!(
            "the plaintext is a nested JWT (cty {}): decoded and checked in turn",
            if cty.is_empty() { "absent" } else { cty }
        ));
        node.label = "plaintext (nested JWT)".to_string();
        for f in inner.findings {
            let at = match f.at.as_deref() {
                Some(a) => format!("decryption/plaintext/{a}"),
                None => "decryption/plaintext".to_string(),
            };
            findings.push(f.at(at));
        }
        return (node, format!("nested {}", inner.summary));
    }
    if bytes.trim_ascii_start().starts_with(b"{")
        && let Ok(v) = util::parse_json(bytes, "JWE plaintext", &cx.limits)
        && v.is_object()
    {
        let token = Token {
            form: Form::Jws,
            header: jwe.protected.clone(),
            unprotected: None,
            claims: Some(v),
            payload: Payload::Claims,
            signature: Vec::new(),
            signing_input: String::new(),
            jwe: None,
            len: bytes.len(),
            signature_redacted: false,
        };
        let role = Role::guess(&token);
        let mut claims = explain_claims(&token, cx, role, findings);
        claims.note = Some(
            "the decrypted claims: an encrypted JWT's payload (RFC 7519 §5.2); credentials in it \
             are secrets"
                .to_string(),
        );
        return (claims, format!("{} claims", role.as_str()));
    }
    let note = "decrypted: meant for the recipient only, so a secret (masked unless \
                --show-secrets)";
    match std::str::from_utf8(bytes) {
        Ok(text) => (
            Node::secret("plaintext", util::clip(text, MAX_SHOWN))
                .with_note(format!("{} bytes of text; {note}", bytes.len())),
            format!("{} bytes of text", bytes.len()),
        ),
        Err(_) => {
            let shown = bytes.get(..64).unwrap_or(bytes);
            (
                Node::secret("plaintext", util::hex_lower(shown))
                    .with_note(format!("{} bytes, shown as hex; {note}", bytes.len())),
                format!("{} bytes", bytes.len()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DecryptionKey, KeyMaterial};

    fn keys() -> Keys {
        let mut k = Keys::default();
        for (material, kid) in [
            (KeyMaterial::Symmetric(vec![7; 16]), None),
            (KeyMaterial::Symmetric(vec![7; 32]), Some("k")),
            (KeyMaterial::X25519([9; 32]), None),
        ] {
            k.add(DecryptionKey {
                material,
                source: "unit".to_string(),
                kid: kid.map(str::to_string),
            });
        }
        k
    }

    proptest::proptest! {
        #[test]
        fn any_jwe_opens_or_says_why(
            alg in proptest::sample::select(vec![
                "dir", "A128KW", "A256GCMKW", "ECDH-ES", "ECDH-ES+A128KW", "RSA-OAEP",
                "PBES2-HS256+A128KW", "none",
            ]),
            enc in proptest::sample::select(vec!["A128GCM", "A256GCM", "A128CBC-HS256", "X"]),
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..48),
            iv in proptest::collection::vec(proptest::num::u8::ANY, 0..20),
            ct in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            tag in proptest::collection::vec(proptest::num::u8::ANY, 0..20),
            zip in proptest::bool::ANY,
        ) {
            let mut protected = serde_json::json!({"alg": alg, "enc": enc, "kid": "k",
                "epk": {"kty": "OKP", "crv": "X25519", "x": "AAAA"},
                "iv": "AAAAAAAAAAAAAAAA", "tag": "AAAAAAAAAAAAAAAAAAAAAA",
                "p2s": "AAAA", "p2c": 2});
            if zip {
                protected["zip"] = "DEF".into();
            }
            let jwe = Jwe {
                serialization: super::super::json::Serialization::Compact,
                protected,
                protected_b64: "e30".to_string(),
                unprotected: None,
                recipients: vec![super::super::jwe::Recipient { header: None, encrypted_key: key }],
                iv,
                ciphertext: ct,
                tag,
                aad: None,
                len: 0,
            };
            let opened = open(&jwe, &keys(), &Limits::default());
            proptest::prop_assert!(!matches!(opened, Opened::NoKeys));
        }
    }
}
