//! The Azure Service Bus relay's WebSocket, decoded in layers: what the hybrid identity agents
//! (pass-through authentication, cloud sync provisioning: one "connector" stack) say to the
//! relay after bootstrap.
//!
//! * `wsrelayedamqp` (the signalling listener): AMQP 1.0 ([`amqp`]): protocol headers, SASL
//!   (mechanisms, init, outcome), open, begin, attach (the `com.microsoft:swt` property carries
//!   the listener's Service Bus SAS token: a secret), flow, transfer, disposition, detach, end,
//!   close; transfers assembled into messages, whose `data` sections go on to the next layer.
//! * `wsrelayedconnection` (the rendezvous connection a signal points the agent to): .NET
//!   Message Framing [MC-NMF] records ([`nmf`]), whose envelopes are binary XML with an in-band
//!   dictionary [MC-NBFSE], decoded by [`crate::soap::nbfx`] with one session per direction
//!   (strings accumulate over the connection), and the SOAP inside explained by [`signal`]:
//!   WS-ReliableMessaging sequence messages and `SignalConnector` with its `ConnectContext` or
//!   `PasswordValidationContext` (the encrypted password stays a secret).
//!
//! Sources: the OASIS AMQP 1.0 standard, [MC-NMF], [MC-NBFS], [MC-NBFSE]. The relay's own glue
//! (the `1E 01 00 00` connect record, the `98`/`AA` replies, the bare msbin1 `RelayedAccept`
//! envelope) is known only from reverse engineering (AADInternals `AMQP.ps1` and
//! `MSAppProxy_utils.ps1`, secureworks PTAAgentDump): decoded as far as those sources go, and
//! the nodes for it say so ([`nmf::REVERSE_ENGINEERED`]).
//!
//! **The AMQP type system is written by hand** ([`amqp::types`], about 300 lines), after
//! evaluating the crates.io AMQP 1.0 crates: `serde_amqp` (the type system under `fe2o3-amqp`
//! and `fe2o3-amqp-types`; pure, stable, maintained) deserializes into serde types or its
//! `Value`, but its `from_slice` does not say how many bytes a value took (a frame's payload is
//! a run of concatenated sections), its errors carry no byte offset, it has no documented bound
//! on nesting depth or on counts read from the input, and `fe2o3-amqp-types` rejects a whole
//! frame on an unknown descriptor where an inspector must show it; `dove` (last released 2021)
//! and `flederfuchs-amqp` (early no_std work, "unlimited breaking changes") are not maintained
//! libraries to depend on. The hand-written reader is bounded (nesting depth, values per frame,
//! every length and count checked against the bytes present before allocating) and reports the
//! byte offset of every error.
//!
//! Not responsible for: the WebSocket itself (the recorder keeps its messages on the flow; the
//! analysis layer hands them here, [`decode_websocket`]), TLS inside an upgraded stream, or the
//! HTTPS connection the agent opens after a `ConnectContext` (an ordinary flow).

pub mod amqp;
pub mod nmf;
pub mod signal;

#[cfg(test)]
mod tests;

use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Message, util};

/// What a decode has noticed so far: findings, and the words of the one-line summary.
#[derive(Debug, Default)]
pub struct Out {
    /// Findings, in stream order.
    pub findings: Vec<Finding>,
    words: Vec<String>,
}

impl Out {
    /// Adds a summary word (each once, in order of first appearance).
    pub fn word(&mut self, w: String) {
        if !self.words.contains(&w) && self.words.len() < 64 {
            self.words.push(w);
        }
    }

    /// An error node for what is wrong at byte `at`, with the same text as a finding.
    pub fn error(&mut self, at: usize, message: String) -> Node {
        self.findings.push(Finding::error(message.clone()));
        Node::leaf("error", message, Kind::Error).with_note(format!("at byte {at}"))
    }
}

/// The WebSocket sub-protocols of the relay, and which layer each carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// AMQP 1.0 (`wsrelayedamqp`, `AMQPWSB10`).
    Amqp,
    /// MC-NMF (`wsrelayedconnection`).
    Nmf,
}

impl Layer {
    /// The layer of a `Sec-WebSocket-Protocol` value, if it is one of the relay's.
    pub fn of_protocol(p: &str) -> Option<Layer> {
        match p.trim().to_ascii_lowercase().as_str() {
            "wsrelayedamqp" | "amqpwsb10" | "amqp" => Some(Layer::Amqp),
            "wsrelayedconnection" => Some(Layer::Nmf),
            _ => None,
        }
    }

    /// The layer the first bytes of a stream show.
    pub fn sniff(data: &[u8]) -> Option<Layer> {
        if amqp::sniff(data) {
            Some(Layer::Amqp)
        } else if nmf::sniff(data) {
            Some(Layer::Nmf)
        } else {
            None
        }
    }
}

