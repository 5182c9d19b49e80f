//! A bounded, read-only XML tree built on `quick-xml` events: an arena of nodes (elements with
//! resolved namespaces, attributes, text, CDATA, comments, processing instructions) that keeps the
//! byte range of every node in the source, so callers can show offsets and cut an element out
//! byte-exactly (a signed assertion must be forwarded as it was received, never re-serialised).
//!
//! Two rules hold for every document, whatever the caller:
//!
//! * **A DOCTYPE is refused.** Any `<!DOCTYPE …>` makes [`Document::parse`] fail with
//!   [`DecodeError::Xml`]; no DTD, internal subset or external identifier is ever read.
//!   [`doctype_finding`] turns that error into a [`Finding`] for decoders that want to show the
//!   refusal instead of failing.
//! * **Entities are never resolved** beyond the five predefined ones (`&lt; &gt; &amp; &apos;
//!   &quot;`) and character references. Any other `&name;` is an error. quick-xml would expand
//!   entities only if given a resolver; this module never gives it one and unescapes by itself.
//!
//! Work is bounded by [`Limits`]: input size ([`Limits::max_body`]), nesting depth
//! ([`Limits::max_depth`]) and node count ([`Limits::max_nodes`], where attributes and namespace
//! declarations count as nodes too). Limits give [`DecodeError::TooLarge`]; malformed input gives
//! [`DecodeError::Xml`] with the byte offset.
//!
//! Not responsible for: canonicalization ([`super::c14n`]), signatures ([`super::dsig`]),
//! encodings other than UTF-8 (the caller decodes to `&str` first), or schema validation.
//!
//! Strings are kept as ranges into the source where the source spelling is the value; only
//! values that need unescaping or line-ending normalisation are copied, into one shared buffer.

use std::collections::HashMap;
use std::ops::Range;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::view::Finding;
use crate::{DecodeError, Limits};

/// The namespace bound to the `xml` prefix by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The WS-Security utility namespace of `wsu:Id`.
pub const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

/// Unqualified attribute names treated as element IDs for signature references: `ID` (SAML 2.0),
/// `AssertionID` (SAML 1.1), `Id` (XML-DSig, WS-*). `wsu:Id` and `xml:id` are matched by
/// namespace in addition.
pub const ID_ATTRIBUTES: &[&str] = &["ID", "AssertionID", "Id"];

const DOCTYPE_MESSAGE: &str =
    "DOCTYPE declaration refused: DTDs and entity declarations are never processed";

/// The index of a node in a [`Document`]. Only meaningful for the document it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The position of the node in document order (0 is the first node).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What kind of node a [`NodeId`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// An element.
    Element,
    /// Character data (entity and character references already resolved).
    Text,
    /// A `<![CDATA[…]]>` section.
    CData,
    /// A comment.
    Comment,
    /// A processing instruction (`<?target data?>`); the XML declaration is not kept.
    ProcessingInstruction,
}

/// A string stored either in the source (`owned == false`) or in the document's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    owned: bool,
}

#[derive(Debug, Clone)]
struct ElementData {
    /// The qualified name as written, in the source.
    qname: Span,
    /// Length of the prefix (0 when unprefixed).
    prefix_len: u32,
    /// Namespace index (0 = no namespace).
    ns: u32,
    attrs: Range<u32>,
    decls: Range<u32>,
}

#[derive(Debug, Clone)]
enum Payload {
    Element(ElementData),
    Text(Span),
    CData(Span),
    Comment(Span),
    Pi { target: Span, data: Span },
}

/// One node of the arena: its links, its byte range in the source and its payload.
#[derive(Debug, Clone)]
pub struct NodeData {
    parent: Option<NodeId>,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    next_sibling: Option<NodeId>,
    range: Range<u32>,
    payload: Payload,
}

impl NodeData {
    /// What kind of node this is.
    pub fn kind(&self) -> NodeKind {
        match self.payload {
            Payload::Element(_) => NodeKind::Element,
            Payload::Text(_) => NodeKind::Text,
            Payload::CData(_) => NodeKind::CData,
            Payload::Comment(_) => NodeKind::Comment,
            Payload::Pi { .. } => NodeKind::ProcessingInstruction,
        }
    }

    /// The byte range of the node in the source (for an element: from `<` of the start tag to
    /// `>` of the end tag, inclusive).
    pub fn range(&self) -> Range<usize> {
        self.range.start as usize..self.range.end as usize
    }
}

#[derive(Debug, Clone)]
struct AttrData {
    qname: Span,
    prefix_len: u32,
    ns: u32,
    value: Span,
    raw_value: Span,
}

#[derive(Debug, Clone)]
struct NsDecl {
    /// Empty for the default namespace.
    prefix: Span,
    /// Namespace index; 0 means `xmlns=""` (undeclaring the default namespace).
    uri: u32,
}

/// One attribute of an element, with its namespace resolved (an unprefixed attribute is in no
/// namespace). Namespace declarations (`xmlns`, `xmlns:p`) are not attributes here; see
/// [`Document::namespace_declarations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'d> {
    /// The name as written (`"wsu:Id"`).
    pub qname: &'d str,
    /// The prefix, if any (`"wsu"`).
    pub prefix: Option<&'d str>,
    /// The local name (`"Id"`).
    pub local: &'d str,
    /// The namespace URI, or `""` for no namespace.
    pub namespace: &'d str,
    /// The value with references resolved and whitespace normalised as XML requires.
    pub value: &'d str,
    /// The value exactly as written between the quotes.
    pub raw_value: &'d str,
}

