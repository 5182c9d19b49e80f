//! SCIM 2.0 (RFC 7643/7644), as spoken by Entra ID provisioning and the cloud-sync service
//! (protocols.md §6): requests and responses on `/scim/v2/…`, with `application/scim+json`, or
//! whose body names `urn:ietf:params:scim:…` schemas. It explains resources (User with the
//! enterprise extension, Group with members), schema URNs, ListResponse paging, the `filter` query
//! parameter ([`parse_filter`]), PatchOp operations (with the Entra interop quirks: capitalised
//! `op`, string booleans such as `"False"`, path-less operations), errors (string `status`,
//! `scimType`), the discovery documents (ServiceProviderConfig, ResourceTypes, Schemas), Bulk and
//! SearchRequest messages, and the delta-query draft (`/.deltaToken`, `/.delta`).
//!
//! Delta query is only an IETF draft (draft-sehgal-scim-delta-query) and the real cloud-sync agent's
//! watermark is not public, so the member names read here (`deltaToken`, `watermark`,
//! `nextDeltaToken`, `moreResults`, a `changeType`/`deleted` marker per resource) are
//! **[fixture-defined]** and labelled as such in the view.
//!
//! This module is *not* responsible for the bearer token in `Authorization` (the `jwt` decoder
//! shows it), for checking a resource against its schema, or for correlating a request with a
//! later response beyond what the response's own request URL says. The `password` attribute is a
//! [`Kind::Secret`](crate::view::Kind::Secret). Attribute names are matched case-insensitively,
//! as RFC 7643 §2.1 requires.
//!
//! This file holds the decoder and the dispatch on a body's schemas. The parts, lowest first:
//! `vocabulary` (URNs, attribute meanings, case-insensitive member access), `filter` (the filter
//! grammar, also used by the reference fixture), `request` (endpoint, method, query and status),
//! `resource` (User, Group, generic values, Error), `patch` (PatchOp), `discovery`
//! (ServiceProviderConfig, ResourceType, Schema) and `list` (ListResponse, Bulk, delta query).

mod discovery;
mod filter;
mod list;
mod patch;
mod request;
mod resource;
mod vocabulary;

use serde_json::{Map, Value};

use crate::util;
use crate::view::{Finding, Node};
use crate::{Context, DecodeError, Decoded, Message};
use discovery::{explain_spc, resource_type_node, schema_node};
use filter::filter_param_node;
use list::{explain_bulk, explain_delta, explain_list};
use patch::explain_patch;
use request::{describe_target, query_suffix, request_node, status_node};
use resource::{explain_error, generic_node, resource_node, schemas_node};
use vocabulary::{
    BULK_REQ, BULK_RESP, DELTA_REQ, DELTA_RESP, DELTA_TOKEN, ERROR, LIST, PATCH, RESOURCE_TYPE,
    SCHEMA, SEARCH, SPC, URN_PREFIX, get_ci, schemas,
};

pub use filter::{Filter, filter_node, parse_filter};
pub use request::{Endpoint, endpoint};
pub use vocabulary::{scim_type_meaning, urn_meaning};

decoder! {
    /// The `scim` decoder: SCIM 2.0 requests and responses.
    pub struct Scim: "scim";
}

