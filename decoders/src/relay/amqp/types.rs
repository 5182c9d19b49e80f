//! The AMQP 1.0 type system (OASIS AMQP 1.0, part 1 "Types"): every primitive format code of
//! section 1.6, described types (1.2), and the compound list, map and array encodings (1.6.22
//! to 1.6.24), read into a [`Value`] with a bounds-checked cursor. Lengths and counts are checked
//! against the bytes present before anything is allocated, nesting is capped, and the number of
//! values one read may produce is capped, so no input makes the reader panic, recurse without
//! end or allocate more than the input justifies.

use crate::DecodeError;

/// Deepest nesting of described, list, map and array values.
pub const MAX_DEPTH: usize = 32;

/// One AMQP value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` (0x40).
    Null,
    /// `boolean` (0x41, 0x42, 0x56).
    Bool(bool),
    /// `ubyte`, `ushort`, `uint`, `ulong` (any width).
    Unsigned(u64),
    /// `byte`, `short`, `int`, `long` (any width).
    Signed(i64),
    /// `float`.
    Float(f32),
    /// `double`.
    Double(f64),
    /// `decimal32/64/128`: the raw IEEE 754 bytes.
    Decimal(Vec<u8>),
    /// `char`: a UTF-32BE code point.
    Char(u32),
    /// `timestamp`: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// `uuid`: 16 bytes, RFC 4122 order.
    Uuid([u8; 16]),
    /// `binary`.
    Binary(Vec<u8>),
    /// `string` (UTF-8; invalid sequences repaired with U+FFFD).
    String(String),
    /// `symbol` (ASCII).
    Symbol(String),
    /// `list`.
    List(Vec<Value>),
    /// `map`: key/value pairs in wire order.
    Map(Vec<(Value, Value)>),
    /// `array`: elements of one type.
    Array(Vec<Value>),
    /// A described type: descriptor (a symbol or an ulong code) and value.
    Described(Box<Value>, Box<Value>),
}

impl Value {
    /// The descriptor as a numeric code (`0x00000000:0x00000012` is 0x12) or a symbol name.
    pub fn descriptor(&self) -> Option<Descriptor<'_>> {
        match self {
            Value::Described(d, _) => match d.as_ref() {
                Value::Unsigned(c) => Some(Descriptor::Code(*c)),
                Value::Symbol(s) => Some(Descriptor::Name(s)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value of a described type, or the value itself.
    pub fn inner(&self) -> &Value {
        match self {
            Value::Described(_, v) => v,
            v => v,
        }
    }

    /// The text of a string or symbol.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// An unsigned number.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Unsigned(n) => Some(*n),
            _ => None,
        }
    }

    /// A boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The fields of a described list (or of a bare list).
    pub fn fields(&self) -> &[Value] {
        match self.inner() {
            Value::List(v) => v,
            _ => &[],
        }
    }
}

/// A descriptor: numeric (domain id and descriptor id in one ulong) or symbolic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descriptor<'a> {
    /// `0x00000000:0x000000xx` is `xx` for the AMQP domain.
    Code(u64),
    /// `amqp:open:list` and the like.
    Name(&'a str),
}

/// A bounds-checked reader over one buffer; offsets in errors are `base` plus the position.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    /// Values still allowed for this reader (a cap on the work one frame can cause).
    budget: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `buf`, whose first byte is at `base` in the stream shown to the user.
    pub fn new(buf: &'a [u8], base: usize, budget: usize) -> Self {
        Reader {
            buf,
            pos: 0,
            base,
            budget,
        }
    }

    /// The position within the buffer.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// True when every byte was read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, at: usize, message: impl Into<String>) -> DecodeError {
        DecodeError::Malformed {
            what: "AMQP value",
            offset: (self.base + at) as u64,
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        match end.and_then(|e| self.buf.get(self.pos..e)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.err(
                self.pos,
                format!(
                    "{what} needs {n} byte(s), {} left",
                    self.buf.len().saturating_sub(self.pos)
                ),
            )),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    fn be<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    /// Reads one value (constructor and data).
    pub fn value(&mut self) -> Result<Value, DecodeError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let at = self.pos;
        let code = self.u8("a constructor")?;
        if code == 0x00 {
            return self.described(at, depth);
        }
        self.body(code, at, depth)
    }

    fn described(&mut self, at: usize, depth: usize) -> Result<Value, DecodeError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(at, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let d = self.value_at(depth + 1)?;
        let v = self.value_at(depth + 1)?;
        Ok(Value::Described(Box::new(d), Box::new(v)))
    }

