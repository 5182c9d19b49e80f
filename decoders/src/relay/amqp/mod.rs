//! AMQP 1.0 framing (OASIS AMQP 1.0 part 2.2 and 2.3, SASL part 5.3): protocol headers, frames
//! and their performatives with named fields, transfers assembled into messages (`more`), and
//! the message sections (part 3.2), whose `data` and binary `amqp-value` bodies go on to the
//! next layer ([`super::nmf::payload`]). The type system is in [`types`], the names in
//! [`fields`]. Every error names the byte offset in the direction's stream.

pub mod fields;
pub mod types;

use std::collections::HashMap;

use super::{Out, nmf};
use crate::view::{Finding, Kind, Node};
use crate::{Context, util};
use types::{Reader, Value};

/// Most frames shown per direction; the rest are counted.
const MAX_FRAMES: usize = 2000;
/// Most values one frame may hold.
const FRAME_VALUES: usize = 20_000;

/// The protocol header ids of part 2.2 (0 AMQP, 2 TLS, 3 SASL).
fn protocol_name(id: u8) -> &'static str {
    match id {
        0 => "AMQP",
        2 => "TLS",
        3 => "SASL",
        _ => "unknown protocol id",
    }
}

/// True when `data` starts with an AMQP 1.0 protocol header (`AMQP` id 1 0 0).
pub fn sniff(data: &[u8]) -> bool {
    data.len() >= 8
        && data.starts_with(b"AMQP")
        && matches!(data.get(4), Some(0 | 2 | 3))
        && data.get(5..8) == Some(&[1, 0, 0][..])
}

/// Decodes one direction's bytes as AMQP: protocol headers and frames, in order.
pub fn decode(data: &[u8], cx: &Context<'_>, out: &mut Out, st: &mut nmf::State) -> Node {
    let mut root = Node::section("amqp").with_note("AMQP 1.0 (OASIS standard)");
    let mut pending: HashMap<(u16, u64), Vec<u8>> = HashMap::new();
    let mut pos = 0usize;
    let mut shown = 0usize;
    while pos < data.len() {
        if shown >= MAX_FRAMES {
            root.push(Node::text(
                "…",
                format!(
                    "{} more byte(s) of frames not shown (view size limit)",
                    data.len() - pos
                ),
            ));
            break;
        }
        shown += 1;
        let rest = data.get(pos..).unwrap_or(&[]);
        if rest.starts_with(b"AMQP") || (rest.len() < 4 && b"AMQP".starts_with(rest)) {
            let Some(&[_, _, _, _, id, v0, v1, v2]) = rest.get(..8) else {
                root.push(out.error(
                    pos,
                    format!(
                        "truncated protocol header at byte {pos}: {} of 8 bytes",
                        rest.len()
                    ),
                ));
                break;
            };
            let v = [v0, v1, v2];
            let mut n = Node::field(
                "protocol header",
                format!("{} {}.{}.{}", protocol_name(id), v[0], v[1], v[2]),
            )
            .with_note(format!(
                "at byte {pos}; part 2.2: each peer sends one before the frames of that layer"
            ));
            if id == 3 {
                n.push(Node::text(
                    "layer",
                    "SASL: authentication frames follow, then a new AMQP header",
                ));
            }
            if v != [1, 0, 0] || !matches!(id, 0 | 2 | 3) {
                out.findings.push(Finding::warning(format!(
                    "AMQP protocol header at byte {pos} names {} version {}.{}.{}, not AMQP 1.0.0",
                    protocol_name(id),
                    v[0],
                    v[1],
                    v[2]
                )));
            }
            out.word(protocol_name(id).to_string());
            root.push(n);
            pos += 8;
            continue;
        }
        let Some(&[s0, s1, s2, s3, doff, ftype, c0, c1]) = rest.get(..8) else {
            root.push(out.error(
                pos,
                format!(
                    "truncated frame header at byte {pos}: {} of 8 bytes",
                    rest.len()
                ),
            ));
            break;
        };
        let size = u32::from_be_bytes([s0, s1, s2, s3]) as usize;
        let channel = u16::from_be_bytes([c0, c1]);
        if size < 8 {
            root.push(out.error(
                pos,
                format!(
                    "malformed frame at byte {pos}: size {size} is less than the 8-byte header"
                ),
            ));
            break;
        }
        if size > rest.len() {
            root.push(out.error(
                pos,
                format!(
                    "truncated frame at byte {pos}: the header says {size} bytes, {} present",
                    rest.len()
                ),
            ));
            break;
        }
        let body_start = usize::from(doff) * 4;
        if doff < 2 || body_start > size {
            root.push(out.error(pos, format!("malformed frame at byte {pos}: data offset {doff} (×4 bytes) outside the frame of {size} bytes")));
            pos += size;
            continue;
        }
        let body = rest.get(body_start..size).unwrap_or(&[]);
        let where_ = format!("frame at byte {pos}, {size} bytes, channel {channel}");
        let node = match ftype {
            0 | 1 if body.is_empty() => Node::text("heartbeat", "empty frame").with_note(format!(
                "{where_}; part 2.4.5: keeps an idle connection open"
            )),
            0 | 1 => frame_body(
                body,
                pos + body_start,
                ftype,
                channel,
                &where_,
                cx,
                out,
                st,
                &mut pending,
            ),
            t => {
                out.findings.push(Finding::warning(format!(
                    "frame at byte {pos} has unknown type 0x{t:02x}"
                )));
                Node::leaf(
                    "frame",
                    format!("unknown frame type 0x{t:02x}"),
                    Kind::Error,
                )
                .with_note(where_)
            }
        };
        root.push(node);
        pos += size;
    }
    root
}

