//! Capture files: reading HAR 1.2 (from any browser or tool) and Fiddler SAZ archives into
//! [`Flow`]s, and writing crash-safe HAR recordings ([`HarWriter`]).
//!
//! This module owns format sniffing, streaming, truncation repair and errors that say which file,
//! entry and byte offset failed. It does not decide what to do with flows (analysis, the TUI and
//! the commands do) and does not decode protocols; redaction for sharing (security.md §1) lives
//! in the [`redact`] submodule.
//!
//! ```no_run
//! # fn main() -> Result<(), idscope::capture::CaptureError> {
//! let mut reader = idscope::capture::open(std::path::Path::new("captures/sync.har"))?;
//! for flow in reader.by_ref() {
//!     let flow = flow?;
//!     println!("{} {} {}", flow.id, flow.request.method, flow.request.url);
//! }
//! if let Some(what) = reader.repaired() {
//!     eprintln!("warning: truncated capture repaired: {what}");
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use crate::flow::Flow;

pub mod har;
pub mod har_entry;
mod har_fields;
pub mod password;
pub mod redact;
pub mod saz;
mod scan;

pub use har::{HarWriter, har_entry_to_flow};
pub use har_entry::flow_to_har_entry;
pub use password::set_password_file;

/// A capture file format idscope reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// HAR 1.2 JSON, as written by browsers, mitmproxy, Charles, Insomnia, Fiddler and idscope.
    Har,
    /// A Fiddler session archive (`.saz`, a zip of raw requests and responses).
    Saz,
}

/// Where in a capture something went wrong. Every part is optional because some failures happen
/// before there is an entry (a bad header) or have no meaningful offset (a zip member).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The archive member (SAZ: `raw/03_s.txt`).
    pub member: Option<String>,
    /// The 0-based entry index, as in `log.entries[N]` (equal to the flow id's number).
    pub entry: Option<u64>,
    /// The absolute byte offset in the file (a UTF-8 BOM counts).
    pub offset: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = &self.member {
            write!(f, ": {m}")?;
        }
        match (self.entry, self.offset) {
            (Some(e), Some(o)) => write!(f, ": entry {e} at byte {o}"),
            (Some(e), None) => write!(f, ": entry {e}"),
            (None, Some(o)) => write!(f, ": at byte {o}"),
            (None, None) => Ok(()),
        }
    }
}

/// What went wrong while reading a capture. Messages are lowercase without a trailing period.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The file could not be opened or read.
    #[error("{message}")]
    Io {
        /// The I/O error's kind, for callers that branch on it.
        kind: io::ErrorKind,
        /// The I/O error as text.
        message: String,
    },
    /// The bytes are not the HAR structure (`{"log":{... "entries":[...]}}`).
    #[error("not a HAR file: expected {expected}, found {found}")]
    NotHar {
        /// What the reader expected at that point.
        expected: String,
        /// What it found instead.
        found: String,
    },
    /// An entry is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A required field is absent (`request.url`).
    #[error("missing field `{0}`")]
    MissingField(String),
    /// A field is present but unusable.
    #[error("invalid field `{field}`: {message}")]
    InvalidField {
        /// The field's path within the entry (`request.headers[2]`).
        field: String,
        /// Why it is unusable.
        message: String,
    },
    /// One entry or archive member is larger than idscope is willing to hold in memory.
    #[error("larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Non-whitespace bytes follow the end of the HAR document.
    #[error("unexpected data after the end of the HAR document")]
    TrailingData,
    /// The zip container of a SAZ archive is unreadable.
    #[error("not a readable zip archive: {0}")]
    Zip(String),
    /// The zip is readable but is not a Fiddler archive.
    #[error("not a Fiddler SAZ archive: {0}")]
    NotSaz(String),
    /// A member a SAZ session needs is absent.
    #[error("missing archive member `{0}`")]
    MissingMember(String),
    /// A raw HTTP message in a SAZ archive cannot be parsed.
    #[error("malformed HTTP message: {0}")]
    Http(String),
    /// A SAZ session's metadata XML cannot be parsed.
    #[error("malformed session metadata: {0}")]
    Xml(String),
    /// A SAZ session's WebSocket messages (`_w.txt`) cannot be parsed.
    #[error("malformed WebSocket messages: {0}")]
    WebSocket(String),
    /// The file has no bytes at all.
    #[error("is empty")]
    Empty,
    /// The file is neither JSON nor a zip archive.
    #[error("is not a HAR, idscope recording or SAZ archive (starts with \"{starts}\")")]
    NotCapture {
        /// Its first bytes, escaped.
        starts: String,
    },
    /// The archive is password-protected and no password source has one.
    #[error(
        "the archive is password-protected: use --password-file or {}",
        password::PASSWORD_ENV
    )]
    PasswordRequired,
    /// The password does not decrypt the archive.
    #[error("wrong password")]
    WrongPassword,
    /// The password source failed (an unreadable `--password-file`, the terminal).
    #[error("{message}")]
    Password {
        /// What failed; never the password.
        message: String,
    },
}

