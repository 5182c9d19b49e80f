//! The trusted certificates a JWS header names, as the JWKs `verify` checks with: the header's
//! `x5t` (SHA-1) and `x5t#S256` (SHA-256) thumbprints and its `x5c` leaf are looked up in
//! [`Trust::jws_signers`], and each certificate found becomes a JWK of its public key (RSA `n`
//! and `e`, an EC point's `x` and `y` on its named curve, an Ed25519 key's `x`).
//!
//! It is *not* responsible for deciding which certificates are trusted (that is `Trust`) or for
//! checking signatures (`keys`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use x509_parser::public_key::PublicKey;

use super::parse::Token;
use crate::util::{self, MAX_TOKEN_LEN};
use crate::{Trust, TrustedKey, x509};

/// The first certificate of the header's `x5c` (the signer's, RFC 7515 §4.1.6), as DER. Some
/// clients send a single string instead of an array.
pub fn x5c_leaf(token: &Token) -> Option<Vec<u8>> {
    let first = match token.param("x5c")? {
        Value::Array(a) => a.first()?.as_str()?,
        Value::String(s) => s.as_str(),
        _ => return None,
    };
    util::b64_decode_any(first, MAX_TOKEN_LEN)
}

/// A thumbprint header parameter decoded to its digest, when it is base64url of `len` bytes.
pub(crate) fn thumbprint(token: &Token, name: &str, len: usize) -> Option<Vec<u8>> {
    token
        .header_str(name)
        .and_then(|t| util::b64_decode_any(t, 64))
        .filter(|d| d.len() == len)
}

/// The trusted certificates the header names, as keys: `kid` is the header's `x5t` (or
/// `x5t#S256`, or the certificate's own SHA-1 thumbprint for an `x5c` leaf), `source` the
/// certificate's source and its subject.
pub(crate) fn named_keys(token: &Token, trust: &Trust) -> Vec<TrustedKey> {
    let sha1 = thumbprint(token, "x5t", 20);
    let sha256 = thumbprint(token, "x5t#S256", 32);
    let leaf = x5c_leaf(token);
    if sha1.is_none() && sha256.is_none() && leaf.is_none() {
        return Vec::new();
    }
    trust
        .jws_signers(sha1.as_deref(), sha256.as_deref(), leaf.as_deref())
        .into_iter()
        .filter_map(|c| {
            let cert = x509::Certificate::parse(&c.der).ok()?;
            let kid = token
                .header_str("x5t")
                .or_else(|| token.header_str("x5t#S256"))
                .map_or_else(|| cert.sha1_b64url(), str::to_string);
            let mut jwk = jwk_of(&c.der)?;
            if let Some(o) = jwk.as_object_mut() {
                o.insert("kid".into(), Value::String(kid));
            }
            Some(TrustedKey {
                jwk,
                source: format!("{} ({})", c.source, cert.subject),
            })
        })
        .collect()
}

/// The source of a pinned thumbprint (`--trust-thumbprint …`) equal to the header's `x5t` or
/// `x5t#S256`: the certificate is trusted, but a thumbprint alone holds no key.
pub(crate) fn pinned_without_certificate<'t>(token: &Token, trust: &'t Trust) -> Option<&'t str> {
    let sha1 = thumbprint(token, "x5t", 20);
    let sha256 = thumbprint(token, "x5t#S256", 32);
    trust
        .thumbprints
        .iter()
        .find(|p| {
            let d = p.thumbprint.as_bytes();
            sha1.as_deref() == Some(d) || sha256.as_deref() == Some(d)
        })
        .map(|p| p.source.as_str())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The public key of a DER certificate as a JWK, for the key types JWS signs with.
