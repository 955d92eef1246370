#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = irongate::cli::Cli::parse();
    match irongate::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the whole chain, no backtrace.
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("irongate: {message}");
            ExitCode::FAILURE
        }
    }
}
