#![no_main]
//! The bounded XML tree and exclusive canonicalization of its root.
use idscope_decoders::xml::{c14n, Document};
use idscope_decoders::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    if let Ok(doc) = Document::parse(text, &limits) {
        for with_comments in [false, true] {
            let opts = c14n::Options::new(c14n::Method { exclusive: true, with_comments });
            let _ = c14n::canonicalize(&doc, None, &opts, &limits);
        }
    }
});
