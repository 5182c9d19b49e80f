//! `idscope replay` and `idscope diff` end to end. The first test replays a recording made by
//! the real `idscope demo --headless` (all four scenarios, live clock, the seed the demo wrote
//! into the HAR). The others use captures recorded in the test, like `idscope demo` does it
//! (reference server, proxy mapped to it, scenario client through the proxy, recorder writing a
//! HAR), with a seeded reference server on a frozen clock, so that a replay against a reference
//! server started with the same seed and clock must reproduce every answer. The PRT request is
//! signed by the device key (certificate in `x5c`) and cannot be re-signed: it goes out as
//! recorded, and matches because the reference server identifies the device by its DRS
//! signature, device id and key, not by the certificate bytes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use idscope::capture::HarWriter;
use idscope::fixture::FixtureConfig;
use idscope::live::Recorder;
use idscope::proxy::{self, ProxyConfig};
use idscope::scenario::{self, Scenario, ScenarioConfig, Target};

use crate::support::ReferenceServer;
use crate::util::{idscope, stderr, stdout};

const SEED: u64 = 11;
const CLOCK: &str = "2025-06-01T09:00:00Z";

/// Records `which` scenarios through the proxy into `har`.
async fn record(har: &Path, scratch: &Path, which: &'static [Scenario]) {
    let clock =
        time::OffsetDateTime::parse(CLOCK, &time::format_description::well_known::Rfc3339).unwrap();
    let server = ReferenceServer::start(FixtureConfig {
        seed: Some(SEED),
        clock: Some(clock.into()),
        ..FixtureConfig::default()
    })
    .await;
    let server_ca = scratch.join("server-ca.pem");
    std::fs::write(&server_ca, server.ca_pem()).unwrap();
    let mut proxy = proxy::start(ProxyConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ca_dir: Some(scratch.join("ca")),
        upstream_ca: vec![server_ca],
        map: server.proxy_map(),
        ..ProxyConfig::default()
    })
    .await
    .unwrap();
    let mut events = proxy.take_events().unwrap();
    let mut recorder = Recorder::new(Some(HarWriter::create(har).unwrap()));
    let client = ScenarioConfig {
        target: Target::Proxy(format!("http://{}", proxy.addr())),
        ca_pems: vec![proxy.ca_pem().to_string()],
        print: false,
        device_seed: None,
    };
    let mut scenarios = tokio::spawn(async move { scenario::run(which, &client).await });
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => { tokio::task::block_in_place(|| recorder.apply(ev)).unwrap(); }
                None => break,
            },
            done = &mut scenarios => {
                done.unwrap().unwrap();
                break;
            }
        }
    }
    proxy.shutdown().await;
    while let Ok(ev) = events.try_recv() {
        recorder.apply(ev).unwrap();
    }
    server.shutdown().await;
    let (_, writer) = recorder.close().unwrap();
    writer.unwrap().finish().unwrap();
}

type Recorded = OnceLock<(tempfile::TempDir, PathBuf)>;

/// The seeded, frozen-clock recording of the sync, federated and SCIM scenarios, made once.
fn capture() -> &'static Path {
    static HAR: Recorded = OnceLock::new();
    recorded(
        &HAR,
        &[Scenario::Sync, Scenario::Federated, Scenario::CloudSync],
    )
}

/// The seeded, frozen-clock recording of the PRT scenario, made once.
fn prt_capture() -> &'static Path {
    static HAR: Recorded = OnceLock::new();
    recorded(&HAR, &[Scenario::PrtSso])
}

fn recorded(cell: &'static Recorded, which: &'static [Scenario]) -> &'static Path {
    let (_, p) = cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let har = dir.path().join("scenarios.har");
        let scratch = dir.path().join("scratch");
        std::fs::create_dir(&scratch).unwrap();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(record(&har, &scratch, which));
        (dir, har)
    });
    p
}

fn replay(file: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "replay",
        file.to_str().unwrap(),
        "--to",
        "fixture",
        "--seed",
        "11",
        "--clock",
        CLOCK,
        "--json",
    ];
    args.extend_from_slice(extra);
    idscope(&args, None)
}

fn results(o: &std::process::Output) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut lines: Vec<serde_json::Value> = stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.pop().unwrap()["summary"].clone();
    (lines, summary)
}

