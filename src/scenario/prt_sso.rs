//! Hybrid-join SSO (protocols.md §7, §8.2 step 4); the client plays the Windows device:
//! device key + transport key (RSA 2048) → CSR → DRS PUT (JoinType 6) → `srv_challenge` →
//! device-signed PRT request (inner `password` grant of a managed user) → unwraps the session key
//! with the transport key → PRT cookie (KDFv2) → authorize (first a 302 that hands out the
//! `sso_nonce`, then with the cookie; a stale-nonce 302 is followed once, sending the credential
//! as a header) → code → `authorization_code` token → `srv_challenge` → session-key-signed
//! jwt-bearer request → decrypts the JWE response.
//!
//! Not responsible for: HTTP plumbing (mod.rs), the server side (the fixture's `prt` and `drs`
//! modules). The crypto primitives are [`crate::testbed::crypto`], the same ones the server uses;
//! the fixture's tests check them against the decoder fixtures' independent Python generator.

use anyhow::{Context as _, anyhow};
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs8::EncodePrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use super::{Answer, Client, StepError, Steps, jwt_payload};
use crate::testbed::crypto;
use crate::testbed::{
    AAD_GRAPH, CLOUD_USERS, DRS_HOST, FEDERATED_DOMAIN, JWT_BEARER, LOGIN_HOST, PRT_CREDENTIAL,
    TENANT_ID,
};

/// The Windows sign-in client id PRT requests use.
pub const WINDOWS_SIGN_IN: &str = "38aa3b87-a06d-4817-b275-7a316988d93b";
/// The broker client id of session-key-signed requests.
pub const BROKER: &str = "29d9ed98-a469-4536-ade2-f981bc1d605e";
/// The client the authorize request is for (Azure AD PowerShell).
pub const AAD_PS: &str = "1b730954-1685-4b74-9bfd-dac224a7b894";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// The device's keys (generated per run; never written anywhere).
pub struct DeviceKeys {
    device_pkcs8: Vec<u8>,
    transport_pkcs8: Vec<u8>,
    transport_n: Vec<u8>,
    transport_e: Vec<u8>,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys").finish_non_exhaustive()
    }
}

impl DeviceKeys {
    /// Generates the device key and the transport key (RSA 2048), from `seed` when given (the
    /// same keys on every run), else fresh.
    pub fn generate(seed: Option<u64>) -> anyhow::Result<Self> {
        let mut rng = crate::testbed::stream(seed, "scenario-device");
        let device = rsa::RsaPrivateKey::new(&mut rng, 2048).context("device key")?;
        let transport = rsa::RsaPrivateKey::new(&mut rng, 2048).context("transport key")?;
        Ok(DeviceKeys {
            device_pkcs8: device.to_pkcs8_der()?.as_bytes().to_vec(),
            transport_pkcs8: transport.to_pkcs8_der()?.as_bytes().to_vec(),
            transport_n: transport.n().to_bytes_be(),
            transport_e: transport.e().to_bytes_be(),
        })
    }

    /// The transport private key as PKCS#8 PEM (what `idscope analyze --key` takes to unwrap
    /// the session key of this device's PRT).
    pub fn transport_pem(&self) -> String {
        pkcs8_pem(&self.transport_pkcs8)
    }

    /// A PKCS#10 request for the device key (the placeholder CN Windows tools use).
    pub fn csr_der(&self) -> anyhow::Result<Vec<u8>> {
        csr_der(&self.device_pkcs8, &rcgen::PKCS_RSA_SHA256)
    }

    /// The transport key as a `BCRYPT_RSAPUBLIC_BLOB`.
    pub fn transport_blob(&self) -> Vec<u8> {
        crypto::bcrypt_rsa_public_blob(&self.transport_n, &self.transport_e)
    }

    /// An RS256 JWT signed by the device key.
    pub fn sign_rs256(&self, header: &Value, payload: &Value) -> anyhow::Result<String> {
        let pair = RsaKeyPair::from_pkcs8(&self.device_pkcs8).map_err(|e| anyhow!("{e}"))?;
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .map_err(|_| anyhow!("RSA signing failed"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    /// Unwraps the session key from `session_key_jwe` and checks it against the JWE content.
    pub fn session_key(&self, session_key_jwe: &str) -> anyhow::Result<[u8; 32]> {
        let (header, wrapped, ..) = crypto::jwe_parts(session_key_jwe)?;
        if header.get("alg").and_then(Value::as_str) != Some("RSA-OAEP") {
            return Err(anyhow!("session_key_jwe alg is not RSA-OAEP: {header}"));
        }
        let key = crypto::oaep_decrypt(&self.transport_pkcs8, &wrapped)?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| anyhow!("the session key is not 32 bytes"))?;
        crypto::jwe_gcm_decrypt(session_key_jwe, &key)
            .context("the unwrapped key is not the JWE's CEK")?;
        Ok(key)
    }
}

/// A PKCS#10 request for a PKCS#8 device key, with the placeholder CN Windows tools and
/// ROADtools put in it (DRS replaces it with the device id).
pub(super) fn csr_der(
    pkcs8: &[u8],
    alg: &'static rcgen::SignatureAlgorithm,
) -> anyhow::Result<Vec<u8>> {
    let kp = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.to_vec()),
        alg,
    )?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        "7E980AD9-B86D-4306-9425-9AC066FB014A",
    );
    params.distinguished_name = dn;
    Ok(params.serialize_request(&kp)?.der().to_vec())
}

