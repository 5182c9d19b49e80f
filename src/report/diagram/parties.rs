//! Who a story step talks to: the lane of a sequence diagram, decided from the request's host,
//! its path and the decoders that understood the flow ([`party_of`]). Microsoft's service hosts
//! are named in tables here; the reference server's hosts (`crate::testbed`) land in the same
//! lanes as the services they stand for.

use super::StepFlow;
use crate::testbed;

/// A lane of the diagram.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Party {
    /// The client that sends every request (always the first lane).
    Client,
    /// Entra ID's sign-in and token service.
    EntraId,
    /// An ADFS (or other on-premises WS-Federation / WS-Trust) server.
    Adfs,
    /// The AAD Connect provisioning (sync) API.
    SyncApi,
    /// A SCIM 2.0 provisioning endpoint.
    Scim,
    /// The device registration service.
    Drs,
    /// Microsoft Graph or Azure AD Graph.
    Graph,
    /// The Hybrid Identity Service that registers and bootstraps connector agents
    /// (`*.msappproxy.net`).
    AgentService,
    /// The Azure Service Bus relay connector agents listen on (`*.servicebus.windows.net`).
    Relay,
    /// Any other host, by its name.
    Host(String),
}

impl Party {
    /// The lane's name, as its header shows it.
    pub fn name(&self) -> &str {
        match self {
            Party::Client => "client",
            Party::EntraId => "Entra ID",
            Party::Adfs => "ADFS",
            Party::SyncApi => "sync API",
            Party::Scim => "SCIM",
            Party::Drs => "DRS",
            Party::Graph => "Graph",
            Party::AgentService => "agent service",
            Party::Relay => "relay",
            Party::Host(h) => h,
        }
    }
}

/// Entra ID's sign-in hosts (public and sovereign clouds); their subdomains count too
/// (`device.login.microsoftonline.com`).
const ENTRA_HOSTS: &[&str] = &[
    "login.microsoftonline.com",
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
    "autologon.microsoftazuread-sso.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
    "login.chinacloudapi.cn",
];

/// Graph hosts; their subdomains count too.
const GRAPH_HOSTS: &[&str] = &[
    "graph.microsoft.com",
    "graph.windows.net",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
];

/// How the first label of the sync API's hosts begins (`adminwebservice.microsoftonline.com`,
/// `adminwebservice-s2.…`, `provisioningapi.microsoftonline.com`).
const SYNC_PREFIXES: &[&str] = &["adminwebservice", "provisioningapi"];

/// The first label of a device registration host: Entra ID's
/// `enterpriseregistration.windows.net` and ADFS's on-premises `enterpriseregistration.{domain}`.
const DRS_LABEL: &str = "enterpriseregistration";

/// The Hybrid Identity Service's domain: `{tenant}.registration.msappproxy.net`,
/// `{tenant}.bootstrap.msappproxy.net` …
const AGENT_SERVICE_DOMAIN: &str = "msappproxy.net";

/// The Service Bus domain a connector agent's relay namespaces live under.
const RELAY_DOMAIN: &str = "servicebus.windows.net";

/// Domains under which a host is Microsoft's own: a WS-Federation or WS-Trust flow there is
/// Entra ID's side of the federation, not an ADFS server.
const MICROSOFT_DOMAINS: &[&str] = &[
    "microsoftonline.com",
    "microsoftonline.us",
    "microsoftonline.cn",
    "windows.net",
    "microsoft.com",
    "microsoftazuread-sso.com",
    "live.com",
    "chinacloudapi.cn",
];

/// Decoder kinds that mark a flow to a federation server when the host is not Microsoft's.
const FEDERATION_KINDS: &[&str] = &["wsfed", "wstrust", "wia", "fedmetadata"];

/// The lane of a step's flow: the service its host, path and decoders name, else the host.
pub fn party_of(flow: &StepFlow) -> Party {
    let host = bare_host(&flow.host);
    let path = flow
        .path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let has_kind = |kinds: &[&str]| flow.kinds.iter().any(|k| kinds.contains(k));
    let first_label = host.split('.').next().unwrap_or_default();
    if first_label == DRS_LABEL || path.starts_with("/enrollmentserver/") {
        Party::Drs
    } else if under_any(&host, GRAPH_HOSTS) {
        Party::Graph
    } else if under_any(&host, &[AGENT_SERVICE_DOMAIN]) {
        Party::AgentService
    } else if under_any(&host, &[RELAY_DOMAIN]) {
        Party::Relay
    } else if SYNC_PREFIXES.iter().any(|p| first_label.starts_with(p))
        || has_kind(&["provisioning"])
    {
        Party::SyncApi
    } else if under_any(&host, ENTRA_HOSTS) {
        Party::EntraId
    } else if has_kind(&["scim"]) || host == testbed::SCIM_HOST {
        Party::Scim
    } else if path.starts_with("/adfs/")
        || host == testbed::ADFS_HOST
        || (has_kind(FEDERATION_KINDS) && !under_any(&host, MICROSOFT_DOMAINS))
    {
        Party::Adfs
    } else if host.is_empty() {
        Party::Host("unknown".into())
    } else {
        Party::Host(host)
    }
}

