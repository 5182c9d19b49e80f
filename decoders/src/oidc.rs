//! The `oidc` decoder: OpenID Connect discovery documents (`/.well-known/openid-configuration`,
//! Entra ID v1 and v2, ADFS) and JSON Web Key Sets (`/discovery[/v2.0]/keys`, or any JSON
//! `{"keys":[{"kty":…}]}`), requests and responses.
//!
//! For discovery it explains the issuer (v1 `https://sts.windows.net/{tid}/`, v2
//! `https://login.microsoftonline.com/{tid}/v2.0`, and the `{tenantid}` placeholder of the
//! multi-tenant `common`/`organizations` documents, which is not a tenant), the endpoints, the
//! supported algorithms and modes, `capabilities` (`kdf_ver2`) and the cloud fields. For a JWKS it
//! describes every key (kid, kty, use, alg, RSA modulus size, EC curve, `x5t` and whether it equals
//! `kid`) and every `x5c` certificate (subject, issuer, serial, validity against [`Context::now`],
//! SHA-1 thumbprint checked against `x5t`, public key checked against the JWK).
//!
//! It is not responsible for verifying tokens (the `jwt` decoder does, with keys the caller put in
//! [`crate::Trust`], e.g. through [`crate::Trust::add_jwks`]) and never fetches `jwks_uri`.
//! Certificates are read and shown by [`crate::x509`].

use crate::generic::{JsonValue, json_tree_plain, parse_json_ordered};
use crate::util::{self, Needle, is_guid};
use crate::view::{Decoded, Finding, Kind, Node};
use crate::x509::{Certificate, parse_certificate};
use crate::x509::{modulus_bits, strip_zeros};
use crate::{Context, DecodeError, Message};

decoder! {
    /// The OIDC discovery and JWKS decoder.
    pub struct Oidc: "oidc";
}

/// What the URL of the exchange says this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Discovery,
    Jwks,
    Unknown,
}

fn endpoint_of(path: &str) -> Endpoint {
    let p = path.trim_end_matches('/');
    let ends = |suffix: &str| crate::util::ends_with_ci(p, suffix);
    if ends("/.well-known/openid-configuration") {
        Endpoint::Discovery
    } else if (crate::util::contains_ci(p.as_bytes(), b"/discovery/") && ends("/keys"))
        || ends("/.well-known/jwks.json")
        || ends("/.well-known/jwks")
        || ends("/discovery/keys")
    {
        Endpoint::Jwks
    } else {
        Endpoint::Unknown
    }
}

static KEYS: Needle = Needle::new(b"\"keys\"");
static KTY: Needle = Needle::new(b"\"kty\"");
static JWKS_URI: Needle = Needle::new(b"\"jwks_uri\"");
static ISSUER: Needle = Needle::new(b"\"issuer\"");

