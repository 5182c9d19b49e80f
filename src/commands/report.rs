//! `idscope report IN -o OUT.html` (and `analyze --report OUT.html`): one self-contained HTML page
//! for a capture ([`crate::report`]). Two passes like `analyze`: the first learns the keys the
//! capture publishes (and counts its flows for the banner), the second streams the flows into
//! the page. Exit codes as `idscope redact`: 0 written, 1 refused by the residual detector
//! (nothing written), 2 input or output error.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::analysis::learn_trust;
use crate::capture;
use crate::cli::{DecodeOpts, ReportArgs};
use crate::report::{self, Options, ReportError};

/// Runs `idscope report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    write(
        &args.input,
        &args.output,
        args.filter.as_deref(),
        &args.decode,
        args.force,
    )
}

/// Writes the report of the capture `input` to `output`; shared by `report` and `analyze
/// --report`.
pub fn write(
    input: &Path,
    output: &Path,
    filter: Option<&str>,
    decode: &DecodeOpts,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let filter = match filter {
        Some(text) => Some(Arc::new(
            crate::filter::parse(text).with_context(|| format!("--filter {text:?}"))?,
        )),
        None => None,
    };
    if !force && output.exists() {
        anyhow::bail!(ReportError::Exists(output.to_path_buf()));
    }
    let mut trust = super::load_user_trust(decode)?;
    // Pass 1: keys the capture itself publishes, and its size. Read errors stop pass 2.
    let mut flows_in_capture = 0;
    for flow in capture::open(input)?.first_pass().flatten() {
        learn_trust(&flow, &mut trust);
        flows_in_capture += 1;
    }
    let opts = Options {
        source: input.file_name().map_or_else(
            || input.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        ),
        filter,
        show_secrets: decode.show_secrets,
        flows_in_capture: Some(flows_in_capture),
    };
    let reader = capture::open(input)?;
    match report::write_file(reader, &trust, &opts, output, force) {
        Ok(w) => {
            let redacted = if decode.show_secrets {
                "NOT redacted: it contains credentials, do not share it".to_string()
            } else {
                format!("{} values redacted", w.redactions.total())
            };
            eprintln!(
                "wrote {} of {} flows and {} stories to {} ({} bytes, {redacted})",
                w.shown,
                w.flows,
                w.stories,
                output.display(),
                w.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ ReportError::Refused(_)) => {
            eprintln!(
                "idscope: {}: {e}; nothing was written to {}",
                input.display(),
                output.display()
            );
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("reporting {}", input.display()))),
    }
}
