//! JOSE interop: the published vectors of RFC 7515 (appendix A, compact and JSON), RFC 7520 §4
//! and §5 (the JOSE cookbook), RFC 7797 (`b64: false`), RFC 8037 (EdDSA), real Azure AD id_tokens
//! with their JWKS, PRT cookies made with roadlib, and compact tokens for the remaining algorithms
//! signed by Python's `cryptography` (`tests/support/make_jose.py`). Each asserts the verdict the
//! source asserts; `tests/data/jose/MANIFEST.tsv` says where every file comes from.

// Helpers outside `#[test]` functions panic on broken vectors on purpose, like the tests do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idscope_decoders::jwt::{self, Jose, Payload, Verdict};
use idscope_decoders::{Context, Decoded, Limits, Message, Registry, Severity, Trust};
use serde_json::{Value, json};

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/jose/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn doc(name: &str) -> Value {
    serde_json::from_str(&data(name)).unwrap()
}

/// Trust holding a JWKS, a single JWK, or an array of JWKs, as `source`.
fn trust(keys: &Value, source: &str) -> Trust {
    let mut t = Trust::default();
    match keys {
        Value::Array(a) => a.iter().for_each(|k| {
            t.add_jwks(k, source);
        }),
        k => {
            t.add_jwks(k, source);
        }
    }
    assert!(!t.keys.is_empty(), "no keys in {source}");
    t
}

/// A JWK with a `kid` added.
fn with_kid(mut jwk: Value, kid: &str) -> Value {
    jwk["kid"] = kid.into();
    jwk
}

fn verdict(token: &str, trust: &Trust) -> Verdict {
    jwt::verify(&jwt::parse(token.trim()).unwrap(), trust)
}

fn verified(v: &Verdict) -> bool {
    matches!(v, Verdict::Verified { .. })
}

/// Decodes a body with the builtin registry, as the proxy would, and returns the best decode.
fn decode(body: &str, trust: &Trust) -> Decoded {
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust);
    Registry::builtin()
        .best(&Message::blob(body.as_bytes()), &cx)
        .unwrap()
}

/// The verdict values of every signature of a decoded JOSE JSON document, in order.
fn signature_verdicts(d: &Decoded) -> Vec<String> {
    d.root
        .child("signatures")
        .unwrap()
        .children
        .iter()
        .map(|s| s.child("verification").unwrap().value.clone().unwrap())
        .collect()
}

/// Every serialization a cookbook example gives (`compact`, `json`, `json_flat`), as text.
fn outputs(example: &Value) -> Vec<(String, String)> {
    example["output"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(form, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (form.clone(), text)
        })
        .collect()
}

/// The verdicts of one serialization: the compact token's, or every JSON signature's.
fn verdicts(text: &str, trust: &Trust) -> Vec<Verdict> {
    if text.starts_with('{') {
        match jwt::parse_json(text, &Limits::default()).unwrap() {
            Jose::Jws(j) => j.signatures.iter().map(|t| jwt::verify(t, trust)).collect(),
            Jose::Jwe(_) => panic!("a JWS"),
        }
    } else {
        vec![verdict(text, trust)]
    }
}

#[test]
fn rfc7515_a1_to_a4_verify_with_their_keys_and_not_with_the_others() {
    let cases = [
        ("a1", "HS256"),
        ("a2", "RS256"),
        ("a3", "ES256"),
        ("a4", "ES512"),
    ];
    for (case, alg) in cases {
        let token = data(&format!("rfc7515/rfc7515-{case}.jws"));
        let key = doc(&format!("rfc7515/rfc7515-{case}.jwk.json"));
        let t = jwt::parse(token.trim()).unwrap();
        assert_eq!(t.alg(), Some(alg));
        let v = jwt::verify(&t, &trust(&key, case));
        assert!(verified(&v), "{case}: {v:?}");
        for (other, _) in cases.iter().filter(|(o, _)| *o != case) {
            let key = doc(&format!("rfc7515/rfc7515-{other}.jwk.json"));
            assert!(
                !verified(&jwt::verify(&t, &trust(&key, other))),
                "{case} with {other}"
            );
        }
    }
    // A.4's payload is the text "Payload", not claims.
    let t = jwt::parse(data("rfc7515/rfc7515-a4.jws").trim()).unwrap();
    assert_eq!(t.payload, Payload::Text("Payload".to_string()));
}