fn starts_json_object(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

fn priority(msg: &Message<'_>) -> f32 {
    match endpoint_of(msg.path()) {
        Endpoint::Discovery | Endpoint::Jwks if msg.is_request() => 0.9,
        Endpoint::Discovery | Endpoint::Jwks if starts_json_object(msg.body) => 0.9,
        _ if msg.is_request() || !starts_json_object(msg.body) => 0.0,
        _ if KEYS.is_in_head(msg.body) && KTY.is_in_head(msg.body) => 0.6,
        _ if JWKS_URI.is_in_head(msg.body) && ISSUER.is_in_head(msg.body) => 0.6,
        _ => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let endpoint = endpoint_of(msg.path());
    if msg.is_request() {
        return decode_request(msg, endpoint);
    }
    let doc = parse_json_ordered(msg.body, "body", &cx.limits)?;
    if doc.as_object().is_none() {
        return Err(DecodeError::not(
            "an OIDC document",
            "body is not a JSON object",
        ));
    }
    if doc.get("error").is_some() && doc.get("keys").is_none() {
        return Ok(decode_error(&doc, endpoint, msg.status, cx));
    }
    if doc.get("keys").and_then(JsonValue::as_array).is_some() {
        return decode_jwks(&doc, msg, cx);
    }
    if doc.get("issuer").is_some() || doc.get("jwks_uri").is_some() {
        return Ok(decode_discovery(&doc, msg, cx));
    }
    Err(DecodeError::not(
        "an OIDC document",
        "neither `keys` (JWKS) nor `issuer`/`jwks_uri` (discovery)",
    ))
}

// ---------------------------------------------------------------------------------------------
// Tenants

/// The Microsoft account (consumer) tenant.
const MSA_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// What a `{tenant}` path segment selects.
pub(crate) fn tenant_note(segment: &str) -> String {
    match segment.to_ascii_lowercase().as_str() {
        "common" => "multi-tenant: any work/school account or Microsoft account".into(),
        "organizations" => "multi-tenant: work/school accounts only".into(),
        "consumers" => format!("Microsoft accounts only (tenant {MSA_TENANT})"),
        s if s == MSA_TENANT => "the Microsoft account (consumer) tenant".into(),
        s if is_guid(s) => "a tenant (directory) id; tokens carry it as `tid`".into(),
        "adfs" => "ADFS (on-premises federation server)".into(),
        _ => "a tenant named by one of its verified domains".into(),
    }
}

/// The `{tenant}` segment and version of an Entra path like `/{tenant}/v2.0/.well-known/…` or
/// `/{tenant}/discovery/v2.0/keys`.
fn tenant_and_version(path: &str) -> (Option<&str>, &'static str) {
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    let first = segs.next();
    let version = if path.to_ascii_lowercase().contains("/v2.0/") {
        "v2.0"
    } else {
        "v1"
    };
    match first {
        Some(f) if f.eq_ignore_ascii_case(".well-known") || f.eq_ignore_ascii_case("discovery") => {
            (None, version)
        }
        Some(f) if f.eq_ignore_ascii_case("adfs") => (Some(f), "ADFS"),
        other => (other, version),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and errors

fn decode_request(msg: &Message<'_>, endpoint: Endpoint) -> Result<Decoded, DecodeError> {
    let path = msg.path();
    let (tenant, version) = tenant_and_version(path);
    let what = match endpoint {
        Endpoint::Discovery => "OIDC discovery request",
        Endpoint::Jwks => "JWKS request",
        Endpoint::Unknown => return Err(DecodeError::not("an OIDC request", "unknown path")),
    };
    let mut root = Node::section("oidc request");
    root.push(Node::field("method", msg.method.unwrap_or("")));
    if let Some(host) = msg.url.and_then(util::url_host) {
        root.push(Node::field("host", host));
    }
    root.push(Node::field("version", version));
    let mut summary = format!("{what} {version}");
    if let Some(t) = tenant {
        let mut note = tenant_note(t);
        if matches!(t.to_ascii_lowercase().as_str(), "common" | "organizations") {
            note.push_str("; the answer is a template whose issuer says {tenantid}, not a tenant");
        }
        root.push(Node::field("tenant", t).with_note(note));
        summary.push_str(&format!(": tenant {t}"));
    }
    for (k, v) in msg.query_pairs() {
        let node = Node::field(k.clone(), v.clone());
        root.push(match k.as_str() {
            "appid" => {
                summary.push_str(&format!(" (appid {v})"));
                node.with_note(
                    "keys for this application: apps with custom signing keys (e.g. SAML SSO \
                     apps) sign with keys listed only here",
                )
            }
            _ => node,
        });
    }
    Ok(Decoded::new("oidc", summary, root))
}

fn decode_error(
    doc: &JsonValue,
    endpoint: Endpoint,
    status: Option<u16>,
    cx: &Context<'_>,
) -> Decoded {
    let error = doc.get("error").map(JsonValue::display).unwrap_or_default();
    let desc = doc
        .get("error_description")
        .map(JsonValue::display)
        .unwrap_or_default();
    let first_line = desc.lines().next().unwrap_or("").trim().to_string();
    let first_sentence = match first_line.find(". ") {
        Some(i) => first_line.get(..=i).unwrap_or(&first_line).to_string(),
        None => first_line.clone(),
    };
    let (mut root, findings) = json_tree_plain("oidc error", doc, cx);
    if let Some(s) = status {
        root.children
            .insert(0, Node::leaf("status", s.to_string(), Kind::Number));
    }
    let what = match endpoint {
        Endpoint::Jwks => "JWKS",
        _ => "OIDC discovery",
    };
    let mut d = Decoded::new(
        "oidc",
        format!(
            "{what} failed: {error}: {}",
            util::ellipsize(&first_sentence, 100)
        ),
        root,
    );
    d.findings = findings;
    d.with_finding(Finding::warning(format!(
        "{what} failed: {error}: {first_sentence}"
    )))
}

// ---------------------------------------------------------------------------------------------
// Discovery

fn discovery_note(key: &str) -> Option<&'static str> {
    Some(match key {
        "issuer" => {
            "the exact `iss` tokens from this authority carry; validators compare it byte for byte"
        }
        "authorization_endpoint" => {
            "where the browser is sent to sign in (code, implicit, hybrid flows)"
        }
        "token_endpoint" => {
            "where clients redeem codes, refresh tokens, passwords (ROPC) and assertions"
        }
        "device_authorization_endpoint" => "starts the device code flow (RFC 8628)",
        "userinfo_endpoint" => "returns claims about the signed-in user for an access token",
        "end_session_endpoint" => "sign-out (RP-initiated logout)",
        "jwks_uri" => "the public keys (JWKS) token signatures are verified with",
        "check_session_iframe" => "OIDC session management iframe",
        "kerberos_endpoint" => "Kerberos endpoint of Entra ID (cloud Kerberos trust, hybrid)",
        "registration_endpoint" => "dynamic client registration",
        "introspection_endpoint" => "token introspection (RFC 7662)",
        "revocation_endpoint" => "token revocation (RFC 7009)",
        "response_types_supported" => "flows the authorization endpoint accepts",
        "response_modes_supported" => {
            "how the authorization response is returned (query, fragment, form_post)"
        }
        "scopes_supported" => "scopes the authority knows",
        "subject_types_supported" => {
            "pairwise: `sub` differs per application; public: the same everywhere"
        }
        "id_token_signing_alg_values_supported" => "algorithms id_tokens are signed with",
        "token_endpoint_auth_methods_supported" => {
            "how confidential clients authenticate at the token endpoint"
        }
        "claims_supported" => "claims tokens may carry",
        "grant_types_supported" => "grants the token endpoint accepts",
        "code_challenge_methods_supported" => "PKCE methods (S256 should be there)",
        "request_uri_parameter_supported" => {
            "whether `request_uri` (request objects by reference) is accepted"
        }
        "frontchannel_logout_supported" => "sign-out is propagated to apps through browser iframes",
        "http_logout_supported" => "sign-out via HTTP front-channel",
        "tenant_region_scope" => {
            "the tenant's geography (NA, EU, AS, OC, AF, SA, WW…); null for templates"
        }
        "tenant_region_sub_scope" => "sub-region (GCC, DOD…) for government tenants",
        "cloud_instance_name" => {
            "the cloud: microsoftonline.com (public), microsoftonline.us (US Gov), partner.microsoftonline.cn (China)"
        }
        "cloud_graph_host_name" => "Azure AD Graph host of this cloud (legacy API)",
        "msgraph_host" => "Microsoft Graph host of this cloud",
        "rbac_url" => "Azure management (RBAC) endpoint of this cloud",
        "microsoft_multi_refresh_token" => {
            "refresh tokens are multi-resource: one can be redeemed for any resource"
        }
        "capabilities" => "server capabilities (ADFS, MS-OIDCE)",
        "access_token_issuer" => {
            "ADFS: the issuer of access tokens (differs from the id_token issuer)"
        }
        "as_claims_provider_discovery_endpoint" => "ADFS: claims provider discovery",
        _ => return None,
    })
}

fn capability_note(cap: &str) -> Option<&'static str> {
    Some(match cap {
        "kdf_ver2" => {
            "accepts KDFv2 for PRT-derived keys: context = SHA-256(ctx || JWT payload bytes), \
             binding the derived key to the exact payload (MS-OAPXBC); clients mark it with \
             `kdf_ver: 2` in the JWT header"
        }
        _ => return None,
    })
}

/// The tenant id inside an Entra issuer, and whether it is the `{tenantid}` placeholder.
fn issuer_tenant(issuer: &str) -> Option<&str> {
    util::url_path(issuer)
        .split('/')
        .find(|s| is_guid(s) || s.eq_ignore_ascii_case("{tenantid}"))
}

/// An array of strings as one field (`query, fragment, form_post`): lists of supported values
/// read better on one line.
fn compact_list(k: &str, v: &JsonValue) -> Option<Node> {
    let items = v.as_array()?;
    let strs: Option<Vec<&str>> = items.iter().map(JsonValue::as_str).collect();
    Some(Node::field(k, strs?.join(", ")))
}

fn is_endpoint_key(k: &str) -> bool {
    k.ends_with("_endpoint") || k.ends_with("_uri") || k.ends_with("_iframe")
}

fn decode_discovery(doc: &JsonValue, msg: &Message<'_>, cx: &Context<'_>) -> Decoded {
    let mut findings = Vec::new();
    let issuer = doc.get("issuer").and_then(JsonValue::as_str).unwrap_or("");
    let placeholder = issuer.contains("{tenantid}");
    let version = if issuer.trim_end_matches('/').ends_with("/v2.0") {
        "v2.0"
    } else if util::url_host(issuer).as_deref() == Some("sts.windows.net") {
        "v1"
    } else if util::url_path(issuer)
        .to_ascii_lowercase()
        .starts_with("/adfs")
    {
        "ADFS"
    } else {
        ""
    };
    let (url_tenant, url_version) = tenant_and_version(msg.path());

    let mut root = Node::section("openid-configuration");
    let mut endpoints = Node::section("endpoints");
    let mut algs = Node::section("supported");
    let mut cloud = Node::section("cloud");
    let mut other = Node::section("other");
    let mut issuer_node = None;
    let mut capabilities = Vec::new();

    for (k, v) in doc.as_object().unwrap_or(&[]) {
        let path = format!("openid-configuration/{k}");
        let (mut node, fs) = match compact_list(k, v) {
            Some(n) if k != "capabilities" => (n, Vec::new()),
            _ => json_tree_plain(k, v, cx),
        };
        findings.extend(fs);
        if let Some(n) = discovery_note(k) {
            node = node.with_note(n);
        }
        match k.as_str() {
            "issuer" => {
                if placeholder {
                    node = node.with_note(
                        "issuer template of a multi-tenant document: `{tenantid}` is a \
                         placeholder, not a tenant; each token's `iss` carries its own tenant \
                         (its `tid`), and validators must substitute it before comparing",
                    );
                } else if let Some(tid) = issuer_tenant(issuer) {
                    node.push(Node::field("tenant id", tid).with_note(tenant_note(tid)));
                }
                issuer_node = Some(node);
            }
            "capabilities" => {
                for c in v.as_array().unwrap_or(&[]) {
                    let c = c.display();
                    if let Some(n) = capability_note(&c)
                        && let Some(child) = node
                            .children
                            .iter_mut()
                            .find(|ch| ch.value.as_deref() == Some(c.as_str()))
                    {
                        child.note = Some(n.to_string());
                    }
                    capabilities.push(c);
                }
                algs.push(node);
            }
            k if is_endpoint_key(k) => {
                if let Some(u) = v.as_str()
                    && util::url_host(u).is_some()
                    && !starts_with_ci(u, "https://")
                {
                    findings
                        .push(Finding::warning(format!("{k} is not https: {u}")).at(path.clone()));
                }
                endpoints.push(node);
            }
            k if k.ends_with("_supported") => {
                if k == "id_token_signing_alg_values_supported"
                    && v.as_array()
                        .unwrap_or(&[])
                        .iter()
                        .any(|a| a.as_str().is_some_and(|s| s.eq_ignore_ascii_case("none")))
                {
                    findings.push(
                        Finding::warning(
                            "id_token signing algorithms include `none`: unsigned id_tokens \
                             would be accepted by clients that trust this list",
                        )
                        .at(path.clone()),
                    );
                }
                algs.push(node);
            }
            "tenant_region_scope"
            | "tenant_region_sub_scope"
            | "cloud_instance_name"
            | "cloud_graph_host_name"
            | "msgraph_host"
            | "rbac_url" => cloud.push(node),
            _ => other.push(node),
        }
    }

    let issuer_tid = issuer_tenant(issuer).filter(|t| is_guid(t));
    let mut summary = format!(
        "OIDC discovery{}",
        if version.is_empty() {
            String::new()
        } else {
            format!(" {version}")
        }
    );
    let named = url_tenant.filter(|a| {
        !a.eq_ignore_ascii_case("adfs") && issuer_tid.is_none_or(|t| !t.eq_ignore_ascii_case(a))
    });
    if let Some(asked) = named {
        summary.push_str(&format!(" for {asked}"));
    }
    match issuer_tid {
        _ if placeholder => {
            summary.push_str(&format!(": multi-tenant template, issuer {issuer}"));
        }
        Some(tid) => {
            summary.push_str(&format!(": tenant {tid}"));
            if let Some(region) = doc.get("tenant_region_scope").and_then(JsonValue::as_str) {
                summary.push_str(&format!(", region {region}"));
            }
        }
        None => summary.push_str(&format!(": issuer {issuer}")),
    }
    if !capabilities.is_empty() {
        summary.push_str(&format!(", capabilities {}", capabilities.join(" ")));
    }

    // Cross-checks between the URL asked and the document returned.
    if issuer.is_empty() {
        findings.push(Finding::warning(
            "no `issuer`: clients cannot validate the `iss` of tokens against this document",
        ));
    }
    if let (Some(asked), Some(tid)) = (url_tenant, issuer_tid) {
        if is_guid(asked) && !asked.eq_ignore_ascii_case(tid) {
            findings.push(
                Finding::warning(format!(
                    "asked for tenant {asked} but the issuer names tenant {tid}"
                ))
                .at("openid-configuration/issuer"),
            );
        } else if !is_guid(asked)
            && !matches!(
                asked.to_ascii_lowercase().as_str(),
                "common" | "organizations" | "consumers" | "adfs"
            )
        {
            findings.push(
                Finding::info(format!("{asked} belongs to tenant {tid}"))
                    .at("openid-configuration/issuer/tenant id"),
            );
        }
    }
    if let Some(asked) = url_tenant
        && matches!(
            asked.to_ascii_lowercase().as_str(),
            "common" | "organizations"
        )
        && !placeholder
        && !issuer.is_empty()
    {
        findings.push(Finding::info(format!(
            "{asked} document without the {{tenantid}} placeholder: issuer {issuer}"
        )));
    }
    if url_version == "v2.0" && !version.is_empty() && version != "v2.0" && version != "ADFS" {
        findings.push(
            Finding::warning(format!(
                "v2.0 discovery URL but a {version} issuer: tokens will not match a v2.0 \
                 validator"
            ))
            .at("openid-configuration/issuer"),
        );
    }

    if let Some(n) = issuer_node {
        root.push(n);
    }
    for section in [endpoints, algs, cloud, other] {
        if !section.children.is_empty() {
            root.push(section);
        }
    }
    let mut d = Decoded::new("oidc", summary, root);
    d.findings = findings;
    d
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

// ---------------------------------------------------------------------------------------------
// JWKS

// JWK members that hold private key material (the secrets policy's list); a public key set
// must never carry them.
use crate::secrets::JWK_PRIVATE_MEMBERS as PRIVATE_MEMBERS;

fn jwk_member_note(k: &str) -> Option<&'static str> {
    Some(match k {
        "kty" => "key type",
        "use" => "intended use: sig = verify signatures, enc = encryption",
        "alg" => "algorithm this key is meant for",
        "kid" => "key id: tokens name their signing key with the `kid` header",
        "x5t" => "base64url SHA-1 thumbprint of the first x5c certificate",
        "x5t#S256" => "base64url SHA-256 thumbprint of the first x5c certificate",
        "x5c" => "certificate chain (base64 DER), first = this key's certificate",
        "issuer" => {
            "issuer tokens signed with this key must carry (Entra v2; template for multi-tenant)"
        }
        "cloud_instance_name" => "cloud this key belongs to",
        "key_ops" => "operations the key may be used for",
        _ => return None,
    })
}

fn curve_bits(crv: &str) -> Option<usize> {
    match crv {
        "P-256" | "secp256k1" => Some(256),
        "P-384" => Some(384),
        "P-521" => Some(521),
        "Ed25519" | "X25519" => Some(256),
        "Ed448" | "X448" => Some(448),
        _ => None,
    }
}

/// What one key of a JWKS says, for the summary.
struct KeyLine {
    kid: Option<String>,
    desc: String,
}

fn decode_jwks(
    doc: &JsonValue,
    msg: &Message<'_>,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let keys = doc.get("keys").and_then(JsonValue::as_array).unwrap_or(&[]);
    let mut findings = Vec::new();
    let mut root = Node::section("jwks");
    let (_, version) = tenant_and_version(msg.path());
    let mut lines: Vec<KeyLine> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let label = format!("keys[{i}]");
        let path = format!("jwks/{label}");
        let (node, line, fs) = jwk_node(&label, key, &path, cx);
        findings.extend(fs);
        root.push(node);
        lines.push(line);
    }
    for (k, v) in doc.as_object().unwrap_or(&[]) {
        if k != "keys" {
            let (node, fs) = json_tree_plain(k, v, cx);
            findings.extend(fs);
            root.push(node);
        }
    }
    // Duplicate kids make verifiers pick a key by luck.
    let mut seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(kid) = &l.kid
            && !seen.insert(kid.as_str())
        {
            findings.push(
                Finding::error(format!(
                    "two keys share kid {kid}: a verifier may pick the wrong one"
                ))
                .at(format!("jwks/keys[{i}]/kid")),
            );
        }
    }
    if keys.is_empty() {
        findings.push(Finding::warning(
            "the key set is empty: nothing can be verified",
        ));
    }
    // Count keys per description in first-seen order (a map keeps this linear).
    let mut descs: Vec<(String, usize)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for l in &lines {
        match index.get(l.desc.as_str()).and_then(|i| descs.get_mut(*i)) {
            Some((_, n)) => *n += 1,
            None => {
                index.insert(&l.desc, descs.len());
                descs.push((l.desc.clone(), 1));
            }
        }
    }
    let mut kinds: Vec<String> = descs
        .iter()
        .take(4)
        .map(|(d, n)| {
            if *n > 1 {
                format!("{d} ×{n}")
            } else {
                d.clone()
            }
        })
        .collect();
    if descs.len() > 4 {
        kinds.push("…".into());
    }
    let kids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.kid.as_deref())
        .take(3)
        .collect();
    let more = if lines.len() > 3 { ", …" } else { "" };
    let endpoint_version = if msg.path().to_ascii_lowercase().contains("/discovery/") {
        format!(" {version}")
    } else {
        String::new()
    };
    let summary = format!(
        "JWKS{endpoint_version}: {} key{} ({}){}",
        keys.len(),
        if keys.len() == 1 { "" } else { "s" },
        kinds.join(", "),
        if kids.is_empty() {
            String::new()
        } else {
            format!(" kid {}{more}", kids.join(", "))
        }
    );
    let mut d = Decoded::new("oidc", summary, root);
    d.findings = findings;
    Ok(d)
}

