//! Tests of the agent decoder. The documents' element names, namespaces and shapes are those
//! AADInternals shows (`MSAppProxy.ps1` Register-ProxyAgent: `RegistrationRequest`,
//! `TrustRenewalRequest`; `MSAppProxy_utils.ps1` Get-BootstrapConfiguration: `BootstrapRequest`;
//! the PTA deep-dive post: `RegistrationResult`, `BootstrapResponse` with its
//! `SignalingListenerEndpoints`). The values are constructed: the tenant, agent and request ids,
//! the keys, the token (an unsigned JWT with the claims such a token has), and the CSR and the
//! certificate, made here by rcgen with the attributes AADInternals' NewCSRforSync writes and
//! the agent id extension (1.3.6.1.4.1.311.82.1, 16 bytes in .NET GUID order). The golden
//! fixtures (`tests/fixtures/agent/`) hold the same shapes with a CSR and a certificate that were
//! generated once (Python `cryptography`, keys discarded) and are kept as they are.

// Test code: a broken vector should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;
use crate::{Decoder as _, Registry, Trust};

pub(super) const TENANT: &str = "ae11aea0-4e67-438a-80a8-d877c5d4a885";
pub(super) const AGENT: &str = "0ea97280-4738-498d-b18a-3790e4886e62";
const NOW: u64 = 1_700_000_000;
const REG_NS: &str =
    "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.Registration";

fn cx(trust: &Trust) -> Context<'_> {
    Context::new(UNIX_EPOCH + Duration::from_secs(NOW), trust)
}

fn b64(bytes: &[u8]) -> String {
    util::b64_std(bytes)
}

/// The agent id's 16 bytes in .NET GUID order.
fn guid_bytes(g: &str) -> Vec<u8> {
    let hex: String = g.chars().filter(|c| *c != '-').collect();
    let b: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut out = vec![b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]];
    out.extend_from_slice(&b[8..]);
    out
}

/// A CSR as the sync agent's: empty subject, an RSA key, osVersion, requestClientInfo and an
/// extension request for digitalSignature/keyEncipherment and clientAuth.
fn csr_b64() -> String {
    use rcgen::{Attribute, CertificateParams, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
    let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    // SET { IA5String "6.2.9200.2" }
    let os = [&[0x16, 10][..], b"6.2.9200.2"].concat();
    let os_attr = [&[0x31, os.len() as u8][..], &os].concat();
    // SET { SEQUENCE { INTEGER 5, UTF8String machine, UTF8String user, UTF8String program } }
    let mut info = vec![0x02, 0x01, 0x05];
    for s in [
        "DC.company.com",
        "COMPANY\\admin",
        "AADConnectProvisioningAgentWizard.exe",
    ] {
        info.extend([0x0c, s.len() as u8]);
        info.extend(s.as_bytes());
    }
    let seq = [&[0x30, info.len() as u8][..], &info].concat();
    let info_attr = [&[0x31, seq.len() as u8][..], &seq].concat();
    let attrs = vec![
        Attribute {
            oid: &[1, 3, 6, 1, 4, 1, 311, 13, 2, 3],
            values: os_attr,
        },
        Attribute {
            oid: &[1, 3, 6, 1, 4, 1, 311, 21, 20],
            values: info_attr,
        },
    ];
    let csr = p.serialize_request_with_attributes(&key, attrs).unwrap();
    b64(csr.der())
}

/// A certificate as the registration CA issues: subject CN=<tenant>, the agent id extension,
/// valid from a day before NOW for `days` days after it.
pub(super) fn cert_b64(days: i64, with_agent_id: bool) -> String {
    use rcgen::{CertificateParams, CustomExtension, DnType, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(
        DnType::CommonName,
        "hisconnectorregistrationca.msappproxy.net",
    );
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, TENANT);
    let now = time::OffsetDateTime::from_unix_timestamp(NOW as i64).unwrap();
    p.not_before = now - time::Duration::days(1);
    p.not_after = now + time::Duration::days(days);
    if with_agent_id {
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 311, 82, 1],
            guid_bytes(AGENT),
        )];
    }
    b64(p.signed_by(&key, &issuer).unwrap().der())
}

/// An unsigned JWT with the claims of a token for the registration resource.
fn token() -> String {
    let enc = |v: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
    };
    let claims = format!(
        r#"{{"aud":"https://proxy.cloudwebappproxy.net/registerapp","tid":"{TENANT}","upn":"admin@company.com","exp":{}}}"#,
        NOW + 3600
    );
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(r#"{"alg":"RS256","typ":"JWT"}"#),
        enc(&claims)
    )
}

