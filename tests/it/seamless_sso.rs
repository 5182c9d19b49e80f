//! Seamless SSO end to end. From golden fixtures: the autologon RST, its RSTR with a
//! DesktopSsoToken and the saml1_1-bearer redemption make the "Seamless SSO" story, whose check
//! passes when the token redeemed is the one issued and fails (both fingerprints shown) when it
//! is not. With real clients through `idscope record` against the reference server: `roadtx
//! desktopsso` with a user name and password (usernamemixed), and a real Kerberos exchange — an
//! MIT KDC started here on loopback, `kinit`, then `curl --negotiate` to the windowstransport
//! endpoint and the ADFS `/adfs/ls/wia` page.
//!
//! A missing tool (roadtx from PyPI; Debian's krb5-kdc, krb5-user, krb5-admin-server, curl with
//! GSS-API) FAILS its test unless `IDSCOPE_SKIP_INTEROP` is set, in which case it prints a loud
//! SKIPPED line.

use std::path::Path;

use serde_json::Value;

use crate::util::{flow_from_fixtures, idscope, stderr, stdout};

/// The JSON lines of `analyze --json FILE`: flow objects and story objects.
fn analyze_json(har: &Path) -> (Vec<Value>, Vec<Value>) {
    let o = idscope(&["analyze", "--json", har.to_str().unwrap()], None);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .partition(|v| v["type"] != "story")
}

fn seamless(stories: &[Value]) -> Vec<&Value> {
    stories
        .iter()
        .filter(|s| s["story"] == "Seamless SSO")
        .collect()
}

fn write_har(path: &Path, flows: &[idscope::flow::Flow]) {
    idscope::capture::HarWriter::write_all(path, flows).unwrap();
}

#[test]
fn the_story_links_the_rst_its_token_and_the_redemption_and_checks_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let rst = flow_from_fixtures(
        0,
        Some("desktopsso/rst_usernamemixed.http"),
        Some("desktopsso/rstr_desktopssotoken.http"),
    );
    let redeem = flow_from_fixtures(
        1,
        Some("desktopsso/token_saml11_desktopssotoken.http"),
        Some("oauth/ropc_v1_response.http"),
    );
    let har = dir.path().join("seamless.har");
    write_har(&har, &[rst.clone(), redeem.clone()]);
    let (_, stories) = analyze_json(&har);
    let s = seamless(&stories);
    assert_eq!(s.len(), 1, "{stories:#?}");
    let steps: Vec<&str> = s[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["label"].as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(steps[0].contains("DesktopSsoToken issued"), "{steps:?}");
    assert_eq!(steps[1], "token (DesktopSsoToken redeemed)");
    let checks = s[0]["checks"].as_array().unwrap();
    let dsso = checks
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .unwrap()
                .starts_with("DesktopSsoToken redeemed")
        })
        .unwrap_or_else(|| panic!("{checks:#?}"));
    assert_eq!(dsso["verdict"], "pass", "{dsso}");
    // Hashed like tokens: both sides show the same fingerprint, never the token.
    let values = dsso["values"].as_array().unwrap();
    assert_eq!(values[0]["what"], "DesktopSsoToken redeemed");
    assert_eq!(values[1]["what"], "DesktopSsoToken issued");
    assert_eq!(values[0]["value"], values[1]["value"]);
    assert!(values[0]["value"].as_str().unwrap().starts_with("sha256:"));
    let text = stdout(&idscope(&["analyze", har.to_str().unwrap()], None));
    assert!(text.contains("Seamless SSO: 2 steps"), "{text}");
    assert!(
        !text.contains("FfT0kVJc3wq8"),
        "the token never shows:\n{text}"
    );

    // A token the host did not issue fails the check, with both fingerprints.
    let mut other = redeem.clone();
    let form = String::from_utf8(other.request.body.raw.to_vec()).unwrap();
    let (before, after) = form.split_once("assertion=").unwrap();
    let tail = after.split_once('&').map_or("", |(_, t)| t);
    let wrapper = "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"><DesktopSsoToken>dsso1.another-token-never-issued</DesktopSsoToken></saml:Assertion>";
    let b64 = idscope_decoders::util::b64_std(wrapper.as_bytes());
    let enc: String = form_urlencoded::byte_serialize(b64.as_bytes()).collect();
    let body = format!("{before}assertion={enc}&{tail}");
    other.request.body = idscope::flow::Body::plain(body.into_bytes());
    write_har(&har.with_extension("bad.har"), &[rst, other]);
    let (_, stories) = analyze_json(&har.with_extension("bad.har"));
    let s = seamless(&stories);
    let check = s[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .unwrap()
                .starts_with("DesktopSsoToken redeemed")
        })
        .unwrap()
        .clone();
    assert_eq!(check["verdict"], "fail", "{check}");
    let values = check["values"].as_array().unwrap();
    assert_ne!(values[0]["value"], values[1]["value"]);
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains(" ≠ DesktopSsoToken issued")
    );
}

