#![no_main]
//! .NET binary XML: plain MC-NBFS, session (NBFSE) framing, and the registry's view of a msbin1 body.
use idscope_decoders::soap::nbfx;
use idscope_decoders::Message;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let opts = nbfx::DecodeOptions::default();
    // A refusal names a position inside the input (or a limit).
    let refused_inside = |e: &idscope_decoders::DecodeError| match e {
        idscope_decoders::DecodeError::Malformed { offset, .. } => {
            assert!(*offset as usize <= data.len(), "{e} beyond {} bytes", data.len())
        }
        idscope_decoders::DecodeError::TooLarge { .. } => {}
        other => panic!("unexpected error kind: {other:?}"),
    };
    if let Err(e) = nbfx::decode(data, &opts) {
        refused_inside(&e);
    }
    let mut session = nbfx::Session::new();
    if let (_, Some(e)) = session.decode_partial(data, &opts) {
        refused_inside(&e);
    }
    let msg = Message::response("POST", "https://adminwebservice.microsoftonline.com/provisioningservice.svc", 200,
        vec![("content-type", "application/soap+msbin1")], data);
    common::decode_all(&msg);
});
