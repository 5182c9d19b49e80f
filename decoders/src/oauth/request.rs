//! The view of a token request ([`explain_request`]): each form field, credentials as secrets,
//! nested JWTs (client assertions, signed PRT requests) and SAML assertions decoded as children,
//! and the one-line summary.
//!
//! It is *not* responsible for classifying the grant (`grants`) or for responses.

use super::assertion;
use super::grants::{Endpoint, Grant, Version, classify};
use super::tokens::{nested_jwt, nested_jwt_token, refresh_token_node, with_app_note};
use crate::jwt::{self, Role};
use crate::util::{self, short_id};
use crate::view::{Finding, Kind, Node};
use crate::{Context, Decoded};

/// Explains a token-endpoint request from its form fields (in wire order); `url` is where it
/// was sent (an absolute URL, or the path alone when that is all there is), against which a
/// client assertion's audience is checked.
pub fn explain_request(
    form: &[(String, String)],
    ep: Option<Endpoint>,
    url: &str,
    cx: &Context<'_>,
) -> Decoded {
    let path = util::url_path(url);
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
    let mut assertion: Option<jwt::Token> = None;
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
            "client_assertion" => {
                let (node, token) = nested_jwt_token(
                    k,
                    v,
                    Role::ClientAssertion,
                    "the client's proof of identity: a JWT signed with the app's certificate key \
                     (header x5t or x5t#S256 names the certificate)",
                    &root.label,
                    cx,
                    &mut findings,
                );
                assertion = assertion.or(token);
                node
            }
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
    if let Some(token) = &assertion {
        let req = assertion::Request {
            url,
            client_id: get("client_id"),
            resource: requested_resource(&get),
        };
        let at = format!("{}/client_assertion", root.label);
        let section = assertion::explain(token, &req, cx, &at, &mut findings);
        // After the endpoint: who authenticates comes before the fields in wire order.
        let at_index = root.children.len().min(1);
        root.children.insert(at_index, section);
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
    let mut summary = request_summary(&grant, &get, inner.as_ref(), version);
    if assertion.is_some()
        && let Some(name) = requested_resource(&get).and_then(jwt::well_known_app)
    {
        summary.push_str(&format!(" ({name})"));
    }
    let mut d = Decoded::new("oauth", summary, root);
    d.findings = findings;
    d
}

/// The resource a request asks for: `resource`, else the resource of a `…/.default` scope.
fn requested_resource<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
    get("resource").or_else(|| get("scope").and_then(assertion::resource_of_scope))
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
        // Seamless SSO's DesktopSsoToken in its assertion wrapper (the SAML decoder explains it).
        Grant::Saml11Bearer
            if get("assertion")
                .and_then(|a| util::b64_decode_any(a, 1 << 20))
                .is_some_and(|x| util::contains(&x, b"<DesktopSsoToken>")) =>
        {
            "SAML 1.1 bearer (Seamless SSO DesktopSsoToken) token request".to_string()
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

fn saml_assertion_node(
    v: &str,
    grant: &Grant,
    parent: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    if let Some(n) = crate::secrets::redacted_node("assertion", v) {
        return n;
    }
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
