//! XML Encryption ([XML Encryption 1.1](https://www.w3.org/TR/xmlenc-core1/)) as SAML identity
//! providers deploy it: an `xenc:EncryptedData` whose content key travels in an
//! `xenc:EncryptedKey`, opened with the decryption keys the user gave ([`crate::keys::Keys`]).
//!
//! [`EncryptedData::parse`] reads the algorithms, key references and cipher values of one
//! `EncryptedData` and finds its `EncryptedKey`s wherever IdPs put them: inline in its
//! `ds:KeyInfo`, referenced by a same-document `ds:RetrievalMethod` or by `ds:KeyName` (matched
//! against `xenc:CarriedKeyName`), or as siblings of the `EncryptedData` inside its holder (the
//! ADFS, Okta and Shibboleth layout of `saml:EncryptedAssertion`). References are resolved inside
//! the holder, where SAML puts the keys (so the cost stays linear in the document). [`decrypt`] tries every key the user
//! gave and says, per key, whether it opens the data, does not decrypt it, or does not fit (and
//! why, from what anyone can see: kind and size of the key against the algorithm and the
//! ciphertext). [`EncryptedData::to_nodes`] and [`Decryption::keys_node`] show all of it.
//!
//! Supported: key transport RSA-OAEP (`xmlenc#rsa-oaep-mgf1p`: MGF1 with SHA-1 and a SHA-1
//! digest unless `ds:DigestMethod` says otherwise; `xmlenc11#rsa-oaep` with `ds:DigestMethod`,
//! `xenc11:MGF` and `xenc:OAEPparams`), RSA PKCS#1 v1.5 (`xmlenc#rsa-1_5`), AES key wrap
//! (`kw-aes128/192/256`) and a symmetric key used directly; content AES-CBC (`aes128/192/256-cbc`:
//! the IV first, XML Encryption's padding whose last byte is the pad length and whose other pad
//! bytes are arbitrary), AES-GCM (`xmlenc11#aes128/192/256-gcm`: a 12-byte IV first, the 16-byte
//! tag last) and Triple-DES-CBC (`tripledes-cbc`, still sent by old IdPs). Anything else is named
//! as unsupported, never guessed. A `CipherReference` and a `RetrievalMethod` outside the document
//! are never fetched.
//!
//! No oracle: a padding, tag or unwrap failure, an unwrapped key of the wrong length, and a
//! plaintext the caller refuses after unauthenticated (CBC) decryption all read "does not decrypt
//! with KEY", never which step failed.
//!
//! ## Libraries, and what is hand-written
//!
//! aws-lc-rs does RSA-OAEP for the digest/MGF1 pairs it has constants for (SHA-1, SHA-256,
//! SHA-384, SHA-512, each with itself) and RSA PKCS#1 v1.5, for keys of 2048 to 8192 bits; AES-CBC
//! with ISO 10126 unpadding (which is XML Encryption's padding rule); AES-GCM; and AES-128/256 key
//! wrap. Where it does not reach, RustCrypto does: the `rsa` crate for RSA keys under 2048 bits
//! (which aws-lc-rs refuses, and which the published SAML test vectors use) and for mixed OAEP
//! digests such as SHA-512 with MGF1-SHA-1 (with `sha1` 0.10, the digest version the `rsa` crate
//! takes); `aes-kw` for AES-192 key wrap; `des` and `cbc` for Triple-DES-CBC, which aws-lc-rs has
//! only behind a feature that would rebuild its C library for every crate of the workspace. The
//! `rsa` crate decrypts without blinding: idscope opens captured traffic offline, where nobody
//! can time it. Hand-written here is only the glue: reading the XML, finding the keys, the order
//! of attempts and the uniform failure. Content keys and plaintexts are wiped when dropped.

use crate::Limits;
use crate::keys::{DecryptionKey, KeyMaterial, Keys};
use crate::util;
use crate::xml::DSIG_NS;
use crate::xml::tree::{Document, NodeId};

mod crypto;
mod view;

pub use crypto::SecretBytes;
use crypto::{Fail, RsaKey};

