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
pub mod render_summary;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod view;

use std::process::ExitCode;

use anyhow::Context as _;
use idscope_decoders::{Limits, Trust};

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
        Command::Report(args) => report::run(&args),
    }
}

/// Loads the trust anchors the user named into a [`Trust`], for every command that verifies
/// signatures: each `--trust-cert FILE` (certificates, public keys, a JWK or JWKS, or federation
/// metadata, told apart by content: [`Trust::add_anchor_file`]), each `--jwks FILE` (a JWKS or a
/// single JWK) and each `--trust-thumbprint`. Every anchor's source is the option and file (or
/// value) it came from, so verdicts can name it. A file that cannot be read or holds no anchor
/// is an input error naming the option and the file.
pub fn load_user_trust(opts: &DecodeOpts) -> anyhow::Result<Trust> {
    let limits = Limits::default();
    let mut trust = Trust::default();
    for path in &opts.trust_cert {
        let source = format!("--trust-cert {}", path.display());
        let bytes = read_anchor_file(path, limits.max_body)
            .with_context(|| format!("{source}: cannot read"))?;
        trust
            .add_anchor_file(&bytes, &source, &limits)
            .with_context(|| source.clone())?;
    }
    for path in &opts.jwks {
        let source = format!("--jwks {}", path.display());
        let bytes = read_anchor_file(path, limits.max_body)
            .with_context(|| format!("{source}: cannot read"))?;
        trust
            .add_jwks_json(&bytes, &source)
            .with_context(|| source.clone())?;
    }
    for thumbprint in &opts.trust_thumbprint {
        trust.pin_thumbprint(*thumbprint, &format!("--trust-thumbprint {thumbprint}"));
    }
    let password = opts.key_password.as_ref().map(|p| p.0.as_str());
    for path in &opts.key {
        let source = format!("--key {}", path.display());
        let bytes = read_anchor_file(path, idscope_decoders::keys::MAX_KEY_FILE)
            .with_context(|| format!("{source}: cannot read"))?;
        trust
            .decryption
            .add_file(&bytes, &source, password)
            .with_context(|| source.clone())?;
    }
    for path in &opts.payload {
        let source = format!("--payload {}", path.display());
        let bytes = read_anchor_file(path, limits.max_body)
            .with_context(|| format!("{source}: cannot read"))?;
        if bytes.len() > limits.max_body {
            anyhow::bail!("{source}: more than {} bytes", limits.max_body);
        }
        trust.detached_payloads.push((bytes, source));
    }
    Ok(trust)
}

/// The bytes of a trust-anchor or key file, at most `limit` + 1 of them (more is refused by the
/// reader with the size named), so a capture given by mistake is not read whole.
fn read_anchor_file(path: &std::path::Path, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
