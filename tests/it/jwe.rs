//! JWE decryption with the user's keys, against the RFC 7520 §5 cookbook (every output of every
//! example decrypts to its plaintext with its key; every recipient of §5.13 with its own key),
//! RFC 7520 "Curve25519 ECDH-ES", the nested JWS-in-JWE of RFC 7520 §6 and RFC 7519 A.2
//! (decrypted, then the inner signature verified), and the honest verdicts: a key that does not
//! fit says so and leaves "not checked", an altered JWE opened by the recipient's key "does NOT
//! authenticate".
//!
//! Implemented and covered here: RSA1_5, RSA-OAEP, ECDH-ES, ECDH-ES+A128KW/A256KW (P-384),
//! ECDH-ES on X25519, A128KW, A256GCMKW, dir, PBES2-HS512+A256KW; A128GCM, A256GCM,
//! A128CBC-HS256; zip DEF. RSA-OAEP-256/384/512, A192KW/A256KW, A128GCMKW/A192GCMKW,
//! ECDH-ES+A192KW, P-256/P-521 with key wrapping, PBES2-HS256/384, A192GCM and
//! A192CBC-HS384/A256CBC-HS512 share the code paths with other parameters (the AES key unwrap,
//! the CBC-HS composition and the Concat KDF have their own unit tests in the decoders).

use std::collections::BTreeSet;
use std::path::Path;

use idscope_decoders::jwt::{self, Jose, Jwe, Opened};
use idscope_decoders::keys::Keys;
use idscope_decoders::{Limits, util as dutil};
use serde_json::{Value, json};

use crate::util::{idscope, shared_corpus, stdout};

