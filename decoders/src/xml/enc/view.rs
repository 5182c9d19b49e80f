//! How an `EncryptedData` and the attempts to open it are shown: algorithms with what they mean,
//! each `EncryptedKey` with its recipient and key references, the cipher values as secrets, and
//! one line per key the user gave.

use std::time::SystemTime;

use super::{
    Attempt, Cipher, Decryption, EncryptedData, EncryptedKey, Found, KeyTransport, Outcome,
    XENC_NS, compact,
};
use crate::view::{Kind, Node};
use crate::xml::DSIG_NS;
use crate::xml::tree::{Document, NodeId};
use crate::{util, x509};

/// How a `KeyInfo` certificate is shown: the subject and the lower-case SHA-1 thumbprint.
const RECIPIENT_CERT: x509::Style = x509::Style {
    head: x509::Head::Field,
    rows: &[x509::Row::Sha1 {
        label: "thumbprint (SHA-1)",
        case: x509::Case::Lower,
        note: x509::HashNote::None,
    }],
};

/// What an `EncryptionMethod` URI means, for notes.
pub fn algorithm_note(uri: &str) -> &'static str {
    match uri {
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => "AES-128-CBC (content)",
        "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => "AES-192-CBC (content)",
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => "AES-256-CBC (content)",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm" => "AES-128-GCM (content)",
        "http://www.w3.org/2009/xmlenc11#aes192-gcm" => "AES-192-GCM (content)",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm" => "AES-256-GCM (content)",
        "http://www.w3.org/2001/04/xmlenc#tripledes-cbc" => {
            "Triple-DES-CBC (content; legacy, 64-bit blocks)"
        }
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" => {
            "RSA-OAEP with SHA-1 MGF (key transport)"
        }
        "http://www.w3.org/2009/xmlenc11#rsa-oaep" => "RSA-OAEP (key transport)",
        "http://www.w3.org/2001/04/xmlenc#rsa-1_5" => {
            "RSA PKCS#1 v1.5 key transport (vulnerable to padding-oracle attacks)"
        }
        "http://www.w3.org/2001/04/xmlenc#kw-aes128" => "AES-128 key wrap (symmetric key)",
        "http://www.w3.org/2001/04/xmlenc#kw-aes192" => "AES-192 key wrap (symmetric key)",
        "http://www.w3.org/2001/04/xmlenc#kw-aes256" => "AES-256 key wrap (symmetric key)",
        _ => "not a well-known algorithm",
    }
}

impl EncryptedData {
    /// The rows shown for this `EncryptedData` under its holder's section: `Type`, the content
    /// algorithm, each `EncryptedKey`, the `KeyInfo` references and the `CipherValue` (secret).
    pub fn to_nodes(&self, doc: &Document<'_>, now: SystemTime) -> Vec<Node> {
        let mut out = Vec::new();
        if let Some(t) = &self.type_uri {
            out.push(Node::field("Type", t.clone()));
        }
        if let Some(m) = &self.method_uri {
            out.push(Node::field("EncryptionMethod", m.clone()).with_note(algorithm_note(m)));
        }
        for (i, k) in self.keys.iter().enumerate() {
            out.push(k.to_node(doc, i + 1, self.keys.len(), now));
        }
        if let Some(ki) = doc.find_child(self.element, DSIG_NS, "KeyInfo") {
            out.extend(key_info_nodes(doc, ki, now).into_iter().filter(|c| {
                // Inline EncryptedKeys are shown above; references stay.
                c.label != "EncryptedKey"
            }));
        }
        match &self.cipher {
            Cipher::Value(b) => {
                let cv = doc
                    .find_child(self.element, XENC_NS, "CipherData")
                    .and_then(|c| doc.find_child(c, XENC_NS, "CipherValue"))
                    .map(|c| compact(&doc.text_content(c)))
                    .unwrap_or_default();
                out.push(Node::secret("CipherValue", cv).with_note(format!(
                    "{} bytes of ciphertext (IV + encrypted XML)",
                    b.len()
                )));
            }
            Cipher::Reference(uri) => out.push(
                Node::field("CipherReference", uri.clone())
                    .with_note("the ciphertext is elsewhere (never fetched)"),
            ),
            Cipher::Missing => out.push(Node::leaf("CipherValue", "missing", Kind::Error)),
            Cipher::NotBase64 => {
                out.push(Node::leaf("CipherValue", "not base64", Kind::Error));
            }
            Cipher::Redacted => {
                let cv = doc
                    .find_child(self.element, XENC_NS, "CipherData")
                    .and_then(|c| doc.find_child(c, XENC_NS, "CipherValue"))
                    .map(|c| compact(&doc.text_content(c)))
                    .unwrap_or_default();
                out.extend(crate::secrets::redacted_node("CipherValue", &cv));
            }
        }
        for p in &self.problems {
            out.push(Node::leaf("problem", p.clone(), Kind::Error));
        }
        out
    }
}

