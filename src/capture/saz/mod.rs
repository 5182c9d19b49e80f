//! Fiddler session archives (`.saz`): a zip of `raw/NN_c.txt` (the request as the client sent it
//! through the proxy), `raw/NN_s.txt` (the response as it came off the wire) and `raw/NN_m.xml`
//! (timers and session flags), and for a WebSocket session `raw/NN_w.txt` (its messages,
//! [`websocket`]), read into [`Flow`]s in session order. A few threads read the
//! sessions ahead of the caller (decrypting and inflating members is most of the work, above all
//! WinZip AES's key derivation per member), each with its own reader over [`SharedSource`];
//! memory stays bounded by a window of sessions in flight, and the archive's central directory is
//! streamed, not held ([`sessions`]).
//!
//! This module reads sessions; [`archive`] owns the zip container (password-protected members
//! included: ZipCrypto and WinZip AES-128/192/256, in [`crypt`]; the password comes from
//! [`super::password`]); [`message`] parses the raw HTTP/1.x messages and [`meta`] the metadata
//! XML. It keeps `Content-Encoding` as [`crate::flow::Body::encoding`] and does not decompress. It
//! never trusts a size from a zip header or an HTTP header: every member is read through a cap,
//! and chunk sizes are checked against the bytes actually present. A session that cannot be read
//! (a member missing, corrupt or truncated) yields its error naming the member, and reading goes
//! on with the next session. It does not write SAZ.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use super::password::{self, Password};
use super::{CaptureError, CaptureErrorKind, Location};
use crate::flow::{Flow, FlowError, FlowId, Outcome};

mod archive;
mod crypt;
mod message;
mod meta;
#[cfg(test)]
pub(crate) mod sample;
mod sessions;
mod source;
mod websocket;

pub(crate) use source::SharedSource;

use archive::{Archive, Encryption, Member};
use message::{parse_request, parse_response};
use meta::parse_meta;
use sessions::{Session, Sessions};

/// The largest archive member read into memory. Fiddler keeps whole bodies in `_s.txt`, so this
/// is generous; a zip header claiming more is refused before reading, and the read itself is
/// capped too because zip headers can lie.
pub const MAX_MEMBER_BYTES: u64 = 256 << 20;

/// The largest `_m.xml` read (metadata is a few kilobytes).
const MAX_META_BYTES: u64 = 1 << 20;

/// The most threads that read sessions side by side (each decrypting and inflating its own
/// members: WinZip AES derives a key per member, which is most of an encrypted archive's cost).
const MAX_READERS: usize = 4;

/// Sessions read ahead of the one the caller is at, per reading thread; bounds the memory the
/// read-ahead holds.
const AHEAD_PER_READER: usize = 4;

/// Archives with fewer sessions left than this are read on the caller's thread.
const READ_AHEAD_MIN: usize = 8;

/// Members read to check a password: a wrong ZipCrypto password passes the header check one time
/// in 256, and then fails the member's checksum.
const PASSWORD_PROBES: usize = 3;

/// Where the password of a password-protected archive comes from.
#[derive(Debug)]
pub(crate) enum Unlock {
    /// [`password::password_for`]: `--password-file`, the environment, a prompt.
    Sources,
    /// This one.
    Given(Password),
    /// Nowhere: a protected archive is refused.
    Never,
}

/// The sessions still to be read, shared by the threads that read them: the next one's index
/// (its flow id) and the directory walk that yields it.
struct Claims {
    next: usize,
    sessions: Sessions,
}

/// Takes the next session, with its index.
fn claim(shared: &Mutex<Claims>) -> Option<(usize, Result<Session, CaptureErrorKind>)> {
    let mut c = shared.lock().ok()?;
    let s = c.sessions.next()?;
    let i = c.next;
    c.next += 1;
    Some((i, s))
}

