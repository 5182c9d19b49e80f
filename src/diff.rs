//! Differences between two flows, two tokens or two assertions, on their decoded trees: claim by
//! claim and element by element, with the comparison rules of replay
//! ([`crate::analysis::compare`]: volatile values left out unless asked for, `--ignore` patterns).
//! `idscope diff` and the TUI's `=` use it. This module neither reads files nor prints.

use idscope_decoders::{Context, Decoded, Limits, Message, Registry, Trust};

use crate::analysis::compare::{self, Difference, Rules, best, comparable};
use crate::analysis::{FlowReport, decode_flow};
use crate::flow::Flow;

fn side_leaves(prefix: &str, ds: &[&Decoded]) -> Vec<compare::Leaf> {
    let mut out = Vec::new();
    for d in ds {
        out.extend(comparable(compare::flatten(
            &d.root,
            &format!("{prefix}/{}", d.decoder),
        )));
    }
    out
}

/// The HTTP facts of a flow as leaves: method, URL, status.
fn http_leaves(f: &Flow) -> Vec<compare::Leaf> {
    use idscope_decoders::Kind;
    let leaf = |p: &str, v: String, kind| compare::Leaf {
        path: p.to_string(),
        value: Some(v),
        kind,
    };
    let mut out = vec![
        leaf("request/method", f.request.method.clone(), Kind::Field),
        leaf("request/url", f.request.url.clone(), Kind::Field),
    ];
    match (f.response(), f.error()) {
        (Some(r), _) => out.push(leaf("response/status", r.status.to_string(), Kind::Number)),
        (None, Some(e)) => out.push(leaf("response/error", e.message.clone(), Kind::Field)),
        _ => {}
    }
    out
}

/// Every difference between two flows: method, URL and status, then the request trees and the
/// response trees of the decoders that understood each side.
pub fn flows(
    a: &Flow,
    ra: &FlowReport,
    b: &Flow,
    rb: &FlowReport,
    rules: &Rules,
) -> Vec<Difference> {
    let id = |s: &str| s.to_string();
    let mut out = compare::diff(&http_leaves(a), &http_leaves(b), rules, &id);
    for (side, oa, ob) in [
        ("request", &ra.request, &rb.request),
        ("response", &ra.response, &rb.response),
    ] {
        let la = side_leaves(side, &best(oa));
        let lb = side_leaves(side, &best(ob));
        out.extend(compare::diff(&la, &lb, rules, &id));
    }
    out
}

/// Decodes both flows (each at its own time, no trust) and returns [`flows`].
pub fn flows_decoded(a: &Flow, b: &Flow, rules: &Rules) -> Vec<Difference> {
    let trust = Trust::default();
    let ra = decode_flow(a, Registry::builtin(), &trust, Limits::default());
    let rb = decode_flow(b, Registry::builtin(), &trust, Limits::default());
    flows(a, &ra, b, &rb, rules)
}

/// Decodes a standalone blob (a JWT, a SAML assertion or response, base64 of one …) with the
/// best specific decoder; `None` when nothing specific understands it.
pub fn decode_blob(bytes: &[u8], now: std::time::SystemTime) -> Option<Decoded> {
    let trust = Trust::default();
    let cx = Context::new(now, &trust);
    let bytes = trim_ascii(bytes);
    Registry::builtin().best_specific(&Message::blob(bytes), &cx)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

/// Differences between two decoded blobs (tokens, assertions). Paths start at the decoder id.
pub fn blobs(a: &Decoded, b: &Decoded, rules: &Rules) -> Vec<Difference> {
    let la = comparable(compare::flatten(&a.root, a.decoder));
    let lb = comparable(compare::flatten(&b.root, b.decoder));
    compare::diff(&la, &lb, rules, &|s: &str| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(claims: &str) -> String {
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{}",
            b.encode(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
            b.encode(claims),
            b.encode("signature-bytes")
        )
    }

    #[test]
    fn two_tokens_differing_in_one_claim_show_exactly_that_claim() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let a = decode_blob(
            jwt(r#"{"aud":"https://graph.windows.net","upn":"alice@contoso.test","iat":1700000000,"exp":1700003600,"jti":"a1"}"#).as_bytes(),
            now,
        )
        .unwrap();
        let b = decode_blob(
            jwt(r#"{"aud":"https://graph.windows.net","upn":"bob@contoso.test","iat":1700000100,"exp":1700003700,"jti":"b2"}"#).as_bytes(),
            now,
        )
        .unwrap();
        let d = blobs(&a, &b, &Rules::default());
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].path.ends_with("claims/upn"), "{}", d[0].path);
        assert_eq!(d[0].left.as_deref(), Some("alice@contoso.test"));
        assert_eq!(d[0].right.as_deref(), Some("bob@contoso.test"));
        let mut all = Rules::default();
        all.all = true;
        let d = blobs(&a, &b, &all);
        assert!(d.len() >= 4, "{d:?}");
        assert!(d.iter().filter(|x| !x.volatile).count() == 1);
    }
}