/// XML Encryption namespace, `http://www.w3.org/2001/04/xmlenc#`.
pub const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML Encryption 1.1 namespace, `http://www.w3.org/2009/xmlenc11#`.
pub const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";
/// `Type` of an `EncryptedData` that replaces a whole element.
pub const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";
/// `Type` of an `EncryptedData` that replaces an element's content.
pub const TYPE_CONTENT: &str = "http://www.w3.org/2001/04/xmlenc#Content";

/// Most `EncryptedKey`s considered for one `EncryptedData` (one per recipient in practice).
pub const MAX_ENCRYPTED_KEYS: usize = 8;
/// Most RSA private-key operations spent on one document, whatever its number of encrypted
/// elements, keys and recipients.
pub const MAX_KEY_OPERATIONS: usize = 64;

pub use crate::xml::hash::Hash;

/// The MGF1 hash an `xenc11:MGF` URI names.
pub fn mgf_hash(uri: &str) -> Option<Hash> {
    Hash::from_suffix(uri.strip_prefix(XENC11_NS)?.strip_prefix("mgf1")?)
}

/// The content encryption algorithm of an `EncryptedData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentAlgorithm {
    /// AES-CBC with a key of this many bits.
    AesCbc(u16),
    /// AES-GCM with a key of this many bits.
    AesGcm(u16),
    /// Triple-DES (EDE3) in CBC mode.
    TripleDesCbc,
    /// Anything else, by URI.
    Other(String),
}

impl ContentAlgorithm {
    /// From an `EncryptionMethod` URI.
    pub fn from_uri(uri: &str) -> ContentAlgorithm {
        let (ns, frag) = uri.split_once('#').unwrap_or((uri, ""));
        match (format!("{ns}#").as_str(), frag) {
            (XENC_NS, "aes128-cbc") => ContentAlgorithm::AesCbc(128),
            (XENC_NS, "aes192-cbc") => ContentAlgorithm::AesCbc(192),
            (XENC_NS, "aes256-cbc") => ContentAlgorithm::AesCbc(256),
            (XENC11_NS, "aes128-gcm") => ContentAlgorithm::AesGcm(128),
            (XENC11_NS, "aes192-gcm") => ContentAlgorithm::AesGcm(192),
            (XENC11_NS, "aes256-gcm") => ContentAlgorithm::AesGcm(256),
            (XENC_NS, "tripledes-cbc") => ContentAlgorithm::TripleDesCbc,
            _ => ContentAlgorithm::Other(uri.to_string()),
        }
    }

    /// `AES-256-CBC`, or the URI of an unknown algorithm.
    pub fn name(&self) -> String {
        match self {
            ContentAlgorithm::AesCbc(b) => format!("AES-{b}-CBC"),
            ContentAlgorithm::AesGcm(b) => format!("AES-{b}-GCM"),
            ContentAlgorithm::TripleDesCbc => "Triple-DES-CBC".into(),
            ContentAlgorithm::Other(uri) => uri.clone(),
        }
    }

    /// The content key length in bytes; `None` for an unsupported algorithm.
    pub fn key_len(&self) -> Option<usize> {
        match self {
            ContentAlgorithm::AesCbc(b) | ContentAlgorithm::AesGcm(b) => Some(usize::from(*b) / 8),
            ContentAlgorithm::TripleDesCbc => Some(24),
            ContentAlgorithm::Other(_) => None,
        }
    }

    /// True when decryption also authenticates the ciphertext (GCM).
    pub fn is_authenticated(&self) -> bool {
        matches!(self, ContentAlgorithm::AesGcm(_))
    }
}

/// How an `EncryptedKey` carries the content key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyTransport {
    /// RSA-OAEP with these digests and label (`OAEPparams`).
    RsaOaep {
        /// The label hash (`ds:DigestMethod`; SHA-1 when absent).
        digest: Hash,
        /// MGF1's digest (always SHA-1 for `rsa-oaep-mgf1p`).
        mgf: Hash,
        /// The decoded `OAEPparams` (usually empty).
        params: Vec<u8>,
    },
    /// RSA PKCS#1 v1.5.
    RsaPkcs1v15,
    /// AES key wrap with a key-encryption key of this many bits.
    AesKeyWrap(u16),
    /// Anything else: the URI, or why the method is not usable.
    Other(String),
}

