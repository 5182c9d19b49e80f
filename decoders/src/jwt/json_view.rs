//! The view of a JOSE JSON serialization ([`explain_json`]): for a JWS, the payload once and then
//! every signature with its protected and unprotected header, its bytes and its own verdict; for
//! a JWE, its headers, every recipient with its header and wrapped key, the sizes of the
//! encrypted parts, and "not verified: encrypted".
//!
//! It is *not* responsible for reading the document (`json`) or for the verdicts (`verify`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::claims::{Role, explain_claims};
use super::explain::{alg_findings, payload_brief, payload_node, verdict_node, verdict_word};
use super::header::{b64_findings, explain_params};
use super::json::{Jose, JwsJson};
use super::jwe::Jwe;
use super::parse::{Form, Token};
use super::verify::{Verdict, check};
use crate::util;
use crate::view::{Finding, Node};
use crate::{Context, Decoded};

/// Explains a JWS or JWE read from its JSON serialization, verifying every JWS signature against
/// `cx.trust`.
pub fn explain_json(jose: &Jose, cx: &Context<'_>) -> Decoded {
    match jose {
        Jose::Jws(j) => explain_jws(j, cx),
        Jose::Jwe(j) => {
            let mut d = explain_jwe(j, cx);
            super::decrypt::annotate(&mut d, j, cx);
            d
        }
    }
}

/// `finding` moved under `at` (a signature's or recipient's path); a path into the token's
/// header loses its `header/` (the parameter may be in either header of a JSON signature).
fn rebase(mut finding: Finding, at: &str) -> Finding {
    finding.at = Some(match finding.at.take() {
        Some(a) => format!("{at}/{}", a.strip_prefix("header/").unwrap_or(&a)),
        None => at.to_string(),
    });
    finding
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_none_or(|m| m.is_empty())
}

fn explain_jws(j: &JwsJson, cx: &Context<'_>) -> Decoded {
    let mut findings = Vec::new();
    let n = j.signatures.len();
    let mut root = Node::section("jwt");
    root.value = Some(format!(
        "JWS JSON ({}), {n} signature{}",
        j.serialization.as_str(),
        if n == 1 { "" } else { "s" }
    ));
    root.note = Some(
        "RFC 7515 §7.2 JSON serialization: one payload and its signatures; each signature covers \
         its protected header and the payload, not its unprotected header"
            .to_string(),
    );
    let first = j.signatures.first();
    let role = first.map_or(Role::Unknown, Role::guess);
    let what = match first {
        Some(t) if t.claims.is_some() => {
            root.push(explain_claims(t, cx, role, &mut findings));
            role.as_str().to_string()
        }
        Some(t) => {
            root.push(payload_node(&t.payload, &mut findings));
            payload_brief(&t.payload)
        }
        None => "no signatures".to_string(),
    };
    let mut sigs = Node::section("signatures");
    let mut algs = Vec::new();
    let mut words = Vec::new();
    for (i, t) in j.signatures.iter().enumerate() {
        let at = format!("signatures/[{i}]");
        let checked = check(t, cx.trust);
        let alg = t.alg().unwrap_or("(no alg)");
        let kid = t
            .header_str("kid")
            .map(|k| format!(" kid={k}"))
            .unwrap_or_default();
        let word = verdict_word(t, &checked.verdict);
        let mut node = Node::section(format!("[{i}]"));
        node.value = Some(format!("{alg}{kid}: {word}"));
        node.push(protected_node(t, &at, cx, &mut findings));
        if let Some(u) = &t.unprotected {
            node.push(
                explain_params(
                    "header",
                    &format!("{at}/header"),
                    u,
                    Form::Jws,
                    cx,
                    &mut findings,
                )
                .with_note(
                    "unprotected header: not covered by the signature, anyone on the way \
                         could change it",
                ),
            );
        }
        node.push(signature_node(t));
        node.push(verdict_node(&checked.verdict));
        findings.extend(b64_findings(&t.header, &format!("{at}/protected")));
        findings.extend(alg_findings(t, role).into_iter().map(|f| rebase(f, &at)));
        let verification = format!("{at}/verification");
        findings.extend(checked.policy.into_iter().map(|f| f.at(&verification)));
        if let Some(f) = checked.verdict.finding() {
            findings.push(f.at(&verification));
        }
        sigs.push(node);
        algs.push(alg);
        words.push(word);
    }
    root.push(sigs);
    let summary = format!(
        "JWS JSON {} {} {what}: {}",
        j.serialization.as_str(),
        algs.join("+"),
        words.join(", ")
    );
    let mut d = Decoded::new("jwt", summary, root);
    d.findings = findings;
    d
}

fn protected_node(t: &Token, at: &str, cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    if is_empty_object(&t.header) {
        return Node::field("protected", "(none)").with_note(
            "no protected header: the signature covers the payload only, so its alg and kid are \
             not protected",
        );
    }
    explain_params(
        "protected",
        &format!("{at}/protected"),
        &t.header,
        Form::Jws,
        cx,
        findings,
    )
    .with_note("protected header: covered by the signature")
}

