//! The encoder: XML text to MC-NBFX records (MC-NBFS dictionary, optionally an MC-NBFSE string
//! table), in two styles, plus [`normalize`], the XML text a round trip produces.
//!
//! The XML is read with quick-xml. Entities are never resolved: only the five predefined ones and
//! character references are accepted, any other `&name;` is an error, and a DOCTYPE is refused.
//! Processing instructions cannot be represented in NBFX and are refused; the XML declaration
//! is dropped. This module exists for tests and the fixture server; it is not used on the
//! proxy's decode path and does not try to reproduce a particular .NET writer byte for byte.
//!
//! **Normalisation** (what [`normalize`] does, and what `decode(encode(x))` yields): the XML
//! declaration is dropped; text nodes made only of XML whitespace are dropped (as an
//! `XmlDocument` without `PreserveWhitespace` does); CDATA sections become escaped text;
//! end-of-line and attribute-value normalisation are applied as an XML parser would; empty
//! elements are written `<a></a>`; attributes keep their order and use double quotes; text is
//! escaped minimally as the decoder does (`&amp; &lt; &gt;` in content, `&amp; &lt; &quot;
//! &#9; &#10; &#13;` in attributes); every `--` in a comment is split.

use std::borrow::Cow;

use base64::Engine as _;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::reader::{Ctx, push_comment_body, push_escaped};
use super::{Session, dictionary};
use crate::DecodeError;

/// Which kind of .NET writer the encoder imitates. Both styles use the static dictionary (and
/// the session table, if any) for element names, attribute names and namespace URIs; they
/// differ in how values are written. Both decode to the same XML text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// "AADInternals-like": an `XmlDocument` written through `XmlDictionaryWriter`. Every
    /// value is Chars8/16/32 text chosen by length (booleans, numbers, GUIDs and `i:type`
    /// values included), an empty attribute value is EmptyText, and elements end with an
    /// explicit EndElement record.
    XmlDocument,
    /// "DCS-like": a DataContractSerializer-style writer that uses typed records whenever the
    /// text round-trips exactly: Zero/One/False/True, Int8/16/32/64 and UInt64 for canonical
    /// integers, UniqueId for `urn:uuid:` and Uuid for bare lowercase GUIDs, QNameDictionary
    /// for `p:name` values with a one-letter prefix and a dictionary name, DictionaryText for
    /// dictionary strings, Bytes records in 512-byte chunks for canonical base64 inside
    /// elements typed `base64Binary`, Chars16/Chars32 for long strings, and the odd
    /// *WithEndElement form of the last text record of an element.
    DataContract,
}

/// Bytes per Bytes record in [`Style::DataContract`] (WCF also splits large byte arrays).
const BYTES_CHUNK: usize = 512;

