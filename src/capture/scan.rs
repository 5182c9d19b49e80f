//! A streaming JSON byte scanner: it finds where JSON tokens and whole values start and end in a
//! byte stream without building them, so the HAR reader can hand `serde_json` one entry at a time.
//!
//! It is responsible for buffering (memory stays at one chunk plus the value being delimited),
//! for string- and escape-aware bracket matching, and for knowing absolute byte offsets. It is not
//! a validator: a delimited value is only known to have balanced brackets outside strings, and the
//! caller parses it with `serde_json` to find out whether it is valid JSON. It knows nothing about
//! HAR.

use std::io::{self, Read};

use memchr::memchr2;

/// How much is read from the source at a time. Large enough that the read syscall cost vanishes,
/// small enough that the buffer stays small when entries are small.
const CHUNK: usize = 256 * 1024;

/// Why a scan stopped without a result.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The input ended before the token or value was complete.
    Eof,
    /// The source failed.
    Io(io::Error),
    /// The value being delimited grew beyond the caller's limit.
    TooLarge,
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Self {
        Stop::Io(e)
    }
}

/// Buffers a byte source and delimits JSON tokens in it. Indices returned by the scanning methods
/// are into [`Scanner::slice`] and stay valid until the next scanning call.
pub(crate) struct Scanner<R> {
    src: R,
    buf: Vec<u8>,
    /// Next unconsumed byte in `buf`.
    pos: usize,
    /// Absolute offset of `buf[0]` in the source.
    base: u64,
    eof: bool,
}

