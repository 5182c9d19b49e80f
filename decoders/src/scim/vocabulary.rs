//! The SCIM vocabulary every part of the view shares: the schema and message URNs, what they
//! and the `scimType` error keywords mean, what the User/Group attributes mean, and
//! case-insensitive access to JSON members (RFC 7643 §2.1: attribute names ignore case).

use serde_json::{Map, Value};

pub(super) const URN_PREFIX: &str = "urn:ietf:params:scim:";
pub(super) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(super) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(super) const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(super) const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub(super) const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub(super) const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub(super) const BULK_REQ: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub(super) const BULK_RESP: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub(super) const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub(super) const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub(super) const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub(super) const DELTA_TOKEN: &str = "urn:ietf:params:scim:api:messages:2.0:delta:token";
pub(super) const DELTA_REQ: &str = "urn:ietf:params:scim:api:messages:2.0:delta:request";
pub(super) const DELTA_RESP: &str = "urn:ietf:params:scim:api:messages:2.0:delta:response";

/// Most list entries (Resources, Operations, members, attributes) shown as separate nodes.
pub(super) const MAX_ITEMS: usize = 200;

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

/// Meaning of a User/Group attribute, for notes.
pub(super) fn attr_note(name: &str) -> Option<&'static str> {
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

/// Looks a member up case-insensitively (RFC 7643 §2.1: attribute names are case-insensitive).
pub(super) fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

pub(super) fn get_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    get_ci(obj, name).and_then(Value::as_str)
}

pub(super) use crate::util::short_id;

/// The schema URNs of a body (the `schemas` array), in order.
pub(super) fn schemas(obj: &Map<String, Value>) -> Vec<&str> {
    get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}