fn priority(msg: &Message<'_>) -> f32 {
    let ct = msg.content_type();
    if ct.as_deref() == Some("application/scim+json") {
        return 0.9;
    }
    let path = msg.path();
    if crate::util::contains_ci(path.as_bytes(), b"/scim/")
        || crate::util::ends_with_ci(path, "/scim")
    {
        return 0.9;
    }
    let head = msg.body.get(..4096).unwrap_or(msg.body);
    if head.trim_ascii_start().starts_with(b"{")
        && crate::util::contains(head, URN_PREFIX.as_bytes())
    {
        return 0.85;
    }
    0.0
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "SCIM body")?;
    let method = msg.method.unwrap_or("").to_ascii_uppercase();
    let ep = endpoint(msg.path());
    let mut findings = Vec::new();
    let mut root = Node::section("scim");
    root.push(request_node(msg, ep.as_ref(), &method, cx, &mut findings));
    let body = msg.body.trim_ascii();
    let body_json = if body.is_empty() {
        None
    } else {
        Some(util::parse_json(body, "body", &cx.limits)?)
    };
    let obj = body_json.as_ref().and_then(Value::as_object);
    if body_json.is_some() && obj.is_none() {
        return Err(DecodeError::not(
            "a SCIM message",
            "the body is JSON but not an object",
        ));
    }
    let what = describe_target(ep.as_ref(), &method);
    let summary = match (msg.is_response(), obj) {
        (false, None) => {
            root.value = Some(what.clone());
            format!("SCIM {what}{}", query_suffix(msg))
        }
        (true, None) => {
            let status = msg.status.unwrap_or(0);
            root.value = Some(format!("{status} response to {what} (no body)"));
            root.push(status_node(status));
            match status {
                204 => format!("SCIM 204 No Content: {what} succeeded"),
                s if s >= 400 => {
                    findings.push(Finding::warning(format!(
                        "HTTP {s} without a SCIM Error body (RFC 7644 §3.12 expects one)"
                    )));
                    format!("SCIM {s} (no body) for {what}")
                }
                s => format!("SCIM {s} for {what}"),
            }
        }
        (_, Some(o)) => {
            if let Some(s) = msg.status {
                root.push(status_node(s));
            }
            let (s, body_node) = explain_body(o, msg, ep.as_ref(), &method, cx, &mut findings);
            root.value = Some(match msg.status {
                Some(st) => format!("{st} response to {what}"),
                None => what.clone(),
            });
            root.push(body_node);
            s
        }
    };
    let mut d = Decoded::new("scim", summary, root);
    d.findings = findings;
    Ok(d)
}

