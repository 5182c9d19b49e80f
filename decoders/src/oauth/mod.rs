//! The OAuth 2.0 / OIDC token endpoint of Entra ID (v1 `/oauth2/token`, v2 `/oauth2/v2.0/token`,
//! `/devicecode`, and ADFS's `/adfs/oauth2/token`): token requests classified by `grant_type` and
//! body (never by host), success responses (v1 string numbers, v2 `client_info`, PRT `pop`
//! responses), device-code start responses, the `srv_challenge` nonce, and error responses with
//! their AADSTS code explained, including HTML error pages.
//!
//! Every credential (`password`, `client_secret`, `refresh_token`, `code`, `code_verifier`,
//! `device_code`, `assertion`, `request`, tokens) is a [`Kind::Secret`] node; its decoded structure
//! (a JWT's header and claims, a SAML assertion's XML) may be shown as children. JWTs are decoded
//! by calling [`jwt::parse`]/[`jwt::explain_as`] directly; refresh tokens are opaque and never
//! parsed. This module is *not* responsible for the authorize endpoint, PRT cookies, decrypting
//! JWE responses or decoding SAML beyond recognising it (a SAML decoder, when registered, is asked
//! through [`Context::decode_nested`]).

use serde_json::{Map, Value};

use crate::html::decode_entities;
use crate::jwt::{self, Form, Role};
use crate::util::{self, Needle, short_id};
use crate::view::{Finding, Kind, Node, Severity};
use crate::{Context, DecodeError, Decoded, Decoder, Message};

/// The `oauth` decoder: token-endpoint requests and responses.
#[derive(Debug, Clone, Copy)]
pub struct OAuth;

/// Which token-endpoint protocol version a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `/oauth2/token`: takes `resource`, answers numbers as strings, has `expires_on`.
    V1,
    /// `/oauth2/v2.0/token`: takes `scope`, answers integers, has `client_info`.
    V2,
}

impl Version {
    fn as_str(self) -> &'static str {
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

/// Meaning of an RFC 6749 / OIDC / RFC 8628 `error` code.
pub fn error_meaning(error: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_request" => "the request is missing a parameter or is malformed",
        "invalid_client" => {
            "client authentication failed (unknown client, bad secret or assertion)"
        }
        "invalid_grant" => {
            "the grant (password, code, refresh token, assertion) is invalid, expired or revoked"
        }
        "unauthorized_client" => {
            "the client may not use this grant type (or does not exist in the tenant)"
        }
        "unsupported_grant_type" => "the server does not support this grant_type",
        "invalid_scope" => "the requested scope or resource is invalid or unknown",
        "interaction_required" => {
            "the user must interact (MFA, consent, conditional access) in a browser"
        }
        "consent_required" => "the user or an admin must consent to the application",
        "login_required" => "the user must sign in interactively",
        "authorization_pending" => {
            "device flow: the user has not finished signing in; keep polling"
        }
        "slow_down" => "device flow: polling too fast; increase the interval",
        "authorization_declined" | "access_denied" => "the user or server denied the request",
        "expired_token" | "code_expired" => "device flow: the device code expired; start again",
        "temporarily_unavailable" => "the server is temporarily unavailable",
        "server_error" => "the server hit an unexpected error",
        _ => return None,
    })
}

/// Short meaning of an Entra ID `AADSTS` error code (protocols.md §2.6, plus the device-flow and
/// client-authentication codes seen in the same exchanges).
pub fn aadsts_meaning(code: u64) -> Option<&'static str> {
    Some(match code {
        50126 => "bad username or password",
        50034 => "user not found in the directory",
        50053 => "account locked (too many sign-in attempts or a blocked IP)",
        50057 => "user account disabled",
        50055 => "password expired",
        50076 => "MFA required",
        50079 => "MFA registration required",
        53003 => "blocked by Conditional Access",
        65001 => "consent required: the user or an admin has not consented to the app",
        700016 => "application not found in the tenant",
        90002 => "tenant not found",
        70008 => "authorization code or refresh token expired",
        700082 => "refresh token expired due to inactivity",
        9002313 => "malformed or invalid request",
        90011 => "ambiguous request",
        70016 => "device flow: authorization pending",
        70019 => "device flow: the device code expired",
        7000215 => "invalid client secret",
        7000218 => "the request needs client_assertion or client_secret",
        900561 => "the endpoint only accepts POST requests",
        _ => return None,
    })
}

/// The first `AADSTS<digits>` code in a text (error descriptions, HTML pages).
pub fn aadsts_code(text: &str) -> Option<u64> {
    let i = text.find("AADSTS")?;
    let rest = text.get(i + 6..)?;
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(12)
        .collect();
    digits.parse().ok()
}

fn suberror_meaning(s: &str) -> Option<&'static str> {
    Some(match s {
        "basic_action" => {
            "the user can fix this with a simple action (sign in again, complete MFA)"
        }
        "additional_action" => "the user must take an additional action outside this client",
        "message_only" => "nothing the user can do here: show the message",
        "bad_token" => "the refresh token is invalid: sign in again",
        "token_expired" => "the token expired: sign in again",
        "protection_policy_required" => "an app protection policy (Intune) is required",
        "consent_required" => "consent is required",
        "user_password_expired" => "the user's password expired",
        _ => return None,
    })
}

/// Members of a success response in reading order; the rest follow alphabetically.
const SUCCESS_ORDER: &[&str] = &[
    "token_type",
    "scope",
    "expires_in",
    "ext_expires_in",
    "expires_on",
    "not_before",
    "refresh_in",
    "resource",
    "access_token",
    "id_token",
    "refresh_token",
    "refresh_token_expires_in",
    "foci",
    "client_info",
    "session_key_jwe",
    "tgt_ad",
    "tgt_cloud",
    "kerberos_top_level_names",
];

/// Members of an error response in reading order.
const ERROR_ORDER: &[&str] = &[
    "error",
    "error_description",
    "error_codes",
    "suberror",
    "claims",
    "timestamp",
    "trace_id",
    "correlation_id",
    "error_uri",
];