impl KeyTransport {
    /// `RSA-OAEP (SHA-1, MGF1 with SHA-1)`.
    pub fn name(&self) -> String {
        match self {
            KeyTransport::RsaOaep { digest, mgf, .. } => {
                format!("RSA-OAEP ({}, MGF1 with {})", digest.label(), mgf.label())
            }
            KeyTransport::RsaPkcs1v15 => "RSA PKCS#1 v1.5".into(),
            KeyTransport::AesKeyWrap(b) => format!("AES-{b} key wrap"),
            KeyTransport::Other(s) => s.clone(),
        }
    }
}

/// A `CipherData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cipher {
    /// The decoded `CipherValue`.
    Value(Vec<u8>),
    /// A `CipherReference` URI (never fetched).
    Reference(String),
    /// No `CipherData/CipherValue`.
    Missing,
    /// A `CipherValue` that is not base64 (or is larger than the limits allow).
    NotBase64,
    /// A `CipherValue` that `idscope redact` replaced ([`crate::secrets::redaction_marker`]).
    Redacted,
}

impl Cipher {
    fn read(doc: &Document<'_>, holder: NodeId, limits: &Limits) -> Cipher {
        let Some(cd) = doc.find_child(holder, XENC_NS, "CipherData") else {
            return Cipher::Missing;
        };
        if let Some(cv) = doc.find_child(cd, XENC_NS, "CipherValue") {
            let text = compact(&doc.text_content(cv));
            if crate::secrets::redaction_marker(&text).is_some() {
                return Cipher::Redacted;
            }
            return match util::b64_decode_any(&text, limits.max_inflate) {
                Some(b) if !b.is_empty() => Cipher::Value(b),
                _ if text.is_empty() => Cipher::Missing,
                _ => Cipher::NotBase64,
            };
        }
        match doc.find_child(cd, XENC_NS, "CipherReference") {
            Some(r) => Cipher::Reference(doc.attribute(r, "URI").unwrap_or("").to_string()),
            None => Cipher::Missing,
        }
    }

    /// Why there is nothing to decrypt, or `None` when there is a value.
    fn problem(&self) -> Option<String> {
        match self {
            Cipher::Value(_) => None,
            Cipher::Reference(uri) => Some(format!(
                "the ciphertext is a CipherReference to `{uri}`, which is never fetched"
            )),
            Cipher::Missing => Some("there is no CipherValue".into()),
            Cipher::NotBase64 => Some("the CipherValue is not base64".into()),
            Cipher::Redacted => Some(format!(
                "the CipherValue was {}",
                crate::secrets::REDACTED_NOTE
            )),
        }
    }
}

/// Where an `EncryptedKey` was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// In the `EncryptedData`'s `ds:KeyInfo`.
    Inline,
    /// Through a `ds:RetrievalMethod` with this URI.
    Retrieved(String),
    /// Through a `ds:KeyName` matching its `CarriedKeyName`.
    ByKeyName(String),
    /// Beside the `EncryptedData` in its holder (ADFS, Shibboleth).
    Sibling,
}

/// One `xenc:EncryptedKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedKey {
    /// The element.
    pub element: NodeId,
    /// Where it was found.
    pub found: Found,
    /// Its `Recipient` attribute.
    pub recipient: Option<String>,
    /// Its `CarriedKeyName`.
    pub carried_key_name: Option<String>,
    /// The `EncryptionMethod` URI, if any.
    pub method_uri: Option<String>,
    /// The key transport (`None` without an `EncryptionMethod`).
    pub method: Option<KeyTransport>,
    /// The wrapped content key.
    pub cipher: Cipher,
}

