//! The value rules of the redaction policy: what happens to a value under a name of each class of
//! the secrets policy ([`idscope_decoders::secrets`], which decides which names, headers and
//! values are credentials) in every name-keyed position (query, fragment, form, JSON,
//! multipart, HTML inputs, JWT claims, SOAP elements), and the rules for JWS/JWE, URLs, cookies,
//! `Authorization`-style headers and other headers. Every rule returns `None` when it leaves the
//! value as it is, so callers keep the original bytes (and their formatting) untouched.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use idscope_decoders::secrets::{self, HeaderClass, Redacted};
pub(super) use idscope_decoders::secrets::{NameClass, classify, norm};
use idscope_decoders::util;
use serde_json::Value;

use super::{Fingerprinter, Policy, RedactionReport, is_placeholder, password_placeholder};

/// Deepest chain of nested rules (a JWT in a form in base64 in a SAML field …).
const MAX_DEPTH: u8 = 8;

/// True for `http://` and `https://` URLs (the values the URL rule applies to).
pub(super) fn is_url(s: &str) -> bool {
    let t = s.trim_start();
    let l = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// A JWS or JWE already redacted by this module.
pub(super) fn is_redacted_jwt(s: &str) -> bool {
    secrets::is_redacted_token(s)
}

/// The three or five segments of a compact JWT whose header decodes to a JSON object.
fn jwt_segments(s: &str) -> Option<(Vec<&str>, Value)> {
    let t = s.trim();
    if t.len() > idscope_decoders::jwt::MAX_TOKEN_LEN
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
    {
        return None;
    }
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() != 3 && parts.len() != 5 {
        return None;
    }
    let header = util::b64_decode_any(parts.first()?, 64 << 10)?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    header.is_object().then_some((parts, header))
}

/// The rule context: policy, key, report and the nesting depth of the current value.
pub(super) struct Cx<'a> {
    pub(super) policy: &'a Policy,
    pub(super) keyed: &'a Fingerprinter,
    pub(super) report: &'a mut RedactionReport,
    pub(super) depth: u8,
}

impl<'a> Cx<'a> {
    /// A context at depth 0.
    pub(super) fn new(
        policy: &'a Policy,
        keyed: &'a Fingerprinter,
        report: &'a mut RedactionReport,
    ) -> Self {
        Cx {
            policy,
            keyed,
            report,
            depth: 0,
        }
    }

    /// True when one more level of nesting is allowed.
    pub(super) fn can_nest(&self) -> bool {
        self.depth < MAX_DEPTH
    }

    /// Runs `f` one level deeper, or returns `None` past [`MAX_DEPTH`].
    pub(super) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// The fingerprinted placeholder for `value`, counted under `rule`.
    pub(super) fn remove(&mut self, rule: &str, kind: &str, value: &str) -> String {
        self.report.record(rule);
        self.keyed.placeholder(kind, value)
    }

    /// The password placeholder, counted.
    pub(super) fn password(&mut self, value: &str) -> String {
        self.report.record("password");
        password_placeholder(value)
    }

    /// True (and counted) when the value is already redacted and must be left alone.
    pub(super) fn already(&mut self, value: &str) -> bool {
        let done = is_placeholder(value) || is_redacted_jwt(value);
        if done {
            self.report.already_redacted += 1;
        }
        done
    }

    /// The rule for a value under a name: the heart of the body, query, claim and element
    /// rules. `None` keeps the value.
    pub(super) fn keyed(&mut self, key: &str, value: &str) -> Option<String> {
        if value.is_empty() || self.already(value) {
            return None;
        }
        match classify(key) {
            NameClass::Password => Some(self.password(value)),
            NameClass::Credential(kind) => Some(self.remove("credential", kind, value)),
            NameClass::Token => self.token(value, "token"),
            NameClass::Saml => match self.nested(|cx| cx.saml(key, value)) {
                Some(r) => r,
                None => Some(self.remove("saml_undecodable", "saml", value)),
            },
            NameClass::Pii if self.policy.mask_pii => Some(self.remove("pii", "pii", value)),
            NameClass::SecretLooking => {
                if is_url(value) {
                    self.nested(|cx| cx.url(value))
                } else if secrets::looks_like_credential(value) {
                    self.token(value, "secret")
                } else {
                    None
                }
            }
            NameClass::Public => None,
            NameClass::Pii | NameClass::Plain => {
                if is_url(value) {
                    self.nested(|cx| cx.url(value))
                } else {
                    None
                }
            }
        }
    }

