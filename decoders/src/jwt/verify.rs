//! Checking a JWS signature against the keys the user trusts ([`verify`]) and the [`Verdict`]
//! that results. A verdict is only as strong as what was done: "verified" names the trusted key
//! that verified the bytes, "does NOT verify" means a trusted key was used and the bytes did not
//! verify, and everything else says why nothing was checked (no key for that `kid` and `alg`, an
//! algorithm idscope does not support, a detached payload) or why the JWS is invalid whatever its
//! bytes (an unknown `crit` entry, RFC 7515 §4.1.11). Weak keys are separate policy findings.
//!
//! It checks the signature only: expiry, audience and issuer are findings of the claims view, not
//! reasons to refuse. It never fetches keys and never trusts keys embedded in the token. The
//! cryptography is in `keys`.

use serde_json::Value;

use super::cert_key;
use super::keys::{self, Alg, Failure, Strength, Unfit};
use super::parse::{Form, Payload, Token};
use crate::secrets::REDACTED_NOTE;
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
    /// A trusted key for the token's `alg` was used and the signature bytes do not verify.
    Failed {
        /// The key's `kid` (or `x5t`).
        kid: String,
        /// Where the key came from.
        source: String,
        /// Why: signature mismatch, a signature of the wrong length …
        reason: String,
    },
    /// No trusted key could check the token: none with its `kid`, or none for its `alg`.
    NoKey {
        /// Which key was looked for ("no trusted key with kid=…").
        why: String,
    },
    /// Nothing was checked for another reason: an unsupported `alg`, a detached payload.
    NotChecked {
        /// Why.
        why: String,
    },
    /// The JWS is invalid whatever its signature bytes: a `crit` entry idscope does not
    /// understand (RFC 7515 §4.1.11), no `alg`, a parameter in both headers.
    Invalid {
        /// What is wrong, with the rule.
        why: String,
    },
    /// An HMAC `alg` naming a trusted key that is not a shared secret (an RSA, EC or OKP key):
    /// the algorithm-confusion attack. Refused: HMAC is never computed with public key material.
    AlgorithmConfusion {
        /// The key's `kid` (or `x5t`).
        kid: String,
        /// Where the key came from.
        source: String,
        /// The token's `alg` (`HS256`).
        alg: String,
        /// The key's `kty` (`RSA`).
        kty: String,
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
            Verdict::NotChecked { why } => Some(Finding::info(format!("not checked: {why}"))),
            Verdict::Invalid { why } => Some(Finding::error(format!("invalid JWS: {why}"))),
            Verdict::AlgorithmConfusion {
                kid,
                source,
                alg,
                kty,
            } => Some(Finding::error(format!(
                "algorithm confusion refused: alg={alg} names kid={kid} from {source}, an {kty} \
                 key; an HMAC keyed with public key material proves nothing, so it is never \
                 computed (HMAC is checked only with a shared secret the user supplies as a JWK \
                 with kty oct)"
            ))),
            Verdict::Unsigned => None,
            Verdict::Encrypted => Some(Finding::info(
                "not verified: encrypted (JWE); only the header can be shown without the \
                 recipient's key",
            )),
            Verdict::Redacted => Some(Finding::info(format!(
                "not verified: the signature was {REDACTED_NOTE}"
            ))),
        }
    }

    /// A short word for summaries: `verified`, `BAD SIGNATURE`, `unverified`, `unsigned` …
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Verified { .. } => "verified",
            Verdict::Failed { .. } => "BAD SIGNATURE",
            Verdict::NoKey { .. } => "unverified",
            Verdict::NotChecked { .. } => "not checked",
            Verdict::Invalid { .. } => "INVALID",
            Verdict::AlgorithmConfusion { .. } => "REFUSED (algorithm confusion)",
            Verdict::Unsigned => "unsigned",
            Verdict::Encrypted => "encrypted",
            Verdict::Redacted => "signature redacted",
        }
    }
}

