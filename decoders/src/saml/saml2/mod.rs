//! SAML 2.0: assertions, encrypted assertions, the protocol messages (`Response`, `AuthnRequest`,
//! `LogoutRequest`, `LogoutResponse`) and their bindings, plus the [`Saml`] decoder.
//!
//! Bindings: HTTP-Redirect (query `SAMLRequest`/`SAMLResponse` = base64 of raw DEFLATE, inflated
//! by [`inflate_redirect`] under [`crate::Limits::max_inflate`]; `RelayState`, `SigAlg` and
//! `Signature`, the signature checked over the exact query octets as received), HTTP-POST (form
//! fields, base64 without deflate), the IdP's auto-POST HTML page, and bare documents (a blob of
//! XML or base64 of XML, as the `oauth` decoder passes the `assertion` of a SAML-bearer grant).
//!
//! Not responsible for WS-Fed `wresult`s (see [`super::wsfed`]) or WS-Trust bodies (see
//! [`super::wstrust`]), for decrypting `EncryptedAssertion`s (the algorithms and key references are
//! shown; there is no key), or for XML-DSig itself ([`crate::xml::dsig`]).

use std::io::Read as _;

use aws_lc_rs::signature;

use super::{
    Claims, Explained, Explainer, MICROSOFT_ONLINE, XENC_NS, attribute_node, attributes_section,
    auth_method_note, confirmation_note, contains, contains_ci, explain_saml_focused, explain_xml,
    max_attributes, mentions_saml, name_id_format_note, opaque_preview,
};
use crate::html::find_form;
use crate::view::{Finding, Kind, Node};
use crate::xml::{DSIG_NS, NodeId, SAML2_NS, SAMLP_NS};
use crate::{Context, DecodeError, Decoded, Decoder, Limits, Message, util, x509};

/// How the payload of a redirect-binding parameter was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Raw DEFLATE (RFC 1951), as the binding requires.
    RawDeflate,
    /// zlib-wrapped DEFLATE (RFC 1950): a broken but seen client.
    Zlib,
    /// Not compressed at all: another broken client.
    None,
}

impl Compression {
    fn describe(self) -> &'static str {
        match self {
            Compression::RawDeflate => "raw DEFLATE (as the binding requires)",
            Compression::Zlib => "zlib-wrapped DEFLATE (the binding requires raw DEFLATE)",
            Compression::None => "not compressed (the binding requires raw DEFLATE)",
        }
    }
}

/// Decodes an HTTP-Redirect binding value (already URL-decoded): base64, then raw DEFLATE; falls
/// back to zlib and then to uncompressed XML, because broken clients exist. The output is capped
/// at [`Limits::max_inflate`] ([`DecodeError::TooLarge`] beyond it, so a deflate bomb costs at
/// most that much). `field` names the parameter in errors.
pub fn inflate_redirect(
    value: &str,
    field: &'static str,
    limits: &Limits,
) -> Result<(Vec<u8>, Compression), DecodeError> {
    let compact = compact_base64(value);
    let bytes =
        util::b64_decode_any(&compact, limits.max_inflate).ok_or(DecodeError::Base64 { field })?;
    let cap = limits.max_inflate;
    let inflate = |r: &mut dyn std::io::Read| -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        r.take(cap as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Inflate {
                field,
                message: e.to_string(),
            })?;
        if out.len() > cap {
            return Err(DecodeError::TooLarge {
                what: "inflated SAML message",
                limit: cap,
            });
        }
        Ok(out)
    };
    let raw = inflate(&mut flate2::read::DeflateDecoder::new(bytes.as_slice()));
    match raw {
        Ok(out) if !out.is_empty() => return Ok((out, Compression::RawDeflate)),
        Err(e @ DecodeError::TooLarge { .. }) => return Err(e),
        _ => {}
    }
    match inflate(&mut flate2::read::ZlibDecoder::new(bytes.as_slice())) {
        Ok(out) if !out.is_empty() => return Ok((out, Compression::Zlib)),
        Err(e @ DecodeError::TooLarge { .. }) => return Err(e),
        _ => {}
    }
    if bytes.trim_ascii_start().starts_with(b"<") {
        return Ok((bytes, Compression::None));
    }
    Err(match raw {
        Err(e) => e,
        Ok(_) => DecodeError::Inflate {
            field,
            message: "the inflated data is empty".into(),
        },
    })
}

/// Base64 as carried in forms and queries: whitespace removed, and spaces that were `+` before
/// a second URL decoding turned back into `+`.
fn compact_base64(value: &str) -> String {
    value
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('+'),
            c if c.is_whitespace() => None,
            c => Some(c),
        })
        .collect()
}

/// Decodes an HTTP-POST binding value (base64 of XML, no deflate) to text.
fn decode_post_value(
    value: &str,
    field: &'static str,
    cx: &Context<'_>,
) -> Result<String, DecodeError> {
    let bytes = util::b64_decode_any(&compact_base64(value), cx.limits.max_inflate)
        .ok_or(DecodeError::Base64 { field })?;
    String::from_utf8(bytes).map_err(|_| DecodeError::Utf8 { field })
}

fn status_note(code: &str) -> &'static str {
    match code.rsplit(':').next().unwrap_or("") {
        "Success" => "success",
        "Requester" => "the request was wrong (requester error)",
        "Responder" => "the IdP failed (responder error)",
        "VersionMismatch" => "unsupported SAML version",
        "AuthnFailed" => "authentication failed at the IdP (wrong password, cancelled, …)",
        "InvalidAttrNameOrValue" => "an attribute name or value is invalid",
        "InvalidNameIDPolicy" => "the IdP cannot issue a NameID in the requested format",
        "NoAuthnContext" => "the IdP cannot satisfy the RequestedAuthnContext (e.g. MFA)",
        "NoAvailableIDP" | "NoSupportedIDP" => "no usable identity provider",
        "NoPassive" => "IsPassive was requested but the user must interact",
        "PartialLogout" => "logout did not reach every session participant",
        "RequestDenied" => "the IdP refused the request",
        "RequestUnsupported" => "the request is not supported",
        "UnknownPrincipal" => "the IdP does not know the principal",
        "UnsupportedBinding" => "the binding is not supported",
        _ => "not a standard status code",
    }
}

