//! The scripted client that plays the seed scenarios of protocols.md §8.2 against the reference
//! server (or anything that answers like it), directly or through an HTTP proxy. Each scenario
//! is a list of named steps; the run stops at the first failed step and names it.
//!
//! This file owns the public API ([`run`], [`Scenario`], [`ScenarioConfig`], [`ScenarioReport`],
//! [`StepError`]) and the HTTP client every scenario shares ([`Client`]: host names resolved to
//! the fixture in direct mode, never through DNS; only the given CAs trusted; no automatic
//! redirects, so each hop is a visible step). The steps live in [`sync`], [`federated`],
//! [`cloud_sync`], [`prt_sso`], [`prt_ec`] and [`agent`].
//! Not responsible for: serving anything (`crate::fixture`), decoding (the decoders crate). The
//! hosts, accounts and crypto it shares with the fixture come from [`crate::testbed`]; it never
//! imports the fixture.

pub mod agent;
pub mod cloud_sync;
pub mod federated;
pub mod prt_ec;
pub mod prt_sso;
pub mod sync;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

/// One scenario of protocols.md §8.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// AAD Connect sync cycle: HRD v1, ROPC, the provisioning SOAP calls in msbin1.
    Sync,
    /// Federated sign-in: passive WS-Fed via the ADFS forms login to login.srf, then the active
    /// WS-Trust variant ending in a saml1_1-bearer grant. Needs the user the sync cycle
    /// provisions.
    Federated,
    /// Cloud sync over SCIM: users, groups, PATCH in Entra's shapes, delta watermark.
    #[serde(rename = "scim")]
    CloudSync,
    /// Hybrid-join SSO: DRS join, PRT, session key, PRT cookie, authorize → code → token, and a
    /// session-key-signed request with a JWE response.
    #[serde(rename = "prt")]
    PrtSso,
    /// PRT protocol v4 with EC (P-256) device keys: DRS join with an ECC transport key, PRT and
    /// its use in ES256-signed requests answered with ECDH-ES JWEs. Played only when named.
    #[serde(rename = "prt-ec")]
    PrtEc,
    /// The sync cycle of Entra Connect Sync with application identity: client credentials with
    /// a certificate assertion instead of ROPC. Played only when named.
    SyncApp,
    /// A hybrid agent registers (bearer token inside the body, CSR, issued certificate) and
    /// bootstraps over mutual TLS. Played only when named; through a proxy it needs the proxy's
    /// `--client-cert` (see [`agent`]).
    Agent,
}

impl Scenario {
    /// Every scenario, in the order `run` plays them when none is named.
    pub const ALL: &[Scenario] = &[
        Scenario::Sync,
        Scenario::Federated,
        Scenario::CloudSync,
        Scenario::PrtSso,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Sync => "sync",
            Scenario::Federated => "federated",
            Scenario::CloudSync => "scim",
            Scenario::PrtSso => "prt",
            Scenario::PrtEc => "prt-ec",
            Scenario::SyncApp => "sync-app",
            Scenario::Agent => "agent",
        }
    }

    /// Every scenario that can be named: [`Scenario::ALL`] and the variants played only when
    /// named.
    pub const NAMED: &[Scenario] = &[
        Scenario::Sync,
        Scenario::Federated,
        Scenario::CloudSync,
        Scenario::PrtSso,
        Scenario::SyncApp,
        Scenario::PrtEc,
        Scenario::Agent,
    ];

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::NAMED.iter().copied().find(|x| x.name() == s)
    }
}

/// How the scenario client reaches the hosts.
#[derive(Debug, Clone)]
pub enum Target {
    /// Connect straight to these addresses (virtual host name → fixture address).
    Direct(BTreeMap<String, SocketAddr>),
    /// Send everything through this HTTP proxy (`http://127.0.0.1:8080`).
    Proxy(String),
}

/// What the scenario client needs to know.
#[derive(Debug, Clone)]
pub struct ScenarioConfig {
    /// Where the hosts are.
    pub target: Target,
    /// PEM certificates to trust (the fixture CA, or the proxy's CA); nothing else is trusted.
    pub ca_pems: Vec<String>,
    /// Print each step to standard output as it completes.
    pub print: bool,
    /// Seed of the device's keys (device key and transport key) in the PRT scenarios; `None`
    /// draws fresh ones. The demo passes its reference server's seed, so the transport key of a
    /// recording can be rebuilt ([`prt_sso::transport_key_pem`], [`prt_ec::transport_key_pem`]).
    pub device_seed: Option<u64>,
}

/// One completed step.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// The scenario.
    pub scenario: Scenario,
    /// The step's name (`ropc`, `provision-objects` …).
    pub step: String,
    /// What was observed.
    pub detail: String,
}

