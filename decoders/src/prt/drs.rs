//! DRS device registration (`/EnrollmentServer/device/`): the join request (transport key as a
//! BCRYPT blob or, for PRT protocol v4, an ECC JWK in `DeviceKeys`; the PKCS#10 request for the
//! device certificate; hybrid-join proof) and the response with the device certificate DRS
//! issued.

use serde_json::{Map, Value};
use x509_parser::prelude::FromDer as _;

use super::{DEVICE_KEY_FORM, cert_findings, device_cert_node};
use crate::view::{Finding, Kind, Node};
use crate::{Context, DecodeError, Decoded, Message, util, x509};

fn join_type_meaning(v: i64) -> &'static str {
    match v {
        0 => "0 = Azure AD (Entra) join: the device becomes a cloud device (Bearer token required)",
        4 => "4 = Azure AD registered (workplace join / BYOD: \"add a work account\")",
        6 => {
            "6 = hybrid Azure AD join: a domain-joined computer registers itself, proving its \
             identity with its AD computer account (ClientIdentity), no user token"
        }
        _ => "unknown JoinType (AADInternals/ROADtools use 0 join, 4 register, 6 hybrid)",
    }
}

/// A BCRYPT_RSAKEY_BLOB (`RSA1` magic), as Windows sends the transport key.
fn transport_key_node(b64: &str, cx: &Context<'_>) -> Node {
    if let Some(n) = crate::secrets::redacted_node("TransportKey", b64) {
        return n;
    }
    let mut n = Node::field("TransportKey", util::ellipsize(b64, 40)).with_note(
        "the device's transport public key: Entra ID wraps every PRT session key to it (RSA-OAEP); \
         its private half stays in the TPM",
    );
    let Some(b) = util::b64_decode_any(b64, cx.limits.max_inflate) else {
        n.push(Node::leaf("decode", "not valid base64", Kind::Error));
        return n;
    };
    let u32_at = |i: usize| {
        b.get(i..i + 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_le_bytes)
    };
    match (u32_at(0), u32_at(4), u32_at(8), u32_at(12)) {
        (Some(0x3141_5352), Some(bits), Some(exp_len), Some(mod_len)) => {
            n.push(Node::field("format", "BCRYPT_RSAPUBLIC_BLOB (magic RSA1)"));
            n.push(Node::field("key size", format!("RSA {bits} bits")));
            let exp = b
                .get(24..24 + exp_len as usize)
                .map(|e| e.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)));
            if let Some(e) = exp {
                n.push(Node::field("public exponent", e.to_string()));
            }
            n.push(Node::field("modulus", format!("{mod_len} bytes")));
        }
        (Some(0x3241_5352), ..) => {
            n.push(Node::field("format", "BCRYPT_RSAPRIVATE_BLOB (magic RSA2)"));
            n.push(Node::leaf(
                "warning",
                "a PRIVATE key blob: the device sent its private transport key",
                Kind::Error,
            ));
        }
        _ => match x509_parser::x509::SubjectPublicKeyInfo::from_der(&b) {
            Ok((_, spki)) => n.push(Node::field(
                "format",
                format!(
                    "SubjectPublicKeyInfo, {}",
                    x509::spki_key(&spki).text(DEVICE_KEY_FORM)
                ),
            )),
            Err(_) => n.push(Node::field(
                "format",
                format!("{} bytes, not a BCRYPT RSA blob", b.len()),
            )),
        },
    }
    n
}

