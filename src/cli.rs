//! Command-line definitions (clap derive) and nothing else: every subcommand, its flags and its
//! `--help` example. The behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use idscope_decoders::trust::Thumbprint;

/// idscope: inspect, explain and share identity and directory-sync traffic.
#[derive(Debug, Parser)]
#[command(name = "idscope", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// The password of a password-protected SAZ archive (ZipCrypto or AES): the first line of
    /// FILE. Without it: the IDSCOPE_SAZ_PASSWORD environment variable, else a prompt on the
    /// terminal. Never given on the command line itself.
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Offline report over a capture (HAR, idscope recording, Fiddler SAZ): one line per flow with
    /// its decoded summary, then the findings, then the stories (sync cycle, federated sign-in,
    /// cloud sync, PRT SSO) with their steps and cross-flow checks.
    #[command(
        after_help = "Examples:\n  idscope analyze captures/aadconnect-sync.har\n  \
        idscope analyze --json trace.har | jq 'select(.findings | length > 0)'\n  \
        idscope analyze --json trace.har | jq 'select(.type == \"story\") | .checks[]'\n  \
        idscope analyze --filter '~k saml & ~finding error' trace.har\n  \
        idscope analyze --fail-on warning trace.har && echo clean\n  \
        idscope analyze --jwks keys.json fiddler.saz\n  \
        idscope analyze --trust-cert FederationMetadata.xml federated-signin.har\n  \
        idscope analyze --key transport.pem --key session-key.hex prt.har\n  \
        IDSCOPE_KEY_PASSWORD=… idscope analyze --key sp.pfx saml.har\n\n\
        Exit codes: 0 nothing at or above the --fail-on severity (default error), 1 the report \
        holds a finding at or above it (a failed cross-flow check or a failed story step counts \
        as an error), 2 usage or input error."
    )]
    Analyze(AnalyzeArgs),
    /// Decode one blob (a JWT or JWE, a SAML assertion or response, an ADFS auto-POST page, a
    /// WS-Trust or SOAP message, a msbin1 body, a SCIM resource, a PRT cookie, JSON, a form body,
    /// a URL with query, or base64 of any of these), auto-detected or forced with --as.
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
    /// Write one self-contained HTML page for a capture, safe to attach to a ticket: the flow
    /// list with a filter box, each flow's request, response and decoded tree, the findings, and
    /// each story as a sequence diagram. Built from a redacted copy (idscope redact's policy;
    /// refuses, exit 1 and nothing written, when a secret would remain) unless --show-secrets.
    /// No external resources: it works offline and makes no network request.
    #[command(after_help = "Examples:\n  idscope report trace.har -o trace.html\n  \
        idscope report fiddler.saz -o report.html --filter '~d login.microsoftonline.com'\n  \
        idscope report prt.har -o prt.html --key session-key.hex\n  \
        idscope report trace.har -o private.html --show-secrets\n\n\
        Exit codes: 0 written, 1 refused (a secret survived the redaction; nothing written), \
        2 input or usage error.")]
    Report(ReportArgs),
    /// Run the intercepting proxy and show the live flows in the TUI (with --no-tui or without a
    /// terminal: print one line per finished flow with its decoded summary); optionally record
    /// to a crash-safe HAR with -w.
    #[command(after_help = "Examples:\n  idscope proxy\n  \
        idscope proxy --listen 127.0.0.1:8888 -w session.har\n  \
        idscope proxy --no-tui > flows.txt\n  \
        idscope proxy --map login.example=127.0.0.1:9443 --upstream-ca test-ca.pem\n  \
        curl -x http://127.0.0.1:8080 --cacert ~/.local/share/idscope/idscope-ca.pem https://example.com/")]
    Proxy(ProxyArgs),
    /// Headless recording proxy (like `mitmdump -w`): every finished flow is appended to FILE;
    /// SIGINT/SIGTERM write in-flight flows as incomplete and close the file.
    #[command(after_help = "Examples:\n  idscope record -w sync.har\n  \
        idscope record -w trace.har --listen 127.0.0.1:0 --ignore-host '\\.windowsupdate\\.com$'")]
    Record(RecordArgs),
    /// Manage the interception CA: create it, show it, export the certificate, and print how to
    /// make clients (Linux, macOS, Windows, Firefox, Chrome on Linux, Java, an AAD Connect
    /// server) trust it.
    #[command(after_help = "Examples:\n  idscope ca init\n  idscope ca show\n  \
        idscope ca export --der -o idscope-ca.cer\n  \
        idscope ca trust-help --target chrome-linux\n  \
        idscope ca trust-help --target aadconnect --proxy 10.0.0.5:8080")]
    Ca(CaArgs),
    /// Run the reference server alone: HTTPS virtual hosts for login.microsoftonline.com,
    /// adminwebservice.microsoftonline.com (+ adminwebservice-s2.fixture.test), the ADFS
    /// sts.contoso.test, the SCIM host scim.fixture.test and the device registration host
    /// enterpriseregistration.windows.net, from a CA generated at start.
    #[command(
        after_help = "Examples:\n  idscope fixture --listen 127.0.0.1:8443 --ca-out fixture-ca.pem\n  \
        idscope fixture --seed 42 --clock 2024-01-01T00:00:00Z --sync-redirect --ca-out ca.pem\n  \
        idscope fixture --ca-out ca.pem --app-cert-out sync-app/"
    )]
    Fixture(FixtureArgs),
    /// Browse a capture (HAR, idscope recording, Fiddler SAZ) in the terminal UI: flow list,
    /// decoded trees, stories, filters, replay and export. Press ? for the keys.
    #[command(
        after_help = "Examples:\n  idscope view captures/aadconnect-sync.har\n  \
        idscope view --filter '~k saml | ~k wsfed' fiddler.saz\n  \
        idscope view --log /tmp/idscope.log big.har\n  \
        idscope view --filter '!~noise' --noise-hosts my-noise-hosts browser.har\n  \
        idscope view --key transport.pem --jwks keys.json prt.har"
    )]
    View(ViewArgs),
    /// The whole product on an embedded default: the reference server, the proxy mapped to it
    /// and the scripted client playing every scenario through the proxy, recorded to
    /// captures/demo-TIMESTAMP.har and shown live in the TUI (or, with --headless or without a
    /// terminal, the steps and the analyze report printed).
    #[command(
        after_help = "Examples:\n  idscope demo\n  idscope demo --headless\n  \
        idscope demo --headless --seed 7 -w /tmp/demo.har\n  \
        idscope demo --headless --seed 7 -w demo.har --transport-key-out transport.pem\n  \
        idscope analyze --key transport.pem demo.har"
    )]
    Demo(DemoArgs),
    /// Play the scripted scenarios against the reference server.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Re-send captured requests in order to the reference server (--to fixture), their own
    /// origins (--to origin) or a URL, refreshing the credentials each sequence needs, and
    /// compare every answer with the recorded one on the decoded trees (volatile values such as
    /// times, ids, nonces, token and signature bytes ignored). Recorded credentials are never
    /// sent to another origin unless the host is mapped explicitly.
    #[command(
        after_help = "Examples:\n  idscope replay captures/demo.har --to fixture --seed 7\n  \
        idscope replay trace.har --to fixture --filter '~k provisioning'\n  \
        idscope replay trace.har --to origin --json | jq 'select(.status != \"matched\")'\n  \
        idscope replay trace.har --to https://staging.example --map login.microsoftonline.com=10.0.0.5:443\n  \
        idscope replay trace.har --to fixture --ignore 'scim/User/meta' --ignore displayName\n\n\
        Exit codes: 0 every answer matched, 1 something diverged, failed or was refused, 2 usage \
        or input error."
    )]
    Replay(ReplayArgs),
    /// Compare two flows (FILE#N, 1-based), two tokens or two SAML assertions (a file holding one,
    /// or the value itself) claim by claim and element by element, volatile values (times, ids,
    /// nonces, signature bytes) left out unless --all.
    #[command(after_help = "Examples:\n  idscope diff trace.har#2 trace.har#18\n  \
        idscope diff before.har#3 after.har#3 --all\n  \
        idscope diff token-a.txt token-b.txt\n  \
        idscope diff eyJhbGciOi... eyJhbGciOi... --json\n\n\
        Exit codes: 0 no differences, 1 differences, 2 usage or input error.")]
    Diff(DiffArgs),
}

