//! Encrypted SAML 2.0 content (`EncryptedAssertion`, `EncryptedID`, `EncryptedAttribute`), shown
//! with its algorithms, key references and recipient, and opened with the user's decryption keys
//! ([`crate::Trust::decryption`]) through [`crate::xml::enc`].
//!
//! What a key opens is explained exactly as if it had been sent in clear: [`with_decrypted`]
//! replaces each holder the keys open with its plaintext, in two passes (assertions, then the
//! identifiers and attributes inside them), and the explainers read the resulting document. Its
//! signatures are verified in the earliest document that has them ([`Layers::origin`]): a
//! Response signature over the ciphertext in the document as received, an assertion signature
//! in the document where its assertion was decrypted and its own `EncryptedID` is not yet. The
//! wrapping checks run on the decrypted document, so they also see what the encryption hid.
//!
//! Without a key that opens it, an `EncryptedAssertion` is "not checked: encrypted, no --key opens
//! it", never valid or invalid; each key says why it does not open it.
//!
//! Not responsible for the plaintext assertion (see [`super::assertion`]) or for XML Encryption
//! itself ([`crate::xml::enc`]).

use std::ops::Range;

use crate::saml::{Explained, Explainer};
use crate::secrets::{is_credential_value, is_secret_name};
use crate::view::{Finding, Kind, Node};
use crate::xml::enc::{self, Budget, Decryption, EncryptedData};
use crate::xml::{Document, NodeId, SAML2_NS};
use crate::{Context, Limits};

/// Most encrypted holders opened per document and pass.
pub const MAX_ENCRYPTED_ELEMENTS: usize = 32;

/// The encrypted holders, with the elements their plaintext must be.
const HOLDERS: [(&str, &[&str]); 3] = [
    ("EncryptedAssertion", &["Assertion"]),
    ("EncryptedID", &["NameID", "BaseID"]),
    ("EncryptedAttribute", &["Attribute"]),
];

/// One replacement of a pass: the holder's byte range in the document before, and the length of
/// the plaintext that took its place.
#[derive(Debug, Clone)]
struct Splice {
    old: Range<usize>,
    new_len: usize,
}

/// The offset in the document before a pass of an offset in the document after it; `None` when
/// it lies inside a decrypted plaintext.
fn back(splices: &[Splice], p: usize) -> Option<usize> {
    let mut shift: isize = 0;
    for s in splices {
        let start = s.old.start.checked_add_signed(shift)?;
        let end = start + s.new_len;
        if p < start {
            break;
        }
        if p < end {
            return None;
        }
        shift += s.new_len as isize - s.old.len() as isize;
    }
    p.checked_add_signed(-shift)
}

/// The offset after a pass of an offset before it (outside the replaced ranges).
fn forward(splices: &[Splice], p: usize) -> usize {
    let mut shift: isize = 0;
    for s in splices {
        if s.old.start > p {
            break;
        }
        shift += s.new_len as isize - s.old.len() as isize;
    }
    p.saturating_add_signed(shift)
}

/// What was found about one encrypted holder: its view, and the key that opened it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where it is in the explained document: the plaintext element when opened, the holder
    /// otherwise.
    at: usize,
    /// Where the holder is in the document the pass read, to fall back to.
    holder_at: usize,
    /// The holder's local name (`EncryptedAssertion`).
    what: &'static str,
    /// The holder's section: algorithms, keys, and what became of each key.
    node: Node,
    /// The source and route of the key that opened it.
    opened: Option<(String, String)>,
    /// Each key's sentence, for the finding.
    attempts: Vec<String>,
}

/// The documents behind the one explained, and what was decrypted: what the explainers need to
/// verify signatures where they were made and to show where content came from.
#[derive(Debug, Default)]
pub struct Layers<'d> {
    /// Earlier documents, the one received first, each with the splices that made the next.
    earlier: Vec<(&'d Document<'d>, Vec<Splice>)>,
    records: Vec<Record>,
}

