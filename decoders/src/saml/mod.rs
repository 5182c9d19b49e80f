//! Federation formats: SAML 1.1 and 2.0 assertions and protocol messages ([`saml11`], [`saml2`]),
//! the WS-Federation passive profile ([`wsfed`]), WS-Trust active requests and responses
//! ([`wstrust`]), and federation metadata / MEX ([`metadata`]).
//!
//! This module holds what those share: the dispatcher that explains any federation XML document
//! by its document element ([`explain_xml`]), the signature integration (every `ds:Signature` is
//! checked with [`crate::xml::dsig::verify_with_limits`] against [`crate::Trust::certs`], the
//! report shown and its verdict turned into a finding; [`crate::xml::dsig::wrapping_findings`] runs
//! for the assertion whose claims are shown), claim-name explanations, SAML instants judged
//! against [`Context::now`]. Encrypted SAML content is opened first with the user's keys
//! ([`saml2::with_decrypted`]): the explainers read the decrypted document, and its signatures are
//! verified where they were made. The HTML auto-POST page is read with [`crate::html`], whose form
//! scanner and entity decoder are re-exported here for callers outside the crate.
//!
//! It is not responsible for XML parsing, canonicalization, signature cryptography or XML
//! Encryption (all in [`crate::xml`]), or for generic SOAP envelopes (the WS-Trust decoder reads
//! its envelope directly). Nothing here touches the network or the clock.

pub mod desktopsso;
pub mod metadata;
pub mod saml11;
pub mod saml2;
pub mod wia;
pub mod wsfed;
pub mod wstrust;

pub use desktopsso::DesktopSso;
pub use metadata::{FedMetadata, signing_certificates};
pub use saml2::{Saml, inflate_redirect};
pub use wia::Wia;
pub use wsfed::WsFed;
pub use wstrust::WsTrust;

use crate::util;
use crate::view::{Finding, Kind, Node};
use crate::xml::dsig::{self, SignatureValueCheck, Unchecked, Verdict};
use crate::xml::{DSIG_NS, Document, NodeId, SAML1_NS, SAML2_NS, SAMLP_NS};
use crate::{Context, DecodeError, Decoded};

/// WS-Trust February 2005 namespace (ADFS `/trust/2005/…` endpoints and WS-Fed `wresult`).
pub const WST_2005: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
/// WS-Trust 1.3 namespace (ADFS `/trust/13/…` endpoints).
pub const WST_13: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
/// WS-Security extension namespace (`wsse:Security`, `wsse:UsernameToken`).
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-Security utility namespace (`wsu:Timestamp`, `wsu:Created`, `wsu:Id`).
pub const WSU_NS: &str = crate::xml::tree::WSU_NS;
/// WS-Policy 2004/09 namespace (`wsp:AppliesTo`).
pub const WSP_2004: &str = "http://schemas.xmlsoap.org/ws/2004/09/policy";
/// WS-Policy 1.5 namespace (MEX policies).
pub const WSP_15: &str = "http://www.w3.org/ns/ws-policy";
/// WS-Addressing 1.0 namespace.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
/// WS-Addressing August 2004 namespace (older WS-Trust 2005 clients).
pub const WSA_2004: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// SOAP 1.2 envelope namespace.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1 envelope namespace.
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// XML Encryption namespace.
pub const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
/// SAML 2.0 metadata namespace.
pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// WS-Federation metadata namespace (`fed:` RoleDescriptor extensions).
pub const FED_NS: &str = "http://docs.oasis-open.org/wsfed/federation/200706";
/// SAML 1.x protocol namespace.
pub const SAMLP1_NS: &str = "urn:oasis:names:tc:SAML:1.0:protocol";
/// The Entra ID (Microsoft Online) relying-party identifier and audience.
pub const MICROSOFT_ONLINE: &str = "urn:federation:MicrosoftOnline";

/// Most attributes shown per attribute statement; more are counted, not shown.
const MAX_ATTRIBUTES: usize = 500;

/// One explained element: its view subtree and a one-line description for summaries.
#[derive(Debug, Clone)]
pub struct Explained {
    /// The view subtree.
    pub node: Node,
    /// A short description (`SAML 1.1 for ImmutableID … , UPN …, signature verified with …`).
    pub summary: String,
}

impl Explained {
    /// An explained assertion: `SAML {version} for {who}` (or `SAML {version} assertion` when
    /// no claim names anyone), its signature state (`unsigned` when it has none) and its
    /// validity state if it is outside its window.
    pub fn assertion(
        version: &str,
        node: Node,
        claims: &Claims,
        signature: Option<String>,
        window: Option<&str>,
    ) -> Self {
        let who = claims.describe();
        let mut summary = if who.is_empty() {
            format!("SAML {version} assertion")
        } else {
            format!("SAML {version} for {who}")
        };
        summary.push_str(&format!(", {}", signature.as_deref().unwrap_or("unsigned")));
        if let Some(s) = window {
            summary.push_str(&format!(", {s}"));
        }
        Explained { node, summary }
    }
}

