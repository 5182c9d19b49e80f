//! Throughput of the SAML decoder against its floor: MB/s of bare quick-xml event parsing over a
//! signed SAML 2.0 Response, versus the full `saml` decode of the same bytes (tree, claims,
//! exc-c14n, digest and RSA verification with a pinned certificate), and the ratio; then the time
//! to verify the assertion's signature alone on the parsed document (`dsig::verify`: reference
//! canonicalization and digest, SignedInfo canonicalization, RSA with the pinned certificate),
//! the same for the generated samples of other algorithms (`tests/data/dsig/algorithms`: 1,024-bit
//! RSA, RSA-PSS, ECDSA P-256, a C14N 1.1 signature), and Canonical XML 1.1 against exclusive
//! canonicalization on the same document (the whole Response, and the Assertion subtree).
//!
//! Plain `std::time::Instant`, no bench framework: `cargo bench -p idscope-decoders --bench
//! saml_throughput`. The input is the `post_response_signed_assertion` golden fixture.

// A benchmark binary reads its own fixtures; a broken fixture should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant, UNIX_EPOCH};

use idscope_decoders::xml::Document;
use idscope_decoders::xml::c14n::{self, C14N11, Method, Options};
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

    let dir = format!("{}/tests/data/dsig/algorithms", env!("CARGO_MANIFEST_DIR"));
    for (file, cert) in [
        ("rsa1024_sha256.xml", "rsa1024_cert.pem"),
        ("rsa2048_pss_sha256.xml", "rsa2048_cert.pem"),
        ("ecdsa_p256_sha256.xml", "ec_p256_cert.pem"),
        ("c14n11_enveloped.xml", "rsa2048_cert.pem"),
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let keys =
            TrustedCert::from_pem_or_der(&std::fs::read(format!("{dir}/{cert}")).unwrap(), cert)
                .unwrap();
        let doc = Document::parse(&text, &cx.limits).unwrap();
        let sig = dsig::find_signatures(&doc)[0];
        assert_eq!(
            dsig::verify(&doc, sig, &keys).verdict,
            Verdict::Valid,
            "{file}"
        );
        let mbps = measure(&format!("verify {file}"), text.len(), || {
            black_box(dsig::verify(black_box(&doc), sig, &keys));
        });
        println!("  {file}: {:.1} µs per signature", text.len() as f64 / mbps);
    }

    let assertion = doc
        .elements()
        .find(|e| doc.local_name(*e) == "Assertion")
        .unwrap();
    let exclusive = Options::new(Method::EXCLUSIVE);
    let v11 = Options::from_uri(C14N11).unwrap();
    for (label, apex) in [
        ("whole Response", doc.root()),
        ("Assertion subtree", Some(assertion)),
    ] {
        let out = c14n::canonicalize(&doc, apex, &exclusive, &cx.limits).unwrap();
        let exc = measure(&format!("exc-c14n, {label}"), out.len(), || {
            black_box(c14n::canonicalize(black_box(&doc), apex, &exclusive, &cx.limits).unwrap());
        });
        let out11 = c14n::canonicalize(&doc, apex, &v11, &cx.limits).unwrap();
        let c11 = measure(&format!("C14N 1.1, {label}"), out11.len(), || {
            black_box(c14n::canonicalize(black_box(&doc), apex, &v11, &cx.limits).unwrap());
        });
        // Time per call, from MB/s over each one's own output.
        let t_exc = out.len() as f64 / exc;
        let t_c11 = out11.len() as f64 / c11;
        println!(
            "  {label}: exc-c14n {t_exc:.1} µs, C14N 1.1 {t_c11:.1} µs, C14N 1.1 / exc-c14n {:.2}x",
            t_c11 / t_exc
        );
    }
}
