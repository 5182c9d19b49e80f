//! Span-preserving JSON redaction: the text is walked once, string and number values under
//! credential names are replaced in place, and everything else (key order, spacing, escapes,
//! number spelling) stays byte-identical. Re-serialising through `serde_json::Value` would
//! reorder keys and change numbers, and would make a second redaction differ from the first.
//!
//! An object or array under a credential name is walked rather than replaced whole: every string
//! and number inside it is the credential's (unless its own name says it is public or another
//! credential), while booleans and `null` are flags and stay, so SCIM's
//! `"changePassword": {"supported": false}` keeps its meaning and `"password": {"value": "…"}`
//! still loses the password.

use idscope_decoders::secrets;

use super::values::{Cx, NameClass, classify, is_url};

/// One replacement: the byte range of a JSON value and its new JSON text.
type Edit = (usize, usize, String);

impl Cx<'_> {
    /// Redacts a JSON document under `key` (the name it sits under, if any). `None` when the
    /// text is not JSON (or deeper than the limits); `Some(None)` when nothing changed.
    pub(super) fn json_text(&mut self, text: &str, key: Option<&str>) -> Option<Option<String>> {
        let depth = idscope_decoders::util::json_depth(text.as_bytes());
        if depth > self.policy.limits.max_depth
            || text.len() > self.policy.limits.max_body
            || serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
        {
            return None;
        }
        let mut w = Walk {
            s: text,
            b: text.as_bytes(),
            i: 0,
            edits: Vec::new(),
        };
        w.value(self, key, None)?;
        if w.edits.is_empty() {
            return Some(None);
        }
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (s, e, rep) in &w.edits {
            out.push_str(text.get(pos..*s)?);
            out.push_str(rep);
            pos = *e;
        }
        out.push_str(text.get(pos..)?);
        Some(Some(out))
    }
}

/// The cursor over a JSON text already known to be valid.
struct Walk<'t> {
    s: &'t str,
    b: &'t [u8],
    i: usize,
    edits: Vec<Edit>,
}

impl Walk<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    /// The end (exclusive) of the string starting at `self.i` (on its `"`).
    fn string_end(&self) -> Option<usize> {
        let mut j = self.i + 1;
        loop {
            match self.b.get(j)? {
                b'\\' => j += 2,
                b'"' => return Some(j + 1),
                _ => j += 1,
            }
        }
    }

    /// Whether the object starting at `self.i` (on its `{`) has a member `name` of its own;
    /// does not move.
    fn object_has_key(&self, name: &str) -> bool {
        let mut w = Walk {
            s: self.s,
            b: self.b,
            i: self.i + 1,
            edits: Vec::new(),
        };
        loop {
            w.ws();
            match w.b.get(w.i) {
                Some(b',') => {
                    w.i += 1;
                    continue;
                }
                Some(b'"') => {}
                _ => return false,
            }
            let Some(ke) = w.string_end() else {
                return false;
            };
            if w.s.get(w.i + 1..ke - 1) == Some(name) {
                return true;
            }
            w.i = ke;
            w.ws();
            if w.b.get(w.i) != Some(&b':') {
                return false;
            }
            w.i += 1;
            w.ws();
            if w.value_end().is_none() {
                return false;
            }
        }
    }

    /// The end of any value starting at `self.i`, without interpreting it; moves past it.
    fn value_end(&mut self) -> Option<usize> {
        match self.b.get(self.i)? {
            b'"' => self.i = self.string_end()?,
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.b.get(self.i)? {
                        b'"' => {
                            self.i = self.string_end()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
            }
        }
        Some(self.i)
    }

    /// One value under `key`; `within` is the credential class of the object or array it is
    /// inside, if any.
    fn value(
        &mut self,
        cx: &mut Cx<'_>,
        key: Option<&str>,
        within: Option<NameClass>,
    ) -> Option<()> {
        self.ws();
        let start = self.i;
        let own = key.map(classify);
        let is_credential = |c: Option<NameClass>| {
            matches!(c, Some(NameClass::Password | NameClass::Credential(_)))
        };
        // The class the value's scalars get: its own when that is a credential or a rule of its
        // own (a token, a SAML message, a public name), else the enclosing credential's.
        let inherited = match own {
            Some(NameClass::Plain | NameClass::Pii | NameClass::SecretLooking) | None => within,
            _ => None,
        };
        let whole = if is_credential(own) { own } else { inherited };
        match self.b.get(self.i)? {
            b'{' => {
                let jwk = self.object_has_key("kty");
                self.i += 1;
                loop {
                    self.ws();
                    match self.b.get(self.i)? {
                        b'}' => {
                            self.i += 1;
                            break;
                        }
                        b',' => {
                            self.i += 1;
                            continue;
                        }
                        b'"' => {}
                        _ => return None,
                    }
                    let ks = self.i;
                    let ke = self.string_end()?;
                    let k: String = serde_json::from_str(self.s.get(ks..ke)?).ok()?;
                    self.i = ke;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    // A JWK's private members are key material, inherited like a
                    // credential's contents (`oth` is an array of objects).
                    let within = match secrets::classify_jwk_member(&k) {
                        c @ NameClass::Credential(_) if jwk => Some(c),
                        _ => whole,
                    };
                    if cx.can_nest() {
                        cx.depth += 1;
                        let r = self.value(cx, Some(&k), within);
                        cx.depth -= 1;
                        r?;
                    } else {
                        // Too deep to look inside: the value goes whole.
                        self.ws();
                        let vs = self.i;
                        let ve = self.value_end()?;
                        let raw = self.s.get(vs..ve)?;
                        let rep = cx.remove("too_deep", "json", raw);
                        self.edits.push((vs, ve, json_string(&rep)));
                    }
                }
            }
            b'[' => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.b.get(self.i)? {
                        b']' => {
                            self.i += 1;
                            break;
                        }
                        b',' => {
                            self.i += 1;
                            continue;
                        }
                        _ => {}
                    }
                    self.value(cx, key, whole)?;
                }
            }
            b'"' => {
                let end = self.string_end()?;
                let raw = self.s.get(start..end)?;
                self.i = end;
                let v: String = serde_json::from_str(raw).ok()?;
                let rep = match (inherited, key) {
                    (Some(_), _) if v.is_empty() || cx.already(&v) => None,
                    (Some(NameClass::Password), _) => Some(cx.password(&v)),
                    (Some(NameClass::Credential(kind)), _) => {
                        Some(cx.remove("credential", kind, &v))
                    }
                    (_, Some(k)) => cx.keyed(k, &v),
                    (_, None) if is_url(&v) => cx.url(&v),
                    (_, None) => None,
                };
                if let Some(rep) = rep {
                    self.edits.push((start, end, json_string(&rep)));
                }
            }
            _ => {
                let end = self.value_end()?;
                let raw = self.s.get(start..end)?;
                // `true`, `false` and `null` are flags, never credentials.
                if !matches!(raw, "null" | "true" | "false") {
                    let rep = match whole {
                        Some(NameClass::Password) => Some(cx.password(raw)),
                        Some(NameClass::Credential(kind)) => {
                            Some(cx.remove("credential", kind, raw))
                        }
                        _ => None,
                    };
                    if let Some(rep) = rep {
                        self.edits.push((start, end, json_string(&rep)));
                    }
                }
            }
        }
        Some(())
    }
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}
