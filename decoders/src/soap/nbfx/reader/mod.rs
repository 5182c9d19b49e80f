//! The decoder: MC-NBFX records (with MC-NBFS/MC-NBFSE dictionary strings) to XML text.
//!
//! Everything here reads untrusted bytes through [`Cursor`], a panic-free reader in the style of
//! rustls's `Reader`: every read is bounds-checked, lengths are compared with what is left before
//! anything is sliced or allocated, and every error names the byte offset. The output is written
//! into one `String`; open element names live in one reusable buffer, so decoding a document does
//! not allocate per record. This module does not parse XML text, know SOAP, or build view trees
//! (see `../writer.rs` and `../mod.rs`).
//!
//! This file holds the decoding state ([`Reader`]), the record loop and the structural records
//! (elements, attributes, namespace declarations, lists, end of element) and [`decode_body`].
//! Beside it: [`cursor`] (the bounds-checked input), [`escape`] (XML escaping), [`text`] (text
//! records), [`values`] (.NET spellings of typed values), [`array`] (Array records) and
//! [`string_table`] (the MC-NBFSE string table).

mod array;
mod cursor;
mod escape;
mod string_table;
mod text;
mod values;

use std::fmt::Write as _;

use super::{DecodeOptions, DictionaryMode, Framing, NbfxDocument, Session, Stats, dictionary};
use crate::DecodeError;
use cursor::malformed;

pub(super) use cursor::Cursor;
pub(super) use escape::{Ctx, push_comment_body, push_escaped};
pub(super) use string_table::string_table;

/// At most this many distinct unknown ids (and undeclared prefixes) are listed.
const MAX_LISTED: usize = 64;

/// Checks a name taken from the input: not empty and free of bytes that would break the markup.
fn check_name<'b>(bytes: &'b [u8], what: &'static str, at: usize) -> Result<&'b str, DecodeError> {
    let bad = bytes.is_empty()
        || bytes.iter().any(|b| {
            matches!(
                b,
                b'<' | b'>' | b'&' | b'"' | b'\'' | b'=' | b'/' | b' ' | b':' | b'!' | b'?'
            ) || *b < 0x20
        });
    if bad {
        return Err(malformed(what, at, "not a usable XML name"));
    }
    std::str::from_utf8(bytes).map_err(|_| malformed(what, at, "name is not valid UTF-8"))
}

/// One open element: where its qualified name sits in `Reader::names`, where its namespace
/// declarations start in `Reader::decls`, and what it contains so far (for indentation).
#[derive(Debug, Clone, Copy)]
struct Open {
    name_start: usize,
    decl_mark: usize,
    has_text: bool,
    has_child: bool,
}

/// The decoding state for one message.
#[derive(Debug)]
struct Reader<'a, 's> {
    cur: Cursor<'a>,
    opts: &'a DecodeOptions,
    session: &'s Session,
    out: String,
    /// Qualified names of the open elements, concatenated; `Open::name_start` indexes it.
    names: String,
    stack: Vec<Open>,
    /// Byte ranges in `out` of the prefixes declared by open elements (`xmlns:p`).
    decls: Vec<(usize, usize)>,
    /// Byte ranges in `out` of the prefixes used by the element being opened.
    used: Vec<(usize, usize)>,
    /// Whether the innermost start tag still lacks its `>`.
    start_open: bool,
    bytes: Vec<u8>,
    scratch: String,
    tag: String,
    nodes: usize,
    stats: Stats,
    unknown: Vec<u32>,
    undeclared: Vec<String>,
}

impl<'a, 's> Reader<'a, 's> {
    fn new(
        cur: Cursor<'a>,
        opts: &'a DecodeOptions,
        session: &'s Session,
        input_len: usize,
    ) -> Self {
        Reader {
            cur,
            opts,
            session,
            // Text is usually 1–2x the binary size; reserve once, capped.
            out: String::with_capacity(
                input_len
                    .saturating_mul(2)
                    .min(opts.max_output)
                    .min(1 << 22),
            ),
            names: String::new(),
            stack: Vec::new(),
            decls: Vec::new(),
            used: Vec::new(),
            start_open: false,
            bytes: Vec::new(),
            scratch: String::new(),
            tag: String::new(),
            nodes: 0,
            stats: Stats::default(),
            unknown: Vec::new(),
            undeclared: Vec::new(),
        }
    }

    fn run(&mut self) -> Result<(), DecodeError> {
        while let Some(rt) = self.cur.peek() {
            let at = self.cur.pos();
            self.cur.pos += 1;
            self.stats.records += 1;
            match rt {
                0x01 => self.end_element(at)?,
                0x02 => {
                    let body = self.cur.string("Comment")?;
                    let text = String::from_utf8_lossy(body);
                    self.before_child();
                    self.out.push_str("<!--");
                    push_comment_body(&mut self.out, &text);
                    self.out.push_str("-->");
                }
                0x03 => self.array(at)?,
                0x04..=0x3F => {
                    return Err(malformed(
                        "record",
                        at,
                        format!("attribute record 0x{rt:02X} outside an element start"),
                    ));
                }
                0x40..=0x77 => {
                    self.before_child();
                    self.element(rt)?;
                }
                0x80..=0xBD if rt != 0xA5 && rt != 0xA7 => self.content_text(rt, at)?,
                _ => return Err(reserved(rt, at)),
            }
            self.check_output()?;
        }
        if !self.stack.is_empty() {
            return Err(malformed(
                "document",
                self.cur.pos(),
                format!("input ended with {} open element(s)", self.stack.len()),
            ));
        }
        Ok(())
    }

