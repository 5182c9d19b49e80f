//! The sync API's operations (protocols.md §3.3) as a table, [`SYNC_OPERATIONS`]: for each, its
//! name, what it does in the sync cycle, its parameters and result, and the one function that
//! explains its request and response bodies. [`sync_body`] looks an operation up and runs its
//! explain function; an operation without a specific explanation shows its parameters as XML.

use std::fmt::Write as _;

use super::base::{FIXTURE_NS_PREFIX, Facts, annotate_known, fixture_mark};
use super::credentials::credential_item;
use super::objects::{brief_list, objects_section, source_anchor_guid};
use crate::soap::envelope::{
    self, child_local, child_text, children_local, element_tree, is_nil, text_of,
};
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, util};

/// What is known about one sync API operation (protocols.md §3.3), and how its bodies are
/// explained.
///
/// The body elements follow the WCF DataContract convention: the request body is `<{name}>` with
/// the parameters as children ([`OperationInfo::request_element`]), the response body
/// `<{name}Response>` ([`OperationInfo::response_element`]) holding `<{name}Result>`.
#[derive(Debug, Clone, Copy)]
pub struct OperationInfo {
    /// The operation name (`{Op}` in the action URI).
    pub name: &'static str,
    /// What it does in the sync cycle.
    pub purpose: &'static str,
    /// The request parameters (children of `<{Op}>`).
    pub parameters: &'static str,
    /// The shape of `{Op}Result`.
    pub result: &'static str,
    /// Explains the operation's request or response body.
    explain: Explain,
}

impl OperationInfo {
    /// The request body element's local name, `{Op}`.
    pub fn request_element(&self) -> &'static str {
        self.name
    }

    /// The response body element's local name, `{Op}Response`.
    pub fn response_element(&self) -> String {
        format!("{}Response", self.name)
    }
}

/// An operation's explain function: fills the `request` or `response` node from the body and
/// records what the summary needs in [`Facts`].
type Explain = fn(&Body<'_, '_>, &mut Node, &mut Facts);

/// The body an explain function reads.
#[derive(Clone, Copy)]
pub(super) struct Body<'a, 'd> {
    /// The parsed envelope.
    pub(super) doc: &'a Document<'d>,
    /// The body element (`<{Op}>` or `<{Op}Response>`).
    pub(super) payload: NodeId,
    /// The operation as the message names it.
    pub(super) op: &'a str,
    /// True for a response.
    pub(super) is_response: bool,
    /// The decode context (limits, clock, trust).
    pub(super) cx: &'a Context<'a>,
}

