//! A bounded, read-only XML tree built on `quick-xml` events: an arena of nodes (elements with
//! resolved namespaces, attributes, text, CDATA, comments, processing instructions) that keeps the
//! byte range of every node in the source, so callers can show offsets and cut an element out
//! byte-exactly (a signed assertion must be forwarded as it was received, never re-serialised).
//!
//! Two rules hold for every document, whatever the caller:
//!
//! * **A DOCTYPE is refused.** Any `<!DOCTYPE …>` makes [`Document::parse`] fail with
//!   [`DecodeError::Xml`]; no DTD, internal subset or external identifier is ever read.
//!   [`doctype_finding`] turns that error into a [`Finding`] for decoders that want to show the
//!   refusal instead of failing, and [`doctype_declaration`] gives its text for display.
//! * **Entities are never resolved** beyond the five predefined ones (`&lt; &gt; &amp; &apos;
//!   &quot;`) and character references. Any other `&name;` is an error. quick-xml would expand
//!   entities only if given a resolver; this module never gives it one and unescapes by itself.
//!
//! Documents that are only shown (the generic XML view, the realm decoder's XML answer) are read
//! with [`Document::parse_lenient`]: the same two rules and the same limits, but an unbound
//! namespace prefix is not an error ([`Document::has_unbound_prefix`]), an unknown reference is
//! kept as written and listed ([`Document::unresolved_entities`]) instead of failing, and
//! attribute values are kept as written; the method lists every difference.
//!
//! Work is bounded by [`Limits`]: input size ([`Limits::max_body`]), nesting depth
//! ([`Limits::max_depth`]) and node count ([`Limits::max_nodes`], where attributes and namespace
//! declarations count as nodes too). Limits give [`DecodeError::TooLarge`]; malformed input gives
//! [`DecodeError::Xml`] with the byte offset.
//!
//! Not responsible for: canonicalization ([`super::c14n`]), signatures ([`super::dsig`]),
//! encodings other than UTF-8 (the caller decodes to `&str` first), or schema validation.
//!
//! Strings are kept as ranges into the source where the source spelling is the value; only
//! values that need unescaping or line-ending normalisation are copied, into one shared buffer.

use std::ops::Range;

use crate::view::Finding;
use crate::{DecodeError, Limits};

mod parse;
mod query;

pub use parse::doctype_declaration;
pub use query::{Children, Descendants};

/// The namespace bound to the `xml` prefix by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The WS-Security utility namespace of `wsu:Id`.
pub const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";

/// Unqualified attribute names treated as element IDs for signature references: `ID` (SAML 2.0),
/// `AssertionID` (SAML 1.1), `Id` (XML-DSig, WS-*). `wsu:Id` and `xml:id` are matched by
/// namespace in addition.
pub const ID_ATTRIBUTES: &[&str] = &["ID", "AssertionID", "Id"];

const DOCTYPE_MESSAGE: &str =
    "DOCTYPE declaration refused: DTDs and entity declarations are never processed";

/// The namespace index of a name whose prefix is unbound (lenient documents only). It is not an
/// index into the namespace table, so such a name reads as being in no namespace; `u32::MAX` is
/// taken by the parser's duplicate check for declarations.
const UNBOUND: u32 = u32::MAX - 1;

/// The index of a node in a [`Document`]. Only meaningful for the document it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// The position of the node in document order (0 is the first node).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What kind of node a [`NodeId`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// An element.
    Element,
    /// Character data (entity and character references already resolved).
    Text,
    /// A `<![CDATA[…]]>` section.
    CData,
    /// A comment.
    Comment,
    /// A processing instruction (`<?target data?>`); the XML declaration is not kept.
    ProcessingInstruction,
}

/// A string stored either in the source (`owned == false`) or in the document's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    owned: bool,
}

#[derive(Debug, Clone)]
struct ElementData {
    /// The qualified name as written, in the source.
    qname: Span,
    /// Length of the prefix (0 when unprefixed).
    prefix_len: u32,
    /// Namespace index (0 = no namespace).
    ns: u32,
    attrs: Range<u32>,
    decls: Range<u32>,
}

#[derive(Debug, Clone)]
enum Payload {
    Element(ElementData),
    Text(Span),
    CData(Span),
    Comment(Span),
    Pi { target: Span, data: Span },
}

/// One node of the arena: its links, its byte range in the source and its payload.
#[derive(Debug, Clone)]
pub struct NodeData {
    parent: Option<NodeId>,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    next_sibling: Option<NodeId>,
    range: Range<u32>,
    payload: Payload,
}

