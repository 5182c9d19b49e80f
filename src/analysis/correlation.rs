//! The diagnostic and correlation headers of a flow, pulled out of its header lists: the ids a
//! support engineer looks up in Entra ID's sign-in logs or a service's own logs
//! (`client-request-id`, `request-id`, `x-ms-request-id`, `x-ms-correlation-id`, and the
//! `client-request-id` of the request URL's query), and the headers that explain a failure
//! (`x-ms-diagnostics`, `x-ms-clitelem`, `x-ms-ests-server`, `retry-after`, `www-authenticate`,
//! `location`).
//!
//! Two headers are split into their parts:
//! * `x-ms-clitelem` (Entra ID's telemetry for MSAL): `VERSION,ERROR,SUB_ERROR,TOKEN_AGE,SPE_INFO`
//!   in version `1` (the layout MSAL's parsers read);
//! * `x-ms-diagnostics` (Exchange, Skype/Lync and Teams services): `CODE;name="value";…`, the
//!   error id followed by parameters such as `reason`, `source` or `error_category`.
//!
//! A `WWW-Authenticate: Bearer` challenge naming an error is explained by the decoders' own view
//! (the Decoded tab); here it is listed as sent. A `location` is listed with the values of the
//! query and fragment parameters the secrets policy names (`code`, `access_token`, `id_token` …)
//! masked: a redirect can carry them. This module neither decodes bodies nor prints.

use crate::analysis::Side;
use crate::flow::{Flow, Headers};

/// Headers whose value is an id that ties flows to each other and to server logs: `~corr`
/// matches these (and the URL's `client-request-id` query parameter).
pub const ID_HEADERS: &[&str] = &[
    "client-request-id",
    "request-id",
    "x-ms-request-id",
    "x-ms-correlation-id",
    "x-ms-client-request-id",
    "x-ms-correlation-request-id",
];

/// The headers that explain a failure, pulled out after the ids.
pub const DIAGNOSTIC_HEADERS: &[&str] = &[
    "x-ms-clitelem",
    "x-ms-diagnostics",
    "x-ms-ests-server",
    "retry-after",
    "www-authenticate",
    "location",
];

/// The name under which the URL's `client-request-id` query parameter is listed.
pub const QUERY_CLIENT_REQUEST_ID: &str = "client-request-id (URL query)";

/// Most characters of a header value kept (a `location` can be long).
const MAX_VALUE: usize = 2048;
/// Most parts read from one `x-ms-diagnostics` value.
const MAX_PARTS: usize = 16;

/// One correlation or diagnostic header of a flow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Where it was sent.
    pub side: Side,
    /// The header's name, lowercase ([`QUERY_CLIENT_REQUEST_ID`] for the URL's parameter).
    pub name: &'static str,
    /// The value as sent (clipped to a few thousand characters).
    pub value: String,
    /// The value's parts, for the headers whose format is known, as `(name, value)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(String, String)>,
}

/// The correlation and diagnostic headers of `flow`: request headers, the URL's
/// `client-request-id`, then response headers.
pub fn entries(flow: &Flow) -> Vec<Entry> {
    let mut out = Vec::new();
    collect(&flow.request.headers, Side::Request, &mut out);
    if let Some(v) = query_client_request_id(&flow.request.url) {
        out.push(Entry {
            side: Side::Request,
            name: QUERY_CLIENT_REQUEST_ID,
            value: idscope_decoders::util::clip(&v, MAX_VALUE),
            parts: vec![],
        });
    }
    if let Some(r) = flow.response() {
        collect(&r.headers, Side::Response, &mut out);
    }
    out
}

fn collect(headers: &Headers, side: Side, out: &mut Vec<Entry>) {
    for &name in ID_HEADERS.iter().chain(DIAGNOSTIC_HEADERS) {
        for (n, v) in headers.iter() {
            if n.eq_ignore_ascii_case(name) {
                let shown = if name == "location" {
                    mask_url_secrets(v)
                } else {
                    v.to_string()
                };
                out.push(Entry {
                    side,
                    name,
                    value: idscope_decoders::util::clip(&shown, MAX_VALUE),
                    parts: parts(name, v),
                });
            }
        }
    }
}

