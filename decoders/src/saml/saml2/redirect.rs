//! The HTTP-Redirect binding: inflating the `SAMLRequest`/`SAMLResponse` query parameter under
//! [`crate::Limits::max_inflate`], and checking `Signature` over `SigAlg` and the exact query
//! octets as received.
//!
//! Not responsible for the HTTP-POST binding (see [`super::post`]).

use std::io::Read as _;

use aws_lc_rs::signature;

use super::post::{compact_base64, host_path};
use crate::saml::{explain_xml, opaque_preview};
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Limits, util, x509};

/// The query and form parameters that carry a SAML 2.0 message.
pub(super) const PARAMS: [&str; 2] = ["SAMLRequest", "SAMLResponse"];

/// How the payload of a redirect-binding parameter was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Raw DEFLATE (RFC 1951), as the binding requires.
    RawDeflate,
    /// zlib-wrapped DEFLATE (RFC 1950): a broken but seen client.
    Zlib,
    /// Not compressed at all: another broken client.
    None,
}

impl Compression {
    fn describe(self) -> &'static str {
        match self {
            Compression::RawDeflate => "raw DEFLATE (as the binding requires)",
            Compression::Zlib => "zlib-wrapped DEFLATE (the binding requires raw DEFLATE)",
            Compression::None => "not compressed (the binding requires raw DEFLATE)",
        }
    }
}

/// Decodes an HTTP-Redirect binding value (already URL-decoded): base64, then raw DEFLATE; falls
/// back to zlib and then to uncompressed XML, because broken clients exist. The output is capped
/// at [`Limits::max_inflate`] ([`DecodeError::TooLarge`] beyond it, so a deflate bomb costs at
/// most that much). `field` names the parameter in errors.
pub fn inflate_redirect(
    value: &str,
    field: &'static str,
    limits: &Limits,
) -> Result<(Vec<u8>, Compression), DecodeError> {
    let compact = compact_base64(value);
    let bytes =
        util::b64_decode_any(&compact, limits.max_inflate).ok_or(DecodeError::Base64 { field })?;
    let cap = limits.max_inflate;
    let inflate = |r: &mut dyn std::io::Read| -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        r.take(cap as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Inflate {
                field,
                message: e.to_string(),
            })?;
        if out.len() > cap {
            return Err(DecodeError::TooLarge {
                what: "inflated SAML message",
                limit: cap,
            });
        }
        Ok(out)
    };
    let raw = inflate(&mut flate2::read::DeflateDecoder::new(bytes.as_slice()));
    match raw {
        Ok(out) if !out.is_empty() => return Ok((out, Compression::RawDeflate)),
        Err(e @ DecodeError::TooLarge { .. }) => return Err(e),
        _ => {}
    }
    match inflate(&mut flate2::read::ZlibDecoder::new(bytes.as_slice())) {
        Ok(out) if !out.is_empty() => return Ok((out, Compression::Zlib)),
        Err(e @ DecodeError::TooLarge { .. }) => return Err(e),
        _ => {}
    }
    // Plain XML, possibly after a UTF-8 byte-order mark (some IdPs send one).
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if text.trim_ascii_start().starts_with(b"<") {
        return Ok((bytes, Compression::None));
    }
    Err(match raw {
        Err(e) => e,
        Ok(_) => DecodeError::Inflate {
            field,
            message: "the inflated data is empty".into(),
        },
    })
}

/// One `name=value` pair of a query string, raw (as received) and decoded.
struct RawParam<'q> {
    name: String,
    raw: &'q str,
    value: String,
}

fn raw_params(query: &str) -> Vec<RawParam<'_>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                util::parse_form(format!("x={s}").as_bytes())
                    .into_iter()
                    .next()
                    .map(|(_, v)| v)
                    .unwrap_or_default()
            };
            RawParam {
                name: decode(n),
                raw: v,
                value: decode(v),
            }
        })
        .collect()
}

