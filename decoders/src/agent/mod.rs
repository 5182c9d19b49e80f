//! The connector agents' trust and configuration: the pass-through authentication agent and the
//! cloud sync provisioning agent (one "connector" stack, the Microsoft Entra private network
//! connector's) register with the Hybrid Identity Service, bootstrap every ten minutes with the
//! client certificate registration gave them, and renew that certificate before it expires. The
//! [`Agent`] decoder explains the DataContract XML of each call:
//!
//! * `POST https://{tenant}.registration.msappproxy.net/register/RegisterConnector`:
//!   `RegistrationRequest` (the CSR, the bearer token travelling *inside* the body as
//!   `AuthenticationToken`, the feature and the machine's settings) and `RegistrationResult`
//!   (the issued certificate, its agent id and validity) — [`register`];
//! * `POST https://{tenant}.bootstrap.msappproxy.net/ConnectorBootstrap` (mutual TLS):
//!   `BootstrapRequest` (the connector id and versions) and `BootstrapResponse` (the Service Bus
//!   relay endpoints to listen on with their shared access keys, the connectivity settings, the
//!   endpoint templates, trust renewal) — [`bootstrap`];
//! * `POST {TrustRenewEndpoint}/RenewTrustCertificate`: `TrustRenewalRequest` (a new CSR) and
//!   `TrustRenewalResult` (the renewed certificate) — [`register`].
//!
//! Element names and shapes are those AADInternals (`MSAppProxy.ps1`, `MSAppProxy_utils.ps1`,
//! the PTA deep-dive) shows. Which elements are credentials (`AuthenticationToken`,
//! `SharedAccessKey`) is the secrets policy's ([`crate::secrets::is_secret_element`]); elements
//! this module does not explain are shown as they are. The relay WebSocket the agent opens
//! afterwards is another module's.

mod bootstrap;
pub mod cert;
mod register;

#[cfg(test)]
mod tests;

use crate::generic::nested::{attach_nested, decode_value};
use crate::secrets;
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, DecodeError, Decoded, Message, util};

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The start of every namespace of the connector's data contracts.
const DATA_CONTRACT: &str = "http://schemas.datacontract.org/2004/07/Microsoft.ApplicationProxy.";
/// Deepest element nesting shown, and most elements shown per document.
const MAX_DEPTH: usize = 12;
const MAX_ELEMENTS: usize = 2_000;

/// The documents this module explains, by root element.
const ROOTS: &[&str] = &[
    "RegistrationRequest",
    "RegistrationResult",
    "TrustRenewalRequest",
    "TrustRenewalResult",
    "BootstrapRequest",
    "BootstrapResponse",
];

/// The endpoints' paths (compared case-insensitively, the last segment).
const PATHS: &[&str] = &[
    "registerconnector",
    "connectorbootstrap",
    "renewtrustcertificate",
];

decoder! {
    /// The connector agent registration, bootstrap and trust renewal decoder (`agent`).
    pub struct Agent: "agent";
}

/// True when `path` is one of the agent endpoints.
pub fn is_agent_path(path: &str) -> bool {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    PATHS.iter().any(|p| last.eq_ignore_ascii_case(p))
}

/// The root element's local name when `body` starts with one of [`ROOTS`] in a connector data
/// contract namespace.
fn sniff(body: &[u8]) -> Option<&'static str> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let head = body.get(..body.len().min(512))?;
    let text = std::str::from_utf8(head).ok().or_else(|| {
        let n = head.len().saturating_sub(3);
        (n..head.len()).find_map(|i| std::str::from_utf8(head.get(..i)?).ok())
    })?;
    let t = text.trim_start();
    let t = if t.starts_with("<?xml") {
        t.split_once("?>")?.1.trim_start()
    } else {
        t
    };
    let rest = t.strip_prefix('<')?;
    let name = ROOTS.iter().find(|r| {
        rest.strip_prefix(**r)
            .is_some_and(|after| after.starts_with([' ', '>', '\t', '\r', '\n', '/']))
    })?;
    util::contains(head, DATA_CONTRACT.as_bytes()).then_some(*name)
}