/// A parsed XML document: an arena of nodes over the source text.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    src: &'a str,
    buf: String,
    nodes: Vec<NodeData>,
    attrs: Vec<AttrData>,
    decls: Vec<NsDecl>,
    namespaces: Vec<Box<str>>,
    root: Option<NodeId>,
}

/// True when `err` is the refusal of a DOCTYPE by [`Document::parse`].
pub fn is_doctype_refusal(err: &DecodeError) -> bool {
    matches!(err, DecodeError::Xml { message, .. } if message.starts_with(DOCTYPE_MESSAGE))
}

/// Turns the DOCTYPE refusal of [`Document::parse`] into an error [`Finding`] (a DOCTYPE in
/// identity traffic is an XXE or entity-expansion attempt, or a very odd client); `None` for any
/// other error.
pub fn doctype_finding(err: &DecodeError) -> Option<Finding> {
    match err {
        DecodeError::Xml { offset, message } if message.starts_with(DOCTYPE_MESSAGE) => {
            Some(Finding::error(format!(
                "XML document carries a DOCTYPE at byte {offset}; it was refused and not \
                 decoded (DTDs and entities are never processed: possible XXE or entity \
                 expansion attempt)"
            )))
        }
        _ => None,
    }
}

fn xml_err(offset: usize, message: impl Into<String>) -> DecodeError {
    DecodeError::Xml {
        offset: offset as u64,
        message: message.into(),
    }
}

/// The byte offset of `part` inside `whole`, when `part` is a sub-slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let w = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    let off = p.checked_sub(w)?;
    (off.checked_add(part.len())? <= whole.len()).then_some(off)
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// Unescapes text or an attribute value into `out`: the five predefined entities, character
/// references, line endings normalised to `\n`, and for attributes literal whitespace to a space.
/// Returns the relative offset and message of the first error.
fn unescape_into(raw: &str, attr: bool, out: &mut String) -> Result<(), (usize, String)> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        match b {
            b'&' => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                let rest = raw.get(i + 1..).unwrap_or("");
                let end = rest
                    .find(';')
                    .filter(|e| *e <= 16)
                    .ok_or_else(|| (i, "'&' without a terminating ';'".to_string()))?;
                let name = rest.get(..end).unwrap_or("");
                let c = match name {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "apos" => '\'',
                    "quot" => '"',
                    _ => {
                        let code = if let Some(hex) = name.strip_prefix("#x") {
                            u32::from_str_radix(hex, 16).ok()
                        } else if let Some(dec) = name.strip_prefix('#') {
                            dec.parse::<u32>().ok()
                        } else {
                            return Err((
                                i,
                                format!(
                                    "entity reference &{name}; is not resolved (only the five \
                                     predefined entities and character references are allowed)"
                                ),
                            ));
                        };
                        code.and_then(char::from_u32)
                            .filter(|c| is_xml_char(*c))
                            .ok_or_else(|| (i, format!("invalid character reference &{name};")))?
                    }
                };
                out.push(c);
                i += end + 2;
                last = i;
            }
            b'\r' => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                out.push(if attr { ' ' } else { '\n' });
                i += 1;
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                last = i;
            }
            b'\n' | b'\t' if attr => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                out.push(' ');
                i += 1;
                last = i;
            }
            b'<' if attr => return Err((i, "'<' in an attribute value".to_string())),
            _ => i += 1,
        }
    }
    out.push_str(raw.get(last..).unwrap_or(""));
    Ok(())
}

fn needs_unescape(raw: &str, attr: bool) -> bool {
    raw.bytes()
        .any(|b| matches!(b, b'&' | b'\r') || (attr && matches!(b, b'\n' | b'\t' | b'<')))
}

struct Builder<'a> {
    doc: Document<'a>,
    limits: Limits,
    ns_index: HashMap<Box<str>, u32>,
    /// Prefix bindings in scope: prefix → stack of namespace indexes, innermost last.
    scope: HashMap<&'a str, Vec<u32>>,
    /// Prefixes pushed onto `scope`, in order, so an end tag can pop its own.
    scope_log: Vec<&'a str>,
    /// Reused set for duplicate checks on elements with many attributes.
    seen: std::collections::HashSet<(u32, &'a str)>,
    /// Open elements: (node, length of `scope_log` before its declarations).
    open: Vec<(NodeId, usize)>,
    /// Start of pending character data (text and references not yet turned into a node).
    text_start: Option<usize>,
    /// Reused buffer of (name offset, name length, value offset, value length) for the plain
    /// attributes of the element being built.
    pending: Vec<(usize, usize, usize, usize)>,
    /// The last node without a parent (top-level siblings are linked like children).
    last_top: Option<NodeId>,
}

impl<'a> Builder<'a> {
    fn span_src(&self, s: &str) -> Option<Span> {
        let off = offset_in(self.doc.src, s)?;
        Some(Span {
            start: u32::try_from(off).ok()?,
            end: u32::try_from(off + s.len()).ok()?,
            owned: false,
        })
    }