pub(super) fn registration_request(csr: &str, token: &str) -> String {
    format!(
        r#"<RegistrationRequest xmlns="{REG_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <Base64Csr>{csr}
</Base64Csr>
  <AuthenticationToken>{token}</AuthenticationToken>
  <Base64Pkcs10Csr i:nil="true"/>
  <Feature>ApplicationProxy</Feature>
  <FeatureString>PassthroughAuthentication</FeatureString>
  <RegistrationRequestSettings>
    <SystemSettingsInformation i:type="a:SystemSettings" xmlns="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.RegistrationCommons" xmlns:a="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.Utilities.SystemSettings">
      <a:MachineName>DC.company.com</a:MachineName>
      <a:OsLanguage>1033</a:OsLanguage>
      <a:OsLocale>0409</a:OsLocale>
      <a:OsSku>8</a:OsSku>
      <a:OsVersion>10.0.17763</a:OsVersion>
    </SystemSettingsInformation>
    <PSModuleVersion>1.5.643.0</PSModuleVersion>
  </RegistrationRequestSettings>
  <TenantId>{TENANT}</TenantId>
  <UserAgent>PassthroughAuthenticationConnector/1.5.643.0</UserAgent>
</RegistrationRequest>"#
    )
}

pub(super) fn registration_result(cert: &str, ok: bool, error: &str) -> String {
    format!(
        r#"<RegistrationResult xmlns="{REG_NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Certificate>{cert}</Certificate><ErrorMessage>{error}</ErrorMessage><IsSuccessful>{ok}</IsSuccessful></RegistrationResult>"#
    )
}

const REGISTER_URL: &str = "https://ae11aea0-4e67-438a-80a8-d877c5d4a885.registration.msappproxy.net/register/RegisterConnector";
const BOOTSTRAP_URL: &str =
    "https://ae11aea0-4e67-438a-80a8-d877c5d4a885.bootstrap.msappproxy.net/ConnectorBootstrap";

fn agent(msg: &Message<'_>) -> Decoded {
    let trust = Trust::default();
    let out = Registry::builtin().decode_all(msg, &cx(&trust));
    let first = out.first().expect("a decoder applies");
    assert_eq!(first.decoder, "agent", "{out:#?}");
    first.result.clone().expect("decodes")
}

fn find<'a>(n: &'a Node, label: &str) -> &'a Node {
    let mut found = None;
    n.walk(&mut |_, c| {
        if found.is_none() && c.label == label {
            found = Some(c);
        }
    });
    found.unwrap_or_else(|| panic!("no {label} in {n:#?}"))
}

#[test]
fn a_registration_request_shows_the_csr_its_attributes_and_the_token_as_a_secret_with_claims() {
    let body = registration_request(&csr_b64(), &token());
    let d = agent(&Message::request(
        "POST",
        REGISTER_URL,
        vec![],
        body.as_bytes(),
    ));
    assert!(
        d.summary
            .starts_with("agent registration (PassthroughAuthentication) from DC.company.com"),
        "{}",
        d.summary
    );
    assert!(d.summary.contains("CSR RSA 2048-bit"), "{}", d.summary);
    let tok = find(&d.root, "AuthenticationToken");
    assert_eq!(tok.kind, Kind::Secret);
    assert_eq!(find(tok, "tid").value.as_deref(), Some(TENANT));
    let csr = find(&d.root, "Base64Csr");
    assert_eq!(find(csr, "subject").value.as_deref(), Some("(empty)"));
    assert_eq!(
        find(csr, "osVersion (1.3.6.1.4.1.311.13.2.3)")
            .value
            .as_deref(),
        Some("6.2.9200.2")
    );
    let info = find(csr, "requestClientInfo (1.3.6.1.4.1.311.21.20)");
    assert!(info.value.as_deref().unwrap().contains("DC.company.com"));
    assert_eq!(
        find(csr, "extKeyUsage (2.5.29.37)").value.as_deref(),
        Some("clientAuth")
    );
    assert_eq!(
        find(&d.root, "Base64Pkcs10Csr").value.as_deref(),
        Some("(nil)")
    );
    assert!(
        d.findings
            .iter()
            .all(|f| f.severity != crate::Severity::Error),
        "{:?}",
        d.findings
    );
}

