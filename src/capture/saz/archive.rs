//! The zip container of a SAZ, read without holding its central directory: [`Archive::open`]
//! finds the directory (end record, Zip64 end record), [`Archive::walk`] streams its records one
//! at a time, keeping only what reading a member needs ([`Member`], about 40 bytes), and
//! [`Member::read`] reads one member: its local header, the payload (bounded), decryption
//! ([`super::crypt`]), inflation and the CRC check.
//!
//! Written here rather than with the `zip` crate because that crate parses the whole central
//! directory into memory up front (several hundred bytes per member, three members per Fiddler
//! session), and its streaming reader supports neither encrypted members nor data descriptors.
//! Supported: stored and deflated members, ZipCrypto and WinZip AES, data descriptors, Zip64, and
//! data prepended to the archive (offsets are corrected the way Info-ZIP does). Nothing from a
//! header is trusted: sizes are checked against the archive's length and the caller's cap.

use std::io::{BufReader, Read, Seek, SeekFrom};

use super::crypt::{self, AesStrength};
use super::{CaptureErrorKind, SharedSource};

const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CD_SIG: u32 = 0x0201_4b50;
const CD_LEN: usize = 46;
const LOCAL_SIG: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;
/// The extra field of Zip64 sizes and offsets.
const ZIP64_EXTRA: u16 = 0x0001;
/// WinZip AES's extra field.
const AES_EXTRA: u16 = 0x9901;
/// The compression method that says "WinZip AES; the real method is in the extra field".
const METHOD_AES: u16 = 99;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
/// The most reserved for a member's inflated bytes before they are seen (headers can lie).
const RESERVE_MAX: u64 = 1 << 20;
/// The longest archive comment, so the end record is within this many bytes of the end.
const MAX_COMMENT: u64 = 0xffff;

fn zip_err(msg: impl Into<String>) -> CaptureErrorKind {
    CaptureErrorKind::Zip(msg.into())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// How a member is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encryption {
    None,
    ZipCrypto,
    /// WinZip AES; `crc` says whether the CRC is meaningful (AE-1) or zero (AE-2).
    Aes {
        strength: AesStrength,
        crc: bool,
    },
}

/// What reading one member needs, from its central directory record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member {
    /// Where its local header starts.
    offset: u64,
    /// The payload's size in the archive.
    pub(super) compressed: u64,
    /// The size it inflates to.
    pub(super) size: u64,
    crc: u32,
    /// The compression method (for AES members, the one in the AES extra field).
    method: u16,
    /// The modification time (DOS), which ZipCrypto checks when the member has a data descriptor.
    time: u16,
    flags: u16,
    pub(super) encryption: Encryption,
}

/// An open archive: where its central directory is.
#[derive(Debug, Clone)]
pub(super) struct Archive {
    src: SharedSource,
    len: u64,
    /// Added to every offset in the archive (bytes prepended to it).
    shift: u64,
    cd_start: u64,
    entries: u64,
}

/// One central directory record: the member's name and what reading it needs.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) name: String,
    pub(super) member: Member,
}

