//! `idscope redact IN -o OUT [--force] [--mask-pii]` (and `idscope convert --redact`): writes a
//! shareable copy of a capture by the policy of security.md §1 through
//! [`crate::capture::redact::redact_file`], prints what fired, and maps the outcome to the exit
//! codes of conventions.md: 0 written, 1 refused by the residual detector (nothing written),
//! 2 input or output error.

use std::path::Path;
use std::process::ExitCode;

use crate::capture::redact::{Policy, RedactError, RedactOptions, redact_file};
use crate::cli::RedactArgs;

/// Runs `idscope redact`.
pub fn run(args: &RedactArgs) -> anyhow::Result<ExitCode> {
    export(&args.input, &args.output, args.force, args.mask_pii)
}

/// Redacts `input` into `output`; shared by `redact` and `convert --redact` (and meant for every
/// other export that says "shareable").
pub fn export(
    input: &Path,
    output: &Path,
    force: bool,
    mask_pii: bool,
) -> anyhow::Result<ExitCode> {
    let opts = RedactOptions {
        policy: Policy {
            mask_pii,
            ..Policy::default()
        },
        force,
    };
    match redact_file(input, output, &opts) {
        Ok(report) => {
            let fired: Vec<String> = report
                .fired
                .iter()
                .map(|(rule, n)| format!("{rule} {n}"))
                .collect();
            eprintln!(
                "wrote {} flows to {} ({} values redacted{}{})",
                report.flows,
                output.display(),
                report.total(),
                if fired.is_empty() { "" } else { ": " },
                fired.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ RedactError::Residual { .. }) => {
            eprintln!(
                "idscope: {}: {e}; nothing was written to {}",
                input.display(),
                output.display()
            );
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("redacting {}", input.display()))),
    }
}
