//! `idscope-decoders`: pure decoders for identity and directory-sync messages.
//!
//! Bytes and headers go in, an explained view tree ([`Decoded`]) comes out. This crate is
//! responsible for understanding formats (JWT, OAuth, realm discovery, OIDC, and the generic JSON,
//! form and XML fallbacks) and for telling the truth about them (findings). It is *not* responsible
//! for transport, files, clocks or presentation: there is no tokio, hyper or ratatui here, no call to
//! `SystemTime::now()` (the caller passes [`Context::now`]) and no network access (`jku`/`x5u` are
//! never fetched). Every decoder is bounded by [`Limits`] and never panics, whatever the input.
//!
//! ```
//! use idscope_decoders::{Context, Message, Registry, Trust};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let body = br#"{"ver":"1.0","account_type":"Managed","domain_name":"contoso.onmicrosoft.com"}"#;
//! let msg = Message::response(
//!     "GET",
//!     "https://login.microsoftonline.com/common/userrealm/sync@contoso.onmicrosoft.com?api-version=1.0",
//!     200,
//!     vec![("content-type", "application/json")],
//!     body,
//! );
//! let trust = Trust::default();
//! let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
//! let best = Registry::builtin().best(&msg, &cx).expect("a decoder applies");
//! assert_eq!(best.decoder, "realm");
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![warn(missing_docs)]
// These docs are for the people who work on idscope (`cargo doc --document-private-items`):
// they link to private modules and limits on purpose.
#![allow(rustdoc::private_intra_doc_links)]

