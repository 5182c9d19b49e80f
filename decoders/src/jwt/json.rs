//! The JOSE JSON serializations, general and flattened: of a JWS (RFC 7515 §7.2: one payload,
//! any number of signatures, each with a protected and an unprotected header) and of a JWE
//! (RFC 7516 §7.2: one ciphertext, any number of recipients). [`parse_json`] reads a document
//! into a [`Jose`]; each JWS signature becomes a [`Token`] with the payload it covers, so it is
//! verified exactly like a compact token. [`looks_like_jose_json`] is the decoder's cheap sniff.
//!
//! It is *not* responsible for explaining (that is `json_view`) or for judging what it reads: a
//! signature without `alg` or with an unknown `crit` entry parses, and its verdict says why it is
//! invalid.

use serde_json::{Map, Value};

use super::jwe::{Jwe, Recipient};
use super::parse::{Form, Payload, Token, read_payload, unencoded};
use crate::secrets::redaction_marker;
use crate::util::{self, MAX_TOKEN_LEN, Needle};
use crate::{DecodeError, Limits};

/// Longest JOSE JSON document decoded, in bytes: a payload of [`MAX_TOKEN_LEN`] and its
/// signatures or recipients fit well within it.
pub const MAX_JOSE_JSON_LEN: usize = 4 * MAX_TOKEN_LEN;

/// Most signatures of a JWS or recipients of a JWE looked at; more are refused.
pub const MAX_MEMBERS: usize = 64;

/// Which serialization a JOSE object came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serialization {
    /// Dot-separated base64url segments.
    Compact,
    /// JSON with a `signatures` or `recipients` array.
    General,
    /// JSON with the one signature's or recipient's members at the top level.
    Flattened,
}

impl Serialization {
    /// `compact`, `general` or `flattened`.
    pub fn as_str(self) -> &'static str {
        match self {
            Serialization::Compact => "compact",
            Serialization::General => "general",
            Serialization::Flattened => "flattened",
        }
    }
}

/// A JWS in the JSON serialization.
#[derive(Debug, Clone, PartialEq)]
pub struct JwsJson {
    /// General or flattened.
    pub serialization: Serialization,
    /// One token per signature, in document order, each with the payload it covers.
    pub signatures: Vec<Token>,
    /// Length of the document, in bytes.
    pub len: usize,
}

/// A JOSE object read from its JSON serialization.
#[derive(Debug, Clone, PartialEq)]
pub enum Jose {
    /// A JWS.
    Jws(JwsJson),
    /// A JWE.
    Jwe(Jwe),
}

const EXPECTED: &str = "a JOSE JSON serialization";

static SIGNATURE: Needle = Needle::new(b"\"signature\"");
static SIGNATURES: Needle = Needle::new(b"\"signatures\"");
static PROTECTED: Needle = Needle::new(b"\"protected\"");
static HEADER: Needle = Needle::new(b"\"header\"");
static CIPHERTEXT: Needle = Needle::new(b"\"ciphertext\"");
static IV: Needle = Needle::new(b"\"iv\"");
static TAG: Needle = Needle::new(b"\"tag\"");
static UNPROTECTED: Needle = Needle::new(b"\"unprotected\"");
static RECIPIENTS: Needle = Needle::new(b"\"recipients\"");

/// A cheap sniff (nothing is parsed): a JSON object of at most [`MAX_JOSE_JSON_LEN`] bytes with
/// the member names of a JWS (`signature`/`signatures` and `protected` or `header`) or of a JWE
/// (`ciphertext`, `iv` or `tag`, and a header member or `recipients`).
pub fn looks_like_jose_json(body: &[u8]) -> bool {
    let b = body.trim_ascii();
    if !(b.starts_with(b"{") && b.ends_with(b"}")) || b.len() > MAX_JOSE_JSON_LEN {
        return false;
    }
    if (SIGNATURE.is_in(b) || SIGNATURES.is_in(b)) && (PROTECTED.is_in(b) || HEADER.is_in(b)) {
        return true;
    }
    CIPHERTEXT.is_in(b)
        && (IV.is_in(b) || TAG.is_in(b))
        && (PROTECTED.is_in(b) || UNPROTECTED.is_in(b) || HEADER.is_in(b) || RECIPIENTS.is_in(b))
}