/// Streams the sessions of one SAZ archive in session-number order. Sessions are read (members
/// decrypted, inflated and parsed) by a few threads ahead of the caller, each with its own reader
/// over the archive, and handed out in order ([`Ahead`]).
pub(crate) struct SazReader {
    path: PathBuf,
    archive: Archive,
    claims: Arc<Mutex<Claims>>,
    /// How many sessions the archive has.
    total: usize,
    next: usize,
    bytes_read: u64,
    /// Set once a member turned out to be encrypted and the password checked out.
    password: Option<Password>,
    /// Whether this is the first of two reads ([`SazReader::first_pass`]): `_m.xml` is skipped and
    /// the WinZip AES keys derived are kept ([`crypt`]) for the second.
    first_pass: bool,
    /// The threads reading ahead, once started.
    ahead: Option<Ahead>,
}

/// One session read: the flow or why not, and the compressed bytes its members took.
type Read1 = (Result<Flow, CaptureError>, u64);

/// The sessions being read ahead by worker threads, and those read but not yet handed out. A
/// worker takes a token before it claims the next session, and a token comes back when the
/// caller takes a session, so at most as many sessions as there are tokens are in flight. When
/// this is dropped the workers find the token and result channels closed and stop.
struct Ahead {
    results: Receiver<(usize, Read1)>,
    tokens: SyncSender<()>,
    ready: BTreeMap<usize, Read1>,
}

impl Ahead {
    /// Starts reading ahead with `readers` threads.
    fn start(
        archive: &Archive,
        path: &Path,
        password: Option<&Password>,
        first_pass: bool,
        claims: &Arc<Mutex<Claims>>,
        readers: usize,
    ) -> Option<Self> {
        let window = readers * AHEAD_PER_READER;
        let (tokens, token_rx) = sync_channel::<()>(window);
        for _ in 0..window {
            tokens.try_send(()).ok()?;
        }
        let token_rx = Arc::new(Mutex::new(token_rx));
        let (result_tx, results) = channel();
        for n in 0..readers {
            let mut src = archive.source();
            let path = path.to_path_buf();
            let password = password.cloned();
            let claims = Arc::clone(claims);
            let token_rx = Arc::clone(&token_rx);
            let result_tx = result_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("saz-reader-{n}"))
                .spawn(move || {
                    loop {
                        let token = token_rx.lock().is_ok_and(|rx| rx.recv().is_ok());
                        if !token {
                            return;
                        }
                        let Some((i, s)) = claim(&claims) else {
                            return;
                        };
                        let read =
                            read_session(&mut src, &path, password.as_ref(), first_pass, i, s);
                        if result_tx.send((i, read)).is_err() {
                            return;
                        }
                    }
                });
            if spawned.is_err() {
                // No threads to be had: the caller reads on its own thread.
                return None;
            }
        }
        Some(Ahead {
            results,
            tokens,
            ready: BTreeMap::new(),
        })
    }

    /// Session `index`, once a worker has read it; `None` when the workers are gone.
    fn take(&mut self, index: usize) -> Option<Read1> {
        loop {
            if let Some(read) = self.ready.remove(&index) {
                // The token goes back only now, so the sessions held here stay bounded.
                let _ = self.tokens.try_send(());
                return Some(read);
            }
            let (i, read) = self.results.recv().ok()?;
            self.ready.insert(i, read);
        }
    }
}

impl std::fmt::Debug for SazReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SazReader")
            .field("path", &self.path)
            .field("sessions", &self.total)
            .field("next", &self.next)
            .field("encrypted", &self.password.is_some())
            .finish()
    }
}

