//! The [`Json`] view and the ordered JSON value ([`JsonValue`], [`parse_json_ordered`]) that the
//! protocol decoders (OIDC, realm) read their documents with; [`json_tree`] renders one as a view
//! subtree.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::nested::{Builder, count, first_byte, secrets_suffix};
use crate::secrets::is_secret_name;
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Context, DecodeError, Limits, Message};

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
impl Builder<'_, '_> {
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

fn is_json_type(ct: &str) -> bool {
    ct == "application/json" || ct == "text/json" || ct.ends_with("+json")
}

decoder! {
    /// Any JSON body, by content type or by a leading `{`/`[`: a tree of its members.
    pub struct Json: "json";
}

fn priority(msg: &Message<'_>) -> f32 {
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

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let v = parse_json_ordered(msg.body, "body", &cx.limits)?;
    let mut b = Builder::new(cx);
    let root = b.json("json", &v, false, "json");
    b.secrets_finding("json");
    let summary = format!("{}{}", json_summary(&v), secrets_suffix(b.secrets.len()));
    let mut d = Decoded::new("json", summary, root);
    d.findings = b.findings;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use crate::generic::test_cx as cx;

    #[test]
    fn json_keeps_wire_order_and_flags_duplicate_keys() {
        let trust = Trust::default();
        let msg = Message::blob(br#"{"z":1,"a":"x","z":2}"#);
        let d = Json.decode(&msg, &cx(&trust)).unwrap();
        let labels: Vec<&str> = d.root.children.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["z", "a", "z"]);
        assert_eq!(d.root.children[0].kind, Kind::Number);
        assert!(d.has_finding("duplicate key `z`"));
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
}