/// The state shared while explaining one XML document: the document, the context, the
/// findings collected so far and where the message is going (for audience checks).
#[derive(Debug)]
pub struct Explainer<'d, 'a> {
    /// The parsed document.
    pub doc: &'d Document<'a>,
    /// The decoding context (clock, limits, trusted certificates).
    pub cx: &'d Context<'d>,
    /// Findings collected so far, in order.
    pub findings: Vec<Finding>,
    /// Where the message is delivered (request URL, form action), when known: an audience other
    /// than Entra ID's for a message posted to `login.srf` is flagged.
    pub destination: Option<String>,
    /// Signatures already shown, so none is reported twice.
    shown_signatures: Vec<NodeId>,
    /// What the user's keys decrypted: the documents before, and each encrypted holder's view.
    pub(crate) decrypted: saml2::Layers<'d>,
}

impl<'d, 'a> Explainer<'d, 'a> {
    /// A fresh explainer for `doc`.
    pub fn new(doc: &'d Document<'a>, cx: &'d Context<'d>, destination: Option<&str>) -> Self {
        Explainer {
            doc,
            cx,
            findings: Vec::new(),
            destination: destination.map(str::to_string),
            shown_signatures: Vec::new(),
            decrypted: saml2::Layers::default(),
        }
    }

    /// True when the destination is Entra ID's WS-Fed/SAML-P endpoint `login.srf`.
    pub fn destination_is_login_srf(&self) -> bool {
        self.destination.as_deref().is_some_and(|d| {
            util::url_path(d)
                .to_ascii_lowercase()
                .ends_with("/login.srf")
        })
    }

    /// Flags an audience other than Entra ID's when the assertion goes to `login.srf`: Entra ID
    /// rejects it there.
    pub fn check_login_srf_audience(&mut self, audiences: &[String], at: &str) {
        if !self.destination_is_login_srf() || audiences.iter().any(|a| a == MICROSOFT_ONLINE) {
            return;
        }
        let audience = if audiences.is_empty() {
            "missing".to_string()
        } else {
            audiences.join(", ")
        };
        self.findings.push(
            Finding::warning(format!(
                "the assertion is posted to login.srf but its audience is {audience}, not \
                 {MICROSOFT_ONLINE}: Entra ID will reject it"
            ))
            .at(at),
        );
    }

    /// A time node for an instant attribute, judged against `cx.now`.
    pub fn instant(&self, label: &str, raw: &str) -> (Node, Option<i64>) {
        instant_node(label, raw, self.cx)
    }

    /// The `ds:Signature` elements that are direct children of `el`, verified and shown, with
    /// their verdicts as findings (`what` names the signed element in the finding). Returns the
    /// nodes and the short verdict of the first one (`None` when `el` carries no signature).
    pub fn signatures_of(&mut self, el: NodeId, what: &str) -> (Vec<Node>, Option<String>) {
        let sigs: Vec<NodeId> = self.doc.find_children(el, DSIG_NS, "Signature").collect();
        let mut nodes = Vec::new();
        let mut short = None;
        for sig in sigs {
            let (node, s) = self.signature(sig, what);
            short.get_or_insert(s);
            nodes.push(node);
        }
        (nodes, short)
    }