    fn check_output(&self) -> Result<(), DecodeError> {
        if self.out.len() > self.opts.max_output {
            return Err(DecodeError::TooLarge {
                what: "NBFX XML output",
                limit: self.opts.max_output,
            });
        }
        Ok(())
    }

    fn count_node(&mut self, n: usize) -> Result<(), DecodeError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.opts.limits.max_nodes {
            return Err(DecodeError::TooLarge {
                what: "NBFX node count",
                limit: self.opts.limits.max_nodes,
            });
        }
        Ok(())
    }

    /// Writes the pending `>` of the innermost start tag.
    fn close_start(&mut self) {
        if self.start_open {
            self.out.push('>');
            self.start_open = false;
        }
    }

    fn newline(&mut self, depth: usize) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    /// Prepares for a child element or comment: closes the parent's start tag and, when
    /// indenting, starts a new line unless the parent already holds text (mixed content keeps
    /// its exact whitespace).
    fn before_child(&mut self) {
        self.close_start();
        let depth = self.stack.len();
        let parent_has_text = match self.stack.last_mut() {
            Some(top) => {
                top.has_child = true;
                top.has_text
            }
            None => false,
        };
        if self.opts.indent && !parent_has_text {
            self.newline(depth);
        }
    }

    fn before_text(&mut self) {
        self.close_start();
        if let Some(top) = self.stack.last_mut() {
            top.has_text = true;
        }
    }

    /// Appends the string of a DictionaryString id, as a name (`name = true`) or as text.
    fn push_dict(&mut self, id: u32, ctx: Option<Ctx>) {
        let session = self.session;
        let s = match self.opts.dictionary {
            DictionaryMode::Numbered => {
                let _ = write!(self.out, "str{id}");
                return;
            }
            DictionaryMode::Nbfs if id.is_multiple_of(2) => {
                let s = dictionary::lookup(id);
                self.stats.static_dictionary_hits += u32::from(s.is_some());
                s
            }
            DictionaryMode::Nbfs => {
                let s = session.get(id);
                self.stats.session_dictionary_hits += u32::from(s.is_some());
                s
            }
        };
        match (s, ctx) {
            (Some(s), Some(ctx)) => push_escaped(&mut self.out, s, ctx),
            (Some(s), None) => self.out.push_str(s),
            (None, ctx) => {
                self.stats.unknown_dictionary_refs += 1;
                if !self.unknown.contains(&id) && self.unknown.len() < MAX_LISTED {
                    self.unknown.push(id);
                }
                // A placeholder that is still a valid XML name where a name is needed.
                let _ = match ctx {
                    Some(_) => write!(self.out, "[[dict:0x{id:X}]]"),
                    None => write!(self.out, "dict_0x{id:X}"),
                };
            }
        }
    }

    /// Appends a prefix written as a String record and remembers where it is, for the
    /// namespace check.
    fn push_prefix_string(&mut self) -> Result<(), DecodeError> {
        let at = self.cur.pos();
        let p = check_name(self.cur.string("prefix")?, "prefix", at)?;
        let start = self.out.len();
        self.out.push_str(p);
        self.used.push((start, self.out.len()));
        Ok(())
    }

    fn push_prefix_letter(&mut self, index: u8) {
        let start = self.out.len();
        self.out.push(char::from(b'a' + index));
        self.used.push((start, self.out.len()));
    }

    fn push_name_string(&mut self, what: &'static str) -> Result<(), DecodeError> {
        let at = self.cur.pos();
        let n = check_name(self.cur.string(what)?, what, at)?;
        self.out.push_str(n);
        Ok(())
    }

    /// Reads an element record (its type byte already consumed) and its attributes, writes the
    /// start tag without its `>`, and pushes it on the stack.
    fn element(&mut self, rt: u8) -> Result<(), DecodeError> {
        if self.stack.len() >= self.opts.limits.max_depth {
            return Err(DecodeError::TooLarge {
                what: "NBFX element depth",
                limit: self.opts.limits.max_depth,
            });
        }
        self.count_node(1)?;
        self.stats.elements += 1;
        self.used.clear();
        self.out.push('<');
        let name_start = self.out.len();
        match rt {
            0x40 => self.push_name_string("element name")?,
            0x41 => {
                self.push_prefix_string()?;
                self.out.push(':');
                self.push_name_string("element name")?;
            }
            0x42 => {
                let id = self.cur.mbi31()?;
                self.push_dict(id, None);
            }
            0x43 => {
                self.push_prefix_string()?;
                self.out.push(':');
                let id = self.cur.mbi31()?;
                self.push_dict(id, None);
            }
            0x44..=0x5D => {
                self.push_prefix_letter(rt - 0x44);
                self.out.push(':');
                let id = self.cur.mbi31()?;
                self.push_dict(id, None);
            }
            _ => {
                self.push_prefix_letter(rt.saturating_sub(0x5E));
                self.out.push(':');
                self.push_name_string("element name")?;
            }
        }
        let name_end = self.out.len();
        let names_start = self.names.len();
        self.names
            .push_str(self.out.get(name_start..name_end).unwrap_or(""));
        let decl_mark = self.decls.len();
        self.stack.push(Open {
            name_start: names_start,
            decl_mark,
            has_text: false,
            has_child: false,
        });
        self.start_open = true;
        while let Some(art) = self.cur.peek().filter(|b| (0x04..=0x3F).contains(b)) {
            let aat = self.cur.pos();
            self.cur.pos += 1;
            self.stats.records += 1;
            self.attribute(art, aat)?;
        }
        self.check_prefixes();
        Ok(())
    }

    fn attribute(&mut self, rt: u8, at: usize) -> Result<(), DecodeError> {
        self.count_node(1)?;
        self.stats.attributes += 1;
        self.out.push(' ');
        match rt {
            0x04 => self.push_name_string("attribute name")?,
            0x05 => {
                self.push_prefix_string()?;
                self.out.push(':');
                self.push_name_string("attribute name")?;
            }
            0x06 => {
                let id = self.cur.mbi31()?;
                self.push_dict(id, None);
            }
            0x07 => {
                self.push_prefix_string()?;
                self.out.push(':');
                let id = self.cur.mbi31()?;
                self.push_dict(id, None);
            }
            0x08..=0x0B => return self.xmlns(rt),
            0x0C..=0x25 => {
                self.push_prefix_letter(rt - 0x0C);
                self.out.push(':');
                let id = self.cur.mbi31()?;
                self.push_dict(id, None);
            }
            _ => {
                self.push_prefix_letter(rt.saturating_sub(0x26));
                self.out.push(':');
                self.push_name_string("attribute name")?;
            }
        }
        self.out.push_str("=\"");
        self.attr_value(at)?;
        self.out.push('"');
        Ok(())
    }

    /// The four xmlns attribute records (0x08–0x0B): the value is inline, not a text record.
    fn xmlns(&mut self, rt: u8) -> Result<(), DecodeError> {
        self.out.push_str("xmlns");
        if rt == 0x09 || rt == 0x0B {
            self.out.push(':');
            let at = self.cur.pos();
            let p = check_name(self.cur.string("xmlns prefix")?, "xmlns prefix", at)?;
            let start = self.out.len();
            self.out.push_str(p);
            self.decls.push((start, self.out.len()));
        }
        self.out.push_str("=\"");
        if rt == 0x08 || rt == 0x09 {
            let v = self.cur.string("xmlns value")?;
            push_escaped(&mut self.out, &String::from_utf8_lossy(v), Ctx::Attr);
        } else {
            let id = self.cur.mbi31()?;
            self.push_dict(id, Some(Ctx::Attr));
        }
        self.out.push('"');
        Ok(())
    }

    /// Reports prefixes used by the element just opened that no open element declares.
    fn check_prefixes(&mut self) {
        for &(s, e) in &self.used {
            let Some(p) = self.out.get(s..e) else {
                continue;
            };
            if p == "xml" || p == "xmlns" {
                continue;
            }
            let declared = self
                .decls
                .iter()
                .rev()
                .any(|&(ds, de)| self.out.get(ds..de) == Some(p));
            if !declared
                && self.undeclared.len() < MAX_LISTED
                && !self.undeclared.iter().any(|u| u == p)
            {
                self.undeclared.push(p.to_string());
            }
        }
    }

    /// One attribute value: a single text record, or a StartList … EndList group.
    fn attr_value(&mut self, attr_at: usize) -> Result<(), DecodeError> {
        let at = self.cur.pos();
        let rt = self.cur.u8("attribute value")?;
        self.stats.records += 1;
        match rt {
            0xA4 => self.list(Ctx::Attr),
            0x80..=0xBC if rt.is_multiple_of(2) && rt != 0xA6 => self.text(rt, at, Ctx::Attr),
            0x81..=0xBD if rt % 2 == 1 && rt != 0xA5 && rt != 0xA7 => Err(malformed(
                "attribute value",
                at,
                format!("text record 0x{rt:02X} with an end element inside an attribute"),
            )),
            0x80..=0xBD if rt != 0xA5 && rt != 0xA7 => Err(malformed(
                "attribute value",
                at,
                format!("record 0x{rt:02X} cannot start an attribute value"),
            )),
            _ if is_reserved(rt) => Err(reserved(rt, at)),
            _ => Err(malformed(
                "attribute value",
                at,
                format!(
                    "expected a text record for the attribute at byte {attr_at}, found record 0x{rt:02X}"
                ),
            )),
        }
    }

    /// The items of a StartList group, separated by single spaces, up to and including EndList.
    fn list(&mut self, ctx: Ctx) -> Result<(), DecodeError> {
        let mut first = true;
        loop {
            let at = self.cur.pos();
            let rt = self.cur.u8("list item")?;
            self.stats.records += 1;
            if rt == 0xA6 {
                return Ok(());
            }
            if !(0x80..=0xBC).contains(&rt) || !rt.is_multiple_of(2) || rt == 0xA4 {
                return Err(if is_reserved(rt) {
                    reserved(rt, at)
                } else {
                    malformed(
                        "list item",
                        at,
                        format!("record 0x{rt:02X} is not allowed inside StartList/EndList"),
                    )
                });
            }
            if !first {
                self.out.push(' ');
            }
            first = false;
            self.text(rt, at, ctx)?;
        }
    }

    fn end_element(&mut self, at: usize) -> Result<(), DecodeError> {
        let Some(open) = self.stack.pop() else {
            return Err(malformed("EndElement", at, "no element is open"));
        };
        let name = self.names.get(open.name_start..).unwrap_or("");
        if self.start_open && self.opts.indent {
            self.out.push_str("/>");
        } else {
            if self.start_open {
                self.out.push('>');
            } else if self.opts.indent && open.has_child && !open.has_text {
                let depth = self.stack.len();
                if !self.out.is_empty() {
                    self.out.push('\n');
                }
                for _ in 0..depth {
                    self.out.push_str("  ");
                }
            }
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self.start_open = false;
        self.names.truncate(open.name_start);
        self.decls.truncate(open.decl_mark);
        Ok(())
    }
}

