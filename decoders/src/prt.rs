//! Primary Refresh Token (PRT) and hybrid-join SSO (protocols.md §7, MS-OAPXBC): the
//! `srv_challenge` nonce, PRT acquisition requests (a JWT signed by the device key, `x5c` = the
//! device certificate), PRT responses (`token_type: pop`, `session_key_jwe`, `tgt_ad`/`tgt_cloud`),
//! the `x-ms-RefreshTokenCredential` PRT cookie or header on `/oauth2/authorize` and its 302
//! answers, requests signed with a session-key-derived key and their `alg: dir` JWE responses, and
//! DRS device registration (`/EnrollmentServer/device/`).
//!
//! **Split with `oauth`.** The `oauth` decoder owns the token endpoint's *form and JSON*: every form
//! field, the full header and claims of the `request` JWT, every field of the pop response, the
//! unsigned id_token's claims and their findings. This decoder does not repeat that dump; it adds
//! what only makes sense knowing the PRT protocol: which step of the flow a message is, who the
//! device is (certificate subject = device id, SHA-1 thumbprint as `dsregcmd` shows it), which
//! inner grant carries which credential (a password inside the JWT is an *error*-level finding; an
//! embedded SAML assertion is decoded through [`Context::decode_nested`]), what the nonce binds,
//! how the session key travels and which keys (transport key, session key, KDFv1/v2 with `ctx`)
//! every signature or ciphertext needs. The authorize endpoint, PRT cookies, JWE token responses
//! and DRS are this decoder's alone.
//!
//! Nothing here decrypts or verifies HMACs: that needs the session key, which a capture does not
//! contain (it is wrapped to the TPM-held transport key). Certificates in `x5c` and DRS answers
//! prove nothing by themselves; RS256 verdicts come from [`jwt::verify`] against keys the user
//! trusts. Every PRT, session key, TGT and authorization code is a [`Kind::Secret`].

use serde_json::{Map, Value};

use crate::jwt::{self, Form, Token};
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Decoder, Message};
use crate::{util, x509};

/// The `prt` decoder: PRT, PRT SSO and device-registration messages.
#[derive(Debug, Clone, Copy)]
pub struct Prt;

/// The header and cookie name of the PRT SSO credential.
pub const PRT_CREDENTIAL: &str = "x-ms-RefreshTokenCredential";
/// The companion device credential header/cookie.
pub const DEVICE_CREDENTIAL: &str = "x-ms-DeviceCredential";

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Which PRT artefact a message is (cheap classification from path, headers and byte markers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artefact {
    /// `grant_type=srv_challenge`: asks for a nonce.
    NonceRequest,
    /// `{"Nonce":"…"}`.
    NonceResponse,
    /// jwt-bearer with `request=<JWT>` (acquisition by the device key, or session-key signed).
    SignedRequest,
    /// A token response with `token_type: pop` or `session_key_jwe`.
    PrtResponse,
    /// A token response whose body is a bare compact JWE.
    EncryptedResponse,
    /// `/oauth2/authorize` with a PRT cookie/header or `sso_nonce`.
    SsoRequest,
    /// The authorize endpoint's answer to a PRT SSO request.
    SsoResponse,
    /// A DRS `/EnrollmentServer/device/` request.
    DeviceRegistrationRequest,
    /// A DRS `/EnrollmentServer/device/` response.
    DeviceRegistrationResponse,
}

use crate::util::contains;

fn is_token_path(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    crate::util::ends_with_ci(p, "/oauth2/token")
        || crate::util::ends_with_ci(p, "/oauth2/v2.0/token")
}

fn is_authorize_path(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    crate::util::ends_with_ci(p, "/oauth2/authorize")
        || crate::util::ends_with_ci(p, "/oauth2/v2.0/authorize")
}

/// The PRT credential JWT of a request: the `x-ms-RefreshTokenCredential` header, else the cookie
/// of that name. Returns the token and where it was found (`"header"` or `"cookie"`).
pub fn sso_credential<'a>(msg: &Message<'a>) -> Option<(&'a str, &'static str)> {
    if msg.direction == crate::Direction::Blob {
        // A pasted x-ms-RefreshTokenCredential value (`idscope decode`).
        let text = msg.text()?.trim();
        return is_prt_cookie_jwt(text.as_bytes()).then_some((text, "pasted value"));
    }
    if let Some(v) = msg.header(PRT_CREDENTIAL) {
        return Some((v.trim(), "header"));
    }
    cookie(msg, PRT_CREDENTIAL).map(|v| (v, "cookie"))
}

fn cookie<'a>(msg: &Message<'a>, name: &str) -> Option<&'a str> {
    msg.headers_named("cookie")
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// True for a 3-part JWT whose header carries `ctx` (session-key derivation context) and whose
/// payload carries a `refresh_token`: the shape of an `x-ms-RefreshTokenCredential` value.
fn is_prt_cookie_jwt(text: &[u8]) -> bool {
    let mut parts = text.split(|b| *b == b'.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let decode = |seg: &[u8]| {
        std::str::from_utf8(seg)
            .ok()
            .and_then(|s| crate::util::b64_decode_any(s, 64 * 1024))
    };
    match (decode(h), decode(p)) {
        (Some(h), Some(p)) => contains(&h, b"\"ctx\"") && contains(&p, b"\"refresh_token\""),
        _ => false,
    }
}

/// Classifies a message cheaply (no full parse); `None` when it is not a PRT artefact. A bare
/// blob (`idscope decode`) has no path: it is classified by its shape alone (a PRT cookie JWT,
/// a token-endpoint form, a nonce or PRT response, a JWE token response).
pub fn classify(msg: &Message<'_>) -> Option<Artefact> {
    if msg.direction == crate::Direction::Blob {
        let body = msg.body.get(..64 * 1024).unwrap_or(msg.body).trim_ascii();
        if is_prt_cookie_jwt(body) {
            return Some(Artefact::SsoRequest);
        }
        if contains(body, b"grant_type=") {
            return classify_token_request(body);
        }
        // Without a token-endpoint path, a compact JWE is a PRT response only when its header
        // carries the session-key context.
        let first = body.split(|b| *b == b'.').next().unwrap_or_default();
        let header = std::str::from_utf8(first)
            .ok()
            .and_then(|s| crate::util::b64_decode_any(s, 64 * 1024));
        if header.is_some() && !header.as_deref().is_some_and(|h| contains(h, b"\"ctx\"")) {
            return None;
        }
        return classify_token_response(body);
    }
    let path = msg.path();
    if crate::util::contains_ci(path.as_bytes(), b"/enrollmentserver/device") {
        return Some(if msg.is_response() {
            Artefact::DeviceRegistrationResponse
        } else {
            Artefact::DeviceRegistrationRequest
        });
    }
    if is_authorize_path(path) {
        let sso_query = msg.query_pairs().iter().any(|(k, _)| k == "sso_nonce");
        if msg.is_request() && (sso_credential(msg).is_some() || sso_query) {
            return Some(Artefact::SsoRequest);
        }
        let loc_nonce = msg
            .header("location")
            .is_some_and(|l| l.contains("sso_nonce="));
        if msg.is_response() && (sso_query || loc_nonce) {
            return Some(Artefact::SsoResponse);
        }
        return None;
    }
    let token = is_token_path(path) || crate::util::ends_with_ci(path, "/adfs/oauth2/token");
    let body = msg.body.get(..64 * 1024).unwrap_or(msg.body);
    if msg.is_request() {
        if !(token || contains(body, b"grant_type=")) {
            return None;
        }
        return classify_token_request(body);
    }
    if !token {
        return None;
    }
    classify_token_response(body)
}

fn classify_token_request(body: &[u8]) -> Option<Artefact> {
    if contains(body, b"grant_type=srv_challenge") {
        return Some(Artefact::NonceRequest);
    }
    let jwt_bearer = contains(body, b"jwt-bearer");
    if jwt_bearer && (contains(body, b"request=eyJ") || contains(body, b"&request=")) {
        return Some(Artefact::SignedRequest);
    }
    None
}

fn classify_token_response(body: &[u8]) -> Option<Artefact> {
    let trimmed = body.trim_ascii();
    if trimmed.starts_with(b"{") {
        if contains(trimmed, b"\"Nonce\"") {
            return Some(Artefact::NonceResponse);
        }
        if contains(trimmed, b"session_key_jwe")
            || contains(trimmed, b"\"token_type\":\"pop\"")
            || contains(trimmed, b"\"token_type\": \"pop\"")
        {
            return Some(Artefact::PrtResponse);
        }
        return None;
    }
    if jwt::looks_like_jwt(trimmed) && trimmed.iter().filter(|b| **b == b'.').count() == 4 {
        return Some(Artefact::EncryptedResponse);
    }
    None
}