/// Members of a device-code start response in reading order.
const DEVICE_ORDER: &[&str] = &[
    "user_code",
    "verification_url",
    "verification_uri",
    "verification_uri_complete",
    "expires_in",
    "interval",
    "message",
    "device_code",
];

static GRANT_TYPE: Needle = Needle::new(b"grant_type=");
static ACCESS_TOKEN: Needle = Needle::new(b"\"access_token\"");
static ERROR_DESCRIPTION: Needle = Needle::new(b"\"error_description\"");
static DEVICE_CODE: Needle = Needle::new(b"\"device_code\"");
static USER_CODE: Needle = Needle::new(b"\"user_code\"");

impl Decoder for OAuth {
    fn id(&self) -> &'static str {
        "oauth"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        let ep = endpoint(msg.path());
        let head = msg.body.get(..4096).unwrap_or(msg.body);
        let head = head.trim_ascii_start();
        let contains = |needle: &Needle| needle.is_in(head);
        if msg.is_request() {
            if !util::looks_like_form(msg.body.get(..4096).unwrap_or(msg.body)) {
                return 0.0;
            }
            if ep.is_some() && msg.method.is_some_and(|m| m.eq_ignore_ascii_case("POST")) {
                return 0.9;
            }
            return if contains(&GRANT_TYPE) { 0.7 } else { 0.0 };
        }
        let json = head.starts_with(b"{");
        let html = msg.content_type().is_some_and(|c| c == "text/html") || head.starts_with(b"<");
        match (ep, json, html) {
            (Some(_), true, _) => 0.9,
            (Some(_), false, true) => 0.8,
            (None, true, _)
                if contains(&ACCESS_TOKEN)
                    || contains(&ERROR_DESCRIPTION)
                    || (contains(&DEVICE_CODE) && contains(&USER_CODE)) =>
            {
                0.5
            }
            _ => 0.0,
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        if msg.body.len() > cx.limits.max_body {
            return Err(DecodeError::TooLarge {
                what: "token endpoint body",
                limit: cx.limits.max_body,
            });
        }
        let ep = endpoint(msg.path());
        if msg.is_request() {
            let form = util::parse_form(msg.body);
            if !form.iter().any(|(k, _)| k == "grant_type") && ep.is_none() {
                return Err(DecodeError::Missing("grant_type"));
            }
            return Ok(explain_request(&form, ep, msg.path(), cx));
        }
        let head = msg.body.trim_ascii_start();
        if head.starts_with(b"{") {
            let v = util::parse_json(msg.body, "body", &cx.limits)?;
            let version = match ep {
                Some(Endpoint::Token(v) | Endpoint::DeviceCode(v)) => Some(v),
                None => None,
            };
            return explain_response(&v, version, msg.status, cx);
        }
        if ep.is_some()
            && let Some(text) = msg.text()
        {
            return Ok(explain_html(text, msg.status));
        }
        Err(DecodeError::not(
            "an OAuth token endpoint message",
            "the body is neither a form, a JSON object nor an HTML page",
        ))
    }
}