/// Declares a decoder: the unit struct and its [`Decoder`] impl, whose id is the string after the
/// colon and whose `priority` and `decode` are the calling module's free functions of those names
/// (or the ones named after `priority =` and `decode =`). A decoder module is then its sniff and
/// its decode, with nothing wrapped around them.
macro_rules! decoder {
    ($(#[$attr:meta])* $vis:vis struct $name:ident: $id:literal;) => {
        decoder! { $(#[$attr])* $vis struct $name: $id, priority = priority, decode = decode; }
    };
    ($(#[$attr:meta])* $vis:vis struct $name:ident: $id:literal,
        priority = $priority:path, decode = $decode:path;) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;

        impl $crate::Decoder for $name {
            fn id(&self) -> &'static str {
                $id
            }

            fn priority(&self, msg: &$crate::Message<'_>) -> f32 {
                $priority(msg)
            }

            fn decode(
                &self,
                msg: &$crate::Message<'_>,
                cx: &$crate::Context<'_>,
            ) -> Result<$crate::Decoded, $crate::DecodeError> {
                if let Some(d) = $crate::secrets::redacted_body($id, msg.body) {
                    return Ok(d);
                }
                $decode(msg, cx).map(|mut d: $crate::Decoded| {
                    $crate::secrets::mark_redacted(&mut d.root);
                    d
                })
            }
        }
    };
}

pub mod aadsts;
pub mod agent;
pub mod generic;
pub mod html;
pub mod jwt;
pub mod keys;
pub mod negotiate;
pub mod oauth;
pub mod oidc;
pub mod prt;
pub mod realm;
pub mod registry;
pub mod relay;
pub mod saml;
pub mod scim;
pub mod secrets;
pub mod signin;
pub mod soap;
pub mod trust;
pub mod util;
pub mod view;
pub mod x509;
pub mod xml;

use std::time::SystemTime;

pub use registry::{Outcome, Registry};
pub use trust::{Trust, TrustedKey};
pub use view::{Decoded, Finding, Kind, Node, Severity};

/// Which way a message travels, or that it is a standalone blob (`idscope decode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client to server.
    Request,
    /// Server to client.
    Response,
    /// A value with no HTTP around it (a pasted token, a nested field).
    Blob,
}

/// A borrowed, transport-agnostic view of one HTTP message (or a bare blob).
///
/// For a response, `method` and `url` are those of the request it answers, so decoders can tell
/// which endpoint produced it.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    /// Request, response or blob.
    pub direction: Direction,
    /// The request method of the exchange.
    pub method: Option<&'a str>,
    /// The request URL of the exchange (absolute where known).
    pub url: Option<&'a str>,
    /// The response status, for responses.
    pub status: Option<u16>,
    /// Headers in wire order; compare names case-insensitively (see [`Message::header`]).
    /// Private, and set only when the message is made, so that what is remembered from them
    /// (`type_memo`) cannot go stale.
    headers: Vec<(&'a str, &'a str)>,
    /// The body with content-encoding already removed.
    pub body: &'a [u8],
    /// [`Message::path`] of `url`, remembered with the address and length of the `url` it was
    /// taken from: every decoder's `priority` asks for the path, for every message the proxy
    /// sees. A `&'a str` cannot change while borrowed, so the same address and length mean the
    /// same text, and a `url` replaced later is simply looked at again.
    path_memo: std::cell::Cell<Option<(usize, usize, &'a str)>>,
    /// The `Content-Type` essence (trimmed, parameters cut) and whether it has capitals, found
    /// once: every decoder's `priority` asks for it, for every message the proxy sees.
    type_memo: std::cell::OnceCell<Option<(&'a str, bool)>>,
}

impl<'a> Message<'a> {
    /// A request message.
    pub fn request(
        method: &'a str,
        url: &'a str,
        headers: Vec<(&'a str, &'a str)>,
        body: &'a [u8],
    ) -> Self {
        Message {
            direction: Direction::Request,
            method: Some(method),
            url: Some(url),
            status: None,
            headers,
            body,
            path_memo: Default::default(),
            type_memo: Default::default(),
        }
    }

    /// A `200` answer to a `GET` of `url`, with no headers: a fetched document (metadata, a JWKS,
    /// a realm answer) on its own.
    pub fn get_ok(url: &'a str, body: &'a [u8]) -> Self {
        Message::response("GET", url, 200, Vec::new(), body)
    }

    /// A response message; `method` and `url` are the request's.
    pub fn response(
        method: &'a str,
        url: &'a str,
        status: u16,
        headers: Vec<(&'a str, &'a str)>,
        body: &'a [u8],
    ) -> Self {
        Message {
            direction: Direction::Response,
            method: Some(method),
            url: Some(url),
            status: Some(status),
            headers,
            body,
            path_memo: Default::default(),
            type_memo: Default::default(),
        }
    }

    /// A bare blob with no HTTP context.
    pub fn blob(body: &'a [u8]) -> Self {
        Message {
            direction: Direction::Blob,
            method: None,
            url: None,
            status: None,
            headers: Vec::new(),
            body,
            path_memo: Default::default(),
            type_memo: Default::default(),
        }
    }

    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// Every header with this name, compared case-insensitively, in wire order.
    pub fn headers_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The media type essence of `Content-Type`, lowercased, without parameters
    /// (`"application/json"`).
    ///
    /// Borrowed from the header when it is already lowercase (the usual case): every decoder's
    /// `priority` asks for it, for every message the proxy sees.
    pub fn content_type(&self) -> Option<std::borrow::Cow<'a, str>> {
        let (essence, capitals) = (*self.type_memo.get_or_init(|| {
            let ct = self.header("content-type")?;
            let essence = ct.split(';').next().unwrap_or("").trim();
            (!essence.is_empty())
                .then(|| (essence, essence.bytes().any(|b| b.is_ascii_uppercase())))
        }))?;
        Some(if capitals {
            std::borrow::Cow::Owned(essence.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(essence)
        })
    }

    /// The headers in wire order.
    pub fn headers(&self) -> &[(&'a str, &'a str)] {
        &self.headers
    }

    /// The path part of the URL (no query), or `""` when there is no URL.
    pub fn path(&self) -> &'a str {
        let Some(url) = self.url else {
            return "";
        };
        let key = (url.as_ptr() as usize, url.len());
        if let Some((p, n, path)) = self.path_memo.get()
            && (p, n) == key
        {
            return path;
        }
        let path = util::url_path(url);
        self.path_memo.set(Some((key.0, key.1, path)));
        path
    }

    /// The decoded query parameters of the URL, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.url.map(util::url_query_pairs).unwrap_or_default()
    }

    /// The body as UTF-8 text (a leading byte-order mark removed), if it is valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        let body = self.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(self.body);
        std::str::from_utf8(body).ok()
    }

    /// True when this is a request.
    pub fn is_request(&self) -> bool {
        self.direction == Direction::Request
    }

    /// True when this is a response.
    pub fn is_response(&self) -> bool {
        self.direction == Direction::Response
    }
}

/// Bounds on work done for input that comes from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body a decoder looks at, in bytes; longer bodies are decoded up to this point or
    /// refused with [`DecodeError::TooLarge`].
    pub max_body: usize,
    /// Largest output of any inflate/gunzip/base64 step, in bytes.
    pub max_inflate: usize,
    /// Deepest nesting of JSON or XML structures.
    pub max_depth: usize,
    /// Most nodes in one view tree or XML document.
    pub max_nodes: usize,
    /// Deepest chain of nested decodes (a JWT inside a form inside base64 …).
    pub max_nesting: u8,
}

impl Limits {
    /// Refuses a body over [`Limits::max_body`], naming `what` it is (`"SCIM body"`).
    pub fn check_body(&self, body: &[u8], what: &'static str) -> Result<(), DecodeError> {
        if body.len() > self.max_body {
            return Err(DecodeError::TooLarge {
                what,
                limit: self.max_body,
            });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 16 << 20,
            max_inflate: 32 << 20,
            max_depth: 64,
            max_nodes: 200_000,
            max_nesting: 4,
        }
    }
}

