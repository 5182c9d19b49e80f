#![no_main]
//! .NET Message Framing on the Service Bus relay (`wsrelayedconnection`): the input after an
//! MC-NMF preamble that chose binary session XML, as records, envelopes and their binary XML,
//! and the input as one sized envelope.
use libfuzzer_sys::fuzz_target;
#[path = "relay_common.rs"]
mod relay_common;

const PREAMBLE: &[u8] = b"\x00\x01\x00\x01\x02\x02\x07sb://x/\x03\x08\x0c";

fn mb31(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fuzz_target!(|data: &[u8]| {
    relay_common::run("wsrelayedconnection", PREAMBLE, data);
    let mut sized = PREAMBLE.to_vec();
    sized.push(0x06);
    mb31(data.len(), &mut sized);
    sized.extend_from_slice(data);
    relay_common::run("wsrelayedconnection", &[], &[&[0u8][..], &sized].concat());
});
