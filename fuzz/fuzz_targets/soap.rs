#![no_main]
//! SOAP bodies as text and as msbin1, through every applicable decoder.
use idscope_decoders::Message;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    for ct in ["application/soap+xml; charset=utf-8", "text/xml", "application/soap+msbin1"] {
        let msg = Message::request("POST", "https://adminwebservice.microsoftonline.com/provisioningservice.svc",
            vec![("content-type", ct)], data);
        common::decode_all(&msg);
    }
});
