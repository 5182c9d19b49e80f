//! Sync objects (`AzureADSyncObject`): type, operation, SourceAnchor (with the objectGUID it
//! encodes), the typed attribute values (`KeyValueOfstringanyType`: strings, numbers, base64
//! GUIDs and SIDs, certificates, reference-change deltas), the device-certificate check, and the
//! lists of objects a request or response carries.

use std::fmt::Write as _;

use crate::soap::envelope::{
    self, child_local, child_text, children_local, element_tree, is_nil, text_of,
};
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, util};

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

/// `20190801164342.0Z` (LDAP generalized time) as `2019-08-01T16:43:42Z`.
pub(super) fn generalized_time(s: &str) -> Option<String> {
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

/// A SourceAnchor cut after its first six characters (`lHh/rE…`).
pub(super) fn short_anchor(a: &str) -> String {
    crate::util::short_chars(a, 6)
}

pub(super) use crate::util::short_guid;

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

/// The typed value of one `KeyValueOfstringanyType/Value`, rendered for the attribute `key`.
pub(super) fn typed_value(
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
        "base64Binary" if crate::secrets::is_redacted(&text) => {
            n.value = Some(text.clone());
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
                if ty_local == "ArrayOfbase64Binary" && !crate::secrets::is_redacted(&t) {
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

pub(super) fn reference_change(doc: &Document<'_>, ch: NodeId) -> Node {
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
pub(super) fn sync_object(
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
pub(super) fn check_device_certificate(
    props: &mut Node,
    index: usize,
    findings: &mut Vec<Finding>,
) {
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

pub(super) fn objects_section(
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

pub(super) fn brief_list(briefs: &[String], noun: &str) -> String {
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