fn binding_note(uri: &str) -> &'static str {
    match uri.rsplit(':').next().unwrap_or("") {
        "HTTP-POST" => "HTTP-POST: the response comes back as an auto-submitted HTML form",
        "HTTP-Redirect" => "HTTP-Redirect: deflated and base64 in the query string",
        "HTTP-Artifact" => "HTTP-Artifact: a reference resolved over a back channel",
        "SOAP" => "SOAP back channel",
        "PAOS" => "PAOS (enhanced client or proxy)",
        _ => "not a standard binding",
    }
}

/// Explains a SAML 2.0 `saml:Assertion`; findings go to `ex`.
pub fn explain_assertion(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let doc = ex.doc;
    let at = doc.path(el);
    let mut root = Node::section(doc.qname(el)).with_note("SAML 2.0 assertion");
    root.value = Some(format!(
        "SAML {}",
        doc.attribute(el, "Version")
            .unwrap_or("2.0 (no Version attribute)")
    ));
    if let Some(id) = doc.attribute(el, "ID") {
        root.push(Node::field("ID", id).with_note("the ID the signature Reference points to"));
    }
    if let Some(ii) = doc.attribute(el, "IssueInstant") {
        root.push(ex.instant("IssueInstant", ii).0);
    }
    if let Some(i) = doc.find_child(el, SAML2_NS, "Issuer") {
        root.push(
            Node::field("Issuer", doc.text_content(i).trim())
                .with_note("the IdP; must equal the federated domain's IssuerUri in Entra ID"),
        );
    }
    let (sigs, short) = ex.signatures_of(el, "the SAML 2.0 assertion");
    let mut claims = Claims::default();
    if let Some(s) = doc.find_child(el, SAML2_NS, "Subject") {
        root.push(subject_node(ex, s, &mut claims));
    }
    let mut state = None;
    if let Some(c) = doc.find_child(el, SAML2_NS, "Conditions") {
        let (mut cond, window, audiences) = ex.conditions(c, SAML2_NS, "AudienceRestriction", &at);
        state = window;
        if doc.find_child(c, SAML2_NS, "OneTimeUse").is_some() {
            cond.push(Node::text(
                "OneTimeUse",
                "the assertion must not be cached or reused",
            ));
        }
        if ex.destination_is_login_srf() && !audiences.iter().any(|a| a == MICROSOFT_ONLINE) {
            ex.findings.push(
                Finding::warning(format!(
                    "the assertion is posted to login.srf but its audience is {}, not \
                     {MICROSOFT_ONLINE}: Entra ID will reject it",
                    if audiences.is_empty() {
                        "missing".to_string()
                    } else {
                        audiences.join(", ")
                    }
                ))
                .at(format!("{at}/saml:Conditions")),
            );
        }
        root.push(cond);
    } else {
        ex.findings.push(
            Finding::warning("the assertion has no Conditions: no validity window, no audience")
                .at(at.clone()),
        );
    }
    let mut attr_nodes = Vec::new();
    let mut total = 0;
    for st in doc.find_children(el, SAML2_NS, "AttributeStatement") {
        for a in doc.find_children(st, SAML2_NS, "Attribute") {
            total += 1;
            if attr_nodes.len() >= max_attributes() {
                continue;
            }
            let name = doc.attribute(a, "Name").unwrap_or("");
            let values: Vec<String> = doc
                .find_children(a, SAML2_NS, "AttributeValue")
                .map(|v| doc.text_content(v))
                .collect();
            for v in &values {
                claims.record(name, v);
            }
            let mut n = attribute_node(name, &values);
            if let Some(f) = doc.attribute(a, "FriendlyName") {
                n.push(Node::field("FriendlyName", f));
            }
            if let Some(f) = doc.attribute(a, "NameFormat") {
                n.push(Node::field("NameFormat", f));
            }
            attr_nodes.push(n);
        }
        for e in doc.find_children(st, SAML2_NS, "EncryptedAttribute") {
            total += 1;
            attr_nodes.push(encrypted_node(ex, e, "EncryptedAttribute"));
        }
    }
    if total > 0 {
        root.push(attributes_section("attributes", attr_nodes, total));
    }
    for st in doc.find_children(el, SAML2_NS, "AuthnStatement") {
        let mut n = Node::section("AuthnStatement");
        if let Some(i) = doc.attribute(st, "AuthnInstant") {
            n.push(ex.instant("AuthnInstant", i).0);
        }
        if let Some(s) = doc.attribute(st, "SessionIndex") {
            n.push(Node::field("SessionIndex", s).with_note("the IdP session, for single logout"));
        }
        if let Some(s) = doc.attribute(st, "SessionNotOnOrAfter") {
            n.push(ex.instant("SessionNotOnOrAfter", s).0);
        }
        for r in doc.find_descendants(st, SAML2_NS, "AuthnContextClassRef") {
            let v = doc.text_content(r).trim().to_string();
            if v.ends_with("/multipleauthn") {
                claims.mfa = true;
            }
            n.push(Node::field("AuthnContextClassRef", v.clone()).with_note(auth_method_note(&v)));
        }
        root.push(n);
    }
    if claims.mfa {
        ex.findings.push(
            Finding::info(
                "the IdP says the user did MFA (multipleauthn): Entra ID accepts it when \
                 federatedIdpMfaBehavior allows",
            )
            .at(at.clone()),
        );
    }
    root.children.extend(sigs);
    let who = claims.describe();
    let mut summary = if who.is_empty() {
        "SAML 2.0 assertion".to_string()
    } else {
        format!("SAML 2.0 for {who}")
    };
    summary.push_str(&format!(", {}", short.unwrap_or_else(|| "unsigned".into())));
    if let Some(s) = state {
        summary.push_str(&format!(", {s}"));
    }
    Explained {
        node: root,
        summary,
    }
}