impl NodeData {
    /// What kind of node this is.
    pub fn kind(&self) -> NodeKind {
        match self.payload {
            Payload::Element(_) => NodeKind::Element,
            Payload::Text(_) => NodeKind::Text,
            Payload::CData(_) => NodeKind::CData,
            Payload::Comment(_) => NodeKind::Comment,
            Payload::Pi { .. } => NodeKind::ProcessingInstruction,
        }
    }

    /// The byte range of the node in the source (for an element: from `<` of the start tag to
    /// `>` of the end tag, inclusive).
    pub fn range(&self) -> Range<usize> {
        self.range.start as usize..self.range.end as usize
    }
}

#[derive(Debug, Clone)]
struct AttrData {
    qname: Span,
    prefix_len: u32,
    ns: u32,
    value: Span,
    raw_value: Span,
}

#[derive(Debug, Clone)]
struct NsDecl {
    /// Empty for the default namespace.
    prefix: Span,
    /// Namespace index; 0 means `xmlns=""` (undeclaring the default namespace).
    uri: u32,
}

/// One attribute of an element, with its namespace resolved (an unprefixed attribute is in no
/// namespace). Namespace declarations (`xmlns`, `xmlns:p`) are not attributes here; see
/// [`Document::namespace_declarations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute<'d> {
    /// The name as written (`"wsu:Id"`).
    pub qname: &'d str,
    /// The prefix, if any (`"wsu"`).
    pub prefix: Option<&'d str>,
    /// The local name (`"Id"`).
    pub local: &'d str,
    /// The namespace URI, or `""` for no namespace (or an unbound prefix in a lenient document).
    pub namespace: &'d str,
    /// The value with references resolved and whitespace normalised as XML requires (in a
    /// lenient document: references resolved, whitespace as written).
    pub value: &'d str,
    /// The value exactly as written between the quotes.
    pub raw_value: &'d str,
}

/// A parsed XML document: an arena of nodes over the source text.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    src: &'a str,
    buf: String,
    nodes: Vec<NodeData>,
    attrs: Vec<AttrData>,
    decls: Vec<NsDecl>,
    namespaces: Vec<Box<str>>,
    root: Option<NodeId>,
    /// The content of the XML declaration (`version="1.0"`), in the source.
    decl: Option<Span>,
    /// References kept as written by [`Document::parse_lenient`], in order of first use.
    unresolved: Vec<Box<str>>,
}

/// True when `err` is the refusal of a DOCTYPE by [`Document::parse`].
pub fn is_doctype_refusal(err: &DecodeError) -> bool {
    matches!(err, DecodeError::Xml { message, .. } if message.starts_with(DOCTYPE_MESSAGE))
}

/// Turns the DOCTYPE refusal of [`Document::parse`] into an error [`Finding`] (a DOCTYPE in
/// identity traffic is an XXE or entity-expansion attempt, or a very odd client); `None` for any
/// other error.
pub fn doctype_finding(err: &DecodeError) -> Option<Finding> {
    match err {
        DecodeError::Xml { offset, message } if message.starts_with(DOCTYPE_MESSAGE) => {
            Some(Finding::error(format!(
                "XML document carries a DOCTYPE at byte {offset}; it was refused and not \
                 decoded (DTDs and entities are never processed: possible XXE or entity \
                 expansion attempt)"
            )))
        }
        _ => None,
    }
}

fn split_qname(q: &str) -> (Option<&str>, &str) {
    match q.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, q),
    }
}

impl<'a> Document<'a> {
    fn span_str(&self, s: Span) -> &str {
        let r = s.start as usize..s.end as usize;
        if s.owned {
            self.buf.get(r).unwrap_or("")
        } else {
            self.src.get(r).unwrap_or("")
        }
    }

    /// What two attributes in one namespace are told apart by: the local name, or with
    /// `as_written` (lenient documents) the whole name as written.
    fn attr_name_key(&self, a: &AttrData, as_written: bool) -> &str {
        let q = self.span_str(a.qname);
        if as_written { q } else { split_qname(q).1 }
    }

