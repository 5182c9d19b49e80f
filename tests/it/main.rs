//! The single integration-test binary (ripgrep style), one module per area: command-line
//! behaviour, capture files, analysis end to end, redaction, the proxy, the reference server and
//! replay, the terminal UI (keys, frames, a real pseudo-terminal), a real browser through the
//! recorder, the real-world corpus against its sources' verdicts. `support` holds the guards
//! that stop a reference server or child process when a test fails. Unit tests live beside the
//! code they test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent;
mod agent_mtls;
mod analyze_filter;
mod analyze_story;
mod browser;
mod capture;
mod cli;
mod demo;
mod federated;
mod fixture;
mod interop_fixture;
mod jwe;
mod keys;
mod layers;
mod msal_cert;
mod origin;
mod proxy;
mod prt_ec;
mod prt_keys;
mod realworld;
mod redact;
mod reliability;
mod replay;
mod report;
mod report_browser;
mod saz;
mod seamless_sso;
mod secrets;
mod setup_mistakes;
mod summary;
mod support;
mod trust;
mod tui_fixture;
mod tui_frames;
mod tui_keys;
mod tui_noise;
mod tui_pty;
mod tui_summary;
mod util;
