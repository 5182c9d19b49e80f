//! Self-signed RSA certificates drawn from a seeded stream ([`rsa_self_signed`]: the fixture's
//! signing keys use it too), and the certificate of the lab's Entra Connect Sync application
//! ([`AppCertificate::sync_app`]) with the client assertions it signs: the reference server
//! registers it on the application and checks the assertions, the scenario client and the tests
//! sign with it.
//!
//! [fixture-defined] The sync application's key and certificate are the same in every run and
//! for every seed (a fixed stream, a fixed validity from 2020 to 2049), like the test accounts'
//! passwords: a client that was not started with the server (`scenario run --connect`, MSAL in a
//! test, `idscope fixture --app-cert-out`) holds the same certificate the server registered.
//! RSA keys come from the `rsa` crate (aws-lc-rs cannot generate from a seeded RNG) and sign
//! with aws-lc-rs; the certificate is signed with PKCS#1 v1.5, which is deterministic.

use std::sync::OnceLock;

use anyhow::{Context as _, anyhow};
use aws_lc_rs::signature::{self, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::RngCore;
use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, PKCS_RSA_SHA256};
use rsa::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{CLIENT_ASSERTION_TYPE, stream};

/// A distinguished name with one common name.
pub fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// A positive 16-byte serial number from `rng`.
pub fn serial(rng: &mut ChaCha20Rng) -> rcgen::SerialNumber {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[0] &= 0x7f;
    rcgen::SerialNumber::from_slice(&b)
}

/// A 2048-bit RSA key from `rng` and a self-signed certificate named `cn` for it, valid from
/// `not_before` to `not_after`: (PKCS#8 DER of the key, DER of the certificate).
pub fn rsa_self_signed(
    rng: &mut ChaCha20Rng,
    cn: &str,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let key = rsa::RsaPrivateKey::new(rng, 2048).context("generating an RSA key")?;
    let pkcs8 = key.to_pkcs8_der().context("encoding the RSA key")?;
    let pkcs8 = pkcs8.as_bytes().to_vec();
    let rc_key = KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.clone()),
        &PKCS_RSA_SHA256,
    )
    .context("loading the RSA key into rcgen")?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn(cn);
    params.is_ca = IsCa::ExplicitNoCa;
    params.serial_number = Some(serial(rng));
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params.self_signed(&rc_key).context("self-signing")?;
    Ok((pkcs8, cert.der().to_vec()))
}

/// The client id of the lab's Entra Connect Sync application, registered in the tenant.
/// [fixture-defined]
pub const SYNC_APP_CLIENT_ID: &str = "3c8e5f1a-7b2d-4e6f-9a0b-1c2d3e4f5a6b";
/// Its display name. [fixture-defined]
pub const SYNC_APP_NAME: &str = "Entra Connect Sync (fixture)";
/// The object id of its service principal (`oid` in its tokens). [fixture-defined]
pub const SYNC_APP_SP_OID: &str = "8d2b4f6a-1c3e-4a5b-9d7f-0e1a2b3c4d5e";
/// The Microsoft Entra AD Synchronization Service: the resource Entra Connect Sync asks for
/// with application identity (the same id in every cloud).
pub const SYNC_SERVICE_APP: &str = "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016";
/// The app role the sync application holds on the sync service.
pub const SYNC_ROLE: &str = "ADSynchronization.ReadWrite.All";

/// How a client assertion is signed and names its certificate: what MSAL does with a SHA-256
/// thumbprint (PS256, `x5t#S256`) or with a SHA-1 one (RS256, `x5t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlg {
    /// RSASSA-PSS with SHA-256 and the certificate's SHA-256 thumbprint.
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 and the certificate's SHA-1 thumbprint.
    Rs256,
}

/// An application's RSA key and self-signed certificate.
pub struct AppCertificate {
    pair: RsaKeyPair,
    key_pkcs8: Vec<u8>,
    /// DER of the certificate.
    pub cert_der: Vec<u8>,
}

impl std::fmt::Debug for AppCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCertificate")
            .field("x5t", &self.x5t())
            .finish_non_exhaustive()
    }
}

/// DER as a PEM block labelled `label` (64-column base64).
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

impl AppCertificate {
    /// The sync application's certificate (`CN=Entra Connect Sync (fixture)`), the same in every
    /// run; generated once per process.
    pub fn sync_app() -> anyhow::Result<&'static AppCertificate> {
        static CERT: OnceLock<Result<AppCertificate, String>> = OnceLock::new();
        CERT.get_or_init(|| {
            let mut rng = stream(Some(0), "entra-connect-sync-application-certificate");
            let from = time::macros::datetime!(2020-01-01 00:00 UTC);
            let to = time::macros::datetime!(2049-12-31 23:59:59 UTC);
            AppCertificate::generate(&mut rng, SYNC_APP_NAME, from, to)
                .map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|e| anyhow!("the sync application's certificate: {e}"))
    }

