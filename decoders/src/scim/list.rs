//! SCIM messages that carry many resources or operations: ListResponse paging, Bulk requests and
//! responses, and the delta-query draft (delta tokens, changed and deleted resources).

use serde_json::{Map, Value};

use super::discovery::{resource_type_node, schema_node};
use super::filter::filter_param_node;
use super::patch::explain_patch;
use super::request::Endpoint;
use super::resource::{explain_error, generic_node, resource_node, schemas_node};
use super::vocabulary::{
    DELTA_REQ, DELTA_RESP, MAX_ITEMS, RESOURCE_TYPE, SCHEMA, get_ci, get_str, schemas,
};
use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::{Context, Message};

pub(super) fn explain_list(
    o: &Map<String, Value>,
    msg: &Message<'_>,
    ep: Option<&Endpoint>,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (String, Node) {
    let mut n = Node::section("ListResponse");
    n.push(schemas_node(&schemas(o)));
    let total = get_ci(o, "totalResults").and_then(util::json_int);
    let resources = o
        .get("Resources")
        .or_else(|| get_ci(o, "Resources"))
        .and_then(Value::as_array);
    if o.contains_key("resources") && !o.contains_key("Resources") {
        findings.push(
            Finding::warning(
                "`resources` is lower-case; RFC 7644 §3.4.2 spells it `Resources` and many \
                 clients look for the exact spelling",
            )
            .at("scim/ListResponse"),
        );
    }
    for (k, v) in o {
        match k.to_ascii_lowercase().as_str() {
            "schemas" | "resources" => {}
            "totalresults" => n.push(
                Node::leaf(k.clone(), util::json_scalar(v), Kind::Number)
                    .with_note("how many resources match in total (across all pages)"),
            ),
            "itemsperpage" => n.push(
                Node::leaf(k.clone(), util::json_scalar(v), Kind::Number)
                    .with_note("how many are in this page"),
            ),
            "startindex" => n.push(
                Node::leaf(k.clone(), util::json_scalar(v), Kind::Number)
                    .with_note("1-based index of the first resource of this page"),
            ),
            "nextcursor" => n.push(
                Node::field(k.clone(), util::json_scalar(v)).with_note("cursor of the next page"),
            ),
            _ => n.push(generic_node(k, v, 1, cx)),
        }
    }
    let discovery = ep.map(|e| e.collection.to_ascii_lowercase());
    let res = resources.map(Vec::as_slice).unwrap_or(&[]);
    let mut labels = Vec::new();
    let mut rn = Node::field("Resources", format!("{} resource(s)", res.len()))
        .with_note("this page of results (capital R in RFC 7644)");
    for (i, r) in res.iter().take(MAX_ITEMS).enumerate() {
        let Some(ro) = r.as_object() else {
            rn.push(Node::leaf(format!("[{i}]"), "not an object", Kind::Error));
            continue;
        };
        let sch = schemas(ro);
        let (label, mut node) = if sch.iter().any(|s| s.eq_ignore_ascii_case(RESOURCE_TYPE))
            || discovery.as_deref() == Some("resourcetypes")
        {
            let node = resource_type_node(ro);
            (node.value.clone().unwrap_or_default(), node)
        } else if sch.iter().any(|s| s.eq_ignore_ascii_case(SCHEMA))
            || discovery.as_deref() == Some("schemas")
        {
            let node = schema_node(ro);
            (node.value.clone().unwrap_or_default(), node)
        } else {
            resource_node(
                ro,
                cx,
                findings,
                &format!("scim/ListResponse/Resources/[{i}]"),
            )
        };
        node.label = format!("[{i}] {}", node.label);
        labels.push(label);
        rn.push(node);
    }
    if res.len() > MAX_ITEMS {
        rn.push(Node::text(
            "…",
            format!("{} more not shown", res.len() - MAX_ITEMS),
        ));
    }
    n.push(rn);
    if let Some(t) = total
        && t < res.len() as i64
    {
        findings.push(
            Finding::warning(format!(
                "totalResults {t} is smaller than the {} resources returned",
                res.len()
            ))
            .at("scim/ListResponse/totalResults"),
        );
    }
    if total.is_none() {
        findings.push(
            Finding::warning("ListResponse without totalResults (REQUIRED by RFC 7644 §3.4.2)")
                .at("scim/ListResponse"),
        );
    }
    let filter = msg
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v);
    let what = match discovery.as_deref() {
        Some("resourcetypes") => "ResourceTypes".to_string(),
        Some("schemas") => "Schemas".to_string(),
        _ => "ListResponse".to_string(),
    };
    let mut s = format!("SCIM {what}");
    if let Some(f) = &filter {
        s.push_str(&format!(" for {f}"));
    }
    let t = total.unwrap_or(res.len() as i64);
    if res.is_empty() {
        s.push_str(&format!(": {t} results"));
        if filter.is_some() {
            s.push_str(" (no match: a provisioning client creates the resource next)");
        }
    } else {
        let shown: Vec<String> = labels.iter().take(4).cloned().collect();
        let more = if labels.len() > 4 {
            format!(", +{}", labels.len() - 4)
        } else {
            String::new()
        };
        s.push_str(&format!(
            ": {} of {t}: {}{more}",
            res.len(),
            shown.join(", ")
        ));
    }
    n.value = Some(format!("{} of {t}", res.len()));
    (s, n)
}

