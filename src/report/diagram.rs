//! A story drawn as a sequence diagram in inline SVG (being built).

use crate::analysis::story::Story;
use crate::flow::FlowId;

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

/// The `<section class="story">` of one story: its title, the diagram and its checks.
/// `index` numbers the sections (`id="story-{index}"`); `flow` looks up a step's flow.
pub fn story_section(
    index: usize,
    story: &Story,
    flow: &dyn Fn(FlowId) -> Option<StepFlow>,
) -> String {
    let _ = flow;
    format!(
        "<section class=\"story\" id=\"story-{index}\"><h3>{}</h3></section>",
        super::escape(story.kind.title())
    )
}
