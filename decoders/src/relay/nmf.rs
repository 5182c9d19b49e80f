//! .NET Message Framing ([MC-NMF] 2.2): the records of a relayed net.tcp-style connection
//! (version, mode, via, known and extensible encoding, upgrade request and response, preamble
//! end and ack, sized and unsized envelopes, end, fault), every size checked against the bytes
//! present; the envelopes' binary XML decoded with one [MC-NBFSE] session per direction by
//! [`crate::soap::nbfx`], and the SOAP inside explained by [`super::signal`].
//!
//! Besides MC-NMF records, the relay's WebSocket carries glue of its own whose layout is known
//! only from reverse engineering (AADInternals `AMQP.ps1`: `New-RelayConnect`, `New-RelayAccept`,
//! `Parse-RelayMessage`; secureworks PTAAgentDump `ParseRelayMessage`): a 4-byte record starting
//! `1E` that opens the connection, replies starting `98` ("ok") and `AA` ("error"), and a bare
//! `application/soap+msbin1` envelope (starting `56 02`, no MC-NMF record around it) that accepts
//! the rendezvous. Those are decoded as far as those sources go, and their nodes say so.

use super::{Out, signal};
use crate::soap::nbfx::{self, DecodeOptions, Framing};
use crate::view::{Finding, Kind, Node};
use crate::{Context, util};

/// Where the reverse-engineered layouts come from, for the notes on their nodes.
pub const REVERSE_ENGINEERED: &str = "layout known only from reverse engineering (AADInternals AMQP.ps1, secureworks PTAAgentDump), not from a published specification";

/// Most records shown per direction.
const MAX_RECORDS: usize = 2000;

/// What one direction of a relayed connection has said so far: the binary XML session
/// (MC-NBFSE strings accumulate over the connection) and the encoding the preamble chose.
#[derive(Debug, Default)]
pub struct State {
    session: nbfx::Session,
    encoding: Option<u8>,
    upgrade: Option<String>,
}

/// True when `data` starts like an MC-NMF preamble (a version record 1.0 and a mode record) or
/// with the relay's reverse-engineered connect record.
pub fn sniff(data: &[u8]) -> bool {
    data.starts_with(&[0x00, 0x01, 0x00, 0x01]) || data.starts_with(&[0x1e, 0x01, 0x00, 0x00])
}

/// MC-NMF 2.2.3.3: the mode values.
fn mode_name(m: u8) -> &'static str {
    match m {
        1 => "singleton-unsized",
        2 => "duplex",
        3 => "simplex",
        4 => "singleton-sized",
        _ => "unknown mode",
    }
}

/// MC-NMF 2.2.3.5: the known encodings.
fn encoding_name(e: u8) -> &'static str {
    match e {
        0x00 => "SOAP 1.1, UTF-8",
        0x01 => "SOAP 1.1, UTF-16",
        0x02 => "SOAP 1.1, Unicode little-endian",
        0x03 => "SOAP 1.2, UTF-8",
        0x04 => "SOAP 1.2, UTF-16",
        0x05 => "SOAP 1.2, Unicode little-endian",
        0x06 => "SOAP 1.2, MTOM",
        0x07 => "SOAP 1.2, binary ([MC-NBFS])",
        0x08 => "SOAP 1.2, binary with in-band dictionary ([MC-NBFSE])",
        _ => "unknown encoding",
    }
}

