//! A real browser through `idscope record` to the reference server, used as a person uses them:
//! Debian's Chromium, steered by playwright-core from `tests/browser` (never a downloaded
//! browser), trusts idscope's CA through its NSS database, added with `certutil` as `idscope ca
//! trust-help --target chrome-linux` says. A browser without the CA refuses the proxy's
//! certificate, and the recording says so; the trusting one starts the federated sign-in on the
//! fixture's start page, types a wrong password into the labelled fields, clicks Sign in, reads
//! the error, types the right one, presses Enter and lands on the portal, which names the user.
//! `idscope analyze` then explains the recording: the failed attempt, the SAML token of the
//! successful one, and the sign-in story with its checks. Screenshots of each page and the
//! recording (`browser.har`) are left in `target/browser-screens/` for people to look at.
//!
//! The browsers run once for all the tests here ([`the_run`]); each test then checks one part of
//! what came out, so a failure names the part that is wrong.
//!
//! Needs `node` and `npm`, Chromium (`/usr/bin/chromium`, or the path in `IDSCOPE_CHROMIUM`),
//! `certutil` (Debian `libnss3-tools`) and `tests/browser/node_modules` (`npm ci`, run here when
//! it is missing). A missing tool fails the test unless `IDSCOPE_SKIP_INTEROP` is set (CI sets it
//! when the package registries cannot be reached), in which case it prints a loud SKIPPED line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use idscope::testbed::{ADFS_HOST, LOGIN_HOST, ONPREM_USERS};
use serde_json::{Value, json};

use crate::proxy::{interop_tool, spawn_record_mapped};
use crate::support::{ChildGuard, lines_until};
use crate::util::{idscope, root, stderr, stdout};

/// How long one wait of the browser (a page, a field, a message, a URL) may take.
const WAIT_MS: u64 = 30_000;