// ---------------------------------------------------------------------------------------------
// Real clients through `idscope record` against the reference server.

use std::io::{BufRead, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use idscope::testbed::{ADFS_HOST, AUTOLOGON_HOST, CLOUD_USERS, KERBEROS_REALM, ONPREM_USERS};

use crate::proxy::{interop_tool, spawn_record_mapped};
use crate::support::ChildGuard;

/// `idscope fixture` with `extra` flags, its CA written to `ca_out`; the guard and one `--map
/// HOST=ADDR` per host it serves.
fn spawn_fixture(ca_out: &Path, extra: &[&str]) -> (ChildGuard, Vec<String>) {
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_idscope"))
            .args(["fixture", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(ca_out)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut maps = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("idscope fixture printed its hosts");
        if let Some((host, addr)) = line.trim().split_once(" -> ") {
            maps.push(format!("{host}={addr}"));
        }
        if line.starts_with("state:") {
            break;
        }
    }
    assert!(
        maps.iter().any(|m| m.starts_with(AUTOLOGON_HOST)),
        "{maps:?}"
    );
    (child, maps)
}

/// A recorder mapped to the fixture: the guard, `http://ADDR` and the CA file clients trust.
struct Recorder {
    child: ChildGuard,
    log: std::thread::JoinHandle<String>,
    proxy: String,
    ca: PathBuf,
}

fn record(dir: &Path, fixture_ca: &Path, maps: &[String], har: &Path) -> Recorder {
    let ca_dir = dir.join("ca");
    let (child, addr, log) = spawn_record_mapped(&ca_dir, fixture_ca, maps, har);
    Recorder {
        child,
        log,
        proxy: format!("http://{addr}"),
        ca: ca_dir.join(idscope::proxy::ca::CERT_FILE),
    }
}

impl Recorder {
    /// Stops the recorder as a person does (SIGTERM) once it has written the flows.
    fn stop(self) {
        let o = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .output()
            .unwrap();
        assert!(o.status.success());
        let out = self.child.into_inner().wait_with_output().unwrap();
        let log = self.log.join().unwrap();
        assert!(out.status.success(), "{log}");
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn has_roadtx() -> bool {
    interop_tool("roadtx", "roadtx desktopsso test (pip install roadtx)")
}

#[test]
fn roadtx_desktopsso_with_a_password_completes_through_the_recorder() {
    if !has_roadtx() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixture_ca = dir.path().join("fixture-ca.pem");
    let (_fixture, maps) = spawn_fixture(&fixture_ca, &[]);
    let har = dir.path().join("roadtx.har");
    let rec = record(dir.path(), &fixture_ca, &maps, &har);
    let (user, password, _) = CLOUD_USERS[1];
    let domain = user.split('@').nth(1).unwrap();
    let tokens = dir.path().join("roadtools_auth");
    let o = run(Command::new("roadtx")
        .args([
            "-p",
            rec.proxy.trim_start_matches("http://"),
            "-s",
            "desktopsso",
        ])
        .args(["-u", user, "-p", password, "-t", domain, "--tokenfile"])
        .arg(&tokens)
        .current_dir(dir.path())
        .env("REQUESTS_CA_BUNDLE", &rec.ca));
    rec.stop();
    assert!(o.status.success(), "roadtx: {}\n{}", stdout(&o), stderr(&o));
    let saved: Value = serde_json::from_slice(&std::fs::read(&tokens).unwrap()).unwrap();
    assert!(
        saved["accessToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("eyJ")),
        "{saved}"
    );

    let (flows, stories) = analyze_json(&har);
    let describe = || {
        flows
            .iter()
            .map(|f| format!("{} {} {}", f["method"], f["url"], f["summary"]))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let rst = flows
        .iter()
        .find(|f| {
            f["url"]
                .as_str()
                .unwrap()
                .contains("/winauth/trust/2005/usernamemixed")
        })
        .unwrap_or_else(|| panic!("{}", describe()));
    let summary = rst["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("(password of {user})"))
            && summary.contains("DesktopSsoToken issued"),
        "{summary}"
    );
    let redeem = flows
        .iter()
        .find(|f| {
            f["summary"]
                .as_str()
                .unwrap()
                .contains("Seamless SSO DesktopSsoToken")
        })
        .unwrap_or_else(|| panic!("{}", describe()));
    assert_eq!(redeem["status"], 200, "{}", describe());
    // roadtx's password and the token never show in the report.
    let text = stdout(&idscope(&["analyze", har.to_str().unwrap()], None));
    assert!(!text.contains(password), "{text}");
    let s = seamless(&stories);
    assert_eq!(s.len(), 1, "{stories:#?}");
    let check = &s[0]["checks"][0];
    assert_eq!(check["verdict"], "pass", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .starts_with("DesktopSsoToken redeemed"),
        "{check}"
    );
}

/// An MIT KDC for [`KERBEROS_REALM`] on a loopback port, in `dir`: the user `alice` (her
/// fixture password) and the service principals of the autologon host and the ADFS farm, whose
/// keys are exported to `http.keytab`; `kinit` has put alice's TGT in the cache the environment
/// of [`Kdc::env`] names.
struct Kdc {
    _child: ChildGuard,
    dir: PathBuf,
}

impl Kdc {
    fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("KRB5_CONFIG", self.dir.join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", self.dir.join("kdc.conf"))
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", self.dir.join("ccache").display()),
            )
    }

    fn keytab(&self) -> PathBuf {
        self.dir.join("http.keytab")
    }

    fn start(dir: &Path) -> Kdc {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let realm = KERBEROS_REALM;
        std::fs::create_dir_all(dir).unwrap();
        let d = dir.display();
        std::fs::write(
            dir.join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {realm}\n dns_lookup_kdc = false\n \
                 dns_lookup_realm = false\n dns_canonicalize_hostname = false\n rdns = false\n \
                 udp_preference_limit = 1\n[realms]\n {realm} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\
                 [domain_realm]\n {AUTOLOGON_HOST} = {realm}\n {ADFS_HOST} = {realm}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n[realms]\n \
                 {realm} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  \
                 acl_file = {d}/kadm5.acl\n  supported_enctypes = \
                 aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }}\n\
                 [logging]\n kdc = FILE:{d}/kdc.log\n"
            ),
        )
        .unwrap();
        let kdc = |cmd: &mut Command| -> Output {
            let o = cmd
                .env("KRB5_CONFIG", dir.join("krb5.conf"))
                .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{cmd:?}: {}\n{}",
                stdout(&o),
                stderr(&o)
            );
            o
        };
        kdc(Command::new("kdb5_util").args(["create", "-s", "-r", realm, "-P", "idscope-master"]));
        let (_, alice_pw, _) = ONPREM_USERS[0];
        let keytab = dir.join("http.keytab");
        for q in [
            format!("addprinc -pw {alice_pw} alice"),
            format!("addprinc -randkey HTTP/{AUTOLOGON_HOST}"),
            format!("addprinc -randkey HTTP/{ADFS_HOST}"),
            format!(
                "ktadd -k {} HTTP/{AUTOLOGON_HOST} HTTP/{ADFS_HOST}",
                keytab.display()
            ),
        ] {
            kdc(Command::new("kadmin.local").args(["-r", realm, "-q", &q]));
        }
        let child = ChildGuard::new(
            Command::new("krb5kdc")
                .args(["-n", "-r", realm])
                .env("KRB5_CONFIG", dir.join("krb5.conf"))
                .env("KRB5_KDC_PROFILE", dir.join("kdc.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let kdc = Kdc {
            _child: child,
            dir: dir.to_path_buf(),
        };
        // kinit until the KDC listens (it binds its ports right after start).
        let mut last = String::new();
        for _ in 0..100 {
            let mut kinit = kdc
                .env(&mut Command::new("kinit"))
                .arg(format!("alice@{realm}"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // kinit asks for the password only once it reached the KDC; before the KDC listens
            // it fails without reading it (a broken pipe here), and the loop tries again.
            let _ = writeln!(kinit.stdin.take().unwrap(), "{alice_pw}");
            let o = kinit.wait_with_output().unwrap();
            if o.status.success() {
                return kdc;
            }
            last = stderr(&o);
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("kinit alice failed: {last}");
    }
}

fn has_kerberos_tools() -> bool {
    let what = "Kerberos test (Debian krb5-kdc, krb5-user, krb5-admin-server, curl)";
    ["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "curl"]
        .iter()
        .all(|t| interop_tool(t, what))
}

/// `curl --negotiate` through the recorder, with the environment's Kerberos cache.
fn curl(kdc: &Kdc, rec: &Recorder, args: &[&str]) -> Output {
    run(kdc
        .env(&mut Command::new("curl"))
        .args([
            "-sS",
            "--negotiate",
            "-u",
            ":",
            "--proxy",
            &rec.proxy,
            "--cacert",
        ])
        .arg(&rec.ca)
        .args(args))
}

const RST: &str = "<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope' xmlns:wsp='http://schemas.xmlsoap.org/ws/2004/09/policy' xmlns:wsa='http://www.w3.org/2005/08/addressing' xmlns:wst='http://schemas.xmlsoap.org/ws/2005/02/trust'><s:Header><wsa:Action s:mustUnderstand='1'>http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue</wsa:Action><wsa:MessageID>urn:uuid:36a2e970-3107-4e3f-99dd-569a9588f02c</wsa:MessageID></s:Header><s:Body><wst:RequestSecurityToken Id='RST0'><wst:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wst:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</wst:KeyType></wst:RequestSecurityToken></s:Body></s:Envelope>";

const WIA: &str = "https://sts.contoso.test/adfs/ls/wia?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline&wctx=kerberos-test";

/// Every value in the decoded request trees of `flow`, except the `desktopsso` view (whose
/// notes name the service principal): what the Negotiate token's own decoding shows.
fn negotiate_tree(flow: &Value) -> String {
    flow["request"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["decoder"] != "desktopsso")
        .map(|o| o.to_string())
        .collect()
}

/// The run the Kerberos tests share: a KDC, the fixture with its keytab, the recorder; the sync
/// cycle provisions alice, then curl with alice's ticket gets a DesktopSsoToken from
/// windowstransport, redeems it, gets one from `/winauth/sso`, and signs in to ADFS through
/// `/adfs/ls/wia`. Returns the flows and stories of the recording.
fn kerberos_run(dir: &Path) -> Option<(Vec<Value>, Vec<Value>)> {
    if !has_kerberos_tools() {
        return None;
    }
    let kdc = Kdc::start(&dir.join("kdc"));
    let fixture_ca = dir.join("fixture-ca.pem");
    let kt = kdc.keytab();
    let (_fixture, maps) = spawn_fixture(&fixture_ca, &["--keytab", kt.to_str().unwrap()]);
    let har = dir.join("kerberos.har");
    let rec = record(dir, &fixture_ca, &maps, &har);
    let ca = rec.ca.display().to_string();
    let sync = idscope(
        &[
            "scenario", "run", "sync", "--proxy", &rec.proxy, "--ca", &ca,
        ],
        None,
    );
    assert!(
        sync.status.success(),
        "{}\n{}",
        stdout(&sync),
        stderr(&sync)
    );

    let url = format!("https://{AUTOLOGON_HOST}/contoso.test/winauth/trust/2005/windowstransport");
    let o = curl(
        &kdc,
        &rec,
        &[
            "-H",
            "Content-Type: application/soap+xml; charset=utf-8",
            "-H",
            "SOAPAction: http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue",
            "--data",
            RST,
            &url,
        ],
    );
    let rstr = stdout(&o);
    let token = rstr
        .split("<DesktopSsoToken>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_else(|| panic!("no DesktopSsoToken: {rstr}\n{}", stderr(&o)))
        .to_string();
    let wrapper = format!(
        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:1.0:assertion\"><DesktopSsoToken>{token}</DesktopSsoToken></saml:Assertion>"
    );
    let assertion = idscope_decoders::util::b64_std(wrapper.as_bytes());
    let o = run(Command::new("curl")
        .args(["-sS", "--proxy", &rec.proxy, "--cacert", &ca])
        .args([
            "--data-urlencode",
            "grant_type=urn:ietf:params:oauth:grant-type:saml1_1-bearer",
        ])
        .args([
            "--data-urlencode",
            "client_id=1b730954-1685-4b74-9bfd-dac224a7b894",
        ])
        .args(["--data-urlencode", "resource=https://graph.windows.net"])
        .args(["--data-urlencode", &format!("assertion={assertion}")])
        .arg("https://login.microsoftonline.com/contoso.test/oauth2/token"));
    assert!(
        stdout(&o).contains("\"access_token\""),
        "{}\n{}",
        stdout(&o),
        stderr(&o)
    );

    let sso = format!(
        "https://{AUTOLOGON_HOST}/contoso.test/winauth/sso?desktopsso=true&isAdalRequest=False&client-request-id=1"
    );
    let o = curl(&kdc, &rec, &[&sso]);
    assert!(
        !stdout(&o).is_empty() && !stdout(&o).contains('<'),
        "{}",
        stdout(&o)
    );

    let o = curl(&kdc, &rec, &[WIA]);
    assert!(
        stdout(&o).contains("name=\"wresult\""),
        "{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    // A client that sends no ticket gets the challenge (curl --negotiate sends its ticket at once).
    let o = run(Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--proxy",
            &rec.proxy,
            "--cacert",
            &ca,
        ])
        .arg(WIA));
    assert_eq!(stdout(&o), "401", "{}", stderr(&o));
    // A client that offers NTLM instead: curl's NEGOTIATE (type 1), which the fixture refuses
    // with the challenge again (it takes Kerberos only), and curl gives up.
    let o = run(Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--ntlm",
            "-u",
            "CONTOSO\\alice:not-her-password",
            "--proxy",
            &rec.proxy,
            "--cacert",
            &ca,
        ])
        .arg(WIA));
    assert_eq!(stdout(&o), "401", "{}", stderr(&o));
    rec.stop();
    Some(analyze_json(&har))
}

static KERBEROS: std::sync::OnceLock<Option<(Vec<Value>, Vec<Value>)>> = std::sync::OnceLock::new();

fn kerberos() -> Option<&'static (Vec<Value>, Vec<Value>)> {
    KERBEROS
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            kerberos_run(dir.path())
        })
        .as_ref()
}

fn flows_to<'a>(flows: &'a [Value], path: &str) -> Vec<&'a Value> {
    flows
        .iter()
        .filter(|f| f["url"].as_str().unwrap_or("").contains(path))
        .collect()
}