/// Reads a JWS or JWE JSON serialization. The document is refused beyond
/// [`MAX_JOSE_JSON_LEN`] or `limits.max_body`, with more than [`MAX_MEMBERS`] signatures or
/// recipients, and when its members are not what RFC 7515 §7.2 / RFC 7516 §7.2 say (the error
/// names the member).
pub fn parse_json(text: &str, limits: &Limits) -> Result<Jose, DecodeError> {
    let t = text.trim();
    let max = MAX_JOSE_JSON_LEN.min(limits.max_body);
    if t.len() > max {
        return Err(DecodeError::TooLarge {
            what: "JOSE JSON serialization",
            limit: max,
        });
    }
    let doc = util::parse_json(t.as_bytes(), "body", limits)?;
    let Some(obj) = doc.as_object() else {
        return Err(DecodeError::not(EXPECTED, "the body is not a JSON object"));
    };
    if obj.contains_key("ciphertext") {
        return parse_jwe(obj, t.len(), limits).map(Jose::Jwe);
    }
    if obj.contains_key("signatures") || obj.contains_key("signature") {
        return parse_jws(obj, t.len(), limits).map(Jose::Jws);
    }
    Err(DecodeError::not(
        EXPECTED,
        "the object has neither `signature`/`signatures` (a JWS) nor `ciphertext` (a JWE)",
    ))
}

fn parse_jws(
    obj: &Map<String, Value>,
    len: usize,
    limits: &Limits,
) -> Result<JwsJson, DecodeError> {
    let payload = match obj.get("payload") {
        None => None,
        Some(Value::String(p)) => Some(p.as_str()),
        Some(_) => return Err(DecodeError::not(EXPECTED, "`payload` is not a string")),
    };
    // Each signature's members with where they are, for error messages.
    type Entries<'a> = Vec<(String, &'a Map<String, Value>)>;
    let (serialization, entries): (Serialization, Entries<'_>) = match obj.get("signatures") {
        Some(sigs) => {
            if let Some(m) = ["signature", "protected", "header"]
                .into_iter()
                .find(|m| obj.contains_key(*m))
            {
                return Err(DecodeError::not(
                    EXPECTED,
                    format!(
                        "both `signatures` and a top-level `{m}` (RFC 7515 §7.2.2: the \
                             flattened form has no `signatures`)"
                    ),
                ));
            }
            let arr = sigs
                .as_array()
                .ok_or_else(|| DecodeError::not(EXPECTED, "`signatures` is not an array"))?;
            if arr.is_empty() {
                return Err(DecodeError::not(EXPECTED, "`signatures` is empty"));
            }
            if arr.len() > MAX_MEMBERS {
                return Err(DecodeError::TooLarge {
                    what: "JWS signature count",
                    limit: MAX_MEMBERS,
                });
            }
            let mut entries = Vec::with_capacity(arr.len());
            for (i, s) in arr.iter().enumerate() {
                let at = format!("signatures[{i}]");
                let o = s.as_object().ok_or_else(|| {
                    DecodeError::not(EXPECTED, format!("`{at}` is not an object"))
                })?;
                entries.push((at, o));
            }
            (Serialization::General, entries)
        }
        None => (Serialization::Flattened, vec![(String::new(), obj)]),
    };
    let mut signatures = Vec::with_capacity(entries.len());
    for (at, entry) in entries {
        signatures.push(signature_token(&at, entry, payload, len, limits)?);
    }
    Ok(JwsJson {
        serialization,
        signatures,
        len,
    })
}

/// `member` or `at.member`, for error messages.
fn path(at: &str, member: &str) -> String {
    if at.is_empty() {
        member.to_string()
    } else {
        format!("{at}.{member}")
    }
}

/// A string member, `None` when absent.
fn string<'a>(
    obj: &'a Map<String, Value>,
    at: &str,
    member: &str,
) -> Result<Option<&'a str>, DecodeError> {
    match obj.get(member) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DecodeError::not(
            EXPECTED,
            format!("`{}` is not a string", path(at, member)),
        )),
    }
}

/// A base64url member decoded, empty when absent.
fn bytes(obj: &Map<String, Value>, at: &str, member: &str) -> Result<Vec<u8>, DecodeError> {
    match string(obj, at, member)? {
        None | Some("") => Ok(Vec::new()),
        Some(s) => util::b64_decode_any(s, MAX_JOSE_JSON_LEN).ok_or_else(|| {
            DecodeError::not(EXPECTED, format!("`{}` is not base64url", path(at, member)))
        }),
    }
}

