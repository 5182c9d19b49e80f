//! The view of a token's header: each parameter with its meaning, embedded `x5c` certificates,
//! key URLs (`jku`, `x5u`) and embedded keys as findings, the RFC 7797 `b64` extension, and the
//! segment sizes of a JWE. [`explain_params`] explains any JOSE header object (a compact token's,
//! or a protected or unprotected header of a JSON serialization).
//!
//! It is *not* responsible for the claims or for the signature verdict.

use serde_json::Value;

use super::parse::{Form, JweSegments, Token, ordered};
use crate::Context;
use crate::util::{self, MAX_TOKEN_LEN};
use crate::view::{Finding, Kind, Node};
use crate::x509;

/// Header parameters in reading order; the rest follow alphabetically.
const HEADER_ORDER: &[&str] = &[
    "typ", "alg", "enc", "kid", "x5t", "x5t#S256", "nonce", "zip", "cty", "ctx", "kdf_ver", "x5c",
    "jku", "x5u", "jwk", "b64", "crit", "epk", "apu", "apv",
];

pub(super) fn explain_header(token: &Token, cx: &Context<'_>, findings: &mut Vec<Finding>) -> Node {
    explain_params("header", "header", &token.header, token.form, cx, findings)
}

/// The section `label` explaining a header object: each parameter with its meaning. Findings
/// point at `at/<parameter>`.
pub(super) fn explain_params(
    label: &str,
    at: &str,
    header: &Value,
    form: Form,
    cx: &Context<'_>,
    findings: &mut Vec<Finding>,
) -> Node {
    let mut sec = Node::section(label);
    let Some(map) = header.as_object() else {
        return sec;
    };
    for (name, v) in ordered(map, HEADER_ORDER) {
        let text = util::json_scalar(v);
        let node = match name.as_str() {
            "typ" => {
                Node::field("typ", &text).with_note(match text.to_ascii_lowercase().as_str() {
                    "jwt" => "token type: a JWT",
                    "at+jwt" => "token type: an OAuth access token (RFC 9068)",
                    "pop" => "token type: a proof-of-possession token",
                    _ => "token type (media type of the whole token)",
                })
            }
            "alg" => Node::field("alg", &text).with_note(alg_meaning(&text)),
            "enc" => Node::field("enc", &text).with_note(enc_meaning(&text)),
            "kid" => Node::field("kid", &text).with_note(if form == Form::Jwe {
                "key id: which of the recipient's keys the content key was encrypted to"
            } else {
                "key id: which of the signer's keys (the issuer's JWKS) made the signature; \
                 selects the trusted key to verify with"
            }),
            "x5t" => Node::field("x5t", &text).with_note(thumbprint_note(
                &text,
                "SHA-1",
                "thumbprint of the signing certificate (Entra ID sets kid to the same value); \
                 also selects the trusted key",
            )),
            "x5t#S256" => Node::field("x5t#S256", &text).with_note(thumbprint_note(
                &text,
                "SHA-256",
                "thumbprint of the signing certificate",
            )),
            "x5c" => {
                findings.push(
                    Finding::info(
                        "embedded `x5c` certificate proves nothing by itself: anyone can embed a \
                         certificate; the signature is only checked against trusted keys",
                    )
                    .at(format!("{at}/x5c")),
                );
                explain_x5c(v, cx)
            }
            "jwk" => {
                findings.push(
                    Finding::warning(
                        "embedded `jwk` proves nothing: a token that carries its own key can be \
                         signed by anyone; it is never used to verify",
                    )
                    .at(format!("{at}/jwk")),
                );
                Node::field("jwk", v.to_string())
                    .with_note("a public key embedded by the sender: shown, never trusted")
            }
            "jku" | "x5u" => {
                findings.push(
                    Finding::warning(format!(
                        "header `{name}` points to {text}: never fetched; a key location chosen \
                         by the token proves nothing"
                    ))
                    .at(format!("{at}/{name}")),
                );
                Node::field(name.clone(), &text).with_note(if name == "jku" {
                    "URL of a JWK set chosen by the token: never fetched"
                } else {
                    "URL of an X.509 certificate chosen by the token: never fetched"
                })
            }
            "ctx" => {
                let n = util::b64_decode_any(&text, 1024).map(|b| b.len());
                Node::field("ctx", &text).with_note(format!(
                    "PRT key-derivation context ({}): the HS256/JWE key is derived from the session \
                     key and this value (SP 800-108 KDF, label \"AzureAD-SecureConversation\")",
                    n.map_or("not base64".to_string(), |n| format!("{n} bytes"))
                ))
            }
            "kdf_ver" => Node::field("kdf_ver", &text).with_note(if text == "2" {
                "KDFv2: the derivation context is SHA-256(ctx || payload bytes), so any \
                 re-serialization of the payload changes the key"
            } else {
                "key-derivation version (absent or 1: the context is ctx itself)"
            }),
            "nonce" => Node::field("nonce", &text).with_note(
                "header nonce: Microsoft Graph access tokens carry one; they are signed over a \
                 different header than the one sent, so generic signature checks fail on them \
                 and only Graph validates them. Shown as sent, not altered",
            ),
            "zip" => Node::field("zip", &text)
                .with_note("the plaintext was DEFLATE-compressed before encryption"),
            "cty" => Node::field("cty", &text).with_note("content type of the payload"),
            "use" => Node::field("use", &text).with_note(if text == "ngc" {
                "signed with a Windows Hello for Business (NGC) key"
            } else {
                "intended use of the key"
            }),
            "ser" => Node::field("ser", &text)
                .with_note("Entra ID serialization version of an opaque (encrypted) token"),
            "crit" => Node::field("crit", v.to_string()).with_note(
                "header parameters the recipient must understand; one it does not makes the JWS \
                 invalid (RFC 7515 §4.1.11). idscope understands b64",
            ),
            "b64" => Node::field("b64", &text).with_note(if v == &Value::Bool(false) {
                "RFC 7797 unencoded payload: the payload is sent and signed as it is, not \
                 base64url-encoded"
            } else {
                "RFC 7797: true is the default (a base64url-encoded payload)"
            }),
            "epk" => Node::field("epk", super::keys::key_kind(v)).with_note(format!(
                "the sender's ephemeral public key (ECDH-ES): with the recipient's private key it \
                 derives the content key; {}",
                v
            )),
            "apu" | "apv" => Node::field(name.clone(), &text).with_note(format!(
                "ECDH-ES agreement {} info (base64url), mixed into the key derivation",
                if name == "apu" { "PartyU" } else { "PartyV" }
            )),
            "p2s" => Node::field("p2s", &text)
                .with_note("PBES2 salt input (base64url): the key is derived from a password"),
            "p2c" => Node::field("p2c", &text).with_note("PBES2 iteration count"),
            "iv" | "tag" if form == Form::Jwe => Node::field(name.clone(), &text)
                .with_note("AES-GCM key wrap parameter: the wrapped content key's nonce or tag"),
            _ => Node::field(name.clone(), text),
        };
        sec.push(node);
    }
    sec
}

