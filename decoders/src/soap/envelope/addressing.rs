//! WS-Addressing message information headers (`Action`, `MessageID`, `To`, `RelatesTo`,
//! `ReplyTo`, `FaultTo`, `From`, in the 1.0 and 2004/08 namespaces): read from the SOAP header
//! into [`Addressing`] and shown by [`addressing_node`]. Not responsible for finding the header
//! (see [`super::parse_envelope`]) or for following any address.

use super::{WSA10_NS, WSA2004_NS, child_text, text_of};
use crate::view::Node;
use crate::xml::{Document, NodeId};

/// The WS-Addressing anonymous address: "reply on the same HTTP connection".
const WSA_ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";

/// The WS-Addressing message information headers found in the SOAP header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressing {
    /// Which WS-Addressing namespace the headers use, if any was found.
    pub namespace: Option<String>,
    /// `Action`: the operation URI (WCF dispatches on it).
    pub action: Option<String>,
    /// `MessageID`: the request's id, echoed by the reply's `RelatesTo`.
    pub message_id: Option<String>,
    /// `To`: the endpoint the message is addressed to.
    pub to: Option<String>,
    /// `RelatesTo`: on a reply, the `MessageID` of the request.
    pub relates_to: Option<String>,
    /// `ReplyTo/Address`: where the reply goes (the anonymous URI means "this HTTP response").
    pub reply_to: Option<String>,
    /// `FaultTo/Address`, if present.
    pub fault_to: Option<String>,
    /// `From/Address`, if present.
    pub from: Option<String>,
}

impl Addressing {
    /// True when no addressing header was found.
    pub fn is_empty(&self) -> bool {
        self.action.is_none()
            && self.message_id.is_none()
            && self.to.is_none()
            && self.relates_to.is_none()
            && self.reply_to.is_none()
            && self.fault_to.is_none()
            && self.from.is_none()
    }

    /// The last path segment of the action URI (`GetCompanyConfiguration`), if any.
    pub fn action_name(&self) -> Option<&str> {
        let a = self.action.as_deref()?.trim_end_matches('/');
        a.rsplit(['/', ':']).next().filter(|s| !s.is_empty())
    }
}

pub(super) fn read_addressing(doc: &Document<'_>, block: NodeId, a: &mut Addressing) {
    let ns = doc.namespace(block).to_string();
    let address = |id: NodeId| {
        child_text(doc, id, "Address").or_else(|| Some(text_of(doc, id)).filter(|s| !s.is_empty()))
    };
    match doc.local_name(block) {
        "Action" => a.action = Some(text_of(doc, block)),
        "MessageID" => a.message_id = Some(text_of(doc, block)),
        "To" => a.to = Some(text_of(doc, block)),
        "RelatesTo" => a.relates_to = Some(text_of(doc, block)),
        "ReplyTo" => a.reply_to = address(block),
        "FaultTo" => a.fault_to = address(block),
        "From" => a.from = address(block),
        _ => return,
    }
    a.namespace.get_or_insert(ns);
}

/// The view of the WS-Addressing headers.
pub fn addressing_node(a: &Addressing) -> Node {
    let mut n = Node::section("addressing");
    if let Some(ns) = &a.namespace {
        n.note = Some(match ns.as_str() {
            WSA10_NS => "WS-Addressing 1.0 (W3C, 2005/08)".to_string(),
            WSA2004_NS => "WS-Addressing 2004/08 (member submission)".to_string(),
            other => other.to_string(),
        });
    }
    if let Some(v) = &a.action {
        let note = if v.ends_with("/soap/fault") || v.ends_with("/fault") {
            "the WS-Addressing fault action: this message is a SOAP fault"
        } else {
            "the operation URI the service dispatches on"
        };
        n.push(Node::field("Action", v).with_note(note));
    }
    if let Some(v) = &a.message_id {
        n.push(
            Node::field("MessageID", v)
                .with_note("this message's id; a reply's RelatesTo echoes it"),
        );
    }
    if let Some(v) = &a.relates_to {
        n.push(Node::field("RelatesTo", v).with_note("the MessageID of the request this answers"));
    }
    if let Some(v) = &a.to {
        n.push(Node::field("To", v).with_note("the endpoint the sender addressed"));
    }
    if let Some(v) = &a.reply_to {
        let note = if v == WSA_ANONYMOUS {
            "anonymous: reply in this HTTP response"
        } else {
            "where the reply is to be sent"
        };
        n.push(Node::field("ReplyTo", v).with_note(note));
    }
    if let Some(v) = &a.fault_to {
        n.push(Node::field("FaultTo", v).with_note("where faults are to be sent"));
    }
    if let Some(v) = &a.from {
        n.push(Node::field("From", v).with_note("the sender's endpoint"));
    }
    n
}
