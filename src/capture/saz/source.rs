//! The archive's bytes as a reader that clones cheaply: each clone has its own position over the
//! same open file (positioned reads, no shared file offset) or the same bytes in memory, so the
//! threads that read sessions side by side, and the walk over the central directory, each read
//! with a clone of their own.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// Where the bytes are.
#[derive(Debug, Clone)]
enum Bytes {
    File(Arc<File>),
    Memory(Arc<[u8]>),
}

/// A cloneable, seekable reader over an archive (see the module doc).
#[derive(Debug, Clone)]
pub(crate) struct SharedSource {
    bytes: Bytes,
    len: u64,
    pos: u64,
}

impl SharedSource {
    /// Over an open file (its current offset does not matter).
    pub(crate) fn file(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(SharedSource {
            bytes: Bytes::File(Arc::new(file)),
            len,
            pos: 0,
        })
    }

    /// Over bytes in memory.
    pub(crate) fn memory(bytes: Vec<u8>) -> Self {
        SharedSource {
            len: bytes.len() as u64,
            bytes: Bytes::Memory(bytes.into()),
            pos: 0,
        }
    }
}

impl Read for SharedSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let n = match &self.bytes {
            Bytes::File(f) => read_at(f, buf, self.pos)?,
            Bytes::Memory(m) => {
                let start = usize::try_from(self.pos).unwrap_or(usize::MAX);
                let src = m.get(start..).unwrap_or_default();
                let n = src.len().min(buf.len());
                buf.get_mut(..n)
                    .unwrap_or_default()
                    .copy_from_slice(src.get(..n).unwrap_or_default());
                n
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedSource {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )),
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_read_the_same_bytes_at_their_own_positions() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut tmp, &data).unwrap();
        for mut a in [
            SharedSource::file(File::open(tmp.path()).unwrap()).unwrap(),
            SharedSource::memory(data.clone()),
        ] {
            a.seek(SeekFrom::Start(100)).unwrap();
            let mut b = a.clone();
            b.seek(SeekFrom::End(-10)).unwrap();
            let mut x = [0u8; 4];
            a.read_exact(&mut x).unwrap();
            assert_eq!(x, data[100..104]);
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).unwrap();
            assert_eq!(rest, data[data.len() - 10..]);
            a.read_exact(&mut x).unwrap();
            assert_eq!(x, data[104..108], "a's position is its own");
            assert!(a.seek(SeekFrom::Current(-1_000_000)).is_err());
        }
    }
}
