//! SAML 2.0: assertions, encrypted assertions, the protocol messages (`Response`, `AuthnRequest`,
//! `LogoutRequest`, `LogoutResponse`) and their bindings, plus the [`Saml`] decoder.
//!
//! Bindings: HTTP-Redirect (query `SAMLRequest`/`SAMLResponse` = base64 of raw DEFLATE, inflated
//! by [`inflate_redirect`] under [`crate::Limits::max_inflate`]; `RelayState`, `SigAlg` and
//! `Signature`, the signature checked over the exact query octets as received), HTTP-POST (form
//! fields, base64 without deflate), the IdP's auto-POST HTML page, and bare documents (a blob of
//! XML or base64 of XML, as the `oauth` decoder passes the `assertion` of a SAML-bearer grant).
//!
//! Encrypted assertions, identifiers and attributes are shown with their algorithms and keys, and
//! opened with the user's decryption keys ([`with_decrypted`]); what a key opens is explained as
//! if it had been sent in clear.
//!
//! Not responsible for WS-Fed `wresult`s (see [`super::wsfed`]) or WS-Trust bodies (see
//! [`super::wstrust`]), for XML Encryption itself ([`crate::xml::enc`]), or for XML-DSig itself
//! ([`crate::xml::dsig`]).

use super::{Focus, contains, contains_ci, explain_document, mentions_saml};
use crate::html::find_form;
use crate::view::Node;
use crate::{Context, DecodeError, Decoded, Message, util};

mod assertion;
mod encrypted;
mod post;
mod protocol;
mod redirect;

pub use assertion::explain_assertion;
pub(crate) use encrypted::opened;
pub use encrypted::{Layers, MAX_ENCRYPTED_ELEMENTS, explain_encrypted, with_decrypted};
pub use post::host_path;
pub use protocol::explain_protocol;
pub use redirect::{Compression, inflate_redirect};

use post::{decode_post, decode_post_value};
use redirect::{PARAMS, decode_redirect};

decoder! {
    /// The SAML 2.0 bindings decoder (`saml`): HTTP-Redirect and HTTP-POST messages, the IdP's
    /// auto-POST page, `Location` redirects carrying `SAMLRequest`, and bare assertions, responses
    /// and requests (XML, or base64 of XML).
    pub struct Saml: "saml";
}

fn redirect_url<'a>(msg: &Message<'a>) -> Option<&'a str> {
    let has = |u: &str| {
        util::url_query(u).is_some_and(|q| {
            q.split('&')
                .any(|p| p.starts_with("SAMLRequest=") || p.starts_with("SAMLResponse="))
        })
    };
    if msg.is_request() {
        msg.url.filter(|u| has(u))
    } else if msg.is_response() {
        msg.header("location").filter(|u| has(u))
    } else {
        None
    }
}

/// Cheap test for a blob that is base64 of XML mentioning SAML.
fn base64_saml_blob(body: &[u8]) -> bool {
    let t = body.trim_ascii();
    let head = t.get(..t.len().min(4096)).unwrap_or(t);
    let head = head.get(..head.len() / 4 * 4).unwrap_or(head);
    // `<` in base64 starts with P, and `<?` and `<s` with PD and PH: two bytes rule out almost
    // every body before any of it is validated (`priority` looks at every response).
    if !head.starts_with(b"PH") && !head.starts_with(b"PD") {
        return false;
    }
    let Ok(s) = std::str::from_utf8(head) else {
        return false;
    };
    if !util::is_base64ish(s.trim_end_matches('=')) {
        return false;
    }
    util::b64_decode_any(s, 4096).is_some_and(|x| mentions_saml(&x))
}

