#![no_main]
//! Canonical XML 1.1 (with and without comments) of the whole document and of every element as
//! the apex, where 1.1 differs from 1.0 (inherited xml:* attributes, xml:base joined).
use idscope_decoders::xml::{c14n, Document};
use idscope_decoders::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    let Ok(doc) = Document::parse(text, &limits) else { return };
    for uri in [c14n::C14N11, c14n::C14N11_WITH_COMMENTS] {
        let opts = c14n::Options::from_uri(uri).expect("a C14N 1.1 URI");
        for apex in std::iter::once(None).chain(doc.elements().take(32).map(Some)) {
            match c14n::canonicalize(&doc, apex, &opts, &limits) {
                Ok(bytes) => assert_eq!(bytes.first(), Some(&b'<'), "canonical form of an element"),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
});