#[test]
fn a_kerberos_ticket_from_a_real_kdc_gets_and_redeems_a_desktop_sso_token() {
    let Some((flows, stories)) = kerberos() else {
        return;
    };
    let rsts = flows_to(flows, "/winauth/trust/2005/windowstransport");
    assert_eq!(rsts.len(), 1, "{rsts:#?}");
    assert_eq!(rsts[0]["status"], 200);
    let s = rsts[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("(Kerberos ticket)") && s.contains("DesktopSsoToken issued"),
        "{s}"
    );
    let s = seamless(stories);
    let with_check: Vec<&&Value> = s
        .iter()
        .filter(|st| !st["checks"].as_array().unwrap().is_empty())
        .collect();
    assert!(!with_check.is_empty(), "{s:#?}");
    let check = &with_check[0]["checks"][0];
    assert_eq!(check["verdict"], "pass", "{check}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .starts_with("DesktopSsoToken redeemed"),
        "{check}"
    );
    // No step of the exchange failed: the first 401 is the challenge, not a refusal.
    for st in &s {
        for step in st["steps"].as_array().unwrap() {
            assert!(step.get("failed").is_none(), "{st:#}");
        }
    }
    let browser = flows_to(flows, "/winauth/sso");
    assert_eq!(browser.len(), 1, "{browser:#?}");
    assert!(
        browser[0]["summary"]
            .as_str()
            .unwrap()
            .contains("DesktopSsoToken issued to the browser"),
        "{}",
        browser[0]["summary"]
    );
    // Without curl's NTLM attempts (checked on their own below).
    let wia: Vec<&Value> = flows_to(flows, "/adfs/ls/wia")
        .into_iter()
        .filter(|f| !negotiate_tree(f).contains("NTLM NEGOTIATE"))
        .collect();
    assert_eq!(wia.len(), 2, "{wia:#?}");
    assert_eq!(wia[0]["status"], 200);
    assert!(
        wia[0]["summary"]
            .as_str()
            .unwrap()
            .contains("ADFS WIA with a Kerberos ticket")
    );
    assert_eq!(wia[1]["status"], 401);
    assert_eq!(
        wia[1]["summary"],
        "ADFS WIA (no credential yet) ⇒ ADFS WIA: 401 Negotiate challenge"
    );
    // A challenge is no failure: at most the Negotiate decoder's note on what it asks for.
    assert!(
        matches!(wia[1]["worst"].as_str(), None | Some("info")),
        "{:#}",
        wia[1]
    );
}

