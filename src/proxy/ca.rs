//! The interception certificate authority: the on-disk CA store ([`CaStore`]: one ECDSA P-256 CA
//! per install, key file 0600 in a 0700 directory, created exclusively, refused when readable by
//! group or others) and the leaf minting [`Authority`] the proxy uses for TLS interception.
//!
//! Leaves (security.md §2.4): ECDSA P-256 with one leaf key per process that is separate from the
//! CA key and never leaves memory; IP-address hosts get an IP SAN (hudsucker's `RcgenAuthority`
//! writes them as DNS names, which clients reject); leaves are short-lived and cached in a bounded
//! map. The CA key is only ever used to sign leaves; it is never served. This module does not know
//! about connections (see `handler`).

use std::collections::{HashMap, VecDeque};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// File name of the CA certificate inside the CA directory.
pub const CERT_FILE: &str = "idscope-ca.pem";
/// File name of the CA private key inside the CA directory (mode 0600).
pub const KEY_FILE: &str = "idscope-ca-key.pem";
/// Environment variable that overrides the CA directory (used by tests and CI).
pub const CA_DIR_ENV: &str = "IDSCOPE_CA_DIR";

/// How long a freshly created CA is valid.
const CA_VALIDITY: time::Duration = time::Duration::days(5 * 365);
/// Leaves are short-lived: a week, backdated an hour for client clock skew.
const LEAF_VALIDITY: time::Duration = time::Duration::days(7);
const LEAF_BACKDATE: time::Duration = time::Duration::hours(1);
/// Cached leaves are re-minted well before they expire.
const LEAF_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default bound of the leaf cache (hosts).
pub const DEFAULT_LEAF_CACHE: usize = 1024;

/// Why the CA could not be created, loaded or used. Messages say how to fix the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// Neither `--ca-dir`, `IDSCOPE_CA_DIR` nor a user data directory is available.
    #[error("no user data directory found; pass --ca-dir DIR or set {CA_DIR_ENV}")]
    NoDataDir,
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The private key can be read by group or others.
    #[error(
        "{path}: the CA private key is readable by group or others (mode {mode:04o}); \
         fix it with `chmod 600 {path}` (or delete {dir} to create a new CA)",
        path = .path.display(), dir = .path.parent().unwrap_or(Path::new(".")).display()
    )]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// `ca init` found a CA already there.
    #[error("{0}: a CA already exists here (idscope ca show prints it)")]
    Exists(PathBuf),
    /// The directory has one of the two files but not the other.
    #[error("{0}: the CA certificate or key is missing; delete the directory to create a new CA")]
    Incomplete(PathBuf),
    /// The stored certificate or key does not parse, or they do not belong together.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Generating or signing a certificate failed.
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused the minted certificate.
    #[error("TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where the CA lives: `--ca-dir` if given, else `$IDSCOPE_CA_DIR`, else the user's data
/// directory (`~/.local/share/idscope` on Linux, per XDG).
pub fn default_dir(explicit: Option<&Path>) -> Result<PathBuf, CaError> {
    if let Some(d) = explicit {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(CA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "idscope")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or(CaError::NoDataDir)
}

/// The CA as stored on disk: the certificate (public) and the key (secret, mode 0600).
pub struct CaStore {
    dir: PathBuf,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key: KeyPair,
}

impl std::fmt::Debug for CaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("CaStore").field("dir", &self.dir).finish()
    }
}