/// Every sync API operation of protocols.md §3.3, explained.
pub static SYNC_OPERATIONS: &[OperationInfo] = &[
    OperationInfo {
        name: "GetCompanyConfiguration",
        purpose: "reads the tenant's sync settings at the start of a cycle: allowed and enabled \
                  features, password hash sync, accidental-deletion protection, sync interval",
        parameters: "includeLicenseInformation (bool)",
        result: "AllowedFeatures, DirSyncConfiguration{AnchorAttribute, ApplicationVersion, \
                 ClientVersion, CurrentExport, IsTrackingChanges, PreventAccidentalDeletion}, \
                 DirSyncFeatures (bitmask), DisplayName, IsDirSyncing, IsPasswordSyncing, \
                 MaxLinksSupportedAcrossBatchInProvision2, SynchronizationInterval, TenantId",
        explain: explain_company_configuration,
    },
    OperationInfo {
        name: "ReadBackAzureADSyncObjects",
        purpose: "import: reads back the objects Azure AD holds for this connector (full sync \
                  with a nil inputCookie, otherwise a delta from the watermark)",
        parameters: "includeLicenseInformation (bool), inputCookie (nil = full sync), \
                     isFullSync (bool)",
        result: "ResultObjects/AzureADSyncObject*{PropertyValues, SyncObjectType, \
                 SyncOperation}; output cookie element names are not in public sources",
        explain: explain_read_back,
    },
    OperationInfo {
        name: "ReadBackAzureADSyncObjects2",
        purpose: "import, version 2: as ReadBackAzureADSyncObjects but only non-empty \
                  attributes are returned",
        parameters: "includeLicenseInformation (bool), inputCookie (nil = full sync), \
                     isFullSync (bool)",
        result: "ResultObjects/AzureADSyncObject*{PropertyValues, SyncObjectType, \
                 SyncOperation}; output cookie element names are not in public sources",
        explain: explain_read_back,
    },
    OperationInfo {
        name: "UpdateDirSyncConfiguration",
        purpose: "reports the connector's configuration back to the service during a cycle; \
                  only a blog names it, no public implementation shows its body \
                  ([fixture-defined])",
        parameters: "[fixture-defined]: not found in any public implementation",
        result: "[fixture-defined]: an empty UpdateDirSyncConfigurationResponse",
        explain: explain_update_dirsync_configuration,
    },
    OperationInfo {
        name: "ProvisionAzureADSyncObjects",
        purpose: "export: creates, updates or deletes users, groups, contacts and devices in \
                  Azure AD, in batches",
        parameters: "syncRequest/SyncObjects/AzureADSyncObject*{PropertyValues, \
                     SyncObjectType (User|Group|Contact|Device), SyncOperation (Add|Set|Delete)}",
        result: "SyncObjectResults/AzureADSyncObjectResult*{CloudAnchor, ResultCode, \
                 SourceAnchor, …}",
        explain: explain_provision_objects,
    },
    OperationInfo {
        name: "ProvisionAzureADSyncObjects2",
        purpose: "export, version 2: as ProvisionAzureADSyncObjects, with group membership sent \
                  as SyncReferenceChangeCollection deltas (add/delete per member) instead of \
                  full member lists",
        parameters: "syncRequest/SyncObjects/AzureADSyncObject*{PropertyValues, \
                     SyncObjectType, SyncOperation}",
        result: "SyncObjectResults/AzureADSyncObjectResult*{CloudAnchor, ResultCode, \
                 SourceAnchor, …}",
        explain: explain_provision_objects,
    },
    OperationInfo {
        name: "FinalizeExport",
        purpose: "closes an export run, reporting how many objects were exported and how many \
                  succeeded",
        parameters: "totalExported (int), successfulExportCount (int)",
        result: "an acknowledgement; its shape is not documented",
        explain: explain_finalize_export,
    },
    OperationInfo {
        name: "SetCompanyDirsyncFeatures",
        purpose: "sets the tenant's directory-sync feature bitmask (the DirSyncFeatures value \
                  GetCompanyConfiguration returns)",
        parameters: "dirsyncFeatures (int bitmask)",
        result: "an acknowledgement",
        explain: explain_set_dirsync_features,
    },
    OperationInfo {
        name: "ProvisionCredentials",
        purpose: "password hash synchronisation: uploads a derived hash of each changed \
                  on-premises password (credential material)",
        parameters: "request/RequestItems/SyncCredentialsChangeItem*{ChangeDate, CloudAnchor, \
                     CredentialData, ForcePasswordChangeOnLogon, SourceAnchor, \
                     WindowsLegacyCredentials, WindowsSupplementalCredentials}",
        result: "Results/SyncCredentialsChangeResult*{CloudAnchor, Result (0 = ok), \
                 SourceAnchor}",
        explain: explain_provision_credentials,
    },
    OperationInfo {
        name: "GetServiceAccount",
        purpose: "returns the user name and password of a service account the connector uses; \
                  the response carries a password in clear",
        parameters: "identifier",
        result: "{UserName, Password}",
        explain: explain_service_account,
    },
    OperationInfo {
        name: "GetKerberosDomainSyncConfig",
        purpose: "reads the tenant's configuration for synchronising Kerberos domain \
                  information (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "configuration object",
        explain: explain_generic,
    },
    OperationInfo {
        name: "GetKerberosDomain",
        purpose: "reads the Kerberos domain information the service holds for one DNS domain \
                  (name-based meaning; public clients only call it)",
        parameters: "dnsDomainName",
        result: "domain object",
        explain: explain_generic,
    },
    OperationInfo {
        name: "GetMonitoringTenantCertificate",
        purpose: "fetches the tenant certificate used by the sync health monitoring agent \
                  (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "certificate",
        explain: explain_generic,
    },
    OperationInfo {
        name: "GetWindowsCredentialsSyncConfig",
        purpose: "reads whether Windows (legacy and supplemental) credentials are synchronised \
                  and how (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "configuration object",
        explain: explain_generic,
    },
    OperationInfo {
        name: "GetDeviceConfiguration",
        purpose: "reads the tenant's device settings used by device sync and writeback \
                  (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "configuration object",
        explain: explain_generic,
    },
    OperationInfo {
        name: "Capabilities",
        purpose: "asks which connector versions the service accepts: latest and minimum \
                  product version and a blacklist",
        parameters: "none",
        result: "an XML document embedded as a string: ServiceCapability/MicrosoftOnline/\
                 Protocol/Application{LatestProductVersion, MinimumProductVersion, BlackList}",
        explain: explain_capabilities,
    },
];

