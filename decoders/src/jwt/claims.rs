//! The view of a token's claims the way an Entra ID engineer reads them: each claim's meaning,
//! well-known app ids, directory roles, `amr` and scope meanings, credentials in the payload, and
//! time findings (expired, not yet valid, issued in the future). It also holds the token's
//! [`Role`], which changes how some claims are judged.
//!
//! It is *not* responsible for the header or the signature.

use serde_json::Value;

use super::parse::{Token, ordered};
use crate::Context;
use crate::util;
use crate::view::{Finding, Kind, Node};

/// Most elements of one claim array shown as separate nodes (a `groups` claim can be long).
const MAX_ARRAY_ITEMS: usize = 500;

/// Claims whose value is a credential: shown as [`Kind::Secret`] and reported as a finding,
/// because a JWT payload is only base64url, not encrypted (PRT requests carry passwords here).
const CREDENTIAL_CLAIMS: &[&str] = &[
    "password",
    "refresh_token",
    "assertion",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "access_token",
    "session_key",
];

/// What a token is for, which changes how some findings are judged (an unsigned id_token from the
/// token endpoint is normal, an unsigned access token is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Nothing says what the token is for.
    Unknown,
    /// An OAuth access token (has `scp`, `roles`, `appid` or `azp`).
    AccessToken,
    /// An OpenID Connect id_token.
    IdToken,
    /// A client assertion: the client's proof of identity, signed with its own key.
    ClientAssertion,
    /// A signed request (the `request=` of a jwt-bearer grant: PRT and broker requests).
    SignedRequest,
}

impl Role {
    /// Guesses the role from the claims (field names, not values, so it is cheap and stable).
    pub fn guess(token: &Token) -> Role {
        let Some(c) = token.claims.as_ref() else {
            return Role::Unknown;
        };
        let has = |k: &str| c.get(k).is_some();
        if token
            .header_str("typ")
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
            || has("scp")
            || has("appid")
            || has("azp")
            || has("roles")
            || has("idtyp")
        {
            Role::AccessToken
        } else if has("grant_type") || has("request_nonce") {
            Role::SignedRequest
        } else if has("nonce")
            || (has("aud") && (has("upn") || has("unique_name") || has("preferred_username")))
        {
            Role::IdToken
        } else {
            Role::Unknown
        }
    }

    /// A human name ("access token", "id_token").
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Unknown => "token",
            Role::AccessToken => "access token",
            Role::IdToken => "id_token",
            Role::ClientAssertion => "client assertion",
            Role::SignedRequest => "signed request",
        }
    }
}

/// Claims in reading order (validity, who, which app, what access, how); the rest follow
/// alphabetically. The JSON map does not keep wire order, so a fixed order keeps views stable.
const CLAIM_ORDER: &[&str] = &[
    "aud",
    "iss",
    "iat",
    "nbf",
    "exp",
    "auth_time",
    "upn",
    "unique_name",
    "preferred_username",
    "username",
    "name",
    "given_name",
    "family_name",
    "email",
    "oid",
    "sub",
    "tid",
    "idtyp",
    "appid",
    "azp",
    "app_displayname",
    "appidacr",
    "azpacr",
    "client_id",
    "scp",
    "scope",
    "roles",
    "wids",
    "groups",
    "amr",
    "acr",
    "ipaddr",
    "deviceid",
    "onprem_sid",
    "ver",
];

