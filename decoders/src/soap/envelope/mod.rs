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

use std::time::SystemTime;

use super::nbfx::{self, DecodeOptions, Framing};
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId, NodeKind};
use crate::{Context, DecodeError, Decoded, Decoder, Message, util};

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

/// The WS-Addressing anonymous address: "reply on the same HTTP connection".
const WSA_ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";

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

/// A `wsu:Timestamp` of the WS-Security header, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timestamp {
    /// `wsu:Created`.
    pub created: Option<String>,
    /// `wsu:Expires`.
    pub expires: Option<String>,
}

/// A `wsse:UsernameToken`. The password is a credential: views show it as [`Kind::Secret`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernameToken {
    /// `wsse:Username`.
    pub username: Option<String>,
    /// `wsse:Password` (clear text or a digest, see `password_type`).
    pub password: Option<String>,
    /// The `Type` attribute of the password (`…#PasswordText` or `…#PasswordDigest`).
    pub password_type: Option<String>,
    /// `wsse:Nonce` (base64), used with digests.
    pub nonce: Option<String>,
    /// `wsu:Created` of the token.
    pub created: Option<String>,
}

/// A `wsse:BinarySecurityToken` (an X.509 certificate, a Kerberos ticket …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinarySecurityToken {
    /// The element.
    pub node: NodeId,
    /// `ValueType` (what the token is).
    pub value_type: Option<String>,
    /// `EncodingType` (normally base64).
    pub encoding_type: Option<String>,
    /// The token text (base64).
    pub value: String,
}

/// The WS-Security header (`wsse:Security`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Security {
    /// The `wsse:Security` element.
    pub node: NodeId,
    /// `wsu:Timestamp`, if present.
    pub timestamp: Option<Timestamp>,
    /// Every `wsse:UsernameToken`.
    pub username_tokens: Vec<UsernameToken>,
    /// Every `wsse:BinarySecurityToken`.
    pub binary_tokens: Vec<BinarySecurityToken>,
    /// `ds:Signature` elements directly inside the header.
    pub signatures: Vec<NodeId>,
    /// Other children (SAML assertions, encrypted keys …), shown as element trees.
    pub others: Vec<NodeId>,
}

/// A header block other than WS-Addressing and WS-Security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderBlock {
    /// The header element.
    pub node: NodeId,
    /// `mustUnderstand` is true (`1`/`true`).
    pub must_understand: bool,
}

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

fn read_addressing(doc: &Document<'_>, block: NodeId, a: &mut Addressing) {
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

fn read_security(doc: &Document<'_>, sec: NodeId) -> Security {
    let mut s = Security {
        node: sec,
        timestamp: None,
        username_tokens: Vec::new(),
        binary_tokens: Vec::new(),
        signatures: Vec::new(),
        others: Vec::new(),
    };
    for c in doc.child_elements(sec) {
        let (cns, local) = (doc.namespace(c), doc.local_name(c));
        match (cns, local) {
            (WSU_NS, "Timestamp") => {
                s.timestamp = Some(Timestamp {
                    created: child_text(doc, c, "Created"),
                    expires: child_text(doc, c, "Expires"),
                });
            }
            (WSSE_NS, "UsernameToken") => {
                let pw = child_local(doc, c, "Password");
                s.username_tokens.push(UsernameToken {
                    username: child_text(doc, c, "Username"),
                    password: pw.map(|p| doc.text_content(p)),
                    password_type: pw
                        .and_then(|p| doc.attribute(p, "Type"))
                        .map(str::to_string),
                    nonce: child_text(doc, c, "Nonce"),
                    created: child_text(doc, c, "Created"),
                });
            }
            (WSSE_NS, "BinarySecurityToken") => s.binary_tokens.push(BinarySecurityToken {
                node: c,
                value_type: doc.attribute(c, "ValueType").map(str::to_string),
                encoding_type: doc.attribute(c, "EncodingType").map(str::to_string),
                value: text_of(doc, c),
            }),
            (crate::xml::DSIG_NS, "Signature") => s.signatures.push(c),
            _ => s.others.push(c),
        }
    }
    s
}

fn read_fault(doc: &Document<'_>, f: NodeId, version: SoapVersion) -> Fault {
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

/// The text of a SOAP message body: UTF-8 text SOAP as is, binary XML decoded by
/// [`super::nbfx`] first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapXml {
    /// The XML text.
    pub xml: String,
    /// How the body was encoded on the wire.
    pub encoding: WireEncoding,
    /// Dictionary ids the binary decoder could not resolve (rendered as placeholders).
    pub unknown_dictionary_ids: Vec<u32>,
    /// For an MC-NBFSE message from the middle of a session: how many strings earlier messages
    /// had added (inferred; their ids are the unresolvable ones).
    pub earlier_session_strings: Option<u32>,
}

/// How a SOAP body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireEncoding {
    /// XML text (`application/soap+xml`, `text/xml`).
    Text,
    /// `application/soap+msbin1`: WCF binary XML with the static dictionary (MC-NBFS).
    Msbin1,
    /// `application/soap+msbinsession1`: MC-NBFSE, a string table before the records.
    MsbinSession1,
}