impl Archive {
    /// Finds the central directory of the archive in `src`.
    pub(super) fn open(mut src: SharedSource) -> Result<Self, CaptureErrorKind> {
        let len = src.seek(SeekFrom::End(0)).map_err(io_err)?;
        let tail_len = len.min(EOCD_LEN as u64 + MAX_COMMENT);
        let tail_start = len - tail_len;
        let tail = read_at(&mut src, tail_start, tail_len as usize)?;
        // The record nearest the end whose comment ends the file; failing that (bytes appended),
        // the last signature at all: a comment may itself contain the signature's bytes.
        let candidates = || {
            (0..tail.len().saturating_sub(EOCD_LEN - 1))
                .rev()
                .filter(|&i| u32_at(&tail, i) == EOCD_SIG)
        };
        let eocd = candidates()
            .find(|&i| i + EOCD_LEN + usize::from(u16_at(&tail, i + 20)) == tail.len())
            .or_else(|| candidates().next())
            .ok_or_else(|| zip_err("no end of central directory record (not a zip archive)"))?;
        let e = &tail[eocd..];
        let eocd_pos = tail_start + eocd as u64;
        let mut entries = u64::from(u16_at(e, 10));
        let mut cd_size = u64::from(u32_at(e, 12));
        let mut cd_offset = u64::from(u32_at(e, 16));
        let mut cd_end = eocd_pos;
        let saturated = entries == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff;
        if saturated && let Some(z) = zip64_end(&mut src, eocd_pos)? {
            (entries, cd_size, cd_offset, cd_end) = z;
        }
        let disk = |v: u16| v != 0 && v != 0xffff;
        if disk(u16_at(e, 4)) || disk(u16_at(e, 6)) {
            return Err(zip_err("multi-part (spanned) archives are not supported"));
        }
        // The directory ends where the end record (or the Zip64 one) begins; anything before the
        // offset it claims was prepended to the archive.
        let cd_start = cd_end
            .checked_sub(cd_size)
            .ok_or_else(|| zip_err("the central directory is larger than the archive"))?;
        let shift = cd_start
            .checked_sub(cd_offset)
            .ok_or_else(|| zip_err("the central directory's offset is past its end"))?;
        if entries > cd_size / CD_LEN as u64 {
            return Err(zip_err(format!(
                "the end record claims {entries} members in a {cd_size}-byte central directory"
            )));
        }
        Ok(Archive {
            src,
            len,
            shift,
            cd_start,
            entries,
        })
    }

    /// The central directory's records in order, each read as it is reached.
    pub(super) fn walk(&self) -> Walk {
        let mut src = self.src.clone();
        let start = src.seek(SeekFrom::Start(self.cd_start));
        Walk {
            src: BufReader::with_capacity(64 << 10, src),
            left: if start.is_ok() { self.entries } else { 0 },
            at: 0,
            shift: self.shift,
            len: self.len,
        }
    }

    /// A reader over the archive's bytes, for [`Member::read`].
    pub(super) fn source(&self) -> SharedSource {
        self.src.clone()
    }
}

/// The Zip64 end record's (entries, directory size, directory offset, where the record starts),
/// when the locator before the end record points at one.
fn zip64_end(
    src: &mut SharedSource,
    eocd_pos: u64,
) -> Result<Option<(u64, u64, u64, u64)>, CaptureErrorKind> {
    let Some(loc_pos) = eocd_pos.checked_sub(ZIP64_LOCATOR_LEN) else {
        return Ok(None);
    };
    let loc = read_at(src, loc_pos, ZIP64_LOCATOR_LEN as usize)?;
    if u32_at(&loc, 0) != ZIP64_LOCATOR_SIG {
        return Ok(None);
    }
    // The record's offset as written; with bytes prepended, it sits right before the locator.
    let claimed = u64_at(&loc, 8);
    let rec = read_at(src, claimed, 56)
        .ok()
        .filter(|r| u32_at(r, 0) == ZIP64_EOCD_SIG);
    let (rec, rec_pos) = match rec {
        Some(r) => (r, claimed),
        None => {
            let pos = loc_pos
                .checked_sub(56)
                .ok_or_else(|| zip_err("the Zip64 end of central directory record is missing"))?;
            let r = read_at(src, pos, 56)?;
            if u32_at(&r, 0) != ZIP64_EOCD_SIG {
                return Err(zip_err(
                    "the Zip64 end of central directory record is missing",
                ));
            }
            (r, pos)
        }
    };
    Ok(Some((
        u64_at(&rec, 32),
        u64_at(&rec, 40),
        u64_at(&rec, 48),
        rec_pos,
    )))
}

fn io_err(e: std::io::Error) -> CaptureErrorKind {
    zip_err(format!("read error: {e}"))
}