/// A cursor over one direction's bytes, with the WebSocket message ends (`bounds`) for records
/// whose extent only the message boundary tells.
struct Cur<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Cur<'a> {
    fn left(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn u8(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied()?;
        self.pos += 1;
        Some(b)
    }

    /// MC-NMF 2.2.2 / MC-NBFX 2.1.2: a MultiByteInt31, at most 5 bytes, 31 bits.
    fn mb31(&mut self, what: &str) -> Result<usize, String> {
        let start = self.pos;
        let mut v: u32 = 0;
        for i in 0..5 {
            let Some(b) = self.u8() else {
                return Err(format!(
                    "truncated {what} size at byte {}",
                    self.base + start
                ));
            };
            if i == 4 && b > 0x07 {
                return Err(format!(
                    "{what} size at byte {} exceeds 31 bits",
                    self.base + start
                ));
            }
            v |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v as usize);
            }
        }
        Err(format!(
            "{what} size at byte {} is longer than 5 bytes",
            self.base + start
        ))
    }

    /// A size-prefixed byte string whose size must fit in what is left.
    fn sized(&mut self, what: &str) -> Result<&'a [u8], String> {
        let at = self.pos;
        let n = self.mb31(what)?;
        if n > self.left() {
            return Err(format!(
                "{what} size {n} at byte {} runs past the end: {} byte(s) present",
                self.base + at,
                self.left()
            ));
        }
        let s = self.data.get(self.pos..self.pos + n).unwrap_or(&[]);
        self.pos += n;
        Ok(s)
    }
}

/// Decodes one direction of a `wsrelayedconnection` WebSocket: `data` is its messages one after
/// the other, `bounds` the offset where each message ends.
pub fn decode(
    data: &[u8],
    bounds: &[usize],
    cx: &Context<'_>,
    out: &mut Out,
    st: &mut State,
) -> Node {
    let mut root = Node::section("nmf").with_note(".NET Message Framing [MC-NMF]");
    records(&mut root, data, 0, bounds, cx, out, st);
    root
}

/// The body of an AMQP `data` section (or binary `amqp-value`): MC-NMF records when it starts
/// with one, a binary XML envelope when it is one, else its bytes.
pub fn payload(bytes: &[u8], cx: &Context<'_>, out: &mut Out, st: &mut State) -> Node {
    match bytes.first() {
        Some(0x00..=0x0c) | Some(0x1e) => {
            let mut n = Node::section("nmf")
                .with_note(".NET Message Framing [MC-NMF] records inside the AMQP message");
            records(&mut n, bytes, 0, &[bytes.len()], cx, out, st);
            n
        }
        Some(0x56) | Some(0x40..=0x77) | Some(0x80..) => envelope(bytes, 0, cx, out, st),
        _ => Node::field(
            "bytes",
            format!(
                "{} byte(s): {}",
                bytes.len(),
                util::hex_lower(bytes.get(..64).unwrap_or(bytes))
            ),
        )
        .with_note("not MC-NMF records nor binary XML: shown as bytes"),
    }
}