/// The host in lowercase without its port and trailing dot (`[::1]` keeps its brackets).
fn bare_host(host: &str) -> String {
    let host = host.trim();
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether `host` is one of `domains` or a subdomain of one.
fn under_any(host: &str, domains: &[&str]) -> bool {
    domains
        .iter()
        .any(|d| host == *d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(host: &str, path: &str, kinds: &[&'static str]) -> StepFlow {
        StepFlow {
            method: "POST".into(),
            host: host.into(),
            path: path.into(),
            status: Some(200),
            error: false,
            kinds: kinds.to_vec(),
        }
    }

    #[test]
    fn microsoft_hosts_land_in_their_service_lanes() {
        for (host, path, kinds, party) in [
            (
                "login.microsoftonline.com",
                "/common/userrealm/a",
                &["realm"][..],
                Party::EntraId,
            ),
            (
                "LOGIN.WINDOWS.NET:443",
                "/x/oauth2/token",
                &["oauth"],
                Party::EntraId,
            ),
            ("login.microsoft.com", "/", &[], Party::EntraId),
            (
                "8a1c9c4e-5f3b-4d6e-9a7b-2c1d0e9f8a7b.registration.msappproxy.net",
                "/register/RegisterConnector",
                &["agent"],
                Party::AgentService,
            ),
            (
                "his-nam1-eus1.servicebus.windows.net",
                "/$servicebus/websocket",
                &["relay"],
                Party::Relay,
            ),
            ("sts.windows.net", "/", &[], Party::EntraId),
            ("device.login.microsoftonline.com", "/", &[], Party::EntraId),
            (
                "autologon.microsoftazuread-sso.com",
                "/contoso.com/winauth/trust/2005/windowstransport",
                &["wstrust"],
                Party::EntraId,
            ),
            (
                "login.microsoftonline.com",
                "/login.srf",
                &["wsfed", "saml"],
                Party::EntraId,
            ),
            (
                "adminwebservice.microsoftonline.com",
                "/provisioningservice.svc",
                &["soap"],
                Party::SyncApi,
            ),
            (
                "provisioningapi.microsoftonline.com",
                "/",
                &[],
                Party::SyncApi,
            ),
            (
                "enterpriseregistration.windows.net",
                "/EnrollmentServer/device/",
                &["json"],
                Party::Drs,
            ),
            (
                "sts.contoso.com",
                "/EnrollmentServer/Contract",
                &[],
                Party::Drs,
            ),
            ("graph.microsoft.com", "/v1.0/me", &["json"], Party::Graph),
            ("graph.windows.net", "/contoso/users", &[], Party::Graph),
        ] {
            assert_eq!(party_of(&flow(host, path, kinds)), party, "{host}{path}");
        }
    }

    #[test]
    fn federation_servers_are_adfs_by_path_or_by_kind_away_from_microsoft() {
        assert_eq!(
            party_of(&flow("fs.corp.example", "/adfs/ls/?wa=wsignin1.0", &[])),
            Party::Adfs
        );
        assert_eq!(
            party_of(&flow(
                "idp.example",
                "/trust/13/usernamemixed",
                &["wstrust"]
            )),
            Party::Adfs
        );
        assert_eq!(
            party_of(&flow("idp.example", "/fed", &["wsfed"])),
            Party::Adfs
        );
        assert_eq!(
            party_of(&flow("scim.example", "/Users", &["scim", "json"])),
            Party::Scim
        );
        assert_eq!(
            party_of(&flow("sync.example", "/svc", &["provisioning"])),
            Party::SyncApi
        );
    }

    #[test]
    fn other_hosts_are_their_own_lane_and_an_empty_host_is_unknown() {
        assert_eq!(
            party_of(&flow("App.Example:8443", "/callback", &["oidc"])),
            Party::Host("app.example".into())
        );
        assert_eq!(
            party_of(&flow("[::1]:8080", "/", &[])),
            Party::Host("[::1]".into())
        );
        assert_eq!(party_of(&flow("", "/", &[])), Party::Host("unknown".into()));
        // A lookalike is not Microsoft's.
        assert_eq!(
            party_of(&flow("evillogin.microsoftonline.com.example", "/", &[])),
            Party::Host("evillogin.microsoftonline.com.example".into())
        );
        assert_eq!(
            party_of(&flow("notlogin.microsoftonline.com", "/", &[])),
            Party::Host("notlogin.microsoftonline.com".into())
        );
    }

    #[test]
    fn every_reference_server_host_lands_in_a_service_lane() {
        let expected = [
            (testbed::LOGIN_HOST, Party::EntraId),
            (testbed::SYNC_HOST, Party::SyncApi),
            (testbed::SYNC_HOST_2, Party::SyncApi),
            (testbed::ADFS_HOST, Party::Adfs),
            (testbed::SCIM_HOST, Party::Scim),
            (testbed::DRS_HOST, Party::Drs),
            (testbed::AUTOLOGON_HOST, Party::EntraId),
        ];
        assert_eq!(
            expected.len(),
            testbed::HOSTS.len(),
            "a testbed host has no lane here"
        );
        let agents = testbed::AGENT_HOSTS
            .iter()
            .map(|h| (*h, Party::AgentService));
        for (host, party) in expected.into_iter().chain(agents) {
            assert_eq!(party_of(&flow(host, "/", &[])), party, "{host}");
        }
    }
}