/// The contract with the Negotiate decoder: the recorded AP-REQ decodes with its realm, service
/// principal and encryption type.
#[test]
fn the_recorded_ap_req_decodes_with_realm_principal_and_enctype() {
    let Some((flows, _)) = kerberos() else { return };
    for path in ["/winauth/trust/2005/windowstransport", "/adfs/ls/wia"] {
        let with_ticket = flows_to(flows, path)
            .into_iter()
            .find(|f| f["status"] == 200)
            .unwrap();
        let tree = negotiate_tree(with_ticket);
        let service = if path.starts_with("/adfs") {
            ADFS_HOST
        } else {
            AUTOLOGON_HOST
        };
        for want in [
            KERBEROS_REALM.to_string(),
            format!("HTTP/{service}"),
            "aes256-cts-hmac-sha1-96".to_string(),
        ] {
            assert!(
                tree.contains(&want),
                "{path}: {want} not in the decoded request:\n{tree}"
            );
        }
    }
}

#[test]
fn adfs_with_extended_protection_refuses_the_proxied_token_and_the_report_says_why() {
    if !has_kerberos_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kdc = Kdc::start(&dir.path().join("kdc"));
    let fixture_ca = dir.path().join("fixture-ca.pem");
    let kt = kdc.keytab();
    let (_fixture, maps) = spawn_fixture(
        &fixture_ca,
        &["--keytab", kt.to_str().unwrap(), "--extended-protection"],
    );
    let har = dir.path().join("epa.har");
    let rec = record(dir.path(), &fixture_ca, &maps, &har);
    let o = curl(&kdc, &rec, &["-o", "/dev/null", "-w", "%{http_code}", WIA]);
    rec.stop();
    assert_eq!(stdout(&o), "401", "{}", stderr(&o));
    let (flows, _) = analyze_json(&har);
    let wia = flows_to(&flows, "/adfs/ls/wia");
    assert_eq!(wia.len(), 1, "{wia:#?}");
    let refused = wia[0];
    assert_eq!(
        refused["summary"],
        "ADFS WIA with a Kerberos ticket ⇒ HTTP 401: ADFS WIA refused (extended protection)"
    );
    let findings = refused["findings"].to_string();
    assert!(
        findings.contains("extended protection")
            && findings.contains("--ignore-host")
            && findings.contains("Set-AdfsProperties -ExtendedProtectionTokenCheck None"),
        "{findings}"
    );
    assert_eq!(refused["worst"], "error");
}

#[test]
fn a_recorded_ntlm_negotiate_from_curl_decodes_with_its_fields() {
    let Some((flows, _)) = kerberos() else {
        return;
    };
    let ntlm = flows
        .iter()
        .find(|f| {
            f["url"].as_str().unwrap_or("").contains("/adfs/ls/wia")
                && negotiate_tree(f).contains("NTLM NEGOTIATE")
        })
        .unwrap_or_else(|| panic!("no NTLM flow to /adfs/ls/wia: {flows:#?}"));
    let tree = negotiate_tree(ntlm);
    // curl's type 1: OEM strings, a target requested, NTLM with extended session security.
    for want in [
        "NEGOTIATE (type 1)",
        "NegotiateFlags",
        "NEGOTIATE_OEM",
        "REQUEST_TARGET",
        "NEGOTIATE_NTLM",
        "NEGOTIATE_EXTENDED_SESSIONSECURITY",
    ] {
        assert!(
            tree.contains(want),
            "{want} not in the decoded request:\n{tree}"
        );
    }
    assert_eq!(ntlm["status"], 401);
}