#[test]
fn rfc7515_a5_alg_none_is_unsigned_with_an_error_finding() {
    let d = decode(&data("rfc7515/rfc7515-a5.jws"), &Trust::default());
    assert_eq!(d.decoder, "jwt");
    assert!(
        d.summary.contains("alg none") && d.summary.ends_with("unsigned"),
        "{}",
        d.summary
    );
    let alg_none = d
        .findings
        .iter()
        .find(|f| f.message.contains("(alg none)"))
        .unwrap();
    assert_eq!(alg_none.severity, Severity::Error, "{alg_none:?}");
    assert_eq!(alg_none.at.as_deref(), Some("header/alg"));
}

fn rfc7515_a6_trust() -> Trust {
    let mut t = trust(
        &with_kid(doc("rfc7515/rfc7515-a2.jwk.json"), "2010-12-29"),
        "rfc7515 A.2",
    );
    t.add_jwks(
        &with_kid(
            doc("rfc7515/rfc7515-a3.jwk.json"),
            "e9bc097a-ce51-4036-9562-d2ade882db0d",
        ),
        "rfc7515 A.3",
    );
    t
}

#[test]
fn rfc7515_a6_general_json_verifies_each_signature_in_turn() {
    let d = decode(&data("rfc7515/rfc7515-a6.json"), &rfc7515_a6_trust());
    assert_eq!(d.decoder, "jwt");
    assert_eq!(
        signature_verdicts(&d),
        [
            "verified with kid=2010-12-29 from rfc7515 A.2",
            "verified with kid=e9bc097a-ce51-4036-9562-d2ade882db0d from rfc7515 A.3",
        ]
    );
    assert_eq!(
        d.summary,
        "JWS JSON general RS256+ES256 token: verified, verified"
    );
    assert_eq!(
        d.root
            .find_path("claims/iss")
            .and_then(|n| n.value.as_deref()),
        Some("joe")
    );
    // Only one key known: one verified, one not checked.
    let only_rsa = trust(
        &with_kid(doc("rfc7515/rfc7515-a2.jwk.json"), "2010-12-29"),
        "rfc7515 A.2",
    );
    let d = decode(&data("rfc7515/rfc7515-a6.json"), &only_rsa);
    assert_eq!(
        signature_verdicts(&d),
        [
            "verified with kid=2010-12-29 from rfc7515 A.2",
            "unverified: no trusted key with kid=e9bc097a-ce51-4036-9562-d2ade882db0d",
        ]
    );
}

#[test]
fn rfc7515_a7_flattened_json_verifies() {
    let d = decode(&data("rfc7515/rfc7515-a7.json"), &rfc7515_a6_trust());
    assert_eq!(
        signature_verdicts(&d),
        ["verified with kid=e9bc097a-ce51-4036-9562-d2ade882db0d from rfc7515 A.3"]
    );
    assert!(
        d.summary.starts_with("JWS JSON flattened ES256"),
        "{}",
        d.summary
    );
}

