//! JSON Web Tokens and the rest of JOSE: compact JWS (3 segments, including the unsigned form that
//! ends with `.` and the detached form with an empty middle), compact JWE (5 segments, header
//! only), and the JSON serializations of both, general and flattened ([`parse_json`]). This module
//! splits and decodes a token ([`parse`]), explains its header and claims the way an Entra ID
//! engineer reads them ([`explain`], [`explain_json`]), checks each signature against keys the
//! user trusts ([`verify`]), and opens JWEs with the user's decryption keys ([`open`],
//! [`annotate`]). A payload need not be JSON: text and bytes are shown as such, and
//! `b64: false` (RFC 7797) is understood. The [`Jwt`] decoder is a thin adapter that finds a token
//! in a body (compact, or a JOSE JSON document) or in an `Authorization: Bearer` header.
//!
//! It is *not* responsible for finding tokens inside other formats (the `oauth` decoder calls
//! [`parse`]/[`explain`] on form and JSON fields), or for fetching keys: `jku` and `x5u` are shown and never fetched, and embedded
//! `jwk`/`x5c` keys are shown and never trusted.
//! Times are judged against [`Context::now`], never the real clock. Verification checks the
//! signature only; expiry, audience and issuer are findings of [`explain`], not reasons to refuse.

use crate::util;
use crate::view::Finding;
use crate::{Context, DecodeError, Decoded, Message};

mod cert_key;
mod claims;
mod decrypt;
mod explain;
mod header;
mod json;
mod json_view;
mod jwe;
mod jwe_crypto;
mod keys;
mod parse;
mod verify;

pub use cert_key::x5c_leaf;
pub use claims::{Role, scope_node, well_known_app};
pub use decrypt::{DecryptError, Decryption, Opened, annotate, decrypt, open};
pub use explain::{brief, explain, explain_as, verdict_word};
pub use json::{
    Jose, JwsJson, MAX_JOSE_JSON_LEN, MAX_MEMBERS, Serialization, looks_like_jose_json, parse_json,
};
pub use json_view::explain_json;
pub use jwe::{Jwe, Recipient};
pub use jwe_crypto::{Enc, MAX_PBES2_ITERATIONS};
pub(crate) use jwe_crypto::{cbc_decrypt, unwrap_cek};
pub(crate) use parse::ordered;
pub use parse::{
    Form, JweSegments, Payload, REDACTED_SIGNATURE_PREFIX, Token, parse, parse_limited,
};
pub use util::MAX_TOKEN_LEN;
pub use verify::{Verdict, verify};

decoder! {
    /// The `jwt` decoder: a body (or blob) that is a compact JWS/JWE, whatever the content type says
    /// (PRT token responses are a bare JWE labelled `application/json`), a JOSE JSON
    /// serialization (a JSON object with the members of a JWS or JWE, claimed above the generic
    /// JSON view), or the JWT in a request's `Authorization: Bearer` header.
    pub struct Jwt: "jwt";
}

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

/// A compact JWS whose payload is sent unencoded (RFC 7797 `b64: false`), which may hold any
/// character but `.` and so fails [`looks_like_jwt`]: base64url header and signature segments,
/// and a header (decoded, it is small) that says `b64: false`.
fn looks_like_unencoded_jws(body: &[u8]) -> bool {
    let b = body.trim_ascii();
    if !b.starts_with(b"eyJ")
        || b.len() > MAX_TOKEN_LEN
        || memchr::memchr_iter(b'.', b).count() != 2
    {
        return false;
    }
    let b64url = |s: &[u8]| {
        s.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'='))
    };
    let mut parts = b.split(|c| *c == b'.');
    let (Some(h), Some(_), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if h.len() > 4096 || !b64url(h) || !b64url(sig) {
        return false;
    }
    std::str::from_utf8(h)
        .ok()
        .and_then(|h| util::b64_decode_any(h, 4096))
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .is_some_and(|header| parse::unencoded(&header))
}

/// `application/jwt`, or `application/jose` (the compact serialization, RFC 7515 §9.2.1).
fn says_compact(msg: &Message<'_>) -> bool {
    matches!(
        msg.content_type().as_deref(),
        Some("application/jwt" | "application/jose")
    )
}

/// `application/jose+json`: a JSON serialization (RFC 7515 §9.2.2).
fn says_json(msg: &Message<'_>) -> bool {
    msg.content_type().as_deref() == Some("application/jose+json")
}

