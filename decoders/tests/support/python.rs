//! The Python the interop tests run (`IDSCOPE_PYTHON`, else `python3`), when it can import the
//! module they need. Missing, the test fails, unless `IDSCOPE_SKIP_INTEROP` is set: then it
//! prints a `SKIPPED` line and passes.

/// The Python to run, or `None` when the test is to be skipped; `package` is what to install.
pub fn python_with(module: &str, package: &str) -> Option<String> {
    let python = std::env::var("IDSCOPE_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = std::process::Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    if std::env::var_os("IDSCOPE_SKIP_INTEROP").is_some() {
        println!("SKIPPED: {python} cannot import {module}; IDSCOPE_SKIP_INTEROP is set");
        return None;
    }
    panic!(
        "{python} cannot import {module}: `pip install {package}`, or set IDSCOPE_SKIP_INTEROP=1 \
         to skip this interop test"
    );
}
