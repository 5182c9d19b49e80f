//! Password hash synchronisation material: the `CredentialData` format of ProvisionCredentials
//! (`v1;PPH1_MD4,<salt>,<iterations>,<hash>;`) and the view of one `SyncCredentialsChangeItem`,
//! every hash and salt a secret.

use std::fmt::Write as _;

use super::objects::{short_anchor, short_guid, source_anchor_guid};
use crate::Context;
use crate::soap::envelope::{self, element_tree, is_nil, text_of};
use crate::view::{Kind, Node};
use crate::xml::{Document, NodeId};

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

/// One `SyncCredentialsChangeItem`: its node and a short description (algorithm and anchor).
pub(super) fn credential_item(
    doc: &Document<'_>,
    it: NodeId,
    i: usize,
    cx: &Context<'_>,
) -> (Node, String) {
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
