#![no_main]
//! NTLM messages: the input after the `NTLMSSP\0` signature, its first byte choosing the message
//! type (1, 2 or 3), so the bounded reader sees every input as each message.
use libfuzzer_sys::fuzz_target;
#[path = "negotiate_common.rs"]
mod negotiate_common;

fuzz_target!(|data: &[u8]| {
    negotiate_common::run(data);
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let mut msg = b"NTLMSSP\0".to_vec();
    msg.extend_from_slice(&[first % 3 + 1, 0, 0, 0]);
    msg.extend_from_slice(rest);
    negotiate_common::run(&msg);
});