#[test]
fn rfc7520_signatures_verify_in_every_serialization() {
    for (file, alg) in [
        ("jws_4_1.rsa_v15_signature.json", "RS256"),
        ("jws_4_2.rsa-pss_signature.json", "PS384"),
        ("jws_4_3.ecdsa_signature.json", "ES512"),
        ("jws_4_4.hmac-sha2_integrity_protection.json", "HS256"),
        ("jws_4_6.protecting_specific_header_fields.json", "HS256"),
        ("jws_4_7.protecting_content_only.json", "HS256"),
        ("jws_4_8.multiple_signatures.json", "RS256"),
        ("curve25519_jws.json", "EdDSA"),
    ] {
        let example = doc(&format!("rfc7520/{file}"));
        let keys = trust(&example["input"]["key"], "cookbook");
        for (form, text) in outputs(&example) {
            let vs = verdicts(&text, &keys);
            assert!(!vs.is_empty(), "{file} {form}");
            for v in &vs {
                assert!(verified(v), "{file} {form}: {v:?}");
            }
            let d = decode(&text, &keys);
            assert_eq!(d.decoder, "jwt", "{file} {form}");
            assert!(d.summary.contains(alg), "{file} {form}: {}", d.summary);
            assert!(
                d.findings.iter().all(|f| f.severity != Severity::Error),
                "{file} {form}: {:?}",
                d.findings
            );
        }
    }
    // The multiple-signature example has three, each checked with its own key.
    let example = doc("rfc7520/jws_4_8.multiple_signatures.json");
    let keys = trust(&example["input"]["key"], "cookbook");
    let d = decode(&example["output"]["json"].to_string(), &keys);
    assert_eq!(
        signature_verdicts(&d),
        [
            "verified with kid=bilbo.baggins@hobbiton.example from cookbook",
            "verified with kid=bilbo.baggins@hobbiton.example from cookbook",
            "verified with kid=018c0ae5-4d9b-471b-bfd6-eef314bc7037 from cookbook",
        ]
    );
    assert!(
        d.summary
            .starts_with("JWS JSON general RS256+ES512+HS256 text payload")
    );
}

#[test]
fn rfc7520_detached_content_is_not_checked_until_the_payload_is_supplied() {
    let example = doc("rfc7520/jws_4_5.signature_with_detached_content.json");
    let keys = trust(&example["input"]["key"], "cookbook");
    let payload = URL_SAFE_NO_PAD.encode(example["input"]["payload"].as_str().unwrap());
    for (form, text) in outputs(&example) {
        for v in verdicts(&text, &keys) {
            assert_eq!(
                v,
                Verdict::NotChecked {
                    why: "detached payload, the content is not in the message (give it with --payload FILE)"
                        .to_string()
                },
                "{form}"
            );
        }
        let d = decode(&text, &keys);
        assert!(
            d.has_finding("not checked: detached payload, the content is not in the message"),
            "{form}: {:?}",
            d.findings
        );
        // The same signature with the content put back verifies: the verdict above is about
        // the message, not the signature.
        let attached = if text.starts_with('{') {
            let mut j: Value = serde_json::from_str(&text).unwrap();
            j["payload"] = payload.clone().into();
            j.to_string()
        } else {
            text.replacen("..", &format!(".{payload}."), 1)
        };
        for v in verdicts(&attached, &keys) {
            assert!(verified(&v), "{form} attached: {v:?}");
        }
    }
}

#[test]
fn rfc7797_b64_false_signs_the_raw_payload() {
    for file in [
        "rfc7797_hmac-sha2_b64_false.json",
        "rfc7797_4.2.hmac-sha2_b64_false.json",
    ] {
        let example = doc(&format!("rfc7520/{file}"));
        let keys = trust(&example["input"]["key"], "rfc7797");
        let payload = example["input"]["payload"].as_str().unwrap();
        for (form, text) in outputs(&example) {
            for v in verdicts(&text, &keys) {
                assert!(verified(&v), "{file} {form}: {v:?}");
            }
            let d = decode(&text, &keys);
            assert_eq!(
                d.root.find_path("payload").and_then(|n| n.value.as_deref()),
                Some(payload),
                "{file} {form}"
            );
        }
    }
    // This cookbook file's protected header has b64: false but no crit, which RFC 7797 §6
    // requires: it verifies, with a warning.
    let example = doc("rfc7520/rfc7797_4.2.hmac-sha2_b64_false.json");
    let keys = trust(&example["input"]["key"], "rfc7797");
    let d = decode(&example["output"]["json_flat"].to_string(), &keys);
    assert!(d.has_finding("b64: false without crit"), "{:?}", d.findings);
    // RFC 7797 §4.2 itself: crit [b64], compact with the payload detached.
    let rfc = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY";
    assert!(matches!(verdict(rfc, &keys), Verdict::NotChecked { .. }));
    let attached = rfc.replacen("..", ".$.02.", 1);
    let t = jwt::parse_json(
        &json!({"payload": "$.02", "protected": attached.split('.').next(),
                "signature": "A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY"})
        .to_string(),
        &Limits::default(),
    )
    .unwrap();
    let Jose::Jws(j) = t else { panic!("a JWS") };
    assert!(verified(&jwt::verify(&j.signatures[0], &keys)));
}

