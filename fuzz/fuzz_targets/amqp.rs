#![no_main]
//! AMQP 1.0 framing on the Service Bus relay (`wsrelayedamqp`): the input after a SASL protocol
//! header, as frames, performatives, message sections and whatever their data sections hold.
use libfuzzer_sys::fuzz_target;
#[path = "relay_common.rs"]
mod relay_common;

fuzz_target!(|data: &[u8]| {
    relay_common::run("wsrelayedamqp", b"AMQP\x03\x01\x00\x00", data);
    // The input as the body of one AMQP frame, so the type reader sees every input.
    let mut frame = b"AMQP\x00\x01\x00\x00".to_vec();
    frame.extend_from_slice(&((data.len() + 8) as u32).to_be_bytes());
    frame.extend_from_slice(&[2, 0, 0, 0]);
    frame.extend_from_slice(data);
    relay_common::run("wsrelayedamqp", &frame, &[]);
    relay_common::run("wsrelayedamqp", &[], &[&[0u8][..], &frame].concat());
});
