//! The [`Xml`] view: any XML body as an element tree plus the pretty-printed document, read with
//! [`crate::xml::element::parse_xml`] (a DOCTYPE is refused, only predefined entities and
//! character references are resolved).

use super::nested::{Builder, count, first_byte, secrets_suffix};
use crate::secrets::is_secret_name;
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::xml::element::{XmlChild, XmlElement, XmlStop, parse_xml_inner, pretty_xml};
use crate::{Context, DecodeError, Message};

fn is_xml_type(ct: &str) -> bool {
    ct == "application/xml" || ct == "text/xml" || ct.ends_with("+xml")
}

impl Builder<'_, '_> {
    fn xml(&mut self, el: &XmlElement, path: &str) -> Node {
        let secret = is_secret_name(el.local_name());
        if el.is_simple() {
            return self.string_leaf(&el.name, &el.text(), secret, path);
        }
        let mut node = Node::section(el.name.clone());
        for (k, v) in &el.attrs {
            let label = format!("@{k}");
            let p = format!("{path}/{label}");
            let leaf = self.string_leaf(&label, v, is_secret_name(k), &p);
            node.push(leaf);
        }
        for c in &el.children {
            match c {
                XmlChild::Element(e) => {
                    let p = format!("{path}/{}", e.name);
                    node.push(self.xml(e, &p));
                }
                XmlChild::Text(t) | XmlChild::CData(t) => {
                    let p = format!("{path}/#text");
                    let leaf = self.string_leaf_named("#text", &el.name, t.trim(), secret, &p);
                    node.push(leaf);
                }
                XmlChild::Comment(t) => node.push(Node::text("#comment", t.trim())),
                XmlChild::Pi(t) => node.push(Node::field("#pi", t.trim())),
            }
        }
        node
    }
}

decoder! {
    /// Any XML body (by content type or a leading `<`): the element tree (attributes as `@name`
    /// children, text as values) and the pretty-printed document as [`Kind::Markup`]. A DOCTYPE is
    /// refused with an error finding; nothing after it is parsed.
    pub struct Xml: "xml";
}

fn looks_like_xml(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let trimmed: &[u8] = match body.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) => body.get(i..).unwrap_or(&[]),
        None => return false,
    };
    let head: Vec<u8> = trimmed
        .iter()
        .take(14)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if head.starts_with(b"<!doctype html") || head.starts_with(b"<html") {
        return false;
    }
    matches!(trimmed.get(1), Some(b) if trimmed.first() == Some(&b'<') && (b.is_ascii_alphabetic() || *b == b'?' || *b == b'!' || *b == b'_'))
}

fn priority(msg: &Message<'_>) -> f32 {
    match msg.content_type() {
        Some(ct) if ct == "text/html" => 0.0,
        Some(ct) if is_xml_type(&ct) && first_byte(msg.body).is_some() => 0.3,
        _ if looks_like_xml(msg.body) => 0.2,
        _ => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    let doc = match parse_xml_inner(text, &cx.limits) {
        Ok(doc) => doc,
        Err(XmlStop::Error(e)) => return Err(e),
        Err(XmlStop::Doctype(offset, decl)) => {
            let root = Node::section("xml").with_child(
                Node::leaf("DOCTYPE", util::ellipsize(&decl, 400), Kind::Error).with_note(
                    "a document type declaration; DTDs can define entities (XXE, \
                     billion laughs), so idscope never processes them and did not parse \
                     the rest of this document",
                ),
            );
            return Ok(
                Decoded::new("xml", "XML with a DOCTYPE (refused, not parsed)", root).with_finding(
                    Finding::error(format!(
                        "DOCTYPE at byte {offset} refused: DTDs are never processed and \
                     entities never expanded"
                    ))
                    .at("xml/DOCTYPE"),
                ),
            );
        }
    };
    let mut b = Builder::new(cx);
    let mut root = Node::section("xml");
    if let Some(decl) = &doc.decl {
        root.push(Node::field("declaration", decl.clone()));
    }
    let path = format!("xml/{}", doc.root.name);
    root.push(b.xml(&doc.root, &path));
    root.push(Node::leaf("pretty", pretty_xml(&doc.root), Kind::Markup));
    for name in &doc.unresolved_entities {
        b.findings.push(
            Finding::warning(format!(
                "entity reference &{name}; left unexpanded: no DTD is processed, so only \
                 the five predefined entities and character references are resolved"
            ))
            .at("xml"),
        );
    }
    b.secrets_finding("xml");
    let summary = format!(
        "XML <{}>: {}{}",
        doc.root.name,
        count(doc.root.element_count(), "element"),
        secrets_suffix(b.secrets.len())
    );
    let mut d = Decoded::new("xml", summary, root);
    d.findings = b.findings;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::generic::test_cx as cx;
    use crate::xml::element::parse_xml;
    use crate::{Limits, Trust};

    #[test]
    fn xml_doctype_is_refused_with_an_error_finding() {
        let trust = Trust::default();
        let body = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        let d = Xml.decode(&Message::blob(body), &cx(&trust)).unwrap();
        assert_eq!(d.worst(), Some(crate::Severity::Error));
        assert!(d.root.find_path("DOCTYPE").is_some());
        let err = parse_xml(std::str::from_utf8(body).unwrap(), &Limits::default()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Xml { offset: 21, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn xml_password_element_is_secret() {
        let trust = Trust::default();
        let body =
            b"<u><wsse:Username>a</wsse:Username><wsse:Password Type=\"t\">pw</wsse:Password></u>";
        let d = Xml.decode(&Message::blob(body), &cx(&trust)).unwrap();
        let pw = d.root.find_path("wsse:Password/#text").unwrap();
        assert_eq!(pw.kind, Kind::Secret);
    }

    #[test]
    fn html_is_not_claimed_by_xml() {
        assert_eq!(
            Xml.priority(&Message::blob(b"<!DOCTYPE html><html></html>")),
            0.0
        );
    }
}
