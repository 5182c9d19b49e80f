//! Correlation for sequence replay: values a server issued (access tokens, SAML assertions,
//! authorization codes, nonces, resource ids, delta tokens) that later requests carry back.
//!
//! When a replayed answer differs from the recorded one, [`Correlation::learn`] pairs the
//! recorded value with the fresh one, by structure: JSON members by path, `Location` query
//! parameters and `Set-Cookie` cookies by name, HTML hidden inputs by name, SAML assertions
//! (`<…:Assertion …>…</…:Assertion>`) by position. [`Correlation::rewrite`] then replaces every
//! recorded value in a later request — URL, headers (`Authorization`, `Cookie`, …) and body, in
//! the raw, form-encoded, base64 and base64url spellings; a msbin1 (.NET binary XML) body is
//! decoded, rewritten (its `BearerToken`) and re-encoded — and says what it replaced.
//! [`Correlation::normalize`] maps fresh values back to recorded ones so that the comparison does
//! not report a difference the replay itself caused.
//!
//! What it cannot do, it says ([`Correlation::signed_notes`]): a recorded value inside a JWT the
//! client signed with a device or session key (a PRT request's `request_nonce`, a PRT cookie) can
//! not be rewritten without that key, which a capture never holds.

use base64::Engine as _;
use idscope_decoders::soap::nbfx;

use crate::flow::{DEFAULT_DECODED_CAP, Flow, FlowId, header};

/// A request about to be sent: what [`Correlation::rewrite`] edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers (hop-by-hop and framing headers already removed).
    pub headers: Vec<(String, String)>,
    /// The body, content-encoding removed.
    pub body: Vec<u8>,
}

/// One recorded value and the fresh value the replay got in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The recorded value.
    pub old: String,
    /// The fresh value.
    pub new: String,
    /// What it is (`access_token`, `saml:Assertion`, `id`).
    pub what: String,
    /// The recorded flow whose replay issued the fresh value.
    pub from: FlowId,
}

impl Pair {
    /// True for credentials (what the secrets policy calls one, and tokens, assertions, codes,
    /// nonces, cookies and certificates), as opposed to plain ids.
    pub fn is_credential(&self) -> bool {
        let w = self.what.to_ascii_lowercase();
        idscope_decoders::secrets::is_secret_name(&self.what)
            || [
                "token",
                "assertion",
                "code",
                "wresult",
                "samlresponse",
                "nonce",
                "cookie",
                "certificate",
                "rawbody",
            ]
            .iter()
            .any(|k| w.contains(k))
    }
}

/// The values learned so far in one replay.
#[derive(Debug, Clone, Default)]
pub struct Correlation {
    pairs: Vec<Pair>,
}

/// Shortest value worth correlating: shorter ones (`"3599"`, `"true"`) would be replaced where
/// they merely happen to occur.
const MIN_LEN: usize = 16;

fn worth(old: &str, new: &str) -> bool {
    old != new
        && old.len() >= MIN_LEN
        && (old.len() >= 64 || !old.chars().any(char::is_whitespace))
        && !looks_like_time(old)
}

fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b.get(..4).is_some_and(|y| y.iter().all(u8::is_ascii_digit))
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
}

impl Correlation {
    /// The pairs learned so far.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// Adds a pair unless its recorded value is already paired; true when added.
    pub fn push(&mut self, p: Pair) -> bool {
        if self.pairs.iter().any(|q| q.old == p.old) {
            return false;
        }
        self.pairs.push(p);
        true
    }

    fn add(&mut self, old: &str, new: &str, what: &str, from: FlowId) -> bool {
        if !worth(old, new) || self.pairs.iter().any(|p| p.old == old) {
            return false;
        }
        self.pairs.push(Pair {
            old: old.to_string(),
            new: new.to_string(),
            what: what.to_string(),
            from,
        });
        true
    }

