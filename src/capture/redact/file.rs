//! `redact_file`: a whole capture redacted into a new HAR. The output is written to a temporary
//! file next to it (mode 0600) and renamed into place only when every flow passed the residual
//! detector, so a refused export leaves nothing behind; `log._redaction` records the policy
//! version and what fired.

use std::path::{Path, PathBuf};

use serde_json::Map;

use super::{Fingerprinter, Policy, RedactError, RedactionReport, redact_flow};
use crate::capture::{self, HarWriter};
use crate::flow::Flow;

/// Options of [`redact_file`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedactOptions {
    /// The policy (PII masking, limits).
    pub policy: Policy,
    /// Replace OUT if it exists.
    pub force: bool,
}

/// Removes the temporary file unless the export succeeded (also used by the HTML report).
pub(crate) struct TempFile {
    /// The temporary file.
    pub(crate) path: PathBuf,
    /// Set once it was renamed into place.
    pub(crate) keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Redacts every flow of the capture `input` (any format idscope reads) into an idscope HAR
/// at `output`, under a fresh random fingerprint key. Nothing is written when a flow cannot be
/// read ([`RedactError::Input`]) or the residual detector refuses a flow
/// ([`RedactError::Residual`]); an existing `output` is only replaced with `opts.force`.
pub fn redact_file(
    input: &Path,
    output: &Path,
    opts: &RedactOptions,
) -> Result<RedactionReport, RedactError> {
    if !opts.force && output.exists() {
        return Err(RedactError::Exists(output.to_path_buf()));
    }
    let reader = capture::open(input)?;
    redact_flows(reader.map(|f| f.map_err(RedactError::from)), output, opts)
}

/// Redacts `flows` into an idscope HAR at `output` under a fresh random fingerprint key, with the
/// same guarantees as [`redact_file`]: written to a temporary file beside `output` and renamed
/// only when every flow passed the residual detector. Used by `idscope redact`, `convert
/// --redact` and the TUI's redacted export.
pub fn redact_flows(
    flows: impl Iterator<Item = Result<Flow, RedactError>>,
    output: &Path,
    opts: &RedactOptions,
) -> Result<RedactionReport, RedactError> {
    if !opts.force && output.exists() {
        return Err(RedactError::Exists(output.to_path_buf()));
    }
    let keyed = Fingerprinter::random()?;
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "redacted.har".into());
    let tmp = TempFile {
        path: output.with_file_name(format!(".{name}.{}.redact-tmp", std::process::id())),
        keep: false,
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RedactError::Io { path, source }
    };
    let mut writer = HarWriter::create_or_overwrite(&tmp.path).map_err(io(output))?;
    let mut report = RedactionReport::default();
    for flow in flows {
        let flow = flow?;
        let red = redact_flow(&flow, &opts.policy, &keyed, &mut report)?;
        writer.write_flow(&red).map_err(io(output))?;
    }
    let mut fields = Map::new();
    fields.insert("_redaction".into(), report.to_json());
    writer.finish_with(&fields).map_err(io(output))?;
    if !opts.force && output.exists() {
        return Err(RedactError::Exists(output.to_path_buf()));
    }
    std::fs::rename(&tmp.path, output).map_err(io(output))?;
    let mut tmp = tmp;
    tmp.keep = true;
    Ok(report)
}