impl<'d> Layers<'d> {
    /// The document and element a signature of the explained document `doc` is verified in: the
    /// earliest document that has it as it is.
    pub fn origin(&self, doc: &'d Document<'d>, sig: NodeId) -> (&'d Document<'d>, NodeId) {
        let mut pos = doc.offset(sig);
        let mut at = doc;
        let mut moved = false;
        for (d, splices) in self.earlier.iter().rev() {
            match back(splices, pos) {
                Some(p) => {
                    pos = p;
                    at = d;
                    moved = true;
                }
                None => break,
            }
        }
        if !moved {
            return (doc, sig);
        }
        match at
            .elements()
            .find(|e| at.offset(*e) == pos && at.qname(*e) == doc.qname(sig))
        {
            Some(s) => (at, s),
            None => (doc, sig),
        }
    }

    fn record(&self, at: usize, what: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.at == at && r.what == what)
    }
}

/// Runs `f` on the document the user's keys give: `doc` with every encrypted holder they open
/// replaced by its plaintext, and the [`Layers`] that say what was done. Without keys, or
/// without encrypted content, `f` gets `doc` itself.
pub fn with_decrypted<R>(
    doc: &Document<'_>,
    cx: &Context<'_>,
    f: impl for<'x> FnOnce(&'x Document<'x>, Layers<'x>) -> R,
) -> R {
    let any = |d: &Document<'_>| {
        d.elements().any(|e| {
            d.namespace(e) == SAML2_NS && HOLDERS.iter().any(|(h, _)| *h == d.local_name(e))
        })
    };
    if cx.trust.decryption.is_empty() || !any(doc) {
        return f(doc, Layers::default());
    }
    let mut budget = Budget::default();
    let (text1, mut records) = open_pass(doc, cx, PASS_1, &mut budget);
    let (text1, splices1) = text1.unzip();
    let doc1 = text1
        .as_deref()
        .and_then(|t| read_back(t, &cx.limits, &mut records));
    let Some(doc1) = doc1 else {
        let (text2, more) = open_pass(doc, cx, PASS_2, &mut budget);
        return finish(doc, cx, records, more, text2, Vec::new(), f);
    };
    let splices1 = splices1.unwrap_or_default();
    let (text2, more) = open_pass(&doc1, cx, PASS_2, &mut budget);
    finish(&doc1, cx, records, more, text2, vec![(doc, splices1)], f)
}

/// The holders of the first pass: assertions, which may hold the others.
const PASS_1: &[&str] = &["EncryptedAssertion"];
/// The holders of the second pass, in the assertions the first one opened.
const PASS_2: &[&str] = &["EncryptedID", "EncryptedAttribute"];

/// Parses the text a pass made; on failure the pass is undone: its openings become errors in
/// their holders' sections, and every record points at its holder again.
fn read_back<'t>(text: &'t str, limits: &Limits, records: &mut [Record]) -> Option<Document<'t>> {
    match Document::parse(text, limits) {
        Ok(d) => Some(d),
        Err(e) => {
            for r in records.iter_mut() {
                r.at = r.holder_at;
                if r.opened.take().is_some() {
                    r.node.push(Node::leaf(
                        "decrypted document",
                        format!("cannot be read with the plaintext in place: {e}"),
                        Kind::Error,
                    ));
                }
            }
            None
        }
    }
}

