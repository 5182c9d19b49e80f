//! JSON Web Tokens: compact JWS (3 segments, including the unsigned form that ends with `.`) and
//! compact JWE (5 segments, header only). This module splits and decodes a token ([`parse`]),
//! explains its header and claims the way an Entra ID engineer reads them ([`explain`]), and checks
//! a signature against keys the user trusts ([`verify`]). The [`Jwt`] decoder is a thin adapter that
//! finds a token in a body or in an `Authorization: Bearer` header.
//!
//! It is *not* responsible for finding tokens inside other formats (the `oauth` decoder calls
//! [`parse`]/[`explain`] on form and JSON fields), for decrypting JWEs, or for fetching keys: `jku`
//! and `x5u` are shown and never fetched, and embedded `jwk`/`x5c` keys are shown and never trusted.
//! Times are judged against [`Context::now`], never the real clock. Verification checks the
//! signature only; expiry, audience and issuer are findings of [`explain`], not reasons to refuse.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::x509;
use crate::{Context, DecodeError, Decoded, Decoder, Limits, Message, Trust, TrustedKey};

pub use util::MAX_TOKEN_LEN;

/// Most elements of one claim array shown as separate nodes (a `groups` claim can be long).
const MAX_ARRAY_ITEMS: usize = 500;

/// Claims whose value is a credential: shown as [`Kind::Secret`] and reported as a finding,
/// because a JWT payload is only base64url, not encrypted (PRT requests carry passwords here).
const CREDENTIAL_CLAIMS: &[&str] = &[
    "password",
    "refresh_token",
    "assertion",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "access_token",
    "session_key",
];

/// The two compact serializations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// JSON Web Signature: `header.payload.signature` (the signature may be empty).
    Jws,
    /// JSON Web Encryption: `header.encrypted_key.iv.ciphertext.tag`.
    Jwe,
}

/// Sizes of the binary segments of a compact JWE, in decoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JweSegments {
    /// The wrapped content-encryption key (empty for `alg: dir`).
    pub encrypted_key: usize,
    /// The initialization vector (12 bytes for AES-GCM, 16 for AES-CBC).
    pub iv: usize,
    /// The ciphertext.
    pub ciphertext: usize,
    /// The authentication tag.
    pub tag: usize,
}

/// How `idscope redact` replaces a JWS signature (`REDACTED-SIG-<fingerprint>`); the decoder
/// recognises it so a shareable copy reads as redacted, not as tampered.
pub const REDACTED_SIGNATURE_PREFIX: &str = "REDACTED-SIG-";

/// A decoded compact token. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// JWS or JWE.
    pub form: Form,
    /// The (protected) header, always a JSON object.
    pub header: serde_json::Value,
    /// The JWS payload, always a JSON object; `None` for a JWE (it is encrypted).
    pub claims: Option<serde_json::Value>,
    /// The raw JWS signature bytes (empty for an unsigned token and for a JWE).
    pub signature: Vec<u8>,
    /// The exact bytes the JWS signature covers: the first two segments as sent, joined by `.`.
    /// Empty for a JWE.
    pub signing_input: String,
    /// Segment sizes of a JWE; `None` for a JWS.
    pub jwe: Option<JweSegments>,
    /// Length of the token text, in bytes.
    pub len: usize,
    /// True when the signature segment is the placeholder `idscope redact` writes
    /// (`REDACTED-SIG-…`): a shareable copy, whose signature cannot be checked.
    pub signature_redacted: bool,
}

impl Token {
    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header_str("alg")
    }

    /// A string header parameter.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// A claim of a JWS (always `None` for a JWE).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.as_ref().and_then(|c| c.get(name))
    }

    /// A claim rendered as text (strings as is, numbers as digits).
    pub fn claim_str(&self, name: &str) -> Option<String> {
        self.claim(name).map(util::json_scalar)
    }

    /// True when the header says `alg: none` (any case): nothing protects the token.
    pub fn is_unsigned(&self) -> bool {
        self.form == Form::Jws && self.alg().is_some_and(|a| a.eq_ignore_ascii_case("none"))
    }
}

/// Splits and decodes a compact JWT with default [`Limits`]. See [`parse_limited`].
pub fn parse(token: &str) -> Result<Token, DecodeError> {
    parse_limited(token, &Limits::default())
}

/// The bytes a compact JWT may hold: base64url, the `.` separators, and `=` padding.
#[allow(clippy::indexing_slicing)] // b < 256, the table's length
const JWT_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'=');
        b += 1;
    }
    t
};

/// Splits and decodes a compact JWT: 3 segments are a JWS (the last one may be empty: the unsigned
/// `alg: none` form), 5 segments a JWE (only the header is decoded; the other segments are
/// measured). Surrounding whitespace and base64 padding inside segments are tolerated. The token
/// is refused beyond [`MAX_TOKEN_LEN`] or `limits.max_body`, and JSON deeper than
/// `limits.max_depth`.
pub fn parse_limited(token: &str, limits: &Limits) -> Result<Token, DecodeError> {
    let t = token.trim();
    let max = MAX_TOKEN_LEN.min(limits.max_body);
    if t.len() > max {
        return Err(DecodeError::TooLarge {
            what: "JWT",
            limit: max,
        });
    }
    if t.is_empty() {
        return Err(DecodeError::not("a JWT", "empty input"));
    }
    // The segment count first, with a SIMD byte count: most values this sees (opaque tokens,
    // codes) have no dots at all, and walking them byte by byte cost more than the rest of the
    // decode of their response.
    let segments = memchr::memchr_iter(b'.', t.as_bytes()).count() + 1;
    if segments != 3 && segments != 5 {
        return Err(DecodeError::not(
            "a JWT",
            format!("{segments} dot-separated segments (a JWS has 3, a JWE 5)"),
        ));
    }
    // A table lookup per byte.
    if let Some(i) = t
        .bytes()
        .position(|b| !JWT_BYTE.get(usize::from(b)).copied().unwrap_or(false))
    {
        let c = t.get(i..).and_then(|r| r.chars().next()).unwrap_or('?');
        return Err(DecodeError::not(
            "a JWT",
            format!("character {c:?} at byte {i} is neither base64url nor '.'"),
        ));
    }
    let segments: Vec<&str> = t.split('.').collect();
    match segments.as_slice() {
        [h, p, s] => parse_jws(h, p, s, t.len(), limits),
        [h, k, iv, ct, tag] => {
            let header = decode_header(h, limits)?;
            let seg = |s: &str, field: &'static str| decode_segment(s, field, max).map(|b| b.len());
            Ok(Token {
                form: Form::Jwe,
                header,
                claims: None,
                signature: Vec::new(),
                signing_input: String::new(),
                signature_redacted: false,
                jwe: Some(JweSegments {
                    encrypted_key: seg(k, "JWE encrypted key")?,
                    iv: seg(iv, "JWE iv")?,
                    ciphertext: seg(ct, "JWE ciphertext")?,
                    tag: seg(tag, "JWE tag")?,
                }),
                len: t.len(),
            })
        }
        other => Err(DecodeError::not(
            "a JWT",
            format!(
                "{} dot-separated segments (a JWS has 3, a JWE 5)",
                other.len()
            ),
        )),
    }
}

