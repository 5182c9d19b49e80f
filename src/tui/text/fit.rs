//! The TUI's text fitted to its columns: the one set of fitting functions ([`crate::fit`], which
//! `analyze`'s table and the report's diagrams use too) and [`wrap_lines`], which wraps the
//! TUI's tone-carrying lines.

pub use crate::fit::*;

use super::TextLine;

/// Every line of `lines` wrapped to `cols` columns ([`wrap`]), each piece keeping its line's
/// tone, at most `max` lines in all; what is beyond is counted in a last, dim line.
pub fn wrap_lines(lines: Vec<TextLine>, cols: usize, max: usize) -> Vec<TextLine> {
    let mut out = Vec::with_capacity(lines.len());
    let mut left_out = 0usize;
    for l in lines {
        if out.len() >= max {
            left_out += 1;
            continue;
        }
        if width(&l.text) <= cols || cols == 0 {
            out.push(l);
            continue;
        }
        for piece in wrap(&l.text, cols) {
            if out.len() >= max {
                left_out += 1;
            } else {
                out.push(TextLine::new(piece, l.tone));
            }
        }
    }
    if left_out > 0 {
        out.push(TextLine::left_out(left_out, "lines"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::text::Tone;

    #[test]
    fn wrapped_lines_are_bounded() {
        let lines = vec![TextLine::new("x".repeat(100), Tone::Normal)];
        let w = wrap_lines(lines, 10, 4);
        assert_eq!(w.len(), 5);
        assert_eq!(w[4].text, "… 6 more lines (export the flow to see all)");
        assert_eq!(w[4].tone, Tone::Dim);
    }
}
