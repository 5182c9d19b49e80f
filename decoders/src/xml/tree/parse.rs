//! Building a [`Document`] from source text: the quick-xml event loop, the DOCTYPE refusal,
//! entity and character-reference unescaping, namespace resolution while elements open, and the
//! [`Limits`] checks on size, depth and node count. The lenient reading
//! ([`Document::parse_lenient`]) differs only where a strict parse would fail on an unbound
//! prefix or an unresolved reference, so the strict path does no extra work per node.
//!
//! Not responsible for reading a finished document (see [`super::query`]).

use std::collections::HashMap;
use std::ops::Range;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::*;

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

/// The character a reference names (`name` is what stands between `&` and `;`): one of the five
/// predefined entities or a character reference to a character XML allows.
fn xml_reference(name: &str) -> Result<char, String> {
    Ok(match name {
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
                return Err(format!(
                    "entity reference &{name}; is not resolved (only the five predefined \
                     entities and character references are allowed)"
                ));
            };
            code.and_then(char::from_u32)
                .filter(|c| is_xml_char(*c))
                .ok_or_else(|| format!("invalid character reference &{name};"))?
        }
    })
}

/// The longest reference name (bytes between `&` and `;`) a strict parse reads.
const NAME_MAX: usize = 16;

/// The longest reference name a lenient parse reads; a longer run up to `;` stays as written
/// without being listed.
const LENIENT_NAME_MAX: usize = 32;

/// At most this many distinct unresolved names are listed (a hostile document can hold any
/// number of them).
const UNRESOLVED_MAX: usize = 16;

/// The position of the `;` ending a reference name in `rest` (what follows the `&`), looking at
/// most `max` bytes ahead.
fn name_end(rest: &str, max: usize) -> Option<usize> {
    rest.bytes().take(max + 1).position(|b| b == b';')
}

/// The position of the `;` ending a reference name in text, as quick-xml delimits a reference
/// there: `None` when an `&` or `<` comes first. Each byte is looked at once per reference, and
/// references do not overlap, so reading a text stays linear.
fn text_name_end(rest: &str) -> Option<usize> {
    let i = rest.bytes().position(|b| matches!(b, b';' | b'&' | b'<'))?;
    (rest.as_bytes().get(i) == Some(&b';')).then_some(i)
}

/// Lenient reading of a reference that [`xml_reference`] refused: a character reference the looser
/// rule of [`crate::xml::reference_char`] accepts (`&#X41;`, control characters) becomes its
/// character; any other `&name;` is copied to `out` as written and `name` listed once in
/// `unresolved`. In an attribute value the name ends at the first `;` within
/// [`LENIENT_NAME_MAX`] bytes, in text where quick-xml ends it ([`text_name_end`]); an `&`
/// without one is copied alone. `rest` follows the `&`; returns how many bytes of the source
/// (from the `&`) were consumed.
fn lenient_reference(
    rest: &str,
    attr: bool,
    out: &mut String,
    unresolved: &mut Vec<Box<str>>,
) -> usize {
    let end = if attr {
        name_end(rest, LENIENT_NAME_MAX)
    } else {
        text_name_end(rest)
    };
    let Some(name) = end.and_then(|e| rest.get(..e)) else {
        out.push('&');
        return 1;
    };
    if let Some(c) = crate::xml::reference_char(name) {
        out.push(c);
    } else {
        out.push('&');
        out.push_str(name);
        out.push(';');
        if unresolved.len() < UNRESOLVED_MAX && !unresolved.iter().any(|u| **u == *name) {
            unresolved.push(name.into());
        }
    }
    name.len() + 2
}

