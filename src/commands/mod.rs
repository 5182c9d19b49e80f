//! Command implementations: the glue between the parsed command line (`cli`) and the library
//! (capture files, decoders, analysis). Each subcommand has its own file; this one dispatches and
//! holds what they share (loading user-supplied keys). Output formatting for the terminal lives in
//! `render`.

pub mod analyze;
pub mod convert;
pub mod decode;
pub mod render;
pub mod view;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use idscope_decoders::Trust;

use crate::cli::{Cli, Command};

/// Runs the parsed command; the exit code follows conventions.md (0 ok, 1 ran but found
/// problems, 2 usage or input error — errors are returned and mapped to 2 by `main`).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Decode(args) => decode::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::View(args) => view::run(&args),
    }
}

/// Loads every `--jwks FILE` (a JWKS document or a single JWK) into a [`Trust`], each key's
/// source being `--jwks FILE`.
pub fn load_user_trust(files: &[PathBuf]) -> anyhow::Result<Trust> {
    let mut trust = Trust::default();
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let doc: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a JSON JWKS or JWK", path.display()))?;
        let n = trust.add_jwks(&doc, &format!("--jwks {}", path.display()));
        anyhow::ensure!(
            n > 0,
            "{}: no keys found (expected {{\"keys\":[…]}} or a JWK)",
            path.display()
        );
    }
    Ok(trust)
}
