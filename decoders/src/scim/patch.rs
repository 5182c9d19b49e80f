//! SCIM PatchOp (RFC 7644 §3.5.2): each operation with its path (value-filtered paths parsed
//! with the filter grammar) and value, and the Entra ID interop quirks (capitalised `op`, string
//! booleans, path-less operations).

use serde_json::{Map, Value};

use super::filter::{filter_node, parse_filter};
use super::request::Endpoint;
use super::resource::{generic_node, schemas_node, string_boolean_finding};
use super::vocabulary::{MAX_ITEMS, attr_note, get_ci, get_str, schemas, short_id};
use crate::Context;
use crate::util;
use crate::view::{Finding, Kind, Node};

/// The view and summary text of one PATCH operation's value.
fn value_brief(v: &Value) -> String {
    match v {
        Value::Array(a) if a.iter().all(|x| x.get("value").is_some()) => {
            let ids: Vec<String> = a
                .iter()
                .take(3)
                .filter_map(|x| x.get("value").map(util::json_scalar))
                .map(|id| short_id(&id))
                .collect();
            let more = if a.len() > 3 {
                format!(" +{}", a.len() - 3)
            } else {
                String::new()
            };
            format!("[{}{more}]", ids.join(", "))
        }
        Value::Array(a) => format!("[{} value(s)]", a.len()),
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).take(4).collect();
            format!("{{{}}}", keys.join(", "))
        }
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            format!("{} (string boolean \"{s}\")", s.to_ascii_lowercase())
        }
        other => util::ellipsize(&util::json_scalar(other), 60),
    }
}

/// Explains a PATCH `path` (`members[value eq "…"]`, `name.givenName`, a URN-qualified attribute).
fn patch_path_node(path: &str, cx: &Context<'_>, at: &str, findings: &mut Vec<Finding>) -> Node {
    let mut n = Node::field("path", path);
    if let Some(open) = path.find('[') {
        let attr = path.get(..open).unwrap_or("");
        let close = path.rfind(']').unwrap_or(path.len());
        let inner = path.get(open + 1..close).unwrap_or("");
        let sub = path.get(close + 1..).unwrap_or("").trim_start_matches('.');
        n.note = Some(format!(
            "value-filtered path: the values of {attr} that match the filter{}",
            if sub.is_empty() {
                String::new()
            } else {
                format!(", sub-attribute {sub}")
            }
        ));
        match parse_filter(inner, cx.limits.max_depth) {
            Ok(f) => n.push(filter_node(&f)),
            Err(e) => {
                n.push(Node::leaf("parse", e.clone(), Kind::Error));
                findings.push(
                    Finding::warning(format!(
                        "the path filter does not parse ({e}); a server answers invalidPath"
                    ))
                    .at(at.to_string()),
                );
            }
        }
    } else if path.starts_with("urn:") {
        n.note = Some(
            "a URN-qualified attribute (schema URN, then ':' and the attribute name)".to_string(),
        );
    } else {
        let leaf = path.rsplit('.').next().unwrap_or(path);
        n.note = Some(match attr_note(leaf) {
            Some(m) => format!("attribute path: {m}"),
            None => "attribute path".to_string(),
        });
    }
    n
}