fn subject_node(ex: &mut Explainer<'_, '_>, s: NodeId, claims: &mut Claims) -> Node {
    let doc = ex.doc;
    let mut n = Node::section("Subject");
    if let Some(ni) = doc.find_child(s, SAML2_NS, "NameID") {
        let v = doc.text_content(ni).trim().to_string();
        let mut node = Node::field("NameID", v.clone())
            .with_note("the subject; for Entra ID SAML-P federation it must be the ImmutableID");
        if let Some(f) = doc.attribute(ni, "Format") {
            node.push(Node::field("Format", f).with_note(name_id_format_note(f)));
        }
        if let Some(g) = super::immutable_id_guid(&v) {
            node.push(Node::field("objectGUID", g).with_note(
                "the GUID this base64 value encodes (.NET order): the on-premises objectGUID",
            ));
        }
        for q in ["NameQualifier", "SPNameQualifier"] {
            if let Some(v) = doc.attribute(ni, q) {
                node.push(Node::field(q, v));
            }
        }
        claims.name_id = Some(v);
        n.push(node);
    } else if let Some(e) = doc.find_child(s, SAML2_NS, "EncryptedID") {
        n.push(encrypted_node(ex, e, "EncryptedID"));
    }
    for sc in doc.find_children(s, SAML2_NS, "SubjectConfirmation") {
        let method = doc.attribute(sc, "Method").unwrap_or("");
        let mut c = Node::field("SubjectConfirmation", method).with_note(confirmation_note(method));
        if let Some(d) = doc.find_child(sc, SAML2_NS, "SubjectConfirmationData") {
            if let Some(v) = doc.attribute(d, "InResponseTo") {
                c.push(Node::field("InResponseTo", v).with_note("the AuthnRequest ID it answers"));
            }
            if let Some(v) = doc.attribute(d, "NotBefore") {
                c.push(ex.instant("NotBefore", v).0);
            }
            if let Some(v) = doc.attribute(d, "NotOnOrAfter") {
                let (node, secs) = ex.instant("NotOnOrAfter", v);
                c.push(node.with_note("the bearer assertion must be delivered before this"));
                ex.check_window(None, secs, "the subject confirmation", &doc.path(d));
            }
            if let Some(v) = doc.attribute(d, "Recipient") {
                c.push(Node::field("Recipient", v).with_note("the ACS URL it must be posted to"));
                if let Some(dest) = ex.destination.as_deref()
                    && strip_query(dest) != strip_query(v)
                {
                    ex.findings.push(
                        Finding::warning(format!(
                            "SubjectConfirmationData Recipient {v} differs from where the \
                             assertion is sent ({dest})"
                        ))
                        .at(doc.path(d)),
                    );
                }
            }
            if let Some(v) = doc.attribute(d, "Address") {
                c.push(Node::field("Address", v).with_note("the client address the IdP saw"));
            }
        }
        n.push(c);
    }
    n
}

fn strip_query(u: &str) -> &str {
    u.split(['?', '#'])
        .next()
        .unwrap_or(u)
        .trim_end_matches('/')
}

/// An `xenc:EncryptedData` holder (EncryptedAssertion, EncryptedID, EncryptedAttribute): its
/// algorithms and key references, and the cipher values as secrets. Never decrypted.
fn encrypted_node(ex: &mut Explainer<'_, '_>, el: NodeId, label: &str) -> Node {
    let doc = ex.doc;
    let mut n = Node::section(label).with_note(
        "encrypted for the relying party's key; idscope has no key and does not decrypt",
    );
    let Some(data) = doc.find_child(el, XENC_NS, "EncryptedData") else {
        n.push(Node::leaf("EncryptedData", "missing", Kind::Error));
        return n;
    };
    if let Some(t) = doc.attribute(data, "Type") {
        n.push(Node::field("Type", t));
    }
    if let Some(m) = doc
        .find_child(data, XENC_NS, "EncryptionMethod")
        .and_then(|m| doc.attribute(m, "Algorithm"))
    {
        n.push(Node::field("EncryptionMethod", m).with_note(enc_alg_note(m)));
    }
    // The content key: inside KeyInfo, or a sibling EncryptedKey (both are allowed).
    let keys: Vec<NodeId> = doc
        .find_descendants(el, XENC_NS, "EncryptedKey")
        .take(8)
        .collect();
    for k in keys {
        let mut kn = Node::section("EncryptedKey").with_note("the content key, wrapped for the RP");
        if let Some(m) = doc.find_child(k, XENC_NS, "EncryptionMethod") {
            if let Some(a) = doc.attribute(m, "Algorithm") {
                kn.push(Node::field("EncryptionMethod", a).with_note(enc_alg_note(a)));
            }
            if let Some(d) = doc
                .find_child(m, DSIG_NS, "DigestMethod")
                .and_then(|d| doc.attribute(d, "Algorithm"))
            {
                kn.push(Node::field("DigestMethod", d));
            }
        }
        if let Some(ki) = doc.find_child(k, DSIG_NS, "KeyInfo") {
            kn.children.extend(key_info_nodes(ex, ki));
        }
        if let Some(cv) = doc.find_descendant(k, XENC_NS, "CipherValue") {
            kn.push(Node::secret("CipherValue", compact(&doc.text_content(cv))));
        }
        n.push(kn);
    }
    if let Some(ki) = doc.find_child(data, DSIG_NS, "KeyInfo") {
        for c in key_info_nodes(ex, ki) {
            if c.label != "EncryptedKey" {
                n.push(c);
            }
        }
    }
    if let Some(cv) = doc
        .find_child(data, XENC_NS, "CipherData")
        .and_then(|c| doc.find_child(c, XENC_NS, "CipherValue"))
    {
        let v = compact(&doc.text_content(cv));
        let len = util::b64_decode_any(&v, ex.cx.limits.max_inflate).map_or(0, |b| b.len());
        n.push(
            Node::secret("CipherValue", v)
                .with_note(format!("{len} bytes of ciphertext (IV + encrypted XML)")),
        );
    }
    n
}

/// How a `KeyInfo` certificate is shown: the subject and the lower-case SHA-1 thumbprint.
const RECIPIENT_CERT: x509::Style = x509::Style {
    head: x509::Head::Field,
    rows: &[x509::Row::Sha1 {
        label: "thumbprint (SHA-1)",
        case: x509::Case::Lower,
        note: x509::HashNote::None,
    }],
};

