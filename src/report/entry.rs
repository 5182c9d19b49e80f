//! One flow of a report, prepared on a worker thread: redacted (unless the report shows secrets),
//! decoded, tested against the filter, and turned into its list ROW (kept as data, finished by
//! the writer, which knows the flow's story) and its DETAIL block (written as is).

use idscope_decoders::secrets::mask_tree;
use idscope_decoders::{Finding, Limits, Outcome, Registry, Severity, Trust};
use serde::Serialize;

use super::diagram::StepFlow;
use crate::analysis::digest;
use crate::analysis::json::JsonFinding;
use crate::analysis::story::{self, Facts};
use crate::analysis::{FlowReport, Side, decode_flow};
use crate::capture::redact::{
    Fingerprinter, Policy, RedactError, RedactionReport, check_text, redact_flow,
};
use crate::filter::noise::NoiseHosts;
use crate::filter::{Filter, Subject};
use crate::flow::{Body, DEFAULT_DECODED_CAP, Flow, FlowId, Headers, header};

/// Text bodies are clipped here.
pub const TEXT_CLIP: usize = 256 << 10;
/// Binary bodies keep this many bytes (base64).
pub const BINARY_CLIP: usize = 16 << 10;
/// Findings listed in a ROW; the rest are counted (`fx`).
pub const ROW_FINDINGS: usize = 50;

/// What every worker shares.
pub struct Shared<'a> {
    /// Keys to verify and decrypt with.
    pub trust: &'a Trust,
    /// Only flows matching it are shown.
    pub filter: Option<&'a Filter>,
    /// Redact under this fingerprinter; `None` shows secrets (no redaction, no masking).
    pub redact: Option<&'a Fingerprinter>,
    /// The redaction policy.
    pub policy: Policy,
    /// The noise hosts of the `n` facet.
    pub noise: &'a NoiseHosts,
}

/// One flow, prepared.
#[derive(Debug)]
pub struct Prepared {
    /// The flow.
    pub id: FlowId,
    /// The ROW and DETAIL, when the filter keeps the flow.
    pub shown: Option<Shown>,
    /// What it contributes to stories.
    pub facts: Option<Facts>,
    /// What a sequence diagram shows of it, for a flow that is a story step.
    pub step: Option<StepFlow>,
    /// What the redaction of this flow replaced.
    pub redactions: RedactionReport,
}

/// The parts of a shown flow.
#[derive(Debug)]
pub struct Shown {
    /// The ROW, but for its story (`st`), which the writer adds.
    pub row: Row,
    /// The whole `<script type="application/json" id="f-ID">…</script>` element.
    pub detail: Vec<u8>,
    /// Its findings by severity: info, warning, error.
    pub by_severity: [usize; 3],
}

