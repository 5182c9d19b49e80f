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

use crate::Trust;
use crate::relay::*;
use crate::soap::nbfx::{self, Style};
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
pub(crate) const NULL: u8 = 0x40;

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
pub(crate) const RELAY_ACCEPT: &[u8] = &[
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

pub(crate) const RELAY_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

pub(crate) fn ws<'a>(client: &'a [u8], service: &'a [u8]) -> Vec<WsMessage<'a>> {
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

pub(crate) fn decode_ws(protocol: Option<&str>, messages: &[WsMessage<'_>]) -> Decoded {
    with_cx(|cx| decode_websocket(protocol, messages, cx))
        .expect("a relay conversation")
        .expect("decodes")
}

pub(crate) fn node<'a>(d: &'a Decoded, path: &str) -> &'a Node {
    d.root.find_path(path).unwrap_or_else(|| {
        panic!(
            "no node {path} in {}",
            serde_json::to_string_pretty(&d.root).unwrap_or_default()
        )
    })
}

pub(crate) fn all_nodes(n: &Node) -> Vec<&Node> {
    let mut v = Vec::new();
    n.walk(&mut |_, x| v.push(x));
    v
}
