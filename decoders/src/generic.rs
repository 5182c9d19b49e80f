//! Generic fallback decoders: [`Json`], [`Form`], [`Xml`], [`Url`] and [`Base64`]. They apply to
//! nearly anything of their syntax, so they answer with low priorities (0.1–0.3) and every
//! protocol decoder wins over them; their ids are listed in [`crate::registry::GENERIC`].
//!
//! This module is responsible for faithful, bounded trees of those syntaxes: JSON members in wire
//! order (duplicates kept and flagged), form and query parameters in order, XML elements with
//! attributes, and values under secret-looking names marked [`Kind::Secret`] (see
//! [`is_secret_name`]). Values that are something more (a JWT in a JSON string, base64 of XML in a
//! query parameter) are decoded one level deeper through [`Context::decode_nested`].
//!
//! XML rules ([`parse_xml`]): a DTD is never processed and entities are never resolved, so a
//! `<!DOCTYPE` is refused outright; only the five predefined entities and character references are
//! turned into text, any other `&name;` stays literal and is flagged. Depth, node count and size
//! are capped by [`Limits`]. quick-xml is used as an event reader and is never given an entity
//! resolver.
//!
//! It is not responsible for what a protocol means: the realm, OIDC, OAuth and JWT decoders explain
//! fields; here a field is only a name, a value and maybe a nested decode.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;

use quick_xml::events::Event;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Context, DecodeError, Decoder, Limits, Message};

// ---------------------------------------------------------------------------------------------
// Secret names

/// True when a field, parameter or element named `name` carries a credential, by the one secrets
/// policy ([`crate::secrets::is_secret_name`]).
pub fn is_secret_name(name: &str) -> bool {
    crate::secrets::is_secret_name(name)
}

// ---------------------------------------------------------------------------------------------
// Ordered JSON