/// One `xenc:EncryptedData`, with the `EncryptedKey`s that may open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedData {
    /// The element.
    pub element: NodeId,
    /// Its `Type` attribute (`#Element` for SAML).
    pub type_uri: Option<String>,
    /// The `EncryptionMethod` URI, if any.
    pub method_uri: Option<String>,
    /// The content algorithm (`None` without an `EncryptionMethod`).
    pub method: Option<ContentAlgorithm>,
    /// `ds:KeyName`s of its `KeyInfo`.
    pub key_names: Vec<String>,
    /// `ds:RetrievalMethod` URIs of its `KeyInfo`.
    pub retrievals: Vec<String>,
    /// The encrypted content.
    pub cipher: Cipher,
    /// The `EncryptedKey`s found for it, in the order they are tried (at most
    /// [`MAX_ENCRYPTED_KEYS`]).
    pub keys: Vec<EncryptedKey>,
    /// What is wrong with its structure, in sentences.
    pub problems: Vec<String>,
}

fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The `xenc:EncryptedData` child of a holder (`saml:EncryptedAssertion`, `EncryptedID`,
/// `EncryptedAttribute`).
pub fn encrypted_data_in(doc: &Document<'_>, holder: NodeId) -> Option<NodeId> {
    doc.find_child(holder, XENC_NS, "EncryptedData")
}

impl EncryptedData {
    /// Reads an `xenc:EncryptedData` element and finds its `EncryptedKey`s. Never fails: what
    /// is missing or wrong is in [`EncryptedData::problems`] and shows in the view.
    pub fn parse(doc: &Document<'_>, el: NodeId, limits: &Limits) -> EncryptedData {
        let method_uri = doc
            .find_child(el, XENC_NS, "EncryptionMethod")
            .and_then(|m| doc.attribute(m, "Algorithm"))
            .map(str::to_string);
        let mut data = EncryptedData {
            element: el,
            type_uri: doc.attribute(el, "Type").map(str::to_string),
            method: method_uri.as_deref().map(ContentAlgorithm::from_uri),
            method_uri,
            key_names: Vec::new(),
            retrievals: Vec::new(),
            cipher: Cipher::read(doc, el, limits),
            keys: Vec::new(),
            problems: Vec::new(),
        };
        if data.method.is_none() {
            data.problems
                .push("no EncryptionMethod: the content algorithm is not said".into());
        }
        let key_info = doc.find_child(el, DSIG_NS, "KeyInfo");
        // References are looked up in the holder (the EncryptedData's parent), where SAML puts
        // the EncryptedKeys; searching the whole document for each would make a document of many
        // encrypted elements cost quadratic time.
        let scope = doc.parent(el).unwrap_or(el);
        let keys_in_scope = || {
            doc.descendants(scope)
                .filter(|k| doc.is(*k, XENC_NS, "EncryptedKey"))
        };
        let mut found: Vec<(NodeId, Found)> = Vec::new();
        if let Some(ki) = key_info {
            for k in doc.find_children(ki, XENC_NS, "EncryptedKey") {
                found.push((k, Found::Inline));
            }
            for r in doc.find_children(ki, DSIG_NS, "RetrievalMethod").take(4) {
                let uri = doc.attribute(r, "URI").unwrap_or("").to_string();
                data.retrievals.push(uri.clone());
                let Some(id) = uri.strip_prefix('#') else {
                    data.problems.push(format!(
                        "RetrievalMethod `{uri}` points outside the document (never fetched)"
                    ));
                    continue;
                };
                let keys: Vec<NodeId> = keys_in_scope()
                    .filter(|k| doc.id_attribute(*k) == Some(id))
                    .collect();
                if keys.is_empty() {
                    data.problems.push(format!(
                        "RetrievalMethod `{uri}` names no EncryptedKey beside this EncryptedData"
                    ));
                }
                found.extend(keys.into_iter().map(|k| (k, Found::Retrieved(uri.clone()))));
            }
            for n in doc.find_children(ki, DSIG_NS, "KeyName").take(4) {
                let name = doc.text_content(n).trim().to_string();
                for k in keys_in_scope() {
                    let carried = doc
                        .find_child(k, XENC_NS, "CarriedKeyName")
                        .map(|c| doc.text_content(c).trim().to_string());
                    if carried.as_deref() == Some(name.as_str()) {
                        found.push((k, Found::ByKeyName(name.clone())));
                    }
                }
                data.key_names.push(name);
            }
        }
        if scope != el {
            let siblings: Vec<NodeId> = doc.find_children(scope, XENC_NS, "EncryptedKey").collect();
            // Several recipients: those whose ReferenceList names this EncryptedData come first.
            let id = doc.attribute(el, "Id");
            let names_me = |k: &NodeId| {
                id.is_some_and(|id| {
                    doc.find_descendants(*k, XENC_NS, "DataReference").any(|r| {
                        doc.attribute(r, "URI").and_then(|u| u.strip_prefix('#')) == Some(id)
                    })
                })
            };
            let (mine, others): (Vec<NodeId>, Vec<NodeId>) =
                siblings.into_iter().partition(names_me);
            found.extend(mine.into_iter().chain(others).map(|k| (k, Found::Sibling)));
        }
        let mut seen = Vec::new();
        for (k, how) in found {
            if seen.contains(&k) {
                continue;
            }
            seen.push(k);
            if data.keys.len() >= MAX_ENCRYPTED_KEYS {
                data.problems.push(format!(
                    "more than {MAX_ENCRYPTED_KEYS} EncryptedKeys: the others are not tried"
                ));
                break;
            }
            data.keys.push(EncryptedKey::parse(doc, k, how, limits));
        }
        data
    }
}

impl EncryptedKey {
    fn parse(doc: &Document<'_>, el: NodeId, found: Found, limits: &Limits) -> EncryptedKey {
        let m = doc.find_child(el, XENC_NS, "EncryptionMethod");
        let method_uri = m
            .and_then(|m| doc.attribute(m, "Algorithm"))
            .map(str::to_string);
        let method = match (m, method_uri.as_deref()) {
            (Some(m), Some(uri)) => Some(transport(doc, m, uri, limits)),
            _ => None,
        };
        EncryptedKey {
            element: el,
            found,
            recipient: doc.attribute(el, "Recipient").map(str::to_string),
            carried_key_name: doc
                .find_child(el, XENC_NS, "CarriedKeyName")
                .map(|c| doc.text_content(c).trim().to_string()),
            method_uri,
            method,
            cipher: Cipher::read(doc, el, limits),
        }
    }
}

/// The key transport of an `EncryptedKey`'s `EncryptionMethod` element `m` with URI `uri`.
fn transport(doc: &Document<'_>, m: NodeId, uri: &str, limits: &Limits) -> KeyTransport {
    let oaep = |mgf1p: bool| {
        let digest = match doc
            .find_child(m, DSIG_NS, "DigestMethod")
            .and_then(|d| doc.attribute(d, "Algorithm"))
        {
            None => Hash::Sha1,
            Some(d) => match Hash::from_digest_uri(d) {
                Some(h) => h,
                None => return KeyTransport::Other(format!("RSA-OAEP with the digest {d}")),
            },
        };
        let mgf = match doc
            .find_child(m, XENC11_NS, "MGF")
            .and_then(|g| doc.attribute(g, "Algorithm"))
        {
            Some(g) if !mgf1p => match mgf_hash(g) {
                Some(h) => h,
                None => return KeyTransport::Other(format!("RSA-OAEP with the MGF {g}")),
            },
            _ => Hash::Sha1,
        };
        let params = match doc.find_child(m, XENC_NS, "OAEPparams") {
            None => Vec::new(),
            Some(p) => {
                match util::b64_decode_any(&compact(&doc.text_content(p)), limits.max_inflate) {
                    Some(b) => b,
                    None => {
                        return KeyTransport::Other(
                            "RSA-OAEP with OAEPparams that are not base64".into(),
                        );
                    }
                }
            }
        };
        KeyTransport::RsaOaep {
            digest,
            mgf,
            params,
        }
    };
    match uri {
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" => oaep(true),
        "http://www.w3.org/2009/xmlenc11#rsa-oaep" => oaep(false),
        "http://www.w3.org/2001/04/xmlenc#rsa-1_5" => KeyTransport::RsaPkcs1v15,
        "http://www.w3.org/2001/04/xmlenc#kw-aes128" => KeyTransport::AesKeyWrap(128),
        "http://www.w3.org/2001/04/xmlenc#kw-aes192" => KeyTransport::AesKeyWrap(192),
        "http://www.w3.org/2001/04/xmlenc#kw-aes256" => KeyTransport::AesKeyWrap(256),
        other => KeyTransport::Other(other.to_string()),
    }
}

/// What became of one key the user gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It opened the data; how (`EncryptedKey 1, RSA-OAEP (…)`).
    Opened(String),
    /// It was tried and nothing came out (wrong key or damaged ciphertext).
    DoesNotDecrypt,
    /// It cannot be used here; why.
    DoesNotFit(String),
    /// It decrypted authenticated (GCM) content that the caller refused; why.
    Refused(String),
    /// Not tried; why (an unsupported algorithm, a malformed ciphertext, the work limit).
    NotTried(String),
    /// Not tried: the ciphertext was removed by `idscope redact` (a shareable copy).
    Redacted,
}