fn vector(name: &str) -> Value {
    let path = shared_corpus("realworld").join("jwt/rfc7520").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The keys of a cookbook example's input: its JWK(s), or its password as a symmetric key.
fn input_keys(input: &Value) -> Keys {
    let mut keys = Keys::default();
    let bytes = match (input.get("key"), input.get("pwd")) {
        (Some(Value::Array(a)), _) => json!({ "keys": a }).to_string(),
        (Some(k), _) => k.to_string(),
        (None, Some(Value::String(p))) => dutil::hex_lower(p.as_bytes()),
        _ => panic!("no key in {input}"),
    };
    keys.add_file(bytes.as_bytes(), "--key cookbook", None)
        .unwrap();
    keys
}

fn parse(text: &str) -> Jwe {
    if text.trim_start().starts_with('{') {
        match jwt::parse_json(text, &Limits::default()).unwrap() {
            Jose::Jwe(j) => j,
            Jose::Jws(_) => panic!("a JWS"),
        }
    } else {
        Jwe::from_compact(text, &Limits::default()).unwrap()
    }
}

fn output_texts(output: &Value) -> Vec<(String, String)> {
    output
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

#[test]
fn every_rfc7520_jwe_decrypts_to_its_plaintext_with_its_key() {
    let mut covered = BTreeSet::new();
    for name in [
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
    ] {
        let v = vector(name);
        let keys = input_keys(&v["input"]);
        let plaintext = v["input"]["plaintext"].as_str().unwrap();
        for (form, text) in output_texts(&v["output"]) {
            let jwe = parse(&text);
            match jwt::open(&jwe, &keys, &Limits::default()) {
                Opened::Decrypted(d) => {
                    assert_eq!(d.plaintext, plaintext.as_bytes(), "{name} {form}");
                    covered.insert(format!("{} {}", d.alg, d.enc));
                }
                other => panic!("{name} {form}: {other:?}"),
            }
        }
    }
    // §5.13: each recipient with its own key alone.
    let v = vector("jwe_5_13.encrypting_to_multiple_recipients.json");
    let jwe = parse(&v["output"]["json"].to_string());
    for (i, key) in v["input"]["key"].as_array().unwrap().iter().enumerate() {
        let mut keys = Keys::default();
        keys.add_file(key.to_string().as_bytes(), "--key one", None)
            .unwrap();
        match jwt::open(&jwe, &keys, &Limits::default()) {
            Opened::Decrypted(d) => {
                assert_eq!(d.recipient, i);
                covered.insert(format!("{} {}", d.alg, d.enc));
            }
            other => panic!("§5.13 recipient {i}: {other:?}"),
        }
    }
    assert_eq!(
        covered.into_iter().collect::<Vec<_>>(),
        [
            "A128KW A128GCM",
            "A256GCMKW A128CBC-HS256",
            "ECDH-ES A128CBC-HS256",
            "ECDH-ES A128GCM",
            "ECDH-ES+A128KW A128GCM",
            "ECDH-ES+A256KW A128CBC-HS256",
            "PBES2-HS512+A256KW A128CBC-HS256",
            "RSA-OAEP A256GCM",
            "RSA1_5 A128CBC-HS256",
            "dir A128GCM",
        ]
    );
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_nested_jwt_is_decrypted_then_its_signature_verified() {
    let v = vector("6.nesting_signatures_and_encryption.json");
    let dir = tempfile::tempdir().unwrap();
    let enc = write(
        dir.path(),
        "enc.json",
        &v["encrypt"]["input"]["key"].to_string(),
    );
    let sign = write(
        dir.path(),
        "sign.json",
        &v["sign"]["input"]["key"].to_string(),
    );
    let token = write(
        dir.path(),
        "nested.jwe",
        v["encrypt"]["output"]["compact"].as_str().unwrap(),
    );
    let out = idscope(&["decode", &token, "--key", &enc, "--jwks", &sign], None);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("JWE decrypted with --key {enc}")),
        "{text}"
    );
    assert!(text.contains("plaintext (nested JWT)"), "{text}");
    assert!(text.contains("signature verified with kid="), "{text}");
    assert!(text.contains("iss: hobbiton.example"), "{text}");
    // Without the signing key the inner JWS is unverified, and says so.
    let out = idscope(&["decode", &token, "--key", &enc], None);
    let text = stdout(&out);
    assert!(text.contains("JWE decrypted with"), "{text}");
    assert!(
        text.contains(
            "not verified: the token names no key (no kid or x5t) and no trusted keys \
             are loaded (at decryption/plaintext/verification)"
        ),
        "{text}"
    );
}

#[test]
fn keys_that_do_not_fit_say_so_and_an_altered_jwe_is_invalid_only_for_its_own_key() {
    let v = vector("jwe_5_8.key_wrap_using_aes-keywrap_with_aes-gcm.json");
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "kw.json", &v["input"]["key"].to_string());
    let rsa = crate::util::root()
        .join("decoders/tests/fixtures/keys/rsa-pkcs8.pem")
        .display()
        .to_string();
    let wrong_size = write(dir.path(), "k.hex", "00112233445566778899aabbccddeeff0011");
    let compact = v["output"]["compact"].as_str().unwrap();
    let good = write(dir.path(), "good.jwe", compact);
    let out = idscope(
        &["decode", &good, "--key", &rsa, "--key", &wrong_size],
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "not checked: no key opens it: --key {rsa}: it is RSA 2048 bits, A128KW needs a \
             symmetric key; --key {wrong_size}: it is 18 bytes, A128KW needs 16"
        )),
        "{text}"
    );
    // One ciphertext character changed: the AES-KW key opens the content key, the tag fails.
    let parts: Vec<&str> = compact.split('.').collect();
    let mut ct = parts[3].to_string();
    let flip = if ct.starts_with('A') { "B" } else { "A" };
    ct.replace_range(0..1, flip);
    let altered = [parts[0], parts[1], parts[2], &ct, parts[4]].join(".");
    let bad = write(dir.path(), "bad.jwe", &altered);
    let out = idscope(&["decode", &bad, "--key", &key], None);
    let text = stdout(&out);
    assert!(
        text.contains("JWE does NOT authenticate with --key"),
        "{text}"
    );
    // A dir key with no kid cannot tell a wrong key from an altered JWE: not checked.
    let v = vector("jwe_5_6.direct_encryption_using_aes-gcm.json");
    let k = dutil::b64_decode_any(v["input"]["key"]["k"].as_str().unwrap(), 64).unwrap();
    let hex = write(dir.path(), "dir.hex", &dutil::hex_lower(&k));
    let compact = v["output"]["compact"].as_str().unwrap();
    let parts: Vec<&str> = compact.split('.').collect();
    let mut tag = parts[4].to_string();
    let flip = if tag.starts_with('A') { "B" } else { "A" };
    tag.replace_range(0..1, flip);
    let altered = [parts[0], parts[1], parts[2], parts[3], &tag].join(".");
    let bad = write(dir.path(), "bad-dir.jwe", &altered);
    let out = idscope(&["decode", &bad, "--key", &hex], None);
    let text = stdout(&out);
    assert!(text.contains("not checked: no key opens it"), "{text}");
    assert!(text.contains("tag does not verify"), "{text}");
    assert!(!text.contains("does NOT authenticate"), "{text}");
}

#[test]
fn the_decrypted_plaintext_is_a_secret_masked_unless_shown() {
    let v = vector("jwe_5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json");
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "rsa.json", &v["input"]["key"].to_string());
    let token = write(
        dir.path(),
        "t.jwe",
        v["output"]["compact"].as_str().unwrap(),
    );
    let plaintext = v["input"]["plaintext"].as_str().unwrap();
    let masked = stdout(&idscope(&["decode", &token, "--key", &key], None));
    assert!(masked.contains("JWE decrypted with"), "{masked}");
    assert!(!masked.contains(&plaintext[..40]), "{masked}");
    let shown = stdout(&idscope(
        &["decode", &token, "--key", &key, "--show-secrets"],
        None,
    ));
    assert!(shown.contains(&plaintext[..40]), "{shown}");
}