#[test]
fn an_unknown_crit_entry_makes_the_jws_invalid() {
    let example = doc("rfc7520/jws_4_4.hmac-sha2_integrity_protection.json");
    let keys = trust(&example["input"]["key"], "cookbook");
    let protected =
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","crit":["http://example.com/x"],"http://example.com/x":1}"#);
    let text = json!({"payload": "e30", "protected": protected, "signature": "AAAA"}).to_string();
    let d = decode(&text, &keys);
    assert_eq!(
        signature_verdicts(&d),
        [
            "INVALID: crit names `http://example.com/x`, which idscope does not understand: RFC 7515 §4.1.11 makes the JWS invalid"
        ]
    );
    assert!(d.summary.ends_with(": INVALID"), "{}", d.summary);
}

#[test]
fn azure_ad_id_tokens_verify_with_their_jwks() {
    for (v, iss, aud) in [
        (
            "v1",
            "https://sts.windows.net/30aa0e58-719c-44f0-b5bb-e131f1f68ab3/",
            "56c77428-2d91-48a0-93e6-ca9154965e51",
        ),
        (
            "v2",
            "https://login.microsoftonline.com/30aa0e58-719c-44f0-b5bb-e131f1f68ab3/v2.0",
            "6914484a-38ea-4a0b-801a-bb924cef5235",
        ),
    ] {
        let token = data(&format!("azuread/aad-idtoken-{v}.jwt"));
        let keys = trust(&doc(&format!("azuread/aad-jwks-{v}.json")), "jwks");
        let t = jwt::parse(token.trim()).unwrap();
        assert_eq!(t.claim_str("iss").as_deref(), Some(iss));
        assert_eq!(t.claim_str("aud").as_deref(), Some(aud));
        match jwt::verify(&t, &keys) {
            Verdict::Verified { kid, source } => {
                assert_eq!(Some(kid.as_str()), t.header_str("kid"), "{v}");
                assert_eq!(source, "jwks");
            }
            other => panic!("{v}: {other:?}"),
        }
        // Both JWKS documents hold the same two keys; neither verifies a changed token.
        let (head, rest) = token.trim().split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let mut claims = t.claims.clone().unwrap();
        claims["name"] = "Mallory".into();
        let forged = format!(
            "{head}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        match verdict(&forged, &keys) {
            Verdict::Failed { kid, reason, .. } => {
                assert_eq!(Some(kid.as_str()), t.header_str("kid"), "{v}");
                assert!(reason.starts_with("RS256 signature mismatch"), "{reason}");
            }
            other => panic!("{v}: {other:?}"),
        }
    }
    let v1 = jwt::parse(data("azuread/aad-idtoken-v1.jwt").trim()).unwrap();
    assert_eq!(v1.header_str("kid"), Some("MnC_VZcATfM5pOYiJHMba9goEKY"));
}

