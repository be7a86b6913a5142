//! The run loop: harts round-robin in one thread, devices serviced between
//! slices, virtual time warped over idle periods.
//!
//! # Rules (all deterministic: they depend on retired instructions, never on
//! host time, except the `--timeout` check and waits for interactive input)
//!
//! 1. **Service** the devices: re-evaluate the CLINT's timer lines, move
//!    console input into the UART, take a test-finisher request, poll the
//!    HTIF mailbox. A finisher request or an HTIF exit ends the run.
//! 2. **Limits**: stop when `max_insns` instructions have retired or the
//!    timeout has passed.
//! 3. **Slice**: each hart in hart-id order runs a quantum of
//!    [`QUANTUM`] instructions ([`HTIF_ACTIVE_QUANTUM`] while the HTIF
//!    mailbox is busy), cut short so that the shared clock stops
//!    exactly at the next timer deadline (the earliest armed CLINT
//!    `mtimecmp` or hart `stimecmp`) and at `max_insns`. After each hart's
//!    slice the HTIF mailbox and the finisher are checked again, so a hart
//!    that stops (wfi, end of budget) is seen at once.
//! 4. **Idle**: if no hart retired an instruction and every hart waits for
//!    an interrupt, warp the clock to the next timer deadline. With no
//!    deadline, wait in host time for console input if the console is
//!    interactive (stdio, a Unix socket); otherwise nothing can ever wake
//!    the guest and the run ends as [`RunOutcome::Stuck`].

use std::time::{Duration, Instant};

use ferrite_devices::FinisherRequest;
use ferrite_devices::uart16550::UartPoll;
use ferrite_softmmu::VirtualClock;

use crate::board::Board;
use crate::hart::{Hart, HartExit};
use crate::htif::HtifStatus;
use crate::machine::BoardBus;
use crate::outcome::RunOutcome;

/// Instructions one hart runs before the next hart's turn (and before the
/// devices are serviced again). Small enough that a guest waiting on HTIF or
/// on another hart loses little time (10k instructions is about 0.1 ms of
/// host time), large enough that servicing costs under 1% of the run.
pub const QUANTUM: u64 = 10_000;

/// Slice length while the HTIF mailbox is busy (the last poll took a
/// command): a guest printing through HTIF waits for each byte to be taken,
/// so shorter slices bring the next poll sooner. 500 instructions keep the
/// polling cost (one 8-byte read through the memory API) near 1%.
pub const HTIF_ACTIVE_QUANTUM: u64 = 500;

/// How long an idle guest with interactive input sleeps between polls of
/// the console.
const INPUT_WAIT: Duration = Duration::from_millis(5);

/// One run of a board's harts.
pub(crate) struct Scheduler<'a> {
    pub board: &'a mut Board,
    pub harts: &'a mut [Box<dyn Hart>],
    pub clock: &'a VirtualClock,
    pub interactive: bool,
}

impl Scheduler<'_> {
    /// Runs until the guest exits or a limit is reached.
    pub fn run(&mut self, max_insns: Option<u64>, deadline: Option<Instant>) -> RunOutcome {
        let mut idle_rounds = 0u32;
        if let Some(outcome) = self.poll_htif() {
            return outcome;
        }
        loop {
            if let Some(outcome) = self.service_devices() {
                return outcome;
            }
            if max_insns.is_some_and(|max| self.clock.insns() >= max) {
                return RunOutcome::InstructionLimit;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return RunOutcome::Timeout;
            }
            let timer = self.next_timer_deadline();
            let quantum = match &self.board.htif {
                Some(htif) if htif.is_active() => HTIF_ACTIVE_QUANTUM,
                _ => QUANTUM,
            };
            let mut progressed = false;
            let mut all_waiting = true;
            for i in 0..self.harts.len() {
                let mut budget = quantum;
                if let Some(max) = max_insns {
                    budget = budget.min(max.saturating_sub(self.clock.insns()));
                }
                if let Some(t) = timer {
                    budget = budget.min(self.clock.insns_until_tick(t).max(1));
                }
                if budget == 0 {
                    all_waiting = false;
                    break;
                }
                let before = self.clock.insns();
                let exit = self.harts[i].run(&mut self.board.mem, budget);
                progressed |= self.clock.insns() != before;
                all_waiting &= exit == HartExit::WaitingForInterrupt;
                if let Some(outcome) = self.check_finisher().or_else(|| self.poll_htif()) {
                    return outcome;
                }
            }
            if progressed || !all_waiting {
                idle_rounds = 0;
                continue;
            }
            // Every hart waits for an interrupt.
            if let Some(t) = timer {
                if t > self.clock.ticks() {
                    self.clock.advance_to_tick(t);
                }
                idle_rounds = 0;
            } else if self.interactive {
                std::thread::sleep(match deadline {
                    Some(d) => INPUT_WAIT.min(d.saturating_duration_since(Instant::now())),
                    None => INPUT_WAIT,
                });
            } else {
                // One more service round may still deliver queued console
                // input; after that, nothing can change.
                idle_rounds += 1;
                if idle_rounds > 2 {
                    return RunOutcome::Stuck;
                }
            }
        }
    }

    /// The earliest armed timer deadline, in ticks.
    fn next_timer_deadline(&self) -> Option<u64> {
        let clint = self.board.clint.next_deadline();
        self.harts
            .iter()
            .filter_map(|h| h.timer_deadline())
            .filter(|&t| t > self.clock.ticks())
            .chain(clint)
            .min()
    }

    /// Rule 1: service the devices; `Some` ends the run. (The HTIF mailbox
    /// is polled after every hart's slice, which covers this point too: no
    /// guest instruction runs in between.)
    fn service_devices(&mut self) -> Option<RunOutcome> {
        self.board.clint.update();
        if let Some(uart) = &self.board.uart
            && uart.poll() == UartPoll::Quit
        {
            return Some(RunOutcome::Quit);
        }
        self.check_finisher()
    }

    /// A test-finisher request ends the run.
    fn check_finisher(&mut self) -> Option<RunOutcome> {
        let req = self
            .board
            .finisher
            .as_ref()
            .and_then(|f| f.take_request())?;
        Some(match req {
            FinisherRequest::Pass => RunOutcome::Exited(0),
            FinisherRequest::Fail(code) => RunOutcome::Exited(u32::from(code)),
            FinisherRequest::Reset => RunOutcome::Reset,
        })
    }

    /// The HTIF mailbox; an exit ends the run.
    fn poll_htif(&mut self) -> Option<RunOutcome> {
        if let Some(htif) = &mut self.board.htif {
            let mut bus = BoardBus {
                mem: &mut self.board.mem,
                space: self.board.space,
            };
            if let HtifStatus::Exit(code) = htif.poll(&mut bus) {
                return Some(RunOutcome::Exited(code));
            }
        }
        None
    }
}
