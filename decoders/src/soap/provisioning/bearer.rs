//! The caller's credentials: the sync API's `SyncToken` header with its `BearerToken` (decoded
//! and verified as a JWT, the raw value a secret) and the client facts beside it, and the
//! MSOnline API's `UserIdentityHeader/BearerToken`.

use super::base::{Api, Facts};
use crate::Context;
use crate::jwt::{self, Role};
use crate::soap::envelope::{element_tree, text_of};
use crate::view::{Finding, Kind, Node};
use crate::xml::{Document, NodeId};

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

/// Builds the BearerToken node: a secret whose children are the decoded JWT; the token's
/// findings are re-rooted under `path`.
pub(super) fn bearer_node(
    raw: &str,
    api: Api,
    path: &str,
    cx: &Context<'_>,
    facts: &mut Facts,
) -> Node {
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
            // Entra Connect Sync with application identity presents its application's token for
            // the sync service, which must hold the sync role.
            let app_identity = aud.eq_ignore_ascii_case(crate::oauth::SYNC_SERVICE);
            let aud_ok = app_identity
                || matches!(
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
            let has_role = t
                .claim("roles")
                .and_then(|r| r.as_array())
                .is_some_and(|r| r.iter().any(|x| x == crate::oauth::SYNC_ROLE));
            if api == Api::Sync && app_identity && !has_role {
                facts.findings.push(
                    Finding::warning(format!(
                        "BearerToken is an application token for the sync service without the \
                         app role {}: the sync API refuses it",
                        crate::oauth::SYNC_ROLE
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

pub(super) fn sync_token_node(
    doc: &Document<'_>,
    st: NodeId,
    cx: &Context<'_>,
    facts: &mut Facts,
) -> Node {
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

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::Trust;

    fn warnings(claims: serde_json::Value) -> Vec<String> {
        let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!(
            "{}.{}.AAAA",
            enc(serde_json::json!({"alg": "RS256"})),
            enc(claims)
        );
        let trust = Trust::default();
        let cx = Context::new(std::time::UNIX_EPOCH, &trust);
        let mut facts = Facts::default();
        bearer_node(
            &token,
            Api::Sync,
            "sync API/SyncToken/BearerToken",
            &cx,
            &mut facts,
        );
        facts
            .findings
            .into_iter()
            .filter(|f| f.severity == crate::Severity::Warning)
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn the_sync_services_application_token_is_taken_with_the_sync_role_only() {
        let sync = "6bf85cfa-ac8a-4be5-b5de-425a0d0dc016";
        let with_role =
            serde_json::json!({"aud": sync, "roles": ["ADSynchronization.ReadWrite.All"]});
        assert_eq!(warnings(with_role), Vec::<String>::new());
        let without = warnings(serde_json::json!({"aud": sync, "roles": []}));
        assert_eq!(
            without,
            vec![
                "BearerToken is an application token for the sync service without the app role \
                 ADSynchronization.ReadWrite.All: the sync API refuses it"
                    .to_string()
            ]
        );
        let graph = warnings(serde_json::json!({"aud": "https://graph.windows.net"}));
        assert_eq!(graph, Vec::<String>::new());
        let other = warnings(serde_json::json!({"aud": "https://graph.microsoft.com"}));
        assert_eq!(other.len(), 1, "{other:?}");
    }
}
