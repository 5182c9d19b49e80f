//! XML canonicalization over a [`Document`]: Exclusive XML Canonicalization 1.0
//! (`http://www.w3.org/2001/10/xml-exc-c14n#`, with and without `#WithComments`, with an
//! InclusiveNamespaces PrefixList) and Canonical XML 1.0 (inclusive, used by some old ADFS
//! farms), applied to a document subset: the whole document, or one element with its
//! descendants, minus one excluded subtree (the enveloped-signature transform).
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
//!   that change what the output parent rendered; `xml:*` attributes of omitted ancestors are
//!   copied onto the apex;
//! * text escapes `& < > CR` (`&amp; &lt; &gt; &#xD;`), attribute values escape
//!   `& < " TAB LF CR` (`&amp; &lt; &quot; &#x9; &#xA; &#xD;`); line endings were normalised to
//!   LF and attribute whitespace normalised by the parser ([`super::tree`]);
//! * CDATA sections become escaped text; comments appear only with `#WithComments`; outside the
//!   document element, comments and processing instructions are separated by LF.
//!
//! Not responsible for: XPath node-sets beyond "subtree minus subtree" (XPath and XSLT
//! transforms are refused by [`super::dsig`]), C14N 1.1, or parsing.

use std::collections::HashMap;

use super::tree::{Document, NodeId, NodeKind, XML_NS};
use crate::{DecodeError, Limits};

/// `http://www.w3.org/2001/10/xml-exc-c14n#`
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// `http://www.w3.org/2001/10/xml-exc-c14n#WithComments`
pub const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
/// `http://www.w3.org/TR/2001/REC-xml-c14n-20010315`
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// `http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments`
pub const C14N_WITH_COMMENTS: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";

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

    /// The algorithm named by an XML-DSig algorithm URI, if it is one of the four supported.
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

/// What to canonicalize and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The algorithm.
    pub method: Method,
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
            inclusive_prefixes: Vec::new(),
            exclude: None,
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
        let mut attrs: Vec<(&'d str, &'d str, &'d str, &'d str)> = doc
            .attributes(n)
            .map(|a| (a.namespace, a.local, a.qname, a.value))
            .collect();
        if is_apex && !self.opts.method.exclusive {
            // C14N 1.0 §2.4: xml:* attributes of omitted ancestors are inherited by the apex.
            for anc in doc.ancestors(n) {
                for a in doc.attributes(anc) {
                    if a.namespace == XML_NS
                        && !attrs
                            .iter()
                            .any(|(ns, l, _, _)| *ns == XML_NS && *l == a.local)
                    {
                        attrs.push((a.namespace, a.local, a.qname, a.value));
                    }
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

    #[test]
    fn method_uris_round_trip() {
        for uri in [EXC_C14N, EXC_C14N_WITH_COMMENTS, C14N, C14N_WITH_COMMENTS] {
            assert_eq!(Method::from_uri(uri).unwrap().uri(), uri);
        }
        assert!(Method::from_uri("http://www.w3.org/2006/12/xml-c14n11").is_none());
    }
}