    /// Flags a signature whose `Reference` names an element another signature already covers:
    /// two signatures over one ID (ruby-saml refuses such a message) let a verifier that checks
    /// one of them be shown content the other was made over.
    fn check_shared_reference(&mut self, sig: NodeId) {
        let doc = self.doc;
        let uris = |s: NodeId| -> Vec<String> {
            doc.find_child(s, DSIG_NS, "SignedInfo")
                .map(|si| {
                    doc.find_children(si, DSIG_NS, "Reference")
                        .filter_map(|r| doc.attribute(r, "URI"))
                        .filter(|u| u.len() > 1)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mine = uris(sig);
        let shared = self
            .shown_signatures
            .iter()
            .flat_map(|other| uris(*other))
            .find(|u| mine.contains(u));
        if let Some(uri) = shared {
            self.findings.push(
                Finding::error(format!(
                    "duplicate ID reference: two ds:Signature elements both sign {uri}; a \
                     verifier that checks one of them can be shown what the other was made over \
                     (ruby-saml refuses such a message)"
                ))
                .at(doc.path(sig)),
            );
        }
    }

    /// Verifies and shows one signature; returns its node and a short verdict for summaries. A
    /// signature of a decrypted document is verified in the earliest document that has it (see
    /// [`saml2::Layers::origin`]).
    pub fn signature(&mut self, sig: NodeId, what: &str) -> (Node, String) {
        self.check_shared_reference(sig);
        self.shown_signatures.push(sig);
        let (signed_doc, signed) = self.decrypted.origin(self.doc, sig);
        let report = dsig::verify_with_limits(
            signed_doc,
            signed,
            &self.cx.trust.xml_signers(signed_doc),
            &self.cx.limits,
        );
        let mut node = report.to_node(signed_doc);
        let doc = self.doc;
        if let Some(v) = doc.find_child(sig, DSIG_NS, "SignatureValue") {
            let compact: String = doc
                .text_content(v)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            node.push(
                crate::secrets::redacted_node("SignatureValue", &compact).unwrap_or_else(|| {
                    Node::secret("SignatureValue", compact)
                        .with_note("the RSA signature over the canonical SignedInfo")
                }),
            );
        }
        let at = doc.path(sig);
        let (finding, short) = match report.verdict {
            Verdict::Valid => {
                let who = match &report.signature_value {
                    SignatureValueCheck::Verified { cert, source } => {
                        format!("{} ({source})", cert.subject)
                    }
                    _ => "a trusted certificate".to_string(),
                };
                (
                    Finding::info(format!("XML signature on {what}: {}", report.verdict_text)),
                    format!("signature verified with {who}"),
                )
            }
            Verdict::NotChecked if report.value_redacted() => (
                Finding::info(format!(
                    "XML signature on {what} not checked: {}",
                    report.verdict_text
                )),
                "signature redacted (not checked)".to_string(),
            ),
            Verdict::NotChecked if report.unchecked() == Some(Unchecked::NoAnchor) => (
                Finding::warning(format!(
                    "XML signature on {what} not verified: no trusted certificate (pin one with \
                     --trust-cert FILE or capture the FederationMetadata); {}",
                    report.verdict_text
                )),
                "signature not verified (no trusted certificate)".to_string(),
            ),
            // A SAML IdP signs with its private key; an HMAC "signature" on a SAML message is
            // the key-confusion attack (anyone can compute it with the IdP's public certificate
            // as the HMAC key), whatever the shared secret would say.
            Verdict::NotChecked
                if matches!(report.unchecked(), Some(Unchecked::HmacNeedsKey { .. })) =>
            {
                (
                    Finding::error(format!(
                        "XML signature on {what}: algorithm confusion: it claims an HMAC \
                         SignatureMethod, which a SAML identity provider does not use (it signs \
                         with its private key); anyone holding the IdP's public certificate can \
                         compute such a value, so it is never accepted ({})",
                        report.verdict_text
                    )),
                    "signature REJECTED (HMAC: algorithm confusion)".to_string(),
                )
            }
            Verdict::NotChecked => (
                Finding::warning(format!(
                    "XML signature on {what} not checked: {}",
                    report.verdict_text
                )),
                "signature not checked".to_string(),
            ),
            Verdict::Invalid => (
                Finding::error(format!("XML signature on {what}: {}", report.verdict_text)),
                "signature INVALID".to_string(),
            ),
            Verdict::Rejected => (
                Finding::error(format!("XML signature on {what}: {}", report.verdict_text)),
                "signature REJECTED".to_string(),
            ),
        };
        self.findings.push(finding.at(at.clone()));
        self.findings.extend(
            report
                .warning_findings(what)
                .into_iter()
                .map(|f| f.at(at.clone())),
        );
        (node, short)
    }

    /// Signatures of the document not shown yet (for example one hidden in
    /// `samlp:Extensions`), each verified and shown.
    pub fn remaining_signatures(&mut self) -> Vec<Node> {
        let rest: Vec<NodeId> = dsig::find_signatures(self.doc)
            .into_iter()
            .filter(|s| !self.shown_signatures.contains(s))
            .collect();
        rest.into_iter()
            .map(|s| {
                let parent = self
                    .doc
                    .parent(s)
                    .map(|p| self.doc.path(p))
                    .unwrap_or_default();
                let what = format!("{parent} (a signature elsewhere in the document)");
                let (mut node, _) = self.signature(s, &what);
                node.label = format!("ds:Signature in {parent}");
                node
            })
            .collect()
    }

    /// Adds the wrapping findings of the document for the element whose claims are shown.
    pub fn wrapping(&mut self, shown: NodeId) {
        let found = dsig::wrapping_findings(self.doc, shown);
        for f in found {
            if !self.findings.contains(&f) {
                self.findings.push(f);
            }
        }
    }

    /// The `Conditions` element of an assertion (SAML 1.1 or 2.0, told apart by `ns` and the name
    /// of the audience restriction element): its validity window judged against `cx.now`, and its
    /// audiences. Returns the section node, the window state for summaries (`EXPIRED` …) and the
    /// audiences.
    pub fn conditions(
        &mut self,
        c: NodeId,
        ns: &str,
        restriction: &str,
        at: &str,
    ) -> (Node, Option<&'static str>, Vec<String>) {
        let doc = self.doc;
        let mut cond = Node::section("Conditions");
        let nb = doc
            .attribute(c, "NotBefore")
            .map(|v| self.instant("NotBefore", v));
        let nooa = doc
            .attribute(c, "NotOnOrAfter")
            .map(|v| self.instant("NotOnOrAfter", v));
        let (nb_s, nooa_s) = (
            nb.as_ref().and_then(|x| x.1),
            nooa.as_ref().and_then(|x| x.1),
        );
        cond.children.extend(nb.map(|x| x.0));
        cond.children.extend(nooa.map(|x| x.0));
        let state = self.check_window(
            nb_s,
            nooa_s,
            "the assertion",
            &format!("{at}/saml:Conditions"),
        );
        let mut audiences = Vec::new();
        for r in doc.find_children(c, ns, restriction) {
            for a in doc.find_children(r, ns, "Audience") {
                let v = doc.text_content(a).trim().to_string();
                let mut n = Node::field("Audience", v.clone());
                if v == MICROSOFT_ONLINE {
                    n = n.with_note("Entra ID (Microsoft Online) as the relying party");
                }
                cond.push(n);
                audiences.push(v);
            }
        }
        (cond, state, audiences)
    }

    /// Judges a validity window (`NotBefore`, `NotOnOrAfter`) against `cx.now`: error findings
    /// when expired or not yet valid. `what` names the thing (`the assertion`).
    pub fn check_window(
        &mut self,
        not_before: Option<i64>,
        not_on_or_after: Option<i64>,
        what: &str,
        at: &str,
    ) -> Option<&'static str> {
        let now = util::epoch_secs(self.cx.now);
        if let Some(nooa) = not_on_or_after
            && now >= nooa
        {
            self.findings.push(
                Finding::error(format!(
                    "{what} expired: NotOnOrAfter {} is before the capture time {}",
                    util::format_epoch_relative(nooa, self.cx.now),
                    util::format_epoch(now)
                ))
                .at(at),
            );
            return Some("EXPIRED");
        }
        if let Some(nb) = not_before
            && now < nb
        {
            self.findings.push(
                Finding::error(format!(
                    "{what} not yet valid: NotBefore {} is after the capture time {} (clock skew \
                     between the IdP and the relying party?)",
                    util::format_epoch_relative(nb, self.cx.now),
                    util::format_epoch(now)
                ))
                .at(at),
            );
            return Some("NOT YET VALID");
        }
        None
    }
}

/// Parses a SAML / WS-* instant (`xs:dateTime` in UTC: `2026-11-01T10:00:00Z`, with 0 to 9
/// fractional digits) into seconds since the epoch. A missing zone is read as UTC.
pub fn parse_instant(raw: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    let parsed = time::OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{raw}Z"), &Rfc3339));
    parsed.ok().map(|t| t.unix_timestamp())
}

/// `"in 5m"` or `"3h ago"` for an instant relative to `now`.
pub fn relative(secs: i64, now: std::time::SystemTime) -> String {
    let now_s = util::epoch_secs(now);
    let d = std::time::Duration::from_secs(secs.abs_diff(now_s));
    if secs >= now_s {
        format!("in {}", util::human_duration(d))
    } else {
        format!("{} ago", util::human_duration(d))
    }
}

/// A [`Kind::Timestamp`] node showing an instant as written plus its distance from `cx.now`;
/// an unparsable instant is shown as [`Kind::Error`].
pub fn instant_node(label: &str, raw: &str, cx: &Context<'_>) -> (Node, Option<i64>) {
    match parse_instant(raw) {
        Some(secs) => (
            Node::leaf(
                label,
                format!("{raw} ({})", relative(secs, cx.now)),
                Kind::Timestamp,
            ),
            Some(secs),
        ),
        None => (
            Node::leaf(label, raw, Kind::Error).with_note("not an xs:dateTime"),
            None,
        ),
    }
}

/// The GUID an ImmutableID / objectGUID value encodes: base64 of exactly 16 bytes in .NET byte
/// order. `None` for any other value (an ImmutableID can also be a UPN or a custom anchor).
pub fn immutable_id_guid(value: &str) -> Option<String> {
    let value = value.trim();
    if value.len() != 24 || !value.ends_with("==") {
        return None;
    }
    let raw = util::b64_decode_any(value, 16)?;
    let arr: [u8; 16] = raw.try_into().ok()?;
    Some(util::dotnet_guid(&arr))
}

/// `lHh/rE… (= ac7f7894-…)`: the short form of an ImmutableID for summary lines.
pub fn short_immutable_id(value: &str) -> String {
    let head = crate::util::short_chars(value, 6);
    match immutable_id_guid(value) {
        Some(g) => format!("{head} (= {})", crate::util::short_guid(&g)),
        None => head,
    }
}

/// The last segment of a claim type URI or name (`…/claims/UPN` → `UPN`), lowercased.
fn claim_key(name: &str) -> String {
    name.trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// What an attribute (claim) means, by its name or claim-type URI, as ADFS and Entra ID use it.
pub fn claim_note(name: &str) -> Option<&'static str> {
    Some(match claim_key(name).as_str() {
        "upn" => {
            "user principal name; Entra ID finds the user by ImmutableID and ignores this value"
        }
        "immutableid" => {
            "the SourceAnchor synced by AAD Connect: base64 of the on-premises objectGUID (or \
             mS-DS-ConsistencyGuid) in .NET byte order; Entra ID finds the user by it"
        }
        "insidecorporatenetwork" => {
            "true when ADFS saw the request come from inside the corporate network (issued from \
             the CLIENT CONTEXT); Conditional Access named locations can use it"
        }
        "authnmethodsreferences" => {
            "how the user authenticated at the IdP; multipleauthn means MFA was done there"
        }
        "accounttype" => "User, or DJ for a domain-joined computer (hybrid Azure AD join via ADFS)",
        "onpremobjectguid" => {
            "the on-premises objectGUID of the computer account (base64, .NET byte order); with \
             accounttype=DJ it registers the hybrid-joined device"
        }
        "primarysid" => "the security identifier (SID) of the on-premises account",
        "idpemail" => "SAML-P federation with Entra ID: must equal the user's UPN in Entra ID",
        "emailaddress" => "e-mail address",
        "name" => "display or account name",
        "givenname" => "first name",
        "surname" => "last name",
        "nameidentifier" => {
            "the subject identifier claim (ADFS copies ImmutableID into it for Entra ID)"
        }
        "groupsid" | "groups" => "group membership",
        "role" => "role claim",
        "authenticationmethod" => "how the user authenticated at the IdP",
        "authenticationinstant" => "when the user authenticated at the IdP",
        "client-request-id" => "correlation id of the ADFS request",
        "x-ms-client-ip" | "x-ms-forwarded-client-ip" => "client IP address as ADFS saw it",
        "issuerid" => "the ADFS issuer URI a multi-domain federation puts in the token",
        _ => return None,
    })
}

/// What an authentication method / context class means.
pub fn auth_method_note(uri: &str) -> &'static str {
    match uri {
        "urn:oasis:names:tc:SAML:1.0:am:password"
        | "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
        | "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password" => {
            "password (forms or ROPC at the IdP)"
        }
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport" => {
            "password over a protected transport (TLS)"
        }
        "urn:federation:authentication:windows"
        | "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/windows"
        | "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos" => {
            "Windows integrated authentication (Kerberos/NTLM): the user did not type a password"
        }
        "urn:oasis:names:tc:SAML:1.0:am:X509-PKI"
        | "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
        | "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
        | "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/x509"
        | "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/tlsclient" => {
            "client certificate (smart card, device certificate)"
        }
        "http://schemas.microsoft.com/claims/multipleauthn" => "multi-factor authentication (MFA)",
        "urn:oasis:names:tc:SAML:1.0:am:unspecified"
        | "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified" => "unspecified",
        _ => "not a well-known method",
    }
}

