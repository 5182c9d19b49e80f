//! Checking a token's signature against the keys the user trusts ([`verify`]) and the
//! [`Verdict`] that results.
//!
//! It checks the signature only: expiry, audience and issuer are findings of the claims view, not
//! reasons to refuse. It never fetches keys and never trusts keys embedded in the token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::parse::{Form, Token};
use crate::view::Finding;
use crate::{Trust, TrustedKey};

/// The outcome of checking a token's signature against the trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The signature verifies with this trusted key.
    Verified {
        /// The key's `kid` (or `x5t`).
        kid: String,
        /// Where the key came from ([`TrustedKey::source`]).
        source: String,
    },
    /// A trusted key was selected and the signature does not verify with it.
    Failed {
        /// The key's `kid` (or `x5t`).
        kid: String,
        /// Where the key came from.
        source: String,
        /// Why: signature mismatch, algorithm mismatch, unusable key …
        reason: String,
    },
    /// No trusted key matches the token.
    NoKey {
        /// Which key was looked for ("no trusted key with kid=…").
        why: String,
    },
    /// `alg: none`: there is nothing to verify.
    Unsigned,
    /// A JWE: its integrity is checked by decryption, which needs the recipient's key.
    Encrypted,
    /// The signature was replaced by `idscope redact`: a shareable copy, not checkable.
    Redacted,
}

impl Verdict {
    /// The finding that reports this verdict, in the fixed wording users grep for; `None` for
    /// [`Verdict::Unsigned`] (the `alg: none` finding already says it).
    pub fn finding(&self) -> Option<Finding> {
        match self {
            Verdict::Verified { kid, source } => Some(Finding::info(format!(
                "signature verified with kid={kid} from {source}"
            ))),
            Verdict::Failed {
                kid,
                source,
                reason,
            } => Some(Finding::error(format!(
                "signature does NOT verify with kid={kid} from {source}: {reason}"
            ))),
            Verdict::NoKey { why } => Some(Finding::info(format!("not verified: {why}"))),
            Verdict::Unsigned => None,
            Verdict::Encrypted => Some(Finding::info(
                "not verified: encrypted (JWE); only the header can be shown without the \
                 recipient's key",
            )),
            Verdict::Redacted => Some(Finding::info(
                "not verified: the signature was removed by idscope redact (a shareable copy)",
            )),
        }
    }

    /// A short word for summaries: `verified`, `BAD SIGNATURE`, `unverified`, `unsigned`.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Verified { .. } => "verified",
            Verdict::Failed { .. } => "BAD SIGNATURE",
            Verdict::NoKey { .. } => "unverified",
            Verdict::Unsigned => "unsigned",
            Verdict::Encrypted => "encrypted",
            Verdict::Redacted => "signature redacted",
        }
    }
}

/// Checks the signature of a JWS against `trust`. The key is selected by `kid` (or `x5t`); the
/// algorithm comes from the key (its JWK `alg`, else its type: RSA → RS256, EC P-256 → ES256,
/// P-384 → ES384, OKP → EdDSA, oct → HS256), never from the token, so a token whose `alg` differs
/// (HS256 presented against an RSA key: the algorithm-confusion attack) fails and says so.
/// Claims are not validated here.
pub fn verify(token: &Token, trust: &Trust) -> Verdict {
    if token.form == Form::Jwe {
        return Verdict::Encrypted;
    }
    if token.signature_redacted {
        return Verdict::Redacted;
    }
    if token.is_unsigned() {
        return Verdict::Unsigned;
    }
    let kid = token.header_str("kid");
    let x5t = token.header_str("x5t");
    let named: Vec<&TrustedKey> = trust
        .keys
        .iter()
        .filter(|k| {
            let jkid = jwk_str(k, "kid");
            kid.is_some_and(|kid| jkid == Some(kid))
                || x5t.is_some_and(|x| jwk_str(k, "x5t") == Some(x) || jkid == Some(x))
        })
        .collect();
    if named.is_empty() {
        return match (kid, x5t) {
            (Some(kid), _) => Verdict::NoKey {
                why: format!("no trusted key with kid={kid}"),
            },
            (None, Some(x5t)) => Verdict::NoKey {
                why: format!("no trusted key with x5t={x5t}"),
            },
            // The token names no key: trying every trusted key is safe (they are all trusted),
            // and only a success is reported as such.
            (None, None) => trust
                .keys
                .iter()
                .find(|k| check_key(token, k).is_ok())
                .map(|k| Verdict::Verified {
                    kid: key_id(k),
                    source: k.source.clone(),
                })
                .unwrap_or_else(|| Verdict::NoKey {
                    why: if trust.keys.is_empty() {
                        "the token names no key (no kid or x5t) and no trusted keys are loaded"
                            .to_string()
                    } else {
                        format!(
                            "the token names no key (no kid or x5t) and none of the {} trusted \
                             keys verifies it",
                            trust.keys.len()
                        )
                    },
                }),
        };
    }
    let mut first_failure = None;
    for k in &named {
        match check_key(token, k) {
            Ok(()) => {
                return Verdict::Verified {
                    kid: key_id(k),
                    source: k.source.clone(),
                };
            }
            Err(reason) => {
                first_failure.get_or_insert((k, reason));
            }
        }
    }
    match first_failure {
        Some((k, reason)) => Verdict::Failed {
            kid: key_id(k),
            source: k.source.clone(),
            reason,
        },
        None => Verdict::NoKey {
            why: "no trusted key".to_string(),
        },
    }
}