/// A verdict and the policy findings about the key it used (an RSA key under 2048 bits, an HMAC
/// key shorter than its hash): warnings of their own, never a reason for "does NOT verify".
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked {
    pub verdict: Verdict,
    pub policy: Vec<Finding>,
}

impl From<Verdict> for Checked {
    fn from(verdict: Verdict) -> Self {
        Checked {
            verdict,
            policy: Vec::new(),
        }
    }
}

/// Checks the signature of a JWS against `trust`. The key is selected by `kid` (or `x5t` or
/// `x5t#S256`) among the trusted JWKs, else among the trusted certificates by thumbprint or as
/// the header's `x5c` leaf when the user anchored it ([`Trust::jws_signers`]); it
/// must be of the kind the token's `alg` needs (RSA for RS*/PS*, EC on the matching curve for
/// ES*, OKP Ed25519 for EdDSA, a shared secret `kty: oct` for HS*), and its JWK `alg` and `use`,
/// when present, must allow it. An HMAC `alg` naming a public key is refused
/// ([`Verdict::AlgorithmConfusion`]). Claims are not validated here.
pub fn verify(token: &Token, trust: &Trust) -> Verdict {
    check(token, trust).verdict
}

/// [`verify`], with the policy findings about the key.
pub(crate) fn check(token: &Token, trust: &Trust) -> Checked {
    if token.form == Form::Jwe && token.signature_redacted {
        return Verdict::NotChecked {
            why: format!(
                "the encrypted key, IV, ciphertext and tag were {REDACTED_NOTE}; only the header \
                 is as sent"
            ),
        }
        .into();
    }
    if token.form == Form::Jwe {
        return Verdict::Encrypted.into();
    }
    if token.signature_redacted {
        return Verdict::Redacted.into();
    }
    if token.is_unsigned() {
        return Verdict::Unsigned.into();
    }
    if let Some(why) = structure_problem(token) {
        return Verdict::Invalid { why }.into();
    }
    if token.payload == Payload::Detached {
        return check_detached(token, trust);
    }
    let name = token.alg().unwrap_or("(none)");
    let Some(alg) = Alg::from_name(name) else {
        return Verdict::NotChecked {
            why: format!("unsupported alg {name}"),
        }
        .into();
    };
    let kid = token.header_str("kid");
    let x5t = token.header_str("x5t");
    let x5t_s256 = token.header_str("x5t#S256");
    let mut named: Vec<&TrustedKey> = trust
        .keys
        .iter()
        .filter(|k| {
            let jkid = jwk_str(k, "kid");
            kid.is_some_and(|kid| jkid == Some(kid))
                || x5t.is_some_and(|x| jwk_str(k, "x5t") == Some(x) || jkid == Some(x))
                || x5t_s256.is_some_and(|x| jwk_str(k, "x5t#S256") == Some(x))
        })
        .collect();
    // Trusted certificates the header names by thumbprint or carries in x5c, when no trusted
    // JWK is named.
    let from_certs = if named.is_empty() {
        cert_key::named_keys(token, trust)
    } else {
        Vec::new()
    };
    named.extend(from_certs.iter());
    let wanted = match (kid, x5t, x5t_s256) {
        (Some(kid), _, _) => format!("kid={kid}"),
        (None, Some(x5t), _) => format!("x5t={x5t}"),
        (None, None, Some(s256)) => format!("x5t#S256={s256}"),
        (None, None, None) if !named.is_empty() => "its x5c certificate".to_string(),
        (None, None, None) => return check_unnamed(token, alg, trust),
    };
    if named.is_empty() {
        let why = match cert_key::pinned_without_certificate(token, trust) {
            Some(pin) => format!(
                "the certificate with {wanted} is pinned ({pin}) but neither the message nor \
                 the trusted certificates hold it (give it with --trust-cert)"
            ),
            None => format!("no trusted key with {wanted}"),
        };
        return Verdict::NoKey { why }.into();
    }
    check_named(token, alg, &named, &wanted)
}

