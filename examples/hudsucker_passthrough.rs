//! Plain hudsucker as a forward proxy that intercepts TLS and forwards everything unchanged: the
//! "plain hudsucker" baseline next to idscope's own `--passthrough`, measured by
//! `benches/proxy_bench.py`. It is hudsucker 0.25's `Proxy` with its no-op handlers; the only
//! idscope parts are the leaf-minting CA (`idscope::proxy::ca::Authority`, which implements
//! hudsucker's `CertificateAuthority`, so both proxies present the same ECDSA P-256 leaves) and
//! the upstream roots (`--upstream-ca`, as `idscope proxy` takes them). Measures nothing itself.
//!
//!     cargo run --release --example hudsucker_passthrough -- \
//!         --listen 127.0.0.1:18091 --ca-dir /tmp/ca --upstream-ca /tmp/origin-ca.pem \
//!         [--max-seconds 900]
//!
//! The CA directory is created (or reused) like `idscope proxy --ca-dir`; the CA certificate is
//! `idscope-ca.pem` in it. It exits after `--max-seconds` (default 900) even if nobody stops it.

// A benchmark helper: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::HttpsConnectorBuilder;
use idscope::proxy::ca::CaStore;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Plain hudsucker with idscope's CA: the proxy benchmark's plain-hudsucker baseline.
#[derive(clap::Parser)]
struct Args {
    /// Listener (loopback).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// CA directory, created or reused as `idscope proxy --ca-dir` does.
    #[arg(long, value_name = "DIR")]
    ca_dir: PathBuf,
    /// Extra upstream roots (PEM), besides the public ones.
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Exit after this many seconds even if nobody stops it.
    #[arg(long, value_name = "N", default_value_t = 900)]
    max_seconds: u64,
}

fn parse_args() -> Args {
    let args = <Args as clap::Parser>::parse();
    assert!(
        args.listen.ip().is_loopback(),
        "the benchmark's hudsucker listens on loopback only"
    );
    args
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let (store, _) = CaStore::load_or_init(&args.ca_dir).expect("CA directory");
    let ca = store.into_authority(1_000, true).expect("CA");

    // The public roots plus the benchmark origin's CA, as `idscope proxy --upstream-ca` does.
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &args.upstream_ca {
        for cert in CertificateDer::pem_file_iter(path).expect("--upstream-ca file") {
            roots.add(cert.expect("PEM certificate")).expect("root");
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .build();

    let max = Duration::from_secs(args.max_seconds);
    let proxy = hudsucker::Proxy::builder()
        .with_addr(args.listen)
        .with_ca(ca)
        .with_http_connector(connector)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = tokio::time::sleep(max) => {}
            }
        })
        .build()
        .expect("hudsucker proxy");
    proxy.start().await.expect("hudsucker proxy run");
}
