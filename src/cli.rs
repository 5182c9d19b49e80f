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
    /// Write a shareable copy of a capture: credentials (passwords, tokens, cookies, signatures,
    /// SAML signature and cipher values, PRTs, sync-API bearer tokens and password hashes) are
    /// replaced by fingerprinted placeholders; names, claims and structure are kept. Refuses
    /// (exit 1, nothing written) when a secret would remain.
    #[command(
        after_help = "Examples:\n  idscope redact trace.har -o trace-shareable.har\n  \
        idscope redact fiddler.saz -o shareable.har --mask-pii\n\n\
        Exit codes: 0 written, 1 refused (a secret survived the rules; nothing written), \
        2 input or usage error."
    )]
    Redact(RedactArgs),
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
    /// Trust this certificate (PEM, one or more blocks, or DER) for XML-signature verification
    /// (SAML, WS-Trust, federation metadata). Repeatable.
    #[arg(long = "trust-cert", value_name = "FILE")]
    pub trust_cert: Vec<PathBuf>,
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
    /// Write a shareable copy: apply the redaction policy of `idscope redact` (refuses, exit 1,
    /// when a secret would remain).
    #[arg(long)]
    pub redact: bool,
    /// With --redact: also mask personal data (upn, email, name, oid, ipaddr, SAML NameID).
    #[arg(long, requires = "redact")]
    pub mask_pii: bool,
}

/// `idscope redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The capture to read (HAR from any tool, an idscope recording, or a Fiddler .saz).
    pub input: PathBuf,
    /// Where to write the redacted HAR (mode 0600; written only when the redaction succeeds).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// Also mask personal data (upn, email, name, oid, ipaddr, SAML NameID and name attributes)
    /// with fingerprinted placeholders.
    #[arg(long)]
    pub mask_pii: bool,
}
