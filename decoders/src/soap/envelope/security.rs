//! The WS-Security header (`wsse:Security`): timestamp, username tokens, binary security tokens,
//! signatures and other tokens, read into [`Security`] and shown by [`security_node`] with
//! findings for an expired or future timestamp and a clear-text password. Not responsible for
//! verifying signatures (see [`crate::xml::dsig`]).

use super::tree::{datetime_node, element_tree, xs_datetime_epoch};
use super::{WSSE_NS, WSU_NS, child_local, child_text, text_of};
use crate::view::{Finding, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, util};

/// A `wsu:Timestamp` of the WS-Security header, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timestamp {
    /// `wsu:Created`.
    pub created: Option<String>,
    /// `wsu:Expires`.
    pub expires: Option<String>,
}

/// A `wsse:UsernameToken`. The password is a credential: views show it as [`crate::view::Kind::Secret`].
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

pub(super) fn read_security(doc: &Document<'_>, sec: NodeId) -> Security {
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
        } else if !x509 && let Some(d) = cx.decode_nested(bst.value.as_bytes()) {
            // A Kerberos AP-REQ (`…#GSS_Kerberosv5_AP_REQ`) or another token.
            let at = format!("{path}/wsse:Security/BinarySecurityToken");
            crate::generic::nested::attach_nested(&mut t, d, &at, findings);
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
