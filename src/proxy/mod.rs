//! The intercepting proxy as a library: [`start`] binds a listener and runs the engine
//! (`handler`) with the on-disk CA (`ca`) and the upstream trust and reachability rules
//! (`upstream`); the returned [`ProxyHandle`] gives the bound address, the [`FlowEvent`] stream,
//! the CA certificate in use and [`ProxyHandle::shutdown`]. This module is the engine only: what
//! becomes of the events (pairing, recording, printing, the live UI) is `crate::live`'s, and the
//! front ends (`idscope proxy`, `idscope record`, `idscope demo`) wire the two together.
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! let mut handle = idscope::proxy::start(idscope::proxy::ProxyConfig::default()).await?;
//! let mut events = handle.take_events().expect("events are taken once");
//! println!("listening on {}", handle.addr());
//! while let Some(event) = events.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

pub mod ca;
pub mod client_cert;
mod handler;
pub mod upstream;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::flow::FlowEvent;
use handler::{Flows, RefusalLimiter, Settings, Shared};

pub use handler::strip_hop_by_hop;

/// Default retained-body cap per message (security.md §2.5): 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;
/// Default [`ProxyConfig::refusal_window`]: one certificate-refusal flow per host a minute.
pub const DEFAULT_REFUSAL_WINDOW: Duration = Duration::from_secs(60);
/// Default listener: loopback only (security.md §2.1).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Everything [`start`] needs. `Default` is the safe configuration: loopback listener, the
/// user's CA, public roots for upstream verification, capture on.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where to listen. A non-loopback address requires `proxy_auth`.
    pub listen: SocketAddr,
    /// `USER:PASS` for `Proxy-Authorization: Basic` (required off loopback).
    pub proxy_auth: Option<(String, String)>,
    /// The CA directory; `None` means `$IDSCOPE_CA_DIR` or the user data directory.
    pub ca_dir: Option<PathBuf>,
    /// Extra PEM roots trusted for origin certificates (`--upstream-ca`).
    pub upstream_ca: Vec<PathBuf>,
    /// Skip origin certificate verification (`--insecure`; callers warn loudly).
    pub insecure: bool,
    /// Client certificates presented to origins that ask for one, by host (`--client-cert`).
    pub client_certs: Vec<(String, client_cert::Identity)>,
    /// Ask intercepted clients for their certificate and record what they offer
    /// (`--request-client-cert`).
    pub request_client_cert: bool,
    /// `HOST` or `HOST:PORT` → `ADDR:PORT` (`--map`): connect there, keep Host and SNI.
    pub map: Vec<(String, String)>,
    /// Regexes over the host (or `host:port`) to leave alone: a matching CONNECT is tunnelled
    /// without interception, a matching plain-HTTP request is forwarded without a flow.
    pub ignore_hosts: Vec<String>,
    /// Retained-body cap per message; beyond it bodies stream through, truncated in the record.
    pub max_body: usize,
    /// Bare passthrough: no events, no body taps (for benchmarks).
    pub passthrough: bool,
    /// Offer HTTP/2 to clients (ALPN) and origins.
    pub http2: bool,
    /// Time a client has to send a request's headers (also bounds HTTP/1 keep-alive waits).
    pub header_read_timeout: Duration,
    /// Time a client has for the TLS handshake inside CONNECT (from the first byte expected).
    pub tls_handshake_timeout: Duration,
    /// A client connection with no I/O and nothing in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Time to reach an origin (TCP plus TLS).
    pub connect_timeout: Duration,
    /// Bound of the minted-leaf cache.
    pub leaf_cache: usize,
    /// A client refusing the interception certificate becomes an error flow at most once per
    /// host (SNI and port) in this time; later refusals within it are counted in the next one.
    pub refusal_window: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            proxy_auth: None,
            ca_dir: None,
            upstream_ca: vec![],
            insecure: false,
            client_certs: vec![],
            request_client_cert: false,
            map: vec![],
            ignore_hosts: vec![],
            max_body: DEFAULT_MAX_BODY,
            passthrough: false,
            http2: true,
            header_read_timeout: Duration::from_secs(30),
            tls_handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
            leaf_cache: ca::DEFAULT_LEAF_CACHE,
            refusal_window: DEFAULT_REFUSAL_WINDOW,
        }
    }
}

