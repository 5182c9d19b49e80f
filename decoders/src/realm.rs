//! The `realm` decoder: Entra ID home realm discovery (HRD), requests and responses, in all four
//! shapes seen on the wire: `userrealm` api-version 1.0 (`account_type`, used by ADAL and the AAD
//! Connect sync account) and 2.0 (`NameSpaceType`, PascalCase mixed with snake_case,
//! `TenantBrandingInfo`), the legacy `GetUserRealm.srf` (JSON, or `<RealmInfo>` XML with `xml=1`)
//! and the login page's `GetCredentialType` (federated = `Credentials.FederationRedirectUrl`).
//!
//! It answers the question an engineer asks of these flows: for this user or domain, who checks
//! the password? Managed means Entra ID does (cloud password, password hash sync or pass-through
//! authentication); Federated means the user is sent to the identity provider listed, and every
//! federation endpoint is shown (MEX, WS-Trust usernamemixed, the passive AuthURL with its query
//! decoded). Unknown means no tenant has verified the domain. Every field is optional, a byte-order
//! mark is tolerated, names are matched ignoring case and `_`, and the undocumented numeric codes
//! (`State`, `UserState`, `IfExistsResult`, `DomainType` …) are explained with what has been
//! observed, not guessed.
//!
//! It is not responsible for the federation protocols themselves (WS-Fed, WS-Trust, SAML have
//! their own decoders) nor for correlating HRD answers with later flows (the analysis layer does
//! that per domain). The `xml=1` answer is read with [`Document::parse_lenient`], which refuses a
//! DOCTYPE and never resolves entities (an unknown one is kept as written and flagged).

use crate::generic::{JsonValue, json_tree_plain, parse_json_ordered};
use crate::util::{self, Needle};
use crate::view::{Decoded, Finding, Kind, Node};
use crate::x509::parse_certificate;
use crate::xml::display::direct_text;
use crate::xml::{Document, NodeId, is_doctype_refusal};
use crate::{Context, DecodeError, Message};

decoder! {
    /// The home realm discovery decoder.
    pub struct Realm: "realm";
}

/// Which HRD endpoint (and answer shape) this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    V1,
    V2,
    Srf,
    SrfXml,
    CredentialType,
}

impl Flavor {
    fn label(self) -> &'static str {
        match self {
            Flavor::V1 => "realm v1",
            Flavor::V2 => "realm v2",
            Flavor::Srf => "GetUserRealm.srf",
            Flavor::SrfXml => "GetUserRealm.srf xml=1",
            Flavor::CredentialType => "GetCredentialType",
        }
    }
}

/// The byte offset of `/userrealm` in the path (any case), if this is a userrealm URL.
fn userrealm_at(path: &str) -> Option<usize> {
    const NEEDLE: &[u8] = b"/userrealm";
    let b = path.as_bytes();
    // The first occurrence, in any case (ASCII lowercasing keeps byte offsets).
    let i = memchr::memchr_iter(b'/', b).find(|&i| {
        b.get(i..i + NEEDLE.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(NEEDLE))
    })?;
    let rest = b.get(i + NEEDLE.len()..)?;
    (rest.is_empty() || rest.starts_with(b"/")).then_some(i)
}

