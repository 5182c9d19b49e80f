// Shared by the relay fuzz targets: the input as one direction of a relay WebSocket (after the
// layer's opening bytes), split at a point the input chooses into the two directions and into
// two messages, through `relay::decode_websocket` and the registry; every result is checked
// against the robustness invariants.
use idscope_decoders::relay::{WsMessage, decode_websocket};
use idscope_decoders::{Message, Outcome};

#[path = "common.rs"]
mod common;

pub fn run(protocol: &str, opening: &[u8], data: &[u8]) {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(*first) * rest.len() / 256;
    let (a, b) = rest.split_at(split.min(rest.len()));
    let client = [opening, a].concat();
    let conversations: [&[WsMessage<'_>]; 2] = [
        &[
            WsMessage {
                from_client: true,
                data: &client,
            },
            WsMessage {
                from_client: true,
                data: b,
            },
        ],
        &[
            WsMessage {
                from_client: true,
                data: &client,
            },
            WsMessage {
                from_client: false,
                data: b,
            },
        ],
    ];
    common::with_cx(|cx| {
        for messages in conversations {
            if let Some(result) = decode_websocket(Some(protocol), messages, cx) {
                let outcome = Outcome {
                    decoder: "relay",
                    priority: 0.9,
                    result,
                };
                common::invariants::check_outcomes(&[outcome], "fuzz input");
            }
        }
    });
    common::decode_all(&Message::blob(&client));
    common::decode_all(&Message::blob(rest));
}
