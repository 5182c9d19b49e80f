//! The AAD Connect provisioning ("Azure AD Sync") SOAP API of
//! `adminwebservice.microsoftonline.com/provisioningservice.svc` (protocols.md §3), and the
//! MSOnline provisioning API of `provisioningapi.microsoftonline.com/provisioningwebservice.svc`
//! that must not be confused with it.
//!
//! A message is recognised by what it says, never by its host alone: the WS-Addressing `Action`
//! (`http://schemas.microsoft.com/online/aws/change/2010/01/IProvisioningWebService/{Op}`), the
//! `x-ms-aadmsods-apiaction` header, the body element's namespace, or the `SyncToken` header
//! (for the MSOnline API: its own action prefix, namespace and `UserIdentityHeader`). The
//! envelope is read with [`super::envelope::parse_envelope`] from XML text or from the XML the
//! [`super::nbfx`] decoder produced for `application/soap+msbin1` bodies.
//!
//! The view names and explains every operation of §3.3, the `SyncToken` header (with its
//! `BearerToken` decoded and verified as a JWT, the raw value a [`Kind::Secret`]), every sync
//! object with its typed attributes (SourceAnchor shown with the objectGUID it encodes, reference
//! changes explained), per-object results, readback cookies, password-hash credential data (a
//! secret and a warning), the service-account password (a secret), faults (the redirect fault and
//! `ErrorDescription`), and the `x-ms-aadmsods-*` HTTP headers.
//!
//! Not responsible for: the binary encoding (see [`super::nbfx`]), generic SOAP (the `soap`
//! decoder stays as an extra interpretation), redaction itself (it relies on [`Kind::Secret`]),
//! and anything the public sources do not show: elements marked [fixture-defined] in protocols.md
//! are shown generically and said to be fixture-defined.

use std::fmt::Write as _;

use super::envelope::{
    self, Envelope, SoapXml, child_local, child_text, children_local, element_tree, is_nil, text_of,
};
use crate::jwt::{self, Role};
use crate::view::{Finding, Kind, Node, Severity};
use crate::xml::{Document, NodeId};
use crate::{Context, DecodeError, Decoded, Decoder, Message, util};

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

/// What is known about one sync API operation (protocols.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationInfo {
    /// The operation name (`{Op}` in the action URI).
    pub name: &'static str,
    /// What it does in the sync cycle.
    pub purpose: &'static str,
    /// The request parameters (children of `<{Op}>`).
    pub parameters: &'static str,
    /// The shape of `{Op}Result`.
    pub result: &'static str,
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
    },
    OperationInfo {
        name: "ReadBackAzureADSyncObjects",
        purpose: "import: reads back the objects Azure AD holds for this connector (full sync \
                  with a nil inputCookie, otherwise a delta from the watermark)",
        parameters: "includeLicenseInformation (bool), inputCookie (nil = full sync), \
                     isFullSync (bool)",
        result: "ResultObjects/AzureADSyncObject*{PropertyValues, SyncObjectType, \
                 SyncOperation}; output cookie element names are not in public sources",
    },
    OperationInfo {
        name: "ReadBackAzureADSyncObjects2",
        purpose: "import, version 2: as ReadBackAzureADSyncObjects but only non-empty \
                  attributes are returned",
        parameters: "includeLicenseInformation (bool), inputCookie (nil = full sync), \
                     isFullSync (bool)",
        result: "ResultObjects/AzureADSyncObject*{PropertyValues, SyncObjectType, \
                 SyncOperation}; output cookie element names are not in public sources",
    },
    OperationInfo {
        name: "UpdateDirSyncConfiguration",
        purpose: "reports the connector's configuration back to the service during a cycle; \
                  only a blog names it, no public implementation shows its body \
                  ([fixture-defined])",
        parameters: "[fixture-defined]: not found in any public implementation",
        result: "[fixture-defined]: an empty UpdateDirSyncConfigurationResponse",
    },
    OperationInfo {
        name: "ProvisionAzureADSyncObjects",
        purpose: "export: creates, updates or deletes users, groups, contacts and devices in \
                  Azure AD, in batches",
        parameters: "syncRequest/SyncObjects/AzureADSyncObject*{PropertyValues, \
                     SyncObjectType (User|Group|Contact|Device), SyncOperation (Add|Set|Delete)}",
        result: "SyncObjectResults/AzureADSyncObjectResult*{CloudAnchor, ResultCode, \
                 SourceAnchor, …}",
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
    },
    OperationInfo {
        name: "FinalizeExport",
        purpose: "closes an export run, reporting how many objects were exported and how many \
                  succeeded",
        parameters: "totalExported (int), successfulExportCount (int)",
        result: "an acknowledgement; its shape is not documented",
    },
    OperationInfo {
        name: "SetCompanyDirsyncFeatures",
        purpose: "sets the tenant's directory-sync feature bitmask (the DirSyncFeatures value \
                  GetCompanyConfiguration returns)",
        parameters: "dirsyncFeatures (int bitmask)",
        result: "an acknowledgement",
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
    },
    OperationInfo {
        name: "GetServiceAccount",
        purpose: "returns the user name and password of a service account the connector uses; \
                  the response carries a password in clear",
        parameters: "identifier",
        result: "{UserName, Password}",
    },
    OperationInfo {
        name: "GetKerberosDomainSyncConfig",
        purpose: "reads the tenant's configuration for synchronising Kerberos domain \
                  information (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "configuration object",
    },
    OperationInfo {
        name: "GetKerberosDomain",
        purpose: "reads the Kerberos domain information the service holds for one DNS domain \
                  (name-based meaning; public clients only call it)",
        parameters: "dnsDomainName",
        result: "domain object",
    },
    OperationInfo {
        name: "GetMonitoringTenantCertificate",
        purpose: "fetches the tenant certificate used by the sync health monitoring agent \
                  (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "certificate",
    },
    OperationInfo {
        name: "GetWindowsCredentialsSyncConfig",
        purpose: "reads whether Windows (legacy and supplemental) credentials are synchronised \
                  and how (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "configuration object",
    },
    OperationInfo {
        name: "GetDeviceConfiguration",
        purpose: "reads the tenant's device settings used by device sync and writeback \
                  (name-based meaning; public clients only call it)",
        parameters: "none",
        result: "configuration object",
    },
    OperationInfo {
        name: "Capabilities",
        purpose: "asks which connector versions the service accepts: latest and minimum \
                  product version and a blacklist",
        parameters: "none",
        result: "an XML document embedded as a string: ServiceCapability/MicrosoftOnline/\
                 Protocol/Application{LatestProductVersion, MinimumProductVersion, BlackList}",
    },
];

/// The description of a sync API operation by name.
pub fn sync_operation(name: &str) -> Option<&'static OperationInfo> {
    SYNC_OPERATIONS.iter().find(|o| o.name == name)
}

/// Names of the application ids seen in `SyncToken/ApplicationId` and `x-ms-aadmsods-appid`.
pub fn sync_application(id: &str) -> Option<&'static str> {
    Some(match id.trim().to_ascii_lowercase().as_str() {
        "1651564e-7ce4-4d99-88be-0a65050d8dc3" => {
            "the sync API client application id (sent by the AAD Connect client and by \
             AADInternals, which mirrors it)"
        }
        "6eb59a73-39b2-4c23-a70f-e2e3ce8965b1" => "the application id of the v2 API variant",
        _ => return None,
    })
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

/// The objectGUID a SourceAnchor (base64 of 16 bytes in .NET GUID order) encodes, if it does.
pub fn source_anchor_guid(b64: &str) -> Option<String> {
    let raw = util::b64_decode_any(b64, 64)?;
    let arr: [u8; 16] = raw.try_into().ok()?;
    Some(util::dotnet_guid(&arr))
}