fn key_info_nodes(ex: &Explainer<'_, '_>, ki: NodeId) -> Vec<Node> {
    let doc = ex.doc;
    let mut out = Vec::new();
    if let Some(k) = doc.find_child(ki, DSIG_NS, "KeyName") {
        out.push(Node::field("KeyName", doc.text_content(k).trim()));
    }
    // Certificates of a nested EncryptedKey belong to that key, not to this KeyInfo.
    let own = |c: &NodeId| {
        !doc.ancestors(*c)
            .take_while(|a| *a != ki)
            .any(|a| doc.is(a, XENC_NS, "EncryptedKey"))
    };
    for c in doc
        .find_descendants(ki, DSIG_NS, "X509Certificate")
        .filter(own)
        .take(4)
    {
        let der = util::b64_decode_any(&compact(&doc.text_content(c)), 64 << 10);
        match der.and_then(|d| x509::Certificate::parse(&d).ok()) {
            Some(cert) => out.push(
                cert.node("X509Certificate", &RECIPIENT_CERT, ex.cx.now)
                    .with_note("the RP certificate the key was wrapped for"),
            ),
            None => out.push(Node::leaf("X509Certificate", "unparsable", Kind::Error)),
        }
    }
    for c in doc
        .find_descendants(ki, DSIG_NS, "X509IssuerSerial")
        .take(4)
    {
        out.push(Node::field("X509IssuerSerial", doc.text_content(c).trim()));
    }
    if doc.find_child(ki, XENC_NS, "EncryptedKey").is_some() {
        out.push(Node::section("EncryptedKey"));
    }
    if let Some(r) = doc.find_child(ki, DSIG_NS, "RetrievalMethod") {
        out.push(
            Node::field("RetrievalMethod", doc.attribute(r, "URI").unwrap_or(""))
                .with_note("a reference to the key elsewhere (never fetched)"),
        );
    }
    out
}

fn enc_alg_note(uri: &str) -> &'static str {
    match uri {
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => "AES-256-CBC (content)",
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => "AES-128-CBC (content)",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm" => "AES-256-GCM (content)",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm" => "AES-128-GCM (content)",
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" => {
            "RSA-OAEP with SHA-1 MGF (key transport)"
        }
        "http://www.w3.org/2009/xmlenc11#rsa-oaep" => "RSA-OAEP (key transport)",
        "http://www.w3.org/2001/04/xmlenc#rsa-1_5" => {
            "RSA PKCS#1 v1.5 key transport (vulnerable to padding-oracle attacks)"
        }
        _ => "not a well-known algorithm",
    }
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Explains a standalone `saml:EncryptedAssertion`.
pub fn explain_encrypted(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let node = encrypted_node(ex, el, ex.doc.qname(el));
    ex.findings.push(
        Finding::info(
            "the assertion is encrypted (EncryptedAssertion): its subject, attributes and \
             signature cannot be shown without the relying party's private key",
        )
        .at(ex.doc.path(el)),
    );
    let alg = node
        .child("EncryptionMethod")
        .and_then(|n| n.value.as_deref())
        .and_then(|v| v.rsplit('#').next())
        .unwrap_or("unknown algorithm")
        .to_string();
    Explained {
        node,
        summary: format!("SAML 2.0 EncryptedAssertion ({alg}), not decrypted"),
    }
}

/// Explains a SAML 2.0 protocol message (`samlp:*`); findings go to `ex`.
pub fn explain_protocol(ex: &mut Explainer<'_, '_>, el: NodeId) -> Result<Explained, DecodeError> {
    let doc = ex.doc;
    let local = doc.local_name(el);
    let at = doc.path(el);
    let mut root = Node::section(doc.qname(el));
    root.value = Some(format!(
        "SAML {}",
        doc.attribute(el, "Version").unwrap_or("2.0")
    ));
    if let Some(id) = doc.attribute(el, "ID") {
        let mut n = Node::field("ID", id);
        if id.starts_with(|c: char| c.is_ascii_digit()) {
            n = n.with_note("an xs:ID must not start with a digit");
            ex.findings.push(
                Finding::warning(format!(
                    "{local} ID `{id}` starts with a digit: not a valid xs:ID (Entra ID rejects it)"
                ))
                .at(at.clone()),
            );
        }
        root.push(n);
    }
    if let Some(ii) = doc.attribute(el, "IssueInstant") {
        root.push(ex.instant("IssueInstant", ii).0);
    }
    if let Some(d) = doc.attribute(el, "Destination") {
        root.push(Node::field("Destination", d).with_note("where the sender meant it to go"));
        match ex.destination.as_deref() {
            Some(actual) if strip_query(actual) != strip_query(d) => {
                ex.findings.push(
                    Finding::warning(format!(
                        "{local} Destination {d} differs from where it is sent ({actual})"
                    ))
                    .at(at.clone()),
                );
            }
            None => ex.destination = Some(d.to_string()),
            _ => {}
        }
    }
    if let Some(v) = doc.attribute(el, "InResponseTo") {
        root.push(Node::field("InResponseTo", v).with_note("the request ID this answers"));
    }
    let issuer = doc
        .find_child(el, SAML2_NS, "Issuer")
        .map(|i| doc.text_content(i).trim().to_string());
    if let Some(i) = &issuer {
        root.push(
            Node::field("Issuer", i.clone()).with_note(if i == MICROSOFT_ONLINE {
                "Entra ID as the service provider"
            } else {
                "who sent the message"
            }),
        );
    }
    let (sigs, short) = ex.signatures_of(el, &format!("the {local}"));
    let summary = match local {
        "Response" | "LogoutResponse" | "ArtifactResponse" => {
            response(ex, el, &mut root, local, issuer.as_deref(), short.clone())
        }
        "AuthnRequest" => authn_request(ex, el, &mut root, issuer.as_deref()),
        "LogoutRequest" => {
            for a in ["NotOnOrAfter", "Reason"] {
                if let Some(v) = doc.attribute(el, a) {
                    root.push(Node::field(a, v));
                }
            }
            if let Some(n) = doc.find_child(el, SAML2_NS, "NameID") {
                root.push(Node::field("NameID", doc.text_content(n).trim()));
            }
            for s in doc.find_children(el, SAMLP_NS, "SessionIndex") {
                root.push(Node::field("SessionIndex", doc.text_content(s).trim()));
            }
            format!(
                "SAML 2.0 LogoutRequest from {}",
                issuer.as_deref().unwrap_or("(no issuer)")
            )
        }
        other => format!("SAML 2.0 {other}"),
    };
    let summary = match (&short, local) {
        (_, "Response") => summary,
        (Some(s), _) => format!("{summary}, {s}"),
        (None, _) => summary,
    };
    root.children.extend(sigs);
    Ok(Explained {
        node: root,
        summary,
    })
}

