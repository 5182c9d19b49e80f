//! The decoder fixtures the golden and robustness tests walk: every `.http` file under
//! `tests/fixtures`, sorted.

use std::path::{Path, PathBuf};

/// Every `.http` file under `decoders/tests/fixtures`, in path order.
pub fn http_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "http") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(
        !out.is_empty(),
        "no .http fixtures under decoders/tests/fixtures"
    );
    out
}
