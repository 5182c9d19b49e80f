#![no_main]
//! SPNEGO and GSS-API framing: the input as it is, and as the innerContextToken of a SPNEGO
//! InitialContextToken (so the NegTokenInit / NegTokenResp reader sees every input).
use libfuzzer_sys::fuzz_target;
#[path = "negotiate_common.rs"]
mod negotiate_common;

const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

fuzz_target!(|data: &[u8]| {
    negotiate_common::run(data);
    negotiate_common::run(&negotiate_common::gss_wrap(SPNEGO_OID, data));
});
