//! The capture floor: idscope's proxy with capture on, run by the real headless event loop of
//! `idscope proxy`/`idscope record` (`commands::proxy::serve`, which runs the live pipeline's
//! `live::run_headless`), but with no recording and no printing (`Output::Quiet`, no `-w`).
//! Every flow is still captured on the connection threads
//! (headers and bodies copied, SHA-256, timings, the `Request` and final event sent) and paired
//! with its request on the consumer thread; it is then dropped instead of being decoded and
//! written. `benches/proxy_bench.py` measures it next to `idscope proxy --passthrough` and the full
//! capture: the ratio floor / passthrough is the best capture/passthrough ratio that any decoder and
//! any recording format could reach on top of this engine. Measures nothing itself.
//!
//!     cargo run --release --example capture_floor -- \
//!         --listen 127.0.0.1:18092 --ca-dir /tmp/ca --upstream-ca /tmp/origin-ca.pem
//!
//! It takes the options of `idscope proxy` and stops on SIGINT/SIGTERM like it.

use std::process::ExitCode;

use idscope::cli::ProxyOpts;
use idscope::commands::proxy::{Output, serve};

/// idscope's proxy with capture on and nothing done with the flows.
#[derive(clap::Parser)]
struct Args {
    #[command(flatten)]
    opts: ProxyOpts,
}

fn main() -> ExitCode {
    let args = <Args as clap::Parser>::parse();
    if args.opts.passthrough {
        eprintln!(
            "capture_floor: --passthrough captures nothing; run `idscope proxy --passthrough`"
        );
        return ExitCode::from(2);
    }
    let run = || -> anyhow::Result<ExitCode> {
        let rt = tokio::runtime::Runtime::new()?;
        rt.block_on(serve(&args.opts, None, false, Output::Quiet))
    };
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("capture_floor: {e:#}");
            ExitCode::FAILURE
        }
    }
}