/// A Windows security identifier (`S-1-5-21-…`) from its binary form.
pub fn sid_string(b: &[u8]) -> Option<String> {
    let rev = *b.first()?;
    let count = usize::from(*b.get(1)?);
    let auth = b.get(2..8)?;
    if b.len() != 8 + 4 * count {
        return None;
    }
    let mut authority = 0u64;
    for x in auth {
        authority = (authority << 8) | u64::from(*x);
    }
    let mut s = format!("S-{rev}-{authority}");
    for i in 0..count {
        let at = 8 + 4 * i;
        let sub = b.get(at..at + 4)?;
        let v = u32::from_le_bytes([*sub.first()?, *sub.get(1)?, *sub.get(2)?, *sub.get(3)?]);
        let _ = write!(s, "-{v}");
    }
    Some(s)
}

/// One `PPH1_MD4` entry of `CredentialData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialEntry {
    /// The algorithm tag (`PPH1_MD4`).
    pub algorithm: String,
    /// The salt, hex (10 bytes = 20 hex digits).
    pub salt: String,
    /// PBKDF2 iterations.
    pub iterations: Option<u32>,
    /// The derived hash, hex (32 bytes = 64 hex digits).
    pub hash: String,
}

/// Parsed `CredentialData`: `v1;PPH1_MD4,<salt>,<iterations>,<hash>;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialData {
    /// The format version (`v1`).
    pub version: String,
    /// The entries after the version.
    pub entries: Vec<CredentialEntry>,
}

/// Parses the password-hash `CredentialData` of ProvisionCredentials (protocols.md §3.3).
pub fn parse_credential_data(s: &str) -> Option<CredentialData> {
    let mut parts = s.trim().split(';');
    let version = parts.next()?.to_string();
    if !version.starts_with('v') {
        return None;
    }
    let entries: Vec<CredentialEntry> = parts
        .filter(|p| !p.is_empty())
        .take(16)
        .map(|p| {
            let mut f = p.split(',');
            CredentialEntry {
                algorithm: f.next().unwrap_or("").to_string(),
                salt: f.next().unwrap_or("").to_string(),
                iterations: f.next().and_then(|i| i.trim().parse().ok()),
                hash: f.next().unwrap_or("").to_string(),
            }
        })
        .collect();
    (!entries.is_empty()).then_some(CredentialData { version, entries })
}

/// Renders an `xs:duration` such as `PT30M` in words (`30 minutes`), when it is a simple one.
fn duration_words(d: &str) -> Option<String> {
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

/// `20190801164342.0Z` (LDAP generalized time) as `2019-08-01T16:43:42Z`.
fn generalized_time(s: &str) -> Option<String> {
    let d = s.trim();
    let digits = d.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        d.get(..4)?,
        d.get(4..6)?,
        d.get(6..8)?,
        d.get(8..10)?,
        d.get(10..12)?,
        d.get(12..14)?
    ))
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

fn short_anchor(a: &str) -> String {
    match a.char_indices().nth(6) {
        Some((i, _)) => format!("{}…", a.get(..i).unwrap_or(a)),
        None => a.to_string(),
    }
}

fn short_guid(g: &str) -> String {
    match g.split_once('-') {
        Some((head, _)) => format!("{head}-…"),
        None => g.to_string(),
    }
}

/// Notes for the well-known sync object attribute names (protocols.md §3.3).
fn attribute_note(key: &str) -> Option<&'static str> {
    Some(match key {
        "SourceAnchor" => {
            "the immutable on-premises anchor (base64 objectGUID or mS-DS-ConsistencyGuid); \
             becomes the ImmutableID federated sign-in matches on"
        }
        "CloudAnchor" => "the object's id in Azure AD, `<Type>_<objectId>`",
        "accountEnabled" => "false blocks sign-in in Azure AD",
        "commonName" => "on-premises cn",
        "countryCode" => "ISO 3166 numeric country code",
        "displayName" => "display name",
        "dnsDomainName" => "the on-premises AD DNS domain of the object",
        "givenName" => "first name",
        "surname" => "last name",
        "lastPasswordChangeTimestamp" => "on-premises pwdLastSet, LDAP generalized time",
        "netBiosName" => "the on-premises NetBIOS domain name",
        "onPremiseSecurityIdentifier" => "the on-premises objectSid, binary SID",
        "onPremisesDistinguishedName" => "the on-premises distinguished name",
        "onPremisesSamAccountName" => "the on-premises sAMAccountName",
        "userPrincipalName" => "the sign-in name in Azure AD",
        "cloudMastered" => "true when the object is managed in the cloud, not on-premises",
        "usageLocation" => "two-letter country code used for licensing",
        "ThumbnailPhoto" => "the thumbnail photo, raw bytes",
        "proxyAddresses" => "mail addresses; `SMTP:` marks the primary, `smtp:` the others",
        "member" => "group members, as anchors of the member objects",
        "deviceId" => "the device's Azure AD device id (base64 GUID)",
        "deviceTrustType" => "how the device is joined (e.g. ServerAd = hybrid Azure AD join)",
        "deviceOSType" => "device operating system",
        "deviceOSVersion" => "device operating system version",
        "userCertificate" => {
            "certificates of the object; for a device, the self-signed certificate written \
             by hybrid join, which proves the device to Azure AD"
        }
        "userType" => "Member or Guest",
        "securityEnabled" => "true for a security group",
        "mailEnabled" => "true for a mail-enabled group",
        "mail" => "primary mail address",
        "mailNickname" => "Exchange alias",
        _ if key.starts_with("Cloud") => "written back by Azure AD (readback only)",
        _ => return None,
    })
}

fn sync_object_type_note(t: &str) -> &'static str {
    match t {
        "User" => "a user account",
        "Group" => "a group",
        "Contact" => "a mail contact",
        "Device" => "a computer or device (hybrid join)",
        _ => "unrecognized object type",
    }
}

fn sync_operation_note(op: &str) -> &'static str {
    match op {
        "Add" => "create the object in Azure AD (or take over a matching cloud object)",
        "Set" => "update the attributes sent; attributes not sent are unchanged",
        "Delete" => "delete the object in Azure AD",
        _ => "unrecognized operation",
    }
}

/// Collects what the whole view learns while it is built, for the summary.
#[derive(Default)]
struct Facts {
    findings: Vec<Finding>,
    token_brief: Option<String>,
    token_tid: Option<String>,
    tracking_id: Option<String>,
    details: Option<String>,
    fault: Option<String>,
}

/// The `provisioning` decoder: AAD Connect sync API messages (msbin1, text or binary) and the
/// MSOnline provisioning API (text SOAP), explained operation by operation.
#[derive(Debug, Clone, Copy)]
pub struct Provisioning;

/// Bytes at the start of a body searched for markers in [`Provisioning::priority`].
const SNIFF_BYTES: usize = 32 << 10;

impl Decoder for Provisioning {
    fn id(&self) -> &'static str {
        "provisioning"
    }

    fn priority(&self, msg: &Message<'_>) -> f32 {
        let soapish = envelope::is_binary(msg)
            || matches!(
                msg.content_type().as_deref(),
                Some("application/soap+xml" | "text/xml")
            )
            || envelope::sniff_text_envelope(msg.body);
        if !soapish {
            return 0.0;
        }
        let head = msg
            .body
            .get(..msg.body.len().min(SNIFF_BYTES))
            .unwrap_or(msg.body);
        let path = msg.path().to_ascii_lowercase();
        if msg.header("x-ms-aadmsods-apiaction").is_some()
            || envelope::contains(head, b"online/aws/change/2010/01")
            || envelope::contains(head, b"provisioning.microsoftonline.com")
        {
            0.97
        } else if path.ends_with("/provisioningservice.svc")
            || path.ends_with("/provisioningwebservice.svc")
        {
            0.95
        } else {
            0.0
        }
    }

    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
        let sx = envelope::message_xml(msg, cx)?;
        let doc = Document::parse(&sx.xml, &cx.limits)?;
        let env = envelope::parse_envelope(&doc)?;
        let cl = classify(msg, &doc, &env).ok_or_else(|| {
            DecodeError::not(
                "a provisioning API message",
                "no sync API or MSOnline action, header, namespace or fault marker",
            )
        })?;
        Ok(match cl.api {
            Api::Sync => sync_view(msg, &doc, &env, &sx, &cl, cx),
            Api::MsOnline => msonline_view(msg, &doc, &env, &sx, &cl, cx),
        })
    }
}