impl Decoder for Prt {
    fn id(&self) -> &'static str {
        "prt"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        // Above `oauth` (0.9) and `jwt` (0.9) for PRT-specific messages, so the PRT reading is
        // the summary line; `oauth` still decodes the same token-endpoint form and JSON.
        match classify(msg) {
            Some(Artefact::SsoResponse) => 0.9,
            Some(_) => 0.95,
            None => 0.0,
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        if msg.body.len() > cx.limits.max_body {
            return Err(DecodeError::TooLarge {
                what: "PRT message body",
                limit: cx.limits.max_body,
            });
        }
        let Some(a) = classify(msg) else {
            return Err(DecodeError::not(
                "a PRT, PRT SSO or device-registration message",
                "no srv_challenge, jwt-bearer request, pop response, JWE token response, PRT \
                 cookie or DRS path",
            ));
        };
        match a {
            Artefact::NonceRequest => Ok(nonce_request()),
            Artefact::NonceResponse => nonce_response(msg, cx),
            Artefact::SignedRequest => signed_request(msg, cx),
            Artefact::PrtResponse => prt_response(msg, cx),
            Artefact::EncryptedResponse => encrypted_response(msg, cx),
            Artefact::SsoRequest => sso_request(msg, cx),
            Artefact::SsoResponse => Ok(sso_response(msg)),
            Artefact::DeviceRegistrationRequest => drs_request(msg, cx),
            Artefact::DeviceRegistrationResponse => drs_response(msg, cx),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

fn step_node(step: &str, text: &str) -> Node {
    Node::field("flow step", step).with_note(text)
}

/// The header `ctx`: standard base64 (with padding) inside a base64url JWT; 24 random bytes.
fn ctx_node(ctx: &str, at: &str, findings: &mut Vec<Finding>) -> (Node, Option<usize>) {
    let std_alphabet = ctx.contains(['+', '/']) || ctx.ends_with('=');
    let url_alphabet = ctx.contains(['-', '_']);
    let bytes = util::b64_decode_any(ctx, 1024);
    let len = bytes.as_ref().map(Vec::len);
    let mut note = format!(
        "key-derivation context: random bytes chosen by the client; the signing/encryption key is \
         derived from the session key and this value. Encoded as STANDARD base64{} inside a \
         base64url JWT",
        if std_alphabet {
            " (its +, / or = show it)"
        } else {
            ""
        }
    );
    match len {
        Some(n) => note.push_str(&format!("; {n} bytes")),
        None => note.push_str("; NOT valid base64"),
    }
    if url_alphabet {
        note.push_str("; uses base64url characters although clients send standard base64");
    }
    let n = Node::field("ctx", ctx).with_note(note);
    match len {
        Some(24) => {}
        Some(other) => findings.push(
            Finding::warning(format!(
                "ctx is {other} bytes; Windows, ROADtools and AADInternals use 24"
            ))
            .at(at.to_string()),
        ),
        None => findings.push(Finding::error("ctx is not valid base64").at(at.to_string())),
    }
    (n, len)
}

fn kdf_node(ver: Option<&Value>) -> (Node, u8) {
    let v = ver.and_then(util::json_int).unwrap_or(1);
    let text = ver
        .map(util::json_scalar)
        .unwrap_or_else(|| "(absent)".to_string());
    let note = if v == 2 {
        "KDFv2: derived key = HMAC-SHA256(session key, 00000001 || \"AzureAD-SecureConversation\" \
         || 00 || SHA-256(ctx || payload bytes) || 00000100); the context hashes the exact payload \
         bytes, so a re-serialised payload gives another key (MS-OAPXBC §3.1.5.2.1.3)"
    } else {
        "KDFv1 (no kdf_ver, or 1): derived key = HMAC-SHA256(session key, 00000001 || \
         \"AzureAD-SecureConversation\" || 00 || ctx || 00000100), SP 800-108 counter mode; the \
         same ctx always gives the same key"
    };
    (
        Node::field("kdf_ver", text).with_note(note),
        u8::try_from(v).unwrap_or(1),
    )
}

/// How the device key is written: `RSA 2048 bits`.
const DEVICE_KEY_FORM: x509::KeyForm = x509::KeyForm::Size {
    unit: " bits",
    other: "other key type",
    unparsed: "unparsed key",
};

/// How a device certificate is shown: its CN as the device id, the thumbprints as `dsregcmd`
/// and DRS show them, validity and key.
const DEVICE_CERT: x509::Style = x509::Style {
    head: x509::Head::Section,
    rows: &[
        x509::Row::CommonName {
            label: "device id",
            missing: "(no CN)",
            guid_note: "the certificate's CN: the Entra ID device id (dsregcmd: DeviceId)",
            other_note: "the CN is not a GUID: not an Entra ID device certificate",
        },
        x509::Row::Issuer(x509::IssuerNote::Text(
            "Entra ID issues device certificates from MS-Organization-Access; any other issuer \
             means a test CA or a forged certificate",
        )),
        x509::Row::Sha1 {
            label: "thumbprint",
            case: x509::Case::Upper,
            note: x509::HashNote::Text(
                "SHA-1 of the DER, upper-case hex: what dsregcmd /status shows as Thumbprint",
            ),
        },
        x509::Row::Sha256 {
            label: "sha256",
            case: x509::Case::Lower,
            note: x509::HashNote::Text("SHA-256 of the DER"),
        },
        x509::Row::Date {
            label: "not_before",
            end: false,
            relative: true,
        },
        x509::Row::Date {
            label: "not_after",
            end: true,
            relative: true,
        },
        x509::Row::Key {
            label: "public key",
            form: DEVICE_KEY_FORM,
            note: Some("the device key (TPM-bound on real devices)"),
        },
    ],
};

fn device_cert_node(label: &str, cert: &x509::Certificate, cx: &Context<'_>, what: &str) -> Node {
    cert.node(label, &DEVICE_CERT, cx.now).with_note(what)
}

fn cert_findings(
    cert: &x509::Certificate,
    at: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) {
    let v = cert.validity(cx.now);
    if v.expired {
        findings.push(
            Finding::error(format!(
                "the device certificate expired {}",
                util::format_epoch_relative(cert.not_after, cx.now)
            ))
            .at(at.to_string()),
        );
    } else if v.not_yet_valid {
        findings.push(
            Finding::error(format!(
                "the device certificate is not valid before {}",
                util::format_epoch_relative(cert.not_before, cx.now)
            ))
            .at(at.to_string()),
        );
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = text.find(start)? + start.len();
    let rest = text.get(i..)?;
    rest.get(..rest.find(end)?)
}

/// The well-known name of a client id, or the id shortened.
fn client_text(id: &str) -> String {
    match jwt::well_known_app(id) {
        Some(n) => format!("{} ({n})", util::short_id(id)),
        None => util::short_id(id),
    }
}

fn secret_len(label: &str, v: &str, note: &str) -> Node {
    Node::secret(label, v).with_note(format!("{note} ({} chars)", v.chars().count()))
}

// ---------------------------------------------------------------------------------------------
// Nonce

fn nonce_request() -> Decoded {
    let root = Node::section("PRT nonce request")
        .with_note(
            "asks Entra ID (or ADFS at /adfs/oauth2/token) for a fresh server nonce; no credential \
             travels in this request (MS-OAPXBC §4.1)",
        )
        .with_children([
            step_node(
                "1 of 3: nonce → PRT request → use",
                "the next PRT acquisition request, session-key-signed request or PRT cookie must \
                 carry the returned Nonce as request_nonce",
            ),
            Node::field("grant_type", "srv_challenge")
                .with_note("not a real OAuth grant: the endpoint answers {\"Nonce\":\"…\"}"),
        ]);
    Decoded::new(
        "prt",
        "PRT step 1: srv_challenge nonce request (no credential)",
        root,
    )
}

fn nonce_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let nonce = v
        .get("Nonce")
        .map(util::json_scalar)
        .ok_or(DecodeError::Missing("Nonce"))?;
    let len = nonce.chars().count();
    let root = Node::section("PRT nonce")
        .with_note("the server's challenge for the next PRT-related request")
        .with_children([
            step_node(
                "1 of 3: nonce → PRT request → use",
                "the client copies this value into request_nonce of the signed request or PRT \
                 cookie it builds next",
            ),
            Node::field("Nonce", &nonce).with_note(format!(
                "opaque to the client ({len} chars; capital N in the JSON). It proves freshness: \
                 Entra ID accepts it once and only for a few minutes, so a captured PRT request or \
                 cookie cannot be replayed later. A request_nonce that does not match a nonce \
                 issued recently fails (AADSTS error, or a stale-nonce 302 on /authorize)"
            )),
        ]);
    Ok(Decoded::new(
        "prt",
        format!(
            "PRT nonce {}… ({len} chars, single-use): must come back as request_nonce",
            nonce.chars().take(12).collect::<String>()
        ),
        root,
    ))
}

// ---------------------------------------------------------------------------------------------
// Signed requests (acquisition by the device key; session-key signed)

fn inner_grant_meaning(g: &str) -> &'static str {
    match g {
        "password" => {
            "the user's name and password inside the device-signed JWT (Windows sign-in of a \
             managed user, or a tool): Entra ID checks the password and issues a PRT"
        }
        "urn:ietf:params:oauth:grant-type:saml1_1-bearer" => {
            "a SAML 1.1 assertion from the on-premises ADFS (federated hybrid join): Entra ID \
             trusts the federation and issues a PRT"
        }
        "urn:ietf:params:oauth:grant-type:saml2-bearer" => {
            "a SAML 2.0 assertion from a federated IdP"
        }
        "refresh_token" => {
            "redeems a refresh token; inside a PRT-protocol request the refresh_token is the PRT \
             itself (renewal with scope aza, or a token for a resource)"
        }
        JWT_BEARER => {
            "a Windows Hello for Business assertion (a JWT signed by the NGC key) proves the user"
        }
        _ => "a grant this decoder does not know",
    }
}

fn signed_request(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let form = util::parse_form(msg.body);
    let req = form_get(&form, "request").ok_or(DecodeError::Missing("request"))?;
    let token = jwt::parse_limited(req, &cx.limits)?;
    if token.form == Form::Jwe {
        return Err(DecodeError::not(
            "a signed PRT request",
            "the request parameter is a JWE (encrypted request, prt v4): only its header is \
             readable, see the jwt view",
        ));
    }
    let alg = token.alg().unwrap_or("(no alg)").to_string();
    let session_signed = alg.starts_with("HS") || token.header.get("ctx").is_some();
    if session_signed {
        Ok(session_signed_request(&token, &form))
    } else {
        Ok(acquisition_request(&token, &form, cx))
    }
}

fn form_get<'a>(form: &'a [(String, String)], k: &str) -> Option<&'a str> {
    form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn form_context_nodes(form: &[(String, String)]) -> Vec<Node> {
    let get = |k: &str| form_get(form, k);
    let mut out = Vec::new();
    if let Some(v) = get("windows_api_version") {
        out.push(Node::field("windows_api_version", v).with_note(
            "PRT protocol version of the client (2.0 and 2.2 are current Windows; 2.2 adds \
             KDFv2 and Kerberos TGT requests)",
        ));
    }
    if let Some(v) = get("prt_protocol_version") {
        out.push(
            Node::field("prt_protocol_version", v).with_note("PRT protocol version (v2 endpoint)"),
        );
    }
    if let Some(v) = get("tgt") {
        out.push(Node::field("tgt", v).with_note(if v == "true" {
            "asks for Kerberos TGTs as well: tgt_ad (on-premises AD, Cloud Kerberos Trust) and \
             tgt_cloud (Entra ID Kerberos) in the response"
        } else {
            "no Kerberos TGTs requested"
        }));
    }
    out
}

fn nonce_claim_node(token: &Token, at: &str, findings: &mut Vec<Finding>) -> Node {
    match token.claim_str("request_nonce") {
        Some(n) => Node::field("request_nonce", &n).with_note(format!(
            "the Nonce from the preceding srv_challenge ({} chars): single-use; a stale or reused \
             nonce makes Entra ID reject the request",
            n.chars().count()
        )),
        None => {
            findings.push(
                Finding::warning(
                    "no request_nonce in the signed request: MS-OAPXBC requires the srv_challenge \
                     nonce (old clients sent only iat); Entra ID may reject it",
                )
                .at(at.to_string()),
            );
            Node::leaf("request_nonce", "(absent)", Kind::Error)
        }
    }
}

fn acquisition_request(token: &Token, form: &[(String, String)], cx: &Context<'_>) -> Decoded {
    let mut findings = Vec::new();
    let alg = token.alg().unwrap_or("(no alg)");
    let mut root = Node::section("PRT acquisition request");
    root.value = Some(format!("device-signed ({alg})"));
    root.note = Some(
        "a jwt-bearer token request whose `request` JWT is signed by the device key: the device \
         proves it is a registered device, the inner grant proves the user, and Entra ID answers \
         with a PRT (token_type pop) and a session key (MS-OAPXBC §3.1.5.1.2)"
            .to_string(),
    );
    root.push(step_node(
        "2 of 3: nonce → PRT request → use",
        "acquires a PRT; the srv_challenge nonce must be inside as request_nonce",
    ));
    root.children.extend(form_context_nodes(form));

    // The device, from x5c.
    let mut device_id = None;
    let x5c = token.header.get("x5c");
    let first = match x5c {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str),
        _ => None,
    };
    match first.and_then(|b| util::b64_decode_any(b, jwt::MAX_TOKEN_LEN)) {
        Some(der) => match x509::Certificate::parse(&der) {
            Ok(info) => {
                device_id = info.cn.clone();
                cert_findings(&info, "PRT acquisition request/device", cx, &mut findings);
                let mut d = device_cert_node(
                    "device",
                    &info,
                    cx,
                    "the device certificate from the JWT header x5c (issued by DRS at \
                     registration); it names the device but proves nothing by itself",
                );
                if matches!(x5c, Some(Value::String(_))) {
                    d.push(Node::text(
                        "x5c form",
                        "a single base64 string, as Windows sends it (RFC 7515 says an array)",
                    ));
                }
                root.push(d);
            }
            Err(e) => root.push(Node::leaf(
                "device",
                format!("x5c is not an X.509 certificate: {e}"),
                Kind::Error,
            )),
        },
        None => {
            findings.push(
                Finding::warning(
                    "no usable x5c device certificate in the header: Entra ID cannot tell which \
                     device signed the request",
                )
                .at("PRT acquisition request/device"),
            );
            root.push(Node::leaf("device", "no x5c certificate", Kind::Error));
        }
    }
    let verdict = jwt::verify(token, cx.trust);
    root.push(
        Node::field("device signature", format!("{alg}: {}", verdict.word())).with_note(match &verdict
        {
            jwt::Verdict::Verified { source, .. } => format!(
                "verified with a trusted device public key from {source}: the request was signed \
                 by that device's private key"
            ),
            _ => "Entra ID checks it with the device public key it stored at registration; this \
                  capture can verify it only with that key as a trusted JWK (the x5c key is not \
                  trusted)"
                .to_string(),
        }),
    );
    if let Some(kv) = token.header.get("kdf_ver") {
        let (n, _) = kdf_node(Some(kv));
        root.push(n.with_note(
            "kdf_ver 2 here tells Entra ID the client uses KDFv2 for the session key: later \
             cookies and signed requests derive keys from SHA-256(ctx || payload)",
        ));
    }

