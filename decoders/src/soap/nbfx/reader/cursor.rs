//! The bounds-checked [`Cursor`] every part of the reader reads untrusted bytes through, and the
//! [`DecodeError`]s it reports (always with the byte offset). Not responsible for what the bytes
//! mean: records, text values and the string table are read by the modules beside it.

use crate::DecodeError;

/// A bounds-checked reader over the input. `pos` is an absolute offset into the whole message,
/// so errors from a string table or from the body report the same coordinates.
#[derive(Debug, Clone)]
pub(in crate::soap::nbfx) struct Cursor<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A reader over `buf` (which may be a prefix of the message) starting at `pos`.
    pub(in crate::soap::nbfx) fn new(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    pub(in crate::soap::nbfx) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(in crate::soap::nbfx) fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(in crate::soap::nbfx) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = self.peek().ok_or_else(|| truncated(what, self.pos, 1, 0))?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes. `at` is the offset reported if they are not there (usually the offset
    /// of the length field that announced them).
    pub(in crate::soap::nbfx) fn take(
        &mut self,
        n: usize,
        what: &'static str,
        at: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let left = self.left();
        let end = self.pos.checked_add(n).filter(|_| n <= left);
        let bytes = end
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or_else(|| truncated(what, at, n, left))?;
        self.pos += n;
        Ok(bytes)
    }

    pub(super) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let at = self.pos;
        let bytes = self.take(N, what, at)?;
        <[u8; N]>::try_from(bytes).map_err(|_| truncated(what, at, N, bytes.len()))
    }

    /// A MultiByteInt31 (MC-NBFX 2.1.2): 1 to 5 bytes, 7 bits each, least significant first.
    pub(in crate::soap::nbfx) fn mbi31(&mut self) -> Result<u32, DecodeError> {
        let start = self.pos;
        let mut value: u32 = 0;
        for i in 0..5u32 {
            let b = self.u8("MultiByteInt31")?;
            if i == 4 {
                if b & 0x80 != 0 {
                    return Err(malformed("MultiByteInt31", start, "longer than 5 bytes"));
                }
                if b > 0x07 {
                    return Err(malformed(
                        "MultiByteInt31",
                        start,
                        "value exceeds 0x7FFFFFFF",
                    ));
                }
            }
            value |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("MultiByteInt31", start, "longer than 5 bytes"))
    }

    /// A String structure (MC-NBFX 2.1.3): MultiByteInt31 byte length, then UTF-8. Returns the
    /// raw bytes; `at` of a too-long length is the offset of the length field.
    pub(in crate::soap::nbfx) fn string(
        &mut self,
        what: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let len = self.mbi31()?;
        self.take(len as usize, what, at)
    }
}

pub(super) fn truncated(what: &'static str, at: usize, need: usize, left: usize) -> DecodeError {
    DecodeError::Malformed {
        what,
        offset: at as u64,
        message: format!("needs {need} bytes but only {left} are left"),
    }
}

pub(super) fn malformed(what: &'static str, at: usize, message: impl Into<String>) -> DecodeError {
    DecodeError::Malformed {
        what,
        offset: at as u64,
        message: message.into(),
    }
}
