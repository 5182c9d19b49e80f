//! `idscope convert IN -o OUT`: reads any capture idscope understands (HAR from any tool, a
//! truncated idscope recording, a Fiddler SAZ) and writes it as an idscope HAR in the crash-safe
//! layout (security.md §3), file mode 0600. Refuses to overwrite OUT without `--force`. An
//! unreadable entry or session (a broken member of a SAZ, a bad HAR entry) is skipped and named
//! with its file, entry and byte offset; the others are converted into a valid, closed file, and
//! the exit code is 2 when anything was skipped. `--redact` hands over to [`super::redact::export`].

use std::process::ExitCode;

use anyhow::Context as _;

use crate::capture;
use crate::cli::ConvertArgs;

/// Runs `idscope convert`; with `--redact` the output is the shareable copy that
/// `idscope redact` writes.
pub fn run(args: &ConvertArgs) -> anyhow::Result<ExitCode> {
    if args.redact {
        return super::redact::export(&args.input, &args.output, args.force, args.mask_pii);
    }
    let reader = capture::open(&args.input)?;
    let writer = if args.force {
        capture::HarWriter::create_or_overwrite(&args.output)
    } else {
        capture::HarWriter::create(&args.output)
    };
    let mut writer = writer.with_context(|| format!("creating {}", args.output.display()))?;
    let mut count = 0usize;
    // A broken entry or session is skipped and reported; the rest is converted.
    let mut skipped: Vec<capture::CaptureError> = Vec::new();
    let mut skipped_count = 0usize;
    let mut reader = reader;
    for flow in reader.by_ref() {
        match flow {
            Ok(flow) => {
                writer
                    .write_flow(&flow)
                    .with_context(|| format!("writing {}", args.output.display()))?;
                count += 1;
            }
            Err(e) => {
                skipped_count += 1;
                if skipped.len() < MAX_LISTED {
                    skipped.push(e);
                }
            }
        }
    }
    writer
        .finish()
        .with_context(|| format!("closing {}", args.output.display()))?;
    if let Some(note) = reader.repaired() {
        eprintln!("idscope: {}: {note}", args.input.display());
    }
    eprintln!("wrote {count} flows to {}", args.output.display());
    let mut listed = skipped.into_iter();
    let Some(first) = listed.next() else {
        return Ok(ExitCode::SUCCESS);
    };
    for e in listed {
        eprintln!("idscope: skipped: {e}");
    }
    if skipped_count > MAX_LISTED {
        eprintln!("idscope: … and {} more", skipped_count - MAX_LISTED);
    }
    Err(anyhow::Error::new(first).context(format!(
        "{skipped_count} unreadable entries or sessions skipped; the {count} flows read are in {}",
        args.output.display()
    )))
}

/// Unreadable entries listed one by one; the rest are counted.
const MAX_LISTED: usize = 20;
