//! PRT protocols v3 and v4 (`prt_protocol_version`, the `/oauth2/v2.0/token` form) and the EC
//! pieces of v4: what each version means, the `jwe_crypto` a v4 request asks for, the
//! PartyUInfo / PartyVInfo blocks, the ECDH-ES answer ([`ecdh_response`]) opened with the
//! device's EC transport key, and the findings for a client that mixes versions or algorithms.
//!
//! What the sources say, and where they differ:
//! * **v3** (ROADtools `get_prt_with_refresh_token_v3`, the brokers of macOS, iOS and Android):
//!   the RSA protocol on the v2 endpoint, `prt_protocol_version=3.0` instead of
//!   `windows_api_version`; the device signs the acquisition RS256 (no `kdf_ver` header), the
//!   answer's `session_key_jwe` wraps the session key with RSA-OAEP, and PRT uses are HS256 with
//!   a KDFv2 key (`ctx`, `kdf_ver` 2), answered with `dir` JWEs. MSAL for iOS/macOS upgrades a
//!   cached PRT below 3.0 to 3.0.
//! * **v4** (ROADtools `request_token_with_devicekey_signed_payload_prtprotocolv4` and
//!   `decrypt_auth_response_ecdh`; MSAL's `MSIDEcdhApv`, `MSIDJweResponse+EcdhAesGcm` and
//!   `MSIDConcatKdfProvider`; Apple's Platform SSO "Creating a JSON Web Encryption (JWE) login
//!   response"; the macOS Platform SSO configuration: `signingAlgorithm` ES256,
//!   `encryptionAlgorithm` ECDHE-A256GCM, `prt_protocol_version` 4.0): the device key and the
//!   transport key (the STK, registered with DRS as an ECC JWK in `DeviceKeys`) are P-256,
//!   usually Secure-Enclave bound. **Every** request, acquisition and use alike, is signed
//!   ES256 by the device key (`x5c` = the device certificate, an array) and carries
//!   `jwe_crypto` = `{alg: ECDH-ES, enc: A256GCM, apv}`. The answer is a bare compact JWE
//!   `ECDH-ES` / `A256GCM` with `epk` and `apu`; its key is the Concat KDF (RFC 7518 §4.6.2,
//!   SHA-256) of the ECDH secret of `epk` and the STK, AlgorithmID `A256GCM`, PartyUInfo =
//!   `apu`, PartyVInfo = the **request's** `apv`. There is **no session key**: no
//!   `session_key_jwe`, no PRT cookie signed with a derived key, no KDF with `ctx` (ROADtools
//!   stores an empty session key for v4 PRTs).
//! * Disagreements: MSAL builds `apv` as `len || prefix || len || STK point || len || nonce`
//!   (prefix `MsalClient`; Apple's example: `Apple` and a UUID), ROADtools sends the fixed
//!   string `HOI`, and both derive with their own value: the answer's header need not repeat
//!   `apv` (Apple: optional). Apple's example `apu` is `len || "APPLE" || len || epk point`;
//!   what Entra ID puts before the point is not documented. MS-OAPXBC documents neither v3 nor
//!   v4. An `ECDH-ES` `session_key_jwe` to an EC transport key has not been seen anywhere; it is
//!   opened like the RSA one if it comes (`crypto::unwrap_session_key`).

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::session::plaintext_node;
use super::step_node;
use crate::jwt::{self, Enc, Jwe, Token};
use crate::keys::Keys;
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Message, util};

/// The `prt_protocol_version` of the EC protocol.
pub(super) const V4: &str = "4.0";

/// What a `prt_protocol_version` value means.
pub(super) fn protocol_note(v: &str) -> &'static str {
    match v.trim() {
        "3.0" => {
            "PRT protocol v3 (the v2.0 endpoint: brokers of macOS, iOS and Android, roadtx -v3): the \
             RSA protocol with prt_protocol_version instead of windows_api_version; the session \
             key comes RSA-OAEP wrapped in session_key_jwe and PRT uses are HS256 with a KDFv2 key"
        }
        "4.0" => {
            "PRT protocol v4 (macOS Platform SSO with Secure Enclave keys, roadtx -v4): P-256 \
             device and transport keys; every request is signed ES256 by the device key and \
             answered with an ECDH-ES JWE to the transport key; there is no session key"
        }
        "2.0" | "2.2" => "a windows_api_version value, not a prt_protocol_version",
        _ => "a PRT protocol version this decoder does not know (3.0 and 4.0 are)",
    }
}

