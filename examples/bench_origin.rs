//! The origin of the proxy benchmark (`benches/proxy_bench.py`): answers every request
//! with the same 1 KiB JSON body, over plain TCP and over TLS (HTTP/1.1 and HTTP/2 via ALPN), on
//! the loopback ports it is given. Its certificate (SANs `127.0.0.1` and `localhost`, CA:FALSE)
//! comes from a CA generated at start; the CA certificate is written as PEM to the path given,
//! after both listeners are bound, so its existence means "ready". Measures nothing itself.
//!
//!     cargo run --release --example bench_origin -- \
//!         --http 127.0.0.1:18080 --https 127.0.0.1:18443 --ca-out /tmp/origin-ca.pem \
//!         [--max-seconds 900]
//!
//! It exits after `--max-seconds` (default 900) even if nobody stops it.

// A benchmark helper: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use tokio::net::TcpListener;

/// Size of every response body.
const BODY_LEN: usize = 1024;

/// The proxy benchmark's origin: the same 1 KiB JSON for every request.
#[derive(clap::Parser)]
struct Args {
    /// Plain HTTP listener (loopback).
    #[arg(long, value_name = "ADDR:PORT")]
    http: SocketAddr,
    /// TLS listener (loopback).
    #[arg(long, value_name = "ADDR:PORT")]
    https: SocketAddr,
    /// Where to write the CA certificate (PEM) once both listeners are bound.
    #[arg(long, value_name = "FILE")]
    ca_out: PathBuf,
    /// Exit after this many seconds even if nobody stops it.
    #[arg(long, value_name = "N", default_value_t = 900)]
    max_seconds: u64,
}

fn parse_args() -> Args {
    let args = <Args as clap::Parser>::parse();
    assert!(
        args.http.ip().is_loopback() && args.https.ip().is_loopback(),
        "the benchmark origin listens on loopback only"
    );
    args
}

/// A 1 KiB JSON body shaped like a token response (so the decoders have something to parse).
fn body() -> Bytes {
    let head = r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":""#;
    let tail = r#""}"#;
    let pad = BODY_LEN - head.len() - tail.len();
    let token: String = (0..pad)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]))
        .collect();
    let s = format!("{head}{token}{tail}");
    assert_eq!(s.len(), BODY_LEN);
    Bytes::from(s)
}

/// The CA (PEM) and a server config with a leaf it signed.
fn tls_config() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "idscope bench origin CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params.signed_by(&key, &issuer).unwrap();
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
    (ca_cert.pem(), cfg)
}

async fn serve(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, body: Bytes) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors and the like: do not spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let tls = tls.clone();
        let body = body.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |_req: Request<Incoming>| {
                let mut res = Response::new(Full::new(body.clone()));
                res.headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                async move { Ok::<_, Infallible>(res) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                }
                None => {
                    let _ = builder.serve_connection(TokioIo::new(tcp), svc).await;
                }
            }
        });
    }
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let (ca_pem, cfg) = tls_config();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let plain = TcpListener::bind(args.http).await.unwrap();
    let secure = TcpListener::bind(args.https).await.unwrap();
    let body = body();
    tokio::spawn(serve(plain, None, body.clone()));
    tokio::spawn(serve(secure, Some(acceptor), body));
    // Written last: its existence tells the script both listeners are up.
    let tmp = args.ca_out.with_extension("tmp");
    std::fs::write(&tmp, ca_pem).unwrap();
    std::fs::rename(&tmp, &args.ca_out).unwrap();
    eprintln!(
        "bench_origin: http {} https {} CA {}",
        args.http,
        args.https,
        args.ca_out.display()
    );
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(args.max_seconds)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
