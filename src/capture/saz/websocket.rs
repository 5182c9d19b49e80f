//! A session's WebSocket messages (`raw/NN_w.txt`), in the layout Fiddler Classic writes them
//! (`WebSocket.WriteWebSocketMessageListToStream` and `WebSocketMessage.SerializeToStream`, read
//! back by its `ReadWebSocketMessageListFromStream`): a CRLF, then for each message a block of
//! header lines ended by an empty line — `Request-Length: N` (client to server) or
//! `Response-Length: N`, `ID`, `BitFlags`, and the timers `DoneRead`, `BeginSend`, `DoneSend` as
//! ISO 8601 times — then the N bytes of the frame as it crossed the wire (RFC 6455: header,
//! masking key, masked payload; fragments Fiddler already assembled carry the whole payload), and
//! a CRLF.
//!
//! The messages become the flow's `_webSocketMessages` in the HAR shape Chrome and mitmproxy
//! write and the proxy records (`type` `send`/`receive`, `time` in seconds since the epoch,
//! `opcode` 1 with the text or 2 with base64 `data`), so the relay decoder, redaction and the
//! views read them as they read a recording. Continuation frames join the message before them
//! in the same direction; control frames (close, ping, pong) are left out, as the proxy leaves
//! them out. Nothing here trusts a length: a frame or header that does not fit is an error that
//! says which message.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::capture::har::parse_time;

/// The longest header block of one message (a few short lines in practice).
const MAX_HEADER_BYTES: usize = 4096;

/// One message being assembled.
struct Message {
    from_client: bool,
    opcode: u8,
    time: f64,
    payload: Vec<u8>,
}

/// The messages of a `_w.txt` member, or what is wrong with it and where.
pub(super) fn parse(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let mut rest = bytes.strip_prefix(b"\r\n").unwrap_or(bytes);
    let mut out: Vec<Message> = Vec::new();
    let mut n = 0usize;
    while !rest.iter().all(|b| b.is_ascii_whitespace()) {
        n += 1;
        let end = memchr::memmem::find(&rest[..rest.len().min(MAX_HEADER_BYTES)], b"\r\n\r\n")
            .ok_or_else(|| format!("message {n}: its header lines never end"))?;
        let head = std::str::from_utf8(&rest[..end])
            .map_err(|_| format!("message {n}: header lines are not text"))?;
        let mut size: Option<(bool, usize)> = None;
        let mut time = None;
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.trim();
            match name {
                "Request-Length" | "Response-Length" => {
                    let len = value
                        .parse()
                        .map_err(|_| format!("message {n}: {name} {value:?} is not a number"))?;
                    size = Some((name == "Request-Length", len));
                }
                "DoneRead" | "BeginSend" | "DoneSend" if time.is_none() => {
                    time = parse_time(value)
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs_f64());
                }
                _ => {}
            }
        }
        let (from_client, size) =
            size.ok_or_else(|| format!("message {n}: no Request-Length or Response-Length line"))?;
        let body = &rest[end + 4..];
        let frame = body.get(..size).ok_or_else(|| {
            format!(
                "message {n}: cut short ({} of its {size} bytes)",
                body.len()
            )
        })?;
        rest = &body[size..];
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let (opcode, payload) = frame_payload(frame).map_err(|e| format!("message {n}: {e}"))?;
        match opcode {
            0 => match out.iter_mut().rev().find(|m| m.from_client == from_client) {
                Some(m) => m.payload.extend_from_slice(&payload),
                None => out.push(Message {
                    from_client,
                    opcode: 2,
                    time: time.unwrap_or(0.0),
                    payload,
                }),
            },
            1 | 2 => out.push(Message {
                from_client,
                opcode,
                time: time.unwrap_or(0.0),
                payload,
            }),
            _ => {}
        }
    }
    Ok(out.into_iter().map(Message::into_json).collect())
}

impl Message {
    fn into_json(self) -> Value {
        let data = if self.opcode == 1 {
            String::from_utf8_lossy(&self.payload).into_owned()
        } else {
            base64::engine::general_purpose::STANDARD.encode(&self.payload)
        };
        json!({
            "type": if self.from_client { "send" } else { "receive" },
            "time": self.time,
            "opcode": self.opcode,
            "data": data,
        })
    }
}

