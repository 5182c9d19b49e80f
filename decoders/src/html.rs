//! HTML, as far as identity traffic needs it: the forms of auto-POST pages (a form's `action`,
//! `method` and named `<input>`s, see [`find_form`]; [`auto_post_form`] recognises the page a
//! protocol posts through the browser by its inputs), the attributes of one start tag as byte
//! ranges ([`start_tag_attributes`], for callers that rewrite values in place), and the
//! character references an attribute value or text may carry ([`decode_entities`]).
//!
//! Pages are scanned, not parsed: the scan is linear, ASCII case-insensitive for tag and
//! attribute names, never panics, and tolerates truncated or malformed markup. Only the five
//! predefined entities and numeric references are decoded; any other `&name;` is kept as written.
//!
//! It is not responsible for what a form means (the SAML and WS-Federation decoders read their
//! inputs) and never runs scripts or follows links.

use crate::xml::reference_char;

/// Decodes the character references an HTML attribute value may carry: the five predefined XML
/// entities (`&lt; &gt; &amp; &quot; &apos;`) and numeric references (`&#60;`, `&#x3C;`). Any
/// other `&name;` is kept as written, so nothing outside those rules is ever expanded.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i..).unwrap_or("");
        let end = after.get(..after.len().min(12)).and_then(|w| w.find(';'));
        let decoded = end.and_then(|e| {
            let ch = reference_char(after.get(1..e)?)?;
            Some((ch, e + 1))
        });
        match decoded {
            Some((ch, len)) => {
                out.push(ch);
                rest = after.get(len..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// An HTML form found in a page: where it posts and its inputs (values entity-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlForm {
    /// The `action` attribute (entity-decoded), if any.
    pub action: Option<String>,
    /// The `method` attribute, uppercased (`POST`), if any.
    pub method: Option<String>,
    /// `(name, value)` of every named `<input>`, in order.
    pub inputs: Vec<(String, String)>,
}

impl HtmlForm {
    /// The value of the first input with this name.
    pub fn input(&self, name: &str) -> Option<&str> {
        self.inputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One attribute of an HTML start tag, as byte positions in the page: the lowercased name and,
/// when the attribute has `=value`, the range of the value between its quotes (or of the bare
/// value). Byte ranges let a caller read the value ([`decode_entities`]) or rewrite it in place
/// (the redactor does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlAttr {
    /// The attribute name, ASCII-lowercased.
    pub name: String,
    /// The value's byte range in the page (without quotes); `None` for a bare attribute.
    pub value: Option<std::ops::Range<usize>>,
    /// True when the value was in quotes.
    pub quoted: bool,
}

/// The attributes of the HTML start tag whose name ends at byte `from` of `s`, and the offset
/// just after its `>` (or the end of `s` when the tag is not closed). Linear, never panics.
pub fn start_tag_attributes(s: &str, from: usize) -> (Vec<HtmlAttr>, usize) {
    let b = s.as_bytes();
    let mut i = from;
    let mut out = Vec::new();
    let skip_ws = |i: &mut usize| {
        while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    loop {
        while b
            .get(i)
            .is_some_and(|c| c.is_ascii_whitespace() || *c == b'/')
        {
            i += 1;
        }
        match b.get(i) {
            None => return (out, i.min(b.len())),
            Some(b'>') => return (out, i + 1),
            _ => {}
        }
        let ns = i;
        while b
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let name = s.get(ns..i).unwrap_or("").to_ascii_lowercase();
        skip_ws(&mut i);
        let mut attr = HtmlAttr {
            name,
            value: None,
            quoted: false,
        };
        if b.get(i) == Some(&b'=') {
            i += 1;
            skip_ws(&mut i);
            match b.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let q = *q;
                    let vs = i + 1;
                    let ve = b
                        .get(vs..)
                        .and_then(|r| r.iter().position(|c| *c == q))
                        .map_or(b.len(), |p| vs + p);
                    i = (ve + 1).min(b.len());
                    attr.value = Some(vs.min(ve)..ve);
                    attr.quoted = true;
                }
                _ => {
                    let vs = i;
                    while b
                        .get(i)
                        .is_some_and(|c| !c.is_ascii_whitespace() && *c != b'>')
                    {
                        i += 1;
                    }
                    attr.value = Some(vs..i);
                }
            }
        }
        if attr.name.is_empty() {
            // A stray `=`: the value after it was skipped; make sure the scan advances.
            if i == ns {
                i += 1;
            }
        } else {
            out.push(attr);
        }
    }
}

/// Attributes of one HTML start tag, from just after its name to `>`, as (name, entity-decoded
/// value) pairs (a bare attribute has an empty value). Returns them and the byte length consumed.
fn tag_attributes(s: &str) -> (Vec<(String, String)>, usize) {
    let (attrs, used) = start_tag_attributes(s, 0);
    let pairs = attrs
        .into_iter()
        .map(|a| {
            let v = a
                .value
                .and_then(|r| s.get(r))
                .map(decode_entities)
                .unwrap_or_default();
            (a.name, v)
        })
        .collect();
    (pairs, used)
}

/// Finds the first `<form>` of an HTML page and its `<input>`s. Linear in the page size; tags
/// are matched case-insensitively; `None` when the page has no form.
pub fn find_form(html: &str) -> Option<HtmlForm> {
    let lower = html.to_ascii_lowercase();
    let start = find_tag(&lower, "form", 0)?;
    let (attrs, used) = tag_attributes(html.get(start + 5..)?);
    let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut form = HtmlForm {
        action: get("action"),
        method: get("method").map(|m| m.to_ascii_uppercase()),
        inputs: Vec::new(),
    };
    let body_start = start + 5 + used;
    let end = lower
        .get(body_start..)
        .and_then(|r| r.find("</form"))
        .map_or(html.len(), |p| body_start + p);
    let mut pos = body_start;
    while let Some(i) = find_tag(&lower, "input", pos).filter(|i| *i < end) {
        let (attrs, used) = tag_attributes(html.get(i + 6..).unwrap_or(""));
        let name = attrs
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone());
        let value = attrs
            .iter()
            .find(|(k, _)| k == "value")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if let Some(name) = name {
            form.inputs.push((name, value));
        }
        pos = i + 6 + used.max(1);
    }
    Some(form)
}

/// The form of an auto-POST page: the first form of `html`, when it carries one of the inputs
/// named in `fields` (the values a protocol sends through the browser: `wresult`,
/// `SAMLResponse` …).
pub fn auto_post_form(html: &str, fields: &[&str]) -> Option<HtmlForm> {
    find_form(html).filter(|f| f.inputs.iter().any(|(n, _)| fields.contains(&n.as_str())))
}

/// Elements that never have content or an end tag.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// How far back from an attribute value a start tag's `<` is looked for.
const MAX_TAG_LEN: usize = 4096;

/// How many occurrences of an id's text [`element_text_by_id`] looks at.
const MAX_ID_HITS: usize = 64;

/// Most bytes of an element's content [`element_text_by_id`] reads.
const MAX_ELEMENT_CONTENT: usize = 64 * 1024;

/// The text inside the first element whose `id` attribute is exactly `id` (as
/// [`text_content`] gives it): `None` when no element has that id, `Some("")` for an empty or
/// void element. Only the start tags holding the id's text are looked at (at most
/// [`MAX_ID_HITS`] of them), and at most [`MAX_ELEMENT_CONTENT`] bytes of the content are read.
pub fn element_text_by_id(html: &str, id: &str) -> Option<String> {
    let b = html.as_bytes();
    if id.is_empty() {
        return None;
    }
    for hit in memchr::memmem::find_iter(b, id.as_bytes()).take(MAX_ID_HITS) {
        let window_start = hit.saturating_sub(MAX_TAG_LEN);
        let Some(lt) = b
            .get(window_start..hit)
            .and_then(|w| memchr::memrchr(b'<', w))
            .map(|i| window_start + i)
        else {
            continue;
        };
        if b.get(lt..hit).is_some_and(|t| t.contains(&b'>')) {
            continue;
        }
        let name_len = b
            .get(lt + 1..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            continue;
        }
        let name_end = lt + 1 + name_len;
        let name = html
            .get(lt + 1..name_end)
            .unwrap_or("")
            .to_ascii_lowercase();
        let (attrs, end) = start_tag_attributes(html, name_end);
        let has_id = attrs.iter().any(|a| {
            a.name == "id"
                && a.value
                    .clone()
                    .and_then(|r| html.get(r))
                    .is_some_and(|v| decode_entities(v) == id)
        });
        if !has_id {
            continue;
        }
        let self_closing = b.get(..end).is_some_and(|t| t.ends_with(b"/>"));
        if VOID_ELEMENTS.contains(&name.as_str()) || self_closing {
            return Some(String::new());
        }
        let close = element_end(html, &name, end);
        return Some(text_content(html.get(end..close).unwrap_or("")));
    }
    None
}

/// Where the content of a `name` element whose start tag ends at `from` ends: at its matching end
/// tag (same-name elements inside are counted), or [`MAX_ELEMENT_CONTENT`] bytes on (at a
/// character boundary) when the page does not close it.
fn element_end(html: &str, name: &str, from: usize) -> usize {
    let limit = floor_char_boundary(html, from.saturating_add(MAX_ELEMENT_CONTENT));
    let b = html.as_bytes();
    let region = b.get(from..limit).unwrap_or_default();
    let named = |at: usize| {
        region
            .get(at..at + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            && region
                .get(at + name.len())
                .is_none_or(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
    };
    let mut depth = 0usize;
    for i in memchr::memchr_iter(b'<', region) {
        if region.get(i + 1) == Some(&b'/') {
            if named(i + 2) {
                if depth == 0 {
                    return from + i;
                }
                depth -= 1;
            }
        } else if named(i + 1) {
            depth += 1;
        }
    }
    limit
}

/// The largest character boundary of `s` at or below `i`.
fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The text of an HTML fragment as a reader sees it: tags and comments removed, the content of
/// `<script>` and `<style>` dropped, character references decoded ([`decode_entities`], and
/// `&nbsp;` as a space), whitespace runs collapsed to one space, trimmed. Reads at most
/// [`MAX_ELEMENT_CONTENT`] bytes.
pub fn text_content(fragment: &str) -> String {
    let s = fragment
        .get(..floor_char_boundary(fragment, MAX_ELEMENT_CONTENT))
        .unwrap_or("");
    let lower = s.to_ascii_lowercase();
    let mut raw = String::with_capacity(s.len().min(4096));
    let mut i = 0;
    while let Some(rel) = s.get(i..).and_then(|r| r.find('<')) {
        raw.push_str(s.get(i..i + rel).unwrap_or(""));
        let at = i + rel;
        let rest = lower.get(at..).unwrap_or("");
        let skip_to = |end: &str, from: usize| {
            lower
                .get(from..)
                .and_then(|r| r.find(end))
                .map_or(s.len(), |p| from + p + end.len())
        };
        let next = rest.as_bytes().get(1).copied();
        i = if rest.starts_with("<!--") {
            skip_to("-->", at + 4)
        } else if rest.starts_with("<script") || rest.starts_with("<style") {
            let tag = if rest.starts_with("<script") {
                "</script"
            } else {
                "</style"
            };
            let close = skip_to(tag, at + 1);
            skip_to(">", close.min(s.len()))
        } else if next.is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, b'/' | b'!' | b'?')) {
            raw.push(' ');
            skip_to(">", at + 1)
        } else {
            raw.push('<');
            at + 1
        };
    }
    raw.push_str(s.get(i..).unwrap_or(""));
    decode_entities(&raw)
        .replace("&nbsp;", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `content` of the first `<meta>` whose `name` is `name` (ASCII case ignored), decoded.
pub fn meta_content(html: &str, name: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(i) = find_tag(&lower, "meta", pos) {
        let (attrs, used) = tag_attributes(html.get(i + 5..).unwrap_or(""));
        let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        if get("name").is_some_and(|n| n.eq_ignore_ascii_case(name)) {
            return get("content").cloned();
        }
        pos = i + 5 + used.max(1);
    }
    None
}

/// The text of the page's `<title>`, if it has one.
pub fn title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = find_tag(&lower, "title", 0)?;
    let (_, used) = start_tag_attributes(html, start + 6);
    let end = lower
        .get(used..)?
        .find("</title")
        .map_or(html.len(), |p| used + p);
    Some(text_content(html.get(used..end)?))
}

/// Position of `<tag` followed by whitespace, `>` or `/`, at or after `from`, in lowercased HTML.
fn find_tag(lower: &str, tag: &str, from: usize) -> Option<usize> {
    let pat = format!("<{tag}");
    let mut pos = from;
    loop {
        let i = pos + lower.get(pos..)?.find(&pat)?;
        let next = lower.as_bytes().get(i + pat.len());
        if next.is_some_and(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/') {
            return Some(i);
        }
        pos = i + pat.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_tag_attributes_gives_value_spans_bare_attributes_and_the_tag_end() {
        let html = r#"<input type=hidden NAME='code' value="a&amp;b" disabled =x>rest"#;
        let (attrs, end) = start_tag_attributes(html, "<input".len());
        assert_eq!(html.get(end..), Some("rest"));
        let names: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["type", "name", "value", "disabled"]);
        let text = |a: &HtmlAttr| a.value.clone().and_then(|r| html.get(r));
        assert_eq!(text(&attrs[0]), Some("hidden"));
        assert!(!attrs[0].quoted);
        assert_eq!(text(&attrs[1]), Some("code"));
        assert_eq!(text(&attrs[2]), Some("a&amp;b"));
        assert!(attrs[2].quoted);
        // `disabled =x` is `disabled="x"` in HTML's grammar.
        assert_eq!(text(&attrs[3]), Some("x"));
        // A stray `=`, an unclosed quote and a missing `>` still end the scan.
        for bad in [
            "<form =\"v\" action=a>",
            "<form action=\"unclosed",
            "<form a",
            "<form",
        ] {
            let (attrs, end) = start_tag_attributes(bad, "<form".len());
            assert!(end <= bad.len(), "{bad}");
            assert!(attrs.iter().all(|a| !a.name.is_empty()), "{bad}");
        }
    }

    #[test]
    fn entity_decoding_handles_predefined_and_numeric_refs_only() {
        assert_eq!(
            decode_entities("&lt;a b=&quot;1&quot;&gt;&#60;&#x3C;&#X3c;&amp;amp;&nbsp;&#0;&;"),
            "<a b=\"1\"><<<&amp;&nbsp;&#0;&;"
        );
        assert_eq!(decode_entities("no refs"), "no refs");
        assert_eq!(decode_entities("trailing &"), "trailing &");
        assert_eq!(decode_entities("&#1114112;"), "&#1114112;");
    }

    #[test]
    fn form_is_found_with_entity_encoded_values() {
        let html = "<HTML><body onload='document.forms[0].submit()'><FORM method=post \
                    action=\"https://login.microsoftonline.com/login.srf\"><input type=\"hidden\" \
                    name=\"wa\" value=\"wsignin1.0\" /><input type=hidden name=wresult \
                    value=\"&lt;t:RSTR a=&#34;1&#x22;/&gt;\"><INPUT name='wctx' value='a&amp;b'>\
                    </form><input name=outside value=x></body></HTML>";
        let f = find_form(html).unwrap();
        assert_eq!(
            f.action.as_deref(),
            Some("https://login.microsoftonline.com/login.srf")
        );
        assert_eq!(f.method.as_deref(), Some("POST"));
        assert_eq!(f.input("wresult"), Some("<t:RSTR a=\"1\"/>"));
        assert_eq!(f.input("wctx"), Some("a&b"));
        assert_eq!(f.input("outside"), None);
    }

    #[test]
    fn auto_post_form_needs_one_of_the_fields() {
        let html = "<form method=post action=https://sp.example/acs><input type=hidden \
                    name=SAMLResponse value=PHA+></form>";
        let form = auto_post_form(html, &["SAMLRequest", "SAMLResponse"]).unwrap();
        assert_eq!(form.action.as_deref(), Some("https://sp.example/acs"));
        assert_eq!(form.input("SAMLResponse"), Some("PHA+"));
        assert_eq!(auto_post_form(html, &["wresult"]), None);
        assert_eq!(auto_post_form("<p>no form</p>", &["wresult"]), None);
    }

    #[test]
    fn element_text_by_id_finds_the_element_by_its_id_attribute_only() {
        let html = "<label for=\"errorText\">x</label><div id=outer><span class='a' id=\"errorText\">\
                    Incorrect <b>user ID</b>&nbsp;or&#32;password.<!-- hidden --><script>var \
                    errorText = 1;</script></span></div><input id=\"errorText2\" value=q>";
        assert_eq!(
            element_text_by_id(html, "errorText").as_deref(),
            Some("Incorrect user ID or password.")
        );
        assert_eq!(element_text_by_id(html, "errorText2").as_deref(), Some(""));
        assert_eq!(element_text_by_id(html, "missing"), None);
        assert_eq!(element_text_by_id(html, ""), None);
        // Nested elements of the same name are counted; an unclosed one runs to the end.
        let nested = "<div id=\"a\">one<div>two</div>three</div>four";
        assert_eq!(
            element_text_by_id(nested, "a").as_deref(),
            Some("one two three")
        );
        assert_eq!(
            element_text_by_id("<p id=a>open é", "a").as_deref(),
            Some("open é")
        );
        // Truncated or odd markup never panics.
        for bad in [
            "<span id=\"x",
            "<span id=x",
            "id=x>",
            "<é id=x>y</é>",
            "<<span id=x/>",
        ] {
            let _ = element_text_by_id(bad, "x");
        }
    }

    #[test]
    fn title_meta_and_text_content_read_what_a_reader_sees() {
        let html = "<HTML><head><TITLE> Sign  In </TITLE><meta name=\"PageID\" \
                    content=\"ConvergedError\"/><meta name=x></head><body>a &lt; b <p>c</body>";
        assert_eq!(title(html).as_deref(), Some("Sign In"));
        assert_eq!(
            meta_content(html, "pageid").as_deref(),
            Some("ConvergedError")
        );
        assert_eq!(meta_content(html, "other"), None);
        assert_eq!(text_content(html), "Sign In a < b c");
        assert_eq!(text_content("1 < 2 and <3"), "1 < 2 and <3");
        assert_eq!(title("<p>no title</p>"), None);
    }

    #[test]
    fn html_without_a_form_gives_none() {
        assert_eq!(
            find_form("<html><body><formula/>no form</body></html>"),
            None
        );
        assert_eq!(find_form(""), None);
        // An unterminated tag must not panic or loop.
        assert!(find_form("<form action=\"x").is_some());
        assert!(find_form("<form><input name=").is_some());
    }
}
