//! The `idscope` binary: parse the command line, run the command from the library, print the
//! whole error chain and map the result to an exit code (0 success, 1 ran but found problems,
//! 2 usage or input error). A closed stdout (`idscope analyze … | head`) counts as success.

use std::process::ExitCode;

use clap::Parser;
use idscope::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(file) = &cli.password_file {
        idscope::capture::set_password_file(file.clone());
    }
    match idscope::commands::run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idscope: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
