//! Where the password of a password-protected SAZ archive comes from: `--password-file FILE`
//! (its first line), else `IDSCOPE_SAZ_PASSWORD`, else, when stdin is a terminal, a prompt
//! without echo. Never a command-line argument.
//!
//! The password is asked at most once per archive and process (commands open a capture more than
//! once, and the TUI's loader reopens it on a thread), so it is cached by path. It is never
//! logged or put in an error message, and the memory holding it is wiped when dropped.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use zeroize::Zeroizing;

use super::CaptureErrorKind;

/// The environment variable holding a SAZ password.
pub const PASSWORD_ENV: &str = "IDSCOPE_SAZ_PASSWORD";

/// A password, wiped from memory when dropped.
pub(crate) type Password = Zeroizing<String>;

/// The `--password-file` given on the command line, set once at start.
static PASSWORD_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Passwords already obtained, by archive path.
static CACHE: OnceLock<Mutex<HashMap<PathBuf, Password>>> = OnceLock::new();

/// Makes `--password-file FILE` the first password source for every archive this process opens.
/// Only the first call counts.
pub fn set_password_file(path: PathBuf) {
    let _ = PASSWORD_FILE.set(path);
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Password>> {
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn key(archive: &Path) -> PathBuf {
    std::fs::canonicalize(archive).unwrap_or_else(|_| archive.to_path_buf())
}

/// The password for `archive`, from the first source that has one.
pub(crate) fn password_for(archive: &Path) -> Result<Password, CaptureErrorKind> {
    let key = key(archive);
    let mut cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(p) = cache.get(&key) {
        return Ok(p.clone());
    }
    let p = obtain(archive)?;
    cache.insert(key, p.clone());
    Ok(p)
}

/// Forgets a password that turned out to be wrong, so a later open asks again.
pub(crate) fn forget(archive: &Path) {
    let mut cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
    cache.remove(&key(archive));
}

fn obtain(archive: &Path) -> Result<Password, CaptureErrorKind> {
    if let Some(file) = PASSWORD_FILE.get() {
        return from_file(file);
    }
    if let Some(v) = std::env::var_os(PASSWORD_ENV) {
        let v = Zeroizing::new(v.into_string().map_err(|_| CaptureErrorKind::Password {
            message: format!("{PASSWORD_ENV} is not valid UTF-8"),
        })?);
        return Ok(v);
    }
    if std::io::stdin().is_terminal() {
        let prompt = format!("password for {}: ", archive.display());
        return rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| CaptureErrorKind::Password {
                message: format!("reading the password from the terminal: {e}"),
            });
    }
    Err(CaptureErrorKind::PasswordRequired)
}

/// The first line of `file`, without its line ending.
fn from_file(file: &Path) -> Result<Password, CaptureErrorKind> {
    let text = Zeroizing::new(std::fs::read(file).map_err(|e| CaptureErrorKind::Password {
        message: format!("reading --password-file {}: {e}", file.display()),
    })?);
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).map_err(|_| CaptureErrorKind::Password {
        message: format!("--password-file {} is not valid UTF-8", file.display()),
    })?;
    Ok(Zeroizing::new(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_gives_its_first_line_without_the_line_ending() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret pass\r\nsecond line\n").unwrap();
        assert_eq!(from_file(&p).unwrap().as_str(), "s3cret pass");
        std::fs::write(&p, "only").unwrap();
        assert_eq!(from_file(&p).unwrap().as_str(), "only");
        let e = from_file(&dir.path().join("absent")).unwrap_err();
        assert!(e.to_string().contains("--password-file"), "{e}");
    }
}