fn transport_node(msg: &Message<'_>, sx: &SoapXml, facts: &mut Facts) -> Node {
    let mut t = Node::section("transport");
    let ct = msg
        .content_type()
        .unwrap_or(std::borrow::Cow::Borrowed("(none)"));
    t.push(Node::field("content-type", ct).with_note(sx.encoding.describe()));
    if let Some(s) = msg.status {
        let note = if s >= 500 {
            "the sync API returns faults (redirects included) as HTTP 500"
        } else {
            "HTTP status"
        };
        t.push(Node::leaf("status", s.to_string(), Kind::Number).with_note(note));
    }
    for (name, value) in msg.headers() {
        let lname = name.to_ascii_lowercase();
        let note = match lname.as_str() {
            "x-ms-aadmsods-appid" => {
                let mut n = "application id of the sync client (mirrors SyncToken/ApplicationId)"
                    .to_string();
                if let Some(a) = sync_application(value) {
                    n.push_str("; ");
                    n.push_str(a);
                }
                n
            }
            "x-ms-aadmsods-apiaction" => {
                "the operation name (mirrors the WS-Addressing Action)".to_string()
            }
            "x-ms-aadmsods-clientversion" => {
                "the client's API version (mirrors SyncToken/ClientVersion)".to_string()
            }
            "x-ms-aadmsods-dirsyncbuildnumber" => {
                "AAD Connect build number (mirrors SyncToken/DirSyncBuildNumber)".to_string()
            }
            "x-ms-aadmsods-fimbuildnumber" => {
                "sync engine build number (mirrors SyncToken/FIMBuildNumber)".to_string()
            }
            "x-ms-aadmsods-tenantid" => "the tenant id (the tid of the bearer token)".to_string(),
            "client-request-id" => {
                "request id for correlation with Microsoft's logs; the client sends the same \
                 GUID as TrackingId and MessageID"
                    .to_string()
            }
            n if n.starts_with("x-ms-aadmsods-") => "unrecognized x-ms-aadmsods header".to_string(),
            _ => continue,
        };
        t.push(Node::field(lname.clone(), *value).with_note(note));
        if lname == "client-request-id" && facts.tracking_id.is_none() {
            facts.tracking_id = Some(value.to_string());
        }
    }
    t
}

/// Builds the BearerToken node: a secret whose children are the decoded JWT; the token's
/// findings are re-rooted under `path`.
fn bearer_node(raw: &str, api: Api, path: &str, cx: &Context<'_>, facts: &mut Facts) -> Node {
    let value = raw.trim();
    let (token, prefixed) = match value.strip_prefix("Bearer ") {
        Some(t) => (t.trim(), true),
        None => (value, false),
    };
    let mut node = Node::secret("BearerToken", value);
    let expectation = match api {
        Api::Sync => "the access token of the sync account, raw (no \"Bearer \" prefix)",
        Api::MsOnline => "the caller's access token, written \"Bearer <jwt>\"",
    };
    match (api, prefixed) {
        (Api::Sync, true) => facts.findings.push(
            Finding::warning(
                "SyncToken/BearerToken starts with \"Bearer \": the sync API expects the raw JWT \
                 (the MSOnline API is the one that uses the prefix)",
            )
            .at(path),
        ),
        (Api::MsOnline, false) if !value.is_empty() => facts.findings.push(
            Finding::warning(
                "UserIdentityHeader/BearerToken lacks the \"Bearer \" prefix the MSOnline API \
                 expects",
            )
            .at(path),
        ),
        _ => {}
    }
    if value.is_empty() {
        node.note = Some(format!("{expectation}; empty"));
        facts
            .findings
            .push(Finding::warning("BearerToken is empty").at(path));
        return node;
    }
    match jwt::parse_limited(token, &cx.limits) {
        Ok(t) => {
            let d = jwt::explain_as(&t, cx, Role::AccessToken);
            let verdict = jwt::verify(&t, cx.trust);
            let brief = format!(
                "{}, {}",
                jwt::brief(&t, cx),
                jwt::verdict_word(&t, &verdict)
            );
            node.note = Some(format!("{expectation}; {brief} ({} chars)", token.len()));
            node.children = d.root.children;
            facts.findings.extend(d.findings.into_iter().map(|mut f| {
                f.at = Some(match f.at.take() {
                    Some(a) => format!("{path}/{a}"),
                    None => path.to_string(),
                });
                f
            }));
            let aud = t.claim_str("aud").unwrap_or_default();
            let aud_ok = matches!(
                aud.trim_end_matches('/'),
                "https://graph.windows.net" | "00000002-0000-0000-c000-000000000000"
            );
            if api == Api::Sync && !aud.is_empty() && !aud_ok {
                facts.findings.push(
                    Finding::warning(format!(
                        "BearerToken audience is {aud}; the sync API takes an AAD Graph token \
                         (https://graph.windows.net)"
                    ))
                    .at(path),
                );
            }
            facts.token_tid = t.claim_str("tid");
            facts.token_brief = Some(brief);
        }
        Err(e) => {
            node.note = Some(format!("{expectation}; not a JWT ({} chars)", token.len()));
            node.push(Node::leaf("decode", e.to_string(), Kind::Error));
            facts
                .findings
                .push(Finding::warning(format!("BearerToken is not a JWT: {e}")).at(path));
        }
    }
    node
}

fn sync_token_node(doc: &Document<'_>, st: NodeId, cx: &Context<'_>, facts: &mut Facts) -> Node {
    let mut n = Node::section("SyncToken").with_note(
        "the sync API's authentication header (role urn:microsoft.online.administrativeservice): \
         the bearer token plus client version and tracking data",
    );
    for c in doc.child_elements(st).take(64) {
        let local = doc.local_name(c);
        let v = text_of(doc, c);
        let path = format!("sync API/SyncToken/{local}");
        let child = match local {
            "BearerToken" => bearer_node(&doc.text_content(c), Api::Sync, &path, cx, facts),
            "ApplicationId" => {
                let mut f = Node::field(local, &v);
                f.note = Some(match sync_application(&v) {
                    Some(a) => a.to_string(),
                    None => "application id of the sync client (not a well-known value)".into(),
                });
                f
            }
            "ClientVersion" => Node::field(local, &v).with_note("the client's API version"),
            "DirSyncBuildNumber" => Node::field(local, &v).with_note("AAD Connect build number"),
            "FIMBuildNumber" => Node::field(local, &v).with_note("sync engine build number"),
            "IsInstalledOnDC" => {
                Node::field(local, &v).with_note("whether AAD Connect runs on a domain controller")
            }
            "IssueDateTime" => Node::field(local, &v).with_note(if v.starts_with("0001-01-01") {
                "DateTime.MinValue: not set by the client"
            } else {
                "when the client built the token header"
            }),
            "LanguageId" => Node::field(local, &v).with_note("client UI language"),
            "LiveToken" => {
                if v.is_empty() {
                    Node::field(local, "(empty)").with_note("legacy Live ID token, unused")
                } else {
                    Node::secret(local, &v).with_note("legacy Live ID token")
                }
            }
            "ProtocolVersion" => Node::field(local, &v).with_note("sync protocol version"),
            "RichCoexistenceEnabled" => Node::field(local, &v)
                .with_note("Exchange hybrid (rich coexistence) writeback enabled"),
            "TrackingId" => {
                if facts
                    .tracking_id
                    .as_deref()
                    .is_some_and(|t| !t.eq_ignore_ascii_case(&v))
                {
                    facts.findings.push(
                        Finding::info(format!(
                            "TrackingId {v} differs from the client-request-id header; the \
                             real client sends the same GUID in both"
                        ))
                        .at(path.clone()),
                    );
                }
                Node::field(local, &v)
                    .with_note("correlation id (equals client-request-id and MessageID)")
            }
            _ => {
                let mut t = element_tree(doc, c, 200);
                t.note = Some("unrecognized SyncToken field".to_string());
                t
            }
        };
        n.push(child);
    }
    n
}

