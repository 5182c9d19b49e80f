//! The SOAP envelope: SOAP 1.1 and 1.2 structure, WS-Addressing headers, the WS-Security header
//! and SOAP faults, read from a parsed [`Document`] ([`parse_envelope`]), plus the view pieces
//! every SOAP-based decoder shows the same way (addressing, security, faults, bounded element
//! trees) and the generic [`Soap`] decoder built from them.
//!
//! [`parse_envelope`] is pure and protocol-neutral so that protocol decoders (the AAD Connect
//! provisioning API in [`super::provisioning`], WS-Trust) can reuse it: it finds the parts and
//! reads the standard headers, and leaves the meaning of the body to the caller. Where a message
//! comes from binary XML (`application/soap+msbin1`), [`message_xml`] runs the [`super::nbfx`]
//! decoder first, so every caller reads XML text.
//!
//! Not responsible for: XML-signature verification (see [`crate::xml::dsig`]), the semantics of a
//! particular service's body, or fetching anything (WS-Addressing `ReplyTo` is only shown).
//!
//! This file holds the namespaces, the [`Envelope`] model, the element helpers the parts share,
//! [`parse_envelope`] and the generic [`Soap`] decoder with its [`envelope_view`]. The parts live
//! beside it: `addressing.rs` (WS-Addressing), `security.rs` (WS-Security), `fault.rs` (faults),
//! `wire.rs` (text or binary XML on the wire) and `tree.rs` (bounded element trees and
//! `xs:dateTime` values); everything public is re-exported here.

mod addressing;
mod fault;
mod security;
mod tree;
mod wire;

use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, DecodeError, Decoded, Message};
use addressing::read_addressing;
use fault::read_fault;
use security::read_security;

pub use addressing::{Addressing, addressing_node};
pub use fault::{Fault, fault_brief, fault_code_meaning, fault_finding, fault_node};
pub use security::{BinarySecurityToken, Security, Timestamp, UsernameToken, security_node};
pub use tree::{datetime_node, element_tree, is_secret_name, xs_datetime_epoch};
pub use wire::{
    SoapXml, WireEncoding, is_binary, message_xml, placeholder_finding, sniff_text_envelope,
};

pub(crate) use crate::util::contains;

/// SOAP 1.1 envelope namespace.
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing 1.0 (W3C) namespace, the one WCF uses with SOAP 1.2.
pub const WSA10_NS: &str = "http://www.w3.org/2005/08/addressing";
/// WS-Addressing 2004/08 (member submission) namespace, still used by older WCF and ADFS
/// bindings.
pub const WSA2004_NS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Security 1.0 `wsse:` namespace.
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-Security utility `wsu:` namespace (Timestamp, Id).
pub const WSU_NS: &str = crate::xml::tree::WSU_NS;
/// XML Schema instance namespace (`i:type`, `i:nil`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Most view nodes an element tree built by [`element_tree`] may hold when the caller has no
/// tighter budget; a large body is cut with a marker node rather than shown in full.
pub const DEFAULT_TREE_NODES: usize = 5_000;

/// Which SOAP version an envelope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoapVersion {
    /// SOAP 1.1 (`http://schemas.xmlsoap.org/soap/envelope/`).
    Soap11,
    /// SOAP 1.2 (`http://www.w3.org/2003/05/soap-envelope`).
    Soap12,
}

impl SoapVersion {
    /// The envelope namespace of this version.
    pub fn namespace(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => SOAP11_NS,
            SoapVersion::Soap12 => SOAP12_NS,
        }
    }

    /// `"SOAP 1.1"` or `"SOAP 1.2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SoapVersion::Soap11 => "SOAP 1.1",
            SoapVersion::Soap12 => "SOAP 1.2",
        }
    }
}

/// A header block other than WS-Addressing and WS-Security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderBlock {
    /// The header element.
    pub node: NodeId,
    /// `mustUnderstand` is true (`1`/`true`).
    pub must_understand: bool,
}