fn authn_request(
    ex: &mut Explainer<'_, '_>,
    el: NodeId,
    root: &mut Node,
    issuer: Option<&str>,
) -> String {
    let doc = ex.doc;
    root.note = Some("a service provider asks the IdP to authenticate the user".into());
    if let Some(v) = doc.attribute(el, "AssertionConsumerServiceURL") {
        root.push(
            Node::field("AssertionConsumerServiceURL", v)
                .with_note("where the IdP must post the response (must be registered for the SP)"),
        );
    }
    if let Some(v) = doc.attribute(el, "AssertionConsumerServiceIndex") {
        root.push(Node::field("AssertionConsumerServiceIndex", v));
    }
    if let Some(v) = doc.attribute(el, "ProtocolBinding") {
        root.push(Node::field("ProtocolBinding", v).with_note(binding_note(v)));
    }
    for (a, note) in [
        (
            "ForceAuthn",
            "true: the IdP must authenticate again even with a session",
        ),
        ("IsPassive", "true: the IdP must not interact with the user"),
        ("ProviderName", "the SP's display name"),
        (
            "AttributeConsumingServiceIndex",
            "which attribute set the SP wants",
        ),
    ] {
        if let Some(v) = doc.attribute(el, a) {
            root.push(Node::field(a, v).with_note(note));
        }
    }
    if let Some(p) = doc.find_child(el, SAMLP_NS, "NameIDPolicy") {
        let mut n = Node::section("NameIDPolicy");
        if let Some(f) = doc.attribute(p, "Format") {
            n.push(Node::field("Format", f).with_note(name_id_format_note(f)));
        }
        if let Some(v) = doc.attribute(p, "AllowCreate") {
            n.push(Node::field("AllowCreate", v).with_note("may the IdP create a new identifier"));
        }
        if let Some(v) = doc.attribute(p, "SPNameQualifier") {
            n.push(Node::field("SPNameQualifier", v));
        }
        root.push(n);
    }
    if let Some(r) = doc.find_child(el, SAMLP_NS, "RequestedAuthnContext") {
        let mut n = Node::section("RequestedAuthnContext");
        n.value = Some(format!(
            "Comparison={}",
            doc.attribute(r, "Comparison").unwrap_or("exact (default)")
        ));
        for c in doc.find_children(r, SAML2_NS, "AuthnContextClassRef") {
            let v = doc.text_content(c).trim().to_string();
            n.push(Node::field("AuthnContextClassRef", v.clone()).with_note(auth_method_note(&v)));
        }
        root.push(n);
    }
    if let Some(s) = doc.find_child(el, SAMLP_NS, "Scoping") {
        root.push(Node::field("Scoping", doc.text_content(s).trim()));
    }
    let to = doc
        .attribute(el, "Destination")
        .and_then(util::url_host)
        .map(|h| format!(" to {h}"))
        .unwrap_or_default();
    format!(
        "SAML 2.0 AuthnRequest from {}{to}",
        issuer.unwrap_or("(no issuer)")
    )
}

fn response(
    ex: &mut Explainer<'_, '_>,
    el: NodeId,
    root: &mut Node,
    local: &str,
    issuer: Option<&str>,
    response_sig: Option<String>,
) -> String {
    let doc = ex.doc;
    let at = doc.path(el);
    let mut status_text = String::new();
    if let Some(st) = doc.find_child(el, SAMLP_NS, "Status") {
        let mut n = Node::section("Status");
        let mut code = doc.find_child(st, SAMLP_NS, "StatusCode");
        let mut codes = Vec::new();
        while let Some(c) = code {
            let v = doc.attribute(c, "Value").unwrap_or("");
            codes.push(v.to_string());
            n.push(Node::field("StatusCode", v).with_note(status_note(v)));
            code = doc.find_child(c, SAMLP_NS, "StatusCode");
            if codes.len() > 8 {
                break;
            }
        }
        if let Some(m) = doc.find_child(st, SAMLP_NS, "StatusMessage") {
            n.push(Node::field("StatusMessage", doc.text_content(m).trim()));
        }
        if let Some(d) = doc.find_child(st, SAMLP_NS, "StatusDetail") {
            n.push(Node::field("StatusDetail", doc.text_content(d).trim()));
        }
        let ok = codes.first().is_some_and(|c| c.ends_with(":Success"));
        if !ok {
            let short: Vec<&str> = codes
                .iter()
                .map(|c| c.rsplit(':').next().unwrap_or(c))
                .collect();
            status_text = format!(" status {}", short.join("/"));
            ex.findings.push(
                Finding::error(format!(
                    "{local} status {}: {}",
                    short.join("/"),
                    codes.last().map_or("", |c| status_note(c))
                ))
                .at(format!("{at}/samlp:Status")),
            );
        }
        root.push(n);
    }
    if local != "Response" {
        return format!(
            "SAML 2.0 {local} from {}{status_text}",
            issuer.unwrap_or("(no issuer)")
        );
    }
    let assertions: Vec<NodeId> = doc.find_children(el, SAML2_NS, "Assertion").collect();
    let encrypted: Vec<NodeId> = doc
        .find_children(el, SAML2_NS, "EncryptedAssertion")
        .collect();
    let mut summary = None;
    let mut assertion_signed = false;
    for (i, a) in assertions.iter().enumerate() {
        let signed = doc.find_child(*a, DSIG_NS, "Signature").is_some();
        assertion_signed |= i == 0 && signed;
        let e = explain_assertion(ex, *a);
        if i == 0 {
            ex.wrapping(*a);
            if !signed && response_sig.is_none() {
                ex.findings.push(
                    Finding::error(
                        "the assertion is not signed and neither is the Response: nothing \
                         protects the claims shown",
                    )
                    .at(doc.path(*a)),
                );
                ex.findings.retain(|f| {
                    !(f.severity == crate::Severity::Warning
                        && f.message.contains("carries no XML signature"))
                });
            }
            summary = Some(e.summary.clone());
        }
        root.push(e.node);
    }
    for e in &encrypted {
        let x = explain_encrypted(ex, *e);
        summary.get_or_insert(x.summary);
        root.push(x.node);
    }
    let level = match (response_sig.is_some(), assertion_signed) {
        (true, true) => "Response and Assertion",
        (true, false) => "Response only",
        (false, true) => "Assertion only",
        (false, false) => "neither",
    };
    if !assertions.is_empty() {
        root.push(
            Node::field("signed at", level)
                .with_note("SAML 2.0 lets the IdP sign the Response, the Assertion, or both"),
        );
    }
    let mut s = format!("SAML 2.0 Response from {}", issuer.unwrap_or("(no issuer)"));
    s.push_str(&status_text);
    if let Some(inner) = summary {
        let inner = inner
            .strip_prefix("SAML 2.0 for ")
            .map(|r| format!("for {r}"))
            .unwrap_or(inner);
        s.push_str(&format!(": {inner}"));
    }
    if let Some(rs) = response_sig {
        s.push_str(&format!(" (Response {rs})"));
    }
    s
}

