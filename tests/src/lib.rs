//! Helpers for Ferrite's end-to-end tests: run a guest through
//! `ferrite-machine` (as a library, no subprocess) with the console
//! captured, and check its exit status and output.
#![warn(missing_docs)]

use std::time::{Duration, Instant};

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

/// Instructions run between two looks at the output in a [`Session`].
pub const SESSION_STEP: u64 = 2_000_000;

/// A scripted console session, as a person would type: wait for a text,
/// then send a line. Input is queued only once the awaited text has been
/// printed, so a guest that drains its input while busy (U-Boot's `ctrlc()`
/// checks) sees what a person would type, not a burst.
pub struct Session {
    machine: Machine,
    /// Output before this offset has been matched already.
    seen: usize,
    max_insns: u64,
    deadline: Instant,
}

impl Session {
    /// Builds `config` with a captured console; the session may run
    /// `max_insns` instructions and `timeout` of host time in total.
    pub fn new(
        config: MachineConfig,
        max_insns: u64,
        timeout: Duration,
    ) -> Result<Self, ferrite_machine::MachineError> {
        Ok(Self {
            machine: Machine::new(config.with_captured_serial(b""))?,
            seen: 0,
            max_insns,
            deadline: Instant::now() + timeout,
        })
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.machine.captured_output()).into_owned()
    }

    /// Instructions retired so far.
    pub fn insns(&self) -> u64 {
        self.machine.stats().insns
    }

    /// Runs until `text` appears in the output after the last match.
    /// `Err` (with the reason) if the guest stops first or a budget runs out.
    pub fn expect(&mut self, text: &str) -> Result<(), String> {
        loop {
            let out = self.machine.captured_output();
            let fresh = String::from_utf8_lossy(&out[self.seen.min(out.len())..]).into_owned();
            if let Some(at) = fresh.find(text) {
                // `fresh` may differ in length from the raw bytes only when
                // they are not UTF-8; count in raw bytes where it matters.
                self.seen += fresh[..at + text.len()].len();
                return Ok(());
            }
            let insns = self.insns();
            if insns >= self.max_insns || Instant::now() >= self.deadline {
                return Err(format!(
                    "gave up waiting for {text:?} after {insns} instructions"
                ));
            }
            let limits = RunLimits {
                max_insns: Some((insns + SESSION_STEP).min(self.max_insns)),
                timeout: Some(self.deadline.saturating_duration_since(Instant::now())),
            };
            match self.machine.run(&limits) {
                Ok(RunOutcome::InstructionLimit) => {}
                Ok(other) => {
                    let out = self.output();
                    if out[self.seen.min(out.len())..].contains(text) {
                        continue;
                    }
                    return Err(format!(
                        "guest stopped ({other:?}) before printing {text:?}"
                    ));
                }
                Err(e) => return Err(format!("run failed: {e}")),
            }
        }
    }

    /// Queues `bytes` as console input.
    pub fn send(&mut self, bytes: &[u8]) {
        self.machine.push_console_input(bytes);
    }

    /// Runs until the guest stops; returns how.
    pub fn finish(&mut self) -> Result<RunOutcome, String> {
        let limits = RunLimits {
            max_insns: Some(self.max_insns),
            timeout: Some(self.deadline.saturating_duration_since(Instant::now())),
        };
        self.machine.run(&limits).map_err(|e| e.to_string())
    }
}
