//! Trust anchors as people hold them, end to end: `--trust-cert FILE` with a certificate (PEM,
//! a bundle, DER, bare base64), a public key (SPKI or PKCS#1), a JWK or JWKS, or federation
//! metadata, told apart by content; `--trust-thumbprint HEX`; and every bad input refused with
//! exit code 2 and the file or value named. Real anchors come from the shared corpus
//! (`shared/corpus/realworld`, listed in its MANIFEST.tsv), generated ones from rcgen.

use std::path::{Path, PathBuf};

use clap::Parser as _;
use idscope::cli::{Cli, Command, DecodeOpts};
use idscope::commands::load_user_trust;
use idscope_decoders::Trust;
use idscope_decoders::trust::Thumbprint;

use crate::util::{fixture_body, idscope, root, stderr, stdout};

/// `shared/corpus/realworld/<rel>` beside the repository (the nearest ancestor that has it).
fn realworld(rel: &str) -> PathBuf {
    root()
        .ancestors()
        .map(|a| a.join("shared/corpus/realworld"))
        .find(|p| p.is_dir())
        .expect("../shared/corpus/realworld next to the repository")
        .join(rel)
}

/// The DER of the first PEM block of a file.
fn pem_der(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    x509_parser::pem::Pem::iter_from_buffer(&bytes)
        .next()
        .unwrap()
        .unwrap()
        .contents
}

