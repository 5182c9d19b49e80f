//! `idscope report`: one self-contained HTML page for a capture, safe to attach to a ticket.
//!
//! The page is written streaming, in the order `src/report/FORMAT.md` describes (with every
//! block's keys): the head (the inline style, and a Content-Security-Policy allowing only the
//! inline script and style by their SHA-256), the banner, `#meta`, then for the flows in capture order their list ROWs in `rows` blocks of at
//! most [`ROWS_PER_BLOCK`] and each flow's DETAIL as its own block (`f-ID`), then the stories
//! (`#stories`, the JSON `analyze --json` writes) with their sequence diagrams
//! ([`diagram::story_section`]), `#totals`, and the page's script. Data blocks are JSON escaped
//! so that nothing in a capture can end them ([`script::json_for_script`]).
//!
//! By default every flow is redacted first by `idscope redact`'s policy, under one
//! [`Fingerprinter`] for the whole report (equal secrets still correlate across flows, and story
//! checks still compare), and checked by its residual detector, which also reads the text the
//! report adds (decoded trees, findings); a refusal stops the report and nothing is written.
//! Decoded secrets are masked for display on top. Findings the original flow gave that the
//! redacted one no longer gives (signature verdicts) are listed per flow (`before_redaction`).
//! With `show_secrets` the original flows are shown as captured and the banner warns.
//!
//! Memory is bounded: flows go through [`crate::analysis::pipeline`] (a fixed window of flows in
//! flight), rows are held until a block of [`ROWS_PER_BLOCK`] is written, and what is kept to the
//! end is the stories and, for each story step, the few facts its diagram draws.

pub mod diagram;
mod document;
mod entry;
pub mod script;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use idscope_decoders::Trust;

use crate::analysis::json::JsonStory;
use crate::analysis::pipeline;
use crate::analysis::story::{self, Story};
use crate::capture::CaptureError;
use crate::capture::redact::{Fingerprinter, Policy, RedactError, RedactionReport, TempFile};
use crate::filter::Filter;
use crate::filter::noise::NoiseHosts;
use crate::flow::{Flow, FlowId};

pub use document::{SCRIPT, STYLE, content_security_policy};

/// Rows per `<script class="rows">` block.
pub const ROWS_PER_BLOCK: usize = 1000;
/// Flows in flight between the reader, the workers and the writer.
pub const PIPELINE_DEPTH: usize = 256;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How to make a report.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The capture's name, shown in the title and banner.
    pub source: String,
    /// Only flows matching it get a ROW and a DETAIL (stories are built from every flow).
    pub filter: Option<Arc<Filter>>,
    /// Show the flows as captured: no redaction, no masking, and a warning banner.
    pub show_secrets: bool,
    /// Flows in the capture, when known before they are written (the banner says it).
    pub flows_in_capture: Option<usize>,
}

/// What a report holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Flows read.
    pub flows: usize,
    /// Flows shown (those the filter kept).
    pub shown: usize,
    /// Findings of the shown flows: info, warning, error.
    pub findings: [usize; 3],
    /// Stories drawn.
    pub stories: usize,
    /// What the redaction replaced (empty with `show_secrets`).
    pub redactions: RedactionReport,
    /// Bytes written.
    pub bytes: u64,
    /// The most rows held at once before their block was written.
    pub peak_rows_held: usize,
    /// Story-step flows whose diagram facts were kept to the end.
    pub step_flows_kept: usize,
}

/// Why no report was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The residual detector found a credential in a redacted flow or in the report's text of it.
    #[error("{0}")]
    Refused(RedactError),
    /// The output exists and overwriting was not asked for.
    #[error("{0}: already exists (use --force to overwrite)")]
    Exists(PathBuf),
    /// The capture could not be read.
    #[error(transparent)]
    Input(#[from] CaptureError),
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The report being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No fingerprint key could be made.
    #[error("{0}")]
    Key(RedactError),
}

impl ReportError {
    /// True for a refusal by the residual detector (exit code 1).
    pub fn is_refusal(&self) -> bool {
        matches!(self, ReportError::Refused(_))
    }
}

