//! Test vectors for the relay layers, and which is which:
//!
//! * **From the specifications** (built here byte by byte; the helpers below cite the section
//!   each encoding comes from): AMQP 1.0 part 1.6 (format codes), 2.3.1 (frame layout), 2.7.x
//!   (performative fields) and 5.3.3 (SASL); MC-NMF 2.2.3 (records).
//! * **From public captures/reconstructions** (byte sequences copied from the public sources,
//!   marked `AADInternals` or `PTAAgentDump` where used): AADInternals `AMQP.ps1`
//!   (`New-AMQPBegin`, `New-AMQPFlow`, `New-AMQPDisposition`, `New-AMQPDetach`, `New-AMQPEnd`,
//!   `New-AMQPClose`, `New-RelayConnect`, `New-RelayAccept`, `New-RelayProxyConnectReply`),
//!   AADInternals `MSAppProxy_utils.ps1` (`$AMQP3`, `$AMQP0`, `$EmptyAMQPHeader`), and the
//!   layout of the MC-NMF preamble secureworks PTAAgentDump dumps (`ParseRelayMessage`).
//! * **Written with this crate's own MC-NBFSE encoder** (`nbfx::encode_session`) from the SOAP
//!   text PTAAgentDump documents: the `SignalConnector` envelopes (no public bytes exist for
//!   them); the reader is checked against the specification's own examples in `soap::nbfx`.

use super::*;
use crate::soap::nbfx::{self, Style};
use crate::{Trust, view::Kind};
use std::time::{Duration, UNIX_EPOCH};