fn b64(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Writes `bytes` to `dir/name` and returns the path as text.
fn put(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// The trust `idscope analyze ARGS x.har` would load, parsed by the real command line.
fn trust_from_args(args: &[&str]) -> anyhow::Result<Trust> {
    let mut argv = vec!["idscope", "analyze"];
    argv.extend_from_slice(args);
    argv.push("x.har");
    let Command::Analyze(a) = Cli::try_parse_from(argv).unwrap().command else {
        unreachable!()
    };
    load_user_trust(&a.decode)
}

fn trust_cert(path: &str) -> Trust {
    load_user_trust(&DecodeOpts {
        trust_cert: vec![PathBuf::from(path)],
        ..DecodeOpts::default()
    })
    .unwrap_or_else(|e| panic!("{path}: {e:#}"))
}

/// A self-signed P-256 certificate and its key pair, made now.
fn generated(cn: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![cn.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert, key)
}

#[test]
fn real_world_anchor_files_load_by_content_whatever_their_name() {
    let dir = tempfile::tempdir().unwrap();
    // Each corpus file copied under a name that says nothing (or the wrong thing) about it.
    let copy =
        |rel: &str, name: &str| put(dir.path(), name, std::fs::read(realworld(rel)).unwrap());

    let cert = copy("saml/python3-saml/certs/idp-settings1.pem", "anchor.json");
    let t = trust_cert(&cert);
    assert_eq!(
        (t.certs.len(), t.keys.len(), t.public_keys.len()),
        (1, 0, 0)
    );
    assert_eq!(t.certs[0].source, format!("--trust-cert {cert}"));
    assert_eq!(
        t.certs[0].der,
        pem_der(&realworld("saml/python3-saml/certs/idp-settings1.pem"))
    );

    let md = copy("metadata/azuread-wsfederation_metadata.xml", "anchor.pem");
    let t = trust_cert(&md);
    assert_eq!(
        (t.certs.len(), t.keys.len()),
        (2, 0),
        "two distinct signing certificates"
    );
    for c in &t.certs {
        assert_eq!(
            c.source,
            format!("--trust-cert {md} (signing cert CN=accounts.accesscontrol.windows.net)")
        );
    }
    assert!(
        t.certs
            .iter()
            .any(|c| c.der == pem_der(&realworld("metadata/azuread-wsfederation_metadata.pem")))
    );

    // SP metadata with one signing and one encryption KeyDescriptor: only the signing one.
    let md = copy(
        "metadata/python3-saml/signed_metadata_settings1.xml",
        "sp.cer",
    );
    let t = trust_cert(&md);
    assert_eq!(t.certs.len(), 1);
    assert_eq!(
        t.certs[0].source,
        format!("--trust-cert {md} (signing cert CN=feide.erlang.no)")
    );

    let jwks = copy("jwt/azuread/aad-jwks-v1.json", "keys.pem");
    let t = trust_cert(&jwks);
    assert_eq!((t.certs.len(), t.keys.len()), (0, 2));
    assert!(
        t.keys
            .iter()
            .all(|k| k.source == format!("--trust-cert {jwks}"))
    );

    let jwk = copy("jwt/rfc7520/jwk_3_3.rsa_public_key.json", "key.txt");
    assert_eq!(trust_cert(&jwk).keys.len(), 1);

    // A PKCS#1 `RSA PUBLIC KEY`, kept as a key without a certificate.
    let pkcs1 = copy("saml/xml-crypto/certs/saml_external_ns.pem", "key.xml");
    let t = trust_cert(&pkcs1);
    assert_eq!((t.certs.len(), t.public_keys.len()), (0, 1));
    assert_eq!(t.public_keys[0].source, format!("--trust-cert {pkcs1}"));
}

#[test]
fn generated_certificates_and_keys_load_from_pem_der_base64_and_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = generated("signer.example");
    let (other, _) = generated("next-signer.example");
    let der = cert.der().to_vec();

    for (name, bytes) in [
        ("cert.pem", cert.pem().into_bytes()),
        ("cert.cer", der.clone()),
        ("cert.b64", format!("{}\n", b64(&der)).into_bytes()),
    ] {
        let path = put(dir.path(), name, bytes);
        let t = trust_cert(&path);
        assert_eq!(t.certs.len(), 1, "{name}");
        assert_eq!(t.certs[0].der, der, "{name}");
    }

    let bundle = put(
        dir.path(),
        "bundle.pem",
        format!("{}{}{}", cert.pem(), key.serialize_pem(), other.pem()),
    );
    let t = trust_cert(&bundle);
    assert_eq!(
        t.certs.len(),
        2,
        "both certificates, the private key skipped"
    );
    assert_eq!(t.certs[1].der, other.der().to_vec());

    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    for (name, bytes) in [
        ("key.pem", key.public_key_pem().into_bytes()),
        ("key.der", spki.clone()),
    ] {
        let path = put(dir.path(), name, bytes);
        let t = trust_cert(&path);
        assert_eq!((t.certs.len(), t.public_keys.len()), (0, 1), "{name}");
        let found = t.public_keys_matching(&spki);
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(found[0].source, format!("--trust-cert {path}"));
    }
}

#[test]
fn trust_options_add_up_across_files_and_thumbprints() {
    let (cert, _) = generated("signer.example");
    let der = cert.der().to_vec();
    let sha1 = Thumbprint::sha1_of(&der).to_string().to_uppercase();
    let sha1_colons: Vec<String> = sha1
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let sha1_colons = sha1_colons.join(":");
    let sha256 = Thumbprint::sha256_of(&der).to_string();
    let sha256_spaced: Vec<String> = sha256
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let sha256_spaced = sha256_spaced.join(" ");

    let dir = tempfile::tempdir().unwrap();
    let pem = put(dir.path(), "a.pem", cert.pem());
    let jwks = realworld("jwt/azuread/aad-jwks-v2.json");
    let t = trust_from_args(&[
        "--trust-cert",
        &pem,
        "--trust-cert",
        jwks.to_str().unwrap(),
        "--trust-thumbprint",
        &sha1_colons,
    ])
    .unwrap();
    assert_eq!(t.certs.len(), 1);
    assert!(!t.keys.is_empty());
    let pin = t.pinned(&der).expect("pinned by its SHA-1 thumbprint");
    assert_eq!(
        pin.source,
        format!("--trust-thumbprint {}", sha1.to_lowercase())
    );

    let t = trust_from_args(&["--trust-thumbprint", &sha256_spaced]).unwrap();
    assert_eq!(t.thumbprints.len(), 1);
    assert_eq!(
        t.pinned(&der).map(|p| p.source.as_str()),
        Some(format!("--trust-thumbprint {sha256}").as_str())
    );
    let (unpinned, _) = generated("someone-else.example");
    assert!(t.pinned(unpinned.der()).is_none());

    // The binary accepts both, with both commands that decode.
    let token = realworld("jwt/azuread/aad-idtoken-v1.jwt");
    for (sub, input) in [
        ("analyze", "captures/federated-signin.har"),
        ("decode", token.to_str().unwrap()),
    ] {
        let o = idscope(
            &[
                sub,
                "--trust-thumbprint",
                &sha1_colons,
                "--trust-thumbprint",
                &sha256_spaced,
                input,
            ],
            None,
        );
        assert_ne!(o.status.code(), Some(2), "{sub}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{sub}: {}", stderr(&o));
    }
}

#[test]
fn verdicts_name_the_anchor_file_they_verified_with() {
    let dir = tempfile::tempdir().unwrap();
    // A real ADFS response and its token-signing certificate, as PEM, DER and bare base64.
    let response = realworld("saml/gosaml2/adfs_response.b64");
    let pem = realworld("saml/gosaml2/adfs_idp_signing_cert.pem");
    let der = pem_der(&pem);
    for path in [
        pem.to_str().unwrap().to_string(),
        put(dir.path(), "adfs.bin", &der),
        put(dir.path(), "adfs.txt", b64(&der)),
    ] {
        let o = idscope(
            &["decode", response.to_str().unwrap(), "--trust-cert", &path],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains(&format!(
                "verified with certificate CN=ADFS Signing - fs.spstest2.com (thumbprint \
                 11b92e7f19caf39d46e0c03da8c51db10a2156db) from --trust-cert {path}"
            )),
            "{out}"
        );
    }

    // A real Azure AD id_token against the JWKS it was signed with, given to --trust-cert.
    let jwks = realworld("jwt/azuread/aad-jwks-v1.json");
    let o = idscope(
        &[
            "decode",
            realworld("jwt/azuread/aad-idtoken-v1.jwt")
                .to_str()
                .unwrap(),
            "--trust-cert",
            jwks.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        stdout(&o).contains(&format!(
            "signature verified with kid=MnC_VZcATfM5pOYiJHMba9goEKY from --trust-cert {}",
            jwks.display()
        )),
        "{}",
        stdout(&o)
    );

    // The federated sign-in without its metadata flow; the metadata given as a file instead.
    let har = dir.path().join("no-metadata.har");
    let mut flows = crate::federated::federated_flows();
    let metadata = flows.pop().unwrap();
    assert!(
        metadata.request.url.ends_with("FederationMetadata.xml"),
        "the last flow is the metadata fetch"
    );
    idscope::capture::HarWriter::write_all(&har, &flows).unwrap();
    let md = put(
        dir.path(),
        "FederationMetadata.dat",
        fixture_body("wsfed/federation_metadata.http"),
    );
    let o = idscope(
        &["analyze", "--trust-cert", &md, har.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "from --trust-cert {md} (signing cert CN=ADFS Signing - sts.contoso.test)"
        )),
        "{out}"
    );
    assert!(out.contains("verified with certificate"), "{out}");
}

#[test]
fn bad_trust_files_exit_2_naming_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cert_pem =
        std::fs::read_to_string(realworld("saml/python3-saml/certs/idp-settings2.pem")).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            d.join("missing.pem").to_str().unwrap().into(),
            "cannot read",
        ),
        (d.to_str().unwrap().into(), "cannot read"),
        (
            "Cargo.toml".into(),
            "not a certificate (PEM, DER or base64)",
        ),
        (put(d, "empty.pem", ""), "empty"),
        (
            put(d, "cut.pem", &cert_pem[..cert_pem.len() / 2]),
            "PEM block 1 is malformed: no -----END line",
        ),
        (
            put(d, "garbled.pem", cert_pem.replacen("MII", "M!I", 1)),
            "PEM block 1 is malformed",
        ),
        (
            put(
                d,
                "wrong.pem",
                "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
            ),
            "PEM block 1 (CERTIFICATE) is not an X.509 certificate",
        ),
        (
            put(d, "key-only.pem", generated("x").1.serialize_pem()),
            "only a private key",
        ),
        (put(d, "bad.der", b"\x30\x82\x01\x00\xff\xfe\x00"), "DER"),
        (
            put(d, "keys.json", "{\"keys\": [\n  {\"kty\": \"RSA\",]\n}"),
            "invalid JSON at line 2",
        ),
        (
            put(
                d,
                "config.json",
                r#"{"issuer":"x","jwks_uri":"https://x/keys"}"#,
            ),
            "jwks_uri",
        ),
        (
            realworld("metadata/mex/microsoft.mex.xml")
                .to_str()
                .unwrap()
                .into(),
            "is not federation metadata",
        ),
        (put(d, "broken.xml", "<md:EntityDescriptor"), "invalid XML"),
        (
            put(d, "thumb.txt", "3270BF5597004DF339A4E62224731B6BD82810A6\n"),
            "--trust-thumbprint",
        ),
    ];
    let input = realworld("jwt/azuread/aad-idtoken-v1.jwt");
    for (path, why) in &cases {
        for args in [
            vec![
                "analyze",
                "--trust-cert",
                path,
                "captures/federated-signin.har",
            ],
            vec!["decode", "--trust-cert", path, input.to_str().unwrap()],
        ] {
            let o = idscope(&args, None);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!("--trust-cert {path}")),
                "{args:?} names the file: {err}"
            );
            assert!(err.contains(why), "{args:?} says {why:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    // --jwks refuses the same way.
    let o = idscope(
        &[
            "analyze",
            "--jwks",
            "Cargo.toml",
            "captures/federated-signin.har",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--jwks Cargo.toml: invalid JSON"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_thumbprints_exit_2_naming_the_value() {
    for (value, why) in [
        ("12:34", "4 hex digits"),
        ("3270BF5597004DF339A4E62224731B6BD82810A", "39 hex digits"),
        (
            "3270BF5597004DF339A4E62224731B6BD82810AZ",
            "'Z' (character 40)",
        ),
        (
            "sha1=3270BF5597004DF339A4E62224731B6BD82810A6",
            "'s' (character 1)",
        ),
        ("", "0 hex digits"),
    ] {
        for sub in ["analyze", "decode"] {
            let o = idscope(
                &[
                    sub,
                    "--trust-thumbprint",
                    value,
                    "captures/federated-signin.har",
                ],
                None,
            );
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{value:?}: {err}");
            assert!(
                err.contains(&format!("'{value}'")) && err.contains("--trust-thumbprint"),
                "{value:?}: {err}"
            );
            assert!(err.contains(why), "{value:?} says {why:?}: {err}");
        }
    }
}

/// A certificate pinned by its thumbprint makes the signature made with it verified, named by
/// the pin; without the pin the same signature is only consistent with an untrusted certificate.
#[test]
fn a_pinned_thumbprint_verifies_the_certificate_the_message_carries() {
    let response = realworld("saml/ruby-saml/adfs_response_sha256.xml");
    let pin = "28:74:9B:E8:1F:E8:10:9C:A8:7C:A9:C3:E3:C5:01:6C:92:1C:B4:BA";
    let pinned = idscope(
        &[
            "decode",
            "--trust-thumbprint",
            pin,
            response.to_str().unwrap(),
        ],
        None,
    );
    let text = stdout(&pinned);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    assert!(
        text.contains("XML signature on the Response: verified")
            || text.contains("XML signature on the SAML 2.0 assertion: verified"),
        "{text}"
    );
    assert!(text.contains("--trust-thumbprint"), "{text}");
    let unpinned = idscope(&["decode", response.to_str().unwrap()], None);
    let text = stdout(&unpinned);
    assert!(!text.contains(": verified with"), "{text}");
}

/// A detached JWS (RFC 7520 §4.5) verifies once its content is given with --payload, and names
/// where the content came from; without it, it is not checked.
#[test]
fn a_detached_jws_verifies_with_the_payload_given() {
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(realworld(
            "jwt/rfc7520/jws_4_5.signature_with_detached_content.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token = put(
        dir.path(),
        "detached.jws",
        doc["output"]["compact"].as_str().unwrap(),
    );
    let key = put(
        dir.path(),
        "key.jwk",
        doc["input"]["key"].to_string().into_bytes(),
    );
    let payload = put(
        dir.path(),
        "content.txt",
        doc["input"]["payload"].as_str().unwrap(),
    );
    let args = |extra: &[&str]| -> String {
        let mut a = vec!["decode", "--jwks", key.as_str()];
        a.extend_from_slice(extra);
        a.push(token.as_str());
        stdout(&idscope(&a, None))
    };
    let without = args(&[]);
    assert!(
        without.contains("not checked: detached payload"),
        "{without}"
    );
    let with = args(&["--payload", payload.as_str()]);
    assert!(with.contains("signature verified with"), "{with}");
    assert!(
        with.contains("over the detached content from --payload"),
        "{with}"
    );
}
