//! idscope: an inspection proxy for identity and directory-sync traffic.
//!
//! This library holds everything the `idscope` binary does: the flow model ([`flow`]), capture
//! files ([`capture`]), cross-flow analysis ([`analysis`]), filter expressions ([`filter`]), the
//! session flow store ([`session`]), the intercepting proxy ([`proxy`]), the live event pipeline
//! that pairs, records, prints and shows the proxy's flows ([`live`]), replay of single flows
//! and whole sequences ([`replay`]), flow and token diffs ([`diff`]), the terminal UI ([`tui`]),
//! the reference server ([`fixture`]), the scripted scenario client ([`scenario`]), the names,
//! accounts and PRT crypto those two share ([`testbed`]) and the command implementations
//! ([`commands`]). Protocol decoding lives in the pure
//! `idscope-decoders` crate.
//!
//! The memory allocator is mimalloc, set here rather than in `main.rs` so that the benchmarks,
//! tests and examples that link this library run on the allocator the binary runs on (the
//! memory-per-flow benchmark measures it). The proxy allocates each flow on a connection's
//! thread and frees it on the recorder's, a hand-over that glibc's malloc pays for in arena
//! locks and consolidation (figures in `benches/README.md`).
// These docs are for the people who work on idscope (`cargo doc --document-private-items`):
// they link to private modules and limits on purpose.
#![allow(rustdoc::private_intra_doc_links)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod analysis;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod diff;
pub mod filter;
pub mod fit;
pub mod fixture;
pub mod flow;
pub mod live;
pub mod proxy;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod session;
pub mod testbed;
pub mod tui;