pub fn chromium() -> PathBuf {
    std::env::var_os("IDSCOPE_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

pub fn script_dir() -> PathBuf {
    root().join("tests/browser")
}

/// `target/browser-screens`: where the screenshots and the recording are left for people.
pub fn screens_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(
            || PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
            Path::to_path_buf,
        )
        .join("browser-screens")
}

/// True when the browser, certutil, node and playwright-core are there (playwright-core is
/// installed with `npm ci` when missing); false, after a SKIPPED line, only when one is missing
/// and `IDSCOPE_SKIP_INTEROP` is set. Panics otherwise.
fn tools_ready() -> bool {
    let what = "browser test";
    interop_tool(
        "certutil",
        &format!("{what} (Debian package libnss3-tools)"),
    ) && playwright_ready(what)
}

/// True when the browser, node and playwright-core are there (playwright-core is installed with
/// `npm ci` when missing); false, after a SKIPPED line naming `what`, only when one is missing
/// and `IDSCOPE_SKIP_INTEROP` is set. Panics otherwise.
pub fn playwright_ready(what: &str) -> bool {
    let browser = chromium();
    if !interop_tool(
        &browser.display().to_string(),
        &format!("{what} (Debian package chromium)"),
    ) || !interop_tool("node", &format!("{what} (Node.js 20 or later)"))
    {
        return false;
    }
    if script_dir().join("node_modules/playwright-core").is_dir() {
        return true;
    }
    if !interop_tool("npm", &format!("{what} (npm)")) {
        return false;
    }
    let ci = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(script_dir())
        .stdin(Stdio::null())
        .output();
    let why = match ci {
        Ok(o) if o.status.success() => return true,
        Ok(o) => format!("{}\n{}", stdout(&o), stderr(&o)),
        Err(e) => e.to_string(),
    };
    if let Some(skip) = std::env::var_os("IDSCOPE_SKIP_INTEROP") {
        eprintln!(
            "SKIPPED: {what}: `npm ci` in tests/browser failed (IDSCOPE_SKIP_INTEROP={skip:?}):\n{why}"
        );
        return false;
    }
    panic!(
        "{what}: `npm ci` in {} failed; set IDSCOPE_SKIP_INTEROP=<reason> only when the npm \
         registry cannot be reached:\n{why}",
        script_dir().display()
    );
}

/// Starts `idscope fixture` (the reference server, as a user starts it) with its CA written to
/// `ca_out`; returns it, stopped when the guard drops, and one `--map HOST=ADDR` value per host
/// it serves, read from what it prints.
fn spawn_fixture(ca_out: &Path) -> (ChildGuard, Vec<String>) {
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_idscope"))
            .args([
                "fixture",
                "--listen",
                "127.0.0.1:0",
                "--seed",
                "17",
                "--ca-out",
            ])
            .arg(ca_out)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let lines = lines_until(child.stdout.take().unwrap(), |l| l.starts_with("state:"));
    let maps: Vec<String> = lines
        .iter()
        .filter_map(|l| l.trim().split_once(" -> "))
        .map(|(host, addr)| format!("{host}={addr}"))
        .collect();
    assert!(maps.len() >= 5, "{maps:?}");
    (child, maps)
}

fn run(program: &str, args: &[&str]) -> Output {
    let o = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

/// The commands that make the NSS database of a browser whose HOME is `home` trust `ca` for TLS
/// servers, as `idscope ca trust-help --target chrome-linux` tells a person to.
fn nss_commands(home: &Path, ca: &Path) -> [Vec<String>; 2] {
    let d = format!("sql:{}", home.join(".pki/nssdb").display());
    let ca = ca.display().to_string();
    let strings = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    [
        strings(&["certutil", "-d", &d, "-N", "--empty-password"]),
        strings(&[
            "certutil", "-d", &d, "-A", "-t", "C,,", "-n", "idscope", "-i", &ca,
        ]),
    ]
}

fn trust_in_nss(home: &Path, ca: &Path) {
    std::fs::create_dir_all(home.join(".pki/nssdb")).unwrap();
    for cmd in nss_commands(home, ca) {
        let args: Vec<&str> = cmd[1..].iter().map(String::as_str).collect();
        run(&cmd[0], &args);
    }
}

/// Runs tests/browser/signin.mjs with `args` and returns the JSON it printed.
fn browser(args: &Value) -> Value {
    node_json("signin.mjs", args)
}

/// Runs the node script `script` of tests/browser with `args` (JSON, its one argument) and
/// returns the JSON object it printed last; fails the test when it fails or prints none.
pub fn node_json(script: &str, args: &Value) -> Value {
    let o = Command::new("node")
        .arg(script)
        .arg(args.to_string())
        .current_dir(script_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(
        o.status.success(),
        "node {script} failed:\n{out}\n{}",
        stderr(&o)
    );
    let last = out.lines().last().unwrap_or("");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{out}\n{}", stderr(&o)))
}

/// Stops `idscope record` as a person does (SIGTERM) and waits for it to close the file.
fn stop(child: ChildGuard) -> Output {
    run("kill", &["-TERM", &child.id().to_string()]);
    child.into_inner().wait_with_output().unwrap()
}

/// True when some node under `v` (a decoded tree in `analyze --json`) has this label and value.
fn has_node(v: &Value, label: &str, value: &str) -> bool {
    match v {
        Value::Object(m) => {
            (m.get("label").and_then(Value::as_str) == Some(label)
                && m.get("value").and_then(Value::as_str) == Some(value))
                || m.values().any(|c| has_node(c, label, value))
        }
        Value::Array(a) => a.iter().any(|c| has_node(c, label, value)),
        _ => false,
    }
}

fn url(f: &Value) -> &str {
    f["url"].as_str().unwrap_or("")
}

fn describe(flows: &[&Value]) -> String {
    flows
        .iter()
        .map(|f| {
            format!(
                "#{} {} {} {} {}",
                f["id"],
                f["method"],
                url(f),
                f["status"],
                f["summary"]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the browsers saw and what `idscope analyze` made of the recording.
struct Run {
    /// What the browser without the CA reported.
    refused: Value,
    /// What the person's browser saw on the way to the portal.
    seen: Value,
    /// The flow objects of `analyze --json` (objects with a `url`).
    flows: Vec<Value>,
    /// The flow objects of `analyze --json --filter '!~noise'`.
    quiet: Vec<Value>,
    /// The hosts the reference server serves.
    fixture_hosts: Vec<String>,
    json_exit: Option<i32>,
    /// The text report.
    text: String,
    text_exit: Option<i32>,
}

static RUN: OnceLock<Option<Result<Run, String>>> = OnceLock::new();

/// The browser run, made once for every test of this module: `None` when the tools are missing
/// and `IDSCOPE_SKIP_INTEROP` is set (the SKIPPED line is printed); a failed run fails each test
/// with its message.
fn the_run() -> Option<&'static Run> {
    let run = RUN.get_or_init(|| {
        match std::panic::catch_unwind(|| tools_ready().then(record_a_sign_in)) {
            Ok(run) => run.map(Ok),
            Err(p) => Some(Err(p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the browser run panicked".into()))),
        }
    });
    match run {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => panic!("the browser run failed: {e}"),
    }
}

/// Starts the reference server and the recorder mapped to it, provisions the user with the sync
/// scenario through the recorder, lets an untrusting and then a trusting Chromium through, stops
/// the recorder and analyzes the recording.
fn record_a_sign_in() -> Run {
    let (user, password, _) = ONPREM_USERS[0];
    let dir = tempfile::tempdir().unwrap();
    let screens = screens_dir();
    let _ = std::fs::remove_dir_all(&screens);
    std::fs::create_dir_all(&screens).unwrap();
    let fixture_ca = dir.path().join("fixture-ca.pem");
    let (_fixture, maps) = spawn_fixture(&fixture_ca);

    let ca_dir = dir.path().join("ca");
    let har = screens.join("browser.har");
    let (recorder, addr, record_log) = spawn_record_mapped(&ca_dir, &fixture_ca, &maps, &har);
    let proxy = format!("http://{addr}");
    let idscope_ca = ca_dir.join(idscope::proxy::ca::CERT_FILE);

    // The sync cycle provisions the user (a federated sign-in needs the synced SourceAnchor),
    // through the recorder, so the story can compare the ImmutableID with it.
    let ca_s = idscope_ca.display().to_string();
    let sync = idscope(
        &["scenario", "run", "sync", "--proxy", &proxy, "--ca", &ca_s],
        None,
    );
    assert!(
        sync.status.success(),
        "{}\n{}",
        stdout(&sync),
        stderr(&sync)
    );

    let common = json!({
        "chromium": chromium(),
        "proxy": proxy,
        "url": format!("https://{LOGIN_HOST}/__fixture/start"),
        "timeoutMs": WAIT_MS,
    });
    let with = |extra: Value| {
        let mut v = common.clone();
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v
    };
    // Control: a browser whose NSS database lacks idscope's CA.
    let refused = browser(&with(json!({
        "mode": "refuse",
        "home": dir.path().join("home-untrusting"),
    })));
    // The person's browser trusts the CA.
    let home = dir.path().join("home-trusting");
    trust_in_nss(&home, &idscope_ca);
    let seen = browser(&with(json!({
        "mode": "signin",
        "home": home,
        "screens": screens,
        "user": user,
        "wrongPassword": "Not-the-Passw0rd",
        "password": password,
    })));
    let record_out = stop(recorder);
    let record_log = record_log.join().unwrap();
    assert!(record_out.status.success(), "{record_log}");
    eprintln!(
        "browser test: screenshots and the recording in {}",
        screens.display()
    );

    let har_s = har.display().to_string();
    let json_out = idscope(&["analyze", "--json", &har_s], None);
    let flow_objects = |o: &Output| -> Vec<Value> {
        stdout(o)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|o| o.get("url").is_some())
            .collect()
    };
    let flows = flow_objects(&json_out);
    let quiet = flow_objects(&idscope(
        &["analyze", "--json", "--filter", "!~noise", &har_s],
        None,
    ));
    let text_out = idscope(&["analyze", &har_s], None);
    Run {
        refused,
        seen,
        flows,
        quiet,
        fixture_hosts: maps
            .iter()
            .filter_map(|m| m.split_once('=').map(|(h, _)| h.to_string()))
            .collect(),
        json_exit: json_out.status.code(),
        text: stdout(&text_out),
        text_exit: text_out.status.code(),
    }
}

impl Run {
    fn all(&self) -> String {
        describe(&self.flows.iter().collect::<Vec<_>>())
    }

    /// The two POSTs of the ADFS forms page: the wrong password, then the right one.
    fn forms_logins(&self) -> (&Value, &Value) {
        let posts: Vec<&Value> = self
            .flows
            .iter()
            .filter(|f| {
                f["method"] == "POST" && url(f).starts_with(&format!("https://{ADFS_HOST}/adfs/ls"))
            })
            .collect();
        assert_eq!(posts.len(), 2, "two forms logins expected:\n{}", self.all());
        (posts[0], posts[1])
    }
}

#[test]
fn chromium_refuses_without_the_ca_and_with_it_a_person_signs_in_to_the_portal() {
    let Some(run) = the_run() else { return };
    let (user, _, anchor) = ONPREM_USERS[0];
    let (refused, seen) = (&run.refused, &run.seen);
    assert_eq!(refused["ok"], true, "{refused}");
    assert!(
        refused["refused"]
            .as_str()
            .unwrap_or("")
            .starts_with("net::ERR_CERT_"),
        "{refused}"
    );
    let screens = screens_dir();
    assert_eq!(
        seen["ok"],
        true,
        "{seen}\nscreenshots in {}",
        screens.display()
    );
    assert!(
        seen["loginUrl"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("https://{ADFS_HOST}/adfs/ls/?")),
        "{seen}"
    );
    assert!(
        seen["errorText"]
            .as_str()
            .unwrap_or("")
            .starts_with("Incorrect user ID or password."),
        "{seen}"
    );
    assert_eq!(seen["userAfterError"], user, "{seen}");
    assert_eq!(seen["portalUser"], user, "{seen}");
    assert_eq!(seen["portalImmutableId"], anchor, "{seen}");
    assert!(
        seen["portalHeading"].as_str().unwrap_or("").contains(user),
        "{seen}"
    );
    for shot in ["1-login.png", "2-login-error.png", "3-portal.png"] {
        let png = std::fs::read(screens.join(shot)).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{shot}");
    }
}

#[test]
fn analyze_decodes_the_saml_token_of_the_sign_in_that_worked() {
    let Some(run) = the_run() else { return };
    let (user, _, anchor) = ONPREM_USERS[0];
    let (failed, signed_in) = run.forms_logins();
    // The auto-POST page's wresult, decoded as the user's SAML 1.1 token.
    assert!(
        has_node(&signed_in["response"], "saml:Assertion", "SAML 1.1")
            && has_node(&signed_in["response"], "ImmutableID", anchor)
            && has_node(&signed_in["response"], "UPN", user),
        "the auto-POST page is not decoded as the user's SAML 1.1 token:\n{signed_in}"
    );
    assert!(
        !has_node(&failed["response"], "saml:Assertion", "SAML 1.1"),
        "{failed}"
    );
    let srf = run
        .flows
        .iter()
        .find(|f| url(f) == format!("https://{LOGIN_HOST}/login.srf"))
        .unwrap_or_else(|| panic!("no login.srf POST:\n{}", run.all()));
    assert_eq!(srf["status"], 302, "{}", run.all());
    assert!(has_node(&srf["request"], "ImmutableID", anchor), "{srf}");
    assert!(
        run.flows
            .iter()
            .any(|f| url(f).contains("/__fixture/portal") && f["status"] == 200),
        "{}",
        run.all()
    );
}

#[test]
fn analyze_says_the_wrong_password_attempt_failed() {
    let Some(run) = the_run() else { return };
    let (failed, _) = run.forms_logins();
    let said = |f: &Value| {
        f["severity"] == "error"
            && f["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("sign-in failed")
    };
    assert!(
        failed["findings"]
            .as_array()
            .is_some_and(|a| a.iter().any(said)),
        "the failed forms login (#{}) has no `sign-in failed` error finding: {}",
        failed["id"],
        failed["findings"]
    );
    assert!(run.text.contains("sign-in failed"), "{}", run.text);
}

#[test]
fn the_refused_certificate_is_an_error_flow_that_says_what_to_run() {
    let Some(run) = the_run() else { return };
    assert!(
        run.flows.iter().any(|f| url(f).contains(LOGIN_HOST)
            && f["error"].as_str().is_some_and(|e| {
                e.contains("rejected idscope's certificate")
                    && e.contains("idscope ca trust-help --target chrome-linux")
            })),
        "no error flow for {LOGIN_HOST} saying the browser rejected idscope's certificate:\n{}",
        run.all()
    );
}

#[test]
fn analyze_tells_the_federated_sign_in_story_and_exits_1() {
    let Some(run) = the_run() else { return };
    let text = &run.text;
    assert!(text.contains("Stories"), "{text}");
    assert!(text.contains("federated sign-in"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains('✓') && l.contains("ImmutableID") && l.contains("SourceAnchor")),
        "no passed ImmutableID/SourceAnchor check in the story:\n{text}"
    );
    assert_eq!(run.text_exit, Some(1), "{text}");
    assert_eq!(run.json_exit, Some(1));
}

#[test]
fn the_story_marks_the_wrong_password_step_failed() {
    let Some(run) = the_run() else { return };
    let (failed, _) = run.forms_logins();
    let step = format!("#{}", failed["id"]);
    let story: Vec<&str> = run
        .text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("federated sign-in"))
        .take_while(|l| l.starts_with("    ") || l.trim_start().starts_with("federated sign-in"))
        .collect();
    assert!(
        story
            .iter()
            .any(|l| l.contains(&step) && l.contains("✗") && l.contains("sign-in failed")),
        "the federated sign-in story does not mark {step} failed:\n{}",
        story.join("\n")
    );
}

#[test]
fn ca_trust_help_for_chrome_on_linux_gives_the_nss_commands_this_test_runs() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let ca_s = ca_dir.display().to_string();
    assert!(
        idscope(&["ca", "init", "--ca-dir", &ca_s], None)
            .status
            .success()
    );
    let help = idscope(
        &[
            "ca",
            "trust-help",
            "--target",
            "chrome-linux",
            "--ca-dir",
            &ca_s,
        ],
        None,
    );
    let text = stdout(&help);
    assert!(help.status.success(), "{}", stderr(&help));
    let ca = ca_dir.join(idscope::proxy::ca::CERT_FILE);
    // Both commands as a shell line, the database in the HOME of whoever runs them.
    for cmd in nss_commands(Path::new("$HOME"), &ca) {
        let line = cmd
            .iter()
            .map(|w| {
                if w.contains(',') {
                    format!("\"{w}\"")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&line), "trust-help lacks `{line}`:\n{text}");
    }
}

#[test]
fn chromiums_own_background_requests_are_noise() {
    let Some(run) = the_run() else { return };
    assert!(
        run.quiet.len() < run.flows.len(),
        "Chromium called home, and ~noise knows where:\n{}",
        run.all()
    );
    // With the noise hidden, what is left is the fixture's traffic and the refusals of the
    // browser that lacks the CA (a setup mistake stays visible whatever the host).
    for f in &run.quiet {
        let host = url(f)
            .split("://")
            .nth(1)
            .and_then(|r| r.split(['/', ':']).next())
            .unwrap_or_default();
        let refusal =
            f["method"] == "CONNECT" && f.to_string().contains("rejected idscope's certificate");
        assert!(
            run.fixture_hosts.iter().any(|h| h == host) || refusal,
            "a background request ~noise does not know: {} {}",
            f["method"],
            url(f)
        );
    }
}
