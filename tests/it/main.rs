//! idscope's integration tests: one test binary (ripgrep style), one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capture;