/// Reads `member` (decrypting with `password` when it is encrypted, keeping the key derived when
/// `remember_keys`) through `cap`.
fn read_member(
    src: &mut SharedSource,
    member: &Member,
    password: Option<&Password>,
    cap: u64,
    remember_keys: bool,
) -> Result<Vec<u8>, CaptureErrorKind> {
    let encrypted = member.encryption != Encryption::None;
    member
        .read(src, password.map(|p| p.as_bytes()), cap, remember_keys)
        .map_err(|e| match e {
            // A wrong ZipCrypto password that passed the one-byte check shows as a bad checksum
            // (or undecodable deflate data); with the right one it would be a corrupt member.
            CaptureErrorKind::Zip(m) if encrypted && password.is_some() => {
                CaptureErrorKind::Zip(format!("{m} (corrupt, or the password is wrong)"))
            }
            e => e,
        })
}

impl SazReader {
    /// Opens the archive and surveys its sessions. Fails when the zip is unreadable, holds no
    /// Fiddler sessions, or is password-protected and the password is missing or wrong.
    pub(crate) fn new(
        path: &Path,
        src: SharedSource,
        unlock: Unlock,
    ) -> Result<Self, CaptureError> {
        let err = |kind| CaptureError::new(path, kind);
        let archive = Archive::open(src).map_err(err)?;
        let (survey, sessions) = sessions::survey(&archive, PASSWORD_PROBES).map_err(err)?;
        if survey.sessions == 0 {
            return Err(err(CaptureErrorKind::NotSaz(
                "it has no `raw/NN_c.txt` sessions".into(),
            )));
        }
        let mut reader = SazReader {
            path: path.to_path_buf(),
            archive,
            claims: Arc::new(Mutex::new(Claims { next: 0, sessions })),
            total: survey.sessions,
            next: 0,
            bytes_read: 0,
            password: None,
            first_pass: false,
            ahead: None,
        };
        if survey.encrypted {
            reader.unlock(unlock, &survey.probes)?;
        }
        Ok(reader)
    }

