//! XML Encryption in SAML: published encrypted responses (gosaml2's real ADFS and Okta responses,
//! ruby-saml's and python3-saml's test responses, ruby-saml's `encrypted_new_attack`) with the
//! keys their sources decrypt them with, and samples encrypted by Python's `cryptography`
//! (`tests/support/make_xmlenc.py`). `tests/data/xmlenc/MANIFEST.tsv` says where every file comes
//! from. Keys go into `Trust::decryption` as `--key` would put them.

// Helpers outside `#[test]` functions panic on broken vectors on purpose, like the tests do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use idscope_decoders::keys::{DecryptionKey, KeyMaterial};
use idscope_decoders::view::{Kind, Node};
use idscope_decoders::xml::Document;
use idscope_decoders::xml::dsig::TrustedCert;
use idscope_decoders::xml::enc::{self, Budget, EncryptedData};
use idscope_decoders::{Context, Decoded, Limits, Message, Registry, Severity, Trust};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::EncodePrivateKey as _;

const GENERATED_NOW: u64 = 1_793_527_260; // 2026-11-01T10:01:00Z
const ADFS_NOW: u64 = 1_506_036_000; // 2017-09-21T23:20:00Z, as gosaml2's test
const OKTA_NOW: u64 = 1_504_736_040; // 2017-09-06T22:14:00Z, as gosaml2's test

fn path(name: &str) -> String {
    format!("{}/tests/data/xmlenc/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

/// The XML of a vector: base64-decoded for `.b64` and `.base64` files.
fn xml(name: &str) -> String {
    let raw = bytes(name);
    if name.ends_with(".b64") || name.ends_with(".base64") {
        let compact: Vec<u8> = raw
            .into_iter()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let plain = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap();
        String::from_utf8(plain).unwrap()
    } else {
        String::from_utf8(raw).unwrap()
    }
}

/// A PEM private key (PKCS#8, or PKCS#1 converted) as `--key` would load it.
fn pem_key(name: &str) -> DecryptionKey {
    let text = String::from_utf8(bytes(name)).unwrap();
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let der = if text.contains("BEGIN RSA PRIVATE KEY") {
        let k = rsa::RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        k.to_pkcs8_der().unwrap().as_bytes().to_vec()
    } else {
        der
    };
    DecryptionKey {
        material: KeyMaterial::Rsa(der),
        source: format!("--key {}", name.rsplit('/').next().unwrap()),
        kid: None,
    }
}

/// A hex file as a symmetric key.
fn hex_key(name: &str) -> DecryptionKey {
    let text = String::from_utf8(bytes(name)).unwrap();
    let t = text.trim();
    let k = (0..t.len() / 2)
        .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    DecryptionKey {
        material: KeyMaterial::Symmetric(k),
        source: format!("--key {}", name.rsplit('/').next().unwrap()),
        kid: None,
    }
}

fn trust(keys: &[DecryptionKey], certs: &[&str]) -> Trust {
    let mut t = Trust::default();
    t.decryption.keys = keys.to_vec();
    for c in certs {
        for cert in TrustedCert::from_pem_or_der(&bytes(c), &format!("--trust-cert {c}")).unwrap() {
            t.add_cert(cert.der, &format!("--trust-cert {c}"));
        }
    }
    t
}

/// Decodes an XML document with the builtin registry, as `idscope decode` would.
fn decode(xml: &str, trust: &Trust, now: u64) -> Decoded {
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(now), trust);
    Registry::builtin()
        .best_specific(&Message::blob(xml.as_bytes()), &cx)
        .expect("a specific decoder decodes it")
}

/// idscope's verdict on a decoded view, read as `tests/it/realworld.rs` reads it.
fn verdict(d: &Decoded) -> &'static str {
    const ATTACKS: &[&str] = &[
        "signature wrapping",
        "duplicate ID",
        "comment inside",
        "DOCTYPE",
    ];
    let f = &d.findings;
    if f.iter()
        .any(|f| f.severity == Severity::Error && ATTACKS.iter().any(|a| f.message.contains(a)))
    {
        return "rejected";
    }
    let sig = |m: &str, s: Severity| {
        if m.starts_with("XML signature") {
            Some(match s {
                Severity::Info => "valid",
                Severity::Error if m.contains(": INVALID") => "invalid",
                _ => "not-checked",
            })
        } else if m.starts_with("not checked:") {
            Some("not-checked")
        } else {
            None
        }
    };
    let found: Vec<&str> = f
        .iter()
        .filter_map(|f| sig(&f.message, f.severity))
        .collect();
    for v in ["invalid", "not-checked", "valid"] {
        if found.contains(&v) {
            return v;
        }
    }
    "decodes"
}