fn priority(msg: &Message<'_>) -> f32 {
    if looks_like_jwt(msg.body) || looks_like_unencoded_jws(msg.body) {
        return if says_compact(msg) { 0.95 } else { 0.9 };
    }
    if looks_like_jose_json(msg.body) {
        // Above the generic JSON view (0.3), below the protocol decoders of JSON bodies.
        return if says_json(msg) { 0.95 } else { 0.85 };
    }
    if says_compact(msg) || says_json(msg) {
        // Says it is JOSE but does not look like it: decode to report why.
        return 0.3;
    }
    if msg.is_request() && bearer_token(msg).is_some() {
        // Below protocol decoders of the body: the bearer token is secondary there.
        return 0.5;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let body_text = std::str::from_utf8(msg.body.trim_ascii()).ok();
    let compact = looks_like_jwt(msg.body) || looks_like_unencoded_jws(msg.body);
    if compact || (says_compact(msg) && !looks_like_jose_json(msg.body)) {
        let text = body_text.ok_or(DecodeError::Utf8 { field: "body" })?;
        let token = parse_limited(text, &cx.limits)?;
        let mut d = explain(&token, cx);
        // A JWE with `ctx` is encrypted with a key derived from a PRT session key: the `prt`
        // decoder derives it and opens it.
        if token.form == Form::Jwe
            && !token.signature_redacted
            && !cx.trust.decryption.is_empty()
            && token.header.get("ctx").is_none()
            && let Ok(jwe) = Jwe::from_compact(text, &cx.limits)
        {
            annotate(&mut d, &jwe, cx);
        }
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
    if looks_like_jose_json(msg.body) || says_json(msg) {
        let text = body_text.ok_or(DecodeError::Utf8 { field: "body" })?;
        return Ok(explain_json(&parse_json(text, &cx.limits)?, cx));
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::Value;

    use crate::{Limits, Trust};
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

    /// HMAC-SHA256 of `msg` under `key`, to forge the confusion token.
    fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        aws_lc_rs::hmac::sign(&key, msg).as_ref().to_vec()
    }

    /// The synthetic public RSA key of the golden tests, re-labelled `kid=k1`.
    fn rsa_trust() -> Trust {
        let doc: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/jwt/rs256_verified.keys.json"
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
        assert_eq!(
            verify(&token, &trust),
            Verdict::AlgorithmConfusion {
                kid: "k1".to_string(),
                source: "unit test".to_string(),
                alg: "HS256".to_string(),
                kty: "RSA".to_string(),
            }
        );
        // Named by no kid, the RSA key is not tried either: no trusted key is for HS256.
        let h = b64(r#"{"alg":"HS256"}"#);
        let sig = hmac_sha256(n.as_bytes(), format!("{h}.{p}").as_bytes());
        let token = parse(&format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))).unwrap();
        assert_eq!(
            verify(&token, &trust),
            Verdict::NoKey {
                why: "the token names no key (no kid or x5t) and none of the 1 trusted keys is \
                      for HS256 (HMAC needs a shared secret the user supplies, a JWK with kty oct)"
                    .to_string()
            }
        );
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
    fn a_token_issued_seconds_after_the_capture_time_is_valid() {
        // The token response comes a second or two after the request started (the capture
        // time), with nbf = iat = its own now: within the clock-skew allowance.
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let t = parse(&tok(
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"iat":1700000002,"nbf":1700000002,"exp":1700003602}"#,
            "AAAA",
        ))
        .unwrap();
        let d = explain(&t, &cx);
        assert!(
            !d.findings
                .iter()
                .any(|f| f.message.starts_with("not yet valid")
                    || f.message.starts_with("issued in the future")),
            "{:?}",
            d.findings
        );
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
    fn payloads_that_are_not_json_objects_are_text_or_bytes() {
        let h = b64(r#"{"alg":"HS256"}"#);
        let t = parse(&format!("{h}.{}.AAAA", b64("It’s a dangerous business"))).unwrap();
        assert_eq!(
            t.payload,
            Payload::Text("It’s a dangerous business".to_string())
        );
        assert_eq!(t.claims, None);
        let t = parse(&format!("{h}.{}.AAAA", b64("[1,2]"))).unwrap();
        assert_eq!(t.payload, Payload::Text("[1,2]".to_string()));
        let t = parse(&format!("{h}.{}.AAAA", b64(r#"{"a":"#))).unwrap();
        assert_eq!(t.payload, Payload::Text(r#"{"a":"#.to_string()));
        let trust = Trust::default();
        let d = explain(&t, &Context::new(UNIX_EPOCH, &trust));
        assert!(
            d.has_finding(
                "the payload starts like JSON claims but is invalid JSON at line 1 column 5: \
                 shown as text"
            ),
            "{:?}",
            d.findings
        );
        assert_eq!(d.summary, "JWS HS256 text payload, 5 bytes, unverified");
        let t = parse(&format!(
            "{h}.{}.AAAA",
            URL_SAFE_NO_PAD.encode([0xff, 0, 1])
        ))
        .unwrap();
        assert_eq!(t.payload, Payload::Bytes(vec![0xff, 0, 1]));
        let t = parse(&format!("{h}.{}.AAAA", b64(r#"{"a":1}"#))).unwrap();
        assert_eq!(t.payload, Payload::Claims);
        // Still refused beyond the depth limit.
        let deep = format!("{}{}", "{\"a\":".repeat(80), "}".repeat(80));
        assert!(matches!(
            parse(&format!("{h}.{}.AAAA", b64(&deep))),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn an_empty_payload_part_is_a_detached_payload_that_is_not_checked() {
        let mut trust = Trust::default();
        trust.add_jwks(&serde_json::json!({"kty":"oct","k":"AAAA"}), "unit test");
        let t = parse(&format!("{}..AAAA", b64(r#"{"alg":"HS256"}"#))).unwrap();
        assert_eq!(t.payload, Payload::Detached);
        assert_eq!(
            verify(&t, &trust),
            Verdict::NotChecked {
                why: "detached payload, the content is not in the message (give it with --payload FILE)"
                    .to_string()
            }
        );
    }

    #[test]
    fn b64_false_signs_the_raw_payload_and_unknown_crit_is_invalid() {
        // RFC 7797 §4.2's key and its compact-compatible variant from the RFC 7520 cookbook.
        let mut trust = Trust::default();
        trust.add_jwks(
            &serde_json::json!({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}),
            "rfc7797",
        );
        let compact = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.This is the \
                       payload string!.ciks0B6Hs-amhOqxI5_iG6mPKnMDlWCb7J2Wu7mtIcg";
        let t = parse(compact).unwrap();
        assert!(t.unencoded_payload());
        assert_eq!(
            t.payload,
            Payload::Text("This is the payload string!".to_string())
        );
        assert!(matches!(verify(&t, &trust), Verdict::Verified { .. }));
        // The same characters without b64: false are not a JWT.
        let plain = compact.replace(
            "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19",
            &b64(r#"{"alg":"HS256"}"#),
        );
        assert!(parse(&plain).is_err());
        // An extension idscope does not know makes the JWS invalid, whatever its bytes.
        let h = b64(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#);
        let t = parse(&format!("{h}.{}.AAAA", b64("x"))).unwrap();
        assert_eq!(
            verify(&t, &trust),
            Verdict::Invalid {
                why: "crit names `exp`, which idscope does not understand: RFC 7515 §4.1.11 \
                      makes the JWS invalid"
                    .to_string()
            }
        );
        let h = b64(r#"{"alg":"HS256","crit":[]}"#);
        let t = parse(&format!("{h}.{}.AAAA", b64("x"))).unwrap();
        assert!(matches!(verify(&t, &trust), Verdict::Invalid { .. }));
    }

    #[test]
    fn a_tampered_payload_does_not_verify_and_says_so() {
        let mut trust = Trust::default();
        trust.add_jwks(&serde_json::json!({"kty":"oct","kid":"s","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}), "unit test");
        let h = b64(r#"{"alg":"HS256","kid":"s"}"#);
        let p = b64(r#"{"sub":"alice"}"#);
        let key = b"secret-secret-secret-secret-secret";
        let sig = URL_SAFE_NO_PAD.encode(hmac_sha256(key, format!("{h}.{p}").as_bytes()));
        let good = parse(&format!("{h}.{p}.{sig}")).unwrap();
        assert!(matches!(verify(&good, &trust), Verdict::Verified { .. }));
        let bad = parse(&format!("{h}.{}.{sig}", b64(r#"{"sub":"mallory"}"#))).unwrap();
        match verify(&bad, &trust) {
            Verdict::Failed { reason, .. } => assert_eq!(
                reason,
                "HS256 signature mismatch: the token was changed after signing or signed by \
                 another key"
            ),
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn the_jose_media_types_choose_the_serialization_the_body_has() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let compact = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        let json = format!(
            r#"{{"payload":"e30","protected":"{}","signature":""}}"#,
            b64(r#"{"alg":"none"}"#)
        );
        for (ct, body, root) in [
            ("application/jose", compact.as_str(), "JWS none token"),
            ("application/jose+json", compact.as_str(), "JWS none token"),
            (
                "application/jose+json",
                json.as_str(),
                "JWS JSON (flattened), 1 signature",
            ),
            (
                "application/jwt",
                json.as_str(),
                "JWS JSON (flattened), 1 signature",
            ),
        ] {
            let msg = Message::response(
                "GET",
                "https://a.example/",
                200,
                vec![("content-type", ct)],
                body.as_bytes(),
            );
            assert!(priority(&msg) >= 0.85, "{ct}");
            let d = decode(&msg, &cx).unwrap();
            assert_eq!(d.root.value.as_deref(), Some(root), "{ct}");
        }
        let msg = Message::response(
            "GET",
            "https://a.example/",
            200,
            vec![("content-type", "application/jose+json")],
            b"{}",
        );
        assert_eq!(priority(&msg), 0.3);
        assert!(decode(&msg, &cx).is_err());
    }

    #[test]
    fn sniffing_needs_the_jwt_shape() {
        assert!(looks_like_jwt(b" eyJhbGciOiJub25lIn0.e30.\n"));
        assert!(!looks_like_jwt(b"eyJhbGciOiJub25lIn0.e30"));
        assert!(!looks_like_jwt(b"{\"a\":1}"));
    }

    /// Tokens in a shareable copy made by `idscope redact`: a JWS whose signature is
    /// `REDACTED-SIG-…`, a JWS JSON serialization whose `signature` members are placeholders, and
    /// a JWE reduced to its header. Each says it was redacted; none is "empty signature", "not
    /// base64url" or a tag that does not verify, even with a key at hand.
    #[test]
    fn redacted_tokens_are_not_checked_and_say_why() {
        use crate::Decoder as _;
        use crate::secrets::{REDACTED_NOTE, placeholder, redacted_jwe, redacted_jws_signature};
        let mut trust = Trust::default();
        trust
            .decryption
            .add_file(&[b'a'; 64], "--key k.hex", None)
            .unwrap();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let no_problem = |d: &Decoded| {
            let bad: Vec<_> = d
                .findings
                .iter()
                .filter(|f| f.severity >= crate::Severity::Warning)
                .collect();
            assert!(bad.is_empty(), "{}: {bad:?}", d.summary);
        };

        let jws = tok(
            r#"{"alg":"RS256","kid":"k1"}"#,
            r#"{"aud":"x"}"#,
            &redacted_jws_signature("0123456789a"),
        );
        let t = parse(&jws).unwrap();
        assert!(t.signature_redacted);
        assert_eq!(verify(&t, &trust), Verdict::Redacted);
        let d = explain(&t, &cx);
        no_problem(&d);
        let sig = d.root.child("signature").unwrap();
        assert!(sig.note.as_deref().unwrap().starts_with(REDACTED_NOTE));

        let json = format!(
            r#"{{"payload":"{}","signatures":[{{"protected":"{}","signature":"{}"}}]}}"#,
            b64(r#"{"a":1}"#),
            b64(r#"{"alg":"ES256"}"#),
            placeholder("signature", 86, "0123abcd")
        );
        let d = Jwt.decode(&Message::blob(json.as_bytes()), &cx).unwrap();
        no_problem(&d);
        assert!(
            d.has_finding("not verified: the signature was removed by idscope redact"),
            "{:?}",
            d.findings
        );

        let jwe = redacted_jwe(&b64(r#"{"alg":"dir","enc":"A256GCM"}"#), "0123456789a");
        let t = parse(&jwe).unwrap();
        assert!(t.signature_redacted);
        let d = Jwt.decode(&Message::blob(jwe.as_bytes()), &cx).unwrap();
        no_problem(&d);
        assert!(
            d.summary.contains("encrypted parts redacted"),
            "{}",
            d.summary
        );
        assert!(
            d.has_finding("not checked: the encrypted key, IV, ciphertext and tag were removed"),
            "{:?}",
            d.findings
        );
    }

    proptest::proptest! {
        #[test]
        fn any_compact_text_parses_or_says_why(
            payload in "[ -~]{0,40}",
            header in proptest::sample::select(vec![
                r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
                r#"{"alg":"HS256","b64":false}"#,
                r#"{"alg":"none"}"#,
                r#"{"alg":"EdDSA","crit":["x"]}"#,
            ]),
            sig in "[A-Za-z0-9_.-]{0,12}",
        ) {
            let text = format!("{}.{payload}.{sig}", b64(header));
            let trust = Trust::default();
            let cx = Context::new(UNIX_EPOCH, &trust);
            let _ = looks_like_unencoded_jws(text.as_bytes());
            if let Ok(t) = parse(&text) {
                let d = explain(&t, &cx);
                proptest::prop_assert_eq!(d.decoder, "jwt");
            }
        }
    }
}
