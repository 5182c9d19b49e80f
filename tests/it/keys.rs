//! Decryption keys as people hold them, end to end: `--key FILE` with PEM (PKCS#8, PKCS#1,
//! SEC1, encrypted PKCS#8), DER, PFX, a JWK or JWKS with private members, or hex, told apart by
//! content, on `analyze`, `decode` and `view`; every bad key file refused with exit code 2 and
//! the file named, never the password. The key files are the decoders' synthetic test keys
//! (`decoders/tests/fixtures/keys`).

use std::path::Path;

use clap::Parser as _;
use idscope::cli::{Cli, Command};
use idscope::commands::load_user_trust;
use idscope_decoders::Trust;

use crate::util::{root, stderr};

fn key_file(name: &str) -> String {
    root()
        .join("decoders/tests/fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

/// Writes `bytes` to `dir/name` and returns the path as text.
fn put(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// The trust `idscope COMMAND ARGS x.har` would load, parsed by the real command line.
fn trust_from(command: &str, args: &[&str]) -> anyhow::Result<Trust> {
    let mut argv = vec!["idscope", command];
    argv.extend_from_slice(args);
    argv.push("x.har");
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Analyze(a) => load_user_trust(&a.decode),
        Command::View(v) => load_user_trust(&v.decode),
        _ => unreachable!(),
    }
}

fn kinds(t: &Trust) -> Vec<String> {
    t.decryption
        .keys
        .iter()
        .map(|k| format!("{} from {}", k.material.describe(), k.source))
        .collect()
}

#[test]
fn every_key_form_loads_on_analyze_and_view() {
    let dir = tempfile::tempdir().unwrap();
    let hex = put(
        dir.path(),
        "session.hex",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
    );
    let jwks = put(
        dir.path(),
        "keys.json",
        r#"{"keys":[{"kty":"oct","kid":"k1","k":"GawgguFyGrWKav7AX4VKUg"},
                    {"kty":"OKP","crv":"X25519","kid":"k2",
                     "x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
                     "d":"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo"}]}"#,
    );
    for command in ["analyze", "view"] {
        for (file, want) in [
            (key_file("rsa-pkcs8.pem"), "RSA 2048 bits"),
            (key_file("rsa-pkcs1.pem"), "RSA 2048 bits"),
            (key_file("rsa-pkcs8.der"), "RSA 2048 bits"),
            (key_file("ec-p256-sec1.pem"), "EC P-256"),
            (key_file("ec-p384-pkcs8.pem"), "EC P-384"),
            (key_file("x25519.pem"), "X25519"),
            (hex.clone(), "symmetric 32 bytes"),
        ] {
            let t = trust_from(command, &["--key", &file]).unwrap();
            assert_eq!(
                kinds(&t),
                [format!("{want} from --key {file}")],
                "{command}"
            );
        }
        for file in ["rsa-encrypted.pem", "rsa.pfx", "rsa-legacy.pfx"] {
            let file = key_file(file);
            let t =
                trust_from(command, &["--key", &file, "--key-password", "idscope-test"]).unwrap();
            assert_eq!(kinds(&t), [format!("RSA 2048 bits from --key {file}")]);
        }
        let t = trust_from(command, &["--key", &jwks, "--key", &hex]).unwrap();
        assert_eq!(
            kinds(&t),
            [
                format!("symmetric 16 bytes from --key {jwks} (kid k1)"),
                format!("X25519 from --key {jwks} (kid k2)"),
                format!("symmetric 32 bytes from --key {hex}"),
            ]
        );
        // Keys are not trust anchors.
        assert!(t.is_empty());
    }
}

/// Runs `idscope decode` with a key file and a harmless blob; returns exit code and stderr.
fn decode_with(args: &[&str], env_password: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_idscope"));
    cmd.arg("decode").args(args).arg("-");
    cmd.env_remove("IDSCOPE_KEY_PASSWORD");
    if let Some(p) = env_password {
        cmd.env("IDSCOPE_KEY_PASSWORD", p);
    }
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"{\"a\":1}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), stderr(&out))
}

#[test]
fn bad_key_files_exit_2_naming_the_file_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let broken = put(
        dir.path(),
        "broken.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n",
    );
    let path_only = put(dir.path(), "link.pem", "./oktaenc_sp_encryption_key.pem");
    let public_jwk = put(
        dir.path(),
        "public.json",
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#,
    );
    let missing = dir.path().join("missing.pem").display().to_string();
    let cert = key_file("rsa-cert.pem");
    let ed = key_file("ed25519.pem");
    let pfx = key_file("rsa.pfx");
    for (args, says) in [
        (vec!["--key", &broken], "PEM block 1 (RSA PRIVATE KEY)"),
        (vec!["--key", &path_only], "not a key file"),
        (vec!["--key", &public_jwk], "--trust-cert"),
        (vec!["--key", &cert], "no private key"),
        (vec!["--key", &ed], "cannot decrypt"),
        (vec!["--key", &missing], "cannot read"),
        (vec!["--key", &pfx], "protected by a password"),
        (
            vec!["--key", &pfx, "--key-password", "hunter2-wrong"],
            "wrong password",
        ),
    ] {
        let (code, err) = decode_with(&args, None);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        let file = args[1];
        assert!(err.contains(&format!("--key {file}")), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!err.to_lowercase().contains("panic"), "{err}");
    }
    // The password from the environment, wrong and right.
    let (code, err) = decode_with(&["--key", &pfx], Some("hunter2-env"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("wrong password") && !err.contains("hunter2"),
        "{err}"
    );
    let (code, err) = decode_with(&["--key", &pfx], Some("idscope-test"));
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn help_never_shows_the_password_from_the_environment() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_idscope"));
    let out = cmd
        .args(["analyze", "--help"])
        .env("IDSCOPE_KEY_PASSWORD", "hunter2-help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--key-password"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