/// The description of a sync API operation by name.
pub fn sync_operation(name: &str) -> Option<&'static OperationInfo> {
    SYNC_OPERATIONS.iter().find(|o| o.name == name)
}

/// The explain function for an operation: its table entry's, or, for a name the table does not
/// list that ends in `2`, the entry without the suffix (the version-2 operations keep the shapes
/// of version 1); otherwise the generic one.
fn explain_fn(op: &str) -> Explain {
    sync_operation(op)
        .or_else(|| sync_operation(op.trim_end_matches('2')))
        .map_or(explain_generic as Explain, |o| o.explain)
}

/// The `request` or `response` node of a sync API body, explained by its operation.
pub(super) fn sync_body(b: &Body<'_, '_>, facts: &mut Facts) -> Node {
    let label = if b.is_response { "response" } else { "request" };
    let mut n = Node::section(label);
    n.value = Some(b.doc.local_name(b.payload).to_string());
    n.note = Some(format!(
        "body element, namespace {}",
        b.doc.namespace(b.payload)
    ));
    explain_fn(b.op)(b, &mut n, facts);
    n
}

/// How many nodes one generic XML tree of a body may have.
fn tree_budget(cx: &Context<'_>) -> usize {
    cx.limits.max_nodes.min(envelope::DEFAULT_TREE_NODES)
}

/// GetCompanyConfiguration: the license flag asked for; the tenant configuration returned, with
/// its settings explained.
fn explain_company_configuration(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc,
        payload,
        op,
        cx,
        ..
    } = *b;
    if b.is_response {
        let budget = tree_budget(cx);
        let r = result_of(doc, payload, op);
        let mut t = element_tree(doc, r, budget);
        annotate_known(&mut t, &company_config_note);
        let name = child_text(doc, r, "DisplayName");
        let feat = child_local(doc, r, "DirSyncConfiguration")
            .and_then(|c| child_text(doc, c, "DirSyncFeatures"))
            .or_else(|| child_text(doc, r, "DirSyncFeatures"));
        let interval = child_text(doc, r, "SynchronizationInterval");
        let phs = child_text(doc, r, "IsPasswordSyncing");
        let mut parts = Vec::new();
        if let Some(v) = name {
            parts.push(format!("tenant \"{v}\""));
        }
        if let Some(v) = feat {
            parts.push(format!("DirSyncFeatures {v}"));
        }
        if let Some(v) = interval {
            parts.push(format!("interval {v}"));
        }
        if let Some(v) = phs {
            parts.push(format!(
                "password sync {}",
                if v.eq_ignore_ascii_case("true") {
                    "on"
                } else {
                    "off"
                }
            ));
        }
        facts.details = Some(parts.join(", "));
        n.push(t);
    } else {
        let v = param_bool(doc, payload, "includeLicenseInformation");
        if let Some(v) = &v {
            n.push(
                Node::field("includeLicenseInformation", v)
                    .with_note("true also returns the tenant's license information"),
            );
            facts.details = Some(format!("includeLicenseInformation={v}"));
        }
    }
}