impl From<io::Error> for CaptureErrorKind {
    fn from(e: io::Error) -> Self {
        CaptureErrorKind::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// A capture read failure that names the file, and where known the entry and byte offset:
/// `corpus/x.har: entry 3 at byte 10422: missing field `request.url``. Boxed, so `Result`s
/// carrying it stay small.
///
/// What the whole file is not reads as a sentence about it: `x.bin is empty`, `x.png is not a
/// HAR, idscope recording or SAZ archive (starts with "\x89PNG")`, `wrong password for x.saz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureError(Box<ErrorDetails>);

impl std::error::Error for CaptureError {}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        let path = d.path.display();
        match &d.kind {
            CaptureErrorKind::Empty | CaptureErrorKind::NotCapture { .. } => {
                write!(f, "{path} {}", d.kind)
            }
            CaptureErrorKind::WrongPassword => write!(f, "wrong password for {path}{}", d.location),
            kind => write!(f, "{path}{}: {kind}", d.location),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorDetails {
    path: PathBuf,
    location: Location,
    kind: CaptureErrorKind,
}

impl CaptureError {
    /// An error about `path` with no finer location.
    pub fn new(path: &Path, kind: CaptureErrorKind) -> Self {
        Self::at(path, Location::default(), kind)
    }

    /// An error at a location in `path`.
    pub fn at(path: &Path, location: Location, kind: CaptureErrorKind) -> Self {
        CaptureError(Box::new(ErrorDetails {
            path: path.to_path_buf(),
            location,
            kind,
        }))
    }

    /// The capture file (as given by the caller).
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Where in the file.
    pub fn location(&self) -> &Location {
        &self.0.location
    }

    /// What went wrong.
    pub fn kind(&self) -> &CaptureErrorKind {
        &self.0.kind
    }

    /// Which part of the capture failed, for a list of skipped ones: the archive member
    /// (`raw/07_s.txt`), else the entry (`entry 3`, 0-based as in `log.entries[3]`), else the
    /// file.
    pub fn place(&self) -> String {
        match (&self.0.location.member, self.0.location.entry) {
            (Some(m), _) => m.clone(),
            (None, Some(e)) => format!("entry {e}"),
            (None, None) => self.0.path.display().to_string(),
        }
    }
}

/// A readable and seekable byte source (a file or an in-memory buffer).
trait Source: Read + Seek + Send {}
impl<T: Read + Seek + Send> Source for T {}

enum Inner {
    Har(har::HarReader<Box<dyn Source>>),
    Saz(saz::SazReader),
}

/// A streaming reader over one capture file: an iterator of flows in file order, with progress
/// and repair information. Memory use is bounded by the largest entry, not the file size.
///
/// After an error that leaves the reader unable to find the next entry (broken JSON structure,
/// I/O failure) the iterator ends; an entry that is well delimited but unusable (a missing
/// field) yields its error and reading continues with the next entry.
pub struct CaptureReader {
    inner: Inner,
    total: Option<u64>,
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format())
            .field("bytes_read", &self.bytes_read())
            .field("total_bytes", &self.total)
            .field("repaired", &self.repaired())
            .finish()
    }
}

impl CaptureReader {
    /// The format of the capture.
    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Har(_) => Format::Har,
            Inner::Saz(_) => Format::Saz,
        }
    }

    /// Makes this the first of two reads of the capture, one that only looks at requests and
    /// responses (`analyze` and `report` learning the keys a capture publishes): a SAZ archive's
    /// `_m.xml` members (timers, client address, process, comments) are not read, and the WinZip
    /// AES keys derived are kept (bounded) so the second read does not derive them again. Call
    /// before the first flow is read.
    pub fn first_pass(mut self) -> Self {
        if let Inner::Saz(r) = &mut self.inner {
            r.first_pass();
        }
        self
    }

    /// How many bytes of the file have been consumed so far (for a progress bar).
    pub fn bytes_read(&self) -> u64 {
        match &self.inner {
            Inner::Har(r) => r.bytes_read(),
            Inner::Saz(r) => r.bytes_read(),
        }
    }

    /// The file size, when known.
    pub fn total_bytes(&self) -> Option<u64> {
        self.total
    }

    /// Set once the reader met the end of a truncated HAR file and repaired it: says what was
    /// dropped (at most one partial entry) and how many entries were kept. `None` for files that
    /// end properly.
    pub fn repaired(&self) -> Option<&str> {
        match &self.inner {
            Inner::Har(r) => r.repaired(),
            Inner::Saz(_) => None,
        }
    }

    /// The HAR `log.creator` object, when the file has one before its entries (or once reading
    /// has passed it).
    pub fn creator(&self) -> Option<&serde_json::Value> {
        match &self.inner {
            Inner::Har(r) => r.creator(),
            Inner::Saz(_) => None,
        }
    }
}

