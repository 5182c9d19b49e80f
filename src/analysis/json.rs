//! The JSON shapes of a decoded flow and of a story, as `analyze --json` writes them one per
//! line and `report` embeds them in its page: one definition, so both say the same.

use serde::Serialize;

use super::story::Story;
use super::{FlowReport, Side};
use crate::flow::Flow;

/// The `--json` shape of one flow (one line each). The fields are those of the JSON object.
#[derive(Debug, Serialize)]
pub struct JsonFlow<'a> {
    pub r#type: &'static str,
    pub id: u64,
    pub started: String,
    pub method: &'a str,
    pub url: &'a str,
    pub host: String,
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    pub kinds: Vec<&'static str>,
    pub summary: String,
    pub worst: Option<idscope_decoders::Severity>,
    pub findings: Vec<JsonFinding<'a>>,
    pub request: &'a [idscope_decoders::Outcome],
    pub response: &'a [idscope_decoders::Outcome],
    /// The correlation and diagnostic headers ([`super::correlation::entries`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub correlation: Vec<super::correlation::Entry>,
    /// A Fiddler session's `_m.xml` timers and flags (SAZ flows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fiddler: Option<crate::flow::fiddler::Fiddler<'a>>,
}

/// A finding with the side and decoder that gave it.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    pub side: Option<Side>,
    pub decoder: &'static str,
    #[serde(flatten)]
    pub finding: &'a idscope_decoders::Finding,
}

impl<'a> JsonFinding<'a> {
    /// Every finding of `report` ([`FlowReport::findings`]), in its order.
    pub fn all(report: &'a FlowReport) -> Vec<Self> {
        report
            .findings()
            .into_iter()
            .map(|(side, decoder, finding)| JsonFinding {
                side,
                decoder,
                finding,
            })
            .collect()
    }
}

impl<'a> JsonFlow<'a> {
    /// The shape of `flow` decoded as `report`.
    pub fn new(flow: &'a Flow, report: &'a FlowReport) -> Self {
        JsonFlow {
            r#type: "flow",
            id: flow.id.0 + 1,
            started: time::OffsetDateTime::from(flow.started_at)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            method: &flow.request.method,
            url: &flow.request.url,
            host: flow.host(),
            status: flow.response().map(|r| r.status),
            error: flow.error().map(|e| e.message.as_str()),
            kinds: report.kinds(),
            summary: report.summary(),
            worst: report.worst(),
            findings: JsonFinding::all(report),
            request: &report.request,
            response: &report.response,
            correlation: super::correlation::entries(flow),
            fiddler: crate::flow::fiddler::Fiddler::of(flow),
        }
    }
}

/// The `--json` shape of one story (one line each, after the flows; a report's `#stories`). Flow numbers are those of
/// the flow objects' `id`.
#[derive(Debug, Serialize)]
pub struct JsonStory<'a> {
    pub r#type: &'static str,
    pub story: &'static str,
    pub steps: Vec<JsonStep<'a>>,
    pub checks: Vec<JsonCheck<'a>>,
}

/// One step of a story.
#[derive(Debug, Serialize)]
pub struct JsonStep<'a> {
    pub flow: u64,
    pub label: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<&'a str>,
}

/// One cross-flow check of a story.
#[derive(Debug, Serialize)]
pub struct JsonCheck<'a> {
    pub verdict: &'static str,
    pub message: &'a str,
    pub values: Vec<JsonValue<'a>>,
    pub flows: Vec<u64>,
}

/// A value a check compared.
#[derive(Debug, Serialize)]
pub struct JsonValue<'a> {
    pub what: &'static str,
    pub flow: u64,
    pub value: &'a str,
}

impl<'a> JsonStory<'a> {
    /// The shape of `s`.
    pub fn new(s: &'a Story) -> Self {
        JsonStory {
            r#type: "story",
            story: s.kind.title(),
            steps: s
                .steps
                .iter()
                .map(|st| JsonStep {
                    flow: st.id.0 + 1,
                    label: &st.label,
                    failed: st.failed.as_deref(),
                })
                .collect(),
            checks: s
                .checks
                .iter()
                .map(|c| JsonCheck {
                    verdict: c.verdict.as_str(),
                    message: &c.message,
                    values: c
                        .values
                        .iter()
                        .map(|v| JsonValue {
                            what: v.what.name(),
                            flow: v.flow.0 + 1,
                            value: &v.value,
                        })
                        .collect(),
                    flows: c.flows.iter().map(|f| f.0 + 1).collect(),
                })
                .collect(),
        }
    }
}