#[allow(clippy::too_many_arguments)]
fn frame_body(
    body: &[u8],
    base: usize,
    ftype: u8,
    channel: u16,
    where_: &str,
    cx: &Context<'_>,
    out: &mut Out,
    st: &mut nmf::State,
    pending: &mut HashMap<(u16, u64), Vec<u8>>,
) -> Node {
    let mut r = Reader::new(body, base, FRAME_VALUES);
    let perf = match r.value() {
        Ok(v) => v,
        Err(e) => {
            out.findings.push(Finding::error(e.to_string()));
            return Node::leaf("frame", e.to_string(), Kind::Error).with_note(where_.to_string());
        }
    };
    let known = perf.descriptor().and_then(fields::lookup).filter(|k| {
        let sasl = (0x40..=0x44).contains(&k.code);
        let amqp = (0x10..=0x18).contains(&k.code);
        (ftype == 1 && sasl) || (ftype == 0 && amqp)
    });
    let Some(k) = known else {
        let d = match perf.descriptor() {
            Some(types::Descriptor::Code(c)) => format!("descriptor 0x{c:x}"),
            Some(types::Descriptor::Name(s)) => format!("descriptor {s}"),
            None => "no descriptor".to_string(),
        };
        let kind = if ftype == 1 { "SASL" } else { "AMQP" };
        out.findings.push(Finding::warning(format!(
            "unknown {kind} performative ({d}) in the {where_}"
        )));
        return value_node("unknown performative", &perf, None).with_note(format!(
            "{where_}; {d} is not one of the performatives of AMQP 1.0 {kind} frames"
        ));
    };
    out.word(k.name.to_string());
    let mut node = described_node(k, &perf);
    node.note = Some(format!("{where_}; {}", k.meaning));
    match k.name {
        "sasl-outcome" => {
            if let Some(c) = perf
                .fields()
                .first()
                .and_then(Value::as_u64)
                .filter(|c| *c != 0)
            {
                out.findings.push(Finding::error(format!(
                    "SASL outcome {c}: {}",
                    fields::value_meaning("code", c).unwrap_or("unknown code")
                )));
            }
        }
        "detach" | "end" | "close" => {
            if let Some(e) = perf
                .fields()
                .iter()
                .find(|v| matches!(v.descriptor(), Some(types::Descriptor::Code(0x1d))))
            {
                let cond = e.fields().first().and_then(Value::as_str).unwrap_or("?");
                let desc = e.fields().get(1).and_then(Value::as_str).unwrap_or("");
                out.findings.push(Finding::warning(format!(
                    "{} with error {cond}: {desc}",
                    k.name
                )));
            }
        }
        "transfer" => {
            let f = perf.fields();
            let handle = f.first().and_then(Value::as_u64).unwrap_or(0);
            let more = f.get(5).and_then(Value::as_bool).unwrap_or(false);
            let aborted = f.get(9).and_then(Value::as_bool).unwrap_or(false);
            let key = (channel, handle);
            let mut payload = pending.remove(&key).unwrap_or_default();
            let part = r.rest();
            if payload.len().saturating_add(part.len()) > cx.limits.max_body {
                node.push(Node::leaf(
                    "message",
                    "delivery larger than the body limit: not assembled",
                    Kind::Error,
                ));
                return node;
            }
            payload.extend_from_slice(part);
            if aborted {
                node.push(Node::text(
                    "message",
                    "delivery aborted: its parts are dropped",
                ));
            } else if more {
                node.push(Node::text(
                    "message",
                    format!(
                        "{} byte(s) so far; continues in the next transfer (more = true)",
                        payload.len()
                    ),
                ));
                pending.insert(key, payload);
            } else if !payload.is_empty() {
                node.push(message_node(&payload, cx, out, st));
            }
        }
        _ => {}
    }
    node
}