impl WireEncoding {
    /// A human description of the encoding.
    pub fn describe(self) -> &'static str {
        match self {
            WireEncoding::Text => "XML text",
            WireEncoding::Msbin1 => {
                "application/soap+msbin1: WCF binary XML (MC-NBFX records, MC-NBFS static \
                 dictionary), decoded to XML"
            }
            WireEncoding::MsbinSession1 => {
                "application/soap+msbinsession1: WCF binary XML with an MC-NBFSE session string \
                 table, decoded to XML"
            }
        }
    }
}

const MSBIN1: &str = "application/soap+msbin1";
const MSBINSESSION1: &str = "application/soap+msbinsession1";

/// True when the message body is WCF binary XML (by content type or the `56 02 0B` prefix).
pub fn is_binary(msg: &Message<'_>) -> bool {
    matches!(msg.content_type().as_deref(), Some(MSBIN1 | MSBINSESSION1))
        || msg.body.starts_with(&[0x56, 0x02, 0x0B])
}

/// Returns the XML text of a SOAP body: binary XML is decoded (an error stops the decode and is
/// returned with its byte offset), text must be UTF-8.
pub fn message_xml(msg: &Message<'_>, cx: &Context<'_>) -> Result<SoapXml, DecodeError> {
    if msg.body.len() > cx.limits.max_body {
        return Err(DecodeError::TooLarge {
            what: "SOAP body",
            limit: cx.limits.max_body,
        });
    }
    if is_binary(msg) {
        let mut opts = DecodeOptions::from_limits(&cx.limits);
        let session = msg.content_type().as_deref() == Some(MSBINSESSION1);
        if session {
            opts.framing = Framing::MsbinSession1;
        }
        let doc = nbfx::decode_standalone(msg.body, &opts)?;
        let encoding = match doc.framing {
            Framing::MsbinSession1 => WireEncoding::MsbinSession1,
            _ => WireEncoding::Msbin1,
        };
        return Ok(SoapXml {
            xml: doc.xml,
            encoding,
            unknown_dictionary_ids: doc.unknown_dictionary_ids,
            earlier_session_strings: doc.earlier_session_strings,
        });
    }
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    Ok(SoapXml {
        xml: text.to_string(),
        encoding: WireEncoding::Text,
        unknown_dictionary_ids: Vec::new(),
        earlier_session_strings: None,
    })
}

/// True when the first bytes of a text body look like a SOAP envelope (cheap sniff for
/// priorities: the envelope element and a SOAP namespace near the start).
pub fn sniff_text_envelope(body: &[u8]) -> bool {
    let head = body.get(..body.len().min(2048)).unwrap_or(body);
    contains(head, b"Envelope")
        && (contains(head, SOAP12_NS.as_bytes()) || contains(head, SOAP11_NS.as_bytes()))
}

pub(crate) use crate::util::contains;

/// Label names whose text is a credential wherever they appear in a SOAP body or header: a
/// generic tree marks them [`Kind::Secret`]. The secrets policy decides
/// ([`crate::secrets::is_secret_element`]; it fails closed: better a masked harmless value than a
/// shown password).
pub fn is_secret_name(local: &str) -> bool {
    crate::secrets::is_secret_element(local)
}