/// The typed value of one `KeyValueOfstringanyType/Value`, rendered for the attribute `key`.
fn typed_value(
    doc: &Document<'_>,
    key: &str,
    value: NodeId,
    cx: &Context<'_>,
    left: &mut usize,
) -> Node {
    let ty = doc
        .attribute_ns(value, envelope::XSI_NS, "type")
        .unwrap_or("");
    let ty_local = ty.rsplit(':').next().unwrap_or(ty);
    let mut n = Node::field(key, "");
    let type_note = if ty.is_empty() {
        "untyped".to_string()
    } else {
        ty.to_string()
    };
    if is_nil(doc, value) {
        n.value = Some("(nil)".to_string());
        n.note = Some(format!("{type_note}; nil: the attribute is cleared"));
        return n;
    }
    let text = text_of(doc, value);
    let mut notes: Vec<String> = vec![type_note];
    match ty_local {
        "string" => {
            n.value = Some(text.clone());
            if key == "lastPasswordChangeTimestamp"
                && let Some(t) = generalized_time(&text)
            {
                notes.push(t);
            }
            if key == "CloudAnchor"
                && let Some((ty, id)) = text.split_once('_')
            {
                notes.push(format!("{ty} object id {id}"));
            }
            if key == "SourceAnchor"
                && let Some(g) = source_anchor_guid(&text)
            {
                notes.push(format!("objectGUID {g}"));
            }
        }
        "boolean" => {
            n.value = Some(text.clone());
        }
        "long" | "int" | "short" | "unsignedInt" => {
            n.value = Some(text.clone());
            n.kind = Kind::Number;
        }
        "base64Binary" => {
            n.value = Some(text.clone());
            match util::b64_decode_any(&text, cx.limits.max_inflate) {
                Some(bytes) => {
                    notes.push(format!("{} bytes", bytes.len()));
                    if let Ok(arr) = <[u8; 16]>::try_from(bytes.as_slice()) {
                        let g = util::dotnet_guid(&arr);
                        notes.push(match key {
                            "SourceAnchor" => format!("objectGUID {g}"),
                            _ => format!("GUID {g}"),
                        });
                    } else if key == "onPremiseSecurityIdentifier"
                        && let Some(sid) = sid_string(&bytes)
                    {
                        notes.push(sid);
                    }
                }
                None => {
                    n.kind = Kind::Error;
                    notes.push("not valid base64".to_string());
                }
            }
        }
        "ArrayOfstring" | "ArrayOfbase64Binary" => {
            let items: Vec<NodeId> = doc.child_elements(value).collect();
            n.kind = Kind::Section;
            n.value = Some(format!("{} value(s)", items.len()));
            for (i, it) in items.iter().enumerate() {
                if *left == 0 {
                    n.push(Node::text(
                        "…",
                        format!("{} more not shown", items.len() - i),
                    ));
                    break;
                }
                *left = left.saturating_sub(1);
                let t = text_of(doc, *it);
                let mut item = Node::field(format!("[{i}]"), &t);
                if key == "member"
                    && let Some(g) = source_anchor_guid(&t)
                {
                    item.note = Some(format!("SourceAnchor of a member: objectGUID {g}"));
                }
                if ty_local == "ArrayOfbase64Binary" {
                    match util::b64_decode_any(&t, cx.limits.max_inflate) {
                        Some(der) => {
                            let mut note = format!("{} bytes", der.len());
                            if let Some(ci) = crate::xml::dsig::CertInfo::from_der(&der) {
                                let _ = write!(note, "; X.509 certificate {}", ci.subject);
                                item.push(Node::field("subject", &ci.subject));
                                item.push(Node::field("issuer", &ci.issuer).with_note(
                                    if ci.subject == ci.issuer {
                                        "self-signed"
                                    } else {
                                        "issuing CA"
                                    },
                                ));
                                item.push(Node::field("thumbprint", &ci.thumbprint));
                                item.push(Node::field("serial", &ci.serial));
                                item.push(Node::field("not before", &ci.not_before));
                                item.push(Node::field("not after", &ci.not_after));
                                item.push(Node::field("key", &ci.key));
                            }
                            item.note = Some(note);
                        }
                        None => {
                            item.kind = Kind::Error;
                            item.note = Some("not valid base64".to_string());
                        }
                    }
                }
                n.push(item);
            }
        }
        "SyncReferenceChangeCollection" => {
            n.kind = Kind::Section;
            let changes: Vec<NodeId> = doc
                .descendants(value)
                .filter(|d| doc.local_name(*d) == "SyncReferenceChange")
                .collect();
            n.value = Some(format!("{} reference change(s)", changes.len()));
            notes.push(
                "membership delta: each change adds or removes one reference (version 2 API)"
                    .to_string(),
            );
            for (i, ch) in changes.iter().enumerate() {
                if *left == 0 {
                    n.push(Node::text(
                        "…",
                        format!("{} more not shown", changes.len() - i),
                    ));
                    break;
                }
                *left = left.saturating_sub(1);
                n.push(reference_change(doc, *ch));
            }
        }
        _ => {
            let mut t = element_tree(doc, value, 200);
            t.label = key.to_string();
            n = t;
            notes.push("type not recognized; shown as XML".to_string());
        }
    }
    if let Some(a) = attribute_note(key) {
        notes.push(a.to_string());
    }
    n.note = Some(notes.join("; "));
    n
}

fn reference_change(doc: &Document<'_>, ch: NodeId) -> Node {
    let op = child_text(doc, ch, "operationInt").unwrap_or_default();
    let reference = child_local(doc, ch, "Reference");
    let anchor = reference
        .and_then(|r| child_text(doc, r, "Anchor"))
        .unwrap_or_default();
    let rtype = reference
        .and_then(|r| child_text(doc, r, "referenceTypeInt"))
        .unwrap_or_default();
    let op_word = match op.as_str() {
        "1" => "add",
        "2" => "delete",
        _ => "unknown operation",
    };
    let type_word = match rtype.as_str() {
        "1" => "cloud anchor",
        "2" => "source anchor",
        _ => "unknown reference type",
    };
    let mut n = Node::field(op_word, &anchor).with_note(format!("{type_word} reference"));
    n.push(Node::leaf("operationInt", &op, Kind::Number).with_note("1 = add, 2 = delete"));
    n.push(
        Node::leaf("referenceTypeInt", &rtype, Kind::Number)
            .with_note("1 = cloud (CloudAnchor), 2 = source (SourceAnchor)"),
    );
    let mut a = Node::field("Anchor", &anchor);
    if rtype == "2"
        && let Some(g) = source_anchor_guid(&anchor)
    {
        a.note = Some(format!("objectGUID {g}"));
    }
    n.push(a);
    n
}