/// Explains a token-endpoint request from its form fields (in wire order).
pub fn explain_request(
    form: &[(String, String)],
    ep: Option<Endpoint>,
    path: &str,
    cx: &Context<'_>,
) -> Decoded {
    let grant = classify(form, ep);
    let version = match ep {
        Some(Endpoint::Token(v) | Endpoint::DeviceCode(v)) => Some(v),
        None => None,
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut findings = Vec::new();
    let mut root = Node::section(if grant == Grant::DeviceCodeStart {
        "device code request"
    } else {
        "token request"
    });
    root.value = Some(grant.name().to_string());
    root.note = Some(grant.explanation().to_string());
    root.push(endpoint_node(ep, path));
    let mut inner: Option<jwt::Token> = None;
    for (k, v) in form {
        let node = match k.as_str() {
            // The root node already explains the grant.
            "grant_type" => Node::field("grant_type", v),
            "client_id" => with_app_note(
                Node::field("client_id", v).with_note("the application asking for the token"),
                v,
            ),
            "username" => Node::field("username", v).with_note("the user signing in (ROPC)"),
            "password" | "passwd" | "pwd" | "new_password" => {
                findings.push(
                    Finding::warning(format!(
                        "ROPC: the password{} travels in clear in the form body; only TLS \
                         protects it",
                        get("username")
                            .map(|u| format!(" of {u}"))
                            .unwrap_or_default()
                    ))
                    .at(format!("{}/{k}", root.label)),
                );
                Node::secret(k.clone(), v).with_note(format!(
                    "the user's password, in clear ({} chars)",
                    v.chars().count()
                ))
            }
            "resource" => {
                if version == Some(Version::V2) {
                    findings.push(
                        Finding::warning(
                            "`resource` sent to the v2 endpoint, which does not take it; v2 \
                             expects scope=<resource>/.default",
                        )
                        .at(format!("{}/resource", root.label)),
                    );
                }
                with_app_note(
                    Node::field("resource", v)
                        .with_note("v1: the resource (API) the access token is for"),
                    v,
                )
            }
            "scope" => {
                let mut n = jwt::scope_node("scope", v);
                n.note = Some(
                    match version {
                        Some(Version::V1) => {
                            "v1: OIDC scopes only (openid asks for an id_token); the API is named \
                             by `resource`"
                        }
                        _ => {
                            "v2: the API permissions (<resource>/<permission> or /.default) and \
                             OIDC scopes"
                        }
                    }
                    .to_string(),
                );
                n
            }
            "client_secret" => Node::secret("client_secret", v).with_note(format!(
                "the application's password ({} chars)",
                v.chars().count()
            )),
            "client_assertion_type" => Node::field(k.clone(), v).with_note(
                "the client proves its identity with a JWT signed by its certificate key instead \
                 of a secret",
            ),
            "client_assertion" => nested_jwt(
                k,
                v,
                Role::ClientAssertion,
                "the client's proof of identity: a JWT signed with the app's certificate key \
                 (header x5t names the certificate)",
                &root.label,
                cx,
                &mut findings,
            ),
            "code" => Node::secret("code", v).with_note(if grant == Grant::DeviceCode {
                "the device_code (v1/ADAL name `code`): opaque; whoever holds it receives the \
                 tokens"
            } else {
                "authorization code: opaque, single use, short-lived"
            }),
            "code_verifier" => Node::secret("code_verifier", v).with_note(
                "PKCE: the secret whose SHA-256 was sent as code_challenge to /authorize; proves \
                 this client started the flow",
            ),
            "device_code" => Node::secret("device_code", v).with_note(
                "opaque device code from /devicecode; whoever holds it receives the tokens",
            ),
            "refresh_token" => refresh_token_node(v, false),
            "redirect_uri" => Node::field(k.clone(), v)
                .with_note("must match the redirect_uri of the authorize request"),
            "assertion" => match grant {
                Grant::Saml11Bearer | Grant::Saml2Bearer => {
                    saml_assertion_node(v, &grant, &root.label, cx, &mut findings)
                }
                Grant::OnBehalfOf => nested_jwt(
                    k,
                    v,
                    Role::AccessToken,
                    "OBO: the access token the middle-tier API received from its caller",
                    &root.label,
                    cx,
                    &mut findings,
                ),
                _ => nested_jwt(
                    k,
                    v,
                    Role::Unknown,
                    "the assertion presented as the grant",
                    &root.label,
                    cx,
                    &mut findings,
                ),
            },
            "request" => {
                inner = jwt::parse_limited(v, &cx.limits).ok();
                nested_jwt(
                    k,
                    v,
                    Role::SignedRequest,
                    "the signed request: every OAuth parameter is inside this JWT's payload \
                     (PRT acquisition: signed by the device key, header x5c = device certificate; \
                     PRT use: HS256 with a key derived from the session key)",
                    &root.label,
                    cx,
                    &mut findings,
                )
            }
            "requested_token_use" => Node::field(k.clone(), v).with_note(if v == "on_behalf_of" {
                "on_behalf_of: the On-Behalf-Of flow"
            } else {
                "which flow the assertion is used for"
            }),
            "windows_api_version" => Node::field(k.clone(), v)
                .with_note("PRT protocol version of the Windows client (2.0, 2.2)"),
            "prt_protocol_version" => {
                Node::field(k.clone(), v).with_note("PRT protocol version (v2 endpoint)")
            }
            "client_info" => Node::field(k.clone(), v)
                .with_note("1: asks for client_info (uid/utid) in the response"),
            "tgt" => Node::field(k.clone(), v)
                .with_note("true: also asks for Kerberos TGTs (tgt_ad/tgt_cloud) with the PRT"),
            "claims" => Node::field(k.clone(), v)
                .with_note("a claims request, typically echoing a conditional-access challenge"),
            "client_request_id" => Node::field(k.clone(), v)
                .with_note("client correlation id; Entra ID echoes it as correlation_id"),
            other if crate::secrets::is_secret_name(other) => Node::secret(k.clone(), v),
            _ => Node::field(k.clone(), v),
        };
        root.push(node);
    }
    match &grant {
        Grant::Missing => findings.push(
            Finding::error("token request without grant_type: Entra ID rejects it")
                .at(format!("{}/grant_type", root.label)),
        ),
        Grant::Other(g) => findings.push(
            Finding::warning(format!("unknown grant_type {g}"))
                .at(format!("{}/grant_type", root.label)),
        ),
        _ => {}
    }
    let mut d = Decoded::new(
        "oauth",
        request_summary(&grant, &get, inner.as_ref(), version),
        root,
    );
    d.findings = findings;
    d
}

fn request_summary<'a>(
    grant: &Grant,
    get: &dyn Fn(&str) -> Option<&'a str>,
    inner: Option<&jwt::Token>,
    version: Option<Version>,
) -> String {
    // A signed request carries its OAuth parameters inside the JWT.
    let claim = |k: &str| inner.and_then(|t| t.claim_str(k));
    let field = |k: &str| get(k).map(str::to_string).or_else(|| claim(k));
    let mut s = match grant {
        Grant::AuthorizationCode if get("code_verifier").is_some() => {
            "auth code (PKCE) token request".to_string()
        }
        Grant::ClientCredentials if get("client_assertion").is_some() => {
            "client credentials (certificate assertion) token request".to_string()
        }
        Grant::ClientCredentials if get("client_secret").is_some() => {
            "client credentials (secret) token request".to_string()
        }
        Grant::SignedRequest => {
            let kind = match claim("scope") {
                Some(sc) if sc.split_whitespace().any(|x| x == "aza") => "PRT request",
                _ => "PRT/broker signed request",
            };
            match claim("grant_type") {
                Some(g) => format!("{kind} (jwt-bearer, inner grant_type={g})"),
                None => format!("{kind} (jwt-bearer)"),
            }
        }
        Grant::SrvChallenge => "srv_challenge nonce request (PRT step 1)".to_string(),
        Grant::DeviceCodeStart => "device code start request".to_string(),
        g => format!("{} token request", g.name()),
    };
    if let Some(v) = version {
        s.push_str(&format!(" {}", v.as_str()));
    }
    if let Some(c) = field("client_id") {
        s.push_str(&format!(" client={}", short_id(&c)));
    }
    if let Some(r) = field("resource") {
        s.push_str(&format!(" resource={r}"));
    } else if let Some(sc) = field("scope") {
        s.push_str(&format!(" scope={}", util::ellipsize(&sc, 80)));
    }
    if let Some(u) = field("username") {
        s.push_str(&format!(" user={u}"));
    }
    if inner.is_some_and(|t| t.claim("password").is_some()) {
        s.push_str(" (password inside)");
    }
    s
}

