//! The view of a whole token ([`explain`], [`explain_as`], [`brief`]): the summary line, the
//! verification verdict, the signature node and the findings about the algorithm.
//!
//! It is *not* responsible for the header parameters (`header`) or the claims (`claims`); it puts
//! their sections together with the verdict of `verify`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::claims::{Role, explain_claims};
use super::header::{b64_findings, explain_header, explain_jwe_segments};
use super::parse::{Form, Payload, Token};
use super::verify::{Verdict, check};
use crate::secrets::REDACTED_NOTE;
use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::{Context, Decoded};

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
    if token.form == Form::Jws {
        findings.extend(b64_findings(&token.header, "header"));
    }
    let checked = check(token, cx.trust);
    let verdict = checked.verdict;
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
            if token.signature_redacted {
                root.push(Node::field("segments", "(redacted)").with_note(format!(
                    "the encrypted key, IV, ciphertext and tag were {REDACTED_NOTE}"
                )));
                summary = format!("JWE {alg}/{enc} (encrypted parts redacted; header only)");
            } else {
                if let Some(seg) = token.jwe {
                    root.push(explain_jwe_segments(&seg, token));
                }
                summary = format!(
                    "JWE {alg}/{enc} (encrypted, {} bytes; header only)",
                    token.len
                );
            }
        }
        Form::Jws if token.claims.is_none() => {
            let what = payload_brief(&token.payload);
            root.value = Some(format!("JWS {alg} ({what})"));
            root.push(header);
            root.push(payload_node(&token.payload, &mut findings));
            root.push(signature_node(token));
            findings.extend(alg_findings(token, role));
            summary = format!("JWS {alg} {what}, {}", verdict_word(token, &verdict));
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
    findings.extend(checked.policy.into_iter().map(|f| f.at("verification")));
    if let Some(f) = verdict.finding() {
        findings.push(f.at("verification"));
    }
    let mut d = Decoded::new("jwt", summary, root);
    d.findings = findings;
    d
}

/// A few words on a payload that is not claims: `text, 27 bytes`, `detached payload`.
pub(crate) fn payload_brief(payload: &Payload) -> String {
    match payload {
        Payload::Claims => "claims".to_string(),
        Payload::Text(t) => format!("text payload, {} bytes", t.len()),
        Payload::Bytes(b) => format!("binary payload, {} bytes", b.len()),
        Payload::Detached => "detached payload".to_string(),
        Payload::Encrypted => "encrypted payload".to_string(),
    }
}

/// Longest text payload shown whole; longer ones are cut (the bytes are in the message).
const MAX_TEXT_SHOWN: usize = 4096;
/// Bytes of a binary payload shown in the hex preview.
const HEX_PREVIEW: usize = 64;

/// The view of a payload that is not a JSON object: text as text, bytes as a hex preview, a
/// detached payload as what it is.
pub(crate) fn payload_node(payload: &Payload, findings: &mut Vec<Finding>) -> Node {
    match payload {
        Payload::Text(t) => {
            let mut note = format!(
                "{} bytes of UTF-8 text, not a JSON object: not a JWT",
                t.len()
            );
            if t.trim_start().starts_with('{') {
                let why = match serde_json::from_str::<Value>(t) {
                    Err(e) => format!("is invalid JSON at line {} column {}", e.line(), e.column()),
                    Ok(_) => "is not an object".to_string(),
                };
                note = format!("{note}; it starts like a JSON object but {why}");
                findings.push(
                    Finding::warning(format!(
                        "the payload starts like JSON claims but {why}: shown as text"
                    ))
                    .at("payload"),
                );
            }
            Node::text("payload", util::clip(t, MAX_TEXT_SHOWN)).with_note(note)
        }
        Payload::Bytes(b) => {
            let shown = b.get(..HEX_PREVIEW).unwrap_or(b);
            let more = if b.len() > HEX_PREVIEW { " …" } else { "" };
            Node::field("payload", format!("{}{more}", util::hex_lower(shown))).with_note(format!(
                "{} bytes, not UTF-8: shown as hex{}",
                b.len(),
                if more.is_empty() {
                    String::new()
                } else {
                    format!(" (the first {HEX_PREVIEW})")
                }
            ))
        }
        Payload::Detached => Node::field("payload", "(detached)").with_note(
            "RFC 7515 appendix F: the payload is not in the message; the signature covers content \
             sent elsewhere, so it cannot be checked here",
        ),
        Payload::Claims | Payload::Encrypted => Node::field("payload", payload_brief(payload)),
    }
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

pub(crate) fn verdict_node(verdict: &Verdict) -> Node {
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
        Verdict::NotChecked { why } => (format!("not checked: {why}"), Kind::Field),
        Verdict::Invalid { why } => (format!("INVALID: {why}"), Kind::Error),
        Verdict::AlgorithmConfusion {
            kid,
            source,
            alg,
            kty,
        } => (
            format!(
                "refused: alg={alg} with kid={kid} from {source}, an {kty} key (algorithm \
                 confusion); nothing was verified"
            ),
            Kind::Error,
        ),
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
             issuer); the token's alg must be one the key is for (its type and curve, its JWK \
             alg), so a token cannot choose how a key is used"
        }
    };
    Node::leaf("verification", value, kind).with_note(note)
}

pub(crate) fn signature_node(token: &Token) -> Node {
    if token.signature.is_empty() {
        return Node::field("signature", "(empty)")
            .with_note("the token ends with '.': there is no signature, nothing protects it");
    }
    let text = URL_SAFE_NO_PAD.encode(&token.signature);
    if token.signature_redacted
        && let Some(n) = crate::secrets::redacted_node("signature", &text)
    {
        return n;
    }
    Node::secret("signature", text).with_note(format!("{} bytes", token.signature.len()))
}

pub(crate) fn alg_findings(token: &Token, role: Role) -> Vec<Finding> {
    let mut out = Vec::new();
    // No `alg` at all is the verdict's to report (an invalid JWS).
    let Some(alg) = token.alg() else {
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
    if !token.is_unsigned() && token.signature.is_empty() && !token.signature_redacted {
        out.push(
            Finding::error(format!(
                "empty signature although alg={alg}: the token is not signed"
            ))
            .at("signature"),
        );
    }
    out
}
