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
        idscope analyze --filter '~k saml & ~finding error' trace.har\n  \
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
    /// Browse a capture (HAR, idscope recording, Fiddler SAZ) in the terminal UI: flow list,
    /// decoded trees, stories, filters, replay and export. Press ? for the keys.
    #[command(
        after_help = "Examples:\n  idscope view captures/aadconnect-sync.har\n  \
        idscope view --filter '~k saml | ~k wsfed' fiddler.saz\n  \
        idscope view --log /tmp/idscope.log big.har"
    )]
    View(ViewArgs),
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
    /// Only report flows matching this filter expression (mitmproxy syntax plus ~k, ~claim, ~op,
    /// ~finding; see conventions.md), e.g. `~k saml & ~finding error`.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Decoding options.
    #[command(flatten)]
    pub decode: DecodeOpts,
}

/// `idscope view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The capture file (HAR, idscope recording, or Fiddler .saz).
    pub file: PathBuf,
    /// Start with this filter expression.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Keep at most this many flows in memory (the oldest are dropped).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_flows: usize,
    /// Write logs here instead of the per-user state directory.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
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
