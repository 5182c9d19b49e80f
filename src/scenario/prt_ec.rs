//! PRT protocol v4 with EC device keys (protocols.md §7; ROADtools `deviceauth.py`, MSAL's
//! `MSIDBoundRefreshToken+Redemption`, Apple's Platform SSO login request); the client plays a
//! macOS device with Secure Enclave keys: device key and transport key (STK), both P-256 →
//! token for the device registration service (ROPC) → DRS join (`api-version=3.0`, the CSR of
//! the device key, the STK as a JWK in `DeviceKeys`) → `srv_challenge` → PRT request signed
//! ES256 by the device key (`prt_protocol_version=4.0`, inner `password` grant, `jwe_crypto`
//! with an `apv` of prefix, STK point and a fresh nonce) → decrypts the ECDH-ES answer with the
//! STK (the PRT, no session key) → `srv_challenge` → the PRT used for a Microsoft Graph token,
//! again signed by the device key → decrypts that answer.
//!
//! PRT protocol v4 has no session key, so there is no PRT cookie and no session-key-signed
//! request in this scenario: every use of the PRT is a device-key-signed request.
//! Not responsible for: HTTP plumbing (mod.rs), the server side (the fixture's `prt` and `drs`
//! modules). The crypto is [`crate::testbed::ec`], the same the server uses.

use anyhow::{Context as _, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::prt_sso::{BROKER, csr_der, drs_certificate, new_guid, nonce, pkcs8_pem};
use super::{Client, StepError, Steps, jwt_payload};
use crate::testbed::ec;
use crate::testbed::{CLOUD_USERS, DRS_HOST, JWT_BEARER, LOGIN_HOST};

/// The resource of device registration tokens.
pub const DRS_RESOURCE: &str = "urn:ms-drs:enterpriseregistration.windows.net";
/// The PartyVInfo prefix of a Platform SSO request (Apple's documentation).
pub const APV_PREFIX: &str = "Apple";
const V2_TOKEN: &str = "oauth2/v2.0/token";

/// The device's keys (P-256; from the seed, or fresh).
pub struct EcDeviceKeys {
    device_pkcs8: Vec<u8>,
    stk_pkcs8: Vec<u8>,
    stk_point: Vec<u8>,
}

impl std::fmt::Debug for EcDeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcDeviceKeys").finish_non_exhaustive()
    }
}

impl EcDeviceKeys {
    /// The device key and the transport key, from `seed` when given (the same keys on every
    /// run), else fresh.
    pub fn generate(seed: Option<u64>) -> anyhow::Result<Self> {
        let mut rng = crate::testbed::stream(seed, "scenario-device-ec");
        let device_pkcs8 = ec::p256_pkcs8(&mut rng)?;
        let stk_pkcs8 = ec::p256_pkcs8(&mut rng)?;
        let stk_point = ec::p256_point(&stk_pkcs8)?;
        Ok(EcDeviceKeys {
            device_pkcs8,
            stk_pkcs8,
            stk_point,
        })
    }

    /// The transport private key as PKCS#8 PEM (what `idscope analyze --key` takes to open the
    /// ECDH-ES answers to this device).
    pub fn transport_pem(&self) -> String {
        pkcs8_pem(&self.stk_pkcs8)
    }

    /// The STK as the JWK text DRS takes (`kty`, `crv`, `x`, `y` in standard base64, a `kid`),
    /// as ROADtools' macOS registration writes it.
    fn stk_jwk_text(&self) -> String {
        let j = ec::jwk(&self.stk_point);
        let std = |k: &str| {
            STANDARD.encode(
                URL_SAFE_NO_PAD
                    .decode(j[k].as_str().unwrap_or(""))
                    .unwrap_or_default(),
            )
        };
        json!({"kty": "EC", "x": std("x"), "y": std("y"), "crv": "P-256",
               "kid": new_guid().to_ascii_uppercase()})
        .to_string()
    }

