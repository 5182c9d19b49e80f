//! `idscope record -w FILE`: the headless recording proxy (like `mitmdump -w`). Shares the event
//! loop with `idscope proxy` but prints nothing per flow; the file is the product.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::RecordArgs;

/// Runs `idscope record`.
pub fn run(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(super::proxy::serve(
        &args.opts,
        Some(&args.write),
        args.force,
        super::proxy::Output::Quiet,
    ))
}