fn parse_jws(h: &str, p: &str, s: &str, len: usize, limits: &Limits) -> Result<Token, DecodeError> {
    let header = decode_header(h, limits)?;
    if p.is_empty() {
        return Err(DecodeError::Missing("JWT payload"));
    }
    let payload = decode_segment(p, "JWT payload", MAX_TOKEN_LEN)?;
    let claims = util::parse_json(&payload, "JWT payload", limits)?;
    if !claims.is_object() {
        return Err(DecodeError::not(
            "a JWT",
            "the payload is not a JSON object",
        ));
    }
    let signature = decode_segment(s, "JWT signature", MAX_TOKEN_LEN)?;
    Ok(Token {
        form: Form::Jws,
        header,
        claims: Some(claims),
        signature,
        signing_input: format!("{h}.{p}"),
        jwe: None,
        len,
        signature_redacted: s.starts_with(REDACTED_SIGNATURE_PREFIX),
    })
}

fn decode_header(h: &str, limits: &Limits) -> Result<Value, DecodeError> {
    if h.is_empty() {
        return Err(DecodeError::Missing("JWT header"));
    }
    let bytes = decode_segment(h, "JWT header", MAX_TOKEN_LEN)?;
    let header = util::parse_json(&bytes, "JWT header", limits)?;
    if !header.is_object() {
        return Err(DecodeError::not("a JWT", "the header is not a JSON object"));
    }
    Ok(header)
}

fn decode_segment(s: &str, field: &'static str, max: usize) -> Result<Vec<u8>, DecodeError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    // Padding is tolerated at the end only; `util::b64_decode_any` rejects it elsewhere.
    util::b64_decode_any(s, max).ok_or(DecodeError::Base64 { field })
}

/// What a token is for, which changes how some findings are judged (an unsigned id_token from the
/// token endpoint is normal, an unsigned access token is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Nothing says what the token is for.
    Unknown,
    /// An OAuth access token (has `scp`, `roles`, `appid` or `azp`).
    AccessToken,
    /// An OpenID Connect id_token.
    IdToken,
    /// A client assertion: the client's proof of identity, signed with its own key.
    ClientAssertion,
    /// A signed request (the `request=` of a jwt-bearer grant: PRT and broker requests).
    SignedRequest,
}

impl Role {
    /// Guesses the role from the claims (field names, not values, so it is cheap and stable).
    pub fn guess(token: &Token) -> Role {
        let Some(c) = token.claims.as_ref() else {
            return Role::Unknown;
        };
        let has = |k: &str| c.get(k).is_some();
        if token
            .header_str("typ")
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
            || has("scp")
            || has("appid")
            || has("azp")
            || has("roles")
            || has("idtyp")
        {
            Role::AccessToken
        } else if has("grant_type") || has("request_nonce") {
            Role::SignedRequest
        } else if has("nonce")
            || (has("aud") && (has("upn") || has("unique_name") || has("preferred_username")))
        {
            Role::IdToken
        } else {
            Role::Unknown
        }
    }

    /// A human name ("access token", "id_token").
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unknown => "token",
            Role::AccessToken => "access token",
            Role::IdToken => "id_token",
            Role::ClientAssertion => "client assertion",
            Role::SignedRequest => "signed request",
        }
    }
}

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

/// Explains a token, guessing its [`Role`] from the claims. See [`explain_as`].
pub fn explain(token: &Token, cx: &Context<'_>) -> Decoded {
    explain_as(token, cx, Role::guess(token))
}

/// Builds the view of a token: header parameters and claims with their meaning in `note`, times
/// relative to `cx.now`, the signature as a secret, the verification verdict against `cx.trust`,
/// and findings (expired, not yet valid, `alg: none`, empty signature, key URLs, embedded keys,
/// credentials in the payload, the verdict).
pub fn explain_as(token: &Token, cx: &Context<'_>, role: Role) -> Decoded {
    let mut findings = Vec::new();
    let header = explain_header(token, cx, &mut findings);
    let verdict = verify(token, cx.trust);
    let alg = token.alg().unwrap_or("(no alg)");
    let mut root = Node::section("jwt");
    let summary;
    match token.form {
        Form::Jwe => {
            let enc = token.header_str("enc").unwrap_or("?");
            root.value = Some(format!("JWE {alg}/{enc}"));
            root.note = Some(
                "compact JWE (5 segments): the payload is encrypted; only the protected header is \
                 readable without the recipient's key"
                    .to_string(),
            );
            root.push(header);
            if let Some(seg) = token.jwe {
                root.push(explain_jwe_segments(&seg, token));
            }
            summary = format!(
                "JWE {alg}/{enc} (encrypted, {} bytes; header only)",
                token.len
            );
        }
        Form::Jws => {
            let ver = token.claim_str("ver");
            let mut what = format!("JWS {alg} {}", role.as_str());
            if let Some(v) = &ver {
                what.push_str(&format!(" (ver {v})"));
            }
            root.value = Some(what);
            root.push(header);
            root.push(explain_claims(token, cx, role, &mut findings));
            root.push(signature_node(token));
            findings.extend(alg_findings(token, role));
            summary = jws_summary(token, cx, role, &verdict);
        }
    }
    root.push(verdict_node(&verdict));
    if let Some(f) = verdict.finding() {
        findings.push(f.at("verification"));
    }
    let mut d = Decoded::new("jwt", summary, root);
    d.findings = findings;
    d
}

/// A short description for summaries of messages that carry tokens:
/// `JWT RS256 aud=https://graph.windows.net exp in 59m`, `alg none`, `JWE RSA-OAEP/A256GCM`.
pub fn brief(token: &Token, cx: &Context<'_>) -> String {
    if token.form == Form::Jwe {
        return format!(
            "JWE {}/{}",
            token.alg().unwrap_or("?"),
            token.header_str("enc").unwrap_or("?")
        );
    }
    if token.is_unsigned() {
        return "alg none".to_string();
    }
    let mut s = format!("JWT {}", token.alg().unwrap_or("(no alg)"));
    if let Some(aud) = token.claim("aud") {
        s.push_str(&format!(" aud={}", aud_text(aud)));
    }
    if let Some(exp) = token.claim("exp").and_then(util::json_int) {
        s.push(' ');
        s.push_str(&exp_relative(exp, cx));
    }
    s
}

fn aud_text(aud: &Value) -> String {
    match aud {
        Value::Array(a) => a
            .iter()
            .map(util::json_scalar)
            .collect::<Vec<_>>()
            .join(","),
        other => util::json_scalar(other),
    }
}

fn exp_relative(exp: i64, cx: &Context<'_>) -> String {
    let now = util::epoch_secs(cx.now);
    let d = std::time::Duration::from_secs(exp.abs_diff(now));
    if exp > now {
        format!("exp in {}", util::human_duration(d))
    } else if exp == now {
        "EXPIRED just now".to_string()
    } else {
        format!("EXPIRED {} ago", util::human_duration(d))
    }
}

