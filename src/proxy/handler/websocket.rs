//! WebSocket: relaying the upgraded connection and recording its messages on the flow.

use std::time::SystemTime;

use super::*;

pub(super) async fn websocket(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    mut req: Request<Incoming>,
) -> Response<ProxyBody> {
    let secure = req.uri().scheme() == Some(&Scheme::HTTPS);
    let Some(authority) = req.uri().authority().cloned() else {
        return text_response(StatusCode::BAD_REQUEST, "idscope: no host\n".into());
    };
    let (host, port) = host_port(&authority, if secure { 443 } else { 80 });
    let slot = if unrecorded(shared, ctx, req.uri()) {
        None
    } else {
        begin_bodyless(shared, ctx, &req, "GET", req.uri().to_string())
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let ws_uri = format!("{}://{authority}{path}", if secure { "wss" } else { "ws" });
    let mut up = Request::builder().method(Method::GET).uri(&ws_uri);
    for (n, v) in req.headers() {
        if matches!(
            n.as_str(),
            "host"
                | "connection"
                | "upgrade"
                | "proxy-authorization"
                | "proxy-connection"
                | "keep-alive"
                | "te"
                | "trailer"
                | "transfer-encoding"
                // tungstenite does not implement permessage-deflate: do not negotiate it.
                | "sec-websocket-extensions"
        ) {
            continue;
        }
        up = up.header(n, v);
    }
    let up = match up
        .header(header::HOST, authority.as_str())
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .body(())
    {
        Ok(r) => r,
        Err(e) => {
            return failure_response(slot.as_ref(), Failure::BadGateway(e.to_string()));
        }
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let stream = match shared.upstream.connect(&host, port).await {
        Ok(s) => s,
        Err(e) => return failure_response(slot.as_ref(), describe(&e)),
    };
    let connector = if secure {
        tokio_tungstenite::Connector::Rustls(Arc::clone(&shared.ws_tls))
    } else {
        tokio_tungstenite::Connector::Plain
    };
    // Inside ORIGIN, so that `--client-cert` answers an origin asking for a certificate.
    let handshake = super::super::client_cert::ORIGIN.scope(
        host.to_ascii_lowercase(),
        tokio_tungstenite::client_async_tls_with_config(up, stream, None, Some(connector)),
    );
    let (server_ws, upstream_res) =
        match tokio::time::timeout(shared.settings.connect_timeout, handshake).await {
            Ok(Ok(x)) => x,
            Ok(Err(tungstenite::Error::Http(res))) => {
                // The origin declined the upgrade: pass its answer on.
                let (p, body) = (*res).into_parts();
                let body = Bytes::from(body.unwrap_or_default());
                if let Some(s) = &slot {
                    let mut b = flow::Body::plain(body.clone());
                    b.sha256 = Some(hex(&Sha256::digest(&body)));
                    s.finish(FlowEvent::Response {
                        id: s.id,
                        response: flow::Response {
                            status: p.status.as_u16(),
                            reason: p.status.canonical_reason().unwrap_or("").into(),
                            http_version: "HTTP/1.1".into(),
                            headers: record_headers(&p.headers),
                            body: b,
                            extra: flow::Extra::new(),
                        },
                        timings: Timings {
                            total: Some(s.elapsed_ms()),
                            ..Timings::default()
                        },
                    });
                }
                let mut headers = p.headers;
                strip_hop_by_hop(&mut headers);
                let mut r = Response::new(full(body));
                *r.status_mut() = p.status;
                *r.headers_mut() = headers;
                return r;
            }
            Ok(Err(e)) => return failure_response(slot.as_ref(), describe(&e)),
            Err(_) => {
                return failure_response(
                    slot.as_ref(),
                    Failure::BadGateway(format!("WebSocket handshake with {ws_uri} timed out")),
                );
            }
        };
    // The client's Sec-WebSocket-Key was passed upstream, so the origin's accept value is the
    // one the client expects.
    let mut res = Response::new(full(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    for (n, v) in upstream_res.headers() {
        if matches!(
            n.as_str(),
            "sec-websocket-accept" | "sec-websocket-protocol" | "set-cookie"
        ) {
            res.headers_mut().append(n, v.clone());
        }
    }
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    res.headers_mut()
        .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let head = flow::Response {
        status: 101,
        reason: "Switching Protocols".into(),
        http_version: "HTTP/1.1".into(),
        headers: record_headers(upstream_res.headers()),
        body: flow::Body::default(),
        extra: flow::Extra::new(),
    };
    let busy = ctx.activity.busy();
    let cap = shared.settings.max_body;
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        let _busy = busy;
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                if let Some(s) = &slot {
                    s.fail(format!("WebSocket upgrade with the client failed: {e}"));
                }
                return;
            }
        };
        let client_ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        let mut log = MessageLog::new(cap);
        tokio::select! {
            () = relay(client_ws, server_ws, &mut log) => {}
            () = stopped(shutdown.clone()) => {}
        }
        if let Some(s) = &slot {
            let mut response = head;
            response
                .extra
                .insert("_webSocketMessages".into(), Value::Array(log.messages));
            if log.dropped > 0 {
                response
                    .extra
                    .insert("_webSocketMessagesDropped".into(), log.dropped.into());
            }
            s.finish(FlowEvent::Response {
                id: s.id,
                response,
                timings: Timings {
                    total: Some(s.elapsed_ms()),
                    ..Timings::default()
                },
            });
        }
    });
    res
}