fn csr_node(
    data: &str,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (Node, Option<x509::PublicKey>) {
    if let Some(n) = crate::secrets::redacted_node("Data", data) {
        return (n, None);
    }
    let mut n = Node::field("Data", util::ellipsize(data, 40)).with_note(
        "PKCS#10 certificate signing request (base64 DER) for the device certificate, signed with \
         the new device key",
    );
    let Some(der) = util::b64_decode_any(data, cx.limits.max_inflate) else {
        n.push(Node::leaf("decode", "not valid base64", Kind::Error));
        findings.push(
            Finding::error("CertificateRequest.Data is not base64")
                .at("device registration/CertificateRequest"),
        );
        return (n, None);
    };
    let mut key = None;
    match x509_parser::certification_request::X509CertificationRequest::from_der(&der) {
        Ok((_, csr)) => {
            let info = &csr.certification_request_info;
            n.push(Node::field("subject", info.subject.to_string()).with_note(
                "the requested subject; DRS ignores it and issues CN=<device id> (clients send a \
                 fixed placeholder GUID)",
            ));
            let k = x509::spki_key(&info.subject_pki);
            n.push(
                Node::field("public key", k.text(DEVICE_KEY_FORM)).with_note(
                    "the device key: the certificate DRS returns binds it to the device id",
                ),
            );
            key = Some(k);
        }
        Err(e) => {
            n.push(Node::leaf(
                "decode",
                format!("not a PKCS#10 request: {e}"),
                Kind::Error,
            ));
            findings.push(
                Finding::warning("CertificateRequest.Data is not a PKCS#10 CSR")
                    .at("device registration/CertificateRequest"),
            );
        }
    }
    (n, key)
}

/// The `DeviceKeys` of a registration (macOS Platform SSO, `api-version=3.0`): each key's type,
/// usage and, for a JWK, its curve and thumbprint. Returns the node and the STK's point.
fn device_keys_node(
    keys: &[Value],
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> (Node, Option<Vec<u8>>) {
    let at = "device registration/DeviceKeys";
    let mut n = Node::section("DeviceKeys").with_note(
        "public keys registered with the device (instead of a BCRYPT TransportKey): Usage STK is \
         the session transport key, which PRT protocol v4 answers are ECDH-ES encrypted to",
    );
    let mut stk = None;
    for (i, k) in keys.iter().take(32).enumerate() {
        let f = |name: &str| k.get(name).map(util::json_scalar).unwrap_or_default();
        let (ty, usage, encoding) = (f("Type"), f("Usage"), f("Encoding"));
        let mut e = Node::section(format!("[{i}]"));
        e.value = Some(format!("{ty} {usage}"));
        e.push(Node::field("Type", &ty).with_note(match ty.as_str() {
            "ECC" => "an elliptic-curve key (P-256)",
            "RSA" => "an RSA key",
            _ => "a key type this decoder does not know",
        }));
        e.push(
            Node::field("Usage", &usage).with_note(match usage.as_str() {
                "STK" => "session transport key: what the PRT's answers are encrypted to",
                _ => "a usage this decoder does not know (STK is the transport key)",
            }),
        );
        e.push(Node::field("Encoding", &encoding));
        let data = f("Data");
        let jwk = (encoding == "JWK")
            .then(|| util::parse_json(data.as_bytes(), "DeviceKeys Data", &cx.limits).ok())
            .flatten();
        match jwk {
            Some(j) => {
                if j.get("d").is_some() {
                    findings.push(
                        Finding::error(format!(
                            "DeviceKeys[{i}] holds a private key (`d`): the device sent its \
                             private {usage} key"
                        ))
                        .at(at),
                    );
                }
                match super::v4::jwk_point(&j) {
                    Some(point) => {
                        e.push(
                            Node::field(
                                "Data",
                                format!("EC P-256, thumbprint {}", super::v4::thumbprint(&point)),
                            )
                            .with_note(
                                "a JWK as JSON text, coordinates in standard base64 as macOS \
                                 sends them; RFC 7638 thumbprint",
                            ),
                        );
                        if usage == "STK" {
                            stk = Some(point);
                        }
                    }
                    None => {
                        e.push(Node::field("Data", util::ellipsize(&data, 60)));
                        findings.push(
                            Finding::warning(format!(
                                "DeviceKeys[{i}] ({ty} {usage}) is not a P-256 JWK"
                            ))
                            .at(at),
                        );
                    }
                }
            }
            None => e.push(Node::field("Data", util::ellipsize(&data, 60))),
        }
        n.push(e);
    }
    (n, stk)
}

pub(super) fn drs_request(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let at = "device registration";
    let mut root = Node::section(at);
    root.note = Some(
        "Device Registration Service (enterpriseregistration.windows.net): the device sends a CSR \
         and its transport key and receives a device certificate; the precondition for a PRT"
            .to_string(),
    );
    let method = msg.method.unwrap_or("").to_ascii_uppercase();
    let url_id = msg
        .path()
        .rsplit('/')
        .next()
        .filter(|s| util::is_guid(s))
        .map(str::to_string);
    root.push(Node::field("request", format!("{method} {}", msg.path())).with_note(
        "hybrid join: PUT /EnrollmentServer/device/{deviceId}; join/register: POST …/device/ with a \
         Bearer token",
    ));
    if let Some(id) = &url_id {
        root.push(Node::field("device id", id).with_note(
            "the id of the device object AAD Connect synced from AD (its userCertificate must be \
             there already)",
        ));
    }
    if msg.body.trim_ascii().is_empty() {
        let d = Decoded::new(
            "prt",
            format!(
                "DRS {method} device {}",
                url_id.as_deref().map(util::short_id).unwrap_or_default()
            ),
            root,
        );
        return Ok(d);
    }
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("a DRS request", "the body is not a JSON object"))?;
    let jt = obj.get("JoinType").and_then(util::json_int);
    if let Some(j) = jt {
        root.push(
            Node::leaf("JoinType", j.to_string(), Kind::Number).with_note(join_type_meaning(j)),
        );
    }
    let mut csr_key = None;
    if let Some(cr) = obj.get("CertificateRequest").and_then(Value::as_object) {
        let mut n = Node::section("CertificateRequest");
        if let Some(t) = cr.get("Type") {
            n.push(Node::field("Type", util::json_scalar(t)));
        }
        if let Some(t) = cr.get("KeyType").map(util::json_scalar) {
            n.push(Node::field("KeyType", &t).with_note(
                "the device key's type (ECC: a P-256 key, the device of PRT protocol v4)",
            ));
        }
        if let Some(t) = cr.get("KeySecurity").map(util::json_scalar) {
            n.push(
                Node::field("KeySecurity", &t).with_note(
                    "where the private key lives (SecureEnclave: a Mac's Secure Enclave)",
                ),
            );
        }
        if let Some(d) = cr.get("Data").and_then(Value::as_str) {
            let (node, key) = csr_node(d, cx, &mut findings);
            n.push(node);
            csr_key = key;
        }
        let declared = cr.get("KeyType").map(util::json_scalar);
        if let (Some(d), Some(k)) = (&declared, &csr_key) {
            let ec = matches!(k.kind, x509::KeyKind::Ec);
            if (d == "ECC") != ec {
                findings.push(
                    Finding::warning(format!(
                        "KeyType {d} but the CSR's key is {}",
                        k.text(DEVICE_KEY_FORM)
                    ))
                    .at("device registration/CertificateRequest"),
                );
            }
        }
        root.push(n);
    }
    let mut stk = None;
    if let Some(keys) = obj.get("DeviceKeys").and_then(Value::as_array) {
        let (n, point) = device_keys_node(keys, cx, &mut findings);
        root.push(n);
        stk = point;
    }
    if let Some(a) = obj.get("Attributes").and_then(Value::as_object) {
        let mut n = Node::section("Attributes");
        for (k, v) in a {
            n.push(
                Node::field(k.clone(), util::json_scalar(v)).with_note(match k.as_str() {
                    "ReuseDevice" => "re-use an existing device object",
                    "ReturnClientSid" => "return the SIDs to add to local groups",
                    "SharedDevice" => "a shared (kiosk) device",
                    _ => "",
                }),
            );
        }
        for c in &mut n.children {
            if c.note.as_deref() == Some("") {
                c.note = None;
            }
        }
        root.push(n);
    }
    let data = obj
        .get("ServerAdJoinData")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_else(|| {
            let mut m = Map::new();
            for k in [
                "TransportKey",
                "DeviceDisplayName",
                "OSVersion",
                "TargetDomain",
                "DeviceType",
            ] {
                if let Some(v) = obj.get(k) {
                    m.insert(k.to_string(), v.clone());
                }
            }
            m
        });
    let mut name = None;
    let mut sad = Node::section(if obj.contains_key("ServerAdJoinData") {
        "ServerAdJoinData"
    } else {
        "device data"
    });
    for (k, v) in &data {
        let text = util::json_scalar(v);
        let n = match k.as_str() {
            "TransportKey" => transport_key_node(&text, cx),
            "DeviceDisplayName" => {
                name = Some(text.clone());
                Node::field(k.clone(), &text).with_note("the computer name shown in Entra ID")
            }
            "OSVersion" => Node::field(k.clone(), &text)
                .with_note("the operating system's version (a Windows build, a macOS release)"),
            "TargetDomain" => Node::field(k.clone(), &text).with_note(
                "the domain the device joins: the AD domain of a hybrid-joined computer, else a \
                 tenant domain",
            ),
            "TargetDomainId" => Node::field(k.clone(), &text).with_note("the Entra tenant id"),
            "SourceDomainController" => {
                Node::field(k.clone(), &text).with_note("the DC the device used")
            }
            "DeviceType" => Node::field(k.clone(), &text),
            "ClientIdentity" => {
                let mut c = Node::section("ClientIdentity").with_note(
                    "hybrid join proof: the computer signs (Sid + timestamp) with the private key \
                     of the certificate it published in AD's userCertificate; DRS checks it against \
                     the synced device object",
                );
                if let Some(m) = v.as_object() {
                    for (ck, cv) in m {
                        let t = util::json_scalar(cv);
                        c.push(match ck.as_str() {
                            "Sid" => Node::field(ck.clone(), &t).with_note(
                                "the computer account SID and a UTC timestamp, joined by '.'",
                            ),
                            "SignedBlob" => Node::field(
                                ck.clone(),
                                format!(
                                    "{} bytes",
                                    util::b64_decode_any(&t, 65536).map_or(0, |b| b.len())
                                ),
                            )
                            .with_note("the signature over Sid (sha256signed)"),
                            _ => Node::field(ck.clone(), &t),
                        });
                    }
                }
                c
            }
            _ => Node::field(k.clone(), &text),
        };
        sad.push(n);
    }
    root.push(sad);
    if jt == Some(6) && !obj.contains_key("ServerAdJoinData") {
        findings.push(Finding::warning("JoinType 6 (hybrid) without ServerAdJoinData").at(at));
    }
    let kind = match jt {
        Some(0) => "Azure AD join",
        Some(4) => "Azure AD registration",
        Some(6) => "hybrid join",
        _ => "device registration",
    };
    let mut summary = format!(
        "DRS {kind} request (JoinType {})",
        jt.map_or("?".to_string(), |j| j.to_string())
    );
    if let Some(n) = &name {
        summary.push_str(&format!(" for {n}"));
    }
    if let Some(id) = &url_id {
        summary.push_str(&format!(" device {}", util::short_id(id)));
    }
    match (&stk, &csr_key) {
        (Some(p), key) => summary.push_str(&format!(
            ": CSR{} + EC transport key (STK {})",
            key.as_ref()
                .map(|k| format!(" ({})", k.text(x509::KeyForm::Named)))
                .unwrap_or_default(),
            super::v4::short_thumbprint(p)
        )),
        (None, _) => summary.push_str(": CSR + transport key"),
    }
    root.value = Some(kind.to_string());
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

pub(super) fn drs_response(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let mut findings = Vec::new();
    let at = "device registration response";
    let mut root = Node::section(at);
    let status = msg.status.unwrap_or(0);
    root.push(Node::leaf("status", status.to_string(), Kind::Number));
    let v = util::parse_json(msg.body, "body", &cx.limits)?;
    let obj = v
        .as_object()
        .ok_or_else(|| DecodeError::not("a DRS response", "the body is not a JSON object"))?;
    let mut summary = format!("DRS response {status}");
    if let Some(c) = obj.get("Certificate").and_then(Value::as_object) {
        let raw = c.get("RawBody").and_then(Value::as_str).unwrap_or("");
        match util::b64_decode_any(raw, cx.limits.max_inflate).map(|d| x509::Certificate::parse(&d))
        {
            Some(Ok(info)) => {
                let sha1 = util::hex_upper(&info.sha1);
                cert_findings(&info, &format!("{at}/Certificate"), cx, &mut findings);
                let mut n = device_cert_node(
                    "Certificate",
                    &info,
                    cx,
                    "the device certificate DRS issued for the CSR: the device signs PRT requests \
                     with its key and sends this certificate as x5c",
                );
                if let Some(tp) = c.get("Thumbprint").and_then(Value::as_str) {
                    let same = tp.eq_ignore_ascii_case(&sha1);
                    n.push(Node::field("Thumbprint (sent)", tp).with_note(if same {
                        "matches the SHA-1 of RawBody"
                    } else {
                        "does NOT match the SHA-1 of RawBody"
                    }));
                    if !same {
                        findings.push(
                            Finding::warning("Certificate.Thumbprint does not match RawBody")
                                .at(format!("{at}/Certificate")),
                        );
                    }
                }
                summary = format!(
                    "DRS {status}: device certificate {} (thumbprint {}, valid until {})",
                    info.subject,
                    sha1.get(..16).unwrap_or(&sha1),
                    util::format_epoch(info.not_after)
                );
                root.push(n);
            }
            Some(Err(e)) => {
                root.push(Node::leaf(
                    "Certificate",
                    format!("RawBody is not a certificate: {e}"),
                    Kind::Error,
                ));
                findings.push(
                    Finding::warning("Certificate.RawBody is not an X.509 certificate").at(at),
                );
            }
            None => root.push(Node::leaf(
                "Certificate",
                "RawBody is not base64",
                Kind::Error,
            )),
        }
    }
    for (k, v) in obj {
        match k.as_str() {
            "Certificate" => {}
            "MembershipChanges" => {
                let mut n = Node::field(k.clone(), v.to_string()).with_note(
                    "SIDs Windows adds to local groups (S-1-5-32-544 = Administrators: the Entra \
                     roles that become local admins)",
                );
                n.kind = Kind::Field;
                root.push(n);
            }
            "ErrorType" | "Message" | "code" | "message" => {
                findings
                    .push(Finding::warning(format!("DRS {k}: {}", util::json_scalar(v))).at(at));
                root.push(Node::field(k.clone(), util::json_scalar(v)));
            }
            _ => root.push(Node::field(k.clone(), v.to_string())),
        }
    }
    let mut d = Decoded::new("prt", summary, root);
    d.findings = findings;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trust;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn bcrypt_blob_reports_key_size() {
        let mut blob = Vec::new();
        for v in [0x3141_5352u32, 2048, 3, 256, 0, 0] {
            blob.extend_from_slice(&v.to_le_bytes());
        }
        blob.extend_from_slice(&[1, 0, 1]);
        blob.extend(std::iter::repeat_n(0xAB, 256));
        let trust = Trust::default();
        let n = transport_key_node(
            &util::b64_std(&blob),
            &Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust),
        );
        assert_eq!(
            n.child("key size").and_then(|c| c.value.as_deref()),
            Some("RSA 2048 bits")
        );
        assert_eq!(
            n.child("public exponent").and_then(|c| c.value.as_deref()),
            Some("65537")
        );
    }
}
