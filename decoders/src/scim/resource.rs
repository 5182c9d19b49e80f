//! SCIM resources and the generic parts of every body: User and Group (with the enterprise
//! extension, members and the write-only password), the `schemas` list, any other JSON value,
//! Error responses, and the string-boolean check for the Entra ID provisioning quirk.

use serde_json::{Map, Value};

use super::vocabulary::{
    ENTERPRISE, GROUP, MAX_ITEMS, URN_PREFIX, USER, attr_note, get_ci, get_str, schemas,
    scim_type_meaning, short_id, urn_meaning,
};
use crate::Context;
use crate::util;
use crate::view::{Finding, Kind, Node};

/// Resource attributes in reading order (identity, state, names, contact, extension, metadata);
/// the rest follow alphabetically. serde_json does not keep wire order, so a fixed order keeps
/// views stable.
const RESOURCE_ORDER: &[&str] = &[
    "schemas",
    "id",
    "externalId",
    "userName",
    "displayName",
    "active",
    "name",
    "nickName",
    "title",
    "userType",
    "emails",
    "phoneNumbers",
    "addresses",
    "password",
    "members",
    "groups",
    "roles",
    ENTERPRISE,
    "meta",
];

pub(super) fn schemas_node(sch: &[&str]) -> Node {
    let mut n = Node::field("schemas", sch.join(", "));
    for s in sch.iter().take(MAX_ITEMS) {
        let mut c = Node::field("urn", *s);
        c.note = Some(match urn_meaning(s) {
            Some(m) => m.to_string(),
            None if s.starts_with(URN_PREFIX) => {
                "a urn:ietf:params:scim URN this decoder does not know".to_string()
            }
            None => "a custom (vendor or tenant) schema extension".to_string(),
        });
        n.push(c);
    }
    n
}

/// A generic rendering of any JSON value, bounded in depth and width.
pub(super) fn generic_node(label: &str, v: &Value, depth: usize, cx: &Context<'_>) -> Node {
    let mut n = match v {
        Value::Object(m) => {
            let mut n = Node::section(label);
            if depth < cx.limits.max_depth {
                for (k, v) in m.iter().take(MAX_ITEMS) {
                    n.push(generic_node(k, v, depth + 1, cx));
                }
            }
            n
        }
        Value::Array(a) => {
            let mut n = Node::field(label, format!("{} item(s)", a.len()));
            if depth < cx.limits.max_depth {
                for (i, v) in a.iter().take(MAX_ITEMS).enumerate() {
                    n.push(generic_node(&format!("[{i}]"), v, depth + 1, cx));
                }
                if a.len() > MAX_ITEMS {
                    n.push(Node::text(
                        "…",
                        format!("{} more not shown", a.len() - MAX_ITEMS),
                    ));
                }
            }
            n
        }
        Value::Number(_) => Node::leaf(label, util::json_scalar(v), Kind::Number),
        _ => Node::field(label, util::json_scalar(v)),
    };
    if label.eq_ignore_ascii_case("password") {
        n.kind = Kind::Secret;
    }
    if n.note.is_none() {
        n.note = attr_note(label).map(str::to_string);
    }
    n
}

/// Explains a User/Group (or unknown) resource. Returns a one-line label and the node.
pub(super) fn resource_node(
    o: &Map<String, Value>,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
    parent: &str,
) -> (String, Node) {
    let sch = schemas(o);
    let is_user = sch.iter().any(|s| s.eq_ignore_ascii_case(USER))
        || get_ci(o, "userName").is_some()
        || get_ci(o, "meta")
            .and_then(Value::as_object)
            .and_then(|m| get_str(m, "resourceType"))
            .is_some_and(|r| r.eq_ignore_ascii_case("User"));
    let is_group = !is_user
        && (sch.iter().any(|s| s.eq_ignore_ascii_case(GROUP))
            || get_ci(o, "members").is_some()
            || get_ci(o, "meta")
                .and_then(Value::as_object)
                .and_then(|m| get_str(m, "resourceType"))
                .is_some_and(|r| r.eq_ignore_ascii_case("Group")));
    let kind = if is_user {
        "User"
    } else if is_group {
        "Group"
    } else {
        "resource"
    };
    let mut node = Node::section(kind);
    let path = format!("{parent}/{kind}");
    let name = if is_user {
        get_str(o, "userName")
            .map(str::to_string)
            .or_else(|| get_str(o, "displayName").map(str::to_string))
    } else {
        get_str(o, "displayName").map(|d| format!("\"{d}\""))
    };
    let mut label = kind.to_string();
    if let Some(n) = &name {
        label.push_str(&format!(" {n}"));
    }
    if let Some(id) = get_str(o, "id") {
        label.push_str(&format!(" id={}", short_id(id)));
    }
    let has_ent = sch.iter().any(|s| s.eq_ignore_ascii_case(ENTERPRISE))
        || o.keys().any(|k| k.eq_ignore_ascii_case(ENTERPRISE));
    if is_user && has_ent {
        label.push_str(" (core + enterprise)");
    }
    if is_group && let Some(Value::Array(m)) = get_ci(o, "members") {
        label.push_str(&format!(
            " ({} member{})",
            m.len(),
            if m.len() == 1 { "" } else { "s" }
        ));
    }
    if let Some(active) = get_ci(o, "active") {
        match active {
            Value::Bool(false) => label.push_str(" active=false"),
            Value::String(s) => {
                label.push_str(&format!(" active=\"{s}\""));
                string_boolean_finding(s, "active", &format!("{path}/active"), findings);
            }
            _ => {}
        }
    }
    node.value = Some(label.clone());
    for (k, v) in crate::jwt::ordered(o, RESOURCE_ORDER)
        .into_iter()
        .take(MAX_ITEMS)
    {
        let c = if k.eq_ignore_ascii_case("schemas") {
            schemas_node(&schemas(o))
        } else if k.eq_ignore_ascii_case(ENTERPRISE) {
            let mut e = generic_node("enterprise extension", v, 1, cx);
            e.value = Some(k.clone());
            e.note = urn_meaning(ENTERPRISE).map(str::to_string);
            e
        } else if k.eq_ignore_ascii_case("password") {
            findings.push(
                Finding::warning(
                    "the `password` attribute is set: the clear-text password travels in the \
                     SCIM body (write-only; a server must never return it)",
                )
                .at(format!("{path}/password")),
            );
            Node::secret(k.clone(), util::json_scalar(v)).with_note(format!(
                "write-only password ({} chars): shown masked, never returned by the server",
                util::json_scalar(v).chars().count()
            ))
        } else if k.eq_ignore_ascii_case("members") {
            members_node(v, cx)
        } else if k.eq_ignore_ascii_case("meta") {
            let mut m = generic_node("meta", v, 1, cx);
            m.label = k.clone();
            m
        } else if k.starts_with(URN_PREFIX) || k.starts_with("urn:") {
            let mut e = generic_node(k, v, 1, cx);
            e.note = Some("a schema extension, keyed by its URN".to_string());
            e
        } else {
            generic_node(k, v, 1, cx)
        };
        node.push(c);
    }
    if o.len() > MAX_ITEMS {
        node.push(Node::text(
            "…",
            format!("{} more attributes not shown", o.len() - MAX_ITEMS),
        ));
    }
    (label, node)
}

