//! Escaping of text written into the XML output: attribute values and element content
//! (MC-NBFX 2.2.3.13.1 minimal escaping) and comment bodies. Shared with the encoder's
//! normalizer (`writer.rs`). Not responsible for rendering typed values (see `values.rs`).

use std::fmt::Write as _;

/// Where escaped text goes: attribute values escape `"` and whitespace controls, element content
/// escapes `>` (MC-NBFX 2.2.3.13.1 "minimal escaping", as in the spec's example).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::soap::nbfx) enum Ctx {
    Attr,
    Content,
}

/// Appends `s` escaped for `ctx`. `&`, `<` always; `>` in content; `"`, tab and newline in
/// attributes (so that attribute-value normalization cannot change them); carriage return
/// everywhere (so that end-of-line normalization cannot); characters XML forbids
/// (C0 controls, U+FFFE, U+FFFF) as `&#N;` as MC-NBFX requires.
pub(in crate::soap::nbfx) fn push_escaped(out: &mut String, s: &str, ctx: Ctx) {
    let bytes = s.as_bytes();
    let attr = ctx == Ctx::Attr;
    let mut last = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (rep, width): (Option<&str>, usize) = match b {
            b'&' => (Some("&amp;"), 1),
            b'<' => (Some("&lt;"), 1),
            b'>' if !attr => (Some("&gt;"), 1),
            b'"' if attr => (Some("&quot;"), 1),
            b'\t' if attr => (Some("&#9;"), 1),
            b'\n' if attr => (Some("&#10;"), 1),
            b'\r' => (Some("&#13;"), 1),
            0x00..=0x1F if b != b'\t' && b != b'\n' => (None, 1),
            0xEF if bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
            {
                (None, 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(s.get(last..i).unwrap_or(""));
        match rep {
            Some(r) => out.push_str(r),
            None => {
                let code = if width == 3 {
                    0xFFFE + u32::from(bytes.get(i + 2) == Some(&0xBF))
                } else {
                    u32::from(b)
                };
                let _ = write!(out, "&#{code};");
            }
        }
        i += width;
        last = i;
    }
    out.push_str(s.get(last..).unwrap_or(""));
}

pub(super) fn push_escaped_char(out: &mut String, c: char, ctx: Ctx) {
    if c.is_ascii() || c == '\u{FFFE}' || c == '\u{FFFF}' {
        let mut buf = [0u8; 4];
        push_escaped(out, c.encode_utf8(&mut buf), ctx);
    } else {
        out.push(c);
    }
}

/// Appends a comment body with every `--` split and a trailing `-` padded, so that the comment
/// stays well-formed (XML forbids `--` inside comments).
pub(in crate::soap::nbfx) fn push_comment_body(out: &mut String, s: &str) {
    let mut prev_dash = false;
    for c in s.chars() {
        if c == '-' && prev_dash {
            out.push(' ');
        }
        out.push(c);
        prev_dash = c == '-';
    }
    if prev_dash {
        out.push(' ');
    }
}