fn sig_params(uri: &str) -> Option<(&'static signature::RsaParameters, &'static str)> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => (
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            "rsa-sha1",
        ),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            (&signature::RSA_PKCS1_2048_8192_SHA256, "rsa-sha256")
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
            (&signature::RSA_PKCS1_2048_8192_SHA384, "rsa-sha384")
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            (&signature::RSA_PKCS1_2048_8192_SHA512, "rsa-sha512")
        }
        _ => return None,
    })
}

fn rsa_verifies(
    params: &'static signature::RsaParameters,
    cert: &x509::Certificate,
    msg: &[u8],
    sig: &[u8],
) -> bool {
    signature::UnparsedPublicKey::new(params, &cert.public_key_der)
        .verify(msg, sig)
        .is_ok()
}

/// Checks a redirect-binding signature over the exact octets
/// `SAMLRequest=…&RelayState=…&SigAlg=…` as received. Returns the view node, the finding and a
/// short verdict for the summary.
fn query_signature(
    params: &[RawParam<'_>],
    which: &RawParam<'_>,
    cx: &Context<'_>,
) -> Option<(Node, Finding, String)> {
    let sig_alg = params.iter().find(|p| p.name == "SigAlg");
    let sig = params.iter().find(|p| p.name == "Signature");
    let (sig_alg, sig) = match (sig_alg, sig) {
        (None, None) => return None,
        (Some(a), Some(s)) => (a, s),
        _ => {
            let n = Node::leaf(
                "query signature",
                "SigAlg or Signature missing",
                Kind::Error,
            );
            let f = Finding::error(
                "the redirect binding has only one of SigAlg and Signature: the signature cannot \
                 be checked",
            );
            return Some((n, f, "signature incomplete".into()));
        }
    };
    let mut octets = format!("{}={}", which.name, which.raw);
    if let Some(r) = params.iter().find(|p| p.name == "RelayState") {
        octets.push_str(&format!("&RelayState={}", r.raw));
    }
    octets.push_str(&format!("&SigAlg={}", sig_alg.raw));
    let mut node = Node::section("query signature").with_note(
        "HTTP-Redirect binding: the signature covers the URL-encoded query octets \
         SAMLRequest/SAMLResponse, RelayState, SigAlg, exactly as received; the XML carries none",
    );
    node.push(Node::field("signed octets", util::ellipsize(&octets, 200)));
    let Some((rsa, name)) = sig_params(&sig_alg.value) else {
        node.push(Node::leaf(
            "verdict",
            format!("not checked: SigAlg {} is not supported", sig_alg.value),
            Kind::Error,
        ));
        let f = Finding::error(format!(
            "redirect-binding signature not checked: SigAlg {} is not supported",
            sig_alg.value
        ));
        return Some((node, f, "signature not checked".into()));
    };
    node.push(Node::field("SigAlg", name));
    if let Some(n) = crate::secrets::redacted_node("Signature", &sig.value) {
        node.push(n);
        node.push(Node::field(
            "verdict",
            "not checked: the signature value was removed by redaction",
        ));
        let f = Finding::info(format!(
            "redirect-binding signature not checked: the signature value was {}",
            crate::secrets::REDACTED_NOTE
        ));
        return Some((node, f, "signature redacted (not checked)".into()));
    }
    let Some(sig_bytes) = util::b64_decode_any(&compact_base64(&sig.value), 4096) else {
        node.push(Node::leaf(
            "verdict",
            "Signature is not valid base64",
            Kind::Error,
        ));
        let f = Finding::error("redirect-binding Signature is not valid base64");
        return Some((node, f, "signature malformed".into()));
    };
    node.push(Node::secret("Signature", compact_base64(&sig.value)));
    if cx.trust.certs.is_empty() {
        node.push(Node::leaf(
            "verdict",
            "not verified: no trusted certificate",
            Kind::Error,
        ));
        let f = Finding::warning(
            "redirect-binding signature not verified: no trusted certificate (pin one with \
             --trust-cert FILE or capture the FederationMetadata)",
        );
        return Some((
            node,
            f,
            "signature not verified (no trusted certificate)".into(),
        ));
    }
    let mut tried = Vec::new();
    for c in &cx.trust.certs {
        let cert = x509::Certificate::parse(&c.der).ok();
        let label = cert
            .as_ref()
            .map_or("(unparsable certificate)".into(), x509::Certificate::label);
        if let Some(cert) = cert
            && rsa_verifies(rsa, &cert, octets.as_bytes(), &sig_bytes)
        {
            let subject = cert.subject;
            let text = format!("verified with certificate {label} from {}", c.source);
            node.push(Node::field("verdict", text.clone()));
            return Some((
                node,
                Finding::info(format!("redirect-binding signature {text}")),
                format!("query signature verified with {subject} ({})", c.source),
            ));
        }
        tried.push(format!("certificate {label} from {}", c.source));
    }
    let text = format!(
        "INVALID: the signature does not verify with {}",
        tried.join(" or ")
    );
    node.push(Node::leaf("verdict", text.clone(), Kind::Error));
    Some((
        node,
        Finding::error(format!("redirect-binding signature {text}")),
        "query signature INVALID".into(),
    ))
}

pub(super) fn decode_redirect(
    url: &str,
    from_location: bool,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let query = util::url_query(url).unwrap_or("");
    let params = raw_params(query);
    let which = params
        .iter()
        .find(|p| PARAMS.contains(&p.name.as_str()))
        .ok_or(DecodeError::Missing("SAMLRequest"))?;
    let field = if which.name == "SAMLRequest" {
        "SAMLRequest"
    } else {
        "SAMLResponse"
    };
    if let Some(n) = crate::secrets::redacted_node(field, &which.value) {
        // Redaction could not read the message and removed it whole.
        let root = Node::section("HTTP-Redirect binding")
            .with_child(Node::field("endpoint", host_path(url)))
            .with_child(n);
        let summary = format!("SAML HTTP-Redirect binding: {field} redacted");
        return Ok(Decoded::new("saml", summary, root));
    }
    let (xml, compression) = inflate_redirect(&which.value, field, &cx.limits)?;
    let xml = String::from_utf8(xml).map_err(|_| DecodeError::Utf8 { field })?;
    let mut root = Node::section("HTTP-Redirect binding").with_note(if from_location {
        "SAML HTTP-Redirect binding in a Location header: the browser is sent on with this query"
    } else {
        "SAML HTTP-Redirect binding: the message is deflated, base64-encoded and URL-encoded in \
         the query"
    });
    root.push(Node::field("endpoint", host_path(url)));
    root.push(
        Node::field(field, format!("{} chars", which.raw.len())).with_note(format!(
            "{}; {} bytes of XML",
            compression.describe(),
            xml.len()
        )),
    );
    let mut findings = Vec::new();
    if compression != Compression::RawDeflate {
        findings.push(Finding::warning(format!(
            "{field} is {}",
            compression.describe()
        )));
    }
    for p in &params {
        match p.name.as_str() {
            "RelayState" => {
                let mut n = Node::field("RelayState", opaque_preview(&p.value))
                    .with_note("opaque state the requester gets back unchanged");
                if p.value.len() > 80 {
                    n = n.with_note("opaque state; longer than the 80 bytes the binding allows");
                    findings.push(Finding::warning(format!(
                        "RelayState is {} bytes; the binding allows at most 80",
                        p.value.len()
                    )));
                }
                root.push(n);
            }
            "SigAlg" | "Signature" | "SAMLRequest" | "SAMLResponse" => {}
            other => root.push(Node::field(other.to_string(), opaque_preview(&p.value))),
        }
    }
    let sig = query_signature(&params, which, cx);
    let mut d = explain_xml(xml.trim_start(), "saml", cx, Some(url))?;
    let inner_summary = d.summary.clone();
    let short = match sig {
        Some((n, f, short)) => {
            root.push(n);
            findings.push(f);
            short
        }
        None => {
            if which.name == "SAMLRequest" {
                root.push(Node::text("query signature", "none (unsigned request)"));
            }
            "unsigned".to_string()
        }
    };
    root.push(d.root);
    d.root = root;
    findings.append(&mut d.findings);
    d.findings = findings;
    d.summary = format!("{inner_summary} (HTTP-Redirect, {short})");
    Ok(d)
}