/// The sections of one message (part 3.2), and the payload of its body.
fn message_node(payload: &[u8], cx: &Context<'_>, out: &mut Out, st: &mut nmf::State) -> Node {
    let mut n = Node::section("message").with_note(format!(
        "{} byte(s); offsets inside the message count from its first section",
        payload.len()
    ));
    let mut r = Reader::new(payload, 0, FRAME_VALUES);
    while !r.at_end() {
        let at = r.pos();
        let v = match r.value() {
            Ok(v) => v,
            Err(e) => {
                n.push(out.error(at, format!("message section: {e}")));
                break;
            }
        };
        let Some(k) = v
            .descriptor()
            .and_then(fields::lookup)
            .filter(|k| (0x70..=0x78).contains(&k.code))
        else {
            out.findings.push(Finding::warning(format!(
                "unknown message section at byte {at} of the message"
            )));
            n.push(
                value_node("unknown section", &v, None)
                    .with_note(format!("at byte {at} of the message")),
            );
            continue;
        };
        let mut s = match (k.name, v.inner()) {
            ("data", Value::Binary(b)) | ("amqp-value", Value::Binary(b)) => {
                let mut s =
                    Node::section(k.name).with_note(format!("{}; {} byte(s)", k.meaning, b.len()));
                s.value = Some(format!("{} byte(s)", b.len()));
                s.push(nmf::payload(b, cx, out, st));
                s
            }
            _ => described_node(k, &v),
        };
        if s.note.is_none() {
            s.note = Some(k.meaning.to_string());
        }
        n.push(s);
    }
    n
}

/// A described list with its fields named; other described values as they are.
fn described_node(k: &fields::Known, v: &Value) -> Node {
    let mut n = Node::section(k.name);
    match v.inner() {
        Value::List(items) if !k.fields.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if matches!(item, Value::Null) {
                    continue;
                }
                let name = k.fields.get(i).copied().unwrap_or("(extra field)");
                n.push(value_node(name, item, Some(name)));
            }
            let brief: Vec<String> = items
                .iter()
                .zip(k.fields)
                .filter(|(_, f)| {
                    matches!(
                        **f,
                        "container-id"
                            | "hostname"
                            | "name"
                            | "handle"
                            | "mechanism"
                            | "code"
                            | "address"
                            | "delivery-id"
                            | "first"
                    )
                })
                .filter_map(|(v, f)| scalar(v).map(|s| format!("{f}={}", util::clip(&s, 80))))
                .collect();
            if !brief.is_empty() {
                n.value = Some(brief.join(" "));
            }
        }
        Value::Map(_) => n.children = value_node(k.name, v.inner(), None).children,
        other => {
            let inner = value_node(k.name, other, None);
            n.value = inner.value;
            n.kind = if inner.kind == Kind::Section {
                Kind::Section
            } else {
                inner.kind
            };
            n.children = inner.children;
        }
    }
    n
}

