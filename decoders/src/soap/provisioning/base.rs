//! What every part of the provisioning view shares: the namespaces and action prefixes of the two
//! APIs, which API and operation a message is ([`Classified`]), the facts the view collects for
//! its summary, the root node of each API's view, and the helpers that annotate XML trees.

use crate::soap::envelope::{Envelope, SoapXml};
use crate::view::{Finding, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, Message};

/// Namespace `{C}` of the sync API's operations and `SyncToken` children.
pub const SYNC_NS: &str = "http://schemas.microsoft.com/online/aws/change/2010/01";
/// Prefix of every sync API WS-Addressing action; the operation name follows.
pub const SYNC_ACTION_PREFIX: &str =
    "http://schemas.microsoft.com/online/aws/change/2010/01/IProvisioningWebService/";
/// Namespace `b:` of sync objects (`AzureADSyncObject`, `SyncObjects`).
pub const SYNC_OBJECTS_NS: &str = "http://schemas.microsoft.com/online/aws/change/2014/06";
/// Namespace `c:` of the DataContract arrays and dictionaries (`KeyValueOfstringanyType`).
pub const ARRAYS_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";
/// Namespace of the `SyncToken` header element itself.
pub const SYNC_TOKEN_NS: &str = "urn:microsoft.online.administrativeservice";
/// Prefix of every MSOnline provisioning API action.
pub const MSONLINE_ACTION_PREFIX: &str =
    "http://provisioning.microsoftonline.com/IProvisioningWebService/";
/// Namespace of the MSOnline provisioning API's operations and headers.
pub const MSONLINE_NS: &str = "http://provisioning.microsoftonline.com/";
/// Namespace prefix that marks elements the reference fixture invented where no public source
/// shows the real wire format (protocols.md §8.3).
pub const FIXTURE_NS_PREFIX: &str = "urn:fixture:";

/// Which of the two provisioning APIs a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The AAD Connect sync API (`provisioningservice.svc`, msbin1).
    Sync,
    /// The MSOnline PowerShell admin API (`provisioningwebservice.svc`, text SOAP).
    MsOnline,
}

/// How a message was recognised as one of the provisioning APIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// Which API.
    pub api: Api,
    /// The operation name without a `Response` suffix (`"fault"` when only a fault says it).
    pub operation: String,
    /// True for a response (by HTTP direction or a `…Response` body element).
    pub is_response: bool,
    /// What identified it, for the view ("WS-Addressing Action", …).
    pub evidence: Vec<&'static str>,
}

/// Collects what the whole view learns while it is built, for the summary.
#[derive(Default)]
pub(super) struct Facts {
    pub(super) findings: Vec<Finding>,
    pub(super) token_brief: Option<String>,
    pub(super) token_tid: Option<String>,
    pub(super) tracking_id: Option<String>,
    pub(super) details: Option<String>,
    pub(super) fault: Option<String>,
}

/// Adds the note `f` gives to every node of the tree that has none, by local name and value.
pub(super) fn annotate_known(n: &mut Node, f: &dyn Fn(&str, &str) -> Option<String>) {
    let local = n.label.rsplit(':').next().unwrap_or(&n.label).to_string();
    if n.note.is_none()
        && let Some(note) = f(&local, n.value.as_deref().unwrap_or(""))
    {
        n.note = Some(note);
    }
    for c in &mut n.children {
        annotate_known(c, f);
    }
}

/// Marks a node whose element is in a [fixture-defined] namespace as not real wire format.
pub(super) fn fixture_mark(doc: &Document<'_>, id: NodeId, n: &mut Node) {
    if doc.namespace(id).starts_with(FIXTURE_NS_PREFIX) {
        n.note = Some(format!(
            "[fixture-defined] not real Microsoft wire format (namespace {}); {}",
            doc.namespace(id),
            n.note.take().unwrap_or_default()
        ));
    }
}

/// The root section of one API's view: `OPERATION request|response`, with what the API is.
pub(super) fn api_root(title: &str, cl: &Classified, about: &str) -> Node {
    let mut root = Node::section(title);
    let dir = if cl.is_response {
        "response"
    } else {
        "request"
    };
    root.value = Some(format!("{} {dir}", cl.operation));
    root.note = Some(about.to_string());
    root
}

/// One provisioning message, read: what every view of it starts from.
pub(super) struct Parsed<'a, 'm, 'c> {
    pub msg: &'a Message<'m>,
    pub doc: &'a Document<'a>,
    pub env: &'a Envelope,
    pub sx: &'a SoapXml,
    pub cl: &'a Classified,
    pub cx: &'a Context<'c>,
}
