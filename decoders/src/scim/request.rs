//! The request side of a SCIM exchange: which endpoint a URL path addresses ([`endpoint`]),
//! what the method does there, the query parameters (filter, paging, attribute selection), the
//! ETag preconditions and, on responses, the status, `Location` and `ETag`.

use super::filter::filter_param_node;
use super::vocabulary::short_id;
use crate::view::{Finding, Kind, Node};
use crate::{Context, Message};

/// The SCIM endpoint a URL path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The resource collection or discovery endpoint (`Users`, `Groups`, `ServiceProviderConfig`,
    /// `Bulk`, `.search`, `Me` …), as written in the path.
    pub collection: String,
    /// The resource id after the collection, if any.
    pub id: Option<String>,
    /// A trailing special segment: `.search`, `.delta` or `.deltaToken`.
    pub action: Option<String>,
}

impl Endpoint {
    /// The singular resource name for summaries (`User`, `Group`), or the collection itself.
    pub fn resource(&self) -> String {
        match self.collection.to_ascii_lowercase().as_str() {
            "users" | "me" => "User".to_string(),
            "groups" => "Group".to_string(),
            _ => self.collection.clone(),
        }
    }
}

const KNOWN_COLLECTIONS: &[&str] = &[
    "users",
    "groups",
    "me",
    "serviceproviderconfig",
    "serviceproviderconfigs",
    "resourcetypes",
    "schemas",
    "bulk",
    ".search",
];

/// Finds the SCIM endpoint in a URL path: the last known collection segment (`Users`, `Groups`,
/// discovery endpoints), the id after it and a `.search`/`.delta`/`.deltaToken` action.
pub fn endpoint(path: &str) -> Option<Endpoint> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let idx = segs
        .iter()
        .rposition(|s| KNOWN_COLLECTIONS.contains(&s.to_ascii_lowercase().as_str()))?;
    let collection = segs.get(idx)?.to_string();
    let mut rest = segs.get(idx + 1..).unwrap_or(&[]).iter();
    let mut id = None;
    let mut action = None;
    for s in rest.by_ref().take(2) {
        let special = s.starts_with('.');
        if special {
            action = Some(s.to_string());
        } else if id.is_none() {
            id = Some(
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
    }
    Some(Endpoint {
        collection,
        id,
        action,
    })
}

fn endpoint_note(ep: &Endpoint, method: &str) -> String {
    let m = method.to_ascii_uppercase();
    let c = ep.collection.to_ascii_lowercase();
    if let Some(a) = &ep.action {
        return match a.to_ascii_lowercase().as_str() {
            ".deltatoken" => format!(
                "delta query (draft-sehgal-scim-delta-query): obtain the first delta token \
                 (watermark) for {}",
                ep.collection
            ),
            ".delta" => format!(
                "delta query (draft-sehgal-scim-delta-query): changes to {} since a delta token",
                ep.collection
            ),
            ".search" => {
                "query sent as a POST body (SearchRequest) instead of URL parameters".to_string()
            }
            _ => format!("special endpoint {a}"),
        };
    }
    match (c.as_str(), m.as_str(), &ep.id) {
        ("serviceproviderconfig" | "serviceproviderconfigs", _, _) => {
            "discovery: which optional features (PATCH, bulk, filter, sort, ETag) the server supports"
                .to_string()
        }
        ("resourcetypes", _, _) => "discovery: the resource types and their endpoints".to_string(),
        ("schemas", _, _) => "discovery: the attribute definitions of each schema".to_string(),
        ("bulk", _, _) => "bulk: many operations in one request".to_string(),
        (".search", _, _) => "query across all resource types (POST SearchRequest)".to_string(),
        ("me", _, _) => "the resource of the authenticated subject".to_string(),
        (_, "GET", None) => format!("list or filter {}", ep.collection),
        (_, "GET", Some(_)) => format!("read one {}", ep.resource()),
        (_, "POST", None) => format!("create a {} (answer: 201 Created + Location)", ep.resource()),
        (_, "PUT", Some(_)) => format!("replace a whole {}", ep.resource()),
        (_, "PATCH", Some(_)) => format!(
            "modify part of a {} (answer: 200 with the resource, or 204)",
            ep.resource()
        ),
        (_, "DELETE", Some(_)) => format!("delete a {} (answer: 204 No Content)", ep.resource()),
        _ => format!("{m} on {}", ep.collection),
    }
}

pub(super) fn describe_target(ep: Option<&Endpoint>, method: &str) -> String {
    match ep {
        Some(ep)
            if ep
                .action
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(".deltaToken")) =>
        {
            format!(
                "delta token request for {} (draft-sehgal-scim-delta-query)",
                ep.collection
            )
        }
        Some(ep) if ep.id.is_none() && method == "GET" => format!("GET {}", ep.collection),
        Some(ep) => {
            let mut s = format!("{method} {}", ep.resource());
            if let Some(id) = &ep.id {
                s.push(' ');
                s.push_str(&short_id(id));
            }
            if let Some(a) = &ep.action {
                s.push_str(&format!(" {a}"));
            }
            s
        }
        None => method.to_string(),
    }
}

