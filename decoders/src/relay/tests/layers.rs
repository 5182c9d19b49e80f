//! Every layer of the relay decoded from the vectors.

use super::vectors::*;
use crate::relay::*;
use crate::soap::nbfx::{self, Style};
use crate::view::Kind;

#[test]
fn the_listener_vector_decodes_through_every_layer() {
    let (c, s) = (listener_client(), listener_service());
    let d = decode_ws(Some("wsrelayedamqp"), &ws(&c, &s));
    // AMQP frame → transfer → data section → MC-NMF sized envelope → NBFSE → SOAP.
    let soap = node(
        &d,
        "service → client/amqp/transfer/message/data/nmf/sized envelope/soap",
    );
    assert_eq!(soap.value.as_deref(), Some("SignalConnector"));
    assert!(
        soap.note.as_deref().unwrap_or("").contains("[MC-NBFSE]"),
        "{:?}",
        soap.note
    );
    let strings = node(&d, "sized envelope/soap/session strings");
    assert_eq!(
        strings
            .children
            .first()
            .map(|n| (n.label.as_str(), n.value.as_deref())),
        Some(("1", Some("SignalConnector")))
    );
    let ctx = node(&d, "soap/protocol context");
    assert_eq!(ctx.value.as_deref(), Some("PasswordValidationContext"));
    assert!(
        ctx.note
            .as_deref()
            .unwrap_or("")
            .contains("validate a user's password")
    );
    assert_eq!(
        node(&d, "protocol context/UserPrincipalName")
            .value
            .as_deref(),
        Some("alice@contoso.com")
    );
    assert_eq!(
        node(&d, "protocol context/Domain").value.as_deref(),
        Some("CONTOSO")
    );
    let enc = node(&d, "protocol context/EncryptedData");
    assert_eq!(enc.children.len(), 1);
    let item = &enc.children[0];
    assert_eq!(item.kind, Kind::Secret);
    assert!(
        item.label
            .ends_with("_44C483C48946CF3BAC85D22018EB134FB4B6460D"),
        "{}",
        item.label
    );
    // The generic body tree masks the same ciphertext.
    assert_eq!(
        node(&d, "b:EncryptedOnPremValidationData/b:Base64EncryptedData").kind,
        Kind::Secret
    );
    assert_eq!(
        node(&d, "soap/addressing")
            .children
            .iter()
            .find(|n| n.label == "Action")
            .and_then(|n| n.value.as_deref()),
        Some("http://tempuri.org/IConnectorSignalingService/SignalConnector")
    );
    // The MC-NMF preamble and the message properties on the way.
    assert_eq!(
        node(&d, "data/nmf/known encoding").value.as_deref(),
        Some("0x08 (SOAP 1.2, binary with in-band dictionary ([MC-NBFSE]))")
    );
    assert_eq!(
        node(&d, "data/nmf/via").value.as_deref(),
        Some("sb://contoso-sb.servicebus.windows.net/svc_reliable")
    );
    assert_eq!(
        node(&d, "transfer/message/properties/message-id")
            .value
            .as_deref(),
        Some("msg-1")
    );
    assert_eq!(
        node(
            &d,
            "service → client/amqp/sasl-mechanisms/sasl-server-mechanisms/[0]"
        )
        .value
        .as_deref(),
        Some("EXTERNAL")
    );
    let outcome = node(&d, "service → client/amqp/sasl-outcome/code");
    assert_eq!(
        (outcome.kind, outcome.note.as_deref()),
        (Kind::Number, Some("ok: authentication succeeded"))
    );
    assert!(
        d.summary
            .contains("SignalConnector (PasswordValidationContext)"),
        "{}",
        d.summary
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn the_sas_token_in_the_attach_properties_is_a_secret() {
    let (c, s) = (listener_client(), listener_service());
    let d = decode_ws(Some("wsrelayedamqp"), &ws(&c, &s));
    let swt = node(
        &d,
        "client → service/amqp/attach/properties/com.microsoft:swt",
    );
    assert_eq!((swt.kind, swt.value.as_deref()), (Kind::Secret, Some(SAS)));
    assert_eq!(
        node(&d, "attach/properties/com.microsoft:listener-type").kind,
        Kind::Field
    );
    let attach = node(&d, "client → service/amqp/attach");
    assert_eq!(
        attach.value.as_deref(),
        Some("name=RelayLink_7d3c:in handle=0")
    );
    assert_eq!(node(&d, "attach/role").note.as_deref(), Some("receiver"));
    assert_eq!(
        node(&d, "attach/source: source/address").value.as_deref(),
        Some("sb://contoso-sb.servicebus.windows.net/svc/")
    );
    // A SAS token under any other name, and a credential-named application property, too.
    let app = described(
        0x74,
        map8(&[
            (str8("Authorization"), str8(SAS)),
            (str8("code"), str8("abc")),
            (str8("Tenant"), str8("contoso")),
        ]),
    );
    let transfer = described(
        0x14,
        list(&[vec![0x43], vec![0x43], vbin(&[1]), vec![0x43], vec![0x41]]),
    );
    let body = [frame(0, 0, &[transfer, app].concat())].concat();
    let stream = [header(0), body].concat();
    let d = decode_ws(Some("wsrelayedamqp"), &ws(&stream, &[]));
    let props = node(&d, "transfer/message/application-properties");
    let kinds: Vec<(&str, Kind)> = props
        .children
        .iter()
        .map(|n| (n.label.as_str(), n.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Authorization", Kind::Secret),
            ("code", Kind::Secret),
            ("Tenant", Kind::Field)
        ]
    );
}

#[test]
fn the_secrets_policy_knows_the_relay_credentials() {
    use crate::secrets::{is_credential_value, is_sas_token, is_secret_element, is_secret_name};
    assert!(is_sas_token(SAS) && is_credential_value(SAS));
    assert!(!is_sas_token(
        "SharedAccessSignature is what the relay wants"
    ));
    for name in [
        "SharedAccessKey",
        "SharedAccessSignature",
        "Base64EncryptedData",
    ] {
        assert!(is_secret_element(name), "{name}");
    }
    assert!(is_secret_name("SharedAccessKey"));
    assert!(!is_secret_element("SharedAccessKeyName") && !is_secret_element("KeyIdentifer"));
}

/// AADInternals `MSAppProxy_utils.ps1` and `AMQP.ps1`: the listener's own frames, as bytes.
#[test]
fn aadinternals_listener_frames_decode_with_their_fields() {
    let amqp3 = [0x41, 0x4D, 0x51, 0x50, 0x03, 0x01, 0x00, 0x00];
    let amqp0 = [0x41, 0x4D, 0x51, 0x50, 0x00, 0x01, 0x00, 0x00];
    let begin = [
        0x00, 0x00, 0x00, 0x23, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x11, 0xC0, 0x16, 0x08, 0x40,
        0x52, 0x01, 0x70, 0x00, 0x00, 0x13, 0x88, 0x70, 0x00, 0x00, 0x13, 0x88, 0x70, 0x00, 0x03,
        0xFF, 0xFF, 0x40, 0x40, 0x40,
    ];
    let flow = [
        0x00, 0x00, 0x00, 0x28, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x13, 0xC0, 0x1B, 0x0B, 0x52,
        0x01, 0x70, 0x00, 0x00, 0x13, 0x88, 0x52, 0x01, 0x70, 0x00, 0x00, 0x13, 0x88, 0x52, 0x01,
        0x43, 0x70, 0x00, 0x00, 0x03, 0xE8, 0x43, 0x40, 0x42, 0x40,
    ];
    let heartbeat = [0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00];
    let disposition = [
        0x00, 0x00, 0x00, 0x17, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x15, 0xC0, 0x0A, 0x06, 0x41,
        0x43, 0x40, 0x41, 0x00, 0x53, 0x24, 0x45, 0x40,
    ];
    let detach = [
        0x00, 0x00, 0x00, 0x12, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x16, 0xC0, 0x05, 0x03, 0x52,
        0x01, 0x41, 0x40,
    ];
    let end = [
        0x00, 0x00, 0x00, 0x0F, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x17, 0xC0, 0x02, 0x01, 0x40,
    ];
    let close = [
        0x00, 0x00, 0x00, 0x0F, 0x02, 0x00, 0x00, 0x00, 0x00, 0x53, 0x18, 0xC0, 0x02, 0x01, 0x40,
    ];
    let msgs: Vec<&[u8]> = vec![
        &amqp3,
        &amqp0,
        &begin,
        &flow,
        &heartbeat,
        &disposition,
        &detach,
        &end,
        &close,
    ];
    let messages: Vec<WsMessage<'_>> = msgs
        .iter()
        .map(|m| WsMessage {
            from_client: true,
            data: m,
        })
        .collect();
    // No sub-protocol: the AMQP header decides.
    let d = decode_ws(None, &messages);
    let amqp = node(&d, "client → service/amqp");
    let labels: Vec<&str> = amqp.children.iter().map(|n| n.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "protocol header",
            "protocol header",
            "begin",
            "flow",
            "heartbeat",
            "disposition",
            "detach",
            "end",
            "close"
        ]
    );
    assert_eq!(
        node(&d, "amqp/begin/handle-max").value.as_deref(),
        Some("262143")
    );
    assert_eq!(
        node(&d, "amqp/begin/incoming-window").value.as_deref(),
        Some("5000")
    );
    assert_eq!(
        node(&d, "amqp/flow/link-credit").value.as_deref(),
        Some("1000")
    );
    assert_eq!(node(&d, "amqp/flow/handle").value.as_deref(), Some("1"));
    assert_eq!(
        node(&d, "amqp/disposition/state: accepted").note.as_deref(),
        Some("outcome: accepted (part 3.4.2)")
    );
    assert_eq!(
        node(&d, "amqp/detach/closed").value.as_deref(),
        Some("true")
    );
    assert!(
        node(&d, "amqp/heartbeat")
            .note
            .as_deref()
            .unwrap_or("")
            .starts_with("frame at byte 91")
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert!(
        d.summary
            .starts_with("relay AMQP: SASL, AMQP, begin, flow, disposition"),
        "{}",
        d.summary
    );
}

/// The rendezvous connection: AADInternals' connect record and `RelayedAccept` (public bytes),
/// the relay's `98` answer (only its first byte and length are public: the rest are zeros
/// here), the MC-NMF preamble laid out as PTAAgentDump dumps it, the agent's preamble ack
/// (AADInternals `New-RelayNameReply`), and NBFSE envelopes written by this crate's encoder
/// whose second message uses a string the first one added to the session.
#[test]
fn the_relayed_connection_decodes_glue_preamble_and_session_envelopes() {
    let accept = [RELAY_ACCEPT, RELAY_ID.as_bytes(), &[0x01, 0x01, 0x01]].concat();
    let create = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/02/rm/CreateSequence</a:Action></s:Header><s:Body><CreateSequence xmlns="http://schemas.xmlsoap.org/ws/2005/02/rm"><AcksTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></AcksTo><Offer><Identifier>urn:uuid:4213aeec-4fa2-459e-89d4-5fa8e58cf1bb</Identifier></Offer></CreateSequence></s:Body></s:Envelope>"#;
    let connect = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:r="http://schemas.xmlsoap.org/ws/2005/02/rm" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><r:Sequence s:mustUnderstand="1"><r:Identifier>urn:uuid:4213aeec-4fa2-459e-89d4-5fa8e58cf1bb</r:Identifier><r:MessageNumber>1</r:MessageNumber></r:Sequence><a:Action s:mustUnderstand="1">http://tempuri.org/IConnectorSignalingService/SignalConnector</a:Action></s:Header><s:Body><SignalConnector xmlns="http://tempuri.org/"><messageProperties xmlns:b="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.SignalingDataModel" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><b:ReturnHost>proxy.connector.his.msappproxy.net</b:ReturnHost><b:ReturnPort>10100</b:ReturnPort><b:TunnelContext><ProtocolContext i:type="ConnectContext" xmlns=""><TrafficProtocol>Connect</TrafficProtocol><ConnectionId>8457828f-e336-44bf-b967-4044b1478cc1</ConnectionId></ProtocolContext></b:TunnelContext></messageProperties></SignalConnector></s:Body></s:Envelope>"#;
    let mut session = nbfx::Session::new();
    let first = nbfx::encode_session(create, Style::DataContract, &mut session).expect("encodes");
    let second = nbfx::encode_session(connect, Style::DataContract, &mut session).expect("encodes");
    let relay_ok = [0x98, 0x00, 0x00, 0x00];
    let pre = preamble(
        "sb://his-nam1-eus1.servicebus.windows.net/11111111-2222-3333-4444-555555555555_reliable",
    );
    let (s1, s2) = (sized(&first), sized(&second));
    let messages = [
        WsMessage {
            from_client: true,
            data: &[0x1E, 0x01, 0x00, 0x00],
        },
        WsMessage {
            from_client: true,
            data: &accept,
        },
        WsMessage {
            from_client: false,
            data: &relay_ok,
        },
        WsMessage {
            from_client: false,
            data: &pre,
        },
        WsMessage {
            from_client: true,
            data: &[0x0B],
        },
        WsMessage {
            from_client: false,
            data: &s1,
        },
        WsMessage {
            from_client: false,
            data: &s2,
        },
        WsMessage {
            from_client: false,
            data: &[0x07],
        },
    ];
    let d = decode_ws(Some("wsrelayedconnection"), &messages);
    let client = node(&d, "client → service/nmf");
    let labels: Vec<&str> = client.children.iter().map(|n| n.label.as_str()).collect();
    assert_eq!(labels, ["relay connect", "bare envelope", "preamble ack"]);
    assert!(
        client.children[0]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("reverse engineering")
    );
    assert!(
        client.children[1]
            .note
            .as_deref()
            .unwrap_or("")
            .contains("reverse engineering")
    );
    let accept_soap = node(&d, "client → service/nmf/bare envelope/soap");
    assert_eq!(accept_soap.value.as_deref(), Some("RelayedAccept"));
    assert_eq!(
        node(&d, "bare envelope/soap/body: RelayedAccept/Id")
            .value
            .as_deref(),
        Some(RELAY_ID)
    );
    let service = node(&d, "service → client/nmf");
    let labels: Vec<&str> = service.children.iter().map(|n| n.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "relay response ok",
            "version",
            "mode",
            "via",
            "known encoding",
            "preamble end",
            "sized envelope",
            "sized envelope",
            "end"
        ]
    );
    assert_eq!(service.children[1].value.as_deref(), Some("1.0"));
    assert_eq!(service.children[2].value.as_deref(), Some("2 (duplex)"));
    let envs: Vec<&Node> = service
        .children
        .iter()
        .filter(|n| n.label == "sized envelope")
        .collect();
    assert_eq!(envs[0].children[0].value.as_deref(), Some("CreateSequence"));
    assert!(envs[0].children[0].children.iter().any(|n| n.label == "body: CreateSequence"
        && n.note.as_deref() == Some("WS-ReliableMessaging: opens a reliable sequence; AcksTo says where acknowledgements go")));
    // The second envelope names CreateSequence's namespace by the id the first one added.
    let soap2 = &envs[1].children[0];
    assert_eq!(soap2.value.as_deref(), Some("SignalConnector"));
    let seq = soap2
        .children
        .iter()
        .find(|n| n.label == "r:Sequence")
        .expect("the WS-RM header");
    assert_eq!(
        seq.note.as_deref(),
        Some("WS-ReliableMessaging: this message's number in the sequence")
    );
    let ctx = soap2
        .children
        .iter()
        .find(|n| n.label == "protocol context")
        .expect("explained");
    assert_eq!(ctx.value.as_deref(), Some("ConnectContext"));
    assert_eq!(
        ctx.child("ConnectionId").and_then(|n| n.value.as_deref()),
        Some("8457828f-e336-44bf-b967-4044b1478cc1")
    );
    assert!(
        all_nodes(soap2)
            .iter()
            .all(|n| !n.value.as_deref().unwrap_or("").contains("[[dict:"))
    );
    assert!(
        d.summary.contains("SignalConnector (ConnectContext)")
            && d.summary.contains("CreateSequence"),
        "{}",
        d.summary
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn a_delivery_split_over_transfers_is_assembled() {
    let message = described(0x77, str8("hello relay"));
    let (a, b) = message.split_at(5);
    let t = |more: u8| {
        described(
            0x14,
            list(&[
                vec![0x43],
                vec![0x43],
                vbin(&[7]),
                vec![0x43],
                vec![0x42],
                vec![more],
            ]),
        )
    };
    let stream = [
        header(0),
        frame(0, 0, &[t(0x41), a.to_vec()].concat()),
        frame(0, 0, &[t(0x42), b.to_vec()].concat()),
    ]
    .concat();
    let d = decode_ws(Some("wsrelayedamqp"), &ws(&stream, &[]));
    let amqp = node(&d, "client → service/amqp");
    let first = amqp.children[1].child("message").expect("a message node");
    assert!(
        first
            .value
            .as_deref()
            .unwrap_or("")
            .contains("5 byte(s) so far"),
        "{:?}",
        first.value
    );
    assert_eq!(
        node(&d, "amqp/transfer/message/amqp-value")
            .value
            .as_deref(),
        Some("hello relay")
    );
}

/// The golden cases in `tests/fixtures/relay/` are these vectors, byte for byte.
#[test]
fn the_golden_fixtures_are_the_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/relay");
    for (name, bytes) in [
        ("listener-client", listener_client()),
        ("listener-service", listener_service()),
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{name}.http"))).unwrap();
        let msg = crate::OwnedMessage::parse_http_text(&text).unwrap();
        assert_eq!(msg.body, bytes, "{name}.http");
    }
}
