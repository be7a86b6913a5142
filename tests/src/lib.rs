//! Helpers for Ferrite's end-to-end tests: run a guest through
//! `ferrite-machine` (as a library, no subprocess) with the console
//! captured, and check its exit status and output.
#![warn(missing_docs)]

use std::path::Path;
use std::time::Duration;

use ferrite_machine::{BoardKind, ImageSource, Machine, MachineConfig, RunLimits, RunOutcome};

/// One line of `firmware/tests.txt`.
#[derive(Debug, Clone, Copy)]
pub struct ManifestTest {
    /// Test name (`<program>_<machine>`).
    pub name: &'static str,
    /// Absolute path of the ELF.
    pub elf: &'static str,
    /// `virt` or `spike`.
    pub machine: &'static str,
    /// Number of harts.
    pub smp: u32,
    /// Expected exit status.
    pub exit: u32,
    /// The console output must contain a line starting with this.
    pub expect: &'static str,
}

/// Instruction budget of one firmware test: far above what any test
/// needs (the largest runs a few million instructions), so hitting it means
/// the guest hangs.
pub const FIRMWARE_MAX_INSNS: u64 = 2_000_000_000;

/// Host-time budget of one firmware test.
pub const FIRMWARE_TIMEOUT: Duration = Duration::from_secs(120);

/// The result of running a guest with its console captured.
#[derive(Debug)]
pub struct GuestRun {
    /// How the run ended.
    pub outcome: RunOutcome,
    /// Everything the guest printed.
    pub output: String,
    /// Instructions retired.
    pub insns: u64,
}

/// Runs `config` with the console captured and `input` queued for the
/// guest, within the given limits.
pub fn run_captured(
    mut config: MachineConfig,
    input: &[u8],
    limits: RunLimits,
) -> Result<GuestRun, ferrite_machine::MachineError> {
    config = config.with_captured_serial(input);
    let mut machine = Machine::new(config)?;
    let outcome = machine.run(&limits)?;
    Ok(GuestRun {
        outcome,
        output: String::from_utf8_lossy(&machine.captured_output()).into_owned(),
        insns: machine.stats().insns,
    })
}

/// Runs one manifest test and panics, naming the test, if the exit status
/// or the output is not what the manifest says.
pub fn run_manifest_test(t: &ManifestTest) {
    let board: BoardKind = t
        .machine
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    assert!(
        Path::new(t.elf).exists(),
        "{}: {} is missing",
        t.name,
        t.elf
    );
    let mut config = MachineConfig::new(board).with_kernel(ImageSource::file(t.elf));
    config.harts = t.smp;
    let run = run_captured(
        config,
        b"",
        RunLimits {
            max_insns: Some(FIRMWARE_MAX_INSNS),
            timeout: Some(FIRMWARE_TIMEOUT),
        },
    )
    .unwrap_or_else(|e| panic!("{}: cannot build the board: {e}", t.name));
    let has_line = run
        .output
        .lines()
        .any(|l| l.trim_end_matches('\r').starts_with(t.expect));
    assert!(
        run.outcome == RunOutcome::Exited(t.exit) && has_line,
        "{}: expected exit {} and a line starting with {:?}; got {:?} after {} instructions, output:\n{}",
        t.name,
        t.exit,
        t.expect,
        run.outcome,
        run.insns,
        run.output
    );
}
