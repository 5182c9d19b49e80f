//! CONNECT: tunnels to ignored hosts, and TLS interception of the others (the ClientHello's SNI
//! picks the leaf; the decrypted stream is served by the same service as plain requests). A
//! client that refuses the minted certificate is reported by `refusal`.

use super::refusal::{self, ConnectRequest};
use super::*;

pub(super) async fn connect(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    mut req: Request<Incoming>,
) -> Response<ProxyBody> {
    let Some(authority) = req.uri().authority().cloned() else {
        return text_response(
            StatusCode::BAD_REQUEST,
            "idscope: CONNECT needs host:port\n".into(),
        );
    };
    let (host, port) = host_port(&authority, 443);
    let ignored = shared.settings.ignore.is_match(&host)
        || shared.settings.ignore.is_match(authority.as_str());
    if !ignored
        && let Err(e @ UpstreamError::SelfRequest { .. }) =
            shared.upstream.resolve(&host, port).await
    {
        return text_response(StatusCode::FORBIDDEN, format!("idscope: {e}\n"));
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let shared2 = Arc::clone(shared);
    let ctx2 = ctx.clone();
    if ignored {
        // Tunnel without interception; connect first so a failure is a 502, not a dead tunnel.
        let slot = begin_bodyless(shared, ctx, &req, "CONNECT", format!("https://{authority}"));
        let server = match shared.upstream.connect(&host, port).await {
            Ok(s) => s,
            Err(e) => {
                let status = match e {
                    UpstreamError::SelfRequest { .. } => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_GATEWAY,
                };
                if let Some(s) = &slot {
                    s.fail(format!("upstream: {e}"));
                }
                return text_response(status, format!("idscope: {e}\n"));
            }
        };
        tokio::spawn(async move {
            let shutdown = shared2.shutdown.clone();
            let activity = Arc::clone(&ctx2.activity);
            let idle = shared2.settings.idle_timeout;
            tokio::select! {
                () = tunnel(on_upgrade, server, slot.clone()) => {}
                () = activity.idle(idle) => if let Some(s) = &slot { s.fail("tunnel idle timeout".into()) },
                () = stopped(shutdown.clone()) => {}
            }
        });
        return Response::new(full(Bytes::new()));
    }
    let request = ConnectRequest::of(&req);
    tokio::spawn(intercept_task(
        shared2, ctx2, on_upgrade, authority, request,
    ));
    Response::new(full(Bytes::new()))
}

pub(super) type BoxFuture = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The intercepted tunnel's task. Boxed with an explicit `Send` type: requests inside the tunnel
/// reach `handle` again, and an opaque `async fn` type cannot be checked for `Send` through
/// that cycle.
pub(super) fn intercept_task(
    shared: Arc<Shared>,
    ctx: Ctx,
    on_upgrade: hyper::upgrade::OnUpgrade,
    authority: Authority,
    request: ConnectRequest,
) -> BoxFuture {
    Box::pin(async move {
        let shutdown = shared.shutdown.clone();
        let activity = Arc::clone(&ctx.activity);
        let idle = shared.settings.idle_timeout;
        tokio::select! {
            () = intercept(&shared, &ctx, on_upgrade, authority, request) => {}
            () = activity.idle(idle) => debug!("idle timeout in tunnel"),
            () = stopped(shutdown) => {}
        }
    })
}

pub(super) async fn tunnel(
    on_upgrade: hyper::upgrade::OnUpgrade,
    mut server: TcpStream,
    slot: Option<Arc<Slot>>,
) {
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            if let Some(s) = &slot {
                s.fail(format!("CONNECT upgrade failed: {e}"));
            }
            return;
        }
    };
    let mut client = TokioIo::new(upgraded);
    let result = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    if let Some(s) = &slot {
        match result {
            Ok((up, down)) => {
                let mut extra = flow::Extra::new();
                extra.insert(
                    "_tunnel".into(),
                    json!({"intercepted": false, "bytesSent": up, "bytesReceived": down}),
                );
                let total = s.elapsed_ms();
                s.finish(FlowEvent::Response {
                    id: s.id,
                    response: flow::Response {
                        status: 200,
                        reason: "Connection established".into(),
                        http_version: "HTTP/1.1".into(),
                        headers: Default::default(),
                        body: flow::Body::default(),
                        extra,
                    },
                    timings: Timings {
                        total: Some(total),
                        ..Timings::default()
                    },
                });
            }
            Err(e) => s.fail(format!("tunnel: {e}")),
        }
    }
}