fn jws_summary(token: &Token, cx: &Context<'_>, role: Role, verdict: &Verdict) -> String {
    let alg = match token.alg() {
        Some(a) if token.is_unsigned() => format!("alg {a}"),
        Some(a) => a.to_string(),
        None => "(no alg)".to_string(),
    };
    let mut s = format!("JWT {alg} {}", role.as_str());
    if let Some(v) = token.claim_str("ver") {
        s.push_str(&format!(" v{v}"));
    }
    if let Some(aud) = token.claim("aud") {
        s.push_str(&format!(" aud={}", aud_text(aud)));
    }
    let who = ["upn", "preferred_username", "unique_name", "username"]
        .iter()
        .find_map(|k| token.claim_str(k).map(|v| format!("{k}={v}")))
        .or_else(|| token.claim_str("appid").map(|v| format!("appid={v}")))
        .or_else(|| token.claim_str("azp").map(|v| format!("azp={v}")))
        .or_else(|| token.claim_str("sub").map(|v| format!("sub={v}")));
    if let Some(w) = who {
        s.push(' ');
        s.push_str(&util::ellipsize(&w, 60));
    }
    let now = util::epoch_secs(cx.now);
    if let Some(nbf) = token
        .claim("nbf")
        .and_then(util::json_int)
        .filter(|n| *n > now)
    {
        let d = std::time::Duration::from_secs(nbf.abs_diff(now));
        s.push_str(&format!(
            " NOT YET VALID (nbf in {})",
            util::human_duration(d)
        ));
    }
    if let Some(exp) = token.claim("exp").and_then(util::json_int) {
        s.push(' ');
        s.push_str(&exp_relative(exp, cx));
    }
    s.push_str(", ");
    s.push_str(verdict_word(token, verdict));
    s
}

/// The verdict word for summaries, saying why when a failure is expected (a Graph header nonce).
pub fn verdict_word(token: &Token, verdict: &Verdict) -> &'static str {
    if matches!(verdict, Verdict::Failed { .. }) && token.header.get("nonce").is_some() {
        "signature fails (Graph header nonce)"
    } else {
        verdict.word()
    }
}

fn verdict_node(verdict: &Verdict) -> Node {
    let (value, kind) = match verdict {
        Verdict::Verified { kid, source } => (
            format!("verified with kid={kid} from {source}"),
            Kind::Field,
        ),
        Verdict::Failed {
            kid,
            source,
            reason,
        } => (
            format!("does NOT verify with kid={kid} from {source}: {reason}"),
            Kind::Error,
        ),
        Verdict::NoKey { why } => (format!("unverified: {why}"), Kind::Field),
        Verdict::Unsigned => (
            "unsigned (alg none): nothing to verify".to_string(),
            Kind::Field,
        ),
        Verdict::Encrypted => (
            "encrypted: integrity is checked on decryption".to_string(),
            Kind::Field,
        ),
        Verdict::Redacted => (
            "signature redacted: this is a shareable copy made by idscope redact".to_string(),
            Kind::Field,
        ),
    };
    let note = match verdict {
        Verdict::Encrypted => {
            "a JWE is authenticated by decryption (its tag), which needs the recipient's key"
        }
        Verdict::Unsigned => "an unsigned token proves nothing about who made it",
        _ => {
            "only keys the user trusts count (a JWKS given with --jwks or captured from the \
             issuer); the algorithm comes from the key, never from the token's alg"
        }
    };
    Node::leaf("verification", value, kind).with_note(note)
}

fn signature_node(token: &Token) -> Node {
    if token.signature.is_empty() {
        return Node::field("signature", "(empty)")
            .with_note("the token ends with '.': there is no signature, nothing protects it");
    }
    Node::secret("signature", URL_SAFE_NO_PAD.encode(&token.signature))
        .with_note(format!("{} bytes", token.signature.len()))
}

fn alg_findings(token: &Token, role: Role) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(alg) = token.alg() else {
        out.push(Finding::error("the header has no `alg`").at("header"));
        return out;
    };
    if token.is_unsigned() {
        let f = match role {
            Role::IdToken => Finding::warning(
                "unsigned id_token (alg none): legitimate only when it comes straight from the \
                 token endpoint over TLS, as the v1 ROPC id_token does (MS-OAPXBC: \"the token \
                 does not need to be signed\"); an unsigned id_token from anywhere else proves \
                 nothing",
            ),
            Role::AccessToken => Finding::error(
                "unsigned access token (alg none): anyone can forge it; a resource must reject it",
            ),
            _ => Finding::error(format!(
                "unsigned {} (alg none): anyone can forge it",
                role.as_str()
            )),
        };
        out.push(f.at("header/alg"));
        if !token.signature.is_empty() {
            out.push(
                Finding::warning(format!(
                    "alg none but a signature segment is present ({} bytes)",
                    token.signature.len()
                ))
                .at("signature"),
            );
        }
    } else if alg.starts_with("HS")
        && matches!(role, Role::AccessToken | Role::IdToken)
        && token.claim_str("iss").is_some_and(|i| {
            i.starts_with("https://sts.windows.net/")
                || i.starts_with("https://login.microsoftonline.com/")
        })
    {
        out.push(
            Finding::warning(format!(
                "{alg} {} from an Entra ID issuer: Entra ID signs these with RS256, so an HMAC \
                 signature suggests a forged token (algorithm confusion)",
                role.as_str()
            ))
            .at("header/alg"),
        );
    }
    if !token.is_unsigned() && token.signature.is_empty() {
        out.push(
            Finding::error(format!(
                "empty signature although alg={alg}: the token is not signed"
            ))
            .at("signature"),
        );
    }
    out
}

fn alg_meaning(alg: &str) -> &'static str {
    match alg {
        "RS256" => {
            "RSASSA-PKCS1-v1_5 with SHA-256: signed with the signer's private RSA key, checked with its public key"
        }
        "RS384" => "RSASSA-PKCS1-v1_5 with SHA-384",
        "RS512" => "RSASSA-PKCS1-v1_5 with SHA-512",
        "PS256" => "RSASSA-PSS with SHA-256",
        "PS384" => "RSASSA-PSS with SHA-384",
        "PS512" => "RSASSA-PSS with SHA-512",
        "ES256" => "ECDSA on P-256 with SHA-256",
        "ES384" => "ECDSA on P-384 with SHA-384",
        "EdDSA" => "Ed25519 signature",
        "HS256" => {
            "HMAC-SHA256 with a shared secret (PRT artefacts: a key derived from the session key); only holders of the secret can check it"
        }
        "HS384" => "HMAC-SHA384 with a shared secret",
        "HS512" => "HMAC-SHA512 with a shared secret",
        "none" | "None" | "NONE" => "unsigned: no signature, nothing protects the content",
        "RSA-OAEP" => {
            "JWE: the content key is wrapped with RSA-OAEP (SHA-1) under the recipient's public key (PRT: the device transport key)"
        }
        "RSA-OAEP-256" => {
            "JWE: the content key is wrapped with RSA-OAEP-256 under the recipient's public key"
        }
        "RSA1_5" => "JWE: the content key is wrapped with RSAES-PKCS1-v1_5",
        "dir" => {
            "JWE: direct encryption with a shared symmetric key (PRT responses: derived from the session key and ctx)"
        }
        "ECDH-ES" => "JWE: key agreement with ephemeral-static ECDH",
        "A128KW" | "A192KW" | "A256KW" => "JWE: the content key is wrapped with AES key wrap",
        _ => "unrecognized algorithm",
    }
}

