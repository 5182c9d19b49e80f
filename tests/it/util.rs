//! Helpers shared by the integration tests: running the real binary, paths to the corpus.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/corpus/har-peers` beside the repository: the HAR files written by other tools. The
/// nearest ancestor that has it wins, so the tests also run from a git worktree at another depth.
pub fn corpus() -> PathBuf {
    root()
        .ancestors()
        .map(|a| a.join("shared/corpus/har-peers"))
        .find(|p| p.is_dir())
        .expect("../shared/corpus/har-peers next to the repository")
}

/// Runs `idscope ARGS` with optional standard input.
pub fn idscope(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idscope"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn idscope");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