/// WebSocket messages in mitmproxy's / Chrome's HAR shape, bounded by the body cap.
pub(super) struct MessageLog {
    pub(super) messages: Vec<Value>,
    pub(super) bytes: usize,
    pub(super) cap: usize,
    pub(super) dropped: u64,
}

impl MessageLog {
    pub(super) fn new(cap: usize) -> Self {
        MessageLog {
            messages: Vec::new(),
            bytes: 0,
            cap,
            dropped: 0,
        }
    }

    pub(super) fn push(&mut self, direction: &str, msg: &Message) {
        let (opcode, data) = match msg {
            Message::Text(t) => (1, t.as_str().to_string()),
            Message::Binary(b) => {
                use base64::Engine as _;
                (2, base64::engine::general_purpose::STANDARD.encode(b))
            }
            _ => return,
        };
        if self.bytes + data.len() > self.cap {
            self.dropped += 1;
            return;
        }
        self.bytes += data.len();
        let time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        self.messages.push(json!({
            "type": direction,
            "time": time,
            "opcode": opcode,
            "data": data,
        }));
    }
}

pub(super) type ClientWs = tokio_tungstenite::WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;
pub(super) type ServerWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Logs one message read from one side (`dir`) and forwards it to the other; control frames
/// (ping, pong, raw frames) are left to the WebSocket layers. False when the other side is gone.
pub(super) async fn pass<S>(msg: Message, dir: &str, log: &mut MessageLog, to: &mut S) -> bool
where
    S: futures::Sink<Message> + Unpin,
{
    if matches!(msg, Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) {
        return true;
    }
    log.push(dir, &msg);
    to.send(msg).await.is_ok()
}

/// Relays messages both ways until both sides have closed (or one fails).
pub(super) async fn relay(client: ClientWs, server: ServerWs, log: &mut MessageLog) {
    let (mut to_client, mut from_client) = client.split();
    let (mut to_server, mut from_server) = server.split();
    let (mut client_open, mut server_open) = (true, true);
    while client_open || server_open {
        tokio::select! {
            m = from_client.next(), if client_open => match m {
                Some(Ok(msg)) => {
                    if !pass(msg, "send", log, &mut to_server).await {
                        server_open = false;
                    }
                }
                _ => {
                    client_open = false;
                    let _ = to_server.close().await;
                }
            },
            m = from_server.next(), if server_open => match m {
                Some(Ok(msg)) => {
                    if !pass(msg, "receive", log, &mut to_client).await {
                        client_open = false;
                    }
                }
                _ => {
                    server_open = false;
                    let _ = to_client.close().await;
                }
            },
        }
    }
}