fn nodes(n: &Node) -> Vec<&Node> {
    let mut out = vec![n];
    for c in &n.children {
        out.extend(nodes(c));
    }
    out
}

fn value_of<'a>(d: &'a Decoded, label: &str) -> Vec<&'a str> {
    nodes(&d.root)
        .into_iter()
        .filter(|n| n.label == label)
        .filter_map(|n| n.value.as_deref())
        .collect()
}

fn findings(d: &Decoded) -> String {
    d.findings
        .iter()
        .map(|f| format!("{:?}: {}", f.severity, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gosaml2_adfs_encrypted_response_decrypts_and_its_signature_verifies() {
    let key = pem_key("gosaml2/oktaenc_sp_encryption_key.pem");
    let t = trust(&[key], &["gosaml2/adfs_idp_signing_cert.pem"]);
    let d = decode(&xml("gosaml2/adfs_response_enc.b64"), &t, ADFS_NOW);
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    assert!(
        d.has_finding("decrypted with --key oktaenc_sp_encryption_key.pem"),
        "{}",
        findings(&d)
    );
    assert!(
        d.summary
            .contains("decrypted with --key oktaenc_sp_encryption_key.pem"),
        "{}",
        d.summary
    );
    assert!(d.summary.contains("signature verified"), "{}", d.summary);
    // The claims of the decrypted assertion are shown as if sent in clear.
    assert!(
        value_of(&d, "NameID").iter().any(|v| v.contains('@')),
        "{:#?}",
        d.root
    );
    let holder = nodes(&d.root)
        .into_iter()
        .find(|n| n.label == "EncryptedAssertion")
        .expect("the EncryptedAssertion section");
    assert_eq!(
        holder.value.as_deref(),
        Some("decrypted with --key oktaenc_sp_encryption_key.pem")
    );
    assert!(holder.children.iter().any(|c| c.label == "Assertion"));
    assert!(holder.child("EncryptedKey").is_some());
}

#[test]
fn gosaml2_okta_response_signed_over_the_ciphertext_verifies_both_signatures() {
    let key = pem_key("gosaml2/oktaenc_sp_encryption_key.pem");
    let t = trust(&[key], &["gosaml2/oktaenc_idp_signing_cert.pem"]);
    let d = decode(&xml("gosaml2/oktaenc_response.b64"), &t, OKTA_NOW);
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    let verified = d
        .findings
        .iter()
        .filter(|f| f.message.starts_with("XML signature") && f.severity == Severity::Info)
        .count();
    assert_eq!(verified, 2, "{}", findings(&d));
    assert!(
        d.summary.contains("(Response signature verified"),
        "{}",
        d.summary
    );
}

#[test]
fn without_a_key_an_encrypted_assertion_is_not_checked() {
    let t = trust(&[], &["gosaml2/adfs_idp_signing_cert.pem"]);
    let d = decode(&xml("gosaml2/adfs_response_enc.b64"), &t, ADFS_NOW);
    assert_eq!(verdict(&d), "not-checked", "{}", findings(&d));
    assert!(
        d.has_finding("not checked: encrypted, no --key opens it"),
        "{}",
        findings(&d)
    );
    assert!(
        d.summary
            .contains("EncryptedAssertion (aes256-cbc), not decrypted"),
        "{}",
        d.summary
    );
    // The algorithms, the key reference and the recipient are shown.
    assert_eq!(
        value_of(&d, "EncryptionMethod"),
        [
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
        ]
    );
    assert_eq!(
        value_of(&d, "X509IssuerSerial"),
        ["CN=saml.test.nope, O=SAML Test Nope., S=California, C=US, serial 16999231321919524843"]
    );
    assert!(
        nodes(&d.root)
            .iter()
            .filter(|n| n.label == "CipherValue")
            .all(|n| n.kind == Kind::Secret)
    );
}

#[test]
fn keys_that_do_not_open_it_say_so_one_by_one() {
    let small = pem_key("ruby-saml/ruby-saml.key");
    let other = pem_key("generated/sp_encryption_key.pem");
    let aes = hex_key("generated/kek_aes256.hex");
    let t = trust(&[small, other, aes], &["gosaml2/adfs_idp_signing_cert.pem"]);
    let d = decode(&xml("gosaml2/adfs_response_enc.b64"), &t, ADFS_NOW);
    assert_eq!(verdict(&d), "not-checked", "{}", findings(&d));
    let f = findings(&d);
    assert!(
        f.contains(
            "--key ruby-saml.key does not fit: a 1024-bit RSA key opens 128-byte ciphertexts, and \
             this CipherValue is 256 bytes"
        ),
        "{f}"
    );
    assert!(
        f.contains("does not decrypt with --key sp_encryption_key.pem"),
        "{f}"
    );
    assert!(
        f.contains(
            "--key kek_aes256.hex does not fit: EncryptedKey 1 needs an RSA private key, and \
             this is a 256-bit symmetric key"
        ),
        "{f}"
    );
    assert!(d.summary.ends_with("no --key opens it"), "{}", d.summary);
    let keys = nodes(&d.root)
        .into_iter()
        .find(|n| n.label == "decryption keys")
        .unwrap();
    assert_eq!(keys.value.as_deref(), Some("no key opens it"));
    assert_eq!(keys.children.len(), 3);
    // A wrong key before the right one: both are listed, the right one opens it.
    let right = pem_key("gosaml2/oktaenc_sp_encryption_key.pem");
    let t = trust(
        &[pem_key("generated/sp_encryption_key.pem"), right],
        &["gosaml2/adfs_idp_signing_cert.pem"],
    );
    let d = decode(&xml("gosaml2/adfs_response_enc.b64"), &t, ADFS_NOW);
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    let keys = nodes(&d.root)
        .into_iter()
        .find(|n| n.label == "decryption keys")
        .unwrap();
    let lines: Vec<_> = keys
        .children
        .iter()
        .map(|c| c.value.clone().unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("does not decrypt it"), "{lines:?}");
    assert!(
        lines[1].starts_with("opens it: EncryptedKey 1, RSA-OAEP"),
        "{lines:?}"
    );
}

/// The generated samples: name, the key that opens it, and how.
const GENERATED: &[(&str, &str, &str)] = &[
    (
        "oaep_aes128cbc",
        "sp_encryption_key.pem",
        "RSA-OAEP (SHA-1, MGF1 with SHA-1), AES-128-CBC",
    ),
    (
        "oaep11_aes256gcm",
        "sp_encryption_key.pem",
        "RSA-OAEP (SHA-256, MGF1 with SHA-256), AES-256-GCM",
    ),
    (
        "oaep11_mixed_aes192gcm",
        "sp_encryption_key.pem",
        "RSA-OAEP (SHA-512, MGF1 with SHA-1), AES-192-GCM",
    ),
    (
        "rsa15_aes256cbc",
        "sp_encryption_key.pem",
        "RSA PKCS#1 v1.5, AES-256-CBC",
    ),
    (
        "kw256_aes256gcm",
        "kek_aes256.hex",
        "AES-256 key wrap, AES-256-GCM",
    ),
    (
        "kw192_aes128cbc",
        "kek_aes192.hex",
        "AES-192 key wrap, AES-128-CBC",
    ),
    (
        "oaep_tripledes",
        "sp_encryption_key.pem",
        "RSA-OAEP (SHA-1, MGF1 with SHA-1), Triple-DES-CBC",
    ),
];

fn generated_keys() -> Vec<DecryptionKey> {
    vec![
        hex_key("generated/kek_aes192.hex"),
        pem_key("generated/sp_encryption_key.pem"),
        hex_key("generated/kek_aes256.hex"),
    ]
}

#[test]
fn generated_samples_decrypt_and_their_signatures_verify() {
    let t = trust(&generated_keys(), &["generated/idp_signing_cert.pem"]);
    for (name, key, via) in GENERATED {
        let d = decode(&xml(&format!("generated/{name}.xml")), &t, GENERATED_NOW);
        assert_eq!(verdict(&d), "valid", "{name}: {}", findings(&d));
        let opened = format!("decrypted with --key {key} (EncryptedKey 1, {via})");
        assert!(d.has_finding(&opened), "{name}: {}", findings(&d));
        assert!(
            value_of(&d, "NameID").contains(&"lHh/rEL830q6/mStDnD4uw=="),
            "{name}"
        );
        assert!(
            value_of(&d, "upn").contains(&"alice@contoso.test"),
            "{name}"
        );
        // No finding about the document's shape: the decrypted assertion reads as if sent in
        // clear (no wrapping, no unsigned claims).
        assert!(
            d.findings.iter().all(|f| f.severity != Severity::Error),
            "{name}: {}",
            findings(&d)
        );
    }
}

#[test]
fn each_key_layout_is_found() {
    let limits = Limits::default();
    for (name, found) in [
        ("oaep_aes128cbc", enc::Found::Inline),
        ("oaep11_aes256gcm", enc::Found::Retrieved("#_ek1".into())),
        ("oaep11_mixed_aes192gcm", enc::Found::Sibling),
        (
            "kw256_aes256gcm",
            enc::Found::ByKeyName("sp-kek-2026".into()),
        ),
    ] {
        let text = xml(&format!("generated/{name}.xml"));
        let doc = Document::parse(&text, &limits).unwrap();
        let ed = doc
            .elements()
            .find(|e| doc.is(*e, enc::XENC_NS, "EncryptedData"))
            .unwrap();
        let data = EncryptedData::parse(&doc, ed, &limits);
        assert!(data.problems.is_empty(), "{name}: {:?}", data.problems);
        assert_eq!(data.keys.len(), 1, "{name}");
        assert_eq!(data.keys[0].found, found, "{name}");
        let dec = enc::decrypt(
            &data,
            &Trust::default().decryption,
            &mut Budget::default(),
            &|_| Ok(()),
        );
        assert!(dec.attempts.is_empty() && dec.opened.is_none());
        // Through the API with the keys: the plaintext is there, and Debug does not print it.
        let keys = trust(&generated_keys(), &[]).decryption;
        let dec = enc::decrypt(&data, &keys, &mut Budget::default(), &|_| Ok(()));
        let opened = dec.opened.as_ref().expect("opened");
        assert!(opened.plaintext.starts_with(b"<saml:Assertion"), "{name}");
        assert!(!format!("{dec:?}").contains("saml:Assertion"), "{name}");
    }
}

#[test]
fn encrypted_identifiers_and_attributes_are_opened_where_they_stand() {
    let t = trust(&generated_keys(), &["generated/idp_signing_cert.pem"]);
    // A signed assertion in clear: its signature covers the EncryptedID and EncryptedAttribute
    // as sent, and is verified on them; the decrypted NameID and attribute are shown.
    let d = decode(
        &xml("generated/encrypted_id_attribute.xml"),
        &t,
        GENERATED_NOW,
    );
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    assert!(d.has_finding("the EncryptedID was decrypted with --key sp_encryption_key.pem"));
    assert!(d.has_finding("the EncryptedAttribute was decrypted with --key sp_encryption_key.pem"));
    assert_eq!(value_of(&d, "NameID"), ["lHh/rEL830q6/mStDnD4uw=="]);
    assert_eq!(value_of(&d, "employeeNumber"), ["E-4711"]);
    assert!(d.summary.contains("NameID lHh/rE"), "{}", d.summary);
    // An encrypted assertion holding an EncryptedID: the assertion's signature is verified where
    // the assertion was decrypted, with its EncryptedID still encrypted.
    let d = decode(&xml("generated/nested_encrypted_id.xml"), &t, GENERATED_NOW);
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    assert_eq!(value_of(&d, "NameID"), ["bob-4242"]);
    assert!(d.has_finding("the EncryptedAssertion was decrypted"));
    assert!(d.has_finding("the EncryptedID was decrypted"));
    // What the encryption hid holds a credential: it is marked secret.
    let password = nodes(&d.root)
        .into_iter()
        .find(|n| n.label == "userPassword")
        .expect("the decrypted userPassword attribute");
    assert_eq!(password.kind, Kind::Secret);
    // Without the keys the assertion signature is still verified on what was sent, and the
    // NameID and attribute say they stay encrypted.
    let t = trust(&[], &["generated/idp_signing_cert.pem"]);
    let d = decode(
        &xml("generated/encrypted_id_attribute.xml"),
        &t,
        GENERATED_NOW,
    );
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    assert!(d.has_finding("the NameID is encrypted (EncryptedID), and no --key opens it"));
    assert!(d.has_finding("an attribute is encrypted (EncryptedAttribute)"));
}

#[test]
fn ruby_saml_encrypted_new_attack_is_flagged() {
    let t = trust(&[pem_key("ruby-saml/ruby-saml.key")], &[]);
    let d = decode(
        &xml("ruby-saml/encrypted_new_attack.xml.base64"),
        &t,
        ADFS_NOW,
    );
    assert_eq!(verdict(&d), "rejected", "{}", findings(&d));
    assert!(d.has_finding("the EncryptedAssertion was decrypted with --key ruby-saml.key (EncryptedKey 1, RSA PKCS#1 v1.5, Triple-DES-CBC)"));
    // The Response signature references an ID that the decrypted assertion reuses.
    assert!(
        d.has_finding("duplicate ID `pfx57ea3408-3a1e-9b65-61f9-04720287e6fe`"),
        "{}",
        findings(&d)
    );
    assert!(d.summary.contains("SIGNATURE WRAPPING") || d.has_finding("duplicate ID"));
    assert_eq!(value_of(&d, "uid"), ["hacker"]);
}

/// The published vectors that decrypt, the key that opens them, and the holders they open.
const PUBLISHED: &[(&str, &str, &[&str])] = &[
    (
        "ruby-saml/response_encrypted_attrs.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAttribute", "EncryptedAttribute"],
    ),
    (
        "ruby-saml/response_encrypted_nameid.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedID"],
    ),
    (
        "ruby-saml/signed_message_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_encrypted_adfs.xml",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_aes128_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_aes128gcm_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_aes192_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_aes192gcm_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_aes256_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_aes256gcm_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_des192_encrypted_signed_assertion.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "ruby-saml/unsigned_message_encrypted_assertion_without_saml_namespace.xml.base64",
        "ruby-saml/ruby-saml.key",
        &["EncryptedAssertion"],
    ),
    (
        "python3-saml/double_signed_encrypted_assertion.xml.base64",
        "python3-saml/sp.key",
        &["EncryptedAssertion"],
    ),
    (
        "python3-saml/logout_request_encrypted_nameid.xml",
        "python3-saml/sp.key",
        &["EncryptedID"],
    ),
    (
        "python3-saml/response_encrypted_nameid.xml.base64",
        "python3-saml/sp.key",
        &["EncryptedID"],
    ),
    (
        "python3-saml/signed_message_encrypted_assertion2.xml.base64",
        "python3-saml/sp.key",
        &["EncryptedAssertion"],
    ),
    (
        "python3-saml/valid_encrypted_assertion.xml.base64",
        "python3-saml/sp.key",
        &["EncryptedAssertion"],
    ),
    (
        "python3-saml/valid_encrypted_assertion_encrypted_nameid.xml.base64",
        "python3-saml/sp.key",
        &["EncryptedAssertion", "EncryptedID"],
    ),
];

#[test]
fn published_ruby_saml_and_python3_saml_vectors_decrypt() {
    for (name, key, holders) in PUBLISHED {
        let k = pem_key(key);
        let source = k.source.clone();
        let d = decode(&xml(name), &trust(&[k], &[]), ADFS_NOW);
        let opened: Vec<&str> = holders
            .iter()
            .filter(|h| {
                d.findings.iter().any(|f| {
                    f.message
                        .starts_with(&format!("the {h} was decrypted with {source}"))
                })
            })
            .copied()
            .collect();
        assert_eq!(&opened, holders, "{name}: {}", findings(&d));
        let count = d
            .findings
            .iter()
            .filter(|f| f.message.contains("was decrypted with"))
            .count();
        assert_eq!(count, holders.len(), "{name}: {}", findings(&d));
        // The decrypted document is byte-exact where it was signed: no reference digest fails.
        // (The 1024-bit signing keys of these suites are not verified by XML-DSig here.)
        assert!(
            !d.has_finding("digest mismatch"),
            "{name}: {}",
            findings(&d)
        );
        assert!(
            !d.has_finding("not checked: encrypted"),
            "{name}: {}",
            findings(&d)
        );
    }
}

#[test]
fn python3_saml_invalid_encrypted_ids_say_why_they_stay_closed() {
    let t = trust(&[pem_key("python3-saml/sp.key")], &[]);
    let d = decode(
        &xml("python3-saml/encrypted_nameID_without_EncMethod.xml.base64"),
        &t,
        ADFS_NOW,
    );
    assert!(
        d.has_finding("the NameID is encrypted (EncryptedID), and no --key opens it (--key sp.key not tried: EncryptedKey 1 names no EncryptionMethod)"),
        "{}",
        findings(&d)
    );
    let d = decode(
        &xml("python3-saml/encrypted_nameID_without_keyinfo.xml.base64"),
        &t,
        ADFS_NOW,
    );
    assert!(
        d.has_finding("(--key sp.key does not fit: there is no EncryptedKey, and it is not a 16-byte AES-128-CBC key)"),
        "{}",
        findings(&d)
    );
}

/// The byte ranges of every non-empty `CipherValue` text in `text`.
fn cipher_values(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("CipherValue>") {
        let start = from + i + "CipherValue>".len();
        let end = start + text[start..].find('<').unwrap();
        if end > start {
            out.push(start..end);
        }
        from = end;
    }
    out
}

/// What a decoder sees of a base64 value.
fn b64(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    idscope_decoders::util::b64_decode_any(&compact, 1 << 24)
}

/// Words that would tell a padding or tag oracle apart from a wrong key.
const ORACLE_WORDS: &[&str] = &["padding", "authentication tag", "integrity", "unwrap fail"];

#[test]
fn damaged_cipher_values_never_panic_never_verify_and_tell_no_oracle() {
    let mut keys = generated_keys();
    keys.insert(0, pem_key("gosaml2/oktaenc_sp_encryption_key.pem"));
    keys.push(pem_key("ruby-saml/ruby-saml.key"));
    let t = trust(
        &keys,
        &[
            "generated/idp_signing_cert.pem",
            "gosaml2/adfs_idp_signing_cert.pem",
        ],
    );
    let mut rng = fastrand::Rng::with_seed(0x0e0c_5a11);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let cases = [
        ("generated/oaep_aes128cbc.xml", GENERATED_NOW),
        ("generated/oaep11_aes256gcm.xml", GENERATED_NOW),
        ("generated/rsa15_aes256cbc.xml", GENERATED_NOW),
        ("generated/kw192_aes128cbc.xml", GENERATED_NOW),
        ("generated/oaep_tripledes.xml", GENERATED_NOW),
        ("generated/nested_encrypted_id.xml", GENERATED_NOW),
        ("gosaml2/adfs_response_enc.b64", ADFS_NOW),
        (
            "ruby-saml/unsigned_message_des192_encrypted_signed_assertion.xml.base64",
            ADFS_NOW,
        ),
    ];
    let mut runs = 0;
    for (name, now) in cases {
        let text = xml(name);
        for span in cipher_values(&text) {
            let value = &text[span.clone()];
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            let n = compact.len();
            let mut variants: Vec<String> =
                [0, 1, 4, n / 2, n.saturating_sub(4), n.saturating_sub(1)]
                    .iter()
                    .map(|k| compact[..(*k).min(n)].to_string())
                    .collect();
            for _ in 0..6 {
                if n == 0 {
                    break;
                }
                let mut b = compact.clone().into_bytes();
                let i = rng.usize(..b.len());
                let c = ALPHABET[rng.usize(..ALPHABET.len())];
                if b[i] == b'=' || b[i] == c {
                    continue;
                }
                b[i] = c;
                variants.push(String::from_utf8(b).unwrap());
            }
            variants.push("!!!not base64!!!".into());
            variants.push(format!("{compact}AAAA"));
            for v in variants {
                let damaged = format!("{}{v}{}", &text[..span.start], &text[span.end..]);
                let d = decode(&damaged, &t, now);
                runs += 1;
                let same = b64(&v).is_some() && b64(&v) == b64(value);
                if !same {
                    assert_ne!(
                        verdict(&d),
                        "valid",
                        "{name} with a damaged CipherValue: {}",
                        findings(&d)
                    );
                }
                for f in &d.findings {
                    for w in ORACLE_WORDS {
                        assert!(!f.message.contains(w), "{name}: `{w}` in {}", f.message);
                    }
                }
            }
        }
    }
    assert!(runs > 200, "only {runs} damaged documents");
}

#[test]
fn damaged_structure_and_random_bytes_never_panic() {
    let t = trust(&generated_keys(), &["generated/idp_signing_cert.pem"]);
    let text = xml("generated/oaep11_aes256gcm.xml");
    // Each edit, and what the view says about it.
    let edits: &[(&str, &str, &str)] = &[
        (
            "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            "urn:unknown",
            "the content algorithm urn:unknown is not supported",
        ),
        (
            "http://www.w3.org/2009/xmlenc11#rsa-oaep",
            "urn:unknown",
            "not tried: the key transport urn:unknown",
        ),
        (
            "http://www.w3.org/2001/04/xmlenc#sha256",
            "urn:unknown-digest",
            "not tried: the key transport RSA-OAEP with the digest urn:unknown-digest",
        ),
    ];
    for (from, to, says) in edits {
        let damaged = text.replacen(from, to, 1);
        let d = decode(&damaged, &t, GENERATED_NOW);
        assert_eq!(
            verdict(&d),
            "not-checked",
            "{from} -> {to}: {}",
            findings(&d)
        );
        let shown = nodes(&d.root)
            .iter()
            .any(|n| n.value.as_deref().is_some_and(|v| v.contains(says)));
        assert!(
            shown || d.has_finding(says),
            "{from} -> {to}: {}",
            findings(&d)
        );
    }
    // The ciphertext elsewhere: never fetched.
    let first = cipher_values(&text)[0].clone();
    let open = first.start - "<xenc:CipherValue>".len();
    let close = first.end + "</xenc:CipherValue>".len();
    let referenced = format!(
        "{}<xenc:CipherReference URI=\"file:///etc/passwd\"/>{}",
        &text[..open],
        &text[close..]
    );
    let d = decode(&referenced, &t, GENERATED_NOW);
    assert_eq!(verdict(&d), "not-checked", "{}", findings(&d));
    assert!(
        d.has_finding("CipherReference to `file:///etc/passwd`, which is never fetched"),
        "{}",
        findings(&d)
    );
    // A ciphertext too short for its algorithm: no key is tried.
    let short = format!("{}AAAA{}", &text[..first.start], &text[first.end..]);
    let d = decode(&short, &t, GENERATED_NOW);
    assert!(
        d.has_finding(
            "--key sp_encryption_key.pem not tried: AES-GCM ciphertext is a 12-byte IV, the \
             ciphertext and a 16-byte tag, and this CipherValue is 3 bytes"
        ),
        "{}",
        findings(&d)
    );
    // A RetrievalMethod that names nothing: the key beside the EncryptedData is still found.
    let d = decode(&text.replacen("#_ek1", "#nowhere", 1), &t, GENERATED_NOW);
    assert_eq!(verdict(&d), "valid", "{}", findings(&d));
    assert!(
        value_of(&d, "problem").contains(
            &"RetrievalMethod `#nowhere` names no EncryptedKey beside this EncryptedData"
        )
    );
    let d = decode(
        &text.replacen("#_ek1", "https://attacker.test/key", 1),
        &t,
        GENERATED_NOW,
    );
    assert!(value_of(&d, "problem").contains(
        &"RetrievalMethod `https://attacker.test/key` points outside the document (never fetched)"
    ));
    // A holder inside a holder: only the outer one is opened.
    let kw = xml("generated/kw256_aes256gcm.xml");
    let start = kw.find("<saml:EncryptedAssertion>").unwrap();
    let end = kw.find("</saml:EncryptedAssertion>").unwrap();
    let inner = &kw[start..end + "</saml:EncryptedAssertion>".len()];
    let nested = format!("{}{inner}{}", &kw[..end], &kw[end..]);
    let d = decode(&nested, &t, GENERATED_NOW);
    assert_eq!(
        d.findings
            .iter()
            .filter(|f| f.message.contains("was decrypted"))
            .count(),
        1
    );
    assert_eq!(value_of(&d, "NameID"), ["lHh/rEL830q6/mStDnD4uw=="]);
    let mut rng = fastrand::Rng::with_seed(7);
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(GENERATED_NOW), &t);
    for _ in 0..300 {
        let mut b = text.clone().into_bytes();
        for _ in 0..rng.usize(1..4) {
            let i = rng.usize(..b.len());
            b[i] = rng.u8(..);
        }
        let cut = rng.usize(b.len() / 2..=b.len());
        for d in Registry::builtin().decode_all(&Message::blob(&b[..cut]), &cx) {
            if let Ok(d) = d.result {
                assert!(!d.summary.is_empty());
            }
        }
    }
}