fn enc_meaning(enc: &str) -> &'static str {
    match enc {
        "A128GCM" | "A192GCM" | "A256GCM" => {
            "AES-GCM content encryption (12-byte IV, 16-byte tag; some PRT implementations use \
             AES-CBC despite this value: see the IV size)"
        }
        "A128CBC-HS256" | "A192CBC-HS384" | "A256CBC-HS512" => {
            "AES-CBC with HMAC-SHA2 content encryption (16-byte IV)"
        }
        _ => "unrecognized content encryption",
    }
}

/// Header parameters in reading order; the rest follow alphabetically.
const HEADER_ORDER: &[&str] = &[
    "typ", "alg", "enc", "kid", "x5t", "x5t#S256", "nonce", "zip", "cty", "ctx", "kdf_ver", "x5c",
    "jku", "x5u", "jwk",
];

/// Claims in reading order (validity, who, which app, what access, how); the rest follow
/// alphabetically. The JSON map does not keep wire order, so a fixed order keeps views stable.
const CLAIM_ORDER: &[&str] = &[
    "aud",
    "iss",
    "iat",
    "nbf",
    "exp",
    "auth_time",
    "upn",
    "unique_name",
    "preferred_username",
    "username",
    "name",
    "given_name",
    "family_name",
    "email",
    "oid",
    "sub",
    "tid",
    "idtyp",
    "appid",
    "azp",
    "app_displayname",
    "appidacr",
    "azpacr",
    "client_id",
    "scp",
    "scope",
    "roles",
    "wids",
    "groups",
    "amr",
    "acr",
    "ipaddr",
    "deviceid",
    "onprem_sid",
    "ver",
];

/// The members of a JSON object, known names first in `order`, then the others alphabetically.
pub(crate) fn ordered<'a>(
    map: &'a serde_json::Map<String, Value>,
    order: &[&str],
) -> Vec<(&'a String, &'a Value)> {
    let mut v: Vec<(&String, &Value)> = map.iter().collect();
    v.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(order.len()));
    v
}

fn explain_header(token: &Token, cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    let mut sec = Node::section("header");
    let Some(map) = token.header.as_object() else {
        return sec;
    };
    for (name, v) in ordered(map, HEADER_ORDER) {
        let text = util::json_scalar(v);
        let node = match name.as_str() {
            "typ" => {
                Node::field("typ", &text).with_note(match text.to_ascii_lowercase().as_str() {
                    "jwt" => "token type: a JWT",
                    "at+jwt" => "token type: an OAuth access token (RFC 9068)",
                    "pop" => "token type: a proof-of-possession token",
                    _ => "token type (media type of the whole token)",
                })
            }
            "alg" => Node::field("alg", &text).with_note(alg_meaning(&text)),
            "enc" => Node::field("enc", &text).with_note(enc_meaning(&text)),
            "kid" => Node::field("kid", &text).with_note(if token.form == Form::Jwe {
                "key id: which of the recipient's keys the content key was encrypted to"
            } else {
                "key id: which of the signer's keys (the issuer's JWKS) made the signature; \
                 selects the trusted key to verify with"
            }),
            "x5t" => Node::field("x5t", &text).with_note(thumbprint_note(
                &text,
                "SHA-1",
                "thumbprint of the signing certificate (Entra ID sets kid to the same value); \
                 also selects the trusted key",
            )),
            "x5t#S256" => Node::field("x5t#S256", &text).with_note(thumbprint_note(
                &text,
                "SHA-256",
                "thumbprint of the signing certificate",
            )),
            "x5c" => {
                findings.push(
                    Finding::info(
                        "embedded `x5c` certificate proves nothing by itself: anyone can embed a \
                         certificate; the signature is only checked against trusted keys",
                    )
                    .at("header/x5c"),
                );
                explain_x5c(v, cx)
            }
            "jwk" => {
                findings.push(
                    Finding::warning(
                        "embedded `jwk` proves nothing: a token that carries its own key can be \
                         signed by anyone; it is never used to verify",
                    )
                    .at("header/jwk"),
                );
                Node::field("jwk", v.to_string())
                    .with_note("a public key embedded by the sender: shown, never trusted")
            }
            "jku" | "x5u" => {
                findings.push(
                    Finding::warning(format!(
                        "header `{name}` points to {text}: never fetched; a key location chosen \
                         by the token proves nothing"
                    ))
                    .at(format!("header/{name}")),
                );
                Node::field(name.clone(), &text).with_note(if name == "jku" {
                    "URL of a JWK set chosen by the token: never fetched"
                } else {
                    "URL of an X.509 certificate chosen by the token: never fetched"
                })
            }
            "ctx" => {
                let n = util::b64_decode_any(&text, 1024).map(|b| b.len());
                Node::field("ctx", &text).with_note(format!(
                    "PRT key-derivation context ({}): the HS256/JWE key is derived from the session \
                     key and this value (SP 800-108 KDF, label \"AzureAD-SecureConversation\")",
                    n.map_or("not base64".to_string(), |n| format!("{n} bytes"))
                ))
            }
            "kdf_ver" => Node::field("kdf_ver", &text).with_note(if text == "2" {
                "KDFv2: the derivation context is SHA-256(ctx || payload bytes), so any \
                 re-serialization of the payload changes the key"
            } else {
                "key-derivation version (absent or 1: the context is ctx itself)"
            }),
            "nonce" => Node::field("nonce", &text).with_note(
                "header nonce: Microsoft Graph access tokens carry one; they are signed over a \
                 different header than the one sent, so generic signature checks fail on them \
                 and only Graph validates them. Shown as sent, not altered",
            ),
            "zip" => Node::field("zip", &text)
                .with_note("the plaintext was DEFLATE-compressed before encryption"),
            "cty" => Node::field("cty", &text).with_note("content type of the payload"),
            "use" => Node::field("use", &text).with_note(if text == "ngc" {
                "signed with a Windows Hello for Business (NGC) key"
            } else {
                "intended use of the key"
            }),
            "ser" => Node::field("ser", &text)
                .with_note("Entra ID serialization version of an opaque (encrypted) token"),
            "crit" => Node::field("crit", v.to_string())
                .with_note("header parameters the recipient must understand"),
            _ => Node::field(name.clone(), text),
        };
        sec.push(node);
    }
    sec
}

fn thumbprint_note(text: &str, hash: &str, what: &str) -> String {
    match util::b64_decode_any(text, 64) {
        Some(b) => format!("{hash} {what} (hex {})", util::hex_lower(&b)),
        None => format!("{hash} {what} (not valid base64url)"),
    }
}

