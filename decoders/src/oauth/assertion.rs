//! The client assertion of a token request (RFC 7523 §2.2, OpenID Connect `private_key_jwt`,
//! Entra ID's "certificate credentials"), explained as the section `client authentication`:
//! which application authenticates (the assertion's `iss` and `sub`, the form's `client_id`),
//! for which resource, with which certificate (the header's `alg` with `x5t`, `x5t#S256` or
//! `x5c`, and the certificate the thumbprint names among those the user gave, those learned from
//! the capture and those seen in it), to which audience and for how long.
//!
//! The checks are those Entra ID makes, with the AADSTS code it answers: `iss` = `sub` =
//! `client_id` (AADSTS50048, AADSTS700021), `aud` naming this tenant's token endpoint
//! (AADSTS700023; Microsoft documents the v2 endpoint, its own example carries the v1 one, and
//! either version's endpoint of the tenant is accepted), the validity window (AADSTS700024; the
//! claims view reports expiry itself), a certificate the header names (AADSTS700027 when it is
//! not registered). Microsoft advises 5–10 minutes of lifetime and a unique `jti`; a longer
//! lifetime and a missing `jti` are warnings. Whether a `jti` repeats across the capture is a
//! cross-flow check of the analysis, not of this view.
//!
//! Entra Connect Sync with application identity is named as such: its client is an application
//! registered in the customer's tenant (the id in `iss`), and the Microsoft Entra AD
//! Synchronization Service (`6bf85cfa-ac8a-4be5-b5de-425a0d0dc016`) is the resource it asks for,
//! whose token carries the app role `ADSynchronization.ReadWrite.All`.
//!
//! It is *not* responsible for the JWT's own view (header, claims, signature verdict: `jwt`).

use serde_json::Value;

use super::grants::Version;
use crate::jwt::{self, Token};
use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::{Context, Trust, x509};

/// The sync service Entra Connect Sync calls with application identity (every cloud).
pub const SYNC_SERVICE: &str = "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016";
/// The app role Entra Connect Sync's application holds on the sync service.
pub const SYNC_ROLE: &str = "ADSynchronization.ReadWrite.All";
/// The password reset service (password writeback), outside the Arlington cloud.
const PASSWORD_RESET_SERVICE: &str = "93625bc8-bfe2-437a-97e0-3d0060024faa";
/// The password reset service in the Arlington (US Government) cloud.
const PASSWORD_RESET_SERVICE_ARLINGTON: &str = "2e5ecfc8-ea79-48bd-8140-c19324acb278";
/// The lifetime Microsoft advises as the most for a client assertion (5–10 minutes).
const MAX_ADVISED_LIFETIME: i64 = 600;

/// What the rest of the token request says that the assertion is checked against.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request<'a> {
    /// The URL the request was sent to (or its path, when that is all the message has).
    pub url: &'a str,
    /// The form's `client_id`.
    pub client_id: Option<&'a str>,
    /// The resource asked for: `resource`, or the resource of a `…/.default` scope.
    pub resource: Option<&'a str>,
}

/// The resource a v2 scope list names with `/.default` (the first one).
pub(super) fn resource_of_scope(scope: &str) -> Option<&str> {
    scope
        .split_whitespace()
        .find_map(|s| s.strip_suffix("/.default"))
        .filter(|r| !r.is_empty())
}

/// A name for an app id or resource: Microsoft's well-known ones.
fn app_name(id: &str) -> Option<&'static str> {
    jwt::well_known_app(id)
}

/// Whether `resource` (an app id, or an app id URI) is `app`.
fn is_app(resource: &str, app: &str) -> bool {
    let r = resource.trim_end_matches('/').to_ascii_lowercase();
    r == app || r.strip_prefix("api://") == Some(app)
}

/// What the resource is in Entra Connect Sync's world, when it is one of its services.
fn connect_sync_role(resource: &str) -> Option<&'static str> {
    if is_app(resource, SYNC_SERVICE) {
        Some(
            "the sync service Entra Connect Sync calls with application identity (Connect Sync \
             2.5 and later): its access token must carry the app role \
             ADSynchronization.ReadWrite.All granted to the client",
        )
    } else if is_app(resource, PASSWORD_RESET_SERVICE)
        || is_app(resource, PASSWORD_RESET_SERVICE_ARLINGTON)
    {
        Some(
            "password writeback: Entra Connect Sync's application holds the app roles \
             PasswordWriteback.OffboardClient.All, .RegisterClientVersion.All and \
             .RefreshClient.All on this service",
        )
    } else {
        None
    }
}

