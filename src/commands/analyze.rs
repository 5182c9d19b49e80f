//! `idscope analyze FILE`: the offline report. Two streaming passes over the capture: the first
//! learns keys published in the capture (JWKS answers), the second decodes every flow against them
//! and prints a table row (or, with `--json`, one JSON object) per flow, then the findings and the
//! stories (the sequences of [`crate::analysis::story`] with their steps and cross-flow checks;
//! with `--json`, one object per story after the flows). With `--filter EXPR` only the flows
//! matching the expression (`crate::filter`, tested against each flow's decoded report) are
//! printed and counted, and only the stories holding one of them; stories are still built from
//! every flow, so their checks see the whole capture.
//!
//! The trace-wide summary ([`crate::analysis::summary`]) is folded from the same pass: it needs
//! every flow decoded against the keys pass 1 learned (findings, signatures, stories). The text
//! report prints it first, before the table — what a support engineer reads first — so the table
//! is spooled to an anonymous temporary file while the flows are decoded (memory stays bounded)
//! and copied out after the summary. With `--json` the summary is the last object (`"type":
//! "summary"`, after the stories), so the flow objects still stream. `--summary-only` prints it
//! alone.
//!
//! Memory does not grow with the file's bodies: flows are read one at a time, decoded by a small
//! pool of worker threads (one per core) and written in capture order through a bounded reorder
//! buffer ([`crate::analysis::pipeline`], shared with the TUI's loader). What is kept is the
//! findings list of the text report (capped) and, for each flow that belongs to a story, its step
//! (flow number, label, failure) and the checks. A malformed file stops the report after the flows
//! that were read, with an error naming the file, entry and byte offset.
//!
//! The exit code says whether the report holds a problem at or above `--fail-on`: a finding of
//! that severity, a failed check or failed story step (errors), an undecided check (info).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use idscope_decoders::{Limits, Registry, Trust};
use indicatif::{ProgressBar, ProgressStyle};

use super::render::{finding_line, mask_outcomes, write_stories};
use crate::analysis::json::{JsonFlow, JsonStory};
use crate::analysis::story::{self, Facts, Story, Verdict};
use crate::analysis::summary::{FlowFacts, Summary as TraceSummary};
use crate::analysis::{FlowReport, Side, decode_flow, learn_trust, pipeline};
use crate::capture::{self, CaptureError};
use crate::cli::{AnalyzeArgs, FailOn};
use crate::filter::{Filter, Subject};
use crate::flow::{Flow, FlowId};
use idscope_decoders::Severity;
use idscope_decoders::util::clip;

use crate::fit;
use crate::tui::ui::list::marker;

/// Findings kept for the text report's closing section; the rest are counted.
const MAX_LISTED_FINDINGS: usize = 10_000;
/// Flows in flight between the reader, the workers and the writer.
const PIPELINE_DEPTH: usize = 256;
/// Read errors listed individually; the rest are counted.
const MAX_READ_ERRORS: usize = 20;