/// One key the user gave and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The key's source (`--key sp.pem`).
    pub source: String,
    /// What became of it.
    pub outcome: Outcome,
}

impl Attempt {
    /// One sentence: `--key sp.pem opens it (EncryptedKey 1, RSA-OAEP …)`.
    pub fn sentence(&self) -> String {
        let s = &self.source;
        match &self.outcome {
            Outcome::Opened(how) => format!("{s} opens it ({how})"),
            Outcome::DoesNotDecrypt => format!("does not decrypt with {s}"),
            Outcome::DoesNotFit(why) => format!("{s} does not fit: {why}"),
            Outcome::Refused(why) => format!("{s} decrypts it, but {why}"),
            Outcome::NotTried(why) => format!("{s} not tried: {why}"),
            Outcome::Redacted => format!(
                "{s} not tried: the ciphertext was {}",
                crate::secrets::REDACTED_NOTE
            ),
        }
    }
}

/// The plaintext of an opened `EncryptedData`. Its `Debug` never prints the plaintext.
pub struct Opened {
    /// The decrypted bytes (wiped when dropped).
    pub plaintext: SecretBytes,
    /// The source of the key that opened it.
    pub source: String,
    /// How: which `EncryptedKey`, which algorithms.
    pub via: String,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("plaintext", &format_args!("{} bytes", self.plaintext.len()))
            .field("source", &self.source)
            .field("via", &self.via)
            .finish()
    }
}

