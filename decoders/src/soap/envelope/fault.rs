//! SOAP faults, normalised over SOAP 1.1 and 1.2: read into [`Fault`] (code, subcodes, reason,
//! actor, detail), explained by [`fault_code_meaning`], and shown by [`fault_node`],
//! [`fault_brief`] and [`fault_finding`]. Not responsible for finding the fault in the body (see
//! [`super::parse_envelope`]) or for the meaning of a service's own detail elements.

use super::tree::element_tree;
use super::{SoapVersion, child_local, child_text, text_of};
use crate::util;
use crate::view::{Finding, Node};
use crate::xml::{Document, NodeId};

/// A SOAP fault, normalised over both versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The `Fault` element.
    pub node: NodeId,
    /// The fault code QName as written (`s:Sender`, `s:Client`).
    pub code: String,
    /// The local name of the code's QName (`Sender`).
    pub code_local: String,
    /// The namespace the code's prefix resolves to, if it resolves.
    pub code_namespace: Option<String>,
    /// SOAP 1.2 subcodes, outermost first, as written (`a:FailedAuthentication`).
    pub subcodes: Vec<String>,
    /// The reason text (1.1 `faultstring`, 1.2 the first `Reason/Text`).
    pub reason: String,
    /// `xml:lang` of the reason, if given.
    pub reason_lang: Option<String>,
    /// 1.1 `faultactor` or 1.2 `Role`.
    pub actor: Option<String>,
    /// 1.2 `Node`.
    pub fault_node: Option<String>,
    /// 1.1 `detail` or 1.2 `Detail`.
    pub detail: Option<NodeId>,
}

pub(super) fn read_fault(doc: &Document<'_>, f: NodeId, version: SoapVersion) -> Fault {
    let ns = version.namespace();
    let mut fault = Fault {
        node: f,
        code: String::new(),
        code_local: String::new(),
        code_namespace: None,
        subcodes: Vec::new(),
        reason: String::new(),
        reason_lang: None,
        actor: None,
        fault_node: None,
        detail: None,
    };
    match version {
        SoapVersion::Soap11 => {
            // SOAP 1.1 fault children are unqualified; accept any namespace, as WCF does.
            fault.code = child_text(doc, f, "faultcode").unwrap_or_default();
            fault.reason = child_text(doc, f, "faultstring").unwrap_or_default();
            fault.reason_lang = child_local(doc, f, "faultstring")
                .and_then(|r| doc.attribute_ns(r, crate::xml::tree::XML_NS, "lang"))
                .map(str::to_string);
            fault.actor = child_text(doc, f, "faultactor");
            fault.detail = child_local(doc, f, "detail");
            if let Some(c) = child_local(doc, f, "faultcode") {
                resolve_code(doc, c, &mut fault);
            }
        }
        SoapVersion::Soap12 => {
            if let Some(code) = doc.find_child(f, ns, "Code") {
                if let Some(v) = doc.find_child(code, ns, "Value") {
                    fault.code = text_of(doc, v);
                    resolve_code(doc, v, &mut fault);
                }
                let mut cur = doc.find_child(code, ns, "Subcode");
                // Subcodes nest; the depth is bounded by the document's own depth limit.
                while let Some(sc) = cur {
                    if let Some(v) = doc.find_child(sc, ns, "Value") {
                        fault.subcodes.push(text_of(doc, v));
                    }
                    cur = doc.find_child(sc, ns, "Subcode");
                }
            }
            if let Some(reason) = doc.find_child(f, ns, "Reason") {
                let texts: Vec<NodeId> = doc.find_children(reason, ns, "Text").collect();
                let lang = |t: NodeId| doc.attribute_ns(t, crate::xml::tree::XML_NS, "lang");
                let pick = texts
                    .iter()
                    .copied()
                    .find(|t| lang(*t).is_some_and(|l| l.to_ascii_lowercase().starts_with("en")))
                    .or_else(|| texts.first().copied());
                if let Some(t) = pick {
                    fault.reason = text_of(doc, t);
                    fault.reason_lang = lang(t).map(str::to_string);
                }
            }
            fault.actor = doc.find_child(f, ns, "Role").map(|r| text_of(doc, r));
            fault.fault_node = doc.find_child(f, ns, "Node").map(|r| text_of(doc, r));
            fault.detail = doc.find_child(f, ns, "Detail");
        }
    }
    fault
}