fn is_reserved(rt: u8) -> bool {
    matches!(rt, 0x00 | 0x78..=0x7F | 0xA5 | 0xA7 | 0xBE..=0xFF)
}

fn reserved(rt: u8, at: usize) -> DecodeError {
    malformed("record", at, format!("reserved record type 0x{rt:02X}"))
}

/// Decodes the records of one message body from `cur` (string table already consumed).
/// Returns the document so far and the error that stopped it, if any.
pub(super) fn decode_body(
    cur: Cursor<'_>,
    opts: &DecodeOptions,
    session: &Session,
    framing: Framing,
    input_len: usize,
) -> (NbfxDocument, Option<DecodeError>) {
    let mut r = Reader::new(cur, opts, session, input_len);
    let err = r.run().err();
    if err.is_none() && opts.indent && !r.out.is_empty() {
        r.out.push('\n');
    }
    let mut stats = r.stats;
    stats.input_bytes = input_len;
    (
        NbfxDocument {
            xml: r.out,
            framing,
            stats,
            unknown_dictionary_ids: r.unknown,
            string_table: Vec::new(),
            undeclared_prefixes: r.undeclared,
            earlier_session_strings: None,
        },
        err,
    )
}

#[cfg(test)]
mod tests {
    use super::values::{
        TICKS_PER_DAY, push_datetime, push_decimal, push_float, push_guid, push_timespan,
    };
    use super::*;

