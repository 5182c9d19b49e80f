//! The streaming HAR reader: walks the top-level structure of one document with the byte
//! scanner, delimits each element of `log.entries` and hands it to `serde_json` on its own, and
//! repairs a document cut short (a crash, `kill -9`) to the entries it holds whole. What an entry
//! means is [`super::to_flow`]; this module only finds the entries and reports where one is bad.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::to_flow::har_entry_to_flow;
use crate::capture::scan::{Scanner, Stop};
use crate::capture::{CaptureError, CaptureErrorKind, Location};
use crate::flow::{Flow, FlowId};

/// The largest single entry the reader holds in memory. An entry is delimited before it is
/// parsed, so without a cap one hostile "entry" could claim all memory.
pub const MAX_ENTRY_BYTES: usize = 1 << 30;

/// The largest non-entry `log` member (`pages`, `creator`, `browser`) the reader will delimit.
const MAX_LOG_FIELD_BYTES: usize = 64 << 20;

/// Why the structural walk stopped.
enum Fail {
    /// The input ended early: repair, not an error.
    Eof,
    /// The reader cannot continue.
    Fatal(CaptureError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Inside `log.entries`; `first` until the first element has been consumed.
    Entries { first: bool },
    /// Finished (end of document, repair, or a fatal error).
    Done,
}

/// Streams the entries of one HAR document. Built by [`crate::capture::open`].
pub(crate) struct HarReader<R> {
    path: PathBuf,
    sc: Scanner<R>,
    state: State,
    /// Index of the next entry (`log.entries[index]`), also the next flow id.
    index: u64,
    /// Byte offset of the entry being delimited, for the repair message.
    partial_at: Option<u64>,
    repaired: Option<String>,
    creator: Option<Value>,
}

impl<R> std::fmt::Debug for HarReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarReader")
            .field("path", &self.path)
            .field("state", &self.state)
            .field("index", &self.index)
            .field("scanner", &self.sc)
            .finish()
    }
}

fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl<R: Read> HarReader<R> {
    /// Reads the document up to the first entry. Fails when the bytes are not a HAR document;
    /// a file that ends inside the header is repaired to an empty capture.
    pub(crate) fn new(path: &Path, src: R) -> Result<Self, CaptureError> {
        let mut r = HarReader {
            path: path.to_path_buf(),
            sc: Scanner::new(src),
            state: State::Done,
            index: 0,
            partial_at: None,
            repaired: None,
            creator: None,
        };
        match r.header() {
            Ok(()) => r.state = State::Entries { first: true },
            Err(Fail::Eof) => {
                r.repaired = Some(if r.sc.offset() == 0 {
                    "the file is empty; no entries".to_string()
                } else {
                    format!(
                        "the file ends at byte {} inside the HAR header; no entries",
                        r.sc.offset()
                    )
                });
            }
            Err(Fail::Fatal(e)) => return Err(e),
        }
        Ok(r)
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.sc.bytes_read()
    }

    pub(crate) fn repaired(&self) -> Option<&str> {
        self.repaired.as_deref()
    }

    pub(crate) fn creator(&self) -> Option<&Value> {
        self.creator.as_ref()
    }

    fn error(&self, kind: CaptureErrorKind, entry: Option<u64>, offset: u64) -> CaptureError {
        CaptureError::at(
            &self.path,
            Location {
                member: None,
                entry,
                offset: Some(offset),
            },
            kind,
        )
    }

    fn stop(&self, s: Stop) -> Fail {
        let entry = self.partial_at.map(|_| self.index);
        let at = self.partial_at.unwrap_or_else(|| self.sc.offset());
        match s {
            Stop::Eof => Fail::Eof,
            Stop::Io(e) => Fail::Fatal(self.error(e.into(), entry, self.sc.offset())),
            Stop::TooLarge => {
                let limit = if entry.is_some() {
                    MAX_ENTRY_BYTES
                } else {
                    MAX_LOG_FIELD_BYTES
                };
                Fail::Fatal(self.error(
                    CaptureErrorKind::TooLarge {
                        limit: limit as u64,
                    },
                    entry,
                    at,
                ))
            }
        }
    }

    fn peek(&mut self) -> Result<u8, Fail> {
        self.sc.peek().map_err(|s| self.stop(s))
    }

    fn not_har(&self, expected: &str, found: u8) -> Fail {
        Fail::Fatal(self.error(
            CaptureErrorKind::NotHar {
                expected: expected.to_string(),
                found: describe(found),
            },
            None,
            self.sc.offset(),
        ))
    }

    /// Consumes `want` (after whitespace) or fails naming `expected`.
    fn expect(&mut self, want: u8, expected: &str) -> Result<(), Fail> {
        let b = self.peek()?;
        if b != want {
            return Err(self.not_har(expected, b));
        }
        self.sc.bump();
        Ok(())
    }

    /// Reads one member name and its `:`.
    fn key(&mut self) -> Result<String, Fail> {
        let b = self.peek()?;
        if b != b'"' {
            return Err(self.not_har("a member name", b));
        }
        let at = self.sc.offset();
        let (s, e) = self
            .sc
            .value(MAX_LOG_FIELD_BYTES)
            .map_err(|s| self.stop(s))?;
        let key: String = serde_json::from_slice(self.sc.slice(s, e)).map_err(|err| {
            Fail::Fatal(self.error(CaptureErrorKind::Json(err.to_string()), None, at))
        })?;
        self.expect(b':', "`:`")?;
        Ok(key)
    }

    /// Delimits and validates one member value outside the entries; keeps it when asked.
    fn member_value(&mut self, keep: bool) -> Result<Option<Value>, Fail> {
        let at = self.sc.offset();
        let (s, e) = self
            .sc
            .value(MAX_LOG_FIELD_BYTES)
            .map_err(|s| self.stop(s))?;
        let bytes = self.sc.slice(s, e);
        let res = if keep {
            serde_json::from_slice::<Value>(bytes).map(Some)
        } else {
            serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map(|_| None)
        };
        res.map_err(|err| {
            Fail::Fatal(self.error(CaptureErrorKind::Json(err.to_string()), None, at))
        })
    }

    /// Walks the members of the current object: returns `true` positioned at the value of
    /// member `want`, or `false` once the object's `}` is consumed. `first` tracks whether a
    /// member has been seen, so commas are required exactly between members.
    fn seek_member(
        &mut self,
        first: &mut bool,
        want: Option<&str>,
        keep_creator: bool,
    ) -> Result<bool, Fail> {
        loop {
            let b = self.peek()?;
            if b == b'}' {
                self.sc.bump();
                return Ok(false);
            }
            if !*first {
                if b != b',' {
                    return Err(self.not_har("`,` or `}`", b));
                }
                self.sc.bump();
            }
            *first = false;
            let key = self.key()?;
            if Some(key.as_str()) == want {
                return Ok(true);
            }
            let keep = keep_creator && key == "creator";
            if let Some(v) = self.member_value(keep)? {
                self.creator = Some(v);
            }
        }
    }

    fn missing(&self, field: &str) -> Fail {
        Fail::Fatal(self.error(
            CaptureErrorKind::MissingField(field.to_string()),
            None,
            self.sc.offset(),
        ))
    }

    /// `{ ... "log": { ... "entries": [` with anything in between.
    fn header(&mut self) -> Result<(), Fail> {
        self.sc.skip_bom().map_err(|s| self.stop(s))?;
        self.expect(b'{', "`{` (a HAR document is a JSON object)")?;
        if !self.seek_member(&mut true, Some("log"), false)? {
            return Err(self.missing("log"));
        }
        self.expect(b'{', "`{` (the `log` object)")?;
        if !self.seek_member(&mut true, Some("entries"), true)? {
            return Err(self.missing("log.entries"));
        }
        self.expect(b'[', "`[` (the `log.entries` array)")
    }

    /// After `]`: the rest of `log`, the rest of the document, then only whitespace.
    fn trailer(&mut self) -> Result<(), Fail> {
        self.seek_member(&mut false, None, true)?;
        self.seek_member(&mut false, None, false)?;
        match self.sc.at_end() {
            Ok(true) => Ok(()),
            Ok(false) => Err(Fail::Fatal(self.error(
                CaptureErrorKind::TrailingData,
                None,
                self.sc.offset(),
            ))),
            Err(s) => Err(self.stop(s)),
        }
    }

    /// The next element of `log.entries`, `Ok(None)` at the end of the document.
    fn entry(&mut self, first: bool) -> Result<Option<Result<Flow, CaptureError>>, Fail> {
        let b = self.peek()?;
        if b == b']' {
            self.sc.bump();
            self.trailer()?;
            return Ok(None);
        }
        if !first {
            if b != b',' {
                return Err(self.not_har("`,` or `]` between entries", b));
            }
            self.sc.bump();
        }
        let b = self.peek()?;
        if b != b'{' {
            return Err(Fail::Fatal(self.error(
                CaptureErrorKind::NotHar {
                    expected: "`{` (an entry object)".into(),
                    found: describe(b),
                },
                Some(self.index),
                self.sc.offset(),
            )));
        }
        let at = self.sc.offset();
        self.partial_at = Some(at);
        let (s, e) = self.sc.value(MAX_ENTRY_BYTES).map_err(|s| self.stop(s))?;
        self.partial_at = None;
        self.state = State::Entries { first: false };
        let index = self.index;
        self.index += 1;
        let bytes = self.sc.slice(s, e);
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(err) => {
                let off = at + json_error_offset(bytes, &err);
                return Ok(Some(Err(self.error(
                    CaptureErrorKind::Json(err.to_string()),
                    Some(index),
                    off,
                ))));
            }
        };
        Ok(Some(
            har_entry_to_flow(value, FlowId(index)).map_err(|k| self.error(k, Some(index), at)),
        ))
    }

    pub(crate) fn next(&mut self) -> Option<Result<Flow, CaptureError>> {
        let State::Entries { first } = self.state else {
            return None;
        };
        match self.entry(first) {
            Ok(Some(item)) => Some(item),
            Ok(None) => {
                self.state = State::Done;
                None
            }
            Err(Fail::Eof) => {
                self.state = State::Done;
                self.repaired = Some(match self.partial_at {
                    Some(at) => format!(
                        "the file ends inside entry {} (which starts at byte {at}); kept {} \
                         complete entries and dropped the partial one",
                        self.index, self.index
                    ),
                    None => format!(
                        "the file ends after {} complete entries without closing the HAR \
                         document; nothing was dropped",
                        self.index
                    ),
                });
                None
            }
            Err(Fail::Fatal(e)) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }
}

/// The byte offset within `bytes` that a `serde_json` error's line and column point at.
fn json_error_offset(bytes: &[u8], err: &serde_json::Error) -> u64 {
    let line_start = if err.line() <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', bytes)
            .nth(err.line() - 2)
            .map_or(0, |i| i + 1)
    };
    (line_start + err.column().saturating_sub(1)).min(bytes.len()) as u64
}