/// Reads `n` bytes at `at`; a short read is an error saying where.
fn read_at(src: &mut SharedSource, at: u64, n: usize) -> Result<Vec<u8>, CaptureErrorKind> {
    src.seek(SeekFrom::Start(at)).map_err(io_err)?;
    let mut buf = vec![0u8; n];
    src.read_exact(&mut buf)
        .map_err(|_| zip_err(format!("the archive ends before byte {}", at + n as u64)))?;
    Ok(buf)
}

/// The central directory, one record at a time ([`Archive::walk`]).
#[derive(Debug)]
pub(super) struct Walk {
    src: BufReader<SharedSource>,
    left: u64,
    /// The record's number, for errors.
    at: u64,
    shift: u64,
    len: u64,
}

impl Iterator for Walk {
    type Item = Result<Record, CaptureErrorKind>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.at += 1;
        let r = self.record();
        if r.is_err() {
            // The records after a bad one cannot be found.
            self.left = 0;
        }
        Some(r)
    }
}

impl Walk {
    fn record(&mut self) -> Result<Record, CaptureErrorKind> {
        let at = self.at;
        let bad = |what: &str| zip_err(format!("central directory record {at}: {what}"));
        let mut h = [0u8; CD_LEN];
        self.src
            .read_exact(&mut h)
            .map_err(|_| bad("the archive ends inside it"))?;
        if u32_at(&h, 0) != CD_SIG {
            return Err(bad("bad signature"));
        }
        let (name_len, extra_len, comment_len) = (
            usize::from(u16_at(&h, 28)),
            usize::from(u16_at(&h, 30)),
            usize::from(u16_at(&h, 32)),
        );
        let mut var = vec![0u8; name_len + extra_len + comment_len];
        self.src
            .read_exact(&mut var)
            .map_err(|_| bad("the archive ends inside it"))?;
        let name = String::from_utf8_lossy(&var[..name_len]).into_owned();
        let extra = &var[name_len..name_len + extra_len];
        let flags = u16_at(&h, 8);
        let mut method = u16_at(&h, 10);
        let mut size = u64::from(u32_at(&h, 24));
        let mut compressed = u64::from(u32_at(&h, 20));
        let mut offset = u64::from(u32_at(&h, 42));
        let crc = u32_at(&h, 16);
        let mut aes = None;
        for (id, data) in extra_fields(extra) {
            match id {
                ZIP64_EXTRA => {
                    // Only the fields whose 32-bit value is saturated are present, in this order.
                    let mut at = 0;
                    for field in [&mut size, &mut compressed, &mut offset] {
                        if *field == 0xffff_ffff {
                            if data.len() < at + 8 {
                                return Err(bad("short Zip64 extra field"));
                            }
                            *field = u64_at(data, at);
                            at += 8;
                        }
                    }
                }
                AES_EXTRA if data.len() >= 7 => {
                    let strength = AesStrength::from_byte(data[4])
                        .ok_or_else(|| bad(&format!("AES key strength {}", data[4])))?;
                    aes = Some((u16_at(data, 0), strength, u16_at(data, 5)));
                }
                _ => {}
            }
        }
        if flags & FLAG_STRONG_ENCRYPTION != 0 {
            return Err(bad(&format!(
                "{name} uses PKWARE strong encryption, which is not supported"
            )));
        }
        let encryption = match (flags & FLAG_ENCRYPTED != 0, aes) {
            (false, _) => Encryption::None,
            (true, None) if method == METHOD_AES => {
                return Err(bad("AES-encrypted without an AES extra field"));
            }
            (true, None) => Encryption::ZipCrypto,
            (true, Some((version, strength, real_method))) => {
                method = real_method;
                Encryption::Aes {
                    strength,
                    crc: version != 2,
                }
            }
        };
        let offset = offset
            .checked_add(self.shift)
            .filter(|o| o.saturating_add(compressed) <= self.len)
            .ok_or_else(|| bad(&format!("{name} lies past the end of the archive")))?;
        Ok(Record {
            name,
            member: Member {
                offset,
                compressed,
                size,
                crc,
                method,
                time: u16_at(&h, 12),
                flags,
                encryption,
            },
        })
    }
}