/// An object member (an unprotected header), `None` when absent.
fn object(obj: &Map<String, Value>, at: &str, member: &str) -> Result<Option<Value>, DecodeError> {
    match obj.get(member) {
        None => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(DecodeError::not(
            EXPECTED,
            format!("`{}` is not a JSON object", path(at, member)),
        )),
    }
}

/// A `protected` member: its text as sent and the header it encodes (`{}` when absent).
fn protected(
    obj: &Map<String, Value>,
    at: &str,
    field: &'static str,
    limits: &Limits,
) -> Result<(String, Value), DecodeError> {
    let Some(b64) = string(obj, at, "protected")? else {
        return Ok((String::new(), Value::Object(Map::new())));
    };
    let raw = util::b64_decode_any(b64, MAX_TOKEN_LEN).ok_or_else(|| {
        DecodeError::not(
            EXPECTED,
            format!("`{}` is not base64url", path(at, "protected")),
        )
    })?;
    let header = match util::parse_json(&raw, field, limits) {
        Ok(h) if h.is_object() => h,
        Ok(_) => {
            return Err(DecodeError::not(
                EXPECTED,
                format!("`{}` is not a JSON object", path(at, "protected")),
            ));
        }
        Err(DecodeError::Json { message, .. }) => {
            return Err(DecodeError::not(
                EXPECTED,
                format!("`{}` is not JSON: {message}", path(at, "protected")),
            ));
        }
        Err(e) => return Err(e),
    };
    Ok((b64.to_string(), header))
}

fn signature_token(
    at: &str,
    entry: &Map<String, Value>,
    payload: Option<&str>,
    len: usize,
    limits: &Limits,
) -> Result<Token, DecodeError> {
    let (protected_b64, header) = protected(entry, at, "JWS protected header", limits)?;
    let unprotected = object(entry, at, "header")?;
    let sig_text = string(entry, at, "signature")?.ok_or_else(|| {
        DecodeError::not(EXPECTED, format!("`{}` is missing", path(at, "signature")))
    })?;
    // `REDACTED-SIG-…`, or a placeholder where redaction read the member by its name.
    let redacted = redaction_marker(sig_text).is_some();
    let signature = if redacted {
        Vec::new()
    } else {
        bytes(entry, at, "signature")?
    };
    let (payload_kind, claims) = match payload {
        None => (Payload::Detached, None),
        Some(p) if p.len() > MAX_TOKEN_LEN => {
            return Err(DecodeError::TooLarge {
                what: "JWS payload",
                limit: MAX_TOKEN_LEN,
            });
        }
        // RFC 7797: with `b64: false` the member holds the payload itself.
        Some(p) if unencoded(&header) => {
            read_payload(p.as_bytes().to_vec(), "JWS payload", limits)?
        }
        Some(p) => {
            let raw = util::b64_decode_any(p, MAX_TOKEN_LEN).ok_or(DecodeError::Base64 {
                field: "JWS payload",
            })?;
            read_payload(raw, "JWS payload", limits)?
        }
    };
    Ok(Token {
        form: Form::Jws,
        header,
        unprotected,
        claims,
        payload: payload_kind,
        signature,
        signing_input: format!("{protected_b64}.{}", payload.unwrap_or("")),
        jwe: None,
        len,
        signature_redacted: redacted,
    })
}

