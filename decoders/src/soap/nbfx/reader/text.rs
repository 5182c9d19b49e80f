//! Text records (MC-NBFX 2.2.3): element content and attribute values, consecutive Bytes
//! records joined before base64, length fields, and the rendering of every text record type.
//! Not responsible for element, attribute or Array records (see `mod.rs` and `array.rs`) nor
//! for the spelling of typed values (see `values.rs`).

use std::fmt::Write as _;

use base64::Engine as _;

use super::Reader;
use super::cursor::malformed;
use super::escape::{Ctx, push_escaped, push_escaped_char};
use super::values::{push_datetime, push_decimal, push_float, push_guid, push_timespan};
use crate::DecodeError;

pub(super) fn is_bytes_record(rt: u8) -> bool {
    (0x9E..=0xA3).contains(&rt)
}

impl Reader<'_, '_> {
    /// A text record in element content (type byte consumed): concatenates consecutive Bytes
    /// records before base64-encoding them, and closes the element for odd (WithEndElement)
    /// types.
    pub(super) fn content_text(&mut self, rt: u8, at: usize) -> Result<(), DecodeError> {
        self.before_text();
        self.count_node(1)?;
        let mut last = rt;
        match rt {
            0xA4 => self.list(Ctx::Content)?,
            0xA6 => return Err(malformed("record", at, "EndListText without StartListText")),
            _ if is_bytes_record(rt) => {
                self.bytes.clear();
                let mut rt = rt;
                let mut rat = at;
                loop {
                    self.stats.text_records += 1;
                    self.bytes_payload(rt, rat)?;
                    last = rt;
                    match self.cur.peek() {
                        Some(next) if rt.is_multiple_of(2) && is_bytes_record(next) => {
                            rat = self.cur.pos();
                            self.cur.pos += 1;
                            self.stats.records += 1;
                            rt = next;
                        }
                        _ => break,
                    }
                }
                base64::engine::general_purpose::STANDARD.encode_string(&self.bytes, &mut self.out);
            }
            _ => self.text(rt & !1, at, Ctx::Content)?,
        }
        if last % 2 == 1 {
            self.end_element(at)?;
        }
        Ok(())
    }