impl CaStore {
    /// Creates a new CA in `dir` (created 0700 if missing). Fails with [`CaError::Exists`] if
    /// a CA is already there; the key file is created exclusively (`create_new`), so two
    /// concurrent inits cannot both win.
    pub fn init(dir: &Path) -> Result<CaStore, CaError> {
        create_private_dir(dir)?;
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        if key_path.exists() || cert_path.exists() {
            return Err(CaError::Exists(dir.to_path_buf()));
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let params = ca_params()?;
        let cert = params.self_signed(&key)?;
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&key_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                CaError::Exists(dir.to_path_buf())
            } else {
                io_err(&key_path)(e)
            }
        })?;
        f.write_all(key.serialize_pem().as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io_err(&key_path))?;
        let cert_pem = cert.pem();
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        let mut c = opts.open(&cert_path).map_err(io_err(&cert_path))?;
        c.write_all(cert_pem.as_bytes())
            .and_then(|()| c.sync_all())
            .map_err(io_err(&cert_path))?;
        Ok(CaStore {
            dir: dir.to_path_buf(),
            cert_pem,
            cert_der: cert.der().clone(),
            key,
        })
    }

    /// Loads the CA from `dir`, refusing a key file readable by group or others.
    pub fn load(dir: &Path) -> Result<CaStore, CaError> {
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        match (key_path.exists(), cert_path.exists()) {
            (true, true) => {}
            (false, false) => {
                return Err(CaError::Io {
                    path: dir.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no CA here (run `idscope ca init`)",
                    ),
                });
            }
            _ => return Err(CaError::Incomplete(dir.to_path_buf())),
        }
        check_key_permissions(&key_path)?;
        let key_pem = fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| CaError::Invalid {
            path: key_path.clone(),
            message: format!("not a private key: {e}"),
        })?;
        let cert_pem = fs::read_to_string(&cert_path).map_err(io_err(&cert_path))?;
        let cert_der = pem_to_der(&cert_pem).ok_or_else(|| CaError::Invalid {
            path: cert_path.clone(),
            message: "no PEM CERTIFICATE block".into(),
        })?;
        let (_, parsed) =
            x509_parser::parse_x509_certificate(&cert_der).map_err(|e| CaError::Invalid {
                path: cert_path.clone(),
                message: format!("not an X.509 certificate: {e}"),
            })?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(CaError::Invalid {
                path: cert_path,
                message: format!("the certificate does not belong to {}", key_path.display()),
            });
        }
        Ok(CaStore {
            dir: dir.to_path_buf(),
            cert_pem,
            cert_der,
            key,
        })
    }

    /// Loads the CA from `dir`, creating it first when the directory has none. The flag says
    /// whether it was created now (commands print where it is).
    pub fn load_or_init(dir: &Path) -> Result<(CaStore, bool), CaError> {
        if dir.join(KEY_FILE).exists() || dir.join(CERT_FILE).exists() {
            return Ok((CaStore::load(dir)?, false));
        }
        match CaStore::init(dir) {
            Ok(s) => Ok((s, true)),
            // Another process initialised it between our check and our create.
            Err(CaError::Exists(_)) => Ok((CaStore::load(dir)?, false)),
            Err(e) => Err(e),
        }
    }

    /// The directory holding the CA.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the certificate file (public, safe to copy to clients).
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    /// The CA certificate in PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate in DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// What `idscope ca show` prints: subject, validity and fingerprints.
    pub fn info(&self) -> Result<CaInfo, CaError> {
        cert_info(&self.cert_der).map_err(|message| CaError::Invalid {
            path: self.cert_path(),
            message,
        })
    }

    /// Turns the stored CA into a leaf-minting authority (consumes the key).
    pub fn into_authority(self, cache_size: usize, http2: bool) -> Result<Authority, CaError> {
        Authority::new(self.cert_pem, self.cert_der, self.key, cache_size, http2)
    }
}

/// Facts about a CA certificate, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// SHA-1 fingerprint of the DER, colon-separated uppercase hex (what Windows shows).
    pub sha1: String,
    /// SHA-256 fingerprint of the DER, colon-separated uppercase hex.
    pub sha256: String,
}

/// Subject, validity and fingerprints of a DER certificate, from the decoders' certificate
/// explainer.
pub fn cert_info(der: &[u8]) -> Result<CaInfo, String> {
    use idscope_decoders::util::format_epoch;
    let c = idscope_decoders::x509::Certificate::parse(der)?;
    let fp = |digest: &[u8]| {
        digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    Ok(CaInfo {
        subject: c.subject,
        not_before: format_epoch(c.not_before),
        not_after: format_epoch(c.not_after),
        sha1: fp(&c.sha1),
        sha256: fp(&c.sha256),
    })
}

fn ca_params() -> Result<CertificateParams, CaError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let who = std::env::var("USER").unwrap_or_default();
    let host = fs::read_to_string("/etc/hostname").unwrap_or_default();
    let suffix = match (who.trim(), host.trim()) {
        ("", "") => String::new(),
        (u, "") => format!(" ({u})"),
        ("", h) => format!(" ({h})"),
        (u, h) => format!(" ({u}@{h})"),
    };
    dn.push(
        DnType::CommonName,
        format!("idscope interception CA{suffix}"),
    );
    dn.push(DnType::OrganizationName, "idscope");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(random_serial()?);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - LEAF_BACKDATE;
    params.not_after = now + CA_VALIDITY;
    Ok(params)
}

fn random_serial() -> Result<SerialNumber, CaError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CaError::Rcgen(rcgen::Error::RingUnspecified))?;
    // Positive, non-zero first byte: a 16-byte DER INTEGER.
    if let Some(b) = bytes.first_mut() {
        *b = (*b & 0x7f) | 0x01;
    }
    Ok(SerialNumber::from_slice(&bytes))
}