fn explain_x5c(v: &Value, cx: &Context<'_>) -> Node {
    // The spec says an array; some PRT clients send a single string.
    let certs: Vec<&str> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => vec![],
    };
    let mut node = Node::field("x5c", format!("{} certificate(s)", certs.len())).with_note(
        "certificate chain embedded by the sender (standard base64 DER): it identifies the \
         sender's key, it does not prove anything by itself",
    );
    if !matches!(v, Value::Array(_)) {
        node.note = node
            .note
            .map(|n| format!("{n}; sent as a single string instead of an array"));
    }
    for (i, c) in certs.iter().enumerate() {
        node.push(explain_cert(&format!("cert[{i}]"), c, cx));
    }
    node
}

/// How an `x5c` entry is shown: the subject as the value, key size in bits, SHA-256 lower-case.
const X5C_CERT: x509::Style = x509::Style {
    head: x509::Head::Field,
    rows: &[
        x509::Row::Subject {
            guid_note: Some(
                "the CN is a GUID: on a device certificate it is the Entra ID device id",
            ),
        },
        x509::Row::Issuer(x509::IssuerNote::SelfSignedOrCa),
        x509::Row::Serial { colons: true },
        x509::Row::Date {
            label: "not_before",
            end: false,
            relative: true,
        },
        x509::Row::Date {
            label: "not_after",
            end: true,
            relative: true,
        },
        x509::Row::Key {
            label: "public_key",
            form: x509::KeyForm::Size {
                unit: " bits",
                other: "other",
                unparsed: "unparsed",
            },
            note: None,
        },
        x509::Row::Sha256 {
            label: "sha256",
            case: x509::Case::Lower,
            note: x509::HashNote::Text("SHA-256 thumbprint of the DER certificate"),
        },
    ],
};

fn explain_cert(label: &str, b64: &str, cx: &Context<'_>) -> Node {
    let Some(der) = util::b64_decode_any(b64, MAX_TOKEN_LEN) else {
        return Node::leaf(label, "not valid base64", Kind::Error);
    };
    match x509::Certificate::parse(&der) {
        Ok(cert) => cert
            .node(label, &X5C_CERT, cx.now)
            .with_note(format!("{} bytes DER", cert.der_len)),
        Err(e) => Node::leaf(label, format!("not an X.509 certificate: {e}"), Kind::Error),
    }
}

fn explain_jwe_segments(seg: &JweSegments, token: &Token) -> Node {
    let dir = token.alg() == Some("dir");
    Node::section("segments").with_children([
        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key)).with_note(
            if dir {
                "empty for alg dir: the key is shared (PRT: derived from the session key)"
            } else {
                "the content-encryption key, wrapped for the recipient"
            },
        ),
        Node::field("iv", format!("{} bytes", seg.iv)).with_note(match seg.iv {
            12 => "12 bytes: AES-GCM nonce",
            16 => "16 bytes: an AES-CBC IV (some PRT implementations encrypt with CBC despite enc A256GCM)",
            _ => "initialization vector",
        }),
        Node::field("ciphertext", format!("{} bytes", seg.ciphertext))
            .with_note("the encrypted payload: not readable without the key"),
        Node::field("tag", format!("{} bytes", seg.tag)).with_note("authentication tag"),
    ])
}

/// Meaning of a claim (protocols.md §2.5), for `Node::note`.
fn claim_note(name: &str) -> Option<&'static str> {
    Some(match name {
        "aud" => {
            "audience: the resource the token is for (v1 a URI such as https://graph.windows.net, v2 an app id GUID or URI)"
        }
        "iss" => {
            "issuer: v1 https://sts.windows.net/{tid}/, v2 https://login.microsoftonline.com/{tid}/v2.0"
        }
        "iat" => "issued at",
        "nbf" => "not valid before",
        "exp" => "expires at",
        "auth_time" => "when the user authenticated",
        "amr" => "authentication methods used",
        "acr" => {
            "authentication context class (v1: \"0\" or \"1\"; 0 means the authentication did not meet ISO/IEC 29115)"
        }
        "ipaddr" => "client IP address seen by Entra ID",
        "name" => "display name",
        "given_name" => "given name",
        "family_name" => "family name",
        "upn" => "user principal name",
        "unique_name" => "v1 user identifier (federated SAML-derived tokens may carry a URI here)",
        "preferred_username" => "v2 user identifier (usually the UPN)",
        "email" => "email address",
        "oid" => "object id of the user or service principal in the tenant",
        "sub" => "subject: pairwise id of the principal, different for each app",
        "tid" => "tenant id",
        "appid" => "v1: the client app that asked for the token",
        "azp" => "v2: the client app that asked for the token (authorized party)",
        "appidacr" => "how the client authenticated",
        "azpacr" => "how the client authenticated",
        "scp" => "delegated scopes granted to the app for the user (space-separated)",
        "roles" => "app roles granted (application permissions or user roles)",
        "wids" => "directory role template ids of the user",
        "groups" => "group object ids of the user",
        "ver" => "token format version (not the endpoint version)",
        "onprem_sid" => "on-premises SID of a synced user",
        "deviceid" => "device id: the token was issued through device authentication (PRT)",
        "idtyp" => "token subject type: \"app\" for app-only tokens, \"user\" for delegated ones",
        "nonce" => "OIDC nonce echoed from the authorization request (replay protection)",
        "xms_tcdt" => "when the tenant was created",
        "uti" | "aio" | "rh" | "puid" | "xms_ftd" | "xms_idrel" | "xms_st" => {
            "opaque, Microsoft-internal"
        }
        "jti" => "unique token id (replay protection)",
        "request_nonce" => {
            "nonce from the srv_challenge exchange, binding this request to the server's challenge"
        }
        "grant_type" => "the OAuth grant carried inside this signed request",
        "client_id" => "the client app making the request",
        "scope" => "requested scopes (\"aza\" asks for a PRT)",
        "username" => "the user signing in",
        "password" => "the user's password, in clear inside the JWT payload",
        "refresh_token" => "a refresh token (in a PRT cookie or broker request: the PRT itself)",
        "assertion" => "an assertion used as the grant (SAML or Windows Hello JWT)",
        "is_primary" => "PRT cookie: \"true\" marks the primary refresh token (sent as a string)",
        "win_ver" => "Windows version of the client",
        "windows_api_version" => "PRT protocol version of the Windows client",
        "tenant_region_scope" | "tenant_region_sub_scope" => "tenant region",
        "pwd_exp" => "seconds until the password expires",
        "pwd_url" => "where to change the password",
        _ => return None,
    })
}

fn claim_value_note(name: &str, text: &str) -> Option<String> {
    let known = match (name, text) {
        ("appidacr" | "azpacr", "0") => "0 = public client (no client authentication)",
        ("appidacr" | "azpacr", "1") => "1 = client authenticated with a client secret",
        ("appidacr" | "azpacr", "2") => "2 = client authenticated with a certificate",
        ("acr", "0") => "0 = the authentication did not meet the requirements of ISO/IEC 29115",
        ("ver", "1.0") => "1.0 = v1 token format",
        ("ver", "2.0") => "2.0 = v2 token format",
        ("idtyp", "app") => "app = app-only token (client credentials)",
        ("idtyp", "user") => "user = delegated token",
        _ => "",
    };
    if !known.is_empty() {
        return Some(known.to_string());
    }
    if matches!(name, "iss") {
        if text.starts_with("https://sts.windows.net/") {
            return Some("v1 issuer (sts.windows.net/{tid}/)".to_string());
        }
        if text.ends_with("/v2.0") {
            return Some("v2 issuer (login.microsoftonline.com/{tid}/v2.0)".to_string());
        }
    }
    if matches!(name, "aud" | "appid" | "azp" | "client_id") {
        return well_known_app(text).map(|n| format!("well-known: {n}"));
    }
    None
}

