//! Helpers for Ferrite's end-to-end tests: run a guest through
//! `ferrite-machine` (as a library, no subprocess) with the console
//! captured, and check its exit status and output.
#![warn(missing_docs)]

use std::time::Duration;

use ferrite_machine::{Machine, MachineConfig, RunLimits, RunOutcome};

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

/// Runs `config` with a captured console under a console script of
/// `(text to wait for, text to type then)` pairs (an empty text types
/// nothing), through the suite runner's script engine, until the guest
/// stops or a budget runs out. Returns how it ended and everything it
/// printed, or, if a text never appeared, which one with the output.
pub fn run_session(
    config: MachineConfig,
    steps: &[(&str, &str)],
    max_insns: u64,
    timeout: Duration,
) -> Result<(RunOutcome, String), String> {
    use ferrite_suite::script::{self, Pattern, Step};
    let script: Vec<Step> = steps
        .iter()
        .flat_map(|(wait, send)| {
            let expect = Step::Expect(Pattern::Text(wait.as_bytes().to_vec()));
            let send = (!send.is_empty()).then(|| Step::Send(send.as_bytes().to_vec()));
            std::iter::once(expect).chain(send)
        })
        .collect();
    let mut machine =
        Machine::new(config.with_captured_serial(b"")).map_err(|e| format!("board: {e}"))?;
    let limits = RunLimits {
        max_insns: Some(max_insns),
        timeout: Some(timeout),
    };
    let run = script::run(&mut machine, &script, &limits, None).map_err(|e| e.to_string())?;
    // What the display's back-ends write at exit (`png:`), as `ferrite run` does.
    machine.finish().map_err(|e| format!("display: {e}"))?;
    let output = String::from_utf8_lossy(&machine.captured_output()).into_owned();
    match script.get(run.steps_done) {
        Some(step) => Err(format!(
            "{} never matched ({:?} after {} instructions); output:\n{output}",
            step.describe(),
            run.outcome,
            machine.stats().insns
        )),
        None => Ok((run.outcome, output)),
    }
}
