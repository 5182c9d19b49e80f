//! The fixed parts of the page: the head with its Content-Security-Policy, the banner, the
//! `#meta` block, and the closing script.

use std::io::Write;

use super::escape;
use super::script::{csp_hash, json_for_script};

/// The page's script, included verbatim (its hash is in the CSP).
pub const SCRIPT: &str = include_str!("assets/report.js");
/// The page's style, included verbatim (its hash is in the CSP).
pub const STYLE: &str = include_str!("assets/report.css");

/// What the banner and `#meta` say about the report.
#[derive(Debug, Clone)]
pub struct About<'a> {
    /// The capture's file name.
    pub source: &'a str,
    /// When the report was made (RFC 3339).
    pub generated: &'a str,
    /// Built from a redacted copy (false with `--show-secrets`).
    pub redacted: bool,
    /// The `--filter` expression, if any.
    pub filter: Option<&'a str>,
    /// Flows in the capture, when known before they are written.
    pub flows_in_capture: Option<usize>,
}

/// The Content-Security-Policy: nothing but the inline script and style, each by its hash.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; base-uri 'none'; \
         form-action 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    )
}

/// Writes everything before the flows: head, banner, `#app` and `#meta`.
pub fn write_head(out: &mut impl Write, about: &About<'_>) -> std::io::Result<()> {
    let source = escape(about.source);
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>idscope report: {source}</title>\n<style>{STYLE}</style>\n</head><body>\n",
        content_security_policy()
    )?;
    out.write_all(banner(about).as_bytes())?;
    out.write_all(b"<main id=\"app\"></main>\n<script type=\"application/json\" id=\"meta\">")?;
    let meta = serde_json::json!({
        "tool": concat!("idscope ", env!("CARGO_PKG_VERSION")),
        "source": about.source,
        "generated": about.generated,
        "redacted": about.redacted,
        "filter": about.filter,
        "flows_in_capture": about.flows_in_capture,
        "noise_hosts": crate::filter::noise::BUILTIN.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        "kinds": idscope_decoders::Registry::builtin().ids().collect::<Vec<_>>(),
    });
    out.write_all(&json_for_script(&meta))?;
    out.write_all(b"</script>\n")
}

/// The static banner: title, source, time, flow count, filter, and what was done to secrets.
fn banner(about: &About<'_>) -> String {
    let mut facts = vec![
        format!("source <code>{}</code>", escape(about.source)),
        format!("generated {}", escape(about.generated)),
    ];
    if let Some(n) = about.flows_in_capture {
        facts.push(format!(
            "{n} flow{} in the capture",
            if n == 1 { "" } else { "s" }
        ));
    }
    if let Some(f) = about.filter {
        facts.push(format!("filter <code>{}</code>", escape(f)));
    }
    let secrets = if about.redacted {
        "<p class=\"redaction\">Built from a redacted copy: credentials, signature values and \
         encrypted tokens were removed (idscope redact's policy); signature verdicts checked \
         before redaction are listed per flow.</p>"
    } else {
        "<div class=\"warning secrets\" role=\"alert\"><strong>This page contains credentials.\
         </strong> It was made with <code>--show-secrets</code>: passwords, tokens, cookies, keys \
         and signatures are shown as captured. Do not share it, attach it to a ticket or keep it \
         where others can read it.</div>"
    };
    format!(
        "<header id=\"banner\"><h1>idscope report: {}</h1>\n<p class=\"facts\">{}</p>\n{secrets}\
         \n</header>\n",
        escape(about.source),
        facts.join(" · ")
    )
}

/// Writes the closing script and the end of the document.
pub fn write_tail(out: &mut impl Write) -> std::io::Result<()> {
    write!(out, "<script>{SCRIPT}</script>\n</body></html>\n")
}
