//! Command implementations: the glue between the parsed command line (`cli`) and the library
//! (capture files, decoders, analysis). Each subcommand has its own file; this one dispatches and
//! holds what they share (loading user-supplied keys). Output formatting for the terminal lives in
//! `render`.

pub mod analyze;
pub mod ca;
pub mod convert;
pub mod decode;
pub mod demo;
pub mod diff;
pub mod fixture;
pub mod proxy;
pub mod record;
pub mod redact;
pub mod render;
pub mod replay;
pub mod scenario;
pub mod view;

use std::process::ExitCode;

use anyhow::Context as _;
use idscope_decoders::Trust;
use idscope_decoders::xml::dsig::TrustedCert;

use crate::cli::{Cli, Command, DecodeOpts};

/// Runs the parsed command; the exit code follows conventions.md (0 ok, 1 ran but found
/// problems, 2 usage or input error — errors are returned and mapped to 2 by `main`).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Decode(args) => decode::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Redact(args) => redact::run(&args),
        Command::Proxy(args) => proxy::run(&args),
        Command::Record(args) => record::run(&args),
        Command::Ca(args) => ca::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Fixture(args) => fixture::run(&args),
        Command::Scenario(crate::cli::ScenarioCommand::Run(args)) => scenario::run(&args),
        Command::View(args) => view::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Diff(args) => diff::run(&args),
    }
}

/// Loads every `--jwks FILE` (a JWKS document or a single JWK) and every `--trust-cert FILE` (PEM
/// or DER certificates) into a [`Trust`]; each key's source is the flag and file it came from, so
/// verdicts can name it.
pub fn load_user_trust(opts: &DecodeOpts) -> anyhow::Result<Trust> {
    let mut trust = Trust::default();
    for path in &opts.trust_cert {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let source = format!("--trust-cert {}", path.display());
        let certs = TrustedCert::from_pem_or_der(&bytes, &source)
            .with_context(|| format!("{}: not a PEM or DER certificate", path.display()))?;
        anyhow::ensure!(
            !certs.is_empty(),
            "{}: no certificate found",
            path.display()
        );
        for c in certs {
            trust.add_cert(c.der, &source);
        }
    }
    for path in &opts.jwks {
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