    /// Reads the data of a value whose format code `code` (read at `at`) is known.
    fn body(&mut self, code: u8, at: usize, depth: usize) -> Result<Value, DecodeError> {
        if self.budget == 0 {
            return Err(self.err(at, "too many values (view size limit)"));
        }
        self.budget -= 1;
        Ok(match code {
            0x40 => Value::Null,
            0x41 => Value::Bool(true),
            0x42 => Value::Bool(false),
            0x56 => match self.u8("boolean")? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => {
                    return Err(
                        self.err(at + 1, format!("boolean byte 0x{b:02x} is neither 0 nor 1"))
                    );
                }
            },
            0x43 | 0x44 => Value::Unsigned(0),
            0x50 | 0x52 | 0x53 => Value::Unsigned(u64::from(self.u8("small unsigned")?)),
            0x60 => Value::Unsigned(u64::from(u16::from_be_bytes(self.be("ushort")?))),
            0x70 => Value::Unsigned(u64::from(u32::from_be_bytes(self.be("uint")?))),
            0x80 => Value::Unsigned(u64::from_be_bytes(self.be("ulong")?)),
            0x51 | 0x54 | 0x55 => Value::Signed(i64::from(self.u8("small signed")? as i8)),
            0x61 => Value::Signed(i64::from(i16::from_be_bytes(self.be("short")?))),
            0x71 => Value::Signed(i64::from(i32::from_be_bytes(self.be("int")?))),
            0x81 => Value::Signed(i64::from_be_bytes(self.be("long")?)),
            0x72 => Value::Float(f32::from_be_bytes(self.be("float")?)),
            0x82 => Value::Double(f64::from_be_bytes(self.be("double")?)),
            0x74 => Value::Decimal(self.take(4, "decimal32")?.to_vec()),
            0x84 => Value::Decimal(self.take(8, "decimal64")?.to_vec()),
            0x94 => Value::Decimal(self.take(16, "decimal128")?.to_vec()),
            0x73 => Value::Char(u32::from_be_bytes(self.be("char")?)),
            0x83 => Value::Timestamp(i64::from_be_bytes(self.be("timestamp")?)),
            0x98 => Value::Uuid(self.be("uuid")?),
            0xa0 | 0xa1 | 0xa3 => {
                let n = usize::from(self.u8("a length")?);
                self.variable(code, n)?
            }
            0xb0 | 0xb1 | 0xb3 => {
                let n = u32::from_be_bytes(self.be("a length")?) as usize;
                self.variable(code, n)?
            }
            0x45 => Value::List(Vec::new()),
            0xc0 | 0xd0 | 0xc1 | 0xd1 => self.compound(code, at, depth)?,
            0xe0 | 0xf0 => self.array(code, at, depth)?,
            _ => return Err(self.err(at, format!("unknown format code 0x{code:02x}"))),
        })
    }

    fn variable(&mut self, code: u8, n: usize) -> Result<Value, DecodeError> {
        let bytes = self.take(n, "the value's bytes")?;
        Ok(match code & 0x0f {
            0x00 => Value::Binary(bytes.to_vec()),
            0x01 => Value::String(String::from_utf8_lossy(bytes).into_owned()),
            _ => Value::Symbol(String::from_utf8_lossy(bytes).into_owned()),
        })
    }

    /// The size and count of a compound or array: one byte each for the 8-bit forms, four for
    /// the 32-bit ones. The size counts the bytes after the size field, count included.
    fn size_count(&mut self, wide: bool, at: usize) -> Result<(usize, usize, usize), DecodeError> {
        let (size, count_width) = if wide {
            (u32::from_be_bytes(self.be("a size")?) as usize, 4)
        } else {
            (usize::from(self.u8("a size")?), 1)
        };
        let start = self.pos;
        let left = self.buf.len().saturating_sub(start);
        if size > left {
            return Err(self.err(
                at,
                format!("size {size} runs past the end ({left} byte(s) left)"),
            ));
        }
        if size < count_width {
            return Err(self.err(at, format!("size {size} cannot hold the count")));
        }
        let count = if wide {
            u32::from_be_bytes(self.be("a count")?) as usize
        } else {
            usize::from(self.u8("a count")?)
        };
        Ok((start + size, count, size - count_width))
    }

    fn compound(&mut self, code: u8, at: usize, depth: usize) -> Result<Value, DecodeError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(at, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let (end, count, body) = self.size_count(code & 0xf0 == 0xd0, at)?;
        // Every element takes at least one byte (its constructor).
        if count > body {
            return Err(self.err(at, format!("count {count} does not fit in {body} byte(s)")));
        }
        let mut items = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            items.push(self.value_at(depth + 1)?);
        }
        if self.pos != end {
            return Err(self.err(
                at,
                format!(
                    "size says the value ends at byte {}, its elements end at byte {}",
                    self.base + end,
                    self.base + self.pos
                ),
            ));
        }
        if code & 0x0f == 0x01 {
            if items.len() % 2 != 0 {
                return Err(self.err(at, format!("map with an odd count {count}")));
            }
            let mut pairs = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            return Ok(Value::Map(pairs));
        }
        Ok(Value::List(items))
    }

    fn array(&mut self, code: u8, at: usize, depth: usize) -> Result<Value, DecodeError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(at, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let (end, count, _) = self.size_count(code == 0xf0, at)?;
        // The element constructor: a format code, or a descriptor and a format code.
        let ctor_at = self.pos;
        let mut elem = self.u8("the array's element constructor")?;
        let descriptor = if elem == 0x00 {
            let d = self.value_at(depth + 1)?;
            elem = self.u8("the array's element format code")?;
            Some(d)
        } else {
            None
        };
        // Elements of zero width (null, true, false, 0) carry no bytes: cap the count by the
        // reader's budget instead of by the size.
        if count > self.budget {
            return Err(self.err(
                at,
                format!("array of {count} elements exceeds the view size limit"),
            ));
        }
        let mut items = Vec::with_capacity(count.min(64));
        for _ in 0..count {
            let v = self.body(elem, ctor_at, depth + 1)?;
            items.push(match &descriptor {
                Some(d) => Value::Described(Box::new(d.clone()), Box::new(v)),
                None => v,
            });
        }
        if self.pos != end {
            return Err(self.err(
                at,
                format!(
                    "size says the array ends at byte {}, its elements end at byte {}",
                    self.base + end,
                    self.base + self.pos
                ),
            ));
        }
        Ok(Value::Array(items))
    }
}