/// Names of well-known Microsoft first-party application and resource ids (and resource URIs),
/// for notes on `client_id`, `appid`, `azp` and `aud`.
pub fn well_known_app(id: &str) -> Option<&'static str> {
    Some(match id.to_ascii_lowercase().trim_end_matches('/') {
        "1b730954-1685-4b74-9bfd-dac224a7b894" => "Azure Active Directory PowerShell",
        "1950a258-227b-4e31-a9cf-717495945fc2" => "Microsoft Azure PowerShell",
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46" => "Microsoft Azure CLI",
        "cb1056e2-e479-49de-ae31-7812af012ed8" => "Microsoft Azure Active Directory Connect",
        "29d9ed98-a469-4536-ade2-f981bc1d605e" => "Microsoft Authentication Broker",
        "38aa3b87-a06d-4817-b275-7a316988d93b" => "Windows Sign In (PRT)",
        "d3590ed6-52b3-4102-aeff-aad2292ab01c" => "Microsoft Office",
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264" => "Microsoft Teams",
        "00000003-0000-0000-c000-000000000000" | "https://graph.microsoft.com" => "Microsoft Graph",
        "00000002-0000-0000-c000-000000000000" | "https://graph.windows.net" => {
            "Azure AD Graph (legacy)"
        }
        "https://management.azure.com" | "https://management.core.windows.net" => {
            "Azure Resource Manager"
        }
        _ => return None,
    })
}

/// Names of a few directory role template ids that show up in nearly every capture.
fn directory_role(id: &str) -> Option<&'static str> {
    Some(match id {
        "62e90394-69f5-4237-9190-012177145e10" => "Global Administrator",
        "d29b2b05-8046-44ba-8758-1e26182fcf32" => "Directory Synchronization Accounts",
        "b79fbf4d-3ef9-4689-8143-76b194e85509" => "User (default member role)",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3" => "Application Administrator",
        _ => return None,
    })
}

fn amr_meaning(v: &str) -> &'static str {
    match v {
        "pwd" => "password",
        "mfa" => "multi-factor authentication",
        "rsa" => "RSA key proof (e.g. Microsoft Authenticator, device or certificate key)",
        "wia" => "Windows Integrated Authentication (Kerberos/NTLM)",
        "ngcmfa" => "Windows Hello for Business / FIDO-backed MFA",
        "fed" => "federated: an identity provider (ADFS) authenticated the user",
        "otp" => "one-time passcode",
        "sms" => "SMS code",
        "tel" => "phone call",
        "face" => "face biometric",
        "fido" => "FIDO2 security key",
        "hwk" => "hardware-bound key",
        "kba" => "knowledge-based authentication",
        "pin" => "PIN",
        "swk" => "software-bound key",
        "user" => "user presence",
        "vpn" => "VPN",
        "wiaormfa" => "Windows Integrated Authentication or MFA",
        _ => "unrecognized method",
    }
}

fn scope_meaning(s: &str) -> Option<&'static str> {
    Some(match s {
        "user_impersonation" => "act as the signed-in user (v1 default delegated scope)",
        "openid" => "OpenID Connect: an id_token is requested",
        "profile" => "basic profile claims in the id_token",
        "email" => "the email claim",
        "offline_access" => "a refresh token is requested",
        "aza" => "PRT: asks Entra ID for a (renewed) primary refresh token",
        "ugs" => "PRT: include group SIDs (Kerberos cloud TGT)",
        _ if s.ends_with("/.default") || s == ".default" => {
            "all statically consented permissions of the resource (the v2 form of a v1 resource)"
        }
        _ => return None,
    })
}

/// Explains a space-separated OAuth scope string as one node with a child per scope.
pub fn scope_node(label: &str, scopes: &str) -> Node {
    let mut node = Node::field(label, scopes);
    for s in scopes.split_whitespace().take(MAX_ARRAY_ITEMS) {
        let mut c = Node::field("scope", s);
        if let Some(n) = scope_meaning(s) {
            c.note = Some(n.to_string());
        }
        node.push(c);
    }
    node
}

/// Meaning of a claim that depends on what the token is for.
fn role_claim_note(name: &str, role: Role) -> Option<&'static str> {
    Some(match (role, name) {
        (Role::IdToken, "aud") => "audience: the client app the id_token is for (its client_id)",
        (Role::ClientAssertion, "aud") => {
            "audience: must be the token endpoint the assertion is sent to"
        }
        (Role::ClientAssertion, "iss" | "sub") => {
            "the client_id of the app (iss and sub are both the client in a client assertion)"
        }
        (Role::SignedRequest, "iss") => "who signed the request (a broker: aad:brokerplugin)",
        (Role::SignedRequest, "aud") => {
            "the authority the request is for (login.microsoftonline.com)"
        }
        _ => return None,
    })
}

fn explain_claims(
    token: &Token,
    cx: &Context<'_>,
    role: Role,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut sec = Node::section("claims");
    let Some(map) = token.claims.as_ref().and_then(Value::as_object) else {
        return sec;
    };
    let now = util::epoch_secs(cx.now);
    let mut credentials = Vec::new();
    for (name, v) in ordered(map, CLAIM_ORDER) {
        let text = util::json_scalar(v);
        let mut node = match name.as_str() {
            "iat" | "nbf" | "exp" | "auth_time" | "xms_tcdt" => match util::json_int(v) {
                Some(secs) => {
                    let mut n = Node::leaf(
                        name.clone(),
                        util::format_epoch_relative(secs, cx.now),
                        Kind::Timestamp,
                    );
                    if v.is_string() {
                        n.note = Some("sent as a string, not a NumericDate".to_string());
                    }
                    time_findings(name, secs, now, cx, findings);
                    n
                }
                None => Node::leaf(name.clone(), text.clone(), Kind::Error)
                    .with_note("not a NumericDate"),
            },
            "scp" if v.is_string() => scope_node("scp", &text),
            "scope" if v.is_string() => scope_node("scope", &text),
            n if CREDENTIAL_CLAIMS.contains(&n) => {
                credentials.push(name.clone());
                Node::secret(name.clone(), text.clone())
                    .with_note(format!("{} chars", text.chars().count()))
            }
            _ => match v {
                Value::Array(items) => {
                    let shown: Vec<String> = items.iter().map(util::json_scalar).collect();
                    let mut n = Node::field(
                        name.clone(),
                        if shown.is_empty() {
                            "(empty array)".to_string()
                        } else {
                            shown.join(", ")
                        },
                    );
                    for (i, item) in items.iter().take(MAX_ARRAY_ITEMS).enumerate() {
                        let t = util::json_scalar(item);
                        let mut c = Node::field(format!("[{i}]"), t.clone());
                        c.note = match name.as_str() {
                            "amr" => Some(amr_meaning(&t).to_string()),
                            "wids" => directory_role(&t).map(str::to_string),
                            _ => None,
                        };
                        n.push(c);
                    }
                    if items.len() > MAX_ARRAY_ITEMS {
                        n.push(Node::text(
                            "…",
                            format!("{} more not shown", items.len() - MAX_ARRAY_ITEMS),
                        ));
                    }
                    n
                }
                _ => Node::field(name.clone(), text.clone()),
            },
        };
        let general = role_claim_note(name, role).or_else(|| claim_note(name));
        let specific = claim_value_note(name, &text);
        let note = match (general, specific, node.note.take()) {
            (Some(g), Some(s), extra) => Some(join_notes(&[g, &s], extra)),
            (Some(g), None, extra) => Some(join_notes(&[g], extra)),
            (None, Some(s), extra) => Some(join_notes(&[&s], extra)),
            (None, None, extra) => extra,
        };
        node.note = note;
        sec.push(node);
    }
    if !credentials.is_empty() {
        findings.push(
            Finding::warning(format!(
                "credential in the JWT payload: {} (base64url is not encryption: anyone who sees \
                 this token reads it)",
                credentials.join(", ")
            ))
            .at("claims"),
        );
    }
    sec
}

