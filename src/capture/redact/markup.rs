//! The markup rules: XML (SAML, WS-Trust, SOAP), the SAML bindings (base64, raw DEFLATE, zlib,
//! entity-encoded `wresult`), .NET binary XML (`application/soap+msbin1`), and form_post /
//! auto-POST HTML pages. XML is parsed into the decoders' bounded tree (DOCTYPE refused,
//! entities never expanded), element text is replaced by byte range, and the result is
//! re-encoded in the encoding it came in; the rest of the document stays byte-identical.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use idscope_decoders::html::{HtmlAttr, decode_entities, start_tag_attributes};
use idscope_decoders::saml::saml2::{Compression, inflate_redirect};
use idscope_decoders::soap::nbfx::{self, DecodeOptions, Framing, Session, Style};
use idscope_decoders::xml::{Document, NodeId};

use idscope_decoders::secrets::{self, Element};

use super::values::{Cx, NameClass, classify, norm};

/// Names of SAML attributes whose values are personal data (for `--mask-pii`).
const PII_ATTRIBUTE_PARTS: &[&str] = &[
    "upn",
    "email",
    "name",
    "immutableid",
    "objectidentifier",
    "objectguid",
    "sid",
];

/// What to do with one element's content.
enum Action {
    Remove(&'static str, &'static str),
    Password,
    Token(&'static str),
    Pii,
    Keyed,
    /// The key rules under another name: a dictionary entry's `Value` under its `Key`.
    KeyedAs(String),
}

impl Cx<'_> {
    /// The XML rules over a document. `None` when it does not parse (callers fail closed);
    /// `Some(None)` when nothing changed.
    pub(super) fn xml(&mut self, text: &str) -> Option<Option<String>> {
        // A byte-order mark before the document (some IdPs send one) stays where it is.
        if let Some(rest) = text.strip_prefix('\u{feff}') {
            return self.xml(rest).map(|r| r.map(|x| format!("\u{feff}{x}")));
        }
        let limits = self.policy.limits;
        let doc = Document::parse(text, &limits).ok()?;
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut done_until = 0usize;
        for el in doc.elements() {
            let range = doc.range(el);
            if range.start < done_until {
                continue;
            }
            let Some(action) = self.xml_action(&doc, el) else {
                continue;
            };
            let Some((cs, ce)) = content_range(&doc, el) else {
                continue;
            };
            let has_elements = doc.child_elements(el).next().is_some();
            let value = if has_elements {
                text.get(cs..ce).unwrap_or("").to_string()
            } else {
                doc.text_content(el)
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let rep = match action {
                Action::Remove(rule, kind) => {
                    (!self.already(value)).then(|| self.remove(rule, kind, value))
                }
                Action::Password => (!self.already(value)).then(|| self.password(value)),
                Action::Token(kind) => self.token(value, kind),
                Action::Pii => (!self.already(value)).then(|| self.remove("pii", "pii", value)),
                Action::Keyed | Action::KeyedAs(_) if has_elements => None,
                Action::Keyed => self.keyed(doc.local_name(el), value),
                Action::KeyedAs(name) => self.keyed(&name, value),
            };
            if let Some(rep) = rep {
                edits.push((cs, ce, escape_text(&rep)));
                done_until = ce;
            }
        }
        if edits.is_empty() {
            return Some(None);
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (s, e, rep) in &edits {
            out.push_str(text.get(pos..*s)?);
            out.push_str(rep);
            pos = *e;
        }
        out.push_str(text.get(pos..)?);
        Some(Some(out))
    }

    fn xml_action(&self, doc: &Document<'_>, el: NodeId) -> Option<Action> {
        let local = doc.local_name(el);
        let n = norm(local);
        if let Some(entry) = doc
            .parent(el)
            .filter(|p| secrets::is_dictionary_entry(doc.local_name(*p)))
        {
            // `<KeyValueOf…><Key>name</Key><Value>…</Value>`: the key is a name, and the value
            // is judged by it.
            match n.as_str() {
                "key" => return None,
                "value" => {
                    let key = doc
                        .child_elements(entry)
                        .find(|c| norm(doc.local_name(*c)) == "key")
                        .map(|k| doc.text_content(k))?;
                    return Some(Action::KeyedAs(key.trim().to_string()));
                }
                _ => {}
            }
        }
        Some(match secrets::element(local) {
            Element::SignatureValue => Action::Remove("xml_signature_value", "xml_signature"),
            Element::CipherValue => Action::Remove("xml_cipher_value", "xml_cipher"),
            Element::Nonce => Action::Remove("wsse_nonce", "nonce"),
            Element::BinarySecret => Action::Remove("binary_secret", "secret"),
            Element::Artifact => Action::Remove("credential", "saml_artifact"),
            Element::BinarySecurityToken => {
                let x509 = doc
                    .attributes(el)
                    .any(|a| a.local == "ValueType" && secrets::is_certificate_value_type(a.value));
                if x509 {
                    return None;
                }
                Action::Remove("binary_security_token", "binary_security_token")
            }
            Element::BearerToken => Action::Token("bearer_token"),
            Element::CredentialData => Action::Remove("credential_data", "credential_data"),
            Element::Public => return None,
            Element::ByName => self.xml_name_action(doc, el, local, &n)?,
        })
    }

    /// The rule for an element without a rule of its own: passwords, personal data (with
    /// `--mask-pii`), and the key rules by its name.
    fn xml_name_action(
        &self,
        doc: &Document<'_>,
        el: NodeId,
        local: &str,
        n: &str,
    ) -> Option<Action> {
        Some(match n {
            _ if n.ends_with("password") || n.ends_with("passwd") => Action::Password,
            "nameid" | "nameidentifier" | "username" if self.policy.mask_pii => Action::Pii,
            "attributevalue" if self.policy.mask_pii => {
                let attr = doc.parent(el)?;
                let name = doc
                    .attributes(attr)
                    .find(|a| matches!(a.local, "Name" | "AttributeName" | "FriendlyName"))
                    .map(|a| norm(a.value))
                    .unwrap_or_default();
                let tail = name.rsplit('/').next().unwrap_or("");
                if PII_ATTRIBUTE_PARTS.iter().any(|p| tail.contains(p)) {
                    Action::Pii
                } else {
                    return None;
                }
            }
            _ => match classify(local) {
                NameClass::Public => return None,
                NameClass::Plain | NameClass::Pii | NameClass::Saml => {
                    // Leaf text that is a URL still goes through the URL rule.
                    let leaf = doc.child_elements(el).next().is_none();
                    if leaf && super::values::is_url(&doc.text_content(el)) {
                        Action::Keyed
                    } else {
                        return None;
                    }
                }
                _ => Action::Keyed,
            },
        })
    }

    /// The SAML rule for `SAMLRequest` / `SAMLResponse` / `wresult` values (already URL- and
    /// entity-decoded): plain XML, or base64 of raw DEFLATE, zlib or plain XML, re-encoded the
    /// same way. `None` when it does not decode.
    pub(super) fn saml(&mut self, _key: &str, value: &str) -> Option<Option<String>> {
        if value.trim_start().starts_with('<') {
            return self.xml(value);
        }
        let limits = self.policy.limits;
        let (bytes, compression) = inflate_redirect(value, "SAML message", &limits).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let Some(new) = self.xml(text)? else {
            return Some(None);
        };
        let raw = match compression {
            Compression::RawDeflate => {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(new.as_bytes()).ok()?;
                e.finish().ok()?
            }
            Compression::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(new.as_bytes()).ok()?;
                e.finish().ok()?
            }
            Compression::None => new.into_bytes(),
        };
        Some(Some(STANDARD.encode(raw)))
    }

    /// .NET binary XML: decoded to XML, redacted, encoded again in the style that reproduces
    /// the original bytes (DataContract when neither does). `None` when it does not decode or
    /// does not re-encode (callers fail closed).
    pub(super) fn msbin(&mut self, bytes: &[u8]) -> Option<Option<Vec<u8>>> {
        let opts = DecodeOptions::from_limits(&self.policy.limits);
        let doc = nbfx::decode(bytes, &opts).ok()?;
        let Some(new) = self.xml(&doc.xml)? else {
            return Some(None);
        };
        let encode = |xml: &str, style: Style| match doc.framing {
            Framing::MsbinSession1 => nbfx::encode_session(xml, style, &mut Session::new()),
            _ => nbfx::encode(xml, style),
        };
        let style = [Style::DataContract, Style::XmlDocument]
            .into_iter()
            .find(|s| encode(&doc.xml, *s).ok().as_deref() == Some(bytes))
            .unwrap_or(Style::DataContract);
        encode(&new, style).ok().map(Some)
    }

    /// An HTML page: `<form action>` through the URL rule, every `<input name value>` through
    /// the key rules (so a form_post `code`/`id_token` or an ADFS `wresult` is redacted).
    /// `None` when nothing changed.
    pub(super) fn html(&mut self, html: &str) -> Option<String> {
        let lower = html.to_ascii_lowercase();
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut pos = 0;
        while let Some(i) = lower.get(pos..).and_then(|r| r.find('<')) {
            let at = pos + i;
            let rest = lower.get(at + 1..).unwrap_or("");
            let tag = ["form", "input"].into_iter().find(|t| {
                rest.starts_with(t)
                    && rest
                        .as_bytes()
                        .get(t.len())
                        .is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
            });
            let Some(tag) = tag else {
                pos = at + 1;
                continue;
            };
            let (attrs, end) = start_tag_attributes(html, at + 1 + tag.len());
            let get = |n: &str| attrs.iter().find(|a| a.name == n && a.value.is_some());
            let text = |a: &HtmlAttr| {
                decode_entities(a.value.clone().and_then(|r| html.get(r)).unwrap_or(""))
            };
            if tag == "form" {
                if let Some(a) = get("action")
                    && let Some(new) = self.url(&text(a))
                {
                    edits.extend(replacement(a, &new));
                }
            } else if let (Some(n), Some(v)) = (get("name"), get("value"))
                && let Some(new) = self.keyed(&text(n), &text(v))
            {
                edits.extend(replacement(v, &new));
            }
            pos = end.max(at + 1);
        }
        if edits.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(html.len());
        let mut p = 0;
        for (s, e, rep) in &edits {
            out.push_str(html.get(p..*s)?);
            out.push_str(rep);
            p = *e;
        }
        out.push_str(html.get(p..)?);
        Some(out)
    }
}

/// The byte range of an element's content (between its start and end tags).
fn content_range(doc: &Document<'_>, el: NodeId) -> Option<(usize, usize)> {
    let mut children = doc.children(el);
    let first = children.next()?;
    let last = children.last().unwrap_or(first);
    let s = doc.range(first).start;
    let e = doc.range(last).end;
    (s < e).then_some((s, e))
}

/// Escapes text for XML element content.
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The edit that puts `value` (entity-encoded, always double-quoted) in place of an
/// attribute's value; `None` for a bare attribute (nothing to replace).
fn replacement(attr: &HtmlAttr, value: &str) -> Option<(usize, usize, String)> {
    let range = attr.value.clone()?;
    let enc = value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let enc = if attr.quoted {
        enc
    } else {
        format!("\"{enc}\"")
    };
    Some((range.start, range.end, enc))
}
