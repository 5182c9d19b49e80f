//! The hybrid agent (the connector of the provisioning and pass-through authentication agents):
//! a token for the registration service (ROPC of the tenant admin with the agent installers'
//! client id, audience [`REGISTRATION_AUDIENCE`]) → `RegisterConnector` with a CSR for the
//! agent's key and the token inside the body → the issued certificate (agent id in
//! [`AGENT_ID_OID`]) → `ConnectorBootstrap` over mutual TLS with that certificate → the relay
//! endpoints.
//!
//! The agent's key is the fixed testbed key ([`crate::testbed::agent_key_pkcs8`]), and the
//! fixture derives the agent id from the key, so every registration of this agent yields a
//! certificate for the same agent. That is how the scenario runs through a proxy: the proxy,
//! not the scenario client, holds the TLS session with the bootstrap host, so it must present
//! the certificate (`idscope record --client-cert {bootstrap host}=CERT,KEY`). Register once
//! directly ([`register`], which returns the certificate and key as PEM to write to files),
//! start the proxy with those files, then play the scenario through it: its own registration
//! names the same agent, so the bootstrap's `ConnectorId` matches the certificate the proxy
//! presents. Played directly, the scenario client presents the certificate itself.
//!
//! Not responsible for: HTTP plumbing (mod.rs), the server side (the fixture's `agent`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{Answer, Client, StepError, Steps};
use crate::testbed::{
    AGENT_CLIENT_ID, AGENT_ID_OID, BOOTSTRAP_HOST, CLOUD_USERS, LOGIN_HOST, REGISTRATION_AUDIENCE,
    REGISTRATION_HOST, TENANT_ID, certs::pem, dotnet_guid_text, xml_escape,
    xml_text as xml_element,
};

/// The machine name the agent registers as. [fixture-defined]
pub const MACHINE_NAME: &str = "agent1.contoso.test";

/// What a registration gave the agent.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The issued certificate, PEM.
    pub cert_pem: String,
    /// The agent's private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The agent id the certificate carries.
    pub agent_id: String,
}