fn records(
    root: &mut Node,
    data: &[u8],
    base: usize,
    bounds: &[usize],
    cx: &Context<'_>,
    out: &mut Out,
    st: &mut State,
) {
    let mut c = Cur { data, pos: 0, base };
    let mut shown = 0;
    while c.left() > 0 {
        if shown >= MAX_RECORDS {
            root.push(Node::text(
                "…",
                format!("{} more byte(s) not shown (view size limit)", c.left()),
            ));
            return;
        }
        shown += 1;
        if let Some(proto) = &st.upgrade {
            root.push(Node::text("upgraded", format!("{} byte(s) of {proto}, not decoded", c.left()))
                .with_note("after an upgrade response the stream carries the upgraded protocol (MC-NMF 2.2.3.6)"));
            return;
        }
        let at = c.pos;
        let here = base + at;
        let msg_end = bounds
            .iter()
            .copied()
            .find(|b| *b > at)
            .unwrap_or(data.len())
            .min(data.len());
        let Some(kind) = c.u8() else { return };
        let result: Result<Node, String> = match kind {
            0x00 => match (c.u8(), c.u8()) {
                (Some(ma), Some(mi)) => Ok(Node::field("version", format!("{ma}.{mi}"))
                    .with_note("version record (MC-NMF 2.2.3.1)")),
                _ => Err(format!("truncated version record at byte {here}")),
            },
            0x01 => c
                .u8()
                .map(|m| {
                    Node::field("mode", format!("{m} ({})", mode_name(m)))
                        .with_note("mode record (MC-NMF 2.2.3.2)")
                })
                .ok_or_else(|| format!("truncated mode record at byte {here}")),
            0x02 => c.sized("via").map(|s| {
                out.word("via".to_string());
                Node::field("via", String::from_utf8_lossy(s))
                    .with_note("via record: the endpoint addressed (MC-NMF 2.2.3.3)")
            }),
            0x03 => c
                .u8()
                .map(|e| {
                    st.encoding = Some(e);
                    Node::field(
                        "known encoding",
                        format!("0x{e:02x} ({})", encoding_name(e)),
                    )
                    .with_note("known encoding record (MC-NMF 2.2.3.4)")
                })
                .ok_or_else(|| format!("truncated known encoding record at byte {here}")),
            0x04 => c.sized("extensible encoding").map(|s| {
                Node::field("extensible encoding", String::from_utf8_lossy(s))
                    .with_note("a content type (MC-NMF 2.2.3.5)")
            }),
            0x05 => unsized_envelope(&mut c, here, cx, out, st),
            0x06 => {
                let size_at = c.pos;
                c.sized("sized envelope").map(|s| {
                    let mut n = Node::section("sized envelope").with_note(format!(
                        "MC-NMF 2.2.3.7, {} byte(s) at byte {}",
                        s.len(),
                        here
                    ));
                    n.value = Some(format!("{} byte(s)", s.len()));
                    n.push(envelope(s, base + size_at, cx, out, st));
                    n
                })
            }
            0x07 => {
                out.word("end".to_string());
                Ok(Node::text("end", "the sender has no more messages")
                    .with_note("end record (MC-NMF 2.2.3.8)"))
            }
            0x08 => c.sized("fault").map(|s| {
                let f = String::from_utf8_lossy(s).into_owned();
                out.findings
                    .push(Finding::error(format!("MC-NMF fault: {f}")));
                Node::leaf("fault", f, Kind::Error).with_note("fault record (MC-NMF 2.2.3.9)")
            }),
            0x09 => c.sized("upgrade request").map(|s| {
                // The requester's next bytes are the upgraded protocol's (it waits for the
                // response, then starts it).
                let p = String::from_utf8_lossy(s).into_owned();
                st.upgrade = Some(p.clone());
                Node::field("upgrade request", p).with_note(
                    "the sender asks to upgrade the stream, e.g. to TLS (MC-NMF 2.2.3.10)",
                )
            }),
            0x0a => {
                st.upgrade = Some("the upgraded protocol".to_string());
                Ok(Node::text("upgrade response", "the upgrade is accepted")
                    .with_note("MC-NMF 2.2.3.11"))
            }
            0x0b => Ok(
                Node::text("preamble ack", "the receiver accepts the preamble")
                    .with_note("MC-NMF 2.2.3.12"),
            ),
            0x0c => Ok(Node::text("preamble end", "end of the preamble records")
                .with_note("MC-NMF 2.2.3.13")),
            0x1e => {
                let rest = data.get(at + 1..msg_end.max(at + 1)).unwrap_or(&[]);
                let shown = rest.get(..3).unwrap_or(rest);
                c.pos = at + 1 + shown.len();
                out.word("relay connect".to_string());
                Ok(Node::field("relay connect", format!("1e {}", util::hex_lower(shown)))
                    .with_note(format!("the listener's first record on the rendezvous connection; {REVERSE_ENGINEERED}")))
            }
            0x98 | 0xaa => {
                let bytes = data.get(at..msg_end).unwrap_or(&[]);
                c.pos = msg_end.max(at + 1);
                let ok = kind == 0x98;
                if !ok {
                    out.findings.push(Finding::warning(format!(
                        "the relay answered with its error record at byte {here}"
                    )));
                }
                Ok(Node::field(
                    if ok {
                        "relay response ok"
                    } else {
                        "relay response error"
                    },
                    util::hex_lower(bytes),
                )
                .with_note(format!(
                    "the relay's answer to a glue record; {REVERSE_ENGINEERED}"
                )))
            }
            0x56 => {
                let bytes = data.get(at..msg_end).unwrap_or(&[]);
                c.pos = msg_end.max(at + 1);
                let mut n = Node::section("bare envelope").with_note(format!(
                    "a binary XML envelope with no MC-NMF record around it, the whole WebSocket message; {REVERSE_ENGINEERED}"
                ));
                n.push(decode_xml(bytes, Some(Framing::Msbin1), here, cx, out, st));
                Ok(n)
            }
            other => {
                let skip = msg_end.max(at + 1);
                c.pos = skip;
                out.findings.push(Finding::warning(format!(
                    "unknown MC-NMF record type 0x{other:02x} at byte {here}"
                )));
                Ok(Node::leaf("unknown record", format!("type 0x{other:02x} at byte {here}"), Kind::Error)
                    .with_note(format!("not an MC-NMF record type; skipped to the end of its WebSocket message at byte {}", base + skip)))
            }
        };
        match result {
            Ok(n) => root.push(n),
            Err(e) => {
                root.push(out.error(here, e));
                return;
            }
        }
    }
}

