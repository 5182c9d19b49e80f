//! Client certificates through the proxy (`--client-cert`): an in-test origin that requires a
//! client certificate issued by its own CA; with the certificate configured (PEM, or PFX with a
//! password file) the request goes through and the flow names the certificate, without it the
//! flow carries the finding naming the CA the origin asked for. An unreadable certificate file
//! is a usage error. The agent scenario against the reference server is at the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Incoming;
use idscope::flow::{Flow, Outcome};
use idscope::proxy::{self, ProxyConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tokio::net::TcpListener;

use crate::util::{idscope, stderr};

const CLIENT_CA_CN: &str = "idscope test client CA";

/// A CA, a server leaf for `localhost` and a client leaf from a separate client CA, written as
/// files.
struct Pki {
    dir: tempfile::TempDir,
    server_ca: PathBuf,
    server_leaf: (Vec<u8>, Vec<u8>),
    client_ca_der: Vec<u8>,
    client_cert_pem: String,
    client_key_pem: String,
    client_cert_der: Vec<u8>,
    client_key_der: Vec<u8>,
}

fn ca(cn: &str) -> (Issuer<'static, KeyPair>, Vec<u8>, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::default();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let cert = p.self_signed(&key).unwrap();
    (Issuer::new(p, key), cert.der().to_vec(), cert.pem())
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let (server_issuer, _, server_pem) = ca("idscope test server CA");
    let server_ca = dir.path().join("server-ca.pem");
    std::fs::write(&server_ca, server_pem).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &server_issuer)
        .unwrap();
    let (client_issuer, client_ca_der, _) = ca(CLIENT_CA_CN);
    let ckey = KeyPair::generate().unwrap();
    let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.distinguished_name
        .push(rcgen::DnType::CommonName, "agent-0001");
    let client = cp.signed_by(&ckey, &client_issuer).unwrap();
    Pki {
        server_ca,
        server_leaf: (leaf.der().to_vec(), key.serialize_der()),
        client_ca_der,
        client_cert_pem: client.pem(),
        client_key_pem: ckey.serialize_pem(),
        client_cert_der: client.der().to_vec(),
        client_key_der: ckey.serialize_der(),
        dir,
    }
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Writes the client certificate and key as PEM files and returns the `--client-cert` value
/// presenting them to `localhost`.
fn client_cert_files(pki: &Pki) -> String {
    std::fs::write(pki.path("client.pem"), &pki.client_cert_pem).unwrap();
    std::fs::write(pki.path("client.key"), &pki.client_key_pem).unwrap();
    format!(
        "localhost={},{}",
        pki.path("client.pem").display(),
        pki.path("client.key").display()
    )
}

impl Pki {
    fn sha1_hex(&self) -> String {
        let c = idscope_decoders::x509::Certificate::parse(&self.client_cert_der).unwrap();
        idscope_decoders::util::hex_lower(&c.sha1)
    }
}

/// The TLS side of the test origins: the `localhost` leaf, a client certificate from the client
/// CA required.
fn mtls_acceptor(pki: &Pki) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(pki.client_ca_der.clone()))
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(pki.server_leaf.0.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_leaf.1.clone())),
        )
        .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

/// An HTTPS origin on `localhost` that requires a client certificate from the client CA and
/// answers `hello, N client certificate(s)`.
async fn mtls_origin(pki: &Pki) -> u16 {
    let acceptor = mtls_acceptor(pki);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let peers = tls.get_ref().1.peer_certificates().map_or(0, <[_]>::len);
                let svc =
                    hyper::service::service_fn(move |_req: hyper::Request<Incoming>| async move {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            bytes::Bytes::from(format!("hello, {peers} client certificate(s)")),
                        )))
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    port
}

/// Starts the proxy with `cfg`, sends one GET to the origin through it and returns the
/// finished flow and the status the client saw.
async fn one_flow(cfg: ProxyConfig, pki: &Pki, port: u16) -> (Flow, u16) {
    one_flow_from(cfg, pki, port, None).await
}