/// ReadBackAzureADSyncObjects (and version 2): full or delta import asked for (cookie, flags);
/// the objects and the output watermark returned.
fn explain_read_back(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc,
        payload,
        op,
        cx,
        ..
    } = *b;
    if b.is_response {
        let r = result_of(doc, payload, op);
        let mut briefs = Vec::new();
        for c in doc.child_elements(r) {
            if doc.local_name(c) == "ResultObjects" {
                let objs: Vec<NodeId> = children_local(doc, c, "AzureADSyncObject").collect();
                let (s, b) = objects_section(doc, "ResultObjects", &objs, cx, &mut facts.findings);
                n.push(s);
                briefs = b;
            } else {
                let mut t = element_tree(doc, c, 100);
                if doc.local_name(c).to_ascii_lowercase().contains("cookie") {
                    t.note = Some(
                        "watermark to send as inputCookie in the next (delta) readback".into(),
                    );
                }
                fixture_mark(doc, c, &mut t);
                n.push(t);
            }
        }
        let mut d = brief_list(&briefs, "objects");
        if let Some(c) = doc
            .child_elements(r)
            .find(|c| doc.local_name(*c).to_ascii_lowercase().contains("cookie"))
        {
            let _ = write!(d, ", output cookie {}", doc.local_name(c));
            if doc.namespace(c).starts_with(FIXTURE_NS_PREFIX) {
                d.push_str(" [fixture-defined]");
            }
        }
        facts.details = Some(d);
    } else {
        for c in doc.child_elements(payload) {
            let local = doc.local_name(c);
            let mut p = match local {
                "inputCookie" if is_nil(doc, c) => Node::field(local, "(nil)")
                    .with_note("no watermark: a full import of everything the connector owns"),
                "inputCookie" => {
                    let v = text_of(doc, c);
                    let len = util::b64_decode_any(&v, cx.limits.max_inflate)
                        .map(|b| format!("{} bytes", b.len()))
                        .unwrap_or_else(|| format!("{} chars", v.len()));
                    Node::field(local, &v).with_note(format!(
                        "the watermark of the previous readback ({len}): only changes since \
                         then are returned"
                    ))
                }
                "isFullSync" => Node::field(local, text_of(doc, c))
                    .with_note("true: a full import; false: a delta import"),
                "includeLicenseInformation" => Node::field(local, text_of(doc, c))
                    .with_note("true also returns license assignments"),
                _ => element_tree(doc, c, 100),
            };
            fixture_mark(doc, c, &mut p);
            n.push(p);
        }
        let nil = child_local(doc, payload, "inputCookie").is_none_or(|c| is_nil(doc, c));
        let full =
            param_bool(doc, payload, "isFullSync").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        facts.details = Some(match (nil, full) {
            (true, true) => "full sync (inputCookie nil, isFullSync true)".to_string(),
            (true, false) => "inputCookie nil (no watermark)".to_string(),
            (false, true) => "full sync with a cookie".to_string(),
            (false, false) => "delta from watermark".to_string(),
        });
    }
}

/// ProvisionAzureADSyncObjects (and version 2): the objects exported; the per-object results.
fn explain_provision_objects(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc, payload, cx, ..
    } = *b;
    if b.is_response {
        let results: Vec<NodeId> = doc
            .descendants(payload)
            .filter(|d| doc.local_name(*d) == "AzureADSyncObjectResult")
            .collect();
        let mut s = Node::section("SyncObjectResults");
        s.value = Some(format!("{} result(s)", results.len()));
        let mut ok = 0;
        for (i, r) in results.iter().enumerate().take(10_000) {
            let code = child_text(doc, *r, "ResultCode").unwrap_or_default();
            let anchor = child_text(doc, *r, "SourceAnchor").unwrap_or_default();
            let mut t = element_tree(doc, *r, 100);
            t.label = format!("[{i}] {code}");
            t.value = Some(anchor.clone());
            if let Some(g) = source_anchor_guid(&anchor) {
                t.note = Some(format!("SourceAnchor = objectGUID {g}"));
            }
            annotate_known(&mut t, &|local, value| match local {
                "ResultCode" => Some(if value == "Success" {
                    "the object was written".to_string()
                } else {
                    "the object was NOT written".to_string()
                }),
                "CloudAnchor" => Some("the object's id in Azure AD".to_string()),
                "SourceAnchor" => source_anchor_guid(value).map(|g| format!("objectGUID {g}")),
                _ => None,
            });
            if code == "Success" {
                ok += 1;
            } else {
                facts.findings.push(
                    Finding::warning(format!(
                        "object {anchor} was not provisioned: ResultCode {code}"
                    ))
                    .at(format!("sync API/response/SyncObjectResults/[{i}] {code}")),
                );
            }
            s.push(t);
        }
        n.push(s);
        facts.details = Some(format!("{} results ({ok} Success)", results.len()));
    } else {
        let objs: Vec<NodeId> = doc
            .descendants(payload)
            .filter(|d| doc.local_name(*d) == "AzureADSyncObject")
            .collect();
        let (s, briefs) = objects_section(doc, "SyncObjects", &objs, cx, &mut facts.findings);
        n.push(s);
        facts.details = Some(brief_list(&briefs, "objects"));
    }
}