    /// A value expected to be a token: JWS rule, JWE rule, SAML assertion in base64, a
    /// `Bearer ` prefix, or removal when it is opaque (fail closed).
    pub(super) fn token(&mut self, value: &str, kind: &str) -> Option<String> {
        if self.already(value) {
            return None;
        }
        if let Some(rest) = value.strip_prefix("Bearer ") {
            return self.token(rest, kind).map(|t| format!("Bearer {t}"));
        }
        if let Some(r) = self.jwt(value) {
            return r;
        }
        if let Some(xml) = self.nested(|cx| cx.base64_xml(value)) {
            return xml;
        }
        Some(self.remove("credential", kind, value))
    }

    /// The JWS/JWE rule. `None` when `value` is not a compact JWT; `Some(None)` when it is one
    /// that is already redacted.
    pub(super) fn jwt(&mut self, value: &str) -> Option<Option<String>> {
        let (parts, header) = jwt_segments(value)?;
        if let [h, _, _, ct, _] = parts.as_slice() {
            if matches!(
                secrets::redaction_marker(ct),
                Some(Redacted::JweContent { .. })
            ) {
                self.report.already_redacted += 1;
                return Some(None);
            }
            self.report.record("jwe");
            let fp = self.keyed.token_fingerprint(value.trim().as_bytes());
            return Some(Some(secrets::redacted_jwe(h, &fp)));
        }
        let [h, p, s] = parts.as_slice() else {
            return None;
        };
        if matches!(
            secrets::redaction_marker(s),
            Some(Redacted::JwsSignature { .. })
        ) {
            self.report.already_redacted += 1;
            return Some(None);
        }
        let alg_none = header
            .get("alg")
            .and_then(Value::as_str)
            .is_none_or(|a| a.eq_ignore_ascii_case("none"));
        if alg_none || s.is_empty() {
            return Some(Some(self.remove("jwt_unsigned", "jwt_unsigned", value)));
        }
        let claims = util::b64_decode_any(p, idscope_decoders::jwt::MAX_TOKEN_LEN)?;
        let claims_text = std::str::from_utf8(&claims).ok()?;
        let new_claims = match self.nested(|cx| cx.json_text(claims_text, None)) {
            Some(Some(changed)) => URL_SAFE_NO_PAD.encode(changed.as_bytes()),
            Some(None) => (*p).to_string(),
            // Claims that are not JSON cannot be checked: the token goes whole.
            None => return Some(Some(self.remove("credential", "jwt", value))),
        };
        self.report.record("jws_signature");
        let fp = self.keyed.token_fingerprint(s.as_bytes());
        Some(Some(format!(
            "{h}.{new_claims}.{}",
            secrets::redacted_jws_signature(&fp)
        )))
    }

    /// Standard base64 of an XML document (a SAML assertion in a SAML-bearer grant): the XML
    /// rules inside, re-encoded. `None` when it is not that.
    fn base64_xml(&mut self, value: &str) -> Option<Option<String>> {
        if !util::is_base64ish(value.trim()) {
            return None;
        }
        let bytes = util::b64_decode_any(value, self.policy.limits.max_inflate)?;
        let text = std::str::from_utf8(&bytes).ok()?;
        if !text.trim_start().starts_with('<') {
            return None;
        }
        let changed = self.xml(text)?;
        Some(changed.map(|x| STANDARD.encode(x.as_bytes())))
    }