/// What a NameID / NameIdentifier format means.
pub fn name_id_format_note(format: &str) -> &'static str {
    match format {
        "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" => {
            "unspecified (ADFS to Entra ID: the ImmutableID)"
        }
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" => {
            "persistent: a stable pairwise identifier (Entra ID SAML-P: the ImmutableID)"
        }
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient" => "transient: a one-time identifier",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" => "e-mail address",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName" => "DOMAIN\\user",
        "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName" => "X.509 subject name",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:entity" => "an entity (provider) identifier",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos" => "Kerberos principal name",
        _ => "not a standard format",
    }
}

/// What a subject confirmation method means.
pub fn confirmation_note(method: &str) -> &'static str {
    match method {
        "urn:oasis:names:tc:SAML:1.0:cm:bearer" | "urn:oasis:names:tc:SAML:2.0:cm:bearer" => {
            "bearer: whoever presents the assertion is the subject (no proof key)"
        }
        "urn:oasis:names:tc:SAML:1.0:cm:holder-of-key"
        | "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key" => {
            "holder-of-key: the presenter must prove possession of a key"
        }
        "urn:oasis:names:tc:SAML:1.0:cm:sender-vouches"
        | "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches" => {
            "sender-vouches: the sender vouches for the subject"
        }
        _ => "not a standard method",
    }
}

