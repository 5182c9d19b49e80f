//! The single integration-test binary (ripgrep style): command-line behaviour, capture files,
//! analysis end to end. Unit tests live beside the code they test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod util;