fn join_notes(parts: &[&str], extra: Option<String>) -> String {
    let mut s = parts.join("; ");
    if let Some(e) = extra {
        s.push_str("; ");
        s.push_str(&e);
    }
    s
}

fn time_findings(name: &str, secs: i64, now: i64, cx: &Context<'_>, findings: &mut Vec<Finding>) {
    let when = util::format_epoch_relative(secs, cx.now);
    match name {
        "exp" if secs <= now => {
            findings.push(Finding::error(format!("expired: exp {when}")).at("claims/exp"))
        }
        "nbf" if secs > now => {
            findings.push(Finding::error(format!("not yet valid: nbf {when}")).at("claims/nbf"))
        }
        // Five minutes is the usual clock-skew allowance.
        "iat" if secs > now.saturating_add(300) => findings
            .push(Finding::warning(format!("issued in the future: iat {when}")).at("claims/iat")),
        _ => {}
    }
}

/// The `jwt` decoder: a body (or blob) that is a compact JWS/JWE, whatever the content type says
/// (PRT token responses are a bare JWE labelled `application/json`), or the JWT in a request's
/// `Authorization: Bearer` header.
#[derive(Debug, Clone, Copy)]
pub struct Jwt;

pub use util::looks_like_jwt;

fn bearer_token<'a>(msg: &Message<'a>) -> Option<&'a str> {
    let v = msg.header("authorization")?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| looks_like_jwt(t.as_bytes()))
}

fn is_token_endpoint(msg: &Message<'_>) -> bool {
    let p = msg.path().trim_end_matches('/').to_ascii_lowercase();
    p.ends_with("/oauth2/token") || p.ends_with("/oauth2/v2.0/token")
}

impl Decoder for Jwt {
    fn id(&self) -> &'static str {
        "jwt"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        let ct = msg.content_type();
        if looks_like_jwt(msg.body) {
            return if ct.as_deref() == Some("application/jwt") {
                0.95
            } else {
                0.9
            };
        }
        if ct.as_deref() == Some("application/jwt") {
            // Says it is a JWT but does not look like one: decode to report why.
            return 0.3;
        }
        if msg.is_request() && bearer_token(msg).is_some() {
            // Below protocol decoders of the body: the bearer token is secondary there.
            return 0.5;
        }
        0.0
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let body_text = std::str::from_utf8(msg.body.trim_ascii()).ok();
        let from_body =
            looks_like_jwt(msg.body) || msg.content_type().as_deref() == Some("application/jwt");
        if from_body {
            let text = body_text.ok_or(DecodeError::Utf8 { field: "body" })?;
            let token = parse_limited(text, &cx.limits)?;
            let mut d = explain(&token, cx);
            if msg.is_response() && is_token_endpoint(msg) && token.form == Form::Jwe {
                d.root.note = Some(
                    "encrypted token response (MS-OAPXBC): the plaintext is the usual token JSON \
                     (access_token, refresh_token, id_token); decrypting needs the session key \
                     and the header's ctx"
                        .to_string(),
                );
                d.summary = format!("encrypted token response: {}", d.summary);
                if let Some(ct) = msg.content_type().filter(|c| c.contains("json")) {
                    d.findings.push(Finding::info(format!(
                        "the content-type says {ct} but the body is a compact JWE, not JSON"
                    )));
                }
            }
            return Ok(d);
        }
        if msg.is_request()
            && let Some(t) = bearer_token(msg)
        {
            let token = parse_limited(t, &cx.limits)?;
            let mut d = explain(&token, cx);
            d.root.label = "Authorization: Bearer".to_string();
            d.root.note = Some("the token sent in the request's Authorization header".to_string());
            d.summary = format!("Bearer {}", d.summary);
            for f in &mut d.findings {
                f.at = Some(match f.at.take() {
                    Some(a) => format!("Authorization: Bearer/{a}"),
                    None => "Authorization: Bearer".to_string(),
                });
            }
            return Ok(d);
        }
        Err(DecodeError::not(
            "a JWT",
            "neither the body nor an Authorization: Bearer header holds one",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;
    use std::time::{Duration, UNIX_EPOCH};

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn tok(header: &str, payload: &str, sig: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), sig)
    }

    #[test]
    fn unsigned_token_ending_with_dot_parses() {
        let t = parse(&tok(
            r#"{"typ":"JWT","alg":"none"}"#,
            r#"{"ver":"1.0"}"#,
            "",
        ))
        .unwrap();
        assert_eq!(t.form, Form::Jws);
        assert!(t.is_unsigned());
        assert!(t.signature.is_empty());
    }