/// The parts of a SOAP envelope. Node ids refer to the [`Document`] it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// SOAP 1.1 or 1.2, from the envelope namespace.
    pub version: SoapVersion,
    /// The `Envelope` element.
    pub envelope: NodeId,
    /// The `Header` element, if present.
    pub header: Option<NodeId>,
    /// The `Body` element, if present (a valid envelope has one).
    pub body: Option<NodeId>,
    /// WS-Addressing headers (either namespace).
    pub addressing: Addressing,
    /// The WS-Security header, if present.
    pub security: Option<Security>,
    /// Every other header block, in order.
    pub headers: Vec<HeaderBlock>,
    /// The first element of the body when it is not a fault: the operation (request) or its
    /// response wrapper.
    pub payload: Option<NodeId>,
    /// The fault, when the body holds one.
    pub fault: Option<Fault>,
}

/// The first child element of `id` with this local name, in any namespace.
pub fn child_local(doc: &Document<'_>, id: NodeId, local: &str) -> Option<NodeId> {
    doc.child_elements(id).find(|c| doc.local_name(*c) == local)
}

/// Every child element of `id` with this local name, in any namespace.
pub fn children_local<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
    local: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.child_elements(id)
        .filter(move |c| doc.local_name(*c) == local)
}

/// The trimmed text content of an element.
pub fn text_of(doc: &Document<'_>, id: NodeId) -> String {
    doc.text_content(id).trim().to_string()
}

/// The trimmed text of the first child element with this local name.
pub fn child_text(doc: &Document<'_>, id: NodeId, local: &str) -> Option<String> {
    child_local(doc, id, local).map(|c| text_of(doc, c))
}

/// True when the element says `xsi:nil="true"`.
pub fn is_nil(doc: &Document<'_>, id: NodeId) -> bool {
    doc.attribute_ns(id, XSI_NS, "nil")
        .is_some_and(|v| v.trim() == "true" || v.trim() == "1")
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| matches!(v.trim(), "1" | "true"))
}

/// Finds the parts of a SOAP 1.1 or 1.2 envelope and reads its standard headers. The only error
/// is a document element that is not a SOAP `Envelope`; anything else missing (no `Body`, an
/// empty header) is left `None` for the caller's view to point out.
pub fn parse_envelope(doc: &Document<'_>) -> Result<Envelope, DecodeError> {
    let root = doc.root().ok_or(DecodeError::Missing("Envelope"))?;
    let version = match (doc.local_name(root), doc.namespace(root)) {
        ("Envelope", SOAP12_NS) => SoapVersion::Soap12,
        ("Envelope", SOAP11_NS) => SoapVersion::Soap11,
        (_, ns) => {
            return Err(DecodeError::not(
                "a SOAP envelope",
                format!(
                    "document element is <{}> in namespace {:?}",
                    doc.qname(root),
                    ns
                ),
            ));
        }
    };
    let ns = version.namespace();
    let header = doc.find_child(root, ns, "Header");
    let body = doc.find_child(root, ns, "Body");
    let mut env = Envelope {
        version,
        envelope: root,
        header,
        body,
        addressing: Addressing::default(),
        security: None,
        headers: Vec::new(),
        payload: None,
        fault: None,
    };
    if let Some(h) = header {
        for block in doc.child_elements(h) {
            let bns = doc.namespace(block);
            if bns == WSA10_NS || bns == WSA2004_NS {
                read_addressing(doc, block, &mut env.addressing);
            } else if bns == WSSE_NS && doc.local_name(block) == "Security" {
                if env.security.is_none() {
                    env.security = Some(read_security(doc, block));
                } else {
                    env.headers.push(HeaderBlock {
                        node: block,
                        must_understand: is_true(doc.attribute_ns(block, ns, "mustUnderstand")),
                    });
                }
            } else {
                env.headers.push(HeaderBlock {
                    node: block,
                    must_understand: is_true(doc.attribute_ns(block, ns, "mustUnderstand")),
                });
            }
        }
    }
    if let Some(first) = body.and_then(|b| doc.child_elements(b).next()) {
        if doc.is(first, ns, "Fault") {
            env.fault = Some(read_fault(doc, first, version));
        } else {
            env.payload = Some(first);
        }
    }
    Ok(env)
}

decoder! {
    /// The generic `soap` decoder: any SOAP 1.1/1.2 envelope, text or WCF binary, shown as version,
    /// addressing, security, other headers, the body operation with its parameters, and faults.
    pub struct Soap: "soap";
}