/// The section `client authentication` of a token request carrying `token` as its client
/// assertion; findings point into the assertion node at `at` (`token request/client_assertion`).
pub(super) fn explain(
    token: &Token,
    req: &Request<'_>,
    cx: &Context<'_>,
    at: &str,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut sec = Node::section("client authentication");
    sec.value = Some("certificate assertion (private_key_jwt)".to_string());
    sec.note = Some(
        "the client proves who it is with a JWT signed by the private key of a certificate \
         registered on its application (RFC 7523, Entra ID certificate credentials)"
            .to_string(),
    );
    sec.push(application_node(token, req, at, findings));
    if let Some(r) = req.resource {
        sec.push(resource_node(r));
    }
    sec.push(certificate_node(token, cx.trust, at, findings));
    sec.push(audience_node(token, req, at, findings));
    sec.push(lifetime_node(token, cx, at, findings));
    sec.push(jti_node(token, at, findings));
    sec
}

fn application_node(
    token: &Token,
    req: &Request<'_>,
    at: &str,
    findings: &mut Vec<Finding>,
) -> Node {
    let iss = token.claim_str("iss");
    let sub = token.claim_str("sub");
    match (&iss, &sub) {
        (Some(i), Some(s)) if i != s => findings.push(
            Finding::error(format!(
                "client assertion iss {i} is not its sub {s}: both must be the client id \
                 (Entra ID answers AADSTS50048, subject mismatches issuer)"
            ))
            .at(format!("{at}/claims/sub")),
        ),
        (None, _) | (_, None) => findings.push(
            Finding::error(format!(
                "client assertion without {}: iss and sub must both be the client id",
                if iss.is_none() { "iss" } else { "sub" }
            ))
            .at(format!("{at}/claims")),
        ),
        _ => {}
    }
    if let (Some(i), Some(c)) = (&iss, req.client_id)
        && !i.eq_ignore_ascii_case(c)
    {
        findings.push(
            Finding::error(format!(
                "client assertion iss {i} is not the request's client_id {c} (Entra ID answers \
                 AADSTS700021, the assertion's application identifier does not match client_id)"
            ))
            .at(format!("{at}/claims/iss")),
        );
    }
    let id = iss.clone().or_else(|| req.client_id.map(str::to_string));
    let Some(id) = id else {
        return Node::leaf("application", "(not named)", Kind::Error)
            .with_note("neither iss nor client_id names the application");
    };
    let sync = req.resource.is_some_and(|r| connect_sync_role(r).is_some());
    let note = match app_name(&id) {
        Some(name) => format!("{name} (a Microsoft application)"),
        None if sync => "an application registered in the customer's tenant: Entra Connect \
                         Sync's own application (its registration holds the certificate; \
                         Connect Sync shows its id under \"View or export current \
                         configuration\")"
            .to_string(),
        None => "an application registered in the tenant (iss = sub = client id)".to_string(),
    };
    Node::field("application", id).with_note(note)
}

fn resource_node(resource: &str) -> Node {
    let name = app_name(resource);
    let value = match name {
        Some(n) => format!("{resource} ({n})"),
        None => resource.to_string(),
    };
    let note = match (connect_sync_role(resource), name) {
        (Some(role), _) => role.to_string(),
        (None, Some(_)) => "the API the access token is for (a Microsoft service)".to_string(),
        (None, None) => "the API the access token is for".to_string(),
    };
    Node::field("resource", value).with_note(note)
}