fn parse_jwe(obj: &Map<String, Value>, len: usize, limits: &Limits) -> Result<Jwe, DecodeError> {
    let (protected_b64, protected) = protected(obj, "", "JWE protected header", limits)?;
    let unprotected = object(obj, "", "unprotected")?;
    let (serialization, recipients) = match obj.get("recipients") {
        Some(list) => {
            if let Some(m) = ["header", "encrypted_key"]
                .into_iter()
                .find(|m| obj.contains_key(*m))
            {
                return Err(DecodeError::not(
                    EXPECTED,
                    format!(
                        "both `recipients` and a top-level `{m}` (RFC 7516 §7.2.2: the \
                         flattened form has no `recipients`)"
                    ),
                ));
            }
            let arr = list
                .as_array()
                .ok_or_else(|| DecodeError::not(EXPECTED, "`recipients` is not an array"))?;
            if arr.is_empty() {
                return Err(DecodeError::not(EXPECTED, "`recipients` is empty"));
            }
            if arr.len() > MAX_MEMBERS {
                return Err(DecodeError::TooLarge {
                    what: "JWE recipient count",
                    limit: MAX_MEMBERS,
                });
            }
            let mut out = Vec::with_capacity(arr.len());
            for (i, r) in arr.iter().enumerate() {
                let at = format!("recipients[{i}]");
                let o = r.as_object().ok_or_else(|| {
                    DecodeError::not(EXPECTED, format!("`{at}` is not an object"))
                })?;
                out.push(Recipient {
                    header: object(o, &at, "header")?,
                    encrypted_key: bytes(o, &at, "encrypted_key")?,
                });
            }
            (Serialization::General, out)
        }
        None => (
            Serialization::Flattened,
            vec![Recipient {
                header: object(obj, "", "header")?,
                encrypted_key: bytes(obj, "", "encrypted_key")?,
            }],
        ),
    };
    let aad = string(obj, "", "aad")?.map(str::to_string);
    if aad.is_some() {
        // Decoded only to refuse what is not base64url; the AAD is used as sent.
        bytes(obj, "", "aad")?;
    }
    Ok(Jwe {
        serialization,
        protected,
        protected_b64,
        unprotected,
        recipients,
        iv: bytes(obj, "", "iv")?,
        ciphertext: bytes(obj, "", "ciphertext")?,
        tag: bytes(obj, "", "tag")?,
        aad,
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jws(text: &str) -> JwsJson {
        match parse_json(text, &Limits::default()) {
            Ok(Jose::Jws(j)) => j,
            other => panic!("expected a JWS, got {other:?}"),
        }
    }

    #[test]
    fn general_and_flattened_jws_become_one_token_per_signature() {
        let general = r#"{"payload":"eyJhIjoxfQ","signatures":[
            {"protected":"eyJhbGciOiJIUzI1NiJ9","signature":"AAAA"},
            {"header":{"alg":"ES512","kid":"k"},"signature":"AQID"}]}"#;
        let j = jws(general);
        assert_eq!(j.serialization, Serialization::General);
        assert_eq!(j.signatures.len(), 2);
        let [a, b] = j.signatures.as_slice() else {
            panic!("two signatures")
        };
        assert_eq!(a.alg(), Some("HS256"));
        assert_eq!(a.signing_input, "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ");
        assert_eq!(a.claim_str("a").as_deref(), Some("1"));
        assert_eq!(b.alg(), Some("ES512"));
        assert_eq!(b.header, Value::Object(Map::new()));
        assert_eq!(b.signing_input, ".eyJhIjoxfQ");
        assert_eq!(b.signature, vec![1, 2, 3]);

        let flat =
            r#"{"protected":"eyJhbGciOiJIUzI1NiJ9","header":{"kid":"x"},"signature":"AAAA"}"#;
        let j = jws(flat);
        assert_eq!(j.serialization, Serialization::Flattened);
        assert_eq!(
            j.signatures.first().map(|t| &t.payload),
            Some(&Payload::Detached)
        );
        assert_eq!(
            j.signatures.first().and_then(|t| t.header_str("kid")),
            Some("x")
        );
    }

    #[test]
    fn jwe_members_are_read_and_measured() {
        let text = r#"{"protected":"eyJlbmMiOiJBMTI4R0NNIn0","unprotected":{"jku":"x"},
            "recipients":[{"header":{"alg":"A128KW","kid":"a"},"encrypted_key":"AAAA"},
                          {"header":{"alg":"dir"}}],
            "iv":"AAAAAAAAAAAAAAAA","ciphertext":"AQID","tag":"AAAAAAAAAAAAAAAAAAAAAA"}"#;
        let Ok(Jose::Jwe(j)) = parse_json(text, &Limits::default()) else {
            panic!("a JWE")
        };
        assert_eq!(j.serialization, Serialization::General);
        assert_eq!(j.recipients.len(), 2);
        assert_eq!(j.param(0, "alg").and_then(Value::as_str), Some("A128KW"));
        assert_eq!(j.param(1, "enc").and_then(Value::as_str), Some("A128GCM"));
        assert_eq!(j.param(1, "jku").and_then(Value::as_str), Some("x"));
        assert_eq!((j.iv.len(), j.ciphertext.len(), j.tag.len()), (12, 3, 16));
    }

    #[test]
    fn malformed_members_are_named() {
        let err = |t: &str| parse_json(t, &Limits::default()).map(|_| ()).unwrap_err();
        assert_eq!(
            err(r#"{"payload":"e30","signatures":[{"protected":"e!","signature":"AA"}]}"#),
            DecodeError::not(EXPECTED, "`signatures[0].protected` is not base64url")
        );
        assert_eq!(
            err(r#"{"payload":"e30","signatures":[{},{"protected":"eyJ","signature":"AA"}]}"#),
            DecodeError::not(EXPECTED, "`signatures[0].signature` is missing")
        );
        assert_eq!(
            err(
                r#"{"payload":"e30","signatures":[{"signature":""},{"protected":"eyJ","signature":"AA"}]}"#
            ),
            DecodeError::not(
                EXPECTED,
                "`signatures[1].protected` is not JSON: EOF while parsing a string at line 1 column 2"
            )
        );
        assert_eq!(
            err(r#"{"payload":"e30","signatures":[{"protected":"e30"}]}"#),
            DecodeError::not(EXPECTED, "`signatures[0].signature` is missing")
        );
        assert_eq!(
            err(r#"{"payload":1,"signature":"AA","protected":"e30"}"#),
            DecodeError::not(EXPECTED, "`payload` is not a string")
        );
        assert_eq!(
            err(r#"{"signatures":[],"payload":"e30"}"#),
            DecodeError::not(EXPECTED, "`signatures` is empty")
        );
        assert!(matches!(
            err(r#"{"signatures":[{"signature":"AA"}],"signature":"AA"}"#),
            DecodeError::NotThisKind { .. }
        ));
        assert_eq!(
            err(r#"{"ciphertext":"AA","header":[]}"#),
            DecodeError::not(EXPECTED, "`header` is not a JSON object")
        );
        assert_eq!(
            err(r#"{"a":1}"#),
            DecodeError::not(
                EXPECTED,
                "the object has neither `signature`/`signatures` (a JWS) nor `ciphertext` (a JWE)"
            )
        );
        let many = format!(
            r#"{{"signatures":[{}]}}"#,
            vec![r#"{"signature":"AA"}"#; MAX_MEMBERS + 1].join(",")
        );
        assert_eq!(
            err(&many),
            DecodeError::TooLarge {
                what: "JWS signature count",
                limit: MAX_MEMBERS
            }
        );
    }

    #[test]
    fn the_sniff_wants_jose_member_names_at_the_edges_of_an_object() {
        assert!(looks_like_jose_json(
            br#" {"payload":"e30","signatures":[{"protected":"e30","signature":""}]} "#
        ));
        assert!(looks_like_jose_json(
            br#"{"protected":"e30","iv":"","ciphertext":"","tag":""}"#
        ));
        assert!(!looks_like_jose_json(br#"{"signature":"abc","name":"x"}"#));
        assert!(!looks_like_jose_json(br#"{"keys":[{"kty":"RSA"}]}"#));
        assert!(!looks_like_jose_json(br#"["signature","protected"]"#));
    }

    /// Pieces of JOSE JSON documents, for documents built at random.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"payload\"",
        "\"signatures\"",
        "\"signature\"",
        "\"protected\"",
        "\"header\"",
        "\"ciphertext\"",
        "\"recipients\"",
        "\"iv\"",
        "\"tag\"",
        "\"aad\"",
        "\"unprotected\"",
        "\"encrypted_key\"",
        "\"eyJhbGciOiJIUzI1NiJ9\"",
        "\"eyJhbGciOiJFUzUxMiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19\"",
        "\"e30\"",
        "\"AAAA\"",
        "\"\"",
        "\"$.02\"",
        "{\"alg\":\"none\"}",
        "{\"kid\":\"k\"}",
        "1",
        "null",
    ];

    proptest::proptest! {
        #[test]
        fn any_document_parses_or_says_why_and_every_parse_explains(
            picks in proptest::collection::vec(proptest::sample::select(PIECES), 0..40)
        ) {
            let text = picks.concat();
            let _ = looks_like_jose_json(text.as_bytes());
            if let Ok(jose) = parse_json(&text, &Limits::default()) {
                let mut trust = crate::Trust::default();
                trust.add_jwks(&serde_json::json!({"kty":"oct","k":"AAAA"}), "t");
                let cx = crate::Context::new(std::time::UNIX_EPOCH, &trust);
                let d = super::super::explain_json(&jose, &cx);
                proptest::prop_assert_eq!(d.decoder, "jwt");
            }
        }
    }
}