/// Meaning of a claim (protocols.md §2.5), for `Node::note`.
fn claim_note(name: &str) -> Option<&'static str> {
    Some(match name {
        "aud" => {
            "audience: the resource the token is for (v1 a URI such as https://graph.windows.net, v2 an app id GUID or URI)"
        }
        "iss" => {
            "issuer: v1 https://sts.windows.net/{tid}/, v2 https://login.microsoftonline.com/{tid}/v2.0"
        }
        "iat" => "issued at",
        "nbf" => "not valid before",
        "exp" => "expires at",
        "auth_time" => "when the user authenticated",
        "amr" => "authentication methods used",
        "acr" => {
            "authentication context class (v1: \"0\" or \"1\"; 0 means the authentication did not meet ISO/IEC 29115)"
        }
        "ipaddr" => "client IP address seen by Entra ID",
        "name" => "display name",
        "given_name" => "given name",
        "family_name" => "family name",
        "upn" => "user principal name",
        "unique_name" => "v1 user identifier (federated SAML-derived tokens may carry a URI here)",
        "preferred_username" => "v2 user identifier (usually the UPN)",
        "email" => "email address",
        "oid" => "object id of the user or service principal in the tenant",
        "sub" => "subject: pairwise id of the principal, different for each app",
        "tid" => "tenant id",
        "appid" => "v1: the client app that asked for the token",
        "azp" => "v2: the client app that asked for the token (authorized party)",
        "appidacr" => "how the client authenticated",
        "azpacr" => "how the client authenticated",
        "scp" => "delegated scopes granted to the app for the user (space-separated)",
        "roles" => "app roles granted (application permissions or user roles)",
        "wids" => "directory role template ids of the user",
        "groups" => "group object ids of the user",
        "ver" => "token format version (not the endpoint version)",
        "onprem_sid" => "on-premises SID of a synced user",
        "deviceid" => "device id: the token was issued through device authentication (PRT)",
        "idtyp" => "token subject type: \"app\" for app-only tokens, \"user\" for delegated ones",
        "nonce" => "OIDC nonce echoed from the authorization request (replay protection)",
        "xms_tcdt" => "when the tenant was created",
        "uti" | "aio" | "rh" | "puid" | "xms_ftd" | "xms_idrel" | "xms_st" => {
            "opaque, Microsoft-internal"
        }
        "jti" => "unique token id (replay protection)",
        "request_nonce" => {
            "nonce from the srv_challenge exchange, binding this request to the server's challenge"
        }
        "grant_type" => "the OAuth grant carried inside this signed request",
        "client_id" => "the client app making the request",
        "scope" => "requested scopes (\"aza\" asks for a PRT)",
        "username" => "the user signing in",
        "password" => "the user's password, in clear inside the JWT payload",
        "refresh_token" => "a refresh token (in a PRT cookie or broker request: the PRT itself)",
        "assertion" => "an assertion used as the grant (SAML or Windows Hello JWT)",
        "is_primary" => "PRT cookie: \"true\" marks the primary refresh token (sent as a string)",
        "win_ver" => "Windows version of the client",
        "windows_api_version" => "PRT protocol version of the Windows client",
        "tenant_region_scope" | "tenant_region_sub_scope" => "tenant region",
        "pwd_exp" => "seconds until the password expires",
        "pwd_url" => "where to change the password",
        _ => return None,
    })
}

fn claim_value_note(name: &str, text: &str) -> Option<String> {
    let known = match (name, text) {
        ("appidacr" | "azpacr", "0") => "0 = public client (no client authentication)",
        ("appidacr" | "azpacr", "1") => "1 = client authenticated with a client secret",
        ("appidacr" | "azpacr", "2") => "2 = client authenticated with a certificate",
        ("acr", "0") => "0 = the authentication did not meet the requirements of ISO/IEC 29115",
        ("ver", "1.0") => "1.0 = v1 token format",
        ("ver", "2.0") => "2.0 = v2 token format",
        ("idtyp", "app") => "app = app-only token (client credentials)",
        ("idtyp", "user") => "user = delegated token",
        _ => "",
    };
    if !known.is_empty() {
        return Some(known.to_string());
    }
    if matches!(name, "iss") {
        if text.starts_with("https://sts.windows.net/") {
            return Some("v1 issuer (sts.windows.net/{tid}/)".to_string());
        }
        if text.ends_with("/v2.0") {
            return Some("v2 issuer (login.microsoftonline.com/{tid}/v2.0)".to_string());
        }
    }
    if matches!(name, "aud" | "appid" | "azp" | "client_id") {
        return well_known_app(text).map(|n| format!("well-known: {n}"));
    }
    None
}

/// Names of well-known Microsoft first-party application and resource ids (and resource URIs),
/// for notes on `client_id`, `appid`, `azp` and `aud`.
pub fn well_known_app(id: &str) -> Option<&'static str> {
    Some(match id.to_ascii_lowercase().trim_end_matches('/') {
        "1b730954-1685-4b74-9bfd-dac224a7b894" => "Azure Active Directory PowerShell",
        "1950a258-227b-4e31-a9cf-717495945fc2" => "Microsoft Azure PowerShell",
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46" => "Microsoft Azure CLI",
        "cb1056e2-e479-49de-ae31-7812af012ed8" => "Microsoft Azure Active Directory Connect",
        "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016" => "Microsoft Entra AD Synchronization Service",
        // The second id is the one of the Arlington (US Government) cloud.
        "93625bc8-bfe2-437a-97e0-3d0060024faa" | "2e5ecfc8-ea79-48bd-8140-c19324acb278" => {
            "Microsoft password reset service"
        }
        "29d9ed98-a469-4536-ade2-f981bc1d605e" => "Microsoft Authentication Broker",
        "38aa3b87-a06d-4817-b275-7a316988d93b" => "Windows Sign In (PRT)",
        "d3590ed6-52b3-4102-aeff-aad2292ab01c" => "Microsoft Office",
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264" => "Microsoft Teams",
        "00000003-0000-0000-c000-000000000000" | "https://graph.microsoft.com" => "Microsoft Graph",
        "00000002-0000-0000-c000-000000000000" | "https://graph.windows.net" => {
            "Azure AD Graph (legacy)"
        }
        "https://management.azure.com" | "https://management.core.windows.net" => {
            "Azure Resource Manager"
        }
        _ => return None,
    })
}