/// [`one_flow`] with a client that presents `identity` to the proxy.
async fn one_flow_from(
    mut cfg: ProxyConfig,
    pki: &Pki,
    port: u16,
    identity: Option<reqwest::Identity>,
) -> (Flow, u16) {
    let ca_dir = tempfile::tempdir().unwrap();
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.ca_dir = Some(ca_dir.path().join("ca"));
    cfg.upstream_ca = vec![pki.server_ca.clone()];
    let mut handle = proxy::start(cfg).await.unwrap();
    let mut events = handle.take_events().unwrap();
    let mut client = reqwest::Client::builder();
    if let Some(id) = identity {
        client = client.identity(id);
    }
    let client = client
        .no_proxy()
        .proxy(reqwest::Proxy::all(format!("http://{}", handle.addr())).unwrap())
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(handle.ca_pem().as_bytes()).unwrap())
        .http1_only()
        .build()
        .unwrap();
    let status = client
        .get(format!("https://localhost:{port}/hello"))
        .send()
        .await
        .unwrap();
    let code = status.status().as_u16();
    let _ = status.bytes().await;
    let har = ca_dir.path().join("flows.har");
    let mut rec = idscope::live::Recorder::create(&har, false).unwrap();
    let flow = loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(20), events.recv())
            .await
            .expect("the flow's events")
            .unwrap();
        if let Some(f) = rec.apply(ev).unwrap() {
            break f;
        }
    };
    rec.finish().unwrap();
    handle.shutdown().await;
    // What the recording holds, read back.
    let flows = idscope::capture::read_all(&har).unwrap();
    assert_eq!(flows.len(), 1);
    let _ = flow;
    (flows.into_iter().next().unwrap(), code)
}

fn findings(flow: &Flow) -> Vec<(idscope_decoders::Severity, String)> {
    let r = idscope::analysis::decode_flow(
        flow,
        idscope_decoders::Registry::builtin(),
        &idscope_decoders::Trust::default(),
        idscope_decoders::Limits::default(),
    );
    r.findings()
        .into_iter()
        .map(|(_, _, f)| (f.severity, f.message.clone()))
        .collect()
}