/// The findings for a request whose version, signature algorithm, headers and `jwe_crypto` do
/// not belong together.
pub(super) fn mixing_findings(
    form: &[(String, String)],
    path: &str,
    token: &Token,
    at: &str,
    findings: &mut Vec<Finding>,
) {
    let get = |k: &str| super::form_get(form, k);
    let version = get("prt_protocol_version").map(str::trim);
    let alg = token.alg().unwrap_or("");
    let mut warn = |m: String| findings.push(Finding::warning(m).at(at.to_string()));
    if let (Some(v), Some(w)) = (version, get("windows_api_version")) {
        warn(format!(
            "both prt_protocol_version {v} and windows_api_version {w}: the v2.0 endpoint's \
             protocol and the Windows one are mixed; Entra ID reads one or the other"
        ));
    }
    let v1_endpoint = !path.is_empty() && !util::contains_ci(path.as_bytes(), b"/v2.0/");
    if let Some(v) = version.filter(|_| v1_endpoint) {
        warn(format!(
            "prt_protocol_version {v} sent to the v1 token endpoint ({path}): v3 and v4 clients \
             post to /oauth2/v2.0/token"
        ));
    }
    let v4 = version == Some(V4);
    let jwe_crypto = token.claim("jwe_crypto").is_some();
    match alg {
        "ES256" if !v4 => warn(format!(
            "an ES256 (EC device key) request with {}: EC device keys belong to PRT protocol \
             v4, whose answers are ECDH-ES encrypted to the transport key; the older protocols \
             wrap a session key with RSA-OAEP to an RSA transport key",
            match (version, get("windows_api_version")) {
                (Some(v), _) => format!("prt_protocol_version {v}"),
                (None, Some(w)) => format!("windows_api_version {w} (the Windows protocol)"),
                (None, None) => "no prt_protocol_version".to_string(),
            }
        )),
        "RS256" if v4 => warn(
            "prt_protocol_version 4.0 with an RS256 request: v4 clients sign with a P-256 device \
             key (ES256)"
                .to_string(),
        ),
        a if a.starts_with("HS") && v4 => warn(format!(
            "a session-key-signed ({a}) request under prt_protocol_version 4.0: PRT protocol v4 \
             has no session key, its clients sign every request with the device key (ES256)"
        )),
        _ => {}
    }
    if v4 && !jwe_crypto {
        warn(
            "prt_protocol_version 4.0 without jwe_crypto: the server has no PartyVInfo to encrypt \
             the answer with"
                .to_string(),
        );
    }
    if alg == "ES256" {
        for h in ["ctx", "kdf_ver"] {
            if token.header.get(h).is_some() {
                warn(format!(
                    "`{h}` in the header of a device-key-signed ES256 request: session-key \
                     derivation belongs to HS256 requests of protocols 1 to 3"
                ));
            }
        }
    }
}

/// A PartyUInfo / PartyVInfo block of length-prefixed parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PartyInfo {
    /// The first part: who built it (`Apple`, `MsalClient` …).
    pub prefix: String,
    /// The second part when it is an uncompressed P-256 point.
    pub point: Option<Vec<u8>>,
    /// The third part, when there is one (a nonce).
    pub nonce: Option<String>,
}

/// Reads `len || part` blocks (32-bit big-endian lengths): at least two, at most three, with
/// nothing left over; `None` for anything else.
pub(super) fn parse_party_info(b: &[u8]) -> Option<PartyInfo> {
    let mut parts = Vec::new();
    let mut rest = b;
    while !rest.is_empty() && parts.len() < 4 {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        parts.push(rest.get(4..4 + len)?);
        rest = rest.get(4 + len..)?;
    }
    if !rest.is_empty() || !(2..=3).contains(&parts.len()) {
        return None;
    }
    let text = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
    let point = parts
        .get(1)
        .filter(|p| p.len() == 65 && p.first() == Some(&4))
        .map(|p| p.to_vec());
    Some(PartyInfo {
        prefix: text(parts.first()?),
        point,
        nonce: parts.get(2).map(|p| text(p)),
    })
}

