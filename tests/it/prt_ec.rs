//! PRT protocol v4 with an EC device, end to end as a person runs it: the reference server
//! (seeded, frozen clock), `idscope record` mapped to it, and `idscope scenario run prt-ec
//! --device-seed N --transport-key-out FILE` through the recorder (DRS join with a P-256 device
//! key and STK, ES256-signed PRT request and PRT use, ECDH-ES answers). `idscope analyze --key
//! FILE` then opens both answers with the EC transport key; without it nothing is opened; the
//! keys and what they open stay out of reports and a redacted copy; and `idscope replay --to
//! fixture` with the same seed and clock reproduces every answer.
//!
//! The real client: roadtx (PyPI `roadtx`, which brings roadlib) registers a macOS device with a
//! P-256 key (`device -a join --device-type macos14`), acquires a PRT under protocol v4 (with
//! roadlib's functions: roadtx 1.22's `prt -a request -v4` calls a method roadlib lacks, see
//! `support/roadtx_prt_v4.py`) and uses it (`prtauth -v4`), all through `idscope record`; the
//! recording's answers open with the device key roadtx wrote. A missing roadtx FAILS the test
//! unless `IDSCOPE_SKIP_INTEROP` is set (then it prints a `SKIPPED` line).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use idscope::fixture::FixtureConfig;
use idscope::testbed::HOSTS;

use crate::proxy::spawn_record_mapped;
use crate::support::ReferenceServer;
use crate::util::{idscope, stderr, stdout};

const SEED: &str = "23";
const CLOCK: &str = "2025-06-01T09:00:00Z";

fn json_lines(o: &std::process::Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn messages(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|v| v["findings"].as_array().cloned().unwrap_or_default())
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Starts the seeded, frozen-clock reference server and `idscope record` mapped to it, runs
/// `clients` with the recorder's address and CA certificate, and stops both (the HAR closed).
fn recorded(dir: &Path, har: &Path, clients: impl FnOnce(&str, &Path)) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock =
        time::OffsetDateTime::parse(CLOCK, &time::format_description::well_known::Rfc3339).unwrap();
    let server = rt.block_on(ReferenceServer::start(FixtureConfig {
        seed: Some(SEED.parse().unwrap()),
        clock: Some(clock.into()),
        ..FixtureConfig::default()
    }));
    let fixture_ca = dir.join("fixture-ca.pem");
    std::fs::write(&fixture_ca, server.ca_pem()).unwrap();
    let ca_dir = dir.join("ca");
    let maps: Vec<String> = HOSTS
        .iter()
        .map(|host| format!("{host}={}", server.addr()))
        .collect();
    let (recorder, addr, log) = spawn_record_mapped(&ca_dir, &fixture_ca, &maps, har);
    clients(
        &addr.to_string(),
        &ca_dir.join(idscope::proxy::ca::CERT_FILE),
    );
    Command::new("kill")
        .args(["-TERM", &recorder.id().to_string()])
        .status()
        .unwrap();
    let out = recorder.into_inner().wait_with_output().unwrap();
    assert!(out.status.success(), "{}", log.join().unwrap());
    rt.block_on(server.shutdown());
}

