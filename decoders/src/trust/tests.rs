//! Tests of [`Trust`]: thumbprints and pins, public-key anchors, and trust-anchor files of every
//! form, told apart by content.

use super::*;
use crate::util;

/// The ADFS token-signing certificate of the WS-Fed fixtures (RSA).
const ADFS_PEM: &[u8] = include_bytes!("../../tests/fixtures/wsfed/login_srf_post.trust.pem");
/// Its SHA-1 and SHA-256 thumbprints, as `openssl x509 -fingerprint` prints them.
const ADFS_SHA1: &str = "03:B2:CE:6C:C8:61:4E:6F:7B:01:ED:54:BE:AF:EC:8E:DE:C5:FF:4D";
const ADFS_SHA256: &str = "2C:77:D4:59:36:9E:35:DF:FE:F2:DB:7C:EB:B9:73:CB:B3:BF:D6:E1:50:6E:97:A1:\
                           3C:B3:1D:FC:DE:6F:D2:83";
/// Another signing certificate (the SAML fixtures' IdP).
const IDP_PEM: &[u8] =
    include_bytes!("../../tests/fixtures/saml/post_response_signed_assertion.trust.pem");

fn der_of(pem: &[u8]) -> Vec<u8> {
    x509_parser::pem::Pem::iter_from_buffer(pem)
        .next()
        .unwrap()
        .unwrap()
        .contents
}

