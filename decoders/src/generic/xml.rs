//! The [`Xml`] view: any XML body as an element tree plus the pretty-printed document, read with
//! [`Document::parse_lenient`] (a DOCTYPE is refused, only predefined entities and character
//! references are resolved, other references are kept as written and flagged, unbound prefixes
//! are tolerated) and shown with [`crate::xml::display`].

use super::nested::{Builder, count, first_byte, secrets_suffix};
use crate::secrets::is_secret_name;
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::xml::display::{
    direct_text, element_count, is_simple, pi_content, pretty_xml, shown_children,
};
use crate::xml::{Document, NodeId, NodeKind, doctype_declaration, dsig, is_doctype_refusal};
use crate::{Context, DecodeError, Message};

fn is_xml_type(ct: &str) -> bool {
    ct == "application/xml" || ct == "text/xml" || ct.ends_with("+xml")
}

impl Builder<'_, '_> {
    fn xml(&mut self, doc: &Document<'_>, el: NodeId, path: &str) -> Node {
        let name = doc.qname(el);
        let secret = is_secret_name(doc.local_name(el));
        if is_simple(doc, el) {
            return self.string_leaf(name, &direct_text(doc, el), secret, path);
        }
        let mut node = Node::section(name);
        for (k, v) in doc.written_attributes(el) {
            let label = format!("@{k}");
            let p = format!("{path}/{label}");
            let leaf = self.string_leaf(&label, v, is_secret_name(k), &p);
            node.push(leaf);
        }
        for c in shown_children(doc, el) {
            let text = doc.text(c).unwrap_or("").trim();
            match doc.kind(c) {
                Some(NodeKind::Element) => {
                    let p = format!("{path}/{}", doc.qname(c));
                    node.push(self.xml(doc, c, &p));
                }
                Some(NodeKind::Text | NodeKind::CData) => {
                    let p = format!("{path}/#text");
                    let leaf = self.string_leaf_named("#text", name, text, secret, &p);
                    node.push(leaf);
                }
                Some(NodeKind::Comment) => node.push(Node::text("#comment", text)),
                Some(NodeKind::ProcessingInstruction) => {
                    node.push(Node::field("#pi", pi_content(doc, c).trim()));
                }
                None => {}
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

/// Verifies every XML signature in a document no protocol decoder claims (a WS-Security message,
/// a receipt, an enveloped sample) against the trusted certificates, with the verdicts and their
/// findings added to the view. Signatures are read from the strict tree (namespaces resolved,
/// byte ranges kept); a document that only the lenient reading accepts is said to be unchecked.
fn signatures(text: &str, cx: &Context<'_>, root: &mut Node, findings: &mut Vec<Finding>) {
    if !text.contains(crate::xml::DSIG_NS) {
        return;
    }
    match Document::parse(text, &cx.limits) {
        Ok(doc) => {
            let sigs = dsig::verify_document(&doc, &cx.trust.xml_signers(&doc), &cx.limits);
            root.children.extend(sigs.nodes);
            findings.extend(sigs.findings);
        }
        Err(e) => findings.push(
            Finding::warning(format!(
                "XML signature not checked: the document is not namespace-well-formed XML ({e})"
            ))
            .at("xml"),
        ),
    }
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
    let doc = match Document::parse_lenient(text, &cx.limits) {
        Ok(doc) => doc,
        Err(e) if !is_doctype_refusal(&e) => return Err(e),
        Err(e) => {
            let offset = match &e {
                DecodeError::Xml { offset, .. } => *offset,
                _ => 0,
            };
            let decl = doctype_declaration(text, &e).unwrap_or("");
            let root = Node::section("xml").with_child(
                Node::leaf("DOCTYPE", util::ellipsize(decl, 400), Kind::Error).with_note(
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
    let Some(top) = doc.root() else {
        return Err(DecodeError::Xml {
            offset: 0,
            message: "no root element".into(),
        });
    };
    let mut b = Builder::new(cx);
    let mut root = Node::section("xml");
    if let Some(decl) = doc.declaration() {
        root.push(Node::field("declaration", decl));
    }
    let path = format!("xml/{}", doc.qname(top));
    root.push(b.xml(&doc, top, &path));
    root.push(Node::leaf("pretty", pretty_xml(&doc, top), Kind::Markup));
    for name in doc.unresolved_entities() {
        b.findings.push(
            Finding::warning(format!(
                "entity reference &{name}; left unexpanded: no DTD is processed, so only \
                 the five predefined entities and character references are resolved"
            ))
            .at("xml"),
        );
    }
    signatures(text, cx, &mut root, &mut b.findings);
    b.secrets_finding("xml");
    let summary = format!(
        "XML <{}>: {}{}",
        doc.qname(top),
        count(element_count(&doc, top), "element"),
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
    use crate::{Limits, Trust};

    #[test]
    fn xml_doctype_is_refused_with_an_error_finding() {
        let trust = Trust::default();
        let body = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        let d = Xml.decode(&Message::blob(body), &cx(&trust)).unwrap();
        assert_eq!(d.worst(), Some(crate::Severity::Error));
        assert!(d.root.find_path("DOCTYPE").is_some());
        let text = std::str::from_utf8(body).unwrap();
        let err = Document::parse_lenient(text, &Limits::default()).unwrap_err();
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
