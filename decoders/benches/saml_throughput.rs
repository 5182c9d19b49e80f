//! Throughput of the SAML decoder against its floor: MB/s of bare quick-xml event parsing over a
//! signed SAML 2.0 Response, versus the full `saml` decode of the same bytes (tree, claims,
//! exc-c14n, digest and RSA verification with a pinned certificate), and the ratio; then the time
//! to verify the assertion's signature alone on the parsed document (`dsig::verify`: reference
//! canonicalization and digest, SignedInfo canonicalization, RSA with the pinned certificate).
//!
//! Plain `std::time::Instant`, no bench framework: `cargo bench -p idscope-decoders --bench
//! saml_throughput`. The input is the `post_response_signed_assertion` golden fixture.

// A benchmark binary reads its own fixtures; a broken fixture should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

use idscope_decoders::xml::Document;
use idscope_decoders::xml::dsig::{self, TrustedCert, Verdict};
use idscope_decoders::{Context, Decoder, Message, OwnedMessage, Trust, saml::Saml, util};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

const RUN_FOR: Duration = Duration::from_secs(3);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/saml/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// Runs `f` repeatedly for about [`RUN_FOR`]; returns MB/s for `bytes` per call.
fn measure(label: &str, bytes: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..10 {
        f();
    }
    let start = Instant::now();
    let mut iters = 0u64;
    while start.elapsed() < RUN_FOR {
        for _ in 0..50 {
            f();
        }
        iters += 50;
    }
    let secs = start.elapsed().as_secs_f64();
    let mbps = (bytes as f64 * iters as f64) / secs / 1e6;
    println!(
        "{label:<48} {iters:>8} iterations  {:>9.1} µs/iter  {mbps:>8.1} MB/s",
        secs * 1e6 / iters as f64
    );
    mbps
}

fn main() {
    let http = String::from_utf8(fixture("post_response_signed_assertion.http")).unwrap();
    let msg = OwnedMessage::parse_http_text(&http).unwrap();
    let b64 = util::parse_form(&msg.body)
        .into_iter()
        .find(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v)
        .unwrap();
    let xml = util::b64_decode_any(&b64, 1 << 20).unwrap();
    let text = std::str::from_utf8(&xml).unwrap();
    let trust = Trust {
        certs: TrustedCert::from_pem_or_der(
            &fixture("post_response_signed_assertion.trust.pem"),
            "--trust-cert bench",
        )
        .unwrap(),
        ..Trust::default()
    };
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    let decoded = Saml.decode(&Message::blob(&xml), &cx).unwrap();
    assert!(
        decoded.summary.contains("signature verified"),
        "{}",
        decoded.summary
    );
    println!(
        "input: signed SAML 2.0 Response, {} bytes of XML ({})",
        xml.len(),
        decoded.summary
    );

    let floor = measure("quick-xml events only (floor)", xml.len(), || {
        let mut r = Reader::from_str(black_box(text));
        let mut n = 0usize;
        loop {
            match r.read_event() {
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => n += 1,
            }
        }
        black_box(n);
    });
    let full = measure(
        "full saml decode + signature verification",
        xml.len(),
        || {
            black_box(Saml.decode(&Message::blob(black_box(&xml)), &cx).unwrap());
        },
    );
    println!("ratio floor / full decode: {:.1}x", floor / full);

    let doc = Document::parse(text, &cx.limits).unwrap();
    let sig = dsig::find_signatures(&doc)[0];
    assert_eq!(
        dsig::verify(&doc, sig, &trust.certs).verdict,
        Verdict::Valid
    );
    let per_sig = measure("signature verification per assertion", xml.len(), || {
        black_box(dsig::verify(black_box(&doc), sig, &trust.certs));
    });
    println!(
        "signature verification: {:.1} µs per assertion",
        xml.len() as f64 / per_sig
    );
}