/// Everything a decoder may depend on besides the message. There is no hidden clock, so decoding
/// is deterministic and snapshots are stable.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// "Now" for expiry checks: the capture time of the flow, or the real time for live traffic.
    pub now: SystemTime,
    /// Bounds on work.
    pub limits: Limits,
    /// Keys for signature verification.
    pub trust: &'a Trust,
    /// How many nested decodes deep this context is.
    pub depth: u8,
    /// The caller shows only each outcome's decoder and one-line `summary` (the proxy's flow
    /// line): a decoder may skip building its tree and findings. The summary must be the one a
    /// full decode gives (`line_report` is tested against the full decode).
    pub summary_only: bool,
}

impl<'a> Context<'a> {
    /// A context at nesting depth 0 with default limits.
    pub fn new(now: SystemTime, trust: &'a Trust) -> Self {
        Context {
            now,
            limits: Limits::default(),
            trust,
            depth: 0,
            summary_only: false,
        }
    }

    /// The same context for a caller that needs only the summaries ([`Context::summary_only`]).
    pub fn for_summary(mut self) -> Self {
        self.summary_only = true;
        self
    }

    /// The same context with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Decodes a blob found inside another message (a token in a form field, a base64 value) by
    /// asking the builtin registry again, one level deeper. Returns `None` when nothing but the
    /// generic fallbacks applies, or when [`Limits::max_nesting`] is reached.
    pub fn decode_nested(&self, blob: &[u8]) -> Option<Decoded> {
        if self.depth >= self.limits.max_nesting {
            return None;
        }
        let inner = Context {
            depth: self.depth + 1,
            ..*self
        };
        Registry::builtin().best_specific(&Message::blob(blob), &inner)
    }
}

