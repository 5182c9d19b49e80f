//! Encrypted SAML 2.0 content (`EncryptedAssertion`, `EncryptedID`, `EncryptedAttribute`): the
//! algorithms, key references and recipient certificates are shown; nothing is decrypted (there
//! is no key).
//!
//! Not responsible for the plaintext assertion (see [`super::assertion`]).

use crate::saml::{Explained, Explainer, XENC_NS};
use crate::view::{Finding, Kind, Node};
use crate::xml::{DSIG_NS, NodeId};
use crate::{util, x509};

/// An `xenc:EncryptedData` holder (EncryptedAssertion, EncryptedID, EncryptedAttribute): its
/// algorithms and key references, and the cipher values as secrets. Never decrypted.
pub(super) fn encrypted_node(ex: &mut Explainer<'_, '_>, el: NodeId, label: &str) -> Node {
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
