#![no_main]
//! JWT/JWE parsing and explanation; and the invariant that a parsed JWS header re-serializes to
//! JSON that parses back to the same value.
use idscope_decoders::jwt;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(token) = jwt::parse(text) {
        let again: serde_json::Value = serde_json::from_str(&token.header.to_string()).expect("header re-parses");
        assert_eq!(again, token.header);
        common::with_cx(|cx| {
            let d = jwt::explain(&token, cx);
            common::invariants::check_decoded(&d, d.decoder, "fuzz token");
        });
    }
    common::decode_all(&idscope_decoders::Message::blob(data));
});