/// Names of a few directory role template ids that show up in nearly every capture.
fn directory_role(id: &str) -> Option<&'static str> {
    Some(match id {
        "62e90394-69f5-4237-9190-012177145e10" => "Global Administrator",
        "d29b2b05-8046-44ba-8758-1e26182fcf32" => "Directory Synchronization Accounts",
        "b79fbf4d-3ef9-4689-8143-76b194e85509" => "User (default member role)",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3" => "Application Administrator",
        _ => return None,
    })
}

/// Meanings of the application permissions (app roles) Entra Connect Sync holds on the
/// Microsoft services it calls with application identity.
fn app_role(role: &str) -> Option<&'static str> {
    Some(match role {
        "ADSynchronization.ReadWrite.All" => {
            "Entra Connect Sync's application permission on the Microsoft Entra AD \
             Synchronization Service: read and write the synchronized directory"
        }
        "PasswordWriteback.OffboardClient.All"
        | "PasswordWriteback.RegisterClientVersion.All"
        | "PasswordWriteback.RefreshClient.All" => {
            "Entra Connect Sync's password writeback permission on the Microsoft password reset \
             service"
        }
        _ => return None,
    })
}

fn amr_meaning(v: &str) -> &'static str {
    match v {
        "pwd" => "password",
        "mfa" => "multi-factor authentication",
        "rsa" => "RSA key proof (e.g. Microsoft Authenticator, device or certificate key)",
        "wia" => "Windows Integrated Authentication (Kerberos/NTLM)",
        "ngcmfa" => "Windows Hello for Business / FIDO-backed MFA",
        "fed" => "federated: an identity provider (ADFS) authenticated the user",
        "otp" => "one-time passcode",
        "sms" => "SMS code",
        "tel" => "phone call",
        "face" => "face biometric",
        "fido" => "FIDO2 security key",
        "hwk" => "hardware-bound key",
        "kba" => "knowledge-based authentication",
        "pin" => "PIN",
        "swk" => "software-bound key",
        "user" => "user presence",
        "vpn" => "VPN",
        "wiaormfa" => "Windows Integrated Authentication or MFA",
        _ => "unrecognized method",
    }
}

fn scope_meaning(s: &str) -> Option<&'static str> {
    Some(match s {
        "user_impersonation" => "act as the signed-in user (v1 default delegated scope)",
        "openid" => "OpenID Connect: an id_token is requested",
        "profile" => "basic profile claims in the id_token",
        "email" => "the email claim",
        "offline_access" => "a refresh token is requested",
        "aza" => "PRT: asks Entra ID for a (renewed) primary refresh token",
        "ugs" => "PRT: include group SIDs (Kerberos cloud TGT)",
        _ if s.ends_with("/.default") || s == ".default" => {
            "all statically consented permissions of the resource (the v2 form of a v1 resource)"
        }
        _ => return None,
    })
}

/// Explains a space-separated OAuth scope string as one node with a child per scope.
pub fn scope_node(label: &str, scopes: &str) -> Node {
    let mut node = Node::field(label, scopes);
    for s in scopes.split_whitespace().take(MAX_ARRAY_ITEMS) {
        let mut c = Node::field("scope", s);
        if let Some(n) = scope_meaning(s) {
            c.note = Some(n.to_string());
        }
        node.push(c);
    }
    node
}

/// Meaning of a claim that depends on what the token is for.
fn role_claim_note(name: &str, role: Role) -> Option<&'static str> {
    Some(match (role, name) {
        (Role::IdToken, "aud") => "audience: the client app the id_token is for (its client_id)",
        (Role::ClientAssertion, "aud") => {
            "audience: must be the token endpoint the assertion is sent to"
        }
        (Role::ClientAssertion, "iss" | "sub") => {
            "the client_id of the app (iss and sub are both the client in a client assertion)"
        }
        (Role::SignedRequest, "iss") => "who signed the request (a broker: aad:brokerplugin)",
        (Role::SignedRequest, "aud") => {
            "the authority the request is for (login.microsoftonline.com)"
        }
        _ => return None,
    })
}

