#![no_main]
//! Every decoder, on a body presented as request, response and blob with a few content types.
use idscope_decoders::Message;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_all(&Message::blob(data));
    for (ct, url) in [
        ("application/json", "https://login.microsoftonline.com/common/oauth2/token"),
        ("application/x-www-form-urlencoded", "https://login.microsoftonline.com/common/oauth2/v2.0/token"),
        ("application/scim+json", "https://scim.contoso.test/scim/v2/Users"),
        ("text/html", "https://sts.contoso.test/adfs/ls/"),
    ] {
        common::decode_all(&Message::request("POST", url, vec![("content-type", ct)], data));
        common::decode_all(&Message::response("POST", url, 200, vec![("content-type", ct)], data));
    }
});