fn signature_node(t: &Token) -> Node {
    if t.signature_redacted {
        return Node::field("signature", "(redacted)")
            .with_note("removed by idscope redact: a shareable copy");
    }
    if t.signature.is_empty() {
        return Node::field("signature", "(empty)")
            .with_note("the `signature` member is empty: nothing protects the payload");
    }
    Node::secret("signature", URL_SAFE_NO_PAD.encode(&t.signature))
        .with_note(format!("{} bytes", t.signature.len()))
}

fn bytes_node(label: &str, n: usize, note: &str) -> Node {
    Node::field(label, format!("{n} bytes")).with_note(note)
}

fn explain_jwe(j: &Jwe, cx: &Context<'_>) -> Decoded {
    let mut findings = Vec::new();
    let n = j.recipients.len();
    let enc = j.param_str(0, "enc").unwrap_or("?");
    let mut root = Node::section("jwt");
    root.value = Some(format!(
        "JWE JSON ({}) {enc}, {n} recipient{}",
        j.serialization.as_str(),
        if n == 1 { "" } else { "s" }
    ));
    root.note = Some(
        "RFC 7516 §7.2 JSON serialization: the content is encrypted once under a content key, \
         which each recipient gets wrapped for them; only the headers are readable without a \
         recipient's key"
            .to_string(),
    );
    if is_empty_object(&j.protected) {
        root.push(
            Node::field("protected", "(none)")
                .with_note("no protected header: no header parameter is authenticated"),
        );
    } else {
        root.push(
            explain_params(
                "protected",
                "protected",
                &j.protected,
                Form::Jwe,
                cx,
                &mut findings,
            )
            .with_note("protected header: authenticated with the ciphertext"),
        );
    }
    if let Some(u) = &j.unprotected {
        root.push(
            explain_params(
                "unprotected",
                "unprotected",
                u,
                Form::Jwe,
                cx,
                &mut findings,
            )
            .with_note("shared unprotected header: applies to every recipient, not authenticated"),
        );
        if u.get("zip").is_some() {
            findings.push(
                Finding::error("`zip` must be in the protected header (RFC 7516 §4.1.3)")
                    .at("unprotected/zip"),
            );
        }
    }
    let mut recipients = Node::section("recipients");
    let mut algs = Vec::new();
    for (i, r) in j.recipients.iter().enumerate() {
        let at = format!("recipients/[{i}]");
        let alg = j.param_str(i, "alg");
        let kid = j
            .param_str(i, "kid")
            .map(|k| format!(" kid={k}"))
            .unwrap_or_default();
        let mut node = Node::section(format!("[{i}]"));
        node.value = Some(format!("{}{kid}", alg.unwrap_or("(no alg)")));
        if let Some(h) = &r.header {
            node.push(
                explain_params(
                    "header",
                    &format!("{at}/header"),
                    h,
                    Form::Jwe,
                    cx,
                    &mut findings,
                )
                .with_note("this recipient's unprotected header"),
            );
        }
        node.push(bytes_node(
            "encrypted_key",
            r.encrypted_key.len(),
            if r.encrypted_key.is_empty() {
                "empty: alg dir or ECDH-ES, the content key is not wrapped"
            } else {
                "the content key wrapped for this recipient"
            },
        ));
        if alg.is_none() {
            findings.push(
                Finding::error("this recipient's headers name no `alg` (RFC 7516 §4.1.1)").at(&at),
            );
        }
        recipients.push(node);
        algs.push(alg.unwrap_or("(no alg)"));
    }
    root.push(recipients);
    if j.param_str(0, "enc").is_none() {
        findings.push(Finding::error("no `enc` in the headers (RFC 7516 §4.1.2)").at("protected"));
    }
    for name in j.overlapping_params() {
        findings.push(
            Finding::error(format!(
                "header parameter `{name}` is in more than one JWE header (RFC 7516 §7.2.1 \
                 requires them to be disjoint)"
            ))
            .at("recipients"),
        );
    }
    let mut segments = Node::section("segments").with_children([
        bytes_node("iv", j.iv.len(), "initialization vector"),
        bytes_node(
            "ciphertext",
            j.ciphertext.len(),
            "the encrypted payload: not readable without the key",
        ),
        bytes_node("tag", j.tag.len(), "authentication tag"),
    ]);
    if let Some(aad) = &j.aad {
        let text = util::b64_decode_any(aad, util::MAX_TOKEN_LEN)
            .and_then(|b| String::from_utf8(b).ok())
            .map(|t| util::clip(&t, 200))
            .unwrap_or_default();
        segments.push(Node::field("aad", text).with_note(
            "additional authenticated data: authenticated with the ciphertext, not encrypted",
        ));
    }
    root.push(segments);
    let verdict = Verdict::Encrypted;
    root.push(verdict_node(&verdict));
    if let Some(f) = verdict.finding() {
        findings.push(f.at("verification"));
    }
    let summary = format!(
        "JWE JSON {} {enc} for {n} recipient{} ({}) (encrypted, {} bytes; headers only)",
        j.serialization.as_str(),
        if n == 1 { "" } else { "s" },
        algs.join(", "),
        j.len
    );
    let mut d = Decoded::new("jwt", summary, root);
    d.findings = findings;
    d
}