/// A Response whose EncryptedAssertion is encrypted here, with an AES key-encryption key.
fn response_with(content: &str, plaintext: &[u8], kek: &[u8; 16]) -> String {
    use aws_lc_rs::cipher::{AES_128, PaddedBlockEncryptingKey, UnboundCipherKey};
    use aws_lc_rs::key_wrap::{AES_128 as KW_AES_128, KeyEncryptionKey, KeyWrap as _};
    let cek = [7u8; 16];
    let data = if content.ends_with("gcm") {
        let key = aws_lc_rs::aead::LessSafeKey::new(
            aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_128_GCM, &cek).unwrap(),
        );
        let iv = [9u8; 12];
        let mut buf = plaintext.to_vec();
        key.seal_in_place_append_tag(
            aws_lc_rs::aead::Nonce::assume_unique_for_key(iv),
            aws_lc_rs::aead::Aad::empty(),
            &mut buf,
        )
        .unwrap();
        [&iv[..], &buf].concat()
    } else {
        let key =
            PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, &cek).unwrap())
                .unwrap();
        let mut buf = plaintext.to_vec();
        let ctx = key.encrypt(&mut buf).unwrap();
        let iv: &[u8] = (&ctx).try_into().unwrap();
        [iv, &buf].concat()
    };
    let mut wrapped = [0u8; 24];
    let kek = KeyEncryptionKey::new(&KW_AES_128, kek).unwrap();
    kek.wrap(&cek, &mut wrapped).unwrap();
    let e = base64::engine::general_purpose::STANDARD;
    format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2026-11-01T10:00:00Z"><saml:Issuer>https://idp.test/</saml:Issuer><saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{content}"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#kw-aes128"/><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion></samlp:Response>"#,
        e.encode(wrapped),
        e.encode(data)
    )
}