    /// The URL rule: `user:pass@` loses the password; query and fragment parameters go through
    /// the key rules. `None` keeps the URL.
    pub(super) fn url(&mut self, url: &str) -> Option<String> {
        let (before_frag, frag) = match url.split_once('#') {
            Some((a, f)) => (a, Some(f)),
            None => (url, None),
        };
        let (base, query) = match before_frag.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (before_frag, None),
        };
        let new_base = self.userinfo(base);
        let new_query = query.and_then(|q| self.pairs(q));
        let new_frag = frag.filter(|f| f.contains('=')).and_then(|f| self.pairs(f));
        if new_base.is_none() && new_query.is_none() && new_frag.is_none() {
            return None;
        }
        let mut out = new_base.unwrap_or_else(|| base.to_string());
        if let Some(q) = query {
            out.push('?');
            out.push_str(new_query.as_deref().unwrap_or(q));
        }
        if let Some(f) = frag {
            out.push('#');
            out.push_str(new_frag.as_deref().unwrap_or(f));
        }
        Some(out)
    }

    /// `scheme://user:password@host…` → the password replaced (percent-encoded placeholder).
    fn userinfo(&mut self, base: &str) -> Option<String> {
        let i = base.find("://")? + 3;
        let rest = base.get(i..)?;
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = rest.get(..authority_end)?;
        let at = authority.rfind('@')?;
        let userinfo = authority.get(..at)?;
        let (user, pass) = userinfo.split_once(':')?;
        let decoded: String = form_urlencoded::parse(format!("p={pass}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if decoded.is_empty() || self.already(&decoded) {
            return None;
        }
        self.report.record("url_password");
        let ph: String =
            form_urlencoded::byte_serialize(password_placeholder(&decoded).as_bytes()).collect();
        Some(format!(
            "{}{user}:{ph}@{}",
            base.get(..i)?,
            rest.get(at + 1..)?
        ))
    }

    /// An `application/x-www-form-urlencoded` list (query, fragment or form body): each value
    /// through the key rules; unchanged pairs keep their exact bytes. `None` when nothing
    /// changed.
    pub(super) fn pairs(&mut self, text: &str) -> Option<String> {
        let mut changed = false;
        let mut out = String::with_capacity(text.len());
        for (i, pair) in text.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = form_urlencoded::parse(pair.as_bytes()).next();
            let new = decoded.and_then(|(k, v)| self.keyed(&k, &v));
            match new {
                Some(v) => {
                    changed = true;
                    out.push_str(raw_key);
                    out.push('=');
                    out.extend(form_urlencoded::byte_serialize(v.as_bytes()));
                    // Keep a trailing newline some clients send after the last pair.
                    if raw_value.ends_with('\n') && !v.ends_with('\n') {
                        out.push('\n');
                    }
                }
                None => out.push_str(pair),
            }
        }
        changed.then_some(out)
    }

    /// A header: cookies, `Authorization`-style, URL-valued, PRT/device credentials, and names
    /// that look secret. `None` keeps the value.
    pub(super) fn header(&mut self, name: &str, value: &str) -> Option<String> {
        match secrets::header_class(name) {
            HeaderClass::Cookie => self.cookie(value),
            HeaderClass::SetCookie => self.set_cookie(value),
            HeaderClass::Authorization => self.authorization(value),
            HeaderClass::Url => self.url(value),
            HeaderClass::Prt => {
                (!self.already(value)).then(|| self.remove("secret_header", "prt", value))
            }
            HeaderClass::DeviceCredential => (!self.already(value))
                .then(|| self.remove("secret_header", "device_credential", value)),
            HeaderClass::Secret => {
                (!self.already(value)).then(|| self.remove("secret_header", "header", value))
            }
            HeaderClass::Plain => None,
        }
    }

    /// `Cookie: a=1; b=2`: every value fingerprinted, names and separators kept.
    fn cookie(&mut self, value: &str) -> Option<String> {
        let mut changed = false;
        let parts: Vec<String> = value
            .split(';')
            .map(|part| match self.cookie_pair(part) {
                Some(p) => {
                    changed = true;
                    p
                }
                None => part.to_string(),
            })
            .collect();
        changed.then(|| parts.join(";"))
    }

    /// One `name=value` of a cookie header, value replaced.
    fn cookie_pair(&mut self, part: &str) -> Option<String> {
        let (name, v) = part.split_once('=')?;
        let v = v.trim();
        if v.is_empty() || self.already(v) {
            return None;
        }
        let kind = if norm(name) == "xmsrefreshtokencredential" {
            "prt"
        } else {
            "cookie"
        };
        Some(format!("{name}={}", self.remove("cookie", kind, v)))
    }

    /// `Set-Cookie: name=value; Path=/; HttpOnly`: the value fingerprinted, attributes kept.
    fn set_cookie(&mut self, value: &str) -> Option<String> {
        let (first, attrs) = match value.split_once(';') {
            Some((f, a)) => (f, Some(a)),
            None => (value, None),
        };
        let new = self.cookie_pair(first)?;
        Some(match attrs {
            Some(a) => format!("{new};{a}"),
            None => new,
        })
    }

    /// `Authorization`, `Proxy-Authorization`, `WWW-Authenticate`: the scheme is kept; Basic
    /// keeps the user; Bearer tokens go through the token rule; NTLM/Negotiate keep the message
    /// type; parameter lists keep harmless parameters.
    fn authorization(&mut self, value: &str) -> Option<String> {
        let v = value.trim();
        let (scheme, rest) = match v.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r.trim()),
            None => (v, ""),
        };
        if rest.is_empty() || self.already(rest) {
            return None;
        }
        let s = scheme.to_ascii_lowercase();
        let new_rest = match s.as_str() {
            "basic" => self.basic(rest),
            "ntlm" | "negotiate" | "kerberos" => {
                if !is_token68(rest) && well_formed_params(rest) {
                    self.auth_params(rest)
                } else {
                    Some(self.ntlm(rest))
                }
            }
            _ if is_token68(rest) => self.token(rest, "bearer"),
            _ if well_formed_params(rest) => self.auth_params(rest),
            // Neither a token nor clean parameters: the credentials go whole (fail closed).
            _ => Some(self.remove("credential", "auth", rest)),
        }?;
        self.report.record("authorization");
        Some(format!("{scheme} {new_rest}"))
    }

    /// Basic credentials: `base64(user:«redacted:password:len=N»)`.
    fn basic(&mut self, rest: &str) -> Option<String> {
        let decoded = util::b64_decode_any(rest, 64 << 10)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            });
        match decoded {
            Some((_, p)) if self.already(&p) => None,
            Some((u, p)) => Some(STANDARD.encode(format!("{u}:{}", self.password(&p)))),
            None => Some(self.remove("credential", "basic", rest)),
        }
    }

    /// An NTLM or SPNEGO blob: the message type is kept in the placeholder's kind.
    fn ntlm(&mut self, rest: &str) -> String {
        let bytes = util::b64_decode_any(rest, 1 << 20).unwrap_or_default();
        let kind = match find(&bytes, b"NTLMSSP\0") {
            Some(i) => {
                let t = bytes
                    .get(i + 8..i + 12)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map_or(0, u32::from_le_bytes);
                format!("ntlm_type{t}")
            }
            None => match bytes.first() {
                Some(0x60) => "spnego_init".to_string(),
                Some(0xa1) => "spnego_response".to_string(),
                _ => "negotiate".to_string(),
            },
        };
        self.remove("credential", &kind, rest)
    }

    /// `k=v, k="v"` parameters (Digest, Bearer challenges, MSAuth): harmless names kept, the
    /// rest through the key rules, and anything still unknown fingerprinted.
    fn auth_params(&mut self, rest: &str) -> Option<String> {
        const HARMLESS: &[&str] = &[
            "realm",
            "authorizationuri",
            "authorization",
            "error",
            "errordescription",
            "erroruri",
            "scope",
            "resourceid",
            "resource",
            "trustedissuers",
            "clientid",
            "username",
            "uri",
            "qop",
            "algorithm",
            "nc",
            "charset",
            "userhash",
            "domain",
            "stale",
            "type",
            "version",
            "submiturl",
            "certauthorities",
            "context",
        ];
        let mut changed = false;
        let mut out = Vec::new();
        for param in split_params(rest) {
            let Some((k, v)) = param.split_once('=') else {
                out.push(param.to_string());
                continue;
            };
            let quoted = v.trim().starts_with('"');
            let inner = v.trim().trim_matches('"');
            let new = if HARMLESS.contains(&norm(k).as_str())
                || inner.is_empty()
                || self.already(inner)
            {
                None
            } else {
                self.keyed(k.trim(), inner)
                    .or_else(|| Some(self.remove("credential", "auth_param", inner)))
            };
            match new {
                Some(n) => {
                    changed = true;
                    out.push(if quoted {
                        format!("{k}=\"{n}\"")
                    } else {
                        format!("{k}={n}")
                    });
                }
                None => out.push(param.to_string()),
            }
        }
        changed.then(|| out.join(","))
    }

    /// A JSON value that is not kept as text (HAR custom fields): the same key rules, applied
    /// in place.
    pub(super) fn json_value(&mut self, key: Option<&str>, v: &mut Value) {
        match v {
            Value::String(s) => {
                let new = match key {
                    Some(k) => self.keyed(k, s),
                    None if is_url(s) => self.url(s),
                    None => None,
                };
                if let Some(n) = new {
                    *s = n;
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.json_value(key, item);
                }
            }
            Value::Object(map) => {
                if self.depth >= MAX_DEPTH {
                    return;
                }
                self.depth += 1;
                for (k, item) in map.iter_mut() {
                    self.json_value(Some(k), item);
                }
                self.depth -= 1;
            }
            // Booleans are flags, never credentials.
            Value::Number(_) => {
                if let Some(k) = key {
                    let text = v.to_string();
                    match classify(k) {
                        NameClass::Password => *v = Value::String(self.password(&text)),
                        NameClass::Credential(kind) => {
                            *v = Value::String(self.remove("credential", kind, &text));
                        }
                        _ => {}
                    }
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }
}

/// True for an RFC 7235 `token68` (base64-ish credentials without parameters).
fn is_token68(s: &str) -> bool {
    let t = s.trim_end_matches('=');
    !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// True when `s` is a clean `name=value` list: token names, values either unquoted tokens or
/// quoted strings without inner quotes. Anything else is treated as one opaque credential.
fn well_formed_params(s: &str) -> bool {
    split_params(s).iter().all(|p| {
        let Some((k, v)) = p.split_once('=') else {
            return false;
        };
        let k = k.trim();
        let v = v.trim();
        let token = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/:#=*!$%&'^`|".contains(&b))
        };
        let quoted = v.len() >= 2
            && v.starts_with('"')
            && v.ends_with('"')
            && !v.get(1..v.len() - 1).unwrap_or("\"").contains(['"', '\\']);
        token(k) && !k.contains('=') && (quoted || token(v) || v.is_empty() || is_placeholder(v))
    })
}

/// Splits `a=1, b="x,y"` at commas outside quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(s.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// Position of `needle` in `hay`.
pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
