//! Forwarding one request upstream and turning the exchange into the flow's events.

use super::*;

pub(super) enum Collected<F> {
    Complete(Bytes, Tap<F>),
    Over(VecDeque<Bytes>, Incoming, Tap<F>),
    Failed(String, Tap<F>),
}

/// Reads the request body up to the cap (so that a typical request is recorded whole, even when
/// the upstream then fails); beyond the cap the rest streams.
pub(super) async fn collect_request<F: OnEnd>(
    mut body: Incoming,
    mut tap: Tap<F>,
    cap: usize,
) -> Collected<F> {
    let mut chunks: VecDeque<Bytes> = VecDeque::new();
    let mut read = 0usize;
    loop {
        if body.is_end_stream() {
            break;
        }
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    tap.feed(&data);
                    read += data.len();
                    chunks.push_back(data);
                    if read > cap {
                        return Collected::Over(chunks, body, tap);
                    }
                }
            }
            Some(Err(e)) => return Collected::Failed(e.to_string(), tap),
        }
    }
    let bytes = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop_front().unwrap_or_default(),
        _ => {
            let mut v = Vec::with_capacity(read);
            for c in &chunks {
                v.extend_from_slice(c);
            }
            Bytes::from(v)
        }
    };
    Collected::Complete(bytes, tap)
}

pub(super) fn failure_response(slot: Option<&Arc<Slot>>, f: Failure) -> Response<ProxyBody> {
    let (status, message) = match f {
        Failure::SelfRequest(m) => (StatusCode::FORBIDDEN, m),
        Failure::BadGateway(m) => (StatusCode::BAD_GATEWAY, m),
    };
    if let Some(s) = slot {
        s.fail(message.clone());
    }
    text_response(status, format!("idscope: {message}\n"))
}

pub(super) async fn forward(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    req: Request<Incoming>,
) -> Response<ProxyBody> {
    let _busy = ctx.activity.busy();
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    join_cookies(&mut parts.headers);

    if unrecorded(shared, ctx, &parts.uri) {
        parts.headers.remove(header::HOST);
        parts.version = Version::HTTP_11;
        let req = Request::from_parts(parts, body.map_err(BoxError::from).boxed_unsync());
        return match shared.client.request(req).await {
            Ok(res) => {
                let (mut p, b) = res.into_parts();
                strip_hop_by_hop(&mut p.headers);
                Response::from_parts(p, b.map_err(BoxError::from).boxed_unsync())
            }
            Err(e) => failure_response(None, describe(&e)),
        };
    }

    let Some(slot) = shared.flows.begin(ctx.client_addr) else {
        return text_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "idscope: shutting down\n".into(),
        );
    };
    let cap = shared.settings.max_body;
    let record = |parts: &http::request::Parts| {
        let mut extra = flow::Extra::new();
        if let Some(o) = &ctx.offered {
            extra.insert(
                super::super::client_cert::OFFERED_FIELD.into(),
                Value::clone(o),
            );
        }
        flow::Request {
            method: parts.method.as_str().to_string(),
            url: parts.uri.to_string(),
            http_version: version_str(parts.version).into(),
            headers: record_headers(&parts.headers),
            body: flow::Body::default(),
            extra,
        }
    };
    let req_slot = Arc::clone(&slot);
    let req_record = record(&parts);
    let tap = Tap::new(
        cap,
        encoding_of(&parts.headers),
        move |r: Result<flow::Body, String>| {
            let mut rec = req_record;
            match r {
                Ok(body) => {
                    rec.body = body;
                    req_slot.request(rec);
                }
                Err(e) => {
                    req_slot.request(rec);
                    req_slot.fail(format!("reading the request body from the client: {e}"));
                }
            }
        },
    );
    let upstream_body = match collect_request(body, tap, cap).await {
        Collected::Complete(bytes, tap) => {
            tap.finish(Ok(()));
            full(bytes)
        }
        Collected::Over(prefix, rest, tap) => {
            // Rarely needed (a body over the cap): built again rather than cloned for every flow.
            let mut partial = record(&parts);
            partial.body.truncated = true;
            slot.set_partial(partial);
            Recording::new(rest, prefix, tap).boxed_unsync()
        }
        Collected::Failed(e, tap) => {
            tap.finish(Err(e.clone()));
            return text_response(
                StatusCode::BAD_GATEWAY,
                format!("idscope: reading the request body failed: {e}\n"),
            );
        }
    };
    parts.headers.remove(header::HOST);
    parts.version = Version::HTTP_11;
    let origin = parts.uri.host().unwrap_or_default().to_string();
    let sent = Instant::now();
    let res = match shared
        .client
        .request(Request::from_parts(parts, upstream_body))
        .await
    {
        Ok(res) => res,
        Err(e) => {
            let failure = match (describe(&e), shared.client_certs.missing_hint(&origin)) {
                (Failure::BadGateway(m), Some(hint)) => Failure::BadGateway(format!("{m}; {hint}")),
                (f, _) => f,
            };
            return failure_response(Some(&slot), failure);
        }
    };
    // One clock read for both: the headers arrived when the wait ended.
    let headers_at = Instant::now();
    let wait = ms(headers_at - sent);
    let (mut p, body) = res.into_parts();
    strip_hop_by_hop(&mut p.headers);
    let mut head = flow::Response {
        status: p.status.as_u16(),
        reason: p.status.canonical_reason().unwrap_or("").to_string(),
        http_version: version_str(p.version).into(),
        headers: record_headers(&p.headers),
        body: flow::Body::default(),
        extra: flow::Extra::new(),
    };
    if let Some(record) = shared.client_certs.record(&origin) {
        head.extra
            .insert(super::super::client_cert::RECORD_FIELD.into(), record);
    }
    let res_slot = Arc::clone(&slot);
    let tap = Tap::new(
        cap,
        encoding_of(&p.headers),
        move |r: Result<flow::Body, String>| match r {
            Ok(body) => {
                let mut response = head;
                response.body = body;
                let now = Instant::now();
                res_slot.finish(FlowEvent::Response {
                    id: res_slot.id,
                    response,
                    timings: Timings {
                        total: Some(ms(now - res_slot.started)),
                        wait: Some(wait),
                        receive: Some(ms(now - headers_at)),
                        ..Timings::default()
                    },
                });
            }
            Err(e) => res_slot.fail(format!("response body: {e}")),
        },
    );
    let body = Recording::new(body, VecDeque::new(), tap).boxed_unsync();
    Response::from_parts(p, body)
}