/// The device certificate of a DRS answer.
pub(super) struct DrsCertificate {
    /// `Certificate.RawBody`: the DER in base64, as `x5c` carries it.
    pub b64: String,
    /// The subject CN: the device id.
    pub cn: String,
    /// Whether its key is an EC key.
    pub ec: bool,
}

/// The device certificate of a DRS answer; `None` unless the answer is a 200 with a
/// certificate that parses.
pub(super) fn drs_certificate(a: &Answer) -> Option<DrsCertificate> {
    if a.status != 200 {
        return None;
    }
    let b64 = a
        .json()?
        .pointer("/Certificate/RawBody")?
        .as_str()?
        .to_string();
    let der = STANDARD.decode(&b64).ok()?;
    let (_, c) = x509_parser::parse_x509_certificate(&der).ok()?;
    let cn = c
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    let ec = c.public_key().algorithm.algorithm.to_id_string() == "1.2.840.10045.2.1";
    Some(DrsCertificate { b64, cn, ec })
}

/// A PKCS#8 DER key as PEM (`PRIVATE KEY`, 64-column base64).
pub(super) fn pkcs8_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// The transport private key (PKCS#8 PEM) of the device the PRT scenario plays with `seed`:
/// with the seed of an `idscope demo` recording, the key that opens its PRT session key.
pub fn transport_key_pem(seed: u64) -> anyhow::Result<String> {
    Ok(DeviceKeys::generate(Some(seed))?.transport_pem())
}

pub(super) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // Not secret material for the fixture run; a fixed fallback keeps the scenario going.
        b.iter_mut().enumerate().for_each(|(i, x)| *x = i as u8);
    }
    b
}