/// Why a decoder could not produce a view. Messages are lowercase and say what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input is not of the kind the decoder handles (wrong shape).
    #[error("not {expected}: {why}")]
    NotThisKind {
        /// What was expected ("a JWT", "a JSON object").
        expected: &'static str,
        /// Why the input does not fit.
        why: String,
    },
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field is not valid base64/base64url.
    #[error("field `{field}` is not valid base64")]
    Base64 {
        /// The field that failed.
        field: &'static str,
    },
    /// A field is not valid UTF-8.
    #[error("field `{field}` is not valid UTF-8")]
    Utf8 {
        /// The field that failed.
        field: &'static str,
    },
    /// A JSON document is malformed.
    #[error("invalid JSON in {field} at line {line} column {column}: {message}")]
    Json {
        /// Which part held the JSON ("body", "JWT header").
        field: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// An XML document is malformed or refused.
    #[error("invalid XML at byte {offset}: {message}")]
    Xml {
        /// Byte offset into the XML text.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// A binary structure is malformed.
    #[error("malformed {what} at byte {offset}: {message}")]
    Malformed {
        /// What structure ("MultiByteInt31", "record").
        what: &'static str,
        /// Byte offset into the input.
        offset: u64,
        /// What was wrong.
        message: String,
    },
    /// Input exceeds a limit.
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge {
        /// What was too large ("inflated body", "XML node count").
        what: &'static str,
        /// The limit that was hit.
        limit: usize,
    },
    /// Decompression failed.
    #[error("cannot inflate {field}: {message}")]
    Inflate {
        /// The field that failed.
        field: &'static str,
        /// What the inflater said.
        message: String,
    },
}

impl DecodeError {
    /// A [`DecodeError::Json`] from a serde_json error.
    pub fn json(field: &'static str, e: &serde_json::Error) -> Self {
        DecodeError::Json {
            field,
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }

    /// A [`DecodeError::NotThisKind`].
    pub fn not(expected: &'static str, why: impl Into<String>) -> Self {
        DecodeError::NotThisKind {
            expected,
            why: why.into(),
        }
    }
}

/// One format's decoder. Implementations are unit structs registered in [`registry::BUILTIN`].
pub trait Decoder: Send + Sync + std::fmt::Debug {
    /// Stable lowercase id (`"jwt"`, `"oauth"`): CLI values, filter `~k`, snapshot names.
    fn id(&self) -> &'static str;
    /// How well this decoder applies: 0.0 = not at all. Cheap (headers, content type, a prefix
    /// sniff); must not fully parse and must not panic.
    fn priority(&self, msg: &Message<'_>) -> f32;
    /// Full decode. Never panics on any input; bounded by `cx.limits`.
    fn decode(&self, msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError>;
}

/// A message that owns its parts, for building test inputs and for callers that have no borrowed
/// data at hand. [`OwnedMessage::as_message`] lends it out as a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMessage {
    /// Request, response or blob.
    pub direction: Direction,
    /// Request method.
    pub method: Option<String>,
    /// Request URL.
    pub url: Option<String>,
    /// Response status.
    pub status: Option<u16>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body with content-encoding removed.
    pub body: Vec<u8>,
}

impl OwnedMessage {
    /// Borrows this as a [`Message`].
    pub fn as_message(&self) -> Message<'_> {
        Message {
            direction: self.direction,
            method: self.method.as_deref(),
            url: self.url.as_deref(),
            status: self.status,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            body: &self.body,
            path_memo: Default::default(),
            type_memo: Default::default(),
        }
    }

    /// Parses a message written as plain HTTP text, the format of the golden-test inputs:
    ///
    /// ```text
    /// POST https://login.microsoftonline.com/common/oauth2/token
    /// content-type: application/x-www-form-urlencoded
    ///
    /// grant_type=password&…
    /// ```
    ///
    /// A response starts with `HTTP <status>`, followed by a line `for: METHOD URL` naming the
    /// request it answers; a message starting with `BLOB` is a bare blob. A body that must keep
    /// exact bytes can be given as `base64:` followed by its base64 encoding on the next lines.
    pub fn parse_http_text(text: &str) -> Result<Self, DecodeError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (head, body) = match text.find("\n\n") {
            Some(i) => (text.get(..i).unwrap_or(""), text.get(i + 2..).unwrap_or("")),
            None => (text.trim_end_matches('\n'), ""),
        };
        let mut lines = head.lines();
        let first = lines
            .next()
            .ok_or(DecodeError::Missing("request line"))?
            .trim();
        let mut m = OwnedMessage {
            direction: Direction::Blob,
            method: None,
            url: None,
            status: None,
            headers: vec![],
            body: vec![],
        };
        let mut parts = first.splitn(2, ' ');
        let w0 = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("").trim();
        if w0 == "BLOB" {
            m.direction = Direction::Blob;
        } else if w0 == "HTTP" {
            m.direction = Direction::Response;
            let status: u16 = rest
                .split(' ')
                .next()
                .unwrap_or("")
                .parse()
                .map_err(|_| DecodeError::not("an HTTP status line", first.to_string()))?;
            m.status = Some(status);
        } else {
            m.direction = Direction::Request;
            m.method = Some(w0.to_string());
            m.url = Some(rest.to_string());
        }
        for line in lines {
            if let Some(req) = line.strip_prefix("for: ") {
                let mut p = req.splitn(2, ' ');
                m.method = p.next().map(str::to_string);
                m.url = p.next().map(|s| s.trim().to_string());
                continue;
            }
            if let Some((n, v)) = line.split_once(':') {
                m.headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        m.body = match body.strip_prefix("base64:") {
            Some(b64) => {
                let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
                util::b64_decode_any(&compact, usize::MAX)
                    .ok_or(DecodeError::Base64 { field: "body" })?
            }
            None => body.strip_suffix('\n').unwrap_or(body).as_bytes().to_vec(),
        };
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remembered_path_follows_a_replaced_url() {
        let mut m = Message::request("GET", "https://a.example/one?x=/two", Vec::new(), b"");
        assert_eq!(m.path(), "/one");
        assert_eq!(m.path(), "/one");
        m.url = Some("https://a.example/two#/three");
        assert_eq!(m.path(), "/two");
        // Same length, other text, other place.
        let other = String::from("https://a.example/six#/three");
        m.url = Some(&other);
        assert_eq!(m.path(), "/six");
        m.url = None;
        assert_eq!(m.path(), "");
        assert_eq!(m.clone().path(), "");
    }

    #[test]
    fn the_content_type_is_the_lowercased_essence_of_the_first_header() {
        let ct = |headers: Vec<(&'static str, &'static str)>| {
            let m = Message::response("GET", "https://a.example/", 200, headers, b"");
            // Asked twice: the second answer comes from what was remembered.
            let first = m.content_type().map(|c| c.into_owned());
            assert_eq!(m.content_type().map(|c| c.into_owned()), first);
            first
        };
        assert_eq!(ct(vec![]), None);
        assert_eq!(ct(vec![("Content-Type", " ; charset=utf-8")]), None);
        assert_eq!(
            ct(vec![("content-type", "application/json; charset=utf-8")]).as_deref(),
            Some("application/json")
        );
        assert_eq!(
            ct(vec![
                ("X-Other", "text/html"),
                ("CONTENT-TYPE", " Application/SOAP+MSBIN1 ;x=y"),
                ("Content-Type", "text/plain"),
            ])
            .as_deref(),
            Some("application/soap+msbin1")
        );
        let m = Message::request("POST", "/", vec![("Content-Type", "text/xml")], b"");
        assert!(matches!(
            m.content_type(),
            Some(std::borrow::Cow::Borrowed("text/xml"))
        ));
        assert_eq!(m.headers(), &[("Content-Type", "text/xml")]);
    }
}
