//! The Detail tab's correlation block: the diagnostic and correlation headers of a flow
//! ([`crate::analysis::correlation`]), one per line with the side it was sent on, the parts of the
//! headers whose format is known indented under it, and the filter that lists every flow
//! carrying an id (`~corr ID`). A `WWW-Authenticate` Bearer challenge the decoders explained is
//! pointed to the Decoded tab rather than explained twice.

use super::{TextLine, Tone};
use crate::analysis::correlation::{self, ID_HEADERS, QUERY_CLIENT_REQUEST_ID};
use crate::analysis::{FlowReport, Side};
use crate::flow::Flow;

/// The label of the decoders' view of a Bearer challenge that names an error.
const BEARER_CHALLENGE: &str = "Bearer challenge";

/// The block's lines: a blank line and a heading, then the headers; nothing when the flow has
/// none.
pub fn lines(flow: &Flow, report: &FlowReport) -> Vec<TextLine> {
    let entries = correlation::entries(flow);
    if entries.is_empty() {
        return vec![];
    }
    let explained = report
        .response
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .any(|d| d.root.label == BEARER_CHALLENGE);
    let mut out = vec![
        TextLine::new("", Tone::Normal),
        TextLine::new(
            format!("correlation and diagnostic headers ({})", entries.len()),
            Tone::Heading,
        ),
    ];
    for e in entries {
        let side = match e.side {
            Side::Request => "request ",
            Side::Response => "response",
        };
        let mut text = format!("  {side} {}: {}", e.name, e.value);
        let is_id = e.name == QUERY_CLIENT_REQUEST_ID || ID_HEADERS.contains(&e.name);
        if is_id && !e.value.trim().is_empty() && !e.value.contains(char::is_whitespace) {
            text.push_str(&format!("   (f: ~corr {})", e.value.trim()));
        }
        if e.name == "www-authenticate" && explained {
            text.push_str("   (explained in the Decoded tab)");
        }
        out.push(TextLine::new(text, Tone::Normal));
        for (k, v) in &e.parts {
            out.push(TextLine::new(format!("      {k}: {v}"), Tone::Dim));
        }
    }
    out
}