fn members_node(v: &Value, cx: &Context<'_>) -> Node {
    let Value::Array(a) = v else {
        return generic_node("members", v, 1, cx);
    };
    let mut n = Node::field("members", format!("{} member(s)", a.len()))
        .with_note(attr_note("members").unwrap_or_default());
    for (i, m) in a.iter().take(MAX_ITEMS).enumerate() {
        let text = match m.as_object() {
            Some(o) => {
                let mut t = get_str(o, "value").unwrap_or("(no value)").to_string();
                if let Some(d) = get_str(o, "display") {
                    t.push_str(&format!(" ({d})"));
                }
                t
            }
            None => util::json_scalar(m),
        };
        n.push(Node::field(format!("[{i}]"), text));
    }
    if a.len() > MAX_ITEMS {
        n.push(Node::text(
            "…",
            format!("{} more not shown", a.len() - MAX_ITEMS),
        ));
    }
    n
}

pub(super) fn string_boolean_finding(s: &str, attr: &str, at: &str, findings: &mut Vec<Finding>) {
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
        findings.push(
            Finding::warning(format!(
                "{attr} is the string \"{s}\", not a JSON boolean: the known Entra ID provisioning \
                 quirk (it sends \"True\"/\"False\"); a strict server rejects it with \
                 invalidValue, a lax one may store the string"
            ))
            .at(at.to_string()),
        );
    }
}

pub(super) fn explain_error(
    o: &Map<String, Value>,
    http_status: Option<u16>,
    findings: &mut Vec<Finding>,
) -> (String, Node) {
    let mut n = Node::section("Error");
    let status_v = get_ci(o, "status");
    let status_text = status_v.map(util::json_scalar).unwrap_or_default();
    let scim_type = get_str(o, "scimType");
    let detail = get_str(o, "detail");
    for (k, v) in o {
        let c = match k.to_ascii_lowercase().as_str() {
            "schemas" => schemas_node(&schemas(o)),
            "status" => {
                let mut c = Node::field(k.clone(), util::json_scalar(v)).with_note(
                    "the HTTP status, repeated in the body as a STRING (RFC 7644 §3.12)",
                );
                if v.is_number() {
                    findings.push(
                        Finding::warning(
                            "`status` is a JSON number; RFC 7644 §3.12 defines it as a string \
                             (\"409\"), and strict clients fail to parse a number",
                        )
                        .at("scim/Error/status"),
                    );
                    c.note = Some("sent as a number: RFC 7644 says string".to_string());
                }
                c
            }
            "scimtype" => {
                let t = util::json_scalar(v);
                let mut c = Node::field(k.clone(), &t);
                c.note = Some(
                    scim_type_meaning(&t)
                        .map(str::to_string)
                        .unwrap_or_else(|| "not one of the RFC 7644 scimType keywords".to_string()),
                );
                c
            }
            "detail" => Node::text(k.clone(), util::json_scalar(v))
                .with_note("human-readable explanation from the server"),
            _ => Node::field(k.clone(), util::json_scalar(v)),
        };
        n.push(c);
    }
    if let (Some(h), Ok(b)) = (http_status, status_text.parse::<u16>())
        && h != b
    {
        findings.push(
            Finding::warning(format!(
                "the body says status {b} but the HTTP status is {h}"
            ))
            .at("scim/Error/status"),
        );
    }
    let status = if status_text.is_empty() {
        http_status.map(|s| s.to_string()).unwrap_or_default()
    } else {
        status_text
    };
    let mut s = format!("SCIM error {status}");
    if let Some(t) = scim_type {
        s.push_str(&format!(" {t}"));
    }
    if let Some(d) = detail {
        s.push_str(&format!(": {}", util::ellipsize(d, 100)));
    }
    n.value = Some(s.clone());
    findings.push(Finding::info(s.clone()).at("scim/Error"));
    (s, n)
}
