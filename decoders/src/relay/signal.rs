//! The SOAP messages inside the relay's envelopes, explained: WS-ReliableMessaging sequence
//! messages (CreateSequence, SequenceAcknowledgement, AckRequested, TerminateSequence), the
//! relay's rendezvous messages (RelayedAccept, read from AADInternals' `New-RelayAccept`), and
//! the connector signalling service's `SignalConnector`, whose `ProtocolContext` says what the
//! cloud asks the agent to do: `ConnectContext` (open a connection back to the given host) or
//! `PasswordValidationContext` (validate a password; the password travels encrypted to the
//! agents' certificates in `EncryptedData`, which stays a secret). Element names follow the
//! envelopes secureworks PTAAgentDump documents. The envelope itself is read by
//! [`crate::soap::envelope`].

use super::Out;
use crate::soap::envelope::{
    addressing_node, child_text, element_tree, fault_brief, fault_finding, fault_node,
    parse_envelope,
};
use crate::view::{Kind, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, util};

/// WS-ReliableMessaging 1.0 (2005/02) and 1.1 (OASIS 2007/02) namespaces.
const WSRM: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/02/rm",
    "http://docs.oasis-open.org/ws-rx/wsrm/200702",
];

/// Most nodes of one element tree.
const TREE_NODES: usize = 2000;

/// What an element of a WS-RM message or of the relay's protocol means.
fn meaning(local: &str) -> Option<&'static str> {
    Some(match local {
        "CreateSequence" => {
            "WS-ReliableMessaging: opens a reliable sequence; AcksTo says where acknowledgements go"
        }
        "CreateSequenceResponse" => {
            "WS-ReliableMessaging: the sequence is created; Identifier names it from now on"
        }
        "TerminateSequence" => "WS-ReliableMessaging: the sender has finished the sequence",
        "TerminateSequenceResponse" => "WS-ReliableMessaging: the termination is acknowledged",
        "CloseSequence" => "WS-ReliableMessaging 1.1: no more messages in this sequence",
        "Sequence" => "WS-ReliableMessaging: this message's number in the sequence",
        "SequenceAcknowledgement" => {
            "WS-ReliableMessaging: the ranges of message numbers received so far"
        }
        "AckRequested" => "WS-ReliableMessaging: asks the peer to acknowledge what it received",
        "RelayedAccept" => {
            "the listener accepts the relayed connection with this Id (Service Bus relay rendezvous)"
        }
        "RelayedAcceptReply" => "the relay confirms the accept",
        "RelayedConnect" => "the relay tells the listener a client wants to connect",
        "SignalConnector" => "the cloud signals the connector: ProtocolContext says what to do",
        "SignalConnectorResponse" => "the connector acknowledges the signal",
        "OnewaySend" => "a one-way message from the relay to the listener",
        _ => return None,
    })
}

/// The explained view of one SOAP envelope (XML text), decoded from `what` (its encoding).
pub fn explain(xml: &str, what: &str, cx: &Context<'_>, out: &mut Out) -> Node {
    let parsed =
        Document::parse(xml, &cx.limits).and_then(|doc| parse_envelope(&doc).map(|env| (doc, env)));
    let (doc, env) = match parsed {
        Ok(x) => x,
        Err(e) => {
            let mut n = Node::leaf("xml", util::clip(xml, 20_000), Kind::Markup)
                .with_note(format!("{what}; not a SOAP envelope: {e}"));
            if xml.is_empty() {
                n.value = Some("(empty)".to_string());
            }
            return n;
        }
    };
    let mut root = Node::section("soap").with_note(format!("{what}, {}", env.version.as_str()));
    if !env.addressing.is_empty() {
        root.push(addressing_node(&env.addressing));
    }
    for hb in &env.headers {
        let mut t = element_tree(&doc, hb.node, TREE_NODES);
        let local = doc.local_name(hb.node);
        if WSRM.contains(&doc.namespace(hb.node))
            && let Some(m) = meaning(local)
        {
            t.note = Some(m.to_string());
            out.word(local.to_string());
        }
        root.push(t);
    }
    if let Some(f) = &env.fault {
        root.push(fault_node(&doc, f, env.version));
        out.findings.push(fault_finding(f));
        out.word(format!("fault {}", fault_brief(f)));
        root.value = Some("fault".to_string());
        return root;
    }
    let Some(p) = env.payload else {
        root.value = env.addressing.action_name().map(str::to_string);
        if let Some(a) = env.addressing.action_name() {
            out.word(a.to_string());
        }
        root.push(Node::text("body", "(empty)"));
        return root;
    };
    let local = doc.local_name(p).to_string();
    root.value = Some(local.clone());
    let mut body = element_tree(&doc, p, TREE_NODES);
    body.label = format!("body: {local}");
    if let Some(m) = meaning(&local) {
        body.note = Some(m.to_string());
    }
    let mut word = local.clone();
    if let Some(ctx) = protocol_context(&doc, p) {
        word.push_str(&format!(" ({})", ctx.value.as_deref().unwrap_or("?")));
        root.push(ctx);
    }
    out.word(word);
    root.push(body);
    root
}

/// The `ProtocolContext` of a `SignalConnector`, explained.
fn protocol_context(doc: &Document<'_>, payload: NodeId) -> Option<Node> {
    let ctx = doc
        .descendants(payload)
        .find(|d| doc.is_element(*d) && doc.local_name(*d) == "ProtocolContext")?;
    let ty = doc
        .attributes(ctx)
        .find(|a| a.local == "type")
        .map(|a| a.value.rsplit(':').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let mut n = Node::section("protocol context");
    n.value = Some(if ty.is_empty() {
        "(no i:type)".to_string()
    } else {
        ty.clone()
    });
    let text = |local: &str| child_text(doc, ctx, local);
    match ty.as_str() {
        "ConnectContext" => {
            n.note = Some("the cloud asks the agent to open a connection back (to the ReturnHost:ReturnPort of the message) for this ConnectionId".to_string());
            if let Some(c) = text("ConnectionId") {
                n.push(Node::field("ConnectionId", c));
            }
        }
        "PasswordValidationContext" => {
            n.note = Some("the cloud asks the agent to validate a user's password against Active Directory; the password is encrypted to each agent's certificate (one EncryptedOnPremValidationData per agent, named by KeyIdentifer: certificate thumbprint)".to_string());
            for f in ["UserPrincipalName", "Domain"] {
                if let Some(v) = text(f) {
                    n.push(Node::field(f, v));
                }
            }
            if let Some(enc) = doc
                .child_elements(ctx)
                .find(|c| doc.local_name(*c) == "EncryptedData")
            {
                let mut e = Node::section("EncryptedData")
                    .with_note("the password, encrypted: a credential");
                for item in doc.child_elements(enc) {
                    let key = child_text(doc, item, "KeyIdentifer").unwrap_or_default();
                    let data = child_text(doc, item, "Base64EncryptedData").unwrap_or_default();
                    e.push(Node::secret(
                        format!(
                            "for {}",
                            if key.is_empty() {
                                "(no KeyIdentifer)"
                            } else {
                                &key
                            }
                        ),
                        data,
                    ));
                }
                n.push(e);
            }
        }
        _ => {}
    }
    if let Some(t) = text("TrafficProtocol") {
        n.push(Node::field("TrafficProtocol", t));
    }
    Some(n)
}