fn priority(msg: &Message<'_>) -> f32 {
    if msg.body.is_empty() {
        return 0.0;
    }
    if sniff(msg.body).is_some() {
        return 0.95;
    }
    // Another data contract document on an agent endpoint: decoded to say which root it has.
    let head = msg.body.get(..msg.body.len().min(512)).unwrap_or_default();
    if is_agent_path(msg.path()) && util::contains(head, DATA_CONTRACT.as_bytes()) {
        0.9
    } else {
        0.0
    }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    cx.limits.check_body(msg.body, "agent body")?;
    let text = msg.text().ok_or(DecodeError::Utf8 { field: "body" })?;
    let doc = Document::parse(text.trim_start(), &cx.limits)?;
    let root = doc.root().ok_or(DecodeError::Missing("root element"))?;
    let local = doc.local_name(root);
    if !doc.namespace(root).starts_with(DATA_CONTRACT) || !ROOTS.contains(&local) {
        return Err(DecodeError::NotThisKind {
            expected: "a connector agent registration, bootstrap or trust renewal document",
            why: format!("the root element is {{{}}}{local}", doc.namespace(root)),
        });
    }
    let mut ex = Ex {
        doc: &doc,
        cx,
        findings: Vec::new(),
        shown: 0,
        tenant_in_host: msg
            .url
            .and_then(util::url_host)
            .and_then(|h| h.split('.').next().map(str::to_string))
            .filter(|t| util::is_guid(t)),
    };
    let (summary, node) = match local {
        "RegistrationRequest" | "TrustRenewalRequest" => register::request(&mut ex, root),
        "RegistrationResult" | "TrustRenewalResult" => register::result(&mut ex, root),
        "BootstrapRequest" => bootstrap::request(&mut ex, root),
        _ => bootstrap::response(&mut ex, root),
    };
    let mut d = Decoded::new("agent", summary, node);
    d.findings = ex.findings;
    Ok(d)
}

/// The state of one explanation: the document, the context, the findings so far.
struct Ex<'d, 'a> {
    doc: &'d Document<'a>,
    cx: &'d Context<'d>,
    findings: Vec<Finding>,
    /// Elements shown so far (at most [`MAX_ELEMENTS`]).
    shown: usize,
    /// The tenant id the URL's first host label names (`{tenant}.registration.msappproxy.net`).
    tenant_in_host: Option<String>,
}

/// What an element-specific explanation does with an element.
enum Special {
    /// Shown as this node.
    Node(Node),
    /// Shown the generic way.
    Generic,
}

impl Ex<'_, '_> {
    /// The trimmed text of `el`'s child named `local` (any namespace).
    fn child_text(&self, el: NodeId, local: &str) -> Option<String> {
        let c = self.child(el, local)?;
        if self.is_nil(c) {
            return None;
        }
        Some(self.doc.text_content(c).trim().to_string())
    }

    fn child(&self, el: NodeId, local: &str) -> Option<NodeId> {
        self.doc
            .child_elements(el)
            .find(|c| self.doc.local_name(*c) == local)
    }

    fn is_nil(&self, el: NodeId) -> bool {
        self.doc
            .attribute_ns(el, XSI_NS, "nil")
            .is_some_and(|v| v.trim() == "true")
    }

    /// `el` and everything under it as a view: element-specific explanations from `special`
    /// (given the element, its local name and its path), the rest as fields, sections and
    /// secrets by the secrets policy. `path` is the view path of `el` for findings.
    fn tree(
        &mut self,
        el: NodeId,
        path: &str,
        depth: usize,
        special: &mut dyn FnMut(&mut Self, NodeId, &str, &str) -> Special,
    ) -> Node {
        let local = self.doc.local_name(el).to_string();
        self.shown += 1;
        if let Special::Node(n) = special(self, el, &local, path) {
            return n;
        }
        if self.is_nil(el) {
            return Node::leaf(local, "(nil)", Kind::Text);
        }
        let kids: Vec<NodeId> = self.doc.child_elements(el).collect();
        if kids.is_empty() {
            let text = self.doc.text_content(el).trim().to_string();
            return self.leaf(&local, &text, path);
        }
        let mut n = Node::section(local.clone());
        if depth >= MAX_DEPTH {
            n.value = Some(format!("{} elements not shown (too deep)", kids.len()));
            return n;
        }
        for c in kids {
            if self.shown >= MAX_ELEMENTS {
                n.push(Node::leaf("…", "more elements not shown", Kind::Text));
                break;
            }
            let cp = format!("{path}/{}", self.doc.local_name(c));
            let child = self.tree(c, &cp, depth + 1, special);
            n.push(child);
        }
        n
    }