fn jwk_node(
    label: &str,
    key: &JsonValue,
    path: &str,
    cx: &Context<'_>,
) -> (Node, KeyLine, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut node = Node::section(label);
    let s = |k: &str| key.get(k).and_then(JsonValue::as_str);
    let kty = s("kty").unwrap_or("");
    let kid = s("kid").map(str::to_string);
    let mut desc = if kty.is_empty() {
        "no kty".to_string()
    } else {
        kty.to_string()
    };
    // Read `n` first: members may come in any order, and the x5c check below needs it.
    let jwk_modulus: Option<Vec<u8>> = match s("n") {
        Some(n) if kty == "RSA" => {
            util::b64_decode_any(n, cx.limits.max_inflate).map(|b| strip_zeros(&b).to_vec())
        }
        _ => None,
    };

    if key.as_object().is_none() {
        findings.push(Finding::error("key is not a JSON object").at(path));
        return (node, KeyLine { kid: None, desc }, findings);
    }
    if kid.is_none() {
        findings.push(
            Finding::warning("no kid: a verifier has to try every key").at(format!("{path}/kid")),
        );
    }
    for (k, v) in key.as_object().unwrap_or(&[]) {
        let mpath = format!("{path}/{k}");
        if PRIVATE_MEMBERS.contains(&k.as_str()) {
            node.push(Node::secret(k.clone(), v.display()).with_note("private key material"));
            findings.push(
                Finding::error(format!(
                    "member `{k}` is private key material: a published key set must hold \
                     public keys only"
                ))
                .at(mpath),
            );
            continue;
        }
        let mut child = match (k.as_str(), v) {
            ("n", JsonValue::String(n)) if kty == "RSA" => {
                match util::b64_decode_any(n, cx.limits.max_inflate) {
                    Some(bytes) => {
                        let bits = modulus_bits(&bytes);
                        desc = format!("RSA {bits}");
                        if bits < 2048 {
                            findings.push(
                                Finding::warning(format!(
                                    "RSA modulus of {bits} bits: below 2048 is breakable"
                                ))
                                .at(mpath.clone()),
                            );
                        }
                        Node::field("n", util::ellipsize(n, 24))
                            .with_note(format!("RSA modulus, {bits} bits"))
                    }
                    None => {
                        findings.push(
                            Finding::error("RSA modulus `n` is not base64url").at(mpath.clone()),
                        );
                        Node::leaf("n", util::ellipsize(n, 24), Kind::Error)
                    }
                }
            }
            ("e", JsonValue::String(e)) if kty == "RSA" => {
                let exp = util::b64_decode_any(e, 16)
                    .filter(|b| b.len() <= 8)
                    .map(|b| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)));
                let n = Node::field("e", e.clone());
                match exp {
                    Some(x) => n.with_note(format!("public exponent {x}")),
                    None => n.with_note("public exponent (not decodable)"),
                }
            }
            ("crv", JsonValue::String(c)) => {
                desc = format!("{kty} {c}");
                let n = Node::field("crv", c.clone());
                match curve_bits(c) {
                    Some(b) => n.with_note(format!("curve, {b}-bit")),
                    None => n.with_note("unrecognised curve"),
                }
            }
            ("x" | "y", JsonValue::String(c)) if kty == "EC" || kty == "OKP" => {
                let len = util::b64_decode_any(c, 256).map(|b| b.len());
                let want = s("crv").and_then(curve_bits).map(|b| b.div_ceil(8));
                if let (Some(len), Some(want)) = (len, want)
                    && len != want
                {
                    findings.push(
                        Finding::error(format!("`{k}` is {len} bytes; the curve needs {want}"))
                            .at(mpath.clone()),
                    );
                }
                Node::field(k.clone(), c.clone()).with_note(if k == "x" {
                    "public key x coordinate"
                } else {
                    "public key y coordinate"
                })
            }
            ("x5t", JsonValue::String(t)) => {
                let n = Node::field("x5t", t.clone());
                if kid.as_deref() == Some(t.as_str()) {
                    n.with_note("SHA-1 thumbprint of the certificate; equals kid (Entra v1 style)")
                } else {
                    n.with_note("SHA-1 thumbprint of the certificate; differs from kid")
                }
            }
            ("x5c", JsonValue::Array(certs)) => {
                let mut n = Node::section("x5c");
                n.value = Some(format!(
                    "{} certificate{}",
                    certs.len(),
                    if certs.len() == 1 { "" } else { "s" }
                ));
                n.note = jwk_member_note("x5c").map(str::to_string);
                for (ci, c) in certs.iter().enumerate() {
                    let clabel = format!("[{ci}]");
                    let cpath = format!("{mpath}/{clabel}");
                    let der = c
                        .as_str()
                        .and_then(|b| util::b64_decode_any(b, cx.limits.max_inflate));
                    let parsed = der
                        .as_deref()
                        .ok_or(DecodeError::Base64 { field: "x5c" })
                        .and_then(parse_certificate);
                    match parsed {
                        Ok(cert) => {
                            findings.extend(cert.findings(cx.now, &cpath));
                            if ci == 0 {
                                check_first_cert(
                                    &cert,
                                    key,
                                    jwk_modulus.as_deref(),
                                    path,
                                    &mut findings,
                                );
                            }
                            n.push(cert.to_node(&clabel, cx.now));
                        }
                        Err(e) => {
                            findings.push(
                                Finding::error(format!("x5c certificate {ci}: {e}"))
                                    .at(cpath.clone()),
                            );
                            n.push(Node::leaf(clabel, e.to_string(), Kind::Error));
                        }
                    }
                }
                n
            }
            ("use", JsonValue::String(u)) if u != "sig" => {
                findings.push(
                    Finding::info(format!("key use `{u}`: not a signing key")).at(mpath.clone()),
                );
                Node::field("use", u.clone())
            }
            _ => json_tree_plain(k, v, cx).0,
        };
        if child.note.is_none()
            && let Some(n) = jwk_member_note(k)
        {
            child.note = Some(n.to_string());
        }
        node.push(child);
    }
    if kty == "oct" {
        findings.push(
            Finding::error("symmetric (oct) key in a key set: its secret is published").at(path),
        );
    } else if !matches!(kty, "RSA" | "EC" | "OKP") {
        findings.push(Finding::info(format!("unusual key type `{kty}`")).at(format!("{path}/kty")));
    }
    check_alg_fits(kty, s("alg"), s("crv"), path, &mut findings);
    node.value = Some(match &kid {
        Some(k) => format!("{desc} kid={k}"),
        None => desc.clone(),
    });
    (node, KeyLine { kid, desc }, findings)
}