    /// Obtains the password of an encrypted archive and checks it against the first few encrypted
    /// members, so a missing or wrong password fails the open (before a TUI starts) rather than
    /// every session. An archive whose first member is not encrypted is taken as plain (Fiddler
    /// encrypts all or nothing); a later encrypted member says it needs a password when read.
    fn unlock(&mut self, unlock: Unlock, probes: &[Member]) -> Result<(), CaptureError> {
        let err = |kind| CaptureError::new(&self.path, kind);
        let password = match unlock {
            Unlock::Given(p) => p,
            Unlock::Never => return Err(err(CaptureErrorKind::PasswordRequired)),
            Unlock::Sources => password::password_for(&self.path).map_err(err)?,
        };
        let mut src = self.archive.source();
        for member in probes {
            match read_member(&mut src, member, Some(&password), MAX_MEMBER_BYTES, false) {
                Err(CaptureErrorKind::WrongPassword) => break,
                // Corrupt, or a wrong ZipCrypto password that passed the header check: try the
                // next member.
                Err(CaptureErrorKind::Zip(_)) => {}
                // Read, or failed for another reason (too large): the password is right.
                _ => {
                    self.password = Some(password);
                    return Ok(());
                }
            }
        }
        password::forget(&self.path);
        Err(err(CaptureErrorKind::WrongPassword))
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Makes this the first of two reads: sessions are read without their `_m.xml` member (their
    /// flows have no Fiddler timers, flags or comments), and the WinZip AES keys derived are
    /// kept for the second read. Takes effect for sessions not yet read ahead.
    pub(crate) fn first_pass(&mut self) {
        self.first_pass = true;
    }

    pub(crate) fn next(&mut self) -> Option<Result<Flow, CaptureError>> {
        let index = self.next;
        if index >= self.total {
            return None;
        }
        if self.ahead.is_none() && self.total - index >= READ_AHEAD_MIN {
            let readers = std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, MAX_READERS);
            self.ahead = Ahead::start(
                &self.archive,
                &self.path,
                self.password.as_ref(),
                self.first_pass,
                &self.claims,
                readers,
            );
        }
        let read = match self.ahead.as_mut().and_then(|a| a.take(index)) {
            Some(read) => read,
            None => {
                // Read here: no read-ahead, or its threads are gone.
                self.ahead = None;
                let (i, s) = claim(&self.claims)?;
                let mut src = self.archive.source();
                read_session(
                    &mut src,
                    &self.path,
                    self.password.as_ref(),
                    self.first_pass,
                    i,
                    s,
                )
            }
        };
        self.next += 1;
        let (result, bytes) = read;
        self.bytes_read += bytes;
        Some(result)
    }
}

fn member_error(path: &Path, member: &str, entry: FlowId, kind: CaptureErrorKind) -> CaptureError {
    CaptureError::at(
        path,
        Location {
            member: Some(member.to_string()),
            entry: Some(entry.0),
            offset: None,
        },
        kind,
    )
}

/// Reads session number `index` (its request, metadata unless this is a first pass, response and
/// WebSocket members) into a flow, and counts the compressed bytes its members took.
fn read_session(
    src: &mut SharedSource,
    path: &Path,
    password: Option<&Password>,
    first_pass: bool,
    index: usize,
    session: Result<Session, CaptureErrorKind>,
) -> Read1 {
    let id = FlowId(index as u64);
    let session = match session {
        Ok(s) => s,
        Err(kind) => return (Err(CaptureError::new(path, kind)), 0),
    };
    let mut bytes = 0u64;
    let mut member = |name: &str, m: &Member, cap: u64| -> Result<Vec<u8>, CaptureError> {
        let out = read_member(src, m, password, cap, first_pass)
            .map_err(|kind| member_error(path, name, id, kind))?;
        bytes += m.compressed;
        Ok(out)
    };
    let error = |name: &str, kind| member_error(path, name, id, kind);
    let stem = session.stem.as_str();
    let result = (|| {
        let c_name = format!("{stem}_c.txt");
        let Some(c) = &session.request else {
            return Err(error(
                &c_name,
                CaptureErrorKind::MissingMember(c_name.clone()),
            ));
        };
        let m_name = format!("{stem}_m.xml");
        let Some(m) = &session.meta else {
            return Err(error(
                &m_name,
                CaptureErrorKind::MissingMember(m_name.clone()),
            ));
        };
        let raw = member(&c_name, c, MAX_MEMBER_BYTES)?;
        let request = parse_request(&raw).map_err(|k| error(&c_name, k))?;
        let meta = if first_pass {
            meta::Meta::default()
        } else {
            let raw = member(&m_name, m, MAX_META_BYTES)?;
            parse_meta(&raw).map_err(|k| error(&m_name, CaptureErrorKind::Xml(k)))?
        };
        let outcome = match &session.response {
            Some(s) => {
                let s_name = format!("{stem}_s.txt");
                let raw = member(&s_name, s, MAX_MEMBER_BYTES)?;
                Outcome::Response(parse_response(&raw).map_err(|k| error(&s_name, k))?)
            }
            None => Outcome::Error(FlowError {
                message: format!("no response in the archive ({stem}_s.txt is missing)"),
                incomplete: false,
            }),
        };
        let mut flow = meta.into_flow(id, request, outcome);
        if let Some(w) = &session.websocket {
            let w_name = format!("{stem}_w.txt");
            let raw = member(&w_name, w, MAX_MEMBER_BYTES)?;
            let messages = websocket::parse(&raw)
                .map_err(|m| error(&w_name, CaptureErrorKind::WebSocket(m)))?;
            flow.extra.insert(
                "_webSocketMessages".into(),
                serde_json::Value::Array(messages),
            );
        }
        Ok(flow)
    })();
    (result, bytes)
}

#[cfg(test)]
mod tests {
    use super::message::dechunk;
    use super::sample::{self, Saz};
    use super::*;
    use crate::capture::{Format, from_bytes, open};
    use proptest::prelude::*;
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    fn read(bytes: Vec<u8>) -> Vec<Result<Flow, CaptureError>> {
        from_bytes(Path::new("t.saz"), bytes).unwrap().collect()
    }

