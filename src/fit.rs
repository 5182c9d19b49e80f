//! Fitting text to columns, by display width (`unicode-width`: a CJK character takes
//! two columns, a combining mark none): paths and hosts shortened in the middle so that their
//! end — the endpoint, the domain — stays ([`path`], [`host`]), lists of kinds cut between words
//! ([`kinds`]), and long lines wrapped at a word boundary where there is one ([`wrap`]; the TUI's
//! `tui::text::fit::wrap_lines` wraps its styled lines with it).

use unicode_width::UnicodeWidthChar;

/// What stands for the text left out.
const ELLIPSIS: &str = "…";

/// The columns the start of a shortened path or host keeps at least (`/7d6f…`).
const HEAD_MIN: usize = 5;

/// The display width of `s`: the sum of its characters' widths (a control character counts
/// none), the measure every function here cuts by.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// The longest start of `s` that takes at most `cols` columns.
fn prefix(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += char_width(c);
        if used > cols {
            return s.get(..i).unwrap_or("");
        }
    }
    s
}

/// The longest end of `s` that takes at most `cols` columns.
fn suffix(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices().rev() {
        used += char_width(c);
        if used > cols {
            return s.get(i + c.len_utf8()..).unwrap_or("");
        }
    }
    s
}

/// `s` in at most `cols` columns: whole, or its start and `…`.
pub fn cut_end(s: &str, cols: usize) -> String {
    if width(s) <= cols {
        return s.to_string();
    }
    if cols == 0 {
        return String::new();
    }
    format!("{}{ELLIPSIS}", prefix(s, cols - 1))
}

/// `s` in at most `cols` columns, shortened in the middle: the start of its first part and as
/// much of its end as fits. With a `sep`, the end starts at a separator when one fits, the start
/// taking the columns left (`/7d6f3e4a-1b2c…/oauth2/token`); without, the end is cut anywhere
/// (`admin…microsoftonline.com`).
pub fn middle(s: &str, cols: usize, sep: Option<char>) -> String {
    if width(s) <= cols {
        return s.to_string();
    }
    if cols < HEAD_MIN + 2 {
        // No room for both ends: the end says more.
        return match cols {
            0 => String::new(),
            n => format!("{ELLIPSIS}{}", suffix(s, n - 1)),
        };
    }
    let budget = cols - 1;
    let room = budget - HEAD_MIN;
    // The longest end that starts at a separator and fits (never the whole of `s`).
    let aligned = sep.and_then(|sep| {
        s.char_indices()
            .filter(|(i, c)| *i > 0 && *c == sep)
            .map(|(i, _)| s.get(i..).unwrap_or(""))
            .find(|tail| width(tail) <= room)
    });
    let tail = aligned.unwrap_or_else(|| suffix(s, room));
    let head = prefix(s, budget.saturating_sub(width(tail)));
    format!("{head}{ELLIPSIS}{tail}")
}

