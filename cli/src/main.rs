//! `govstore`: the command line for publishers and operators of a govstore registry.
//!
//! Output is plain text without colour. Results go to stdout; errors go to stderr as
//! `error: ...` lines, each followed by a `hint: ...` line where there is a next step,
//! and the exit code is 1.

mod commands;
mod diagnostic;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "govstore",
    version,
    about = "Publish, find and install digital-government building blocks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with a package manifest (govstore.toml)
    #[command(subcommand)]
    Manifest(commands::manifest::ManifestCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Manifest(cmd) => commands::manifest::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{}", diagnostic::render(&err));
            ExitCode::FAILURE
        }
    }
}