    fn span_range(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
            owned: false,
        }
    }

    /// A span for the unescaped form of `raw` (which starts at `offset` in the source).
    fn unescaped(&mut self, raw: &str, offset: usize, attr: bool) -> Result<Span, DecodeError> {
        if !needs_unescape(raw, attr) {
            return Ok(Self::span_range(offset, offset + raw.len()));
        }
        let start = self.doc.buf.len();
        unescape_into(raw, attr, &mut self.doc.buf).map_err(|(rel, m)| xml_err(offset + rel, m))?;
        let end = self.doc.buf.len();
        Ok(Span {
            start: u32::try_from(start).map_err(|_| xml_err(offset, "document too large"))?,
            end: u32::try_from(end).map_err(|_| xml_err(offset, "document too large"))?,
            owned: true,
        })
    }

    fn intern(&mut self, uri: &str) -> u32 {
        if uri.is_empty() {
            return 0;
        }
        if let Some(i) = self.ns_index.get(uri) {
            return *i;
        }
        let i = self.doc.namespaces.len() as u32;
        self.doc.namespaces.push(uri.into());
        self.ns_index.insert(uri.into(), i);
        i
    }

    fn lookup(&self, prefix: &str) -> Option<u32> {
        if prefix == "xml" {
            return self.ns_index.get(XML_NS).copied();
        }
        self.scope.get(prefix).and_then(|v| v.last()).copied()
    }

    fn count_node(&self) -> Result<(), DecodeError> {
        let used = self.doc.nodes.len() + self.doc.attrs.len() + self.doc.decls.len();
        if used >= self.limits.max_nodes {
            return Err(DecodeError::TooLarge {
                what: "XML node count",
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    fn push_node(&mut self, range: Range<usize>, payload: Payload) -> Result<NodeId, DecodeError> {
        self.count_node()?;
        let id = NodeId(self.doc.nodes.len() as u32);
        let parent = self.open.last().map(|(p, _)| *p);
        self.doc.nodes.push(NodeData {
            parent,
            first_child: None,
            last_child: None,
            next_sibling: None,
            range: range.start as u32..range.end as u32,
            payload,
        });
        if parent.is_none() {
            if let Some(prev) = self.last_top
                && let Some(n) = self.doc.nodes.get_mut(prev.index())
            {
                n.next_sibling = Some(id);
            }
            self.last_top = Some(id);
        }
        if let Some(p) = parent {
            let prev_last = self.doc.nodes.get(p.index()).and_then(|n| n.last_child);
            if let Some(prev) = prev_last
                && let Some(n) = self.doc.nodes.get_mut(prev.index())
            {
                n.next_sibling = Some(id);
            }
            if let Some(n) = self.doc.nodes.get_mut(p.index()) {
                if n.first_child.is_none() {
                    n.first_child = Some(id);
                }
                n.last_child = Some(id);
            }
        }
        Ok(id)
    }

    /// Turns pending character data (up to `end`) into a text node.
    fn flush_text(&mut self, end: usize) -> Result<(), DecodeError> {
        let Some(start) = self.text_start.take() else {
            return Ok(());
        };
        let raw = self.doc.src.get(start..end).unwrap_or("");
        if raw.is_empty() {
            return Ok(());
        }
        if self.open.is_empty() {
            // Outside the document element only whitespace is allowed, and it is not kept.
            return match raw.find(|c: char| !c.is_ascii_whitespace()) {
                None => Ok(()),
                Some(rel) => Err(xml_err(start + rel, "text outside the document element")),
            };
        }
        let span = self.unescaped(raw, start, false)?;
        self.push_node(start..end, Payload::Text(span))?;
        Ok(())
    }

    fn start_element(
        &mut self,
        e: &quick_xml::events::BytesStart<'a>,
        range: Range<usize>,
    ) -> Result<NodeId, DecodeError> {
        let offset = range.start;
        if self.open.is_empty() && self.doc.root.is_some() {
            return Err(xml_err(offset, "more than one document element"));
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(DecodeError::TooLarge {
                what: "XML nesting depth",
                limit: self.limits.max_depth,
            });
        }
        let qname = e.name().into_inner();
        let qname_span = self
            .span_src(qname)
            .ok_or_else(|| xml_err(offset, "element name not in the source"))?;
        let scope_mark = self.scope_log.len();
        let decl_start = self.doc.decls.len() as u32;
        // First pass: namespace declarations, so attributes and the element name can use them.
        let mut plain = std::mem::take(&mut self.pending);
        plain.clear();
        self.seen.clear();
        // quick-xml's own duplicate check is quadratic; ours (below) is not, and also catches
        // two prefixes bound to one namespace.
        let mut attributes = e.attributes();
        attributes.with_checks(false);
        for attr in attributes {
            let attr = attr.map_err(|err| xml_err(offset, format!("bad attribute: {err}")))?;
            let key = attr.key.into_inner();
            let std::borrow::Cow::Borrowed(raw) = attr.value else {
                return Err(xml_err(offset, "attribute value not in the source"));
            };
            // Re-borrow with the source lifetime (both point into `src`).
            let key_off = offset_in(self.doc.src, key)
                .ok_or_else(|| xml_err(offset, "attribute name not in the source"))?;
            let raw_off = offset_in(self.doc.src, raw)
                .ok_or_else(|| xml_err(offset, "attribute value not in the source"))?;
            let src = self.doc.src;
            let key: &'a str = src.get(key_off..key_off + key.len()).unwrap_or("");
            let raw: &'a str = src.get(raw_off..raw_off + raw.len()).unwrap_or("");
            if key == "xmlns" || key.starts_with("xmlns:") {
                let prefix = key.strip_prefix("xmlns:").unwrap_or("");
                let vspan = self.unescaped(raw, raw_off, true)?;
                let uri = self.doc.span_str(vspan).to_string();
                if key.starts_with("xmlns:") && (prefix.is_empty() || uri.is_empty()) {
                    return Err(xml_err(
                        raw_off,
                        format!("invalid namespace declaration {key}"),
                    ));
                }
                if prefix == "xmlns" || (prefix == "xml" && uri != XML_NS) {
                    return Err(xml_err(key_off, format!("reserved prefix in {key}")));
                }
                let idx = self.intern(&uri);
                self.count_node()?;
                self.doc.decls.push(NsDecl {
                    prefix: Self::span_range(
                        key_off + key.len() - prefix.len(),
                        key_off + key.len(),
                    ),
                    uri: idx,
                });
                // Declarations use a namespace index no attribute can have.
                if !self.seen.insert((u32::MAX, prefix)) {
                    return Err(xml_err(key_off, format!("duplicate attribute {key}")));
                }
                self.scope.entry(prefix).or_default().push(idx);
                self.scope_log.push(prefix);
            } else {
                plain.push((key_off, key.len(), raw_off, raw.len()));
            }
        }
        let decl_end = self.doc.decls.len() as u32;
        let (prefix, _local) = split_qname(qname);
        let ns = match prefix {
            Some(p) => self
                .lookup(p)
                .ok_or_else(|| xml_err(offset, format!("unbound namespace prefix `{p}`")))?,
            None => self.lookup("").unwrap_or(0),
        };
        let attr_start = self.doc.attrs.len() as u32;
        let src = self.doc.src;
        for &(key_off, key_len, raw_off, raw_len) in &plain {
            let key: &'a str = src.get(key_off..key_off + key_len).unwrap_or("");
            let raw: &'a str = src.get(raw_off..raw_off + raw_len).unwrap_or("");
            let (aprefix, _) = split_qname(key);
            let ans = match aprefix {
                Some(p) => self
                    .lookup(p)
                    .ok_or_else(|| xml_err(key_off, format!("unbound namespace prefix `{p}`")))?,
                None => 0,
            };
            // Two attributes with the same expanded name are an error even when spelled apart.
            let local = split_qname(key).1;
            let clash = if plain.len() <= 8 {
                self.doc
                    .attrs
                    .get(attr_start as usize..)
                    .unwrap_or(&[])
                    .iter()
                    .any(|a| a.ns == ans && self.doc.attr_local(a) == local)
            } else {
                !self.seen.insert((ans, local))
            };
            if clash {
                return Err(xml_err(key_off, format!("duplicate attribute {key}")));
            }
            let value = self.unescaped(raw, raw_off, true)?;
            self.count_node()?;
            self.doc.attrs.push(AttrData {
                qname: Self::span_range(key_off, key_off + key.len()),
                prefix_len: aprefix.map(|p| p.len() as u32).unwrap_or(0),
                ns: ans,
                value,
                raw_value: Self::span_range(raw_off, raw_off + raw.len()),
            });
        }
        self.pending = plain;
        let attr_end = self.doc.attrs.len() as u32;
        let data = ElementData {
            qname: qname_span,
            prefix_len: prefix.map(|p| p.len() as u32).unwrap_or(0),
            ns,
            attrs: attr_start..attr_end,
            decls: decl_start..decl_end,
        };
        let id = self.push_node(range, Payload::Element(data))?;
        if self.open.is_empty() {
            self.doc.root = Some(id);
        }
        self.open.push((id, scope_mark));
        Ok(id)
    }

    fn end_element(&mut self, end: usize) {
        if let Some((id, mark)) = self.open.pop() {
            for p in self.scope_log.drain(mark..) {
                if let Some(v) = self.scope.get_mut(p) {
                    v.pop();
                }
            }
            if let Some(n) = self.doc.nodes.get_mut(id.index()) {
                n.range.end = end as u32;
            }
        }
    }
}

fn split_qname(q: &str) -> (Option<&str>, &str) {
    match q.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, q),
    }
}

fn quick_xml_error(reader: &Reader<&[u8]>, e: &quick_xml::Error) -> DecodeError {
    xml_err(reader.error_position() as usize, e.to_string())
}

impl<'a> Document<'a> {
    /// Parses `text` into a tree. Refuses a DOCTYPE and unknown entities (see the module
    /// documentation) and stays within `limits`.
    pub fn parse(text: &'a str, limits: &Limits) -> Result<Self, DecodeError> {
        if text.len() > limits.max_body || text.len() >= u32::MAX as usize {
            return Err(DecodeError::TooLarge {
                what: "XML document",
                limit: limits.max_body.min(u32::MAX as usize - 1),
            });
        }
        let mut b = Builder {
            doc: Document {
                src: text,
                buf: String::new(),
                nodes: Vec::new(),
                attrs: Vec::new(),
                decls: Vec::new(),
                namespaces: vec!["".into(), XML_NS.into()],
                root: None,
            },
            limits: *limits,
            ns_index: HashMap::new(),
            scope: HashMap::new(),
            scope_log: Vec::new(),
            seen: std::collections::HashSet::new(),
            open: Vec::new(),
            text_start: None,
            pending: Vec::new(),
            last_top: None,
        };
        b.ns_index.insert(XML_NS.into(), 1);
        let body_start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut reader = Reader::from_str(text.get(body_start..).unwrap_or(""));
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        cfg.trim_text(false);
        loop {
            let before = body_start + reader.buffer_position() as usize;
            let ev = reader.read_event().map_err(|e| {
                let mut err = quick_xml_error(&reader, &e);
                if let DecodeError::Xml { offset, .. } = &mut err {
                    *offset += body_start as u64;
                }
                err
            })?;
            let after = body_start + reader.buffer_position() as usize;
            match ev {
                Event::Text(_) | Event::GeneralRef(_) => {
                    if b.text_start.is_none() {
                        b.text_start = Some(before);
                    }
                    continue;
                }
                Event::Eof => {
                    b.flush_text(after)?;
                    break;
                }
                _ => b.flush_text(before)?,
            }
            match ev {
                Event::Start(e) => {
                    b.start_element(&e, before..after)?;
                }
                Event::Empty(e) => {
                    b.start_element(&e, before..after)?;
                    b.end_element(after);
                }
                Event::End(_) => {
                    if b.open.is_empty() {
                        return Err(xml_err(before, "end tag without a start tag"));
                    }
                    b.end_element(after);
                }
                Event::CData(_) => {
                    let inner = text.get(before + 9..after.saturating_sub(3)).unwrap_or("");
                    if b.open.is_empty() {
                        return Err(xml_err(before, "CDATA outside the document element"));
                    }
                    let span = if inner.contains('\r') {
                        let start = b.doc.buf.len();
                        b.doc
                            .buf
                            .push_str(&inner.replace("\r\n", "\n").replace('\r', "\n"));
                        Span {
                            start: start as u32,
                            end: b.doc.buf.len() as u32,
                            owned: true,
                        }
                    } else {
                        Builder::span_range(before + 9, before + 9 + inner.len())
                    };
                    b.push_node(before..after, Payload::CData(span))?;
                }
                Event::Comment(_) => {
                    let inner_end = after.saturating_sub(3).max(before + 4);
                    let span = Builder::span_range(before + 4, inner_end);
                    b.push_node(before..after, Payload::Comment(span))?;
                }
                Event::PI(_) => {
                    let inner = text.get(before + 2..after.saturating_sub(2)).unwrap_or("");
                    let tlen = inner
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(inner.len());
                    let data = inner.get(tlen..).unwrap_or("");
                    let data_trim = data.trim_start_matches(|c: char| c.is_ascii_whitespace());
                    let dstart = before + 2 + tlen + (data.len() - data_trim.len());
                    let target = Builder::span_range(before + 2, before + 2 + tlen);
                    let data = Builder::span_range(dstart, dstart + data_trim.len());
                    b.push_node(before..after, Payload::Pi { target, data })?;
                }
                Event::DocType(_) => return Err(xml_err(before, DOCTYPE_MESSAGE)),
                Event::Decl(_) => {
                    if before != body_start {
                        return Err(xml_err(before, "XML declaration not at the start"));
                    }
                }
                Event::Text(_) | Event::GeneralRef(_) | Event::Eof => {}
            }
        }
        if let Some((open, _)) = b.open.last() {
            let at = b
                .doc
                .nodes
                .get(open.index())
                .map(|n| n.range.start)
                .unwrap_or(0);
            return Err(xml_err(at as usize, "element is never closed"));
        }
        if b.doc.root.is_none() {
            return Err(xml_err(text.len(), "no document element"));
        }
        Ok(b.doc)
    }

    fn span_str(&self, s: Span) -> &str {
        let r = s.start as usize..s.end as usize;
        if s.owned {
            self.buf.get(r).unwrap_or("")
        } else {
            self.src.get(r).unwrap_or("")
        }
    }

    fn attr_local(&self, a: &AttrData) -> &str {
        let q = self.span_str(a.qname);
        split_qname(q).1
    }

    fn element_data(&self, id: NodeId) -> Option<&ElementData> {
        match &self.nodes.get(id.index())?.payload {
            Payload::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The source text the document was parsed from.
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// The document element.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// How many nodes the arena holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the arena holds no node (never the case for a parsed document).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node data for `id`.
    pub fn node(&self, id: NodeId) -> Option<&NodeData> {
        self.nodes.get(id.index())
    }

    /// What kind of node `id` is.
    pub fn kind(&self, id: NodeId) -> Option<NodeKind> {
        self.node(id).map(NodeData::kind)
    }

    /// True when `id` is an element.
    pub fn is_element(&self, id: NodeId) -> bool {
        self.element_data(id).is_some()
    }

    /// The parent of `id` (`None` for the document element).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id)?.parent
    }

    /// The children of `id`, in document order.
    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            doc: self,
            next: self.node(id).and_then(|n| n.first_child),
        }
    }

    /// The element children of `id`, in document order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|c| self.is_element(*c))
    }

    /// All descendants of `id` in document order, not including `id` itself.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_, 'a> {
        let end = self.subtree_end(id);
        Descendants {
            doc: self,
            next: id.0.saturating_add(1),
            end,
        }
    }

    /// One past the last node index of the subtree rooted at `id` (the arena is in document order,
    /// so a subtree is a contiguous run of indices).
    fn subtree_end(&self, id: NodeId) -> u32 {
        let mut cur = Some(id);
        while let Some(c) = cur {
            if let Some(next) = self.node(c).and_then(|n| n.next_sibling) {
                return next.0;
            }
            cur = self.parent(c);
        }
        self.nodes.len() as u32
    }

    /// True when `node` is `ancestor` or lies inside it.
    pub fn is_inside(&self, node: NodeId, ancestor: NodeId) -> bool {
        node.0 >= ancestor.0 && node.0 < self.subtree_end(ancestor)
    }

    /// The ancestors of `id`, nearest first, not including `id`.
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.parent(id), |p| self.parent(*p))
    }

    /// The local name of an element (`"Assertion"`); `""` for other nodes.
    pub fn local_name(&self, id: NodeId) -> &str {
        match self.element_data(id) {
            Some(e) => {
                let q = self.span_str(e.qname);
                q.get(
                    if e.prefix_len > 0 {
                        e.prefix_len as usize + 1
                    } else {
                        0
                    }..,
                )
                .unwrap_or("")
            }
            None => "",
        }
    }

    /// The prefix of an element name as written, if any (`"saml"`).
    pub fn prefix(&self, id: NodeId) -> Option<&str> {
        let e = self.element_data(id)?;
        (e.prefix_len > 0).then(|| {
            self.span_str(e.qname)
                .get(..e.prefix_len as usize)
                .unwrap_or("")
        })
    }

    /// The element name as written (`"saml:Assertion"`); `""` for other nodes.
    pub fn qname(&self, id: NodeId) -> &str {
        self.element_data(id)
            .map(|e| self.span_str(e.qname))
            .unwrap_or("")
    }

    /// The namespace URI of an element, `""` when it is in no namespace.
    pub fn namespace(&self, id: NodeId) -> &str {
        self.element_data(id)
            .and_then(|e| self.namespaces.get(e.ns as usize))
            .map(|s| &**s)
            .unwrap_or("")
    }

    /// True when `id` is an element with this namespace URI and local name.
    pub fn is(&self, id: NodeId, ns: &str, local: &str) -> bool {
        self.is_element(id) && self.local_name(id) == local && self.namespace(id) == ns
    }

    /// The first child element with this namespace URI and local name.
    pub fn find_child(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.find_children(id, ns, local).next()
    }

    /// Every child element with this namespace URI and local name.
    pub fn find_children<'s>(
        &'s self,
        id: NodeId,
        ns: &'s str,
        local: &'s str,
    ) -> impl Iterator<Item = NodeId> + 's {
        self.children(id).filter(move |c| self.is(*c, ns, local))
    }

    /// The first descendant element (document order) with this namespace URI and local name.
    pub fn find_descendant(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.find_descendants(id, ns, local).next()
    }

    /// Every descendant element with this namespace URI and local name, in document order.
    pub fn find_descendants<'s>(
        &'s self,
        id: NodeId,
        ns: &'s str,
        local: &'s str,
    ) -> impl Iterator<Item = NodeId> + 's {
        self.descendants(id).filter(move |c| self.is(*c, ns, local))
    }

    /// The attributes of an element, in source order (namespace declarations excluded).
    pub fn attributes(&self, id: NodeId) -> impl Iterator<Item = Attribute<'_>> + '_ {
        let range = self
            .element_data(id)
            .map(|e| e.attrs.start as usize..e.attrs.end as usize)
            .unwrap_or(0..0);
        self.attrs.get(range).unwrap_or(&[]).iter().map(|a| {
            let qname = self.span_str(a.qname);
            let (prefix, local) = split_qname(qname);
            Attribute {
                qname,
                prefix: prefix.filter(|_| a.prefix_len > 0),
                local,
                namespace: self
                    .namespaces
                    .get(a.ns as usize)
                    .map(|s| &**s)
                    .unwrap_or(""),
                value: self.span_str(a.value),
                raw_value: self.span_str(a.raw_value),
            }
        })
    }

    /// The value of the attribute whose name is written exactly `qname` (`"ID"`, `"wsu:Id"`).
    pub fn attribute(&self, id: NodeId, qname: &str) -> Option<&str> {
        self.attributes(id)
            .find(|a| a.qname == qname)
            .map(|a| a.value)
    }

    /// The value of the attribute with this namespace URI (`""` for none) and local name.
    pub fn attribute_ns(&self, id: NodeId, ns: &str, local: &str) -> Option<&str> {
        self.attributes(id)
            .find(|a| a.local == local && a.namespace == ns)
            .map(|a| a.value)
    }

    /// The namespace declarations written on an element, as `(prefix, uri)` with `""` for the
    /// default namespace (and `uri == ""` for `xmlns=""`).
    pub fn namespace_declarations(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> + '_ {
        let range = self
            .element_data(id)
            .map(|e| e.decls.start as usize..e.decls.end as usize)
            .unwrap_or(0..0);
        self.decls.get(range).unwrap_or(&[]).iter().map(|d| {
            (
                self.span_str(d.prefix),
                self.namespaces
                    .get(d.uri as usize)
                    .map(|s| &**s)
                    .unwrap_or(""),
            )
        })
    }

    /// The namespace URI bound to `prefix` (`""` = default namespace) at element `id`, if any.
    /// The default namespace undeclared with `xmlns=""` gives `Some("")`.
    pub fn lookup_namespace(&self, id: NodeId, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        std::iter::once(id).chain(self.ancestors(id)).find_map(|e| {
            self.namespace_declarations(e)
                .find(|(p, _)| *p == prefix)
                .map(|(_, u)| u)
        })
    }

    /// Every namespace binding in scope at element `id` as `(prefix, uri)`, sorted by prefix,
    /// innermost declaration winning; an undeclared default namespace (`xmlns=""`) is left out.
    pub fn in_scope_namespaces(&self, id: NodeId) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        for e in std::iter::once(id).chain(self.ancestors(id)) {
            for (p, u) in self.namespace_declarations(e) {
                if !out.iter().any(|(q, _)| *q == p) {
                    out.push((p, u));
                }
            }
        }
        out.retain(|(p, u)| !(p.is_empty() && u.is_empty()));
        out.sort_unstable();
        out
    }

    /// The content of a text, CDATA or comment node, or the data of a processing instruction.
    pub fn text(&self, id: NodeId) -> Option<&str> {
        match &self.node(id)?.payload {
            Payload::Text(s) | Payload::CData(s) | Payload::Comment(s) => Some(self.span_str(*s)),
            Payload::Pi { data, .. } => Some(self.span_str(*data)),
            Payload::Element(_) => None,
        }
    }

    /// The target of a processing instruction.
    pub fn pi_target(&self, id: NodeId) -> Option<&str> {
        match &self.node(id)?.payload {
            Payload::Pi { target, .. } => Some(self.span_str(*target)),
            _ => None,
        }
    }

    /// The concatenated text and CDATA of `id` and its descendants (comments skipped), as XPath
    /// `string()` gives it.
    pub fn text_content(&self, id: NodeId) -> String {
        if let Some(NodeKind::Text | NodeKind::CData) = self.kind(id) {
            return self.text(id).unwrap_or("").to_string();
        }
        let mut out = String::new();
        for d in self.descendants(id) {
            if let Some(NodeKind::Text | NodeKind::CData) = self.kind(d) {
                out.push_str(self.text(d).unwrap_or(""));
            }
        }
        out
    }

    /// The ID-like attribute of an element ([`ID_ATTRIBUTES`], `wsu:Id` or `xml:id`), if any.
    pub fn id_attribute(&self, id: NodeId) -> Option<&str> {
        self.attributes(id)
            .find(|a| {
                (a.namespace.is_empty() && ID_ATTRIBUTES.contains(&a.local))
                    || (a.namespace == WSU_NS && a.local == "Id")
                    || (a.namespace == XML_NS && a.local == "id")
            })
            .map(|a| a.value)
    }

    /// The first element (document order) whose ID-like attribute equals `value`.
    pub fn element_by_id(&self, value: &str) -> Option<NodeId> {
        self.elements_by_id(value).into_iter().next()
    }

    /// Every element whose ID-like attribute equals `value`; more than one is a wrapping signal.
    pub fn elements_by_id(&self, value: &str) -> Vec<NodeId> {
        self.elements()
            .filter(|e| self.id_attribute(*e) == Some(value))
            .collect()
    }

    /// IDs carried by more than one element, with those elements, in order of first use.
    pub fn duplicate_ids(&self) -> Vec<(&str, Vec<NodeId>)> {
        let mut seen: HashMap<&str, Vec<NodeId>> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for e in self.elements() {
            if let Some(v) = self.id_attribute(e) {
                let entry = seen.entry(v).or_default();
                if entry.is_empty() {
                    order.push(v);
                }
                entry.push(e);
            }
        }
        order
            .into_iter()
            .filter_map(|v| {
                let nodes = seen.remove(v)?;
                (nodes.len() > 1).then_some((v, nodes))
            })
            .collect()
    }

    /// The children of the document node: the document element and the comments and
    /// processing instructions before and after it, in document order.
    pub fn top_level_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        Children {
            doc: self,
            next: self.nodes.first().map(|_| NodeId(0)),
        }
    }

    /// Every element of the document in document order.
    pub fn elements(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32)
            .map(NodeId)
            .filter(|n| self.is_element(*n))
    }

    /// The byte range of a node in the source. For an element this runs from `<` of its start
    /// tag to `>` of its end tag, so `&source()[range]` is the element byte-exactly.
    pub fn range(&self, id: NodeId) -> Range<usize> {
        self.node(id).map(NodeData::range).unwrap_or(0..0)
    }

    /// The exact source text of a node (for an element: start tag to end tag inclusive).
    pub fn raw(&self, id: NodeId) -> &'a str {
        self.src.get(self.range(id)).unwrap_or("")
    }

    /// The byte offset where a node starts in the source.
    pub fn offset(&self, id: NodeId) -> usize {
        self.range(id).start
    }

    /// The qualified names from the document element down to `id`, joined by `/`
    /// (`"samlp:Response/saml:Assertion"`), for finding locations.
    pub fn path(&self, id: NodeId) -> String {
        let mut names: Vec<&str> = std::iter::once(id)
            .chain(self.ancestors(id))
            .filter(|n| self.is_element(*n))
            .map(|n| self.qname(n))
            .collect();
        names.reverse();
        names.join("/")
    }
}

