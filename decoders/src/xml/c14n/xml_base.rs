//! The `xml:base` fixup of Canonical XML 1.1 (§2.4): when the ancestors of the apex are left out
//! of the canonical form, the apex must keep the base URI it had in the document, so its
//! `xml:base` becomes its own value joined with those of the omitted ancestors (nearest first,
//! each resolving what was built so far). An apex without `xml:base` under an ancestor that has
//! one gets the ancestor's value; an empty result writes no `xml:base`.
//!
//! Joining is RFC 3986 §5.2.2 reference resolution over strings, with the two changes C14N 1.1
//! needs for bases that are themselves relative (libxml2, the reference implementation of the
//! W3C test cases, behaves the same way):
//! * a `..` that has no segment left to remove is kept, so `..` under `..` gives `../..` instead
//!   of disappearing;
//! * a base whose last segment is `.` or `..` names a directory (`..` is read as `../`).
//!
//! Only string work: nothing is fetched, no scheme is interpreted, no percent-encoding is
//! changed. The result is never longer than the values joined.
//!
//! Not responsible for: which attributes are inherited ([`super`]), or elements deeper than the
//! apex (the subsets canonicalized here omit no ancestor of those).

use super::super::tree::{Document, NodeId, XML_NS};

/// The `xml:base` C14N 1.1 writes on the apex `apex`: its own value resolved against the
/// `xml:base` of each ancestor, nearest first; `None` when nothing is to be written.
pub fn apex_base(doc: &Document<'_>, apex: NodeId) -> Option<String> {
    let own = doc.attribute_ns(apex, XML_NS, "base");
    let mut joined: Option<String> = None;
    for anc in doc.ancestors(apex) {
        if let Some(base) = doc.attribute_ns(anc, XML_NS, "base") {
            let current = joined.as_deref().or(own).unwrap_or("");
            joined = Some(join(base, current));
        }
    }
    match joined {
        None => own.map(str::to_string),
        Some(j) if j.is_empty() => None,
        Some(j) => Some(j),
    }
}

/// The parts of a URI reference (RFC 3986 Appendix B).
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn split(uri: &str) -> Parts<'_> {
    let (rest, fragment) = match uri.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (uri, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.find([':', '/']) {
        Some(i) if i > 0 && rest.get(i..i + 1) == Some(":") => {
            (rest.get(..i), rest.get(i + 1..).unwrap_or(""))
        }
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            (after.get(..end), after.get(end..).unwrap_or(""))
        }
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// Resolves `reference` against `base` (RFC 3986 §5.2.2 with the changes in the module
/// documentation).
pub fn join(base: &str, reference: &str) -> String {
    let b = split(base);
    let r = split(reference);
    let (scheme, authority, path, query) = if r.scheme.is_some() {
        (r.scheme, r.authority, remove_dot_segments(r.path), r.query)
    } else if r.authority.is_some() {
        (b.scheme, r.authority, remove_dot_segments(r.path), r.query)
    } else if r.path.is_empty() {
        (
            b.scheme,
            b.authority,
            b.path.to_string(),
            r.query.or(b.query),
        )
    } else if r.path.starts_with('/') {
        (b.scheme, b.authority, remove_dot_segments(r.path), r.query)
    } else {
        let merged = merge(&b, r.path);
        (b.scheme, b.authority, remove_dot_segments(&merged), r.query)
    };
    let mut out = String::with_capacity(base.len() + reference.len());
    if let Some(s) = scheme {
        out.push_str(s);
        out.push(':');
    }
    if let Some(a) = authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(&path);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = r.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// RFC 3986 §5.2.3, with a base ending in `.` or `..` read as a directory.
fn merge(base: &Parts<'_>, reference_path: &str) -> String {
    if base.authority.is_some() && base.path.is_empty() {
        return format!("/{reference_path}");
    }
    let last_segment = base.path.rsplit('/').next().unwrap_or("");
    if matches!(last_segment, "." | "..") {
        return format!("{}/{reference_path}", base.path);
    }
    match base.path.rfind('/') {
        Some(i) => format!("{}{reference_path}", base.path.get(..=i).unwrap_or("")),
        None => reference_path.to_string(),
    }
}

/// RFC 3986 §5.2.4 on segments, keeping a `..` of a relative path that has nothing left to
/// remove.
fn remove_dot_segments(path: &str) -> String {
    let absolute = path.starts_with('/');
    let body = if absolute {
        path.get(1..).unwrap_or("")
    } else {
        path
    };
    let segments: Vec<&str> = body.split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let count = segments.len();
    for (i, seg) in segments.into_iter().enumerate() {
        let last = i + 1 == count;
        match seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                match out.last() {
                    Some(prev) if *prev != ".." => {
                        out.pop();
                    }
                    _ if absolute => {}
                    _ => out.push(".."),
                }
                if last {
                    out.push("");
                }
            }
            other => out.push(other),
        }
    }
    let mut s = String::with_capacity(path.len());
    if absolute {
        s.push('/');
    }
    s.push_str(&out.join("/"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    #[test]
    fn rfc3986_reference_resolution_examples() {
        // RFC 3986 §5.4.1 and §5.4.2 (a selection).
        let base = "http://a/b/c/d;p?q";
        for (reference, want) in [
            ("g:h", "g:h"),
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q#s"),
            ("g#s", "http://a/b/c/g#s"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
        ] {
            assert_eq!(join(base, reference), want, "{reference:?}");
        }
    }

    #[test]
    fn relative_bases_keep_leading_dot_dot_segments() {
        // The W3C C14N 1.1 test xmlbase-c14n11spec3-102: `x` under `..` under `..`.
        assert_eq!(join("..", join("..", "x").as_str()), "../../x");
        // xmlbase-c14n11spec-102 and -spec2-102: the omitted `e2` carries the base of `e3`.
        assert_eq!(join("../bar/", "foo"), "../bar/foo");
        assert_eq!(join("bar/", "foo"), "bar/foo");
        assert_eq!(join("/xmlbase11/", "/xmlbase111/"), "/xmlbase111/");
    }

    fn base_of(xml: &str, local: &str) -> Option<String> {
        let doc = Document::parse(xml, &Limits::default()).unwrap();
        let apex = doc
            .elements()
            .find(|e| doc.local_name(*e) == local)
            .unwrap();
        apex_base(&doc, apex)
    }

    #[test]
    fn the_apex_keeps_its_base_uri() {
        let xml = r#"<r xml:base="http://h.example/a/"><m><e xml:base="b/c"/><f/></m></r>"#;
        assert_eq!(base_of(xml, "e").as_deref(), Some("http://h.example/a/b/c"));
        assert_eq!(base_of(xml, "f").as_deref(), Some("http://h.example/a/"));
        assert_eq!(base_of(xml, "r").as_deref(), Some("http://h.example/a/"));
        assert_eq!(
            base_of("<r><e xml:base='x'/></r>", "e").as_deref(),
            Some("x")
        );
        assert_eq!(base_of("<r><e/></r>", "e"), None);
        assert_eq!(base_of("<r xml:base=''><e/></r>", "e"), None);
    }
}