/// The result of [`decrypt`]: what became of each key, and the plaintext if one opened it.
#[derive(Debug, Default)]
pub struct Decryption {
    /// One entry per key tried, in the order given, up to the one that opened it.
    pub attempts: Vec<Attempt>,
    /// The plaintext, when a key opened it.
    pub opened: Option<Opened>,
}

/// The work one document may cost: RSA private-key operations left.
#[derive(Debug, Clone)]
pub struct Budget {
    left: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            left: MAX_KEY_OPERATIONS,
        }
    }
}

impl Budget {
    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}

/// Tries to open `data` with each key of `keys`. `accept` judges a plaintext (for SAML: one
/// well-formed element of the expected kind): after unauthenticated decryption a refused
/// plaintext counts as "does not decrypt", after AES-GCM it is reported as refused.
pub fn decrypt(
    data: &EncryptedData,
    keys: &Keys,
    budget: &mut Budget,
    accept: &dyn Fn(&[u8]) -> Result<(), String>,
) -> Decryption {
    let mut out = Decryption::default();
    let blocked = match (&data.method, &data.cipher) {
        (None, _) => Some("the EncryptedData names no EncryptionMethod".to_string()),
        (Some(ContentAlgorithm::Other(uri)), _) => {
            Some(format!("the content algorithm {uri} is not supported"))
        }
        (Some(alg), Cipher::Value(content)) => match crypto::check_shape(alg, content) {
            Err(Fail::Malformed(why)) => Some(why),
            _ => None,
        },
        (_, c) => c.problem(),
    };
    for key in &keys.keys {
        let outcome = match &blocked {
            _ if data.cipher == Cipher::Redacted => Outcome::Redacted,
            Some(why) => Outcome::NotTried(why.clone()),
            None => try_key(data, key, budget, accept, &mut out.opened),
        };
        let done = matches!(outcome, Outcome::Opened(_));
        out.attempts.push(Attempt {
            source: key.source.clone(),
            outcome,
        });
        if done {
            break;
        }
    }
    out
}