/// The (id, data) of each field in an extra field block; a truncated last field is dropped.
fn extra_fields(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let id = u16_at(b, 0);
        let len = usize::from(u16_at(b, 2));
        let data = b.get(4..4 + len)?;
        b = &b[4 + len..];
        Some((id, data))
    })
}

impl Member {
    /// Reads the member from `src`: decrypted with `password` when it is encrypted (a WinZip AES
    /// key derived is kept for a later read when `remember_key`), inflated through `cap`, its CRC
    /// checked. The payload is read whole (bounded by `cap` as well).
    pub(super) fn read(
        &self,
        src: &mut SharedSource,
        password: Option<&[u8]>,
        cap: u64,
        remember_key: bool,
    ) -> Result<Vec<u8>, CaptureErrorKind> {
        if self.size > cap {
            return Err(CaptureErrorKind::TooLarge { limit: cap });
        }
        // Deflate never grows data by more than a few bytes per 16 KiB block, so a payload much
        // larger than the cap cannot inflate to something within it.
        if self.compressed > cap.saturating_add(cap / 64).saturating_add(1024) {
            return Err(CaptureErrorKind::TooLarge { limit: cap });
        }
        if self.encryption != Encryption::None && password.is_none() {
            return Err(CaptureErrorKind::PasswordRequired);
        }
        let head = read_at(src, self.offset, LOCAL_LEN)?;
        if u32_at(&head, 0) != LOCAL_SIG {
            return Err(zip_err(format!(
                "no local header at byte {} (the central directory points at it)",
                self.offset
            )));
        }
        let data_at = self.offset
            + LOCAL_LEN as u64
            + u64::from(u16_at(&head, 26))
            + u64::from(u16_at(&head, 28));
        let payload = read_at(src, data_at, to_usize(self.compressed)?)?;
        let (data, check_crc) = match (self.encryption, password) {
            (Encryption::None, _) | (_, None) => (payload, true),
            (Encryption::ZipCrypto, Some(p)) => {
                let check = if self.flags & FLAG_DESCRIPTOR != 0 {
                    (self.time >> 8) as u8
                } else {
                    (self.crc >> 24) as u8
                };
                (crypt::zipcrypto_decrypt(&payload, check, p)?, true)
            }
            (Encryption::Aes { strength, crc }, Some(p)) => (
                crypt::aes_decrypt(&payload, strength, p, remember_key)?,
                crc,
            ),
        };
        let out = match self.method {
            METHOD_STORED => data,
            METHOD_DEFLATE => {
                // The size is a hint from a header, so at most a little is reserved up front.
                let mut out = Vec::with_capacity(to_usize(self.size.min(cap).min(RESERVE_MAX))?);
                flate2::read::DeflateDecoder::new(&data[..])
                    .take(cap + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| zip_err(format!("bad deflate data: {e}")))?;
                out
            }
            m => return Err(zip_err(format!("compression method {m} is not supported"))),
        };
        if out.len() as u64 > cap {
            return Err(CaptureErrorKind::TooLarge { limit: cap });
        }
        if out.len() as u64 != self.size {
            return Err(zip_err(format!(
                "{} bytes where the central directory says {}",
                out.len(),
                self.size
            )));
        }
        if check_crc && crc32fast::hash(&out) != self.crc {
            return Err(zip_err("CRC-32 does not match: the member is damaged"));
        }
        Ok(out)
    }
}

fn to_usize(n: u64) -> Result<usize, CaptureErrorKind> {
    usize::try_from(n).map_err(|_| zip_err(format!("{n} bytes do not fit in memory")))
}

#[cfg(test)]
mod tests {
    use super::super::sample::{self, Layout};
    use super::super::sessions::{self, Sessions};
    use super::*;
    use crate::capture::{from_bytes, from_bytes_with_password};
    use crate::flow::Flow;
    use std::path::Path;