pub(super) fn explain_claims(
    token: &Token,
    cx: &Context<'_>,
    role: Role,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut sec = Node::section("claims");
    let Some(map) = token.claims.as_ref().and_then(Value::as_object) else {
        return sec;
    };
    let now = util::epoch_secs(cx.now);
    let mut credentials = Vec::new();
    for (name, v) in ordered(map, CLAIM_ORDER) {
        let text = util::json_scalar(v);
        let mut node = match name.as_str() {
            "iat" | "nbf" | "exp" | "auth_time" | "xms_tcdt" => match util::json_int(v) {
                Some(secs) => {
                    let mut n = Node::leaf(
                        name.clone(),
                        util::format_epoch_relative(secs, cx.now),
                        Kind::Timestamp,
                    );
                    if v.is_string() {
                        n.note = Some("sent as a string, not a NumericDate".to_string());
                    }
                    time_findings(name, secs, now, cx, findings);
                    n
                }
                None => Node::leaf(name.clone(), text.clone(), Kind::Error)
                    .with_note("not a NumericDate"),
            },
            "scp" if v.is_string() => scope_node("scp", &text),
            "scope" if v.is_string() => scope_node("scope", &text),
            n if CREDENTIAL_CLAIMS.contains(&n) => {
                credentials.push(name.clone());
                Node::secret(name.clone(), text.clone())
                    .with_note(format!("{} chars", text.chars().count()))
            }
            _ => match v {
                Value::Array(items) => {
                    let shown: Vec<String> = items.iter().map(util::json_scalar).collect();
                    let mut n = Node::field(
                        name.clone(),
                        if shown.is_empty() {
                            "(empty array)".to_string()
                        } else {
                            shown.join(", ")
                        },
                    );
                    for (i, item) in items.iter().take(MAX_ARRAY_ITEMS).enumerate() {
                        let t = util::json_scalar(item);
                        let mut c = Node::field(format!("[{i}]"), t.clone());
                        c.note = match name.as_str() {
                            "amr" => Some(amr_meaning(&t).to_string()),
                            "wids" => directory_role(&t).map(str::to_string),
                            "roles" => app_role(&t).map(str::to_string),
                            _ => None,
                        };
                        n.push(c);
                    }
                    if items.len() > MAX_ARRAY_ITEMS {
                        n.push(Node::text(
                            "…",
                            format!("{} more not shown", items.len() - MAX_ARRAY_ITEMS),
                        ));
                    }
                    n
                }
                _ => Node::field(name.clone(), text.clone()),
            },
        };
        let general = role_claim_note(name, role).or_else(|| claim_note(name));
        let specific = claim_value_note(name, &text);
        let note = match (general, specific, node.note.take()) {
            (Some(g), Some(s), extra) => Some(join_notes(&[g, &s], extra)),
            (Some(g), None, extra) => Some(join_notes(&[g], extra)),
            (None, Some(s), extra) => Some(join_notes(&[&s], extra)),
            (None, None, extra) => extra,
        };
        node.note = note;
        sec.push(node);
    }
    if !credentials.is_empty() {
        findings.push(
            Finding::warning(format!(
                "credential in the JWT payload: {} (base64url is not encryption: anyone who sees \
                 this token reads it)",
                credentials.join(", ")
            ))
            .at("claims"),
        );
    }
    sec
}

fn join_notes(parts: &[&str], extra: Option<String>) -> String {
    let mut s = parts.join("; ");
    if let Some(e) = extra {
        s.push_str("; ");
        s.push_str(&e);
    }
    s
}

/// The clock-skew allowance for `nbf` and `iat`, in seconds.
const CLOCK_SKEW: i64 = 300;

fn time_findings(name: &str, secs: i64, now: i64, cx: &Context<'_>, findings: &mut Vec<Finding>) {
    let when = util::format_epoch_relative(secs, cx.now);
    match name {
        "exp" if secs <= now => {
            findings.push(Finding::error(format!("expired: exp {when}")).at("claims/exp"))
        }
        // Five minutes is the usual clock-skew allowance: a token issued while the request was
        // in flight (`nbf` = `iat`, a second or two after the capture time) is valid.
        "nbf" if secs > now.saturating_add(CLOCK_SKEW) => {
            findings.push(Finding::error(format!("not yet valid: nbf {when}")).at("claims/nbf"))
        }
        "iat" if secs > now.saturating_add(CLOCK_SKEW) => findings
            .push(Finding::warning(format!("issued in the future: iat {when}")).at("claims/iat")),
        _ => {}
    }
}
