//! A lenient owned element tree for XML that is shown rather than verified: the generic XML view
//! and the realm decoder's `xml=1` answer. Elements keep their qualified names as written (no
//! namespace resolution, so an unbound prefix is not an error), attributes in order, and text,
//! CDATA, comments and processing instructions in order; [`pretty_xml`] prints it for display.
//!
//! The layer's two rules hold here too: a `<!DOCTYPE` is refused, and only the five predefined
//! entities and character references are turned into text. Unlike [`super::tree`], any other
//! `&name;` is kept literal and listed in [`XmlDoc::unresolved_entities`] instead of failing, so
//! a view can still show the document and flag the reference. Depth, node count and size are
//! capped by [`Limits`]. quick-xml is used as an event reader and is never given an entity
//! resolver.
//!
//! Signed XML (SAML, WS-*) is read with [`super::tree::Document`], which keeps byte ranges and
//! namespaces; this tree is never used to verify or forward anything.

use quick_xml::events::Event;

use super::reference_char;
use crate::{DecodeError, Limits};

/// One XML element with its attributes and content, as read by [`parse_xml`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlElement {
    /// The qualified name as written (`s:Envelope`).
    pub name: String,
    /// Attributes in order, values with predefined entities and character references resolved.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text, in order.
    pub children: Vec<XmlChild>,
}

/// Content of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlChild {
    /// A child element.
    Element(XmlElement),
    /// Text (entities resolved as described in the module docs; whitespace-only text dropped).
    Text(String),
    /// A CDATA section's raw content.
    CData(String),
    /// A comment's content.
    Comment(String),
    /// A processing instruction's content.
    Pi(String),
}

impl XmlElement {
    /// The name without its prefix (`Envelope` for `s:Envelope`).
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The concatenated text and CDATA directly inside this element, trimmed.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            if let XmlChild::Text(t) | XmlChild::CData(t) = c {
                s.push_str(t);
            }
        }
        s.trim().to_string()
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|c| match c {
            XmlChild::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with this local name, compared case-insensitively.
    pub fn child(&self, local: &str) -> Option<&XmlElement> {
        self.elements()
            .find(|e| e.local_name().eq_ignore_ascii_case(local))
    }

    /// The value of the attribute with this local name, compared case-insensitively.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| {
                k.rsplit(':')
                    .next()
                    .unwrap_or(k)
                    .eq_ignore_ascii_case(local)
            })
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn is_simple(&self) -> bool {
        self.attrs.is_empty()
            && self
                .children
                .iter()
                .all(|c| matches!(c, XmlChild::Text(_) | XmlChild::CData(_)))
    }

    pub(crate) fn element_count(&self) -> usize {
        1 + self
            .elements()
            .map(XmlElement::element_count)
            .sum::<usize>()
    }
}

/// A parsed XML document: the root element and what came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlDoc {
    /// The XML declaration's content (`version="1.0" encoding="utf-8"`), if present.
    pub decl: Option<String>,
    /// The root element.
    pub root: XmlElement,
    /// Entity references other than the five predefined ones, left literal (`&name;`) because no
    /// DTD is processed.
    pub unresolved_entities: Vec<String>,
}

/// Why [`parse_xml_inner`] stopped.
pub(crate) enum XmlStop {
    /// A `<!DOCTYPE …>` at this byte offset, with its text.
    Doctype(u64, String),
    /// Any other failure.
    Error(DecodeError),
}

impl From<DecodeError> for XmlStop {
    fn from(e: DecodeError) -> Self {
        XmlStop::Error(e)
    }
}

/// Records an unresolved entity name once; at most 16 names are kept (a hostile document can
/// hold any number of distinct ones).
fn note_unresolved(list: &mut Vec<String>, name: &str) {
    if list.len() < 16 && !list.iter().any(|u| u == name) {
        list.push(name.to_string());
    }
}