    #[test]
    fn sample_sessions_become_flows_in_order() {
        let items = read(sample::build(&sample::sessions()));
        let flows: Vec<Flow> = items.into_iter().map(Result::unwrap).collect();
        assert_eq!(flows.len(), 4);
        assert_eq!(
            flows.iter().map(|f| f.id.0).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );

        let tunnel = &flows[0];
        assert_eq!(tunnel.request.method, "CONNECT");
        assert_eq!(tunnel.request.url, "https://login.example:443");
        assert_eq!(tunnel.response().unwrap().reason, "Connection Established");

        let token = &flows[1];
        assert_eq!(
            token.request.url,
            "https://login.example/tenant/oauth2/v2.0/token"
        );
        assert!(
            token
                .request
                .body
                .raw
                .starts_with(b"grant_type=client_credentials")
        );
        let r = token.response().unwrap();
        assert_eq!(r.body.encoding.as_deref(), Some("gzip"));
        assert!(!r.body.truncated);
        assert_eq!(
            &*r.body.decoded(1 << 20).unwrap(),
            sample::TOKEN_JSON.as_bytes()
        );
        assert_eq!(token.client_addr, Some("127.0.0.1:50101".parse().unwrap()));
        assert_eq!(token.server_addr.as_deref(), Some("20.190.151.7"));
        assert_eq!(token.comment.as_deref(), Some("sync & sign-in"));
        assert_eq!(
            token.extra[crate::flow::FIDDLER_EXTRA]["flags"]["x-processinfo"],
            "miiserver:4242"
        );
        // 10:15:02.001+01:00
        let start = UNIX_EPOCH + Duration::from_millis(1_709_284_502_001);
        assert_eq!(token.started_at, start);
        assert_eq!(token.timings.total, Some(49.0));
        assert_eq!(token.timings.wait, Some(30.0));
        assert_eq!(token.timings.connect, Some(12.0));
        assert_eq!(token.timings.ssl, None);

        assert_eq!(
            flows[2].request.url,
            "http://adfs.example/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Afederation%3Aexample"
        );
        assert_eq!(flows[2].response().unwrap().status, 302);
        let e = flows[3].error().unwrap();
        let text = &e.message;
        assert!(text.contains("raw/04_s.txt is missing"), "{text}");
    }

    #[test]
    fn aes_archive_needs_its_password_and_a_wrong_one_says_so() {
        let plain: Vec<Flow> = read(sample::build(&sample::sessions()))
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let enc = sample::build_with(&sample::sessions(), Some("s3cret"));
        let e = from_bytes(Path::new("t.saz"), enc.clone()).unwrap_err();
        assert_eq!(*e.kind(), CaptureErrorKind::PasswordRequired);
        assert_eq!(
            e.to_string(),
            "t.saz: the archive is password-protected: use --password-file or IDSCOPE_SAZ_PASSWORD"
        );
        let e = crate::capture::from_bytes_with_password(Path::new("t.saz"), enc.clone(), "nope")
            .unwrap_err();
        assert_eq!(e.to_string(), "wrong password for t.saz");
        let flows: Vec<Flow> =
            crate::capture::from_bytes_with_password(Path::new("t.saz"), enc, "s3cret")
                .unwrap()
                .map(Result::unwrap)
                .collect();
        assert_eq!(flows, plain);
    }

    #[test]
    fn cut_headers_fail_and_a_short_body_is_kept_as_truncated() {
        let mut s = sample::sessions();
        s.truncate(2);
        s[0].response = Some(b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec());
        s[1].response = Some(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec());
        let items = read(sample::build(&s));
        let e = items[0].as_ref().unwrap_err();
        assert_eq!(e.location().member.as_deref(), Some("raw/01_s.txt"));
        assert!(e.to_string().contains("truncated at byte 27"), "{e}");
        let body = &items[1].as_ref().unwrap().response().unwrap().body;
        assert!(body.truncated);
        assert_eq!(&body.raw[..], b"abc");
    }