#[test]
fn replaying_a_recorded_session_against_the_reference_server_matches_every_answer() {
    let har = capture();
    let flows = idscope::capture::read_all(har).unwrap();
    assert!(flows.len() >= 25, "{} flows", flows.len());
    let o = replay(har, &[]);
    let (rows, summary) = results(&o);
    let not_matched: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["status"] != "matched").collect();
    assert!(not_matched.is_empty(), "{not_matched:#?}\n{}", stderr(&o));
    assert_eq!(rows.len(), flows.len());
    assert_eq!(summary["matched"], flows.len());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// Issue #7's acceptance: a capture made by `idscope demo` replays against the reference server
/// 100% matched, with no flags beyond `--to fixture` (the seed comes from the recording).
#[test]
fn replaying_a_demo_recording_against_the_fixture_matches_every_flow() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("demo.har");
    let o = idscope(&["demo", "--headless", "-w", har.to_str().unwrap()], None);
    assert!(o.status.success(), "demo: {}", stderr(&o));
    let flows = idscope::capture::read_all(&har).unwrap();
    // All four scenarios, PRT SSO included.
    for host in [
        "adminwebservice.microsoftonline.com",
        "sts.contoso.test",
        "scim.fixture.test",
        "enterpriseregistration.windows.net",
    ] {
        assert!(
            flows.iter().any(|f| f.request.url.contains(host)),
            "no {host} flow in the demo recording"
        );
    }
    let o = idscope(
        &["replay", har.to_str().unwrap(), "--to", "fixture", "--json"],
        None,
    );
    let (rows, summary) = results(&o);
    let not_matched: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["status"] != "matched").collect();
    assert!(not_matched.is_empty(), "{not_matched:#?}\n{}", stderr(&o));
    assert_eq!(summary["matched"], flows.len());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn one_hand_altered_response_gives_exactly_one_divergence_at_its_path() {
    let har = capture();
    let dir = tempfile::tempdir().unwrap();
    let altered = dir.path().join("altered.har");
    let mut flows = idscope::capture::read_all(har).unwrap();
    // The SCIM answer that created carol: the recording now says another display name.
    let f = flows
        .iter_mut()
        .find(|f| f.request.method == "POST" && f.request.url.ends_with("/scim/v2/Users"))
        .unwrap();
    let target = f.id;
    let idscope::flow::Outcome::Response(r) = &mut f.outcome else {
        panic!("no response")
    };
    let body = String::from_utf8(r.body.decoded(1 << 20).unwrap().to_vec()).unwrap();
    assert!(body.contains(r#""displayName":"Carol Example""#), "{body}");
    r.body = idscope::flow::Body::plain(body.replace(
        r#""displayName":"Carol Example""#,
        r#""displayName":"Carol Altered""#,
    ));
    let mut w = HarWriter::create(&altered).unwrap();
    for f in &flows {
        w.write_flow(f).unwrap();
    }
    w.finish().unwrap();

    let o = replay(&altered, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (rows, summary) = results(&o);
    assert_eq!(summary["diverged"], 1, "{rows:#?}");
    assert_eq!(summary["failed"], 0);
    let d = rows.iter().find(|r| r["status"] == "diverged").unwrap();
    assert_eq!(d["flow"], target.to_string());
    assert_eq!(d["difference_count"], 1, "{d:#}");
    assert_eq!(d["differences"][0]["path"], "scim/User/displayName");
    assert_eq!(d["differences"][0]["left"], "Carol Altered");
    assert_eq!(d["differences"][0]["right"], "Carol Example");

    // The table says the same, and `--ignore` makes it match.
    let o = idscope(
        &[
            "replay",
            altered.to_str().unwrap(),
            "--to",
            "fixture",
            "--seed",
            "11",
            "--clock",
            CLOCK,
            "--filter",
            "~d scim",
        ],
        None,
    );
    let out = stdout(&o);
    assert!(
        out.contains(r#"diverged  scim/User/displayName: "Carol Altered" ≠ "Carol Example""#),
        "{out}"
    );
    let o = replay(
        &altered,
        &["--filter", "~d scim", "--ignore", "User/displayName"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_filtered_replay_reruns_the_token_step_and_refreshes_the_bearer_token() {
    let har = capture();
    // Without the seed the reference server signs with other keys: the recorded BearerToken
    // would be refused, so replay must fetch a fresh one from the token step first.
    let o = idscope(
        &[
            "replay",
            har.to_str().unwrap(),
            "--to",
            "fixture",
            "--filter",
            "~op FinalizeExport",
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    let lines: Vec<&str> = out.lines().collect();
    let token = lines
        .iter()
        .position(|l| l.contains("/oauth2/tok") && l.contains("[token step for #"))
        .unwrap_or_else(|| panic!("{out}"));
    let finalize = lines
        .iter()
        .position(|l| l.contains("/provisioningservice.svc") && l.contains("matched"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(token < finalize, "{out}");
    assert!(
        out.contains("credential refreshed: access_token issued by the replay of #2 replaces the recorded one in the msbin1 body (decoded, replaced, re-encoded)"),
        "{out}"
    );
    assert!(out.contains("2 replayed: 2 matched"), "{out}");
}

#[test]
fn credentials_aimed_at_another_origin_are_refused() {
    let har = capture();
    let o = idscope(
        &[
            "replay",
            har.to_str().unwrap(),
            "--to",
            "http://127.0.0.1:9/",
            "--filter",
            "~d scim.fixture.test & ~u ServiceProviderConfig",
            "--json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (rows, summary) = results(&o);
    assert_eq!(summary["refused"], rows.len(), "{rows:#?}");
    let scim = rows
        .iter()
        .find(|r| r["url"].as_str().unwrap().contains("ServiceProviderConfig"))
        .unwrap();
    let why = scim["reason"].as_str().unwrap();
    assert!(
        why.to_ascii_lowercase().contains("authorization header"),
        "{why}"
    );
    assert!(why.contains("https://scim.fixture.test"), "{why}");
    assert!(why.contains("http://127.0.0.1:9"), "{why}");
    assert!(why.contains("--map scim.fixture.test=ADDR:PORT"), "{why}");
    assert!(scim.get("sent_to").is_none());
}

#[test]
fn diff_of_two_flows_and_of_two_tokens() {
    let har = capture();
    let flows = idscope::capture::read_all(har).unwrap();
    // The two v1 realm answers for alice differ only in the request's api-version.
    let realm: Vec<usize> = flows
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.request
                .url
                .to_ascii_lowercase()
                .contains("/userrealm/alice")
        })
        .map(|(i, _)| i + 1)
        .collect();
    assert!(realm.len() >= 2);
    let a = format!("{}#{}", har.display(), realm[0]);
    let o = idscope(&["diff", &a, &a], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 difference(s)"), "{}", stdout(&o));

    // Two access tokens issued for different users.
    let tokens: Vec<String> = flows
        .iter()
        .filter_map(|f| {
            let r = f.response()?;
            let v: serde_json::Value =
                serde_json::from_slice(&r.body.decoded(1 << 20).ok()?).ok()?;
            v.get("access_token")?.as_str().map(str::to_string)
        })
        .collect();
    assert!(
        tokens.len() >= 2,
        "{} access tokens in the capture",
        tokens.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let ta = dir.path().join("a.jwt");
    std::fs::write(&ta, &tokens[0]).unwrap();
    let o = idscope(&["diff", ta.to_str().unwrap(), &tokens[0]], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = idscope(&["diff", ta.to_str().unwrap(), &tokens[1], "--json"], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let paths: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["path"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(paths.iter().any(|p| p.ends_with("claims/upn")), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| p.ends_with("claims/iat") || p.ends_with("claims/uti")),
        "{paths:?}"
    );
}

#[test]
fn a_prt_request_signed_by_the_device_key_goes_out_as_recorded_and_says_so() {
    let har = prt_capture();
    let o = replay(
        har,
        &[
            "--filter",
            "~d enterpriseregistration | ~bq srv_challenge | ~bq jwt-bearer",
            "--timeout",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (rows, _) = results(&o);
    // Exit 1: the filtered run skips steps that drew from the server's id stream, so the nonce
    // in the later session-key-signed (HS256) request is not one this server issued; that
    // request diverges, and says why.
    let session_signed = rows
        .iter()
        .find(|r| r["status"] == "diverged")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(
        session_signed["notes"].to_string().contains("HS256"),
        "{session_signed:#}"
    );
    let drs = rows
        .iter()
        .find(|r| r["method"] == "PUT")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert_eq!(drs["status"], "matched", "{drs:#}");
    let nonce = rows
        .iter()
        .find(|r| r["status"] == "matched" && r["method"] == "POST")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(nonce["url"].as_str().unwrap().ends_with("/oauth2/token"));
    let prt = rows
        .iter()
        .find(|r| {
            r["notes"].as_array().is_some_and(|n| {
                n.iter().any(|n| {
                    let n = n.as_str().unwrap();
                    n.contains("device certificate") && n.contains("cannot re-sign")
                })
            })
        })
        .unwrap_or_else(|| panic!("{rows:#?}"));
    // Sent as recorded; the seeded reference server knows the device (same DRS key, device id
    // and device key), and the recorded nonce is the one it issues again.
    assert_eq!(prt["status"], "matched", "{prt:#}");
}
