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
//! [`Kind::Secret`]. Attribute names are matched case-insensitively, as RFC 7643 §2.1 requires.

use serde_json::{Map, Value};

use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Decoder, Message};

/// The `scim` decoder: SCIM 2.0 requests and responses.
#[derive(Debug, Clone, Copy)]
pub struct Scim;

const URN_PREFIX: &str = "urn:ietf:params:scim:";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const BULK_REQ: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESP: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const DELTA_TOKEN: &str = "urn:ietf:params:scim:api:messages:2.0:delta:token";
const DELTA_REQ: &str = "urn:ietf:params:scim:api:messages:2.0:delta:request";
const DELTA_RESP: &str = "urn:ietf:params:scim:api:messages:2.0:delta:response";

/// Most list entries (Resources, Operations, members, attributes) shown as separate nodes.
const MAX_ITEMS: usize = 200;
/// Longest filter expression parsed, in bytes (real filters are a few dozen characters).
const MAX_FILTER_LEN: usize = 8 * 1024;

/// What a schema URN stands for, in words.
pub fn urn_meaning(urn: &str) -> Option<&'static str> {
    Some(match urn {
        USER => "core User resource (RFC 7643 §4.1)",
        GROUP => "core Group resource (RFC 7643 §4.2)",
        ENTERPRISE => {
            "enterprise User extension (RFC 7643 §4.3): employeeNumber, department, manager …; \
             appears in the body as a key that is this full URN"
        }
        LIST => "ListResponse: a page of query results (RFC 7644 §3.4.2)",
        PATCH => "PatchOp: a list of add/remove/replace operations (RFC 7644 §3.5.2)",
        ERROR => "Error response (RFC 7644 §3.12)",
        SEARCH => "SearchRequest: a query sent as a POST to /.search (RFC 7644 §3.4.3)",
        BULK_REQ => "BulkRequest: many operations in one call (RFC 7644 §3.7)",
        BULK_RESP => "BulkResponse: the result of each bulk operation (RFC 7644 §3.7)",
        SPC => "ServiceProviderConfig: which optional features the server supports (RFC 7643 §5)",
        RESOURCE_TYPE => "ResourceType: an endpoint and its schemas (RFC 7643 §6)",
        SCHEMA => "Schema: attribute definitions (RFC 7643 §7)",
        DELTA_TOKEN => "delta token message (draft-sehgal-scim-delta-query): the first watermark",
        DELTA_REQ => "delta request (draft-sehgal-scim-delta-query): changes since a token",
        DELTA_RESP => {
            "delta response (draft-sehgal-scim-delta-query): changed resources and the next token"
        }
        _ => return None,
    })
}

/// Meaning of a `scimType` error keyword (RFC 7644 §3.12, Table 9).
pub fn scim_type_meaning(t: &str) -> Option<&'static str> {
    Some(match t {
        "invalidFilter" => {
            "the filter syntax is invalid or names an unsupported attribute/operator"
        }
        "tooMany" => "the filter matches more resources than the server will return or process",
        "uniqueness" => {
            "one or more attribute values are already in use or reserved (e.g. userName); the \
             client should look the existing resource up (filter by userName/externalId) and \
             update it instead of creating it"
        }
        "mutability" => {
            "the change would modify an immutable or read-only attribute (e.g. id, meta, or a \
             group's members on a server that manages them)"
        }
        "invalidSyntax" => "the request body is not valid SCIM (bad JSON or structure)",
        "invalidPath" => "a PATCH path is malformed or names an unknown attribute",
        "noTarget" => "a PATCH path or filter matched no attribute or value",
        "invalidValue" => "a required value is missing or a value has the wrong type",
        "invalidVers" => "the SCIM protocol version is not supported",
        "sensitive" => "the request put sensitive data (e.g. a password) in the URL",
        _ => return None,
    })
}