/// A detached JWS checked with each payload the user gave (`--payload`): verified with the first
/// that a trusted key verifies (the verdict names where the content came from), else the verdict
/// with the first one; not checked when none was given.
fn check_detached(token: &Token, trust: &Trust) -> Checked {
    let mut first = None;
    for (content, source) in &trust.detached_payloads {
        let payload = if super::parse::unencoded(&token.header) {
            match std::str::from_utf8(content) {
                Ok(text) => text.to_string(),
                Err(_) => continue,
            }
        } else {
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, content)
        };
        let mut with = token.clone();
        with.signing_input = format!("{}{payload}", token.signing_input);
        with.payload = Payload::Bytes(content.clone());
        let mut checked = check(&with, trust);
        if let Verdict::Verified { source: key, .. } = &mut checked.verdict {
            *key = format!("{key}, over the detached content from {source}");
            return checked;
        }
        first.get_or_insert(checked);
    }
    first.unwrap_or_else(|| {
        Verdict::NotChecked {
            why: "detached payload, the content is not in the message (give it with --payload \
                  FILE)"
                .to_string(),
        }
        .into()
    })
}

/// Checks with the trusted keys the token names: the first that verifies wins; else the first
/// that was used and did not verify; else why none could be used.
fn check_named(token: &Token, alg: Alg, named: &[&TrustedKey], wanted: &str) -> Checked {
    let mut failed = None;
    let mut confusion = None;
    let mut skipped = Vec::new();
    for k in named {
        match keys::fit(&k.jwk, alg) {
            Ok(()) => {}
            Err(Unfit::Confusion { kty }) => {
                confusion.get_or_insert((*k, kty));
                continue;
            }
            Err(Unfit::Other(why)) => {
                skipped.push(format!("the key from {}: {why}", k.source));
                continue;
            }
        }
        match keys::check(
            &k.jwk,
            alg,
            token.signing_input.as_bytes(),
            &token.signature,
        ) {
            Ok(strength) => {
                return Checked {
                    verdict: Verdict::Verified {
                        kid: key_id(k),
                        source: k.source.clone(),
                    },
                    policy: policy(k, alg, strength),
                };
            }
            Err(Failure::Unusable(why)) => {
                skipped.push(format!("the key from {}: {why}", k.source))
            }
            Err(Failure::Mismatch(detail, strength)) => {
                failed.get_or_insert((*k, detail, strength));
            }
        }
    }
    if let Some((k, detail, strength)) = failed {
        return Checked {
            verdict: Verdict::Failed {
                kid: key_id(k),
                source: k.source.clone(),
                reason: mismatch_reason(token, alg, detail),
            },
            policy: policy(k, alg, strength),
        };
    }
    if let Some((k, kty)) = confusion {
        return Verdict::AlgorithmConfusion {
            kid: key_id(k),
            source: k.source.clone(),
            alg: alg.name().to_string(),
            kty,
        }
        .into();
    }
    Verdict::NoKey {
        why: format!(
            "no trusted key with {wanted} can check {}: {}",
            alg.name(),
            skipped.join("; ")
        ),
    }
    .into()
}