/// A running proxy.
#[derive(Debug)]
pub struct ProxyHandle {
    addr: SocketAddr,
    events: Option<mpsc::UnboundedReceiver<FlowEvent>>,
    ca_pem: String,
    ca_dir: PathBuf,
    ca_created: bool,
    stop: watch::Sender<bool>,
    flows: Arc<Flows>,
    accept: tokio::task::JoinHandle<()>,
}

impl ProxyHandle {
    /// The bound listener address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Takes the event stream (once). Every flow yields `Request`, then exactly one of
    /// `Response` or `Error`; intercepted CONNECTs are not flows, tunnelled ones are.
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<FlowEvent>> {
        self.events.take()
    }

    /// The CA certificate (PEM) clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The directory of the CA in use.
    pub fn ca_dir(&self) -> &std::path::Path {
        &self.ca_dir
    }

    /// True when the CA was created by this start (first run).
    pub fn ca_created(&self) -> bool {
        self.ca_created
    }

    /// Flows currently in flight.
    pub fn in_flight(&self) -> usize {
        self.flows.in_flight()
    }

    /// Stops accepting, closes client connections, and sends an `incomplete` `Error` event for
    /// every flow still in flight. When it returns, every event the proxy will ever send is in
    /// the channel (drain it with `try_recv`).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.flows.abort_all();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.accept).await;
    }
}

/// Binds the listener and starts the proxy on the current tokio runtime.
pub async fn start(cfg: ProxyConfig) -> anyhow::Result<ProxyHandle> {
    if !cfg.listen.ip().is_loopback() && cfg.proxy_auth.is_none() {
        anyhow::bail!(
            "listening on {} (not loopback) requires --proxy-auth USER:PASS (security.md §2.1)",
            cfg.listen
        );
    }
    let ignore = regex::RegexSet::new(
        cfg.ignore_hosts
            .iter()
            .map(|r| format!("(?i){r}"))
            .collect::<Vec<_>>(),
    )
    .context("--ignore-host: invalid regex")?;
    let dir = ca::default_dir(cfg.ca_dir.as_deref())?;
    let (store, ca_created) = ca::CaStore::load_or_init(&dir)?;
    let ca_pem = store.cert_pem().to_string();
    let mut authority = store.into_authority(cfg.leaf_cache, cfg.http2)?;
    if cfg.request_client_cert {
        authority.request_client_certs();
    }
    let authority = Arc::new(authority);

    let listener = TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;

    let client_certs = Arc::new(client_cert::ClientCerts::new(cfg.client_certs.clone()));
    let tls = upstream::client_config(&cfg.upstream_ca, cfg.insecure, Arc::clone(&client_certs))?;
    let mut ws_tls = tls.clone();
    ws_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let map: HashMap<String, String> = cfg.map.iter().cloned().collect();
    let up = upstream::Upstream::new(map, vec![addr], cfg.connect_timeout);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let https = if cfg.http2 {
        https.enable_all_versions().wrap_connector(up.clone())
    } else {
        https.enable_http1().wrap_connector(up.clone())
    };
    let client = Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(upstream::Timed::new(https, cfg.connect_timeout));

    let mut server = auto::Builder::new(TokioExecutor::new());
    server
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout);
    server
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    if !cfg.http2 {
        server = server.http1_only();
    }

    let auth = cfg.proxy_auth.as_ref().map(|(u, p)| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
        .into_bytes()
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let flows = Arc::new(Flows::new(tx));
    let (stop, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        settings: Settings {
            max_body: cfg.max_body,
            ignore,
            auth,
            passthrough: cfg.passthrough,
            tls_handshake_timeout: cfg.tls_handshake_timeout,
            idle_timeout: cfg.idle_timeout,
            connect_timeout: cfg.connect_timeout,
        },
        ca: authority,
        client,
        upstream: up,
        client_certs,
        ws_tls: Arc::new(ws_tls),
        server,
        flows: Arc::clone(&flows),
        refusals: RefusalLimiter::new(cfg.refusal_window),
        shutdown: stop_rx.clone(),
    });
    let accept = tokio::spawn(accept_loop(listener, shared, stop_rx));
    Ok(ProxyHandle {
        addr,
        events: Some(rx),
        ca_pem,
        ca_dir: dir,
        ca_created,
        stop,
        flows,
        accept,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, client_addr)) => {
                    tokio::spawn(handler::serve_client(Arc::clone(&shared), tcp, client_addr));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Out of file descriptors and the like: do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = handler::stopped(stop.clone()) => break,
        }
    }
}