/// Meaning of a filter comparison operator (RFC 7644 §3.4.2.2).
fn op_meaning(op: &str) -> &'static str {
    match op {
        "eq" => "equal",
        "ne" => "not equal",
        "co" => "contains",
        "sw" => "starts with",
        "ew" => "ends with",
        "pr" => "present (has a non-empty value)",
        "gt" => "greater than",
        "ge" => "greater than or equal",
        "lt" => "less than",
        "le" => "less than or equal",
        _ => "unknown operator",
    }
}

/// Meaning of a User/Group attribute, for notes.
fn attr_note(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "id" => "server-assigned id of the resource (used in /Users/{id}); never set by the client",
        "externalid" => {
            "the client's own id for the resource (Entra: the source anchor); the usual key for \
             matching before create"
        }
        "username" => "unique login name (often the UPN); uniqueness is enforced by the server",
        "active" => {
            "false = disabled; Entra ID soft-deletes by replacing active with false before a hard \
             DELETE"
        }
        "displayname" => "name shown to people",
        "name" => "the person's name parts",
        "givenname" => "given name",
        "familyname" => "family name",
        "formatted" => "the full name as one string",
        "emails" => "e-mail addresses (multi-valued: value, type, primary)",
        "phonenumbers" => "phone numbers (multi-valued)",
        "addresses" => "postal addresses (multi-valued)",
        "title" => "job title",
        "usertype" => "relationship to the organisation (Employee, Contractor …)",
        "preferredlanguage" => "preferred language",
        "locale" => "locale for formatting",
        "timezone" => "time zone",
        "nickname" => "casual name",
        "roles" => "roles of the user",
        "groups" => "groups the user belongs to (read-only: change them through the Group)",
        "members" => "members of the group: each value is the id of a User or Group",
        "meta" => {
            "server-maintained metadata (resourceType, created, lastModified, location, version)"
        }
        "resourcetype" => "the resource type (User, Group)",
        "created" => "when the server created the resource",
        "lastmodified" => "when the resource last changed",
        "location" => "the resource's canonical URL",
        "version" => "the ETag of this version (also in the ETag header; send it in If-Match)",
        "employeenumber" => "enterprise: employee number",
        "department" => "enterprise: department",
        "costcenter" => "enterprise: cost centre",
        "organization" => "enterprise: organisation",
        "division" => "enterprise: division",
        "manager" => "enterprise: the manager; value = the manager's SCIM id",
        "primary" => "true marks the preferred value of a multi-valued attribute",
        "type" => "kind of value (work, home …)",
        "value" => "the value (for members/manager: a resource id)",
        "display" => "a human-readable name for the referenced resource (read-only)",
        "$ref" => "URI of the referenced resource",
        "schemas" => "the schema URNs this body follows",
        _ => return None,
    })
}

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

/// Looks a member up case-insensitively (RFC 7643 §2.1: attribute names are case-insensitive).
fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn get_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    get_ci(obj, name).and_then(Value::as_str)
}

fn short_id(id: &str) -> String {
    match id.get(..8) {
        Some(head) if id.len() > 9 => format!("{head}…"),
        _ => id.to_string(),
    }
}