/// The header's thumbprints, checked against its own `x5c` and against the certificates known.
fn certificate_node(token: &Token, trust: &Trust, at: &str, findings: &mut Vec<Finding>) -> Node {
    let alg = token.alg().unwrap_or("(none)");
    let x5t = token.header_str("x5t");
    let s256 = token.header_str("x5t#S256");
    let leaf = jwt::x5c_leaf(token).and_then(|d| x509::Certificate::parse(&d).ok());
    let (value, note) = match (alg, x5t, s256) {
        ("PS256", _, Some(_)) => (
            "PS256 with x5t#S256",
            "RSASSA-PSS and the certificate's SHA-256 thumbprint: what Microsoft documents for \
             certificate credentials (MSAL when it knows the certificate)",
        ),
        ("RS256", Some(_), _) => (
            "RS256 with x5t",
            "RSASSA-PKCS1-v1_5 and the certificate's SHA-1 thumbprint: the fallback (MSAL given \
             only a SHA-1 thumbprint, ADFS, older libraries)",
        ),
        _ => ("", ""),
    };
    let mut node = if value.is_empty() {
        let mut what = format!("{alg} with ");
        what.push_str(match (x5t, s256, &leaf) {
            (Some(_), Some(_), _) => "x5t and x5t#S256",
            (Some(_), None, _) => "x5t",
            (None, Some(_), _) => "x5t#S256",
            (None, None, Some(_)) => "x5c only",
            (None, None, None) => "no certificate named",
        });
        Node::field("certificate", what)
    } else {
        Node::field("certificate", value).with_note(note)
    };
    if x5t.is_none() && s256.is_none() && leaf.is_none() {
        findings.push(
            Finding::error(
                "the client assertion's header names no certificate (no x5t, x5t#S256 or x5c): \
                 Entra ID cannot find the key to check it with (AADSTS700027)",
            )
            .at(format!("{at}/header")),
        );
    } else if !matches!(alg, "RS256" | "PS256") {
        findings.push(
            Finding::warning(format!(
                "client assertion signed with {alg}: Entra ID certificate credentials are RSA \
                 keys signing with RS256 or PS256"
            ))
            .at(format!("{at}/header/alg")),
        );
    } else if value.is_empty() {
        findings.push(
            Finding::info(format!(
                "{alg} with {}: MSAL pairs PS256 with x5t#S256 and RS256 with x5t",
                if s256.is_some() { "x5t#S256" } else { "x5t" }
            ))
            .at(format!("{at}/header/alg")),
        );
    }
    let mut named_any = false;
    for (param, text, hash_len) in [("x5t", x5t, 20), ("x5t#S256", s256, 32)] {
        let Some(text) = text else { continue };
        let Some(digest) = util::b64_decode_any(text, 64).filter(|d| d.len() == hash_len) else {
            findings.push(
                Finding::error(format!(
                    "header {param} is not base64url of a {hash_len}-byte thumbprint"
                ))
                .at(format!("{at}/header/{param}")),
            );
            continue;
        };
        let hex = util::hex_lower(&digest);
        let thumb = |c: &x509::Certificate| -> Vec<u8> {
            if hash_len == 20 {
                c.sha1.to_vec()
            } else {
                c.sha256.to_vec()
            }
        };
        if let Some(l) = &leaf
            && thumb(l) != digest
        {
            findings.push(
                Finding::error(format!(
                    "header {param} ({hex}) is not the thumbprint of its own x5c certificate \
                     ({}, {}): the header names two different certificates",
                    l.subject,
                    util::hex_lower(&thumb(l))
                ))
                .at(format!("{at}/header/{param}")),
            );
        }
        let known = known_certificates(trust)
            .into_iter()
            .find(|(c, _, _)| thumb(c) == digest);
        let row = match &known {
            Some((c, source, trusted)) => {
                named_any = true;
                let how = if *trusted {
                    "a trusted certificate"
                } else {
                    "seen in the capture, not trusted"
                };
                Node::field(param, format!("{} from {source}", c.subject))
                    .with_note(format!("{how}; thumbprint {hex}"))
            }
            None => match &leaf {
                _ if let Some(k) = trust
                    .keys
                    .iter()
                    .find(|k| k.jwk.get(param).and_then(Value::as_str) == Some(text)) =>
                {
                    named_any = true;
                    Node::field(param, format!("a trusted key from {}", k.source)).with_note(
                        format!("a JWK whose {param} is this thumbprint; thumbprint {hex}"),
                    )
                }
                Some(l) if thumb(l) == digest => {
                    named_any = true;
                    Node::field(param, format!("{} (its x5c)", l.subject)).with_note(format!(
                        "the certificate in the header itself: it identifies the key, it does \
                         not make it trusted; thumbprint {hex}"
                    ))
                }
                _ if let Some(pin) = trust
                    .thumbprints
                    .iter()
                    .find(|p| p.thumbprint.as_bytes() == digest.as_slice()) =>
                {
                    named_any = true;
                    Node::field(param, format!("{hex} (pinned by {})", pin.source)).with_note(
                        "a pinned thumbprint: give the certificate itself with --trust-cert to \
                         verify the signature",
                    )
                }
                _ => Node::field(param, format!("{hex} (no certificate known)")).with_note(
                    "give the application's certificate with --trust-cert to name it and \
                     verify the signature",
                ),
            },
        };
        node.push(row);
    }
    let given: Vec<&str> = trust.given_certs().map(|c| c.source.as_str()).collect();
    if !named_any && (x5t.is_some() || s256.is_some()) && !given.is_empty() {
        findings.push(
            Finding::warning(format!(
                "the client assertion's thumbprint names none of the {} certificates given ({}): \
                 it was signed with another certificate; Entra ID answers AADSTS700027 when that \
                 one is not registered on the application",
                given.len(),
                given.join(", ")
            ))
            .at(format!(
                "{at}/header/{}",
                if x5t.is_some() { "x5t" } else { "x5t#S256" }
            )),
        );
    }
    node
}

