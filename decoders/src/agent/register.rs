//! `RegistrationRequest` / `RegistrationResult` (`register/RegisterConnector`) and
//! `TrustRenewalRequest` / `TrustRenewalResult` (`RenewTrustCertificate`): a CSR in, a
//! certificate out.

use super::{Ex, Special, cert};
use crate::util;
use crate::view::{Finding, Node};
use crate::xml::NodeId;

/// Explains a registration or trust renewal request.
pub(super) fn request(ex: &mut Ex<'_, '_>, root: NodeId) -> (String, Node) {
    let local = ex.doc.local_name(root).to_string();
    let renewal = local == "TrustRenewalRequest";
    let mut key = String::new();
    let mut special = |ex: &mut Ex<'_, '_>, el: NodeId, name: &str, path: &str| match name {
        "Base64Csr" | "Base64Pkcs10Csr" if !ex.is_nil(el) => {
            let b64 = ex.doc.text_content(el);
            let c = cert::csr(name, &b64, path, &mut ex.findings);
            if key.is_empty() {
                key = c.key;
            }
            Special::Node(c.node)
        }
        _ => Special::Generic,
    };
    let mut node = ex.tree(root, &local, 0, &mut special);
    node.note = Some(if renewal {
        "the agent asks for a new certificate for a new key, authenticated by its current \
         certificate (mutual TLS)"
            .to_string()
    } else {
        "the agent registers: the service signs its CSR into a client certificate; the admin's \
         bearer token travels inside the body as AuthenticationToken"
            .to_string()
    });
    let tenant = ex.child_text(root, "TenantId");
    if let Some(t) = &tenant {
        ex.check_tenant("TenantId", t, &format!("{local}/TenantId"));
    }
    if !renewal
        && ex
            .child_text(root, "AuthenticationToken")
            .is_none_or(|t| t.is_empty())
    {
        ex.findings.push(
            Finding::error(
                "no AuthenticationToken: the service refuses a registration without an \
                 administrator's token",
            )
            .at(&local),
        );
    }
    if ex.child(root, "Base64Csr").is_none() && ex.child_text(root, "Base64Pkcs10Csr").is_none() {
        ex.findings
            .push(Finding::error("no Base64Csr: nothing to certify").at(&local));
    }
    let mut summary = if renewal {
        "agent trust renewal request".to_string()
    } else {
        let feature = ex
            .child_text(root, "FeatureString")
            .unwrap_or_else(|| "?".into());
        format!("agent registration ({feature})")
    };
    if let Some(m) = machine_name(ex, root) {
        summary.push_str(&format!(" from {m}"));
    }
    if let Some(t) = tenant {
        summary.push_str(&format!(", tenant {}", util::short_guid(&t)));
    }
    if !key.is_empty() {
        summary.push_str(&format!(", CSR {key}"));
    }
    (summary, node)
}

/// The machine name of the request's `SystemSettingsInformation` (or `SystemSettings`).
fn machine_name(ex: &Ex<'_, '_>, root: NodeId) -> Option<String> {
    ex.doc
        .descendants(root)
        .find(|d| ex.doc.is_element(*d) && ex.doc.local_name(*d) == "MachineName")
        .map(|d| ex.doc.text_content(d).trim().to_string())
        .filter(|m| !m.is_empty())
}

/// Explains a registration or trust renewal result.
pub(super) fn result(ex: &mut Ex<'_, '_>, root: NodeId) -> (String, Node) {
    let local = ex.doc.local_name(root).to_string();
    let what = if local == "TrustRenewalResult" {
        "agent trust renewal"
    } else {
        "agent registration"
    };
    let mut issued: Option<cert::Issued> = None;
    let now = ex.cx.now;
    let mut special = |ex: &mut Ex<'_, '_>, el: NodeId, name: &str, path: &str| match name {
        "Certificate" if !ex.is_nil(el) && ex.doc.child_elements(el).next().is_none() => {
            let b64 = ex.doc.text_content(el);
            if b64.trim().is_empty() {
                return Special::Generic;
            }
            match cert::issued(name, &b64, now, path, &mut ex.findings) {
                Some(i) => {
                    let n = i.node.clone();
                    issued = Some(i);
                    Special::Node(n)
                }
                None => Special::Generic,
            }
        }
        _ => Special::Generic,
    };
    let mut node = ex.tree(root, &local, 0, &mut special);
    node.note = Some(
        "the service's answer: the signed client certificate, or why not (the agent renews it \
         when less than MinutesInTrustLifetimeBeforeRenew of the bootstrap, 30 days by default, \
         remain)"
            .to_string(),
    );
    let ok = ex
        .child_text(root, "IsSuccessful")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let error = ex.child_text(root, "ErrorMessage").unwrap_or_default();
    let summary = if !ok {
        let why = if error.is_empty() {
            "no ErrorMessage".to_string()
        } else {
            util::clip(&error, 100)
        };
        ex.findings.push(
            Finding::error(format!("{what} refused (IsSuccessful is not true): {why}"))
                .at(format!("{local}/IsSuccessful")),
        );
        format!("{what} failed: {why}")
    } else if let Some(i) = &issued {
        let id = i.agent_id.as_deref().unwrap_or("no agent id");
        let tenant = i
            .tenant
            .as_deref()
            .map(|t| format!(", tenant {}", util::short_guid(t)))
            .unwrap_or_default();
        if let Some(t) = &i.tenant {
            ex.check_tenant(
                "the certificate's tenant",
                t,
                &format!("{local}/Certificate"),
            );
        }
        format!(
            "{what}: certificate for agent {id}{tenant}, expires {}",
            i.expires
        )
    } else {
        ex.findings.push(
            Finding::error(format!(
                "{what}: IsSuccessful is true but there is no readable Certificate"
            ))
            .at(&local),
        );
        format!("{what}: no certificate")
    };
    (summary, node)
}