    // The inner grant.
    let inner = token.claim_str("grant_type").unwrap_or_default();
    let mut grant = Node::section("grant");
    grant.value = Some(if inner.is_empty() {
        "(no grant_type)".to_string()
    } else {
        inner.clone()
    });
    grant.note = Some(inner_grant_meaning(&inner).to_string());
    let mut who = None;
    match inner.as_str() {
        "password" => {
            let user = token.claim_str("username");
            who = user.clone();
            grant.push(Node::field(
                "username",
                user.clone().unwrap_or_else(|| "(absent)".to_string()),
            ));
            if let Some(p) = token.claim_str("password") {
                grant.push(secret_len(
                    "password",
                    &p,
                    "the user's password in clear inside the JWT payload: base64url, not encrypted",
                ));
                findings.push(
                    Finding::error(format!(
                        "the password{} travels inside the PRT request JWT: the payload is only \
                         base64url, so anyone who can read this request (a proxy, a log, a HAR) \
                         has the password; the device signature does not hide it",
                        user.map(|u| format!(" of {u}")).unwrap_or_default()
                    ))
                    .at("PRT acquisition request/grant/password"),
                );
            } else {
                findings.push(
                    Finding::warning("grant_type password without a password claim")
                        .at("PRT acquisition request/grant"),
                );
            }
        }
        "urn:ietf:params:oauth:grant-type:saml1_1-bearer"
        | "urn:ietf:params:oauth:grant-type:saml2-bearer" => {
            let a = token.claim_str("assertion").unwrap_or_default();
            let (node, upn) = saml_node(&a, cx, &mut findings);
            who = upn;
            grant.push(node);
        }
        "refresh_token" => {
            if let Some(rt) = token.claim_str("refresh_token") {
                grant.push(secret_len(
                    "refresh_token",
                    &rt,
                    "the PRT being renewed: opaque, only Entra ID can read it",
                ));
            }
        }
        JWT_BEARER => {
            if let Some(a) = token.claim_str("assertion") {
                let mut n = secret_len("assertion", &a, "Windows Hello for Business assertion");
                if let Ok(t) = jwt::parse_limited(&a, &cx.limits) {
                    n.push(Node::field("token", jwt::brief(&t, cx)));
                    if let Some(u) = t.header_str("use") {
                        n.push(
                            Node::field("use", u)
                                .with_note("ngc: signed by the Windows Hello (NGC) key"),
                        );
                    }
                }
                grant.push(n);
            }
        }
        _ => {}
    }
    root.push(grant);
    root.push(nonce_claim_node(
        token,
        "PRT acquisition request/request_nonce",
        &mut findings,
    ));
    if let Some(c) = token.claim_str("client_id") {
        root.push(Node::field("client_id", &c).with_note(match jwt::well_known_app(&c) {
            Some(n) => format!(
                "{n}: the first-party client Windows uses to acquire PRTs (38aa3b87… Windows Sign \
                 In, 29d9ed98… Authentication Broker)"
            ),
            None => "not one of the first-party PRT clients".to_string(),
        }));
    }
    if let Some(s) = token.claim_str("scope") {
        let mut n = jwt::scope_node("scope", &s);
        n.note = Some(if s.split_whitespace().any(|x| x == "aza") {
            "aza asks for a PRT; ugs adds the user's group SIDs (for the Kerberos TGT)".to_string()
        } else {
            "without aza this is not a PRT request but a token request".to_string()
        });
        root.push(n);
    }

    let kind = match inner.as_str() {
        "password" => "password grant",
        "urn:ietf:params:oauth:grant-type:saml1_1-bearer" => "federated SAML 1.1 assertion",
        "urn:ietf:params:oauth:grant-type:saml2-bearer" => "federated SAML 2.0 assertion",
        "refresh_token" => "refresh_token grant (PRT renewal)",
        JWT_BEARER => "Windows Hello assertion",
        "" => "no inner grant_type",
        other => other,
    };
    let mut summary = format!("PRT acquisition via {kind}");
    if let Some(w) = &who {
        summary.push_str(&format!(" for {w}"));
    }
    if let Some(d) = &device_id {
        summary.push_str(&format!(" on device {}", util::short_id(d)));
    }
    summary.push_str(&format!(", {alg} device-signed, {}", verdict.word()));
    if token.claim("password").is_some() {
        summary.push_str("; PASSWORD inside the JWT");
    }
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    d
}

