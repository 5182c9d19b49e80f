//! Reading a parsed [`Document`]: navigation (children, descendants, ancestors), names and
//! namespaces, attributes, text, ID lookup and byte ranges of nodes in the source.
//!
//! Not responsible for building the tree (see [`super::parse`]).

use std::collections::HashMap;
use std::ops::Range;

use super::*;

impl<'a> Document<'a> {
    /// The source text the document was parsed from.
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// The document element.
    pub fn root(&self) -> Option<NodeId> {
        self.root
    }

    /// The content of the XML declaration, between `<?xml` and `?>` and trimmed
    /// (`version="1.0" encoding="utf-8"`), when the document starts with one.
    pub fn declaration(&self) -> Option<&str> {
        self.decl.map(|s| self.span_str(s))
    }

    /// The references a lenient parse ([`Document::parse_lenient`]) kept as written because
    /// they are neither a predefined entity nor a valid character reference, as the names
    /// between `&` and `;`, each once, in order of first use, at most 16. Always empty for
    /// [`Document::parse`], which fails on them.
    pub fn unresolved_entities(&self) -> impl Iterator<Item = &str> + '_ {
        self.unresolved.iter().map(|s| &**s)
    }

    /// How many nodes the arena holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the arena holds no node (never the case for a parsed document).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node data for `id`.
    pub fn node(&self, id: NodeId) -> Option<&NodeData> {
        self.nodes.get(id.index())
    }

    /// What kind of node `id` is.
    pub fn kind(&self, id: NodeId) -> Option<NodeKind> {
        self.node(id).map(NodeData::kind)
    }

    /// True when `id` is an element.
    pub fn is_element(&self, id: NodeId) -> bool {
        self.element_data(id).is_some()
    }

    /// The parent of `id` (`None` for the document element).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id)?.parent
    }

    /// The children of `id`, in document order.
    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            doc: self,
            next: self.node(id).and_then(|n| n.first_child),
        }
    }

    /// The element children of `id`, in document order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|c| self.is_element(*c))
    }

    /// All descendants of `id` in document order, not including `id` itself.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_, 'a> {
        let end = self.subtree_end(id);
        Descendants {
            doc: self,
            next: id.0.saturating_add(1),
            end,
        }
    }

    /// One past the last node index of the subtree rooted at `id` (the arena is in document order,
    /// so a subtree is a contiguous run of indices).
    fn subtree_end(&self, id: NodeId) -> u32 {
        let mut cur = Some(id);
        while let Some(c) = cur {
            if let Some(next) = self.node(c).and_then(|n| n.next_sibling) {
                return next.0;
            }
            cur = self.parent(c);
        }
        self.nodes.len() as u32
    }

    /// True when `node` is `ancestor` or lies inside it.
    pub fn is_inside(&self, node: NodeId, ancestor: NodeId) -> bool {
        node.0 >= ancestor.0 && node.0 < self.subtree_end(ancestor)
    }

    /// The ancestors of `id`, nearest first, not including `id`.
    pub fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.parent(id), |p| self.parent(*p))
    }

    /// The local name of an element (`"Assertion"`); `""` for other nodes.
    pub fn local_name(&self, id: NodeId) -> &str {
        match self.element_data(id) {
            Some(e) => {
                let q = self.span_str(e.qname);
                q.get(
                    if e.prefix_len > 0 {
                        e.prefix_len as usize + 1
                    } else {
                        0
                    }..,
                )
                .unwrap_or("")
            }
            None => "",
        }
    }

    /// The prefix of an element name as written, if any (`"saml"`).
    pub fn prefix(&self, id: NodeId) -> Option<&str> {
        let e = self.element_data(id)?;
        (e.prefix_len > 0).then(|| {
            self.span_str(e.qname)
                .get(..e.prefix_len as usize)
                .unwrap_or("")
        })
    }

    /// The element name as written (`"saml:Assertion"`); `""` for other nodes.
    pub fn qname(&self, id: NodeId) -> &str {
        self.element_data(id)
            .map(|e| self.span_str(e.qname))
            .unwrap_or("")
    }

    /// The namespace URI of an element, `""` when it is in no namespace (or, in a lenient
    /// document, when its prefix is unbound: see [`Document::has_unbound_prefix`]).
    pub fn namespace(&self, id: NodeId) -> &str {
        self.element_data(id)
            .and_then(|e| self.namespaces.get(e.ns as usize))
            .map(|s| &**s)
            .unwrap_or("")
    }

    /// True when `id` is an element whose prefix has no namespace declaration in scope (only
    /// possible in a document read with [`Document::parse_lenient`]).
    pub fn has_unbound_prefix(&self, id: NodeId) -> bool {
        self.element_data(id).is_some_and(|e| e.ns == UNBOUND)
    }

    /// True when `id` is an element with this namespace URI and local name.
    pub fn is(&self, id: NodeId, ns: &str, local: &str) -> bool {
        self.is_element(id) && self.local_name(id) == local && self.namespace(id) == ns
    }

    /// The first child element with this namespace URI and local name.
    pub fn find_child(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.find_children(id, ns, local).next()
    }

    /// Every child element with this namespace URI and local name.
    pub fn find_children<'s>(
        &'s self,
        id: NodeId,
        ns: &'s str,
        local: &'s str,
    ) -> impl Iterator<Item = NodeId> + 's {
        self.children(id).filter(move |c| self.is(*c, ns, local))
    }

    /// The first descendant element (document order) with this namespace URI and local name.
    pub fn find_descendant(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.find_descendants(id, ns, local).next()
    }

    /// Every descendant element with this namespace URI and local name, in document order.
    pub fn find_descendants<'s>(
        &'s self,
        id: NodeId,
        ns: &'s str,
        local: &'s str,
    ) -> impl Iterator<Item = NodeId> + 's {
        self.descendants(id).filter(move |c| self.is(*c, ns, local))
    }

    /// The attributes of an element, in source order (namespace declarations excluded).
    pub fn attributes(&self, id: NodeId) -> impl Iterator<Item = Attribute<'_>> + '_ {
        let range = self
            .element_data(id)
            .map(|e| e.attrs.start as usize..e.attrs.end as usize)
            .unwrap_or(0..0);
        self.attrs.get(range).unwrap_or(&[]).iter().map(|a| {
            let qname = self.span_str(a.qname);
            let (prefix, local) = split_qname(qname);
            Attribute {
                qname,
                prefix: prefix.filter(|_| a.prefix_len > 0),
                local,
                namespace: self
                    .namespaces
                    .get(a.ns as usize)
                    .map(|s| &**s)
                    .unwrap_or(""),
                value: self.span_str(a.value),
                raw_value: self.span_str(a.raw_value),
            }
        })
    }

    /// The value of the attribute whose name is written exactly `qname` (`"ID"`, `"wsu:Id"`).
    pub fn attribute(&self, id: NodeId, qname: &str) -> Option<&str> {
        self.attributes(id)
            .find(|a| a.qname == qname)
            .map(|a| a.value)
    }

    /// The value of the attribute with this namespace URI (`""` for none) and local name.
    pub fn attribute_ns(&self, id: NodeId, ns: &str, local: &str) -> Option<&str> {
        self.attributes(id)
            .find(|a| a.local == local && a.namespace == ns)
            .map(|a| a.value)
    }

    /// Every attribute of an element's start tag as `(name as written, value)` in source order,
    /// namespace declarations (`xmlns`, `xmlns:p`) included, values as in [`Attribute::value`].
    /// For showing a tag as it was written.
    pub fn written_attributes(&self, id: NodeId) -> Vec<(&str, &str)> {
        let Some(e) = self.element_data(id) else {
            return Vec::new();
        };
        let attrs = self
            .attrs
            .get(e.attrs.start as usize..e.attrs.end as usize)
            .unwrap_or(&[]);
        let decls = self
            .decls
            .get(e.decls.start as usize..e.decls.end as usize)
            .unwrap_or(&[]);
        let mut out = Vec::with_capacity(attrs.len() + decls.len());
        let (mut a, mut d) = (attrs.iter().peekable(), decls.iter().peekable());
        loop {
            // Both runs are in source order; a declaration's prefix span starts after its
            // `xmlns`, and no other attribute starts between the two.
            let take_decl = match (a.peek(), d.peek()) {
                (Some(x), Some(y)) => y.prefix.start < x.qname.start,
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if take_decl {
                if let Some(decl) = d.next() {
                    // `xmlns` ends where the prefix span starts, or one byte before (`:`).
                    let start = decl.prefix.start as usize;
                    let back = if decl.prefix.start == decl.prefix.end {
                        5
                    } else {
                        6
                    };
                    let name = start
                        .checked_sub(back)
                        .and_then(|s| self.src.get(s..decl.prefix.end as usize))
                        .unwrap_or("xmlns");
                    let uri = self
                        .namespaces
                        .get(decl.uri as usize)
                        .map(|s| &**s)
                        .unwrap_or("");
                    out.push((name, uri));
                }
            } else if let Some(attr) = a.next() {
                out.push((self.span_str(attr.qname), self.span_str(attr.value)));
            } else {
                break;
            }
        }
        out
    }

    /// The namespace declarations written on an element, as `(prefix, uri)` with `""` for the
    /// default namespace (and `uri == ""` for `xmlns=""`).
    pub fn namespace_declarations(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> + '_ {
        let range = self
            .element_data(id)
            .map(|e| e.decls.start as usize..e.decls.end as usize)
            .unwrap_or(0..0);
        self.decls.get(range).unwrap_or(&[]).iter().map(|d| {
            (
                self.span_str(d.prefix),
                self.namespaces
                    .get(d.uri as usize)
                    .map(|s| &**s)
                    .unwrap_or(""),
            )
        })
    }

    /// The namespace URI bound to `prefix` (`""` = default namespace) at element `id`, if any.
    /// The default namespace undeclared with `xmlns=""` gives `Some("")`.
    pub fn lookup_namespace(&self, id: NodeId, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        std::iter::once(id).chain(self.ancestors(id)).find_map(|e| {
            self.namespace_declarations(e)
                .find(|(p, _)| *p == prefix)
                .map(|(_, u)| u)
        })
    }

    /// Every namespace binding in scope at element `id` as `(prefix, uri)`, sorted by prefix,
    /// innermost declaration winning; an undeclared default namespace (`xmlns=""`) is left out.
    pub fn in_scope_namespaces(&self, id: NodeId) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        for e in std::iter::once(id).chain(self.ancestors(id)) {
            for (p, u) in self.namespace_declarations(e) {
                if !out.iter().any(|(q, _)| *q == p) {
                    out.push((p, u));
                }
            }
        }
        out.retain(|(p, u)| !(p.is_empty() && u.is_empty()));
        out.sort_unstable();
        out
    }

    /// The content of a text, CDATA or comment node, or the data of a processing instruction.
    pub fn text(&self, id: NodeId) -> Option<&str> {
        match &self.node(id)?.payload {
            Payload::Text(s) | Payload::CData(s) | Payload::Comment(s) => Some(self.span_str(*s)),
            Payload::Pi { data, .. } => Some(self.span_str(*data)),
            Payload::Element(_) => None,
        }
    }

    /// The target of a processing instruction.
    pub fn pi_target(&self, id: NodeId) -> Option<&str> {
        match &self.node(id)?.payload {
            Payload::Pi { target, .. } => Some(self.span_str(*target)),
            _ => None,
        }
    }

    /// The concatenated text and CDATA of `id` and its descendants (comments skipped), as XPath
    /// `string()` gives it.
    pub fn text_content(&self, id: NodeId) -> String {
        if let Some(NodeKind::Text | NodeKind::CData) = self.kind(id) {
            return self.text(id).unwrap_or("").to_string();
        }
        let mut out = String::new();
        for d in self.descendants(id) {
            if let Some(NodeKind::Text | NodeKind::CData) = self.kind(d) {
                out.push_str(self.text(d).unwrap_or(""));
            }
        }
        out
    }

    /// The ID-like attribute of an element ([`ID_ATTRIBUTES`], `wsu:Id` or `xml:id`), if any.
    pub fn id_attribute(&self, id: NodeId) -> Option<&str> {
        self.attributes(id)
            .find(|a| {
                (a.namespace.is_empty() && ID_ATTRIBUTES.contains(&a.local))
                    || (a.namespace == WSU_NS && a.local == "Id")
                    || (a.namespace == XML_NS && a.local == "id")
            })
            .map(|a| a.value)
    }

    /// The first element (document order) whose ID-like attribute equals `value`.
    pub fn element_by_id(&self, value: &str) -> Option<NodeId> {
        self.elements_by_id(value).into_iter().next()
    }

    /// Every element whose ID-like attribute equals `value`; more than one is a wrapping signal.
    pub fn elements_by_id(&self, value: &str) -> Vec<NodeId> {
        self.elements()
            .filter(|e| self.id_attribute(*e) == Some(value))
            .collect()
    }

    /// IDs carried by more than one element, with those elements, in order of first use.
    pub fn duplicate_ids(&self) -> Vec<(&str, Vec<NodeId>)> {
        let mut seen: HashMap<&str, Vec<NodeId>> = HashMap::new();
        let mut order: Vec<&str> = Vec::new();
        for e in self.elements() {
            if let Some(v) = self.id_attribute(e) {
                let entry = seen.entry(v).or_default();
                if entry.is_empty() {
                    order.push(v);
                }
                entry.push(e);
            }
        }
        order
            .into_iter()
            .filter_map(|v| {
                let nodes = seen.remove(v)?;
                (nodes.len() > 1).then_some((v, nodes))
            })
            .collect()
    }

    /// The children of the document node: the document element and the comments and
    /// processing instructions before and after it, in document order.
    pub fn top_level_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        Children {
            doc: self,
            next: self.nodes.first().map(|_| NodeId(0)),
        }
    }

    /// Every element of the document in document order.
    pub fn elements(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as u32)
            .map(NodeId)
            .filter(|n| self.is_element(*n))
    }

    /// The byte range of a node in the source. For an element this runs from `<` of its start
    /// tag to `>` of its end tag, so `&source()[range]` is the element byte-exactly.
    pub fn range(&self, id: NodeId) -> Range<usize> {
        self.node(id).map(NodeData::range).unwrap_or(0..0)
    }

    /// The exact source text of a node (for an element: start tag to end tag inclusive).
    pub fn raw(&self, id: NodeId) -> &'a str {
        self.src.get(self.range(id)).unwrap_or("")
    }

    /// The byte offset where a node starts in the source.
    pub fn offset(&self, id: NodeId) -> usize {
        self.range(id).start
    }

    /// The qualified names from the document element down to `id`, joined by `/`
    /// (`"samlp:Response/saml:Assertion"`), for finding locations.
    pub fn path(&self, id: NodeId) -> String {
        let mut names: Vec<&str> = std::iter::once(id)
            .chain(self.ancestors(id))
            .filter(|n| self.is_element(*n))
            .map(|n| self.qname(n))
            .collect();
        names.reverse();
        names.join("/")
    }
}

/// Iterator over the children of a node (see [`Document::children`]).
#[derive(Debug, Clone)]
pub struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: Option<NodeId>,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next?;
        self.next = self.doc.node(cur).and_then(|n| n.next_sibling);
        Some(cur)
    }
}

/// Iterator over the descendants of a node in document order (see [`Document::descendants`]).
#[derive(Debug, Clone)]
pub struct Descendants<'d, 'a> {
    doc: &'d Document<'a>,
    next: u32,
    end: u32,
}

impl Iterator for Descendants<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end || self.next as usize >= self.doc.nodes.len() {
            return None;
        }
        let cur = NodeId(self.next);
        self.next += 1;
        Some(cur)
    }
}