/// A bounded view tree of an element: its qualified name as label, its text as value, its
/// attributes (`@name`) and child elements as children. At most `max_nodes` nodes are built;
/// the rest is replaced by a marker. Credential-looking elements ([`is_secret_name`]) are
/// [`Kind::Secret`].
pub fn element_tree(doc: &Document<'_>, id: NodeId, max_nodes: usize) -> Node {
    let mut left = max_nodes.max(1);
    tree_rec(doc, id, &mut left, 0)
}

fn tree_rec(doc: &Document<'_>, id: NodeId, left: &mut usize, depth: usize) -> Node {
    *left = left.saturating_sub(1);
    let local = doc.local_name(id);
    let mut node = Node::section(doc.qname(id));
    let children: Vec<NodeId> = doc.child_elements(id).collect();
    let has_text = doc
        .children(id)
        .any(|c| matches!(doc.kind(c), Some(NodeKind::Text | NodeKind::CData)));
    if children.is_empty() {
        if is_nil(doc, id) {
            node.value = Some("(nil)".to_string());
            node.kind = Kind::Field;
        } else {
            let t = doc.text_content(id);
            node.value = Some(t.trim().to_string());
            let looks_secret =
                is_secret_name(local) || crate::secrets::is_credential_value(t.trim());
            node.kind = if looks_secret && !t.trim().is_empty() {
                Kind::Secret
            } else {
                Kind::Field
            };
        }
    } else if has_text {
        let t: String = doc
            .children(id)
            .filter(|c| matches!(doc.kind(*c), Some(NodeKind::Text | NodeKind::CData)))
            .filter_map(|c| doc.text(c))
            .collect();
        if !t.trim().is_empty() {
            node.value = Some(t.trim().to_string());
        }
    }
    for a in doc.attributes(id) {
        if a.namespace == XSI_NS && a.local == "nil" {
            continue;
        }
        if *left == 0 {
            break;
        }
        *left -= 1;
        node.push(Node::field(format!("@{}", a.qname), a.value));
    }
    for (i, c) in children.iter().enumerate() {
        if *left == 0 || depth >= 64 {
            node.push(Node::leaf(
                "…",
                format!(
                    "{} more element(s) not shown (view size limit)",
                    children.len() - i
                ),
                Kind::Text,
            ));
            break;
        }
        node.push(tree_rec(doc, *c, left, depth + 1));
    }
    node
}

