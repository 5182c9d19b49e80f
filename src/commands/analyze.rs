//! `idscope analyze FILE`: the offline report. Two streaming passes over the capture: the first
//! learns keys published in the capture (JWKS answers), the second decodes every flow against them
//! and prints a table row (or, with `--json`, one JSON object) per flow, then the findings. With
//! `--filter EXPR` only the flows matching the expression (`crate::filter`, tested against each
//! flow's decoded report) are printed and counted.
//!
//! Memory does not grow with the file: flows are read one at a time, decoded by a small pool of
//! worker threads (one per core) and written in capture order through a bounded reorder buffer
//! ([`crate::analysis::pipeline`], shared with the TUI's loader).
//! Only the findings list of the text report is kept, and it is capped. A malformed file stops the
//! report after the flows that were read, with an error naming the file, entry and byte offset.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use idscope_decoders::{Limits, Registry, Trust};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::render::{finding_line, mask_outcomes};
use crate::analysis::{FlowReport, Side, decode_flow, learn_trust, pipeline};
use crate::capture::{self, CaptureError};
use crate::cli::AnalyzeArgs;
use crate::filter::{Filter, Subject};
use crate::flow::Flow;
use idscope_decoders::util::clip;

/// Findings kept for the text report's closing section; the rest are counted.
const MAX_LISTED_FINDINGS: usize = 10_000;
/// Flows in flight between the reader, the workers and the writer.
const PIPELINE_DEPTH: usize = 256;
/// Read errors listed individually; the rest are counted.
const MAX_READ_ERRORS: usize = 20;