    /// A new key and certificate named `cn` (for tests: another application's certificate).
    pub fn generate(
        rng: &mut ChaCha20Rng,
        cn: &str,
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> anyhow::Result<AppCertificate> {
        let (key_pkcs8, cert_der) = rsa_self_signed(rng, cn, not_before, not_after)?;
        let pair =
            RsaKeyPair::from_pkcs8(&key_pkcs8).map_err(|e| anyhow!("loading the RSA key: {e}"))?;
        Ok(AppCertificate {
            pair,
            key_pkcs8,
            cert_der,
        })
    }

    /// The certificate as PEM.
    pub fn cert_pem(&self) -> String {
        pem("CERTIFICATE", &self.cert_der)
    }

    /// The private key as PKCS#8 PEM (`PRIVATE KEY`).
    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", &self.key_pkcs8)
    }

    /// SHA-1 over the certificate's DER (the thumbprint the Entra portal shows).
    pub fn sha1(&self) -> Vec<u8> {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.cert_der)
            .as_ref()
            .to_vec()
    }

    /// SHA-256 over the certificate's DER (what Entra Connect Sync asks for).
    pub fn sha256(&self) -> Vec<u8> {
        Sha256::digest(&self.cert_der).to_vec()
    }

    /// `x5t`: base64url of the SHA-1 thumbprint.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha1())
    }

    /// `x5t#S256`: base64url of the SHA-256 thumbprint.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha256())
    }

    /// A client assertion (RFC 7523) signed with this key: `aud` the token endpoint, `iss` =
    /// `sub` = `client_id`, `jti`, `iat` and `exp` = `iat` + `lifetime`, the certificate named
    /// by the thumbprint `alg` goes with, and carried in `x5c` when asked.
    pub fn sign_assertion(&self, a: &Assertion<'_>) -> anyhow::Result<String> {
        let mut header = match a.alg {
            AssertionAlg::Ps256 => {
                json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256()})
            }
            AssertionAlg::Rs256 => json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t()}),
        };
        if a.x5c {
            header["x5c"] = json!([STANDARD.encode(&self.cert_der)]);
        }
        let claims = json!({
            "aud": a.aud, "iss": a.client_id, "sub": a.client_id, "jti": a.jti,
            "iat": a.iat, "exp": a.iat + a.lifetime,
        });
        self.sign_jwt(a.alg, &header, &claims)
    }

    /// A compact JWS of `header` and `claims` signed with this key.
    pub fn sign_jwt(
        &self,
        alg: AssertionAlg,
        header: &Value,
        claims: &Value,
    ) -> anyhow::Result<String> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let padding = match alg {
            AssertionAlg::Ps256 => &signature::RSA_PSS_SHA256,
            AssertionAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                padding,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| anyhow!("RSA signing failed"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// What a client assertion says ([`AppCertificate::sign_assertion`]).
#[derive(Debug, Clone)]
pub struct Assertion<'a> {
    /// How it is signed.
    pub alg: AssertionAlg,
    /// The token endpoint it is for.
    pub aud: &'a str,
    /// The application (`iss` and `sub`).
    pub client_id: &'a str,
    /// Its unique id.
    pub jti: &'a str,
    /// When it was made (seconds since the Unix epoch).
    pub iat: i64,
    /// How long it is valid, in seconds (MSAL: 600).
    pub lifetime: i64,
    /// Whether the certificate travels in `x5c`.
    pub x5c: bool,
}

/// The form of a `client_credentials` request authenticated with `assertion`: `scope` (v2) or
/// `resource` (v1) names `resource`.
pub fn client_credentials_form(
    client_id: &str,
    resource: &str,
    assertion: &str,
    v2: bool,
) -> Vec<(String, String)> {
    let target = if v2 {
        ("scope".to_string(), format!("{resource}/.default"))
    } else {
        ("resource".to_string(), resource.to_string())
    };
    vec![
        ("client_id".into(), client_id.into()),
        target,
        ("client_assertion_type".into(), CLIENT_ASSERTION_TYPE.into()),
        ("client_assertion".into(), assertion.into()),
        ("grant_type".into(), "client_credentials".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_application_certificate_is_the_same_in_every_run() {
        let a = AppCertificate::sync_app().unwrap();
        let mut rng = stream(Some(0), "entra-connect-sync-application-certificate");
        let from = time::macros::datetime!(2020-01-01 00:00 UTC);
        let to = time::macros::datetime!(2049-12-31 23:59:59 UTC);
        let b = AppCertificate::generate(&mut rng, SYNC_APP_NAME, from, to).unwrap();
        assert_eq!(a.cert_der, b.cert_der);
        assert_eq!(a.key_pem(), b.key_pem());
        assert!(a.cert_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(a.sha1().len(), 20);
        assert_eq!(a.x5t_s256().len(), 43);
    }
}
