//! What the CLI tests share: the built binary, the workspace, and running
//! the binary with no input.
#![allow(dead_code)] // Each test file uses its own part of this.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `ferrite` binary under test.
pub const FERRITE: &str = env!("CARGO_BIN_EXE_ferrite");

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/cli sits two levels below the workspace")
        .to_path_buf()
}

/// Runs `ferrite ARGS` with stdin closed and captures everything.
pub fn ferrite(args: &[&str]) -> Output {
    Command::new(FERRITE)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ferrite runs")
}

/// Its standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Its standard output, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