/// A path and query in at most `cols` columns. The query is shortened first (`/a/b?x=1…`); when
/// the path itself does not fit, the query goes and the path is shortened in the middle,
/// keeping its end, which names the endpoint (`/7d6f…/oauth2/token`).
pub fn path(path_and_query: &str, cols: usize) -> String {
    if width(path_and_query) <= cols {
        return path_and_query.to_string();
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let pw = width(path);
    if let Some(q) = query
        && pw + 2 <= cols
    {
        return format!(
            "{path}?{}{ELLIPSIS}",
            prefix(q, cols.saturating_sub(pw + 2))
        );
    }
    middle(path, cols, Some('/'))
}

/// A host in at most `cols` columns, shortened in the middle so the domain stays.
pub fn host(host: &str, cols: usize) -> String {
    middle(host, cols, None)
}

/// A comma-separated list of kinds in at most `cols` columns, cut between words, never inside
/// one: `saml,wsfed+1` says one more kind did not fit.
pub fn kinds(kinds: &str, cols: usize) -> String {
    if width(kinds) <= cols {
        return kinds.to_string();
    }
    let words: Vec<&str> = kinds.split(',').collect();
    for keep in (1..words.len()).rev() {
        let s = format!(
            "{}+{}",
            words.get(..keep).unwrap_or_default().join(","),
            words.len() - keep
        );
        if width(&s) <= cols {
            return s;
        }
    }
    cut_end(words.first().copied().unwrap_or(""), cols)
}

/// The columns [`kinds`] needs to show `kinds` with its first word whole: all of it, or the
/// first word and `+N` for the rest.
pub fn kinds_width(kinds: &str) -> usize {
    let mut words = kinds.split(',');
    let first = words.next().map_or(0, width);
    match words.count() {
        0 => first,
        more => width(kinds).min(first + 1 + more.to_string().len()),
    }
}

/// `line` as lines of at most `cols` columns: each break after the last space, `&`, `,` or
/// `;` that fits when there is one in the second half of the line, else where the columns end
/// (a base64 value has no word to break at). Every character is kept, in order.
pub fn wrap(line: &str, cols: usize) -> Vec<String> {
    if cols == 0 || width(line) <= cols {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut rest = line;
    while width(rest) > cols {
        let mut cut = prefix(rest, cols).len();
        if cut == 0 {
            // A character wider than the line: it gets a line of its own.
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let head = rest.get(..cut).unwrap_or(rest);
        let soft = head
            .char_indices()
            .filter(|(_, c)| matches!(c, ' ' | '&' | ',' | ';'))
            .map(|(i, c)| i + c.len_utf8())
            .next_back()
            .filter(|at| width(rest.get(..*at).unwrap_or("")) * 2 >= cols);
        let at = soft.unwrap_or(cut);
        out.push(rest.get(..at).unwrap_or(rest).to_string());
        rest = rest.get(at..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "/7d6f3e4a-1b2c-4d5e-8f90-a1b2c3d4e5f6/oauth2/token";

    #[test]
    fn a_long_path_keeps_its_start_and_its_endpoint() {
        assert_eq!(path(TOKEN, 60), TOKEN);
        assert_eq!(path(TOKEN, 20), "/7d6f3…/oauth2/token");
        assert_eq!(path(TOKEN, 27), "/7d6f3e4a-1b2…/oauth2/token");
        // Too narrow for the last two segments: the last one, then its end.
        assert_eq!(path(TOKEN, 14), "/7d6f3e…/token");
        assert_eq!(path("/abcdefghijklmnopqrstuvwxyz", 12), "/abcd…uvwxyz");
        assert_eq!(path(TOKEN, 4), "…ken");
        assert_eq!(path(TOKEN, 0), "");
        for cols in 0..60 {
            assert!(width(&path(TOKEN, cols)) <= cols, "{cols}");
        }
    }

    #[test]
    fn the_query_is_shortened_before_the_path() {
        let pq = "/common/oauth2/v2.0/authorize?client_id=1b730954&response_type=code";
        assert_eq!(path(pq, 40), "/common/oauth2/v2.0/authorize?client_id…");
        assert_eq!(path(pq, 31), "/common/oauth2/v2.0/authorize?…");
        assert_eq!(path(pq, 24), "/common/…/v2.0/authorize");
    }

    #[test]
    fn hosts_keep_their_domain() {
        let h = "adminwebservice.microsoftonline.com";
        assert_eq!(host(h, 40), h);
        assert_eq!(host(h, 26), "admin….microsoftonline.com");
        assert_eq!(host(h, 25), "admin…microsoftonline.com");
        assert_eq!(host("login.microsoftonline.com", 12), "login…ne.com");
    }

    #[test]
    fn widths_are_display_columns() {
        // Each of these CJK characters takes two columns.
        let p = "/租户/租户/令牌端点";
        assert_eq!(width(p), 19);
        assert_eq!(path(p, 16), "/租户/…/令牌端点");
        assert_eq!(path(p, 11), "/租户/…端点");
        for cols in 0..20 {
            assert!(width(&path(p, cols)) <= cols, "{cols}");
        }
        assert_eq!(cut_end("令牌端点", 5), "令牌…");
        assert_eq!(wrap("令牌端点", 3), ["令", "牌", "端", "点"]);
    }

    #[test]
    fn any_text_fits_its_columns() {
        let texts = [
            "/a\u{1}b\u{7f}c/\u{0}\u{0}\u{0}/oauth2/token?x=\u{1b}[31m",
            "/e\u{301}\u{301}\u{301}/\u{200b}\u{200b}/x",
            "host.\u{ff10}\u{ff11}\u{ff12}.example",
            "",
            "/",
            "?",
        ];
        for t in texts {
            for cols in 0..40 {
                assert!(width(&path(t, cols)) <= cols, "{t:?} {cols}");
                assert!(width(&host(t, cols)) <= cols, "{t:?} {cols}");
                assert!(width(&kinds(t, cols)) <= cols, "{t:?} {cols}");
                assert_eq!(wrap(t, cols).concat(), t, "{t:?} {cols}");
            }
        }
    }

    #[test]
    fn kinds_are_cut_between_words() {
        assert_eq!(kinds("provisioning", 12), "provisioning");
        assert_eq!(kinds("saml,wsfed,jwt", 12), "saml,wsfed+1");
        assert_eq!(kinds("realm,oauth,jwt", 10), "realm+2");
        for k in [
            "provisioning,soap,nbfx",
            "saml,wsfed",
            "fedmetadata",
            "a,b,c,d,e,f,g,h,i,j,k",
        ] {
            let w = kinds_width(k);
            let shown = kinds(k, w);
            assert!(width(&shown) <= w, "{k}");
            assert!(
                shown.starts_with(k.split(',').next().unwrap()),
                "{k}: {shown}"
            );
        }
        assert_eq!(kinds_width("provisioning,soap,nbfx"), 14);
        assert_eq!(kinds_width("saml,wsfed"), 6);
        assert_eq!(kinds_width("fedmetadata"), 11);
        assert_eq!(kinds_width("a,b,c,d,e,f,g,h,i,j,k"), 4);
    }

    #[test]
    fn wrapping_breaks_at_words_or_columns_and_keeps_every_character() {
        let form = "grant_type=password&username=alice%40contoso.test&password=x";
        let w = wrap(form, 30);
        assert_eq!(
            w,
            [
                "grant_type=password&",
                "username=alice%40contoso.test&",
                "password=x"
            ]
        );
        let b64 = "PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6";
        let w = wrap(b64, 20);
        assert_eq!(w.concat(), b64);
        assert!(w.iter().all(|l| width(l) <= 20));
        assert_eq!(w.len(), 3);
        assert_eq!(wrap("short", 20), ["short"]);
    }
}
