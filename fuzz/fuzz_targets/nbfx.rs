#![no_main]
//! .NET binary XML: plain MC-NBFS, session (NBFSE) framing, and the registry's view of a msbin1 body.
use idscope_decoders::soap::nbfx;
use idscope_decoders::Message;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let opts = nbfx::DecodeOptions::default();
    let _ = nbfx::decode(data, &opts);
    let mut session = nbfx::Session::new();
    let _ = session.decode_partial(data, &opts);
    let msg = Message::response("POST", "https://adminwebservice.microsoftonline.com/provisioningservice.svc", 200,
        vec![("content-type", "application/soap+msbin1")], data);
    common::decode_all(&msg);
});