/// The SAML assertion inside a PRT request: decoded, handed to the registry for a nested view,
/// and a few fields read directly so they show even when no SAML decoder is registered.
fn saml_node(b64: &str, cx: &Context<'_>, findings: &mut Vec<Finding>) -> (Node, Option<String>) {
    let at = "PRT acquisition request/grant/assertion";
    let mut n = secret_len(
        "assertion",
        b64,
        "the ADFS-issued SAML assertion, standard base64 inside the JWT: a bearer credential for \
         the user",
    );
    let Some(xml) = util::b64_decode_any(b64, cx.limits.max_inflate) else {
        n.push(Node::leaf("decode", "not valid base64", Kind::Error));
        findings.push(Finding::error("the assertion is not valid base64").at(at));
        return (n, None);
    };
    let Ok(text) = std::str::from_utf8(&xml) else {
        n.push(Node::leaf("decode", "not UTF-8 XML", Kind::Error));
        findings.push(Finding::error("the assertion does not decode to UTF-8 XML").at(at));
        return (n, None);
    };
    let version = if text.contains("urn:oasis:names:tc:SAML:1.0:assertion") {
        "SAML 1.1"
    } else if text.contains("urn:oasis:names:tc:SAML:2.0:assertion") {
        "SAML 2.0"
    } else {
        "not SAML"
    };
    let mut s = Node::section("saml");
    s.value = Some(format!("{version} assertion, {} bytes of XML", xml.len()));
    let issuer = between(text, "Issuer=\"", "\"").or_else(|| between(text, "Issuer>", "<"));
    let nameid = between(text, "NameIdentifier", "</")
        .and_then(|t| t.rsplit('>').next())
        .or_else(|| between(text, "NameID", "</").and_then(|t| t.rsplit('>').next()));
    let upn = text
        .find("AttributeName=\"UPN\"")
        .and_then(|i| text.get(i..))
        .and_then(|t| between(t, "AttributeValue>", "<"))
        .map(str::to_string);
    let not_after = between(text, "NotOnOrAfter=\"", "\"");
    if let Some(i) = issuer {
        s.push(
            Node::field("issuer", i).with_note("the ADFS (IssuerUri) that issued the assertion"),
        );
    }
    if let Some(v) = nameid {
        s.push(Node::field("NameIdentifier", v).with_note(
            "the ImmutableID: Entra ID finds the synced user by it (the sync step's SourceAnchor)",
        ));
    }
    if let Some(u) = &upn {
        s.push(Node::field("UPN", u));
    }
    if let Some(t) = not_after {
        s.push(
            Node::field("NotOnOrAfter", t).with_note("the assertion is refused after this time"),
        );
    }
    if !text.contains("Signature") {
        findings.push(
            Finding::warning(
                "the embedded SAML assertion carries no XML signature: Entra ID accepts only \
                 assertions signed by the federation's token-signing certificate",
            )
            .at(at),
        );
    }
    match cx.decode_nested(&xml) {
        Some(inner) => {
            findings.extend(inner.findings.into_iter().map(|mut f| {
                f.at = Some(match f.at.take() {
                    Some(a) => format!("{at}/saml/{a}"),
                    None => format!("{at}/saml"),
                });
                f
            }));
            s.push(inner.root);
        }
        None => s
            .push(Node::leaf("xml", text, Kind::Markup).with_note(
                "no SAML decoder is registered in this build: the XML is shown as sent",
            )),
    }
    n.push(s);
    (n, upn)
}

fn session_signed_request(token: &Token, form: &[(String, String)]) -> Decoded {
    let mut findings = Vec::new();
    let at = "PRT-signed request";
    let alg = token.alg().unwrap_or("(no alg)");
    let mut root = Node::section(at);
    root.value = Some(format!("{alg}, session-key derived"));
    root.note = Some(
        "a jwt-bearer token request whose `request` JWT is signed (HMAC) with a key derived from \
         the PRT session key: it proves possession of the session key that came with the PRT \
         (MS-OAPXBC §3.1.5.1.3)"
            .to_string(),
    );
    root.push(step_node(
        "3 of 3: nonce → PRT request → use",
        "uses the PRT to get tokens for an application (or a renewed PRT)",
    ));
    root.children.extend(form_context_nodes(form));
    let mut keys = Node::section("signing key");
    let ctx_len = match token.header_str("ctx") {
        Some(c) => {
            let (n, len) = ctx_node(c, &format!("{at}/signing key/ctx"), &mut findings);
            keys.push(n);
            len
        }
        None => {
            findings.push(
                Finding::error("no ctx in the header: the server cannot derive the signing key")
                    .at(format!("{at}/signing key")),
            );
            None
        }
    };
    let (kn, kdf) = kdf_node(token.header.get("kdf_ver"));
    keys.push(kn);
    keys.push(Node::field("verification", "needs the session key").with_note(
        "HS256 with the derived key: only a holder of the session key (the device's TPM, and Entra \
         ID) can check it; a capture does not contain it",
    ));
    if !alg.starts_with("HS") {
        findings.push(
            Finding::warning(format!(
                "a ctx header with alg {alg}: session-key-signed requests use HS256"
            ))
            .at(format!("{at}/signing key")),
        );
    }
    root.push(keys);
    let inner = token.claim_str("grant_type").unwrap_or_default();
    let mut grant = Node::section("grant");
    grant.value = Some(inner.clone());
    grant.note = Some(inner_grant_meaning(&inner).to_string());
    if let Some(rt) = token.claim_str("refresh_token") {
        grant.push(secret_len(
            "refresh_token",
            &rt,
            "the PRT itself: opaque, encrypted to Entra ID",
        ));
    }
    root.push(grant);
    root.push(nonce_claim_node(
        token,
        &format!("{at}/request_nonce"),
        &mut findings,
    ));
    let scope = token.claim_str("scope").unwrap_or_default();
    let renew = scope.split_whitespace().any(|s| s == "aza");
    if !scope.is_empty() {
        let mut n = jwt::scope_node("scope", &scope);
        n.note = Some(if renew {
            "aza: asks for a renewed PRT (and a new session key)".to_string()
        } else {
            "a normal token request: the answer holds tokens for the resource, encrypted"
                .to_string()
        });
        root.push(n);
    }
    for k in ["client_id", "resource", "redirect_uri", "iss", "aud"] {
        if let Some(v) = token.claim_str(k) {
            let note = match k {
                "client_id" => jwt::well_known_app(&v)
                    .map(|n| format!("the app the tokens are for: {n}"))
                    .unwrap_or_else(|| "the app the tokens are for".to_string()),
                "resource" => "the resource (API) the access token is for".to_string(),
                "redirect_uri" if v.starts_with("ms-appx-web://Microsoft.AAD.BrokerPlugin/") => {
                    "the WAM broker's redirect URI: this request comes from the Windows token \
                     broker (or a tool imitating it)"
                        .to_string()
                }
                "iss" if v == "aad:brokerplugin" => {
                    "aad:brokerplugin: issued by the Windows AAD broker plugin".to_string()
                }
                "aud" => "the authority the request is for".to_string(),
                _ => String::new(),
            };
            let mut n = Node::field(k, &v);
            if !note.is_empty() {
                n.note = Some(note);
            }
            root.push(n);
        }
    }
    for k in ["iat", "exp"] {
        if token.claim(k).is_some_and(Value::is_string) {
            findings.push(
                Finding::info(format!(
                    "{k} is a string, not a NumericDate: broker-style clients send it so and \
                     Entra ID accepts it"
                ))
                .at(format!("{at}/{k}")),
            );
        }
    }
    if let Some(jc) = token.claim("jwe_crypto") {
        root.push(Node::field("jwe_crypto", jc.to_string()).with_note(
            "the client asks for an ECDH-ES encrypted response (\"prt v4\"): the answer is \
             readable only with the client's ephemeral key",
        ));
    }
    let mut summary = format!(
        "PRT-signed token request ({alg}, KDFv{kdf}, ctx {}): {}",
        ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        if inner == "refresh_token" {
            "refresh_token=PRT".to_string()
        } else {
            format!("grant {inner}")
        }
    );
    if renew {
        summary.push_str(" → renewed PRT");
    } else if let Some(r) = token.claim_str("resource") {
        summary.push_str(&format!(" → {r}"));
    }
    if let Some(c) = token.claim_str("client_id") {
        summary.push_str(&format!(" for client {}", client_text(&c)));
    }
    summary.push_str("; signature needs the session key");
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    d
}

// ---------------------------------------------------------------------------------------------
// PRT response