/// The SAML 2.0 bindings decoder (`saml`): HTTP-Redirect and HTTP-POST messages, the IdP's
/// auto-POST page, `Location` redirects carrying `SAMLRequest`, and bare assertions, responses
/// and requests (XML, or base64 of XML).
#[derive(Debug, Clone, Copy)]
pub struct Saml;

const PARAMS: [&str; 2] = ["SAMLRequest", "SAMLResponse"];

fn redirect_url<'a>(msg: &Message<'a>) -> Option<&'a str> {
    let has = |u: &str| {
        util::url_query(u).is_some_and(|q| {
            q.split('&')
                .any(|p| p.starts_with("SAMLRequest=") || p.starts_with("SAMLResponse="))
        })
    };
    if msg.is_request() {
        msg.url.filter(|u| has(u))
    } else if msg.is_response() {
        msg.header("location").filter(|u| has(u))
    } else {
        None
    }
}

/// Cheap test for a blob that is base64 of XML mentioning SAML.
fn base64_saml_blob(body: &[u8]) -> bool {
    let t = body.trim_ascii();
    let head = t.get(..t.len().min(4096)).unwrap_or(t);
    let head = head.get(..head.len() / 4 * 4).unwrap_or(head);
    // `<` in base64 starts with P, and `<?` and `<s` with PD and PH: two bytes rule out almost
    // every body before any of it is validated (`priority` looks at every response).
    if !head.starts_with(b"PH") && !head.starts_with(b"PD") {
        return false;
    }
    let Ok(s) = std::str::from_utf8(head) else {
        return false;
    };
    if !util::is_base64ish(s.trim_end_matches('=')) {
        return false;
    }
    util::b64_decode_any(s, 4096).is_some_and(|x| mentions_saml(&x))
}

impl Decoder for Saml {
    fn id(&self) -> &'static str {
        "saml"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        if redirect_url(msg).is_some() {
            return 0.9;
        }
        let head = msg.body.get(..8192).unwrap_or(msg.body);
        if msg.is_request()
            && util::looks_like_form(head)
            && (contains(head, b"SAMLResponse=") || contains(head, b"SAMLRequest="))
        {
            return 0.9;
        }
        if msg.is_response()
            && (contains_ci(msg.body, b"name=\"SAMLResponse\"")
                || contains_ci(msg.body, b"name=\"SAMLRequest\"")
                || contains_ci(msg.body, b"name='SAMLResponse'"))
        {
            return 0.85;
        }
        let trimmed = head.trim_ascii_start();
        let trimmed = trimmed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(trimmed);
        if trimmed.starts_with(b"<") && mentions_saml(head) {
            if contains_ci(head, b"<html") || contains_ci(head, b"<form") {
                // A page (the WS-Fed auto-POST) that mentions SAML in an encoded input.
                return 0.0;
            }
            if contains(head, super::MD_NS.as_bytes()) {
                // Metadata names SAML namespaces but is not a SAML message.
                return 0.0;
            }
            if contains(head, super::WST_2005.as_bytes())
                || contains(head, super::WST_13.as_bytes())
            {
                // The wstrust decoder explains the whole message; this view shows the token.
                return 0.5;
            }
            return 0.8;
        }
        if base64_saml_blob(msg.body) {
            return 0.8;
        }
        0.0
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        if msg.body.len() > cx.limits.max_body {
            return Err(DecodeError::TooLarge {
                what: "SAML message body",
                limit: cx.limits.max_body,
            });
        }
        if let Some(url) = redirect_url(msg) {
            return decode_redirect(url, msg.is_response(), cx);
        }
        let head = msg.body.get(..8192).unwrap_or(msg.body);
        if msg.is_request() && util::looks_like_form(head) {
            let form = util::parse_form(msg.body);
            if form.iter().any(|(k, _)| PARAMS.contains(&k.as_str())) {
                return decode_post(&form, msg.url, "HTTP-POST binding", cx);
            }
        }
        let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
        let trimmed = text.trim_start();
        if msg.is_response() && !trimmed.starts_with("<?xml") && find_form(text).is_some() {
            let form = find_form(text).ok_or(DecodeError::Missing("form"))?;
            if form
                .inputs
                .iter()
                .any(|(k, _)| PARAMS.contains(&k.as_str()))
            {
                let mut d = decode_post(
                    &form.inputs,
                    form.action.as_deref(),
                    "auto-POST HTML page",
                    cx,
                )?;
                d.summary = format!(
                    "auto-POST page to {}: {}",
                    form.action
                        .as_deref()
                        .map_or("(no action)".into(), host_path),
                    d.summary
                );
                return Ok(d);
            }
        }
        if trimmed.starts_with('<') {
            return explain_saml_focused(trimmed, "saml", cx, msg.url);
        }
        let xml = decode_post_value(trimmed, "body", cx)?;
        let mut d = explain_saml_focused(xml.trim_start(), "saml", cx, msg.url)?;
        d.root = Node::section("base64")
            .with_note("the blob is base64 of the XML below")
            .with_child(d.root);
        Ok(d)
    }
}

/// `host/path` of a URL for summaries.
pub fn host_path(url: &str) -> String {
    match util::url_host(url) {
        Some(h) => format!("{h}{}", util::url_path(url)),
        None => url.to_string(),
    }
}