    #[test]
    fn sessions_read_ahead_on_threads_come_out_in_order_with_their_errors_in_place() {
        // Enough sessions for the read-ahead threads, encrypted, one of them broken.
        let base = sample::sessions();
        let numbers: Vec<String> = (1..=60).map(|n| format!("{n:02}")).collect();
        let mut s: Vec<Saz<'_>> = numbers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let b = &base[i % base.len()];
                Saz {
                    number: n.as_str(),
                    request: b.request.clone(),
                    response: b.response.clone(),
                    meta: b.meta.clone(),
                }
            })
            .collect();
        s[36].request = None;
        let bytes = sample::build_with(&s, Some("pw"));
        let flows: Vec<Result<Flow, CaptureError>> =
            crate::capture::from_bytes_with_password(Path::new("t.saz"), bytes, "pw")
                .unwrap()
                .collect();
        assert_eq!(flows.len(), 60);
        for (i, f) in flows.iter().enumerate() {
            match f {
                Ok(flow) => {
                    assert_ne!(i, 36);
                    assert_eq!(flow.id, FlowId(i as u64));
                    let expected = &base[i % base.len()];
                    let first = expected.request.as_deref().unwrap_or_default();
                    assert!(first.starts_with(flow.request.method.as_bytes()), "#{i}");
                }
                Err(e) => {
                    assert_eq!(i, 36, "{e}");
                    assert!(e.to_string().contains("raw/37_c.txt"), "{e}");
                }
            }
        }
        // A reader dropped half-way stops its threads (nothing hangs).
        let mut r = crate::capture::from_bytes_with_password(
            Path::new("t.saz"),
            sample::build_with(&s, Some("pw")),
            "pw",
        )
        .unwrap();
        assert!(r.next().is_some());
        drop(r);
    }

    #[test]
    fn sessions_are_ordered_numerically_not_by_name() {
        let mut s = sample::sessions();
        s.truncate(3);
        s[0].number = "10";
        s[1].number = "9";
        s[2].number = "100";
        let flows: Vec<Flow> = read(sample::build(&s))
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let methods: Vec<&str> = flows.iter().map(|f| f.request.method.as_str()).collect();
        assert_eq!(methods, ["POST", "CONNECT", "GET"]);
    }

    #[test]
    fn missing_request_member_is_an_error_naming_archive_and_member() {
        let mut s = sample::sessions();
        s[1].request = None;
        let items = read(sample::build(&s));
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(
            *e.kind(),
            CaptureErrorKind::MissingMember("raw/02_c.txt".into())
        );
        assert!(
            e.to_string().starts_with("t.saz: raw/02_c.txt: entry 1: "),
            "{e}"
        );
        assert!(items[2].is_ok(), "later sessions still read");
    }

    #[test]
    fn malformed_zip_and_non_saz_zip_are_clear_errors() {
        let mut bytes = sample::build(&sample::sessions());
        bytes.truncate(bytes.len() / 2);
        let e = from_bytes(Path::new("half.saz"), bytes).unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::Zip(_)));
        assert!(
            e.to_string()
                .starts_with("half.saz: not a readable zip archive"),
            "{e}"
        );
        let e = from_bytes(Path::new("doc.saz"), sample::build(&[])).unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::NotSaz(_)), "{e}");
    }

    #[test]
    fn bad_status_line_and_bad_chunks_name_the_member() {
        let mut s = sample::sessions();
        s[0].response = Some(b"garbage\r\n\r\n".to_vec());
        s[1].response =
            Some(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".to_vec());
        let items = read(sample::build(&s));
        let e0 = items[0].as_ref().unwrap_err();
        assert_eq!(e0.location().member.as_deref(), Some("raw/01_s.txt"));
        assert!(matches!(e0.kind(), CaptureErrorKind::Http(_)));
        let e1 = items[1].as_ref().unwrap_err();
        assert!(e1.to_string().contains("bad chunk size"), "{e1}");
    }

    #[test]
    fn chunk_sizes_are_not_trusted_and_short_streams_are_truncated() {
        let (body, complete) = dechunk(b"ffffffff\r\nabc").unwrap();
        assert_eq!((&body[..], complete), (&b"abc"[..], false));
        assert!(dechunk(b"fffffffffffffffffffffff\r\n").is_err());
        let (body, complete) = dechunk(&sample::chunked(b"hello world", 3)).unwrap();
        assert_eq!((&body[..], complete), (&b"hello world"[..], true));
    }

    #[test]
    fn oversized_member_is_refused() {
        let mut s = sample::sessions();
        s.truncate(1);
        s[0].meta = Some(format!(
            "<Session>{}</Session>",
            " ".repeat(MAX_META_BYTES as usize)
        ));
        let items = read(sample::build(&s));
        let e = items[0].as_ref().unwrap_err();
        assert_eq!(
            *e.kind(),
            CaptureErrorKind::TooLarge {
                limit: MAX_META_BYTES
            }
        );
    }

    #[test]
    fn doctype_in_metadata_is_refused() {
        let mut s = sample::sessions();
        s.truncate(1);
        s[0].meta = Some(r#"<!DOCTYPE x [<!ENTITY e "boom">]><Session>&e;</Session>"#.into());
        let e = read(sample::build(&s)).remove(0).unwrap_err();
        assert!(matches!(e.kind(), CaptureErrorKind::Xml(_)), "{e}");
    }

    /// The committed sample is what [`sample::sessions`] describes. Set `IDSCOPE_WRITE_SAMPLE=1`
    /// to regenerate `captures/fiddler-sample.saz` after changing the generator.
    #[test]
    fn committed_fiddler_sample_matches_its_generator() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/fiddler-sample.saz");
        let generated = sample::build(&sample::sessions());
        if std::env::var_os("IDSCOPE_WRITE_SAMPLE").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let mut reader = open(&path).unwrap();
        assert_eq!(reader.format(), Format::Saz);
        let committed: Vec<Flow> = reader.by_ref().map(Result::unwrap).collect();
        assert!(reader.bytes_read() > 0);
        let want: Vec<Flow> = read(generated).into_iter().map(Result::unwrap).collect();
        assert_eq!(committed, want);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn mutated_archives_read_or_fail_naming_the_file(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        ) {
            let mut bytes = sample::build(&sample::sessions());
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let named = |e: &crate::capture::CaptureError| e.path() == Path::new("f.saz") && !e.to_string().is_empty();
            match from_bytes(Path::new("f.saz"), bytes) {
                Ok(r) => {
                    for item in r {
                        match item {
                            Ok(_) => {}
                            Err(e) => prop_assert!(named(&e), "{}", e),
                        }
                    }
                }
                Err(e) => prop_assert!(named(&e), "{}", e),
            }
        }

        #[test]
        fn arbitrary_raw_messages_parse_or_say_why(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
            // Each parser accepts or says what is wrong.
            prop_assert!(parse_request(&raw).err().is_none_or(|e| !e.to_string().is_empty()));
            prop_assert!(parse_response(&raw).err().is_none_or(|e| !e.to_string().is_empty()));
            prop_assert!(parse_meta(&raw).err().is_none_or(|e| !e.is_empty()));
        }
    }

    #[test]
    fn session_with_only_a_response_is_missing_its_request() {
        let s = [Saz {
            number: "7",
            request: None,
            response: Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()),
            meta: None,
        }];
        let e = read(sample::build(&s)).remove(0).unwrap_err();
        assert_eq!(
            *e.kind(),
            CaptureErrorKind::MissingMember("raw/7_c.txt".into())
        );
    }
}