/// `idscope replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The capture to replay (HAR, idscope recording, or Fiddler .saz).
    pub file: PathBuf,
    /// Where to send: `fixture` (the bundled reference server, started in process; every host it
    /// serves is mapped to it), `origin` (each request to the origin it was captured from), or a
    /// URL (every request to that origin, path kept).
    #[arg(long, value_name = "fixture|origin|URL")]
    pub to: String,
    /// Replay only flows matching this filter expression (the token steps they need run too).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Connect to ADDR:PORT for HOST, keeping Host and TLS name = HOST; an explicit mapping, so
    /// recorded credentials for HOST may go there (repeatable).
    #[arg(long, value_name = "HOST=ADDR:PORT")]
    pub map: Vec<String>,
    /// Also ignore differences at this path (repeatable; `claims/upn`, `scim/**/meta`,
    /// `displayName`; see the README for the syntax).
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
    /// Report volatile differences too (marked volatile; they do not make a flow diverge).
    #[arg(long)]
    pub all: bool,
    /// One JSON object per replayed flow, then a summary object.
    #[arg(long)]
    pub json: bool,
    /// Seed for the in-process reference server (the seed the capture was recorded with gives
    /// identical keys, ids and nonces). Default: the seed an `idscope demo` recording names in
    /// its `log.creator._idscope.fixture_seed`, else unseeded.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The in-process reference server's clock: `capture` (frozen at the first flow, the
    /// default), `now`, or an RFC 3339 instant.
    #[arg(long, default_value = "capture", value_name = "capture|now|RFC3339")]
    pub clock: String,
    /// Trust this CA certificate (PEM or DER) for the target's TLS (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Seconds one request may take before it counts as failed.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub timeout: u64,
    /// Write the replayed exchanges to this HAR (tagged replay-of:#N).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
}

