//! Showing a parsed [`Document`] to a person: the content of an element as a view shows it
//! (whitespace-only text left out), its direct text, and [`pretty_xml`], an indented rendering
//! for display. Used by the generic XML view and the realm decoder's `xml=1` answer, which read
//! their documents with [`Document::parse_lenient`].
//!
//! Nothing here reads XML: every function walks a [`Document`] built by [`super::tree`]. The
//! output is for reading only; whitespace inside signed XML is significant, so these bytes must
//! never be forwarded in place of the source.

use super::tree::{Document, NodeId, NodeKind};

/// True for a text node that holds only whitespace (such text between elements is layout, not
/// content, and is not shown).
fn is_blank_text(doc: &Document<'_>, id: NodeId) -> bool {
    doc.kind(id) == Some(NodeKind::Text) && doc.text(id).unwrap_or("").trim().is_empty()
}

/// The children of `id` as shown: elements, text, CDATA, comments and processing instructions in
/// document order, whitespace-only text left out.
pub fn shown_children<'d>(doc: &'d Document<'_>, id: NodeId) -> impl Iterator<Item = NodeId> + 'd {
    doc.children(id).filter(move |c| !is_blank_text(doc, *c))
}

/// The text and CDATA directly inside `id`, concatenated and trimmed (text of child elements is
/// not included).
pub fn direct_text(doc: &Document<'_>, id: NodeId) -> String {
    let mut s = String::new();
    for c in shown_children(doc, id) {
        if let Some(NodeKind::Text | NodeKind::CData) = doc.kind(c) {
            s.push_str(doc.text(c).unwrap_or(""));
        }
    }
    s.trim().to_string()
}

/// True when an element has no attributes or namespace declarations and shows only text and
/// CDATA (or nothing), so a view can show it as one `name: text` line.
pub fn is_simple(doc: &Document<'_>, id: NodeId) -> bool {
    doc.written_attributes(id).is_empty()
        && shown_children(doc, id)
            .all(|c| matches!(doc.kind(c), Some(NodeKind::Text | NodeKind::CData)))
}

/// The content of a processing instruction as written between `<?` and `?>` (`target data`).
pub fn pi_content<'a>(doc: &Document<'a>, id: NodeId) -> &'a str {
    let raw = doc.raw(id);
    raw.strip_prefix("<?")
        .and_then(|r| r.strip_suffix("?>"))
        .unwrap_or(raw)
}

/// How many elements the subtree of `id` holds, `id` included.
pub fn element_count(doc: &Document<'_>, id: NodeId) -> usize {
    usize::from(doc.is_element(id)) + doc.descendants(id).filter(|d| doc.is_element(*d)).count()
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;")
}

/// Pretty-prints the element `id` with two-space indentation: names and attributes (namespace
/// declarations included) as written, values re-escaped, text trimmed, an element holding only
/// text and CDATA on one line, whitespace-only text left out. For display only.
pub fn pretty_xml(doc: &Document<'_>, id: NodeId) -> String {
    let mut out = String::new();
    write_pretty(doc, id, 0, &mut out);
    out
}

fn write_pretty(doc: &Document<'_>, id: NodeId, level: usize, out: &mut String) {
    let name = doc.qname(id);
    let pad = "  ".repeat(level);
    out.push_str(&pad);
    out.push('<');
    out.push_str(name);
    for (k, v) in doc.written_attributes(id) {
        out.push_str(&format!(" {k}=\"{}\"", escape_attr(v)));
    }
    let children: Vec<NodeId> = shown_children(doc, id).collect();
    if children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    let inline = children
        .iter()
        .all(|c| matches!(doc.kind(*c), Some(NodeKind::Text | NodeKind::CData)));
    if inline {
        for &c in &children {
            let t = doc.text(c).unwrap_or("");
            match doc.kind(c) {
                Some(NodeKind::Text) => out.push_str(&escape_text(t.trim())),
                Some(NodeKind::CData) => out.push_str(&format!("<![CDATA[{t}]]>")),
                _ => {}
            }
        }
    } else {
        out.push('\n');
        let inner = "  ".repeat(level + 1);
        for &c in &children {
            let t = doc.text(c).unwrap_or("");
            match doc.kind(c) {
                Some(NodeKind::Element) => write_pretty(doc, c, level + 1, out),
                Some(NodeKind::Text) => {
                    out.push_str(&format!("{inner}{}\n", escape_text(t.trim())))
                }
                Some(NodeKind::CData) => out.push_str(&format!("{inner}<![CDATA[{t}]]>\n")),
                Some(NodeKind::Comment) => out.push_str(&format!("{inner}<!--{t}-->\n")),
                Some(NodeKind::ProcessingInstruction) => {
                    out.push_str(&format!("{inner}<?{}?>\n", pi_content(doc, c)));
                }
                None => {}
            }
        }
        out.push_str(&pad);
    }
    out.push_str(&format!("</{name}>\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    #[test]
    fn pretty_xml_indents_and_leaves_out_layout_whitespace() {
        let src = "<s:E xmlns:s='urn:s' a='1 &lt; 2'>\n  <s:B>x &amp; y</s:B>\n  <!-- c -->\
                   <?pi data?><C><![CDATA[<raw>]]></C><D/><u:F>t</u:F></s:E>";
        let doc = Document::parse_lenient(src, &Limits::default()).unwrap();
        let root = doc.root().unwrap();
        assert_eq!(
            pretty_xml(&doc, root),
            "<s:E xmlns:s=\"urn:s\" a=\"1 &lt; 2\">\n  <s:B>x &amp; y</s:B>\n  <!-- c -->\n  \
             <?pi data?>\n  <C><![CDATA[<raw>]]></C>\n  <D/>\n  <u:F>t</u:F>\n</s:E>\n"
        );
        assert_eq!(element_count(&doc, root), 5);
        assert!(!is_simple(&doc, root));
        let b = doc.child_elements(root).next().unwrap();
        assert!(is_simple(&doc, b));
        assert_eq!(direct_text(&doc, b), "x & y");
        let kinds: Vec<_> = shown_children(&doc, root)
            .filter_map(|c| doc.kind(c))
            .collect();
        assert_eq!(
            kinds,
            [
                NodeKind::Element,
                NodeKind::Comment,
                NodeKind::ProcessingInstruction,
                NodeKind::Element,
                NodeKind::Element,
                NodeKind::Element
            ]
        );
        let pi = shown_children(&doc, root).nth(2).unwrap();
        assert_eq!(pi_content(&doc, pi), "pi data");
    }
}