/// One attribute value node, with the objectGUID an ImmutableID-like value encodes.
pub fn attribute_value_node(name: &str, value: &str) -> Node {
    let key = claim_key(name);
    let mut n = Node::field(name, value);
    if let Some(note) = claim_note(name) {
        n = n.with_note(note);
    }
    if matches!(key.as_str(), "immutableid" | "onpremobjectguid")
        && let Some(g) = immutable_id_guid(value)
    {
        n.push(
            Node::field("objectGUID", g)
                .with_note("the GUID this base64 value encodes (.NET order)"),
        );
    }
    if key == "authnmethodsreferences" {
        n.push(Node::text("method", auth_method_note(value)));
    }
    n
}

/// One attribute with all its values: a single value is one node; several values become a node
/// listing them, with one child per value.
pub fn attribute_node(name: &str, values: &[String]) -> Node {
    match values {
        [one] => attribute_value_node(name, one),
        _ => {
            let mut n = Node::field(name, format!("{} values", values.len()));
            if let Some(note) = claim_note(name) {
                n = n.with_note(note);
            }
            for v in values {
                let mut c = attribute_value_node(name, v);
                c.label = "value".into();
                c.note = None;
                n.push(c);
            }
            n
        }
    }
}

/// What a federation document's claims say about the user, collected while explaining an
/// assertion so that decoders can write their summary lines.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    /// The subject's NameID / NameIdentifier.
    pub name_id: Option<String>,
    /// The ImmutableID attribute.
    pub immutable_id: Option<String>,
    /// UPN or IDPEmail.
    pub upn: Option<String>,
    /// True when `authnmethodsreferences` says multipleauthn.
    pub mfa: bool,
    /// `accounttype` (DJ for a device).
    pub account_type: Option<String>,
}

