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
//!
//! The parts, lowest first: `base` (namespaces, the API, the facts the summary collects),
//! `classify` (which API and operation a message is), `objects` (sync objects and typed values),
//! `credentials` (password-hash material), `bearer` (`SyncToken` and `BearerToken`),
//! `operations` (the table of operations, one explain function each) and `msonline` (the
//! MSOnline API's view). This file holds the decoder and builds the sync API's view around the
//! operation's body.

mod base;
mod bearer;
mod classify;
mod credentials;
mod msonline;
mod objects;
mod operations;

use std::fmt::Write as _;

use crate::jwt;
use crate::soap::envelope::{self, Envelope, SoapXml, child_text, element_tree, text_of};
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId};
use crate::{Context, DecodeError, Decoded, Message, util};
use base::{Facts, Parsed, api_root};
use bearer::{bearer_node, sync_token_node};
use msonline::msonline_view;
use operations::{Body, sync_body};

pub use base::{
    ARRAYS_NS, Api, Classified, FIXTURE_NS_PREFIX, MSONLINE_ACTION_PREFIX, MSONLINE_NS,
    SYNC_ACTION_PREFIX, SYNC_NS, SYNC_OBJECTS_NS, SYNC_TOKEN_NS,
};
pub use bearer::sync_application;
pub use classify::classify;
pub use credentials::{CredentialData, CredentialEntry, parse_credential_data};
pub use objects::{sid_string, source_anchor_guid};
pub use operations::{OperationInfo, SYNC_OPERATIONS, sync_operation};

decoder! {
    /// The `provisioning` decoder: AAD Connect sync API messages (msbin1, text or binary) and the
    /// MSOnline provisioning API (text SOAP), explained operation by operation.
    pub struct Provisioning: "provisioning";
}

/// Bytes at the start of a body searched for markers in [`Provisioning::priority`].
const SNIFF_BYTES: usize = 32 << 10;

fn priority(msg: &Message<'_>) -> f32 {
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

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let sx = envelope::message_xml(msg, cx)?;
    let doc = Document::parse(&sx.xml, &cx.limits)?;
    let env = envelope::parse_envelope(&doc)?;
    let cl = classify(msg, &doc, &env).ok_or_else(|| {
        DecodeError::not(
            "a provisioning API message",
            "no sync API or MSOnline action, header, namespace or fault marker",
        )
    })?;
    let parsed = Parsed {
        msg,
        doc: &doc,
        env: &env,
        sx: &sx,
        cl: &cl,
        cx,
    };
    Ok(match cl.api {
        Api::Sync => sync_view(&parsed),
        Api::MsOnline => msonline_view(&parsed),
    })
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

fn sync_view(p: &Parsed<'_, '_, '_>) -> Decoded {
    let (msg, doc, env, sx, cl, cx) = (p.msg, p.doc, p.env, p.sx, p.cl, p.cx);
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
        let body = Body {
            doc,
            payload: p,
            op: &cl.operation,
            is_response: cl.is_response,
            cx,
        };
        root.push(sync_body(&body, &mut facts));
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

#[cfg(test)]
mod tests {
    use super::objects::generalized_time;
    use super::operations::duration_words;
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use crate::soap::nbfx::{Style, encode};
    use std::time::{Duration, UNIX_EPOCH};

    fn cx(trust: &Trust) -> Context<'_> {
        Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
    }

    const PROVISION: &str =
        include_str!("../../../tests/fixtures/provisioning/provision_objects_request.xml");

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

    /// Values a shareable copy made by `idscope redact` replaced (the BearerToken's signature, a
    /// base64Binary property, a certificate in an array) read as redacted, not as bad base64.
    #[test]
    fn redacted_values_read_as_redacted_not_as_bad_base64() {
        use crate::secrets::{REDACTED_NOTE, placeholder, redacted_jws_signature};
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","kid":"k"}"#),
            b64(r#"{"aud":"https://graph.windows.net"}"#),
            redacted_jws_signature("0123456789a")
        );
        let marker = placeholder("secret", 28, "0123abcd");
        let mut xml = PROVISION
            .replace("{{BEARER_TOKEN}}", &token)
            .replace("AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==", &marker);
        // The first certificate of an ArrayOfbase64Binary.
        let open = "<c:base64Binary>";
        let start = xml.find(open).unwrap() + open.len();
        let end = start + xml[start..].find("</c:base64Binary>").unwrap();
        xml.replace_range(start..end, &marker);
        let d = decode_bytes(
            &encode(&xml, Style::DataContract).unwrap(),
            &Trust::default(),
        );
        assert!(
            d.findings
                .iter()
                .all(|f| f.severity < crate::Severity::Warning),
            "{:?}",
            d.findings
        );
        assert!(d.summary.contains("signature redacted"), "{}", d.summary);
        let mut redacted = 0;
        d.root.walk(&mut |p, n| {
            assert_ne!(n.kind, Kind::Error, "{p}: {:?}", n.value);
            if n.value.as_deref() == Some(marker.as_str()) {
                assert!(
                    n.note.as_deref().unwrap_or("").starts_with(REDACTED_NOTE),
                    "{p}"
                );
                redacted += 1;
            }
        });
        assert!(redacted >= 2, "{redacted}");
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