fn opts(args: &[&str]) -> idscope::cli::ProxyOpts {
    use clap::Parser as _;
    let mut all = vec!["idscope", "record", "-w", "unused.har"];
    all.extend_from_slice(args);
    match idscope::cli::Cli::try_parse_from(all).unwrap().command {
        idscope::cli::Command::Record(r) => r.opts,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_pem_certificate_is_presented_and_recorded() {
    let pki = pki();
    let spec = client_cert_files(&pki);
    let port = mtls_origin(&pki).await;
    let cfg = idscope::commands::proxy::config(&opts(&["--client-cert", &spec])).unwrap();
    let (flow, status) = one_flow(cfg, &pki, port).await;
    assert_eq!(status, 200);
    let Outcome::Response(r) = &flow.outcome else {
        panic!("{:?}", flow.outcome)
    };
    assert_eq!(&r.body.raw[..], b"hello, 1 client certificate(s)");
    let rec = &r.extra["_clientCertificate"];
    assert_eq!(rec["presented"]["subject"], "CN=agent-0001", "{rec}");
    assert_eq!(rec["presented"]["sha1"], pki.sha1_hex(), "{rec}");
    assert_eq!(
        rec["acceptable_cas"][0],
        format!("CN={CLIENT_CA_CN}"),
        "{rec}"
    );
    assert!(
        !findings(&flow)
            .iter()
            .any(|(_, m)| m.contains("--client-cert")),
        "{:?}",
        findings(&flow)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_certificate_the_flow_names_the_ca_and_the_option() {
    let pki = pki();
    let port = mtls_origin(&pki).await;
    let (flow, status) = one_flow(ProxyConfig::default(), &pki, port).await;
    assert_eq!(status, 502);
    let f = findings(&flow);
    let hit = f
        .iter()
        .find(|(_, m)| m.contains("asked for a client certificate"))
        .unwrap_or_else(|| panic!("{f:?}"));
    assert_eq!(hit.0, idscope_decoders::Severity::Error);
    assert!(hit.1.contains(&format!("CN={CLIENT_CA_CN}")), "{}", hit.1);
    assert!(
        hit.1.contains("--client-cert localhost=CERT[,KEY]"),
        "{}",
        hit.1
    );
}

fn pfx(pki: &Pki, password: &str, path: &Path) {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let chain = PrivateKeyChain::new(
        b"agent".to_vec(),
        PrivateKey::from_der(&pki.client_key_der).unwrap(),
        vec![Certificate::from_der(&pki.client_cert_der).unwrap()],
    );
    let mut ks = KeyStore::new();
    ks.add_entry("agent", KeyStoreEntry::PrivateKeyChain(chain));
    std::fs::write(path, ks.writer(password).write().unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pfx_with_its_password_file_is_presented() {
    let pki = pki();
    pfx(&pki, "Pfx-Passw0rd", &pki.path("agent.pfx"));
    std::fs::write(pki.path("pw.txt"), "Pfx-Passw0rd\n").unwrap();
    std::fs::write(pki.path("wrong.txt"), "nope\n").unwrap();
    let spec = format!("localhost={}", pki.path("agent.pfx").display());
    let pw = pki.path("pw.txt").display().to_string();
    let wrong = pki.path("wrong.txt").display().to_string();
    let e = idscope::commands::proxy::config(&opts(&[
        "--client-cert",
        &spec,
        "--client-cert-password-file",
        &wrong,
    ]))
    .unwrap_err();
    assert!(format!("{e:#}").contains("password is wrong"), "{e:#}");
    let cfg = idscope::commands::proxy::config(&opts(&[
        "--client-cert",
        &spec,
        "--client-cert-password-file",
        &pw,
    ]))
    .unwrap();
    let port = mtls_origin(&pki).await;
    let (flow, status) = one_flow(cfg, &pki, port).await;
    assert_eq!(status, 200);
    let Outcome::Response(r) = &flow.outcome else {
        panic!("{:?}", flow.outcome)
    };
    assert_eq!(
        r.extra["_clientCertificate"]["presented"]["sha1"],
        pki.sha1_hex()
    );
}

#[test]
fn an_unreadable_certificate_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("x.har");
    let missing = dir.path().join("no-such-cert.pem");
    let o = idscope(
        &[
            "record",
            "-w",
            har.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--client-cert",
            &format!("agent.example={}", missing.display()),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("--client-cert agent.example"), "{err}");
    assert!(err.contains("cannot read the certificate file"), "{err}");
    assert!(err.contains("no-such-cert.pem"), "{err}");
    assert!(!har.exists(), "nothing is recorded");
}

mod agent_scenario {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::process::Command;

    use idscope::fixture::FixtureConfig;
    use idscope::scenario::{self, Scenario, ScenarioConfig, Target};
    use idscope::testbed::{AGENT_HOSTS, BOOTSTRAP_HOST, HOSTS, TENANT_ID};

    use super::{findings, recording_decodes_with_secrets_masked_and_redacted};
    use crate::proxy::spawn_record;
    use crate::support::ReferenceServer;

    /// Plays the agent scenario through `idscope record` (with `extra` options) against the
    /// reference server and returns the scenario's result and the recorded flows.
    async fn through_record(
        server: &ReferenceServer,
        dir: &Path,
        name: &str,
        extra: &[String],
    ) -> (
        Result<scenario::ScenarioReport, scenario::StepError>,
        Vec<idscope::flow::Flow>,
    ) {
        let fixture_ca = dir.join("fixture-ca.pem");
        std::fs::write(&fixture_ca, server.ca_pem()).unwrap();
        let ca_dir = dir.join(format!("ca-{name}"));
        let har = dir.join(format!("{name}.har"));
        let mut args = vec![
            "--listen".to_string(),
            "127.0.0.1:0".into(),
            "--ca-dir".into(),
            ca_dir.display().to_string(),
            "--upstream-ca".into(),
            fixture_ca.display().to_string(),
            "-w".into(),
            har.display().to_string(),
        ];
        for host in HOSTS.iter().chain(AGENT_HOSTS) {
            args.extend(["--map".to_string(), format!("{host}={}", server.addr())]);
        }
        args.extend(extra.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (recorder, addr, log) = spawn_record(&args);
        let ca = std::fs::read_to_string(ca_dir.join(idscope::proxy::ca::CERT_FILE)).unwrap();
        let result = scenario::run(
            &[Scenario::Agent],
            &ScenarioConfig {
                target: Target::Proxy(format!("http://{addr}")),
                ca_pems: vec![ca],
                print: false,
                device_seed: None,
            },
        )
        .await;
        Command::new("kill")
            .args(["-TERM", &recorder.id().to_string()])
            .status()
            .unwrap();
        let out = recorder.into_inner().wait_with_output().unwrap();
        assert!(out.status.success(), "{}", log.join().unwrap());
        (result, idscope::capture::read_all(&har).unwrap())
    }

    fn bootstrap_flow(flows: &[idscope::flow::Flow]) -> &idscope::flow::Flow {
        flows
            .iter()
            .find(|f| {
                f.request
                    .url
                    .contains(&format!("{BOOTSTRAP_HOST}/ConnectorBootstrap"))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no bootstrap flow in {:?}",
                    flows.iter().map(|f| &f.request.url).collect::<Vec<_>>()
                )
            })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_agent_scenario_bootstraps_through_record_with_client_cert() {
        let dir = tempfile::tempdir().unwrap();
        let server = ReferenceServer::start(FixtureConfig::default()).await;
        let direct = ScenarioConfig {
            target: Target::Direct(
                HOSTS
                    .iter()
                    .chain(AGENT_HOSTS)
                    .map(|h| (h.to_string(), server.addr()))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ca_pems: vec![server.ca_pem().to_string()],
            print: false,
            device_seed: None,
        };
        // Directly, the scenario client presents the certificate itself.
        let report = scenario::run(&[Scenario::Agent], &direct).await.unwrap();
        assert_eq!(report.steps.len(), 3, "{report:?}");
        // A first registration gives the files the proxy presents.
        let reg = scenario::agent::register(&direct).await.unwrap();
        let (cert, key) = (dir.path().join("agent.pem"), dir.path().join("agent.key"));
        std::fs::write(&cert, &reg.cert_pem).unwrap();
        std::fs::write(&key, &reg.key_pem).unwrap();

        let with = vec![
            "--client-cert".to_string(),
            format!("{BOOTSTRAP_HOST}={},{}", cert.display(), key.display()),
        ];
        let (result, flows) = through_record(&server, dir.path(), "with", &with).await;
        let report = result.unwrap();
        assert!(
            report
                .steps
                .iter()
                .any(|s| s.step == "connector-bootstrap"
                    && s.detail.contains("servicebus.windows.net")),
            "{report:?}"
        );
        let boot = bootstrap_flow(&flows);
        let r = boot.response().unwrap();
        assert_eq!(r.status, 200);
        let rec = &r.extra["_clientCertificate"];
        assert_eq!(
            rec["presented"]["subject"],
            format!("CN={TENANT_ID}"),
            "{rec}"
        );
        let der = {
            use rustls::pki_types::{CertificateDer, pem::PemObject as _};
            CertificateDer::from_pem_slice(reg.cert_pem.as_bytes()).unwrap()
        };
        let sha1 = idscope_decoders::x509::Certificate::parse(&der)
            .unwrap()
            .sha1;
        assert_eq!(
            rec["presented"]["sha1"],
            idscope_decoders::util::hex_lower(&sha1)
        );
        assert!(
            !findings(boot)
                .iter()
                .any(|(_, m)| m.contains("--client-cert")),
            "{:?}",
            findings(boot)
        );

        recording_decodes_with_secrets_masked_and_redacted(dir.path(), &flows);

        // Without --client-cert the bootstrap is refused and its flow says what to do.
        let (result, flows) = through_record(&server, dir.path(), "without", &[]).await;
        let e = result.unwrap_err();
        assert_eq!(e.step, "connector-bootstrap", "{e}");
        assert!(e.message.contains("HTTP 403"), "{e}");
        let boot = bootstrap_flow(&flows);
        assert_eq!(boot.response().unwrap().status, 403);
        let f = findings(boot);
        let hit = f
            .iter()
            .find(|(_, m)| m.contains("asked for a client certificate"))
            .unwrap_or_else(|| panic!("{f:?}"));
        assert_eq!(hit.0, idscope_decoders::Severity::Error);
        assert!(
            hit.1.contains("CN=HIS Agent CA (idscope fixture)"),
            "{}",
            hit.1
        );
        assert!(
            hit.1
                .contains(&format!("--client-cert {BOOTSTRAP_HOST}=CERT[,KEY]")),
            "{}",
            hit.1
        );
        server.shutdown().await;
    }
}

/// The recording of the agent scenario, read by `analyze` and `redact` as a user would: the
/// registration and the bootstrap decode as the agent's documents, the connector agent story
/// checks the connector id against the issued certificate, and the relay key and the
/// registration token's signature are masked in the report and absent from the redacted copy.
fn recording_decodes_with_secrets_masked_and_redacted(dir: &Path, flows: &[Flow]) {
    use crate::util::{idscope, stdout};
    let har = dir.join("with.har");
    let har_s = har.to_str().unwrap();
    let body = |f: &Flow| String::from_utf8_lossy(&f.response().unwrap().body.raw).into_owned();
    let boot = flows
        .iter()
        .find(|f| f.request.url.contains("/ConnectorBootstrap"))
        .unwrap();
    let boot_body = body(boot);
    let key = regex::Regex::new(r"<(?:\w+:)?SharedAccessKey>([^<]+)</")
        .unwrap()
        .captures(&boot_body)
        .unwrap_or_else(|| panic!("no SharedAccessKey in {boot_body}"))[1]
        .to_string();
    let reg = flows
        .iter()
        .find(|f| f.request.url.contains("/register/RegisterConnector"))
        .unwrap();
    let reg_body = String::from_utf8_lossy(&reg.request.body.raw).into_owned();
    let token = regex::Regex::new(r"<(?:\w+:)?AuthenticationToken>([^<]+)</")
        .unwrap()
        .captures(&reg_body)
        .unwrap_or_else(|| panic!("no AuthenticationToken in {reg_body}"))[1]
        .to_string();
    let signature = token.rsplit('.').next().unwrap().to_string();
    assert!(
        key.len() >= 16 && signature.len() >= 16,
        "{key} {signature}"
    );

    let o = idscope(&["analyze", "--json", "--fail-on", "never", har_s], None);
    let out = stdout(&o);
    assert!(!out.contains(&key), "the relay key is masked in analyze");
    assert!(!out.contains(&signature), "the token's signature is masked");
    let objects: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for path in ["/register/RegisterConnector", "/ConnectorBootstrap"] {
        let flow = objects
            .iter()
            .find(|v| v["type"] == "flow" && v["url"].as_str().unwrap().contains(path))
            .unwrap();
        assert!(
            flow["kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == "agent"),
            "{path}: {}",
            flow["kinds"]
        );
    }
    let story = objects
        .iter()
        .find(|v| v["type"] == "story" && v["story"] == "connector agent")
        .unwrap_or_else(|| panic!("no connector agent story in {out}"));
    assert!(
        story["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["verdict"] == "pass" && c["message"].as_str().unwrap().contains("agent")),
        "{story}"
    );

    let red = dir.join("with-redacted.har");
    let r = idscope(&["redact", har_s, "-o", red.to_str().unwrap()], None);
    assert!(r.status.success(), "{}", crate::util::stderr(&r));
    let copy = std::fs::read_to_string(&red).unwrap();
    assert!(
        !copy.contains(&key),
        "the relay key is not in the redacted copy"
    );
    assert!(!copy.contains(&signature), "nor the token's signature");
    assert!(copy.contains("SharedAccessKeyName"), "names are kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_client_cert_records_what_the_client_offered() {
    let pki = pki();
    let spec = client_cert_files(&pki);
    let port = mtls_origin(&pki).await;
    let identity = || {
        reqwest::Identity::from_pem(
            format!("{}{}", pki.client_cert_pem, pki.client_key_pem).as_bytes(),
        )
        .unwrap()
    };
    for (asked, args) in [
        (true, vec!["--client-cert", &spec, "--request-client-cert"]),
        (false, vec!["--client-cert", &spec]),
    ] {
        let cfg = idscope::commands::proxy::config(&opts(&args)).unwrap();
        let (flow, status) = one_flow_from(cfg, &pki, port, Some(identity())).await;
        assert_eq!(status, 200);
        let offered = flow.request.extra.get("_clientCertificateOffered");
        if asked {
            let o = offered.unwrap_or_else(|| panic!("{:?}", flow.request.extra));
            assert_eq!(o["subject"], "CN=agent-0001", "{o}");
            assert_eq!(o["issuer"], format!("CN={CLIENT_CA_CN}"), "{o}");
            assert_eq!(o["sha1"], pki.sha1_hex(), "{o}");
        } else {
            assert_eq!(offered, None);
        }
    }
}

/// A WebSocket origin behind the same mutual TLS: answers every text message with the number
/// of client certificates the connection presented.
async fn mtls_ws_origin(pki: &Pki) -> u16 {
    use futures::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    let acceptor = mtls_acceptor(pki);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let peers = tls.get_ref().1.peer_certificates().map_or(0, <[_]>::len);
                let Ok(mut ws) = tokio_tungstenite::accept_async(tls).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if let Ok(text) = m.to_text()
                        && m.is_text()
                    {
                        let reply = format!("{text} with {peers} client certificate(s)");
                        let _ = ws.send(Message::text(reply)).await;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_origin_gets_the_client_certificate_too() {
    use futures::{SinkExt as _, StreamExt as _};
    use rustls::pki_types::pem::PemObject as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_tungstenite::tungstenite::Message;
    let pki = pki();
    let spec = client_cert_files(&pki);
    let port = mtls_ws_origin(&pki).await;
    let mut cfg = idscope::commands::proxy::config(&opts(&["--client-cert", &spec])).unwrap();
    let ca_dir = tempfile::tempdir().unwrap();
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.ca_dir = Some(ca_dir.path().join("ca"));
    cfg.upstream_ca = vec![pki.server_ca.clone()];
    let handle = proxy::start(cfg).await.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(handle.addr()).await.unwrap();
    tcp.write_all(
        format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut head = [0u8; 1024];
    let n = tcp.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(handle.ca_pem().as_bytes()).unwrap())
        .unwrap();
    let tls_cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(tls_cfg))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(format!("wss://localhost:{port}/relay"), tls)
        .await
        .expect("the upgrade through the proxy");
    ws.send(Message::text("hello")).await.unwrap();
    let got = ws.next().await.unwrap().unwrap();
    assert_eq!(got.to_text().unwrap(), "hello with 1 client certificate(s)");
    let _ = ws.close(None).await;
    handle.shutdown().await;
}