/// Runs `idscope analyze`.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.report {
        return super::report::write(&args.file, out, args.filter.as_deref(), &args.decode, false);
    }
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
    for flow in capture::open(&args.file)?.first_pass().flatten() {
        learn_trust(&flow, &mut trust);
    }
    let learned = (trust.keys.len() + trust.certs.len()).saturating_sub(user_keys);
    let session_keys = trust.decryption.keys.len().saturating_sub(user_decryption);

    let reader = capture::open(&args.file)?;
    let format = reader.format();
    let progress = progress_bar(reader.total_bytes());
    let opts = Opts {
        json: args.json,
        show_secrets: args.decode.show_secrets,
        summary_only: args.summary_only,
    };
    let trust = Arc::new(trust);

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    // The text report's table waits in a temporary file until the summary above it is known.
    let table = !opts.json && !opts.summary_only;
    let mut spool = if table {
        let file = tempfile::tempfile().context("creating a temporary file for the table")?;
        Some(std::io::BufWriter::with_capacity(1 << 16, file))
    } else {
        None
    };
    if let Some(spool) = &mut spool {
        writeln!(
            spool,
            "{:>5}  {:<7} {:<30} {:<40} {:>6}  {:<12} SUMMARY",
            "#", "METHOD", "HOST", "PATH", "STATUS", "KIND"
        )?;
    }
    let (summary, read_errors, repaired) = match &mut spool {
        Some(spool) => run_pipeline(
            reader,
            &trust,
            filter.as_ref(),
            opts,
            spool,
            progress.as_ref(),
        )?,
        None => run_pipeline(
            reader,
            &trust,
            filter.as_ref(),
            opts,
            &mut out,
            progress.as_ref(),
        )?,
    };
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    if let Some(spool) = spool {
        out.write_all(super::render_summary::text(&summary.trace).as_bytes())?;
        writeln!(out)?;
        let mut file = spool
            .into_inner()
            .map_err(|e| e.into_error())
            .context("writing the table to its temporary file")?;
        std::io::Seek::rewind(&mut file)?;
        std::io::copy(&mut file, &mut out).context("copying the table")?;
    }
    write_skipped(&mut out, &read_errors, format, opts.json)?;
    if opts.json {
        for story in summary.stories.iter().filter(|_| !opts.summary_only) {
            let mut line =
                serde_json::to_vec(&JsonStory::new(story)).context("writing a story as JSON")?;
            line.push(b'\n');
            out.write_all(&line)?;
        }
        let mut line = serde_json::to_vec(&summary.trace.json()).context("writing the summary")?;
        line.push(b'\n');
        out.write_all(&line)?;
    } else if opts.summary_only {
        out.write_all(super::render_summary::text(&summary.trace).as_bytes())?;
    } else {
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
        writeln!(out)?;
        let mut text = String::new();
        write_stories(&mut text, &summary.stories);
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    drop(out);
    if let Some(note) = repaired {
        eprintln!("idscope: {}: {note}", args.file.display());
    }
    // Every flow that could be read was reported; now say what could not be, and fail.
    let mut first = read_errors.first.into_iter();
    match first.next() {
        None => {
            let problems = summary.problems(args.fail_on);
            if problems.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "idscope: {} (exit 1 with --fail-on {}; --fail-on never only reports)",
                problems.join(", "),
                fail_on_name(args.fail_on)
            );
            Ok(ExitCode::from(1))
        }
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

/// The index of a severity in the `by_severity` counts.
fn slot(s: Severity) -> usize {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

/// The name `--fail-on` takes for `f`.
fn fail_on_name(f: FailOn) -> String {
    use clap::ValueEnum as _;
    f.to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

#[derive(Debug, Clone, Copy)]
struct Opts {
    json: bool,
    show_secrets: bool,
    summary_only: bool,
}

#[derive(Debug, Default)]
struct Summary {
    flows: usize,
    findings: Vec<String>,
    findings_total: usize,
    /// Findings of the reported flows by severity: info, warning, error.
    by_severity: [usize; 3],
    /// The stories that hold a reported flow.
    stories: Vec<Story>,
    /// The trace-wide summary of the reported flows.
    trace: TraceSummary,
}

impl Summary {
    /// What makes the report fail at `fail_on`, counted (`3 error findings`, `1 failed check`);
    /// empty when nothing does.
    fn problems(&self, fail_on: FailOn) -> Vec<String> {
        let floor = match fail_on {
            FailOn::Never => return vec![],
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        };
        let mut out = Vec::new();
        let mut say = |n: usize, what: &str| {
            if n > 0 {
                out.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
            }
        };
        for sev in [Severity::Error, Severity::Warning, Severity::Info] {
            if sev >= floor {
                say(self.by_severity[slot(sev)], &format!("{sev} finding"));
            }
        }
        let count = |v| self.stories.iter().map(|s| s.count(v)).sum::<usize>();
        say(count(Verdict::Fail), "failed check");
        let failed_steps = self.stories.iter().map(Story::failed_steps).sum();
        say(failed_steps, "failed story step");
        if floor == Severity::Info {
            say(count(Verdict::Unknown), "undecided check");
        }
        out
    }
}

/// One rendered flow: its output bytes and, for the text report, its finding lines.
struct Rendered {
    id: FlowId,
    /// False when `--filter` dropped the flow: nothing is printed or counted for it.
    shown: bool,
    bytes: Vec<u8>,
    findings: Vec<String>,
    /// Its findings by severity: info, warning, error.
    by_severity: [usize; 3],
    /// What it contributes to stories (taken before secrets are masked).
    story: Option<Facts>,
    /// What it contributes to the trace summary (reported flows only).
    facts: Option<FlowFacts>,
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
    let mut summary = Summary {
        trace: TraceSummary::new(filter.map(|f| f.text())),
        ..Summary::default()
    };
    let filter = filter.map(|f| f.as_ref());
    let mut stories = story::Builder::default();
    // Whether each story holds a reported flow, by index.
    let mut reported: Vec<bool> = Vec::new();
    let (read_errors, repaired) = pipeline::run(
        pipeline::default_workers(),
        PIPELINE_DEPTH,
        |jobs: &mut pipeline::Feed<Flow>| feed(&mut reader, jobs, progress),
        |flow: Flow| render(&flow, trust, filter, opts),
        |r: Rendered| -> anyhow::Result<()> {
            let in_story = r.story.as_ref().and_then(|f| stories.add(r.id, f));
            if r.shown {
                out.write_all(&r.bytes).context("writing the report")?;
                summary.flows += 1;
                summary.trace.extend(r.facts);
                summary.findings_total += r.by_severity.iter().sum::<usize>();
                for (total, n) in summary.by_severity.iter_mut().zip(r.by_severity) {
                    *total += n;
                }
                let room = MAX_LISTED_FINDINGS.saturating_sub(summary.findings.len());
                summary.findings.extend(r.findings.into_iter().take(room));
                if let Some(i) = in_story {
                    if reported.len() <= i {
                        reported.resize(i + 1, false);
                    }
                    reported[i] = true;
                }
            }
            Ok(())
        },
    )?;
    summary.stories = stories.finish_keeping(&reported);
    summary.trace.finish(&summary.stories);
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
    errors.read = jobs.sent() as usize;
    (errors, reader.repaired().map(str::to_string))
}

/// Errors met while reading the capture.
#[derive(Debug, Default)]
struct ReadErrors {
    first: Vec<CaptureError>,
    count: usize,
    /// Flows read.
    read: usize,
}

/// The entries (SAZ: sessions) that could not be read and were skipped, and why: one line of the
/// text report, or one `{"type":"skipped",…}` object.
fn write_skipped(
    out: &mut impl Write,
    errors: &ReadErrors,
    format: capture::Format,
    json: bool,
) -> anyhow::Result<()> {
    if errors.count == 0 {
        return Ok(());
    }
    let unit = match format {
        capture::Format::Saz => "sessions",
        capture::Format::Har => "entries",
    };
    let of = errors.read + errors.count;
    if json {
        let list: Vec<serde_json::Value> = errors
            .first
            .iter()
            .map(|e| {
                serde_json::json!({
                    "member": e.location().member,
                    "entry": e.location().entry,
                    "reason": e.kind().to_string(),
                })
            })
            .collect();
        let obj = serde_json::json!({
            "type": "skipped", "unit": unit, "count": errors.count, "of": of, "skipped": list,
        });
        writeln!(out, "{obj}")?;
    } else {
        let list: Vec<String> = errors
            .first
            .iter()
            .map(|e| format!("{} ({})", e.place(), e.kind()))
            .collect();
        let more = errors.count.saturating_sub(errors.first.len());
        let more = if more > 0 {
            format!(", … and {more} more")
        } else {
            String::new()
        };
        writeln!(
            out,
            "\nSkipped {} of {of} {unit}: {}{more}",
            errors.count,
            list.join(", ")
        )?;
    }
    Ok(())
}

/// One worker's job: decode a flow, test it against the filter and render its row (or JSON
/// object) and finding lines.
fn render(flow: &Flow, trust: &Trust, filter: Option<&Filter>, opts: Opts) -> Rendered {
    let mut report = decode_flow(flow, Registry::builtin(), trust, Limits::default());
    let story = story::facts(flow, &report);
    if let Some(f) = filter {
        let subject = Subject {
            flow,
            in_flight: false,
            digest: None,
            report: Some(&report),
        };
        if !f.matches(&subject) {
            return Rendered {
                id: flow.id,
                shown: false,
                bytes: vec![],
                findings: vec![],
                by_severity: [0; 3],
                story,
                facts: None,
            };
        }
    }
    let facts = Some(FlowFacts::of(flow, &report));
    let mut by_severity = [0; 3];
    for (_, _, f) in report.findings() {
        by_severity[slot(f.severity)] += 1;
    }
    if !opts.show_secrets {
        mask_outcomes(&mut report.request);
        mask_outcomes(&mut report.response);
    }
    let (bytes, findings) = if opts.summary_only {
        (vec![], vec![])
    } else if opts.json {
        let mut bytes = Vec::with_capacity(4096);
        // Serializing plain data into a Vec cannot fail; an error here would be a bug in a
        // Serialize impl, reported in place of the object rather than aborting the report.
        if let Err(e) = serde_json::to_writer(&mut bytes, &JsonFlow::new(flow, &report)) {
            bytes.clear();
            bytes.extend_from_slice(format!("{{\"error\":\"{e}\"}}").as_bytes());
        }
        bytes.push(b'\n');
        (bytes, vec![])
    } else {
        (
            table_row(flow, &report).into_bytes(),
            finding_lines(flow, &report),
        )
    };
    Rendered {
        id: flow.id,
        shown: true,
        bytes,
        findings,
        by_severity,
        story,
        facts,
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
    let mark = marker(report.worst());
    // Cut as the TUI's list cuts: hosts keep their domain, paths their end (the endpoint),
    // kinds whole words.
    format!(
        "{:>5}{mark} {:<7} {:<30} {:<40} {:>6}  {:<12} {}\n",
        flow.id.0 + 1,
        clip(&flow.request.method, 7),
        fit::host(&flow.host(), 30),
        fit::path(flow.path_and_query(), 40),
        status,
        fit::kinds(&kinds, 12),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode_flow;
    use crate::flow::testing::{flow, request, response};
    use idscope_decoders::{Limits, Registry, Trust};

    #[test]
    fn a_table_row_keeps_the_endpoint_and_the_domain() {
        let f = flow(
            0,
            request(
                "POST",
                "https://adminwebservice.microsoftonline.com/7d6f3e4a-1b2c-4d5e-8f90-1a2b3c4d9a8b/\
                 federation/2007-06/oauth2/token?api-version=1.0&client-request-id=abc",
            ),
            response(200, "application/json", b"{\"token_type\":\"Bearer\"}"),
        );
        let report = decode_flow(
            &f,
            Registry::builtin(),
            &Trust::default(),
            Limits::default(),
        );
        let row = table_row(&f, &report);
        assert!(row.contains("…/federation/2007-06/oauth2/token "), "{row}");
        assert!(row.contains("microsoftonline.com "), "{row}");
    }
}
