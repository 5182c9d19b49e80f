//! A test origin for the proxy tests (hudsucker's `tests/common` pattern): an HTTPS server on
//! `127.0.0.1:0` whose leaf (SANs `localhost`, `127.0.0.1`, `login.example`; CA:FALSE, as rustls
//! requires) comes from a CA generated here, never committed. Speaks HTTP/1.1 and HTTP/2 (ALPN)
//! and WebSocket. Routes: `/hello`, `/echo` (POST body back), `/headers` (request headers as
//! JSON), `/big?n=N` (N bytes), `/id/…` (a body naming the request, for the reliability tests),
//! `/slow` (answers after 30 s), `/ws` (echoes text messages with a prefix).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use std::future::Future;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

/// A CA made for one test run.
pub struct TestCa {
    pub pem: String,
    pub file: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "idscope test origin CA");
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("origin-ca.pem");
        std::fs::write(&file, cert.pem()).unwrap();
        TestCa {
            pem: cert.pem(),
            file,
            issuer: Issuer::new(params, key),
            _dir: dir,
        }
    }

    fn server_config(&self) -> rustls::ServerConfig {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "login.example".to_string()])
                .unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        params.is_ca = IsCa::ExplicitNoCa;
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        cfg
    }
}

/// A running origin.
pub struct Origin {
    pub addr: SocketAddr,
    pub ca: TestCa,
}

/// The body `/id/NAME` answers: names the request, so a test can match a recording to it.
pub fn id_body(name: &str) -> String {
    format!(
        "id:{name}:{}",
        "x".repeat(1000usize.saturating_sub(name.len() + 4))
    )
}

async fn route(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.headers().contains_key("sec-websocket-key") {
        return Ok(websocket(req));
    }
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let version = format!("{:?}", req.version());
    let body: Bytes = match path.as_str() {
        "/hello" => Bytes::from(format!("hello over {version}")),
        "/echo" => req
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default(),
        "/headers" => {
            let mut m = serde_json::Map::new();
            // HTTP/2 carries the host as :authority, HTTP/1.1 as Host.
            let authority = req.uri().authority().map(|a| a.to_string()).or_else(|| {
                req.headers()
                    .get("host")
                    .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
            });
            m.insert("_authority".into(), authority.unwrap_or_default().into());
            for (n, v) in req.headers() {
                m.insert(
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                );
            }
            Bytes::from(serde_json::Value::Object(m).to_string())
        }
        "/big" => {
            let n: usize = query
                .strip_prefix("n=")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Bytes::from((0..n).map(|i| b'a' + (i % 26) as u8).collect::<Vec<u8>>())
        }
        "/slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            Bytes::from_static(b"late")
        }
        p if p.starts_with("/id/") => Bytes::from(id_body(&p[4..])),
        _ => Bytes::from_static(b"not found"),
    };
    let mut res = Response::new(Full::new(body));
    res.headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    Ok(res)
}

fn websocket(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let key = req.headers().get("sec-websocket-key").unwrap().clone();
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut req = req;
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let up = on_upgrade.await.unwrap();
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(up),
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        while let Some(Ok(m)) = ws.next().await {
            match m {
                Message::Text(t) if ws.send(Message::text(format!("echo:{t}"))).await.is_err() => {
                    break;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    });
    Response::builder()
        .status(101)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", accept)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Starts the HTTPS origin.
pub async fn start() -> Origin {
    let ca = TestCa::new();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(ca.server_config()));
    let addr = serve(move |tcp| {
        let acceptor = acceptor.clone();
        async move { acceptor.accept(tcp).await.ok() }
    })
    .await;
    Origin { addr, ca }
}

/// Starts a plain-HTTP origin with the same routes.
pub async fn start_plain() -> SocketAddr {
    serve(|tcp| async move { Some(tcp) }).await
}

/// Listens on `127.0.0.1:0` and serves the routes on every connection that `handshake` turns
/// into a transport (`None` drops the connection). Returns the address.
async fn serve<T, F>(handshake: impl Fn(TcpStream) -> F + Send + 'static) -> SocketAddr
where
    F: Future<Output = Option<T>> + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let transport = handshake(tcp);
            tokio::spawn(async move {
                let Some(io) = transport.await else {
                    return;
                };
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(io), service_fn(route))
                    .await;
            });
        }
    });
    addr
}
