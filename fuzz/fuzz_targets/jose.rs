#![no_main]
//! JOSE JSON serializations (general and flattened JWS and JWE): parsing, and the view of what
//! parsed; every decoder on the same bytes.
use idscope_decoders::jwt;
use idscope_decoders::{DecodeError, Limits};
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match jwt::parse_json(text, &Limits::default()) {
        Ok(jose) => common::with_cx(|cx| {
            let d = jwt::explain_json(&jose, cx);
            common::invariants::check_decoded(&d, d.decoder, "fuzz JOSE JSON");
        }),
        Err(DecodeError::TooLarge { .. }) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    common::decode_all(&idscope_decoders::Message::blob(data));
});