/// Dispatches on the body's schemas (and falls back to shape).
fn explain_body(
    o: &Map<String, Value>,
    msg: &Message<'_>,
    ep: Option<&Endpoint>,
    method: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (String, Node) {
    let sch = schemas(o);
    let has = |u: &str| sch.iter().any(|s| s.eq_ignore_ascii_case(u));
    let target = describe_target(ep, method);
    let status = msg.status;
    if sch.is_empty() {
        findings.push(
            Finding::warning(
                "the body has no `schemas` array; RFC 7643 §3 requires one on every resource and \
                 message",
            )
            .at("scim/body"),
        );
    }
    if has(ERROR) || (sch.is_empty() && get_ci(o, "scimType").is_some()) {
        return explain_error(o, status, findings);
    }
    if has(PATCH) {
        return explain_patch(o, ep, cx, findings);
    }
    if has(DELTA_TOKEN) || has(DELTA_REQ) || has(DELTA_RESP) || is_delta(ep) {
        return explain_delta(o, &sch, ep, cx, findings);
    }
    if has(LIST) {
        return explain_list(o, msg, ep, cx, findings);
    }
    if has(SPC) {
        return explain_spc(o);
    }
    if has(SEARCH) {
        let mut n = Node::section("SearchRequest");
        n.push(schemas_node(&sch));
        let mut sum = "SCIM SearchRequest".to_string();
        for (k, v) in o {
            match (k.as_str(), v) {
                ("filter", Value::String(f)) => {
                    sum.push_str(&format!(" filter {f}"));
                    n.push(filter_param_node(
                        f,
                        "scim/SearchRequest/filter",
                        cx,
                        findings,
                    ));
                }
                ("schemas", _) => {}
                _ => n.push(generic_node(k, v, 0, cx)),
            }
        }
        return (sum, n);
    }
    if has(BULK_REQ) || has(BULK_RESP) {
        return explain_bulk(o, has(BULK_RESP), cx, findings);
    }
    if has(RESOURCE_TYPE) {
        let n = resource_type_node(o);
        return (
            format!("SCIM ResourceType {}", n.value.clone().unwrap_or_default()),
            n,
        );
    }
    if has(SCHEMA) {
        let n = schema_node(o);
        return (
            format!("SCIM Schema {}", n.value.clone().unwrap_or_default()),
            n,
        );
    }
    let (label, node) = resource_node(o, cx, findings, "scim");
    let mut s = match status {
        Some(201) => format!("SCIM 201 Created {label}"),
        Some(s) => format!("SCIM {s} {label}"),
        None if ep.is_some_and(|e| e.id.is_none()) => format!("SCIM {method} {label}"),
        None if target.trim().is_empty() => format!("SCIM {label}"),
        None => format!("SCIM {target}: {label}"),
    };
    if let Some(etag) = msg.header("etag").filter(|_| msg.is_response()) {
        s.push_str(&format!(" (ETag {etag})"));
    }
    (s, node)
}

fn is_delta(ep: Option<&Endpoint>) -> bool {
    ep.and_then(|e| e.action.as_deref())
        .is_some_and(|a| a.eq_ignore_ascii_case(".delta") || a.eq_ignore_ascii_case(".deltaToken"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::{OwnedMessage, Trust};
    use std::time::UNIX_EPOCH;

    #[test]
    fn filter_with_and_or_not_and_value_path_parses() {
        let f = parse_filter(
            r#"userName eq "a@b" and (title pr or not (emails[type eq "work"]))"#,
            16,
        )
        .unwrap();
        assert_eq!(
            f.to_string(),
            r#"(userName eq "a@b" and (title pr or not (emails[type eq "work"])))"#
        );
        assert!(parse_filter(r#"userName eq"#, 16).is_err());
        assert!(parse_filter(r#"userName xx "a""#, 16).is_err());
        assert!(parse_filter(r#"userName eq "unterminated"#, 16).is_err());
    }

    #[test]
    fn deep_filters_are_refused_not_overflowed() {
        let deep = format!("{}a pr{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse_filter(&deep, 64).is_err());
    }

    #[test]
    fn endpoint_finds_collection_id_and_action() {
        let e = endpoint("/scim/v2/Users/2819c223-7f76-453a-919d-413861904646").unwrap();
        assert_eq!(e.collection, "Users");
        assert_eq!(
            e.id.as_deref(),
            Some("2819c223-7f76-453a-919d-413861904646")
        );
        let d = endpoint("/scim/v2/Users/.deltaToken").unwrap();
        assert_eq!(d.action.as_deref(), Some(".deltaToken"));
        assert!(d.id.is_none());
    }

    #[test]
    fn capitalised_ops_and_string_booleans_are_flagged() {
        let text = "PATCH https://h/scim/v2/Users/2819c223-7f76-453a-919d-413861904646\n\
                    content-type: application/scim+json\n\n\
                    {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\
                    \"Operations\":[{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}]}";
        let m = OwnedMessage::parse_http_text(text).unwrap();
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let d = Scim.decode(&m.as_message(), &cx).unwrap();
        assert_eq!(
            d.summary,
            "SCIM PATCH User 2819c223…: replace active=false (string boolean \"False\")"
        );
        assert!(d.has_finding("capitalised"));
        assert!(d.has_finding("Entra ID provisioning quirk"));
    }

    #[test]
    fn mutated_inputs_decode_or_say_why() {
        let trust = Trust::default();
        let cx = Context::new(UNIX_EPOCH, &trust);
        let samples = [
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":1},{"op":"remove"},"x",{"op":"add","path":"members[value eq","value":{}}]}"#,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"Resources":[1,{"schemas":[]}],"totalResults":"x"}"#,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":409}"#,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:delta:response"],"Resources":[{"Operations":5}]}"#,
            r#"[1,2]"#,
            r#"{"schemas":"x"}"#,
        ];
        let (mut views, mut errors) = (0, 0);
        for s in samples {
            for cut in 0..s.len() {
                let body = s.get(..cut).unwrap_or("");
                let msg = Message::request(
                    "PATCH",
                    "https://h/scim/v2/Users/.delta?filter=a%20eq",
                    vec![],
                    body.as_bytes(),
                );
                match Scim.decode(&msg, &cx) {
                    Ok(d) => {
                        assert!(!d.summary.is_empty(), "{body}");
                        views += 1;
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty(), "{body}");
                        errors += 1;
                    }
                }
            }
        }
        assert!(views > 0 && errors > 0, "{views} views, {errors} errors");
    }
}