impl<R> std::fmt::Debug for Scanner<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("offset", &(self.base + self.pos as u64))
            .field("buffered", &self.buf.len())
            .field("eof", &self.eof)
            .finish()
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<R: Read> Scanner<R> {
    /// A scanner over `src`, positioned at its first byte.
    pub(crate) fn new(src: R) -> Self {
        Scanner {
            src,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            eof: false,
        }
    }

    /// Absolute offset of the next unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Absolute offset of the byte at buffer index `i`.
    #[cfg(test)]
    pub(crate) fn offset_of(&self, i: usize) -> u64 {
        self.base + i as u64
    }

    /// Bytes consumed from the source so far (for progress reporting).
    pub(crate) fn bytes_read(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// The buffered bytes between two indices returned by a scanning method.
    pub(crate) fn slice(&self, start: usize, end: usize) -> &[u8] {
        self.buf.get(start..end).unwrap_or(&[])
    }

    /// Drops buffered bytes before `keep_from`, then appends one chunk from the source. Returns
    /// how far indices moved down. `Stop::Eof` when the source has nothing more.
    fn fill(&mut self, keep_from: usize) -> Result<usize, Stop> {
        if self.eof {
            return Err(Stop::Eof);
        }
        let shift = keep_from.min(self.buf.len());
        if shift > 0 {
            self.buf.copy_within(shift.., 0);
            self.buf.truncate(self.buf.len() - shift);
            self.base += shift as u64;
            self.pos = self.pos.saturating_sub(shift);
        }
        // `read_to_end` through `take` fills spare capacity without zeroing it first, which
        // matters when a file is opened many times or entries are small.
        let len = self.buf.len();
        self.buf.reserve(CHUNK);
        let n = match (&mut self.src)
            .take(CHUNK as u64)
            .read_to_end(&mut self.buf)
        {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(len);
                return Err(Stop::Io(e));
            }
        };
        // `take` only stops short at the end of the source.
        if n < CHUNK {
            self.eof = true;
        }
        if n == 0 {
            return Err(Stop::Eof);
        }
        Ok(shift)
    }

    /// Skips a UTF-8 byte-order mark at the very start of the input.
    pub(crate) fn skip_bom(&mut self) -> Result<(), Stop> {
        while self.buf.len() < 3 && !self.eof {
            match self.fill(0) {
                Ok(_) | Err(Stop::Eof) => {}
                Err(e) => return Err(e),
            }
        }
        if self.offset() == 0 && self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pos = 3;
        }
        Ok(())
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(crate) fn peek(&mut self) -> Result<u8, Stop> {
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or(&[]);
            match rest.iter().position(|&b| !is_ws(b)) {
                Some(k) => {
                    self.pos += k;
                    return rest.get(k).copied().ok_or(Stop::Eof);
                }
                None => {
                    self.pos = self.buf.len();
                    let keep = self.pos;
                    self.fill(keep)?;
                }
            }
        }
    }

    /// Consumes one byte (the one [`Scanner::peek`] returned).
    pub(crate) fn bump(&mut self) {
        self.pos = (self.pos + 1).min(self.buf.len());
    }

    /// True when nothing but whitespace is left in the input.
    pub(crate) fn at_end(&mut self) -> Result<bool, Stop> {
        match self.peek() {
            Ok(_) => Ok(false),
            Err(Stop::Eof) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Delimits the JSON value starting at the next non-whitespace byte and consumes it. Returns
    /// `(start, end)` buffer indices. Objects and arrays end at their matching bracket (strings
    /// and escapes are honoured), strings at their closing quote, scalars at the next delimiter.
    /// `max` bounds the value's size in bytes.
    pub(crate) fn value(&mut self, max: usize) -> Result<(usize, usize), Stop> {
        let first = self.peek()?;
        let mut start = self.pos;
        let mut i = start;
        let mut depth: usize = 0;
        let mut in_str = false;
        let container = matches!(first, b'{' | b'[');
        let string = first == b'"';
        loop {
            let len = self.buf.len();
            while i < len {
                if in_str {
                    match memchr2(b'"', b'\\', self.buf.get(i..).unwrap_or(&[])) {
                        None => i = len,
                        Some(k) => {
                            let j = i + k;
                            if self.buf.get(j) == Some(&b'\\') {
                                // Skip the escaped byte, even when it is not buffered yet.
                                i = j + 2;
                            } else {
                                in_str = false;
                                i = j + 1;
                                if string {
                                    self.pos = i;
                                    return Ok((start, i));
                                }
                            }
                        }
                    }
                } else if container || string {
                    let Some(&b) = self.buf.get(i) else { break };
                    i += 1;
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.pos = i;
                                return Ok((start, i));
                            }
                        }
                        _ => {}
                    }
                } else {
                    // A scalar (number, true, false, null, or garbage the caller will reject).
                    let Some(&b) = self.buf.get(i) else { break };
                    if is_ws(b) || matches!(b, b',' | b'}' | b']' | b':') {
                        self.pos = i;
                        return Ok((start, i));
                    }
                    i += 1;
                }
            }
            if i - start > max {
                return Err(Stop::TooLarge);
            }
            let shift = self.fill(start)?;
            start -= shift;
            i -= shift;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out one byte per read, to exercise every refill boundary.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((&b, rest)), Some(o)) => {
                    *o = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn values(input: &[u8]) -> Vec<String> {
        let mut sc = Scanner::new(Trickle(input));
        let mut out = vec![];
        loop {
            match sc.peek() {
                Ok(b',') => sc.bump(),
                Ok(_) => {
                    let (s, e) = sc.value(1 << 20).unwrap();
                    out.push(String::from_utf8(sc.slice(s, e).to_vec()).unwrap());
                }
                Err(Stop::Eof) => return out,
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    #[test]
    fn brackets_inside_strings_and_escapes_do_not_count() {
        let input = br#"{"a":"}]\"{","b":[1,{"c":"\\"}]} , "x\"y" ,12.5e3,true, [[]] "#;
        assert_eq!(
            values(input),
            vec![
                r#"{"a":"}]\"{","b":[1,{"c":"\\"}]}"#,
                r#""x\"y""#,
                "12.5e3",
                "true",
                "[[]]"
            ]
        );
    }

    #[test]
    fn truncated_value_is_eof_and_size_cap_is_enforced() {
        let mut sc = Scanner::new(Trickle(br#"{"a":"b\"}"#));
        assert!(matches!(sc.value(100), Err(Stop::Eof)));
        let big = format!("[\"{}\"]", "x".repeat(3 * CHUNK));
        let mut sc = Scanner::new(big.as_bytes());
        assert!(matches!(sc.value(CHUNK), Err(Stop::TooLarge)));
    }

    #[test]
    fn offsets_are_absolute_across_refills_and_bom() {
        let mut input = vec![0xEF, 0xBB, 0xBF];
        input.extend_from_slice(b"  [1]  {\"k\":2}");
        let mut sc = Scanner::new(Trickle(&input));
        sc.skip_bom().unwrap();
        let (s, _) = sc.value(100).unwrap();
        assert_eq!(sc.offset_of(s), 5);
        let (s, e) = sc.value(100).unwrap();
        assert_eq!(sc.offset_of(s), 10);
        assert_eq!(sc.slice(s, e), b"{\"k\":2}");
        assert!(sc.at_end().unwrap());
    }
}
