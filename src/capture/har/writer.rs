//! The crash-safe HAR file writer used for recordings and exports: one compact entry per line,
//! each written whole by one `write` call, so a file cut anywhere is one the reader repairs. How
//! a flow becomes an entry is `har_entry`; this module owns the file layout and its failure rules.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::capture::har_entry::write_entry;
use crate::capture::har_fields::IDSCOPE_FIELD;
use crate::flow::Flow;

impl Drop for HarWriter {
    fn drop(&mut self) {
        let _ = self.commit();
    }
}

/// Writes a crash-safe HAR recording (security.md §3).
///
/// Layout: a header line `{"log":{"version":"1.2","creator":{…},"entries":[`, then one compact
/// entry per line — the first as `{…}`, later ones as `,{…}` — each written whole inside a
/// single `write` call (one flow with [`HarWriter::write_flow`], or the flows staged with
/// [`HarWriter::stage_flow`] together with [`HarWriter::commit`]), and `]}}` on
/// [`HarWriter::finish`]. A finished file is plain HAR; a file cut anywhere (`kill -9`, power
/// loss after the page cache) loses at most the entries of the write in progress, and the
/// reader repairs it. Dropping the writer without `finish` leaves such a repairable
/// file too. The file is created with mode 0600. After a write error every later call fails:
/// the recording stops loudly rather than leaving a hole.
#[derive(Debug)]
pub struct HarWriter {
    file: File,
    path: PathBuf,
    entries: u64,
    failed: bool,
    /// Entries staged by [`HarWriter::stage_flow`], written by [`HarWriter::commit`].
    staged: Vec<u8>,
}

impl HarWriter {
    /// Creates a new recording at `path`; fails if the file exists (never clobbers).
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::open(path, false, None)
    }

    /// Writes `flows` to a new file at `path` (never clobbers) and finishes it; returns how many
    /// were written. The error names the step that failed, the flow and the file.
    pub fn write_all<'a>(
        path: &Path,
        flows: impl IntoIterator<Item = &'a Flow>,
    ) -> io::Result<usize> {
        let at =
            |what: String| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
        let mut w = Self::create(path).map_err(at(format!("creating {}", path.display())))?;
        let mut n = 0;
        for f in flows {
            w.write_flow(f)
                .map_err(at(format!("writing {} to {}", f.id, path.display())))?;
            n += 1;
        }
        w.finish()
            .map_err(at(format!("finishing {}", path.display())))?;
        Ok(n)
    }

    /// Like [`HarWriter::create`], with `note` as the `_idscope` member of `log.creator` (what a
    /// later reader needs to know about how the capture was made, e.g. the demo's reference
    /// server seed; see [`crate::capture::CaptureReader::creator`]).
    pub fn create_with_note(path: &Path, note: &serde_json::Value) -> io::Result<Self> {
        Self::open(path, false, Some(note))
    }

    /// Creates a recording at `path`, replacing an existing file (for `--force`). The file ends
    /// up with mode 0600 even when the replaced one was more permissive.
    pub fn create_or_overwrite(path: &Path) -> io::Result<Self> {
        Self::open(path, true, None)
    }

    fn open(path: &Path, overwrite: bool, note: Option<&serde_json::Value>) -> io::Result<Self> {
        let mut opts = OpenOptions::new();
        opts.write(true);
        if overwrite {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path)?;
        #[cfg(unix)]
        if overwrite {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        let mut w = HarWriter {
            file,
            path: path.to_path_buf(),
            entries: 0,
            failed: false,
            staged: Vec::new(),
        };
        let note = note
            .map(|n| format!(",\"{IDSCOPE_FIELD}\":{n}"))
            .unwrap_or_default();
        let header = format!(
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{{\"name\":\"idscope\",\"version\":\"{}\"{note}}},\"entries\":[\n",
            env!("CARGO_PKG_VERSION")
        );
        w.write_once(header.as_bytes())?;
        Ok(w)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many entries have been written.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn write_once(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(format!(
                "recording to {} stopped after an earlier write error",
                self.path.display()
            )));
        }
        // One write call per entry: a regular file takes the whole buffer at once, so a crash
        // can only cut the entry being written. A short write (disk nearly full) is completed.
        let res = self.file.write(bytes).and_then(|n| match bytes.get(n..) {
            Some(rest) if !rest.is_empty() => self.file.write_all(rest),
            _ => Ok(()),
        });
        if res.is_err() {
            self.failed = true;
        }
        res
    }

    /// Appends one flow as one line, with one write call. Flows still in flight at shutdown are
    /// written with `Outcome::Error { incomplete: true, .. }`, which becomes
    /// `_idscope.incomplete: true`.
    pub fn write_flow(&mut self, f: &Flow) -> io::Result<()> {
        self.stage_flow(f);
        self.commit()
    }

    /// Serialises one flow as one line into the staging buffer; nothing reaches the file until
    /// [`HarWriter::commit`]. The recorder stages the flows that finished together and commits
    /// them with one write call (group commit): every line is still whole inside one write, so
    /// a crash cuts at most the lines of that write, and those were not on disk before it.
    pub fn stage_flow(&mut self, f: &Flow) {
        if self.entries > 0 {
            self.staged.push(b',');
        }
        write_entry(&mut self.staged, f);
        self.staged.push(b'\n');
        self.entries += 1;
    }

    /// Writes every staged line with one write call.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let staged = std::mem::take(&mut self.staged);
        let res = self.write_once(&staged);
        // The buffer's capacity is kept for the next batch.
        self.staged = staged;
        self.staged.clear();
        res
    }

    /// Flushes written entries to stable storage (the recorder may call this periodically).
    pub fn sync(&mut self) -> io::Result<()> {
        self.commit()?;
        self.file.sync_data()
    }

    /// Writes the footer `]}}` and syncs: the file is then a complete HAR document.
    pub fn finish(mut self) -> io::Result<()> {
        self.commit()?;
        self.write_once(b"]}}\n")?;
        self.file.sync_all()
    }

    /// Like [`HarWriter::finish`], with extra members of `log` written after `entries` (the
    /// redaction record `_redaction`, whose counts are known only at the end).
    pub fn finish_with(mut self, log_fields: &Map<String, Value>) -> io::Result<()> {
        self.commit()?;
        let mut footer = b"]".to_vec();
        for (k, v) in log_fields {
            footer.push(b',');
            serde_json::to_writer(&mut footer, k)?;
            footer.push(b':');
            serde_json::to_writer(&mut footer, v)?;
        }
        footer.extend_from_slice(b"}}\n");
        self.write_once(&footer)?;
        self.file.sync_all()
    }
}