/// The RFC 7638 SHA-256 thumbprint (base64url) of an uncompressed P-256 point.
pub(super) fn thumbprint(point: &[u8]) -> String {
    let c = |r: std::ops::Range<usize>| URL_SAFE_NO_PAD.encode(point.get(r).unwrap_or_default());
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        c(1..33),
        c(33..65)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The first 12 characters of [`thumbprint`], for summaries.
pub(super) fn short_thumbprint(point: &[u8]) -> String {
    let t = thumbprint(point);
    format!("{}…", t.get(..12).unwrap_or(&t))
}

/// The uncompressed point of a P-256 JWK (`x`, `y` base64url or standard base64, shorter
/// coordinates left-padded); `None` when it is not one.
pub(super) fn jwk_point(jwk: &Value) -> Option<Vec<u8>> {
    if jwk.get("kty").and_then(Value::as_str) != Some("EC")
        || jwk.get("crv").and_then(Value::as_str) != Some("P-256")
    {
        return None;
    }
    let mut point = vec![4u8];
    for name in ["x", "y"] {
        let c = util::b64_decode_any(jwk.get(name)?.as_str()?, 64)?;
        if c.len() > 32 {
            return None;
        }
        point.resize(point.len() + 32 - c.len(), 0);
        point.extend_from_slice(&c);
    }
    Some(point)
}

/// The public point of an EC P-256 PKCS#8 key.
fn key_point(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let k = aws_lc_rs::agreement::PrivateKey::from_private_key_der(
        &aws_lc_rs::agreement::ECDH_P256,
        pkcs8,
    )
    .ok()?;
    Some(k.compute_public_key().ok()?.as_ref().to_vec())
}

/// Which `--key` holds the private half of `point`, if any.
fn key_for_point(keys: &Keys, point: &[u8]) -> Option<String> {
    keys.ec()
        .find(|(der, _)| key_point(der).as_deref() == Some(point))
        .map(|(_, k)| k.source.clone())
}

/// The view of an `apu` or `apv` (base64url): its parts, and the transport key it names.
pub(super) fn party_node(label: &str, b64: &str, note: &str, cx: &Context<'_>) -> Node {
    let mut n = Node::field(label, util::ellipsize(b64, 48)).with_note(note);
    let Some(bytes) = util::b64_decode_any(b64, 4096) else {
        n.push(Node::leaf("decode", "not base64url", Kind::Error));
        return n;
    };
    match parse_party_info(&bytes) {
        Some(p) => {
            n.push(Node::field("prefix", &p.prefix).with_note(
                "who built it: Apple (Platform SSO), MsalClient (MSAL); Apple's example answer \
                 uses APPLE",
            ));
            if let Some(point) = &p.point {
                let mut k =
                    Node::field("point", format!("P-256, thumbprint {}", thumbprint(point)))
                        .with_note(
                            "an uncompressed P-256 public key (65 bytes); RFC 7638 thumbprint",
                        );
                if let Some(src) = key_for_point(&cx.trust.decryption, point) {
                    k.push(Node::field("private key", src));
                }
                n.push(k);
            }
            if let Some(nonce) = &p.nonce {
                n.push(
                    Node::field("nonce", nonce)
                        .with_note("a fresh client nonce: each request's apv differs"),
                );
            }
        }
        None => n.push(
            Node::field("parts", format!("{} bytes", bytes.len())).with_note(
                "not the length-prefixed blocks of MSAL and Platform SSO (prefix, P-256 point, \
             nonce); ROADtools sends the fixed apv HOI. It enters the key derivation as it is",
            ),
        ),
    }
    n
}

/// The `jwe_crypto` of a v4 request: the answer's encryption it asks for.
pub(super) fn jwe_crypto_node(
    token: &Token,
    at: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Option<Node> {
    let jc = token.claim("jwe_crypto")?;
    let mut n = Node::section("jwe_crypto").with_note(
        "how the client wants the answer encrypted: ECDH-ES key agreement with its transport key \
         (STK), AES-256-GCM content; apv is its PartyVInfo for the Concat KDF",
    );
    let s = |k: &str| jc.get(k).map(util::json_scalar).unwrap_or_default();
    let (alg, enc) = (s("alg"), s("enc"));
    n.value = Some(format!("{alg} / {enc}"));
    n.push(Node::field("alg", &alg));
    n.push(Node::field("enc", &enc));
    if alg != "ECDH-ES" || enc != "A256GCM" {
        findings.push(
            Finding::warning(format!(
                "jwe_crypto asks for {alg} / {enc}: Entra ID and MSAL know only ECDH-ES with \
                 A256GCM"
            ))
            .at(format!("{at}/jwe_crypto")),
        );
    }
    match jc.get("apv").and_then(Value::as_str) {
        Some(apv) => n.push(party_node(
            "apv",
            apv,
            "PartyVInfo: the server derives the answer's key with it, and the client with the \
             value it sent",
            cx,
        )),
        None => findings.push(
            Finding::warning("jwe_crypto without apv: the answer's key cannot be derived")
                .at(format!("{at}/jwe_crypto")),
        ),
    }
    Some(n)
}

/// Whether the JWT's signature verifies with the key of the certificate it carries (`None` when
/// the `alg` is not RS256 or ES256 or the certificate does not parse). It proves the signer held
/// that key, not that DRS issued the certificate.
pub(super) fn signed_by_x5c(token: &Token, der: &[u8]) -> Option<bool> {
    use x509_parser::prelude::FromDer as _;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    let key = cert.public_key().subject_public_key.data.as_ref();
    let input = token.signing_input.as_bytes();
    Some(match token.alg()? {
        "RS256" => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
            .verify(input, &token.signature)
            .is_ok(),
        "ES256" => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
            .verify(input, &token.signature)
            .is_ok(),
        _ => return None,
    })
}

/// True for a compact JWE whose header names ECDH-ES key agreement.
pub(super) fn is_ecdh_jwe(body: &[u8]) -> bool {
    let first = body.split(|b| *b == b'.').next().unwrap_or_default();
    std::str::from_utf8(first)
        .ok()
        .and_then(|s| util::b64_decode_any(s, 64 * 1024))
        .is_some_and(|h| util::contains(&h, b"\"ECDH-ES") && util::contains(&h, b"\"epk\""))
}

/// True for an ECDH-ES compact JWE whose `apu` is a length-prefixed PartyUInfo holding a P-256
/// point: the shape of a PRT protocol v4 answer, told apart from other ECDH-ES JWEs without
/// the token endpoint's path.
pub(super) fn is_v4_answer_shape(body: &[u8]) -> bool {
    if !is_ecdh_jwe(body) {
        return false;
    }
    let first = body.split(|b| *b == b'.').next().unwrap_or_default();
    std::str::from_utf8(first)
        .ok()
        .and_then(|s| util::b64_decode_any(s, 64 * 1024))
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .and_then(|h| {
            let apu = util::b64_decode_any(h.get("apu")?.as_str()?, 4096)?;
            parse_party_info(&apu)?.point
        })
        .is_some()
}

/// What the keys made of an ECDH-ES answer.
enum Opening {
    NoKey,
    NoApv,
    Opened {
        plaintext: Vec<u8>,
        key: String,
        apv: String,
    },
    Failed(Vec<String>),
}

fn open(jwe: &Jwe, enc: Enc, cx: &Context<'_>) -> Opening {
    let keys = &cx.trust.decryption;
    if keys.ec().next().is_none() {
        return Opening::NoKey;
    }
    let header_apv = jwe.param_str(0, "apv").map(str::to_string);
    let mut tried = Vec::new();
    let mut any_apv = header_apv.is_some();
    for (der, key) in keys.ec() {
        let point = key_point(der);
        // The header's apv, else every apv learned from requests that names this key.
        let mut candidates: Vec<(String, String)> = header_apv
            .iter()
            .map(|a| (a.clone(), "the answer's header".to_string()))
            .collect();
        for p in keys.party_v_info.iter().rev() {
            let names_key = parse_party_info(&p.bytes).and_then(|i| i.point) == point;
            if names_key || parse_party_info(&p.bytes).is_none() {
                candidates.push((URL_SAFE_NO_PAD.encode(&p.bytes), p.source.clone()));
            }
        }
        any_apv |= candidates.len() > usize::from(header_apv.is_some());
        for (apv, from) in candidates {
            let param = |name: &str| {
                if name == "apv" {
                    Some(Value::String(apv.clone()))
                } else {
                    jwe.param(0, name).cloned()
                }
            };
            let alg = jwe.param_str(0, "alg").unwrap_or("ECDH-ES");
            let encrypted_key = jwe.recipients.first().map(|r| r.encrypted_key.as_slice());
            match jwt::unwrap_cek(
                alg,
                enc,
                &param,
                encrypted_key.unwrap_or_default(),
                &key.material,
            ) {
                Ok(cek) => match jwe.open_content(enc, &cek.key) {
                    Ok(plaintext) => {
                        return Opening::Opened {
                            plaintext,
                            key: key.source.clone(),
                            apv: from,
                        };
                    }
                    Err(_) => tried.push(format!(
                        "{} with the apv of {from}: the content does not authenticate",
                        key.source
                    )),
                },
                Err(e) => {
                    tried.push(format!("{}: {e}", key.source));
                    break;
                }
            }
        }
    }
    if !any_apv {
        return Opening::NoApv;
    }
    Opening::Failed(tried)
}

/// A bare compact JWE answer with ECDH-ES key agreement: a PRT protocol v4 answer.
pub(super) fn ecdh_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let text = std::str::from_utf8(msg.body.trim_ascii())
        .map_err(|_| DecodeError::Utf8 { field: "body" })?;
    let t = jwt::parse_limited(text, &cx.limits)?;
    let seg = t
        .jwe
        .ok_or_else(|| DecodeError::not("a JWE", "not 5 segments"))?;
    let at = "PRT protocol v4 answer";
    let mut findings = Vec::new();
    let alg = t.alg().unwrap_or("?").to_string();
    let enc_name = t.header_str("enc").unwrap_or("?").to_string();
    let mut root = Node::section(at);
    root.value = Some(format!("JWE {alg}/{enc_name}"));
    root.note = Some(
        "the answer to a device-key-signed request under PRT protocol v4: a bare compact JWE \
         encrypted to the device's transport key (STK) by ECDH-ES key agreement; the plaintext is \
         the token JSON (with aza: the PRT)"
            .to_string(),
    );
    root.push(step_node(
        "nonce → device-signed request → ECDH-ES answer",
        "readable only with the transport private key (Secure Enclave on a real Mac)",
    ));
    let mut h = Node::section("header");
    h.push(Node::field("alg", &alg).with_note(if alg == "ECDH-ES" {
        "direct key agreement: the content key is the Concat KDF output; no wrapped key"
    } else {
        "ECDH-ES with key wrapping: the derived key unwraps the content key (not what v4 \
         clients expect)"
    }));
    h.push(Node::field("enc", &enc_name).with_note("AES-256-GCM, AAD = the protected header"));
    if alg != "ECDH-ES" || enc_name != "A256GCM" {
        findings.push(
            Finding::warning(format!(
                "an {alg} / {enc_name} answer: MSAL and ROADtools open ECDH-ES with A256GCM only"
            ))
            .at(format!("{at}/header")),
        );
    }
    let epk = t.header.get("epk");
    let epk_point = epk.and_then(jwk_point);
    match (epk, &epk_point) {
        (Some(_), Some(p)) => h.push(
            Node::field("epk", format!("EC P-256, thumbprint {}", thumbprint(p))).with_note(
                "the server's ephemeral public key for this answer only: ECDH of it with the \
                 transport key gives the shared secret Z",
            ),
        ),
        (Some(v), None) => {
            h.push(Node::leaf("epk", v.to_string(), Kind::Error).with_note("not a P-256 JWK"));
            findings.push(
                Finding::warning("the epk is not a P-256 public key")
                    .at(format!("{at}/header/epk")),
            );
        }
        (None, _) => findings.push(
            Finding::error("no epk: ECDH-ES needs the ephemeral public key")
                .at(format!("{at}/header")),
        ),
    }
    match t.header_str("apu") {
        Some(apu) => {
            h.push(party_node(
                "apu",
                apu,
                "PartyUInfo (Concat KDF): prefix and the epk point, from the server",
                cx,
            ));
            let apu_point = util::b64_decode_any(apu, 4096)
                .and_then(|b| parse_party_info(&b))
                .and_then(|p| p.point);
            if let (Some(a), Some(e)) = (&apu_point, &epk_point)
                && a != e
            {
                findings.push(
                    Finding::warning(
                        "the point in apu is not the epk: the PartyUInfo names another key",
                    )
                    .at(format!("{at}/header/apu")),
                );
            }
        }
        None => findings.push(
            Finding::warning("no apu: MSAL refuses an answer without PartyUInfo")
                .at(format!("{at}/header")),
        ),
    }
    match t.header_str("apv") {
        Some(apv) => h.push(party_node(
            "apv",
            apv,
            "PartyVInfo repeated from the request's jwe_crypto (optional; clients derive with \
             the value they sent)",
            cx,
        )),
        None => h.push(Node::text(
            "apv",
            "not repeated: the key derivation needs the apv of the request's jwe_crypto",
        )),
    }
    root.push(h);
    let mut s = Node::section("segments");
    s.push(
        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key)).with_note(
            if seg.encrypted_key == 0 {
                "empty, as it must be for direct ECDH-ES"
            } else {
                "not empty: a wrapped content key"
            },
        ),
    );
    s.push(Node::field("iv", format!("{} bytes", seg.iv)));
    s.push(Node::field(
        "ciphertext",
        format!("{} bytes", seg.ciphertext),
    ));
    s.push(Node::field("tag", format!("{} bytes", seg.tag)));
    root.push(s);
    if t.signature_redacted {
        root.push(Node::field("decryption", "(redacted)").with_note(format!(
            "the encrypted parts were {}",
            crate::secrets::REDACTED_NOTE
        )));
        let mut d = Decoded::new(
            "prt",
            format!("PRT protocol v4 answer: JWE {alg}/{enc_name}; encrypted parts redacted"),
            root,
        );
        d.findings = findings;
        return Ok(d);
    }
    let opened = match (
        Jwe::from_compact(text, &cx.limits),
        Enc::from_name(&enc_name),
    ) {
        (Ok(jwe), Some(enc)) => open(&jwe, enc, cx),
        _ => Opening::Failed(vec![format!(
            "the content encryption {enc_name} is unknown"
        )]),
    };
    let tail =
        match opened {
            Opening::NoKey => {
                root.push(
                Node::field("decryption", "needs the transport private key").with_note(
                    "ECDH of the epk with the device's transport key (STK): give a test device's \
                     P-256 key with --key",
                ),
            );
                "needs the transport key".to_string()
            }
            Opening::NoApv => {
                root.push(Node::field("decryption", "needs the request's apv").with_note(
                "the answer's header does not repeat apv and no request of the capture gave \
                 one: analyze the capture with the request in it",
            ));
                "needs the request's apv".to_string()
            }
            Opening::Opened {
                plaintext,
                key,
                apv,
            } => {
                let mut n = Node::section("decryption");
                n.value = Some(format!("decrypted with {key}"));
                n.note = Some(format!(
                    "ECDH-ES (Concat KDF with the apv of {apv}), AES-256-GCM, authenticated"
                ));
                n.push(plaintext_node(&plaintext, cx));
                root.push(n);
                findings.push(
                    Finding::info(format!(
                        "decrypted with {key} (ECDH-ES, A256GCM; apv of {apv})"
                    ))
                    .at(format!("{at}/decryption")),
                );
                format!(
                    "decrypted with {key}: {}",
                    plaintext_summary(&plaintext, cx)
                )
            }
            Opening::Failed(tried) => {
                let mut n = Node::section("decryption");
                n.value = Some("not decrypted".to_string());
                for t in &tried {
                    n.push(Node::text("key tried", t));
                }
                root.push(n);
                findings.push(
                    Finding::info(format!("not decrypted: {}", tried.join("; ")))
                        .at(format!("{at}/decryption")),
                );
                "not decrypted with the keys given".to_string()
            }
        };
    let to = t
        .header_str("apv")
        .and_then(|a| util::b64_decode_any(a, 4096))
        .and_then(|b| parse_party_info(&b))
        .and_then(|p| p.point)
        .map(|p| format!(" {}", short_thumbprint(&p)))
        .unwrap_or_default();
    let mut d = Decoded::new(
        "prt",
        format!("PRT protocol v4 answer: JWE {alg}/{enc_name} to the transport key{to}; {tail}"),
        root,
    );
    d.findings = findings;
    Ok(d)
}