/// FinalizeExport: the export counts, with a warning when objects failed.
fn explain_finalize_export(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body { doc, payload, .. } = *b;
    if b.is_response {
        explain_generic(b, n, facts);
        return;
    }
    let total = child_text(doc, payload, "totalExported").unwrap_or_default();
    let good = child_text(doc, payload, "successfulExportCount").unwrap_or_default();
    n.push(
        Node::leaf("totalExported", &total, Kind::Number).with_note("objects exported in this run"),
    );
    n.push(
        Node::leaf("successfulExportCount", &good, Kind::Number).with_note("of which succeeded"),
    );
    if let (Ok(t), Ok(g)) = (total.parse::<u64>(), good.parse::<u64>())
        && g < t
    {
        facts.findings.push(
            Finding::warning(format!("export finished with {} failed object(s)", t - g))
                .at("sync API/request/successfulExportCount"),
        );
    }
    facts.details = Some(format!("{total} exported, {good} successful"));
}

/// SetCompanyDirsyncFeatures: the feature bitmask set.
fn explain_set_dirsync_features(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body { doc, payload, .. } = *b;
    if b.is_response {
        explain_generic(b, n, facts);
        return;
    }
    let v = child_text(doc, payload, "dirsyncFeatures").unwrap_or_default();
    let mut f = Node::leaf("dirsyncFeatures", &v, Kind::Number);
    f.note = bitmask_note(&v);
    n.push(f);
    facts.details = Some(format!("dirsyncFeatures {v}"));
}

/// ProvisionCredentials: the password-hash items uploaded (credential material, a warning); the
/// per-item results.
fn explain_provision_credentials(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc, payload, cx, ..
    } = *b;
    if b.is_response {
        let results: Vec<NodeId> = doc
            .descendants(payload)
            .filter(|d| doc.local_name(*d) == "SyncCredentialsChangeResult")
            .collect();
        let mut s = Node::section("Results");
        let mut ok = 0;
        for (i, r) in results.iter().enumerate().take(10_000) {
            let code = child_text(doc, *r, "Result").unwrap_or_default();
            let mut t = element_tree(doc, *r, 50);
            t.label = format!("[{i}]");
            annotate_known(&mut t, &|local, value| match local {
                "Result" => Some(if value == "0" {
                    "0 = the hash was stored".to_string()
                } else {
                    "non-zero: the hash was not stored".to_string()
                }),
                "SourceAnchor" => source_anchor_guid(value).map(|g| format!("objectGUID {g}")),
                _ => None,
            });
            if code == "0" {
                ok += 1;
            } else {
                facts.findings.push(
                    Finding::warning(format!("password hash {i} was rejected: Result {code}"))
                        .at(format!("sync API/response/Results/[{i}]")),
                );
            }
            s.push(t);
        }
        s.value = Some(format!("{} result(s)", results.len()));
        n.push(s);
        facts.details = Some(format!("{} result(s) ({ok} ok)", results.len()));
    } else {
        let items: Vec<NodeId> = doc
            .descendants(payload)
            .filter(|d| doc.local_name(*d) == "SyncCredentialsChangeItem")
            .collect();
        let mut s = Node::section("RequestItems");
        s.value = Some(format!("{} item(s)", items.len()));
        let mut briefs = Vec::new();
        for (i, it) in items.iter().enumerate().take(10_000) {
            let (node, brief) = credential_item(doc, *it, i, cx);
            s.push(node);
            briefs.push(brief);
        }
        n.push(s);
        if !items.is_empty() {
            facts.findings.push(
                Finding::warning(format!(
                    "password hash material: {} credential item(s) carry password-derived \
                     hashes (PBKDF2 of the NT hash); treat this capture as a credential",
                    items.len()
                ))
                .at("sync API/request/RequestItems"),
            );
        }
        facts.details = Some(format!(
            "{} password hash{}{}",
            items.len(),
            if items.len() == 1 { "" } else { "es" },
            briefs
                .first()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default()
        ));
    }
}