fn prt_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("a PRT response", "the body is not a JSON object"))?;
    let mut findings = Vec::new();
    let at = "PRT response";
    let mut root = Node::section(at);
    root.note = Some(
        "Entra ID's answer to a PRT acquisition: the PRT (opaque), the session key wrapped to the \
         device transport key, optionally Kerberos TGTs; the oauth view lists every field, this \
         view explains what each means for the device"
            .to_string(),
    );
    root.push(step_node(
        "2 of 3: nonce → PRT request → use",
        "the device now holds a PRT and (after unwrapping with its TPM) the session key",
    ));
    let s = |k: &str| obj.get(k).map(util::json_scalar);
    let pop = s("token_type").is_some_and(|t| t.eq_ignore_ascii_case("pop"));
    if !pop {
        findings.push(
            Finding::warning(
                "session_key_jwe without token_type pop: a PRT response says token_type \"pop\"",
            )
            .at(format!("{at}/PRT")),
        );
    }
    // The PRT.
    let mut prt = Node::section("PRT");
    let mut lifetime = None;
    if let Some(rt) = s("refresh_token") {
        prt.value = Some(format!("{} chars, opaque", rt.chars().count()));
        prt.push(secret_len(
            "refresh_token",
            &rt,
            "the Primary Refresh Token: opaque and encrypted to Entra ID (it carries the device id \
             and the session key); never parse it, never log it",
        ));
    } else {
        findings
            .push(Finding::error("no refresh_token (PRT) in the response").at(format!("{at}/PRT")));
    }
    if let Some(secs) = obj.get("refresh_token_expires_in").and_then(util::json_int) {
        // 1209599 s is one second short of 14 days: round to the nearest day for reading.
        let d = if secs >= 86_400 {
            format!("{}d", (secs + 43_200) / 86_400)
        } else {
            util::human_duration(std::time::Duration::from_secs(secs.unsigned_abs()))
        };
        lifetime = Some(d.clone());
        prt.push(
            Node::leaf(
                "refresh_token_expires_in",
                format!("{secs} s ({d})"),
                Kind::Number,
            )
            .with_note(format!(
                "PRT lifetime (14 days is usual; Windows renews it every 4 hours while in use): \
                 until about {}",
                util::format_epoch_relative(util::epoch_secs(cx.now).saturating_add(secs), cx.now)
            )),
        );
    }
    root.push(prt);
    // The session key.
    let mut sk_summary = None;
    if let Some(jwe) = s("session_key_jwe") {
        let mut n = secret_len(
            "session_key_jwe",
            &jwe,
            "the PRT session key as a compact JWE: the encrypted-key segment is the 32-byte \
             session key wrapped with RSA-OAEP to the device transport key",
        );
        match jwt::parse_limited(&jwe, &cx.limits) {
            Ok(t) if t.form == Form::Jwe => {
                let alg = t.alg().unwrap_or("?").to_string();
                let enc = t.header_str("enc").unwrap_or("?").to_string();
                n.push(Node::field("alg", &alg).with_note(if alg == "RSA-OAEP" {
                    "RSA-OAEP (SHA-1) to the transport key registered with DRS (TransportKey): \
                     only the device's TPM can unwrap it"
                } else {
                    "expected RSA-OAEP (wrapped to the transport key)"
                }));
                n.push(Node::field("enc", &enc).with_note(
                    "declared content encryption; for session_key_jwe the ciphertext part is not \
                     meaningful, the key is in the encrypted-key segment",
                ));
                let mut key_bits = None;
                if let Some(seg) = t.jwe {
                    key_bits = Some(seg.encrypted_key * 8);
                    n.push(
                        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key))
                            .with_note(format!(
                                "the wrapped session key; its size is the transport key's \
                                 modulus: RSA {} bits",
                                seg.encrypted_key * 8
                            )),
                    );
                }
                n.push(
                    Node::field("decryption", "needs the transport private key").with_note(
                        "the TPM-bound transport key never leaves the device, so no capture can \
                     reveal the session key",
                    ),
                );
                sk_summary = Some(format!(
                    "session key {alg}/{enc} to the transport key{}",
                    key_bits.map(|b| format!(" (RSA {b})")).unwrap_or_default()
                ));
            }
            _ => {
                n.push(Node::leaf("decode", "not a compact JWE", Kind::Error));
                findings.push(
                    Finding::warning("session_key_jwe is not a 5-segment JWE")
                        .at(format!("{at}/session_key_jwe")),
                );
            }
        }
        root.push(n);
    } else {
        findings.push(
            Finding::warning(
                "token_type pop without session_key_jwe: the client gets a PRT it cannot use",
            )
            .at(at),
        );
    }
    // Kerberos.
    let mut tgts = Vec::new();
    for k in ["tgt_ad", "tgt_cloud"] {
        if let Some(text) = s(k) {
            let (n, realm) = tgt_node(k, &text, cx);
            tgts.push(format!("{k} {}", realm.unwrap_or_else(|| "?".to_string())));
            root.push(n);
        }
    }
    if let Some(names) = s("kerberos_top_level_names") {
        let mut n = Node::field("kerberos_top_level_names", &names).with_note(
            "host suffixes (with optional ports) for which Windows uses the cloud TGT (Azure SQL, \
             Azure Files …)",
        );
        for (i, x) in names.split(',').take(100).enumerate() {
            n.push(Node::field(format!("[{i}]"), x.trim()));
        }
        root.push(n);
    }
    // The id_token, briefly (oauth shows every claim and its finding).
    let mut who = None;
    let mut device = None;
    if let Some(idt) = s("id_token")
        && let Ok(t) = jwt::parse_limited(&idt, &cx.limits)
    {
        who = t.claim_str("upn").or_else(|| t.claim_str("unique_name"));
        device = t.claim_str("deviceid");
        let mut n = Node::field("id_token", jwt::brief(&t, cx)).with_note(
            "who the PRT belongs to; unsigned (alg none) is normal here: it comes straight from \
             the token endpoint over TLS (MS-OAPXBC); the oauth view lists its claims",
        );
        if let Some(u) = &who {
            n.push(Node::field("user", u));
        }
        if let Some(dv) = &device {
            n.push(Node::field("deviceid", dv).with_note("the device the PRT is bound to"));
        }
        if let Some(a) = t.claim("amr") {
            n.push(Node::field("amr", util::json_scalar(a)).with_note(
                "authentication methods: rsa = the device key proof, pwd = password, fed = \
                 federated, ngcmfa = Windows Hello",
            ));
        }
        root.push(n);
    }
    let mut summary = "PRT issued".to_string();
    if let Some(u) = &who {
        summary.push_str(&format!(" for {u}"));
    }
    if let Some(d) = &device {
        summary.push_str(&format!(" on device {}", util::short_id(d)));
    }
    if let Some(l) = &lifetime {
        summary.push_str(&format!(" (valid {l})"));
    }
    let mut parts = Vec::new();
    if let Some(sk) = sk_summary {
        parts.push(sk);
    }
    if !tgts.is_empty() {
        parts.push(format!("Kerberos {}", tgts.join(", ")));
    }
    if !parts.is_empty() {
        summary.push_str(": ");
        summary.push_str(&parts.join("; "));
    }
    root.value = Some(if pop {
        "token_type pop".to_string()
    } else {
        "no pop".to_string()
    });
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

fn tgt_node(label: &str, text: &str, cx: &Context<'_>) -> (Node, Option<String>) {
    let mut n = secret_len(
        label,
        text,
        if label == "tgt_ad" {
            "Kerberos TGT for the on-premises AD realm (Cloud Kerberos Trust): JSON in a string"
        } else {
            "Kerberos TGT for Entra ID's cloud realm (Azure Files, SQL …): JSON in a string"
        },
    );
    let Ok(v) = util::parse_json(text.as_bytes(), "tgt", &cx.limits) else {
        n.push(Node::leaf("decode", "not JSON", Kind::Error));
        return (n, None);
    };
    let Some(m) = v.as_object() else {
        return (n, None);
    };
    let realm = m.get("realm").map(util::json_scalar);
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    n.push(Node::field(
        "members",
        keys.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    if let Some(r) = &realm {
        n.push(Node::field("realm", r));
    }
    if let Some(sn) = m.get("sn") {
        n.push(
            Node::field("sn", util::json_scalar(sn))
                .with_note("the ticket's service (krbtgt/REALM)"),
        );
    }
    if let Some(ck) = m.get("clientKey").map(util::json_scalar) {
        let mut c = Node::field("clientKey", format!("{} chars", ck.len())).with_note(
            "the TGT's Kerberos session key, a JWE encrypted with a key derived from the PRT \
             session key",
        );
        if let Ok(t) = jwt::parse_limited(&ck, &cx.limits)
            && t.form == Form::Jwe
        {
            c.value = Some(jwt::brief(&t, cx));
            if let Some(ctx) = t.header_str("ctx") {
                let bytes = util::b64_decode_any(ctx, 1024).map_or(0, |b| b.len());
                c.push(Node::field("ctx", ctx).with_note(format!(
                    "{bytes} bytes: with the session key this derives the decryption key (KDFv1)"
                )));
            }
        }
        n.push(c);
    }
    if let Some(mb) = m.get("messageBuffer").map(util::json_scalar) {
        let bytes = util::b64_decode_any(&mb, cx.limits.max_inflate).map_or(0, |b| b.len());
        n.push(
            Node::field("messageBuffer", format!("{bytes} bytes"))
                .with_note("the Kerberos ticket itself (KRB-CRED / AS-REP), base64"),
        );
    }
    if let Some(kt) = m.get("keyType") {
        let t = util::json_scalar(kt);
        n.push(Node::field("keyType", &t).with_note(match t.as_str() {
            "18" => "aes256-cts-hmac-sha1-96",
            "17" => "aes128-cts-hmac-sha1-96",
            "23" => "rc4-hmac",
            _ => "Kerberos encryption type",
        }));
    }
    (n, realm)
}

// ---------------------------------------------------------------------------------------------
// Encrypted (JWE) token response

fn encrypted_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let text = std::str::from_utf8(msg.body.trim_ascii())
        .map_err(|_| DecodeError::Utf8 { field: "body" })?;
    let t = jwt::parse_limited(text, &cx.limits)?;
    let seg = t
        .jwe
        .ok_or_else(|| DecodeError::not("a JWE", "not 5 segments"))?;
    let mut findings = Vec::new();
    let at = "PRT-encrypted token response";
    let alg = t.alg().unwrap_or("?").to_string();
    let enc = t.header_str("enc").unwrap_or("?").to_string();
    let mut root = Node::section(at);
    root.value = Some(format!("JWE {alg}/{enc}"));
    root.note = Some(
        "the answer to a session-key-signed request: a bare compact JWE instead of JSON; the \
         plaintext is the usual token JSON (access_token, refresh_token, id_token …)"
            .to_string(),
    );
    root.push(step_node(
        "3 of 3: nonce → PRT request → use",
        "tokens for the application, readable only by the holder of the session key",
    ));
    if msg.content_type().is_some_and(|c| c.contains("json")) {
        root.push(Node::text(
            "content-type",
            "says JSON but the body is a JWE: clients test whether the body starts with {\" \
             (ROADtools) rather than trusting the header",
        ));
    }
    let mut h = Node::section("header");
    h.push(Node::field("alg", &alg).with_note(if alg == "dir" {
        "dir: no wrapped key; the content key is derived from the session key and ctx"
    } else {
        "not dir: this is not the usual session-key encrypted response"
    }));
    h.push(Node::field("enc", &enc).with_note("the declared content encryption"));
    let mut ctx_len = None;
    if let Some(c) = t.header_str("ctx") {
        let (n, len) = ctx_node(c, &format!("{at}/header/ctx"), &mut findings);
        ctx_len = len;
        h.push(n);
    } else if alg == "dir" {
        findings.push(
            Finding::warning("alg dir without ctx: the key cannot be derived from the session key")
                .at(format!("{at}/header")),
        );
    }
    let (kn, kdf) = kdf_node(t.header.get("kdf_ver"));
    h.push(kn);
    if let Some(z) = t.header_str("zip") {
        h.push(
            Node::field("zip", z)
                .with_note("the plaintext is DEFLATE-compressed: inflate after decrypting"),
        );
    }
    root.push(h);
    let mode = match seg.iv {
        12 => "AES-256-GCM",
        16 => "AES-256-CBC",
        _ => "unknown",
    };
    let gcm_declared = enc.ends_with("GCM");
    let mut s = Node::section("segments");
    s.push(
        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key)).with_note(
            if seg.encrypted_key == 0 {
                "empty, as it must be for alg dir"
            } else {
                "not empty: unusual for alg dir"
            },
        ),
    );
    s.push(Node::field("iv", format!("{} bytes", seg.iv)).with_note(match seg.iv {
        12 => "12 bytes: an AES-GCM nonce (real A256GCM; AAD = the ASCII protected header)",
        16 => {
            "16 bytes: an AES-CBC IV (PKCS#7 padding); clients branch on the IV length, not on enc \
             (ROADtools decrypt_auth_response)"
        }
        _ => "neither 12 (GCM) nor 16 (CBC) bytes",
    }));
    s.push(
        Node::field("ciphertext", format!("{} bytes", seg.ciphertext))
            .with_note("the encrypted token JSON"),
    );
    s.push(
        Node::field("tag", format!("{} bytes", seg.tag)).with_note(if seg.iv == 12 {
            "GCM authentication tag"
        } else {
            "authentication tag (CBC-mode responses: implementations do not check it)"
        }),
    );
    s.push(
        Node::field("cipher", mode).with_note(match (seg.iv, gcm_declared) {
            (12, true) => "consistent with enc",
            (16, true) => "AES-CBC despite enc A256GCM: a known Entra ID behaviour, not tampering",
            (16, false) => {
                "AES-CBC as enc says (A256CBC-HS512 style: HMAC tag over AAD, IV, ciphertext)"
            }
            (12, false) => "a GCM-sized IV although enc names CBC",
            _ => "cannot tell GCM from CBC",
        }),
    );
    root.push(s);
    if seg.iv == 16 && gcm_declared {
        findings.push(
            Finding::info(format!(
                "enc says {enc} but the IV is 16 bytes: the response is AES-256-CBC (known Entra \
                 ID behaviour); decrypt by IV length"
            ))
            .at(format!("{at}/segments/iv")),
        );
    } else if !matches!(seg.iv, 12 | 16) {
        findings.push(
            Finding::warning(format!(
                "IV of {} bytes is neither GCM (12) nor CBC (16)",
                seg.iv
            ))
            .at(format!("{at}/segments/iv")),
        );
    }
    root.push(
        Node::field("decryption", "needs the session key").with_note(format!(
            "key = KDFv{kdf}(session key, ctx); the session key is inside the PRT response's \
         session_key_jwe, wrapped to the TPM transport key, so a capture alone cannot decrypt this"
        )),
    );
    let summary = format!(
        "PRT-encrypted token response: JWE {alg}/{enc}, ctx {}, IV {} B → {mode}{}; {} B ciphertext; \
         needs the session key",
        ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        seg.iv,
        if seg.iv == 16 && gcm_declared {
            format!(" despite enc {enc}")
        } else {
            String::new()
        },
        seg.ciphertext
    );
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

