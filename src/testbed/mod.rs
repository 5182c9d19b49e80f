//! The lab both ends of a scripted run agree on: the reference server ([`crate::fixture`]) and
//! the scenario client ([`crate::scenario`]) import what they must share from here, so that the
//! client never reaches into the server's internals and a name or a key derivation is written
//! once.
//!
//! * the virtual hosts, the tenant and its domains, the ADFS issuer;
//! * the hybrid agent's hosts, registration audience, fixed key and agent-id encoding;
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

/// The hybrid agents' registration host (`{tenant}.registration.msappproxy.net`), where an
/// agent registers with a bearer token inside the body and gets its certificate.
pub const REGISTRATION_HOST: &str =
    "6f1c0b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f.registration.msappproxy.net";
/// The hybrid agents' bootstrap host (`{tenant}.bootstrap.msappproxy.net`), which requires the
/// agent certificate over mutual TLS.
pub const BOOTSTRAP_HOST: &str = "6f1c0b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f.bootstrap.msappproxy.net";
/// The hybrid agent hosts, apart from [`HOSTS`] (the services a sign-in or sync talks to); the
/// fixture serves both lists, and the report's sequence diagram puts these in its agent service
/// lane by their domain.
pub const AGENT_HOSTS: &[&str] = &[REGISTRATION_HOST, BOOTSTRAP_HOST];
/// The audience of the token an agent registers with (AADInternals `Register-ProxyAgent`).
pub const REGISTRATION_AUDIENCE: &str = "https://proxy.cloudwebappproxy.net/registerapp";
/// The public client the agent installers get that token with.
pub const AGENT_CLIENT_ID: &str = "cb1056e2-e479-49de-ae31-7812af012ed8";
/// The certificate extension holding the agent (connector) id: the 16 bytes of a .NET `Guid`
/// (its first three fields little-endian), read by AADInternals as `[guid]$extension.RawData`.
pub const AGENT_ID_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 82, 1];
/// The seed of the scenario agent's fixed P-256 key, so that registering it again yields the
/// same agent id and a certificate from an earlier registration serves the proxy's
/// `--client-cert`. [fixture-defined]
pub const AGENT_KEY_SEED: u64 = 0x0a6e_0001;

/// The scenario agent's private key (PKCS#8 DER, P-256), the same on every call.
pub fn agent_key_pkcs8() -> anyhow::Result<Vec<u8>> {
    ec::p256_pkcs8(&mut stream(Some(AGENT_KEY_SEED), "agent-key"))
}

/// The agent id the fixture gives a key: a GUID made of the SHA-256 of its
/// SubjectPublicKeyInfo, so that one key is one agent. [fixture-defined]
pub fn agent_id_of_spki(spki: &[u8]) -> String {
    use sha2::Digest as _;
    let h = sha2::Sha256::digest(spki);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    guid(b)
}

/// The 16 bytes of a GUID as .NET's `Guid.ToByteArray` lays them out (the first three fields
/// little-endian); `None` when `s` is not a GUID.
pub fn dotnet_guid_bytes(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || s.len() != 36 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, b) in raw.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let mut out = raw;
    out[..4].copy_from_slice(&[raw[3], raw[2], raw[1], raw[0]]);
    out[4..6].copy_from_slice(&[raw[5], raw[4]]);
    out[6..8].copy_from_slice(&[raw[7], raw[6]]);
    Some(out)
}

/// The GUID text of .NET `Guid` bytes (the inverse of [`dotnet_guid_bytes`]).
pub fn dotnet_guid_text(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    let h = |s: &[u8]| s.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Some(format!(
        "{}-{}-{}-{}-{}",
        h(&[b[3], b[2], b[1], b[0]]),
        h(&[b[5], b[4]]),
        h(&[b[7], b[6]]),
        h(&b[8..10]),
        h(&b[10..16])
    ))
}

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

/// The text of the first element named `local` (any namespace prefix), unescaped and trimmed;
/// `None` when there is none or the XML breaks before its end.
pub fn xml_text(xml: &str, local: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut out = String::new();
    loop {
        match r.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == local => inside = true,
            Event::Text(t) if inside => out.push_str(&t.xml10_content()),
            Event::GeneralRef(g) if inside => {
                let entity = format!("&{};", g.xml10_content());
                out.push_str(&quick_xml::escape::unescape(&entity).ok()?);
            }
            Event::End(e) if inside && e.local_name().as_ref() == local => {
                return Some(out.trim().to_string());
            }
            Event::Eof => return None,
            _ => {}
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_reads_text_in_any_namespace() {
        let x = "<a:R xmlns:a=\"urn:x\"><a:TenantId> t&amp;1 </a:TenantId></a:R>";
        assert_eq!(xml_text(x, "TenantId").as_deref(), Some("t&1"));
        assert_eq!(xml_text(x, "Missing"), None);
    }

    #[test]
    fn dotnet_guid_bytes_round_trip() {
        let g = "00112233-4455-6677-8899-aabbccddeeff";
        let b = dotnet_guid_bytes(g).unwrap();
        assert_eq!(&b[..8], &[0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66]);
        assert_eq!(dotnet_guid_text(&b).as_deref(), Some(g));
        assert_eq!(dotnet_guid_bytes("not-a-guid"), None);
    }
}
