// Shared by the Negotiate fuzz targets: the token as a blob, in `Authorization` and
// `WWW-Authenticate` headers (base64), and through `negotiate::token_facts`; the registry's
// outcomes are checked against the robustness invariants.
use idscope_decoders::negotiate::token_facts;
use idscope_decoders::Message;

#[path = "common.rs"]
mod common;

/// DER length octets of `n`.
pub fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=127 => vec![n as u8],
        128..=255 => vec![0x81, n as u8],
        256..=65535 => vec![0x82, (n >> 8) as u8, n as u8],
        _ => vec![0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8],
    }
}

/// A GSS-API InitialContextToken of the mechanism `oid` (DER content bytes) around `inner`.
pub fn gss_wrap(oid: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut body = vec![0x06, oid.len() as u8];
    body.extend_from_slice(oid);
    body.extend_from_slice(inner);
    let mut out = vec![0x60];
    out.extend(der_len(body.len()));
    out.extend(body);
    out
}

pub fn run(token: &[u8]) {
    let _ = token_facts(token);
    common::decode_all(&Message::blob(token));
    let b64 = base64_std(token);
    let auth = format!("Negotiate {b64}");
    common::decode_all(&Message::request(
        "GET",
        "https://sts.contoso.test/adfs/ls/wia",
        vec![("Authorization", auth.as_str())],
        b"",
    ));
    let challenge = format!("NTLM {b64}, Negotiate");
    common::decode_all(&Message::response(
        "GET",
        "https://sts.contoso.test/adfs/ls/wia",
        401,
        vec![("WWW-Authenticate", challenge.as_str())],
        b"",
    ));
}

fn base64_std(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
