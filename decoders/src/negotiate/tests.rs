use super::*;
use crate::{Decoder, Trust};
use proptest::prelude::*;
use std::time::UNIX_EPOCH;

/// Real tokens of every kind (see decoders/tests/fixtures/negotiate/README.md).
const SEEDS: &[&str] = &[
    include_str!("../../tests/fixtures/negotiate/spnego-ap-req.b64"),
    include_str!("../../tests/fixtures/negotiate/spnego-ap-rep.b64"),
    include_str!("../../tests/fixtures/negotiate/gss-krb5-krb-error.b64"),
    include_str!("../../tests/fixtures/negotiate/krb5-tgs-req-1.b64"),
    include_str!("../../tests/fixtures/negotiate/krb5-krb-error-2.b64"),
    include_str!("../../tests/fixtures/negotiate/krb5-as-rep-1.b64"),
    include_str!("../../tests/fixtures/negotiate/spnego-ntlm-2.b64"),
    include_str!("../../tests/fixtures/negotiate/ntlm-cbt-3.b64"),
    include_str!("../../tests/fixtures/negotiate/ntlm-v1-3.b64"),
];

fn seed(i: usize) -> Vec<u8> {
    util::b64_decode_any(SEEDS[i % SEEDS.len()].trim(), 1 << 20).unwrap_or_default()
}

/// Decodes `token` every way the decoder reads one; every error finding says where.
fn decode_every_way(token: &[u8]) {
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH, &trust);
    let _ = token_facts(token);
    let mut out = Out::new("t");
    let _ = inner_token(token, 0, &mut out);
    for f in &out.findings {
        assert!(!f.message.is_empty());
    }
    let blob = Message::blob(token);
    if Negotiate.priority(&blob) > 0.0 {
        Negotiate
            .decode(&blob, &cx)
            .expect("a blob it claims decodes");
    }
    let header = format!("Negotiate {}", util::b64_std(token));
    let msg = Message::request(
        "GET",
        "https://h/",
        vec![("Authorization", header.as_str())],
        b"",
    );
    let d = Negotiate.decode(&msg, &cx).expect("a header decodes");
    assert!(!d.summary.is_empty());
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_every_way(&data);
    }

    /// Real tokens with bytes changed and cut: deep paths through every structure.
    #[test]
    fn never_panics_on_damaged_real_tokens(
        which in 0usize..16,
        edits in prop::collection::vec((any::<u16>(), any::<u8>()), 0..6),
        cut in any::<u16>(),
    ) {
        let mut t = seed(which);
        for (at, b) in edits {
            let n = t.len().max(1);
            if let Some(x) = t.get_mut(usize::from(at) % n) {
                *x = b;
            }
        }
        let keep = usize::from(cut) % (t.len() + 1);
        t.truncate(keep.max(t.len() * 3 / 4).min(t.len()));
        decode_every_way(&t);
        t.truncate(keep);
        decode_every_way(&t);
    }

    #[test]
    fn never_panics_on_arbitrary_header_values(value in "[ -~]{0,200}", status in 100u16..600) {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        for h in HEADERS {
            let msg = Message::response("GET", "https://h/", status, vec![(*h, value.as_str())], b"");
            if Negotiate.priority(&msg) > 0.0 {
                prop_assert!(Negotiate.decode(&msg, &cx).is_ok());
            }
        }
    }
}

#[test]
fn a_blob_is_claimed_only_when_it_is_a_token() {
    let p = |b: &[u8]| Negotiate.priority(&Message::blob(b));
    assert_eq!(p(b"hello world, not a token"), 0.0);
    assert_eq!(p(b"`backquoted text`"), 0.0);
    assert_eq!(p(b"no"), 0.0);
    assert_eq!(p(b"{\"a\":1}"), 0.0);
    for s in SEEDS {
        assert_eq!(p(s.as_bytes()), 0.9, "{s}");
        let raw = util::b64_decode_any(s.trim(), 1 << 20).unwrap();
        assert_eq!(p(&raw), 0.9);
        assert_eq!(p(format!("Negotiate {}", s.trim()).as_bytes()), 0.9);
        assert_eq!(
            p(format!("Authorization: NTLM {}", s.trim()).as_bytes()),
            0.9
        );
    }
    // A message without a Negotiate-family header is not this decoder's.
    let m = Message::request(
        "GET",
        "https://h/",
        vec![("Authorization", "Bearer abc")],
        b"",
    );
    assert_eq!(Negotiate.priority(&m), 0.0);
}

#[test]
fn the_windows_version_is_named() {
    assert_eq!(ntlm_windows(10, 0, 26100), "Windows 11 24H2 / Server 2025");
    assert_eq!(ntlm_windows(6, 1, 7601), "Windows 7 / Server 2008 R2");
}

fn ntlm_windows(a: u8, b: u8, c: u16) -> &'static str {
    // The version node's note starts with the release name.
    let mut m = b"NTLMSSP\0\x01\0\0\0".to_vec();
    m.extend_from_slice(&0x0200_0000u32.to_le_bytes());
    m.extend_from_slice(&[0; 16]);
    m.extend_from_slice(&[a, b]);
    m.extend_from_slice(&c.to_le_bytes());
    m.extend_from_slice(&[0, 0, 0, 15]);
    let mut out = Out::new("t");
    let n = inner_token(&m, 0, &mut out);
    let note = n
        .find_path("Version")
        .and_then(|v| v.note.clone())
        .unwrap_or_default();
    [
        "Windows 11 24H2 / Server 2025",
        "Windows 7 / Server 2008 R2",
    ]
    .into_iter()
    .find(|w| note.starts_with(w))
    .unwrap_or("")
}

#[test]
fn binary_exchange_is_a_credential_element_and_the_schemes_are_the_policys() {
    assert!(secrets::is_secret_element("BinaryExchange"));
    assert!(secrets::is_negotiate_scheme("NTLM"));
    assert!(secrets::is_negotiate_scheme("negotiate"));
    assert!(!secrets::is_negotiate_scheme("Bearer"));
}