fn kek_key(kek: &[u8; 16]) -> DecryptionKey {
    DecryptionKey {
        material: KeyMaterial::Symmetric(kek.to_vec()),
        source: "--key kek.bin".into(),
        kid: None,
    }
}

#[test]
fn a_plaintext_that_is_not_an_assertion_is_refused_after_gcm_and_does_not_decrypt_after_cbc() {
    let kek = [3u8; 16];
    let t = trust(&[kek_key(&kek)], &[]);
    let gcm = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
    let cbc = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
    let name_id = br#"<saml:NameID>x</saml:NameID>"#;
    let d = decode(&response_with(gcm, name_id, &kek), &t, GENERATED_NOW);
    assert!(
        d.has_finding(
            "--key kek.bin decrypts it, but it holds {urn:oasis:names:tc:SAML:2.0:assertion}NameID, \
             not a saml:Assertion"
        ),
        "{}",
        findings(&d)
    );
    assert_eq!(verdict(&d), "not-checked");
    // After CBC nothing is authenticated: a plaintext that is not the assertion reads as a key
    // that does not open it, whatever went wrong.
    for plain in [&name_id[..], b"not XML at all", b"<saml:Assertion>unclosed"] {
        let d = decode(&response_with(cbc, plain, &kek), &t, GENERATED_NOW);
        assert!(
            d.has_finding("(does not decrypt with --key kek.bin)"),
            "{}",
            findings(&d)
        );
    }
    // The same layout with an assertion decrypts (its claims are unsigned).
    let assertion = br#"<saml:Assertion ID="_a" Version="2.0" IssueInstant="2026-11-01T10:00:00Z"><saml:Issuer>https://idp.test/</saml:Issuer><saml:Subject><saml:NameID>carol</saml:NameID></saml:Subject></saml:Assertion>"#;
    for content in [gcm, cbc] {
        let d = decode(&response_with(content, assertion, &kek), &t, GENERATED_NOW);
        assert!(
            d.has_finding("the EncryptedAssertion was decrypted with --key kek.bin"),
            "{}",
            findings(&d)
        );
        assert!(
            d.has_finding("nothing protects the claims shown"),
            "{}",
            findings(&d)
        );
        assert_eq!(value_of(&d, "NameID"), ["carol"]);
    }
}

#[test]
fn many_encrypted_assertions_and_keys_cost_a_bounded_number_of_rsa_operations() {
    let text = xml("generated/rsa15_aes256cbc.xml");
    let start = text.find("<saml:EncryptedAssertion>").unwrap();
    let end = text.find("</saml:EncryptedAssertion>").unwrap() + "</saml:EncryptedAssertion>".len();
    let holder = &text[start..end];
    let many = format!("{}{}{}", &text[..start], holder.repeat(40), &text[end..]);
    let wrong = |n: usize| {
        let mut k = pem_key("gosaml2/oktaenc_sp_encryption_key.pem");
        k.source = format!("--key wrong{n}.pem");
        k
    };
    let t = trust(&[wrong(1), wrong(2), wrong(3)], &[]);
    let started = std::time::Instant::now();
    let d = decode(&many, &t, GENERATED_NOW);
    let f = findings(&d);
    assert_eq!(
        f.matches("does not decrypt with --key wrong").count(),
        64,
        "{f}"
    );
    assert!(
        f.contains("not tried: the document already cost 64 RSA operations"),
        "{f}"
    );
    assert!(
        f.contains("no key tried: the document has more than 32 encrypted elements"),
        "{f}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}