pub(super) fn explain_patch(
    o: &Map<String, Value>,
    ep: Option<&Endpoint>,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (String, Node) {
    let mut n = Node::section("PatchOp");
    n.push(schemas_node(&schemas(o)));
    let ops = get_ci(o, "Operations").and_then(Value::as_array);
    if o.contains_key("operations") && !o.contains_key("Operations") {
        findings.push(
            Finding::info(
                "`operations` is lower-case; RFC 7644 spells it `Operations` (names are \
                 case-insensitive, but some servers look for the exact spelling)",
            )
            .at("scim/PatchOp"),
        );
    }
    let mut parts = Vec::new();
    let mut capitalised = Vec::new();
    let Some(ops) = ops else {
        findings.push(Finding::error("PatchOp without an Operations array").at("scim/PatchOp"));
        return ("SCIM PATCH without Operations".to_string(), n);
    };
    let mut list = Node::field("Operations", format!("{} operation(s)", ops.len()))
        .with_note("applied in order, atomically: if one fails none is applied (RFC 7644 §3.5.2)");
    for (i, op) in ops.iter().take(MAX_ITEMS).enumerate() {
        let at = format!("scim/PatchOp/Operations/[{i}]");
        let Some(m) = op.as_object() else {
            list.push(Node::leaf(format!("[{i}]"), "not an object", Kind::Error));
            continue;
        };
        let raw_op = get_str(m, "op").unwrap_or("");
        let lower = raw_op.to_ascii_lowercase();
        let mut c = Node::section(format!("[{i}]"));
        let mut opn = Node::field("op", raw_op).with_note(match lower.as_str() {
            "add" => "add: append to multi-valued attributes, set single-valued ones",
            "replace" => "replace: overwrite the value (sets it when absent)",
            "remove" => "remove: delete the attribute or the matching values",
            _ => "not add, remove or replace: the server rejects it",
        });
        if !matches!(lower.as_str(), "add" | "replace" | "remove") {
            findings.push(
                Finding::error(format!("unknown PATCH op {raw_op:?}")).at(format!("{at}/op")),
            );
        } else if raw_op != lower {
            capitalised.push(raw_op.to_string());
            opn.note = Some(format!(
                "{}; sent capitalised as {raw_op:?} (Entra ID does this); RFC 7644 defines the \
                 lowercase names and servers must compare case-insensitively",
                opn.note.unwrap_or_default()
            ));
        }
        c.push(opn);
        let path = get_str(m, "path");
        if let Some(p) = path {
            c.push(patch_path_node(p, cx, &format!("{at}/path"), findings));
        }
        let value = get_ci(m, "value");
        let mut part = lower.clone();
        match (path, value) {
            (Some(p), Some(v)) => {
                part.push_str(&format!(" {p}={}", value_brief(v)));
            }
            (Some(p), None) => part.push_str(&format!(" {p}")),
            (None, Some(Value::Object(vm))) => {
                let items: Vec<String> = vm
                    .iter()
                    .take(4)
                    .map(|(k, v)| format!("{k}={}", value_brief(v)))
                    .collect();
                part.push_str(&format!(" {}", items.join(", ")));
            }
            (None, Some(v)) => part.push_str(&format!(" {}", value_brief(v))),
            (None, None) => {}
        }
        if lower == "remove" && path.is_none() {
            findings.push(
                Finding::error("a remove operation needs a path (RFC 7644 §3.5.2.2: noTarget)")
                    .at(at.clone()),
            );
        }
        if let Some(v) = value {
            if path.is_none() && v.is_object() {
                c.push(Node::text(
                    "form",
                    "path-less operation: the value object's members are the attributes to change \
                     (Entra ID's older style; RFC-compliant but less common)",
                ));
            }
            let mut vn = generic_node("value", v, 1, cx);
            vn.note = Some(match v {
                Value::String(t)
                    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") =>
                {
                    "the new value: a JSON string that spells a boolean, not a boolean".to_string()
                }
                Value::Array(_) if path.is_some_and(|p| p.eq_ignore_ascii_case("members")) => {
                    "the members to add: each value is a User or Group id".to_string()
                }
                Value::Object(_) if path.is_none() => {
                    "attribute name → new value, for each attribute to change".to_string()
                }
                _ => "the new value".to_string(),
            });
            c.push(vn);
            check_string_booleans(v, path.unwrap_or(""), &format!("{at}/value"), findings);
        }
        if lower == "remove" && value.is_some() && path.is_some_and(|p| !p.contains('[')) {
            c.push(Node::text(
                "note",
                "remove with a value: Entra ID's way of removing specific members; RFC 7644 \
                 expects a value filter in the path instead (members[value eq \"…\"])",
            ));
        }
        parts.push(part);
        list.push(c);
    }
    if ops.len() > MAX_ITEMS {
        list.push(Node::text(
            "…",
            format!("{} more not shown", ops.len() - MAX_ITEMS),
        ));
    }
    n.push(list);
    if !capitalised.is_empty() {
        capitalised.dedup();
        findings.push(
            Finding::info(format!(
                "interop: op sent capitalised ({}); RFC 7644 §3.5.2 uses lowercase add/remove/\
                 replace and requires case-insensitive handling, but some servers only accept \
                 lowercase",
                capitalised.join(", ")
            ))
            .at("scim/PatchOp/Operations"),
        );
    }
    let target = match ep {
        Some(ep) => format!(
            "{}{}",
            ep.resource(),
            ep.id
                .as_deref()
                .map(|i| format!(" {}", short_id(i)))
                .unwrap_or_default()
        ),
        None => "resource".to_string(),
    };
    let s = format!("SCIM PATCH {target}: {}", parts.join("; "));
    n.value = Some(format!("{} operation(s)", ops.len()));
    (s, n)
}

fn check_string_booleans(v: &Value, attr: &str, at: &str, findings: &mut Vec<Finding>) {
    match v {
        Value::String(s) => string_boolean_finding(
            s,
            if attr.is_empty() { "value" } else { attr },
            at,
            findings,
        ),
        Value::Object(m) => {
            for (k, v) in m.iter().take(MAX_ITEMS) {
                if let Value::String(s) = v {
                    string_boolean_finding(s, k, &format!("{at}/{k}"), findings);
                }
            }
        }
        _ => {}
    }
}
