//! The `ferrite` command-line front end.
//!
//! Parses arguments with clap, hands the work to the library crates and turns
//! their typed errors into one clear line on stderr and a non-zero exit.
//! Exit statuses are listed in `docs/usage.md` ("Exit status") and in
//! [`ferrite_machine::exit_status`].

mod debugger;
mod logging;
mod mtree_cmd;
mod qemu_args;
mod run_cmd;
mod suite_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Ferrite: a pure-software RISC-V system emulator.
#[derive(Debug, Parser)]
#[command(name = "ferrite", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot a board and run a guest until it exits.
    Run(Box<run_cmd::RunArgs>),
    /// Run a suite of guests (manifests, directories of ELF files, ELF
    /// files) in parallel and report.
    Suite(Box<suite_cmd::SuiteArgs>),
    /// Print a board's memory tree, flat views or dispatch tables.
    Mtree(mtree_cmd::MtreeArgs),
}

/// Exit status for host-side errors (bad options, unreadable files, broken
/// images, impossible configurations). clap uses the same status for
/// usage errors.
const HOST_ERROR_STATUS: u8 = ferrite_machine::exit_status::HOST_ERROR;

fn main() -> ExitCode {
    let args = match qemu_args::rewrite(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("ferrite: {err}");
            return ExitCode::from(HOST_ERROR_STATUS);
        }
    };
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(*args),
        Command::Suite(args) => suite_cmd::run(*args),
        Command::Mtree(args) => mtree_cmd::run(args),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            eprintln!("ferrite: {}", one_line(&err));
            ExitCode::from(HOST_ERROR_STATUS)
        }
    }
}

/// Writes `text` to standard output, flushed; a closed pipe or a full disk
/// is an error with its reason (`print!` would panic).
pub(crate) fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::anyhow!("cannot write to standard output: {e}"))
}

/// The error and its causes on one line, each cause after a colon, skipping
/// a cause whose text the message already contains (typed errors often
/// include their source's text).
fn one_line(err: &anyhow::Error) -> String {
    let mut msg = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
    }
    msg.replace('\n', " ")
}