/// Parses an `xs:dateTime` (`2023-11-14T22:13:20Z`, fractions and offsets allowed; no zone means
/// UTC) to seconds since the epoch.
pub fn xs_datetime_epoch(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let with_z = format!("{s}Z");
    time::OffsetDateTime::parse(&with_z, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// An `xs:dateTime` node with its time relative to `now` in the note.
pub fn datetime_node(label: &str, value: &str, now: SystemTime) -> Node {
    match xs_datetime_epoch(value) {
        Some(secs) => Node::leaf(label, value, Kind::Timestamp)
            .with_note(util::format_epoch_relative(secs, now)),
        None => Node::field(label, value),
    }
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

/// The view of the WS-Security header, with findings for an expired or future timestamp and a
/// clear-text password.
pub fn security_node(
    doc: &Document<'_>,
    sec: &Security,
    cx: &Context<'_>,
    path: &str,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut n = Node::section("wsse:Security").with_note("WS-Security header");
    let now = util::epoch_secs(cx.now);
    if let Some(ts) = &sec.timestamp {
        let mut t = Node::section("Timestamp");
        if let Some(c) = &ts.created {
            t.push(datetime_node("Created", c, cx.now));
            if xs_datetime_epoch(c).is_some_and(|s| s > now + 300) {
                findings.push(
                    Finding::warning(format!(
                        "WS-Security Timestamp Created {c} is in the future (clock skew?)"
                    ))
                    .at(format!("{path}/wsse:Security/Timestamp/Created")),
                );
            }
        }
        if let Some(e) = &ts.expires {
            t.push(datetime_node("Expires", e, cx.now));
            if xs_datetime_epoch(e).is_some_and(|s| s < now) {
                findings.push(
                    Finding::error(format!(
                        "WS-Security Timestamp expired ({e}): the receiver will reject the message"
                    ))
                    .at(format!("{path}/wsse:Security/Timestamp/Expires")),
                );
            }
        }
        n.push(t);
    }
    for ut in &sec.username_tokens {
        let mut t = Node::section("UsernameToken");
        if let Some(u) = &ut.username {
            t.push(Node::field("Username", u));
        }
        if let Some(p) = &ut.password {
            let digest = ut
                .password_type
                .as_deref()
                .is_some_and(|ty| ty.ends_with("#PasswordDigest"));
            let note = if digest {
                "password digest: base64(SHA-1(nonce + created + password))"
            } else {
                "the password in clear text (PasswordText)"
            };
            t.push(Node::secret("Password", p).with_note(note));
            if !digest {
                findings.push(
                    Finding::warning("WS-Security UsernameToken carries a clear-text password")
                        .at(format!("{path}/wsse:Security/UsernameToken/Password")),
                );
            }
        }
        if let Some(v) = &ut.nonce {
            t.push(Node::secret("Nonce", v));
        }
        if let Some(v) = &ut.created {
            t.push(datetime_node("Created", v, cx.now));
        }
        n.push(t);
    }
    for bst in &sec.binary_tokens {
        let vt = bst.value_type.as_deref().unwrap_or("");
        let x509 = vt.ends_with("#X509v3") || vt.ends_with("#X509");
        let mut t = if x509 {
            Node::field("BinarySecurityToken", &bst.value)
        } else {
            Node::secret("BinarySecurityToken", &bst.value)
        };
        t.note = Some(if vt.is_empty() {
            "no ValueType".to_string()
        } else {
            format!("ValueType {vt}")
        });
        if x509
            && let Some(der) = util::b64_decode_any(&bst.value, 1 << 20)
            && let Some(ci) = crate::xml::dsig::CertInfo::from_der(&der)
        {
            t.push(Node::field("subject", ci.subject));
            t.push(Node::field("issuer", ci.issuer));
            t.push(Node::field("thumbprint", ci.thumbprint));
            t.push(Node::field(
                "validity",
                format!("{} … {}", ci.not_before, ci.not_after),
            ));
        }
        n.push(t);
    }
    for s in &sec.signatures {
        n.push(
            Node::section(doc.qname(*s))
                .with_note("XML signature over parts of the message (not verified by this view)"),
        );
    }
    for o in &sec.others {
        n.push(element_tree(doc, *o, 200));
    }
    n
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

/// The generic `soap` decoder: any SOAP 1.1/1.2 envelope, text or WCF binary, shown as version,
/// addressing, security, other headers, the body operation with its parameters, and faults.
#[derive(Debug, Clone, Copy)]
pub struct Soap;

impl Decoder for Soap {
    fn id(&self) -> &'static str {
        "soap"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
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

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let sx = message_xml(msg, cx)?;
        let doc = Document::parse(&sx.xml, &cx.limits)?;
        let env = parse_envelope(&doc)?;
        Ok(envelope_view(&doc, &env, &sx, msg, cx))
    }
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

/// The warning for binary XML whose dictionary ids could not all be resolved.
pub fn placeholder_finding(sx: &SoapXml) -> Option<Finding> {
    if sx.unknown_dictionary_ids.is_empty() {
        return None;
    }
    let ids: Vec<String> = sx
        .unknown_dictionary_ids
        .iter()
        .map(|i| format!("0x{i:X}"))
        .collect();
    if let Some(n) = sx.earlier_session_strings {
        return Some(Finding::warning(format!(
            "message from the middle of an msbinsession1 session: its own string table starts \
             at id 0x{:X}, so {n} string(s) sent earlier in the session are unknown; {} of them \
             are used here ({}) and shown as dict_0x.. placeholders",
            2 * n + 1,
            ids.len(),
            ids.join(", ")
        )));
    }
    let odd = sx.unknown_dictionary_ids.iter().any(|i| i % 2 == 1);
    let why = if odd {
        "odd ids are MC-NBFSE session strings: a message from the middle of an msbinsession1 \
         session refers to strings sent earlier"
    } else {
        "even ids come from the MC-NBFS static dictionary (0x0-0x3CC): an id outside it means a \
         corrupt message or a dictionary this decoder does not know"
    };
    Some(Finding::warning(format!(
        "{} dictionary id(s) could not be resolved ({}): names and values shown as dict_0x.. / \
         [[dict:0x..]] placeholders; {why}",
        ids.len(),
        ids.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(
            d.findings
                .iter()
                .any(|f| f.message.contains("Timestamp expired"))
        );
        assert!(d.findings.iter().any(|f| f.message.contains("soap:Client")));
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