    use crate::soap::nbfx::{DecodeOptions, DictionaryMode, Framing, Session, decode};

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// Decodes a spec example the way MC-NBFX section 3 prints it: plain framing, dictionary
    /// ids shown as `strNNN`.
    fn spec(bytes: &str) -> String {
        let opts = DecodeOptions {
            framing: Framing::Msbin1,
            dictionary: DictionaryMode::Numbered,
            ..DecodeOptions::default()
        };
        match decode(&hex(bytes), &opts) {
            Ok(doc) => doc.xml,
            Err(e) => panic!("{bytes}: {e}"),
        }
    }

    /// Every byte sequence of MC-NBFX section 3 "Structure Examples", with the characters the
    /// spec says it represents. Deviations are marked where .NET's output differs from the
    /// spec's table.
    #[test]
    fn mc_nbfx_structure_examples_decode_byte_exact() {
        let abc = "0A 68 74 74 70 3A 2F 2F 61 62 63";
        let cases: Vec<(String, &str)> = vec![
            // Miscellaneous records.
            ("40 03 64 6F 63 01".into(), "<doc></doc>"),
            ("02 07 63 6F 6D 6D 65 6E 74".into(), "<!--comment-->"),
            (
                "03 40 03 61 72 72 01 8B 03 33 33 88 88 DD DD".into(),
                "<arr>13107</arr><arr>-30584</arr><arr>-8739</arr>",
            ),
            // Attribute records.
            ("40 03 64 6F 63 04 04 61 74 74 72 84 01".into(), r#"<doc attr="false"></doc>"#),
            (
                format!("40 03 64 6F 63 09 03 70 72 65 {abc} 05 03 70 72 65 04 61 74 74 72 84 01"),
                r#"<doc xmlns:pre="http://abc" pre:attr="false"></doc>"#,
            ),
            ("40 03 64 6F 63 06 08 86 01".into(), r#"<doc str8="true"></doc>"#),
            (
                format!("40 03 64 6F 63 09 03 70 72 65 {abc} 07 03 70 72 65 00 86 01"),
                r#"<doc xmlns:pre="http://abc" pre:str0="true"></doc>"#,
            ),
            (format!("40 03 64 6F 63 08 {abc} 01"), r#"<doc xmlns="http://abc"></doc>"#),
            (format!("40 03 64 6F 63 09 01 70 {abc} 01"), r#"<doc xmlns:p="http://abc"></doc>"#),
            ("40 03 64 6F 63 0A 04 01".into(), r#"<doc xmlns="str4"></doc>"#),
            ("40 03 64 6F 63 0B 01 70 04 01".into(), r#"<doc xmlns:p="str4"></doc>"#),
            (
                format!("40 03 64 6F 63 09 01 66 {abc} 11 0B 98 05 68 65 6C 6C 6F 01"),
                r#"<doc xmlns:f="http://abc" f:str11="hello"></doc>"#,
            ),
            (
                format!("40 03 64 6F 63 09 01 78 {abc} 23 15 98 05 77 6F 72 6C 64 01"),
                r#"<doc xmlns:x="http://abc" x:str21="world"></doc>"#,
            ),
            (
                format!("40 03 64 6F 63 09 01 6B {abc} 30 04 61 74 74 72 86 01"),
                r#"<doc xmlns:k="http://abc" k:attr="true"></doc>"#,
            ),
            (
                format!("40 03 64 6F 63 09 01 7A {abc} 3F 03 61 62 63 98 03 78 79 7A 01"),
                r#"<doc xmlns:z="http://abc" z:abc="xyz"></doc>"#,
            ),
            // Element records.
            (
                format!("41 03 70 72 65 03 64 6F 63 09 03 70 72 65 {abc} 01"),
                r#"<pre:doc xmlns:pre="http://abc"></pre:doc>"#,
            ),
            ("42 0E 01".into(), "<str14></str14>"),
            (
                format!("43 03 70 72 65 0E 09 03 70 72 65 {abc} 01"),
                r#"<pre:str14 xmlns:pre="http://abc"></pre:str14>"#,
            ),
            (format!("44 0A 09 01 61 {abc} 01"), r#"<a:str10 xmlns:a="http://abc"></a:str10>"#),
            (format!("56 26 09 01 73 {abc} 01"), r#"<s:str38 xmlns:s="http://abc"></s:str38>"#),
            (
                format!("5E 05 68 65 6C 6C 6F 09 01 61 {abc} 01"),
                r#"<a:hello xmlns:a="http://abc"></a:hello>"#,
            ),
            (
                format!("70 09 4D 79 4D 65 73 73 61 67 65 09 01 73 {abc} 01"),
                r#"<s:MyMessage xmlns:s="http://abc"></s:MyMessage>"#,
            ),
            // Text records and their WithEndElement twins.
            ("40 03 64 6F 63 06 A0 03 80 01".into(), r#"<doc str416="0"></doc>"#),
            ("40 03 61 62 63 81".into(), "<abc>0</abc>"),
            ("40 03 64 6F 63 06 00 82 01".into(), r#"<doc str0="1"></doc>"#),
            ("40 03 61 62 63 83".into(), "<abc>1</abc>"),
            ("40 03 64 6F 63 06 00 84 01".into(), r#"<doc str0="false"></doc>"#),
            ("40 03 61 62 63 85".into(), "<abc>false</abc>"),
            ("40 03 64 6F 63 06 00 86 01".into(), r#"<doc str0="true"></doc>"#),
            ("40 03 61 62 63 87".into(), "<abc>true</abc>"),
            ("40 03 64 6F 63 06 EC 01 88 DE 01".into(), r#"<doc str236="-34"></doc>"#),
            ("42 9A 01 89 7F".into(), "<str154>127</str154>"),
            ("40 03 64 6F 63 06 EC 01 8A 00 80 01".into(), r#"<doc str236="-32768"></doc>"#),
            ("42 9A 01 8B FF 7F".into(), "<str154>32767</str154>"),
            (
                "40 03 64 6F 63 06 EC 01 8C 15 CD 5B 07 01".into(),
                r#"<doc str236="123456789"></doc>"#,
            ),
            ("42 9A 01 8D FF FF FF 7F".into(), "<str154>2147483647</str154>"),
            (
                "40 03 64 6F 63 06 EC 01 8E 00 00 00 80 00 00 00 00 01".into(),
                r#"<doc str236="2147483648"></doc>"#,
            ),
            ("42 9A 01 8F 00 00 00 00 00 01 00 00".into(), "<str154>1099511627776</str154>"),
            ("40 03 64 6F 63 04 01 61 90 CD CC 8C 3F 01".into(), r#"<doc a="1.1"></doc>"#),
            ("40 05 50 72 69 63 65 91 CD CC 01 42".into(), "<Price>32.45</Price>"),
            // Shortest round-trip digits; section 2.2.3.10's prose shows .NET Framework's 17-digit
            // "R" output (2.7182818284590451) for the same value.
            (
                "40 03 64 6F 63 04 01 61 92 74 57 14 8B 0A BF 05 40 01".into(),
                r#"<doc a="2.71828182845905"></doc>"#,
            ),
            ("40 02 50 49 93 11 2D 44 54 FB 21 09 40".into(), "<PI>3.14159265358979</PI>"),
            (
                "40 03 64 6F 63 04 03 69 6E 74 94 00 00 06 00 00 00 00 00 80 2D 4E 00 00 00 00 00 01"
                    .into(),
                r#"<doc int="5.123456"></doc>"#,
            ),
            (
                "40 08 4D 61 78 56 61 6C 75 65 95 00 00 00 00 FF FF FF FF FF FF FF FF FF FF FF FF"
                    .into(),
                "<MaxValue>79228162514264337593543950335</MaxValue>",
            ),
            (
                "40 03 64 6F 63 06 6E 96 FF 3F 37 F4 75 28 CA 2B 01".into(),
                r#"<doc str110="9999-12-31T23:59:59.9999999"></doc>"#,
            ),
            ("42 6C 97 00 40 8E F9 5B 47 C8 08".into(), "<str108>2006-05-17T00:00:00</str108>"),
            ("40 03 64 6F 63 98 05 68 65 6C 6C 6F 01".into(), "<doc>hello</doc>"),
            ("40 01 61 99 05 68 65 6C 6C 6F".into(), "<a>hello</a>"),
            ("40 03 64 6F 63 9A 05 00 68 65 6C 6C 6F 01".into(), "<doc>hello</doc>"),
            ("40 01 61 9B 05 00 68 65 6C 6C 6F".into(), "<a>hello</a>"),
            ("40 03 64 6F 63 9C 05 00 00 00 68 65 6C 6C 6F 01".into(), "<doc>hello</doc>"),
            ("40 01 61 9D 05 00 00 00 68 65 6C 6C 6F".into(), "<a>hello</a>"),
            ("40 03 64 6F 63 9E 08 00 01 02 03 04 05 06 07 01".into(), "<doc>AAECAwQFBgc=</doc>"),
            (
                "40 06 42 61 73 65 36 34 9F 08 00 01 02 03 04 05 06 07".into(),
                "<Base64>AAECAwQFBgc=</Base64>",
            ),
            (
                "40 03 64 6F 63 A0 08 00 00 01 02 03 04 05 06 07 01".into(),
                "<doc>AAECAwQFBgc=</doc>",
            ),
            (
                "40 06 42 61 73 65 36 34 A1 08 00 00 01 02 03 04 05 06 07".into(),
                "<Base64>AAECAwQFBgc=</Base64>",
            ),
            (
                "40 03 64 6F 63 A2 08 00 00 00 00 01 02 03 04 05 06 07 01".into(),
                "<doc>AAECAwQFBgc=</doc>",
            ),
            (
                "40 06 42 61 73 65 36 34 A3 08 00 00 00 00 01 02 03 04 05 06 07".into(),
                "<Base64>AAECAwQFBgc=</Base64>",
            ),
            (
                "40 03 64 6F 63 04 01 61 A4 88 7B 98 05 68 65 6C 6C 6F 86 A6 01".into(),
                r#"<doc a="123 hello true"></doc>"#,
            ),
            ("40 03 64 6F 63 04 01 61 A8 01".into(), r#"<doc a=""></doc>"#),
            ("40 03 64 6F 63 A9".into(), "<doc></doc>"),
            ("40 03 64 6F 63 04 02 6E 73 AA 38 01".into(), r#"<doc ns="str56"></doc>"#),
            ("40 04 54 79 70 65 AB C4 01".into(), "<Type>str196</Type>"),
            (
                "40 03 64 6F 63 AC 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 01".into(),
                "<doc>urn:uuid:33221100-5544-7766-8899-aabbccddeeff</doc>",
            ),
            (
                "42 1A AD 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF".into(),
                "<str26>urn:uuid:33221100-5544-7766-8899-aabbccddeeff</str26>",
            ),
            ("40 03 64 6F 63 AE 00 C4 F5 32 FF FF FF FF 01".into(), "<doc>-PT5M44S</doc>"),
            ("42 94 07 AF 00 B0 8E F0 1B 00 00 00".into(), "<str916>PT3H20M</str916>"),
            (
                "40 03 64 6F 63 B0 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 01".into(),
                "<doc>03020100-0504-0706-0809-0a0b0c0d0e0f</doc>",
            ),
            (
                "40 02 49 44 B1 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F".into(),
                "<ID>03020100-0504-0706-0809-0a0b0c0d0e0f</ID>",
            ),
            (
                "40 03 64 6F 63 B2 FF FF FF FF FF FF FF FF 01".into(),
                "<doc>18446744073709551615</doc>",
            ),
            (
                "42 9A 01 B3 FE FF FF FF FF FF FF FF".into(),
                "<str154>18446744073709551614</str154>",
            ),
            ("40 03 64 6F 63 B4 01 01".into(), "<doc>true</doc>"),
            (
                "03 40 03 61 72 72 01 B5 05 01 00 01 00 01".into(),
                "<arr>true</arr><arr>false</arr><arr>true</arr><arr>false</arr><arr>true</arr>",
            ),
            (
                "40 03 64 6F 63 04 01 75 B6 06 75 00 6E 00 69 00 01".into(),
                r#"<doc u="uni"></doc>"#,
            ),
            ("40 01 55 B7 06 75 00 6E 00 69 00".into(), "<U>uni</U>"),
            (
                "40 03 64 6F 63 04 03 75 31 36 B8 08 00 75 00 6E 00 69 00 32 00 01".into(),
                r#"<doc u16="uni2"></doc>"#,
            ),
            ("40 03 55 31 36 B9 08 00 75 00 6E 00 69 00 32 00".into(), "<U16>uni2</U16>"),
            (
                "40 03 64 6F 63 04 03 75 33 32 BA 04 00 00 00 33 00 32 00 01".into(),
                r#"<doc u32="32"></doc>"#,
            ),
            ("40 03 55 33 32 BB 04 00 00 00 33 00 32 00".into(), "<U32>32</U32>"),
            ("40 03 64 6F 63 06 F0 06 BC 08 8E 07 01".into(), r#"<doc str880="i:str910"></doc>"#),
            ("40 04 54 79 70 65 BD 12 90 07".into(), "<Type>s:str912</Type>"),
            // Section 2.3.3: Array of Int32 with a namespace declaration.
            (
                "03 40 04 69 74 65 6D 08 12 68 74 74 70 3A 2F 2F 74 65 6D 70 75 72 69 2E 6F 72 67 \
                     01 8D 03 01 00 00 00 02 00 00 00 03 00 00 00"
                    .into(),
                r#"<item xmlns="http://tempuri.org">1</item><item xmlns="http://tempuri.org">2</item><item xmlns="http://tempuri.org">3</item>"#,
            ),
            // Section 3, last paragraph.
            (
                "40 07 65 6C 65 6D 65 6E 74 8C D2 04 00 00 84 01".into(),
                "<element>1234false</element>",
            ),
        ];
        for (bytes, want) in &cases {
            assert_eq!(spec(bytes), *want, "{bytes}");
        }
    }

    #[test]
    fn chars8_escaping_example_matches_section_2_2_3_13_1() {
        assert_eq!(
            spec("40 03 64 6F 63 98 06 22 26 3C 3E 27 00 01"),
            "<doc>\"&amp;&lt;&gt;'&#0;</doc>"
        );
        assert_eq!(
            spec("40 03 64 6F 63 04 01 61 98 06 22 26 3C 3E 27 00 01"),
            "<doc a=\"&quot;&amp;&lt;>'&#0;\"></doc>"
        );
    }

    const NBFS_EXAMPLE: &str = "56 02 0B 01 61 06 0B 01 73 04 56 08 44 0A 1E 00 \
        82 99 06 61 63 74 69 6F 6E 01 56 0E 40 09 49 6E 76 65 6E 74 6F 72 79 81 01 01";
    const NBFS_EXAMPLE_XML: &str = concat!(
        r#"<s:Envelope xmlns:a="http://www.w3.org/2005/08/addressing" "#,
        r#"xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>"#,
        r#"<a:Action s:mustUnderstand="1">action</a:Action></s:Header>"#,
        "<s:Body><Inventory>0</Inventory></s:Body></s:Envelope>"
    );

    #[test]
    fn mc_nbfs_section_3_envelope_decodes_with_the_static_dictionary() {
        let doc = decode(&hex(NBFS_EXAMPLE), &DecodeOptions::default()).unwrap();
        assert_eq!(doc.xml, NBFS_EXAMPLE_XML);
        assert_eq!(doc.framing, Framing::Msbin1);
        assert_eq!(doc.stats.static_dictionary_hits, 7);
        assert!(doc.unknown_dictionary_ids.is_empty());
        assert!(doc.undeclared_prefixes.is_empty());
    }

    #[test]
    fn mc_nbfse_section_3_string_table_feeds_odd_ids() {
        let bytes = hex("11 06 61 63 74 69 6F 6E 09 49 6E 76 65 6E 74 6F 72 79 \
             56 02 0B 01 61 06 0B 01 73 04 56 08 44 0A 1E 00 82 AB 01 01 56 0E 42 03 81 01 01");
        let mut session = Session::new();
        let doc = session.decode(&bytes, &DecodeOptions::default()).unwrap();
        assert_eq!(doc.framing, Framing::MsbinSession1, "auto-detected");
        assert_eq!(doc.xml, NBFS_EXAMPLE_XML);
        assert_eq!(
            doc.string_table,
            vec![(1, "action".to_string()), (3, "Inventory".to_string())]
        );
        assert_eq!(doc.stats.session_dictionary_hits, 2);
        assert_eq!(session.get(3), Some("Inventory"));

        // The next message of the session may use the ids without a new string: an empty table.
        let next = hex("00 42 03 AB 01");
        let doc = session.decode(&next, &DecodeOptions::default()).unwrap();
        assert_eq!(doc.xml, "<Inventory>action</Inventory>");
        assert!(doc.string_table.is_empty());
    }

    #[test]
    fn mid_session_message_renders_placeholders_and_reports_ids() {
        let next = hex("00 42 03 AB 01");
        let doc = decode(&next, &DecodeOptions::default()).unwrap();
        assert_eq!(doc.framing, Framing::MsbinSession1);
        assert_eq!(doc.xml, "<dict_0x3>[[dict:0x1]]</dict_0x3>");
        assert_eq!(doc.unknown_dictionary_ids, vec![3, 1]);
        assert_eq!(doc.stats.unknown_dictionary_refs, 2);
    }

    #[test]
    fn consecutive_bytes_records_are_concatenated_before_base64() {
        // <doc> Bytes8 [00 01] Bytes8 [02] Bytes8WithEnd [03 04 05 06 07]
        let xml = spec("40 03 64 6F 63 9E 02 00 01 9E 01 02 9F 05 03 04 05 06 07");
        assert_eq!(xml, "<doc>AAECAwQFBgc=</doc>");
        // Separately encoded they would have been "AAE=AgMEBQYH"-style garbage.
        let xml = spec("40 03 64 6F 63 A0 01 00 FF 9E 01 FF 01");
        assert_eq!(xml, "<doc>//8=</doc>");
    }

    #[test]
    fn datetime_kinds_render_z_and_offset() {
        // 2006-05-17T00:00:00 as UTC (kind 1) and local (kind 2), and with a fraction.
        let utc = 0x08C8_475B_F98E_4000u64 | (1 << 62);
        let local = 0x08C8_475B_F98E_4000u64 | (2 << 62);
        let frac = 0x08C8_475B_F98E_4000u64 + 1_234_500;
        for (raw, want) in [
            (utc, "2006-05-17T00:00:00Z"),
            (local, "2006-05-17T00:00:00+00:00"),
            (frac, "2006-05-17T00:00:00.12345"),
            (0, "0001-01-01T00:00:00"),
        ] {
            let mut s = String::new();
            push_datetime(&mut s, raw, 0).unwrap();
            assert_eq!(s, want);
        }
        assert!(push_datetime(&mut String::new(), 3 << 62, 0).is_err());
    }

    #[test]
    fn decimals_keep_sign_and_scale() {
        let mut s = String::new();
        let mut scratch = String::new();
        // -1.50 (scale 2, sign 0x80, 150)
        let mut b = [0u8; 16];
        b[2] = 2;
        b[3] = 0x80;
        b[8] = 150;
        push_decimal(&mut s, &b, 0, &mut scratch).unwrap();
        assert_eq!(s, "-1.50");
        s.clear();
        b[2] = 5;
        b[3] = 0;
        b[8] = 7;
        push_decimal(&mut s, &b, 0, &mut scratch).unwrap();
        assert_eq!(s, "0.00007");
        b[2] = 29;
        assert!(push_decimal(&mut s, &b, 3, &mut scratch).is_err());
    }

    #[test]
    fn indenting_keeps_text_inline_and_closes_empty_elements() {
        let opts = DecodeOptions {
            indent: true,
            ..DecodeOptions::default()
        };
        let doc = decode(&hex(NBFS_EXAMPLE), &opts).unwrap();
        let want = r#"<s:Envelope xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:s="http://www.w3.org/2003/05/soap-envelope">
  <s:Header>
    <a:Action s:mustUnderstand="1">action</a:Action>
  </s:Header>
  <s:Body>
    <Inventory>0</Inventory>
  </s:Body>
</s:Envelope>
"#;
        assert_eq!(doc.xml, want);
        let doc = decode(&hex("40 01 61 40 01 62 01 01"), &opts).unwrap();
        assert_eq!(doc.xml, "<a>\n  <b/>\n</a>\n");
    }

    #[test]
    fn mbi31_examples_from_the_spec_decode() {
        for (bytes, v) in [
            (&[0x11][..], 17u32),
            (&[0x91, 0x01], 145),
            (&[0x91, 0x2B], 5521),
            (&[0x80, 0x80, 0x01], 16384),
            (&[0x80, 0x80, 0x80, 0x01], 2_097_152),
            (&[0x80, 0x80, 0x80, 0x80, 0x01], 268_435_456),
            (&[0xFF, 0xFF, 0xFF, 0xFF, 0x07], 0x7FFF_FFFF),
        ] {
            assert_eq!(Cursor::new(bytes, 0).mbi31().unwrap(), v, "{bytes:02X?}");
        }
    }

    #[test]
    fn mbi31_over_31_bits_is_refused_at_its_first_byte() {
        let e = Cursor::new(&[0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x08], 1)
            .mbi31()
            .unwrap_err();
        assert_eq!(
            e,
            malformed("MultiByteInt31", 1, "value exceeds 0x7FFFFFFF")
        );
    }

    #[test]
    fn floats_use_shortest_round_trip_digits_and_dotnet_spellings() {
        let mut s = String::new();
        let mut scratch = String::new();
        let mut f = |v: f64, single: bool| {
            s.clear();
            push_float(&mut s, v, single, &mut scratch);
            s.clone()
        };
        assert_eq!(f(f64::from(1.1f32), true), "1.1");
        assert_eq!(f(f64::from(32.45f32), true), "32.45");
        assert_eq!(f(std::f64::consts::E, false), "2.718281828459045");
        assert_eq!(f(1e15, false), "1E+15");
        assert_eq!(f(123_456_789_012_345.0, false), "123456789012345");
        assert_eq!(f(0.0001, false), "0.0001");
        assert_eq!(f(0.00001, false), "1E-05");
        assert_eq!(f(-1.5e-300, false), "-1.5E-300");
        assert_eq!(f(100.0, false), "100");
        assert_eq!(f(f64::INFINITY, false), "INF");
        assert_eq!(f(f64::NEG_INFINITY, true), "-INF");
        assert_eq!(f(f64::NAN, false), "NaN");
        assert_eq!(f(-0.0, false), "-0");
        assert_eq!(f(1e7, true), "1E+07");
    }

    #[test]
    fn timespans_render_as_xs_duration() {
        let mut s = String::new();
        for (t, want) in [
            (-3_440_000_000i64, "-PT5M44S"),
            (120_000_000_000, "PT3H20M"),
            (0, "PT0S"),
            (TICKS_PER_DAY as i64, "P1D"),
            (TICKS_PER_DAY as i64 + 15, "P1DT0.0000015S"),
            (18_000_000_000, "PT30M"),
            (i64::MIN, "-P10675199DT2H48M5.4775808S"),
        ] {
            s.clear();
            push_timespan(&mut s, t);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn guid_matches_the_shared_dotnet_formatter() {
        let b: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
        let mut s = String::new();
        push_guid(&mut s, &b);
        assert_eq!(s, crate::util::dotnet_guid(&b));
    }

    #[test]
    fn escaping_follows_the_spec_example() {
        let raw = "\"&<>'\u{0}";
        let mut s = String::new();
        push_escaped(&mut s, raw, Ctx::Content);
        assert_eq!(s, "\"&amp;&lt;&gt;'&#0;");
        s.clear();
        push_escaped(&mut s, raw, Ctx::Attr);
        assert_eq!(s, "&quot;&amp;&lt;>'&#0;");
        s.clear();
        push_escaped(&mut s, "a\tb\nc\rd\u{FFFE}é\u{FFFF}", Ctx::Attr);
        assert_eq!(s, "a&#9;b&#10;c&#13;d&#65534;é&#65535;");
    }

    #[test]
    fn comments_never_contain_double_hyphens() {
        let mut s = String::new();
        push_comment_body(&mut s, "a--b-");
        assert_eq!(s, "a- -b- ");
    }
}