/// Records the `prt-ec` scenario into `har` and writes the devices' transport keys to `key`.
fn record(dir: &Path, har: &Path, key: &Path) {
    recorded(dir, har, |addr, ca| {
        let o = idscope(
            &[
                "scenario",
                "run",
                "prt-ec",
                "--proxy",
                &format!("http://{addr}"),
                "--ca",
                ca.to_str().unwrap(),
                "--device-seed",
                SEED,
                "--transport-key-out",
                key.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("all 7 steps passed"), "{}", stdout(&o));
    });
}

#[test]
fn an_ec_device_recording_opens_with_its_transport_key_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("prt-ec.har");
    let key = dir.path().join("transport-ec.pem");
    record(dir.path(), &har, &key);
    let (har_s, key_s) = (har.to_str().unwrap(), key.to_str().unwrap());

    // The keys file holds both devices' transport keys, from the seed alone.
    let pem = std::fs::read_to_string(&key).unwrap();
    let seed: u64 = SEED.parse().unwrap();
    assert_eq!(
        pem,
        format!(
            "{}{}",
            idscope::scenario::prt_sso::transport_key_pem(seed).unwrap(),
            idscope::scenario::prt_ec::transport_key_pem(seed).unwrap()
        )
    );

    // Without the key: both answers say what they need.
    let plain = json_lines(&idscope(&["analyze", "--json", har_s], None));
    let summaries: Vec<&str> = plain.iter().filter_map(|v| v["summary"].as_str()).collect();
    assert_eq!(
        summaries
            .iter()
            .filter(
                |s| s.contains("PRT protocol v4 answer") && s.ends_with("needs the transport key")
            )
            .count(),
        2,
        "{summaries:#?}"
    );
    assert!(
        !messages(&plain)
            .iter()
            .any(|m| m.starts_with("decrypted with"))
    );

    let o = idscope(&["analyze", "--json", "--key", key_s, har_s], None);
    let report = stdout(&o);
    let lines = json_lines(&o);
    let got = messages(&lines);
    let opened: Vec<&String> = got
        .iter()
        .filter(|m| {
            m.starts_with(&format!("decrypted with --key {key_s}"))
                && m.contains("(ECDH-ES, A256GCM")
        })
        .collect();
    assert_eq!(opened.len(), 2, "{got:#?}");
    let summaries: Vec<&str> = lines.iter().filter_map(|v| v["summary"].as_str()).collect();
    let has = |needle: &str| summaries.iter().any(|s| s.contains(needle));
    assert!(has("EC transport key (STK "), "{summaries:#?}");
    assert!(
        has("PRT issued (admin@fixture.onmicrosoft.com)"),
        "{summaries:#?}"
    );
    assert!(
        has("tokens for https://graph.microsoft.com"),
        "{summaries:#?}"
    );
    assert!(
        has("PRT protocol v4: PRT acquisition via password grant"),
        "{summaries:#?}"
    );
    assert!(
        has("PRT protocol v4: the PRT used for tokens"),
        "{summaries:#?}"
    );
    // The story names the device-signed steps for what they are.
    let steps = report.matches("device-signed request (PRT v4)").count();
    assert_eq!(steps, 2, "{report}");

    // The PRT the answer holds is a secret: masked in the report, shown only on request, and
    // absent from a redacted copy; the transport key is in none of them.
    let shown = stdout(&idscope(
        &["analyze", "--json", "--show-secrets", "--key", key_s, har_s],
        None,
    ));
    let prt = shown
        .split("\"label\":\"refresh_token\",\"value\":\"0.AXoA")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(|t| format!("0.AXoA{t}"))
        .expect("the decrypted PRT, shown with --show-secrets");
    assert!(prt.len() > 100, "{prt}");
    let red = dir.path().join("red.har");
    let o = idscope(&["redact", har_s, "-o", red.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let redacted = std::fs::read_to_string(&red).unwrap();
    let text = stdout(&idscope(&["analyze", "--key", key_s, har_s], None));
    let key_body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let ec_key_part = &key_body[key_body.len() - 64..];
    for (what, body) in [
        ("report", &report),
        ("text report", &text),
        ("redacted copy", &redacted),
    ] {
        assert!(!body.contains(&prt), "the {what} holds the PRT");
        assert!(
            !body.contains(ec_key_part),
            "the {what} holds the transport key"
        );
    }

    // Replayed against a reference server with the same seed and clock: every answer matches.
    let o = idscope(
        &[
            "replay", har_s, "--to", "fixture", "--seed", SEED, "--clock", CLOCK, "--json",
        ],
        None,
    );
    let rows = json_lines(&o);
    let summary = &rows.last().unwrap()["summary"];
    assert_eq!(summary["replayed"], 6, "{}", stdout(&o));
    assert_eq!(summary["matched"], 6, "{}", stdout(&o));
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
}

/// Runs `program` in `dir`; panics with its output unless it succeeds.
fn run_in(dir: &Path, program: &str, args: &[&str]) -> String {
    let o = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{program} {args:?}\n{out}\n{err}");
    out
}

fn roadtx_ready() -> bool {
    let ok = Command::new("roadtx")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success())
        && Command::new("python3")
            .args(["-c", "import roadtools.roadlib.deviceauth"])
            .output()
            .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    let reason = "roadtx is missing (pip install roadtx)";
    if std::env::var_os("IDSCOPE_SKIP_INTEROP").is_some() {
        eprintln!("SKIPPED: roadtx_speaks_prt_protocol_v4_with_the_reference_server: {reason}");
        return false;
    }
    panic!("{reason} (set IDSCOPE_SKIP_INTEROP=1 to skip this test)");
}

#[test]
fn roadtx_speaks_prt_protocol_v4_with_the_reference_server() {
    if !roadtx_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("roadtx");
    std::fs::create_dir(&work).unwrap();
    let har = dir.path().join("roadtx.har");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/roadtx_prt_v4.py");
    let (user, password, _) = idscope::testbed::CLOUD_USERS[1];
    recorded(dir.path(), &har, |addr, _| {
        run_in(
            &work,
            "roadtx",
            &[
                "-p",
                addr,
                "gettokens",
                "-u",
                user,
                "-p",
                password,
                "-r",
                "urn:ms-drs:enterpriseregistration.windows.net",
            ],
        );
        let joined = run_in(
            &work,
            "roadtx",
            &[
                "-p",
                addr,
                "device",
                "-a",
                "join",
                "--device-type",
                "macos14",
                "-n",
                "macdev",
            ],
        );
        assert!(joined.contains("Saved device certificate"), "{joined}");
        let prt = run_in(&work, "python3", &[driver.to_str().unwrap(), addr]);
        assert!(prt.contains("IDSCOPE_ROADTX_PRT_OK"), "{prt}");
        let used = run_in(
            &work,
            "roadtx",
            &[
                "-p",
                addr,
                "prtauth",
                "-v4",
                "--cert-pem",
                "macdev.pem",
                "--key-pem",
                "macdev.key",
                "-f",
                "roadtx.prt",
            ],
        );
        assert!(used.contains("Tokens were written"), "{used}");
    });
    let tokens: Value =
        serde_json::from_str(&std::fs::read_to_string(work.join(".roadtools_auth")).unwrap())
            .unwrap();
    assert!(
        tokens["accessToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("eyJ"))
    );

    // roadtx's device key is also its transport key: it opens both answers of the recording.
    let key = work.join("macdev.key");
    let o = idscope(
        &[
            "analyze",
            "--json",
            "--key",
            key.to_str().unwrap(),
            har.to_str().unwrap(),
        ],
        None,
    );
    let lines = json_lines(&o);
    let opened = messages(&lines)
        .into_iter()
        .filter(|m| m.starts_with("decrypted with --key") && m.contains("(ECDH-ES, A256GCM"))
        .count();
    assert_eq!(opened, 2, "{}", stdout(&o));
    let summaries: Vec<&str> = lines.iter().filter_map(|v| v["summary"].as_str()).collect();
    for needle in [
        "EC transport key (STK ",
        "PRT protocol v4: PRT acquisition via refresh_token grant",
        "PRT issued",
        "PRT protocol v4: the PRT used for tokens",
    ] {
        assert!(
            summaries.iter().any(|s| s.contains(needle)),
            "{needle}: {summaries:#?}"
        );
    }
}