fn try_key(
    data: &EncryptedData,
    key: &DecryptionKey,
    budget: &mut Budget,
    accept: &dyn Fn(&[u8]) -> Result<(), String>,
    opened: &mut Option<Opened>,
) -> Outcome {
    let (Some(alg), Cipher::Value(content)) = (&data.method, &data.cipher) else {
        return Outcome::NotTried("nothing to decrypt".into());
    };
    let rsa = match &key.material {
        KeyMaterial::Rsa(der) => match RsaKey::from_pkcs8(der) {
            Some(k) => Some(k),
            None => return Outcome::DoesNotFit("not an RSA private key idscope can read".into()),
        },
        _ => None,
    };
    let mut open = |ck: &[u8], via: String| -> Result<(), Fail> {
        let pt = crypto::decrypt_content(alg, ck, content)?;
        match accept(&pt) {
            Ok(()) => {
                *opened = Some(Opened {
                    plaintext: pt,
                    source: key.source.clone(),
                    via,
                });
                Ok(())
            }
            Err(why) if alg.is_authenticated() => Err(Fail::Refused(why)),
            Err(_) => Err(Fail::NoDecrypt),
        }
    };
    let mut fails: Vec<Fail> = Vec::new();
    if data.keys.is_empty() {
        // No EncryptedKey: a symmetric key given by the user may be the content key itself.
        return match &key.material {
            KeyMaterial::Symmetric(k) if Some(k.len()) == alg.key_len() => {
                match open(k, format!("the key itself as the {} key", alg.name())) {
                    Ok(()) => Outcome::Opened(format!("used directly for {}", alg.name())),
                    Err(f) => outcome_of(vec![f]),
                }
            }
            _ => Outcome::DoesNotFit(format!(
                "there is no EncryptedKey, and it is not a {}-byte {} key",
                alg.key_len().unwrap_or(0),
                alg.name()
            )),
        };
    }
    for (i, ek) in data.keys.iter().enumerate() {
        let n = i + 1;
        let Cipher::Value(wrapped) = &ek.cipher else {
            fails.push(Fail::Malformed(format!(
                "EncryptedKey {n}: {}",
                ek.cipher.problem().unwrap_or_default()
            )));
            continue;
        };
        let Some(method) = &ek.method else {
            fails.push(Fail::Unsupported(format!(
                "EncryptedKey {n} names no EncryptionMethod"
            )));
            continue;
        };
        let ck = match (method, &key.material, &rsa) {
            (KeyTransport::RsaOaep { .. } | KeyTransport::RsaPkcs1v15, _, Some(rk)) => {
                if !budget.take() {
                    fails.push(Fail::Unsupported(format!(
                        "the document already cost {MAX_KEY_OPERATIONS} RSA operations"
                    )));
                    break;
                }
                match method {
                    KeyTransport::RsaOaep {
                        digest,
                        mgf,
                        params,
                    } => crypto::rsa_oaep(rk, *digest, *mgf, params, wrapped),
                    _ => crypto::rsa_pkcs1(rk, wrapped),
                }
            }
            (KeyTransport::RsaOaep { .. } | KeyTransport::RsaPkcs1v15, m, None) => {
                Err(Fail::Unfit(format!(
                    "EncryptedKey {n} needs an RSA private key, and this is {}",
                    kind(m)
                )))
            }
            (KeyTransport::AesKeyWrap(bits), KeyMaterial::Symmetric(kek), _) => {
                if kek.len() * 8 == usize::from(*bits) {
                    crypto::aes_unwrap(kek, wrapped)
                } else {
                    Err(Fail::Unfit(format!(
                        "EncryptedKey {n} needs a {bits}-bit AES key, and this one has {} bits",
                        kek.len() * 8
                    )))
                }
            }
            (KeyTransport::AesKeyWrap(bits), m, _) => Err(Fail::Unfit(format!(
                "EncryptedKey {n} needs a {bits}-bit AES key, and this is {}",
                kind(m)
            ))),
            (KeyTransport::Other(what), _, _) => {
                Err(Fail::Unsupported(format!("the key transport {what}")))
            }
        };
        let result = ck.and_then(|ck| {
            open(
                &ck,
                format!("EncryptedKey {n}, {}, {}", method.name(), alg.name()),
            )
        });
        match result {
            Ok(()) => {
                return Outcome::Opened(format!(
                    "EncryptedKey {n}, {}, {}",
                    method.name(),
                    alg.name()
                ));
            }
            Err(f) => fails.push(f),
        }
    }
    outcome_of(fails)
}

