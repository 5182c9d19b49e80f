//! The relay decoder against an independent AMQP 1.0 writer: `azure-servicebus`'s pure-Python
//! encoder (`azure.servicebus._pyamqp`) writes a listener conversation
//! (`tests/support/pyamqp_relay.py`), and every frame, the SAS token and the layers inside the
//! transfer must read back as written. Fails when the package is missing, unless
//! `IDSCOPE_SKIP_INTEROP` is set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "support/python.rs"]
mod python;
use python::python_with;

use idscope_decoders::relay::{WsMessage, decode_websocket};
use idscope_decoders::{Context, Kind, Node, Trust};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn labels(n: &Node) -> Vec<&str> {
    n.children.iter().map(|c| c.label.as_str()).collect()
}

#[test]
fn pyamqp_frames_decode_with_every_field_and_layer() {
    let Some(python) = python_with("azure.servicebus._pyamqp", "azure-servicebus") else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pyamqp_relay.py");
    let run = std::process::Command::new(&python)
        .arg(&script)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let (client, service) = (
        hex(v["client"].as_str().unwrap()),
        hex(v["service"].as_str().unwrap()),
    );
    let expect = &v["expect"];
    let messages = [
        WsMessage {
            from_client: true,
            data: &client,
        },
        WsMessage {
            from_client: false,
            data: &service,
        },
    ];
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    let d = decode_websocket(Some("wsrelayedamqp"), &messages, &cx)
        .expect("the relay")
        .expect("decodes");
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let at = |p: &str| d.root.find_path(p).unwrap_or_else(|| panic!("no {p}"));
    let value = |p: &str| at(p).value.clone().unwrap_or_default();

    let c = at("client → service/amqp");
    assert_eq!(
        labels(c),
        [
            "protocol header",
            "sasl-init",
            "protocol header",
            "open",
            "begin",
            "attach",
            "flow",
            "heartbeat",
            "disposition",
            "detach",
            "end",
            "close"
        ]
    );
    assert_eq!(
        value("client → service/amqp/sasl-init/mechanism"),
        "EXTERNAL"
    );
    assert_eq!(
        value("client → service/amqp/open/container-id"),
        expect["container"].as_str().unwrap()
    );
    assert_eq!(value("client → service/amqp/open/channel-max"), "8191");
    assert_eq!(value("client → service/amqp/begin/handle-max"), "262143");
    assert_eq!(
        value("client → service/amqp/attach/name"),
        "RelayLink_pyamqp:in"
    );
    assert_eq!(
        at("client → service/amqp/attach/role").note.as_deref(),
        Some("receiver")
    );
    assert_eq!(
        value("attach/source: source/address"),
        "sb://contoso-sb.servicebus.windows.net/svc/"
    );
    assert_eq!(value("attach/target: target/address"), "RelayLink_target");
    let swt = at("attach/properties/com.microsoft:swt");
    assert_eq!(
        (swt.kind, swt.value.as_deref()),
        (Kind::Secret, expect["sas"].as_str())
    );
    assert_eq!(value("client → service/amqp/flow/link-credit"), "1000");
    assert_eq!(value("client → service/amqp/detach/closed"), "true");

    let s = at("service → client/amqp");
    assert_eq!(
        labels(s),
        [
            "protocol header",
            "sasl-mechanisms",
            "sasl-outcome",
            "protocol header",
            "open",
            "transfer"
        ]
    );
    assert_eq!(value("sasl-outcome/code"), "0");
    assert_eq!(value("service → client/amqp/open/idle-time-out"), "240000");
    assert_eq!(
        value("transfer/message/properties/message-id"),
        expect["message_id"].as_str().unwrap()
    );
    assert_eq!(value("transfer/message/properties/subject"), "OnewaySend");
    assert_eq!(
        value("transfer/message/application-properties/TrackingId"),
        "7a3c"
    );
    assert_eq!(
        value("transfer/message/data/nmf/via"),
        expect["via"].as_str().unwrap()
    );
    assert_eq!(
        value("data/nmf/known encoding"),
        "0x07 (SOAP 1.2, binary ([MC-NBFS]))"
    );
    let soap = at("data/nmf/sized envelope/soap");
    assert_eq!(soap.value.as_deref(), Some("Inventory"));
    assert_eq!(value("sized envelope/soap/body: Inventory"), "0");
}
