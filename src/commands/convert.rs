//! `idscope convert IN -o OUT`: reads any capture idscope understands (HAR from any tool, a
//! truncated idscope recording, a Fiddler SAZ) and writes it as an idscope HAR in the crash-safe
//! layout (security.md §3), file mode 0600. Refuses to overwrite OUT without `--force`. A read
//! error stops the conversion with the file, entry and byte offset; the flows already written stay
//! in a valid, closed file. `--redact` hands over to [`super::redact::export`].

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
    let mut failure = None;
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
                failure = Some(e);
                break;
            }
        }
    }
    writer
        .finish()
        .with_context(|| format!("closing {}", args.output.display()))?;
    if let Some(note) = reader.repaired() {
        eprintln!("idscope: {}: {note}", args.input.display());
    }
    match failure {
        Some(e) => Err(anyhow::Error::new(e).context(format!(
            "stopped after {count} flows (they are in {})",
            args.output.display()
        ))),
        None => {
            eprintln!("wrote {count} flows to {}", args.output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