impl Claims {
    /// Records one attribute value.
    pub fn record(&mut self, name: &str, value: &str) {
        match claim_key(name).as_str() {
            "immutableid" => {
                self.immutable_id.get_or_insert_with(|| value.to_string());
            }
            "upn" | "idpemail" => {
                self.upn.get_or_insert_with(|| value.to_string());
            }
            "authnmethodsreferences" if value.ends_with("/multipleauthn") => self.mfa = true,
            "accounttype" => {
                self.account_type.get_or_insert_with(|| value.to_string());
            }
            _ => {}
        }
    }

    /// `ImmutableID lHh/rE… (= ac7f7894-…), UPN alice@contoso.test, MFA` for summaries.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.account_type.as_deref() == Some("DJ") {
            parts.push("device (accounttype=DJ)".to_string());
        }
        match (&self.immutable_id, &self.name_id) {
            (Some(i), _) => parts.push(format!("ImmutableID {}", short_immutable_id(i))),
            (None, Some(n)) => parts.push(format!("NameID {}", short_immutable_id(n))),
            _ => {}
        }
        if let Some(u) = &self.upn {
            parts.push(format!("UPN {u}"));
        }
        if self.mfa {
            parts.push("MFA".into());
        }
        parts.join(", ")
    }
}

/// Shows a list of attributes (already as nodes) under an `attributes` section, capped.
pub fn attributes_section(label: &str, nodes: Vec<Node>, total: usize) -> Node {
    let mut s = Node::section(label);
    s.value = Some(format!("{total} attribute(s)"));
    s.children = nodes;
    if total > MAX_ATTRIBUTES {
        s.push(Node::text(
            "more",
            format!("{} more not shown", total - MAX_ATTRIBUTES),
        ));
    }
    s
}

/// The cap on attributes shown, for the explainers.
pub fn max_attributes() -> usize {
    MAX_ATTRIBUTES
}

/// Explains a federation XML document by its document element: a SAML 1.1 or 2.0 assertion,
/// a SAML 2.0 protocol message, a WS-Trust message (bare or in a SOAP envelope), federation
/// metadata or a MEX WSDL. `destination` is where the document is delivered (request URL or
/// form action), for audience checks. The result carries `decoder` as its id.
pub fn explain_xml(
    text: &str,
    decoder: &'static str,
    cx: &Context<'_>,
    destination: Option<&str>,
) -> Result<Decoded, DecodeError> {
    explain_document(text, decoder, cx, destination, Focus::Document)
}

/// What [`explain_document`] explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    /// The document element, whatever it is (as [`explain_xml`]).
    Document,
    /// The document element if it is SAML; otherwise (a WS-Trust envelope or RSTR) only the
    /// first SAML assertion or response inside it: the `saml` view of a message whose full
    /// explanation belongs to another decoder.
    Saml,
}

