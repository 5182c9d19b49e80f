//! The upstream side of the proxy: which roots verify origin certificates (webpki roots plus
//! `--upstream-ca`, or nothing with the explicit `--insecure`), how a host is reached (`--map
//! HOST=ADDR:PORT` connects elsewhere but keeps Host and SNI), the refusal to connect to the
//! proxy's own listeners (compared on resolved socket addresses, security.md §2.2), connect
//! timeouts, the client certificates presented to origins that ask for one (`--client-cert`,
//! see [`super::client_cert`]), and turning a failed upstream exchange into a reason a person can
//! act on.
//!
//! This module does not see flows or client connections (see `handler`).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;

use super::client_cert::{ClientCerts, ORIGIN};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The rustls client configuration for origins: the public webpki roots plus every certificate
/// in `extra_roots` (PEM files), or no verification at all when `insecure` (the caller warns).
/// ALPN is left empty: hyper-rustls fills it and refuses a preset one. `client_certs` answers
/// an origin's request for a client certificate (and records it).
pub fn client_config(
    extra_roots: &[PathBuf],
    insecure: bool,
    client_certs: Arc<ClientCerts>,
) -> anyhow::Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    if insecure {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_client_cert_resolver(client_certs));
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for path in extra_roots {
        use rustls::pki_types::pem::PemObject;
        let mut n = 0;
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("reading --upstream-ca {}", path.display()))?
        {
            let cert =
                cert.with_context(|| format!("--upstream-ca {}: bad PEM", path.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("--upstream-ca {}: unusable root", path.display()))?;
            n += 1;
        }
        anyhow::ensure!(
            n > 0,
            "--upstream-ca {}: no CERTIFICATE in the file",
            path.display()
        );
    }
    Ok(builder
        .with_root_certificates(roots)
        .with_client_cert_resolver(client_certs))
}

/// `--insecure`: accepts any origin certificate (signatures are still checked for form).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
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
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Why an upstream connection was not made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The target resolves to one of the proxy's own listeners (a loop).
    #[error("refused: {target} is idscope's own listener ({addr})")]
    SelfRequest {
        /// The host:port asked for.
        target: String,
        /// The listener address it resolved to.
        addr: SocketAddr,
    },
    /// Name resolution failed or returned nothing.
    #[error("cannot resolve {target}: {message}")]
    Resolve {
        /// The host:port asked for (after mapping).
        target: String,
        /// The resolver's message.
        message: String,
    },
    /// TCP connect failed.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// The host:port connected to (after mapping).
        target: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The connection (TCP plus TLS) took too long.
    #[error("connecting to {target} timed out after {after:?}")]
    Timeout {
        /// The host:port.
        target: String,
        /// The limit.
        after: Duration,
    },
    /// The URI has no host.
    #[error("request URI has no host")]
    NoHost,
}

/// Reaches origins: applies `--map`, refuses the proxy's own listeners, times out.
#[derive(Clone, Debug)]
pub struct Upstream {
    inner: Arc<UpstreamInner>,
}

#[derive(Debug)]
struct UpstreamInner {
    map: HashMap<String, String>,
    own: Vec<SocketAddr>,
    connect_timeout: Duration,
}

impl Upstream {
    /// `map` holds `HOST` or `HOST:PORT` (lowercase) → `ADDR:PORT`; `own` the proxy's bound
    /// listener addresses.
    pub fn new(
        map: HashMap<String, String>,
        own: Vec<SocketAddr>,
        connect_timeout: Duration,
    ) -> Self {
        Upstream {
            inner: Arc::new(UpstreamInner {
                map: map
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v))
                    .collect(),
                own,
                connect_timeout,
            }),
        }
    }

    /// Where `host:port` really goes: the `--map` target, or itself.
    pub fn target(&self, host: &str, port: u16) -> String {
        let h = host.to_ascii_lowercase();
        let h = h.trim_start_matches('[').trim_end_matches(']');
        if let Some(t) = self.inner.map.get(&format!("{h}:{port}")) {
            return t.clone();
        }
        if let Some(t) = self.inner.map.get(h) {
            return t.clone();
        }
        if h.contains(':') {
            format!("[{h}]:{port}")
        } else {
            format!("{h}:{port}")
        }
    }

    fn is_own(&self, addr: SocketAddr) -> Option<SocketAddr> {
        self.inner.own.iter().copied().find(|l| {
            *l == addr
                || (l.port() == addr.port()
                    && l.ip().is_unspecified()
                    && (addr.ip().is_loopback() || addr.ip().is_unspecified()))
        })
    }

    /// Resolves `host:port` (after mapping) and fails with [`UpstreamError::SelfRequest`] when
    /// any address is one of the proxy's own listeners.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, UpstreamError> {
        let target = self.target(host, port);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(&target)
            .await
            .map_err(|e| UpstreamError::Resolve {
                target: target.clone(),
                message: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(UpstreamError::Resolve {
                target,
                message: "no addresses".into(),
            });
        }
        if let Some(addr) = addrs.iter().find_map(|a| self.is_own(*a)) {
            return Err(UpstreamError::SelfRequest {
                target: format!("{host}:{port}"),
                addr,
            });
        }
        Ok(addrs)
    }

    /// Opens a TCP connection to `host:port` (after mapping), refusing the proxy itself, within
    /// the connect timeout.
    pub async fn connect(&self, host: &str, port: u16) -> Result<TcpStream, UpstreamError> {
        let target = self.target(host, port);
        let after = self.inner.connect_timeout;
        let fut = async {
            let addrs = self.resolve(host, port).await?;
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect(addr).await {
                    Ok(s) => {
                        // A listener on 0.0.0.0 is also reached through any local address.
                        if let (Ok(peer), Ok(local)) = (s.peer_addr(), s.local_addr())
                            && peer.ip() == local.ip()
                            && let Some(own) = self
                                .inner
                                .own
                                .iter()
                                .find(|l| l.ip().is_unspecified() && l.port() == peer.port())
                        {
                            return Err(UpstreamError::SelfRequest {
                                target: format!("{host}:{port}"),
                                addr: *own,
                            });
                        }
                        let _ = s.set_nodelay(true);
                        return Ok(s);
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(UpstreamError::Connect {
                target: target.clone(),
                source: last.unwrap_or_else(|| std::io::Error::other("no address")),
            })
        };
        match tokio::time::timeout(after, fut).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::Timeout { target, after }),
        }
    }
}