/// How the TLS handshake inside a CONNECT failed.
enum HandshakeError {
    /// Before or while the client's hello was read, or while minting the leaf: not the client's
    /// verdict on our certificate.
    Ours(String),
    /// After the ClientHello: the client may have refused the certificate minted for `name`.
    /// The connection is kept until the refusal is reported, so that a client sees it close
    /// only once the flow is out.
    WithClient {
        name: String,
        error: std::io::Error,
        _io: Rewind<TokioIo<hyper::upgrade::Upgraded>>,
    },
}

/// Serves the inside of an intercepted CONNECT: TLS (with a minted leaf) or plain HTTP.
pub(super) async fn intercept(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    on_upgrade: hyper::upgrade::OnUpgrade,
    authority: Authority,
    request: ConnectRequest,
) {
    let limit = shared.settings.tls_handshake_timeout;
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            debug!(error = %e, "CONNECT upgrade failed");
            return;
        }
    };
    let mut io = TokioIo::new(upgraded);
    let mut first = [0u8; 1];
    let n = match tokio::time::timeout(limit, io.read(&mut first)).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            debug!(error = %e, "reading from the tunnel");
            return;
        }
        Err(_) => {
            debug!(%authority, "no data within the handshake timeout");
            return;
        }
    };
    if n == 0 {
        return;
    }
    let rewind = Rewind {
        prefix: Bytes::copy_from_slice(&first),
        inner: io,
    };
    let mut inner_ctx = ctx.clone();
    if first[0] == 0x16 {
        let handshake = async {
            let start =
                tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), rewind)
                    .await
                    .map_err(|e| HandshakeError::Ours(format!("reading the ClientHello: {e}")))?;
            let (host, _) = host_port(&authority, 443);
            let name = start
                .client_hello()
                .server_name()
                .map(str::to_string)
                .unwrap_or(host);
            let cfg = shared
                .ca
                .server_config(&name)
                .map_err(|e| HandshakeError::Ours(format!("minting a leaf for {name}: {e}")))?;
            start
                .into_stream(cfg)
                .into_fallible()
                .await
                .map_err(|(error, io)| HandshakeError::WithClient {
                    name,
                    error,
                    _io: io,
                })
        };
        let tls = match tokio::time::timeout(limit, handshake).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(HandshakeError::Ours(e))) => {
                debug!(%authority, "{e}");
                return;
            }
            Ok(Err(HandshakeError::WithClient { name, error, _io })) => {
                match refusal::classify(&error) {
                    Some(r) => refusal::report(shared, ctx, &request, &authority, &name, r),
                    None => debug!(%authority, "TLS handshake with the client: {error}"),
                }
                return;
            }
            Err(_) => {
                debug!(%authority, "TLS handshake timed out");
                return;
            }
        };
        inner_ctx.tunnel = Some((Scheme::HTTPS, without_default_port(authority, 443)));
        inner_ctx.offered = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| Arc::new(super::super::client_cert::offered(c)));
        serve_inner(shared, inner_ctx, TokioIo::new(tls)).await;
    } else {
        inner_ctx.tunnel = Some((Scheme::HTTP, without_default_port(authority, 80)));
        serve_inner(shared, inner_ctx, TokioIo::new(rewind)).await;
    }
}

/// `login.example:443` inside an HTTPS tunnel is recorded as `https://login.example/…`, as
/// browsers and mitmproxy show it.
pub(super) fn without_default_port(a: Authority, default: u16) -> Authority {
    if a.port_u16() == Some(default) {
        let host = a.as_str().rsplit_once(':').map_or(a.as_str(), |(h, _)| h);
        return Authority::try_from(host).unwrap_or(a);
    }
    a
}

pub(super) async fn serve_inner<I>(shared: &Arc<Shared>, ctx: Ctx, io: I)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc_shared = Arc::clone(shared);
    let svc = service_fn(move |req| {
        let shared = Arc::clone(&svc_shared);
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(&shared, &ctx, req).await) }
    });
    if let Err(e) = shared.server.serve_connection_with_upgrades(io, svc).await {
        debug!(error = %e, "intercepted connection ended");
    }
}
