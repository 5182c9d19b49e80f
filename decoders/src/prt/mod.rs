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
//! With the user's keys ([`crate::keys`]) it does what roadtx does by hand ([`crypto`]): the
//! device transport key unwraps the session key from `session_key_jwe`, and a session key (so
//! unwrapped, learned from an earlier flow, or given in hex) verifies the HS256 of PRT-signed
//! requests and PRT cookies and opens the encrypted token responses. Without them, a capture
//! alone checks none of this: the session key is wrapped to the TPM-held transport key, and the
//! views say what each signature or ciphertext needs. Certificates in `x5c` and DRS answers
//! prove nothing by themselves; RS256 verdicts come from [`jwt::verify`] against keys the user
//! trusts. Every PRT, session key, TGT and authorization code is a [`Kind::Secret`].
//!
//! The steps live in submodules: `acquisition` (nonce, device-key-signed request, PRT
//! response), `session` (session-key-signed requests and their JWE responses), `sso` (the
//! `x-ms-RefreshTokenCredential` SSO on `/authorize`) and `drs` (device registration); `v4`
//! holds what PRT protocols v3 and v4 add (`prt_protocol_version`, EC device keys, `jwe_crypto`,
//! the ECDH-ES answers opened with an EC transport key, and where the sources disagree). This
//! module classifies a message, dispatches it, and holds the pieces the steps share.

use serde_json::Value;

use crate::jwt::{self, Form, Token};
use crate::util::contains;
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Message};
use crate::{util, x509};

mod acquisition;
pub mod crypto;
mod drs;
mod session;
mod sso;
mod v4;

decoder! {
    /// The `prt` decoder: PRT, PRT SSO and device-registration messages.
    pub struct Prt: "prt";
}

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
        // carries the session-key context, or an ECDH-ES PartyUInfo of the shape PRT protocol v4
        // answers have (prefix and the `epk` point).
        if v4::is_v4_answer_shape(body) {
            return classify_token_response(body);
        }
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

