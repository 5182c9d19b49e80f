#![no_main]
//! SAML and WS-Fed: the raw XML as a blob, the HTTP-POST binding (base64 form field), the
//! HTTP-Redirect binding (query parameter) and a wresult form.
use idscope_decoders::util::b64_std;
use idscope_decoders::Message;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_all(&Message::blob(data));
    let b64 = b64_std(data);
    let form = format!("SAMLResponse={}&RelayState=x", urlenc(&b64));
    common::decode_all(&Message::request("POST", "https://login.microsoftonline.com/login.srf",
        vec![("content-type", "application/x-www-form-urlencoded")], form.as_bytes()));
    let url = format!("https://sts.contoso.test/adfs/ls/?SAMLRequest={}&SigAlg=x&Signature=y", urlenc(&b64));
    common::decode_all(&Message::request("GET", &url, vec![], b""));
    let text = String::from_utf8_lossy(data);
    let wresult = format!("wa=wsignin1.0&wresult={}&wctx=a", urlenc(&text));
    common::decode_all(&Message::request("POST", "https://login.microsoftonline.com/login.srf",
        vec![("content-type", "application/x-www-form-urlencoded")], wresult.as_bytes()));
});

fn urlenc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