/// `url` with the values of its query and fragment parameters that the secrets policy names
/// masked; everything else as written.
pub fn mask_url_secrets(url: &str) -> String {
    let Some(start) = url.find(['?', '#']) else {
        return url.to_string();
    };
    let (head, rest) = url.split_at(start);
    let mut out = String::with_capacity(url.len());
    out.push_str(head);
    let mut piece = String::new();
    let flush = |piece: &mut String, out: &mut String| {
        match piece.split_once('=') {
            Some((k, v))
                if !v.is_empty()
                    && idscope_decoders::secrets::is_secret_name(
                        &form_urlencoded::parse(k.as_bytes())
                            .next()
                            .map(|(k, _)| k.into_owned())
                            .unwrap_or_default(),
                    ) =>
            {
                out.push_str(k);
                out.push('=');
                out.push_str(&idscope_decoders::secrets::mask(v));
            }
            _ => out.push_str(piece),
        }
        piece.clear();
    };
    for c in rest.chars() {
        if matches!(c, '?' | '#' | '&') {
            flush(&mut piece, &mut out);
            out.push(c);
        } else {
            piece.push(c);
        }
    }
    flush(&mut piece, &mut out);
    out
}

/// The `client-request-id` query parameter of a URL.
pub fn query_client_request_id(url: &str) -> Option<String> {
    let query = idscope_decoders::util::url_query(url)?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("client-request-id"))
        .map(|(_, v)| v.into_owned())
}

/// True when `flow` carries `id` (compared case-insensitively, as a whole token of the value)
/// in one of the [`ID_HEADERS`] of its request or response, or in its URL's
/// `client-request-id`.
pub fn carries(flow: &Flow, id: &str) -> bool {
    let id = id.trim();
    if id.is_empty() {
        return false;
    }
    let has = |h: &Headers| {
        h.iter().any(|(n, v)| {
            ID_HEADERS.iter().any(|x| n.eq_ignore_ascii_case(x)) && holds_token(v, id)
        })
    };
    has(&flow.request.headers)
        || flow.response().is_some_and(|r| has(&r.headers))
        || query_client_request_id(&flow.request.url).is_some_and(|v| holds_token(&v, id))
}

/// The tokens of an id value: separated by anything but letters, digits, `-`, `_` and `.`.
fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .filter(|t| !t.is_empty())
}

/// True when `id` is one of the [`tokens`] of `value`, case-insensitively.
fn holds_token(value: &str, id: &str) -> bool {
    tokens(value).any(|t| t.eq_ignore_ascii_case(id))
}

/// Every id `flow` carries, as [`carries`] reads them (each token of the id headers' values and
/// of the URL's `client-request-id`), lowercased, without repeats.
pub fn ids(flow: &Flow) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &str| {
        for t in tokens(v) {
            let t = t.to_ascii_lowercase();
            if !out.contains(&t) {
                out.push(t);
            }
        }
    };
    let halves = std::iter::once(&flow.request.headers).chain(flow.response().map(|r| &r.headers));
    for h in halves {
        for (n, v) in h.iter() {
            if ID_HEADERS.iter().any(|x| n.eq_ignore_ascii_case(x)) {
                add(v);
            }
        }
    }
    if let Some(v) = query_client_request_id(&flow.request.url) {
        add(&v);
    }
    out
}

/// The parts of a header value whose format is known; empty otherwise (or when the value does
/// not follow the format).
pub fn parts(name: &str, value: &str) -> Vec<(String, String)> {
    match name {
        "x-ms-clitelem" => clitelem(value),
        "x-ms-diagnostics" => diagnostics(value),
        _ => vec![],
    }
}

/// `x-ms-clitelem` version 1: `1,ERROR,SUB_ERROR,TOKEN_AGE,SPE_INFO`.
fn clitelem(value: &str) -> Vec<(String, String)> {
    let fields: Vec<&str> = value.trim().split(',').map(str::trim).collect();
    if fields.first() != Some(&"1") || fields.len() != 5 {
        return vec![];
    }
    let names = [
        "version",
        "server error code",
        "server sub-error code",
        "refresh token age",
        "spe info",
    ];
    names
        .iter()
        .zip(&fields)
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| {
            let mut v = (*v).to_string();
            if *n == "server error code"
                && let Some(meaning) = v
                    .parse::<u64>()
                    .ok()
                    .and_then(idscope_decoders::aadsts::aadsts_meaning)
            {
                v = format!("{v} (AADSTS{v}: {meaning})");
            }
            ((*n).to_string(), v)
        })
        .collect()
}

