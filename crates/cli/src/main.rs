//! `wardside`: the command line. A thin shell: parse, unlock, call the store, print. Errors are
//! converted once (error.rs) into a one-line message on stderr and a non-zero exit.

mod args;
mod commands;
mod error;
mod export;
mod output;
mod passphrase;
mod report;
mod sync;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic must not print a backtrace or a payload that might hold a record's content.
    std::panic::set_hook(Box::new(|info| {
        // Output piped into `head` and closed early: stop quietly, as other Unix tools do
        // (the workspace forbids the unsafe code that would restore SIGPIPE's default).
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        eprintln!(
            "wardside: error: internal error (details withheld to protect confidential data); please report it with the command you ran"
        );
    }));
    // Warnings (never content: ids and counts only) on stderr; WARDSIDE_LOG adjusts, e.g. "info".
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WARDSIDE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return error::usage(e),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
