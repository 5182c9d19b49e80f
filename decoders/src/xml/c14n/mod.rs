//! XML canonicalization over a [`Document`]: Exclusive XML Canonicalization 1.0
//! (`http://www.w3.org/2001/10/xml-exc-c14n#`, with and without `#WithComments`, with an
//! InclusiveNamespaces PrefixList), Canonical XML 1.0 (inclusive, used by some old ADFS farms) and
//! Canonical XML 1.1 (`http://www.w3.org/2006/12/xml-c14n11`, with and without comments), applied
//! to a document subset: the whole document, or one element with its descendants, minus one
//! excluded subtree (the enveloped-signature transform).
//!
//! The output rules followed here (C14N 1.0 §2, exc-c14n §3):
//! * no XML declaration and no DOCTYPE; empty elements become start/end pairs;
//! * namespace declarations first, sorted by prefix (default first), then attributes sorted by
//!   (namespace URI, local name), unprefixed attributes first;
//! * exclusive: only *visibly utilized* prefixes (the element's own prefix, or the default
//!   namespace for an unprefixed element, and the prefixes of its attributes) plus the PrefixList
//!   are rendered, each only where the nearest output ancestor did not already render the same
//!   binding; `xmlns=""` appears only to undo a non-empty default rendered above;
//! * inclusive: every namespace in scope is rendered at the apex, and below it only declarations
//!   that change what the output parent rendered; C14N 1.0 copies every `xml:*` attribute of the
//!   omitted ancestors onto the apex, C14N 1.1 only `xml:lang` and `xml:space`, never `xml:id`,
//!   and replaces the apex's `xml:base` by the joined value (see [`xml_base`]);
//! * text escapes `& < > CR` (`&amp; &lt; &gt; &#xD;`), attribute values escape
//!   `& < " TAB LF CR` (`&amp; &lt; &quot; &#x9; &#xA; &#xD;`); line endings were normalised to
//!   LF and attribute whitespace normalised by the parser ([`super::tree`]);
//! * CDATA sections become escaped text; comments appear only with `#WithComments`; outside the
//!   document element, comments and processing instructions are separated by LF.
//!
//! C14N 1.1 differs from 1.0 only where ancestors of an element in the subset are omitted. The
//! subsets built here omit ancestors of the apex alone (the excluded subtree takes its
//! descendants with it), so the 1.1 rules are applied at the apex; on the whole document 1.1 and
//! 1.0 give the same octets. Not done for 1.1: xml:base fixup on elements deeper than the apex
//! whose parent is omitted, which only arbitrary XPath node-sets produce.
//!
//! Not responsible for: XPath node-sets beyond "subtree minus subtree" (XPath and XSLT
//! transforms are refused by [`super::dsig`]), or parsing.

use std::collections::HashMap;

use super::tree::{Document, NodeId, NodeKind, XML_NS};
use crate::{DecodeError, Limits};

pub mod xml_base;

/// `http://www.w3.org/2001/10/xml-exc-c14n#`
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// `http://www.w3.org/2001/10/xml-exc-c14n#WithComments`
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
/// `http://www.w3.org/TR/2001/REC-xml-c14n-20010315`
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// `http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments`
pub const C14N_WITH_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
/// `http://www.w3.org/2006/12/xml-c14n11`
pub const C14N11: &str = "http://www.w3.org/2006/12/xml-c14n11";
/// `http://www.w3.org/2006/12/xml-c14n11#WithComments`
pub const C14N11_WITH_COMMENTS: &str = "http://www.w3.org/2006/12/xml-c14n11#WithComments";

/// A canonicalization algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    /// Exclusive (exc-c14n) rather than inclusive (C14N 1.0) namespace rendering.
    pub exclusive: bool,
    /// Keep comments (`#WithComments`).
    pub with_comments: bool,
}

impl Method {
    /// Exclusive canonicalization without comments, the SAML and WS-Security default.
    pub const EXCLUSIVE: Method = Method {
        exclusive: true,
        with_comments: false,
    };
    /// Inclusive Canonical XML 1.0 without comments.
    pub const INCLUSIVE: Method = Method {
        exclusive: false,
        with_comments: false,
    };