fn resolve_code(doc: &Document<'_>, at: NodeId, fault: &mut Fault) {
    let (prefix, local) = match fault.code.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", fault.code.as_str()),
    };
    fault.code_local = local.to_string();
    fault.code_namespace = doc.lookup_namespace(at, prefix).map(str::to_string);
}

/// What a standard fault code or a well-known subcode means, by local name.
pub fn fault_code_meaning(local: &str) -> Option<&'static str> {
    Some(match local {
        "VersionMismatch" => "the envelope's SOAP version is not the one the endpoint speaks",
        "MustUnderstand" => "a header marked mustUnderstand was not understood by the receiver",
        "DataEncodingUnknown" => "the receiver does not support the data encoding used",
        "Sender" | "Client" => {
            "the sender's fault: the message was wrong or not authorised, resending it unchanged \
             will fail again"
        }
        "Receiver" | "Server" => {
            "the receiver's fault: processing failed on the server, the same message may \
             succeed later"
        }
        "FailedAuthentication" => {
            "WS-Security: the security token could not be authenticated (bad user name or \
             password)"
        }
        "InvalidSecurity" => {
            "WS-Security: the security header is invalid or could not be processed"
        }
        "InvalidSecurityToken" => "WS-Security: an invalid security token was provided",
        "FailedCheck" => "WS-Security: a signature or decryption check failed",
        "SecurityTokenUnavailable" => "WS-Security: a referenced token could not be retrieved",
        "MessageExpired" => "WS-Security: the message has expired (Timestamp/Expires)",
        "UnsupportedSecurityToken" => "WS-Security: an unsupported token type was provided",
        "ActionNotSupported" => {
            "WS-Addressing: the endpoint does not implement this Action (wrong operation name or \
             service contract)"
        }
        "DestinationUnreachable" => {
            "WS-Addressing: no endpoint at the To address (wrong URL or host)"
        }
        "InvalidAddressingHeader" | "MessageAddressingHeaderRequired" => {
            "WS-Addressing: an addressing header is missing or invalid"
        }
        "InternalServiceFault" => "WCF: an unhandled exception in the service",
        _ => return None,
    })
}

/// The view of a SOAP fault: code (with its meaning), subcodes, reason, actor and the detail as
/// an element tree.
pub fn fault_node(doc: &Document<'_>, f: &Fault, version: SoapVersion) -> Node {
    let mut n = Node::section("Fault").with_note(match version {
        SoapVersion::Soap11 => "SOAP 1.1 fault (faultcode, faultstring, detail)",
        SoapVersion::Soap12 => "SOAP 1.2 fault (Code/Value, Subcode, Reason/Text, Detail)",
    });
    let mut code = Node::field("Code", &f.code);
    if let Some(m) = fault_code_meaning(&f.code_local) {
        code.note = Some(m.to_string());
    }
    n.push(code);
    for s in &f.subcodes {
        let local = s.rsplit(':').next().unwrap_or(s);
        let mut sc = Node::field("Subcode", s);
        sc.note = fault_code_meaning(local).map(str::to_string);
        n.push(sc);
    }
    let mut r = Node::field("Reason", &f.reason);
    if let Some(l) = &f.reason_lang {
        r.note = Some(format!("xml:lang={l}"));
    }
    n.push(r);
    if let Some(a) = &f.actor {
        n.push(Node::field("Role", a).with_note("the node that raised the fault"));
    }
    if let Some(a) = &f.fault_node {
        n.push(Node::field("Node", a));
    }
    if let Some(d) = f.detail {
        n.push(element_tree(doc, d, 500));
    }
    n
}

/// `s:Sender/a:FailedAuthentication "reason"`: a one-line description of a fault.
pub fn fault_brief(f: &Fault) -> String {
    let mut s = f.code.clone();
    for sc in &f.subcodes {
        s.push('/');
        s.push_str(sc);
    }
    if !f.reason.is_empty() {
        s.push_str(&format!(" \"{}\"", util::ellipsize(&f.reason, 120)));
    }
    s
}

/// The error finding every fault gets: code and reason.
pub fn fault_finding(f: &Fault) -> Finding {
    Finding::error(format!("SOAP fault {}", fault_brief(f))).at("Body/Fault")
}
