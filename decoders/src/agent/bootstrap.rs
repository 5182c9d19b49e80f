//! `BootstrapRequest` / `BootstrapResponse` (`ConnectorBootstrap`): the agent names itself and
//! its versions; the service answers where to listen (the Service Bus relay endpoints with their
//! shared access keys), how (the connectivity settings), where to report (the endpoint
//! templates) and when to renew its trust.

use super::{Ex, Special};
use crate::generic::{json_tree_plain, parse_json_ordered};
use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::xml::NodeId;

/// Explains a bootstrap request.
pub(super) fn request(ex: &mut Ex<'_, '_>, root: NodeId) -> (String, Node) {
    let mut node = ex.tree(root, "BootstrapRequest", 0, &mut |_, _, _, _| {
        Special::Generic
    });
    node.note = Some(
        "the agent's periodic bootstrap (every 10 minutes), authenticated by its client \
         certificate (mutual TLS): it names itself and asks for its configuration"
            .to_string(),
    );
    let id = ex.child_text(root, "ConnectorId").unwrap_or_default();
    if !util::is_guid(&id) {
        ex.findings.push(
            Finding::warning(format!(
                "ConnectorId {:?} is not a GUID: the service cannot match it with the \
                 certificate's agent id",
                util::clip(&id, 60)
            ))
            .at("BootstrapRequest/ConnectorId"),
        );
    }
    if let Some(t) = ex.child_text(root, "SubscriptionId") {
        ex.check_tenant("SubscriptionId", &t, "BootstrapRequest/SubscriptionId");
    }
    let failures = ex
        .child_text(root, "ConsecutiveFailures")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if failures > 0 {
        ex.findings.push(
            Finding::info(format!(
                "the agent's previous {failures} bootstrap(s) failed"
            ))
            .at("BootstrapRequest/ConsecutiveFailures"),
        );
    }
    let mut summary = format!("agent bootstrap: connector {id}");
    if let Some(m) = ex.child_text(root, "MachineName").filter(|m| !m.is_empty()) {
        summary.push_str(&format!(" on {m}"));
    }
    if let Some(v) = ex
        .child_text(root, "AgentVersion")
        .filter(|v| !v.is_empty())
    {
        summary.push_str(&format!(", agent {v}"));
    }
    (summary, node)
}

/// Explains a bootstrap response.
pub(super) fn response(ex: &mut Ex<'_, '_>, root: NodeId) -> (String, Node) {
    let mut namespaces: Vec<String> = Vec::new();
    let mut endpoints = 0usize;
    let mut special = |ex: &mut Ex<'_, '_>, el: NodeId, name: &str, path: &str| match name {
        "SignalingListenerEndpointSettings" => {
            endpoints += 1;
            let n = endpoint(ex, el, path);
            if let Some(ns) = ex.child_text(el, "Namespace")
                && !namespaces.contains(&ns)
            {
                namespaces.push(ns);
            }
            Special::Node(n)
        }
        "ConnectivitySettings" if !ex.is_nil(el) => {
            let text = ex.doc.text_content(el);
            Special::Node(connectivity(ex, &text, path))
        }
        _ => Special::Generic,
    };
    let mut node = ex.tree(root, "BootstrapResponse", 0, &mut special);
    node.note = Some(
        "the agent's configuration: the relay endpoints to listen on (with their shared access \
         keys), connectivity settings, endpoint templates and trust renewal"
            .to_string(),
    );
    let state = ex.child_text(root, "ConnectorState").unwrap_or_default();
    if !state.is_empty() && state != "Ok" {
        let message = ex.child_text(root, "ServiceMessage").unwrap_or_default();
        let f = format!(
            "ConnectorState is {state}{}",
            if message.is_empty() {
                String::new()
            } else {
                format!(": {}", util::clip(&message, 200))
            }
        );
        ex.findings.push(
            if state == "ErrorServiceMessage" {
                Finding::error(f)
            } else {
                Finding::warning(f)
            }
            .at("BootstrapResponse/ConnectorState"),
        );
    }
    if let Some(o) = ex
        .child_text(root, "BootstrapEndpointOverride")
        .filter(|o| !o.is_empty())
    {
        ex.findings.push(
            Finding::info(format!("the service moves the agent's bootstraps to {o}"))
                .at("BootstrapResponse/BootstrapEndpointOverride"),
        );
    }
    if endpoints == 0 {
        ex.findings.push(
            Finding::error(
                "no SignalingListenerEndpoints: the agent has no relay to listen on, and no \
                 request will reach it",
            )
            .at("BootstrapResponse"),
        );
    }
    let shown: Vec<&str> = namespaces.iter().take(4).map(String::as_str).collect();
    let more = if namespaces.len() > 4 { ", …" } else { "" };
    let mut summary = format!(
        "agent bootstrap: {endpoints} relay endpoint(s) ({}{more})",
        shown.join(", ")
    );
    if !state.is_empty() {
        summary.push_str(&format!(", ConnectorState {state}"));
    }
    (summary, node)
}

/// One relay endpoint: `{Namespace}.{Domain}/{ServicePath}` as the value, its elements below
/// (the shared access key a secret), a finding when it is not available.
fn endpoint(ex: &mut Ex<'_, '_>, el: NodeId, path: &str) -> Node {
    let mut n = ex.tree(el, path, 1, &mut |_, _, _, _| Special::Generic);
    let ns = ex.child_text(el, "Namespace").unwrap_or_default();
    let domain = ex
        .child_text(el, "Domain")
        .unwrap_or_else(|| "servicebus.windows.net".into());
    let sp = ex.child_text(el, "ServicePath").unwrap_or_default();
    n.value = Some(format!("{ns}.{domain}/{sp}"));
    n.note = Some(
        "a relay listener: the agent connects to it over WebSocket (wsrelayedamqp) and \
         authenticates with a SAS token made from SharedAccessKey"
            .to_string(),
    );
    if ex
        .child_text(el, "IsAvailable")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    {
        ex.findings.push(
            Finding::warning(format!(
                "relay endpoint {ns}.{domain} is not available (IsAvailable false): the agent \
                 does not listen on it"
            ))
            .at(format!("{path}/IsAvailable")),
        );
    }
    n
}

/// `ConnectivitySettings`: JSON inside the XML, shown as a tree.
fn connectivity(ex: &mut Ex<'_, '_>, text: &str, path: &str) -> Node {
    let text = text.trim();
    let mut n = Node::field("ConnectivitySettings", util::ellipsize(text, 80))
        .with_note("JSON: service point, relay binding, WebSocket and DNS cache settings");
    match parse_json_ordered(text.as_bytes(), "ConnectivitySettings", &ex.cx.limits) {
        Ok(v) => {
            let (tree, findings) = json_tree_plain("settings", &v, ex.cx);
            n.push(tree);
            ex.findings.extend(findings);
        }
        Err(e) => {
            n.push(Node::leaf("settings", e.to_string(), Kind::Error));
            ex.findings
                .push(Finding::warning(format!("ConnectivitySettings: {e}")).at(path));
        }
    }
    n
}
