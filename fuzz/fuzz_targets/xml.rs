#![no_main]
//! The bounded XML tree and exclusive canonicalization of its root.
use idscope_decoders::xml::{c14n, Document};
use idscope_decoders::{DecodeError, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    match Document::parse(text, &limits) {
        Ok(doc) => {
            for with_comments in [false, true] {
                let opts = c14n::Options::new(c14n::Method { exclusive: true, with_comments });
                match c14n::canonicalize(&doc, None, &opts, &limits) {
                    Ok(bytes) => assert_eq!(bytes.first(), Some(&b'<'), "canonical form of a document"),
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
        // A refusal names a byte offset inside the text (or a limit).
        Err(DecodeError::Xml { offset, message }) => {
            assert!(offset as usize <= text.len() && !message.is_empty(), "{offset}: {message}")
        }
        Err(DecodeError::TooLarge { .. }) => {}
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
});