// ---------------------------------------------------------------------------------------------
// PRT SSO on /authorize

fn sso_request(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let at = "PRT SSO request";
    let q = msg.query_pairs();
    let qget = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sso_nonce = qget("sso_nonce");
    let mut root = Node::section(at);
    root.note = Some(
        "browser SSO with the PRT: the authorize request carries a JWT signed with a key derived \
         from the PRT session key; Entra ID signs the user in without a prompt and returns a code \
         (MS-OAPXBC §3.1.5.1.4)"
            .to_string(),
    );
    root.push(step_node(
        "3 of 3: nonce → PRT request → use",
        "uses the PRT for web sign-in (BrowserCore, the Windows Accounts extension, or a tool)",
    ));
    let mut authz = Node::section("authorize");
    for (k, v) in &q {
        let n = match k.as_str() {
            "client_id" => Node::field(k, v).with_note(
                jwt::well_known_app(v)
                    .map(|n| format!("the app signing in: {n}"))
                    .unwrap_or_else(|| "the app signing in".to_string()),
            ),
            "sso_nonce" => Node::field(k, v).with_note(
                "the server nonce the PRT cookie must repeat as request_nonce (from a previous \
                 302 or $Config.bsso.nonce)",
            ),
            "resource" | "scope" | "redirect_uri" | "response_type" | "prompt" | "login_hint" => {
                Node::field(k, v)
            }
            _ => Node::field(k, v),
        };
        authz.push(n);
    }
    root.push(authz);
    let Some((cred, carrier)) = sso_credential(msg) else {
        findings.push(
            Finding::warning(
                "sso_nonce but no x-ms-RefreshTokenCredential: the browser did not attach the PRT \
                 (no SSO extension or BrowserCore); the user will get a sign-in page",
            )
            .at(at),
        );
        let d = Decoded::new(
            "prt",
            "PRT SSO attempt without a PRT credential (sso_nonce only)",
            root,
        );
        return Ok(Decoded { findings, ..d });
    };
    let mut c = secret_len(
        "x-ms-RefreshTokenCredential",
        cred,
        &format!(
            "the PRT credential, sent as {} (both forms are accepted: the header per MS-OAPXBC \
             and AADInternals, the cookie per browsers and ROADtools)",
            if carrier == "cookie" {
                "a COOKIE on login.microsoftonline.com"
            } else {
                "an HTTP HEADER"
            }
        ),
    );
    let cat = format!("{at}/x-ms-RefreshTokenCredential");
    let token = match jwt::parse_limited(cred, &cx.limits) {
        Ok(t) => t,
        Err(e) => {
            c.push(Node::leaf("decode", e.to_string(), Kind::Error));
            findings.push(Finding::error(format!("the PRT credential is not a JWT: {e}")).at(cat));
            root.push(c);
            let d = Decoded::new(
                "prt",
                format!("PRT SSO ({carrier}) with an unreadable credential"),
                root,
            );
            return Ok(Decoded { findings, ..d });
        }
    };
    let alg = token.alg().unwrap_or("(no alg)").to_string();
    let mut h = Node::section("header");
    h.push(Node::field("alg", &alg).with_note(if alg == "HS256" {
        "HMAC-SHA256 with a key derived from the session key"
    } else {
        "PRT cookies are HS256"
    }));
    if alg != "HS256" {
        findings.push(
            Finding::warning(format!("PRT credential with alg {alg}, expected HS256"))
                .at(format!("{cat}/header/alg")),
        );
    }
    let ctx_len = match token.header_str("ctx") {
        Some(ctx) => {
            let (n, len) = ctx_node(ctx, &format!("{cat}/header/ctx"), &mut findings);
            h.push(n);
            len
        }
        None => {
            findings.push(
                Finding::error("no ctx in the PRT credential header").at(format!("{cat}/header")),
            );
            None
        }
    };
    let (kn, kdf) = kdf_node(token.header.get("kdf_ver"));
    h.push(kn);
    c.push(h);
    let mut p = Node::section("payload");
    if let Some(rt) = token.claim_str("refresh_token") {
        p.push(secret_len(
            "refresh_token",
            &rt,
            "the PRT itself: opaque, only Entra ID reads it",
        ));
    } else {
        findings.push(
            Finding::error("the PRT credential has no refresh_token (PRT)")
                .at(format!("{cat}/payload")),
        );
    }
    let nonce_state;
    match token.claim_str("request_nonce") {
        Some(n) => {
            let mut node = Node::field("request_nonce", &n);
            match sso_nonce {
                Some(s) if s == n => {
                    nonce_state = "request_nonce = sso_nonce";
                    node.note = Some("matches the sso_nonce of this request".to_string());
                }
                Some(_) => {
                    nonce_state = "request_nonce ≠ sso_nonce";
                    node.note = Some("differs from this request's sso_nonce".to_string());
                    findings.push(
                        Finding::warning(
                            "request_nonce differs from the sso_nonce in the URL: the cookie was \
                             built for another nonce and Entra ID will answer with a fresh \
                             sso_nonce (or refuse)",
                        )
                        .at(format!("{cat}/payload/request_nonce")),
                    );
                }
                None => {
                    nonce_state = "request_nonce set";
                    node.note = Some("the server nonce this credential is bound to".to_string());
                }
            }
            p.push(node);
        }
        None => {
            nonce_state = "NO request_nonce";
            findings.push(
                Finding::warning(
                    "no request_nonce (MS-OAPXBC says REQUIRED; old clients used iat): Entra ID \
                     answers with a 302 carrying a fresh sso_nonce",
                )
                .at(format!("{cat}/payload")),
            );
        }
    }
    if let Some(ip) = token.claim("is_primary") {
        let mut n = Node::field("is_primary", util::json_scalar(ip))
            .with_note("\"true\" marks the primary PRT; sent as a STRING, not a JSON boolean");
        if !ip.is_string() {
            n.note = Some("sent as a JSON value; clients send the string \"true\"".to_string());
        }
        p.push(n);
    }
    if let Some(claims) = token.claims.as_ref().and_then(Value::as_object) {
        for (k, v) in claims {
            if matches!(k.as_str(), "refresh_token" | "request_nonce" | "is_primary") {
                continue;
            }
            let mut n = Node::field(k.clone(), util::json_scalar(v));
            n.note = match k.as_str() {
                "iat" => Some(
                    "issued at (old clients bind freshness with iat instead of a nonce)"
                        .to_string(),
                ),
                "ua_client_id" => Some("the app the browser is signing into".to_string()),
                "ua_redirect_uri" => Some("that app's redirect URI".to_string()),
                "x_client_platform" => Some("client platform".to_string()),
                "win_ver" => Some("Windows version".to_string()),
                "windows_api_version" => {
                    Some("PRT protocol version (2.0.1 for cookies)".to_string())
                }
                _ => None,
            };
            p.push(n);
        }
    }
    c.push(p);
    c.push(Node::field("signature", "HS256: needs the session key").with_note(format!(
        "cannot be verified without the session key: key = KDFv{kdf}(session key, ctx{}); only the \
         device (TPM) and Entra ID hold it",
        if kdf == 2 { " || payload" } else { "" }
    )));
    root.push(c);
    if let Some(dc) = msg
        .header(DEVICE_CREDENTIAL)
        .or_else(|| cookie(msg, DEVICE_CREDENTIAL))
    {
        root.push(secret_len(
            DEVICE_CREDENTIAL,
            dc,
            "the device credential companion (a JWT signed by the device key)",
        ));
    }
    let target = qget("resource")
        .or_else(|| qget("scope"))
        .map(|r| format!(" resource {r}"))
        .unwrap_or_default();
    let summary = format!(
        "PRT SSO: x-ms-RefreshTokenCredential as {carrier}, {alg} KDFv{kdf}, ctx {}, {nonce_state}; \
         client {}{target}; signature needs the session key",
        ctx_len.map_or("?".to_string(), |n| format!("{n} B")),
        qget("client_id")
            .map(client_text)
            .unwrap_or_else(|| "?".to_string())
    );
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

fn sso_response(msg: &Message<'_>) -> Decoded {
    let at = "PRT SSO response";
    let mut root = Node::section(at);
    let status = msg.status.unwrap_or(0);
    root.push(Node::leaf("status", status.to_string(), Kind::Number));
    let mut findings = Vec::new();
    let location = msg.header("location");
    let pairs = location.map(util::url_query_pairs).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sent_nonce = msg
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "sso_nonce")
        .map(|(_, v)| v);
    let summary;
    if let Some(loc) = location {
        let base = loc.split('?').next().unwrap_or(loc);
        root.push(
            Node::field("location", base)
                .with_note("where the browser goes next (query shown below)"),
        );
    }
    if let Some(code) = get("code") {
        root.value = Some("signed in: authorization code".to_string());
        root.note = Some(
            "SSO succeeded: Entra ID accepted the PRT credential and redirects to the app with a \
             code, redeemed next with grant_type=authorization_code"
                .to_string(),
        );
        root.push(secret_len(
            "code",
            code,
            "authorization code: opaque, single use, minutes; whoever holds it gets the tokens",
        ));
        for (k, v) in &pairs {
            if k != "code" {
                root.push(Node::field(k.clone(), v.clone()));
            }
        }
        summary = format!(
            "PRT SSO succeeded: {status} with an authorization code ({} chars) → {}",
            code.chars().count(),
            location.and_then(|l| l.split('?').next()).unwrap_or("?")
        );
    } else if let Some(fresh) = get("sso_nonce") {
        root.value = Some("stale nonce: fresh sso_nonce".to_string());
        root.note = Some(
            "the PRT credential's request_nonce was missing, stale or already used: Entra ID \
             redirects back to /authorize with a fresh sso_nonce. The client must rebuild the PRT \
             cookie with request_nonce = this new nonce (a new ctx and signature) and retry"
                .to_string(),
        );
        let mut n =
            Node::field("sso_nonce", fresh).with_note("the fresh nonce to put in request_nonce");
        if sent_nonce.as_deref() == Some(fresh) {
            n.note = Some(
                "the same nonce as the request carried: the server did not issue a new one"
                    .to_string(),
            );
        }
        root.push(n);
        if let Some(s) = &sent_nonce {
            root.push(
                Node::field("previous sso_nonce", s)
                    .with_note("the nonce the rejected request carried"),
            );
        }
        findings.push(
            Finding::info(
                "stale or missing PRT nonce: the client must build a new x-ms-RefreshTokenCredential \
                 with the fresh sso_nonce and repeat the request; a loop of these redirects means \
                 the client never updates request_nonce",
            )
            .at(at),
        );
        summary = format!(
            "PRT SSO: nonce rejected, {status} with a fresh sso_nonce {}…: rebuild the PRT cookie \
             with it and retry",
            fresh.chars().take(12).collect::<String>()
        );
    } else if let Some(err) = get("error") {
        root.value = Some(format!("error {err}"));
        root.push(Node::field("error", err));
        if let Some(d) = get("error_description") {
            root.push(Node::text("error_description", d));
        }
        findings.push(Finding::warning(format!("PRT SSO failed: {err}")).at(at));
        summary = format!("PRT SSO failed: {status} error={err}");
    } else {
        root.value = Some(format!("{status}"));
        summary = match status {
            200 => {
                findings.push(
                    Finding::warning(
                        "200 instead of a redirect: Entra ID showed a page (sign-in prompt or an \
                         error in $Config), so SSO with the PRT did not happen",
                    )
                    .at(at),
                );
                "PRT SSO did not complete: 200 page instead of a redirect".to_string()
            }
            s => format!("PRT SSO response {s}"),
        };
    }
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    d
}