/// The certificates a thumbprint may name: the trusted ones, then those seen in the capture;
/// each with its source and whether it is trusted.
fn known_certificates(trust: &Trust) -> Vec<(x509::Certificate, String, bool)> {
    trust
        .certs
        .iter()
        .map(|c| (c, true))
        .chain(trust.seen_certs.iter().map(|c| (c, false)))
        .filter_map(|(c, trusted)| {
            x509::Certificate::parse(&c.der)
                .ok()
                .map(|p| (p, c.source.clone(), trusted))
        })
        .collect()
}

/// A token endpoint URL split into what the audience check compares.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    host: Option<String>,
    tenant: String,
    version: Version,
}

/// `https://host/{tenant}/oauth2[/v2.0]/token` (or the path alone).
fn parse_endpoint(url: &str) -> Option<Endpoint> {
    let path = util::url_path(url).trim_end_matches('/');
    let mut segs = path.trim_start_matches('/').split('/');
    let tenant = segs.next()?.to_string();
    let rest: Vec<String> = segs.map(str::to_ascii_lowercase).collect();
    let version = match rest
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["oauth2", "token"] => Version::V1,
        ["oauth2", "v2.0", "token"] => Version::V2,
        _ => return None,
    };
    Some(Endpoint {
        host: util::url_host(url),
        tenant,
        version,
    })
}

fn audience_node(token: &Token, req: &Request<'_>, at: &str, findings: &mut Vec<Finding>) -> Node {
    let path = format!("{at}/claims/aud");
    let aud = match token.claim("aud") {
        Some(Value::String(a)) => a.as_str(),
        Some(Value::Array(_)) => {
            findings.push(
                Finding::error(
                    "client assertion aud is an array: Entra ID takes a single string, the token \
                     endpoint (it answers AADSTS50027, invalid JWT)",
                )
                .at(path),
            );
            return Node::leaf("audience", "an array", Kind::Error);
        }
        _ => {
            findings.push(
                Finding::error("client assertion without aud: it must name the token endpoint")
                    .at(path),
            );
            return Node::leaf("audience", "(none)", Kind::Error);
        }
    };
    let here = parse_endpoint(req.url);
    let there = parse_endpoint(aud);
    let refused = |why: String| {
        Finding::error(format!(
            "client assertion aud {aud} {why}: Entra ID answers AADSTS700023 (the audience does \
             not match the tenant's token service)"
        ))
        .at(path.clone())
    };
    let node = Node::field("audience", aud);
    let (Some(here), Some(there)) = (here, there) else {
        if parse_endpoint(aud).is_none() {
            findings.push(refused("is not a token endpoint URL".to_string()));
            return node.with_note("must be the token endpoint the assertion is sent to");
        }
        return node.with_note("the token endpoint this request went to is not known");
    };
    if let (Some(a), Some(b)) = (&there.host, &here.host)
        && a != b
    {
        findings.push(
            Finding::warning(format!(
                "client assertion aud names host {a}, the request went to {b}"
            ))
            .at(path),
        );
        return node.with_note("another host than the one the request went to");
    }
    if !there.tenant.eq_ignore_ascii_case(&here.tenant) {
        let comparable = util::is_guid(&there.tenant) == util::is_guid(&here.tenant);
        if comparable {
            findings.push(refused(format!(
                "names tenant {}, the request went to tenant {}",
                there.tenant, here.tenant
            )));
            return node.with_note("another tenant's token endpoint");
        }
        findings.push(
            Finding::warning(format!(
                "client assertion aud names tenant {}, the request tenant {}: Entra ID accepts it \
                 only when both name the same tenant (AADSTS700023 otherwise)",
                there.tenant, here.tenant
            ))
            .at(path),
        );
        return node.with_note(
            "a tenant id and a domain: the same tenant only if the domain is the tenant's",
        );
    }
    if there.version == here.version {
        return node.with_note(format!(
            "this {} token endpoint, as it must be",
            here.version.as_str()
        ));
    }
    findings.push(
        Finding::info(format!(
            "client assertion aud is the {} token endpoint, the request went to the {} one: \
             Entra ID accepts the token endpoint of either version of the tenant (Microsoft \
             documents the v2 form; its own example assertion, like ADAL, carries the v1 form)",
            there.version.as_str(),
            here.version.as_str()
        ))
        .at(path),
    );
    node.with_note(format!(
        "the {} token endpoint of the same tenant: accepted",
        there.version.as_str()
    ))
}