fn endpoint_node(ep: Option<Endpoint>, path: &str) -> Node {
    let tenant = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("oauth2"));
    let what = match ep {
        Some(Endpoint::Token(v)) => format!("{} token endpoint", v.as_str()),
        Some(Endpoint::DeviceCode(v)) => format!("{} device-code endpoint", v.as_str()),
        None => "not a known token endpoint path".to_string(),
    };
    let mut n = Node::field("endpoint", format!("{what} ({path})"))
        .with_note("v1 (/oauth2/token) takes `resource`, v2 (/oauth2/v2.0/token) takes `scope`");
    if let Some(t) = tenant {
        n.push(
            Node::field("tenant", t).with_note(match t.to_ascii_lowercase().as_str() {
                "common" => "any tenant: the user's home tenant is found from the username",
                "organizations" => "any work or school tenant",
                "consumers" => "Microsoft personal accounts",
                "adfs" => "ADFS, not Entra ID",
                _ => "tenant id or verified domain",
            }),
        );
    }
    n
}

fn with_app_note(mut n: Node, id: &str) -> Node {
    if let Some(name) = jwt::well_known_app(id) {
        let note = match n.note.take() {
            Some(note) => format!("{note}; well-known: {name}"),
            None => format!("well-known: {name}"),
        };
        n.note = Some(note);
    }
    n
}

/// A credential that is a JWT: a secret node whose children are the explained token; the
/// token's findings are re-rooted under this node's path.
fn nested_jwt(
    label: &str,
    value: &str,
    role: Role,
    note: &str,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let path = format!("{parent}/{label}");
    let mut node = Node::secret(label, value);
    match jwt::parse_limited(value, &cx.limits) {
        Ok(token) => {
            let d = jwt::explain_as(&token, cx, role);
            node.note = Some(format!(
                "{note}; {} ({} chars)",
                jwt::brief(&token, cx),
                value.len()
            ));
            node.children = d.root.children;
            findings.extend(d.findings.into_iter().map(|mut f| {
                f.at = Some(match f.at.take() {
                    Some(a) => format!("{path}/{a}"),
                    None => path.clone(),
                });
                f
            }));
        }
        Err(e) => {
            node.note = Some(format!("{note}; not a JWT ({} chars)", value.len()));
            node.push(Node::leaf("decode", e.to_string(), Kind::Error));
            findings.push(Finding::warning(format!("{label} is not a JWT: {e}")).at(path));
        }
    }
    node
}

fn refresh_token_node(v: &str, is_prt: bool) -> Node {
    let segments = v.split('.').count();
    let mut note = format!(
        "opaque to the client ({} chars): never parsed as a JWT",
        v.chars().count()
    );
    if is_prt {
        note.push_str("; with token_type pop this is the Primary Refresh Token (PRT)");
    }
    if segments == 5 {
        note.push_str(
            "; 5 dot-separated segments: an encrypted JWE-style blob only Entra ID can read",
        );
    } else if v.starts_with("0.A") {
        note.push_str("; \"0.A…\" is Entra ID's opaque refresh-token format");
    }
    Node::secret("refresh_token", v).with_note(note)
}

fn saml_assertion_node(
    v: &str,
    grant: &Grant,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let path = format!("{parent}/assertion");
    let mut node = Node::secret("assertion", v).with_note(
        "the SAML assertion, standard base64 (not base64url) of its XML; a bearer credential",
    );
    let Some(xml) = util::b64_decode_any(v, cx.limits.max_inflate) else {
        node.push(Node::leaf("decode", "not valid base64", Kind::Error));
        findings.push(Finding::error("assertion is not valid base64").at(path));
        return node;
    };
    let Ok(text) = std::str::from_utf8(&xml) else {
        node.push(Node::leaf(
            "decode",
            "decoded bytes are not UTF-8 XML",
            Kind::Error,
        ));
        findings.push(Finding::error("assertion does not decode to UTF-8 XML").at(path));
        return node;
    };
    let version = if text.contains("urn:oasis:names:tc:SAML:1.0:assertion") {
        Some("SAML 1.1")
    } else if text.contains("urn:oasis:names:tc:SAML:2.0:assertion") {
        Some("SAML 2.0")
    } else {
        None
    };
    let expected = if *grant == Grant::Saml11Bearer {
        "SAML 1.1"
    } else {
        "SAML 2.0"
    };
    match version {
        Some(found) if found != expected => findings.push(
            Finding::warning(format!(
                "grant_type asks for {expected} but the assertion is {found}"
            ))
            .at(path.clone()),
        ),
        None => findings.push(
            Finding::warning("the decoded assertion is not a SAML assertion").at(path.clone()),
        ),
        _ => {}
    }
    let mut saml = Node::section("saml").with_note(
        "the decoded assertion; full SAML decoding (conditions, signature) is done by the SAML \
         decoder when one is registered",
    );
    saml.value = Some(format!(
        "{} assertion, {} bytes of XML",
        version.unwrap_or("unrecognized"),
        xml.len()
    ));
    saml.push(Node::leaf("xml", text, Kind::Markup));
    if let Some(inner) = cx.decode_nested(&xml) {
        findings.extend(inner.findings.into_iter().map(|mut f| {
            f.at = Some(match f.at.take() {
                Some(a) => format!("{path}/saml/{a}"),
                None => format!("{path}/saml"),
            });
            f
        }));
        saml.push(inner.root);
    }
    node.push(saml);
    node
}

/// Explains a JSON token-endpoint response: success (v1/v2/PRT), device-code start, the
/// `srv_challenge` nonce, or an error. `version` comes from the request URL when known.
pub fn explain_response(
    v: &Value,
    version: Option<Version>,
    status: Option<u16>,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("an OAuth response", "the body is not a JSON object"))?;
    if let Some(n) = obj.get("Nonce") {
        let nonce = util::json_scalar(n);
        let root = Node::section("srv_challenge response")
            .with_note("the nonce a PRT request must carry as request_nonce (MS-OAPXBC)")
            .with_child(Node::field("Nonce", &nonce).with_note(format!(
                "opaque server nonce ({} chars), short-lived; note the capital N",
                nonce.chars().count()
            )));
        return Ok(Decoded::new(
            "oauth",
            format!(
                "srv_challenge response: Nonce ({} chars)",
                nonce.chars().count()
            ),
            root,
        ));
    }
    if obj.contains_key("error") {
        return Ok(explain_error(obj, status));
    }
    if obj.contains_key("device_code") && obj.contains_key("user_code") {
        return Ok(explain_device_start(obj, cx));
    }
    if ["access_token", "refresh_token", "id_token", "token_type"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return Ok(explain_success(obj, version, cx));
    }
    Err(DecodeError::not(
        "an OAuth response",
        "no access_token, refresh_token, id_token, error, device_code or Nonce",
    ))
}