    /// Pairs what `recorded`'s answer issued with what `replayed`'s answer issued in its place;
    /// returns how many new pairs were learned.
    pub fn learn(&mut self, recorded: &Flow, replayed: &Flow) -> usize {
        let (Some(a), Some(b)) = (recorded.response(), replayed.response()) else {
            return 0;
        };
        let from = recorded.id;
        let before = self.pairs.len();
        let ab = a.body.decoded_lossy(DEFAULT_DECODED_CAP);
        let bb = b.body.decoded_lossy(DEFAULT_DECODED_CAP);
        // JSON members by path.
        if let (Ok(ja), Ok(jb)) = (
            serde_json::from_slice::<serde_json::Value>(&ab),
            serde_json::from_slice::<serde_json::Value>(&bb),
        ) {
            self.learn_json(&ja, &jb, "", from);
        }
        // Location query parameters by name.
        if let (Some(la), Some(lb)) = (
            header(&a.headers, "location"),
            header(&b.headers, "location"),
        ) {
            let qa = idscope_decoders::util::url_query_pairs(la);
            let qb = idscope_decoders::util::url_query_pairs(lb);
            for (k, va) in &qa {
                if let Some((_, vb)) = qb.iter().find(|(kb, _)| kb == k) {
                    self.add(va, vb, k, from);
                }
            }
            self.add(la, lb, "Location", from);
        }
        // Cookies by name.
        let cookies = |h: &crate::flow::Headers| -> Vec<(String, String)> {
            h.iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
                .filter_map(|(_, v)| {
                    let nv = v.split(';').next()?;
                    let (n, v) = nv.split_once('=')?;
                    Some((n.trim().to_string(), v.trim().to_string()))
                })
                .collect()
        };
        let cb = cookies(&b.headers);
        for (n, va) in cookies(&a.headers) {
            if let Some((_, vb)) = cb.iter().find(|(nb, _)| *nb == n) {
                self.add(&va, vb, &format!("cookie {n}"), from);
            }
        }
        let (ta, tb) = (String::from_utf8_lossy(&ab), String::from_utf8_lossy(&bb));
        // HTML hidden inputs by name (the ADFS auto-POST page).
        let ib = hidden_inputs(&tb);
        for (n, va) in hidden_inputs(&ta) {
            if let Some((_, vb)) = ib.iter().find(|(nb, _)| *nb == n) {
                self.add(&va, vb, &n, from);
            }
        }
        // XML (and msbin1) text nodes by element path, in document order.
        if let (Some(xa), Some(xb)) = (xml_text(a, &ab), xml_text(b, &bb)) {
            let (na, nb) = (xml_texts(&xa), xml_texts(&xb));
            for ((pa, va), (pb, vb)) in na.iter().zip(&nb) {
                if pa == pb {
                    let what = pa.rsplit('/').next().unwrap_or(pa);
                    self.add(va, vb, what, from);
                }
            }
        }
        // SAML assertions by position (WS-Trust RSTR, auto-POST wresult).
        for (xa, xb) in assertions(&ta).into_iter().zip(assertions(&tb)) {
            self.add(&xa, &xb, "saml:Assertion", from);
        }
        self.pairs.len() - before
    }