/// Explains a federation XML document as [`explain_xml`] does, or with [`Focus::Saml`] only its
/// SAML part.
pub(crate) fn explain_document(
    text: &str,
    decoder: &'static str,
    cx: &Context<'_>,
    destination: Option<&str>,
    focus: Focus,
) -> Result<Decoded, DecodeError> {
    let focused = focus == Focus::Saml;
    let doc = Document::parse(text, &cx.limits)?;
    saml2::with_decrypted(&doc, cx, |doc, layers| {
        explain_parsed(doc, layers, decoder, cx, destination, focused)
    })
}

/// [`explain_document`] on the parsed document, as decrypted with the user's keys.
fn explain_parsed<'d>(
    doc: &'d Document<'d>,
    layers: saml2::Layers<'d>,
    decoder: &'static str,
    cx: &'d Context<'d>,
    destination: Option<&str>,
    focused: bool,
) -> Result<Decoded, DecodeError> {
    let what = if focused {
        "a SAML document"
    } else {
        "a federation XML document"
    };
    let root = doc
        .root()
        .ok_or_else(|| DecodeError::not(what, "no document element"))?;
    if !focused || is_saml_ns(doc.namespace(root)) {
        let mut ex = Explainer::new(doc, cx, destination);
        ex.decrypted = layers;
        let explained = explain_element(&mut ex, root)?;
        let mut node = explained.node;
        for extra in ex.remaining_signatures() {
            node.push(extra);
        }
        let mut d = Decoded::new(decoder, flag_summary(explained.summary, &ex.findings), node);
        d.findings = ex.findings;
        return Ok(d);
    }
    let inner = doc
        .elements()
        .find(|e| is_saml_ns(doc.namespace(*e)))
        .ok_or_else(|| {
            DecodeError::not(what, format!("no SAML element inside {}", doc.qname(root)))
        })?;
    let mut ex = Explainer::new(doc, cx, None);
    ex.decrypted = layers;
    let explained = explain_element(&mut ex, inner)?;
    let node = Node::section(doc.qname(root))
        .with_note(format!(
            "only the SAML token inside this {} is shown here",
            doc.local_name(root)
        ))
        .with_child(explained.node);
    let mut d = Decoded::new(decoder, flag_summary(explained.summary, &ex.findings), node);
    d.findings = ex.findings;
    Ok(d)
}

fn is_saml_ns(ns: &str) -> bool {
    matches!(ns, SAML1_NS | SAML2_NS | SAMLP_NS | SAMLP1_NS)
}

/// Appends what must not be missed in a one-line summary: signature wrapping, an audience
/// Entra ID rejects.
fn flag_summary(mut summary: String, findings: &[Finding]) -> String {
    if findings
        .iter()
        .any(|f| f.message.starts_with("signature wrapping"))
    {
        summary.push_str(", SIGNATURE WRAPPING");
    }
    if findings
        .iter()
        .any(|f| f.message.contains("Entra ID will reject it"))
    {
        summary.push_str(", WRONG AUDIENCE for login.srf");
    }
    summary
}

/// Explains one element of a federation document (see [`explain_xml`]).
pub fn explain_element(ex: &mut Explainer<'_, '_>, el: NodeId) -> Result<Explained, DecodeError> {
    let doc = ex.doc;
    let ns = doc.namespace(el);
    let local = doc.local_name(el);
    match (ns, local) {
        (SAML1_NS, "Assertion") if desktopsso::is_wrapper(doc, el) => {
            Ok(desktopsso::explain_wrapper(ex, el))
        }
        (SAML1_NS, "Assertion") => {
            let e = saml11::explain_assertion(ex, el);
            ex.wrapping(el);
            Ok(e)
        }
        (SAML2_NS, "Assertion") => {
            let mut e = saml2::explain_assertion(ex, el);
            ex.wrapping(el);
            saml2::opened(ex, el, &mut e);
            Ok(e)
        }
        (SAML2_NS, "EncryptedAssertion") => Ok(saml2::explain_encrypted(ex, el)),
        (SAMLP_NS, _) => saml2::explain_protocol(ex, el),
        (SAMLP1_NS, "Response") => Ok(saml11::explain_response(ex, el)),
        (WST_2005 | WST_13, _) | (SOAP11_NS | SOAP12_NS, "Envelope") => {
            wstrust::explain_message(ex, el)
        }
        (MD_NS, "EntityDescriptor" | "EntitiesDescriptor") => {
            Ok(metadata::explain_metadata(ex, el))
        }
        ("http://schemas.xmlsoap.org/wsdl/", "definitions") => Ok(metadata::explain_mex(ex, el)),
        _ => {
            // Anything else that carries an assertion (a custom wrapper): explain the first one.
            let inner = doc.elements().find(|e| {
                doc.is(*e, SAML1_NS, "Assertion")
                    || doc.is(*e, SAML2_NS, "Assertion")
                    || doc.is(*e, SAMLP_NS, "Response")
            });
            match inner {
                Some(a) if a != el => {
                    let mut e = explain_element(ex, a)?;
                    e.node = Node::section(doc.qname(el))
                        .with_note("not a federation message itself; the assertion inside is shown")
                        .with_child(e.node);
                    Ok(e)
                }
                _ => Err(DecodeError::not(
                    "a federation XML document",
                    format!("the document element is {{{ns}}}{local}"),
                )),
            }
        }
    }
}