/// GetServiceAccount: the user name and the clear-text password returned (a secret and a
/// warning).
fn explain_service_account(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc, payload, op, ..
    } = *b;
    if !b.is_response {
        explain_generic(b, n, facts);
        return;
    }
    let r = result_of(doc, payload, op);
    let user = child_text(doc, r, "UserName").unwrap_or_default();
    n.push(Node::field("UserName", &user).with_note("the service account"));
    if let Some(pw) = child_local(doc, r, "Password") {
        let v = doc.text_content(pw);
        n.push(
            Node::secret("Password", v.trim())
                .with_note("the service account's password in clear text: a credential"),
        );
        facts.findings.push(
            Finding::warning(
                "GetServiceAccount response carries a service-account password in clear \
                 text",
            )
            .at("sync API/response/Password"),
        );
    }
    for c in doc.child_elements(r) {
        if !matches!(doc.local_name(c), "UserName" | "Password") {
            n.push(element_tree(doc, c, 100));
        }
    }
    facts.details = Some(format!("UserName {user}, Password (secret)"));
}

/// Capabilities: the XML document the response embeds as a string, parsed and explained.
fn explain_capabilities(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc,
        payload,
        op,
        cx,
        ..
    } = *b;
    if !b.is_response {
        explain_generic(b, n, facts);
        return;
    }
    let r = result_of(doc, payload, op);
    let embedded = doc.text_content(r);
    n.push(capabilities_node(embedded.trim(), cx, facts));
}

/// UpdateDirSyncConfiguration: no public source shows its body, so both directions are shown as
/// [fixture-defined] XML.
fn explain_update_dirsync_configuration(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc, payload, cx, ..
    } = *b;
    let budget = tree_budget(cx);
    n.note = Some(format!(
        "[fixture-defined] body: no public implementation shows it; namespace {}",
        doc.namespace(payload)
    ));
    for c in doc.child_elements(payload) {
        let mut t = element_tree(doc, c, budget);
        fixture_mark(doc, c, &mut t);
        n.push(t);
    }
    let count = doc.child_elements(payload).count();
    facts.details = Some(if count == 0 {
        "(empty)".to_string()
    } else {
        format!("{count} parameter(s) [fixture-defined]")
    });
}

/// Any body without a specific explanation: each parameter as XML, the simple ones in the
/// summary (secrets left out).
fn explain_generic(b: &Body<'_, '_>, n: &mut Node, facts: &mut Facts) {
    let Body {
        doc, payload, cx, ..
    } = *b;
    let budget = tree_budget(cx);
    let mut params = Vec::new();
    for c in doc.child_elements(payload) {
        let mut t = element_tree(doc, c, budget);
        fixture_mark(doc, c, &mut t);
        if let Some(v) = &t.value
            && t.kind != Kind::Secret
        {
            params.push(format!("{}={}", doc.local_name(c), util::ellipsize(v, 40)));
        }
        n.push(t);
    }
    if !params.is_empty() {
        facts.details = Some(params.join(", "));
    }
}

/// The op's `{Op}Result` element (or the payload itself when there is no wrapper).
fn result_of(doc: &Document<'_>, payload: NodeId, op: &str) -> NodeId {
    child_local(doc, payload, &format!("{op}Result"))
        .or_else(|| doc.child_elements(payload).next())
        .unwrap_or(payload)
}

fn param_bool(doc: &Document<'_>, p: NodeId, name: &str) -> Option<String> {
    child_text(doc, p, name)
}

/// Renders an `xs:duration` such as `PT30M` in words (`30 minutes`), when it is a simple one.
pub(super) fn duration_words(d: &str) -> Option<String> {
    let t = d.trim().strip_prefix("PT")?;
    let mut out = Vec::new();
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match c {
            'H' => "hour",
            'M' => "minute",
            'S' => "second",
            _ => return None,
        };
        let plural = if num == "1" { "" } else { "s" };
        out.push(format!("{num} {unit}{plural}"));
        num.clear();
    }
    (!out.is_empty() && num.is_empty()).then(|| out.join(" "))
}

fn bitmask_note(v: &str) -> Option<String> {
    let n: u64 = v.trim().parse().ok()?;
    let bits: Vec<String> = (0..64)
        .filter(|b| n >> b & 1 == 1)
        .map(|b| b.to_string())
        .collect();
    Some(format!(
        "feature bitmask 0x{n:X}, bits set: {}; the meaning of each bit is not in the public \
         sources this decoder follows",
        if bits.is_empty() {
            "none".to_string()
        } else {
            bits.join(", ")
        }
    ))
}