/// One sync object: its type, operation, anchor and attributes. Returns the node and a short
/// description for the summary.
fn sync_object(
    doc: &Document<'_>,
    obj: NodeId,
    index: usize,
    cx: &Context<'_>,
    left: &mut usize,
    findings: &mut Vec<Finding>,
) -> (Node, String, Option<String>) {
    let ty = child_text(doc, obj, "SyncObjectType").unwrap_or_default();
    let op = child_text(doc, obj, "SyncOperation").unwrap_or_default();
    let mut props = Node::section("PropertyValues");
    let mut anchor = None;
    let kvs: Vec<NodeId> = child_local(doc, obj, "PropertyValues")
        .map(|p| children_local(doc, p, "KeyValueOfstringanyType").collect())
        .unwrap_or_default();
    for (i, kv) in kvs.iter().enumerate() {
        if *left == 0 {
            props.push(Node::text(
                "…",
                format!("{} more attribute(s) not shown", kvs.len() - i),
            ));
            break;
        }
        *left = left.saturating_sub(1);
        let key = child_text(doc, *kv, "Key").unwrap_or_default();
        let node = match child_local(doc, *kv, "Value") {
            Some(v) => typed_value(doc, &key, v, cx, left),
            None => Node::field(&key, "(no Value element)"),
        };
        if key == "SourceAnchor" {
            anchor = node.value.clone();
        }
        props.push(node);
    }
    let guid = anchor.as_deref().and_then(source_anchor_guid);
    if ty == "Device" {
        check_device_certificate(&mut props, index, findings);
    }
    let mut label = format!("[{index}] {ty} {op}");
    label = label.trim_end().to_string();
    let mut n = Node::section(label);
    if let Some(a) = &anchor {
        n.value = Some(a.clone());
        n.note = Some(match &guid {
            Some(g) => format!("SourceAnchor = objectGUID {g}"),
            None => "SourceAnchor".to_string(),
        });
    }
    n.push(Node::field("SyncObjectType", &ty).with_note(sync_object_type_note(&ty)));
    n.push(Node::field("SyncOperation", &op).with_note(sync_operation_note(&op)));
    n.push(props);
    for extra in doc.child_elements(obj) {
        if !matches!(
            doc.local_name(extra),
            "SyncObjectType" | "SyncOperation" | "PropertyValues"
        ) {
            n.push(element_tree(doc, extra, 100));
        }
    }
    let mut brief = format!("{ty} {op}").trim().to_string();
    if let (Some(a), Some(g)) = (&anchor, &guid) {
        let _ = write!(brief, " {} = {}", short_anchor(a), short_guid(g));
    }
    (n, brief, anchor)
}

/// A hybrid-joined device's certificate carries its device id as the subject CN; says whether
/// the certificates sent match the `deviceId` attribute.
fn check_device_certificate(props: &mut Node, index: usize, findings: &mut Vec<Finding>) {
    let device_id = props
        .child("deviceId")
        .and_then(|d| d.value.as_deref())
        .and_then(source_anchor_guid);
    let Some(device_id) = device_id else {
        return;
    };
    for cert_list in props
        .children
        .iter_mut()
        .filter(|c| c.label == "userCertificate")
    {
        for item in &mut cert_list.children {
            let Some(cn) = item
                .child("subject")
                .and_then(|s| s.value.as_deref())
                .and_then(|s| s.strip_prefix("CN="))
                .map(|s| s.to_ascii_lowercase())
            else {
                continue;
            };
            let verdict = if cn == device_id {
                "subject CN equals this device's deviceId, as hybrid join writes it".to_string()
            } else {
                findings.push(
                    Finding::warning(format!(
                        "device object [{index}]: certificate subject CN={cn} is not the \
                         device's deviceId {device_id}"
                    ))
                    .at(format!("sync API/request/SyncObjects/[{index}]")),
                );
                format!("subject CN differs from this device's deviceId {device_id}")
            };
            item.note = Some(match item.note.take() {
                Some(n) => format!("{n}; {verdict}"),
                None => verdict,
            });
        }
    }
}

fn objects_section(
    doc: &Document<'_>,
    label: &str,
    objs: &[NodeId],
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (Node, Vec<String>) {
    let mut left = cx.limits.max_nodes.min(100_000);
    let mut n = Node::section(label);
    n.value = Some(format!("{} object(s)", objs.len()));
    let mut briefs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        if left == 0 {
            n.push(Node::text(
                "…",
                format!("{} more object(s) not shown", objs.len() - i),
            ));
            break;
        }
        let (node, brief, _) = sync_object(doc, *o, i, cx, &mut left, findings);
        n.push(node);
        briefs.push(brief);
    }
    (n, briefs)
}

fn brief_list(briefs: &[String], noun: &str) -> String {
    let noun = if briefs.len() == 1 {
        noun.trim_end_matches('s')
    } else {
        noun
    };
    let mut s = format!("{} {noun}", briefs.len());
    if !briefs.is_empty() {
        let shown: Vec<String> = briefs
            .iter()
            .enumerate()
            .take(5)
            .map(|(i, b)| {
                if i == 0 {
                    b.clone()
                } else {
                    // Only the first object carries its anchor, to keep the line short.
                    b.split(' ').take(2).collect::<Vec<_>>().join(" ")
                }
            })
            .collect();
        let more = briefs.len().saturating_sub(5);
        let _ = write!(
            s,
            " ({}{})",
            shown.join(", "),
            if more > 0 {
                format!(", +{more} more")
            } else {
                String::new()
            }
        );
    }
    s
}

