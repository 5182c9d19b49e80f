//! Recognising a provisioning message: which of the two APIs it belongs to, which operation it
//! is, whether it is a response, and what said so. The host is never used.

use super::base::{
    Api, Classified, MSONLINE_ACTION_PREFIX, MSONLINE_NS, SYNC_ACTION_PREFIX, SYNC_NS,
    SYNC_TOKEN_NS,
};
use crate::Message;
use crate::soap::envelope::Envelope;
use crate::xml::Document;

/// Decides whether an envelope belongs to the sync API or to the MSOnline API, from the action,
/// the `x-ms-aadmsods-apiaction` header, header blocks and the body element namespace. The host
/// is never used; the request path only supports a fault that names no namespace.
pub fn classify(msg: &Message<'_>, doc: &Document<'_>, env: &Envelope) -> Option<Classified> {
    let action = env.addressing.action.as_deref().unwrap_or("");
    let payload_ns = env.payload.map(|p| doc.namespace(p)).unwrap_or("");
    let payload_local = env.payload.map(|p| doc.local_name(p)).unwrap_or("");
    let header_named =
        |ns: &str, local: &str| env.headers.iter().any(|h| doc.is(h.node, ns, local));
    let api_action = msg.header("x-ms-aadmsods-apiaction");

    let mut sync = Vec::new();
    if action.starts_with(SYNC_ACTION_PREFIX) {
        sync.push("WS-Addressing Action");
    }
    if api_action.is_some() {
        sync.push("x-ms-aadmsods-apiaction header");
    }
    if payload_ns == SYNC_NS {
        sync.push("body element namespace");
    }
    if header_named(SYNC_TOKEN_NS, "SyncToken") {
        sync.push("SyncToken header");
    }
    let fault_markers = env.body.is_some_and(|b| {
        doc.descendants(b).any(|d| {
            matches!(
                doc.local_name(d),
                "BindingRedirectionFault" | "ErrorDescription"
            ) || (doc.is_element(d) && doc.namespace(d) == SYNC_NS)
        })
    });
    if sync.is_empty()
        && fault_markers
        && (env
            .body
            .is_some_and(|b| doc.descendants(b).any(|d| doc.namespace(d) == SYNC_NS))
            || msg
                .path()
                .to_ascii_lowercase()
                .ends_with("/provisioningservice.svc"))
    {
        sync.push("fault detail of a provisioningservice.svc exchange");
    }

    let mut msonline = Vec::new();
    if action.starts_with(MSONLINE_ACTION_PREFIX) {
        msonline.push("WS-Addressing Action");
    }
    if payload_ns == MSONLINE_NS {
        msonline.push("body element namespace");
    }
    if header_named(MSONLINE_NS, "UserIdentityHeader") {
        msonline.push("UserIdentityHeader header");
    }

    let (api, evidence, prefix) = if !msonline.is_empty() && !action.starts_with(SYNC_ACTION_PREFIX)
    {
        (Api::MsOnline, msonline, MSONLINE_ACTION_PREFIX)
    } else if !sync.is_empty() {
        (Api::Sync, sync, SYNC_ACTION_PREFIX)
    } else {
        return None;
    };
    let from_action = action
        .strip_prefix(prefix)
        .map(|s| s.trim_end_matches('/'))
        .filter(|s| !s.is_empty());
    let from_payload = (!payload_local.is_empty()).then_some(payload_local);
    let raw = from_action
        .or(from_payload)
        .or(if api == Api::Sync { api_action } else { None })
        .unwrap_or("fault");
    let is_response = msg.is_response() || raw.ends_with("Response");
    let operation = raw.strip_suffix("Response").unwrap_or(raw).to_string();
    Some(Classified {
        api,
        operation: if env.fault.is_some() && from_action.is_none() && from_payload.is_none() {
            api_action.unwrap_or("fault").to_string()
        } else {
            operation
        },
        is_response,
        evidence,
    })
}