/// Runs `idscope analyze`.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let filter = match &args.filter {
        Some(text) => Some(Arc::new(
            crate::filter::parse(text).with_context(|| format!("--filter {text:?}"))?,
        )),
        None => None,
    };
    let mut trust = super::load_user_trust(&args.decode)?;
    let user_keys = trust.keys.len() + trust.certs.len();
    let user_decryption = trust.decryption.keys.len();

    // Pass 1: keys the capture itself publishes. Read errors are skipped here; pass 2 reports
    // them after every flow that could be read.
    for flow in capture::open(&args.file)?.flatten() {
        learn_trust(&flow, &mut trust);
    }
    let learned = (trust.keys.len() + trust.certs.len()).saturating_sub(user_keys);
    let session_keys = trust.decryption.keys.len().saturating_sub(user_decryption);

    let reader = capture::open(&args.file)?;
    let progress = progress_bar(reader.total_bytes());
    let opts = Opts {
        json: args.json,
        show_secrets: args.decode.show_secrets,
    };
    let trust = Arc::new(trust);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if !opts.json {
        writeln!(
            out,
            "{:>5}  {:<7} {:<30} {:<40} {:>6}  {:<12} SUMMARY",
            "#", "METHOD", "HOST", "PATH", "STATUS", "KIND"
        )?;
    }
    let (summary, read_errors, repaired) = run_pipeline(
        reader,
        &trust,
        filter.as_ref(),
        opts,
        &mut out,
        progress.as_ref(),
    )?;
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    if !opts.json {
        writeln!(out)?;
        if learned > 0 {
            writeln!(
                out,
                "Keys and certificates learned from the capture: {learned} \
                 (tokens and signatures are verified against them)"
            )?;
        }
        if session_keys > 0 {
            writeln!(
                out,
                "PRT session keys unwrapped from the capture with --key: {session_keys} \
                 (PRT-signed requests, cookies and encrypted responses are checked with them)"
            )?;
        }
        if summary.findings.is_empty() {
            writeln!(out, "Findings: none")?;
        } else {
            writeln!(out, "Findings ({}):", summary.findings_total)?;
            for line in &summary.findings {
                writeln!(out, "  {line}")?;
            }
            if summary.findings_total > summary.findings.len() {
                writeln!(
                    out,
                    "  … and {} more (idscope analyze --json lists them all)",
                    summary.findings_total - summary.findings.len()
                )?;
            }
        }
    }
    out.flush()?;
    drop(out);
    if let Some(note) = repaired {
        eprintln!("idscope: {}: {note}", args.file.display());
    }
    // Every flow that could be read was reported; now say what could not be, and fail.
    let mut first = read_errors.first.into_iter();
    match first.next() {
        None => Ok(ExitCode::SUCCESS),
        Some(e) => {
            for other in first {
                eprintln!("idscope: {other}");
            }
            let more = read_errors.count.saturating_sub(MAX_READ_ERRORS);
            if more > 0 {
                eprintln!("idscope: … and {more} more unreadable entries");
            }
            Err(anyhow::Error::new(e).context(format!(
                "{} flows reported, {} unreadable",
                summary.flows, read_errors.count
            )))
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Opts {
    json: bool,
    show_secrets: bool,
}

#[derive(Debug, Default)]
struct Summary {
    flows: usize,
    findings: Vec<String>,
    findings_total: usize,
}

/// One rendered flow: its output bytes and, for the text report, its finding lines.
struct Rendered {
    /// False when `--filter` dropped the flow: nothing is printed or counted for it.
    shown: bool,
    bytes: Vec<u8>,
    findings: Vec<String>,
}

/// Decodes the flows on the shared pipeline ([`pipeline::run`]): this thread writes the rows in
/// capture order while a reader thread feeds the workers.
fn run_pipeline(
    mut reader: capture::CaptureReader,
    trust: &Arc<Trust>,
    filter: Option<&Arc<Filter>>,
    opts: Opts,
    out: &mut impl Write,
    progress: Option<&ProgressBar>,
) -> anyhow::Result<(Summary, ReadErrors, Option<String>)> {
    let mut summary = Summary::default();
    let filter = filter.map(|f| f.as_ref());
    let (read_errors, repaired) = pipeline::run(
        pipeline::default_workers(),
        PIPELINE_DEPTH,
        |jobs: &mut pipeline::Feed<Flow>| feed(&mut reader, jobs, progress),
        |flow: Flow| render(&flow, trust, filter, opts),
        |r: Rendered| -> anyhow::Result<()> {
            if r.shown {
                out.write_all(&r.bytes).context("writing the report")?;
                summary.flows += 1;
                summary.findings_total += r.findings.len();
                let room = MAX_LISTED_FINDINGS.saturating_sub(summary.findings.len());
                summary.findings.extend(r.findings.into_iter().take(room));
            }
            Ok(())
        },
    )?;
    Ok((summary, read_errors, repaired))
}

/// Sends every readable flow to the workers. A bad entry is reported and skipped (the reader goes
/// on with the next one); a structural error ends the capture. Returns the read errors (the first
/// [`MAX_READ_ERRORS`] of them and a count) and the repair note.
fn feed(
    reader: &mut capture::CaptureReader,
    jobs: &mut pipeline::Feed<Flow>,
    progress: Option<&ProgressBar>,
) -> (ReadErrors, Option<String>) {
    let mut errors = ReadErrors::default();
    while let Some(item) = reader.next() {
        match item {
            Ok(flow) => {
                if !jobs.send(flow) {
                    break; // the writer stopped (e.g. broken pipe)
                }
            }
            Err(e) => {
                errors.count += 1;
                if errors.first.len() < MAX_READ_ERRORS {
                    errors.first.push(e);
                }
            }
        }
        if let Some(p) = progress.filter(|_| jobs.sent().is_multiple_of(64)) {
            p.set_position(reader.bytes_read());
        }
    }
    (errors, reader.repaired().map(str::to_string))
}

/// Errors met while reading the capture.
#[derive(Debug, Default)]
struct ReadErrors {
    first: Vec<CaptureError>,
    count: usize,
}

/// One worker's job: decode a flow, test it against the filter and render its row (or JSON
/// object) and finding lines.
fn render(flow: &Flow, trust: &Trust, filter: Option<&Filter>, opts: Opts) -> Rendered {
    let mut report = decode_flow(flow, Registry::builtin(), trust, Limits::default());
    if let Some(f) = filter {
        let subject = Subject {
            flow,
            in_flight: false,
            digest: None,
            report: Some(&report),
        };
        if !f.matches(&subject) {
            return Rendered {
                shown: false,
                bytes: vec![],
                findings: vec![],
            };
        }
    }
    if !opts.show_secrets {
        mask_outcomes(&mut report.request);
        mask_outcomes(&mut report.response);
    }
    if opts.json {
        let mut bytes = Vec::with_capacity(4096);
        // Serializing plain data into a Vec cannot fail; an error here would be a bug in a
        // Serialize impl, reported in place of the object rather than aborting the report.
        if let Err(e) = serde_json::to_writer(&mut bytes, &JsonFlow::new(flow, &report)) {
            bytes.clear();
            bytes.extend_from_slice(format!("{{\"error\":\"{e}\"}}").as_bytes());
        }
        bytes.push(b'\n');
        Rendered {
            shown: true,
            bytes,
            findings: vec![],
        }
    } else {
        Rendered {
            shown: true,
            bytes: table_row(flow, &report).into_bytes(),
            findings: finding_lines(flow, &report),
        }
    }
}

fn progress_bar(total: Option<u64>) -> Option<ProgressBar> {
    let total = total?;
    if total < (8 << 20) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bar:40} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn table_row(flow: &Flow, report: &FlowReport) -> String {
    let status = match flow.response() {
        Some(r) => r.status.to_string(),
        None => "ERR".to_string(),
    };
    let kinds = report.kinds().join(",");
    let mark = match report.worst() {
        Some(idscope_decoders::Severity::Error) => "!",
        Some(idscope_decoders::Severity::Warning) => "?",
        _ => " ",
    };
    format!(
        "{:>5}{mark} {:<7} {:<30} {:<40} {:>6}  {:<12} {}\n",
        flow.id.0 + 1,
        clip(&flow.request.method, 7),
        clip(&flow.host(), 30),
        clip(flow.path_and_query(), 40),
        status,
        clip(&kinds, 12),
        clip(&report.summary(), 160),
    )
}

fn finding_lines(flow: &Flow, report: &FlowReport) -> Vec<String> {
    report
        .findings()
        .into_iter()
        .map(|(side, decoder, f)| {
            let side = match side {
                Some(Side::Request) => " request",
                Some(Side::Response) => " response",
                None => "",
            };
            format!("{}{side} {decoder}: {}", flow.id, finding_line(f))
        })
        .collect()
}

/// The `--json` shape of one flow (one line each).
#[derive(Serialize)]
struct JsonFlow<'a> {
    id: u64,
    started: String,
    method: &'a str,
    url: &'a str,
    host: String,
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    kinds: Vec<&'static str>,
    summary: String,
    worst: Option<idscope_decoders::Severity>,
    findings: Vec<JsonFinding<'a>>,
    request: &'a [idscope_decoders::Outcome],
    response: &'a [idscope_decoders::Outcome],
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    side: Option<Side>,
    decoder: &'static str,
    #[serde(flatten)]
    finding: &'a idscope_decoders::Finding,
}

impl<'a> JsonFlow<'a> {
    fn new(flow: &'a Flow, report: &'a FlowReport) -> Self {
        JsonFlow {
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
            findings: report
                .findings()
                .into_iter()
                .map(|(side, decoder, finding)| JsonFinding {
                    side,
                    decoder,
                    finding,
                })
                .collect(),
            request: &report.request,
            response: &report.response,
        }
    }
}