fn seconds_node(label: &str, v: &Value, note: &str) -> Node {
    match util::json_int(v) {
        Some(s) => {
            let value = if (0..60).contains(&s) {
                format!("{s} s")
            } else {
                let human = util::human_duration(std::time::Duration::from_secs(s.unsigned_abs()));
                format!("{s} s ({human})")
            };
            let mut n = Node::leaf(label, value, Kind::Number).with_note(note);
            if v.is_string() {
                n.note = Some(format!("{note}; sent as a string (v1)"));
            }
            n
        }
        None => Node::leaf(label, util::json_scalar(v), Kind::Error)
            .with_note(format!("{note}; not a number")),
    }
}

fn explain_success(
    obj: &Map<String, Value>,
    version: Option<Version>,
    cx: &Context<'_>,
) -> Decoded {
    let version = version.unwrap_or_else(|| {
        let v1 = obj.contains_key("expires_on")
            || obj.contains_key("resource")
            || obj.get("expires_in").is_some_and(Value::is_string);
        if v1 { Version::V1 } else { Version::V2 }
    });
    let pop = obj
        .get("token_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("pop"));
    let mut findings = Vec::new();
    let label = "token response";
    let mut root = Node::section(label);
    root.value = Some(if pop {
        format!("{} (PRT, token_type pop)", version.as_str())
    } else {
        version.as_str().to_string()
    });
    // The summary names the tokens, looked up directly (the same for a full and a summary-only
    // decode).
    let list: Vec<String> = SUMMARY_MEMBERS
        .iter()
        .filter_map(|k| summary_part(k, &util::json_scalar(obj.get(*k)?), pop, obj, cx))
        .collect();
    // Every member, in the usual order, for the tree (none for a summary-only decode).
    let members = if cx.summary_only {
        Vec::new()
    } else {
        jwt::ordered(obj, SUCCESS_ORDER)
    };
    for (k, v) in members {
        let text = util::json_scalar(v);
        let node = match k.as_str() {
            "token_type" => Node::field(k.clone(), &text).with_note(if pop {
                "pop: proof-of-possession; the tokens are bound to the PRT session key (MS-OAPXBC)"
            } else {
                "Bearer: whoever holds the access token can use it"
            }),
            "scope" => {
                let mut n = jwt::scope_node("scope", &text);
                n.note = Some(
                    "the scopes actually granted (may differ from those asked for)".to_string(),
                );
                n
            }
            "expires_in" => seconds_node(k, v, "lifetime of the issued token, from now"),
            "ext_expires_in" => seconds_node(
                k,
                v,
                "extended lifetime honoured while Entra ID is degraded (resilience)",
            ),
            "refresh_token_expires_in" => seconds_node(k, v, "lifetime of the refresh token"),
            "refresh_in" => seconds_node(k, v, "when the client should refresh proactively"),
            "expires_on" | "not_before" => match util::json_int(v) {
                Some(s) => Node::leaf(
                    k.clone(),
                    util::format_epoch_relative(s, cx.now),
                    Kind::Timestamp,
                )
                .with_note(if k == "expires_on" {
                    "v1: when the access token expires (epoch seconds, sent as a string)"
                } else {
                    "v1: when the access token becomes valid (epoch seconds, sent as a string)"
                }),
                None => Node::leaf(k.clone(), text, Kind::Error).with_note("not a number"),
            },
            "resource" => with_app_note(
                Node::field(k.clone(), &text).with_note("v1: the resource the access token is for"),
                &text,
            ),
            "access_token" => token_node(k, &text, Role::AccessToken, label, cx, &mut findings),
            "id_token" => token_node(k, &text, Role::IdToken, label, cx, &mut findings),
            "refresh_token" => refresh_token_node(&text, pop),
            "session_key_jwe" => {
                let mut n = token_node(k, &text, Role::Unknown, label, cx, &mut findings);
                n.note = Some(format!(
                    "the PRT session key, encrypted (RSA-OAEP) to the device transport key; {}",
                    n.note.unwrap_or_default()
                ));
                n
            }
            "client_info" => client_info_node(&text, cx),
            "foci" => {
                if text == "1" {
                    findings.push(
                        Finding::info(
                            "FOCI refresh token (foci=1): any app of the Microsoft family of \
                             client IDs can redeem it",
                        )
                        .at(format!("{label}/foci")),
                    );
                }
                Node::field(k.clone(), &text).with_note(
                    "family of client IDs: 1 = the refresh token is shared by the Microsoft app \
                     family",
                )
            }
            "tgt_ad" | "tgt_cloud" => tgt_node(k, &text, label, cx, &mut findings),
            "kerberos_top_level_names" => Node::field(k.clone(), &text)
                .with_note("Kerberos realms the cloud TGT is valid for"),
            _ => Node::field(k.clone(), &text),
        };
        root.push(node);
    }
    let head = if pop {
        format!("PRT response {} (token_type pop)", version.as_str())
    } else {
        format!("token response {}", version.as_str())
    };
    let summary = if list.is_empty() {
        head
    } else {
        format!("{head}: {}", list.join(", "))
    };
    let mut d = Decoded::new("oauth", summary, root);
    d.findings = findings;
    d
}

/// The members the one-line summary of a token response names, in the order it names them.
const SUMMARY_MEMBERS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "session_key_jwe",
];