async fn token(client: &Client) -> Result<String, String> {
    let (user, password, _) = CLOUD_USERS
        .get(1)
        .ok_or_else(|| "the testbed has no admin account".to_string())?;
    let ans = client
        .post_form(
            &format!("https://{LOGIN_HOST}/{TENANT_ID}/oauth2/token"),
            &[
                ("grant_type", "password"),
                ("client_id", AGENT_CLIENT_ID),
                ("resource", REGISTRATION_AUDIENCE),
                ("username", user),
                ("password", password),
            ],
        )
        .await?;
    if ans.status != 200 {
        return Err(format!("HTTP {}: {}", ans.status, ans.text()));
    }
    ans.json()
        .and_then(|v| {
            v.get("access_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| format!("no access_token: {}", ans.text()))
}

fn registration_request(token: &str, csr_der: &[u8]) -> String {
    const NS: &str =
        "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.Registration";
    const COMMONS: &str = "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.RegistrationCommons";
    const SETTINGS: &str = "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.Utilities.SystemSettings";
    let system = format!(
        "<a:MachineName>{MACHINE_NAME}</a:MachineName><a:OsLanguage>1033</a:OsLanguage>\
         <a:OsLocale>0409</a:OsLocale><a:OsSku>8</a:OsSku><a:OsVersion>10.0.17763</a:OsVersion>"
    );
    format!(
        "<RegistrationRequest xmlns=\"{NS}\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <Base64Csr>{csr}</Base64Csr><AuthenticationToken>{token}</AuthenticationToken>\
         <Base64Pkcs10Csr i:nil=\"true\"/><Feature>ApplicationProxy</Feature>\
         <FeatureString>SyncFabric</FeatureString><RegistrationRequestSettings>\
         <SystemSettingsInformation i:type=\"a:SystemSettings\" xmlns=\"{COMMONS}\" xmlns:a=\"{SETTINGS}\">\
         {system}</SystemSettingsInformation><PSModuleVersion>1.5.643.0</PSModuleVersion>\
         <SystemSettings i:type=\"a:SystemSettings\" xmlns:a=\"{SETTINGS}\">{system}</SystemSettings>\
         </RegistrationRequestSettings><TenantId>{TENANT_ID}</TenantId>\
         <UserAgent>SyncFabricConnector/1.1.96.0</UserAgent></RegistrationRequest>",
        csr = STANDARD.encode(csr_der),
        token = xml_escape(token),
    )
}

fn bootstrap_request(agent_id: &str) -> String {
    const NS: &str = "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.SignalerDataModel";
    const MODEL: &str = "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.BootstrapDataModel";
    format!(
        "<BootstrapRequest xmlns=\"{NS}\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <AgentSdkVersion>1.5.1318.0</AgentSdkVersion><AgentVersion>1.1.96.0</AgentVersion>\
         <BootstrapDataModelVersion>1.5.1318.0</BootstrapDataModelVersion>\
         <ConnectorId>{agent_id}</ConnectorId><ConnectorVersion>1.5.1318.0</ConnectorVersion>\
         <ConsecutiveFailures>0</ConsecutiveFailures>\
         <CurrentProxyPortResponseMode>Primary</CurrentProxyPortResponseMode>\
         <FailedRequestMetrics xmlns:a=\"{MODEL}\"/><InitialBootstrap>true</InitialBootstrap>\
         <IsProxyPortResponseFallbackDisabledFromRegistry>true</IsProxyPortResponseFallbackDisabledFromRegistry>\
         <LatestDotNetVersionInstalled>461814</LatestDotNetVersionInstalled>\
         <MachineName>{MACHINE_NAME}</MachineName>\
         <OperatingSystemLanguage>1033</OperatingSystemLanguage>\
         <OperatingSystemLocale>0409</OperatingSystemLocale>\
         <OperatingSystemSKU>8</OperatingSystemSKU>\
         <OperatingSystemVersion>10.0.17763</OperatingSystemVersion>\
         <PerformanceMetrics xmlns:a=\"{MODEL}\"/>\
         <ProxyDataModelVersion>1.5.1318.0</ProxyDataModelVersion>\
         <RequestId>{request}</RequestId><SubscriptionId>{TENANT_ID}</SubscriptionId>\
         <SuccessRequestMetrics xmlns:a=\"{MODEL}\"/><TriggerErrors/>\
         <UpdaterStatus>Running</UpdaterStatus>\
         <UseServiceBusTcpConnectivityMode>false</UseServiceBusTcpConnectivityMode>\
         <UseSpnegoAuthentication>false</UseSpnegoAuthentication></BootstrapRequest>",
        request = crate::testbed::guid(rand_bytes()),
    )
}

fn rand_bytes() -> [u8; 16] {
    use rand_chacha::rand_core::RngCore as _;
    let mut b = [0u8; 16];
    crate::testbed::stream(None, "agent-request").fill_bytes(&mut b);
    b
}

/// The agent id in a DER certificate's [`AGENT_ID_OID`] extension.
fn agent_id_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let oid = x509_parser::oid_registry::Oid::from(AGENT_ID_OID).ok()?;
    let ext = cert.extensions().iter().find(|e| e.oid == oid)?;
    dotnet_guid_text(ext.value)
}

async fn do_register(client: &Client, token: &str) -> Result<Registration, String> {
    let pkcs8 = crate::testbed::agent_key_pkcs8().map_err(|e| format!("{e:#}"))?;
    let key = rcgen::KeyPair::try_from(pkcs8.as_slice()).map_err(|e| e.to_string())?;
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .and_then(|p| p.serialize_request(&key))
        .map_err(|e| format!("building the CSR: {e}"))?;
    let ans = client
        .send(
            client
                .http()
                .post(format!(
                    "https://{REGISTRATION_HOST}/register/RegisterConnector"
                ))
                .header("content-type", "application/xml; charset=utf-8")
                .body(registration_request(token, csr.der())),
        )
        .await?;
    let body = ans.text();
    if ans.status != 200 || xml_element(&body, "IsSuccessful").as_deref() != Some("true") {
        return Err(format!(
            "HTTP {}: {}",
            ans.status,
            xml_element(&body, "ErrorMessage").unwrap_or(body)
        ));
    }
    let der = xml_element(&body, "Certificate")
        .and_then(|c| STANDARD.decode(c).ok())
        .ok_or_else(|| "the RegistrationResult has no Certificate".to_string())?;
    let agent_id =
        agent_id_of(&der).ok_or_else(|| "the certificate carries no agent id".to_string())?;
    Ok(Registration {
        cert_pem: pem("CERTIFICATE", &der),
        key_pem: pem("PRIVATE KEY", &pkcs8),
        agent_id,
    })
}

/// Registers the agent (token, then `RegisterConnector`) and returns its certificate and key:
/// what the proxy's `--client-cert` needs before the scenario runs through it.
pub async fn register(cfg: &super::ScenarioConfig) -> Result<Registration, String> {
    let client = Client::new(cfg).map_err(|e| format!("{e:#}"))?;
    let token = token(&client).await?;
    do_register(&client, &token).await
}

fn check_bootstrap(ans: &Answer) -> Result<String, String> {
    let body = ans.text();
    if ans.status != 200 {
        return Err(format!(
            "HTTP {}: {}",
            ans.status,
            xml_element(&body, "Text").unwrap_or(body)
        ));
    }
    let ns = xml_element(&body, "Namespace").ok_or("no SignalingListenerEndpoints")?;
    let path = xml_element(&body, "ServicePath").ok_or("no ServicePath")?;
    if xml_element(&body, "SharedAccessKey").is_none_or(|k| k.is_empty()) {
        return Err("no SharedAccessKey".into());
    }
    Ok(format!("relay {ns}.servicebus.windows.net/{path}"))
}

/// Plays the agent scenario.
pub async fn run(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    let token = token(client)
        .await
        .map_err(|e| steps.fail("registration-token", e))?;
    steps.ok("registration-token", "ROPC for the registration service");
    let reg = do_register(client, &token)
        .await
        .map_err(|e| steps.fail("register-connector", e))?;
    steps.ok("register-connector", format!("agent {}", reg.agent_id));
    let with_cert = client
        .with_identity(format!("{}{}", reg.cert_pem, reg.key_pem).as_bytes())
        .map_err(|e| steps.fail("connector-bootstrap", format!("{e:#}")))?;
    let ans = client
        .send(
            with_cert
                .post(format!("https://{BOOTSTRAP_HOST}/ConnectorBootstrap"))
                .header("content-type", "application/xml; charset=utf-8")
                .body(bootstrap_request(&reg.agent_id)),
        )
        .await
        .and_then(|a| check_bootstrap(&a))
        .map_err(|e| steps.fail("connector-bootstrap", e))?;
    steps.ok("connector-bootstrap", ans);
    Ok(())
}
