//! The lab both ends of a scripted run agree on: the reference server ([`crate::fixture`]) and
//! the scenario client ([`crate::scenario`]) import what they must share from here, so that the
//! client never reaches into the server's internals and a name or a key derivation is written
//! once.
//!
//! * the virtual hosts, the tenant and its domains, the ADFS issuer;
//! * the test accounts (managed and on-premises), the confidential client, and the Entra Connect
//!   Sync application with its certificate ([`certs`]);
//! * the audiences and grant and credential names both sides put on the wire;
//! * the PRT crypto ([`crypto`]: KDF, HS256, session-key JWE, RSA-OAEP, BCRYPT blobs; [`ec`]:
//!   P-256 keys, ES256 and the ECDH-ES responses of PRT protocol v4);
//! * seeded byte streams for keys ([`stream`]) and small text and time helpers.
//!
//! Values marked [fixture-defined] are this lab's own test data rather than what a real tenant
//! uses. This module must not import `fixture`, `scenario`, `proxy`, `tui` or `commands`: it sits
//! below all of them.

pub mod certs;
pub mod crypto;
pub mod ec;
mod seed;

pub use certs::{
    AppCertificate, Assertion, AssertionAlg, SYNC_APP_CLIENT_ID, SYNC_APP_NAME, SYNC_APP_SP_OID,
    SYNC_ROLE, SYNC_SERVICE_APP,
};
pub use seed::stream;

use std::time::SystemTime;

/// The Entra ID emulation host.
pub const LOGIN_HOST: &str = "login.microsoftonline.com";
/// The provisioning (AAD Connect sync) API host.
pub const SYNC_HOST: &str = "adminwebservice.microsoftonline.com";
/// The host the redirect fault sends sync clients to.
pub const SYNC_HOST_2: &str = "adminwebservice-s2.fixture.test";
/// The ADFS host of the federated domain.
pub const ADFS_HOST: &str = "sts.contoso.test";
/// The SCIM 2.0 provisioning host. [fixture-defined host name]
pub const SCIM_HOST: &str = "scim.fixture.test";
/// The device registration service (DRS) host.
pub const DRS_HOST: &str = "enterpriseregistration.windows.net";
/// The Seamless SSO host (`/{domain}/winauth/…`).
pub const AUTOLOGON_HOST: &str = "autologon.microsoftazuread-sso.com";
/// The Kerberos realm of the on-premises domain: a ticket for `alice@CONTOSO.TEST` names the
/// user `alice@contoso.test`. [fixture-defined]
pub const KERBEROS_REALM: &str = "CONTOSO.TEST";
/// Every virtual host, in the order `FixtureHandle::hosts` lists them.
pub const HOSTS: &[&str] = &[
    LOGIN_HOST,
    SYNC_HOST,
    SYNC_HOST_2,
    ADFS_HOST,
    SCIM_HOST,
    DRS_HOST,
    AUTOLOGON_HOST,
];

/// The tenant id. [fixture-defined]
pub const TENANT_ID: &str = "6f1c0b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f";
/// The tenant's initial (managed) domain. [fixture-defined]
pub const TENANT_DOMAIN: &str = "fixture.onmicrosoft.com";
/// The federated domain, served by the fixture ADFS. [fixture-defined]
pub const FEDERATED_DOMAIN: &str = "contoso.test";
/// The ADFS issuer URI (the domain's `IssuerUri`).
pub const ADFS_ISSUER: &str = "http://sts.contoso.test/adfs/services/trust/";

/// Managed accounts: UPN, password, display name. [fixture-defined test data]
pub const CLOUD_USERS: &[(&str, &str, &str)] = &[
    (
        "sync_fixture_1@fixture.onmicrosoft.com",
        "Sync-Passw0rd!",
        "On-Premises Directory Synchronization Service Account",
    ),
    (
        "admin@fixture.onmicrosoft.com",
        "Admin-Passw0rd!",
        "Fixture Admin",
    ),
];
/// On-premises accounts the fixture ADFS authenticates: UPN, password, SourceAnchor
/// (= ImmutableID, base64 objectGUID). [fixture-defined test data]
pub const ONPREM_USERS: &[(&str, &str, &str)] = &[
    (
        "alice@contoso.test",
        "Alice-Passw0rd!",
        "lHh/rEL830q6/mStDnD4uw==",
    ),
    (
        "bob@contoso.test",
        "Bob-Passw0rd!",
        "DB0uP6i5dkeFVEMyIRAP7Q==",
    ),
];
/// The confidential client the token endpoint knows for `client_credentials`.
/// [fixture-defined test data]
pub const CONFIDENTIAL_CLIENT: (&str, &str) = (
    "9d2f7a4c-3b1e-4f5a-8c6d-7e8f9a0b1c2d",
    "fixture-client-secret",
);

/// AAD Graph, the resource of the sync account's token and the default resource of v1 grants.
pub const AAD_GRAPH: &str = "https://graph.windows.net";
/// The audience (and WS-Federation realm) of the SAML tokens ADFS issues for Entra ID.
pub const SAML_AUDIENCE: &str = "urn:federation:MicrosoftOnline";
/// The audience a bearer token for the SCIM host must carry. [fixture-defined]
pub const SCIM_AUDIENCE: &str = "https://scim.fixture.test";

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The jwt-bearer grant type (PRT requests).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The SAML 1.1 bearer-assertion grant type.
pub const SAML11_BEARER: &str = "urn:ietf:params:oauth:grant-type:saml1_1-bearer";
/// The PRT credential header and cookie name.
pub const PRT_CREDENTIAL: &str = "x-ms-RefreshTokenCredential";

/// Seconds since the Unix epoch (negative before it).
pub fn unix(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A version-4-shaped GUID made of 16 random bytes (the version and variant bits set).
pub fn guid(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Escapes text for XML/HTML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}