fn create_private_dir(dir: &Path) -> Result<(), CaError> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(io_err(dir))
}

#[cfg(unix)]
fn check_key_permissions(path: &Path) -> Result<(), CaError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CaError::KeyPermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_permissions(_path: &Path) -> Result<(), CaError> {
    Ok(())
}

fn pem_to_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).ok()
}

struct CacheEntry {
    config: Arc<ServerConfig>,
    made: Instant,
}

/// A bounded host → server-config cache; the oldest insertion is evicted first.
struct LeafCache {
    map: HashMap<String, CacheEntry>,
    order: VecDeque<String>,
    cap: usize,
}

/// Mints and caches leaf certificates for intercepted hosts, signed by the CA.
pub struct Authority {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    leaf_key: KeyPair,
    provider: Arc<CryptoProvider>,
    cache: Mutex<LeafCache>,
    alpn: Vec<Vec<u8>>,
    /// Asks intercepted clients for a certificate (`--request-client-cert`).
    client_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").finish_non_exhaustive()
    }
}

impl Authority {
    /// An authority over a CA certificate and its key. A fresh ECDSA P-256 leaf key is generated
    /// for this process; `cache_size` bounds the number of cached leaves; `http2` offers `h2`
    /// to clients by ALPN.
    pub fn new(
        ca_pem: String,
        ca_der: CertificateDer<'static>,
        ca_key: KeyPair,
        cache_size: usize,
        http2: bool,
    ) -> Result<Self, CaError> {
        let issuer = Issuer::from_ca_cert_der(&ca_der, ca_key)?;
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut alpn = Vec::new();
        if http2 {
            alpn.push(b"h2".to_vec());
        }
        alpn.push(b"http/1.1".to_vec());
        Ok(Authority {
            ca_pem,
            ca_der,
            issuer,
            leaf_key,
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            cache: Mutex::new(LeafCache {
                map: HashMap::new(),
                order: VecDeque::new(),
                cap: cache_size.max(1),
            }),
            alpn,
            client_verifier: None,
        })
    }

    /// Asks every intercepted client for a certificate (optionally; any is accepted once its
    /// handshake signature verifies), so that what it offered can be recorded. Call before the
    /// first leaf is minted.
    pub fn request_client_certs(&mut self) {
        self.client_verifier = Some(Arc::new(super::client_cert::RecordOffered::new(
            Arc::clone(&self.provider),
        )));
    }

    /// The CA certificate (PEM) that clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Mints (or reuses) the leaf for `host` and returns a TLS server config presenting it.
    /// `host` is a DNS name or an IP literal (brackets allowed); IPs get an IP SAN.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, CaError> {
        let key = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if let Ok(cache) = self.cache.lock()
            && let Some(e) = cache.map.get(&key)
            && e.made.elapsed() < LEAF_CACHE_TTL
        {
            return Ok(Arc::clone(&e.config));
        }
        let leaf = self.mint_leaf(&key)?;
        let key_der = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let builder = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_verifier {
            Some(v) => builder.with_client_cert_verifier(Arc::clone(v)),
            None => builder.with_no_client_auth(),
        };
        let mut cfg = builder.with_single_cert(vec![leaf, self.ca_der.clone()], key_der)?;
        cfg.alpn_protocols = self.alpn.clone();
        let cfg = Arc::new(cfg);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.map.len() >= cache.cap
                && !cache.map.contains_key(&key)
                && let Some(old) = cache.order.pop_front()
            {
                cache.map.remove(&old);
            }
            if !cache.map.contains_key(&key) {
                cache.order.push_back(key.clone());
            }
            cache.map.insert(
                key,
                CacheEntry {
                    config: Arc::clone(&cfg),
                    made: Instant::now(),
                },
            );
        }
        Ok(cfg)
    }

    /// Number of cached leaves (for tests of the bound).
    pub fn cached_leaves(&self) -> usize {
        self.cache.lock().map(|c| c.map.len()).unwrap_or(0)
    }

    fn mint_leaf(&self, host: &str) -> Result<CertificateDer<'static>, CaError> {
        let mut params = CertificateParams::default();
        params.serial_number = Some(random_serial()?);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - LEAF_BACKDATE;
        params.not_after = now + LEAF_VALIDITY;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        params.distinguished_name = dn;
        let san = match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(host.try_into()?),
        };
        params.subject_alt_names = vec![san];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        Ok(params
            .signed_by(&self.leaf_key, &self.issuer)?
            .der()
            .clone())
    }
}

