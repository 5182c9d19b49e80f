//! Certificate client credentials end to end, through `idscope record` to the reference server:
//! the scripted `sync-app` scenario (Entra Connect Sync with application identity), and a real
//! client, MSAL Python's
//! `ConfidentialClientApplication` signs in as the reference server's Entra Connect Sync
//! application (`acquire_token_for_client` for the Microsoft Entra AD Synchronization Service),
//! once with the private key and SHA-1 thumbprint and once with the public certificate, through
//! `idscope record` mapped to the server; `idscope analyze` then explains the recording: the
//! application and the resource by name, the assertion's claims, the certificate its thumbprint
//! names and the signature verified with `--trust-cert` of the application's certificate. The
//! certificate and key come from the testbed, as `idscope fixture --app-cert-out` writes them
//! (tested here too).
//!
//! Needs Python 3 with `msal`, `requests` and `cryptography` (MSAL's own dependencies). A missing
//! one fails the test unless `IDSCOPE_SKIP_INTEROP` is set, in which case it prints a loud
//! SKIPPED line (as `interop_fixture.rs` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use idscope::fixture::FixtureConfig;
use idscope::testbed::{
    AppCertificate, SYNC_APP_CLIENT_ID, SYNC_APP_NAME, SYNC_ROLE, SYNC_SERVICE_APP, TENANT_ID,
};
use serde_json::Value;

use crate::proxy::spawn_record_mapped;
use crate::support::{ChildGuard, ReferenceServer, lines_until};
use crate::util::{idscope, stderr, stdout};

const TEST: &str = "msal_python_signs_in_with_a_certificate_and_analyze_explains_it";

/// True when Python has what MSAL needs; false, after a SKIPPED line, only when something is
/// missing and `IDSCOPE_SKIP_INTEROP` is set. Panics otherwise.
fn python_ready() -> bool {
    for module in ["msal", "requests", "cryptography"] {
        let ok = Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            continue;
        }
        let reason = format!("Python module `{module}` is missing (pip install msal requests)");
        if let Some(why) = std::env::var_os("IDSCOPE_SKIP_INTEROP") {
            eprintln!("SKIPPED: {TEST}: {reason} (IDSCOPE_SKIP_INTEROP={why:?})");
            return false;
        }
        panic!("{reason}; set IDSCOPE_SKIP_INTEROP=<reason> to skip this test");
    }
    true
}

/// Every node of a decoded tree in `analyze --json` output with this label.
fn nodes<'a>(v: &'a Value, label: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if m.get("label").and_then(Value::as_str) == Some(label) {
                out.push(v);
            }
            for c in m.values() {
                nodes(c, label, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| nodes(c, label, out)),
        _ => {}
    }
}

/// The value of the first node labelled `label` under `v`.
fn value<'a>(v: &'a Value, label: &str) -> &'a str {
    let mut found = Vec::new();
    nodes(v, label, &mut found);
    found
        .first()
        .and_then(|n| n["value"].as_str())
        .unwrap_or_else(|| panic!("no {label} node in {v:#}"))
}

/// `idscope analyze --json` of `har` with `extra` options: the flows and the stories.
fn analyze(har: &Path, extra: &[&str]) -> (Vec<Value>, Vec<Value>) {
    let har = har.display().to_string();
    let mut args = vec!["analyze", "--json"];
    args.extend_from_slice(extra);
    args.push(&har);
    let o = idscope(&args, None);
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 1),
        "{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |t: &str| -> Vec<Value> { lines.iter().filter(|l| l["type"] == t).cloned().collect() };
    (of("flow"), of("story"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Starts the reference server and `idscope record` mapped to it (writing `har`), runs `client`
/// with the recorder's URL and CA certificate, then stops the recorder as a person does
/// (SIGTERM, so it closes the recording) and the server; returns what `client` returned.
fn through_recorder<T, F>(dir: &Path, har: &Path, client: impl FnOnce(String, PathBuf) -> F) -> T
where
    F: std::future::Future<Output = T>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = ReferenceServer::start(FixtureConfig {
            seed: Some(23),
            ..FixtureConfig::default()
        })
        .await;
        let fixture_ca = write(dir, "fixture-ca.pem", server.ca_pem());
        let ca_dir = dir.join("ca");
        let maps: Vec<String> = server
            .proxy_map()
            .into_iter()
            .map(|(host, addr)| format!("{host}={addr}"))
            .collect();
        let (recorder, addr, _log) = spawn_record_mapped(&ca_dir, &fixture_ca, &maps, har);
        let out = client(
            format!("http://{addr}"),
            ca_dir.join(idscope::proxy::ca::CERT_FILE),
        )
        .await;
        let term = Command::new("kill")
            .args(["-TERM", &recorder.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        recorder.into_inner().wait().unwrap();
        server.shutdown().await;
        out
    })
}

/// The flows of `flows` sent to the v2 token endpoint.
fn v2_token_requests(flows: &[Value]) -> Vec<&Value> {
    flows
        .iter()
        .filter(|f| {
            f["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/oauth2/v2.0/token"))
        })
        .collect()
}

