//! `idscope view FILE`: the terminal UI over a capture file. Checks what can be checked before
//! the terminal is taken over (the file opens, the filter parses, there is a terminal), sets up
//! file logging and runs [`crate::tui::run`] on a small tokio runtime.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;

use crate::cli::ViewArgs;
use crate::tui::app::Meta;
use crate::tui::{App, Config, FlowSource};

/// Runs `idscope view`.
pub fn run(args: &ViewArgs) -> anyhow::Result<ExitCode> {
    // Before any filter is parsed: `~noise` reads the list in use when it is first named.
    if let Some(path) = &args.noise_hosts {
        crate::filter::noise::use_file(path).context("--noise-hosts")?;
    }
    let filter = match &args.filter {
        Some(text) => {
            Some(crate::filter::parse(text).with_context(|| format!("--filter {text:?}"))?)
        }
        None => None,
    };
    // Fail before the screen is taken over: a missing or non-capture file, or a trust or key
    // file that cannot be read, is a plain error.
    drop(crate::capture::open(&args.file)?);
    let trust = super::load_user_trust(&args.decode)?;
    anyhow::ensure!(
        std::io::stdout().is_terminal() && std::io::stdin().is_terminal(),
        "idscope view needs a terminal; use `idscope analyze {}` for a text report",
        args.file.display()
    );
    let log = args
        .log
        .clone()
        .unwrap_or_else(crate::tui::default_log_path);
    let _guard = crate::tui::init_file_logging(&log)?;
    let app = App::new(Config {
        meta: Meta {
            source: args.file.display().to_string(),
            ..Meta::default()
        },
        max_flows: args.max_flows,
        filter,
        now: SystemTime::now(),
        loading: true,
    })
    .trusting(trust)
    .revealing(args.decode.show_secrets);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(crate::tui::run(FlowSource::File(args.file.clone()), app))?;
    Ok(ExitCode::SUCCESS)
}