    fn flows(bytes: Vec<u8>, password: Option<&str>) -> Vec<Flow> {
        let path = Path::new("t.saz");
        match password {
            Some(p) => from_bytes_with_password(path, bytes, p).unwrap(),
            None => from_bytes(path, bytes).unwrap(),
        }
        .map(Result::unwrap)
        .collect()
    }

    fn records(bytes: Vec<u8>) -> Vec<Record> {
        let archive = Archive::open(SharedSource::memory(bytes)).unwrap();
        archive.walk().map(Result::unwrap).collect()
    }

    #[test]
    fn zip64_fields_data_descriptors_and_stored_members_read_like_the_plain_archive() {
        let s = sample::sessions();
        let plain = flows(sample::build(&s), None);
        for (layout, what) in [
            (
                Layout {
                    zip64: true,
                    ..Layout::default()
                },
                "zip64",
            ),
            (
                Layout {
                    stream: true,
                    ..Layout::default()
                },
                "data descriptors",
            ),
            (
                Layout {
                    stream: true,
                    zip64: true,
                    password: Some("pw"),
                    ..Layout::default()
                },
                "AES, zip64 and data descriptors",
            ),
            (
                Layout {
                    stored: true,
                    ..Layout::default()
                },
                "stored",
            ),
        ] {
            let bytes = sample::build_layout(&s, &layout);
            let recs = records(bytes.clone());
            if layout.stream {
                assert!(
                    recs.iter().all(|r| r.member.flags & FLAG_DESCRIPTOR != 0),
                    "{what}: the writer used data descriptors"
                );
            }
            if layout.stored {
                assert!(recs.iter().all(|r| r.member.method == METHOD_STORED));
            }
            assert_eq!(flows(bytes, layout.password), plain, "{what}");
        }
    }

