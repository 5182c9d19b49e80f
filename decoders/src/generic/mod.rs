//! Generic fallback decoders: [`Json`], [`Form`], [`Xml`], [`Url`] and [`Base64`]. They apply to
//! nearly anything of their syntax, so they answer with low priorities (0.1–0.3) and every
//! protocol decoder wins over them; their ids are listed in [`crate::registry::GENERIC`].
//!
//! This module is responsible for faithful, bounded trees of those syntaxes: JSON members in wire
//! order (duplicates kept and flagged), form and query parameters in order, XML elements with
//! attributes, and values under secret-looking names marked [`Kind::Secret`](crate::view::Kind::Secret) (see
//! [`is_secret_name`]). Values that are something more (a JWT in a JSON string, base64 of XML in a
//! query parameter) are decoded one level deeper through
//! [`Context::decode_nested`](crate::Context::decode_nested).
//!
//! One file per view: [`json`], [`form`], [`xml`], [`url`] and [`base64`]; [`nested`] holds what
//! they share (nested decoding and the tree builder). Which names are credentials is the secrets
//! policy's ([`crate::secrets`]). XML
//! is read with [`crate::xml::Document::parse_lenient`], which refuses a DOCTYPE and never
//! resolves entities beyond the predefined ones and character references, and shown with
//! [`crate::xml::display`].
//!
//! It is not responsible for what a protocol means: the realm, OIDC, OAuth and JWT decoders explain
//! fields; here a field is only a name, a value and maybe a nested decode.

pub mod base64;
pub mod form;
pub mod json;
pub mod nested;
pub mod url;
pub mod xml;

pub use crate::secrets::is_secret_name;
pub use base64::Base64;
pub use form::Form;
pub use json::{Json, JsonValue, json_tree, json_tree_plain, parse_json_ordered};
pub use nested::{decode_value, looks_like_jwt};
pub use url::Url;
pub use xml::Xml;

/// The context the generic views' tests decode with: a fixed clock and `trust`.
#[cfg(test)]
fn test_cx(trust: &crate::Trust) -> crate::Context<'_> {
    use std::time::{Duration, UNIX_EPOCH};
    crate::Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), trust)
}

#[cfg(test)]
mod tests {
    use crate::generic::test_cx as cx;
    use crate::{Message, Trust};

    /// Every prefix of every golden input (as a response, a request and a blob) goes through
    /// the whole registry without a panic.
    #[test]
    fn truncated_fixture_bodies_decode_or_say_why() {
        let trust = Trust::default();
        let c = cx(&trust);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut bodies = Vec::new();
        for sub in ["realm", "oidc", "generic"] {
            for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "http") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let m = crate::OwnedMessage::parse_http_text(&text).unwrap();
                    bodies.push((m.url.clone().unwrap_or_default(), m.body));
                }
            }
        }
        assert!(bodies.len() > 20);
        let (mut views, mut errors) = (0, 0);
        for (url, body) in &bodies {
            let step = (body.len() / 40).max(1);
            for end in (0..=body.len()).step_by(step) {
                let cut = &body[..end];
                for msg in [
                    Message::response("GET", url, 200, vec![], cut),
                    Message::request("POST", url, vec![], cut),
                    Message::blob(cut),
                ] {
                    for o in crate::Registry::builtin().decode_all(&msg, &c) {
                        match o.result {
                            Ok(d) => {
                                assert!(!d.summary.is_empty(), "{} on {url}", o.decoder);
                                views += 1;
                            }
                            Err(e) => {
                                assert!(!e.to_string().is_empty(), "{} on {url}", o.decoder);
                                errors += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(
            views > 100 && errors > 100,
            "{views} views, {errors} errors"
        );
    }
}