/// `alg` names a family of keys; a key of another type cannot verify it.
fn check_alg_fits(
    kty: &str,
    alg: Option<&str>,
    crv: Option<&str>,
    path: &str,
    findings: &mut Vec<Finding>,
) {
    let Some(alg) = alg else { return };
    let fits = match alg {
        a if a.starts_with("RS") || a.starts_with("PS") || a.starts_with("RSA") => kty == "RSA",
        "ES256" => kty == "EC" && crv.is_none_or(|c| c == "P-256"),
        "ES384" => kty == "EC" && crv.is_none_or(|c| c == "P-384"),
        "ES512" => kty == "EC" && crv.is_none_or(|c| c == "P-521"),
        "ES256K" => kty == "EC",
        "EdDSA" | "Ed25519" => kty == "OKP",
        a if a.starts_with("HS") || a.starts_with('A') || a == "dir" => kty == "oct",
        _ => true,
    };
    if !fits {
        findings.push(
            Finding::error(format!(
                "alg {alg} does not fit a {kty} key{}",
                crv.map(|c| format!(" on {c}")).unwrap_or_default()
            ))
            .at(format!("{path}/alg")),
        );
    }
}

/// The first certificate of `x5c` must be the key's own: same thumbprints, same RSA modulus.
fn check_first_cert(
    cert: &Certificate,
    key: &JsonValue,
    jwk_modulus: Option<&[u8]>,
    path: &str,
    findings: &mut Vec<Finding>,
) {
    if let Some(x5t) = key.get("x5t").and_then(JsonValue::as_str) {
        let got = cert.sha1_b64url();
        if x5t.trim_end_matches('=') != got {
            findings.push(
                Finding::error(format!(
                    "x5t {x5t} does not match the certificate's SHA-1 thumbprint {got}"
                ))
                .at(format!("{path}/x5t")),
            );
        }
    }
    if let Some(s256) = key.get("x5t#S256").and_then(JsonValue::as_str) {
        let got = cert.sha256_b64url();
        if s256.trim_end_matches('=') != got {
            findings.push(
                Finding::error(format!(
                    "x5t#S256 does not match the certificate's SHA-256 thumbprint {got}"
                ))
                .at(format!("{path}/x5t#S256")),
            );
        }
    }
    if let (Some(jwk_n), Some(cert_n)) = (jwk_modulus, cert.rsa_modulus.as_deref())
        && jwk_n != cert_n
    {
        findings.push(
            Finding::error(
                "the certificate's public key is not the JWK's key (RSA moduli differ): \
                 verifiers using n/e and verifiers using x5c would disagree",
            )
            .at(format!("{path}/x5c/[0]")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use std::time::{Duration, UNIX_EPOCH};

    fn cx(trust: &Trust) -> Context<'_> {
        Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
    }

    #[test]
    fn common_issuer_placeholder_is_not_a_tenant() {
        let trust = Trust::default();
        let body = br#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","jwks_uri":"https://login.microsoftonline.com/common/discovery/v2.0/keys"}"#;
        let msg = Message::get_ok(
            "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
            body,
        );
        let d = Oidc.decode(&msg, &cx(&trust)).unwrap();
        assert!(d.summary.contains("multi-tenant template"), "{}", d.summary);
        assert!(d.root.find_path("issuer/tenant id").is_none());
    }

    #[test]
    fn jwks_flags_private_members_and_duplicate_kids() {
        let trust = Trust::default();
        let body = br#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB","d":"AQAB"},{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#;
        let d = Oidc.decode(&Message::blob(body), &cx(&trust)).unwrap();
        assert!(d.has_finding("private key material"));
        assert!(d.has_finding("share kid a"));
        assert_eq!(d.root.find_path("keys[0]/d").unwrap().kind, Kind::Secret);
    }

    #[test]
    fn malformed_jwks_json_is_a_json_error() {
        let trust = Trust::default();
        let msg = Message::get_ok(
            "https://login.microsoftonline.com/common/discovery/keys",
            b"{\"keys\":[",
        );
        assert!(matches!(
            Oidc.decode(&msg, &cx(&trust)),
            Err(DecodeError::Json { field: "body", .. })
        ));
    }
}
