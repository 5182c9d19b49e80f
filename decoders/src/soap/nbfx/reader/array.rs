//! Array records (MC-NBFX 2.3): one element template expanded once per packed value, bounded
//! by [`super::DecodeOptions::max_array_items`]. Not responsible for rendering the values
//! themselves (see `text.rs`).

use super::Reader;
use super::cursor::{malformed, truncated};
use super::escape::Ctx;
use crate::DecodeError;

/// The size of one packed value of an Array record, by its value record type (MC-NBFX 2.3.3).
fn array_value_size(rt: u8) -> Option<usize> {
    Some(match rt {
        0xB5 => 1,
        0x8B => 2,
        0x8D | 0x91 => 4,
        0x8F | 0x93 | 0x97 | 0xAF => 8,
        0x95 | 0xB1 => 16,
        _ => return None,
    })
}

impl Reader<'_, '_> {
    /// An Array record: one element (with attributes), EndElement, a value type, a count and
    /// packed values, expanded to `count` elements.
    pub(super) fn array(&mut self, at: usize) -> Result<(), DecodeError> {
        let eat = self.cur.pos();
        let ert = self.cur.u8("Array element")?;
        if !(0x40..=0x77).contains(&ert) {
            return Err(malformed(
                "Array",
                eat,
                format!("record 0x{ert:02X} is not an element"),
            ));
        }
        self.before_child();
        let tag_start = self.out.len();
        self.element(ert)?;
        self.start_open = false;
        let end_at = self.cur.pos();
        if self.cur.u8("Array")? != 0x01 {
            return Err(malformed(
                "Array",
                end_at,
                "element is not followed by EndElement",
            ));
        }
        let vat = self.cur.pos();
        let vrt = self.cur.u8("Array")?;
        let size = array_value_size(vrt).ok_or_else(|| {
            malformed(
                "Array",
                vat,
                format!("0x{vrt:02X} is not an array value type"),
            )
        })?;
        let cat = self.cur.pos();
        let count = self.cur.mbi31()? as usize;
        if count > self.opts.max_array_items {
            return Err(DecodeError::TooLarge {
                what: "NBFX array length",
                limit: self.opts.max_array_items,
            });
        }
        if count.saturating_mul(size) > self.cur.left() {
            return Err(truncated(
                "Array",
                cat,
                count.saturating_mul(size),
                self.cur.left(),
            ));
        }
        // The template start tag (without '>') is rendered once and copied for every item.
        self.tag.clear();
        self.tag.push_str(self.out.get(tag_start..).unwrap_or(""));
        self.out.truncate(tag_start);
        let Some(open) = self.stack.pop() else {
            return Err(malformed("Array", at, "no element is open"));
        };
        self.count_node(count.saturating_sub(1).saturating_mul(2))?;
        self.stats.elements += count.saturating_sub(1) as u32;
        for i in 0..count {
            if i > 0 {
                self.before_child();
            }
            self.out.push_str(&self.tag);
            self.out.push('>');
            let iat = self.cur.pos();
            self.text(vrt & !1, iat, Ctx::Content)?;
            self.out.push_str("</");
            self.out
                .push_str(self.names.get(open.name_start..).unwrap_or(""));
            self.out.push('>');
            self.check_output()?;
        }
        self.names.truncate(open.name_start);
        self.decls.truncate(open.decl_mark);
        Ok(())
    }
}
