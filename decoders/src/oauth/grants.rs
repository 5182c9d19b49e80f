//! Where a token-endpoint message belongs ([`endpoint`]: v1, v2, device code, ADFS) and which
//! grant a token request uses ([`classify`] into a [`Grant`]), with each grant's label and meaning.
//!
//! Classification reads `grant_type` and the body's fields, never the host. It is *not*
//! responsible for explaining the request's fields (`request`) or any response.

use crate::util;

/// Which token-endpoint protocol version a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `/oauth2/token`: takes `resource`, answers numbers as strings, has `expires_on`.
    V1,
    /// `/oauth2/v2.0/token`: takes `scope`, answers integers, has `client_info`.
    V2,
}

impl Version {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

/// The endpoint a URL path names, if it is one this decoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The token endpoint.
    Token(Version),
    /// The device-code start endpoint.
    DeviceCode(Version),
}

/// Classifies a URL path (`/{tenant}/oauth2[/v2.0]/token|devicecode`, trailing `/` allowed).
pub fn endpoint(path: &str) -> Option<Endpoint> {
    let p = path.trim_end_matches('/');
    let ends = |suffix: &str| util::ends_with_ci(p, suffix);
    if ends("/oauth2/v2.0/token") {
        Some(Endpoint::Token(Version::V2))
    } else if ends("/oauth2/token") {
        Some(Endpoint::Token(Version::V1))
    } else if ends("/oauth2/v2.0/devicecode") {
        Some(Endpoint::DeviceCode(Version::V2))
    } else if ends("/oauth2/devicecode") {
        Some(Endpoint::DeviceCode(Version::V1))
    } else {
        None
    }
}

/// What a token request asks for, from `grant_type` and the body (protocols.md §2.2, §7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grant {
    /// `password`: Resource Owner Password Credentials.
    Password,
    /// `refresh_token`.
    RefreshToken,
    /// `authorization_code` (with `code_verifier` when PKCE is used).
    AuthorizationCode,
    /// `client_credentials` (app-only).
    ClientCredentials,
    /// `urn:ietf:params:oauth:grant-type:device_code` or plain `device_code`: polling.
    DeviceCode,
    /// `urn:ietf:params:oauth:grant-type:saml1_1-bearer`.
    Saml11Bearer,
    /// `urn:ietf:params:oauth:grant-type:saml2-bearer`.
    Saml2Bearer,
    /// jwt-bearer with `request=<JWT>`: PRT acquisition or a PRT/broker-signed request.
    SignedRequest,
    /// jwt-bearer with `assertion=` and `requested_token_use=on_behalf_of`.
    OnBehalfOf,
    /// jwt-bearer with `assertion=` only (RFC 7523 JWT authorization grant).
    JwtAssertion,
    /// `srv_challenge`: asks for a nonce (PRT step 1).
    SrvChallenge,
    /// A POST to `/devicecode`: starts the device-code flow (no `grant_type`).
    DeviceCodeStart,
    /// A `grant_type` this decoder does not know.
    Other(String),
    /// No `grant_type` at all.
    Missing,
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Classifies a token request from its form fields; `endpoint` only matters for `/devicecode`.
pub fn classify(form: &[(String, String)], endpoint: Option<Endpoint>) -> Grant {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(gt) = get("grant_type") else {
        return if matches!(endpoint, Some(Endpoint::DeviceCode(_))) {
            Grant::DeviceCodeStart
        } else {
            Grant::Missing
        };
    };
    match gt {
        "password" => Grant::Password,
        "refresh_token" => Grant::RefreshToken,
        "authorization_code" => Grant::AuthorizationCode,
        "client_credentials" => Grant::ClientCredentials,
        "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => Grant::DeviceCode,
        "urn:ietf:params:oauth:grant-type:saml1_1-bearer" => Grant::Saml11Bearer,
        "urn:ietf:params:oauth:grant-type:saml2-bearer" => Grant::Saml2Bearer,
        "srv_challenge" => Grant::SrvChallenge,
        JWT_BEARER if get("request").is_some() => Grant::SignedRequest,
        JWT_BEARER if get("requested_token_use") == Some("on_behalf_of") => Grant::OnBehalfOf,
        JWT_BEARER => Grant::JwtAssertion,
        other => Grant::Other(other.to_string()),
    }
}

impl Grant {
    /// A short name for summaries (`ROPC`, `refresh`, `OBO`).
    pub fn name(&self) -> &str {
        match self {
            Grant::Password => "ROPC",
            Grant::RefreshToken => "refresh",
            Grant::AuthorizationCode => "auth code",
            Grant::ClientCredentials => "client credentials",
            Grant::DeviceCode => "device code poll",
            Grant::Saml11Bearer => "SAML 1.1 bearer",
            Grant::Saml2Bearer => "SAML 2.0 bearer",
            Grant::SignedRequest => "jwt-bearer signed request",
            Grant::OnBehalfOf => "OBO",
            Grant::JwtAssertion => "jwt-bearer assertion",
            Grant::SrvChallenge => "srv_challenge nonce",
            Grant::DeviceCodeStart => "device code start",
            Grant::Other(g) => g,
            Grant::Missing => "no grant_type",
        }
    }

    /// What the grant does, in a sentence.
    pub fn explanation(&self) -> &'static str {
        match self {
            Grant::Password => {
                "Resource Owner Password Credentials: the client sends the user's name and \
                 password itself (no browser, no MFA); the AAD Connect sync account signs in this \
                 way"
            }
            Grant::RefreshToken => {
                "redeems a refresh token for new tokens, possibly for another resource"
            }
            Grant::AuthorizationCode => {
                "redeems the code the authorize endpoint returned to redirect_uri after the user \
                 signed in in a browser"
            }
            Grant::ClientCredentials => {
                "app-only: the application authenticates as itself (secret or certificate \
                 assertion); no user is involved"
            }
            Grant::DeviceCode => {
                "device-code flow polling: the client asks whether the user has entered the code \
                 yet"
            }
            Grant::Saml11Bearer | Grant::Saml2Bearer => {
                "exchanges a SAML assertion (from ADFS, e.g. after WS-Trust) for OAuth tokens"
            }
            Grant::SignedRequest => {
                "all OAuth parameters travel inside the signed JWT `request`: PRT acquisition \
                 (signed by the device key) or a request signed with the PRT session key \
                 (MS-OAPXBC)"
            }
            Grant::OnBehalfOf => {
                "On-Behalf-Of: a middle-tier API exchanges the user's access token it received \
                 for a token to a downstream API"
            }
            Grant::JwtAssertion => "exchanges a JWT assertion for tokens (RFC 7523)",
            Grant::SrvChallenge => {
                "asks for a nonce (\"Nonce\") that the next PRT request must carry as \
                 request_nonce"
            }
            Grant::DeviceCodeStart => {
                "starts the device-code flow: the answer holds the code the user types in a \
                 browser elsewhere"
            }
            Grant::Other(_) => "a grant_type this decoder does not know",
            Grant::Missing => "a token request without grant_type is rejected",
        }
    }
}