// ---------------------------------------------------------------------------------------------
// DRS device registration

fn join_type_meaning(v: i64) -> &'static str {
    match v {
        0 => "0 = Azure AD (Entra) join: the device becomes a cloud device (Bearer token required)",
        4 => "4 = Azure AD registered (workplace join / BYOD: \"add a work account\")",
        6 => {
            "6 = hybrid Azure AD join: a domain-joined computer registers itself, proving its \
             identity with its AD computer account (ClientIdentity), no user token"
        }
        _ => "unknown JoinType (AADInternals/ROADtools use 0 join, 4 register, 6 hybrid)",
    }
}

/// A BCRYPT_RSAKEY_BLOB (`RSA1` magic), as Windows sends the transport key.
fn transport_key_node(b64: &str, cx: &Context<'_>) -> Node {
    let mut n = Node::field("TransportKey", util::ellipsize(b64, 40)).with_note(
        "the device's transport public key: Entra ID wraps every PRT session key to it (RSA-OAEP); \
         its private half stays in the TPM",
    );
    let Some(b) = util::b64_decode_any(b64, cx.limits.max_inflate) else {
        n.push(Node::leaf("decode", "not valid base64", Kind::Error));
        return n;
    };
    let u32_at = |i: usize| {
        b.get(i..i + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_le_bytes)
    };
    match (u32_at(0), u32_at(4), u32_at(8), u32_at(12)) {
        (Some(0x3141_5352), Some(bits), Some(exp_len), Some(mod_len)) => {
            n.push(Node::field("format", "BCRYPT_RSAPUBLIC_BLOB (magic RSA1)"));
            n.push(Node::field("key size", format!("RSA {bits} bits")));
            let exp = b
                .get(24..24 + exp_len as usize)
                .map(|e| e.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)));
            if let Some(e) = exp {
                n.push(Node::field("public exponent", e.to_string()));
            }
            n.push(Node::field("modulus", format!("{mod_len} bytes")));
        }
        (Some(0x3241_5352), ..) => {
            n.push(Node::field("format", "BCRYPT_RSAPRIVATE_BLOB (magic RSA2)"));
            n.push(Node::leaf(
                "warning",
                "a PRIVATE key blob: the device sent its private transport key",
                Kind::Error,
            ));
        }
        _ => match x509_parser::x509::SubjectPublicKeyInfo::from_der(&b) {
            Ok((_, spki)) => n.push(Node::field(
                "format",
                format!(
                    "SubjectPublicKeyInfo, {}",
                    x509::spki_key(&spki).text(DEVICE_KEY_FORM)
                ),
            )),
            Err(_) => n.push(Node::field(
                "format",
                format!("{} bytes, not a BCRYPT RSA blob", b.len()),
            )),
        },
    }
    n
}

use x509_parser::prelude::FromDer as _;

fn csr_node(data: &str, cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    let mut n = Node::field("Data", util::ellipsize(data, 40)).with_note(
        "PKCS#10 certificate signing request (base64 DER) for the device certificate, signed with \
         the new device key",
    );
    let Some(der) = util::b64_decode_any(data, cx.limits.max_inflate) else {
        n.push(Node::leaf("decode", "not valid base64", Kind::Error));
        findings.push(
            Finding::error("CertificateRequest.Data is not base64")
                .at("device registration/CertificateRequest"),
        );
        return n;
    };
    match x509_parser::certification_request::X509CertificationRequest::from_der(&der) {
        Ok((_, csr)) => {
            let info = &csr.certification_request_info;
            n.push(Node::field("subject", info.subject.to_string()).with_note(
                "the requested subject; DRS ignores it and issues CN=<device id> (clients send a \
                 fixed placeholder GUID)",
            ));
            n.push(
                Node::field(
                    "public key",
                    x509::spki_key(&info.subject_pki).text(DEVICE_KEY_FORM),
                )
                .with_note("the device key: the certificate DRS returns binds it to the device id"),
            );
        }
        Err(e) => {
            n.push(Node::leaf(
                "decode",
                format!("not a PKCS#10 request: {e}"),
                Kind::Error,
            ));
            findings.push(
                Finding::warning("CertificateRequest.Data is not a PKCS#10 CSR")
                    .at("device registration/CertificateRequest"),
            );
        }
    }
    n
}