/// What a member of [`SUMMARY_MEMBERS`] adds to the one-line summary.
fn summary_part(
    key: &str,
    text: &str,
    pop: bool,
    obj: &Map<String, Value>,
    cx: &Context<'_>,
) -> Option<String> {
    Some(match key {
        "access_token" => format!("access_token ({})", token_brief(text, cx)),
        "id_token" => format!("id_token ({})", token_brief(text, cx)),
        "refresh_token" => if pop {
            "refresh_token (PRT)"
        } else if obj.get("foci").map(util::json_scalar).as_deref() == Some("1") {
            "refresh_token (FOCI)"
        } else {
            "refresh_token"
        }
        .to_string(),
        "session_key_jwe" => format!("session_key_jwe ({})", token_brief(text, cx)),
        _ => return None,
    })
}

fn token_brief(text: &str, cx: &Context<'_>) -> String {
    match jwt::parse_limited(text, &cx.limits) {
        Ok(t) => {
            let mut b = jwt::brief(&t, cx);
            let verdict = jwt::verify(&t, cx.trust);
            if matches!(verdict, jwt::Verdict::Failed { .. }) {
                b.push_str(", ");
                b.push_str(jwt::verdict_word(&t, &verdict));
            }
            b
        }
        Err(_) => "opaque".to_string(),
    }
}

fn token_node(
    label: &str,
    text: &str,
    role: Role,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    if !jwt::looks_like_jwt(text.as_bytes()) {
        return Node::secret(label, text).with_note(format!(
            "opaque token ({} chars), not a JWT",
            text.chars().count()
        ));
    }
    let note = match role {
        Role::AccessToken => {
            "the access token, for the resource only; the client should treat it as opaque"
        }
        Role::IdToken => "the id_token: who signed in, for the client",
        _ => "a compact token",
    };
    let mut n = nested_jwt(label, text, role, note, parent, cx, findings);
    if role == Role::AccessToken
        && jwt::parse_limited(text, &cx.limits).is_ok_and(|t| t.form == Form::Jwe)
    {
        n.note = Some(format!(
            "an encrypted access token (JWE): only the resource can read it; {}",
            n.note.unwrap_or_default()
        ));
    }
    n
}

fn client_info_node(text: &str, cx: &Context<'_>) -> Node {
    let mut n = Node::field("client_info", text).with_note(
        "base64url JSON: uid = the user's object id, utid = the user's home tenant id (MSAL's \
         home account id is uid.utid)",
    );
    let decoded = util::b64_decode_any(text, 4096)
        .and_then(|b| util::parse_json(&b, "client_info", &cx.limits).ok());
    match decoded.as_ref().and_then(Value::as_object) {
        Some(m) => {
            for (k, v) in m {
                let note = match k.as_str() {
                    "uid" => Some("user object id"),
                    "utid" => Some("home tenant id of the user"),
                    _ => None,
                };
                let mut c = Node::field(k.clone(), util::json_scalar(v));
                c.note = note.map(str::to_string);
                n.push(c);
            }
        }
        None => n.push(Node::leaf("decode", "not base64url JSON", Kind::Error)),
    }
    n
}

fn tgt_node(
    label: &str,
    text: &str,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut n = Node::secret(label, text).with_note(if label == "tgt_ad" {
        "on-premises AD Kerberos TGT material for the PRT (JSON in a string)"
    } else {
        "Entra ID cloud Kerberos TGT material for the PRT (JSON in a string)"
    });
    let Ok(v) = util::parse_json(text.as_bytes(), "tgt", &cx.limits) else {
        n.push(Node::leaf("decode", "not JSON", Kind::Error));
        return n;
    };
    let path = format!("{parent}/{label}");
    if let Some(m) = v.as_object() {
        for (k, v) in m {
            let t = util::json_scalar(v);
            let c = match k.as_str() {
                "clientKey" => {
                    let mut c = token_node(k, &t, Role::Unknown, &path, cx, findings);
                    c.note = Some(format!(
                        "the TGT session key, encrypted under the PRT session key; {}",
                        c.note.unwrap_or_default()
                    ));
                    c
                }
                "messageBuffer" => Node::secret(k.clone(), &t)
                    .with_note("the Kerberos ticket (base64 KRB-CRED/AS-REP)"),
                "keyType" => Node::field(k.clone(), &t).with_note(match t.as_str() {
                    "18" => "Kerberos encryption type 18: aes256-cts-hmac-sha1-96",
                    "17" => "Kerberos encryption type 17: aes128-cts-hmac-sha1-96",
                    "23" => "Kerberos encryption type 23: rc4-hmac",
                    _ => "Kerberos encryption type",
                }),
                "realm" => Node::field(k.clone(), &t).with_note("Kerberos realm"),
                "sn" => {
                    Node::field(k.clone(), &t).with_note("service principal name of the ticket")
                }
                "cn" => Node::field(k.clone(), &t).with_note("client principal name"),
                _ => Node::field(k.clone(), &t),
            };
            n.push(c);
        }
    }
    n
}

fn explain_device_start(obj: &Map<String, Value>, _cx: &Context<'_>) -> Decoded {
    let mut root = Node::section("device code response").with_note(
        "the device-code flow has started: the user opens the URL on any device and types the \
         user code; meanwhile the client polls the token endpoint with the device code",
    );
    let s = |k: &str| obj.get(k).map(util::json_scalar);
    for (k, v) in jwt::ordered(obj, DEVICE_ORDER) {
        let text = util::json_scalar(v);
        let node = match k.as_str() {
            "user_code" => Node::field(k.clone(), &text)
                .with_note("the code the user types at the verification URL"),
            "device_code" => Node::secret(k.clone(), &text).with_note(
                "what the client polls with; whoever holds it receives the tokens once the user \
                 signs in",
            ),
            "verification_url" => Node::field(k.clone(), &text)
                .with_note("v1 name of the page where the user enters the code"),
            "verification_uri" => Node::field(k.clone(), &text)
                .with_note("v2 (RFC 8628) name of the page where the user enters the code"),
            "verification_uri_complete" => Node::field(k.clone(), &text)
                .with_note("the verification URL with the code already filled in"),
            "expires_in" => seconds_node(k, v, "how long the codes stay valid"),
            "interval" => seconds_node(k, v, "minimum wait between polls"),
            "message" => Node::text(k.clone(), &text).with_note("text to show the user"),
            _ => Node::field(k.clone(), &text),
        };
        root.push(node);
    }
    let url = s("verification_url")
        .or_else(|| s("verification_uri"))
        .unwrap_or_else(|| "?".to_string());
    let mut summary = format!(
        "device code start: open {url} and enter {}",
        s("user_code").unwrap_or_else(|| "?".to_string())
    );
    let exp = obj.get("expires_in").and_then(util::json_int);
    let every = obj.get("interval").and_then(util::json_int);
    let mut extra = Vec::new();
    if let Some(e) = exp {
        extra.push(format!(
            "expires in {}",
            util::human_duration(std::time::Duration::from_secs(e.unsigned_abs()))
        ));
    }
    if let Some(i) = every {
        extra.push(format!("poll every {i}s"));
    }
    if !extra.is_empty() {
        summary.push_str(&format!(" ({})", extra.join(", ")));
    }
    Decoded::new("oauth", summary, root)
}