    fn learn_json(
        &mut self,
        a: &serde_json::Value,
        b: &serde_json::Value,
        key: &str,
        from: FlowId,
    ) {
        use serde_json::Value;
        match (a, b) {
            (Value::String(x), Value::String(y)) => {
                let what = match key {
                    "" => "value",
                    "RawBody" => "device certificate (RawBody)",
                    k => k,
                };
                self.add(x, y, what, from);
            }
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x {
                    if let Some(vb) = y.get(k) {
                        self.learn_json(va, vb, k, from);
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                for (va, vb) in x.iter().zip(y) {
                    self.learn_json(va, vb, key, from);
                }
            }
            _ => {}
        }
    }

    /// Maps fresh values in `s` back to the recorded ones (longest first).
    pub fn normalize(&self, s: &str) -> String {
        let mut out = s.to_string();
        let mut ps: Vec<&Pair> = self.pairs.iter().collect();
        ps.sort_by_key(|p| std::cmp::Reverse(p.new.len()));
        for p in ps {
            if out.contains(&p.new) {
                out = out.replace(&p.new, &p.old);
            }
        }
        out
    }

    /// Replaces recorded values in `out` by the fresh ones; returns one note per value and place
    /// (`access_token issued by the replay of #2 → Authorization header`).
    pub fn rewrite(&self, out: &mut Outgoing) -> Vec<String> {
        let mut notes: Vec<String> = Vec::new();
        let mut ps: Vec<&Pair> = self.pairs.iter().collect();
        ps.sort_by_key(|p| std::cmp::Reverse(p.old.len()));
        let mut note = |p: &Pair, place: &str| {
            let verb = if p.is_credential() {
                "credential refreshed"
            } else {
                "correlated"
            };
            let n = format!(
                "{verb}: {} issued by the replay of {} replaces the recorded one in {place}",
                p.what, p.from
            );
            if !notes.contains(&n) {
                notes.push(n);
            }
        };
        let msbin = header_of(&out.headers, "content-type").is_some_and(|c| c.contains("msbin"));
        for p in ps {
            let vars = variants(p);
            if let Some(u) = replace_all(&out.url, &vars) {
                out.url = u;
                note(p, "the URL");
            }
            for (n, v) in &mut out.headers {
                if let Some(nv) = replace_all(v, &vars) {
                    *v = nv;
                    note(p, &format!("the {n} header"));
                }
            }
            if msbin {
                match rewrite_msbin(&out.body, p) {
                    Ok(Some(b)) => {
                        out.body = b;
                        note(p, "the msbin1 body (decoded, replaced, re-encoded)");
                    }
                    Ok(None) => {}
                    Err(e) => note(
                        p,
                        &format!("nothing: the msbin1 body could not be re-encoded ({e})"),
                    ),
                }
            } else if let Ok(text) = std::str::from_utf8(&out.body)
                && let Some(nb) = replace_all(text, &vars)
            {
                out.body = nb.into_bytes();
                note(p, "the body");
            }
        }
        notes
    }

    /// Notes for recorded values that sit inside a JWT the client signed (found in the URL,
    /// headers or body of `out`): they cannot be rewritten without the client's key.
    pub fn signed_notes(&self, out: &Outgoing) -> Vec<String> {
        let mut notes = Vec::new();
        let mut places: Vec<(String, String)> = vec![("the URL".into(), decode_pct(&out.url))];
        for (n, v) in &out.headers {
            places.push((format!("the {n} header"), v.clone()));
        }
        places.push((
            "the body".into(),
            decode_pct(&String::from_utf8_lossy(&out.body)),
        ));
        for (place, text) in places {
            for jwt in jws_candidates(&text) {
                let Some((alg, payload)) = jws_parts(jwt) else {
                    continue;
                };
                if alg.eq_ignore_ascii_case("none") {
                    continue;
                }
                for p in &self.pairs {
                    if payload.contains(&p.old) {
                        let n = format!(
                            "cannot refresh: the recorded {} (issued anew by the replay of {}) is \
                             inside a {alg} JWT in {place} that the client signed with its device \
                             or session key; idscope cannot re-sign it without that key, so it goes \
                             out as recorded and the server may reject it",
                            p.what, p.from
                        );
                        if !notes.contains(&n) {
                            notes.push(n);
                        }
                    }
                }
            }
        }
        notes
    }
}

fn header_of<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The spellings a value may take in a request: raw, form-encoded, base64 and base64url.
fn variants(p: &Pair) -> Vec<(String, String)> {
    let mut v = vec![(p.old.clone(), p.new.clone())];
    let form = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for (o, n) in [
        (form(&p.old), form(&p.new)),
        (b64.encode(&p.old), b64.encode(&p.new)),
        (b64u.encode(&p.old), b64u.encode(&p.new)),
        (form(&b64.encode(&p.old)), form(&b64.encode(&p.new))),
    ] {
        if !v.iter().any(|(x, _)| *x == o) {
            v.push((o, n));
        }
    }
    v
}

fn replace_all(s: &str, vars: &[(String, String)]) -> Option<String> {
    let mut changed = false;
    let mut out = s.to_string();
    for (o, n) in vars {
        if out.contains(o.as_str()) {
            out = out.replace(o.as_str(), n);
            changed = true;
        }
    }
    changed.then_some(out)
}

fn rewrite_msbin(body: &[u8], p: &Pair) -> Result<Option<Vec<u8>>, String> {
    let doc = nbfx::decode(body, &nbfx::DecodeOptions::default()).map_err(|e| e.to_string())?;
    if !doc.xml.contains(&p.old) {
        return Ok(None);
    }
    let xml = doc.xml.replace(&p.old, &p.new);
    nbfx::encode(&xml, nbfx::Style::DataContract)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The XML of an answer: a msbin1 body decoded, or a body that is XML text.
fn xml_text(r: &crate::flow::Response, body: &[u8]) -> Option<String> {
    if header(&r.headers, "content-type").is_some_and(|c| c.contains("msbin")) {
        return nbfx::decode(body, &nbfx::DecodeOptions::default())
            .ok()
            .map(|d| d.xml);
    }
    let text = std::str::from_utf8(body).ok()?;
    text.trim_start().starts_with('<').then(|| text.to_string())
}

/// Most text nodes read from one document.
const MAX_XML_TEXTS: usize = 100_000;

/// `(element path by local names, text)` for every non-blank text node, in document order.
fn xml_texts(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while out.len() < MAX_XML_TEXTS {
        match r.read_event() {
            Ok(Event::Start(e)) => stack.push(e.local_name().into_inner().to_string()),
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Text(t)) => {
                let v: &str = t.as_ref();
                let v = v.trim().to_string();
                if !v.is_empty() {
                    out.push((stack.join("/"), v));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    out
}

/// `name`/`value` of `<input type="hidden" …>` elements, HTML entities undone.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower.get(at..).and_then(|s| s.find("<input")) {
        let start = at + i;
        let end = lower
            .get(start..)
            .and_then(|s| s.find('>'))
            .map_or(html.len(), |e| start + e);
        let tag = html.get(start..end).unwrap_or("");
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
            out.push((n, idscope_decoders::html::decode_entities(&v)));
        }
        at = end.max(start + 1);
    }
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower.get(from..).and_then(|s| s.find(name)) {
        let pos = from + i;
        let before_ok = pos == 0
            || lower
                .as_bytes()
                .get(pos - 1)
                .is_some_and(|c| c.is_ascii_whitespace());
        let rest = tag.get(pos + name.len()..)?.trim_start();
        if before_ok && let Some(r) = rest.strip_prefix('=') {
            let r = r.trim_start();
            let q = r.chars().next()?;
            if q == '"' || q == '\'' {
                let inner = r.get(1..)?;
                return inner
                    .find(q)
                    .and_then(|e| inner.get(..e))
                    .map(str::to_string);
            }
            return r.split_whitespace().next().map(str::to_string);
        }
        from = pos + name.len();
    }
    None
}

/// Every `<p:Assertion …>…</p:Assertion>` (any prefix, or none), outermost, as written.
fn assertions(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = xml.get(at..).and_then(|s| s.find("Assertion")) {
        let pos = at + i;
        at = pos + "Assertion".len();
        // Find the `<` that opens this tag name: `<Assertion` or `<prefix:Assertion`.
        let head = xml.get(..pos).unwrap_or("");
        let Some(lt) = head.rfind('<') else { continue };
        let name_prefix = head.get(lt + 1..).unwrap_or("");
        if name_prefix.starts_with('/')
            || !name_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '_' || c == '-')
            || !(name_prefix.is_empty() || name_prefix.ends_with(':'))
        {
            continue;
        }
        let after = xml.get(at..).and_then(|s| s.chars().next());
        if !matches!(after, Some(' ' | '>' | '\t' | '\n' | '\r')) {
            continue;
        }
        let close = format!("</{name_prefix}Assertion>");
        if let Some(e) = xml.get(at..).and_then(|s| s.find(&close)) {
            let end = at + e + close.len();
            if let Some(s) = xml.get(lt..end) {
                out.push(s.to_string());
            }
            at = end;
        }
    }
    out
}

/// Undoes percent-encoding (and `+` for space) over the whole text, leaving `&` and `=` alone.
fn decode_pct(s: &str) -> String {
    if !s.contains('%') && !s.contains('+') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| {
            b.get(j)
                .and_then(|h| char::from(*h).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        match c {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Substrings shaped like a JWS compact serialisation (`eyJ….….…`).
fn jws_candidates(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .filter(|t| t.starts_with("eyJ") && t.split('.').count() == 3)
        .filter(|t| t.rsplit('.').next().is_some_and(|s| !s.is_empty()))
        .collect()
}

/// The `alg` and the header and payload text of a JWS (the signed part, where a device
/// certificate in `x5c` or a nonce in the claims may sit).
fn jws_parts(jwt: &str) -> Option<(String, String)> {
    let b64u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut it = jwt.split('.');
    let h = b64u.decode(it.next()?.trim_end_matches('=')).ok()?;
    let p = b64u.decode(it.next()?.trim_end_matches('=')).ok()?;
    let hv: serde_json::Value = serde_json::from_slice(&h).ok()?;
    let alg = hv.get("alg")?.as_str()?.to_string();
    Some((
        alg,
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&h),
            String::from_utf8_lossy(&p)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, response};

    fn pair(old: &str, new: &str, what: &str) -> Correlation {
        let mut c = Correlation::default();
        assert!(c.add(old, new, what, FlowId(1)));
        c
    }

    #[test]
    fn json_answers_pair_by_member_and_short_values_are_left_alone() {
        let a = flow(
            1,
            request("POST", "https://l/token"),
            response(
                200,
                "application/json",
                br#"{"access_token":"eyJold.old-token-aaaaaaaaaa.sig","expires_in":"3599"}"#,
            ),
        );
        let b = flow(
            1,
            request("POST", "https://l/token"),
            response(
                200,
                "application/json",
                br#"{"access_token":"eyJnew.new-token-bbbbbbbbbb.sig","expires_in":"3598"}"#,
            ),
        );
        let mut c = Correlation::default();
        assert_eq!(c.learn(&a, &b), 1);
        assert_eq!(c.pairs()[0].what, "access_token");
        let mut out = Outgoing {
            method: "GET".into(),
            url: "https://api/x?t=eyJold.old-token-aaaaaaaaaa.sig".into(),
            headers: vec![(
                "Authorization".into(),
                "Bearer eyJold.old-token-aaaaaaaaaa.sig".into(),
            )],
            body: b"expires_in=3599".to_vec(),
        };
        let notes = c.rewrite(&mut out);
        assert_eq!(out.headers[0].1, "Bearer eyJnew.new-token-bbbbbbbbbb.sig");
        assert!(out.url.ends_with("t=eyJnew.new-token-bbbbbbbbbb.sig"));
        assert_eq!(out.body, b"expires_in=3599");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[1].contains("credential refreshed: access_token issued by the replay of #2 replaces the recorded one in the Authorization header"), "{notes:?}");
        assert_eq!(
            c.normalize("Bearer eyJnew.new-token-bbbbbbbbbb.sig"),
            "Bearer eyJold.old-token-aaaaaaaaaa.sig"
        );
    }

    #[test]
    fn a_bearer_token_inside_msbin1_is_decoded_replaced_and_re_encoded() {
        let xml = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><BearerToken xmlns="urn:t">OLD-TOKEN-0123456789abcdef</BearerToken></s:Header><s:Body></s:Body></s:Envelope>"#;
        let body = nbfx::encode(xml, nbfx::Style::DataContract).unwrap();
        let c = pair(
            "OLD-TOKEN-0123456789abcdef",
            "NEW-TOKEN-fedcba9876543210",
            "access_token",
        );
        let mut out = Outgoing {
            method: "POST".into(),
            url: "https://sync/provisioningservice.svc".into(),
            headers: vec![("Content-Type".into(), "application/soap+msbin1".into())],
            body,
        };
        let notes = c.rewrite(&mut out);
        let back = nbfx::decode(&out.body, &nbfx::DecodeOptions::default()).unwrap();
        assert!(
            back.xml.contains(">NEW-TOKEN-fedcba9876543210<"),
            "{}",
            back.xml
        );
        assert!(notes[0].contains("msbin1 body"), "{notes:?}");
    }

    #[test]
    fn form_encoded_and_base64_spellings_are_rewritten() {
        let c = pair(
            "<saml:Assertion AssertionID=\"_0123456789abcdef\" MajorVersion=\"1\">old</saml:Assertion>",
            "<saml:Assertion AssertionID=\"_fedcba9876543210\" MajorVersion=\"1\">new</saml:Assertion>",
            "saml:Assertion",
        );
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode("<saml:Assertion AssertionID=\"_0123456789abcdef\" MajorVersion=\"1\">old</saml:Assertion>");
        let mut out = Outgoing {
            method: "POST".into(),
            url: "https://l/token".into(),
            headers: vec![],
            body: format!("grant_type=saml&assertion={b64}").into_bytes(),
        };
        c.rewrite(&mut out);
        let want = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode("<saml:Assertion AssertionID=\"_fedcba9876543210\" MajorVersion=\"1\">new</saml:Assertion>");
        assert_eq!(
            out.body,
            format!("grant_type=saml&assertion={want}").into_bytes()
        );
    }

    #[test]
    fn xml_answers_pair_text_by_element_path() {
        let a = flow(
            1,
            request("POST", "https://s/svc"),
            response(
                200,
                "text/xml",
                b"<r><CloudAnchor>Device_00000000-aaaa</CloudAnchor><n>1</n></r>",
            ),
        );
        let b = flow(
            1,
            request("POST", "https://s/svc"),
            response(
                200,
                "text/xml",
                b"<r><CloudAnchor>Device_11111111-bbbb</CloudAnchor><n>2</n></r>",
            ),
        );
        let mut c = Correlation::default();
        assert_eq!(c.learn(&a, &b), 1);
        assert_eq!(c.pairs()[0].what, "CloudAnchor");
        assert_eq!(
            c.normalize("x Device_11111111-bbbb"),
            "x Device_00000000-aaaa"
        );
    }

    #[test]
    fn percent_decoding_keeps_every_field() {
        assert_eq!(decode_pct("a=1%2B2&b=x+y%3D"), "a=1+2&b=x y=");
        assert_eq!(decode_pct("bad%zz"), "bad%zz");
    }

    #[test]
    fn assertions_hidden_inputs_and_signed_jwts_are_found() {
        let x = r#"<t:RSTR><t:Token><saml:Assertion MajorVersion="1">A</saml:Assertion></t:Token><AssertionID>1</AssertionID></t:RSTR>"#;
        assert_eq!(
            assertions(x),
            vec![r#"<saml:Assertion MajorVersion="1">A</saml:Assertion>"#.to_string()]
        );
        let h = r#"<form><input type="hidden" name="wresult" value="&lt;t:RSTR&gt;x&lt;/t:RSTR&gt;" /><input name='wa' value='wsignin1.0'></form>"#;
        assert_eq!(
            hidden_inputs(h),
            vec![
                ("wresult".to_string(), "<t:RSTR>x</t:RSTR>".to_string()),
                ("wa".to_string(), "wsignin1.0".to_string())
            ]
        );
        let b64u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwt = format!(
            "{}.{}.c2ln",
            b64u.encode(r#"{"alg":"RS256"}"#),
            b64u.encode(r#"{"request_nonce":"AwABAAEAAAACAOz_OLD-NONCE"}"#)
        );
        let c = pair(
            "AwABAAEAAAACAOz_OLD-NONCE",
            "AwABAAEAAAACAOz_NEW-NONCE",
            "Nonce",
        );
        let out = Outgoing {
            method: "POST".into(),
            url: "https://l/token".into(),
            headers: vec![],
            body: format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&request={jwt}"
            )
            .into_bytes(),
        };
        let notes = c.signed_notes(&out);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("cannot re-sign"), "{notes:?}");
    }
}