/// One flow's entry in the page's list (ROW in `src/report/FORMAT.md`, which explains the keys).
#[derive(Debug, Serialize)]
pub struct Row {
    id: u64,
    t: String,
    m: String,
    h: String,
    p: String,
    u: String,
    s: Option<u16>,
    e: Option<String>,
    k: Vec<&'static str>,
    sum: String,
    w: Option<Severity>,
    mk: &'static str,
    f: Vec<(Severity, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fx: Option<usize>,
    ops: Vec<String>,
    cl: Vec<(String, String)>,
    ct: [String; 2],
    n: bool,
    /// The title of the story the flow is a step of.
    pub st: Option<&'static str>,
    ms: Option<u64>,
}

/// Prepares `flow`. Fails only when the residual detector finds a credential in the redacted
/// flow or in the text the report adds to it.
pub fn prepare(flow: Flow, cx: &Shared<'_>) -> Result<Prepared, RedactError> {
    let limits = Limits::default();
    let registry = Registry::builtin();
    let mut redactions = RedactionReport::default();
    let (flow, mut report, original) = match cx.redact {
        None => {
            let report = decode_flow(&flow, registry, cx.trust, limits);
            (flow, report, None)
        }
        Some(keyed) => {
            let red = redact_flow(&flow, &cx.policy, keyed, &mut redactions)?;
            let report = decode_flow(&red, registry, cx.trust, limits);
            let original = decode_flow(&flow, registry, cx.trust, limits);
            (red, report, Some(original))
        }
    };
    let facts = story::facts(&flow, &report);
    let step = facts
        .as_ref()
        .filter(|f| f.kind.is_some())
        .map(|_| step_flow(&flow, &report));
    let keep = cx.filter.is_none_or(|f| {
        f.matches(&Subject {
            flow: &flow,
            in_flight: false,
            digest: None,
            report: Some(&report),
        })
    });
    let shown = if keep {
        Some(show(&flow, &mut report, original.as_ref(), cx)?)
    } else {
        None
    };
    Ok(Prepared {
        id: flow.id,
        shown,
        facts,
        step,
        redactions,
    })
}

/// The ROW and DETAIL of a kept flow; `original` is the decoding of the flow before redaction.
/// Without a fingerprinter (`--show-secrets`) nothing is masked; otherwise secret values are
/// masked for display over the redaction and the text of the ROW and DETAIL is checked once more
/// by the residual detector.
fn show(
    flow: &Flow,
    report: &mut FlowReport,
    original: Option<&FlowReport>,
    cx: &Shared<'_>,
) -> Result<Shown, RedactError> {
    let before = original.map(|o| lost_findings(o, report));
    let mut by_severity = [0; 3];
    for (_, _, f) in report.findings() {
        by_severity[slot(f.severity)] += 1;
    }
    if cx.redact.is_some() {
        for o in report.request.iter_mut().chain(report.response.iter_mut()) {
            if let Ok(d) = &mut o.result {
                mask_tree(&mut d.root);
            }
        }
    }
    let row = row(flow, report, cx.noise);
    let detail = Detail::new(flow, report, before);
    let json = super::script::to_json(&detail);
    if cx.redact.is_some() {
        check_text(flow.id, "the report's text of the flow", &json, &cx.policy)?;
        let listed = super::script::to_json(&row);
        check_text(
            flow.id,
            "the report's list row of the flow",
            &listed,
            &cx.policy,
        )?;
    }
    let mut element = format!(
        "<script type=\"application/json\" id=\"f-{}\">",
        flow.id.0 + 1
    )
    .into_bytes();
    element.extend_from_slice(super::script::escape_json(&json).as_bytes());
    element.extend_from_slice(b"</script>\n");
    Ok(Shown {
        row,
        detail: element,
        by_severity,
    })
}

/// The index of a severity in the `by_severity` counts.
pub fn slot(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

fn row(flow: &Flow, report: &FlowReport, noise: &NoiseHosts) -> Row {
    let findings = report.findings();
    let failed = flow.error().is_some().then_some(Severity::Error);
    let worst = report.worst().max(failed);
    let content_type = |h: &Headers| {
        let value = header(h, "content-type").unwrap_or("");
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let host = flow.host();
    let path = flow.path_and_query().to_string();
    Row {
        id: flow.id.0 + 1,
        t: rfc3339(flow.started_at),
        m: flow.request.method.clone(),
        n: noise.matches(&host, &path),
        h: host,
        p: path,
        u: flow.request.url.clone(),
        s: flow.response().map(|r| r.status),
        e: flow.error().map(|e| e.message.clone()),
        k: report.kinds(),
        sum: report.summary(),
        w: worst,
        mk: match worst {
            Some(Severity::Error) => "!",
            Some(Severity::Warning) => "?",
            _ => "",
        },
        fx: findings.len().checked_sub(ROW_FINDINGS).filter(|n| *n > 0),
        f: findings
            .iter()
            .take(ROW_FINDINGS)
            .map(|(_, _, f)| (f.severity, f.message.clone()))
            .collect(),
        ops: digest::ops(flow, report),
        cl: digest::claims(report),
        ct: [
            content_type(&flow.request.headers),
            flow.response()
                .map(|r| content_type(&r.headers))
                .unwrap_or_default(),
        ],
        st: None,
        ms: flow
            .timings
            .total
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| t.round() as u64),
    }
}

/// What a sequence diagram needs of a story step's flow.
fn step_flow(flow: &Flow, report: &FlowReport) -> StepFlow {
    StepFlow {
        method: flow.request.method.clone(),
        host: flow.host(),
        path: flow.path_and_query().to_string(),
        status: flow.response().map(|r| r.status),
        error: flow.error().is_some(),
        kinds: report.kinds(),
    }
}

/// A time as RFC 3339 (`2026-12-07T09:00:00Z`).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Findings the original flow's decoding gave that the redacted flow's does not (signature and
/// decryption verdicts, mostly), in the shape of the DETAIL's `findings`.
fn lost_findings<'a>(original: &'a FlowReport, redacted: &FlowReport) -> Vec<JsonFinding<'a>> {
    let kept = redacted.findings();
    let same = |side: Option<Side>, decoder: &str, f: &Finding| {
        kept.iter().any(|(s, d, k)| {
            *s == side && *d == decoder && k.severity == f.severity && k.message == f.message
        })
    };
    original
        .findings()
        .into_iter()
        .filter(|(side, decoder, f)| !same(*side, decoder, f))
        .map(|(side, decoder, finding)| JsonFinding {
            side,
            decoder,
            finding,
        })
        .collect()
}

