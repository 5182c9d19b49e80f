//! Bad input: unknown types, truncation, sizes past the end, random bytes.

use super::vectors::*;
use crate::relay::*;
use crate::soap::nbfx::{self, Style};
use crate::view::Kind;

fn client_only(stream: &[u8]) -> Decoded {
    decode_ws(Some("wsrelayedamqp"), &ws(stream, &[]))
}

#[test]
fn an_unknown_performative_is_shown_with_its_offset() {
    let stream = [header(0), frame(0, 3, &described(0x30, list(&[str8("x")])))].concat();
    let d = client_only(&stream);
    let n = node(&d, "amqp/unknown performative");
    assert_eq!(
        n.note.as_deref(),
        Some(
            "frame at byte 8, 23 bytes, channel 3; descriptor 0x30 is not one of the performatives of AMQP 1.0 AMQP frames"
        )
    );
    assert_eq!(n.child("[0]").and_then(|c| c.value.as_deref()), Some("x"));
    assert!(
        d.has_finding("unknown AMQP performative (descriptor 0x30) in the frame at byte 8"),
        "{:?}",
        d.findings
    );
    // A SASL performative in an AMQP frame is unknown there too.
    let d = client_only(
        &[
            header(0),
            frame(0, 0, &described(0x41, list(&[sym8("PLAIN")]))),
        ]
        .concat(),
    );
    assert!(
        d.has_finding("unknown AMQP performative (descriptor 0x41)"),
        "{:?}",
        d.findings
    );
}

#[test]
fn an_unknown_descriptor_in_a_field_or_section_is_named() {
    let transfer = described(
        0x14,
        list(&[
            vec![0x43],
            vec![0x43],
            vbin(&[1]),
            vec![0x43],
            vec![0x41],
            vec![NULL],
            vec![NULL],
            described(0x99, list(&[])),
        ]),
    );
    let stream = [
        header(0),
        frame(0, 0, &[transfer, described(0x7f, str8("?"))].concat()),
    ]
    .concat();
    let d = client_only(&stream);
    assert_eq!(
        node(&d, "amqp/transfer/state").note.as_deref(),
        Some("described by 0x99 (not a type this decoder knows)")
    );
    assert_eq!(
        node(&d, "transfer/message/unknown section").note.as_deref(),
        Some("at byte 0 of the message")
    );
    assert!(d.has_finding("unknown message section at byte 0 of the message"));
}

#[test]
fn truncated_and_malformed_frames_are_reported_where_they_are() {
    let open = frame(0, 0, &described(0x10, list(&[str8("c")])));
    let cut = [header(0), open.get(..open.len() - 3).unwrap().to_vec()].concat();
    let d = client_only(&cut);
    let e = node(&d, "amqp/error");
    let msg = format!(
        "truncated frame at byte 8: the header says {} bytes, {} present",
        open.len(),
        open.len() - 3
    );
    assert_eq!(
        (e.kind, e.value.as_deref()),
        (Kind::Error, Some(msg.as_str()))
    );
    assert!(d.has_finding(&msg));
    let d = client_only(&[header(0), vec![0, 0, 0, 4, 2, 0, 0, 0]].concat());
    assert!(d.has_finding("malformed frame at byte 8: size 4 is less than the 8-byte header"));
    let d = client_only(&[header(0), vec![0, 0, 0, 9, 2, 0]].concat());
    assert!(d.has_finding("truncated frame header at byte 8: 6 of 8 bytes"));
    let d = client_only(b"AMQP\x00\x01");
    assert!(d.has_finding("truncated protocol header at byte 0: 6 of 8 bytes"));
    // A list whose count does not fit its size, inside an otherwise whole frame.
    let d = client_only(
        &[
            header(0),
            frame(0, 0, &[0x00, 0x53, 0x10, 0xc0, 0x02, 0x09, 0x40]),
        ]
        .concat(),
    );
    assert!(
        d.has_finding("malformed AMQP value at byte 19: count 9 does not fit in 1 byte(s)"),
        "{:?}",
        d.findings
    );
    // A string longer than the frame.
    let d = client_only(
        &[
            header(0),
            frame(
                0,
                0,
                &[0x00, 0x53, 0x10, 0xc0, 0x04, 0x01, 0xa1, 0x40, 0x41],
            ),
        ]
        .concat(),
    );
    assert!(
        d.has_finding(
            "malformed AMQP value at byte 24: the value's bytes needs 64 byte(s), 1 left"
        ),
        "{:?}",
        d.findings
    );
    // Nesting deeper than the reader allows.
    let deep: Vec<u8> = [
        vec![0x00, 0x53, 0x10],
        std::iter::repeat_n([0x00, 0x53, 0x01], 40)
            .flatten()
            .collect(),
        vec![0x40],
    ]
    .concat();
    let d = client_only(&[header(0), frame(0, 0, &deep)].concat());
    assert!(
        d.findings
            .iter()
            .any(|f| f.message.contains("nested deeper than 32 levels")),
        "{:?}",
        d.findings
    );
    // An array that claims more zero-width elements than a frame may produce.
    let d = client_only(
        &[
            header(0),
            frame(
                0,
                0,
                &[
                    0x00, 0x53, 0x10, 0xf0, 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x40,
                ],
            ),
        ]
        .concat(),
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.message.contains("exceeds the view size limit")),
        "{:?}",
        d.findings
    );
}