/// `Upstream` as a hyper-util connector (plain TCP; hyper-rustls adds TLS on top, with SNI from
/// the request URI, so a mapped host keeps its name).
impl tower_service::Service<Uri> for Upstream {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let host = uri.host().ok_or(UpstreamError::NoHost)?.to_string();
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some("https") | Some("wss") => 443,
                _ => 80,
            });
            Ok(TokioIo::new(this.connect(&host, port).await?))
        })
    }
}

/// Bounds a whole connector call (TCP connect plus the TLS handshake) by a timeout, and runs it
/// inside [`ORIGIN`] so that a request for a client certificate during the handshake knows the
/// host.
#[derive(Clone, Debug)]
pub struct Timed<C> {
    inner: C,
    after: Duration,
}

impl<C> Timed<C> {
    /// Wraps `inner`.
    pub fn new(inner: C, after: Duration) -> Self {
        Timed { inner, after }
    }
}

impl<C> tower_service::Service<Uri> for Timed<C>
where
    C: tower_service::Service<Uri> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
    C::Response: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let target = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let after = self.after;
        let fut = ORIGIN.scope(host, self.inner.call(uri));
        Box::pin(async move {
            match tokio::time::timeout(after, fut).await {
                Ok(r) => r.map_err(Into::into),
                Err(_) => Err(Box::new(UpstreamError::Timeout { target, after }) as BoxError),
            }
        })
    }
}

/// What went wrong with an upstream exchange, for the 502 body and the flow's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The target is the proxy itself: answer 403.
    SelfRequest(String),
    /// Anything else: answer 502 with this reason.
    BadGateway(String),
}

/// Walks an error chain (looking inside `io::Error`s too, whose `source` skips the wrapped
/// error) and names the most specific cause: a rejected origin certificate, our own refusal, a
/// timeout, or the innermost message.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> Failure {
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        chain.push(e);
        cur = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    for e in &chain {
        if let Some(u) = e.downcast_ref::<UpstreamError>() {
            return match u {
                UpstreamError::SelfRequest { .. } => Failure::SelfRequest(u.to_string()),
                other => Failure::BadGateway(format!("upstream: {other}")),
            };
        }
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            let what = match t {
                rustls::Error::InvalidCertificate(_) => "upstream certificate rejected",
                _ => "upstream TLS failed",
            };
            return Failure::BadGateway(format!("{what}: {t}"));
        }
    }
    let innermost = chain.last().map(|e| e.to_string()).unwrap_or_default();
    let outer = err.to_string();
    if innermost == outer || innermost.is_empty() {
        Failure::BadGateway(format!("upstream: {outer}"))
    } else {
        Failure::BadGateway(format!("upstream: {outer}: {innermost}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_the_name_and_changes_the_address() {
        let mut m = HashMap::new();
        m.insert("Login.Example".to_string(), "127.0.0.1:9443".to_string());
        m.insert("api.example:8443".to_string(), "10.0.0.1:1".to_string());
        let u = Upstream::new(m, vec![], Duration::from_secs(1));
        assert_eq!(u.target("login.example", 443), "127.0.0.1:9443");
        assert_eq!(u.target("api.example", 8443), "10.0.0.1:1");
        assert_eq!(u.target("api.example", 443), "api.example:443");
        assert_eq!(u.target("[::1]", 80), "[::1]:80");
    }

    #[tokio::test]
    async fn own_listener_is_refused_by_resolved_address() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let own = l.local_addr().unwrap();
        let u = Upstream::new(HashMap::new(), vec![own], Duration::from_secs(1));
        // "localhost" is a different string that resolves to the same socket address.
        let e = u.connect("localhost", own.port()).await.unwrap_err();
        assert!(matches!(e, UpstreamError::SelfRequest { .. }), "{e}");
        let any = SocketAddr::from(([0, 0, 0, 0], own.port()));
        let u = Upstream::new(HashMap::new(), vec![any], Duration::from_secs(1));
        let e = u.connect("127.0.0.1", own.port()).await.unwrap_err();
        assert!(matches!(e, UpstreamError::SelfRequest { .. }), "{e}");
    }

    #[test]
    fn describe_finds_a_certificate_error_inside_io_errors() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        match describe(&io) {
            Failure::BadGateway(m) => {
                assert!(m.starts_with("upstream certificate rejected"), "{m}");
                assert!(m.contains("UnknownIssuer"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn upstream_ca_file_without_certificates_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.pem");
        std::fs::write(&p, "nothing").unwrap();
        let e = client_config(&[p], false, Arc::default()).unwrap_err();
        assert!(format!("{e:#}").contains("no CERTIFICATE"), "{e:#}");
    }
}
