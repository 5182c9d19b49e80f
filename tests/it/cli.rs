//! The `idscope` binary end to end: analyze, decode and convert on real files.

use crate::util::{corpus, idscope, stderr, stdout};

const SAMPLE: &str = "captures/aadconnect-sync.har";

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "analyze", "decode", "convert", "redact", "proxy", "record", "ca", "view",
    ] {
        let o = idscope(&[sub, "--help"], None);
        assert!(o.status.success(), "{sub} --help failed");
        assert!(
            stdout(&o).contains("Examples:"),
            "{sub} --help has no example"
        );
    }
}

#[test]
fn analyze_sample_explains_the_sync_account_sign_in() {
    let o = idscope(&["analyze", SAMPLE], None);
    // Exit 1: the failed ROPC attempt (AADSTS50126) is an error finding.
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    // One row per flow, numbered from 1.
    for n in 1..=4 {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{n}"))),
            "no row {n}:\n{out}"
        );
    }
    assert!(out.contains("realm"), "{out}");
    assert!(out.contains("Managed"), "{out}");
    assert!(out.contains("AADSTS50126"), "{out}");
    // The cross-flow check: the access token verifies against the JWKS answered in flow #4.
    assert!(
        out.contains("signature verified with kid=nOo3ZDrODXEK1jKWhXslHR_KXEg from flow #4"),
        "{out}"
    );
    // The password is a secret: masked by default.
    assert!(
        !out.contains("Summer2026!") && !out.contains("Winter2026!"),
        "{out}"
    );
}

#[test]
fn analyze_json_is_one_object_per_flow_and_masks_secrets_unless_asked() {
    let o = idscope(&["analyze", "--json", "--fail-on", "never", SAMPLE], None);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let out = stdout(&o);
    let flows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("each line is JSON"))
        .filter(|v| v["type"] == "flow")
        .collect();
    assert_eq!(flows.len(), 4);
    assert_eq!(flows[0]["id"], 1);
    assert_eq!(flows[2]["method"], "POST");
    assert!(
        flows[2]["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "oauth")
    );
    assert!(!out.contains("Summer2026!"));
    let shown = idscope(&["analyze", "--json", "--show-secrets", SAMPLE], None);
    assert!(stdout(&shown).contains("Summer2026!"));
}

#[test]
fn analyze_reads_every_peer_har_and_refuses_the_broken_one() {
    let (mut read, mut refused) = (0, 0);
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let o = idscope(&["analyze", path.to_str().unwrap()], None);
        if name == "broken-brokenfile.har" {
            refused += 1;
            assert_eq!(
                o.status.code(),
                Some(2),
                "{name} must be refused with exit 2"
            );
            let err = stderr(&o);
            assert!(
                err.contains("broken-brokenfile.har") && err.contains("byte"),
                "{err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        } else {
            // 0, or 1 when the capture holds an error finding.
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{name}: {}",
                stderr(&o)
            );
            read += 1;
        }
    }
    assert_eq!(
        (read, refused),
        (14, 1),
        "the corpus README lists 14 loadable files and one broken one"
    );
}

#[test]
fn decode_auto_detects_a_jwt_on_standard_input() {
    // header {"alg":"none","typ":"JWT"}, claims {"upn":"alice@contoso.com","exp":1}
    let token =
        b"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1cG4iOiJhbGljZUBjb250b3NvLmNvbSIsImV4cCI6MX0.\n";
    let o = idscope(&["decode"], Some(token));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("[jwt]") && out.contains("alice@contoso.com"),
        "{out}"
    );
    assert!(out.to_lowercase().contains("expired"), "{out}");
}

