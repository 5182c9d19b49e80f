//! Exporting flows from the UI: the shown or marked flows written as a HAR file with
//! [`HarWriter`] (crash-safe layout, mode 0600, never overwriting). Redacted export is the
//! redaction module's job (`capture::redact`, security.md); until that module is part of the
//! build, asking for it is a clear error rather than a silently unredacted file.

use std::path::Path;

use anyhow::Context as _;

use crate::capture::HarWriter;
use crate::flow::Flow;

/// Writes `flows` to `path` as HAR and returns how many were written; with `redacted`, refuses
/// (redaction is not available in this build). Never overwrites an existing file.
pub fn export_flows<'a>(
    flows: impl IntoIterator<Item = &'a Flow>,
    path: &Path,
    redacted: bool,
) -> anyhow::Result<usize> {
    if redacted {
        anyhow::bail!("redaction not available in this build");
    }
    let mut w = HarWriter::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut n = 0;
    for f in flows {
        w.write_flow(f)
            .with_context(|| format!("writing {} to {}", f.id, path.display()))?;
        n += 1;
    }
    w.finish()
        .with_context(|| format!("finishing {}", path.display()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::testing::{flow, request, response};

    #[test]
    fn exported_har_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.har");
        let flows = [
            flow(
                3,
                request("GET", "https://a.example/"),
                response(200, "text/plain", b"a"),
            ),
            flow(
                7,
                request("POST", "https://b.example/x"),
                response(201, "text/plain", b"b"),
            ),
        ];
        assert_eq!(export_flows(&flows, &path, false).unwrap(), 2);
        let back = crate::capture::read_all(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].request.url, "https://b.example/x");
        let again = export_flows(&flows, &path, false).unwrap_err();
        assert!(format!("{again:#}").contains("creating"), "{again:#}");
    }

    #[test]
    fn redacted_export_is_refused_until_redaction_is_built_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.har");
        let e = export_flows(&[], &path, true).unwrap_err();
        assert_eq!(e.to_string(), "redaction not available in this build");
        assert!(!path.exists());
    }
}