fn company_config_note(local: &str, value: &str) -> Option<String> {
    Some(match local {
        "AllowedFeatures" => "features the tenant may enable".to_string(),
        "AnchorAttribute" => "the on-premises attribute used as SourceAnchor".to_string(),
        "ApplicationVersion" | "ClientVersion" => "version of the last connector that wrote the \
                                                   configuration"
            .to_string(),
        "CurrentExport" => "the export in progress (machine and object count)".to_string(),
        "DirSyncClientMachineName" => "the server running AAD Connect".to_string(),
        "TotalConnectorSpaceObjects" => "objects in the connector space".to_string(),
        "IsTrackingChanges" => "whether the service tracks changes for delta readback".to_string(),
        "PreventAccidentalDeletion" => "accidental-deletion protection".to_string(),
        "DeletionPrevention" => "protection mode (Disabled, EnabledForCount, \
                                 EnabledForPercentage)"
            .to_string(),
        "ThresholdCount" => "maximum deletions per export before the export stops".to_string(),
        "ThresholdPercentage" => "maximum share of objects deleted per export".to_string(),
        "Writeback" => "writeback containers (position in the result is unverified)".to_string(),
        "DirSyncFeatures" => bitmask_note(value)?,
        "DisplayName" => "tenant display name".to_string(),
        "IsDirSyncing" => "directory synchronisation enabled for the tenant".to_string(),
        "IsPasswordSyncing" => "password hash synchronisation enabled".to_string(),
        "MaxLinksSupportedAcrossBatchInProvision2" => {
            "most member links one ProvisionAzureADSyncObjects2 batch may carry".to_string()
        }
        "SynchronizationInterval" => match duration_words(value) {
            Some(w) => format!("scheduler interval: {w}"),
            None => "scheduler interval (xs:duration)".to_string(),
        },
        "TenantId" => "the tenant id".to_string(),
        _ => return None,
    })
}

fn capabilities_node(embedded: &str, cx: &Context<'_>, facts: &mut Facts) -> Node {
    let mut n = Node::section("CapabilitiesResult")
        .with_note("an XML document embedded as a string in the SOAP body");
    match Document::parse(embedded, &cx.limits) {
        Ok(inner) => {
            if let Some(r) = inner.root() {
                let mut t = element_tree(&inner, r, 500);
                annotate_known(&mut t, &|local, _| {
                    Some(
                        match local {
                            "LatestProductVersion" => "newest connector version the service offers",
                            "MinimumProductVersion" => {
                                "oldest connector version the service still accepts"
                            }
                            "BlackList" => "connector versions the service refuses",
                            _ => return None,
                        }
                        .to_string(),
                    )
                });
                let latest = inner
                    .descendants(r)
                    .find(|d| inner.local_name(*d) == "LatestProductVersion")
                    .map(|d| text_of(&inner, d));
                let min = inner
                    .descendants(r)
                    .find(|d| inner.local_name(*d) == "MinimumProductVersion")
                    .map(|d| text_of(&inner, d));
                facts.details = Some(format!(
                    "latest {}, minimum {}",
                    latest.unwrap_or_else(|| "?".into()),
                    min.unwrap_or_else(|| "?".into())
                ));
                n.push(t);
            }
        }
        Err(e) => {
            n.push(Node::field("text", util::ellipsize(embedded, 200)));
            n.push(Node::leaf("parse", e.to_string(), Kind::Error));
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    /// The body element of every sync API reference fixture is the request or response element
    /// its table entry names.
    #[test]
    fn fixture_bodies_use_the_table_element_names() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/provisioning");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            // Faults carry no operation body; the MSOnline API is not in the table.
            if !file.ends_with(".xml") || file.contains("fault") || file.starts_with("msonline") {
                continue;
            }
            let xml = std::fs::read_to_string(&path).unwrap();
            let doc = Document::parse(&xml, &Limits::default()).unwrap();
            let env = envelope::parse_envelope(&doc).unwrap();
            let local = doc.local_name(env.payload.unwrap());
            let op = local.strip_suffix("Response").unwrap_or(local);
            let info = sync_operation(op).unwrap_or_else(|| panic!("{file}: {op} not in table"));
            if file.ends_with("_response.xml") {
                assert_eq!(local, info.response_element(), "{file}");
            } else {
                assert_eq!(local, info.request_element(), "{file}");
            }
            checked += 1;
        }
        assert!(checked >= 15, "only {checked} fixtures checked");
    }
}