/// The second pass's document, the records mapped into it, and `f` called on it.
fn finish<'s, R>(
    doc: &'s Document<'s>,
    cx: &Context<'_>,
    mut records: Vec<Record>,
    mut more: Vec<Record>,
    text2: Option<(String, Vec<Splice>)>,
    earlier: Vec<(&'s Document<'s>, Vec<Splice>)>,
    f: impl for<'x> FnOnce(&'x Document<'x>, Layers<'x>) -> R,
) -> R {
    let (text2, splices2) = text2.unzip();
    let doc2 = text2
        .as_deref()
        .and_then(|t| read_back(t, &cx.limits, &mut more));
    match &doc2 {
        Some(d2) => {
            let splices = splices2.unwrap_or_default();
            for r in &mut records {
                r.at = forward(&splices, r.at);
            }
            records.extend(more);
            let mut layers: Vec<(&Document<'_>, Vec<Splice>)> = earlier;
            layers.push((doc, splices));
            f(
                d2,
                Layers {
                    earlier: layers,
                    records,
                },
            )
        }
        None => {
            records.extend(more);
            let layers = Layers { earlier, records };
            f(doc, layers)
        }
    }
}

/// One pass over the holders named in `only`: each is tried with every key. Returns the text
/// with the opened ones replaced (if any) and one record per holder.
fn open_pass(
    doc: &Document<'_>,
    cx: &Context<'_>,
    only: &[&str],
    budget: &mut Budget,
) -> (Option<(String, Vec<Splice>)>, Vec<Record>) {
    let holds = |e: NodeId| doc.namespace(e) == SAML2_NS && only.contains(&doc.local_name(e));
    // A holder inside another holder is not SAML: only the outer one is opened, so that no
    // replacement overlaps another.
    let holders: Vec<(NodeId, &'static str, &'static [&'static str])> = doc
        .elements()
        .filter(|e| holds(*e) && !doc.ancestors(*e).any(holds))
        .filter_map(|e| {
            let local = doc.local_name(e);
            HOLDERS
                .iter()
                .find(|(h, _)| *h == local)
                .map(|(h, want)| (e, *h, *want))
        })
        .collect();
    let mut splices: Vec<(Range<usize>, String)> = Vec::new();
    let mut records = Vec::new();
    for (i, (holder, what, want)) in holders.into_iter().enumerate() {
        if i >= MAX_ENCRYPTED_ELEMENTS {
            let data = enc::encrypted_data_in(doc, holder)
                .map(|d| EncryptedData::parse(doc, d, &cx.limits));
            records.push(Record {
                at: doc.offset(holder),
                holder_at: doc.offset(holder),
                what,
                node: holder_node(doc, holder, data.as_ref(), &Decryption::default(), cx),
                opened: None,
                attempts: vec![format!(
                    "no key tried: the document has more than {MAX_ENCRYPTED_ELEMENTS} encrypted \
                     elements"
                )],
            });
            continue;
        }
        let context: Vec<(String, String)> = doc
            .in_scope_namespaces(holder)
            .into_iter()
            .map(|(p, u)| (p.to_string(), u.to_string()))
            .collect();
        let limits = &cx.limits;
        let accept = |pt: &[u8]| plaintext(pt, &context, want, limits).map(|_| ());
        let data =
            enc::encrypted_data_in(doc, holder).map(|d| EncryptedData::parse(doc, d, limits));
        let dec = match &data {
            Some(d) => enc::decrypt(d, &cx.trust.decryption, budget, &accept),
            None => Decryption::default(),
        };
        let node = holder_node(doc, holder, data.as_ref(), &dec, cx);
        let attempts = dec.attempts.iter().map(enc::Attempt::sentence).collect();
        let mut record = Record {
            at: doc.offset(holder),
            holder_at: doc.offset(holder),
            what,
            node,
            opened: None,
            attempts,
        };
        if let Some(o) = &dec.opened
            && let Ok(text) = plaintext(&o.plaintext, &context, want, limits)
        {
            record.opened = Some((o.source.clone(), o.via.clone()));
            splices.push((doc.range(holder), text));
        }
        records.push(record);
    }
    if splices.is_empty() {
        return (None, records);
    }
    let src = doc.source();
    let mut text = String::with_capacity(src.len());
    let mut done = Vec::new();
    let mut last = 0;
    for (range, plain) in splices {
        text.push_str(src.get(last..range.start).unwrap_or(""));
        // An opened record is found again where its plaintext starts.
        if let Some(r) = records
            .iter_mut()
            .find(|r| r.opened.is_some() && r.at == range.start)
        {
            r.at = text.len();
        }
        text.push_str(&plain);
        done.push(Splice {
            old: range.clone(),
            new_len: plain.len(),
        });
        last = range.end;
    }
    text.push_str(src.get(last..).unwrap_or(""));
    // Holders that stay encrypted move with the text around them.
    for r in records.iter_mut().filter(|r| r.opened.is_none()) {
        r.at = forward(&done, r.at);
    }
    (Some((text, done)), records)
}

/// The plaintext as the element it must be: UTF-8, without a BOM or XML declaration, one
/// element named in `want` (SAML 2.0 assertion namespace) when read with the namespaces in
/// scope at its holder, and nothing else but whitespace.
fn plaintext(
    pt: &[u8],
    context: &[(String, String)],
    want: &[&str],
    limits: &Limits,
) -> Result<String, String> {
    let text = std::str::from_utf8(pt).map_err(|_| "the plaintext is not UTF-8".to_string())?;
    let mut text = text.trim_start_matches('\u{feff}').trim();
    if text.starts_with("<?xml")
        && let Some(end) = text.find("?>")
    {
        text = text.get(end + 2..).unwrap_or("").trim();
    }
    let mut wrapper = String::from("<idscope-context");
    for (p, u) in context {
        let u = u
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;");
        if p.is_empty() {
            wrapper.push_str(&format!(" xmlns=\"{u}\""));
        } else {
            wrapper.push_str(&format!(" xmlns:{p}=\"{u}\""));
        }
    }
    wrapper.push('>');
    wrapper.push_str(text);
    wrapper.push_str("</idscope-context>");
    let doc =
        Document::parse(&wrapper, limits).map_err(|e| format!("the plaintext is not XML: {e}"))?;
    let root = doc.root().ok_or("the plaintext is empty")?;
    let mut elements = doc.child_elements(root);
    let first = elements.next().ok_or("the plaintext holds no element")?;
    let stray_text = doc
        .children(root)
        .any(|c| !doc.is_element(c) && doc.text(c).is_some_and(|t| !t.trim().is_empty()));
    if elements.next().is_some() || stray_text {
        return Err("the plaintext holds more than one element".into());
    }
    if doc.namespace(first) != SAML2_NS || !want.contains(&doc.local_name(first)) {
        return Err(format!(
            "it holds {{{}}}{}, not a saml:{}",
            doc.namespace(first),
            doc.local_name(first),
            want.join(" or saml:")
        ));
    }
    Ok(text.to_string())
}

/// The section of one holder: its algorithms, keys and cipher values, and what each key did.
fn holder_node(
    doc: &Document<'_>,
    holder: NodeId,
    data: Option<&EncryptedData>,
    dec: &Decryption,
    cx: &Context<'_>,
) -> Node {
    let mut n = Node::section(doc.qname(holder));
    n.note = Some(match &dec.opened {
        Some(o) => format!(
            "encrypted for the relying party's key; opened with {}: what it held is explained \
             below as if it had been sent in clear",
            o.source
        ),
        None => "encrypted for the relying party's key; no --key opens it".to_string(),
    });
    if let Some(o) = &dec.opened {
        n.value = Some(format!("decrypted with {}", o.source));
    }
    match data {
        Some(d) => n.children.extend(d.to_nodes(doc, cx.now)),
        None => n.push(Node::leaf("EncryptedData", "missing", Kind::Error)),
    }
    n.children.extend(dec.keys_node());
    n
}

/// The section of a holder nobody opened, with its finding: from the record of the attempts, or
/// built here when no key was given.
fn closed(ex: &mut Explainer<'_, '_>, el: NodeId, label: &str) -> Node {
    let doc = ex.doc;
    let what = doc.local_name(el);
    let (mut node, attempts) = match ex.decrypted.record(doc.offset(el), what) {
        Some(r) => (r.node.clone(), r.attempts.clone()),
        None => {
            let data = enc::encrypted_data_in(doc, el)
                .map(|d| EncryptedData::parse(doc, d, &ex.cx.limits));
            let node = holder_node(doc, el, data.as_ref(), &Decryption::default(), ex.cx);
            (node, Vec::new())
        }
    };
    node.label = label.to_string();
    let tried = if attempts.is_empty() {
        String::new()
    } else {
        format!(" ({})", attempts.join("; "))
    };
    let message = match what {
        "EncryptedAssertion" => format!(
            "not checked: encrypted, no --key opens it: the EncryptedAssertion's subject, \
             attributes and signature stay hidden{tried}"
        ),
        "EncryptedID" => {
            format!("the NameID is encrypted (EncryptedID), and no --key opens it{tried}")
        }
        _ => format!("an attribute is encrypted ({what}), and no --key opens it{tried}"),
    };
    ex.findings.push(Finding::info(message).at(doc.path(el)));
    node
}

/// An `EncryptedID` or `EncryptedAttribute` that stayed encrypted, with its finding.
pub(super) fn encrypted_node(ex: &mut Explainer<'_, '_>, el: NodeId, label: &str) -> Node {
    closed(ex, el, label)
}

/// If `el` is the plaintext of an opened holder, puts its explanation inside the holder's section
/// (which says which key opened it), marks the credentials in it secret, says so in a finding,
/// and adds the key to the summary.
pub(crate) fn opened(ex: &mut Explainer<'_, '_>, el: NodeId, explained: &mut Explained) {
    let node = std::mem::replace(&mut explained.node, Node::section(""));
    let (node, source) = wrap(ex, el, node);
    explained.node = node;
    if let Some(source) = source {
        explained
            .summary
            .push_str(&format!(", decrypted with {source}"));
    }
}

/// [`opened`] for a node without a summary (a `NameID`, an `Attribute`).
pub(super) fn opened_node(ex: &mut Explainer<'_, '_>, el: NodeId, node: Node) -> Node {
    wrap(ex, el, node).0
}

fn wrap(ex: &mut Explainer<'_, '_>, el: NodeId, mut inner: Node) -> (Node, Option<String>) {
    let doc = ex.doc;
    let Some(r) = HOLDERS
        .iter()
        .filter(|(_, want)| want.contains(&doc.local_name(el)))
        .find_map(|(h, _)| ex.decrypted.record(doc.offset(el), h))
    else {
        return (inner, None);
    };
    let Some((source, via)) = r.opened.clone() else {
        return (inner, None);
    };
    let mut holder = r.node.clone();
    let what = r.what;
    mark_secrets(&mut inner);
    holder.push(inner);
    ex.findings.push(
        Finding::info(format!(
            "the {what} was decrypted with {source} ({via}); what it held is explained as if it \
             had been sent in clear"
        ))
        .at(doc.path(el)),
    );
    (holder, Some(source))
}

/// Marks as secret the decrypted values that are credentials: values under a credential's name
/// (an attribute called `password`), JWTs and PEM private keys.
fn mark_secrets(n: &mut Node) {
    if n.kind != Kind::Section
        && let Some(v) = &n.value
        && (is_secret_name(&n.label) || is_credential_value(v))
    {
        n.kind = Kind::Secret;
    }
    for c in &mut n.children {
        mark_secrets(c);
    }
}

/// Explains a `saml:EncryptedAssertion` that no key opened.
pub fn explain_encrypted(ex: &mut Explainer<'_, '_>, el: NodeId) -> Explained {
    let node = closed(ex, el, ex.doc.qname(el));
    let alg = node
        .child("EncryptionMethod")
        .and_then(|n| n.value.as_deref())
        .and_then(|v| v.rsplit('#').next())
        .unwrap_or("unknown algorithm")
        .to_string();
    let state = if ex.cx.trust.decryption.is_empty() {
        "not decrypted"
    } else {
        "no --key opens it"
    };
    Explained {
        node,
        summary: format!("SAML 2.0 EncryptedAssertion ({alg}), {state}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_back_and_forward_around_splices() {
        // Two splices in "aa1111bb22cc": bytes 2..6 became 7 bytes, bytes 8..10 became 1 byte.
        let s = vec![
            Splice {
                old: 2..6,
                new_len: 7,
            },
            Splice {
                old: 8..10,
                new_len: 1,
            },
        ];
        assert_eq!(back(&s, 0), Some(0));
        assert_eq!(back(&s, 2), None);
        assert_eq!(back(&s, 8), None);
        assert_eq!(back(&s, 9), Some(6));
        assert_eq!(back(&s, 10), Some(7));
        assert_eq!(back(&s, 11), None);
        assert_eq!(back(&s, 12), Some(10));
        assert_eq!(forward(&s, 0), 0);
        assert_eq!(forward(&s, 6), 9);
        assert_eq!(forward(&s, 10), 12);
    }
}