/// `idscope diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first side: FILE#N (flow N of a capture), a file holding a token or assertion, or the
    /// token itself.
    pub a: String,
    /// The second side, in the same forms.
    pub b: String,
    /// Show volatile differences too (times, ids, nonces, signature bytes), marked as such.
    #[arg(long)]
    pub all: bool,
    /// Also ignore differences at this path (repeatable).
    #[arg(long, value_name = "PATH")]
    pub ignore: Vec<String>,
    /// One JSON object per difference.
    #[arg(long)]
    pub json: bool,
}

/// `idscope demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the scenario steps and the analyze report instead of opening the TUI.
    #[arg(long)]
    pub headless: bool,
    /// Record to this file instead of captures/demo-TIMESTAMP.har (never overwritten).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Seed the reference server's keys and ids (default: a random seed). The seed is written
    /// into the recording (`log.creator._idscope.fixture_seed`) for `idscope replay`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the scripted device's transport private key (PKCS#8 PEM, mode 0600) here: with it,
    /// `idscope analyze --key FILE` unwraps the PRT session key of the recording and checks the
    /// PRT's requests, cookies and encrypted responses.
    #[arg(long, value_name = "FILE")]
    pub transport_key_out: Option<PathBuf>,
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
    /// Write the certificate and private key of the sync application ("Entra Connect Sync
    /// (fixture)", certificate client credentials) into this directory: sync-app.pem and
    /// sync-app.key (PKCS#8, mode 0600). The same in every run.
    #[arg(long, value_name = "DIR")]
    pub app_cert_out: Option<PathBuf>,
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
    /// PRT-cookie authorize answers the first attempt with a stale-nonce 302 (fresh sso_nonce).
    #[arg(long)]
    pub stale_nonce: bool,
    /// Encode msbin1 answers like XmlDocument (AADInternals) instead of DataContractSerializer.
    #[arg(long)]
    pub msbin_xmldocument: bool,
    /// Service keys (MIT keytab) for the Negotiate endpoints: Seamless SSO needs a key for
    /// HTTP/autologon.microsoftazuread-sso.com, ADFS /adfs/ls/wia one for HTTP/sts.contoso.test.
    #[arg(long, value_name = "FILE")]
    pub keytab: Option<PathBuf>,
    /// ADFS /adfs/ls/wia requires the Kerberos channel binding of its own TLS certificate
    /// (extended protection "Require"): a token made through a TLS-intercepting proxy fails.
    #[arg(long)]
    pub extended_protection: bool,
}