/// The authority also plugs into plain hudsucker (`examples/hudsucker_passthrough.rs`, the proxy
/// benchmark's plain-hudsucker row, uses it). A host that cannot be minted falls back to the
/// CONNECT authority's name, then to `localhost`.
impl hudsucker::certificate_authority::CertificateAuthority for Authority {
    async fn gen_server_config(&self, authority: &http::uri::Authority) -> Arc<ServerConfig> {
        match self.server_config(authority.host()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, host = authority.host(), "cannot mint a leaf");
                // An empty-cert config makes the handshake fail for this client only.
                let cfg = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
                    .with_safe_default_protocol_versions()
                    .map(|b| b.with_no_client_auth().with_cert_resolver(Arc::new(NoCert)));
                match cfg {
                    Ok(c) => Arc::new(c),
                    Err(_) => Arc::new(
                        ServerConfig::builder()
                            .with_no_client_auth()
                            .with_cert_resolver(Arc::new(NoCert)),
                    ),
                }
            }
        }
    }
}

#[derive(Debug)]
struct NoCert;

impl rustls::server::ResolvesServerCert for NoCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::GeneralName;

    fn authority() -> (tempfile::TempDir, Authority) {
        let dir = tempfile::tempdir().unwrap();
        let store = CaStore::init(&dir.path().join("ca")).unwrap();
        (dir, store.into_authority(2, true).unwrap())
    }

    #[test]
    fn init_creates_private_files_exclusively_and_load_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("nested/ca");
        let a = CaStore::init(&ca).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&ca.join(KEY_FILE)), 0o600);
            assert_eq!(mode(&ca), 0o700);
        }
        assert!(matches!(CaStore::init(&ca), Err(CaError::Exists(_))));
        let b = CaStore::load(&ca).unwrap();
        assert_eq!(a.cert_der(), b.cert_der());
        let (c, created) = CaStore::load_or_init(&ca).unwrap();
        assert!(!created);
        assert_eq!(c.cert_pem(), a.cert_pem());
        assert!(!a.cert_pem().contains("PRIVATE"));
        let info = a.info().unwrap();
        assert!(info.subject.contains("idscope interception CA"), "{info:?}");
        assert_eq!(info.sha256.len(), 32 * 3 - 1);
        assert_eq!(info.sha1.len(), 20 * 3 - 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_readable_by_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        CaStore::init(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let e = CaStore::load(dir.path()).unwrap_err();
        assert!(
            matches!(e, CaError::KeyPermissions { mode: 0o644, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("chmod 600"), "{e}");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        CaStore::load(dir.path()).unwrap();
    }

    #[test]
    fn leaves_have_ip_sans_for_ips_a_separate_key_and_a_short_life() {
        let (_d, a) = authority();
        for (host, want_ip) in [
            ("127.0.0.1", true),
            ("[::1]", true),
            ("login.example", false),
        ] {
            let der = a
                .mint_leaf(host.trim_start_matches('[').trim_end_matches(']'))
                .unwrap();
            let (_, c) = x509_parser::parse_x509_certificate(&der).unwrap();
            let san = c.subject_alternative_name().unwrap().unwrap();
            let names = &san.value.general_names;
            assert_eq!(names.len(), 1);
            match (&names[0], want_ip) {
                (GeneralName::IPAddress(_), true) | (GeneralName::DNSName(_), false) => {}
                (other, _) => panic!("{host}: unexpected SAN {other:?}"),
            }
            assert!(!c.is_ca());
            let life = c.validity().not_after.timestamp() - c.validity().not_before.timestamp();
            assert!(life <= 8 * 24 * 3600, "leaf lives {life}s");
            // The leaf key is not the CA key.
            let ca = x509_parser::parse_x509_certificate(&a.ca_der).unwrap().1;
            assert_ne!(
                c.public_key().subject_public_key.data,
                ca.public_key().subject_public_key.data
            );
            assert_eq!(c.issuer(), ca.subject());
        }
    }

    #[test]
    fn the_leaf_cache_is_bounded_and_reused() {
        let (_d, a) = authority();
        let one = a.server_config("a.example").unwrap();
        let again = a.server_config("A.example").unwrap();
        assert!(Arc::ptr_eq(&one, &again));
        a.server_config("b.example").unwrap();
        a.server_config("c.example").unwrap();
        assert_eq!(a.cached_leaves(), 2);
        let third = a.server_config("a.example").unwrap();
        assert!(!Arc::ptr_eq(&one, &third), "evicted entry is re-minted");
    }
}