/// A token that names no key: trying every trusted key for its `alg` is safe (they are all
/// trusted), and only a success is reported as such.
fn check_unnamed(token: &Token, alg: Alg, trust: &Trust) -> Checked {
    let fitting: Vec<&TrustedKey> = trust
        .keys
        .iter()
        .filter(|k| keys::fit(&k.jwk, alg).is_ok())
        .collect();
    for k in &fitting {
        if let Ok(strength) = keys::check(
            &k.jwk,
            alg,
            token.signing_input.as_bytes(),
            &token.signature,
        ) {
            return Checked {
                verdict: Verdict::Verified {
                    kid: key_id(k),
                    source: k.source.clone(),
                },
                policy: policy(k, alg, strength),
            };
        }
    }
    let why = if trust.keys.is_empty() {
        "the token names no key (no kid or x5t) and no trusted keys are loaded".to_string()
    } else if fitting.is_empty() {
        let secret = if alg.is_hmac() {
            " (HMAC needs a shared secret the user supplies, a JWK with kty oct)"
        } else {
            ""
        };
        format!(
            "the token names no key (no kid or x5t) and none of the {} trusted keys is for \
             {}{secret}",
            trust.keys.len(),
            alg.name()
        )
    } else {
        format!(
            "the token names no key (no kid or x5t) and none of the {} trusted keys for {} \
             verifies it",
            fitting.len(),
            alg.name()
        )
    };
    Verdict::NoKey { why }.into()
}

fn mismatch_reason(token: &Token, alg: Alg, detail: Option<String>) -> String {
    let name = alg.name();
    if let Some(detail) = detail {
        return format!("{name} signature mismatch: {detail}");
    }
    if token.param("nonce").is_some() {
        format!(
            "{name} signature mismatch, expected for this token: its header carries a `nonce` \
             like Microsoft Graph access tokens, which are signed over a different header and \
             can only be validated by Graph itself"
        )
    } else {
        format!(
            "{name} signature mismatch: the token was changed after signing or signed by another \
             key"
        )
    }
}

/// Why a JWS is invalid whatever its signature bytes, if it is.
fn structure_problem(token: &Token) -> Option<String> {
    match token.param("alg") {
        None => return Some("the header has no `alg` (RFC 7515 §4.1.1 requires one)".to_string()),
        Some(Value::String(_)) => {}
        Some(_) => return Some("`alg` is not a string".to_string()),
    }
    if let Some(u) = token.unprotected.as_ref().and_then(Value::as_object) {
        if let Some(name) = u.keys().find(|n| token.header.get(n.as_str()).is_some()) {
            return Some(format!(
                "header parameter `{name}` is in both the protected and the unprotected header \
                 (RFC 7515 §7.2.1 requires them to be disjoint)"
            ));
        }
        for (name, rule) in [("crit", "RFC 7515 §4.1.11"), ("b64", "RFC 7797 §3")] {
            if u.contains_key(name) {
                return Some(format!(
                    "`{name}` is in the unprotected header; {rule} requires it to be integrity \
                     protected"
                ));
            }
        }
    }
    let crit = token.header.get("crit")?;
    let names: Vec<&str> = crit
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() || crit.as_array().is_some_and(|a| a.len() != names.len()) {
        return Some(
            "`crit` must be a non-empty array of header parameter names (RFC 7515 §4.1.11)"
                .to_string(),
        );
    }
    // The only extension idscope understands is RFC 7797's `b64`.
    if let Some(name) = names.iter().find(|n| **n != "b64") {
        return Some(format!(
            "crit names `{name}`, which idscope does not understand: RFC 7515 §4.1.11 makes the \
             JWS invalid"
        ));
    }
    if token.header.get("b64").is_none() {
        return Some(
            "crit names `b64`, which the protected header does not carry (RFC 7515 §4.1.11)"
                .to_string(),
        );
    }
    None
}

fn policy(k: &TrustedKey, alg: Alg, strength: Strength) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(bits) = strength.rsa_bits.filter(|b| *b < 2048) {
        out.push(Finding::warning(format!(
            "the RSA key kid={} from {} is {bits} bits: weak, RFC 7518 §3.3 requires 2048 bits \
             or more",
            key_id(k),
            k.source
        )));
    }
    if let Some((len, min)) = strength.hmac.filter(|(len, min)| len < min) {
        out.push(Finding::warning(format!(
            "the HMAC key kid={} from {} is {len} bytes: RFC 7518 §3.2 requires at least {min} \
             for {}",
            key_id(k),
            k.source,
            alg.name()
        )));
    }
    out
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