fn priority(msg: &Message<'_>) -> f32 {
    if is_binary(msg) {
        // Above `nbfx` (0.9): the envelope view is the more useful reading of a binary
        // SOAP message, and nbfx stays as an extra interpretation.
        return 0.92;
    }
    match msg.content_type().as_deref() {
        Some("application/soap+xml") => 0.9,
        Some("text/xml" | "application/xml") | None if sniff_text_envelope(msg.body) => 0.85,
        _ if sniff_text_envelope(msg.body) => 0.5,
        _ => 0.0,
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let sx = message_xml(msg, cx)?;
    let doc = Document::parse(&sx.xml, &cx.limits)?;
    let env = parse_envelope(&doc)?;
    Ok(envelope_view(&doc, &env, &sx, msg, cx))
}

/// The whole generic view of an envelope, as the [`Soap`] decoder shows it.
pub fn envelope_view(
    doc: &Document<'_>,
    env: &Envelope,
    sx: &SoapXml,
    msg: &Message<'_>,
    cx: &Context<'_>,
) -> Decoded {
    let mut findings = Vec::new();
    let mut root = Node::section("soap");
    root.value = Some(env.version.as_str().to_string());
    root.note = Some(format!("envelope namespace {}", env.version.namespace()));
    root.push(Node::field("encoding", sx.encoding.describe()));
    if !env.addressing.is_empty() {
        root.push(addressing_node(&env.addressing));
    }
    if let Some(sec) = &env.security {
        root.push(security_node(doc, sec, cx, "soap", &mut findings));
    }
    let budget = cx.limits.max_nodes.min(DEFAULT_TREE_NODES);
    if !env.headers.is_empty() {
        let mut h = Node::section("headers").with_note("other header blocks");
        for hb in &env.headers {
            let mut t = element_tree(doc, hb.node, budget);
            let ns = doc.namespace(hb.node);
            let mut note = if ns.is_empty() {
                "no namespace".to_string()
            } else {
                format!("namespace {ns}")
            };
            if hb.must_understand {
                note.push_str("; mustUnderstand: the receiver must process it or fault");
            }
            t.note = Some(note);
            h.push(t);
        }
        root.push(h);
    }
    let mut summary = env.version.as_str().to_string();
    match (env.body, env.payload, &env.fault) {
        (None, _, _) => {
            findings.push(Finding::error("SOAP envelope without a Body").at("soap"));
            summary.push_str(" envelope without a Body");
        }
        (Some(_), _, Some(f)) => {
            root.push(fault_node(doc, f, env.version));
            findings.push(fault_finding(f).at("soap/Fault"));
            summary.push_str(&format!(" fault {}", fault_brief(f)));
        }
        (Some(_), Some(p), None) => {
            let ns = doc.namespace(p);
            let local = doc.local_name(p);
            let mut op = element_tree(doc, p, budget);
            nest_binary_exchanges(&mut op, cx, "soap/body", &mut findings);
            op.label = "body".to_string();
            op.value = Some(local.to_string());
            op.kind = Kind::Section;
            op.note = Some(if ns.is_empty() {
                "operation element in no namespace".to_string()
            } else {
                format!("operation element, namespace {ns}")
            });
            root.push(op);
            let name = env.addressing.action_name().unwrap_or(local);
            summary.push_str(&format!(" {name}"));
            if env.addressing.action_name().is_some_and(|a| a != local) {
                summary.push_str(&format!(" <{local}>"));
            }
        }
        (Some(_), None, None) => {
            root.push(Node::text("body", "(empty)"));
            summary.push_str(" empty body");
            if let Some(a) = env.addressing.action_name() {
                summary.push_str(&format!(" ({a})"));
            }
        }
    }
    if let Some(f) = placeholder_finding(sx) {
        findings.push(f);
    }
    if msg.status.is_some_and(|s| s >= 500) && env.fault.is_none() {
        findings.push(Finding::warning(format!(
            "HTTP {} without a SOAP fault in the body",
            msg.status.unwrap_or(500)
        )));
    }
    let mut d = Decoded::new("soap", summary, root);
    d.findings = findings;
    d
}

/// Decodes what a WS-Trust `BinaryExchange` in a body carries (SPNEGO, NTLM) one level deeper.
fn nest_binary_exchanges(
    node: &mut Node,
    cx: &Context<'_>,
    path: &str,
    findings: &mut Vec<Finding>,
) {
    for c in &mut node.children {
        let p = format!("{path}/{}", c.label);
        nest_binary_exchanges(c, cx, &p, findings);
    }
    if node.label.rsplit(':').next() == Some("BinaryExchange")
        && let Some(d) = node
            .value
            .as_deref()
            .and_then(|v| cx.decode_nested(v.as_bytes()))
    {
        crate::generic::nested::attach_nested(node, d, path, findings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::{Limits, Trust};
    use std::time::{Duration, UNIX_EPOCH};

    fn cx(trust: &Trust) -> Context<'_> {
        Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
    }

    const WSTRUST_FAULT: &str = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">http://www.w3.org/2005/08/addressing/soap/fault</a:Action><a:RelatesTo>urn:uuid:1</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:a="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">a:FailedAuthentication</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="de-DE">Fehler</s:Text><s:Text xml:lang="en-US">ID3242: The security token could not be authenticated or authorized.</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;

    #[test]
    fn soap12_fault_reads_code_subcode_and_english_reason() {
        let doc = Document::parse(WSTRUST_FAULT, &Limits::default()).unwrap();
        let env = parse_envelope(&doc).unwrap();
        assert_eq!(env.version, SoapVersion::Soap12);
        let f = env.fault.unwrap();
        assert_eq!(f.code, "s:Sender");
        assert_eq!(f.code_namespace.as_deref(), Some(SOAP12_NS));
        assert_eq!(f.subcodes, vec!["a:FailedAuthentication"]);
        assert!(f.reason.starts_with("ID3242"));
        assert_eq!(f.reason_lang.as_deref(), Some("en-US"));
        assert_eq!(env.addressing.relates_to.as_deref(), Some("urn:uuid:1"));
    }

    #[test]
    fn soap11_fault_and_username_token_password_is_secret() {
        let xml = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsu:Timestamp><wsu:Created>2023-11-14T22:10:00Z</wsu:Created><wsu:Expires>2023-11-14T22:12:00Z</wsu:Expires></wsu:Timestamp><wsse:UsernameToken><wsse:Username>alice</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">hunter2</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>bad</faultstring></soap:Fault></soap:Body></soap:Envelope>"#;
        let trust = Trust::default();
        let msg = Message::request(
            "POST",
            "https://x/svc",
            vec![("content-type", "text/xml")],
            xml.as_bytes(),
        );
        assert!(Soap.priority(&msg) > 0.8);
        let d = Soap.decode(&msg, &cx(&trust)).unwrap();
        let pw = d.root.find_path("UsernameToken/Password").unwrap();
        assert_eq!(pw.kind, Kind::Secret);
        assert!(d.has_finding("Timestamp expired"));
        assert!(d.has_finding("soap:Client"));
        assert!(d.summary.starts_with("SOAP 1.1 fault soap:Client"));
    }

    #[test]
    fn non_envelope_is_not_this_kind() {
        let doc = Document::parse("<a/>", &Limits::default()).unwrap();
        assert!(matches!(
            parse_envelope(&doc),
            Err(DecodeError::NotThisKind { .. })
        ));
    }

    #[test]
    fn element_tree_is_bounded() {
        let mut xml = String::from("<r>");
        for i in 0..1000 {
            xml.push_str(&format!("<e>{i}</e>"));
        }
        xml.push_str("</r>");
        let doc = Document::parse(&xml, &Limits::default()).unwrap();
        let t = element_tree(&doc, doc.root().unwrap(), 50);
        assert!(t.children.len() <= 51);
        assert!(
            t.children
                .last()
                .unwrap()
                .value
                .as_deref()
                .unwrap()
                .contains("not shown")
        );
    }

    #[test]
    fn secret_names_cover_tokens_but_not_token_types() {
        assert!(is_secret_name("BearerToken"));
        assert!(is_secret_name("Password"));
        assert!(!is_secret_name("TokenType"));
        assert!(!is_secret_name("SecurityTokenReference"));
        assert!(!is_secret_name("DisplayName"));
    }
}