/// The outcome of a key from its failures, the most telling first: authenticated content that
/// was refused, then a decryption that was tried, then a reason not to try, then a misfit.
fn outcome_of(fails: Vec<Fail>) -> Outcome {
    let mut best = Outcome::NotTried("no EncryptedKey to try".into());
    let mut rank = 0;
    for f in fails {
        let (r, o) = match f {
            Fail::Refused(why) => (5, Outcome::Refused(why)),
            Fail::NoDecrypt => (4, Outcome::DoesNotDecrypt),
            Fail::Malformed(why) | Fail::Unsupported(why) => (3, Outcome::NotTried(why)),
            Fail::Unfit(why) => (2, Outcome::DoesNotFit(why)),
        };
        if r > rank {
            (rank, best) = (r, o);
        }
    }
    best
}

fn kind(m: &KeyMaterial) -> String {
    match m {
        KeyMaterial::Rsa(_) => "an RSA key".into(),
        KeyMaterial::Ec(_) => "an elliptic-curve key".into(),
        KeyMaterial::X25519(_) => "an X25519 key".into(),
        KeyMaterial::Symmetric(k) => format!("a {}-bit symmetric key", k.len() * 8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;
    use crate::secrets::{REDACTED_NOTE, placeholder};
    use crate::view::Kind;

    /// A shareable copy made by `idscope redact` has every `CipherValue` replaced: the
    /// ciphertext reads as redacted, and a key the user gives is not tried against it (never
    /// "not base64", never "does not decrypt").
    #[test]
    fn a_redacted_cipher_value_reads_as_redacted_and_is_not_tried() {
        let cv = placeholder("xml_cipher", 172, "0123abcd");
        let xml = format!(
            r#"<xenc:EncryptedData xmlns:xenc="{XENC_NS}" xmlns:ds="{DSIG_NS}"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue>{cv}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{cv}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>"#
        );
        let limits = Limits::default();
        let doc = Document::parse(&xml, &limits).unwrap();
        let data = EncryptedData::parse(&doc, doc.root().unwrap(), &limits);
        assert_eq!(data.cipher, Cipher::Redacted);
        let nodes = data.to_nodes(&doc, std::time::UNIX_EPOCH);
        let mut seen = false;
        for n in &nodes {
            n.walk(&mut |p, n| {
                assert_ne!(n.kind, Kind::Error, "{p}: {:?}", n.value);
                seen |= n.label == "CipherValue"
                    && n.note
                        .as_deref()
                        .is_some_and(|x| x.starts_with(REDACTED_NOTE));
            });
        }
        assert!(seen, "{nodes:?}");
        let mut keys = Keys::default();
        keys.add_file(
            include_bytes!("../../../tests/fixtures/keys/rsa-pkcs8.pem"),
            "--key sp.pem",
            None,
        )
        .unwrap();
        let dec = decrypt(&data, &keys, &mut Budget::default(), &|_| Ok(()));
        assert_eq!(dec.attempts.len(), 1);
        assert_eq!(dec.attempts[0].outcome, Outcome::Redacted);
        assert!(
            dec.attempts[0]
                .sentence()
                .contains("removed by idscope redact")
        );
    }
}
