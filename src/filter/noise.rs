//! The hosts of browsers' own background traffic (component and extension updates, Safe
//! Browsing, telemetry, captive-portal checks), which `~noise` matches and the TUI's `N` key
//! hides. One pattern per line:
//!
//! * `update.googleapis.com` — that host (any case, any port);
//! * `*.gvt1.com` — every host under `gvt1.com` (not `gvt1.com` itself);
//! * `accounts.google.com/ListAccounts` — requests to that host whose path starts with
//!   `/ListAccounts` (a host that also serves what people sign in to stays visible);
//! * `@default` — the built-in list ([`BUILTIN`]), to add to it rather than replace it;
//! * `#` starts a comment; blank lines are skipped.
//!
//! The list in use ([`active`]) is the one given with `--noise-hosts FILE` ([`use_file`]), else
//! the user's file ([`user_file`], `~/.config/idscope/noise-hosts`) when it exists, else
//! [`BUILTIN`]. It is read once per process, when a filter first names `~noise`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The built-in list: hosts Chrome/Chromium, Edge and Firefox call on their own, each with what
/// it is for. Kept to hosts that serve nothing a person signs in to.
pub const BUILTIN: &[(&str, &str)] = &[
    // Chrome and Chromium (Edge shares some).
    ("*.gvt1.com", "Chrome component and extension downloads"),
    ("update.googleapis.com", "Chrome component updater"),
    ("clients2.google.com", "Chrome extension update checks"),
    (
        "clients2.googleusercontent.com",
        "Chrome extension downloads",
    ),
    ("clientservices.googleapis.com", "Chrome variations seed"),
    (
        "optimizationguide-pa.googleapis.com",
        "Chrome optimization hints",
    ),
    (
        "content-autofill.googleapis.com",
        "Chrome autofill field types",
    ),
    (
        "safebrowsing.googleapis.com",
        "Safe Browsing (Chrome, Firefox)",
    ),
    (
        "safebrowsingohttpgateway.googleapis.com",
        "Safe Browsing over Oblivious HTTP",
    ),
    (
        "passwordsleakcheck-pa.googleapis.com",
        "Chrome's check of saved passwords against known leaks",
    ),
    (
        "connectivitycheck.gstatic.com",
        "Chrome's network and captive-portal check",
    ),
    (
        "accounts.google.com/ListAccounts",
        "Chrome's check of the signed-in Google accounts",
    ),
    // Edge.
    ("edge.microsoft.com", "Edge services and component updates"),
    ("config.edge.skype.com", "Edge experiment configuration"),
    ("nav.smartscreen.microsoft.com", "Edge SmartScreen"),
    ("*.events.data.microsoft.com", "Edge and Windows telemetry"),
    // Firefox.
    (
        "firefox.settings.services.mozilla.com",
        "Firefox remote settings",
    ),
    (
        "content-signature-2.cdn.mozilla.net",
        "Firefox remote settings signatures",
    ),
    (
        "firefox-settings-attachments.cdn.mozilla.net",
        "Firefox remote settings attachments",
    ),
    ("detectportal.firefox.com", "Firefox captive-portal check"),
    ("incoming.telemetry.mozilla.org", "Firefox telemetry"),
    ("push.services.mozilla.com", "Firefox push service"),
    (
        "shavar.services.mozilla.com",
        "Firefox tracking-protection lists",
    ),
    ("aus5.mozilla.org", "Firefox update checks"),
];

/// The line that includes [`BUILTIN`] in a user's list.
pub const INCLUDE_DEFAULT: &str = "@default";

/// One pattern of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// The host, lowercase; for `*.example.com`, `.example.com`.
    host: String,
    /// True for `*.` patterns: `host` is a suffix.
    wildcard: bool,
    /// A path prefix (from the first `/`), if any.
    path: Option<String>,
}

impl Pattern {
    fn matches(&self, host: &str, path: &str) -> bool {
        let host_ok = if self.wildcard {
            host.len() > self.host.len()
                && host
                    .get(host.len() - self.host.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(&self.host))
        } else {
            host.eq_ignore_ascii_case(&self.host)
        };
        host_ok && self.path.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

/// Why a list could not be read: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NoiseError {
    /// The file.
    pub origin: String,
    /// The 1-based line; 0 when the file as a whole is at fault.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for NoiseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.origin, self.message),
            n => write!(f, "{}:{n}: {}", self.origin, self.message),
        }
    }
}

/// A list of noise host patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoiseHosts {
    patterns: Vec<Pattern>,
    /// Where the list came from, for messages (`built-in`, a file name).
    origin: String,
}

fn pattern(line: &str) -> Result<Pattern, String> {
    let (host, path) = match line.find('/') {
        Some(i) => {
            let (host, path) = line.split_at(i);
            (host, Some(path.to_string()))
        }
        None => (line, None),
    };
    let (wildcard, bare) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host),
    };
    if bare.is_empty() {
        return Err(format!("`{line}` names no host"));
    }
    if let Some(bad) = bare
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "`{line}`: `{bad}` is not allowed in a host (patterns are host names, \
             `*.domain` or host/path-prefix)"
        ));
    }
    let host = bare.to_ascii_lowercase();
    Ok(Pattern {
        host: if wildcard { format!(".{host}") } else { host },
        wildcard,
        path,
    })
}

