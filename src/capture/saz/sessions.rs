//! The sessions of an archive in session-number order, from its central directory. Fiddler
//! writes each session's members together and the sessions in ascending order; such an archive's
//! directory is streamed ([`Sessions::Streamed`]) and memory stays the same whatever its size. An
//! archive in any other order is indexed first ([`Sessions::Indexed`]: a [`Session`] of about
//! 200 bytes per session, sorted by number). [`survey`] tells which, in one pass over the
//! directory that keeps nothing but counts, and hands out the sessions.

use std::collections::BTreeMap;

use super::CaptureErrorKind;
use super::archive::{Archive, Encryption, Member, Walk};

/// The members of one session.
#[derive(Debug, Default)]
pub(super) struct Session {
    /// `raw/05`, the path prefix the members share (Fiddler pads numbers to a common width).
    pub(super) stem: String,
    pub(super) request: Option<Member>,
    pub(super) response: Option<Member>,
    pub(super) meta: Option<Member>,
    /// `_w.txt`: the messages of a WebSocket session.
    pub(super) websocket: Option<Member>,
}

impl Session {
    fn put(&mut self, kind: char, member: Member) {
        let slot = match kind {
            'c' => &mut self.request,
            's' => &mut self.response,
            'w' => &mut self.websocket,
            _ => &mut self.meta,
        };
        *slot = Some(member);
    }
}

/// Splits `raw/12_c.txt` into (12, 'c', "raw/12").
pub(super) fn member_kind(name: &str) -> Option<(u64, char, &str)> {
    let rest = name.strip_prefix("raw/")?;
    let (num, suffix) = rest.split_once('_')?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kind = match suffix {
        "c.txt" => 'c',
        "s.txt" => 's',
        "m.xml" => 'm',
        "w.txt" => 'w',
        _ => return None,
    };
    let stem = name.get(..4 + num.len())?;
    Some((num.parse().ok()?, kind, stem))
}

/// What one pass over the directory found.
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// How many sessions there are.
    pub(super) sessions: usize,
    /// Whether the members come grouped by session in ascending session order.
    pub(super) ordered: bool,
    /// Whether the first session member is encrypted.
    pub(super) encrypted: bool,
    /// The first few encrypted members, to check a password against.
    pub(super) probes: Vec<Member>,
}

/// Walks the directory once and returns what it found with the sessions to read: streamed from a
/// second walk when they are in order, else indexed by a second walk. Fails when a record cannot
/// be read.
pub(super) fn survey(
    archive: &Archive,
    probes: usize,
) -> Result<(Survey, Sessions), CaptureErrorKind> {
    let mut s = Survey {
        ordered: true,
        ..Survey::default()
    };
    let mut last: Option<u64> = None;
    let mut seen_any = false;
    for record in archive.walk() {
        let record = record?;
        let Some((n, _, _)) = member_kind(&record.name) else {
            continue;
        };
        let encrypted = record.member.encryption != Encryption::None;
        if !seen_any {
            s.encrypted = encrypted;
            seen_any = true;
        }
        if encrypted && s.probes.len() < probes {
            s.probes.push(record.member.clone());
        }
        match last {
            Some(l) if n == l => {}
            Some(l) if n < l => s.ordered = false,
            _ => s.sessions += 1,
        }
        last = Some(last.map_or(n, |l| l.max(n)));
    }
    let sessions = if s.ordered {
        Sessions::Streamed {
            walk: Box::new(archive.walk()),
            pending: None,
            error: None,
        }
    } else {
        // The count above misses the numbers that came back out of order.
        let index = index(archive)?;
        s.sessions = index.len();
        Sessions::Indexed(index.into_iter())
    };
    Ok((s, sessions))
}

/// Every session of the archive, sorted by number.
fn index(archive: &Archive) -> Result<Vec<Session>, CaptureErrorKind> {
    let mut by_number: BTreeMap<u64, Session> = BTreeMap::new();
    for record in archive.walk() {
        let record = record?;
        let Some((n, kind, stem)) = member_kind(&record.name) else {
            continue;
        };
        let s = by_number.entry(n).or_default();
        if s.stem.is_empty() {
            s.stem = stem.to_string();
        }
        s.put(kind, record.member);
    }
    Ok(by_number.into_values().collect())
}

/// The sessions, in order.
#[derive(Debug)]
pub(super) enum Sessions {
    /// Read from the directory as they are reached: the session being assembled, and an error
    /// met after it.
    Streamed {
        walk: Box<Walk>,
        pending: Option<Box<(u64, Session)>>,
        error: Option<CaptureErrorKind>,
    },
    /// Indexed and sorted.
    Indexed(std::vec::IntoIter<Session>),
}

impl Iterator for Sessions {
    type Item = Result<Session, CaptureErrorKind>;

    fn next(&mut self) -> Option<Self::Item> {
        let (walk, pending, error) = match self {
            Sessions::Indexed(it) => return it.next().map(Ok),
            Sessions::Streamed {
                walk,
                pending,
                error,
            } => (walk, pending, error),
        };
        if let Some(e) = error.take() {
            return Some(Err(e));
        }
        loop {
            let record = match walk.next() {
                Some(Ok(r)) => r,
                Some(Err(e)) => {
                    // Hand out the session assembled so far, then the error.
                    return match pending.take() {
                        Some(p) => {
                            *error = Some(e);
                            Some(Ok(p.1))
                        }
                        None => Some(Err(e)),
                    };
                }
                None => return pending.take().map(|p| Ok(p.1)),
            };
            let Some((n, kind, stem)) = member_kind(&record.name) else {
                continue;
            };
            match pending.as_deref_mut() {
                Some((p, s)) if *p == n => s.put(kind, record.member),
                _ => {
                    let mut s = Session {
                        stem: stem.to_string(),
                        ..Session::default()
                    };
                    s.put(kind, record.member);
                    if let Some(done) = pending.replace(Box::new((n, s))) {
                        return Some(Ok(done.1));
                    }
                }
            }
        }
    }
}
