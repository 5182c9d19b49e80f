#![no_main]
//! XML Encryption: every `xenc:EncryptedData` read, opened with fixed AES keys (key wrap and
//! content keys of each size), and shown; every decoder on the same bytes.
use std::time::{Duration, UNIX_EPOCH};

use idscope_decoders::keys::{DecryptionKey, KeyMaterial, Keys};
use idscope_decoders::xml::{enc, Document};
use idscope_decoders::Limits;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_all(&idscope_decoders::Message::blob(data));
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits = Limits::default();
    let Ok(doc) = Document::parse(text, &limits) else { return };
    let keys = Keys {
        keys: [16usize, 24, 32]
            .into_iter()
            .map(|n| DecryptionKey {
                material: KeyMaterial::Symmetric((0..n as u8).collect()),
                source: format!("fuzz key {n}"),
                kid: None,
            })
            .collect(),
    };
    let mut budget = enc::Budget::default();
    for el in doc.elements().filter(|e| doc.is(*e, enc::XENC_NS, "EncryptedData")).take(8) {
        let ed = enc::EncryptedData::parse(&doc, el, &limits);
        let out = enc::decrypt(&ed, &keys, &mut budget, &|_| Ok(()));
        assert!(out.attempts.len() <= keys.keys.len());
        let nodes = ed.to_nodes(&doc, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert!(!nodes.is_empty());
    }
});