/// The certificate's `SubjectPublicKeyInfo` and its PKCS#1 `RSAPublicKey`.
fn keys_of(cert_der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).unwrap();
    let spki = cert.public_key();
    (spki.raw.to_vec(), spki.subject_public_key.data.to_vec())
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = util::b64_std(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn load(bytes: &[u8]) -> (Trust, Result<AnchorFile, AnchorError>) {
    let mut trust = Trust::default();
    let r = trust.add_anchor_file(bytes, "--trust-cert f", &Limits::default());
    (trust, r)
}

fn refused(bytes: &[u8]) -> AnchorError {
    let (trust, r) = load(bytes);
    assert!(trust.is_empty(), "a refused file adds nothing");
    r.unwrap_err()
}

/// Metadata publishing `certs` (DER) as `KeyDescriptor`s with the given `use` (or none).
fn metadata(root: &str, certs: &[(&[u8], Option<&str>)]) -> String {
    let kds: String = certs
        .iter()
        .map(|(der, usage)| {
            let usage = usage.map(|u| format!(" use=\"{u}\"")).unwrap_or_default();
            format!(
                "<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n{}\n\
                 </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                util::b64_std(der)
            )
        })
        .collect();
    let sso = format!(
        "<md:IDPSSODescriptor protocolSupportEnumeration=\"x\">{kds}</md:IDPSSODescriptor>"
    );
    let entity = format!(
        "<md:EntityDescriptor entityID=\"https://sts.contoso.test/adfs/services/trust\">{sso}</md:EntityDescriptor>"
    );
    let body = if root == "EntitiesDescriptor" {
        format!("<md:EntitiesDescriptor>{entity}</md:EntitiesDescriptor>")
    } else {
        entity
    };
    body.replacen(
        &format!("<md:{root}"),
        &format!(
            "<md:{root} xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
             xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\""
        ),
        1,
    )
}

// ---- thumbprints and pins ----

#[test]
fn thumbprints_parse_in_every_common_spelling() {
    let sha1 = Thumbprint::parse(ADFS_SHA1).unwrap();
    assert_eq!(sha1.algorithm(), "SHA-1");
    assert_eq!(sha1.to_string(), "03b2ce6cc8614e6f7b01ed54beafec8edec5ff4d");
    for text in [
        "03b2ce6cc8614e6f7b01ed54beafec8edec5ff4d",
        "03B2CE6CC8614E6F7B01ED54BEAFEC8EDEC5FF4D",
        "03 b2 ce 6c c8 61 4e 6f 7b 01 ed 54 be af ec 8e de c5 ff 4d",
        // As copied from the Windows certificate dialog: a left-to-right mark in front.
        "\u{200e}03b2ce6cc8614e6f7b01ed54beafec8edec5ff4d",
        "  03:b2:CE:6c:c8:61:4e:6f:7b:01:ed:54:be:af:ec:8e:de:c5:ff:4d\n",
    ] {
        assert_eq!(Thumbprint::parse(text), Ok(sha1), "{text:?}");
    }
    let sha256: Thumbprint = ADFS_SHA256.parse().unwrap();
    assert_eq!(sha256.algorithm(), "SHA-256");
    assert_eq!(sha256.as_bytes().len(), 32);
    assert_eq!(
        Thumbprint::sha1_of(b"abc").to_string(),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
}

#[test]
fn a_thumbprint_of_the_wrong_length_or_with_other_characters_is_refused() {
    assert_eq!(
        Thumbprint::parse("03b2ce6cc8614e6f7b01ed54beafec8edec5ff4"),
        Err(ThumbprintError::Length { digits: 39 })
    );
    assert_eq!(
        Thumbprint::parse(&"ab".repeat(16)),
        Err(ThumbprintError::Length { digits: 32 })
    );
    assert_eq!(
        Thumbprint::parse(""),
        Err(ThumbprintError::Length { digits: 0 })
    );
    assert_eq!(
        Thumbprint::parse("03b2ce6cc8614e6f7b01ed54beafec8edec5ff4g"),
        Err(ThumbprintError::NotHex {
            found: 'g',
            position: 40
        })
    );
    assert_eq!(
        Thumbprint::parse("03-b2"),
        Err(ThumbprintError::NotHex {
            found: '-',
            position: 3
        })
    );
    let msg = Thumbprint::parse("abc").unwrap_err().to_string();
    assert!(
        msg.contains("3 hex digits") && msg.contains("40") && msg.contains("64"),
        "{msg}"
    );
}

#[test]
fn a_pinned_thumbprint_names_the_option_that_pinned_the_certificate() {
    let (adfs, idp) = (der_of(ADFS_PEM), der_of(IDP_PEM));
    let mut trust = Trust::default();
    assert_eq!(trust.pinned(&adfs), None);
    let sha1 = Thumbprint::parse(ADFS_SHA1).unwrap();
    assert!(trust.pin_thumbprint(sha1, "--trust-thumbprint A"));
    assert!(!trust.pin_thumbprint(sha1, "--trust-thumbprint again"));
    assert!(!trust.is_empty());
    assert_eq!(
        trust.pinned(&adfs).map(|p| p.source.as_str()),
        Some("--trust-thumbprint A")
    );
    assert_eq!(trust.pinned(&idp), None);

    let mut by_sha256 = Trust::default();
    by_sha256.pin_thumbprint(ADFS_SHA256.parse().unwrap(), "--trust-thumbprint B");
    let pin = by_sha256.pinned(&adfs).unwrap();
    assert_eq!(pin.thumbprint, Thumbprint::sha256_of(&adfs));
    assert_eq!(pin.source, "--trust-thumbprint B");
    assert_eq!(by_sha256.pinned(&idp), None);
    assert_eq!(by_sha256.pinned(b"not a certificate"), None);
}

// ---- public keys ----

#[test]
fn a_public_key_is_found_by_key_whatever_its_encoding() {
    let (spki, pkcs1) = keys_of(&der_of(ADFS_PEM));
    let (other_spki, _) = keys_of(&der_of(IDP_PEM));
    let mut trust = Trust::default();
    assert!(trust.public_keys_matching(&spki).is_empty());
    assert_eq!(trust.add_public_key(&spki, "--trust-cert k.pem"), Ok(true));
    assert_eq!(
        trust.add_public_key(&spki, "--trust-cert again.pem"),
        Ok(false)
    );
    let found = trust.public_keys_matching(&spki);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source, "--trust-cert k.pem");
    assert!(trust.public_keys_matching(&other_spki).is_empty());
    assert!(trust.public_keys_matching(b"junk").is_empty());
    // The same key from a PKCS#1 file matches too (it is kept as an SPKI).
    let mut from_pkcs1 = Trust::default();
    from_pkcs1
        .add_anchor_file(
            pem("RSA PUBLIC KEY", &pkcs1).as_bytes(),
            "p",
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(from_pkcs1.public_keys_matching(&spki).len(), 1);
    assert!(matches!(
        trust.add_public_key(b"\x30\x03\x02\x01\x00", "x"),
        Err(AnchorError::PublicKey { .. })
    ));
}

// ---- anchor files ----

#[test]
fn certificates_load_from_pem_der_and_bare_base64() {
    let der = der_of(ADFS_PEM);
    let (trust, r) = load(ADFS_PEM);
    assert_eq!(r.unwrap().format, AnchorFormat::Pem);
    assert_eq!(trust.certs.len(), 1);
    assert_eq!(trust.certs[0].der, der);
    assert_eq!(trust.certs[0].source, "--trust-cert f");

    let (trust, r) = load(&der);
    assert_eq!(r.unwrap().format, AnchorFormat::Der);
    assert_eq!(trust.certs[0].der, der);

    let b64 = util::b64_std(&der);
    let (trust, r) = load(format!("  {b64}\r\n").as_bytes());
    assert_eq!(r.unwrap().format, AnchorFormat::Base64);
    assert_eq!(trust.certs[0].der, der);
}

#[test]
fn a_pem_bundle_loads_every_certificate_and_skips_the_private_key() {
    let bundle = format!(
        "Bag Attributes\n    friendlyName: adfs\n{}{}{}",
        std::str::from_utf8(ADFS_PEM).unwrap(),
        pem("PRIVATE KEY", b"\x30\x00"),
        std::str::from_utf8(IDP_PEM).unwrap().replace('\n', "\r\n"),
    );
    let (trust, r) = load(bundle.as_bytes());
    let file = r.unwrap();
    assert_eq!(
        (file.format, file.certs, file.public_keys),
        (AnchorFormat::Pem, 2, 0)
    );
    assert_eq!(trust.certs.len(), 2);
    assert_eq!(trust.certs[1].der, der_of(IDP_PEM));
}

#[test]
fn public_keys_load_from_spki_and_pkcs1_pem_and_der() {
    let (spki, pkcs1) = keys_of(&der_of(ADFS_PEM));
    for (bytes, format) in [
        (pem("PUBLIC KEY", &spki).into_bytes(), AnchorFormat::Pem),
        (
            pem("RSA PUBLIC KEY", &pkcs1).into_bytes(),
            AnchorFormat::Pem,
        ),
        (spki.clone(), AnchorFormat::Der),
        (pkcs1.clone(), AnchorFormat::Der),
        (util::b64_std(&spki).into_bytes(), AnchorFormat::Base64),
    ] {
        let (trust, r) = load(&bytes);
        let file = r.unwrap();
        assert_eq!((file.format, file.public_keys), (format, 1));
        assert!(trust.certs.is_empty());
        assert_eq!(trust.public_keys.len(), 1);
        assert_eq!(trust.public_keys_matching(&spki).len(), 1);
        assert_eq!(trust.public_keys[0].source, "--trust-cert f");
    }
}

#[test]
fn a_jwks_or_a_single_jwk_loads_its_keys() {
    let jwks = br#"{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"},{"kty":"EC","kid":"k2","crv":"P-256","x":"AA","y":"AA"},{"no":"kty"}]}"#;
    let (trust, r) = load(jwks);
    let file = r.unwrap();
    assert_eq!((file.format, file.jwks), (AnchorFormat::Jwk, 2));
    assert_eq!(trust.keys.len(), 2);
    assert_eq!(trust.keys[1].source, "--trust-cert f");
    let (trust, r) = load(b"\xEF\xBB\xBF\n {\"kty\":\"oct\",\"k\":\"AA\"}");
    assert_eq!(r.unwrap().jwks, 1);
    assert_eq!(trust.keys.len(), 1);

    let mut trust = Trust::default();
    assert_eq!(trust.add_jwks_json(jwks, "--jwks k.json"), Ok(2));
    assert!(matches!(
        trust.add_jwks_json(b"{\"keys\":[]}", "--jwks e.json"),
        Err(AnchorError::NoJwk { .. })
    ));
    assert!(matches!(
        trust.add_jwks_json(b"\x00\x01", "--jwks b.json"),
        Err(AnchorError::Json { .. })
    ));
}

#[test]
fn metadata_contributes_its_signing_certificates_named_by_subject() {
    let (adfs, idp) = (der_of(ADFS_PEM), der_of(IDP_PEM));
    let md = metadata(
        "EntityDescriptor",
        &[(&adfs, Some("signing")), (&idp, Some("encryption"))],
    );
    let (trust, r) = load(md.as_bytes());
    let file = r.unwrap();
    assert_eq!((file.format, file.certs), (AnchorFormat::Metadata, 1));
    assert_eq!(trust.certs[0].der, adfs);
    assert_eq!(
        trust.certs[0].source,
        "--trust-cert f (signing cert CN=ADFS Signing - sts.contoso.test)"
    );

    // An aggregate, a KeyDescriptor without `use`, a byte-order mark and a prolog.
    let md = metadata(
        "EntitiesDescriptor",
        &[(&adfs, None), (&idp, Some("signing"))],
    );
    let text = format!("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{md}");
    let (trust, r) = load(text.as_bytes());
    assert_eq!(r.unwrap().certs, 2);
    assert!(
        trust.certs[1]
            .source
            .ends_with("(signing cert CN=Contoso SAML IdP Signing (synthetic))")
    );
}

#[test]
fn metadata_without_a_signing_certificate_or_other_xml_is_refused() {
    let idp = der_of(IDP_PEM);
    let md = metadata("EntityDescriptor", &[(&idp, Some("encryption"))]);
    assert_eq!(refused(md.as_bytes()), AnchorError::NoSigningCertificate);
    let e = refused(b"<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>");
    assert_eq!(
        e,
        AnchorError::NotMetadata {
            root: "samlp:Response".into()
        }
    );
    assert!(e.to_string().contains("<samlp:Response>"), "{e}");
    // The right name in another namespace is not metadata either.
    assert!(matches!(
        refused(b"<EntityDescriptor/>"),
        AnchorError::NotMetadata { .. }
    ));
    assert!(matches!(
        refused(b"<md:EntityDescriptor"),
        AnchorError::Xml { .. }
    ));
    let bad_cert = metadata(
        "EntityDescriptor",
        &[(b"not a certificate", Some("signing"))],
    );
    assert!(matches!(
        refused(bad_cert.as_bytes()),
        AnchorError::MetadataCertificate { n: 1, .. }
    ));
}

#[test]
fn text_saved_as_utf16_by_windows_powershell_is_read() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in std::str::from_utf8(ADFS_PEM).unwrap().encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let (trust, r) = load(&bytes);
    assert_eq!(r.unwrap().format, AnchorFormat::Pem);
    assert_eq!(trust.certs[0].der, der_of(ADFS_PEM));
}

#[test]
fn malformed_pem_says_which_block_and_what_is_wrong() {
    let text = std::str::from_utf8(ADFS_PEM).unwrap();
    let truncated = &text[..text.find("-----END").unwrap()];
    let e = refused(truncated.as_bytes());
    assert!(
        matches!(e, AnchorError::PemSyntax { block: 1, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("no -----END line"), "{e}");

    let bad_b64 = format!("{text}-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    let e = refused(bad_b64.as_bytes());
    assert!(
        matches!(e, AnchorError::PemSyntax { block: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("base64"), "{e}");

    let e = refused(pem("CERTIFICATE", b"\x30\x03\x02\x01\x00").as_bytes());
    assert!(
        matches!(&e, AnchorError::PemContent { block: 1, label, .. } if label == "CERTIFICATE"),
        "{e:?}"
    );
    assert!(matches!(
        refused(pem("PUBLIC KEY", b"junk").as_bytes()),
        AnchorError::PemContent { .. }
    ));

    let e = refused(pem("RSA PRIVATE KEY", b"\x30\x00").as_bytes());
    assert!(e.to_string().contains("only a private key"), "{e}");
    let e = refused(pem("CERTIFICATE REQUEST", b"\x30\x00").as_bytes());
    assert!(e.to_string().contains("found CERTIFICATE REQUEST"), "{e}");
}

#[test]
fn malformed_json_says_where() {
    let e = refused(b"{\"keys\": [\n  {\"kty\": \"RSA\",]\n}");
    assert!(matches!(e, AnchorError::Json { line: 2, .. }), "{e:?}");
    let e =
        refused(br#"{"issuer":"https://login.example","jwks_uri":"https://login.example/keys"}"#);
    assert!(e.to_string().contains("jwks_uri"), "{e}");
    assert!(matches!(
        refused(b"{\"keys\":[1]}"),
        AnchorError::NoJwk { .. }
    ));
}

#[test]
fn anything_else_is_refused_with_what_it_looks_like() {
    assert_eq!(refused(b""), AnchorError::Empty);
    assert_eq!(refused(b" \n\t"), AnchorError::Empty);
    assert_eq!(refused(ADFS_SHA1.as_bytes()), AnchorError::Thumbprint);
    assert_eq!(
        refused(b"[package]\nname = \"x\"\n"),
        AnchorError::Unrecognized
    );
    assert_eq!(
        refused(b"\x89PNG\r\n\x1a\n\x00\x00"),
        AnchorError::Unrecognized
    );
    assert_eq!(refused(b"aGVsbG8gd29ybGQ="), AnchorError::Base64);
    assert!(matches!(
        refused(b"\x30\x82\x01\x00\xff\xfe"),
        AnchorError::Der { .. }
    ));
    let pfx_head = b"\x30\x82\x0a\x00\x02\x01\x03\x30\x82\x09\xc6\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01\xa0\x82";
    assert_eq!(refused(pfx_head), AnchorError::Pkcs12);
    let tight = Limits {
        max_body: 10,
        ..Limits::default()
    };
    let mut trust = Trust::default();
    assert_eq!(
        trust.add_anchor_file(ADFS_PEM, "f", &tight),
        Err(AnchorError::TooLarge {
            size: ADFS_PEM.len(),
            limit: 10
        })
    );
}

#[test]
fn the_same_anchor_twice_is_trusted_once_with_its_first_source() {
    let mut trust = Trust::default();
    let limits = Limits::default();
    trust
        .add_anchor_file(ADFS_PEM, "--trust-cert a.pem", &limits)
        .unwrap();
    let again = trust
        .add_anchor_file(&der_of(ADFS_PEM), "--trust-cert a.cer", &limits)
        .unwrap();
    assert_eq!(again.certs, 1, "counted as found");
    assert_eq!(trust.certs.len(), 1);
    assert_eq!(trust.certs[0].source, "--trust-cert a.pem");
}

proptest::proptest! {
    #[test]
    fn no_input_makes_the_reader_panic(
        start in proptest::sample::select(vec![
            "", "-----BEGIN CERTIFICATE-----\n", "-----BEGIN RSA PUBLIC KEY-----\n", "{\"keys\":",
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">", "MII",
            "\u{feff}", "0",
        ]),
        rest in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        der_head in proptest::bool::ANY,
    ) {
        let mut bytes = if der_head { vec![0x30, 0x82] } else { start.as_bytes().to_vec() };
        bytes.extend_from_slice(&rest);
        let (trust, r) = load(&bytes);
        proptest::prop_assert!(r.is_ok() || trust.is_empty());
        let _ = Trust::default().add_jwks_json(&bytes, "j");
        let _ = Thumbprint::parse(&String::from_utf8_lossy(&bytes));
    }
}

proptest::proptest! {
    #[test]
    fn a_damaged_certificate_is_refused_or_read_never_a_panic(
        at in 0usize..2000,
        value in proptest::num::u8::ANY,
        cut in 0usize..2000,
        as_pem in proptest::bool::ANY,
    ) {
        let mut bytes = if as_pem { ADFS_PEM.to_vec() } else { der_of(ADFS_PEM) };
        let len = bytes.len();
        bytes[at % len] = value;
        bytes.truncate(len - cut % len);
        let _ = load(&bytes);
    }
}