impl EncryptedKey {
    fn to_node(&self, doc: &Document<'_>, n: usize, of: usize, now: SystemTime) -> Node {
        let label = if of > 1 {
            format!("EncryptedKey {n}")
        } else {
            "EncryptedKey".to_string()
        };
        let mut kn = Node::section(label).with_note(match &self.found {
            Found::Inline => "the content key, wrapped for the RP".to_string(),
            Found::Sibling => {
                "the content key, wrapped for the RP (beside the EncryptedData)".to_string()
            }
            Found::Retrieved(uri) => {
                format!("the content key, wrapped for the RP (RetrievalMethod {uri})")
            }
            Found::ByKeyName(name) => {
                format!("the content key, wrapped for the RP (KeyName {name})")
            }
        });
        if let Some(r) = &self.recipient {
            kn.push(Node::field("Recipient", r.clone()).with_note("who the key was wrapped for"));
        }
        if let Some(a) = &self.method_uri {
            kn.push(Node::field("EncryptionMethod", a.clone()).with_note(algorithm_note(a)));
        }
        if let Some(m) = doc.find_child(self.element, XENC_NS, "EncryptionMethod") {
            if let Some(d) = doc
                .find_child(m, DSIG_NS, "DigestMethod")
                .and_then(|d| doc.attribute(d, "Algorithm"))
            {
                kn.push(Node::field("DigestMethod", d));
            }
            if let Some(g) = doc
                .find_child(m, super::XENC11_NS, "MGF")
                .and_then(|g| doc.attribute(g, "Algorithm"))
            {
                kn.push(Node::field("MGF", g));
            }
        }
        if let Some(KeyTransport::Other(why)) = &self.method
            && self.method_uri.as_deref() != Some(why.as_str())
        {
            kn.push(Node::leaf("unsupported", why.clone(), Kind::Error));
        }
        if let Some(c) = &self.carried_key_name {
            kn.push(Node::field("CarriedKeyName", c.clone()));
        }
        if let Some(ki) = doc.find_child(self.element, DSIG_NS, "KeyInfo") {
            kn.children.extend(key_info_nodes(doc, ki, now));
        }
        if let Some(cv) = doc.find_descendant(self.element, XENC_NS, "CipherValue") {
            kn.push(Node::secret("CipherValue", compact(&doc.text_content(cv))));
        }
        kn
    }
}

fn key_info_nodes(doc: &Document<'_>, ki: NodeId, now: SystemTime) -> Vec<Node> {
    let mut out = Vec::new();
    for k in doc.find_children(ki, DSIG_NS, "KeyName").take(4) {
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
                cert.node("X509Certificate", &RECIPIENT_CERT, now)
                    .with_note("the RP certificate the key was wrapped for"),
            ),
            None => out.push(Node::leaf("X509Certificate", "unparsable", Kind::Error)),
        }
    }
    for c in doc
        .find_descendants(ki, DSIG_NS, "X509IssuerSerial")
        .filter(own)
        .take(4)
    {
        let part = |name: &str| {
            doc.find_child(c, DSIG_NS, name)
                .map(|n| doc.text_content(n).trim().to_string())
                .unwrap_or_default()
        };
        out.push(
            Node::field(
                "X509IssuerSerial",
                format!(
                    "{}, serial {}",
                    part("X509IssuerName"),
                    part("X509SerialNumber")
                ),
            )
            .with_note("the RP certificate the key was wrapped for, by issuer and serial number"),
        );
    }
    if doc.find_child(ki, XENC_NS, "EncryptedKey").is_some() {
        out.push(Node::section("EncryptedKey"));
    }
    for r in doc.find_children(ki, DSIG_NS, "RetrievalMethod").take(4) {
        out.push(
            Node::field("RetrievalMethod", doc.attribute(r, "URI").unwrap_or("")).with_note(
                "a reference to the key elsewhere (only same-document references are followed)",
            ),
        );
    }
    out
}

impl Decryption {
    /// The `decryption keys` section: one line per key tried; `None` when no key was given.
    pub fn keys_node(&self) -> Option<Node> {
        if self.attempts.is_empty() {
            return None;
        }
        let mut n = Node::section("decryption keys");
        n.value = Some(match &self.opened {
            Some(o) => format!("opened with {}", o.source),
            None => "no key opens it".to_string(),
        });
        for a in &self.attempts {
            n.push(a.to_node());
        }
        Some(n)
    }
}

impl Attempt {
    fn to_node(&self) -> Node {
        let (value, kind) = match &self.outcome {
            Outcome::Opened(how) => (format!("opens it: {how}"), Kind::Field),
            Outcome::DoesNotDecrypt => (
                "does not decrypt it (a wrong key, or a damaged ciphertext)".to_string(),
                Kind::Error,
            ),
            Outcome::DoesNotFit(why) => (format!("does not fit: {why}"), Kind::Error),
            Outcome::Refused(why) => (format!("decrypts it, but {why}"), Kind::Error),
            Outcome::NotTried(why) => (format!("not tried: {why}"), Kind::Error),
            Outcome::Redacted => (
                format!(
                    "not tried: the ciphertext was {}",
                    crate::secrets::REDACTED_NOTE
                ),
                Kind::Field,
            ),
        };
        Node::leaf(self.source.clone(), value, kind)
    }
}