/// Receives the XML events that survive normalisation.
trait Sink {
    fn start(&mut self, name: &str, attrs: &[(&str, Cow<'_, str>)]) -> Result<(), DecodeError>;
    fn text(&mut self, text: &str) -> Result<(), DecodeError>;
    fn end(&mut self) -> Result<(), DecodeError>;
    fn comment(&mut self, text: &str) -> Result<(), DecodeError>;
}

fn xml_err(offset: u64, message: impl ToString) -> DecodeError {
    DecodeError::Xml {
        offset,
        message: message.to_string(),
    }
}

fn is_xml_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn flush(text: &mut String, sink: &mut impl Sink) -> Result<(), DecodeError> {
    if !text.is_empty() && !is_xml_space(text) {
        sink.text(text)?;
    }
    text.clear();
    Ok(())
}

fn start(e: &BytesStart<'_>, offset: u64, sink: &mut impl Sink) -> Result<(), DecodeError> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| xml_err(offset, err))?;
        let v = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| xml_err(offset, err))?;
        attrs.push((a.key.into_inner(), v));
    }
    sink.start(e.name().into_inner(), &attrs)
}

/// Reads `xml` and feeds the normalised events to `sink`.
fn walk(xml: &str, sink: &mut impl Sink) -> Result<(), DecodeError> {
    let xml = xml.strip_prefix('\u{FEFF}').unwrap_or(xml);
    let mut r = quick_xml::Reader::from_str(xml);
    let mut text = String::new();
    let mut depth = 0usize;
    loop {
        let ev = r.read_event().map_err(|e| xml_err(r.error_position(), e))?;
        let at = r.buffer_position();
        match ev {
            Event::Start(e) => {
                flush(&mut text, sink)?;
                start(&e, at, sink)?;
                depth += 1;
            }
            Event::Empty(e) => {
                flush(&mut text, sink)?;
                start(&e, at, sink)?;
                sink.end()?;
            }
            Event::End(_) => {
                flush(&mut text, sink)?;
                sink.end()?;
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(c) => text.push_str(&c),
            Event::GeneralRef(g) => {
                let c = match g.resolve_char_ref().map_err(|e| xml_err(at, e))? {
                    Some(c) => c,
                    None => match &*g {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(xml_err(
                                at,
                                format!(
                                    "entity &{other}; is not defined (entities are never resolved)"
                                ),
                            ));
                        }
                    },
                };
                text.push(c);
            }
            Event::Comment(c) => {
                flush(&mut text, sink)?;
                sink.comment(&c)?;
            }
            Event::Decl(_) => {}
            Event::PI(_) => {
                return Err(xml_err(
                    at,
                    "processing instructions cannot be encoded in NBFX",
                ));
            }
            Event::DocType(_) => {
                return Err(xml_err(
                    at,
                    "DOCTYPE is refused (no DTDs, no entity definitions)",
                ));
            }
            Event::Eof => {
                if depth != 0 {
                    return Err(xml_err(at, format!("{depth} element(s) not closed")));
                }
                return flush(&mut text, sink);
            }
        }
    }
}

/// Renders events as the decoder would render their encoding.
#[derive(Debug, Default)]
struct Canon {
    out: String,
    names: Vec<String>,
}

impl Sink for Canon {
    fn start(&mut self, name: &str, attrs: &[(&str, Cow<'_, str>)]) -> Result<(), DecodeError> {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            push_escaped(&mut self.out, v, Ctx::Attr);
            self.out.push('"');
        }
        self.out.push('>');
        self.names.push(name.to_string());
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), DecodeError> {
        push_escaped(&mut self.out, text, Ctx::Content);
        Ok(())
    }

    fn end(&mut self) -> Result<(), DecodeError> {
        let name = self.names.pop().unwrap_or_default();
        self.out.push_str("</");
        self.out.push_str(&name);
        self.out.push('>');
        Ok(())
    }

    fn comment(&mut self, text: &str) -> Result<(), DecodeError> {
        self.out.push_str("<!--");
        push_comment_body(&mut self.out, text);
        self.out.push_str("-->");
        Ok(())
    }
}

/// The XML text that `decode(encode(xml, style))` produces, for either style: the normalisation
/// described in the module documentation. Errors are those of [`encode`].
pub fn normalize(xml: &str) -> Result<String, DecodeError> {
    let mut c = Canon::default();
    walk(xml, &mut c)?;
    Ok(c.out)
}

/// Encodes XML text as an `application/soap+msbin1` body (MC-NBFS: static dictionary only).
///
/// ```
/// use idscope_decoders::soap::nbfx::{decode, encode, DecodeOptions, Style};
/// let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body></s:Body></s:Envelope>"#;
/// let bytes = encode(xml, Style::DataContract).unwrap();
/// assert_eq!(bytes, [0x56, 0x02, 0x0B, 0x01, 0x73, 0x04, 0x56, 0x0E, 0x01, 0x01]);
/// assert_eq!(decode(&bytes, &DecodeOptions::default()).unwrap().xml, xml);
/// ```
pub fn encode(xml: &str, style: Style) -> Result<Vec<u8>, DecodeError> {
    let mut enc = Encoder::new(style, None);
    walk(xml, &mut enc)?;
    Ok(enc.out)
}

/// Encodes XML text as one `application/soap+msbinsession1` message (MC-NBFSE): names and
/// namespace URIs missing from the static dictionary and from `session` are added to `session`
/// and sent in the message's string table; values are never added. Use one session per
/// direction of a connection, as the peer's decoder does.
pub fn encode_session(
    xml: &str,
    style: Style,
    session: &mut Session,
) -> Result<Vec<u8>, DecodeError> {
    let first_new = session.len();
    let mut enc = Encoder::new(style, Some(session));
    let res = walk(xml, &mut enc);
    let body = std::mem::take(&mut enc.out);
    drop(enc);
    if let Err(e) = res {
        session.truncate(first_new);
        return Err(e);
    }
    let mut table = Vec::new();
    for s in session.strings.get(first_new..).unwrap_or_default() {
        put_string(&mut table, s)?;
    }
    let mut out = Vec::with_capacity(table.len() + body.len() + 5);
    put_mbi31(&mut out, table.len())?;
    out.extend_from_slice(&table);
    out.extend_from_slice(&body);
    Ok(out)
}

fn put_mbi31(out: &mut Vec<u8>, v: usize) -> Result<(), DecodeError> {
    let mut v =
        u32::try_from(v)
            .ok()
            .filter(|v| *v <= 0x7FFF_FFFF)
            .ok_or(DecodeError::TooLarge {
                what: "MultiByteInt31 value",
                limit: 0x7FFF_FFFF,
            })?;
    while v >= 0x80 {
        out.push((v as u8 & 0x7F) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    Ok(())
}

fn put_string(out: &mut Vec<u8>, s: &str) -> Result<(), DecodeError> {
    put_mbi31(out, s.len())?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Writes Chars8/16/32 (even type) by byte length.
fn put_chars(out: &mut Vec<u8>, s: &str) -> Result<(), DecodeError> {
    let len = s.len();
    if let Ok(n) = u8::try_from(len) {
        out.push(0x98);
        out.push(n);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(0x9A);
        out.extend_from_slice(&n.to_le_bytes());
    } else {
        let n = i32::try_from(len).map_err(|_| DecodeError::TooLarge {
            what: "Chars32Text length",
            limit: i32::MAX as usize,
        })?;
        out.push(0x9C);
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// A canonical decimal integer (no sign on zero, no `+`, no leading zeros) in i64 ∪ u64.
fn canonical_int(s: &str) -> Option<i128> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.len() <= 20
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    let v: i128 = s.parse().ok().filter(|_| canonical)?;
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&v)
        .then_some(v)
}

/// The .NET byte order of a lowercase, hyphenated GUID (the only spelling the decoder writes).
fn guid_bytes(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut hex = [0u8; 16];
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        let slot = hex.get_mut(n / 2)?;
        *slot = (*slot << 4) | v;
        n += 1;
    }
    let [a0, a1, a2, a3, b0, b1, c0, c1, rest @ ..] = hex;
    let mut out = [0u8; 16];
    let head = [a3, a2, a1, a0, b1, b0, c1, c0];
    for (o, v) in out.iter_mut().zip(head.into_iter().chain(rest)) {
        *o = v;
    }
    Some(out)
}

/// Splits `p:local` at the first colon (no colon: empty prefix).
fn split_qname(q: &str) -> (&str, &str) {
    q.split_once(':').unwrap_or(("", q))
}

/// A one-letter lowercase prefix as its index 0..=25.
fn letter(prefix: &str) -> Option<u8> {
    match prefix.as_bytes() {
        [c @ b'a'..=b'z'] => Some(c - b'a'),
        _ => None,
    }
}

#[derive(Debug)]
struct Encoder<'s> {
    out: Vec<u8>,
    style: Style,
    session: Option<&'s mut Session>,
    /// Per open element: whether its content is typed `base64Binary`.
    stack: Vec<bool>,
    /// Offset of the type byte of the last text record, while nothing else followed it.
    last_text: Option<usize>,
}

impl<'s> Encoder<'s> {
    fn new(style: Style, session: Option<&'s mut Session>) -> Self {
        Encoder {
            out: Vec::new(),
            style,
            session,
            stack: Vec::new(),
            last_text: None,
        }
    }

    /// The dictionary id for a name or namespace URI; adds it to the session if there is one.
    fn name_id(&mut self, s: &str) -> Option<u32> {
        if let Some(id) = dictionary::id_of(s) {
            return Some(id);
        }
        let session = self.session.as_deref_mut()?;
        Some(match session.id_of(s) {
            Some(id) => id,
            None => session.push(s.to_string()),
        })
    }

    /// The dictionary id for a value, without adding anything.
    fn value_id(&self, s: &str) -> Option<u32> {
        dictionary::id_of(s).or_else(|| self.session.as_deref().and_then(|t| t.id_of(s)))
    }

    /// Writes a name as one of six record forms: `(short dict, letter dict, prefixed dict,
    /// short, letter, prefixed)` record types.
    fn put_name(&mut self, qname: &str, types: [u8; 6]) -> Result<(), DecodeError> {
        let (prefix, local) = split_qname(qname);
        let [short_dict, letter_dict, dict, short, letter_lit, lit] = types;
        match (prefix, letter(prefix), self.name_id(local)) {
            ("", _, Some(id)) => {
                self.out.push(short_dict);
                put_mbi31(&mut self.out, id as usize)
            }
            (_, Some(i), Some(id)) => {
                self.out.push(letter_dict + i);
                put_mbi31(&mut self.out, id as usize)
            }
            (p, None, Some(id)) => {
                self.out.push(dict);
                put_string(&mut self.out, p)?;
                put_mbi31(&mut self.out, id as usize)
            }
            ("", _, None) => {
                self.out.push(short);
                put_string(&mut self.out, local)
            }
            (_, Some(i), None) => {
                self.out.push(letter_lit + i);
                put_string(&mut self.out, local)
            }
            (p, None, None) => {
                self.out.push(lit);
                put_string(&mut self.out, p)?;
                put_string(&mut self.out, local)
            }
        }
    }

    /// Writes the records for one value; returns the offset of the last record's type byte.
    fn put_value(&mut self, s: &str, ctx: Ctx, base64: bool) -> Result<usize, DecodeError> {
        let at = self.out.len();
        if s.is_empty() {
            self.out.push(0xA8);
            return Ok(at);
        }
        if self.style == Style::XmlDocument {
            put_chars(&mut self.out, s)?;
            return Ok(at);
        }
        let fixed = match s {
            "0" => Some(0x80),
            "1" => Some(0x82),
            "false" => Some(0x84),
            "true" => Some(0x86),
            _ => None,
        };
        if let Some(rt) = fixed {
            self.out.push(rt);
            return Ok(at);
        }
        if let Some(v) = canonical_int(s) {
            if let Ok(v) = i8::try_from(v) {
                self.out.push(0x88);
                self.out.extend_from_slice(&v.to_le_bytes());
            } else if let Ok(v) = i16::try_from(v) {
                self.out.push(0x8A);
                self.out.extend_from_slice(&v.to_le_bytes());
            } else if let Ok(v) = i32::try_from(v) {
                self.out.push(0x8C);
                self.out.extend_from_slice(&v.to_le_bytes());
            } else if let Ok(v) = i64::try_from(v) {
                self.out.push(0x8E);
                self.out.extend_from_slice(&v.to_le_bytes());
            } else {
                let v = u64::try_from(v).unwrap_or(u64::MAX);
                self.out.push(0xB2);
                self.out.extend_from_slice(&v.to_le_bytes());
            }
            return Ok(at);
        }
        if let Some(g) = s.strip_prefix("urn:uuid:").and_then(guid_bytes) {
            self.out.push(0xAC);
            self.out.extend_from_slice(&g);
            return Ok(at);
        }
        if let Some(g) = guid_bytes(s) {
            self.out.push(0xB0);
            self.out.extend_from_slice(&g);
            return Ok(at);
        }
        if let Some((p, local)) = s.split_once(':')
            && let (Some(i), Some(id)) = (letter(p), self.value_id(local))
            && !local.is_empty()
        {
            self.out.push(0xBC);
            self.out.push(i);
            put_mbi31(&mut self.out, id as usize)?;
            return Ok(at);
        }
        if base64 && ctx == Ctx::Content {
            let engine = &base64::engine::general_purpose::STANDARD;
            if let Ok(bytes) = engine.decode(s)
                && engine.encode(&bytes) == s
            {
                let mut last = at;
                for chunk in bytes.chunks(BYTES_CHUNK) {
                    last = self.out.len();
                    if let Ok(n) = u8::try_from(chunk.len()) {
                        self.out.push(0x9E);
                        self.out.push(n);
                    } else {
                        let n = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
                        self.out.push(0xA0);
                        self.out.extend_from_slice(&n.to_le_bytes());
                    }
                    self.out.extend_from_slice(chunk);
                }
                return Ok(last);
            }
        }
        if let Some(id) = self.value_id(s) {
            self.out.push(0xAA);
            put_mbi31(&mut self.out, id as usize)?;
            return Ok(at);
        }
        put_chars(&mut self.out, s)?;
        Ok(at)
    }
}

impl Sink for Encoder<'_> {
    fn start(&mut self, name: &str, attrs: &[(&str, Cow<'_, str>)]) -> Result<(), DecodeError> {
        self.last_text = None;
        self.put_name(name, [0x42, 0x44, 0x43, 0x40, 0x5E, 0x41])?;
        let mut base64 = split_qname(name).1 == "base64Binary";
        for (k, v) in attrs {
            if *k == "xmlns" || k.starts_with("xmlns:") {
                let prefix = k.strip_prefix("xmlns:");
                let id = self.name_id(v);
                self.out.push(match (prefix.is_some(), id.is_some()) {
                    (false, true) => 0x0A,
                    (false, false) => 0x08,
                    (true, true) => 0x0B,
                    (true, false) => 0x09,
                });
                if let Some(p) = prefix {
                    put_string(&mut self.out, p)?;
                }
                match id {
                    Some(id) => put_mbi31(&mut self.out, id as usize)?,
                    None => put_string(&mut self.out, v)?,
                }
                continue;
            }
            if split_qname(k).1 == "type" && v.ends_with(":base64Binary") {
                base64 = true;
            }
            self.put_name(k, [0x06, 0x0C, 0x07, 0x04, 0x26, 0x05])?;
            self.put_value(v, Ctx::Attr, false)?;
        }
        self.stack.push(base64);
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), DecodeError> {
        let base64 = self.stack.last().copied().unwrap_or(false);
        self.last_text = Some(self.put_value(text, Ctx::Content, base64)?);
        Ok(())
    }

    fn end(&mut self) -> Result<(), DecodeError> {
        self.stack.pop();
        match self.last_text.take() {
            Some(at) if self.style == Style::DataContract => {
                if let Some(rt) = self.out.get_mut(at) {
                    *rt |= 1;
                }
            }
            _ => self.out.push(0x01),
        }
        Ok(())
    }

    fn comment(&mut self, text: &str) -> Result<(), DecodeError> {
        self.last_text = None;
        self.out.push(0x02);
        put_string(&mut self.out, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_typed_only_when_canonical() {
        assert_eq!(canonical_int("41016"), Some(41016));
        assert_eq!(canonical_int("-128"), Some(-128));
        assert_eq!(canonical_int("18446744073709551615"), Some(u64::MAX.into()));
        for s in [
            "",
            "-",
            "-0",
            "007",
            "+1",
            "1.0",
            "18446744073709551616",
            " 1",
        ] {
            assert_eq!(canonical_int(s), None, "{s:?}");
        }
    }

    #[test]
    fn guids_are_typed_only_in_lowercase_hyphenated_form() {
        let g = guid_bytes("ac7f7894-fc42-4adf-bafe-64ad0e70f8bb").unwrap();
        assert_eq!(
            crate::util::dotnet_guid(&g),
            "ac7f7894-fc42-4adf-bafe-64ad0e70f8bb"
        );
        assert_eq!(
            crate::util::b64_std(&g),
            "lHh/rEL830q6/mStDnD4uw==",
            "SourceAnchor bytes are the same .NET order"
        );
        assert_eq!(guid_bytes("AC7F7894-FC42-4ADF-BAFE-64AD0E70F8BB"), None);
        assert_eq!(guid_bytes("{ac7f7894-fc42-4adf-bafe-64ad0e70f8bb}"), None);
    }

    #[test]
    fn mbi31_encoding_matches_the_spec_examples() {
        for (v, bytes) in [
            (17usize, &[0x11][..]),
            (145, &[0x91, 0x01]),
            (5521, &[0x91, 0x2B]),
            (16384, &[0x80, 0x80, 0x01]),
            (268_435_456, &[0x80, 0x80, 0x80, 0x80, 0x01]),
        ] {
            let mut out = Vec::new();
            put_mbi31(&mut out, v).unwrap();
            assert_eq!(out, bytes);
        }
    }
}