pub(crate) fn jwk_of(cert_der: &[u8]) -> Option<Value> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    let spki = cert.public_key();
    match spki.parsed().ok()? {
        PublicKey::RSA(rsa) => Some(json!({
            "kty": "RSA",
            "n": b64(x509::strip_zeros(rsa.modulus)),
            "e": b64(x509::strip_zeros(rsa.exponent)),
        })),
        PublicKey::EC(point) => {
            let oid = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
            let (crv, size) = match oid.to_id_string().as_str() {
                "1.2.840.10045.3.1.7" => ("P-256", 32),
                "1.3.132.0.34" => ("P-384", 48),
                "1.3.132.0.35" => ("P-521", 66),
                _ => return None,
            };
            let data = point.data();
            let (x, y) = data
                .strip_prefix(&[0x04])
                .filter(|xy| xy.len() == 2 * size)?
                .split_at(size);
            Some(json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)}))
        }
        _ if spki.algorithm.algorithm.to_id_string() == "1.3.101.112" => Some(json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64(&spki.subject_public_key.data),
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{Verdict, parse, verify};
    use crate::trust::Thumbprint;
    use crate::xml::dsig::TrustedCert;

    /// The client assertion of a golden case (`fixtures/oauth/<case>.http`).
    fn assertion(http: &str) -> Token {
        let body = http.split("\n\n").nth(1).unwrap();
        let value = crate::util::parse_form(body.trim().as_bytes())
            .into_iter()
            .find(|(k, _)| k == "client_assertion")
            .unwrap()
            .1;
        parse(&value).unwrap()
    }

    /// A PS256 assertion naming its certificate by x5t#S256, and an RS256 one by x5t with the
    /// same certificate in x5c: both signed by the key of `APP_PEM`.
    const PS256: &str =
        include_str!("../../tests/fixtures/oauth/client_assertion_sync_ps256_v2.http");
    const RS256_X5C: &str =
        include_str!("../../tests/fixtures/oauth/client_assertion_sync_rs256_v1_x5c.http");
    const APP_PEM: &[u8] =
        include_bytes!("../../tests/fixtures/oauth/client_assertion_sync_ps256_v2.trust.pem");
    /// An ES256 assertion and its P-256 certificate.
    const ES256: &str = include_str!("../../tests/fixtures/oauth/client_assertion_es256.http");
    const EC_PEM: &[u8] =
        include_bytes!("../../tests/fixtures/oauth/client_assertion_es256.trust.pem");
    /// Another certificate (the ADFS one of the WS-Fed cases).
    const OTHER_PEM: &[u8] = include_bytes!("../../tests/fixtures/wsfed/login_srf_post.trust.pem");

    fn trust_with(pem: &[u8], source: &str) -> Trust {
        Trust {
            certs: TrustedCert::from_pem_or_der(pem, source).unwrap(),
            ..Trust::default()
        }
    }

    #[test]
    fn a_certificate_given_by_the_user_verifies_the_assertion_its_thumbprint_names() {
        let trust = trust_with(APP_PEM, "--trust-cert app.pem");
        for (http, param) in [(PS256, "x5t#S256"), (RS256_X5C, "x5t")] {
            let token = assertion(http);
            let kid = token.header_str(param).unwrap().to_string();
            assert_eq!(
                verify(&token, &trust),
                Verdict::Verified {
                    kid,
                    source: "--trust-cert app.pem (CN=Entra Connect Sync (synthetic))".into()
                },
                "{param}"
            );
        }
    }

    #[test]
    fn another_certificate_or_none_leaves_the_assertion_unverified() {
        let token = assertion(PS256);
        let why = format!(
            "no trusted key with x5t#S256={}",
            token.header_str("x5t#S256").unwrap()
        );
        for trust in [
            Trust::default(),
            trust_with(OTHER_PEM, "--trust-cert adfs.pem"),
        ] {
            assert_eq!(verify(&token, &trust), Verdict::NoKey { why: why.clone() });
        }
    }

    #[test]
    fn the_x5c_certificate_counts_only_when_the_user_pinned_it() {
        let token = assertion(RS256_X5C);
        // Carried in the header, not trusted: nothing verifies.
        assert!(matches!(
            verify(&token, &Trust::default()),
            Verdict::NoKey { .. }
        ));
        let der = x5c_leaf(&token).unwrap();
        let mut trust = Trust::default();
        trust.pin_thumbprint(Thumbprint::sha256_of(&der), "--trust-thumbprint 4d7d…");
        match verify(&token, &trust) {
            Verdict::Verified { source, .. } => assert!(
                source.starts_with("--trust-thumbprint 4d7d… (the certificate in the message)"),
                "{source}"
            ),
            other => panic!("expected verified, got {other:?}"),
        }
        // A pinned thumbprint names the certificate of an assertion without x5c, but holds no
        // key.
        let ps256 = assertion(PS256);
        let mut pin_only = Trust::default();
        pin_only.pin_thumbprint(Thumbprint::sha256_of(&der), "--trust-thumbprint 4d7d…");
        assert_eq!(
            verify(&ps256, &pin_only),
            Verdict::NoKey {
                why: format!(
                    "the certificate with x5t#S256={} is pinned (--trust-thumbprint 4d7d…) but \
                     neither the message nor the trusted certificates hold it (give it with \
                     --trust-cert)",
                    ps256.header_str("x5t#S256").unwrap()
                )
            }
        );
        // A certificate seen in the capture is never an anchor.
        let mut seen = Trust::default();
        seen.add_seen_cert(der, "x5c of the client assertion in flow #2");
        assert!(matches!(verify(&token, &seen), Verdict::NoKey { .. }));
    }

    #[test]
    fn ec_and_rsa_certificates_become_jwks() {
        let rsa = crate::x509::Certificate::parse(&x509_der(APP_PEM)).unwrap();
        let jwk = jwk_of(&x509_der(APP_PEM)).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(
            crate::util::b64_decode_any(jwk["n"].as_str().unwrap(), 1024).unwrap(),
            rsa.rsa_modulus.unwrap()
        );
        let ec = jwk_of(&x509_der(EC_PEM)).unwrap();
        assert_eq!((&ec["kty"], &ec["crv"]), (&"EC".into(), &"P-256".into()));
        for c in ["x", "y"] {
            let bytes = crate::util::b64_decode_any(ec[c].as_str().unwrap(), 64).unwrap();
            assert_eq!(bytes.len(), 32, "{c}");
        }
        // And the EC certificate verifies the ES256 assertion it signed.
        let token = assertion(ES256);
        let trust = trust_with(EC_PEM, "--trust-cert ec.pem");
        assert!(matches!(verify(&token, &trust), Verdict::Verified { .. }));
        assert_eq!(jwk_of(b"not a certificate"), None);
    }

    fn x509_der(pem: &[u8]) -> Vec<u8> {
        TrustedCert::from_pem_or_der(pem, "t")
            .unwrap()
            .remove(0)
            .der
    }
}
