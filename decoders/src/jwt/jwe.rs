//! A JWE as data ([`Jwe`]), whatever its serialization: the protected, shared unprotected and
//! per-recipient headers, each recipient's wrapped key, and the IV, ciphertext, tag and AAD. It is
//! the input of decryption (`decrypt`), which opens it with the user's keys.

use serde_json::{Map, Value};

use super::json::Serialization;
use super::jwe_crypto::{ContentError, Enc};
use crate::util::{self, MAX_TOKEN_LEN};
use crate::{DecodeError, Limits};

/// One recipient of a JWE.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// The per-recipient unprotected header (`header`), if any.
    pub header: Option<Value>,
    /// The content-encryption key wrapped for this recipient (empty for `dir` and `ECDH-ES`).
    pub encrypted_key: Vec<u8>,
}

/// A parsed JWE. Nothing in it has been decrypted or authenticated.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwe {
    /// Compact, general or flattened JSON.
    pub serialization: Serialization,
    /// The protected header (`{}` when there is none).
    pub protected: Value,
    /// The protected header as sent (base64url), part of the authenticated data.
    pub protected_b64: String,
    /// The shared unprotected header (`unprotected`), if any.
    pub unprotected: Option<Value>,
    /// The recipients (one for the compact and flattened forms).
    pub recipients: Vec<Recipient>,
    /// The initialization vector.
    pub iv: Vec<u8>,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The authentication tag.
    pub tag: Vec<u8>,
    /// The additional authenticated data as sent (base64url), JSON serializations only.
    pub aad: Option<String>,
    /// Length of the serialization, in bytes.
    pub len: usize,
}