fn first_line(s: &str) -> &str {
    s.split(['\r', '\n']).next().unwrap_or(s).trim()
}

fn explain_error(obj: &Map<String, Value>, status: Option<u16>) -> Decoded {
    let error = obj.get("error").map(util::json_scalar).unwrap_or_default();
    let desc = obj
        .get("error_description")
        .map(util::json_scalar)
        .unwrap_or_default();
    let code = aadsts_code(&desc).or_else(|| {
        obj.get("error_codes")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(util::json_int)
            .and_then(|c| u64::try_from(c).ok())
    });
    let label = "token error";
    let mut root = Node::section(label);
    root.value = Some(match (code, status) {
        (Some(c), Some(st)) => format!("HTTP {st} {error} AADSTS{c}"),
        (Some(c), None) => format!("{error} AADSTS{c}"),
        (None, Some(st)) => format!("HTTP {st} {error}"),
        (None, None) => error.clone(),
    });
    if let Some(c) = code {
        let mut n = Node::field("AADSTS", c.to_string());
        n.note = Some(
            aadsts_meaning(c)
                .map(str::to_string)
                .unwrap_or_else(|| "not in idscope's table; see error_uri".to_string()),
        );
        root.push(n);
    }
    for (k, v) in jwt::ordered(obj, ERROR_ORDER) {
        let text = util::json_scalar(v);
        let node = match k.as_str() {
            "error" => {
                let mut n = Node::field("error", &text);
                n.note = error_meaning(&text).map(|m| format!("RFC 6749/OIDC: {m}"));
                n
            }
            "error_description" => {
                let mut n = Node::text("error_description", first_line(&text))
                    .with_note("human-readable; the first line starts with the AADSTS code");
                for line in text.split("\r\n").flat_map(|l| l.split('\n')).skip(1) {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    n.push(match line.split_once(": ") {
                        Some((name, value)) => Node::field(name, value),
                        None => Node::text("line", line),
                    });
                }
                n
            }
            "error_codes" => {
                let mut n = Node::field("error_codes", &text);
                if let Some(a) = v.as_array() {
                    for c in a.iter().take(50) {
                        let mut cn = Node::field("code", util::json_scalar(c));
                        cn.note = util::json_int(c)
                            .and_then(|c| u64::try_from(c).ok())
                            .and_then(aadsts_meaning)
                            .map(str::to_string);
                        n.push(cn);
                    }
                }
                n
            }
            "suberror" => {
                let mut n = Node::field("suberror", &text);
                n.note = suberror_meaning(&text).map(str::to_string);
                n
            }
            "claims" => Node::field("claims", &text).with_note(
                "conditional-access claims challenge: the client must send these claims back \
                 through an interactive sign-in",
            ),
            "trace_id" => Node::field(k.clone(), &text)
                .with_note("Entra ID's request id: quote it to Microsoft support"),
            "correlation_id" => Node::field(k.clone(), &text)
                .with_note("the client-request-id the client sent, or one Entra ID made up"),
            "timestamp" => {
                Node::field(k.clone(), &text).with_note("server time of the error (UTC)")
            }
            "error_uri" => {
                Node::field(k.clone(), &text).with_note("Microsoft's page for this code")
            }
            _ => Node::field(k.clone(), &text),
        };
        root.push(node);
    }
    let meaning = code
        .and_then(aadsts_meaning)
        .map(str::to_string)
        .or_else(|| {
            let l = first_line(&desc);
            let l = l.split_once(": ").map(|(_, r)| r).unwrap_or(l);
            (!l.is_empty()).then(|| util::ellipsize(l, 100))
        })
        .or_else(|| error_meaning(&error).map(str::to_string))
        .unwrap_or_default();
    let summary = match code {
        Some(c) => format!("AADSTS{c} {error}: {meaning}"),
        None => format!("{error}: {meaning}"),
    };
    // Polling states of the device flow are expected answers, not failures.
    let severity = match error.as_str() {
        "authorization_pending" | "slow_down" => Severity::Info,
        _ => Severity::Error,
    };
    let d = Decoded::new("oauth", summary.clone(), root);
    d.with_finding(Finding::new(severity, summary).at(label))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let rest = text.get(i..)?;
    rest.get(..rest.find(end)?)
}