#[test]
fn a_registration_for_another_tenant_than_the_host_and_without_a_token_is_flagged() {
    let body = registration_request(&csr_b64(), "")
        .replace(TENANT, "11111111-2222-3333-4444-555555555555");
    let d = agent(&Message::request(
        "POST",
        REGISTER_URL,
        vec![],
        body.as_bytes(),
    ));
    assert!(d.has_finding("no AuthenticationToken"), "{:?}", d.findings);
    assert!(d.has_finding(
        "TenantId 11111111-2222-3333-4444-555555555555 is not the tenant the URL's host names"
    ));
}

#[test]
fn a_registration_result_names_the_agent_id_the_tenant_and_the_expiry() {
    let body = registration_result(&cert_b64(180, true), true, "");
    let d = agent(&Message::response(
        "POST",
        REGISTER_URL,
        200,
        vec![],
        body.as_bytes(),
    ));
    assert_eq!(find(&d.root, "agent id").value.as_deref(), Some(AGENT));
    assert_eq!(find(&d.root, "tenant").value.as_deref(), Some(TENANT));
    assert!(d.summary.starts_with(&format!("agent registration: certificate for agent {AGENT}, tenant ae11aea0-…, expires 2024-05-12T22:13:20Z (in 180d)")), "{}", d.summary);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn a_certificate_near_expiry_or_without_agent_id_gets_a_warning() {
    let body = registration_result(&cert_b64(10, false), true, "");
    let d = agent(&Message::response(
        "POST",
        REGISTER_URL,
        200,
        vec![],
        body.as_bytes(),
    ));
    assert!(
        d.has_finding("expires 2023-11-24T22:13:20Z (in 10d): the agent should renew"),
        "{:?}",
        d.findings
    );
    assert!(d.has_finding("no agent id extension"), "{:?}", d.findings);
    assert!(
        d.findings
            .iter()
            .all(|f| f.severity == crate::Severity::Warning)
    );
}

#[test]
fn a_refused_registration_is_an_error_with_the_service_message() {
    let body = registration_result(
        "",
        false,
        "The user is not authorized to register connectors",
    );
    let d = agent(&Message::response(
        "POST",
        REGISTER_URL,
        200,
        vec![],
        body.replace(
            "<Certificate></Certificate>",
            "<Certificate i:nil=\"true\"/>",
        )
        .as_bytes(),
    ));
    assert!(
        d.summary.contains("failed: The user is not authorized"),
        "{}",
        d.summary
    );
    assert!(d.has_finding("refused (IsSuccessful is not true)"));
}

#[test]
fn trust_renewal_request_and_result_are_explained_like_registration() {
    let csr = csr_b64();
    let req = format!(
        r#"<TrustRenewalRequest xmlns="{REG_NS}.TrustRenewal" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Base64Csr xmlns="{REG_NS}">{csr}</Base64Csr><TrustRenewalRequestSettings><SystemSettingsInformation i:type="a:SystemSettings" xmlns="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.RegistrationCommons" xmlns:a="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.Utilities.SystemSettings"><a:MachineName>DC.company.com</a:MachineName></SystemSettingsInformation><ConnectorVersion>1.5.2482.0</ConnectorVersion></TrustRenewalRequestSettings></TrustRenewalRequest>"#
    );
    let url = "https://his-eur1-weur1.renewtrust.msappproxy.net/renewTrust/RenewTrustCertificate";
    let d = agent(&Message::request("POST", url, vec![], req.as_bytes()));
    assert!(
        d.summary
            .starts_with("agent trust renewal request from DC.company.com, CSR RSA 2048-bit"),
        "{}",
        d.summary
    );
    assert!(!d.has_finding("AuthenticationToken"));
    let res = registration_result(&cert_b64(180, true), true, "")
        .replace("RegistrationResult", "TrustRenewalResult");
    let d = agent(&Message::response("POST", url, 200, vec![], res.as_bytes()));
    assert!(
        d.summary.starts_with(&format!(
            "agent trust renewal: certificate for agent {AGENT}"
        )),
        "{}",
        d.summary
    );
}

pub(super) fn bootstrap_request(connector: &str) -> String {
    format!(
        r#"<BootstrapRequest xmlns="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.SignalerDataModel" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><AgentSdkVersion>1.5.1542.0</AgentSdkVersion><AgentVersion>1.5.1542.0</AgentVersion><BootstrapDataModelVersion>1.5.1542.0</BootstrapDataModelVersion><ConnectorId>{connector}</ConnectorId><ConnectorVersion i:nil="true"/><ConsecutiveFailures>2</ConsecutiveFailures><InitialBootstrap>true</InitialBootstrap><MachineName>DC.company.com</MachineName><ProxyDataModelVersion>1.5.1542.0</ProxyDataModelVersion><RequestId>0c891cd7-afae-49bd-8f40-2f52263c2c0a</RequestId><SubscriptionId>{TENANT}</SubscriptionId><UseServiceBusTcpConnectivityMode>false</UseServiceBusTcpConnectivityMode></BootstrapRequest>"#
    )
}

pub(super) const SAK: &str = "k5Zq3d0cJtO8mYg1Yt0a2F5sKJw7hC4pX9vLrQeNnUs=";

pub(super) fn bootstrap_response(available: bool, state: &str) -> String {
    format!(
        r#"<BootstrapResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.SignalerDataModel" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
<BootstrapEndpointOverride i:nil="true"/>
<CheckForTrustRenewPeriodInMinutes>360</CheckForTrustRenewPeriodInMinutes>
<ConfigurationEndpointFormat>https://{{0}}:{{1}}/subscriber/admin</ConfigurationEndpointFormat>
<ConnectivitySettings>{{"SignalingSettings":{{"BindingType":"NetTcpRelayBinding","ReliableSessionEnabled":false}},"DnsCacheSettings":{{"DnsCacheEnabled":true}}}}</ConnectivitySettings>
<ConnectorState>{state}</ConnectorState>
<MinutesInTrustLifetimeBeforeRenew>43200</MinutesInTrustLifetimeBeforeRenew>
<PeriodicBootstrapIntervalMilliseconds>600000</PeriodicBootstrapIntervalMilliseconds>
<ServiceMessage/>
<SignalingListenerEndpoints xmlns:a="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.BootstrapDataModel">
<a:SignalingListenerEndpointSettings i:type="a:ServiceBusSignalingListenerEndpointSettings">
<a:IsAvailable>true</a:IsAvailable>
<a:Name>his-eur1-weur1/{TENANT}_b9ebb6bb-e7e8-40e6-9bf9-fc258b2c77b8</a:Name>
<a:Domain>servicebus.windows.net</a:Domain>
<a:Namespace>his-eur1-weur1</a:Namespace>
<a:ReliableSessionEnabled>false</a:ReliableSessionEnabled>
<a:Scheme>sb</a:Scheme>
<a:ServicePath>{TENANT}_b9ebb6bb-e7e8-40e6-9bf9-fc258b2c77b8</a:ServicePath>
<a:SharedAccessKey>{SAK}</a:SharedAccessKey>
<a:SharedAccessKeyName>Connector</a:SharedAccessKeyName>
</a:SignalingListenerEndpointSettings>
<a:SignalingListenerEndpointSettings i:type="a:ServiceBusSignalingListenerEndpointSettings">
<a:IsAvailable>{available}</a:IsAvailable>
<a:Name>his-eur1-neur1/{TENANT}_b9ebb6bb-e7e8-40e6-9bf9-fc258b2c77b8</a:Name>
<a:Domain>servicebus.windows.net</a:Domain>
<a:Namespace>his-eur1-neur1</a:Namespace>
<a:Scheme>sb</a:Scheme>
<a:ServicePath>{TENANT}_b9ebb6bb-e7e8-40e6-9bf9-fc258b2c77b8</a:ServicePath>
<a:SharedAccessKey>jqX2b8PzR1mV4cT7wYk0nL3sD6fH9gJ5aE2uI8oQ1rM=</a:SharedAccessKey>
<a:SharedAccessKeyName>Connector</a:SharedAccessKeyName>
</a:SignalingListenerEndpointSettings>
</SignalingListenerEndpoints>
<TrustRenewEndpoint>https://his-eur1-weur1.renewtrust.msappproxy.net/renewTrust</TrustRenewEndpoint>
</BootstrapResponse>"#
    )
}

#[test]
fn a_bootstrap_request_names_the_connector_and_flags_a_bad_id_and_previous_failures() {
    let d = agent(&Message::request(
        "POST",
        BOOTSTRAP_URL,
        vec![],
        bootstrap_request(AGENT).as_bytes(),
    ));
    assert_eq!(
        d.summary,
        format!("agent bootstrap: connector {AGENT} on DC.company.com, agent 1.5.1542.0")
    );
    assert!(d.has_finding("previous 2 bootstrap(s) failed"));
    assert!(!d.has_finding("not a GUID"));
    let d = agent(&Message::request(
        "POST",
        BOOTSTRAP_URL,
        vec![],
        bootstrap_request("agent-1").as_bytes(),
    ));
    assert!(
        d.has_finding("ConnectorId \"agent-1\" is not a GUID"),
        "{:?}",
        d.findings
    );
}

#[test]
fn a_bootstrap_response_lists_the_relay_endpoints_with_their_keys_as_secrets() {
    let body = bootstrap_response(true, "Ok");
    let d = agent(&Message::response(
        "POST",
        BOOTSTRAP_URL,
        200,
        vec![],
        body.as_bytes(),
    ));
    assert_eq!(
        d.summary,
        "agent bootstrap: 2 relay endpoint(s) (his-eur1-weur1, his-eur1-neur1), ConnectorState Ok"
    );
    let ep = find(&d.root, "SignalingListenerEndpointSettings");
    assert_eq!(ep.value.as_deref(), Some(format!("his-eur1-weur1.servicebus.windows.net/{TENANT}_b9ebb6bb-e7e8-40e6-9bf9-fc258b2c77b8").as_str()));
    let key = find(ep, "SharedAccessKey");
    assert_eq!(key.kind, Kind::Secret);
    assert_eq!(find(ep, "SharedAccessKeyName").kind, Kind::Field);
    assert_eq!(
        find(&d.root, "BindingType").value.as_deref(),
        Some("NetTcpRelayBinding")
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn an_unavailable_endpoint_and_a_connector_state_other_than_ok_are_findings() {
    let body = bootstrap_response(false, "UpdateRequired");
    let d = agent(&Message::response(
        "POST",
        BOOTSTRAP_URL,
        200,
        vec![],
        body.as_bytes(),
    ));
    assert!(
        d.has_finding("relay endpoint his-eur1-neur1.servicebus.windows.net is not available"),
        "{:?}",
        d.findings
    );
    assert!(d.has_finding("ConnectorState is UpdateRequired"));
    let empty = r#"<BootstrapResponse xmlns="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.SignalerDataModel"><ConnectorState>Ok</ConnectorState></BootstrapResponse>"#;
    let d = agent(&Message::response(
        "POST",
        BOOTSTRAP_URL,
        200,
        vec![],
        empty.as_bytes(),
    ));
    assert!(d.has_finding("no SignalingListenerEndpoints"));
}

#[test]
fn documents_are_recognised_without_their_url_and_other_xml_is_not_claimed() {
    let body = bootstrap_response(true, "Ok");
    assert_eq!(agent(&Message::blob(body.as_bytes())).decoder, "agent");
    assert!(
        priority(&Message::blob(
            b"<RegistrationRequest xmlns=\"urn:other\"/>"
        )) == 0.0
    );
    assert!(priority(&Message::blob(b"<BootstrapRequestX xmlns=\"http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common\"/>")) == 0.0);
    let html = Message::response(
        "POST",
        BOOTSTRAP_URL,
        503,
        vec![],
        b"<html><body>busy</body></html>",
    );
    assert!(priority(&html) == 0.0);
    let trust = Trust::default();
    let other = format!("<ConnectorConfig xmlns=\"{DATA_CONTRACT}Common\"/>");
    let other = Message::response("POST", BOOTSTRAP_URL, 200, vec![], other.as_bytes());
    assert!(priority(&other) > 0.0);
    let err = Agent.decode(&other, &cx(&trust)).unwrap_err().to_string();
    assert!(err.contains("the root element is {http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common}ConnectorConfig"), "{err}");
}

#[test]
fn the_secrets_policy_names_the_agent_credentials() {
    assert!(secrets::is_secret_element("SharedAccessKey"));
    assert!(secrets::is_secret_element("AuthenticationToken"));
    assert!(!secrets::is_secret_element("SharedAccessKeyName"));
    assert!(!secrets::is_secret_element("Base64Csr"));
}

fn vectors() -> Vec<String> {
    vec![
        registration_request(&csr_b64(), &token()),
        registration_result(&cert_b64(180, true), true, ""),
        bootstrap_request(AGENT),
        bootstrap_response(true, "Ok"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn mutated_documents_never_panic(which in 0usize..4, cuts in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), truncate in any::<usize>()) {
        thread_local! { static V: Vec<String> = vectors(); }
        let mut bytes = V.with(|v| v[which].clone().into_bytes());
        for (at, b) in cuts {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        bytes.truncate(truncate % (bytes.len() + 1));
        let trust = Trust::default();
        let msg = Message::response("POST", BOOTSTRAP_URL, 200, vec![], &bytes);
        let _ = Registry::builtin().decode_all(&msg, &cx(&trust));
    }
}
