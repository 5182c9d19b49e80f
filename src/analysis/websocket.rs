//! The messages of a recorded WebSocket conversation, handed to the decoder that reads a whole
//! conversation: the Azure Service Bus relay's layers ([`idscope_decoders::relay`]). The
//! messages are the flow's `_webSocketMessages` in the HAR shape Chrome and mitmproxy write
//! (`type` `send`/`receive`, `opcode` 1 for text, 2 for binary with `data` in base64); the
//! sub-protocol is the `Sec-WebSocket-Protocol` the server chose (or, failing that, the first
//! relay protocol the client offered).

use idscope_decoders::relay::{self, Layer, WsMessage};
use idscope_decoders::{Context, Outcome, util};

use crate::flow::{Flow, header};

/// The relay decoder's outcome for this flow's WebSocket messages, when the flow has some and
/// its sub-protocol (or its client's first message) is the relay's.
pub fn relay_outcome(flow: &Flow, cx: &Context<'_>) -> Option<Outcome> {
    let messages = flow.extra.get("_webSocketMessages")?.as_array()?;
    let chosen = flow
        .response()
        .and_then(|r| header(&r.headers, "sec-websocket-protocol"));
    let offered = header(&flow.request.headers, "sec-websocket-protocol").and_then(|list| {
        let mut p = list.split(',').map(str::trim);
        p.clone()
            .find(|p| Layer::of_protocol(p).is_some())
            .or_else(|| p.next())
    });
    let protocol = chosen.map(str::trim).or(offered);
    let owned: Vec<(bool, Vec<u8>)> = messages
        .iter()
        .filter_map(|m| {
            let from_client = m.get("type")?.as_str()? == "send";
            let data = m.get("data")?.as_str()?;
            let bytes = match m.get("opcode").and_then(|o| o.as_u64()) {
                Some(2) => util::b64_decode_any(data, cx.limits.max_inflate)?,
                _ => data.as_bytes().to_vec(),
            };
            Some((from_client, bytes))
        })
        .collect();
    let borrowed: Vec<WsMessage<'_>> = owned
        .iter()
        .map(|(from_client, data)| WsMessage {
            from_client: *from_client,
            data,
        })
        .collect();
    let result = relay::decode_websocket(protocol, &borrowed, cx)?;
    Some(Outcome {
        decoder: "relay",
        priority: 0.9,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode_flow;
    use crate::flow::testing;
    use idscope_decoders::{Limits, Registry, Trust};
    use serde_json::json;

    /// AADInternals' listener bytes (`MSAppProxy_utils.ps1` `$AMQP3`, `$AMQP0`; `AMQP.ps1`
    /// `New-AMQPBegin`), as the recorder keeps binary messages: base64.
    fn relay_flow(protocol: Option<&str>) -> Flow {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let begin = [
            0x00, 0x00, 0x00, 0x23, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x11, 0xC0, 0x16, 0x08,
            0x40, 0x52, 0x01, 0x70, 0x00, 0x00, 0x13, 0x88, 0x70, 0x00, 0x00, 0x13, 0x88, 0x70,
            0x00, 0x03, 0xFF, 0xFF, 0x40, 0x40, 0x40,
        ];
        let headers: Vec<(&str, &str)> = protocol
            .map(|p| vec![("Sec-WebSocket-Protocol", p)])
            .unwrap_or_default();
        let request = testing::request_with(
            "GET",
            "https://contoso-sb.servicebus.windows.net/$servicebus/websocket",
            &headers,
        );
        let mut response = testing::response(101, "", b"");
        if let Some(p) = protocol {
            response.headers.push_str("Sec-WebSocket-Protocol", p);
        }
        let mut flow = testing::flow(1, request, response);
        flow.extra.insert(
            "_webSocketMessages".into(),
            json!([
                {"type": "send", "time": 1.0, "opcode": 2, "data": b64(b"AMQP\x03\x01\x00\x00")},
                {"type": "receive", "time": 1.1, "opcode": 2, "data": b64(b"AMQP\x03\x01\x00\x00")},
                {"type": "send", "time": 1.2, "opcode": 2, "data": b64(b"AMQP\x00\x01\x00\x00")},
                {"type": "send", "time": 1.3, "opcode": 2, "data": b64(&begin)},
                {"type": "receive", "time": 1.4, "opcode": 1, "data": "not a frame"},
            ]),
        );
        flow
    }

    #[test]
    fn a_relay_websocket_flow_is_decoded_on_the_response_side() {
        for protocol in [Some("wsrelayedamqp"), None] {
            let flow = relay_flow(protocol);
            let report = decode_flow(
                &flow,
                Registry::builtin(),
                &Trust::default(),
                Limits::default(),
            );
            let relay = report
                .response
                .iter()
                .find(|o| o.decoder == "relay")
                .expect("the relay outcome");
            let d = relay.result.as_ref().expect("decodes");
            assert!(
                d.summary.starts_with("relay AMQP: SASL, AMQP, begin"),
                "{}",
                d.summary
            );
            let begin = d
                .root
                .find_path("client → service/amqp/begin/handle-max")
                .expect("the begin frame");
            assert_eq!(begin.value.as_deref(), Some("262143"));
            // The text message the server sent is decoded as the bytes it is: not a frame.
            assert!(
                d.has_finding("truncated frame at byte 8"),
                "{:?}",
                d.findings
            );
            assert!(report.kinds().contains(&"relay"));
        }
    }

    #[test]
    fn other_websocket_flows_are_left_alone() {
        let mut flow = relay_flow(Some("graphql-ws"));
        flow.extra.insert(
            "_webSocketMessages".into(),
            json!([{"type": "send", "time": 1.0, "opcode": 1, "data": "{\"type\":\"connection_init\"}"}]),
        );
        let report = decode_flow(
            &flow,
            Registry::builtin(),
            &Trust::default(),
            Limits::default(),
        );
        assert!(report.response.iter().all(|o| o.decoder != "relay"));
    }
}