    /// Appends the payload of a Bytes8/16/32 record to `self.bytes`.
    fn bytes_payload(&mut self, rt: u8, at: usize) -> Result<(), DecodeError> {
        let len = self.length(rt & !1, at)?;
        let data = self.cur.take(len, "BytesText", at)?;
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    /// The length field of a Chars/Bytes/UnicodeChars record (type `rt`, even): one byte, two
    /// bytes, or a positive i32. UnicodeChars32 uses the i32 too: the spec prose says
    /// MultiByteInt31, but its own example (`BA 04 00 00 00 …`) and .NET use four bytes.
    fn length(&mut self, rt: u8, at: usize) -> Result<usize, DecodeError> {
        Ok(match rt {
            0x98 | 0x9E | 0xB6 => usize::from(self.cur.u8("text length")?),
            0x9A | 0xA0 | 0xB8 => usize::from(u16::from_le_bytes(self.cur.array("text length")?)),
            _ => {
                let n = i32::from_le_bytes(self.cur.array("text length")?);
                usize::try_from(n)
                    .map_err(|_| malformed("text length", at + 1, format!("negative length {n}")))?
            }
        })
    }

    /// Renders one text record of even type `rt` (type byte at `at`, already consumed).
    pub(super) fn text(&mut self, rt: u8, at: usize, ctx: Ctx) -> Result<(), DecodeError> {
        self.stats.text_records += 1;
        match rt {
            0x80 => self.out.push('0'),
            0x82 => self.out.push('1'),
            0x84 => self.out.push_str("false"),
            0x86 => self.out.push_str("true"),
            0x88 => {
                let v = i8::from_le_bytes(self.cur.array("Int8Text")?);
                let _ = write!(self.out, "{v}");
            }
            0x8A => {
                let v = i16::from_le_bytes(self.cur.array("Int16Text")?);
                let _ = write!(self.out, "{v}");
            }
            0x8C => {
                let v = i32::from_le_bytes(self.cur.array("Int32Text")?);
                let _ = write!(self.out, "{v}");
            }
            0x8E => {
                let v = i64::from_le_bytes(self.cur.array("Int64Text")?);
                let _ = write!(self.out, "{v}");
            }
            0xB2 => {
                let v = u64::from_le_bytes(self.cur.array("UInt64Text")?);
                let _ = write!(self.out, "{v}");
            }
            0x90 => {
                let v = f32::from_le_bytes(self.cur.array("FloatText")?);
                push_float(&mut self.out, f64::from(v), true, &mut self.scratch);
            }
            0x92 => {
                let v = f64::from_le_bytes(self.cur.array("DoubleText")?);
                push_float(&mut self.out, v, false, &mut self.scratch);
            }
            0x94 => {
                let v = self.cur.array::<16>("DecimalText")?;
                push_decimal(&mut self.out, &v, at + 1, &mut self.scratch)?;
            }
            0x96 => {
                let v = u64::from_le_bytes(self.cur.array("DateTimeText")?);
                push_datetime(&mut self.out, v, at + 1)?;
            }
            0x98 | 0x9A | 0x9C => {
                let len = self.length(rt, at)?;
                let data = self.cur.take(len, "CharsText", at + 1)?;
                let s = String::from_utf8_lossy(data);
                if matches!(s, std::borrow::Cow::Owned(_)) {
                    self.stats.lossy_text_records += 1;
                }
                push_escaped(&mut self.out, &s, ctx);
            }
            0x9E | 0xA0 | 0xA2 => {
                self.bytes.clear();
                self.bytes_payload(rt, at)?;
                base64::engine::general_purpose::STANDARD.encode_string(&self.bytes, &mut self.out);
            }
            0xA8 => {}
            0xAA => {
                let id = self.cur.mbi31()?;
                self.push_dict(id, Some(ctx));
            }
            0xAC => {
                let g = self.cur.array::<16>("UniqueIdText")?;
                self.out.push_str("urn:uuid:");
                push_guid(&mut self.out, &g);
            }
            0xAE => {
                let v = i64::from_le_bytes(self.cur.array("TimeSpanText")?);
                push_timespan(&mut self.out, v);
            }
            0xB0 => {
                let g = self.cur.array::<16>("UuidText")?;
                push_guid(&mut self.out, &g);
            }
            0xB4 => {
                let vat = self.cur.pos();
                match self.cur.u8("BoolText")? {
                    0 => self.out.push_str("false"),
                    1 => self.out.push_str("true"),
                    v => {
                        return Err(malformed(
                            "BoolText",
                            vat,
                            format!("value {v} is not 0 or 1"),
                        ));
                    }
                }
            }
            0xB6 | 0xB8 | 0xBA => {
                let len = self.length(rt, at)?;
                let data = self.cur.take(len, "UnicodeCharsText", at + 1)?;
                if !len.is_multiple_of(2) {
                    return Err(malformed(
                        "UnicodeCharsText",
                        at + 1,
                        "odd UTF-16 byte length",
                    ));
                }
                let units = data.chunks_exact(2).map(|c| {
                    u16::from_le_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                });
                let mut lossy = false;
                for c in char::decode_utf16(units) {
                    let c = c.unwrap_or_else(|_| {
                        lossy = true;
                        char::REPLACEMENT_CHARACTER
                    });
                    push_escaped_char(&mut self.out, c, ctx);
                }
                self.stats.lossy_text_records += u32::from(lossy);
            }
            0xBC => {
                let pat = self.cur.pos();
                let p = self.cur.u8("QNameDictionaryText")?;
                if p > 25 {
                    return Err(malformed(
                        "QNameDictionaryText",
                        pat,
                        format!("prefix index {p} is not 0..=25"),
                    ));
                }
                self.out.push(char::from(b'a' + p));
                self.out.push(':');
                let id = self.cur.mbi31()?;
                self.push_dict(id, Some(ctx));
            }
            _ => {
                return Err(malformed(
                    "record",
                    at,
                    format!("0x{rt:02X} is not a text record"),
                ));
            }
        }
        Ok(())
    }
}