#[test]
fn msal_python_signs_in_with_a_certificate_and_analyze_explains_it() {
    if !python_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cert = AppCertificate::sync_app().unwrap();
    let cert_pem = write(dir.path(), "sync-app.pem", &cert.cert_pem());
    let key_pem = write(dir.path(), "sync-app.key", &cert.key_pem());
    let har = dir.path().join("msal.har");
    let out = through_recorder(dir.path(), &har, |proxy, proxy_ca| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/msal_cert.py");
        tokio::process::Command::new("python3")
            .arg(script)
            .arg(proxy)
            .arg(proxy_ca)
            .args([&cert_pem, &key_pem])
            .args([SYNC_APP_CLIENT_ID, TENANT_ID, SYNC_SERVICE_APP])
            .kill_on_drop(true)
            .output()
    })
    .unwrap();
    let (py_out, py_err) = (stdout(&out), stderr(&out));
    let line = py_out
        .lines()
        .find_map(|l| l.strip_prefix("IDSCOPE_INTEROP_OK "))
        .unwrap_or_else(|| panic!("MSAL failed\nstdout: {py_out}\nstderr: {py_err}"));
    let msal: Value = serde_json::from_str(line).unwrap();
    for case in ["thumbprint", "public_certificate"] {
        let c = &msal["cases"][case];
        assert_eq!(c["aud"], SYNC_SERVICE_APP, "{case}: {msal}");
        assert_eq!(c["roles"], serde_json::json!([SYNC_ROLE]), "{case}: {msal}");
        assert_eq!(c["appid"], SYNC_APP_CLIENT_ID, "{case}: {msal}");
    }
    // MSAL 1.35 and later compute the SHA-256 thumbprint from the certificate (PS256,
    // x5t#S256); older versions need the SHA-1 one (RS256, x5t).
    let version: Vec<u32> = msal["msal"]
        .as_str()
        .unwrap()
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect();
    let with_certificate = if version >= vec![1, 35] {
        "PS256 with x5t#S256"
    } else {
        "RS256 with x5t"
    };

    let cert_arg = cert_pem.display().to_string();
    let (flows, stories) = analyze(&har, &["--trust-cert", &cert_arg]);
    let tokens = v2_token_requests(&flows);
    assert_eq!(tokens.len(), 2, "{flows:#?}");
    for (token, pair) in tokens.iter().zip(["RS256 with x5t", with_certificate]) {
        let request = &token["request"];
        assert_eq!(token["status"], 200, "{token:#}");
        assert!(
            token["summary"]
                .as_str()
                .unwrap()
                .contains("(Microsoft Entra AD Synchronization Service)"),
            "{}",
            token["summary"]
        );
        assert_eq!(value(request, "application"), SYNC_APP_CLIENT_ID);
        assert_eq!(
            value(request, "resource"),
            format!("{SYNC_SERVICE_APP} (Microsoft Entra AD Synchronization Service)")
        );
        assert_eq!(value(request, "certificate"), pair);
        // The assertion's claims, as MSAL made them.
        for (claim, want) in [
            ("iss", SYNC_APP_CLIENT_ID.to_string()),
            ("sub", SYNC_APP_CLIENT_ID.to_string()),
            (
                "aud",
                format!("https://login.microsoftonline.com/{TENANT_ID}/oauth2/v2.0/token"),
            ),
        ] {
            assert_eq!(value(request, claim), want, "{claim}");
        }
        assert!(value(request, "lifetime").starts_with("10m (600 s"));
        let verification = value(request, "verification");
        assert!(
            verification.starts_with("verified with kid=")
                && verification.contains(&format!("--trust-cert {cert_arg} (CN={SYNC_APP_NAME})")),
            "{verification}"
        );
        let problems: Vec<&Value> = token["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] != "info")
            .collect();
        assert!(problems.is_empty(), "{problems:#?}");
    }
    // The thumbprint names the certificate given; with the public certificate, MSAL sends it in
    // x5c too (and the thumbprint matches it: no finding above says otherwise).
    let named = format!("CN={SYNC_APP_NAME} from --trust-cert {cert_arg}");
    assert_eq!(value(&tokens[0]["request"], "x5t"), named);
    let param = with_certificate.rsplit(' ').next().unwrap();
    assert_eq!(value(&tokens[1]["request"], param), named);
    assert_eq!(value(&tokens[1]["request"], "x5c"), "1 certificate(s)");
    // Each token starts a sync cycle whose jti check holds.
    let cycles: Vec<&Value> = stories
        .iter()
        .filter(|s| s["story"] == "sync cycle")
        .collect();
    assert_eq!(cycles.len(), 2, "{stories:#?}");
    for s in cycles {
        assert_eq!(
            s["steps"][0]["label"], "token (client credentials, certificate)",
            "{s:#}"
        );
        assert_eq!(s["checks"][0]["verdict"], "pass", "{s:#}");
    }

    // Without the certificate, the signature is not verified and the thumbprint names nothing
    // trusted (the x5c MSAL sent in the second request is only seen).
    let (flows, _) = analyze(&har, &[]);
    let token = v2_token_requests(&flows)[0];
    assert!(value(&token["request"], "verification").starts_with("unverified"));
}