/// `idscope scenario …`.
#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Play scenarios (all when none is named: sync, federated, scim, prt; sync-app, the sync
    /// cycle with application identity, only when named). Without --connect or --proxy an
    /// in-process fixture is started.
    #[command(after_help = "Examples:\n  idscope scenario run\n  \
        idscope scenario run sync-app\n  \
        idscope scenario run sync --connect 127.0.0.1:8443 --ca fixture-ca.pem\n  \
        idscope scenario run --proxy http://127.0.0.1:8080 --ca proxy-ca.pem\n  \
        idscope scenario run prt-ec --proxy http://127.0.0.1:8080 --ca proxy-ca.pem \
        --device-seed 7 --transport-key-out transport.pem")]
    Run(ScenarioRunArgs),
}

/// `idscope scenario run`.
#[derive(Debug, Args)]
pub struct ScenarioRunArgs {
    /// Scenario names (sync, federated, scim, prt; sync-app and prt-ec are played only when named).
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
    /// Derive the PRT scenarios' device keys from this seed (default: fresh keys each run).
    #[arg(long, value_name = "N")]
    pub device_seed: Option<u64>,
    /// Write the transport private keys of the PRT scenarios' devices (the RSA one of `prt`,
    /// the P-256 one of `prt-ec`; PKCS#8 PEM, mode 0600) here, for `idscope analyze --key`.
    /// Needs --device-seed.
    #[arg(long, value_name = "FILE", requires = "device_seed")]
    pub transport_key_out: Option<PathBuf>,
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
    /// Trust the signing keys in this file (repeatable), whatever form it holds them in (told
    /// from the content): certificates (PEM, several blocks allowed, DER or bare base64), a
    /// public key (PEM PUBLIC KEY or RSA PUBLIC KEY), a JWK or JWKS, or SAML / WS-Fed federation
    /// metadata (every signing certificate in it).
    #[arg(long = "trust-cert", value_name = "FILE")]
    pub trust_cert: Vec<PathBuf>,
    /// Trust the signing certificate with this SHA-1 or SHA-256 thumbprint (40 or 64 hex
    /// digits, any case, colons or spaces allowed), as ADFS and Entra ID federation settings
    /// show it. Repeatable.
    #[arg(long = "trust-thumbprint", value_name = "HEX")]
    pub trust_thumbprint: Vec<Thumbprint>,
    /// Decrypt with the private or secret key in this file (repeatable), whatever form it holds
    /// it in (told from the content): PEM or DER (PKCS#8, encrypted PKCS#8, PKCS#1 RSA, SEC1
    /// EC), a PFX / PKCS#12 file, a JWK or JWKS with private members (RSA, EC, OKP X25519,
    /// oct), or a symmetric key in hex (a PRT session key). Keys stay in memory: they are never
    /// written to a recording, an export or a report.
    #[arg(long = "key", value_name = "FILE")]
    pub key: Vec<PathBuf>,
    /// The content of a detached JWS (RFC 7515 appendix F: the payload is sent apart from the
    /// signature), to verify its signature over (repeatable; each detached JWS is checked with
    /// each file until a trusted key verifies one).
    #[arg(long = "payload", value_name = "FILE")]
    pub payload: Vec<PathBuf>,
    /// The password of encrypted --key files (encrypted PKCS#8, PFX); read from the environment
    /// variable IDSCOPE_KEY_PASSWORD when not given, so it need not appear on the command line.
    #[arg(
        long = "key-password",
        value_name = "PASSWORD",
        env = "IDSCOPE_KEY_PASSWORD",
        hide_env_values = true
    )]
    pub key_password: Option<Password>,
}