fn annotate_known(n: &mut Node, f: &dyn Fn(&str, &str) -> Option<String>) {
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

fn fixture_mark(doc: &Document<'_>, id: NodeId, n: &mut Node) {
    if doc.namespace(id).starts_with(FIXTURE_NS_PREFIX) {
        n.note = Some(format!(
            "[fixture-defined] not real Microsoft wire format (namespace {}); {}",
            doc.namespace(id),
            n.note.take().unwrap_or_default()
        ));
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

#[allow(clippy::too_many_lines)]
fn sync_body(
    doc: &Document<'_>,
    payload: NodeId,
    cl: &Classified,
    cx: &Context<'_>,
    facts: &mut Facts,
) -> Node {
    let op = cl.operation.as_str();
    let budget = cx.limits.max_nodes.min(envelope::DEFAULT_TREE_NODES);
    let label = if cl.is_response {
        "response"
    } else {
        "request"
    };
    let mut n = Node::section(label);
    n.value = Some(doc.local_name(payload).to_string());
    n.note = Some(format!(
        "body element, namespace {}",
        doc.namespace(payload)
    ));
    let base = op.trim_end_matches('2');
    match (base, cl.is_response) {
        ("GetCompanyConfiguration", false) => {
            let v = param_bool(doc, payload, "includeLicenseInformation");
            if let Some(v) = &v {
                n.push(
                    Node::field("includeLicenseInformation", v)
                        .with_note("true also returns the tenant's license information"),
                );
                facts.details = Some(format!("includeLicenseInformation={v}"));
            }
        }
        ("GetCompanyConfiguration", true) => {
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
        }
        ("ReadBackAzureADSyncObjects", false) => {
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
            let full = param_bool(doc, payload, "isFullSync")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            facts.details = Some(match (nil, full) {
                (true, true) => "full sync (inputCookie nil, isFullSync true)".to_string(),
                (true, false) => "inputCookie nil (no watermark)".to_string(),
                (false, true) => "full sync with a cookie".to_string(),
                (false, false) => "delta from watermark".to_string(),
            });
        }
        ("ReadBackAzureADSyncObjects", true) => {
            let r = result_of(doc, payload, op);
            let mut briefs = Vec::new();
            for c in doc.child_elements(r) {
                if doc.local_name(c) == "ResultObjects" {
                    let objs: Vec<NodeId> = children_local(doc, c, "AzureADSyncObject").collect();
                    let (s, b) =
                        objects_section(doc, "ResultObjects", &objs, cx, &mut facts.findings);
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
        }
        ("ProvisionAzureADSyncObjects", false) => {
            let objs: Vec<NodeId> = doc
                .descendants(payload)
                .filter(|d| doc.local_name(*d) == "AzureADSyncObject")
                .collect();
            let (s, briefs) = objects_section(doc, "SyncObjects", &objs, cx, &mut facts.findings);
            n.push(s);
            facts.details = Some(brief_list(&briefs, "objects"));
        }
        ("ProvisionAzureADSyncObjects", true) => {
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
        }
        ("FinalizeExport", false) => {
            let total = child_text(doc, payload, "totalExported").unwrap_or_default();
            let good = child_text(doc, payload, "successfulExportCount").unwrap_or_default();
            n.push(
                Node::leaf("totalExported", &total, Kind::Number)
                    .with_note("objects exported in this run"),
            );
            n.push(
                Node::leaf("successfulExportCount", &good, Kind::Number)
                    .with_note("of which succeeded"),
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
        ("SetCompanyDirsyncFeatures", false) => {
            let v = child_text(doc, payload, "dirsyncFeatures").unwrap_or_default();
            let mut f = Node::leaf("dirsyncFeatures", &v, Kind::Number);
            f.note = bitmask_note(&v);
            n.push(f);
            facts.details = Some(format!("dirsyncFeatures {v}"));
        }
        ("ProvisionCredentials", false) => {
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
        ("ProvisionCredentials", true) => {
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
        }
        ("GetServiceAccount", true) => {
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
        ("Capabilities", true) => {
            let r = result_of(doc, payload, op);
            let embedded = doc.text_content(r);
            n.push(capabilities_node(embedded.trim(), cx, facts));
        }
        ("UpdateDirSyncConfiguration", _) => {
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
        _ => {
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
    }
    n
}

fn credential_item(doc: &Document<'_>, it: NodeId, i: usize, cx: &Context<'_>) -> (Node, String) {
    let mut n = Node::section(format!("[{i}]"));
    let mut brief = String::new();
    let mut algo = String::new();
    for c in doc.child_elements(it) {
        let local = doc.local_name(c);
        let v = text_of(doc, c);
        let nil = is_nil(doc, c);
        let node = match local {
            _ if nil => Node::field(local, "(nil)"),
            "ChangeDate" => envelope::datetime_node(local, &v, cx.now)
                .with_note("when the password changed on-premises"),
            "CloudAnchor" => Node::field(local, &v).with_note("the user's id in Azure AD"),
            "SourceAnchor" => {
                let mut f = Node::field(local, &v);
                if let Some(g) = source_anchor_guid(&v) {
                    f.note = Some(format!("objectGUID {g}"));
                    let _ = write!(brief, "{} = {}", short_anchor(&v), short_guid(&g));
                }
                f
            }
            "ForcePasswordChangeOnLogon" => Node::field(local, &v)
                .with_note("true: the user must change the password at next cloud sign-in"),
            "CredentialData" => {
                let mut f = Node::secret(local, &v);
                match parse_credential_data(&v) {
                    Some(cd) => {
                        f.note = Some(format!(
                            "password hash material ({} entries, format {})",
                            cd.entries.len(),
                            cd.version
                        ));
                        for e in &cd.entries {
                            let mut en = Node::field("algorithm", &e.algorithm);
                            if e.algorithm == "PPH1_MD4" {
                                en.note = Some(
                                    "PBKDF2-HMAC-SHA256 over the UTF-16LE uppercase hex of the MD4 \
                                     (NT) hash of the password"
                                        .to_string(),
                                );
                            }
                            en.push(Node::secret("salt", &e.salt).with_note(format!(
                                "{} hex digits ({} bytes; 10 expected)",
                                e.salt.len(),
                                e.salt.len() / 2
                            )));
                            if let Some(it) = e.iterations {
                                en.push(
                                    Node::leaf("iterations", it.to_string(), Kind::Number)
                                        .with_note("PBKDF2 iterations (1000 expected)"),
                                );
                            }
                            if algo.is_empty() {
                                algo = match e.iterations {
                                    Some(it) => format!("{}, {it} iterations", e.algorithm),
                                    None => e.algorithm.clone(),
                                };
                            }
                            en.push(Node::secret("hash", &e.hash).with_note(format!(
                                "{} hex digits ({} bytes; 32 expected)",
                                e.hash.len(),
                                e.hash.len() / 2
                            )));
                            f.push(en);
                        }
                    }
                    None => {
                        f.note = Some("credential data in an unrecognized format".to_string());
                    }
                }
                f
            }
            "WindowsLegacyCredentials" | "WindowsSupplementalCredentials" => Node::secret(
                local, &v,
            )
            .with_note("Windows credential material (for Azure AD Domain Services): a secret"),
            _ => element_tree(doc, c, 50),
        };
        n.push(node);
    }
    let brief = match (algo.is_empty(), brief.is_empty()) {
        (false, false) => format!("{algo} for {brief}"),
        (false, true) => algo,
        (true, _) => brief,
    };
    (n, brief)
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

/// Looks for the sync API's fault markers anywhere in the body: the redirect and
/// `ErrorDescription` elements.
fn sync_fault_nodes(doc: &Document<'_>, env: &Envelope, facts: &mut Facts) -> Vec<Node> {
    let mut out = Vec::new();
    let Some(body) = env.body else {
        return out;
    };
    if let Some(r) = doc
        .descendants(body)
        .find(|d| doc.local_name(*d) == "BindingRedirectionFault")
    {
        let url = child_text(doc, r, "Url").unwrap_or_default();
        let host = util::url_host(&url).unwrap_or_else(|| "(no host)".to_string());
        let mut n = Node::section("BindingRedirectionFault").with_note(
            "redirect: this tenant is served by another server; resend the same request \
             (same path) there (AADInternals retries up to 3 times)",
        );
        n.push(Node::field("Url", &url).with_note(format!("new host: {host}")));
        for c in doc.child_elements(r) {
            if doc.local_name(c) != "Url" {
                n.push(element_tree(doc, c, 50));
            }
        }
        facts.findings.push(
            Finding::info(format!(
                "the service redirects this tenant to {host}; the client must resend there"
            ))
            .at("sync API/BindingRedirectionFault"),
        );
        facts.fault = Some(format!("BindingRedirectionFault → {host}"));
        out.push(n);
    }
    let errors: Vec<NodeId> = doc
        .descendants(body)
        .filter(|d| doc.local_name(*d) == "ErrorDescription")
        .take(16)
        .collect();
    for e in errors {
        let text = text_of(doc, e);
        let mut n = Node::field("ErrorDescription", &text).with_note(format!(
            "application error from the service, at {}",
            doc.path(e)
        ));
        if let Some(parent) = doc.parent(e) {
            for sib in doc.child_elements(parent) {
                if sib != e {
                    let t = element_tree(doc, sib, 20);
                    n.push(t);
                }
            }
        }
        facts.findings.push(
            Finding::error(format!("sync API error: {text}")).at("sync API/ErrorDescription"),
        );
        if facts.fault.is_none() {
            facts.fault = Some(format!(
                "ErrorDescription \"{}\"",
                util::ellipsize(&text, 100)
            ));
        }
        out.push(n);
    }
    out
}

/// The root section of one API's view: `OPERATION request|response`, with what the API is.
fn api_root(title: &str, cl: &Classified, about: &str) -> Node {
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

fn sync_view(
    msg: &Message<'_>,
    doc: &Document<'_>,
    env: &Envelope,
    sx: &SoapXml,
    cl: &Classified,
    cx: &Context<'_>,
) -> Decoded {
    let mut facts = Facts::default();
    let mut root = api_root(
        "sync API",
        cl,
        "AAD Connect provisioning (Azure AD Sync) SOAP API, adminwebservice…/provisioningservice.svc",
    );
    let mut opn = Node::field("operation", &cl.operation);
    match sync_operation(&cl.operation) {
        Some(info) => {
            opn.note = Some(info.purpose.to_string());
            opn.push(Node::text("parameters", info.parameters));
            opn.push(Node::text("result", info.result));
        }
        None if env.fault.is_some() => {
            opn.note = Some("a fault answers the request; the operation is not named".to_string());
        }
        None => {
            opn.note = Some("not an operation listed in the public sources".to_string());
            facts.findings.push(
                Finding::info(format!("unrecognized sync API operation {}", cl.operation))
                    .at("sync API/operation"),
            );
        }
    }
    root.push(opn);
    root.push(Node::field("identified by", cl.evidence.join(", ")));
    root.push(transport_node(msg, sx, &mut facts));
    if !env.addressing.is_empty() {
        root.push(envelope::addressing_node(&env.addressing));
    }
    if let (Some(h), Some(a)) = (
        msg.header("x-ms-aadmsods-apiaction"),
        env.addressing.action.as_deref(),
    ) && let Some(op) = a.strip_prefix(SYNC_ACTION_PREFIX)
        && !op.eq_ignore_ascii_case(h)
    {
        facts.findings.push(Finding::warning(format!(
            "x-ms-aadmsods-apiaction says {h} but the SOAP Action says {op}"
        )));
    }
    for hb in &env.headers {
        let jwt_child = doc
            .child_elements(hb.node)
            .find(|c| jwt::looks_like_jwt(doc.text_content(*c).trim().as_bytes()));
        if doc.local_name(hb.node) == "SyncToken" {
            root.push(sync_token_node(doc, hb.node, cx, &mut facts));
        } else if let Some(tok) =
            jwt_child.filter(|_| doc.local_name(hb.node).starts_with("dict_0x"))
        {
            let mut t = element_tree(doc, hb.node, 200);
            t.note = Some(
                "header whose name is an unresolved session string; by its shape (a child \
                 holding a JWT) most likely the SyncToken"
                    .to_string(),
            );
            let label = doc.qname(tok).to_string();
            let path = format!("sync API/{}/{label}", t.label);
            let mut b = bearer_node(&doc.text_content(tok), Api::Sync, &path, cx, &mut facts);
            b.label = format!("{label} (BearerToken?)");
            if let Some(c) = t.children.iter_mut().find(|c| c.label == label) {
                *c = b;
            }
            root.push(t);
        } else {
            let mut t = element_tree(doc, hb.node, 200);
            t.note = Some(format!(
                "header block, namespace {}",
                doc.namespace(hb.node)
            ));
            root.push(t);
        }
    }
    if let Some(sec) = &env.security {
        root.push(envelope::security_node(
            doc,
            sec,
            cx,
            "sync API",
            &mut facts.findings,
        ));
    }
    if let (Some(h), Some(tid)) = (
        msg.header("x-ms-aadmsods-tenantid"),
        facts.token_tid.as_deref(),
    ) && !h.eq_ignore_ascii_case(tid)
    {
        facts.findings.push(Finding::warning(format!(
            "x-ms-aadmsods-tenantid {h} differs from the bearer token's tid {tid}"
        )));
    }
    if let Some(p) = env.payload {
        root.push(sync_body(doc, p, cl, cx, &mut facts));
    }
    let markers = sync_fault_nodes(doc, env, &mut facts);
    let redirect = facts
        .fault
        .as_deref()
        .is_some_and(|f| f.starts_with("BindingRedirection"));
    if let Some(f) = &env.fault {
        let mut fnode = envelope::fault_node(doc, f, env.version);
        if redirect && let Some(code) = fnode.children.iter_mut().find(|c| c.label == "Code") {
            code.note = Some(
                "here a redirect, not an error: resend the same request to the host the \
                 BindingRedirectionFault names"
                    .to_string(),
            );
        }
        fnode.children.extend(markers);
        root.push(fnode);
        if !redirect {
            facts
                .findings
                .push(envelope::fault_finding(f).at("sync API/Fault"));
        }
        if facts.fault.is_none() {
            facts.fault = Some(envelope::fault_brief(f));
        }
    } else {
        root.children.extend(markers);
    }
    if env.body.is_none() {
        facts
            .findings
            .push(Finding::error("SOAP envelope without a Body"));
    }
    if let Some(f) = envelope::placeholder_finding(sx) {
        facts.findings.push(f);
    }
    let summary = match &facts.fault {
        Some(f) => format!("sync API fault: {f}"),
        None => {
            let mut s = format!("sync API {}", cl.operation);
            if cl.is_response {
                s.push_str("Response");
            }
            match &facts.details {
                Some(d) if !d.is_empty() => {
                    let _ = write!(s, ": {d}");
                }
                _ => {}
            }
            if let Some(b) = &facts.token_brief {
                let _ = write!(s, "; BearerToken {b}");
            }
            s
        }
    };
    let mut d = Decoded::new("provisioning", summary, root);
    d.findings = facts.findings;
    d
}

fn msonline_note(local: &str, _value: &str) -> Option<String> {
    Some(match local {
        "BecVersion" => "contract version of the MSOnline web service".to_string(),
        "DomainName" => "the domain whose settings change".to_string(),
        "Authentication" => "Managed (cloud passwords) or Federated (an IdP signs users in)".into(),
        "FederationSettings" => "the federation trust Azure AD will honour for the domain".into(),
        "ActiveLogonUri" => "WS-Trust endpoint used by rich clients (usernamemixed)".into(),
        "IssuerUri" => "the issuer tokens must carry for this domain".into(),
        "LogOffUri" => "where sign-out is sent".into(),
        "MetadataExchangeUri" => "the IdP's MEX endpoint".into(),
        "PassiveLogOnUri" => "where browsers are sent to sign in".into(),
        "PreferredAuthenticationProtocol" => "WsFed or Samlp".into(),
        "SigningCertificate" => "the certificate whose key signs tokens Azure AD will trust".into(),
        "NextSigningCertificate" => "the certificate for the next key rollover".into(),
        "FederationBrandName" => "the name shown on the sign-in page".into(),
        "SupportsMfa" => "whether the IdP performs MFA itself".into(),
        _ => return None,
    })
}

fn msonline_view(
    msg: &Message<'_>,
    doc: &Document<'_>,
    env: &Envelope,
    sx: &SoapXml,
    cl: &Classified,
    cx: &Context<'_>,
) -> Decoded {
    let mut facts = Facts::default();
    let mut root = api_root(
        "MSOnline provisioning API",
        cl,
        "the MSOnline PowerShell admin web service (provisioningapi…/provisioningwebservice.svc, \
         text SOAP): NOT the AAD Connect sync API, although both are called \
         IProvisioningWebService",
    );
    root.push(Node::field("operation", &cl.operation));
    root.push(Node::field("identified by", cl.evidence.join(", ")));
    root.push(
        Node::field(
            "content-type",
            msg.content_type()
                .unwrap_or(std::borrow::Cow::Borrowed("(none)")),
        )
        .with_note(sx.encoding.describe()),
    );
    if !env.addressing.is_empty() {
        root.push(envelope::addressing_node(&env.addressing));
    }
    for hb in &env.headers {
        let local = doc.local_name(hb.node);
        if local == "UserIdentityHeader" {
            let mut h = Node::section(local).with_note("the caller's identity: the access token");
            for c in doc.child_elements(hb.node) {
                let cl_ = doc.local_name(c);
                if cl_ == "BearerToken" {
                    h.push(bearer_node(
                        &doc.text_content(c),
                        Api::MsOnline,
                        "MSOnline provisioning API/UserIdentityHeader/BearerToken",
                        cx,
                        &mut facts,
                    ));
                } else {
                    h.push(element_tree(doc, c, 50));
                }
            }
            root.push(h);
        } else {
            let mut t = element_tree(doc, hb.node, 200);
            t.note = Some(match local {
                "ClientVersionHeader" => "client id and version of the MSOnline module".into(),
                "ContractVersionHeader" => "the service contract version (BecVersion)".into(),
                "TrackingHeader" => "correlation id".into(),
                _ => format!("header block, namespace {}", doc.namespace(hb.node)),
            });
            root.push(t);
        }
    }
    if let Some(p) = env.payload {
        let mut t = element_tree(
            doc,
            p,
            cx.limits.max_nodes.min(envelope::DEFAULT_TREE_NODES),
        );
        t.label = if cl.is_response {
            "response"
        } else {
            "request"
        }
        .to_string();
        t.value = Some(doc.local_name(p).to_string());
        t.kind = Kind::Section;
        annotate_known(&mut t, &msonline_note);
        // Decode the signing certificates the federation settings carry.
        decorate_certs(&mut t);
        root.push(t);
        let first_text = |local: &str| {
            doc.descendants(p)
                .find(|d| doc.local_name(*d) == local)
                .map(|d| text_of(doc, d))
        };
        let domain = first_text("DomainName");
        let passive = first_text("PassiveLogOnUri");
        let issuer = first_text("IssuerUri");
        if matches!(
            cl.operation.as_str(),
            "SetDomainFederationSettings" | "SetDomainAuthentication"
        ) && !cl.is_response
        {
            facts.findings.push(
                Finding::new(
                    Severity::Warning,
                    format!(
                        "changes the federation trust of domain {}: Azure AD will accept tokens \
                         from issuer {} signed by the given certificate (a rogue federation \
                         setting is a known persistence technique)",
                        domain.as_deref().unwrap_or("?"),
                        issuer.as_deref().unwrap_or("?")
                    ),
                )
                .at("MSOnline provisioning API/request"),
            );
        }
        let mut parts = Vec::new();
        if let Some(d) = domain {
            parts.push(d);
        }
        if let Some(pu) = passive {
            parts.push(format!("sign-in at {pu}"));
        }
        facts.details = Some(parts.join(", "));
    }
    if let Some(f) = &env.fault {
        root.push(envelope::fault_node(doc, f, env.version));
        facts
            .findings
            .push(envelope::fault_finding(f).at("MSOnline provisioning API/Fault"));
        facts.fault = Some(envelope::fault_brief(f));
    }
    let mut summary = match &facts.fault {
        Some(f) => format!("MSOnline provisioning API fault: {f}"),
        None => {
            let mut s = format!("MSOnline provisioning API {}", cl.operation);
            if cl.is_response {
                s.push_str("Response");
            }
            if let Some(d) = facts.details.as_deref().filter(|d| !d.is_empty()) {
                let _ = write!(s, ": {d}");
            }
            s
        }
    };
    if let Some(b) = &facts.token_brief {
        let _ = write!(summary, "; BearerToken {b}");
    }
    summary.push_str(" (not the sync API)");
    let mut d = Decoded::new("provisioning", summary, root);
    d.findings = facts.findings;
    d
}

fn decorate_certs(n: &mut Node) {
    let local = n.label.rsplit(':').next().unwrap_or(&n.label);
    if local.ends_with("SigningCertificate")
        && let Some(v) = n.value.clone()
        && v != "(nil)"
        && let Some(der) = util::b64_decode_any(&v, 1 << 20)
        && let Some(ci) = crate::xml::dsig::CertInfo::from_der(&der)
    {
        n.push(Node::field("subject", &ci.subject));
        n.push(Node::field("issuer", &ci.issuer));
        n.push(Node::field("thumbprint", &ci.thumbprint).with_note("SHA-1, as Entra ID shows it"));
        n.push(Node::field(
            "validity",
            format!("{} … {}", ci.not_before, ci.not_after),
        ));
        n.push(Node::field("key", &ci.key));
    }
    for c in &mut n.children {
        decorate_certs(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trust;
    use crate::soap::nbfx::{Style, encode};
    use std::time::{Duration, UNIX_EPOCH};

    fn cx(trust: &Trust) -> Context<'_> {
        Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
    }

    const PROVISION: &str =
        include_str!("../../tests/fixtures/provisioning/provision_objects_request.xml");

    fn decode_bytes(body: &[u8], trust: &Trust) -> Decoded {
        let msg = Message::request(
            "POST",
            "https://adminwebservice.microsoftonline.com/provisioningservice.svc",
            vec![("content-type", "application/soap+msbin1")],
            body,
        );
        assert!(Provisioning.priority(&msg) > 0.95);
        Provisioning.decode(&msg, &cx(trust)).unwrap()
    }

    #[test]
    fn xml_document_and_data_contract_styles_give_the_same_view() {
        let xml = PROVISION.replace("{{BEARER_TOKEN}}", "not.a.jwt");
        let a = encode(&xml, Style::XmlDocument).unwrap();
        let b = encode(&xml, Style::DataContract).unwrap();
        assert_ne!(a, b, "the two styles must differ on the wire");
        let trust = Trust::default();
        assert_eq!(decode_bytes(&a, &trust), decode_bytes(&b, &trust));
    }

    #[test]
    fn source_anchor_shows_its_object_guid() {
        assert_eq!(
            source_anchor_guid("lHh/rEL830q6/mStDnD4uw==").as_deref(),
            Some("ac7f7894-fc42-4adf-bafe-64ad0e70f8bb")
        );
        assert!(source_anchor_guid("c2hvcnQ=").is_none());
    }

    #[test]
    fn credential_data_is_split_into_its_parts() {
        let cd = parse_credential_data(
            "v1;PPH1_MD4,0123456789abcdef0123,1000,00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff;",
        )
        .unwrap();
        assert_eq!(cd.version, "v1");
        assert_eq!(cd.entries.len(), 1);
        assert_eq!(cd.entries[0].iterations, Some(1000));
        assert_eq!(cd.entries[0].salt.len(), 20);
        assert!(parse_credential_data("garbage").is_none());
    }

    #[test]
    fn sids_render_in_sddl_form() {
        let mut b = vec![1u8, 2, 0, 0, 0, 0, 0, 5];
        b.extend_from_slice(&32u32.to_le_bytes());
        b.extend_from_slice(&544u32.to_le_bytes());
        assert_eq!(sid_string(&b).as_deref(), Some("S-1-5-32-544"));
        assert!(sid_string(&b[..10]).is_none());
    }

    #[test]
    fn durations_and_generalized_times_read_as_words() {
        assert_eq!(duration_words("PT30M").as_deref(), Some("30 minutes"));
        assert_eq!(
            duration_words("PT1H30M").as_deref(),
            Some("1 hour 30 minutes")
        );
        assert_eq!(
            generalized_time("20190801164342.0Z").as_deref(),
            Some("2019-08-01T16:43:42Z")
        );
    }

    #[test]
    fn plain_soap_is_not_claimed() {
        let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><Ping xmlns="urn:x"/></s:Body></s:Envelope>"#;
        let msg = Message::request(
            "POST",
            "https://example.test/svc",
            vec![("content-type", "application/soap+xml")],
            xml.as_bytes(),
        );
        assert_eq!(Provisioning.priority(&msg), 0.0);
        let trust = Trust::default();
        assert!(Provisioning.decode(&msg, &cx(&trust)).is_err());
    }

    #[test]
    fn every_operation_of_the_table_is_explained() {
        for op in [
            "GetCompanyConfiguration",
            "ReadBackAzureADSyncObjects",
            "ReadBackAzureADSyncObjects2",
            "UpdateDirSyncConfiguration",
            "ProvisionAzureADSyncObjects",
            "ProvisionAzureADSyncObjects2",
            "FinalizeExport",
            "SetCompanyDirsyncFeatures",
            "ProvisionCredentials",
            "GetServiceAccount",
            "GetKerberosDomainSyncConfig",
            "GetKerberosDomain",
            "GetMonitoringTenantCertificate",
            "GetWindowsCredentialsSyncConfig",
            "GetDeviceConfiguration",
            "Capabilities",
        ] {
            assert!(sync_operation(op).is_some(), "{op}");
        }
    }
}