impl Jwe {
    /// Reads a compact JWE (`header.encrypted_key.iv.ciphertext.tag`) with every segment's bytes,
    /// for decryption (the compact view measures the segments without keeping them).
    pub fn from_compact(text: &str, limits: &Limits) -> Result<Jwe, DecodeError> {
        let t = text.trim();
        let max = MAX_TOKEN_LEN.min(limits.max_body);
        if t.len() > max {
            return Err(DecodeError::TooLarge {
                what: "JWT",
                limit: max,
            });
        }
        let segments: Vec<&str> = t.split('.').collect();
        let [h, k, iv, ct, tag] = segments.as_slice() else {
            return Err(DecodeError::not(
                "a compact JWE",
                format!("{} dot-separated segments (a JWE has 5)", segments.len()),
            ));
        };
        let seg = |s: &str, field: &'static str| -> Result<Vec<u8>, DecodeError> {
            if s.is_empty() {
                return Ok(Vec::new());
            }
            util::b64_decode_any(s, max).ok_or(DecodeError::Base64 { field })
        };
        let protected = util::parse_json(&seg(h, "JWE header")?, "JWE header", limits)?;
        if !protected.is_object() {
            return Err(DecodeError::not(
                "a compact JWE",
                "the header is not a JSON object",
            ));
        }
        Ok(Jwe {
            serialization: Serialization::Compact,
            protected,
            protected_b64: (*h).to_string(),
            unprotected: None,
            recipients: vec![Recipient {
                header: None,
                encrypted_key: seg(k, "JWE encrypted key")?,
            }],
            iv: seg(iv, "JWE iv")?,
            ciphertext: seg(ct, "JWE ciphertext")?,
            tag: seg(tag, "JWE tag")?,
            aad: None,
            len: t.len(),
        })
    }

    /// A header parameter for `recipient`: from the protected header, else the shared
    /// unprotected one, else the recipient's own (RFC 7516 §7.2.1 wants them disjoint).
    pub fn param(&self, recipient: usize, name: &str) -> Option<&Value> {
        self.protected
            .get(name)
            .or_else(|| self.unprotected.as_ref().and_then(|u| u.get(name)))
            .or_else(|| {
                self.recipients
                    .get(recipient)
                    .and_then(|r| r.header.as_ref())
                    .and_then(|h| h.get(name))
            })
    }

    /// A string header parameter for `recipient`.
    pub fn param_str(&self, recipient: usize, name: &str) -> Option<&str> {
        self.param(recipient, name).and_then(Value::as_str)
    }

    /// Authenticates and decrypts the content with the content key `cek` and the content
    /// encryption `enc` (see [`Enc::open`]).
    pub fn open_content(&self, enc: Enc, cek: &[u8]) -> Result<Vec<u8>, ContentError> {
        enc.open(
            cek,
            &self.iv,
            &self.ciphertext,
            &self.tag,
            &self.authenticated_data(),
        )
    }

    /// The additional authenticated data of the content encryption (RFC 7516 §5.1 step 14):
    /// the protected header as sent, then `.` and the `aad` member when there is one.
    pub fn authenticated_data(&self) -> Vec<u8> {
        let mut out = self.protected_b64.as_bytes().to_vec();
        if let Some(aad) = &self.aad {
            out.push(b'.');
            out.extend_from_slice(aad.as_bytes());
        }
        out
    }

    /// Header parameter names that appear in more than one of the protected, shared unprotected
    /// and per-recipient headers (RFC 7516 §7.2.1 requires them to be disjoint).
    pub fn overlapping_params(&self) -> Vec<String> {
        let shared: Vec<&Map<String, Value>> = [Some(&self.protected), self.unprotected.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        let mut out: Vec<String> = Vec::new();
        let mut add = |k: &String| {
            if !out.contains(k) {
                out.push(k.clone());
            }
        };
        if let [p, u] = shared.as_slice() {
            p.keys()
                .filter(|k| u.contains_key(k.as_str()))
                .for_each(&mut add);
        }
        let own = self
            .recipients
            .iter()
            .filter_map(|r| r.header.as_ref().and_then(Value::as_object));
        for h in own {
            h.keys()
                .filter(|k| shared.iter().any(|m| m.contains_key(k.as_str())))
                .for_each(&mut add);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7520_5_6: &str = "eyJhbGciOiJkaXIiLCJraWQiOiI3N2M3ZTJiOC02ZTEzLTQ1Y2YtODY3Mi02MTdiNWIzMzY1NjYiLCJlbmMiOiJBMTI4R0NNIn0..refa467QzzKx6QAB.JW_i_f52hww_ELQPGaYyeAB6HYGcR559l9TYnSovc23XJoBcW29rHP8yZOZG7YhLpT1bjFuvZPjQS-m0IFtVcXkZXdH_lr_FrdYt9HRUYkshtrMmIUAyGmUnd9zMDB2n0cRDIHAzFVeJUDxkUwVAE7_YGRPdcqMyiBoCO-FBdE-Nceb4h3-FtBP-c_BIwCPTjb9o0SbdcdREEMJMyZBH8ySWMVi1gPD9yxi-aQpGbSv_F9N4IZAxscj5g-NJsUPbjk29-s7LJAGb15wEBtXphVCgyy53CoIKLHHeJHXex45Uz9aKZSRSInZI-wjsY0yu3cT4_aQ3i1o-tiE-F8Ios61EKgyIQ4CWao8PFMj8TTnp.vbb32Xvllea2OtmHAdccRQ";

    #[test]
    fn a_compact_jwe_keeps_its_bytes_and_its_authenticated_data() {
        let j = Jwe::from_compact(RFC7520_5_6, &Limits::default()).unwrap();
        assert_eq!(j.serialization, Serialization::Compact);
        assert_eq!(j.param_str(0, "alg"), Some("dir"));
        assert_eq!(j.param_str(0, "enc"), Some("A128GCM"));
        assert_eq!(j.recipients.first().map(|r| r.encrypted_key.len()), Some(0));
        assert_eq!((j.iv.len(), j.tag.len()), (12, 16));
        assert!(RFC7520_5_6.starts_with(std::str::from_utf8(&j.authenticated_data()).unwrap()));
        assert!(j.overlapping_params().is_empty());
    }
}