pub(crate) fn with_cx<T>(f: impl FnOnce(&Context<'_>) -> T) -> T {
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    f(&cx)
}

// --- AMQP 1.0 encodings (part 1.6) -----------------------------------------------------------

/// 1.6.20 str8-utf8 (0xa1) / 1.6.20 str32-utf8 (0xb1).
pub(crate) fn str8(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    if b.len() < 256 {
        [&[0xa1, b.len() as u8][..], b].concat()
    } else {
        [&[0xb1][..], &(b.len() as u32).to_be_bytes(), b].concat()
    }
}
/// 1.6.21 sym8 (0xa3).
pub(crate) fn sym8(s: &str) -> Vec<u8> {
    [&[0xa3, s.len() as u8][..], s.as_bytes()].concat()
}
/// 1.6.19 vbin8 (0xa0) / vbin32 (0xb0).
pub(crate) fn vbin(b: &[u8]) -> Vec<u8> {
    if b.len() < 256 {
        [&[0xa0, b.len() as u8][..], b].concat()
    } else {
        [&[0xb0][..], &(b.len() as u32).to_be_bytes(), b].concat()
    }
}
/// 1.6.8 uint (0x70).
pub(crate) fn uint(n: u32) -> Vec<u8> {
    [&[0x70][..], &n.to_be_bytes()].concat()
}
/// 1.6.22 list32 (0xd0): size counts the count field and the items.
pub(crate) fn list(items: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    [
        &[0xd0][..],
        &((body.len() + 4) as u32).to_be_bytes(),
        &(items.len() as u32).to_be_bytes(),
        &body,
    ]
    .concat()
}
/// 1.6.23 map8 (0xc1): count is keys plus values.
pub(crate) fn map8(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let body: Vec<u8> = pairs
        .iter()
        .flat_map(|(k, v)| [k.clone(), v.clone()].concat())
        .collect();
    [
        &[0xc1, (body.len() + 1) as u8, (pairs.len() * 2) as u8][..],
        &body,
    ]
    .concat()
}
/// 1.2 described type with a smallulong (0x53) descriptor code.
pub(crate) fn described(code: u8, v: Vec<u8>) -> Vec<u8> {
    [&[0x00, 0x53, code][..], &v].concat()
}
/// 2.3.1 frame: size, doff = 2, type (0 AMQP, 1 SASL), channel, body.
pub(crate) fn frame(ftype: u8, channel: u16, body: &[u8]) -> Vec<u8> {
    [
        &((body.len() + 8) as u32).to_be_bytes()[..],
        &[2, ftype],
        &channel.to_be_bytes(),
        body,
    ]
    .concat()
}
/// 2.2 protocol header: `AMQP`, id, 1, 0, 0.
pub(crate) fn header(id: u8) -> Vec<u8> {
    vec![b'A', b'M', b'Q', b'P', id, 1, 0, 0]
}
const NULL: u8 = 0x40;

// --- MC-NMF records (2.2.3) ------------------------------------------------------------------

/// MC-NMF 2.2.2 MultiByteInt31.
pub(crate) fn mb31(mut n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    while n >= 0x80 {
        v.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    v.push(n as u8);
    v
}
/// Version 1.0, mode duplex, via, known encoding 0x08, preamble end (2.2.3.1-2.2.3.4, 2.2.3.13):
/// the layout of the preamble PTAAgentDump's `ParseRelayMessage` dumps
/// (`00 01 00 01 02 02 7C sb://… 03 08 0C`).
pub(crate) fn preamble(via: &str) -> Vec<u8> {
    [
        &[0x00, 0x01, 0x00, 0x01, 0x02, 0x02][..],
        &mb31(via.len()),
        via.as_bytes(),
        &[0x03, 0x08, 0x0c],
    ]
    .concat()
}
/// 2.2.3.7 sized envelope.
pub(crate) fn sized(env: &[u8]) -> Vec<u8> {
    [&[0x06][..], &mb31(env.len()), env].concat()
}

pub(crate) const SAS: &str = "SharedAccessSignature sr=http%3a%2f%2fcontoso-sb.servicebus.windows.net%2fsvc%2f&sig=Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA%3d%3d&se=1700003600&skn=RootManageSharedAccessKey";

pub(crate) const PASSWORD_VALIDATION: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://tempuri.org/IConnectorSignalingService/SignalConnector</a:Action><a:MessageID>urn:uuid:5a445862-847b-44f6-a076-3a42ba286999</a:MessageID><a:To s:mustUnderstand="1">sb://contoso-sb.servicebus.windows.net/svc_reliable</a:To></s:Header><s:Body><SignalConnector xmlns="http://tempuri.org/"><messageProperties xmlns:b="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.SignalingDataModel" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><RequestId xmlns="http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.Common.RequestContexts">dff0f331-bb52-4cd0-9b6f-b741343d6d00</RequestId><b:ReturnHost>proxy.connector.his.msappproxy.net</b:ReturnHost><b:ReturnPort>10100</b:ReturnPort><b:TunnelContext><ProtocolContext i:type="PasswordValidationContext" xmlns=""><TrafficProtocol>PasswordValidation</TrafficProtocol><Domain>CONTOSO</Domain><EncryptedData><b:EncryptedOnPremValidationData><b:Base64EncryptedData>cGFzc3dvcmQtY2lwaGVydGV4dC1mb3ItYWdlbnQtb25l</b:Base64EncryptedData><b:KeyIdentifer>11111111-2222-3333-4444-555555555555_44C483C48946CF3BAC85D22018EB134FB4B6460D</b:KeyIdentifer></b:EncryptedOnPremValidationData></EncryptedData><Password/><UserPrincipalName>alice@contoso.com</UserPrincipalName></ProtocolContext></b:TunnelContext></messageProperties></SignalConnector></s:Body></s:Envelope>"#;

/// The listener's side of a `wsrelayedamqp` conversation, spec-built: SASL EXTERNAL, open,
/// begin, and the attach whose properties carry the SAS token (2.7.3; the property names are
/// those of AADInternals `New-AMQPAttach`).
pub(crate) fn listener_client() -> Vec<u8> {
    let source = described(
        0x28,
        list(&[str8("sb://contoso-sb.servicebus.windows.net/svc/")]),
    );
    let attach = described(
        0x12,
        list(&[
            str8("RelayLink_7d3c:in"),
            vec![0x43],
            vec![0x41],
            vec![NULL],
            vec![NULL],
            source,
            vec![NULL],
            vec![NULL],
            vec![NULL],
            vec![NULL],
            vec![NULL],
            vec![NULL],
            vec![NULL],
            map8(&[
                (sym8("com.microsoft:swt"), str8(SAS)),
                (
                    sym8("com.microsoft:listener-type"),
                    str8("RelayedConnection"),
                ),
            ]),
        ]),
    );
    [
        header(3),
        frame(1, 0, &described(0x41, list(&[sym8("EXTERNAL")]))),
        header(0),
        frame(
            0,
            0,
            &described(
                0x10,
                list(&[
                    str8("RelayConnection_1"),
                    str8("contoso-sb-relay.servicebus.windows.net"),
                    uint(65536),
                ]),
            ),
        ),
        frame(
            0,
            0,
            &described(
                0x11,
                list(&[vec![NULL], vec![0x52, 1], uint(5000), uint(5000)]),
            ),
        ),
        frame(0, 0, &attach),
    ]
    .concat()
}

/// The service's side: SASL mechanisms and outcome, open, begin, and a transfer whose data
/// section holds MC-NMF records with the password-validation signal in binary session XML.
pub(crate) fn listener_service() -> Vec<u8> {
    let mut session = nbfx::Session::new();
    let env = nbfx::encode_session(PASSWORD_VALIDATION, Style::DataContract, &mut session)
        .expect("encodes");
    let nmf = [
        preamble("sb://contoso-sb.servicebus.windows.net/svc_reliable"),
        sized(&env),
    ]
    .concat();
    let message = [
        described(
            0x73,
            list(&[
                str8("msg-1"),
                vec![NULL],
                str8("sb://contoso-sb.servicebus.windows.net/svc/"),
            ]),
        ),
        described(0x75, vbin(&nmf)),
    ]
    .concat();
    let transfer = described(
        0x14,
        list(&[
            vec![0x43],
            vec![0x43],
            vbin(&[0, 0, 0, 1]),
            vec![0x43],
            vec![0x41],
        ]),
    );
    [
        header(3),
        frame(
            1,
            0,
            &described(
                0x40,
                list(&[[&[0xe0, 11, 1, 0xa3, 8][..], b"EXTERNAL"].concat()]),
            ),
        ),
        frame(1, 0, &described(0x44, list(&[vec![0x50, 0]]))),
        header(0),
        frame(0, 0, &described(0x10, list(&[str8("relay-container")]))),
        frame(0, 0, &[transfer, message].concat()),
    ]
    .concat()
}

/// AADInternals `AMQP.ps1` `New-RelayAccept` (the bytes before the id).
const RELAY_ACCEPT: &[u8] = &[
    0x56, 0x02, 0x0B, 0x01, 0x73, 0x04, 0x0B, 0x01, 0x61, 0x06, 0x56, 0x08, 0x44, 0x0A, 0x1E, 0x00,
    0x82, 0x99, 0x0D, 0x52, 0x65, 0x6C, 0x61, 0x79, 0x65, 0x64, 0x41, 0x63, 0x63, 0x65, 0x70, 0x74,
    0x44, 0x0C, 0x1E, 0x00, 0x82, 0x99, 0x46, 0x68, 0x74, 0x74, 0x70, 0x3A, 0x2F, 0x2F, 0x73, 0x63,
    0x68, 0x65, 0x6D, 0x61, 0x73, 0x2E, 0x6D, 0x69, 0x63, 0x72, 0x6F, 0x73, 0x6F, 0x66, 0x74, 0x2E,
    0x63, 0x6F, 0x6D, 0x2F, 0x32, 0x30, 0x30, 0x35, 0x2F, 0x31, 0x32, 0x2F, 0x53, 0x65, 0x72, 0x76,
    0x69, 0x63, 0x65, 0x4D, 0x6F, 0x64, 0x65, 0x6C, 0x2F, 0x41, 0x64, 0x64, 0x72, 0x65, 0x73, 0x73,
    0x69, 0x6E, 0x67, 0x2F, 0x41, 0x6E, 0x6F, 0x6E, 0x79, 0x6D, 0x6F, 0x75, 0x73, 0x01, 0x56, 0x0E,
    0x40, 0x0D, 0x52, 0x65, 0x6C, 0x61, 0x79, 0x65, 0x64, 0x41, 0x63, 0x63, 0x65, 0x70, 0x74, 0x08,
    0x43, 0x68, 0x74, 0x74, 0x70, 0x3A, 0x2F, 0x2F, 0x73, 0x63, 0x68, 0x65, 0x6D, 0x61, 0x73, 0x2E,
    0x6D, 0x69, 0x63, 0x72, 0x6F, 0x73, 0x6F, 0x66, 0x74, 0x2E, 0x63, 0x6F, 0x6D, 0x2F, 0x6E, 0x65,
    0x74, 0x73, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x73, 0x2F, 0x32, 0x30, 0x30, 0x39, 0x2F, 0x30,
    0x35, 0x2F, 0x73, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x62, 0x75, 0x73, 0x2F, 0x63, 0x6F, 0x6E,
    0x6E, 0x65, 0x63, 0x74, 0x09, 0x01, 0x69, 0x29, 0x68, 0x74, 0x74, 0x70, 0x3A, 0x2F, 0x2F, 0x77,
    0x77, 0x77, 0x2E, 0x77, 0x33, 0x2E, 0x6F, 0x72, 0x67, 0x2F, 0x32, 0x30, 0x30, 0x31, 0x2F, 0x58,
    0x4D, 0x4C, 0x53, 0x63, 0x68, 0x65, 0x6D, 0x61, 0x2D, 0x69, 0x6E, 0x73, 0x74, 0x61, 0x6E, 0x63,
    0x65, 0x40, 0x02, 0x49, 0x64, 0x99, 0x24,
];

const RELAY_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

fn ws<'a>(client: &'a [u8], service: &'a [u8]) -> Vec<WsMessage<'a>> {
    vec![
        WsMessage {
            from_client: true,
            data: client,
        },
        WsMessage {
            from_client: false,
            data: service,
        },
    ]
}

fn decode_ws(protocol: Option<&str>, messages: &[WsMessage<'_>]) -> Decoded {
    with_cx(|cx| decode_websocket(protocol, messages, cx))
        .expect("a relay conversation")
        .expect("decodes")
}

fn node<'a>(d: &'a Decoded, path: &str) -> &'a Node {
    d.root.find_path(path).unwrap_or_else(|| {
        panic!(
            "no node {path} in {}",
            serde_json::to_string_pretty(&d.root).unwrap_or_default()
        )
    })
}

fn all_nodes(n: &Node) -> Vec<&Node> {
    let mut v = Vec::new();
    n.walk(&mut |_, x| v.push(x));
    v
}

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

// --- Bad input --------------------------------------------------------------------------------

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