fn priority(msg: &Message<'_>) -> f32 {
    if redirect_url(msg).is_some() {
        return 0.9;
    }
    let head = msg.body.get(..8192).unwrap_or(msg.body);
    if msg.is_request()
        && util::looks_like_form(head)
        && (contains(head, b"SAMLResponse=") || contains(head, b"SAMLRequest="))
    {
        return 0.9;
    }
    if msg.is_response()
        && (contains_ci(msg.body, b"name=\"SAMLResponse\"")
            || contains_ci(msg.body, b"name=\"SAMLRequest\"")
            || contains_ci(msg.body, b"name='SAMLResponse'"))
    {
        return 0.85;
    }
    let trimmed = head.trim_ascii_start();
    let trimmed = trimmed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(trimmed);
    if trimmed.starts_with(b"<") && mentions_saml(head) {
        if contains_ci(head, b"<html") || contains_ci(head, b"<form") {
            // A page (the WS-Fed auto-POST) that mentions SAML in an encoded input.
            return 0.0;
        }
        if contains(head, super::MD_NS.as_bytes()) {
            // Metadata names SAML namespaces but is not a SAML message.
            return 0.0;
        }
        if contains(head, super::WST_2005.as_bytes()) || contains(head, super::WST_13.as_bytes()) {
            // The wstrust decoder explains the whole message; this view shows the token.
            return 0.5;
        }
        return 0.8;
    }
    if base64_saml_blob(msg.body) {
        return 0.8;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "SAML message body")?;
    if let Some(url) = redirect_url(msg) {
        return decode_redirect(url, msg.is_response(), cx);
    }
    let head = msg.body.get(..8192).unwrap_or(msg.body);
    if msg.is_request() && util::looks_like_form(head) {
        let form = util::parse_form(msg.body);
        if form.iter().any(|(k, _)| PARAMS.contains(&k.as_str())) {
            return decode_post(&form, msg.url, "HTTP-POST binding", cx);
        }
    }
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    let trimmed = text.trim_start();
    if msg.is_response() && !trimmed.starts_with("<?xml") && find_form(text).is_some() {
        let form = find_form(text).ok_or(DecodeError::Missing("form"))?;
        if form
            .inputs
            .iter()
            .any(|(k, _)| PARAMS.contains(&k.as_str()))
        {
            let mut d = decode_post(
                &form.inputs,
                form.action.as_deref(),
                "auto-POST HTML page",
                cx,
            )?;
            d.summary = format!(
                "auto-POST page to {}: {}",
                form.action
                    .as_deref()
                    .map_or("(no action)".into(), host_path),
                d.summary
            );
            return Ok(d);
        }
    }
    if trimmed.starts_with('<') {
        return explain_document(trimmed, "saml", cx, msg.url, Focus::Saml);
    }
    let xml = decode_post_value(trimmed, "body", cx)?;
    let mut d = explain_document(xml.trim_start(), "saml", cx, msg.url, Focus::Saml)?;
    d.root = Node::section("base64")
        .with_note("the blob is base64 of the XML below")
        .with_child(d.root);
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Limits;
    use crate::{Registry, Trust};
    use std::io::Write as _;
    use std::time::{Duration, UNIX_EPOCH};

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn deflate_bomb_is_capped_with_too_large() {
        let bomb = deflate(&vec![b'<'; 4 << 20]);
        assert!(bomb.len() < 16 << 10);
        let limits = Limits {
            max_inflate: 1 << 20,
            ..Limits::default()
        };
        let err = inflate_redirect(&util::b64_std(&bomb), "SAMLRequest", &limits).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "inflated SAML message",
                limit: 1 << 20
            }
        );
    }

    #[test]
    fn bad_base64_names_the_parameter() {
        let err = inflate_redirect("not*base64!", "SAMLRequest", &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Base64 {
                field: "SAMLRequest"
            }
        );
        assert_eq!(err.to_string(), "field `SAMLRequest` is not valid base64");
    }

    #[test]
    fn redirect_inflate_falls_back_to_zlib_and_plain() {
        let xml = b"<samlp:AuthnRequest/>";
        let (out, c) =
            inflate_redirect(&util::b64_std(&deflate(xml)), "x", &Limits::default()).unwrap();
        assert_eq!((out.as_slice(), c), (&xml[..], Compression::RawDeflate));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(xml).unwrap();
        let (out, c) = inflate_redirect(
            &util::b64_std(&z.finish().unwrap()),
            "x",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!((out.as_slice(), c), (&xml[..], Compression::Zlib));
        let (out, c) = inflate_redirect(&util::b64_std(xml), "x", &Limits::default()).unwrap();
        assert_eq!((out.as_slice(), c), (&xml[..], Compression::None));
        // Spaces that were `+` before a second URL decoding are repaired.
        let b64 = util::b64_std(&deflate(b"<a>>>>>>>>>>>>>>>>>>>>>>>>>>>?</a>"));
        assert!(inflate_redirect(&b64.replace('+', " "), "x", &Limits::default()).is_ok());
    }

    #[test]
    fn post_binding_with_bad_base64_is_an_exact_error() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let msg = Message::request(
            "POST",
            "https://login.microsoftonline.com/login.srf",
            vec![("content-type", "application/x-www-form-urlencoded")],
            b"SAMLResponse=%%%%&RelayState=x",
        );
        assert_eq!(
            Saml.decode(&msg, &cx).unwrap_err(),
            DecodeError::Base64 {
                field: "SAMLResponse"
            }
        );
    }

    #[test]
    fn bare_assertion_blob_is_decoded_through_the_registry() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let xml = br#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a" Version="2.0" IssueInstant="2023-11-14T22:00:00Z"><saml:Issuer>https://idp/</saml:Issuer><saml:Subject><saml:NameID>lHh/rEL830q6/mStDnD4uw==</saml:NameID></saml:Subject></saml:Assertion>"#;
        let d = cx.decode_nested(xml).unwrap();
        assert_eq!(d.decoder, "saml");
        assert!(d.summary.contains("ac7f7894-"), "{}", d.summary);
        let b64 = util::b64_std(xml);
        let d = Registry::builtin()
            .best(&Message::blob(b64.as_bytes()), &cx)
            .unwrap();
        assert_eq!(d.decoder, "saml");
    }

    #[test]
    fn hostile_inputs_are_refused_saying_why() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let refused =
            |r: Result<Decoded, DecodeError>| r.map(|d| d.summary).unwrap_err().to_string();
        let not_closed = concat!(
            "invalid XML at byte 0: syntax error: tag not closed: ",
            "`>` not found before end of input"
        );
        let doctype = concat!(
            "invalid XML at byte 0: DOCTYPE declaration refused: ",
            "DTDs and entity declarations are never processed"
        );
        let with_doctype = concat!(
            "<!DOCTYPE x [<!ENTITY e \"x\">]>",
            "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"/>"
        );
        for (body, why) in [
            (&b"<"[..], not_closed),
            (with_doctype.as_bytes(), doctype),
            (b"PHNhbWw=", not_closed),
            (b"\xff\xfe<", "field `body` is not valid UTF-8"),
        ] {
            let got = refused(Saml.decode(&Message::blob(body), &cx));
            assert_eq!(got, why);
        }
        for (url, why) in [
            (
                "https://x/?SAMLRequest=",
                "cannot inflate SAMLRequest: incomplete deflate stream",
            ),
            (
                "https://x/?SAMLRequest=%ZZ&SigAlg=&Signature=",
                "field `SAMLRequest` is not valid base64",
            ),
            (
                "https://x/?SAMLRequest=fZA&Signature=abc",
                "cannot inflate SAMLRequest: incomplete deflate stream",
            ),
        ] {
            let got = refused(Saml.decode(&Message::request("GET", url, vec![], b""), &cx));
            assert_eq!(got, why, "{url}");
        }
        // An empty Response still decodes: nothing in it to explain.
        let empty = b"<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>";
        let d = Saml.decode(&Message::blob(empty), &cx).unwrap();
        assert_eq!(d.summary, "SAML 2.0 Response from (no issuer)");
    }

    /// A shareable copy made by `idscope redact`: a SAML message it could not read is removed
    /// whole, and a redirect binding's query `Signature` is replaced. Both read as redacted,
    /// never as bad base64.
    #[test]
    fn redacted_saml_messages_and_query_signatures_read_as_redacted() {
        use crate::OwnedMessage;
        use crate::secrets::{REDACTED_NOTE, placeholder};
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let marker = placeholder("saml", 940, "0123abcd");
        let body = format!("SAMLResponse={}&RelayState=r", enc(&marker));
        let m = Message::request(
            "POST",
            "https://sp.example/acs",
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        let d = Saml.decode(&m, &cx).unwrap();
        assert!(d.summary.contains("SAMLResponse redacted"), "{}", d.summary);
        assert!(d.findings.is_empty(), "{:?}", d.findings);

        let text = include_str!("../../../tests/fixtures/saml/redirect_authnrequest_signed.http");
        let owned = OwnedMessage::parse_http_text(text).unwrap();
        let url = owned.url.clone().unwrap();
        let sig = url
            .split("Signature=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        let url = url.replace(sig, &enc(&placeholder("signature", 344, "0123abcd")));
        let m = Message::request("GET", &url, vec![], b"");
        let d = Saml.decode(&m, &cx).unwrap();
        assert!(
            d.findings
                .iter()
                .all(|f| f.severity < crate::Severity::Warning),
            "{:?}",
            d.findings
        );
        assert!(
            d.has_finding(
                "redirect-binding signature not checked: the signature value was removed"
            ),
            "{:?}",
            d.findings
        );
        let mut noted = false;
        d.root.walk(&mut |_, n| {
            noted |= n.label == "Signature"
                && n.note
                    .as_deref()
                    .is_some_and(|x| x.starts_with(REDACTED_NOTE));
        });
        assert!(noted);
    }
}
