//! The noise host list read from where people keep it: `idscope view --noise-hosts FILE` in a
//! pseudo-terminal (N hides what the file names, the built-in list included with `@default`), and
//! the user's `~/.config/idscope/noise-hosts` (here under `XDG_CONFIG_HOME`) for `analyze
//! --filter`, a bad line in it refused with its file and line.

use std::process::{Command, Output, Stdio};

use crate::tui_fixture::{browser_flows, write_capture};
use crate::tui_pty::ViewPty;
use crate::util::{stderr, stdout};

/// `idscope ARGS` with `XDG_CONFIG_HOME` set to `config`.
fn idscope_with_config(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idscope"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", config)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn view_hides_the_hosts_of_the_noise_hosts_file_with_capital_n() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("browser.har");
    write_capture(&har, &browser_flows());
    let noise = dir.path().join("my-noise");
    std::fs::write(
        &noise,
        "# the browser's own, and the lab's ADFS\n@default\nsts.contoso.test\n",
    )
    .unwrap();
    let log = dir.path().join("tui.log");

    // An empty configuration directory: the file given on the command line is the list.
    let config = dir.path().join("config");
    let mut view = ViewPty::start(
        &[
            har.to_str().unwrap(),
            "--noise-hosts",
            noise.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
        dir.path(),
        &[("XDG_CONFIG_HOME", &config)],
    );
    let screen = &view.screen;
    let all = screen.wait_for("8/8 flows");
    assert!(all.contains("update.googleapis.com"), "{all}");
    assert!(all.contains("sts.contoso.test"), "{all}");
    view.send("N");
    let quiet = view.screen.wait_for("5/8 flows");
    assert!(quiet.contains("noise hidden"), "{quiet}");
    assert!(!quiet.contains("update.googleapis.com"), "{quiet}");
    assert!(!quiet.contains("redirector.gvt1.com"), "{quiet}");
    assert!(!quiet.contains("sts.contoso.test"), "{quiet}");
    assert!(quiet.contains("…/oauth2/token"), "{quiet}");
    view.send("N");
    let again = view.screen.wait_for("8/8 flows");
    assert!(again.contains("update.googleapis.com"), "{again}");
    view.send("q");
    assert!(view.exit_status().success());
    view.close();
}

#[test]
fn analyze_filters_with_the_users_noise_hosts_file_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("browser.har");
    write_capture(&har, &browser_flows());
    let har = har.to_str().unwrap();

    // No file of the user's: the built-in list.
    let config = dir.path().join("none");
    let out = idscope_with_config(&config, &["analyze", "--filter", "!~noise", har]);
    let text = stdout(&out);
    assert!(!text.contains("update.googleapis.com"), "{text}");
    assert!(!text.contains("redirector.gvt1.com"), "{text}");
    assert!(text.contains("provisioningservice.svc"), "{text}");

    // The user's file replaces the built-in list.
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("idscope")).unwrap();
    std::fs::write(
        config.join("idscope/noise-hosts"),
        "# token requests to the lab tenant only\n\
         login.microsoftonline.com/4d3c2b1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d/\n",
    )
    .unwrap();
    let out = idscope_with_config(&config, &["analyze", "--filter", "~noise", har]);
    let text = stdout(&out);
    assert!(
        text.contains("client credentials (secret) token request"),
        "{text}"
    );
    assert!(text.contains("auth code (PKCE) token request"), "{text}");
    assert!(!text.contains("update.googleapis.com"), "{text}");
    assert!(!text.contains("/common/oauth2/v2.0/authorize"), "{text}");

    // A line that is no host pattern: a usage error naming the file and the line.
    std::fs::write(
        config.join("idscope/noise-hosts"),
        "ok.example.test\nhttps://bad.example.test/\n",
    )
    .unwrap();
    let out = idscope_with_config(&config, &["analyze", "--filter", "!~noise", har]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("idscope/noise-hosts:2: "), "{err}");
    assert!(err.contains("`:` is not allowed in a host"), "{err}");
}