/// The schema URNs of a body (the `schemas` array), in order.
fn schemas(obj: &Map<String, Value>) -> Vec<&str> {
    get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Filter expressions (RFC 7644 §3.4.2.2)

/// A parsed SCIM filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath op value` or `attrPath pr` (then `value` is `None`).
    Compare {
        /// The attribute path (`userName`, `emails.value`, a URN-qualified name).
        path: String,
        /// The operator, lowercased (`eq`, `co`, `pr` …).
        op: String,
        /// The comparison value as JSON (string, number, boolean or null).
        value: Option<Value>,
    },
    /// Both sides must match.
    And(Box<Filter>, Box<Filter>),
    /// Either side matches.
    Or(Box<Filter>, Box<Filter>),
    /// `not ( … )`.
    Not(Box<Filter>),
    /// `attr[filter]`: a filter on the values of a multi-valued attribute.
    ValuePath {
        /// The multi-valued attribute.
        path: String,
        /// The filter applied to each of its values.
        filter: Box<Filter>,
    },
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Filter::Compare { path, op, value } => match value {
                Some(v) => write!(f, "{path} {op} {v}"),
                None => write!(f, "{path} {op}"),
            },
            Filter::And(a, b) => write!(f, "({a} and {b})"),
            Filter::Or(a, b) => write!(f, "({a} or {b})"),
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Word(String),
    Str(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            '[' => out.push(Tok::LBracket),
            ']' => out.push(Tok::RBracket),
            '"' => {
                let mut text = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                text.push(e);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => text.push(c),
                    }
                }
                if !closed {
                    return Err(format!("unterminated string starting at byte {i}"));
                }
                out.push(Tok::Str(text));
            }
            _ => {
                let mut w = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct FilterParser {
    toks: Vec<Tok>,
    pos: usize,
    max_depth: usize,
}

impl FilterParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth >= self.max_depth {
            return Err(format!("nested deeper than {} levels", self.max_depth));
        }
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.group(depth + 1)?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            return self.group(depth + 1);
        }
        let path = match self.next() {
            Some(Tok::Word(w)) => w,
            Some(t) => return Err(format!("expected an attribute name, found {t:?}")),
            None => return Err("expected an attribute name, found the end".to_string()),
        };
        if self.peek() == Some(&Tok::LBracket) {
            self.pos += 1;
            let inner = self.or(depth + 1)?;
            if self.next() != Some(Tok::RBracket) {
                return Err(format!("missing ']' after {path}["));
            }
            return Ok(Filter::ValuePath {
                path,
                filter: Box::new(inner),
            });
        }
        let op = match self.next() {
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            _ => return Err(format!("expected an operator after {path}")),
        };
        if !matches!(
            op.as_str(),
            "eq" | "ne" | "co" | "sw" | "ew" | "pr" | "gt" | "ge" | "lt" | "le"
        ) {
            return Err(format!("unknown operator {op:?} after {path}"));
        }
        if op == "pr" {
            return Ok(Filter::Compare {
                path,
                op,
                value: None,
            });
        }
        let value = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Word(w)) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<serde_json::Number>(&w) {
                    Ok(n) => Value::Number(n),
                    Err(_) => {
                        return Err(format!(
                            "value {w:?} after {path} {op} is neither a quoted string, a number, \
                             true, false nor null"
                        ));
                    }
                },
            },
            _ => return Err(format!("expected a value after {path} {op}")),
        };
        Ok(Filter::Compare {
            path,
            op,
            value: Some(value),
        })
    }

    fn group(&mut self, depth: usize) -> Result<Filter, String> {
        if self.next() != Some(Tok::LParen) {
            return Err("expected '('".to_string());
        }
        let inner = self.or(depth)?;
        if self.next() != Some(Tok::RParen) {
            return Err("missing ')'".to_string());
        }
        Ok(inner)
    }
}

/// Parses a SCIM filter (`userName eq "x"`, `emails[type eq "work" and value co "@"]`,
/// `title pr and not (userType eq "Guest")`). Nesting is bounded by `max_depth`; the text by
/// 8 KiB. The error says what is wrong and where.
pub fn parse_filter(text: &str, max_depth: usize) -> Result<Filter, String> {
    if text.len() > MAX_FILTER_LEN {
        return Err(format!("longer than {MAX_FILTER_LEN} bytes"));
    }
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty filter".to_string());
    }
    let mut p = FilterParser {
        toks,
        pos: 0,
        max_depth: max_depth.max(1),
    };
    let f = p.or(0)?;
    match p.peek() {
        None => Ok(f),
        Some(t) => Err(format!("unexpected {t:?} after a complete expression")),
    }
}