fn lifetime_node(token: &Token, cx: &Context<'_>, at: &str, findings: &mut Vec<Finding>) -> Node {
    let exp = token.claim("exp").and_then(util::json_int);
    let start = token
        .claim("nbf")
        .and_then(util::json_int)
        .map(|n| ("nbf", n))
        .or_else(|| {
            token
                .claim("iat")
                .and_then(util::json_int)
                .map(|i| ("iat", i))
        });
    let Some(exp) = exp else {
        findings.push(
            Finding::error("client assertion without exp: RFC 7523 §3 requires one")
                .at(format!("{at}/claims")),
        );
        return Node::leaf("lifetime", "no exp", Kind::Error);
    };
    let now = util::epoch_secs(cx.now);
    let window = if exp <= now {
        "expired at the time of the capture: Entra ID answers AADSTS700024 (not within its valid \
         time range)"
    } else if start.is_some_and(|(_, s)| s > now.saturating_add(300)) {
        "not yet valid at the time of the capture: Entra ID answers AADSTS700024"
    } else {
        "valid at the time of the capture"
    };
    let Some((from, start)) = start else {
        return Node::field("lifetime", "unknown (no nbf or iat)")
            .with_note(format!("until exp; {window}"));
    };
    let secs = exp.saturating_sub(start);
    let text = util::human_duration(std::time::Duration::from_secs(secs.unsigned_abs()));
    if secs > MAX_ADVISED_LIFETIME {
        findings.push(
            Finding::warning(format!(
                "client assertion valid for {text} ({from} to exp): Microsoft advises 5–10 \
                 minutes; whoever captures it can use it until it expires"
            ))
            .at(format!("{at}/claims/exp")),
        );
    }
    Node::field("lifetime", format!("{text} ({secs} s, {from} to exp)")).with_note(window)
}

