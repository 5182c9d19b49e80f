//! The XML foundation shared by the SOAP, SAML and WS-* decoders: a bounded tree with resolved
//! namespaces and byte offsets ([`tree`]), exclusive and inclusive canonicalization ([`c14n`]),
//! XML-DSig verification with signature-wrapping findings ([`dsig`]), and XML Encryption opened
//! with the user's keys ([`enc`]). [`tree`] is the one place this crate reads XML: documents that
//! are only shown (the generic XML view, the realm decoder's `xml=1` answer) are read with its
//! lenient mode ([`Document::parse_lenient`]) and rendered with [`display`].
//!
//! Two rules hold for every XML document this crate reads (see [`tree`]):
//! * a DOCTYPE is refused, so no DTD is ever processed;
//! * entities are never resolved beyond the five predefined ones and character references
//!   (quick-xml expands nothing unless given a resolver, and it is never given one).
//!
//! This module does not decide what a message means (that is the protocol decoders' job) and
//! never touches the network or the clock.

pub mod c14n;
pub mod display;
pub mod dsig;
pub mod enc;
pub mod hash;
pub mod tree;

pub use hash::Hash;

pub use tree::{
    Attribute, Document, NodeId, NodeKind, doctype_declaration, doctype_finding, is_doctype_refusal,
};

/// The character a reference `&name;` stands for under the looser rule shared by [`crate::html`]
/// and lenient XML documents ([`Document::parse_lenient`]): the five predefined entities (`lt gt
/// amp quot apos`) and character references (`#65`, `#x41`, `#X41`), NUL excluded. `None` for
/// anything else, which those readers keep as written. ([`Document::parse`] is stricter: it
/// accepts only what XML allows and fails on the rest.)
pub fn reference_char(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code).filter(|c| *c != '\0')
        }
    }
}

/// `http://www.w3.org/2000/09/xmldsig#`
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// SAML 1.x assertion namespace, `urn:oasis:names:tc:SAML:1.0:assertion`.
pub const SAML1_NS: &str = "urn:oasis:names:tc:SAML:1.0:assertion";
/// SAML 2.0 assertion namespace, `urn:oasis:names:tc:SAML:2.0:assertion`.
pub const SAML2_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace, `urn:oasis:names:tc:SAML:2.0:protocol`.
pub const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
