//! The HTTP-POST binding: the `SAMLRequest`/`SAMLResponse` form fields (base64 without deflate)
//! and the IdP's auto-POST HTML page.
//!
//! Not responsible for the HTTP-Redirect binding (see [`super::redirect`]).

use crate::saml::{explain_xml, opaque_preview};
use crate::view::Node;
use crate::{Context, DecodeError, Decoded, util};

/// Base64 as carried in forms and queries: whitespace removed, and spaces that were `+` before
/// a second URL decoding turned back into `+`.
pub(super) fn compact_base64(value: &str) -> String {
    value
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('+'),
            c if c.is_whitespace() => None,
            c => Some(c),
        })
        .collect()
}

/// Decodes an HTTP-POST binding value (base64 of XML, no deflate) to text.
pub(super) fn decode_post_value(
    value: &str,
    field: &'static str,
    cx: &Context<'_>,
) -> Result<String, DecodeError> {
    let bytes = util::b64_decode_any(&compact_base64(value), cx.limits.max_inflate)
        .ok_or(DecodeError::Base64 { field })?;
    String::from_utf8(bytes).map_err(|_| DecodeError::Utf8 { field })
}
/// `host/path` of a URL for summaries.
pub fn host_path(url: &str) -> String {
    match util::url_host(url) {
        Some(h) => format!("{h}{}", util::url_path(url)),
        None => url.to_string(),
    }
}

pub(super) fn decode_post(
    pairs: &[(String, String)],
    url: Option<&str>,
    what: &str,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let mut root = Node::section(what).with_note(
        "SAML HTTP-POST binding: base64 of the XML (no deflate) in a form field; any signature is \
         inside the XML",
    );
    let mut inner = None;
    for (k, v) in pairs {
        match k.as_str() {
            "SAMLResponse" | "SAMLRequest" => {
                let field = if k == "SAMLResponse" {
                    "SAMLResponse"
                } else {
                    "SAMLRequest"
                };
                if let Some(n) = crate::secrets::redacted_node(field, v) {
                    // Redaction could not read the message and removed it whole.
                    root.push(n);
                    let summary = format!("SAML HTTP-POST binding: {field} redacted");
                    return Ok(Decoded::new("saml", summary, root));
                }
                let xml = decode_post_value(v, field, cx)?;
                root.push(
                    Node::field(k.clone(), format!("{} chars of base64", v.len()))
                        .with_note(format!("decodes to {} bytes of XML", xml.len())),
                );
                inner = Some(xml);
            }
            "RelayState" => root.push(
                Node::field("RelayState", opaque_preview(v))
                    .with_note("opaque state the SP gets back unchanged"),
            ),
            _ => root.push(Node::field(k.clone(), opaque_preview(v))),
        }
    }
    let xml = inner.ok_or(DecodeError::Missing("SAMLResponse"))?;
    let mut d = explain_xml(xml.trim_start(), "saml", cx, url)?;
    root.push(d.root);
    d.root = root;
    if let Some(u) = url {
        d.summary = format!("{} (POST to {})", d.summary, host_path(u));
    }
    Ok(d)
}