pub(super) fn new_guid() -> String {
    let b: [u8; 16] = random_bytes();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// An HS256 JWT signed with the key derived from `session_key` (fresh 24-byte `ctx`).
pub fn session_jwt(session_key: &[u8; 32], payload: &Value, kdf_ver: u8) -> String {
    let ctx: [u8; 24] = random_bytes();
    let payload = payload.to_string();
    let key = crypto::derive(session_key, &ctx, payload.as_bytes(), kdf_ver);
    let mut header = json!({"alg": "HS256", "typ": "JWT", "ctx": STANDARD.encode(ctx)});
    if kdf_ver >= 2 {
        header["kdf_ver"] = json!(2);
    }
    crypto::hs256(&header, payload.as_bytes(), &key)
}

pub(super) async fn nonce(client: &Client) -> Result<String, String> {
    let a = client
        .post_form(
            &format!("https://{LOGIN_HOST}/common/oauth2/token"),
            &[("grant_type", "srv_challenge")],
        )
        .await?;
    a.json()
        .and_then(|j| j.get("Nonce").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| format!("HTTP {}: no Nonce: {}", a.status, a.text()))
}

fn query_of(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The authorize URL of the scenario (without `sso_nonce` unless given).
pub fn authorize_url(sso_nonce: Option<&str>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("client_id", AAD_PS)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", OOB)
        .append_pair("resource", AAD_GRAPH);
    if let Some(n) = sso_nonce {
        s.append_pair("sso_nonce", n);
    }
    format!(
        "https://{LOGIN_HOST}/common/oauth2/authorize?{}",
        s.finish()
    )
}

/// The PRT cookie for `prt` and `nonce` (KDFv2).
pub fn prt_cookie(session_key: &[u8; 32], prt: &str, nonce: &str) -> String {
    session_jwt(
        session_key,
        &json!({"refresh_token": prt, "is_primary": "true", "request_nonce": nonce}),
        2,
    )
}

/// The session state after PRT acquisition, for callers that continue by hand (tests).
#[derive(Debug, Clone)]
pub struct PrtState {
    /// The PRT.
    pub prt: String,
    /// The unwrapped session key.
    pub session_key: [u8; 32],
    /// The device id.
    pub device_id: String,
}

/// Registers a device and acquires a PRT (the first half of the scenario).
pub async fn acquire(client: &Client, steps: &mut Steps<'_>) -> Result<PrtState, StepError> {
    let seed = client.device_seed();
    let keys = tokio::task::spawn_blocking(move || DeviceKeys::generate(seed))
        .await
        .map_err(|e| steps.fail("device-keys", e.to_string()))?
        .map_err(|e| steps.fail("device-keys", format!("{e:#}")))?;
    steps.ok("device-keys", "device key and transport key (RSA 2048)");

    let device_id = new_guid();
    let csr = keys
        .csr_der()
        .map_err(|e| steps.fail("drs-join", format!("CSR: {e:#}")))?;
    let body = json!({
        "CertificateRequest": {"Type": "pkcs10", "Data": STANDARD.encode(csr)},
        "Attributes": {"ReuseDevice": "true", "ReturnClientSid": "true", "SharedDevice": "false"},
        "JoinType": 6,
        "ServerAdJoinData": {
            "TransportKey": STANDARD.encode(keys.transport_blob()),
            "TargetDomain": FEDERATED_DOMAIN, "DeviceType": "Windows", "OSVersion": "10.0.19045.3693",
            "DeviceDisplayName": "DESKTOP-SCENARIO", "SourceDomainController": "DC01.contoso.test",
            "TargetDomainId": TENANT_ID,
            "ClientIdentity": {"Type": "sha256signed", "Sid": "S-1-5-21-1-2-3-1105.2024-01-01 00:00:00Z",
                               "SignedBlob": STANDARD.encode(random_bytes::<64>())},
        },
    });
    let a = client
        .send(
            client
                .http()
                .put(format!(
                    "https://{DRS_HOST}/EnrollmentServer/device/{device_id}?api-version=1.0"
                ))
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
        .map_err(|e| steps.fail("drs-join", e))?;
    let cert = drs_certificate(&a)
        .ok_or_else(|| steps.fail("drs-join", format!("HTTP {}: {}", a.status, a.text())))?;
    let (cert_b64, cn) = (cert.b64, cert.cn);
    if cn != device_id {
        return Err(steps.fail(
            "drs-join",
            format!("certificate CN {cn:?} is not {device_id}"),
        ));
    }
    steps.ok("drs-join", format!("device certificate CN={cn}"));

    let n = nonce(client)
        .await
        .map_err(|e| steps.fail("srv-challenge", e))?;
    steps.ok("srv-challenge", "Nonce");

    let (upn, password, _) = CLOUD_USERS.get(1).copied().unwrap_or(("", "", ""));
    let request = keys
        .sign_rs256(
            &json!({"alg": "RS256", "typ": "JWT", "x5c": cert_b64, "kdf_ver": 2}),
            &json!({"client_id": WINDOWS_SIGN_IN, "request_nonce": n, "scope": "openid aza ugs",
                    "group_sids": [], "win_ver": "10.0.19045.3693", "grant_type": "password",
                    "username": upn, "password": password}),
        )
        .map_err(|e| steps.fail("prt-request", format!("{e:#}")))?;
    let a = client
        .post_form(
            &format!("https://{LOGIN_HOST}/common/oauth2/token"),
            &[
                ("windows_api_version", "2.2"),
                ("grant_type", JWT_BEARER),
                ("request", &request),
                ("client_info", "1"),
                ("tgt", "true"),
            ],
        )
        .await
        .map_err(|e| steps.fail("prt-request", e))?;
    let j = a
        .json()
        .filter(|j| a.status == 200 && j.get("token_type") == Some(&json!("pop")))
        .ok_or_else(|| steps.fail("prt-request", format!("HTTP {}: {}", a.status, a.text())))?;
    let prt = j
        .get("refresh_token")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let id_upn = j
        .get("id_token")
        .and_then(Value::as_str)
        .and_then(jwt_payload)
        .and_then(|p| p.get("upn").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    steps.ok("prt-request", format!("token_type pop for {id_upn}"));

    let session_key = keys
        .session_key(
            j.get("session_key_jwe")
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
        .map_err(|e| steps.fail("session-key", format!("{e:#}")))?;
    steps.ok("session-key", "unwrapped with the transport key (RSA-OAEP)");
    Ok(PrtState {
        prt,
        session_key,
        device_id,
    })
}

async fn authorize_with(
    client: &Client,
    url: &str,
    cookie: &str,
    as_header: bool,
) -> Result<Answer, String> {
    let rb = client.http().get(url);
    let rb = if as_header {
        rb.header(PRT_CREDENTIAL, cookie)
    } else {
        rb.header("cookie", format!("{PRT_CREDENTIAL}={cookie}"))
    };
    client.send(rb).await
}

/// Plays the scenario.
pub async fn run(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    let st = acquire(client, steps).await?;

    let a = client
        .get(&authorize_url(None))
        .await
        .map_err(|e| steps.fail("sso-nonce", e))?;
    let sso_nonce = a
        .header("location")
        .and_then(|l| query_of(l, "sso_nonce"))
        .filter(|_| a.status == 302)
        .ok_or_else(|| steps.fail("sso-nonce", format!("HTTP {}: no sso_nonce", a.status)))?;
    steps.ok("sso-nonce", "302 with sso_nonce");

    let cookie = prt_cookie(&st.session_key, &st.prt, &sso_nonce);
    let mut a = authorize_with(client, &authorize_url(Some(&sso_nonce)), &cookie, false)
        .await
        .map_err(|e| steps.fail("authorize-prt-cookie", e))?;
    let loc = |a: &Answer| a.header("location").unwrap_or("").to_string();
    if a.status == 302
        && let Some(fresh) = query_of(&loc(&a), "sso_nonce")
    {
        steps.ok(
            "stale-nonce",
            "302 with a fresh sso_nonce; retrying (header)",
        );
        let cookie = prt_cookie(&st.session_key, &st.prt, &fresh);
        a = authorize_with(client, &loc(&a), &cookie, true)
            .await
            .map_err(|e| steps.fail("authorize-prt-cookie", e))?;
    }
    let code = query_of(&loc(&a), "code")
        .filter(|_| a.status == 302)
        .ok_or_else(|| {
            steps.fail(
                "authorize-prt-cookie",
                format!("HTTP {} location {:?}: {}", a.status, loc(&a), a.text()),
            )
        })?;
    steps.ok("authorize-prt-cookie", "302 with code");

    let a = client
        .post_form(
            &format!("https://{LOGIN_HOST}/common/oauth2/token"),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", AAD_PS),
                ("code", &code),
                ("redirect_uri", OOB),
            ],
        )
        .await
        .map_err(|e| steps.fail("code-redeem", e))?;
    let upn = a
        .json()
        .and_then(|j| {
            j.get("access_token")
                .and_then(Value::as_str)
                .and_then(jwt_payload)
        })
        .and_then(|p| p.get("upn").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| steps.fail("code-redeem", format!("HTTP {}: {}", a.status, a.text())))?;
    steps.ok("code-redeem", format!("access token for {upn}"));

    let n = nonce(client)
        .await
        .map_err(|e| steps.fail("srv-challenge-2", e))?;
    steps.ok("srv-challenge-2", "Nonce");
    let now = crate::testbed::unix(std::time::SystemTime::now());
    let request = session_jwt(
        &st.session_key,
        &json!({"client_id": BROKER, "grant_type": "refresh_token", "refresh_token": st.prt,
                "request_nonce": n, "scope": "openid", "resource": "https://graph.microsoft.com",
                "redirect_uri": format!("ms-appx-web://Microsoft.AAD.BrokerPlugin/{BROKER}"),
                "iss": "aad:brokerplugin", "aud": "login.microsoftonline.com",
                "win_ver": "10.0.19045.3693", "iat": now.to_string(), "exp": (now + 300).to_string()}),
        2,
    );
    let a = client
        .post_form(
            &format!("https://{LOGIN_HOST}/common/oauth2/token"),
            &[
                ("windows_api_version", "2.0"),
                ("grant_type", JWT_BEARER),
                ("request", &request),
                ("client_info", "1"),
            ],
        )
        .await
        .map_err(|e| steps.fail("session-signed-request", e))?;
    if a.status != 200 || a.body.starts_with(b"{") {
        return Err(steps.fail(
            "session-signed-request",
            format!("HTTP {}: {}", a.status, a.text()),
        ));
    }
    steps.ok("session-signed-request", "HS256 (KDFv2) → bare JWE");
    let tokens = decrypt_response(&st.session_key, &a.text())
        .map_err(|e| steps.fail("jwe-response", format!("{e:#}")))?;
    let aud = tokens
        .get("access_token")
        .and_then(Value::as_str)
        .and_then(jwt_payload)
        .and_then(|p| p.get("aud").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| steps.fail("jwe-response", format!("no access_token in {tokens}")))?;
    steps.ok("jwe-response", format!("decrypted: access token for {aud}"));
    Ok(())
}

/// Decrypts a `dir` JWE token response with KDFv1(session key, header ctx).
pub fn decrypt_response(session_key: &[u8; 32], jwe: &str) -> anyhow::Result<Value> {
    let (header, ..) = crypto::jwe_parts(jwe)?;
    let ctx = header
        .get("ctx")
        .and_then(Value::as_str)
        .and_then(crypto::decode_ctx)
        .ok_or_else(|| anyhow!("the JWE header has no ctx"))?;
    let plain = crypto::jwe_gcm_decrypt(jwe, &crypto::kdf(session_key, &ctx))?;
    serde_json::from_slice(&plain).context("the plaintext is not JSON")
}
