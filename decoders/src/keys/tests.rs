use super::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn load(bytes: &[u8], password: Option<&str>) -> Result<(KeyFile, Keys), KeyError> {
    let mut keys = Keys::default();
    keys.add_file(bytes, "--key test", password)
        .map(|f| (f, keys))
}

fn kinds(keys: &Keys) -> Vec<String> {
    keys.keys.iter().map(|k| k.material.describe()).collect()
}

#[test]
fn every_pem_and_der_form_loads_as_the_key_it_is() {
    for (file, format, kind) in [
        ("rsa-pkcs8.pem", KeyFormat::Pem, "RSA 2048 bits"),
        ("rsa-pkcs1.pem", KeyFormat::Pem, "RSA 2048 bits"),
        ("rsa-pkcs8.der", KeyFormat::Der, "RSA 2048 bits"),
        ("ec-p256-sec1.pem", KeyFormat::Pem, "EC P-256"),
        ("ec-p384-pkcs8.pem", KeyFormat::Pem, "EC P-384"),
        ("x25519.pem", KeyFormat::Pem, "X25519"),
    ] {
        let (f, keys) = load(&fixture(file), None).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((f.format, f.keys), (format, 1), "{file}");
        assert_eq!(kinds(&keys), [kind], "{file}");
        assert_eq!(keys.keys[0].source, "--key test");
    }
    // PKCS#1, PKCS#8 PEM and DER are the same key: loaded once.
    let mut keys = Keys::default();
    for file in ["rsa-pkcs8.pem", "rsa-pkcs1.pem", "rsa-pkcs8.der"] {
        keys.add_file(&fixture(file), file, None).unwrap();
    }
    assert_eq!(keys.keys.len(), 1);
    assert_eq!(keys.rsa().count(), 1);
}

#[test]
fn encrypted_pkcs8_and_pfx_need_their_password() {
    for (file, format) in [
        ("rsa-encrypted.pem", KeyFormat::Pem),
        ("rsa.pfx", KeyFormat::Pkcs12),
        ("rsa-legacy.pfx", KeyFormat::Pkcs12),
    ] {
        let bytes = fixture(file);
        let (f, keys) =
            load(&bytes, Some("idscope-test")).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(f.format, format, "{file}");
        assert_eq!(kinds(&keys), ["RSA 2048 bits"], "{file}");
        let none = load(&bytes, None).unwrap_err();
        assert!(
            matches!(none, KeyError::NeedsPassword { .. }),
            "{file}: {none}"
        );
        let wrong = load(&bytes, Some("not-it")).unwrap_err();
        assert!(
            matches!(wrong, KeyError::WrongPassword { .. }),
            "{file}: {wrong}"
        );
        assert!(!wrong.to_string().contains("not-it"), "{wrong}");
    }
    let legacy = load(&fixture("rsa-legacy-encrypted.pem"), Some("x")).unwrap_err();
    assert!(
        legacy.to_string().contains("openssl pkcs8 -topk8"),
        "{legacy}"
    );
}

#[test]
fn jwks_with_private_members_load_every_private_key() {
    let jwks = serde_json::json!({"keys": [
        {"kty":"oct","kid":"a","k":"GawgguFyGrWKav7AX4VKUg"},
        {"kty":"EC","kid":"b","crv":"P-384",
         "x":"YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2",
         "y":"A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP",
         "d":"iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j"},
        {"kty":"OKP","kid":"c","crv":"X25519",
         "x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
         "d":"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo"},
        {"kty":"RSA","kid":"public","n":"AQAB","e":"AQAB"}
    ]});
    let (f, keys) = load(jwks.to_string().as_bytes(), None).unwrap();
    assert_eq!((f.format, f.keys), (KeyFormat::Jwk, 3));
    assert_eq!(kinds(&keys), ["symmetric 16 bytes", "EC P-384", "X25519"]);
    assert_eq!(keys.keys[1].source, "--key test (kid b)");
    assert_eq!(keys.keys[1].kid.as_deref(), Some("b"));
    // An RSA JWK with its private members (RFC 7520 §3.4) becomes a PKCS#8 key.
    let rfc7520: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/keys/rfc7520-rsa-private.jwk.json"
    ))
    .unwrap();
    let (_, keys) = load(rfc7520.to_string().as_bytes(), None).unwrap();
    assert_eq!(kinds(&keys), ["RSA 2048 bits"]);
    let public = load(br#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#, None).unwrap_err();
    assert!(matches!(public, KeyError::NoPrivateKey { .. }), "{public}");
    assert!(public.to_string().contains("--trust-cert"), "{public}");
}

#[test]
fn hex_is_a_symmetric_key() {
    let (f, keys) = load(
        b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        None,
    )
    .unwrap();
    assert_eq!(f.format, KeyFormat::Symmetric);
    let (bytes, key) = keys.symmetric().next().unwrap();
    assert_eq!(bytes.len(), 32);
    assert_eq!(bytes.first(), Some(&0));
    assert_eq!(key.source, "--key test");
    assert_eq!(format!("{:?}", key.material), "Symmetric(32 bytes)");
}

#[test]
fn bad_files_say_what_is_wrong() {
    let err = |bytes: &[u8]| load(bytes, None).unwrap_err();
    assert_eq!(err(b"  \n"), KeyError::Empty);
    assert_eq!(err(b"hello world"), KeyError::Unrecognized);
    assert_eq!(
        err(b"./oktaenc_sp_encryption_key.pem"),
        KeyError::Unrecognized
    );
    assert!(matches!(
        err(&fixture("ed25519.pem")),
        KeyError::WrongKind { .. }
    ));
    assert!(matches!(
        err(&fixture("rsa-cert.pem")),
        KeyError::NoPrivateKey { .. }
    ));
    assert!(matches!(err(b"{\"kty\":1}"), KeyError::Malformed { .. }));
    assert!(matches!(
        err(br#"{"kty":"OKP","crv":"Ed25519","x":"AA","d":"AA"}"#),
        KeyError::WrongKind { .. }
    ));
    let broken = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n";
    let e = err(broken.as_bytes());
    assert!(
        e.to_string().starts_with("PEM block 1 (PRIVATE KEY)"),
        "{e}"
    );
    assert!(matches!(
        err(&vec![b'a'; MAX_KEY_FILE + 1]),
        KeyError::TooLarge { .. }
    ));
}

proptest::proptest! {
    #[test]
    fn any_bytes_load_or_say_why(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = load(&bytes, Some("p"));
        let mut der = vec![0x30, 0x82, 0x01, 0x00, 0x02, 0x01];
        der.extend_from_slice(&bytes);
        let _ = load(&der, None);
    }
}

#[test]
fn party_infos_are_kept_once_and_the_oldest_go_past_the_bound() {
    let mut keys = Keys::default();
    let info = |n: usize| PartyInfo {
        bytes: n.to_be_bytes().to_vec(),
        source: format!("the request of flow #{n}"),
    };
    assert!(keys.add_party_v_info(info(0)));
    assert!(!keys.add_party_v_info(info(0)), "the same bytes twice");
    assert!(!keys.add_party_v_info(PartyInfo {
        bytes: vec![],
        source: "empty".into()
    }));
    for n in 1..=MAX_PARTY_INFOS {
        assert!(keys.add_party_v_info(info(n)));
    }
    assert_eq!(keys.party_v_info.len(), MAX_PARTY_INFOS);
    assert_eq!(keys.party_v_info[0], info(1));
    assert_eq!(keys.party_v_info.last(), Some(&info(MAX_PARTY_INFOS)));
}