/// The opcode and unmasked payload of one RFC 6455 frame, which must fill `frame` exactly.
fn frame_payload(frame: &[u8]) -> Result<(u8, Vec<u8>), String> {
    let short = || {
        format!(
            "a frame of {} bytes is shorter than its header says",
            frame.len()
        )
    };
    let (&b0, rest) = frame.split_first().ok_or_else(short)?;
    let (&b1, rest) = rest.split_first().ok_or_else(short)?;
    let (len, rest) = match b1 & 0x7f {
        126 => {
            let (l, r) = rest.split_at_checked(2).ok_or_else(short)?;
            (u64::from(u16::from_be_bytes([l[0], l[1]])), r)
        }
        127 => {
            let (l, r) = rest.split_at_checked(8).ok_or_else(short)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(l);
            (u64::from_be_bytes(a), r)
        }
        l => (u64::from(l), rest),
    };
    let (mask, payload) = if b1 & 0x80 != 0 {
        let (m, r) = rest.split_at_checked(4).ok_or_else(short)?;
        (Some([m[0], m[1], m[2], m[3]]), r)
    } else {
        (None, rest)
    };
    if payload.len() as u64 != len {
        return Err(format!(
            "the frame says {len} payload bytes and holds {}",
            payload.len()
        ));
    }
    let mut out = payload.to_vec();
    if let Some(m) = mask {
        for (i, b) in out.iter_mut().enumerate() {
            *b ^= m[i % 4];
        }
    }
    Ok((b0 & 0x0f, out))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One message as Fiddler serialises it: headers, the frame, a CRLF.
    pub(crate) fn fiddler_message(
        from_client: bool,
        id: u32,
        done_read: &str,
        opcode: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut frame = vec![0x80 | opcode];
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let m = if from_client { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => frame.push(m | n as u8),
            n if n <= 0xffff => {
                frame.push(m | 126);
                frame.extend((n as u16).to_be_bytes());
            }
            n => {
                frame.push(m | 127);
                frame.extend((n as u64).to_be_bytes());
            }
        }
        if from_client {
            frame.extend(mask);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            frame.extend(payload);
        }
        let dir = if from_client {
            "Request-Length"
        } else {
            "Response-Length"
        };
        let mut out = format!(
            "{dir}: {}\r\nID: {id}\r\nBitFlags: 0\r\nDoneRead: {done_read}\r\nBeginSend: {done_read}\r\nDoneSend: {done_read}\r\n\r\n",
            frame.len()
        )
        .into_bytes();
        out.extend(frame);
        out.extend(b"\r\n");
        out
    }

    #[test]
    fn messages_in_both_directions_are_unmasked_and_timed() {
        let mut w = b"\r\n".to_vec();
        w.extend(fiddler_message(
            true,
            1,
            "2024-03-01T10:15:02.5000000+01:00",
            1,
            b"hello",
        ));
        w.extend(fiddler_message(
            false,
            2,
            "2024-03-01T10:15:03.0000000+01:00",
            2,
            &[0, 1, 2, 255],
        ));
        let big = vec![b'x'; 70_000];
        w.extend(fiddler_message(
            true,
            3,
            "2024-03-01T10:15:04.0000000+01:00",
            2,
            &big,
        ));
        w.extend(fiddler_message(
            true,
            4,
            "2024-03-01T10:15:04.1000000+01:00",
            9,
            b"ping",
        ));
        let m = parse(&w).unwrap();
        assert_eq!(m.len(), 3, "the ping is left out");
        assert_eq!(m[0]["type"], "send");
        assert_eq!(m[0]["opcode"], 1);
        assert_eq!(m[0]["data"], "hello");
        assert_eq!(m[0]["time"], 1_709_284_502.5);
        assert_eq!(m[1]["type"], "receive");
        assert_eq!(m[1]["data"], "AAEC/w==");
        let data = m[2]["data"].as_str().unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap(),
            big
        );
    }

    #[test]
    fn continuations_join_the_message_before_them_in_their_direction() {
        let mut first = fiddler_message(false, 1, "2024-03-01T10:15:02.0000000Z", 1, b"par");
        // Not final: clear FIN in the frame's first byte (after the header lines).
        let at = memchr::memmem::find(&first, b"\r\n\r\n").unwrap() + 4;
        first[at] &= 0x7f;
        let mut w = first;
        w.extend(fiddler_message(
            true,
            2,
            "2024-03-01T10:15:02.1000000Z",
            1,
            b"other way",
        ));
        w.extend(fiddler_message(
            false,
            3,
            "2024-03-01T10:15:02.2000000Z",
            0,
            b"tial",
        ));
        let m = parse(&w).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0]["data"], "partial");
        assert_eq!(m[1]["data"], "other way");
    }

    #[test]
    fn lengths_are_not_trusted_and_errors_name_the_message() {
        let good = fiddler_message(true, 1, "2024-03-01T10:15:02.0000000Z", 1, b"hello");
        let mut w = good.clone();
        w.extend(&good[..good.len() - 4]);
        let e = parse(&w).unwrap_err();
        assert!(e.starts_with("message 2: cut short"), "{e}");
        let e = parse(b"ID: 1\r\n\r\nabc").unwrap_err();
        assert!(e.contains("no Request-Length"), "{e}");
        let e = parse(b"Request-Length: 3\r\n\r\n\x81\x7f\x00").unwrap_err();
        assert!(e.starts_with("message 1: "), "{e}");
        let e = parse(&[b'A'; 5000]).unwrap_err();
        assert!(e.contains("never end"), "{e}");
        assert_eq!(parse(b"\r\n").unwrap(), Vec::<Value>::new());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_parse_or_say_why(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            if let Err(e) = parse(&raw) {
                proptest::prop_assert!(e.starts_with("message "));
            }
        }
    }

    /// A relay WebSocket session as Fiddler saves it (AMQP protocol headers), read from the
    /// archive into the messages a recording holds; `tests/it/saz.rs` decodes a whole relay
    /// conversation from an archive.
    #[test]
    fn a_relay_session_in_an_archive_gives_the_messages_a_recording_holds() {
        use std::io::Write as _;
        let t = "2024-03-01T10:15:02.0000000Z";
        let mut w = b"\r\n".to_vec();
        w.extend(fiddler_message(true, 1, t, 2, b"AMQP\x03\x01\x00\x00"));
        w.extend(fiddler_message(false, 2, t, 2, b"AMQP\x03\x01\x00\x00"));
        w.extend(fiddler_message(true, 3, t, 2, b"AMQP\x00\x01\x00\x00"));
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in [
            ("raw/1_c.txt", b"GET https://contoso-sb.servicebus.windows.net/$servicebus/websocket HTTP/1.1\r\nHost: contoso-sb.servicebus.windows.net\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: wsrelayedamqp\r\n\r\n".to_vec()),
            ("raw/1_s.txt", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: wsrelayedamqp\r\n\r\n".to_vec()),
            ("raw/1_m.xml", super::super::sample::meta(1, 2, 50101, "20.190.151.7").into_bytes()),
            ("raw/1_w.txt", w),
        ] {
            zip.start_file(name, opts).unwrap();
            zip.write_all(&data).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let flows: Vec<crate::flow::Flow> =
            crate::capture::from_bytes(std::path::Path::new("relay.saz"), bytes)
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let flow = &flows[0];
        let messages = flow.extra["_webSocketMessages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0]["time"], 1_709_288_102.0);
        // The shape and bytes the proxy records.
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let expected = [
            ("send", b64(b"AMQP\x03\x01\x00\x00")),
            ("receive", b64(b"AMQP\x03\x01\x00\x00")),
            ("send", b64(b"AMQP\x00\x01\x00\x00")),
        ];
        for (m, (dir, data)) in messages.iter().zip(expected) {
            assert_eq!(
                (&m["type"], m["opcode"].as_u64(), &m["data"]),
                (&json!(dir), Some(2), &json!(data))
            );
        }
    }
}