fn priority(msg: &Message<'_>) -> f32 {
    // Above `oauth` (0.9) and `jwt` (0.9) for PRT-specific messages, so the PRT reading is
    // the summary line; `oauth` still decodes the same token-endpoint form and JSON.
    match classify(msg) {
        Some(Artefact::SsoResponse) => 0.9,
        Some(_) => 0.95,
        None => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "PRT message body")?;
    let Some(a) = classify(msg) else {
        return Err(DecodeError::not(
            "a PRT, PRT SSO or device-registration message",
            "no srv_challenge, jwt-bearer request, pop response, JWE token response, PRT \
             cookie or DRS path",
        ));
    };
    match a {
        Artefact::NonceRequest => Ok(acquisition::nonce_request()),
        Artefact::NonceResponse => acquisition::nonce_response(msg, cx),
        Artefact::SignedRequest => signed_request(msg, cx),
        Artefact::PrtResponse => acquisition::prt_response(msg, cx),
        Artefact::EncryptedResponse if v4::is_ecdh_jwe(msg.body.trim_ascii()) => {
            v4::ecdh_response(msg, cx)
        }
        Artefact::EncryptedResponse => session::encrypted_response(msg, cx),
        Artefact::SsoRequest => sso::sso_request(msg, cx),
        Artefact::SsoResponse => Ok(sso::sso_response(msg)),
        Artefact::DeviceRegistrationRequest => drs::drs_request(msg, cx),
        Artefact::DeviceRegistrationResponse => drs::drs_response(msg, cx),
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
        x509::NOT_BEFORE_SNAKE,
        x509::NOT_AFTER_SNAKE,
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

/// The verdict on a session-key HS256 signature: the `verification` node, the finding (none
/// without a session key to try) and a few words for the summary.
fn session_signature(
    check: &crypto::SignatureCheck,
    kdf: u8,
    at: &str,
) -> (Node, Option<Finding>, String) {
    let derived = format!(
        "KDFv{kdf}(session key, ctx{})",
        if kdf == 2 { " || payload" } else { "" }
    );
    match check {
        crypto::SignatureCheck::NoKey => (
            Node::field("verification", "needs the session key").with_note(format!(
                "HS256 with the derived key {derived}: only a holder of the session key (the \
                 device's TPM, and Entra ID) can check it; give it with --key (hex), or the \
                 device transport key with --key to unwrap it from the PRT response"
            )),
            None,
            "signature needs the session key".to_string(),
        ),
        crypto::SignatureCheck::Verified { source } => (
            Node::field(
                "verification",
                format!("verified with the key derived from {source}"),
            )
            .with_note(format!("HS256 with the derived key {derived}")),
            Some(
                Finding::info(format!(
                    "signature verified with the key derived from {source} (HS256, {derived})"
                ))
                .at(at.to_string()),
            ),
            "signature verified with the session key".to_string(),
        ),
        crypto::SignatureCheck::Redacted => (
            Node::field("verification", "signature redacted").with_note(format!(
                "HS256 with the derived key {derived}; the signature was {}",
                crate::secrets::REDACTED_NOTE
            )),
            Some(
                Finding::info(format!(
                    "not verified: the signature was {}",
                    crate::secrets::REDACTED_NOTE
                ))
                .at(at.to_string()),
            ),
            "signature redacted".to_string(),
        ),
        crypto::SignatureCheck::NotVerified { tried } => {
            let why = tried.join("; ");
            (
                Node::field("verification", format!("not verified: {why}")).with_note(
                    "a session key that does not verify it may be another PRT's (another device \
                     or sign-in), so this is not a proof of tampering",
                ),
                Some(Finding::info(format!("not verified: {why}")).at(at.to_string())),
                "signature not verified with the session keys given".to_string(),
            )
        }
    }
}

fn secret_len(label: &str, v: &str, note: &str) -> Node {
    Node::secret(label, v).with_note(format!("{note} ({} chars)", v.chars().count()))
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
            "the request parameter is a JWE (an encrypted request): only its header is \
             readable, see the jwt view",
        ));
    }
    let alg = token.alg().unwrap_or("(no alg)").to_string();
    let session_signed = alg.starts_with("HS") || token.header.get("ctx").is_some();
    let path = if msg.direction == crate::Direction::Blob {
        ""
    } else {
        msg.path()
    };
    if session_signed && alg != "ES256" {
        Ok(session::session_signed_request(&token, &form, path, cx))
    } else {
        Ok(acquisition::acquisition_request(&token, &form, path, cx))
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
        out.push(Node::field("prt_protocol_version", v).with_note(v4::protocol_note(v)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
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

    /// The decoder fixtures' synthetic session key (`prt-secrets.json`) as `--key sk.hex` gives it.
    fn session_key_trust() -> Trust {
        let secrets: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/prt/prt-secrets.json"))
                .unwrap();
        let sk = util::b64_decode_any(secrets["session_key_b64"].as_str().unwrap(), 64).unwrap();
        let mut trust = Trust::default();
        trust
            .decryption
            .add_file(util::hex_lower(&sk).as_bytes(), "--key sk.hex", None)
            .unwrap();
        trust
    }

    /// With the fixtures' session key every cookie and signed request verifies, both encrypted
    /// responses open.
    #[test]
    fn the_session_key_verifies_cookies_and_requests_and_opens_responses() {
        let trust = session_key_trust();
        let with_key = cx(&trust);
        for (text, want) in [
            (
                include_str!("../../tests/fixtures/prt/prt_cookie_kdfv1_cookie.http"),
                "signature verified with the key derived from --key sk.hex (HS256, KDFv1",
            ),
            (
                include_str!("../../tests/fixtures/prt/prt_cookie_kdfv2_cookie.http"),
                "signature verified with the key derived from --key sk.hex (HS256, KDFv2",
            ),
            (
                include_str!("../../tests/fixtures/prt/session_signed_request.http"),
                "signature verified with the key derived from --key sk.hex",
            ),
            (
                include_str!("../../tests/fixtures/prt/session_signed_jwe_gcm_response.http"),
                "decrypted with the key derived from --key sk.hex (AES-256-GCM, authenticated)",
            ),
            (
                include_str!("../../tests/fixtures/prt/session_signed_jwe_cbc_response.http"),
                "decrypted with the key derived from --key sk.hex (AES-256-CBC, tag not checked)",
            ),
        ] {
            let m = OwnedMessage::parse_http_text(text).unwrap();
            let d = Prt.decode(&m.as_message(), &with_key).unwrap();
            assert!(
                d.findings.iter().any(|f| f.message.starts_with(want)),
                "{want}: {:?}",
                d.findings
            );
        }
        // Another session key does not verify, and says so without calling it tampering.
        let mut other = Trust::default();
        other
            .decryption
            .add_file(&[b'a'; 64], "--key other.hex", None)
            .unwrap();
        let m = OwnedMessage::parse_http_text(include_str!(
            "../../tests/fixtures/prt/prt_cookie_kdfv2_cookie.http"
        ))
        .unwrap();
        let d = Prt.decode(&m.as_message(), &cx(&other)).unwrap();
        assert!(
            d.findings.iter().any(|f| f.message
                == "not verified: the KDFv2 key derived from --key other.hex does not verify it"),
            "{:?}",
            d.findings
        );
    }

    #[test]
    fn truncated_and_mutated_fixtures_decode_or_say_why() {
        let trust = Trust::default();
        let cx = cx(&trust);
        let (mut views, mut errors) = (0, 0);
        for text in [
            include_str!("../../tests/fixtures/prt/prt_request_password.http"),
            include_str!("../../tests/fixtures/prt/prt_response.http"),
            include_str!("../../tests/fixtures/prt/prt_cookie_kdfv2_header.http"),
            include_str!("../../tests/fixtures/prt/session_signed_jwe_cbc_response.http"),
            include_str!("../../tests/fixtures/prt/drs_hybrid_join_request.http"),
            include_str!("../../tests/fixtures/prt/drs_hybrid_join_response.http"),
            include_str!("../../tests/fixtures/prt/authorize_stale_nonce_302.http"),
            include_str!("../../tests/fixtures/prt/drs_ec_join_request.http"),
            include_str!("../../tests/fixtures/prt/prt_v4_request_password.http"),
            include_str!("../../tests/fixtures/prt/prt_v4_response.http"),
            include_str!("../../tests/fixtures/prt/prt_v4_usage_response.http"),
        ] {
            let full = OwnedMessage::parse_http_text(text).unwrap();
            let step = (full.body.len() / 97).max(1);
            for cut in (0..full.body.len()).step_by(step) {
                let mut m = full.clone();
                m.body.truncate(cut);
                let mut check = |m: &OwnedMessage| match Prt.decode(&m.as_message(), &cx) {
                    Ok(d) => {
                        assert!(!d.summary.is_empty(), "cut at {cut}");
                        views += 1;
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty(), "cut at {cut}");
                        errors += 1;
                    }
                };
                check(&m);
                if let Some(b) = m.body.last_mut() {
                    *b ^= 0x55;
                }
                check(&m);
            }
        }
        assert!(views > 0 && errors > 0, "{views} views, {errors} errors");
    }

    /// A shareable copy made by `idscope redact`: the PRT cookie removed whole, the signed
    /// request's signature replaced, the encrypted response's parts dropped, the session key and
    /// the TGTs removed. With the session key at hand every artefact still reads as redacted:
    /// no error or warning, and verdicts that say why nothing was checked.
    #[test]
    fn redacted_prt_artefacts_read_as_redacted_not_as_broken() {
        use crate::secrets::{placeholder, redacted_jwe, redacted_jws_signature};
        let trust = session_key_trust();
        let cx = cx(&trust);
        let decode = |text: &str| {
            let m = OwnedMessage::parse_http_text(text).unwrap();
            let d = Prt.decode(&m.as_message(), &cx).unwrap();
            let bad: Vec<_> = d
                .findings
                .iter()
                .filter(|f| f.severity >= crate::Severity::Warning)
                .collect();
            assert!(bad.is_empty(), "{}: {bad:?}", d.summary);
            let mut errors = Vec::new();
            d.root.walk(&mut |p, n| {
                if n.kind == Kind::Error {
                    errors.push(format!("{p}: {:?}", n.value));
                }
            });
            assert!(errors.is_empty(), "{errors:?}");
            d
        };

        let cookie = include_str!("../../tests/fixtures/prt/prt_cookie_kdfv2_cookie.http");
        let jws = cookie
            .split("x-ms-RefreshTokenCredential=")
            .nth(1)
            .unwrap()
            .split([';', '\n'])
            .next()
            .unwrap();
        let d = decode(&cookie.replace(jws, &placeholder("prt", jws.len(), "0123abcd")));
        assert!(d.summary.contains("credential redacted"), "{}", d.summary);

        let request = include_str!("../../tests/fixtures/prt/session_signed_request.http");
        let token = request
            .split("request=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        let (signed, _) = token.trim().rsplit_once('.').unwrap();
        let redacted = format!("{signed}.{}", redacted_jws_signature("0123456789a"));
        let d = decode(&request.replace(token.trim(), &redacted));
        assert!(
            d.has_finding("not verified: the signature was removed by idscope redact"),
            "{:?}",
            d.findings
        );

        let response =
            include_str!("../../tests/fixtures/prt/session_signed_jwe_gcm_response.http");
        let (head, body) = response.split_once("\n\n").unwrap();
        let header = body.trim().split('.').next().unwrap();
        let d = decode(&format!(
            "{head}\n\n{}",
            redacted_jwe(header, "0123456789a")
        ));
        assert!(
            d.summary.contains("encrypted parts redacted"),
            "{}",
            d.summary
        );

        let issued = include_str!("../../tests/fixtures/prt/prt_response.http");
        let (head, body) = issued.split_once("\n\n").unwrap();
        let mut doc: Value = serde_json::from_str(body).unwrap();
        for k in ["session_key_jwe", "tgt_ad", "tgt_cloud"] {
            let v = doc[k].as_str().unwrap().to_string();
            doc[k] = Value::String(placeholder(k, v.len(), "0123abcd"));
        }
        let d = decode(&format!("{head}\n\n{doc}"));
        assert!(d.summary.contains("session key redacted"), "{}", d.summary);
        assert!(d.summary.contains("tgt_cloud redacted"), "{}", d.summary);

        // A PRT protocol v4 answer (ECDH-ES), redacted, with its transport key at hand.
        let mut trust = trust.clone();
        trust
            .decryption
            .add_file(
                include_bytes!("../../tests/fixtures/prt/prt-ec-transport.pem"),
                "--key transport-ec.pem",
                None,
            )
            .unwrap();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let answer = include_str!("../../tests/fixtures/prt/prt_v4_usage_response.http");
        let (head, body) = answer.split_once("\n\n").unwrap();
        let header = body.trim().split('.').next().unwrap();
        let m = OwnedMessage::parse_http_text(&format!(
            "{head}\n\n{}",
            redacted_jwe(header, "0123456789a")
        ))
        .unwrap();
        let d = Prt.decode(&m.as_message(), &cx).unwrap();
        assert!(
            d.summary.ends_with("encrypted parts redacted"),
            "{}",
            d.summary
        );
        assert!(
            d.findings
                .iter()
                .all(|f| f.severity < crate::Severity::Warning),
            "{:?}",
            d.findings
        );
    }
}