    /// The algorithm named by one of the four Canonical XML 1.0 / exc-c14n URIs. C14N 1.1 is a
    /// [`Version`] of the inclusive method: see [`Options::from_uri`], which reads all six URIs.
    pub fn from_uri(uri: &str) -> Option<Method> {
        let (exclusive, with_comments) = match uri {
            EXC_C14N => (true, false),
            EXC_C14N_WITH_COMMENTS => (true, true),
            C14N => (false, false),
            C14N_WITH_COMMENTS => (false, true),
            _ => return None,
        };
        Some(Method {
            exclusive,
            with_comments,
        })
    }

    /// The algorithm URI of this method.
    pub fn uri(self) -> &'static str {
        match (self.exclusive, self.with_comments) {
            (true, false) => EXC_C14N,
            (true, true) => EXC_C14N_WITH_COMMENTS,
            (false, false) => C14N,
            (false, true) => C14N_WITH_COMMENTS,
        }
    }
}

/// Which Canonical XML recommendation the inclusive method follows; they differ only in the
/// `xml:*` attributes of an apex whose ancestors are omitted (see the module documentation).
/// Exclusive canonicalization has one version and ignores this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// Canonical XML 1.0.
    #[default]
    V1_0,
    /// Canonical XML 1.1.
    V1_1,
}

/// What to canonicalize and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The algorithm.
    pub method: Method,
    /// The Canonical XML version of the inclusive method.
    pub version: Version,
    /// The InclusiveNamespaces PrefixList of exclusive canonicalization (`"#default"` names the
    /// default namespace); ignored by inclusive canonicalization.
    pub inclusive_prefixes: Vec<String>,
    /// An element whose subtree is left out (the `Signature` for an enveloped signature).
    pub exclude: Option<NodeId>,
}

impl Options {
    /// Options for `method` with no prefix list and nothing excluded.
    pub fn new(method: Method) -> Self {
        Options {
            method,
            version: Version::V1_0,
            inclusive_prefixes: Vec::new(),
            exclude: None,
        }
    }

    /// Options for the algorithm an XML-DSig URI names: exc-c14n, C14N 1.0 or C14N 1.1, each
    /// with or without comments; `None` for any other URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let (method, version) = match uri {
            C14N11 => (Method::INCLUSIVE, Version::V1_1),
            C14N11_WITH_COMMENTS => (
                Method {
                    exclusive: false,
                    with_comments: true,
                },
                Version::V1_1,
            ),
            other => (Method::from_uri(other)?, Version::V1_0),
        };
        Some(Options {
            version,
            ..Options::new(method)
        })
    }

    /// The algorithm URI of these options (the version matters only for inclusive methods).
    pub fn uri(&self) -> &'static str {
        match (
            self.method.exclusive,
            self.version,
            self.method.with_comments,
        ) {
            (false, Version::V1_1, false) => C14N11,
            (false, Version::V1_1, true) => C14N11_WITH_COMMENTS,
            _ => self.method.uri(),
        }
    }
}

/// Canonicalizes the subtree rooted at element `apex` (or the whole document when `apex` is
/// `None`). The output is capped at [`Limits::max_inflate`] bytes, because exclusive
/// canonicalization repeats namespace declarations and can grow a hostile document a lot.
pub fn canonicalize(
    doc: &Document<'_>,
    apex: Option<NodeId>,
    opts: &Options,
    limits: &Limits,
) -> Result<Vec<u8>, DecodeError> {
    let mut c = Canon {
        doc,
        opts,
        max: limits.max_inflate,
        out: String::new(),
        scope: HashMap::new(),
        rendered: HashMap::new(),
        scope_log: Vec::new(),
        rendered_log: Vec::new(),
    };
    match apex {
        Some(a) => {
            if !doc.is_element(a) {
                return Err(DecodeError::Xml {
                    offset: doc.offset(a) as u64,
                    message: "canonicalization apex is not an element".into(),
                });
            }
            // Namespace declarations of the omitted ancestors are still in scope at the apex.
            let mut ancestors: Vec<NodeId> = doc.ancestors(a).collect();
            ancestors.reverse();
            for anc in ancestors {
                for (p, u) in doc.namespace_declarations(anc) {
                    c.scope.entry(p).or_default().push(u);
                }
            }
            c.subtree(a, true)?;
        }
        None => {
            let top: Vec<NodeId> = doc.top_level_nodes().collect();
            let root = doc.root();
            let mut after_root = false;
            for n in top {
                if Some(n) == root {
                    if opts.exclude != Some(n) {
                        c.subtree(n, true)?;
                    }
                    after_root = true;
                    continue;
                }
                let before = c.out.len();
                if after_root {
                    c.out.push('\n');
                }
                if c.leaf(n) {
                    if !after_root {
                        c.out.push('\n');
                    }
                } else {
                    c.out.truncate(before);
                }
            }
        }
    }
    c.check()?;
    Ok(c.out.into_bytes())
}

