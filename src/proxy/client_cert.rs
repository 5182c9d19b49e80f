//! Client certificates the proxy presents to origins (`--client-cert HOST=CERT[,KEY]`, as
//! mitmproxy's `client_certs`): loading a PEM certificate chain with its key (in the same file or
//! in KEY) or a PFX / PKCS#12 bundle, the per-host table, and the rustls [`ResolvesClientCert`]
//! that presents the configured certificate for the origin being connected to and records, per
//! host, that the origin asked for a client certificate, which CAs it named (the
//! `certificate_authorities` of its CertificateRequest) and what was presented.
//!
//! rustls does not tell a resolver which server it is talking to, so the upstream connector runs
//! each connection attempt inside [`ORIGIN`] (a task-local holding the host): the handshake, and
//! with it [`ResolvesClientCert::resolve`], runs while that future is polled.
//!
//! The handler reads [`ClientCerts::record`] when a flow to that host ends and puts it on the
//! flow (see [`RECORD_FIELD`]).
//!
//! With `--request-client-cert`, intercepted clients are asked for a certificate too
//! ([`RecordOffered`]: optional, any certificate accepted once the client proves it holds the key)
//! and what a client offered is recorded on its requests ([`OFFERED_FIELD`], [`offered`]); it is
//! never passed on to the origin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail, ensure};
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use serde_json::{Value, json};

/// The response `extra` member holding what happened with client certificates on the way to
/// the origin: `{"host", "requested": true, "acceptable_cas": [...], "presented": {"subject",
/// "sha1", "sha256"} | null, "missing": TEXT}`, `missing` (the explanation analysis turns into
/// the flow's finding) only when none was presented.
pub const RECORD_FIELD: &str = "_clientCertificate";

/// The request `extra` member holding the certificate the client offered idscope
/// (`--request-client-cert`): `{"subject", "issuer", "sha1", "sha256"}`.
pub const OFFERED_FIELD: &str = "_clientCertificateOffered";

/// The largest certificate or key file read.
const MAX_FILE: u64 = 1 << 20;

/// Most CA names kept from one CertificateRequest.
const MAX_CAS: usize = 32;

tokio::task_local! {
    /// The origin host a connection attempt is for (lower case), set by the upstream connector.
    pub static ORIGIN: String;
}

/// One `--client-cert HOST=CERT[,KEY]` as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The origin host (lower case).
    pub host: String,
    /// PEM certificate chain (with the key, unless `key` is given), or a PFX file.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

impl Spec {
    /// Parses `HOST=CERT[,KEY]`.
    pub fn parse(s: &str) -> anyhow::Result<Spec> {
        let usage = || format!("--client-cert {s}: expected HOST=CERT[,KEY]");
        let (host, files) = s.split_once('=').with_context(usage)?;
        let (cert, key) = match files.split_once(',') {
            Some((c, k)) => (c, Some(k)),
            None => (files, None),
        };
        ensure!(
            !host.is_empty() && !cert.is_empty() && key.is_none_or(|k| !k.is_empty()),
            usage()
        );
        Ok(Spec {
            host: host.to_ascii_lowercase(),
            cert: PathBuf::from(cert),
            key: key.map(PathBuf::from),
        })
    }
}

/// A loaded client certificate with its key, and how flows name it.
#[derive(Debug, Clone)]
pub struct Identity {
    certified: Arc<CertifiedKey>,
    /// The leaf's subject DN.
    pub subject: String,
    /// The leaf's SHA-1 thumbprint, lower-case hex (the Windows thumbprint).
    pub sha1: String,
    /// The leaf's SHA-256 thumbprint, lower-case hex.
    pub sha256: String,
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    let mut out = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut out)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    ensure!(
        out.len() as u64 <= MAX_FILE,
        "the {what} {} is larger than {MAX_FILE} bytes",
        path.display()
    );
    Ok(out)
}

impl Identity {
    /// Loads `spec`: a PEM chain and key, or a PFX opened with `password` (the empty password
    /// when none is given). Errors name the option and the file.
    pub fn load(spec: &Spec, password: Option<&str>) -> anyhow::Result<Identity> {
        let ctx = format!("--client-cert {}", spec.host);
        Self::load_inner(spec, password).with_context(|| ctx)
    }