pub(super) fn query_suffix(msg: &Message<'_>) -> String {
    let q = msg.query_pairs();
    let mut parts = Vec::new();
    for (k, v) in &q {
        match k.as_str() {
            "filter" => parts.push(format!("filter {v}")),
            "startIndex" | "count" | "cursor" => parts.push(format!("{k}={v}")),
            _ => {}
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" {}", parts.join(" "))
    }
}

pub(super) fn status_node(status: u16) -> Node {
    let note = match status {
        200 => "OK",
        201 => "Created: the body is the new resource, Location names it",
        204 => "No Content: the operation succeeded and there is nothing to return",
        304 => "Not Modified (ETag matched)",
        400 => "Bad Request: see scimType",
        401 => "Unauthorized: the bearer token is missing or invalid",
        403 => "Forbidden",
        404 => "Not Found: no resource with this id (or the endpoint is not supported)",
        409 => "Conflict: usually scimType uniqueness",
        412 => "Precondition Failed: If-Match did not match the current version (ETag)",
        413 => "Payload Too Large (bulk limits)",
        429 => "Too Many Requests: throttled",
        500 => "Internal Server Error",
        501 => "Not Implemented: the server does not support this operation",
        _ => "HTTP status",
    };
    Node::leaf("status", status.to_string(), Kind::Number).with_note(note)
}

pub(super) fn request_node(
    msg: &Message<'_>,
    ep: Option<&Endpoint>,
    method: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut n = Node::section("request");
    n.value = Some(format!("{method} {}", msg.path()));
    match ep {
        Some(ep) => {
            let mut e =
                Node::field("endpoint", &ep.collection).with_note(endpoint_note(ep, method));
            if let Some(id) = &ep.id {
                e.push(Node::field("id", id).with_note("the server-assigned resource id"));
            }
            if let Some(a) = &ep.action {
                e.push(Node::field("action", a));
            }
            n.push(e);
        }
        None => n.push(
            Node::field("endpoint", msg.path())
                .with_note("not a standard SCIM endpoint (Users, Groups, discovery, Bulk)"),
        ),
    }
    for (k, v) in msg.query_pairs() {
        let node = match k.as_str() {
            "filter" => filter_param_node(&v, "scim/request/filter", cx, findings),
            "startIndex" => Node::field(k, v).with_note("1-based index of the first result"),
            "count" => Node::field(k, v).with_note("page size asked for"),
            "attributes" => {
                Node::field(k, v).with_note("only these attributes are returned (plus id)")
            }
            "excludedAttributes" => {
                Node::field(k, v).with_note("these attributes are left out of the answer")
            }
            "sortBy" | "sortOrder" => Node::field(k, v).with_note("sorting (optional feature)"),
            "cursor" => {
                Node::field(k, v).with_note("cursor paging (draft-ietf-scim-cursor-pagination)")
            }
            "password" => {
                findings.push(
                    Finding::error("a password in the URL: RFC 7644 §7.5.2 forbids it (sensitive)")
                        .at("scim/request/password"),
                );
                Node::secret(k, v)
            }
            _ => Node::field(k, v),
        };
        n.push(node);
    }
    if msg.is_request() {
        for h in ["if-match", "if-none-match"] {
            if let Some(v) = msg.header(h) {
                n.push(Node::field(h, v).with_note(
                    "ETag precondition: the server applies the change only if the resource still \
                     has this version (412 otherwise)",
                ));
            }
        }
        if let Some(auth) = msg.header("authorization") {
            let scheme = auth.split_whitespace().next().unwrap_or("");
            n.push(
                Node::field("authorization", format!("{scheme} …")).with_note(
                    "SCIM servers authenticate the client with a bearer token (the token itself is \
                 decoded by the jwt decoder)",
                ),
            );
        }
        if let Some(ct) = msg.content_type()
            && ct != "application/scim+json"
            && !msg.body.is_empty()
        {
            n.push(Node::field("content-type", &*ct).with_note(
                "RFC 7644 §3.1 names application/scim+json; servers should also accept \
                 application/json",
            ));
        }
    } else {
        for h in ["location", "etag"] {
            if let Some(v) = msg.header(h) {
                n.push(Node::field(h, v).with_note(if h == "location" {
                    "URL of the created or returned resource"
                } else {
                    "version of the returned resource (meta.version); send it as If-Match"
                }));
            }
        }
    }
    n
}