/// A password given on the command line or in the environment: never printed (`Debug` shows
/// `***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl std::str::FromStr for Password {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Password(s.to_string()))
    }
}

/// `idscope analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The capture file (HAR, idscope recording, or Fiddler .saz).
    pub file: PathBuf,
    /// One JSON object per line (jq-friendly): each flow (`"type": "flow"`) with the full decoded
    /// trees, then each story (`"type": "story"`) with its steps and checks, then the summary
    /// (`"type": "summary"`, last: it counts every flow).
    #[arg(long)]
    pub json: bool,
    /// Only report flows matching this filter expression (mitmproxy syntax plus ~k, ~claim, ~op,
    /// ~finding; see conventions.md), e.g. `~k saml & ~finding error`. Stories are built from
    /// every flow; those with a matching flow are reported.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Print only the trace-wide summary (sessions, status families, failing hosts, slowest
    /// flows, findings, authentication outcomes, stories; every row with the filter that selects
    /// its flows), not the table; with --json, only the summary object.
    #[arg(long)]
    pub summary_only: bool,
    /// Exit 1 when the report holds a finding of this severity or worse: error (the default; a
    /// failed cross-flow check or story step counts as an error), warning, info (an undecided
    /// check counts as info), or never.
    #[arg(long, value_name = "SEVERITY", value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Write the HTML report of `idscope report` to this file instead of printing the table
    /// (the same page, with the same --filter and decoding options; never overwrites a file).
    #[arg(long, value_name = "OUT.html", conflicts_with = "json")]
    pub report: Option<PathBuf>,
    /// Decoding options.
    #[command(flatten)]
    pub decode: DecodeOpts,
}

/// Which findings make `analyze` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Errors, failed cross-flow checks and failed story steps.
    #[default]
    Error,
    /// Warnings too.
    Warning,
    /// Any finding, and checks the capture cannot decide.
    Info,
    /// Never: the report only informs.
    Never,
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
    /// The browsers' background hosts that `~noise` and the N key hide, one pattern per line
    /// (`host`, `*.domain`, `host/path-prefix`, `@default` for the built-in list, `#`
    /// comments), instead of ~/.config/idscope/noise-hosts or the built-in list.
    #[arg(long, value_name = "FILE")]
    pub noise_hosts: Option<PathBuf>,
    /// Decoding options: trust anchors and decryption keys, as `analyze` takes them;
    /// --show-secrets starts with secrets shown.
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

/// `idscope report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The capture to read (HAR from any tool, an idscope recording, or a Fiddler .saz).
    pub input: PathBuf,
    /// Where to write the HTML page (mode 0600; written only when the whole report succeeds).
    #[arg(short, long, value_name = "OUT.html")]
    pub output: PathBuf,
    /// Overwrite OUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// Only list flows matching this filter expression (as analyze --filter); stories are built
    /// from every flow, and those holding a listed flow are drawn.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Decoding options (with --show-secrets the page is built from the capture as it is,
    /// credentials included, and says so in a banner).
    #[command(flatten)]
    pub decode: DecodeOpts,
}