/// Unescapes text or an attribute value into `out`: the five predefined entities, character
/// references, line endings normalised to `\n`, and for attributes literal whitespace to a space.
/// Returns the relative offset and message of the first error.
///
/// With `lenient` (see [`Document::parse_lenient`]), a reference that is not resolved goes
/// through [`lenient_reference`] and is listed there instead of failing, and an attribute value
/// keeps its whitespace and line endings as written and may hold `<`.
fn unescape_into(
    raw: &str,
    attr: bool,
    out: &mut String,
    mut lenient: Option<&mut Vec<Box<str>>>,
) -> Result<(), (usize, String)> {
    let normalize_attr = attr && lenient.is_none();
    let normalize_eol = !attr || lenient.is_none();
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        match b {
            b'&' => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                let rest = raw.get(i + 1..).unwrap_or("");
                let resolved = name_end(rest, NAME_MAX)
                    .ok_or_else(|| "'&' without a terminating ';'".to_string())
                    .and_then(|end| xml_reference(rest.get(..end).unwrap_or("")).map(|c| (c, end)));
                match (resolved, lenient.as_deref_mut()) {
                    (Ok((c, end)), _) => {
                        out.push(c);
                        i += end + 2;
                    }
                    (Err(_), Some(unresolved)) => {
                        i += lenient_reference(rest, attr, out, unresolved);
                    }
                    (Err(message), None) => return Err((i, message)),
                }
                last = i;
            }
            b'\r' if normalize_eol => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                out.push(if attr { ' ' } else { '\n' });
                i += 1;
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
                last = i;
            }
            b'\n' | b'\t' if normalize_attr => {
                out.push_str(raw.get(last..i).unwrap_or(""));
                out.push(' ');
                i += 1;
                last = i;
            }
            b'<' if normalize_attr => return Err((i, "'<' in an attribute value".to_string())),
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
    /// Unbound prefixes and unresolved references are tolerated ([`Document::parse_lenient`]).
    lenient: bool,
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
        let lenient = if self.lenient {
            Some(&mut self.doc.unresolved)
        } else {
            None
        };
        unescape_into(raw, attr, &mut self.doc.buf, lenient)
            .map_err(|(rel, m)| xml_err(offset + rel, m))?;
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

    /// The namespace index bound to `prefix`; for an unbound prefix [`UNBOUND`] in a lenient
    /// document and an error at `offset` otherwise.
    fn resolve_prefix(&self, prefix: &str, offset: usize) -> Result<u32, DecodeError> {
        match self.lookup(prefix) {
            Some(i) => Ok(i),
            None if self.lenient => Ok(UNBOUND),
            None => Err(xml_err(
                offset,
                format!("unbound namespace prefix `{prefix}`"),
            )),
        }
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
            // Outside the document element only whitespace is allowed, and it is not kept. A
            // lenient document also lets references to whitespace (`&#32;`) and any Unicode
            // whitespace pass.
            let blank = self.lenient && {
                let mut text = String::new();
                unescape_into(raw, false, &mut text, Some(&mut Vec::new())).is_ok()
                    && text.trim().is_empty()
            };
            return match raw.find(|c: char| !c.is_ascii_whitespace()) {
                Some(rel) if !blank => {
                    Err(xml_err(start + rel, "text outside the document element"))
                }
                _ => Ok(()),
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
                let refused = if key.starts_with("xmlns:") && (prefix.is_empty() || uri.is_empty())
                {
                    Some((raw_off, "invalid namespace declaration"))
                } else if prefix == "xmlns" || (prefix == "xml" && uri != XML_NS) {
                    Some((key_off, "reserved prefix in"))
                } else {
                    None
                };
                if let Some((at, what)) = refused {
                    if !self.lenient {
                        return Err(xml_err(at, format!("{what} {key}")));
                    }
                    // Kept as an ordinary attribute; names using its prefix stay unbound.
                    if !self.seen.insert((u32::MAX, key)) {
                        return Err(xml_err(key_off, format!("duplicate attribute {key}")));
                    }
                    plain.push((key_off, key.len(), raw_off, raw.len()));
                    continue;
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
                if !self.seen.insert((u32::MAX, key)) {
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
            Some(p) => self.resolve_prefix(p, offset)?,
            None => self.lookup("").unwrap_or(0),
        };
        let attr_start = self.doc.attrs.len() as u32;
        let src = self.doc.src;
        for &(key_off, key_len, raw_off, raw_len) in &plain {
            let key: &'a str = src.get(key_off..key_off + key_len).unwrap_or("");
            let raw: &'a str = src.get(raw_off..raw_off + raw_len).unwrap_or("");
            let (aprefix, _) = split_qname(key);
            let ans = match aprefix {
                Some(p) => self.resolve_prefix(p, key_off)?,
                None => 0,
            };
            // Two attributes with the same expanded name are an error even when spelled apart.
            // A lenient document, where prefixes need not be bound, compares names as written.
            let name = if self.lenient {
                key
            } else {
                split_qname(key).1
            };
            let clash = if plain.len() <= 8 {
                self.doc
                    .attrs
                    .get(attr_start as usize..)
                    .unwrap_or(&[])
                    .iter()
                    .any(|a| a.ns == ans && self.doc.attr_name_key(a, self.lenient) == name)
            } else {
                !self.seen.insert((ans, name))
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

fn quick_xml_error(reader: &Reader<&[u8]>, e: &quick_xml::Error) -> DecodeError {
    xml_err(reader.error_position() as usize, e.to_string())
}

impl<'a> Document<'a> {
    /// Parses `text` into a tree. Refuses a DOCTYPE and unknown entities (see the module
    /// documentation) and stays within `limits`.
    pub fn parse(text: &'a str, limits: &Limits) -> Result<Self, DecodeError> {
        Self::build(text, limits, false)
    }

    /// Parses `text` for display (a view that shows a document rather than verifying it). The
    /// DOCTYPE refusal and `limits` are those of [`Document::parse`]; where a strict parse would
    /// fail, this one reads on:
    ///
    /// * a prefix with no namespace declaration in scope leaves the name with its prefix and no
    ///   namespace ([`Document::has_unbound_prefix`]); attributes are told apart by their names
    ///   as written, and a namespace declaration XML refuses (`xmlns:p=""`) is an ordinary
    ///   attribute;
    /// * a reference that is neither a predefined entity nor an XML character reference is read
    ///   with the looser rule of [`crate::xml::reference_char`] (`&#X41;`), and otherwise kept as
    ///   written and listed in [`Document::unresolved_entities`]; nothing is expanded;
    /// * attribute values keep their whitespace and line endings as written and may hold `<`;
    /// * `--` inside a comment, an XML declaration that is not first, and CDATA or references to
    ///   whitespace outside the document element are accepted (the last two are not kept).
    ///
    /// Not for documents whose signatures, canonical bytes or namespaces matter.
    pub fn parse_lenient(text: &'a str, limits: &Limits) -> Result<Self, DecodeError> {
        Self::build(text, limits, true)
    }

    fn build(text: &'a str, limits: &Limits, lenient: bool) -> Result<Self, DecodeError> {
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
                decl: None,
                unresolved: Vec::new(),
            },
            limits: *limits,
            lenient,
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
        // `--` inside a comment is refused, except in documents that are only shown.
        cfg.check_comments = !lenient;
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
                        if b.lenient {
                            // Shown documents skip it, as text outside the element is not kept.
                            continue;
                        }
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
                    // A lenient document takes the last declaration, wherever it stands.
                    if before != body_start && !b.lenient {
                        return Err(xml_err(before, "XML declaration not at the start"));
                    }
                    // What stands between `<?xml` and `?>`, trimmed.
                    let inner = text.get(before + 2..after.saturating_sub(2)).unwrap_or("");
                    b.doc.decl = b.span_src(inner.trim_start_matches("xml").trim());
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
}

/// The declaration a DOCTYPE refusal of [`Document::parse`] or [`Document::parse_lenient`]
/// stopped at: what stands between `<!DOCTYPE` and the closing `>`, trimmed, read from
/// `source` (the text that was parsed) at the error's offset. `None` when `err` is not that
/// refusal or does not point at a DOCTYPE in `source`. Nothing in it is interpreted.
pub fn doctype_declaration<'s>(source: &'s str, err: &DecodeError) -> Option<&'s str> {
    let DecodeError::Xml { offset, message } = err else {
        return None;
    };
    if !message.starts_with(DOCTYPE_MESSAGE) {
        return None;
    }
    let rest = source.get(usize::try_from(*offset).ok()?..)?;
    let mut reader = Reader::from_str(rest);
    match reader.read_event() {
        Ok(Event::DocType(_)) => {
            let end = usize::try_from(reader.buffer_position()).ok()?;
            // `<!DOCTYPE` is nine bytes and the event ends with `>`.
            Some(rest.get(9..end.checked_sub(1)?)?.trim())
        }
        _ => None,
    }
}
