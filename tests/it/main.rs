//! The single integration-test binary (ripgrep style), one module per area: command-line
//! behaviour, capture files, analysis end to end, redaction. Unit tests live beside the code they
//! test.
//! behaviour, capture files, analysis end to end, the terminal UI (keys, frames, a real
//! pseudo-terminal). Unit tests live beside the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod analyze_filter;
mod capture;
mod cli;
mod demo;
mod federated;
mod fixture;
mod interop_fixture;
mod origin;
mod proxy;
mod redact;
mod reliability;
mod replay;
mod secrets;
mod support;
mod tui_fixture;
mod tui_frames;
mod tui_keys;
mod tui_pty;
mod util;