/// Explains an HTML page served by the token endpoint (an error page), extracting the AADSTS
/// message when there is one.
pub fn explain_html(text: &str, status: Option<u16>) -> Decoded {
    let label = "token endpoint HTML page";
    let mut root = Node::section(label).with_note(
        "the token endpoint answered with HTML instead of JSON: an error page meant for a browser",
    );
    root.value = status.map(|s| format!("HTTP {s}"));
    if let Some(t) = between(text, "<title>", "</title>") {
        root.push(Node::field("title", decode_entities(t.trim())));
    }
    let code = aadsts_code(text);
    let message = text.find("AADSTS").and_then(|i| text.get(i..)).map(|m| {
        let end = m.find(['<', '"', '\n', '\r']).unwrap_or(m.len());
        decode_entities(m.get(..end).unwrap_or(m).trim())
    });
    if let Some(c) = code {
        let mut n = Node::field("AADSTS", c.to_string());
        n.note = Some(
            aadsts_meaning(c)
                .map(str::to_string)
                .unwrap_or_else(|| "not in idscope's table".to_string()),
        );
        root.push(n);
    }
    if let Some(m) = &message {
        root.push(Node::text("message", util::ellipsize(m, 400)));
    }
    root.push(
        Node::leaf("html", util::ellipsize(text, 4000), Kind::Markup)
            .with_note(format!("{} bytes", text.len())),
    );
    let summary = match (&message, code) {
        (Some(m), _) => format!("HTML error page: {}", util::ellipsize(m, 120)),
        (None, _) => "HTML page from the token endpoint (no AADSTS code)".to_string(),
    };
    let mut d = Decoded::new("oauth", summary.clone(), root);
    if code.is_some() || status.is_some_and(|s| s >= 400) {
        d.findings.push(Finding::error(summary).at(label));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trust;
    use std::time::{Duration, UNIX_EPOCH};

    fn form(s: &str) -> Vec<(String, String)> {
        util::parse_form(s.as_bytes())
    }

    #[test]
    fn jwt_bearer_variants_are_told_apart_by_request_or_assertion() {
        let ep = Some(Endpoint::Token(Version::V1));
        let g = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
        assert_eq!(
            classify(&form(&format!("{g}&request=x")), ep),
            Grant::SignedRequest
        );
        assert_eq!(
            classify(
                &form(&format!("{g}&assertion=x&requested_token_use=on_behalf_of")),
                ep
            ),
            Grant::OnBehalfOf
        );
        assert_eq!(
            classify(&form(&format!("{g}&assertion=x")), ep),
            Grant::JwtAssertion
        );
        assert_eq!(
            classify(&form("grant_type=device_code"), ep),
            Grant::DeviceCode
        );
        assert_eq!(
            classify(
                &form("client_id=x"),
                Some(Endpoint::DeviceCode(Version::V2))
            ),
            Grant::DeviceCodeStart
        );
    }

    #[test]
    fn endpoints_are_found_by_path_not_host() {
        assert_eq!(
            endpoint("/common/oauth2/token"),
            Some(Endpoint::Token(Version::V1))
        );
        assert_eq!(
            endpoint("/x/oauth2/v2.0/token/"),
            Some(Endpoint::Token(Version::V2))
        );
        assert_eq!(
            endpoint("/adfs/oauth2/token/"),
            Some(Endpoint::Token(Version::V1))
        );
        assert_eq!(
            endpoint("/common/oauth2/DeviceCode"),
            Some(Endpoint::DeviceCode(Version::V1))
        );
        assert_eq!(endpoint("/common/oauth2/authorize"), None);
    }

    #[test]
    fn aadsts_code_is_extracted_without_a_regex() {
        assert_eq!(aadsts_code("AADSTS50126: Error validating"), Some(50126));
        assert_eq!(aadsts_code("x AADSTS9002313: y"), Some(9002313));
        assert_eq!(aadsts_code("AADSTS: none"), None);
        assert_eq!(aadsts_code("no code"), None);
    }

    #[test]
    fn password_is_secret_and_flagged() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let f = form(
            "grant_type=password&username=a%40b&password=hunter2&resource=https%3A%2F%2Fgraph.windows.net&client_id=1b730954-1685-4b74-9bfd-dac224a7b894",
        );
        let d = explain_request(
            &f,
            Some(Endpoint::Token(Version::V1)),
            "/common/oauth2/token",
            &cx,
        );
        let pw = d.root.child("password").unwrap();
        assert_eq!(pw.kind, Kind::Secret);
        assert_eq!(d.worst(), Some(Severity::Warning));
        assert_eq!(
            d.summary,
            "ROPC token request v1 client=1b730954… resource=https://graph.windows.net user=a@b"
        );
    }

    #[test]
    fn refresh_tokens_are_never_parsed_as_jwts() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        // A JWT-shaped refresh token stays one opaque secret without children.
        let v = serde_json::json!({"token_type":"Bearer","refresh_token":"eyJhbGciOiJub25lIn0.eyJhIjoxfQ."});
        let d = explain_response(&v, Some(Version::V2), Some(200), &cx).unwrap();
        let rt = d.root.child("refresh_token").unwrap();
        assert_eq!(rt.kind, Kind::Secret);
        assert!(rt.children.is_empty());
    }

    #[test]
    fn pending_device_poll_is_info_not_error() {
        let v = serde_json::json!({"error":"authorization_pending","error_description":"AADSTS70016: pending","error_codes":[70016]});
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let d = explain_response(&v, None, Some(400), &cx).unwrap();
        assert_eq!(d.worst(), Some(Severity::Info));
        assert_eq!(
            d.summary,
            "AADSTS70016 authorization_pending: device flow: authorization pending"
        );
    }

    #[test]
    fn truncated_and_mutated_inputs_never_panic() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let inputs = [
            include_str!("../tests/fixtures/oauth/ropc_v1_response.http"),
            include_str!("../tests/fixtures/oauth/prt_jwt_bearer_request.http"),
            include_str!("../tests/fixtures/oauth/prt_pop_response.http"),
            include_str!("../tests/fixtures/oauth/error_50076_mfa_required.http"),
            include_str!("../tests/fixtures/oauth/error_html_page.http"),
            include_str!("../tests/fixtures/jwt/jwe_5_segments.http"),
        ];
        for text in inputs {
            let msg = crate::OwnedMessage::parse_http_text(text).unwrap();
            let body = msg.body.clone();
            for cut in (0..body.len()).step_by(13) {
                for variant in [body[..cut].to_vec(), {
                    let mut b = body.clone();
                    b[cut] ^= 0x5a;
                    b
                }] {
                    let mut m = msg.clone();
                    m.body = variant;
                    for d in [&OAuth as &dyn Decoder, &jwt::Jwt] {
                        let m = m.as_message();
                        if d.priority(&m) > 0.0 {
                            let _ = d.decode(&m, &cx);
                        }
                        let _ = d.decode(&m, &cx);
                    }
                }
            }
        }
    }
}