impl Iterator for CaptureReader {
    type Item = Result<Flow, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Har(r) => r.next(),
            Inner::Saz(r) => r.next(),
        }
    }
}

/// The ZIP local-file-header magic that starts every SAZ archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Opens a capture file, sniffing its format from the content (zip magic means SAZ, a `{` after
/// an optional BOM and whitespace means HAR JSON) and returns a streaming reader. An empty file,
/// a file that is neither, and a HAR file whose header is not HAR are refused here; so is a
/// password-protected SAZ without its password (from [`password`]'s sources). Entry problems
/// surface from the iterator.
pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
    let io_err = |e: io::Error| CaptureError::new(path, e.into());
    let mut file = File::open(path).map_err(io_err)?;
    let total = file.metadata().map(|m| m.len()).ok();
    let mut head = [0u8; SNIFF_BYTES];
    let mut got = 0;
    while got < head.len() {
        match file.read(head.get_mut(got..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    file.rewind().map_err(io_err)?;
    let kind =
        sniff(head.get(..got).unwrap_or_default()).map_err(|k| CaptureError::new(path, k))?;
    from_source(path, Src::File(file), kind, total, saz::Unlock::Sources)
}

/// Reads a capture held in memory (stdin, tests); `name` is used in error messages. A
/// password-protected archive is refused: see [`from_bytes_with_password`].
pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<CaptureReader, CaptureError> {
    let kind = sniff(&bytes).map_err(|k| CaptureError::new(name, k))?;
    let total = Some(bytes.len() as u64);
    from_source(name, Src::Memory(bytes), kind, total, saz::Unlock::Never)
}

/// [`from_bytes`] for a password-protected SAZ archive (ZipCrypto or WinZip AES).
pub fn from_bytes_with_password(
    name: &Path,
    bytes: Vec<u8>,
    password: &str,
) -> Result<CaptureReader, CaptureError> {
    let kind = sniff(&bytes).map_err(|k| CaptureError::new(name, k))?;
    let total = Some(bytes.len() as u64);
    let given = saz::Unlock::Given(zeroize::Zeroizing::new(password.to_string()));
    from_source(name, Src::Memory(bytes), kind, total, given)
}

/// Bytes looked at to tell the format (and quoted when it is none).
const SNIFF_BYTES: usize = 16;

/// The format `head` (the file's first bytes) starts, or why it is no capture.
fn sniff(head: &[u8]) -> Result<Format, CaptureErrorKind> {
    if head.is_empty() {
        return Err(CaptureErrorKind::Empty);
    }
    if head.starts_with(ZIP_MAGIC) {
        return Ok(Format::Saz);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        // All whitespace so far, or JSON: the HAR reader says what follows.
        None | Some(b'{' | b'[') => Ok(Format::Har),
        Some(_) => Err(CaptureErrorKind::NotCapture {
            starts: head
                .iter()
                .take(8)
                .copied()
                .flat_map(std::ascii::escape_default)
                .map(char::from)
                .collect(),
        }),
    }
}

/// A capture's bytes: an open file or bytes in memory.
enum Src {
    File(File),
    Memory(Vec<u8>),
}

fn from_source(
    path: &Path,
    src: Src,
    format: Format,
    total: Option<u64>,
    unlock: saz::Unlock,
) -> Result<CaptureReader, CaptureError> {
    let inner = match (format, src) {
        (Format::Saz, Src::File(f)) => {
            let shared =
                saz::SharedSource::file(f).map_err(|e| CaptureError::new(path, e.into()))?;
            Inner::Saz(saz::SazReader::new(path, shared, unlock)?)
        }
        (Format::Saz, Src::Memory(b)) => Inner::Saz(saz::SazReader::new(
            path,
            saz::SharedSource::memory(b),
            unlock,
        )?),
        (Format::Har, src) => {
            let boxed: Box<dyn Source> = match src {
                Src::File(f) => Box::new(f),
                Src::Memory(b) => Box::new(Cursor::new(b)),
            };
            Inner::Har(har::HarReader::new(path, boxed)?)
        }
    };
    Ok(CaptureReader { inner, total })
}

/// Reads every flow of a capture file, failing on the first error. A truncated HAR file is
/// repaired silently; use [`open`] to learn about repairs.
pub fn read_all(path: &Path) -> Result<Vec<Flow>, CaptureError> {
    open(path)?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_file_entry_and_offset() {
        let e = CaptureError::at(
            Path::new("corpus/x.har"),
            Location {
                member: None,
                entry: Some(3),
                offset: Some(10422),
            },
            CaptureErrorKind::MissingField("request.url".into()),
        );
        assert_eq!(
            e.to_string(),
            "corpus/x.har: entry 3 at byte 10422: missing field `request.url`"
        );
        let e = CaptureError::at(
            Path::new("a.saz"),
            Location {
                member: Some("raw/03_s.txt".into()),
                ..Location::default()
            },
            CaptureErrorKind::Http("no status line".into()),
        );
        assert_eq!(
            e.to_string(),
            "a.saz: raw/03_s.txt: malformed HTTP message: no status line"
        );
    }

    #[test]
    fn format_is_sniffed_from_content_not_extension() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("looks-like.saz");
        std::fs::write(&p, br#"{"log":{"version":"1.2","entries":[]}}"#).unwrap();
        let r = open(&p).unwrap();
        assert_eq!(r.format(), Format::Har);
        assert_eq!(r.total_bytes(), Some(38));
        let r = from_bytes(Path::new("x"), b"PK\x03\x04garbage".to_vec());
        let e = r.unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::Zip(_)), "{e}");
    }

    #[test]
    fn empty_and_non_capture_files_say_what_they_are_not() {
        let e = from_bytes(Path::new("e.har"), vec![]).unwrap_err();
        assert_eq!(e.to_string(), "e.har is empty");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let e = from_bytes(Path::new("x.png"), png).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"x.png is not a HAR, idscope recording or SAZ archive (starts with "\x89PNG\r\n\x1a\n")"#
        );
        let e = from_bytes(Path::new("t.txt"), b"hello world\n".to_vec()).unwrap_err();
        assert!(
            matches!(e.kind(), CaptureErrorKind::NotCapture { .. }),
            "{e}"
        );
        let bom = b"\xEF\xBB\xBF \n{\"log\":{\"entries\":[]}}".to_vec();
        assert_eq!(
            from_bytes(Path::new("b.har"), bom).unwrap().format(),
            Format::Har
        );
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let e = read_all(Path::new("/nonexistent/idscope.har")).unwrap_err();
        assert!(matches!(
            e.kind(),
            CaptureErrorKind::Io {
                kind: io::ErrorKind::NotFound,
                ..
            }
        ));
        assert!(e.to_string().starts_with("/nonexistent/idscope.har: "));
    }
}
