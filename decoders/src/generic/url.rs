//! The [`Url`] view: a blob that is one absolute `http(s)` URL, with its query and fragment
//! parameters decoded.

use super::form::params_tree;
use super::nested::{count, secrets_suffix, starts_with_ci};
use crate::util;
use crate::view::{Decoded, Finding, Kind, Node};
use crate::{Context, DecodeError, Message};

decoder! {
    /// A blob that is one absolute `http(s)` URL (`idscope decode https://…?code=…`): scheme, host,
    /// path, and the query and fragment parameters decoded, secrets masked, values decoded nested.
    pub struct Url: "url";
}

fn blob_url<'a>(msg: &Message<'a>) -> Option<&'a str> {
    if msg.direction != crate::Direction::Blob {
        return None;
    }
    let t = msg.text()?.trim();
    ((starts_with_ci(t, "https://") || starts_with_ci(t, "http://"))
        && !t.contains(char::is_whitespace)
        && t.len() > "https://".len())
    .then_some(t)
}

/// Query names that must never travel in a URL (logs, history and `Referer` keep them).
const NEVER_IN_URL: &[&str] = &[
    "password",
    "client_secret",
    "refresh_token",
    "access_token",
    "passwd",
    "pwd",
];

fn priority(msg: &Message<'_>) -> f32 {
    if blob_url(msg).is_some() { 0.3 } else { 0.0 }
}

fn decode(msg: &Message<'_>, cx: &Context<'_>) -> Result<Decoded, DecodeError> {
    let url = blob_url(msg).ok_or_else(|| DecodeError::not("a URL", "no http(s) URL"))?;
    let (scheme, after) = url
        .split_once("://")
        .ok_or_else(|| DecodeError::not("a URL", "no scheme"))?;
    let (before_frag, fragment) = match after.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (after, None),
    };
    let authority = before_frag.split(['/', '?']).next().unwrap_or(before_frag);
    let mut root = Node::section("url");
    let mut findings = Vec::new();
    root.push(Node::field("scheme", scheme.to_ascii_lowercase()));
    if scheme.eq_ignore_ascii_case("http") {
        findings.push(
            Finding::warning("plain http: anything in this URL travels unencrypted")
                .at("url/scheme"),
        );
    }
    let hostport = match authority.rsplit_once('@') {
        Some((userinfo, hp)) => {
            let (user, pass) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            root.push(Node::field("user", percent_decode(user)));
            if let Some(p) = pass {
                root.push(Node::secret("password", percent_decode(p)));
                findings.push(
                    Finding::warning("the URL carries a password (user:pass@host)")
                        .at("url/password"),
                );
            }
            hp
        }
        None => authority,
    };
    let host = util::url_host(url).unwrap_or_else(|| hostport.to_ascii_lowercase());
    root.push(Node::field("host", host.clone()));
    if let Some(port) = hostport
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        root.push(Node::leaf("port", port, Kind::Number));
    }
    let path = util::url_path(url);
    let decoded_path = percent_decode(path);
    let mut path_node = Node::field("path", path);
    if decoded_path != path {
        path_node = path_node.with_child(Node::field("decoded", decoded_path));
    }
    root.push(path_node);
    let mut nparams = 0;
    let mut nsecrets = 0;
    if let Some(q) = util::url_query(url).filter(|q| !q.is_empty()) {
        let pairs = util::parse_form(q.as_bytes());
        nparams += pairs.len();
        let (node, b) = params_tree("query", &pairs, cx);
        nsecrets += b.secrets.len();
        for (k, _) in &pairs {
            let lower = k.to_ascii_lowercase();
            if NEVER_IN_URL.contains(&lower.as_str()) {
                findings.push(
                    Finding::warning(format!(
                        "`{k}` in a URL query: URLs are kept in logs, browser history and \
                         Referer headers"
                    ))
                    .at(format!("url/query/{k}")),
                );
            }
        }
        findings.extend(b.findings.into_iter().map(|f| prefix_at(f, "url")));
        root.push(node);
    }
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        if f.contains('=') {
            let pairs = util::parse_form(f.as_bytes());
            nparams += pairs.len();
            let (node, b) = params_tree("fragment", &pairs, cx);
            nsecrets += b.secrets.len();
            findings.extend(b.findings.into_iter().map(|f| prefix_at(f, "url")));
            root.push(node.with_note(
                "fragment parameters stay in the browser (implicit/hybrid flows put tokens \
                 here); they are never sent to the server",
            ));
        } else {
            root.push(Node::field("fragment", percent_decode(f)));
        }
    }
    let summary = format!(
        "URL {}://{host}{path} ({}{})",
        scheme.to_ascii_lowercase(),
        count(nparams, "param"),
        secrets_suffix(nsecrets)
    );
    let mut d = Decoded::new("url", summary, root);
    d.findings = findings;
    Ok(d)
}

fn prefix_at(mut f: Finding, prefix: &str) -> Finding {
    f.at = f.at.map(|a| format!("{prefix}/{a}"));
    f
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decoder;
    use crate::Trust;
    use crate::generic::test_cx as cx;

    #[test]
    fn url_blob_query_is_decoded_with_secrets() {
        let trust = Trust::default();
        let msg = Message::blob(b"https://app.example/cb?code=0.AAA&state=x%20y#id_token=abc");
        let d = Url.decode(&msg, &cx(&trust)).unwrap();
        assert_eq!(d.root.find_path("query/code").unwrap().kind, Kind::Secret);
        assert_eq!(
            d.root.find_path("query/state").unwrap().value.as_deref(),
            Some("x y")
        );
        assert_eq!(
            d.root.find_path("fragment/id_token").unwrap().kind,
            Kind::Secret
        );
        assert_eq!(Url.priority(&Message::blob(b"not a url")), 0.0);
    }
}