    #[test]
    fn padding_inside_segments_is_tolerated() {
        let h = base64::engine::general_purpose::URL_SAFE.encode(r#"{"alg":"none"}"#);
        let p = base64::engine::general_purpose::URL_SAFE.encode(r#"{"a":1}"#);
        assert!(h.ends_with('=') && p.ends_with('='));
        let t = parse(&format!("{h}.{p}.")).unwrap();
        assert_eq!(t.claim_str("a").as_deref(), Some("1"));
        assert_eq!(t.signing_input, format!("{h}.{p}"));
    }

    #[test]
    fn two_four_and_six_segments_are_refused() {
        for (n, why) in [
            (2, "2 dot-separated segments (a JWS has 3, a JWE 5)"),
            (4, "4 dot-separated segments (a JWS has 3, a JWE 5)"),
            (6, "6 dot-separated segments (a JWS has 3, a JWE 5)"),
        ] {
            let t = vec!["eyJhbGciOiJub25lIn0"; n].join(".");
            assert_eq!(
                parse(&t),
                Err(DecodeError::NotThisKind {
                    expected: "a JWT",
                    why: why.to_string()
                })
            );
        }
    }

    #[test]
    fn non_json_header_is_a_json_error_naming_the_header() {
        let t = format!("{}.{}.", b64("not json"), b64("{}"));
        assert_eq!(
            parse(&t),
            Err(DecodeError::Json {
                field: "JWT header",
                line: 1,
                column: 2,
                message: "expected ident at line 1 column 2".to_string()
            })
        );
        let t = format!("{}.{}.", b64("[1]"), b64("{}"));
        assert_eq!(
            parse(&t),
            Err(DecodeError::not("a JWT", "the header is not a JSON object"))
        );
    }

    #[test]
    fn bad_base64_and_bad_characters_are_named() {
        assert_eq!(
            parse("eyJhbGciOiJub25lIn0.e.x"),
            Err(DecodeError::Base64 {
                field: "JWT payload"
            })
        );
        assert_eq!(
            parse("eyJ.a b.c"),
            Err(DecodeError::not(
                "a JWT",
                "character ' ' at byte 5 is neither base64url nor '.'"
            ))
        );
        assert_eq!(parse("  "), Err(DecodeError::not("a JWT", "empty input")));
        assert_eq!(
            parse(&format!(".{}.", b64("{}"))),
            Err(DecodeError::Missing("JWT header"))
        );
    }

    #[test]
    fn huge_input_is_refused_before_any_work() {
        let big = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            parse(&big),
            Err(DecodeError::TooLarge {
                what: "JWT",
                limit: MAX_TOKEN_LEN
            })
        );
        let limits = Limits {
            max_body: 10,
            ..Limits::default()
        };
        assert_eq!(
            parse_limited("eyJhbGciOiJub25lIn0.e30.", &limits),
            Err(DecodeError::TooLarge {
                what: "JWT",
                limit: 10
            })
        );
    }

    #[test]
    fn five_segments_are_a_jwe_with_header_only() {
        let t = format!(
            "{}..{}.{}.{}",
            b64(r#"{"alg":"dir","enc":"A256GCM"}"#),
            URL_SAFE_NO_PAD.encode([0u8; 12]),
            URL_SAFE_NO_PAD.encode([1u8; 40]),
            URL_SAFE_NO_PAD.encode([2u8; 16])
        );
        let t = parse(&t).unwrap();
        assert_eq!(t.form, Form::Jwe);
        assert_eq!(t.claims, None);
        assert_eq!(
            t.jwe,
            Some(JweSegments {
                encrypted_key: 0,
                iv: 12,
                ciphertext: 40,
                tag: 16
            })
        );
    }

    /// RFC 2104 HMAC-SHA256 (keys up to one block), enough to forge the confusion token.
    fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&sha2::Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = sha2::Sha256::new();
        inner.update(k.map(|b| b ^ 0x36));
        inner.update(msg);
        let mut outer = sha2::Sha256::new();
        outer.update(k.map(|b| b ^ 0x5c));
        outer.update(inner.finalize());
        outer.finalize().to_vec()
    }

    /// The synthetic public RSA key of the golden tests, re-labelled `kid=k1`.
    fn rsa_trust() -> Trust {
        let doc: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/jwt/rs256_verified.keys.json"
        ))
        .unwrap();
        let mut jwk = doc["keys"][0].clone();
        jwk["kid"] = "k1".into();
        let mut trust = Trust::default();
        trust.add_jwks(&jwk, "unit test");
        trust
    }

    #[test]
    fn hs256_token_is_not_verified_with_an_rsa_jwk() {
        // The classic confusion: HMAC over the token keyed with the RSA public key's bytes.
        let h = b64(r#"{"alg":"HS256","kid":"k1"}"#);
        let p = b64(r#"{"sub":"x"}"#);
        let trust = rsa_trust();
        let n = trust.keys[0].jwk["n"].as_str().unwrap().to_string();
        let sig = hmac_sha256(n.as_bytes(), format!("{h}.{p}").as_bytes());
        let token = parse(&format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))).unwrap();
        match verify(&token, &trust) {
            Verdict::Failed {
                kid,
                source,
                reason,
            } => {
                assert_eq!(kid, "k1");
                assert_eq!(source, "unit test");
                assert!(reason.contains("alg=HS256"), "{reason}");
                assert!(reason.contains("RS256"), "{reason}");
                assert!(reason.contains("algorithm-confusion"), "{reason}");
            }
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn unknown_kid_and_unsigned_and_encrypted_verdicts() {
        let trust = rsa_trust();
        let t = parse(&tok(r#"{"alg":"RS256","kid":"other"}"#, "{}", "AAAA")).unwrap();
        assert_eq!(
            verify(&t, &trust),
            Verdict::NoKey {
                why: "no trusted key with kid=other".to_string()
            }
        );
        let t = parse(&tok(r#"{"alg":"none"}"#, "{}", "")).unwrap();
        assert_eq!(verify(&t, &trust), Verdict::Unsigned);
    }

    #[test]
    fn expired_jwt_is_flagged_against_context_time() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let t = parse(&tok(
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"exp":1699990000,"nbf":1700000600,"scp":"a"}"#,
            "AAAA",
        ))
        .unwrap();
        let d = explain(&t, &cx);
        let msgs: Vec<&str> = d.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("expired: exp 2023-11-14T19:26:40Z")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.starts_with("not yet valid")),
            "{msgs:?}"
        );
        assert!(msgs.contains(&"not verified: no trusted key with kid=k"));
    }

    #[test]
    fn key_urls_embedded_keys_and_empty_signatures_are_findings() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let t = parse(&tok(
            r#"{"alg":"RS256","jku":"https://evil.example/keys","jwk":{"kty":"RSA"}}"#,
            r#"{"scp":"x"}"#,
            "",
        ))
        .unwrap();
        let d = explain(&t, &cx);
        let msgs: Vec<&str> = d.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m
                .starts_with("header `jku` points to https://evil.example/keys: never fetched")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("embedded `jwk` proves nothing")),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(&"empty signature although alg=RS256: the token is not signed"),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("not verified: the token names no key")),
            "{msgs:?}"
        );
    }

    #[test]
    fn unsigned_id_token_is_a_warning_not_an_error() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let t = parse(&tok(r#"{"alg":"none"}"#, r#"{"aud":"a","upn":"u@x"}"#, "")).unwrap();
        assert_eq!(Role::guess(&t), Role::IdToken);
        assert_eq!(explain(&t, &cx).worst(), Some(crate::Severity::Warning));
        let t = parse(&tok(r#"{"alg":"none"}"#, r#"{"aud":"a","scp":"x"}"#, "")).unwrap();
        assert_eq!(explain(&t, &cx).worst(), Some(crate::Severity::Error));
    }

    #[test]
    fn sniffing_needs_the_jwt_shape() {
        assert!(looks_like_jwt(b" eyJhbGciOiJub25lIn0.e30.\n"));
        assert!(!looks_like_jwt(b"eyJhbGciOiJub25lIn0.e30"));
        assert!(!looks_like_jwt(b"{\"a\":1}"));
    }
}