#[test]
fn the_sync_app_scenario_plays_the_cycle_with_application_identity_through_the_recorder() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("sync-app.har");
    let out = through_recorder(dir.path(), &har, |proxy, proxy_ca| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_idscope"))
            .args(["scenario", "run", "sync-app", "--proxy", &proxy, "--ca"])
            .arg(proxy_ca)
            .kill_on_drop(true)
            .output()
    })
    .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("all 8 steps passed"),
        "{}",
        stdout(&out)
    );
    let cert = write(
        dir.path(),
        "sync-app.pem",
        &AppCertificate::sync_app().unwrap().cert_pem(),
    );
    let (flows, stories) = analyze(&har, &["--trust-cert", &cert.display().to_string()]);
    let tokens = v2_token_requests(&flows);
    assert_eq!(tokens.len(), 1, "{flows:#?}");
    let request = &tokens[0]["request"];
    assert_eq!(value(request, "certificate"), "PS256 with x5t#S256");
    assert!(value(request, "verification").starts_with("verified with kid="));
    // One sync cycle: the application's token, then the provisioning calls presenting it.
    assert_eq!(stories.len(), 1, "{stories:#?}");
    let cycle = &stories[0];
    assert_eq!(cycle["story"], "sync cycle");
    let labels: Vec<&str> = cycle["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels[0], "token (client credentials, certificate)");
    assert_eq!(labels.len(), 8, "{labels:?}");
    let checks = cycle["checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["verdict"] == "pass"), "{checks:#?}");
    assert!(
        checks.iter().any(|c| c["message"]
            .as_str()
            .unwrap()
            .starts_with("client assertion jti")),
        "{checks:#?}"
    );
    // The provisioning calls carry the sync service's application token without a warning.
    let problems: Vec<&Value> = flows
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap())
        .filter(|f| {
            f["severity"] == "error" || {
                f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("BearerToken"))
                    && f["severity"] == "warning"
            }
        })
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn fixture_app_cert_out_writes_the_sync_applications_certificate_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("app");
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_idscope"))
            .args(["fixture", "--listen", "127.0.0.1:0", "--app-cert-out"])
            .arg(&out_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let printed = lines_until(child.stdout.take().unwrap(), |l| l.starts_with("state:"));
    drop(child);
    let cert = AppCertificate::sync_app().unwrap();
    let hex = |b: &[u8]| idscope_decoders::util::hex_upper(b);
    let named = printed
        .iter()
        .find(|l| l.starts_with("sync application"))
        .unwrap_or_else(|| panic!("{printed:#?}"));
    assert_eq!(
        named,
        &format!(
            "sync application {SYNC_APP_NAME:?}: client id {SYNC_APP_CLIENT_ID}, certificate \
             SHA-1 {}, SHA-256 {}",
            hex(&cert.sha1()),
            hex(&cert.sha256())
        )
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("sync-app.pem")).unwrap(),
        cert.cert_pem()
    );
    let key = out_dir.join("sync-app.key");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), cert.key_pem());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