impl NoiseHosts {
    /// The built-in list ([`BUILTIN`]).
    pub fn builtin() -> Self {
        NoiseHosts {
            patterns: BUILTIN
                .iter()
                .filter_map(|(p, _)| pattern(p).ok())
                .collect(),
            origin: "built-in".into(),
        }
    }

    /// Reads a list in the file format (see the module documentation); `origin` names it in
    /// errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, NoiseError> {
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if line == INCLUDE_DEFAULT {
                patterns.extend(NoiseHosts::builtin().patterns);
                continue;
            }
            patterns.push(pattern(line).map_err(|message| NoiseError {
                origin: origin.to_string(),
                line: i + 1,
                message,
            })?);
        }
        Ok(NoiseHosts {
            patterns,
            origin: origin.to_string(),
        })
    }

    /// Reads the list in `path`.
    pub fn load(path: &Path) -> Result<Self, NoiseError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| NoiseError {
            origin: origin.clone(),
            line: 0,
            message: format!("cannot read the noise host list: {e}"),
        })?;
        NoiseHosts::parse(&text, &origin)
    }

    /// True when a request to `host` (as in the URL; any case) with `path` (from the first `/`,
    /// query included or not) is noise.
    pub fn matches(&self, host: &str, path: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(host, path))
    }

    /// Where the list came from (`built-in` or a file name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How many patterns it has.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// True when it has none (an empty file: nothing is noise).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// The user's list: `noise-hosts` in idscope's configuration directory
/// (`$XDG_CONFIG_HOME/idscope` or `~/.config/idscope` on Linux).
pub fn user_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "idscope").map(|d| d.config_dir().join("noise-hosts"))
}

static ACTIVE: OnceLock<Result<Arc<NoiseHosts>, NoiseError>> = OnceLock::new();

/// Makes the list in `path` the one `~noise` uses in this process (`--noise-hosts FILE`).
/// Call it before any filter is parsed; a later call, or one after `~noise` was first used,
/// is refused.
pub fn use_file(path: &Path) -> Result<(), NoiseError> {
    let list = NoiseHosts::load(path)?;
    ACTIVE.set(Ok(Arc::new(list))).map_err(|_| NoiseError {
        origin: path.display().to_string(),
        line: 0,
        message: "a noise host list is already in use".into(),
    })
}

/// The list `~noise` uses: the one given to [`use_file`], else the user's file when it exists,
/// else the built-in one. Read on first use, then kept.
pub fn active() -> Result<Arc<NoiseHosts>, NoiseError> {
    ACTIVE
        .get_or_init(|| match user_file().filter(|p| p.is_file()) {
            Some(path) => NoiseHosts::load(&path).map(Arc::new),
            None => Ok(Arc::new(NoiseHosts::builtin())),
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_wildcards_and_path_prefixes_match_as_documented() {
        let l = NoiseHosts::parse(
            "# comment\n\nUpdate.GoogleAPIs.com\n*.gvt1.com  # downloads\n\
             accounts.google.com/ListAccounts\n",
            "t",
        )
        .unwrap();
        assert_eq!(l.len(), 3);
        assert!(l.matches("update.googleapis.com", "/service/update2/json"));
        assert!(l.matches("UPDATE.googleapis.com", "/"));
        assert!(!l.matches("xupdate.googleapis.com", "/"));
        assert!(l.matches("redirector.gvt1.com", "/edgedl/x"));
        assert!(l.matches("r1---sn-4g5e6nz7.gvt1.com", "/"));
        assert!(!l.matches("gvt1.com", "/"), "*. is below the domain only");
        assert!(!l.matches("evilgvt1.com", "/"));
        assert!(l.matches("accounts.google.com", "/ListAccounts?gpsia=1&json=standard"));
        assert!(
            !l.matches("accounts.google.com", "/o/oauth2/v2/auth"),
            "a sign-in on the same host is not noise"
        );
    }

    #[test]
    fn the_builtin_list_parses_whole_and_default_includes_it() {
        let b = NoiseHosts::builtin();
        assert_eq!(b.len(), BUILTIN.len(), "every built-in pattern is valid");
        for (p, why) in BUILTIN {
            assert!(pattern(p).is_ok(), "{p}");
            assert!(!why.is_empty());
        }
        let l = NoiseHosts::parse("@default\nnoise.example.test\n", "t").unwrap();
        assert_eq!(l.len(), BUILTIN.len() + 1);
        assert!(l.matches("noise.example.test", "/") && l.matches("update.googleapis.com", "/"));
        let only = NoiseHosts::parse("noise.example.test\n", "t").unwrap();
        assert!(
            !only.matches("update.googleapis.com", "/"),
            "a file replaces"
        );
        assert!(NoiseHosts::parse("# nothing\n", "t").unwrap().is_empty());
    }

    #[test]
    fn a_bad_line_is_refused_with_its_file_and_line() {
        let e = NoiseHosts::parse("ok.test\n\nhttps://bad.test/\n", "noise.txt").unwrap_err();
        assert_eq!((e.origin.as_str(), e.line), ("noise.txt", 3));
        assert!(e.message.contains("`:` is not allowed"), "{e}");
        assert!(e.to_string().starts_with("noise.txt:3: "), "{e}");
        let e = NoiseHosts::parse("*.\n", "f").unwrap_err();
        assert!(e.message.contains("names no host"), "{e}");
        let e = NoiseHosts::load(Path::new("/nonexistent/noise")).unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/noise") && e.message.contains("cannot read"),
            "{e}"
        );
    }
}