fn drs_request(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let at = "device registration";
    let mut root = Node::section(at);
    root.note = Some(
        "Device Registration Service (enterpriseregistration.windows.net): the device sends a CSR \
         and its transport key and receives a device certificate; the precondition for a PRT"
            .to_string(),
    );
    let method = msg.method.unwrap_or("").to_ascii_uppercase();
    let url_id = msg
        .path()
        .rsplit('/')
        .next()
        .filter(|s| util::is_guid(s))
        .map(str::to_string);
    root.push(Node::field("request", format!("{method} {}", msg.path())).with_note(
        "hybrid join: PUT /EnrollmentServer/device/{deviceId}; join/register: POST …/device/ with a \
         Bearer token",
    ));
    if let Some(id) = &url_id {
        root.push(Node::field("device id", id).with_note(
            "the id of the device object AAD Connect synced from AD (its userCertificate must be \
             there already)",
        ));
    }
    if msg.body.trim_ascii().is_empty() {
        let d = Decoded::new(
            "prt",
            format!(
                "DRS {method} device {}",
                url_id.as_deref().map(util::short_id).unwrap_or_default()
            ),
            root,
        );
        return Ok(d);
    }
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("a DRS request", "the body is not a JSON object"))?;
    let jt = obj.get("JoinType").and_then(util::json_int);
    if let Some(j) = jt {
        root.push(
            Node::leaf("JoinType", j.to_string(), Kind::Number).with_note(join_type_meaning(j)),
        );
    }
    if let Some(cr) = obj.get("CertificateRequest").and_then(Value::as_object) {
        let mut n = Node::section("CertificateRequest");
        if let Some(t) = cr.get("Type") {
            n.push(Node::field("Type", util::json_scalar(t)));
        }
        if let Some(d) = cr.get("Data").and_then(Value::as_str) {
            n.push(csr_node(d, cx, &mut findings));
        }
        root.push(n);
    }
    if let Some(a) = obj.get("Attributes").and_then(Value::as_object) {
        let mut n = Node::section("Attributes");
        for (k, v) in a {
            n.push(
                Node::field(k.clone(), util::json_scalar(v)).with_note(match k.as_str() {
                    "ReuseDevice" => "re-use an existing device object",
                    "ReturnClientSid" => "return the SIDs to add to local groups",
                    "SharedDevice" => "a shared (kiosk) device",
                    _ => "",
                }),
            );
        }
        for c in &mut n.children {
            if c.note.as_deref() == Some("") {
                c.note = None;
            }
        }
        root.push(n);
    }
    let data = obj
        .get("ServerAdJoinData")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_else(|| {
            let mut m = Map::new();
            for k in [
                "TransportKey",
                "DeviceDisplayName",
                "OSVersion",
                "TargetDomain",
                "DeviceType",
            ] {
                if let Some(v) = obj.get(k) {
                    m.insert(k.to_string(), v.clone());
                }
            }
            m
        });
    let mut name = None;
    let mut sad = Node::section(if obj.contains_key("ServerAdJoinData") {
        "ServerAdJoinData"
    } else {
        "device data"
    });
    for (k, v) in &data {
        let text = util::json_scalar(v);
        let n = match k.as_str() {
            "TransportKey" => transport_key_node(&text, cx),
            "DeviceDisplayName" => {
                name = Some(text.clone());
                Node::field(k.clone(), &text).with_note("the computer name shown in Entra ID")
            }
            "OSVersion" => Node::field(k.clone(), &text).with_note("Windows build"),
            "TargetDomain" => {
                Node::field(k.clone(), &text).with_note("the AD domain of the computer")
            }
            "TargetDomainId" => Node::field(k.clone(), &text).with_note("the Entra tenant id"),
            "SourceDomainController" => {
                Node::field(k.clone(), &text).with_note("the DC the device used")
            }
            "DeviceType" => Node::field(k.clone(), &text),
            "ClientIdentity" => {
                let mut c = Node::section("ClientIdentity").with_note(
                    "hybrid join proof: the computer signs (Sid + timestamp) with the private key \
                     of the certificate it published in AD's userCertificate; DRS checks it against \
                     the synced device object",
                );
                if let Some(m) = v.as_object() {
                    for (ck, cv) in m {
                        let t = util::json_scalar(cv);
                        c.push(match ck.as_str() {
                            "Sid" => Node::field(ck.clone(), &t).with_note(
                                "the computer account SID and a UTC timestamp, joined by '.'",
                            ),
                            "SignedBlob" => Node::field(
                                ck.clone(),
                                format!(
                                    "{} bytes",
                                    util::b64_decode_any(&t, 65536).map_or(0, |b| b.len())
                                ),
                            )
                            .with_note("the signature over Sid (sha256signed)"),
                            _ => Node::field(ck.clone(), &t),
                        });
                    }
                }
                c
            }
            _ => Node::field(k.clone(), &text),
        };
        sad.push(n);
    }
    root.push(sad);
    if jt == Some(6) && !obj.contains_key("ServerAdJoinData") {
        findings.push(Finding::warning("JoinType 6 (hybrid) without ServerAdJoinData").at(at));
    }
    let kind = match jt {
        Some(0) => "Azure AD join",
        Some(4) => "Azure AD registration",
        Some(6) => "hybrid join",
        _ => "device registration",
    };
    let mut summary = format!(
        "DRS {kind} request (JoinType {})",
        jt.map_or("?".to_string(), |j| j.to_string())
    );
    if let Some(n) = &name {
        summary.push_str(&format!(" for {n}"));
    }
    if let Some(id) = &url_id {
        summary.push_str(&format!(" device {}", util::short_id(id)));
    }
    summary.push_str(": CSR + transport key");
    root.value = Some(kind.to_string());
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

fn drs_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let at = "device registration response";
    let mut root = Node::section(at);
    let status = msg.status.unwrap_or(0);
    root.push(Node::leaf("status", status.to_string(), Kind::Number));
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("a DRS response", "the body is not a JSON object"))?;
    let mut summary = format!("DRS response {status}");
    if let Some(c) = obj.get("Certificate").and_then(Value::as_object) {
        let raw = c.get("RawBody").and_then(Value::as_str).unwrap_or("");
        match util::b64_decode_any(raw, cx.limits.max_inflate).map(|d| x509::Certificate::parse(&d))
        {
            Some(Ok(info)) => {
                let sha1 = util::hex_upper(&info.sha1);
                cert_findings(&info, &format!("{at}/Certificate"), cx, &mut findings);
                let mut n = device_cert_node(
                    "Certificate",
                    &info,
                    cx,
                    "the device certificate DRS issued for the CSR: the device signs PRT requests \
                     with its key and sends this certificate as x5c",
                );
                if let Some(tp) = c.get("Thumbprint").and_then(Value::as_str) {
                    let same = tp.eq_ignore_ascii_case(&sha1);
                    n.push(Node::field("Thumbprint (sent)", tp).with_note(if same {
                        "matches the SHA-1 of RawBody"
                    } else {
                        "does NOT match the SHA-1 of RawBody"
                    }));
                    if !same {
                        findings.push(
                            Finding::warning("Certificate.Thumbprint does not match RawBody")
                                .at(format!("{at}/Certificate")),
                        );
                    }
                }
                summary = format!(
                    "DRS {status}: device certificate {} (thumbprint {}, valid until {})",
                    info.subject,
                    sha1.get(..16).unwrap_or(&sha1),
                    util::format_epoch(info.not_after)
                );
                root.push(n);
            }
            Some(Err(e)) => {
                root.push(Node::leaf(
                    "Certificate",
                    format!("RawBody is not a certificate: {e}"),
                    Kind::Error,
                ));
                findings.push(
                    Finding::warning("Certificate.RawBody is not an X.509 certificate").at(at),
                );
            }
            None => root.push(Node::leaf(
                "Certificate",
                "RawBody is not base64",
                Kind::Error,
            )),
        }
    }
    for (k, v) in obj {
        match k.as_str() {
            "Certificate" => {}
            "MembershipChanges" => {
                let mut n = Node::field(k.clone(), v.to_string()).with_note(
                    "SIDs Windows adds to local groups (S-1-5-32-544 = Administrators: the Entra \
                     roles that become local admins)",
                );
                n.kind = Kind::Field;
                root.push(n);
            }
            "ErrorType" | "Message" | "code" | "message" => {
                findings
                    .push(Finding::warning(format!("DRS {k}: {}", util::json_scalar(v))).at(at));
                root.push(Node::field(k.clone(), util::json_scalar(v)));
            }
            _ => root.push(Node::field(k.clone(), v.to_string())),
        }
    }
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OwnedMessage, Trust};
    use std::time::{Duration, UNIX_EPOCH};

    fn cx(trust: &Trust) -> Context<'_> {
        Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
    }

    #[test]
    fn cookie_is_found_among_others() {
        let m = Message::request(
            "GET",
            "https://login.microsoftonline.com/common/oauth2/authorize?sso_nonce=x",
            vec![("Cookie", "a=1; X-MS-RefreshTokenCredential=eyJ.x.y; b=2")],
            b"",
        );
        assert_eq!(sso_credential(&m), Some(("eyJ.x.y", "cookie")));
        assert_eq!(classify(&m), Some(Artefact::SsoRequest));
    }

    #[test]
    fn token_endpoint_messages_are_classified_by_body() {
        let url = "https://login.microsoftonline.com/common/oauth2/token";
        let r = Message::request("POST", url, vec![], b"grant_type=srv_challenge");
        assert_eq!(classify(&r), Some(Artefact::NonceRequest));
        let r = Message::request("POST", url, vec![], b"grant_type=password&username=a");
        assert_eq!(classify(&r), None);
        let r = Message::response("POST", url, 200, vec![], br#"{"Nonce":"x"}"#);
        assert_eq!(classify(&r), Some(Artefact::NonceResponse));
        let r = Message::response("POST", url, 200, vec![], b"eyJhbGciOiJkaXIifQ..aaa.bbb.ccc");
        assert_eq!(classify(&r), Some(Artefact::EncryptedResponse));
    }

    #[test]
    fn bcrypt_blob_reports_key_size() {
        let mut blob = Vec::new();
        for v in [0x3141_5352u32, 2048, 3, 256, 0, 0] {
            blob.extend_from_slice(&v.to_le_bytes());
        }
        blob.extend_from_slice(&[1, 0, 1]);
        blob.extend(std::iter::repeat_n(0xAB, 256));
        let trust = Trust::default();
        let n = transport_key_node(&util::b64_std(&blob), &cx(&trust));
        assert_eq!(
            n.child("key size").and_then(|c| c.value.as_deref()),
            Some("RSA 2048 bits")
        );
        assert_eq!(
            n.child("public exponent").and_then(|c| c.value.as_deref()),
            Some("65537")
        );
    }

    #[test]
    fn truncated_and_mutated_fixtures_never_panic() {
        let trust = Trust::default();
        let cx = cx(&trust);
        for text in [
            include_str!("../tests/fixtures/prt/prt_request_password.http"),
            include_str!("../tests/fixtures/prt/prt_response.http"),
            include_str!("../tests/fixtures/prt/prt_cookie_kdfv2_header.http"),
            include_str!("../tests/fixtures/prt/session_signed_jwe_cbc_response.http"),
            include_str!("../tests/fixtures/prt/drs_hybrid_join_request.http"),
            include_str!("../tests/fixtures/prt/drs_hybrid_join_response.http"),
            include_str!("../tests/fixtures/prt/authorize_stale_nonce_302.http"),
        ] {
            let Ok(full) = OwnedMessage::parse_http_text(text) else {
                continue;
            };
            let step = (full.body.len() / 97).max(1);
            for cut in (0..full.body.len()).step_by(step) {
                let mut m = full.clone();
                m.body.truncate(cut);
                let _ = Prt.decode(&m.as_message(), &cx);
                if let Some(b) = m.body.last_mut() {
                    *b ^= 0x55;
                }
                let _ = Prt.decode(&m.as_message(), &cx);
            }
        }
    }
}