/// One flow's DETAIL (DETAIL in `src/report/FORMAT.md`).
#[derive(Serialize)]
struct Detail<'a> {
    id: u64,
    request: RequestPart<'a>,
    response: Option<ResponsePart<'a>>,
    error: Option<&'a str>,
    findings: Vec<JsonFinding<'a>>,
    decoded: Decoded<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before_redaction: Option<Vec<JsonFinding<'a>>>,
}

#[derive(Serialize)]
struct RequestPart<'a> {
    method: &'a str,
    url: &'a str,
    version: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<BodyPart>,
}

#[derive(Serialize)]
struct ResponsePart<'a> {
    status: u16,
    reason: &'a str,
    version: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: Option<BodyPart>,
}

#[derive(Serialize)]
struct Decoded<'a> {
    request: &'a [Outcome],
    response: &'a [Outcome],
}

impl<'a> Detail<'a> {
    fn new(flow: &'a Flow, report: &'a FlowReport, before: Option<Vec<JsonFinding<'a>>>) -> Self {
        Detail {
            id: flow.id.0 + 1,
            request: RequestPart {
                method: &flow.request.method,
                url: &flow.request.url,
                version: &flow.request.http_version,
                headers: flow.request.headers.iter().collect(),
                body: BodyPart::of(&flow.request.body),
            },
            response: flow.response().map(|r| ResponsePart {
                status: r.status,
                reason: &r.reason,
                version: &r.http_version,
                headers: r.headers.iter().collect(),
                body: BodyPart::of(&r.body),
            }),
            error: flow.error().map(|e| e.message.as_str()),
            findings: JsonFinding::all(report),
            decoded: Decoded {
                request: &report.request,
                response: &report.response,
            },
            before_redaction: before,
        }
    }
}

/// A body for the page: text clipped at [`TEXT_CLIP`], or the first [`BINARY_CLIP`] bytes of a
/// binary body in base64, content-encoding removed.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct BodyPart {
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    clipped: bool,
}

impl BodyPart {
    fn of(body: &Body) -> Option<BodyPart> {
        use base64::Engine as _;
        if body.is_empty() {
            return None;
        }
        let bytes = body.decoded_lossy(DEFAULT_DECODED_CAP);
        let size = if body.encoding.is_some() {
            bytes.len() as u64
        } else {
            body.size.max(bytes.len() as u64)
        };
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => Some(t),
            // A text body cut inside a character by the capture's body cap is still text.
            Err(e) if e.error_len().is_none() && bytes.len() > 3 => {
                std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
            }
            Err(_) => None,
        };
        Some(match text {
            Some(t) => {
                let mut cut = t.len().min(TEXT_CLIP);
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                BodyPart {
                    size,
                    text: Some(t[..cut].to_string()),
                    base64: None,
                    clipped: cut < bytes.len() || body.truncated,
                }
            }
            None => {
                let cut = bytes.len().min(BINARY_CLIP);
                BodyPart {
                    size,
                    text: None,
                    base64: Some(base64::engine::general_purpose::STANDARD.encode(&bytes[..cut])),
                    clipped: cut < bytes.len() || body.truncated,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bodies_are_clipped_on_a_character_and_binary_ones_in_base64() {
        let long = "é".repeat(TEXT_CLIP); // two bytes each
        let b = BodyPart::of(&Body::plain(long.clone().into_bytes())).unwrap();
        let text = b.text.unwrap();
        assert!(b.clipped);
        assert!(text.len() <= TEXT_CLIP && text.len() > TEXT_CLIP - 4);
        assert_eq!(b.size, long.len() as u64);
        let bin: Vec<u8> = (0..BINARY_CLIP * 2)
            .map(|i| (i % 251) as u8 | 0x80)
            .collect();
        let b = BodyPart::of(&Body::plain(bin.clone())).unwrap();
        assert!(b.clipped && b.text.is_none());
        assert_eq!(b.size, bin.len() as u64);
        use base64::Engine as _;
        let back = base64::engine::general_purpose::STANDARD
            .decode(b.base64.unwrap())
            .unwrap();
        assert_eq!(back, bin[..BINARY_CLIP]);
        let small = BodyPart::of(&Body::plain(b"{\"a\":1}".to_vec())).unwrap();
        assert_eq!(small.text.as_deref(), Some("{\"a\":1}"));
        assert!(!small.clipped);
        assert!(BodyPart::of(&Body::default()).is_none());
    }
}