/// Quick sniff used by priorities: true when `head` mentions a SAML assertion or protocol
/// namespace.
pub fn mentions_saml(head: &[u8]) -> bool {
    contains(head, SAML1_NS.as_bytes())
        || contains(head, SAML2_NS.as_bytes())
        || contains(head, SAMLP_NS.as_bytes())
}

pub use crate::util::{contains, contains_ci};

/// A preview of an opaque value (`RelayState`, `wctx`): UTF-8 text shortened, or its size.
pub fn opaque_preview(value: &str) -> String {
    util::ellipsize(value, 120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn instants_accept_3_and_7_fractional_digits() {
        assert_eq!(parse_instant("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_instant("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_instant("2023-11-14T22:13:20.1234567Z"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_instant("2023-11-14T22:13:20"), Some(1_700_000_000));
        assert_eq!(parse_instant("yesterday"), None);
    }

    fn cx_at_capture(trust: &crate::Trust) -> Context<'_> {
        Context::new(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
            trust,
        )
    }

    #[test]
    fn comment_in_name_identifier_and_duplicate_ids_are_findings() {
        let trust = crate::Trust::default();
        let cx = cx_at_capture(&trust);
        let commented = include_str!("../../tests/data/dsig/saml11_comment_nameid.xml");
        let d = explain_xml(commented, "saml", &cx, None).unwrap();
        assert!(
            d.findings
                .iter()
                .any(|f| f.severity == crate::Severity::Error
                    && f.message.starts_with("comment inside saml:NameIdentifier")),
            "{:#?}",
            d.findings
        );
        let dup = include_str!("../../tests/data/dsig/saml2_duplicate_id.xml");
        let d = explain_xml(dup, "saml", &cx, None).unwrap();
        assert!(
            d.findings
                .iter()
                .any(|f| f.message.starts_with("duplicate ID")),
            "{:#?}",
            d.findings
        );
        assert!(d.has_finding("2 assertions"));
    }

    #[test]
    fn truncated_fixtures_decode_or_say_why() {
        let trust = crate::Trust::default();
        let cx = cx_at_capture(&trust);
        let decoders: [&dyn crate::Decoder; 4] = [&Saml, &WsFed, &WsTrust, &FedMetadata];
        let (mut views, mut errors) = (0, 0);
        for http in [
            include_str!("../../tests/fixtures/wsfed/adfs_autopost_page.http"),
            include_str!("../../tests/fixtures/wstrust/rstrc_13.http"),
            include_str!("../../tests/fixtures/wstrust/mex.http"),
            include_str!("../../tests/fixtures/saml/post_response_encrypted.http"),
            include_str!("../../tests/fixtures/saml/redirect_authnrequest_signed.http"),
        ] {
            let m = crate::OwnedMessage::parse_http_text(http).unwrap();
            let step = (m.body.len() / 64).max(1);
            for cut in (0..m.body.len()).step_by(step) {
                let body = m.body.get(..cut).unwrap();
                let mut msg = m.as_message();
                msg.body = body;
                let url = m.url.as_deref().unwrap_or("");
                let short_url = url.get(..url.len().min(cut)).unwrap_or(url);
                for d in decoders {
                    let mut results =
                        vec![d.decode(&msg, &cx), d.decode(&Message::blob(body), &cx)];
                    if msg.is_request() {
                        results
                            .push(d.decode(&Message::request("GET", short_url, vec![], b""), &cx));
                    }
                    for r in results {
                        match r {
                            Ok(v) => {
                                assert!(!v.summary.is_empty(), "{} cut at {cut}", d.id());
                                views += 1;
                            }
                            Err(e) => {
                                assert!(!e.to_string().is_empty(), "{} cut at {cut}", d.id());
                                errors += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(views > 50 && errors > 50, "{views} views, {errors} errors");
    }

    #[test]
    fn immutable_id_is_shown_as_its_guid() {
        assert_eq!(
            immutable_id_guid("lHh/rEL830q6/mStDnD4uw==").as_deref(),
            Some("ac7f7894-fc42-4adf-bafe-64ad0e70f8bb")
        );
        assert_eq!(immutable_id_guid("alice@contoso.test"), None);
        assert_eq!(
            short_immutable_id("lHh/rEL830q6/mStDnD4uw=="),
            "lHh/rE… (= ac7f7894-…)"
        );
    }
}
