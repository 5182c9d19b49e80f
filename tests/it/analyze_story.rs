//! `idscope analyze` tells the whole story: the Stories section of the text report (each story's
//! steps, a failed one marked ✗ with the reason, and its cross-flow checks as ✓ / ✗ / ? with
//! both values and their flows), the story objects of `--json`, and the exit code chosen with
//! `--fail-on`. Over a headless demo recording (a sync cycle, then a federated sign-in whose
//! ImmutableID matches the SourceAnchor provisioned), a copy of it with that SourceAnchor
//! changed, and browser-only federated sign-ins played against the reference server in process
//! (a wrong password, then the right one; the token POST accepted or rejected).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, Method};
use http_body_util::BodyExt as _;
use idscope::capture::{self, HarWriter};
use idscope::fixture::state::SyncedObject;
use idscope::fixture::{Fixture, FixtureConfig, Req};
use idscope::flow::{Body, Extra, Flow, FlowId, Headers, Outcome, Request, Response, Timings};
use serde_json::Value;

use crate::util::{idscope, stderr, stdout};

/// The demo's federated user: her objectGUID as ImmutableID and SourceAnchor.
const ANCHOR: &str = "lHh/rEL830q6/mStDnD4uw==";
const USER: &str = "alice@contoso.test";
const PASSWORD: &str = "Alice-Passw0rd!";
/// Entra ID's request state, as it sends it to the STS in `wctx`.
const WCTX: &str = "LoginOptions=3&estsredirect=2&estsrequest=rQQIARAAhVK9b9NAFHfSNE2jAhUTYuqAhITk";

/// A seeded headless demo recording, made once for the tests of this module.
pub(crate) fn demo_recording() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("analyze_story");
        std::fs::create_dir_all(&dir).unwrap();
        let har = dir.join(format!("demo-{}.har", std::process::id()));
        let _ = std::fs::remove_file(&har);
        let o = idscope(
            &[
                "demo",
                "--headless",
                "--seed",
                "7",
                "-w",
                har.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
        har
    })
}

/// The JSON lines of `analyze --json` split into flow objects and story objects.
fn json_objects(out: &str) -> (Vec<Value>, Vec<Value>) {
    let all: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let (stories, flows): (Vec<Value>, Vec<Value>) = all
        .into_iter()
        .filter(|v| v["type"] != "summary")
        .partition(|v| v["type"] == "story");
    assert!(flows.iter().all(|f| f["type"] == "flow"), "{flows:?}");
    (flows, stories)
}

/// The lines of the text report's Stories section.
fn stories_section(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| !l.starts_with("Stories ("))
        .collect()
}