/// A warning when a protected header says `b64: false` without listing `b64` in `crit`.
pub(super) fn b64_findings(protected: &Value, at: &str) -> Vec<Finding> {
    let listed = protected
        .get("crit")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|n| n == "b64"));
    if !super::parse::unencoded(protected) || listed {
        return Vec::new();
    }
    vec![
        Finding::warning(
            "b64: false without crit [\"b64\"]: RFC 7797 §6 requires crit to list b64; a \
             recipient that does not know b64 reads this payload as base64url",
        )
        .at(format!("{at}/b64")),
    ]
}

fn thumbprint_note(text: &str, hash: &str, what: &str) -> String {
    match util::b64_decode_any(text, 64) {
        Some(b) => format!("{hash} {what} (hex {})", util::hex_lower(&b)),
        None => format!("{hash} {what} (not valid base64url)"),
    }
}

fn explain_x5c(v: &Value, cx: &Context<'_>) -> Node {
    // The spec says an array; some PRT clients send a single string.
    let certs: Vec<&str> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => vec![],
    };
    let mut node = Node::field("x5c", format!("{} certificate(s)", certs.len())).with_note(
        "certificate chain embedded by the sender (standard base64 DER): it identifies the \
         sender's key, it does not prove anything by itself",
    );
    if !matches!(v, Value::Array(_)) {
        node.note = node
            .note
            .map(|n| format!("{n}; sent as a single string instead of an array"));
    }
    for (i, c) in certs.iter().enumerate() {
        node.push(explain_cert(&format!("cert[{i}]"), c, cx));
    }
    node
}

/// How an `x5c` entry is shown: the subject as the value, key size in bits, SHA-256 lower-case.
const X5C_CERT: x509::Style = x509::Style {
    head: x509::Head::Field,
    rows: &[
        x509::Row::Subject {
            guid_note: Some(
                "the CN is a GUID: on a device certificate it is the Entra ID device id",
            ),
        },
        x509::Row::Issuer(x509::IssuerNote::SelfSignedOrCa),
        x509::Row::Serial { colons: true },
        x509::NOT_BEFORE_SNAKE,
        x509::NOT_AFTER_SNAKE,
        x509::Row::Key {
            label: "public_key",
            form: x509::KeyForm::Size {
                unit: " bits",
                other: "other",
                unparsed: "unparsed",
            },
            note: None,
        },
        x509::Row::Sha256 {
            label: "sha256",
            case: x509::Case::Lower,
            note: x509::HashNote::Text("SHA-256 thumbprint of the DER certificate"),
        },
    ],
};