/// A JSON value that keeps object members in wire order, duplicates included, so views show what
/// was sent rather than a re-sorted map.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json read it.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object's members in wire order (a repeated key appears twice).
    Object(Vec<(String, JsonValue)>),
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<JsonValue, E> {
                Ok(JsonValue::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<JsonValue, E> {
                Ok(JsonValue::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<JsonValue, E> {
                Ok(JsonValue::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<JsonValue, E> {
                serde_json::Number::from_f64(n)
                    .map(JsonValue::Number)
                    .ok_or_else(|| E::custom("number is not finite"))
            }
            fn visit_str<E>(self, s: &str) -> Result<JsonValue, E> {
                Ok(JsonValue::String(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<JsonValue, E> {
                Ok(JsonValue::String(s))
            }
            fn visit_unit<E>(self) -> Result<JsonValue, E> {
                Ok(JsonValue::Null)
            }
            fn visit_none<E>(self) -> Result<JsonValue, E> {
                Ok(JsonValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<JsonValue, D::Error> {
                JsonValue::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(JsonValue::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonValue, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, JsonValue>()? {
                    members.push((k, v));
                }
                Ok(JsonValue::Object(members))
            }
        }
        d.deserialize_any(V)
    }
}

/// Lowercases and drops `_` and `-`, so `domain_name`, `DomainName` and `domainName` compare equal.
fn loose_key(k: &str) -> String {
    k.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl JsonValue {
    /// The first member named exactly `key`, if this is an object.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.as_object()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The first member whose name equals `key` ignoring case, `_` and `-` (for APIs that mix
    /// `domain_name` and `DomainName`).
    pub fn get_loose(&self, key: &str) -> Option<&JsonValue> {
        let want = loose_key(key);
        self.as_object()?
            .iter()
            .find(|(k, _)| loose_key(k) == want)
            .map(|(_, v)| v)
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<&[(String, JsonValue)]> {
        match self {
            JsonValue::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[JsonValue]> {
        match self {
            JsonValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integer given as a number or as a string of digits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            JsonValue::Number(n) => n.as_i64(),
            JsonValue::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A boolean given as `true`/`false` or as the strings `"true"`/`"false"` (any case).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            JsonValue::Bool(b) => Some(*b),
            JsonValue::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            JsonValue::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// A scalar rendered for a view (strings without quotes); containers as compact JSON-ish
    /// counts (`[3 items]`, `{2 keys}`).
    pub fn display(&self) -> String {
        match self {
            JsonValue::Null => "null".into(),
            JsonValue::Bool(b) => b.to_string(),
            JsonValue::Number(n) => n.to_string(),
            JsonValue::String(s) => s.clone(),
            JsonValue::Array(a) => count(a.len(), "item"),
            JsonValue::Object(m) => count(m.len(), "key"),
        }
    }

    /// How many values this tree holds (itself included).
    pub fn node_count(&self) -> usize {
        match self {
            JsonValue::Array(a) => 1 + a.iter().map(JsonValue::node_count).sum::<usize>(),
            JsonValue::Object(m) => 1 + m.iter().map(|(_, v)| v.node_count()).sum::<usize>(),
            _ => 1,
        }
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Parses JSON into a [`JsonValue`], tolerating a UTF-8 byte-order mark, within `limits`:
/// larger than `max_body`, deeper than `max_depth` or with more than `max_nodes` values is
/// [`DecodeError::TooLarge`]; malformed JSON is [`DecodeError::Json`] naming `field`.
pub fn parse_json_ordered(
    bytes: &[u8],
    field: &'static str,
    limits: &Limits,
) -> Result<JsonValue, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.len() > limits.max_body {
        return Err(DecodeError::TooLarge {
            what: "JSON document",
            limit: limits.max_body,
        });
    }
    if util::json_depth(bytes) > limits.max_depth {
        return Err(DecodeError::TooLarge {
            what: "JSON nesting depth",
            limit: limits.max_depth,
        });
    }
    let v: JsonValue = serde_json::from_slice(bytes).map_err(|e| DecodeError::json(field, &e))?;
    if v.node_count() > limits.max_nodes {
        return Err(DecodeError::TooLarge {
            what: "JSON node count",
            limit: limits.max_nodes,
        });
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Nested values

/// At most this many nested decodes per document: a JSON array of ten thousand JWTs is shown, but
/// only the first ones are opened.
const MAX_NESTED_PER_DOC: usize = 32;

/// True for a compact JWS/JWE: `eyJ…` (base64url of `{"`) and 3 or 5 dot-separated parts.
pub fn looks_like_jwt(s: &str) -> bool {
    let s = s.trim();
    let dots = s.bytes().filter(|b| *b == b'.').count();
    s.starts_with("eyJ")
        && (dots == 2 || dots == 4)
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

fn worth_nesting(s: &str) -> bool {
    s.len() >= 16
        && (looks_like_jwt(s)
            || util::is_base64ish(s)
            || s.starts_with('<')
            || s.starts_with('{')
            || s.starts_with('[')
            || starts_with_ci(s, "https://")
            || starts_with_ci(s, "http://"))
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Decodes a value found inside another structure: first by the specific decoders (through
/// [`Context::decode_nested`]), then, unless `secret`, as base64/deflate of something meaningful
/// (the [`Base64`] decoder, one level deeper). A value under a secret name is only opened when it
/// is a JWT, so a view never shows a decoded password in clear. `None` when nothing applies or the
/// nesting limit is reached.
pub fn decode_value(value: &str, secret: bool, cx: &Context<'_>) -> Option<Decoded> {
    let v = value.trim();
    if !worth_nesting(v) || v.len() > cx.limits.max_body || (secret && !looks_like_jwt(v)) {
        return None;
    }
    if let Some(d) = cx.decode_nested(v.as_bytes()) {
        return Some(d);
    }
    if secret || cx.depth >= cx.limits.max_nesting {
        return None;
    }
    let msg = Message::blob(v.as_bytes());
    if Base64.priority(&msg) <= 0.0 {
        return None;
    }
    let inner = Context {
        depth: cx.depth + 1,
        ..*cx
    };
    Base64.decode(&msg, &inner).ok()
}

/// Appends a nested decode as a child `decoded as <id>` (value: the nested summary) holding the
/// nested root's children (its root label would only repeat the decoder id), and lifts its
/// findings with their location re-rooted under `path`.
fn attach_nested(node: &mut Node, d: Decoded, path: &str, findings: &mut Vec<Finding>) {
    let label = format!("decoded as {}", d.decoder);
    let outer = format!("{path}/{label}");
    // A root that says something itself (a value, a note) is kept as it is.
    let children = if d.root.value.is_none() && d.root.note.is_none() {
        lift_findings(d.findings, &d.root.label, &outer, findings);
        d.root.children
    } else {
        lift_findings(d.findings, "", &outer, findings);
        vec![d.root]
    };
    node.push(Node {
        label,
        value: Some(d.summary),
        kind: Kind::Section,
        note: None,
        children,
    });
}

/// Moves findings of a nested decode whose root was labelled `inner_root` so that their `at`
/// points below `outer` instead.
fn lift_findings(from: Vec<Finding>, inner_root: &str, outer: &str, into: &mut Vec<Finding>) {
    for f in from {
        let at = match f.at.as_deref() {
            Some(a) if a == inner_root => outer.to_string(),
            Some(a) if inner_root.is_empty() => format!("{outer}/{a}"),
            Some(a) => match a.strip_prefix(inner_root).and_then(|r| r.strip_prefix('/')) {
                Some(rest) => format!("{outer}/{rest}"),
                None => format!("{outer}/{a}"),
            },
            None => outer.to_string(),
        };
        into.push(Finding {
            severity: f.severity,
            message: f.message,
            at: Some(at),
        });
    }
}

/// State shared while building one view tree from untrusted structured data.
struct Builder<'c, 'a> {
    cx: &'c Context<'a>,
    findings: Vec<Finding>,
    secrets: Vec<String>,
    nested_left: usize,
}

impl<'c, 'a> Builder<'c, 'a> {
    fn new(cx: &'c Context<'a>) -> Self {
        Builder {
            cx,
            findings: Vec::new(),
            secrets: Vec::new(),
            nested_left: MAX_NESTED_PER_DOC,
        }
    }

    /// A leaf for a string value: secret or field, plus a nested decode when it is something.
    fn string_leaf(&mut self, label: &str, value: &str, secret: bool, path: &str) -> Node {
        self.string_leaf_named(label, label, value, secret, path)
    }

    /// As [`Builder::string_leaf`], listing the secret under `name` (an XML element's text is
    /// labelled `#text` but is secret because of the element's name).
    fn string_leaf_named(
        &mut self,
        label: &str,
        name: &str,
        value: &str,
        secret: bool,
        path: &str,
    ) -> Node {
        let mut node = if secret {
            if !self.secrets.iter().any(|s| s == name) {
                self.secrets.push(name.to_string());
            }
            Node::secret(label, value)
        } else {
            Node::field(label, value)
        };
        if self.nested_left > 0 && worth_nesting(value.trim()) {
            self.nested_left -= 1;
            if let Some(d) = decode_value(value, secret, self.cx) {
                attach_nested(&mut node, d, path, &mut self.findings);
            }
        }
        node
    }

    fn json(&mut self, label: &str, v: &JsonValue, secret: bool, path: &str) -> Node {
        match v {
            JsonValue::Object(members) => {
                let mut node = Node::section(label);
                if members.is_empty() {
                    node.value = Some("{}".into());
                }
                // Hash sets: an object may hold up to `max_nodes` keys, and a repeated key is
                // reported once.
                let mut seen: HashSet<&str> = HashSet::new();
                let mut reported: HashSet<&str> = HashSet::new();
                for (k, child) in members {
                    if !seen.insert(k) && reported.insert(k) {
                        self.findings.push(
                            Finding::warning(format!(
                                "duplicate key `{k}`: JSON parsers disagree on which value wins \
                                 (most keep the last, some the first)"
                            ))
                            .at(format!("{path}/{k}")),
                        );
                    }
                    let child_secret = secret || is_secret_name(k);
                    node.push(self.json(k, child, child_secret, &format!("{path}/{k}")));
                }
                node
            }
            JsonValue::Array(items) => {
                let mut node = Node::section(label);
                node.value = Some(if items.is_empty() {
                    "[]".into()
                } else {
                    count(items.len(), "item")
                });
                for (i, item) in items.iter().enumerate() {
                    let l = format!("[{i}]");
                    let p = format!("{path}/{l}");
                    node.push(self.json(&l, item, secret, &p));
                }
                node
            }
            JsonValue::String(s) => self.string_leaf(label, s, secret, path),
            JsonValue::Number(n) if secret => self.string_leaf(label, &n.to_string(), true, path),
            JsonValue::Number(n) => Node::leaf(label, n.to_string(), Kind::Number),
            JsonValue::Bool(b) => Node::field(label, b.to_string()),
            JsonValue::Null => Node::field(label, "null"),
        }
    }

    /// An info finding listing the secrets seen, if any.
    fn secrets_finding(&mut self, at: &str) {
        if !self.secrets.is_empty() {
            self.findings.push(
                Finding::info(format!(
                    "carries secrets (masked in views, removed by redaction): {}",
                    self.secrets.join(", ")
                ))
                .at(at),
            );
        }
    }
}

/// Renders a [`JsonValue`] as a view subtree labelled `label`: members in wire order, numbers as
/// [`Kind::Number`], values under secret names (and everything below them) as [`Kind::Secret`],
/// duplicate keys flagged, and string values that are something more decoded nested. Returns the
/// node and the findings (nested ones carry their location under `label`).
pub fn json_tree(label: &str, v: &JsonValue, cx: &Context<'_>) -> (Node, Vec<Finding>) {
    let mut b = Builder::new(cx);
    let node = b.json(label, v, false, label);
    (node, b.findings)
}

/// As [`json_tree`], but never decodes values nested: for documents whose fields a protocol
/// decoder already explains (realm answers, discovery documents), where a URL or an opaque
/// state value opened by another decoder would only be noise.
pub fn json_tree_plain(label: &str, v: &JsonValue, cx: &Context<'_>) -> (Node, Vec<Finding>) {
    let mut b = Builder::new(cx);
    b.nested_left = 0;
    let node = b.json(label, v, false, label);
    (node, b.findings)
}

fn json_summary(v: &JsonValue) -> String {
    match v {
        JsonValue::Object(m) => {
            let keys: Vec<&str> = m.iter().take(3).map(|(k, _)| k.as_str()).collect();
            let more = if m.len() > 3 { ", …" } else { "" };
            format!(
                "JSON object: {} ({}{more})",
                count(m.len(), "key"),
                keys.join(", ")
            )
        }
        JsonValue::Array(a) => format!("JSON array: {}", count(a.len(), "item")),
        JsonValue::String(_) => "JSON string".into(),
        JsonValue::Number(_) => "JSON number".into(),
        JsonValue::Bool(_) => "JSON boolean".into(),
        JsonValue::Null => "JSON null".into(),
    }
}

fn secrets_suffix(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 secret".into(),
        n => format!(", {n} secrets"),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON decoder

/// The first non-whitespace byte of a body (after a UTF-8 BOM).
fn first_byte(body: &[u8]) -> Option<u8> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn is_json_type(ct: &str) -> bool {
    ct == "application/json" || ct == "text/json" || ct.ends_with("+json")
}

fn is_xml_type(ct: &str) -> bool {
    ct == "application/xml" || ct == "text/xml" || ct.ends_with("+xml")
}

/// Any JSON body, by content type or by a leading `{`/`[`: a tree of its members.
#[derive(Debug, Clone, Copy)]
pub struct Json;

impl Decoder for Json {
    fn id(&self) -> &'static str {
        "json"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        let first = first_byte(msg.body);
        if first.is_none() {
            return 0.0;
        }
        match msg.content_type() {
            Some(ct) if is_json_type(&ct) => 0.3,
            _ if matches!(first, Some(b'{' | b'[')) => 0.2,
            _ => 0.0,
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let v = parse_json_ordered(msg.body, "body", &cx.limits)?;
        let mut b = Builder::new(cx);
        let root = b.json("json", &v, false, "json");
        b.secrets_finding("json");
        let summary = format!("{}{}", json_summary(&v), secrets_suffix(b.secrets.len()));
        let mut d = Decoded::new("json", summary, root);
        d.findings = b.findings;
        Ok(d)
    }
}

// ---------------------------------------------------------------------------------------------
// Form decoder

/// `looks_like_form`, minus the shapes that are really something else: base64 with `=` padding
/// (`eyJhIjoxfQ==`) and a single bare token.
fn sniffs_as_form(body: &[u8]) -> bool {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    util::looks_like_form(body)
        && body.split(|b| *b == b'&').all(|pair| {
            pair.is_empty()
                || pair.iter().position(|b| *b == b'=').is_some_and(|i| {
                    i > 0 && pair.get(i..).is_some_and(|v| v.iter().any(|b| *b != b'='))
                })
                || pair.last() != Some(&b'=')
        })
        && !body.ends_with(b"==")
}

/// `application/x-www-form-urlencoded` bodies (or bodies that look like one): the parameters in
/// order, secrets masked, values decoded nested where they are something (a JWT assertion).
#[derive(Debug, Clone, Copy)]
pub struct Form;

impl Decoder for Form {
    fn id(&self) -> &'static str {
        "form"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        if msg.body.is_empty() {
            return 0.0;
        }
        match msg.content_type().as_deref() {
            Some("application/x-www-form-urlencoded") => 0.3,
            None | Some("text/plain") if sniffs_as_form(msg.body) => 0.15,
            _ => 0.0,
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        if msg.body.len() > cx.limits.max_body {
            return Err(DecodeError::TooLarge {
                what: "form body",
                limit: cx.limits.max_body,
            });
        }
        let body = msg.body.strip_suffix(b"\n").unwrap_or(msg.body);
        let pairs = util::parse_form(body);
        if pairs.is_empty() {
            return Err(DecodeError::not("a form", "no parameters"));
        }
        if pairs.len() > cx.limits.max_nodes {
            return Err(DecodeError::TooLarge {
                what: "form parameter count",
                limit: cx.limits.max_nodes,
            });
        }
        let (root, mut b) = params_tree("form", &pairs, cx);
        b.secrets_finding("form");
        let names: Vec<&str> = pairs.iter().take(3).map(|(k, _)| k.as_str()).collect();
        let more = if pairs.len() > 3 { ", …" } else { "" };
        let summary = format!(
            "form: {} ({}{more}){}",
            count(pairs.len(), "param"),
            names.join(", "),
            secrets_suffix(b.secrets.len())
        );
        let mut d = Decoded::new("form", summary, root);
        d.findings = b.findings;
        Ok(d)
    }
}

/// A section of name/value parameters (form body, query string, fragment), flagging repeated
/// names, which servers resolve differently (parameter pollution).
fn params_tree<'c, 'a>(
    label: &str,
    pairs: &[(String, String)],
    cx: &'c Context<'a>,
) -> (Node, Builder<'c, 'a>) {
    let mut b = Builder::new(cx);
    let mut node = Node::section(label);
    let mut seen: HashSet<&str> = HashSet::new();
    let mut reported: HashSet<&str> = HashSet::new();
    for (k, v) in pairs {
        let name = if k.is_empty() {
            "(empty name)"
        } else {
            k.as_str()
        };
        let path = format!("{label}/{name}");
        if !seen.insert(name) && reported.insert(name) {
            b.findings.push(
                Finding::warning(format!(
                    "parameter `{name}` is repeated: servers differ on which value they use"
                ))
                .at(path.clone()),
            );
        }
        let leaf = b.string_leaf(name, v, is_secret_name(name), &path);
        node.push(leaf);
    }
    (node, b)
}

// ---------------------------------------------------------------------------------------------
// XML

/// One XML element with its attributes and content, as read by [`parse_xml`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlElement {
    /// The qualified name as written (`s:Envelope`).
    pub name: String,
    /// Attributes in order, values with predefined entities and character references resolved.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text, in order.
    pub children: Vec<XmlChild>,
}

/// Content of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlChild {
    /// A child element.
    Element(XmlElement),
    /// Text (entities resolved as described in the module docs; whitespace-only text dropped).
    Text(String),
    /// A CDATA section's raw content.
    CData(String),
    /// A comment's content.
    Comment(String),
    /// A processing instruction's content.
    Pi(String),
}

impl XmlElement {
    /// The name without its prefix (`Envelope` for `s:Envelope`).
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The concatenated text and CDATA directly inside this element, trimmed.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            if let XmlChild::Text(t) | XmlChild::CData(t) = c {
                s.push_str(t);
            }
        }
        s.trim().to_string()
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &XmlElement> {
        self.children.iter().filter_map(|c| match c {
            XmlChild::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with this local name, compared case-insensitively.
    pub fn child(&self, local: &str) -> Option<&XmlElement> {
        self.elements()
            .find(|e| e.local_name().eq_ignore_ascii_case(local))
    }

    /// The value of the attribute with this local name, compared case-insensitively.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| {
                k.rsplit(':')
                    .next()
                    .unwrap_or(k)
                    .eq_ignore_ascii_case(local)
            })
            .map(|(_, v)| v.as_str())
    }

    fn is_simple(&self) -> bool {
        self.attrs.is_empty()
            && self
                .children
                .iter()
                .all(|c| matches!(c, XmlChild::Text(_) | XmlChild::CData(_)))
    }

    fn element_count(&self) -> usize {
        1 + self
            .elements()
            .map(XmlElement::element_count)
            .sum::<usize>()
    }
}

/// A parsed XML document: the root element and what came before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlDoc {
    /// The XML declaration's content (`version="1.0" encoding="utf-8"`), if present.
    pub decl: Option<String>,
    /// The root element.
    pub root: XmlElement,
    /// Entity references other than the five predefined ones, left literal (`&name;`) because no
    /// DTD is processed.
    pub unresolved_entities: Vec<String>,
}

/// Why [`parse_xml_inner`] stopped.
enum XmlStop {
    /// A `<!DOCTYPE …>` at this byte offset, with its text.
    Doctype(u64, String),
    /// Any other failure.
    Error(DecodeError),
}

impl From<DecodeError> for XmlStop {
    fn from(e: DecodeError) -> Self {
        XmlStop::Error(e)
    }
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    }
}

/// Records an unresolved entity name once; at most 16 names are kept (a hostile document can
/// hold any number of distinct ones).
fn note_unresolved(list: &mut Vec<String>, name: &str) {
    if list.len() < 16 && !list.iter().any(|u| u == name) {
        list.push(name.to_string());
    }
}

/// Resolves only predefined entities and character references in an attribute value; anything
/// else stays literal. Returns the value and the names left unresolved.
fn attr_value(raw: &str, unresolved: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i + 1..).unwrap_or("");
        match after.find(';') {
            Some(j) if j <= 32 => {
                let name = after.get(..j).unwrap_or("");
                match resolve_ref(name) {
                    Some(s) => out.push_str(&s),
                    None => {
                        out.push('&');
                        out.push_str(name);
                        out.push(';');
                        note_unresolved(unresolved, name);
                    }
                }
                rest = after.get(j + 1..).unwrap_or("");
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of a predefined entity or character reference (`lt`, `#x41`, `#65`).
fn resolve_ref(name: &str) -> Option<String> {
    if let Some(s) = predefined_entity(name) {
        return Some(s.to_string());
    }
    let num = name.strip_prefix('#')?;
    let code = match num.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => num.parse().ok()?,
    };
    char::from_u32(code)
        .filter(|c| *c != '\0')
        .map(String::from)
}

fn xml_err(offset: u64, message: impl Into<String>) -> DecodeError {
    DecodeError::Xml {
        offset,
        message: message.into(),
    }
}

fn parse_xml_inner(text: &str, limits: &Limits) -> Result<XmlDoc, XmlStop> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > limits.max_body {
        return Err(DecodeError::TooLarge {
            what: "XML document",
            limit: limits.max_body,
        }
        .into());
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<XmlElement> = Vec::new();
    let mut root: Option<XmlElement> = None;
    let mut decl = None;
    let mut unresolved = Vec::new();
    let mut pending = String::new();
    let mut nodes = 0usize;

    fn bump(nodes: &mut usize, limits: &Limits) -> Result<(), DecodeError> {
        *nodes += 1;
        if *nodes > limits.max_nodes {
            return Err(DecodeError::TooLarge {
                what: "XML node count",
                limit: limits.max_nodes,
            });
        }
        Ok(())
    }

    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| xml_err(reader.error_position(), e.to_string()))?;
        // Text and references arrive as separate events; join them before anything else.
        if !matches!(ev, Event::Text(_) | Event::GeneralRef(_)) && !pending.is_empty() {
            let t = std::mem::take(&mut pending);
            let blank = t.trim().is_empty();
            match stack.last_mut() {
                Some(parent) if !blank => {
                    bump(&mut nodes, limits)?;
                    parent.children.push(XmlChild::Text(t));
                }
                None if !blank => {
                    return Err(xml_err(pos, "text outside the root element").into());
                }
                _ => {}
            }
        }
        match ev {
            Event::DocType(d) => {
                return Err(XmlStop::Doctype(pos, d.into_inner().trim().to_string()));
            }
            Event::Decl(d) => {
                let s: &str = d.as_ref();
                decl = Some(s.trim_start_matches("xml").trim().to_string());
            }
            Event::Start(e) | Event::Empty(e) if stack.len() >= limits.max_depth => {
                let _ = e;
                return Err(DecodeError::TooLarge {
                    what: "XML nesting depth",
                    limit: limits.max_depth,
                }
                .into());
            }
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let (e, empty) = match ev {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    _ => continue,
                };
                if root.is_some() && stack.is_empty() {
                    return Err(xml_err(pos, "more than one root element").into());
                }
                bump(&mut nodes, limits)?;
                let qname = e.name();
                let name: &str = qname.as_ref();
                let mut el = XmlElement {
                    name: name.to_string(),
                    attrs: Vec::new(),
                    children: Vec::new(),
                };
                for a in e.attributes() {
                    let a = a.map_err(|err| xml_err(pos, err.to_string()))?;
                    bump(&mut nodes, limits)?;
                    let key: &str = a.key.as_ref();
                    el.attrs
                        .push((key.to_string(), attr_value(&a.value, &mut unresolved)));
                }
                if empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(XmlChild::Element(el)),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| xml_err(pos, "end tag without a start tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(XmlChild::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if pending.len() + t.len() > limits.max_body {
                    return Err(DecodeError::TooLarge {
                        what: "XML text",
                        limit: limits.max_body,
                    }
                    .into());
                }
                pending.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) => {
                let name: &str = r.as_ref();
                match resolve_ref(name) {
                    Some(s) => pending.push_str(&s),
                    None => {
                        pending.push('&');
                        pending.push_str(name);
                        pending.push(';');
                        note_unresolved(&mut unresolved, name);
                    }
                }
            }
            Event::CData(c) => {
                if let Some(parent) = stack.last_mut() {
                    bump(&mut nodes, limits)?;
                    parent
                        .children
                        .push(XmlChild::CData(c.into_inner().into_owned()));
                }
            }
            Event::Comment(c) => {
                if let Some(parent) = stack.last_mut() {
                    bump(&mut nodes, limits)?;
                    parent
                        .children
                        .push(XmlChild::Comment(c.into_inner().into_owned()));
                }
            }
            Event::PI(p) => {
                if let Some(parent) = stack.last_mut() {
                    bump(&mut nodes, limits)?;
                    let s: &str = p.as_ref();
                    parent.children.push(XmlChild::Pi(s.to_string()));
                }
            }
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(xml_err(
            reader.buffer_position(),
            format!("unclosed element <{}>", open.name),
        )
        .into());
    }
    let root = root.ok_or_else(|| xml_err(0, "no root element"))?;
    Ok(XmlDoc {
        decl,
        root,
        unresolved_entities: unresolved,
    })
}

/// Parses XML text into an [`XmlDoc`] with the rules in the module docs: a `<!DOCTYPE` is refused
/// ([`DecodeError::Xml`] at its offset), entities other than the predefined ones stay literal,
/// more than `max_depth` levels, `max_nodes` nodes or `max_body` bytes is
/// [`DecodeError::TooLarge`]. A leading byte-order mark is skipped.
pub fn parse_xml(text: &str, limits: &Limits) -> Result<XmlDoc, DecodeError> {
    parse_xml_inner(text, limits).map_err(|stop| match stop {
        XmlStop::Doctype(offset, _) => xml_err(
            offset,
            "DOCTYPE refused: DTDs are never processed and entities never expanded",
        ),
        XmlStop::Error(e) => e,
    })
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;")
}

/// Pretty-prints an element with two-space indentation (for display only: whitespace inside
/// signed XML is significant, so these bytes must never be forwarded).
pub fn pretty_xml(el: &XmlElement) -> String {
    let mut out = String::new();
    write_pretty(el, 0, &mut out);
    out
}

fn write_pretty(el: &XmlElement, level: usize, out: &mut String) {
    let pad = "  ".repeat(level);
    out.push_str(&pad);
    out.push('<');
    out.push_str(&el.name);
    for (k, v) in &el.attrs {
        out.push_str(&format!(" {k}=\"{}\"", escape_attr(v)));
    }
    if el.children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push('>');
    let inline = el
        .children
        .iter()
        .all(|c| matches!(c, XmlChild::Text(_) | XmlChild::CData(_)));
    if inline {
        for c in &el.children {
            match c {
                XmlChild::Text(t) => out.push_str(&escape_text(t.trim())),
                XmlChild::CData(t) => out.push_str(&format!("<![CDATA[{t}]]>")),
                _ => {}
            }
        }
    } else {
        out.push('\n');
        let inner = "  ".repeat(level + 1);
        for c in &el.children {
            match c {
                XmlChild::Element(e) => write_pretty(e, level + 1, out),
                XmlChild::Text(t) => out.push_str(&format!("{inner}{}\n", escape_text(t.trim()))),
                XmlChild::CData(t) => out.push_str(&format!("{inner}<![CDATA[{t}]]>\n")),
                XmlChild::Comment(t) => out.push_str(&format!("{inner}<!--{t}-->\n")),
                XmlChild::Pi(t) => out.push_str(&format!("{inner}<?{t}?>\n")),
            }
        }
        out.push_str(&pad);
    }
    out.push_str(&format!("</{}>\n", el.name));
}

impl Builder<'_, '_> {
    fn xml(&mut self, el: &XmlElement, path: &str) -> Node {
        let secret = is_secret_name(el.local_name());
        if el.is_simple() {
            return self.string_leaf(&el.name, &el.text(), secret, path);
        }
        let mut node = Node::section(el.name.clone());
        for (k, v) in &el.attrs {
            let label = format!("@{k}");
            let p = format!("{path}/{label}");
            let leaf = self.string_leaf(&label, v, is_secret_name(k), &p);
            node.push(leaf);
        }
        for c in &el.children {
            match c {
                XmlChild::Element(e) => {
                    let p = format!("{path}/{}", e.name);
                    node.push(self.xml(e, &p));
                }
                XmlChild::Text(t) | XmlChild::CData(t) => {
                    let p = format!("{path}/#text");
                    let leaf = self.string_leaf_named("#text", &el.name, t.trim(), secret, &p);
                    node.push(leaf);
                }
                XmlChild::Comment(t) => node.push(Node::text("#comment", t.trim())),
                XmlChild::Pi(t) => node.push(Node::field("#pi", t.trim())),
            }
        }
        node
    }
}

/// Any XML body (by content type or a leading `<`): the element tree (attributes as `@name`
/// children, text as values) and the pretty-printed document as [`Kind::Markup`]. A DOCTYPE is
/// refused with an error finding; nothing after it is parsed.
#[derive(Debug, Clone, Copy)]
pub struct Xml;

fn looks_like_xml(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let trimmed: &[u8] = match body.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) => body.get(i..).unwrap_or(&[]),
        None => return false,
    };
    let head: Vec<u8> = trimmed
        .iter()
        .take(14)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if head.starts_with(b"<!doctype html") || head.starts_with(b"<html") {
        return false;
    }
    matches!(trimmed.get(1), Some(b) if trimmed.first() == Some(&b'<') && (b.is_ascii_alphabetic() || *b == b'?' || *b == b'!' || *b == b'_'))
}

impl Decoder for Xml {
    fn id(&self) -> &'static str {
        "xml"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        match msg.content_type() {
            Some(ct) if ct == "text/html" => 0.0,
            Some(ct) if is_xml_type(&ct) && first_byte(msg.body).is_some() => 0.3,
            _ if looks_like_xml(msg.body) => 0.2,
            _ => 0.0,
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
        let doc = match parse_xml_inner(text, &cx.limits) {
            Ok(doc) => doc,
            Err(XmlStop::Error(e)) => return Err(e),
            Err(XmlStop::Doctype(offset, decl)) => {
                let root = Node::section("xml").with_child(
                    Node::leaf("DOCTYPE", util::ellipsize(&decl, 400), Kind::Error).with_note(
                        "a document type declaration; DTDs can define entities (XXE, \
                         billion laughs), so idscope never processes them and did not parse \
                         the rest of this document",
                    ),
                );
                return Ok(
                    Decoded::new("xml", "XML with a DOCTYPE (refused, not parsed)", root)
                        .with_finding(
                            Finding::error(format!(
                                "DOCTYPE at byte {offset} refused: DTDs are never processed and \
                         entities never expanded"
                            ))
                            .at("xml/DOCTYPE"),
                        ),
                );
            }
        };
        let mut b = Builder::new(cx);
        let mut root = Node::section("xml");
        if let Some(decl) = &doc.decl {
            root.push(Node::field("declaration", decl.clone()));
        }
        let path = format!("xml/{}", doc.root.name);
        root.push(b.xml(&doc.root, &path));
        root.push(Node::leaf("pretty", pretty_xml(&doc.root), Kind::Markup));
        for name in &doc.unresolved_entities {
            b.findings.push(
                Finding::warning(format!(
                    "entity reference &{name}; left unexpanded: no DTD is processed, so only \
                     the five predefined entities and character references are resolved"
                ))
                .at("xml"),
            );
        }
        b.secrets_finding("xml");
        let summary = format!(
            "XML <{}>: {}{}",
            doc.root.name,
            count(doc.root.element_count(), "element"),
            secrets_suffix(b.secrets.len())
        );
        let mut d = Decoded::new("xml", summary, root);
        d.findings = b.findings;
        Ok(d)
    }
}

// ---------------------------------------------------------------------------------------------
// URL

/// A blob that is one absolute `http(s)` URL (`idscope decode https://…?code=…`): scheme, host,
/// path, and the query and fragment parameters decoded, secrets masked, values decoded nested.
#[derive(Debug, Clone, Copy)]
pub struct Url;

fn blob_url<'a>(msg: &Message<'a>) -> Option<&'a str> {
    if msg.direction != crate::Direction::Blob {
        return None;
    }
    let t = msg.text()?.trim();
    ((starts_with_ci(t, "https://") || starts_with_ci(t, "http://"))
        && !t.contains(char::is_whitespace)
        && t.len() > "https://".len())
    .then_some(t)
}

/// Query names that must never travel in a URL (logs, history and `Referer` keep them).
const NEVER_IN_URL: &[&str] = &[
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "passwd",
    "pwd",
];

impl Decoder for Url {
    fn id(&self) -> &'static str {
        "url"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        if blob_url(msg).is_some() { 0.3 } else { 0.0 }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let url = blob_url(msg).ok_or_else(|| DecodeError::not("a URL", "no http(s) URL"))?;
        let (scheme, after) = url
            .split_once("://")
            .ok_or_else(|| DecodeError::not("a URL", "no scheme"))?;
        let (before_frag, fragment) = match after.split_once('#') {
            Some((b, f)) => (b, Some(f)),
            None => (after, None),
        };
        let authority = before_frag.split(['/', '?']).next().unwrap_or(before_frag);
        let mut root = Node::section("url");
        let mut findings = Vec::new();
        root.push(Node::field("scheme", scheme.to_ascii_lowercase()));
        if scheme.eq_ignore_ascii_case("http") {
            findings.push(
                Finding::warning("plain http: anything in this URL travels unencrypted")
                    .at("url/scheme"),
            );
        }
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
                let (user, pass) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                root.push(Node::field("user", percent_decode(user)));
                if let Some(p) = pass {
                    root.push(Node::secret("password", percent_decode(p)));
                    findings.push(
                        Finding::warning("the URL carries a password (user:pass@host)")
                            .at("url/password"),
                    );
                }
                hp
            }
            None => authority,
        };
        let host = util::url_host(url).unwrap_or_else(|| hostport.to_ascii_lowercase());
        root.push(Node::field("host", host.clone()));
        if let Some(port) = hostport
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            root.push(Node::leaf("port", port, Kind::Number));
        }
        let path = util::url_path(url);
        let decoded_path = percent_decode(path);
        let mut path_node = Node::field("path", path);
        if decoded_path != path {
            path_node = path_node.with_child(Node::field("decoded", decoded_path));
        }
        root.push(path_node);
        let mut nparams = 0;
        let mut nsecrets = 0;
        if let Some(q) = util::url_query(url).filter(|q| !q.is_empty()) {
            let pairs = util::parse_form(q.as_bytes());
            nparams += pairs.len();
            let (node, b) = params_tree("query", &pairs, cx);
            nsecrets += b.secrets.len();
            for (k, _) in &pairs {
                let lower = k.to_ascii_lowercase();
                if NEVER_IN_URL.contains(&lower.as_str()) {
                    findings.push(
                        Finding::warning(format!(
                            "`{k}` in a URL query: URLs are kept in logs, browser history and \
                             Referer headers"
                        ))
                        .at(format!("url/query/{k}")),
                    );
                }
            }
            findings.extend(b.findings.into_iter().map(|f| prefix_at(f, "url")));
            root.push(node);
        }
        if let Some(f) = fragment.filter(|f| !f.is_empty()) {
            if f.contains('=') {
                let pairs = util::parse_form(f.as_bytes());
                nparams += pairs.len();
                let (node, b) = params_tree("fragment", &pairs, cx);
                nsecrets += b.secrets.len();
                findings.extend(b.findings.into_iter().map(|f| prefix_at(f, "url")));
                root.push(node.with_note(
                    "fragment parameters stay in the browser (implicit/hybrid flows put tokens \
                     here); they are never sent to the server",
                ));
            } else {
                root.push(Node::field("fragment", percent_decode(f)));
            }
        }
        let summary = format!(
            "URL {}://{host}{path} ({}{})",
            scheme.to_ascii_lowercase(),
            count(nparams, "param"),
            secrets_suffix(nsecrets)
        );
        let mut d = Decoded::new("url", summary, root);
        d.findings = findings;
        Ok(d)
    }
}

fn prefix_at(mut f: Finding, prefix: &str) -> Finding {
    f.at = f.at.map(|a| format!("{prefix}/{a}"));
    f
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// Base64

/// What a byte string looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    Gzip,
    Zlib,
    Json,
    Xml,
    Der,
    Msbin1,
    Text,
    Binary,
}

/// True when the bytes read as text: UTF-8 (a multi-byte character cut at the end is tolerated,
/// for prefixes) with no control characters other than tab, CR and LF.
fn is_texty(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if bytes.len() - e.valid_up_to() < 4 && e.error_len().is_none() => {
            std::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
        }
        Err(_) => return false,
    };
    valid.chars().count() >= 4
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
}

fn sniff(bytes: &[u8]) -> Payload {
    match bytes {
        [0x1f, 0x8b, ..] => Payload::Gzip,
        [b0, b1, ..]
            if *b0 & 0x0f == 8
                && *b0 >> 4 <= 7
                && (u16::from(*b0) << 8 | u16::from(*b1)) % 31 == 0 =>
        {
            Payload::Zlib
        }
        [0x30, 0x81..=0x83, ..] => Payload::Der,
        [0x56, 0x02, ..] => Payload::Msbin1,
        _ if is_texty(bytes) => match first_byte(bytes) {
            Some(b'{' | b'[') => Payload::Json,
            Some(b'<') => Payload::Xml,
            _ => Payload::Text,
        },
        _ => Payload::Binary,
    }
}

/// Raw DEFLATE, for the prefix sniff: does the start inflate to text?
fn raw_deflate_is_text(bytes: &[u8]) -> bool {
    let mut out = Vec::new();
    let r = flate2::read::DeflateDecoder::new(bytes)
        .take(64)
        .read_to_end(&mut out);
    // A truncated prefix ends in an error; what came out before it still counts.
    let _ = r;
    out.len() >= 8 && is_texty(&out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Gzip,
    Zlib,
    Deflate,
}

impl Compression {
    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zlib => "zlib (deflate)",
            Compression::Deflate => "raw deflate",
        }
    }
}

fn inflate(kind: Compression, data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let res = match kind {
        Compression::Gzip => flate2::read::GzDecoder::new(data)
            .take(cap)
            .read_to_end(&mut out),
        Compression::Zlib => flate2::read::ZlibDecoder::new(data)
            .take(cap)
            .read_to_end(&mut out),
        Compression::Deflate => flate2::read::DeflateDecoder::new(data)
            .take(cap)
            .read_to_end(&mut out),
    };
    res.map_err(|e| DecodeError::Inflate {
        field: "blob",
        message: e.to_string(),
    })?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge {
            what: "inflated data",
            limit,
        });
    }
    Ok(out)
}

/// The body as compact base64 text (whitespace removed, so line-wrapped base64 counts), if it is
/// only base64/base64url characters with padding at the end only.
fn base64_text(msg: &Message<'_>) -> Option<String> {
    let text = msg.text()?.trim();
    if text.len() < 8 {
        return None;
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let unpadded = compact.trim_end_matches('=');
    let mixed = unpadded.contains(['-', '_']) && unpadded.contains(['+', '/']);
    (util::is_base64ish(&compact)
        && !unpadded.contains('=')
        && compact.len() - unpadded.len() <= 2
        && unpadded.len() % 4 != 1
        && !mixed)
        .then_some(compact)
}

/// A blob that is base64 or base64url of something meaningful: decoded (within
/// `limits.max_inflate`), inflated when it is gzip/zlib/raw deflate, then shown through a specific
/// decoder if one applies, else as JSON, XML, text, a certificate or a hex preview. It only
/// claims blobs whose decoded start is text, JSON, XML, compressed data or a known binary, so
/// ordinary words do not match.
#[derive(Debug, Clone, Copy)]
pub struct Base64;

impl Decoder for Base64 {
    fn id(&self) -> &'static str {
        "base64"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        let Some(compact) = base64_text(msg) else {
            return 0.0;
        };
        // Sniff a prefix only: 344 characters decode to 258 bytes.
        let take = if compact.len() <= 344 {
            compact.len()
        } else {
            344
        };
        let Some(prefix) = compact
            .get(..take)
            .and_then(|p| util::b64_decode_any(p, 300))
        else {
            return 0.0;
        };
        match sniff(&prefix) {
            Payload::Gzip | Payload::Json | Payload::Xml => 0.3,
            Payload::Zlib | Payload::Der | Payload::Msbin1 => 0.25,
            Payload::Text => 0.2,
            Payload::Binary if raw_deflate_is_text(&prefix) => 0.25,
            Payload::Binary => 0.0,
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let compact = base64_text(msg).ok_or(DecodeError::not("base64", "not a base64 string"))?;
        let url_safe = compact.contains(['-', '_']);
        let padded = compact.ends_with('=');
        let bytes = util::b64_decode_any(&compact, cx.limits.max_inflate)
            .ok_or(DecodeError::Base64 { field: "blob" })?;
        let mut root = Node::section("base64");
        root.push(Node::field(
            "encoding",
            format!(
                "{}, {}",
                if url_safe { "base64url" } else { "base64" },
                if padded { "padded" } else { "unpadded" }
            ),
        ));
        root.push(Node::leaf(
            "decoded size",
            format!("{} bytes", bytes.len()),
            Kind::Number,
        ));
        let mut steps = vec![if url_safe { "base64url" } else { "base64" }.to_string()];
        let compression = match sniff(&bytes) {
            Payload::Gzip => Some(Compression::Gzip),
            Payload::Zlib => Some(Compression::Zlib),
            Payload::Binary if raw_deflate_is_text(&bytes) => Some(Compression::Deflate),
            _ => None,
        };
        let payload = match compression {
            Some(kind) => {
                let out = inflate(kind, &bytes, cx.limits.max_inflate)?;
                let mut n = Node::field(
                    "compression",
                    format!("{} → {} bytes", kind.name(), out.len()),
                );
                if kind == Compression::Deflate {
                    n = n.with_note(
                        "raw DEFLATE (RFC 1951) under base64: the SAML HTTP-Redirect binding \
                         encoding",
                    );
                }
                root.push(n);
                steps.push(kind.name().to_string());
                out
            }
            None => bytes,
        };
        let mut findings = Vec::new();
        let content = content_node(&payload, cx, &mut findings);
        let inner_summary = content.value.clone().unwrap_or_default();
        root.push(content);
        let summary = format!("{} → {inner_summary}", steps.join(" → "));
        let mut d = Decoded::new("base64", summary, root);
        d.findings = findings;
        Ok(d)
    }
}

/// The decoded payload of a base64 blob, as a `content` node whose value is a one-line summary.
fn content_node(payload: &[u8], cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    let mut node = Node::section("content");
    if let Some(d) = cx.decode_nested(payload) {
        node.value = Some(d.summary.clone());
        attach_nested(&mut node, d, "base64/content", findings);
        return node;
    }
    let inner = Context {
        depth: cx.depth.saturating_add(1),
        ..*cx
    };
    let blob = Message::blob(payload);
    let generic: Option<&dyn Decoder> = match sniff(payload) {
        Payload::Json => Some(&Json),
        Payload::Xml => Some(&Xml),
        _ => None,
    };
    if let Some(dec) = generic {
        match dec.decode(&blob, &inner) {
            Ok(d) => {
                // A generic view is shown in place: `content` already says what it is.
                node.value = Some(d.summary);
                lift_findings(d.findings, &d.root.label, "base64/content", findings);
                node.children = d.root.children;
                return node;
            }
            Err(e) => {
                node.push(Node::leaf("error", e.to_string(), Kind::Error));
            }
        }
    }
    match sniff(payload) {
        Payload::Der => match crate::oidc::parse_certificate(payload) {
            Ok(cert) => {
                node.value = Some(format!("X.509 certificate {}", cert.subject));
                findings.extend(cert.findings(cx.now, "base64/content/certificate"));
                node.push(cert.to_node("certificate", cx.now));
                return node;
            }
            Err(_) => {
                node.value = Some(format!("DER data, {} bytes", payload.len()));
            }
        },
        Payload::Msbin1 => {
            node.value = Some(format!(".NET binary XML (msbin1), {} bytes", payload.len()));
        }
        Payload::Text | Payload::Json | Payload::Xml => {
            let text = String::from_utf8_lossy(payload).into_owned();
            node.value = Some(format!("text: {}", util::ellipsize(text.trim(), 60)));
            node.push(Node::text("text", text));
            return node;
        }
        _ => {
            node.value = Some(format!("binary, {} bytes", payload.len()));
        }
    }
    node.push(Node::field(
        "hex (first 64 bytes)",
        hex(payload.iter().take(64)),
    ));
    node
}

fn hex<'b>(bytes: impl Iterator<Item = &'b u8>) -> String {
    bytes
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trust;
    use std::time::{Duration, UNIX_EPOCH};

    fn cx(trust: &Trust) -> Context<'_> {
        Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
    }

    #[test]
    fn secret_names_are_matched_case_insensitively() {
        for n in [
            "password",
            "Password",
            "PWD",
            "client_secret",
            "refresh_token",
            "id_token",
            "code",
            "device_code",
            "client_assertion",
            "flowToken",
            "subject_token",
            "tgt_ad",
            "session_key_jwe",
            "OTP",
            "pin",
            "new_password",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "token_type",
            "user_code",
            "code_challenge",
            "username",
            "expires_in",
            "scope",
            "kid",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn json_keeps_wire_order_and_flags_duplicate_keys() {
        let trust = Trust::default();
        let msg = Message::blob(br#"{"z":1,"a":"x","z":2}"#);
        let d = Json.decode(&msg, &cx(&trust)).unwrap();
        let labels: Vec<&str> = d.root.children.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["z", "a", "z"]);
        assert_eq!(d.root.children[0].kind, Kind::Number);
        assert!(
            d.findings
                .iter()
                .any(|f| f.message.contains("duplicate key `z`"))
        );
    }

    #[test]
    fn json_secret_values_are_secret_kind_even_nested() {
        let trust = Trust::default();
        let msg =
            Message::blob(br#"{"creds":{"Password":"hunter2","user":"a"},"refresh_token":"0.AX"}"#);
        let d = Json.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(
            d.root.find_path("creds/Password").unwrap().kind,
            Kind::Secret
        );
        assert_eq!(d.root.find_path("creds/user").unwrap().kind, Kind::Field);
        assert_eq!(
            d.root.find_path("refresh_token").unwrap().kind,
            Kind::Secret
        );
        assert!(d.summary.ends_with("2 secrets"), "{}", d.summary);
    }

    #[test]
    fn malformed_json_is_an_exact_json_error() {
        let trust = Trust::default();
        let err = Json
            .decode(&Message::blob(b"{\"a\":\n tru}"), &cx(&trust))
            .unwrap_err();
        assert_eq!(
            err,
            DecodeError::Json {
                field: "body",
                line: 2,
                column: 5,
                message: "expected ident at line 2 column 5".into(),
            }
        );
    }

    #[test]
    fn json_deeper_than_the_limit_is_too_large() {
        let trust = Trust::default();
        let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
        let err = Json
            .decode(&Message::blob(deep.as_bytes()), &cx(&trust))
            .unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "JSON nesting depth",
                limit: 64
            }
        );
    }

    #[test]
    fn json_with_too_many_nodes_is_too_large() {
        let trust = Trust::default();
        let limits = Limits {
            max_nodes: 10,
            ..Limits::default()
        };
        let c = cx(&trust).with_limits(limits);
        let body = format!("[{}]", vec!["1"; 20].join(","));
        let err = Json
            .decode(&Message::blob(body.as_bytes()), &c)
            .unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "JSON node count",
                limit: 10
            }
        );
    }

    #[test]
    fn json_with_bom_is_accepted() {
        let trust = Trust::default();
        let d = Json
            .decode(&Message::blob(b"\xEF\xBB\xBF{\"a\":true}"), &cx(&trust))
            .unwrap();
        assert_eq!(d.root.children[0].value.as_deref(), Some("true"));
    }

    #[test]
    fn form_masks_secrets_and_flags_repeats() {
        let trust = Trust::default();
        let msg = Message::request(
            "POST",
            "https://x/token",
            vec![("content-type", "application/x-www-form-urlencoded")],
            b"grant_type=password&username=a%40b.c&password=p%26w&scope=a&scope=b",
        );
        assert_eq!(Form.priority(&msg), 0.3);
        let d = Form.decode(&msg, &cx(&trust)).unwrap();
        let pw = d.root.child("password").unwrap();
        assert_eq!((pw.kind, pw.value.as_deref()), (Kind::Secret, Some("p&w")));
        assert_eq!(
            d.root.child("username").unwrap().value.as_deref(),
            Some("a@b.c")
        );
        assert!(
            d.findings
                .iter()
                .any(|f| f.message.contains("`scope` is repeated"))
        );
    }

    #[test]
    fn padded_base64_is_not_sniffed_as_a_form() {
        assert!(!sniffs_as_form(b"eyJhIjoxfQ=="));
        assert!(sniffs_as_form(b"a=1&b=2"));
    }

    #[test]
    fn xml_doctype_is_refused_with_an_error_finding() {
        let trust = Trust::default();
        let body = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        let d = Xml.decode(&Message::blob(body), &cx(&trust)).unwrap();
        assert_eq!(d.worst(), Some(crate::Severity::Error));
        assert!(d.root.find_path("DOCTYPE").is_some());
        let err = parse_xml(std::str::from_utf8(body).unwrap(), &Limits::default()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Xml { offset: 21, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn xml_unknown_entities_stay_literal() {
        let doc = parse_xml(
            "<a t=\"&lt;&foo;\">x &amp; &#65; &bar;</a>",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(doc.root.text(), "x & A &bar;");
        assert_eq!(doc.root.attr("t"), Some("<&foo;"));
        assert_eq!(doc.unresolved_entities, ["foo", "bar"]);
    }

    #[test]
    fn xml_deeper_than_the_limit_is_too_large() {
        let limits = Limits {
            max_depth: 8,
            ..Limits::default()
        };
        let deep = format!("{}{}", "<a>".repeat(9), "</a>".repeat(9));
        assert_eq!(
            parse_xml(&deep, &limits).unwrap_err(),
            DecodeError::TooLarge {
                what: "XML nesting depth",
                limit: 8
            }
        );
    }

    #[test]
    fn xml_malformed_and_unclosed_are_xml_errors() {
        let l = Limits::default();
        assert!(matches!(
            parse_xml("<a><b></a>", &l),
            Err(DecodeError::Xml { .. })
        ));
        assert!(matches!(
            parse_xml("<a><b>", &l),
            Err(DecodeError::Xml { .. })
        ));
        assert!(matches!(
            parse_xml("<a/><b/>", &l),
            Err(DecodeError::Xml { .. })
        ));
        assert!(matches!(parse_xml("", &l), Err(DecodeError::Xml { .. })));
    }

    #[test]
    fn xml_password_element_is_secret() {
        let trust = Trust::default();
        let body =
            b"<u><wsse:Username>a</wsse:Username><wsse:Password Type=\"t\">pw</wsse:Password></u>";
        let d = Xml.decode(&Message::blob(body), &cx(&trust)).unwrap();
        let pw = d.root.find_path("wsse:Password/#text").unwrap();
        assert_eq!(pw.kind, Kind::Secret);
    }

    #[test]
    fn html_is_not_claimed_by_xml() {
        assert_eq!(
            Xml.priority(&Message::blob(b"<!DOCTYPE html><html></html>")),
            0.0
        );
    }

    #[test]
    fn base64_ignores_random_words_and_claims_json() {
        for w in [
            "helloworld",
            "abcdefgh",
            "Administrator",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(Base64.priority(&Message::blob(w.as_bytes())), 0.0, "{w}");
        }
        let b = util::b64_std(br#"{"a":"b"}"#);
        assert_eq!(Base64.priority(&Message::blob(b.as_bytes())), 0.3);
    }

    #[test]
    fn base64_gzip_inflation_is_capped() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b'{'; 100_000]).unwrap();
        let b = util::b64_std(&gz.finish().unwrap());
        let trust = Trust::default();
        let limits = Limits {
            max_inflate: 10_000,
            ..Limits::default()
        };
        let c = cx(&trust).with_limits(limits);
        let err = Base64.decode(&Message::blob(b.as_bytes()), &c).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                what: "inflated data",
                limit: 10_000
            }
        );
    }

    /// Every prefix of every golden input (as a response, a request and a blob) goes through
    /// the whole registry without a panic.
    #[test]
    fn truncated_fixture_bodies_never_panic() {
        let trust = Trust::default();
        let c = cx(&trust);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut bodies = Vec::new();
        for sub in ["realm", "oidc", "generic"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "http") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let m = crate::OwnedMessage::parse_http_text(&text).unwrap();
                    bodies.push((m.url.clone().unwrap_or_default(), m.body));
                }
            }
        }
        assert!(bodies.len() > 20);
        for (url, body) in &bodies {
            let step = (body.len() / 40).max(1);
            for end in (0..=body.len()).step_by(step) {
                let cut = &body[..end];
                for msg in [
                    Message::response("GET", url, 200, vec![], cut),
                    Message::request("POST", url, vec![], cut),
                    Message::blob(cut),
                ] {
                    let _ = crate::Registry::builtin().decode_all(&msg, &c);
                }
            }
        }
    }

    #[test]
    fn a_json_object_with_many_keys_stays_linear() {
        let trust = Trust::default();
        let body = format!(
            "{{{}}}",
            (0..100_000)
                .map(|i| format!("\"k{}\":{i}", i % 50_000))
                .collect::<Vec<_>>()
                .join(",")
        );
        let d = Json
            .decode(&Message::blob(body.as_bytes()), &cx(&trust))
            .unwrap();
        assert_eq!(d.root.children.len(), 100_000);
        assert_eq!(d.findings.len(), 50_000);
    }

    #[test]
    fn url_blob_query_is_decoded_with_secrets() {
        let trust = Trust::default();
        let msg = Message::blob(b"https://app.example/cb?code=0.AAA&state=x%20y#id_token=abc");
        let d = Url.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(d.root.find_path("query/code").unwrap().kind, Kind::Secret);
        assert_eq!(
            d.root.find_path("query/state").unwrap().value.as_deref(),
            Some("x y")
        );
        assert_eq!(
            d.root.find_path("fragment/id_token").unwrap().kind,
            Kind::Secret
        );
        assert_eq!(Url.priority(&Message::blob(b"not a url")), 0.0);
    }
}