fn decode_post(
    pairs: &[(String, String)],
    url: Option<&str>,
    what: &str,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let mut root = Node::section(what).with_note(
        "SAML HTTP-POST binding: base64 of the XML (no deflate) in a form field; any signature is \
         inside the XML",
    );
    let mut inner = None;
    for (k, v) in pairs {
        match k.as_str() {
            "SAMLResponse" | "SAMLRequest" => {
                let field = if k == "SAMLResponse" {
                    "SAMLResponse"
                } else {
                    "SAMLRequest"
                };
                let xml = decode_post_value(v, field, cx)?;
                root.push(
                    Node::field(k.clone(), format!("{} chars of base64", v.len()))
                        .with_note(format!("decodes to {} bytes of XML", xml.len())),
                );
                inner = Some(xml);
            }
            "RelayState" => root.push(
                Node::field("RelayState", opaque_preview(v))
                    .with_note("opaque state the SP gets back unchanged"),
            ),
            _ => root.push(Node::field(k.clone(), opaque_preview(v))),
        }
    }
    let xml = inner.ok_or(DecodeError::Missing("SAMLResponse"))?;
    let mut d = explain_xml(xml.trim_start(), "saml", cx, url)?;
    root.push(d.root);
    d.root = root;
    if let Some(u) = url {
        d.summary = format!("{} (POST to {})", d.summary, host_path(u));
    }
    Ok(d)
}

/// One `name=value` pair of a query string, raw (as received) and decoded.
struct RawParam<'q> {
    name: String,
    raw: &'q str,
    value: String,
}

fn raw_params(query: &str) -> Vec<RawParam<'_>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                util::parse_form(format!("x={s}").as_bytes())
                    .into_iter()
                    .next()
                    .map(|(_, v)| v)
                    .unwrap_or_default()
            };
            RawParam {
                name: decode(n),
                raw: v,
                value: decode(v),
            }
        })
        .collect()
}

fn sig_params(uri: &str) -> Option<(&'static signature::RsaParameters, &'static str)> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => (
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            "rsa-sha1",
        ),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            (&signature::RSA_PKCS1_2048_8192_SHA256, "rsa-sha256")
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
            (&signature::RSA_PKCS1_2048_8192_SHA384, "rsa-sha384")
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            (&signature::RSA_PKCS1_2048_8192_SHA512, "rsa-sha512")
        }
        _ => return None,
    })
}

fn rsa_verifies(
    params: &'static signature::RsaParameters,
    cert: &x509::Certificate,
    msg: &[u8],
    sig: &[u8],
) -> bool {
    signature::UnparsedPublicKey::new(params, &cert.public_key_der)
        .verify(msg, sig)
        .is_ok()
}