fn explain_cert(label: &str, b64: &str, cx: &Context<'_>) -> Node {
    let Some(der) = util::b64_decode_any(b64, MAX_TOKEN_LEN) else {
        return Node::leaf(label, "not valid base64", Kind::Error);
    };
    match x509::Certificate::parse(&der) {
        Ok(cert) => cert
            .node(label, &X5C_CERT, cx.now)
            .with_note(format!("{} bytes DER", cert.der_len)),
        Err(e) => Node::leaf(label, format!("not an X.509 certificate: {e}"), Kind::Error),
    }
}

pub(super) fn explain_jwe_segments(seg: &JweSegments, token: &Token) -> Node {
    let dir = token.alg() == Some("dir");
    Node::section("segments").with_children([
        Node::field("encrypted_key", format!("{} bytes", seg.encrypted_key)).with_note(
            if dir {
                "empty for alg dir: the key is shared (PRT: derived from the session key)"
            } else {
                "the content-encryption key, wrapped for the recipient"
            },
        ),
        Node::field("iv", format!("{} bytes", seg.iv)).with_note(match seg.iv {
            12 => "12 bytes: AES-GCM nonce",
            16 => "16 bytes: an AES-CBC IV (some PRT implementations encrypt with CBC despite enc A256GCM)",
            _ => "initialization vector",
        }),
        Node::field("ciphertext", format!("{} bytes", seg.ciphertext))
            .with_note("the encrypted payload: not readable without the key"),
        Node::field("tag", format!("{} bytes", seg.tag)).with_note("authentication tag"),
    ])
}

fn alg_meaning(alg: &str) -> &'static str {
    match alg {
        "RS256" => {
            "RSASSA-PKCS1-v1_5 with SHA-256: signed with the signer's private RSA key, checked with its public key"
        }
        "RS384" => "RSASSA-PKCS1-v1_5 with SHA-384",
        "RS512" => "RSASSA-PKCS1-v1_5 with SHA-512",
        "PS256" => "RSASSA-PSS with SHA-256",
        "PS384" => "RSASSA-PSS with SHA-384",
        "PS512" => "RSASSA-PSS with SHA-512",
        "ES256" => "ECDSA on P-256 with SHA-256",
        "ES384" => "ECDSA on P-384 with SHA-384",
        "ES512" => "ECDSA on P-521 with SHA-512",
        "EdDSA" => "EdDSA signature (Ed25519)",
        "HS256" => {
            "HMAC-SHA256 with a shared secret (PRT artefacts: a key derived from the session key); only holders of the secret can check it"
        }
        "HS384" => "HMAC-SHA384 with a shared secret",
        "HS512" => "HMAC-SHA512 with a shared secret",
        "none" | "None" | "NONE" => "unsigned: no signature, nothing protects the content",
        "RSA-OAEP" => {
            "JWE: the content key is wrapped with RSA-OAEP (SHA-1) under the recipient's public key (PRT: the device transport key)"
        }
        "RSA-OAEP-256" => {
            "JWE: the content key is wrapped with RSA-OAEP-256 under the recipient's public key"
        }
        "RSA1_5" => "JWE: the content key is wrapped with RSAES-PKCS1-v1_5",
        "dir" => {
            "JWE: direct encryption with a shared symmetric key (PRT responses: derived from the session key and ctx)"
        }
        "ECDH-ES" => "JWE: key agreement with ephemeral-static ECDH",
        "ECDH-ES+A128KW" | "ECDH-ES+A192KW" | "ECDH-ES+A256KW" => {
            "JWE: ephemeral-static ECDH agreement, then AES key wrap of the content key"
        }
        "A128KW" | "A192KW" | "A256KW" => "JWE: the content key is wrapped with AES key wrap",
        "A128GCMKW" | "A192GCMKW" | "A256GCMKW" => {
            "JWE: the content key is wrapped with AES-GCM under a shared key"
        }
        "PBES2-HS256+A128KW" | "PBES2-HS384+A192KW" | "PBES2-HS512+A256KW" => {
            "JWE: the content key is wrapped with AES key wrap under a key derived from a password"
        }
        _ => "unrecognized algorithm",
    }
}

fn enc_meaning(enc: &str) -> &'static str {
    match enc {
        "A128GCM" | "A192GCM" | "A256GCM" => {
            "AES-GCM content encryption (12-byte IV, 16-byte tag; some PRT implementations use \
             AES-CBC despite this value: see the IV size)"
        }
        "A128CBC-HS256" | "A192CBC-HS384" | "A256CBC-HS512" => {
            "AES-CBC with HMAC-SHA2 content encryption (16-byte IV)"
        }
        _ => "unrecognized content encryption",
    }
}