/// Explains a parsed filter as a tree.
pub fn filter_node(f: &Filter) -> Node {
    match f {
        Filter::Compare { path, op, value } => {
            let mut note = match value {
                Some(v) => format!("{path} {} {v}", op_meaning(op)),
                None => format!("{path} is {}", op_meaning(op)),
            };
            if path.eq_ignore_ascii_case("username") && op == "eq" {
                note.push_str(
                    "; userName is caseExact=false, so the match ignores case (Entra ID checks \
                     whether the user already exists this way before creating it)",
                );
            } else if path.eq_ignore_ascii_case("externalid") && op == "eq" {
                note.push_str(
                    "; externalId is the client's anchor: this finds the resource the client \
                     created earlier",
                );
            } else if let Some(n) = attr_note(path.rsplit(['.', ':']).next().unwrap_or(path)) {
                note.push_str(&format!(" ({n})"));
            }
            Node::field("condition", f.to_string()).with_note(note)
        }
        Filter::And(a, b) => Node::field("and", f.to_string())
            .with_note("both conditions must hold")
            .with_children([filter_node(a), filter_node(b)]),
        Filter::Or(a, b) => Node::field("or", f.to_string())
            .with_note("either condition may hold")
            .with_children([filter_node(a), filter_node(b)]),
        Filter::Not(a) => Node::field("not", f.to_string())
            .with_note("the condition must not hold")
            .with_child(filter_node(a)),
        Filter::ValuePath { path, filter } => Node::field("value filter", f.to_string())
            .with_note(format!(
                "matches when at least one value of the multi-valued attribute {path} satisfies \
                 the bracketed filter"
            ))
            .with_child(filter_node(filter)),
    }
}

/// The filter as a node (parsed or with the parse error), with an `invalidFilter` finding on error.
fn filter_param_node(text: &str, at: &str, cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    let mut n = Node::field("filter", text)
        .with_note("which resources to return (RFC 7644 §3.4.2.2; attribute names ignore case)");
    match parse_filter(text, cx.limits.max_depth) {
        Ok(f) => n.push(filter_node(&f)),
        Err(e) => {
            n.push(Node::leaf("parse", e.clone(), Kind::Error));
            findings.push(
                Finding::warning(format!(
                    "the filter does not parse ({e}); a server answers 400 scimType=invalidFilter"
                ))
                .at(at.to_string()),
            );
        }
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Endpoint

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

// ---------------------------------------------------------------------------------------------
// Decoder

impl Decoder for Scim {
    fn id(&self) -> &'static str {
        "scim"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
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

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        if msg.body.len() > cx.limits.max_body {
            return Err(DecodeError::TooLarge {
                what: "SCIM body",
                limit: cx.limits.max_body,
            });
        }
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
}

fn describe_target(ep: Option<&Endpoint>, method: &str) -> String {
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

fn query_suffix(msg: &Message<'_>) -> String {
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

fn status_node(status: u16) -> Node {
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

fn request_node(
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

fn schemas_node(sch: &[&str]) -> Node {
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
fn generic_node(label: &str, v: &Value, depth: usize, cx: &Context<'_>) -> Node {
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
fn resource_node(
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

fn string_boolean_finding(s: &str, attr: &str, at: &str, findings: &mut Vec<Finding>) {
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

fn explain_error(
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

fn explain_patch(
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

fn explain_list(
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

fn explain_spc(o: &Map<String, Value>) -> (String, Node) {
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

fn resource_type_node(o: &Map<String, Value>) -> Node {
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

fn schema_node(o: &Map<String, Value>) -> Node {
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

fn explain_bulk(
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

fn explain_delta(
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

#[cfg(test)]
mod tests {
    use super::*;
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
        assert!(d.findings.iter().any(|f| f.message.contains("capitalised")));
        assert!(
            d.findings
                .iter()
                .any(|f| f.message.contains("Entra ID provisioning quirk"))
        );
    }

    #[test]
    fn mutated_inputs_never_panic() {
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
        for s in samples {
            for cut in 0..s.len() {
                let body = s.get(..cut).unwrap_or("");
                let msg = Message::request(
                    "PATCH",
                    "https://h/scim/v2/Users/.delta?filter=a%20eq",
                    vec![],
                    body.as_bytes(),
                );
                let _ = Scim.decode(&msg, &cx);
            }
        }
    }
}
