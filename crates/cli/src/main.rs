//! The `ferrite` command-line front end.
//!
//! Parses arguments with clap, hands the work to the library crates and turns
//! their typed errors into one clear line on stderr and a non-zero exit.

use clap::Parser;

/// Ferrite: a pure-software RISC-V system emulator.
#[derive(Debug, Parser)]
#[command(name = "ferrite", version, about, long_about = None)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