#[test]
fn a_tampered_payload_is_invalid_in_every_form() {
    // RFC 7520 §4.1 names its key (kid): the changed payload does not verify with it.
    let example = doc("rfc7520/jws_4_1.rsa_v15_signature.json");
    let keys = trust(&example["input"]["key"], "cookbook");
    let compact = example["output"]["compact"].as_str().unwrap();
    let mut parts: Vec<String> = compact.split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD.encode("It's a safe business, Frodo.");
    match verdict(&parts.join("."), &keys) {
        Verdict::Failed { kid, reason, .. } => {
            assert_eq!(kid, "bilbo.baggins@hobbiton.example");
            assert!(reason.starts_with("RS256 signature mismatch"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // RFC 7515 A.2 names no key: the one trusted RS256 key does not verify it, and the verdict
    // does not pretend the token claimed to be signed by it.
    let token = data("rfc7515/rfc7515-a2.jws");
    let keys = trust(&doc("rfc7515/rfc7515-a2.jwk.json"), "a2");
    let mut parts: Vec<String> = token.trim().split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD
        .encode(r#"{"iss":"joe","exp":1300819380,"http://example.com/is_root":false}"#);
    assert_eq!(
        verdict(&parts.join("."), &keys),
        Verdict::NoKey {
            why: "the token names no key (no kid or x5t) and none of the 1 trusted keys for \
                  RS256 verifies it"
                .to_string()
        }
    );
    let example = doc("rfc7520/jws_4_8.multiple_signatures.json");
    let keys = trust(&example["input"]["key"], "cookbook");
    let mut j = example["output"]["json"].clone();
    j["payload"] = URL_SAFE_NO_PAD
        .encode("It's a safe business, Frodo.")
        .into();
    let vs = verdicts(&j.to_string(), &keys);
    assert_eq!(vs.len(), 3);
    assert!(
        vs.iter().all(|v| matches!(v, Verdict::Failed { .. })),
        "{vs:?}"
    );
    let d = decode(&j.to_string(), &keys);
    assert!(
        d.summary
            .ends_with("BAD SIGNATURE, BAD SIGNATURE, BAD SIGNATURE"),
        "{}",
        d.summary
    );
}

/// HMAC-SHA256 of `msg` under `key`, to forge the confusion token.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, msg).as_ref().to_vec()
}

#[test]
fn hs256_keyed_with_an_rsa_public_key_is_refused() {
    let rsa = with_kid(doc("rfc7515/rfc7515-a2.jwk.json"), "rsa");
    let keys = trust(&rsa, "a2");
    let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"rsa"}"#);
    let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#);
    // The forger's candidate secrets: the modulus as text and as bytes.
    let n_text = rsa["n"].as_str().unwrap();
    let n_bytes = URL_SAFE_NO_PAD.decode(n_text).unwrap();
    for secret in [n_text.as_bytes(), &n_bytes] {
        let sig = URL_SAFE_NO_PAD.encode(hmac_sha256(secret, format!("{h}.{p}").as_bytes()));
        let token = format!("{h}.{p}.{sig}");
        assert_eq!(
            verdict(&token, &keys),
            Verdict::AlgorithmConfusion {
                kid: "rsa".to_string(),
                source: "a2".to_string(),
                alg: "HS256".to_string(),
                kty: "RSA".to_string()
            }
        );
        let d = decode(&token, &keys);
        assert!(
            d.summary.ends_with("REFUSED (algorithm confusion)"),
            "{}",
            d.summary
        );
        assert!(d.has_finding("algorithm confusion refused"));
    }
}

#[test]
fn every_other_alg_and_weak_rsa_keys_verify_with_policy_warnings() {
    let g = doc("generated/algorithms.json");
    let keys = trust(&g, "generated");
    for case in g["tokens"].as_array().unwrap() {
        let (alg, kid) = (case["alg"].as_str().unwrap(), case["kid"].as_str().unwrap());
        let token = case["token"].as_str().unwrap();
        assert_eq!(
            verdict(token, &keys),
            Verdict::Verified {
                kid: kid.to_string(),
                source: "generated".to_string()
            },
            "{alg} {kid}"
        );
        let d = decode(token, &keys);
        let weak = d.has_finding("weak, RFC 7518 §3.3 requires 2048 bits");
        assert_eq!(weak, kid == "rsa-1024", "{alg} {kid}: {:?}", d.findings);
        // One byte changed in the signature: it no longer verifies.
        let mut sig = URL_SAFE_NO_PAD
            .decode(token.rsplit('.').next().unwrap())
            .unwrap();
        sig[0] ^= 1;
        let (rest, _) = token.rsplit_once('.').unwrap();
        let bad = format!("{rest}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert!(
            matches!(verdict(&bad, &keys), Verdict::Failed { .. }),
            "{alg} {kid}"
        );
    }
}

#[test]
fn prt_cookies_verify_with_their_derived_keys() {
    let secrets = doc("prt/roadlib-prt-cookie.keys.json");
    for (file, key) in [
        ("prt/roadlib-prt-cookie-kdfv1.jwt", "kdfv1_derived_key_hex"),
        ("prt/roadlib-prt-cookie-kdfv2.jwt", "kdfv2_derived_key_hex"),
    ] {
        let hex = secrets[key].as_str().unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let jwk = json!({"kty":"oct","k": URL_SAFE_NO_PAD.encode(&bytes)});
        let token = data(file);
        assert!(
            verified(&verdict(&token, &trust(&jwk, "derived"))),
            "{file}"
        );
        // The other cookie's key does not verify it.
        let other = if key.starts_with("kdfv1") {
            "kdfv2_derived_key_hex"
        } else {
            "kdfv1_derived_key_hex"
        };
        let hex = secrets[other].as_str().unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let jwk = json!({"kty":"oct","k": URL_SAFE_NO_PAD.encode(&bytes)});
        assert!(
            !verified(&verdict(&token, &trust(&jwk, "derived"))),
            "{file}"
        );
    }
}

#[test]
fn jwes_are_parsed_and_explained_in_every_serialization() {
    let files = [
        "jwe_5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json",
        "jwe_5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json",
        "jwe_5_3.key_wrap_using_pbes2-aes-keywrap_with-aes-cbc-hmac-sha2.json",
        "jwe_5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm.json",
        "jwe_5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json",
        "jwe_5_6.direct_encryption_using_aes-gcm.json",
        "jwe_5_7.key_wrap_using_aes-gcm_keywrap_with_aes-cbc-hmac-sha2.json",
        "jwe_5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json",
        "jwe_5_9.compressed_content.json",
        "jwe_5_10.including_additional_authentication_data.json",
        "jwe_5_11.protecting_specific_header_fields.json",
        "jwe_5_12.protecting_content_only.json",
        "jwe_5_13.encrypting_to_multiple_recipients.json",
        "curve25519_ecdh-es.json",
    ];
    let no_keys = Trust::default();
    for file in files {
        let example = doc(&format!("rfc7520/{file}"));
        let algs: Vec<String> = match &example["input"]["alg"] {
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
            v => vec![v.as_str().unwrap().to_string()],
        };
        for (form, text) in outputs(&example) {
            let d = decode(&text, &no_keys);
            assert_eq!(d.decoder, "jwt", "{file} {form}");
            assert_eq!(
                d.root
                    .child("verification")
                    .and_then(|n| n.value.as_deref()),
                Some("encrypted: integrity is checked on decryption"),
                "{file} {form}"
            );
            assert!(
                d.has_finding("not verified: encrypted (JWE)"),
                "{file} {form}"
            );
            for alg in &algs {
                assert!(
                    d.summary.contains(alg.as_str()),
                    "{file} {form}: {}",
                    d.summary
                );
            }
            if form != "compact" {
                let Jose::Jwe(j) = jwt::parse_json(&text, &Limits::default()).unwrap() else {
                    panic!("{file} {form}: a JWE")
                };
                assert_eq!(j.recipients.len(), algs.len(), "{file} {form}");
                assert!(
                    d.findings.iter().all(|f| f.severity != Severity::Error),
                    "{file} {form}: {:?}",
                    d.findings
                );
            }
        }
    }
    // Multiple recipients: each with its alg, kid and (ECDH-ES) ephemeral key.
    let example = doc("rfc7520/jwe_5_13.encrypting_to_multiple_recipients.json");
    let d = decode(&example["output"]["json"].to_string(), &no_keys);
    let recipients: Vec<&str> = d
        .root
        .child("recipients")
        .unwrap()
        .children
        .iter()
        .map(|r| r.value.as_deref().unwrap())
        .collect();
    assert_eq!(
        recipients,
        [
            "RSA1_5 kid=frodo.baggins@hobbiton.example",
            "ECDH-ES+A256KW kid=peregrin.took@tuckborough.example",
            "A256GCMKW kid=18ec08e1-bfa9-4d95-b205-2b4dd1d4321d",
        ]
    );
    assert_eq!(
        d.root
            .find_path("recipients/[1]/header/epk")
            .and_then(|n| n.value.as_deref()),
        Some("EC P-384")
    );
}

#[test]
fn rfc7519_encrypted_and_nested_jwts_are_shown_as_jwes() {
    for file in [
        "rfc7519/rfc7519-a1-encrypted-jwt.jwe",
        "rfc7519/rfc7519-a2-nested-jwt.jwe",
    ] {
        let text = data(file);
        let t = jwt::parse(text.trim()).unwrap();
        assert_eq!(t.payload, Payload::Encrypted);
        assert_eq!(jwt::verify(&t, &Trust::default()), Verdict::Encrypted);
        let j = jwt::Jwe::from_compact(&text, &Limits::default()).unwrap();
        assert_eq!(j.param_str(0, "alg"), Some("RSA1_5"));
        assert_eq!(j.param_str(0, "enc"), Some("A128CBC-HS256"));
        assert_eq!(j.recipients[0].encrypted_key.len(), 256);
        // With the recipient's private key it decrypts; the A.1 plaintext is the claims.
        let mut keys = idscope_decoders::keys::Keys::default();
        keys.add_file(
            data("rfc7519/rfc7516-a2-rsa-key.jwk.json").as_bytes(),
            "rfc7516",
            None,
        )
        .unwrap();
        let (plain, compressed) = jwt::decrypt(&j, 0, &keys.keys[0], &Limits::default()).unwrap();
        assert!(!compressed);
        if file.ends_with("a1-encrypted-jwt.jwe") {
            assert!(plain.starts_with(b"{\"iss\":\"joe\""), "{plain:?}");
        } else {
            assert!(jwt::looks_like_jwt(&plain));
        }
    }
    let nested = jwt::parse(data("rfc7519/rfc7519-a2-nested-jwt.jwe").trim()).unwrap();
    assert_eq!(nested.header_str("cty"), Some("JWT"));
}

#[test]
fn jose_json_is_claimed_above_the_json_view_and_ordinary_json_is_not() {
    let text = data("rfc7515/rfc7515-a7.json");
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH, &trust);
    let out = Registry::builtin().decode_all(&Message::blob(text.as_bytes()), &cx);
    let ids: Vec<&str> = out.iter().map(|o| o.decoder).collect();
    assert_eq!(ids.first(), Some(&"jwt"));
    assert!(ids.contains(&"json"));
    for ordinary in [
        r#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#,
        r#"{"signature":"abc","name":"x"}"#,
        r#"{"user":{"header":"x","signatureDate":"2020"}}"#,
    ] {
        let out = Registry::builtin().decode_all(&Message::blob(ordinary.as_bytes()), &cx);
        assert!(
            out.iter().all(|o| o.decoder != "jwt"),
            "{ordinary}: {:?}",
            out.iter().map(|o| o.decoder).collect::<Vec<_>>()
        );
    }
    // Declared as application/jose+json but not JOSE: the jwt decoder says why.
    let msg = Message::response(
        "GET",
        "https://example.com/x",
        200,
        vec![("content-type", "application/jose+json")],
        br#"{"a":1}"#,
    );
    let out = Registry::builtin().decode_all(&msg, &cx);
    let jwt = out.iter().find(|o| o.decoder == "jwt").unwrap();
    assert!(jwt.result.is_err());
}

#[test]
fn rfc7520_nesting_signs_a_jwt_and_encrypts_it() {
    let example = doc("rfc7520/6.nesting_signatures_and_encryption.json");
    let keys = trust(&example["sign"]["input"]["key"], "cookbook");
    let inner = example["sign"]["output"]["compact"].as_str().unwrap();
    match verdict(inner, &keys) {
        Verdict::Verified { kid, source } => {
            assert_eq!(
                (kid.as_str(), source.as_str()),
                ("hobbiton.example", "cookbook")
            );
        }
        other => panic!("{other:?}"),
    }
    // The encrypted form is shown as a JWE; the JWS inside needs the recipient's key.
    for (form, text) in outputs(&example["encrypt"]) {
        let d = decode(&text, &keys);
        assert!(d.summary.contains("RSA-OAEP"), "{form}: {}", d.summary);
        assert!(d.summary.contains("A128GCM"), "{form}: {}", d.summary);
        assert!(d.has_finding("not verified: encrypted (JWE)"), "{form}");
    }
}