pub(super) fn explain_bulk(
    o: &Map<String, Value>,
    response: bool,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (String, Node) {
    let mut n = Node::section(if response {
        "BulkResponse"
    } else {
        "BulkRequest"
    });
    n.push(schemas_node(&schemas(o)));
    if let Some(f) = get_ci(o, "failOnErrors") {
        n.push(
            Node::field("failOnErrors", util::json_scalar(f))
                .with_note("stop after this many errors"),
        );
    }
    let ops = get_ci(o, "Operations").and_then(Value::as_array);
    let ops = ops.map(Vec::as_slice).unwrap_or(&[]);
    let mut list = Node::field("Operations", format!("{} operation(s)", ops.len()));
    let mut failed = 0;
    for (i, op) in ops.iter().take(MAX_ITEMS).enumerate() {
        let Some(m) = op.as_object() else { continue };
        let method = get_str(m, "method").unwrap_or("?");
        let path = get_str(m, "path")
            .or_else(|| get_str(m, "location"))
            .unwrap_or("");
        let mut c = Node::section(format!("[{i}]"));
        c.value = Some(format!("{method} {path}"));
        for (k, v) in m {
            let node = match k.as_str() {
                "bulkId" => Node::field(k.clone(), util::json_scalar(v)).with_note(
                    "client-chosen id; other operations refer to the created resource as \
                     bulkId:<id>",
                ),
                "status" => {
                    let st = util::json_scalar(v);
                    if st.parse::<u16>().is_ok_and(|s| s >= 400) {
                        failed += 1;
                    }
                    Node::field(k.clone(), st)
                }
                "data" => match v.as_object() {
                    Some(d) => resource_node(d, cx, findings, &format!("scim/bulk/[{i}]")).1,
                    None => generic_node(k, v, 1, cx),
                },
                "response" => match v.as_object() {
                    Some(r) if get_ci(r, "scimType").is_some() || get_ci(r, "detail").is_some() => {
                        explain_error(r, None, &mut Vec::new()).1
                    }
                    _ => generic_node(k, v, 1, cx),
                },
                _ => generic_node(k, v, 1, cx),
            };
            c.push(node);
        }
        list.push(c);
    }
    n.push(list);
    let s = if response {
        format!(
            "SCIM BulkResponse: {} operation(s), {failed} failed",
            ops.len()
        )
    } else {
        format!("SCIM BulkRequest: {} operation(s)", ops.len())
    };
    n.value = Some(format!("{} operation(s)", ops.len()));
    (s, n)
}

/// A delta token: shown as a secret-free field, with its decoded content when it is base64 of
/// readable text (a transparent watermark).
fn delta_token_node(label: &str, token: &str, cx: &Context<'_>) -> Node {
    let mut n = Node::field(label, token).with_note(
        "[fixture-defined] opaque watermark: the client stores it and sends it back to get the \
         changes made after it (like the sync API's readback cookie)",
    );
    if let Some(bytes) = util::b64_decode_any(token, 4096)
        && let Ok(text) = std::str::from_utf8(&bytes)
        && text.chars().all(|c| !c.is_control())
    {
        let mut c = Node::field("decoded", text).with_note(
            "the token is base64 of readable text: this server's watermark is transparent (a \
             client must still treat it as opaque)",
        );
        if let Ok(v) = util::parse_json(text.as_bytes(), "delta token", &cx.limits)
            && let Some(m) = v.as_object()
        {
            for (k, v) in m.iter().take(MAX_ITEMS) {
                c.push(Node::field(k.clone(), util::json_scalar(v)));
            }
        }
        n.push(c);
    }
    n
}

pub(super) fn explain_delta(
    o: &Map<String, Value>,
    sch: &[&str],
    ep: Option<&Endpoint>,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (String, Node) {
    let coll = ep
        .map(|e| e.collection.clone())
        .unwrap_or_else(|| "resources".to_string());
    let has = |u: &str| sch.iter().any(|s| s.eq_ignore_ascii_case(u));
    let kind = if has(DELTA_RESP) || get_ci(o, "Resources").is_some() {
        "delta response"
    } else if has(DELTA_REQ) {
        "delta request"
    } else {
        "delta token"
    };
    let mut n = Node::section(kind).with_note(
        "SCIM delta query (draft-sehgal-scim-delta-query, not an RFC): incremental sync by \
         watermark; member names other than schemas and Resources are [fixture-defined]",
    );
    n.push(schemas_node(sch));
    let token_keys = ["deltaToken", "watermark", "nextDeltaToken", "newDeltaToken"];
    let mut token = None;
    let mut next = None;
    let mut more = None;
    for (k, v) in o {
        let lower = k.to_ascii_lowercase();
        if lower == "schemas" || lower == "resources" {
            continue;
        }
        if token_keys.iter().any(|t| t.eq_ignore_ascii_case(k)) {
            let t = util::json_scalar(v);
            let node = delta_token_node(k, &t, cx);
            if lower.starts_with("next") || lower.starts_with("new") || kind == "delta response" {
                next = Some(t);
            } else {
                token = Some(t);
            }
            n.push(node);
            continue;
        }
        match lower.as_str() {
            "moreresults" | "hasmore" => {
                more = v.as_bool();
                n.push(
                    Node::field(k.clone(), util::json_scalar(v))
                        .with_note("[fixture-defined] true: call .delta again with the new token"),
                );
            }
            "filter" => {
                if let Some(f) = v.as_str() {
                    n.push(filter_param_node(f, "scim/delta/filter", cx, findings));
                }
            }
            _ => n.push(generic_node(k, v, 1, cx)),
        }
    }
    let mut summary;
    match kind {
        "delta response" => {
            let res = get_ci(o, "Resources").and_then(Value::as_array);
            let res = res.map(Vec::as_slice).unwrap_or(&[]);
            let (mut modified, mut deleted, mut patches) = (0, 0, 0);
            let mut rn = Node::field("Resources", format!("{} change(s)", res.len())).with_note(
                "changed resources: a full representation, or attribute changes in PatchOp form",
            );
            for (i, r) in res.iter().take(MAX_ITEMS).enumerate() {
                let Some(ro) = r.as_object() else { continue };
                let change = get_str(ro, "changeType")
                    .map(str::to_ascii_lowercase)
                    .or_else(|| {
                        get_ci(ro, "deleted")
                            .and_then(Value::as_bool)
                            .filter(|d| *d)
                            .map(|_| "deleted".to_string())
                    });
                let is_patch = get_ci(ro, "Operations").is_some();
                let mut node = if is_patch {
                    patches += 1;
                    let (s, mut pn) = explain_patch(ro, None, cx, findings);
                    pn.value = Some(s.trim_start_matches("SCIM PATCH resource: ").to_string());
                    if let Some(id) = get_str(ro, "id") {
                        pn.push(Node::field("id", id));
                    }
                    pn
                } else {
                    resource_node(ro, cx, findings, &format!("scim/delta/Resources/[{i}]")).1
                };
                match change.as_deref() {
                    Some("deleted" | "delete" | "removed") => deleted += 1,
                    _ if !is_patch => modified += 1,
                    _ => {}
                }
                if let Some(c) = &change {
                    node.push(
                        Node::field("change", c)
                            .with_note("[fixture-defined] what happened to the resource"),
                    );
                }
                node.label = format!("[{i}] {}", node.label);
                rn.push(node);
            }
            n.push(rn);
            summary = format!("SCIM delta response {coll}: {} change(s)", res.len());
            let mut kinds = Vec::new();
            if modified > 0 {
                kinds.push(format!("{modified} full"));
            }
            if patches > 0 {
                kinds.push(format!("{patches} patch"));
            }
            if deleted > 0 {
                kinds.push(format!("{deleted} deleted"));
            }
            if !kinds.is_empty() {
                summary.push_str(&format!(" ({})", kinds.join(", ")));
            }
            if res.is_empty() {
                summary.push_str(" (nothing changed since the token)");
            }
            if let Some(t) = next.as_ref().or(token.as_ref()) {
                summary.push_str(&format!(", next token {}", util::ellipsize(t, 16)));
            }
            if more == Some(true) {
                summary.push_str(", more results");
            }
        }
        "delta request" => {
            summary = format!("SCIM delta request {coll}");
            match &token {
                Some(t) => summary.push_str(&format!(" since token {}", util::ellipsize(t, 16))),
                None => {
                    findings.push(
                        Finding::warning("delta request without a delta token")
                            .at("scim/delta request"),
                    );
                }
            }
        }
        _ => {
            summary = format!("SCIM delta token for {coll}");
            if let Some(t) = next.as_ref().or(token.as_ref()) {
                summary.push_str(&format!(": {}", util::ellipsize(t, 24)));
            }
        }
    }
    n.value = Some(kind.to_string());
    (summary, n)
}