    /// A PKCS#10 request for the device key.
    fn csr_der(&self) -> anyhow::Result<Vec<u8>> {
        csr_der(&self.device_pkcs8, &rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// A fresh `jwe_crypto` and the PartyVInfo bytes its `apv` carries.
    fn jwe_crypto(&self) -> (Value, Vec<u8>) {
        let apv = ec::party_info(
            APV_PREFIX,
            &self.stk_point,
            Some(&new_guid().to_ascii_uppercase()),
        );
        let jc = json!({"alg": "ECDH-ES", "enc": "A256GCM", "apv": URL_SAFE_NO_PAD.encode(&apv)});
        (jc, apv)
    }

    /// Decrypts an ECDH-ES answer to the STK as JSON.
    fn open(&self, jwe: &str, apv: &[u8]) -> anyhow::Result<Value> {
        let plain = ec::ecdh_es_decrypt(&self.stk_pkcs8, jwe, apv)?;
        serde_json::from_slice(&plain).context("the plaintext is not JSON")
    }
}

/// The transport private key (PKCS#8 PEM) of the EC device the `prt-ec` scenario plays with
/// `seed`.
pub fn transport_key_pem(seed: u64) -> anyhow::Result<String> {
    Ok(EcDeviceKeys::generate(Some(seed))?.transport_pem())
}

/// One PRT protocol v4 request: signed ES256 by the device key (`x5c` = the DRS certificate),
/// answered with an ECDH-ES JWE; returns the decrypted answer.
async fn v4_request(
    client: &Client,
    keys: &EcDeviceKeys,
    cert_b64: &str,
    mut payload: Value,
) -> Result<Value, String> {
    let (jc, apv) = keys.jwe_crypto();
    payload["jwe_crypto"] = jc;
    let request = ec::es256(
        &keys.device_pkcs8,
        &json!({"alg": "ES256", "typ": "JWT", "x5c": [cert_b64]}),
        &payload,
    )
    .map_err(|e| format!("{e:#}"))?;
    let a = client
        .post_form(
            &format!("https://{LOGIN_HOST}/common/{V2_TOKEN}"),
            &[
                ("prt_protocol_version", "4.0"),
                ("grant_type", JWT_BEARER),
                ("request", &request),
                ("client_info", "1"),
            ],
        )
        .await?;
    if a.status != 200 || a.body.starts_with(b"{") {
        return Err(format!("HTTP {}: {}", a.status, a.text()));
    }
    keys.open(&a.text(), &apv)
        .map_err(|e| format!("the answer does not open with the transport key: {e:#}"))
}

fn claim(token: Option<&Value>, name: &str) -> String {
    token
        .and_then(Value::as_str)
        .and_then(jwt_payload)
        .and_then(|p| p.get(name).and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// Plays the scenario.
pub async fn run(client: &Client, steps: &mut Steps<'_>) -> Result<(), StepError> {
    let seed = client.device_seed();
    let keys = tokio::task::spawn_blocking(move || EcDeviceKeys::generate(seed))
        .await
        .map_err(|e| steps.fail("device-keys", e.to_string()))?
        .map_err(|e| steps.fail("device-keys", format!("{e:#}")))?;
    steps.ok("device-keys", "device key and transport key (P-256)");

    let (upn, password, _) = CLOUD_USERS.get(1).copied().unwrap_or(("", "", ""));
    let a = client
        .post_form(
            &format!("https://{LOGIN_HOST}/common/oauth2/token"),
            &[
                ("grant_type", "password"),
                ("client_id", BROKER),
                ("resource", DRS_RESOURCE),
                ("username", upn),
                ("password", password),
            ],
        )
        .await
        .map_err(|e| steps.fail("drs-token", e))?;
    let token = a
        .json()
        .and_then(|j| {
            j.get("access_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .ok_or_else(|| steps.fail("drs-token", format!("HTTP {}: {}", a.status, a.text())))?;
    steps.ok("drs-token", format!("access token for {DRS_RESOURCE}"));

    let csr = keys
        .csr_der()
        .map_err(|e| steps.fail("drs-join", format!("CSR: {e:#}")))?;
    let body = json!({
        "AikCertificate": "", "AttestationData": "",
        "CertificateRequest": {"Data": STANDARD.encode(csr), "KeySecurity": "SecureEnclave",
                               "KeyType": "ECC", "Type": "pkcs10"},
        "DeviceDisplayName": "MacBook-SCENARIO",
        "DeviceKeys": [{"Data": keys.stk_jwk_text(), "Encoding": "JWK", "Type": "ECC", "Usage": "STK"}],
        "DeviceType": "MacOS", "JoinType": 0, "OSVersion": "14.5.0",
        "TargetDomain": crate::testbed::TENANT_DOMAIN,
    });
    let a = client
        .send(
            client
                .http()
                .post(format!(
                    "https://{DRS_HOST}/EnrollmentServer/device/?api-version=3.0"
                ))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
        .map_err(|e| steps.fail("drs-join", e))?;
    let cert = drs_certificate(&a)
        .filter(|c| c.ec)
        .ok_or_else(|| steps.fail("drs-join", format!("HTTP {}: {}", a.status, a.text())))?;
    let (cert_b64, device_id) = (cert.b64, cert.cn);
    steps.ok(
        "drs-join",
        format!("device certificate CN={device_id} (P-256)"),
    );

    let n = nonce(client)
        .await
        .map_err(|e| steps.fail("srv-challenge", e))?;
    steps.ok("srv-challenge", "Nonce");
    let now = crate::testbed::unix(std::time::SystemTime::now());
    let aud = format!("https://{LOGIN_HOST}/common/{V2_TOKEN}");
    let prt = v4_request(
        client,
        &keys,
        &cert_b64,
        json!({"client_id": BROKER, "iss": BROKER, "aud": aud, "grant_type": "password",
               "username": upn, "password": password, "request_nonce": n,
               "scope": "openid aza profile offline_access",
               "iat": now, "nbf": now, "exp": now + 300}),
    )
    .await
    .map_err(|e| steps.fail("prt-request-v4", e))?;
    let prt_token = prt
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| steps.fail("prt-request-v4", format!("no refresh_token in {prt}")))?
        .to_string();
    let who = claim(prt.get("id_token"), "preferred_username");
    steps.ok(
        "prt-request-v4",
        format!("ES256 → ECDH-ES answer opened with the transport key: PRT for {who}"),
    );

    let n = nonce(client)
        .await
        .map_err(|e| steps.fail("srv-challenge-2", e))?;
    steps.ok("srv-challenge-2", "Nonce");
    let tokens = v4_request(
        client,
        &keys,
        &cert_b64,
        json!({"refresh_token": prt_token, "grant_type": "refresh_token", "client_id": BROKER,
               "iss": BROKER, "aud": aud, "purpose": "prt_usage", "request_nonce": n,
               "scope": "https://graph.microsoft.com/.default openid profile offline_access",
               "redirect_uri": "msauth.com.microsoft.CompanyPortalMac://auth",
               "iat": now.to_string(), "nbf": now.to_string(), "exp": (now + 300).to_string()}),
    )
    .await
    .map_err(|e| steps.fail("prt-usage-v4", e))?;
    let aud = claim(tokens.get("access_token"), "aud");
    if aud.is_empty() {
        return Err(steps.fail(
            "prt-usage-v4",
            anyhow!("no access_token in {tokens}").to_string(),
        ));
    }
    steps.ok("prt-usage-v4", format!("access token for {aud}"));
    Ok(())
}
