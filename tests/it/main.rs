//! The single integration-test binary (ripgrep style), one module per area: command-line
//! behaviour, capture files, analysis end to end, redaction. Unit tests live beside the code they
//! test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capture;
mod cli;
mod federated;
mod fixture;
mod interop_fixture;
mod origin;
mod proxy;
mod redact;
mod reliability;
mod secrets;
mod util;