/// Resolves only predefined entities and character references in an attribute value; anything
/// else stays literal. Returns the value and the names left unresolved.
fn attr_value(raw: &str, unresolved: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        match after.find(';') {
            Some(j) if j <= 32 => {
                let name = after.get(..j).unwrap_or("");
                match resolve_ref(name) {
                    Some(s) => out.push_str(&s),
                    None => {
                        out.push('&');
                        out.push_str(name);
                        out.push(';');
                        note_unresolved(unresolved, name);
                    }
                }
                rest = after.get(j + 1..).unwrap_or("");
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of a predefined entity or character reference (`lt`, `#x41`, `#65`).
fn resolve_ref(name: &str) -> Option<String> {
    reference_char(name).map(String::from)
}

fn xml_err(offset: u64, message: impl Into<String>) -> DecodeError {
    DecodeError::Xml {
        offset,
        message: message.into(),
    }
}

pub(crate) fn parse_xml_inner(text: &str, limits: &Limits) -> Result<XmlDoc, XmlStop> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > limits.max_body {
        return Err(DecodeError::TooLarge {
            what: "XML document",
            limit: limits.max_body,
        }
        .into());
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut decl = None;
    let mut unresolved = Vec::new();
    let mut pending = String::new();
    let mut nodes = 0usize;

    fn bump(nodes: &mut usize, limits: &Limits) -> Result<(), DecodeError> {
        *nodes += 1;
        if *nodes > limits.max_nodes {
            return Err(DecodeError::TooLarge {
                what: "XML node count",
                limit: limits.max_nodes,
            });
        }
        Ok(())
    }

    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| xml_err(reader.error_position(), e.to_string()))?;
        // Text and references arrive as separate events; join them before anything else.
        if !matches!(ev, Event::Text(_) | Event::GeneralRef(_)) && !pending.is_empty() {
            let t = std::mem::take(&mut pending);
            let blank = t.trim().is_empty();
            match stack.last_mut() {
                Some(parent) if !blank => {
                    bump(&mut nodes, limits)?;
                    parent.children.push(XmlChild::Text(t));
                }
                None if !blank => {
                    return Err(xml_err(pos, "text outside the root element").into());
                }
                _ => {}
            }
        }
        match ev {
            Event::DocType(d) => {
                return Err(XmlStop::Doctype(pos, d.into_inner().trim().to_string()));
            }
            Event::Decl(d) => {
                let s: &str = d.as_ref();
                decl = Some(s.trim_start_matches("xml").trim().to_string());
            }
            Event::Start(e) | Event::Empty(e) if stack.len() >= limits.max_depth => {
                let _ = e;
                return Err(DecodeError::TooLarge {
                    what: "XML nesting depth",
                    limit: limits.max_depth,
                }
                .into());
            }
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let (e, empty) = match ev {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    _ => continue,
                };
                if root.is_some() && stack.is_empty() {
                    return Err(xml_err(pos, "more than one root element").into());
                }
                bump(&mut nodes, limits)?;
                let qname = e.name();
                let name: &str = qname.as_ref();
                let mut el = XmlElement {
                    name: name.to_string(),
                    attrs: Vec::new(),
                    children: Vec::new(),
                };
                for a in e.attributes() {
                    let a = a.map_err(|err| xml_err(pos, err.to_string()))?;
                    bump(&mut nodes, limits)?;
                    let key: &str = a.key.as_ref();
                    el.attrs
                        .push((key.to_string(), attr_value(&a.value, &mut unresolved)));
                }
                if empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(XmlChild::Element(el)),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| xml_err(pos, "end tag without a start tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(XmlChild::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if pending.len() + t.len() > limits.max_body {
                    return Err(DecodeError::TooLarge {
                        what: "XML text",
                        limit: limits.max_body,
                    }
                    .into());
                }
                pending.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                match resolve_ref(name) {
                    Some(s) => pending.push_str(&s),
                    None => {
                        pending.push('&');
                        pending.push_str(name);
                        pending.push(';');
                        note_unresolved(&mut unresolved, name);
                    }
                }
            }
            Event::CData(c) => {
                if let Some(parent) = stack.last_mut() {
                    bump(&mut nodes, limits)?;
                    parent
                        .children
                        .push(XmlChild::CData(c.into_inner().into_owned()));
                }
            }
            Event::Comment(c) => {
                if let Some(parent) = stack.last_mut() {
                    bump(&mut nodes, limits)?;
                    parent
                        .children
                        .push(XmlChild::Comment(c.into_inner().into_owned()));
                }
            }
            Event::PI(p) => {
                if let Some(parent) = stack.last_mut() {
                    bump(&mut nodes, limits)?;
                    let s: &str = p.as_ref();
                    parent.children.push(XmlChild::Pi(s.to_string()));
                }
            }
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(xml_err(
            reader.buffer_position(),
            format!("unclosed element <{}>", open.name),
        )
        .into());
    }
    let root = root.ok_or_else(|| xml_err(0, "no root element"))?;
    Ok(XmlDoc {
        decl,
        root,
        unresolved_entities: unresolved,
    })
}

/// Parses XML text into an [`XmlDoc`] with the rules in the module docs: a `<!DOCTYPE` is refused
/// ([`DecodeError::Xml`] at its offset), entities other than the predefined ones stay literal,
/// more than `max_depth` levels, `max_nodes` nodes or `max_body` bytes is
/// [`DecodeError::TooLarge`]. A leading byte-order mark is skipped.
pub fn parse_xml(text: &str, limits: &Limits) -> Result<XmlDoc, DecodeError> {
    parse_xml_inner(text, limits).map_err(|stop| match stop {
        XmlStop::Doctype(offset, _) => xml_err(
            offset,
            "DOCTYPE refused: DTDs are never processed and entities never expanded",
        ),
        XmlStop::Error(e) => e,
    })
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;")
}

/// Pretty-prints an element with two-space indentation (for display only: whitespace inside
/// signed XML is significant, so these bytes must never be forwarded).
pub fn pretty_xml(el: &XmlElement) -> String {
    let mut out = String::new();
    write_pretty(el, 0, &mut out);
    out
}

fn write_pretty(el: &XmlElement, level: usize, out: &mut String) {
    let pad = "  ".repeat(level);
    out.push_str(&pad);
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push_str(&format!(" {k}=\"{}\"", escape_attr(v)));
    }
    if el.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    let inline = el
        .children
        .iter()
        .all(|c| matches!(c, XmlChild::Text(_) | XmlChild::CData(_)));
    if inline {
        for c in &el.children {
            match c {
                XmlChild::Text(t) => out.push_str(&escape_text(t.trim())),
                XmlChild::CData(t) => out.push_str(&format!("<![CDATA[{t}]]>")),
                _ => {}
            }
        }
    } else {
        out.push('\n');
        let inner = "  ".repeat(level + 1);
        for c in &el.children {
            match c {
                XmlChild::Element(e) => write_pretty(e, level + 1, out),
                XmlChild::Text(t) => out.push_str(&format!("{inner}{}\n", escape_text(t.trim()))),
                XmlChild::CData(t) => out.push_str(&format!("{inner}<![CDATA[{t}]]>\n")),
                XmlChild::Comment(t) => out.push_str(&format!("{inner}<!--{t}-->\n")),
                XmlChild::Pi(t) => out.push_str(&format!("{inner}<?{t}?>\n")),
            }
        }
        out.push_str(&pad);
    }
    out.push_str(&format!("</{}>\n", el.name));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_unknown_entities_stay_literal() {
        let doc = parse_xml(
            "<a t=\"&lt;&foo;\">x &amp; &#65; &bar;</a>",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(doc.root.text(), "x & A &bar;");
        assert_eq!(doc.root.attr("t"), Some("<&foo;"));
        assert_eq!(doc.unresolved_entities, ["foo", "bar"]);
    }

    #[test]
    fn xml_deeper_than_the_limit_is_too_large() {
        let limits = Limits {
            max_depth: 8,
            ..Limits::default()
        };
        let deep = format!("{}{}", "<a>".repeat(9), "</a>".repeat(9));
        assert_eq!(
            parse_xml(&deep, &limits).unwrap_err(),
            DecodeError::TooLarge {
                what: "XML nesting depth",
                limit: 8
            }
        );
    }

    #[test]
    fn xml_malformed_and_unclosed_are_xml_errors() {
        let l = Limits::default();
        assert!(matches!(
            parse_xml("<a><b></a>", &l),
            Err(DecodeError::Xml { .. })
        ));
        assert!(matches!(
            parse_xml("<a><b>", &l),
            Err(DecodeError::Xml { .. })
        ));
        assert!(matches!(
            parse_xml("<a/><b/>", &l),
            Err(DecodeError::Xml { .. })
        ));
        assert!(matches!(parse_xml("", &l), Err(DecodeError::Xml { .. })));
    }
}