/// Every step of a successful run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScenarioReport {
    /// Steps in order.
    pub steps: Vec<StepRecord>,
}

/// The first failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The step's name.
    pub step: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {} failed at step {}: {}",
            self.scenario, self.step, self.message
        )
    }
}

impl std::error::Error for StepError {}

/// Plays `names` in order (all scenarios when empty) and returns every step, or the first
/// failure.
pub async fn run(names: &[Scenario], cfg: &ScenarioConfig) -> Result<ScenarioReport, StepError> {
    let client = Client::new(cfg).map_err(|e| StepError {
        scenario: "setup",
        step: "http-client".into(),
        message: format!("{e:#}"),
    })?;
    let mut report = ScenarioReport::default();
    let names = if names.is_empty() {
        Scenario::ALL
    } else {
        names
    };
    for s in names {
        let mut steps = Steps {
            scenario: *s,
            report: &mut report,
            print: cfg.print,
        };
        match s {
            Scenario::Sync => sync::run(&client, &mut steps).await?,
            Scenario::Federated => federated::run(&client, &mut steps).await?,
            Scenario::CloudSync => cloud_sync::run(&client, &mut steps).await?,
            Scenario::PrtSso => prt_sso::run(&client, &mut steps).await?,
            Scenario::PrtEc => prt_ec::run(&client, &mut steps).await?,
            Scenario::SyncApp => sync::run_app(&client, &mut steps).await?,
            Scenario::Agent => agent::run(&client, &mut steps).await?,
        }
    }
    Ok(report)
}

/// Step bookkeeping handed to each scenario.
#[derive(Debug)]
pub struct Steps<'r> {
    scenario: Scenario,
    report: &'r mut ScenarioReport,
    print: bool,
}

impl Steps<'_> {
    /// Records a passed step.
    pub fn ok(&mut self, step: &str, detail: impl Into<String>) {
        let detail = detail.into();
        if self.print {
            println!("ok   {:<10} {step:<28} {detail}", self.scenario.name());
        }
        self.report.steps.push(StepRecord {
            scenario: self.scenario,
            step: step.into(),
            detail,
        });
    }

    /// The error for a failed step.
    pub fn fail(&self, step: &str, message: impl Into<String>) -> StepError {
        let message = message.into();
        if self.print {
            println!("FAIL {:<10} {step:<28} {message}", self.scenario.name());
        }
        StepError {
            scenario: self.scenario.name(),
            step: step.into(),
            message,
        }
    }
}

/// The HTTP client of every scenario.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    device_seed: Option<u64>,
    cfg: ScenarioConfig,
}

/// A response read to the end.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body.
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Client {
    /// A client for `cfg`: trusts only `cfg.ca_pems`, resolves the fixture hosts to their
    /// addresses in direct mode, or uses the proxy.
    pub fn new(cfg: &ScenarioConfig) -> anyhow::Result<Self> {
        Ok(Client {
            http: Self::builder(cfg)?.build()?,
            device_seed: cfg.device_seed,
            cfg: cfg.clone(),
        })
    }

    /// Another client like this one that presents a TLS client certificate (`pem`: the
    /// certificate chain and its PKCS#8 key). Through a proxy the proxy holds the origin's TLS
    /// session, so the origin sees the proxy's `--client-cert` instead.
    pub fn with_identity(&self, pem: &[u8]) -> anyhow::Result<reqwest::Client> {
        Ok(Self::builder(&self.cfg)?
            .identity(reqwest::Identity::from_pem(pem)?)
            .build()?)
    }

    fn builder(cfg: &ScenarioConfig) -> anyhow::Result<reqwest::ClientBuilder> {
        let mut b = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent("idscope-scenario/0.1");
        for pem in &cfg.ca_pems {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        match &cfg.target {
            Target::Direct(map) => {
                b = b.no_proxy();
                for (host, addr) in map {
                    b = b.resolve(host, *addr);
                }
            }
            Target::Proxy(url) => b = b.proxy(reqwest::Proxy::all(url)?),
        }
        Ok(b)
    }

    /// The seed of the PRT scenario's device keys ([`ScenarioConfig::device_seed`]).
    pub fn device_seed(&self) -> Option<u64> {
        self.device_seed
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Result<Answer, String> {
        let _ = &self.http;
        let resp = req.send().await.map_err(|e| format!("{e:#}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the body: {e:#}"))?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// GET `url`.
    pub async fn get(&self, url: &str) -> Result<Answer, String> {
        self.send(self.http.get(url)).await
    }

    /// POST a form to `url`.
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<Answer, String> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            self.http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// The underlying reqwest client, for requests with custom headers.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

/// The base64url-decoded JSON payload of a JWT (signature not checked).
pub fn jwt_payload(token: &str) -> Option<serde_json::Value> {
    use base64::Engine as _;
    let p = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
