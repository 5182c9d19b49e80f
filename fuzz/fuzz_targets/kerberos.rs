#![no_main]
//! Kerberos messages: the input as it is, and inside a Kerberos GSS-API token (TOK_ID 01 00), so
//! the Kerberos reader sees every input.
use libfuzzer_sys::fuzz_target;
#[path = "negotiate_common.rs"]
mod negotiate_common;

const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];

fuzz_target!(|data: &[u8]| {
    negotiate_common::run(data);
    let mut inner = vec![0x01, 0x00];
    inner.extend_from_slice(data);
    negotiate_common::run(&negotiate_common::gss_wrap(KRB5_OID, &inner));
});
