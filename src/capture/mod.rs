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
pub mod redact;
pub mod saz;
mod scan;

pub use har::{HarWriter, har_entry_to_flow};
pub use har_entry::flow_to_har_entry;

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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}", .0.path.display(), .0.location, .0.kind)]
pub struct CaptureError(Box<ErrorDetails>);

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
}

/// A readable and seekable byte source (a file or an in-memory buffer).
trait Source: Read + Seek + Send {}
impl<T: Read + Seek + Send> Source for T {}

enum Inner {
    Har(har::HarReader<Box<dyn Source>>),
    Saz(saz::SazReader<Box<dyn Source>>),
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

/// Opens a capture file, sniffing its format from the content (zip magic means SAZ, anything
/// else is read as HAR JSON), and returns a streaming reader. A HAR file whose header is not HAR
/// is refused here; entry problems surface from the iterator.
pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
    let io_err = |e: io::Error| CaptureError::new(path, e.into());
    let mut file = File::open(path).map_err(io_err)?;
    let total = file.metadata().map(|m| m.len()).ok();
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match file.read(magic.get_mut(got..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    file.rewind().map_err(io_err)?;
    let is_zip = magic.get(..got) == Some(ZIP_MAGIC);
    from_source(path, Box::new(file), is_zip, total)
}

/// Reads a capture held in memory (stdin, tests); `name` is used in error messages.
pub fn from_bytes(name: &Path, bytes: Vec<u8>) -> Result<CaptureReader, CaptureError> {
    let is_zip = bytes.starts_with(ZIP_MAGIC);
    let total = Some(bytes.len() as u64);
    from_source(name, Box::new(Cursor::new(bytes)), is_zip, total)
}

fn from_source(
    path: &Path,
    src: Box<dyn Source>,
    is_zip: bool,
    total: Option<u64>,
) -> Result<CaptureReader, CaptureError> {
    let inner = if is_zip {
        Inner::Saz(saz::SazReader::new(path, src)?)
    } else {
        Inner::Har(har::HarReader::new(path, src)?)
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