/// Checks a redirect-binding signature over the exact octets
/// `SAMLRequest=…&RelayState=…&SigAlg=…` as received. Returns the view node, the finding and a
/// short verdict for the summary.
fn query_signature(
    params: &[RawParam<'_>],
    which: &RawParam<'_>,
    cx: &Context<'_>,
) -> Option<(Node, Finding, String)> {
    let sig_alg = params.iter().find(|p| p.name == "SigAlg");
    let sig = params.iter().find(|p| p.name == "Signature");
    let (sig_alg, sig) = match (sig_alg, sig) {
        (None, None) => return None,
        (Some(a), Some(s)) => (a, s),
        _ => {
            let n = Node::leaf(
                "query signature",
                "SigAlg or Signature missing",
                Kind::Error,
            );
            let f = Finding::error(
                "the redirect binding has only one of SigAlg and Signature: the signature cannot \
                 be checked",
            );
            return Some((n, f, "signature incomplete".into()));
        }
    };
    let mut octets = format!("{}={}", which.name, which.raw);
    if let Some(r) = params.iter().find(|p| p.name == "RelayState") {
        octets.push_str(&format!("&RelayState={}", r.raw));
    }
    octets.push_str(&format!("&SigAlg={}", sig_alg.raw));
    let mut node = Node::section("query signature").with_note(
        "HTTP-Redirect binding: the signature covers the URL-encoded query octets \
         SAMLRequest/SAMLResponse, RelayState, SigAlg, exactly as received; the XML carries none",
    );
    node.push(Node::field("signed octets", util::ellipsize(&octets, 200)));
    let Some((rsa, name)) = sig_params(&sig_alg.value) else {
        node.push(Node::leaf(
            "verdict",
            format!("not checked: SigAlg {} is not supported", sig_alg.value),
            Kind::Error,
        ));
        let f = Finding::error(format!(
            "redirect-binding signature not checked: SigAlg {} is not supported",
            sig_alg.value
        ));
        return Some((node, f, "signature not checked".into()));
    };
    node.push(Node::field("SigAlg", name));
    let Some(sig_bytes) = util::b64_decode_any(&compact_base64(&sig.value), 4096) else {
        node.push(Node::leaf(
            "verdict",
            "Signature is not valid base64",
            Kind::Error,
        ));
        let f = Finding::error("redirect-binding Signature is not valid base64");
        return Some((node, f, "signature malformed".into()));
    };
    node.push(Node::secret("Signature", compact_base64(&sig.value)));
    if cx.trust.certs.is_empty() {
        node.push(Node::leaf(
            "verdict",
            "not verified: no trusted certificate",
            Kind::Error,
        ));
        let f = Finding::warning(
            "redirect-binding signature not verified: no trusted certificate (pin one with \
             --trust-cert FILE or capture the FederationMetadata)",
        );
        return Some((
            node,
            f,
            "signature not verified (no trusted certificate)".into(),
        ));
    }
    let mut tried = Vec::new();
    for c in &cx.trust.certs {
        let cert = x509::Certificate::parse(&c.der).ok();
        let label = cert
            .as_ref()
            .map_or("(unparsable certificate)".into(), x509::Certificate::label);
        if let Some(cert) = cert
            && rsa_verifies(rsa, &cert, octets.as_bytes(), &sig_bytes)
        {
            let subject = cert.subject;
            let text = format!("verified with certificate {label} from {}", c.source);
            node.push(Node::field("verdict", text.clone()));
            return Some((
                node,
                Finding::info(format!("redirect-binding signature {text}")),
                format!("query signature verified with {subject} ({})", c.source),
            ));
        }
        tried.push(format!("certificate {label} from {}", c.source));
    }
    let text = format!(
        "INVALID: the signature does not verify with {}",
        tried.join(" or ")
    );
    node.push(Node::leaf("verdict", text.clone(), Kind::Error));
    Some((
        node,
        Finding::error(format!("redirect-binding signature {text}")),
        "query signature INVALID".into(),
    ))
}

fn decode_redirect(
    url: &str,
    from_location: bool,
    cx: &Context<'_>,
) -> Result<Decoded, DecodeError> {
    let query = util::url_query(url).unwrap_or("");
    let params = raw_params(query);
    let which = params
        .iter()
        .find(|p| PARAMS.contains(&p.name.as_str()))
        .ok_or(DecodeError::Missing("SAMLRequest"))?;
    let field = if which.name == "SAMLRequest" {
        "SAMLRequest"
    } else {
        "SAMLResponse"
    };
    let (xml, compression) = inflate_redirect(&which.value, field, &cx.limits)?;
    let xml = String::from_utf8(xml).map_err(|_| DecodeError::Utf8 { field })?;
    let mut root = Node::section("HTTP-Redirect binding").with_note(if from_location {
        "SAML HTTP-Redirect binding in a Location header: the browser is sent on with this query"
    } else {
        "SAML HTTP-Redirect binding: the message is deflated, base64-encoded and URL-encoded in \
         the query"
    });
    root.push(Node::field("endpoint", host_path(url)));
    root.push(
        Node::field(field, format!("{} chars", which.raw.len())).with_note(format!(
            "{}; {} bytes of XML",
            compression.describe(),
            xml.len()
        )),
    );
    let mut findings = Vec::new();
    if compression != Compression::RawDeflate {
        findings.push(Finding::warning(format!(
            "{field} is {}",
            compression.describe()
        )));
    }
    for p in &params {
        match p.name.as_str() {
            "RelayState" => {
                let mut n = Node::field("RelayState", opaque_preview(&p.value))
                    .with_note("opaque state the requester gets back unchanged");
                if p.value.len() > 80 {
                    n = n.with_note("opaque state; longer than the 80 bytes the binding allows");
                    findings.push(Finding::warning(format!(
                        "RelayState is {} bytes; the binding allows at most 80",
                        p.value.len()
                    )));
                }
                root.push(n);
            }
            "SigAlg" | "Signature" | "SAMLRequest" | "SAMLResponse" => {}
            other => root.push(Node::field(other.to_string(), opaque_preview(&p.value))),
        }
    }
    let sig = query_signature(&params, which, cx);
    let mut d = explain_xml(xml.trim_start(), "saml", cx, Some(url))?;
    let inner_summary = d.summary.clone();
    let short = match sig {
        Some((n, f, short)) => {
            root.push(n);
            findings.push(f);
            short
        }
        None => {
            if which.name == "SAMLRequest" {
                root.push(Node::text("query signature", "none (unsigned request)"));
            }
            "unsigned".to_string()
        }
    };
    root.push(d.root);
    d.root = root;
    findings.append(&mut d.findings);
    d.findings = findings;
    d.summary = format!("{inner_summary} (HTTP-Redirect, {short})");
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Registry, Trust};
    use std::io::Write as _;
    use std::time::{Duration, UNIX_EPOCH};

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn deflate_bomb_is_capped_with_too_large() {
        let bomb = deflate(&vec![b'<'; 4 << 20]);
        assert!(bomb.len() < 16 << 10);
        let limits = Limits {
            max_inflate: 1 << 20,
            ..Limits::default()
        };
        let err = inflate_redirect(&util::b64_std(&bomb), "SAMLRequest", &limits).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "inflated SAML message",
                limit: 1 << 20
            }
        );
    }

    #[test]
    fn bad_base64_names_the_parameter() {
        let err = inflate_redirect("not*base64!", "SAMLRequest", &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Base64 {
                field: "SAMLRequest"
            }
        );
        assert_eq!(err.to_string(), "field `SAMLRequest` is not valid base64");
    }

    #[test]
    fn redirect_inflate_falls_back_to_zlib_and_plain() {
        let xml = b"<samlp:AuthnRequest/>";
        let (out, c) =
            inflate_redirect(&util::b64_std(&deflate(xml)), "x", &Limits::default()).unwrap();
        assert_eq!((out.as_slice(), c), (&xml[..], Compression::RawDeflate));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(xml).unwrap();
        let (out, c) = inflate_redirect(
            &util::b64_std(&z.finish().unwrap()),
            "x",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!((out.as_slice(), c), (&xml[..], Compression::Zlib));
        let (out, c) = inflate_redirect(&util::b64_std(xml), "x", &Limits::default()).unwrap();
        assert_eq!((out.as_slice(), c), (&xml[..], Compression::None));
        // Spaces that were `+` before a second URL decoding are repaired.
        let b64 = util::b64_std(&deflate(b"<a>>>>>>>>>>>>>>>>>>>>>>>>>>>?</a>"));
        assert!(inflate_redirect(&b64.replace('+', " "), "x", &Limits::default()).is_ok());
    }

    #[test]
    fn post_binding_with_bad_base64_is_an_exact_error() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let msg = Message::request(
            "POST",
            "https://login.microsoftonline.com/login.srf",
            vec![("content-type", "application/x-www-form-urlencoded")],
            b"SAMLResponse=%%%%&RelayState=x",
        );
        assert_eq!(
            Saml.decode(&msg, &cx).unwrap_err(),
            DecodeError::Base64 {
                field: "SAMLResponse"
            }
        );
    }

    #[test]
    fn bare_assertion_blob_is_decoded_through_the_registry() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
        let xml = br#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a" Version="2.0" IssueInstant="2023-11-14T22:00:00Z"><saml:Issuer>https://idp/</saml:Issuer><saml:Subject><saml:NameID>lHh/rEL830q6/mStDnD4uw==</saml:NameID></saml:Subject></saml:Assertion>"#;
        let d = cx.decode_nested(xml).unwrap();
        assert_eq!(d.decoder, "saml");
        assert!(d.summary.contains("ac7f7894-"), "{}", d.summary);
        let b64 = util::b64_std(xml);
        let d = Registry::builtin()
            .best(&Message::blob(b64.as_bytes()), &cx)
            .unwrap();
        assert_eq!(d.decoder, "saml");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        for body in [
            &b"<"[..],
            b"<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>",
            b"<!DOCTYPE x [<!ENTITY e \"x\">]><saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"/>",
            b"PHNhbWw=",
            b"\xff\xfe<",
        ] {
            let _ = Saml.decode(&Message::blob(body), &cx);
        }
        for url in [
            "https://x/?SAMLRequest=",
            "https://x/?SAMLRequest=%ZZ&SigAlg=&Signature=",
            "https://x/?SAMLRequest=fZA&Signature=abc",
        ] {
            let _ = Saml.decode(&Message::request("GET", url, vec![], b""), &cx);
        }
    }
}