    fn load_inner(spec: &Spec, password: Option<&str>) -> anyhow::Result<Identity> {
        let bytes = read(&spec.cert, "certificate file")?;
        let is_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
        let (chain, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) = if is_pem {
            let chain = CertificateDer::pem_slice_iter(&bytes)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("{}: bad PEM", spec.cert.display()))?;
            ensure!(
                !chain.is_empty(),
                "{}: no CERTIFICATE block in the file",
                spec.cert.display()
            );
            let (key_bytes, key_path) = match &spec.key {
                Some(k) => (read(k, "key file")?, k.as_path()),
                None => (bytes.clone(), spec.cert.as_path()),
            };
            let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: no usable PRIVATE KEY block ({e}){}",
                    key_path.display(),
                    if spec.key.is_none() {
                        "; give the key file as HOST=CERT,KEY"
                    } else {
                        ""
                    }
                )
            })?;
            (chain, key)
        } else {
            if spec.key.is_some() {
                bail!(
                    "{} is not PEM; a PFX / PKCS#12 file holds its key, so give no KEY",
                    spec.cert.display()
                );
            }
            pfx(&bytes, password).with_context(|| spec.cert.display().to_string())?
        };
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .context("the private key is not one rustls can sign with")?;
        let certified = CertifiedKey::new(chain, signing);
        certified
            .keys_match()
            .context("the private key does not belong to the certificate")?;
        let leaf = certified
            .end_entity_cert()
            .context("no certificate in the chain")?;
        let facts = idscope_decoders::x509::Certificate::parse(leaf)
            .map_err(|e| anyhow::anyhow!("the certificate does not parse: {e}"))?;
        Ok(Identity {
            subject: facts.subject.clone(),
            sha1: idscope_decoders::util::hex_lower(&facts.sha1),
            sha256: idscope_decoders::util::hex_lower(&facts.sha256),
            certified: Arc::new(certified),
        })
    }

    fn json(&self) -> Value {
        json!({"subject": self.subject, "sha1": self.sha1, "sha256": self.sha256})
    }
}

/// The key and certificates of a PFX.
fn pfx(
    der: &[u8],
    password: Option<&str>,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let store =
        match KeyStore::from_pkcs12(der, password.unwrap_or(""), Pkcs12ImportPolicy::default()) {
            Ok(s) => s,
            Err(p12_keystore::error::Error::MacError(_)) => bail!(match password {
                None =>
                    "a PFX / PKCS#12 file that needs its password (--client-cert-password-file \
                     FILE or IDSCOPE_CLIENT_CERT_PASSWORD)",
                Some(_) =>
                    "a PFX / PKCS#12 file whose password is wrong (its integrity MAC does not \
                        verify)",
            }),
            Err(e) => bail!("neither PEM nor a readable PFX / PKCS#12 file: {e}"),
        };
    let (_, chain) = store
        .private_key_chain()
        .context("the PFX holds no private key with its certificate")?;
    let certs: Vec<CertificateDer<'static>> = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    ensure!(
        !certs.is_empty(),
        "the PFX holds no certificate for its key"
    );
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
    Ok((certs, key))
}

/// What happened with client certificates on connections to one host.
#[derive(Debug, Clone, Default)]
struct Seen {
    /// The CAs the origin named (distinguished names as text).
    cas: Vec<String>,
    /// True when a configured certificate was presented.
    presented: bool,
}

/// The per-host table of client certificates and what each origin asked for.
#[derive(Debug, Default)]
pub struct ClientCerts {
    table: HashMap<String, Identity>,
    seen: Mutex<HashMap<String, Seen>>,
}

impl ClientCerts {
    /// A table from `(host, identity)` pairs (hosts compared case-insensitively).
    pub fn new(entries: impl IntoIterator<Item = (String, Identity)>) -> Self {
        ClientCerts {
            table: entries
                .into_iter()
                .map(|(h, i)| (h.to_ascii_lowercase(), i))
                .collect(),
            seen: Mutex::default(),
        }
    }

    /// What the flows to `host` record: `None` when no origin at `host` has asked for a client
    /// certificate.
    pub fn record(&self, host: &str) -> Option<Value> {
        let host = host.to_ascii_lowercase();
        let seen = self.seen.lock().ok()?.get(&host).cloned()?;
        let mut out = json!({
            "host": host,
            "requested": true,
            "acceptable_cas": seen.cas,
            "presented": Value::Null,
        });
        match (seen.presented, self.table.get(&host)) {
            (true, Some(id)) => out["presented"] = id.json(),
            _ => out["missing"] = missing_text(&host, &seen.cas).into(),
        }
        Some(out)
    }

