//! The MC-NBFSE string table (MC-NBFSE 2.1) at the front of an `msbinsession1` message: parsed
//! here, bounded by [`super::DecodeOptions::max_string_table_bytes`]. Not responsible for
//! keeping the strings across messages (see [`super::Session`]).

use super::DecodeOptions;
use super::cursor::Cursor;
use crate::DecodeError;

/// Parses a string table (MC-NBFSE 2.1) at the cursor: returns the strings without adding them
/// anywhere, so auto-detection can try it speculatively.
pub(in crate::soap::nbfx) fn string_table<'a>(
    cur: &mut Cursor<'a>,
    opts: &DecodeOptions,
    already: usize,
) -> Result<Vec<&'a [u8]>, DecodeError> {
    let at = cur.pos();
    let size = cur.mbi31()? as usize;
    if already.saturating_add(size) > opts.max_string_table_bytes {
        return Err(DecodeError::TooLarge {
            what: "NBFSE string table",
            limit: opts.max_string_table_bytes,
        });
    }
    let table = cur.take(size, "StringTable", at)?;
    let start = cur.pos() - size;
    let mut sub = Cursor {
        buf: cur.buf.get(..cur.pos()).unwrap_or(table),
        pos: start,
    };
    let mut strings = Vec::new();
    while !sub.at_end() {
        strings.push(sub.string("StringTable string")?);
    }
    Ok(strings)
}