    fn element_data(&self, id: NodeId) -> Option<&ElementData> {
        match &self.nodes.get(id.index())?.payload {
            Payload::Element(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Document<'_>, DecodeError> {
        Document::parse(s, &Limits::default())
    }

    const SAML: &str = r#"<?xml version="1.0"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r">
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a" Version="2.0">
    <saml:Subject><saml:NameID>alice&amp;bob &#x41;<!--c-->tail</saml:NameID></saml:Subject>
    <x xmlns="urn:d" wsu:Id="w1" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><y a="1&#9;2
3"/><![CDATA[<raw>]]></x>
  </saml:Assertion>
</samlp:Response>"#;

    #[test]
    fn namespaces_attributes_and_text_are_resolved() {
        let doc = parse(SAML).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(doc.local_name(root), "Response");
        assert_eq!(doc.prefix(root), Some("samlp"));
        let a = doc
            .find_child(root, "urn:oasis:names:tc:SAML:2.0:assertion", "Assertion")
            .unwrap();
        assert_eq!(doc.attribute(a, "ID"), Some("_a"));
        let nameid = doc
            .find_descendant(a, "urn:oasis:names:tc:SAML:2.0:assertion", "NameID")
            .unwrap();
        assert_eq!(doc.text_content(nameid), "alice&bob Atail");
        assert_eq!(doc.children(nameid).count(), 3);
        let x = doc.find_descendant(a, "urn:d", "x").unwrap();
        assert_eq!(doc.id_attribute(x), Some("w1"));
        assert_eq!(doc.attribute_ns(x, WSU_NS, "Id"), Some("w1"));
        let y = doc.find_child(x, "urn:d", "y").unwrap();
        // Unprefixed attributes are in no namespace; literal whitespace becomes a space, a
        // character reference stays a tab.
        let attr = doc.attributes(y).next().unwrap();
        assert_eq!(
            (attr.namespace, attr.value, attr.raw_value),
            ("", "1\t2 3", "1&#9;2\n3")
        );
        assert_eq!(doc.text_content(x), "<raw>");
        assert_eq!(doc.path(y), "samlp:Response/saml:Assertion/x/y");
        assert_eq!(
            doc.lookup_namespace(y, "saml"),
            Some("urn:oasis:names:tc:SAML:2.0:assertion")
        );
    }

    #[test]
    fn element_range_is_byte_exact() {
        let doc = parse(SAML).unwrap();
        let a = doc.element_by_id("_a").unwrap();
        let raw = doc.raw(a);
        assert!(raw.starts_with("<saml:Assertion "));
        assert!(raw.ends_with("</saml:Assertion>"));
        assert_eq!(&SAML[doc.range(a)], raw);
        let empty = doc.find_descendant(a, "urn:d", "y").unwrap();
        assert_eq!(doc.raw(empty), "<y a=\"1&#9;2\n3\"/>");
    }

    #[test]
    fn doctype_is_refused_and_can_become_a_finding() {
        let err = parse("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>").unwrap_err();
        assert!(is_doctype_refusal(&err), "{err}");
        assert!(err.to_string().contains("DOCTYPE"));
        let f = doctype_finding(&err).unwrap();
        assert_eq!(f.severity, crate::Severity::Error);
        assert!(doctype_finding(&parse("<a>").unwrap_err()).is_none());
    }

    #[test]
    fn unknown_entities_are_never_resolved() {
        let err = parse("<r>&ext;</r>").unwrap_err();
        assert!(err.to_string().contains("&ext;"), "{err}");
        assert!(parse("<r a='&ext;'/>").is_err());
        assert!(parse("<r>&#0;</r>").is_err());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("<a><b><c><d/></c></b></a>", &limits),
            Err(DecodeError::TooLarge {
                what: "XML nesting depth",
                ..
            })
        ));
        let limits = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("<a><b/><b/><b/><b/><b/></a>", &limits),
            Err(DecodeError::TooLarge {
                what: "XML node count",
                ..
            })
        ));
        let limits = Limits {
            max_body: 4,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse("<abc/>", &limits),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn malformed_documents_are_errors_with_offsets() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text<a/>",
            "<p:a/>",
            "<a p:x='1'/>",
            "<a x='1' x='2'/>",
            "<a xmlns:p='u' xmlns:q='u' p:x='1' q:x='2'/>",
            "<a x='<'/>",
            "<a xmlns:p='u' xmlns:p='v'/>",
            "<a a='' b='' c='' d='' e='' f='' g='' h='' i='' j='' a=''/>",
            "<a xmlns:p='u' xmlns:q='u' a='' b='' c='' d='' e='' f='' g='' h='' i='' p:x='' q:x=''/>",
            "</a>",
            "<a>&amp</a>",
        ] {
            let r = parse(bad);
            assert!(
                matches!(r, Err(DecodeError::Xml { .. })),
                "{bad:?} gave {r:?}"
            );
        }
    }

    #[test]
    fn duplicate_ids_are_listed() {
        let doc = parse("<r><a ID='x'/><b AssertionID='x'/><c Id='y'/></r>").unwrap();
        let dups = doc.duplicate_ids();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].0, "x");
        assert_eq!(dups[0].1.len(), 2);
        assert_eq!(doc.elements_by_id("y").len(), 1);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_offsets_stay_source_offsets() {
        let text = "\u{feff}<?xml version=\"1.0\"?><a><b x='1'/></a>";
        let doc = parse(text).unwrap();
        let b = doc.child_elements(doc.root().unwrap()).next().unwrap();
        assert_eq!(doc.raw(b), "<b x='1'/>");
        assert_eq!(&text[doc.range(b)], "<b x='1'/>");
        let err = parse("\u{feff}<a><b></a>").unwrap_err();
        assert!(
            matches!(err, DecodeError::Xml { offset, .. } if offset >= 3),
            "{err:?}"
        );
    }

    #[test]
    fn line_endings_are_normalised_in_text() {
        let doc = parse("<a>x\r\ny\rz</a>").unwrap();
        assert_eq!(doc.text_content(doc.root().unwrap()), "x\ny\nz");
    }

    fn lenient(s: &str) -> Result<Document<'_>, DecodeError> {
        Document::parse_lenient(s, &Limits::default())
    }

    #[test]
    fn lenient_parse_keeps_unbound_prefixes_and_unknown_references() {
        let src = "<?xml version=\"1.0\"?><p:a xmlns:q='urn:q' q:x='1' p:y='&foo;&lt;' \
                   r:y='2'>x &amp; &#65; &bar; &#0; &#X41; &foo;<p:b/></p:a>";
        assert!(parse(src).is_err());
        let doc = lenient(src).unwrap();
        let a = doc.root().unwrap();
        assert_eq!(
            (doc.qname(a), doc.prefix(a), doc.local_name(a)),
            ("p:a", Some("p"), "a")
        );
        assert!(doc.has_unbound_prefix(a));
        assert_eq!(doc.namespace(a), "");
        assert_eq!(doc.attribute_ns(a, "urn:q", "x"), Some("1"));
        // Two unbound prefixes are two names, so `p:y` and `r:y` do not clash.
        assert_eq!(doc.attribute(a, "p:y"), Some("&foo;<"));
        assert_eq!(doc.attribute(a, "r:y"), Some("2"));
        // `&#X41;` is read as HTML reads it; `&#0;` names no character and stays as written.
        assert_eq!(doc.text_content(a), "x & A &bar; &#0; A &foo;");
        assert_eq!(
            doc.unresolved_entities().collect::<Vec<_>>(),
            ["foo", "bar", "#0"]
        );
        assert_eq!(doc.declaration(), Some("version=\"1.0\""));
        let b = doc.child_elements(a).next().unwrap();
        assert!(doc.has_unbound_prefix(b));
    }

    #[test]
    fn lenient_unknown_entities_stay_literal_in_text_and_attributes() {
        let doc = lenient("<a t=\"&lt;&foo;\">x &amp; &#65; &bar;</a>").unwrap();
        let a = doc.root().unwrap();
        assert_eq!(doc.text_content(a), "x & A &bar;");
        assert_eq!(doc.attribute(a, "t"), Some("<&foo;"));
        assert_eq!(
            doc.unresolved_entities().collect::<Vec<_>>(),
            ["foo", "bar"]
        );
    }

    #[test]
    fn lenient_parse_shows_attribute_values_as_written() {
        let src = "<a x='1\t2\r\n3 <b>' xmlns:p='' p:y='1' xmlns:m='u' xmlns:n='u' m:z='1' \
                   n:z='2'/>";
        assert!(parse(src).is_err());
        let doc = lenient(src).unwrap();
        let a = doc.root().unwrap();
        assert_eq!(doc.attribute(a, "x"), Some("1\t2\r\n3 <b>"));
        // A declaration XML refuses is an ordinary attribute, and its prefix stays unbound.
        assert_eq!(doc.attribute(a, "xmlns:p"), Some(""));
        assert_eq!(doc.namespace_declarations(a).count(), 2);
        assert_eq!(
            doc.written_attributes(a)
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>(),
            ["x", "xmlns:p", "p:y", "xmlns:m", "xmlns:n", "m:z", "n:z"]
        );
        assert_eq!(doc.attribute_ns(a, "u", "z"), Some("1"));
    }

    #[test]
    fn lenient_parse_keeps_other_rules() {
        for bad in [
            "<a p:x='1' p:x='2'/>",
            "<a xmlns:p='u' xmlns:p='v'/>",
            "<a xmlns:p='u' xmlns:p=''/>",
            "<a>&amp</a>",
            "<a/><b/>",
            "<a><b></a>",
            "<p:a>",
            "text<a/>",
            "",
        ] {
            let r = lenient(bad);
            assert!(
                matches!(r, Err(DecodeError::Xml { .. })),
                "{bad:?} gave {r:?}"
            );
        }
        // What a shown document tolerates beyond names and references.
        for ok in [
            "<!-- a -- b --><a/>",
            "<a><?xml version='1.0'?></a>",
            "&#32;&#xA0;<a/>",
            "<![CDATA[x]]><a/>",
        ] {
            assert!(parse(ok).is_err(), "{ok:?}");
            assert!(lenient(ok).is_ok(), "{ok:?}");
        }
        // In an attribute, a lone `&` or a name too long to be one stays as written, unlisted;
        // in text a reference is as long as it is.
        let long = "n".repeat(40);
        let src = format!("<a x='a & b' y='&{long};'>&{long};</a>");
        let doc = lenient(&src).unwrap();
        let a = doc.root().unwrap();
        assert_eq!(doc.attribute(a, "x"), Some("a & b"));
        assert_eq!(doc.attribute(a, "y"), Some(format!("&{long};").as_str()));
        assert_eq!(
            doc.unresolved_entities().collect::<Vec<_>>(),
            [long.as_str()]
        );
        // At most 16 distinct names are listed.
        let many: String = (0..40).map(|i| format!("&e{i};&e{i};")).collect();
        let src = format!("<a>{many}</a>");
        let doc = lenient(&src).unwrap();
        let listed: Vec<&str> = doc.unresolved_entities().collect();
        assert_eq!(listed.len(), 16);
        assert_eq!(listed.first(), Some(&"e0"));
        assert_eq!(doc.text_content(doc.root().unwrap()), many);
    }

    #[test]
    fn lenient_parse_refuses_a_doctype_and_keeps_the_limits() {
        let src = "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>";
        let err = lenient(src).unwrap_err();
        assert!(is_doctype_refusal(&err), "{err}");
        assert!(
            matches!(err, DecodeError::Xml { offset: 22, .. }),
            "{err:?}"
        );
        assert_eq!(
            doctype_declaration(src, &err),
            Some("r [<!ENTITY e \"x\">]")
        );
        assert_eq!(doctype_declaration(src, &lenient("<a>").unwrap_err()), None);
        let bom = "\u{feff}<!doctype r><r/>";
        let err = lenient(bom).unwrap_err();
        assert!(matches!(err, DecodeError::Xml { offset: 3, .. }), "{err:?}");
        assert_eq!(doctype_declaration(bom, &err), Some("r"));

        let depth = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert_eq!(
            Document::parse_lenient("<p:a><b><c><q:d/></c></b></p:a>", &depth).unwrap_err(),
            DecodeError::TooLarge {
                what: "XML nesting depth",
                limit: 3
            }
        );
        assert!(Document::parse_lenient("<p:a><b><q:c/></b></p:a>", &depth).is_ok());
        let nodes = Limits {
            max_nodes: 5,
            ..Limits::default()
        };
        assert_eq!(
            Document::parse_lenient("<a><p:b/><b>&x;</b><b/><b/></a>", &nodes).unwrap_err(),
            DecodeError::TooLarge {
                what: "XML node count",
                limit: 5
            }
        );
        let size = Limits {
            max_body: 4,
            ..Limits::default()
        };
        assert!(matches!(
            Document::parse_lenient("<p:abc/>", &size),
            Err(DecodeError::TooLarge {
                what: "XML document",
                ..
            })
        ));
    }

    #[test]
    fn written_attributes_keep_declarations_in_source_order() {
        let doc = parse("<a xmlns='urn:d' b='1&amp;' xmlns:p='urn:p' p:c='2'/>").unwrap();
        let a = doc.root().unwrap();
        assert_eq!(
            doc.written_attributes(a),
            [
                ("xmlns", "urn:d"),
                ("b", "1&"),
                ("xmlns:p", "urn:p"),
                ("p:c", "2")
            ]
        );
        assert_eq!(doc.attributes(a).count(), 2);
        assert_eq!(doc.declaration(), None);
        assert_eq!(doc.unresolved_entities().count(), 0);
    }

    #[test]
    fn descendants_and_is_inside_follow_document_order() {
        let doc = parse("<a><b><c/></b><d/></a>").unwrap();
        let a = doc.root().unwrap();
        let names: Vec<&str> = doc.descendants(a).map(|n| doc.local_name(n)).collect();
        assert_eq!(names, ["b", "c", "d"]);
        let b = doc.child_elements(a).next().unwrap();
        assert_eq!(doc.descendants(b).count(), 1);
        let d = doc.child_elements(a).nth(1).unwrap();
        assert!(!doc.is_inside(d, b));
        assert!(doc.is_inside(d, a));
    }
}
