//! idscope: an inspection proxy for identity and directory-sync traffic.
//!
//! This library holds everything the `idscope` binary does: the flow model ([`flow`]), capture
//! files ([`capture`]), cross-flow analysis ([`analysis`]), the intercepting proxy ([`proxy`]) and the command implementations
//! ([`commands`]). Protocol decoding lives in the pure `idscope-decoders` crate.
//! files ([`capture`]), cross-flow analysis ([`analysis`]) and the command implementations
//! ([`commands`]), the reference server ([`fixture`]) and the scripted scenario client
//! ([`scenario`]). Protocol decoding lives in the pure `idscope-decoders` crate.
//! files ([`capture`]), cross-flow analysis ([`analysis`]), filter expressions ([`filter`]), the
//! session flow store ([`session`]), replay of single flows and whole sequences ([`replay`]), flow and token diffs ([`diff`]), the terminal UI ([`tui`]) and
//! the command implementations ([`commands`]). Protocol decoding lives in the pure `idscope-decoders` crate.

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod diff;
pub mod filter;
pub mod fixture;
pub mod flow;
pub mod proxy;
pub mod replay;
pub mod scenario;
pub mod session;
pub mod tui;