fn query_value(msg: &Message<'_>, name: &str) -> Option<String> {
    msg.query_pairs()
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The flavor named by the URL of the exchange.
fn flavor_of_url(msg: &Message<'_>) -> Option<Flavor> {
    let path = msg.path();
    let trimmed = path.trim_end_matches('/');
    if userrealm_at(path).is_some() {
        return Some(
            match query_value(msg, "api-version").as_deref().map(str::trim) {
                Some(v) if v.starts_with('2') => Flavor::V2,
                _ => Flavor::V1,
            },
        );
    }
    if crate::util::ends_with_ci(trimmed, "/getuserrealm.srf") {
        return Some(if query_value(msg, "xml").as_deref() == Some("1") {
            Flavor::SrfXml
        } else {
            Flavor::Srf
        });
    }
    crate::util::ends_with_ci(trimmed, "/getcredentialtype").then_some(Flavor::CredentialType)
}

static ACCOUNT_TYPE: Needle = Needle::new(b"\"account_type\"");
static NAMESPACE_TYPE: Needle = Needle::new(b"\"NameSpaceType\"");
static IF_EXISTS_RESULT: Needle = Needle::new(b"\"IfExistsResult\"");
static CREDENTIALS: Needle = Needle::new(b"\"Credentials\"");
static REALM_INFO: Needle = Needle::new(b"<RealmInfo");

fn first_byte(body: &[u8]) -> Option<u8> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn priority(msg: &Message<'_>) -> f32 {
    if flavor_of_url(msg).is_some() {
        return 0.9;
    }
    if msg.is_request() {
        return 0.0;
    }
    match first_byte(msg.body) {
        Some(b'{')
            if ACCOUNT_TYPE.is_in_head(msg.body)
                || NAMESPACE_TYPE.is_in_head(msg.body)
                || (IF_EXISTS_RESULT.is_in_head(msg.body) && CREDENTIALS.is_in_head(msg.body)) =>
        {
            0.6
        }
        Some(b'<') if REALM_INFO.is_in_head(msg.body) => 0.6,
        _ => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let url_flavor = flavor_of_url(msg);
    if msg.is_request() {
        let flavor =
            url_flavor.ok_or_else(|| DecodeError::not("an HRD request", "unknown path"))?;
        return decode_request(msg, flavor, cx);
    }
    decode_response(msg, url_flavor, cx)
}

// ---------------------------------------------------------------------------------------------
// What was asked

/// The UPN (or domain) a request asks about, percent-decoded, from the URL (or, for
/// GetCredentialType, the body).
fn asked_name(msg: &Message<'_>, cx: &Context<'_>) -> Option<String> {
    let path = msg.path();
    if let Some(i) = userrealm_at(path) {
        let seg = path
            .get(i + "/userrealm/".len()..)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        let upn = percent_encoding::percent_decode_str(seg)
            .decode_utf8_lossy()
            .into_owned();
        return (!upn.is_empty()).then_some(upn);
    }
    if let Some(login) = query_value(msg, "login") {
        return Some(login);
    }
    if msg.is_request() && !msg.body.is_empty() {
        let doc = parse_json_ordered(msg.body, "body", &cx.limits).ok()?;
        return doc
            .get_loose("username")
            .and_then(JsonValue::as_str)
            .map(str::to_string);
    }
    None
}

fn domain_of(name: &str) -> &str {
    name.rsplit('@').next().unwrap_or(name)
}

/// The `asked` section: what the URL says the client wants to know.
fn asked_node(msg: &Message<'_>, flavor: Flavor, cx: &Context<'_>) -> (Node, Vec<Finding>) {
    let mut node = Node::section("asked");
    let mut findings = Vec::new();
    if let Some(host) = msg.url.and_then(util::url_host) {
        let n = Node::field("host", host.clone());
        node.push(match host.as_str() {
            "login.microsoftonline.us" => n.with_note("US Government cloud"),
            "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => {
                n.with_note("China cloud (21Vianet)")
            }
            "login.microsoftonline.com" | "login.windows.net" | "login.microsoft.com" => {
                n.with_note("Entra ID, public cloud")
            }
            _ => n,
        });
    }
    if let Some(i) = userrealm_at(msg.path()) {
        let tenant = msg
            .path()
            .get(..i)
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        if !tenant.is_empty() {
            node.push(
                Node::field("tenant segment", tenant).with_note(crate::oidc::tenant_note(tenant)),
            );
        }
    }
    if let Some(name) = asked_name(msg, cx) {
        let is_upn = name.contains('@');
        node.push(Node::field(
            if is_upn { "upn" } else { "name" },
            name.clone(),
        ));
        node.push(
            Node::field("domain", domain_of(&name))
                .with_note("HRD answers per domain: every user of a domain gets the same answer"),
        );
    }
    match flavor {
        Flavor::V1 | Flavor::V2 => {
            let v = query_value(msg, "api-version");
            match v.as_deref() {
                Some("1.0") => {
                    node.push(Node::field("api-version", "1.0").with_note(
                        "v1 answer: account_type, federation_* fields (ADAL, AAD Connect)",
                    ))
                }
                Some("2.0") => node.push(
                    Node::field("api-version", "2.0")
                        .with_note("v2 answer: NameSpaceType, AuthURL, TenantBrandingInfo"),
                ),
                Some(other) => {
                    node.push(Node::field("api-version", other));
                    findings.push(
                        Finding::warning(format!(
                            "api-version {other} is not one the userrealm endpoint is known to \
                             answer (1.0, 2.0)"
                        ))
                        .at("asked/api-version"),
                    );
                }
                None => {
                    findings.push(Finding::warning(
                        "no api-version: the userrealm endpoint expects api-version=1.0 or 2.0",
                    ));
                }
            }
        }
        Flavor::Srf | Flavor::SrfXml => {
            if let Some(x) = query_value(msg, "xml") {
                node.push(Node::field("xml", x).with_note("1: answer as <RealmInfo> XML"));
            }
        }
        Flavor::CredentialType => {}
    }
    for (k, v) in msg.query_pairs() {
        if !["api-version", "login", "xml"]
            .iter()
            .any(|n| k.eq_ignore_ascii_case(n))
        {
            node.push(Node::field(k, v));
        }
    }
    (node, findings)
}

fn decode_request(
    msg: &Message<'_>,
    flavor: Flavor,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let (asked, mut findings) = asked_node(msg, flavor, cx);
    let mut root = Node::section(format!("{} request", flavor.label()));
    root.push(asked);
    if flavor == Flavor::CredentialType && !msg.body.is_empty() {
        let doc = parse_json_ordered(msg.body, "body", &cx.limits)?;
        let (mut body, fs) = json_tree_plain("body", &doc, cx);
        findings.extend(fs);
        annotate_tree(&mut body, cx, &mut findings, "body");
        root.push(body);
    }
    let name = asked_name(msg, cx).unwrap_or_else(|| "(no name)".into());
    let extra = match flavor {
        Flavor::V1 | Flavor::V2 => query_value(msg, "api-version")
            .map(|v| format!(" (api-version={v})"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    if !name.contains('@') && name != "(no name)" {
        findings.push(Finding::info(format!(
            "asks about `{name}`, not a UPN: the answer describes the domain"
        )));
    }
    let mut d = Decoded::new(
        "realm",
        format!("{} request: {name}{extra}", flavor.label()),
        root,
    );
    d.findings = findings;
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// What was answered

/// `<RealmInfo>` as a JSON object: attributes and child elements by name, in order, so one code
/// path explains both answers. `Certificate` keeps its base64 text.
fn realm_info_to_json(doc: &Document<'_>, el: NodeId) -> JsonValue {
    let mut members = Vec::new();
    for a in doc.attributes(el) {
        if !a.qname.starts_with("xmlns") {
            members.push((a.qname.to_string(), JsonValue::String(a.value.to_string())));
        }
    }
    for child in doc.child_elements(el) {
        let value = if doc.child_elements(child).next().is_some() {
            realm_info_to_json(doc, child)
        } else {
            typed(direct_text(doc, child))
        };
        members.push((doc.local_name(child).to_string(), value));
    }
    JsonValue::Object(members)
}

/// Reads the `xml=1` answer. A DOCTYPE is refused in this decoder's own words.
fn parse_realm_xml<'a>(text: &'a str, cx: &Context<'_>) -> Result<Document<'a>, DecodeError> {
    Document::parse_lenient(text, &cx.limits).map_err(|e| match e {
        DecodeError::Xml { offset, .. } if is_doctype_refusal(&e) => DecodeError::Xml {
            offset,
            message: "DOCTYPE refused: DTDs are never processed and entities never expanded".into(),
        },
        e => e,
    })
}

/// XML text as the JSON value the JSON answer would carry: small integers and booleans typed,
/// everything else a string.
fn typed(text: String) -> JsonValue {
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if !digits.is_empty()
        && digits.len() <= 9
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = text.parse::<i64>()
    {
        return JsonValue::Number(n.into());
    }
    match text.as_str() {
        "true" => JsonValue::Bool(true),
        "false" => JsonValue::Bool(false),
        _ => JsonValue::String(text),
    }
}

/// The flavor from the body when the URL does not say.
fn flavor_of_body(doc: &JsonValue) -> Option<Flavor> {
    if doc.get_loose("account_type").is_some() || doc.get("ver").is_some() {
        Some(Flavor::V1)
    } else if doc.get_loose("IfExistsResult").is_some() || doc.get_loose("Credentials").is_some() {
        Some(Flavor::CredentialType)
    } else if doc.get_loose("State").is_some() && doc.get_loose("NameSpaceType").is_some() {
        Some(Flavor::Srf)
    } else if doc.get_loose("NameSpaceType").is_some() {
        Some(Flavor::V2)
    } else {
        None
    }
}

/// The facts every HRD answer shape can carry, under any of its names.
#[derive(Debug, Default)]
struct Facts {
    namespace: Option<String>,
    domain: Option<String>,
    login: Option<String>,
    protocol: Option<String>,
    mex: Option<String>,
    active: Option<String>,
    passive: Option<String>,
    brand: Option<String>,
}

fn str_of(doc: &JsonValue, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        doc.get_loose(n)
            .filter(|v| !matches!(v, JsonValue::Null))
            .map(JsonValue::display)
            .filter(|s| !s.is_empty())
    })
}

fn facts_of(doc: &JsonValue, flavor: Flavor) -> Facts {
    let creds = doc.get_loose("Credentials");
    let redirect = creds.and_then(|c| str_of(c, &["FederationRedirectUrl"]));
    let namespace = str_of(doc, &["account_type", "NameSpaceType"]).or_else(|| {
        if flavor != Flavor::CredentialType {
            return None;
        }
        if redirect.is_some() {
            return Some("Federated".into());
        }
        let dt = doc
            .get_loose("EstsProperties")
            .and_then(|e| e.get_loose("DomainType"))
            .and_then(JsonValue::as_i64);
        match dt {
            Some(3) => Some("Managed".into()),
            Some(4) => Some("Federated".into()),
            Some(2) => Some("Consumer".into()),
            Some(1) => Some("Unknown".into()),
            _ => None,
        }
    });
    Facts {
        namespace,
        domain: str_of(doc, &["domain_name"]),
        login: str_of(doc, &["Login", "Username"]),
        protocol: str_of(doc, &["federation_protocol"]),
        mex: str_of(doc, &["federation_metadata_url", "MEXURL"]),
        active: str_of(doc, &["federation_active_auth_url", "STSAuthURL"]),
        passive: str_of(doc, &["AuthURL"]).or(redirect),
        brand: str_of(doc, &["FederationBrandName"]),
    }
}

fn decode_response(
    msg: &Message<'_>,
    url_flavor: Option<Flavor>,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let is_xml = first_byte(msg.body) == Some(b'<');
    let mut findings = Vec::new();
    let (doc, flavor) = if is_xml {
        let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
        let xml = parse_realm_xml(text, cx)?;
        let Some(top) = xml.root() else {
            return Err(DecodeError::not("an HRD answer", "no XML root element"));
        };
        if !xml.local_name(top).eq_ignore_ascii_case("RealmInfo") {
            return Err(DecodeError::not(
                "an HRD answer",
                format!("XML root is <{}>, not <RealmInfo>", xml.qname(top)),
            ));
        }
        for name in xml.unresolved_entities() {
            findings.push(Finding::warning(format!(
                "entity reference &{name}; left unexpanded (no DTD is processed)"
            )));
        }
        (realm_info_to_json(&xml, top), Flavor::SrfXml)
    } else {
        let doc = parse_json_ordered(msg.body, "body", &cx.limits)?;
        if doc.as_object().is_none() {
            return Err(DecodeError::not(
                "an HRD answer",
                "body is not a JSON object",
            ));
        }
        let flavor = match url_flavor {
            Some(Flavor::SrfXml) => Flavor::Srf,
            Some(f) => f,
            None => flavor_of_body(&doc)
                .ok_or_else(|| DecodeError::not("an HRD answer", "no realm fields"))?,
        };
        (doc, flavor)
    };
    let facts = facts_of(&doc, flavor);

    let mut root = Node::section(flavor.label());
    if let Some(status) = msg.status {
        root.push(Node::leaf("status", status.to_string(), Kind::Number));
        if !(200..300).contains(&status) {
            findings.push(Finding::warning(format!(
                "HTTP {status}: the lookup did not succeed"
            )));
        }
    }
    if msg.url.is_some() {
        let (asked, fs) = asked_node(msg, flavor, cx);
        findings.extend(fs);
        if !asked.children.is_empty() {
            root.push(asked);
        }
    }
    let (signin, idp) = signin_node(&facts, &mut findings);
    root.push(signin);

    let (mut fields, fs) = json_tree_plain("fields", &doc, cx);
    findings.extend(fs);
    annotate_tree(
        &mut fields,
        cx,
        &mut findings,
        &format!("{}/fields", flavor.label()),
    );
    root.push(fields);

    checks(msg, &doc, &facts, flavor, cx, &mut findings);

    // HRD answers are per domain; GetCredentialType answers per user.
    let name = facts.login.clone().or_else(|| asked_name(msg, cx));
    let subject = if flavor == Flavor::CredentialType {
        name.or_else(|| facts.domain.clone())
    } else {
        facts
            .domain
            .clone()
            .or_else(|| name.as_deref().map(|n| domain_of(n).to_string()))
    }
    .unwrap_or_else(|| "(unnamed)".into());
    let summary = summary_line(flavor, &subject, &facts, &doc, idp.as_deref());
    let mut d = Decoded::new("realm", summary, root);
    d.findings = findings;
    Ok(d)
}

fn summary_line(
    flavor: Flavor,
    subject: &str,
    facts: &Facts,
    doc: &JsonValue,
    idp: Option<&str>,
) -> String {
    let label = flavor.label();
    if flavor == Flavor::CredentialType {
        let exists = match doc.get_loose("IfExistsResult").and_then(JsonValue::as_i64) {
            Some(0) => "exists",
            Some(1) => "not found",
            Some(5) => "exists (Microsoft account)",
            Some(6) => "exists (work/school and Microsoft account)",
            Some(_) => "existence unclear",
            None => "",
        };
        let mut s = format!("{label}: {subject}");
        if !exists.is_empty() {
            s.push_str(&format!(" {exists}"));
        }
        if let Some(ns) = &facts.namespace {
            s.push_str(&format!(", {ns}"));
        }
        if let Some(h) = idp {
            s.push_str(&format!(" → {h}"));
        }
        return s;
    }
    let Some(ns) = facts.namespace.as_deref() else {
        return format!("{label}: {subject}, no account type in the answer");
    };
    let tail = match ns {
        n if n.eq_ignore_ascii_case("Federated") => {
            let proto = facts
                .protocol
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            match idp {
                Some(h) => format!("{proto} → {h}"),
                None => format!("{proto} (no IdP endpoint listed)"),
            }
        }
        n if n.eq_ignore_ascii_case("Managed") => " (cloud sign-in)".into(),
        n if n.eq_ignore_ascii_case("Unknown") => " (domain not found)".into(),
        _ => String::new(),
    };
    format!("{label}: {subject} is {ns}{tail}")
}

/// The interpretation: who checks the password, and every federation endpoint. Returns the node
/// and the IdP host.
fn signin_node(facts: &Facts, findings: &mut Vec<Finding>) -> (Node, Option<String>) {
    let mut node = Node::section("sign-in");
    let ns = facts.namespace.as_deref().unwrap_or("");
    node.value = facts.namespace.clone();
    let explain = match ns.to_ascii_lowercase().as_str() {
        "managed" => "Managed: Entra ID checks the credentials itself (cloud password, password \
                      hash sync, or pass-through authentication to on-premises agents; HRD does \
                      not say which); no federation server is involved"
            .to_string(),
        "federated" => "Federated: Entra ID never sees the password. Browsers are sent to the \
                        IdP's passive (WS-Fed) URL; rich clients doing ROPC read MEX and send the \
                        password to the WS-Trust usernamemixed endpoint. The IdP issues a SAML \
                        token that Entra ID accepts when it is signed with the domain's \
                        federation certificate and names the user by ImmutableID"
            .to_string(),
        "unknown" => "Unknown: no Entra ID tenant has verified this domain (a typo, an \
                      unverified domain, or a name that does not exist); sign-in with it fails"
            .to_string(),
        "consumer" => "Consumer: a Microsoft account (personal) domain".to_string(),
        "" => "the answer does not say (no account_type / NameSpaceType)".to_string(),
        other => format!("{other}: not a value this decoder knows"),
    };
    node.push(Node::text("authentication", explain));
    if let Some(b) = &facts.brand {
        node.push(
            Node::field("brand", b.clone()).with_note("organisation name on the sign-in page"),
        );
    }
    let endpoints = [
        (
            "MEX (metadata exchange)",
            facts.mex.as_deref(),
            "WS-MetadataExchange document: where rich clients discover the WS-Trust endpoints \
             and their policies",
        ),
        (
            "active (WS-Trust usernamemixed)",
            facts.active.as_deref(),
            "WS-Trust endpoint that takes a username and password in a SOAP request (federated \
             ROPC, ADAL/MSAL, AAD Connect)",
        ),
        (
            "passive (WS-Fed sign-in)",
            facts.passive.as_deref(),
            "where browsers are redirected to sign in (WS-Fed passive)",
        ),
    ];
    let mut idp = None;
    let mut ep_node = Node::section("federation endpoints");
    for (label, url, note) in endpoints {
        let Some(url) = url else { continue };
        let host = util::url_host(url);
        if idp.is_none() {
            idp.clone_from(&host);
        }
        if host.is_some()
            && !url
                .get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        {
            findings.push(
                Finding::warning(format!(
                    "federation endpoint over plain HTTP: {url} (credentials and tokens in clear)"
                ))
                .at(format!("sign-in/federation endpoints/{label}")),
            );
        }
        ep_node.push(federation_url_node(label, url, note));
    }
    // The passive URL names the IdP the user actually lands on; prefer it.
    if let Some(h) = facts.passive.as_deref().and_then(util::url_host) {
        idp = Some(h);
    }
    if let Some(h) = &idp {
        node.push(Node::field("identity provider", h.clone()));
    }
    if let Some(p) = &facts.protocol {
        node.push(Node::field("protocol", p.clone()).with_note(protocol_note(p)));
    }
    if !ep_node.children.is_empty() {
        node.push(ep_node);
    }
    if ns.eq_ignore_ascii_case("federated") {
        match &idp {
            Some(h) => findings.push(
                Finding::info(format!(
                    "federated: the user signs in at {h}, not at Entra ID"
                ))
                .at("sign-in"),
            ),
            None => findings.push(
                Finding::warning(
                    "federated, but no federation endpoint is listed: clients cannot find the \
                     IdP",
                )
                .at("sign-in"),
            ),
        }
    }
    (node, idp)
}

fn protocol_note(p: &str) -> &'static str {
    match p.to_ascii_lowercase().as_str() {
        "wstrust" | "wsfed" => "WS-Federation (passive) and WS-Trust (active), the ADFS style",
        "saml20" | "samlp" => "SAML 2.0 protocol federation",
        _ => "federation protocol",
    }
}

/// A federation URL with its query parameters decoded and explained (`wa`, `wtrealm`, `wctx` …).
fn federation_url_node(label: &str, url: &str, note: &str) -> Node {
    let mut node = Node::field(label, url).with_note(note);
    for (k, v) in util::url_query_pairs(url) {
        let n = Node::field(k.clone(), v.clone());
        let n = match k.to_ascii_lowercase().as_str() {
            "username" => n.with_note("the user's name, prefilled at the IdP"),
            "wa" if v == "wsignin1.0" => n.with_note("WS-Federation sign-in request"),
            "wa" => n.with_note("WS-Federation action"),
            "wtrealm" if v.eq_ignore_ascii_case("urn:federation:MicrosoftOnline") => n.with_note(
                "the relying party: Entra ID (the IdP's relying party trust for Microsoft 365)",
            ),
            "wtrealm" => n.with_note("the relying party the token is for"),
            "wctx" if v.is_empty() => n.with_note(
                "state Entra ID gets back with the token; empty here, filled at redirect time",
            ),
            "wctx" => {
                let mut n = n.with_note("state Entra ID gets back with the token");
                if v.contains('=') {
                    for (ck, cv) in util::parse_form(v.as_bytes()) {
                        n.push(Node::field(ck, cv));
                    }
                }
                n
            }
            "wreply" => {
                n.with_note("where the IdP posts the token (default: the RP's configured URL)")
            }
            "whr" => n.with_note("home realm hint"),
            "wfresh" => {
                n.with_note("maximum age of the authentication in minutes (0 = sign in again)")
            }
            "wauth" => n.with_note("requested authentication method"),
            "mkt" | "lc" => n.with_note("UI language"),
            _ => n,
        };
        node.push(n);
    }
    node
}

/// The explanation of a field by its (loose) name and value.
fn field_note(label: &str, value: Option<&str>) -> Option<String> {
    let key: String = label
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let int = value.and_then(|v| v.trim().parse::<i64>().ok());
    let s = |t: &str| Some(t.to_string());
    match key.as_str() {
        "ver" => s("answer format version"),
        "accounttype" | "namespacetype" => match value.map(str::to_ascii_lowercase).as_deref() {
            Some("managed") => s("Entra ID checks the credentials (cloud password, PHS or PTA)"),
            Some("federated") => s("sign-in is delegated to the domain's identity provider"),
            Some("unknown") => s("no tenant has verified this domain"),
            _ => s("how the domain signs in"),
        },
        "domainname" => {
            s("the verified domain that matched (the name's domain or a parent domain)")
        }
        "federationprotocol" => s("WSTrust: WS-Fed/WS-Trust (ADFS style); SAML20: SAML-P"),
        "federationmetadataurl" | "mexurl" => s("the IdP's MEX (WS-MetadataExchange) URL"),
        "federationactiveauthurl" | "stsauthurl" => {
            s("WS-Trust usernamemixed endpoint: takes the username and password (federated ROPC)")
        }
        "cloudinstancename" => s("the cloud: microsoftonline.com is the public cloud"),
        "cloudaudienceurn" | "cloudinstanceissueruri" => {
            s("Entra ID's identifier at the IdP (wtrealm / AppliesTo of federation tokens)")
        }
        "state" => match int {
            Some(3) => s("3: seen with Federated answers (undocumented code)"),
            Some(4) => s("4: seen with Managed and Unknown answers (undocumented code)"),
            _ => s("namespace state (undocumented code; 4 = managed, 3 = federated seen)"),
        },
        "userstate" => match int {
            Some(1) => s("1: seen for managed and unknown names (undocumented code)"),
            Some(2) => s("2: seen for federated users (undocumented code)"),
            _ => s("user state (undocumented code; 1 = managed, 2 = federated seen)"),
        },
        "login" => s("the name asked about, as Entra ID echoes it"),
        "federationglobalversion" => match int {
            Some(-1) => s("-1: no federation version (not federated)"),
            _ => s("version of the federation configuration"),
        },
        "authurl" => s("the IdP's passive sign-in URL, query prebuilt (see sign-in)"),
        "federationbrandname" => s("organisation name on the sign-in page"),
        "authnforwardtype" => {
            s("how Entra ID forwards authentication to the IdP (undocumented code)")
        }
        "consumerdomain" => s("true: a Microsoft account (personal) domain such as outlook.com"),
        "tenantbrandinginfo" | "usertenantbranding" => {
            s("company branding on the sign-in page, per locale")
        }
        "locale" => s("branding locale (0 = default)"),
        "bannerlogo" => s("banner logo URL"),
        "tilelogo" => s("tile logo URL"),
        "illustration" => s("background image URL"),
        "backgroundcolor" => s("page background colour"),
        "boilerplatetext" => s("text shown under the sign-in box"),
        "useridlabel" => s("hint text in the username box"),
        "keepmesignedindisabled" => s("true: the 'stay signed in' prompt is hidden"),
        "isfederatedns" => s("true when the namespace is federated"),
        "preferredprotocol" => s("the IdP's preferred federation protocol (undocumented code)"),
        "certificate" => s(
            "the IdP's token-signing certificate (base64 DER): Entra ID verifies federation tokens with it",
        ),
        "success" => s("whether the lookup succeeded"),
        "username" => s("the name asked about"),
        "display" => s("the name shown on the sign-in page"),
        "ifexistsresult" => match int {
            Some(0) => s("0: the account exists"),
            Some(1) => s("1: no such account"),
            Some(5) => s("5: exists in another Microsoft identity provider (a Microsoft account)"),
            Some(6) => s("6: exists both as work/school and as Microsoft account"),
            _ => s("account existence (code not recognised)"),
        },
        "throttlestatus" => match int {
            Some(0) => s("0: not throttled"),
            Some(1) => s("1: throttled: IfExistsResult is not reliable"),
            _ => s("throttling state"),
        },
        "credentials" => s("how this account can sign in"),
        "prefcredential" => match int {
            Some(1) => {
                s("1: password (preferred credential; codes from the sign-in page, undocumented)")
            }
            Some(2) => s("2: Authenticator app notification (remote NGC)"),
            Some(3) => s("3: one-time code"),
            Some(4) => s("4: federation (the IdP)"),
            Some(7) => s("7: FIDO2 security key"),
            _ => s("preferred credential (code not recognised)"),
        },
        "haspassword" => s("whether the account has a password"),
        "remotengcparams" => s("Authenticator phone sign-in parameters"),
        "fidoparams" => s("FIDO2 security key parameters"),
        "sasparams" => s("strong authentication (MFA) parameters"),
        "federationredirecturl" => {
            s("the IdP's passive sign-in URL: a federated user is sent there")
        }
        "estsproperties" => s("properties from ESTS, the Entra sign-in service"),
        "domaintype" => match int {
            Some(1) => s("1: unknown domain (observed)"),
            Some(2) => s("2: consumer (Microsoft account) domain (observed)"),
            Some(3) => s("3: managed domain (observed)"),
            Some(4) => s("4: federated domain (observed)"),
            _ => s("domain type (code not recognised)"),
        },
        "desktopssoenabled" => s("whether Seamless SSO (Kerberos to AZUREADSSOACC) is enabled"),
        "flowtoken" => s("opaque sign-in session state, echoed by the next request"),
        "apicanary" => s("anti-forgery canary of the sign-in page API"),
        "isotheridpsupported" => {
            s("whether the client handles accounts of other identity providers")
        }
        "checkphones" => s("whether to also look up phone-number sign-in names"),
        "isremotengcsupported" => s("whether the client supports Authenticator phone sign-in"),
        "iscookiebannershown" => s("whether the cookie banner is shown"),
        "isfidosupported" => s("whether the browser supports FIDO2"),
        "originalrequest" => s("the original authorize request, as ESTS serialised it"),
        "country" => s("country hint"),
        "mkt" => s("UI language of the sign-in page"),
        "forceotclogin" => s("whether to force one-time-code sign-in"),
        "isexternalfederationdisallowed" => s("whether external federation is disallowed"),
        "isremoteconnectsupported" => {
            s("whether the client supports remote (cross-device) sign-in")
        }
        "federationflags" => s("federation flags (undocumented bit field)"),
        "issignup" => s("whether this is a sign-up flow"),
        "isunmanaged" => {
            s("whether the account belongs to an unmanaged (self-service sign-up) tenant")
        }
        "issignupdisallowed" => s("whether self-service sign-up is blocked"),
        "certauthparams" => s("certificate-based authentication parameters"),
        "googleparams" | "facebookparams" => s("sign-in with a social identity provider (guests)"),
        "federationtier" => s("undocumented"),
        "checkformicrosoftaccount" => {
            s("whether to also check for a Microsoft account of that name")
        }
        "isaccesspasssupported" => s("whether the client supports Temporary Access Pass"),
        _ => None,
    }
}

/// Adds notes to every node of the `fields` subtree, and opens the `Certificate` of a
/// `<RealmInfo>` answer. Subtrees of nested decodes (`decoded as …`) belong to other decoders and
/// are left alone.
fn annotate_tree(node: &mut Node, cx: &Context<'_>, findings: &mut Vec<Finding>, path: &str) {
    for child in &mut node.children {
        if child.label.starts_with("decoded as ") {
            continue;
        }
        let cpath = format!("{path}/{}", child.label);
        if child.note.is_none()
            && let Some(n) = field_note(&child.label, child.value.as_deref())
        {
            child.note = Some(n);
        }
        if child.label.eq_ignore_ascii_case("Certificate") && child.value.is_some() {
            open_certificate(child, cx, findings, &cpath);
            continue;
        }
        annotate_tree(child, cx, findings, &cpath);
    }
}

/// Replaces whatever a generic nested decode made of the signing certificate with the
/// certificate itself.
fn open_certificate(node: &mut Node, cx: &Context<'_>, findings: &mut Vec<Finding>, path: &str) {
    let b64 = node.value.clone().unwrap_or_default();
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    node.children.clear();
    match util::b64_decode_any(&compact, cx.limits.max_inflate)
        .ok_or(DecodeError::Base64 {
            field: "Certificate",
        })
        .and_then(|der| parse_certificate(&der))
    {
        Ok(cert) => {
            let at = format!("{path}/certificate");
            findings.extend(cert.findings(cx.now, &at));
            node.push(cert.to_node("certificate", cx.now));
        }
        Err(e) => {
            findings.push(Finding::error(format!("signing certificate unreadable: {e}")).at(path));
        }
    }
}

/// Consistency checks across the answer and the question.
fn checks(
    msg: &Message<'_>,
    doc: &JsonValue,
    facts: &Facts,
    flavor: Flavor,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) {
    let ns = facts.namespace.as_deref().unwrap_or("");
    if ns.eq_ignore_ascii_case("unknown") {
        findings.push(Finding::warning(format!(
            "domain not found: {} is not a verified domain of any Entra ID tenant (a typo, or \
             the domain was never verified); sign-in with this name will fail",
            facts
                .domain
                .clone()
                .or_else(|| asked_name(msg, cx).map(|n| domain_of(&n).to_string()))
                .unwrap_or_else(|| "the domain".into())
        )));
    }
    if let Some(fed) = doc.get_loose("IsFederatedNS").and_then(JsonValue::as_bool) {
        let says_fed = ns.eq_ignore_ascii_case("federated");
        if !ns.is_empty() && fed != says_fed {
            findings.push(Finding::warning(format!(
                "IsFederatedNS is {fed} but NameSpaceType is {ns}: the answer contradicts itself"
            )));
        }
    }
    if let (Some(asked), Some(domain)) = (asked_name(msg, cx), &facts.domain) {
        let asked_domain = domain_of(&asked).to_ascii_lowercase();
        let domain = domain.to_ascii_lowercase();
        if asked_domain != domain && !asked_domain.ends_with(&format!(".{domain}")) {
            findings.push(Finding::info(format!(
                "asked about {asked_domain} but the answer is for {domain}"
            )));
        }
    }
    if doc.get_loose("ConsumerDomain").and_then(JsonValue::as_bool) == Some(true) {
        findings.push(Finding::info(
            "a Microsoft account (consumer) domain: personal accounts, not a work/school tenant",
        ));
    }
    if flavor == Flavor::CredentialType {
        match doc.get_loose("IfExistsResult").and_then(JsonValue::as_i64) {
            Some(1) => findings.push(Finding::warning(
                "IfExistsResult 1: no such account (or the tenant hides it)",
            )),
            Some(0 | 5 | 6) | None => {}
            Some(other) => findings.push(Finding::info(format!(
                "IfExistsResult {other}: a code this decoder does not know"
            ))),
        }
        if doc.get_loose("ThrottleStatus").and_then(JsonValue::as_i64) == Some(1) {
            findings.push(Finding::warning(
                "ThrottleStatus 1: the lookup was throttled, IfExistsResult is not reliable",
            ));
        }
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

    const FED_V1: &[u8] = br#"{"ver":"1.0","account_type":"Federated","domain_name":"contoso.com","federation_protocol":"WSTrust","federation_metadata_url":"https://sts.contoso.com/adfs/services/trust/mex","federation_active_auth_url":"https://sts.contoso.com/adfs/services/trust/2005/usernamemixed","cloud_instance_name":"microsoftonline.com","cloud_audience_urn":"urn:federation:MicrosoftOnline"}"#;

    #[test]
    fn userrealm_path_segment_is_case_insensitive() {
        let trust = Trust::default();
        let url = "https://login.microsoftonline.com/common/UserRealm/alice%40contoso.com?api-version=1.0";
        let msg = Message::get_ok(url, FED_V1);
        assert_eq!(Realm.priority(&msg), 0.9);
        let d = Realm.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(
            d.summary,
            "realm v1: contoso.com is Federated (WSTrust) → sts.contoso.com"
        );
        assert_eq!(
            d.root.find_path("asked/upn").unwrap().value.as_deref(),
            Some("alice@contoso.com")
        );
    }

    #[test]
    fn bom_is_tolerated() {
        let trust = Trust::default();
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(FED_V1);
        let d = Realm.decode(&Message::blob(&body), &cx(&trust));
        // A blob has no direction to go by; it is decoded as a response.
        let d = d.unwrap();
        assert!(d.summary.starts_with("realm v1: contoso.com is Federated"));
    }

    #[test]
    fn missing_fields_still_decode() {
        let trust = Trust::default();
        let msg = Message::get_ok(
            "https://login.microsoftonline.com/common/userrealm/x@y.z?api-version=1.0",
            b"{}",
        );
        let d = Realm.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(d.summary, "realm v1: y.z, no account type in the answer");
    }

    #[test]
    fn federated_without_endpoints_is_a_warning() {
        let trust = Trust::default();
        let body = br#"{"ver":"1.0","account_type":"Federated","domain_name":"contoso.com"}"#;
        let d = Realm.decode(&Message::blob(body), &cx(&trust)).unwrap();
        assert!(
            d.summary.ends_with("(no IdP endpoint listed)"),
            "{}",
            d.summary
        );
        assert_eq!(d.worst(), Some(crate::Severity::Warning));
    }

    #[test]
    fn malformed_json_is_an_exact_json_error() {
        let trust = Trust::default();
        let msg = Message::response(
            "GET",
            "https://login.microsoftonline.com/common/userrealm/a@b.c?api-version=1.0",
            200,
            vec![],
            b"{\"ver\":\"1.0\",}",
        );
        assert_eq!(
            Realm.decode(&msg, &cx(&trust)).unwrap_err(),
            DecodeError::Json {
                field: "body",
                line: 1,
                column: 14,
                message: "trailing comma at line 1 column 14".into(),
            }
        );
    }

    #[test]
    fn realm_info_doctype_is_refused() {
        let trust = Trust::default();
        let body = br#"<!DOCTYPE RealmInfo [<!ENTITY e "x">]><RealmInfo Success="true"><State>&e;</State></RealmInfo>"#;
        let msg = Message::get_ok(
            "https://login.microsoftonline.com/GetUserRealm.srf?login=a@b.c&xml=1",
            body,
        );
        assert!(matches!(
            Realm.decode(&msg, &cx(&trust)),
            Err(DecodeError::Xml { offset: 0, .. })
        ));
    }

    #[test]
    fn v2_snake_and_pascal_case_both_count() {
        let trust = Trust::default();
        let body = br#"{"NameSpaceType":"Managed","Login":"a@contoso.com","DomainName":"contoso.com","cloud_instance_name":"microsoftonline.com"}"#;
        let d = Realm.decode(&Message::blob(body), &cx(&trust)).unwrap();
        assert_eq!(
            d.summary,
            "realm v2: contoso.com is Managed (cloud sign-in)"
        );
    }

    #[test]
    fn nesting_beyond_the_limit_is_too_large() {
        let trust = Trust::default();
        let body = format!(
            "{{\"account_type\":{}1{}}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        let msg = Message::get_ok(
            "https://login.microsoftonline.com/common/userrealm/a@b.c?api-version=1.0",
            body.as_bytes(),
        );
        assert_eq!(
            Realm.decode(&msg, &cx(&trust)).unwrap_err(),
            DecodeError::TooLarge {
                what: "JSON nesting depth",
                limit: 64
            }
        );
    }

    #[test]
    fn xml_realm_info_is_read_like_the_json_answer() {
        let trust = Trust::default();
        let body = "\u{feff}<RealmInfo Success=\"true\"><State>4</State><NameSpaceType>Managed</NameSpaceType><DomainName>fabrikam.com</DomainName><IsFederatedNS>true</IsFederatedNS></RealmInfo>";
        let msg = Message::get_ok(
            "https://login.microsoftonline.com/GetUserRealm.srf?login=bob@fabrikam.com&xml=1",
            body.as_bytes(),
        );
        let d = Realm.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(
            d.summary,
            "GetUserRealm.srf xml=1: fabrikam.com is Managed (cloud sign-in)"
        );
        assert_eq!(d.root.find_path("fields/State").unwrap().kind, Kind::Number);
        assert!(d.has_finding("contradicts itself"));
    }

    #[test]
    fn credential_type_unknown_user_is_a_warning() {
        let trust = Trust::default();
        let body = br#"{"Username":"nobody@contoso.com","IfExistsResult":1,"ThrottleStatus":1,"Credentials":{"PrefCredential":1,"HasPassword":true},"EstsProperties":{"DomainType":3}}"#;
        let msg = Message::response(
            "POST",
            "https://login.microsoftonline.com/common/GetCredentialType",
            200,
            vec![],
            body,
        );
        let d = Realm.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(
            d.summary,
            "GetCredentialType: nobody@contoso.com not found, Managed"
        );
        assert_eq!(
            d.findings
                .iter()
                .filter(|f| f.severity == crate::Severity::Warning)
                .count(),
            2
        );
    }

    #[test]
    fn unrelated_json_is_not_claimed() {
        assert_eq!(Realm.priority(&Message::blob(br#"{"a":1}"#)), 0.0);
    }
}