    /// The message for an upstream failure at `host`, when its origin asked for a client
    /// certificate and none was configured (the handshake then usually fails).
    pub fn missing_hint(&self, host: &str) -> Option<String> {
        let host = host.to_ascii_lowercase();
        if self.table.contains_key(&host) {
            return None;
        }
        let seen = self.seen.lock().ok()?.get(&host).cloned()?;
        Some(missing_text(&host, &seen.cas))
    }
}

/// The explanation of an origin asking for a client certificate the proxy does not have.
pub fn missing_text(host: &str, cas: &[String]) -> String {
    let cas = if cas.is_empty() {
        "any CA (it named none)".to_string()
    } else {
        cas.join("; ")
    };
    format!(
        "the origin {host} asked for a client certificate issued by {cas}, and idscope has none \
         configured for it: give the client's certificate with --client-cert {host}=CERT[,KEY]"
    )
}

/// A CA name from a CertificateRequest as text; the DER name normally carries its outer
/// SEQUENCE, which some servers leave out.
fn name_text(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer as _;
    use x509_parser::x509::X509Name;
    if let Ok((_, n)) = X509Name::from_der(der) {
        return n.to_string();
    }
    let mut wrapped = vec![0x30];
    let len = der.len();
    if len < 0x80 {
        wrapped.push(len as u8);
    } else if len <= 0xff {
        wrapped.extend([0x81, len as u8]);
    } else {
        wrapped.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    wrapped.extend_from_slice(der);
    match X509Name::from_der(&wrapped) {
        Ok((_, n)) => n.to_string(),
        Err(_) => format!("(an unreadable name of {len} bytes)"),
    }
}

impl ResolvesClientCert for ClientCerts {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let host = ORIGIN.try_with(Clone::clone).ok()?;
        let id = self.table.get(&host);
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(
                host,
                Seen {
                    cas: root_hint_subjects
                        .iter()
                        .take(MAX_CAS)
                        .map(|n| name_text(n))
                        .collect(),
                    presented: id.is_some(),
                },
            );
        }
        id.map(|i| Arc::clone(&i.certified))
    }

    fn has_certs(&self) -> bool {
        !self.table.is_empty()
    }
}

/// What a client offered (the leaf's DER), as recorded under [`OFFERED_FIELD`].
pub fn offered(der: &[u8]) -> Value {
    match idscope_decoders::x509::Certificate::parse(der) {
        Ok(c) => json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "sha1": idscope_decoders::util::hex_lower(&c.sha1),
            "sha256": idscope_decoders::util::hex_lower(&c.sha256),
        }),
        Err(e) => json!({"error": format!("the certificate does not parse: {e}")}),
    }
}

/// The interception side's client-certificate verifier: asks for a certificate without naming
/// CAs, lets clients without one through, and accepts any certificate whose handshake
/// signature verifies (idscope records the client's certificate, it does not authenticate it).
#[derive(Debug)]
pub struct RecordOffered(Arc<rustls::crypto::CryptoProvider>);

impl RecordOffered {
    /// A verifier checking handshake signatures with `provider`'s algorithms.
    pub fn new(provider: Arc<rustls::crypto::CryptoProvider>) -> Self {
        RecordOffered(provider)
    }
}

impl rustls::server::danger::ClientCertVerifier for RecordOffered {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_host_cert_and_key() {
        let s = Spec::parse("Api.Example=c.pem,k.pem").unwrap();
        assert_eq!(s.host, "api.example");
        assert_eq!(s.cert, PathBuf::from("c.pem"));
        assert_eq!(s.key, Some(PathBuf::from("k.pem")));
        assert_eq!(Spec::parse("h=c.pfx").unwrap().key, None);
        for bad in ["nohost", "=c.pem", "h=", "h=c.pem,"] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let spec = Spec::parse("h=/nonexistent/idscope/cert.pem").unwrap();
        let e = format!("{:#}", Identity::load(&spec, None).unwrap_err());
        assert!(e.contains("--client-cert h"), "{e}");
        assert!(e.contains("/nonexistent/idscope/cert.pem"), "{e}");
    }

    #[test]
    fn ca_names_read_with_or_without_the_outer_sequence() {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "Agent CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        let raw = parsed.subject().as_raw();
        assert_eq!(name_text(raw), "CN=Agent CA");
        // Without the outer SEQUENCE header (2 bytes for a short name).
        assert_eq!(name_text(&raw[2..]), "CN=Agent CA");
    }
}
