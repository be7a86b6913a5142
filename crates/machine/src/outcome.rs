//! How a run ends, and the process exit status each ending maps to.

use std::time::Duration;

/// Limits on a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunLimits {
    /// Stop once this many instructions (all harts together) have retired.
    pub max_insns: Option<u64>,
    /// Stop after this much host time.
    pub timeout: Option<Duration>,
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The guest exited with this status: HTIF exit, the test finisher's
    /// pass (0) or fail (its code), or an HTIF `exit` system call.
    Exited(u32),
    /// The guest asked the test finisher for a reset (`0x7777`, U-Boot's
    /// `reset`, Linux's `reboot` and `panic=N`). The run ends rather than
    /// rebooting (QEMU's `-no-reboot`); `ferrite run --reboot` builds the
    /// machine afresh and goes on.
    Reset,
    /// The console printed a match of
    /// [`crate::MachineConfig::stop_on_output`].
    OutputMatched,
    /// `max_insns` instructions retired.
    InstructionLimit,
    /// The timeout passed.
    Timeout,
    /// Every hart waits for an interrupt and nothing can raise one: no timer
    /// deadline is armed and the console has no interactive input.
    Stuck,
    /// The guest waits for console input and none will come: the console
    /// is not interactive, nothing is queued, and the guest has spent
    /// [`crate::MachineConfig::input_wait`] ticks of virtual time waiting
    /// for input (polling the UART's empty receiver, idling with its
    /// receive interrupt enabled, or with an HTIF console read waiting)
    /// without printing. Only when that limit is set (scripted and suite
    /// runs, and `ferrite run` wherever no input can come from outside).
    InputExhausted,
    /// The user quit from the console (`Ctrl-A x`).
    Quit,
    /// A hart is caught in a trap loop (the same fault at the same pc over
    /// and over, nothing retiring in between): nothing can change, so the
    /// run ends. `Machine::trap_loop` says which hart and which fault.
    TrapLoop {
        /// The hart.
        hart: u32,
    },
    /// The console's backend could not take the guest's output (a full disk,
    /// a closed pipe); the run stopped rather than lose output silently.
    /// `Machine::console_error` says why. Exit status: host error.
    ConsoleFailed,
}

/// Process exit statuses `ferrite run` uses besides the guest's own.
pub mod exit_status {
    /// A host-side error: bad options, unreadable or broken images,
    /// impossible configurations (clap's usage errors use it too).
    pub const HOST_ERROR: u8 = 2;
    /// The guest waits for console input that will never come.
    pub const INPUT_EXHAUSTED: u8 = 121;
    /// Every hart waits for an interrupt that can never come.
    pub const STUCK: u8 = 122;
    /// `--max-insns` reached.
    pub const INSTRUCTION_LIMIT: u8 = 123;
    /// `--timeout` reached (the status GNU `timeout` uses).
    pub const TIMEOUT: u8 = 124;
    /// A hart is caught in a trap loop.
    pub const TRAP_LOOP: u8 = 125;
    /// The guest asked for a reset (and `--reboot` was not given).
    pub const RESET: u8 = 120;
    /// Guest statuses above this are reported as it (a shell cannot see more
    /// than 8 bits, and truncating could turn a failure into 0).
    pub const GUEST_STATUS_MAX: u8 = 255;
}

impl RunOutcome {
    /// The process exit status for this outcome: the guest's status (capped
    /// at 255) for [`RunOutcome::Exited`], 0 for a console quit or an output
    /// match, and the codes of [`exit_status`] for the rest.
    pub fn exit_status(self) -> u8 {
        match self {
            RunOutcome::Exited(code) => u8::try_from(code).unwrap_or(exit_status::GUEST_STATUS_MAX),
            RunOutcome::Quit | RunOutcome::OutputMatched => 0,
            RunOutcome::Reset => exit_status::RESET,
            RunOutcome::ConsoleFailed => exit_status::HOST_ERROR,
            RunOutcome::TrapLoop { .. } => exit_status::TRAP_LOOP,
            RunOutcome::InstructionLimit => exit_status::INSTRUCTION_LIMIT,
            RunOutcome::Timeout => exit_status::TIMEOUT,
            RunOutcome::Stuck => exit_status::STUCK,
            RunOutcome::InputExhausted => exit_status::INPUT_EXHAUSTED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_distinct_and_guest_codes_pass_through() {
        assert_eq!(RunOutcome::Exited(0).exit_status(), 0);
        assert_eq!(RunOutcome::Exited(7).exit_status(), 7);
        assert_eq!(RunOutcome::Exited(256).exit_status(), 255);
        assert_eq!(RunOutcome::Exited(u32::MAX).exit_status(), 255);
        let codes = [
            RunOutcome::InstructionLimit.exit_status(),
            RunOutcome::Timeout.exit_status(),
            RunOutcome::Stuck.exit_status(),
            RunOutcome::InputExhausted.exit_status(),
            RunOutcome::TrapLoop { hart: 0 }.exit_status(),
            RunOutcome::Reset.exit_status(),
            exit_status::HOST_ERROR,
        ];
        for (i, a) in codes.iter().enumerate() {
            for b in &codes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