fn jti_node(token: &Token, at: &str, findings: &mut Vec<Finding>) -> Node {
    match token.claim_str("jti") {
        Some(j) => Node::field("jti", j).with_note(
            "unique id of this assertion: a second assertion with the same jti is a replay \
             (checked across the capture by the stories)",
        ),
        None => {
            findings.push(
                Finding::warning(
                    "client assertion without jti: Microsoft asks for a unique GUID, which lets \
                     a server refuse a replayed assertion",
                )
                .at(format!("{at}/claims")),
            );
            Node::leaf("jti", "(none)", Kind::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::super::{Endpoint, explain_request};
    use super::*;
    use crate::Decoded;
    use crate::view::Severity;
    use crate::xml::dsig::TrustedCert;

    const NOW: u64 = 1_700_000_000;
    const TENANT: &str = "4d3c2b1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    const CLIENT: &str = "0f5a7c3e-9b1d-4e2a-8c6f-1d3e5a7b9c0d";

    fn v2() -> String {
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
    }

    fn v1() -> String {
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/token")
    }

    /// A compact JWS of `header` and `claims` (the signature is not checked here).
    fn jws(header: Value, claims: Value) -> String {
        let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.AAAA", enc(header), enc(claims))
    }

    fn claims() -> Value {
        json!({"aud": v2(), "iss": CLIENT, "sub": CLIENT, "iat": NOW - 10, "exp": NOW + 590,
               "jti": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"})
    }

    fn header() -> Value {
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": URL_SAFE_NO_PAD.encode([7u8; 32])})
    }

    /// The request at `url` with `assertion` and `extra` form fields, decoded at `now`.
    fn decode_at(
        url: &str,
        assertion: &str,
        extra: &[(&str, &str)],
        now: u64,
        trust: &Trust,
    ) -> Decoded {
        let mut form: Vec<(String, String)> = vec![
            ("client_id".into(), CLIENT.into()),
            (
                "client_assertion_type".into(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            ("client_assertion".into(), assertion.into()),
        ];
        form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        if !form.iter().any(|(k, _)| k == "grant_type") {
            form.push(("grant_type".into(), "client_credentials".into()));
        }
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(now), trust);
        let ep = super::super::endpoint(util::url_path(url));
        assert!(matches!(ep, Some(Endpoint::Token(_))));
        explain_request(&form, ep, url, &cx)
    }

    fn decode(assertion: &str, extra: &[(&str, &str)]) -> Decoded {
        decode_at(&v2(), assertion, extra, NOW, &Trust::default())
    }

    /// Messages of the findings at least as severe as `at_least`.
    fn messages(d: &Decoded, at_least: Severity) -> Vec<String> {
        d.findings
            .iter()
            .filter(|f| f.severity >= at_least)
            .map(|f| f.message.clone())
            .collect()
    }

    fn row<'a>(d: &'a Decoded, label: &str) -> &'a Node {
        d.root
            .child("client authentication")
            .and_then(|s| s.child(label))
            .unwrap_or_else(|| panic!("no {label} in {:#?}", d.root))
    }

    #[test]
    fn a_fresh_assertion_has_no_problem_and_the_same_one_later_is_expired() {
        let a = jws(header(), claims());
        let fresh = decode(
            &a,
            &[("scope", "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016/.default")],
        );
        assert_eq!(messages(&fresh, Severity::Warning), Vec::<String>::new());
        assert_eq!(
            row(&fresh, "lifetime").note.as_deref(),
            Some("valid at the time of the capture")
        );
        let later = decode_at(&v2(), &a, &[], NOW + 3600, &Trust::default());
        let errors = messages(&later, Severity::Error);
        assert!(
            errors.iter().any(|m| m.starts_with("expired: exp")),
            "{errors:?}"
        );
        assert!(
            row(&later, "lifetime")
                .note
                .as_deref()
                .unwrap()
                .contains("AADSTS700024"),
            "{:?}",
            row(&later, "lifetime")
        );
        let early = decode_at(&v2(), &a, &[], NOW - 3600, &Trust::default());
        assert!(
            row(&early, "lifetime")
                .note
                .as_deref()
                .unwrap()
                .starts_with("not yet valid"),
        );
    }

    #[test]
    fn a_lifetime_over_ten_minutes_is_a_warning() {
        for (lifetime, warned) in [(600, false), (601, true), (86_400, true)] {
            let mut c = claims();
            c["exp"] = json!(NOW - 10 + lifetime);
            let d = decode(&jws(header(), c), &[]);
            let w = messages(&d, Severity::Warning);
            assert_eq!(
                w.iter()
                    .any(|m| m.contains("Microsoft advises 5–10 minutes")),
                warned,
                "{lifetime}: {w:?}"
            );
        }
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        let d = decode(&jws(header(), c), &[]);
        assert!(
            messages(&d, Severity::Error)
                .contains(&"client assertion without exp: RFC 7523 §3 requires one".to_string())
        );
    }

    #[test]
    fn aud_must_name_this_tenants_token_endpoint_of_either_version() {
        let with_aud = |aud: Value, url: &str| {
            let mut c = claims();
            c["aud"] = aud;
            decode_at(url, &jws(header(), c), &[], NOW, &Trust::default())
        };
        let same = with_aud(json!(v2()), &v2());
        assert_eq!(
            row(&same, "audience").note.as_deref(),
            Some("this v2 token endpoint, as it must be")
        );
        // The v1 endpoint's aud at v2 and the other way round: accepted, said as information.
        for (aud, url) in [(v1(), v2()), (v2(), v1())] {
            let d = with_aud(json!(aud), &url);
            assert_eq!(messages(&d, Severity::Warning), Vec::<String>::new());
            assert!(
                d.findings.iter().any(|f| f.severity == Severity::Info
                    && f.message
                        .contains("accepts the token endpoint of either version")),
                "{:?}",
                d.findings
            );
        }
        let other = "https://login.microsoftonline.com/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/oauth2/v2.0/token";
        let d = with_aud(json!(other), &v2());
        assert!(
            messages(&d, Severity::Error)
                .iter()
                .any(|m| m.contains("AADSTS700023")),
            "{:?}",
            d.findings
        );
        // A domain and a tenant id cannot be compared: a warning, not an error.
        let domain = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
        let d = with_aud(json!(domain), &v2());
        assert_eq!(messages(&d, Severity::Error), Vec::<String>::new());
        assert_eq!(messages(&d, Severity::Warning).len(), 1, "{:?}", d.findings);
        for bad in [
            json!("https://graph.microsoft.com"),
            json!([v2()]),
            Value::Null,
        ] {
            let d = with_aud(bad.clone(), &v2());
            assert_eq!(
                messages(&d, Severity::Error).len(),
                1,
                "{bad}: {:?}",
                d.findings
            );
        }
    }

    #[test]
    fn iss_sub_and_client_id_must_all_be_the_client() {
        let mut c = claims();
        c["sub"] = json!("5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9");
        let d = decode(&jws(header(), c), &[]);
        let errors = messages(&d, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("AADSTS50048"), "{errors:?}");
        assert!(messages(&decode(&jws(header(), claims()), &[]), Severity::Error).is_empty());
        // iss = sub, but another application than the form's client_id.
        let mut c = claims();
        c["iss"] = json!("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f");
        c["sub"] = c["iss"].clone();
        let d = decode(&jws(header(), c), &[]);
        let errors = messages(&d, Severity::Error);
        assert!(
            errors.len() == 1 && errors[0].contains("AADSTS700021"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_missing_jti_is_a_warning() {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("jti");
        let d = decode(&jws(header(), c), &[]);
        assert_eq!(
            messages(&d, Severity::Warning),
            vec![
                "client assertion without jti: Microsoft asks for a unique GUID, which lets a \
                 server refuse a replayed assertion"
                    .to_string()
            ]
        );
    }

    const APP_PEM: &[u8] =
        include_bytes!("../../tests/fixtures/oauth/client_assertion_sync_ps256_v2.trust.pem");

    #[test]
    fn thumbprints_are_checked_against_x5c_and_the_certificates_known() {
        let app = TrustedCert::from_pem_or_der(APP_PEM, "t")
            .unwrap()
            .remove(0)
            .der;
        let cert = x509::Certificate::parse(&app).unwrap();
        let x5c = util::b64_std(&app);
        let good = json!({"alg": "RS256", "x5t": cert.sha1_b64url(), "x5c": [x5c]});
        let bad = json!({"alg": "RS256", "x5t": URL_SAFE_NO_PAD.encode([1u8; 20]), "x5c": [x5c]});
        let d = decode(&jws(good.clone(), claims()), &[]);
        assert_eq!(messages(&d, Severity::Warning), Vec::<String>::new());
        let x5t = row(&d, "certificate").child("x5t").unwrap();
        assert_eq!(
            x5t.value.as_deref(),
            Some("CN=Entra Connect Sync (synthetic) (its x5c)")
        );
        let d = decode(&jws(bad.clone(), claims()), &[]);
        let errors = messages(&d, Severity::Error);
        assert!(
            errors
                .iter()
                .any(|m| m.contains("is not the thumbprint of its own x5c certificate")),
            "{errors:?}"
        );
        // A certificate the user gave is named; a thumbprint naming none of them is a warning.
        let given = Trust {
            certs: TrustedCert::from_pem_or_der(APP_PEM, "--trust-cert app.pem").unwrap(),
            ..Trust::default()
        };
        let no_x5c = json!({"alg": "PS256", "x5t#S256": cert.sha256_b64url()});
        let d = decode_at(&v2(), &jws(no_x5c, claims()), &[], NOW, &given);
        let row_value = row(&d, "certificate")
            .child("x5t#S256")
            .unwrap()
            .value
            .clone();
        assert_eq!(
            row_value.as_deref(),
            Some("CN=Entra Connect Sync (synthetic) from --trust-cert app.pem")
        );
        let d = decode_at(&v2(), &jws(header(), claims()), &[], NOW, &given);
        let w = messages(&d, Severity::Warning);
        assert!(
            w.iter().any(
                |m| m.contains("names none of the 1 certificates given (--trust-cert app.pem)")
            ),
            "{w:?}"
        );
        // A pinned thumbprint names the certificate without holding it.
        let mut pinned = Trust::default();
        pinned.pin_thumbprint(
            crate::trust::Thumbprint::sha256_of(&app),
            "--trust-thumbprint 4d7d…",
        );
        let no_x5c = json!({"alg": "PS256", "x5t#S256": cert.sha256_b64url()});
        let d = decode_at(&v2(), &jws(no_x5c, claims()), &[], NOW, &pinned);
        let row_value = row(&d, "certificate")
            .child("x5t#S256")
            .unwrap()
            .value
            .clone();
        assert_eq!(
            row_value.as_deref(),
            Some(
                format!(
                    "{} (pinned by --trust-thumbprint 4d7d…)",
                    util::hex_lower(&cert.sha256)
                )
                .as_str()
            )
        );
        // Without any certificate given, an unknown thumbprint is not a warning.
        let d = decode(&jws(header(), claims()), &[]);
        assert_eq!(messages(&d, Severity::Warning), Vec::<String>::new());
        // A certificate seen in the capture is named, and said not to be trusted.
        let mut seen = Trust::default();
        seen.add_seen_cert(app, "x5c of the client assertion in flow #3");
        let no_x5c = json!({"alg": "RS256", "x5t": cert.sha1_b64url()});
        let d = decode_at(&v2(), &jws(no_x5c, claims()), &[], NOW, &seen);
        let x5t = row(&d, "certificate").child("x5t").unwrap();
        assert_eq!(
            x5t.value.as_deref(),
            Some("CN=Entra Connect Sync (synthetic) from x5c of the client assertion in flow #3")
        );
        assert!(
            x5t.note
                .as_deref()
                .unwrap()
                .starts_with("seen in the capture, not trusted")
        );
    }

    #[test]
    fn alg_and_thumbprint_pairs_are_named() {
        let pair = |h: Value| {
            let d = decode(&jws(h, claims()), &[]);
            (row(&d, "certificate").value.clone().unwrap(), d)
        };
        assert_eq!(pair(header()).0, "PS256 with x5t#S256");
        let (v, d) = pair(json!({"alg": "RS256", "x5t": URL_SAFE_NO_PAD.encode([2u8; 20])}));
        assert_eq!(v, "RS256 with x5t");
        assert!(d.findings.iter().all(|f| !f.message.contains("MSAL pairs")));
        let (v, d) = pair(json!({"alg": "PS256", "x5t": URL_SAFE_NO_PAD.encode([2u8; 20])}));
        assert_eq!(v, "PS256 with x5t");
        assert!(
            d.findings
                .iter()
                .any(|f| f.severity == Severity::Info && f.message.contains("MSAL pairs"))
        );
        let (v, d) = pair(json!({"alg": "RS256"}));
        assert_eq!(v, "RS256 with no certificate named");
        assert!(
            messages(&d, Severity::Error)
                .iter()
                .any(|m| m.contains("AADSTS700027"))
        );
        let (_, d) = pair(json!({"alg": "RS256", "x5t": "not-a-thumbprint"}));
        assert!(
            messages(&d, Severity::Error)
                .iter()
                .any(|m| m.contains("not base64url of a 20-byte thumbprint"))
        );
    }

    #[test]
    fn connect_sync_and_password_writeback_are_named_with_their_roles() {
        let a = jws(header(), claims());
        let d = decode(
            &a,
            &[("scope", "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016/.default")],
        );
        assert!(
            d.summary
                .ends_with("(Microsoft Entra AD Synchronization Service)"),
            "{}",
            d.summary
        );
        assert!(
            row(&d, "resource")
                .note
                .as_deref()
                .unwrap()
                .contains("ADSynchronization.ReadWrite.All")
        );
        assert!(
            row(&d, "application")
                .note
                .as_deref()
                .unwrap()
                .contains("Entra Connect Sync's own application")
        );
        let d = decode_at(
            &v1(),
            &a,
            &[("resource", "93625bc8-bfe2-437a-97e0-3d0060024faa")],
            NOW,
            &Trust::default(),
        );
        assert_eq!(
            row(&d, "resource").value.as_deref(),
            Some("93625bc8-bfe2-437a-97e0-3d0060024faa (Microsoft password reset service)")
        );
        assert!(
            row(&d, "resource")
                .note
                .as_deref()
                .unwrap()
                .starts_with("password writeback")
        );
        // Another application's resource: named when well known, no Connect Sync wording.
        let d = decode(&a, &[("scope", "https://graph.microsoft.com/.default")]);
        assert_eq!(
            row(&d, "application").note.as_deref(),
            Some("an application registered in the tenant (iss = sub = client id)")
        );
    }

    #[test]
    fn assertions_of_other_grants_are_explained_too() {
        let a = jws(header(), claims());
        let d = decode(
            &a,
            &[
                ("grant_type", "authorization_code"),
                ("code", "0.AX"),
                ("scope", "openid"),
            ],
        );
        assert_eq!(d.root.value.as_deref(), Some("auth code"));
        assert!(d.root.child("client authentication").is_some());
        assert!(
            d.root
                .child("client authentication")
                .unwrap()
                .child("resource")
                .is_none()
        );
    }
}
