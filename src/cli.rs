//! Command-line definitions (clap derive) and nothing else: every subcommand, its flags and its
//! `--help` example. The behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// idscope: inspect, explain and share identity and directory-sync traffic.
#[derive(Debug, Parser)]
#[command(name = "idscope", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Offline report over a capture (HAR, idscope recording, Fiddler SAZ): one line per flow with
    /// its decoded summary, then the findings.
    #[command(
        after_help = "Examples:\n  idscope analyze captures/aadconnect-sync.har\n  \
        idscope analyze --json trace.har | jq 'select(.findings | length > 0)'\n  \
        idscope analyze --jwks keys.json fiddler.saz"
    )]
    Analyze(AnalyzeArgs),
    /// Decode one blob (a JWT or JWE, JSON, a form body, a URL with query, or base64 of any of
    /// these), auto-detected or forced with --as.
    #[command(after_help = "Examples:\n  idscope decode token.txt\n  \
        pbpaste | idscope decode -\n  \
        echo 'eyJhbGciOi...' | idscope decode - --as jwt --jwks keys.json")]
    Decode(DecodeArgs),
    /// Rewrite any capture idscope reads (HAR from any tool, a truncated idscope recording, SAZ)
    /// as an idscope HAR in the crash-safe layout (file mode 0600).
    #[command(
        after_help = "Examples:\n  idscope convert session.saz -o session.har\n  \
        idscope convert crashed-recording.har -o repaired.har"
    )]
    Convert(ConvertArgs),
    /// Run the reference server alone: HTTPS virtual hosts for login.microsoftonline.com,
    /// adminwebservice.microsoftonline.com (+ adminwebservice-s2.fixture.test) and the ADFS
    /// sts.contoso.test, from a CA generated at start.
    #[command(
        after_help = "Examples:\n  idscope fixture --listen 127.0.0.1:8443 --ca-out fixture-ca.pem\n  \
        idscope fixture --seed 42 --clock 2024-01-01T00:00:00Z --sync-redirect --ca-out ca.pem"
    )]
    Fixture(FixtureArgs),
    /// Play the scripted scenarios against the reference server.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
}

/// `idscope fixture`.
#[derive(Debug, Args)]
pub struct FixtureArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Write the CA certificate (PEM) here; the key stays in memory.
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// Seed for keys, ids and nonces (deterministic runs).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Freeze the clock at this RFC 3339 instant.
    #[arg(long, value_name = "RFC3339")]
    pub clock: Option<String>,
    /// Token requests fail with this AADSTS code (50126, 50076, 53003, 70008, 700082).
    #[arg(long, value_name = "CODE")]
    pub inject_aadsts: Option<u32>,
    /// Sync calls to the primary host get a BindingRedirectionFault.
    #[arg(long)]
    pub sync_redirect: bool,
    /// Sync calls get an ErrorDescription fault.
    #[arg(long)]
    pub sync_fault: bool,
    /// ADFS usernamemixed answers FailedAuthentication.
    #[arg(long)]
    pub adfs_fail: bool,
    /// Encode msbin1 answers like XmlDocument (AADInternals) instead of DataContractSerializer.
    #[arg(long)]
    pub msbin_xmldocument: bool,
}

/// `idscope scenario …`.
#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Play scenarios (all when none is named: sync, federated). Without --connect or --proxy
    /// an in-process fixture is started.
    #[command(after_help = "Examples:\n  idscope scenario run\n  \
        idscope scenario run sync --connect 127.0.0.1:8443 --ca fixture-ca.pem\n  \
        idscope scenario run --proxy http://127.0.0.1:8080 --ca proxy-ca.pem")]
    Run(ScenarioRunArgs),
}

/// `idscope scenario run`.
#[derive(Debug, Args)]
pub struct ScenarioRunArgs {
    /// Scenario names (sync, federated).
    pub names: Vec<String>,
    /// Connect every virtual host to this fixture address.
    #[arg(long, value_name = "ADDR", conflicts_with = "proxy")]
    pub connect: Option<std::net::SocketAddr>,
    /// Send everything through this HTTP proxy.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Trust this CA certificate (PEM). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca: Vec<PathBuf>,
}

/// Options shared by everything that shows decoded values.
#[derive(Debug, Args, Clone, Default)]
pub struct DecodeOpts {
    /// Show secrets (passwords, refresh tokens, signatures) instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// Trust the keys in this JWKS (or single JWK) file for JWT signature verification.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub jwks: Vec<PathBuf>,
}

/// `idscope analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The capture file (HAR, idscope recording, or Fiddler .saz).
    pub file: PathBuf,
    /// One JSON object per flow (jq-friendly), with the full decoded trees.
    #[arg(long)]
    pub json: bool,
    /// Decoding options.
    #[command(flatten)]
    pub decode: DecodeOpts,
}

/// `idscope decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// A file holding the blob, or `-` (the default) for standard input.
    #[arg(default_value = "-")]
    pub input: String,
    /// Force a decoder instead of auto-detection (jwt, oauth, realm, oidc, json, form, xml, url,
    /// base64 …).
    #[arg(long = "as", value_name = "KIND")]
    pub kind: Option<String>,
    /// Print the decoded trees as JSON.
    #[arg(long)]
    pub json: bool,
    /// Decoding options.
    #[command(flatten)]
    pub decode: DecodeOpts,
}

/// `idscope convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The capture to read.
    pub input: PathBuf,
    /// Where to write the HAR.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
}
