//! Generic view pieces for any part of a SOAP message: bounded element trees ([`element_tree`])
//! that mask credential-looking elements ([`is_secret_name`]), and `xs:dateTime` values
//! ([`xs_datetime_epoch`], [`datetime_node`]). Not responsible for the meaning of particular
//! headers or bodies (see the modules beside it and the protocol decoders).

use std::time::SystemTime;

use super::{XSI_NS, is_nil};

use crate::util;
use crate::view::{Kind, Node};
use crate::xml::{Document, NodeId, NodeKind};

/// Label names whose text is a credential wherever they appear in a SOAP body or header: a
/// generic tree marks them [`Kind::Secret`]. The secrets policy decides
/// ([`crate::secrets::is_secret_element`]; it fails closed: better a masked harmless value than a
/// shown password).
pub fn is_secret_name(local: &str) -> bool {
    crate::secrets::is_secret_element(local)
}

/// A bounded view tree of an element: its qualified name as label, its text as value, its
/// attributes (`@name`) and child elements as children. At most `max_nodes` nodes are built;
/// the rest is replaced by a marker. Credential-looking elements ([`is_secret_name`]) are
/// [`Kind::Secret`].
pub fn element_tree(doc: &Document<'_>, id: NodeId, max_nodes: usize) -> Node {
    let mut left = max_nodes.max(1);
    tree_rec(doc, id, &mut left, 0)
}

fn tree_rec(doc: &Document<'_>, id: NodeId, left: &mut usize, depth: usize) -> Node {
    *left = left.saturating_sub(1);
    let local = doc.local_name(id);
    let mut node = Node::section(doc.qname(id));
    let children: Vec<NodeId> = doc.child_elements(id).collect();
    let has_text = doc
        .children(id)
        .any(|c| matches!(doc.kind(c), Some(NodeKind::Text | NodeKind::CData)));
    if children.is_empty() {
        if is_nil(doc, id) {
            node.value = Some("(nil)".to_string());
            node.kind = Kind::Field;
        } else {
            let t = doc.text_content(id);
            node.value = Some(t.trim().to_string());
            let looks_secret =
                is_secret_name(local) || crate::secrets::is_credential_value(t.trim());
            node.kind = if looks_secret && !t.trim().is_empty() {
                Kind::Secret
            } else {
                Kind::Field
            };
        }
    } else if has_text {
        let t: String = doc
            .children(id)
            .filter(|c| matches!(doc.kind(*c), Some(NodeKind::Text | NodeKind::CData)))
            .filter_map(|c| doc.text(c))
            .collect();
        if !t.trim().is_empty() {
            node.value = Some(t.trim().to_string());
        }
    }
    for a in doc.attributes(id) {
        if a.namespace == XSI_NS && a.local == "nil" {
            continue;
        }
        if *left == 0 {
            break;
        }
        *left -= 1;
        node.push(Node::field(format!("@{}", a.qname), a.value));
    }
    for (i, c) in children.iter().enumerate() {
        if *left == 0 || depth >= 64 {
            node.push(Node::leaf(
                "…",
                format!(
                    "{} more element(s) not shown (view size limit)",
                    children.len() - i
                ),
                Kind::Text,
            ));
            break;
        }
        node.push(tree_rec(doc, *c, left, depth + 1));
    }
    node
}

/// Parses an `xs:dateTime` (`2023-11-14T22:13:20Z`, fractions and offsets allowed; no zone means
/// UTC) to seconds since the epoch.
pub fn xs_datetime_epoch(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let with_z = format!("{s}Z");
    time::OffsetDateTime::parse(&with_z, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// An `xs:dateTime` node with its time relative to `now` in the note.
pub fn datetime_node(label: &str, value: &str, now: SystemTime) -> Node {
    match xs_datetime_epoch(value) {
        Some(secs) => Node::leaf(label, value, Kind::Timestamp)
            .with_note(util::format_epoch_relative(secs, now)),
        None => Node::field(label, value),
    }
}