/// `x-ms-diagnostics`: `CODE;name="value";name=value…`.
fn diagnostics(value: &str) -> Vec<(String, String)> {
    let mut segments = split_params(value).into_iter();
    let Some(code) = segments.next() else {
        return vec![];
    };
    let code = code.trim();
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return vec![];
    }
    let mut out = vec![("code".to_string(), code.to_string())];
    for seg in segments.take(MAX_PARTS) {
        if let Some((k, v)) = seg.split_once('=') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            out.push((k.trim().to_ascii_lowercase(), v.replace("\\\"", "\"")));
        }
    }
    out
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(value.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value.get(start..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request_with, response};

    #[test]
    fn clitelem_version_1_is_split_and_its_error_explained() {
        let p = parts("x-ms-clitelem", "1,50126,0,,");
        assert_eq!(p[0], ("version".into(), "1".into()));
        assert_eq!(p[1].0, "server error code");
        assert!(p[1].1.starts_with("50126 (AADSTS50126: "), "{p:?}");
        assert_eq!(p[2], ("server sub-error code".into(), "0".into()));
        assert_eq!(p.len(), 3);
        assert!(parts("x-ms-clitelem", "2,1,2,3,4").is_empty());
        assert!(parts("x-ms-clitelem", "1,2").is_empty());
    }

    #[test]
    fn diagnostics_keep_the_code_and_quoted_parameters() {
        let p = parts(
            "x-ms-diagnostics",
            r#"2000008;reason="The token has expired; renew it";error_category="invalid_token""#,
        );
        assert_eq!(
            p,
            vec![
                ("code".to_string(), "2000008".to_string()),
                (
                    "reason".to_string(),
                    "The token has expired; renew it".to_string()
                ),
                ("error_category".to_string(), "invalid_token".to_string()),
            ]
        );
        assert!(parts("x-ms-diagnostics", "not a code").is_empty());
        assert!(parts("x-ms-diagnostics", "").is_empty());
    }

    #[test]
    fn a_location_keeps_its_ids_and_masks_its_secrets() {
        let url = "https://app.test/cb?state=s1&code=0.AXYZsecret#id_token=eyJhbGc.eyJ.sig&x=1";
        let shown = mask_url_secrets(url);
        assert!(
            shown.starts_with("https://app.test/cb?state=s1&code="),
            "{shown}"
        );
        assert!(
            !shown.contains("0.AXYZsecret") && !shown.contains("eyJhbGc"),
            "{shown}"
        );
        assert!(
            shown.contains("#id_token=") && shown.ends_with("&x=1"),
            "{shown}"
        );
        assert_eq!(mask_url_secrets("/adfs/ls/"), "/adfs/ls/");
    }

    #[test]
    fn entries_and_carries_see_request_response_and_query() {
        let id = "0b6f3c9e-1111-4a2b-9c3d-123456789abc";
        let q = request_with(
            "GET",
            &format!("https://login.microsoftonline.com/x?client-request-id={id}&y=1"),
            &[("Accept", "*/*")],
        );
        let mut r = response(400, "application/json", b"{}");
        r.headers.push_str("x-ms-request-id", "abc");
        r.headers.push_str("x-ms-clitelem", "1,50126,0,,");
        let f = flow(0, q, r);
        let e = entries(&f);
        let names: Vec<_> = e.iter().map(|e| (e.side, e.name)).collect();
        assert_eq!(
            names,
            vec![
                (Side::Request, QUERY_CLIENT_REQUEST_ID),
                (Side::Response, "x-ms-request-id"),
                (Side::Response, "x-ms-clitelem"),
            ]
        );
        assert!(carries(&f, &id.to_uppercase()));
        assert!(carries(&f, "abc"));
        assert!(!carries(&f, "0b6f3c9e"));
        assert!(!carries(&f, "50126"), "x-ms-clitelem is not an id header");
        assert!(!carries(&f, " "));
        assert_eq!(ids(&f), vec!["abc".to_string(), id.to_string()]);
    }
}
