//! A story drawn as a sequence diagram in inline SVG, with its checks beside it: the report's
//! `<section class="story">`. The client is the first lane, then each party the steps talk to
//! ([`parties::party_of`]) in order of appearance; each step is one `<g class="step">` holding
//! its request arrow (`#ID METHOD path`), its dashed response arrow (the status, or the error)
//! and its label, a failed step red with the reason. Sizes follow the content: the width from
//! the lanes, the height from the steps. The SVG uses presentation attributes and classes only
//! (the page's Content-Security-Policy forbids `style` attributes), with defaults that read well
//! without the page's stylesheet. The words of checks and counts are
//! [`crate::analysis::story_text`]'s; paths are shortened by display width as in the TUI
//! ([`crate::fit`]).

pub mod parties;
mod svg;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use crate::analysis::story::{Story, Verdict};
use crate::analysis::story_text;
use crate::flow::FlowId;

use super::escape;

/// What the diagram needs to know of one flow that is a story step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFlow {
    /// The request method.
    pub method: String,
    /// The host the request went to.
    pub host: String,
    /// The path and query of the request.
    pub path: String,
    /// The response status, if there was a response.
    pub status: Option<u16>,
    /// The flow ended in an error instead of a response.
    pub error: bool,
    /// The decoders that understood the flow (`FlowReport::kinds`).
    pub kinds: Vec<&'static str>,
}

/// The most steps one diagram draws. A sync cycle can run to tens of thousands of steps; past
/// this many the diagram keeps every failed step (up to half of it) and the first others, and
/// says how many steps it left out where it left them out.
pub const STEPS_DRAWN: usize = 1000;

/// The `<section class="story">` of one story: its title, the diagram and its checks.
/// `index` numbers the sections (`id="story-{index}"`); `flow` looks up a step's flow.
pub fn story_section(
    index: usize,
    story: &Story,
    flow: &dyn Fn(FlowId) -> Option<StepFlow>,
) -> String {
    let title = story.kind.title();
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"story\" id=\"story-{index}\" data-story=\"{}\">\
         <h3>{} <span class=\"verdicts\">{}</span></h3><div class=\"story-body\">",
        text(title),
        text(title),
        text(&story_text::counts(story)),
    );
    svg::diagram(&mut out, story, flow);
    checks(&mut out, story);
    out.push_str("</div></section>");
    out
}

/// The `<ul class="checks">`: each check's line (its mark and message), the flows it involves
/// (`data-flows`, flow numbers as users see them) and the values it compared.
fn checks(out: &mut String, story: &Story) {
    out.push_str("<ul class=\"checks\">");
    if story.checks.is_empty() {
        out.push_str("<li class=\"check none\">no checks apply to this story</li>");
    }
    for c in &story.checks {
        let flows: Vec<String> = c.flows.iter().map(|f| number(*f).to_string()).collect();
        let _ = write!(
            out,
            "<li class=\"check {}\" data-flows=\"{}\">{}",
            verdict_class(c.verdict),
            flows.join(" "),
            text(&story_text::check_line(c)),
        );
        if !c.values.is_empty() {
            out.push_str("<ul class=\"values\">");
            for v in &c.values {
                let _ = write!(
                    out,
                    "<li class=\"value\" data-flow=\"{}\">{}</li>",
                    number(v.flow),
                    text(&v.to_string())
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

/// The class of a check's verdict: `pass`, `fail` or `undecided`.
fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Unknown => "undecided",
    }
}

/// A flow's number as users see it (`analyze`'s `id`, 1-based).
fn number(id: FlowId) -> u64 {
    id.0.saturating_add(1)
}

/// Text for element content or an attribute: control characters (which XML does not allow and
/// a terminal would act on) become U+FFFD, then it is escaped.
fn text(s: &str) -> String {
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        let clean: String = s
            .chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect();
        escape(&clean).into_owned()
    } else {
        escape(s).into_owned()
    }
}