/// Options shared by `idscope proxy` and `idscope record`.
#[derive(Debug, Args, Clone)]
pub struct ProxyOpts {
    /// Listen address. Anything but loopback requires --proxy-auth.
    #[arg(long, default_value = crate::proxy::DEFAULT_LISTEN, value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Require `Proxy-Authorization: Basic` with these credentials.
    #[arg(long, value_name = "USER:PASS")]
    pub proxy_auth: Option<String>,
    /// Also trust this PEM root for origin certificates (repeatable).
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Vec<PathBuf>,
    /// Do NOT verify origin certificates (loud warning; for lab servers only).
    #[arg(long)]
    pub insecure: bool,
    /// Present this client certificate when the origin HOST asks for one (repeatable): a PEM
    /// chain with its key (in CERT or in KEY), or a PFX / PKCS#12 file. The flow records which
    /// certificate was presented; an origin that asks when none is configured gets a finding.
    #[arg(long, value_name = "HOST=CERT[,KEY]")]
    pub client_cert: Vec<String>,
    /// The password of --client-cert PFX files, read from this file (first line); or set
    /// IDSCOPE_CLIENT_CERT_PASSWORD. Never on the command line, where `ps` shows it.
    #[arg(long, value_name = "FILE")]
    pub client_cert_password_file: Option<PathBuf>,
    /// Ask intercepted clients for their TLS client certificate (optionally) and record what
    /// each offered on its requests; it is not passed on to the origin (see --client-cert).
    #[arg(long)]
    pub request_client_cert: bool,
    /// Map remote: connect to ADDR:PORT for HOST (or HOST:PORT) but keep Host and SNI = HOST
    /// (repeatable).
    #[arg(long, value_name = "HOST=ADDR:PORT")]
    pub map: Vec<String>,
    /// Leave hosts matching this regex alone (repeatable): CONNECTs are tunnelled without
    /// interception, plain-HTTP requests are forwarded without being recorded.
    #[arg(long, value_name = "REGEX")]
    pub ignore_host: Vec<String>,
    /// Keep at most this much of each body (e.g. 16MiB, 512KiB, 1000); larger bodies stream
    /// through and are recorded with size, SHA-256 and `truncated`.
    #[arg(long, default_value = "16MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_body: usize,
    /// The CA directory (default: $IDSCOPE_CA_DIR, else ~/.local/share/idscope).
    #[arg(long, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// Close client connections idle for this many seconds.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub idle_timeout: u64,
    /// Speak only HTTP/1.1 to clients and origins.
    #[arg(long)]
    pub no_http2: bool,
    /// Bare passthrough: intercept TLS but capture nothing (for benchmarks).
    #[arg(long)]
    pub passthrough: bool,
}

/// Parses `16MiB`, `512KiB`, `1MB`, `2G` or a plain byte count.
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().map_err(|_| format!("not a size: {s}"))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` in {s}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s}"))
}

/// `idscope proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Proxy options.
    #[command(flatten)]
    pub opts: ProxyOpts,
    /// Also record finished flows to this HAR file.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Overwrite the -w file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print one line per finished flow instead of opening the TUI (the default without a
    /// terminal).
    #[arg(long)]
    pub no_tui: bool,
    /// The browsers' background hosts that `~noise` and the TUI's N key hide (see `idscope view
    /// --help`).
    #[arg(long, value_name = "FILE")]
    pub noise_hosts: Option<PathBuf>,
}

/// `idscope record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Proxy options.
    #[command(flatten)]
    pub opts: ProxyOpts,
    /// The HAR file to record to (crash-safe layout, mode 0600).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `idscope ca`.
#[derive(Debug, Args)]
pub struct CaArgs {
    /// The CA directory (default: $IDSCOPE_CA_DIR, else ~/.local/share/idscope).
    #[arg(long, global = true, value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: CaCommand,
}

/// `idscope ca` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the CA (fails if one exists).
    Init,
    /// Print the CA's subject, validity, SHA-1 and SHA-256 fingerprints and where it lives.
    Show,
    /// Write the CA certificate (never the key) as PEM, or DER with --der.
    Export {
        /// DER instead of PEM (Windows `.cer`).
        #[arg(long)]
        der: bool,
        /// Output file (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print exact steps to make a client trust the CA and use the proxy.
    TrustHelp {
        /// The client platform.
        #[arg(long, value_enum)]
        target: TrustTarget,
        /// The proxy address clients should use.
        #[arg(long, default_value = crate::proxy::DEFAULT_LISTEN, value_name = "HOST:PORT")]
        proxy: String,
    },
}

/// Client platforms `ca trust-help` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrustTarget {
    /// Debian/Ubuntu and Fedora/RHEL system stores.
    Linux,
    /// The macOS System keychain.
    Macos,
    /// The Windows machine Root store.
    Windows,
    /// Firefox's own certificate store (policies.json or the settings UI).
    Firefox,
    /// Chrome and Chromium on Linux: the user's NSS database (certutil).
    ChromeLinux,
    /// Java: the runtime's cacerts (keytool), or a trust store of one's own.
    Java,
    /// An AAD Connect server: machine.config defaultProxy plus the Root store import.
    Aadconnect,
}
