//! What signatures may be verified with: [`Trust`] holds the keys and certificates the user
//! supplied or the capture published, each with the source a verdict names.

use crate::xml;

/// A key a JWT may be verified with, and where it came from.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key as a JWK (a JSON object with `kty` and the key material).
    pub jwk: serde_json::Value,
    /// Where the key came from, for the verdict: `"flow #3"`, `"--jwks keys.json"`.
    pub source: String,
}

/// Keys the user supplied or that were found in the same capture. Verification only ever says
/// "verified" with one of these, and names it.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// JSON Web Keys (for JWTs), in the order they were added.
    pub keys: Vec<TrustedKey>,
    /// X.509 certificates (for XML signatures): pinned with `--trust-cert FILE` or taken from
    /// FederationMetadata/MEX in the same capture.
    pub certs: Vec<xml::dsig::TrustedCert>,
}

impl Trust {
    /// Adds every key of a JWKS document (`{"keys":[…]}`) or a single JWK; returns how many keys
    /// were added. A key that is already trusted (the same JWK) is skipped and keeps its first
    /// source: a capture that fetches the same JWKS thousands of times must not trust each key
    /// thousands of times, since every token naming that key would be checked against every copy.
    pub fn add_jwks(&mut self, doc: &serde_json::Value, source: &str) -> usize {
        let keys: Vec<&serde_json::Value> = match doc.get("keys").and_then(|k| k.as_array()) {
            Some(arr) => arr.iter().collect(),
            None if doc.get("kty").is_some() => vec![doc],
            None => vec![],
        };
        let mut added = 0;
        for k in keys {
            if k.get("kty").and_then(|v| v.as_str()).is_some()
                && !self.keys.iter().any(|t| t.jwk == *k)
            {
                self.keys.push(TrustedKey {
                    jwk: k.clone(),
                    source: source.to_string(),
                });
                added += 1;
            }
        }
        added
    }

    /// True when no key and no certificate is known.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.certs.is_empty()
    }

    /// Adds a certificate for XML-signature verification, unless the same DER is already trusted
    /// (the first source is kept).
    pub fn add_cert(&mut self, der: Vec<u8>, source: &str) {
        if !self.certs.iter().any(|c| c.der == der) {
            self.certs.push(xml::dsig::TrustedCert {
                der,
                source: source.to_string(),
            });
        }
    }
}