struct Canon<'d, 'a, 'o> {
    doc: &'d Document<'a>,
    opts: &'o Options,
    max: usize,
    out: String,
    /// Namespace bindings in document scope: prefix → stack of URIs.
    scope: HashMap<&'d str, Vec<&'d str>>,
    /// Bindings rendered by output ancestors: prefix → stack of URIs.
    rendered: HashMap<&'d str, Vec<&'d str>>,
    scope_log: Vec<&'d str>,
    rendered_log: Vec<&'d str>,
}

enum Step {
    Enter(NodeId, bool),
    Exit(NodeId, usize, usize),
}

impl<'d> Canon<'d, '_, '_> {
    fn check(&self) -> Result<(), DecodeError> {
        if self.out.len() > self.max {
            return Err(DecodeError::TooLarge {
                what: "canonical XML",
                limit: self.max,
            });
        }
        Ok(())
    }

    fn subtree(&mut self, apex: NodeId, is_apex: bool) -> Result<(), DecodeError> {
        let mut stack = vec![Step::Enter(apex, is_apex)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(n, apex_here) => {
                    if self.opts.exclude == Some(n) {
                        continue;
                    }
                    if !self.doc.is_element(n) {
                        self.leaf(n);
                        self.check()?;
                        continue;
                    }
                    let (s_mark, r_mark) = (self.scope_log.len(), self.rendered_log.len());
                    self.start_tag(n, apex_here);
                    self.check()?;
                    stack.push(Step::Exit(n, s_mark, r_mark));
                    let children: Vec<NodeId> = self.doc.children(n).collect();
                    for c in children.into_iter().rev() {
                        stack.push(Step::Enter(c, false));
                    }
                }
                Step::Exit(n, s_mark, r_mark) => {
                    self.out.push_str("</");
                    self.out.push_str(self.doc.qname(n));
                    self.out.push('>');
                    for p in self.scope_log.drain(s_mark..) {
                        if let Some(v) = self.scope.get_mut(p) {
                            v.pop();
                        }
                    }
                    for p in self.rendered_log.drain(r_mark..) {
                        if let Some(v) = self.rendered.get_mut(p) {
                            v.pop();
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes a non-element node; returns whether anything was written.
    fn leaf(&mut self, n: NodeId) -> bool {
        let doc = self.doc;
        match doc.kind(n) {
            Some(NodeKind::Text | NodeKind::CData) => {
                escape_text(doc.text(n).unwrap_or(""), &mut self.out);
                true
            }
            Some(NodeKind::Comment) if self.opts.method.with_comments => {
                self.out.push_str("<!--");
                self.out.push_str(doc.text(n).unwrap_or(""));
                self.out.push_str("-->");
                true
            }
            Some(NodeKind::ProcessingInstruction) => {
                self.out.push_str("<?");
                self.out.push_str(doc.pi_target(n).unwrap_or(""));
                let data = doc.text(n).unwrap_or("");
                if !data.is_empty() {
                    self.out.push(' ');
                    self.out.push_str(data);
                }
                self.out.push_str("?>");
                true
            }
            _ => false,
        }
    }

    fn scope_lookup(&self, prefix: &str) -> Option<&'d str> {
        self.scope.get(prefix).and_then(|v| v.last()).copied()
    }

    fn rendered_lookup(&self, prefix: &str) -> Option<&'d str> {
        self.rendered.get(prefix).and_then(|v| v.last()).copied()
    }

    fn start_tag(&mut self, n: NodeId, is_apex: bool) {
        let doc = self.doc;
        for (p, u) in doc.namespace_declarations(n) {
            self.scope.entry(p).or_default().push(u);
            self.scope_log.push(p);
        }
        // Candidate prefixes whose binding may need rendering here.
        let mut candidates: Vec<&'d str> = Vec::new();
        if self.opts.method.exclusive {
            candidates.push(doc.prefix(n).unwrap_or(""));
            for a in doc.attributes(n) {
                if let Some(p) = a.prefix {
                    candidates.push(p);
                }
            }
            for p in &self.opts.inclusive_prefixes {
                let p = if p == "#default" { "" } else { p.as_str() };
                if let Some((k, _)) = self.scope.get_key_value(p) {
                    candidates.push(k);
                } else if p.is_empty() {
                    candidates.push("");
                }
            }
        } else if is_apex {
            candidates.extend(self.scope.keys().copied());
            candidates.push("");
        } else {
            candidates.extend(doc.namespace_declarations(n).map(|(p, _)| p));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut decls: Vec<(&'d str, &'d str)> = Vec::new();
        for p in candidates {
            if p == "xml" || p == "xmlns" {
                continue;
            }
            let uri = self.scope_lookup(p);
            let above = self.rendered_lookup(p);
            if p.is_empty() {
                let uri = uri.unwrap_or("");
                if uri != above.unwrap_or("") {
                    decls.push((p, uri));
                }
            } else if let Some(uri) = uri
                && !uri.is_empty()
                && above != Some(uri)
            {
                decls.push((p, uri));
            }
        }
        self.out.push('<');
        self.out.push_str(doc.qname(n));
        for (p, u) in &decls {
            if p.is_empty() {
                self.out.push_str(" xmlns=\"");
            } else {
                self.out.push_str(" xmlns:");
                self.out.push_str(p);
                self.out.push_str("=\"");
            }
            escape_attr(u, &mut self.out);
            self.out.push('"');
            self.rendered.entry(p).or_default().push(u);
            self.rendered_log.push(p);
        }
        let fixed_base: Option<String>;
        let mut attrs: Vec<(&str, &str, &str, &str)> = doc
            .attributes(n)
            .map(|a| (a.namespace, a.local, a.qname, a.value))
            .collect();
        if is_apex && !self.opts.method.exclusive {
            let inherit: &[&str] = match self.opts.version {
                // C14N 1.0 §2.4: every xml:* attribute of the omitted ancestors.
                Version::V1_0 => &[],
                // C14N 1.1 §2.4: the simple inheritable ones; xml:base is joined below.
                Version::V1_1 => &["lang", "space"],
            };
            for anc in doc.ancestors(n) {
                for a in doc.attributes(anc) {
                    if a.namespace == XML_NS
                        && (inherit.is_empty() || inherit.contains(&a.local))
                        && !attrs
                            .iter()
                            .any(|(ns, l, _, _)| *ns == XML_NS && *l == a.local)
                    {
                        attrs.push((a.namespace, a.local, a.qname, a.value));
                    }
                }
            }
            if self.opts.version == Version::V1_1 {
                fixed_base = xml_base::apex_base(doc, n);
                attrs.retain(|(ns, l, _, _)| !(*ns == XML_NS && *l == "base"));
                if let Some(b) = &fixed_base {
                    attrs.push((XML_NS, "base", "xml:base", b));
                }
            }
        }
        attrs.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
        for (_, _, qname, value) in attrs {
            self.out.push(' ');
            self.out.push_str(qname);
            self.out.push_str("=\"");
            escape_attr(value, &mut self.out);
            self.out.push('"');
        }
        self.out.push('>');
    }
}

/// Text content as canonical XML writes it.
fn escape_text(s: &str, out: &mut String) {
    escape(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'\r' => Some("&#xD;"),
        _ => None,
    });
}

/// An attribute value as canonical XML writes it.
fn escape_attr(s: &str, out: &mut String) {
    escape(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'"' => Some("&quot;"),
        b'\t' => Some("&#x9;"),
        b'\n' => Some("&#xA;"),
        b'\r' => Some("&#xD;"),
        _ => None,
    });
}

/// Appends `s` to `out` with every byte that `replacement` names replaced (all are ASCII, so
/// the cuts fall on character boundaries).
fn escape(s: &str, out: &mut String, replacement: impl Fn(u8) -> Option<&'static str>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let Some(rep) = replacement(b) else { continue };
        out.push_str(s.get(last..i).unwrap_or(""));
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(s.get(last..).unwrap_or(""));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, apex_local: Option<&str>, opts: &Options) -> String {
        let doc = Document::parse(xml, &Limits::default()).unwrap();
        let apex = apex_local.map(|l| doc.elements().find(|e| doc.local_name(*e) == l).unwrap());
        String::from_utf8(canonicalize(&doc, apex, opts, &Limits::default()).unwrap()).unwrap()
    }

    // exc-c14n spec §2.2: the same n1:elem2 in two contexts.
    const SPEC_1: &str = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
    const SPEC_2: &str = r#"<n2:pdu xmlns:n1="http://example.com" xmlns:n2="http://foo.example" xml:lang="fr" xml:foo="bar"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n2:pdu>"#;

    #[test]
    fn exc_c14n_spec_example_is_context_free() {
        let want = r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#;
        let opts = Options::new(Method::EXCLUSIVE);
        assert_eq!(c14n(SPEC_1, Some("elem2"), &opts), want);
        assert_eq!(c14n(SPEC_2, Some("elem2"), &opts), want);
    }

    #[test]
    fn inclusive_c14n_spec_example_imports_context() {
        let opts = Options::new(Method::INCLUSIVE);
        assert_eq!(
            c14n(SPEC_1, Some("elem2"), &opts),
            r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="en"><n3:stuff></n3:stuff></n1:elem2>"#
        );
        assert_eq!(
            c14n(SPEC_2, Some("elem2"), &opts),
            r#"<n1:elem2 xmlns:n1="http://example.net" xmlns:n2="http://foo.example" xml:foo="bar" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn prefix_list_renders_listed_namespaces_at_the_apex() {
        let xml =
            r#"<r xmlns:xs="urn:xs" xmlns:xsi="urn:xsi"><a><v xsi:type="xs:string">x</v></a></r>"#;
        let mut opts = Options::new(Method::EXCLUSIVE);
        assert_eq!(
            c14n(xml, Some("a"), &opts),
            r#"<a><v xmlns:xsi="urn:xsi" xsi:type="xs:string">x</v></a>"#
        );
        opts.inclusive_prefixes = vec!["xs".into(), "xsi".into(), "nope".into()];
        assert_eq!(
            c14n(xml, Some("a"), &opts),
            r#"<a xmlns:xs="urn:xs" xmlns:xsi="urn:xsi"><v xsi:type="xs:string">x</v></a>"#
        );
    }

    #[test]
    fn default_namespace_is_undone_only_when_rendered_above() {
        let xml = r#"<r xmlns="urn:d"><a><b xmlns=""><c/></b></a></r>"#;
        let opts = Options::new(Method::EXCLUSIVE);
        assert_eq!(
            c14n(xml, Some("a"), &opts),
            r#"<a xmlns="urn:d"><b xmlns=""><c></c></b></a>"#
        );
        // The apex is in no namespace and nothing was rendered above it: no xmlns="".
        assert_eq!(c14n(xml, Some("b"), &opts), r#"<b><c></c></b>"#);
        let mut incl = Options::new(Method::INCLUSIVE);
        assert_eq!(c14n(xml, Some("b"), &incl), r#"<b><c></c></b>"#);
        incl.method.with_comments = true;
        assert_eq!(
            c14n(xml, Some("a"), &incl),
            r#"<a xmlns="urn:d"><b xmlns=""><c></c></b></a>"#
        );
    }

    #[test]
    fn attributes_sort_by_namespace_uri_then_local_name() {
        let xml =
            r#"<e xmlns:b="urn:b" xmlns:a="urn:c" b:x="1" a:x="2" z="3" y="4" xmlns="urn:z"/>"#;
        assert_eq!(
            c14n(xml, None, &Options::new(Method::EXCLUSIVE)),
            r#"<e xmlns="urn:z" xmlns:a="urn:c" xmlns:b="urn:b" y="4" z="3" b:x="1" a:x="2"></e>"#
        );
    }

    #[test]
    fn escaping_follows_the_spec() {
        let xml = "<e a=\"&amp;&lt;&gt;&quot;'&#9;&#10;&#13; \t\n\">&amp;&lt;&gt;\"'&#13;\r\n<![CDATA[<&>]]></e>";
        assert_eq!(
            c14n(xml, None, &Options::new(Method::EXCLUSIVE)),
            "<e a=\"&amp;&lt;>&quot;'&#x9;&#xA;&#xD;   \">&amp;&lt;&gt;\"'&#xD;\n&lt;&amp;&gt;</e>"
        );
    }

    #[test]
    fn comments_only_with_comments_and_excluded_subtree_is_dropped() {
        let xml = "<?xml version=\"1.0\"?>\n<!--a--><?p  d ?>\n<r><!--x--><s><t/></s>y</r><!--z-->";
        let mut opts = Options::new(Method::EXCLUSIVE);
        assert_eq!(c14n(xml, None, &opts), "<?p d ?>\n<r><s><t></t></s>y</r>");
        opts.method.with_comments = true;
        assert_eq!(
            c14n(xml, None, &opts),
            "<!--a-->\n<?p d ?>\n<r><!--x--><s><t></t></s>y</r>\n<!--z-->"
        );
        let doc = Document::parse(xml, &Limits::default()).unwrap();
        let s = doc.elements().find(|e| doc.local_name(*e) == "s").unwrap();
        opts.exclude = Some(s);
        let out = canonicalize(&doc, doc.root(), &opts, &Limits::default()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "<r><!--x-->y</r>");
    }

    #[test]
    fn output_is_capped() {
        let xml = format!(
            "<r xmlns:p=\"{}\">{}</r>",
            "u".repeat(1000),
            "<p:b/>".repeat(100)
        );
        let doc = Document::parse(&xml, &Limits::default()).unwrap();
        let limits = Limits {
            max_inflate: 10_000,
            ..Limits::default()
        };
        let r = canonicalize(&doc, doc.root(), &Options::new(Method::EXCLUSIVE), &limits);
        assert!(matches!(r, Err(DecodeError::TooLarge { .. })));
    }

    /// The document of the W3C XML-DSig 2nd-edition interop tests `c14n11xmlbase-prop-1..7`
    /// (without its leading comment).
    const W3C_XMLBASE: &str = r#"<ietf:c14n11XmlBaseDoc1 xmlns:ietf="http://www.ietf.org" xmlns:w3c="http://www.w3.org" xml:base="http://xmlbase.example.org/xmlbase0/">
    <ietf:e1 xml:base="/xmlbase1/">
      <ietf:e11 xml:base="/xmlbase11/">
        <ietf:e111 xml:base="/xmlbase111/"/>
      </ietf:e11>
      <ietf:e12 at="2">
        <ietf:e121 xml:base="/xmlbase121/"/>
      </ietf:e12>
    </ietf:e1>
    <ietf:e2>
      <ietf:e21 xml:base="/xmlbase21/"/>
    </ietf:e2>
    <ietf:e3>
      <ietf:e31 at="3"/>
    </ietf:e3>
</ietf:c14n11XmlBaseDoc1>"#;

    const NS: &str = r#"xmlns:ietf="http://www.ietf.org" xmlns:w3c="http://www.w3.org""#;

    fn c14n11(xml: &str, apex_local: &str, exclude_local: Option<&str>) -> String {
        let doc = Document::parse(xml, &Limits::default()).unwrap();
        let find = |l: &str| doc.elements().find(|e| doc.local_name(*e) == l).unwrap();
        let mut opts = Options::from_uri(C14N11).unwrap();
        opts.exclude = exclude_local.map(find);
        let out = canonicalize(&doc, Some(find(apex_local)), &opts, &Limits::default());
        String::from_utf8(out.unwrap()).unwrap()
    }

    #[test]
    fn c14n11_matches_the_w3c_xml_base_interop_vectors() {
        // Expected outputs as published with the tests (libxml2 `result/c14n/1-1-without-comments`).
        // prop-1: the document minus the e2 subtree; xml:base below the apex is left alone.
        assert_eq!(
            c14n11(W3C_XMLBASE, "c14n11XmlBaseDoc1", Some("e2")),
            format!(
                "<ietf:c14n11XmlBaseDoc1 {NS} xml:base=\"http://xmlbase.example.org/xmlbase0/\">\n    \
                 <ietf:e1 xml:base=\"/xmlbase1/\">\n      <ietf:e11 xml:base=\"/xmlbase11/\">\n        \
                 <ietf:e111 xml:base=\"/xmlbase111/\"></ietf:e111>\n      </ietf:e11>\n      \
                 <ietf:e12 at=\"2\">\n        <ietf:e121 xml:base=\"/xmlbase121/\"></ietf:e121>\n      \
                 </ietf:e12>\n    </ietf:e1>\n    \n    <ietf:e3>\n      <ietf:e31 at=\"3\"></ietf:e31>\n    \
                 </ietf:e3>\n</ietf:c14n11XmlBaseDoc1>"
            )
        );
        // prop-2 to prop-6: an apex whose ancestors carry xml:base.
        for (apex, base, body) in [
            (
                "e1",
                "xmlbase1/",
                "\n      <ietf:e11 xml:base=\"/xmlbase11/\">\n        <ietf:e111 xml:base=\"/xmlbase111/\"></ietf:e111>\n      </ietf:e11>\n      <ietf:e12 at=\"2\">\n        <ietf:e121 xml:base=\"/xmlbase121/\"></ietf:e121>\n      </ietf:e12>\n    ",
            ),
            (
                "e11",
                "xmlbase11/",
                "\n        <ietf:e111 xml:base=\"/xmlbase111/\"></ietf:e111>\n      ",
            ),
            ("e111", "xmlbase111/", ""),
            ("e21", "xmlbase21/", ""),
            (
                "e3",
                "xmlbase0/",
                "\n      <ietf:e31 at=\"3\"></ietf:e31>\n    ",
            ),
        ] {
            assert_eq!(
                c14n11(W3C_XMLBASE, apex, None),
                format!(
                    "<ietf:{apex} {NS} xml:base=\"http://xmlbase.example.org/{base}\">{body}</ietf:{apex}>"
                ),
                "{apex}"
            );
        }
    }

    #[test]
    fn c14n11_inherits_lang_and_space_but_not_id_or_other_xml_attributes() {
        let xml = r#"<r xml:id="r1" xml:lang="en" xml:space="preserve" xml:foo="bar"><a xml:lang="de"><b xml:id="b1">t</b></a></r>"#;
        let doc = Document::parse(xml, &Limits::default()).unwrap();
        let b = doc.element_by_id("b1").unwrap();
        let run = |uri: &str| {
            let opts = Options::from_uri(uri).unwrap();
            String::from_utf8(canonicalize(&doc, Some(b), &opts, &Limits::default()).unwrap())
                .unwrap()
        };
        assert_eq!(
            run(C14N11),
            r#"<b xml:id="b1" xml:lang="de" xml:space="preserve">t</b>"#
        );
        // C14N 1.0 copies every xml:* attribute of the omitted ancestors, the nearest first.
        assert_eq!(
            run(C14N),
            r#"<b xml:foo="bar" xml:id="b1" xml:lang="de" xml:space="preserve">t</b>"#
        );
        // On the whole document nothing is omitted and the two versions agree.
        let whole = |uri: &str| {
            let opts = Options::from_uri(uri).unwrap();
            canonicalize(&doc, None, &opts, &Limits::default()).unwrap()
        };
        assert_eq!(whole(C14N11), whole(C14N));
        assert_eq!(whole(C14N11_WITH_COMMENTS), whole(C14N_WITH_COMMENTS));
    }

    #[test]
    fn method_uris_round_trip() {
        for uri in [EXC_C14N, EXC_C14N_WITH_COMMENTS, C14N, C14N_WITH_COMMENTS] {
            assert_eq!(Method::from_uri(uri).unwrap().uri(), uri);
            assert_eq!(Options::from_uri(uri).unwrap().version, Version::V1_0);
        }
        for uri in [C14N11, C14N11_WITH_COMMENTS] {
            assert!(Method::from_uri(uri).is_none());
            let opts = Options::from_uri(uri).unwrap();
            assert_eq!((opts.version, opts.uri()), (Version::V1_1, uri));
        }
        assert!(Options::from_uri("http://www.w3.org/2006/12/xml-c14n").is_none());
    }
}