    /// A leaf element's text: a secret by the secrets policy (a JWT inside decoded one level
    /// deeper, its claims kept), else a field with the element's note.
    fn leaf(&mut self, local: &str, text: &str, path: &str) -> Node {
        if secrets::is_secret_element(local) {
            let mut n = Node::secret(local, text);
            if let Some(d) = decode_value(text, true, self.cx) {
                attach_nested(&mut n, d, path, &mut self.findings);
            }
            return n;
        }
        let n = Node::field(local, text);
        match note(local) {
            Some(t) => n.with_note(t),
            None => n,
        }
    }

    /// A finding when `tenant` differs from the tenant the URL's host names.
    fn check_tenant(&mut self, what: &str, tenant: &str, at: &str) {
        if let Some(h) = &self.tenant_in_host
            && !h.eq_ignore_ascii_case(tenant)
        {
            self.findings.push(
                Finding::warning(format!(
                    "{what} {tenant} is not the tenant the URL's host names ({h})"
                ))
                .at(at),
            );
        }
    }
}

/// What the connector's elements mean.
fn note(local: &str) -> Option<&'static str> {
    Some(match local {
        "FeatureString" => {
            "which agent registers: PassthroughAuthentication, SyncFabric (cloud sync provisioning), ApplicationProxy …"
        }
        "Feature" => "the connector stack's feature (ApplicationProxy for every agent)",
        "TenantId" | "SubscriptionId" => "the tenant (directory) id",
        "UserAgent" => "the agent and its version",
        "MachineName" => "the server the agent runs on",
        "ConnectorId" => {
            "the agent id: the one in the client certificate's 1.3.6.1.4.1.311.82.1 extension"
        }
        "RequestId" => "this bootstrap's id, for the service's logs",
        "InitialBootstrap" => "true for the first bootstrap after the agent started",
        "ConsecutiveFailures" => "bootstraps that failed in a row before this one",
        "CheckForTrustRenewPeriodInMinutes" => {
            "how often the agent checks whether its certificate needs renewing"
        }
        "MinutesInTrustLifetimeBeforeRenew" => {
            "the agent renews its certificate when less than this many minutes of validity remain"
        }
        "PeriodicBootstrapIntervalMilliseconds" => {
            "how often the agent bootstraps again (600000: every 10 minutes)"
        }
        "TrustRenewEndpoint" => "where the agent posts RenewTrustCertificate",
        "BootstrapEndpointOverride" => "another bootstrap URL the service asks the agent to use",
        "ConnectorState" => "Ok, UpdateRequired, InfoServiceMessage or ErrorServiceMessage",
        "ConfigRelease" => "the configuration release the service serves this connector",
        "Namespace" => {
            "the Service Bus relay namespace: the agent listens on wss://{Namespace}.servicebus.windows.net/$servicebus/websocket"
        }
        "ServicePath" => "the relay listener's path in the namespace",
        "SharedAccessKeyName" => "the name of the shared access rule the key belongs to",
        "Domain" => "the relay's DNS suffix",
        "IsAvailable" => "false: the agent is not to listen on this endpoint",
        "Scheme" => "sb: Service Bus",
        "ReliableSessionEnabled" => "WS-ReliableMessaging sessions on this listener",
        "IsSuccessful" => "whether the service issued a certificate",
        "ErrorMessage" => "why the service refused, when it did",
        "PSModuleVersion" => "the registering module's version",
        "UseServiceBusTcpConnectivityMode" => {
            "false: relay over WebSocket (HTTPS), true: TCP ports 9350-9354"
        }
        _ if local.ends_with("EndpointFormat") => "an endpoint template: {0} host, {1} port",
        _ => return None,
    })
}
