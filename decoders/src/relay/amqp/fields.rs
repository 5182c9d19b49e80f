//! Names of the AMQP 1.0 described types the relay uses, and the field names of their lists,
//! from the OASIS AMQP 1.0 standard: performatives (part 2.7), SASL frames (part 5.3.3), the
//! terminus and error types (parts 3.5, 2.8.14) and delivery states and message sections
//! (part 3.2, 3.4). Codes are the descriptor ids of the AMQP domain (`0x00000000:0x000000xx`).

/// A described type known here: its code, symbolic name, short name and field names.
#[derive(Debug)]
pub struct Known {
    /// Descriptor id (`0x10` for open).
    pub code: u64,
    /// Symbolic descriptor (`amqp:open:list`).
    pub symbol: &'static str,
    /// Short name shown as the label.
    pub name: &'static str,
    /// Field names in list order.
    pub fields: &'static [&'static str],
    /// What it is for.
    pub meaning: &'static str,
}

macro_rules! known {
    ($($code:literal $symbol:literal $name:literal [$($f:literal),*] $meaning:literal;)*) => {
        /// Every described type known here.
        pub static KNOWN: &[Known] = &[$(Known { code: $code, symbol: $symbol, name: $name, fields: &[$($f),*], meaning: $meaning }),*];
    };
}

known! {
    0x10 "amqp:open:list" "open" ["container-id", "hostname", "max-frame-size", "channel-max", "idle-time-out", "outgoing-locales", "incoming-locales", "offered-capabilities", "desired-capabilities", "properties"] "opens the connection (AMQP 1.0 part 2.7.1)";
    0x11 "amqp:begin:list" "begin" ["remote-channel", "next-outgoing-id", "incoming-window", "outgoing-window", "handle-max", "offered-capabilities", "desired-capabilities", "properties"] "begins a session on a channel (part 2.7.2)";
    0x12 "amqp:attach:list" "attach" ["name", "handle", "role", "snd-settle-mode", "rcv-settle-mode", "source", "target", "unsettled", "incomplete-unsettled", "initial-delivery-count", "max-message-size", "offered-capabilities", "desired-capabilities", "properties"] "attaches a link to the session (part 2.7.3)";
    0x13 "amqp:flow:list" "flow" ["next-incoming-id", "incoming-window", "next-outgoing-id", "outgoing-window", "handle", "delivery-count", "link-credit", "available", "drain", "echo", "properties"] "updates the flow-control state (part 2.7.4)";
    0x14 "amqp:transfer:list" "transfer" ["handle", "delivery-id", "delivery-tag", "message-format", "settled", "more", "rcv-settle-mode", "state", "resume", "aborted", "batchable"] "carries a message, or part of one, on a link (part 2.7.5)";
    0x15 "amqp:disposition:list" "disposition" ["role", "first", "last", "settled", "state", "batchable"] "tells the outcome of deliveries (part 2.7.6)";
    0x16 "amqp:detach:list" "detach" ["handle", "closed", "error"] "detaches the link (part 2.7.7)";
    0x17 "amqp:end:list" "end" ["error"] "ends the session (part 2.7.8)";
    0x18 "amqp:close:list" "close" ["error"] "closes the connection (part 2.7.9)";
    0x1d "amqp:error:list" "error" ["condition", "description", "info"] "an error (part 2.8.14)";
    0x23 "amqp:received:list" "received" ["section-number", "section-offset"] "delivery state: partly received (part 3.4.1)";
    0x24 "amqp:accepted:list" "accepted" [] "outcome: accepted (part 3.4.2)";
    0x25 "amqp:rejected:list" "rejected" ["error"] "outcome: rejected (part 3.4.3)";
    0x26 "amqp:released:list" "released" [] "outcome: released (part 3.4.4)";
    0x27 "amqp:modified:list" "modified" ["delivery-failed", "undeliverable-here", "message-annotations"] "outcome: modified (part 3.4.5)";
    0x28 "amqp:source:list" "source" ["address", "durable", "expiry-policy", "timeout", "dynamic", "dynamic-node-properties", "distribution-mode", "filter", "default-outcome", "outcomes", "capabilities"] "the link's source terminus (part 3.5.3)";
    0x29 "amqp:target:list" "target" ["address", "durable", "expiry-policy", "timeout", "dynamic", "dynamic-node-properties", "capabilities"] "the link's target terminus (part 3.5.4)";
    0x40 "amqp:sasl-mechanisms:list" "sasl-mechanisms" ["sasl-server-mechanisms"] "the SASL mechanisms the server offers (part 5.3.3.1)";
    0x41 "amqp:sasl-init:list" "sasl-init" ["mechanism", "initial-response", "hostname"] "the client picks a mechanism (part 5.3.3.2)";
    0x42 "amqp:sasl-challenge:list" "sasl-challenge" ["challenge"] "a SASL challenge (part 5.3.3.3)";
    0x43 "amqp:sasl-response:list" "sasl-response" ["response"] "a SASL response (part 5.3.3.4)";
    0x44 "amqp:sasl-outcome:list" "sasl-outcome" ["code", "additional-data"] "the SASL outcome (part 5.3.3.5)";
    0x70 "amqp:header:list" "header" ["durable", "priority", "ttl", "first-acquirer", "delivery-count"] "message section: header (part 3.2.1)";
    0x71 "amqp:delivery-annotations:map" "delivery-annotations" [] "message section: delivery annotations (part 3.2.2)";
    0x72 "amqp:message-annotations:map" "message-annotations" [] "message section: message annotations (part 3.2.3)";
    0x73 "amqp:properties:list" "properties" ["message-id", "user-id", "to", "subject", "reply-to", "correlation-id", "content-type", "content-encoding", "absolute-expiry-time", "creation-time", "group-id", "group-sequence", "reply-to-group-id"] "message section: properties (part 3.2.4)";
    0x74 "amqp:application-properties:map" "application-properties" [] "message section: application properties (part 3.2.5)";
    0x75 "amqp:data:binary" "data" [] "message section: opaque binary data (part 3.2.6)";
    0x76 "amqp:amqp-sequence:list" "amqp-sequence" [] "message section: a sequence of AMQP values (part 3.2.7)";
    0x77 "amqp:value:*" "amqp-value" [] "message section: one AMQP value (part 3.2.8)";
    0x78 "amqp:footer:map" "footer" [] "message section: footer (part 3.2.9)";
}

/// The known type with this numeric or symbolic descriptor.
pub fn lookup(d: super::types::Descriptor<'_>) -> Option<&'static Known> {
    KNOWN.iter().find(|k| match d {
        super::types::Descriptor::Code(c) => k.code == c,
        super::types::Descriptor::Name(s) => k.symbol == s,
    })
}

/// What a field's value means, where the standard gives its values names.
pub fn value_meaning(field: &str, n: u64) -> Option<&'static str> {
    Some(match (field, n) {
        ("role", 0) => "sender",
        ("role", 1) => "receiver",
        ("snd-settle-mode", 0) => "unsettled: the sender settles after the receiver's disposition",
        ("snd-settle-mode", 1) => "settled: messages are sent settled (at most once)",
        ("snd-settle-mode", 2) => "mixed",
        ("rcv-settle-mode", 0) => "first: the receiver settles spontaneously",
        ("rcv-settle-mode", 1) => "second: the receiver settles after the sender",
        ("code", 0) => "ok: authentication succeeded",
        ("code", 1) => "auth: authentication failed (bad credentials)",
        ("code", 2) => "sys: system error",
        ("code", 3) => "sys-perm: permanent system error",
        ("code", 4) => "sys-temp: transient system error",
        _ => return None,
    })
}