/// A scalar rendered as text, or `None` for compound values.
fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Unsigned(n) => n.to_string(),
        Value::Signed(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(f) => f.to_string(),
        Value::Decimal(b) => format!("decimal 0x{}", util::hex_lower(b)),
        Value::Char(c) => char::from_u32(*c).map_or_else(|| format!("U+{c:X}"), |c| c.to_string()),
        Value::Timestamp(ms) => util::format_epoch(ms.div_euclid(1000)),
        Value::Uuid(u) => uuid_text(u),
        Value::Binary(b) => binary_text(b),
        Value::String(s) => s.clone(),
        Value::Symbol(s) => s.clone(),
        _ => return None,
    })
}

fn uuid_text(u: &[u8; 16]) -> String {
    let h = util::hex_lower(u);
    let part = |a: usize, b: usize| h.get(a..b).unwrap_or("");
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

fn binary_text(b: &[u8]) -> String {
    let shown = b.get(..64).unwrap_or(b);
    let more = if b.len() > 64 { "…" } else { "" };
    format!("{} byte(s): {}{more}", b.len(), util::hex_lower(shown))
}

/// True for a value that is a credential: a Service Bus SAS token anywhere, the SASL
/// exchanges (`initial-response`, `challenge`, `response`: a PLAIN response holds the password),
/// and, in maps (properties, application properties), anything under a key the secrets policy
/// calls a credential or the relay's `com.microsoft:swt` (the SAS token property).
fn is_secret(key: Option<&str>, from_map: bool, v: &Value) -> bool {
    let sas = v.as_str().is_some_and(crate::secrets::is_sas_token);
    sas || key.is_some_and(|k| {
        matches!(
            k,
            "initial-response" | "response" | "challenge" | "com.microsoft:swt"
        ) || (from_map && crate::secrets::is_secret_name(k))
    })
}

/// Any value as a node labelled `label`; `field` is its field name or map key, for the secrets
/// rule and value meanings.
fn value_node(label: &str, v: &Value, field: Option<&str>) -> Node {
    keyed_node(label, v, field, false)
}

fn keyed_node(label: &str, v: &Value, field: Option<&str>, from_map: bool) -> Node {
    if is_secret(field, from_map, v) {
        return Node::secret(
            label,
            scalar(v).unwrap_or_else(|| "(compound value)".to_string()),
        )
        .with_note("a credential: masked (Service Bus SAS token or SASL response)");
    }
    match v {
        Value::Described(..) => match v.descriptor().and_then(fields::lookup) {
            Some(k) => {
                let mut n = described_node(k, v);
                n.label = format!("{label}: {}", k.name);
                n.note = Some(k.meaning.to_string());
                n
            }
            None => {
                let d = match v.descriptor() {
                    Some(types::Descriptor::Code(c)) => format!("0x{c:x}"),
                    Some(types::Descriptor::Name(s)) => s.to_string(),
                    None => "a non-standard descriptor".to_string(),
                };
                let mut n = value_node(label, v.inner(), field);
                n.note = Some(format!("described by {d} (not a type this decoder knows)"));
                n
            }
        },
        Value::List(items) | Value::Array(items) => {
            let mut n = Node::section(label);
            n.value = Some(format!("{} item(s)", items.len()));
            for (i, it) in items.iter().enumerate() {
                n.push(value_node(&format!("[{i}]"), it, None));
            }
            n
        }
        Value::Map(pairs) => {
            let mut n = Node::section(label);
            n.value = Some(format!(
                "{} entr{}",
                pairs.len(),
                if pairs.len() == 1 { "y" } else { "ies" }
            ));
            for (k, val) in pairs {
                let key = scalar(k).unwrap_or_else(|| "(compound key)".to_string());
                n.push(keyed_node(&key, val, Some(&key), true));
            }
            n
        }
        _ => {
            let text = scalar(v).unwrap_or_default();
            let kind = match v {
                Value::Unsigned(_) | Value::Signed(_) | Value::Float(_) | Value::Double(_) => {
                    Kind::Number
                }
                Value::Timestamp(_) => Kind::Timestamp,
                _ => Kind::Field,
            };
            let mut n = Node::leaf(label, text, kind);
            let num = match v {
                Value::Unsigned(x) => Some(*x),
                Value::Bool(b) => Some(u64::from(*b)),
                _ => None,
            };
            if let (Some(f), Some(x)) = (field, num)
                && let Some(m) = fields::value_meaning(f, x)
            {
                n.note = Some(m.to_string());
            }
            n
        }
    }
}