/// Writes the report of `flows` (in capture order) to `out`, decoding against `trust`. Fails,
/// having written part of a page, when the residual detector refuses a flow; the caller writes
/// to a temporary file ([`write_file`]) so that nothing is left.
pub fn generate(
    flows: impl Iterator<Item = Flow> + Send,
    trust: &Trust,
    opts: &Options,
    out: &mut impl Write,
) -> Result<Written, ReportError> {
    let keyed = match opts.show_secrets {
        true => None,
        false => Some(Fingerprinter::random().map_err(ReportError::Key)?),
    };
    let noise = NoiseHosts::builtin();
    let shared = entry::Shared {
        trust,
        filter: opts.filter.as_deref(),
        redact: keyed.as_ref(),
        policy: Policy::default(),
        noise: &noise,
    };
    let generated = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let generated = entry::rfc3339(generated.into());
    let about = document::About {
        source: &opts.source,
        generated: &generated,
        redacted: !opts.show_secrets,
        filter: opts.filter.as_deref().map(Filter::text),
        flows_in_capture: opts.flows_in_capture,
    };
    let mut out = Counting {
        inner: out,
        bytes: 0,
    };
    let io = |source| ReportError::Io {
        path: PathBuf::new(),
        source,
    };
    document::write_head(&mut out, &about).map_err(io)?;

    let mut written = Written::default();
    let mut builder = story::Builder::default();
    let mut reported: Vec<bool> = Vec::new();
    let mut steps: HashMap<FlowId, diagram::StepFlow> = HashMap::new();
    let mut rows: Vec<entry::Row> = Vec::with_capacity(ROWS_PER_BLOCK);
    let mut flows = flows;
    pipeline::run(
        pipeline::default_workers(),
        PIPELINE_DEPTH,
        |feed: &mut pipeline::Feed<Flow>| {
            for flow in flows.by_ref() {
                if !feed.send(flow) {
                    break;
                }
            }
        },
        |flow: Flow| entry::prepare(flow, &shared),
        |prepared: Result<entry::Prepared, RedactError>| -> Result<(), ReportError> {
            let p = prepared.map_err(ReportError::Refused)?;
            written.flows += 1;
            merge(&mut written.redactions, &p.redactions);
            let in_story = p.facts.as_ref().and_then(|f| builder.add(p.id, f));
            if let Some(step) = p.step {
                steps.insert(p.id, step);
            }
            let Some(mut shown) = p.shown else {
                return Ok(());
            };
            written.shown += 1;
            for (total, n) in written.findings.iter_mut().zip(shown.by_severity) {
                *total += n;
            }
            if let Some(i) = in_story {
                if reported.len() <= i {
                    reported.resize(i + 1, false);
                }
                reported[i] = true;
                shown.row.st = p.facts.and_then(|f| f.kind).map(|k| k.title());
            }
            rows.push(shown.row);
            written.peak_rows_held = written.peak_rows_held.max(rows.len());
            out.write_all(&shown.detail).map_err(io)?;
            if rows.len() >= ROWS_PER_BLOCK {
                write_rows(&mut out, &mut rows).map_err(io)?;
            }
            Ok(())
        },
    )?;
    write_rows(&mut out, &mut rows).map_err(io)?;

    let stories: Vec<Story> = builder.finish_keeping(&reported);
    written.stories = stories.len();
    written.step_flows_kept = steps.len();
    write_stories(&mut out, &stories, &steps).map_err(io)?;
    let [info, warning, error] = written.findings;
    let totals = serde_json::json!({
        "flows": written.flows,
        "shown": written.shown,
        "findings": {"error": error, "warning": warning, "info": info},
        "stories": written.stories,
        "residual_checked": !opts.show_secrets,
    });
    out.write_all(b"<script type=\"application/json\" id=\"totals\">")
        .map_err(io)?;
    out.write_all(&script::json_for_script(&totals))
        .map_err(io)?;
    out.write_all(b"</script>\n").map_err(io)?;
    document::write_tail(&mut out).map_err(io)?;
    written.bytes = out.bytes;
    Ok(written)
}

/// Writes the rows held as one block and empties the list.
fn write_rows(out: &mut impl Write, rows: &mut Vec<entry::Row>) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    out.write_all(b"<script type=\"application/json\" class=\"rows\">")?;
    out.write_all(&script::json_for_script(rows))?;
    out.write_all(b"</script>\n")?;
    rows.clear();
    Ok(())
}

/// `#stories` and `#diagrams`.
fn write_stories(
    out: &mut impl Write,
    stories: &[Story],
    steps: &HashMap<FlowId, diagram::StepFlow>,
) -> std::io::Result<()> {
    let json: Vec<JsonStory<'_>> = stories.iter().map(JsonStory::new).collect();
    out.write_all(b"<script type=\"application/json\" id=\"stories\">")?;
    out.write_all(&script::json_for_script(&json))?;
    out.write_all(b"</script>\n<div id=\"diagrams\" hidden>\n")?;
    let lookup = |id: FlowId| steps.get(&id).cloned();
    for (i, story) in stories.iter().enumerate() {
        out.write_all(diagram::story_section(i, story, &lookup).as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.write_all(b"</div>\n")
}

fn merge(total: &mut RedactionReport, one: &RedactionReport) {
    total.flows += one.flows;
    total.already_redacted += one.already_redacted;
    for (rule, n) in &one.fired {
        *total.fired.entry(rule.clone()).or_insert(0) += n;
    }
}

/// A writer that counts the bytes written through it.
struct Counting<'a, W: Write> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the report of `flows` to `output`: into a temporary file beside it (mode 0600),
/// renamed into place only when every flow was read and passed the residual detector, so a
/// refused or failed report leaves nothing behind. An existing `output` is only replaced with
/// `force`. A flow that cannot be read stops the report ([`ReportError::Input`]).
pub fn write_file(
    flows: impl Iterator<Item = Result<Flow, CaptureError>> + Send,
    trust: &Trust,
    opts: &Options,
    output: &Path,
    force: bool,
) -> Result<Written, ReportError> {
    if !force && output.exists() {
        return Err(ReportError::Exists(output.to_path_buf()));
    }
    let io = |source| ReportError::Io {
        path: output.to_path_buf(),
        source,
    };
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let tmp = TempFile {
        path: output.with_file_name(format!(".{name}.{}.report-tmp", std::process::id())),
        keep: false,
    };
    let file = create_private(&tmp.path).map_err(io)?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, file);
    let failed: Mutex<Option<CaptureError>> = Mutex::new(None);
    let flows = flows.map_while(|f| match f {
        Ok(flow) => Some(flow),
        Err(e) => {
            if let Ok(mut slot) = failed.lock() {
                *slot = Some(e);
            }
            None
        }
    });
    let written = generate(flows, trust, opts, &mut buffered).map_err(|e| match e {
        ReportError::Io { source, .. } => io(source),
        e => e,
    })?;
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(ReportError::Input(e));
    }
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    if !force && output.exists() {
        return Err(ReportError::Exists(output.to_path_buf()));
    }
    std::fs::rename(&tmp.path, output).map_err(io)?;
    let mut tmp = tmp;
    tmp.keep = true;
    Ok(written)
}

/// Creates `path` for writing, readable by its owner only; fails when it exists.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

#[cfg(test)]
mod tests;
