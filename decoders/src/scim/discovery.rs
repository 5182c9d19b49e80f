//! The SCIM discovery documents (RFC 7643 §5-7): ServiceProviderConfig (which optional features
//! the server supports), ResourceType and Schema.

use serde_json::{Map, Value};

use super::vocabulary::{ENTERPRISE, MAX_ITEMS, attr_note, get_ci, get_str, urn_meaning};
use crate::util;
use crate::view::Node;

fn flag(o: &Map<String, Value>, feature: &str) -> Option<bool> {
    get_ci(o, feature)
        .and_then(Value::as_object)
        .and_then(|m| get_ci(m, "supported"))
        .and_then(|v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
            _ => None,
        })
}

pub(super) fn explain_spc(o: &Map<String, Value>) -> (String, Node) {
    let mut n = Node::section("ServiceProviderConfig");
    let mut parts = Vec::new();
    for (feature, what) in [
        (
            "patch",
            "PATCH (partial updates; Entra ID provisioning requires it)",
        ),
        ("bulk", "Bulk requests"),
        (
            "filter",
            "filter queries (Entra ID looks users up by userName/externalId)",
        ),
        (
            "changePassword",
            "changing passwords through the password attribute",
        ),
        ("sort", "sortBy/sortOrder"),
        ("etag", "ETags (meta.version, If-Match)"),
    ] {
        let Some(m) = get_ci(o, feature).and_then(Value::as_object) else {
            continue;
        };
        let sup = flag(o, feature);
        let word = match sup {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        let mut c = Node::field(feature, word).with_note(what);
        let mut extra = Vec::new();
        for (k, v) in m {
            if k.eq_ignore_ascii_case("supported") {
                continue;
            }
            extra.push(format!("{k}={}", util::json_scalar(v)));
            c.push(
                Node::field(k.clone(), util::json_scalar(v)).with_note(match k.as_str() {
                    "maxResults" => "most resources a filter query returns",
                    "maxOperations" => "most operations in one bulk request",
                    "maxPayloadSize" => "largest bulk request body, in bytes",
                    _ => "limit",
                }),
            );
        }
        let mut p = format!("{feature} {word}");
        if sup == Some(true)
            && let Some(mr) = m.get("maxResults")
        {
            p.push_str(&format!(" (max {})", util::json_scalar(mr)));
        }
        parts.push(p);
        n.push(c);
    }
    let mut schemes = Vec::new();
    if let Some(Value::Array(a)) = get_ci(o, "authenticationSchemes") {
        let mut c = Node::field("authenticationSchemes", format!("{} scheme(s)", a.len()))
            .with_note("how clients authenticate");
        for (i, s) in a.iter().take(MAX_ITEMS).enumerate() {
            if let Some(sm) = s.as_object() {
                let t = get_str(sm, "type").unwrap_or("?");
                schemes.push(t.to_string());
                let mut sc = Node::field(format!("[{i}]"), t).with_note(match t {
                    "oauthbearertoken" => "OAuth bearer token (what Entra ID provisioning sends)",
                    "httpbasic" => "HTTP Basic",
                    "oauth2" | "oauth" => "OAuth",
                    _ => "authentication scheme",
                });
                for (k, v) in sm {
                    if k != "type" {
                        sc.push(Node::field(k.clone(), util::json_scalar(v)));
                    }
                }
                c.push(sc);
            }
        }
        n.push(c);
    }
    for (k, v) in o {
        if matches!(k.as_str(), "documentationUri" | "meta") {
            n.push(Node::field(k.clone(), util::json_scalar(v)));
        }
    }
    let mut s = format!("SCIM ServiceProviderConfig: {}", parts.join(", "));
    if !schemes.is_empty() {
        s.push_str(&format!("; auth {}", schemes.join(", ")));
    }
    n.value = Some(parts.join(", "));
    (s, n)
}

pub(super) fn resource_type_node(o: &Map<String, Value>) -> Node {
    let name = get_str(o, "name")
        .or_else(|| get_str(o, "id"))
        .unwrap_or("?");
    let endpoint = get_str(o, "endpoint").unwrap_or("?");
    let mut n = Node::section("ResourceType");
    let exts: Vec<(String, bool)> = get_ci(o, "schemaExtensions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_object)
                .map(|m| {
                    (
                        get_str(m, "schema").unwrap_or("?").to_string(),
                        get_ci(m, "required")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut label = format!("{name} ({endpoint}");
    for (s, _) in &exts {
        if s.eq_ignore_ascii_case(ENTERPRISE) {
            label.push_str(", +enterprise");
        } else {
            label.push_str(&format!(", +{s}"));
        }
    }
    label.push(')');
    n.value = Some(label);
    n.push(Node::field("name", name));
    n.push(
        Node::field("endpoint", endpoint)
            .with_note("path of the collection, relative to the base URL"),
    );
    if let Some(s) = get_str(o, "schema") {
        let mut c = Node::field("schema", s);
        c.note = urn_meaning(s).map(str::to_string);
        n.push(c);
    }
    for (s, req) in exts {
        let mut c = Node::field("schemaExtension", &s).with_note(if req {
            "required extension"
        } else {
            "optional extension"
        });
        if let Some(m) = urn_meaning(&s) {
            c.note = Some(format!("{}; {m}", c.note.unwrap_or_default()));
        }
        n.push(c);
    }
    n
}

pub(super) fn schema_node(o: &Map<String, Value>) -> Node {
    let id = get_str(o, "id").unwrap_or("?");
    let name = get_str(o, "name").unwrap_or(id);
    let attrs = get_ci(o, "attributes").and_then(Value::as_array);
    let count = attrs.map_or(0, Vec::len);
    let mut n = Node::section("Schema");
    n.value = Some(format!("{name} ({count} attributes)"));
    let mut idn = Node::field("id", id);
    idn.note = urn_meaning(id).map(str::to_string);
    n.push(idn);
    for a in attrs
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .take(MAX_ITEMS)
    {
        let Some(am) = a.as_object() else { continue };
        let an = get_str(am, "name").unwrap_or("?");
        let mut desc = vec![get_str(am, "type").unwrap_or("?").to_string()];
        if get_ci(am, "multiValued").and_then(Value::as_bool) == Some(true) {
            desc.push("multi-valued".to_string());
        }
        if get_ci(am, "required").and_then(Value::as_bool) == Some(true) {
            desc.push("required".to_string());
        }
        for key in ["mutability", "returned", "uniqueness"] {
            if let Some(v) = get_str(am, key)
                && !matches!(v, "readWrite" | "default" | "none")
            {
                desc.push(format!("{key}={v}"));
            }
        }
        if get_ci(am, "caseExact").and_then(Value::as_bool) == Some(true) {
            desc.push("caseExact".to_string());
        }
        let mut c = Node::field(an, desc.join(", "));
        c.note = attr_note(an).map(str::to_string);
        if let Some(Value::Array(subs)) = get_ci(am, "subAttributes") {
            let names: Vec<&str> = subs
                .iter()
                .filter_map(|s| s.get("name").and_then(Value::as_str))
                .take(MAX_ITEMS)
                .collect();
            c.push(Node::field("subAttributes", names.join(", ")));
        }
        n.push(c);
    }
    n
}