/// One WebSocket message of a recorded flow.
#[derive(Debug, Clone, Copy)]
pub struct WsMessage<'a> {
    /// Sent by the client (`send`), else received from the server.
    pub from_client: bool,
    /// The message's bytes (a text message's UTF-8).
    pub data: &'a [u8],
}

/// Decodes a WebSocket conversation as the relay's layers, one stream per direction (messages
/// concatenated, their boundaries kept for the records that end with one). `protocol` is the
/// negotiated `Sec-WebSocket-Protocol`; without a relay protocol the client's first message
/// decides (an AMQP header or an MC-NMF preamble). `None` when neither says relay.
pub fn decode_websocket(
    protocol: Option<&str>,
    messages: &[WsMessage<'_>],
    cx: &Context<'_>,
) -> Option<Result<Decoded, DecodeError>> {
    let first = messages
        .iter()
        .find(|m| m.from_client && !m.data.is_empty())?;
    let layer = protocol
        .and_then(Layer::of_protocol)
        .or_else(|| Layer::sniff(first.data))?;
    let mut out = Out::default();
    let mut root = Node::section("relay");
    root.value = Some(protocol.unwrap_or("(no sub-protocol)").to_string());
    root.note = Some(match layer {
        Layer::Amqp => "Service Bus relay listener: AMQP 1.0 over WebSocket".to_string(),
        Layer::Nmf => {
            "Service Bus relayed connection: .NET Message Framing over WebSocket".to_string()
        }
    });
    let mut total = 0usize;
    for (from_client, label) in [(true, "client → service"), (false, "service → client")] {
        let mut data = Vec::new();
        let mut bounds = Vec::new();
        let mut count = 0usize;
        for m in messages.iter().filter(|m| m.from_client == from_client) {
            total = total.saturating_add(m.data.len());
            if total > cx.limits.max_body {
                return Some(Err(DecodeError::TooLarge {
                    what: "relay WebSocket messages",
                    limit: cx.limits.max_body,
                }));
            }
            data.extend_from_slice(m.data);
            bounds.push(data.len());
            count += 1;
        }
        let mut side = stream_node(layer, &data, &bounds, cx, &mut out);
        side.label = label.to_string();
        side.value = Some(format!("{count} message(s), {} byte(s)", data.len()));
        root.push(side);
    }
    Some(Ok(finish(layer, root, out)))
}

fn stream_node(
    layer: Layer,
    data: &[u8],
    bounds: &[usize],
    cx: &Context<'_>,
    out: &mut Out,
) -> Node {
    let mut st = nmf::State::default();
    let mut n = Node::section("stream");
    n.push(match layer {
        Layer::Amqp => amqp::decode(data, cx, out, &mut st),
        Layer::Nmf => nmf::decode(data, bounds, cx, out, &mut st),
    });
    n
}

fn finish(layer: Layer, root: Node, out: Out) -> Decoded {
    let what = match layer {
        Layer::Amqp => "relay AMQP",
        Layer::Nmf => "relay NMF",
    };
    let summary = if out.words.is_empty() {
        what.to_string()
    } else {
        util::clip(&format!("{what}: {}", out.words.join(", ")), 200)
    };
    let mut d = Decoded::new("relay", summary, root);
    d.findings = out.findings;
    crate::secrets::mark_redacted(&mut d.root);
    d
}

decoder! {
    /// The `relay` decoder: one direction of a Service Bus relay WebSocket given as a blob
    /// (`idscope decode`): AMQP 1.0 frames from their protocol header, or MC-NMF records from
    /// their preamble. A recorded WebSocket flow goes through [`decode_websocket`] instead.
    pub struct Relay: "relay";
}

fn priority(msg: &Message<'_>) -> f32 {
    if msg
        .header("sec-websocket-protocol")
        .and_then(Layer::of_protocol)
        .is_some()
        && !msg.body.is_empty()
    {
        return 0.9;
    }
    match Layer::sniff(msg.body) {
        Some(Layer::Amqp) => 0.95,
        Some(Layer::Nmf) => 0.6,
        None => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "relay stream")?;
    let layer = msg
        .header("sec-websocket-protocol")
        .and_then(Layer::of_protocol)
        .or_else(|| Layer::sniff(msg.body))
        .ok_or_else(|| {
            DecodeError::not(
                "a Service Bus relay stream",
                "neither an AMQP header nor an MC-NMF preamble",
            )
        })?;
    let mut out = Out::default();
    let mut root = stream_node(layer, msg.body, &[msg.body.len()], cx, &mut out);
    root.label = "relay".to_string();
    root.value = Some(format!("{} byte(s)", msg.body.len()));
    Ok(finish(layer, root, out))
}