    #[test]
    fn bytes_prepended_to_the_archive_are_skipped() {
        // (The capture layer only hands archives starting with a zip header to this reader;
        // the archive layer itself copes with a prefix, as Info-ZIP does.)
        let s = sample::sessions();
        let mut bytes = b"MZ a self-extractor stub".repeat(100);
        bytes.extend(sample::build(&s));
        let src = SharedSource::memory(bytes);
        let mut r =
            super::super::SazReader::new(Path::new("t.saz"), src, super::super::Unlock::Never)
                .unwrap();
        let got: Vec<Flow> = std::iter::from_fn(|| r.next())
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, flows(sample::build(&s), None));
    }

    /// The payload of the first member named `name` in `bytes`.
    fn payload_range(bytes: &[u8], name: &str) -> std::ops::Range<usize> {
        let r = records(bytes.to_vec())
            .into_iter()
            .find(|r| r.name == name)
            .unwrap();
        let at = r.member.offset as usize;
        let start = at
            + LOCAL_LEN
            + usize::from(u16_at(bytes, at + 26))
            + usize::from(u16_at(bytes, at + 28));
        start..start + r.member.compressed as usize
    }

    #[test]
    fn a_damaged_member_fails_its_crc_or_authentication_code_naming_the_member() {
        let s = sample::sessions();
        let stored = Layout {
            stored: true,
            ..Layout::default()
        };
        let aes = Layout {
            password: Some("pw"),
            ..Layout::default()
        };
        for (layout, expected) in [
            (stored, "CRC-32 does not match"),
            (aes, "authentication code"),
        ] {
            let mut bytes = sample::build_layout(&s, &layout);
            let range = payload_range(&bytes, "raw/02_c.txt");
            bytes[range.start + range.len() / 2] ^= 0x20;
            let path = Path::new("t.saz");
            let items: Vec<_> = match layout.password {
                Some(p) => from_bytes_with_password(path, bytes, p).unwrap().collect(),
                None => from_bytes(path, bytes).unwrap().collect(),
            };
            let e = items[1].as_ref().unwrap_err();
            assert_eq!(e.location().member.as_deref(), Some("raw/02_c.txt"));
            assert!(e.to_string().contains(expected), "{e}");
            assert!(
                items[0].is_ok() && items[2].is_ok(),
                "the other sessions still read"
            );
        }
    }

    #[test]
    fn a_first_pass_does_not_read_the_meta_members() {
        let s = sample::sessions();
        let mut bytes = sample::build_layout(
            &s,
            &Layout {
                stored: true,
                ..Layout::default()
            },
        );
        let range = payload_range(&bytes, "raw/02_m.xml");
        bytes[range.start] ^= 0x20;
        let path = Path::new("t.saz");
        let all: Vec<_> = from_bytes(path, bytes.clone()).unwrap().collect();
        assert!(
            all[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("raw/02_m.xml")
        );
        let light: Vec<Flow> = from_bytes(path, bytes)
            .unwrap()
            .first_pass()
            .map(Result::unwrap)
            .collect();
        let full = flows(sample::build(&s), None);
        assert_eq!(light.len(), full.len());
        for (l, f) in light.iter().zip(&full) {
            assert_eq!((&l.request, l.response()), (&f.request, f.response()));
            assert_eq!(l.comment, None, "no ui-comments without _m.xml");
        }
        assert!(full[1].comment.is_some());
    }

    #[test]
    fn a_first_pass_keeps_the_aes_keys_of_requests_and_responses_for_the_second() {
        let s = sample::sessions();
        let pw = "first pass";
        let bytes = sample::build_with(&s, Some(pw));
        let salt_of = |name: &str| {
            let r = payload_range(&bytes, name);
            bytes[r.start..r.start + 16].to_vec()
        };
        let cached =
            |name: &str| crypt::is_cached(AesStrength::Aes256, &salt_of(name), pw.as_bytes());
        let path = Path::new("t.saz");
        let once = flows(bytes.clone(), Some(pw));
        assert!(!cached("raw/01_c.txt"), "a single read keeps no key");
        let first: Vec<Flow> = from_bytes_with_password(path, bytes.clone(), pw)
            .unwrap()
            .first_pass()
            .map(Result::unwrap)
            .collect();
        assert_eq!(first.len(), once.len());
        for n in ["01", "02", "03"] {
            assert!(cached(&format!("raw/{n}_c.txt")) && cached(&format!("raw/{n}_s.txt")));
            assert!(!cached(&format!("raw/{n}_m.xml")), "metadata is not read");
        }
        assert_eq!(
            flows(bytes, Some(pw)),
            once,
            "the second read uses the kept keys"
        );
    }

    #[test]
    fn sessions_in_order_are_streamed_and_others_indexed_with_the_same_flows() {
        let s = sample::sessions();
        let archive = Archive::open(SharedSource::memory(sample::build(&s))).unwrap();
        let (survey, sessions) = sessions::survey(&archive, 3).unwrap();
        assert!(survey.ordered);
        assert_eq!(survey.sessions, 4);
        assert!(matches!(sessions, Sessions::Streamed { .. }));

        let mut rev = sample::sessions();
        rev.reverse();
        let archive = Archive::open(SharedSource::memory(sample::build(&rev))).unwrap();
        let (survey, sessions) = sessions::survey(&archive, 3).unwrap();
        assert!(!survey.ordered);
        assert_eq!(survey.sessions, 4);
        assert!(matches!(sessions, Sessions::Indexed(_)));
        assert_eq!(
            flows(sample::build(&rev), None),
            flows(sample::build(&s), None)
        );
    }

    #[test]
    fn lying_directories_are_errors_that_say_what_is_wrong() {
        let bytes = sample::build(&sample::sessions());
        let eocd = bytes.len() - EOCD_LEN;
        assert_eq!(u32_at(&bytes, eocd), EOCD_SIG);
        // More members than the directory can hold.
        let mut many = bytes.clone();
        many[eocd + 10..eocd + 12].copy_from_slice(&0xfff0u16.to_le_bytes());
        let e = Archive::open(SharedSource::memory(many)).unwrap_err();
        assert!(e.to_string().contains("claims 65520 members"), "{e}");
        // A directory larger than the archive.
        let mut big = bytes.clone();
        big[eocd + 12..eocd + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = Archive::open(SharedSource::memory(big)).unwrap_err();
        assert!(e.to_string().contains("larger than the archive"), "{e}");
        // A member whose local header is elsewhere.
        let rec = records(bytes.clone())
            .into_iter()
            .find(|r| r.name == "raw/01_c.txt")
            .unwrap();
        let mut moved = bytes.clone();
        moved[rec.member.offset as usize] = b'X';
        let items: Vec<_> = from_bytes(Path::new("t.saz"), moved).unwrap().collect();
        let e = items[0].as_ref().unwrap_err();
        assert!(e.to_string().contains("no local header at byte"), "{e}");
        // A comment holding the end record's signature does not hide the real record.
        let mut commented = bytes.clone();
        let comment = [b"PK\x05\x06".as_slice(), &[0u8; 30]].concat();
        commented[eocd + 20..eocd + 22].copy_from_slice(&(comment.len() as u16).to_le_bytes());
        commented.extend(&comment);
        assert_eq!(flows(commented, None), flows(bytes.clone(), None));
        // Strong encryption is named, not taken for ZipCrypto.
        let mut strong = bytes.clone();
        let cd = records(bytes.clone()).len();
        assert!(cd > 0);
        let first_cd = (0..strong.len())
            .find(|&i| u32_at(&strong, i) == CD_SIG)
            .unwrap();
        strong[first_cd + 8] |= (FLAG_STRONG_ENCRYPTION | FLAG_ENCRYPTED) as u8;
        let e = Archive::open(SharedSource::memory(strong))
            .unwrap()
            .walk()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("strong encryption"), "{e}");
        // Not a zip at all.
        let e = Archive::open(SharedSource::memory(b"PK but no".to_vec())).unwrap_err();
        assert!(
            e.to_string().contains("no end of central directory record"),
            "{e}"
        );
    }

    /// Reads `bytes` to the end: every error names the archive, nothing panics.
    fn read_all_or_fail(bytes: Vec<u8>, password: Option<&str>) -> Result<(), String> {
        let path = Path::new("f.saz");
        let named = |e: &crate::capture::CaptureError| {
            if e.path() == path && !e.to_string().is_empty() {
                Ok(())
            } else {
                Err(e.to_string())
            }
        };
        let reader = match password {
            Some(p) => from_bytes_with_password(path, bytes, p),
            None => from_bytes(path, bytes),
        };
        match reader {
            Ok(r) => r.filter_map(Result::err).try_for_each(|e| named(&e)),
            Err(e) => named(&e),
        }
    }

    #[test]
    fn an_archive_cut_at_every_length_fails_or_reads_naming_the_file() {
        let bytes = sample::build_layout(
            &sample::sessions(),
            &Layout {
                zip64: true,
                ..Layout::default()
            },
        );
        for n in 0..bytes.len() {
            if let Err(e) = read_all_or_fail(bytes[..n].to_vec(), None) {
                panic!("cut at {n}: {e}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Edits in the central directory and the end records, where the headers are parsed,
        /// of plain, Zip64, streamed and AES archives.
        #[test]
        fn edited_directories_read_or_fail_naming_the_file(
            layout in 0..4usize,
            edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 1..8),
        ) {
            let password = (layout == 3).then_some("pw");
            let layout = Layout {
                zip64: layout == 1,
                stream: layout == 2,
                password,
                ..Layout::default()
            };
            let mut bytes = sample::build_layout(&sample::sessions(), &layout);
            let cd = records(bytes.clone())
                .iter()
                .map(|r| r.member.offset + LOCAL_LEN as u64 + r.member.compressed)
                .max()
                .unwrap_or(0) as usize;
            let tail = bytes.len() - cd;
            for (at, byte) in edits {
                let i = cd + at.index(tail);
                bytes[i] = byte;
            }
            if let Err(e) = read_all_or_fail(bytes, password) {
                proptest::prop_assert!(false, "{}", e);
            }
        }
    }
}