#[test]
fn an_nmf_size_past_the_end_is_reported_with_its_offset() {
    let stream = [
        preamble("sb://x/"),
        vec![0x06, 0xf4, 0x03, 0x56, 0x02, 0x01],
    ]
    .concat();
    let d = decode_ws(Some("wsrelayedconnection"), &ws(&stream, &[]));
    let want = format!(
        "sized envelope size 500 at byte {} runs past the end: 3 byte(s) present",
        stream.len() - 5
    );
    assert_eq!(node(&d, "nmf/error").value.as_deref(), Some(want.as_str()));
    assert!(d.has_finding(&want));
    // A size longer than 31 bits, a via cut short, and an unknown record type that is skipped
    // to the end of its WebSocket message.
    let d = decode_ws(
        Some("wsrelayedconnection"),
        &ws(&[0x02, 0xff, 0xff, 0xff, 0xff, 0x7f], &[]),
    );
    assert!(
        d.has_finding("via size at byte 1 exceeds 31 bits"),
        "{:?}",
        d.findings
    );
    let d = decode_ws(
        Some("wsrelayedconnection"),
        &ws(&[0x02, 0x05, b's', b'b'], &[]),
    );
    assert!(
        d.has_finding("via size 5 at byte 1 runs past the end: 2 byte(s) present"),
        "{:?}",
        d.findings
    );
    let messages = [
        WsMessage {
            from_client: true,
            data: &[0x77, 1, 2],
        },
        WsMessage {
            from_client: true,
            data: &[0x07],
        },
    ];
    let d = decode_ws(Some("wsrelayedconnection"), &messages);
    let labels: Vec<&str> = node(&d, "client → service/nmf")
        .children
        .iter()
        .map(|n| n.label.as_str())
        .collect();
    assert_eq!(labels, ["unknown record", "end"]);
    assert!(d.has_finding("unknown MC-NMF record type 0x77 at byte 0"));
    // An envelope whose binary XML is cut short keeps what was decoded and says where.
    let mut session = nbfx::Session::new();
    let env = nbfx::encode_session(PASSWORD_VALIDATION, Style::DataContract, &mut session)
        .expect("encodes");
    let cut = env.get(..env.len() / 2).unwrap();
    let stream = [vec![0x03, 0x08], sized(cut)].concat();
    let d = decode_ws(Some("wsrelayedconnection"), &ws(&stream, &[]));
    assert!(
        d.findings
            .iter()
            .any(|f| f.message.starts_with("binary XML of the envelope at byte")),
        "{:?}",
        d.findings
    );
}

#[test]
fn after_an_upgrade_the_stream_is_left_undecoded() {
    let upgrade = [&[0x09, 0x13][..], b"application/ssl-tls"].concat();
    let client = [
        preamble("sb://x/"),
        upgrade,
        vec![0x16, 0x03, 0x01, 0x00, 0x05],
    ]
    .concat();
    let service = [0x0a, 0x16, 0x03, 0x03];
    let d = decode_ws(Some("wsrelayedconnection"), &ws(&client, &service));
    assert_eq!(
        node(&d, "client → service/nmf/upgrade request")
            .value
            .as_deref(),
        Some("application/ssl-tls")
    );
    assert_eq!(
        node(&d, "client → service/nmf/upgraded").value.as_deref(),
        Some("5 byte(s) of application/ssl-tls, not decoded")
    );
    assert_eq!(
        node(&d, "service → client/nmf/upgraded").value.as_deref(),
        Some("3 byte(s) of the upgraded protocol, not decoded")
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn the_registry_picks_the_relay_decoder_for_a_stream_blob() {
    let stream = listener_service();
    let best = with_cx(|cx| crate::Registry::builtin().best(&Message::blob(&stream), cx))
        .expect("a decoder applies");
    assert_eq!(best.decoder, "relay");
    assert_eq!(
        node(
            &best,
            "relay/amqp/transfer/message/data/nmf/sized envelope/soap"
        )
        .value
        .as_deref(),
        Some("SignalConnector")
    );
    let pre = preamble("sb://x/");
    let best = with_cx(|cx| crate::Registry::builtin().best(&Message::blob(&pre), cx))
        .expect("a decoder applies");
    assert_eq!(
        (best.decoder, best.summary.as_str()),
        ("relay", "relay NMF: via")
    );
    // Not the relay: no header, no preamble, no sub-protocol.
    let other = [WsMessage {
        from_client: true,
        data: b"{\"hello\":1}",
    }];
    assert!(with_cx(|cx| decode_websocket(Some("graphql-ws"), &other, cx)).is_none());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_after_each_layer_start(data in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600) {
            let amqp = [header(3), data.clone()].concat();
            let nmf = [preamble("sb://x/"), data.clone()].concat();
            let split = cut.min(data.len());
            let (a, b) = data.split_at(split);
            for (proto, client) in [(Some("wsrelayedamqp"), &amqp), (Some("wsrelayedconnection"), &nmf), (Some("wsrelayedamqp"), &data), (Some("wsrelayedconnection"), &data)] {
                let messages = [WsMessage { from_client: true, data: client }, WsMessage { from_client: false, data: a }, WsMessage { from_client: false, data: b }];
                let _ = with_cx(|cx| decode_websocket(proto, &messages, cx));
                let _ = with_cx(|cx| crate::Registry::builtin().decode_all(&Message::blob(client), cx));
            }
        }

        #[test]
        fn random_values_in_a_frame(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let stream = [header(0), frame(0, 0, &[&[0x00, 0x53, 0x14][..], &data].concat())].concat();
            let _ = with_cx(|cx| decode_websocket(Some("wsrelayedamqp"), &ws(&stream, &[]), cx));
            let stream = [vec![0x03, 0x08], sized(&data)].concat();
            let _ = with_cx(|cx| decode_websocket(Some("wsrelayedconnection"), &ws(&stream, &stream), cx));
        }
    }
}