fn jwk_str<'a>(k: &'a TrustedKey, name: &str) -> Option<&'a str> {
    k.jwk.get(name).and_then(Value::as_str)
}

fn key_id(k: &TrustedKey) -> String {
    jwk_str(k, "kid")
        .or_else(|| jwk_str(k, "x5t"))
        .unwrap_or("(no kid)")
        .to_string()
}

/// The algorithm a trusted key verifies with: its JWK `alg`, else derived from its type.
fn key_algorithm(jwk: &Value) -> Result<jsonwebtoken::Algorithm, String> {
    use jsonwebtoken::Algorithm as A;
    if let Some(alg) = jwk.get("alg").and_then(Value::as_str) {
        return alg
            .parse::<A>()
            .map_err(|_| format!("the key's alg {alg} is not a signature algorithm"));
    }
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or("");
    let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
    match (kty, crv) {
        ("RSA", _) => Ok(A::RS256),
        ("EC", "P-256") => Ok(A::ES256),
        ("EC", "P-384") => Ok(A::ES384),
        ("OKP", "Ed25519") => Ok(A::EdDSA),
        ("oct", _) => Ok(A::HS256),
        _ => Err(format!("unsupported key type kty={kty} crv={crv}")),
    }
}

fn check_key(token: &Token, key: &TrustedKey) -> Result<(), String> {
    let key_alg = key_algorithm(&key.jwk)?;
    let key_alg_name = format!("{key_alg:?}");
    let token_alg = token.alg().unwrap_or("(none)");
    if token_alg != key_alg_name {
        let kty = key.jwk.get("kty").and_then(Value::as_str).unwrap_or("?");
        let confusion = if token_alg.starts_with("HS") && kty != "oct" {
            ": an HMAC alg with a public key is the algorithm-confusion attack"
        } else {
            ""
        };
        return Err(format!(
            "token says alg={token_alg} but the key is {kty} for {key_alg_name}; the algorithm \
             comes from the key, never from the token{confusion}"
        ));
    }
    if token.signature.is_empty() {
        return Err("the signature segment is empty".to_string());
    }
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk.clone())
        .map_err(|e| format!("the trusted key is not a usable JWK: {e}"))?;
    let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk)
        .map_err(|e| format!("the trusted key is not usable: {e}"))?;
    if dk.family() != key_alg.family() {
        return Err(format!(
            "a {:?} key cannot verify {key_alg_name}",
            dk.family()
        ));
    }
    // `crypto::verify` checks the signature only: no claim validation, no clock.
    let sig = URL_SAFE_NO_PAD.encode(&token.signature);
    match jsonwebtoken::crypto::verify(&sig, token.signing_input.as_bytes(), &dk, key_alg) {
        Ok(true) => Ok(()),
        Ok(false) => {
            if token.header.get("nonce").is_some() {
                Err(format!(
                    "{key_alg_name} signature mismatch, expected for this token: its header \
                     carries a `nonce` like Microsoft Graph access tokens, which are signed over \
                     a different header and can only be validated by Graph itself"
                ))
            } else {
                Err(format!(
                    "{key_alg_name} signature mismatch: the token was changed after signing or \
                     signed by another key"
                ))
            }
        }
        Err(e) => Err(format!("cannot verify: {e}")),
    }
}