#[test]
fn decode_rejects_unknown_kinds_and_unrecognised_input_with_exit_2() {
    let o = idscope(&["decode", "--as", "nope"], Some(b"x"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown decoder `nope`"));
    let o = idscope(&["decode", "--as", "jwt"], Some(b"not a token at all"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot decode as jwt"),
        "{}",
        stderr(&o)
    );
    let o = idscope(&["decode"], Some(b"\x00\x01\x02 plain binary junk"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not recognised"), "{}", stderr(&o));
}

#[test]
fn decode_reads_a_url_and_a_form_and_base64_of_json() {
    let o = idscope(&["decode", "-"], Some(b"https://sts.contoso.test/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=abc"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("urn:federation:MicrosoftOnline"),
        "{}",
        stdout(&o)
    );
    let b64 = b"eyJ0b2tlbl90eXBlIjoiQmVhcmVyIiwiZXhwaXJlc19pbiI6MzU5OX0=";
    let o = idscope(&["decode", "-"], Some(b64));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("token_type"), "{}", stdout(&o));
}

#[test]
fn convert_writes_a_private_file_and_refuses_to_clobber() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.har");
    let out_s = out.to_str().unwrap();
    let o = idscope(&["convert", SAMPLE, "-o", out_s], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = idscope(&["convert", SAMPLE, "-o", out_s], None);
    assert_eq!(again.status.code(), Some(2), "must refuse to overwrite");
    let forced = idscope(&["convert", SAMPLE, "-o", out_s, "--force"], None);
    assert!(forced.status.success(), "{}", stderr(&forced));
    // The converted file analyzes the same.
    let a = idscope(&["analyze", "--json", SAMPLE], None);
    let b = idscope(&["analyze", "--json", out_s], None);
    assert_eq!(stdout(&a).lines().count(), stdout(&b).lines().count());
}

#[test]
fn convert_of_a_broken_file_fails_with_exit_2_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.har");
    let broken = corpus().join("broken-brokenfile.har");
    let o = idscope(
        &[
            "convert",
            broken.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("broken-brokenfile.har"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn decode_as_each_xml_and_identity_kind_explains_a_pasted_body() {
    use crate::util::fixture_body;
    let prt_cookie = {
        let text =
            std::fs::read_to_string(crate::util::fixture("prt/prt_cookie_kdfv2_header.http"))
                .unwrap();
        let line = text
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with("x-ms-refreshtokencredential")
            })
            .unwrap();
        line.split_once(':').unwrap().1.trim().as_bytes().to_vec()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "nbfx",
            fixture_body("provisioning/get_company_configuration_request.http"),
            "GetCompanyConfiguration",
        ),
        (
            "soap",
            fixture_body("wstrust/rst_13_usernamemixed.http"),
            "SOAP 1.2",
        ),
        (
            "provisioning",
            fixture_body("provisioning/provision_objects_request.http"),
            "ac7f7894-",
        ),
        (
            "saml",
            fixture_body("saml/saml11_assertion_rsa_sha256.http"),
            "ImmutableID",
        ),
        (
            "wsfed",
            fixture_body("wsfed/adfs_autopost_page.http"),
            "ADFS auto-POST",
        ),
        (
            "wstrust",
            fixture_body("wstrust/rstr_2005.http"),
            "WS-Trust 2005",
        ),
        (
            "scim",
            fixture_body("scim/user_create_request.http"),
            "SCIM",
        ),
        ("prt", prt_cookie, "x-ms-RefreshTokenCredential"),
        (
            "prt",
            fixture_body("prt/session_signed_jwe_gcm_response.http"),
            "AES-256-GCM",
        ),
    ];
    for (kind, body, expect) in cases {
        let o = idscope(&["decode", "--as", kind, "-"], Some(&body));
        assert!(o.status.success(), "--as {kind}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with(&format!("[{kind}]")), "--as {kind}: {out}");
        assert!(
            out.contains(expect),
            "--as {kind} should mention {expect}: {out}"
        );
        // Auto-detection finds the same interpretation among its answers.
        let auto = stdout(&idscope(&["decode", "-"], Some(&body)));
        assert!(
            auto.contains(&format!("[{kind}]")),
            "auto-detect missed {kind}: {auto}"
        );
    }
}