#[test]
fn the_demo_recording_tells_its_stories_with_both_values_of_each_check() {
    let har = demo_recording().to_str().unwrap();
    let o = idscope(&["analyze", "--fail-on", "never", har], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let section = stories_section(&out);
    assert!(!section.is_empty(), "no Stories section:\n{out}");
    let text = section.join("\n");
    for heading in [
        "  sync cycle: ",
        "  federated sign-in: ",
        "  cloud sync (SCIM): ",
        "  PRT SSO: ",
    ] {
        assert!(
            section.iter().any(|l| l.starts_with(heading)),
            "no {heading:?} story:\n{text}"
        );
    }
    // The federated sign-in's ImmutableID is the SourceAnchor the sync provisioned: both values
    // and both flows are shown.
    let provisioned = flow_number(&out, "sync API ProvisionAzureADSyncObjects");
    // The forms login that ADFS answered with the auto-POST page of the token.
    let signin = flow_number(
        &out,
        "⇒ ADFS auto-POST to login.microsoftonline.com/login.srf",
    );
    let post = flow_number(
        &out,
        "WS-Fed token POST to login.microsoftonline.com/login.srf",
    );
    assert!(
        section.contains(
            &format!(
                "    ✓ ImmutableID in the SAML (#{signin}: {ANCHOR}) = SourceAnchor provisioned \
                 (#{provisioned}: {ANCHOR})"
            )
            .as_str()
        ),
        "{text}"
    );
    // Token provenance: the assertion posted to login.srf is the one ADFS issued.
    assert!(
        section.iter().any(
            |l| l.starts_with(&format!("    ✓ assertion posted (#{post}: _"))
                && l.contains(&format!("= assertion the STS issued (#{signin}: _"))
        ),
        "{text}"
    );
    // The sync API calls use the token of the ROPC response, shown by fingerprint only.
    let ropc = flow_number(&out, "ROPC token request");
    assert!(
        section
            .iter()
            .any(|l| l.starts_with("    ✓ token presented (#")
                && l.contains(&format!("= token issued (#{ropc}: sha256:"))),
        "{text}"
    );
    assert!(!text.contains("eyJ"), "tokens are never shown: {text}");
    assert!(
        !section.iter().any(|l| l.starts_with("    ✗")),
        "no check fails: {text}"
    );

    let o = idscope(&["analyze", "--json", "--fail-on", "never", har], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let (flows, stories) = json_objects(&stdout(&o));
    assert_eq!(
        flows.len(),
        capture::read_all(demo_recording()).unwrap().len()
    );
    let kinds: Vec<&str> = stories
        .iter()
        .map(|s| s["story"].as_str().unwrap())
        .collect();
    for k in [
        "sync cycle",
        "federated sign-in",
        "cloud sync (SCIM)",
        "PRT SSO",
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    let federated = stories
        .iter()
        .find(|s| {
            s["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|st| st["flow"] == signin)
        })
        .unwrap();
    let check = federated["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["values"][0]["what"] == "ImmutableID in the SAML")
        .unwrap();
    assert_eq!(check["verdict"], "pass");
    assert_eq!(check["flows"], serde_json::json!([signin, provisioned]));
    assert_eq!(
        check["values"],
        serde_json::json!([
            {"what": "ImmutableID in the SAML", "flow": signin, "value": ANCHOR},
            {"what": "SourceAnchor provisioned", "flow": provisioned, "value": ANCHOR},
        ])
    );
    // Story objects come after every flow object, and flow-only filters skip them.
    let out = stdout(&o);
    let first_story = out
        .lines()
        .position(|l| l.contains("\"type\":\"story\""))
        .unwrap();
    assert_eq!(first_story, flows.len());
    assert!(
        stories.iter().all(|s| s.get("worst").is_none()),
        "select(.worst == \"error\") keeps picking flows only"
    );
}

/// The number of the first row of the flow table whose summary contains `summary`.
fn flow_number(report: &str, summary: &str) -> u64 {
    crate::util::table_rows(report)
        .into_iter()
        .find(|l| l.contains(summary))
        .and_then(|l| {
            l.trim_start()
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no flow {summary:?} in\n{report}"))
}

#[test]
fn a_changed_source_anchor_fails_the_immutable_id_check_with_both_values() {
    const CHANGED: &str = "AAECAwQFBgcICQoLDA0ODw==";
    let mut flows = capture::read_all(demo_recording()).unwrap();
    let mut changed = 0;
    for f in flows
        .iter_mut()
        .filter(|f| f.host().starts_with("adminwebservice"))
    {
        let body = f.request.body.decoded(64 << 20).unwrap().into_owned();
        // The same length keeps the binary XML's length prefixes right.
        let Some(at) = body
            .windows(ANCHOR.len())
            .position(|w| w == ANCHOR.as_bytes())
        else {
            continue;
        };
        let mut new = body.clone();
        new[at..at + ANCHOR.len()].copy_from_slice(CHANGED.as_bytes());
        f.request.body = Body::plain(new);
        changed += 1;
    }
    assert!(changed > 0, "no provisioning call carries {ANCHOR}");
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("changed.har");
    HarWriter::write_all(&har, &flows).unwrap();
    let har = har.to_str().unwrap();

    let o = idscope(&["analyze", har], None);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "a failed check fails: {out}");
    assert!(stderr(&o).contains("failed check"), "{}", stderr(&o));
    let provisioned = flow_number(&out, "sync API ProvisionAzureADSyncObjects");
    // The forms login that ADFS answered with the auto-POST page of the token.
    let signin = flow_number(
        &out,
        "⇒ ADFS auto-POST to login.microsoftonline.com/login.srf",
    );
    let section = stories_section(&out);
    // The call provisions three objects (a user, a group, a device): every SourceAnchor shows.
    let failed = format!(
        "    ✗ ImmutableID in the SAML (#{signin}: {ANCHOR}) ≠ any SourceAnchor provisioned \
         (#{provisioned}: {CHANGED}, "
    );
    assert!(
        section.iter().any(|l| l.starts_with(&failed)),
        "no {failed:?} in\n{}",
        section.join("\n")
    );
    let o = idscope(&["analyze", "--json", har], None);
    let (_, stories) = json_objects(&stdout(&o));
    let failed: Vec<&Value> = stories
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .filter(|c| c["verdict"] == "fail")
        .collect();
    assert!(
        failed.iter().any(|c| c["values"][0]["value"] == ANCHOR
            && c["values"][1]["value"] == CHANGED
            && c["values"][1]["flow"] == provisioned),
        "{failed:#?}"
    );
}

/// A browser playing a federated sign-in against the reference server in process; every
/// exchange becomes a flow.
struct Browser {
    fx: Fixture,
    t0: SystemTime,
    flows: Vec<Flow>,
    cookies: Vec<String>,
}

impl Browser {
    fn new(synced: bool) -> Self {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fx = Fixture::new(FixtureConfig {
            seed: Some(7),
            clock: Some(t0),
            ..FixtureConfig::default()
        })
        .unwrap();
        if synced {
            // What a sync cycle leaves behind: the user, under her SourceAnchor.
            fx.state().synced.insert(
                ANCHOR.into(),
                SyncedObject {
                    object_type: "User".into(),
                    cloud_anchor: "User_ac7f7894-fc42-4adf-bafe-64ad0e70f8bb".into(),
                    properties: [("userPrincipalName".to_string(), USER.into())].into(),
                    types: Default::default(),
                    changed_at: 1,
                    deleted: false,
                },
            );
        }
        Browser {
            fx,
            t0,
            flows: vec![],
            cookies: vec![],
        }
    }

    /// Sends one request and records the flow; returns the status, headers and body.
    fn send(&mut self, method: &str, url: &str, form: Option<&str>) -> (u16, HeaderMap, Bytes) {
        let (host, rest) = url
            .strip_prefix("https://")
            .and_then(|u| u.split_once('/'))
            .unwrap();
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (format!("/{p}"), q.to_string()),
            None => (format!("/{rest}"), String::new()),
        };
        let mut headers = HeaderMap::new();
        let mut recorded = Headers::new();
        if form.is_some() {
            headers.insert(
                "content-type",
                "application/x-www-form-urlencoded".parse().unwrap(),
            );
            recorded.push_str("Content-Type", "application/x-www-form-urlencoded");
        }
        if !self.cookies.is_empty() {
            let jar = self.cookies.join("; ");
            headers.insert("cookie", jar.parse().unwrap());
            recorded.push_str("Cookie", &jar);
        }
        let body = Bytes::from(form.unwrap_or("").to_string());
        let req = Req {
            method: method.parse::<Method>().unwrap(),
            host: host.into(),
            path,
            query,
            headers,
            body: body.clone(),
        };
        let resp = self.fx.handle(&req);
        let (parts, full) = resp.into_parts();
        let got = futures::executor::block_on(full.collect())
            .unwrap()
            .to_bytes();
        for c in parts.headers.get_all("set-cookie") {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            self.cookies.push(pair.to_string());
        }
        let mut resp_headers = Headers::new();
        for (k, v) in &parts.headers {
            resp_headers.push_str(k.as_str(), v.to_str().unwrap());
        }
        let n = self.flows.len() as u64;
        self.flows.push(Flow {
            id: FlowId(n),
            started_at: self.t0 + Duration::from_secs(n),
            client_addr: None,
            server_addr: None,
            request: Request {
                method: method.into(),
                url: url.into(),
                http_version: "HTTP/1.1".into(),
                headers: recorded,
                body: Body::plain(body.to_vec()),
                extra: Extra::new(),
            },
            outcome: Outcome::Response(Response {
                status: parts.status.as_u16(),
                reason: String::new(),
                http_version: "HTTP/1.1".into(),
                headers: resp_headers,
                body: Body::plain(got.to_vec()),
                extra: Extra::new(),
            }),
            timings: Timings::default(),
            tags: vec![],
            comment: None,
            marked: false,
            extra: Extra::new(),
        });
        (parts.status.as_u16(), parts.headers, got)
    }

    /// Home realm discovery, the ADFS login page, a wrong password, the right one, and the
    /// auto-POST of the token to login.srf, whose answer is returned; a 302 is followed.
    fn sign_in(&mut self) -> u16 {
        let encoded = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        self.send(
            "GET",
            &format!(
                "https://login.microsoftonline.com/common/userrealm/{}?api-version=2.0",
                encoded(USER)
            ),
            None,
        );
        // Entra ID's redirect to the AuthURL, which ends in `wctx=`, with its request state.
        let adfs = format!(
            "{}{}",
            idscope::fixture::login::adfs_auth_url(USER),
            encoded(WCTX)
        );
        let (status, _, _) = self.send("GET", &adfs, None);
        assert_eq!(status, 200);
        let login = |password: &str| {
            format!(
                "UserName={}&Password={}&AuthMethod=FormsAuthentication",
                encoded(USER),
                encoded(password)
            )
        };
        let (_, _, page) = self.send("POST", &adfs, Some(&login("Wrong-Passw0rd!")));
        assert!(
            String::from_utf8_lossy(&page).contains("Incorrect user ID or password"),
            "the wrong password is refused"
        );
        let (_, _, page) = self.send("POST", &adfs, Some(&login(PASSWORD)));
        let page = String::from_utf8_lossy(&page).into_owned();
        let form = idscope_decoders::html::auto_post_form(&page, &["wresult"])
            .expect("the right password gets the auto-POST page");
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.inputs.iter())
            .finish();
        let action = form.action.unwrap();
        let (status, headers, _) = self.send("POST", &action, Some(&body));
        if status == 302 {
            let portal = headers["location"].to_str().unwrap().to_string();
            let (landed, _, _) = self.send("GET", &portal, None);
            assert_eq!(landed, 200, "the portal knows the session");
        }
        status
    }

    fn write(&self, dir: &Path, name: &str) -> String {
        let har = dir.join(name);
        HarWriter::write_all(&har, &self.flows).unwrap();
        har.to_str().unwrap().to_string()
    }
}

#[test]
fn a_browser_only_sign_in_checks_wctx_and_the_token_adfs_issued() {
    let mut browser = Browser::new(true);
    assert_eq!(browser.sign_in(), 302, "login.srf accepts the token");
    let dir = tempfile::tempdir().unwrap();
    let har = browser.write(dir.path(), "browser.har");

    let o = idscope(&["analyze", "--fail-on", "never", &har], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let section = stories_section(&out);
    let text = section.join("\n");
    assert_eq!(section[0], "Stories (1):", "{text}");
    assert!(
        section[1].starts_with("  federated sign-in: 5 steps (#1–#5"),
        "realm, the login page, two credential POSTs and the token POST: {text}"
    );
    for (n, step) in [
        (1, "realm (Federated)"),
        (2, "WS-Fed sign-in → sts.contoso.test"),
        (
            3,
            "ADFS forms login at sts.contoso.test for alice@contoso.test",
        ),
        (
            4,
            "ADFS forms login at sts.contoso.test for alice@contoso.test",
        ),
        (
            5,
            "WS-Fed token POST to login.microsoftonline.com/login.srf",
        ),
    ] {
        let prefix = format!("{:>10}  {step}", format!("#{n}"));
        assert!(
            section.iter().any(|l| l.starts_with(&prefix)),
            "no step {prefix:?}: {text}"
        );
    }
    let checks: Vec<&str> = section
        .iter()
        .filter(|l| l.starts_with("    ✓") || l.starts_with("    ✗") || l.starts_with("    ?"))
        .copied()
        .collect();
    // The wctx the browser sent to ADFS (#2) came back in the auto-POST (#4) and was posted with
    // the token (#5); the assertion posted (#5) is the one ADFS issued (#4); the ImmutableID is
    // shown, with nothing to compare it with in a browser-only capture.
    assert_eq!(checks.len(), 4, "{text}");
    assert!(
        checks[0].starts_with("    ✓ wctx in the STS's auto-POST (#4: LoginOptions="),
        "{text}"
    );
    assert!(
        checks[0].contains(") = wctx sent to the STS (#2: LoginOptions="),
        "{text}"
    );
    assert_eq!(
        checks[1],
        format!(
            "    ? ImmutableID in the SAML (#4: {ANCHOR}): no SourceAnchor provisioned in this \
             capture to compare with"
        ),
        "{text}"
    );
    assert!(
        checks[2].starts_with("    ✓ wctx posted with the token (#5: "),
        "{text}"
    );
    assert!(
        checks[2].contains(" = wctx sent to the STS (#2: "),
        "{text}"
    );
    assert!(
        checks[3].starts_with("    ✓ assertion posted (#5: _"),
        "{text}"
    );
    assert!(
        checks[3].contains(" = assertion the STS issued (#4: _"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");

    let o = idscope(&["analyze", "--json", "--fail-on", "never", &har], None);
    let (flows, stories) = json_objects(&stdout(&o));
    assert_eq!(flows.len(), 6);
    assert_eq!(stories.len(), 1);
    let verdicts: Vec<&str> = stories[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["pass", "unknown", "pass", "pass"]);
    let provenance = &stories[0]["checks"][3];
    assert_eq!(provenance["flows"], serde_json::json!([5, 4]));
    assert_eq!(
        provenance["values"][0]["value"],
        provenance["values"][1]["value"]
    );
}

#[test]
fn a_rejected_token_post_is_the_failed_step_and_fails_the_exit_code() {
    // Nobody synced the user: login.srf answers 400 (AADSTS50034).
    let mut browser = Browser::new(false);
    assert_eq!(browser.sign_in(), 400);
    let dir = tempfile::tempdir().unwrap();
    let har = browser.write(dir.path(), "rejected.har");

    let o = idscope(&["analyze", &har], None);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("failed story step"), "{}", stderr(&o));
    let out = stdout(&o);
    let section = stories_section(&out);
    let step = section
        .iter()
        .find(|l| l.trim_start().starts_with("#5  WS-Fed token POST"))
        .unwrap_or_else(|| panic!("{}", section.join("\n")));
    assert!(
        step.contains("  ✗ HTTP 400: sign-in error AADSTS50034"),
        "{step}"
    );
    let wrong_password = section
        .iter()
        .find(|l| l.trim_start().starts_with("#3 "))
        .unwrap_or_else(|| panic!("{}", section.join("\n")));
    assert!(
        wrong_password.contains("✗ sign-in failed"),
        "{wrong_password}"
    );
    assert!(
        section[1].contains(", 2 failed)"),
        "the counts name both: {}",
        section[1]
    );

    let o = idscope(&["analyze", "--json", &har], None);
    assert_eq!(o.status.code(), Some(1));
    let (_, stories) = json_objects(&stdout(&o));
    let steps = stories[0]["steps"].as_array().unwrap();
    let failed: Vec<u64> = steps
        .iter()
        .filter(|s| s.get("failed").is_some())
        .map(|s| s["flow"].as_u64().unwrap())
        .collect();
    assert!(failed.contains(&5), "{steps:#?}");
    assert!(
        steps[4]["failed"].as_str().unwrap().starts_with("HTTP 400"),
        "{steps:#?}"
    );

    let o = idscope(&["analyze", "--fail-on", "never", &har], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn fail_on_chooses_which_findings_make_the_exit_code_1() {
    // A successful sign-in: warnings (a password in a form), no error.
    let sample = "captures/federated-signin.har";
    let code = |extra: &[&str]| {
        let mut args = vec!["analyze"];
        args.extend_from_slice(extra);
        args.push(sample);
        let o = idscope(&args, None);
        (o.status.code(), stderr(&o))
    };
    assert_eq!(code(&[]).0, Some(0), "errors only, by default");
    assert_eq!(code(&["--fail-on", "error"]).0, Some(0));
    let (warn, why) = code(&["--fail-on", "warning"]);
    assert_eq!(warn, Some(1));
    assert!(why.contains("warning finding"), "{why}");
    let (info, why) = code(&["--fail-on", "info"]);
    assert_eq!(info, Some(1));
    assert!(why.contains("undecided check"), "{why}");
    assert_eq!(code(&["--fail-on", "never"]).0, Some(0));
    let (bad, why) = code(&["--fail-on", "sometimes"]);
    assert_eq!(bad, Some(2), "a usage error");
    assert!(why.contains("--fail-on"), "{why}");
}