/// A few words on a decrypted answer: the PRT or the tokens it holds.
fn plaintext_summary(plain: &[u8], cx: &Context<'_>) -> String {
    let Ok(v) = util::parse_json(plain, "decrypted answer", &cx.limits) else {
        return format!("{} bytes, not JSON", plain.len());
    };
    let who = v
        .get("id_token")
        .and_then(Value::as_str)
        .and_then(|t| jwt::parse_limited(t, &cx.limits).ok())
        .and_then(|t| {
            t.claim_str("preferred_username")
                .or_else(|| t.claim_str("upn"))
        });
    let prt = v.get("refresh_token_expires_in").is_some();
    let mut out = if prt {
        "PRT issued".to_string()
    } else if v.get("access_token").is_some() {
        let aud = v
            .get("access_token")
            .and_then(Value::as_str)
            .and_then(|t| jwt::parse_limited(t, &cx.limits).ok())
            .and_then(|t| t.claim_str("aud"));
        format!(
            "tokens{}",
            aud.map(|a| format!(" for {a}")).unwrap_or_default()
        )
    } else {
        "token response".to_string()
    };
    if let Some(w) = who {
        out.push_str(&format!(" ({w})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::Decoder as _;
    use crate::prt::{Prt, crypto};
    use crate::{OwnedMessage, Severity, Trust};

    const TRANSPORT: &str = include_str!("../../tests/fixtures/prt/prt-ec-transport.pem");
    const REQUEST: &str = include_str!("../../tests/fixtures/prt/prt_v4_request_password.http");
    const ANSWER: &str = include_str!("../../tests/fixtures/prt/prt_v4_response.http");
    const USAGE_ANSWER: &str = include_str!("../../tests/fixtures/prt/prt_v4_usage_response.http");

    fn decode(text: &str, trust: &Trust) -> Decoded {
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust);
        let m = OwnedMessage::parse_http_text(text).unwrap();
        Prt.decode(&m.as_message(), &cx).unwrap()
    }

    fn with_transport_key() -> Trust {
        let mut trust = Trust::default();
        trust
            .decryption
            .add_file(TRANSPORT.as_bytes(), "--key transport-ec.pem", None)
            .unwrap();
        trust
    }

    fn warnings(d: &Decoded) -> Vec<&str> {
        d.findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.message.as_str())
            .collect()
    }

    /// The answers of `make_ec_fixtures.py` (one by `cryptography` with the Concat KDF written
    /// there, one by jwcrypto) open with the transport key: with the apv of the answer's header,
    /// or, when the header does not repeat it, with the apv learned from the request.
    #[test]
    fn v4_answers_open_with_the_transport_key_and_the_requests_apv() {
        let mut trust = with_transport_key();
        let d = decode(USAGE_ANSWER, &trust);
        assert!(
            d.has_finding(
                "decrypted with --key transport-ec.pem (ECDH-ES, A256GCM; apv of the answer's \
                 header)"
            ),
            "{:?}",
            d.findings
        );
        assert!(
            d.summary.contains("tokens for https://graph.microsoft.com"),
            "{}",
            d.summary
        );

        let d = decode(ANSWER, &trust);
        assert!(
            d.summary.ends_with("needs the request's apv"),
            "{}",
            d.summary
        );
        let request = OwnedMessage::parse_http_text(REQUEST).unwrap();
        assert!(crypto::learn_party_v_info(
            &request.body,
            &mut trust.decryption,
            "flow #4",
            &crate::Limits::default()
        ));
        let d = decode(ANSWER, &trust);
        assert!(
            d.has_finding(
                "decrypted with --key transport-ec.pem (ECDH-ES, A256GCM; apv of the request of \
                 flow #4)"
            ),
            "{:?}",
            d.findings
        );
        assert!(
            d.summary.ends_with("PRT issued (carol@contoso.test)"),
            "{}",
            d.summary
        );
        let mut prt = None;
        d.root.walk(&mut |p, n| {
            if p.ends_with("plaintext/refresh_token") {
                prt = Some(n.kind);
            }
        });
        assert_eq!(prt, Some(Kind::Secret));

        // The ciphertext altered: the tag fails, nothing is shown.
        let (head, body) = ANSWER.split_once("\n\n").unwrap();
        let mut parts: Vec<String> = body.trim().split('.').map(str::to_string).collect();
        let flipped = if parts[3].starts_with('A') { "B" } else { "A" };
        parts[3].replace_range(0..1, flipped);
        let d = decode(&format!("{head}\n\n{}", parts.join(".")), &trust);
        assert!(
            d.has_finding("the content does not authenticate"),
            "{:?}",
            d.findings
        );
        assert!(!d.summary.contains("PRT issued"), "{}", d.summary);

        // Another device's key opens nothing, and says so.
        let mut other = Trust::default();
        let k =
            aws_lc_rs::agreement::PrivateKey::generate(&aws_lc_rs::agreement::ECDH_P256).unwrap();
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> =
            aws_lc_rs::encoding::AsDer::as_der(&k).unwrap();
        other.decryption.keys.push(crate::keys::DecryptionKey {
            material: crate::keys::KeyMaterial::Ec(der.as_ref().to_vec()),
            source: "--key other.pem".to_string(),
            kid: None,
        });
        let d = decode(USAGE_ANSWER, &other);
        assert!(
            d.summary.ends_with("not decrypted with the keys given"),
            "{}",
            d.summary
        );
        // Without a key: what it needs.
        let d = decode(USAGE_ANSWER, &Trust::default());
        assert!(
            d.summary.ends_with("needs the transport key"),
            "{}",
            d.summary
        );
    }

    #[test]
    fn the_request_names_the_transport_key_and_the_one_given_holds_it() {
        let trust = with_transport_key();
        let d = decode(REQUEST, &trust);
        assert!(
            warnings(&d).iter().all(|w| w.contains("password")),
            "{:?}",
            warnings(&d)
        );
        let mut key = None;
        d.root.walk(&mut |p, n| {
            if p.ends_with("jwe_crypto/apv/point/private key") {
                key = n.value.clone();
            }
        });
        assert_eq!(key.as_deref(), Some("--key transport-ec.pem"));
        assert!(
            d.summary
                .starts_with("PRT protocol v4: PRT acquisition via password grant")
        );
        assert!(
            d.summary.contains("answer ECDH-ES to transport key"),
            "{}",
            d.summary
        );
    }

    fn jwt_of(text: &str) -> (String, String) {
        let body = text.split_once("\n\n").unwrap().1.trim().to_string();
        let jwt = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("request="))
            .unwrap()
            .to_string();
        (body, jwt)
    }

    /// A request whose version, `alg`, headers and endpoint do not belong together is told so;
    /// well-formed v3 and v4 requests are not.
    #[test]
    fn mixed_versions_and_algorithms_are_findings() {
        let trust = Trust::default();
        let mixed = decode(
            include_str!("../../tests/fixtures/prt/prt_v4_mixed_request.http"),
            &trust,
        );
        let w = warnings(&mixed);
        assert!(
            w.iter()
                .any(|m| m
                    .starts_with("an ES256 (EC device key) request with windows_api_version 2.2")),
            "{w:?}"
        );
        assert!(
            w.iter().any(|m| m.starts_with("`kdf_ver` in the header")),
            "{w:?}"
        );
        let v3_text = include_str!("../../tests/fixtures/prt/prt_v3_request.http");
        let v3 = decode(v3_text, &trust);
        assert!(warnings(&v3).is_empty(), "{:?}", warnings(&v3));
        assert!(
            v3.summary.starts_with("PRT protocol v3: "),
            "{}",
            v3.summary
        );

        // The v3 request relabelled 4.0: RS256 and no jwe_crypto.
        let relabelled = v3_text.replace("prt_protocol_version=3.0", "prt_protocol_version=4.0");
        let w4 = decode(&relabelled, &trust);
        let w = warnings(&w4);
        assert!(
            w.iter()
                .any(|m| m.starts_with("prt_protocol_version 4.0 with an RS256")),
            "{w:?}"
        );
        assert!(w.iter().any(|m| m.contains("without jwe_crypto")), "{w:?}");
        // Posted to the v1 endpoint.
        let v1 = decode(
            &v3_text.replace("/oauth2/v2.0/token", "/oauth2/token"),
            &trust,
        );
        assert!(
            warnings(&v1)
                .iter()
                .any(|m| m.contains("sent to the v1 token endpoint")),
            "{:?}",
            warnings(&v1)
        );
    }

    /// An ES256 request whose signature the x5c key does not verify, and one whose header names
    /// RS256 for the EC certificate.
    #[test]
    fn the_device_signature_is_checked_against_the_x5c_key() {
        let trust = Trust::default();
        let (body, jwt) = jwt_of(REQUEST);
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        let mut sig = sig.to_string();
        let c = if sig.starts_with('A') { "B" } else { "A" };
        sig.replace_range(0..1, c);
        let altered = REQUEST.replace(&body, &body.replace(&jwt, &format!("{signed}.{sig}")));
        let d = decode(&altered, &trust);
        assert!(
            d.has_finding("the signature does not verify with the key of the x5c certificate"),
            "{:?}",
            d.findings
        );
        let (h, rest) = jwt.split_once('.').unwrap();
        let mut header: Value =
            serde_json::from_slice(&util::b64_decode_any(h, 65536).unwrap()).unwrap();
        header["alg"] = Value::from("RS256");
        let relabelled = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()));
        let d = decode(&REQUEST.replace(&jwt, &relabelled), &trust);
        let errors: Vec<_> = d
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect();
        assert!(
            errors.iter().any(|m| m.starts_with(
                "the request is signed RS256 but the x5c device certificate holds an EC P-256 key"
            )),
            "{errors:?}"
        );
    }

    #[test]
    fn an_ec_registration_shows_its_transport_key_and_what_does_not_fit() {
        let trust = with_transport_key();
        let text = include_str!("../../tests/fixtures/prt/drs_ec_join_request.http");
        let d = decode(text, &trust);
        assert!(
            d.summary
                .contains("CSR (EC P-256) + EC transport key (STK "),
            "{}",
            d.summary
        );
        assert!(warnings(&d).is_empty(), "{:?}", warnings(&d));
        let mut stk = None;
        d.root.walk(&mut |p, n| {
            if p.ends_with("DeviceKeys/[0]/Data") {
                stk = n.value.clone();
            }
        });
        assert!(stk.is_some_and(|v| v.starts_with("EC P-256, thumbprint ")));
        let d = decode(
            &text.replace("\"KeyType\": \"ECC\"", "\"KeyType\": \"RSA\""),
            &trust,
        );
        assert!(
            d.has_finding("KeyType RSA but the CSR's key is EC 256 bits"),
            "{:?}",
            d.findings
        );
        let d = decode(
            &text.replace("\\\"kty\\\":", "\\\"d\\\":\\\"AAAA\\\",\\\"kty\\\":"),
            &trust,
        );
        assert!(
            d.findings
                .iter()
                .any(|f| f.severity == Severity::Error && f.message.contains("holds a private key")),
            "{:?}",
            d.findings
        );
    }

    /// A pasted answer (`idscope decode`, no path) is a PRT answer by its PartyUInfo's shape.
    #[test]
    fn a_pasted_v4_answer_is_told_by_its_party_u_info() {
        let body = ANSWER.split_once("\n\n").unwrap().1.trim();
        assert_eq!(
            crate::prt::classify(&Message::blob(body.as_bytes())),
            Some(crate::prt::Artefact::EncryptedResponse)
        );
        // jwcrypto's answer carries only a prefix in apu: not told apart from any ECDH-ES JWE.
        let other = USAGE_ANSWER.split_once("\n\n").unwrap().1.trim();
        assert_eq!(crate::prt::classify(&Message::blob(other.as_bytes())), None);
    }

    #[test]
    fn party_info_blocks_parse_or_say_they_are_not_ones() {
        let mut b = Vec::new();
        for part in [b"Apple".as_slice(), &[4u8; 65], b"NONCE"] {
            b.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            b.extend_from_slice(part);
        }
        let p = parse_party_info(&b).unwrap();
        assert_eq!(p.prefix, "Apple");
        assert_eq!(p.point.as_deref(), Some([4u8; 65].as_slice()));
        assert_eq!(p.nonce.as_deref(), Some("NONCE"));
        for bad in [
            &b[..b.len() - 1],
            &b[..3],
            b"\x1c\xe2".as_slice(),
            &[0xff; 8],
        ] {
            assert_eq!(parse_party_info(bad), None);
        }
    }
}