/// Iterator over the children of a node (see [`Document::children`]).
#[derive(Debug, Clone)]
pub struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: Option<NodeId>,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next?;
        self.next = self.doc.node(cur).and_then(|n| n.next_sibling);
        Some(cur)
    }
}

/// Iterator over the descendants of a node in document order (see [`Document::descendants`]).
#[derive(Debug, Clone)]
pub struct Descendants<'d, 'a> {
    doc: &'d Document<'a>,
    next: u32,
    end: u32,
}

impl Iterator for Descendants<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end || self.next as usize >= self.doc.nodes.len() {
            return None;
        }
        let cur = NodeId(self.next);
        self.next += 1;
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Document<'_>, DecodeError> {
        Document::parse(s, &Limits::default())
    }

    const SAML: &str = r#"<?xml version="1.0"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r">
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a" Version="2.0">
    <saml:Subject><saml:NameID>alice&amp;bob &#x41;<!--c-->tail</saml:NameID></saml:Subject>
    <x xmlns="urn:d" wsu:Id="w1" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><y a="1&#9;2
3"/><![CDATA[<raw>]]></x>
  </saml:Assertion>
</samlp:Response>"#;

    #[test]
    fn namespaces_attributes_and_text_are_resolved() {
        let doc = parse(SAML).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(doc.local_name(root), "Response");
        assert_eq!(doc.prefix(root), Some("samlp"));
        let a = doc
            .find_child(root, "urn:oasis:names:tc:SAML:2.0:assertion", "Assertion")
            .unwrap();
        assert_eq!(doc.attribute(a, "ID"), Some("_a"));
        let nameid = doc
            .find_descendant(a, "urn:oasis:names:tc:SAML:2.0:assertion", "NameID")
            .unwrap();
        assert_eq!(doc.text_content(nameid), "alice&bob Atail");
        assert_eq!(doc.children(nameid).count(), 3);
        let x = doc.find_descendant(a, "urn:d", "x").unwrap();
        assert_eq!(doc.id_attribute(x), Some("w1"));
        assert_eq!(doc.attribute_ns(x, WSU_NS, "Id"), Some("w1"));
        let y = doc.find_child(x, "urn:d", "y").unwrap();
        // Unprefixed attributes are in no namespace; literal whitespace becomes a space, a
        // character reference stays a tab.
        let attr = doc.attributes(y).next().unwrap();
        assert_eq!(
            (attr.namespace, attr.value, attr.raw_value),
            ("", "1\t2 3", "1&#9;2\n3")
        );
        assert_eq!(doc.text_content(x), "<raw>");
        assert_eq!(doc.path(y), "samlp:Response/saml:Assertion/x/y");
        assert_eq!(
            doc.lookup_namespace(y, "saml"),
            Some("urn:oasis:names:tc:SAML:2.0:assertion")
        );
    }

    #[test]
    fn element_range_is_byte_exact() {
        let doc = parse(SAML).unwrap();
        let a = doc.element_by_id("_a").unwrap();
        let raw = doc.raw(a);
        assert!(raw.starts_with("<saml:Assertion "));
        assert!(raw.ends_with("</saml:Assertion>"));
        assert_eq!(&SAML[doc.range(a)], raw);
        let empty = doc.find_descendant(a, "urn:d", "y").unwrap();
        assert_eq!(doc.raw(empty), "<y a=\"1&#9;2\n3\"/>");
    }

    #[test]
    fn doctype_is_refused_and_can_become_a_finding() {
        let err = parse("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>").unwrap_err();
        assert!(is_doctype_refusal(&err), "{err}");
        assert!(err.to_string().contains("DOCTYPE"));
        let f = doctype_finding(&err).unwrap();
        assert_eq!(f.severity, crate::Severity::Error);
        assert!(doctype_finding(&parse("<a>").unwrap_err()).is_none());
    }

    #[test]
    fn unknown_entities_are_never_resolved() {
        let err = parse("<r>&ext;</r>").unwrap_err();
        assert!(err.to_string().contains("&ext;"), "{err}");
        assert!(parse("<r a='&ext;'/>").is_err());
        assert!(parse("<r>&#0;</r>").is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("<a><b><c><d/></c></b></a>", &limits),
            Err(DecodeError::TooLarge {
                what: "XML nesting depth",
                ..
            })
        ));
        let limits = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("<a><b/><b/><b/><b/><b/></a>", &limits),
            Err(DecodeError::TooLarge {
                what: "XML node count",
                ..
            })
        ));
        let limits = Limits {
            max_body: 4,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("<abc/>", &limits),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn malformed_documents_are_errors_with_offsets() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text<a/>",
            "<p:a/>",
            "<a p:x='1'/>",
            "<a x='1' x='2'/>",
            "<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>",
            "<a x='<'/>",
            "<a xmlns:p='u' xmlns:p='v'/>",
            "<a a='' b='' c='' d='' e='' f='' g='' h='' i='' j='' a=''/>",
            "<a xmlns:p='u' xmlns:q='u' a='' b='' c='' d='' e='' f='' g='' h='' i='' p:x='' q:x=''/>",
            "</a>",
            "<a>&amp</a>",
        ] {
            let r = parse(bad);
            assert!(
                matches!(r, Err(DecodeError::Xml { .. })),
                "{bad:?} gave {r:?}"
            );
        }
    }

    #[test]
    fn duplicate_ids_are_listed() {
        let doc = parse("<r><a ID='x'/><b AssertionID='x'/><c Id='y'/></r>").unwrap();
        let dups = doc.duplicate_ids();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].0, "x");
        assert_eq!(dups[0].1.len(), 2);
        assert_eq!(doc.elements_by_id("y").len(), 1);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_offsets_stay_source_offsets() {
        let text = "\u{feff}<?xml version=\"1.0\"?><a><b x='1'/></a>";
        let doc = parse(text).unwrap();
        let b = doc.child_elements(doc.root().unwrap()).next().unwrap();
        assert_eq!(doc.raw(b), "<b x='1'/>");
        assert_eq!(&text[doc.range(b)], "<b x='1'/>");
        let err = parse("\u{feff}<a><b></a>").unwrap_err();
        assert!(
            matches!(err, DecodeError::Xml { offset, .. } if offset >= 3),
            "{err:?}"
        );
    }

    #[test]
    fn line_endings_are_normalised_in_text() {
        let doc = parse("<a>x\r\ny\rz</a>").unwrap();
        assert_eq!(doc.text_content(doc.root().unwrap()), "x\ny\nz");
    }

    #[test]
    fn descendants_and_is_inside_follow_document_order() {
        let doc = parse("<a><b><c/></b><d/></a>").unwrap();
        let a = doc.root().unwrap();
        let names: Vec<&str> = doc.descendants(a).map(|n| doc.local_name(n)).collect();
        assert_eq!(names, ["b", "c", "d"]);
        let b = doc.child_elements(a).next().unwrap();
        assert_eq!(doc.descendants(b).count(), 1);
        let d = doc.child_elements(a).nth(1).unwrap();
        assert!(!doc.is_inside(d, b));
        assert!(doc.is_inside(d, a));
    }
}