fn unsized_envelope(
    c: &mut Cur<'_>,
    here: usize,
    cx: &Context<'_>,
    out: &mut Out,
    st: &mut State,
) -> Result<Node, String> {
    let mut body = Vec::new();
    loop {
        let chunk = c.sized("unsized envelope chunk")?;
        if chunk.is_empty() {
            break;
        }
        if body.len() + chunk.len() > cx.limits.max_body {
            return Err(format!(
                "unsized envelope at byte {here} exceeds the body limit"
            ));
        }
        body.extend_from_slice(chunk);
    }
    let mut n = Node::section("unsized envelope").with_note(format!(
        "MC-NMF 2.2.3.6, data chunks ending with a 0 size, at byte {here}"
    ));
    n.value = Some(format!("{} byte(s)", body.len()));
    n.push(envelope(&body, here, cx, out, st));
    Ok(n)
}

/// One envelope in the encoding the preamble chose (binary session XML when none was seen).
fn envelope(bytes: &[u8], at: usize, cx: &Context<'_>, out: &mut Out, st: &mut State) -> Node {
    match st.encoding {
        Some(0x00 | 0x03 | 0x06) => {
            signal::explain(&String::from_utf8_lossy(bytes), "text XML", cx, out)
        }
        Some(0x01 | 0x02 | 0x04 | 0x05) => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|p| {
                    u16::from_le_bytes([
                        p.first().copied().unwrap_or(0),
                        p.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            signal::explain(
                &String::from_utf16_lossy(&units),
                "text XML (UTF-16)",
                cx,
                out,
            )
        }
        Some(0x07) => decode_xml(bytes, Some(Framing::Msbin1), at, cx, out, st),
        Some(0x08) => decode_xml(bytes, Some(Framing::MsbinSession1), at, cx, out, st),
        _ => decode_xml(bytes, None, at, cx, out, st),
    }
}

fn decode_xml(
    bytes: &[u8],
    framing: Option<Framing>,
    at: usize,
    cx: &Context<'_>,
    out: &mut Out,
    st: &mut State,
) -> Node {
    let mut opts = DecodeOptions::from_limits(&cx.limits);
    opts.framing = framing.unwrap_or(Framing::Auto);
    let (doc, err) = st.session.decode_partial(bytes, &opts);
    let what = match doc.framing {
        Framing::MsbinSession1 => "binary XML with in-band dictionary [MC-NBFSE]",
        _ => "binary XML [MC-NBFS]",
    };
    let mut n = signal::explain(&doc.xml, what, cx, out);
    if !doc.string_table.is_empty() {
        let mut t = Node::section("session strings").with_note(
            "MC-NBFSE: strings this message added to the connection's dictionary, with their ids",
        );
        for (id, s) in doc.string_table.iter().take(256) {
            t.push(Node::field(id.to_string(), s.clone()));
        }
        n.children.insert(0, t);
    }
    if !doc.unknown_dictionary_ids.is_empty() {
        n.push(
            Node::text(
                "unknown dictionary ids",
                format!("{:?}", doc.unknown_dictionary_ids),
            )
            .with_note(
                "ids no earlier message of this direction defined (a connection joined midway?)",
            ),
        );
    }
    if let Some(e) = err {
        let msg = format!("binary XML of the envelope at byte {at}: {e}");
        out.findings.push(Finding::error(msg.clone()));
        n.push(Node::leaf("error", msg, Kind::Error));
    }
    n
}
